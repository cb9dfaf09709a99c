"""The cooperative's logo and cover photo: uploaded on the dashboard profile, shown to buyers."""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import ProductStatus
from shop.cooperatives.models import Cooperative, MembershipRole
from shop.extensions import db
from shop.media.models import StoredImage
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_media_images import HOSTILE, encoded, png_header_only

PROFILE = "/quan-ly-htx/ho-so"


@pytest.fixture
def world(blank_db, media_storage):
    load_taxonomy()
    coop = create_cooperative(name="HTX Gốm Phù Lãng Thử", slug="htx-gom-phu-lang-thu")
    other = create_cooperative(name="HTX Khác", slug="htx-khac")
    owner = create_user(cooperative=coop)
    editor = create_user(cooperative=coop, membership_role=MembershipRole.EDITOR)
    owner_other = create_user(cooperative=other)
    create_product(coop, status=ProductStatus.PUBLISHED, name_vi="Chum gốm")
    db.session.commit()
    client = blank_db.test_client()
    sign_in(client, owner)
    return {
        "app": blank_db,
        "client": client,
        "storage": media_storage,
        "coop": coop,
        "other": other,
        "owner": owner,
        "editor": editor,
        "owner_other": owner_other,
    }


def picture(size=(900, 600), color=(30, 110, 60)) -> bytes:
    image = Image.new("RGB", size, color)
    image.paste((240, 200, 40), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    return encoded(image, "JPEG", quality=90)


def upload(client, path: str, data: bytes, filename="anh.jpg", **kwargs):
    token = csrf_token(client, PROFILE)
    return client.post(
        f"{PROFILE}/{path}",
        data={"csrf_token": token, "photo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        **kwargs,
    )


def remove(client, path: str):
    return client.post(f"{PROFILE}/{path}/xoa", data={"csrf_token": csrf_token(client, PROFILE)})


def coop_row(world, key="coop") -> Cooperative:
    return db.session.get(Cooperative, world[key].id)


def image_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredImage))


