"""Public pages of the programmes domain."""

from shop.access import public_blueprint

bp = public_blueprint("programmes", __name__)
