"""Search engines and sharing: canonical, hreflang, share cards, JSON-LD, robots.txt, sitemaps."""

import html
import json
import re
import xml.etree.ElementTree as ET

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.catalog.models import Product, ProductStatus
from shop.catalog.queries import public_products
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.programmes.models import Booth, Programme
from shop.seo.meta import summary
from shop.seo.structured import ld_json
from tests.factories import create_cooperative, create_product, create_user
from tests.helpers import sign_in

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
SITE = "https://cho-htx.example.vn"


def get(client, url, status=200):
    refresh()  # Babel caches the locale per app context; each request here picks its own
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def head_of(response) -> str:
    return response.get_data(as_text=True).split("</head>", 1)[0]


def meta(head: str, key: str) -> list[str]:
    """Values of <meta property|name="key" content="…">, unescaped."""
    pattern = rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">'
    return [html.unescape(value) for value in re.findall(pattern, head)]


def links(head: str, rel: str) -> dict[str, str]:
    found = re.findall(rf'<link rel="{rel}"(?: hreflang="([^"]+)")? href="([^"]+)">', head)
    return {lang or rel: html.unescape(href) for lang, href in found}


def json_ld(response) -> list[dict]:
    scripts = re.findall(
        r'<script type="application/ld\+json" nonce="[^"]+">(.*?)</script>',
        response.get_data(as_text=True),
        re.S,
    )
    return [json.loads(script) for script in scripts]


def of_type(response, kind: str) -> dict:
    return next(item for item in json_ld(response) if item["@type"] == kind)


@pytest.fixture
def pages(client):
    """A path of each kind of public page, from the demo data."""
    product = db.session.scalar(
        public_products().where(Product.price_vnd.is_not(None)).order_by(Product.slug)
    )
    coop = db.session.scalar(
        select(Cooperative).where(Cooperative.status == CooperativeStatus.VERIFIED).limit(1)
    )
    booth = db.session.scalar(
        select(Booth)
        .join(Cooperative, Cooperative.id == Booth.cooperative_id)
        .where(Cooperative.status == CooperativeStatus.VERIFIED)
        .order_by(Booth.id)
    )
    programme = db.session.get(Programme, booth.programme_id)
    return {
        "home": "/",
        "catalogue": "/san-pham",
        "sector": "/linh-vuc/nong-nghiep",
        "category": "/danh-muc/rau-cu-qua-tuoi",
        "product": f"/san-pham/{product.slug}",
        "directory": "/htx",
        "cooperative": f"/htx/{coop.slug}",
        "programmes": "/chuong-trinh",
        "programme": f"/chuong-trinh/{programme.slug}",
        "booth": f"/chuong-trinh/{programme.slug}/gian-hang/{booth.number}",
    }


KINDS = [
    "home",
    "catalogue",
    "sector",
    "category",
    "product",
    "directory",
    "cooperative",
    "programmes",
    "programme",
    "booth",
]


# --------------------------------------------------------------------------- head of every page


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_public_page_has_canonical_alternates_and_share_card(client, pages, kind, lang):
    path = pages[kind]
    url = path if lang == "vi" else f"{path}?lang={lang}"
    head = head_of(get(client, url))
    clean = f"http://localhost{path}"
    english = f"{clean}?lang=en"
    assert f'<html lang="{lang}">' in head
    assert links(head, "canonical") == {"canonical": clean if lang == "vi" else english}
    assert links(head, "alternate") == {"vi": clean, "en": english, "x-default": clean}
    assert 'name="robots"' not in head
    assert meta(head, "og:url") == [clean if lang == "vi" else english]
    assert meta(head, "og:locale") == ["vi_VN" if lang == "vi" else "en_US"]
    assert meta(head, "og:locale:alternate") == ["en_US" if lang == "vi" else "vi_VN"]
    assert meta(head, "og:type") == ["product" if kind == "product" else "website"]
    assert meta(head, "og:title")[0] and meta(head, "og:description")[0]
    assert meta(head, "twitter:card") == ["summary_large_image"]
    image = meta(head, "og:image")[0]
    assert image.startswith("http://localhost/") and meta(head, "twitter:image") == [image]
    assert int(meta(head, "og:image:width")[0]) > 0 and int(meta(head, "og:image:height")[0]) > 0
    assert meta(head, "og:image:alt")[0]
    description = meta(head, "description")[0]
    assert 20 < len(description) <= 300 and "\n" not in description


