"""Moderation: staff suspend a cooperative (and lift it); OCOP certificates about to expire."""

from datetime import date

import pytest
from sqlalchemy import select

from shop.audit.models import AuditEntry
from shop.catalog.models import Category, Product
from shop.cooperatives.models import Cooperative, CooperativeStatus, Sector
from shop.extensions import db
from shop.notify.models import Notification
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import post_form, sign_in
from tests.test_cooperative_support import (
    audit_actions,
    body,
    counts,
    emails,
    field_error,
    fresh,
    get,
    make_world,
    text,
)


@pytest.fixture
def world(client):
    world = make_world()
    sign_in(client, world.staff)
    return world


def detail_url(coop) -> str:
    return f"/quan-tri/htx/{coop.id}"


def suspend(client, coop, reason):
    return post_form(
        client,
        f"/quan-tri/htx/{coop.id}/tam-ngung",
        {"suspend-reason": reason},
        form_url=detail_url(coop),
    )


def lift(client, coop):
    return post_form(client, f"/quan-tri/htx/{coop.id}/mo-lai", form_url=detail_url(coop))


@pytest.fixture
def shop_window(world):
    """Cooperative A with a published OCOP product shown in a booth of a public programme."""
    sector = db.session.get(Sector, world.coop_a.sector_id)
    category = db.session.scalar(select(Category).limit(1))
    product = create_product(world.coop_a, name_vi="Bánh phu thê Đình Bảng", category=category)
    programme = create_programme(title_vi="Hội chợ thử nghiệm")
    create_booth(programme, 7, world.coop_a, [product])
    db.session.commit()
    pages = {
        "home": "/",
        "catalogue": "/san-pham",
        "sector": f"/linh-vuc/{sector.slug}",
        "category": f"/danh-muc/{category.slug}",
        "cooperative": f"/htx/{world.coop_a.slug}",
        "programme": f"/chuong-trinh/{programme.slug}",
    }
    return product, programme, pages


def shown_everywhere(client, product, programme, pages) -> dict:
    """Where the product is visible: each listing page, its own page, the booth."""
    link = f'href="/san-pham/{product.slug}"'
    seen = {}
    for name, url in pages.items():
        if name in ("cooperative", "programme"):
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        seen[name] = link in body(response)
    seen["product_page"] = client.get(f"/san-pham/{product.slug}").status_code
    seen["cooperative_page"] = client.get(pages["cooperative"]).status_code
    booth = client.get(f"/chuong-trinh/{programme.slug}/gian-hang/7")
    seen["booth"] = booth.status_code
    seen["booth_shows_product"] = link in body(booth)
    listing = body(client.get(pages["programme"]))
    seen["programme_links_booth"] = f'/chuong-trinh/{programme.slug}/gian-hang/7"' in listing
    return seen


VISIBLE = {
    "home": True,
    "catalogue": True,
    "sector": True,
    "category": True,
    "product_page": 200,
    "cooperative_page": 200,
    "booth": 200,
    "booth_shows_product": True,
    "programme_links_booth": True,
}
HIDDEN = {
    "home": False,
    "catalogue": False,
    "sector": False,
    "category": False,
    "product_page": 404,
    "cooperative_page": 404,
    "booth": 404,
    "booth_shows_product": False,
    "programme_links_booth": False,
}


# --------------------------------------------------------------------------- suspension


