"""Categories, units, certification kinds and products."""

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import text

from shop.cooperatives.models import Cooperative, Sector, str_enum
from shop.db import Base, TimestampMixin
from shop.media.models import StoredImage
from shop.text.i18n import Bilingual


class OcopGroup(Bilingual, Base):
    """One of the six OCOP product groups (QĐ 148/QĐ-TTg, 2023)."""

    __tablename__ = "ocop_group"

    code: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name_vi: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str | None] = mapped_column(String(160))


class Category(Bilingual, Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    sort_order: Mapped[int] = mapped_column(default=0)
    #: None for categories outside OCOP (gift combos, services and supplies).
    ocop_group_code: Mapped[int | None] = mapped_column(ForeignKey("ocop_group.code"))

    ocop_group: Mapped[OcopGroup | None] = relationship(lazy="raise")


class Unit(Bilingual, Base):
    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str | None] = mapped_column(String(60))


class CertificationKind(Bilingual, Base):
    __tablename__ = "certification_kind"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str | None] = mapped_column(String(160))


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    ARCHIVED = "archived"


ALL_MONTHS = (1 << 12) - 1
#: The highest price a product may carry: price_vnd is a 32-bit integer (PostgreSQL's INTEGER).
#: Two billion đồng for one unit of sale is far above any cooperative product.
MAX_PRICE_VND = 2_000_000_000


def months_to_mask(months) -> int:
    mask = 0
    for m in months:
        mask |= 1 << (int(m) - 1)
    return mask


def mask_to_months(mask: int) -> list[int]:
    return [m for m in range(1, 13) if mask & (1 << (m - 1))]


class Product(Bilingual, TimestampMixin, Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("price_vnd IS NULL OR price_vnd > 0", name="price_positive"),
        CheckConstraint("ocop_stars IN (0, 3, 4, 5)", name="ocop_stars_valid"),
        CheckConstraint("min_order_qty > 0", name="min_order_positive"),
        # Keyset pages of the catalogue (migration 0008): newest first, and prices up or down
        # with "Liên hệ" last; the same expressions as shop.catalog.queries.sort_key.
        Index("ix_product_status_published_at_id", "status", "published_at", "id"),
        Index(
            "ix_product_status_price_up", "status", text("coalesce(price_vnd, 2147483647)"), "id"
        ),
        Index("ix_product_status_price_down", "status", text("coalesce(price_vnd, 0)"), "id"),
        # 0010: the OCOP sort's valid stars (queries.ocop_window); a sector's and a
        # category's products (and a product's related ones) newest first. After the sort
        # key, the facets' columns: SQLite tests a filter on the index entry, not the row.
        Index(
            "ix_product_status_ocop_published_at_id",
            *("status", "ocop_stars", "published_at", "id"),
            *("ocop_expires_on", "sector_id", "category_id", "price_vnd", "season_months"),
        ),
        Index(
            "ix_product_status_sector_published_at_id",
            *("status", "sector_id", "published_at", "id"),
            *("category_id", "ocop_stars", "ocop_expires_on", "price_vnd", "season_months"),
        ),
        Index(
            "ix_product_status_category_published_at_id",
            *("status", "category_id", "published_at", "id"),
            *("ocop_stars", "ocop_expires_on", "price_vnd", "season_months"),
        ),
        # The catalogue version (shop.catalog.queries.catalogue_version): max(updated_at).
        Index("ix_product_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    #: Defaults to the cooperative's sector; a service HTX may also sell goods of another.
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    pack_size_vi: Mapped[str | None] = mapped_column(String(80))
    pack_size_en: Mapped[str | None] = mapped_column(String(80))
    #: Whole VND; None means "Liên hệ" (price on request), written 0 in the import format.
    price_vnd: Mapped[int | None]
    min_order_qty: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal(1))
    ocop_stars: Mapped[int] = mapped_column(SmallInteger, default=0)
    ocop_year: Mapped[int | None]
    ocop_certificate_no: Mapped[str | None] = mapped_column(String(60))
    #: OCOP certificates last 36 months; the badge is hidden after this date.
    ocop_expires_on: Mapped[date | None] = mapped_column(Date)
    season_key: Mapped[str | None] = mapped_column(String(40))
    season_vi: Mapped[str | None] = mapped_column(String(120))
    season_en: Mapped[str | None] = mapped_column(String(120))
    #: Bit m-1 set when the product is available in month m (1–12).
    season_months: Mapped[int] = mapped_column(default=ALL_MONTHS)
    made_to_order: Mapped[bool] = mapped_column(default=False)
    traceability_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus), default=ProductStatus.DRAFT
    )
    moderation_note: Mapped[str | None] = mapped_column(Text)
    #: What staff asked to change (codes of REVIEW_REASONS) when changes were requested.
    review_reasons: Mapped[list | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    cooperative: Mapped[Cooperative] = relationship(lazy="raise")
    sector: Mapped[Sector] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")
    certifications: Mapped[list["ProductCertification"]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="ProductCertification.certification_code",
    )
    images: Mapped[list["ProductImage"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProductImage.position"
    )
    #: The live cover photo alone (position 0), for cards: joined in the products' own query.
    cover: Mapped["ProductImage | None"] = relationship(
        primaryjoin="and_(ProductImage.product_id == Product.id, ProductImage.position == 0)",
        viewonly=True,
        uselist=False,
        lazy="raise",
    )
    links: Mapped[list["ProductLink"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProductLink.position"
    )

    @property
    def season_month_list(self) -> list[int]:
        return mask_to_months(self.season_months)

    def ocop_valid_on(self, day: date) -> bool:
        if not self.ocop_stars:
            return False
        return self.ocop_expires_on is None or self.ocop_expires_on >= day


class ProductCertification(Base):
    __tablename__ = "product_certification"
    __table_args__ = (
        UniqueConstraint("product_id", "certification_code"),
        # The catalogue's certification facet and filter (migration 0008).
        Index("ix_product_certification_code_product", "certification_code", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    certification_code: Mapped[str] = mapped_column(ForeignKey("certification_kind.code"))
    #: False = declared by the cooperative; True = staff checked the certificate.
    verified: Mapped[bool] = mapped_column(default=False)

    kind: Mapped[CertificationKind] = relationship(lazy="raise")


class ProductImage(Base):
    __tablename__ = "product_image"
    __table_args__ = (UniqueConstraint("product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("stored_image.id"))
    #: 0 is the cover.
    position: Mapped[int] = mapped_column(default=0)
    alt_vi: Mapped[str | None] = mapped_column(String(255))
    alt_en: Mapped[str | None] = mapped_column(String(255))

    image: Mapped[StoredImage] = relationship(lazy="raise")


class ProductLink(Base):
    """Where else the product can be bought (a shop, a marketplace, the cooperative's site)."""

    __tablename__ = "product_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))


class RevisionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


class ProductRevision(TimestampMixin, Base):
    """Proposed edits to a published product; the live version stays until staff approve.

    `data` holds the proposed values of the editable fields (the same keys as
    shop.catalog.services.EDITABLE_FIELDS, JSON-safe), `images` the proposed photo list.
    """

    __tablename__ = "product_revision"
    __table_args__ = (
        # At most one open revision per product.
        Index(
            "uq_product_revision_open",
            "product_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RevisionStatus] = mapped_column(
        str_enum(RevisionStatus), default=RevisionStatus.PENDING
    )
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: [{"image_id": …, "alt_vi": …, "alt_en": …}, …] in display order; None = photos unchanged.
    images: Mapped[list | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    review_reasons: Mapped[list | None] = mapped_column(JSON)

    product: Mapped[Product] = relationship(lazy="raise")
