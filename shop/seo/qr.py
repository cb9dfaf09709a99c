"""QR codes drawn as inline SVG: a phone at a market stall scans the product's traceability page."""

from functools import lru_cache

import segno
from markupsafe import Markup

#: Error correction M survives a smudged print; segno raises it when the size allows.
ERROR = "m"
#: The quiet zone scanners need around the code, in modules.
BORDER = 4


@lru_cache(maxsize=1024)
def _svg(data: str, title: str) -> str:
    qr = segno.make(data, error=ERROR)
    return qr.svg_inline(
        scale=1,
        border=BORDER,
        dark="#000",
        light="#fff",
        title=title,
        svgclass="qr-code",
        lineclass=None,
        omitsize=True,
    )


def qr_svg(data: str, title: str) -> Markup:
    """An <svg> (viewBox only, sized by CSS) of the QR code of `data`; `title` names it."""
    svg = _svg(data, str(title))
    # An image to assistive technology, named by its <title>.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))
