"""Issue 7, item 6: "a featured product that is later archived or suspended disappears from the
booth and staff are told" — through the actions that really take products away, not by
editing rows: the member archives a product from its dashboard, staff take another down from a
buyer's report, staff suspend a cooperative from the console. Buyers stop seeing them at the
booth, on the printed kit and through the printed product codes; staff read which booths lost
what on the console's front page and on the programme and booth pages (Vietnamese and English),
and the notice goes away once staff choose other products."""

import html
from types import SimpleNamespace

import pytest
from flask_babel import refresh
from sqlalchemy import select

from shop.accounts.models import Role
from shop.extensions import db
from shop.moderation.models import CaseStatus, ModerationCase
from shop.programmes.models import ProgrammeStatus
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import csrf_token, page_text, post_form, sign_in

CONSOLE = "/quan-tri/chuong-trinh"


def get(client, url, lang="vi", status=200):
    refresh()
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang={lang}")
    assert response.status_code == status, (url, response.status_code)
    return response


def raw(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def text(response) -> str:
    return html.unescape(page_text(response))


def section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


@pytest.fixture
def fair(client):
    """A published programme: booth 3 shows four of cooperative A's five products, booth 8
    shows cooperative B's three."""
    programme = create_programme(
        title_vi="Phiên chợ sản phẩm rời gian hàng",
        title_en="Fair of products that left",
        slug="phien-cho-san-pham-roi-gian-hang",
        status=ProgrammeStatus.PUBLISHED,
    )
    coop_a = create_cooperative(name="HTX Rời Gian A")
    coop_b = create_cooperative(name="HTX Rời Gian B")
    products_a = [
        create_product(coop_a, name_vi=f"Chè rời gian {n}", slug=f"che-roi-gian-{n}")
        for n in range(5)
    ]
    products_b = [create_product(coop_b, name_vi=f"Mật ong rời gian {n}") for n in range(3)]
    create_booth(programme, 3, coop_a, products_a[:4])
    create_booth(programme, 8, coop_b, products_b)
    world = SimpleNamespace(
        programme=programme,
        coop_a=coop_a,
        coop_b=coop_b,
        products_a=products_a,
        products_b=products_b,
        member=create_user(cooperative=coop_a),
        staff=create_user(Role.STAFF),
    )
    db.session.commit()
    return world


def booth_url(fair, number) -> str:
    return f"/chuong-trinh/{fair.programme.slug}/gian-hang/{number}"


def console_booth(fair, number) -> str:
    return f"{CONSOLE}/{fair.programme.id}/gian-hang/{number}"


def link(product) -> str:
    return f'href="/san-pham/{product.slug}"'


def take_products_away(client, app, fair):
    """The member archives product 0; a buyer reports product 1 and staff take it down; staff
    suspend cooperative B. Each through its own page."""
    archived, taken_down = fair.products_a[0], fair.products_a[1]
    sign_in(client, fair.member)
    response = post_form(
        client,
        f"/quan-ly-htx/san-pham/{archived.id}/luu-tru",
        form_url=f"/quan-ly-htx/san-pham/{archived.id}",
    )
    assert response.status_code == 302

    buyer = app.test_client()
    report = f"/san-pham/{taken_down.slug}/bao-cao"
    response = buyer.post(
        report,
        data={
            "reason": "counterfeit",
            "details": "Nhãn giống hệt cơ sở khác.",
            "email": "",
            "csrf_token": csrf_token(buyer, report),
        },
        environ_base={"REMOTE_ADDR": "10.7.0.1"},
    )
    assert response.status_code == 200
    case = db.session.scalar(
        select(ModerationCase).where(
            ModerationCase.product_id == taken_down.id, ModerationCase.status == CaseStatus.OPEN
        )
    )
    sign_in(client, fair.staff)
    case_url = f"/quan-tri/bao-cao-san-pham/{case.id}"
    response = post_form(
        client,
        f"{case_url}/go-san-pham",
        {"unpublish-note": "Hàng nhái nhãn hiệu."},
        form_url=case_url,
    )
    assert response.status_code == 302

    response = post_form(
        client,
        f"/quan-tri/htx/{fair.coop_b.id}/tam-ngung",
        {"suspend-reason": "Đang xác minh phản ánh của người mua."},
        form_url=f"/quan-tri/htx/{fair.coop_b.id}",
    )
    assert response.status_code == 302
    return archived, taken_down


def test_products_taken_away_leave_the_booth_and_staff_are_told(client, demo_db, fair):
    a = fair.products_a
    page = raw(get(client, booth_url(fair, 3)))
    assert all(link(p) in page for p in a[:4]) and link(a[4]) not in page
    assert get(client, booth_url(fair, 8)).status_code == 200
    sign_in(client, fair.staff)
    assert "không còn hiển thị" not in text(get(client, "/quan-tri/"))

    archived, taken_down = take_products_away(client, demo_db, fair)

    # Buyers: the booth shows the two products still on sale; B's booth is gone and its cell
    # on the plan is empty; the printed code of an archived product leads to the booth.
    buyer = demo_db.test_client()
    page = raw(get(buyer, booth_url(fair, 3)))
    assert link(archived) not in page and link(taken_down) not in page
    assert link(a[2]) in page and link(a[3]) in page
    assert "Chè rời gian 0" not in page and "Chè rời gian 1" not in page
    get(buyer, booth_url(fair, 8), status=404)
    plan = raw(get(buyer, f"/chuong-trinh/{fair.programme.slug}"))
    assert "HTX Rời Gian B" not in plan and f'{booth_url(fair, 8)}"' not in plan
    scan = buyer.get(f"{booth_url(fair, 3)}/san-pham/{archived.id}")
    assert scan.status_code == 302 and scan.headers["Location"] == booth_url(fair, 3)
    assert buyer.get(f"{booth_url(fair, 3)}/san-pham/{taken_down.id}/qr.png").status_code == 404

    # On paper: the kit staff print for booth 3 lists only what is still on sale.
    kit = text(get(client, f"{console_booth(fair, 3)}/ban-in"))
    assert "Chè rời gian 2" in kit and "Chè rời gian 3" in kit
    assert "Chè rời gian 0" not in kit and "Chè rời gian 1" not in kit

    # Staff are told: on the console's front page ...
    home = get(client, "/quan-tri/")
    assert "2 gian hàng có sản phẩm trưng bày không còn hiển thị với người mua:" in text(home)
    assert f'href="{CONSOLE}/{fair.programme.id}">Phiên chợ sản phẩm rời gian hàng</a> (2)' in (
        raw(home)
    )
    english = text(get(client, "/quan-tri/", "en"))
    assert "2 booths have featured products buyers no longer see:" in english
    assert "Fair of products that left (2)" in english

    # ... on the programme's page, booth by booth, with why each product went ...
    page = raw(get(client, f"{CONSOLE}/{fair.programme.id}"))
    hidden = section(page, 'id="hidden-title"', "</section>")
    assert "Sản phẩm không còn hiển thị" in hidden
    three = section(hidden, f'href="{console_booth(fair, 3)}"', "</li>")
    assert f"{archived.name_vi}</a> <span" in three and "(Đã lưu trữ)" in three
    assert f"{taken_down.name_vi}</a> <span" in three and "(Bị từ chối)" in three
    assert "Chè rời gian 2" not in three
    eight = section(hidden, f'href="{console_booth(fair, 8)}"', "</li>")
    assert all(p.name_vi in eight for p in fair.products_b) and "(Tạm ngưng)" in eight
    english = raw(get(client, f"{CONSOLE}/{fair.programme.id}", "en"))
    hidden = section(english, 'id="hidden-title"', "</section>")
    assert "Products no longer shown" in hidden
    assert "(Archived)" in hidden and "(Rejected)" in hidden and "(Suspended)" in hidden

    # ... and on the booth's page, where they choose other products.
    booth_page = text(get(client, console_booth(fair, 3)))
    assert "Sản phẩm không còn hiển thị: Chè rời gian 0 (Đã lưu trữ)" in booth_page
    assert "Chè rời gian 1 (Bị từ chối)" in booth_page
    response = post_form(
        client,
        f"{console_booth(fair, 3)}/san-pham",
        {"product": [str(a[2].id), str(a[3].id), str(a[4].id)]},
        form_url=console_booth(fair, 3),
    )
    assert response.status_code == 302
    assert "không còn hiển thị" not in text(get(client, console_booth(fair, 3)))
    assert "1 gian hàng có sản phẩm trưng bày không còn hiển thị với người mua:" in text(
        get(client, "/quan-tri/")
    )
    assert "1 booth has featured products buyers no longer see:" in text(
        get(client, "/quan-tri/", "en")
    )
    page = raw(get(buyer, booth_url(fair, 3)))
    assert all(link(p) in page for p in a[2:5])
