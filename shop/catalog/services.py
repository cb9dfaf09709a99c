"""Writes to products: the lifecycle, revisions of published products, photos.

Lifecycle: draft → submitted → published | changes_requested | rejected; archived. A product
that is live is never edited in place: edits become a pending ProductRevision, and the approved
version stays on public pages until staff approve the revision. Every decision is a conditional
UPDATE on the current status, so two people deciding at once cannot both win (the loser gets
AlreadyDecided, shown as 409).

Functions take the acting user, flush, and append an audit entry; views commit.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from shop.audit.services import record
from shop.catalog.models import (
    Product,
    ProductCertification,
    ProductImage,
    ProductLink,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
)
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.db import utcnow
from shop.extensions import db
from shop.notify.services import notify_cooperative
from shop.slugs import unique_slug

MAX_PHOTOS = 10

#: Fields a cooperative edits; a revision's `data` holds these keys (JSON-safe values).
EDITABLE_FIELDS = (
    "name_vi",
    "name_en",
    "description_vi",
    "description_en",
    "category_id",
    "unit_code",
    "pack_size_vi",
    "pack_size_en",
    "price_vnd",
    "min_order_qty",
    "ocop_stars",
    "ocop_year",
    "ocop_certificate_no",
    "ocop_expires_on",
    "season_months",
    "season_vi",
    "season_en",
    "made_to_order",
    "traceability_url",
    "certifications",
    "links",
)

#: Structured reasons staff give when they ask for changes.
REVIEW_REASONS = {
    "photo": _l("Ảnh sản phẩm"),
    "price": _l("Giá"),
    "category": _l("Danh mục"),
    "certificate": _l("Chứng nhận, OCOP"),
    "description": _l("Mô tả"),
    "other": _l("Khác"),
}

EDITABLE_STATUSES = (
    ProductStatus.DRAFT,
    ProductStatus.SUBMITTED,
    ProductStatus.CHANGES_REQUESTED,
    ProductStatus.REJECTED,
)


class ProductError(Exception):
    """A product action that cannot be done; `message` is shown to the user."""

    status = 400

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class AlreadyDecided(ProductError):
    """Someone else changed the status first."""

    status = 409


# --------------------------------------------------------------------------- values


def to_json(values: dict) -> dict:
    """Editable values as JSON-safe data (for a revision)."""
    out = {}
    for key in EDITABLE_FIELDS:
        if key not in values:
            continue
        value = values[key]
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


def from_json(data: dict) -> dict:
    """A revision's data back as Python values."""
    values = dict(data)
    if values.get("min_order_qty") is not None:
        values["min_order_qty"] = Decimal(values["min_order_qty"])
    if values.get("ocop_expires_on"):
        values["ocop_expires_on"] = date.fromisoformat(values["ocop_expires_on"])
    return values


def current_values(product: Product) -> dict:
    """The product's editable values as they are live, with its certifications and links."""
    values = {key: getattr(product, key) for key in EDITABLE_FIELDS[:-2]}
    values["certifications"] = list(
        db.session.scalars(
            select(ProductCertification.certification_code)
            .where(ProductCertification.product_id == product.id)
            .order_by(ProductCertification.certification_code)
        )
    )
    values["links"] = [
        {"label": label, "url": url}
        for label, url in db.session.execute(
            select(ProductLink.label, ProductLink.url)
            .where(ProductLink.product_id == product.id)
            .order_by(ProductLink.position)
        )
    ]
    return values


def _apply(product: Product, values: dict) -> None:
    """Write editable values onto the product row and its certification and link rows."""
    for key in EDITABLE_FIELDS[:-2]:
        if key in values:
            setattr(product, key, values[key])
    if product.id is None:
        db.session.add(product)
    db.session.flush()
    if "certifications" in values:
        wanted = list(dict.fromkeys(values["certifications"]))
        existing = {
            pc.certification_code: pc
            for pc in db.session.scalars(
                select(ProductCertification).where(ProductCertification.product_id == product.id)
            )
        }
        for code, pc in existing.items():
            if code not in wanted:
                db.session.delete(pc)
        for code in wanted:
            if code not in existing:
                db.session.add(ProductCertification(product_id=product.id, certification_code=code))
    if "links" in values:
        db.session.execute(
            ProductLink.__table__.delete().where(ProductLink.product_id == product.id)
        )
        for position, link in enumerate(values["links"]):
            db.session.add(
                ProductLink(
                    product_id=product.id, position=position, label=link["label"], url=link["url"]
                )
            )
    db.session.flush()


