"""Store uploaded images (files through Storage, a StoredImage row) and build their URLs.

Layout in storage, for an image whose master hashes to ``<sha>``::

    <sha[:2]>/<sha>/master.jpg      (master.webp when the image has transparency)
    <sha[:2]>/<sha>/320.webp  800.webp  1600.webp

URLs: ``/media/<sha>/<name>`` with the same names (shop.media.views).
"""

import errno
import logging
import re
import sys
from contextlib import suppress
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.audit.services import record
from shop.extensions import db
from shop.media.images import (
    BULK_DERIVATIVE_WEBP,
    DERIVATIVE_WEBP,
    DERIVATIVE_WIDTHS,
    ImageRejected,
    Rendition,
    derivative_size,
    make_derivatives,
    normalise,
    read_upload,
)
from shop.media.models import StoredImage
from shop.media.storage import Storage, get_storage

log = logging.getLogger(__name__)

SHA256_RE = re.compile(r"[0-9a-f]{64}")
MASTER_NAMES = {"image/jpeg": "master.jpg", "image/webp": "master.webp"}
DERIVATIVE_NAMES = tuple(f"{width}.webp" for width in DERIVATIVE_WIDTHS)
#: Every file name an image may have, with the content type it is served as.
CONTENT_TYPES = {
    **{name: mime for mime, name in MASTER_NAMES.items()},
    **dict.fromkeys(DERIVATIVE_NAMES, "image/webp"),
}


class StorageFailed(ImageRejected):
    """The storage could not keep an upload's files (disk full, S3 refusing): not the file's fault.

    An ImageRejected, so every upload view already answers it with its message and status
    (507 when the storage is full, 503 otherwise) and writes nothing.
    """


FULL_MESSAGE = _l("Máy chủ hết chỗ lưu ảnh, vui lòng thử lại sau.")
UNAVAILABLE_MESSAGE = _l("Máy chủ chưa lưu được ảnh lúc này, vui lòng thử lại sau.")
#: OSError numbers that mean "no room": a full disk, a quota, a file too big for the filesystem.
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: S3 error codes (and HTTP statuses) that mean the same on object storage.
S3_FULL_CODES = {"InsufficientStorage", "EntityTooLarge", "QuotaExceeded", "507"}


