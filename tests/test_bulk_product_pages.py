"""The product import as a member uses it: template, upload, preview, fix, confirm, progress.

Every bad input of the issue goes through the upload page and must answer with a clear
message and the right status while writing nothing (products, batches, stored images and the
media storage counted before and after).
"""

import csv
import io
import os
import re
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from shop.bulk.models import BatchStatus, ImportBatch
from shop.catalog.models import Product, ProductImage, ProductStatus
from shop.cooperatives.models import CooperativeStatus, Sector
from shop.extensions import db
from shop.media.models import StoredImage
from tests.factories import create_cooperative, create_user
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_bulk_products import HEADER, counts, csv_bytes, row, zip_bytes
from tests.test_media_images import jpeg, png
from tests.test_media_storage import seaweedfs  # noqa: F401  (the fixture)

BASE = "/quan-ly-htx/nhap-san-pham"


@pytest.fixture
def member(client, media_storage):
    """A signed-in owner of a verified farming cooperative; the media storage starts empty."""
    farming = db.session.scalar(select(Sector).where(Sector.slug == "nong-nghiep"))
    cooperative = create_cooperative(name="HTX Nhập hàng loạt", sector=farming)
    user = create_user(cooperative=cooperative)
    db.session.commit()
    sign_in(client, user)
    client.cooperative = cooperative
    client.user = user
    return client


def upload(client, sheet: bytes, name="hang.csv", archive: bytes | None = None, lang=None):
    """Post the upload form; the body is written out as bytes, so the test client keeps it in
    memory (its own multipart encoder spills big bodies to temporary files it never closes)."""
    boundary = "ranh-gioi-nhap-san-pham"
    token = csrf_token(client, BASE + "/")

    def part(field: str, filename: str, content_type: str) -> bytes:
        return (
            (
                f"--{boundary}\r\nContent-Disposition: form-data; name={field!r}; "
                f"filename={filename!r}\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .replace("'", '"')
            .encode()
        )

    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
    ).encode()
    body += part("sheet", name, "application/octet-stream") + sheet + b"\r\n"
    if archive is not None:
        body += part("photos", "anh.zip", "application/zip") + archive + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    url = BASE + "/" + (f"?lang={lang}" if lang else "")
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def batch_of(response) -> ImportBatch:
    assert response.status_code == 303, page_text(response)[:400]
    batch_id = int(re.search(r"/(\d+)$", response.headers["Location"]).group(1))
    return db.session.get(ImportBatch, batch_id)


def post(client, url, data=None, page=None):
    token = csrf_token(client, page or url)
    return client.post(url, data={**(data or {}), "csrf_token": token})


# --------------------------------------------------------------------------- templates


