"""Create a backup of the database and the media, and restore one.

A backup is one folder, ``chohtx-backup-<UTC timestamp>/``, holding:

- ``database.sqlite3`` (SQLite, copied with the online backup API, so the app may keep serving)
  or ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``, one consistent snapshot);
- ``media/<key>``: a copy of every stored object, read through the app's storage (local folder
  or S3), and ``media-manifest.json``: every object's key, size and sha256;
- ``backup.json``: format version, creation time, database engine, Alembic revision, the row
  count of every table and the number and total size of the media objects.

Creating is atomic: the folder is written under a ``.partial`` name and renamed when complete,
so a folder with the final name is always a whole backup.

Restoring checks the backup before it writes anything: the folder and its files exist, the
engine matches the configured database, every media copy matches the manifest, and the target
is empty (objects in storage or rows in any table) unless ``--yes`` is given. Then:

1. the media objects are written (each write is atomic; objects are content-addressed, so the
   ones a failed restore leaves behind are orphans that ``flask media gc`` removes);
2. the database is restored *atomically*: SQLite by the backup API straight into the target
   file (one step, under the target's write lock: readers see the old or the new database);
   PostgreSQL by ``pg_restore --clean --if-exists --no-owner --single-transaction``, so an error
   rolls the whole restore back;
3. every object is read back from the storage and its sha256 compared with the manifest;
   mismatches are reported (the command exits non-zero).

Objects already in the storage that the backup does not hold are left alone (``--yes`` only);
``flask media gc`` deletes those no row uses.
"""

import glob
import hashlib
import json
import mimetypes
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import URL

from shop.extensions import db
from shop.media.storage import LocalStorage, MissingObject, check_key, get_storage

