"""Booth applications: a cooperative applies for a booth; staff accept, waitlist or decline.

The day is pinned (TestConfig.SHOP_TODAY = 26/11/2026); the test programme takes applications
until 28/02/2027. Each refused request is checked for its message, its status and that it
wrote nothing.
"""

import html
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.notify.models import Notification, OutboxEmail
from shop.programmes import applications as service
from shop.programmes.models import (
    ApplicationStatus,
    Booth,
    BoothApplication,
    BoothProduct,
    Programme,
    ProgrammeStatus,
)
from shop.programmes.rules import ProgrammeError
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import csrf_token, post_form, sign_in
from tests.test_cooperative_support import body, emails, fresh, get, text

DEADLINE = date(2027, 2, 28)
ZONES = ["Nông sản", "Làng nghề"]


@pytest.fixture
def fair(client):
    """An open programme; cooperatives A (4 products on sale, 1 draft) and B (3 on sale)."""
    programme = create_programme(
        title_vi="Phiên chợ thử nghiệm Xuân 2027",
        title_en="Test Spring Market 2027",
        status=ProgrammeStatus.OPEN,
        registration_deadline=DEADLINE,
        zones=ZONES,
    )
    coop_a = create_cooperative(name="HTX Đăng ký A", slug="htx-dang-ky-a")
    coop_b = create_cooperative(name="HTX Đăng ký B", slug="htx-dang-ky-b")
    products_a = [create_product(coop_a, name_vi=f"Gạo nếp cái hoa vàng {n}") for n in range(4)]
    draft_a = create_product(coop_a, name_vi="Bản nháp A", status=ProductStatus.DRAFT)
    products_b = [create_product(coop_b, name_vi=f"Mật ong B {n}") for n in range(3)]
    world = SimpleNamespace(
        programme=programme,
        coop_a=coop_a,
        coop_b=coop_b,
        products_a=products_a,
        draft_a=draft_a,
        products_b=products_b,
        owner_a=create_user(cooperative=coop_a, email="chu-dang-ky-a@example.com"),
        owner_b=create_user(cooperative=coop_b, email="chu-dang-ky-b@example.com"),
        staff=create_user(Role.STAFF, email="can-bo-gian-hang@example.com"),
        staff2=create_user(Role.STAFF, email="can-bo-gian-hang-2@example.com"),
        buyer=create_user(Role.BUYER, email="nguoi-mua-gian-hang@example.com"),
    )
    db.session.commit()
    return world


def apply_url(programme) -> str:
    return f"/quan-ly-htx/chuong-trinh/{programme.slug}/dang-ky"


def member_url(application) -> str:
    return f"/quan-ly-htx/chuong-trinh/don/{application.id}"


def staff_url(application) -> str:
    return f"/quan-tri/dang-ky-gian-hang/{application.id}"


def application_count() -> int:
    return db.session.scalar(select(func.count()).select_from(BoothApplication))


def written() -> dict:
    """Rows that any application write touches, to show a refusal wrote nothing."""
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (BoothApplication, Booth, BoothProduct, AuditEntry, Notification, OutboxEmail)
    }


def form_of(products, zone="", note="") -> dict:
    return {
        "products": [str(p.id) for p in products],
        "preferred_zone": zone,
        "note": note,
    }


def submit(client, fair, products, zone="", note="", lang="vi"):
    url = apply_url(fair.programme)
    return post_form(client, f"{url}?lang={lang}", form_of(products, zone, note), form_url=url)


def applied(fair, products=None, zone="Nông sản", cooperative=None, actor=None):
    """An application made through the service, committed."""
    cooperative = cooperative or fair.coop_a
    application = service.apply(
        fair.programme,
        cooperative,
        products if products is not None else fair.products_a,
        zone,
        "Cần chỗ gần ổ điện.",
        actor or fair.owner_a,
    )
    db.session.commit()
    return application


# --------------------------------------------------------------------------- rules


def test_apply_writes_a_pending_application_and_its_audit(demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3], zone="Làng nghề")
    row = fresh(BoothApplication, application.id)
    assert row.status == ApplicationStatus.PENDING
    assert row.product_ids == [p.id for p in fair.products_a[:3]]
    assert row.preferred_zone == "Làng nghề"
    assert row.submitted_by_id == fair.owner_a.id
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.target_type == "booth_application", AuditEntry.target_id == application.id
        )
    ).all()
    assert actions == ["application.submitted"]


def _refusal(demo_db, fair, change, products=None, zone=None, note="", cooperative=None):
    """Apply after `change(fair)`; return the ProgrammeError, checking nothing was written."""
    with demo_db.test_request_context():
        change(fair)
        db.session.commit()
        before = written()
        with pytest.raises(ProgrammeError) as refused:
            service.apply(
                fair.programme,
                cooperative or fair.coop_a,
                products if products is not None else fair.products_a[:3],
                zone,
                note,
                fair.owner_a,
            )
        db.session.rollback()
        assert written() == before
    return refused.value


def _set(obj, **values):
    def change(_fair):
        for key, value in values.items():
            setattr(obj(_fair), key, value)

    return change


def nothing(_fair):
    return None


