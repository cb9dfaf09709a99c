"""Public pages of the programmes domain: the list, one programme with its floor plan, a booth."""

from dataclasses import dataclass

from flask import abort, render_template
from sqlalchemy import select

from shop import clock
from shop.access import public_blueprint
from shop.catalog.queries import first_or_404
from shop.cooperatives.models import Sector
from shop.extensions import db
from shop.programmes import queries
from shop.programmes.models import Booth, Programme

bp = public_blueprint("programmes", __name__)

#: Size of one booth cell on the SVG floor plan, in user units.
CELL_WIDTH, CELL_HEIGHT, GAP = 96, 64, 8
MAX_BOOTH_NUMBER = 2**31 - 1


@dataclass
class PlanCell:
    column: int
    row: int
    booth: Booth | None = None

    @property
    def x(self) -> int:
        return GAP + (self.column - 1) * (CELL_WIDTH + GAP)

    @property
    def y(self) -> int:
        return GAP + (self.row - 1) * (CELL_HEIGHT + GAP)


@dataclass
class FloorPlan:
    columns: int
    rows: int
    cells: list[PlanCell]
    cell_width: int = CELL_WIDTH
    cell_height: int = CELL_HEIGHT

    @property
    def width(self) -> int:
        return GAP + self.columns * (CELL_WIDTH + GAP)

    @property
    def height(self) -> int:
        return GAP + self.rows * (CELL_HEIGHT + GAP)


def floor_plan(programme: Programme, booths: list[Booth]) -> FloorPlan:
    """Place booths on the grid: at their own cell when set, else row-major by number."""
    columns = max(programme.plan_columns or 1, 1)
    taken: dict[tuple[int, int], Booth] = {}
    unplaced = []
    for booth in sorted(booths, key=lambda b: b.number):
        cell = (booth.plan_column, booth.plan_row)
        if booth.plan_column and booth.plan_row and cell not in taken:
            taken[cell] = booth
        else:
            unplaced.append(booth)
    index = 0
    for booth in unplaced:
        while (index % columns + 1, index // columns + 1) in taken:
            index += 1
        taken[(index % columns + 1, index // columns + 1)] = booth
        index += 1
    columns = max([columns] + [c for c, _ in taken])
    rows = max([programme.plan_rows or 1] + [r for _, r in taken])
    cells = [
        PlanCell(column, row, taken.get((column, row)))
        for row in range(1, rows + 1)
        for column in range(1, columns + 1)
    ]
    return FloorPlan(columns, rows, cells)


@bp.get("/chuong-trinh")
def programmes():
    today = clock.today()
    groups = {"upcoming": [], "ongoing": [], "past": []}
    for programme in db.session.scalars(queries.public_programmes()):
        groups[programme.timing(today)].append(programme)
    groups["upcoming"].reverse()  # the soonest first
    return render_template("programmes/list.html", groups=groups)


@bp.get("/chuong-trinh/<slug>")
def programme(slug):
    programme = first_or_404(queries.programme_page(slug), slug)
    sectors = {}
    if programme.stats and programme.stats.get("by_sector"):
        sectors = {s.slug: s for s in db.session.scalars(select(Sector))}
    return render_template(
        "programmes/programme.html",
        programme=programme,
        plan=floor_plan(programme, programme.booths),
        sectors=sectors,
    )


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>")
def booth(slug, number):
    if number > MAX_BOOTH_NUMBER:  # beyond what the database's integers hold
        abort(404)
    booth = first_or_404(queries.booth_page(slug, number), slug)
    if booth.cooperative is None or not booth.cooperative.is_public:
        abort(404)
    products = db.session.scalars(queries.booth_products(booth)).all()
    return render_template(
        "programmes/booth.html", booth=booth, programme=booth.programme, products=products
    )
