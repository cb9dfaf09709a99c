"""Staff import the alliance's registry of cooperatives: template, upload, preview, fix, confirm."""

import csv
import io
import re
import unicodedata

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.bulk import registry
from shop.bulk.models import BatchKind, BatchStatus, ImportBatch
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    Invitation,
    LegalForm,
    MembershipRole,
)
from shop.extensions import db
from shop.notify.models import OutboxEmail
from tests.factories import create_cooperative, create_user
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_bulk_registry import a_colleague_saves

URL = "/quan-tri/nhap-htx/"
HEADER = [c.header for c in registry.COLUMNS]
CODE = "2300123454"
OTHER_CODE = "2409876544"


@pytest.fixture
def staff(client):
    user = create_user(Role.STAFF)
    db.session.commit()
    sign_in(client, user)
    return user


def line(**cells) -> list[str]:
    """A sheet row in the template's column order."""
    base = {
        "name": "HTX Rau sạch Nhập Thử",
        "tax_code": CODE,
        "tax_code_missing_reason": "",
        "legal_form": "Hợp tác xã",
        "sector": "Nông nghiệp",
        "locality": "Xã Liên Bão",
        "address_vi": "Thôn Đông, xã Liên Bão",
        "founded_year": "2015",
        "member_count": "25",
        "phone": "0912 345 678",
        "owner_email": "",
        "description_vi": "",
    }
    base.update(cells)
    return [base[c.key] for c in registry.COLUMNS]


def xlsx(rows, header=HEADER, formulas=()) -> bytes:
    """An XLSX with a header and rows; `formulas` are (row index, key, formula) cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for index, key, formula in formulas:
        column = registry.KEYS.index(key) + 1
        sheet.cell(row=index + 2, column=column, value=formula)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(rows, header=HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def cp1258(text: str) -> bytes:
    """Text as Vietnamese Windows writes it: base letters (ơ, â…) followed by combining tones."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            char.encode("cp1258")
            out.append(char)
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def upload(client, data: bytes, name="dang-ky-htx.xlsx"):
    # Encoded here: the test client would spool a body over 500 KB to a temporary file it
    # never closes (a ResourceWarning, an error under this suite's warning filter).
    token = csrf_token(client, URL)
    sheet = FileStorage(io.BytesIO(data), filename=name)
    boundary, body = encode_multipart({"csrf_token": token, "sheet": sheet})
    return client.post(URL, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def post(client, url, data=None, **kwargs):
    token = csrf_token(client, URL)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def counts() -> dict:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Cooperative, ImportBatch, AuditEntry, Invitation, OutboxEmail)
    }


def batch_id_of(response) -> int:
    assert response.status_code == 303, response.status_code
    return int(re.search(r"/quan-tri/nhap-htx/(\d+)", response.headers["Location"]).group(1))


# --------------------------------------------------------------------------- the template


