"""Run a confirmed product import: store its photos, then write all its products at once.

`start(batch)` runs `run(batch.id)` in a thread of the web process (IMPORT_IN_BACKGROUND) or
right away in the caller's thread. `run` needs an app context, never a request, so a command
or a benchmark can call it too.

1. Photos first. Each photo the rows name is read from the ZIP (in this thread), normalised
   and resized in a pool of os.cpu_count() threads (Pillow releases the GIL), then stored in
   this thread (files, then the row; an identical photo is stored once) and committed with
   the progress and a heartbeat. A photo that is refused stops the job: the photos already
   stored stay (they are whole images; nothing points at them), no product is written.
2. Then every product in ONE transaction, with the rules of shop.catalog.services (the same
   fields, slugs, audit entries, and submit's rule and audit entry to send them for review),
   batched: vocabularies and slugs are read once, rows are written in a few statements, not
   a few per product. Any failure rolls all of them back and the batch fails with a plain
   message.
3. Done: the products' ids, a notice on the cooperative's dashboard, the ZIP deleted.

A job whose process dies leaves the batch running with an old heartbeat; the page then offers
to run it again (shop.bulk.products.rerun), which is safe: no product of it was committed.
"""

import json
import logging
import os
import shutil
import tempfile
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import or_, select, update

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.bulk.archive import ArchiveError, open_photo_archive
from shop.bulk.models import BatchStatus, ImportBatch
from shop.bulk.products import check, photo_key, referenced_photos
from shop.catalog import services
from shop.catalog.models import Product, ProductImage, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.db import background_writer, utcnow
from shop.extensions import db
from shop.media.images import ImageRejected
from shop.media.services import prepare_image, store_prepared
from shop.media.storage import MissingObject, get_storage
from shop.notify.services import notify_cooperative
from shop.text.folding import slugify

log = logging.getLogger(__name__)

#: The statuses shop.catalog.services.submit sends for review from.
SUBMITTABLE = (ProductStatus.DRAFT, ProductStatus.CHANGES_REQUESTED)
#: A running batch without a heartbeat for this long is taken as interrupted.
STALE_AFTER = timedelta(minutes=2)
#: Photos being processed at once, per worker thread (bounds the memory they take).
IN_FLIGHT_PER_WORKER = 2


class JobFailed(Exception):
    """The job stops; `code` and `params` say why (shop.bulk.member renders the message)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def start(batch: ImportBatch) -> None:
    """Run the batch's job: in a background thread when IMPORT_IN_BACKGROUND, else now.

    A background thread has its own database session and must see the batch as running, so
    the caller's transaction is committed first.
    """
    app = current_app._get_current_object()
    if not app.config.get("IMPORT_IN_BACKGROUND"):
        run(batch.id)
        return
    db.session.commit()
    thread = threading.Thread(
        target=_run_in_thread, args=(app, batch.id), name=f"import-{batch.id}", daemon=True
    )
    thread.start()


def _run_in_thread(app, batch_id: int) -> None:
    # On SQLite the job's transactions take the write lock first: begun as reads, they would
    # deadlock with a request's write on the upgrade, and SQLite fails one of them at once.
    background_writer.set(True)
    with app.app_context():
        try:
            run(batch_id)
        finally:
            db.session.remove()


def run(batch_id: int) -> None:
    """The whole job of a running batch (a batch in any other state is left alone)."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != BatchStatus.RUNNING:
        return
    # The batch is running for good before any work: a failure below rolls back the job's
    # own writes, never the confirmation (inline, it is the caller's transaction).
    db.session.commit()
    try:
        cooperative = db.session.get(Cooperative, batch.cooperative_id)
        actor = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
        rows = [row for row in check(batch) if not row.skip]
        if any(row.problems for row in rows):
            raise JobFailed("rows_invalid", count=sum(1 for row in rows if row.problems))
        images = _store_photos(batch, rows, actor)
        created = _create_products(batch, cooperative, actor, rows, images)
        key = batch.archive_key
        db.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(
                status=BatchStatus.DONE,
                created_ids=created,
                progress_done=batch.progress_total,
                heartbeat_at=utcnow(),
                finished_at=utcnow(),
                archive_key=None,
                error=None,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        notify_cooperative(cooperative, "products_imported", count=len(created), batch_id=batch_id)
        db.session.commit()
        db.session.expire(batch)
    except JobFailed as failure:
        db.session.rollback()
        _fail(batch_id, failure.code, failure.params)
        return
    except Exception:
        log.exception("product import %s failed", batch_id)
        db.session.rollback()
        _fail(batch_id, "database", {})
        return
    if key:
        with suppress(Exception):  # a file left behind is deleted by `flask media gc`
            get_storage().delete(key)


def _fail(batch_id: int, code: str, params: dict) -> None:
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id, ImportBatch.status == BatchStatus.RUNNING)
        .values(
            status=BatchStatus.FAILED,
            error=json.dumps({"code": code, **params}, ensure_ascii=False),
            finished_at=utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is not None:
        db.session.expire(batch)


def failure_of(batch: ImportBatch) -> dict:
    """{"code": …, params…} of a failed batch (see JobFailed)."""
    try:
        data = json.loads(batch.error or "{}")
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- photos


def _store_photos(batch: ImportBatch, rows, actor) -> dict[str, int]:
    """Store every photo the rows name; returns photo key (shop.bulk.products.photo_key) → id."""
    names = referenced_photos(rows)
    if not names:
        return {}
    if not batch.archive_key:
        raise JobFailed("archive_missing")
    stream = _open_archive(batch.archive_key)
    try:
        archive = open_photo_archive(stream)
    except ArchiveError as error:
        stream.close()
        raise JobFailed("archive", message=str(error.message)) from None
    batch_id = batch.id
    images: dict[str, int] = {}
    workers = max(1, os.cpu_count() or 1)
    pending: deque = deque()
    queue = iter(names)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"import-{batch_id}-photo")

    def submit_next() -> None:
        name = next(queue, None)
        if name is None:
            return
        try:
            photo = archive.read(name)  # in this thread: a ZipFile is not shared between threads
        except KeyError:
            raise JobFailed("photo_missing", name=name) from None
        except ArchiveError as error:
            raise JobFailed("archive", message=str(error.message)) from None
        pending.append((name, pool.submit(prepare_image, photo, bulk=True)))

    try:
        for _ in range(workers * IN_FLIGHT_PER_WORKER):
            submit_next()
        done = 0
        while pending:
            name, future = pending.popleft()
            try:
                prepared = future.result()
                image = store_prepared(prepared, actor)
            except ImageRejected as refusal:
                raise JobFailed("photo", name=name, reason=refusal.code) from None
            del prepared
            images[photo_key(name)] = image.id
            done += 1
            db.session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(progress_done=done, heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            submit_next()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        archive.close()
        stream.close()
    return images


def _open_archive(key: str) -> BinaryIO:
    """The stored ZIP as a seekable file, read member by member instead of held in memory.

    A local file is opened as it is; an S3 body cannot seek, so it is copied to a temporary
    file first (a 150 MB ZIP held in memory took the job past 300 MB).
    """
    try:
        stream = get_storage().open(key).stream
    except MissingObject:
        raise JobFailed("archive_missing") from None
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        return stream
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the job closes it)
    try:
        shutil.copyfileobj(stream, spooled, 1 << 20)
    except BaseException:
        spooled.close()
        raise
    finally:
        stream.close()
    spooled.seek(0)
    return spooled


