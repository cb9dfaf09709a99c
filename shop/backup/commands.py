"""`flask backup create|restore`: the database and the media objects, to and from one folder."""

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from config import INSTANCE_DIR
from shop.backup.services import BackupError, create_backup, restore_backup

backup_cli = AppGroup("backup", help="Back up and restore the database and the media.")


def default_output() -> str:
    """BACKUP_DIR if configured, else backups/ in the instance folder (beside the database)."""
    return current_app.config.get("BACKUP_DIR") or os.path.join(INSTANCE_DIR, "backups")


@backup_cli.command("create")
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to write the backup folder into (default: instance/backups).",
)
def create(output: str | None) -> None:
    """Write one timestamped backup folder: the database, the media and their manifest."""
    app = current_app._get_current_object()
    try:
        folder = create_backup(app, output or default_output())
    except BackupError as error:
        click.echo(f"Backup failed: {error}", err=True)
        sys.exit(1)
    click.echo(f"Backup written to {folder}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path())
@click.option("--yes", is_flag=True, help="Replace a database or storage that is not empty.")
def restore(path: str, yes: bool) -> None:
    """Restore a backup folder into the configured database and media storage."""
    app = current_app._get_current_object()
    try:
        report = restore_backup(app, path, overwrite=yes)
    except BackupError as error:
        click.echo(f"Restore refused: {error}", err=True)
        sys.exit(1)
    click.echo(f"Restored {report.tables} tables and {report.objects} media objects from {path}.")
    if report.mismatches:
        click.echo(
            f"{len(report.mismatches)} media objects do not match the manifest after restore:",
            err=True,
        )
        for key in report.mismatches:
            click.echo(f"  {key}", err=True)
        sys.exit(1)
    click.echo("Every media object matches its sha256 in the manifest.")