@pytest.mark.parametrize(
    "change, message, status",
    [
        (
            _set(lambda f: f.programme, registration_deadline=date(2026, 11, 25)),
            "Đã hết hạn đăng ký gian hàng (25/11/2026).",
            409,
        ),
        (
            # Without a deadline, the first day of the programme is the last day to apply.
            _set(
                lambda f: f.programme,
                registration_deadline=None,
                start_date=date(2026, 11, 25),
            ),
            "Đã hết hạn đăng ký gian hàng (25/11/2026).",
            409,
        ),
        (
            _set(lambda f: f.programme, status=ProgrammeStatus.PUBLISHED),
            "Chương trình này không nhận đăng ký gian hàng.",
            409,
        ),
        (
            _set(lambda f: f.programme, status=ProgrammeStatus.DRAFT),
            "Chương trình này không nhận đăng ký gian hàng.",
            409,
        ),
        (
            _set(lambda f: f.programme, status=ProgrammeStatus.CLOSED),
            "Chương trình này không nhận đăng ký gian hàng.",
            409,
        ),
        (
            _set(lambda f: f.coop_a, status=CooperativeStatus.PENDING),
            "HTX Đăng ký A chưa được Liên minh xác minh nên chưa thể có gian hàng.",
            400,
        ),
        (
            _set(lambda f: f.coop_a, status=CooperativeStatus.SUSPENDED),
            "HTX Đăng ký A đang bị tạm ngưng nên không thể có gian hàng.",
            400,
        ),
    ],
    ids=[
        "after-deadline",
        "after-start-without-deadline",
        "published",
        "draft",
        "closed",
        "unverified",
        "suspended",
    ],
)
def test_apply_refuses_when_the_programme_or_cooperative_cannot(
    demo_db, fair, change, message, status
):
    refusal = _refusal(demo_db, fair, change)
    assert str(refusal.message) == message
    assert refusal.status == status


def test_apply_on_the_deadline_day_is_accepted(demo_db, fair):
    with demo_db.test_request_context():
        fair.programme.registration_deadline = date(2026, 11, 26)
        db.session.commit()
        assert applied(fair, fair.products_a[:3]).status == ApplicationStatus.PENDING


@pytest.mark.parametrize(
    "pick, message",
    [
        (lambda f: f.products_a[:2] + f.products_b[:1], "“Mật ong B 0” không phải sản phẩm của"),
        (lambda f: f.products_a[:3] + [f.draft_a], "“Bản nháp A” không đang bán trên Chợ HTX"),
        (lambda f: f.products_a[:2], "Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu."),
        (lambda f: [], "Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu."),
        (lambda f: f.products_a[:2] + f.products_a[:1], "Mỗi sản phẩm chỉ được chọn một lần."),
    ],
    ids=["other-cooperative", "unpublished", "two", "none", "repeated"],
)
def test_apply_refuses_products_that_cannot_be_shown(demo_db, fair, pick, message):
    refusal = _refusal(demo_db, fair, nothing, products=pick(fair))
    assert message in str(refusal.message)
    assert refusal.status in (400, 422)


def test_apply_refuses_eleven_products(demo_db, fair):
    extra = [create_product(fair.coop_a, name_vi=f"Thêm {n}") for n in range(7)]
    refusal = _refusal(demo_db, fair, nothing, products=fair.products_a + extra)
    assert str(refusal.message) == "Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu."


def test_apply_refuses_a_zone_the_plan_does_not_have(demo_db, fair):
    refusal = _refusal(demo_db, fair, nothing, zone="Khu ẩm thực")
    assert str(refusal.message) == "Khu “Khu ẩm thực” không có trong sơ đồ."


def test_apply_refuses_a_note_over_1000_characters(demo_db, fair):
    refusal = _refusal(demo_db, fair, nothing, note="ă" * 1001)
    assert str(refusal.message) == "Lời nhắn dài quá: tối đa 1000 ký tự."
    assert refusal.status == 422


def test_apply_refuses_a_second_active_application(demo_db, fair):
    with demo_db.test_request_context():
        applied(fair, fair.products_a[:3])
    refusal = _refusal(demo_db, fair, nothing)
    assert "đã có một đơn đăng ký cho chương trình này" in str(refusal.message)
    assert refusal.status == 409


def test_the_partial_unique_index_allows_one_active_application(demo_db, fair):
    """What settles two applications sent at once: a second active row cannot be stored."""
    from sqlalchemy.exc import IntegrityError

    def row(status):
        return BoothApplication(
            programme_id=fair.programme.id,
            cooperative_id=fair.coop_a.id,
            product_ids=[p.id for p in fair.products_a[:3]],
            status=status,
        )

    with demo_db.test_request_context():
        db.session.add_all([row(ApplicationStatus.DECLINED), row(ApplicationStatus.WITHDRAWN)])
        db.session.add(row(ApplicationStatus.PENDING))
        db.session.flush()  # past applications do not count
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(row(ApplicationStatus.WAITLISTED))
            db.session.flush()


def test_apply_refuses_a_cooperative_that_already_has_a_booth(demo_db, fair):
    create_booth(fair.programme, 5, fair.coop_a, fair.products_a[:3])
    refusal = _refusal(demo_db, fair, nothing)
    assert str(refusal.message) == "Hợp tác xã đã có gian hàng số 5 ở chương trình này."
    assert refusal.status == 409


def test_after_withdrawing_the_cooperative_may_apply_again(demo_db, fair):
    with demo_db.test_request_context():
        first = applied(fair, fair.products_a[:3])
        service.withdraw(first, fair.owner_a)
        db.session.commit()
        second = applied(fair, fair.products_a[1:4])
    assert fresh(BoothApplication, first.id).status == ApplicationStatus.WITHDRAWN
    assert fresh(BoothApplication, second.id).status == ApplicationStatus.PENDING


