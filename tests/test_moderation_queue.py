"""The staff's single queue (/quan-tri/hang-cho): every kind of waiting item, oldest first,
filters, the count in the console nav, and approving several products and revisions at once.

Times are set relative to the pinned day (SHOP_TODAY = 26/11/2026), so "n days" is stable.
"""

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from shop.audit.models import AuditEntry
from shop.catalog import services
from shop.catalog.decisions import product_version, product_versions, revision_version
from shop.catalog.models import Product, ProductLink, ProductRevision, ProductStatus, RevisionStatus
from shop.cooperatives.models import CooperativeStatus, Sector
from shop.extensions import db
from shop.moderation.models import ModerationCase, ProductReport, ReportReason
from shop.moderation.queue import QueueFilters, days_waiting
from shop.notify.models import Notification, OutboxEmail
from tests.factories import create_cooperative
from tests.helpers import csrf_token
from tests.test_access_matrix import fingerprint
from tests.test_product_dashboard import client_for, fresh, product_of, text, world
from tests.test_product_staff import image

__all__ = ["world"]  # the fixture, shared with the dashboard tests

QUEUE = "/quan-tri/hang-cho"
APPROVE = f"{QUEUE}/duyet"
#: Noon in Vietnam on the pinned day.
NOON = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


def days_ago(n: int, hours: int = 0) -> datetime:
    return NOON - timedelta(days=n, hours=hours)


def submitted(world, name, days, coop=None, **values) -> Product:
    """A product sent for review `days` ago (its product.submitted audit entry says so)."""
    product = product_of(world, coop, name_vi=name, status=ProductStatus.SUBMITTED, **values)
    db.session.add(
        AuditEntry(
            actor_id=world.owner_a.id,
            action="product.submitted",
            target_type="product",
            target_id=product.id,
            created_at=days_ago(days),
        )
    )
    db.session.commit()
    return product


def revised(world, name, days, coop=None, **changes):
    """A live product with a pending revision made `days` ago."""
    product = product_of(world, coop, name_vi=name, price_vnd=150000)
    owner = world.owner_b if coop is world.coop_b else world.owner_a
    revision = services.update_product(product, owner, changes or {"price_vnd": 160000})
    db.session.execute(
        update(ProductRevision)
        .where(ProductRevision.id == revision.id)
        .values(created_at=days_ago(days))
    )
    db.session.commit()
    return product, revision


def reported(world, name, days, reports=2) -> ModerationCase:
    """A live product with an open case of `reports` buyers' reports, opened `days` ago."""
    product = product_of(world, name_vi=name)
    case = ModerationCase(product_id=product.id, report_count=reports, created_at=days_ago(days))
    db.session.add(case)
    db.session.flush()
    for n in range(reports):
        db.session.add(
            ProductReport(
                case_id=case.id,
                product_id=product.id,
                reason=ReportReason.WRONG_INFO,
                details=f"Báo cáo số {n + 1}",
            )
        )
    db.session.commit()
    return case


def pending_cooperative(name, days, **values):
    coop = create_cooperative(name=name, status=CooperativeStatus.PENDING, **values)
    coop.created_at = days_ago(days)
    db.session.commit()
    return coop


def row_values(raw: str) -> dict[str, str]:
    """Checkbox values of the queue page, by the name the row shows."""
    found = {}
    for block in re.findall(r'<li class="row-item queue-row.*?</li>', raw, re.S):
        title = re.search(r'<h2 class="card-title"><a [^>]*>(.*?)</a>', block).group(1)
        value = re.search(r'name="item" value="([^"]+)"', block)
        if value:
            found[html.unescape(title)] = value.group(1)
    return found


def titles(response) -> list[str]:
    raw = response.get_data(as_text=True)
    return [html.unescape(t) for t in re.findall(r'<h2 class="card-title"><a [^>]*>(.*?)</a>', raw)]


def approve(client, values, *, form_url=QUEUE, **extra):
    data = {"item": values, "csrf_token": csrf_token(client, form_url), **extra}
    return client.post(APPROVE, data=data)


def emails(kind=None):
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(stmt))


