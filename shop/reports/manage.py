"""The alliance's figures (/quan-tri/so-lieu): tables, charts, CSV and XLSX of each table."""

from flask import abort, render_template, request, url_for
from flask_babel import force_locale

from shop import clock
from shop.access import staff_blueprint
from shop.reports import exports
from shop.reports.figures import Figures, format_hours, parse_period, period_options

bp = staff_blueprint("reports_manage", __name__, url_prefix="/quan-tri/so-lieu")

#: The tables of the page, in the order they are shown.
PAGE_TABLES = (
    "hop-tac-xa",
    "tinh-trang-htx",
    "san-pham",
    "thoi-gian-duyet",
    "yeu-cau-bao-gia",
    "xem-nhieu",
)


def _charts(tables: dict, sectors, period) -> dict:
    """The numbers of the charts, taken from the tables they stand beside."""
    colours = [f"sector-{sector.sort_order % 8}" for sector in sectors]
    coops, products = tables["hop-tac-xa"], tables["san-pham"]
    inquiries, viewed = tables["yeu-cau-bao-gia"], tables["xem-nhieu"]
    return {
        "coops_by_sector": [(r[0], r[-1], c) for r, c in zip(coops.rows, colours, strict=True)],
        "coops_by_form": [
            (coops.columns[i], coops.totals[i], None) for i in range(1, len(coops.columns) - 1)
        ],
        "products_by_status": [
            (products.columns[i], products.totals[i], None)
            for i in range(1, len(products.columns) - 1)
        ],
        "products_by_sector": [
            (r[0], r[-1], c) for r, c in zip(products.rows, colours, strict=True)
        ],
        "inquiry_months": [str(month) for _year, month in period.months],
        "inquiry_titles": [r[0] for r in inquiries.rows],
        "inquiry_series": [
            (sector.t("name"), colours[j], [r[1 + j] for r in inquiries.rows])
            for j, sector in enumerate(sectors)
        ],
        "inquiries_total": inquiries.totals[-1],
        "most_viewed": [(r[1], r[3], None) for r in viewed.rows],
    }


def _period_args(period, refused: bool) -> dict:
    """The period for links: only when the visitor chose a valid one."""
    raw = request.args.get("period")
    return {"period": period.value} if raw and not refused else {}


@bp.get("")
def dashboard():
    today = clock.today()
    period, refused = parse_period(request.args.get("period"), today)
    figures = Figures(today, period)
    tables = {
        key: figures.table(key, **({"with_links": True} if key == "xem-nhieu" else {}))
        for key in PAGE_TABLES
    }
    args = _period_args(period, refused)
    downloads = {
        key: {
            "csv": url_for(".table_csv", table=key, **(args if table.by_period else {})),
            "xlsx": url_for(".table_xlsx", table=key, **(args if table.by_period else {})),
        }
        for key, table in tables.items()
    }
    return render_template(
        "reports/dashboard.html",
        tables=tables,
        downloads=downloads,
        summary=figures.cooperative_summary(),
        charts=_charts(tables, figures.sectors, period),
        period=period,
        period_options=period_options(today, period),
        refused=request.args.get("period", "")[:20] if refused else None,
        format_hours=format_hours,
    )


def _export_table(key: str):
    """The table `key` built in Vietnamese (the exports' language), or 404."""
    today = clock.today()
    period, _refused = parse_period(request.args.get("period"), today)
    with force_locale("vi"):
        table = Figures(today, period).table(key) if key in PAGE_TABLES else None
        if table is None:
            abort(404)
        suffix = f"-{period.value}" if table.by_period else ""
        return table, f"so-lieu-{key}{suffix}"


@bp.get("/<table>.csv")
def table_csv(table):
    found, name = _export_table(table)
    return exports.csv_response(f"{name}.csv", found.columns, found.export_rows())


@bp.get("/<table>.xlsx")
def table_xlsx(table):
    found, name = _export_table(table)
    return exports.xlsx_response(f"{name}.xlsx", found.title, found.columns, found.export_rows())
