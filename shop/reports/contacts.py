"""Count clicks on the call and Zalo links of product, cooperative and booth pages.

The links are plain `tel:` and `https://zalo.me/` links that work without JavaScript;
static/js/contact.js adds a `navigator.sendBeacon` POST to /dem-lien-he when one is clicked,
with the page's CSRF token and a tag naming what to count. The tag is signed by the server
(`contact_tag`), so a script can replay a page's own tag but cannot name another cooperative,
product or booth; replays are throttled per address, and robots are not counted. Counts are
written after the response, like page views (shop.reports.tracking).
"""

import hashlib

from flask import Response, after_this_request, current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from shop import clock
from shop.access import public_blueprint
from shop.accounts.throttle import Rule, client_key
from shop.reports import services
from shop.reports.tracking import is_bot

bp = public_blueprint("contact_count", __name__)

#: What a contact click counts: always the cooperative, and the product or booth whose page it is.
CONTACT_KINDS = ("cooperative_contact", "product_contact", "booth_contact")
SALT = "contact-count"
#: A tag is a few dozen characters; anything much longer is not one of ours.
MAX_TAG_CHARS = 400
MAX_SUBJECT_ID = 2**31 - 1
#: The same link clicked again and again from one address counts only a few times an hour…
PER_LINK = Rule("contact-link", "CONTACT_CLICKS_PER_LINK")
#: …and one address counts only so many contact clicks an hour, whichever links they are.
PER_ADDRESS = Rule("contact-ip", "CONTACT_CLICKS_PER_IP")


class BadTag(ValueError):
    """The tag was not signed by this site, or does not name contact counters."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def sign(items: list[str]) -> str:
    """Sign a list of "kind:id" items (tests use it to sign what the pages never would)."""
    return _serializer().dumps(items)


@bp.app_template_global()
def contact_tag(cooperative, product=None, booth=None) -> str:
    """The signed counters a click on `cooperative`'s call or Zalo link adds one to."""
    items = [f"cooperative_contact:{cooperative.id}"]
    if product is not None:
        items.append(f"product_contact:{product.id}")
    if booth is not None:
        items.append(f"booth_contact:{booth.id}")
    return sign(items)


def read_tag(tag: str) -> list[tuple[str, int]]:
    """The (kind, subject id) pairs of a tag this site signed; BadTag otherwise."""
    if not tag or len(tag) > MAX_TAG_CHARS:
        raise BadTag("no tag, or too long")
    try:
        items = _serializer().loads(tag)
    except BadSignature as error:
        raise BadTag("bad signature") from error
    if not isinstance(items, list) or not 1 <= len(items) <= len(CONTACT_KINDS):
        raise BadTag("not a list of counters")
    pairs = []
    for item in items:
        kind, _sep, subject = item.partition(":") if isinstance(item, str) else ("", "", "")
        if kind not in CONTACT_KINDS:
            raise BadTag(f"not a contact counter: {kind!r}")
        if (
            not (subject.isascii() and subject.isdecimal())
            or not 0 < int(subject) <= MAX_SUBJECT_ID
        ):
            raise BadTag(f"not a subject id: {subject!r}")
        pairs.append((kind, int(subject)))
    if len({kind for kind, _id in pairs}) != len(pairs):
        raise BadTag("a counter named twice")
    return pairs


def _plain(message: str, status: int, **headers) -> Response:
    return Response(message, status=status, mimetype="text/plain", headers=headers)


def _throttled(pairs: list[tuple[str, int]]) -> int:
    """Take this click's slots; 0 if it may be counted, else the seconds until one may."""
    address = client_key()
    link = hashlib.sha256(repr(sorted(pairs)).encode()).hexdigest()[:32]
    wait = PER_LINK.take(f"{address}/{link}")
    if wait:
        return wait
    wait = PER_ADDRESS.take(address)
    if wait:
        PER_LINK.give_back(f"{address}/{link}")
    return wait


@bp.post("/dem-lien-he")
def count():
    """Count one click on a contact link: 204 when counted or ignored, 400 for a bad tag."""
    if is_bot(request.headers.get("User-Agent")):
        return _plain("", 204)
    try:
        pairs = read_tag(request.form.get("tag", ""))
    except BadTag:
        return _plain(_("Không đếm được lượt liên hệ này: thẻ không hợp lệ."), 400)
    wait = _throttled(pairs)
    if wait:
        message = _("Lượt liên hệ từ địa chỉ này đã được đếm; thử lại sau.")
        return _plain(message, 429, **{"Retry-After": str(wait)})
    app = current_app._get_current_object()
    day = clock.today()

    def run() -> None:
        with app.app_context():
            for kind, subject_id in pairs:
                services.count_quietly(kind, subject_id, day=day)

    @after_this_request
    def schedule(response):
        response.call_on_close(run)
        return response

    return _plain("", 204)
