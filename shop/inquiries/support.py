"""The staff's support view of inquiries (/quan-tri/yeu-cau): read everything, change nothing.

/quan-tri/yeu-cau          every inquiry, newest first; filters: cooperative, status, month
/quan-tri/yeu-cau/<id>     one inquiry with the buyer's contacts and the whole thread,
                           the cooperative's internal notes included

Staff read here to help a cooperative or a buyer who calls the alliance; replies, notes and
statuses belong to the cooperative addressed (shop/inquiries/inbox.py).
"""

from datetime import date

from flask import abort, render_template, request
from flask_babel import gettext as _

from shop import clock
from shop.access import staff_blueprint
from shop.catalog.queries import by_slug, is_row_id, paginate
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.inquiries import queries, replies, services
from shop.inquiries.inbox import inquiry_globals
from shop.inquiries.models import InquiryStatus

bp = staff_blueprint("inquiry_support", __name__, url_prefix="/quan-tri/yeu-cau")

PER_PAGE = 50
#: The month filter offers this many months back from this one.
MONTHS_OFFERED = 24


@bp.after_request
def private_page(response):
    """Buyers' contact details must not stay in shared caches."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _months(today: date) -> list[tuple[str, str]]:
    """('2026-11', '11/2026') for this month and the MONTHS_OFFERED - 1 before it."""
    months = []
    year, month = today.year, today.month
    for _step in range(MONTHS_OFFERED):
        months.append((f"{year:04d}-{month:02d}", f"{month:02d}/{year:04d}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _month(raw: str) -> date | None:
    """The first day of a 'YYYY-MM' month, or None when it is not one."""
    digits = raw[:4] + raw[5:]
    if len(raw) != 7 or raw[4] != "-" or not (digits.isascii() and digits.isdecimal()):
        return None
    year, month = int(raw[:4]), int(raw[5:])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


@bp.get("")
def inquiries():
    invalid = []
    cooperative = status = month = None
    raw_cooperative = (request.args.get("htx") or "").strip()[:160]
    raw_status = (request.args.get("trang_thai") or "").strip()[:20]
    raw_month = (request.args.get("thang") or "").strip()[:20]
    if raw_cooperative:
        cooperative = by_slug(Cooperative, raw_cooperative)
        if cooperative is None:
            invalid.append(_("Không tìm thấy hợp tác xã này, bộ lọc đã được bỏ qua."))
    if raw_status:
        if raw_status in {each.value for each in InquiryStatus}:
            status = InquiryStatus(raw_status)
        else:
            invalid.append(_("Trạng thái không hợp lệ, bộ lọc đã được bỏ qua."))
    if raw_month:
        month = _month(raw_month)
        if month is None:
            invalid.append(_("Tháng không hợp lệ, bộ lọc đã được bỏ qua."))
    page = paginate(
        queries.for_support(cooperative.id if cooperative else None, status, month), PER_PAGE
    )
    return render_template(
        "inquiries/support/list.html",
        page=page,
        invalid=invalid,
        selected={
            "htx": cooperative.slug if cooperative else "",
            "trang_thai": status.value if status else "",
            "thang": month.strftime("%Y-%m") if month else "",
        },
        filtered=bool(cooperative or status or month),
        cooperative_options=db.session.execute(queries.cooperatives_with_inquiries()).all(),
        status_options=[(each.value, replies.status_label(each)) for each in InquiryStatus],
        month_options=_months(clock.today()),
        units=services.units_of(*page.items),
        **inquiry_globals(),
    )


@bp.get("/<int:id>")
def inquiry(id):
    if not is_row_id(id):
        abort(404)
    inquiry = db.session.scalar(queries.for_staff(id))
    if inquiry is None:
        abort(404)
    return render_template(
        "inquiries/support/inquiry.html",
        inquiry=inquiry,
        thread=db.session.execute(queries.thread(inquiry.id)).all(),
        units=services.units_of(inquiry),
        booth=queries.booth_of(inquiry),
        **inquiry_globals(),
    )