def test_pages_without_a_photo_share_the_site_picture(client, app, pages):
    head = head_of(get(client, pages["catalogue"]))
    assert meta(head, "og:image") == ["http://localhost/static/img/share.png"]
    assert (meta(head, "og:image:width"), meta(head, "og:image:height")) == (["1200"], ["630"])
    assert meta(head, "og:image:type") == ["image/png"]
    picture = get(client, "/static/img/share.png")
    assert picture.content_type == "image/png"
    picture.close()
    from PIL import Image

    with Image.open(app.static_folder + "/img/share.png") as picture:
        assert picture.size == (1200, 630)


def test_site_url_is_used_for_every_absolute_address(client, app, pages, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_URL", SITE + "/")
    response = get(client, pages["product"] + "?lang=en")
    head = head_of(response)
    assert links(head, "canonical") == {"canonical": f"{SITE}{pages['product']}?lang=en"}
    assert all(href.startswith(SITE + "/") for href in links(head, "alternate").values())
    assert meta(head, "og:image")[0].startswith(SITE + "/")
    assert of_type(response, "Product")["url"] == f"{SITE}{pages['product']}?lang=en"
    # A forged Host header changes nothing.
    forged = client.get(pages["product"], headers={"Host": "evil.example"})
    assert "evil.example" not in forged.get_data(as_text=True)
    robots = get(client, "/robots.txt").get_data(as_text=True)
    assert f"Sitemap: {SITE}/sitemap.xml" in robots
    index = get(client, "/sitemap.xml").get_data(as_text=True)
    assert f"<loc>{SITE}/sitemap-products-1.xml</loc>" in index


def test_canonical_keeps_one_filter_and_drops_sort_language_and_tracking(client):
    url = "/san-pham?sector=nong-nghiep&sort=price_asc&utm_source=zalo&fbclid=abc&lang=vi"
    head = head_of(get(client, url))
    assert links(head, "canonical") == {"canonical": "http://localhost/san-pham?sector=nong-nghiep"}
    assert links(head, "alternate")["en"] == "http://localhost/san-pham?sector=nong-nghiep&lang=en"


def test_unknown_filter_values_are_not_canonical(client):
    head = head_of(get(client, "/san-pham?sector=khong-co-linh-vuc-nay"))
    assert links(head, "canonical") == {"canonical": "http://localhost/san-pham"}


@pytest.mark.parametrize(
    "url",
    [
        "/san-pham?sector=nong-nghiep&category=rau-cu-qua-tuoi",
        "/san-pham?price=duoi-100k",
        "/san-pham?season=1",
        "/htx?sector=nong-nghiep&legal_form=hop_tac_xa",
    ],
)
def test_narrowed_listings_are_followed_but_not_indexed(client, url):
    head = head_of(get(client, url))
    assert meta(head, "robots") == ["noindex, follow"]
    assert 'rel="canonical"' not in head and 'hreflang="' not in head
    assert meta(head, "og:url")  # still shareable


def test_numbered_pages_are_their_own_canonical(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTS_PER_PAGE", 2)
    head = head_of(get(client, "/htx?page=2&lang=en"))
    assert links(head, "canonical") == {"canonical": "http://localhost/htx?page=2&lang=en"}
    assert links(head, "alternate")["vi"] == "http://localhost/htx?page=2"


def test_keyset_pages_are_followed_but_not_indexed(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTS_PER_PAGE", 2)
    first = get(client, "/san-pham").get_data(as_text=True)
    next_page = html.unescape(re.search(r'href="(/san-pham\?cursor=[^"]+)"', first).group(1))
    assert meta(head_of(get(client, next_page)), "robots") == ["noindex, follow"]


# --------------------------------------------------------------------------- noindex


def test_error_pages_are_not_indexed(client):
    head = head_of(get(client, "/san-pham/khong-co-san-pham-nay", status=404))
    assert meta(head, "robots") == ["noindex"]
    assert 'rel="canonical"' not in head and "og:image" not in head


@pytest.mark.parametrize("url", ["/tai-khoan/dang-nhap", "/tai-khoan/dang-ky"])
def test_account_forms_are_not_indexed(client, url):
    head = head_of(get(client, url))
    assert meta(head, "robots") == ["noindex"]
    assert 'rel="canonical"' not in head


def test_console_and_dashboard_pages_are_not_indexed_nor_shared(client):
    staff = create_user(Role.STAFF)
    db.session.commit()
    sign_in(client, staff)
    head = head_of(get(client, "/quan-tri/"))
    assert meta(head, "robots") == ["noindex"]
    assert "og:" not in head and "ld+json" not in head and 'rel="canonical"' not in head


def test_search_results_are_followed_but_not_indexed(client):
    head = head_of(get(client, "/tim-kiem?q=mat+ong"))
    assert meta(head, "robots") == ["noindex, follow"]
    assert 'rel="canonical"' not in head


# --------------------------------------------------------------------------- JSON-LD


def test_product_json_ld_has_a_vnd_offer_and_the_cooperative(client, pages):
    product = db.session.scalar(
        select(Product).where(Product.slug == pages["product"].removeprefix("/san-pham/"))
    )
    response = get(client, pages["product"])
    data = of_type(response, "Product")
    assert data["@context"] == "https://schema.org"
    assert data["name"] == product.name_vi and data["sku"] == product.slug
    assert data["url"] == f"http://localhost{pages['product']}"
    offer = data["offers"]
    assert offer["@type"] == "Offer" and offer["priceCurrency"] == "VND"
    assert offer["price"] == product.price_vnd and isinstance(offer["price"], int)
    assert offer["availability"].startswith("https://schema.org/")
    coop = db.session.get(Cooperative, product.cooperative_id)
    assert data["brand"]["@type"] == "Organization" and data["brand"] == data["manufacturer"]
    assert data["brand"]["name"] == coop.name
    # The same organisation as on the cooperative's own page, in either language.
    refresh()
    organization = of_type(get(client, f"/htx/{coop.slug}?lang=en"), "Organization")
    assert organization["@id"] == data["brand"]["@id"]
    crumbs = of_type(response, "BreadcrumbList")["itemListElement"]
    assert [c["position"] for c in crumbs] == list(range(1, len(crumbs) + 1))
    assert crumbs[0]["item"] == "http://localhost/" and crumbs[-1]["name"] == product.name_vi


def test_product_json_ld_in_english(client, pages):
    data = of_type(get(client, pages["product"] + "?lang=en"), "Product")
    product = db.session.scalar(
        select(Product).where(Product.slug == pages["product"].removeprefix("/san-pham/"))
    )
    assert data["name"] == (product.name_en or product.name_vi)
    assert data["url"].endswith("?lang=en")


def test_price_on_request_has_no_offer(client):
    coop = create_cooperative()
    create_product(coop, slug="chieu-coi-lien-he", price_vnd=None)
    db.session.commit()
    data = of_type(get(client, "/san-pham/chieu-coi-lien-he"), "Product")
    assert "offers" not in data and data["name"]
    head = head_of(get(client, "/san-pham/chieu-coi-lien-he"))
    assert "product:price:amount" not in head


@pytest.mark.parametrize(
    "months, made_to_order, expected",
    [
        ([11, 12, 1], False, "InStock"),  # the pinned day is in November
        ([5, 6], False, "OutOfStock"),
        ([5, 6], True, "MadeToOrder"),
    ],
)
def test_availability_follows_the_season(client, months, made_to_order, expected):
    from shop.catalog.models import months_to_mask

    coop = create_cooperative()
    create_product(
        coop,
        slug="vai-thieu-mua-vu",
        season_months=months_to_mask(months),
        made_to_order=made_to_order,
    )
    db.session.commit()
    offer = of_type(get(client, "/san-pham/vai-thieu-mua-vu"), "Product")["offers"]
    assert offer["availability"] == f"https://schema.org/{expected}"


def test_a_name_with_script_tags_cannot_break_out_of_json_ld(client):
    name = 'Mứt gừng </script><script>alert("x")</script> <!-- & “ngon”'
    coop = create_cooperative(name="HTX </script><b>đậm</b>")
    create_product(coop, slug="mut-gung-thu", name_vi=name, description_vi="Ngon </SCRIPT> lắm")
    db.session.commit()
    response = get(client, "/san-pham/mut-gung-thu")
    body = response.get_data(as_text=True)
    assert '<script>alert("x")' not in body and "<b>đậm</b>" not in body
    scripts = re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', body, re.S)
    assert all("<" not in script and ">" not in script and "&" not in script for script in scripts)
    data = of_type(response, "Product")
    assert data["name"] == name
    assert data["description"] == "Ngon </SCRIPT> lắm"
    assert data["brand"]["name"] == "HTX </script><b>đậm</b>"


def test_ld_json_escapes_markup_and_line_separators(app):
    with app.test_request_context():
        text = str(ld_json({"name": "a</script>&<!--\u2028b"}))
    opening, inner = text[: -len("</script>")].split(">", 1)
    assert opening.startswith('<script type="application/ld+json" nonce="')
    assert text.endswith("</script>")
    assert "</" not in inner and "<!--" not in inner and "\u2028" not in inner
    assert json.loads(inner) == {"name": "a</script>&<!--\u2028b"}
    assert str(ld_json(None)) == ""


def test_cooperative_json_ld_is_an_organization_in_bac_ninh(client):
    create_cooperative(
        slug="htx-mat-ong-thu",
        name="HTX Mật ong Thử",
        phone="0912 345 678",
        email="lienhe@mat-ong.example",
        website="https://mat-ong.example",
        founded_year=2016,
    )
    db.session.commit()
    data = of_type(get(client, "/htx/htx-mat-ong-thu"), "Organization")
    assert data["name"] == "HTX Mật ong Thử"
    assert data["url"] == "http://localhost/htx/htx-mat-ong-thu"
    assert data["telephone"] == "0912345678"
    assert data["email"] == "lienhe@mat-ong.example"
    assert data["sameAs"] == ["https://mat-ong.example"]
    assert data["foundingDate"] == "2016"
    address = data["address"]
    assert address["@type"] == "PostalAddress" and address["addressRegion"] == "Bắc Ninh"
    assert address["addressCountry"] == "VN" and address["addressLocality"]
    assert "taxID" not in data  # none given


def test_home_declares_the_site_and_its_search(client):
    data = of_type(get(client, "/"), "WebSite")
    action = data["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == "http://localhost/tim-kiem?q={search_term_string}"
    assert action["query-input"] == "required name=search_term_string"


def test_programme_is_an_event(client, pages):
    data = of_type(get(client, pages["programme"]), "Event")
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == pages["programme"].rsplit("/", 1)[1])
    )
    assert data["startDate"] == programme.start_date.isoformat()
    assert data["location"]["address"]["addressRegion"] == "Bắc Ninh"


def test_descriptions_are_short_single_lines():
    assert summary("  một\n\nhai  ba ") == "một hai ba"
    long = "Bánh phu thê " * 40
    cut = summary(long, 50)
    assert len(cut) <= 50 and cut.endswith("…") and not cut.endswith(" …")


def test_product_description_meta_names_price_cooperative_and_story(client, pages):
    product = db.session.scalar(
        select(Product).where(Product.slug == pages["product"].removeprefix("/san-pham/"))
    )
    description = meta(head_of(get(client, pages["product"])), "description")[0]
    assert description.startswith(product.name_vi + " · ")
    assert "₫" in description or "Liên hệ" in description
    assert product.description_vi.split()[0] in description


# --------------------------------------------------------------------------- robots.txt


def test_robots_txt(client):
    response = get(client, "/robots.txt")
    assert response.content_type.startswith("text/plain")
    assert response.cache_control.public and response.cache_control.max_age == 3600
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/quan-tri", "/quan-ly-htx", "/tai-khoan", "/yeu-cau-bao-gia", "/tim-kiem/goi-y"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /api/" in lines
    assert "Disallow: /" not in lines and "Allow: /" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines


# --------------------------------------------------------------------------- sitemaps


def parse(response) -> ET.Element:
    assert response.content_type.startswith("application/xml")
    return ET.fromstring(response.get_data())


def part_urls(client, kind: str) -> list[ET.Element]:
    index = parse(get(client, "/sitemap.xml"))
    urls = []
    for loc in index.findall("s:sitemap/s:loc", NS):
        if f"/sitemap-{kind}-" in loc.text:
            part = parse(get(client, loc.text.removeprefix("http://localhost")))
            entries = part.findall("s:url", NS)
            urls.append(entries)
    return urls


def locs(entries) -> list[str]:
    return [entry.find("s:loc", NS).text for entry in entries]


def public_product_slugs() -> set[str]:
    return set(db.session.scalars(public_products().with_only_columns(Product.slug)))


def test_sitemap_index_lists_every_kind_of_public_page(client):
    response = get(client, "/sitemap.xml")
    assert response.cache_control.public and response.cache_control.max_age == 3600
    index = parse(response)
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    names = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    for kind in ("pages", "sectors", "categories", "cooperatives", "products", "programmes"):
        assert f"http://localhost/sitemap-{kind}-1.xml" in names
    lastmods = index.findall("s:sitemap/s:lastmod", NS)
    assert lastmods and all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]{8}\+00:00", m.text) for m in lastmods
    )


