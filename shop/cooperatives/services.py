"""Writes of the cooperatives domain.

Each function takes the acting user, changes data, flushes and appends an audit entry; the
view commits. Rules that protect other people's data (one membership per user, the state a
decision starts from, single-use invitations) are checked here, not only in forms.
"""

import hashlib
import secrets
from datetime import UTC, timedelta

from sqlalchemy import select, update

from shop import slugs
from shop.accounts.models import Role, User
from shop.audit.services import record
from shop.cooperatives import queries
from shop.cooperatives.forms import IDENTITY_FIELDS
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    Invitation,
    Membership,
    MembershipRole,
)
from shop.db import utcnow
from shop.extensions import db
from shop.notify import messages
from shop.notify.services import notify_cooperative, queue_email, site_url

INVITATION_LIFETIME = timedelta(days=7)
DECIDABLE = (CooperativeStatus.PENDING, CooperativeStatus.NEEDS_INFO)
#: Fields a member may change on the profile (the identity ones only until verification).
PROFILE_FIELDS = (
    "sector_id",
    "locality_id",
    "address_vi",
    "address_en",
    "founded_year",
    "member_count",
    "description_vi",
    "description_en",
    "phone",
    "zalo",
    "email",
    "website",
    "name_en",
    *IDENTITY_FIELDS,
)


class NotAllowed(Exception):
    """The acting user may not do this (the view turns it into a clear page)."""


class AlreadyDecided(Exception):
    """Another staff member decided first; `decision` is (audit entry, actor email) or None."""

    def __init__(self, cooperative_id: int, decision):
        super().__init__(cooperative_id)
        self.decision = decision


class InvitationRefused(Exception):
    """Why an invitation cannot be accepted: unknown, expired, revoked, used, wrong_email,
    already_member, member_elsewhere or staff."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- helpers


def _json(value):
    return getattr(value, "value", value)


def _snapshot(cooperative: Cooperative, fields) -> dict:
    return {name: _json(getattr(cooperative, name)) for name in fields}


def aware(value):
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unique_slug(name: str, *, exclude_id: int | None = None) -> str:
    """A slug for a cooperative's name, unique among cooperatives."""
    return slugs.unique_slug(Cooperative, name, exclude_id=exclude_id)


def _display_name(user: User) -> str:
    return user.name or user.email


def owner_users(cooperative: Cooperative) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.cooperative_id == cooperative.id,
                Membership.role == MembershipRole.OWNER,
            )
            .order_by(Membership.id)
        )
    )


def can_register(user: User) -> bool:
    return not user.is_staff and queries.membership_of(user) is None


# ----------------------------------------------------------------------- registration and profile


def register_cooperative(actor: User, values: dict) -> Cooperative:
    """The actor registers a cooperative: pending verification, the actor its owner."""
    if not can_register(actor):
        raise NotAllowed
    cooperative = Cooperative(
        **values, slug=unique_slug(values["name"]), status=CooperativeStatus.PENDING
    )
    db.session.add(cooperative)
    db.session.flush()
    db.session.add(
        Membership(user_id=actor.id, cooperative_id=cooperative.id, role=MembershipRole.OWNER)
    )
    actor.role = Role.MEMBER
    db.session.flush()
    record(
        actor,
        "cooperative.registered",
        cooperative,
        after={**_snapshot(cooperative, values), "status": cooperative.status.value},
    )
    return cooperative


def create_on_behalf(actor: User, values: dict, owner_email: str) -> tuple[Cooperative, str]:
    """Staff create a verified cooperative and invite its owner; returns it and the token."""
    if not actor.is_staff:
        raise NotAllowed
    cooperative = Cooperative(
        **values,
        slug=unique_slug(values["name"]),
        status=CooperativeStatus.VERIFIED,
        verified_at=utcnow(),
    )
    db.session.add(cooperative)
    db.session.flush()
    record(
        actor,
        "cooperative.created_by_staff",
        cooperative,
        after={
            **_snapshot(cooperative, values),
            "status": cooperative.status.value,
            "owner_email": owner_email,
        },
    )
    _, token = invite(actor, cooperative, owner_email, MembershipRole.OWNER)
    return cooperative, token