# --------------------------------------------------------------------------- member actions


def create_product(cooperative: Cooperative, actor, values: dict) -> Product:
    """A new draft of the cooperative's."""
    product = Product(
        slug=unique_slug(Product, values["name_vi"], max_length=140),
        cooperative_id=cooperative.id,
        sector_id=cooperative.sector_id,
        status=ProductStatus.DRAFT,
    )
    _apply(product, values)
    record(actor, "product.created", product, after={"name_vi": product.name_vi})
    return product


def open_revision(product: Product) -> ProductRevision | None:
    return db.session.scalar(
        select(ProductRevision).where(
            ProductRevision.product_id == product.id,
            ProductRevision.status == RevisionStatus.PENDING,
        )
    )


def update_product(product: Product, actor, values: dict) -> ProductRevision | None:
    """Save edits: in place before publication, as a pending revision once live."""
    if product.status == ProductStatus.ARCHIVED:
        raise ProductError(_l("Sản phẩm đã lưu trữ. Khôi phục trước khi sửa."))
    if product.status == ProductStatus.PUBLISHED:
        revision = open_revision(product)
        if revision is None:
            revision = ProductRevision(product_id=product.id, created_by_id=actor.id, data={})
            db.session.add(revision)
        revision.data = {**(revision.data or {}), **to_json(values)}
        db.session.flush()
        record(actor, "product.revised", product, after=to_json(values))
        return revision
    before = to_json(current_values(product))
    _apply(product, values)
    db.session.flush()
    record(actor, "product.edited", product, before=before, after=to_json(values))
    return None


def _transition(product: Product, allowed, new_status, **extra) -> None:
    """Move the product to `new_status` only if it is still in one of `allowed`."""
    result = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.status.in_(list(allowed)))
        .values(status=new_status, updated_at=utcnow(), **extra)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(product)
        raise AlreadyDecided(
            _l("Sản phẩm đã chuyển sang trạng thái khác (%(status)s).", status=product.status.value)
        )
    db.session.refresh(product)


def submit(product: Product, actor) -> None:
    """Send a draft (or a product sent back for changes) to the alliance for review."""
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    if cooperative.status != CooperativeStatus.VERIFIED:
        raise ProductError(
            _l("Hợp tác xã cần được Liên minh xác minh trước khi gửi sản phẩm đi duyệt.")
        )
    _transition(
        product, (ProductStatus.DRAFT, ProductStatus.CHANGES_REQUESTED), ProductStatus.SUBMITTED
    )
    record(actor, "product.submitted", product)


def archive(product: Product, actor) -> None:
    """Take the product off the catalogue and out of the list of current products."""
    before = product.status
    _transition(
        product, [s for s in ProductStatus if s != ProductStatus.ARCHIVED], ProductStatus.ARCHIVED
    )
    revision = open_revision(product)
    if revision is not None:
        revision.status = RevisionStatus.REJECTED
        revision.reason = "archived"
        revision.decided_at = utcnow()
    record(actor, "product.archived", product, before={"status": before.value})


def restore(product: Product, actor) -> None:
    """Bring an archived product back as a draft (it is reviewed again before it is live)."""
    _transition(product, (ProductStatus.ARCHIVED,), ProductStatus.DRAFT)
    record(actor, "product.restored", product)


def duplicate(product: Product, actor) -> Product:
    """A new draft with the same details and photos, to list a similar product quickly."""
    values = current_values(product)
    values["name_vi"] = f"{product.name_vi} (bản sao)"
    if product.name_en:
        values["name_en"] = f"{product.name_en} (copy)"
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    copy = create_product(cooperative, actor, values)
    _write_photo_rows(copy, photos_of(product))
    db.session.flush()
    record(actor, "product.duplicated", copy, before={"from": product.id})
    return copy


# --------------------------------------------------------------------------- photos


