"""The product import's rules (shop.bulk.products) and its job (shop.bulk.jobs), without pages.

Row rules are checked one by one with the demo taxonomy; the services the benchmark calls
(create_batch, row_errors, confirm, run) are run as it runs them, without a request; one
test runs the job in its background thread on a committed database; `flask media gc` keeps
and deletes the ZIPs of imports by their batch's state.
"""

import csv
import io
import json
import os
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from shop.audit.models import AuditEntry
from shop.bulk import jobs, products
from shop.bulk.archive import ArchiveError
from shop.bulk.models import BatchStatus, ImportBatch
from shop.bulk.sheets import SheetError
from shop.catalog.models import ALL_MONTHS, Product, ProductImage, ProductStatus, months_to_mask
from shop.cooperatives.models import CooperativeStatus, Sector
from shop.extensions import db
from shop.media.models import StoredImage
from shop.notify.models import Notification
from tests.factories import create_cooperative, create_user
from tests.test_media_images import jpeg, png

HEADER = [column.header for column in products.COLUMNS]


# --------------------------------------------------------------------------- files


def csv_bytes(rows, header=HEADER, bom=True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def row(
    name="Gạo nếp cái hoa vàng",
    category="Gạo, ngũ cốc & hạt",
    unit="kg",
    price="45.000",
    min_order="1",
    pack="túi 5 kg",
    description="Gạo nếp thơm.",
    season="cả năm",
    photos="",
):
    return [name, "", category, unit, price, min_order, pack, description, season, photos]


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def counts() -> dict:
    return {
        "product": db.session.scalar(select(func.count()).select_from(Product)),
        "import_batch": db.session.scalar(select(func.count()).select_from(ImportBatch)),
        "stored_image": db.session.scalar(select(func.count()).select_from(StoredImage)),
        "product_image": db.session.scalar(select(func.count()).select_from(ProductImage)),
    }


@pytest.fixture
def ctx(demo_db, media_storage):
    """An app context on the demo data (in a rolled-back transaction), storage empty."""
    with demo_db.test_request_context("/?lang=vi"):
        yield demo_db


@pytest.fixture
def owner(ctx):
    farming = db.session.scalar(select(Sector).where(Sector.slug == "nong-nghiep"))
    cooperative = create_cooperative(name="HTX Nhập thử", sector=farming)
    return create_user(cooperative=cooperative), cooperative


def context(photos=None, existing=()):
    categories, units = products.load_vocabularies()
    return products.Context(
        categories,
        units,
        None if photos is None else {products.photo_key(n): n for n in photos},
        {products.match_key(n): n for n in existing},
    )


def values(**cells) -> dict:
    keys = products.KEYS
    base = dict(zip(keys, row(), strict=True))
    base.update(cells)
    return base


def problems_of(cells: dict, ctx_=None, formulas=None) -> dict[str, list[str]]:
    entry = {"line": 2, "values": cells, "skip": False}
    if formulas:
        entry["formulas"] = formulas
    found = products.check_row(entry, ctx_ or context())
    out: dict[str, list[str]] = {}
    for problem in found.problems:
        out.setdefault(problem.key, []).append(str(problem.message))
    return out


# --------------------------------------------------------------------------- cell rules


@pytest.mark.parametrize(
    "text, amount",
    [
        ("120k", 120_000),
        ("120.000đ", 120_000),
        ("120.000", 120_000),
        ("120.000 ₫", 120_000),
        ("1,2 triệu", 1_200_000),
        ("1.5tr", 1_500_000),
        ("120000", 120_000),
        ("", None),
        ("Liên hệ", None),
        ("lien he", None),
    ],
)
def test_prices_written_the_usual_ways_are_read(text, amount):
    assert products.parse_price(text) == amount


@pytest.mark.parametrize("text", ["120,5k", "abc", "0", "-5000", "12.5", "3 tỷ"])
def test_unclear_or_impossible_prices_are_refused(ctx, text):
    with pytest.raises(products.CellError) as refused:
        products.parse_price(text)
    assert str(refused.value.message)


def test_price_messages_say_what_to_write(ctx):
    assert problems_of(values(price="abc"))["price"] == [
        "Chưa hiểu giá “abc”. Hãy viết như 120.000 hoặc 120k; để trống nếu người mua liên hệ "
        "để hỏi giá."
    ]
    assert "120.500" in problems_of(values(price="120,5k"))["price"][0]
    assert problems_of(values(price="0"))["price"] == [
        "Giá phải lớn hơn 0 đồng. Để trống nếu người mua liên hệ để hỏi giá."
    ]
    with force_locale("en"):
        message = problems_of(values(price="abc"))["price"][0]
    assert "120k" in message and "Hãy" not in message


@pytest.mark.parametrize(
    "text, months",
    [
        ("1-3, 10", [1, 2, 3, 10]),
        ("tháng 10-12", [10, 11, 12]),
        ("10 - 3", [10, 11, 12, 1, 2, 3]),
        ("T1–T3", [1, 2, 3]),
        ("1; 5; 9", [1, 5, 9]),
        ("tháng 4 đến tháng 6", [4, 5, 6]),
        ("5", [5]),
        ("12, 1", [12, 1]),
    ],
)
def test_season_months(text, months):
    assert products.parse_season(text) == months_to_mask(months)


@pytest.mark.parametrize("text", ["", "cả năm", "Quanh năm", "CA NAM"])
def test_season_all_year(text):
    assert products.parse_season(text) == ALL_MONTHS


@pytest.mark.parametrize("text", ["13", "0-3", "mùa xuân", "1-3-5", "01/03/2026"])
def test_season_not_understood(ctx, text):
    with pytest.raises(products.CellError):
        products.parse_season(text)


def test_season_that_excel_made_a_date_says_so(ctx):
    message = problems_of(values(season="01/03/2026"))["season"][0]
    assert "Excel đã đổi ô này thành ngày tháng" in message
    assert "Chưa hiểu tháng “mùa xuân”" in problems_of(values(season="mùa xuân"))["season"][0]


def test_min_order(ctx):
    assert products.parse_min_order("") == Decimal(1)
    assert products.parse_min_order("0,5") == Decimal("0.5")
    for text in ("0", "-1", "abc", "2000000", "0,0001"):
        with pytest.raises(products.CellError):
            products.parse_min_order(text)
    assert "không quá 1.000.000" in problems_of(values(min_order="2000000"))["min_order"][0]


def test_photo_names_are_split_and_folders_dropped():
    assert products.photo_names(" a.jpg ; anh/b.JPG;;c.png\nA.jpg ") == ["a.jpg", "b.JPG", "c.png"]
    assert products.photo_names("") == []


def test_category_and_unit_are_matched_without_tones(ctx):
    found = products.check_row(
        {"line": 2, "values": values(category="gao ngu coc hat", unit="HỘP"), "skip": False},
        context(),
    )
    assert found.ok, found.problems
    assert found.values["unit_code"] == "box"
    category = found.values["category_id"]
    assert context().categories.labels[category] == "Gạo, ngũ cốc & hạt"
    # A few words of one category's name are enough when no other has them all.
    assert products.check_row(
        {"line": 2, "values": values(category="banh keo"), "skip": False}, context()
    ).ok
    # English names and codes too.
    assert products.check_row(
        {
            "line": 2,
            "values": values(category="Honey & bee products", unit="bottle"),
            "skip": False,
        },
        context(),
    ).ok


def test_units_that_fold_alike_are_told_apart_when_typed_as_written(ctx):
    """ "bộ" (a set) and "bó" (a bunch) fold to the same "bo": typed, each is its own unit."""
    units = context().units
    set_, _ = units.find("bộ")
    bunch, _ = units.find("Bó")
    assert set_ and bunch and set_ != bunch
    assert units.labels[set_] == "bộ" and units.labels[bunch] == "bó"
    # Typed without tones it could be either: nothing is chosen, both are suggested.
    value, suggestions = units.find("bo")
    assert value is None and set(suggestions) >= {"bộ", "bó"}


def test_unknown_category_suggests_the_closest(ctx):
    message = problems_of(values(category="Gạo ngũ cốc hatt"))["category"][0]
    assert message.startswith("Không có danh mục “Gạo ngũ cốc hatt”. Có phải: “Gạo, ngũ cốc & hạt”")
    # Words shared by several categories: each is suggested, none is chosen.
    message = problems_of(values(category="đồ uống"))["category"][0]
    assert message.startswith("Không có danh mục “đồ uống”. Có phải: ")
    assert "“Trà & đồ uống không cồn”" in message
    # A word inside a name is not enough: folded, "che" is in "Thực phẩm chế biến".
    assert "category" in problems_of(values(category="che"))
    message = problems_of(values(category="xyz"))["category"][0]
    assert "trang “Danh mục”" in message
    assert problems_of(values(unit="thùng"))["unit"][0].startswith("Không có đơn vị “thùng”")
    assert "Còn trống" in problems_of(values(category=""))["category"][0]
    with force_locale("en"):
        english = problems_of(values(category="xyz"))["category"][0]
    assert "xyz" in english and "Không có" not in english


def test_missing_name_and_lengths(ctx):
    assert problems_of(values(name_vi=""))["name_vi"] == ["Hãy nhập tên sản phẩm."]
    long = problems_of(values(name_vi="x" * 201, pack_size="y" * 81, description="z" * 5001))
    assert long["name_vi"] == ["Dài quá: tối đa 200 ký tự (bạn đã nhập 201)."]
    assert long["pack_size"] == ["Dài quá: tối đa 80 ký tự (bạn đã nhập 81)."]
    assert long["description"] == ["Dài quá: tối đa 5000 ký tự (bạn đã nhập 5001)."]
    assert "ký tự điều khiển" in problems_of(values(name_vi="Gạo\x00"))["name_vi"][0]
    # A line break is fine in a description, not in a name.
    assert "description" not in problems_of(values(description="Dòng 1\nDòng 2"))


def test_formula_cells_are_never_values(ctx):
    found = problems_of(values(price="=B2*1000"), formulas={"price": "E2"})
    assert found == {"price": ["Ô E2 là công thức (=B2*1000); hãy nhập giá trị."]}


def test_photos_must_be_in_the_zip(ctx):
    assert problems_of(values(photos="a.jpg"), context(photos=["A.JPG", "b.png"])) == {}
    missing = problems_of(values(photos="a.jpg; c.jpg"), context(photos=["a.jpg"]))
    assert "Không thấy c.jpg trong tệp nén ảnh" in missing["photos"][0]
    no_zip = problems_of(values(photos="a.jpg"), context(photos=None))
    assert "Chưa có tệp nén ảnh (ZIP)" in no_zip["photos"][0]
    many = ";".join(f"{n}.jpg" for n in range(11))
    assert "tối đa 10 ảnh" in problems_of(values(photos=many), context(photos=[]))["photos"][0]


def test_a_name_twice_is_an_error_a_known_name_a_warning(ctx):
    rows = [
        {"line": 2, "values": values(name_vi="Mật ong rừng"), "skip": False},
        {"line": 3, "values": values(name_vi="mat ong rung"), "skip": False},
        {"line": 4, "values": values(name_vi="Mật ong rừng"), "skip": True},
        {"line": 5, "values": values(name_vi="Chè xanh"), "skip": False},
    ]
    checks = products.check_rows(rows, context(existing=["Chè Xanh"]))
    assert checks[0].ok and checks[3].ok
    assert "Trùng tên với dòng 2" in str(checks[1].problems[0].message)
    assert checks[2].skip and not checks[2].problems
    assert "đã có sản phẩm “Chè Xanh”" in str(checks[3].warnings[0])


# --------------------------------------------------------------------------- batches


def test_create_batch_keeps_rows_and_the_zip(owner, media_storage):
    user, cooperative = owner
    sheet = csv_bytes([row(photos="a.jpg"), row(name="Chè xanh", category="tra", photos="")])
    batch = products.create_batch(
        cooperative, user, "hang.csv", sheet, zip_bytes({"a.jpg": jpeg()})
    )
    assert batch.status == BatchStatus.PREVIEW and batch.id
    assert [r["line"] for r in batch.rows] == [2, 3]
    assert batch.rows[0]["values"]["name_vi"] == "Gạo nếp cái hoa vàng"
    assert batch.archive_names == ["a.jpg"]
    assert batch.archive_key.startswith(f"imports/{batch.id}-")
    assert media_storage.exists(batch.archive_key)
    assert products.row_errors(batch) == {}


def test_a_zip_upload_is_checked_and_stored_from_its_file_not_from_memory(owner, media_storage):
    """The upload view hands over the ZIP as the server spooled it to disk: 12 MB of photos
    are checked and copied into storage with a few MB of memory at most."""
    user, cooperative = owner
    header = jpeg((40, 30))[:64]  # what the check reads: a JPEG's first bytes
    photos = {f"anh-{n}.jpg": header + os.urandom(2_000_000) for n in range(6)}
    with tempfile.TemporaryFile() as upload:
        with zipfile.ZipFile(upload, "w", zipfile.ZIP_STORED) as archive:
            for name, data in photos.items():
                archive.writestr(name, data)
        size = upload.tell()
        upload.seek(0)
        sheet = csv_bytes([row(photos="anh-0.jpg")])
        del photos
        tracemalloc.start()
        try:
            batch = products.create_batch(cooperative, user, "hang.csv", sheet, upload)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        upload.seek(0)
        stored = media_storage.get(batch.archive_key)
        assert len(stored) == size > 12_000_000 and stored == upload.read()
    assert sorted(batch.archive_names) == [f"anh-{n}.jpg" for n in range(6)]
    assert peak < 4_000_000, peak  # a third of the ZIP: it was never read whole


def test_the_template_example_row_is_left_out(owner):
    user, cooperative = owner
    header, example = products.template_rows(cooperative)
    sheet = csv_bytes([example, row()], header=header)
    batch = products.create_batch(cooperative, user, "mau.csv", sheet, None)
    assert [r["skip"] for r in batch.rows] == [True, False]


def test_a_sheet_without_the_required_columns_is_refused(owner):
    user, cooperative = owner
    with pytest.raises(SheetError) as refused:
        products.create_batch(cooperative, user, "x.csv", csv_bytes([["a"]], header=["Tên"]), None)
    assert refused.value.status == 422
    assert "“Danh mục*”" in refused.value.message and "“Đơn vị*”" in refused.value.message


def test_bad_zip_refused_before_anything_is_written(owner, media_storage):
    user, cooperative = owner
    before = counts()
    with pytest.raises(ArchiveError):
        products.create_batch(cooperative, user, "a.csv", csv_bytes([row()]), b"not a zip")
    assert counts() == before
    assert list(media_storage.iter_keys()) == []


def test_row_errors_name_the_column(owner):
    user, cooperative = owner
    sheet = csv_bytes([row(), row(name="", category="Đồ lạ", price="120,5k")])
    batch = products.create_batch(cooperative, user, "a.csv", sheet, None)
    errors = products.row_errors(batch)
    assert list(errors) == [3]
    assert (
        "Danh mục: Không có danh mục “Đồ lạ”. Hãy chép đúng một tên trong trang “Danh mục” "
        "của tệp mẫu." in errors[3]
    )
    assert "Tên sản phẩm: Hãy nhập tên sản phẩm." in errors[3]
    assert any(e.startswith("Giá (đồng): Giá “120,5k” dễ đọc nhầm.") for e in errors[3])


def test_fix_and_skip_change_only_that_row(owner):
    user, cooperative = owner
    batch = products.create_batch(
        cooperative, user, "a.csv", csv_bytes([row(), row(name="Chè", unit="thùng")]), None
    )
    first = json.dumps(batch.rows[0], sort_keys=True)
    products.fix_row(batch, 3, {**values(name_vi="Chè"), "unit": "hộp"})
    assert json.dumps(batch.rows[0], sort_keys=True) == first
    assert batch.rows[1]["values"]["unit"] == "hộp"
    assert products.row_errors(batch) == {}
    products.skip_row(batch, 3)
    assert batch.rows[1]["skip"] is True
    with pytest.raises(LookupError):
        products.skip_row(batch, 99)


def test_a_changed_formula_cell_is_plain_text(owner):
    user, cooperative = owner
    batch = products.create_batch(cooperative, user, "a.csv", csv_bytes([row(price="=1+1")]), None)
    assert batch.rows[0]["formulas"] == {"price": "E2"}
    products.fix_row(batch, 2, {**batch.rows[0]["values"]})
    assert batch.rows[0]["formulas"] == {"price": "E2"}  # unchanged: still a formula
    products.fix_row(batch, 2, {**batch.rows[0]["values"], "price": "2000"})
    assert "formulas" not in batch.rows[0]
    assert products.row_errors(batch) == {}


# --------------------------------------------------------------------------- the job


def test_confirm_runs_the_job_inline_drafts_with_photos(owner, media_storage):
    user, cooperative = owner
    sheet = csv_bytes(
        [
            row(name="Gạo nếp", photos="b.png; a.jpg"),
            row(
                name="Chè xanh",
                category="Trà & đồ uống không cồn",
                unit="gói",
                price="",
                season="3-5",
                photos="a.jpg",
            ),
            row(name="Bỏ qua"),
        ]
    )
    archive = zip_bytes({"anh/a.jpg": jpeg((500, 400)), "b.png": png((300, 300)), "c.jpg": jpeg()})
    batch = products.create_batch(cooperative, user, "hang.csv", sheet, archive)
    products.skip_row(batch, 4)
    key = batch.archive_key
    before = counts()
    products.confirm(batch, user, "draft")
    db.session.refresh(batch)
    assert batch.status == BatchStatus.DONE, batch.error
    assert batch.progress_done == batch.progress_total == 2 + 2
    assert batch.finished_at is not None and batch.archive_key is None
    assert not media_storage.exists(key)
    made = db.session.scalars(
        select(Product).where(Product.id.in_(batch.created_ids)).order_by(Product.id)
    ).all()
    assert [p.name_vi for p in made] == ["Gạo nếp", "Chè xanh"]
    assert all(p.status == ProductStatus.DRAFT for p in made)
    assert all(p.cooperative_id == cooperative.id for p in made)
    assert made[0].price_vnd == 45_000 and made[1].price_vnd is None
    assert made[1].season_months == months_to_mask([3, 4, 5])
    assert made[1].unit_code == "pack"
    assert made[0].slug == "gao-nep" or made[0].slug.startswith("gao-nep-")
    after = counts()
    assert after["product"] == before["product"] + 2
    assert after["stored_image"] == before["stored_image"] + 2  # a.jpg stored once, c.jpg unused
    photos = {
        p.id: db.session.execute(
            select(ProductImage.position, StoredImage.width)
            .join(StoredImage, StoredImage.id == ProductImage.image_id)
            .where(ProductImage.product_id == p.id)
            .order_by(ProductImage.position)
        ).all()
        for p in made
    }
    assert photos[made[0].id] == [(0, 300), (1, 500)]  # sheet order: b.png is the cover
    assert photos[made[1].id] == [(0, 500)]
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.target_type == "product", AuditEntry.target_id.in_(batch.created_ids)
        )
    ).all()
    assert sorted(actions) == sorted(["product.created"] * 2 + ["product.photo_added"] * 2)
    notice = db.session.scalar(
        select(Notification)
        .where(Notification.cooperative_id == cooperative.id)
        .order_by(Notification.id.desc())
    )
    assert notice.kind == "products_imported" and notice.params["count"] == 2


