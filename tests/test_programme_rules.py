"""The rules of programmes and booths (shop/programmes/rules.py) and the services that apply
them (shop/programmes/services.py): every refusal says why, with its status, and writes nothing."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import ProductStatus
from shop.cooperatives.models import CooperativeStatus
from shop.extensions import db
from shop.notify.messages import VIETNAM
from shop.programmes import rules, services
from shop.programmes.models import (
    Booth,
    BoothProduct,
    BoothSlot,
    Programme,
    ProgrammeStatus,
)
from shop.programmes.rules import ProgrammeError
from tests.factories import create_cooperative, create_product, create_programme, create_user

S = ProgrammeStatus


@pytest.fixture
def ctx(demo_db):
    """A request context on the demo database (Vietnamese, the pinned day 26/11/2026)."""
    with demo_db.test_request_context("/"):
        yield demo_db


@pytest.fixture
def staff(ctx):
    return create_user(Role.STAFF)


def refused(call, *args, status=400, says=None, **kwargs) -> ProgrammeError:
    with pytest.raises(ProgrammeError) as info:
        call(*args, **kwargs)
    assert info.value.status == status, str(info.value.message)
    if says:
        assert says in str(info.value.message), str(info.value.message)
    return info.value


def counts() -> tuple:
    """Rows of every table the services write: equal tuples mean nothing was saved."""
    tables = (Programme, Booth, BoothProduct, BoothSlot, AuditEntry)
    return tuple(db.session.scalar(select(func.count()).select_from(t)) for t in tables)


def programme_values(**values) -> dict:
    return {
        "title_vi": "Phiên chợ HTX mùa thu",
        "start_date": date(2027, 9, 10),
        "end_date": date(2027, 9, 12),
        "registration_deadline": date(2027, 8, 31),
        "plan_columns": 4,
        "plan_rows": 2,
        "zones": ["Nông sản", "Làng nghề"],
        **values,
    }


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A time in Vietnam."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VIETNAM)


@pytest.fixture
def fair(staff):
    """A draft programme 4×2 with zones, a verified cooperative with five published products."""
    programme = services.create_programme(staff, programme_values())
    coop = create_cooperative(name="HTX Hội chợ Thử")
    products = [create_product(coop, name_vi=f"Sản phẩm hội chợ {n}") for n in range(5)]
    db.session.flush()
    return programme, coop, products


# --------------------------------------------------------------------------- pure rules


def test_check_dates(ctx):
    rules.check_dates(date(2027, 3, 18), date(2027, 3, 18), None)
    rules.check_dates(date(2027, 3, 18), date(2027, 3, 21), date(2027, 3, 1))
    error = refused(rules.check_dates, date(2027, 3, 21), date(2027, 3, 18), None)
    assert "Ngày kết thúc phải bằng hoặc sau ngày bắt đầu" in str(error.message)
    refused(
        rules.check_dates,
        date(2027, 3, 18),
        date(2027, 3, 21),
        date(2027, 3, 22),
        says="Hạn đăng ký",
    )


@pytest.mark.parametrize("number, ok", [(1, True), (9999, True), (0, False), (10000, False)])
def test_check_booth_number(ctx, number, ok):
    if ok:
        rules.check_booth_number(number)
    else:
        refused(rules.check_booth_number, number, says="từ 1 đến 9999")


def test_check_plan_cell(ctx):
    programme = Programme(plan_columns=4, plan_rows=2, zones=["A"])
    rules.check_plan_cell(programme, None, None)
    rules.check_plan_cell(programme, 4, 2)
    refused(rules.check_plan_cell, programme, 5, 1, says="ngoài sơ đồ")
    refused(rules.check_plan_cell, programme, 1, 3, says="ngoài sơ đồ")
    refused(rules.check_plan_cell, programme, 0, 1, says="ngoài sơ đồ")
    refused(rules.check_plan_cell, programme, 2, None, says="cả cột và hàng")


def test_check_zone(ctx):
    programme = Programme(zones=["Nông sản"])
    rules.check_zone(programme, "Nông sản")
    rules.check_zone(programme, None)
    refused(rules.check_zone, programme, "Khu lạ", says="Khu “Khu lạ” không có trong sơ đồ")
    refused(rules.check_zone, Programme(zones=None), "Nông sản")


def test_check_can_exhibit(ctx):
    rules.check_can_exhibit(create_cooperative(name="HTX Đủ điều kiện"))
    for status, says in (
        (CooperativeStatus.SUSPENDED, "đang bị tạm ngưng"),
        (CooperativeStatus.PENDING, "chưa được Liên minh xác minh"),
        (CooperativeStatus.NEEDS_INFO, "chưa được Liên minh xác minh"),
        (CooperativeStatus.INACTIVE, "chưa được Liên minh xác minh"),
    ):
        refused(rules.check_can_exhibit, create_cooperative(status=status), says=says)


def test_check_featured(ctx):
    coop, other = create_cooperative(), create_cooperative()
    mine = [create_product(coop) for _ in range(11)]
    rules.check_featured(coop, mine[:3])
    rules.check_featured(coop, mine[:10])
    rules.check_featured(coop, [])  # none chosen yet
    refused(rules.check_featured, coop, mine[:2], says="từ 3 đến 10")
    refused(rules.check_featured, coop, mine, says="từ 3 đến 10")
    refused(rules.check_featured, coop, [mine[0], mine[0], mine[1]], says="một lần")
    theirs = create_product(other, name_vi="Sản phẩm của HTX khác")
    refused(rules.check_featured, coop, [*mine[:2], theirs], says="không phải sản phẩm của")
    for status in (ProductStatus.DRAFT, ProductStatus.SUBMITTED, ProductStatus.ARCHIVED):
        hidden = create_product(coop, status=status, name_vi=f"Chưa bán {status.value}")
        refused(rules.check_featured, coop, [*mine[:2], hidden], says="không đang bán")


def test_check_open_for_applications(ctx):
    programme = Programme(
        status=S.OPEN, start_date=date(2027, 3, 18), registration_deadline=date(2027, 2, 28)
    )
    rules.check_open_for_applications(programme, date(2027, 2, 28))
    refused(rules.check_open_for_applications, programme, date(2027, 3, 1), status=409, says="hạn")
    programme.status = S.PUBLISHED
    refused(rules.check_open_for_applications, programme, date(2027, 1, 1), status=409)


def test_check_plan_size_and_zones(ctx):
    rules.check_plan_size(1, 1)
    rules.check_plan_size(30, 30)
    for columns, rows in ((0, 2), (31, 2), (4, 0), (4, 31)):
        refused(rules.check_plan_size, columns, rows, says="từ 1 đến 30")
    rules.check_zones([f"Khu {n}" for n in range(12)])
    refused(rules.check_zones, [f"Khu {n}" for n in range(13)], says="tối đa 12")
    refused(rules.check_zones, ["Nông sản", "nông sản"], says="một lần")
    refused(rules.check_zones, ["x" * 61], says="từ 1 đến 60")


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://www.facebook.com/htxhoasen/live", True),
        ("http://youtube.com/watch?v=abc", True),
        ("", True),
        ("javascript:alert(1)", False),
        ("ftp://example.com/live", False),
        ("https://localhost/live", False),
        ("www.facebook.com/htx", False),
        ("https://example.com/" + "a" * 500, False),
        ("https://exa mple.com/", False),
    ],
)
def test_check_livestream_url(ctx, url, ok):
    if ok:
        rules.check_livestream_url(url)
    else:
        refused(rules.check_livestream_url, url, says="http:// hoặc https://")


def test_check_slot(ctx):
    programme = Programme(start_date=date(2027, 3, 18), end_date=date(2027, 3, 21))
    day = date(2027, 3, 19)
    rules.check_slot(programme, at(day, 9), at(day, 10))
    rules.check_slot(programme, at(date(2027, 3, 17), 8), at(date(2027, 3, 17), 9))  # set-up
    rules.check_slot(programme, at(date(2027, 3, 22), 20), at(date(2027, 3, 22), 21))
    refused(rules.check_slot, programme, at(day, 10), at(day, 9), says="sau giờ bắt đầu")
    refused(rules.check_slot, programme, at(day, 10), at(day, 10), says="sau giờ bắt đầu")
    refused(
        rules.check_slot,
        programme,
        at(date(2027, 3, 16), 9),
        at(date(2027, 3, 16), 10),
        says="17/03/2027 đến 22/03/2027",
    )
    refused(rules.check_slot, programme, at(date(2027, 3, 23), 9), at(date(2027, 3, 23), 10))
    # 23:30 on the 22nd in Vietnam is still the 22nd, though it is the 22nd 16:30 in UTC.
    rules.check_slot(programme, at(date(2027, 3, 22), 23), at(date(2027, 3, 22), 23, 30))
    other = BoothSlot(starts_at=at(day, 9).astimezone(UTC), ends_at=at(day, 10).astimezone(UTC))
    refused(rules.check_slot, programme, at(day, 9, 30), at(day, 11), [other], says="trùng")
    refused(rules.check_slot, programme, at(day, 8), at(day, 12), [other], says="trùng")
    rules.check_slot(programme, at(day, 10), at(day, 11), [other])  # back to back is fine
    naive = BoothSlot(starts_at=datetime(2027, 3, 19, 2), ends_at=datetime(2027, 3, 19, 3))
    refused(rules.check_slot, programme, at(day, 9, 30), at(day, 9, 45), [naive], says="trùng")


# --------------------------------------------------------------------------- programmes


def test_create_programme_is_a_draft_with_a_slug_and_an_audit_entry(staff):
    programme = services.create_programme(staff, programme_values(title_vi="Chợ Quê Kinh Bắc"))
    assert programme.slug == "cho-que-kinh-bac"
    assert programme.status == S.DRAFT
    assert (programme.plan_columns, programme.plan_rows) == (4, 2)
    assert programme.zones == ["Nông sản", "Làng nghề"]
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_type == "programme", AuditEntry.target_id == programme.id
        )
    )
    assert entry.action == "programme.created" and entry.actor_id == staff.id
    assert entry.after["start_date"] == "2027-09-10"
    twin = services.create_programme(staff, programme_values(title_vi="Chợ quê Kinh Bắc"))
    assert twin.slug == "cho-que-kinh-bac-2"


@pytest.mark.parametrize(
    "values, says",
    [
        ({"title_vi": "  "}, "Hãy nhập tên chương trình"),
        ({"title_vi": "x" * 256}, "tối đa 255"),
        ({"start_date": None}, "ngày bắt đầu"),
        ({"end_date": date(2027, 9, 9)}, "Ngày kết thúc"),
        ({"registration_deadline": date(2027, 9, 13)}, "Hạn đăng ký"),
        ({"plan_columns": 31}, "từ 1 đến 30"),
        ({"plan_rows": 0, "plan_columns": 0}, None),
        ({"zones": [f"Khu {n}" for n in range(13)]}, "tối đa 12"),
        ({"zones": ["A", "A"]}, "một lần"),
    ],
)
def test_create_programme_refuses_bad_values(staff, values, says):
    before = counts()
    refused(services.create_programme, staff, programme_values(**values), says=says)
    assert counts() == before


def test_update_programme(fair, staff):
    programme, coop, products = fair
    changed = services.update_programme(
        staff,
        programme,
        programme_values(title_vi="Phiên chợ HTX mùa thu 2027", venue_vi="Hội trường"),
    )
    assert set(changed) == {"title_vi", "venue_vi"}
    assert programme.slug == "phien-cho-htx-mua-thu-2027"  # still a draft: the address follows
    assert (
        services.update_programme(
            staff,
            programme,
            programme_values(title_vi="Phiên chợ HTX mùa thu 2027", venue_vi="Hội trường"),
        )
        == []
    )
    services.set_status(staff, programme, S.PUBLISHED)
    services.update_programme(staff, programme, programme_values(title_vi="Tên mới sau công bố"))
    assert programme.slug == "phien-cho-htx-mua-thu-2027"  # public links keep working


def test_update_programme_refuses_what_would_strand_booths(fair, staff):
    programme, coop, products = fair
    booth = services.create_booth(programme, 7, "Làng nghề", 4, 2, staff)
    services.add_slot(booth, at(date(2027, 9, 10), 9), at(date(2027, 9, 10), 10), staff)
    before = counts()
    refused(
        services.update_programme,
        staff,
        programme,
        programme_values(plan_columns=3),
        says="Gian hàng số 7 nằm ngoài sơ đồ mới",
    )
    refused(
        services.update_programme,
        staff,
        programme,
        programme_values(zones=["Nông sản"]),
        says="Khu “Làng nghề” đang có gian hàng số 7",
    )
    refused(
        services.update_programme,
        staff,
        programme,
        programme_values(
            start_date=date(2027, 9, 20), end_date=date(2027, 9, 21), registration_deadline=None
        ),
        says="khung giờ",
    )
    assert counts() == before
    db.session.refresh(programme)
    assert programme.plan_columns == 4 and programme.zones == ["Nông sản", "Làng nghề"]


def test_status_transitions(fair, staff):
    programme, coop, products = fair
    refused(services.set_status, staff, programme, S.CLOSED, status=409)
    refused(services.set_status, staff, programme, S.ARCHIVED, status=409)
    services.set_status(staff, programme, S.OPEN)
    assert db.session.scalar(select(Programme.status).where(Programme.id == programme.id)) == S.OPEN
    booth = services.create_booth(programme, 1, None, None, None, staff)
    services.assign_booth(booth, coop, products[:3], staff)
    refused(services.set_status, staff, programme, S.DRAFT, status=409, says="bản nháp")
    services.set_status(staff, programme, S.PUBLISHED)
    services.set_status(staff, programme, S.CLOSED)
    refused(services.set_status, staff, programme, S.OPEN, status=409)
    services.set_status(staff, programme, S.ARCHIVED)
    refused(
        services.create_booth, programme, 2, None, None, None, staff, status=409, says="lưu trữ"
    )
    services.set_status(staff, programme, S.CLOSED)
    actions = db.session.scalars(
        select(AuditEntry.after)
        .where(
            AuditEntry.action == "programme.status_changed", AuditEntry.target_id == programme.id
        )
        .order_by(AuditEntry.id)
    ).all()
    assert [a["status"] for a in actions] == ["open", "published", "closed", "archived", "closed"]


def test_opening_after_the_deadline_is_refused(staff):
    # The pinned day is 26/11/2026.
    late = services.create_programme(
        staff,
        programme_values(
            start_date=date(2026, 12, 1),
            end_date=date(2026, 12, 2),
            registration_deadline=date(2026, 11, 25),
        ),
    )
    refused(services.set_status, staff, late, S.OPEN, status=409, says="25/11/2026")
    services.set_status(staff, late, S.PUBLISHED)  # publishing without applications is fine


def test_a_status_changed_meanwhile_loses_with_409(fair, staff):
    programme, coop, products = fair
    # Another staff member published it a moment ago; this session still reads "draft".
    db.session.execute(
        update(Programme)
        .where(Programme.id == programme.id)
        .values(status=S.PUBLISHED)
        .execution_options(synchronize_session=False)
    )
    assert programme.status == S.DRAFT
    refused(services.set_status, staff, programme, S.OPEN, status=409, says="người khác")
    assert programme.status == S.PUBLISHED


# --------------------------------------------------------------------------- booths


def test_create_update_and_delete_booths(fair, staff):
    programme, coop, products = fair
    one = services.create_booth(programme, 1, "Nông sản", 1, 1, staff)
    ten = services.create_booth(programme, 10, None, None, None, staff)
    assert (one.zone, one.plan_column, one.plan_row) == ("Nông sản", 1, 1)
    assert ten.plan_column is None and ten.zone is None
    services.update_booth(ten, 100, "Làng nghề", 4, 2, staff)
    assert (ten.number, ten.zone, ten.plan_column, ten.plan_row) == (100, "Làng nghề", 4, 2)
    services.delete_booth(ten, staff)
    assert (
        db.session.scalar(
            select(Booth).where(Booth.number == 100, Booth.programme_id == programme.id)
        )
        is None
    )
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("%booth%")).order_by(AuditEntry.id)
    ).all()
    assert actions[-4:] == [
        "booth.created",
        "booth.created",
        "booth.updated",
        "programme.booth_deleted",
    ]


@pytest.mark.parametrize(
    "number, zone, column, row, status, says",
    [
        (1, None, None, None, 409, "Gian hàng số 1 đã có"),
        (0, None, None, None, 400, "từ 1 đến 9999"),
        (10000, None, None, None, 400, "từ 1 đến 9999"),
        (5, "Khu lạ", None, None, 400, "không có trong sơ đồ"),
        (5, None, 5, 1, 400, "ngoài sơ đồ"),
        (5, None, 1, 3, 400, "ngoài sơ đồ"),
        (5, None, 1, None, 400, "cả cột và hàng"),
        (5, None, 1, 1, 409, "đã có gian hàng số 1"),
    ],
)
def test_bad_booths_are_refused(fair, staff, number, zone, column, row, status, says):
    programme, coop, products = fair
    services.create_booth(programme, 1, None, 1, 1, staff)
    before = counts()
    refused(
        services.create_booth, programme, number, zone, column, row, staff, status=status, says=says
    )
    assert counts() == before


def test_moving_a_booth_onto_another_is_refused(fair, staff):
    programme, coop, products = fair
    services.create_booth(programme, 1, None, 1, 1, staff)
    two = services.create_booth(programme, 2, None, 2, 1, staff)
    before = counts()
    refused(services.update_booth, two, 1, None, 2, 1, staff, status=409, says="số 1 đã có")
    refused(services.update_booth, two, 2, None, 1, 1, staff, status=409, says="cột 1, hàng 1")
    assert counts() == before
    db.session.refresh(two)
    assert (two.number, two.plan_column) == (2, 2)


def test_a_duplicate_number_that_slips_past_the_check_is_a_409(fair, staff):
    """The unique constraint settles a race the check cannot see; the session stays usable."""
    programme, coop, products = fair
    services.create_booth(programme, 1, None, None, None, staff)
    twin = Booth(programme_id=programme.id, number=1)
    refused(services._in_savepoint, lambda: db.session.add(twin), "trùng", status=409)
    assert twin not in db.session
    services.create_booth(programme, 2, None, None, None, staff)
    numbers = db.session.scalars(select(Booth.number).where(Booth.programme_id == programme.id))
    assert sorted(numbers) == [1, 2]


def test_assign_booth_with_ordered_products(fair, staff):
    programme, coop, products = fair
    booth = services.create_booth(programme, 3, "Nông sản", 2, 1, staff)
    chosen = [products[4], products[0], products[2]]
    services.assign_booth(booth, coop, chosen, staff)
    assert booth.cooperative_id == coop.id
    rows = db.session.scalars(
        select(BoothProduct)
        .where(BoothProduct.booth_id == booth.id)
        .order_by(BoothProduct.position)
    ).all()
    assert [r.product_id for r in rows] == [p.id for p in chosen]
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "booth.assigned", AuditEntry.target_id == booth.id
        )
    )
    assert entry.after["products"] == [p.id for p in chosen]
    # Assigning the same cooperative again sets its products.
    services.assign_booth(booth, coop, products[:4], staff)
    assert services._featured_ids(booth) == [p.id for p in products[:4]]
    # Without products: staff pick them afterwards.
    other = create_cooperative()
    empty = services.create_booth(programme, 4, None, None, None, staff)
    services.assign_booth(empty, other, [], staff)
    assert services._featured_ids(empty) == []


def test_assign_booth_refusals_write_nothing(fair, staff):
    programme, coop, products = fair
    booth = services.create_booth(programme, 1, None, None, None, staff)
    taken = services.create_booth(programme, 2, None, None, None, staff)
    services.assign_booth(taken, coop, products[:3], staff)
    other = create_cooperative(name="HTX Khác")
    theirs = create_product(other, name_vi="Hàng của HTX Khác")
    draft = create_product(coop, status=ProductStatus.DRAFT, name_vi="Hàng nháp")
    suspended = create_cooperative(name="HTX Tạm ngưng", status=CooperativeStatus.SUSPENDED)
    pending = create_cooperative(name="HTX Chờ", status=CooperativeStatus.PENDING)
    before = counts()
    cases = [
        (booth, coop, products[:3], 409, "đã có gian hàng số 2"),  # a cooperative twice
        (booth, suspended, [], 400, "tạm ngưng"),
        (booth, pending, [], 400, "chưa được Liên minh xác minh"),
        (booth, other, [*products[:2], theirs], 400, "không phải sản phẩm của HTX Khác"),
        (taken, other, [], 409, "hợp tác xã khác"),
    ]
    for target, cooperative, chosen, status, says in cases:
        refused(services.assign_booth, target, cooperative, chosen, staff, status=status, says=says)
    assert counts() == before
    newcomer = create_cooperative(name="HTX Mới")
    mine = [create_product(newcomer) for _ in range(11)]
    before = counts()
    for chosen, says in (
        ([*mine[:2], draft], "không phải sản phẩm"),
        (mine[:2], "từ 3 đến 10"),
        (mine, "từ 3 đến 10"),
    ):
        refused(services.assign_booth, booth, newcomer, chosen, staff, says=says)
    refused(services.set_featured, taken, [*products[:2], draft], staff, says="không đang bán")
    assert counts() == before
    db.session.refresh(booth)
    assert booth.cooperative_id is None


def test_unassign_empties_the_booth(fair, staff):
    programme, coop, products = fair
    booth = services.create_booth(programme, 1, None, None, None, staff)
    services.assign_booth(booth, coop, products[:3], staff)
    services.set_livestream(booth, "https://www.facebook.com/htx/live", staff)
    services.add_slot(booth, at(date(2027, 9, 10), 9), at(date(2027, 9, 10), 10), staff)
    refused(services.delete_booth, booth, staff, status=409, says="bỏ xếp")
    services.unassign_booth(booth, staff)
    assert booth.cooperative_id is None and booth.livestream_url is None
    assert services._featured_ids(booth) == []
    assert (
        db.session.scalar(
            select(func.count()).select_from(BoothSlot).where(BoothSlot.booth_id == booth.id)
        )
        == 0
    )
    refused(services.unassign_booth, booth, staff, status=409, says="đang trống")
    refused(services.set_featured, booth, products[:3], staff, status=409)
    services.delete_booth(booth, staff)


def test_livestream_and_slots(fair, staff):
    programme, coop, products = fair
    booth = services.create_booth(programme, 1, None, None, None, staff)
    before = counts()
    refused(services.set_livestream, booth, "javascript:alert(1)", staff, says="https://")
    assert counts() == before and booth.livestream_url is None
    services.set_livestream(booth, " https://youtube.com/live/abc ", staff)
    assert booth.livestream_url == "https://youtube.com/live/abc"
    services.set_livestream(booth, "", staff)
    assert booth.livestream_url is None
    day = date(2027, 9, 11)
    slot = services.add_slot(booth, at(day, 9), at(day, 10), staff, title_vi="Nếm thử")
    stored = db.session.scalar(select(BoothSlot.starts_at).where(BoothSlot.id == slot.id))
    assert stored.replace(tzinfo=UTC) == datetime(2027, 9, 11, 2, tzinfo=UTC)  # 09:00 in Vietnam
    before = counts()
    refused(services.add_slot, booth, at(day, 9, 30), at(day, 11), staff, says="trùng")
    refused(services.add_slot, booth, at(day, 11), at(day, 10), staff, says="sau giờ bắt đầu")
    refused(services.add_slot, booth, at(date(2027, 9, 14), 9), at(date(2027, 9, 14), 10), staff)
    refused(services.add_slot, booth, at(day, 12), at(day, 13), staff, title_vi="x" * 201)
    assert counts() == before
    services.add_slot(booth, at(day, 10), at(day, 11), staff)
    services.remove_slot(slot, staff)
    assert [
        a
        for a in db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "booth", AuditEntry.target_id == booth.id
            )
        )
    ][-3:] == ["booth.slot_added", "booth.slot_added", "booth.slot_removed"]


def test_services_work_on_a_programme_made_by_the_factory(ctx, staff):
    programme = create_programme(
        plan_columns=3,
        plan_rows=1,
        zones=None,
        start_date=date(2027, 1, 1),
        end_date=date(2027, 1, 1) + timedelta(days=1),
    )
    booth = services.create_booth(programme, 9, None, 3, 1, staff)
    assert booth.id
