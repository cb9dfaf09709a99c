"""The alliance's dashboard (/quan-tri/so-lieu): figure rules, the page, exports, access."""

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import ProductRevision, ProductStatus, RevisionStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus, LegalForm, Sector
from shop.extensions import db
from shop.inquiries.models import Inquiry
from shop.reports import services
from shop.reports.figures import Figures, last_12_months, parse_period, year_period
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy
from tests.helpers import page_text, sign_in

DASHBOARD = "/quan-tri/so-lieu"
TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY
KEYS = (
    "hop-tac-xa",
    "tinh-trang-htx",
    "san-pham",
    "thoi-gian-duyet",
    "yeu-cau-bao-gia",
    "xem-nhieu",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table(app, key, period=None, **kwargs):
    """The dashboard's table `key`, built as the page builds it (Vietnamese)."""
    db.session.commit()  # a request's end closes the session: what is not committed is lost
    with app.test_request_context():
        return Figures(TODAY, period or year_period(2026, TODAY)).table(key, **kwargs)


def sector(slug) -> Sector:
    return db.session.scalar(select(Sector).where(Sector.slug == slug))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def audit(action, product_id, when):
    db.session.add(
        AuditEntry(action=action, target_type="product", target_id=product_id, created_at=when)
    )


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
def staff_client(client):
    sign_in(client, create_user(Role.STAFF, email="so-lieu@example.com"))
    db.session.commit()
    return client


@pytest.fixture
def blank_staff(blank_client):
    load_taxonomy()
    sign_in(blank_client, create_user(Role.STAFF, email="so-lieu@example.com"))
    db.session.commit()
    return blank_client


# --------------------------------------------------------------------------- figure rules


#: The alliance's 2022 report: 694 = 552 + 56 + 27 + 25 + 2 + 6 + 26.
REPORT_2022 = {
    "nong-nghiep": 552,
    "tieu-thu-cong-nghiep": 56,
    "thuong-mai": 27,
    "giao-thong-van-tai": 25,
    "xay-dung": 2,
    "ve-sinh-moi-truong": 6,
    "quy-tin-dung-nhan-dan": 26,
}


def test_the_2022_report_adds_up_by_sector_and_legal_form(blank_db):
    """694 cooperatives by sector; 2 unions, 26 credit funds; 107 without a tax code."""
    load_taxonomy()
    locality_id = create_cooperative(tax_code="9932051461").locality_id  # one HTX, with a code
    rows, n = [], 0
    for slug, count in REPORT_2022.items():
        for i in range(count - (1 if slug == "nong-nghiep" else 0)):
            n += 1
            if slug == "quy-tin-dung-nhan-dan":
                form = LegalForm.CREDIT_FUND
            elif slug == "thuong-mai" and i < 2:
                form = LegalForm.UNION
            else:
                form = LegalForm.COOPERATIVE
            no_tax = n <= 107
            rows.append(
                {
                    "slug": f"htx-bao-cao-{n}",
                    "name": f"HTX Báo cáo {n}",
                    "legal_form": form,
                    "sector_id": sector(slug).id,
                    "locality_id": locality_id,
                    "tax_code": None if no_tax else f"99{n:08d}",
                    "status": CooperativeStatus.INACTIVE if no_tax else CooperativeStatus.VERIFIED,
                }
            )
    db.session.execute(insert(Cooperative), rows)
    db.session.flush()

    coops = table(blank_db, "hop-tac-xa")
    assert coops.columns == [
        "Lĩnh vực",
        "Hợp tác xã",
        "Liên hiệp HTX",
        "Tổ hợp tác",
        "Quỹ tín dụng nhân dân",
        "Tổng",
    ]
    assert [row[0] for row in coops.rows][:2] == ["Nông nghiệp", "Tiểu thủ công nghiệp"]
    assert [row[-1] for row in coops.rows] == list(REPORT_2022.values())
    assert coops.rows[2] == ["Thương mại", 25, 2, 0, 0, 27]
    assert coops.rows[6] == ["Quỹ tín dụng nhân dân", 0, 0, 0, 26, 26]
    assert coops.totals == ["Tổng cộng", 666, 2, 0, 26, 694]
    # Every row adds up, every column adds up, and both ways give the grand total.
    for row in coops.rows:
        assert sum(row[1:-1]) == row[-1]
    for i in range(1, 6):
        assert sum(row[i] for row in coops.rows) == coops.totals[i]
    assert sum(coops.totals[1:-1]) == coops.totals[-1] == 694

    status = table(blank_db, "tinh-trang-htx")
    by_label = {row[0]: row[1:] for row in status.rows}
    assert by_label["Đã xác minh"] == [587, 0]
    assert by_label["Ngừng hoạt động"] == [107, 107]
    assert status.totals == ["Tổng cộng", 694, 107]


def test_without_a_tax_code_counts_empty_and_missing_codes_and_verified_apart(blank_db):
    load_taxonomy()
    create_cooperative(tax_code="9932051461")
    create_cooperative(tax_code=None, legal_form=LegalForm.GROUP)
    create_cooperative(tax_code="", status=CooperativeStatus.PENDING)
    create_cooperative(tax_code="9932051470", status=CooperativeStatus.NEEDS_INFO)
    with blank_db.test_request_context():
        figures = Figures(TODAY, year_period(2026, TODAY))
        assert figures.cooperative_summary() == {
            "total": 4,
            "verified": 2,
            "not_verified": 2,
            "no_tax_code": 2,
        }


def test_products_by_sector_and_status(blank_db):
    load_taxonomy()
    farm = create_cooperative(sector=sector("nong-nghiep"))
    craft = create_cooperative(sector=sector("tieu-thu-cong-nghiep"))
    for status in (ProductStatus.PUBLISHED, ProductStatus.PUBLISHED, ProductStatus.DRAFT):
        create_product(farm, status=status)
    create_product(craft, status=ProductStatus.SUBMITTED)
    # A service cooperative may list a product of another sector: it counts there.
    create_product(farm, status=ProductStatus.REJECTED).sector_id = sector("thuong-mai").id
    products = table(blank_db, "san-pham")
    assert products.columns[1:-1] == [
        "Bản nháp",
        "Đang chờ duyệt",
        "Đang bán",
        "Cần sửa",
        "Bị từ chối",
        "Đã lưu trữ",
    ]
    assert products.rows[0] == ["Nông nghiệp", 1, 0, 2, 0, 0, 0, 3]
    assert products.rows[1] == ["Tiểu thủ công nghiệp", 0, 1, 0, 0, 0, 0, 1]
    assert products.rows[2] == ["Thương mại", 0, 0, 0, 0, 1, 0, 1]
    assert products.totals == ["Tổng cộng", 1, 1, 2, 0, 1, 0, 5]


def review_world():
    load_taxonomy()
    return create_cooperative()


def decide(product, submitted: datetime, hours: float, action="product.approved"):
    audit("product.submitted", product.id, submitted)
    audit(action, product.id, submitted + timedelta(hours=hours))


def test_median_of_an_odd_number_of_decisions(blank_db):
    coop = review_world()
    for hours in (10, 2, 4):
        decide(create_product(coop), at(2026, 3, 1, 8), hours)
    review = table(blank_db, "thoi-gian-duyet")
    assert review.rows[0] == ["Sản phẩm mới gửi duyệt", 3, 4.0]


def test_median_of_an_even_number_of_decisions_and_every_kind_of_decision(blank_db):
    coop = review_world()
    decide(create_product(coop), at(2026, 3, 1, 8), 2)
    decide(create_product(coop), at(2026, 3, 1, 8), 4, "product.changes_requested")
    decide(create_product(coop), at(2026, 3, 1, 8), 6, "product.rejected")
    decide(create_product(coop), at(2026, 3, 1, 8), 10)
    assert table(blank_db, "thoi-gian-duyet").rows[0][1:] == [4, 5.0]


def test_a_resubmission_starts_a_new_clock(blank_db):
    coop = review_world()
    product = create_product(coop)
    start = at(2026, 5, 4, 1)
    audit("product.submitted", product.id, start)
    audit("product.changes_requested", product.id, start + timedelta(hours=3))
    audit("product.submitted", product.id, start + timedelta(hours=30))
    audit("product.approved", product.id, start + timedelta(hours=31))
    # Another product's submission in between does not count for this one.
    audit("product.submitted", create_product(coop).id, start + timedelta(hours=30, minutes=50))
    review = table(blank_db, "thoi-gian-duyet")
    assert review.rows[0][1:] == [2, 2.0]  # the median of 3 h and 1 h, not 31 h


def test_decisions_outside_the_period_or_without_a_submission_are_left_out(blank_db):
    coop = review_world()
    decide(create_product(coop), at(2025, 12, 31, 10), 5)  # decided in 2025 (Vietnam)
    decide(create_product(coop), at(2026, 12, 31, 16), 5)  # decided 1/1/2027 in Vietnam
    audit("product.approved", create_product(coop).id, at(2026, 4, 1))  # imported as submitted
    decide(create_product(coop), at(2026, 4, 1), 7)
    assert table(blank_db, "thoi-gian-duyet").rows[0][1:] == [1, 7.0]
    earlier = table(blank_db, "thoi-gian-duyet", period=year_period(2025, TODAY))
    assert earlier.rows[0][1:] == [1, 5.0]


def test_revisions_are_timed_from_sending_to_deciding(blank_db):
    coop = review_world()
    decide(create_product(coop), at(2026, 2, 1), 1)
    for hours in (20, 60):
        sent = at(2026, 6, 1, 2)
        db.session.add(
            ProductRevision(
                product_id=create_product(coop).id,
                status=RevisionStatus.APPROVED,
                data={},
                created_at=sent,
                decided_at=sent + timedelta(hours=hours),
            )
        )
    db.session.add(ProductRevision(product_id=create_product(coop).id, data={}))  # pending
    review = table(blank_db, "thoi-gian-duyet")
    assert review.rows == [
        ["Sản phẩm mới gửi duyệt", 1, 1.0],
        ["Bản sửa của sản phẩm đang bán", 2, 40.0],
        ["Tất cả", 3, 20.0],
    ]


def test_no_decisions_give_no_median(blank_db):
    review_world()
    review = table(blank_db, "thoi-gian-duyet")
    assert [row[1:] for row in review.rows] == [[0, None], [0, None], [0, None]]


def inquiry(coop, when):
    db.session.add(
        Inquiry(
            cooperative_id=coop.id,
            group_key=uuid.uuid4().hex,
            buyer_name="Chị Lan",
            created_at=when,
        )
    )


def test_inquiries_are_counted_per_month_in_vietnam_time_and_by_sector(blank_db):
    load_taxonomy()
    farm = create_cooperative(sector=sector("nong-nghiep"))
    craft = create_cooperative(sector=sector("tieu-thu-cong-nghiep"))
    inquiry(farm, at(2026, 6, 30, 16, 59))  # 23:59 on 30 June in Vietnam
    inquiry(farm, at(2026, 6, 30, 17, 0))  # 00:00 on 1 July in Vietnam
    inquiry(craft, at(2026, 7, 15, 3))
    inquiry(craft, at(2025, 12, 31, 17, 30))  # 1 January 2026 in Vietnam
    inquiry(farm, at(2025, 12, 31, 16, 0))  # still 2025 in Vietnam
    inquiry(farm, at(2026, 11, 26, 1))
    inquiries = table(blank_db, "yeu-cau-bao-gia")
    assert [row[0] for row in inquiries.rows] == [f"{m:02d}/2026" for m in range(1, 12)]
    by_month = {row[0]: row[1:] for row in inquiries.rows}
    assert by_month["06/2026"][:3] == [1, 0, 0]
    assert by_month["07/2026"][:3] == [1, 1, 0]
    assert by_month["01/2026"][:3] == [0, 1, 0]
    assert by_month["11/2026"][-1] == 1
    assert inquiries.totals[1:3] == [3, 2] and inquiries.totals[-1] == 5
    last = table(blank_db, "yeu-cau-bao-gia", period=last_12_months(TODAY))
    assert last.rows[0][0] == "12/2025" and last.rows[-1][0] == "11/2026"
    assert last.totals[-1] == 6


def test_most_viewed_over_the_last_30_days(blank_db):
    load_taxonomy()
    coop = create_cooperative(name="HTX Xem Nhiều")
    products = [create_product(coop, name_vi=f"Sản phẩm xem {i}") for i in range(12)]
    hidden = create_product(coop, name_vi="Sản phẩm đã lưu trữ", status=ProductStatus.ARCHIVED)

    def views(product, n, days_ago=0, kind="product_view"):
        for _ in range(n):
            services.count(kind, product.id, day=TODAY - timedelta(days=days_ago))

    for i, product in enumerate(products):
        views(product, i + 1, days_ago=i % 5)
    views(products[0], 50, days_ago=30)  # one day too old: outside the window
    views(products[1], 20, days_ago=29)  # the window's first day
    views(products[2], 40, kind="qr_scan")  # another kind of counter
    views(products[3], 40, days_ago=-1)  # tomorrow (a clock running ahead)
    views(hidden, 9)
    viewed = table(blank_db, "xem-nhieu", with_links=True)
    names = [row[1] for row in viewed.rows]
    assert len(names) == 10
    assert names[:4] == ["Sản phẩm xem 1", "Sản phẩm xem 11", "Sản phẩm xem 10", "Sản phẩm xem 9"]
    assert viewed.rows[0] == [1, "Sản phẩm xem 1", "HTX Xem Nhiều", 22]
    assert "Sản phẩm xem 0" not in names  # 1 view in the window, below the top ten
    # Ties (9 views each) keep a stable order; the archived product is listed but not linked.
    assert names.index("Sản phẩm xem 8") < names.index("Sản phẩm đã lưu trữ")
    links = dict(zip(names, viewed.links, strict=True))
    assert links["Sản phẩm đã lưu trữ"] is None
    assert links["Sản phẩm xem 1"] == f"/san-pham/{products[1].slug}"


@pytest.mark.parametrize(
    "raw, value, refused",
    [
        (None, "2026", False),
        ("", "2026", False),
        ("2024", "2024", False),
        ("12m", "12m", False),
        ("2027", "2026", True),
        ("1999", "2026", True),
        ("２０２５", "2026", True),
        ("20266", "2026", True),
        ("<script>", "2026", True),
    ],
)
def test_the_period_from_the_address(raw, value, refused):
    period, was_refused = parse_period(raw, TODAY)
    assert (period.value, was_refused) == (value, refused)
    assert period.start < period.end


def test_a_year_period_runs_in_vietnam_time_and_this_year_stops_this_month():
    period = year_period(2026, TODAY)
    assert period.start == datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 30, 17, tzinfo=UTC)
    assert len(year_period(2025, TODAY).months) == 12
    assert parse_period("12m", TODAY)[0].span() == "12/2025 – 11/2026"