def audit_actions(product) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "product", AuditEntry.target_id == product.id)
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def mixed(world):
    """One waiting item of each kind, interleaved in age, and things that do not wait."""
    other_sector = db.session.scalar(select(Sector).order_by(Sector.id.desc()))
    items = {
        "coop": pending_cooperative("HTX Mới Đăng Ký Yên Phong", 40, sector=other_sector),
        "product": submitted(world, "Tương Bần", 10),
        "case": reported(world, "Bánh phu thê Đình Bảng", 5),
        "revision": revised(world, "Mật ong rừng", 2)[1],
        "fresh": submitted(world, "Nem Bùi", 0, coop=world.coop_b),
    }
    product_of(world, name_vi="Bản nháp không hiện", status=ProductStatus.DRAFT)
    product_of(world, name_vi="Đang bán không chờ")
    create_cooperative(name="HTX Cần bổ sung", status=CooperativeStatus.NEEDS_INFO)
    db.session.commit()
    return items


# --------------------------------------------------------------------------- rules


def test_product_versions_agree_with_the_product_page(world):
    plain = submitted(world, "Gạo nếp cái hoa vàng", 1)
    pictured = submitted(world, "Tương Bần", 1, certifications=["vietgap", "haccp"])
    services._write_photo_rows(
        pictured, [services.Photo(image(1).id, "Hũ tương"), services.Photo(image(2).id)]
    )
    db.session.add(
        ProductLink(product_id=pictured.id, position=0, label="Sàn", url="https://a.example")
    )
    live, revision = revised(world, "Mật ong rừng", 1)
    db.session.commit()
    products = [fresh(Product, p.id) for p in (plain, pictured, live)]
    assert product_versions(products) == {p.id: product_version(p) for p in products}
    assert revision_version(revision) == revision_version(fresh(ProductRevision, revision.id))


def test_the_age_filter_counts_whole_days_before_today(world):
    with world.app.test_request_context():
        assert days_waiting(days_ago(0)) == 0
        assert days_waiting(days_ago(3)) == 3
        assert days_waiting(NOON + timedelta(days=1)) == 0  # clocks ahead of the pinned day
        before = QueueFilters(age=3).before()
        # Waiting since 23/11 (3 days) is not "more than 3 days"; since 22/11 is.
        assert days_ago(3, hours=-10) >= before > days_ago(4, hours=-11)
        assert before == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- the page


def test_queue_lists_every_kind_oldest_first(world, mixed):
    client = client_for(world, world.staff)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert titles(response) == [
        "HTX Mới Đăng Ký Yên Phong",
        "Tương Bần",
        "Bánh phu thê Đình Bảng",
        "Mật ong rừng",
        "Nem Bùi",
    ]
    page = text(response)
    assert "5 mục đang chờ" in page
    assert "Tất cả (5) Sản phẩm mới (2) Bản sửa (1) Báo cáo (1) HTX chờ xác minh (1)" in page
    assert "HTX chờ xác minh" in page and "Chờ từ 17/10/2026 · 40 ngày" in page
    assert "Sản phẩm mới" in page and "Tương Bần HTX Thế giới A" in page
    assert "Chờ từ 16/11/2026 · 10 ngày" in page
    assert "2 báo cáo của người mua" in page and "Chờ từ 21/11/2026 · 5 ngày" in page
    assert "Chờ từ 26/11/2026 · dưới 1 ngày" in page
    for hidden in ("Bản nháp không hiện", "Đang bán không chờ", "HTX Cần bổ sung"):
        assert hidden not in page

    raw = html.unescape(response.get_data(as_text=True))
    product, case, coop = mixed["product"], mixed["case"], mixed["coop"]
    revision = mixed["revision"]
    assert f'href="/quan-tri/san-pham/{product.id}?tu=/quan-tri/hang-cho"' in raw
    assert (
        f'href="/quan-tri/san-pham/{revision.product_id}?tu=/quan-tri/hang-cho#revision-title"'
        in raw
    )
    assert f'href="/quan-tri/bao-cao-san-pham/{case.id}"' in raw
    assert f'href="/quan-tri/htx/{coop.id}"' in raw
    # Products and revisions can be approved from here; cases and cooperatives are decided
    # on their own pages.
    assert set(row_values(raw)) == {"Tương Bần", "Mật ong rừng", "Nem Bùi"}
    version = product_version(fresh(Product, product.id))
    assert row_values(raw)["Tương Bần"] == f"product:{product.id}:{version}"
    assert row_values(raw)["Mật ong rừng"] == f"revision:{revision.id}:{revision_version(revision)}"


