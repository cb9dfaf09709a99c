"""Serving stored images over HTTP, the template helpers, and the 413 page for big uploads."""

import io

import pytest
from flask import render_template_string
from PIL import Image

from shop.media.services import srcset, storage_key, store_image, url_for_image
from tests.helpers import page_text
from tests.test_media_images import jpeg

ONE_YEAR = 31536000


@pytest.fixture
def stored(blank_db, media_storage):
    """One 1000×500 photo in storage, and a client to fetch it with."""
    with blank_db.test_request_context():
        image = store_image(jpeg((1000, 500)))
    return image, blank_db.test_client()


def fetch(client, url, **kwargs):
    """GET `url`, read the whole body and close the response (it streams from storage)."""
    response = client.get(url, **kwargs)
    response.body = response.get_data()
    response.close()
    return response


@pytest.mark.parametrize(
    "name, content_type, size",
    [
        ("320.webp", "image/webp", (320, 160)),
        ("800.webp", "image/webp", (800, 400)),
        ("1600.webp", "image/webp", (1000, 500)),
        ("master.jpg", "image/jpeg", (1000, 500)),
    ],
)
def test_images_are_served_immutable_with_their_type(
    stored, media_storage, name, content_type, size
):
    image, client = stored
    response = fetch(client, f"/media/{image.sha256}/{name}")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cache = response.cache_control
    assert cache.public and cache.immutable and cache.max_age == ONE_YEAR
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers
    assert response.body == media_storage.get(storage_key(image.sha256, name))
    assert int(response.headers["Content-Length"]) == len(response.body)
    assert Image.open(io.BytesIO(response.body)).size == size


def test_a_known_etag_gets_304_without_a_body(stored):
    image, client = stored
    url = f"/media/{image.sha256}/800.webp"
    etag = fetch(client, url).headers["ETag"]
    again = fetch(client, url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.body == b""


def test_head_requests_answer_without_a_body(stored):
    image, client = stored
    response = client.head(f"/media/{image.sha256}/320.webp")
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "image/webp"


@pytest.mark.parametrize(
    "path",
    [
        "/media/{unknown}/320.webp",  # well-formed, not stored
        "/media/{sha}/master.webp",  # this image's master is a JPEG
        "/media/{sha}/321.webp",
        "/media/{sha}/master.png",
        "/media/{sha}/320.WEBP",
        "/media/{sha}/320.webp.part",
        "/media/{upper}/320.webp",
        "/media/{short}/320.webp",
        "/media/{sha}/..%2F..%2F..%2Fconfig.py",
        "/media/..%2F..%2Fconfig.py/320.webp",
        "/media/{prefix}/{sha}/320.webp",  # the storage layout is not a URL
        "/media/../config.py",
        "/media/{sha}",
    ],
)
def test_unknown_or_malformed_addresses_are_404(stored, path):
    image, client = stored
    url = path.format(
        sha=image.sha256,
        unknown="0" * 64,
        upper=image.sha256.upper(),
        short=image.sha256[:-1],
        prefix=image.sha256[:2],
    )
    assert fetch(client, url).status_code == 404


def test_template_helpers_build_urls_and_srcset(stored):
    image, client = stored
    with client.application.test_request_context():
        assert url_for_image(image, 800) == f"/media/{image.sha256}/800.webp"
        assert url_for_image(image) == f"/media/{image.sha256}/master.jpg"
        # The 1600 px derivative of a 1000 px master is 1000 px wide, and says so.
        assert srcset(image) == (
            f"/media/{image.sha256}/320.webp 320w, /media/{image.sha256}/800.webp 800w, "
            f"/media/{image.sha256}/1600.webp 1000w"
        )
        html = render_template_string(
            '<img src="{{ url_for_image(img, 800) }}" srcset="{{ srcset(img) }}" '
            'width="{{ image_size(img, 800)[0] }}" height="{{ image_size(img, 800)[1] }}">',
            img=image,
        )
        assert 'width="800" height="400"' in html
        with pytest.raises(ValueError):
            url_for_image(image, 500)


def test_srcset_lists_each_real_width_once(blank_db, media_storage):
    with blank_db.test_request_context():
        image = store_image(jpeg((200, 100)))
        assert srcset(image) == f"/media/{image.sha256}/320.webp 200w"


# --------------------------------------------------------------------------- 413

SEVENTEEN_MB = 17 * 1024 * 1024


def post_big_photo(client, **headers):
    """POST a 17 MB photo as a browser form would (the body is built here, in memory)."""
    boundary = "----anh-qua-lon"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="anh-to.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"\xff\xd8\xff"
        + b"\0" * SEVENTEEN_MB
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/tai-khoan/dang-nhap",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def test_a_body_over_16_mb_gets_a_friendly_413_page(client):
    response = post_big_photo(client)
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert "Ảnh quá lớn (tối đa 15 MB)" in text
    assert "Về trang chủ" in text


def test_a_body_over_16_mb_gets_json_when_json_is_wanted(client):
    response = post_big_photo(client, Accept="application/json")
    assert response.status_code == 413
    assert response.json["error"] == "too_large"
    assert response.json["message"].startswith("Ảnh quá lớn (tối đa 15 MB)")
