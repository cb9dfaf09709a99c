"""The dashboard's tables, built from shop.reports.queries; the page and the exports share them.

Each table has a key (its export's file name), a title, column headings, rows whose first cell
is a label and the rest numbers (or None for "no figure"), and an optional totals row. Tables
are built in the current language: the exports build them under force_locale("vi").
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from babel.numbers import format_decimal
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext, pgettext

from shop.audit.queries import vietnam_midnight
from shop.catalog.models import ProductStatus
from shop.cooperatives.models import CooperativeStatus, LegalForm
from shop.cooperatives.views import legal_form_label
from shop.extensions import db
from shop.notify.messages import PRODUCT_STATUS_LABELS, STATUS_LABELS
from shop.reports import queries
from shop.text.i18n import current_lang

#: The first year the period selector offers (the alliance's 2022 conference).
FIRST_YEAR = 2022
#: Years further back than this are refused as typing mistakes.
OLDEST_YEAR = 2000
LAST_12_MONTHS = "12m"
VIEW_DAYS = 30
TOP_VIEWED = 10


# --------------------------------------------------------------------------- period


@dataclass(frozen=True)
class Period:
    """A span of whole months in Vietnam's calendar: a year, or the last 12 months."""

    value: str
    months: tuple[tuple[int, int], ...]

    @property
    def start(self) -> datetime:
        year, month = self.months[0]
        return vietnam_midnight(date(year, month, 1))

    @property
    def end(self) -> datetime:
        year, month = self.months[-1]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return vietnam_midnight(date(year, month, 1))

    def label(self) -> str:
        if self.value == LAST_12_MONTHS:
            return _("12 tháng gần nhất")
        return _("Năm %(year)s", year=self.value)

    def span(self) -> str:
        (y1, m1), (y2, m2) = self.months[0], self.months[-1]
        return f"{m1:02d}/{y1} – {m2:02d}/{y2}"


def year_period(year: int, today: date) -> Period:
    """The months of `year`; this year's stop at the current month."""
    last = today.month if year == today.year else 12
    return Period(str(year), tuple((year, m) for m in range(1, last + 1)))


def last_12_months(today: date) -> Period:
    months = []
    year, month = today.year, today.month
    for _i in range(12):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return Period(LAST_12_MONTHS, tuple(reversed(months)))


def parse_period(raw: str | None, today: date) -> tuple[Period, bool]:
    """The period asked for in the URL, or this year; the flag says the request was refused."""
    raw = (raw or "").strip()
    if not raw:
        return year_period(today.year, today), False
    if raw == LAST_12_MONTHS:
        return last_12_months(today), False
    if raw.isascii() and raw.isdecimal() and len(raw) == 4:
        year = int(raw)
        if OLDEST_YEAR <= year <= today.year:
            return year_period(year, today), False
    return year_period(today.year, today), True


def period_options(today: date, selected: Period) -> list[tuple[str, str]]:
    """(value, label) of the selector: the last 12 months, then each year, newest first."""
    first = min(FIRST_YEAR, int(selected.value) if selected.value.isdecimal() else FIRST_YEAR)
    years = range(today.year, first - 1, -1)
    return [(LAST_12_MONTHS, _("12 tháng gần nhất"))] + [
        (str(y), _("Năm %(year)s", year=y)) for y in years
    ]


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    totals: list | None = None
    #: A link for the label of each row (the page only), or None.
    links: list[str | None] | None = None
    #: Column indexes that hold text rather than numbers (the first always does).
    text_columns: tuple[int, ...] = (0,)
    #: Column indexes of durations in hours (the page writes them as "5,5 giờ").
    hour_columns: tuple[int, ...] = ()
    #: Whether the table depends on the chosen period.
    by_period: bool = False
    note: str | None = None

    def export_rows(self) -> list[list]:
        return self.rows + ([self.totals] if self.totals else [])


def _sum(values) -> int:
    return sum(v or 0 for v in values)