FORMAT_VERSION = 1
INFO_FILE = "backup.json"
MANIFEST_FILE = "media-manifest.json"
MEDIA_DIR = "media"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
CHUNK = 1 << 20
CONTENT_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".png": "image/png"}


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why, for the operator."""


@dataclass
class RestoreReport:
    objects: int = 0
    tables: int = 0
    #: Keys whose restored bytes are missing or do not match the manifest.
    mismatches: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def find_tool(name: str) -> str:
    """The path of a PostgreSQL client tool: on PATH, else the newest /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found on PATH nor in /usr/lib/postgresql/*/bin; "
        "install the PostgreSQL client (apt-get install postgresql-client)"
    )


def _engine_name(app: Flask) -> str:
    name = db.engine.url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return url.database


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return ["--dbname", plain.render_as_string(hide_password=False)], env


def _run(command: list[str], env: dict[str, str]) -> None:
    answer = subprocess.run(command, env=env, capture_output=True, text=True)
    if answer.returncode != 0:
        tool = os.path.basename(command[0])
        raise BackupError(f"{tool} failed ({answer.returncode}): {answer.stderr.strip()}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _content_type(key: str) -> str:
    suffix = os.path.splitext(key)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def table_counts() -> dict[str, int]:
    """Rows in every table of the configured database (tables outside the models too)."""
    names = sorted(inspect(db.engine).get_table_names())
    counts = {}
    with db.engine.connect() as connection:
        for name in names:
            quoted = db.engine.dialect.identifier_preparer.quote(name)
            counts[name] = connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one()
    return counts


def _alembic_revision() -> str | None:
    if "alembic_version" not in inspect(db.engine).get_table_names():
        return None
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _is_empty_database() -> bool:
    """No rows in any of the models' tables (a migrated, empty schema counts as empty)."""
    existing = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if (
                table.name in existing
                and connection.execute(select(func.count()).select_from(table)).scalar_one()
            ):
                return False
    return True


# --------------------------------------------------------------------------- create


def create_backup(app: Flask, output: str | os.PathLike) -> Path:
    """Write a backup folder under `output` and return its path (see the module docstring)."""
    engine = _engine_name(app)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    name = f"chohtx-backup-{now:%Y%m%dT%H%M%S}Z"
    final = output / name
    suffix = 1
    while final.exists():
        suffix += 1
        final = output / f"{name}-{suffix}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        if engine == "sqlite":
            database_file = SQLITE_FILE
            _dump_sqlite(db.engine.url, partial / SQLITE_FILE)
        else:
            database_file = PG_FILE
            _dump_postgresql(db.engine.url, partial / PG_FILE)
        manifest = _copy_media(partial / MEDIA_DIR)
        (partial / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        info = {
            "version": FORMAT_VERSION,
            "created_at": now.isoformat(timespec="seconds"),
            "engine": engine,
            "database_file": database_file,
            "alembic_revision": _alembic_revision(),
            "counts": {
                "tables": table_counts(),
                "media_objects": len(manifest),
                "media_bytes": sum(item["size"] for item in manifest),
            },
            "media_storage": get_storage(app).describe(),
        }
        (partial / INFO_FILE).write_text(
            json.dumps(info, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _dump_sqlite(url: URL, target: Path) -> None:
    source = sqlite3.connect(_sqlite_path(url))
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
    finally:
        destination.close()
        source.close()


def _dump_postgresql(url: URL, target: Path) -> None:
    connection, env = _libpq(url)
    _run([find_tool("pg_dump"), "--format=custom", "--file", str(target), *connection], env)


def _copy_media(folder: Path) -> list[dict]:
    """Copy every stored object into `folder`; return the manifest, sorted by key."""
    storage = get_storage()
    temp_suffix = LocalStorage.TEMP_SUFFIX
    manifest = []
    folder.mkdir()
    for entry in storage.entries():
        if isinstance(storage, LocalStorage) and entry.key.endswith(temp_suffix):
            continue  # a write in flight (or left by a crash): not an object yet
        try:
            stored = storage.open(entry.key)
        except MissingObject:
            continue  # deleted since it was listed
        path = folder / check_key(entry.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("wb") as out:
                while chunk := stored.stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        finally:
            stored.stream.close()
        manifest.append({"key": entry.key, "size": size, "sha256": digest.hexdigest()})
    manifest.sort(key=lambda item: item["key"])
    return manifest


# --------------------------------------------------------------------------- restore


def read_backup(path: str | os.PathLike) -> tuple[Path, dict, list[dict]]:
    """The backup folder, its backup.json and its manifest; BackupError if anything is off."""
    folder = Path(path)
    if not folder.exists():
        raise BackupError(f"no backup at {folder}")
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a backup folder")
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(
            f"{folder} is not a complete backup: {error.filename} is missing"
        ) from None
    except ValueError as error:
        raise BackupError(
            f"{folder} holds an unreadable {INFO_FILE} or manifest: {error}"
        ) from None
    if info.get("version") != FORMAT_VERSION:
        raise BackupError(f"backup format {info.get('version')!r} is not supported")
    database_file = folder / str(info.get("database_file"))
    if info.get("database_file") not in (SQLITE_FILE, PG_FILE) or not database_file.is_file():
        raise BackupError(f"{folder} is not a complete backup: the database file is missing")
    for item in manifest:
        check_key(item["key"])
    return folder, info, manifest


def check_media_copies(folder: Path, manifest: list[dict]) -> list[str]:
    """Keys whose copy in the backup is missing or differs from the manifest."""
    bad = []
    for item in manifest:
        path = folder / MEDIA_DIR / item["key"]
        if not path.is_file() or _sha256_file(path) != item["sha256"]:
            bad.append(item["key"])
    return bad


def restore_backup(app: Flask, path: str | os.PathLike, overwrite: bool = False) -> RestoreReport:
    """Restore a backup into the configured database and storage (see the module docstring).

    Raises BackupError before anything is written when the backup is incomplete or damaged,
    made from another engine, or the target is not empty and `overwrite` is false.
    """
    folder, info, manifest = read_backup(path)
    engine = _engine_name(app)
    if info.get("engine") != engine:
        raise BackupError(
            f"this backup holds a {info.get('engine')} database; the configured one is {engine}"
        )
    damaged = check_media_copies(folder, manifest)
    if damaged:
        listed = ", ".join(damaged[:10]) + (" …" if len(damaged) > 10 else "")
        raise BackupError(
            f"{len(damaged)} media files in the backup do not match its manifest "
            f"(missing or changed): {listed}; nothing was restored"
        )
    storage = get_storage(app)
    if not overwrite:
        if not _is_empty_database():
            raise BackupError(
                "the configured database is not empty; pass --yes to replace its contents"
            )
        if next(iter(storage.entries()), None) is not None:
            raise BackupError(
                f"the media storage ({storage.describe()}) is not empty; "
                "pass --yes to restore into it"
            )

    for item in manifest:
        data = (folder / MEDIA_DIR / item["key"]).read_bytes()
        storage.put(item["key"], data, _content_type(item["key"]))

    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps the old database open
    if engine == "sqlite":
        _restore_sqlite(folder / SQLITE_FILE, db.engine.url)
    else:
        _restore_postgresql(folder / PG_FILE, db.engine.url)
    db.engine.dispose()

    report = RestoreReport(objects=len(manifest), tables=len(info["counts"]["tables"]))
    for item in manifest:
        try:
            stored = storage.get(item["key"])
        except MissingObject:
            report.mismatches.append(item["key"])
            continue
        if len(stored) != item["size"] or hashlib.sha256(stored).hexdigest() != item["sha256"]:
            report.mismatches.append(item["key"])
    return report


def _restore_sqlite(source_file: Path, url: URL) -> None:
    target = _sqlite_path(url)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    try:
        problem = source.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the backup's database is damaged: {problem}")
        destination = sqlite3.connect(target, timeout=30)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _restore_postgresql(dump: Path, url: URL) -> None:
    connection, env = _libpq(url)
    _run(
        [
            find_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *connection,
            str(dump),
        ],
        env,
    )
