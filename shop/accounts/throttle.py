"""Throttles against password guessing and form spam, shared by every worker process.

Counters live in the `limits` storage at RATELIMIT_STORAGE_URI: Redis when REDIS_URL is set, so
all gunicorn workers count together; memory:// otherwise (one process only). While Redis is
down each worker counts in its own memory (FallbackStorage says why). An attempt takes a
slot *before* the password is checked, atomically, so parallel requests cannot slip past the
limit; a failure keeps its slot until the window ends, a success gives it back. Windows are
fixed: they start with the first counted attempt and last the configured period.
"""

import hashlib
import ipaddress
import logging
import math
import time

from flask import current_app, request
from flask_babel import ngettext
from limits import parse
from limits.storage import storage_from_string
from werkzeug.exceptions import TooManyRequests

from shop.text.folding import fold

log = logging.getLogger(__name__)


class TooManyAttempts(TooManyRequests):
    """429 with a message for the visitor and a Retry-After header (see shop.pages.errors)."""

    def __init__(self, retry_after: int, wrong_password: bool = False):
        super().__init__(retry_after=retry_after)
        minutes = max(1, math.ceil(retry_after / 60))
        if wrong_password:
            self.user_message = ngettext(
                "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau %(num)d phút.",
                "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau %(num)d phút.",
                minutes,
            )
        else:
            self.user_message = ngettext(
                "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau %(num)d phút.",
                "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau %(num)d phút.",
                minutes,
            )


