"""`flask data import|export`: the reference file loads whole, bad files change nothing."""

import copy
import json
import unicodedata

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Category, Product, ProductStatus
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.dataset.exporter import export_data
from shop.dataset.importer import ImportFailed, import_data
from shop.extensions import db
from shop.programmes.models import Booth, BoothProduct, Programme


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run_import(app, tmp_path, data, name="data.json"):
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["data", "import", str(path)])


@pytest.fixture
def loaded(blank_db, tmp_path, reference_data):
    """The blank database after importing the reference dataset once."""
    result = run_import(blank_db, tmp_path, reference_data, "reference.json")
    assert result.exit_code == 0, result.output
    return blank_db


def test_reference_dataset_loads_whole(loaded):
    assert count(Sector) == 7
    assert count(Category) == 20
    assert count(Locality) == 41
    assert count(Cooperative) == 40
    assert count(Product) == 201
    assert count(Programme) == 2
    booths = db.session.scalars(select(Booth)).all()
    assert len(booths) == 22  # 12 booths in 2022, 10 at the 2027 fair
    published = db.session.scalar(
        select(func.count()).select_from(Product).filter_by(status=ProductStatus.PUBLISHED)
    )
    assert published == 196
    assert count(BoothProduct) > 3 * len(booths) - 1


def test_prices_of_zero_mean_contact(loaded, reference_data):
    zero = [p["slug"] for p in reference_data["products"] if p["price_vnd"] == 0]
    assert zero, "the reference dataset has products priced on request"
    product = db.session.scalar(select(Product).filter_by(slug=zero[0]))
    assert product.price_vnd is None


def test_second_import_changes_nothing(loaded, tmp_path, reference_data):
    before = export_data(db.session)
    result = run_import(loaded, tmp_path, reference_data, "again.json")
    assert result.exit_code == 0, result.output
    assert " new, 0 updated" in result.output
    assert all(" 0 new, 0 updated" in line for line in result.output.strip().splitlines())
    assert export_data(db.session) == before


def test_import_export_import_round_trips(blank_db, reference_data):
    savepoint = db.session.begin_nested()
    import_data(reference_data, db.session)
    first = export_data(db.session)
    savepoint.rollback()
    assert count(Product) == 0

    report = import_data(first, db.session)
    assert report.created["products"] == 201
    second = export_data(db.session)
    assert second == first
    assert import_data(second, db.session).changed == 0


