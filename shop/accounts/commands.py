"""`flask users create|demo|disable|enable`: accounts from the command line.

Passwords never travel as arguments (they would land in shell history and `ps`): they come
from SHOP_USER_PASSWORD or a hidden prompt.
"""

import functools
import os

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from shop.accounts import services
from shop.accounts.models import Role, User
from shop.extensions import db

users_cli = AppGroup("users", help="Create and manage user accounts.")

PASSWORD_ENV = "SHOP_USER_PASSWORD"

#: Fixed demo logins printed by `make run`; refused in production.
DEMO_ACCOUNTS = (
    ("chu-htx@cho-htx.example", "Chủ HTX (demo)", Role.MEMBER, "demo-chu-htx-2026"),
    ("can-bo@cho-htx.example", "Cán bộ Liên minh (demo)", Role.STAFF, "demo-can-bo-2026"),
    ("quan-tri@cho-htx.example", "Quản trị viên (demo)", Role.ADMIN, "demo-quan-tri-2026"),
)


def in_vietnamese(command):
    """Messages from the services (e.g. why a password is refused) in Vietnamese.

    Without it, gettext would ask the locale selector, which reads a request there is none of.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with force_locale("vi"):
            return command(*args, **kwargs)

    return wrapper


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


def _cooperative(slug: str):
    from shop.cooperatives.models import Cooperative

    cooperative = db.session.scalar(select(Cooperative).where(Cooperative.slug == slug))
    if cooperative is None:
        _fail(f"no cooperative with slug {slug!r} (see /htx or `flask data export -`)")
    return cooperative


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    required=True,
    help="buyer, member (needs --cooperative), staff or admin.",
)
@click.option("--cooperative", "slug", help="Slug of the cooperative a member owns.")
@click.option("--name", default="", help="The person's full name.")
@in_vietnamese
def create_command(email, role, slug, name):
    """Create an account; the password comes from $SHOP_USER_PASSWORD or a hidden prompt."""
    role = Role(role)
    if role == Role.MEMBER and not slug:
        _fail("a member belongs to one cooperative: give --cooperative SLUG")
    if role != Role.MEMBER and slug:
        _fail("--cooperative is only for --role member")
    cooperative = _cooperative(slug) if slug else None
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            None, email=email, password=password, role=role, name=name, cooperative=cooperative
        )
    except services.AccountError as error:
        _fail(f"{email}: {error.message}")
    db.session.commit()
    where = f" of {cooperative.slug}" if cooperative else ""
    click.echo(f"created {user.email} ({role.value}{where})")


@users_cli.command("demo")
@in_vietnamese
def demo_command():
    """Create the demo owner, staff and admin accounts if missing, and print their logins."""
    from shop.cooperatives.models import Cooperative, CooperativeStatus

    if os.environ.get("SHOP_ENV") == "production":
        _fail("demo accounts have published passwords: refused under SHOP_ENV=production")
    cooperative = db.session.scalar(
        select(Cooperative)
        .where(Cooperative.status == CooperativeStatus.VERIFIED)
        .order_by(Cooperative.slug)
    )
    lines = []
    for email, name, role, password in DEMO_ACCOUNTS:
        note = ""
        if db.session.scalar(select(User).where(User.email == email)) is not None:
            note = "  (already there; password as last set)"
        elif role == Role.MEMBER and cooperative is None:
            click.echo(f"skipped {email}: no verified cooperative (run `flask data demo` first)")
            continue
        else:
            services.create_user(
                None,
                email=email,
                password=password,
                role=role,
                name=name,
                cooperative=cooperative if role == Role.MEMBER else None,
            )
        what = f"owner of {cooperative.slug}" if role == Role.MEMBER and cooperative else role.value
        lines.append(f"  {email:<26} {password:<20} {what}{note}")
    db.session.commit()
    click.echo("Demo logins at /tai-khoan/dang-nhap:")
    click.echo(f"  {'email':<26} {'password':<20} account")
    click.echo("\n".join(lines))


def _set_active(email: str, active: bool) -> None:
    user = services.find_by_email(email)
    if user is None:
        _fail(f"no account with email {email!r}")
    services.set_active(None, user, active)
    db.session.commit()
    click.echo(f"{user.email} {'enabled' if active else 'disabled; all its sessions ended'}")


@users_cli.command("disable")
@click.argument("email")
@in_vietnamese
def disable_command(email):
    """Disable an account and sign it out everywhere."""
    _set_active(email, False)


@users_cli.command("enable")
@click.argument("email")
@in_vietnamese
def enable_command(email):
    """Enable a disabled account again."""
    _set_active(email, True)