def test_the_profile_page_offers_both_uploads(world):
    response = world["client"].get(PROFILE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label for="logo-photo">Chọn ảnh logo</label>' in html
    assert '<label for="cover-photo">Chọn ảnh bìa</label>' in html
    assert html.count('enctype="multipart/form-data"') == 2
    text = page_text(response)
    assert "Chưa có logo." in text and "Chưa có ảnh bìa." in text
    assert "Tải logo lên" in text and "Tải ảnh bìa lên" in text


def test_upload_replace_and_remove_the_logo(world):
    client = world["client"]
    response = upload(client, "logo", picture((400, 400)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{PROFILE}#anh-ho-so")
    first = coop_row(world).logo_image_id
    assert first is not None
    page = client.get(PROFILE)
    text = page_text(page)
    assert "Đã cập nhật logo." in text
    assert "Thay logo" in text and "Xóa logo" in text
    logo = db.session.get(StoredImage, first)
    assert f"/media/{logo.sha256}/320.webp" in page.get_data(as_text=True)

    upload(client, "logo", picture((400, 400), color=(200, 30, 30)))
    second = coop_row(world).logo_image_id
    assert second not in (None, first)

    assert remove(client, "logo").status_code == 302
    assert coop_row(world).logo_image_id is None
    assert "Đã xóa logo." in page_text(client.get(PROFILE))
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("cooperative.logo%"))
    ).all()
    assert actions == ["cooperative.logo_set", "cooperative.logo_set", "cooperative.logo_removed"]


def test_upload_and_remove_the_cover_photo(world):
    client = world["client"]
    assert upload(client, "anh-bia", picture((2400, 1200))).status_code == 302
    cover = db.session.get(StoredImage, coop_row(world).cover_image_id)
    assert (cover.width, cover.height) == (2048, 1024)
    assert coop_row(world).logo_image_id is None
    assert remove(client, "anh-bia").status_code == 302
    assert coop_row(world).cover_image_id is None


def test_an_editor_may_change_them_too(world):
    client = world["app"].test_client()
    sign_in(client, world["editor"])
    assert upload(client, "logo", picture()).status_code == 302
    assert coop_row(world).logo_image_id is not None


def test_a_script_gets_json_with_where_to_go(world):
    response = upload(world["client"], "logo", picture(), headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json == {
        "ok": True,
        "message": "Đã cập nhật logo.",
        "redirect": f"{PROFILE}#anh-ho-so",
    }


@pytest.mark.parametrize(
    "data, status, message",
    [
        (png_header_only(20000, 20000), 413, "40 megapixel"),
        (HOSTILE["svg"], 400, "không phải ảnh JPEG, PNG hoặc WebP"),
        (HOSTILE["pdf"], 400, "không phải ảnh JPEG, PNG hoặc WebP"),
        (b"", 400, "Tệp ảnh trống"),
    ],
    ids=["bomb", "svg", "pdf", "empty"],
)
@pytest.mark.parametrize("path, kind", [("logo", "logo"), ("anh-bia", "cover")])
def test_bad_uploads_are_refused_by_the_field_and_change_nothing(
    world, path, kind, data, status, message
):
    response = upload(world["client"], path, data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="field-error" id="{kind}-photo-error"[^>]*>(.*?)</p>', html, re.S)
    assert match and message in match.group(1)
    assert 'aria-invalid="true"' in html
    # The rest of the profile form still shows the saved values.
    assert 'value="0900 000 999"' in html
    assert image_count() == 0
    assert list(world["storage"].iter_keys()) == []
    row = coop_row(world)
    assert (row.logo_image_id, row.cover_image_id) == (None, None)


def test_a_bad_upload_refused_in_json(world):
    response = upload(
        world["client"], "logo", HOSTILE["html"], headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"] == "not_an_image"
    assert image_count() == 0


def test_a_member_changes_only_their_own_cooperative(world):
    client = world["app"].test_client()
    sign_in(client, world["owner_other"])
    assert upload(client, "logo", picture()).status_code == 302
    assert coop_row(world, "other").logo_image_id is not None
    assert coop_row(world).logo_image_id is None


@pytest.mark.parametrize("path", ["logo", "logo/xoa", "anh-bia", "anh-bia/xoa"])
def test_only_members_reach_the_image_routes(world, path):
    anonymous = world["app"].test_client()
    response = anonymous.post(f"{PROFILE}/{path}", data={"csrf_token": csrf_token(anonymous)})
    assert response.status_code == 302
    assert "/tai-khoan/dang-nhap" in response.headers["Location"]
    buyer = world["app"].test_client()
    sign_in(buyer, create_user(Role.BUYER))
    db.session.commit()
    response = buyer.post(f"{PROFILE}/{path}", data={"csrf_token": csrf_token(buyer)})
    assert response.status_code == 403


def test_buyers_see_the_logo_and_cover_with_srcset(world):
    client = world["client"]
    upload(client, "logo", picture((500, 500)))
    upload(client, "anh-bia", picture((1800, 600)))
    row = coop_row(world)
    logo = db.session.get(StoredImage, row.logo_image_id)
    cover = db.session.get(StoredImage, row.cover_image_id)
    buyer = world["app"].test_client()

    page = buyer.get(f"/htx/{row.slug}").get_data(as_text=True)
    cover_tag = re.search(r'<div class="coop-cover">\s*<img ([^>]+)>', page).group(1)
    assert f'src="/media/{cover.sha256}/800.webp"' in cover_tag
    assert f"/media/{cover.sha256}/1600.webp 1600w" in cover_tag
    assert 'sizes="' in cover_tag and 'width="800" height="267"' in cover_tag
    assert f'alt="Ảnh của {row.name}"' in cover_tag
    logo_tag = re.search(r'<img class="coop-logo coop-logo-large" ([^>]+)>', page).group(1)
    assert f"/media/{logo.sha256}/320.webp 320w" in logo_tag
    assert 'width="320" height="320"' in logo_tag

    directory = buyer.get("/htx").get_data(as_text=True)
    card = re.search(
        r'<article class="card coop-summary has-logo">(.*?)</article>', directory, re.S
    ).group(1)
    assert f'src="/media/{logo.sha256}/320.webp"' in card
    assert 'loading="lazy"' in card and "srcset=" in card
    assert row.name in card

    product_page = buyer.get("/san-pham/" + _product_slug(row)).get_data(as_text=True)
    assert f'src="/media/{logo.sha256}/320.webp"' in product_page


def test_without_pictures_the_pages_show_none(world):
    buyer = world["app"].test_client()
    page = buyer.get(f"/htx/{world['coop'].slug}").get_data(as_text=True)
    assert "coop-cover" not in page and "coop-logo" not in page
    assert "has-logo" not in buyer.get("/htx").get_data(as_text=True)


def _product_slug(coop) -> str:
    from shop.catalog.models import Product

    return db.session.scalar(select(Product.slug).where(Product.cooperative_id == coop.id))
