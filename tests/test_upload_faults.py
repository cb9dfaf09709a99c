"""Uploads that fail half-way: a full disk, a failing S3, a gunicorn worker killed mid-upload.

Whatever stops an upload, nothing is left half-written: a StoredImage row always has all its
files, and files without a row are removed (at once by store_image when the storage fails, by
`flask media gc` when the process was killed).

The full disk is a LocalStorage whose disk holds only so many bytes: the real put() writes
into its temporary file until the disk is "full", then OSError(ENOSPC) comes from the write,
as it would from a real file system. The killed worker is real: the app under gunicorn, an
upload over a socket, SIGKILL to the worker while it reads the body and while it writes files.
"""

import errno
import io
import os
import re
import signal
import socket
import time
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from PIL import Image
from sqlalchemy import func, select

from config import TestConfig
from shop import create_app
from shop.audit.models import AuditEntry
from shop.catalog.models import ProductImage, ProductStatus
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.media.images import make_derivatives, normalise, read_upload
from shop.media.models import StoredImage
from shop.media.services import (
    StorageFailed,
    parse_key,
    storage_failure,
    store_image,
)
from shop.media.storage import LocalStorage
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_media_images import encoded

FULL_VI = "Máy chủ hết chỗ lưu ảnh, vui lòng thử lại sau."
FULL_EN = "The server has run out of space for photos, please try again later."
UNAVAILABLE_VI = "Máy chủ chưa lưu được ảnh lúc này, vui lòng thử lại sau."
UNAVAILABLE_EN = "The server could not save the photo just now, please try again later."


# --------------------------------------------------------------------------- failing storages


class TinyDisk(LocalStorage):
    """A local folder on a disk with `free` bytes left: a write past them fails with ENOSPC.

    The bytes that fit are written first (a real disk fills up part-way through a file), so
    LocalStorage's own clean-up of its temporary file is what the tests check.
    """

    def __init__(self, root, free: int):
        super().__init__(root, fsync=False)
        self.free = free

    def _write(self, out, data: bytes) -> None:
        fits = data[: max(self.free, 0)]
        out.write(fits)
        self.free -= len(fits)
        if len(fits) < len(data):
            out.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class RefusingS3(LocalStorage):
    """Object storage that takes `puts` objects, then answers PutObject with an S3 error."""

    def __init__(self, root, puts: int, code: str, status: int):
        super().__init__(root, fsync=False)
        self.puts, self.code, self.status = puts, code, status

    def put(self, key, data, content_type):
        if self.puts <= 0:
            answer = {
                "Error": {"Code": self.code, "Message": "refused by the test"},
                "ResponseMetadata": {"HTTPStatusCode": self.status},
            }
            raise ClientError(answer, "PutObject")
        self.puts -= 1
        super().put(key, data, content_type)


def files_in(root: Path) -> list[str]:
    """Every file under `root` (temporary ones too), as relative keys."""
    if not root.exists():
        return []
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def photo(color=(200, 80, 40), size=(1000, 700)) -> bytes:
    """A small JPEG of one colour with a stripe: distinct colours give distinct images."""
    image = Image.new("RGB", size, color)
    image.paste((20, 20, 20), (0, 0, size[0], size[1] // 6))
    return encoded(image, "JPEG", quality=90)


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    "error, code, status",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "storage_full", 507),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "storage_full", 507),
        (OSError(errno.EIO, "Input/output error"), "storage_unavailable", 503),
        (PermissionError(errno.EACCES, "Permission denied"), "storage_unavailable", 503),
        (
            ClientError({"Error": {"Code": "InsufficientStorage"}}, "PutObject"),
            "storage_full",
            507,
        ),
        (
            ClientError(
                {"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 507}}, "PutObject"
            ),
            "storage_full",
            507,
        ),
        (
            ClientError({"Error": {"Code": "ServiceUnavailable"}}, "PutObject"),
            "storage_unavailable",
            503,
        ),
    ],
)
def test_storage_errors_become_a_refusal_with_a_status(blank_app, error, code, status):
    refusal = storage_failure(error)
    assert isinstance(refusal, StorageFailed)
    assert (refusal.code, refusal.status) == (code, status)
    with blank_app.test_request_context("/?lang=vi"):
        assert str(refusal.message) in (FULL_VI, UNAVAILABLE_VI)


def test_other_errors_are_not_storage_failures():
    assert storage_failure(ValueError("bad")) is None
    assert storage_failure(KeyError("x")) is None


# --------------------------------------------------------------------------- store_image


