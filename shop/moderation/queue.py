"""The staff's single queue (/quan-tri/hang-cho): everything that waits, the oldest first.

Products sent for review, pending revisions of live products, buyers' report cases and
cooperatives awaiting verification, in one list across kinds; filters are GET arguments (a
shareable address, no JavaScript needed). Products and revisions can be approved from here,
several at once: each checkbox carries the item's id and a digest of what the row stood for,
and an item that changed or was decided since the page was drawn is skipped, not approved.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_sqlalchemy.pagination import SelectPagination

from shop import clock
from shop.access import staff_blueprint
from shop.audit.queries import vietnam_midnight
from shop.catalog import services as catalog_services
from shop.catalog.decisions import (
    email_owners,
    product_versions,
    revision_version,
)
from shop.catalog.models import Product, ProductStatus, RevisionStatus
from shop.catalog.queries import by_slug, is_row_id, page_number
from shop.cooperatives.models import Cooperative, Sector
from shop.extensions import db
from shop.forms import EmptyForm
from shop.moderation import queries
from shop.notify import messages
from shop.notify.messages import VIETNAM

bp = staff_blueprint("moderation_queue", __name__, url_prefix="/quan-tri/hang-cho")
for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)

PER_PAGE = 50
#: The most items one "approve the selected" request decides.
MAX_BULK = 100
#: "Waiting more than N days" choices.
AGES = (3, 7, 30)

#: The `loai` argument's values, by kind.
KIND_ARGS = {
    "product": "san-pham",
    "revision": "ban-sua",
    "report": "bao-cao",
    "cooperative": "htx",
}
KIND_BY_ARG = {arg: kind for kind, arg in KIND_ARGS.items()}
KIND_LABELS = {
    "product": _l("Sản phẩm mới"),
    "revision": _l("Bản sửa"),
    "report": _l("Báo cáo"),
    "cooperative": _l("HTX chờ xác minh"),
}
#: What a row is, in one item's words (the tabs above count many).
ROW_LABELS = {
    "product": _l("Sản phẩm gửi duyệt"),
    "revision": _l("Sửa sản phẩm đang bán"),
    "report": _l("Người mua báo cáo"),
    "cooperative": _l("Xác minh HTX"),
}
#: The query arguments of the queue, in the order its address writes them.
ARGS = ("loai", "linh_vuc", "htx", "cho_qua")

INVALID_MESSAGES = {
    "loai": _l("Loại mục không hợp lệ, bộ lọc này đã được bỏ qua."),
    "linh_vuc": _l("Lĩnh vực không có trong danh sách, bộ lọc này đã được bỏ qua."),
    "htx": _l("Không tìm thấy hợp tác xã này, bộ lọc này đã được bỏ qua."),
    "cho_qua": _l("Thời gian chờ chỉ chọn được 3, 7 hoặc 30 ngày; bộ lọc này đã được bỏ qua."),
}

#: A checkbox's value: kind, id, digest of what the row stood for.
ITEM_RE = re.compile(r"^(product|revision):([0-9]{1,10}):([0-9a-f]{32})$")


class RowPagination(SelectPagination):
    """Like db.paginate, but items are whole rows, not the first column."""

    def _query_items(self):
        stmt = self._query_args["select"]
        stmt = stmt.limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(stmt).all())


# --------------------------------------------------------------------------- filters


@dataclass
class QueueFilters:
    kind: str | None = None
    sector: Sector | None = None
    cooperative: Cooperative | None = None
    age: int | None = None
    #: Argument name -> the value that was ignored because it is not valid.
    invalid: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> "QueueFilters":
        filters = cls()
        raw = {name: (args.get(name) or "").strip()[:160] for name in ARGS}
        if raw["loai"]:
            filters.kind = KIND_BY_ARG.get(raw["loai"])
            if filters.kind is None:
                filters.invalid["loai"] = raw["loai"]
        if raw["linh_vuc"]:
            filters.sector = by_slug(Sector, raw["linh_vuc"])
            if filters.sector is None:
                filters.invalid["linh_vuc"] = raw["linh_vuc"]
        if raw["htx"]:
            filters.cooperative = by_slug(Cooperative, raw["htx"])
            if filters.cooperative is None:
                filters.invalid["htx"] = raw["htx"]
        if raw["cho_qua"]:
            if raw["cho_qua"] in {str(age) for age in AGES}:
                filters.age = int(raw["cho_qua"])
            else:
                filters.invalid["cho_qua"] = raw["cho_qua"]
        return filters

    def args(self, **changes) -> dict:
        """The query arguments of these filters (valid ones only), with `changes` applied."""
        values = {
            "loai": KIND_ARGS.get(self.kind) if self.kind else None,
            "linh_vuc": self.sector.slug if self.sector else None,
            "htx": self.cooperative.slug if self.cooperative else None,
            "cho_qua": str(self.age) if self.age else None,
        }
        values.update(changes)
        return {name: values[name] for name in ARGS if values.get(name)}

    def active(self) -> bool:
        return bool(self.args())

    def before(self) -> datetime | None:
        """Items waiting since before this instant have waited more than `age` days."""
        if not self.age:
            return None
        return vietnam_midnight(clock.today() - timedelta(days=self.age))

    def query_values(self, *, kind: bool = True) -> dict:
        values = {
            "sector_id": self.sector.id if self.sector else None,
            "cooperative_id": self.cooperative.id if self.cooperative else None,
            "before": self.before(),
        }
        if kind:
            values["kind"] = self.kind
        return values


def _local_date(value: datetime) -> date:
    if value.tzinfo is None:  # SQLite gives back UTC without its zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM).date()


def days_waiting(since: datetime) -> int:
    return max(0, (clock.today() - _local_date(since)).days)


# --------------------------------------------------------------------------- the count in the nav


@bp.app_template_global("waiting_total")
def waiting_total() -> int:
    """How many items wait for staff (one statement, once per request): the nav's badge."""
    if "waiting_total" not in g:
        g.waiting_total = db.session.scalar(queries.waiting_total()) or 0
    return g.waiting_total


