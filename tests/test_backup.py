"""`flask backup create|restore`: a populated database and its media round-trip unchanged.

Run on the backend TEST_DB names: SQLite through the online backup API, PostgreSQL through
pg_dump/pg_restore. The source holds the demo data and photos stored through the real image
pipeline; each restore goes into a fresh, empty database and media folder.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from shop import create_app
from shop.backup.services import BackupError, find_tool, read_backup
from shop.dataset.commands import DEMO_FILE
from shop.dataset.importer import import_data, read_file
from shop.extensions import db
from shop.media.services import store_image
from tests.conftest import BACKEND, make_config, migrated_app
from tests.test_media_images import jpeg, png
from tests.test_media_storage import seaweedfs  # noqa: F401  (the fixture)


def database_digest(app) -> tuple[dict[str, int], str]:
    """Row counts and a digest of every row of every table (models, search index, Alembic)."""
    digest = hashlib.sha256()
    counts = {}
    with app.app_context():
        names = sorted(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            for name in names:
                quoted = db.engine.dialect.identifier_preparer.quote(name)
                rows = sorted(
                    repr(tuple(row)) for row in connection.execute(text(f"SELECT * FROM {quoted}"))
                )
                counts[name] = len(rows)
                digest.update(f"{name}:{rows!r}".encode())
    return counts, digest.hexdigest()


def media_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def app_on(url: str, media: Path, **settings):
    return create_app(make_config(url, MEDIA_ROOT=str(media), **settings))


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["backup", *args])


@pytest.fixture(scope="module")
def source(database_factory, tmp_path_factory):
    """A migrated database with the demo data and three photos, in its own media folder."""
    media = tmp_path_factory.mktemp("source-media")
    url = database_factory("backup_source")
    dispose(migrated_app(url))  # bring the schema to head
    app = app_on(url, media)
    with app.app_context():
        import_data(read_file(str(DEMO_FILE)), db.session)
        db.session.commit()
    with app.test_request_context():
        for image in (jpeg((900, 600)), png((700, 500)), jpeg((640, 480))):
            store_image(image)
        db.session.commit()
    yield app, media
    dispose(app)


@pytest.fixture(scope="module")
def backup(source, tmp_path_factory):
    app, _media = source
    output = tmp_path_factory.mktemp("backups")
    result = cli(app, "create", "--output", str(output))
    assert result.exit_code == 0, result.output
    folders = list(output.iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("chohtx-backup-")
    assert "Backup written to" in result.output
    return folders[0]


@pytest.fixture(scope="module")
def target_url(database_factory):
    """One database the restores go into; `target` empties it before each test."""
    return database_factory("backup_target")


def empty_database(url: str) -> None:
    """Drop everything: a PostgreSQL schema recreated empty, a SQLite file deleted."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture
def target(target_url, tmp_path):
    """A fresh, empty database (no schema at all) and an empty media folder."""
    empty_database(target_url)
    app = app_on(target_url, tmp_path / "media")
    yield app, tmp_path / "media"
    dispose(app)


@pytest.fixture
def tampered(backup, tmp_path):
    """A copy of the backup whose first master photo has one byte changed."""
    copy = tmp_path / "tampered"
    shutil.copytree(backup, copy)
    manifest = json.loads((copy / "media-manifest.json").read_text())
    key = next(item["key"] for item in manifest if "master" in item["key"])
    path = copy / "media" / key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return copy, key


# --------------------------------------------------------------------------- create


def test_backup_holds_database_manifest_and_info(source, backup):
    app, media = source
    folder, info, manifest = read_backup(backup)
    counts, _ = database_digest(app)
    assert info["version"] == 1
    assert info["engine"] == ("postgresql" if BACKEND == "postgresql" else "sqlite")
    assert info["alembic_revision"] is not None
    assert info["counts"]["tables"] == counts
    assert info["counts"]["tables"]["product"] > 0
    assert (folder / info["database_file"]).stat().st_size > 0
    # Three photos, each a master and its derivatives, all listed with size and sha256.
    assert {item["key"]: item["sha256"] for item in manifest} == media_digest(media)
    assert info["counts"]["media_objects"] == len(manifest) >= 3 * 2
    for item in manifest:
        copied = (folder / "media" / item["key"]).read_bytes()
        assert len(copied) == item["size"]
        assert hashlib.sha256(copied).hexdigest() == item["sha256"]
    assert not list(folder.parent.glob("*.partial"))


def test_backup_skips_a_write_in_flight(source, tmp_path):
    app, media = source
    stray = next(media.rglob("*.webp")).with_suffix(".webp.abc123.part")
    stray.write_bytes(b"half")
    try:
        result = cli(app, "create", "--output", str(tmp_path))
        assert result.exit_code == 0, result.output
        (folder,) = tmp_path.iterdir()
        _, _, manifest = read_backup(folder)
        assert not [item for item in manifest if item["key"].endswith(".part")]
    finally:
        stray.unlink()


# --------------------------------------------------------------------------- restore


