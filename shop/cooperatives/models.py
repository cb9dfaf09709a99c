"""Sectors, localities, cooperatives and who belongs to them."""

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base, TimestampMixin, utcnow
from shop.media.models import StoredImage
from shop.text.i18n import Bilingual


def str_enum(enum_cls):
    return Enum(
        enum_cls,
        native_enum=False,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Sector(Bilingual, Base):
    """One of the seven sectors of the alliance's yearly report."""

    __tablename__ = "sector"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    sort_order: Mapped[int] = mapped_column(default=0)
    #: Number of cooperatives in the sector in the 2022 report (context for figures).
    count_2022: Mapped[int | None]


class LocalityKind(enum.StrEnum):
    COMMUNE = "xa"
    WARD = "phuong"


class Locality(Bilingual, Base):
    """A commune or ward as it is since the 1/7/2025 reform, with its 2022 district kept."""

    __tablename__ = "locality"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[LocalityKind] = mapped_column(str_enum(LocalityKind))
    admin_code: Mapped[str | None] = mapped_column(String(10))
    province_vi: Mapped[str] = mapped_column(String(80), default="Tỉnh Bắc Ninh")
    province_en: Mapped[str | None] = mapped_column(String(80))
    #: Districts were abolished on 1/7/2025; the 2022 one is kept for history and old addresses.
    district_2022_slug: Mapped[str | None] = mapped_column(String(80))
    district_2022_name_vi: Mapped[str | None] = mapped_column(String(120))
    district_2022_name_en: Mapped[str | None] = mapped_column(String(120))
    former_units_vi: Mapped[list] = mapped_column(JSON, default=list)
    known_for_vi: Mapped[list] = mapped_column(JSON, default=list)
    known_for_en: Mapped[list] = mapped_column(JSON, default=list)


class LegalForm(enum.StrEnum):
    COOPERATIVE = "hop_tac_xa"
    UNION = "lien_hiep_hop_tac_xa"
    GROUP = "to_hop_tac"
    CREDIT_FUND = "quy_tin_dung_nhan_dan"


class CooperativeStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    NEEDS_INFO = "needs_info"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"


class Cooperative(Bilingual, TimestampMixin, Base):
    __tablename__ = "cooperative"
    #: The catalogue version (shop.catalog.queries.catalogue_version) reads max(updated_at).
    __table_args__ = (Index("ix_cooperative_updated_at", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    legal_form: Mapped[LegalForm] = mapped_column(str_enum(LegalForm))
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id"), index=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"), index=True)
    address_vi: Mapped[str] = mapped_column(String(255), default="")
    address_en: Mapped[str | None] = mapped_column(String(255))
    #: The three-tier address (with district) from before 1/7/2025, for historical records.
    legacy_address_vi: Mapped[str | None] = mapped_column(String(255))
    founded_year: Mapped[int | None]
    member_count: Mapped[int | None]
    member_type: Mapped[str | None] = mapped_column(String(40))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    zalo: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(255))
    #: Empty for a tổ hợp tác (no legal personality) or a long-inactive HTX never issued one.
    tax_code: Mapped[str | None] = mapped_column(String(14), unique=True)
    #: Why there is no tax code (e.g. "HTX chưa được cấp mã"); shown to staff only.
    tax_code_missing_reason: Mapped[str | None] = mapped_column(Text)
    tax_code_is_demo: Mapped[bool] = mapped_column(default=False)
    is_demo: Mapped[bool] = mapped_column(default=False)
    status: Mapped[CooperativeStatus] = mapped_column(
        str_enum(CooperativeStatus), default=CooperativeStatus.PENDING, index=True
    )
    #: The staff's reason for the current status (what to add, why suspended), shown to members.
    status_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Shown on the directory card and the cooperative's page; changed by members at once
    #: (like the rest of the profile), not reviewed.
    logo_image_id: Mapped[int | None] = mapped_column(ForeignKey("stored_image.id"))
    #: The wide photo at the top of the cooperative's page.
    cover_image_id: Mapped[int | None] = mapped_column(ForeignKey("stored_image.id"))

    sector: Mapped[Sector] = relationship(lazy="raise")
    locality: Mapped[Locality] = relationship(lazy="raise")
    logo_image: Mapped[StoredImage | None] = relationship(
        foreign_keys=[logo_image_id], lazy="raise"
    )
    cover_image: Mapped[StoredImage | None] = relationship(
        foreign_keys=[cover_image_id], lazy="raise"
    )

    @property
    def is_public(self) -> bool:
        return self.status == CooperativeStatus.VERIFIED


class MembershipRole(enum.StrEnum):
    OWNER = "owner"
    EDITOR = "editor"


class Membership(TimestampMixin, Base):
    """A member runs exactly one cooperative, as its owner or as an editor."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    cooperative_id: Mapped[int] = mapped_column(
        ForeignKey("cooperative.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MembershipRole] = mapped_column(str_enum(MembershipRole))

    cooperative: Mapped[Cooperative] = relationship(lazy="raise")


class Invitation(Base):
    """An emailed, single-use link that makes its recipient an owner or editor."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(
        ForeignKey("cooperative.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[MembershipRole] = mapped_column(str_enum(MembershipRole))
    #: sha256 of the token in the link; the token itself is only in the email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    cooperative: Mapped[Cooperative] = relationship(lazy="raise")
