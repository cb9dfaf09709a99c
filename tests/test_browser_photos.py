"""A cooperative member adds photos to a product from a phone and drags them into order."""

import io
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from shop.media.images import MAX_BYTES
from tests.browser import log_in

pytestmark = pytest.mark.browser

PASSWORD = "men-gốm-lửa-củi-2026"
#: A verified demo cooperative that `users demo` does not use, and one of its products.
COOPERATIVE = "htx-gom-lua-cui-phu-lang-demo"
PRODUCT = "binh-gom-ve-hoa-sen-cao-40-cm"


@pytest.fixture
def member_phone(browser, live_server):
    """A phone-sized touch browser signed in as a new member of COOPERATIVE."""
    email = f"anh-{uuid.uuid4().hex[:8]}@gom-phu-lang.example"
    live_server.flask(
        "users",
        "create",
        email,
        "--role",
        "member",
        "--cooperative",
        COOPERATIVE,
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        has_touch=True,
    )
    page = context.new_page()
    log_in(page, email, PASSWORD)
    yield page
    context.close()


def product_id(database_url: str) -> int:
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT id FROM product WHERE slug = :slug"), {"slug": PRODUCT}
            ).scalar_one()
    finally:
        engine.dispose()


def huge_photo(path) -> int:
    """A 5000×3500 photo over the server's 15 MB limit: only the browser's copy can get in."""
    noise = Image.effect_noise((5000, 3500), 120).convert("RGB")
    tint = Image.new("RGB", noise.size, (190, 120, 60))
    Image.blend(noise, tint, 0.35).save(path, "JPEG", quality=100, subsampling=0)
    size = path.stat().st_size
    assert size > MAX_BYTES, size
    return size


def small_photo(path) -> None:
    image = Image.new("RGB", (1200, 900), (40, 110, 70))
    image.paste((230, 210, 160), (300, 200, 900, 700))
    image.save(path, "JPEG", quality=90)


def order(page) -> list[str]:
    return page.locator("[data-photo-list] > li").evaluate_all(
        "items => items.map(item => item.dataset.imageId)"
    )


def drag(page, source, target) -> None:
    """Press on `source`, move in small steps to the upper part of `target`, release."""
    target.scroll_into_view_if_needed()
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 4, steps=12)
    page.mouse.up()


def touch_drag(page, source, target) -> None:
    """The same with a finger: touch events, which Chromium turns into pointer events."""
    target.scroll_into_view_if_needed()
    source.scroll_into_view_if_needed()
    start, end = source.bounding_box(), target.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + end["height"] / 4
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    for step in range(1, 13):
        point = {"x": x0 + (x1 - x0) * step / 12, "y": y0 + (y1 - y0) * step / 12}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_upload_two_photos_then_drag_the_second_before_the_first(
    member_phone, live_server, tmp_path
):
    page = member_phone
    big, small = tmp_path / "binh-gom-12mp.jpg", tmp_path / "binh-gom-nho.jpg"
    original_size = huge_photo(big)
    small_photo(small)
    photos_url = f"/quan-ly-htx/san-pham/{product_id(live_server.database_url)}/anh"
    page.goto(photos_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bình gốm")
    expect(page.locator("main")).to_contain_text("chờ Liên minh HTX duyệt")  # a live product

    uploads = []
    page.on(
        "request",
        lambda request: uploads.append(request) if request.url.endswith("/anh/tai-len") else None,
    )
    progress = page.locator("[data-upload-progress] progress")
    expect(progress).to_be_hidden()
    page.get_by_label("Chọn ảnh").set_input_files([big, small])
    page.get_by_role("button", name="Tải ảnh lên").click()
    expect(progress).to_be_visible()
    status = page.locator("[data-upload-status]")
    expect(status).to_contain_text("Đã tải lên 2/2 ảnh.", timeout=30_000)
    expect(progress).to_have_attribute("value", "100")
    expect(page.locator("[data-photo-list] > li")).to_have_count(2)
    # The server refuses more than 15 MB: the big photo got in as the browser's smaller copy.
    assert len(uploads) == 2
    assert original_size > MAX_BYTES

    first, second = order(page)
    items = page.locator("[data-photo-list] > li")
    expect(items.first.locator(".cover-badge")).to_be_visible()

    handle = items.nth(1).get_by_role("button", name="Kéo để đổi vị trí ảnh 2")
    with page.expect_response(lambda r: r.url.endswith("/anh/thu-tu")) as saved:
        drag(page, handle, items.nth(0))
    assert saved.value.status == 200
    assert order(page) == [second, first]
    expect(page.get_by_text("Đã lưu thứ tự ảnh.")).to_be_visible()

    page.reload()
    assert order(page) == [second, first]
    expect(page.locator(f"#anh-{second} .cover-badge")).to_be_visible()
    expect(page.locator(f"#anh-{first} .cover-badge")).to_be_hidden()

    # With a finger on a touch screen, back again.
    with page.expect_response(lambda r: r.url.endswith("/anh/thu-tu")):
        touch_drag(
            page, page.locator(f"#anh-{first} [data-drag-handle]"), page.locator(f"#anh-{second}")
        )
    page.reload()
    assert order(page) == [first, second]

    # And from the keyboard: focus the handle, press an arrow key.
    handle = page.locator(f"#anh-{second} [data-drag-handle]")
    handle.focus()
    with page.expect_response(lambda r: r.url.endswith("/anh/thu-tu")):
        page.keyboard.press("ArrowUp")
        assert order(page) == [second, first]
        expect(handle).to_be_focused()
    page.reload()
    assert order(page) == [second, first]


def test_without_javascript_the_buttons_still_work(browser, live_server, tmp_path):
    email = f"khong-js-{uuid.uuid4().hex[:8]}@gom-phu-lang.example"
    live_server.flask(
        "users",
        "create",
        email,
        "--role",
        "member",
        "--cooperative",
        COOPERATIVE,
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        page.goto("/tai-khoan/dang-nhap")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        photos_url = f"/quan-ly-htx/san-pham/{product_id(live_server.database_url)}/anh"
        page.goto(photos_url)
        before = len(order(page))
        photo = tmp_path / "anh.png"
        buffer = io.BytesIO()
        Image.new("RGB", (640, 480), (uuid.uuid4().int % 256, 90, 160)).save(buffer, "PNG")
        photo.write_bytes(buffer.getvalue())
        page.get_by_label("Chọn ảnh").set_input_files(photo)
        page.get_by_role("button", name="Tải ảnh lên").click()
        expect(page.get_by_text("Đã thêm ảnh.")).to_be_visible()
        ids = order(page)
        assert len(ids) == before + 1
        expect(page.locator("[data-drag-handle]").first).to_be_hidden()
        page.get_by_role("button", name=f"Lên ảnh {len(ids)}").click()
        expect(page.get_by_text("Đã đổi thứ tự ảnh.")).to_be_visible()
        moved = order(page)
        assert moved[-2] == ids[-1]
    finally:
        context.close()
