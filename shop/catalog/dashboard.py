"""The cooperative's products in its dashboard (/quan-ly-htx/san-pham): list, edit, send for review.

A product is always looked up by its id AND the member's cooperative in one query
(queries.own_product), so the id of another cooperative's product finds nothing: every page and
every button of it answers 404, whatever id is typed or tampered with.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import member_blueprint
from shop.catalog import queries, services
from shop.catalog.forms import MemberProductForm
from shop.catalog.models import (
    Product,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
    mask_to_months,
)
from shop.cooperatives.models import CooperativeStatus
from shop.extensions import db
from shop.forms import EmptyForm
from shop.notify import messages

bp = member_blueprint("product_dashboard", __name__, url_prefix="/quan-ly-htx/san-pham")

for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)
bp.add_app_template_global(mask_to_months, "months_of_mask")

PER_PAGE = 30
TABS = ("current", "archived")
#: Statuses from which a product can be sent for review (shop.catalog.services.submit).
SUBMITTABLE = (ProductStatus.DRAFT, ProductStatus.CHANGES_REQUESTED)
SENT_BACK = (RevisionStatus.CHANGES_REQUESTED, RevisionStatus.REJECTED)


# --------------------------------------------------------------------------- helpers


def _own_product_or_404(id) -> Product:
    """The member's own product; another cooperative's id is a 404, never a 403 that confirms it."""
    if not queries.is_row_id(id):
        abort(404)
    product = db.session.scalar(queries.own_product(g.cooperative.id, id))
    if product is None:
        abort(404)
    return product


def _require_button() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


def _verified() -> bool:
    return g.cooperative.status == CooperativeStatus.VERIFIED


def _editing_values(product: Product, revision: ProductRevision | None) -> dict:
    """What the member is editing: the live values, with a pending revision's on top."""
    values = services.current_values(product)
    if revision is not None:
        values.update(services.from_json(revision.data or {}))
    return values


def _unchanged(before: dict, values: dict) -> bool:
    return all(queries.same_value(before.get(key), value) for key, value in values.items())


def _form_page(template, form, status, **context):
    return render_template(
        template,
        form=form,
        cooperative=g.cooperative,
        verified=_verified(),
        **context,
    ), status


def _conflict(product_id: int):
    """The product's status changed first (a second click, a teammate): show what it is (409)."""
    db.session.rollback()
    product = db.session.scalar(queries.own_product(g.cooperative.id, product_id))
    return render_template(
        "catalog/dashboard/conflict.html", cooperative=g.cooperative, product=product
    ), 409


def _send_for_review(product: Product) -> bool:
    """Submit after saving; False (with the reason flashed) when it cannot be sent."""
    try:
        services.submit(product, current_user)
    except services.ProductError as error:
        flash(str(error.message), "warning")
        return False
    return True


# --------------------------------------------------------------------------- pages


@bp.get("")
def products():
    tab = request.args.get("tab")
    tab = tab if tab in TABS else "current"
    page = queries.paginate(
        queries.cooperative_products(g.cooperative.id, archived=tab == "archived"), PER_PAGE
    )
    ids = [p.id for p in page.items]
    latest = {r.product_id: r for r in db.session.scalars(queries.latest_revisions(ids))}
    counts = {
        bool(archived): n
        for archived, n in db.session.execute(queries.cooperative_product_counts(g.cooperative.id))
    }
    return render_template(
        "catalog/dashboard/list.html",
        cooperative=g.cooperative,
        verified=_verified(),
        page=page,
        tab=tab,
        counts={"current": counts.get(False, 0), "archived": counts.get(True, 0)},
        latest=latest,
        photos=dict(db.session.execute(queries.photo_counts(ids)).all()),
    )


@bp.route("/moi", methods=["GET", "POST"])
def new():
    form = MemberProductForm(queries.display_names())
    if form.validate_on_submit():
        product = services.create_product(g.cooperative, current_user, form.values())
        sent = request.form.get("send") and _send_for_review(product)
        db.session.commit()
        if sent:
            flash(_("Đã lưu và gửi “%(name)s” đi duyệt.", name=product.name_vi), "success")
        else:
            flash(_("Đã lưu bản nháp “%(name)s”.", name=product.name_vi), "success")
        return redirect(url_for(".product", id=product.id))
    return _form_page(
        "catalog/dashboard/form.html",
        form,
        422 if form.is_submitted() else 200,
        product=None,
        revision=None,
    )


