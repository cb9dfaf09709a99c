"""The alliance console's audit log (/quan-tri/nhat-ky): filters, pages, CSV export, access."""

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.extensions import db
from tests.factories import create_user, load_taxonomy
from tests.helpers import page_text, sign_in
from tests.test_cooperative_console import verify, waiting
from tests.test_cooperative_support import make_world

LOG = "/quan-tri/nhat-ky"
CSV = "/quan-tri/nhat-ky.csv"
XLSX = "/quan-tri/nhat-ky.xlsx"


def entry(actor, action, target_type, target_id, when, **values):
    row = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        created_at=when,
        **values,
    )
    db.session.add(row)
    return row


@pytest.fixture
def world(blank_client):
    load_taxonomy()
    world = make_world()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    sign_in(blank_client, world.staff)
    world.client = blank_client
    return world


@pytest.fixture
def entries(world):
    """Four entries on different days, by staff, an owner and the system."""
    other = create_user(Role.STAFF, email="Kiem-Tra@Example.com")
    entry(
        world.staff,
        "cooperative.suspended",
        "cooperative",
        world.coop_a.id,
        datetime(2026, 3, 10, 3, 0, tzinfo=UTC),
        before={"status": "verified"},
        after={"status": "suspended"},
        reason="=cmd|' /C calc'!A0",
    )
    entry(
        world.owner_a,
        "product.created",
        "product",
        41,
        datetime(2026, 5, 1, 2, 0, tzinfo=UTC),
        after={"name_vi": "Gạo nếp"},
    )
    entry(other, "invitation.created", "invitation", 7, datetime(2026, 6, 20, 9, 30, tzinfo=UTC))
    # 23:30 on 30 June in UTC is already 1 July in Vietnam.
    entry(
        None, "product.ocop_reminder_sent", "product", 41, datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    )
    db.session.commit()
    return world


def listed_actions(response) -> list[str]:
    """The action labels of the table's rows, in order."""
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [row.split("<td>")[3].split("</td>")[0] for row in body.split("<tr>")[1:]]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


# --------------------------------------------------------------------------- the page


def test_a_staff_decision_shows_in_the_log(world):
    coop, _owner = waiting(world, name="HTX Nhật Ký")
    assert verify(world.client, coop).status_code == 302
    response = world.client.get(LOG)
    text = page_text(response)
    assert "Xác minh" in listed_actions(response)
    assert "can-bo@example.com" in text
    assert f'href="/quan-tri/htx/{coop.id}"' in response.get_data(as_text=True)
    assert "pending → verified" in text


def test_lists_newest_first_with_vietnam_time_and_links(entries):
    response = entries.client.get(LOG)
    html = response.get_data(as_text=True)
    assert listed_actions(response) == [
        "Nhắc gia hạn chứng nhận OCOP",
        "Gửi lời mời",
        "Tạo sản phẩm",
        "Tạm ngưng hợp tác xã",
    ]
    text = page_text(response)
    assert "01/07/2026 06:30" in text  # 23:30 UTC + 7 hours
    assert "10/03/2026 10:00" in text
    assert "Hệ thống" in text
    assert 'href="/quan-tri/san-pham/41"' in html
    assert f'href="/quan-tri/htx/{entries.coop_a.id}"' in html
    assert "status: verified → suspended" in text
    assert "name_vi: — → Gạo nếp" in text
    assert '"/quan-tri/htx/7"' not in html and '"/quan-tri/san-pham/7"' not in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("action=product.created", ["Tạo sản phẩm"]),
        ("target_type=product", ["Nhắc gia hạn chứng nhận OCOP", "Tạo sản phẩm"]),
        ("actor=kiem-tra", ["Gửi lời mời"]),
        ("actor=CHU-A%40", ["Tạo sản phẩm"]),
        ("actor=%25", []),
        ("date_from=01/07/2026", ["Nhắc gia hạn chứng nhận OCOP"]),
        ("date_to=2026-06-30", ["Gửi lời mời", "Tạo sản phẩm", "Tạm ngưng hợp tác xã"]),
        ("date_from=2026-04-01&date_to=20/06/2026", ["Gửi lời mời", "Tạo sản phẩm"]),
        ("date_from=10/03/2026&date_to=10/03/2026", ["Tạm ngưng hợp tác xã"]),
        ("target_type=product&actor=chu-a", ["Tạo sản phẩm"]),
    ],
)
def test_each_filter_narrows_the_list(entries, query, expected):
    assert listed_actions(entries.client.get(f"{LOG}?{query}")) == expected


@pytest.mark.parametrize(
    "query",
    [
        "date_from=31/02/2026",
        "date_from=hôm+qua",
        "date_to=01/01/0001",
        "date_to=9999-12-31",
        "action=%3Cscript%3E",
        "target_type=DROP+TABLE",
        "actor=" + "x" * 2000,
        "date_from[]=1",
    ],
)
def test_bad_filters_are_ignored_with_a_message_never_a_500(entries, query):
    response = entries.client.get(f"{LOG}?{query}")
    assert response.status_code == 200
    if not query.startswith(("actor", "date_from[]")):
        assert len(listed_actions(response)) == 4
        assert "bộ lọc này đã được bỏ qua" in page_text(response)
    assert entries.client.get(f"{CSV}?{query}").status_code == 200
    assert entries.client.get(f"{XLSX}?{query}").status_code == 200