# --------------------------------------------------------------------------- the page


def test_the_dashboard_shows_the_demo_figures_in_vietnamese(staff_client):
    response = staff_client.get(DASHBOARD)
    assert response.status_code == 200
    text = page_text(response)
    html = response.get_data(as_text=True)
    assert "Số liệu hợp tác xã và sản phẩm" in text
    assert "Tổng số hợp tác xã 37 Đã xác minh 37 Chưa xác minh 0 Không có mã số thuế 1" in text
    for row in (
        "Nông nghiệp 20 0 1 0 21",
        "Tiểu thủ công nghiệp 10 0 0 0 10",
        "Thương mại 1 1 0 0 2",
        "Quỹ tín dụng nhân dân 0 0 0 1 1",
        "Tổng cộng 34 1 1 1 37",  # sector × legal form
        "Đã xác minh 37 1",  # verified, of which without a tax code
        "Tổng cộng 2 4 183 0 1 0 190",  # products by status
        "Nông nghiệp 1 2 108 0 1 0 112",
    ):
        assert row in text, row
    # The charts: images with a name and their numbers, beside the tables.
    assert html.count('role="img"') >= 4
    assert '<title id="chart-coops-sector-title">Số hợp tác xã theo lĩnh vực</title>' in html
    assert "Nông nghiệp: 21; Tiểu thủ công nghiệp: 10" in html
    assert "Chưa có lượt xem sản phẩm nào trong 30 ngày qua." in text
    assert "Chưa có yêu cầu báo giá nào trong kỳ này." in text
    assert "Sản phẩm mới gửi duyệt · 0 quyết định —" in text
    for key in KEYS[:-1]:
        assert f'href="{DASHBOARD}/{key}.csv"' in html
        assert f'href="{DASHBOARD}/{key}.xlsx"' in html