def test_submitted_target_sends_them_for_review(owner):
    user, cooperative = owner
    batch = products.create_batch(
        cooperative, user, "a.csv", csv_bytes([row(), row(name="B")]), None
    )
    products.confirm(batch, user, "submitted")
    db.session.refresh(batch)
    assert batch.status == BatchStatus.DONE
    statuses = db.session.scalars(select(Product.status).where(Product.id.in_(batch.created_ids)))
    assert set(statuses) == {ProductStatus.SUBMITTED}
    submitted = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "product.submitted",
            AuditEntry.target_id.in_(batch.created_ids),
        )
    )
    assert submitted == 2


def test_only_a_verified_cooperative_sends_for_review(ctx):
    cooperative = create_cooperative(status=CooperativeStatus.PENDING)
    user = create_user(cooperative=cooperative)
    batch = products.create_batch(cooperative, user, "a.csv", csv_bytes([row()]), None)
    with pytest.raises(products.ImportRefused) as refused:
        products.confirm(batch, user, "submitted")
    assert refused.value.status == 409
    assert batch.status == BatchStatus.PREVIEW
    products.confirm(batch, user, "draft")
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.DONE


def test_confirm_refused_with_errors_and_twice(owner):
    user, cooperative = owner
    batch = products.create_batch(
        cooperative, user, "a.csv", csv_bytes([row(), row(name="", unit="x")]), None
    )
    with pytest.raises(products.ImportRefused) as refused:
        products.confirm(batch, user, "draft")
    assert refused.value.status == 409 and "Còn 1 dòng cần sửa" in str(refused.value.message)
    products.skip_row(batch, 3)
    products.confirm(batch, user, "draft")
    with pytest.raises(products.ImportRefused) as again:
        products.confirm(batch, user, "draft")
    assert again.value.status == 409
    assert len(db.session.get(ImportBatch, batch.id).created_ids) == 1


