"""Buyers of the province on the public pages (issue 9, item 6): run by bench/load/run.py.

    .venv/bin/locust -f bench/load/locustfile.py --headless -H http://127.0.0.1:8000 -u 50 -r 5

Each simulated buyer browses the catalogue (first pages, facets, the "Trang sau" pages),
searches from a fixed list (with and without diacritics), opens products and their
cooperatives, adds products to the inquiry list and sends it: a real POST of the send form
with the CSRF token and the one-time key read from the form, as a browser would.

The anti-spam limits count sends per client address and per email (shop.inquiries.spam). Each
send comes from a new buyer: a fresh email and a fresh X-Forwarded-For address, which the app
trusts only because the load run starts it with SHOP_TRUSTED_PROXIES=1 (there is no nginx in
front of it here). The limits themselves are not raised.

Every answer must be the page a browser would get: a status >= 400, or a page without what it
must show, is a failure, and the run fails on any failure.
"""

import itertools
import random
import re
import threading
from urllib.parse import urlencode

from locust import HttpUser, between, task

#: Searches a buyer types, with and without diacritics (the catalogue benchmark's list).
SEARCHES = [
    "banh phu the",
    "Bánh phu thê",
    "gao nep",
    "gạo nếp cái",
    "mat ong",
    "mật ong hoa",
    "dong ho",
    "Đông Hồ",
    "do go dong ky",
    "đồ gỗ",
    "tuong nep",
    "chè búp",
]
#: Facets as the catalogue's filter form sends them (slugs of the reference data).
SECTORS = ["nong-nghiep", "tieu-thu-cong-nghiep", "thuong-mai", "giao-thong-van-tai"]
CATEGORIES = ["mat-ong", "gao-ngu-coc-hat", "gom-su", "banh-keo-dac-san", "tra-do-uong"]
PRICES = ["", "50k-100k", "100k-300k"]
OCOP = ["", "3", "4"]
SORTS = ["", "price", "ocop"]
#: A browser's user agent: the view counters skip scripts and robots, and a buyer is counted.
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0 Mobile Safari/537.36 cho-htx-load"
)

PRODUCT_LINK = re.compile(r'href="(/san-pham/[a-z0-9-]+)"')
COOP_LINK = re.compile(r'href="(/htx/[a-z0-9-]+)"')
NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PRODUCT_ID = re.compile(r'name="product" value="(\d+)"')
ONCE = re.compile(r'name="once"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="once"')

_buyers = itertools.count(1)
_lock = threading.Lock()


def _next_buyer() -> int:
    with _lock:
        return next(_buyers)


