"""Find a PostgreSQL server for the tests, or start a throwaway cluster with initdb."""

import glob
import os
import shutil
import socket
import subprocess
import time
import uuid

import psycopg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


class Server:
    def __init__(self, admin_url: str, cluster_dir: str | None = None, run_as: list | None = None):
        self.admin_url = admin_url
        self.cluster_dir = cluster_dir
        self.run_as = run_as or []
        self.prefix = f"chohtx_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    @classmethod
    def find_or_start(cls, tmp_path_factory) -> "Server":
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            url = url.replace("postgresql+psycopg://", "postgresql://")
            if not _reachable(url):
                raise RuntimeError(f"TEST_DATABASE_URL is set but not reachable: {url}")
            return cls(url)
        local = "postgresql://postgres@127.0.0.1:5432/postgres"
        if _reachable(local):
            return cls(local)
        return cls._start_cluster(tmp_path_factory)

    @classmethod
    def _start_cluster(cls, tmp_path_factory) -> "Server":
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError("no PostgreSQL server reachable and no initdb to start one")
        bindir = os.path.dirname(binaries[-1])
        base = tmp_path_factory.mktemp("pgcluster")
        data = base / "data"
        run_as = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(base, "postgres")
        port = _free_port()
        subprocess.run(
            [*run_as, f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *run_as,
                f"{bindir}/pg_ctl",
                "-D",
                str(data),
                "-w",
                "-l",
                str(base / "log"),
                "-o",
                f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        for _ in range(50):
            if _reachable(url):
                break
            time.sleep(0.2)
        server = cls(url, cluster_dir=str(data), run_as=run_as)
        server.bindir = bindir
        return server

    def _admin(self):
        return psycopg.connect(self.admin_url, autocommit=True)

    def url_for(self, dbname: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+psycopg://") + "/" + dbname

    def create_database(self, name: str) -> str:
        dbname = f"{self.prefix}_{name}"
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url_for(dbname)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.cluster_dir:
            subprocess.run(
                [
                    *self.run_as,
                    f"{self.bindir}/pg_ctl",
                    "-D",
                    self.cluster_dir,
                    "-m",
                    "fast",
                    "stop",
                ],
                check=False,
                capture_output=True,
            )
