"""The search index follows every change at once, through the real services, on both backends."""

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from shop.catalog import services as catalog
from shop.catalog.models import Category, Product, ProductStatus
from shop.cooperatives import services as cooperatives
from shop.cooperatives.models import Cooperative, Locality
from shop.dataset.importer import import_data
from shop.extensions import db
from shop.search import index
from shop.search.models import TABLE
from shop.search.queries import search_products
from shop.search.terms import document, parse_query
from tests.conftest import ROOT
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy


def found(q: str) -> list[str]:
    """Names of the public products the search finds for `q`, best first."""
    return [p.name_vi for p in db.session.scalars(search_products(parse_query(q))).unique()]


def entries() -> int:
    """Entries that can be found (on SQLite a product that left keeps an empty row)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return db.session.scalar(text(f"SELECT count(*) FROM {TABLE} WHERE body <> ''"))
    return db.session.scalar(text(f"SELECT count(*) FROM {TABLE}"))


def forget_everything() -> None:
    """Make the index stale, as if it had been lost."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text(f"UPDATE {TABLE} SET body = '', marks = ''"))
    else:
        db.session.execute(text(f"DELETE FROM {TABLE}"))


@pytest.fixture
def shop(blank_db):
    load_taxonomy()
    category = db.session.scalar(select(Category).order_by(Category.sort_order))
    coop = create_cooperative(name="HTX Gốm Thổ Hà")
    return {
        "app": blank_db,
        "coop": coop,
        "category": category,
        "owner": create_user(cooperative=coop),
        "staff": create_user("staff"),
        "values": {
            "name_vi": "Bình gốm men rạn Thổ Hà",
            "name_en": "Thổ Hà crackle-glaze vase",
            "description_vi": "Gốm nung củi, men rạn cổ.",
            "category_id": category.id,
            "unit_code": "piece",
            "price_vnd": 450000,
            "min_order_qty": Decimal(1),
            "ocop_stars": 0,
            "season_months": 4095,
            "certifications": [],
            "links": [],
        },
    }


def test_a_product_is_found_from_publication_to_archive(shop):
    app, owner, staff = shop["app"], shop["owner"], shop["staff"]
    with app.test_request_context():
        product = catalog.create_product(shop["coop"], owner, shop["values"])
        assert found("binh gom men ran") == []  # a draft is not public
        catalog.submit(product, owner)
        assert found("binh gom men ran") == []
        catalog.approve(product, staff)
        assert found("binh gom men ran") == ["Bình gốm men rạn Thổ Hà"]

        # An edit of a live product waits for review: the live name stays searchable.
        revision = catalog.update_product(product, owner, {"name_vi": "Bình gốm hoa lam Thổ Hà"})
        assert found("hoa lam") == []
        assert found("men ran") == ["Bình gốm men rạn Thổ Hà"]
        catalog.approve_revision(revision, staff)
        assert found("hoa lam") == ["Bình gốm hoa lam Thổ Hà"]
        assert found("men ran") == ["Bình gốm hoa lam Thổ Hà"]  # still in the description

        catalog.archive(product, owner)
        assert found("hoa lam") == []
        catalog.restore(product, owner)
        assert found("hoa lam") == []  # back to a draft


def test_suspending_a_cooperative_hides_its_products_and_lifting_brings_them_back(shop):
    app = shop["app"]
    create_product(shop["coop"], name_vi="Ấm chén gốm Thổ Hà")
    assert found("am chen") == ["Ấm chén gốm Thổ Hà"]
    with app.test_request_context():
        cooperatives.suspend(shop["staff"], shop["coop"], "Hồ sơ cần kiểm tra lại.")
        assert found("am chen") == []
        cooperatives.lift(shop["staff"], shop["coop"])
        assert found("am chen") == ["Ấm chén gốm Thổ Hà"]