class Buyer(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.client.headers["User-Agent"] = USER_AGENT
        self.products: list[str] = []
        self.coops: list[str] = []
        self.new_identity()
        self.catalogue()

    def new_identity(self):
        """A new buyer: own address (X-Forwarded-For) and own email for the spam limits."""
        self.buyer = _next_buyer()
        self.address = (
            f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        )
        self.client.headers["X-Forwarded-For"] = self.address

    # ------------------------------------------------------------------ helpers

    def get(self, path: str, name: str, must: str | None = None) -> str | None:
        """GET `path`; a failure unless 200 and (when given) `must` is on the page."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} on {path}")
                return None
            if must is not None and must not in response.text:
                response.failure(f"{path}: no {must!r} on the page")
                return None
            return response.text

    def remember(self, html: str) -> None:
        found = PRODUCT_LINK.findall(html)
        if found:
            self.products = (found + self.products)[:60]
        coops = COOP_LINK.findall(html)
        if coops:
            self.coops = (coops + self.coops)[:20]

    # ------------------------------------------------------------------ what buyers do

    @task(4)
    def catalogue(self):
        html = self.get("/san-pham", "catalogue", must='class="grid product-grid"')
        if html:
            self.remember(html)

    @task(4)
    def catalogue_facets(self):
        params = {
            "sector": random.choice(SECTORS),
            "price": random.choice(PRICES),
            "ocop": random.choice(OCOP),
            "sort": random.choice(SORTS),
        }
        if random.random() < 0.3:
            params = {"category": random.choice(CATEGORIES), "sort": random.choice(SORTS)}
        query = urlencode({key: value for key, value in params.items() if value})
        html = self.get(f"/san-pham?{query}", "catalogue facets", must="<h1")
        if html:
            self.remember(html)

    @task(3)
    def catalogue_pages(self):
        """The first page, then "Trang sau" up to four times, as a reader pages on."""
        html = self.get("/san-pham", "catalogue", must='rel="next"')
        for _ in range(random.randint(1, 4)):
            found = NEXT_LINK.search(html or "")
            if not found:
                return
            html = self.get(found.group(1).replace("&amp;", "&"), "catalogue next page")
            if html:
                self.remember(html)

    @task(5)
    def search(self):
        query = urlencode({"q": random.choice(SEARCHES)})
        html = self.get(f"/tim-kiem?{query}", "search", must="<h1")
        if html:
            self.remember(html)

    @task(6)
    def product(self):
        if not self.products:
            return self.catalogue()
        html = self.get(random.choice(self.products), "product", must="/yeu-cau-bao-gia/them")
        if html:
            self.remember(html)

    @task(2)
    def cooperative(self):
        if not self.coops:
            return self.product()
        html = self.get(random.choice(self.coops), "cooperative", must="<h1")
        if html:
            self.remember(html)

    @task(3)
    def add_to_list(self):
        if not self.products:
            return self.catalogue()
        path = random.choice(self.products)
        html = self.get(path, "product", must="/yeu-cau-bao-gia/them")
        if not html:
            return
        csrf, product = CSRF.search(html), PRODUCT_ID.search(html)
        if not (csrf and product):
            return
        data = {
            "csrf_token": csrf.group(1),
            "product": product.group(1),
            "quantity": str(random.randint(1, 20)),
            "next": path,
        }
        with self.client.post(
            "/yeu-cau-bao-gia/them", data=data, name="add to list", catch_response=True
        ) as response:
            if response.status_code != 200 or not response.url.endswith(path):
                response.failure(f"add to list: {response.status_code} at {response.url}")

    @task(2)
    def send_inquiry(self):
        """Look at the list, open the send form and send it: one inquiry per cooperative."""
        html = self.get("/yeu-cau-bao-gia", "inquiry list", must="<h1")
        if html is None or "/yeu-cau-bao-gia/gui" not in html:
            return self.add_to_list()  # nothing on the list yet
        form = self.get("/yeu-cau-bao-gia/gui", "send form", must='name="once"')
        if form is None:
            return
        csrf, once = CSRF.search(form), ONCE.search(form)
        if not (csrf and once):
            return
        data = {
            "csrf_token": csrf.group(1),
            "once": once.group(1) or once.group(2),
            "name": f"Người mua thử tải {self.buyer}",
            "email": f"buyer{self.buyer}-{random.randrange(10**6)}@load.cho-htx.test",
            "phone": f"09{random.randrange(10**8):08d}",
            "organisation": "Cửa hàng thử tải",
            "buyer_type": random.choice(["household", "shop", "restaurant", "wholesaler"]),
            "delivery_place": "Phường Kinh Bắc, Bắc Ninh",
            "preferred_contact": random.choice(["email", "phone", "zalo"]),
            "message": "Xin báo giá và thời gian giao hàng. Cảm ơn hợp tác xã.",
            "hp_reference_code": "",
        }
        with self.client.post(
            "/yeu-cau-bao-gia/gui", data=data, name="send inquiry", catch_response=True
        ) as response:
            if response.status_code != 200 or "/yeu-cau-bao-gia/da-gui" not in response.url:
                response.failure(f"send: {response.status_code} at {response.url}")
        self.new_identity()  # the next send is another buyer's
