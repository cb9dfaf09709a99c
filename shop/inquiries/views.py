"""The buyer's inquiry list (/yeu-cau-bao-gia): add from product, cooperative and booth pages;
change quantities; remove. Anyone may keep one: in the session, or saved when signed in.

The rules are in shop.inquiries.lists; a refused change answers 400 or 422 with the reason and
leaves the list as it was. Sending the list is a separate step (contact form).
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.access import is_local_url, public_blueprint
from shop.catalog.models import Product
from shop.extensions import db
from shop.inquiries import lists
from shop.inquiries.forms import QUANTITY_PREFIX, AddForm, ListForm, typed_quantities
from shop.text.i18n import current_lang

bp = public_blueprint("inquiry_list", __name__, url_prefix="/yeu-cau-bao-gia")

# The list a visitor made before signing in joins their saved list (flask_login's signal).
user_logged_in.connect(lists.merge_on_sign_in)


def _owner():
    """The signed-in user, or None: an anonymous visitor's list lives in the session."""
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.app_template_global()
def inquiry_list_count() -> int:
    """The number of products on the visitor's list, for the header (no SQL when anonymous)."""
    return lists.line_count(_owner())


@bp.app_template_global()
def inquiry_quantity_value(value) -> str:
    """A quantity as a form field's value in the page's language: 1,5 (vi) or 1.5 (en)."""
    return lists.input_value(value, current_lang())


def _list_page(inquiry, status: int = 200, typed=None, errors=None, message=None):
    return (
        render_template(
            "inquiries/list.html",
            inquiry=inquiry,
            form=ListForm(),
            typed=typed or {},
            errors=errors or {},
            message=message,
            prefix=QUANTITY_PREFIX,
        ),
        status,
    )


@bp.get("")
def page():
    return _list_page(lists.read_list(_owner()))


@bp.post("/them")
def add():
    form = AddForm()
    next_url = form.next.data if is_local_url(form.next.data) else None
    try:
        result = lists.add(
            _owner(), form.product.data, form.quantity.data, form.booth.data, current_lang()
        )
        # Read what the message shows before the commit expires the product.
        message = lists.added_message(result, current_lang())
        back = next_url or url_for("catalog.product", slug=result.product.slug)
        db.session.commit()
    except lists.InquiryListError as error:
        page = _refused(error, form, next_url)  # before the rollback expires the product
        db.session.rollback()
        return page
    except IntegrityError:  # the same product added twice at once from two tabs
        db.session.rollback()
        error = lists.InquiryListError(
            _("Sản phẩm này vừa được thêm từ một trang khác. Hãy xem lại yêu cầu báo giá."), 409
        )
        return _refused(error, form, next_url)
    link = url_for("inquiry_list.page")
    flash(
        Markup('{} <a href="{}">{}</a>').format(message, link, _("Xem yêu cầu báo giá")),
        "success",
    )
    return redirect(back)


def _refused(error, form, next_url):
    product = getattr(error, "product", None)
    return (
        render_template(
            "inquiries/add_refused.html",
            error=error,
            product=product,
            typed=form.quantity.data or "",
            booth_id=form.booth.data or "",
            next_url=next_url,
        ),
        error.status,
    )


@bp.post("/cap-nhat")
def update():
    owner = _owner()
    typed = typed_quantities(request.form, lists.MAX_LINES)
    try:
        changed = lists.update_quantities(owner, typed, current_lang())
        db.session.commit()
    except lists.InquiryListError as error:
        db.session.rollback()
        errors = getattr(error, "errors", {})
        return _list_page(lists.read_list(owner), error.status, typed, errors, error.message)
    if changed:
        flash(_("Đã cập nhật số lượng."), "success")
    else:
        flash(_("Số lượng không thay đổi."), "success")
    return redirect(url_for("inquiry_list.page"))


@bp.post("/xoa")
def remove():
    owner = _owner()
    product_id = request.form.get("product")
    try:
        removed = lists.remove(owner, product_id)
        db.session.commit()
    except lists.InquiryListError as error:
        db.session.rollback()
        return _list_page(lists.read_list(owner), error.status, message=error.message)
    if removed:
        product = db.session.scalar(select(Product).where(Product.id == int(product_id)))
        flash(
            _("Đã xóa “%(name)s” khỏi yêu cầu báo giá.", name=product.t("name"))
            if product is not None
            else _("Đã xóa sản phẩm khỏi yêu cầu báo giá."),
            "success",
        )
    else:
        flash(_("Sản phẩm này không có trong yêu cầu báo giá của bạn."), "warning")
    return redirect(url_for("inquiry_list.page"))
