"""The product lifecycle, revisions of live products and the photo list (services)."""

import hashlib
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.catalog import services
from shop.catalog.models import (
    Product,
    ProductCertification,
    ProductImage,
    ProductLink,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
)
from shop.cooperatives.models import CooperativeStatus
from shop.extensions import db
from shop.media.models import StoredImage
from shop.notify.models import Notification
from tests.factories import create_cooperative, create_user, load_taxonomy
from tests.helpers import page_text

VALUES = {
    "name_vi": "Gạo nếp cái hoa vàng",
    "description_vi": "Nếp thơm, dẻo, vụ mùa.",
    "category_id": None,
    "unit_code": "kg",
    "price_vnd": 48000,
    "min_order_qty": Decimal("0.5"),
    "ocop_stars": 0,
    "season_months": 4095,
    "certifications": ["vietgap"],
    "links": [{"label": "Sàn Bắc Ninh", "url": "https://san.example/gao"}],
}


@pytest.fixture
def setup(blank_db):
    load_taxonomy()
    from shop.catalog.models import Category

    category = db.session.scalar(select(Category).order_by(Category.sort_order))
    coop = create_cooperative()
    owner = create_user(cooperative=coop)
    staff = create_user("staff")
    values = {**VALUES, "category_id": category.id}
    return {"coop": coop, "owner": owner, "staff": staff, "values": values, "app": blank_db}


def image(n: int) -> StoredImage:
    row = StoredImage(
        sha256=hashlib.sha256(str(n).encode()).hexdigest(),
        mime_type="image/jpeg",
        width=800,
        height=600,
        byte_size=1000,
    )
    db.session.add(row)
    db.session.flush()
    return row


def published(setup) -> Product:
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    services.submit(product, setup["owner"])
    services.approve(product, setup["staff"])
    return product


