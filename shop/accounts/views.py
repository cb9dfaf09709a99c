"""Signing in and out (public) and the signed-in user's own account pages."""

from flask import redirect, render_template, url_for

from shop.access import account_blueprint, public_blueprint
from shop.accounts import sessions
from shop.extensions import db

auth = public_blueprint("auth", __name__, url_prefix="/tai-khoan")
account = account_blueprint("account", __name__, url_prefix="/tai-khoan")


@auth.route("/dang-nhap", methods=["GET", "POST"])
def login():
    return render_template("accounts/login.html")


@auth.post("/dang-xuat")
def logout():
    sessions.end()
    db.session.commit()
    return redirect(url_for("pages.home"))


@account.get("/")
def home():
    return render_template("accounts/home.html")