def test_withdraw_only_from_pending_or_waitlisted(demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
        service.decline(application, "Không phù hợp chủ đề.", fair.staff)
        db.session.commit()
        with pytest.raises(service.AlreadyDecided) as refused:
            service.withdraw(application, fair.owner_a)
    assert refused.value.status == 409


# --------------------------------------------------------------------------- member pages


def test_member_list_shows_open_programmes_and_applications(client, fair):
    sign_in(client, fair.owner_a)
    page = text(get(client, "/quan-ly-htx/chuong-trinh"))
    assert "Chương trình đang nhận đăng ký" in page
    assert "Phiên chợ thử nghiệm Xuân 2027" in page
    assert "Hạn đăng ký: 28/02/2027" in page
    assert "Hợp tác xã chưa gửi đơn đăng ký gian hàng nào." in page
    assert f'href="{apply_url(fair.programme)}"' in body(client.get("/quan-ly-htx/chuong-trinh"))

    english = text(get(client, "/quan-ly-htx/chuong-trinh", "en"))
    assert "Programmes taking applications" in english
    assert "Test Spring Market 2027" in english
    assert "Apply by: 28/02/2027" in english
    assert "Apply now" in english


def test_the_dashboard_home_links_to_booth_applications(client, fair):
    sign_in(client, fair.owner_a)
    html = body(client.get("/quan-ly-htx/"))
    assert '<a href="/quan-ly-htx/chuong-trinh">Đăng ký gian hàng</a>' in html


def test_apply_form_shows_products_with_photos_zones_and_note(client, fair):
    sign_in(client, fair.owner_a)
    response = get(client, apply_url(fair.programme))
    assert response.status_code == 200
    html = body(response)
    for product in fair.products_a:
        assert f'name="products" value="{product.id}"' in html
        assert product.name_vi in html
    assert fair.draft_a.name_vi not in html  # only products on sale
    assert fair.products_b[0].name_vi not in html
    assert '<option value="Nông sản">Nông sản</option>' in html
    assert "Lời nhắn cho Liên minh HTX" in html
    assert "Gửi đơn đăng ký" in html

    english = text(get(client, apply_url(fair.programme), "en"))
    assert "Products to show at the booth" in english
    assert "Preferred zone" in english
    assert "Send application" in english


def test_applying_through_the_form(client, fair):
    sign_in(client, fair.owner_a)
    response = submit(client, fair, fair.products_a[:3], "Nông sản", "Cần bàn dài.")
    assert response.status_code == 302
    application = db.session.scalar(
        select(BoothApplication).where(BoothApplication.cooperative_id == fair.coop_a.id)
    )
    assert response.headers["Location"].endswith(member_url(application))
    assert application.product_ids == [p.id for p in fair.products_a[:3]]
    assert application.preferred_zone == "Nông sản"
    assert application.note == "Cần bàn dài."

    page = text(client.get(response.headers["Location"]))
    assert "Đã gửi đơn đăng ký gian hàng ở “Phiên chợ thử nghiệm Xuân 2027”" in page
    assert "Đang chờ xét" in page
    assert "3 sản phẩm mang đến gian hàng" in page
    # Applying again leads to the application already sent.
    again = client.get(apply_url(fair.programme))
    assert again.status_code == 302 and again.headers["Location"].endswith(member_url(application))

    listing = text(get(client, "/quan-ly-htx/chuong-trinh"))
    assert "Xem đơn đã gửi" in listing and "Đang chờ xét" in listing
    english = text(get(client, member_url(application), "en"))
    assert "Under review" in english and "3 products to show at the booth" in english


@pytest.mark.parametrize(
    "data, status, message",
    [
        ("two", 400, "Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu."),
        ("none", 422, "Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu."),
        ("other", 400, "không phải sản phẩm của HTX Đăng ký A."),
        ("draft", 400, "“Bản nháp A” không đang bán trên Chợ HTX nên không thể trưng bày."),
        ("garbage", 422, "Lựa chọn này không có trong danh sách. Hãy chọn lại."),
        ("unknown", 400, "Có sản phẩm đã chọn không còn trên Chợ HTX. Hãy chọn lại."),
        ("zone", 400, "Khu “Khu lạ” không có trong sơ đồ."),
        ("note", 422, "Dài quá: tối đa 1000 ký tự (bạn đã nhập 1001)."),
    ],
)
def test_bad_applications_are_refused_with_a_message(client, fair, data, status, message):
    sign_in(client, fair.owner_a)
    form = form_of(fair.products_a[:3], "Nông sản")
    if data == "two":
        form = form_of(fair.products_a[:2])
    elif data == "none":
        form["products"] = []
    elif data == "other":
        form = form_of(fair.products_a[:2] + fair.products_b[:1])
    elif data == "draft":
        form = form_of(fair.products_a[:2] + [fair.draft_a])
    elif data == "garbage":
        form["products"] = [str(fair.products_a[0].id), "abc"]
    elif data == "unknown":
        form["products"] = [str(p.id) for p in fair.products_a[:2]] + ["999999"]
    elif data == "zone":
        form["preferred_zone"] = "Khu lạ"
    elif data == "note":
        form["note"] = "ơ" * 1001
    before = written()
    url = apply_url(fair.programme)
    response = post_form(client, url, form, form_url=url)
    assert response.status_code == status
    assert message in text(response)
    assert written() == before
    # What the member chose stays chosen.
    if data == "zone":
        assert f'value="{fair.products_a[0].id}" checked' in body(response)


def test_applying_after_the_deadline_is_refused_on_the_page_and_on_post(client, fair):
    sign_in(client, fair.owner_a)
    url = apply_url(fair.programme)
    token = csrf_token(client, url)
    fresh(Programme, fair.programme.id).registration_deadline = date(2026, 11, 20)
    db.session.commit()
    page = get(client, url)
    assert page.status_code == 200
    assert "Đã hết hạn đăng ký gian hàng (20/11/2026)." in text(page)
    assert 'name="products"' not in body(page)
    before = written()
    response = client.post(url, data={**form_of(fair.products_a[:3]), "csrf_token": token})
    assert response.status_code == 409
    assert "Đã hết hạn đăng ký gian hàng (20/11/2026)." in text(response)
    assert written() == before
    english = text(get(client, url, "en"))
    assert "The deadline for booth applications has passed (20/11/2026)." in english


def test_a_draft_programme_is_not_found(client, fair):
    fresh(Programme, fair.programme.id).status = ProgrammeStatus.DRAFT
    db.session.commit()
    sign_in(client, fair.owner_a)
    assert client.get(apply_url(fair.programme)).status_code == 404
    assert client.get("/quan-ly-htx/chuong-trinh/khong-co/dang-ky").status_code == 404


def test_an_unverified_cooperative_reads_why_it_cannot_apply(client, fair):
    fresh(Cooperative, fair.coop_a.id).status = CooperativeStatus.PENDING
    db.session.commit()
    sign_in(client, fair.owner_a)
    listing = text(get(client, "/quan-ly-htx/chuong-trinh"))
    assert "chưa được Liên minh xác minh nên chưa thể có gian hàng" in listing
    assert "Đăng ký ngay" not in listing
    page = text(get(client, apply_url(fair.programme)))
    assert "chưa được Liên minh xác minh nên chưa thể có gian hàng" in page


def test_apply_without_csrf_token_is_refused(client, fair):
    sign_in(client, fair.owner_a)
    before = written()
    response = client.post(apply_url(fair.programme), data=form_of(fair.products_a[:3]))
    assert response.status_code == 400
    assert written() == before


def test_member_withdraws_an_application(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.owner_a)
    url = member_url(application)
    response = post_form(client, f"{url}/rut", form_url=url)
    assert response.status_code == 302
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.WITHDRAWN
    page = text(client.get(response.headers["Location"]))
    assert "Đã rút đơn đăng ký ở “Phiên chợ thử nghiệm Xuân 2027”." in page
    assert "Đã rút đơn" in page

    # A second click (a stale page) is refused with what the application is now.
    token = csrf_token(client, url)
    response = client.post(f"{url}/rut", data={"csrf_token": token})
    assert response.status_code == 409
    assert "Không rút được: đơn đang ở trạng thái “Đã rút đơn”." in text(response)


# --------------------------------------------------------------------------- access


def test_another_cooperative_cannot_see_or_withdraw_an_application(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.owner_b)
    assert client.get(member_url(application)).status_code == 404
    token = csrf_token(client, "/quan-ly-htx/chuong-trinh")  # B's own page: a valid token
    response = client.post(f"{member_url(application)}/rut", data={"csrf_token": token})
    assert response.status_code == 404
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.PENDING
    assert (
        "Phiên chợ thử nghiệm Xuân 2027"
        not in text(client.get("/quan-ly-htx/chuong-trinh")).split("Đơn đăng ký của hợp tác xã")[1]
    )


@pytest.mark.parametrize("who", ["anonymous", "buyer", "staff"])
def test_only_members_reach_the_member_pages(client, demo_db, fair, who):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    if who != "anonymous":
        sign_in(client, getattr(fair, who))
    for url in ("/quan-ly-htx/chuong-trinh", apply_url(fair.programme), member_url(application)):
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302
            assert "/tai-khoan/dang-nhap" in response.headers["Location"]
        else:
            assert response.status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner_a"])
def test_only_staff_reach_the_console_pages(client, demo_db, fair, who):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    if who != "anonymous":
        sign_in(client, getattr(fair, who))
    for url in ("/quan-tri/dang-ky-gian-hang", staff_url(application)):
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302
        else:
            assert response.status_code == 403
    token = csrf_token(client)
    response = client.post(
        f"{staff_url(application)}/nhan", data={"csrf_token": token, "accept-booth_number": "10"}
    )
    assert response.status_code in (302, 403)
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.PENDING


# --------------------------------------------------------------------------- staff pages


def test_staff_list_puts_pending_first_oldest_first_and_filters(client, demo_db, fair):
    other = create_programme(title_vi="Hội chợ khác", status=ProgrammeStatus.OPEN, zones=ZONES)
    coop_c = create_cooperative(name="HTX Đăng ký C", slug="htx-dang-ky-c")
    products_c = [create_product(coop_c) for _ in range(3)]
    db.session.commit()
    with demo_db.test_request_context():
        first = applied(fair, fair.products_a[:3])
        second = applied(fair, fair.products_b, cooperative=fair.coop_b, actor=fair.owner_b)
        third = service.apply(other, coop_c, products_c, None, "", fair.staff)
        db.session.commit()
        service.decline(first, "Chưa phù hợp.", fair.staff)
        db.session.commit()
    sign_in(client, fair.staff)
    page = text(get(client, "/quan-tri/dang-ky-gian-hang"))
    assert page.index("HTX Đăng ký B") < page.index("HTX Đăng ký C") < page.index("HTX Đăng ký A")
    assert "3 đơn" in page

    filtered = text(get(client, f"/quan-tri/dang-ky-gian-hang?chuong_trinh={other.slug}"))
    assert "HTX Đăng ký C" in filtered and "HTX Đăng ký B" not in filtered
    declined = text(get(client, "/quan-tri/dang-ky-gian-hang?trang_thai=declined"))
    assert "HTX Đăng ký A" in declined and "HTX Đăng ký B" not in declined
    assert "Không được nhận" in declined
    bad = get(client, "/quan-tri/dang-ky-gian-hang?trang_thai=xyz&chuong_trinh=khong-co")
    assert bad.status_code == 200
    assert "Trạng thái không hợp lệ, bộ lọc đã được bỏ qua." in text(bad)
    assert "Không tìm thấy chương trình này, bộ lọc đã được bỏ qua." in text(bad)
    english = text(get(client, "/quan-tri/dang-ky-gian-hang", "en"))
    assert "Booth applications" in english and "Under review" in english
    assert second.id and third.id


def test_console_nav_counts_pending_applications(client, demo_db, fair):
    with demo_db.test_request_context():
        applied(fair, fair.products_a[:3])
    sign_in(client, fair.staff)
    pending = db.session.scalar(
        select(func.count()).where(BoothApplication.status == ApplicationStatus.PENDING)
    )
    html = body(client.get("/quan-tri/dang-ky-gian-hang"))
    assert (
        f'aria-label="Đăng ký gian hàng, {pending} đơn đang chờ xét"' in html
        and f'<span class="nav-count">{pending}</span>' in html
    )


def test_staff_application_page_shows_the_request_and_suggests_booths(client, demo_db, fair):
    create_booth_empty(fair.programme, 4, "Làng nghề")
    create_booth_empty(fair.programme, 7, "Nông sản")
    create_booth(fair.programme, 2, fair.coop_b, fair.products_b)
    db.session.commit()
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3], zone="Nông sản")
    sign_in(client, fair.staff)
    response = get(client, staff_url(application))
    assert response.status_code == 200
    page = text(response)
    assert "HTX Đăng ký A" in page and "Đang chờ xét" in page
    assert "Cần chỗ gần ổ điện." in page
    for product in fair.products_a[:3]:
        assert product.name_vi in page
    # Empty booths of the preferred zone first, then other empty ones, then new numbers.
    assert "Gợi ý (khu “Nông sản” trước): 7, 4, 8, 9, 10" in page
    html = body(response)
    assert 'name="accept-booth_number" value="7"' in html
    for button in ("Nhận vào gian hàng", "Đưa vào danh sách chờ", "Không nhận đơn"):
        assert button in page
    english = text(get(client, staff_url(application), "en"))
    assert "Accept into a booth" in english and "Decline the application" in english


