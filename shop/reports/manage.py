"""The alliance's figures (/quan-tri/so-lieu). Placeholder until the dashboard lands."""

from flask import redirect, url_for

from shop.access import staff_blueprint

bp = staff_blueprint("reports_manage", __name__, url_prefix="/quan-tri/so-lieu")


@bp.get("")
def dashboard():
    return redirect(url_for("console.home"))
