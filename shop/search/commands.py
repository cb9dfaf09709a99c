"""`flask search reindex`: rebuild the product search index from the database."""

import click
from flask.cli import AppGroup

from shop.extensions import db
from shop.search.index import rebuild

search_cli = AppGroup("search", help="Maintain the product search index.")


@search_cli.command("reindex")
def reindex_command():
    """Empty the search index and index every public product again."""
    count = rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"indexed {count} products")
