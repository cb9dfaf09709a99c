"""The cooperative's product pages (/quan-ly-htx/san-pham): list, write, lifecycle buttons, access.

What a member sees on the page and what the database holds afterwards; a member of another
cooperative finds none of it (404), whatever the URL or form says.
"""

import html
import re
import unicodedata
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog import services
from shop.catalog.models import (
    Category,
    Product,
    ProductCertification,
    ProductLink,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
)
from shop.cooperatives.models import CooperativeStatus, MembershipRole
from shop.extensions import db
from shop.notify.models import Notification, OutboxEmail
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
    load_taxonomy,
)
from tests.helpers import csrf_token, page_text, post_form, sign_in

LIST = "/quan-ly-htx/san-pham"
NEW = "/quan-ly-htx/san-pham/moi"
SUBMIT_BUTTON = "Gửi duyệt</button>"
COUNTED = (Product, ProductRevision, ProductCertification, ProductLink, AuditEntry, Notification)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def world(blank_db):
    """Cooperatives A (owner, editor) and B (owner); a buyer, staff, an admin; the taxonomy."""
    load_taxonomy()
    coop_a = create_cooperative(name="HTX Thế giới A", slug="htx-the-gioi-a")
    coop_b = create_cooperative(name="HTX Thế giới B", slug="htx-the-gioi-b")
    world = SimpleNamespace(
        app=blank_db,
        coop_a=coop_a,
        coop_b=coop_b,
        owner_a=create_user(cooperative=coop_a, email="chu-a@example.com"),
        editor_a=create_user(
            cooperative=coop_a, membership_role=MembershipRole.EDITOR, email="bt-a@example.com"
        ),
        owner_b=create_user(cooperative=coop_b, email="chu-b@example.com"),
        buyer=create_user(Role.BUYER),
        staff=create_user(Role.STAFF, email="can-bo@example.com"),
        admin=create_user(Role.ADMIN, email="quan-tri@example.com"),
        category=db.session.scalar(select(Category).order_by(Category.sort_order)),
    )
    db.session.commit()
    return world


def client_for(world, user=None):
    client = world.app.test_client()
    if user is not None:
        sign_in(client, user)
    return client


