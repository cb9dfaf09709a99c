"""Where media files live: a local folder by default, S3-compatible object storage in production.

Keys are relative, slash-separated names such as ``ab/ab12…/320.webp``; each segment is made of
letters, digits, ``.``, ``_`` and ``-`` and never starts with a dot, so no key can name a parent
folder or a hidden file. Writes are whole-object and atomic: a reader sees the old bytes or the
new bytes, never a half-written file.

The backend is chosen once per app (`get_storage`): S3 when MEDIA_S3_ENDPOINT, MEDIA_S3_BUCKET,
MEDIA_S3_KEY and MEDIA_S3_SECRET are all set, the folder MEDIA_ROOT otherwise.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app

KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
S3_SETTINGS = ("MEDIA_S3_ENDPOINT", "MEDIA_S3_BUCKET", "MEDIA_S3_KEY", "MEDIA_S3_SECRET")
#: A file given to put() is copied in chunks of this many bytes.
COPY_CHUNK = 1024 * 1024


class MissingObject(KeyError):
    """No object is stored under this key."""


def check_key(key: str) -> str:
    """Return `key` if it is a well-formed relative key; raise ValueError otherwise."""
    if not isinstance(key, str) or len(key) > 512 or not KEY_RE.fullmatch(key):
        raise ValueError(f"malformed storage key: {key!r}")
    return key


@dataclass(frozen=True)
class Entry:
    """One stored object as a listing shows it."""

    key: str
    size: int
    modified: datetime


@dataclass
class StoredObject:
    """An object opened for reading: close `stream` when done (a response does it)."""

    stream: BinaryIO
    size: int
    #: Opaque validator that changes whenever the bytes change (unquoted).
    etag: str
    modified: datetime


class Storage:
    """What the media code needs from a place that keeps files."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there, atomically.

        `data` is bytes, or a binary file read from where it stands to its end in chunks
        (a large upload is copied, never held in memory whole).
        """
        raise NotImplementedError

    def open(self, key: str) -> StoredObject:
        """Open the object for streaming; raise MissingObject if there is none."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """Return the object's bytes; raise MissingObject if there is none."""
        obj = self.open(key)
        try:
            return obj.stream.read()
        finally:
            obj.stream.close()

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        raise NotImplementedError

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        """Every stored object whose key starts with `prefix`, with size and modification time."""
        raise NotImplementedError

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        for entry in self.entries(prefix):
            yield entry.key

    def describe(self) -> str:
        """Where the files are, for command output."""
        raise NotImplementedError


class LocalStorage(Storage):
    """Files in a folder; each write goes to a temporary file that is renamed into place."""

    #: Suffix of in-flight temporary files; they sit beside their target (rename needs the same
    #: file system) and show up in listings, so `media gc` removes those a crash left behind.
    TEMP_SUFFIX = ".part"

    def __init__(self, root: str | os.PathLike, fsync: bool = True):
        self.root = Path(root).resolve()
        #: Flush file data to disk before the rename, so a row committed after put() never
        #: points at a file that a power cut emptied.
        self.fsync = fsync

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        path = self._path(key)
        for attempt in range(3):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd, temp_name = tempfile.mkstemp(
                    dir=path.parent, prefix=path.name + ".", suffix=self.TEMP_SUFFIX
                )
                break
            except FileNotFoundError:
                # A concurrent delete() pruned the folder between mkdir and mkstemp.
                if attempt == 2:
                    raise
        try:
            with os.fdopen(fd, "wb") as out:
                self._write(out, data)
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
            os.chmod(temp_name, 0o644)  # mkstemp makes 0600; a web server may serve the folder
            os.replace(temp_name, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    def _write(self, out: BinaryIO, data: bytes | BinaryIO) -> None:
        """Write the bytes of one put into its temporary file (tests fill the disk here)."""
        if isinstance(data, bytes | bytearray | memoryview):
            out.write(data)
        else:
            shutil.copyfileobj(data, out, COPY_CHUNK)

    def open(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            stream = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MissingObject(key) from None
        stat = os.fstat(stream.fileno())
        return StoredObject(
            stream=stream,
            size=stat.st_size,
            etag=f"{stat.st_size:x}-{stat.st_mtime_ns:x}",
            modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with suppress(FileNotFoundError):
            path.unlink()
        # Prune folders left empty, so deleting everything leaves an empty root.
        for parent in path.parents:
            if parent == self.root or self.root not in parent.parents:
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            for name in sorted(files):
                path = Path(folder, name)
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:  # deleted while we walked
                    continue
                yield Entry(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def describe(self) -> str:
        return f"local folder {self.root}"


class S3Storage(Storage):
    """Objects in one bucket of an S3-compatible service (AWS, SeaweedFS, MinIO, …)."""

    def __init__(self, endpoint: str, bucket: str, key: str, secret: str, region: str):
        # Imported here: boto3 is slow to import and the default setup does not need it.
        import boto3
        from botocore.config import Config

        self.endpoint = endpoint
        self.bucket = bucket
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                # Path-style URLs work on every S3-compatible server without wildcard DNS.
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                # Checksums only where S3 requires them: not every compatible server knows
                # the newer CRC headers.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    @staticmethod
    def _is_missing(error) -> bool:
        code = error.response.get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        if isinstance(data, bytes | bytearray | memoryview):
            self.client.put_object(
                Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
            )
        else:
            # In parts for a large file (boto3's managed transfer), read as it goes.
            self.client.upload_fileobj(
                data, self.bucket, check_key(key), ExtraArgs={"ContentType": content_type}
            )

    def open(self, key: str) -> StoredObject:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if self._is_missing(error):
                raise MissingObject(key) from None
            raise
        return StoredObject(
            stream=answer["Body"],
            size=answer["ContentLength"],
            etag=answer["ETag"].strip('"'),
            modified=answer["LastModified"],
        )

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if self._is_missing(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield Entry(item["Key"], item["Size"], item["LastModified"])

    def describe(self) -> str:
        return f"S3 bucket {self.bucket} at {self.endpoint}"


def storage_from_config(config) -> Storage:
    """The backend the configuration asks for; half an S3 configuration is an error."""
    given = [name for name in S3_SETTINGS if config.get(name)]
    if len(given) == len(S3_SETTINGS):
        return S3Storage(
            endpoint=config["MEDIA_S3_ENDPOINT"],
            bucket=config["MEDIA_S3_BUCKET"],
            key=config["MEDIA_S3_KEY"],
            secret=config["MEDIA_S3_SECRET"],
            region=config.get("MEDIA_S3_REGION") or "us-east-1",
        )
    if given:
        missing = ", ".join(name for name in S3_SETTINGS if name not in given)
        raise RuntimeError(f"S3 media storage is half configured: set {missing} too")
    return LocalStorage(config["MEDIA_ROOT"])


def get_storage(app: Flask | None = None) -> Storage:
    """The app's storage, made on first use (create_app makes it) and kept in app.extensions."""
    app = app or current_app._get_current_object()
    storage = app.extensions.get("media_storage")
    if storage is None:
        storage = app.extensions["media_storage"] = storage_from_config(app.config)
    return storage