def test_the_dashboard_in_english(staff_client):
    text = page_text(staff_client.get(f"{DASHBOARD}?lang=en"))
    assert "Figures on cooperatives and products" in text
    assert "Cooperatives by sector and legal form" in text
    assert "Agriculture 20 0 1 0 21" in text
    assert "Total 34 1 1 1 37" in text
    assert "Without a tax code" in text
    assert "New products sent for review · 0 decisions —" in text
    assert "Year 2026" in text


def test_views_decisions_and_inquiries_show_on_the_page(staff_client, demo):
    from shop.catalog.models import Product

    product = db.session.scalar(select(Product).where(Product.status == ProductStatus.PUBLISHED))
    coop = db.session.get(Cooperative, product.cooperative_id)
    for _ in range(3):
        services.count("product_view", product.id, day=TODAY)
    decide(product, at(2026, 10, 1, 1), 5.5)
    inquiry(coop, at(2026, 10, 2, 3))
    db.session.commit()
    response = staff_client.get(DASHBOARD)
    text = page_text(response)
    assert f'<a href="/san-pham/{product.slug}">{product.name_vi}</a>' in response.get_data(
        as_text=True
    )
    assert re.search(rf"1 {re.escape(product.name_vi)} .* 3 ", text)
    assert "Sản phẩm mới gửi duyệt · 1 quyết định 5,5 giờ" in text
    assert re.search(r"10/2026 (?:\d+ ){7}1 ", text)
    english = page_text(staff_client.get(f"{DASHBOARD}?lang=en"))
    assert "New products sent for review · 1 decision 5.5 hours" in english


