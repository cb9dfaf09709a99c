"""A programme's figures (/quan-tri/chuong-trinh/<id>/so-lieu): per booth, per sector, exports."""

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from shop.accounts.models import Role
from shop.cooperatives.models import Cooperative, Sector
from shop.extensions import db
from shop.inquiries.models import Inquiry
from shop.programmes.models import Booth, Programme, ProgrammeStatus
from shop.reports import services
from shop.reports.programme_figures import (
    ProgrammeFigures,
    parse_programme_period,
    programme_period,
)
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
    load_taxonomy,
)
from tests.helpers import page_text, sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
START, END = date(2026, 10, 10), date(2026, 10, 12)
BOOTH_COLUMNS = [
    "Gian hàng",
    "Hợp tác xã",
    "Lĩnh vực",
    "Lượt xem",
    "Lượt quét QR",
    "Số yêu cầu báo giá",
    "Lượt bấm liên hệ",
]
SECTOR_COLUMNS = [
    "Lĩnh vực",
    "Hợp tác xã tham gia",
    "Sản phẩm trưng bày",
    "OCOP 3 sao",
    "OCOP 4 sao",
    "OCOP 5 sao",
    "Số yêu cầu báo giá",
]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sector(slug) -> Sector:
    return db.session.scalar(select(Sector).where(Sector.slug == slug))


def inquiry(coop, booth, when):
    db.session.add(
        Inquiry(
            cooperative_id=coop.id,
            group_key=uuid.uuid4().hex,
            buyer_name="Anh Minh",
            booth_id=booth.id if booth else None,
            created_at=when,
        )
    )


def bump(kind, subject_id, day, times=1):
    for _ in range(times):
        services.count(kind, subject_id, day=day)


