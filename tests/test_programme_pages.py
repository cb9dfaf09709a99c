"""Public programme pages: the list by timing, the floor plan with zones and a legend, the booth
list filtered by sector, the booth page's livestream (live now, else the next slot), and the
featured products that went away."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import select, update

from shop.accounts.models import Role
from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus, Sector
from shop.extensions import db
from shop.notify.messages import VIETNAM
from shop.programmes.models import Booth, BoothProduct, BoothSlot, Programme, ProgrammeStatus
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import sign_in

DEMO_2027 = "tuan-hang-htx-ocop-bac-ninh-xuan-2027"
DEMO_2022 = "tong-ket-2022-lien-minh-htx-bac-ninh-trung-bay-san-pham"
ZONES_2027 = ["Đặc sản & quà OCOP", "Làng nghề, hoa – cây cảnh", "Nông sản sạch"]


def get(client, url, lang="vi", status=200) -> str:
    refresh()
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang={lang}")
    assert response.status_code == status, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def plan_of(page: str) -> str:
    return page[page.index("<svg") : page.index("</svg>")]


def table_of(page: str) -> str:
    return page[page.index('id="booth-list"') : page.index("</table>")]


# --------------------------------------------------------------------------- the list


def test_demo_2027_is_open_for_applications_with_zones(client):
    programme = db.session.scalar(select(Programme).where(Programme.slug == DEMO_2027))
    assert programme.status == ProgrammeStatus.OPEN
    assert programme.zones == ZONES_2027
    assert (programme.plan_columns, programme.plan_rows) == (6, 3)
    ten = db.session.scalar(
        select(Booth).where(Booth.programme_id == programme.id, Booth.number == 10)
    )
    assert (ten.zone, ten.plan_column, ten.plan_row) == (ZONES_2027[1], 5, 1)


def test_list_groups_programmes_by_timing(client):
    create_programme(
        title_vi="Hội chợ đã lưu trữ dù ngày còn tới",
        status=ProgrammeStatus.ARCHIVED,
        start_date=date(2027, 6, 1),
        end_date=date(2027, 6, 2),
    )
    create_programme(title_vi="Chương trình nháp bí mật", status=ProgrammeStatus.DRAFT)
    create_programme(  # around the pinned day, 26/11/2026
        title_vi="Phiên chợ đang diễn ra",
        title_en="Market on now",
        start_date=date(2026, 11, 25),
        end_date=date(2026, 11, 27),
    )
    db.session.commit()
    page = get(client, "/chuong-trinh")
    upcoming, past = page.index("Sắp diễn ra"), page.index("Đã diễn ra")
    # What is on now comes first.
    assert page.index("Đang diễn ra") < page.index("Phiên chợ đang diễn ra") < upcoming
    assert upcoming < page.index("Tuần hàng HTX & OCOP Bắc Ninh – Xuân Đinh Mùi 2027") < past
    assert past < page.index("Tổng kết năm 2022 của Liên minh HTX tỉnh Bắc Ninh")
    assert past < page.index("Hội chợ đã lưu trữ dù ngày còn tới")
    assert "Chương trình nháp bí mật" not in page
    card = page[page.index("Xuân Đinh Mùi 2027") : page.index("Đã diễn ra")]
    assert "Đang nhận đăng ký gian hàng" in card and "hạn 28/02/2027" in card
    english = get(client, "/chuong-trinh", "en")
    assert "Open for booth applications" in english and "deadline 28/02/2027" in english
    assert english.index("Ongoing") < english.index("Market on now") < english.index("Upcoming")


# --------------------------------------------------------------------------- the plan


def test_plan_colours_and_labels_zones_with_a_legend(client, demo):
    page = get(client, f"/chuong-trinh/{DEMO_2027}")
    plan = plan_of(page)
    coops = {c["slug"]: c for c in demo["cooperatives"]}
    event = next(e for e in demo["events"] if e["slug"] == DEMO_2027)
    for booth in event["booths"]:
        name = coops[booth["cooperative"]]["name"]
        zone = ZONES_2027.index(booth["zone"])
        url = f"/chuong-trinh/{DEMO_2027}/gian-hang/{booth['number']}"
        link = re.search(
            rf'<a href="{url}" aria-label="Gian hàng số {booth["number"]}: {re.escape(name)}">'
            rf"\s*<title>[^<]*</title>\s*"
            rf'<rect class="booth zone-{zone}"',
            plan,
        )
        assert link, booth["number"]
    assert 'class="plan-caption"' in plan and "Nông sản sạch" in plan
    # The legend names every zone beside its colour; the page says the booth is open.
    legend = page[page.index('class="plan-legend"') :]
    legend = legend[: legend.index("</ul>")]
    for index, zone in enumerate(ZONES_2027):
        assert f'<span class="swatch zone-{index}" aria-hidden="true"></span> {zone}' in legend
    assert "Đang nhận đăng ký gian hàng" in page
    # 6 × 3 cells: 10 booths and 8 empty slots.
    assert plan.count('class="slot"') == 8
    english = get(client, f"/chuong-trinh/{DEMO_2027}", "en")
    assert 'aria-label="Zones"' in english and "Zone: Nông sản sạch" in english


def test_plan_without_zones_keeps_sector_colours_and_a_sector_legend(client):
    page = get(client, f"/chuong-trinh/{DEMO_2022}")
    assert 'class="booth sector-' in plan_of(page) and "zone-" not in plan_of(page)
    legend = page[page.index('class="plan-legend"') :]
    assert 'aria-label="Lĩnh vực"' in legend[:200]
    assert "Tiểu thủ công nghiệp" in legend[: legend.index("</ul>")]


def test_booth_list_filtered_by_sector(client):
    url = f"/chuong-trinh/{DEMO_2027}"
    everything = table_of(get(client, url))
    assert everything.count("<tr>") == 1 + 10
    farming = table_of(get(client, f"{url}?linh_vuc=nong-nghiep"))
    crafts = table_of(get(client, f"{url}?linh_vuc=tieu-thu-cong-nghiep"))

    def rows(table):
        return len(re.findall(r'<th scope="row">', table))

    assert rows(farming) + rows(crafts) <= 10 and rows(farming) and rows(crafts)
    assert "Tiểu thủ công nghiệp" not in farming.split("</thead>")[1]
    assert f"· {rows(farming)} gian hàng" in farming
    page = get(client, f"{url}?linh_vuc=nong-nghiep")
    assert '<option value="nong-nghiep" selected>' in page
    assert 'class="booth zone-' in plan_of(page) and " dim" in plan_of(page)
    # The sectors offered are the booths' own; an unknown one is ignored.
    assert 'value="quy-tin-dung-nhan-dan"' not in page
    assert table_of(get(client, f"{url}?linh_vuc=khong-co")) == everything
    assert table_of(get(client, f"{url}?linh_vuc=%00")) == everything
    english = get(client, f"{url}?linh_vuc=nong-nghiep", "en")
    assert "Filter booths by sector" in english and "All sectors" in english


# --------------------------------------------------------------------------- the booth page


@pytest.fixture
def live_fair(client):
    """A published programme around today (real time) with one booth and its livestream."""
    today = datetime.now(UTC).date()
    programme = create_programme(
        slug="cho-phat-truc-tiep",
        start_date=today - timedelta(days=1),
        end_date=today + timedelta(days=1),
    )
    coop = create_cooperative(name="HTX Phát Trực Tiếp")
    products = [create_product(coop) for _ in range(3)]
    booth = create_booth(programme, 5, coop, products)
    booth.livestream_url = "https://www.facebook.com/htxphattructiep/live"
    db.session.commit()
    return booth


def add_slot(booth, start: datetime, hours=1, title="Nếm thử mật ong"):
    db.session.add(
        BoothSlot(
            booth_id=booth.id,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            title_vi=title,
            title_en="Honey tasting",
        )
    )
    db.session.commit()


URL = "/chuong-trinh/cho-phat-truc-tiep/gian-hang/5"


def test_livestream_is_live_while_a_slot_runs(client, live_fair):
    now = datetime.now(UTC).replace(microsecond=0)
    add_slot(live_fair, now - timedelta(minutes=30))
    add_slot(live_fair, now + timedelta(hours=5), title="Phát trực tiếp buổi tối")
    page = get(client, URL)
    section = page[page.index('class="booth-live is-live"') :]
    assert "Đang phát trực tiếp" in section and "Nếm thử mật ong" in section
    assert (
        'class="button button-primary" href="https://www.facebook.com/htxphattructiep/live"'
        in section
    )
    assert "Xem phát trực tiếp" in section
    assert "Phát trực tiếp buổi tối" in section  # the schedule lists every slot
    english = get(client, URL, "en")
    assert "Live now" in english and "Honey tasting" in english


def test_livestream_shows_the_next_slot_otherwise(client, live_fair):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    add_slot(live_fair, start)
    page = get(client, URL)
    assert "is-live" not in page and "Đang phát trực tiếp" not in page
    local = start.astimezone(VIETNAM)
    assert f"Lần tiếp theo: Nếm thử mật ong · <time>{local:%d/%m/%Y %H:%M}" in page
    assert "Kênh phát trực tiếp của gian hàng" in page
    assert "Next:" in get(client, URL, "en")


def test_no_livestream_section_without_link_or_slots(client, live_fair):
    live_fair.livestream_url = None
    db.session.commit()
    assert "booth-live" not in get(client, URL)


def test_featured_products_that_went_away_leave_the_booth(client):
    programme = db.session.scalar(select(Programme).where(Programme.slug == DEMO_2027))
    one = db.session.scalar(
        select(Booth).where(Booth.programme_id == programme.id, Booth.number == 1)
    )
    featured = db.session.scalars(
        select(Product)
        .join(BoothProduct, BoothProduct.product_id == Product.id)
        .where(BoothProduct.booth_id == one.id)
        .order_by(BoothProduct.position)
    ).all()
    url = f"/chuong-trinh/{DEMO_2027}/gian-hang/1"
    assert f'/san-pham/{featured[0].slug}"' in get(client, url)
    db.session.execute(
        update(Product).where(Product.id == featured[0].id).values(status=ProductStatus.ARCHIVED)
    )
    db.session.commit()
    page = get(client, url)
    assert f'/san-pham/{featured[0].slug}"' not in page
    assert f'/san-pham/{featured[1].slug}"' in page
    db.session.execute(
        update(Cooperative)
        .where(Cooperative.id == one.cooperative_id)
        .values(status=CooperativeStatus.SUSPENDED)
    )
    db.session.commit()
    get(client, url, status=404)
    table = table_of(get(client, f"/chuong-trinh/{DEMO_2027}"))
    assert "Gian hàng trống" in table and 'gian-hang/1"' not in table


# --------------------------------------------------------------------------- statements per page


def test_public_programme_page_statements_do_not_grow_from_3_to_30_booths(client, count_queries):
    programme = create_programme(
        slug="cho-dem-truy-van", plan_columns=10, plan_rows=3, zones=["A", "B", "C"]
    )
    sectors = db.session.scalars(select(Sector).order_by(Sector.sort_order)).all()

    def add_booths(numbers):
        for number in numbers:
            coop = create_cooperative(sector=sectors[number % 3])
            booth = create_booth(programme, number, coop, [create_product(coop) for _ in range(3)])
            booth.zone = "ABC"[number % 3]
            booth.plan_column, booth.plan_row = (number - 1) % 10 + 1, (number - 1) // 10 + 1
        db.session.commit()

    urls = [
        "/chuong-trinh/cho-dem-truy-van",
        f"/chuong-trinh/cho-dem-truy-van?linh_vuc={sectors[1].slug}",
        "/chuong-trinh",
        "/chuong-trinh/cho-dem-truy-van/gian-hang/1",
    ]

    def measure():
        result = {}
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            result[url] = counter.count
        return result

    add_booths(range(1, 4))
    small = measure()
    add_booths(range(4, 31))
    assert measure() == small


# --------------------------------------------------------------------------- the way to apply


def test_an_open_programme_shows_cooperatives_the_way_to_apply(client):
    url = f"/chuong-trinh/{DEMO_2027}"
    apply = f'href="/quan-ly-htx/chuong-trinh/{DEMO_2027}/dang-ky"'
    page = get(client, url)
    assert f"{apply}>Hợp tác xã: đăng ký gian hàng</a>" in page
    assert "Cooperatives: apply for a booth" in get(client, url, "en")
    # Anyone not signed in is asked to sign in first, then lands on the form.
    response = client.get(f"/quan-ly-htx/chuong-trinh/{DEMO_2027}/dang-ky")
    assert response.status_code == 302 and "/tai-khoan/dang-nhap" in response.headers["Location"]
    # A member goes straight to the form.
    member = create_user(cooperative=create_cooperative(name="HTX Muốn Đăng Ký"))
    db.session.commit()
    sign_in(client, member)
    assert apply in get(client, url)
    form = get(client, f"/quan-ly-htx/chuong-trinh/{DEMO_2027}/dang-ky")
    assert "Gửi đơn đăng ký" in form
    # Buyers and staff have no form to go to.
    for role in (Role.BUYER, Role.STAFF):
        sign_in(client, create_user(role))
        db.session.commit()
        assert apply not in get(client, url)


def test_no_way_to_apply_once_the_deadline_passed_or_applications_stop(client):
    url = f"/chuong-trinh/{DEMO_2027}"
    programme = db.session.scalar(select(Programme).where(Programme.slug == DEMO_2027))
    programme.registration_deadline = date(2026, 11, 25)  # the pinned today is 26/11/2026
    db.session.commit()
    assert "dang-ky" not in get(client, url)
    programme.registration_deadline = date(2027, 2, 28)
    programme.status = ProgrammeStatus.PUBLISHED
    db.session.commit()
    assert "dang-ky" not in get(client, url)
    assert "Hợp tác xã: đăng ký gian hàng" not in get(client, f"/chuong-trinh/{DEMO_2022}")