def test_create_makes_a_draft_with_its_details(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    assert product.status == ProductStatus.DRAFT
    assert product.slug == "gao-nep-cai-hoa-vang"
    assert product.min_order_qty == Decimal("0.5")
    assert services.current_values(product)["certifications"] == ["vietgap"]
    assert services.current_values(product)["links"] == VALUES["links"]
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "product.created" in actions


def test_same_name_gets_a_new_slug(setup):
    first = services.create_product(setup["coop"], setup["owner"], setup["values"])
    second = services.create_product(setup["coop"], setup["owner"], setup["values"])
    assert (first.slug, second.slug) == ("gao-nep-cai-hoa-vang", "gao-nep-cai-hoa-vang-2")


def test_submit_needs_a_verified_cooperative(setup):
    setup["coop"].status = CooperativeStatus.PENDING
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    with pytest.raises(services.ProductError, match="xác minh"):
        services.submit(product, setup["owner"])
    assert product.status == ProductStatus.DRAFT


def test_full_path_to_publication(setup):
    product = published(setup)
    assert product.status == ProductStatus.PUBLISHED
    assert product.published_at is not None
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert "product_approved" in kinds


def test_a_decision_cannot_be_taken_twice(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    services.submit(product, setup["owner"])
    services.approve(product, setup["staff"])
    with pytest.raises(services.AlreadyDecided):
        services.reject(product, setup["staff"], "trễ")
    with pytest.raises(services.AlreadyDecided):
        services.submit(product, setup["owner"])


def test_request_changes_needs_a_reason_and_allows_resubmission(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    services.submit(product, setup["owner"])
    with pytest.raises(services.ProductError):
        services.request_changes(product, setup["staff"], [], "  ")
    services.request_changes(product, setup["staff"], ["photo", "bogus"], "Ảnh mờ")
    assert product.status == ProductStatus.CHANGES_REQUESTED
    assert product.review_reasons == ["photo"]
    assert product.moderation_note == "Ảnh mờ"
    services.update_product(product, setup["owner"], {"price_vnd": 50000})
    services.submit(product, setup["owner"])
    assert product.status == ProductStatus.SUBMITTED


def test_reject_needs_a_note(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    services.submit(product, setup["owner"])
    with pytest.raises(services.ProductError):
        services.reject(product, setup["staff"], "")
    services.reject(product, setup["staff"], "Sản phẩm bị cấm bán")
    assert product.status == ProductStatus.REJECTED


def test_editing_a_live_product_makes_a_revision_and_keeps_it_live(setup):
    product = published(setup)
    revision = services.update_product(product, setup["owner"], {"price_vnd": 55000})
    assert revision.status == RevisionStatus.PENDING
    db.session.refresh(product)
    assert product.price_vnd == 48000
    client = setup["app"].test_client()
    db.session.commit()
    assert "48.000 ₫ / kg" in page_text(client.get(f"/san-pham/{product.slug}"))
    product = db.session.get(Product, product.id)  # the request closed the test's session
    revision = db.session.get(ProductRevision, revision.id)

    again = services.update_product(product, setup["owner"], {"name_en": "Yellow-flower rice"})
    assert again.id == revision.id  # one open revision, updated
    assert again.data["price_vnd"] == 55000

    services.approve_revision(revision, setup["staff"])
    db.session.refresh(product)
    assert (product.price_vnd, product.name_en) == (55000, "Yellow-flower rice")
    db.session.commit()
    assert "55.000 ₫ / kg" in page_text(client.get(f"/san-pham/{product.slug}"))
    revision = db.session.get(ProductRevision, revision.id)
    with pytest.raises(services.AlreadyDecided):
        services.reject_revision(revision, setup["staff"], "muộn")


def test_revision_changes_requested_keeps_the_live_version(setup):
    product = published(setup)
    revision = services.update_product(product, setup["owner"], {"price_vnd": 1000})
    services.request_revision_changes(revision, setup["staff"], ["price"], "Giá quá thấp")
    db.session.refresh(product)
    assert product.price_vnd == 48000
    assert revision.status == RevisionStatus.CHANGES_REQUESTED
    assert services.open_revision(product) is None


def test_archive_and_restore(setup):
    product = published(setup)
    services.update_product(product, setup["owner"], {"price_vnd": 1})
    services.archive(product, setup["owner"])
    assert product.status == ProductStatus.ARCHIVED
    assert services.open_revision(product) is None
    with pytest.raises(services.ProductError):
        services.update_product(product, setup["owner"], {"price_vnd": 2})
    services.restore(product, setup["owner"])
    assert product.status == ProductStatus.DRAFT


def test_duplicate_copies_details_and_photos(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    services.add_photo(product, setup["owner"], image(1))
    copy = services.duplicate(product, setup["owner"])
    assert copy.status == ProductStatus.DRAFT
    assert copy.name_vi == "Gạo nếp cái hoa vàng (bản sao)"
    assert copy.slug != product.slug
    assert services.current_values(copy)["certifications"] == ["vietgap"]
    assert [p.image_id for p in services.photos_of(copy)] == [
        p.image_id for p in services.photos_of(product)
    ]


def test_photos_up_to_ten_then_refused(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    for n in range(10):
        services.add_photo(product, setup["owner"], image(n))
    with pytest.raises(services.ProductError, match="tối đa 10"):
        services.add_photo(product, setup["owner"], image(99))
    count = db.session.scalar(select(func.count()).select_from(ProductImage))
    assert count == 10


def test_reorder_cover_move_remove_alt(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    a, b, c = image(1), image(2), image(3)
    for img in (a, b, c):
        services.add_photo(product, setup["owner"], img)
    services.reorder_photos(product, setup["owner"], [c.id, a.id, b.id])
    assert [p.image_id for p in services.photos_of(product)] == [c.id, a.id, b.id]
    services.set_cover(product, setup["owner"], b.id)
    assert [p.image_id for p in services.photos_of(product)] == [b.id, c.id, a.id]
    services.move_photo(product, setup["owner"], a.id, -1)
    assert [p.image_id for p in services.photos_of(product)] == [b.id, a.id, c.id]
    services.set_alt(product, setup["owner"], a.id, "Bao gạo 5 kg", None)
    services.remove_photo(product, setup["owner"], c.id)
    photos = services.photos_of(product)
    assert [(p.image_id, p.alt_vi) for p in photos] == [(b.id, None), (a.id, "Bao gạo 5 kg")]
    with pytest.raises(services.ProductError):
        services.reorder_photos(product, setup["owner"], [a.id])
    with pytest.raises(services.ProductError):
        services.remove_photo(product, setup["owner"], 424242)


def test_photos_of_a_live_product_wait_for_review(setup):
    product = published(setup)
    first = image(1)
    services.add_photo(product, setup["owner"], first)
    live = db.session.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product.id)
    )
    assert live == 0
    revision = db.session.scalar(select(ProductRevision))
    assert revision.images == [{"image_id": first.id, "alt_vi": None, "alt_en": None}]
    services.approve_revision(revision, setup["staff"])
    rows = db.session.scalars(
        select(ProductImage).where(ProductImage.product_id == product.id)
    ).all()
    assert [r.image_id for r in rows] == [first.id]


def test_certifications_and_links_are_replaced(setup):
    product = services.create_product(setup["coop"], setup["owner"], setup["values"])
    services.update_product(
        product,
        setup["owner"],
        {
            "certifications": ["haccp", "vietgap"],
            "links": [{"label": "A", "url": "https://a.example"}],
        },
    )
    values = services.current_values(product)
    assert values["certifications"] == ["haccp", "vietgap"]
    assert values["links"] == [{"label": "A", "url": "https://a.example"}]
    assert db.session.scalar(select(func.count()).select_from(ProductCertification)) == 2
    assert db.session.scalar(select(func.count()).select_from(ProductLink)) == 1
