"""One access guard per audience, declared once per blueprint."""

from flask import Blueprint

PUBLIC = "public"
AUDIENCES = (PUBLIC,)


def public_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint whose every route anyone may see (the public catalogue)."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.audience = PUBLIC
    return bp
