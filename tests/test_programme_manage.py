"""The console's programme pages (/quan-tri/chuong-trinh): staff create a programme, draw booths
on its plan, place cooperatives with their featured products, livestream and time slots; bad
input is refused with a message and a status, and nothing is written; only staff get in."""

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select, update

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.programmes.models import Booth, BoothProduct, BoothSlot, Programme, ProgrammeStatus
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import csrf_token, page_text, post_form, sign_in

CONSOLE = "/quan-tri/chuong-trinh"
DEMO_2027 = "tuan-hang-htx-ocop-bac-ninh-xuan-2027"


def text(response) -> str:
    return html.unescape(page_text(response))


def counts() -> tuple:
    tables = (Programme, Booth, BoothProduct, BoothSlot, AuditEntry)
    return tuple(db.session.scalar(select(func.count()).select_from(t)) for t in tables)


@pytest.fixture
def staff_client(client):
    sign_in(client, create_user(Role.STAFF))
    db.session.commit()
    return client


@pytest.fixture
def fair(staff_client):
    """A draft 4×2 programme with two zones, booths 1 (placed at 1,1) and 2 (empty), and a
    verified cooperative with five published products."""
    programme = create_programme(
        title_vi="Phiên chợ thử nghiệm",
        status=ProgrammeStatus.DRAFT,
        plan_columns=4,
        plan_rows=2,
        zones=["Nông sản", "Làng nghề"],
        start_date=date(2027, 5, 10),
        end_date=date(2027, 5, 12),
    )
    coop = create_cooperative(name="HTX Chè Thử Nghiệm")
    products = [
        create_product(coop, name_vi=f"Chè búp thử {n}", price_vnd=100000 + n) for n in range(5)
    ]
    one = Booth(programme_id=programme.id, number=1, zone="Nông sản", plan_column=1, plan_row=1)
    two = Booth(programme_id=programme.id, number=2)
    db.session.add_all([one, two])
    db.session.commit()
    return programme, coop, products


def post(client, url, data, form_url=None):
    return post_form(client, url, {**data}, form_url=form_url or url)


def booth_url(programme, number=1) -> str:
    return f"{CONSOLE}/{programme.id}/gian-hang/{number}"


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("who", ["buyer", "member"])
def test_members_and_buyers_are_refused(client, who):
    coop = db.session.scalar(select(Cooperative).limit(1))
    user = create_user(Role.BUYER) if who == "buyer" else create_user(cooperative=coop)
    programme = db.session.scalar(select(Programme).where(Programme.slug == DEMO_2027))
    db.session.commit()
    sign_in(client, user)
    token = csrf_token(client, "/")
    before = counts()
    for url in (CONSOLE, f"{CONSOLE}/moi", f"{CONSOLE}/{programme.id}", booth_url(programme, 10)):
        assert client.get(url).status_code == 403
    for url, data in (
        (f"{CONSOLE}/moi", {"title_vi": "Chợ lậu", "start_date": "2027-01-01"}),
        (f"{CONSOLE}/{programme.id}/trang-thai", {"status": "draft"}),
        (f"{booth_url(programme, 10)}/bo-xep", {}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403
    assert counts() == before


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(f"{CONSOLE}/moi")
    assert response.status_code == 302 and "/tai-khoan/dang-nhap" in response.headers["Location"]


# --------------------------------------------------------------------------- list and create


def test_list_shows_status_dates_and_booths(staff_client):
    page = text(staff_client.get(f"{CONSOLE}?lang=vi"))
    assert "Tuần hàng HTX & OCOP Bắc Ninh – Xuân Đinh Mùi 2027" in page
    assert "Đang nhận đăng ký" in page and "18/03/2027 – 21/03/2027" in page
    assert "10/10 đã xếp" in page and "12/12 đã xếp" in page
    nav = staff_client.get(f"{CONSOLE}?lang=vi").get_data(as_text=True)
    assert f'<a href="{CONSOLE}" aria-current="page">Chương trình</a>' in nav
    page = text(staff_client.get(f"{CONSOLE}?lang=en"))
    assert "Programmes and booths" in page and "Open for applications" in page
    assert "10/10 assigned" in page and "Create programme" in page


def test_create_a_programme(staff_client):
    form = f"{CONSOLE}/moi"
    assert "Tên chương trình" in text(staff_client.get(f"{form}?lang=vi"))
    response = post(
        staff_client,
        form,
        {
            "title_vi": "Phiên chợ Nông sản Xuân",
            "title_en": "Spring Farm Market",
            "start_date": "12/04/2027",
            "end_date": "2027-04-13",
            "registration_deadline": "",
            "venue_vi": "Nhà văn hóa phường Vũ Ninh",
            "description_vi": "Rau, gạo và mật ong của các hợp tác xã.\nMở cửa từ 7 giờ.",
            "plan_columns": "4",
            "plan_rows": "2",
            "zones": "Nông sản\n\n  Làng nghề  \n",
        },
    )
    assert response.status_code == 302
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == "phien-cho-nong-san-xuan")
    )
    assert response.headers["Location"].endswith(f"{CONSOLE}/{programme.id}")
    assert programme.status == ProgrammeStatus.DRAFT
    assert programme.zones == ["Nông sản", "Làng nghề"]
    assert (programme.start_date, programme.end_date) == (date(2027, 4, 12), date(2027, 4, 13))
    assert programme.venue_vi == "Nhà văn hóa phường Vũ Ninh"
    assert programme.description_vi == "Rau, gạo và mật ong của các hợp tác xã.\nMở cửa từ 7 giờ."
    assert programme.registration_deadline is None
    page = staff_client.get(f"{CONSOLE}/{programme.id}?lang=vi").get_data(as_text=True)
    assert "Đã tạo chương trình “Phiên chợ Nông sản Xuân” (bản nháp)." in html.unescape(page)
    empty_cells = re.findall(r'aria-label="Thêm gian hàng ở cột (\d), hàng (\d)"', page)
    assert len(empty_cells) == 8
    assert f'href="{CONSOLE}/{programme.id}/gian-hang/moi?cot=3&amp;hang=2"' in page
    english = text(staff_client.get(f"{CONSOLE}/{programme.id}?lang=en"))
    assert "Spring Farm Market" in english and "Add a booth at column 1, row 1" in english
    assert "Open booth applications" in english and "Publish" in english


