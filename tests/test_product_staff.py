"""The console's product pages (/quan-tri/san-pham): what waits, the product, decisions, conflicts.

Each decision changes the product (or revision), tells the cooperative on its dashboard and by
email to its owners, and lands in the product's history; a late or stale decision is a 409.
"""

import hashlib
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shop.audit.models import AuditEntry
from shop.catalog import services
from shop.catalog.models import Product, ProductRevision, ProductStatus, RevisionStatus
from shop.cooperatives.models import CooperativeStatus, Membership
from shop.db import utcnow
from shop.extensions import db
from shop.media.models import StoredImage
from shop.notify.models import Notification, OutboxEmail
from tests.helpers import csrf_token, page_text
from tests.test_product_dashboard import client_for, counts, fresh, product_of, text, world

__all__ = ["world"]  # the fixture, shared with the dashboard tests

QUEUE = "/quan-tri/san-pham"


def detail_url(product) -> str:
    return f"{QUEUE}/{product.id}"


def hidden_values(raw: str, prefix: str) -> dict:
    """The hidden inputs of the decision form whose fields start with `prefix-`."""
    found = dict(
        re.findall(rf'<input type="hidden" name="({prefix}-[a-z_]+)" value="([^"]*)"', raw)
    )
    assert found, f"no {prefix} form on the page"
    return found


def decide(client, product, path, prefix, **fields):
    """Open the product's console page, then post the decision form as a browser would."""
    raw = client.get(detail_url(product)).get_data(as_text=True)
    data = {**hidden_values(raw, prefix), "csrf_token": csrf_token(client, detail_url(product))}
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    return client.post(f"{detail_url(product)}/{path}", data=data)


def submitted(world, **values) -> Product:
    values.setdefault("name_vi", "Tương Bần")
    values.setdefault("ocop_certificate_no", "OCOP-BN-2024-12")
    return product_of(world, status=ProductStatus.SUBMITTED, **values)


def live_with_revision(world, **changes):
    product = product_of(world, name_vi="Mật ong rừng", price_vnd=150000)
    revision = services.update_product(product, world.owner_a, changes)
    db.session.commit()
    return product, revision


def emails(kind=None):
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(stmt))


def notices(world):
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.cooperative_id == world.coop_a.id)
            .order_by(Notification.id)
        )
    )


def image(n: int) -> StoredImage:
    row = StoredImage(
        sha256=hashlib.sha256(f"staff-{n}".encode()).hexdigest(),
        mime_type="image/jpeg",
        width=800,
        height=600,
        byte_size=1000,
    )
    db.session.add(row)
    db.session.flush()
    return row


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_console_home_counts_products_and_revisions(world, lang):
    submitted(world)
    submitted(world, name_vi="Nem Bùi")
    live_with_revision(world, price_vnd=160000)
    client = client_for(world, world.staff)
    raw = html.unescape(client.get(f"/quan-tri/?lang={lang}").get_data(as_text=True))
    assert f'<html lang="{lang}">' in raw
    stats = re.findall(r"<dd>(\d+)</dd>", raw)
    assert stats[-2:] == ["2", "1"]
    assert f'href="{QUEUE}"' in raw
    if lang == "vi":
        assert "Sản phẩm chờ duyệt" in raw and "Bản sửa chờ duyệt" in raw
        assert f'<a href="{QUEUE}">Sản phẩm</a>' in raw