def url(programme, tail="", **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/quan-tri/chuong-trinh/{programme.id}/so-lieu{tail}" + (f"?{query}" if query else "")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert all(cell.font.b for cell in sheet[1])
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.fixture
def fair(blank_db):
    """A programme 10–12/10/2026 with booths 1, 2 (empty), 10 and 100, counters and inquiries.

    Booth 1 — farm A: OCOP 3★ (valid), 4★ (expired the day before the opening), 5★ (expires
    on the opening day, still valid). Booth 10 — farm B: two without OCOP, 4★ with no expiry.
    Booth 100 — craft: 5★, 5★, 3★ (and a 3★ product it does not feature).
    """
    load_taxonomy()
    farm_a = create_cooperative(name="HTX Rau Sạch Quế Võ", sector=sector("nong-nghiep"))
    farm_b = create_cooperative(name="HTX Nếp Cái Hoa Vàng", sector=sector("nong-nghiep"))
    craft = create_cooperative(name="HTX Gốm Phù Lãng", sector=sector("tieu-thu-cong-nghiep"))

    def made(coop, stars, expires=date(2027, 6, 30)):
        return create_product(coop, ocop_stars=stars, ocop_expires_on=expires)

    a = [made(farm_a, 3), made(farm_a, 4, date(2026, 10, 9)), made(farm_a, 5, START)]
    b = [made(farm_b, 0, None), made(farm_b, 0, None), made(farm_b, 4, None)]
    c = [made(craft, 5), made(craft, 5), made(craft, 3)]
    made(craft, 3)  # not featured
    programme = create_programme(title_vi="Hội chợ mùa thu 2026", start_date=START, end_date=END)
    booth1 = create_booth(programme, 1, farm_a, a)
    db.session.add(Booth(programme_id=programme.id, number=2))
    booth10 = create_booth(programme, 10, farm_b, b)
    booth100 = create_booth(programme, 100, craft, c)
    other = create_programme(title_vi="Chương trình khác", start_date=START, end_date=END)
    elsewhere = create_booth(other, 1, farm_a, a)

    # Counters of booth 1: the day before the period, its first day, during, its last day, after.
    bump("booth_view", booth1.id, date(2026, 9, 9))
    bump("booth_view", booth1.id, date(2026, 9, 10), 2)
    bump("booth_view", booth1.id, date(2026, 10, 11), 5)
    bump("booth_view", booth1.id, date(2026, 11, 11))
    bump("booth_view", booth1.id, date(2026, 11, 12), 4)
    bump("qr_scan", booth1.id, START, 3)
    bump("booth_contact", booth1.id, date(2026, 10, 11), 2)
    bump("booth_view", booth10.id, END)
    bump("booth_contact", booth10.id, date(2026, 10, 13))
    # Not the booths' figures: another kind under the same id, another programme's booth.
    bump("product_view", booth1.id, date(2026, 10, 11), 7)
    bump("cooperative_contact", booth1.id, date(2026, 10, 11), 6)
    bump("booth_view", elsewhere.id, date(2026, 10, 11), 9)

    # Inquiries sent from booths, cut at Vietnamese midnight (UTC+7).
    inquiry(farm_a, booth1, at(2026, 10, 9, 16, 59))  # 23:59 on 9/10: before the fair
    inquiry(farm_a, booth1, at(2026, 10, 9, 17, 0))  # 00:00 on 10/10: the first day
    inquiry(craft, booth100, at(2026, 9, 9, 16, 59))  # 9/9: a day too early
    inquiry(craft, booth100, at(2026, 9, 9, 17, 0))  # 10/9: the period's first day
    inquiry(craft, booth100, at(2026, 11, 11, 16, 59))  # 11/11: its last day
    inquiry(craft, booth100, at(2026, 11, 11, 17, 0))  # 12/11: a day too late
    inquiry(farm_a, None, at(2026, 10, 11, 3))  # not from a booth
    inquiry(farm_a, elsewhere, at(2026, 10, 11, 3))  # from the other programme's booth
    db.session.commit()
    return {"programme": programme, "coops": (farm_a, farm_b, craft)}


def tables(app, programme, value="truoc-trong-sau"):
    db.session.commit()
    with app.test_request_context():
        figures = ProgrammeFigures(programme, programme_period(programme, value))
        return figures.booths(), figures.sectors()


@pytest.fixture
def staff(blank_client, fair):
    sign_in(blank_client, create_user(Role.STAFF, email="so-lieu-ct@example.com"))
    db.session.commit()
    return blank_client


# --------------------------------------------------------------------------- periods


def test_the_periods_around_a_programme():
    programme = Programme(start_date=START, end_date=END)
    spans = {
        value: (p.first, p.last)
        for value in ("truoc-trong-sau", "trong", "truoc", "sau", "tat-ca")
        for p in [programme_period(programme, value)]
    }
    assert spans == {
        "truoc-trong-sau": (date(2026, 9, 10), date(2026, 11, 11)),
        "trong": (START, END),
        "truoc": (date(2026, 9, 10), date(2026, 10, 9)),
        "sau": (date(2026, 10, 13), date(2026, 11, 11)),
        "tat-ca": (None, None),
    }


@pytest.mark.parametrize(
    "raw, value, refused",
    [
        (None, "truoc-trong-sau", False),
        ("", "truoc-trong-sau", False),
        ("trong", "trong", False),
        ("tat-ca", "tat-ca", False),
        ("2026", "truoc-trong-sau", True),
        ("TRONG", "truoc-trong-sau", True),
        ("<b>x</b>", "truoc-trong-sau", True),
    ],
)
def test_the_period_from_the_address(raw, value, refused):
    programme = Programme(start_date=START, end_date=END)
    period, was_refused = parse_programme_period(programme, raw)
    assert (period.value, was_refused) == (value, refused)


# --------------------------------------------------------------------------- figures


def test_per_booth_over_the_default_period(blank_db, fair):
    booths, _sectors = tables(blank_db, fair["programme"])
    assert booths.columns == BOOTH_COLUMNS
    assert booths.rows == [
        [1, "HTX Rau Sạch Quế Võ", "Nông nghiệp", 8, 3, 2, 2],
        [2, "(chưa có hợp tác xã)", "", 0, 0, 0, 0],
        [10, "HTX Nếp Cái Hoa Vàng", "Nông nghiệp", 1, 0, 0, 1],
        [100, "HTX Gốm Phù Lãng", "Tiểu thủ công nghiệp", 0, 0, 2, 0],
    ]
    assert booths.totals == ["Tổng cộng", "", "", 9, 3, 4, 3]


@pytest.mark.parametrize(
    "value, booth1, booth10, booth100",
    [
        ("trong", [5, 3, 1, 2], [1, 0, 0, 0], [0, 0, 0, 0]),
        ("truoc", [2, 0, 1, 0], [0, 0, 0, 0], [0, 0, 1, 0]),
        ("sau", [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]),
        ("tat-ca", [13, 3, 2, 2], [1, 0, 0, 1], [0, 0, 4, 0]),
    ],
)
def test_per_booth_over_each_period(blank_db, fair, value, booth1, booth10, booth100):
    booths, _sectors = tables(blank_db, fair["programme"], value)
    by_number = {row[0]: row[3:] for row in booths.rows}
    assert by_number == {1: booth1, 2: [0, 0, 0, 0], 10: booth10, 100: booth100}


def test_per_sector_cooperatives_featured_products_ocop_and_inquiries(blank_db, fair):
    _booths, sectors = tables(blank_db, fair["programme"])
    assert sectors.columns == SECTOR_COLUMNS
    rows = {row[0]: row[1:] for row in sectors.rows}
    assert len(rows) == 7  # every sector, in the report's order
    assert sectors.rows[0][0] == "Nông nghiệp"
    assert rows["Nông nghiệp"] == [2, 6, 1, 1, 1, 2]
    assert rows["Tiểu thủ công nghiệp"] == [1, 3, 1, 0, 2, 2]
    assert all(
        numbers == [0] * 6
        for name, numbers in rows.items()
        if name not in ("Nông nghiệp", "Tiểu thủ công nghiệp")
    )
    assert sectors.totals == ["Tổng cộng", 3, 9, 2, 1, 3, 4]
    # The inquiries follow the period; what was featured does not.
    _booths, during = tables(blank_db, fair["programme"], "trong")
    assert during.totals == ["Tổng cộng", 3, 9, 2, 1, 3, 1]


def test_a_programme_without_booths_has_empty_figures(blank_db):
    load_taxonomy()
    programme = create_programme(start_date=START, end_date=END)
    booths, sectors = tables(blank_db, programme)
    assert booths.rows == [] and booths.totals is None
    assert sectors.totals == ["Tổng cộng", 0, 0, 0, 0, 0, 0]


# --------------------------------------------------------------------------- the page


def test_the_page_in_vietnamese(staff, fair):
    response = staff.get(url(fair["programme"]))
    assert response.status_code == 200
    text = page_text(response)
    assert "Số liệu chương trình: Hội chợ mùa thu 2026" in text
    assert "Trước, trong và sau chương trình" in text
    assert "10/09/2026 – 11/11/2026" in text
    assert "Tổng số gian hàng 4 Hợp tác xã tham gia 3 Sản phẩm trưng bày 9 Sản phẩm OCOP 6" in text
    assert "Lượt xem 9 Lượt quét QR 3 Số yêu cầu báo giá 4 Lượt bấm liên hệ 3" in text
    assert "1 HTX Rau Sạch Quế Võ Nông nghiệp 8 3 2 2" in text
    assert "2 (chưa có hợp tác xã) 0 0 0 0" in text
    assert "100 HTX Gốm Phù Lãng Tiểu thủ công nghiệp 0 0 2 0" in text
    assert "Tổng cộng 9 3 4 3" in text
    assert "Nông nghiệp 2 6 1 1 1 2" in text
    assert "Tổng cộng 3 9 2 1 3 4" in text
    assert "còn hiệu lực vào ngày khai mạc (10/10/2026)" in text
    body = response.get_data(as_text=True)
    programme = fair["programme"]
    assert f'<a href="/chuong-trinh/{programme.slug}/gian-hang/1">1</a>' in body
    for key in ("gian-hang", "linh-vuc"):
        assert f'href="{url(programme, f"/{key}.csv")}"' in body
        assert f'href="{url(programme, f"/{key}.xlsx")}"' in body


def test_the_console_programme_page_links_to_its_figures(staff, fair):
    programme = fair["programme"]
    body = staff.get(f"/quan-tri/chuong-trinh/{programme.id}").get_data(as_text=True)
    assert f'<a href="{url(programme)}">Số liệu</a>' in body
    figures = staff.get(url(programme)).get_data(as_text=True)
    assert f'<a href="/quan-tri/chuong-trinh/{programme.id}">Hội chợ mùa thu 2026</a>' in figures
    assert '<a href="/quan-tri/chuong-trinh" aria-current="true">Chương trình</a>' in figures


def test_the_page_in_english(staff, fair):
    text = page_text(staff.get(url(fair["programme"], lang="en")))
    assert "Programme figures: Hội chợ mùa thu 2026" in text
    assert "Before, during and after the programme" in text
    assert "Booths 4 Participating cooperatives 3 Products on display 9 OCOP products 6" in text
    assert "Views 9 QR scans 3 Quote requests 4 Contact clicks 3" in text
    assert "2 (no cooperative yet) 0 0 0 0" in text
    assert "Agriculture 2 6 1 1 1 2" in text
    assert "Total 3 9 2 1 3 4" in text


def test_choosing_a_period(staff, fair):
    programme = fair["programme"]
    response = staff.get(url(programme, period="trong"))
    text = page_text(response)
    assert "Trong thời gian chương trình" in text and "10/10/2026 – 12/10/2026" in text
    assert "1 HTX Rau Sạch Quế Võ Nông nghiệp 5 3 1 2" in text
    body = response.get_data(as_text=True)
    assert '<option value="trong" selected>' in body
    assert f'href="{url(programme, "/gian-hang.csv", period="trong")}"' in body
    assert "Mọi ngày" in page_text(staff.get(url(programme, period="tat-ca")))


@pytest.mark.parametrize("raw", ["2026", "abc", "%3Cb%3Ex%3C%2Fb%3E", "9" * 30])
def test_a_bad_period_shows_a_notice_and_the_default(staff, fair, raw):
    response = staff.get(url(fair["programme"], period=raw))
    assert response.status_code == 200
    text = page_text(response)
    assert "không hợp lệ; đang hiển thị trước, trong và sau chương trình" in text
    assert "<b>x</b>" not in response.get_data(as_text=True)
    assert "1 HTX Rau Sạch Quế Võ Nông nghiệp 8 3 2 2" in text
    english = page_text(staff.get(url(fair["programme"], period=raw, lang="en")))
    assert "is not valid; showing before, during and after the programme" in english


def test_a_draft_programme_has_figures_but_no_public_links(staff, fair):
    programme = fair["programme"]
    db.session.get(Programme, programme.id).status = ProgrammeStatus.DRAFT
    db.session.commit()
    body = staff.get(url(programme)).get_data(as_text=True)
    assert "HTX Rau Sạch Quế Võ" in body
    assert f"/chuong-trinh/{programme.slug}" not in body


def test_an_unknown_programme_or_table_is_not_found(staff, fair):
    programme = fair["programme"]
    assert staff.get("/quan-tri/chuong-trinh/999999/so-lieu").status_code == 404
    assert staff.get("/quan-tri/chuong-trinh/999999/so-lieu/gian-hang.csv").status_code == 404
    for path in ("khong-co.csv", "hop-tac-xa.xlsx", "GIAN-HANG.csv", "gian-hang.pdf"):
        assert staff.get(url(programme, f"/{path}")).status_code == 404, path


def test_the_statement_count_does_not_grow_with_booths(blank_client, count_queries):
    load_taxonomy()
    sign_in(blank_client, create_user(Role.STAFF))
    programme = create_programme(start_date=START, end_date=END)
    sectors = list(db.session.scalars(select(Sector)))
    made = 0

    def grow(n):
        nonlocal made
        for _ in range(n):
            made += 1
            coop = create_cooperative(sector=sectors[made % len(sectors)])
            products = [create_product(coop, ocop_stars=(0, 3, 4, 5)[i]) for i in range(3)]
            booth = create_booth(programme, made * 10, coop, products)
            bump("booth_view", booth.id, START, 2)
            bump("qr_scan", booth.id, END)
            bump("booth_contact", booth.id, START)
            inquiry(coop, booth, at(2026, 10, 10, 5))
        db.session.commit()

    def measure() -> int:
        with count_queries() as counter:
            response = blank_client.get(url(programme))
        assert response.status_code == 200
        return counter.count

    grow(3)
    assert "Tổng số gian hàng 3 Hợp tác xã tham gia 3" in page_text(
        blank_client.get(url(programme))
    )
    small = measure()
    grow(27)
    assert measure() == small
    assert "Tổng số gian hàng 30 Hợp tác xã tham gia 30" in page_text(
        blank_client.get(url(programme))
    )
    for key in ("gian-hang", "linh-vuc"):
        with count_queries() as counter:
            blank_client.get(url(programme, f"/{key}.csv")).get_data()
        assert counter.count <= small, key


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize("key", ["gian-hang", "linh-vuc"])
@pytest.mark.parametrize("value", [None, "trong", "tat-ca"])
def test_each_table_exports_as_csv_and_xlsx_with_the_same_numbers(
    staff, fair, blank_db, key, value
):
    programme = fair["programme"]
    args = {"period": value} if value else {}
    csv_data = csv_rows(staff.get(url(programme, f"/{key}.csv", **args)))
    xlsx_data = xlsx_rows(staff.get(url(programme, f"/{key}.xlsx", **args)))
    booths, sectors = tables(blank_db, programme, value or "truoc-trong-sau")
    expected = booths if key == "gian-hang" else sectors
    assert csv_data[0] == xlsx_data[0] == expected.columns
    assert len(csv_data) == len(xlsx_data) == 1 + len(expected.export_rows())
    for csv_row, xlsx_row, row in zip(
        csv_data[1:], xlsx_data[1:], expected.export_rows(), strict=True
    ):
        assert [None if v == "" else v for v in row] == [None if v == "" else v for v in xlsx_row]
        assert csv_row == ["" if v is None else str(v) for v in row]


def test_the_booth_export_holds_the_hand_counted_figures_as_numbers(staff, fair):
    programme = fair["programme"]
    response = staff.get(url(programme, "/gian-hang.xlsx", lang="en"))
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=so-lieu-{programme.slug}-gian-hang-truoc-trong-sau.xlsx"
    )
    sheet = xlsx_rows(response)
    assert sheet[0] == BOOTH_COLUMNS  # Vietnamese headings, whatever the page's language
    assert sheet[1] == [1, "HTX Rau Sạch Quế Võ", "Nông nghiệp", 8, 3, 2, 2]
    assert sheet[-1][0] == "Tổng cộng" and sheet[-1][3:] == [9, 3, 4, 3]
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.active.title == "Số liệu theo gian hàng"
    assert workbook.active["A2"].data_type == "n" and workbook.active["D2"].data_type == "n"
    rows = csv_rows(staff.get(url(programme, "/linh-vuc.csv", period="trong", lang="en")))
    assert rows[0] == SECTOR_COLUMNS
    assert rows[1] == ["Nông nghiệp", "2", "6", "1", "1", "1", "1"]
    assert rows[-1] == ["Tổng cộng", "3", "9", "2", "1", "3", "1"]
    response = staff.get(url(programme, "/linh-vuc.csv", period="trong"))
    assert (
        f"filename=so-lieu-{programme.slug}-linh-vuc-trong.csv"
        in (response.headers["Content-Disposition"])
    )


