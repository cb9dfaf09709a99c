"""The bulk-import benchmark of issue 10: 5,000 product rows and 500 photos, sheet to products.

    make bench-import
    .venv/bin/python bench/imports.py [--rows 5000] [--photos 500] [--postgresql | --no-postgresql]
                                      [--no-sqlite] [--pg-admin URL] [--workdir DIR]
                                      [--floor-threads N] [--webp-method M] [--profile]
                                      [--markdown]

Generates, in --workdir (default: a folder in the system's temporary directory, kept so the
photos are made only once):

- an XLSX of --rows products as a cooperative types them: Vietnamese names with tones and đ,
  categories and units of the demo taxonomy (some written without tones, lower case), prices
  in the spellings sellers use ("120.000", "85k", "1,2 triệu", "120.000đ", a number cell,
  empty for "Liên hệ"), seasons, descriptions; every (rows / photos)-th row names one photo;
- a ZIP of --photos distinct JPEG photos of the size a phone shares (1600×1200, quality 85,
  textured and noisy so they weigh what photos weigh, ~280 kB).

Then, each in a fresh process so its peak memory is its own, on SQLite (a temporary file) and
on PostgreSQL (a temporary database on --pg-admin, dropped afterwards; by default when a server
answers on 127.0.0.1:5432, always with --postgresql):

- (a) upload → preview: shop.bulk.products.create_batch + row_errors, committed, with the ZIP
  stored where the upload view stores it;
- (b) confirm → done: shop.bulk.products.confirm (the job runs inline, as IMPORT_IN_BACKGROUND
  False makes it; shop.bulk.jobs.run if it did not), until the batch is done. Its split into
  photos and products is read from the SQL: "photos" ends at the first INSERT INTO product.

The database is migrated and filled with the demo data by another process first, so setting up
is in neither the time nor the peak. Peaks are VmHWM (the process's resident high-water mark,
reset between the phases through /proc/self/clear_refs) and include the ~100 MB of Python with
the app imported (the last line of each table says how much). In (a) the process holds the
uploaded files in memory, as the upload view does; in (b) it no longer does.

The **floor**, in the same run and on the same files: the same work done the plainest way.
openpyxl reads the sheet in read-only mode; Pillow decodes each photo and writes the WebP sizes
of shop.media.images.DERIVATIVE_WIDTHS, with the import's encoder options (m = WebP method),
to files, in as many threads as the import's job uses (os.cpu_count(); --floor-threads 1 for
one loop); one executemany INSERT of the rows' minimal columns into a scratch table of each
database through the bare driver. --webp-method M is an experiment: both encode at method M.

"CPU s" is the process's CPU time, all its threads: on a shared machine that is busy with
other work the wall time grows, the CPU time hardly; CPU s ÷ CPUs is the least wall time the
same work could take here when idle. The heading gives the load average around the run.

Goals (issue 10): the whole import (a + b) ≤ 60 s and ≤ 300 MB peak on this machine. The exit
status is 1 when one is missed. --profile writes a cProfile of each import process (the job's
own thread; the photo workers are threads it waits for) and prints its top functions.
"""

import argparse
import gc
import io
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_SECONDS, GOAL_MB = 60, 300
PHOTO_SIZE = (1600, 1200)
PHOTO_QUALITY = 85
#: Bump when the photos' recipe changes: the cache of an older recipe is not reused.
PHOTO_RECIPE = "v1"
SHEET_NAME = "san-pham-htx.xlsx"