def test_xlsx_template_opens_with_headers_example_and_lists(client, staff):
    response = client.get(URL + "mau.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    first, lists = workbook.worksheets
    rows = list(first.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[0][:2] == ("Tên HTX*", "Mã số thuế")
    assert rows[1][0] == registry.EXAMPLE["name"]
    assert first.freeze_panes == "A2"
    assert lists.title == "Danh mục"
    columns = list(zip(*lists.iter_rows(values_only=True), strict=True))
    assert "Nông nghiệp" in columns[0] and "Quỹ tín dụng nhân dân" in columns[0]
    assert "Phường Từ Sơn" in columns[1] and "Xã Liên Bão" in columns[1]
    assert {"Hợp tác xã", "Liên hiệp hợp tác xã", "Tổ hợp tác", "Quỹ tín dụng nhân dân"} <= set(
        columns[2]
    )


def test_csv_template_is_utf8_with_bom(client, staff):
    response = client.get(URL + "mau.csv")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert rows[1][0] == registry.EXAMPLE["name"]


def test_the_template_as_downloaded_is_refused_for_its_example_row(client, staff):
    data = client.get(URL + "mau.xlsx").data
    batch_id = batch_id_of(upload(client, data))
    text = page_text(client.get(f"{URL}{batch_id}"))
    assert "dòng ví dụ của tệp mẫu" in text


# --------------------------------------------------------------------------- upload and preview


def test_upload_page(client, staff):
    response = client.get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "Nhập danh sách hợp tác xã" in text
    assert 'href="/quan-tri/nhap-htx/mau.xlsx"' in response.get_data(as_text=True)


def test_upload_then_preview_shows_bad_rows_first_with_their_errors(client, staff):
    existing = db.session.scalar(
        select(Cooperative).where(Cooperative.tax_code.is_not(None)).order_by(Cooperative.id)
    )
    data = xlsx(
        [
            line(name="HTX Tốt Một"),
            line(name="HTX Sai Mã", tax_code=CODE[:9] + "0"),
            line(name="HTX Trùng", tax_code=existing.tax_code),
            line(name="HTX Nơi Lạ", tax_code=OTHER_CODE, locality="Sơn"),
        ]
    )
    before = counts()
    batch_id = batch_id_of(upload(client, data))
    assert counts()["import_batch"] == before["import_batch"] + 1
    assert counts()["cooperative"] == before["cooperative"]
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.kind == BatchKind.COOPERATIVES and batch.status == BatchStatus.PREVIEW
    assert batch.cooperative_id is None and [r["line"] for r in batch.rows] == [2, 3, 4, 5]

    response = client.get(f"{URL}{batch_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "1 dòng hợp lệ" in text and "3 dòng cần sửa" in text
    assert text.index("HTX Sai Mã") < text.index("HTX Tốt Một")
    assert "chữ số kiểm tra không khớp" in text
    assert f"Mã số thuế {existing.tax_code} đã có: {existing.name}" in text
    assert f'href="/quan-tri/htx/{existing.id}"' in html
    assert "khớp với nhiều mục" in text and "Phường Từ Sơn" in text
    # No confirm button while rows need fixing.
    assert "/xac-nhan" not in html


def test_preview_in_english(client, staff):
    batch_id = batch_id_of(upload(client, xlsx([line(name="HTX Sai", tax_code="123")])))
    text = page_text(client.get(f"{URL}{batch_id}?lang=en"))
    assert "Preview of the cooperatives" in text
    assert "rows to fix" in text
    assert "Tax code" in text and "10 digits" in text


def test_fix_a_row_then_confirm(client, staff):
    batch_id = batch_id_of(
        upload(
            client,
            xlsx(
                [
                    line(name="HTX Rau Một", owner_email="mot@example.com"),
                    line(name="HTX Rau Hai", tax_code="", owner_email="Hai@Example.com"),
                ]
            ),
        )
    )
    text = page_text(client.get(f"{URL}{batch_id}"))
    assert "1 dòng cần sửa" in text and "Lý do chưa có mã số thuế" in text
    fixed = line(name="HTX Rau Hai", tax_code=OTHER_CODE, owner_email="Hai@Example.com")
    form = {f"r3-{key}": value for key, value in zip(registry.KEYS, fixed, strict=True)}
    response = post(client, f"{URL}{batch_id}/dong/3", form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/quan-tri/nhap-htx/{batch_id}#dong-3")
    response = client.get(f"{URL}{batch_id}")
    text = page_text(response)
    assert "2 dòng hợp lệ" in text and "0 dòng cần sửa" in text
    assert "Nhập 2 hợp tác xã" in text

    before = counts()
    response = post(client, f"{URL}{batch_id}/xac-nhan")
    assert response.status_code == 303
    done = client.get(response.headers["Location"])
    text = page_text(done)
    assert "Đã nhập 2 hợp tác xã" in text
    created = db.session.scalars(
        select(Cooperative).where(Cooperative.name.in_(["HTX Rau Một", "HTX Rau Hai"]))
    ).all()
    assert len(created) == 2
    for coop in created:
        assert coop.status == CooperativeStatus.VERIFIED and coop.verified_at is not None
        assert f'href="/quan-tri/htx/{coop.id}"' in done.get_data(as_text=True)
    two = next(c for c in created if c.name == "HTX Rau Hai")
    assert two.tax_code == OTHER_CODE and two.legal_form == LegalForm.COOPERATIVE
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.cooperative_id.in_([c.id for c in created]))
    ).all()
    assert sorted(i.email for i in invitations) == ["hai@example.com", "mot@example.com"]
    assert all(i.role == MembershipRole.OWNER for i in invitations)
    outbox = db.session.scalars(
        select(OutboxEmail.to_address).order_by(OutboxEmail.id.desc()).limit(2)
    ).all()
    assert sorted(outbox) == ["hai@example.com", "mot@example.com"]
    after = counts()
    assert after["cooperative"] == before["cooperative"] + 2
    assert after["audit_entry"] == before["audit_entry"] + 4  # created + invited, each
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == BatchStatus.DONE
    assert sorted(batch.created_ids) == sorted(c.id for c in created)

    # A second confirmation (double submit, or a colleague) writes nothing.
    again = post(client, f"{URL}{batch_id}/xac-nhan")
    assert again.status_code == 409
    assert "Bảng này đã được nhập" in page_text(again)
    assert counts() == after
    # Nor can a row of a confirmed batch change.
    assert post(client, f"{URL}{batch_id}/dong/2/bo-qua", {"skip": "1"}).status_code == 409


def test_skip_a_row_and_take_it_back(client, staff):
    batch_id = batch_id_of(
        upload(client, xlsx([line(name="HTX Giữ"), line(name="", tax_code=OTHER_CODE)]))
    )
    response = post(client, f"{URL}{batch_id}/dong/3/bo-qua", {"skip": "1"})
    assert response.status_code == 303
    text = page_text(client.get(f"{URL}{batch_id}"))
    assert "1 dòng hợp lệ" in text and "0 dòng cần sửa" in text and "1 dòng bỏ qua" in text
    post(client, f"{URL}{batch_id}/dong/3/bo-qua", {"skip": "0"})
    assert "1 dòng cần sửa" in page_text(client.get(f"{URL}{batch_id}"))
    post(client, f"{URL}{batch_id}/dong/3/bo-qua", {"skip": "1"})
    assert post(client, f"{URL}{batch_id}/xac-nhan").status_code == 303
    assert db.session.scalar(select(Cooperative).where(Cooperative.name == "HTX Giữ"))
    batch = db.session.get(ImportBatch, batch_id)
    assert len(batch.created_ids) == 1


def test_confirm_with_rows_to_fix_is_refused_and_writes_nothing(client, staff):
    batch_id = batch_id_of(upload(client, xlsx([line(), line(name="Khác", tax_code="9")])))
    before = counts()
    response = post(client, f"{URL}{batch_id}/xac-nhan")
    assert response.status_code == 409
    assert "còn 1 dòng cần sửa" in page_text(response)
    assert counts() == before
    assert db.session.get(ImportBatch, batch_id).status == BatchStatus.PREVIEW


def test_a_tax_code_saved_meanwhile_rolls_everything_back(client, staff):
    batch_id = batch_id_of(
        upload(client, xlsx([line(name="HTX Đầu", tax_code=OTHER_CODE), line(name="HTX Đua")]))
    )
    other = create_cooperative(name="HTX Bên Cạnh")
    db.session.commit()
    before = counts()
    # A colleague's cooperative with the second row's code lands between check and insert.
    with a_colleague_saves(CODE, beside=other, before="HTX Đua") as raced:
        response = post(client, f"{URL}{batch_id}/xac-nhan")
    assert raced == ["HTX Đua"]
    assert response.status_code == 409
    assert "vừa được tạo trong lúc bạn xác nhận" in page_text(response)
    assert counts() == before
    assert db.session.scalar(select(Cooperative).where(Cooperative.name == "HTX Đầu")) is None
    assert db.session.get(ImportBatch, batch_id).status == BatchStatus.PREVIEW


# --------------------------------------------------------------------------- bad files


def refused(client, data, name, status):
    before = counts()
    response = upload(client, data, name)
    assert response.status_code == status, page_text(response)[:300]
    assert counts() == before
    return page_text(response)


def test_a_sheet_of_100000_rows_is_refused(client, staff):
    rows = "\n".join(f"HTX {n},,,,Nông nghiệp,Xã Liên Bão" for n in range(100_000))
    data = (csv_text([], header=HEADER[:6]) + rows + "\n").encode("utf-8")
    text = refused(client, data, "dang-ky.csv", 413)
    assert "hãy chia thành nhiều tệp" in text


def test_a_formula_is_shown_as_an_error_and_never_imported(client, staff):
    data = xlsx([line(name="HTX Công Thức")], formulas=[(0, "tax_code", "=2300123454+0")])
    before = counts()
    batch_id = batch_id_of(upload(client, data))
    text = page_text(client.get(f"{URL}{batch_id}"))
    assert "Ô “Mã số thuế” là công thức (=2300123454+0); hãy nhập giá trị." in text
    assert post(client, f"{URL}{batch_id}/xac-nhan").status_code == 409
    assert counts()["cooperative"] == before["cooperative"]


def test_csv_in_utf8_with_and_without_bom(client, staff):
    text = csv_text([line(name="HTX Từ Sơn Xanh", locality="Phường Từ Sơn")])
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        batch_id = batch_id_of(upload(client, data, "dang-ky.csv"))
        batch = db.session.get(ImportBatch, batch_id)
        assert batch.rows[0]["values"]["name"] == "HTX Từ Sơn Xanh"
        assert "1 dòng hợp lệ" in page_text(client.get(f"{URL}{batch_id}"))


def test_csv_in_windows_1258_is_read(client, staff):
    data = cp1258(csv_text([line(name="HTX Bánh phu thê Đình Bảng", locality="Phường Từ Sơn")]))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    batch_id = batch_id_of(upload(client, data, "dang-ky.csv"))
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.rows[0]["values"]["name"] == "HTX Bánh phu thê Đình Bảng"
    assert "1 dòng hợp lệ" in page_text(client.get(f"{URL}{batch_id}"))


def test_a_csv_of_unknown_encoding_is_refused(client, staff):
    data = "Nom,Secteur,Commune\nCoopérative Élevage,Agriculture,Tu Son\n".encode("latin-1")
    text = refused(client, data, "dang-ky.csv", 400)
    assert "Không đọc được bảng mã" in text and "UTF-8" in text


@pytest.mark.parametrize("data, name", [(b"", "trong.csv"), (b"%PDF-1.7 ...", "dang-ky.pdf")])
def test_empty_or_not_a_sheet(client, staff, data, name):
    refused(client, data, name, 400)


def test_no_file_chosen(client, staff):
    before = counts()
    response = post(client, URL, {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Hãy chọn tệp bảng tính" in page_text(response)
    assert counts() == before


def test_wrong_headers_name_the_missing_columns(client, staff):
    data = xlsx([["HTX A", "Nông nghiệp"]], header=["Tên HTX", "Ngành"])
    text = refused(client, data, "dang-ky.xlsx", 422)
    assert "Bảng tính thiếu cột “Lĩnh vực”, “Xã/phường”. Hãy dùng tệp mẫu" in text


def test_headers_only(client, staff):
    text = refused(client, xlsx([]), "dang-ky.xlsx", 422)
    assert "Tệp không có dòng hợp tác xã nào" in text


def test_wrong_headers_in_english(client, staff):
    client.get(URL + "?lang=en")
    text = refused(client, xlsx([["x"]], header=["Ngành"]), "a.xlsx", 422)
    assert "The sheet is missing the column “Tên HTX”, “Lĩnh vực”" in text


# --------------------------------------------------------------------------- access and ids


def test_members_and_buyers_are_refused(client):
    member = create_user(cooperative=create_cooperative())
    buyer = create_user(Role.BUYER)
    db.session.commit()
    for user in (member, buyer):
        sign_in(client, user)
        assert client.get(URL).status_code == 403
        assert client.get(URL + "mau.xlsx").status_code == 403
    anonymous = client.application.test_client()
    assert "/tai-khoan/dang-nhap" in anonymous.get(URL).headers["Location"]


def test_unknown_batch_or_another_kind_is_404(client, staff):
    products = ImportBatch(
        kind=BatchKind.PRODUCTS,
        cooperative_id=db.session.scalar(select(Cooperative.id).order_by(Cooperative.id)),
        file_name="san-pham.xlsx",
        rows=[{"line": 2, "values": {}, "skip": False}],
    )
    db.session.add(products)
    db.session.commit()
    for batch_id in (999999999, products.id):
        assert client.get(f"{URL}{batch_id}").status_code == 404
        assert post(client, f"{URL}{batch_id}/xac-nhan").status_code == 404
        assert post(client, f"{URL}{batch_id}/dong/2/bo-qua", {"skip": "1"}).status_code == 404


def test_unknown_line_is_404(client, staff):
    batch_id = batch_id_of(upload(client, xlsx([line()])))
    assert post(client, f"{URL}{batch_id}/dong/99", {}).status_code == 404


# --------------------------------------------------------------------------- many rows


def big_batch(actor, n) -> int:
    rows = []
    for i in range(n):
        values = dict(zip(registry.KEYS, line(name=f"HTX Số {i}", tax_code=""), strict=True))
        values["tax_code_missing_reason"] = "Chưa cấp mã" if i % 10 else ""
        rows.append({"line": i + 2, "values": values, "skip": False, "formulas": []})
    batch = ImportBatch(
        kind=BatchKind.COOPERATIVES, created_by_id=actor.id, file_name="lon.xlsx", rows=rows
    )
    db.session.add(batch)
    db.session.commit()
    return batch.id


def test_preview_sql_count_does_not_grow_with_rows(client, staff, count_queries):
    small, large = big_batch(staff, 10), big_batch(staff, 200)
    client.get(f"{URL}{small}")  # warm caches that are not the page's own
    measured = []
    for batch_id in (small, large):
        with count_queries() as counter:
            response = client.get(f"{URL}{batch_id}")
        assert response.status_code == 200
        measured.append(counter.count)
    assert measured[0] == measured[1], measured


def test_a_long_preview_is_paginated(client, staff):
    batch_id = big_batch(staff, 200)
    first = page_text(client.get(f"{URL}{batch_id}"))
    assert "20 dòng cần sửa" in first and "180 dòng hợp lệ" in first
    assert "Trang 1 / 2" in first
    # Rows to fix come first: row 2 (index 0) is one, row 12 another.
    assert first.index("HTX Số 0 ") < first.index("HTX Số 1 ")
    second = client.get(f"{URL}{batch_id}?page=2")
    assert second.status_code == 200 and "HTX Số 199" in page_text(second)
    assert client.get(f"{URL}{batch_id}?page=3").status_code == 404


def test_a_file_over_the_request_limit_is_refused_on_the_upload_page(client, staff):
    before = counts()
    response = upload(client, b"a,b\n" * (5 * 1024 * 1024), "lon.csv")
    assert response.status_code == 413
    assert "Tệp lớn quá: tối đa 16 MB" in page_text(response)
    assert counts() == before


def test_the_upload_page_lists_recent_uploads(client, staff):
    batch_id = batch_id_of(upload(client, xlsx([line(), line(name="B", tax_code=OTHER_CODE)])))
    response = client.get(URL)
    assert f'href="/quan-tri/nhap-htx/{batch_id}"' in response.get_data(as_text=True)
    assert "dang-ky-htx.xlsx · " in page_text(response)
    assert "2 dòng, đang xem trước" in page_text(response)
    post(client, f"{URL}{batch_id}/xac-nhan")
    assert "Đã nhập 2 hợp tác xã" in page_text(client.get(URL))
    assert "Imported 2 cooperatives" in page_text(client.get(URL + "?lang=en"))