class Figures:
    """Everything the dashboard shows, computed on first use; one query per figure."""

    def __init__(self, today: date, period: Period):
        self.today = today
        self.period = period

    @cached_property
    def sectors(self):
        return db.session.scalars(queries.sectors()).all()

    def sector_names(self) -> list[str]:
        return [s.t("name") for s in self.sectors]

    # ---- cooperatives

    @cached_property
    def _coop_matrix(self) -> dict[tuple[int, LegalForm], int]:
        rows = db.session.execute(queries.cooperatives_by_sector_and_form())
        return {(sector_id, LegalForm(form)): n for sector_id, form, n in rows}

    def cooperatives(self) -> Table:
        forms = list(LegalForm)
        matrix = self._coop_matrix
        rows = []
        for sector in self.sectors:
            cells = [matrix.get((sector.id, form), 0) for form in forms]
            rows.append([sector.t("name"), *cells, sum(cells)])
        totals = [_("Tổng cộng")] + [_sum(row[i] for row in rows) for i in range(1, len(forms) + 2)]
        return Table(
            key="hop-tac-xa",
            title=_("Hợp tác xã theo lĩnh vực và loại hình"),
            columns=[_("Lĩnh vực")] + [legal_form_label(f) for f in forms] + [_("Tổng")],
            rows=rows,
            totals=totals,
            note=_("Mọi hợp tác xã trong hệ thống, kể cả chưa xác minh."),
        )

    @cached_property
    def _status_counts(self) -> dict[CooperativeStatus, tuple[int, int]]:
        rows = db.session.execute(queries.cooperatives_by_status())
        return {CooperativeStatus(s): (n, int(missing)) for s, n, missing in rows}

    def cooperative_status(self) -> Table:
        counts = self._status_counts
        rows = [[str(STATUS_LABELS[s.value]), *counts.get(s, (0, 0))] for s in CooperativeStatus]
        return Table(
            key="tinh-trang-htx",
            title=_("Hợp tác xã theo tình trạng xác minh"),
            columns=[_("Tình trạng"), _("Số hợp tác xã"), _("Không có mã số thuế")],
            rows=rows,
            totals=[_("Tổng cộng"), _sum(r[1] for r in rows), _sum(r[2] for r in rows)],
        )

    def cooperative_summary(self) -> dict[str, int]:
        counts = self._status_counts
        total = sum(n for n, _m in counts.values())
        verified = counts.get(CooperativeStatus.VERIFIED, (0, 0))[0]
        return {
            "total": total,
            "verified": verified,
            "not_verified": total - verified,
            "no_tax_code": sum(m for _n, m in counts.values()),
        }

    # ---- products

    @cached_property
    def _product_matrix(self) -> dict[tuple[int, ProductStatus], int]:
        rows = db.session.execute(queries.products_by_sector_and_status())
        return {(sector_id, ProductStatus(status)): n for sector_id, status, n in rows}

    def products(self) -> Table:
        statuses = list(ProductStatus)
        matrix = self._product_matrix
        rows = []
        for sector in self.sectors:
            cells = [matrix.get((sector.id, status), 0) for status in statuses]
            rows.append([sector.t("name"), *cells, sum(cells)])
        totals = [_("Tổng cộng")] + [
            _sum(row[i] for row in rows) for i in range(1, len(statuses) + 2)
        ]
        return Table(
            key="san-pham",
            title=_("Sản phẩm theo lĩnh vực và trạng thái"),
            columns=[_("Lĩnh vực")]
            + [str(PRODUCT_STATUS_LABELS[s.value]) for s in statuses]
            + [_("Tổng")],
            rows=rows,
            totals=totals,
        )

    # ---- review times

    @cached_property
    def _review_hours(self) -> dict[str, list[float]]:
        start, end = self.period.start, self.period.end

        def hours(pairs) -> list[float]:
            return [
                (decided - sent).total_seconds() / 3600
                for decided, sent in pairs
                if decided is not None and sent is not None
            ]

        return {
            "products": hours(db.session.execute(queries.product_review_times(start, end))),
            "revisions": hours(db.session.execute(queries.revision_review_times(start, end))),
        }

    def review_times(self) -> Table:
        found = self._review_hours
        groups = [
            (_("Sản phẩm mới gửi duyệt"), found["products"]),
            (_("Bản sửa của sản phẩm đang bán"), found["revisions"]),
            (_("Tất cả"), found["products"] + found["revisions"]),
        ]
        rows = [[label, len(values), median_hours(values)] for label, values in groups]
        return Table(
            key="thoi-gian-duyet",
            title=_("Thời gian từ khi gửi duyệt đến khi có quyết định"),
            columns=[_("Loại"), _("Số quyết định"), _("Trung vị (giờ)")],
            rows=rows,
            hour_columns=(2,),
            by_period=True,
            note=_(
                "Mỗi quyết định (duyệt, yêu cầu sửa, từ chối) tính từ lần gửi duyệt gần nhất "
                "trước nó; bản sửa tính từ lúc gửi bản sửa."
            ),
        )

    # ---- inquiries

    @cached_property
    def _inquiry_counts(self) -> dict[tuple[str, int], int]:
        stmt = queries.inquiries_by_month_and_sector(self.period.start, self.period.end)
        return {(month, sector_id): n for month, sector_id, n in db.session.execute(stmt)}

    def inquiries(self) -> Table:
        counts = self._inquiry_counts
        rows = []
        for year, month in self.period.months:
            key = f"{year:04d}-{month:02d}"
            cells = [counts.get((key, s.id), 0) for s in self.sectors]
            rows.append([f"{month:02d}/{year}", *cells, sum(cells)])
        width = len(self.sectors) + 1
        return Table(
            key="yeu-cau-bao-gia",
            title=_("Yêu cầu báo giá theo tháng và lĩnh vực"),
            columns=[_("Tháng")] + self.sector_names() + [_("Tổng")],
            rows=rows,
            totals=[_("Tổng cộng")] + [_sum(r[i] for r in rows) for i in range(1, width + 1)],
            by_period=True,
            note=_("Theo lĩnh vực của hợp tác xã nhận yêu cầu; tháng theo giờ Việt Nam."),
        )

    # ---- most viewed

    @cached_property
    def _most_viewed(self):
        stmt = queries.most_viewed_products(self.today, VIEW_DAYS, TOP_VIEWED)
        return db.session.execute(stmt).all()

    def most_viewed(self, with_links: bool = False) -> Table:
        rows, links = [], []
        for rank, (product, views) in enumerate(self._most_viewed, start=1):
            rows.append([rank, product.t("name"), product.cooperative.t("name"), int(views)])
            public = product.status == ProductStatus.PUBLISHED
            links.append(
                url_for("catalog.product", slug=product.slug) if with_links and public else None
            )
        return Table(
            key="xem-nhieu",
            title=_("Sản phẩm được xem nhiều nhất trong %(days)d ngày qua", days=VIEW_DAYS),
            columns=[_("Hạng"), _("Sản phẩm"), pgettext("singular", "Hợp tác xã"), _("Lượt xem")],
            rows=rows,
            links=links if with_links else None,
            text_columns=(1, 2),
            note=_("Không tính lượt xem của máy tìm kiếm và công cụ tự động."),
        )

    # ---- all

    def table(self, key: str, **kwargs) -> Table | None:
        builder = TABLES.get(key)
        return builder(self, **kwargs) if builder else None


