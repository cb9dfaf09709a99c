"""The photos of a product, on the cooperative dashboard: add, remove, order, cover, alt text.

Every URL names the product by id, and the product is looked up by that id *and* the member's
own cooperative, so another cooperative's product is a 404, like a photo id that is not in the
product. Photos of a live product go into its pending revision (shop.catalog.services): buyers
keep seeing the approved photos until staff approve.

Each action answers a plain form post with a redirect back to the page, and a script that asks
for JSON (static/js/photos.js: uploads several photos with a progress bar, drag to reorder)
with JSON. Without the script everything still works: one photo per upload, buttons to move.
"""

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from shop.access import member_blueprint
from shop.catalog.models import Product, ProductStatus
from shop.catalog.services import (
    MAX_PHOTOS,
    ProductError,
    add_photo,
    move_photo,
    open_revision,
    photos_of,
    remove_photo,
    reorder_photos,
    set_alt,
    set_cover,
)
from shop.cooperatives.queries import membership_of
from shop.extensions import db
from shop.forms import EmptyForm, Form
from shop.media.images import MAX_BYTES, TOO_LARGE_MESSAGE, ImageRejected, MiB
from shop.media.models import StoredImage
from shop.media.services import store_image

bp = member_blueprint("product_photos", __name__, url_prefix="/quan-ly-htx/san-pham")

FULL_MESSAGE = _l("Mỗi sản phẩm có tối đa %(n)d ảnh. Xóa bớt ảnh trước khi thêm.", n=MAX_PHOTOS)


# --------------------------------------------------------------------------- forms


class PhotoForm(Form):
    """Names one photo of the product (remove, make cover)."""

    image_id = IntegerField(validators=[InputRequired()])


class MoveForm(PhotoForm):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])


class AltForm(PhotoForm):
    alt_vi = StringField(_l("Mô tả ảnh (tiếng Việt)"), validators=[Length(max=255)])
    alt_en = StringField(_l("Mô tả ảnh (tiếng Anh)"), validators=[Length(max=255)])


class OrderForm(Form):
    """The photos' image ids in their new order (sent by the drag-and-drop script)."""

    order = SelectMultipleField(coerce=int, validate_choice=False)


# --------------------------------------------------------------------------- helpers


def _own_product(id: int) -> Product:
    """The member's own product with this id, or 404."""
    product = db.session.scalar(
        select(Product).where(Product.id == id, Product.cooperative_id == g.cooperative.id)
    )
    if product is None:
        abort(404)
    return product


def _photo_rows(product: Product) -> list:
    """(Photo, StoredImage) pairs in display order, as the member is editing them."""
    photos = photos_of(product)
    ids = [photo.image_id for photo in photos]
    images = {
        image.id: image
        for image in db.session.scalars(select(StoredImage).where(StoredImage.id.in_(ids)))
    }
    return [(photo, images[photo.image_id]) for photo in photos if photo.image_id in images]


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _page(product: Product, *, upload_error=None, status: int = 200):
    rows = _photo_rows(product)
    revision = open_revision(product) if product.status == ProductStatus.PUBLISHED else None
    return render_template(
        "catalog/dashboard/photos.html",
        cooperative=g.cooperative,
        product=product,
        rows=rows,
        max_photos=MAX_PHOTOS,
        max_mb=MAX_BYTES // MiB,
        room=max(0, MAX_PHOTOS - len(rows)),
        live=product.status == ProductStatus.PUBLISHED,
        archived=product.status == ProductStatus.ARCHIVED,
        photos_pending=revision is not None and revision.images is not None,
        upload_error=upload_error,
        # formdata=None: never read the request body here (it may be the 413 being answered).
        alt_form=AltForm(formdata=None),
    ), status


def _done(product: Product, message, anchor: int | None = None, changed: bool = True):
    """Say what was saved (and, for a live product, that it waits for review); go back."""
    if changed and product.status == ProductStatus.PUBLISHED:
        message = _(
            "%(done)s Người mua sẽ thấy thay đổi sau khi Liên minh HTX duyệt.", done=message
        )
    if _wants_json():
        count = len(photos_of(product))
        return jsonify(ok=True, message=str(message), count=count, room=MAX_PHOTOS - count)
    flash(message, "success" if changed else "warning")
    url = url_for("product_photos.photos", id=product.id)
    return redirect(f"{url}#anh-{anchor}" if anchor else url)


def _refused(product: Product, message, status: int):
    """An action that could not be done: nothing was written; say why."""
    db.session.rollback()
    if _wants_json():
        return jsonify(error="refused", message=str(message)), status
    flash(message, "error")
    return redirect(url_for("product_photos.photos", id=product.id)), 303


def _photo_form(form_class, product: Product):
    """A valid form naming a photo of this product; a bad form is 400, another photo 404."""
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    if form.image_id.data not in {photo.image_id for photo in photos_of(product)}:
        abort(404)
    return form


# --------------------------------------------------------------------------- pages


@bp.get("/<int:id>/anh")
def photos(id):
    return _page(_own_product(id))


