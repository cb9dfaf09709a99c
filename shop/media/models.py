"""Images stored by content hash; derivatives are derived, not stored as rows."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base, TimestampMixin


class StoredImage(TimestampMixin, Base):
    __tablename__ = "stored_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Hex sha256 of the normalised image; also its key in the storage backend.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
