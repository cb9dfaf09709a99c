"""Draw static/img/share.png, the link-preview picture of pages without a photo of their own.

Run once when the design changes, and commit the PNG: ``python -m shop.seo.share_image``.
It needs a font with Vietnamese letters (DejaVu Sans, in most Linux distributions).
"""

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from shop.seo.meta import SHARE_IMAGE

OUT = Path(__file__).resolve().parent.parent.parent / "static" / SHARE_IMAGE[0]
FONTS = Path("/usr/share/fonts/truetype/dejavu")
BRAND_DARK, BRAND, GOLD, SOFT = "#124a2b", "#1d6b40", "#f4c542", "#e3f1e8"


def draw() -> Image.Image:
    _name, width, height = SHARE_IMAGE
    image = Image.new("RGB", (width, height), BRAND_DARK)
    pen = ImageDraw.Draw(image)
    # A band of the brand green with the site's diamond mark, as in the header.
    pen.rectangle((0, height - 120, width, height), fill=BRAND)
    cx, cy, r = 180, 255, 95
    pen.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=GOLD)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 132)
    regular = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 44)
    small = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 36)
    pen.text((320, 255), "Chợ HTX", font=bold, fill="white", anchor="lm")
    pen.text((80, 420), "Sản phẩm của các hợp tác xã tỉnh Bắc Ninh", font=regular, fill=SOFT)
    pen.text(
        (80, height - 60),
        "Nông sản · Đặc sản OCOP · Thủ công mỹ nghệ",
        font=small,
        fill="white",
        anchor="lm",
    )
    return image


def main() -> int:
    image = draw().quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    image.save(OUT, optimize=True)
    print(f"{OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
