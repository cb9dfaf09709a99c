"""The rules of programmes, booths and applications, checked before anything is written.

Each check raises ProgrammeError with a message for the person at the form; services call them
and then write, so a refused request leaves the database as it was. Rules that need the
database (a cooperative already at a booth, a booth number taken) live in the services, next
to the unique constraints that settle races.
"""

from datetime import UTC, date, timedelta, timezone
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.programmes.models import Programme, ProgrammeStatus

#: A booth shows this many featured products (when it shows any).
MIN_FEATURED, MAX_FEATURED = 3, 10
#: Printed on a stand: a positive number of at most four digits.
MAX_BOOTH_NUMBER = 9999
MAX_PLAN_SIZE = 30
MAX_ZONES = 12


class ProgrammeError(Exception):
    """A request the rules refuse; `message` is shown to the user, `status` is the HTTP answer."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.status = status


def check_dates(start: date, end: date, deadline: date | None) -> None:
    if end < start:
        raise ProgrammeError(_l("Ngày kết thúc phải bằng hoặc sau ngày bắt đầu."))
    if deadline is not None and deadline > end:
        raise ProgrammeError(_l("Hạn đăng ký gian hàng phải trước khi chương trình kết thúc."))


def check_booth_number(number: int) -> None:
    if not 1 <= number <= MAX_BOOTH_NUMBER:
        raise ProgrammeError(_l("Số gian hàng phải từ 1 đến %(max)d.", max=MAX_BOOTH_NUMBER))


def check_plan_cell(programme: Programme, column: int | None, row: int | None) -> None:
    """A booth's place on the plan is optional; when given it must be inside the grid."""
    if column is None and row is None:
        return
    if column is None or row is None:
        raise ProgrammeError(_l("Hãy chọn cả cột và hàng trên sơ đồ, hoặc bỏ trống cả hai."))
    if not (1 <= column <= programme.plan_columns and 1 <= row <= programme.plan_rows):
        raise ProgrammeError(_l("Vị trí này nằm ngoài sơ đồ gian hàng."))


def check_zone(programme: Programme, zone: str | None) -> None:
    if zone and zone not in (programme.zones or []):
        raise ProgrammeError(_l("Khu “%(zone)s” không có trong sơ đồ.", zone=zone))


def check_can_exhibit(cooperative: Cooperative) -> None:
    """Only cooperatives the alliance has verified (and not suspended) get a booth."""
    if cooperative.status == CooperativeStatus.SUSPENDED:
        raise ProgrammeError(
            _l("%(name)s đang bị tạm ngưng nên không thể có gian hàng.", name=cooperative.name)
        )
    if cooperative.status != CooperativeStatus.VERIFIED:
        raise ProgrammeError(
            _l(
                "%(name)s chưa được Liên minh xác minh nên chưa thể có gian hàng.",
                name=cooperative.name,
            )
        )


def check_featured(cooperative: Cooperative, products: list[Product]) -> None:
    """3–10 distinct products, each a product of this cooperative that is on sale now."""
    if len({p.id for p in products}) != len(products):
        raise ProgrammeError(_l("Mỗi sản phẩm chỉ được chọn một lần."))
    for product in products:
        if product.cooperative_id != cooperative.id:
            raise ProgrammeError(
                _l(
                    "“%(name)s” không phải sản phẩm của %(coop)s.",
                    name=product.name_vi,
                    coop=cooperative.name,
                )
            )
        if product.status != ProductStatus.PUBLISHED:
            raise ProgrammeError(
                _l(
                    "“%(name)s” không đang bán trên Chợ HTX nên không thể trưng bày.",
                    name=product.name_vi,
                )
            )
    if products and not MIN_FEATURED <= len(products) <= MAX_FEATURED:
        raise ProgrammeError(
            _l(
                "Hãy chọn từ %(min)d đến %(max)d sản phẩm tiêu biểu.",
                min=MIN_FEATURED,
                max=MAX_FEATURED,
            )
        )


def check_open_for_applications(programme: Programme, today: date) -> None:
    if programme.status != ProgrammeStatus.OPEN:
        raise ProgrammeError(_l("Chương trình này không nhận đăng ký gian hàng."), status=409)
    deadline = programme.application_deadline
    if today > deadline:
        raise ProgrammeError(
            _l("Đã hết hạn đăng ký gian hàng (%(day)s).", day=deadline.strftime("%d/%m/%Y")),
            status=409,
        )


# --------------------------------------------------------------------------- the console's rules

#: A zone's name fits the booth's column; a slot may sit this far outside the programme's days
#: (set-up the day before, a last livestream the day after).
MAX_ZONE_LENGTH = 60
SLOT_MARGIN_DAYS = 1
MAX_URL_LENGTH = 500


def check_plan_size(columns: int, rows: int) -> None:
    if not (1 <= columns <= MAX_PLAN_SIZE and 1 <= rows <= MAX_PLAN_SIZE):
        raise ProgrammeError(
            _l("Sơ đồ có từ 1 đến %(max)d cột và từ 1 đến %(max)d hàng.", max=MAX_PLAN_SIZE)
        )


def check_zones(zones: list[str]) -> None:
    """At most 12 named zones, each named once."""
    if len(zones) > MAX_ZONES:
        raise ProgrammeError(_l("Sơ đồ có tối đa %(max)d khu.", max=MAX_ZONES))
    if any(not zone or len(zone) > MAX_ZONE_LENGTH for zone in zones):
        raise ProgrammeError(_l("Tên mỗi khu dài từ 1 đến %(max)d ký tự.", max=MAX_ZONE_LENGTH))
    if len({zone.casefold() for zone in zones}) != len(zones):
        raise ProgrammeError(_l("Mỗi khu chỉ được ghi một lần."))


def check_livestream_url(url: str | None) -> None:
    """Empty, or a web address (http or https) that a phone can open."""
    if not url:
        return
    parts = urlsplit(url)
    if (
        len(url) > MAX_URL_LENGTH
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or any(ch.isspace() for ch in url)
    ):
        raise ProgrammeError(
            _l(
                "Đường dẫn phát trực tiếp phải bắt đầu bằng http:// hoặc https://, ví dụ "
                "https://www.facebook.com/htxhoasen/live"
            )
        )


def check_slot(programme: Programme, starts_at, ends_at, others=()) -> None:
    """Start before end, within the programme's days ± 1 (in Vietnam), no overlap at the booth.

    `starts_at` and `ends_at` are aware datetimes; `others` are the booth's other slots.
    """
    vietnam = timezone(timedelta(hours=7))
    if ends_at <= starts_at:
        raise ProgrammeError(_l("Giờ kết thúc phải sau giờ bắt đầu."))
    first = programme.start_date - timedelta(days=SLOT_MARGIN_DAYS)
    last = programme.end_date + timedelta(days=SLOT_MARGIN_DAYS)
    if starts_at.astimezone(vietnam).date() < first or ends_at.astimezone(vietnam).date() > last:
        raise ProgrammeError(
            _l(
                "Khung giờ phải nằm trong thời gian chương trình (từ %(first)s đến %(last)s).",
                first=first.strftime("%d/%m/%Y"),
                last=last.strftime("%d/%m/%Y"),
            )
        )
    for other in others:
        start, end = other.starts_at, other.ends_at
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        if start < ends_at and starts_at < end:
            raise ProgrammeError(
                _l(
                    "Khung giờ này trùng với khung %(start)s – %(end)s của gian hàng.",
                    start=start.astimezone(vietnam).strftime("%d/%m/%Y %H:%M"),
                    end=end.astimezone(vietnam).strftime("%H:%M"),
                )
            )
