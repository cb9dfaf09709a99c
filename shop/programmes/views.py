"""Public pages of the programmes domain: the list, one programme with its floor plan, a booth."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import abort, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from shop import clock
from shop.access import public_blueprint
from shop.catalog.queries import first_or_404
from shop.cooperatives.models import Sector
from shop.db import utcnow
from shop.extensions import db
from shop.notify.messages import VIETNAM
from shop.programmes import qr, queries
from shop.programmes.models import Booth, Programme, ProgrammeStatus
from shop.reports.tracking import count_view
from shop.text.i18n import current_lang

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

    @property
    def cx(self) -> int:
        return self.x + CELL_WIDTH // 2

    @property
    def cy(self) -> int:
        return self.y + CELL_HEIGHT // 2


@dataclass
class FloorPlan:
    columns: int
    rows: int
    cells: list[PlanCell]
    cell_width: int = CELL_WIDTH
    cell_height: int = CELL_HEIGHT
    #: The programme's zones in plan order; a booth's colour is its zone's.
    zones: list[str] = field(default_factory=list)
    #: The programme's own grid; cells beyond it only hold booths placed automatically.
    grid_columns: int = 0
    grid_rows: int = 0

    @property
    def width(self) -> int:
        return GAP + self.columns * (CELL_WIDTH + GAP)

    @property
    def height(self) -> int:
        return GAP + self.rows * (CELL_HEIGHT + GAP)

    def zone_index(self, booth: Booth | None) -> int | None:
        """The position of the booth's zone in the programme's zones (its colour), or None."""
        if booth is None or not booth.zone or booth.zone not in self.zones:
            return None
        return self.zones.index(booth.zone)

    def in_grid(self, cell: PlanCell) -> bool:
        return cell.column <= self.grid_columns and cell.row <= self.grid_rows

    def zones_used(self) -> list[tuple[int, str]]:
        """(index, name) of the zones, for the legend."""
        return list(enumerate(self.zones))


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
    return FloorPlan(
        columns,
        rows,
        cells,
        zones=list(programme.zones or []),
        grid_columns=programme.plan_columns or 1,
        grid_rows=programme.plan_rows or 1,
    )


@bp.get("/chuong-trinh")
def programmes():
    today = clock.today()
    groups = {"upcoming": [], "ongoing": [], "past": []}
    for programme in db.session.scalars(queries.public_programmes()):
        # An archived programme is history whatever its dates say.
        timing = "past" if programme.status == ProgrammeStatus.ARCHIVED else None
        groups[timing or programme.timing(today)].append(programme)
    groups["upcoming"].reverse()  # the soonest first
    return render_template("programmes/list.html", groups=groups)


@bp.get("/chuong-trinh/<slug>")
def programme(slug):
    programme = first_or_404(queries.programme_page(slug), slug)
    sectors = {}
    if programme.stats and programme.stats.get("by_sector"):
        sectors = {s.slug: s for s in db.session.scalars(select(Sector))}
    shown = [b for b in programme.booths if b.cooperative and b.cooperative.is_public]
    # The booth list filtered by sector (?linh_vuc=slug): the choices are the sectors at booths.
    booth_sectors = sorted(
        {b.cooperative.sector.slug: b.cooperative.sector for b in shown}.values(),
        key=lambda s: (s.sort_order, s.id),
    )
    chosen = request.args.get("linh_vuc", "")
    if chosen not in {s.slug for s in booth_sectors}:
        chosen = ""
    listed = programme.booths
    if chosen:
        listed = [b for b in shown if b.cooperative.sector.slug == chosen]
    return render_template(
        "programmes/programme.html",
        programme=programme,
        plan=floor_plan(programme, programme.booths),
        sectors=sectors,
        booth_sectors=booth_sectors,
        chosen_sector=chosen,
        listed=listed,
    )


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>")
def booth(slug, number):
    if number > MAX_BOOTH_NUMBER:  # beyond what the database's integers hold
        abort(404)
    booth = first_or_404(queries.booth_page(slug, number), slug)
    if booth.cooperative is None or not booth.cooperative.is_public:
        abort(404)
    if qr.is_scan():  # counted as a scan, then the clean address (shop/programmes/qr.py)
        return qr.booth_scanned(booth)
    count_view("booth_view", booth.id)
    products = db.session.scalars(queries.booth_products(booth)).all()
    live, upcoming = slot_now_and_next(booth.slots, utcnow())
    return render_template(
        "programmes/booth.html",
        booth=booth,
        programme=booth.programme,
        products=products,
        live_slot=live,
        next_slot=upcoming,
    )


def slot_now_and_next(slots, now):
    """(the slot running at `now`, else None; the next one to start, else None)."""
    live = upcoming = None
    for slot in slots:
        starts, ends = aware(slot.starts_at), aware(slot.ends_at)
        if starts <= now < ends and live is None:
            live = slot
        elif starts > now and (upcoming is None or starts < aware(upcoming.starts_at)):
            upcoming = slot
    return live, upcoming


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.app_template_global("slot_time")
def slot_time(slot) -> str:
    """'19/03/2027 09:00 – 10:30' in Vietnam's time (the end's day when it differs)."""
    starts = aware(slot.starts_at).astimezone(VIETNAM)
    ends = aware(slot.ends_at).astimezone(VIETNAM)
    end_format = "%H:%M" if ends.date() == starts.date() else "%d/%m/%Y %H:%M"
    return f"{starts:%d/%m/%Y %H:%M} – {ends.strftime(end_format)}"


@bp.app_template_global("slot_title")
def slot_title(slot) -> str:
    """What happens in the slot, in the page's language; a livestream when staff left it empty."""
    if current_lang() == "en" and slot.title_en:
        return slot.title_en
    return slot.title_vi or gettext("Phát trực tiếp")
