"""Clicks on call and Zalo links: counted per cooperative, product and booth, signed, throttled."""

import html
import re
import time

import pytest
from sqlalchemy import create_engine, select, text

from shop.extensions import db
from shop.reports import contacts
from shop.reports.models import DailyCount
from tests.factories import create_booth, create_cooperative, create_product, create_programme

BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
COUNT_URL = "/dem-lien-he"
LIST_RE = re.compile(
    r'<ul class="contacts" data-count-url="([^"]+)" data-count="([^"]+)" data-csrf="([^"]+)">'
)


def counts() -> dict[tuple[str, int], int]:
    rows = db.session.execute(select(DailyCount.kind, DailyCount.subject_id, DailyCount.count))
    return {(kind, subject): n for kind, subject, n in rows}


@pytest.fixture
def world(client, fresh_throttle):
    """A cooperative with a phone and Zalo, one of its products, and its booth at a fair."""
    coop = create_cooperative(
        name="HTX Gừng Quế Võ Liên Hệ", phone="0912 345 678", zalo="0912345678"
    )
    products = [create_product(coop, name_vi=f"Gừng liên hệ {i}") for i in range(3)]
    programme = create_programme(title_vi="Hội chợ liên hệ")
    booth = create_booth(programme, 7, coop, products)
    db.session.commit()
    return {
        "coop": coop,
        "product": products[0],
        "booth": booth,
        "pages": {
            "product": f"/san-pham/{products[0].slug}",
            "cooperative": f"/htx/{coop.slug}",
            "booth": f"/chuong-trinh/{programme.slug}/gian-hang/7",
        },
    }


def contact_list(client, url) -> tuple[str, str, str]:
    """(count URL, tag, CSRF token) of the page's contact list, as the script reads them."""
    response = client.get(url, headers={"User-Agent": BROWSER})
    assert response.status_code == 200, url
    found = LIST_RE.findall(response.get_data(as_text=True))
    assert found, f"no counted contact list on {url}"
    return tuple(html.unescape(value) for value in found[0])


def click(client, tag, token, user_agent=BROWSER, address="203.0.113.7", **data):
    """The beacon's POST, answered and closed as a server would (counts run on close)."""
    form = {"tag": tag, **data}  # what contact.js puts in its FormData
    if token is not None:
        form["csrf_token"] = token
    return client.post(
        COUNT_URL,
        data=form,
        headers={"User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": address},
        buffered=True,
    )


# --------------------------------------------------------------------------- the links


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("page", ["product", "cooperative", "booth"])
def test_the_links_keep_their_hrefs_and_carry_what_to_count(client, world, page, lang):
    url = world["pages"][page] + f"?lang={lang}"
    body = client.get(url).get_data(as_text=True)
    assert '<a class="button" href="tel:0912345678" data-contact>' in body
    assert 'href="https://zalo.me/0912345678" rel="noopener" target="_blank" data-contact>' in body
    assert '<script src="/static/js/contact.js" defer></script>' in body
    count_url, tag, token = contact_list(client, url)
    assert count_url == COUNT_URL and token
    coop = world["coop"]
    expected = {
        "product": [("cooperative_contact", coop.id), ("product_contact", world["product"].id)],
        "cooperative": [("cooperative_contact", coop.id)],
        "booth": [("cooperative_contact", coop.id), ("booth_contact", world["booth"].id)],
    }[page]
    with client.application.app_context():
        assert contacts.read_tag(tag) == expected


def test_the_script_is_served_by_the_app(client):
    response = client.get("/static/js/contact.js")
    assert response.status_code == 200
    script = response.get_data(as_text=True)
    assert "navigator.sendBeacon" in script and "csrf_token" in script
    response.close()


def test_a_cooperative_without_phone_or_zalo_has_nothing_to_count(client, fresh_throttle):
    coop = create_cooperative(phone=None, email="lien-he@htx.example")
    db.session.commit()
    body = client.get(f"/htx/{coop.slug}").get_data(as_text=True)
    assert "mailto:lien-he@htx.example" in body
    assert "data-count" not in body and "contact.js" not in body


# --------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    "page, kinds",
    [
        ("product", ("cooperative_contact", "product_contact")),
        ("cooperative", ("cooperative_contact",)),
        ("booth", ("cooperative_contact", "booth_contact")),
    ],
)
def test_a_click_counts_one_of_each_kind_the_page_names(client, world, page, kinds):
    subjects = {
        "cooperative_contact": world["coop"].id,
        "product_contact": world["product"].id,
        "booth_contact": world["booth"].id,
    }
    _url, tag, token = contact_list(client, world["pages"][page])
    before = counts()
    response = click(client, tag, token)
    assert response.status_code == 204
    after = counts()
    changed = {key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key)}
    assert changed == {(kind, subjects[kind]): 1 for kind in kinds}


def test_clicks_from_two_pages_add_up_for_the_cooperative(client, world):
    coop_id = world["coop"].id
    for page in ("product", "booth", "cooperative"):
        _url, tag, token = contact_list(client, world["pages"][page])
        assert click(client, tag, token).status_code == 204
    assert counts()[("cooperative_contact", coop_id)] == 3


def _tampered_tags(client, tag: str) -> dict[str, str]:
    payload, signature = tag.rsplit(".", 1)
    with client.application.app_context():
        other = contacts.sign(["cooperative_contact:999"])
    other_payload = other.rsplit(".", 1)[0]
    # The first character: the last one of base64 may carry unused bits, so
    # changing it can leave the decoded signature as it was.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return {
        "signature changed": f"{payload}.{flipped}",
        "another subject under this signature": f"{other_payload}.{signature}",
        "no signature": payload,
        "empty": "",
        "far too long": tag + "x" * 500,
        "signed with another key": "WyJjb29wZXJhdGl2ZV9jb250YWN0OjEiXQ.c2lnbmF0dXJl",
    }