# --------------------------------------------------------------------------- the page


@dataclass
class Row:
    kind: str
    id: int
    waiting_since: datetime
    #: The Vietnamese calendar day it has waited since, and how many days that is.
    since: date
    days: int
    sector: Sector | None
    title: str
    cooperative: Cooperative | None
    url: str
    #: The checkbox value (kind:id:digest) of items that can be approved from the queue.
    value: str | None = None
    product: Product | None = None
    report_count: int = 0


def _rows(items, sectors: dict, back: str) -> list[Row]:
    """What each waiting item shows, loaded in one statement per kind on the page."""
    ids = {kind: [item.id for item in items if item.kind == kind] for kind in queries.KINDS}
    products = (
        {p.id: p for p in db.session.scalars(queries.products_for_queue(ids["product"])).unique()}
        if ids["product"]
        else {}
    )
    versions = product_versions(products.values()) if products else {}
    revisions = (
        {r.id: r for r in db.session.scalars(queries.revisions_for_queue(ids["revision"])).unique()}
        if ids["revision"]
        else {}
    )
    cases = (
        {c.id: c for c in db.session.scalars(queries.cases_for_queue(ids["report"])).unique()}
        if ids["report"]
        else {}
    )
    cooperatives = (
        {c.id: c for c in db.session.scalars(queries.cooperatives_for_queue(ids["cooperative"]))}
        if ids["cooperative"]
        else {}
    )
    rows = []
    for item in items:
        common = {
            "kind": item.kind,
            "id": item.id,
            "waiting_since": item.waiting_since,
            "since": _local_date(item.waiting_since),
            "days": days_waiting(item.waiting_since),
            "sector": sectors.get(item.sector_id),
        }
        if item.kind == "product":
            product = products[item.id]
            rows.append(
                Row(
                    **common,
                    title=product.name_vi,
                    cooperative=product.cooperative,
                    product=product,
                    url=url_for("product_manage.detail", id=product.id, tu=back),
                    value=f"product:{product.id}:{versions[product.id]}",
                )
            )
        elif item.kind == "revision":
            revision = revisions[item.id]
            product = revision.product
            rows.append(
                Row(
                    **common,
                    title=product.name_vi,
                    cooperative=product.cooperative,
                    product=product,
                    url=url_for("product_manage.detail", id=product.id, tu=back)
                    + "#revision-title",
                    value=f"revision:{revision.id}:{revision_version(revision)}",
                )
            )
        elif item.kind == "report":
            case = cases[item.id]
            rows.append(
                Row(
                    **common,
                    title=case.product.name_vi,
                    cooperative=case.product.cooperative,
                    product=case.product,
                    url=url_for("moderation_manage.case", id=case.id),
                    report_count=case.report_count,
                )
            )
        else:
            cooperative = cooperatives[item.id]
            rows.append(
                Row(
                    **common,
                    title=cooperative.name,
                    cooperative=None,
                    url=url_for("cooperatives_manage.detail", id=cooperative.id),
                )
            )
    return rows


def queue_url(**args) -> str:
    return url_for("moderation_queue.queue", **args)