def form_data(world, **overrides) -> dict:
    """What a member fills in the product form, as the browser sends it."""
    data = {
        "name_vi": "Gạo nếp cái hoa vàng",
        "category_id": str(world.category.id),
        "unit_code": "kg",
        "pack_size_vi": "Túi 2 kg",
        "price": "48.000",
        "min_order_qty": "0,5",
        "description_vi": "Nếp thơm, dẻo.\nVụ mùa năm nay.",
        "ocop_stars": "0",
        "certifications": ["vietgap", "haccp"],
        "season": ["10", "11", "12"],
        "season_vi": "Vụ mùa",
        "traceability_url": "https://truyxuat.example/gao",
        "links-0-label": "Sàn Bắc Ninh",
        "links-0-url": "https://san.example/gao",
        "links-1-label": "",
        "links-1-url": "",
        "links-2-label": "",
        "links-2-url": "",
        "name_en": "",
        "pack_size_en": "",
        "description_en": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def counts() -> dict:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def fresh(model, id_):
    return db.session.get(model, id_, populate_existing=True)


def text(response) -> str:
    return html.unescape(page_text(response))


def field_error(response, field_id: str) -> str:
    """The error shown next to a field (its `<id>-error` paragraph)."""
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    assert match, f"no error next to {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


class _FormReader(HTMLParser):
    """Collect what a browser would send for the form posting to `action` (no button pressed)."""

    def __init__(self, action):
        super().__init__()
        self.action, self.inside, self.data = action, False, {}
        self.select = self.textarea = None

    def add(self, name, value):
        if name in self.data:
            old = self.data[name]
            self.data[name] = (old if isinstance(old, list) else [old]) + [value]
        else:
            self.data[name] = value

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.add(a["name"], a.get("value", "on"))
            elif kind != "submit":
                self.add(a["name"], a.get("value") or "")
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.add(self.select, a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.add(self.textarea, "")

    def handle_data(self, data):
        if self.inside and self.textarea:
            self.data[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def browser_form(raw: str, action: str) -> dict:
    reader = _FormReader(action)
    reader.feed(raw)
    # Checkbox groups are lists even with one box ticked.
    for name in ("certifications", "season"):
        value = reader.data.get(name)
        if isinstance(value, str):
            reader.data[name] = [value]
    return reader.data


def product_of(world, coop=None, **values) -> Product:
    product = create_product(coop or world.coop_a, category=world.category, **values)
    db.session.commit()
    return product


def live_with_revision(world, **changes):
    """A published product of A with a pending revision of `changes` (the service's way)."""
    product = product_of(world, name_vi="Mật ong rừng", price_vnd=150000)
    revision = services.update_product(product, world.owner_a, changes)
    db.session.commit()
    return product, revision


# --------------------------------------------------------------------------- the list


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_list_shows_own_products_with_plain_status_badges(world, lang):
    names = {
        ProductStatus.DRAFT: "Nháp Cà muối",
        ProductStatus.SUBMITTED: "Chờ Tương Bần",
        ProductStatus.PUBLISHED: "Bán Bánh phu thê",
        ProductStatus.CHANGES_REQUESTED: "Sửa Mật ong",
        ProductStatus.REJECTED: "Loại Rượu làng Vân",
        ProductStatus.ARCHIVED: "Cất Gà Hồ",
    }
    for status, name in names.items():
        product_of(world, name_vi=name, status=status)
    product_of(world, world.coop_b, name_vi="Của B Nem Bùi")
    client = client_for(world, world.owner_a)

    response = client.get(f"{LIST}?lang={lang}")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    page = text(response)
    for status, name in names.items():
        assert (name in page) == (status != ProductStatus.ARCHIVED), name
    assert "Của B Nem Bùi" not in page
    if lang == "vi":
        for badge in ("Bản nháp", "Đang chờ duyệt", "Đang bán", "Cần sửa", "Bị từ chối"):
            assert badge in page
        assert "Đã lưu trữ" not in page
        assert "Đang dùng (5)" in page and "Lưu trữ (1)" in page
        assert "Thêm sản phẩm" in page

    archived = text(client.get(f"{LIST}?tab=archived&lang={lang}"))
    assert "Cất Gà Hồ" in archived and "Nháp Cà muối" not in archived
    if lang == "vi":
        assert "Đã lưu trữ" in archived


def test_list_names_a_pending_revision_and_the_staffs_reasons(world):
    product_of(
        world,
        name_vi="Sửa Mật ong",
        status=ProductStatus.CHANGES_REQUESTED,
        review_reasons=["photo", "price"],
        moderation_note="Ảnh bìa bị mờ, giá ghi sai đơn vị.",
    )
    product_of(
        world, name_vi="Loại Rượu", status=ProductStatus.REJECTED, moderation_note="Hàng cấm bán"
    )
    live_with_revision(world, price_vnd=160000)
    page = text(client_for(world, world.owner_a).get(LIST))
    assert "Liên minh HTX đề nghị sửa: Ảnh sản phẩm Giá Ảnh bìa bị mờ, giá ghi sai đơn vị." in page
    assert "Lý do không duyệt: Hàng cấm bán" in page
    assert "Mật ong rừng Đang bán có bản sửa chờ duyệt" in page


def test_list_of_a_pending_cooperative_says_products_wait_for_verification(world):
    world.coop_a.status = CooperativeStatus.PENDING
    db.session.commit()
    page = text(client_for(world, world.owner_a).get(LIST))
    assert "bạn vẫn chuẩn bị được sản phẩm" in page
    assert "khi hợp tác xã được xác minh, bạn mới gửi sản phẩm đi duyệt được" in page
    assert "Hợp tác xã chưa có sản phẩm nào." in page


def test_dashboard_nav_links_to_products(world):
    client = client_for(world, world.editor_a)
    raw = client.get("/quan-ly-htx/").get_data(as_text=True)
    assert f'<a href="{LIST}">Sản phẩm</a>' in raw
    raw = client.get(NEW).get_data(as_text=True)
    assert f'<a href="{LIST}" aria-current="true">Sản phẩm</a>' in raw


# --------------------------------------------------------------------------- create and edit


def test_create_saves_a_draft_with_everything_typed(world):
    client = client_for(world, world.editor_a)
    response = post_form(client, NEW, form_data(world))
    product = db.session.scalar(select(Product).where(Product.name_vi == "Gạo nếp cái hoa vàng"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LIST}/{product.id}"
    assert product.cooperative_id == world.coop_a.id
    assert product.status == ProductStatus.DRAFT
    assert product.price_vnd == 48000 and str(product.min_order_qty).startswith("0.5")
    values = services.current_values(product)
    assert values["certifications"] == ["haccp", "vietgap"]
    assert values["links"] == [{"label": "Sàn Bắc Ninh", "url": "https://san.example/gao"}]
    assert product.season_months == (1 << 9) | (1 << 10) | (1 << 11)

    page = text(client.get(response.headers["Location"]))
    assert "Đã lưu bản nháp “Gạo nếp cái hoa vàng”." in page
    assert "Bản nháp" in page and "48.000 ₫ / kg" in page
    assert "Tháng 10, Tháng 11, Tháng 12" in page and "Sàn Bắc Ninh" in page
    for button in ("Gửi duyệt", "Sửa thông tin", "Ảnh sản phẩm (0)", "Nhân bản", "Lưu trữ"):
        assert button in page
    assert f'href="/quan-ly-htx/san-pham/{product.id}/anh"' in client.get(
        f"{LIST}/{product.id}"
    ).get_data(as_text=True)


def test_create_and_send_for_review_in_one_go(world):
    client = client_for(world, world.owner_a)
    response = post_form(client, NEW, form_data(world, send="1"))
    assert response.status_code == 302
    product = db.session.scalar(select(Product).where(Product.name_vi == "Gạo nếp cái hoa vàng"))
    assert product.status == ProductStatus.SUBMITTED
    assert "Đã lưu và gửi “Gạo nếp cái hoa vàng” đi duyệt." in text(
        client.get(response.headers["Location"])
    )


def test_pending_cooperative_can_prepare_but_not_send(world):
    world.coop_a.status = CooperativeStatus.PENDING
    db.session.commit()
    client = client_for(world, world.owner_a)
    form_page = text(client.get(NEW))
    assert "Lưu và gửi duyệt" not in form_page and "bạn vẫn chuẩn bị được sản phẩm" in form_page
    response = post_form(client, NEW, form_data(world, send="1"), follow_redirects=True)
    product = db.session.scalar(select(Product).where(Product.name_vi == "Gạo nếp cái hoa vàng"))
    assert product.status == ProductStatus.DRAFT
    page = text(response)
    assert "Đã lưu bản nháp" in page and "cần được Liên minh xác minh" in page
    assert SUBMIT_BUTTON not in response.get_data(as_text=True)

    response = post_form(client, f"{LIST}/{product.id}/gui-duyet", form_url=f"{LIST}/{product.id}")
    assert response.status_code == 302
    assert fresh(Product, product.id).status == ProductStatus.DRAFT
    assert "Hợp tác xã cần được Liên minh xác minh" in text(client.get(f"{LIST}/{product.id}"))


def test_new_form_fills_choices_from_the_database_in_vietnamese(world):
    raw = html.unescape(client_for(world, world.owner_a).get(NEW).get_data(as_text=True))
    assert f'<option value="{world.category.id}">{world.category.name_vi}</option>' in raw
    assert '<option value="kg">' in raw and "VietGAP" in raw
    for label in ("Tên sản phẩm", "Danh mục", "Đơn vị bán", "Giá bán (đồng)", "Đặt tối thiểu"):
        assert f">{label}" in raw
    assert "Ví dụ: 120.000 hoặc 120k" in raw


def test_a_failed_submit_keeps_what_was_typed_and_writes_nothing(world):
    client = client_for(world, world.owner_a)
    before = counts()
    data = form_data(world, price="12,5", description_vi="Nếp <b>thơm</b> 🍚")
    response = post_form(client, NEW, data)
    assert response.status_code == 422
    assert counts() == before
    assert "Giá chưa đúng" in field_error(response, "price")
    raw = html.unescape(response.get_data(as_text=True))
    assert "Chưa lưu được: hãy sửa những chỗ sau" in raw
    assert 'value="Gạo nếp cái hoa vàng"' in raw and 'value="12,5"' in raw
    assert "Nếp <b>thơm</b> 🍚</textarea>" in raw
    assert 'value="haccp" checked' in raw and 'value="vietgap" checked' in raw
    assert 'value="10" checked' in raw and 'value="1" checked' not in raw
    assert 'value="https://san.example/gao"' in raw
    assert f'<option value="{world.category.id}" selected>' in raw


BAD_INPUT = [
    ("name_vi", "x" * 201, "name_vi", "Dài quá: tối đa 200 ký tự (bạn đã nhập 201)."),
    ("name_vi", "", "name_vi", "Hãy nhập tên sản phẩm."),
    ("name_vi", "Gạo\x00nếp", "name_vi", "ký tự điều khiển"),
    ("description_vi", "x" * 5001, "description_vi", "tối đa 5000 ký tự"),
    ("price", "12,5", "price", "Giá chưa đúng"),
    ("price", "abc", "price", "Giá chưa đúng"),
    ("price", "-5000", "price", "Giá chưa đúng"),
    ("price", "0", "price", "Giá phải lớn hơn 0"),
    ("min_order_qty", "0", "min_order_qty", "Số lượng phải lớn hơn 0"),
    ("min_order_qty", "abc", "min_order_qty", "Số lượng phải lớn hơn 0"),
    ("traceability_url", "javascript:alert(1)", "traceability_url", "https://"),
    ("traceability_url", "ftp://files.example/gao", "traceability_url", "https://"),
    ("links-0-url", "ftp://files.example/gao", "links-0-url", "https://"),
    ("links-0-url", "javascript:alert(1)", "links-0-url", "https://"),
    ("category_id", "999999", "category_id", "Danh mục này không có trong danh sách"),
    ("category_id", "abc", "category_id", "Danh mục này không có trong danh sách"),
    ("category_id", "", "category_id", "Hãy chọn danh mục."),
    ("unit_code", "thung", "unit_code", "Đơn vị này không có trong danh sách"),
    ("certifications", ["vietgap", "khong-co"], "certifications", "không có trong danh sách"),
    ("ocop_year", "abc", "ocop_year", "Hãy nhập một số"),
    ("season", [], "season", "Chọn ít nhất một tháng có hàng."),
]


@pytest.mark.parametrize(
    "field, value, field_id, message", BAD_INPUT, ids=[f"{f}={v[:20]!r}" for f, v, *_ in BAD_INPUT]
)
def test_bad_input_is_refused_next_to_its_field(world, field, value, field_id, message):
    client = client_for(world, world.owner_a)
    before = counts()
    response = post_form(client, NEW, form_data(world, **{field: value}))
    assert response.status_code == 422
    assert message in field_error(response, field_id)
    assert counts() == before
    assert "Not a valid" not in response.get_data(as_text=True)
    assert "This field" not in response.get_data(as_text=True)


def test_bad_input_on_edit_writes_nothing_either(world):
    product = product_of(world, name_vi="Trứng gà", status=ProductStatus.DRAFT)
    client = client_for(world, world.owner_a)
    before = counts()
    url = f"{LIST}/{product.id}/sua"
    response = post_form(client, url, form_data(world, min_order_qty="abc", name_vi="Đổi tên"))
    assert response.status_code == 422
    assert counts() == before
    assert fresh(Product, product.id).name_vi == "Trứng gà"
    assert 'value="Đổi tên"' in html.unescape(response.get_data(as_text=True))


def test_text_is_stored_nfc_and_shown_literally(world):
    typed = "Bánh <script>alert(1)</script> {{ 7*7 }} phu thê 🍚🎉"
    client = client_for(world, world.owner_a)
    response = post_form(client, NEW, form_data(world, name_vi=unicodedata.normalize("NFD", typed)))
    assert response.status_code == 302
    product = db.session.scalar(select(Product).order_by(Product.id.desc()))
    assert product.name_vi == typed and unicodedata.is_normalized("NFC", product.name_vi)
    for url in (response.headers["Location"], LIST, f"{LIST}/{product.id}/sua"):
        raw = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in raw
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} phu thê 🍚🎉" in raw
        assert "49" not in page_text(client.get(url)).split("phu thê")[0][-20:]


def test_editing_a_draft_changes_it_in_place(world):
    product = product_of(world, name_vi="Trứng gà", status=ProductStatus.DRAFT)
    client = client_for(world, world.owner_a)
    url = f"{LIST}/{product.id}/sua"
    assert 'value="Trứng gà"' in html.unescape(client.get(url).get_data(as_text=True))
    response = post_form(client, url, form_data(world, name_vi="Trứng gà ta", price="3.500"))
    assert response.status_code == 302
    product = fresh(Product, product.id)
    assert (product.name_vi, product.price_vnd) == ("Trứng gà ta", 3500)
    assert db.session.scalar(select(func.count()).select_from(ProductRevision)) == 0
    assert "Đã lưu “Trứng gà ta”." in text(client.get(f"{LIST}/{product.id}"))


def test_editing_a_live_product_waits_for_review_and_prefills_from_the_revision(world):
    product = product_of(world, name_vi="Mật ong rừng", price_vnd=150000)
    client = client_for(world, world.owner_a)
    url = f"{LIST}/{product.id}/sua"
    page = text(client.get(url))
    assert "Sản phẩm này đang bán." in page
    assert "người mua vẫn thấy bản đang bán" in page
    assert "Gửi bản sửa để duyệt" in page

    data = form_data(world, name_vi="Mật ong rừng", price="165.000", unit_code="kg")
    response = post_form(client, url, data, follow_redirects=True)
    assert "Đã gửi bản sửa." in text(response)
    live = fresh(Product, product.id)
    assert live.price_vnd == 150000 and live.status == ProductStatus.PUBLISHED
    revision = db.session.scalar(select(ProductRevision))
    assert revision.status == RevisionStatus.PENDING and revision.data["price_vnd"] == 165000

    page = text(response)
    assert "Đang bán có bản sửa chờ duyệt" in page
    assert "Bản sửa đang chờ duyệt" in page
    assert "Giá bán Đang bán: 150.000 ₫ → Đề nghị: 165.000 ₫" in page

    again = client.get(url)
    assert 'value="165.000"' in again.get_data(as_text=True)
    assert "Bạn đã có một bản sửa đang chờ duyệt" in text(again)
    # Saving again updates the same revision; the public page still shows the live price.
    post_form(client, url, {**data, "price": "170.000"})
    assert db.session.scalar(select(func.count()).select_from(ProductRevision)) == 1
    assert fresh(ProductRevision, revision.id).data["price_vnd"] == 170000
    assert "150.000 ₫" in text(client.get(f"/san-pham/{product.slug}"))


def test_saving_an_unchanged_form_writes_nothing(world):
    client = client_for(world, world.owner_a)
    post_form(client, NEW, form_data(world))
    product = db.session.scalar(select(Product).where(Product.name_vi == "Gạo nếp cái hoa vàng"))
    services.submit(product, world.owner_a)
    services.approve(product, world.staff)
    db.session.commit()
    url = f"{LIST}/{product.id}/sua"
    data = browser_form(client.get(url).get_data(as_text=True), url)
    assert data["price"] == "48.000" and data["min_order_qty"] == "0,5"
    assert data["certifications"] == ["haccp", "vietgap"]
    before = counts()
    response = client.post(url, data=data, follow_redirects=True)
    assert "Không có gì thay đổi." in text(response)
    assert counts() == before


def test_archived_product_cannot_be_edited_until_restored(world):
    product = product_of(world, status=ProductStatus.ARCHIVED)
    client = client_for(world, world.owner_a)
    response = client.get(f"{LIST}/{product.id}/sua", follow_redirects=True)
    assert "Sản phẩm đã lưu trữ. Khôi phục trước khi sửa." in text(response)
    assert "Khôi phục" in text(response) and "Sửa thông tin" not in text(response)


# --------------------------------------------------------------------------- lifecycle buttons


def press(client, product, action):
    url = f"{LIST}/{product.id}"
    return post_form(client, f"{url}/{action}", form_url=url)


def test_submit_archive_restore_duplicate(world):
    product = product_of(world, name_vi="Nem Bùi", status=ProductStatus.DRAFT)
    client = client_for(world, world.editor_a)

    response = press(client, product, "gui-duyet")
    assert response.status_code == 302 and response.headers["Location"] == f"{LIST}/{product.id}"
    assert fresh(Product, product.id).status == ProductStatus.SUBMITTED
    assert "Đã gửi “Nem Bùi” đi duyệt." in text(client.get(f"{LIST}/{product.id}"))

    press(client, product, "luu-tru")
    assert fresh(Product, product.id).status == ProductStatus.ARCHIVED
    assert "Người mua không còn thấy sản phẩm này." in text(client.get(f"{LIST}/{product.id}"))

    press(client, product, "khoi-phuc")
    assert fresh(Product, product.id).status == ProductStatus.DRAFT

    response = press(client, product, "nhan-ban")
    copy = db.session.scalar(select(Product).where(Product.name_vi == "Nem Bùi (bản sao)"))
    assert copy.status == ProductStatus.DRAFT and copy.cooperative_id == world.coop_a.id
    assert response.headers["Location"] == f"{LIST}/{copy.id}/sua"
    assert "Đã tạo bản sao “Nem Bùi (bản sao)”." in text(client.get(response.headers["Location"]))
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == product.id).order_by(AuditEntry.id)
    ).all()
    assert actions == ["product.submitted", "product.archived", "product.restored"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_second_submit_is_a_409_that_writes_nothing(world, lang):
    product = product_of(world, name_vi="Nem Bùi", status=ProductStatus.SUBMITTED)
    client = client_for(world, world.owner_a)
    url = f"{LIST}/{product.id}"
    token = csrf_token(client, url)
    before = counts()
    response = client.post(f"{url}/gui-duyet?lang={lang}", data={"csrf_token": token})
    assert response.status_code == 409
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    if lang == "vi":
        page = text(response)
        assert "Sản phẩm đã được xử lý" in page and "Đang chờ duyệt" in page
    assert counts() == before


def test_actions_from_the_wrong_status_are_409(world):
    product = product_of(world, status=ProductStatus.REJECTED)
    client = client_for(world, world.owner_a)
    assert SUBMIT_BUTTON not in client.get(f"{LIST}/{product.id}").get_data(as_text=True)
    response = press(client, product, "gui-duyet")
    assert response.status_code == 409
    product = product_of(world, status=ProductStatus.ARCHIVED)
    response = press(client, product, "luu-tru")
    assert response.status_code == 409


def test_staff_reasons_show_on_the_product_page(world):
    product = product_of(
        world,
        status=ProductStatus.CHANGES_REQUESTED,
        review_reasons=["certificate"],
        moderation_note="Giấy chứng nhận OCOP đã hết hạn.",
    )
    client = client_for(world, world.owner_a)
    page = text(client.get(f"{LIST}/{product.id}"))
    assert "Cần sửa: Chứng nhận, OCOP Giấy chứng nhận OCOP đã hết hạn." in page
    assert SUBMIT_BUTTON in client.get(f"{LIST}/{product.id}").get_data(as_text=True)


def test_a_revision_sent_back_is_explained_beside_the_live_product(world):
    product, revision = live_with_revision(world, price_vnd=1000)
    services.request_revision_changes(revision, world.staff, ["price"], "Giá thấp bất thường")
    db.session.commit()
    page = text(client_for(world, world.owner_a).get(f"{LIST}/{product.id}"))
    assert "Bản sửa gần nhất chưa được duyệt" in page
    assert "Liên minh HTX đề nghị: Giá Giá thấp bất thường" in page
    assert "150.000 ₫" in page


# --------------------------------------------------------------------------- access


def product_routes(app):
    """Every route about one product of the dashboard (GET and POST), from the URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/quan-ly-htx/san-pham/<int:id>"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, rule.rule))
    return found


def test_another_cooperatives_member_gets_404_for_every_product_url(world):
    product, _revision = live_with_revision(world, price_vnd=170000)
    draft = product_of(world, status=ProductStatus.DRAFT)
    routes = product_routes(world.app)
    assert len(routes) >= 9
    client = client_for(world, world.owner_b)
    token = csrf_token(client, LIST)
    before = counts()
    for target in (product, draft):
        for method, rule in routes:
            url = rule.replace("<int:id>", str(target.id))
            if method == "GET":
                response = client.get(url)
            else:
                # A form as complete as the owner's, with ids of A's own rows in it.
                data = {**form_data(world), "csrf_token": token, "image_id": "1", "send": "1"}
                response = client.open(url, method=method, data=data)
            assert response.status_code == 404, (method, url, response.status_code)
    assert counts() == before
    assert fresh(Product, draft.id).status == ProductStatus.DRAFT


@pytest.mark.parametrize("product_id", ["0", "999999", "2147483648", "99999999999999999999"])
def test_unknown_and_tampered_ids_are_404(world, product_id):
    client = client_for(world, world.owner_a)
    assert client.get(f"{LIST}/{product_id}").status_code == 404
    assert client.get(f"{LIST}/{product_id}/sua").status_code == 404
    response = post_form(client, f"{LIST}/{product_id}/luu-tru", form_url=LIST)
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "buyer", "staff"])
def test_only_members_reach_the_product_dashboard(world, who):
    product = product_of(world)
    client = client_for(world, None if who == "anonymous" else getattr(world, who))
    urls = [LIST, NEW, f"{LIST}/{product.id}", f"{LIST}/{product.id}/sua"]
    token = csrf_token(client)
    for url in urls + [f"{LIST}/{product.id}/luu-tru", f"{LIST}/{product.id}/nhan-ban"]:
        if url in urls:
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        if who == "anonymous":
            assert response.status_code == 302
            assert "/tai-khoan/dang-nhap" in response.headers["Location"]
        else:
            assert response.status_code == 403, url
    assert fresh(Product, product.id).status == ProductStatus.PUBLISHED


# --------------------------------------------------------------------------- public pages


def test_only_published_products_and_approved_values_appear_publicly(world):
    hidden = {
        status: product_of(world, name_vi=f"Ẩn {status.value} Chè lam", status=status)
        for status in (
            ProductStatus.DRAFT,
            ProductStatus.SUBMITTED,
            ProductStatus.CHANGES_REQUESTED,
            ProductStatus.REJECTED,
            ProductStatus.ARCHIVED,
        )
    }
    live, revision = live_with_revision(world, name_vi="Tên chưa duyệt Bánh khúc", price_vnd=987000)
    programme = create_programme()
    create_booth(programme, 7, world.coop_a, [live, *hidden.values()])
    db.session.commit()
    client = client_for(world)

    pages = [
        "/",
        "/san-pham",
        f"/san-pham/{live.slug}",
        f"/htx/{world.coop_a.slug}",
        f"/chuong-trinh/{programme.slug}",
        f"/chuong-trinh/{programme.slug}/gian-hang/7",
        f"/danh-muc/{world.category.slug}",
    ]
    for url in pages:
        page = text(client.get(url))
        for product in hidden.values():
            assert product.name_vi not in page, url
        assert "Tên chưa duyệt" not in page and "987.000" not in page, url
    for product in hidden.values():
        assert client.get(f"/san-pham/{product.slug}").status_code == 404
    assert "Mật ong rừng" in text(client.get(f"/chuong-trinh/{programme.slug}/gian-hang/7"))
    assert "150.000 ₫" in text(client.get(f"/san-pham/{live.slug}"))
    assert fresh(ProductRevision, revision.id).status == RevisionStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_the_list_runs_as_many_statements_for_3_products_as_for_23(world, count_queries):
    client = client_for(world, world.owner_a)

    def measure():
        with count_queries() as counter:
            assert client.get(LIST).status_code == 200
        return counter.count

    for n in range(3):
        product_of(world, name_vi=f"Sản phẩm {n}")
    small = measure()
    for n in range(20):
        product = product_of(world, name_vi=f"Thêm {n}")
        if n % 3 == 0:
            services.update_product(product, world.owner_a, {"price_vnd": 1000 + n})
    db.session.commit()
    assert measure() == small