def test_queue_lists_waiting_products_and_revisions_oldest_first(world):
    newer = submitted(world, name_vi="Nem Bùi mới gửi")
    oldest = submitted(world, name_vi="Tương Bần nhập từ dữ liệu cũ")
    db.session.execute(
        update(Product)
        .where(Product.id == oldest.id)
        .values(updated_at=utcnow() - timedelta(days=3))
    )
    # Sent two days ago, edited just now: it keeps its place in the queue.
    # (Audit entries are append-only, so the two-day-old submission is recorded as such.)
    older = product_of(world, name_vi="Tương Bần gửi trước", status=ProductStatus.SUBMITTED)
    db.session.add(
        AuditEntry(
            actor_id=world.owner_a.id,
            action="product.submitted",
            target_type="product",
            target_id=older.id,
            created_at=utcnow() - timedelta(days=2),
        )
    )
    db.session.flush()
    services.update_product(older, world.owner_a, {"price_vnd": 41000})
    world.coop_b.status = CooperativeStatus.SUSPENDED
    submitted(world, coop=world.coop_b, name_vi="Của HTX tạm ngưng")
    product_of(world, name_vi="Bản nháp không hiện", status=ProductStatus.DRAFT)
    live, _revision = live_with_revision(world, price_vnd=160000)
    db.session.commit()

    page = text(client_for(world, world.admin).get(QUEUE))
    assert page.index("Tương Bần nhập từ dữ liệu cũ") < page.index("Tương Bần gửi trước")
    assert page.index("Tương Bần gửi trước") < page.index("Nem Bùi mới gửi")
    assert "Bản nháp không hiện" not in page
    assert "Sản phẩm mới gửi duyệt (4)" in page and "Bản sửa của sản phẩm đang bán (1)" in page
    assert "HTX Thế giới A Đã xác minh" in page and "HTX Thế giới B Tạm ngưng" in page
    assert "Mật ong rừng" in page
    raw = client_for(world, world.staff).get(QUEUE).get_data(as_text=True)
    assert f'href="{QUEUE}/{newer.id}"' in raw and f'href="{QUEUE}/{live.id}#revision-title"' in raw


def test_product_page_shows_details_cooperative_and_history(world):
    product = submitted(
        world,
        name_vi="Tương Bần",
        pack_size_vi="Chai 500 ml",
        traceability_url="https://truyxuat.example/tuong",
        made_to_order=True,
    )
    world.coop_a.status = CooperativeStatus.SUSPENDED
    db.session.commit()
    services.update_product(product, world.owner_a, {"price_vnd": 35000})
    db.session.commit()
    page = text(client_for(world, world.staff).get(detail_url(product)))
    assert "Tương Bần Đang chờ duyệt" in page
    assert "HTX Thế giới A Tạm ngưng" in page and "chu-a@example.com" in page
    assert "sản phẩm sẽ không hiện với người mua dù được duyệt" in page
    for fact in ("35.000 ₫ / kg", "Chai 500 ml", "VietGAP", "3 sao", "Quanh năm", "Có"):
        assert fact in page, fact
    assert "https://truyxuat.example/tuong" in page
    assert "Lịch sử" in page and "Sửa sản phẩm — chu-a@example.com" in page
    for button in ("Duyệt và đăng bán", "Yêu cầu sửa", "Từ chối"):
        assert button in page
    for reason in ("Ảnh sản phẩm", "Giá", "Danh mục", "Chứng nhận, OCOP", "Mô tả", "Khác"):
        assert reason in page


def test_revision_is_shown_beside_the_live_values(world):
    product = product_of(world, name_vi="Mật ong rừng", price_vnd=150000)
    first, second, third = image(1), image(2), image(3)
    services._write_photo_rows(product, [services.Photo(first.id), services.Photo(second.id)])
    services.update_product(
        product, world.owner_a, {"price_vnd": 165000, "name_vi": "Mật ong rừng Sóc Sơn"}
    )
    services.remove_photo(product, world.owner_a, first.id)
    services.add_photo(product, world.owner_a, third)
    db.session.commit()
    page = text(client_for(world, world.staff).get(detail_url(product)))
    assert "Bản sửa chờ duyệt" in page
    assert "Tên sản phẩm Đang bán: Mật ong rừng → Đề nghị: Mật ong rừng Sóc Sơn" in page
    assert "Giá bán Đang bán: 150.000 ₫ → Đề nghị: 165.000 ₫" in page
    assert f"thêm ảnh số {third.id}; bỏ ảnh số {first.id}; đổi ảnh bìa" in page
    assert "Duyệt bản sửa" in page and "Từ chối bản sửa" in page
    assert "Duyệt và đăng bán" not in page  # the product itself is live, not waiting
    assert "Gửi bản sửa của sản phẩm đang bán — chu-a@example.com" in page


# --------------------------------------------------------------------------- product decisions


