"""The cooperative dashboard (/quan-ly-htx): members run their own cooperative here.

The cooperative is always the signed-in member's own (`g.cooperative`, set by the member
guard); no form field or URL id ever selects another one. Ids in team URLs are looked up
within that cooperative only, so another cooperative's ids find nothing (404).
"""

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from shop.access import member_blueprint
from shop.accounts.models import User
from shop.cooperatives import queries, services
from shop.cooperatives.forms import CooperativeForm, InvitationForm
from shop.cooperatives.models import Cooperative, Invitation, MembershipRole
from shop.db import utcnow
from shop.extensions import db
from shop.forms import EmptyForm
from shop.media.images import MAX_BYTES, ImageRejected, MiB
from shop.media.services import store_image
from shop.notify import messages

bp = member_blueprint("dashboard", __name__, url_prefix="/quan-ly-htx")

for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)


def _cooperative():
    """The member's cooperative, with what its pages show."""
    return db.session.scalar(queries.cooperative_with_places(g.cooperative.id))


def _require_owner():
    if g.membership.role != MembershipRole.OWNER:
        abort(403)


def _invalid(form) -> int:
    return 422 if form.is_submitted() else 200


@bp.get("/")
def home():
    cooperative = _cooperative()
    notices = db.session.scalars(queries.notifications_of(cooperative.id)).all()
    return render_template(
        "cooperatives/dashboard/home.html",
        cooperative=cooperative,
        membership=g.membership,
        notices=notices,
        resubmit_form=EmptyForm(),
    )


def _profile_page(cooperative, form, status=200, image_errors=None):
    """The profile page: the logo and cover photo forms, then the profile form."""
    images = db.session.scalar(
        queries.cooperative_with_places(cooperative.id).options(
            joinedload(Cooperative.logo_image), joinedload(Cooperative.cover_image)
        )
    )
    return render_template(
        "cooperatives/dashboard/profile.html",
        cooperative=cooperative,
        form=form,
        locked=services.identity_locked(cooperative),
        profile_images={"logo": images.logo_image, "cover": images.cover_image},
        image_errors=image_errors or {},
        max_mb=MAX_BYTES // MiB,
    ), status


@bp.route("/ho-so", methods=["GET", "POST"])
def profile():
    cooperative = _cooperative()
    locked = services.identity_locked(cooperative)
    form = CooperativeForm(obj=cooperative, current=cooperative, identity_locked=locked)
    if form.validate_on_submit():
        changed = services.update_profile(current_user, cooperative, form.values())
        if request.form.get("resubmit") and services.resubmit(current_user, cooperative):
            db.session.commit()
            flash(_("Đã lưu và gửi lại hồ sơ. Liên minh HTX sẽ xem và xác minh."), "success")
            return redirect(url_for("dashboard.home"))
        db.session.commit()
        flash(_("Đã lưu hồ sơ.") if changed else _("Không có gì thay đổi."), "success")
        return redirect(url_for("dashboard.profile"))
    return _profile_page(cooperative, form, _invalid(form))


# --------------------------------------------------------------------------- logo and cover photo

