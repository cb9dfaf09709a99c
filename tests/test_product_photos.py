"""The photos page of a product (/quan-ly-htx/san-pham/<id>/anh) and how buyers see the photos.

Uploads go through HTTP with real images made by Pillow into a per-test media folder; every
refused upload is checked for leaving no file, no StoredImage row and no ProductImage row.
"""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from shop.catalog import services
from shop.catalog.models import Product, ProductImage, ProductRevision, ProductStatus
from shop.extensions import db
from shop.media.models import StoredImage
from shop.media.services import store_image
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_media_images import HOSTILE, encoded, jpeg, png, png_header_only

NAME = "Bình gốm men rạn Phù Lãng"


@pytest.fixture
def world(blank_db, media_storage):
    """Cooperative A with a draft and a live product, cooperative B; A's owner signed in."""
    load_taxonomy()
    coop_a = create_cooperative(name="HTX Gốm A")
    coop_b = create_cooperative(name="HTX Gốm B")
    owner_a = create_user(cooperative=coop_a)
    owner_b = create_user(cooperative=coop_b)
    staff = create_user("staff")
    draft = create_product(coop_a, status=ProductStatus.DRAFT, name_vi=NAME)
    live = create_product(coop_a, status=ProductStatus.PUBLISHED, name_vi="Chum gốm 20 lít")
    other = create_product(coop_b, status=ProductStatus.DRAFT, name_vi="Sản phẩm của B")
    db.session.commit()
    client = blank_db.test_client()
    sign_in(client, owner_a)
    return {
        "app": blank_db,
        "client": client,
        "storage": media_storage,
        "coop_a": coop_a,
        "coop_b": coop_b,
        "owner_a": owner_a,
        "owner_b": owner_b,
        "staff": staff,
        "draft": draft,
        "live": live,
        "other": other,
    }


def page_url(product) -> str:
    return f"/quan-ly-htx/san-pham/{product.id}/anh"


