"""Time the image pipeline on a 12 MP phone photo and compare it with a floor.

    .venv/bin/python bench/images.py [--runs 9]

The photo is made here: 4032×3024, textured and noisy so it compresses like a photo (~3.5 MB
at quality 92), EXIF orientation 6 (a phone held upright) and GPS tags. Each variant runs in
its own process, so its peak memory is its own.

The peak is VmHWM: the whole process, of which ~80 MB is Python with the app imported (the
"Δ RSS" column is what the runs added on top of that).

- floor: plain Pillow, one reduced decode (draft at 1/2) + the same resizes + the same WebP
  encodes as the derivatives. The least any pipeline producing these files can do.
- store_image: the whole service, `shop.media.services.store_image`, into a LocalStorage in a
  temporary folder (files fsync'ed) and an in-memory SQLite database (row + audit entry):
  validation, reduced decode, rotation, metadata stripping, JPEG master, sha256, dedupe
  lookup, derivatives, writes.
- the other rows are variants of store_image that show why the choices were made.

Goals on the 2-core machine: store_image ≤ 1.3× the floor, ≤ 0.5 s, ≤ 150 MB peak.
"""

import argparse
import io
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATIO, GOAL_SECONDS, GOAL_MB = 1.3, 0.5, 150

VARIANTS = {
    "floor": "Pillow only: reduced decode, resizes, 3 WebP encodes (no master)",
    "store_image": "the service: everything, files and row",
    "full-decode": "store_image without draft() (full-size decode)",
    "master-webp": "store_image with a WebP master instead of JPEG",
    "webp-method-6": "store_image with WebP method 6 (smallest files)",
    "webp-method-2": "store_image with WebP method 2",
}