def test_xlsx_template_download(member):
    response = member.get(BASE + "/mau.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["Sản phẩm"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[0][0] == "Tên sản phẩm*" and rows[0][2] == "Danh mục*"
    assert rows[1][:4] == (
        "Gạo nếp cái hoa vàng",
        "Yellow-flower sticky rice",
        "Gạo, ngũ cốc & hạt",
        "kg",
    )
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    assert "Danh mục" in book.sheetnames
    assert len(sheet.data_validations.dataValidation) == 2


def test_csv_template_download(member):
    response = member.get(BASE + "/mau.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == HEADER and len(lines) == 2
    assert lines[1][0] == "Gạo nếp cái hoa vàng"
    # The template uploaded as it is: its example row is recognised and left out.
    batch = batch_of(upload(member, response.data, name="mau-nhap-san-pham.csv"))
    assert [row["skip"] for row in batch.rows] == [True]


def test_the_example_comes_from_the_cooperatives_sector(client, media_storage):
    crafts = db.session.scalar(select(Sector).where(Sector.slug == "tieu-thu-cong-nghiep"))
    cooperative = create_cooperative(sector=crafts)
    user = create_user(cooperative=cooperative)
    db.session.commit()
    sign_in(client, user)
    lines = list(csv.reader(io.StringIO(client.get(BASE + "/mau.csv").data.decode("utf-8-sig"))))
    assert lines[1][:4] == ["Bình gốm men lam", "Blue-glazed ceramic vase", "Gốm", "chiếc"]


# --------------------------------------------------------------------------- upload page


def test_upload_page_explains_three_steps(member):
    response = member.get(BASE + "/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Nhập nhiều sản phẩm" in text
    for step in ("Tải tệp mẫu", "Chuẩn bị ảnh (nếu có)", "Tải lên và xem trước"):
        assert step in text
    html = response.get_data(as_text=True)
    assert f'href="{BASE}/mau.xlsx"' in html and f'href="{BASE}/mau.csv"' in html
    assert 'name="sheet"' in html and 'name="photos"' in html
    english = page_text(member.get(BASE + "/?lang=en"))
    assert "Import many products" in english and "Download the template" in english


def test_upload_without_a_sheet(member):
    before = counts()
    response = member.post(
        BASE + "/",
        data={"csrf_token": csrf_token(member, BASE + "/")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Hãy chọn tệp bảng tính (.xlsx hoặc .csv) đã điền." in page_text(response)
    assert counts() == before


# --------------------------------------------------------------------------- preview, fix, skip


def test_upload_shows_a_preview_with_bad_rows_first(member, media_storage):
    sheet = csv_bytes(
        [
            row(name="Gạo nếp", photos="a.jpg"),
            row(name="Chè búp", category="che", price="120k"),
            row(name="", category="Bánh kẹo", unit="thùng", price="abc", photos="khong-co.jpg"),
        ]
    )
    response = upload(member, sheet, archive=zip_bytes({"a.jpg": jpeg()}))
    batch = batch_of(response)
    assert batch.status == BatchStatus.PREVIEW and media_storage.exists(batch.archive_key)
    page = member.get(response.headers["Location"])
    assert page.status_code == 200
    text = page_text(page)
    assert "1 dòng hợp lệ, 2 dòng cần sửa" in text
    assert text.index("Dòng 3") < text.index("Dòng 2") and text.index("Dòng 4") < text.index(
        "Dòng 2"
    )
    assert "Danh mục: Không có danh mục “che”" in text
    assert "Tên sản phẩm: Hãy nhập tên sản phẩm." in text
    assert "Đơn vị: Không có đơn vị “thùng”" in text
    assert "Ảnh: Không thấy khong-co.jpg trong tệp nén ảnh." in text
    assert "Giá (đồng): Chưa hiểu giá “abc”." in text
    assert "45.000 ₫ / kg" in text  # the valid row, as buyers will read its price
    english = page_text(member.get(response.headers["Location"] + "?lang=en"))
    assert "1 valid row, 2 rows to fix" in english
    assert "Category: There is no category “che”" in english
    assert "Price (VND): The price “abc” is not clear." in english


def test_fix_a_row_from_the_preview(member):
    batch = batch_of(upload(member, csv_bytes([row(), row(name="Chè", unit="thùng")])))
    url = f"{BASE}/{batch.id}"
    before = [dict(r) for r in batch.rows]
    values = dict(
        zip(
            (
                "name_vi",
                "name_en",
                "category",
                "unit",
                "price",
                "min_order",
                "pack_size",
                "description",
                "season",
                "photos",
            ),
            row(name="Chè búp", unit="gói", price="80.000"),
            strict=True,
        )
    )
    response = post(member, f"{url}/dong/3", values, page=url)
    assert response.status_code == 303 and response.headers["Location"].endswith("#dong-3")
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.rows[0] == before[0]
    assert batch.rows[1]["values"]["unit"] == "gói"
    text = page_text(member.get(url))
    assert "2 dòng hợp lệ, 0 dòng cần sửa" in text and "Đã lưu dòng 3." in text
    assert "Sẵn sàng nhập 2 sản phẩm." in text


def test_skip_a_row_and_take_it_back(member):
    batch = batch_of(upload(member, csv_bytes([row(), row(name="", unit="x")])))
    url = f"{BASE}/{batch.id}"
    post(member, f"{url}/dong/3/bo-qua", {"skip": "1"}, page=url)
    batch = db.session.get(ImportBatch, batch.id)
    assert [r["skip"] for r in batch.rows] == [False, True]
    text = page_text(member.get(url))
    assert "1 dòng hợp lệ, 0 dòng cần sửa, 1 dòng đã bỏ" in text
    post(member, f"{url}/dong/3/bo-qua", {"skip": "0"}, page=url)
    batch = db.session.get(ImportBatch, batch.id)
    assert [r["skip"] for r in batch.rows] == [False, False]


def test_a_line_the_batch_does_not_have_is_a_404(member):
    batch = batch_of(upload(member, csv_bytes([row()])))
    url = f"{BASE}/{batch.id}"
    assert post(member, f"{url}/dong/99", {"name_vi": "x"}, page=url).status_code == 404
    assert post(member, f"{url}/dong/99/bo-qua", page=url).status_code == 404


# --------------------------------------------------------------------------- confirm


def test_confirm_creates_drafts_with_photos(member, media_storage):
    sheet = csv_bytes(
        [row(name="Gạo nếp", photos="b.png;a.jpg"), row(name="Chè xanh", category="tra", price="")]
    )
    batch = batch_of(upload(member, sheet, archive=zip_bytes({"a.jpg": jpeg(), "b.png": png()})))
    url = f"{BASE}/{batch.id}"
    before = counts()
    response = post(member, f"{url}/xac-nhan", {"target": "draft"}, page=url)
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == BatchStatus.DONE
    after = counts()
    assert after["product"] == before["product"] + 2
    assert after["stored_image"] == before["stored_image"] + 2
    made = db.session.scalars(
        select(Product).where(Product.id.in_(batch.created_ids)).order_by(Product.id)
    ).all()
    assert {p.status for p in made} == {ProductStatus.DRAFT}
    cover = db.session.scalar(
        select(StoredImage.mime_type)
        .join(ProductImage, ProductImage.image_id == StoredImage.id)
        .where(ProductImage.product_id == made[0].id, ProductImage.position == 0)
    )
    assert cover is not None
    text = page_text(member.get(url))
    assert "Đã nhập 2 sản phẩm" in text and "Xem danh sách sản phẩm" in text
    assert "Gạo nếp" in text and "Chè xanh" in text  # each new product, linked
    listing = page_text(member.get("/quan-ly-htx/san-pham"))
    assert "Gạo nếp" in listing and "Chè xanh" in listing
    assert "Imported 2 products" in page_text(member.get(url + "?lang=en"))


def test_the_job_reads_the_zip_from_s3_storage(client, app, seaweedfs):  # noqa: F811
    """On S3 the stored ZIP cannot seek: the job copies it to a temporary file, not memory."""
    storage = seaweedfs.empty_storage()
    saved = app.extensions.get("media_storage")
    app.extensions["media_storage"] = storage
    try:
        cooperative = create_cooperative(name="HTX Ảnh trên S3")
        user = create_user(cooperative=cooperative)
        db.session.commit()
        sign_in(client, user)
        sheet = csv_bytes([row(name="Bánh gai", photos="a.jpg")])
        batch = batch_of(upload(client, sheet, archive=zip_bytes({"a.jpg": jpeg()})))
        key = batch.archive_key
        assert storage.exists(key)
        url = f"{BASE}/{batch.id}"
        post(client, f"{url}/xac-nhan", {"target": "draft"}, page=url)
        batch = db.session.get(ImportBatch, batch.id)
        assert batch.status == BatchStatus.DONE, batch.error
        product = db.session.get(Product, batch.created_ids[0])
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ProductImage)
                .where(ProductImage.product_id == product.id)
            )
            == 1
        )
        assert not storage.exists(key)  # the ZIP goes once the batch is done
    finally:
        app.extensions["media_storage"] = saved
        storage.client.close()


def test_confirm_can_send_them_for_review(member):
    batch = batch_of(upload(member, csv_bytes([row()])))
    url = f"{BASE}/{batch.id}"
    post(member, f"{url}/xac-nhan", {"target": "submitted"}, page=url)
    batch = db.session.get(ImportBatch, batch.id)
    product = db.session.get(Product, batch.created_ids[0])
    assert product.status == ProductStatus.SUBMITTED
    assert "đã gửi Liên minh HTX duyệt" in page_text(member.get(url))


def test_confirm_is_refused_while_rows_have_errors(member):
    batch = batch_of(upload(member, csv_bytes([row(), row(name="", price="=1+1")])))
    url = f"{BASE}/{batch.id}"
    before = counts()
    response = post(member, f"{url}/xac-nhan", {"target": "draft"}, page=url)
    assert response.status_code == 409
    assert "Còn 1 dòng cần sửa" in page_text(response)
    assert "Ô E3 là công thức (=1+1); hãy nhập giá trị." in page_text(response)
    assert counts() == before
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.PREVIEW


def test_double_confirm_is_a_409(member):
    batch = batch_of(upload(member, csv_bytes([row()])))
    url = f"{BASE}/{batch.id}"
    token = csrf_token(member, url)
    first = member.post(f"{url}/xac-nhan", data={"target": "draft", "csrf_token": token})
    assert first.status_code == 303
    before = counts()
    second = member.post(f"{url}/xac-nhan", data={"target": "draft", "csrf_token": token})
    assert second.status_code == 409
    assert "đã được xác nhận" in page_text(second)
    assert counts() == before


def test_an_unverified_cooperative_gets_drafts_only(client, media_storage):
    cooperative = create_cooperative(status=CooperativeStatus.PENDING)
    user = create_user(cooperative=cooperative)
    db.session.commit()
    sign_in(client, user)
    batch = batch_of(upload(client, csv_bytes([row()])))
    url = f"{BASE}/{batch.id}"
    page = client.get(url)
    assert 'value="submitted"' not in page.get_data(as_text=True)
    response = post(client, f"{url}/xac-nhan", {"target": "submitted"}, page=url)
    assert response.status_code == 409
    assert "cần được Liên minh xác minh" in page_text(response)


def test_a_suspended_cooperative_keeps_drafts_like_its_dashboard(client, media_storage):
    """The product dashboard lets a suspended cooperative prepare drafts, not send them."""
    cooperative = create_cooperative(status=CooperativeStatus.SUSPENDED)
    user = create_user(cooperative=cooperative)
    db.session.commit()
    sign_in(client, user)
    batch = batch_of(upload(client, csv_bytes([row()])))
    url = f"{BASE}/{batch.id}"
    assert post(client, f"{url}/xac-nhan", {"target": "submitted"}, page=url).status_code == 409
    assert post(client, f"{url}/xac-nhan", {"target": "draft"}, page=url).status_code == 303


def test_all_or_nothing_through_the_page(member, media_storage):
    from tests.test_bulk_products import _refuse_product_named

    names = [f"Hàng {n}" for n in range(6)]
    batch = batch_of(
        upload(
            member,
            csv_bytes([row(name=n, photos="a.jpg") for n in names]),
            archive=zip_bytes({"a.jpg": jpeg()}),
        )
    )
    _refuse_product_named("Hàng 3")
    db.session.commit()
    url = f"{BASE}/{batch.id}"
    before = counts()
    post(member, f"{url}/xac-nhan", {"target": "draft"}, page=url)
    after = counts()
    assert after["product"] == before["product"]
    assert after["product_image"] == before["product_image"]
    text = page_text(member.get(url))
    assert "Chưa nhập được." in text and "Không sản phẩm nào được tạo." in text
    assert "Thử lại" in text
    response = post(member, f"{url}/thu-lai", page=url)
    assert response.status_code == 303
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.PREVIEW


def test_cancel_a_preview(member, media_storage):
    batch = batch_of(
        upload(member, csv_bytes([row(photos="a.jpg")]), archive=zip_bytes({"a.jpg": jpeg()}))
    )
    key = batch.archive_key
    url = f"{BASE}/{batch.id}"
    response = post(member, f"{url}/huy", page=url)
    assert response.status_code == 303
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.CANCELLED
    assert not media_storage.exists(key)
    assert post(member, f"{url}/xac-nhan", {"target": "draft"}, page=url).status_code == 409


# --------------------------------------------------------------------------- progress


def test_progress_json_and_page(member):
    batch = batch_of(upload(member, csv_bytes([row(), row(name="B")])))
    url = f"{BASE}/{batch.id}"
    assert member.get(f"{url}/tien-do.json").get_json() == {
        "status": "preview",
        "done": 0,
        "total": 0,
        "created": 0,
    }
    post(member, f"{url}/xac-nhan", {"target": "draft"}, page=url)
    assert member.get(f"{url}/tien-do.json").get_json() == {
        "status": "done",
        "done": 2,
        "total": 2,
        "created": 2,
    }


def test_a_running_batch_shows_a_bar_that_refreshes(member):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    batch = batch_of(upload(member, csv_bytes([row()])))
    url = f"{BASE}/{batch.id}"
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(
            status=BatchStatus.RUNNING,
            progress_done=120,
            progress_total=550,
            heartbeat_at=datetime.now(UTC),
        )
    )
    db.session.commit()
    page = member.get(url)
    html = page.get_data(as_text=True)
    assert '<progress value="120" max="550"' in html
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "js/import.js" in html
    assert "Đang nhập: 120/550" in page_text(page)
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=3))
    )
    db.session.commit()
    page = member.get(url)
    assert "Lần nhập bị gián đoạn" in page_text(page) and "Chạy lại" in page_text(page)
    assert 'http-equiv="refresh"' not in page.get_data(as_text=True)
    assert member.get(f"{url}/tien-do.json").get_json()["status"] == "interrupted"
    response = post(member, f"{url}/chay-lai", page=url)
    assert response.status_code == 303
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.DONE