@pytest.mark.parametrize(
    "changes, status, message",
    [
        ({"title_vi": ""}, 422, "Hãy nhập tên chương trình."),
        ({"start_date": "31/02/2027"}, 422, "Ngày không đúng; hãy nhập dạng 23/12/2027."),
        ({"end_date": ""}, 422, "Hãy nhập ngày kết thúc."),
        ({"end_date": "2027-04-11"}, 400, "Ngày kết thúc phải bằng hoặc sau ngày bắt đầu."),
        ({"registration_deadline": "2027-04-20"}, 400, "Hạn đăng ký gian hàng phải trước"),
        ({"plan_columns": "31"}, 422, "Hãy nhập một số từ 1 đến 30."),
        ({"plan_rows": "abc"}, 422, "Hãy nhập một số nguyên"),
        ({"zones": "\n".join(f"Khu {n}" for n in range(13))}, 400, "Sơ đồ có tối đa 12 khu."),
        ({"zones": "A\nA"}, 400, "Mỗi khu chỉ được ghi một lần."),
        ({"title_vi": "Chợ\x00"}, 422, "ký tự điều khiển"),
    ],
)
def test_bad_programmes_are_refused(staff_client, changes, status, message):
    before = counts()
    data = {
        "title_vi": "Chợ thử",
        "start_date": "2027-04-12",
        "end_date": "2027-04-13",
        "plan_columns": "4",
        "plan_rows": "2",
        **changes,
    }
    response = post(staff_client, f"{CONSOLE}/moi?lang=vi", data)
    assert response.status_code == status
    assert message in text(response)
    assert counts() == before


def test_edit_a_programme(staff_client, fair):
    programme, coop, products = fair
    url = f"{CONSOLE}/{programme.id}/sua"
    page = staff_client.get(f"{url}?lang=vi").get_data(as_text=True)
    assert 'value="2027-05-10"' in page and "Nông sản\nLàng nghề</textarea>" in page
    data = {
        "title_vi": "Phiên chợ thử nghiệm",
        "start_date": "2027-05-10",
        "end_date": "2027-05-12",
        "plan_columns": "4",
        "plan_rows": "2",
        "zones": "Nông sản\nLàng nghề\nHoa cây cảnh",
    }
    assert post(staff_client, url, data).status_code == 302
    assert db.session.get(Programme, programme.id).zones == [
        "Nông sản",
        "Làng nghề",
        "Hoa cây cảnh",
    ]
    before = counts()
    response = post(staff_client, url, {**data, "zones": "Làng nghề"})
    assert response.status_code == 400
    assert "Khu “Nông sản” đang có gian hàng số 1" in text(response)
    response = post(staff_client, url, {**data, "plan_columns": "0"})
    assert response.status_code == 422 and "Hãy nhập một số từ 1 đến 30." in text(response)
    assert counts() == before