TABLES: dict[str, Callable[..., Table]] = {
    "hop-tac-xa": Figures.cooperatives,
    "tinh-trang-htx": Figures.cooperative_status,
    "san-pham": Figures.products,
    "thoi-gian-duyet": Figures.review_times,
    "yeu-cau-bao-gia": Figures.inquiries,
    "xem-nhieu": Figures.most_viewed,
}


def median_hours(values: list[float]) -> float | None:
    """The median in hours, to one decimal; None when there is nothing to take it of."""
    if not values:
        return None
    return round(statistics.median(values), 1)


def format_hours(hours: float | None) -> str:
    """'45 phút', '5,5 giờ', '3,2 ngày' in the page's language; '—' when there is no figure."""
    if hours is None:
        return "—"
    locale = "vi_VN" if current_lang() == "vi" else "en_US"
    if hours < 1:
        minutes = max(1, round(hours * 60))
        return ngettext("%(num)d phút", "%(num)d phút", minutes)
    if hours < 48:
        text = format_decimal(round(hours, 1), locale=locale, format="#,##0.#")
        return ngettext("%(hours)s giờ", "%(hours)s giờ", 1 if hours == 1 else 2, hours=text)
    text = format_decimal(round(hours / 24, 1), locale=locale, format="#,##0.#")
    return ngettext("%(days)s ngày", "%(days)s ngày", 2, days=text)
