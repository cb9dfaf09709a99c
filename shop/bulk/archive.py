"""Open an uploaded ZIP of photos safely, for the product import.

The archive is checked as a whole before anything is used: it must be a readable ZIP without
passwords, unsafe paths or links, with only images in it (by extension and by their first
bytes), no two photos of the same name, and sizes that cannot blow up when unpacked. Nothing
is extracted to disk: a photo is unpacked in memory when asked for, with a hard cap on its
size whatever the ZIP's headers claim.

Photos are known by their base name (folders do not matter), matched without regard to case
and in NFC, the way a member writes them in the sheet's photo column.
"""

import io
import lzma
import re
import stat
import struct
import zipfile
import zlib
from typing import BinaryIO

from flask_babel import gettext as _

from shop.bulk.sheets import looks_vietnamese, number_text
from shop.text.folding import nfc

#: Extensions of the photos we take, and the first bytes each kind starts with.
#: What the photo pipeline takes (shop.media.images: JPEG, PNG, WebP); a GIF is refused there.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
#: Files that operating systems add to a ZIP on their own; skipped without a word.
JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
#: Beyond this many entries of any kind (skipped ones included) the archive is crafted.
MAX_ENTRIES_FACTOR = 4
#: Members unpacking to less than this are not judged by their compression ratio: a small
#: picture of one plain colour compresses well and can do no harm.
RATIO_FROM = 1_000_000
#: How many offending names a message lists.
NAMES_SHOWN = 5
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
#: What reading a damaged member can raise.
_READ_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
)


class ArchiveError(ValueError):
    """The ZIP is refused; .message is a user-facing text (already gettext'd), .status the
    HTTP status (400, or 413 when it is too large or has too many files)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _key(name: str) -> str:
    return nfc(base_name(name)).casefold()


def base_name(path: str) -> str:
    return re.split(r"[/\\]", path)[-1]


def _megabytes(size: int) -> str:
    return number_text(max(1, -(-size // 1_000_000)))


def _damaged() -> ArchiveError:
    return ArchiveError(
        _(
            "Không đọc được tệp nén (không phải tệp .zip hoặc tệp bị hỏng). "
            "Hãy nén lại các ảnh thành một tệp .zip rồi tải lên lại."
        )
    )


class PhotoArchive:
    """The usable photos of a checked ZIP, read in memory on demand."""

    def __init__(
        self, archive: zipfile.ZipFile, photos: list[tuple[str, zipfile.ZipInfo]], max_file
    ):
        """photos: (path as its maker meant it, member) for each usable photo."""
        self._archive = archive
        self._members = {_key(name): info for name, info in photos}
        self._max_file = max_file
        #: Usable photo file names (base names, NFC), in the archive's order.
        self.names: list[str] = [nfc(base_name(name)) for name, _info in photos]

    def has(self, name: str) -> bool:
        return _key(name) in self._members

    def read(self, name: str) -> bytes:
        """The bytes of a photo, by its name (any case, any Unicode form); KeyError if absent.

        Raises ArchiveError when the member turns out damaged or larger than allowed: the
        headers' sizes are not trusted, the bytes are counted as they are unpacked.
        """
        info = self._members[_key(name)]
        return _read_member(self._archive, info, self._max_file)

    def close(self) -> None:
        self._archive.close()

    def __len__(self) -> int:
        return len(self._members)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArchiveError(_too_big_file(base_name(info.filename), size, limit), 413)
                chunks.append(chunk)
    except ArchiveError:
        raise
    except _READ_ERRORS as error:
        raise _damaged() from error
    return b"".join(chunks)


def _too_big_file(name: str, size: int, limit: int) -> str:
    return _(
        "Ảnh %(name)s quá lớn (%(size)s MB khi giải nén, tối đa %(max)s MB). "
        "Hãy thu nhỏ ảnh này rồi nén lại.",
        name=name,
        size=_megabytes(size),
        max=_megabytes(limit),
    )


def entry_name(info: zipfile.ZipInfo) -> str:
    """The member's path as its maker meant it, NFC.

    ZIPs made on Windows store names in the local code page without the UTF-8 flag, and
    zipfile reads them as cp437. Many tools write UTF-8 bytes there anyway; Vietnamese
    Windows writes Windows-1258. Both are recovered; anything else stays as zipfile read it.
    """
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = None
        if raw is not None and not raw.isascii():
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    decoded = raw.decode("cp1258")
                except UnicodeDecodeError:
                    decoded = None
                if decoded is not None and looks_vietnamese(decoded):
                    name = decoded
    return nfc(name)


def is_unsafe_path(name: str) -> bool:
    """Absolute (/x, \\x, C:\\x, C:x) or climbing out with a '..' component."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _is_junk(name: str) -> bool:
    parts = [part for part in re.split(r"[/\\]", name) if part]
    if not parts:
        return True
    if any(part == "__MACOSX" for part in parts):
        return True
    last = parts[-1]
    # AppleDouble "._photo.jpg" files carry a Mac file's metadata, not the photo.
    return last.casefold() in JUNK_NAMES or last.startswith("._")