@pytest.mark.parametrize("raw", ["abc", "1999", "2027", "%3Cb%3Ex%3C%2Fb%3E", "9" * 30])
def test_a_bad_period_shows_a_notice_and_this_year(staff_client, raw):
    response = staff_client.get(f"{DASHBOARD}?period={raw}")
    assert response.status_code == 200
    text = page_text(response)
    assert "không hợp lệ; đang hiển thị năm 2026" in text
    assert "Duyệt và yêu cầu báo giá · Năm 2026" in text
    assert "<b>x</b>" not in response.get_data(as_text=True)
    english = page_text(staff_client.get(f"{DASHBOARD}?period={raw}&lang=en"))
    assert "is not valid; showing year 2026" in english


def test_choosing_a_period(staff_client):
    text = page_text(staff_client.get(f"{DASHBOARD}?period=2025"))
    assert "Duyệt và yêu cầu báo giá · Năm 2025" in text
    assert "01/2025 – 12/2025" in text and "không hợp lệ" not in text
    html = staff_client.get(f"{DASHBOARD}?period=12m").get_data(as_text=True)
    assert '<option value="12m" selected>' in html
    assert f'href="{DASHBOARD}/yeu-cau-bao-gia.csv?period=12m"' in html
    assert f'href="{DASHBOARD}/hop-tac-xa.csv"' in html  # not a figure of the period