def test_suspending_hides_everything_at_once_and_lifting_restores_it(client, world, shop_window):
    product, programme, pages = shop_window
    assert shown_everywhere(client, product, programme, pages) == VISIBLE
    reason = "Nhiều phản ánh hàng giao không đúng mô tả <b>"
    response = suspend(client, world.coop_a, reason)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(detail_url(world.coop_a))
    saved = fresh(Cooperative, world.coop_a.id)
    assert saved.status == CooperativeStatus.SUSPENDED and saved.status_reason == reason
    assert "Đã tạm ngưng HTX Thế giới A" in text(client.get(detail_url(world.coop_a)))
    anonymous = client.application.test_client()  # what anyone sees
    assert shown_everywhere(anonymous, product, programme, pages) == HIDDEN
    assert shown_everywhere(client, product, programme, pages) == HIDDEN

    detail = text(client.get(detail_url(world.coop_a)))
    assert "Mở lại hợp tác xã" in detail and reason in detail
    assert lift(client, world.coop_a).status_code == 302
    saved = fresh(Cooperative, world.coop_a.id)
    assert saved.status == CooperativeStatus.VERIFIED and saved.status_reason is None
    assert "Đã mở lại HTX Thế giới A" in text(client.get(detail_url(world.coop_a)))
    assert shown_everywhere(anonymous, product, programme, pages) == VISIBLE
    assert audit_actions(world.coop_a)[-2:] == ["cooperative.suspended", "cooperative.reinstated"]


def test_suspension_notifies_emails_and_records(client, world):
    reason = "Đang xác minh phản ánh về nguồn gốc hàng"
    assert suspend(client, world.coop_a, reason).status_code == 302
    notice = db.session.scalar(
        select(Notification)
        .where(Notification.cooperative_id == world.coop_a.id)
        .order_by(Notification.id.desc())
    )
    assert notice.kind == "cooperative_suspended" and notice.params["reason"] == reason
    [message] = emails("cooperative_suspended")
    assert message.to_address == "chu-a@example.com"
    assert "HTX Thế giới A" in message.subject and reason in message.body
    assert "/quan-ly-htx/" in message.body
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_id == world.coop_a.id, AuditEntry.action == "cooperative.suspended"
        )
    )
    assert entry.actor_id == world.staff.id and entry.reason == reason
    assert entry.before == {"status": "verified"} and entry.after == {"status": "suspended"}
    history = text(client.get(detail_url(world.coop_a)))
    assert "Tạm ngưng hợp tác xã" in history and "Đã xác minh → Tạm ngưng" in history

    # The members read the suspension and its reason on their dashboard.
    sign_in(client, world.editor_a)
    home = text(client.get("/quan-ly-htx/"))
    assert "Hợp tác xã đang bị tạm ngưng" in home and reason in home
    assert "Liên minh HTX đã tạm ngưng HTX Thế giới A" in home

    sign_in(client, world.staff)
    assert lift(client, world.coop_a).status_code == 302
    [message] = emails("cooperative_reinstated")
    assert message.to_address == "chu-a@example.com" and "mở lại" in message.subject
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_id == world.coop_a.id, AuditEntry.action == "cooperative.reinstated"
        )
    )
    assert entry.before == {"status": "suspended"} and entry.after == {"status": "verified"}
    sign_in(client, world.owner_a)
    home = text(client.get("/quan-ly-htx/"))
    assert "Liên minh HTX đã mở lại HTX Thế giới A" in home
    assert "Hợp tác xã đang bị tạm ngưng" not in home


def test_suspension_emails_the_cooperative_when_it_has_no_owner(client, world):
    coop = create_cooperative(name="HTX Chưa có chủ", email="lienhe@htx-chua-co-chu.example")
    db.session.commit()
    assert suspend(client, coop, "Thông tin liên hệ không đúng").status_code == 302
    [message] = emails("cooperative_suspended")
    assert message.to_address == "lienhe@htx-chua-co-chu.example"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_detail_page_offers_suspend_or_lift(client, world, lang):
    raw = body(get(client, detail_url(world.coop_a), lang))
    assert f'<html lang="{lang}">' in raw
    assert f'action="/quan-tri/htx/{world.coop_a.id}/tam-ngung"' in raw
    assert '<label for="suspend-reason">' in raw
    assert "/mo-lai" not in raw
    assert suspend(client, world.coop_a, "Lý do").status_code == 302
    raw = body(get(client, detail_url(world.coop_a), lang))
    assert f'action="/quan-tri/htx/{world.coop_a.id}/mo-lai"' in raw
    assert "/tam-ngung" not in raw


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_suspending_needs_a_reason(client, world, reason):
    before = counts()
    response = suspend(client, world.coop_a, reason)
    assert response.status_code == 422
    assert field_error(response, "suspend-reason")
    assert counts() == before
    assert fresh(Cooperative, world.coop_a.id).status == CooperativeStatus.VERIFIED