def identity_locked(cooperative: Cooperative) -> bool:
    """Once verified, the legal identity changes only through the alliance."""
    return cooperative.status == CooperativeStatus.VERIFIED or cooperative.verified_at is not None


def update_profile(actor: User, cooperative: Cooperative, values: dict) -> list[str]:
    """Save the profile; returns the names of the fields that changed."""
    allowed = set(PROFILE_FIELDS)
    if identity_locked(cooperative):
        allowed -= set(IDENTITY_FIELDS)
    changes = {k: v for k, v in values.items() if k in allowed and getattr(cooperative, k) != v}
    if not changes:
        return []
    before = _snapshot(cooperative, changes)
    for name, value in changes.items():
        setattr(cooperative, name, value)
    if "name" in changes and cooperative.verified_at is None:
        # Never public yet, so no link to break: the address follows the corrected name.
        cooperative.slug = unique_slug(cooperative.name, exclude_id=cooperative.id)
    db.session.flush()
    record(
        actor,
        "cooperative.profile_updated",
        cooperative,
        before=before,
        after=_snapshot(cooperative, changes),
    )
    return sorted(changes)


#: The pictures of a cooperative's profile, by the name used in URLs, forms and audit entries.
PROFILE_IMAGES = ("logo", "cover")


def set_profile_image(actor: User, cooperative: Cooperative, kind: str, image) -> None:
    """Make a stored image the cooperative's logo or cover photo (replacing any before)."""
    column = _image_column(kind)
    before = getattr(cooperative, column)
    if before == image.id:
        return
    setattr(cooperative, column, image.id)
    db.session.flush()
    record(
        actor,
        f"cooperative.{kind}_set",
        cooperative,
        before={column: before},
        after={column: image.id},
    )


def remove_profile_image(actor: User, cooperative: Cooperative, kind: str) -> bool:
    """Take the logo or cover photo off the profile; False if there was none."""
    column = _image_column(kind)
    before = getattr(cooperative, column)
    if before is None:
        return False
    setattr(cooperative, column, None)
    db.session.flush()
    record(actor, f"cooperative.{kind}_removed", cooperative, before={column: before})
    return True


def _image_column(kind: str) -> str:
    if kind not in PROFILE_IMAGES:
        raise ValueError(f"unknown profile image {kind!r}")
    return f"{kind}_image_id"


def resubmit(actor: User, cooperative: Cooperative) -> bool:
    """Send a cooperative the alliance asked for more back to the queue; False if not asked."""
    result = db.session.execute(
        update(Cooperative)
        .where(
            Cooperative.id == cooperative.id,
            Cooperative.status == CooperativeStatus.NEEDS_INFO,
        )
        .values(status=CooperativeStatus.PENDING, status_reason=None)
    )
    if result.rowcount == 0:
        return False
    db.session.refresh(cooperative)
    record(
        actor,
        "cooperative.resubmitted",
        cooperative,
        before={"status": CooperativeStatus.NEEDS_INFO.value},
        after={"status": CooperativeStatus.PENDING.value},
    )
    return True


# --------------------------------------------------------------------------- staff decisions


