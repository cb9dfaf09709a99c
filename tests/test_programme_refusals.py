"""Issue 7, item 6, as people meet it: each bad input is sent through the page a person uses, in
Vietnamese and in English. The answer names the problem in the page's language, with its status
(400 for a request the rules refuse, 409 for one that clashes with what is already there), and
nothing is written: no programme, booth, featured product, application, audit entry, notice or
email.

The day is pinned (TestConfig.SHOP_TODAY = 26/11/2026); the programme took applications until
20/11/2026.
"""

import html
import re
from datetime import date
from types import SimpleNamespace

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import ProductStatus
from shop.cooperatives.models import CooperativeStatus
from shop.extensions import db
from shop.notify.models import Notification, OutboxEmail
from shop.programmes.models import (
    Booth,
    BoothApplication,
    BoothProduct,
    BoothSlot,
    Programme,
    ProgrammeStatus,
)
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import csrf_token, page_text, sign_in

CONSOLE = "/quan-tri/chuong-trinh"


def written() -> dict:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (
            Programme,
            Booth,
            BoothProduct,
            BoothSlot,
            BoothApplication,
            AuditEntry,
            Notification,
            OutboxEmail,
        )
    }


@pytest.fixture
def world(client):
    """An open programme whose deadline has passed, with booth 1 empty, booth 2 held by
    cooperative B and booth 5 held by cooperative A; a pending and a suspended cooperative."""
    programme = create_programme(
        title_vi="Phiên chợ kiểm tra lỗi",
        title_en="Bad input fair",
        status=ProgrammeStatus.OPEN,
        start_date=date(2027, 3, 18),
        end_date=date(2027, 3, 21),
        registration_deadline=date(2026, 11, 20),
    )
    coop_a = create_cooperative(name="HTX Kiểm Tra A")
    coop_b = create_cooperative(name="HTX Kiểm Tra B")
    products_a = [create_product(coop_a, name_vi=f"Gạo kiểm tra {n}") for n in range(4)]
    draft_a = create_product(coop_a, name_vi="Gạo nháp A", status=ProductStatus.DRAFT)
    products_b = [create_product(coop_b, name_vi=f"Mật ong kiểm tra {n}") for n in range(3)]
    db.session.add(Booth(programme_id=programme.id, number=1))
    create_booth(programme, 2, coop_b, products_b)
    create_booth(programme, 5, coop_a, products_a[:3])
    world = SimpleNamespace(
        programme=programme,
        coop_a=coop_a,
        coop_b=coop_b,
        products_a=products_a,
        draft_a=draft_a,
        products_b=products_b,
        pending=create_cooperative(name="HTX Chờ Xác Minh", status=CooperativeStatus.PENDING),
        suspended=create_cooperative(name="HTX Bị Tạm Ngưng", status=CooperativeStatus.SUSPENDED),
        staff=create_user(Role.STAFF),
        member=create_user(cooperative=coop_a),
    )
    db.session.commit()
    return world


def booth(world, number) -> str:
    return f"{CONSOLE}/{world.programme.id}/gian-hang/{number}"


