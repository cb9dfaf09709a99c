"""Unique slugs for any model with a `slug` column."""

from sqlalchemy import select

from shop.extensions import db
from shop.text.folding import slugify


def unique_slug(model, name: str, *, exclude_id: int | None = None, max_length=150) -> str:
    """A slug from `name`, with -2, -3… when taken ("HTX Hoa Sen", "HTX Hòa Sen")."""
    base = slugify(name, max_length=max_length)
    stmt = select(model.slug).where(
        (model.slug == base) | model.slug.startswith(base + "-", autoescape=True)
    )
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    taken = set(db.session.scalars(stmt))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
