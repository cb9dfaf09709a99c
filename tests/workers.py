"""Real servers for scale-out tests: a Redis on loopback and the app under gunicorn workers."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER_BOOTED = re.compile(r"Booting worker with pid: (\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """The Redis on 127.0.0.1:6379, else a throwaway one started here (and stopped by pid)."""

    def __init__(self, port: int, pidfile: Path | None = None):
        self.port = port
        self.pidfile = pidfile

    @classmethod
    def find_or_start(cls, workdir: Path) -> "RedisServer":
        if _redis_ping(6379):
            return cls(6379)
        return cls.start_new(workdir)

    @classmethod
    def start_new(cls, workdir: Path, port: int | None = None) -> "RedisServer":
        """A throwaway redis-server of our own (on `port`, or a free one): ours to stop."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("no Redis on 127.0.0.1:6379 and no redis-server to start one")
        port = port or free_port()
        pidfile = workdir / "redis.pid"
        subprocess.run(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--daemonize",
                "yes",
                "--pidfile",
                str(pidfile),
                "--dir",
                str(workdir),
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while not _redis_ping(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {port}")
            time.sleep(0.1)
        return cls(port, pidfile)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.pidfile and self.pidfile.exists():
            os.kill(int(self.pidfile.read_text().strip()), signal.SIGTERM)


class GunicornServer:
    """`gunicorn app:app` with N sync workers on a migrated database, logging each worker's pid."""

    def __init__(self, database_url: str, workdir: Path, workers: int = 2, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.workers = workers
        self.access_log = workdir / "access.log"
        self.error_log = workdir / "error.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SHOP_INSTANCE_DIR": str(workdir),
            "SECRET_KEY": "gunicorn-test-secret-key-" + uuid.uuid4().hex,
            # Each server counts in its own corner of a shared Redis.
            "THROTTLE_KEY_PREFIX": "test-" + uuid.uuid4().hex[:12],
            **env,
        }
        self.process = None

    def flask(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """Run `flask --app app ARGS` against this server's database; fail loudly on error."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def start(self) -> "GunicornServer":
        self.flask("db", "upgrade")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--no-control-socket",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--access-logformat",
                "%(p)s %(r)s %(s)s",
                "--access-logfile",
                str(self.access_log),
                "--error-logfile",
                str(self.error_log),
                "app:app",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if len(self.worker_pids()) == self.workers and self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start:\n" + self.error_log.read_text())

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def worker_pids(self) -> set[int]:
        """Pids of the workers booted so far, as the arbiter logged them."""
        if not self.error_log.exists():
            return set()
        return {int(pid) for pid in WORKER_BOOTED.findall(self.error_log.read_text())}

    def access_lines(self) -> list[tuple[int, str, int]]:
        """(worker pid, request line, status) of every request logged so far.

        A worker logs a request just after sending its answer: poll for the last ones.
        """
        lines = []
        if self.access_log.exists():
            for line in self.access_log.read_text().splitlines():
                pid, _, rest = line.partition(" ")
                request, _, status = rest.rpartition(" ")
                lines.append((int(pid[1:-1] if pid.startswith("<") else pid), request, int(status)))
        return lines

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # the arbiter stops its workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