def test_queue_in_english(world, mixed):
    page = text(client_for(world, world.staff).get(f"{QUEUE}?lang=en"))
    assert "All (5) New products (2) Revisions (1) Reports (1) Cooperatives to verify (1)" in page
    assert "5 items waiting" in page and "Waiting since 17/10/2026 · 40 days" in page
    assert "under a day" in page and "2 buyer reports" in page
    assert "Approve the selected items" in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("loai=san-pham", ["Tương Bần", "Nem Bùi"]),
        ("loai=ban-sua", ["Mật ong rừng"]),
        ("loai=bao-cao", ["Bánh phu thê Đình Bảng"]),
        ("loai=htx", ["HTX Mới Đăng Ký Yên Phong"]),
        ("htx=htx-the-gioi-b", ["Nem Bùi"]),
        ("cho_qua=3", ["HTX Mới Đăng Ký Yên Phong", "Tương Bần", "Bánh phu thê Đình Bảng"]),
        ("cho_qua=7", ["HTX Mới Đăng Ký Yên Phong", "Tương Bần"]),
        ("cho_qua=30", ["HTX Mới Đăng Ký Yên Phong"]),
        ("loai=san-pham&cho_qua=7", ["Tương Bần"]),
        ("loai=san-pham&htx=htx-the-gioi-a", ["Tương Bần"]),
    ],
)
def test_each_filter(world, mixed, query, expected):
    response = client_for(world, world.staff).get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    assert titles(response) == expected
    assert f"{len(expected)} mục đang chờ · theo bộ lọc" in text(response)


def test_sector_filter_and_counts_under_the_other_filters(world, mixed):
    client = client_for(world, world.staff)
    sector = db.session.get(Sector, mixed["coop"].sector_id)
    response = client.get(f"{QUEUE}?linh_vuc={sector.slug}")
    assert titles(response) == ["HTX Mới Đăng Ký Yên Phong"]
    # The tabs count what the other filters let through, and keep those filters.
    response = client.get(f"{QUEUE}?cho_qua=7&loai=bao-cao")
    page = text(response)
    assert "Tất cả (2) Sản phẩm mới (1) Bản sửa (0) Báo cáo (0) HTX chờ xác minh (1)" in page
    raw = html.unescape(response.get_data(as_text=True))
    assert f'href="{QUEUE}?loai=san-pham&cho_qua=7"' in raw
    assert f'href="{QUEUE}?cho_qua=7" aria-current' not in raw
    assert 'href="/quan-tri/hang-cho?loai=bao-cao&cho_qua=7" aria-current="page"' in raw
    assert "Không có mục nào khớp bộ lọc." in page
    # The cooperative list offers those with something waiting, with their numbers.
    assert "HTX Mới Đăng Ký Yên Phong (1) HTX Thế giới A (3) HTX Thế giới B (1)" in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("loai=tat-ca", "Loại mục không hợp lệ, bộ lọc này đã được bỏ qua."),
        ("loai=%00", "Loại mục không hợp lệ"),
        ("linh_vuc=khong-co", "Lĩnh vực không có trong danh sách, bộ lọc này đã được bỏ qua."),
        ("linh_vuc=%00%27;drop", "Lĩnh vực không có trong danh sách"),
        ("htx=khong-co-htx-nay", "Không tìm thấy hợp tác xã này, bộ lọc này đã được bỏ qua."),
        ("htx=" + "a" * 400, "Không tìm thấy hợp tác xã này"),
        ("cho_qua=5", "Thời gian chờ chỉ chọn được 3, 7 hoặc 30 ngày"),
        ("cho_qua=-3", "Thời gian chờ chỉ chọn được 3, 7 hoặc 30 ngày"),
        ("cho_qua=٣", "Thời gian chờ chỉ chọn được 3, 7 hoặc 30 ngày"),
    ],
)
def test_invalid_filters_are_ignored_with_a_notice(world, mixed, query, message):
    response = client_for(world, world.staff).get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert len(titles(response)) == 5  # the bad filter is ignored, not applied
    assert "Xóa bộ lọc" in page


def test_invalid_filter_notice_in_english(world, mixed):
    page = text(client_for(world, world.staff).get(f"{QUEUE}?cho_qua=5&lang=en"))
    assert "The waiting time can only be 3, 7 or 30 days; this filter was ignored." in page


