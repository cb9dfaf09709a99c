"""`flask users create|demo|disable|enable`."""

import pytest
from sqlalchemy import func, select

from shop.accounts.commands import DEMO_ACCOUNTS
from shop.accounts.models import Role, User
from shop.cooperatives.models import Cooperative, CooperativeStatus, Membership, MembershipRole
from shop.extensions import db
from tests.factories import create_user
from tests.helpers import post_form

pytestmark = pytest.mark.usefixtures("fresh_throttle")

PASSWORD = "đồng chiêm xin nước mưa rào"


@pytest.fixture
def run(demo_db, monkeypatch):
    """Run `flask users ARGS`; the password comes from SHOP_USER_PASSWORD unless None."""
    runner = demo_db.test_cli_runner()

    def invoke(*args, password=PASSWORD, input=None):
        if password is None:
            monkeypatch.delenv("SHOP_USER_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("SHOP_USER_PASSWORD", password)
        return runner.invoke(args=["users", *args], input=input)

    return invoke


def user_by_email(email):
    return db.session.scalar(select(User).where(User.email == email))


def first_verified():
    return db.session.scalar(
        select(Cooperative)
        .where(Cooperative.status == CooperativeStatus.VERIFIED)
        .order_by(Cooperative.slug)
    )


def can_sign_in(app, email, password) -> bool:
    client = app.test_client()
    response = post_form(client, "/tai-khoan/dang-nhap", {"email": email, "password": password})
    return response.status_code == 302


@pytest.mark.parametrize("role", ["buyer", "staff", "admin"])
def test_create_an_account(run, demo_db, role):
    result = run("create", "Can.Bo@Example.com", "--role", role, "--name", "Ngô Văn Lực")
    assert result.exit_code == 0, result.output
    assert f"created can.bo@example.com ({role})" in result.output
    user = user_by_email("can.bo@example.com")
    assert user.role == Role(role) and user.name == "Ngô Văn Lực"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in result.output
    assert can_sign_in(demo_db, "can.bo@example.com", PASSWORD)


def test_create_a_member_who_owns_the_cooperative(run, demo_db):
    coop = first_verified()
    result = run("create", "chu@example.com", "--role", "member", "--cooperative", coop.slug)
    assert result.exit_code == 0, result.output
    user = user_by_email("chu@example.com")
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.cooperative_id == coop.id and membership.role == MembershipRole.OWNER
    assert user.role == Role.MEMBER


def test_password_is_prompted_hidden_with_confirmation(run):
    result = run(
        "create",
        "hoi@example.com",
        "--role",
        "buyer",
        password=None,
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert "Repeat for confirmation" in result.output
    assert user_by_email("hoi@example.com") is not None


def test_prompted_passwords_must_match(run):
    result = run(
        "create",
        "hoi@example.com",
        "--role",
        "buyer",
        password=None,
        input=f"{PASSWORD}\nkhác hẳn\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert "do not match" in result.output
    assert result.exit_code == 0


def test_a_password_is_never_an_argument(run):
    result = run("create", "x@example.com", "--role", "buyer", "--password", PASSWORD)
    assert result.exit_code != 0
    assert "No such option" in result.output
    assert user_by_email("x@example.com") is None


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--role", "member"], PASSWORD, "give --cooperative SLUG"),
        (
            ["--role", "member", "--cooperative", "khong-co-htx-nay"],
            PASSWORD,
            "no cooperative with slug 'khong-co-htx-nay'",
        ),
        (
            ["--role", "buyer", "--cooperative", "x"],
            PASSWORD,
            "--cooperative is only for --role member",
        ),
        (["--role", "buyer"], "matkhau123", "quá phổ biến"),
        (["--role", "buyer"], "ngắn", "ít nhất 10 ký tự"),
        (["--role", "king"], PASSWORD, "Invalid value for '--role'"),
    ],
)
def test_create_refuses_with_a_clear_error(run, args, password, message):
    before = db.session.scalar(select(func.count()).select_from(User))
    result = run("create", "loi@example.com", *args, password=password)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_create_refuses_a_taken_email(run):
    create_user(email="da-co@example.com")
    db.session.commit()
    result = run("create", "DA-CO@example.com", "--role", "buyer")
    assert result.exit_code != 0
    assert "Email này đã có tài khoản" in result.output


def test_create_refuses_a_malformed_email(run):
    result = run("create", "khong-phai-email", "--role", "buyer")
    assert result.exit_code != 0
    assert "Email chưa đúng dạng" in result.output


def test_demo_creates_three_accounts_and_prints_their_logins(run, demo_db):
    result = run("demo")
    assert result.exit_code == 0, result.output
    coop = first_verified()
    for email, _name, role, password in DEMO_ACCOUNTS:
        assert email in result.output and password in result.output
        assert user_by_email(email).role == role
        assert can_sign_in(demo_db, email, password)
    owner = user_by_email(DEMO_ACCOUNTS[0][0])
    membership = db.session.scalar(select(Membership).where(Membership.user_id == owner.id))
    assert membership.cooperative_id == coop.id
    assert f"owner of {coop.slug}" in result.output
    # Twice is harmless: nothing new, the same logins printed.
    again = run("demo")
    assert again.exit_code == 0
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.email.in_([a[0] for a in DEMO_ACCOUNTS]))
        )
        == 3
    )
    assert "already there" in again.output


def test_demo_is_refused_in_production(run, monkeypatch):
    monkeypatch.setenv("SHOP_ENV", "production")
    result = run("demo")
    assert result.exit_code != 0
    assert "refused under SHOP_ENV=production" in result.output
    assert user_by_email(DEMO_ACCOUNTS[0][0]) is None


def test_disable_signs_the_account_out_everywhere_and_enable_lets_it_back(run, demo_db):
    user = create_user()
    db.session.commit()
    client = demo_db.test_client()
    post_form(client, "/tai-khoan/dang-nhap", {"email": user.email, "password": user.password})
    thief = demo_db.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/tai-khoan/").status_code == 200

    result = run("disable", user.email)
    assert result.exit_code == 0, result.output
    assert client.get("/tai-khoan/").status_code == 302
    assert thief.get("/tai-khoan/").status_code == 302
    assert not can_sign_in(demo_db, user.email, user.password)

    assert run("enable", user.email).exit_code == 0
    assert can_sign_in(demo_db, user.email, user.password)
    assert run("disable", "khong-co@example.com").exit_code != 0