def test_the_statement_count_does_not_grow_with_data(blank_staff, count_queries):
    def grow(n):
        coops = [create_cooperative(sector=sector(s)) for s in list(REPORT_2022)[:n]]
        for i, coop in enumerate(coops * 3):
            product = create_product(coop)
            services.count("product_view", product.id, day=TODAY)
            decide(product, at(2026, 3, 1 + i % 20), 3 + i)
            inquiry(coop, at(2026, 1 + i % 10, 5, i % 24))
        db.session.commit()

    def measure() -> int:
        with count_queries() as counter:
            assert blank_staff.get(DASHBOARD).status_code == 200
        return counter.count

    grow(2)
    small = measure()
    grow(7)
    grow(7)
    assert measure() == small


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize("key", KEYS)
def test_each_table_exports_as_csv_and_xlsx_with_the_same_numbers(staff_client, key):
    csv_data = csv_rows(staff_client.get(f"{DASHBOARD}/{key}.csv"))
    xlsx_data = xlsx_rows(staff_client.get(f"{DASHBOARD}/{key}.xlsx"))
    expected = table(staff_client.application, key)
    assert csv_data[0] == xlsx_data[0] == expected.columns
    assert len(csv_data) == len(xlsx_data) == 1 + len(expected.export_rows())
    for csv_row, xlsx_row, row in zip(
        csv_data[1:], xlsx_data[1:], expected.export_rows(), strict=True
    ):
        assert xlsx_row == row  # numbers as numbers
        assert csv_row == ["" if v is None else str(v) for v in row]