@pytest.fixture
def tiny_disk(request, tmp_path):
    """Install a TinyDisk as the media storage of the session apps: `tiny_disk(free)`."""
    apps = [request.getfixturevalue(name) for name in ("blank_app",)]
    saved = [(each, each.extensions.get("media_storage")) for each in apps]

    def install(storage):
        for each in apps:
            each.extensions["media_storage"] = storage
        return storage

    yield install
    for each, previous in saved:
        each.extensions["media_storage"] = previous


@pytest.mark.parametrize("free_after", ["master", "320.webp", "800.webp"])
def test_a_full_disk_leaves_no_file_and_no_row(blank_db, tiny_disk, tmp_path, free_after):
    data = photo()
    # Room for the master (and maybe some derivatives): the disk fills part-way through the
    # next file, so there are finished files and a half-written one to clean up.
    order = ["master", "320.webp", "800.webp", "1600.webp"]
    free = room_for(blank_db, data, order.index(free_after) + 1)
    disk = tiny_disk(TinyDisk(tmp_path / "media", free))
    with blank_db.test_request_context():
        with pytest.raises(StorageFailed) as caught:
            store_image(data)
        assert (caught.value.code, caught.value.status) == ("storage_full", 507)
        assert disk.free == 0  # the disk really filled up while writing
        assert files_in(disk.root) == []
        assert db.session.scalar(select(func.count()).select_from(StoredImage)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def room_for(app, data: bytes, files: int) -> int:
    """Free bytes for the first `files` files of this upload and half of the next one."""
    with app.test_request_context():
        normalised = normalise(read_upload(data))
        sizes = [len(normalised.master.data)]
        sizes += [len(each.data) for each in make_derivatives(normalised.image)]
    return sum(sizes[:files]) + sizes[files] // 2


def test_files_already_there_before_the_failure_are_left_alone(blank_db, tiny_disk, tmp_path):
    """An orphan of the same image (awaiting gc) is not this upload's to delete."""
    data = photo()
    disk = tiny_disk(TinyDisk(tmp_path / "media", 10**9))
    with blank_db.test_request_context():
        image = store_image(data)
        db.session.rollback()  # the row is gone, the files stay as orphans for gc
        keys = files_in(disk.root)
        assert len(keys) == 4
        master = next(key for key in keys if key.endswith("master.jpg"))
        (disk.root / keys[0]).unlink()  # one derivative lost: it is written again, and fails
        disk.free = 0
        with pytest.raises(StorageFailed):
            store_image(data)
        assert master in files_in(disk.root)
        assert len(files_in(disk.root)) == 3
        assert image.sha256 in master


# --------------------------------------------------------------------------- what a member sees


@pytest.fixture
def world(blank_db, media_storage):
    """A draft product with one photo already; its owner signed in."""
    load_taxonomy()
    coop = create_cooperative(name="HTX Gốm Đầy Đĩa")
    owner = create_user(cooperative=coop)
    product = create_product(coop, status=ProductStatus.DRAFT, name_vi="Bình gốm men lam")
    db.session.commit()
    client = blank_db.test_client()
    sign_in(client, owner)
    response = upload(client, product, photo((10, 120, 200)))
    assert response.status_code == 302
    return {"app": blank_db, "client": client, "coop": coop, "product": product}


def photos_url(product) -> str:
    return f"/quan-ly-htx/san-pham/{product.id}/anh"


def upload(client, product, data: bytes, lang: str | None = None, **kwargs):
    token = csrf_token(client, photos_url(product) + (f"?lang={lang}" if lang else ""))
    return client.post(
        photos_url(product) + "/tai-len",
        data={"csrf_token": token, "photo": (io.BytesIO(data), "anh.jpg")},
        content_type="multipart/form-data",
        **kwargs,
    )


def state(storage: LocalStorage, product) -> tuple:
    """What must not change: rows of images and photos, the product's photos, the files."""
    return (
        db.session.scalar(select(func.count()).select_from(StoredImage)),
        [
            row.image_id
            for row in db.session.scalars(
                select(ProductImage)
                .where(ProductImage.product_id == product.id)
                .order_by(ProductImage.position)
            )
        ],
        files_in(storage.root),
    )


@pytest.mark.parametrize("lang, message", [("vi", FULL_VI), ("en", FULL_EN)], ids=["vi", "en"])
def test_a_member_uploading_to_a_full_disk_is_told_and_nothing_changes(
    world, tiny_disk, lang, message
):
    product, client = world["product"], world["client"]
    storage = world["app"].extensions["media_storage"]
    before = state(storage, product)
    # The disk has room for the master and the 320 px size; it fills up in the 800 px one.
    data = photo((230, 200, 30))
    disk = tiny_disk(TinyDisk(storage.root, room_for(world["app"], data, 2)))
    response = upload(client, product, data, lang=lang)
    assert disk.free == 0
    assert response.status_code == 507
    text = page_text(response)
    assert message in text
    html = response.get_data(as_text=True)
    assert re.search(r'id="photo-error"[^>]*>.*?' + re.escape(message), html, re.S)
    assert state(storage, product) == before
    # The photo already there is still on the page.
    assert len(re.findall(r'id="anh-\d+"', html)) == 1


def test_the_upload_script_gets_the_reason_in_json(world, tiny_disk):
    product = world["product"]
    storage = world["app"].extensions["media_storage"]
    before = state(storage, product)
    tiny_disk(TinyDisk(storage.root, 0))
    response = upload(
        world["client"], product, photo((90, 200, 30)), headers={"Accept": "application/json"}
    )
    assert response.status_code == 507
    assert response.json == {"error": "refused", "message": FULL_VI}
    assert state(storage, product) == before


@pytest.mark.parametrize(
    "code, status, answer, lang, message",
    [
        ("ServiceUnavailable", 503, 503, "vi", UNAVAILABLE_VI),
        ("SlowDown", 503, 503, "en", UNAVAILABLE_EN),
        ("InsufficientStorage", 507, 507, "en", FULL_EN),
    ],
    ids=["unavailable-vi", "slow-down-en", "insufficient-storage-en"],
)
def test_object_storage_refusing_a_put_half_way(
    world, tiny_disk, code, status, answer, lang, message
):
    product = world["product"]
    storage = world["app"].extensions["media_storage"]
    before = state(storage, product)
    tiny_disk(RefusingS3(storage.root, puts=2, code=code, status=status))
    response = upload(world["client"], product, photo((30, 30, 160)), lang=lang)
    assert response.status_code == answer
    assert message in page_text(response)
    assert state(storage, product) == before


@pytest.mark.parametrize("path, kind", [("logo", "logo"), ("anh-bia", "cover")])
def test_a_full_disk_on_the_logo_or_cover_upload(world, tiny_disk, path, kind):
    client = world["client"]
    storage = world["app"].extensions["media_storage"]
    before = files_in(storage.root)
    data = photo((1, 2, 3))
    tiny_disk(TinyDisk(storage.root, room_for(world["app"], data, 3)))
    token = csrf_token(client, "/quan-ly-htx/ho-so?lang=en")
    response = client.post(
        f"/quan-ly-htx/ho-so/{path}",
        data={"csrf_token": token, "photo": (io.BytesIO(data), "anh.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 507
    html = response.get_data(as_text=True)
    match = re.search(rf'id="{kind}-photo-error"[^>]*>(.*?)</p>', html, re.S)
    assert match and FULL_EN in match.group(1)
    assert files_in(storage.root) == before
    assert db.session.scalar(select(func.count()).select_from(StoredImage)) == 1
    coop = db.session.get(Cooperative, world["coop"].id)
    assert (coop.logo_image_id, coop.cover_image_id) == (None, None)


def test_after_the_disk_is_freed_the_same_upload_works(world, tiny_disk):
    product = world["product"]
    storage = world["app"].extensions["media_storage"]
    data = photo((120, 10, 90))
    disk = tiny_disk(TinyDisk(storage.root, room_for(world["app"], data, 1)))
    assert upload(world["client"], product, data).status_code == 507
    disk.free = 10**9
    response = upload(world["client"], product, data)
    assert response.status_code == 302
    assert len(state(storage, product)[1]) == 2
    assert len(files_in(storage.root)) == 8


# --------------------------------------------------------------------------- a killed worker

PASSWORD = "gốm-bát-tràng-men-lam"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Member:
    """A member signed in over HTTP to a gunicorn server (urllib with a cookie jar)."""

    def __init__(self, server, email: str):
        self.server = server
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        token = self.token("/tai-khoan/dang-nhap")
        form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD})
        self.opener.open(server.url + "/tai-khoan/dang-nhap", data=form.encode(), timeout=30)

    def get(self, path: str) -> str:
        with self.opener.open(self.server.url + path, timeout=30) as response:
            assert response.status == 200
            return response.read().decode()

    def token(self, path: str) -> str:
        return CSRF_RE.search(self.get(path)).group(1)

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def open_upload(self, path: str, data: bytes) -> tuple[socket.socket, bytes]:
        """Connect and send the request head of a photo upload; return (socket, body to send)."""
        token = self.token(path)
        boundary = uuid.uuid4().hex
        body = (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f"{token}\r\n"
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="photo"; filename="anh-lon.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        head = (
            f"POST {path}/tai-len HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.server.port}\r\n"
            f"Cookie: {self.cookie_header()}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Accept: text/html\r\n"
            "Connection: close\r\n\r\n"
        )
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        sock.sendall(head.encode())
        return sock, body


def answer_of(sock: socket.socket) -> bytes:
    """Whatever the server sent before closing: b"" when the worker died without answering."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    sock.close()
    return b"".join(chunks)


def big_photo() -> bytes:
    """A 4-megapixel photo of fine noise: megabytes to send, real work to resize."""
    noise = Image.effect_noise((2400, 1600), 60).convert("RGB")
    return encoded(noise, "JPEG", quality=80)


def new_worker(server, dead: int) -> int:
    """The worker the arbiter boots after `dead` was killed, once it answers."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        fresh = server.worker_pids() - {dead}
        alive = {pid for pid in fresh if Path(f"/proc/{pid}").exists()}
        if alive:
            return alive.pop()
        time.sleep(0.05)
    raise AssertionError("gunicorn did not replace the killed worker")


def kill_when_a_file_appears(media: Path, pid: int, timeout: float = 30) -> list[str]:
    """SIGKILL the worker once anything shows up in the media folder; return what was there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = files_in(media)
        if seen:
            os.kill(pid, signal.SIGKILL)
            return seen
    raise AssertionError("the upload never reached the storage")


@pytest.mark.stack
def test_a_worker_killed_mid_upload_leaves_no_row_without_files_and_gc_cleans_files(
    gunicorn_app, tmp_path, request
):
    """One real sync worker on local media; the member's upload goes over a raw socket.

    Killed while the body still arrives, the worker has written nothing (the form is read
    whole before store_image runs). Killed while it writes the files, it leaves files and no
    row (files are written first, the row is committed after), which gc then deletes.
    """
    media = tmp_path / "media"
    server = gunicorn_app(workers=1, MEDIA_ROOT=str(media))

    # A cooperative, its owner and a draft product, written straight into the server's database.
    config = type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"]})
    seed = create_app(config)
    request.addfinalizer(lambda: dispose(seed))
    with seed.app_context():
        load_taxonomy()
        coop = create_cooperative(name="HTX Gốm Lò Bị Tắt")
        owner = create_user(cooperative=coop, password=PASSWORD)
        product = create_product(coop, status=ProductStatus.DRAFT, name_vi="Chum gốm lớn")
        db.session.commit()
        email, path = owner.email, photos_url(product)

    def rows() -> tuple[set[str], int]:
        with seed.app_context():
            shas = set(db.session.scalars(select(StoredImage.sha256)))
            photos = db.session.scalar(select(func.count()).select_from(ProductImage))
            db.session.remove()
        return shas, photos

    def assert_consistent() -> None:
        """Every row has its master and derivatives; every media file belongs to a row."""
        shas, _ = rows()
        files = files_in(media)
        for sha in shas:
            assert {key.rsplit("/", 1)[1] for key in files if f"/{sha}/" in key} == {
                "master.jpg",
                "320.webp",
                "800.webp",
                "1600.webp",
            }
        assert all((parse_key(key) or ("",))[0] in shas for key in files), files

    member = Member(server, email)
    data = big_photo()
    assert 1024 * 1024 < len(data) < 15 * 1024 * 1024

    # 1. Killed while the body is still arriving (sent slowly): nothing may have been written.
    (worker,) = server.worker_pids()
    sock, body = member.open_upload(path, data)
    for start in range(0, len(body) // 2, 64 * 1024):
        sock.sendall(body[start : start + 64 * 1024])
        time.sleep(0.01)
    os.kill(worker, signal.SIGKILL)
    assert answer_of(sock) == b""
    worker = new_worker(server, worker)
    assert files_in(media) == [] and rows() == (set(), 0)

    # 2. Killed while it writes the files: the whole body sent, the worker stopped as soon as
    # the first file (or its temporary file) appears in storage, before the row is committed.
    sock, body = member.open_upload(path, data)
    sock.sendall(body)
    seen = kill_when_a_file_appears(media, worker)
    assert answer_of(sock) == b""  # the member got no answer: the worker died
    worker = new_worker(server, worker)
    left = files_in(media)
    assert seen and left, "the kill should leave the files written so far"
    assert rows() == (set(), 0), "no row may exist: its files were not all written"

    # gc deletes the orphans (and any temporary file the kill left behind).
    result = server.flask("media", "gc", "--min-age", "0")
    assert f"deleted {len(left)} unused files" in result.stdout
    assert files_in(media) == []
    assert_consistent()

    # 3. The site serves again, and the same upload now goes through whole.
    sock, body = member.open_upload(path, data)
    sock.sendall(body)
    answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 302"), answer[:200]
    shas, photos = rows()
    assert len(shas) == 1 and photos == 1
    assert len(files_in(media)) == 4
    assert_consistent()


def dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()