def test_export_command_writes_the_import_format(loaded, tmp_path):
    out = tmp_path / "export.json"
    result = loaded.test_cli_runner().invoke(args=["data", "export", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {
        "sectors",
        "product_categories",
        "localities",
        "cooperatives",
        "products",
        "events",
    } <= (data.keys())
    assert len(data["products"]) == 201
    assert {"code", "name_vi", "name_en"} <= data["meta"]["units"][0].keys()


def test_text_is_nfc_normalised(blank_db, reference_data):
    data = copy.deepcopy(reference_data)
    decomposed = unicodedata.normalize("NFD", "Bánh phu thê Đình Bảng")
    data["products"][0]["name_vi"] = decomposed
    import_data(data, db.session)
    product = db.session.scalar(select(Product).filter_by(slug=data["products"][0]["slug"]))
    assert product.name_vi == "Bánh phu thê Đình Bảng"
    assert unicodedata.is_normalized("NFC", product.name_vi)


def _first_product_of_other_coop(data, coop):
    return next(
        p["slug"]
        for p in data["products"]
        if p["cooperative"] != coop and p["status"] == "approved"
    )


def _bad(case, data):
    """Mutate a copy of the reference data into one bad case; return the expected message."""
    products = data["products"]
    if case == "unknown_sector":
        data["cooperatives"][3]["sector"] = "khai-khoang"
        return "cooperatives[3].sector", "unknown sector 'khai-khoang'"
    if case == "unknown_category":
        products[17]["category"] = "do-dien-tu"
        return "products[17].category", "unknown category 'do-dien-tu'"
    if case == "unknown_locality":
        data["cooperatives"][5]["locality"] = "xa-khong-co"
        return "cooperatives[5].locality", "unknown locality 'xa-khong-co'"
    if case == "unknown_cooperative":
        products[4]["cooperative"] = "htx-khong-ton-tai"
        return "products[4].cooperative", "unknown cooperative 'htx-khong-ton-tai'"
    if case == "missing_name":
        products[9]["name_vi"] = "   "
        return "products[9].name_vi", "is required"
    if case == "negative_price":
        products[11]["price_vnd"] = -5000
        return "products[11].price_vnd", "must be at least 0"
    if case == "fractional_price":
        products[12]["price_vnd"] = 12500.5
        return "products[12].price_vnd", "must be a whole number"
    if case == "text_price":
        products[13]["price_vnd"] = "120k"
        return "products[13].price_vnd", "must be a whole number"
    if case == "duplicate_slug":
        products[20]["slug"] = products[2]["slug"]
        return "products[20].slug", "duplicate slug"
    if case == "foreign_booth_product":
        booth = data["events"][0]["booths"][0]
        booth["featured_products"][0] = _first_product_of_other_coop(data, booth["cooperative"])
        return "events[0].booths[0].featured_products[0]", "belongs to another cooperative"
    if case == "bad_tax_code":
        data["cooperatives"][1]["tax_code"] = "9990000019"
        return "cooperatives[1].tax_code", "check digit"
    if case == "unknown_unit":
        products[30]["unit"] = "thung"
        return "products[30].unit", "unknown unit 'thung'"
    if case == "bad_stars":
        products[31]["ocop_stars"] = 2
        return "products[31].ocop_stars", "must be 0, 3, 4 or 5"
    raise AssertionError(case)


BAD_CASES = [
    "unknown_sector",
    "unknown_category",
    "unknown_locality",
    "unknown_cooperative",
    "missing_name",
    "negative_price",
    "fractional_price",
    "text_price",
    "duplicate_slug",
    "foreign_booth_product",
    "bad_tax_code",
    "unknown_unit",
    "bad_stars",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_file_names_the_record_and_changes_nothing(loaded, tmp_path, reference_data, case):
    before = export_data(db.session)
    data = copy.deepcopy(reference_data)
    # A valid edit that must NOT land, because the same file also holds a bad record.
    data["products"][0]["name_vi"] = "Tên đã sửa trong tệp hỏng"
    data["cooperatives"].append(
        {**data["cooperatives"][0], "slug": "htx-moi-trong-tep-hong", "tax_code": None}
    )
    where, reason = _bad(case, data)
    result = run_import(loaded, tmp_path, data)
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert where in result.output
    assert reason in result.output
    assert export_data(db.session) == before


def test_bad_file_into_empty_database_writes_nothing(blank_db, tmp_path, reference_data):
    data = copy.deepcopy(reference_data)
    data["products"][-1]["category"] = "khong-co"
    result = run_import(blank_db, tmp_path, data)
    assert result.exit_code == 1
    assert f"products[{len(data['products']) - 1}].category" in result.output
    assert count(Sector) == 0 and count(Cooperative) == 0 and count(Product) == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"sectors": [', "malformed JSON"),
        ("", "malformed JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"sectors": {"slug": "x"}}', "sectors: must be a list"),
    ],
)
def test_malformed_files_are_refused(loaded, tmp_path, text, message):
    before = export_data(db.session)
    result = run_import(loaded, tmp_path, text)
    assert result.exit_code == 1
    assert message in result.output
    assert export_data(db.session) == before


def test_missing_file_is_refused(blank_db, tmp_path):
    result = blank_db.test_cli_runner().invoke(args=["data", "import", str(tmp_path / "nope.json")])
    assert result.exit_code != 0


def test_subset_of_keys_uses_existing_references(loaded, reference_data):
    """A file with only products may refer to cooperatives and categories already stored."""
    product = copy.deepcopy(reference_data["products"][0])
    product["slug"] = "san-pham-moi-chi-co-san-pham"
    product["name_vi"] = "Sản phẩm mới"
    report = import_data({"products": [product]}, db.session)
    assert report.created["products"] == 1
    assert count(Product) == 202


def test_unknown_certification_code_is_an_error(blank_db, reference_data):
    data = copy.deepcopy(reference_data)
    data["products"][0]["certifications"] = ["iso9999"]
    with pytest.raises(ImportFailed) as info:
        import_data(data, db.session)
    assert ("products[0].certifications[0]", "unknown certification 'iso9999'") in info.value.errors
