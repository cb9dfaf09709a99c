"""Serve stored images: ``/media/<sha256>/<name>``, immutable, straight from Storage.

The blueprint also makes `url_for_image`, `srcset` and `image_size` Jinja globals, and builds
the app's storage when it is registered, so a bad media configuration stops create_app().
"""

from flask import Response, abort, request
from werkzeug.wsgi import wrap_file

from shop.access import public_blueprint
from shop.media.services import (
    CONTENT_TYPES,
    SHA256_RE,
    image_size,
    srcset,
    storage_key,
    url_for_image,
)
from shop.media.storage import MissingObject, get_storage

bp = public_blueprint("media", __name__, url_prefix="/media")

ONE_YEAR = 365 * 24 * 3600

bp.add_app_template_global(url_for_image)
bp.add_app_template_global(srcset)
bp.add_app_template_global(image_size)


@bp.record_once
def _make_storage(state) -> None:
    get_storage(state.app)


@bp.get("/<sha256>/<name>")
def file(sha256: str, name: str):
    """One image file. Its URL names its content, so browsers and proxies may keep it for good."""
    if not SHA256_RE.fullmatch(sha256) or name not in CONTENT_TYPES:
        abort(404)
    try:
        stored = get_storage().open(storage_key(sha256, name))
    except MissingObject:
        abort(404)
    response = Response(
        wrap_file(request.environ, stored.stream),
        mimetype=CONTENT_TYPES[name],
        direct_passthrough=True,
    )
    response.content_length = stored.size
    response.set_etag(stored.etag)
    response.last_modified = stored.modified
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser ever open it as a document, nothing in it may run.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response.make_conditional(request)