def test_a_second_suspension_or_lift_is_a_conflict(client, world):
    assert suspend(client, world.coop_a, "Lần một").status_code == 302
    before = counts()
    response = suspend(client, world.coop_a, "Lần hai")
    assert response.status_code == 409
    page = text(response)
    assert "đã được xử lý bởi can-bo@example.com" in page and "Tạm ngưng hợp tác xã" in page
    assert counts() == before
    assert fresh(Cooperative, world.coop_a.id).status_reason == "Lần một"
    assert lift(client, world.coop_a).status_code == 302
    before = counts()
    assert lift(client, world.coop_a).status_code == 409
    assert counts() == before
    assert fresh(Cooperative, world.coop_a.id).status == CooperativeStatus.VERIFIED


@pytest.mark.parametrize(
    "status", [CooperativeStatus.PENDING, CooperativeStatus.NEEDS_INFO, CooperativeStatus.INACTIVE]
)
def test_only_verified_cooperatives_can_be_suspended(client, world, status):
    coop = create_cooperative(status=status)
    db.session.commit()
    before = counts()
    assert suspend(client, coop, "Lý do").status_code == 409
    assert lift(client, coop).status_code == 409
    assert counts() == before
    assert fresh(Cooperative, coop.id).status == status


def test_only_staff_may_suspend_or_lift(client, world):
    before = counts()
    for url in (
        f"/quan-tri/htx/{world.coop_a.id}/tam-ngung",
        f"/quan-tri/htx/{world.coop_a.id}/mo-lai",
    ):
        for user in (world.owner_a, world.buyer):
            sign_in(client, user)
            response = post_form(client, url, {"suspend-reason": "x"}, form_url="/")
            assert response.status_code == 403, (url, user.email)
        anonymous = client.application.test_client()
        response = post_form(
            anonymous, url, {"suspend-reason": "x"}, form_url="/tai-khoan/dang-nhap"
        )
        assert (
            response.status_code == 302 and "/tai-khoan/dang-nhap" in response.headers["Location"]
        )
    assert counts() == before
    assert fresh(Cooperative, world.coop_a.id).status == CooperativeStatus.VERIFIED
    sign_in(client, world.admin)
    assert suspend(client, world.coop_a, "Cán bộ quản trị tạm ngưng").status_code == 302
    assert client.post(f"/quan-tri/htx/{world.coop_a.id}/mo-lai").status_code in (400, 403)
    assert client.post("/quan-tri/htx/999999/mo-lai", data={}).status_code in (400, 404)


# --------------------------------------------------------------------------- OCOP expiry

OCOP_PAGE = "/quan-tri/san-pham/ocop-het-han"


def ocop_products(demo) -> dict:
    return {p["slug"]: p for p in demo["products"] if p.get("ocop_expires_on")}


