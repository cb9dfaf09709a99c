"""Keeping inquiry spam away from cooperatives: a honeypot, rate limits, and limits on size.

Decisions (tested in tests/test_inquiry_spam.py):
- The honeypot is a text field hidden from people (off-screen), from assistive technology
  (aria-hidden) and from the keyboard (tabindex -1), with a name no browser autofills. A send
  that fills it is answered exactly like a real one (the same redirect and confirmation), but
  its inquiries are stored with status spam and nobody is emailed or notified: staff can still
  see what bots send, and the bot learns nothing.
- Rate limits count sends that passed validation, per client address and per email address
  (shop.accounts.throttle storage: Redis when REDIS_URL is set). Past a limit the answer is
  429 with a page that says when to try again, and nothing is written. A refused send does not
  use up a slot. Replies through a private link are limited per address too.
- Sizes: at most MAX_ITEMS products (the list's own limit), a message of at most MESSAGE_MAX
  characters with at most MAX_LINKS links, a name of at most NAME_MAX characters.
- Each send form carries a one-time key: the same form posted twice (a double tap on a slow
  link, a resent POST) sends once; the second answer goes to the same confirmation.
"""

import math
import re
import secrets

from flask import current_app
from flask_babel import ngettext
from limits import parse

from shop.accounts import throttle
from shop.inquiries import lists

MAX_ITEMS = lists.MAX_LINES
MESSAGE_MAX = 2000
MAX_LINKS = 3
NAME_MAX = 120

#: The honeypot's form name: nothing a browser's autofill knows (not "website", "company", …).
HONEYPOT_FIELD = "hp_reference_code"

#: Something a reader would follow: a scheme, "www.", or a bare domain with a path; each
#: alternative takes the whole link, so "https://a.vn/x" is one link, not two.
_LINK = re.compile(
    r"\b[a-z][a-z0-9+.-]*://\S*"
    r"|\bwww\.\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*",
    re.IGNORECASE,
)

#: The limits (the `limits` notation); the app's config may override each by name.
DEFAULTS = {
    "INQUIRY_SENDS_PER_IP": "5 per hour",
    "INQUIRY_SENDS_PER_EMAIL": "10 per day",
    "INQUIRY_REPLIES_PER_IP": "20 per hour",
    #: Each send form carries a one-time key: a double tap on a slow link sends once.
    "INQUIRY_SEND_FORM_USES": "1 per day",
}


class _Rule(throttle.Rule):
    """A throttle rule whose limit has a default here when config.py does not name it."""

    def _key(self, key: str):
        setting = current_app.config.get(self.setting, DEFAULTS[self.setting])
        return f"{self.name}/{key}", parse(setting)

    def used_up(self, key: str) -> bool:
        """True when `key` has no event left in this window (nothing is counted)."""
        storage_key, item = self._key(key)
        return throttle._storage().get(storage_key) >= item.amount


SEND_IP = _Rule("inquiry-send-ip", "INQUIRY_SENDS_PER_IP")
SEND_EMAIL = _Rule("inquiry-send-email", "INQUIRY_SENDS_PER_EMAIL")
REPLY_IP = _Rule("inquiry-reply-ip", "INQUIRY_REPLIES_PER_IP")
SEND_FORM = _Rule("inquiry-send-form", "INQUIRY_SEND_FORM_USES")

_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class Throttled(Exception):
    """Too many sends: `retry_after` seconds until the next is allowed; `message` says so."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    @property
    def message(self) -> str:
        minutes = self.minutes
        if minutes >= 120:
            hours = math.ceil(minutes / 60)
            return ngettext(
                "Bạn đã gửi nhiều yêu cầu báo giá trong thời gian ngắn. Vui lòng thử lại sau "
                "%(num)d giờ.",
                "Bạn đã gửi nhiều yêu cầu báo giá trong thời gian ngắn. Vui lòng thử lại sau "
                "%(num)d giờ.",
                hours,
            )
        return ngettext(
            "Bạn đã gửi nhiều yêu cầu báo giá trong thời gian ngắn. Vui lòng thử lại sau "
            "%(num)d phút.",
            "Bạn đã gửi nhiều yêu cầu báo giá trong thời gian ngắn. Vui lòng thử lại sau "
            "%(num)d phút.",
            minutes,
        )


def count_links(text: str | None) -> int:
    """How many links a text holds (http://…, www.…, example.com/…)."""
    return len(_LINK.findall(text or ""))


def honeypot_filled(form_data) -> bool:
    """True when the hidden field came back with anything in it (a bot filled every field)."""
    return bool((form_data.get(HONEYPOT_FIELD) or "").strip())


def new_form_key() -> str:
    """The one-time key of a send form (put in the form when it is shown)."""
    return secrets.token_urlsafe(16)


def first_use(form_key: str | None) -> bool:
    """False when this form was already sent (a double tap, a resent POST); else take it.

    A form without a key (a script, an old page) is not held back here; the rate limits are.
    """
    if not form_key or not _FORM_KEY.match(form_key):
        return True
    return SEND_FORM.take(form_key) == 0


def already_sent(form_key: str | None) -> bool:
    """True when this very form was sent before (its second tap arrives after the first)."""
    return bool(form_key and _FORM_KEY.match(form_key) and SEND_FORM.used_up(form_key))


def release(form_key: str | None) -> None:
    """The send was refused after all (429): the same form may be sent again later."""
    if form_key and _FORM_KEY.match(form_key):
        SEND_FORM.clear(form_key)


def allow_send(email: str | None) -> None:
    """Count one send from this address (and this email); raise Throttled past a limit."""
    client = throttle.client_key()
    wait = SEND_IP.take(client)
    if wait:
        raise Throttled(wait)
    if email:
        wait = SEND_EMAIL.take(throttle.account_key(email))
        if wait:
            SEND_IP.give_back(client)  # the refused send does not count against the address
            raise Throttled(wait)


def allow_reply() -> None:
    """Count one buyer reply from this address; raise Throttled past the limit."""
    wait = REPLY_IP.take(throttle.client_key())
    if wait:
        raise Throttled(wait)