# --------------------------------------------------------------------------- products


def _unique_slugs(names: list[str]) -> list[str]:
    """shop.slugs.unique_slug for many names at once: the taken slugs are read once."""
    bases = [slugify(name, max_length=140) for name in names]
    prefixes = sorted({base.split("-")[0] for base in bases})
    taken: set[str] = set()
    for start in range(0, len(prefixes), 200):
        chunk = prefixes[start : start + 200]
        conditions = [Product.slug.startswith(prefix, autoescape=True) for prefix in chunk]
        taken.update(db.session.scalars(select(Product.slug).where(or_(*conditions))))
    slugs = []
    for base in bases:
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs


def _create_products(batch, cooperative, actor, rows, images: dict[str, int]) -> list[int]:
    """Every product of the batch, in one transaction (flushed, committed by the caller)."""
    values = [row.values for row in rows]
    slugs = _unique_slugs([v["name_vi"] for v in values])
    products = []
    for slug, fields in zip(slugs, values, strict=True):
        product = Product(
            slug=slug,
            cooperative_id=cooperative.id,
            sector_id=cooperative.sector_id,
            status=ProductStatus.DRAFT,
        )
        for key in services.EDITABLE_FIELDS[:-2]:
            if key in fields:
                setattr(product, key, fields[key])
        products.append(product)
    db.session.add_all(products)
    db.session.flush()
    actor_id = getattr(actor, "id", None)
    entries = []
    photo_rows = []
    for product, row in zip(products, rows, strict=True):
        entries.append(
            AuditEntry(
                actor_id=actor_id,
                action="product.created",
                target_type=Product.__tablename__,
                target_id=product.id,
                after={"name_vi": product.name_vi},
            )
        )
        image_ids = list(dict.fromkeys(images[photo_key(name)] for name in row.photos))
        for position, image_id in enumerate(image_ids):
            photo_rows.append(
                ProductImage(product_id=product.id, image_id=image_id, position=position)
            )
        if image_ids:
            entries.append(
                AuditEntry(
                    actor_id=actor_id,
                    action="product.photo_added",
                    target_type=Product.__tablename__,
                    target_id=product.id,
                    after={"images": image_ids},
                )
            )
    db.session.add_all(photo_rows)
    db.session.add_all(entries)
    db.session.flush()
    if batch.target == "submitted":
        _submit_all(cooperative, actor, products)
    return [product.id for product in products]


#: Products sent for review per UPDATE statement.
SUBMIT_CHUNK = 500


def _submit_all(cooperative, actor, products: list[Product]) -> None:
    """shop.catalog.services.submit for many new drafts at once: the same rule (only a
    verified cooperative sends products for review), the same conditional change of status
    (draft → submitted, all or none) and the same audit entry, in a few statements."""
    if cooperative.status != CooperativeStatus.VERIFIED:
        raise JobFailed("not_verified")
    ids = [product.id for product in products]
    for start in range(0, len(ids), SUBMIT_CHUNK):
        chunk = ids[start : start + SUBMIT_CHUNK]
        result = db.session.execute(
            update(Product)
            .where(Product.id.in_(chunk), Product.status.in_(SUBMITTABLE))
            .values(status=ProductStatus.SUBMITTED, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(chunk):
            raise JobFailed("database")
    actor_id = getattr(actor, "id", None)
    db.session.add_all(
        AuditEntry(
            actor_id=actor_id,
            action="product.submitted",
            target_type=Product.__tablename__,
            target_id=product_id,
        )
        for product_id in ids
    )
    db.session.flush()
    for product in products:
        db.session.expire(product, ["status", "updated_at"])
