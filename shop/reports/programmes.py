"""A programme's figures in the console (/quan-tri/chuong-trinh/<id>/so-lieu), CSV and XLSX."""

from flask import abort, render_template, request, url_for
from flask_babel import force_locale

from shop.access import staff_blueprint
from shop.extensions import db
from shop.programmes.models import PUBLIC_PROGRAMME_STATUSES, Programme
from shop.reports import exports
from shop.reports.programme_figures import (
    TABLES,
    ProgrammeFigures,
    parse_programme_period,
    period_options,
)

bp = staff_blueprint("programme_figures", __name__, url_prefix="/quan-tri/chuong-trinh")


def _programme_or_404(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        abort(404)
    return programme


@bp.get("/<int:id>/so-lieu")
def figures(id):
    programme = _programme_or_404(id)
    period, refused = parse_programme_period(programme, request.args.get("period"))
    found = ProgrammeFigures(programme, period)
    tables = {
        "gian-hang": found.booths(with_links=True),
        "linh-vuc": found.sectors(),
    }
    args = {"period": period.value} if request.args.get("period") and not refused else {}
    downloads = {
        key: {
            "csv": url_for(".table_csv", id=programme.id, table=key, **args),
            "xlsx": url_for(".table_xlsx", id=programme.id, table=key, **args),
        }
        for key in tables
    }
    sector_table = tables["linh-vuc"]
    return render_template(
        "reports/programme.html",
        programme=programme,
        public=programme.status in PUBLIC_PROGRAMME_STATUSES,
        tables=tables,
        downloads=downloads,
        summary=found.summary(),
        coops_by_sector=[(row[0], row[1], None) for row in sector_table.rows if row[1]],
        period=period,
        period_options=period_options(programme),
        refused=request.args.get("period", "")[:20] if refused else None,
    )


def _export_table(programme_id: int, key: str):
    """The table `key` of the programme, built in Vietnamese (the exports' language), or 404."""
    programme = _programme_or_404(programme_id)
    if key not in TABLES:
        abort(404)
    period, _refused = parse_programme_period(programme, request.args.get("period"))
    with force_locale("vi"):
        table = ProgrammeFigures(programme, period).table(key)
    return table, f"so-lieu-{programme.slug}-{key}-{period.value}"


@bp.get("/<int:id>/so-lieu/<table>.csv")
def table_csv(id, table):
    found, name = _export_table(id, table)
    return exports.csv_response(f"{name}.csv", found.columns, found.export_rows())


@bp.get("/<int:id>/so-lieu/<table>.xlsx")
def table_xlsx(id, table):
    found, name = _export_table(id, table)
    return exports.xlsx_response(f"{name}.xlsx", found.title, found.columns, found.export_rows())
