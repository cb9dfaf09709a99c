"""Opening uploaded ZIPs of photos safely (shop.bulk.archive)."""

import io
import stat
import struct
import time
import unicodedata
import zipfile

import pytest
from flask_babel import force_locale
from PIL import Image

from shop.bulk.archive import ArchiveError, _read_member, open_photo_archive

pytestmark = pytest.mark.backend_independent

UNSAFE = "Tệp nén chứa đường dẫn không an toàn: "
NOT_IMAGES = "Tệp nén có tệp không phải ảnh: "
DAMAGED = (
    "Không đọc được tệp nén (không phải tệp .zip hoặc tệp bị hỏng). "
    "Hãy nén lại các ảnh thành một tệp .zip rồi tải lên lại."
)
#: zipfile's layout of a central directory entry.
CENTRAL = struct.Struct(zipfile.structCentralDir)
FLAGS, FILE_SIZE, NAME_LENGTH, EXTRA_LENGTH, COMMENT_LENGTH, LOCAL_OFFSET = 5, 11, 12, 13, 14, 18
#: Where the flags sit in a member's local header.
LOCAL_FLAGS = 6


def image(kind="JPEG", shade=0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (shade, 120, 40)).save(buffer, kind)
    return buffer.getvalue()


JPEG, PNG, WEBP, GIF = image("JPEG"), image("PNG"), image("WEBP"), image("GIF")


