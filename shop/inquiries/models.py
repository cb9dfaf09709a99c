"""A buyer's request for a quote; one inquiry per cooperative addressed."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.cooperatives.models import Cooperative, str_enum
from shop.db import Base, TimestampMixin, utcnow


class BuyerType(enum.StrEnum):
    HOUSEHOLD = "household"
    SHOP = "shop"
    SUPERMARKET = "supermarket"
    RESTAURANT = "restaurant"
    WHOLESALER = "wholesaler"
    EXPORTER = "exporter"
    OTHER = "other"


class ContactChannel(enum.StrEnum):
    PHONE = "phone"
    ZALO = "zalo"
    EMAIL = "email"


class InquiryStatus(enum.StrEnum):
    NEW = "new"
    REPLIED = "replied"
    WON = "won"
    LOST = "lost"
    SPAM = "spam"


class Inquiry(TimestampMixin, Base):
    __tablename__ = "inquiry"
    __table_args__ = (
        Index("ix_inquiry_cooperative_status", "cooperative_id", "status"),
        Index("ix_inquiry_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id", ondelete="CASCADE"))
    #: Inquiries sent together (one list, several cooperatives) share this key.
    group_key: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[InquiryStatus] = mapped_column(
        str_enum(InquiryStatus), default=InquiryStatus.NEW
    )
    buyer_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    buyer_name: Mapped[str] = mapped_column(String(120))
    buyer_phone: Mapped[str | None] = mapped_column(String(20))
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    buyer_organisation: Mapped[str | None] = mapped_column(String(200))
    buyer_type: Mapped[BuyerType] = mapped_column(str_enum(BuyerType), default=BuyerType.OTHER)
    delivery_place: Mapped[str | None] = mapped_column(String(200))
    preferred_contact: Mapped[ContactChannel] = mapped_column(
        str_enum(ContactChannel), default=ContactChannel.PHONE
    )
    message: Mapped[str] = mapped_column(Text, default="")
    #: The booth the buyer came from, when the list was filled at a programme's booth.
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("booth.id", ondelete="SET NULL"))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The language the buyer wrote in ("vi" or "en"): emails to the buyer use it.
    buyer_lang: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")

    cooperative: Mapped[Cooperative] = relationship(lazy="raise")
    items: Mapped[list["InquiryItem"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="InquiryItem.id"
    )
    messages: Mapped[list["InquiryMessage"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="InquiryMessage.id"
    )


class InquiryItem(Base):
    __tablename__ = "inquiry_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiry.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("product.id", ondelete="SET NULL"), index=True
    )
    #: Name and unit as the buyer saw them, kept if the product changes or goes.
    product_name: Mapped[str] = mapped_column(String(255))
    unit_code: Mapped[str | None] = mapped_column(String(24))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))


class InquiryListItem(Base):
    """A product on a signed-in buyer's inquiry list (anonymous lists live in the session)."""

    __tablename__ = "inquiry_list_item"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    #: The booth the product was added from, if any (the inquiry remembers it).
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("booth.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MessageAuthor(enum.StrEnum):
    BUYER = "buyer"
    COOPERATIVE = "cooperative"
    STAFF = "staff"


class InquiryMessage(Base):
    """One message of an inquiry's thread after the first (the inquiry's own `message`).

    `internal` notes are the cooperative's (or staff's) own: never shown or sent to the buyer.
    """

    __tablename__ = "inquiry_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiry.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[MessageAuthor] = mapped_column(str_enum(MessageAuthor))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
