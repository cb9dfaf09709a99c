"""`flask data import|export|demo`: move whole datasets in and out, all or nothing."""

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from shop.dataset.exporter import export_data
from shop.dataset.importer import ImportFailed, import_data, read_file
from shop.extensions import db

data_cli = AppGroup("data", help="Import and export data in the Chợ HTX format.")

DEMO_FILE = Path(__file__).with_name("demo.json")


def _report_line(report) -> str:
    parts = []
    for label in sorted(set(report.created) | set(report.updated) | set(report.unchanged)):
        parts.append(
            f"{label}: {report.created[label]} new, {report.updated[label]} updated, "
            f"{report.unchanged[label]} unchanged"
        )
    return "\n".join(parts) or "nothing to import"


def run_import(path: str) -> None:
    try:
        data = read_file(path)
        report = import_data(data, db.session)
    except ImportFailed as exc:
        db.session.rollback()
        click.echo(f"Import failed, nothing was changed ({len(exc.errors)} problems):", err=True)
        for where, reason in exc.errors:
            click.echo(f"  {where}: {reason}", err=True)
        sys.exit(1)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    click.echo(_report_line(report))


@data_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def import_command(file):
    """Import FILE (JSON in the import format); upsert by slug, all or nothing."""
    run_import(file)


@data_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def export_command(file):
    """Export the whole catalogue to FILE in the import format."""
    payload = export_data(db.session)
    text = json.dumps(payload, ensure_ascii=False, indent=1)
    if file == "-":
        click.echo(text)
    else:
        Path(file).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {file}")


@data_cli.command("demo")
def demo_command():
    """Load the project's demo data when the database holds no cooperatives yet."""
    from shop.cooperatives.models import Cooperative

    if db.session.scalar(select(func.count()).select_from(Cooperative)):
        click.echo("database already has data; demo not loaded")
        return
    run_import(str(DEMO_FILE))


@data_cli.command("demo-activity")
def demo_activity_command():
    """Add made-up product views and inquiries to a demo database that has none yet."""
    from shop import clock
    from shop.dataset.activity import has_activity, seed_activity

    if has_activity(db.session):
        click.echo("database already has views or inquiries; demo activity not added")
        return
    written = seed_activity(db.session, clock.today())
    db.session.commit()
    click.echo(
        f"demo activity: {written['views']} daily view counts, {written['inquiries']} inquiries"
    )
