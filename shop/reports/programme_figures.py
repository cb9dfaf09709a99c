"""A programme's figures: per booth and per sector, over a period around the programme's days.

Reads return select()s; `ProgrammeFigures` turns them into shop.reports.figures.Table objects
that the page (/quan-tri/chuong-trinh/<id>/so-lieu) and its CSV/XLSX exports share. One
statement per table, whatever the number of booths. Days are Vietnam's calendar days: the
daily counters are kept by Vietnamese day, and inquiries are cut at Vietnamese midnight.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from flask import url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import Select, and_, case, func, or_, select

from shop.audit.queries import vietnam_midnight
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative, Sector
from shop.extensions import db
from shop.inquiries.models import Inquiry
from shop.programmes.models import PUBLIC_PROGRAMME_STATUSES, Booth, BoothProduct, Programme
from shop.reports.figures import Table
from shop.reports.models import DailyCount
from shop.text.formatting import format_date

#: Days before the first and after the last day of a programme that the default period adds.
MARGIN_DAYS = 30
#: The daily counters whose subject is a booth (views of its page, its QR scans, contact clicks).
BOOTH_KINDS = ("booth_view", "qr_scan", "booth_contact")
OCOP_STARS = (3, 4, 5)

AROUND, DURING, BEFORE, AFTER, ALL = "truoc-trong-sau", "trong", "truoc", "sau", "tat-ca"
PERIOD_VALUES = (AROUND, DURING, BEFORE, AFTER, ALL)


# --------------------------------------------------------------------------- period


@dataclass(frozen=True)
class ProgrammePeriod:
    """Whole Vietnamese days from `first` to `last`, both included; None = no bound."""

    value: str
    first: date | None
    last: date | None

    def label(self) -> str:
        return {
            AROUND: _("Trước, trong và sau chương trình"),
            DURING: _("Trong thời gian chương trình"),
            BEFORE: _("%(days)d ngày trước chương trình", days=MARGIN_DAYS),
            AFTER: _("%(days)d ngày sau chương trình", days=MARGIN_DAYS),
            ALL: _("Toàn bộ thời gian"),
        }[self.value]

    def span(self) -> str:
        if self.first is None and self.last is None:
            return _("Mọi ngày")
        return f"{format_date(self.first)} – {format_date(self.last)}"

    def day_filter(self, column) -> list:
        """Conditions keeping a date column within the period."""
        conditions = []
        if self.first is not None:
            conditions.append(column >= self.first)
        if self.last is not None:
            conditions.append(column <= self.last)
        return conditions

    def time_filter(self, column) -> list:
        """Conditions keeping a UTC timestamp column within the period's Vietnamese days."""
        conditions = []
        if self.first is not None:
            conditions.append(column >= vietnam_midnight(self.first))
        if self.last is not None:
            conditions.append(column < vietnam_midnight(self.last + timedelta(days=1)))
        return conditions


def programme_period(programme: Programme, value: str) -> ProgrammePeriod:
    margin = timedelta(days=MARGIN_DAYS)
    start, end = programme.start_date, programme.end_date
    return {
        AROUND: ProgrammePeriod(AROUND, start - margin, end + margin),
        DURING: ProgrammePeriod(DURING, start, end),
        BEFORE: ProgrammePeriod(BEFORE, start - margin, start - timedelta(days=1)),
        AFTER: ProgrammePeriod(AFTER, end + timedelta(days=1), end + margin),
        ALL: ProgrammePeriod(ALL, None, None),
    }[value]


def parse_programme_period(programme: Programme, raw: str | None) -> tuple[ProgrammePeriod, bool]:
    """The period asked for in the URL, or the default; the flag says the request was refused."""
    raw = (raw or "").strip()
    if not raw:
        return programme_period(programme, AROUND), False
    if raw in PERIOD_VALUES:
        return programme_period(programme, raw), False
    return programme_period(programme, AROUND), True


def period_options(programme: Programme) -> list[tuple[str, str]]:
    """(value, label) of the period selector, the default first."""
    return [(value, programme_period(programme, value).label()) for value in PERIOD_VALUES]


# --------------------------------------------------------------------------- reads


