"""Who may open and use the cooperative pages: every route × every kind of visitor.

Visitors: anonymous, a buyer, the owner and an editor of cooperative A, the owner of B, staff
and an admin. Ids in URLs are A's (its editor's membership, its open invitation, a pending
cooperative for staff decisions), so the owner of B plays the tampering neighbour.
"""

import pytest
from sqlalchemy import select

from shop.cooperatives.models import Cooperative, CooperativeStatus, Invitation, Membership
from shop.cooperatives.services import invite
from shop.extensions import db
from tests.helpers import sign_in
from tests.test_cooperative_support import (
    counts,
    csrf_for,
    form_data,
    make_world,
    pending_cooperative,
)

VISITORS = ("anonymous", "buyer", "owner_a", "editor_a", "owner_b", "staff", "admin")
LOGIN = "login"
ALL = dict.fromkeys(VISITORS[1:], 200)


def expect(anonymous=LOGIN, **by_visitor):
    return {"anonymous": anonymous, **by_visitor}


MEMBERS_ONLY = dict(buyer=403, owner_a=200, editor_a=200, owner_b=200, staff=403, admin=403)
MEMBERS_DO = {**MEMBERS_ONLY, "owner_a": 302, "editor_a": 302, "owner_b": 302}
STAFF_ONLY = dict(buyer=403, owner_a=403, editor_a=403, owner_b=403, staff=200, admin=200)

#: (method, path with {editor}/{invitation}/{pending}/{token} slots, expected status by visitor)
ROUTES = [
    ("GET", "/tai-khoan/dang-ky-htx", expect(**ALL)),
    ("POST", "/tai-khoan/dang-ky-htx", expect(buyer=302, owner_a=409, editor_a=409, owner_b=409,
                                               staff=409, admin=409)),
    ("GET", "/quan-ly-htx/", expect(**MEMBERS_ONLY)),
    ("GET", "/quan-ly-htx/ho-so", expect(**MEMBERS_ONLY)),
    ("POST", "/quan-ly-htx/ho-so", expect(**MEMBERS_DO)),
    ("POST", "/quan-ly-htx/ho-so/gui-lai", expect(**MEMBERS_DO)),
    # Logo and cover photo: posted without a photo, a member gets the page back (400).
    ("POST", "/quan-ly-htx/ho-so/logo", expect(**{**MEMBERS_ONLY, "owner_a": 400, "editor_a": 400,
                                                  "owner_b": 400})),
    ("POST", "/quan-ly-htx/ho-so/logo/xoa", expect(**MEMBERS_DO)),
    ("POST", "/quan-ly-htx/ho-so/anh-bia", expect(**{**MEMBERS_ONLY, "owner_a": 400,
                                                     "editor_a": 400, "owner_b": 400})),
    ("POST", "/quan-ly-htx/ho-so/anh-bia/xoa", expect(**MEMBERS_DO)),
    ("GET", "/quan-ly-htx/thanh-vien", expect(**MEMBERS_ONLY)),
    ("POST", "/quan-ly-htx/thanh-vien/moi", expect(**{**MEMBERS_ONLY, "owner_a": 302,
                                                     "editor_a": 403, "owner_b": 302})),
    ("POST", "/quan-ly-htx/thanh-vien/loi-moi/{invitation}/thu-hoi",
     expect(**{**MEMBERS_ONLY, "owner_a": 302, "editor_a": 403, "owner_b": 404})),
    ("POST", "/quan-ly-htx/thanh-vien/{editor}/xoa",
     expect(**{**MEMBERS_ONLY, "owner_a": 302, "editor_a": 403, "owner_b": 404})),
    ("GET", "/quan-ly-htx/thanh-vien/{editor}/chuyen-quyen",
     expect(**{**MEMBERS_ONLY, "owner_a": 200, "editor_a": 403, "owner_b": 404})),
    ("POST", "/quan-ly-htx/thanh-vien/{editor}/chuyen-quyen",
     expect(**{**MEMBERS_ONLY, "owner_a": 302, "editor_a": 403, "owner_b": 404})),
    ("GET", "/quan-tri/", expect(**STAFF_ONLY)),
    ("GET", "/quan-tri/htx", expect(**STAFF_ONLY)),
    ("GET", "/quan-tri/htx/cho-duyet", expect(**STAFF_ONLY)),
    ("GET", "/quan-tri/htx/{pending}", expect(**STAFF_ONLY)),
    ("GET", "/quan-tri/htx/moi", expect(**STAFF_ONLY)),
    ("POST", "/quan-tri/htx/moi", expect(**{**STAFF_ONLY, "staff": 302, "admin": 302})),
    ("POST", "/quan-tri/htx/{pending}/xac-minh",
     expect(**{**STAFF_ONLY, "staff": 302, "admin": 302})),
    ("POST", "/quan-tri/htx/{pending}/can-bo-sung",
     expect(**{**STAFF_ONLY, "staff": 302, "admin": 302})),
    # Only a verified cooperative can be suspended, only a suspended one lifted: staff get 409.
    ("POST", "/quan-tri/htx/{pending}/tam-ngung",
     expect(**{**STAFF_ONLY, "staff": 409, "admin": 409})),
    ("POST", "/quan-tri/htx/{pending}/mo-lai",
     expect(**{**STAFF_ONLY, "staff": 409, "admin": 409})),
    # The invitation is for a fresh address, so every signed-in visitor is refused politely.
    ("GET", "/tai-khoan/loi-moi/{token}", expect(anonymous=200, buyer=409, owner_a=409,
                                                 editor_a=409, owner_b=409, staff=409, admin=409)),
    ("POST", "/tai-khoan/loi-moi/{token}", expect(buyer=409, owner_a=409, editor_a=409,
                                                  owner_b=409, staff=409, admin=409)),
]  # fmt: skip


