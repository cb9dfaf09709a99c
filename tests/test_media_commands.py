"""`flask media gc` and `flask media rebuild`, run as an operator would, on real files."""

import io
import os
import time

import pytest
from PIL import Image

from shop.extensions import db
from shop.media.services import storage_key, store_image
from tests.test_media_images import jpeg, png

AN_HOUR_AGO = time.time() - 3700


@pytest.fixture
def images(blank_db, media_storage):
    """Two stored images, committed (inside the test's rolled-back transaction)."""
    with blank_db.test_request_context():
        kept = store_image(jpeg((900, 600)))
        other = store_image(png((700, 500)))
        db.session.commit()
    return kept, other


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["media", *args])
    return result


def age(storage, key, when=AN_HOUR_AGO):
    os.utime(storage.root / key, (when, when))


def test_gc_deletes_only_files_no_row_uses(blank_db, media_storage, images):
    kept, dropped = images
    dropped_keys = [key for key in media_storage.iter_keys() if dropped.sha256 in key]
    db.session.delete(dropped)
    db.session.commit()
    stray = [
        storage_key("f" * 64, "800.webp"),  # an upload whose row was rolled back
        storage_key(kept.sha256, "640.webp"),  # a size we no longer make
        storage_key(kept.sha256, "master.webp"),  # not this image's master
        storage_key(kept.sha256, "320.webp") + ".k3j4h2.part",  # a crash mid-write
    ]
    for key in stray:
        media_storage.put(key, b"junk", "application/octet-stream")
    for key in media_storage.iter_keys():
        age(media_storage, key)
    kept_files = {
        key: media_storage.get(key)
        for key in media_storage.iter_keys()
        if key.startswith(storage_key(kept.sha256, "")) and key not in stray
    }
    assert len(kept_files) == 4

    dry = run(blank_db, "gc", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "4 files in use, would delete 8 unused files" in dry.output
    assert len(list(media_storage.iter_keys())) == 12

    result = run(blank_db, "gc")
    assert result.exit_code == 0, result.output
    assert "4 files in use, deleted 8 unused files" in result.output
    assert sorted(media_storage.iter_keys()) == sorted(kept_files)
    for key, data in kept_files.items():
        assert media_storage.get(key) == data
    assert not any(dropped.sha256 in key for key in media_storage.iter_keys())
    assert dropped_keys
    # Folders emptied by gc are gone too.
    assert not (media_storage.root / "ff").exists()


def test_gc_spares_young_orphans_of_uploads_not_yet_committed(blank_db, media_storage, images):
    media_storage.put(storage_key("e" * 64, "320.webp"), b"in flight", "image/webp")
    result = run(blank_db, "gc")
    assert result.exit_code == 0, result.output
    assert "deleted 0 unused files" in result.output
    assert "spared 1 unused files younger than 3600 s" in result.output
    assert media_storage.exists(storage_key("e" * 64, "320.webp"))

    result = run(blank_db, "gc", "--min-age", "0")
    assert "deleted 1 unused files" in result.output
    assert not media_storage.exists(storage_key("e" * 64, "320.webp"))


def test_rebuild_recreates_a_deleted_derivative(blank_db, media_storage, images):
    kept, other = images
    lost = storage_key(kept.sha256, "800.webp")
    before = media_storage.get(lost)
    media_storage.delete(lost)

    result = run(blank_db, "rebuild")
    assert result.exit_code == 0, result.output
    assert "Rebuilding derivatives" in result.output
    assert "2 images rebuilt, 0 already complete, 0 problems" in result.output
    rebuilt = Image.open(io.BytesIO(media_storage.get(lost)))
    assert (rebuilt.format, rebuilt.size) == ("WEBP", (800, 533))
    assert abs(len(media_storage.get(lost)) - len(before)) < len(before) // 2


def test_rebuild_missing_only_skips_complete_images(blank_db, media_storage, images):
    kept, other = images
    media_storage.delete(storage_key(other.sha256, "320.webp"))
    result = run(blank_db, "rebuild", "--missing-only")
    assert result.exit_code == 0, result.output
    assert "1 images rebuilt, 1 already complete, 0 problems" in result.output
    assert media_storage.exists(storage_key(other.sha256, "320.webp"))


def test_rebuild_reports_a_missing_or_altered_master(blank_db, media_storage, images):
    kept, other = images
    media_storage.delete(storage_key(kept.sha256, "master.jpg"))
    media_storage.put(storage_key(other.sha256, "master.jpg"), jpeg((10, 10)), "image/jpeg")
    result = run(blank_db, "rebuild")
    assert result.exit_code == 1
    assert f"{kept.sha256}: master is missing" in result.output
    assert f"{other.sha256}: master does not match its hash" in result.output