def create_booth_empty(programme, number, zone):
    booth = Booth(programme_id=programme.id, number=number, zone=zone)
    db.session.add(booth)
    db.session.flush()
    return booth


def accept(client, application, number):
    url = staff_url(application)
    return post_form(client, f"{url}/nhan", {"accept-booth_number": str(number)}, form_url=url)


def waitlist(client, application, reason=""):
    url = staff_url(application)
    return post_form(client, f"{url}/cho", {"waitlist-reason": reason}, form_url=url)


def decline(client, application, reason=""):
    url = staff_url(application)
    return post_form(client, f"{url}/tu-choi", {"decline-reason": reason}, form_url=url)


def test_accepting_creates_booth_10_assigns_and_tells_the_cooperative(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3], zone="Nông sản")
    sign_in(client, fair.staff)
    response = accept(client, application, 10)
    assert response.status_code == 302
    assert "Đã nhận HTX Đăng ký A vào gian hàng số 10" in text(
        client.get(response.headers["Location"])
    )
    row = fresh(BoothApplication, application.id)
    assert row.status == ApplicationStatus.ACCEPTED
    assert row.decided_by_id == fair.staff.id
    booth = db.session.get(Booth, row.booth_id)
    assert (booth.number, booth.cooperative_id, booth.zone) == (10, fair.coop_a.id, "Nông sản")
    featured = db.session.scalars(
        select(BoothProduct.product_id)
        .where(BoothProduct.booth_id == booth.id)
        .order_by(BoothProduct.position)
    ).all()
    assert featured == [p.id for p in fair.products_a[:3]]

    notice = db.session.scalar(
        select(Notification).where(
            Notification.cooperative_id == fair.coop_a.id,
            Notification.kind == "application_accepted",
        )
    )
    assert notice is not None
    (mail,) = emails("application_accepted")
    assert mail.to_address == "chu-dang-ky-a@example.com"
    assert "HTX Đăng ký A có gian hàng số 10" in mail.subject
    assert "has booth 10" in mail.subject
    assert f"/quan-ly-htx/chuong-trinh/don/{application.id}" in mail.body
    assert "tại gian hàng số 10" in mail.body and "at booth 10" in mail.body
    audit = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_type == "booth_application",
            AuditEntry.action == "application.accepted",
        )
    )
    assert audit.actor_id == fair.staff.id and audit.after["booth_number"] == 10

    # The member sees it on the dashboard, the application page and the public booth page.
    sign_in(client, fair.owner_a)
    home = text(get(client, "/quan-ly-htx/"))
    assert (
        "Liên minh HTX đã nhận hợp tác xã vào “Phiên chợ thử nghiệm Xuân 2027”: gian hàng số 10."
        in home
    )
    home_en = text(get(client, "/quan-ly-htx/", "en"))
    assert "accepted your cooperative into “Test Spring Market 2027”: booth 10." in home_en
    page = text(get(client, member_url(application)))
    assert "Đã nhận" in page and "Gian hàng số 10" in page
    public = text(get(client, f"/chuong-trinh/{fair.programme.slug}/gian-hang/10"))
    assert "HTX Đăng ký A" in public


