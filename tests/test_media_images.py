"""store_image: what is accepted and refused, and what the stored files hold.

Every refusal is checked for leaving nothing behind: no file in storage, no StoredImage row.
Test images are made here with Pillow; a few hostile files are written byte by byte.
"""

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.media.images import MAX_BYTES, ImageRejected, normalise
from shop.media.models import StoredImage
from shop.media.services import StorageFailed, storage_key, store_image


@pytest.fixture(autouse=True)
def app_context(blank_db, media_storage):
    """store_image runs inside a request, as in the upload views; storage starts empty."""
    with blank_db.test_request_context():
        yield


# --------------------------------------------------------------------------- samples


def picture(size=(600, 400), mode="RGB") -> Image.Image:
    """Left half red, right half blue, a green band at the top: orientation can be read back."""
    width, height = size
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    image.paste((0, 160, 0), (0, 0, width, max(1, height // 8)))
    # Some texture, as in a photo; made small and stretched, which is much faster.
    noise = Image.effect_noise((max(1, width // 4), max(1, height // 4)), 30)
    noise = noise.resize(size).convert("RGB")
    image = Image.blend(image, noise, 0.1)
    return image.convert(mode) if mode != "RGB" else image


def encoded(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def jpeg(size=(600, 400), **options) -> bytes:
    return encoded(picture(size), "JPEG", quality=90, **options)


def png(size=(600, 400), mode="RGB") -> bytes:
    return encoded(picture(size, mode), "PNG")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming width×height, with almost no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"", 9))
        + png_chunk(b"IEND", b"")
    )


def stored_files(storage) -> dict[str, bytes]:
    return {key: storage.get(key) for key in storage.iter_keys()}


def assert_nothing_stored(storage) -> None:
    assert list(storage.iter_keys()) == []
    assert db.session.scalar(select(func.count()).select_from(StoredImage)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def refused(storage, source) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        store_image(source)
    assert_nothing_stored(storage)
    return caught.value


# --------------------------------------------------------------------------- refusals


def test_a_65_byte_png_claiming_20000_by_20000_is_refused_as_a_bomb(blank_db, media_storage):
    bomb = png_header_only(20000, 20000)
    assert len(bomb) < 80
    error = refused(media_storage, bomb)
    assert (error.code, error.status) == ("too_many_pixels", 413)
    assert "40 megapixel" in str(error)


@pytest.mark.parametrize(
    "size",
    [
        (10000, 10000),  # 100 MP: Pillow only warns (DecompressionBombWarning)
        (7000, 7000),  # 49 MP: under Pillow's limits, over ours (40 MP)
    ],
)
def test_images_over_40_megapixels_are_refused_before_decoding(blank_db, media_storage, size):
    error = refused(media_storage, png_header_only(*size))
    assert error.code == "too_many_pixels"


def test_a_truncated_jpeg_is_refused_as_damaged(blank_db, media_storage):
    data = jpeg((800, 600))
    error = refused(media_storage, data[: len(data) // 2])
    assert (error.code, error.status) == ("damaged", 400)
    assert "bị hỏng" in str(error)


HOSTILE = {
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>",
    "html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    "text": b"just some text, not a picture",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_files_that_are_not_images_are_refused_whatever_their_name(blank_db, media_storage, kind):
    upload = FileStorage(io.BytesIO(HOSTILE[kind]), filename="anh.jpg", content_type="image/jpeg")
    error = refused(media_storage, upload)
    assert (error.code, error.status) == ("not_an_image", 400)
    assert "JPEG, PNG hoặc WebP" in str(error)


@pytest.mark.parametrize("format", ["GIF", "BMP", "TIFF"])
def test_images_in_other_formats_are_refused(blank_db, media_storage, format):
    error = refused(media_storage, encoded(picture((50, 40)), format))
    assert error.code == "not_an_image"


@pytest.mark.parametrize("source", [b"", io.BytesIO(b""), FileStorage(io.BytesIO(), "a.jpg")])
def test_an_empty_file_is_refused(blank_db, media_storage, source):
    error = refused(media_storage, source)
    assert (error.code, error.status) == ("empty", 400)


def test_more_than_15_mb_is_refused_without_reading_it_all(blank_db, media_storage):
    stream = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (MAX_BYTES + 1000))
    error = refused(media_storage, stream)
    assert (error.code, error.status) == ("too_large", 413)
    assert "Ảnh quá lớn (tối đa 15 MB)" in str(error)
    assert stream.tell() == MAX_BYTES + 1


def test_a_failure_after_the_files_are_written_leaves_no_file_and_no_row(blank_db, media_storage):
    ghost = User(id=987654, email="khong-co@example.vn", name="Không có")  # never flushed
    with pytest.raises(Exception, match="(?i)foreign key"):
        store_image(jpeg(), acting_user=ghost)
    assert_nothing_stored(media_storage)


def test_a_storage_failure_midway_leaves_no_file_and_no_row(blank_db, media_storage):
    data = jpeg()
    sha256 = normalise(data).sha256
    # A folder where the 800 px file must go: the rename onto it really fails.
    (media_storage.root / storage_key(sha256, "800.webp")).mkdir(parents=True)
    with pytest.raises(StorageFailed) as caught:
        store_image(data)
    # Told to the member as "try again later" (503); the OSError is kept as the cause.
    assert (caught.value.status, type(caught.value.__cause__)) == (503, IsADirectoryError)
    assert_nothing_stored(media_storage)


# --------------------------------------------------------------------------- what is stored


def test_a_png_named_jpg_is_accepted_by_its_content(blank_db, media_storage):
    upload = FileStorage(io.BytesIO(png()), filename="anh.jpg", content_type="image/jpeg")
    image = store_image(upload)
    assert (image.width, image.height, image.mime_type) == (600, 400, "image/jpeg")
    files = stored_files(media_storage)
    assert sorted(name.rsplit("/", 1)[1] for name in files) == [
        "1600.webp",
        "320.webp",
        "800.webp",
        "master.jpg",
    ]
    assert Image.open(io.BytesIO(files[storage_key(image.sha256, "master.jpg")])).format == "JPEG"


def test_derivatives_are_webp_320_800_and_1600_wide(blank_db, media_storage):
    image = store_image(png((2000, 1000)))
    assert (image.width, image.height) == (2000, 1000)
    for width, height in ((320, 160), (800, 400), (1600, 800)):
        data = media_storage.get(storage_key(image.sha256, f"{width}.webp"))
        assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        decoded = Image.open(io.BytesIO(data))
        assert (decoded.format, decoded.size) == ("WEBP", (width, height))


def test_small_images_are_never_upscaled(blank_db, media_storage):
    image = store_image(png((100, 80)))
    for width in (320, 800, 1600):
        data = media_storage.get(storage_key(image.sha256, f"{width}.webp"))
        assert Image.open(io.BytesIO(data)).size == (100, 80)


def test_large_jpegs_are_decoded_reduced_and_the_master_kept_under_2048(blank_db, media_storage):
    image = store_image(jpeg((4000, 3000)))
    # draft() decodes at 1/2 (2000×1500): at least 1600 and at most 2048 on the long side.
    assert (image.width, image.height) == (2000, 1500)
    image = store_image(png((5000, 1000)))
    assert (image.width, image.height) == (2048, 410)


def test_exif_orientation_6_is_applied(blank_db, media_storage):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to show
    image = store_image(jpeg((600, 400), exif=exif.tobytes()))
    assert (image.width, image.height) == (400, 600)
    data = media_storage.get(storage_key(image.sha256, "320.webp"))
    derivative = Image.open(io.BytesIO(data)).convert("RGB")
    assert derivative.size == (320, 480)
    # Turned clockwise: the red left half is now on top, the green top band on the right.
    top, bottom, right = (derivative.getpixel(xy) for xy in ((100, 60), (100, 420), (315, 300)))
    assert top[0] > 180 and top[2] < 80
    assert bottom[2] > 180 and bottom[0] < 80
    assert right[1] > 100 and right[0] < 80


def _tagged(format: str) -> bytes:
    """A photo carrying every kind of metadata `format` can hold, secrets and scripts in it."""
    exif = Image.Exif()
    exif[0x010F] = "CameraMakerSecret"
    exif[0x9286] = "<script>alert('exif')</script>"  # UserComment
    exif.get_ifd(0x8825).update({1: "N", 2: (21.0, 11.0, 10.0), 3: "E", 4: (106.0, 4.0, 5.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>XmpSecret</rdf:RDF></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tags = {"exif": exif.tobytes(), "icc_profile": icc}
    if format == "JPEG":
        return jpeg(**tags, xmp=xmp, comment=b"<script>alert('comment')</script>")
    if format == "WEBP":
        return encoded(picture(), "WEBP", **tags, xmp=xmp)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "<script>alert('png')</script>")
    text.add_itxt("XML:com.adobe.xmp", xmp.decode())
    return encoded(picture(), "PNG", **tags, pnginfo=text)


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP"])
def test_gps_exif_comments_xmp_and_icc_are_not_kept(blank_db, media_storage, format):
    data = _tagged(format)
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(0x8825) and b"<script>" in data

    image = store_image(data)
    files = stored_files(media_storage)
    assert len(files) == 4
    for key, content in files.items():
        for secret in (b"<script>", b"CameraMakerSecret", b"XmpSecret", b"Exif\0\0"):
            assert secret not in content, (key, secret)
        stored = Image.open(io.BytesIO(content))
        assert not stored.getexif(), key
        assert not stored.getexif().get_ifd(0x8825), key
        for field in ("exif", "comment", "icc_profile", "xmp", "Comment"):
            assert not stored.info.get(field), (key, field)
    assert image.mime_type == "image/jpeg"


def test_identical_uploads_share_one_row_and_one_set_of_files(blank_db, media_storage):
    data = jpeg()
    first = store_image(data)
    second = store_image(FileStorage(io.BytesIO(data), filename="lan-hai.jpeg"))
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(StoredImage)) == 1
    assert len(list(media_storage.iter_keys())) == 4
    assert first.sha256 == normalise(data).sha256


def test_who_stored_an_image_is_audited(blank_db, media_storage):
    user = User(email="thanh-vien@example.vn", name="Thành viên")
    db.session.add(user)
    db.session.flush()
    image = store_image(jpeg(), acting_user=user)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.target_id == image.id))
    assert (entry.actor_id, entry.action, entry.target_type) == (
        user.id,
        "media.stored",
        "stored_image",
    )


def test_transparent_pngs_keep_their_alpha_in_a_webp_master(blank_db, media_storage):
    logo = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    logo.paste((200, 30, 30, 255), (50, 50, 250, 150))
    image = store_image(encoded(logo, "PNG"))
    assert image.mime_type == "image/webp"
    master = Image.open(io.BytesIO(media_storage.get(storage_key(image.sha256, "master.webp"))))
    assert master.mode == "RGBA" and master.getpixel((5, 5))[3] == 0
    derivative = Image.open(io.BytesIO(media_storage.get(storage_key(image.sha256, "320.webp"))))
    assert derivative.mode == "RGBA"


def test_an_opaque_alpha_channel_gives_a_jpeg_master(blank_db, media_storage):
    image = store_image(png(mode="RGBA"))
    assert image.mime_type == "image/jpeg"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(encoded(picture((300, 200)), "WEBP", quality=90), id="webp"),
        pytest.param(encoded(picture((300, 200), "CMYK"), "JPEG"), id="cmyk-jpeg"),
        pytest.param(encoded(picture((300, 200), "L"), "JPEG"), id="greyscale-jpeg"),
        pytest.param(encoded(picture((300, 200), "P"), "PNG"), id="palette-png"),
        pytest.param(
            encoded(picture((300, 200)), "MPO", save_all=True, append_images=[picture((30, 20))]),
            id="mpo-phone-jpeg",
        ),
    ],
)
def test_other_accepted_kinds_become_rgb_masters(blank_db, media_storage, data):
    image = store_image(data)
    assert (image.width, image.height, image.mime_type) == (300, 200, "image/jpeg")
    master = Image.open(io.BytesIO(media_storage.get(storage_key(image.sha256, "master.jpg"))))
    assert master.mode == "RGB"


def test_16_bit_greyscale_is_scaled_not_clipped(blank_db, media_storage):
    grey = Image.new("I;16", (64, 64), 40000)  # 40000 / 65535 ≈ 61 % grey
    image = store_image(encoded(grey, "PNG"))
    master = Image.open(io.BytesIO(media_storage.get(storage_key(image.sha256, "master.jpg"))))
    red, green, blue = master.convert("RGB").getpixel((32, 32))
    assert 150 <= red <= 160 and red == green == blue