@bp.post("/<int:id>/anh/tai-len")
def upload(id):
    """Store one uploaded photo (field `photo`) and add it to the product."""
    product = _own_product(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _upload_refused(product, _("Hãy chọn một tấm ảnh để tải lên."), 400)
    if product.status == ProductStatus.ARCHIVED:
        return _upload_refused(product, _("Sản phẩm đã lưu trữ. Khôi phục trước khi sửa."), 409)
    photos = photos_of(product)
    # Checked before the file is processed, so a refused upload leaves no file and no row.
    if len(photos) >= MAX_PHOTOS:
        return _upload_refused(product, FULL_MESSAGE, 409)
    try:
        image = store_image(upload, current_user)
    except ImageRejected as refusal:
        return _upload_refused(product, refusal.message, refusal.status)
    if any(photo.image_id == image.id for photo in photos):
        # The same picture again: store_image found its row, so nothing was written.
        return _done(product, _("Ảnh này đã có trong sản phẩm."), anchor=image.id, changed=False)
    try:
        add_photo(product, current_user, image)
    except ProductError as error:
        # Only a concurrent upload can get here; the files stay for `media gc`.
        return _upload_refused(product, error.message, error.status)
    db.session.commit()
    return _done(product, _("Đã thêm ảnh."), anchor=image.id)


def _upload_refused(product: Product, message, status: int):
    """Refuse an upload: the message goes next to the upload field."""
    db.session.rollback()
    if _wants_json():
        return jsonify(error="refused", message=str(message)), status
    return _page(product, upload_error=message, status=status)


@bp.errorhandler(413)
def too_large(error):
    """A body over MAX_CONTENT_LENGTH: the photos page again, with the reason by the field.

    Raised while the body is read, before the member guard has run, so the product is looked
    up here the same way; anyone else gets the site's ordinary 413 page.
    """
    product = None
    membership = membership_of(current_user) if current_user.is_authenticated else None
    if membership is not None and request.view_args and "id" in request.view_args:
        g.membership, g.cooperative = membership, membership.cooperative
        product = db.session.scalar(
            select(Product).where(
                Product.id == request.view_args["id"],
                Product.cooperative_id == membership.cooperative_id,
            )
        )
    if _wants_json():
        return jsonify(error="too_large", message=str(TOO_LARGE_MESSAGE)), 413
    if product is None:
        return render_template("errors/413.html", message=TOO_LARGE_MESSAGE), 413
    return _page(product, upload_error=TOO_LARGE_MESSAGE, status=413)


@bp.post("/<int:id>/anh/xoa")
def remove(id):
    product = _own_product(id)
    form = _photo_form(PhotoForm, product)
    try:
        remove_photo(product, current_user, form.image_id.data)
    except ProductError as error:
        return _refused(product, error.message, error.status)
    db.session.commit()
    return _done(product, _("Đã xóa ảnh."))


@bp.post("/<int:id>/anh/anh-bia")
def cover(id):
    product = _own_product(id)
    form = _photo_form(PhotoForm, product)
    try:
        set_cover(product, current_user, form.image_id.data)
    except ProductError as error:
        return _refused(product, error.message, error.status)
    db.session.commit()
    return _done(product, _("Đã đặt làm ảnh bìa."), anchor=form.image_id.data)


@bp.post("/<int:id>/anh/di-chuyen")
def move(id):
    """Move one photo up or down: the way to reorder without JavaScript."""
    product = _own_product(id)
    form = _photo_form(MoveForm, product)
    offset = -1 if form.direction.data == "up" else 1
    try:
        move_photo(product, current_user, form.image_id.data, offset)
    except ProductError as error:
        return _refused(product, error.message, error.status)
    db.session.commit()
    return _done(product, _("Đã đổi thứ tự ảnh."), anchor=form.image_id.data)


@bp.post("/<int:id>/anh/thu-tu")
def order(id):
    """Save the order of all the photos at once (after dragging them)."""
    product = _own_product(id)
    form = OrderForm()
    if not form.validate_on_submit() or not form.order.data:
        abort(400)
    try:
        reorder_photos(product, current_user, form.order.data)
    except ProductError as error:
        # Usually a page left open while photos were added or removed elsewhere.
        return _refused(product, error.message, 409)
    db.session.commit()
    return _done(product, _("Đã lưu thứ tự ảnh."))


@bp.post("/<int:id>/anh/mo-ta")
def describe(id):
    """Save a photo's alt text; the product's name is the default, kept as no text."""
    product = _own_product(id)
    form = AltForm()
    if not form.validate_on_submit():
        if set(form.errors) <= {"alt_vi", "alt_en"}:
            return _refused(product, _("Mô tả ảnh dài tối đa 255 ký tự."), 400)
        abort(400)
    if form.image_id.data not in {photo.image_id for photo in photos_of(product)}:
        abort(404)
    # The field shows the product's name when there is no alt text; sent back unchanged, it
    # stays "no alt text", so the photo keeps following the name if the name changes.
    alt_vi = form.alt_vi.data if form.alt_vi.data != product.name_vi else None
    alt_en = form.alt_en.data if form.alt_en.data != (product.name_en or "") else None
    try:
        set_alt(product, current_user, form.image_id.data, alt_vi or None, alt_en or None)
    except ProductError as error:
        return _refused(product, error.message, error.status)
    db.session.commit()
    return _done(product, _("Đã lưu mô tả ảnh."), anchor=form.image_id.data)