IMAGE_DONE = {
    "logo": (_l("Đã cập nhật logo."), _l("Đã xóa logo.")),
    "cover": (_l("Đã cập nhật ảnh bìa."), _l("Đã xóa ảnh bìa.")),
}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _upload_profile_image(kind: str):
    """Store the uploaded photo (field `photo`) as the logo or cover photo; errors by the field."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    upload = request.files.get("photo")
    try:
        if upload is None or not upload.filename:
            raise ImageRejected("empty", _l("Hãy chọn một tấm ảnh để tải lên."))
        image = store_image(upload, current_user)
    except ImageRejected as refusal:
        db.session.rollback()
        if _wants_json():
            return jsonify(error=refusal.code, message=str(refusal.message)), refusal.status
        cooperative = _cooperative()
        locked = services.identity_locked(cooperative)
        form = CooperativeForm(
            formdata=None, obj=cooperative, current=cooperative, identity_locked=locked
        )
        return _profile_page(cooperative, form, refusal.status, {kind: refusal.message})
    services.set_profile_image(current_user, _cooperative(), kind, image)
    db.session.commit()
    target = url_for("dashboard.profile", _anchor="anh-ho-so")
    if _wants_json():
        return jsonify(ok=True, message=str(IMAGE_DONE[kind][0]), redirect=target)
    flash(IMAGE_DONE[kind][0], "success")
    return redirect(target)


def _remove_profile_image(kind: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    if services.remove_profile_image(current_user, _cooperative(), kind):
        db.session.commit()
        flash(IMAGE_DONE[kind][1], "success")
    return redirect(url_for("dashboard.profile", _anchor="anh-ho-so"))


@bp.post("/ho-so/logo")
def upload_logo():
    return _upload_profile_image("logo")


@bp.post("/ho-so/logo/xoa")
def remove_logo():
    return _remove_profile_image("logo")


@bp.post("/ho-so/anh-bia")
def upload_cover():
    return _upload_profile_image("cover")


@bp.post("/ho-so/anh-bia/xoa")
def remove_cover():
    return _remove_profile_image("cover")


@bp.post("/ho-so/gui-lai")
def resubmit():
    if not EmptyForm().validate_on_submit():
        abort(400)
    cooperative = _cooperative()
    if services.resubmit(current_user, cooperative):
        db.session.commit()
        flash(_("Đã gửi lại hồ sơ. Liên minh HTX sẽ xem và xác minh."), "success")
    else:
        flash(_("Hồ sơ không ở trạng thái cần bổ sung, nên không cần gửi lại."), "warning")
    return redirect(url_for("dashboard.home"))


# --------------------------------------------------------------------------- team


def _team_page(form=None, status=200):
    cooperative = _cooperative()
    team = db.session.execute(queries.team_of(cooperative.id)).all()
    invitations = db.session.scalars(queries.open_invitations(cooperative.id)).all()
    now = utcnow()
    return render_template(
        "cooperatives/dashboard/team.html",
        cooperative=cooperative,
        membership=g.membership,
        is_owner=g.membership.role == MembershipRole.OWNER,
        team=team,
        invitations=[(inv, services.aware(inv.expires_at) <= now) for inv in invitations],
        form=form or InvitationForm(),
        button_form=EmptyForm(),
    ), status


@bp.get("/thanh-vien")
def team():
    return _team_page()


@bp.post("/thanh-vien/moi")
def invite():
    _require_owner()
    form = InvitationForm()
    if not form.validate_on_submit():
        return _team_page(form, 422)
    cooperative = _cooperative()
    in_team = {user.email for _m, user in db.session.execute(queries.team_of(cooperative.id))}
    if form.email.data in in_team:
        form.email.errors.append(_("Người này đã ở trong nhóm quản lý của hợp tác xã."))
        return _team_page(form, 422)
    services.invite(current_user, cooperative, form.email.data, MembershipRole.EDITOR)
    db.session.commit()
    flash(
        _("Đã gửi lời mời tới %(email)s. Lời mời dùng được trong 7 ngày.", email=form.email.data),
        "success",
    )
    return redirect(url_for("dashboard.team"))


@bp.post("/thanh-vien/loi-moi/<int:id>/thu-hoi")
def revoke_invitation(id):
    _require_owner()
    if not EmptyForm().validate_on_submit():
        abort(400)
    invitation: Invitation = db.session.scalar(queries.open_invitation_in(g.cooperative.id, id))
    if invitation is None:
        abort(404)
    services.revoke_invitation(current_user, invitation)
    db.session.commit()
    flash(_("Đã thu hồi lời mời gửi %(email)s.", email=invitation.email), "success")
    return redirect(url_for("dashboard.team"))


def _team_member(id):
    membership = db.session.scalar(queries.membership_in(g.cooperative.id, id))
    if membership is None:
        abort(404)
    return membership


@bp.post("/thanh-vien/<int:id>/xoa")
def remove_member(id):
    _require_owner()
    if not EmptyForm().validate_on_submit():
        abort(400)
    membership = _team_member(id)
    if membership.role != MembershipRole.EDITOR:
        flash(_("Không thể xóa chủ tài khoản HTX. Hãy chuyển quyền trước."), "error")
        return redirect(url_for("dashboard.team"))
    user = services.remove_editor(current_user, _cooperative(), membership)
    db.session.commit()
    flash(_("%(who)s không còn trong nhóm quản lý.", who=user.name or user.email), "success")
    return redirect(url_for("dashboard.team"))


@bp.route("/thanh-vien/<int:id>/chuyen-quyen", methods=["GET", "POST"])
def transfer(id):
    _require_owner()
    successor = _team_member(id)
    if successor.role != MembershipRole.EDITOR:
        flash(_("Chỉ chuyển quyền được cho một biên tập viên của hợp tác xã."), "error")
        return redirect(url_for("dashboard.team"))
    form = EmptyForm()
    if form.validate_on_submit():
        services.transfer_ownership(current_user, _cooperative(), g.membership, successor)
        db.session.commit()
        flash(_("Đã chuyển quyền chủ tài khoản HTX. Bạn giờ là biên tập viên."), "success")
        return redirect(url_for("dashboard.team"))
    return render_template(
        "cooperatives/dashboard/transfer.html",
        cooperative=_cooperative(),
        successor=db.session.get(User, successor.user_id),
        form=form,
    )