@pytest.mark.parametrize("page", ["0", "abc", "99"])
def test_a_page_that_does_not_exist_is_404(world, mixed, page):
    assert client_for(world, world.staff).get(f"{QUEUE}?page={page}").status_code == 404


def test_the_queue_is_paginated_50_at_a_time(world):
    for n in range(52):
        product_of(world, name_vi=f"Chờ số {n:02d}", status=ProductStatus.SUBMITTED)
    client = client_for(world, world.staff)
    first = client.get(QUEUE)
    assert len(titles(first)) == 50 and "52 mục đang chờ" in text(first)
    assert "Trang 1 / 2" in text(first)
    second = client.get(f"{QUEUE}?page=2")
    assert len(titles(second)) == 2


def test_empty_queue(world):
    page = text(client_for(world, world.staff).get(QUEUE))
    assert "Không có mục nào đang chờ. Mọi việc đã được xử lý." in page
    assert "Duyệt các mục đã chọn" not in page


# --------------------------------------------------------------------------- the nav and home


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("path", ["/quan-tri/", "/quan-tri/nhat-ky", "/quan-tri/htx", QUEUE])
def test_the_console_nav_counts_what_waits(world, mixed, lang, path):
    raw = client_for(world, world.staff).get(f"{path}?lang={lang}").get_data(as_text=True)
    label = "Hàng chờ, 5 mục đang chờ" if lang == "vi" else "Queue, 5 items waiting"
    link = re.search(r'<a href="/quan-tri/hang-cho" aria-label="([^"]+)"[^>]*>(.*?)</a>', raw)
    assert link, "no queue link with a count in the nav"
    assert html.unescape(link.group(1)) == label
    assert re.sub(r"<[^>]+>", "", link.group(2)).split() == [
        *("Hàng chờ" if lang == "vi" else "Queue").split(),
        "5",
    ]


def test_the_nav_count_is_one_statement(world, mixed, count_queries):
    client = client_for(world, world.staff)
    client.get("/quan-tri/nhat-ky")
    with count_queries() as counter:
        client.get("/quan-tri/nhat-ky")
    waiting = [s for s in counter.statements if "moderation_case" in s]
    assert len(waiting) == 1


def test_no_badge_when_nothing_waits(world):
    raw = client_for(world, world.staff).get("/quan-tri/").get_data(as_text=True)
    assert '<a href="/quan-tri/hang-cho">Hàng chờ</a>' in raw
    assert "nav-count" not in raw


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_console_home_points_to_the_queue(world, mixed, lang):
    response = client_for(world, world.staff).get(f"/quan-tri/?lang={lang}")
    page = text(response)
    raw = html.unescape(response.get_data(as_text=True))
    if lang == "vi":
        assert "Mở hàng chờ, cũ nhất trước (5)" in page
        assert "Sản phẩm mới (2) Bản sửa (1) Báo cáo (1) HTX chờ xác minh (1)" in page
    else:
        assert "Open the queue, oldest first (5)" in page
        assert "New products (2) Revisions (1) Reports (1) Cooperatives to verify (1)" in page
    for arg in ("san-pham", "ban-sua", "bao-cao", "htx"):
        assert f'href="{QUEUE}?loai={arg}"' in raw


# --------------------------------------------------------------------------- bulk approve