def _refuse_product_named(name: str) -> None:
    """A real constraint of the database (a trigger) that refuses one product row."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            db.text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON product "
                f"WHEN NEW.name_vi = '{name}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    else:
        db.session.execute(
            db.text(
                "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.name_vi = '{name}' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        db.session.execute(
            db.text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON product "
                "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
            )
        )


def test_all_or_nothing_when_the_database_refuses_a_row(owner, media_storage):
    user, cooperative = owner
    names = [f"Sản phẩm {n}" for n in range(1, 8)]
    sheet = csv_bytes([row(name=name, photos="a.jpg") for name in names])
    batch = products.create_batch(cooperative, user, "a.csv", sheet, zip_bytes({"a.jpg": jpeg()}))
    _refuse_product_named("Sản phẩm 4")
    before = counts()
    products.confirm(batch, user, "draft")
    db.session.refresh(batch)
    assert batch.status == BatchStatus.FAILED
    assert jobs.failure_of(batch)["code"] == "database"
    after = counts()
    assert after["product"] == before["product"]
    assert after["product_image"] == before["product_image"]
    assert not db.session.scalars(select(Product).where(Product.name_vi.in_(names))).all()
    # The photo was stored (a whole image, reused on the next try), and the ZIP is kept.
    assert after["stored_image"] == before["stored_image"] + 1
    assert media_storage.exists(batch.archive_key)
    # "Thử lại" takes it back to its preview, to confirm again.
    products.retry(batch)
    assert batch.status == BatchStatus.PREVIEW


def test_a_photo_that_is_not_an_image_fails_the_job_cleanly(owner):
    user, cooperative = owner
    fake = b"\xff\xd8\xff\xe0" + b"\x00" * 200  # a JPEG's first bytes, nothing after
    batch = products.create_batch(
        cooperative, user, "a.csv", csv_bytes([row(photos="a.jpg")]), zip_bytes({"a.jpg": fake})
    )
    before = counts()
    products.confirm(batch, user, "draft")
    db.session.refresh(batch)
    assert batch.status == BatchStatus.FAILED
    failure = jobs.failure_of(batch)
    assert failure["code"] == "photo" and failure["name"] == "a.jpg"
    assert counts() == before


def test_a_lost_zip_fails_with_a_plain_reason(owner, media_storage):
    user, cooperative = owner
    batch = products.create_batch(
        cooperative, user, "a.csv", csv_bytes([row(photos="a.jpg")]), zip_bytes({"a.jpg": jpeg()})
    )
    media_storage.delete(batch.archive_key)
    products.confirm(batch, user, "draft")
    db.session.refresh(batch)
    assert jobs.failure_of(batch)["code"] == "archive_missing"


def test_an_interrupted_batch_can_run_again(owner):
    user, cooperative = owner
    batch = products.create_batch(cooperative, user, "a.csv", csv_bytes([row()]), None)
    with pytest.raises(products.ImportRefused):
        products.rerun(batch, user)
    old = datetime.now(UTC) - timedelta(minutes=5)
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(status=BatchStatus.RUNNING, heartbeat_at=old, target="draft", progress_total=1)
    )
    db.session.refresh(batch)
    assert products.stale(batch)
    products.rerun(batch, user)
    db.session.refresh(batch)
    assert batch.status == BatchStatus.DONE and len(batch.created_ids) == 1


def test_run_leaves_other_states_alone(owner):
    user, cooperative = owner
    batch = products.create_batch(cooperative, user, "a.csv", csv_bytes([row()]), None)
    jobs.run(batch.id)
    assert db.session.get(ImportBatch, batch.id).status == BatchStatus.PREVIEW


# --------------------------------------------------------------------------- template


def test_template_xlsx_has_headers_example_and_the_lists(owner):
    from openpyxl import load_workbook

    _user, cooperative = owner
    book = load_workbook(io.BytesIO(products.template_xlsx(cooperative)))
    sheet, names = book.worksheets
    assert sheet.title == "Sản phẩm" and names.title == "Danh mục"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[1][0] == "Gạo nếp cái hoa vàng"  # the demo sector of a new cooperative
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 32
    listed = [r[0] for r in names.iter_rows(min_row=2, values_only=True) if r[0]]
    assert "Gạo, ngũ cốc & hạt" in listed and len(listed) == 20
    units = [r[2] for r in names.iter_rows(min_row=2, values_only=True) if r[2]]
    assert "kg" in units and "hộp" in units
    formulas = sorted(v.formula1 for v in sheet.data_validations.dataValidation)
    assert formulas == ["'Danh mục'!$A$2:$A$21", f"'Danh mục'!$C$2:$C${len(units) + 1}"]


# --------------------------------------------------------------------------- media gc


def test_gc_keeps_the_zips_of_batches_in_progress(demo_db, owner, media_storage):
    user, cooperative = owner
    sheet = csv_bytes([row(photos="a.jpg")])
    archive = zip_bytes({"a.jpg": jpeg((50, 50))})
    batches = {
        state: products.create_batch(cooperative, user, "a.csv", sheet, archive)
        for state in ("preview", "running", "old", "done", "failed", "cancelled")
    }
    for state, batch in batches.items():
        values_ = (
            {"status": state}
            if state not in ("old",)
            else {"created_at": datetime.now(UTC) - timedelta(days=8)}
        )
        db.session.execute(update(ImportBatch).where(ImportBatch.id == batch.id).values(**values_))
    orphan_young = "imports/999-young.zip"
    media_storage.put(orphan_young, b"zip", "application/zip")
    db.session.commit()
    result = demo_db.test_cli_runner().invoke(args=["media", "gc"])
    assert result.exit_code == 0, result.output
    left = set(media_storage.iter_keys())
    assert batches["preview"].archive_key in left
    assert batches["running"].archive_key in left
    assert orphan_young in left  # no batch names it yet: maybe not committed, and young
    for state in ("old", "done", "failed", "cancelled"):
        assert batches[state].archive_key not in left, state


# --------------------------------------------------------------------------- a real thread


@pytest.fixture(scope="module")
def committed_app(database_factory, tmp_path_factory):
    """An app of its own on a committed database (a background thread sees only commits)."""
    from flask_migrate import upgrade

    from shop import create_app
    from shop.media.storage import LocalStorage
    from tests.conftest import make_config
    from tests.factories import load_taxonomy

    url = database_factory("bulk_jobs")
    app = create_app(make_config(url, IMPORT_IN_BACKGROUND=True))
    with app.app_context():
        upgrade()
        load_taxonomy()
        db.session.commit()
    app.extensions["media_storage"] = LocalStorage(tmp_path_factory.mktemp("bulk_media"))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_job_runs_in_a_background_thread(committed_app):
    app = committed_app
    with app.test_request_context():
        cooperative = create_cooperative(name="HTX Chạy nền")
        user = create_user(cooperative=cooperative)
        db.session.commit()
        sheet = csv_bytes([row(name=f"Hàng nền {n}", photos="a.jpg") for n in range(30)])
        batch = products.create_batch(
            cooperative, user, "nen.csv", sheet, zip_bytes({"a.jpg": jpeg((400, 300))})
        )
        db.session.commit()
        batch_id, cooperative_id = batch.id, cooperative.id
        products.confirm(batch, user, "draft")  # commits, then starts the thread
        db.session.commit()
        db.session.remove()
    deadline = time.monotonic() + 60
    while True:
        with app.app_context():
            batch = db.session.get(ImportBatch, batch_id)
            status, done, total = batch.status, batch.progress_done, batch.progress_total
            created = list(batch.created_ids or [])
            db.session.remove()
        if status != BatchStatus.RUNNING or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == BatchStatus.DONE
    assert done == total == 31
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Product).where(Product.id.in_(created))
            )
            == 30
        )
        notice = db.session.scalar(
            select(Notification).where(Notification.cooperative_id == cooperative_id)
        )
        assert notice.params == {"count": 30, "batch_id": batch_id}
