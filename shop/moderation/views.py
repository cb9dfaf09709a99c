"""Buyers report a product ("Báo cáo sản phẩm"). Placeholder."""

from shop.access import public_blueprint

bp = public_blueprint("moderation", __name__)