def decide(
    actor: User,
    cooperative: Cooperative,
    status: CooperativeStatus,
    *,
    reason: str | None = None,
    seen: CooperativeStatus | None = None,
) -> Cooperative:
    """Verify a cooperative or ask it for more; exactly one of two racing staff wins.

    The UPDATE only applies while the cooperative is still undecided (and, when the page told
    us, still in the status the staff member was looking at); otherwise AlreadyDecided.
    """
    if not actor.is_staff:
        raise NotAllowed
    if status not in (CooperativeStatus.VERIFIED, CooperativeStatus.NEEDS_INFO):
        raise ValueError(status)
    if status == CooperativeStatus.NEEDS_INFO and not reason:
        raise ValueError("a reason is required")
    conditions = [Cooperative.id == cooperative.id, Cooperative.status.in_(DECIDABLE)]
    if seen is not None:
        conditions.append(Cooperative.status == seen)
    values = {"status": status, "status_reason": reason or None}
    if status == CooperativeStatus.VERIFIED:
        values["verified_at"] = utcnow()
    before = seen or cooperative.status
    result = db.session.execute(
        update(Cooperative).where(*conditions).values(**values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 0:
        raise AlreadyDecided(cooperative.id, queries.last_decision(cooperative.id))
    db.session.refresh(cooperative)

    kind = (
        "cooperative_verified" if status == CooperativeStatus.VERIFIED else "cooperative_needs_info"
    )
    params = {"name": cooperative.name}
    if reason:
        params["reason"] = reason
    notify_cooperative(cooperative, kind, **params)
    _email_owners(cooperative, kind, reason)
    record(
        actor,
        f"cooperative.{status.value}",
        cooperative,
        before={"status": _json(before)},
        after={"status": status.value},
        reason=reason,
    )
    return cooperative


def _email_owners(cooperative: Cooperative, kind: str, reason: str | None) -> None:
    """Tell the owners (or, with none yet, the cooperative's address) what the alliance did."""
    recipients = [user.email for user in owner_users(cooperative)]
    if not recipients and cooperative.email:
        recipients = [cooperative.email]
    subject, body = messages.decision_email(
        kind=kind,
        cooperative=cooperative.name,
        reason=reason,
        link=site_url("dashboard.home"),
    )
    for address in recipients:
        queue_email(address, subject, body, kind)


def _change_standing(
    actor: User,
    cooperative: Cooperative,
    *,
    before: CooperativeStatus,
    after: CooperativeStatus,
    reason: str | None,
    kind: str,
    action: str,
) -> Cooperative:
    """Move a cooperative from `before` to `after` only if it is still in `before`."""
    if not actor.is_staff:
        raise NotAllowed
    result = db.session.execute(
        update(Cooperative)
        .where(Cooperative.id == cooperative.id, Cooperative.status == before)
        .values(status=after, status_reason=reason or None),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 0:
        raise AlreadyDecided(cooperative.id, queries.last_decision(cooperative.id))
    db.session.refresh(cooperative)
    params = {"name": cooperative.name}
    if reason:
        params["reason"] = reason
    notify_cooperative(cooperative, kind, **params)
    _email_owners(cooperative, kind, reason)
    record(
        actor,
        action,
        cooperative,
        before={"status": before.value},
        after={"status": after.value},
        reason=reason,
    )
    return cooperative


def suspend(actor: User, cooperative: Cooperative, reason: str) -> Cooperative:
    """Take a verified cooperative and all its products off the public pages at once."""
    if not reason or not reason.strip():
        raise ValueError("a reason is required")
    return _change_standing(
        actor,
        cooperative,
        before=CooperativeStatus.VERIFIED,
        after=CooperativeStatus.SUSPENDED,
        reason=reason,
        kind="cooperative_suspended",
        action="cooperative.suspended",
    )


def lift(actor: User, cooperative: Cooperative) -> Cooperative:
    """End a suspension: the cooperative is verified again and its products public again."""
    return _change_standing(
        actor,
        cooperative,
        before=CooperativeStatus.SUSPENDED,
        after=CooperativeStatus.VERIFIED,
        reason=None,
        kind="cooperative_reinstated",
        action="cooperative.reinstated",
    )


# --------------------------------------------------------------------------- the team


def invite(
    actor: User,
    cooperative: Cooperative,
    email: str,
    role: MembershipRole = MembershipRole.EDITOR,
) -> tuple[Invitation, str]:
    """Invite `email` to the cooperative; an open invitation to the same address is replaced."""
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.cooperative_id == cooperative.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        cooperative_id=cooperative.id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    subject, body = messages.invitation_email(
        cooperative=cooperative.name,
        role=role,
        link=site_url("invitations.accept", token=token),
        inviter=_display_name(actor),
        expires_at=invitation.expires_at,
    )
    queue_email(email, subject, body, "invitation")
    record(
        actor,
        "invitation.created",
        cooperative,
        after={"invitation_id": invitation.id, "email": email, "role": role.value},
    )
    return invitation, token


def revoke_invitation(actor: User, invitation: Invitation) -> bool:
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 0:
        return False
    cooperative = db.session.get(Cooperative, invitation.cooperative_id)
    record(
        actor,
        "invitation.revoked",
        cooperative,
        before={"invitation_id": invitation.id, "email": invitation.email},
    )
    return True


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token opens, or None (malformed tokens never reach SQL)."""
    if not token or len(token) > 128 or not token.isascii():
        return None
    return db.session.scalar(queries.invitation_by_token_hash(token_hash(token)))


def invitation_problem(invitation: Invitation | None, user: User | None) -> str | None:
    """Why this invitation cannot be accepted (by `user`, when signed in), or None."""
    if invitation is None:
        return "unknown"
    if invitation.accepted_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if aware(invitation.expires_at) <= utcnow():
        return "expired"
    if user is None:
        return None
    if user.is_staff:
        return "staff"
    membership = queries.membership_of(user)
    if membership is not None:
        if membership.cooperative_id == invitation.cooperative_id:
            return "already_member"
        return "member_elsewhere"
    if user.email.lower() != invitation.email.lower():
        return "wrong_email"
    return None


def accept_invitation(user: User, invitation: Invitation | None) -> Membership:
    """Make `user` a member as invited; the invitation works once."""
    problem = invitation_problem(invitation, user)
    if problem:
        raise InvitationRefused(problem)
    now = utcnow()
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_by_id=user.id),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 0:
        raise InvitationRefused("used")
    membership = Membership(
        user_id=user.id, cooperative_id=invitation.cooperative_id, role=invitation.role
    )
    db.session.add(membership)
    user.role = Role.MEMBER
    db.session.flush()
    cooperative = db.session.get(Cooperative, invitation.cooperative_id)
    notify_cooperative(
        cooperative, "invitation_accepted", who=_display_name(user), role=invitation.role.value
    )
    record(
        user,
        "invitation.accepted",
        cooperative,
        after={
            "invitation_id": invitation.id,
            "user_id": user.id,
            "email": user.email,
            "role": invitation.role.value,
        },
    )
    return membership


def remove_editor(actor: User, cooperative: Cooperative, membership: Membership) -> User:
    """Take an editor off the team; their account goes back to being a buyer's."""
    if membership.cooperative_id != cooperative.id or membership.role != MembershipRole.EDITOR:
        raise NotAllowed
    user = db.session.get(User, membership.user_id)
    db.session.delete(membership)
    if user.role == Role.MEMBER:
        user.role = Role.BUYER
    db.session.flush()
    notify_cooperative(
        cooperative, "member_removed", who=_display_name(user), by=_display_name(actor)
    )
    record(
        actor,
        "membership.removed",
        cooperative,
        before={"user_id": user.id, "email": user.email, "role": MembershipRole.EDITOR.value},
    )
    return user


def transfer_ownership(
    actor: User, cooperative: Cooperative, current: Membership, successor: Membership
) -> None:
    """The owner hands the cooperative to one of its editors and becomes an editor."""
    same_team = current.cooperative_id == successor.cooperative_id == cooperative.id
    if (
        not same_team
        or current.user_id != actor.id
        or current.role != MembershipRole.OWNER
        or successor.role != MembershipRole.EDITOR
    ):
        raise NotAllowed
    successor.role = MembershipRole.OWNER
    current.role = MembershipRole.EDITOR
    db.session.flush()
    new_owner = db.session.get(User, successor.user_id)
    notify_cooperative(
        cooperative,
        "ownership_transferred",
        old=_display_name(actor),
        new=_display_name(new_owner),
    )
    record(
        actor,
        "membership.ownership_transferred",
        cooperative,
        before={"owner_id": actor.id, "owner_email": actor.email},
        after={"owner_id": new_owner.id, "owner_email": new_owner.email},
    )
