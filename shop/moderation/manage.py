"""Staff handling of buyers' product reports (/quan-tri/bao-cao-san-pham). Placeholder."""

from flask import abort

from shop.access import staff_blueprint

bp = staff_blueprint("moderation_manage", __name__, url_prefix="/quan-tri/bao-cao-san-pham")


@bp.get("/<int:id>")
def case(id):
    abort(404)