def test_bulk_approve_publishes_notifies_emails_and_records(world, mixed):
    client = client_for(world, world.staff)
    values = row_values(client.get(f"{QUEUE}?loai=san-pham").get_data(as_text=True))
    revision_value = row_values(client.get(QUEUE).get_data(as_text=True))["Mật ong rừng"]
    response = approve(
        client, [values["Tương Bần"], values["Nem Bùi"], revision_value], loai="san-pham"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{QUEUE}?loai=san-pham"
    after = client.get(response.headers["Location"])
    assert "Đã duyệt 3 mục." in text(after)
    assert titles(after) == []  # no product waits any more

    product, nem = (
        mixed["product"],
        db.session.scalar(select(Product).where(Product.name_vi == "Nem Bùi")),
    )
    assert fresh(Product, product.id).status == ProductStatus.PUBLISHED
    assert fresh(Product, nem.id).status == ProductStatus.PUBLISHED
    revision = fresh(ProductRevision, mixed["revision"].id)
    assert revision.status == RevisionStatus.APPROVED and revision.decided_by_id == world.staff.id
    assert fresh(Product, revision.product_id).price_vnd == 160000
    assert audit_actions(product)[-1] == "product.approved"
    assert audit_actions(nem)[-1] == "product.approved"
    assert audit_actions(fresh(Product, revision.product_id))[-1] == "product.revision_approved"
    actors = db.session.scalars(
        select(AuditEntry.actor_id).where(
            AuditEntry.action.in_(["product.approved", "product.revision_approved"])
        )
    ).all()
    assert actors == [world.staff.id] * 3
    kinds = sorted((n.cooperative_id, n.kind) for n in db.session.scalars(select(Notification)))
    assert kinds == sorted(
        [
            (world.coop_a.id, "product_approved"),
            (world.coop_b.id, "product_approved"),
            (world.coop_a.id, "revision_approved"),
        ]
    )
    assert sorted((m.to_address, m.kind) for m in emails()) == [
        ("chu-a@example.com", "product_approved"),
        ("chu-a@example.com", "revision_approved"),
        ("chu-b@example.com", "product_approved"),
    ]
    assert "“Tương Bần” đã được duyệt" in emails("product_approved")[0].subject
    # The count in the nav went from 5 to 2.
    assert 'aria-label="Hàng chờ, 2 mục đang chờ"' in after.get_data(as_text=True)


def test_one_rows_approve_button_decides_that_row_only(world, mixed):
    client = client_for(world, world.staff)
    values = row_values(client.get(QUEUE).get_data(as_text=True))
    data = {
        "item": [values["Tương Bần"], values["Nem Bùi"]],
        "only": values["Nem Bùi"],
        "csrf_token": csrf_token(client, QUEUE),
    }
    response = client.post(APPROVE, data=data)
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    assert fresh(Product, mixed["product"].id).status == ProductStatus.SUBMITTED
    nem = db.session.scalar(select(Product).where(Product.name_vi == "Nem Bùi"))
    assert nem.status == ProductStatus.PUBLISHED
    assert "Đã duyệt 1 mục." in text(client.get(QUEUE))


def test_bulk_skips_what_changed_or_was_decided_since_the_page_was_drawn(world, mixed):
    staff = client_for(world, world.staff)
    stale_revision_product, stale_revision = revised(world, "Mật ong bạc hà", 1)
    values = row_values(staff.get(QUEUE).get_data(as_text=True))

    # After the page was drawn: the cooperative edits one product, another staff member
    # approves a second one, and a revision is edited again.
    services.update_product(
        fresh(Product, mixed["product"].id), world.owner_a, {"price_vnd": 99000}
    )
    nem = db.session.scalar(select(Product).where(Product.name_vi == "Nem Bùi"))
    services.approve(nem, world.admin)
    services.update_product(
        fresh(Product, stale_revision_product.id), world.owner_a, {"price_vnd": 170000}
    )
    db.session.commit()
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))

    response = approve(
        staff,
        [values[name] for name in ("Tương Bần", "Nem Bùi", "Mật ong bạc hà", "Mật ong rừng")],
    )
    assert response.status_code == 302
    page = text(staff.get(QUEUE))
    assert (
        "Đã duyệt 1 mục; 3 mục đã được người khác xử lý hoặc vừa thay đổi nên chưa duyệt: "
        "Tương Bần, Nem Bùi, bản sửa của “Mật ong bạc hà”." in page
    )
    assert fresh(Product, mixed["product"].id).status == ProductStatus.SUBMITTED
    assert fresh(ProductRevision, stale_revision.id).status == RevisionStatus.PENDING
    assert fresh(ProductRevision, mixed["revision"].id).status == RevisionStatus.APPROVED
    # Only the one approval was recorded; Nem Bùi keeps the admin's single decision.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before + 1
    assert audit_actions(nem).count("product.approved") == 1
    assert [m.kind for m in emails()] == ["revision_approved"]


def test_bulk_result_in_english(world, mixed):
    client = client_for(world, world.staff)
    values = row_values(client.get(f"{QUEUE}?lang=en").get_data(as_text=True))
    services.approve(fresh(Product, mixed["product"].id), world.admin)
    db.session.commit()
    approve(client, [values["Tương Bần"], values["Nem Bùi"]])
    page = text(client.get(QUEUE))
    assert (
        "Approved 1 item; 1 item was handled by someone else or has just changed, "
        "so it was not approved: Tương Bần." in page
    )


