"""Writes of programmes and booths: what staff curate in the console.

Each function takes the acting user, checks the rules (shop.programmes.rules) before it
changes anything, flushes and appends an audit entry; the view commits. A refused request
raises ProgrammeError and leaves the database as it was. Races that a check cannot see (two
staff giving the same booth number or placing the same cooperative at once) are settled by
the unique constraints, inside a savepoint, and answered with ProgrammeError 409.

A programme's status moves along

    draft → open (booth applications) → published → closed → archived

with these steps back: open ⇄ published (reopen or stop applications), closed → published,
archived → closed, and open/published → draft only while no cooperative sits at a booth (a
cooperative that was placed, and buyers who followed links, must not lose the page without
staff first unassigning it). Opening for applications needs a registration deadline (or a
start date) that has not passed. Booths of an archived programme are read-only.

Unassigning a cooperative empties its booth: featured products, livestream link and time
slots go with it (they were the cooperative's).
"""

from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from shop import clock
from shop.audit.services import record
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.db import utcnow
from shop.extensions import db
from shop.programmes import rules
from shop.programmes.models import Booth, BoothProduct, BoothSlot, Programme, ProgrammeStatus
from shop.programmes.rules import ProgrammeError
from shop.slugs import unique_slug

S = ProgrammeStatus

#: Where each status may go next (see the module's docstring).
TRANSITIONS: dict[ProgrammeStatus, tuple[ProgrammeStatus, ...]] = {
    S.DRAFT: (S.OPEN, S.PUBLISHED),
    S.OPEN: (S.PUBLISHED, S.CLOSED, S.DRAFT),
    S.PUBLISHED: (S.OPEN, S.CLOSED, S.DRAFT),
    S.CLOSED: (S.PUBLISHED, S.ARCHIVED),
    S.ARCHIVED: (S.CLOSED,),
}

#: The programme's fields staff edit (values dicts use these keys).
PROGRAMME_FIELDS = (
    "title_vi",
    "title_en",
    "organizer_vi",
    "organizer_en",
    "start_date",
    "end_date",
    "registration_deadline",
    "venue_vi",
    "venue_en",
    "description_vi",
    "description_en",
    "plan_columns",
    "plan_rows",
    "zones",
)
MAX_TITLE = 255
MAX_SLOT_TITLE = 200


# --------------------------------------------------------------------------- helpers


def _json(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    return getattr(value, "value", value)


def _snapshot(obj, fields) -> dict:
    return {name: _json(getattr(obj, name)) for name in fields}


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def programme_of(booth: Booth) -> Programme:
    return db.session.get(Programme, booth.programme_id)


def _check_editable(programme: Programme) -> None:
    if programme.status == S.ARCHIVED:
        raise ProgrammeError(
            _l("Chương trình đã lưu trữ; hãy chuyển về “Đã kết thúc” trước khi sửa."), status=409
        )


def _featured_ids(booth: Booth) -> list[int]:
    return list(
        db.session.scalars(
            select(BoothProduct.product_id)
            .where(BoothProduct.booth_id == booth.id)
            .order_by(BoothProduct.position, BoothProduct.id)
        )
    )


def _in_savepoint(change, message) -> None:
    """Make `change()` and flush it inside a savepoint; a unique constraint that says no
    becomes a 409, and the change is undone (the rest of the transaction stays usable)."""
    try:
        with db.session.begin_nested():
            change()
            db.session.flush()
    except IntegrityError:
        raise ProgrammeError(message, status=409) from None


def has_assigned_booths(programme: Programme) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Booth)
            .where(Booth.programme_id == programme.id, Booth.cooperative_id.is_not(None))
        )
    )


# --------------------------------------------------------------------------- programmes


def _clean_programme(values: dict) -> dict:
    """The programme's values checked against the rules; raises ProgrammeError."""
    values = {name: values.get(name) for name in PROGRAMME_FIELDS}
    title = (values["title_vi"] or "").strip()
    if not title:
        raise ProgrammeError(_l("Hãy nhập tên chương trình."))
    if len(title) > MAX_TITLE:
        raise ProgrammeError(_l("Tên chương trình dài tối đa %(max)d ký tự.", max=MAX_TITLE))
    values["title_vi"] = title
    if values["start_date"] is None:
        raise ProgrammeError(_l("Hãy nhập ngày bắt đầu."))
    values["end_date"] = values["end_date"] or values["start_date"]
    rules.check_dates(values["start_date"], values["end_date"], values["registration_deadline"])
    for name, default in (("plan_columns", 6), ("plan_rows", 2)):
        values[name] = default if values[name] is None else values[name]
    rules.check_plan_size(values["plan_columns"], values["plan_rows"])
    zones = [zone.strip() for zone in values["zones"] or []]
    rules.check_zones(zones)
    values["zones"] = zones or None
    for name in ("organizer_vi", "venue_vi", "description_vi"):
        values[name] = values[name] or ""
    for name in ("title_en", "organizer_en", "venue_en", "description_en"):
        values[name] = values[name] or None
    return values


