"""Time the catalogue and the directory at province scale, on SQLite and on PostgreSQL.

    .venv/bin/python bench/catalogue.py [--products 100000] [--cooperatives 700] [--runs 15]
                                        [--deep 500] [--pg-admin URL | --no-postgresql]

Loads synthetic but plausible data (Vietnamese names, prices from 5.000 ₫ to a few triệu with
some "Liên hệ", OCOP stars, certifications, seasons, ~700 cooperatives over the province's
communes) into a temporary SQLite file and a temporary PostgreSQL database (created on the
server at --pg-admin, default 127.0.0.1:5432, and dropped afterwards). Then it times the
catalogue through the Flask test client: page 1 and a deep page (after --deep pages, reached by
cursor) for each sort, with 1 and 3 facets chosen, the old ?page=N address (OFFSET) for
comparison, the catalogue with its facet counts' cache emptied before each request ("cold"), a
search, and the directory. The floor is measured in the same run: a static file served
through the same stack. It also prints the plans of the listing queries
(EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) and the indexes they use.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import TestConfig  # noqa: E402
from shop import create_app  # noqa: E402
from shop.catalog import queries  # noqa: E402
from shop.catalog.models import (  # noqa: E402
    Category,
    CertificationKind,
    Product,
    ProductCertification,
    ProductStatus,
)
from shop.cooperatives.models import Cooperative, Locality, Sector  # noqa: E402
from shop.dataset.commands import DEMO_FILE  # noqa: E402
from shop.dataset.importer import import_data, read_file  # noqa: E402
from shop.extensions import db  # noqa: E402

TODAY = date(2026, 11, 26)

#: Sector slug → share of cooperatives (the alliance's 2022 report: 552 of 694 in agriculture…).
SECTOR_SHARES = {
    "nong-nghiep": 552,
    "tieu-thu-cong-nghiep": 56,
    "thuong-mai": 27,
    "giao-thong-van-tai": 25,
    "xay-dung": 2,
    "ve-sinh-moi-truong": 6,
    "quy-tin-dung-nhan-dan": 26,
}
#: Categories a cooperative of each sector sells in.
SECTOR_CATEGORIES = {
    "nong-nghiep": [
        "rau-cu-qua-tuoi",
        "thit-trung-thuy-san",
        "gao-ngu-coc-hat",
        "mat-ong",
        "thuc-pham-che-bien",
        "banh-keo-dac-san",
        "gia-vi-nuoc-cham",
        "ruou",
        "tra-do-uong",
        "duoc-lieu",
        "sinh-vat-canh",
    ],
    "tieu-thu-cong-nghiep": [
        "gom-su",
        "do-go-my-nghe",
        "do-dong-kim-khi",
        "tranh-giay-thu-cong",
        "may-tre-dan",
        "det-may",
    ],
    "thuong-mai": ["qua-tang-combo", "thuc-pham-che-bien", "banh-keo-dac-san", "tra-do-uong"],
    "giao-thong-van-tai": ["dich-vu-vat-tu", "du-lich-trai-nghiem"],
    "xay-dung": ["dich-vu-vat-tu"],
    "ve-sinh-moi-truong": ["dich-vu-vat-tu"],
    "quy-tin-dung-nhan-dan": ["dich-vu-vat-tu"],
}
KINDS = ["Rau an toàn", "Nông sản", "Bánh truyền thống", "Gốm", "Đồ gỗ", "Mật ong", "Dịch vụ"]
VILLAGES = [
    "Đình Bảng",
    "Phù Lãng",
    "Đồng Kỵ",
    "Đông Hồ",
    "Việt Đoàn",
    "Thổ Hà",
    "Đại Bái",
    "Phù Khê",
    "Ném Tiền",
    "Hạp Lĩnh",
    "Liên Bão",
    "Tam Sơn",
]
GOODS = [
    "Bánh phu thê",
    "Gạo nếp cái hoa vàng",
    "Mật ong hoa nhãn",
    "Cải ngồng",
    "Bình gốm men lam",
    "Tranh Đông Hồ",
    "Tương nếp",
    "Chè búp",
    "Rượu làng Vân",
    "Bún lá",
    "Giỏ mây tre",
    "Lợn thịt sạch",
]
QUALIFIERS = ["đặc biệt", "loại 1", "truyền thống", "hữu cơ", "hộp quà", "gia truyền", "mùa mới"]
SEASONS = [4095, 4095, 4095, 0b111000000111, 0b000000111000, 0b000111111000, 0b110000000011]


def populate(n_products: int, n_coops: int, seed: int = 2026) -> None:
    rng = random.Random(seed)
    demo = read_file(str(DEMO_FILE))
    import_data(
        {k: demo[k] for k in ("meta", "sectors", "product_categories", "localities")}, db.session
    )
    db.session.commit()
    sectors = {s.slug: s for s in db.session.scalars(select(Sector))}
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    localities = list(db.session.scalars(select(Locality)))
    cert_codes = list(db.session.scalars(select(CertificationKind.code)))
    weights = [SECTOR_SHARES.get(slug, 1) for slug in sectors]
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    coop_rows, coop_meta = [], []
    for i in range(n_coops):
        slug = rng.choices(list(sectors), weights)[0]
        village = rng.choice(VILLAGES)
        legal = (
            "quy_tin_dung_nhan_dan"
            if slug == "quy-tin-dung-nhan-dan"
            else rng.choices(["hop_tac_xa", "to_hop_tac", "lien_hiep_hop_tac_xa"], [90, 9, 1])[0]
        )
        coop_rows.append(
            {
                "slug": f"htx-{i}-{rng.randrange(10**6)}",
                "name": f"HTX {rng.choice(KINDS)} {village} {i}",
                "legal_form": legal,
                "sector_id": sectors[slug].id,
                "locality_id": rng.choice(localities).id,
                "address_vi": f"Thôn {village}, tỉnh Bắc Ninh",
                "description_vi": "Hợp tác xã dữ liệu đo tải.",
                "status": "verified" if rng.random() < 0.95 else "pending",
                "created_at": now,
                "updated_at": now,
            }
        )
        coop_meta.append(SECTOR_CATEGORIES.get(slug) or list(categories))
    db.session.execute(insert(Cooperative), coop_rows)
    ids = dict(db.session.execute(select(Cooperative.slug, Cooperative.id)).all())
    coops = [
        (ids[row["slug"]], row["sector_id"], cats)
        for row, cats in zip(coop_rows, coop_meta, strict=True)
    ]

    rows, certs = [], []
    for i in range(n_products):
        coop_id, sector_id, cats = coops[i % len(coops)]
        stars = rng.choices([0, 3, 4, 5], [85, 10, 4, 1])[0]
        price = None if rng.random() < 0.03 else int(round(5000 * 10 ** rng.uniform(0, 3), -3))
        status = ProductStatus.PUBLISHED if rng.random() < 0.9 else ProductStatus.DRAFT
        rows.append(
            {
                "slug": f"sp-{i}",
                "cooperative_id": coop_id,
                "sector_id": sector_id,
                "category_id": categories[rng.choice(cats)].id,
                "name_vi": f"{rng.choice(GOODS)} {rng.choice(QUALIFIERS)} {rng.choice(VILLAGES)}",
                "description_vi": "Sản phẩm dữ liệu đo tải.",
                "unit_code": "kg",
                "price_vnd": price,
                "min_order_qty": 1,
                "ocop_stars": stars,
                "ocop_year": 2024 if stars else None,
                "ocop_expires_on": (TODAY + timedelta(days=rng.randint(-200, 900)))
                if stars
                else None,
                "season_months": rng.choice(SEASONS),
                "made_to_order": False,
                "status": status.value,
                "published_at": now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
                if status == ProductStatus.PUBLISHED
                else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Product), rows[start : start + 5000])
    product_ids = list(db.session.scalars(select(Product.id)))
    for product_id in product_ids:
        if rng.random() < 0.25:
            for code in rng.sample(cert_codes, rng.choice([1, 1, 2])):
                certs.append(
                    {"product_id": product_id, "certification_code": code, "verified": False}
                )
    for start in range(0, len(certs), 5000):
        db.session.execute(insert(ProductCertification), certs[start : start + 5000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def deep_cursor(sort: str, pages: int, per_page: int, filters=None) -> str:
    """The cursor of page `pages + 1`, as the "Trang sau" link of page `pages` carries it."""
    stmt = queries.filtered_products(filters or queries.Filters(), TODAY)
    stmt = queries.sorted_products(stmt, sort, TODAY).offset(pages * per_page - 1).limit(1)
    product = db.session.scalar(stmt)
    if product is None:
        raise SystemExit(f"fewer than {pages} pages of {sort}: load more products")
    return queries.Cursor(sort, pages + 1, queries.key_of(product, sort, TODAY)).encode()


def explain(paths: dict) -> None:
    """Print the plan of each listing query (the statement with LIMIT) and the indexes it uses."""
    from sqlalchemy.engine import Engine

    captured = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if " LIMIT " in statement and "product" in statement:
            captured.append((statement, parameters))

    from flask import current_app

    app = current_app._get_current_object()
    for name, path in paths.items():
        captured.clear()
        event.listen(Engine, "before_cursor_execute", grab)
        try:
            app.test_client().get(path)
        finally:
            event.remove(Engine, "before_cursor_execute", grab)
        statement, parameters = captured[-1]
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            cur = raw.cursor()
            if db.engine.dialect.name == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, parameters)
                plan = [row[0] for row in cur.fetchall()]
            else:
                cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [row[-1] for row in cur.fetchall()]
            cur.close()
        used = sorted(
            {w for line in plan for w in line.replace("(", " ").split() if w.startswith("ix_")}
        )
        print(f"  {name:34} indexes: {', '.join(used) or '(none)'}")
        for line in plan[:8]:
            print(f"      {line}")


def run(url: str, args) -> list:
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    results = []
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        populate(args.products, args.cooperatives)
        print(
            f"  loaded {args.products} products, {args.cooperatives} cooperatives "
            f"in {time.perf_counter() - started:.1f} s"
        )
        per_page = app.config["PRODUCTS_PER_PAGE"]
        deep = args.deep
        agri = db.session.scalar(select(Sector).where(Sector.slug == "nong-nghiep"))
        three = queries.Filters(sector=agri, price="50k-100k", in_season=True)
        f3 = "sector=nong-nghiep&price=50k-100k&season=1"
        pages = {"floor: static file": "/static/css/site.css"}
        for sort in queries.SORTS:
            pages[f"{sort} p1"] = f"/san-pham?sort={sort}"
            pages[f"{sort} p{deep + 1} (cursor)"] = (
                f"/san-pham?sort={sort}&cursor={deep_cursor(sort, deep, per_page)}"
            )
        pages[f"newest p{deep + 1} (old ?page=, OFFSET)"] = f"/san-pham?page={deep + 1}"
        pages["1 facet p1"] = "/san-pham?sector=nong-nghiep"
        pages["3 facets p1"] = f"/san-pham?{f3}"
        three_pages = min(49, (queries.facet_counts(three, TODAY).total - 1) // per_page)
        pages[f"3 facets p{three_pages + 1} (cursor)"] = (
            f"/san-pham?{f3}&cursor={deep_cursor('newest', three_pages, per_page, three)}"
        )
        pages["3 facets + price_asc p1"] = f"/san-pham?{f3}&sort=price_asc"
        pages["certification facet p1"] = "/san-pham?cert=vietgap&cert=pgs_organic"
        # The facet counts' combination table is cached per catalogue version: after any
        # change to a product or a cooperative the next page builds it again (a "cold" page).
        pages["cold: newest p1, table rebuilt"] = "/san-pham"
        pages["cold: 3 facets p1, table rebuilt"] = f"/san-pham?{f3}"
        pages["search q=banh (counts uncached)"] = "/san-pham?q=banh"
        pages["sector page p1"] = "/linh-vuc/nong-nghiep"
        pages["directory p1"] = "/htx"
        pages["directory 1 filter"] = "/htx?sector=nong-nghiep"
        last = -(-args.cooperatives * 95 // 100 // per_page)  # about 95 % are verified
        pages[f"directory p{last - 1}"] = f"/htx?page={last - 1}"

        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
        client = app.test_client()
        for name, path in pages.items():
            response = client.get(path)  # warm up
            assert response.status_code == 200, (path, response.status_code)
            times = []
            statements.clear()
            for _ in range(args.runs):
                if name.startswith("cold"):
                    queries.FacetCache.of(app).clear()
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            results.append((name, statistics.median(times), p95, len(statements) // args.runs))
        print(f"  plans of the listing queries ({db.engine.dialect.name}):")
        explain(
            {
                "newest deep": pages[f"newest p{deep + 1} (cursor)"],
                "price_asc deep": pages[f"price_asc p{deep + 1} (cursor)"],
                "price_desc deep": pages[f"price_desc p{deep + 1} (cursor)"],
                "certification filter": pages["certification facet p1"],
            }
        )
        db.session.remove()
        db.engine.dispose()
    return results


def table(title: str, results: list) -> None:
    floor = results[0][1]
    print(f"\n{title}")
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'× floor':>8} {'SQL':>4}")
    for name, median, p95, sql in results:
        print(f"{name:40} {median:10.1f} {p95:8.1f} {median / floor:8.1f} {sql:4d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--cooperatives", type=int, default=700)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--deep", type=int, default=500, help="pages before the deep page")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()

    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        tables.append(("SQLite", run(f"sqlite:///{tmp}/catalogue.sqlite3", args)))
    if not args.no_postgresql:
        import psycopg

        name = f"chohtx_bench_catalogue_{int(time.time())}"
        try:
            admin = psycopg.connect(args.pg_admin, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as error:
            print(f"PostgreSQL skipped: {error}")
        else:
            with admin:
                admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    print("PostgreSQL")
                    base = args.pg_admin.rsplit("/", 1)[0].replace(
                        "postgresql://", "postgresql+psycopg://"
                    )
                    tables.append(("PostgreSQL", run(f"{base}/{name}", args)))
                finally:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for title, results in tables:
        table(title, results)


if __name__ == "__main__":
    main()