@bp.get("")
def queue():
    filters = QueueFilters.from_args(request.args)
    page = RowPagination(
        select=queries.queue(**filters.query_values()),
        session=db.session(),
        page=page_number(),
        per_page=PER_PAGE,
        error_out=True,
        count=True,
    )
    sectors = {sector.id: sector for sector in db.session.scalars(queries.sectors_in_order())}
    counts = dict(db.session.execute(queries.kind_counts(**filters.query_values(kind=False))).all())
    back = queue_url(**filters.args())
    cooperative_options = [
        (slug, f"{name} ({n})")
        for slug, name, n in db.session.execute(queries.waiting_cooperatives())
    ]
    if filters.cooperative and filters.cooperative.slug not in {
        slug for slug, _label in cooperative_options
    }:
        cooperative_options.append((filters.cooperative.slug, f"{filters.cooperative.name} (0)"))
    return render_template(
        "moderation/queue.html",
        page=page,
        rows=_rows(page.items, sectors, back),
        filters=filters,
        errors=[str(INVALID_MESSAGES[name]) for name in filters.invalid],
        counts=counts,
        total=sum(counts.values()),
        kinds=queries.KINDS,
        kind_labels=KIND_LABELS,
        row_labels=ROW_LABELS,
        kind_args=KIND_ARGS,
        sector_options=[(s.slug, s.t("name")) for s in sectors.values()],
        cooperative_options=cooperative_options,
        age_options=[
            (str(age), ngettext("Chờ hơn %(num)d ngày", "Chờ hơn %(num)d ngày", age))
            for age in AGES
        ],
        queue_url=queue_url,
        max_bulk=MAX_BULK,
    )


# --------------------------------------------------------------------------- bulk approve


def _back(form) -> str:
    """The queue with the filters the form was sent from, on its first page."""
    filters = QueueFilters.from_args(form)
    return queue_url(**filters.args())


def _parse(values) -> list[tuple[str, int, str]]:
    """(kind, id, digest) of each checkbox value; a malformed one is a 400."""
    parsed, seen = [], set()
    for value in values:
        match = ITEM_RE.match(value or "")
        if match is None:
            abort(400)
        kind, raw_id, digest = match.groups()
        item_id = int(raw_id)
        if not is_row_id(item_id):
            abort(400)
        if (kind, item_id) in seen:
            continue
        seen.add((kind, item_id))
        parsed.append((kind, item_id, digest))
    return parsed


@bp.post("/duyet")
def approve():
    """Approve the selected products and revisions: each the way its own page would."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    only = request.form.get("only")
    values = [only] if only else request.form.getlist("item")
    if not values:
        flash(_("Chưa chọn mục nào. Hãy đánh dấu các sản phẩm hoặc bản sửa cần duyệt."), "error")
        return redirect(_back(request.form))
    if len(values) > MAX_BULK:
        return render_template(
            "moderation/_queue_refused.html",
            message=_(
                "Mỗi lần duyệt được tối đa %(max)d mục, bạn đã chọn %(num)d. Không mục nào "
                "được duyệt; hãy chọn ít hơn rồi thử lại.",
                max=MAX_BULK,
                num=len(values),
            ),
            back=_back(request.form),
        ), 400
    items = _parse(values)
    product_ids = [item_id for kind, item_id, _d in items if kind == "product"]
    revision_ids = [item_id for kind, item_id, _d in items if kind == "revision"]
    products = {
        p.id: p for p in db.session.scalars(queries.products_for_queue(product_ids)).unique()
    }
    revisions = {
        r.id: r for r in db.session.scalars(queries.revisions_for_queue(revision_ids)).unique()
    }
    if len(products) != len(product_ids) or len(revisions) != len(revision_ids):
        abort(400)  # an id no row has: not a value the queue wrote
    # What each product looked like before anything is decided in this request.
    versions = product_versions(p for p in products.values() if p.status == ProductStatus.SUBMITTED)

    approved, skipped = [], []
    for kind, item_id, digest in items:
        if kind == "product":
            product = products[item_id]
            name = product.name_vi
            if product.status != ProductStatus.SUBMITTED or versions.get(product.id) != digest:
                skipped.append(name)
                continue
            try:
                catalog_services.approve(product, current_user)
            except catalog_services.AlreadyDecided:
                skipped.append(name)
                continue
            email_owners(product, "product_approved")
        else:
            revision = revisions[item_id]
            name = _("bản sửa của “%(name)s”", name=revision.product.name_vi)
            if revision.status != RevisionStatus.PENDING or revision_version(revision) != digest:
                skipped.append(name)
                continue
            try:
                catalog_services.approve_revision(revision, current_user)
            except catalog_services.AlreadyDecided:
                skipped.append(name)
                continue
            product = db.session.get(Product, revision.product_id)
            email_owners(product, "revision_approved")
        approved.append(name)
    db.session.commit()

    done = ngettext("Đã duyệt %(num)d mục", "Đã duyệt %(num)d mục", len(approved))
    if skipped:
        left = ngettext(
            "%(num)d mục đã được người khác xử lý hoặc vừa thay đổi nên chưa duyệt: %(names)s",
            "%(num)d mục đã được người khác xử lý hoặc vừa thay đổi nên chưa duyệt: %(names)s",
            len(skipped),
            names=", ".join(skipped),
        )
        flash(_("%(done)s; %(left)s.", done=done, left=left), "warning")
    else:
        flash(_("%(done)s.", done=done), "success")
    return redirect(_back(request.form))