def test_restore_into_an_empty_database_gives_identical_rows_and_media(source, backup, target):
    app, media = source
    fresh, fresh_media = target
    result = cli(fresh, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "Every media object matches its sha256" in result.output
    assert database_digest(fresh) == database_digest(app)
    assert media_digest(fresh_media) == media_digest(media)
    # The restored app serves the restored data.
    with fresh.app_context():
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == read_backup(backup)[1]["alembic_revision"]
    page = fresh.test_client().get("/san-pham")
    assert page.status_code == 200


def test_restore_into_a_migrated_empty_database(source, backup, target, target_url):
    app, _media = source
    fresh, _fresh_media = target
    dispose(migrated_app(target_url))
    result = cli(fresh, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert database_digest(fresh) == database_digest(app)


def test_tampered_media_is_reported_and_nothing_restored(tampered, target):
    copy, key = tampered
    fresh, fresh_media = target
    before = database_digest(fresh)
    result = cli(fresh, "restore", str(copy))
    assert result.exit_code != 0
    assert "do not match its manifest" in result.output
    assert key in result.output
    assert "nothing was restored" in result.output
    assert database_digest(fresh) == before
    assert not fresh_media.exists() or media_digest(fresh_media) == {}


def test_non_empty_database_is_refused_without_yes(source, backup, tmp_path):
    """Restoring over the live source without --yes: refused, nothing changed."""
    app, media = source
    before = database_digest(app), media_digest(media)
    result = cli(app, "restore", str(backup))
    assert result.exit_code == 1
    assert "database is not empty; pass --yes" in result.output
    assert (database_digest(app), media_digest(media)) == before


def test_non_empty_media_is_refused_without_yes(backup, target):
    fresh, fresh_media = target
    (fresh_media / "aa").mkdir(parents=True)
    (fresh_media / "aa" / "other.webp").write_bytes(b"someone else's")
    before = database_digest(fresh)
    result = cli(fresh, "restore", str(backup))
    assert result.exit_code == 1
    assert "media storage" in result.output and "is not empty" in result.output
    assert database_digest(fresh) == before
    assert media_digest(fresh_media) == {
        "aa/other.webp": hashlib.sha256(b"someone else's").hexdigest()
    }


def test_yes_replaces_a_changed_database(source, backup, target):
    """A copy of the source, changed after the backup, is put back as it was with --yes."""
    app, media = source
    fresh, fresh_media = target
    assert cli(fresh, "restore", str(backup)).exit_code == 0
    with fresh.app_context():
        db.session.execute(text("UPDATE product SET name_vi = 'Đổi tên sau khi sao lưu'"))
        db.session.execute(text("DELETE FROM product_image"))
        db.session.commit()
    assert database_digest(fresh) != database_digest(app)
    refused = cli(fresh, "restore", str(backup))
    assert refused.exit_code == 1
    result = cli(fresh, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert database_digest(fresh) == database_digest(app)
    assert media_digest(fresh_media) == media_digest(media)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "no backup at"),
        ("file", "is not a backup folder"),
        ("no-info", "backup.json is missing"),
        ("no-database", "the database file is missing"),
    ],
)
def test_a_missing_or_broken_backup_is_a_clear_error(backup, target, tmp_path, damage, message):
    fresh, fresh_media = target
    path = tmp_path / "nowhere"
    if damage == "file":
        path.write_text("not a backup")
    elif damage in ("no-info", "no-database"):
        shutil.copytree(backup, path)
        _, info, _ = read_backup(path)
        (path / ("backup.json" if damage == "no-info" else info["database_file"])).unlink()
    before = database_digest(fresh)
    result = cli(fresh, "restore", str(path))
    assert result.exit_code == 1
    assert "Restore refused:" in result.output and message in result.output
    assert database_digest(fresh) == before
    assert not fresh_media.exists()


def test_missing_postgresql_tool_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("shop.backup.services.glob.glob", lambda pattern: [])
    with pytest.raises(BackupError, match="pg_dump was not found"):
        find_tool("pg_dump")


def test_media_on_s3_round_trips(source, backup, seaweedfs, target_url, tmp_path):  # noqa: F811
    """The same backup and restore with the media in S3 buckets (SeaweedFS) on both sides."""
    app, media = source
    bucket = seaweedfs.empty_storage()
    for key, _sha in media_digest(media).items():
        bucket.put(key, (media / key).read_bytes(), "image/webp")
    saved = app.extensions["media_storage"]
    app.extensions["media_storage"] = bucket
    try:
        result = cli(app, "create", "--output", str(tmp_path / "out"))
    finally:
        app.extensions["media_storage"] = saved
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "out").iterdir()
    _, info, manifest = read_backup(folder)
    assert info["media_storage"].startswith("S3 bucket")
    assert {item["key"]: item["sha256"] for item in manifest} == media_digest(media)

    seaweedfs.create_bucket("backup-restore")
    restored = seaweedfs.storage("backup-restore")
    for key in list(restored.iter_keys()):
        restored.delete(key)
    empty_database(target_url)
    fresh = app_on(target_url, tmp_path / "unused", **seaweedfs.settings("backup-restore"))
    try:
        result = cli(fresh, "restore", str(folder))
        assert result.exit_code == 0, result.output
        assert database_digest(fresh) == database_digest(app)
    finally:
        dispose(fresh)
    assert {
        key: hashlib.sha256(restored.get(key)).hexdigest() for key in restored.iter_keys()
    } == media_digest(media)
    assert not (tmp_path / "unused").exists()