def test_a_tampered_tag_is_refused_and_nothing_is_written(client, world):
    _url, tag, token = contact_list(client, world["pages"]["product"])
    before = counts()
    for name, bad in _tampered_tags(client, tag).items():
        response = click(client, bad, token)
        assert response.status_code == 400, name
        assert "thẻ không hợp lệ" in response.get_data(as_text=True), name
    assert counts() == before


@pytest.mark.parametrize(
    "items",
    [
        ["product_view:1"],  # a kind that is not a contact
        ["page_view:1"],  # not a kind at all
        ["cooperative_contact:abc"],
        ["cooperative_contact:0"],
        ["cooperative_contact:-3"],
        ["cooperative_contact:99999999999"],
        ["cooperative_contact"],
        ["cooperative_contact:1", "cooperative_contact:2"],
        ["cooperative_contact:1", "product_contact:2", "booth_contact:3", "qr_scan:4"],
        [],
        [7],
    ],
)
def test_a_signed_tag_that_names_no_contact_counter_is_refused(client, world, items):
    _url, _tag, token = contact_list(client, world["pages"]["cooperative"])
    with client.application.app_context():
        signed = contacts.sign(items)
    before = counts()
    assert click(client, signed, token).status_code == 400
    assert counts() == before


def test_a_tag_for_a_dictionary_is_refused(client, world):
    _url, _tag, token = contact_list(client, world["pages"]["cooperative"])
    with client.application.app_context():
        signed = contacts._serializer().dumps({"cooperative_contact": 1})
    assert click(client, signed, token).status_code == 400
    assert counts() == {}


def test_without_the_csrf_token_nothing_is_counted(client, world):
    _url, tag, _token = contact_list(client, world["pages"]["product"])
    before = counts()
    assert click(client, tag, None).status_code == 400
    assert click(client, tag, "not-the-token").status_code == 400
    other = client.application.test_client()  # another visitor's session: its token is not ours
    _url, _tag, other_token = contact_list(other, world["pages"]["product"])
    assert click(client, tag, other_token).status_code == 400
    assert counts() == before


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32",
        "",
    ],
)
def test_robots_are_not_counted(client, world, agent):
    _url, tag, token = contact_list(client, world["pages"]["booth"])
    response = click(client, tag, token, user_agent=agent)
    assert response.status_code == 204
    assert counts() == {}


def test_a_visitor_clicking_a_hundred_times_counts_a_few_times_an_hour(client, world):
    _url, tag, token = contact_list(client, world["pages"]["product"])
    statuses = [click(client, tag, token).status_code for _ in range(100)]
    assert statuses[:3] == [204, 204, 204]
    assert set(statuses[3:]) == {429}
    refused = click(client, tag, token)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert counts()[("product_contact", world["product"].id)] == 3
    assert counts()[("cooperative_contact", world["coop"].id)] == 3
    # Another address (another phone at the fair) is counted as usual.
    assert click(client, tag, token, address="198.51.100.20").status_code == 204
    assert counts()[("product_contact", world["product"].id)] == 4


def test_one_address_counts_at_most_thirty_clicks_an_hour_across_links(client, world):
    _url, _tag, token = contact_list(client, world["pages"]["cooperative"])
    with client.application.app_context():
        tags = [contacts.sign([f"cooperative_contact:{n}"]) for n in range(1, 41)]
    statuses = [click(client, tag, token).status_code for tag in tags]
    assert statuses.count(204) == 30 and statuses[30:] == [429] * 10
    assert sum(counts().values()) == 30


def test_the_limits_come_from_the_configuration(client, world):
    assert client.application.config["CONTACT_CLICKS_PER_LINK"] == "3 per hour"
    assert client.application.config["CONTACT_CLICKS_PER_IP"] == "30 per hour"


def test_get_is_not_allowed(client):
    assert client.get(COUNT_URL).status_code == 405


# --------------------------------------------------------------------------- browser


def _booth_contacts(database_url: str, slug: str, number: int) -> int:
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT coalesce(sum(c.count), 0) FROM daily_count c"
                    " JOIN booth b ON b.id = c.subject_id JOIN programme p ON p.id = b.programme_id"
                    " WHERE c.kind = 'booth_contact' AND p.slug = :slug AND b.number = :number"
                ),
                {"slug": slug, "number": number},
            ).scalar_one()
    finally:
        engine.dispose()


#: A booth of the demo 2022 programme that no other browser journey clicks.
FAIR_2022 = "tong-ket-2022-lien-minh-htx-bac-ninh-trung-bay-san-pham"
BOOTH = 3


@pytest.mark.browser
def test_tapping_the_call_button_on_a_booth_page_counts_a_booth_contact(browser, live_server):
    # Headless chromium names itself "HeadlessChrome", which the counters take for a robot.
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        user_agent=BROWSER,
    )
    page = context.new_page()
    try:
        before = _booth_contacts(live_server.database_url, FAIR_2022, BOOTH)
        page.goto(f"/chuong-trinh/{FAIR_2022}/gian-hang/{BOOTH}")
        call = page.locator(".coop-card").get_by_role("link", name=re.compile("Gọi"))
        assert call.get_attribute("href").startswith("tel:")
        with page.expect_request(lambda r: r.url.endswith(COUNT_URL) and r.method == "POST"):
            call.click(no_wait_after=True)  # the tel: navigation itself may fail headless
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _booth_contacts(live_server.database_url, FAIR_2022, BOOTH) == before + 1:
                break
            time.sleep(0.2)
        assert _booth_contacts(live_server.database_url, FAIR_2022, BOOTH) == before + 1
    finally:
        context.close()
