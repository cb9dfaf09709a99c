"""Bulk imports: one uploaded sheet (and ZIP of photos) from preview to confirmed rows."""

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.cooperatives.models import str_enum
from shop.db import Base, TimestampMixin


class BatchKind(enum.StrEnum):
    #: A cooperative's products (shop.bulk.products), by one of its members.
    PRODUCTS = "products"
    #: The alliance's registry of cooperatives (shop.bulk.registry), by staff.
    COOPERATIVES = "cooperatives"


class BatchStatus(enum.StrEnum):
    #: Rows read and shown for checking; they can still be fixed or left out.
    PREVIEW = "preview"
    #: Confirmed; the job is storing photos and writing rows (progress_done of progress_total).
    RUNNING = "running"
    DONE = "done"
    #: The job stopped; nothing of its rows was written (error says why).
    FAILED = "failed"
    CANCELLED = "cancelled"


class ImportBatch(TimestampMixin, Base):
    """An uploaded sheet. Its rows live here between preview and confirmation.

    rows: a list of {"line": sheet line number, "values": {column key: text}, "skip": bool};
    errors are worked out from the rows each time they are shown, never stored.
    """

    __tablename__ = "import_batch"
    __table_args__ = (Index("ix_import_batch_owner", "kind", "cooperative_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BatchKind] = mapped_column(str_enum(BatchKind))
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus), default=BatchStatus.PREVIEW)
    #: The cooperative whose products these are (None for a registry import).
    cooperative_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperative.id", ondelete="CASCADE")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(255))
    #: Storage key of the uploaded ZIP of photos, kept until the batch is done or abandoned.
    archive_key: Mapped[str | None] = mapped_column(String(255))
    #: The image file names found in that ZIP (as written in the sheet's photo column).
    archive_names: Mapped[list] = mapped_column(JSON, default=list)
    rows: Mapped[list] = mapped_column(JSON, default=list)
    #: For products: "draft" or "submitted" (sent for review), chosen when confirming.
    target: Mapped[str | None] = mapped_column(String(20))
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    #: Last sign of life of the running job; an old one means the worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Ids of the products or cooperatives written, once done.
    created_ids: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