def _is_directory(info: zipfile.ZipInfo, name: str) -> bool:
    return name.endswith(("/", "\\")) or info.is_dir() or stat.S_ISDIR(info.external_attr >> 16)


def _image_kind(start: bytes) -> str | None:
    if start.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if start.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return "webp"
    return None


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        more = number_text(len(names) - NAMES_SHOWN)
        shown = _("%(names)s và %(count)s tệp khác", names=shown, count=more)
    return shown


def _not_images(names: list[str]) -> ArchiveError:
    return ArchiveError(
        _(
            "Tệp nén có tệp không phải ảnh: %(names)s. "
            "Chỉ nhận ảnh .jpg, .png, .webp; hãy bỏ các tệp khác ra rồi nén lại.",
            names=_listed(names),
        )
    )


def open_photo_archive(
    data: bytes | BinaryIO,
    *,
    max_files: int = 2000,
    max_total: int = 1_000_000_000,
    max_file: int = 20_000_000,
    max_ratio: int = 200,
) -> PhotoArchive:
    """Check a ZIP of photos and return its usable photos; raise ArchiveError to refuse it.

    Refused as a whole: not a ZIP or damaged; a password; an unsafe path ('..', absolute)
    or a link; more than max_files photos, a photo over max_file bytes or (above RATIO_FROM
    bytes) compressed more than max_ratio times, more than max_total bytes in all (a ZIP
    bomb); a file that is not an image (by extension or by its first bytes); two photos with
    the same name; no photo at all.
    Skipped silently: folders, __MACOSX/, ._* , .DS_Store, Thumbs.db, desktop.ini.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes | bytearray) else data)
        entries = archive.infolist()
    except _READ_ERRORS as error:
        raise _damaged() from error
    if len(entries) > max_files * MAX_ENTRIES_FACTOR + 100:
        raise _too_many(len(entries), max_files)

    photos: list[tuple[str, zipfile.ZipInfo]] = []
    for info in entries:
        name = entry_name(info)
        if is_unsafe_path(name) or _is_symlink(info):
            raise ArchiveError(
                _(
                    "Tệp nén chứa đường dẫn không an toàn: %(name)s. "
                    "Hãy nén lại chỉ các tệp ảnh, không kèm thư mục ngoài hay liên kết.",
                    name=name,
                )
            )
        if _is_directory(info, name) or _is_junk(name):
            continue
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise ArchiveError(
                _(
                    "Tệp nén có đặt mật khẩu (%(name)s). "
                    "Hãy nén lại các ảnh mà không đặt mật khẩu.",
                    name=name,
                )
            )
        photos.append((name, info))

    if len(photos) > max_files:
        raise _too_many(len(photos), max_files)
    total = 0
    for name, info in photos:
        if info.file_size > max_file:
            raise ArchiveError(_too_big_file(name, info.file_size, max_file), 413)
        if info.file_size > RATIO_FROM and (
            info.compress_size == 0 or info.file_size / info.compress_size > max_ratio
        ):
            raise ArchiveError(
                _(
                    "Tệp nén có tệp bị nén bất thường (có thể là “bom nén”): %(name)s. "
                    "Hãy nén lại chính các ảnh gốc.",
                    name=name,
                ),
                413,
            )
        total += info.file_size
    if total > max_total:
        raise ArchiveError(
            _(
                "Các ảnh trong tệp nén quá lớn: hơn %(max)s MB khi giải nén. "
                "Hãy thu nhỏ ảnh hoặc chia thành nhiều lần nhập.",
                max=_megabytes(max_total),
            ),
            413,
        )

    wrong = [name for name, _info in photos if not name.lower().endswith(IMAGE_EXTENSIONS)]
    if wrong:
        raise _not_images(wrong)

    seen: set[str] = set()
    duplicated: dict[str, str] = {}
    for name, _info in photos:
        key = _key(name)
        if key in seen:
            duplicated.setdefault(key, base_name(name))
        seen.add(key)
    if duplicated:
        raise ArchiveError(
            _(
                "Tệp nén có nhiều ảnh trùng tên (trong các thư mục khác nhau): %(names)s. "
                "Hãy đổi tên để mỗi ảnh có một tên riêng rồi nén lại.",
                names=_listed(list(duplicated.values())),
            )
        )

    # The first bytes must be an image's: a renamed document or program is refused.
    wrong = []
    for name, info in photos:
        try:
            with archive.open(info) as member:
                start = member.read(16)
        except _READ_ERRORS as error:
            raise _damaged() from error
        if _image_kind(start) is None:
            wrong.append(name)
    if wrong:
        raise _not_images(wrong)
    if not photos:
        raise ArchiveError(
            _(
                "Tệp nén không có ảnh nào. "
                "Hãy nén các ảnh sản phẩm (.jpg, .png, .webp) thành tệp .zip."
            )
        )
    return PhotoArchive(archive, photos, max_file)


def _too_many(count: int, max_files: int) -> ArchiveError:
    return ArchiveError(
        _(
            "Tệp nén có %(count)s tệp, nhiều hơn giới hạn %(max)s tệp. "
            "Hãy chia ảnh thành nhiều lần nhập.",
            count=number_text(count),
            max=number_text(max_files),
        ),
        413,
    )