def test_accepting_into_an_empty_booth_of_the_plan(client, demo_db, fair):
    booth = create_booth_empty(fair.programme, 7, "Làng nghề")
    db.session.commit()
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.staff)
    assert accept(client, application, 7).status_code == 302
    assert fresh(Booth, booth.id).cooperative_id == fair.coop_a.id
    assert fresh(BoothApplication, application.id).booth_id == booth.id


@pytest.mark.parametrize(
    "number, status, message",
    [
        ("", 422, "Hãy nhập số gian hàng, ví dụ 10."),
        ("abc", 422, "Hãy nhập một số"),
        ("0", 422, "Số phải từ 1 đến 9999."),
        ("10000", 422, "Số phải từ 1 đến 9999."),
        ("2", 409, "Gian hàng số 2 đã có HTX Đăng ký B. Hãy chọn một gian hàng trống."),
    ],
)
def test_accept_refuses_a_bad_or_taken_booth(client, demo_db, fair, number, status, message):
    create_booth(fair.programme, 2, fair.coop_b, fair.products_b)
    db.session.commit()
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.staff)
    before = written()
    response = accept(client, application, number)
    assert response.status_code == status
    assert message in text(response)
    assert written() == before
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.PENDING


def test_a_product_gone_since_is_dropped_when_three_remain(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a)
    fresh(Product, fair.products_a[1].id).status = ProductStatus.ARCHIVED
    db.session.commit()
    sign_in(client, fair.staff)
    assert accept(client, application, 10).status_code == 302
    booth = db.session.get(Booth, fresh(BoothApplication, application.id).booth_id)
    featured = db.session.scalars(
        select(BoothProduct.product_id).where(BoothProduct.booth_id == booth.id)
    ).all()
    assert sorted(featured) == sorted(p.id for i, p in enumerate(fair.products_a) if i != 1)
    (mail,) = emails("application_accepted")
    assert "không còn đang bán nên không được trưng bày: Gạo nếp cái hoa vàng 1." in mail.body
    sign_in(client, fair.owner_a)
    assert "Không trưng bày vì không còn đang bán: Gạo nếp cái hoa vàng 1." in text(
        get(client, "/quan-ly-htx/")
    )