def test_sitemap_lists_each_public_product_in_both_languages(client):
    (entries,) = part_urls(client, "products")
    expected = {f"http://localhost/san-pham/{slug}" for slug in public_product_slugs()}
    assert set(locs(entries)) == expected | {f"{url}?lang=en" for url in expected}
    assert len(entries) == 2 * len(expected)
    entry = entries[0]
    alternates = {link.get("hreflang"): link.get("href") for link in entry.findall("x:link", NS)}
    vi = alternates["vi"]
    assert alternates == {"vi": vi, "en": f"{vi}?lang=en", "x-default": vi}
    assert entry.find("s:lastmod", NS) is not None


def test_sitemap_leaves_out_drafts_and_products_of_suspended_cooperatives(client):
    shown = create_cooperative(slug="htx-hien")
    hidden = create_cooperative(slug="htx-tam-dung", status=CooperativeStatus.SUSPENDED)
    create_product(shown, slug="san-pham-hien")
    create_product(shown, slug="san-pham-nhap", status=ProductStatus.DRAFT)
    create_product(shown, slug="san-pham-cho-duyet", status=ProductStatus.SUBMITTED)
    create_product(hidden, slug="san-pham-htx-tam-dung")
    db.session.commit()
    (products,) = part_urls(client, "products")
    slugs = {loc.rsplit("/", 1)[1] for loc in locs(products)}
    assert "san-pham-hien" in slugs
    assert not slugs & {"san-pham-nhap", "san-pham-cho-duyet", "san-pham-htx-tam-dung"}
    coops = {loc.rsplit("/", 1)[1] for loc in locs(part_urls(client, "cooperatives")[0])}
    assert "htx-hien" in coops and "htx-tam-dung" not in coops


