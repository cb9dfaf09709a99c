"""Cases staff must look at that are not a submission: buyers' reports of a product."""

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import text

from shop.catalog.models import Product
from shop.cooperatives.models import str_enum
from shop.db import Base, TimestampMixin, utcnow


class ReportReason(enum.StrEnum):
    WRONG_INFO = "wrong_info"
    PROHIBITED = "prohibited"
    COUNTERFEIT = "counterfeit"
    OTHER = "other"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    #: Staff acted on the product (changes requested, or taken off the catalogue).
    RESOLVED = "resolved"
    #: Staff found nothing wrong.
    DISMISSED = "dismissed"


class ModerationCase(TimestampMixin, Base):
    """One open case per reported product; further reports of it join the open case."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        Index(
            "uq_moderation_case_open",
            "product_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_moderation_case_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    report_count: Mapped[int] = mapped_column(default=0)
    #: What staff did: dismissed, changes_requested, unpublished.
    outcome: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    product: Mapped[Product] = relationship(lazy="raise")
    reports: Mapped[list["ProductReport"]] = relationship(
        lazy="raise", back_populates="case", order_by="ProductReport.id"
    )


class ProductReport(Base):
    """A buyer's "Báo cáo sản phẩm": what is wrong, in their words."""

    __tablename__ = "product_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("moderation_case.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason))
    details: Mapped[str] = mapped_column(Text, default="")
    #: Optional, so staff can ask the reporter for more.
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: A keyed hash of the reporter's address: counts one person's reports, never stores the IP.
    reporter_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[ModerationCase] = relationship(lazy="raise", back_populates="reports")