def test_an_empty_selection_writes_nothing(world, mixed):
    client = client_for(world, world.staff)
    token = csrf_token(client, QUEUE)
    before = fingerprint()
    response = client.post(APPROVE, data={"csrf_token": token, "loai": "san-pham", "cho_qua": "7"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{QUEUE}?loai=san-pham&cho_qua=7"
    assert fingerprint() == before
    page = text(client.get(response.headers["Location"]))
    assert "Chưa chọn mục nào. Hãy đánh dấu các sản phẩm hoặc bản sửa cần duyệt." in page


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v, ids: v.replace("product:", "cooperative:"),
        lambda v, ids: v + "0",
        lambda v, ids: v.upper(),
        lambda v, ids: "product:999999:" + v.rsplit(":", 1)[1],
        lambda v, ids: "product:0:" + v.rsplit(":", 1)[1],
        lambda v, ids: "product:9999999999:" + v.rsplit(":", 1)[1],
        lambda v, ids: f"revision:{ids['revision']}:" + v.rsplit(":", 1)[1].replace("a", "b"),
        lambda v, ids: f"product:{ids['case']}\x00:" + v.rsplit(":", 1)[1],
        lambda v, ids: "",
    ],
    ids=[
        "kind",
        "long digest",
        "upper case",
        "unknown id",
        "zero",
        "huge id",
        "id mismatch is a stale digest",
        "nul",
        "empty value",
    ],
)
def test_tampered_values_are_refused_and_write_nothing(world, mixed, tamper):
    client = client_for(world, world.staff)
    values = row_values(client.get(QUEUE).get_data(as_text=True))
    good = values["Nem Bùi"]
    bad = tamper(values["Tương Bần"], {"revision": mixed["revision"].id, "case": mixed["case"].id})
    token = csrf_token(client, QUEUE)
    before = fingerprint()
    response = client.post(APPROVE, data={"item": [good, bad], "csrf_token": token})
    if bad.startswith("revision:"):
        # Well formed: a revision whose digest does not match is skipped like a stale one.
        assert response.status_code == 302
        assert fresh(ProductRevision, mixed["revision"].id).status == RevisionStatus.PENDING
        return
    assert response.status_code == 400
    assert fingerprint() == before


def test_more_than_100_items_are_refused(world, mixed):
    client = client_for(world, world.staff)
    value = row_values(client.get(QUEUE).get_data(as_text=True))["Nem Bùi"]
    token = csrf_token(client, QUEUE)
    before = fingerprint()
    response = client.post(
        APPROVE, data={"item": [value] * 101, "csrf_token": token, "loai": "san-pham"}
    )
    assert response.status_code == 400
    page = text(response)
    assert "Mỗi lần duyệt được tối đa 100 mục, bạn đã chọn 101. Không mục nào được duyệt" in page
    assert f'href="{QUEUE}?loai=san-pham"' in response.get_data(as_text=True)
    assert fingerprint() == before
    # 100 is fine (the same item a hundred times counts once).
    response = client.post(APPROVE, data={"item": [value] * 100, "csrf_token": token})
    assert response.status_code == 302
    assert "Đã duyệt 1 mục." in text(client.get(QUEUE))


def test_the_form_needs_its_csrf_token(world, mixed):
    client = client_for(world, world.staff)
    value = row_values(client.get(QUEUE).get_data(as_text=True))["Nem Bùi"]
    before = fingerprint()
    assert client.post(APPROVE, data={"item": [value]}).status_code == 400
    assert fingerprint() == before


# --------------------------------------------------------------------------- the product page


