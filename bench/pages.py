"""Time the public pages on a catalogue of province size and compare with a floor.

    .venv/bin/python bench/pages.py [--products 20000] [--runs 30] [--postgresql URL]

The floor is the cheapest request the app serves (a static file through the same stack),
measured in the same run, so the table reads as "how many floors does this page cost".
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import TestConfig  # noqa: E402
from shop import create_app  # noqa: E402
from shop.catalog.models import Category, Product, ProductCertification, ProductStatus  # noqa: E402
from shop.cooperatives.models import Cooperative, CooperativeStatus, Locality, Sector  # noqa: E402
from shop.dataset.commands import DEMO_FILE  # noqa: E402
from shop.dataset.importer import import_data, read_file  # noqa: E402
from shop.db import utcnow  # noqa: E402
from shop.extensions import db  # noqa: E402
from shop.programmes.models import Booth, BoothProduct, Programme  # noqa: E402


def populate(n_products: int) -> dict:
    demo = read_file(str(DEMO_FILE))
    import_data(demo, db.session)
    db.session.commit()
    sectors = list(db.session.scalars(select(Sector)))
    localities = list(db.session.scalars(select(Locality)))
    categories = list(db.session.scalars(select(Category)))
    n_coops = max(1, n_products // 140)
    coop_rows = [
        {
            "slug": f"htx-bench-{i}",
            "name": f"HTX Đo tải {i}",
            "legal_form": "hop_tac_xa",
            "sector_id": sectors[i % len(sectors)].id,
            "locality_id": localities[i % len(localities)].id,
            "address_vi": "tỉnh Bắc Ninh",
            "description_vi": "Hợp tác xã dùng để đo tốc độ.",
            "status": CooperativeStatus.VERIFIED.value,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        for i in range(n_coops)
    ]
    db.session.execute(insert(Cooperative), coop_rows)
    coops = list(
        db.session.scalars(select(Cooperative).where(Cooperative.slug.like("htx-bench-%")))
    )
    rows = []
    for i in range(n_products):
        coop = coops[i % len(coops)]
        rows.append(
            {
                "slug": f"san-pham-do-tai-{i}",
                "cooperative_id": coop.id,
                "sector_id": coop.sector_id,
                "category_id": categories[i % len(categories)].id,
                "name_vi": f"Sản phẩm đo tải số {i}",
                "description_vi": "Mô tả ngắn.",
                "unit_code": "kg",
                "price_vnd": 10000 + (i % 500) * 1000,
                "min_order_qty": 1,
                "ocop_stars": (0, 0, 0, 3, 4)[i % 5],
                "season_months": 4095,
                "made_to_order": False,
                "status": ProductStatus.PUBLISHED.value,
                "published_at": utcnow(),
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Product), rows[start : start + 5000])
    first = db.session.scalar(select(Product).where(Product.slug == "san-pham-do-tai-0"))
    db.session.execute(
        insert(ProductCertification),
        [{"product_id": first.id, "certification_code": "vietgap", "verified": False}],
    )
    programme = db.session.scalar(select(Programme).order_by(Programme.start_date.desc()))
    booth = db.session.scalar(select(Booth).where(Booth.programme_id == programme.id))
    db.session.commit()
    assert db.session.scalar(select(BoothProduct).limit(1)) is not None
    return {
        "product": first.slug,
        "sector": sectors[0].slug,
        "category": categories[0].slug,
        "cooperative": coops[0].slug,
        "programme": programme.slug,
        "booth": booth.number,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgresql", help="URL of an EMPTY PostgreSQL database to use")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.postgresql or f"sqlite:///{tmp.name}/bench.sqlite3"
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        ids = populate(args.products)
        print(f"populated {args.products} products in {time.perf_counter() - started:.1f} s")
        engine = db.engine

    # Requests are timed outside the setup's application context: inside it, each would share
    # its session (identity map and open transaction) instead of having its own.
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    pages = {
        "floor: static css": "/static/css/site.css",
        "home": "/",
        "catalogue p1": "/san-pham",
        "catalogue p40 by price": "/san-pham?sort=price_asc&page=40",
        "sector": f"/linh-vuc/{ids['sector']}",
        "category": f"/danh-muc/{ids['category']}",
        "product": f"/san-pham/{ids['product']}",
        "directory": "/htx",
        "cooperative": f"/htx/{ids['cooperative']}",
        "programme": f"/chuong-trinh/{ids['programme']}",
        "booth": f"/chuong-trinh/{ids['programme']}/gian-hang/{ids['booth']}",
    }
    client = app.test_client()
    results = []
    for name, path in pages.items():
        client.get(path)  # warm up
        times = []
        statements.clear()
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        times.sort()
        results.append(
            (
                name,
                statistics.median(times),
                times[int(len(times) * 0.95) - 1],
                len(statements) // args.runs,
            )
        )
    floor = results[0][1]
    print(f"\n{'page':28} {'median ms':>10} {'p95 ms':>8} {'× floor':>8} {'SQL':>5}")
    for name, median, p95, sql in results:
        print(f"{name:28} {median:10.2f} {p95:8.2f} {median / floor:8.1f} {sql:5d}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