def test_approve_publishes_notifies_and_emails_the_owners(world):
    product = submitted(world)
    client = client_for(world, world.staff)
    response = decide(client, product, "duyet", "approve")
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    assert "Đã duyệt “Tương Bần”." in text(client.get(QUEUE))
    assert fresh(Product, product.id).status == ProductStatus.PUBLISHED
    assert [n.kind for n in notices(world)] == ["product_approved"]
    [mail] = emails("product_approved")
    assert mail.to_address == "chu-a@example.com"
    assert "“Tương Bần” đã được duyệt" in mail.subject
    assert "đã duyệt sản phẩm “Tương Bần” của HTX Thế giới A" in mail.body
    assert f"/quan-ly-htx/san-pham/{product.id}" in mail.body
    assert client_for(world).get(f"/san-pham/{product.slug}").status_code == 200
    home = text(client_for(world, world.owner_a).get("/quan-ly-htx/"))
    assert "Sản phẩm “Tương Bần” đã được duyệt và đang hiện với người mua." in home
    history = text(client.get(detail_url(product)))
    assert "Duyệt sản phẩm — " in history and "(Đang chờ duyệt → Đang bán)" in history


def test_request_changes_sends_reasons_and_note_to_the_cooperative(world):
    product = submitted(world)
    client = client_for(world, world.staff)
    response = decide(
        client,
        product,
        "yeu-cau-sua",
        "changes",
        reasons=["photo", "certificate"],
        note="Ảnh bìa mờ; giấy OCOP đã hết hạn.",
    )
    assert response.status_code == 302
    product = fresh(Product, product.id)
    assert product.status == ProductStatus.CHANGES_REQUESTED
    assert product.review_reasons == ["photo", "certificate"]
    assert product.moderation_note == "Ảnh bìa mờ; giấy OCOP đã hết hạn."
    [mail] = emails("product_changes_requested")
    assert "Cần xem lại: Ảnh sản phẩm, Chứng nhận, OCOP." in mail.body
    assert "Ảnh bìa mờ; giấy OCOP đã hết hạn." in mail.body

    member = client_for(world, world.owner_a)
    page = text(member.get(f"/quan-ly-htx/san-pham/{product.id}"))
    assert "Cần sửa: Ảnh sản phẩm Chứng nhận, OCOP Ảnh bìa mờ; giấy OCOP đã hết hạn." in page
    home = text(member.get("/quan-ly-htx/"))
    assert "cần sửa trước khi được duyệt. Cần xem lại: Ảnh sản phẩm, Chứng nhận, OCOP." in home
    history = text(client.get(detail_url(product)))
    assert "Cần sửa: Ảnh sản phẩm, Chứng nhận, OCOP" in history


def test_request_changes_needs_a_reason_or_a_note(world):
    product = submitted(world)
    client = client_for(world, world.staff)
    before = counts()
    response = decide(client, product, "yeu-cau-sua", "changes", note="   ")
    assert response.status_code == 422
    assert "Hãy chọn ít nhất một lý do hoặc ghi rõ cần sửa gì." in text(response)
    assert counts() == before and emails() == []
    assert fresh(Product, product.id).status == ProductStatus.SUBMITTED


def test_reject_needs_a_note_then_tells_the_cooperative(world):
    product = submitted(world)
    client = client_for(world, world.staff)
    before = counts()
    response = decide(client, product, "tu-choi", "reject", note="")
    assert response.status_code == 422
    assert "Hãy ghi lý do từ chối để hợp tác xã biết." in text(response)
    assert counts() == before

    response = decide(client, product, "tu-choi", "reject", note="Hàng không được phép bán.")
    assert response.status_code == 302
    assert fresh(Product, product.id).status == ProductStatus.REJECTED
    [mail] = emails("product_rejected")
    assert "không duyệt sản phẩm “Tương Bần”" in mail.body
    assert "Hàng không được phép bán." in mail.body
    page = text(client_for(world, world.owner_a).get(f"/quan-ly-htx/san-pham/{product.id}"))
    assert "Bị từ chối" in page and "Lý do: Hàng không được phép bán." in page


def test_emails_go_to_every_owner_or_else_the_cooperatives_address(world):
    product = product_of(
        world, world.coop_b, status=ProductStatus.SUBMITTED, ocop_certificate_no="X"
    )

    db.session.execute(
        Membership.__table__.delete().where(Membership.cooperative_id == world.coop_b.id)
    )
    world.coop_b.email = "lienhe@htx-b.example"
    db.session.commit()
    decide(client_for(world, world.staff), product, "duyet", "approve")
    assert [m.to_address for m in emails()] == ["lienhe@htx-b.example"]


# --------------------------------------------------------------------------- revision decisions


