"""Product-introduction programmes (fairs) and their booths."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative, str_enum
from shop.db import Base, TimestampMixin
from shop.text.i18n import Bilingual


class ProgrammeStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # open for booth applications, and public
    PUBLISHED = "published"
    CLOSED = "closed"
    ARCHIVED = "archived"


PUBLIC_PROGRAMME_STATUSES = (
    ProgrammeStatus.OPEN,
    ProgrammeStatus.PUBLISHED,
    ProgrammeStatus.CLOSED,
    ProgrammeStatus.ARCHIVED,
)


class Programme(Bilingual, TimestampMixin, Base):
    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title_vi: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str | None] = mapped_column(String(255))
    organizer_vi: Mapped[str] = mapped_column(String(255), default="")
    organizer_en: Mapped[str | None] = mapped_column(String(255))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date)
    registration_deadline: Mapped[date | None] = mapped_column(Date)
    venue_vi: Mapped[str] = mapped_column(String(255), default="")
    venue_en: Mapped[str | None] = mapped_column(String(255))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ProgrammeStatus] = mapped_column(
        str_enum(ProgrammeStatus), default=ProgrammeStatus.DRAFT
    )
    #: True when booths are an illustration (fictional cooperatives) of a real past event.
    is_demo_reconstruction: Mapped[bool] = mapped_column(default=False)
    #: Context figures quoted by the programme (e.g. the 2022 report's cooperative counts).
    stats: Mapped[dict | None] = mapped_column(JSON)
    #: Floor plan grid size; booths sit on cells of this grid.
    plan_columns: Mapped[int] = mapped_column(default=6)
    plan_rows: Mapped[int] = mapped_column(default=2)
    #: Zone names of the floor plan in plan order (e.g. ["Nông sản", "Làng nghề"]); booths and
    #: applications name one of them.
    zones: Mapped[list | None] = mapped_column(JSON)

    booths: Mapped[list["Booth"]] = relationship(
        lazy="raise",
        back_populates="programme",
        cascade="all, delete-orphan",
        order_by="Booth.number",
    )

    @property
    def application_deadline(self) -> date:
        """The last day to apply for a booth: the registration deadline, else the first day."""
        return self.registration_deadline or self.start_date

    def takes_applications(self, today: date) -> bool:
        """Open for applications and the deadline not passed (rules.check_open_for_applications)."""
        return self.status == ProgrammeStatus.OPEN and today <= self.application_deadline

    def timing(self, today: date) -> str:
        if today < self.start_date:
            return "upcoming"
        if today > self.end_date:
            return "past"
        return "ongoing"


class Booth(TimestampMixin, Base):
    __tablename__ = "booth"
    __table_args__ = (
        UniqueConstraint("programme_id", "number"),
        UniqueConstraint("programme_id", "cooperative_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: Printed on the physical stand; need not be contiguous (1, 2, 10, 100).
    number: Mapped[int]
    cooperative_id: Mapped[int | None] = mapped_column(ForeignKey("cooperative.id"), index=True)
    zone: Mapped[str | None] = mapped_column(String(60))
    plan_column: Mapped[int | None]
    plan_row: Mapped[int | None]
    livestream_url: Mapped[str | None] = mapped_column(String(500))

    programme: Mapped[Programme] = relationship(lazy="raise", back_populates="booths")
    cooperative: Mapped[Cooperative | None] = relationship(lazy="raise")
    featured: Mapped[list["BoothProduct"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="BoothProduct.position"
    )
    slots: Mapped[list["BoothSlot"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="BoothSlot.starts_at"
    )


class BoothProduct(Base):
    """A product featured at a booth; must be a published product of the booth's cooperative."""

    __tablename__ = "booth_product"
    __table_args__ = (UniqueConstraint("booth_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booth_id: Mapped[int] = mapped_column(ForeignKey("booth.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(lazy="raise")


class BoothSlot(Base):
    """A time slot at a booth, e.g. a livestream or a tasting; "live" between start and end."""

    __tablename__ = "booth_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    booth_id: Mapped[int] = mapped_column(ForeignKey("booth.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    title_vi: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str | None] = mapped_column(String(200))


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


#: Applications that still hold the cooperative's place: one of these per programme at most.
ACTIVE_APPLICATION_STATUSES = (
    ApplicationStatus.PENDING,
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.WAITLISTED,
)


class BoothApplication(TimestampMixin, Base):
    """A cooperative asks for a booth in an open programme; staff accept, waitlist or decline."""

    __tablename__ = "booth_application"
    __table_args__ = (
        Index(
            "uq_booth_application_active",
            "programme_id",
            "cooperative_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'accepted', 'waitlisted')"),
            postgresql_where=text("status IN ('pending', 'accepted', 'waitlisted')"),
        ),
        Index("ix_booth_application_programme_status", "programme_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    cooperative_id: Mapped[int] = mapped_column(
        ForeignKey("cooperative.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus), default=ApplicationStatus.PENDING
    )
    preferred_zone: Mapped[str | None] = mapped_column(String(60))
    #: Ids of the cooperative's products it wants to show, in its order.
    product_ids: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Why staff waitlisted or declined; shown to the cooperative.
    decision_reason: Mapped[str | None] = mapped_column(Text)
    #: The booth staff assigned on acceptance.
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("booth.id", ondelete="SET NULL"))

    programme: Mapped[Programme] = relationship(lazy="raise")
    cooperative: Mapped[Cooperative] = relationship(lazy="raise")
    booth: Mapped[Booth | None] = relationship(lazy="raise")