GOODS = [
    "Bánh phu thê",
    "Bánh khúc",
    "Bánh tẻ",
    "Gạo nếp cái hoa vàng",
    "Mật ong hoa nhãn",
    "Cải ngồng",
    "Bình gốm men lam",
    "Tranh Đông Hồ",
    "Tương nếp",
    "Chè búp",
    "Rượu làng Vân",
    "Bún lá",
    "Giỏ mây tre đan",
    "Đậu phụ",
    "Tượng đồng Đại Bái",
    "Sập gỗ Đồng Kỵ",
    "Dưa lưới",
    "Nem Bùi Xá",
    "Tỏi tía",
    "Ngải cứu khô",
]
QUALIFIERS = ["đặc biệt", "loại 1", "truyền thống", "hữu cơ", "hộp quà", "gia truyền", "mùa mới"]
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
    "Đông Xuyên",
]
PACKS = ["túi 500 g", "túi 1 kg", "hộp 10 chiếc", "hũ 500 ml", "chai 650 ml", "", "", ""]
SEASONS = ["cả năm", "1-3, 10", "10-12", "5-8", "", "", "tháng 1"]
#: What the sheet's columns hold, in order, and the headers the template gives them (issue 10).
COLUMNS = [
    ("name_vi", "Tên sản phẩm*"),
    ("name_en", "Tên tiếng Anh"),
    ("category", "Danh mục*"),
    ("unit", "Đơn vị*"),
    ("price", "Giá (đồng)"),
    ("min_order", "Đặt tối thiểu"),
    ("pack_size", "Quy cách"),
    ("description", "Mô tả"),
    ("season", "Mùa vụ (tháng)"),
    ("photos", "Ảnh (tên tệp, cách nhau bởi dấu ;)"),
]


def fold(text: str) -> str:
    """Tones and đ off, lower case: a category typed without a Vietnamese keyboard."""
    from shop.text.folding import fold as house_fold

    return house_fold(text)


def price_text(rng: random.Random):
    """A price as sellers write it (always one parse_vnd reads), or a number cell, or empty."""
    thousands = rng.choice([15, 25, 30, 45, 85, 120, 150, 250, 350, 480, 650, 1200, 2500])
    spelling = rng.randrange(7)
    if spelling == 0:
        return f"{thousands * 1000:,}".replace(",", ".")  # 120.000
    if spelling == 1:
        return f"{thousands}k"  # 85k
    if spelling == 2:
        return f"{thousands * 1000:,}đ".replace(",", ".")  # 120.000đ
    if spelling == 3 and thousands >= 1000:
        return f"{thousands / 1000:g} triệu".replace(".", ",")  # 1,2 triệu
    if spelling == 4:
        return thousands * 1000  # typed as a number: a numeric cell
    if spelling == 5 and rng.random() < 0.3:
        return ""  # Liên hệ
    return f"{thousands * 1000:,}".replace(",", ".")


# --------------------------------------------------------------------------- the files


def taxonomy() -> tuple[list[str], list[str]]:
    """Category and unit names (Vietnamese) of the demo taxonomy."""
    from shop.dataset.commands import DEMO_FILE

    demo = json.loads(Path(DEMO_FILE).read_text(encoding="utf-8"))
    categories = [c["name_vi"] for c in demo["product_categories"]]
    units = [u["name_vi"] for u in demo["meta"]["units"]]
    # Units whose names differ only by a tone ("bó", "bộ") are left out: the import matches
    # names folded, where they are the same word and so refused as ambiguous.
    folded = [fold(unit) for unit in units]
    units = [unit for unit, key in zip(units, folded, strict=True) if folded.count(key) == 1]
    return categories, units


def photo_name(index: int) -> str:
    return f"IMG_2026{index:04d}.jpg"


def template_columns() -> list[tuple[str, str]]:
    """(key, header) of the template's columns: the import's own, else the issue's."""
    try:
        from shop.bulk.products import COLUMNS as IMPORT_COLUMNS
    except ImportError:
        return COLUMNS
    return [(column.key, column.header) for column in IMPORT_COLUMNS]