# --------------------------------------------------------------------------- whose batch


def test_another_cooperatives_batch_is_a_404_everywhere(member, client):
    batch = batch_of(upload(member, csv_bytes([row()])))
    other = create_user(cooperative=create_cooperative())
    db.session.commit()
    sign_in(client, other)
    url = f"{BASE}/{batch.id}"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/tien-do.json").status_code == 404
    token = csrf_token(client, BASE + "/")
    for path in ("/xac-nhan", "/dong/2", "/dong/2/bo-qua", "/chay-lai", "/thu-lai", "/huy"):
        response = client.post(url + path, data={"csrf_token": token, "target": "draft"})
        assert response.status_code == 404, path
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.PREVIEW


def test_recent_batches_are_listed(member):
    batch_of(upload(member, csv_bytes([row()]), name="dot-1.csv"))
    text = page_text(member.get(BASE + "/"))
    assert "Các lần nhập gần đây" in text and "dot-1.csv" in text and "Đang chờ xác nhận" in text


# --------------------------------------------------------------------------- bad inputs


def zip_with_names(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return out.getvalue()


def zip_bomb() -> bytes:
    """One member of 15 MB of zeros: it packs to some 15 kB."""
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("anh.jpg", "w", force_zip64=True) as member,
    ):
        for _ in range(15):
            member.write(chunk)
    return out.getvalue()


