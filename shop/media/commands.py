"""`flask media rebuild|gc`: regenerate derivatives from masters; delete files no row uses.

Besides images, the storage keeps the ZIPs of photos uploaded with a bulk import
(``imports/<batch id>-<random>.zip``, shop.bulk.products) until their batch is finished.
"""

import hashlib
import sys
from datetime import UTC, datetime, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from shop.extensions import db
from shop.media.images import make_derivatives, open_master
from shop.media.models import StoredImage
from shop.media.services import (
    DERIVATIVE_NAMES,
    MASTER_NAMES,
    parse_key,
    storage_key,
    write_renditions,
)
from shop.media.storage import MissingObject, check_key, get_storage

media_cli = AppGroup("media", help="Maintain stored images.")

#: Storage prefix of the ZIPs of photos of bulk imports.
IMPORTS_PREFIX = "imports/"
#: A batch still in preview or running keeps its ZIP this long after it was uploaded.
IMPORT_ARCHIVE_DAYS = 7
_ACTIVE_BATCH_STATUSES = ("preview", "running")


@media_cli.command("rebuild")
@click.option("--missing-only", is_flag=True, help="Only make derivatives that are not in storage.")
def rebuild(missing_only: bool) -> None:
    """Regenerate every image's WebP derivatives from its master."""
    storage = get_storage()
    rows = db.session.execute(
        select(StoredImage.sha256, StoredImage.mime_type).order_by(StoredImage.id)
    ).all()
    problems: list[str] = []
    rebuilt = skipped = 0
    with click.progressbar(rows, label="Rebuilding derivatives", show_pos=True) as bar:
        for sha256, mime_type in bar:
            if missing_only and all(
                storage.exists(storage_key(sha256, name)) for name in DERIVATIVE_NAMES
            ):
                skipped += 1
                continue
            try:
                data = storage.get(storage_key(sha256, MASTER_NAMES[mime_type]))
            except MissingObject:
                problems.append(f"{sha256}: master is missing")
                continue
            if hashlib.sha256(data).hexdigest() != sha256:
                problems.append(f"{sha256}: master does not match its hash")
                continue
            write_renditions(storage, sha256, make_derivatives(open_master(data)))
            rebuilt += 1
    click.echo(f"{rebuilt} images rebuilt, {skipped} already complete, {len(problems)} problems.")
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    if problems:
        sys.exit(1)


def import_archives() -> tuple[set[str], set[str]]:
    """(keys to keep, keys to delete) among the ZIPs of bulk imports, from their batches.

    Kept: the ZIP of a batch still in preview or running, uploaded less than
    IMPORT_ARCHIVE_DAYS ago. Deleted whatever their age: those of batches done, failed or
    cancelled, or uploaded longer ago. A ZIP no batch names is neither: the batch row may not
    be committed yet, so the usual `--min-age` rule decides.
    """
    # The table is read by name: media sits below the bulk imports and never imports them.
    table = db.metadata.tables.get("import_batch")
    if table is None:
        return set(), set()
    cutoff = datetime.now(UTC) - timedelta(days=IMPORT_ARCHIVE_DAYS)
    keep: set[str] = set()
    drop: set[str] = set()
    rows = db.session.execute(
        select(table.c.archive_key, table.c.status, table.c.created_at).where(
            table.c.archive_key.is_not(None)
        )
    )
    for key, status, created_at in rows:
        if created_at is not None and created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)  # SQLite drops the zone
        recent = created_at is None or created_at >= cutoff
        (keep if status in _ACTIVE_BATCH_STATUSES and recent else drop).add(key)
    return keep, drop


@media_cli.command("gc")
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; delete nothing.")
@click.option(
    "--min-age",
    default=3600,
    show_default=True,
    type=click.IntRange(min=0),
    help="Spare files younger than this many seconds (uploads not yet committed).",
)
def gc(dry_run: bool, min_age: int) -> None:
    """Delete stored files that no StoredImage row uses, and the ZIPs of finished imports."""
    storage = get_storage()
    wanted: dict[str, set[str]] = {}
    for sha256, mime_type in db.session.execute(select(StoredImage.sha256, StoredImage.mime_type)):
        wanted[sha256] = {MASTER_NAMES[mime_type], *DERIVATIVE_NAMES}
    imports_kept, imports_finished = import_archives()
    cutoff = datetime.now(UTC) - timedelta(seconds=min_age)
    kept = young = deleted = freed = 0
    for entry in storage.entries():
        parsed = parse_key(entry.key)
        if parsed is not None and parsed[1] in wanted.get(parsed[0], ()):
            kept += 1
            continue
        if entry.key in imports_kept:
            kept += 1
            continue
        try:
            check_key(entry.key)
        except ValueError:  # a name we never write (a stray hidden file): not ours to delete
            click.echo(f"  not a media key, left alone: {entry.key}", err=True)
            continue
        if entry.modified > cutoff and entry.key not in imports_finished:
            young += 1
            continue
        if not dry_run:
            storage.delete(entry.key)
        deleted += 1
        freed += entry.size
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{storage.describe()}: {kept} files in use, {verb} {deleted} unused files "
        f"({freed / 1024 / 1024:.1f} MiB), spared {young} unused files younger than {min_age} s."
    )
