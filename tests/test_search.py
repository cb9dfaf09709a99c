"""Search: folding, query rules, ranking, hostile input, highlighting and the pages (vi and en)."""

import re
import unicodedata

import pytest
from markupsafe import Markup
from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.catalog.models import Category, Product
from shop.extensions import db
from shop.search import queries
from shop.search.queries import search_products
from shop.search.spelling import Vocabulary, distance
from shop.search.terms import (
    CONTEXT,
    EXACT,
    MAX_TERMS,
    NAME,
    highlight,
    parse_query,
    prefixes,
)
from tests.factories import create_cooperative, create_product, load_taxonomy
from tests.helpers import page_text


def found(q: str) -> list[str]:
    return [p.name_vi for p in db.session.scalars(search_products(parse_query(q))).unique()]


# --------------------------------------------------------------------------- parsing, unit rules


def test_parse_folds_tones_d_case_and_spaces():
    query = parse_query("  BÁNH   Phu  ĐÔNG  ")
    assert query.terms == ("banh", "phu", "dong")
    assert query.typed == ("bánh", "phu", "đông")
    assert query.text == "BÁNH Phu ĐÔNG"


def test_parse_nfd_equals_nfc():
    nfd = unicodedata.normalize("NFD", "bánh phu thê đặc biệt")
    assert parse_query(nfd) == parse_query("bánh phu thê đặc biệt")


@pytest.mark.parametrize(
    "raw, terms",
    [
        ('"gạo" OR nếp', ("gao", "nep")),
        ("NEAR(gạo nếp)", ("gao", "nep")),
        ("-gạo *nếp* ^mật:ong", ("gao", "nep", "mat", "ong")),
        ("'; DROP TABLE product; --", ("drop", "table", "product")),
        ("!!! ... ---", ()),
        ("", ()),
        (None, ()),
    ],
)
def test_parse_keeps_only_words(raw, terms):
    assert parse_query(raw).terms == terms


def test_parse_caps_terms_and_length():
    query = parse_query(" ".join(f"tu{i}" for i in range(50)))
    assert len(query.terms) == MAX_TERMS
    long = parse_query("a" * 5000)
    assert len(long.text) == 200 and len(long.terms[0]) == 40


def test_match_expressions_quote_every_term():
    query = parse_query('bánh "phu" th')
    assert query.accented and not parse_query("banh phu th").accented
    assert query.fts5() == '"banh" "phu" "th"*'
    assert query.fts5(NAME, phrase=True) == '"=banh =phu =th"*'
    assert query.fts5(EXACT) == '"^bánh" "^phu" "^th"*'
    # PostgreSQL: a short last word is a prefix lexeme of its own, a longer one a prefix search.
    assert query.tsquery() == "'banh' & 'phu' & 'th~'"
    assert query.tsquery(CONTEXT) == "'@banh' & '@phu' & '@th~'"
    assert parse_query("banh phu thê").tsquery(EXACT) == "'^banh' & '^phu' & '^thê~'"
    assert parse_query("mat ong").tsquery() == "'mat' & 'ong~'"
    assert parse_query("mat ong rung").tsquery() == "'mat' & 'ong' & 'rung~'"
    assert parse_query("mat ong rung").tsquery(NAME) == "'=mat' & '=ong' & '=rung':*"
    assert parse_query("mat ong vietgap").tsquery() == "'mat' & 'ong' & 'vietgap':*"


def test_prefix_lexemes_are_the_first_letters_of_a_word():
    assert prefixes("banh") == ("b~", "ba~", "ban~", "banh~")
    assert prefixes("=ba") == ("=b~", "=ba~")
    assert prefixes("^đông") == ("^đ~", "^đô~", "^đôn~")


def test_highlight_marks_folded_words_and_escapes_the_rest():
    query = parse_query("banh phu th")
    assert highlight("Bánh phu thê <b>ngon</b>", query) == Markup(
        "<mark>Bánh</mark> <mark>phu</mark> <mark>thê</mark> &lt;b&gt;ngon&lt;/b&gt;"
    )
    assert highlight("<script>", parse_query("script")) == Markup("&lt;<mark>script</mark>&gt;")
    assert highlight("Đồng hồ", parse_query("dong")) == Markup("<mark>Đồng</mark> hồ")


