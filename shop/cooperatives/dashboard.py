"""The cooperative dashboard (/quan-ly-htx): members run their own cooperative here.

The cooperative is always the signed-in member's own (`g.cooperative`, set by the member
guard); no form field or URL id ever selects another one. Ids in team URLs are looked up
within that cooperative only, so another cooperative's ids find nothing (404).
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import member_blueprint
from shop.accounts.models import User
from shop.cooperatives import queries, services
from shop.cooperatives.forms import CooperativeForm, InvitationForm
from shop.cooperatives.models import Invitation, MembershipRole
from shop.db import utcnow
from shop.extensions import db
from shop.forms import EmptyForm
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
    return render_template(
        "cooperatives/dashboard/profile.html",
        cooperative=cooperative,
        form=form,
        locked=locked,
    ), _invalid(form)


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