def test_status_buttons(staff_client, fair):
    programme, coop, products = fair
    url = f"{CONSOLE}/{programme.id}/trang-thai"
    form_url = f"{CONSOLE}/{programme.id}?lang=vi"
    before = counts()
    response = post(staff_client, url, {"status": "closed"}, form_url)
    assert response.status_code == 409
    assert "Không thể chuyển chương trình từ trạng thái này" in text(response)
    assert post(staff_client, url, {"status": "bogus"}, form_url).status_code == 400
    assert counts() == before
    response = post(staff_client, url, {"status": "published"}, form_url)
    assert response.status_code == 302
    assert db.session.get(Programme, programme.id).status == ProgrammeStatus.PUBLISHED
    page = text(staff_client.get(form_url))
    assert "Chương trình đã chuyển sang “Đã công bố”." in page
    assert "Kết thúc chương trình" in page and "Trang công khai" in page


# --------------------------------------------------------------------------- booths on the plan


def test_add_a_booth_from_an_empty_cell(staff_client, fair):
    programme, coop, products = fair
    plan = staff_client.get(f"{CONSOLE}/{programme.id}?lang=vi").get_data(as_text=True)
    link = f"{CONSOLE}/{programme.id}/gian-hang/moi?cot=2&amp;hang=1"
    assert f'<a href="{link}" aria-label="Thêm gian hàng ở cột 2, hàng 1">' in plan
    url = html.unescape(link)
    form = staff_client.get(url).get_data(as_text=True)
    assert 'name="number" value="3"' in form  # the first free number
    assert 'name="plan_column" value="2"' in form and 'name="plan_row" value="1"' in form
    assert '<option value="Nông sản" selected>' in form  # the zone of its neighbour
    response = post(
        staff_client,
        f"{CONSOLE}/{programme.id}/gian-hang/moi",
        {"number": "10", "zone": "Nông sản", "plan_column": "2", "plan_row": "1"},
        form_url=url,
    )
    assert response.status_code == 302
    booth = db.session.scalar(
        select(Booth).where(Booth.programme_id == programme.id, Booth.number == 10)
    )
    assert (booth.zone, booth.plan_column, booth.plan_row) == ("Nông sản", 2, 1)
    plan = staff_client.get(f"{CONSOLE}/{programme.id}").get_data(as_text=True)
    assert 'aria-label="Gian hàng số 10, khu Nông sản: trống"' in plan
    assert "Thêm gian hàng ở cột 2, hàng 1" not in plan


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"number": "abc"}, 422, "Hãy nhập một số nguyên"),
        ({"number": "0"}, 422, "Hãy nhập một số từ 1 đến 9999."),
        ({"number": "10000"}, 422, "Hãy nhập một số từ 1 đến 9999."),
        ({"number": ""}, 422, "Hãy nhập số gian hàng."),
        ({"number": "1"}, 409, "Gian hàng số 1 đã có trong chương trình."),
        ({"number": "5", "plan_column": "5", "plan_row": "1"}, 400, "nằm ngoài sơ đồ"),
        ({"number": "5", "plan_column": "1", "plan_row": "3"}, 400, "nằm ngoài sơ đồ"),
        ({"number": "5", "plan_column": "1"}, 400, "cả cột và hàng"),
        ({"number": "5", "plan_column": "1", "plan_row": "1"}, 409, "đã có gian hàng số 1"),
        ({"number": "5", "zone": "Khu bịa"}, 400, "Khu “Khu bịa” không có trong sơ đồ."),
    ],
)
def test_bad_booths_are_refused(staff_client, fair, data, status, message):
    programme, coop, products = fair
    url = f"{CONSOLE}/{programme.id}/gian-hang/moi"
    before = counts()
    response = post(staff_client, url, data, form_url=f"{url}?lang=vi")
    assert response.status_code == status
    assert message in text(response)
    assert counts() == before