@bp.get("/<int:id>")
def product(id):
    product = _own_product_or_404(id)
    revision = db.session.scalar(queries.pending_revision(product.id))
    sent_back = None
    if revision is None and product.status == ProductStatus.PUBLISHED:
        # The last revision staff sent back: the member reads why, the live version stays.
        latest = db.session.scalar(queries.latest_revisions([product.id]))
        if latest is not None and latest.status in SENT_BACK and latest.reason != "archived":
            sent_back = latest
    names = queries.display_names()
    return render_template(
        "catalog/dashboard/product.html",
        cooperative=g.cooperative,
        verified=_verified(),
        product=product,
        revision=revision,
        changes=queries.revision_changes(product, revision) if revision else None,
        sent_back=sent_back,
        names=names,
        # The photos as the member edits them (a pending revision's, once live).
        photo_count=len(services.photos_of(product)),
        submittable=product.status in SUBMITTABLE,
        button_form=EmptyForm(),
    )


@bp.route("/<int:id>/sua", methods=["GET", "POST"])
def edit(id):
    product = _own_product_or_404(id)
    if product.status == ProductStatus.ARCHIVED:
        flash(_("Sản phẩm đã lưu trữ. Khôi phục trước khi sửa."), "warning")
        return redirect(url_for(".product", id=product.id))
    revision = db.session.scalar(queries.pending_revision(product.id))
    before = _editing_values(product, revision)
    form = MemberProductForm(
        queries.display_names(), data=MemberProductForm.data_from_values(before)
    )
    if form.validate_on_submit():
        values = form.values()
        changed = not _unchanged(before, values)
        if changed:
            services.update_product(product, current_user, values)
        send = request.form.get("send") and product.status in SUBMITTABLE
        sent = send and _send_for_review(product)
        db.session.commit()
        if sent:
            flash(_("Đã lưu và gửi “%(name)s” đi duyệt.", name=product.name_vi), "success")
        elif not changed:
            flash(_("Không có gì thay đổi."), "warning")
        elif product.status == ProductStatus.PUBLISHED:
            flash(
                _(
                    "Đã gửi bản sửa. Liên minh HTX sẽ duyệt; trong lúc chờ, người mua vẫn "
                    "thấy bản đang bán."
                ),
                "success",
            )
        else:
            flash(_("Đã lưu “%(name)s”.", name=product.name_vi), "success")
        return redirect(url_for(".product", id=product.id))
    return _form_page(
        "catalog/dashboard/form.html",
        form,
        422 if form.is_submitted() else 200,
        product=product,
        revision=revision,
    )


# --------------------------------------------------------------------------- buttons


def _act(id, action, message):
    """Run a lifecycle action on the member's product, then back to its page."""
    product = _own_product_or_404(id)
    _require_button()
    try:
        result = action(product, current_user)
    except services.AlreadyDecided:
        return _conflict(product.id)
    except services.ProductError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for(".product", id=id))
    db.session.commit()
    if isinstance(result, Product):
        flash(message(result), "success")
        return redirect(url_for(".edit", id=result.id))
    flash(message(product), "success")
    return redirect(url_for(".product", id=id))


@bp.post("/<int:id>/gui-duyet")
def submit(id):
    return _act(
        id,
        services.submit,
        lambda p: _(
            "Đã gửi “%(name)s” đi duyệt. Liên minh HTX sẽ xem và trả lời trên trang này.",
            name=p.name_vi,
        ),
    )


@bp.post("/<int:id>/luu-tru")
def archive(id):
    return _act(
        id,
        services.archive,
        lambda p: _(
            "Đã lưu trữ “%(name)s”. Người mua không còn thấy sản phẩm này.", name=p.name_vi
        ),
    )


@bp.post("/<int:id>/khoi-phuc")
def restore(id):
    return _act(
        id,
        services.restore,
        lambda p: _(
            "Đã khôi phục “%(name)s” thành bản nháp. Gửi duyệt lại để bán.", name=p.name_vi
        ),
    )


@bp.post("/<int:id>/nhan-ban")
def duplicate(id):
    return _act(
        id,
        services.duplicate,
        lambda copy: _(
            "Đã tạo bản sao “%(name)s”. Hãy sửa tên và thông tin, rồi lưu.", name=copy.name_vi
        ),
    )