def test_spelling_distance_counts_a_swap_as_one_edit():
    assert distance("bnah", "banh", 2) == 1
    assert distance("mat", "mat", 1) == 0
    assert distance("ong", "abcdef", 1) == 2
    vocabulary = Vocabulary({"banh": 40, "bang": 3, "phu": 10})
    assert vocabulary.closest("bahn") == ["banh"]


# --------------------------------------------------------------------------- the DESIGN examples


def test_banh_phu_the_without_diacritics_finds_the_cakes(client):
    names = found("banh phu the")
    assert names[:4] and all("phu thê" in name.lower() for name in names[:4])
    assert "Bánh phu thê nhân đỗ dừa" in names


def test_upper_case_with_diacritics_finds_the_same(client):
    assert set(found("BÁNH PHU THÊ")) == set(found("banh phu the"))


def test_nfd_input_finds_the_same(client):
    nfd = unicodedata.normalize("NFD", "bánh phu thê")
    assert found(nfd) == found("bánh phu thê")


def test_dong_ho_finds_the_dong_ho_paintings_first(client):
    names = found("dong ho")
    cooperative = "HTX Tranh dân gian Đông Hồ Mộc Bản (demo)"
    products = db.session.scalars(search_products(parse_query("dong ho")).limit(5)).unique()
    assert names
    assert all(p.cooperative.name == cooperative for p in products)


def test_d_folds_both_ways(client):
    assert found("đỗ xanh tách vỏ") == found("do xanh tach vo") == ["Đỗ xanh tách vỏ"]
    assert set(found("ĐỖ XANH")) == set(found("do xanh"))
    assert found("ĐỖ XANH")[0] == found("do xanh")[0] == "Đỗ xanh tách vỏ"


def test_the_last_word_is_a_prefix(client):
    assert "Bánh phu thê nhân đỗ dừa" in found("banh phu th")
    assert "Bánh phu thê nhân đỗ dừa" in found("banh ph")


def test_every_word_is_required(client):
    assert found("mat ong hoa vai")[0] == "Mật ong hoa vải"
    assert "Mật ong hoa ngô – hoa dại chai 1 lít" not in found("mat ong hoa vai")
    assert found("mat ong xe tai") == []


def test_english_names_are_found(client):
    assert "Lychee blossom honey" in [
        p.name_en for p in db.session.scalars(search_products(parse_query("lychee honey"))).unique()
    ]


def test_exact_diacritics_rank_first(blank_db):
    load_taxonomy()
    coop = create_cooperative(name="HTX Thử Đồng")
    create_product(coop, name_vi="Đồng hồ gỗ treo tường")  # newest, folded match only
    exact = create_product(coop, name_vi="Đông Hồ tranh khắc")
    create_product(coop, name_vi="Dòng họ phả hệ")
    names = found("đông hồ")
    assert names[0] == exact.name_vi
    assert set(names) == {"Đồng hồ gỗ treo tường", "Đông Hồ tranh khắc", "Dòng họ phả hệ"}
    assert found("đồng hồ")[0] == "Đồng hồ gỗ treo tường"


def test_a_name_holding_the_phrase_ranks_before_one_holding_the_words_apart(blank_db):
    load_taxonomy()
    coop = create_cooperative(name="HTX Thử Ong")
    create_product(coop, name_vi="Sáp ong hoa", description_vi="Mật của đàn ong rừng.")
    create_product(coop, name_vi="Mật ong rừng")
    assert found("mat ong")[0] == "Mật ong rừng"


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "OR",
        "NEAR(",
        "-",
        ":",
        "^",
        "a" * 5000,
        "!!!",
        "",
        " ",
        "banh OR",
        '"banh',
        "banh*",
        "(",
        "'",
        "\\",
        "\x00",
        "%_",
        "NOT banh",
        "banh -phu",
        "col:banh",
        "ẞ",
        "🍚",
    ],
)
def test_hostile_input_gives_results_or_an_empty_page(client, q):
    response = client.get("/tim-kiem", query_string={"q": q})
    assert response.status_code == 200
    suggestions = client.get("/tim-kiem/goi-y", query_string={"q": q})
    assert suggestions.status_code == 200
    assert isinstance(suggestions.get_json()["suggestions"], list)


