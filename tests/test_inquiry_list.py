"""The buyer's inquiry list (/yeu-cau-bao-gia): adding from product, cooperative and booth pages,
quantities, removing, the session and saved lists, the merge on signing in, the header count.

Decisions these tests pin down: adding a product already on the list adds to its quantity; a
booth id that does not feature the product is ignored (the product is still added); a product
that stops being public stays on the list greyed ("Sản phẩm không còn bán"), outside the
estimate and what sending reads; quantities below the minimum order are allowed, with a note.
"""

import re
from decimal import Decimal

import pytest
from flask import session
from sqlalchemy import select

from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus, Locality
from shop.extensions import db
from shop.inquiries import lists
from shop.inquiries.lists import InquiryListError, parse_quantity
from shop.inquiries.models import InquiryListItem
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import csrf_token, page_text, sign_in

LIST = "/yeu-cau-bao-gia"
ADD = f"{LIST}/them"
UPDATE = f"{LIST}/cap-nhat"
REMOVE = f"{LIST}/xoa"


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("2", "vi", "2"),
        ("1,5", "vi", "1.5"),
        ("1.5", "vi", "1.5"),
        (" 0,125 ", "vi", "0.125"),
        ("1.500", "vi", "1500"),  # Vietnamese thousands
        ("1.000.000", "vi", "1000000"),
        ("1,500", "vi", "1.5"),  # Vietnamese decimal comma
        ("1.500", "en", "1.5"),
        ("1,500", "en", "1500"),  # English thousands
        ("1,5", "en", "1.5"),
        ("2 000", "vi", "2000"),
        ("1\u00a0000", "vi", "1000"),
        ("0.500", "vi", "0.5"),
        ("1000000", "vi", "1000000"),
    ],
)
def test_quantities_read_the_way_buyers_write_them(demo_db, text, lang, expected):
    with demo_db.test_request_context():
        assert parse_quantity(text, lang) == Decimal(expected)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Hãy nhập số lượng."),
        ("0", "Số lượng phải lớn hơn 0."),
        ("0,000", "Số lượng phải lớn hơn 0."),
        ("-1", "Số lượng phải lớn hơn 0."),
        ("-0,5", "Số lượng phải lớn hơn 0."),
        ("abc", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("2 kg", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("1e3", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("NaN", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("Infinity", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("1,2,3", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("１２", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),  # full-width digits
        ("٣", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("1000001", "Số lượng tối đa là 1.000.000."),
        ("1.000.001", "Số lượng tối đa là 1.000.000."),
        ("9" * 40, "Số lượng tối đa là 1.000.000."),
        ("0,0001", "Số lượng chỉ có tối đa 3 chữ số thập phân, ví dụ 0,125."),
        ("1,2345", "Số lượng chỉ có tối đa 3 chữ số thập phân, ví dụ 0,125."),
    ],
)
def test_bad_quantities_are_refused_with_a_reason(demo_db, text, message):
    with demo_db.test_request_context(), pytest.raises(InquiryListError) as refused:
        parse_quantity(text, "vi")
    assert str(refused.value) == message
    assert refused.value.status == 422


def test_quantities_go_back_into_fields_in_the_page_language(demo_db):
    assert lists.input_value(Decimal("1.500"), "vi") == "1,5"
    assert lists.input_value(Decimal("1.500"), "en") == "1.5"
    assert lists.input_value(Decimal("200.000"), "vi") == "200"
    assert lists.input_value(Decimal("1000000"), "vi") == "1000000"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def goods(client):
    """Two cooperatives: greens by the kg (one priced on request), honey by the jar at booth 10."""
    locality = db.session.scalar(
        select(Locality).where(Locality.district_2022_name_vi.is_not(None))
    )
    coop_a = create_cooperative(name="HTX Rau Thử Nghiệm", locality=locality)
    coop_b = create_cooperative(name="HTX Mật Ong Thử Nghiệm", locality=locality)
    greens = create_product(
        coop_a,
        name_vi="Cải ngồng thử",
        name_en="Test mustard greens",
        price_vnd=30000,
        min_order_qty=Decimal("2"),
    )
    spinach = create_product(coop_a, name_vi="Rau muống thử", price_vnd=None)
    honey = create_product(coop_b, name_vi="Mật ong thử", unit_code="jar", price_vnd=150000)
    other = create_product(coop_b, name_vi="Sáp ong thử", unit_code="jar", price_vnd=40000)
    draft = create_product(coop_b, name_vi="Phấn hoa thử", status=ProductStatus.DRAFT)
    programme = create_programme()
    booth = create_booth(programme, 10, coop_b, [honey])
    db.session.commit()
    return {
        "coop_a": coop_a,
        "coop_b": coop_b,
        "greens": greens,
        "spinach": spinach,
        "honey": honey,
        "other": other,
        "draft": draft,
        "programme": programme,
        "booth": booth,
        "locality": locality,
    }


def add(client, product_id, quantity="1", **extra):
    data = {"product": str(product_id), "quantity": quantity, **extra}
    return client.post(ADD, data={**data, "csrf_token": csrf_token(client)})


def session_list(client):
    with client.session_transaction() as browser_session:
        return browser_session.get(lists.SESSION_KEY)


def saved(user):
    rows = db.session.scalars(
        select(InquiryListItem)
        .where(InquiryListItem.user_id == user.id)
        .order_by(InquiryListItem.id)
    )
    return [(row.product_id, row.quantity, row.booth_id) for row in rows]


def list_text(client, lang="vi") -> str:
    response = client.get(f"{LIST}?lang={lang}" if lang != "vi" else LIST)
    assert response.status_code == 200
    return page_text(response)


def lines_text(client) -> str:
    """The list page's text from its heading on, without the header or flashed messages."""
    client.get(LIST)  # the messages of the last change are shown once, then gone
    text = list_text(client)
    return text[text.index("Gom sản phẩm") :]


def header_count(client, url="/") -> str | None:
    raw = client.get(url).get_data(as_text=True)
    link = re.search(r'<a class="inquiry-nav"[^>]*>(.*?)</a>', raw, re.S)
    assert link, "no inquiry list link in the header"
    badge = re.search(r'class="nav-count"[^>]*>(\d+)<', link.group(1))
    return badge.group(1) if badge else None


# --------------------------------------------------------------------------- the list page


def test_an_empty_list_says_so_and_points_to_the_catalogue(client):
    raw = client.get(LIST).get_data(as_text=True)
    assert "Chưa có sản phẩm nào trong yêu cầu báo giá." in page_text_of(raw)
    assert 'href="/san-pham"' in raw and "Xem các sản phẩm" in raw
    assert "Cập nhật số lượng" not in raw
    english = list_text(client, "en")
    assert "Your quote request is empty." in english and "Browse products" in english


def page_text_of(raw: str) -> str:
    class R:
        def get_data(self, as_text=True):
            return raw

    return page_text(R())


def test_the_list_groups_lines_by_cooperative_with_prices_and_minimum(client, goods):
    g = goods
    assert add(client, g["greens"].id, "3").status_code == 302
    assert add(client, g["honey"].id, "2").status_code == 302
    assert add(client, g["spinach"].id, "5").status_code == 302
    text = lines_text(client)
    # Grouped by cooperative in the order added: A (greens, spinach), then B (honey).
    a = text.index("HTX Rau Thử Nghiệm")
    b = text.index("HTX Mật Ong Thử Nghiệm")
    assert a < text.index("Cải ngồng thử") < text.index("Rau muống thử") < b
    assert b < text.index("Mật ong thử")
    commune = g["locality"].name_vi
    assert text.count(commune) == 2
    assert "30.000 ₫ / kg" in text and "150.000 ₫ / hũ" in text
    assert "Liên hệ" in text
    assert "Đặt tối thiểu: 2 kg" in text
    assert "Thành tiền tạm tính: 90.000 ₫" in text  # 3 kg × 30.000
    assert "Tạm tính: 90.000 ₫ (chưa gồm 1 sản phẩm giá liên hệ)" in text
    assert "Tạm tính: 300.000 ₫" in text
    assert "3 sản phẩm · 2 hợp tác xã" in text
    raw = client.get(LIST).get_data(as_text=True)
    assert f'name="qty-{g["greens"].id}" value="3"' in raw


def test_the_list_in_english(client, goods):
    add(client, goods["greens"].id, "1,5")
    add(client, goods["spinach"].id, "1")
    text = list_text(client, "en")
    assert "Quote request" in text and "Test mustard greens" in text
    assert "30,000 ₫ / kg" in text and "Price on request" in text
    assert "Minimum order: 2 kg" in text
    assert "Estimate: 45,000 ₫ (not counting 1 product priced on request)" in text
    assert "Below the minimum order" in text
    raw = client.get(LIST).get_data(as_text=True)
    assert f'name="qty-{goods["greens"].id}" value="1.5"' in raw
    assert "Update quantities" in raw


def test_a_quantity_below_the_minimum_is_kept_with_a_note(client, goods):
    add(client, goods["greens"].id, "1")
    text = list_text(client)
    assert "Ít hơn mức đặt tối thiểu; hợp tác xã có thể đề nghị số lượng khác." in text


# --------------------------------------------------------------------------- adding


def test_the_product_page_offers_the_form_with_the_minimum_and_unit(client, goods):
    raw = client.get(f"/san-pham/{goods['greens'].slug}").get_data(as_text=True)
    form = re.search(r'<form class="inquiry-add".*?</form>', raw, re.S).group(0)
    assert f'name="product" value="{goods["greens"].id}"' in form
    assert 'name="quantity" value="2"' in form
    assert ">kg</label>" in form and "Thêm vào yêu cầu báo giá" in form
    assert f'name="next" value="/san-pham/{goods["greens"].slug}"' in form
    assert 'name="booth"' not in form


def test_adding_from_a_product_page_goes_back_with_a_message_and_a_link(client, goods):
    slug = goods["greens"].slug
    response = add(client, goods["greens"].id, "2,5", next=f"/san-pham/{slug}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/san-pham/{slug}")
    raw = client.get(f"/san-pham/{slug}").get_data(as_text=True)
    assert "Đã thêm 2,5 kg “Cải ngồng thử” vào yêu cầu báo giá." in raw
    assert '<a href="/yeu-cau-bao-gia">Xem yêu cầu báo giá</a>' in raw
    assert session_list(client) == [[goods["greens"].id, "2.5", None]]


def test_adding_again_adds_to_the_quantity(client, goods):
    add(client, goods["greens"].id, "2")
    add(client, goods["greens"].id, "1,5")
    assert session_list(client) == [[goods["greens"].id, "3.5", None]]
    text = page_text(client.get(LIST))
    assert "Đã thêm 1,5 kg “Cải ngồng thử” vào yêu cầu báo giá (nay là 3,5 kg)." in text


def test_a_sum_beyond_the_maximum_is_refused(client, goods):
    add(client, goods["greens"].id, "999999")
    response = add(client, goods["greens"].id, "2")
    assert response.status_code == 422
    assert "Trong danh sách đã có 999.999 kg; cộng thêm sẽ vượt quá 1.000.000." in page_text(
        response
    )
    assert session_list(client) == [[goods["greens"].id, "999999", None]]


def test_next_must_be_a_local_address(client, goods):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = add(client, goods["greens"].id, "1", next=target)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/san-pham/{goods['greens'].slug}")


def test_cooperative_cards_carry_the_form_and_the_catalogue_does_not(client, goods):
    raw = client.get(f"/htx/{goods['coop_b'].slug}").get_data(as_text=True)
    forms = re.findall(r'<form class="inquiry-add inquiry-add-compact".*?</form>', raw, re.S)
    assert len(forms) == 2  # honey and wax; the draft is not on the page
    assert all('name="booth"' not in form for form in forms)
    assert 'Thêm vào yêu cầu báo giá<span class="visually-hidden">: Mật ong thử</span>' in raw
    response = add(client, goods["other"].id, "4", next=f"/htx/{goods['coop_b'].slug}")
    assert response.headers["Location"].endswith(f"/htx/{goods['coop_b'].slug}")
    catalogue = client.get("/san-pham").get_data(as_text=True)
    assert "inquiry-add" not in catalogue


def test_adding_from_a_booth_remembers_the_booth(client, goods):
    g = goods
    url = f"/chuong-trinh/{g['programme'].slug}/gian-hang/10"
    raw = client.get(url).get_data(as_text=True)
    form = re.search(r'<form class="inquiry-add inquiry-add-compact".*?</form>', raw, re.S).group(0)
    assert f'name="booth" value="{g["booth"].id}"' in form
    response = add(client, g["honey"].id, "2", booth=str(g["booth"].id), next=url)
    assert response.headers["Location"].endswith(url)
    assert session_list(client) == [[g["honey"].id, "2", g["booth"].id]]
    text = list_text(client)
    assert f"Từ gian hàng số 10, {g['programme'].title_vi}" in text
    assert lists.Line(g["honey"].id, Decimal(2), g["booth"].id) in [
        line.line for group in read_anonymous(client) for line in group.lines
    ]


def read_anonymous(client):
    """What sending reads, for the anonymous visitor of `client` (their session)."""
    with client.session_transaction() as browser_session:
        stored = dict(browser_session)
    with client.application.test_request_context():
        session.update(stored)
        return lists.sendable_groups(None)


def test_a_booth_that_does_not_feature_the_product_is_ignored(client, goods):
    g = goods
    other_programme = create_programme()
    elsewhere = create_booth(other_programme, 3, g["coop_a"], [g["greens"]])
    db.session.commit()
    for booth in (elsewhere.id, 999999, "abc", "-1", "1" * 30):
        response = add(client, g["honey"].id, "1", booth=str(booth))
        assert response.status_code == 302
    # Added five times, never with a booth that does not show honey.
    assert session_list(client) == [[g["honey"].id, "5", None]]
    response = add(client, g["honey"].id, "1", booth=str(g["booth"].id))
    assert session_list(client) == [[g["honey"].id, "6", g["booth"].id]]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("0", "Số lượng phải lớn hơn 0."),
        ("-3", "Số lượng phải lớn hơn 0."),
        ("mười", "Số lượng phải là một số, ví dụ 2 hoặc 1,5."),
        ("", "Hãy nhập số lượng."),
        ("1000001", "Số lượng tối đa là 1.000.000."),
        ("1,2345", "Số lượng chỉ có tối đa 3 chữ số thập phân, ví dụ 0,125."),
    ],
)
def test_bad_quantities_change_nothing(client, goods, quantity, message):
    add(client, goods["honey"].id, "1")
    before = session_list(client)
    response = add(client, goods["greens"].id, quantity)
    assert response.status_code == 422
    text = page_text(response)
    assert "Chưa thêm được vào yêu cầu báo giá" in text and message in text
    assert "Cải ngồng thử" in text  # the form to try again names the product
    raw = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in raw
    assert session_list(client) == before


def test_bad_quantities_in_english(client, goods):
    client.get("/?lang=en")
    response = add(client, goods["greens"].id, "0")
    assert response.status_code == 422
    text = page_text(response)
    assert "Could not add to the quote request" in text
    assert "The quantity must be more than 0." in text


@pytest.mark.parametrize(
    "product, status, message",
    [
        ("999999", 422, "Sản phẩm này không có hoặc không còn bán."),
        ("0", 422, "Sản phẩm này không có hoặc không còn bán."),
        ("99999999999999999999", 422, "Sản phẩm này không có hoặc không còn bán."),
        ("abc", 400, "Không rõ sản phẩm nào cần thêm."),
        ("", 400, "Không rõ sản phẩm nào cần thêm."),
    ],
)
def test_unknown_products_are_refused(client, goods, product, status, message):
    response = add(client, product, "1")
    assert response.status_code == status
    assert message in page_text(response)
    assert session_list(client) is None


def test_products_that_are_not_public_cannot_be_added(client, goods):
    response = add(client, goods["draft"].id, "1")
    assert response.status_code == 422
    assert "Sản phẩm này không có hoặc không còn bán." in page_text(response)
    db.session.get(Cooperative, goods["coop_a"].id).status = CooperativeStatus.SUSPENDED
    db.session.commit()
    assert add(client, goods["greens"].id, "1").status_code == 422
    assert session_list(client) is None


def public_ids(n):
    from shop.catalog.queries import public_products

    return list(db.session.scalars(public_products().with_only_columns(Product.id).limit(n)))


def test_no_more_than_50_lines_in_the_session(client, goods):
    ids = [pid for pid in public_ids(60) if pid != goods["greens"].id][:50]
    with client.session_transaction() as browser_session:
        browser_session[lists.SESSION_KEY] = [[pid, "1", None] for pid in ids]
    response = add(client, goods["greens"].id, "1")
    assert response.status_code == 422
    assert "Yêu cầu báo giá có tối đa 50 sản phẩm." in page_text(response)
    assert len(session_list(client)) == 50
    # A product already on the full list can still grow.
    assert add(client, ids[0], "1").status_code == 302
    assert session_list(client)[0] == [ids[0], "2", None]


def test_no_more_than_50_lines_saved(client, goods):
    user = create_user()
    ids = [pid for pid in public_ids(60) if pid != goods["greens"].id][:50]
    for pid in ids:
        db.session.add(InquiryListItem(user_id=user.id, product_id=pid, quantity=Decimal(1)))
    db.session.commit()
    sign_in(client, user)
    response = add(client, goods["greens"].id, "1")
    assert response.status_code == 422
    assert len(saved(user)) == 50


def test_a_tampered_session_is_read_safely(client, goods):
    with client.session_transaction() as browser_session:
        browser_session[lists.SESSION_KEY] = [
            [goods["greens"].id, "2", None],
            ["x", "1", None],
            [goods["honey"].id, "-5", None],
            [goods["spinach"].id, "NaN", None],
            "junk",
            [goods["greens"].id, "9", None],  # a duplicate: the first one counts
            [999999, "1", None],
        ]
    text = list_text(client)
    assert "Cải ngồng thử" in text and "Mật ong thử" not in text and "Rau muống thử" not in text
    assert header_count(client) == "2"  # well-formed entries (999999 is not a product any more)


# --------------------------------------------------------------------------- quantities, removing


def quantities_form(client, values: dict, url=UPDATE):
    data = {f"qty-{pid}": value for pid, value in values.items()}
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


def test_updating_quantities(client, goods):
    g = goods
    add(client, g["greens"].id, "2")
    add(client, g["honey"].id, "1")
    response = quantities_form(client, {g["greens"].id: "4,5", g["honey"].id: "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)
    text = list_text(client)
    assert "Đã cập nhật số lượng." in text
    assert "Thành tiền tạm tính: 135.000 ₫" in text
    assert session_list(client) == [[g["greens"].id, "4.5", None], [g["honey"].id, "1", None]]


def test_a_bad_quantity_saves_nothing_and_is_marked(client, goods):
    g = goods
    add(client, g["greens"].id, "2")
    add(client, g["honey"].id, "1")
    before = session_list(client)
    response = quantities_form(client, {g["greens"].id: "7", g["honey"].id: "0"})
    assert response.status_code == 422
    text = page_text(response)
    assert "Chưa lưu được: 1 số lượng chưa đúng. Hãy sửa ô được đánh dấu." in text
    assert "Số lượng phải lớn hơn 0." in text
    raw = response.get_data(as_text=True)
    assert f'name="qty-{g["greens"].id}" value="7"' in raw  # what was typed stays
    assert re.search(rf'name="qty-{g["honey"].id}" value="0"[^>]*aria-invalid="true"', raw)
    assert session_list(client) == before


def test_quantities_of_products_not_on_the_list_are_ignored(client, goods):
    add(client, goods["greens"].id, "2")
    response = quantities_form(
        client, {goods["honey"].id: "9", 10**12: "1", goods["greens"].id: "2"}
    )
    assert response.status_code == 302
    assert session_list(client) == [[goods["greens"].id, "2", None]]
    assert "Số lượng không thay đổi." in list_text(client)


def remove(client, product_id):
    return client.post(REMOVE, data={"product": str(product_id), "csrf_token": csrf_token(client)})


def test_removing_a_line(client, goods):
    add(client, goods["greens"].id, "2")
    add(client, goods["honey"].id, "1")
    raw = client.get(LIST).get_data(as_text=True)
    # The remove buttons belong to their own form, so Enter in a quantity field never removes.
    assert re.search(
        rf'<button type="submit" form="inquiry-remove" name="product" value="{goods["greens"].id}"',
        raw,
    )
    response = remove(client, goods["greens"].id)
    assert response.status_code == 302
    assert session_list(client) == [[goods["honey"].id, "1", None]]
    text = list_text(client)
    assert "Đã xóa “Cải ngồng thử” khỏi yêu cầu báo giá." in text
    assert "Cải ngồng thử" not in lines_text(client)


def test_removing_what_is_not_on_the_list_changes_nothing(client, goods):
    add(client, goods["honey"].id, "1")
    response = remove(client, goods["greens"].id)
    assert response.status_code == 302
    assert "Sản phẩm này không có trong yêu cầu báo giá của bạn." in list_text(client)
    assert session_list(client) == [[goods["honey"].id, "1", None]]
    response = remove(client, "abc")
    assert response.status_code == 400
    assert "Không rõ sản phẩm nào cần xóa." in page_text(response)
    assert session_list(client) == [[goods["honey"].id, "1", None]]


def test_the_last_line_removed_empties_the_list(client, goods):
    add(client, goods["honey"].id, "1")
    remove(client, goods["honey"].id)
    assert session_list(client) is None
    assert "Chưa có sản phẩm nào trong yêu cầu báo giá." in list_text(client)


# --------------------------------------------------------------------------- no longer public


def test_a_product_that_stopped_being_public_is_greyed_and_not_sent(client, goods):
    g = goods
    add(client, g["greens"].id, "2")
    add(client, g["honey"].id, "1")
    add(client, g["other"].id, "3")
    db.session.get(Product, g["honey"].id).status = ProductStatus.ARCHIVED
    db.session.commit()
    raw = client.get(LIST).get_data(as_text=True)
    text = page_text(client.get(LIST))
    assert "Mật ong thử" in text and "Sản phẩm không còn bán" in text
    assert re.search(r'<li class="inquiry-line inquiry-line-gone">.*?Mật ong thử', raw, re.S)
    assert re.search(rf'name="qty-{g["honey"].id}"[^>]*disabled', raw)
    assert f'href="/san-pham/{g["honey"].slug}"' not in raw
    # Out of the estimate and the counts: wax only in B (3 × 40.000).
    assert "Tạm tính: 120.000 ₫" in text
    assert "2 sản phẩm · 2 hợp tác xã" in text
    groups = read_anonymous(client)
    assert [(grp.cooperative.id, [ln.product.id for ln in grp.lines]) for grp in groups] == [
        (g["coop_a"].id, [g["greens"].id]),
        (g["coop_b"].id, [g["other"].id]),
    ]
    # Still removable, and the disabled field is not sent with an update.
    assert quantities_form(client, {g["greens"].id: "3"}).status_code == 302
    remove(client, g["honey"].id)
    assert [line[0] for line in session_list(client)] == [g["greens"].id, g["other"].id]


def test_a_cooperative_with_nothing_public_left_is_not_sent_to(client, goods):
    add(client, goods["greens"].id, "2")
    add(client, goods["honey"].id, "1")
    db.session.get(Cooperative, goods["coop_b"].id).status = CooperativeStatus.SUSPENDED
    db.session.commit()
    text = list_text(client)
    assert "Mật ong thử" in text and "Sản phẩm không còn bán" in text
    assert [grp.cooperative.id for grp in read_anonymous(client)] == [goods["coop_a"].id]


# --------------------------------------------------------------------------- signed-in buyers


def test_a_signed_in_list_is_saved_not_in_the_session(client, goods):
    user = create_user()
    db.session.commit()
    sign_in(client, user)
    add(client, goods["greens"].id, "2")
    add(client, goods["honey"].id, "1", booth=str(goods["booth"].id))
    add(client, goods["greens"].id, "0,5")
    assert session_list(client) is None
    assert saved(user) == [
        (goods["greens"].id, Decimal("2.5"), None),
        (goods["honey"].id, Decimal("1"), goods["booth"].id),
    ]
    text = list_text(client)
    assert "Cải ngồng thử" in text and "Từ gian hàng số 10" in text
    quantities_form(client, {goods["greens"].id: "6"})
    remove(client, goods["honey"].id)
    assert saved(user) == [(goods["greens"].id, Decimal("6"), None)]


def test_a_saved_list_is_its_owners_only(client, demo_db, goods):
    owner, other = create_user(), create_user()
    db.session.add(InquiryListItem(user_id=owner.id, product_id=goods["greens"].id, quantity=2))
    db.session.add(InquiryListItem(user_id=other.id, product_id=goods["honey"].id, quantity=1))
    db.session.commit()
    sign_in(client, other)
    text = list_text(client)
    assert "Mật ong thử" in text and "Cải ngồng thử" not in text
    # Neither removing nor updating by product id reaches the owner's line.
    remove(client, goods["greens"].id)
    quantities_form(client, {goods["greens"].id: "900"})
    assert saved(owner) == [(goods["greens"].id, Decimal("2"), None)]
    anonymous = demo_db.test_client()
    assert "Cải ngồng thử" not in list_text(anonymous)


def test_signing_in_merges_the_session_list(client, goods, fresh_throttle):
    g = goods
    user = create_user()
    db.session.add(InquiryListItem(user_id=user.id, product_id=g["greens"].id, quantity=2))
    db.session.commit()
    add(client, g["greens"].id, "1,5")
    add(client, g["honey"].id, "1", booth=str(g["booth"].id))
    add(client, g["other"].id, "2")
    db.session.get(Product, g["other"].id).status = ProductStatus.ARCHIVED
    db.session.commit()
    response = client.post(
        "/tai-khoan/dang-nhap",
        data={"email": user.email, "password": user.password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert saved(user) == [
        (g["greens"].id, Decimal("3.5"), None),
        (g["honey"].id, Decimal("1"), g["booth"].id),
    ]
    assert session_list(client) is None
    text = page_text(client.get("/"))
    assert "2 sản phẩm bạn chọn trước khi đăng nhập đã được thêm vào yêu cầu báo giá." in text
    assert header_count(client) == "2"
    # Signing out leaves the saved list behind: the anonymous list starts empty.
    client.post("/tai-khoan/dang-xuat", data={"csrf_token": csrf_token(client)})
    assert header_count(client) is None
    assert saved(user)[0][1] == Decimal("3.5")


def test_merging_caps_sums_and_lines(demo_db, goods):
    user = create_user()
    ids = [pid for pid in public_ids(60) if pid not in (goods["greens"].id, goods["honey"].id)]
    db.session.add(InquiryListItem(user_id=user.id, product_id=goods["greens"].id, quantity=999999))
    for pid in ids[:48]:
        db.session.add(InquiryListItem(user_id=user.id, product_id=pid, quantity=1))
    db.session.commit()
    with demo_db.test_request_context():
        result = lists.merge(
            user,
            [
                lists.Line(goods["greens"].id, Decimal(5)),
                lists.Line(goods["honey"].id, Decimal(1)),
                lists.Line(ids[50], Decimal(1)),
                lists.Line(ids[51], Decimal(1)),
            ],
        )
        db.session.commit()
    assert (result.added, result.grown, result.dropped) == (1, 1, 2)
    rows = dict((pid, qty) for pid, qty, _booth in saved(user))
    assert len(rows) == 50 and rows[goods["greens"].id] == lists.MAX_QUANTITY


# --------------------------------------------------------------------------- header and SQL


def test_the_header_counts_lines(client, goods):
    assert header_count(client) is None
    raw = client.get("/").get_data(as_text=True)
    assert '<a class="inquiry-nav" href="/yeu-cau-bao-gia">Yêu cầu báo giá</a>' in raw
    add(client, goods["greens"].id, "2")
    add(client, goods["greens"].id, "2")
    add(client, goods["honey"].id, "1")
    assert header_count(client) == "2"
    raw = client.get("/?lang=en").get_data(as_text=True)
    assert "Quote request" in raw and '<span class="visually-hidden">: 2 products</span>' in raw
    raw = client.get(LIST).get_data(as_text=True)
    assert re.search(r'<a class="inquiry-nav" href="/yeu-cau-bao-gia" aria-current="page">', raw)


def test_the_header_costs_no_sql_anonymously_and_one_statement_signed_in(
    client, goods, count_queries
):
    client.get("/")
    with count_queries() as counter:
        client.get("/")
    assert not [s for s in counter.statements if "inquiry_list_item" in s]
    add(client, goods["greens"].id, "1")
    with count_queries() as counter:
        client.get("/")
    assert not [s for s in counter.statements if "inquiry_list_item" in s]

    user = create_user()
    db.session.commit()
    sign_in(client, user)
    for url in ("/", f"/san-pham/{goods['greens'].slug}", LIST):
        with count_queries() as counter:
            client.get(url)
        assert len([s for s in counter.statements if "inquiry_list_item" in s]) == 1, url


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_list_page_costs_the_same_for_2_lines_as_for_14(
    client, goods, count_queries, signed_in
):
    coops = [create_cooperative() for _ in range(3)]
    programme = create_programme()
    products = [create_product(coops[i % 3]) for i in range(12)]
    booths = [create_booth(programme, 20 + i, coop, products[i::3]) for i, coop in enumerate(coops)]
    db.session.commit()
    if signed_in:
        sign_in(client, create_user())
        db.session.commit()

    def measure():
        client.get(LIST)
        with count_queries() as counter:
            response = client.get(LIST)
        assert response.status_code == 200
        return counter.count

    add(client, goods["greens"].id, "1")
    add(client, goods["honey"].id, "1", booth=str(goods["booth"].id))
    small = measure()
    for i, product in enumerate(products):
        add(client, product.id, "2", booth=str(booths[i % 3].id))
    large = measure()
    assert "14 sản phẩm · 5 hợp tác xã" in list_text(client)
    assert large == small


def test_adding_in_english(client, goods):
    raw = client.get(f"/san-pham/{goods['greens'].slug}?lang=en").get_data(as_text=True)
    form = re.search(r'<form class="inquiry-add".*?</form>', raw, re.S).group(0)
    assert ">Quantity</label>" in form and ">Add to quote request</button>" in form
    add(client, goods["greens"].id, "2.5")  # the English decimal point
    add(client, goods["greens"].id, "1,000")  # English thousands
    text = page_text(client.get(LIST))
    assert "Added 1,000 kg of “Test mustard greens” to your quote request (now 1,002.5 kg)." in text
    assert session_list(client) == [[goods["greens"].id, "1002.5", None]]