def booth_figures(programme_id: int, period: ProgrammePeriod) -> Select:
    """(booth, cooperative or None, sector or None, views, QR scans, contact clicks, inquiries).

    Counters are the booth's own (its page's views, its QR code's scans, clicks on the call
    and Zalo links of its page); inquiries are those sent from the booth (Inquiry.booth_id).
    """
    booth_ids = select(Booth.id).where(Booth.programme_id == programme_id)

    def total(kind: str):
        return func.sum(case((DailyCount.kind == kind, DailyCount.count), else_=0)).label(kind)

    counters = (
        select(DailyCount.subject_id.label("booth_id"), *[total(kind) for kind in BOOTH_KINDS])
        .where(
            DailyCount.kind.in_(BOOTH_KINDS),
            DailyCount.subject_id.in_(booth_ids),
            *period.day_filter(DailyCount.day),
        )
        .group_by(DailyCount.subject_id)
        .subquery()
    )
    inquiries = (
        select(Inquiry.booth_id.label("booth_id"), func.count(Inquiry.id).label("inquiries"))
        .where(Inquiry.booth_id.in_(booth_ids), *period.time_filter(Inquiry.created_at))
        .group_by(Inquiry.booth_id)
        .subquery()
    )
    return (
        select(
            Booth,
            Cooperative,
            Sector,
            *[func.coalesce(counters.c[kind], 0) for kind in BOOTH_KINDS],
            func.coalesce(inquiries.c.inquiries, 0),
        )
        .outerjoin(Cooperative, Cooperative.id == Booth.cooperative_id)
        .outerjoin(Sector, Sector.id == Cooperative.sector_id)
        .outerjoin(counters, counters.c.booth_id == Booth.id)
        .outerjoin(inquiries, inquiries.c.booth_id == Booth.id)
        .where(Booth.programme_id == programme_id)
        .order_by(Booth.number)
    )


def sector_figures(programme: Programme, period: ProgrammePeriod) -> Select:
    """(sector, cooperatives, featured products, OCOP 3★, 4★, 5★, inquiries) for every sector.

    By the sector of the booth's cooperative. OCOP counts featured products whose certificate
    has not expired on the programme's first day.
    """
    cooperatives = (
        select(
            Cooperative.sector_id.label("sector_id"),
            func.count(func.distinct(Booth.cooperative_id)).label("cooperatives"),
        )
        .join(Cooperative, Cooperative.id == Booth.cooperative_id)
        .where(Booth.programme_id == programme.id)
        .group_by(Cooperative.sector_id)
        .subquery()
    )
    valid = or_(Product.ocop_expires_on.is_(None), Product.ocop_expires_on >= programme.start_date)

    def ocop(stars: int):
        return func.sum(case((and_(Product.ocop_stars == stars, valid), 1), else_=0)).label(
            f"ocop{stars}"
        )

    featured = (
        select(
            Cooperative.sector_id.label("sector_id"),
            func.count(BoothProduct.id).label("products"),
            *[ocop(stars) for stars in OCOP_STARS],
        )
        .select_from(BoothProduct)
        .join(Booth, Booth.id == BoothProduct.booth_id)
        .join(Cooperative, Cooperative.id == Booth.cooperative_id)
        .join(Product, Product.id == BoothProduct.product_id)
        .where(Booth.programme_id == programme.id)
        .group_by(Cooperative.sector_id)
        .subquery()
    )
    inquiries = (
        select(
            Cooperative.sector_id.label("sector_id"),
            func.count(Inquiry.id).label("inquiries"),
        )
        .select_from(Inquiry)
        .join(Booth, Booth.id == Inquiry.booth_id)
        .join(Cooperative, Cooperative.id == Booth.cooperative_id)
        .where(Booth.programme_id == programme.id, *period.time_filter(Inquiry.created_at))
        .group_by(Cooperative.sector_id)
        .subquery()
    )
    return (
        select(
            Sector,
            func.coalesce(cooperatives.c.cooperatives, 0),
            func.coalesce(featured.c.products, 0),
            *[func.coalesce(featured.c[f"ocop{stars}"], 0) for stars in OCOP_STARS],
            func.coalesce(inquiries.c.inquiries, 0),
        )
        .outerjoin(cooperatives, cooperatives.c.sector_id == Sector.id)
        .outerjoin(featured, featured.c.sector_id == Sector.id)
        .outerjoin(inquiries, inquiries.c.sector_id == Sector.id)
        .order_by(Sector.sort_order, Sector.id)
    )