def create_programme(actor, values: dict) -> Programme:
    """A new programme, as a draft; its address comes from its Vietnamese title."""
    values = _clean_programme(values)
    programme = Programme(**values, slug=unique_slug(Programme, values["title_vi"]), status=S.DRAFT)
    db.session.add(programme)
    db.session.flush()
    record(
        actor,
        "programme.created",
        programme,
        after={**_snapshot(programme, PROGRAMME_FIELDS), "slug": programme.slug},
    )
    return programme


def _booth_numbers(stmt) -> str:
    return ", ".join(str(n) for n in db.session.scalars(stmt))


def update_programme(actor, programme: Programme, values: dict) -> list[str]:
    """Save the programme's fields; returns the names of those that changed."""
    _check_editable(programme)
    values = _clean_programme(values)
    outside = _booth_numbers(
        select(Booth.number)
        .where(
            Booth.programme_id == programme.id,
            (Booth.plan_column > values["plan_columns"]) | (Booth.plan_row > values["plan_rows"]),
        )
        .order_by(Booth.number)
    )
    if outside:
        raise ProgrammeError(
            _l(
                "Gian hàng số %(numbers)s nằm ngoài sơ đồ mới; hãy dời hoặc xóa trước khi thu "
                "nhỏ sơ đồ.",
                numbers=outside,
            )
        )
    kept = set(values["zones"] or [])
    for zone in programme.zones or []:
        if zone in kept:
            continue
        numbers = _booth_numbers(
            select(Booth.number)
            .where(Booth.programme_id == programme.id, Booth.zone == zone)
            .order_by(Booth.number)
        )
        if numbers:
            raise ProgrammeError(
                _l(
                    "Khu “%(zone)s” đang có gian hàng số %(numbers)s; hãy chuyển các gian hàng "
                    "sang khu khác trước khi bỏ khu này.",
                    zone=zone,
                    numbers=numbers,
                )
            )
    slots = db.session.scalars(
        select(BoothSlot).join(Booth).where(Booth.programme_id == programme.id)
    ).all()
    trial = Programme(start_date=values["start_date"], end_date=values["end_date"])
    for slot in slots:
        try:
            rules.check_slot(trial, aware(slot.starts_at), aware(slot.ends_at))
        except ProgrammeError:
            raise ProgrammeError(
                _l(
                    "Có khung giờ của gian hàng nằm ngoài thời gian mới; hãy xóa hoặc đổi "
                    "khung giờ trước khi đổi ngày."
                )
            ) from None
    changes = {k: v for k, v in values.items() if getattr(programme, k) != v}
    if not changes:
        return []
    before = _snapshot(programme, changes)
    for name, value in changes.items():
        setattr(programme, name, value)
    if "title_vi" in changes and programme.status == S.DRAFT:
        # Never public yet, so no link to break: the address follows the corrected title.
        programme.slug = unique_slug(Programme, programme.title_vi, exclude_id=programme.id)
    db.session.flush()
    record(
        actor,
        "programme.updated",
        programme,
        before=before,
        after=_snapshot(programme, changes),
    )
    return list(changes)


