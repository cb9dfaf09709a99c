"""Signing in and out, signing up, passwords (public); the signed-in user's own account pages.

Every form that fails validation is shown again with status 400 and its messages beside the
fields; what was typed stays, except passwords. Views commit once; services only flush.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop.access import account_blueprint, is_local_url, public_blueprint
from shop.accounts import services, sessions, throttle
from shop.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from shop.accounts.models import Role
from shop.extensions import db

auth = public_blueprint("auth", __name__, url_prefix="/tai-khoan")
account = account_blueprint("account", __name__, url_prefix="/tai-khoan")

ROLE_LABELS = {
    Role.BUYER: _l("Người mua"),
    Role.MEMBER: _l("Thành viên hợp tác xã"),
    Role.STAFF: _l("Cán bộ Liên minh HTX"),
    Role.ADMIN: _l("Quản trị viên"),
}
#: Where a cooperative is registered (the cooperatives domain owns that page).
COOPERATIVE_SIGNUP_PATH = "/tai-khoan/dang-ky-htx"


def _next_url() -> str | None:
    target = request.args.get("next")
    return target if is_local_url(target) else None


def landing_url(user) -> str:
    """Where a user starts after signing in: their dashboard, the console or the home page."""
    if user.role == Role.MEMBER:
        return url_for("dashboard.home")
    if user.is_staff:
        return url_for("console.home")
    return url_for("pages.home")


def _form_page(template: str, status_if_posted: int = 400, **context):
    """Render a form page: 200 when first shown, `status_if_posted` when shown again with errors."""
    status = status_if_posted if request.method == "POST" else 200
    return render_template(template, **context), status


def _field_error(form, error: services.AccountError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors.append(error.message)
    else:
        form.form_errors.append(error.message)


# --------------------------------------------------------------------------- public


@auth.route("/dang-nhap", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = _next_url()
    if form.validate_on_submit():
        attempt = throttle.LoginAttempt(form.email.data)  # 429 before any password is checked
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            attempt.failed()
            form.form_errors.append(_("Email hoặc mật khẩu không đúng."))
            return _form_page("accounts/login.html", form=form, next_url=next_url)
        attempt.succeeded()
        if not user.is_active_account:
            db.session.commit()
            form.form_errors.append(
                _("Tài khoản này đã bị khóa. Vui lòng liên hệ Liên minh HTX tỉnh để được hỗ trợ.")
            )
            return _form_page("accounts/login.html", 403, form=form, next_url=next_url)
        sessions.begin(user)
        db.session.commit()
        return redirect(next_url or landing_url(user))
    return _form_page("accounts/login.html", form=form, next_url=next_url)


@auth.post("/dang-xuat")
def logout():
    sessions.end()
    db.session.commit()
    flash(_("Bạn đã đăng xuất."), "success")
    return redirect(url_for("pages.home"))


@auth.route("/dang-ky", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    next_url = _next_url()
    if form.validate_on_submit():
        throttle.allow_signup()
        try:
            user = services.signup(form.name.data, form.email.data, form.password.data)
            sessions.begin(user)
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            _field_error(form, error)
        except IntegrityError:  # the same address signed up a moment ago
            db.session.rollback()
            form.email.errors.append(
                _("Email này đã có tài khoản. Bạn có thể đăng nhập hoặc lấy lại mật khẩu.")
            )
        else:
            flash(
                _("Chào mừng %(name)s! Tài khoản của bạn đã sẵn sàng.", name=user.name), "success"
            )
            return redirect(next_url or url_for("account.home"))
    return _form_page("accounts/signup.html", form=form, next_url=next_url)


@auth.route("/quen-mat-khau", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The same answer whether or not the address has an account (no enumeration).
        if throttle.allow_reset_request(form.email.data):
            services.request_password_reset(form.email.data)
            db.session.commit()
        return render_template("accounts/forgot_password_sent.html", email=form.email.data)
    return _form_page("accounts/forgot_password.html", form=form)


@auth.route("/dat-lai-mat-khau/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        user = services.user_for_reset_token(token)
    except services.ResetLinkExpired:
        return _reset_link_dead(expired=True)
    except services.ResetLinkInvalid:
        return _reset_link_dead(expired=False)
    form = ResetPasswordForm(account_email=user.email)
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        throttle.clear_account(user.email)
        db.session.commit()
        flash(_("Đã đặt mật khẩu mới. Mời bạn đăng nhập."), "success")
        return redirect(url_for("auth.login"))
    response, status = _form_page("accounts/reset_password.html", form=form, user=user)
    return response, status, {"Referrer-Policy": "no-referrer"}


def _reset_link_dead(expired: bool):
    page = render_template("accounts/reset_link_dead.html", expired=expired)
    return page, 400, {"Referrer-Policy": "no-referrer"}


# --------------------------------------------------------------------------- signed in


@account.get("/")
def home():
    return render_template(
        "accounts/home.html",
        role_label=ROLE_LABELS[current_user.role],
        # Only buyers are "not yet a member": members belong to one cooperative, staff to none.
        may_register_cooperative=current_user.role == Role.BUYER,
        cooperative_signup_path=COOPERATIVE_SIGNUP_PATH,
    )


@account.route("/doi-mat-khau", methods=["GET", "POST"])
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(account_email=user.email)
    if form.validate_on_submit():
        attempt = throttle.LoginAttempt(user.email)  # guessing here counts like at the login
        if services.authenticate(user.email, form.current_password.data) is None:
            attempt.failed()
            form.current_password.errors.append(_("Mật khẩu hiện tại không đúng."))
            return _form_page("accounts/change_password.html", form=form)
        attempt.succeeded()
        services.change_password(user, user, form.password.data)
        # Every browser was signed out, this one too (a copied cookie carries its token);
        # sign this one in again with a new token.
        sessions.begin(user)
        db.session.commit()
        flash(_("Đã đổi mật khẩu. Các thiết bị khác đã được đăng xuất."), "success")
        return redirect(url_for("account.home"))
    return _form_page("accounts/change_password.html", form=form)


@account.post("/dang-xuat-moi-noi")
def logout_everywhere():
    user = current_user._get_current_object()
    sessions.revoke_all(user)
    sessions.end()
    db.session.commit()
    flash(_("Bạn đã đăng xuất trên mọi thiết bị."), "success")
    return redirect(url_for("pages.home"))
