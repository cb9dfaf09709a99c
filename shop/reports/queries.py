"""Reads behind the alliance's dashboard: each returns a select() of grouped figures."""

from datetime import date, datetime, timedelta

from sqlalchemy import Select, String, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.functions import FunctionElement

from shop.audit.models import AuditEntry
from shop.catalog.models import Product, ProductRevision
from shop.cooperatives.models import Cooperative, Sector
from shop.inquiries.models import Inquiry
from shop.reports.models import DailyCount

#: Audit actions that end a product's review (shop.catalog.services).
PRODUCT_DECISIONS = ("product.approved", "product.changes_requested", "product.rejected")


class vietnam_month(FunctionElement):  # noqa: N801 (reads like the SQL function it stands for)
    """'YYYY-MM' of a UTC timestamp column, in Vietnam's calendar (UTC+7, no daylight saving)."""

    type = String()
    inherit_cache = True
    name = "vietnam_month"


@compiles(vietnam_month, "sqlite")
def _vietnam_month_sqlite(element, compiler, **kw):
    # SQLite keeps the UTC time as text without its zone; literals, not bound parameters, so
    # the same expression can be grouped by.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '+7 hours')"


@compiles(vietnam_month, "postgresql")
def _vietnam_month_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"to_char(timezone('Asia/Ho_Chi_Minh', {column}), 'YYYY-MM')"


def sectors() -> Select:
    """The seven sectors, in the order of the alliance's report."""
    return select(Sector).order_by(Sector.sort_order, Sector.id)


def cooperatives_by_sector_and_form() -> Select:
    """(sector id, legal form, cooperatives), every cooperative whatever its status."""
    return select(
        Cooperative.sector_id, Cooperative.legal_form, func.count(Cooperative.id)
    ).group_by(Cooperative.sector_id, Cooperative.legal_form)


def cooperatives_by_status() -> Select:
    """(status, cooperatives, of which without a tax code)."""
    no_tax_code = or_(Cooperative.tax_code.is_(None), Cooperative.tax_code == "")
    return select(
        Cooperative.status,
        func.count(Cooperative.id),
        func.coalesce(func.sum(case((no_tax_code, 1), else_=0)), 0),
    ).group_by(Cooperative.status)


def products_by_sector_and_status() -> Select:
    """(sector id, status, products), by the product's own sector."""
    return select(Product.sector_id, Product.status, func.count(Product.id)).group_by(
        Product.sector_id, Product.status
    )


def product_review_times(start: datetime, end: datetime) -> Select:
    """(decided at, submitted at) of each staff decision on a product in [start, end).

    A decision is timed from the latest "product.submitted" before it, so a resubmission
    after changes were requested starts a new clock. A product imported as submitted has no
    such entry: its decision comes with None and is left out of the figures.
    """
    decision = aliased(AuditEntry)
    submitted_at = (
        select(func.max(AuditEntry.created_at))
        .where(
            AuditEntry.target_type == "product",
            AuditEntry.target_id == decision.target_id,
            AuditEntry.action == "product.submitted",
            AuditEntry.created_at <= decision.created_at,
        )
        .correlate(decision)
        .scalar_subquery()
    )
    return select(decision.created_at, submitted_at.label("submitted_at")).where(
        decision.target_type == "product",
        decision.action.in_(PRODUCT_DECISIONS),
        decision.created_at >= start,
        decision.created_at < end,
    )


def revision_review_times(start: datetime, end: datetime) -> Select:
    """(decided at, sent at) of each revision decided in [start, end)."""
    return select(ProductRevision.decided_at, ProductRevision.created_at).where(
        ProductRevision.decided_at.is_not(None),
        ProductRevision.decided_at >= start,
        ProductRevision.decided_at < end,
    )


def inquiries_by_month_and_sector(start: datetime, end: datetime) -> Select:
    """('YYYY-MM' in Vietnam, sector id of the cooperative asked, inquiries) in [start, end)."""
    month = vietnam_month(Inquiry.created_at)
    return (
        select(month, Cooperative.sector_id, func.count(Inquiry.id))
        .join(Cooperative, Cooperative.id == Inquiry.cooperative_id)
        .where(Inquiry.created_at >= start, Inquiry.created_at < end)
        .group_by(month, Cooperative.sector_id)
    )


def most_viewed_products(today: date, days: int = 30, limit: int = 10) -> Select:
    """(product with its cooperative, views) over the `days` days ending `today`, most first."""
    views = (
        select(
            DailyCount.subject_id.label("product_id"),
            func.sum(DailyCount.count).label("views"),
        )
        .where(
            DailyCount.kind == "product_view",
            DailyCount.day > today - timedelta(days=days),
            DailyCount.day <= today,
        )
        .group_by(DailyCount.subject_id)
        .subquery()
    )
    return (
        select(Product, views.c.views)
        .join(views, views.c.product_id == Product.id)
        .options(joinedload(Product.cooperative))
        .order_by(views.c.views.desc(), Product.id)
        .limit(limit)
    )