# --------------------------------------------------------------------------- pages


def test_results_page_shows_highlighted_cards_and_a_count(client):
    response = client.get("/tim-kiem?q=banh+phu+the")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark>Bánh</mark> <mark>phu</mark> <mark>thê</mark> nhân đỗ dừa" in html
    text = page_text(response)
    assert "sản phẩm khớp với “banh phu the”" in text
    assert 'href="/san-pham/banh-phu-the-nhan-do-dua"' in html


def test_results_page_in_english(client):
    response = client.get("/tim-kiem?q=lychee+honey&lang=en")
    assert re.search(r"\b\d+ products? match “lychee honey”", page_text(response))
    assert "<mark>Lychee</mark> blossom <mark>honey</mark>" in response.get_data(as_text=True)


def test_a_name_with_markup_stays_literal(blank_db):
    load_taxonomy()
    coop = create_cooperative()
    create_product(coop, name_vi="Gạo <b>đặc biệt</b> <script>alert(1)</script>")
    db.session.commit()
    html = blank_db.test_client().get("/tim-kiem?q=gao").get_data(as_text=True)
    assert "<mark>Gạo</mark> &lt;b&gt;đặc biệt&lt;/b&gt; &lt;script&gt;alert(1)" in html
    assert "<script>alert(1)" not in html


def test_empty_query_shows_the_form_only(client):
    response = client.get("/tim-kiem")
    assert response.status_code == 200
    assert "Nhập tên sản phẩm, hợp tác xã hoặc làng nghề để tìm." in page_text(response)


def test_no_results_page_offers_alternatives_and_close_categories(client):
    response = client.get("/tim-kiem?q=mat+onf")
    assert response.status_code == 200
    text = page_text(response)
    assert "Không có sản phẩm nào khớp với “mat onf”." in text
    assert "Có phải bạn muốn tìm: mat ong" in text
    assert 'href="/tim-kiem?q=mat+ong"' in response.get_data(as_text=True)
    assert "Danh mục, lĩnh vực gần giống" in text
    assert "Mật ong &amp; sản phẩm từ ong" in response.get_data(as_text=True)


def test_no_results_page_in_english(client):
    text = page_text(client.get("/tim-kiem?q=banh+phu+thw&lang=en"))
    assert "No products match “banh phu thw”." in text
    assert "Did you mean: banh phu the" in text


def test_an_alternative_is_offered_only_if_it_finds_something(client):
    text = page_text(client.get("/tim-kiem?q=zzqxv"))
    assert "Không có sản phẩm nào khớp" in text
    assert "Có phải bạn muốn tìm" not in text


def test_pages_of_results_and_a_page_past_the_end(client):
    first = client.get("/tim-kiem?q=banh")
    assert "Trang 1 / 2" in page_text(first)
    assert client.get("/tim-kiem?q=banh&page=2").status_code == 200
    assert client.get("/tim-kiem?q=banh&page=3").status_code == 404
    assert client.get("/tim-kiem?q=banh&page=abc").status_code == 404
    assert client.get("/tim-kiem?q=banh&page=-1").status_code == 404
    assert client.get("/tim-kiem?page=2").status_code == 404


def test_results_are_capped(client, monkeypatch):
    monkeypatch.setattr(queries, "MAX_RESULTS", 10)
    response = client.get("/tim-kiem?q=banh")
    text = page_text(response)
    assert "Hơn 10 sản phẩm khớp với “banh”; đây là 10 kết quả đầu tiên." in text
    assert client.get("/tim-kiem?q=banh&page=2").status_code == 404


def test_searching_writes_nothing(client):
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    client.get("/tim-kiem?q=banh")
    client.get("/tim-kiem/goi-y?q=banh")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_header_has_a_search_form_except_on_the_results_page(client):
    home = client.get("/").get_data(as_text=True)
    assert 'role="search" aria-label="Tìm kiếm"' in home
    assert 'action="/tim-kiem"' in home and "js/search.js" in home
    results = client.get("/tim-kiem?q=banh").get_data(as_text=True)
    assert results.count('name="q"') == 1


