"""The rules of programmes, booths and applications, checked before anything is written.

Each check raises ProgrammeError with a message for the person at the form; services call them
and then write, so a refused request leaves the database as it was. Rules that need the
database (a cooperative already at a booth, a booth number taken) live in the services, next
to the unique constraints that settle races.
"""

from datetime import date

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
    deadline = programme.registration_deadline or programme.start_date
    if today > deadline:
        raise ProgrammeError(
            _l("Đã hết hạn đăng ký gian hàng (%(day)s).", day=deadline.strftime("%d/%m/%Y")),
            status=409,
        )