def storage_failure(error: BaseException) -> StorageFailed | None:
    """The refusal to show for an error raised by the storage, None if it is not a storage error.

    Local storage raises OSError; S3 raises botocore's errors (looked up only if botocore was
    imported, which S3Storage does: the default setup never imports it).
    """
    if isinstance(error, OSError):
        if error.errno in FULL_ERRNOS:
            return StorageFailed("storage_full", FULL_MESSAGE, 507)
        return StorageFailed("storage_unavailable", UNAVAILABLE_MESSAGE, 503)
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is not None and isinstance(error, botocore.ClientError):
        answer = error.response or {}
        code = str(answer.get("Error", {}).get("Code", ""))
        status = str(answer.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in S3_FULL_CODES or status == "507":
            return StorageFailed("storage_full", FULL_MESSAGE, 507)
        return StorageFailed("storage_unavailable", UNAVAILABLE_MESSAGE, 503)
    if botocore is not None and isinstance(error, botocore.BotoCoreError):
        return StorageFailed("storage_unavailable", UNAVAILABLE_MESSAGE, 503)
    return None


def storage_key(sha256: str, name: str) -> str:
    return f"{sha256[:2]}/{sha256}/{name}"


def parse_key(key: str) -> tuple[str, str] | None:
    """(sha256, name) for a key of our layout, None for anything else."""
    parts = key.split("/")
    if len(parts) != 3:
        return None
    prefix, sha256, name = parts
    if not SHA256_RE.fullmatch(sha256) or prefix != sha256[:2] or name not in CONTENT_TYPES:
        return None
    return sha256, name


def master_name(image: StoredImage) -> str:
    return MASTER_NAMES[image.mime_type]


@dataclass(frozen=True)
class PreparedImage:
    """An upload validated and processed, not stored yet: its master and derivatives."""

    sha256: str
    master: Rendition
    #: The master first, then the derivatives: every file `store_prepared` writes.
    renditions: tuple[Rendition, ...]


def prepare_image(file_or_bytes, *, bulk: bool = False) -> PreparedImage:
    """The CPU part of storing an image: read, validate, normalise, make the derivatives.

    Touches neither the storage nor the database (and needs no app context), so many can run
    at once in a thread pool: Pillow releases the GIL while it decodes, resizes and encodes.
    Raises ImageRejected like `store_image` for a file we refuse. `bulk`: one of many photos
    of an import, encoded with the faster BULK_DERIVATIVE_WEBP.
    """
    data = read_upload(file_or_bytes)
    normalised = normalise(data)
    options = BULK_DERIVATIVE_WEBP if bulk else DERIVATIVE_WEBP
    renditions = (normalised.master, *make_derivatives(normalised.image, options))
    return PreparedImage(normalised.sha256, normalised.master, renditions)


def store_image(file_or_bytes, acting_user=None) -> StoredImage:
    """Validate and process an upload, write its files, add and flush its row; dedupe by hash.

    Raises ImageRejected (with a Vietnamese message and an HTTP status) for a file we refuse;
    nothing is written then. An upload whose master already exists returns the existing row.
    A storage that fails while the files are written (disk full, S3 down) raises StorageFailed,
    an ImageRejected with status 507 or 503, after removing the files this call wrote.

    Crash safety: the files are written *before* the row is flushed, and the row is committed
    by the caller afterwards. So a committed row always has its files, whatever stops the
    process; what a crash can leave is files without a row, which `flask media gc` deletes.
    gc spares files younger than its `--min-age`, and every put here refreshes a file's age,
    so it never deletes the files of an upload whose row is not committed yet.
    If something fails here (storage or database), the files this call created are deleted
    again before the error propagates: no file and no row remain. Files that existed before
    (an identical upload racing with this one, or an orphan awaiting gc) are left alone.
    When the caller's transaction rolls back after this returns, the files stay as orphans
    for gc.

    It is `prepare_image` then `store_prepared`, except that a known image is recognised from
    its master alone, before any derivative is made.
    """
    data = read_upload(file_or_bytes)
    normalised = normalise(data)
    existing = _by_sha256(normalised.sha256)
    if existing is not None:
        return existing
    renditions = (normalised.master, *make_derivatives(normalised.image))
    return store_prepared(
        PreparedImage(normalised.sha256, normalised.master, renditions), acting_user
    )


def store_prepared(prepared: PreparedImage, acting_user=None) -> StoredImage:
    """The storing part of `store_image`: write the files, add and flush the row; dedupe.

    Same promises as `store_image` (files before the row; on failure the files this call
    created are removed; StorageFailed for a failing storage). Runs in the thread that owns
    the database session.
    """
    sha256 = prepared.sha256
    existing = _by_sha256(sha256)
    if existing is not None:
        return existing

    master = prepared.master
    storage = get_storage()
    created: list[str] = []
    try:
        try:
            for rendition in prepared.renditions:
                key = storage_key(sha256, rendition.name)
                existed = storage.exists(key)
                storage.put(key, rendition.data, rendition.content_type)
                if not existed:
                    created.append(key)
        except Exception as error:
            refusal = storage_failure(error)
            if refusal is None:
                raise
            log.error("media storage failed while storing %s: %r", sha256, error, exc_info=error)
            raise refusal from error
        image = StoredImage(
            sha256=sha256,
            mime_type=master.content_type,
            width=master.width,
            height=master.height,
            byte_size=len(master.data),
        )
        try:
            # One savepoint for the row and its audit entry: a failure undoes both.
            with db.session.begin_nested():
                db.session.add(image)
                db.session.flush()
                record(
                    acting_user,
                    "media.stored",
                    image,
                    after={"sha256": sha256, "width": image.width, "height": image.height},
                )
        except IntegrityError:
            winner = _by_sha256(sha256)
            if winner is None:
                raise
            # The same image was committed by a concurrent request since we looked: its row
            # owns these files (identical bytes), so they must stay.
            created.clear()
            return winner
    except BaseException:
        _delete_quietly(storage, created)
        raise
    return image


def _by_sha256(sha256: str) -> StoredImage | None:
    return db.session.scalar(select(StoredImage).where(StoredImage.sha256 == sha256))


def _delete_quietly(storage: Storage, keys: list[str]) -> None:
    # The original error matters more than a failed clean-up; `media gc` removes leftovers.
    for key in keys:
        with suppress(Exception):
            storage.delete(key)


def write_renditions(storage: Storage, sha256: str, renditions: list[Rendition]) -> None:
    for rendition in renditions:
        storage.put(storage_key(sha256, rendition.name), rendition.data, rendition.content_type)


# --------------------------------------------------------------------------- templates


def url_for_image(image: StoredImage, width: int | None = None) -> str:
    """URL of the derivative `width` px wide (320, 800 or 1600), or of the master when None."""
    if width is None:
        name = master_name(image)
    elif width in DERIVATIVE_WIDTHS:
        name = f"{width}.webp"
    else:
        raise ValueError(f"no {width} px derivative; widths are {DERIVATIVE_WIDTHS}")
    return url_for("media.file", sha256=image.sha256, name=name)


def image_size(image: StoredImage, width: int | None = None) -> tuple[int, int]:
    """(width, height) in pixels of a derivative (or the master): for width/height attributes."""
    if width is None:
        return image.width, image.height
    return derivative_size(image.width, image.height, width)


def srcset(image: StoredImage) -> str:
    """A `srcset` value listing the derivatives by their real widths, smallest first.

    Derivatives never exceed the master, so a small image lists fewer distinct widths.
    """
    seen = {}
    for width in sorted(DERIVATIVE_WIDTHS):
        real_width = image_size(image, width)[0]
        seen.setdefault(real_width, url_for_image(image, width))
    return ", ".join(f"{url} {real_width}w" for real_width, url in seen.items())