def zipped(members: dict, *, level=6) -> bytes:
    """A ZIP of {name or ZipInfo: content}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patched(data: bytes, name: bytes, *, clear_flags=0, set_flags=0, file_size=None) -> bytes:
    """The ZIP with one member's flags or declared size changed (zipfile reads the sizes from
    the central directory, the flags from both headers)."""
    out = bytearray(data)
    position = zipfile.ZipFile(io.BytesIO(data)).start_dir
    while out[position : position + 4] == b"PK\x01\x02":
        fields = list(CENTRAL.unpack_from(out, position))
        length = fields[NAME_LENGTH]
        start = position + CENTRAL.size
        if bytes(out[start : start + length]) == name:
            fields[FLAGS] = (fields[FLAGS] & ~clear_flags) | set_flags
            if file_size is not None:
                fields[FILE_SIZE] = file_size
            CENTRAL.pack_into(out, position, *fields)
            # The member's own header repeats the flags; zipfile compares the name there.
            local = fields[LOCAL_OFFSET] + LOCAL_FLAGS
            (flags,) = struct.unpack_from("<H", out, local)
            struct.pack_into("<H", out, local, (flags & ~clear_flags) | set_flags)
            return bytes(out)
        position = start + length + fields[EXTRA_LENGTH] + fields[COMMENT_LENGTH]
    raise AssertionError(f"{name!r} not in the ZIP")


def refusal(data: bytes, **limits) -> ArchiveError:
    with pytest.raises(ArchiveError) as caught:
        open_photo_archive(data, **limits)
    return caught.value


# --------------------------------------------------------------------------- good archives


def test_photos_are_known_by_base_name_in_any_case_and_form():
    archive = open_photo_archive(
        zipped(
            {
                "banh-phu-the.jpg": JPEG,
                "ảnh/Mật Ong.PNG": PNG,
                "ảnh/2024/tra.webp": WEBP,
                "ảnh/": b"",
            }
        )
    )
    assert archive.names == ["banh-phu-the.jpg", "Mật Ong.PNG", "tra.webp"]
    assert archive.read("BANH-PHU-THE.JPG") == JPEG
    assert archive.read(unicodedata.normalize("NFD", "mật ong.png")) == PNG
    assert archive.read("tra.webp") == WEBP
    assert archive.has("TRA.WEBP")
    assert not archive.has("khong-co.jpg")
    with pytest.raises(KeyError):
        archive.read("khong-co.jpg")


def test_nfd_names_from_a_mac_come_out_nfc():
    decomposed = unicodedata.normalize("NFD", "Bánh phu thê.jpg")
    archive = open_photo_archive(zipped({decomposed: JPEG}))
    assert archive.names == [unicodedata.normalize("NFC", "Bánh phu thê.jpg")]
    assert archive.read("bánh phu thê.jpg") == JPEG


def test_mac_and_windows_junk_is_ignored():
    archive = open_photo_archive(
        zipped(
            {
                "__MACOSX/": b"",
                "__MACOSX/._a.jpg": b"\x00\x05\x16\x07AppleDouble",
                "__MACOSX/anh/._b.jpg": b"\x00\x05\x16\x07",
                ".DS_Store": b"\x00\x00\x00\x01Bud1",
                "anh/.DS_Store": b"Bud1",
                "._a.jpg": b"\x00\x05\x16\x07",
                "anh/Thumbs.db": b"\xd0\xcf\x11\xe0",
                "desktop.ini": b"[.ShellClassInfo]",
                "anh/": b"",
                "a.jpg": JPEG,
                "anh/b.jpg": JPEG,
            }
        )
    )
    assert archive.names == ["a.jpg", "b.jpg"]


def test_a_png_named_jpg_is_still_a_photo():
    """Only documents and programs are refused; the import re-encodes every photo anyway."""
    assert open_photo_archive(zipped({"anh.jpg": PNG})).read("anh.jpg") == PNG


def test_windows_names_written_as_utf8_without_the_flag_are_recovered():
    name = "Bánh phu thê.jpg"
    data = patched(zipped({name: JPEG}), name.encode(), clear_flags=0x800)
    # zipfile alone reads such a name as cp437 mojibake.
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == [name.encode().decode("cp437")]
    archive = open_photo_archive(data)
    assert archive.names == [name]
    assert archive.read(name) == JPEG


def test_windows_1258_names_are_recovered():
    name = "Mật ong rừng.jpg"
    raw = "M\xe2\xf2t ong r\xfd\xccng.jpg".encode("latin-1")  # â + dot below, ư + grave
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == name
    placeholder = b"X" * len(raw)
    data = zipped({placeholder.decode(): JPEG}).replace(placeholder, raw)
    archive = open_photo_archive(data)
    assert archive.names == [name]
    assert archive.read("mật ong rừng.jpg") == JPEG


def test_other_unflagged_names_stay_as_zipfile_reads_them():
    raw = "Gr\xfc\xdfe.jpg".encode("latin-1")  # German, Latin-1: no Vietnamese in it
    placeholder = b"X" * len(raw)
    data = zipped({placeholder.decode(): JPEG}).replace(placeholder, raw)
    assert open_photo_archive(data).names == [raw.decode("cp437")]


# --------------------------------------------------------------------------- broken archives


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40, zipped({"a.jpg": JPEG})[:-30]],
    ids=["empty", "text", "header-only", "truncated"],
)
def test_what_is_not_a_readable_zip_is_refused(data):
    error = refusal(data)
    assert error.status == 400
    assert error.message == DAMAGED


def test_a_damaged_member_is_refused_when_read():
    data = zipped({"a.jpg": JPEG + b"\xab" * 5000})
    offset = data.index(b"a.jpg") + len(b"a.jpg") + 200
    damaged = (
        data[:offset] + bytes(b ^ 0xFF for b in data[offset : offset + 50]) + data[offset + 50 :]
    )
    with pytest.raises(ArchiveError) as caught:
        open_photo_archive(damaged).read("a.jpg")
    assert caught.value.message == DAMAGED


def test_encrypted_members_are_refused():
    data = patched(zipped({"a.jpg": JPEG, "b.jpg": JPEG}), b"b.jpg", set_flags=0x1)
    error = refusal(data)
    assert error.status == 400
    assert error.message == (
        "Tệp nén có đặt mật khẩu (b.jpg). Hãy nén lại các ảnh mà không đặt mật khẩu."
    )


def test_an_archive_without_photos_is_refused():
    error = refusal(zipped({"__MACOSX/._a.jpg": b"x", "anh/": b""}))
    assert error.status == 400
    assert error.message.startswith("Tệp nén không có ảnh nào.")


# --------------------------------------------------------------------------- ZIP bombs


@pytest.fixture(scope="module")
def gigabyte_bomb() -> bytes:
    """One 'photo' of 1 GiB: JPEG magic, then zeros; written in chunks, ~4.6 MB zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("a.jpg", JPEG)
        with archive.open("bom.jpg", "w", force_zip64=True) as member:
            member.write(b"\xff\xd8\xff\xe0")
            chunk = bytes(4 * 1024 * 1024)
            for _ in range(256):
                member.write(chunk)
    return buffer.getvalue()


def test_a_gigabyte_bomb_is_refused_at_once_without_unpacking(gigabyte_bomb):
    assert len(gigabyte_bomb) < 10_000_000
    started = time.perf_counter()
    error = refusal(gigabyte_bomb)
    assert time.perf_counter() - started < 1
    assert error.status == 413
    assert error.message == (
        "Ảnh bom.jpg quá lớn (1.074 MB khi giải nén, tối đa 20 MB). "
        "Hãy thu nhỏ ảnh này rồi nén lại."
    )


def test_a_bomb_is_refused_for_its_ratio_and_its_total_too(gigabyte_bomb):
    error = refusal(gigabyte_bomb, max_file=2**31)
    assert error.status == 413
    assert error.message == (
        "Tệp nén có tệp bị nén bất thường (có thể là “bom nén”): bom.jpg. "
        "Hãy nén lại chính các ảnh gốc."
    )
    error = refusal(gigabyte_bomb, max_file=2**31, max_ratio=10_000)
    assert error.status == 413
    assert error.message == (
        "Các ảnh trong tệp nén quá lớn: hơn 1.000 MB khi giải nén. "
        "Hãy thu nhỏ ảnh hoặc chia thành nhiều lần nhập."
    )


