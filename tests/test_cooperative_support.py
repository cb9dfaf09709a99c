"""Shared helpers of the cooperative tests (registration, dashboard, team, console).

No tests live here; the other test_cooperative_* modules import these plain functions.
"""

import html
import re
from types import SimpleNamespace

from sqlalchemy import func, select

from shop.accounts.models import Role, User
from shop.audit.models import AuditEntry
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    Invitation,
    Locality,
    Membership,
    MembershipRole,
    Sector,
)
from shop.cooperatives.rules import tax_check_digit
from shop.extensions import db
from shop.notify.models import Notification, OutboxEmail
from tests.factories import create_cooperative, create_user
from tests.helpers import page_text

COUNTED = (Cooperative, Membership, Invitation, AuditEntry, OutboxEmail, Notification, User)


def valid_tax_code(seed: int, prefix: str = "23") -> str:
    """A checksum-valid 10-digit tax code that the demo data (prefix 99) never uses."""
    n = seed
    while True:
        first_nine = f"{prefix}{n:07d}"
        check = tax_check_digit(first_nine)
        if check is not None and first_nine[2:] != "0000000":
            return first_nine + str(check)
        n += 1


def wrong_check_digit(code: str) -> str:
    return code[:9] + str((int(code[9]) + 1) % 10)


def sector_and_locality():
    sector = db.session.scalar(select(Sector).order_by(Sector.sort_order, Sector.id))
    locality = db.session.scalar(select(Locality).order_by(Locality.short_name))
    return sector, locality


def form_data(**overrides) -> dict:
    """What a person fills in the cooperative form, as the browser sends it."""
    sector, locality = sector_and_locality()
    data = {
        "legal_form": "hop_tac_xa",
        "name": "Hợp tác xã Nông nghiệp Hoa Sen",
        "tax_code": valid_tax_code(1234567),
        "tax_code_missing_reason": "",
        "sector_id": str(sector.id),
        "locality_id": str(locality.id),
        "address_vi": "Thôn Đông, xã Liên Bão, tỉnh Bắc Ninh",
        "founded_year": "2015",
        "member_count": "74",
        "description_vi": "Trồng rau an toàn theo VietGAP.\nBán cho bếp ăn trường học.",
        "phone": "0912345678",
        "zalo": "",
        "email": "htx.hoasen@example.com",
        "website": "https://htxhoasen.example.vn",
        "name_en": "",
        "address_en": "",
        "description_en": "",
    }
    data.update(overrides)
    return data


def counts() -> dict:
    """Rows per table, to show that a refused request wrote nothing."""
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def get(client, url: str, lang: str = "vi"):
    sep = "&" if "?" in url else "?"
    return client.get(f"{url}{sep}lang={lang}")


def body(response) -> str:
    """The HTML, entities unescaped."""
    return html.unescape(response.get_data(as_text=True))


def text(response) -> str:
    return html.unescape(page_text(response))


def field_error(response, field_id: str) -> str:
    """The error message shown next to a field (its `<id>-error` paragraph)."""
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    assert match, f"no error next to {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def fresh(model, id_):
    """Re-read a row from the database (what a later request would see)."""
    return db.session.get(model, id_, populate_existing=True)


def make_world() -> SimpleNamespace:
    """Cooperatives A (owner + editor) and B (owner), a buyer, staff and an admin."""
    coop_a = create_cooperative(name="HTX Thế giới A", slug="htx-the-gioi-a")
    coop_b = create_cooperative(name="HTX Thế giới B", slug="htx-the-gioi-b")
    world = SimpleNamespace(
        coop_a=coop_a,
        coop_b=coop_b,
        owner_a=create_user(cooperative=coop_a, email="chu-a@example.com", name="Chủ A"),
        editor_a=create_user(
            cooperative=coop_a,
            membership_role=MembershipRole.EDITOR,
            email="bien-tap-a@example.com",
            name="Biên tập A",
        ),
        owner_b=create_user(cooperative=coop_b, email="chu-b@example.com", name="Chủ B"),
        buyer=create_user(Role.BUYER, email="nguoi-mua@example.com"),
        staff=create_user(Role.STAFF, email="can-bo@example.com", name="Cán bộ Một"),
        admin=create_user(Role.ADMIN, email="quan-tri@example.com"),
    )
    db.session.commit()
    return world


def membership(user) -> Membership | None:
    return db.session.scalar(
        select(Membership)
        .where(Membership.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def pending_cooperative(**values) -> Cooperative:
    values.setdefault("status", CooperativeStatus.PENDING)
    return create_cooperative(**values)


def audit_actions(cooperative) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "cooperative", AuditEntry.target_id == cooperative.id)
            .order_by(AuditEntry.id)
        )
    )


def emails(kind: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
        )
    )


def row_values(model, id_) -> dict:
    """Every column of a row as the database holds it now."""
    row = fresh(model, id_)
    return {column.name: getattr(row, column.name) for column in model.__table__.columns}


def csrf_for(client) -> str:
    """A valid CSRF token for `client`'s session, for visitors whose page shows no form yet."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    with client.application.test_request_context():
        with client.session_transaction() as browser_session:
            existing = browser_session.get("csrf_token")
        if existing:
            session["csrf_token"] = existing
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as browser_session:
        browser_session["csrf_token"] = raw
    return token