def test_a_decision_on_the_product_page_returns_to_the_filtered_queue(world, mixed):
    client = client_for(world, world.staff)
    raw = html.unescape(client.get(f"{QUEUE}?loai=san-pham&cho_qua=3").get_data(as_text=True))
    link = re.search(r'href="(/quan-tri/san-pham/\d+\?tu=[^"#]+)"', raw).group(1)
    assert parse_qs(urlsplit(link).query)["tu"] == ["/quan-tri/hang-cho?loai=san-pham&cho_qua=3"]
    detail = client.get(link).get_data(as_text=True)
    action = html.unescape(
        re.search(r'<form method="post" action="([^"]+/duyet[^"]*)"', detail).group(1)
    )
    seen = re.search(r'name="approve-seen" value="([^"]+)"', detail).group(1)
    response = client.post(
        action, data={"approve-seen": seen, "csrf_token": csrf_token(client, link)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{QUEUE}?loai=san-pham&cho_qua=3"
    assert "Đã duyệt “Tương Bần”." in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    "tu", ["https://evil.example/quan-tri/hang-cho", "//evil.example", "/quan-tri/htx", "/"]
)
def test_only_the_queue_is_a_place_to_return_to(world, tu):
    product = submitted(world, "Tương Bần", 1)
    client = client_for(world, world.staff)
    url = f"/quan-tri/san-pham/{product.id}"
    detail = client.get(url, query_string={"tu": tu}).get_data(as_text=True)
    seen = re.search(r'name="approve-seen" value="([^"]+)"', detail).group(1)
    response = client.post(
        f"{url}/duyet",
        query_string={"tu": tu},
        data={"approve-seen": seen, "csrf_token": csrf_token(client, url)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/quan-tri/san-pham"


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner_a"])
def test_only_staff_reach_the_queue(world, mixed, who):
    staff = client_for(world, world.staff)
    value = row_values(staff.get(QUEUE).get_data(as_text=True))["Nem Bùi"]
    client = client_for(world, None if who == "anonymous" else getattr(world, who))
    token = csrf_token(client)
    before = fingerprint()
    for method, url, data in [
        ("GET", QUEUE, None),
        ("GET", f"{QUEUE}?loai=san-pham", None),
        ("POST", APPROVE, {"item": [value], "csrf_token": token}),
    ]:
        response = client.open(url, method=method, data=data)
        if who == "anonymous":
            assert response.status_code == 302
            assert "/tai-khoan/dang-nhap" in response.headers["Location"]
        else:
            assert response.status_code == 403, (method, url)
    assert fingerprint() == before
    nem = db.session.scalar(select(Product).where(Product.name_vi == "Nem Bùi"))
    assert nem.status == ProductStatus.SUBMITTED


def test_admins_use_the_queue_too(world, mixed):
    client = client_for(world, world.admin)
    assert client.get(QUEUE).status_code == 200


# --------------------------------------------------------------------------- statements


def test_the_queue_runs_as_many_statements_for_5_items_as_for_45(world, count_queries):
    client = client_for(world, world.staff)

    def grow(n: int, start: int):
        for i in range(start, start + n):
            coop = world.coop_b if i % 2 else world.coop_a
            # Older than 3 days, so every kind is on every measured page at both sizes.
            product = submitted(world, f"Chờ {i}", 4 + i % 20, coop=coop)
            services._write_photo_rows(product, [services.Photo(image(100 + i).id)])
            revised(world, f"Sửa {i}", 5 + i % 15, coop=coop)
            reported(world, f"Báo cáo {i}", 6 + i % 9, reports=1 + i % 3)
            pending_cooperative(f"HTX Chờ {i}", 7 + i % 40)
        db.session.commit()

    def measure(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    urls = [QUEUE, f"{QUEUE}?loai=san-pham", f"{QUEUE}?htx=htx-the-gioi-a&cho_qua=3"]
    grow(2, 0)
    small = {url: measure(url) for url in urls}
    grow(10, 2)
    assert {url: measure(url) for url in urls} == small


def test_bulk_approve_statements_do_not_grow_with_the_queue(world, count_queries):
    """Approving two items costs the same whether 2 or 40 items wait."""
    client = client_for(world, world.staff)

    def measure():
        values = list(
            row_values(client.get(f"{QUEUE}?loai=san-pham").get_data(as_text=True)).values()
        )
        token = csrf_token(client, QUEUE)
        with count_queries() as counter:
            assert approve_with(token, values[:2]).status_code == 302
        return counter.count

    def approve_with(token, values):
        return client.post(APPROVE, data={"item": values, "csrf_token": token})

    for n in range(2):
        submitted(world, f"Đợt một {n}", 3)
    small = measure()
    for n in range(40):
        submitted(world, f"Đợt hai {n}", 3, coop=world.coop_b if n % 2 else None)
    assert measure() == small