def test_search_script_is_served_by_the_app(client):
    response = client.get("/static/js/search.js")
    assert response.status_code == 200
    assert b"aria-activedescendant" in response.data
    response.close()


# --------------------------------------------------------------------------- suggestions


def test_suggestions_json_shape_and_limit(client):
    response = client.get("/tim-kiem/goi-y?q=banh")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "max-age=60" in response.headers["Cache-Control"]
    data = response.get_json()
    assert data["query"] == "banh"
    items = data["suggestions"]
    assert 0 < len(items) <= 8
    assert {"kind", "hint", "label", "url"} <= set(items[0])
    kinds = [item["kind"] for item in items]
    assert kinds[0] == "product"
    assert sum(kind != "product" for kind in kinds) <= 3
    assert {"url": "/danh-muc/banh-keo-dac-san"}.items() <= next(
        item for item in items if item["kind"] == "category"
    ).items()
    product = next(item for item in items if item["kind"] == "product")
    assert product["url"].startswith("/san-pham/")
    assert client.get(product["url"]).status_code == 200


@pytest.mark.parametrize("q", ["", " ", "b", "đ", "!!"])
def test_short_or_blank_input_suggests_nothing(client, q):
    assert client.get("/tim-kiem/goi-y", query_string={"q": q}).get_json()["suggestions"] == []


def test_suggestions_in_english(client):
    items = client.get("/tim-kiem/goi-y?q=honey&lang=en").get_json()["suggestions"]
    labels = [item["label"] for item in items]
    assert "Lychee blossom honey" in labels
    assert {item["hint"] for item in items} <= {"Products", "Category", "Sector", "Cooperatives"}


def test_suggestions_name_sectors_and_cooperatives(client):
    items = client.get("/tim-kiem/goi-y?q=nong+nghiep").get_json()["suggestions"]
    assert {"kind": "sector", "label": "Nông nghiệp"}.items() <= next(
        item for item in items if item["kind"] == "sector"
    ).items()
    coops = client.get("/tim-kiem/goi-y?q=gom+lua").get_json()["suggestions"]
    assert any(
        item["kind"] == "cooperative" and item["url"] == "/htx/htx-gom-lua-cui-phu-lang-demo"
        for item in coops
    )


# --------------------------------------------------------------------------- cost


def test_statement_count_does_not_grow_with_results(blank_db, count_queries):
    load_taxonomy()
    categories = list(db.session.scalars(select(Category).order_by(Category.sort_order)))[:3]
    coops = [create_cooperative() for _ in range(2)]

    def grow(n):
        for i in range(n):
            create_product(
                coops[i % 2], name_vi=f"Trà sen Tây Hồ số {i}", category=categories[i % 3]
            )
        db.session.commit()

    client = blank_db.test_client()
    counts = []
    for n in (5, 60):
        grow(n)
        for url in ("/tim-kiem?q=tra+sen", "/tim-kiem?q=tra+sen&page=2", "/tim-kiem/goi-y?q=tra"):
            if "page=2" in url and n < 30:
                continue
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts.append((n, url, counter.count))
    by_url = {}
    for _, url, count in counts:
        by_url.setdefault(url, set()).add(count)
    assert all(len(values) == 1 for values in by_url.values()), counts
    assert max(count for _, _, count in counts) <= 8
    assert db.session.scalar(select(func.count()).select_from(Product)) == 65


def test_one_edit_check_agrees_with_the_distance():
    from shop.search.spelling import deletions, within_one_edit

    words = ["banh", "bnah", "bahn", "ban", "banhh", "xanh", "nab", "", "b", "ab", "ba", "abc"]
    for a in words:
        for b in words:
            assert within_one_edit(a, b) == (distance(a, b, 1) <= 1), (a, b)
    assert deletions("abc", 1) == {"abc", "bc", "ac", "ab"}
    vocabulary = Vocabulary({"tranh": 9, "thanh": 4, "trang": 2, "banh": 40})
    assert vocabulary.closest("tranhh") == ["tranh", "thanh", "trang"]
