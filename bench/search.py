"""Time product search on SQLite (FTS5) and PostgreSQL (tsvector + GIN) with many products.

    .venv/bin/python bench/search.py [--products 100000] [--runs 20] [--no-postgresql]
                                     [--postgresql-server postgresql://postgres@127.0.0.1:5432/postgres]

Each backend gets a temporary database (a SQLite file; a PostgreSQL database created and then
dropped on the server), migrated, with the demo data plus N synthetic products made of
Vietnamese words. The floor is a primary-key lookup of one product, measured in the same run
and through the same stack, so each row reads as "how many floors this costs". Each row gives
the median and the 95th percentile of --runs timings. Pages are timed through the Flask test
client (query, rendering and all); "sql page 1" is the statement the results page runs for its
first 24 cards, "sql every match ranked" what the catalogue's relevance sort and the API run
(every match in ranking order); `rebuild` is `flask search reindex`.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import TestConfig  # noqa: E402
from shop import create_app  # noqa: E402
from shop.catalog.models import Category, Product  # noqa: E402
from shop.cooperatives.models import Cooperative  # noqa: E402
from shop.dataset.commands import DEMO_FILE  # noqa: E402
from shop.dataset.importer import import_data, read_file  # noqa: E402
from shop.db import utcnow  # noqa: E402
from shop.extensions import db  # noqa: E402
from shop.search.index import rebuild  # noqa: E402
from shop.search.queries import page_products, search_products  # noqa: E402
from shop.search.spelling import alternatives  # noqa: E402
from shop.search.terms import parse_query  # noqa: E402

WORDS = (  # noqa: SIM905 (a sentence is easier to read than a list of 100 strings)
    "Bánh phu thê gạo nếp cái hoa vàng mật ong rừng tranh Đông Hồ gốm sứ Bát Tràng Phù Lãng "
    "đồ gỗ Đồng Kỵ mây tre đan trà sen tỏi tía nấm sò rau cải thảo đậu xanh lạc nhân đỏ rượu "
    "men lá chè búp tương Bần nem Bùi Xá bún Ném Tiền quạt giấy dó nón lá thêu tay đúc đồng "
    "sơn mài khảm trai chiếu cói hộp quà Tết chum vại cá trắm tép riu dưa lưới măng tây bưởi "
    "diễn nhãn lồng vải thiều hạt sen khô sấy giòn thơm ngon sạch hữu cơ VietGAP OCOP"
).split()

QUERIES = {
    "common word: banh": "banh",
    "two words: gao nep": "gao nep",
    "prefix: banh phu th": "banh phu th",
    "diacritics: Bánh phu thê": "Bánh phu thê",
    "rare: tuong ban": "tuong ban",
    "nothing: zzqx": "zzqx",
}


def populate(n_products: int) -> None:
    import_data(read_file(str(DEMO_FILE)), db.session)
    db.session.commit()
    coops = list(db.session.scalars(select(Cooperative)))
    categories = list(db.session.scalars(select(Category)))
    rnd = random.Random(2026)
    # A vocabulary like a real catalogue's: a few hundred common words (WORDS) and thousands of
    # rarer made-up syllable pairs, so a common word matches a few percent of the products.
    syllables = [a + b for a in "bcdghklmnpqrstvx" for b in ("a", "o", "u", "e", "i", "ang", "inh")]
    rare = [f"{rnd.choice(syllables)}{rnd.choice(syllables)}" for _ in range(20000)]
    batch = []
    for i in range(n_products):
        coop = coops[i % len(coops)]
        words = rnd.sample(WORDS, 2) + rnd.sample(rare, rnd.randint(1, 3))
        rnd.shuffle(words)
        name = " ".join(words).capitalize()
        batch.append(
            {
                "slug": f"bench-{i}",
                "cooperative_id": coop.id,
                "sector_id": coop.sector_id,
                "category_id": categories[i % len(categories)].id,
                "name_vi": f"{name} {i % 97}",
                "description_vi": " ".join(rnd.choices(WORDS, k=3) + rnd.choices(rare, k=20)),
                "unit_code": "kg",
                "price_vnd": 10000 + (i % 500) * 1000,
                "status": "published" if i % 10 else "draft",
                "published_at": utcnow(),
                "min_order_qty": 1,
                "ocop_stars": 0,
                "season_months": 4095,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
        if len(batch) == 5000:
            db.session.execute(insert(Product), batch)
            batch = []
    if batch:
        db.session.execute(insert(Product), batch)
    db.session.commit()


def timed(fn, runs: int) -> tuple[float, float]:
    """(median, p95) of `runs` calls of fn, in milliseconds, after one warm-up call."""
    fn()  # warm up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[-1]
    return statistics.median(samples) * 1000, p95 * 1000


def bench(url: str, n_products: int, runs: int) -> list[tuple[str, tuple[float, float]]]:
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    rows = []
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        populate(n_products)
        print(f"  populated {n_products} products in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        indexed = rebuild(db.session.connection())
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))  # as autovacuum would have by now
            db.session.commit()
        once = (time.perf_counter() - started) * 1000
        rows.append(("rebuild (search reindex), once", (once, once)))
        print(f"  indexed {indexed} products")

        product_id = db.session.scalar(select(Product.id).where(Product.slug == "bench-4242"))

        def floor():
            db.session.get(Product, product_id)
            db.session.expunge_all()

        rows.append(("floor: product by primary key", timed(floor, runs * 5)))
        for label, q in QUERIES.items():
            query = parse_query(q)

            def first_page(query=query):
                stmt, params = page_products(query, 24)
                db.session.scalars(stmt, params).unique().all()
                db.session.expunge_all()

            rows.append((f"sql page 1: {label}", timed(first_page, runs)))
        query = parse_query("banh")

        def every_match():
            db.session.scalars(search_products(query).limit(24)).unique().all()
            db.session.expunge_all()

        # What the catalogue's relevance sort and the API run: every match in ranking order.
        rows.append(("sql every match ranked: banh", timed(every_match, runs)))
        client = app.test_client()
        for label, path in (
            ("page /tim-kiem?q=banh", "/tim-kiem?q=banh"),
            ("page /tim-kiem?q=banh&page=40", "/tim-kiem?q=banh&page=40"),
            ("page /tim-kiem?q=gao+nep+huu+co", "/tim-kiem?q=gao+nep+huu+co"),
            ("json /tim-kiem/goi-y?q=ba", "/tim-kiem/goi-y?q=ba"),
            ("json /tim-kiem/goi-y?q=tranh+dong", "/tim-kiem/goi-y?q=tranh+dong"),
            ("no results /tim-kiem?q=banh+phu+thw", "/tim-kiem?q=banh+phu+thw"),
        ):
            rows.append((label, timed(lambda path=path: client.get(path).close(), runs)))
        query = parse_query("mat onf")
        rows.append(
            ("spelling alternatives (cached vocabulary)", timed(lambda: alternatives(query), runs))
        )
        db.session.remove()
        db.engine.dispose()
    return rows


def print_table(name: str, rows: list[tuple[str, tuple[float, float]]]) -> None:
    floor = next(ms for label, (ms, _p95) in rows if label.startswith("floor"))
    print(f"\n{name}")
    print(f"  {'what':<48} {'median ms':>10} {'p95 ms':>8} {'× floor':>9}")
    for label, (ms, p95) in rows:
        print(f"  {label:<48} {ms:>10.2f} {p95:>8.2f} {ms / floor:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument(
        "--postgresql-server", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite (FTS5), {args.products} products")
        print_table("SQLite", bench(f"sqlite:///{tmp}/bench.sqlite3", args.products, args.runs))

    if args.no_postgresql:
        return
    server = args.postgresql_server.replace("postgresql://", "postgresql+psycopg://")
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 (no server: report and stop)
        print(f"\nPostgreSQL skipped: {exc.__class__.__name__}: {exc}")
        return
    try:
        print(f"\nPostgreSQL (tsvector + GIN), {args.products} products")
        url = server.rsplit("/", 1)[0] + "/" + name
        print_table("PostgreSQL", bench(url, args.products, args.runs))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