# --------------------------------------------------------------------------- tables


def _sum(values) -> int:
    return sum(int(v or 0) for v in values)


class ProgrammeFigures:
    """The tables of one programme's figures over a period, each computed on first use."""

    def __init__(self, programme: Programme, period: ProgrammePeriod):
        self.programme = programme
        self.period = period

    @cached_property
    def _booths(self) -> list:
        return db.session.execute(booth_figures(self.programme.id, self.period)).all()

    def booths(self, with_links: bool = False) -> Table:
        public = self.programme.status in PUBLIC_PROGRAMME_STATUSES
        rows, links = [], []
        for booth, cooperative, sector, *numbers in self._booths:
            views, scans, contacts, inquiries = (int(n) for n in numbers)
            rows.append(
                [
                    booth.number,
                    cooperative.t("name") if cooperative else _("(chưa có hợp tác xã)"),
                    sector.t("name") if sector else "",
                    views,
                    scans,
                    inquiries,
                    contacts,
                ]
            )
            shown = with_links and public and cooperative is not None and cooperative.is_public
            links.append(
                url_for("programmes.booth", slug=self.programme.slug, number=booth.number)
                if shown
                else None
            )
        totals = [_("Tổng cộng"), "", ""] + [_sum(r[i] for r in rows) for i in range(3, 7)]
        return Table(
            key="gian-hang",
            title=_("Số liệu theo gian hàng"),
            columns=[
                _("Gian hàng"),
                pgettext("singular", "Hợp tác xã"),
                _("Lĩnh vực"),
                _("Lượt xem"),
                _("Lượt quét QR"),
                _("Số yêu cầu báo giá"),
                _("Lượt bấm liên hệ"),
            ],
            rows=rows,
            totals=totals if rows else None,
            links=links if with_links else None,
            text_columns=(0, 1, 2),
            by_period=True,
            note=_(
                "Lượt xem trang gian hàng, lượt quét mã QR của gian hàng, yêu cầu báo giá gửi "
                "từ gian hàng và lượt bấm gọi điện hoặc Zalo trên trang gian hàng, trong kỳ. "
                "Không tính máy tìm kiếm và công cụ tự động."
            ),
        )

    @cached_property
    def _sectors(self) -> list:
        return db.session.execute(sector_figures(self.programme, self.period)).all()

    def sectors(self) -> Table:
        rows = [
            [sector.t("name"), *(int(n) for n in numbers)] for sector, *numbers in self._sectors
        ]
        width = 6
        return Table(
            key="linh-vuc",
            title=_("Hợp tác xã, sản phẩm và yêu cầu báo giá theo lĩnh vực"),
            columns=[
                _("Lĩnh vực"),
                _("Hợp tác xã tham gia"),
                _("Sản phẩm trưng bày"),
                _("OCOP 3 sao"),
                _("OCOP 4 sao"),
                _("OCOP 5 sao"),
                _("Số yêu cầu báo giá"),
            ],
            rows=rows,
            totals=[_("Tổng cộng")] + [_sum(r[i] for r in rows) for i in range(1, width + 1)],
            by_period=True,
            note=_(
                "Theo lĩnh vực của hợp tác xã ở gian hàng. OCOP: sản phẩm trưng bày có chứng "
                "nhận OCOP còn hiệu lực vào ngày khai mạc (%(date)s). Yêu cầu báo giá gửi từ "
                "các gian hàng trong kỳ.",
                date=format_date(self.programme.start_date),
            ),
        )

    def table(self, key: str, **kwargs) -> Table | None:
        builder = TABLES.get(key)
        return builder(self, **kwargs) if builder else None

    def summary(self) -> dict[str, int]:
        """The headline numbers, taken from the tables' totals (no further statement)."""
        booths, sectors = self.booths(), self.sectors()
        booth_totals = booths.totals or ["", "", "", 0, 0, 0, 0]
        return {
            "booths": len(booths.rows),
            "cooperatives": sectors.totals[1],
            "products": sectors.totals[2],
            "ocop": sum(sectors.totals[3:6]),
            "views": booth_totals[3],
            "scans": booth_totals[4],
            "inquiries": booth_totals[5],
            "contacts": booth_totals[6],
        }


TABLES = {
    "gian-hang": ProgrammeFigures.booths,
    "linh-vuc": ProgrammeFigures.sectors,
}