def make_sheet(rows: int, photos: int) -> bytes:
    """The XLSX a cooperative fills: `rows` products, `photos` of them with one photo each."""
    from openpyxl import Workbook

    rng = random.Random(2026)
    categories, units = taxonomy()
    columns = template_columns()
    every = max(1, rows // photos) if photos else 0
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sản phẩm")
    sheet.append([header for _key, header in columns])
    for i in range(rows):
        good, village = rng.choice(GOODS), rng.choice(VILLAGES)
        name = f"{good} {rng.choice(QUALIFIERS)} {village} số {i + 1}"
        category = rng.choice(categories)
        if rng.random() < 0.2:
            category = fold(category)  # "banh, keo dac san"
        photo = ""
        if photos and i % every == 0 and i // every < photos:
            photo = photo_name(i // every + 1)
        values = {
            "name_vi": name,
            "name_en": "" if rng.random() < 0.7 else f"{good} from {fold(village).title()}",
            "category": category,
            "unit": rng.choice(units),
            "price": price_text(rng),
            "min_order": rng.choice([1, 1, 1, 2, 5, 10, "0,5"]),
            "pack_size": rng.choice(PACKS),
            "description": f"{name}: làm tại làng {village}, đóng gói tại hợp tác xã. "
            "Bảo quản nơi khô ráo, thoáng mát.",
            "season": rng.choice(SEASONS),
            "photos": photo,
        }
        sheet.append([values.get(key, "") for key, _header in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_photo(index: int, base, noise) -> bytes:
    """One distinct, textured 1600×1200 JPEG: gradients, shapes of its own, noise."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = PHOTO_SIZE
    rng = random.Random(index)
    image = base.copy()
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y, size = rng.randrange(width), rng.randrange(height), rng.randrange(40, 500)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + size, y + size * rng.uniform(0.5, 1.5)), fill=colour)
    draw.text((40, 40), f"Ảnh {index}", fill=(255, 255, 255))
    image = image.filter(ImageFilter.BoxBlur(2))
    x, y = rng.randrange(width), rng.randrange(height)
    first = noise.crop((x, y, x + width, y + height))
    second = noise.crop((y, x // 2, y + width, x // 2 + height))
    bands = [
        Image.blend(band, grain, 0.25)
        for band, grain in zip(image.split(), (first, second, first), strict=True)
    ]
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, "JPEG", quality=PHOTO_QUALITY)
    return out.getvalue()


def photo_files(workdir: Path, count: int) -> list[Path]:
    """The photos, made once into workdir (kept between runs); made again if missing."""
    from PIL import Image

    folder = workdir / f"photos-{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}-q{PHOTO_QUALITY}-{PHOTO_RECIPE}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / photo_name(i) for i in range(1, count + 1)]
    missing = [(i, path) for i, path in enumerate(paths, 1) if not path.exists()]
    if missing:
        started = time.perf_counter()
        width, height = PHOTO_SIZE
        red = Image.linear_gradient("L").resize((width, height))
        green = Image.radial_gradient("L").resize((width, height))
        blue = red.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        base = Image.merge("RGB", (red, green, blue))
        noise = Image.effect_noise((width * 2, height * 2), 24)
        for i, path in missing:
            part = path.with_suffix(".part")
            part.write_bytes(make_photo(i, base, noise))
            part.rename(path)
        print(f"  made {len(missing)} photos in {time.perf_counter() - started:.0f} s ({folder})")
    return paths


def make_zip(workdir: Path, paths: list[Path]) -> Path:
    """The ZIP a phone or Windows makes ("Send to › Compressed folder": deflated)."""
    target = workdir / f"photos-{len(paths)}-{PHOTO_RECIPE}.zip"
    if not target.exists():
        part = target.with_suffix(".part")
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in paths:
                archive.write(path, f"anh-san-pham/{path.name}")
        part.rename(target)
    return target


# --------------------------------------------------------------------------- memory


def peak_mb() -> float:
    """This process's resident high-water mark (VmHWM) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def current_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_seconds() -> float:
    """CPU time this process has used, all its threads, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak() -> bool:
    """Start a new high-water mark at the current size (Linux ≥ 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- children


def bench_config(url: str, media_root: str, rows: int):
    from config import TestConfig

    return type(
        "BenchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "MEDIA_ROOT": media_root,
            "IMPORT_IN_BACKGROUND": False,
            "IMPORT_MAX_ROWS": max(rows, TestConfig.IMPORT_MAX_ROWS),
            "SLOW_QUERY_MS": 10**9,
        },
    )


def child_setup(url: str, media_root: str, rows: int) -> dict:
    """Migrate, load the demo data, add the member who imports; returns their ids."""
    from argon2 import PasswordHasher
    from flask_migrate import upgrade
    from sqlalchemy import select

    from shop import create_app
    from shop.accounts.models import Role, User
    from shop.cooperatives.models import Cooperative, CooperativeStatus, Membership, MembershipRole
    from shop.dataset.commands import DEMO_FILE
    from shop.dataset.importer import import_data, read_file
    from shop.extensions import db

    app = create_app(bench_config(url, media_root, rows))
    with app.app_context():
        upgrade()
        import_data(read_file(str(DEMO_FILE)), db.session)
        db.session.commit()
        cooperative = db.session.scalar(
            select(Cooperative)
            .where(Cooperative.status == CooperativeStatus.VERIFIED)
            .order_by(Cooperative.id)
            .limit(1)
        )
        user = User(
            email="nhap-hang-loat@htx.example",
            name="Người nhập hàng loạt",
            role=Role.MEMBER,
            password_hash=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
                "không-dùng-để-đăng-nhập"
            ),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Membership(user_id=user.id, cooperative_id=cooperative.id, role=MembershipRole.OWNER)
        )
        db.session.commit()
        answer = {"cooperative_id": cooperative.id, "user_id": user.id}
        db.engine.dispose()
    return answer


class SqlClock:
    """Counts statements and their time, and notes when the first product row is inserted."""

    def __init__(self):
        self.statements = 0
        self.seconds = 0.0
        self.first_product_insert = None
        self._started = {}

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(cursor)] = time.perf_counter()
        if self.first_product_insert is None and statement.lstrip().upper().startswith(
            "INSERT INTO PRODUCT "
        ):
            self.first_product_insert = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._started.pop(id(cursor), None)
        self.statements += 1
        if started is not None:
            self.seconds += time.perf_counter() - started


def child_import(args) -> dict:
    """One database's import: (a) upload → preview, (b) confirm → done; times and peaks."""
    import cProfile

    from flask import g
    from sqlalchemy import event, func, select

    from shop import create_app
    from shop.accounts.models import User
    from shop.bulk import jobs, products
    from shop.bulk.models import BatchStatus, ImportBatch
    from shop.catalog.models import Product, ProductImage
    from shop.cooperatives.models import Cooperative
    from shop.extensions import db
    from shop.media.models import StoredImage

    app = create_app(bench_config(args.url, args.media_root, args.rows))
    profile = cProfile.Profile() if args.profile else None
    result = {}
    with app.app_context(), app.test_request_context():
        engine = db.engine
        cooperative = db.session.get(Cooperative, args.cooperative_id)
        actor = db.session.get(User, args.user_id)
        g.cooperative = cooperative  # as a member page has it, should a service look
        products_before = db.session.scalar(select(func.count(Product.id)))
        result["base_mb"] = current_mb()
        # As the upload view has them: the sheet read whole, the ZIP as the server spooled it
        # to disk (checked and copied to storage from the file).
        sheet = Path(args.sheet).read_bytes()
        archive = open(args.zip, "rb") if args.zip else None  # noqa: SIM115 (closed after use)
        per_phase = reset_peak()

        # (a) upload → preview
        clock = SqlClock()
        event.listen(engine, "before_cursor_execute", clock.before)
        event.listen(engine, "after_cursor_execute", clock.after)
        if profile:
            profile.enable()
        started, cpu = time.perf_counter(), cpu_seconds()
        batch = products.create_batch(cooperative, actor, SHEET_NAME, sheet, archive)
        if archive is not None:
            archive.close()
        errors = products.row_errors(batch)
        db.session.commit()
        result["preview_s"] = time.perf_counter() - started
        result["preview_cpu"] = cpu_seconds() - cpu
        if profile:
            profile.disable()
        result["preview_mb"] = peak_mb()
        result["preview_sql"] = clock.statements
        result["bad_rows"] = len(errors)
        result["errors"] = [f"{line}: {'; '.join(map(str, m))}" for line, m in errors.items()][:5]
        batch_id = batch.id
        if errors:
            return result
        # The upload's request is over: its files are no longer in memory when the job runs.
        del sheet, archive
        gc.collect()
        if per_phase:
            reset_peak()

        # (b) confirm → done
        event.remove(engine, "before_cursor_execute", clock.before)
        event.remove(engine, "after_cursor_execute", clock.after)
        clock = SqlClock()
        event.listen(engine, "before_cursor_execute", clock.before)
        event.listen(engine, "after_cursor_execute", clock.after)
        if profile:
            profile.enable()
        started, cpu = time.perf_counter(), cpu_seconds()
        products.confirm(batch, actor, "draft")
        db.session.commit()
        db.session.expire_all()
        batch = db.session.get(ImportBatch, batch_id)
        if batch.status == BatchStatus.RUNNING:  # confirm only started it: run it here
            jobs.run(batch_id)
            db.session.expire_all()
            batch = db.session.get(ImportBatch, batch_id)
        finished = time.perf_counter()
        result["confirm_cpu"] = cpu_seconds() - cpu
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        result["confirm_s"] = finished - started
        if clock.first_product_insert is not None:
            result["photos_s"] = clock.first_product_insert - started
            result["products_s"] = finished - clock.first_product_insert
        result["confirm_sql"] = clock.statements
        result["confirm_sql_s"] = clock.seconds
        result["confirm_mb"] = peak_mb()
        result["per_phase_peaks"] = per_phase
        result["status"] = str(batch.status.value if batch.status else batch.status)
        result["batch_error"] = batch.error
        result["products"] = db.session.scalar(select(func.count(Product.id))) - products_before
        result["product_photos"] = db.session.scalar(
            select(func.count(ProductImage.id))
            .join(Product, Product.id == ProductImage.product_id)
            .where(Product.id.in_(batch.created_ids or [0]))
        )
        result["stored_images"] = db.session.scalar(select(func.count(StoredImage.id)))
        db.session.remove()
        engine.dispose()
    return result


def webp_options() -> dict:
    """The WebP encoder's options of an import's derivatives (shop.media.images)."""
    from shop.media import images

    return getattr(images, "BULK_DERIVATIVE_WEBP", images.DERIVATIVE_WEBP)


def floor_photo(archive: zipfile.ZipFile, name: str, out_dir: Path, index: int) -> int:
    """Decode one photo of the ZIP and write its WebP derivatives; returns the bytes written."""
    from PIL import Image

    from shop.media import images

    image = Image.open(io.BytesIO(archive.read(name)))
    image.load()
    if image.mode != "RGB":
        image = image.convert("RGB")
    total = 0
    source = image
    for target in sorted(images.DERIVATIVE_WIDTHS, reverse=True):
        size = images.derivative_size(image.width, image.height, target)
        if size != source.size:
            source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        out = io.BytesIO()
        source.save(out, "WEBP", **webp_options())
        (out_dir / f"{index}-{target}.webp").write_bytes(out.getvalue())
        total += out.tell()
    return total


def floor_insert(url: str, rows: list[tuple]) -> float:
    """One executemany INSERT of the minimal rows into a scratch table, through the bare driver."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.split("///", 1)[1])
        placeholder = "?"
    else:
        import psycopg

        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        placeholder = "%s"
    try:
        cursor = connection.cursor()
        cursor.execute("DROP TABLE IF EXISTS bench_floor_product")
        cursor.execute(
            "CREATE TABLE bench_floor_product (id INTEGER PRIMARY KEY, cooperative_id INTEGER, "
            "name_vi VARCHAR(200), category VARCHAR(120), unit VARCHAR(40), price_vnd BIGINT)"
        )
        connection.commit()
        started = time.perf_counter()
        cursor.executemany(
            f"INSERT INTO bench_floor_product VALUES ({', '.join([placeholder] * 6)})",
            rows,
        )
        connection.commit()
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_floor_product")
        connection.commit()
        return seconds
    finally:
        connection.close()


def child_floor(args) -> dict:
    """The floor: read the sheet, make the photos' WebP sizes, one executemany per database."""
    from openpyxl import load_workbook

    sheet = Path(args.sheet).read_bytes()
    result = {"base_mb": current_mb()}
    per_phase = reset_peak()
    result["per_phase_peaks"] = per_phase

    started, cpu = time.perf_counter(), cpu_seconds()
    workbook = load_workbook(io.BytesIO(sheet), read_only=True, data_only=False)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    result["sheet_s"] = time.perf_counter() - started
    result["sheet_cpu"] = cpu_seconds() - cpu
    result["sheet_mb"] = peak_mb()
    if per_phase:
        reset_peak()

    out_dir = Path(tempfile.mkdtemp(prefix="bench-import-floor-"))
    started, cpu = time.perf_counter(), cpu_seconds()
    written = 0
    if args.zip:
        with zipfile.ZipFile(args.zip) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
            if args.floor_threads > 1:
                with ThreadPoolExecutor(args.floor_threads) as pool:
                    jobs = [
                        pool.submit(floor_photo, archive, name, out_dir, i)
                        for i, name in enumerate(names)
                    ]
                    written = sum(job.result() for job in jobs)
            else:
                for i, name in enumerate(names):
                    written += floor_photo(archive, name, out_dir, i)
    result["photos_s"] = time.perf_counter() - started
    result["photos_cpu"] = cpu_seconds() - cpu
    result["photos_mb"] = peak_mb()
    result["webp_kb"] = written / 1024
    shutil.rmtree(out_dir, ignore_errors=True)
    if per_phase:
        reset_peak()

    header, *data = rows
    minimal = [(i, 1, str(row[0]), str(row[2]), str(row[3]), None) for i, row in enumerate(data, 1)]
    result["insert_s"] = {name: floor_insert(url, minimal) for name, url in args.floor_urls}
    result["insert_mb"] = peak_mb()
    return result


def run_child(kind: str, payload: dict, timeout: int = 3600) -> dict:
    """Run this file as a child doing `kind` with `payload`; its JSON answer."""
    answer = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--payload", json.dumps(payload)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if answer.returncode:
        sys.stderr.write(answer.stderr[-6000:])
        raise SystemExit(f"the {kind} process failed (exit {answer.returncode})")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def child_main(kind: str, payload: dict) -> None:
    args = argparse.Namespace(**payload)
    if getattr(args, "webp_method", None) is not None:  # an experiment: other WebP effort
        from shop.media import images

        for name in ("DERIVATIVE_WEBP", "BULK_DERIVATIVE_WEBP"):
            if hasattr(images, name):
                setattr(images, name, {**getattr(images, name), "method": args.webp_method})
    if kind == "setup":
        answer = child_setup(args.url, args.media_root, args.rows)
    elif kind == "import":
        answer = child_import(args)
    elif kind == "floor":
        args.floor_urls = [tuple(pair) for pair in args.floor_urls]
        answer = child_floor(args)
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(answer))


# --------------------------------------------------------------------------- the table


def print_profile(path: str, title: str, limit: int = 25) -> None:
    import pstats

    print(f"\nProfile of {title} (cumulative, top {limit}; {path}):")
    stats = pstats.Stats(path, stream=sys.stdout)
    stats.strip_dirs().sort_stats("cumulative").print_stats(limit)


@dataclass
class Line:
    phase: str
    seconds: float | None = None
    cpu: float | None = None
    peak: float | None = None
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None


def yes(ok) -> str:
    return "—" if ok is None else ("yes" if ok else "NO")


def number(value, pattern: str) -> str:
    return "" if value is None else format(value, pattern)


def print_table(title: str, lines: list[Line], markdown: bool) -> None:
    print(f"\n{title}\n")
    heads = ("phase", "time s", "CPU s", "peak MB", "× floor", "goal", "met")
    for line in lines:
        cells = (
            line.phase,
            number(line.seconds, ".1f"),
            number(line.cpu, ".1f"),
            number(line.peak, ".0f"),
            number(line.ratio, ".2f") + ("×" if line.ratio is not None else ""),
            line.goal,
            yes(line.met) if line.goal else "",
        )
        if markdown:
            if line is lines[0]:
                print("| " + " | ".join(heads) + " |")
                print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
            print("| " + " | ".join(cells) + " |")
        else:
            if line is lines[0]:
                print(
                    f"{heads[0]:62} {heads[1]:>7} {heads[2]:>7} {heads[3]:>8} {heads[4]:>8}  "
                    f"{heads[5]:9} {heads[6]}"
                )
            print(
                f"{cells[0]:62} {cells[1]:>7} {cells[2]:>7} {cells[3]:>8} {cells[4]:>8}  "
                f"{cells[5]:9} {cells[6]}"
            )


def load_average() -> str:
    try:
        return "/".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


def postgresql_reachable(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--photos", type=int, default=500)
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument(
        "--postgresql", action="store_true", help="measure on PostgreSQL too (fail if absent)"
    )
    chosen.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--workdir",
        default=str(Path(tempfile.gettempdir()) / "cho-htx-bench-imports"),
        help="where the photos are cached between runs",
    )
    parser.add_argument("--floor-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--webp-method",
        type=int,
        choices=range(7),
        help="experiment: encode the WebP derivatives with this method (import and floor)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each import process")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        child_main(args.child, json.loads(args.payload))
        return 0

    use_pg = not args.no_postgresql and (args.postgresql or postgresql_reachable(args.pg_admin))
    if args.postgresql and not postgresql_reachable(args.pg_admin):
        raise SystemExit(f"PostgreSQL does not answer at {args.pg_admin}")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=workdir))
    admin = None
    pg_name = None
    try:
        print(f"Files ({args.rows:,} rows, {args.photos:,} photos) in {workdir}")
        paths = photo_files(workdir, args.photos)
        zip_path = make_zip(workdir, paths) if args.photos else None
        sheet_path = run_dir / SHEET_NAME
        sheet_path.write_bytes(make_sheet(args.rows, args.photos))
        photo_kb = sum(path.stat().st_size for path in paths) / 1024 / max(1, len(paths))
        print(
            f"  sheet {sheet_path.stat().st_size / 1e6:.1f} MB; "
            + (
                f"ZIP {zip_path.stat().st_size / 1e6:.0f} MB "
                f"({args.photos} JPEG {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} q{PHOTO_QUALITY}, "
                f"{photo_kb:.0f} kB on average)"
                if zip_path
                else "no photos"
            )
        )

        databases = []
        if not args.no_sqlite:
            databases.append(("SQLite", f"sqlite:///{run_dir / 'bench.sqlite3'}"))
        if use_pg:
            import psycopg

            pg_name = f"chohtx_bench_imports_{int(time.time())}"
            admin = psycopg.connect(args.pg_admin, autocommit=True, connect_timeout=3)
            admin.execute(f'CREATE DATABASE "{pg_name}"')
            base = args.pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            databases.append(("PostgreSQL", f"{base}/{pg_name}"))

        setups = {}
        for name, url in databases:
            print(f"  {name}: migrating and loading the demo data")
            media = run_dir / f"media-{name.lower()}"
            setups[name] = run_child(
                "setup", {"url": url, "media_root": str(media), "rows": args.rows}
            )

        cpus = os.cpu_count()
        load_start = load_average()
        print(f"  floor: {args.floor_threads} thread(s) for the photos; {cpus} CPUs")
        floor = run_child(
            "floor",
            {
                "sheet": str(sheet_path),
                "zip": str(zip_path) if zip_path else None,
                "floor_threads": args.floor_threads,
                "floor_urls": databases,
                "webp_method": args.webp_method,
            },
        )
        results = {}
        for name, url in databases:
            print(f"  {name}: importing")
            profile = str(run_dir / f"{name.lower()}.prof") if args.profile else None
            results[name] = run_child(
                "import",
                {
                    "url": url,
                    "media_root": str(run_dir / f"media-{name.lower()}"),
                    "rows": args.rows,
                    "sheet": str(sheet_path),
                    "zip": str(zip_path) if zip_path else None,
                    "profile": profile,
                    "webp_method": args.webp_method,
                    **setups[name],
                },
            )
            if profile:
                kept = workdir / f"{name.lower()}-import.prof"
                shutil.copy(profile, kept)
                print_profile(str(kept), f"the {name} import")

        all_met = True
        stamp = datetime.now().strftime("%d/%m/%Y %H:%M")
        for name, _url in databases:
            r = results[name]
            floor_preview = floor["sheet_s"]
            floor_confirm = floor["photos_s"] + floor["insert_s"][name]
            floor_total = floor_preview + floor_confirm
            floor_peak = max(floor["sheet_mb"], floor["photos_mb"], floor["insert_mb"])
            sizes = "/".join(map(str, widths()))
            method = webp_options().get("method") if args.webp_method is None else args.webp_method
            lines = [
                Line(
                    "floor: openpyxl read-only, whole sheet",
                    floor_preview,
                    floor["sheet_cpu"],
                    floor["sheet_mb"],
                ),
                Line(
                    f"floor: Pillow decode + WebP {sizes} m{method}, {args.floor_threads} thr.",
                    floor["photos_s"],
                    floor["photos_cpu"],
                    floor["photos_mb"],
                ),
                Line(
                    f"floor: one executemany INSERT of {args.rows:,} rows",
                    floor["insert_s"][name],
                    None,
                    floor["insert_mb"],
                ),
                Line(
                    "floor: total",
                    floor_total,
                    floor["sheet_cpu"] + floor["photos_cpu"],
                    floor_peak,
                ),
            ]
            if r.get("bad_rows"):
                print_table(f"{name}: the sheet has {r['bad_rows']} bad rows", lines, args.markdown)
                print("  first errors: " + " | ".join(r["errors"]))
                all_met = False
                continue
            done = r["status"] == "done" and r["products"] == args.rows
            total = r["preview_s"] + r["confirm_s"]
            peak = max(r["preview_mb"], r["confirm_mb"])
            time_ok = done and total <= GOAL_SECONDS
            peak_ok = peak <= GOAL_MB
            all_met = all_met and time_ok and peak_ok
            lines += [
                Line(
                    f"upload → preview (create_batch + row_errors), {r['preview_sql']} SQL",
                    r["preview_s"],
                    r["preview_cpu"],
                    r["preview_mb"],
                    r["preview_s"] / floor_preview,
                ),
                Line(
                    f"confirm → done, {r['confirm_sql']} SQL ({r['confirm_sql_s']:.1f} s in SQL)",
                    r["confirm_s"],
                    r["confirm_cpu"],
                    r["confirm_mb"],
                    r["confirm_s"] / floor_confirm,
                ),
            ]
            if "photos_s" in r:
                lines += [
                    Line(
                        f"  of which photos ({r['stored_images']} stored images in all)",
                        r["photos_s"],
                        ratio=r["photos_s"] / floor["photos_s"] if floor["photos_s"] else None,
                    ),
                    Line(
                        f"  of which {r['products']:,} products, {r['product_photos']} photo links",
                        r["products_s"],
                        ratio=r["products_s"] / floor["insert_s"][name],
                    ),
                ]
            lines += [
                Line(
                    f"import total (batch {r['status']})",
                    total,
                    r["preview_cpu"] + r["confirm_cpu"],
                    peak,
                    total / floor_total,
                    f"≤ {GOAL_SECONDS} s",
                    time_ok,
                ),
                Line(
                    f"import peak RSS (of which {r['base_mb']:.0f} MB Python + app)",
                    peak=peak,
                    ratio=peak / floor_peak,
                    goal=f"≤ {GOAL_MB} MB",
                    met=peak_ok,
                ),
            ]
            heading = (
                f"{name}, {args.rows:,} rows, {args.photos:,} photos, {cpus} CPUs, {stamp}, "
                f"load average {load_start} before, {load_average()} after"
                + (
                    ""
                    if args.webp_method is None
                    else f", EXPERIMENT: WebP derivatives at method {args.webp_method}"
                )
                + ("" if r.get("per_phase_peaks") else " (peaks cumulative)")
            )
            print_table(heading, lines, args.markdown)
            if r.get("batch_error"):
                print(f"  batch error: {r['batch_error']}")
        return 0 if all_met else 1
    finally:
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            admin.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def widths() -> tuple[int, ...]:
    from shop.media.images import DERIVATIVE_WIDTHS

    return tuple(sorted(DERIVATIVE_WIDTHS, reverse=True))


if __name__ == "__main__":
    sys.exit(main())
