"""Check uploaded photos by their content and turn them into a clean master and WebP derivatives.

The rules (DESIGN, "Images"):

- Accepted: JPEG (MPO, the multi-picture JPEG of many phones, included), PNG and WebP, told
  apart by their bytes; the file name and the content type the browser sent are ignored.
  At most MAX_BYTES bytes and MAX_PIXELS pixels; Pillow's decompression-bomb error *and*
  warning are refusals. Animated files keep their first frame.
- Decoding is as small as the outputs allow: a large JPEG is decoded by the DCT scaler
  (``draft``) at 1/2, 1/4 or 1/8 of its size, the smallest of those whose longest side is still
  at least DECODE_MIN_SIDE; other formats use ``reducing_gap``.
- The EXIF orientation is applied, colours are converted to sRGB when an ICC profile says they
  are in another space, and then every piece of metadata is dropped (EXIF with GPS, ICC
  profile, XMP, JPEG comments, PNG text): what is written is pixels only.
- The *master* is the normalised image, its longest side at most MASTER_MAX_SIDE (and at least
  DECODE_MIN_SIDE, or the original size when smaller). Opaque masters are JPEG, masters with
  transparency WebP. Measured on a 12 MP phone photo (`bench/images.py`): at quality 90 the
  JPEG master takes ~20 ms and 526 kB, the WebP one ~300 ms (as long as all three derivatives)
  and 583 kB; the master is only shown when a buyer zooms in.
- Derivatives are WebP at DERIVATIVE_WIDTHS pixels wide, never wider than the master.

Content address: the sha256 of the *master's bytes*. The pipeline is deterministic (same bytes
in, same master out), so identical uploads get the same address and one StoredImage row; the
stored master can be checked against its name; and the hash says nothing about the original
file, whose metadata we threw away. Derivatives are named after their master.
"""

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps

MiB = 1024 * 1024
MAX_BYTES = 15 * MiB
MAX_PIXELS = 40_000_000
MASTER_MAX_SIDE = 2048
#: The largest derivative; a JPEG is never decoded smaller than this on its longest side.
DECODE_MIN_SIDE = 1600
DERIVATIVE_WIDTHS = (320, 800, 1600)

#: Pillow format names tried when identifying an upload (MPO is found through JPEG).
OPENERS = ("JPEG", "PNG", "WEBP")
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})

MASTER_JPEG = {"quality": 90, "optimize": True}
MASTER_WEBP = {"quality": 90, "method": 4}
DERIVATIVE_WEBP = {"quality": 80, "method": 4}
#: For photos by the hundred (a bulk import): libwebp's method 2 encodes a 1600 px photo about
#: 2.5 times faster than method 4 for files about 4 % larger (measured on 1600×1200 photos),
#: which brings 500 photos within a minute on two cores (bench/imports.py).
BULK_DERIVATIVE_WEBP = {"quality": 80, "method": 2}

#: What a damaged or hostile file can make a Pillow decoder raise.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRejected(Exception):
    """An upload we refuse, with a message for the person who sent it and an HTTP status."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(code)
        #: Stable machine-readable reason: empty, too_large, too_many_pixels, not_an_image, damaged.
        self.code = code
        #: Lazy Vietnamese text, translated when shown.
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return str(self.message)


TOO_LARGE_MESSAGE = _l(
    "Ảnh quá lớn (tối đa %(limit)s MB). Xin chọn ảnh nhỏ hơn, hoặc giảm kích thước ảnh rồi tải "
    "lên lại.",
    limit=MAX_BYTES // MiB,
)


def empty() -> ImageRejected:
    return ImageRejected("empty", _l("Tệp ảnh trống. Xin chọn lại ảnh."))


def too_large() -> ImageRejected:
    return ImageRejected("too_large", TOO_LARGE_MESSAGE, 413)


def too_many_pixels() -> ImageRejected:
    return ImageRejected(
        "too_many_pixels",
        _l(
            "Ảnh có quá nhiều điểm ảnh (tối đa %(limit)s megapixel). Xin giảm kích thước ảnh "
            "rồi tải lên lại.",
            limit=MAX_PIXELS // 1_000_000,
        ),
        413,
    )


def not_an_image() -> ImageRejected:
    return ImageRejected(
        "not_an_image", _l("Tệp này không phải ảnh JPEG, PNG hoặc WebP. Xin chọn một tấm ảnh.")
    )


def damaged() -> ImageRejected:
    return ImageRejected(
        "damaged",
        _l("Không đọc được ảnh: tệp bị hỏng hoặc chưa tải lên hết. Xin chọn lại ảnh."),
    )


@dataclass(frozen=True)
class Rendition:
    """One file made from an upload: the master or a derivative."""

    name: str
    data: bytes
    content_type: str
    width: int
    height: int


@dataclass
class Normalised:
    """An upload made upright, sRGB and metadata-free, at master size, with its encoded master."""

    image: Image.Image
    master: Rendition

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.master.data).hexdigest()


def read_upload(source) -> bytes:
    """The upload's bytes from bytes or a file (a werkzeug FileStorage, an open file, BytesIO)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        # Read one byte past the limit: enough to know it is too large, never the whole of it.
        data = source.read(MAX_BYTES + 1)
    if not data:
        raise empty()
    if len(data) > MAX_BYTES:
        raise too_large()
    return data