def test_names_around_a_product_are_searchable_and_follow_renames(shop):
    product = create_product(shop["coop"], name_vi="Lọ hoa", category=shop["category"])
    locality = db.session.get(Locality, shop["coop"].locality_id)
    assert found("tho ha") == ["Lọ hoa"]  # the cooperative's name
    assert found(locality.short_name) == ["Lọ hoa"]  # the commune
    assert found(shop["category"].name_vi) == ["Lọ hoa"]

    shop["coop"].name = "HTX Gốm Phù Lãng"
    db.session.flush()
    assert found("tho ha") == []
    assert found("phu lang") == ["Lọ hoa"]

    shop["category"].name_vi = "Đồ gốm trang trí"
    db.session.flush()
    assert found("trang tri") == ["Lọ hoa"]

    db.session.delete(db.session.get(Product, product.id))
    db.session.flush()
    assert found("lo hoa") == []


def test_unpublishing_by_a_bulk_update_drops_the_entry(shop):
    product = create_product(shop["coop"], name_vi="Chum sành")
    before = entries()
    db.session.execute(
        update(Product)
        .where(Product.id == product.id)
        .values(status=ProductStatus.SUBMITTED)
        .execution_options(synchronize_session=False)
    )
    assert found("chum sanh") == []
    assert entries() == before - 1


def test_a_services_conditional_update_keeps_its_row_count(shop):
    """The index's follow-up statements must not hide a lost race (AlreadyDecided)."""
    app, owner, staff = shop["app"], shop["owner"], shop["staff"]
    with app.test_request_context():
        product = catalog.create_product(shop["coop"], owner, shop["values"])
        catalog.submit(product, owner)
        catalog.approve(product, staff)
        with pytest.raises(catalog.AlreadyDecided):
            catalog.approve(product, staff)
        assert found("men ran") == ["Bình gốm men rạn Thổ Hà"]


def test_the_demo_import_is_indexed(client, demo):
    public = sum(1 for p in demo["products"] if p["status"] == "approved")
    assert entries() == public
    assert "Bánh phu thê nhân đỗ dừa" in found("banh phu the")


def test_an_import_through_the_data_path_is_indexed_at_once(shop):
    data = {
        "products": [
            {
                "slug": "tuong-ban-nhap-khau",
                "cooperative": shop["coop"].slug,
                "category": shop["category"].slug,
                "name_vi": "Tương Bần hũ 500 ml",
                "name_en": "Bần soybean paste, 500 ml jar",
                "description_vi": "Tương nếp ủ chum.",
                "unit": "jar",
                "price_vnd": 45000,
                "status": "approved",
            }
        ]
    }
    import_data(data, db.session)
    assert found("tuong ban") == ["Tương Bần hũ 500 ml"]
    assert found("soybean paste") == ["Tương Bần hũ 500 ml"]


def test_reindex_rebuilds_the_index(shop):
    create_product(shop["coop"], name_vi="Đĩa gốm vẽ tay")
    create_product(shop["coop"], name_vi="Bản nháp", status=ProductStatus.DRAFT)
    forget_everything()
    assert found("dia gom") == []
    assert index.rebuild(db.session.connection()) == 1
    assert found("dia gom") == ["Đĩa gốm vẽ tay"]


def test_reindex_command_prints_how_many_it_indexed(shop):
    create_product(shop["coop"], name_vi="Đèn gốm")
    create_product(shop["coop"], name_vi="Đèn gốm nhỏ")
    runner = shop["app"].test_cli_runner()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "indexed 2 products"


@pytest.mark.migrations
def test_reindex_command_on_a_fresh_database(database_factory, demo):
    """`flask --app app search reindex` as run by an operator, after `data demo`."""
    env = {"DATABASE_URL": database_factory("search_cli")}

    def flask(*args):
        import os

        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )

    assert flask("db", "upgrade").returncode == 0
    assert flask("data", "demo").returncode == 0
    result = flask("search", "reindex")
    assert result.returncode == 0, result.stderr
    public = sum(1 for p in demo["products"] if p["status"] == "approved")
    assert result.stdout.strip() == f"indexed {public} products"


def test_a_hidden_cooperative_never_shows(shop):
    pending = create_cooperative(name="HTX Chờ duyệt", status="pending")
    create_product(pending, name_vi="Nón lá chờ duyệt")
    assert found("non la") == []
    assert db.session.scalar(select(Cooperative.status).where(Cooperative.id == pending.id))


def test_document_is_plain_folded_words():
    assert document("Bánh  phu thê", "ĐỒNG HỒ") == "banh phu the dong ho"
    assert json.dumps(document("<b>x</b>")) == '"b x b"'