@dataclass
class Photo:
    image_id: int
    alt_vi: str | None = None
    alt_en: str | None = None


def photos_of(product: Product) -> list[Photo]:
    """The photos as the member is editing them (the pending revision's, once live)."""
    if product.status == ProductStatus.PUBLISHED:
        revision = open_revision(product)
        if revision is not None and revision.images is not None:
            return [Photo(**item) for item in revision.images]
    rows = db.session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position)
    )
    return [Photo(row.image_id, row.alt_vi, row.alt_en) for row in rows]


def _save_photos(product: Product, actor, photos: list[Photo], action: str) -> None:
    if product.status == ProductStatus.ARCHIVED:
        raise ProductError(_l("Sản phẩm đã lưu trữ. Khôi phục trước khi sửa."))
    if product.status == ProductStatus.PUBLISHED:
        revision = open_revision(product)
        if revision is None:
            revision = ProductRevision(product_id=product.id, created_by_id=actor.id, data={})
            db.session.add(revision)
        revision.images = [vars(p) for p in photos]
    else:
        _write_photo_rows(product, photos)
    db.session.flush()
    record(actor, action, product, after={"images": [p.image_id for p in photos]})


def _write_photo_rows(product: Product, photos: list[Photo]) -> None:
    db.session.execute(ProductImage.__table__.delete().where(ProductImage.product_id == product.id))
    db.session.flush()
    for position, photo in enumerate(photos):
        db.session.add(
            ProductImage(
                product_id=product.id,
                image_id=photo.image_id,
                position=position,
                alt_vi=photo.alt_vi,
                alt_en=photo.alt_en,
            )
        )
    db.session.expire(product, ["images"])


def add_photo(product: Product, actor, image, alt_vi: str | None = None) -> None:
    photos = photos_of(product)
    if any(p.image_id == image.id for p in photos):
        return  # the same picture uploaded twice: keep one
    if len(photos) >= MAX_PHOTOS:
        raise ProductError(
            _l("Mỗi sản phẩm có tối đa %(n)d ảnh. Xóa bớt ảnh trước khi thêm.", n=MAX_PHOTOS)
        )
    photos.append(Photo(image.id, alt_vi))
    _save_photos(product, actor, photos, "product.photo_added")


def _find(photos: list[Photo], image_id: int) -> int:
    for index, photo in enumerate(photos):
        if photo.image_id == image_id:
            return index
    raise ProductError(_l("Không tìm thấy ảnh này trong sản phẩm."))


def remove_photo(product: Product, actor, image_id: int) -> None:
    photos = photos_of(product)
    del photos[_find(photos, image_id)]
    _save_photos(product, actor, photos, "product.photo_removed")


def reorder_photos(product: Product, actor, image_ids: list[int]) -> None:
    """Put the photos in the given order; the first is the cover."""
    photos = photos_of(product)
    if sorted(image_ids) != sorted(p.image_id for p in photos):
        raise ProductError(_l("Danh sách ảnh không khớp. Tải lại trang rồi thử lại."))
    by_id = {p.image_id: p for p in photos}
    _save_photos(product, actor, [by_id[i] for i in image_ids], "product.photos_reordered")


def move_photo(product: Product, actor, image_id: int, offset: int) -> None:
    """Move one photo up (-1) or down (+1): the no-JavaScript way to reorder."""
    photos = photos_of(product)
    index = _find(photos, image_id)
    target = max(0, min(len(photos) - 1, index + offset))
    photos.insert(target, photos.pop(index))
    _save_photos(product, actor, photos, "product.photos_reordered")


def set_cover(product: Product, actor, image_id: int) -> None:
    photos = photos_of(product)
    photos.insert(0, photos.pop(_find(photos, image_id)))
    _save_photos(product, actor, photos, "product.cover_chosen")


def set_alt(product: Product, actor, image_id: int, alt_vi: str | None, alt_en: str | None):
    photos = photos_of(product)
    photo = photos[_find(photos, image_id)]
    photo.alt_vi, photo.alt_en = alt_vi, alt_en
    _save_photos(product, actor, photos, "product.photo_described")


# --------------------------------------------------------------------------- staff decisions


