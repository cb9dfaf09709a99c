"""Daily counters of what buyers do: one row per day, kind and subject."""

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base


class DailyCount(Base):
    """How many times `kind` happened to `subject_id` on `day` (Vietnam's calendar day).

    Kinds: product_view, booth_view, qr_scan, product_contact, cooperative_contact,
    booth_contact. Rows are bumped with one upsert; nothing else writes them.
    """

    __tablename__ = "daily_count"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)