# Each case: who sends it, (address, page holding the form), the form, the status, and the
# message in each language.
CASES = {
    "end-before-start": (
        "staff",
        lambda w: (f"{CONSOLE}/moi", f"{CONSOLE}/moi"),
        lambda w: {
            "title_vi": "Chợ ngược ngày",
            "start_date": "2027-04-13",
            "end_date": "2027-04-12",
            "plan_columns": "4",
            "plan_rows": "2",
        },
        400,
        {
            "vi": "Ngày kết thúc phải bằng hoặc sau ngày bắt đầu.",
            "en": "The end date must be on or after the start date.",
        },
    ),
    "booth-number-duplicated": (
        "staff",
        lambda w: (f"{CONSOLE}/{w.programme.id}/gian-hang/moi",) * 2,
        lambda w: {"number": "2"},
        409,
        {
            "vi": "Gian hàng số 2 đã có trong chương trình.",
            "en": "Booth 2 already exists in this programme.",
        },
    ),
    "cooperative-assigned-twice": (
        "staff",
        lambda w: (f"{booth(w, 1)}/xep-htx", booth(w, 1)),
        lambda w: {"cooperative_id": str(w.coop_b.id)},
        409,
        {
            "vi": "HTX Kiểm Tra B đã có gian hàng số 2 trong chương trình này.",
            "en": "HTX Kiểm Tra B already has booth 2 in this programme.",
        },
    ),
    "unverified-cooperative": (
        "staff",
        lambda w: (f"{booth(w, 1)}/xep-htx", booth(w, 1)),
        lambda w: {"cooperative_id": str(w.pending.id)},
        400,
        {
            "vi": "HTX Chờ Xác Minh chưa được Liên minh xác minh nên chưa thể có gian hàng.",
            "en": "HTX Chờ Xác Minh has not been verified by the Alliance yet, so it cannot "
            "have a booth.",
        },
    ),
    "suspended-cooperative": (
        "staff",
        lambda w: (f"{booth(w, 1)}/xep-htx", booth(w, 1)),
        lambda w: {"cooperative_id": str(w.suspended.id)},
        400,
        {
            "vi": "HTX Bị Tạm Ngưng đang bị tạm ngưng nên không thể có gian hàng.",
            "en": "HTX Bị Tạm Ngưng is suspended, so it cannot have a booth.",
        },
    ),
    "another-cooperatives-product": (
        "staff",
        lambda w: (f"{booth(w, 5)}/san-pham", booth(w, 5)),
        lambda w: {"product": [str(p.id) for p in (*w.products_a[:2], w.products_b[0])]},
        400,
        {
            "vi": "“Mật ong kiểm tra 0” không phải sản phẩm của HTX Kiểm Tra A.",
            "en": "“Mật ong kiểm tra 0” is not a product of HTX Kiểm Tra A.",
        },
    ),
    "unpublished-product": (
        "staff",
        lambda w: (f"{booth(w, 5)}/san-pham", booth(w, 5)),
        lambda w: {"product": [str(p.id) for p in (*w.products_a[:2], w.draft_a)]},
        400,
        {
            "vi": "“Gạo nháp A” không đang bán trên Chợ HTX nên không thể trưng bày.",
            "en": "“Gạo nháp A” is not on sale on Chợ HTX, so it cannot be shown.",
        },
    ),
    "applying-after-the-deadline": (
        "member",
        lambda w: (
            f"/quan-ly-htx/chuong-trinh/{w.programme.slug}/dang-ky",
            "/quan-ly-htx/chuong-trinh",
        ),
        lambda w: {"products": [str(p.id) for p in w.products_a[:3]], "note": ""},
        409,
        {
            "vi": "Đã hết hạn đăng ký gian hàng (20/11/2026).",
            "en": "The deadline for booth applications has passed (20/11/2026).",
        },
    ),
}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_in_the_pages_language_and_nothing_is_saved(client, world, case, lang):
    who, where, form, status, messages = CASES[case]
    url, form_url = where(world)
    sign_in(client, getattr(world, who))
    token = csrf_token(client, f"{form_url}?lang={lang}")
    before = written()
    refresh()
    response = client.post(f"{url}?lang={lang}", data={**form(world), "csrf_token": token})
    assert response.status_code == status, (case, response.status_code)
    page = html.unescape(response.get_data(as_text=True))
    assert f'<html lang="{lang}">' in page
    # The reason is in the page's alert or notice, where a screen reader announces it.
    alerts = " ".join(
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", alert))
        for alert in re.findall(r'role="(?:alert|status)"[^>]*>(.*?)</(?:div|p)>', page, re.S)
    )
    assert messages[lang] in alerts, (messages[lang], alerts or page_text(response)[:2000])
    other = "en" if lang == "vi" else "vi"
    assert messages[other] not in page
    assert written() == before
