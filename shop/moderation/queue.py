"""The staff's single queue (/quan-tri/hang-cho). Placeholder until the queue lands."""

from flask import redirect, url_for

from shop.access import staff_blueprint

bp = staff_blueprint("moderation_queue", __name__, url_prefix="/quan-tri/hang-cho")


@bp.get("")
def queue():
    return redirect(url_for("product_manage.queue"))