def set_status(actor, programme: Programme, status: ProgrammeStatus) -> None:
    """Move the programme to `status` along TRANSITIONS; a concurrent change loses with 409."""
    status = ProgrammeStatus(status)
    current = programme.status
    if status == current:
        return
    if status not in TRANSITIONS[current]:
        raise ProgrammeError(
            _l("Không thể chuyển chương trình từ trạng thái này sang trạng thái đã chọn."),
            status=409,
        )
    if status == S.DRAFT and has_assigned_booths(programme):
        raise ProgrammeError(
            _l(
                "Đã có hợp tác xã được xếp gian hàng nên không thể chuyển về bản nháp; hãy bỏ "
                "xếp các gian hàng trước."
            ),
            status=409,
        )
    if status == S.OPEN:
        deadline = programme.application_deadline
        if clock.today() > deadline:
            raise ProgrammeError(
                _l(
                    "Hạn đăng ký (%(day)s) đã qua; hãy sửa hạn đăng ký trước khi mở nhận đăng ký.",
                    day=deadline.strftime("%d/%m/%Y"),
                ),
                status=409,
            )
    result = db.session.execute(
        update(Programme)
        .where(Programme.id == programme.id, Programme.status == current)
        .values(status=status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(programme)
        raise ProgrammeError(
            _l("Trạng thái chương trình vừa được người khác đổi; hãy xem lại rồi thử lại."),
            status=409,
        )
    set_committed_value(programme, "status", status)
    record(
        actor,
        "programme.status_changed",
        programme,
        before={"status": current.value},
        after={"status": status.value},
    )


# --------------------------------------------------------------------------- booths


def _check_booth_place(
    programme: Programme,
    number: int,
    zone: str | None,
    column: int | None,
    row: int | None,
    booth_id: int | None = None,
) -> None:
    rules.check_booth_number(number)
    rules.check_zone(programme, zone)
    rules.check_plan_cell(programme, column, row)
    others = select(Booth).where(Booth.programme_id == programme.id)
    if booth_id is not None:
        others = others.where(Booth.id != booth_id)
    if db.session.scalar(others.where(Booth.number == number).limit(1)) is not None:
        raise ProgrammeError(
            _l("Gian hàng số %(number)d đã có trong chương trình.", number=number), status=409
        )
    if column is not None:
        taken = db.session.scalar(
            others.where(Booth.plan_column == column, Booth.plan_row == row).limit(1)
        )
        if taken is not None:
            raise ProgrammeError(
                _l(
                    "Ô cột %(column)d, hàng %(row)d đã có gian hàng số %(number)d.",
                    column=column,
                    row=row,
                    number=taken.number,
                ),
                status=409,
            )


def create_booth(
    programme: Programme,
    number: int,
    zone: str | None,
    column: int | None,
    row: int | None,
    actor,
) -> Booth:
    """An empty booth with its printed number, zone and (optional) cell on the plan."""
    _check_editable(programme)
    zone = zone or None
    _check_booth_place(programme, number, zone, column, row)
    booth = Booth(
        programme_id=programme.id, number=number, zone=zone, plan_column=column, plan_row=row
    )
    _in_savepoint(
        lambda: db.session.add(booth),
        _l("Gian hàng số %(number)d đã có trong chương trình.", number=number),
    )
    record(
        actor,
        "booth.created",
        booth,
        after=_snapshot(booth, ("programme_id", "number", "zone", "plan_column", "plan_row")),
    )
    return booth


def update_booth(
    booth: Booth,
    number: int,
    zone: str | None,
    column: int | None,
    row: int | None,
    actor,
) -> None:
    """Renumber the booth, move it to another zone or cell."""
    programme = programme_of(booth)
    _check_editable(programme)
    zone = zone or None
    _check_booth_place(programme, number, zone, column, row, booth_id=booth.id)
    fields = ("number", "zone", "plan_column", "plan_row")
    before = _snapshot(booth, fields)
    after = {"number": number, "zone": zone, "plan_column": column, "plan_row": row}
    if after == before:
        return

    def move():
        booth.number, booth.zone, booth.plan_column, booth.plan_row = number, zone, column, row

    _in_savepoint(move, _l("Gian hàng số %(number)d đã có trong chương trình.", number=number))
    record(actor, "booth.updated", booth, before=before, after=after)


def delete_booth(booth: Booth, actor) -> None:
    """Remove an empty booth (a booth with a cooperative is unassigned first)."""
    programme = programme_of(booth)
    _check_editable(programme)
    if booth.cooperative_id is not None:
        raise ProgrammeError(
            _l(
                "Gian hàng số %(number)d đang có hợp tác xã; hãy bỏ xếp hợp tác xã trước khi "
                "xóa gian hàng.",
                number=booth.number,
            ),
            status=409,
        )
    before = _snapshot(booth, ("id", "number", "zone", "plan_column", "plan_row"))
    db.session.delete(booth)
    db.session.flush()
    record(actor, "programme.booth_deleted", programme, before=before)


def _replace_featured(booth: Booth, products: list[Product]) -> None:
    db.session.execute(delete(BoothProduct).where(BoothProduct.booth_id == booth.id))
    db.session.flush()
    for position, product in enumerate(products):
        db.session.add(BoothProduct(booth_id=booth.id, product_id=product.id, position=position))
    db.session.flush()


def assign_booth(booth: Booth, cooperative: Cooperative, products: list[Product], actor) -> None:
    """Put `cooperative` at `booth` with its featured `products` (in this order).

    The one way a cooperative gets a booth: verified and not suspended, at one booth per
    programme, showing 3–10 of its own published products (or none yet: staff may pick them
    after placing it). Assigning a booth's own cooperative again just sets its products.
    """
    programme = programme_of(booth)
    _check_editable(programme)
    rules.check_can_exhibit(cooperative)
    products = list(products)
    if booth.cooperative_id not in (None, cooperative.id):
        raise ProgrammeError(
            _l(
                "Gian hàng số %(number)d đã được xếp cho hợp tác xã khác; hãy bỏ xếp trước.",
                number=booth.number,
            ),
            status=409,
        )
    already = _l("%(name)s đã có một gian hàng khác trong chương trình này.", name=cooperative.name)
    elsewhere = db.session.scalar(
        select(Booth.number).where(
            Booth.programme_id == booth.programme_id,
            Booth.cooperative_id == cooperative.id,
            Booth.id != booth.id,
        )
    )
    if elsewhere is not None:
        raise ProgrammeError(
            _l(
                "%(name)s đã có gian hàng số %(number)d trong chương trình này.",
                name=cooperative.name,
                number=elsewhere,
            ),
            status=409,
        )
    rules.check_featured(cooperative, products)
    before = {"cooperative_id": booth.cooperative_id, "products": _featured_ids(booth)}
    _in_savepoint(lambda: setattr(booth, "cooperative_id", cooperative.id), already)
    _replace_featured(booth, products)
    record(
        actor,
        "booth.assigned",
        booth,
        before=before,
        after={
            "cooperative_id": cooperative.id,
            "cooperative": cooperative.name,
            "products": [p.id for p in products],
        },
    )


def unassign_booth(booth: Booth, actor) -> None:
    """Empty the booth: its cooperative, featured products, livestream link and time slots."""
    _check_editable(programme_of(booth))
    if booth.cooperative_id is None:
        raise ProgrammeError(
            _l("Gian hàng số %(number)d đang trống.", number=booth.number), status=409
        )
    before = {
        "cooperative_id": booth.cooperative_id,
        "products": _featured_ids(booth),
        "livestream_url": booth.livestream_url,
    }
    _replace_featured(booth, [])
    db.session.execute(delete(BoothSlot).where(BoothSlot.booth_id == booth.id))
    booth.cooperative_id = None
    booth.livestream_url = None
    db.session.flush()
    record(actor, "booth.unassigned", booth, before=before)


def set_featured(booth: Booth, products: list[Product], actor) -> None:
    """The booth's featured products, in this order (3–10, or none)."""
    _check_editable(programme_of(booth))
    if booth.cooperative_id is None:
        raise ProgrammeError(
            _l("Hãy xếp một hợp tác xã vào gian hàng trước khi chọn sản phẩm."), status=409
        )
    cooperative = db.session.get(Cooperative, booth.cooperative_id)
    products = list(products)
    rules.check_featured(cooperative, products)
    before = _featured_ids(booth)
    after = [p.id for p in products]
    if before == after:
        return
    _replace_featured(booth, products)
    record(
        actor, "booth.featured_set", booth, before={"products": before}, after={"products": after}
    )


def set_livestream(booth: Booth, url: str | None, actor) -> None:
    """The booth's livestream link (http or https), or none."""
    _check_editable(programme_of(booth))
    url = (url or "").strip() or None
    rules.check_livestream_url(url)
    if url == booth.livestream_url:
        return
    before = {"livestream_url": booth.livestream_url}
    booth.livestream_url = url
    db.session.flush()
    record(actor, "booth.livestream_set", booth, before=before, after={"livestream_url": url})


def add_slot(
    booth: Booth,
    starts_at: datetime,
    ends_at: datetime,
    actor,
    title_vi: str = "",
    title_en: str | None = None,
) -> BoothSlot:
    """A time slot at the booth (aware datetimes), inside the programme's days ± 1."""
    programme = programme_of(booth)
    _check_editable(programme)
    title_vi = (title_vi or "").strip()
    title_en = (title_en or "").strip() or None
    if len(title_vi) > MAX_SLOT_TITLE or len(title_en or "") > MAX_SLOT_TITLE:
        raise ProgrammeError(_l("Tên khung giờ dài tối đa %(max)d ký tự.", max=MAX_SLOT_TITLE))
    others = db.session.scalars(select(BoothSlot).where(BoothSlot.booth_id == booth.id)).all()
    rules.check_slot(programme, starts_at, ends_at, others)
    slot = BoothSlot(
        booth_id=booth.id,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        title_vi=title_vi,
        title_en=title_en,
    )
    db.session.add(slot)
    db.session.flush()
    record(
        actor,
        "booth.slot_added",
        booth,
        after=_snapshot(slot, ("id", "starts_at", "ends_at", "title_vi", "title_en")),
    )
    return slot


def remove_slot(slot: BoothSlot, actor) -> None:
    booth = db.session.get(Booth, slot.booth_id)
    _check_editable(programme_of(booth))
    before = _snapshot(slot, ("id", "starts_at", "ends_at", "title_vi", "title_en"))
    db.session.delete(slot)
    db.session.flush()
    record(actor, "booth.slot_removed", booth, before=before)