def test_ocop_page_lists_expiring_soonest_first_then_expired(client, world, demo):
    today = date(2026, 11, 26)
    expiring = sorted(
        (
            p
            for p in ocop_products(demo).values()
            if p.get("ocop_stars")
            and p.get("status") == "approved"
            and today <= date.fromisoformat(p["ocop_expires_on"]) <= date(2027, 1, 25)
        ),
        key=lambda p: p["ocop_expires_on"],
    )
    expired = [
        p
        for p in ocop_products(demo).values()
        if p.get("ocop_stars")
        and p.get("status") == "approved"
        and date.fromisoformat(p["ocop_expires_on"]) < today
    ]
    assert [p["ocop_expires_on"] for p in expiring] == ["2026-12-18", "2027-01-10"]
    assert expired
    response = client.get(OCOP_PAGE)
    assert response.status_code == 200
    raw = body(response)
    soon, _, past = raw.partition('id="expired-title"')
    names = [p["name_vi"] for p in expiring]
    assert all(name in soon for name in names)
    assert soon.index(names[0]) < soon.index(names[1])
    assert "18/12/2026" in soon and "10/01/2027" in soon
    for p in expiring:
        coop = db.session.scalar(select(Cooperative).where(Cooperative.slug == p["cooperative"]))
        assert coop.name in soon
    for p in expired:
        assert p["name_vi"] in past and p["name_vi"] not in soon
        assert date.fromisoformat(p["ocop_expires_on"]).strftime("%d/%m/%Y") in past
    # Certificates valid for longer than 60 days are not listed.
    later = [p for p in ocop_products(demo).values() if p["ocop_expires_on"] > "2027-01-25"]
    assert later and all(p["name_vi"] not in raw for p in later)
    assert f'href="{OCOP_PAGE}"' in body(client.get("/quan-tri/"))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_ocop_page_in_both_languages_and_only_for_staff(client, world, lang):
    response = get(client, OCOP_PAGE, lang)
    assert response.status_code == 200 and f'<html lang="{lang}">' in body(response)
    for user in (world.owner_a, world.buyer):
        sign_in(client, user)
        assert client.get(OCOP_PAGE).status_code == 403
    response = client.application.test_client().get(OCOP_PAGE)
    assert response.status_code == 302 and "/tai-khoan/dang-nhap" in response.headers["Location"]


def test_expired_badge_is_hidden_on_the_product_page(client, demo):
    products = ocop_products(demo)
    expired = next(
        p
        for p in products.values()
        if p.get("status") == "approved" and p["ocop_expires_on"] < "2026-11-26"
    )
    valid = products["mam-dong-cham-tu-linh"]
    assert 'class="ocop-line"' not in body(client.get(f"/san-pham/{expired['slug']}"))
    page = body(client.get(f"/san-pham/{valid['slug']}"))
    assert 'class="ocop-line"' in page and f"OCOP {valid['ocop_stars']}" in page


def run_reminders(app):
    return app.test_cli_runner().invoke(args=["catalog", "ocop-reminders"])


def test_ocop_reminders_are_sent_once_per_product_and_date(demo_db):
    product = db.session.scalar(select(Product).where(Product.slug == "mam-dong-cham-tu-linh"))
    coop = db.session.get(Cooperative, product.cooperative_id)
    owner = create_user(cooperative=coop, email="chu-mam-dong@example.com")
    # One more, with an owner and a cooperative address: only the owner is written to.
    other_coop = create_cooperative(email="lienhe@htx-khac.example")
    other_owner = create_user(cooperative=other_coop, email="chu-khac@example.com")
    soon = create_product(other_coop, ocop_expires_on=date(2026, 11, 26))
    later = create_product(other_coop, ocop_expires_on=date(2026, 12, 27))
    db.session.commit()

    result = run_reminders(demo_db)
    assert result.exit_code == 0, result.output
    assert "2 OCOP reminders sent (2 emails)." in result.output
    messages = emails("ocop_reminder")
    assert sorted(m.to_address for m in messages) == sorted([owner.email, other_owner.email])
    first = next(m for m in messages if m.to_address == owner.email)
    assert product.name_vi in first.subject and "18/12/2026" in first.subject
    assert f"/quan-ly-htx/san-pham/{product.id}" in first.body
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "product.ocop_reminder_sent")
    ).all()
    assert sorted((e.target_id, e.after["expires_on"]) for e in entries) == sorted(
        [(product.id, "2026-12-18"), (soon.id, "2026-11-26")]
    )
    assert later.id not in {e.target_id for e in entries}

    again = run_reminders(demo_db)
    assert again.exit_code == 0 and "0 OCOP reminders sent (0 emails)." in again.output
    assert len(emails("ocop_reminder")) == 2

    # A renewed certificate with a new date near its end is reminded again, once.
    product = db.session.get(Product, product.id)
    product.ocop_expires_on = date(2026, 12, 20)
    db.session.commit()
    assert "1 OCOP reminders sent" in run_reminders(demo_db).output
    assert len(emails("ocop_reminder")) == 3