def test_a_small_member_of_zeros_is_refused_for_its_ratio():
    error = refusal(zipped({"a.jpg": JPEG, "b.jpg": b"\xff\xd8\xff" + bytes(5_000_000)}))
    assert error.status == 413
    assert "“bom nén”): b.jpg" in error.message


def test_a_header_declaring_a_gigabyte_is_refused():
    data = patched(zipped({"a.jpg": JPEG}), b"a.jpg", file_size=2**30)
    error = refusal(data)
    assert error.status == 413
    assert error.message.startswith("Ảnh a.jpg quá lớn (1.074 MB khi giải nén")


def test_a_header_that_understates_the_size_cannot_make_read_return_more():
    """Declared sizes can lie: reading stops at the declared size, then the check fails."""
    real = JPEG + bytes(200_000)
    data = patched(zipped({"a.jpg": real}), b"a.jpg", file_size=10_000)
    archive = open_photo_archive(data, max_file=100_000)
    with pytest.raises(ArchiveError) as caught:
        archive.read("a.jpg")
    assert caught.value.message == DAMAGED


def test_reading_stops_at_the_hard_cap_whatever_the_header_says():
    data = zipped({"a.jpg": JPEG + bytes(300_000)})
    archive = zipfile.ZipFile(io.BytesIO(data))
    with pytest.raises(ArchiveError) as caught:
        _read_member(archive, archive.getinfo("a.jpg"), 100_000)
    assert caught.value.status == 413
    assert caught.value.message.startswith("Ảnh a.jpg quá lớn")


def test_too_many_files_are_refused():
    members = {f"anh-{n}.jpg": JPEG for n in range(4)}
    assert len(open_photo_archive(zipped(members), max_files=4)) == 4
    error = refusal(zipped(members), max_files=3)
    assert error.status == 413
    assert error.message == (
        "Tệp nén có 4 tệp, nhiều hơn giới hạn 3 tệp. Hãy chia ảnh thành nhiều lần nhập."
    )


def test_a_total_over_the_limit_is_refused():
    members = {f"anh-{n}.jpg": JPEG for n in range(3)}
    assert open_photo_archive(zipped(members), max_total=3 * len(JPEG))
    error = refusal(zipped(members), max_total=3 * len(JPEG) - 1)
    assert error.status == 413
    assert error.message.startswith("Các ảnh trong tệp nén quá lớn")


def test_one_photo_over_the_limit_is_refused_naming_it():
    data = zipped({"a.jpg": JPEG, "anh/to.jpg": JPEG + bytes(range(256)) * 10})
    error = refusal(data, max_file=len(JPEG) + 100)
    assert error.status == 413
    assert error.message.startswith("Ảnh anh/to.jpg quá lớn (1 MB khi giải nén, tối đa 1 MB).")


# --------------------------------------------------------------------------- unsafe paths


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "anh/../../x.jpg",
        "..\\..\\x.jpg",
        "..",
        "/etc/x.jpg",
        "\\x.jpg",
        "C:\\x.jpg",
        "C:x.jpg",
        "c:/Windows/x.jpg",
        "__MACOSX/../../x.jpg",
    ],
)
def test_unsafe_paths_refuse_the_whole_archive(name):
    error = refusal(zipped({"a.jpg": JPEG, name: JPEG, "b.jpg": JPEG}))
    assert error.status == 400
    assert error.message == (
        f"{UNSAFE}{name}. Hãy nén lại chỉ các tệp ảnh, không kèm thư mục ngoài hay liên kết."
    )


def test_the_example_message_for_a_climbing_path():
    message = refusal(zipped({"../../etc/passwd": b"root:x:0:0"})).message
    assert message.startswith("Tệp nén chứa đường dẫn không an toàn: ../../etc/passwd")


def test_names_with_dots_that_climb_nowhere_are_fine():
    archive = open_photo_archive(zipped({"..anh..jpg": JPEG, "a/...b.jpg": JPEG}))
    assert archive.names == ["..anh..jpg", "...b.jpg"]


def test_a_symlink_member_refuses_the_whole_archive():
    link = zipfile.ZipInfo("anh/link.jpg")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    error = refusal(zipped({"a.jpg": JPEG, link: "/etc/passwd"}))
    assert error.status == 400
    assert error.message.startswith(f"{UNSAFE}anh/link.jpg.")


# --------------------------------------------------------------------------- not images