def test_accept_is_refused_when_fewer_than_three_products_remain(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    fresh(Product, fair.products_a[0].id).status = ProductStatus.ARCHIVED
    db.session.commit()
    sign_in(client, fair.staff)
    before = written()
    response = accept(client, application, 10)
    assert response.status_code == 409
    assert "Chỉ còn 2 sản phẩm trong đơn đang bán trên Chợ HTX" in text(response)
    assert written() == before
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.PENDING


def test_waitlist_then_accept(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.staff)
    assert waitlist(client, application, "Khu Nông sản đã kín.").status_code == 302
    row = fresh(BoothApplication, application.id)
    assert row.status == ApplicationStatus.WAITLISTED
    assert row.decision_reason == "Khu Nông sản đã kín."
    (mail,) = emails("application_waitlisted")
    assert "danh sách chờ" in mail.subject and "waiting list" in mail.subject
    assert "Khu Nông sản đã kín." in mail.body

    # Waitlisted again is not offered; accepting later is.
    page = text(get(client, staff_url(application)))
    assert "Đưa vào danh sách chờ" not in page and "Nhận vào gian hàng" in page
    assert accept(client, application, 12).status_code == 302
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.ACCEPTED

    sign_in(client, fair.owner_a)
    home = text(get(client, "/quan-ly-htx/"))
    assert "đang ở danh sách chờ" in home and "Lý do: Khu Nông sản đã kín." in home


def test_decline_needs_a_reason(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.staff)
    before = written()
    response = decline(client, application, "   ")
    assert response.status_code == 422
    assert "Hãy ghi lý do để hợp tác xã biết." in text(response)
    assert written() == before
    response = decline(client, application, "x" * 1001)
    assert response.status_code == 422
    assert written() == before

    assert decline(client, application, "Sản phẩm chưa hợp chủ đề.").status_code == 302
    row = fresh(BoothApplication, application.id)
    assert row.status == ApplicationStatus.DECLINED
    assert row.decision_reason == "Sản phẩm chưa hợp chủ đề."
    (mail,) = emails("application_declined")
    assert "không được nhận" in mail.subject and "declined" in mail.subject
    assert "Sản phẩm chưa hợp chủ đề." in mail.body

    sign_in(client, fair.owner_a)
    listing = text(get(client, "/quan-ly-htx/chuong-trinh"))
    assert "Không được nhận" in listing
    assert "Lý do của Liên minh HTX: Sản phẩm chưa hợp chủ đề." in listing
    english = text(get(client, "/quan-ly-htx/", "en"))
    assert "Your booth application for “Test Spring Market 2027” was declined." in english


def test_a_decision_on_a_decided_application_is_409_naming_the_decider(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
    sign_in(client, fair.staff2)
    url = staff_url(application)
    stale = csrf_token(client, url)  # staff 2 opened the page before staff 1 decided
    with demo_db.test_request_context():
        service.decline(fresh(BoothApplication, application.id), "Đã đủ gian hàng.", fair.staff)
        db.session.commit()
    before = written()
    response = client.post(f"{url}/nhan", data={"csrf_token": stale, "accept-booth_number": "10"})
    assert response.status_code == 409
    page = text(response)
    assert "đã được xử lý bởi can-bo-gian-hang@example.com" in page
    assert "Không được nhận" in page
    assert "Quyết định của bạn không được ghi lại." in page
    assert written() == before
    assert fresh(BoothApplication, application.id).status == ApplicationStatus.DECLINED


def test_a_member_withdrawing_while_staff_decide(client, demo_db, fair):
    with demo_db.test_request_context():
        application = applied(fair, fair.products_a[:3])
        service.withdraw(application, fair.owner_a)
        db.session.commit()
    sign_in(client, fair.staff)
    url = staff_url(application)
    token = csrf_token(client, "/quan-tri/dang-ky-gian-hang")
    response = client.post(f"{url}/tu-choi", data={"csrf_token": token, "decline-reason": "x"})
    assert response.status_code == 409
    assert "đã được xử lý bởi chu-dang-ky-a@example.com" in text(response)


# --------------------------------------------------------------------------- SQL statements


def _many_applications(fair, n: int, programme=None):
    programme = programme or fair.programme
    for i in range(n):
        coop = create_cooperative(
            name=f"HTX Đếm {programme.id}-{i}", slug=f"htx-dem-{programme.id}-{i}"
        )
        products = [create_product(coop) for _ in range(3)]
        db.session.add(
            BoothApplication(
                programme_id=programme.id,
                cooperative_id=coop.id,
                product_ids=[p.id for p in products],
                preferred_zone="Nông sản",
            )
        )
    db.session.commit()


def test_staff_list_statements_do_not_grow_with_applications(client, fair, count_queries):
    sign_in(client, fair.staff)

    def statements():
        client.get("/quan-tri/dang-ky-gian-hang")  # warm caches (sessions, facets)
        with count_queries() as counter:
            assert client.get("/quan-tri/dang-ky-gian-hang").status_code == 200
        return counter.count

    _many_applications(fair, 2)
    few = statements()
    _many_applications(fair, 12, create_programme(status=ProgrammeStatus.OPEN))
    assert statements() == few


def test_member_list_statements_do_not_grow_with_applications(client, demo_db, fair, count_queries):
    sign_in(client, fair.owner_a)

    def statements():
        client.get("/quan-ly-htx/chuong-trinh")
        with count_queries() as counter:
            assert client.get("/quan-ly-htx/chuong-trinh").status_code == 200
        return counter.count

    with demo_db.test_request_context():
        applied(fair, fair.products_a[:3])
    few = statements()
    for n in range(5):
        programme = create_programme(
            status=ProgrammeStatus.OPEN, registration_deadline=DEADLINE, zones=ZONES
        )
        db.session.add(
            BoothApplication(
                programme_id=programme.id,
                cooperative_id=fair.coop_a.id,
                product_ids=[p.id for p in fair.products_a[:3]],
                status=ApplicationStatus.DECLINED if n % 2 else ApplicationStatus.PENDING,
                decision_reason="Lý do." if n % 2 else None,
            )
        )
    db.session.commit()
    assert statements() == few


# --------------------------------------------------------------------------- real concurrency

ROUNDS = 3
#: The password Browser.log_in (tests.test_concurrent_decisions) signs in with.
PASSWORD = "hai-cán-bộ-cùng-bấm-nút"
STAFF = ("nhan-mot@example.com", "nhan-hai@example.com")
OPEN_DEMO = "tuan-hang-htx-ocop-bac-ninh-xuan-2027"


@pytest.fixture(scope="module")
def site(database_factory, redis_server, tmp_path_factory):
    """gunicorn with two worker processes on the demo data; two staff signed in."""
    import uuid

    from tests.test_concurrent_decisions import Browser, Site
    from tests.workers import GunicornServer

    name = f"applications_{uuid.uuid4().hex[:8]}"
    server = GunicornServer(
        database_factory(name),
        tmp_path_factory.mktemp(name),
        workers=2,
        REDIS_URL=redis_server.url(13),
        SHOP_TODAY="2026-11-26",
    )
    site = None
    try:
        server.start()
        server.flask("data", "demo")
        for email in STAFF:
            server.flask("users", "create", email, "--role", "staff", SHOP_USER_PASSWORD=PASSWORD)
        site = Site(server)
        site.browsers = [Browser(server.url) for _ in STAFF]
        for browser, email in zip(site.browsers, STAFF, strict=True):
            browser.log_in(email)
        (site.programme_id,) = site.sql("SELECT id FROM programme WHERE slug = :s", s=OPEN_DEMO)[0]
        yield site
    finally:
        if site is not None:
            site.engine.dispose()
        server.stop()


def exhibitors(site, count: int) -> list[tuple[int, str]]:
    """(id, slug) of verified cooperatives with 3+ products on sale, not yet in the programme."""
    rows = site.sql(
        "SELECT c.id, c.slug FROM cooperative c WHERE c.status = 'verified'"
        " AND NOT EXISTS (SELECT 1 FROM booth b WHERE b.cooperative_id = c.id"
        "   AND b.programme_id = :p)"
        " AND NOT EXISTS (SELECT 1 FROM booth_application a WHERE a.cooperative_id = c.id"
        "   AND a.programme_id = :p)"
        " AND (SELECT count(*) FROM product x WHERE x.cooperative_id = c.id"
        "   AND x.status = 'published') >= 3"
        " ORDER BY c.id LIMIT :n",
        p=site.programme_id,
        n=count,
    )
    assert len(rows) == count
    return rows


def pending_application(site, cooperative_id: int) -> int:
    products = [
        row[0]
        for row in site.sql(
            "SELECT id FROM product WHERE cooperative_id = :c AND status = 'published'"
            " ORDER BY id LIMIT 3",
            c=cooperative_id,
        )
    ]
    site.sql(
        "INSERT INTO booth_application (programme_id, cooperative_id, status, product_ids, note,"
        " created_at, updated_at) VALUES (:p, :c, 'pending', :ids, '', :now, :now)",
        p=site.programme_id,
        c=cooperative_id,
        ids=str(products),
        now="2026-11-20 08:00:00",
    )
    return site.sql(
        "SELECT id FROM booth_application WHERE cooperative_id = :c AND programme_id = :p",
        c=cooperative_id,
        p=site.programme_id,
    )[0][0]


def test_two_staff_accepting_one_application_record_one_decision(site):
    from tests.test_concurrent_decisions import at_once

    for round_no, (cooperative_id, _slug) in enumerate(exhibitors(site, ROUNDS), 1):
        application_id = pending_application(site, cooperative_id)
        page = f"/quan-tri/dang-ky-gian-hang/{application_id}"
        first = site.browsers[0].form(page, f"{page}/nhan")
        second = site.browsers[1].form(page, f"{page}/nhan")
        first["accept-booth_number"] = str(500 + 2 * round_no)
        second["accept-booth_number"] = str(501 + 2 * round_no)
        results = at_once(
            lambda p=page, f=first: site.browsers[0].request(f"{p}/nhan", f),
            lambda p=page, f=second: site.browsers[1].request(f"{p}/nhan", f),
        )
        statuses = [status for status, _, _ in results]
        assert sorted(statuses) == [302, 409], (
            f"round {round_no}: {statuses}\n"
            + "\n---\n".join(page[:3000] for _, page, _ in results)
            + site.server_errors()
        )
        winner = statuses.index(302)
        number = (first, second)[winner]["accept-booth_number"]
        loser_page = results[1 - winner][1]
        assert f"đã được xử lý bởi {STAFF[winner]}" in loser_page
        assert "Quyết định của bạn không được ghi lại." in loser_page
        booths = site.sql(
            "SELECT number FROM booth WHERE programme_id = :p AND cooperative_id = :c",
            p=site.programme_id,
            c=cooperative_id,
        )
        assert booths == [(int(number),)]
        (status, decided_by), *_ = site.sql(
            "SELECT status, decided_by_id FROM booth_application WHERE id = :id",
            id=application_id,
        )
        assert status == "accepted"
        assert (
            decided_by == site.sql('SELECT id FROM "user" WHERE email = :e', e=STAFF[winner])[0][0]
        )
        decisions = site.sql(
            "SELECT action FROM audit_entry WHERE target_type = 'booth_application'"
            " AND target_id = :id",
            id=application_id,
        )
        assert decisions == [("application.accepted",)]
        notices = site.sql(
            "SELECT count(*) FROM notification WHERE cooperative_id = :c"
            " AND kind = 'application_accepted'",
            c=cooperative_id,
        )
        assert notices == [(1,)]


def test_two_cooperatives_accepted_into_one_booth_at_once_one_gets_it(site):
    from tests.test_concurrent_decisions import at_once

    (a, _), (b, _) = exhibitors(site, 2)
    apps = [pending_application(site, a), pending_application(site, b)]
    forms = []
    for browser, application_id in zip(site.browsers, apps, strict=True):
        page = f"/quan-tri/dang-ky-gian-hang/{application_id}"
        form = browser.form(page, f"{page}/nhan")
        form["accept-booth_number"] = "700"
        forms.append((page, form))
    results = at_once(
        *[
            lambda i=i: site.browsers[i].request(f"{forms[i][0]}/nhan", forms[i][1])
            for i in range(2)
        ]
    )
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [302, 409], [r[1][:2000] for r in results] + [site.server_errors()]
    loser = next(page for status, page, _ in results if status == 409)
    assert "Gian hàng số 700 đã có" in loser
    holders = site.sql(
        "SELECT cooperative_id FROM booth WHERE programme_id = :p AND number = 700",
        p=site.programme_id,
    )
    assert len(holders) == 1 and holders[0][0] in (a, b)
    accepted = site.sql(
        "SELECT cooperative_id FROM booth_application WHERE id IN (:x, :y) AND status = 'accepted'",
        x=apps[0],
        y=apps[1],
    )
    assert accepted == holders


def post_pairs(browser, path: str, pairs: list[tuple[str, str]]) -> tuple[int, str]:
    """POST repeated fields (checkboxes) as a browser sends them; (status, page)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    request = urllib.request.Request(
        browser.base_url + path, data=urllib.parse.urlencode(pairs).encode()
    )
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_two_members_applying_at_once_send_one_application(site):
    from tests.test_concurrent_decisions import Browser, at_once

    ((cooperative_id, slug),) = exhibitors(site, 1)
    members = []
    for n in range(2):
        email = f"thanh-vien-{n}-{slug}@example.com"
        site.server.flask(
            "users",
            "create",
            email,
            "--role",
            "member",
            "--cooperative",
            slug,
            SHOP_USER_PASSWORD=PASSWORD,
        )
        browser = Browser(site.server.url)
        browser.log_in(email)
        members.append(browser)
    products = site.sql(
        "SELECT id FROM product WHERE cooperative_id = :c AND status = 'published'"
        " ORDER BY id LIMIT 3",
        c=cooperative_id,
    )
    url = f"/quan-ly-htx/chuong-trinh/{OPEN_DEMO}/dang-ky"
    sends = []
    for browser in members:
        fields = browser.form(url, url)
        pairs = [(k, v) for k, v in fields.items() if k not in ("products", "note")]
        pairs += [("products", str(row[0])) for row in products] + [("note", "")]
        sends.append(lambda b=browser, p=pairs: post_pairs(b, url, p))
    results = at_once(*sends)
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [302, 409], [r[1][:2000] for r in results] + [site.server_errors()]
    loser = next(page for status, page, _ in results if status == 409)
    assert "đã có một đơn đăng ký cho chương trình này" in html.unescape(loser)
    count = site.sql(
        "SELECT count(*) FROM booth_application WHERE cooperative_id = :c AND programme_id = :p",
        c=cooperative_id,
        p=site.programme_id,
    )
    assert count == [(1,)]
