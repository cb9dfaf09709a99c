"""Joining the marketplace: registering a cooperative, and accepting an invitation to one."""

from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import account_blueprint, public_blueprint
from shop.cooperatives import queries, services
from shop.cooperatives.forms import CooperativeForm
from shop.extensions import db
from shop.forms import EmptyForm
from shop.notify import messages

registration = account_blueprint("registration", __name__, url_prefix="/tai-khoan")
invitations = public_blueprint("invitations", __name__, url_prefix="/tai-khoan")
for _name, _helper in messages.template_globals().items():
    invitations.add_app_template_global(_helper, _name)

#: The status of the invitation page for each reason it cannot be accepted.
PROBLEM_STATUS = {
    "unknown": 404,
    "expired": 410,
    "revoked": 410,
    "used": 410,
    "wrong_email": 409,
    "already_member": 409,
    "member_elsewhere": 409,
    "staff": 409,
}


@registration.route("/dang-ky-htx", methods=["GET", "POST"])
def register():
    if not services.can_register(current_user):
        membership = queries.membership_of(current_user)
        return render_template("cooperatives/register_unavailable.html", membership=membership), (
            200 if request.method == "GET" else 409
        )
    form = CooperativeForm()
    if form.validate_on_submit():
        services.register_cooperative(current_user, form.values())
        db.session.commit()
        flash(
            _("Đã nhận hồ sơ đăng ký. Liên minh HTX sẽ xác minh trong vài ngày làm việc."),
            "success",
        )
        return redirect(url_for("dashboard.home"))
    return render_template("cooperatives/register.html", form=form), (
        422 if form.is_submitted() else 200
    )


def _auth_links(path: str) -> dict:
    query = urlencode({"next": path}, safe="/")
    return {
        # The sign-up page belongs to the accounts domain; its path is part of the contract.
        "login": url_for("auth.login", next=path),
        "signup": f"/tai-khoan/dang-ky?{query}",
    }


@invitations.route("/loi-moi/<token>", methods=["GET", "POST"])
def accept(token):
    invitation = services.find_invitation(token)
    user = current_user if current_user.is_authenticated else None
    if request.method == "POST":
        if user is None:
            return redirect(url_for("auth.login", next=request.path))
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            services.accept_invitation(user, invitation)
        except services.InvitationRefused as refused:
            # Refused before anything was written; the request ends without a commit.
            return _invitation_page(token, invitation, refused.reason)
        db.session.commit()
        flash(_("Chào mừng bạn vào nhóm quản lý hợp tác xã."), "success")
        return redirect(url_for("dashboard.home"))
    return _invitation_page(token, invitation, services.invitation_problem(invitation, user))


def _invitation_page(token, invitation, problem):
    return render_template(
        "cooperatives/invitation.html",
        invitation=invitation,
        problem=problem,
        form=EmptyForm(),
        links=_auth_links(url_for("invitations.accept", token=token)),
    ), PROBLEM_STATUS.get(problem, 200)