def test_the_exported_cooperative_figures_are_the_demo_data(staff_client):
    rows = csv_rows(staff_client.get(f"{DASHBOARD}/hop-tac-xa.csv?lang=en"))
    assert rows[0] == [
        "Lĩnh vực",
        "Hợp tác xã",
        "Liên hiệp HTX",
        "Tổ hợp tác",
        "Quỹ tín dụng nhân dân",
        "Tổng",
    ]
    assert rows[1] == ["Nông nghiệp", "20", "0", "1", "0", "21"]
    assert rows[-1] == ["Tổng cộng", "34", "1", "1", "1", "37"]
    sheet = xlsx_rows(staff_client.get(f"{DASHBOARD}/hop-tac-xa.xlsx?lang=en"))
    assert sheet[-1] == ["Tổng cộng", 34, 1, 1, 1, 37]
    response = staff_client.get(f"{DASHBOARD}/hop-tac-xa.xlsx")
    assert response.headers["Content-Disposition"] == "attachment; filename=so-lieu-hop-tac-xa.xlsx"
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.active.title == "Hợp tác xã theo lĩnh vực và loại hình"[:31]
    assert workbook.active.column_dimensions["A"].width >= len("Quỹ tín dụng nhân dân")


def test_period_exports_follow_the_period(staff_client):
    response = staff_client.get(f"{DASHBOARD}/yeu-cau-bao-gia.csv?period=2025")
    assert "filename=so-lieu-yeu-cau-bao-gia-2025.csv" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert [r[0] for r in rows[1:]] == [f"{m:02d}/2025" for m in range(1, 13)] + ["Tổng cộng"]
    assert len(csv_rows(staff_client.get(f"{DASHBOARD}/yeu-cau-bao-gia.csv?period=xyz"))) == 13


def test_formula_cells_are_escaped_in_both_formats(staff_client):
    coop = create_cooperative(name="@SUM(1+1)*cmd|' /C calc'!A0")
    product = create_product(coop, name_vi='=HYPERLINK("http://evil.example","Bấm vào")')
    services.count("product_view", product.id, day=TODAY)
    db.session.commit()
    rows = csv_rows(staff_client.get(f"{DASHBOARD}/xem-nhieu.csv"))
    assert rows[1] == [
        "1",
        "'" + product.name_vi,
        "'" + coop.name,
        "1",
    ]
    sheet = load_workbook(io.BytesIO(staff_client.get(f"{DASHBOARD}/xem-nhieu.xlsx").get_data()))
    cell = sheet.active["B2"]
    assert cell.value == "'" + product.name_vi and cell.data_type == "s"
    assert sheet.active["C2"].value == "'" + coop.name
    assert sheet.active["D2"].value == 1


@pytest.mark.parametrize(
    "path",
    ["khong-co.csv", "khong-co.xlsx", "HOP-TAC-XA.csv", "hop-tac-xa.pdf", "hop-tac-xa.csv.xlsx"],
)
def test_an_unknown_table_is_not_found(staff_client, path):
    assert staff_client.get(f"{DASHBOARD}/{path}").status_code == 404


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    "url",
    [
        DASHBOARD,
        f"{DASHBOARD}?period=2025",
        f"{DASHBOARD}/hop-tac-xa.csv",
        f"{DASHBOARD}/san-pham.xlsx",
    ],
)
def test_access(client, url):
    coop = db.session.scalar(select(Cooperative).limit(1))
    users = {
        "buyer": (create_user(Role.BUYER), 403),
        "member": (create_user(cooperative=coop), 403),
        "staff": (create_user(Role.STAFF), 200),
        "admin": (create_user(Role.ADMIN), 200),
    }
    db.session.commit()
    anonymous = client.application.test_client().get(url)
    assert anonymous.status_code == 302
    assert "/tai-khoan/dang-nhap" in anonymous.headers["Location"]
    for name, (user, status) in users.items():
        visitor = client.application.test_client()
        sign_in(visitor, user)
        assert visitor.get(url).status_code == status, name