def test_non_image_files_are_refused_naming_them():
    error = refusal(zipped({"a.jpg": JPEG, "tai-lieu.pdf": b"%PDF-1.4", "virus.exe": b"MZ"}))
    assert error.status == 400
    assert error.message == (
        "Tệp nén có tệp không phải ảnh: tai-lieu.pdf, virus.exe. "
        "Chỉ nhận ảnh .jpg, .png, .webp; hãy bỏ các tệp khác ra rồi nén lại."
    )


def test_a_gif_is_refused_like_any_file_the_photo_pipeline_cannot_take():
    error = refusal(zipped({"a.jpg": JPEG, "logo.gif": GIF}))
    assert error.status == 400
    assert "logo.gif" in error.message


def test_at_most_five_non_images_are_named():
    members = {f"tep-{n}.txt": b"x" for n in range(7)}
    message = refusal(zipped({"a.jpg": JPEG, **members})).message
    assert message.startswith(
        f"{NOT_IMAGES}tep-0.txt, tep-1.txt, tep-2.txt, tep-3.txt, tep-4.txt và 2 tệp khác. "
    )


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4 fake", b"MZ\x90\x00", b"", b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
    ids=["pdf", "exe", "empty", "svg"],
)
def test_a_file_named_like_a_photo_must_start_like_one(content):
    error = refusal(zipped({"a.jpg": JPEG, "anh/that-ra.jpg": content}))
    assert error.status == 400
    assert error.message.startswith(f"{NOT_IMAGES}anh/that-ra.jpg. ")


def test_two_photos_with_the_same_base_name_are_refused():
    data = zipped({"a/banh.jpg": JPEG, "b/Banh.JPG": JPEG, "c/tra.jpg": JPEG, "tra.jpg": JPEG})
    error = refusal(data)
    assert error.status == 400
    assert error.message == (
        "Tệp nén có nhiều ảnh trùng tên (trong các thư mục khác nhau): Banh.JPG, tra.jpg. "
        "Hãy đổi tên để mỗi ảnh có một tên riêng rồi nén lại."
    )


# --------------------------------------------------------------------------- English

ENGLISH = [
    (
        lambda: open_photo_archive(b"nope"),
        "The archive cannot be read (it is not a .zip file or it is damaged). "
        "Compress the photos into one .zip file again and upload it.",
    ),
    (
        lambda: open_photo_archive(zipped({"../../etc/passwd": JPEG})),
        "The archive contains an unsafe path: ../../etc/passwd. "
        "Compress only the photo files again, without outside folders or links.",
    ),
    (
        lambda: open_photo_archive(zipped({f"{n}.pdf": b"%PDF" for n in range(6)})),
        "The archive contains files that are not photos: 0.pdf, 1.pdf, 2.pdf, 3.pdf, 4.pdf "
        "and 1 more. Only .jpg, .png and .webp photos are accepted; "
        "take the other files out and compress again.",
    ),
    (
        lambda: open_photo_archive(zipped({"a/x.jpg": JPEG, "b/x.jpg": JPEG})),
        "The archive has several photos with the same name (in different folders): x.jpg. "
        "Rename them so that each photo has its own name, then compress again.",
    ),
    (
        lambda: open_photo_archive(patched(zipped({"a.jpg": JPEG}), b"a.jpg", set_flags=1)),
        "The archive is password-protected (a.jpg). Compress the photos again without a password.",
    ),
    (
        lambda: open_photo_archive(zipped({"a.jpg": JPEG}), max_file=10),
        "The photo a.jpg is too large (1 MB unpacked, at most 1 MB). "
        "Make this photo smaller and compress again.",
    ),
    (
        lambda: open_photo_archive(zipped({"b.jpg": b"\xff\xd8\xff" + bytes(3_000_000)})),
        "The archive contains an abnormally compressed file (possibly a “zip bomb”): b.jpg. "
        "Compress the original photos again.",
    ),
    (
        lambda: open_photo_archive(zipped({"a.jpg": JPEG, "b.jpg": JPEG}), max_total=10),
        "The photos in the archive are too large: over 1 MB unpacked. "
        "Make the photos smaller or split them over several imports.",
    ),
    (
        lambda: open_photo_archive(zipped({f"{n}.jpg": JPEG for n in range(1001)}), max_files=1000),
        "The archive has 1,001 files, more than the limit of 1,000. "
        "Split the photos over several imports.",
    ),
    (
        lambda: open_photo_archive(zipped({"anh/": b""})),
        "The archive contains no photos. "
        "Compress the product photos (.jpg, .png, .webp) into a .zip file.",
    ),
]


@pytest.mark.parametrize(("action", "english"), ENGLISH)
def test_every_refusal_reads_in_english(app, action, english):
    with app.test_request_context(), force_locale("en"), pytest.raises(ArchiveError) as caught:
        action()
    assert caught.value.message == english


def test_outside_a_request_messages_are_vietnamese():
    """The import job reads photos without a request."""
    assert refusal(b"nope").message == DAMAGED
