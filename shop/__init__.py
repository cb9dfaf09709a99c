"""Chợ HTX: the marketplace of Bắc Ninh's cooperatives."""

from pathlib import Path

from flask import Flask

from config import config_from_env
from shop.db import engine_options


def create_app(config_class=None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, commands."""
    config_class = config_class or config_from_env()
    if hasattr(config_class, "check"):
        config_class.check()
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    app.config.from_object(config_class)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    ensure_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    trust_proxies(app)

    register_extensions(app)
    register_security(app)
    register_observability(app)
    register_i18n(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind nginx, take the visitor's address and scheme from the proxy's headers."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (instance/ on a fresh clone)."""
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)


def register_extensions(app: Flask) -> None:
    from shop import models  # noqa: F401  (complete metadata before migrations look at it)
    from shop.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)

    from shop.accounts.sessions import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"

    from shop.notify.services import deliver_after_request

    app.after_request(deliver_after_request)

    from shop.search.index import listen

    listen()  # the search index follows every product change in the same transaction


def register_security(app: Flask) -> None:
    from shop.security import init_app

    init_app(app)


def register_observability(app: Flask) -> None:
    from shop.observability import init_app

    init_app(app)  # JSON logs with request ids, the access line, the slow-query log


def register_i18n(app: Flask) -> None:
    from shop.text.web import init_i18n

    init_i18n(app)


def register_blueprints(app: Flask) -> None:
    from shop.accounts.views import account, auth
    from shop.api.views import bp as api_bp
    from shop.api.views import docs as api_docs_bp
    from shop.audit.manage import bp as audit_manage_bp
    from shop.bulk.exports import member as product_export_bp
    from shop.bulk.exports import staff as catalogue_export_bp
    from shop.bulk.feeds import bp as feeds_bp
    from shop.bulk.member import bp as product_import_bp
    from shop.bulk.staff import bp as registry_import_bp
    from shop.catalog.dashboard import bp as product_dashboard_bp
    from shop.catalog.manage import bp as product_manage_bp
    from shop.catalog.photos import bp as product_photos_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.cooperatives.dashboard import bp as dashboard_bp
    from shop.cooperatives.manage import bp as cooperatives_manage_bp
    from shop.cooperatives.register import invitations, registration
    from shop.cooperatives.views import bp as cooperatives_bp
    from shop.health import bp as health_bp
    from shop.inquiries.inbox import bp as inquiry_inbox_bp
    from shop.inquiries.sending import bp as inquiry_send_bp
    from shop.inquiries.support import bp as inquiry_support_bp
    from shop.inquiries.views import bp as inquiry_list_bp
    from shop.media.views import bp as media_bp
    from shop.moderation.manage import bp as moderation_manage_bp
    from shop.moderation.queue import bp as moderation_queue_bp
    from shop.moderation.views import bp as moderation_bp
    from shop.notify.manage import bp as outbox_bp
    from shop.pages.console import bp as console_bp
    from shop.pages.views import bp as pages_bp
    from shop.programmes.applications_manage import bp as applications_manage_bp
    from shop.programmes.dashboard import bp as programme_dashboard_bp
    from shop.programmes.manage import bp as programmes_manage_bp
    from shop.programmes.printing import bp as programme_print_bp
    from shop.programmes.printing import manage as programme_print_manage_bp
    from shop.programmes.printing import member as booth_kit_bp
    from shop.programmes.qr import bp as programme_qr_bp
    from shop.programmes.views import bp as programmes_bp
    from shop.reports.contacts import bp as contact_count_bp
    from shop.reports.manage import bp as reports_manage_bp
    from shop.reports.programmes import bp as programme_figures_bp
    from shop.search.views import bp as search_bp
    from shop.seo.views import bp as seo_bp

    # Public
    app.register_blueprint(pages_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(cooperatives_bp)
    app.register_blueprint(programmes_bp)
    app.register_blueprint(programme_qr_bp)
    app.register_blueprint(programme_print_bp)
    app.register_blueprint(inquiry_list_bp)
    app.register_blueprint(inquiry_send_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_docs_bp)
    app.register_blueprint(seo_bp)
    app.register_blueprint(contact_count_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(invitations)
    app.register_blueprint(auth)
    app.register_blueprint(health_bp)
    # Signed-in users, cooperative members, alliance staff
    app.register_blueprint(account)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(product_dashboard_bp)
    app.register_blueprint(product_photos_bp)
    app.register_blueprint(programme_dashboard_bp)
    app.register_blueprint(inquiry_inbox_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(registration)
    app.register_blueprint(cooperatives_manage_bp)
    app.register_blueprint(product_manage_bp)
    app.register_blueprint(audit_manage_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(moderation_queue_bp)
    app.register_blueprint(moderation_manage_bp)
    app.register_blueprint(reports_manage_bp)
    app.register_blueprint(applications_manage_bp)
    app.register_blueprint(inquiry_support_bp)
    app.register_blueprint(programmes_manage_bp)
    app.register_blueprint(programme_print_manage_bp)
    app.register_blueprint(booth_kit_bp)
    app.register_blueprint(programme_figures_bp)
    app.register_blueprint(product_import_bp)
    app.register_blueprint(registry_import_bp)
    app.register_blueprint(product_export_bp)
    app.register_blueprint(catalogue_export_bp)


def register_errorhandlers(app: Flask) -> None:
    from shop.pages.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from shop.accounts.commands import users_cli
    from shop.backup.commands import backup_cli
    from shop.catalog.commands import catalog_cli
    from shop.dataset.commands import data_cli
    from shop.media.commands import media_cli
    from shop.search.commands import search_cli

    app.cli.add_command(backup_cli)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(media_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(users_cli)