@pytest.fixture(scope="module")
def hundred_thousand_rows() -> bytes:
    lines = [",".join(HEADER)]
    lines += [f"Sản phẩm {n},,Gốm,chiếc,10000,1,,,," for n in range(100_000)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def cp1258(text: str) -> bytes:
    """Text as Vietnamese Windows writes it: base letters precomposed, tones as marks after."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def xlsx_with_formula() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(row(name="Gạo", price="45000"))
    sheet.append(row(name="Chè"))
    sheet["E3"] = "=E2*2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET = csv_bytes([row(photos="anh.jpg")])


@pytest.mark.parametrize(
    "archive, status, message",
    [
        (zip_bomb, 413, "bom nén"),
        (
            lambda: zip_with_names({"../../etc/passwd.jpg": jpeg()}),
            400,
            "đường dẫn không an toàn: ../../etc/passwd.jpg",
        ),
        (
            lambda: zip_with_names({"/etc/anh.jpg": jpeg()}),
            400,
            "đường dẫn không an toàn: /etc/anh.jpg",
        ),
        (lambda: zip_with_names({"C:\\anh.jpg": jpeg()}), 400, "đường dẫn không an toàn"),
        (
            lambda: zip_bytes({"anh.jpg": jpeg(), "tai-lieu.pdf": b"%PDF-1.4", "virus.exe": b"MZ"}),
            400,
            "Tệp nén có tệp không phải ảnh: tai-lieu.pdf, virus.exe",
        ),
        (lambda: zip_bytes({"anh.jpg": b"MZ not a photo at all"}), 400, "không phải ảnh: anh.jpg"),
        (lambda: b"this is not a zip", 400, "Không đọc được tệp nén"),
    ],
    ids=["bomb", "dot-dot", "absolute", "drive", "not-images", "renamed", "not-a-zip"],
)
def test_bad_archives_are_refused_and_nothing_is_written(
    member, media_storage, archive, status, message
):
    before = counts()
    response = upload(member, SHEET, archive=archive())
    assert response.status_code == status
    text = page_text(response)
    assert message in text
    assert "Chưa có gì được lưu." in text
    assert counts() == before
    assert list(media_storage.iter_keys()) == []


def test_a_sheet_of_100000_rows_is_refused(member, hundred_thousand_rows):
    before = counts()
    response = upload(member, hundred_thousand_rows)
    assert response.status_code == 413
    assert "hãy chia thành nhiều tệp" in page_text(response)
    assert counts() == before


def test_formulas_are_shown_never_evaluated(member):
    batch = batch_of(upload(member, xlsx_with_formula(), name="hang.xlsx"))
    assert batch.rows[1]["values"]["price"] == "=E2*2"
    text = page_text(member.get(f"{BASE}/{batch.id}"))
    assert "Ô E3 là công thức (=E2*2); hãy nhập giá trị." in text
    english = page_text(member.get(f"{BASE}/{batch.id}?lang=en"))
    assert "Cell E3 is a formula (=E2*2); type the value instead." in english


def test_cp1258_csv_is_read(member):
    text = "\n".join([",".join(HEADER), "Bánh phu thê,,Bánh kẹo,hộp,50.000,1,,,,"]) + "\n"
    batch = batch_of(upload(member, cp1258(text)))
    assert batch.rows[0]["values"]["name_vi"] == unicodedata.normalize("NFC", "Bánh phu thê")
    assert batch.rows[0]["values"]["category"] == "Bánh kẹo"
    assert "1 dòng hợp lệ, 0 dòng cần sửa" in page_text(member.get(f"{BASE}/{batch.id}"))


@pytest.mark.parametrize("bom", [True, False])
def test_utf8_with_or_without_bom(member, bom):
    batch = batch_of(upload(member, csv_bytes([row()], bom=bom)))
    assert batch.rows[0]["values"]["name_vi"] == "Gạo nếp cái hoa vàng"


def test_an_encoding_that_cannot_be_told_is_refused(member):
    before = counts()
    data = ",".join(HEADER).encode("utf-8") + "\n商品名,,野菜,kg,1000,1,,,,\n".encode("shift_jis")
    response = upload(member, data)
    assert response.status_code == 400
    assert "Không đọc được bảng mã của tệp CSV" in page_text(response)
    assert counts() == before
    english = upload(member, data, lang="en")
    assert english.status_code == 400 and "UTF-8" in page_text(english)


def test_a_sheet_without_required_columns(member):
    before = counts()
    response = upload(member, csv_bytes([["Gạo"]], header=["Tên sản phẩm"]))
    assert response.status_code == 422
    assert "Bảng tính thiếu cột “Danh mục*”, “Đơn vị*”" in page_text(response)
    assert counts() == before


def test_an_upload_over_the_limit_is_a_413(member, monkeypatch):
    monkeypatch.setitem(member.application.config, "IMPORT_MAX_UPLOAD_BYTES", 1024 * 1024)
    before = counts()
    response = upload(member, SHEET, archive=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    text = page_text(response)
    assert "Tệp tải lên quá lớn (tối đa 1 MB" in text
    assert counts() == before
    # Bigger than the site's usual limit (one photo), within the import's: accepted.
    monkeypatch.setitem(member.application.config, "IMPORT_MAX_UPLOAD_BYTES", 40 * 1024 * 1024)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        out.writestr("anh.jpg", jpeg() + os.urandom(17 * 1024 * 1024))
    assert batch_of(upload(member, SHEET, archive=archive.getvalue())).archive_names == ["anh.jpg"]


def test_only_a_member_may_send_the_import_a_large_body(client):
    """A buyer posting to the import gets the site's usual limit, not the import's."""
    buyer = create_user()
    db.session.commit()
    sign_in(client, buyer)
    size = client.application.config["MAX_CONTENT_LENGTH"] + 1024
    response = client.post(BASE + "/", data=b"\0" * size, content_type="application/octet-stream")
    assert response.status_code == 413


# --------------------------------------------------------------------------- query count


def test_the_preview_runs_as_many_statements_for_200_rows_as_for_10(member, count_queries):
    small = batch_of(upload(member, csv_bytes([row(name=f"A {n}") for n in range(10)])))
    large = batch_of(
        upload(
            member, csv_bytes([row(name=f"B {n}", unit="x" if n % 3 else "kg") for n in range(200)])
        )
    )
    member.get(f"{BASE}/{small.id}")  # warm caches (session, translations)
    with count_queries() as first:
        assert member.get(f"{BASE}/{small.id}").status_code == 200
    with count_queries() as second:
        assert member.get(f"{BASE}/{large.id}").status_code == 200
    assert first.count == second.count
    assert member.get(f"{BASE}/{large.id}?page=2").status_code == 200
    assert member.get(f"{BASE}/{large.id}?page=3").status_code == 404