class FallbackStorage:
    """The shared storage (Redis), or this process's memory while the shared one is down.

    When Redis fails, the throttles fail *open to per-process limits*, not open and not closed:
    each call that cannot reach Redis is counted in this worker's memory instead (a warning is
    logged), and Redis is tried again after RETRY_SECONDS. So a Redis outage neither locks
    every visitor out of signing in, resetting a password, reporting a product or sending an
    inquiry (fail-closed would turn a cache outage into an outage of the whole site), nor lifts
    the limits (fail-open would leave password guessing unbounded): a guesser gets at most the
    limit once per worker process (5 failures per 15 minutes × workers), which argon2 and the
    per-account limit still make useless. Counts taken in memory are not copied to Redis when it
    returns; Redis's own counts from before the outage are still there and apply again.
    """

    #: Seconds between attempts to reach a failed Redis (meanwhile memory answers at once).
    RETRY_SECONDS = 2.0

    def __init__(self, uri: str, key_prefix: str):
        self.shared = storage_from_string(
            uri, key_prefix=key_prefix, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self.local = storage_from_string("memory://")
        self.down_until = 0.0

    def _call(self, name: str, *args):
        if time.monotonic() >= self.down_until:
            try:
                result = getattr(self.shared, name)(*args)
            except Exception as error:  # redis.ConnectionError, TimeoutError, ...
                self.down_until = time.monotonic() + self.RETRY_SECONDS
                log.warning("throttle storage unreachable, counting in this process: %s", error)
            else:
                if self.down_until:
                    log.warning("throttle storage reachable again")
                    self.down_until = 0.0
                return result
        return getattr(self.local, name)(*args)

    def incr(self, key, expiry, amount=1):
        return self._call("incr", key, expiry, amount)

    def get(self, key):
        return self._call("get", key)

    def get_expiry(self, key):
        return self._call("get_expiry", key)

    def clear(self, key):
        self.local.clear(key)
        return self._call("clear", key)

    def reset(self):
        self.local.reset()
        return self._call("reset")


def _storage():
    extensions = current_app.extensions
    if "throttle_storage" not in extensions:
        uri = current_app.config["RATELIMIT_STORAGE_URI"]
        prefix = current_app.config["THROTTLE_KEY_PREFIX"]
        if uri.startswith("memory://"):
            storage = storage_from_string(uri, key_prefix=prefix)
        else:
            storage = FallbackStorage(uri, prefix)
        extensions["throttle_storage"] = storage
    return extensions["throttle_storage"]


def reset() -> None:
    """Forget every counter of this site (tests; an operator after an incident)."""
    _storage().reset()


class Rule:
    """At most N counted events per window for one key, e.g. "5 per 15 minutes" per account."""

    def __init__(self, name: str, setting: str):
        self.name = name
        self.setting = setting

    def _key(self, key: str):
        """The storage key (the storage adds the site's prefix) and the configured limit."""
        return f"{self.name}/{key}", parse(current_app.config[self.setting])

    def take(self, key: str) -> int:
        """Count one event; 0 if it is allowed, else the seconds until it will be."""
        storage_key, item = self._key(key)
        storage = _storage()
        count = storage.incr(storage_key, item.get_expiry())
        if count <= item.amount:
            return 0
        storage.incr(storage_key, item.get_expiry(), -1)  # a refused event is not counted
        return max(1, math.ceil(storage.get_expiry(storage_key) - time.time()))

    def give_back(self, key: str) -> None:
        storage_key, item = self._key(key)
        storage = _storage()
        if storage.incr(storage_key, item.get_expiry(), -1) < 0:
            storage.clear(storage_key)  # the window ended meanwhile

    def clear(self, key: str) -> None:
        _storage().clear(self._key(key)[0])


LOGIN_ACCOUNT = Rule("login-account", "LOGIN_FAILURES_PER_ACCOUNT")
LOGIN_IP = Rule("login-ip", "LOGIN_FAILURES_PER_IP")
SIGNUP_IP = Rule("signup-ip", "SIGNUPS_PER_IP")
RESET_ACCOUNT = Rule("reset-account", "PASSWORD_RESETS_PER_ACCOUNT")
RESET_IP = Rule("reset-ip", "PASSWORD_RESETS_PER_IP")
REPORT_IP = Rule("report-ip", "PRODUCT_REPORTS_PER_IP")


def account_key(email: str) -> str:
    """The folded email, hashed so the counter store holds no addresses."""
    return hashlib.sha256(fold(email.strip()).encode()).hexdigest()[:32]


def client_key() -> str:
    """The client's address; IPv6 clients are counted per /64 (one household or phone)."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginAttempt:
    """One password check for `email`, allowed by both the account's and the address's limit."""

    def __init__(self, email: str):
        self.account = account_key(email)
        self.client = client_key()
        wait = LOGIN_ACCOUNT.take(self.account)
        if wait:
            log.warning("login refused: account locked (client %s)", self.client)
            raise TooManyAttempts(wait, wrong_password=True)
        wait = LOGIN_IP.take(self.client)
        if wait:
            LOGIN_ACCOUNT.give_back(self.account)
            log.warning("login refused: too many failures from %s", self.client)
            raise TooManyAttempts(wait, wrong_password=True)

    def failed(self) -> None:
        """Keep both slots taken: the failure counts until its window ends."""
        log.info("login failed (client %s)", self.client)

    def succeeded(self) -> None:
        """The right password: the account starts afresh; the address gets its slot back."""
        LOGIN_ACCOUNT.clear(self.account)
        LOGIN_IP.give_back(self.client)


def allow_signup() -> None:
    wait = SIGNUP_IP.take(client_key())
    if wait:
        raise TooManyAttempts(wait)


def allow_report() -> None:
    """Count one buyer's product report from this address; 429 past the limit."""
    wait = REPORT_IP.take(client_key())
    if wait:
        raise TooManyAttempts(wait)


def allow_reset_request(email: str) -> bool:
    """Raise 429 for a flooding address; False (and no email) past the account's limit."""
    wait = RESET_IP.take(client_key())
    if wait:
        raise TooManyAttempts(wait)
    return RESET_ACCOUNT.take(account_key(email)) == 0


def clear_account(email: str) -> None:
    """A new password was set: let the account sign in at once."""
    LOGIN_ACCOUNT.clear(account_key(email))
