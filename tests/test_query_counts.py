"""The number of SQL statements a page runs must not grow with the data it shows."""

from sqlalchemy import select

from shop.catalog.models import Category
from shop.catalog.queries import PRICE_ON_REQUEST_UP, Cursor
from shop.extensions import db
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    load_taxonomy,
)


def grow(coops, categories, count):
    products = []
    for i in range(count):
        coop = coops[i % len(coops)]
        products.append(create_product(coop, category=categories[i % len(categories)]))
    return products


def test_statement_count_is_constant_from_10_to_100_products(blank_db, count_queries):
    load_taxonomy()
    db.session.commit()
    # The catalogue reads the vocabularies once and keeps them while they stand: read here, so
    # both measures below find them kept.
    assert blank_db.test_client().get("/san-pham").status_code == 200
    categories = list(db.session.scalars(select(Category).order_by(Category.sort_order)))[:3]
    coops = [create_cooperative() for _ in range(2)]
    products = grow(coops, categories, 10)
    programme = create_programme()
    create_booth(
        programme, 1, coops[0], [p for p in products if p.cooperative_id == coops[0].id][:3]
    )
    db.session.commit()

    product = products[0]
    urls = {
        "home": "/",
        "catalogue": "/san-pham",
        "catalogue sorted by price": "/san-pham?sort=price_asc",
        "catalogue with five facets": f"/san-pham?sector={_sector_slug(coops[0])}&season=1"
        f"&cert=vietgap&cert=pgs_organic&price=duoi-50k&ocop=3&category={categories[0].slug}",
        "catalogue page 2 by cursor": "/san-pham?sort=price_asc&cursor="
        + Cursor("price_asc", 2, (product_price(products[2]), products[2].id)).encode(),
        "catalogue old page number": "/san-pham?page=1&sort=ocop",
        "catalogue search": "/san-pham?q=san+pham+thu",
        "directory filtered": f"/htx?sector={_sector_slug(coops[0])}&legal_form=hop_tac_xa",
        "sector": f"/linh-vuc/{_sector_slug(coops[0])}",
        "category": f"/danh-muc/{categories[0].slug}",
        "product": f"/san-pham/{product.slug}",
        "directory": "/htx",
        "cooperative": f"/htx/{coops[0].slug}",
        "programmes": "/chuong-trinh",
        "programme": f"/chuong-trinh/{programme.slug}",
        "booth": f"/chuong-trinh/{programme.slug}/gian-hang/1",
    }
    client = blank_db.test_client()

    def measure():
        counts = {}
        for name, url in urls.items():
            with count_queries() as counter:
                response = client.get(url)
            assert response.status_code == 200, (name, url, response.status_code)
            counts[name] = counter.count
        return counts

    small = measure()

    coops += [create_cooperative() for _ in range(8)]
    more = grow(coops, categories, 90)
    for number, coop in enumerate(coops[1:], start=2):
        create_booth(programme, number, coop, [p for p in more if p.cooperative_id == coop.id][:5])
    db.session.commit()

    large = measure()
    assert large == small
    print("\nstatements per page:", small)


def product_price(product):
    return PRICE_ON_REQUEST_UP if product.price_vnd is None else product.price_vnd


def _sector_slug(coop):
    from shop.cooperatives.models import Sector

    return db.session.get(Sector, coop.sector_id).slug
