"""Public pages of the catalog domain."""

from shop.access import public_blueprint

bp = public_blueprint("catalog", __name__)
