"""Password hashing with argon2id, and the rules a new password must pass."""

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

from shop.text.folding import fold, nfc

MIN_LENGTH = 10
#: Long enough for any passphrase; short enough that hashing it is cheap.
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config.get("ARGON2_TIME_COST", 3),
        memory_cost=config.get("ARGON2_MEMORY_KIB", 65536),
        parallelism=config.get("ARGON2_PARALLELISM", 4),
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def dummy_verify(password: str) -> None:
    """Spend the time of a real verification, so unknown emails answer as slowly as known ones."""
    extensions = current_app.extensions
    if "dummy_password_hash" not in extensions:
        extensions["dummy_password_hash"] = hash_password("not-a-real-password")
    verify_password(extensions["dummy_password_hash"], password)


def normalize(password: str) -> str:
    """NFC only: the same password typed on two keyboards must match; spaces are kept."""
    return nfc(password)


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(line.strip()) for line in lines if line.strip() and line[0] != "#")


def is_common(password: str) -> bool:
    return fold(password) in common_passwords()


def problem(password: str, email: str | None = None):
    """Why `password` may not be used by the account of `email`, or None when it may."""
    if len(password) < MIN_LENGTH:
        return _l("Mật khẩu cần ít nhất %(num)d ký tự.", num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Mật khẩu dài quá %(num)d ký tự.", num=MAX_LENGTH)
    if is_common(password):
        return _l("Mật khẩu này quá phổ biến, kẻ gian dễ đoán ra. Hãy chọn mật khẩu khác.")
    if email:
        folded = fold(password)
        if folded in (fold(email), fold(email.partition("@")[0])):
            return _l("Mật khẩu không được giống địa chỉ email.")
    return None
