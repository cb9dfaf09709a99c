"""Configuration classes, read from the environment (12-factor) with safe development defaults."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("SHOP_INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-secret-key-change-me"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'cho-htx.sqlite3'}"
    # Heroku-style URLs name the driver "postgres"; psycopg 3 is the driver we ship.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: PostgreSQL only (shop.db.engine_options): seconds before a connection attempt gives up,
    #: and milliseconds before a statement is cancelled (0 = never).
    DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "2"))
    DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "0"))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(INSTANCE_DIR / "media"))
    MEDIA_S3_ENDPOINT = os.environ.get("MEDIA_S3_ENDPOINT") or None
    MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET") or None
    MEDIA_S3_KEY = os.environ.get("MEDIA_S3_KEY") or None
    MEDIA_S3_SECRET = os.environ.get("MEDIA_S3_SECRET") or None
    #: Only AWS cares; SeaweedFS and MinIO accept any region.
    MEDIA_S3_REGION = os.environ.get("MEDIA_S3_REGION") or "us-east-1"
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "Chợ HTX <no-reply@cho-htx.local>")
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    PRODUCTS_PER_PAGE = 24
    #: Rebuild the catalogue's facet counts in a background thread after a change, serving the
    #: previous counts meanwhile (shop.catalog.queries.FacetCache); off, the request rebuilds.
    FACET_COUNTS_IN_BACKGROUND = True
    #: A confirmed bulk import runs in a thread of the web process and shows its progress
    #: (shop/bulk/jobs.py); False runs it inside the request that confirms it.
    IMPORT_IN_BACKGROUND = True
    #: Rows one import sheet may hold; a longer sheet is refused before any row is read.
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "10000"))
    #: The product import's upload (a sheet and a ZIP of photos together); every other request
    #: keeps MAX_CONTENT_LENGTH. deploy/nginx.conf gets the same limit for that one address.
    IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024))
    #: <url> entries per sitemap part (the protocol's limit is 50,000); tests lower it.
    SITEMAP_URLS_PER_FILE = int(os.environ.get("SITEMAP_URLS_PER_FILE", "50000"))
    #: Pin "today" (ISO date) for demos and tests of date-dependent pages; None = the real date.
    SHOP_TODAY = os.environ.get("SHOP_TODAY") or None
    WTF_CSRF_TIME_LIMIT = None
    #: argon2id cost (OWASP: m=19 MiB, t=2 at least); tests lower it to stay fast.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    ARGON2_PARALLELISM = 4
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    #: A signed-in browser expires this long after signing in, even if never signed out.
    AUTH_SESSION_LIFETIME = timedelta(days=30)
    #: How long an emailed password-reset link works, in seconds.
    PASSWORD_RESET_MAX_AGE = 3600
    #: Base of links in emails (https://cho-htx.example.vn); unset = the request's host, which
    #: a forged Host header could change, so production should set it.
    SITE_URL = os.environ.get("SITE_URL") or None
    #: Reverse proxies in front of the app (nginx = 1). Their X-Forwarded-For/-Proto/-Host are
    #: trusted only then; without it every visitor would share nginx's address in the throttles.
    TRUSTED_PROXIES = int(os.environ.get("SHOP_TRUSTED_PROXIES", "0"))
    #: Throttles (the `limits` notation), kept in RATELIMIT_STORAGE_URI (Redis when REDIS_URL).
    LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_FAILURES_PER_IP = "5 per 15 minutes"
    SIGNUPS_PER_IP = "10 per hour"
    PASSWORD_RESETS_PER_ACCOUNT = "3 per hour"
    PASSWORD_RESETS_PER_IP = "10 per hour"
    PRODUCT_REPORTS_PER_IP = "5 per hour"
    #: Clicks on call/Zalo links counted per address: per link, and in all (shop.reports.contacts).
    CONTACT_CLICKS_PER_LINK = "3 per hour"
    CONTACT_CLICKS_PER_IP = "30 per hour"
    #: Redis down: the API limits (flask-limiter) count in memory until it is back, like the
    #: throttles (shop.accounts.throttle.FallbackStorage); a dead Redis answers within 0.5 s.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    #: Prefix of the throttles' keys, so several sites (or test runs) can share one Redis.
    THROTTLE_KEY_PREFIX = os.environ.get("THROTTLE_KEY_PREFIX", "cho-htx")
    #: One photo per request (at most 15 MB, shop.media.images) plus the form around it.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    SEND_FILE_MAX_AGE_DEFAULT = 3600
    #: "json": one JSON object per log line on stderr, with request ids (shop.observability);
    #: "text": the development console as Flask makes it.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    #: Statements at least this slow (milliseconds) are logged at WARNING by shop.sql.slow.
    SLOW_QUERY_MS = int(os.environ.get("SLOW_QUERY_MS", "200"))


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    SHOP_TODAY = "2026-11-26"
    #: A test's data lives in a transaction no background thread's connection can see.
    FACET_COUNTS_IN_BACKGROUND = False
    IMPORT_IN_BACKGROUND = False
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    #: `__Host-`: the browser keeps the cookie only if Secure, Path=/ and without Domain, so
    #: no sibling subdomain or plain-HTTP page can set or shadow it.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    #: Flask-Login's remember cookie (sign-in never asks for it today), held to the same rule.
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_PATH = "/"
    REMEMBER_COOKIE_DOMAIN = None
    #: Strict-Transport-Security max-age in seconds (one year); see shop/security.py.
    HSTS_MAX_AGE = 31536000
    #: One JSON object per log line, with the request id (shop/observability.py).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")

    @classmethod
    def check(cls) -> None:
        """Refuse to start production with development defaults."""
        if cls.SECRET_KEY == DEV_SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError("SECRET_KEY must be set to a long random value in production")
        if cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite") and not os.environ.get(
            "SHOP_ALLOW_SQLITE"
        ):
            raise RuntimeError(
                "production needs DATABASE_URL (PostgreSQL); set SHOP_ALLOW_SQLITE=1 to override"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def config_from_env():
    name = os.environ.get("SHOP_ENV", "development")
    return CONFIGS[name]