def form_for(path: str) -> dict:
    """A valid submission for the routes that take one."""
    if path in ("/tai-khoan/dang-ky-htx", "/quan-ly-htx/ho-so"):
        return form_data(name="HTX Ma trận quyền")
    if path == "/quan-tri/htx/moi":
        return form_data(name="HTX Ma trận quyền", owner_email="chu-moi@example.com")
    if path.endswith("/thanh-vien/moi"):
        return {"email": "ban-moi@example.com"}
    if path.endswith("/can-bo-sung"):
        return {"info-seen_status": "pending", "info-reason": "Cần thêm giấy tờ"}
    if path.endswith("/xac-minh"):
        return {"verify-seen_status": "pending"}
    if path.endswith("/tam-ngung"):
        return {"suspend-reason": "Hàng sai mô tả"}
    return {}


@pytest.fixture
def setting(client):
    world = make_world()
    pending = pending_cooperative(name="HTX Chờ cho ma trận")
    with client.application.test_request_context():
        invitation, token = invite(world.owner_a, world.coop_a, "khach-moi@example.com")
        db.session.commit()
    editor = db.session.scalar(select(Membership).where(Membership.user_id == world.editor_a.id))
    slots = {"editor": editor.id, "invitation": invitation.id, "pending": pending.id}
    return world, slots, token


def test_every_cooperative_route_is_in_this_matrix(app):
    mine = ("dashboard.", "registration.", "invitations.", "cooperatives_manage.", "console.")
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(mine):
            path = rule.rule
            for name, slot in (("id", "{editor}"), ("token", "{token}")):
                path = path.replace(f"<int:{name}>", slot).replace(f"<{name}>", slot)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((method, path))
    listed = set()
    for method, path, _ in ROUTES:
        listed.add(
            (method, path.replace("{invitation}", "{editor}").replace("{pending}", "{editor}"))
        )
    assert found == listed


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("method, path, expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(client, setting, method, path, expected, who):
    world, slots, token = setting
    url = path.format(token=token, **slots)
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={**form_for(path), "csrf_token": csrf_for(client)})
    want = expected[who]
    if want == LOGIN:
        assert response.status_code == 302, response.status_code
        assert "/tai-khoan/dang-nhap?next=" in response.headers["Location"]
    else:
        assert response.status_code == want, (who, url, response.status_code)


@pytest.mark.parametrize("who", ["anonymous", "buyer", "editor_a", "owner_b", "staff"])
def test_refused_team_actions_write_nothing(client, setting, who):
    world, slots, _token = setting
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    before = counts()
    paths = [
        "/quan-ly-htx/thanh-vien/loi-moi/{invitation}/thu-hoi",
        "/quan-ly-htx/thanh-vien/{editor}/xoa",
        "/quan-ly-htx/thanh-vien/{editor}/chuyen-quyen",
    ]
    if who != "owner_b":  # B's owner may invite, to B: not a refusal
        paths.append("/quan-ly-htx/thanh-vien/moi")
    for path in paths:
        response = client.post(
            path.format(**slots), data={**form_for(path), "csrf_token": csrf_for(client)}
        )
        assert response.status_code in (302, 403, 404)
    assert counts() == before
    assert (
        db.session.get(Invitation, slots["invitation"], populate_existing=True).revoked_at is None
    )


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner_a", "editor_a"])
def test_refused_staff_decisions_write_nothing(client, setting, who):
    world, slots, _token = setting
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    before = counts()
    for path in ("/quan-tri/htx/{pending}/xac-minh", "/quan-tri/htx/{pending}/can-bo-sung"):
        client.post(path.format(**slots), data={**form_for(path), "csrf_token": csrf_for(client)})
    assert counts() == before
    pending = db.session.get(Cooperative, slots["pending"], populate_existing=True)
    assert pending.status == CooperativeStatus.PENDING