def test_approving_a_revision_makes_it_live(world):
    product, revision = live_with_revision(world, price_vnd=165000, name_vi="Mật ong Sóc Sơn")
    client = client_for(world, world.staff)
    response = decide(client, product, "ban-sua/duyet", "rev_approve")
    assert response.status_code == 302
    live = fresh(Product, product.id)
    assert (live.price_vnd, live.name_vi) == (165000, "Mật ong Sóc Sơn")
    assert fresh(ProductRevision, revision.id).status == RevisionStatus.APPROVED
    [mail] = emails("revision_approved")
    assert "Bản sửa của “Mật ong Sóc Sơn” đã được duyệt" in mail.subject
    assert "165.000 ₫" in text(client_for(world).get(f"/san-pham/{product.slug}"))
    assert [n.kind for n in notices(world)] == ["revision_approved"]


def test_revision_changes_requested_or_rejected_keep_the_live_version(world):
    product, revision = live_with_revision(world, price_vnd=1000)
    client = client_for(world, world.staff)
    response = decide(
        client, product, "ban-sua/yeu-cau-sua", "rev_changes", reasons=["price"], note=""
    )
    assert response.status_code == 302
    assert fresh(ProductRevision, revision.id).status == RevisionStatus.CHANGES_REQUESTED
    assert fresh(Product, product.id).price_vnd == 150000
    [mail] = emails("revision_changes_requested")
    assert "Cần xem lại: Giá." in mail.body and "Người mua vẫn thấy bản đang bán." in mail.body

    again = services.update_product(fresh(Product, product.id), world.owner_a, {"price_vnd": 2})
    db.session.commit()
    assert again.id != revision.id
    response = decide(client, product, "ban-sua/tu-choi", "rev_reject", note="Giá vô lý")
    assert response.status_code == 302
    assert fresh(ProductRevision, again.id).status == RevisionStatus.REJECTED
    assert fresh(Product, product.id).price_vnd == 150000
    assert [m.kind for m in emails()] == ["revision_changes_requested", "revision_rejected"]
    page = text(client_for(world, world.owner_a).get(f"/quan-ly-htx/san-pham/{product.id}"))
    assert "Lý do không duyệt: Giá vô lý" in page


def test_a_revision_of_another_product_is_404(world):
    product, revision = live_with_revision(world, price_vnd=160000)
    other, _other_revision = live_with_revision(world, price_vnd=170000)
    client = client_for(world, world.staff)
    raw = client.get(detail_url(other)).get_data(as_text=True)
    data = {**hidden_values(raw, "rev_approve"), "csrf_token": csrf_token(client, QUEUE)}
    before = counts()
    for revision_id in (str(revision.id), "999999", "99999999999999999999"):
        data["rev_approve-revision"] = revision_id
        response = client.post(f"{detail_url(other)}/ban-sua/duyet", data=data)
        assert response.status_code == 404, revision_id
    assert counts() == before
    response = client.post(
        f"{detail_url(other)}/ban-sua/duyet", data={"csrf_token": data["csrf_token"]}
    )
    assert response.status_code == 400


# --------------------------------------------------------------------------- conflicts


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_second_decision_is_a_409_that_writes_nothing(world, lang):
    product = submitted(world)
    first, second = client_for(world, world.staff), client_for(world, world.admin)
    raw = second.get(detail_url(product)).get_data(as_text=True)
    late = {
        **hidden_values(raw, "reject"),
        "reject-note": "Trễ",
        "csrf_token": csrf_token(second, QUEUE),
    }
    assert decide(first, product, "duyet", "approve").status_code == 302
    before = counts(), len(emails())
    response = second.post(f"{detail_url(product)}/tu-choi?lang={lang}", data=late)
    assert response.status_code == 409
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    if lang == "vi":
        page = text(response)
        assert "Sản phẩm này đã được xử lý" in page
        assert f"đã được xử lý bởi {world.staff.email}" in page and "Duyệt sản phẩm" in page
        assert "Đang bán" in page
    assert (counts(), len(emails())) == before
    assert fresh(Product, product.id).status == ProductStatus.PUBLISHED


