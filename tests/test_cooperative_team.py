"""The team (/quan-ly-htx/thanh-vien) and invitations (/tai-khoan/loi-moi/<token>)."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shop.accounts.models import Role, User
from shop.cooperatives.models import Invitation, Membership, MembershipRole
from shop.db import utcnow
from shop.extensions import db
from shop.notify.models import Notification
from tests.factories import create_user
from tests.helpers import post_form, sign_in
from tests.test_cooperative_support import (
    audit_actions,
    body,
    counts,
    csrf_for,
    emails,
    field_error,
    fresh,
    get,
    make_world,
    membership,
    text,
)

TEAM = "/quan-ly-htx/thanh-vien"
INVITE = "/quan-ly-htx/thanh-vien/moi"
LINK = re.compile(r"/tai-khoan/loi-moi/([A-Za-z0-9_-]+)")


def invite(client, email):
    return post_form(client, INVITE, {"email": email}, form_url=TEAM)


def invited(client, world, email="nguoi-moi@example.com"):
    """The owner of A invites `email`; returns (invitation, token from the email)."""
    sign_in(client, world.owner_a)
    assert invite(client, email).status_code == 302
    message = emails("invitation")[-1]
    token = LINK.search(message.body).group(1)
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        )
    )
    return invitation, token


def notices(coop) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.cooperative_id == coop.id)
            .order_by(Notification.id)
        )
    )


# --------------------------------------------------------------------------- the team page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_owner_sees_members_invitations_and_the_invite_form(client, lang):
    world = make_world()
    invitation, _token = invited(client, world)
    response = get(client, TEAM, lang)
    assert response.status_code == 200
    raw = body(response)
    assert f'<html lang="{lang}">' in raw
    for user in (world.owner_a, world.editor_a):
        assert user.email in raw
    assert world.owner_b.email not in raw
    assert invitation.email in raw
    assert f'action="/quan-ly-htx/thanh-vien/loi-moi/{invitation.id}/thu-hoi"' in raw
    assert 'action="/quan-ly-htx/thanh-vien/moi"' in raw
    assert '<label for="email">' in raw
    editor_link = membership(world.editor_a)
    assert f'action="/quan-ly-htx/thanh-vien/{editor_link.id}/xoa"' in raw
    assert f'href="/quan-ly-htx/thanh-vien/{editor_link.id}/chuyen-quyen"' in raw
    owner_link = membership(world.owner_a)
    assert f"/thanh-vien/{owner_link.id}/xoa" not in raw
    if lang == "vi":
        assert "Biên tập viên" in raw and "Chủ tài khoản HTX" in raw


def test_editor_sees_the_list_without_owner_controls(client):
    world = make_world()
    sign_in(client, world.editor_a)
    response = client.get(TEAM)
    assert response.status_code == 200
    raw = body(response)
    assert world.owner_a.email in raw and world.editor_a.email in raw
    assert 'action="/quan-ly-htx/thanh-vien/moi"' not in raw
    assert "/xoa" not in raw and "/chuyen-quyen" not in raw
    assert "Chỉ chủ tài khoản HTX mời hoặc xóa được thành viên." in text(response)


# --------------------------------------------------------------------------- inviting


def test_invitation_is_hashed_expires_in_seven_days_and_is_emailed(client):
    world = make_world()
    before = utcnow()
    invitation, token = invited(client, world, "Nguoi.Moi@Example.com")
    assert invitation.email == "nguoi.moi@example.com"
    assert invitation.role == MembershipRole.EDITOR
    assert invitation.cooperative_id == world.coop_a.id
    assert invitation.invited_by_id == world.owner_a.id
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    created = invitation.created_at.replace(tzinfo=None)
    assert created >= before.replace(tzinfo=None)
    assert invitation.expires_at.replace(tzinfo=None) - created == timedelta(days=7)
    message = emails("invitation")[-1]
    assert message.to_address == "nguoi.moi@example.com"
    assert f"/tai-khoan/loi-moi/{token}" in message.body
    assert "HTX Thế giới A" in message.subject and "HTX Thế giới A" in message.body
    assert "Chủ A" in message.body
    assert "invitation.created" in audit_actions(world.coop_a)
    assert "Đã gửi lời mời tới nguoi.moi@example.com" in text(client.get(TEAM))


def test_inviting_the_same_address_again_replaces_the_open_invitation(client):
    world = make_world()
    first, _ = invited(client, world)
    second, token = invited(client, world)
    assert fresh(Invitation, first.id).revoked_at is not None
    assert fresh(Invitation, second.id).revoked_at is None
    anonymous = client.application.test_client()
    assert anonymous.get(f"/tai-khoan/loi-moi/{token}").status_code == 200


@pytest.mark.parametrize(
    "email, message",
    [
        ("", "Hãy nhập email"),
        ("khong-phai-email", "Địa chỉ email không hợp lệ"),
        ("a" * 250 + "@example.com", "Địa chỉ email không hợp lệ"),
        ("<script>@example.com", "Địa chỉ email không hợp lệ"),
        ("bien-tap-a@example.com", "đã ở trong nhóm quản lý"),
        ("CHU-A@example.com", "đã ở trong nhóm quản lý"),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_written(client, email, message):
    world = make_world()
    sign_in(client, world.owner_a)
    before = counts()
    response = invite(client, email)
    assert response.status_code == 422
    assert message in field_error(response, "email")
    assert counts() == before


def test_revoking_an_invitation_kills_its_link(client):
    world = make_world()
    invitation, token = invited(client, world)
    url = f"/quan-ly-htx/thanh-vien/loi-moi/{invitation.id}/thu-hoi"
    assert post_form(client, url, form_url=TEAM).status_code == 302
    assert fresh(Invitation, invitation.id).revoked_at is not None
    assert "invitation.revoked" in audit_actions(world.coop_a)
    team_page = body(client.get(TEAM))
    assert "Đã thu hồi lời mời gửi nguoi-moi@example.com" in team_page
    assert f"/loi-moi/{invitation.id}/thu-hoi" not in team_page
    # Revoking twice finds nothing to revoke.
    assert post_form(client, url, form_url=TEAM).status_code == 404
    newcomer = create_user(Role.BUYER, email="nguoi-moi@example.com")
    db.session.commit()
    sign_in(client, newcomer)
    response = post_form(client, f"/tai-khoan/loi-moi/{token}")
    assert response.status_code == 410
    assert "đã thu hồi lời mời" in text(response)
    assert membership(newcomer) is None


# ------------------------------------------------------------------- removing and transferring


def test_owner_removes_an_editor_who_goes_back_to_being_a_buyer(client):
    world = make_world()
    sign_in(client, world.owner_a)
    link = membership(world.editor_a)
    response = post_form(client, f"{TEAM}/{link.id}/xoa", form_url=TEAM)
    assert response.status_code == 302
    assert membership(world.editor_a) is None
    assert fresh(User, world.editor_a.id).role == Role.BUYER
    assert notices(world.coop_a)[-1].kind == "member_removed"
    assert "membership.removed" in audit_actions(world.coop_a)
    page = text(client.get(TEAM))
    assert "Biên tập A không còn trong nhóm quản lý" in page
    sign_in(client, world.editor_a)
    assert client.get("/quan-ly-htx/").status_code == 403


def test_the_owner_cannot_be_removed(client):
    world = make_world()
    sign_in(client, world.owner_a)
    own = membership(world.owner_a)
    before = counts()
    response = post_form(client, f"{TEAM}/{own.id}/xoa", form_url=TEAM)
    assert response.status_code == 302
    assert counts() == before
    assert membership(world.owner_a).role == MembershipRole.OWNER
    assert "Không thể xóa chủ tài khoản HTX" in text(client.get(TEAM))


def test_ownership_is_handed_over_after_a_confirmation(client):
    world = make_world()
    sign_in(client, world.owner_a)
    target = membership(world.editor_a)
    url = f"{TEAM}/{target.id}/chuyen-quyen"
    confirm = client.get(url)
    assert confirm.status_code == 200
    page = text(confirm)
    assert "Bạn sắp chuyển quyền chủ tài khoản của HTX Thế giới A cho Biên tập A" in page
    assert "Xác nhận chuyển quyền" in page
    assert membership(world.editor_a).role == MembershipRole.EDITOR  # a GET changes nothing
    response = post_form(client, url)
    assert response.status_code == 302
    assert membership(world.editor_a).role == MembershipRole.OWNER
    assert membership(world.owner_a).role == MembershipRole.EDITOR
    assert notices(world.coop_a)[-1].kind == "ownership_transferred"
    assert "membership.ownership_transferred" in audit_actions(world.coop_a)
    # The old owner is now an editor: owner actions are refused.
    assert invite(client, "ai-do@example.com").status_code == 403


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_transfer_confirmation_in_both_languages(client, lang):
    world = make_world()
    sign_in(client, world.owner_a)
    target = membership(world.editor_a)
    response = get(client, f"{TEAM}/{target.id}/chuyen-quyen", lang)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in body(response)
    assert world.editor_a.email in body(response)


# -------------------------------------------------------------- editors and other cooperatives


def test_editor_posts_are_forbidden_and_change_nothing(client):
    world = make_world()
    invitation, _ = invited(client, world)
    sign_in(client, world.editor_a)
    owner_link = membership(world.owner_a)
    own_link = membership(world.editor_a)
    before = counts()
    for url, data in [
        (INVITE, {"email": "ai-do@example.com"}),
        (f"{TEAM}/loi-moi/{invitation.id}/thu-hoi", {}),
        (f"{TEAM}/{owner_link.id}/xoa", {}),
        (f"{TEAM}/{own_link.id}/xoa", {}),
        (f"{TEAM}/{own_link.id}/chuyen-quyen", {}),
    ]:
        assert post_form(client, url, data, form_url=TEAM).status_code == 403, url
    assert client.get(f"{TEAM}/{own_link.id}/chuyen-quyen").status_code == 403
    assert counts() == before
    assert fresh(Invitation, invitation.id).revoked_at is None
    assert membership(world.owner_a).role == MembershipRole.OWNER


def test_owner_of_b_cannot_touch_a_by_tampered_ids(client):
    world = make_world()
    invitation, _ = invited(client, world)
    sign_in(client, world.owner_b)
    editor_link = membership(world.editor_a)
    owner_link = membership(world.owner_a)
    before = counts()
    for url in [
        f"{TEAM}/loi-moi/{invitation.id}/thu-hoi",
        f"{TEAM}/{editor_link.id}/xoa",
        f"{TEAM}/{owner_link.id}/xoa",
        f"{TEAM}/{editor_link.id}/chuyen-quyen",
    ]:
        assert post_form(client, url, form_url=TEAM).status_code == 404, url
    assert client.get(f"{TEAM}/{editor_link.id}/chuyen-quyen").status_code == 404
    assert counts() == before
    assert fresh(Invitation, invitation.id).revoked_at is None
    assert membership(world.editor_a).role == MembershipRole.EDITOR
    assert membership(world.owner_a).role == MembershipRole.OWNER
    assert membership(world.owner_b).role == MembershipRole.OWNER
    assert fresh(User, world.editor_a.id).role == Role.MEMBER


# --------------------------------------------------------------------------- accepting


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_anonymous_visitor_sees_the_invitation_and_ways_to_sign_in(client, lang):
    world = make_world()
    _invitation, token = invited(client, world)
    anonymous = client.application.test_client()
    response = get(anonymous, f"/tai-khoan/loi-moi/{token}", lang)
    assert response.status_code == 200
    raw = body(response)
    assert f'<html lang="{lang}">' in raw
    assert "HTX Thế giới A" in raw and "nguoi-moi@example.com" in raw
    next_path = f"/tai-khoan/loi-moi/{token}"
    assert f'href="/tai-khoan/dang-nhap?next={next_path}"' in raw
    assert f'href="/tai-khoan/dang-ky?next={next_path}"' in raw
    assert 'href="/"' in raw
    if lang == "vi":
        assert "Biên tập viên" in raw
    posted = anonymous.post(f"/tai-khoan/loi-moi/{token}", data={"csrf_token": csrf_for(anonymous)})
    assert posted.status_code == 302
    assert "/tai-khoan/dang-nhap?next=" in posted.headers["Location"]


def test_the_invited_person_accepts_once(client):
    world = make_world()
    invitation, token = invited(client, world)
    newcomer = create_user(Role.BUYER, email="nguoi-moi@example.com", name="Chị Lan")
    db.session.commit()
    sign_in(client, newcomer)
    url = f"/tai-khoan/loi-moi/{token}"
    page = client.get(url)
    assert page.status_code == 200 and "Nhận lời mời" in text(page)
    response = post_form(client, url)
    assert response.status_code == 302 and response.headers["Location"].endswith("/quan-ly-htx/")
    link = membership(newcomer)
    assert link.cooperative_id == world.coop_a.id and link.role == MembershipRole.EDITOR
    assert fresh(User, newcomer.id).role == Role.MEMBER
    used = fresh(Invitation, invitation.id)
    assert used.accepted_at is not None and used.accepted_by_id == newcomer.id
    assert notices(world.coop_a)[-1].kind == "invitation_accepted"
    assert "invitation.accepted" in audit_actions(world.coop_a)
    home = text(client.get("/quan-ly-htx/"))
    assert "Chị Lan đã nhận lời mời và tham gia với vai trò Biên tập viên." in home
    # Single use: a second try, even by the same person, changes nothing.
    before = counts()
    again = post_form(client, url, form_url="/quan-ly-htx/")
    assert again.status_code == 410
    assert "đã được dùng" in text(again)
    assert counts() == before


def test_email_match_is_case_insensitive(client):
    world = make_world()
    _invitation, token = invited(client, world, "nguoi-moi@example.com")
    newcomer = create_user(Role.BUYER, email="NGUOI-MOI@example.com")
    db.session.commit()
    sign_in(client, newcomer)
    assert post_form(client, f"/tai-khoan/loi-moi/{token}").status_code == 302
    assert membership(newcomer).cooperative_id == world.coop_a.id


@pytest.mark.parametrize(
    "who, status, message",
    [
        ("buyer", 409, "Lời mời gửi tới nguoi-moi@example.com, nhưng bạn đang đăng nhập bằng"),
        ("owner_b", 409, "đang quản lý một hợp tác xã khác"),
        ("editor_a", 409, "Bạn đã ở trong nhóm quản lý của hợp tác xã này."),
        ("staff", 409, "Tài khoản cán bộ Liên minh HTX không tham gia"),
        ("admin", 409, "Tài khoản cán bộ Liên minh HTX không tham gia"),
    ],
)
def test_only_the_invited_free_account_may_accept(client, who, status, message):
    world = make_world()
    invitation, token = invited(client, world)
    sign_in(client, getattr(world, who))
    url = f"/tai-khoan/loi-moi/{token}"
    shown = client.get(url)
    assert shown.status_code == status and message in text(shown)
    assert "Nhận lời mời" not in text(shown)
    before = counts()
    response = post_form(client, url, form_url="/")
    assert response.status_code == status
    assert message in text(response)
    assert counts() == before
    assert fresh(Invitation, invitation.id).accepted_at is None


def test_expired_invitation_is_refused(client):
    world = make_world()
    invitation, token = invited(client, world)
    db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    newcomer = create_user(Role.BUYER, email="nguoi-moi@example.com")
    db.session.commit()
    sign_in(client, newcomer)
    url = f"/tai-khoan/loi-moi/{token}"
    assert client.get(url).status_code == 410
    before = counts()
    response = post_form(client, url, form_url="/")
    assert response.status_code == 410
    assert "đã hết hạn" in text(response)
    assert counts() == before
    assert membership(newcomer) is None
    # The team page shows it as expired.
    sign_in(client, world.owner_a)
    assert "Đã hết hạn" in text(client.get(TEAM))


@pytest.mark.parametrize("token", ["khong-hop-le", "x" * 300, "%00", "..", "ă"])
def test_unknown_tokens_are_a_clear_404(client, token):
    world = make_world()
    sign_in(client, world.buyer)
    response = client.get(f"/tai-khoan/loi-moi/{token}")
    assert response.status_code == 404
    assert "Liên kết mời này không đúng" in text(response)
    before = counts()
    assert post_form(client, f"/tai-khoan/loi-moi/{token}", form_url="/").status_code == 404
    assert counts() == before


def test_membership_table_still_has_one_row_per_user(client):
    world = make_world()
    rows = db.session.scalars(select(Membership.user_id)).all()
    assert len(rows) == len(set(rows))
    assert world.owner_a.id in rows
