"""Serve the app in a child process, set up exactly as `make run` does, for browser tests."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, database_url: str, workdir: Path):
        self.database_url = database_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SHOP_INSTANCE_DIR": str(workdir),
            "SHOP_TODAY": "2026-11-26",
            "SECRET_KEY": "live-server-test-key",
        }
        self.process = None

    def flask(self, *args: str, env: dict | None = None) -> None:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.flask("db", "upgrade")
        self.flask("data", "demo")
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._log = log
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            "live server did not start: " + (self.workdir / "server.log").read_text()
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if getattr(self, "_log", None):
            self._log.close()


def outbox_links(database_url: str, to_address: str, path_part: str) -> list[str]:
    """Links containing `path_part` in the emails the live app queued for `to_address`."""
    import re

    from sqlalchemy import create_engine, text

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            bodies = (
                conn.execute(
                    text("SELECT body FROM outbox_email WHERE to_address = :to ORDER BY id"),
                    {"to": to_address},
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    return [
        link for body in bodies for link in re.findall(r"https?://\S+", body) if path_part in link
    ]
