"""Writes for booth applications: a cooperative applies, withdraws; staff accept, waitlist, decline.

An application holds the cooperative's place in a programme while it is pending, waitlisted or
accepted; the partial unique index (one active application per cooperative and programme)
settles two applications sent at once. Every change of status is a conditional UPDATE on the
status the change starts from, so two staff deciding at once (or a member withdrawing while
staff decide) cannot both win: the loser gets AlreadyDecided (409) and nothing of its request
is written. Acceptance puts the cooperative at its booth through the programme services
(create_booth, assign_booth), the one path that assigns booths.

The cooperative is told of every decision on its dashboard and its owners by email. Functions
take the acting user, flush and append an audit entry; views commit.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload

from shop import clock
from shop.accounts.models import User
from shop.audit.services import record
from shop.catalog.models import Product, ProductImage, ProductStatus
from shop.cooperatives.models import Cooperative
from shop.cooperatives.services import owner_users
from shop.db import utcnow
from shop.extensions import db
from shop.notify import messages
from shop.notify.services import notify_cooperative, queue_email, site_url
from shop.programmes import rules
from shop.programmes import services as programme_services
from shop.programmes.models import (
    ACTIVE_APPLICATION_STATUSES,
    ApplicationStatus,
    Booth,
    BoothApplication,
    Programme,
    ProgrammeStatus,
)
from shop.programmes.rules import MIN_FEATURED, ProgrammeError

NOTE_MAX = 1000
REASON_MAX = 1000

#: An application's status as cooperatives and staff read it.
STATUS_LABELS = {
    ApplicationStatus.PENDING: _l("Đang chờ xét"),
    ApplicationStatus.ACCEPTED: _l("Đã nhận"),
    ApplicationStatus.WAITLISTED: _l("Danh sách chờ"),
    ApplicationStatus.DECLINED: _l("Không được nhận"),
    ApplicationStatus.WITHDRAWN: _l("Đã rút đơn"),
}

#: Statuses staff can still decide from (a waitlisted cooperative may be accepted later).
DECIDABLE = {
    ApplicationStatus.ACCEPTED: (ApplicationStatus.PENDING, ApplicationStatus.WAITLISTED),
    ApplicationStatus.WAITLISTED: (ApplicationStatus.PENDING,),
    ApplicationStatus.DECLINED: (ApplicationStatus.PENDING, ApplicationStatus.WAITLISTED),
}
WITHDRAWABLE = (ApplicationStatus.PENDING, ApplicationStatus.WAITLISTED)

#: The notice (and email) kind of each decision.
NOTICE_KINDS = {
    ApplicationStatus.ACCEPTED: "application_accepted",
    ApplicationStatus.WAITLISTED: "application_waitlisted",
    ApplicationStatus.DECLINED: "application_declined",
}


class AlreadyDecided(ProgrammeError):
    """The application left the status this change starts from (someone acted first)."""

    def __init__(self, application: BoothApplication):
        super().__init__(_l("Đơn đăng ký này đã được xử lý."), status=409)
        self.application = application


def status_label(status) -> str:
    label = STATUS_LABELS.get(ApplicationStatus(getattr(status, "value", status)))
    return str(label) if label is not None else str(status)


def _clean_text(value, limit: int, message) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ProgrammeError(message, status=422)
    return value


def _active_application(programme_id: int, cooperative_id: int) -> BoothApplication | None:
    return db.session.scalar(
        select(BoothApplication).where(
            BoothApplication.programme_id == programme_id,
            BoothApplication.cooperative_id == cooperative_id,
            BoothApplication.status.in_(ACTIVE_APPLICATION_STATUSES),
        )
    )


def _already_applied() -> ProgrammeError:
    return ProgrammeError(
        _l("Hợp tác xã đã có một đơn đăng ký cho chương trình này. Hãy xem đơn trong danh sách."),
        status=409,
    )


# --------------------------------------------------------------------------- the cooperative


def apply(
    programme: Programme,
    cooperative: Cooperative,
    products: list[Product],
    preferred_zone: str | None,
    note: str | None,
    actor,
) -> BoothApplication:
    """Ask for a booth in an open programme, with 3–10 of the cooperative's products on sale."""
    rules.check_open_for_applications(programme, clock.today())
    rules.check_can_exhibit(cooperative)
    if not products:
        raise ProgrammeError(
            _l(
                "Hãy chọn từ %(min)d đến %(max)d sản phẩm tiêu biểu.",
                min=MIN_FEATURED,
                max=rules.MAX_FEATURED,
            ),
            status=422,
        )
    rules.check_featured(cooperative, products)
    preferred_zone = (preferred_zone or "").strip() or None
    rules.check_zone(programme, preferred_zone)
    note = _clean_text(note, NOTE_MAX, _l("Lời nhắn dài quá: tối đa %(max)d ký tự.", max=NOTE_MAX))
    if _active_application(programme.id, cooperative.id) is not None:
        raise _already_applied()
    has_booth = db.session.scalar(
        select(Booth.number).where(
            Booth.programme_id == programme.id, Booth.cooperative_id == cooperative.id
        )
    )
    if has_booth is not None:
        raise ProgrammeError(
            _l("Hợp tác xã đã có gian hàng số %(number)d ở chương trình này.", number=has_booth),
            status=409,
        )
    application = BoothApplication(
        programme_id=programme.id,
        cooperative_id=cooperative.id,
        status=ApplicationStatus.PENDING,
        preferred_zone=preferred_zone,
        product_ids=[product.id for product in products],
        note=note,
        submitted_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(application)
            db.session.flush()
    except IntegrityError:
        # Another application of the same cooperative arrived first (the partial unique index).
        raise _already_applied() from None
    record(
        actor,
        "application.submitted",
        application,
        after={
            "programme_id": programme.id,
            "cooperative_id": cooperative.id,
            "product_ids": application.product_ids,
            "preferred_zone": preferred_zone,
        },
    )
    return application


def _move(
    application: BoothApplication, actor, sources, target: ApplicationStatus, **values
) -> ApplicationStatus:
    """Change the status only if it is still one of `sources`; returns the status it had."""
    before = application.status
    now = utcnow()
    result = db.session.execute(
        update(BoothApplication)
        .where(BoothApplication.id == application.id, BoothApplication.status.in_(sources))
        .values(status=target, decided_by_id=actor.id, decided_at=now, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(application)
    if result.rowcount != 1:
        raise AlreadyDecided(application)
    return before


def withdraw(application: BoothApplication, actor) -> None:
    """The cooperative takes back an application staff have not accepted or declined."""
    before = _move(application, actor, WITHDRAWABLE, ApplicationStatus.WITHDRAWN)
    record(
        actor,
        "application.withdrawn",
        application,
        before={"status": before.value},
        after={"status": ApplicationStatus.WITHDRAWN.value},
    )


# --------------------------------------------------------------------------- staff decisions


def products_still_on_sale(application: BoothApplication) -> tuple[list[Product], list[Product]]:
    """(products to show, products gone since): the applied ones, in the cooperative's order."""
    ids = [int(i) for i in application.product_ids or ()]
    found = {
        product.id: product
        for product in db.session.scalars(select(Product).where(Product.id.in_(ids)))
    }
    kept, gone = [], []
    for product_id in ids:
        product = found.get(product_id)
        if product is None:
            continue
        on_sale = (
            product.status == ProductStatus.PUBLISHED
            and product.cooperative_id == application.cooperative_id
        )
        (kept if on_sale else gone).append(product)
    return kept, gone


def _booth_for(programme: Programme, number: int, zone: str | None, actor) -> Booth:
    """The programme's booth with this number, created now if there is none; it must be empty."""
    # Locked until commit, so two staff accepting two cooperatives into one empty booth at
    # once cannot both succeed (PostgreSQL; SQLite serialises writing requests anyway).
    booth = db.session.scalar(
        select(Booth)
        .where(Booth.programme_id == programme.id, Booth.number == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if booth is None:
        if zone and zone not in (programme.zones or []):
            zone = None
        return programme_services.create_booth(programme, number, zone, None, None, actor)
    if booth.cooperative_id is not None:
        holder = db.session.get(Cooperative, booth.cooperative_id)
        raise ProgrammeError(
            _l(
                "Gian hàng số %(number)d đã có %(name)s. Hãy chọn một gian hàng trống.",
                number=number,
                name=holder.name if holder else "",
            ),
            status=409,
        )
    return booth


def accept(application: BoothApplication, booth_number, actor) -> Booth:
    """Accept the application into booth `booth_number` (created when the plan has none yet).

    The cooperative goes to the booth with the products it applied with that are still on sale;
    products gone since are left out, as long as at least three remain.
    """
    try:
        number = int(booth_number)
    except (TypeError, ValueError):
        raise ProgrammeError(_l("Hãy nhập số gian hàng, ví dụ 10."), status=422) from None
    rules.check_booth_number(number)
    before = _move(
        application,
        actor,
        DECIDABLE[ApplicationStatus.ACCEPTED],
        ApplicationStatus.ACCEPTED,
        decision_reason=None,
    )
    # Anything refused from here on is rolled back by the view, the status change included.
    programme = db.session.get(Programme, application.programme_id)
    cooperative = db.session.get(Cooperative, application.cooperative_id)
    rules.check_can_exhibit(cooperative)
    products, gone = products_still_on_sale(application)
    if len(products) < MIN_FEATURED:
        raise ProgrammeError(
            _l(
                "Chỉ còn %(left)d sản phẩm trong đơn đang bán trên Chợ HTX; một gian hàng cần "
                "ít nhất %(min)d. Hãy đưa đơn vào danh sách chờ và nhờ hợp tác xã đăng ký lại.",
                left=len(products),
                min=MIN_FEATURED,
            ),
            status=409,
        )
    booth = _booth_for(programme, number, application.preferred_zone, actor)
    programme_services.assign_booth(booth, cooperative, products, actor)
    application.booth_id = booth.id
    db.session.flush()
    dropped = [product.name_vi for product in gone]
    record(
        actor,
        "application.accepted",
        application,
        before={"status": before.value},
        after={
            "status": ApplicationStatus.ACCEPTED.value,
            "booth_id": booth.id,
            "booth_number": booth.number,
            "product_ids": [product.id for product in products],
            **({"dropped": dropped} if dropped else {}),
        },
    )
    _tell(application, programme, cooperative, booth_number=booth.number, dropped=dropped)
    return booth


def _decide_with_reason(
    application: BoothApplication, reason, actor, target: ApplicationStatus, required: bool
) -> None:
    reason = _clean_text(
        reason, REASON_MAX, _l("Lý do dài quá: tối đa %(max)d ký tự.", max=REASON_MAX)
    )
    if required and not reason:
        raise ProgrammeError(_l("Hãy ghi lý do để hợp tác xã biết."), status=422)
    before = _move(application, actor, DECIDABLE[target], target, decision_reason=reason or None)
    record(
        actor,
        f"application.{target.value}",
        application,
        before={"status": before.value},
        after={"status": target.value},
        reason=reason or None,
    )
    programme = db.session.get(Programme, application.programme_id)
    cooperative = db.session.get(Cooperative, application.cooperative_id)
    _tell(application, programme, cooperative, reason=reason or None)


def waitlist(application: BoothApplication, reason, actor) -> None:
    """Keep a pending application in line for a booth that may free up; the reason is optional."""
    _decide_with_reason(application, reason, actor, ApplicationStatus.WAITLISTED, required=False)


def decline(application: BoothApplication, reason, actor) -> None:
    """Refuse the application; the cooperative reads the reason, which is required."""
    _decide_with_reason(application, reason, actor, ApplicationStatus.DECLINED, required=True)


def _tell(application, programme, cooperative, **params) -> None:
    """A notice on the cooperative's dashboard and an email to its owners."""
    kind = NOTICE_KINDS[application.status]
    params = {k: v for k, v in params.items() if v}
    notify_cooperative(
        cooperative,
        kind,
        programme=programme.title_vi,
        programme_en=programme.title_en,
        application_id=application.id,
        **params,
    )
    recipients = [user.email for user in owner_users(cooperative)]
    if not recipients and cooperative.email:
        recipients = [cooperative.email]
    if not recipients:
        return
    subject, body = messages.application_decision_email(
        kind=kind,
        programme=programme.title_vi,
        cooperative=cooperative.name,
        booth_number=params.get("booth_number"),
        dropped=params.get("dropped") or (),
        reason=params.get("reason"),
        link=site_url("programme_dashboard.application", id=application.id),
    )
    for address in recipients:
        queue_email(address, subject, body, kind)


# --------------------------------------------------------------------------- reads


def status_rank():
    """SQL: pending first, then waitlisted, then the decided ones (the staff's working order)."""
    return case(
        (BoothApplication.status == ApplicationStatus.PENDING, 0),
        (BoothApplication.status == ApplicationStatus.WAITLISTED, 1),
        (BoothApplication.status == ApplicationStatus.ACCEPTED, 2),
        else_=3,
    )


def open_programmes(day) -> Select:
    """Programmes taking applications on `day`, the nearest deadline first."""
    deadline = func.coalesce(Programme.registration_deadline, Programme.start_date)
    return (
        select(Programme)
        .where(Programme.status == ProgrammeStatus.OPEN, deadline >= day)
        .order_by(deadline, Programme.start_date, Programme.id)
    )


def applications_of(cooperative_id: int) -> Select:
    """A cooperative's applications with their programme and booth, the latest first."""
    return (
        select(BoothApplication)
        .where(BoothApplication.cooperative_id == cooperative_id)
        .options(joinedload(BoothApplication.programme), joinedload(BoothApplication.booth))
        .order_by(BoothApplication.created_at.desc(), BoothApplication.id.desc())
    )


def own_application(cooperative_id: int, application_id: int) -> Select:
    """One application of this cooperative only: another cooperative's id finds nothing."""
    return applications_of(cooperative_id).where(BoothApplication.id == application_id)


def products_for_form(cooperative_id: int) -> Select:
    """The cooperative's products on sale, with what a checkbox card shows (cover, sector)."""
    return (
        select(Product)
        .where(Product.cooperative_id == cooperative_id, Product.status == ProductStatus.PUBLISHED)
        .options(
            joinedload(Product.cover).joinedload(ProductImage.image),
            joinedload(Product.sector),
            joinedload(Product.unit),
        )
        .order_by(Product.name_vi, Product.id)
    )


def products_by_ids(ids) -> Select:
    """Products of an application (any status), with their cover and sector."""
    return (
        select(Product)
        .where(Product.id.in_(list(ids)))
        .options(
            joinedload(Product.cover).joinedload(ProductImage.image),
            joinedload(Product.sector),
            joinedload(Product.unit),
        )
    )


def for_staff(programme_id: int | None = None, status: ApplicationStatus | None = None) -> Select:
    """Applications for the console's list: pending first, the oldest first within a status."""
    stmt = (
        select(BoothApplication)
        .join(BoothApplication.cooperative)
        .join(BoothApplication.programme)
        .options(
            contains_eager(BoothApplication.cooperative),
            contains_eager(BoothApplication.programme),
            joinedload(BoothApplication.booth),
        )
        .order_by(status_rank(), BoothApplication.created_at, BoothApplication.id)
    )
    if programme_id is not None:
        stmt = stmt.where(BoothApplication.programme_id == programme_id)
    if status is not None:
        stmt = stmt.where(BoothApplication.status == status)
    return stmt


def application_for_staff(application_id: int) -> Select:
    """(application, decider's email): one application with what its console page shows."""
    decider = aliased(User)
    return (
        select(BoothApplication, decider.email)
        .outerjoin(decider, decider.id == BoothApplication.decided_by_id)
        .where(BoothApplication.id == application_id)
        .options(
            joinedload(BoothApplication.programme),
            joinedload(BoothApplication.booth),
            joinedload(BoothApplication.cooperative).joinedload(Cooperative.sector),
            joinedload(BoothApplication.cooperative).joinedload(Cooperative.locality),
        )
    )


def programmes_with_applications() -> Select:
    """Programmes that have received applications, latest first (the list's filter)."""
    return (
        select(Programme)
        .where(exists().where(BoothApplication.programme_id == Programme.id))
        .order_by(Programme.start_date.desc(), Programme.id.desc())
    )


def empty_booths(programme_id: int) -> Select:
    """(number, zone) of the programme's booths without a cooperative."""
    return (
        select(Booth.number, Booth.zone)
        .where(Booth.programme_id == programme_id, Booth.cooperative_id.is_(None))
        .order_by(Booth.number)
    )


def booth_numbers(programme_id: int) -> Select:
    return select(Booth.number).where(Booth.programme_id == programme_id)


def suggested_booths(application: BoothApplication, limit: int = 8) -> list[int]:
    """Booth numbers staff may accept into: empty booths of the preferred zone first, then other
    empty booths, then the next numbers the plan does not use yet."""
    empty = db.session.execute(empty_booths(application.programme_id)).all()
    zone = application.preferred_zone
    ordered = [n for n, z in empty if zone and z == zone] + [
        n for n, z in empty if not (zone and z == zone)
    ]
    if len(ordered) < limit:
        used = set(db.session.scalars(booth_numbers(application.programme_id)))
        candidate = max(used, default=0) + 1
        while len(ordered) < limit and candidate <= rules.MAX_BOOTH_NUMBER:
            if candidate not in used:
                ordered.append(candidate)
            candidate += 1
    return ordered[:limit]


def pending_count() -> Select:
    return select(func.count(BoothApplication.id)).where(
        BoothApplication.status == ApplicationStatus.PENDING
    )