def test_pages_of_fifty(world):
    for i in range(51):
        entry(world.staff, "product.edited", "product", i, datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    assert len(listed_actions(world.client.get(LOG))) == 50
    assert len(listed_actions(world.client.get(f"{LOG}?page=2"))) == 1
    assert world.client.get(f"{LOG}?page=3").status_code == 404
    assert world.client.get(f"{LOG}?page=abc").status_code == 404


def test_statement_count_does_not_grow_with_entries(world, count_queries):
    def measure():
        with count_queries() as counter:
            response = world.client.get(LOG)
        assert response.status_code == 200
        return counter.count

    for i in range(5):
        entry(world.staff, "product.edited", "product", i, datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    small = measure()
    for i in range(45):
        entry(world.owner_a, "product.created", "cooperative", i, datetime(2026, 1, 2, tzinfo=UTC))
    db.session.commit()
    assert measure() == small


# --------------------------------------------------------------------------- CSV


def test_csv_has_the_filtered_rows_and_escapes_formulas(entries):
    rows = csv_rows(entries.client.get(f"{CSV}?target_type=cooperative"))
    assert rows[0] == [
        "Thời gian",
        "Người thực hiện",
        "Hành động",
        "Đối tượng",
        "Mã đối tượng",
        "Lý do",
        "Trước",
        "Sau",
    ]
    assert rows[1:] == [
        [
            "10/03/2026 10:00",
            "can-bo@example.com",
            "Tạm ngưng hợp tác xã",
            "Hợp tác xã",
            str(entries.coop_a.id),
            "'=cmd|' /C calc'!A0",
            '{"status": "verified"}',
            '{"status": "suspended"}',
        ]
    ]


def test_csv_matches_the_page_and_is_vietnamese(entries):
    query = "target_type=product"
    page = listed_actions(entries.client.get(f"{LOG}?{query}"))
    rows = csv_rows(entries.client.get(f"{CSV}?{query}&lang=en"))
    assert [row[2] for row in rows[1:]] == page
    assert [row[1] for row in rows[1:]] == ["Hệ thống", "chu-a@example.com"]


def test_csv_exports_every_row_not_one_page(world):
    for i in range(120):
        entry(world.staff, "product.edited", "product", i, datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    rows = csv_rows(world.client.get(CSV))
    assert len(rows) == 121
    assert len(rows) - 1 == db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "bình thường"])
def test_formula_cells_are_prefixed(text):
    from shop.reports.exports import safe_cell

    assert safe_cell(text) == (text if text == "bình thường" else "'" + text)


# --------------------------------------------------------------------------- XLSX


def xlsx_rows(response) -> list[list]:
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"] == "attachment; filename=nhat-ky.xlsx"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.title == "Nhật ký thao tác"
    assert all(cell.font.b for cell in sheet[1])
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_xlsx_has_the_filtered_rows_with_numbers_and_escaped_formulas(entries):
    rows = xlsx_rows(entries.client.get(f"{XLSX}?target_type=cooperative&lang=en"))
    assert rows == [
        [
            "Thời gian",
            "Người thực hiện",
            "Hành động",
            "Đối tượng",
            "Mã đối tượng",
            "Lý do",
            "Trước",
            "Sau",
        ],
        [
            "10/03/2026 10:00",
            "can-bo@example.com",
            "Tạm ngưng hợp tác xã",
            "Hợp tác xã",
            entries.coop_a.id,  # a number, not text
            "'=cmd|' /C calc'!A0",
            '{"status": "verified"}',
            '{"status": "suspended"}',
        ],
    ]


@pytest.mark.parametrize(
    "query",
    ["action=product.created", "target_type=product", "actor=kiem-tra", "date_from=01/07/2026"],
)
def test_xlsx_honours_the_filters_like_the_csv(entries, query):
    as_csv = csv_rows(entries.client.get(f"{CSV}?{query}"))
    as_xlsx = xlsx_rows(entries.client.get(f"{XLSX}?{query}"))
    assert len(as_xlsx) == len(as_csv) >= 2
    for csv_row, xlsx_row in zip(as_csv, as_xlsx, strict=True):
        assert csv_row == ["" if v is None else str(v) for v in xlsx_row]
    page = listed_actions(entries.client.get(f"{LOG}?{query}"))
    assert [row[2] for row in as_xlsx[1:]] == page


def test_the_log_links_to_both_exports_with_its_filters(entries):
    html = entries.client.get(f"{LOG}?target_type=product&actor=chu").get_data(as_text=True)
    assert f'href="{CSV}?target_type=product&amp;actor=chu"' in html
    assert f'href="{XLSX}?target_type=product&amp;actor=chu"' in html
    assert "Tải về XLSX" in page_text(entries.client.get(LOG))


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("url", [LOG, CSV, XLSX])
def test_access(world, url):
    anonymous = world.client.application.test_client()
    response = anonymous.get(url)
    assert response.status_code == 302
    assert "/tai-khoan/dang-nhap" in response.headers["Location"]
    for user, status in [
        (world.buyer, 403),
        (world.owner_a, 403),
        (world.editor_a, 403),
        (world.staff, 200),
        (world.admin, 200),
    ]:
        visitor = world.client.application.test_client()
        sign_in(visitor, user)
        assert visitor.get(url).status_code == status, user.email


def test_console_links_to_the_log(world):
    html = world.client.get("/quan-tri/").get_data(as_text=True)
    assert html.count(f'href="{LOG}"') == 2  # the console's menu and its home page