def photo(color=(200, 80, 40), size=(640, 480)) -> bytes:
    """A small JPEG of one colour with a stripe: distinct colours give distinct images."""
    image = Image.new("RGB", size, color)
    image.paste((20, 20, 20), (0, 0, size[0], size[1] // 6))
    return encoded(image, "JPEG", quality=90)


def upload(client, product, data: bytes, filename="anh.jpg", **kwargs):
    token = csrf_token(client, page_url(product))
    return client.post(
        page_url(product) + "/tai-len",
        data={"csrf_token": token, "photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        **kwargs,
    )


def post(client, product, action: str, data: dict, **kwargs):
    token = csrf_token(client, page_url(product))
    return client.post(
        f"{page_url(product)}/{action}", data={**data, "csrf_token": token}, **kwargs
    )


def live_rows(product) -> list[ProductImage]:
    return db.session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position)
    ).all()


def live_ids(product) -> list[int]:
    return [row.image_id for row in live_rows(product)]


def counts(storage) -> tuple[int, int, int]:
    """(StoredImage rows, ProductImage rows, files in storage)."""
    return (
        db.session.scalar(select(func.count()).select_from(StoredImage)),
        db.session.scalar(select(func.count()).select_from(ProductImage)),
        len(list(storage.iter_keys())),
    )


def stored(n: int, app) -> StoredImage:
    """An image put into storage directly (to prepare a product's photos quickly)."""
    with app.test_request_context():
        image = store_image(photo((n * 23 % 256, n * 71 % 256, n * 131 % 256), (160, 120)))
        db.session.commit()
    return image


def fresh(row):
    """The row again in the current session (a request or app context ends the session)."""
    return db.session.get(type(row), row.id)


def give_photos(world, product, n: int) -> list[StoredImage]:
    images = [stored(i + 1, world["app"]) for i in range(n)]
    product = fresh(product)
    for image in images:
        services.add_photo(product, world["owner_a"], image)
    db.session.commit()
    return images


def error_next_to_field(response) -> str:
    match = re.search(
        r'<p class="field-error" id="photo-error"[^>]*>(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    assert match, "no error next to the upload field"
    text = re.sub(r"<[^>]+>", "", match.group(1)).strip()
    assert text.startswith("Lỗi: ")  # said to screen readers, hidden from sight
    return text.removeprefix("Lỗi: ")


# --------------------------------------------------------------------------- the page


def test_the_page_shows_the_upload_form_and_says_when_there_are_no_photos(world):
    response = world["client"].get(page_url(world["draft"]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert '<label for="photo">Chọn ảnh</label>' in html
    assert 'accept="image/jpeg,image/png,image/webp"' in html
    assert "/static/js/photos.js" in html
    text = page_text(response)
    assert NAME in text
    assert "Sản phẩm chưa có ảnh" in text
    assert "chờ Liên minh HTX duyệt" not in text


def test_upload_stores_the_photo_and_shows_it_as_cover_with_the_name_as_alt(world):
    client, product, storage = world["client"], world["draft"], world["storage"]
    response = upload(client, product, jpeg((1200, 900)))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(page_url(product) + "#anh-")
    image = db.session.scalar(select(StoredImage))
    assert live_ids(product) == [image.id]
    assert (image.width, image.height) == (1200, 900)
    assert sorted(key.rsplit("/", 1)[1] for key in storage.iter_keys()) == [
        "1600.webp",
        "320.webp",
        "800.webp",
        "master.jpg",
    ]
    page = client.get(page_url(product))
    html = page.get_data(as_text=True)
    assert f'src="/media/{image.sha256}/320.webp"' in html
    assert f'id="anh-{image.id}"' in html
    assert f'value="{NAME}"' in html  # the alt text field shows the product's name
    assert "Đã thêm ảnh." in page_text(page)
    assert "Ảnh bìa" in page_text(page)


def test_a_script_gets_json_back(world):
    response = upload(
        world["client"], world["draft"], jpeg(), headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json["ok"] is True
    assert (response.json["count"], response.json["room"]) == (1, 9)
    assert response.json["message"] == "Đã thêm ảnh."


def test_a_png_named_jpg_is_accepted_by_its_content(world):
    response = upload(world["client"], world["draft"], png((500, 400)), filename="anh.jpg")
    assert response.status_code == 302
    assert len(live_ids(world["draft"])) == 1


def test_the_same_photo_twice_is_kept_once(world):
    client, product = world["client"], world["draft"]
    data = photo()
    upload(client, product, data)
    response = upload(client, product, data)
    assert response.status_code == 302
    assert len(live_ids(product)) == 1
    assert "Ảnh này đã có trong sản phẩm." in page_text(client.get(page_url(product)))


BAD_UPLOADS = {
    "decompression bomb png": (png_header_only(20000, 20000), "bom.png", 413, "40 megapixel"),
    "truncated jpeg": (jpeg((800, 600))[:6000], "anh.jpg", 400, "bị hỏng"),
    "svg named jpg": (HOSTILE["svg"], "anh.jpg", 400, "không phải ảnh JPEG, PNG hoặc WebP"),
    "html named jpg": (HOSTILE["html"], "anh.jpg", 400, "không phải ảnh JPEG, PNG hoặc WebP"),
    "pdf named jpg": (HOSTILE["pdf"], "anh.jpg", 400, "không phải ảnh JPEG, PNG hoặc WebP"),
    "empty file": (b"", "anh.jpg", 400, "Tệp ảnh trống"),
}


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_bad_uploads_are_refused_next_to_the_field_and_leave_nothing(world, kind):
    data, filename, status, message = BAD_UPLOADS[kind]
    response = upload(world["client"], world["draft"], data, filename=filename)
    assert response.status_code == status
    assert message in error_next_to_field(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert counts(world["storage"]) == (0, 0, 0)


@pytest.mark.parametrize("kind", ["decompression bomb png", "svg named jpg"])
def test_bad_uploads_refused_to_a_script_in_json(world, kind):
    data, filename, status, message = BAD_UPLOADS[kind]
    response = upload(
        world["client"], world["draft"], data, filename, headers={"Accept": "application/json"}
    )
    assert response.status_code == status
    assert message in response.json["message"]
    assert counts(world["storage"]) == (0, 0, 0)


def test_no_file_chosen_is_refused(world):
    client, product = world["client"], world["draft"]
    token = csrf_token(client, page_url(product))
    response = client.post(
        page_url(product) + "/tai-len",
        data={"csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Hãy chọn một tấm ảnh" in error_next_to_field(response)


SEVENTEEN_MB = 17 * 1024 * 1024


def big_body(token: str) -> tuple[bytes, str]:
    boundary = "----anh-qua-lon"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token}\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="anh-to.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"\xff\xd8\xff"
        + b"\0" * SEVENTEEN_MB
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_body_over_16_mb_is_413_with_the_message_by_the_field(world, accept):
    client, product = world["client"], world["draft"]
    body, content_type = big_body(csrf_token(client, page_url(product)))
    response = client.post(
        page_url(product) + "/tai-len",
        data=body,
        content_type=content_type,
        headers={"Accept": accept},
    )
    assert response.status_code == 413
    if accept == "application/json":
        assert response.json["message"].startswith("Ảnh quá lớn (tối đa 15 MB)")
    else:
        assert error_next_to_field(response).startswith("Ảnh quá lớn (tối đa 15 MB)")
        assert NAME in page_text(response)
    assert counts(world["storage"]) == (0, 0, 0)


def test_a_body_over_16_mb_for_someone_elses_product_gets_the_plain_413_page(world):
    client = world["client"]
    body, content_type = big_body(csrf_token(client, page_url(world["draft"])))
    response = client.post(
        page_url(world["other"]) + "/tai-len", data=body, content_type=content_type
    )
    assert response.status_code == 413
    text = page_text(response)
    assert "Ảnh quá lớn (tối đa 15 MB)" in text
    assert "Sản phẩm của B" not in text


def test_the_eleventh_photo_is_refused_with_a_clear_message_and_leaves_nothing(world):
    client, product, storage = world["client"], world["draft"], world["storage"]
    give_photos(world, product, 10)
    before = counts(storage)
    page = client.get(page_url(product))
    assert "Sản phẩm đã có đủ 10 ảnh. Xóa bớt ảnh trước khi thêm." in page_text(page)
    response = upload(client, product, photo((1, 2, 3)))
    assert response.status_code == 409
    assert "tối đa 10 ảnh" in error_next_to_field(response)
    assert counts(storage) == before
    json_answer = upload(client, product, photo((1, 2, 3)), headers={"Accept": "application/json"})
    assert json_answer.status_code == 409
    assert "tối đa 10 ảnh" in json_answer.json["message"]
    assert counts(storage) == before


# --------------------------------------------------------------------------- order, cover, alt


def test_save_order_reorders_the_photos(world):
    a, b, c = give_photos(world, world["draft"], 3)
    client, product = world["client"], world["draft"]
    token = csrf_token(client, page_url(product))
    response = client.post(
        page_url(product) + "/thu-tu",
        data={"csrf_token": token, "order": [str(c.id), str(a.id), str(b.id)]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json["message"] == "Đã lưu thứ tự ảnh."
    assert live_ids(product) == [c.id, a.id, b.id]


@pytest.mark.parametrize(
    "order, status",
    [
        (lambda a, b, c: [a, b], 409),  # a photo missing: the page was stale
        (lambda a, b, c: [a, b, c, 999999], 409),
        (lambda a, b, c: [a, b, "ba"], 400),
        (lambda a, b, c: [], 400),
    ],
)
def test_a_bad_order_changes_nothing(world, order, status):
    a, b, c = give_photos(world, world["draft"], 3)
    client, product = world["client"], world["draft"]
    token = csrf_token(client, page_url(product))
    response = client.post(
        page_url(product) + "/thu-tu",
        data={"csrf_token": token, "order": [str(x) for x in order(a.id, b.id, c.id)]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == status
    assert live_ids(product) == [a.id, b.id, c.id]


def test_move_up_and_down_without_javascript(world):
    a, b, c = give_photos(world, world["draft"], 3)
    client, product = world["client"], world["draft"]
    response = post(client, product, "di-chuyen", {"image_id": c.id, "direction": "up"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#anh-{c.id}")
    assert live_ids(product) == [a.id, c.id, b.id]
    post(client, product, "di-chuyen", {"image_id": a.id, "direction": "up"})
    assert live_ids(product) == [a.id, c.id, b.id]  # already first
    post(client, product, "di-chuyen", {"image_id": a.id, "direction": "down"})
    assert live_ids(product) == [c.id, a.id, b.id]
    assert "Đã đổi thứ tự ảnh." in page_text(client.get(page_url(product)))
    bad = post(client, product, "di-chuyen", {"image_id": a.id, "direction": "sideways"})
    assert bad.status_code == 400


def test_set_cover_and_remove(world):
    a, b, c = give_photos(world, world["draft"], 3)
    client, product = world["client"], world["draft"]
    assert post(client, product, "anh-bia", {"image_id": c.id}).status_code == 302
    assert live_ids(product) == [c.id, a.id, b.id]
    assert post(client, product, "xoa", {"image_id": a.id}).status_code == 302
    assert live_ids(product) == [c.id, b.id]
    assert "Đã xóa ảnh." in page_text(client.get(page_url(product)))
    # The stored image stays (another product may show it); `media gc` handles files only.
    assert db.session.get(StoredImage, a.id) is not None


def test_alt_text_is_saved_and_the_name_stays_the_default(world):
    (a,) = give_photos(world, world["draft"], 1)
    client, product = world["client"], world["draft"]
    response = post(
        client,
        product,
        "mo-ta",
        {"image_id": a.id, "alt_vi": "Bình gốm men rạn màu ngọc", "alt_en": "Celadon vase"},
    )
    assert response.status_code == 302
    row = live_rows(product)[0]
    assert (row.alt_vi, row.alt_en) == ("Bình gốm men rạn màu ngọc", "Celadon vase")
    # Sent back as shown by default (the product's name, no English): no alt text stored.
    post(client, product, "mo-ta", {"image_id": a.id, "alt_vi": NAME, "alt_en": ""})
    row = live_rows(product)[0]
    assert (row.alt_vi, row.alt_en) == (None, None)
    too_long = post(client, product, "mo-ta", {"image_id": a.id, "alt_vi": "x" * 256})
    assert too_long.status_code == 303
    assert "tối đa 255 ký tự" in page_text(client.get(page_url(product)))
    assert live_rows(product)[0].alt_vi is None


# --------------------------------------------------------------------------- live products


def test_photos_of_a_live_product_wait_for_review_and_buyers_keep_the_old_ones(world):
    client, product = world["client"], world["live"]
    old_a, old_b = stored(1, world["app"]), stored(2, world["app"])
    for position, image in enumerate((old_a, old_b)):
        db.session.add(ProductImage(product_id=product.id, image_id=image.id, position=position))
    db.session.commit()

    page = client.get(page_url(product))
    assert "chờ Liên minh HTX duyệt" in page_text(page)
    response = upload(client, product, photo((10, 150, 60)))
    assert response.status_code == 302
    assert "Người mua sẽ thấy thay đổi sau khi Liên minh HTX duyệt." in page_text(
        client.get(page_url(product))
    )
    new = db.session.scalar(select(StoredImage).order_by(StoredImage.id.desc()))
    post(client, product, "anh-bia", {"image_id": new.id})

    assert live_ids(product) == [old_a.id, old_b.id]
    revision = db.session.scalar(select(ProductRevision))
    assert [item["image_id"] for item in revision.images] == [new.id, old_a.id, old_b.id]
    editing = client.get(page_url(product)).get_data(as_text=True)
    assert editing.index(f'id="anh-{new.id}"') < editing.index(f'id="anh-{old_a.id}"')

    public = world["app"].test_client().get(f"/san-pham/{product.slug}")
    html = public.get_data(as_text=True)
    assert new.sha256 not in html
    assert f"/media/{old_a.sha256}/800.webp" in html

    services.approve_revision(fresh(revision), world["staff"])
    db.session.commit()
    html = world["app"].test_client().get(f"/san-pham/{product.slug}").get_data(as_text=True)
    assert f'src="/media/{new.sha256}/800.webp"' in html


def test_an_archived_product_refuses_uploads(world):
    product = fresh(world["draft"])
    product.status = ProductStatus.ARCHIVED
    db.session.commit()
    client = world["client"]
    page = client.get(page_url(product))
    assert "Sản phẩm đã lưu trữ" in page_text(page)
    token = csrf_token(client, f"/quan-ly-htx/san-pham/{world['live'].id}/anh")
    response = client.post(
        page_url(product) + "/tai-len",
        data={"csrf_token": token, "photo": (io.BytesIO(photo()), "anh.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert counts(world["storage"]) == (0, 0, 0)


# --------------------------------------------------------------------------- who may


ACTIONS = [
    ("GET", "", {}),
    ("POST", "/tai-len", {"photo": "file"}),
    ("POST", "/xoa", {"image_id": "mine"}),
    ("POST", "/anh-bia", {"image_id": "mine"}),
    ("POST", "/di-chuyen", {"image_id": "mine", "direction": "up"}),
    ("POST", "/thu-tu", {"order": "mine"}),
    ("POST", "/mo-ta", {"image_id": "mine", "alt_vi": "Đổi trộm"}),
]


def send(client, method, url, data, image_id, token):
    if method == "GET":
        return client.get(url)
    values = {"csrf_token": token}
    for key, value in data.items():
        if value == "file":
            values[key] = (io.BytesIO(photo((0, 0, 255))), "anh.jpg")
        elif value == "mine":
            values[key] = str(image_id)
        else:
            values[key] = value
    return client.post(url, data=values, content_type="multipart/form-data")


@pytest.mark.parametrize("method, action, data", ACTIONS, ids=[a[1] or "page" for a in ACTIONS])
def test_a_member_of_another_cooperative_gets_404_and_changes_nothing(world, method, action, data):
    product = world["draft"]
    (image,) = give_photos(world, product, 1)
    before = counts(world["storage"])
    intruder = world["app"].test_client()
    sign_in(intruder, world["owner_b"])
    token = csrf_token(intruder, page_url(world["other"]))
    response = send(intruder, method, page_url(product) + action, data, image.id, token)
    assert response.status_code == 404
    assert counts(world["storage"]) == before
    assert live_rows(product)[0].alt_vi is None


@pytest.mark.parametrize("method, action, data", ACTIONS, ids=[a[1] or "page" for a in ACTIONS])
def test_anonymous_visitors_are_sent_to_login(world, method, action, data):
    product = world["draft"]
    (image,) = give_photos(world, product, 1)
    anonymous = world["app"].test_client()
    token = csrf_token(anonymous)
    response = send(anonymous, method, page_url(product) + action, data, image.id, token)
    assert response.status_code == 302
    assert "/tai-khoan/dang-nhap" in response.headers["Location"]


@pytest.mark.parametrize("action", ["/xoa", "/anh-bia", "/di-chuyen", "/mo-ta"])
def test_a_photo_id_of_another_product_is_404(world, action):
    client, product = world["client"], world["draft"]
    give_photos(world, product, 1)
    foreign = stored(50, world["app"])
    services.add_photo(fresh(world["other"]), world["owner_b"], foreign)
    db.session.commit()
    response = post(client, product, action.strip("/"), {"image_id": foreign.id, "direction": "up"})
    assert response.status_code == 404
    assert [p.image_id for p in services.photos_of(world["other"])] == [foreign.id]


def test_an_unknown_product_id_is_404(world):
    assert world["client"].get("/quan-ly-htx/san-pham/987654/anh").status_code == 404


# --------------------------------------------------------------------------- buyers' pages


def publish_with_photos(world, n: int, **alts) -> tuple[Product, list[StoredImage]]:
    product = world["live"]
    images = [stored(i + 1, world["app"]) for i in range(n)]
    for position, image in enumerate(images):
        db.session.add(
            ProductImage(product_id=product.id, image_id=image.id, position=position, **alts)
        )
    db.session.commit()
    return product, images


def test_the_product_page_shows_the_cover_large_with_srcset_and_thumbnails(world):
    product, (cover, second) = publish_with_photos(world, 2)
    response = world["app"].test_client().get(f"/san-pham/{product.slug}")
    html = response.get_data(as_text=True)
    main = re.search(r'<a class="gallery-main" href="([^"]+)"[^>]*>\s*<img ([^>]+)>', html)
    assert main, "no large cover"
    assert main.group(1) == f"/media/{cover.sha256}/1600.webp"
    attrs = main.group(2)
    assert f'src="/media/{cover.sha256}/800.webp"' in attrs
    assert f"/media/{cover.sha256}/320.webp 160w" in attrs  # a 160 px master: one real width
    assert 'sizes="' in attrs
    assert 'width="160" height="120"' in attrs
    assert 'alt="Chum gốm 20 lít"' in attrs  # no alt text: the product's name
    thumbs = re.findall(r'<li><a href="(/media/[^"]+)"', html)
    assert thumbs == [
        f"/media/{cover.sha256}/1600.webp",
        f"/media/{second.sha256}/1600.webp",
    ]
    assert "/static/js/gallery.js" in html
    assert "/static/img/ph/" not in html.split('class="product-media"')[1].split("</div>")[0]


def test_alt_text_follows_the_language_with_the_name_as_fallback(world):
    product, _ = publish_with_photos(world, 1, alt_vi="Chum sành men nâu")
    client = world["app"].test_client()
    vi = client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    assert 'alt="Chum sành men nâu"' in vi
    product = fresh(product)
    product.name_en = "20-litre stoneware jar"
    db.session.commit()
    en = client.get(f"/san-pham/{product.slug}?lang=en").get_data(as_text=True)
    assert 'alt="20-litre stoneware jar"' in en
    row = live_rows(product)[0]
    row.alt_en = "Brown-glazed stoneware jar"
    db.session.commit()
    en = client.get(f"/san-pham/{product.slug}?lang=en").get_data(as_text=True)
    assert 'alt="Brown-glazed stoneware jar"' in en


def test_cards_show_the_cover_lazily_or_the_placeholder(world):
    product, (cover, _second) = publish_with_photos(world, 2)
    bare = create_product(world["coop_a"], name_vi="Lọ gốm chưa có ảnh")
    db.session.commit()
    html = world["app"].test_client().get(f"/htx/{world['coop_a'].slug}").get_data(as_text=True)
    cards = {
        name: card
        for card in re.findall(r'<article class="card product-card">.*?</article>', html, re.S)
        for name in [re.search(r'class="card-link"[^>]*>([^<]+)<', card).group(1)]
    }
    with_photo = cards["Chum gốm 20 lít"]
    assert f'src="/media/{cover.sha256}/320.webp"' in with_photo
    assert 'loading="lazy"' in with_photo
    assert "srcset=" in with_photo and "sizes=" in with_photo
    assert 'width="160" height="120"' in with_photo
    assert "/static/img/ph/" in cards[bare.name_vi]


def test_card_srcset_lists_320_and_800(world):
    product = world["live"]
    with world["app"].test_request_context():
        image = store_image(jpeg((1000, 750)))
        db.session.commit()
    db.session.add(ProductImage(product_id=product.id, image_id=image.id, position=0))
    db.session.commit()
    html = world["app"].test_client().get("/san-pham").get_data(as_text=True)
    assert (
        f'srcset="/media/{image.sha256}/320.webp 320w, /media/{image.sha256}/800.webp 800w"' in html
    )


def test_a_pending_revisions_photos_never_reach_buyers(world):
    client, product = world["client"], world["live"]
    upload(client, product, photo((90, 90, 200)))
    image = db.session.scalar(select(StoredImage))
    buyer = world["app"].test_client()
    for url in (f"/san-pham/{product.slug}", "/san-pham", f"/htx/{world['coop_a'].slug}"):
        assert image.sha256 not in buyer.get(url).get_data(as_text=True), url


# --------------------------------------------------------------------------- statement counts


def test_statement_counts_stay_flat_with_photos_and_logos(blank_db, media_storage, count_queries):
    with blank_db.test_request_context():
        images = [store_image(photo((i * 40, 90, 200 - i * 30), (120, 90))) for i in range(4)]
        db.session.commit()
    load_taxonomy()
    db.session.commit()
    # The catalogue reads the vocabularies once and keeps them while they stand: read here, so
    # both measures below find them kept.
    assert blank_db.test_client().get("/san-pham").status_code == 200
    coops = [create_cooperative() for _ in range(2)]
    for coop in coops:
        coop.logo_image_id = images[0].id
        coop.cover_image_id = images[1].id

    def grow(count):
        made = []
        for i in range(count):
            product = create_product(coops[i % len(coops)])
            for position in range(i % 3):
                db.session.add(
                    ProductImage(
                        product_id=product.id, image_id=images[position].id, position=position
                    )
                )
            made.append(product)
        db.session.commit()
        return made

    first = grow(10)[1]
    urls = {
        "home": "/",
        "catalogue": "/san-pham",
        "product": f"/san-pham/{first.slug}",
        "directory": "/htx",
        "cooperative": f"/htx/{coops[0].slug}",
    }
    client = blank_db.test_client()

    def measure():
        found = {}
        for name, url in urls.items():
            with count_queries() as counter:
                response = client.get(url)
            assert response.status_code == 200, name
            found[name] = counter.count
        return found

    small = measure()
    coops += [create_cooperative(logo_image_id=images[2].id) for _ in range(6)]
    grow(60)
    assert measure() == small