def test_move_and_delete_a_booth(staff_client, fair):
    programme, coop, products = fair
    url = booth_url(programme, 2)
    response = post(
        staff_client,
        f"{url}/vi-tri",
        {"number": "20", "zone": "Làng nghề", "plan_column": "4", "plan_row": "2"},
        form_url=url,
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/gian-hang/20")
    before = counts()
    response = post(
        staff_client,
        f"{booth_url(programme, 20)}/vi-tri",
        {"number": "1"},
        form_url=url.replace("/2", "/20"),
    )
    assert response.status_code == 409 and "Gian hàng số 1 đã có" in text(response)
    assert counts() == before
    response = post(
        staff_client, f"{booth_url(programme, 20)}/xoa", {}, form_url=booth_url(programme, 20)
    )
    assert response.status_code == 302
    assert staff_client.get(booth_url(programme, 20)).status_code == 404


def test_assign_a_cooperative_then_its_products(staff_client, fair):
    programme, coop, products = fair
    url = booth_url(programme)
    page = staff_client.get(f"{url}?lang=vi&q=che thu nghiem").get_data(as_text=True)
    assert f'<option value="{coop.id}">HTX Chè Thử Nghiệm</option>' in page
    assert page.count("<option value=") == 1 + 3  # the match, and the zone select
    response = post(staff_client, f"{url}/xep-htx", {"cooperative_id": str(coop.id)}, form_url=url)
    assert response.status_code == 302
    page = staff_client.get(url).get_data(as_text=True)
    assert "Đã xếp HTX Chè Thử Nghiệm vào gian hàng số 1" in html.unescape(page)
    for product in products:
        assert f'name="product" value="{product.id}"' in page
    data = {
        "product": [str(products[3].id), str(products[0].id), str(products[1].id)],
        f"position-{products[3].id}": "2",
        f"position-{products[0].id}": "3",
        f"position-{products[1].id}": "1",
    }
    response = post(staff_client, f"{url}/san-pham", data, form_url=url)
    assert response.status_code == 302
    booth = db.session.scalar(
        select(Booth).where(Booth.programme_id == programme.id, Booth.number == 1)
    )
    order = db.session.scalars(
        select(BoothProduct.product_id)
        .where(BoothProduct.booth_id == booth.id)
        .order_by(BoothProduct.position)
    ).all()
    assert order == [products[1].id, products[3].id, products[0].id]
    page = staff_client.get(url).get_data(as_text=True)
    assert f'name="position-{products[1].id}" value="1"' in page
    english = text(staff_client.get(f"{url}?lang=en"))
    assert "Products on display" in english and "Save featured products" in english
    assert "Unassign the cooperative" in english


def test_tampered_cooperatives_are_refused(staff_client, fair):
    programme, coop, products = fair
    url = booth_url(programme)
    pending = create_cooperative(name="HTX Chưa Xác Minh", status=CooperativeStatus.PENDING)
    suspended = create_cooperative(name="HTX Đang Tạm Ngưng", status=CooperativeStatus.SUSPENDED)
    placed = db.session.scalar(
        select(Booth).join(Programme).where(Programme.slug == DEMO_2027, Booth.number == 10)
    )
    db.session.commit()
    page = staff_client.get(url).get_data(as_text=True)
    assert "HTX Chưa Xác Minh" not in page and "HTX Đang Tạm Ngưng" not in page
    before = counts()
    for value, status, message in (
        ("999999", 400, "Không tìm thấy hợp tác xã này"),
        ("99999999999", 422, "Hãy nhập một số nguyên"),
        ("abc", 422, "Hãy nhập một số nguyên"),
        ("", 422, "Hãy chọn một hợp tác xã."),
        (str(pending.id), 400, "HTX Chưa Xác Minh chưa được Liên minh xác minh"),
        (str(suspended.id), 400, "HTX Đang Tạm Ngưng đang bị tạm ngưng"),
    ):
        response = post(staff_client, f"{url}/xep-htx", {"cooperative_id": value}, form_url=url)
        assert response.status_code == status, value
        assert message in text(response)
    # A cooperative already at a booth of this programme.
    demo = db.session.get(Programme, placed.programme_id)
    empty = Booth(programme_id=demo.id, number=777)
    db.session.add(empty)
    db.session.commit()
    before = counts()
    response = post(
        staff_client,
        f"{booth_url(demo, 777)}/xep-htx",
        {"cooperative_id": str(placed.cooperative_id)},
        form_url=booth_url(demo, 777),
    )
    assert response.status_code == 409 and "đã có gian hàng số 10" in text(response)
    assert counts() == before


def test_bad_featured_products_are_refused(staff_client, fair):
    programme, coop, products = fair
    url = booth_url(programme)
    booth = db.session.scalar(
        select(Booth).where(Booth.programme_id == programme.id, Booth.number == 1)
    )
    booth.cooperative_id = coop.id
    other = create_cooperative(name="HTX Hàng Xóm")
    theirs = create_product(other, name_vi="Mật ong hàng xóm")
    draft = create_product(coop, name_vi="Chè nháp", status=ProductStatus.DRAFT)
    db.session.commit()
    ids = [str(p.id) for p in products[:2]]
    before = counts()
    for data, status, message in (
        (
            {"product": [*ids, str(theirs.id)]},
            400,
            "“Mật ong hàng xóm” không phải sản phẩm của HTX Chè Thử Nghiệm",
        ),
        ({"product": [*ids, str(draft.id)]}, 400, "“Chè nháp” không đang bán"),
        ({"product": ids}, 400, "Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu."),
        ({"product": [*ids, "99999999"]}, 400, "Có sản phẩm không tồn tại"),
        ({"product": [*ids, "x"]}, 422, "ghi thứ tự bằng số"),
        (
            {"product": [*ids, str(products[2].id)], f"position-{products[2].id}": "một"},
            422,
            "ghi thứ tự bằng số",
        ),
    ):
        response = post(staff_client, f"{url}/san-pham", data, form_url=url)
        assert response.status_code == status, data
        assert message in text(response)
    assert counts() == before
    # What staff ticked is shown again beside the reason.
    response = post(staff_client, f"{url}/san-pham", {"product": ids}, form_url=url)
    page = response.get_data(as_text=True)
    assert re.search(rf'value="{products[0].id}" checked', page)
    assert not re.search(rf'value="{products[2].id}" checked', page)


def test_livestream_and_slots(staff_client, fair):
    programme, coop, products = fair
    url = booth_url(programme)
    before = counts()
    response = post(
        staff_client, f"{url}/truc-tiep", {"livestream_url": "javascript:alert(1)"}, form_url=url
    )
    assert response.status_code == 400 and "http:// hoặc https://" in text(response)
    assert counts() == before
    response = post(
        staff_client,
        f"{url}/truc-tiep",
        {"livestream_url": "https://facebook.com/htx/live"},
        form_url=url,
    )
    assert response.status_code == 302
    slot = {
        "starts_at": "2027-05-11T09:00",
        "ends_at": "2027-05-11T10:30",
        "title_vi": "Nếm thử chè",
    }
    assert post(staff_client, f"{url}/khung-gio", slot, form_url=url).status_code == 302
    page = text(staff_client.get(f"{url}?lang=vi"))
    assert "11/05/2027 09:00 – 10:30 Nếm thử chè" in page
    before = counts()
    for data, status, message in (
        (
            {**slot, "starts_at": "2027-05-11T10:00", "ends_at": "2027-05-11T11:00"},
            400,
            "trùng với khung 11/05/2027 09:00 – 10:30",
        ),
        (
            {**slot, "starts_at": "2027-05-11T12:00", "ends_at": "2027-05-11T11:00"},
            400,
            "Giờ kết thúc phải sau giờ bắt đầu.",
        ),
        (
            {**slot, "starts_at": "2027-05-20T12:00", "ends_at": "2027-05-20T13:00"},
            400,
            "từ 09/05/2027 đến 13/05/2027",
        ),
        ({**slot, "starts_at": "sáng mai"}, 422, "Giờ không đúng"),
        ({**slot, "ends_at": ""}, 422, "Hãy nhập giờ kết thúc."),
    ):
        response = post(staff_client, f"{url}/khung-gio", data, form_url=url)
        assert response.status_code == status, data
        assert message in text(response)
    assert counts() == before
    slot_id = db.session.scalar(
        select(BoothSlot.id).join(Booth).where(Booth.programme_id == programme.id)
    )
    assert (
        post(staff_client, f"{url}/khung-gio/xoa", {"slot": "abc"}, form_url=url).status_code == 400
    )
    other = booth_url(programme, 2)
    assert (
        post(
            staff_client, f"{other}/khung-gio/xoa", {"slot": str(slot_id)}, form_url=other
        ).status_code
        == 404
    )
    assert (
        post(staff_client, f"{url}/khung-gio/xoa", {"slot": str(slot_id)}, form_url=url).status_code
        == 302
    )
    assert db.session.get(BoothSlot, slot_id) is None


def test_unknown_programmes_and_booths_are_404(staff_client, fair):
    programme, coop, products = fair
    for url in (
        f"{CONSOLE}/999999",
        f"{CONSOLE}/99999999999",
        booth_url(programme, 3),
        booth_url(programme, 99999999999),
    ):
        assert staff_client.get(url).status_code == 404


# --------------------------------------------------------------------------- products that go away


def test_staff_are_told_about_featured_products_that_went_away(staff_client):
    programme = db.session.scalar(select(Programme).where(Programme.slug == DEMO_2027))
    home = text(staff_client.get("/quan-tri/?lang=vi"))
    assert "không còn hiển thị" not in home
    booths = {
        b.number: b
        for b in db.session.scalars(select(Booth).where(Booth.programme_id == programme.id))
    }
    archived = db.session.scalar(
        select(Product)
        .join(BoothProduct, BoothProduct.product_id == Product.id)
        .where(BoothProduct.booth_id == booths[1].id)
        .order_by(BoothProduct.position)
        .limit(1)
    )
    db.session.execute(
        update(Product).where(Product.id == archived.id).values(status=ProductStatus.ARCHIVED)
    )
    db.session.execute(
        update(Cooperative)
        .where(Cooperative.id == booths[2].cooperative_id)
        .values(status=CooperativeStatus.SUSPENDED)
    )
    db.session.commit()
    page = staff_client.get(f"{CONSOLE}/{programme.id}?lang=vi").get_data(as_text=True)
    hidden = html.unescape(page[page.index('id="hidden-title"') : page.index('id="status-title"')])
    assert "Sản phẩm không còn hiển thị" in hidden
    assert f'href="{CONSOLE}/{programme.id}/gian-hang/1">Gian hàng số 1</a>' in hidden
    assert (
        f'/quan-tri/san-pham/{archived.id}">{archived.name_vi}</a>' in hidden
        and "Đã lưu trữ" in hidden
    )
    assert f"{CONSOLE}/{programme.id}/gian-hang/2" in hidden and "Tạm ngưng" in hidden
    assert f"{CONSOLE}/{programme.id}/gian-hang/3" not in hidden
    home = text(staff_client.get("/quan-tri/?lang=vi"))
    assert "2 gian hàng có sản phẩm trưng bày không còn hiển thị với người mua" in home
    english = text(staff_client.get("/quan-tri/?lang=en"))
    assert "2 booths have featured products buyers no longer see" in english
    assert "Products no longer shown" in text(staff_client.get(f"{CONSOLE}/{programme.id}?lang=en"))
    booth_page = text(staff_client.get(f"{booth_url(programme, 1)}?lang=vi"))
    assert f"Sản phẩm không còn hiển thị: {archived.name_vi}" in booth_page
    # Closed programmes are history: the console's front page stops counting them.
    db.session.execute(
        update(Programme).where(Programme.id == programme.id).values(status=ProgrammeStatus.CLOSED)
    )
    db.session.commit()
    assert "không còn hiển thị" not in text(staff_client.get("/quan-tri/?lang=vi"))


# --------------------------------------------------------------------------- statements per page


def test_console_pages_run_as_many_statements_for_3_as_for_30_booths(staff_client, count_queries):
    programme = create_programme(
        plan_columns=10, plan_rows=3, zones=["A", "B"], status=ProgrammeStatus.PUBLISHED
    )

    def add_booths(numbers):
        for number in numbers:
            coop = create_cooperative()
            products = [create_product(coop) for _ in range(3)]
            booth = create_booth(programme, number, coop, products)
            booth.zone = "A" if number % 2 else "B"
            booth.plan_column, booth.plan_row = (number - 1) % 10 + 1, (number - 1) // 10 + 1
        db.session.commit()

    def measure():
        result = {}
        for url in (f"{CONSOLE}/{programme.id}", CONSOLE, booth_url(programme, 1), "/quan-tri/"):
            with count_queries() as counter:
                assert staff_client.get(url).status_code == 200
            result[url] = counter.count
        return result

    add_booths(range(1, 4))
    small = measure()
    add_booths(range(4, 31))
    # One product of a booth archived: the warnings are loaded with the same statements.
    db.session.execute(
        update(Product)
        .where(Product.id == db.session.scalar(select(BoothProduct.product_id).limit(1)))
        .values(status=ProductStatus.ARCHIVED)
    )
    db.session.commit()
    assert measure() == small