def phone_photo() -> bytes:
    """A 4032×3024 JPEG that looks and compresses like a phone photo, held upright."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = 4032, 3024
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = red.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    base = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(base)
    rnd = random.Random(12)
    for _ in range(60):
        x, y, size = rnd.randrange(width), rnd.randrange(height), rnd.randrange(50, 600)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.ellipse((x, y, x + size, y + size * rnd.uniform(0.5, 1.5)), fill=colour)
    base = base.filter(ImageFilter.GaussianBlur(3))
    coarse = Image.effect_noise((width // 2, height // 2), 24).resize((width, height))
    fine = Image.effect_noise((width, height), 20)
    bands = [
        Image.blend(band, noise, 0.35)
        for band, noise in zip(base.split(), (coarse, fine, coarse), strict=True)
    ]
    photo = Image.merge("RGB", bands)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "Bench Phone"
    exif.get_ifd(0x8825).update({1: "N", 2: (21.0, 11.0, 10.0), 3: "E", 4: (106.0, 4.0, 5.0)})
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


# --------------------------------------------------------------------------- one variant


def floor_once(data: bytes) -> int:
    """Reduced decode + the derivatives' resizes and encodes, nothing else; returns bytes out."""
    from PIL import Image

    from shop.media import images

    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (image.width // 2, image.height // 2))
    image.load()
    # The same output sizes as store_image (portrait after rotation), without the rotation.
    height, width = image.size
    total = 0
    source = image
    for target in sorted(images.DERIVATIVE_WIDTHS, reverse=True):
        w, h = images.derivative_size(width, height, target)
        if (h, w) != source.size:
            source = source.resize((h, w), Image.Resampling.LANCZOS, reducing_gap=2.0)
        out = io.BytesIO()
        source.save(out, "WEBP", **images.DERIVATIVE_WEBP)
        total += out.tell()
    return total


def run_variant(variant: str, photo: Path, runs: int) -> dict:
    from config import TestConfig
    from shop import create_app
    from shop.extensions import db
    from shop.media import images, services

    data = photo.read_bytes()
    if variant == "full-decode":
        images.DECODE_MIN_SIDE = 10**9  # never draft
    elif variant == "master-webp":
        images.encode_master = lambda image: images.Rendition(
            "master.webp",
            _encode(image, "WEBP", images.MASTER_WEBP),
            "image/webp",
            image.width,
            image.height,
        )
    elif variant.startswith("webp-method-"):
        images.DERIVATIVE_WEBP = {**images.DERIVATIVE_WEBP, "method": int(variant[-1])}

    media_root = Path(tempfile.mkdtemp(prefix="bench-media-"))
    config = type(
        "BenchConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "MEDIA_ROOT": str(media_root)},
    )
    app = create_app(config)
    timings, out_bytes = [], 0
    try:
        with app.app_context():
            db.create_all()
            baseline_mb = peak_rss_mb()
            for _ in range(runs + 1):
                started = time.perf_counter()
                if variant == "floor":
                    out_bytes = floor_once(data)
                else:
                    image = services.store_image(data)
                    db.session.flush()
                timings.append(time.perf_counter() - started)
                if variant != "floor":
                    out_bytes = sum(entry.size for entry in services.get_storage().entries())
                    db.session.rollback()  # forget the row, so the next run is not a duplicate
                    shutil.rmtree(media_root)
                    media_root.mkdir()
                    expected = (1536, 2048) if variant == "full-decode" else (1512, 2016)
                    assert (image.width, image.height) == expected, (image.width, image.height)
    finally:
        shutil.rmtree(media_root, ignore_errors=True)
    timings = timings[1:]  # the first run pays for lazy imports and caches
    return {
        "variant": variant,
        "median": statistics.median(timings),
        "min": min(timings),
        "max": max(timings),
        "peak_mb": peak_rss_mb(),
        "baseline_mb": baseline_mb,
        "out_bytes": out_bytes,
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's size at fork.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _encode(image, format, options) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


# --------------------------------------------------------------------------- the table


def master_formats(data: bytes) -> list[tuple[str, float, int]]:
    """Time and size of the two master formats on the normalised photo."""
    from shop.media import images

    master = images.normalise(data).image
    rows = []
    for label, fmt, options in (
        ("JPEG " + json.dumps(images.MASTER_JPEG), "JPEG", images.MASTER_JPEG),
        ("WebP " + json.dumps(images.MASTER_WEBP), "WEBP", images.MASTER_WEBP),
    ):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            size = len(_encode(master, fmt, options))
            times.append(time.perf_counter() - started)
        rows.append((label, statistics.median(times), size))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--photo", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.variant:  # a child process: one variant, JSON out
        print(json.dumps(run_variant(args.variant, Path(args.photo), args.runs)))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="bench-images-"))
    try:
        photo = workdir / "phone.jpg"
        data = phone_photo()
        photo.write_bytes(data)
        print(
            f"Photo: 4032×3024 JPEG, {len(data) / 1e6:.1f} MB, EXIF orientation 6 + GPS; "
            f"median of {args.runs} runs, one process per variant.\n"
        )
        results = {}
        for variant in VARIANTS:
            answer = subprocess.run(
                [sys.executable, __file__, "--variant", variant, "--photo", str(photo)]
                + ["--runs", str(args.runs)],
                capture_output=True,
                text=True,
            )
            if answer.returncode:
                print(answer.stderr, file=sys.stderr)
                raise SystemExit(f"variant {variant} failed")
            results[variant] = json.loads(answer.stdout.strip().splitlines()[-1])
        floor = results["floor"]["median"]
        header = (
            f"{'variant':<15} {'median':>8} {'min':>8} {'max':>8} {'× floor':>8} "
            f"{'peak RSS':>9} {'Δ RSS':>7} {'output':>9}  what"
        )
        print(header)
        print("-" * len(header))
        for variant, row in results.items():
            print(
                f"{variant:<15} {row['median'] * 1000:>6.0f}ms {row['min'] * 1000:>6.0f}ms "
                f"{row['max'] * 1000:>6.0f}ms {row['median'] / floor:>7.2f}× "
                f"{row['peak_mb']:>7.0f}MB {row['peak_mb'] - row['baseline_mb']:>5.0f}MB "
                f"{row['out_bytes'] / 1024:>7.0f}kB  {VARIANTS[variant]}"
            )
        print("\nMaster format on the normalised photo (1512×2016):")
        for label, seconds, size in master_formats(data):
            print(f"  {label:<45} {seconds * 1000:>6.0f} ms {size / 1024:>7.0f} kB")

        main_row = results["store_image"]
        checks = [
            (f"store_image ≤ {GOAL_RATIO}× floor", main_row["median"] / floor <= GOAL_RATIO),
            (f"store_image ≤ {GOAL_SECONDS} s", main_row["median"] <= GOAL_SECONDS),
            (f"store_image peak ≤ {GOAL_MB} MB", main_row["peak_mb"] <= GOAL_MB),
        ]
        print()
        for label, ok in checks:
            print(f"  {'met ' if ok else 'MISSED'}  {label}")
        return 0 if all(ok for _, ok in checks) else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
