"""Public pages of the cooperatives domain."""

from shop.access import public_blueprint

bp = public_blueprint("cooperatives", __name__)