def test_sitemap_splits_into_parts_of_at_most_the_configured_size(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SITEMAP_URLS_PER_FILE", 5)
    total = len(public_product_slugs())
    parts = part_urls(client, "products")
    # Five <url> entries per file hold two pages (each in two languages).
    assert len(parts) == -(-total // 2) and len(parts) > 1
    assert all(0 < len(entries) <= 5 for entries in parts)
    every = [loc for entries in parts for loc in locs(entries)]
    assert len(every) == len(set(every)) == 2 * total
    pages = part_urls(client, "pages")
    assert [len(entries) for entries in pages] == [4, 4]  # home, catalogue, directory, programmes
    last = len(parts)
    get(client, f"/sitemap-products-{last + 1}.xml", status=404)


@pytest.mark.parametrize(
    "url",
    [
        "/sitemap-products-0.xml",
        "/sitemap-products-2.xml",
        "/sitemap-khong-co-1.xml",
        "/sitemap-products.xml",
        "/sitemap-products-01.xml",
        "/sitemap-products-1234567.xml",
    ],
)
def test_unknown_sitemap_parts_are_404(client, url):
    get(client, url, status=404)


def test_sitemap_lists_public_booths_programmes_and_taxonomy(client, pages):
    booths = locs(part_urls(client, "booths")[0])
    assert f"http://localhost{pages['booth']}" in booths
    programmes = locs(part_urls(client, "programmes")[0])
    assert f"http://localhost{pages['programme']}" in programmes
    categories = locs(part_urls(client, "categories")[0])
    assert "http://localhost/danh-muc/rau-cu-qua-tuoi" in categories
    sectors = locs(part_urls(client, "sectors")[0])
    assert "http://localhost/linh-vuc/nong-nghiep" in sectors


def test_sitemap_statements_do_not_grow_with_the_number_of_products(client, count_queries):
    def statements():
        counts = []
        for url in ("/sitemap.xml", "/sitemap-products-1.xml", "/sitemap-cooperatives-1.xml"):
            with count_queries() as counter:
                assert client.get(url).get_data()
            counts.append(counter.count)
        return counts

    before = statements()
    coop = create_cooperative()
    for n in range(40):
        create_product(coop, slug=f"san-pham-so-luong-{n}")
    db.session.commit()
    after = statements()
    assert after == before
    assert db.session.scalar(select(func.count()).select_from(public_products().subquery())) > 40
