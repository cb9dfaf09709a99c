"""The factory, configuration, migrations and the audience of every route."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import config
from config import DEV_SECRET_KEY, ProductionConfig, TestConfig
from shop import create_app
from shop.access import AUDIENCES

ROOT = Path(__file__).resolve().parent.parent


def test_factory_takes_the_given_config():
    app = create_app(TestConfig)
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret-key"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"


def test_database_url_defaults_to_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = config._database_url()
    assert url.startswith("sqlite:///") and url.endswith("instance/cho-htx.sqlite3")


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u:p@db/shop", "postgresql+psycopg://u:p@db/shop"),
        ("postgresql://u@127.0.0.1/shop", "postgresql+psycopg://u@127.0.0.1/shop"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_uses_psycopg(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config._database_url() == expected


def test_production_refuses_the_default_secret(monkeypatch):
    class Prod(ProductionConfig):
        SECRET_KEY = DEV_SECRET_KEY
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://db/shop"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Prod)


def test_production_refuses_sqlite_unless_told(monkeypatch):
    class Prod(ProductionConfig):
        SECRET_KEY = "x" * 40
        SQLALCHEMY_DATABASE_URI = "sqlite:////tmp/prod.sqlite3"

    monkeypatch.delenv("SHOP_ALLOW_SQLITE", raising=False)
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app(Prod)
    monkeypatch.setenv("SHOP_ALLOW_SQLITE", "1")
    assert create_app(Prod).config["SESSION_COOKIE_SECURE"] is True


def test_every_route_declares_its_audience():
    app = create_app(TestConfig)
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        if getattr(blueprint, "audience", None) not in AUDIENCES:
            undeclared.append(rule.rule)
    assert not undeclared, f"routes without a declared audience: {undeclared}"


@pytest.mark.migrations
def test_migrations_upgrade_and_have_no_drift(database_factory):
    url = database_factory("migrations")
    env = {**os.environ, "DATABASE_URL": url}

    def flask(*args):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )

    upgrade = flask("upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = flask("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    # Downgrading to nothing and back must work too (a release can be rolled back).
    assert flask("downgrade", "base").returncode == 0
    again = flask("upgrade")
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("hops, seen", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_forwarded_address_is_trusted_only_behind_a_configured_proxy(hops, seen):
    """Throttles count per visitor: behind nginx that address comes from X-Forwarded-For."""
    config = type("C", (TestConfig,), {"TRUSTED_PROXIES": hops})
    app = create_app(config)

    @app.get("/_whoami")
    def whoami():
        from flask import request

        return request.remote_addr or ""

    response = app.test_client().get(
        "/_whoami",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.get_data(as_text=True) == seen