def test_a_revision_decided_twice_is_a_409(world):
    product, revision = live_with_revision(world, price_vnd=160000)
    first, second = client_for(world, world.staff), client_for(world, world.admin)
    raw = second.get(detail_url(product)).get_data(as_text=True)
    late = {**hidden_values(raw, "rev_approve"), "csrf_token": csrf_token(second, QUEUE)}
    decide(first, product, "ban-sua/tu-choi", "rev_reject", note="Không rõ lý do tăng giá")
    before = counts()
    response = second.post(f"{detail_url(product)}/ban-sua/duyet", data=late)
    assert response.status_code == 409
    assert "đã được xử lý" in text(response) and "Từ chối bản sửa" in text(response)
    assert counts() == before
    assert fresh(Product, product.id).price_vnd == 150000


def test_deciding_on_what_changed_since_the_page_was_opened_is_a_409(world):
    product = submitted(world)
    client = client_for(world, world.staff)
    raw = client.get(detail_url(product)).get_data(as_text=True)
    stale = {**hidden_values(raw, "approve"), "csrf_token": csrf_token(client, QUEUE)}
    services.update_product(fresh(Product, product.id), world.owner_a, {"price_vnd": 99000})
    db.session.commit()
    response = client.post(f"{detail_url(product)}/duyet", data=stale)
    assert response.status_code == 409
    assert "Sản phẩm vừa được hợp tác xã sửa" in text(response)
    assert fresh(Product, product.id).status == ProductStatus.SUBMITTED

    # A new photo counts as a change too.
    raw = client.get(detail_url(product)).get_data(as_text=True)
    stale = {**hidden_values(raw, "approve"), "csrf_token": csrf_token(client, QUEUE)}
    services.add_photo(fresh(Product, product.id), world.owner_a, image(7))
    db.session.commit()
    assert client.post(f"{detail_url(product)}/duyet", data=stale).status_code == 409
    assert fresh(Product, product.id).status == ProductStatus.SUBMITTED

    live, revision = live_with_revision(world, price_vnd=160000)
    raw = client.get(detail_url(live)).get_data(as_text=True)
    stale = {**hidden_values(raw, "rev_approve"), "csrf_token": csrf_token(client, QUEUE)}
    services.update_product(fresh(Product, live.id), world.owner_a, {"price_vnd": 999000})
    db.session.commit()
    response = client.post(f"{detail_url(live)}/ban-sua/duyet", data=stale)
    assert response.status_code == 409
    assert fresh(ProductRevision, revision.id).status == RevisionStatus.PENDING
    assert fresh(Product, live.id).price_vnd == 150000


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner_a", "editor_a"])
def test_only_staff_reach_the_product_console(world, who):
    product = submitted(world)
    client = client_for(world, None if who == "anonymous" else getattr(world, who))
    token = csrf_token(client)
    before = counts()
    for method, url in [
        ("GET", QUEUE),
        ("GET", detail_url(product)),
        ("POST", f"{detail_url(product)}/duyet"),
        ("POST", f"{detail_url(product)}/tu-choi"),
        ("POST", f"{detail_url(product)}/ban-sua/duyet"),
    ]:
        response = client.open(url, method=method, data={"csrf_token": token})
        if who == "anonymous":
            assert response.status_code == 302
            assert "/tai-khoan/dang-nhap" in response.headers["Location"]
        else:
            assert response.status_code == 403, (method, url)
    assert counts() == before


@pytest.mark.parametrize("product_id", ["999999", "99999999999999999999"])
def test_unknown_product_is_404_for_staff(world, product_id):
    client = client_for(world, world.staff)
    assert client.get(f"{QUEUE}/{product_id}").status_code == 404
    response = client.post(
        f"{QUEUE}/{product_id}/duyet", data={"csrf_token": csrf_token(client, QUEUE)}
    )
    assert response.status_code == 404


def test_staff_can_open_any_product_in_any_state(world):
    for status in ProductStatus:
        product = product_of(world, name_vi=f"Trạng thái {status.value}", status=status)
        response = client_for(world, world.staff).get(detail_url(product))
        assert response.status_code == 200
        assert f"Trạng thái {status.value}" in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_queue_runs_as_many_statements_for_2_items_as_for_20(world, count_queries):
    client = client_for(world, world.staff)

    def measure():
        with count_queries() as counter:
            assert client.get(QUEUE).status_code == 200
        return counter.count

    submitted(world)
    live_with_revision(world, price_vnd=1)
    small = measure()
    for n in range(9):
        submitted(world, name_vi=f"Chờ {n}", coop=world.coop_b if n % 2 else None)
        live_with_revision(world, price_vnd=n + 2)
    assert measure() == small