def test_formula_cells_are_escaped_in_both_formats(staff, fair):
    farm_a = fair["coops"][0]
    db.session.get(Cooperative, farm_a.id).name = '=HYPERLINK("http://evil.example","Bấm")'
    db.session.commit()
    programme = fair["programme"]
    rows = csv_rows(staff.get(url(programme, "/gian-hang.csv")))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","Bấm")'
    sheet = load_workbook(io.BytesIO(staff.get(url(programme, "/gian-hang.xlsx")).get_data()))
    cell = sheet.active["B2"]
    assert cell.value == '\'=HYPERLINK("http://evil.example","Bấm")' and cell.data_type == "s"


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("tail", ["", "/gian-hang.csv", "/linh-vuc.xlsx"])
def test_only_staff_and_admins_see_the_figures(blank_client, fair, tail):
    programme = fair["programme"]
    coop = fair["coops"][0]
    users = {
        "buyer": (create_user(Role.BUYER), 403),
        "member of a booth's cooperative": (create_user(cooperative=coop), 403),
        "staff": (create_user(Role.STAFF), 200),
        "admin": (create_user(Role.ADMIN), 200),
    }
    db.session.commit()
    target = url(programme, tail)
    anonymous = blank_client.application.test_client().get(target)
    assert anonymous.status_code == 302
    assert "/tai-khoan/dang-nhap" in anonymous.headers["Location"]
    for name, (user, status) in users.items():
        visitor = blank_client.application.test_client()
        sign_in(visitor, user)
        response = visitor.get(target)
        body = response.get_data()  # read the stream to its end, as a browser does
        assert response.status_code == status, name
        if status == 403:
            assert "HTX Rau Sạch Quế Võ".encode() not in body


def test_the_demo_programme_has_figures(client):
    sign_in(client, create_user(Role.STAFF))
    db.session.commit()
    programme = db.session.scalar(select(Programme).where(Programme.slug.like("tong-ket-2022%")))
    response = client.get(url(programme))
    assert response.status_code == 200
    text = page_text(response)
    assert re.search(r"Tổng số gian hàng 12 Hợp tác xã tham gia 12 Sản phẩm trưng bày \d+", text)