def open_image(data: bytes) -> Image.Image:
    """Identify the image from its bytes (header only) and enforce the pixel limit."""
    try:
        # Our own pixel limit is below Pillow's warning threshold, so a warning that slips past
        # this filter (catch_warnings is not thread-safe) still ends in a refusal below.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=OPENERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels() from None
    except Image.UnidentifiedImageError:
        raise not_an_image() from None
    except DECODE_ERRORS:
        raise damaged() from None
    if image.format not in ACCEPTED_FORMATS:
        raise not_an_image()
    width, height = image.size
    if width < 1 or height < 1:
        raise damaged()
    if width * height > MAX_PIXELS:
        raise too_many_pixels()
    return image


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled down so its longest side is `longest` (unchanged when already smaller)."""
    width, height = size
    scale = longest / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def derivative_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """Size of the derivative `target_width` wide of a master `width`×`height`; never larger."""
    if target_width >= width:
        return width, height
    return target_width, max(1, round(height * target_width / width))


def _decode(image: Image.Image) -> Image.Image:
    """Load the pixels, letting the JPEG decoder scale by 1/2, 1/4 or 1/8 when that is enough."""
    if image.format in ("JPEG", "MPO") and max(image.size) > DECODE_MIN_SIDE:
        width, height = image.size
        scale = DECODE_MIN_SIDE / max(width, height)
        image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        image.load()
    except DECODE_ERRORS:
        raise damaged() from None
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF (or XMP) orientation."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except DECODE_ERRORS + (KeyError, TypeError):
        # The tags are untrusted too: an unreadable orientation leaves the pixels as stored
        # rather than losing the photo.
        pass
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )


def _rgb(image: Image.Image) -> Image.Image:
    """RGB or RGBA, in sRGB; an alpha channel that is fully opaque is dropped."""
    icc = image.info.get("icc_profile")
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit and float greyscale: scale to 8 bits instead of letting convert() clip at 255.
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if image.mode == "CMYK" and not icc:
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "CMYK"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    if icc:
        image = _to_srgb(image, icc)
    if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")
    return image


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the embedded profile's colour space to sRGB (phones often use Display P3)."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode != "CMYK" and "sRGB" in ImageCms.getProfileDescription(source):
            return image
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A broken or mismatched profile: keep the pixels as they are, taken as sRGB.
        return image.convert("RGB") if image.mode == "CMYK" else image
    return converted if converted is not None else image


def _encode(image: Image.Image, format: str, options: dict) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def encode_master(image: Image.Image) -> Rendition:
    if image.mode == "RGBA":
        data = _encode(image, "WEBP", MASTER_WEBP)
        return Rendition("master.webp", data, "image/webp", image.width, image.height)
    data = _encode(image, "JPEG", MASTER_JPEG)
    return Rendition("master.jpg", data, "image/jpeg", image.width, image.height)


def normalise(data: bytes) -> Normalised:
    """Validate the upload and make its master: upright, sRGB, at most MASTER_MAX_SIDE, bare."""
    image = _decode(open_image(data))
    image = _rgb(_upright(image))
    # Pixels only from here on: Pillow's JPEG writer would copy a comment from info by itself.
    image.info = {}
    size = fit(image.size, MASTER_MAX_SIDE)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    image.info = {}
    return Normalised(image=image, master=encode_master(image))


def make_derivatives(master: Image.Image, options: dict = DERIVATIVE_WEBP) -> list[Rendition]:
    """The WebP derivatives of the master image, largest first (`options`: the encoder's).

    Each is resized from the previous one (1600 → 800 → 320): a factor of 2–2.5 per step, far
    cheaper than three resizes of the master and not visibly different.
    """
    renditions = []
    source = master
    for target in sorted(DERIVATIVE_WIDTHS, reverse=True):
        size = derivative_size(master.width, master.height, target)
        if size != source.size:
            source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        data = _encode(source, "WEBP", options)
        renditions.append(Rendition(f"{target}.webp", data, "image/webp", *size))
    return renditions


def open_master(data: bytes) -> Image.Image:
    """Decode a master we wrote (for `media rebuild`)."""
    image = Image.open(io.BytesIO(data), formats=("JPEG", "WEBP"))
    image.load()
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    image.info = {}
    return image