def approve(product: Product, actor) -> None:
    """Publish a submitted product."""
    _transition(
        product,
        (ProductStatus.SUBMITTED,),
        ProductStatus.PUBLISHED,
        published_at=utcnow(),
        moderation_note=None,
        review_reasons=None,
    )
    record(
        actor,
        "product.approved",
        product,
        before={"status": "submitted"},
        after={"status": "published"},
    )
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    notify_cooperative(
        cooperative, "product_approved", product=product.name_vi, product_id=product.id
    )


def _check_reasons(reasons, note) -> list[str]:
    reasons = [r for r in (reasons or []) if r in REVIEW_REASONS]
    if not reasons and not (note or "").strip():
        raise ProductError(_l("Hãy chọn ít nhất một lý do hoặc ghi rõ cần sửa gì."))
    return reasons


def request_changes(product: Product, actor, reasons, note: str | None) -> None:
    reasons = _check_reasons(reasons, note)
    _transition(
        product,
        (ProductStatus.SUBMITTED,),
        ProductStatus.CHANGES_REQUESTED,
        moderation_note=note,
        review_reasons=reasons,
    )
    record(
        actor,
        "product.changes_requested",
        product,
        before={"status": "submitted"},
        after={"status": "changes_requested", "reasons": reasons},
        reason=note,
    )
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    notify_cooperative(
        cooperative,
        "product_changes_requested",
        product=product.name_vi,
        product_id=product.id,
        reasons=reasons,
        note=note,
    )


def reject(product: Product, actor, note: str | None) -> None:
    if not (note or "").strip():
        raise ProductError(_l("Hãy ghi lý do từ chối để hợp tác xã biết."))
    _transition(product, (ProductStatus.SUBMITTED,), ProductStatus.REJECTED, moderation_note=note)
    record(
        actor,
        "product.rejected",
        product,
        before={"status": "submitted"},
        after={"status": "rejected"},
        reason=note,
    )
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    notify_cooperative(
        cooperative, "product_rejected", product=product.name_vi, product_id=product.id, note=note
    )


def _decide_revision(revision: ProductRevision, actor, status, **extra) -> None:
    result = db.session.execute(
        update(ProductRevision)
        .where(ProductRevision.id == revision.id, ProductRevision.status == RevisionStatus.PENDING)
        .values(status=status, decided_by_id=actor.id, decided_at=utcnow(), **extra)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(revision)
        raise AlreadyDecided(_l("Bản sửa này đã được xử lý."))
    db.session.refresh(revision)


def approve_revision(revision: ProductRevision, actor) -> None:
    """Make the proposed edits live."""
    _decide_revision(revision, actor, RevisionStatus.APPROVED)
    product = db.session.get(Product, revision.product_id)
    before = to_json(current_values(product))
    _apply(product, from_json(revision.data or {}))
    if revision.images is not None:
        _write_photo_rows(product, [Photo(**item) for item in revision.images])
    product.updated_at = utcnow()
    db.session.flush()
    record(actor, "product.revision_approved", product, before=before, after=revision.data)
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    notify_cooperative(
        cooperative, "revision_approved", product=product.name_vi, product_id=product.id
    )


def request_revision_changes(revision: ProductRevision, actor, reasons, note) -> None:
    reasons = _check_reasons(reasons, note)
    _decide_revision(
        revision, actor, RevisionStatus.CHANGES_REQUESTED, reason=note, review_reasons=reasons
    )
    product = db.session.get(Product, revision.product_id)
    record(
        actor,
        "product.revision_changes_requested",
        product,
        reason=note,
        after={"reasons": reasons},
    )
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    notify_cooperative(
        cooperative,
        "revision_changes_requested",
        product=product.name_vi,
        product_id=product.id,
        reasons=reasons,
        note=note,
    )


def reject_revision(revision: ProductRevision, actor, note) -> None:
    if not (note or "").strip():
        raise ProductError(_l("Hãy ghi lý do từ chối để hợp tác xã biết."))
    _decide_revision(revision, actor, RevisionStatus.REJECTED, reason=note)
    product = db.session.get(Product, revision.product_id)
    record(actor, "product.revision_rejected", product, reason=note)
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    notify_cooperative(
        cooperative, "revision_rejected", product=product.name_vi, product_id=product.id, note=note
    )
