"""`flask data demo-activity`: made-up views and inquiries for the demo, repeatable and sane."""

from datetime import date, timedelta

from sqlalchemy import func, select

from shop.catalog.models import Product, ProductStatus
from shop.dataset.activity import VIETNAM, has_activity, seed_activity
from shop.extensions import db
from shop.inquiries.models import Inquiry, InquiryItem
from shop.reports.models import DailyCount

TODAY = date(2026, 11, 26)


def summary():
    views = db.session.execute(
        select(func.count(), func.sum(DailyCount.count), func.min(DailyCount.day))
    ).one()
    inquiries = db.session.scalar(select(func.count()).select_from(Inquiry))
    return tuple(views), inquiries


def test_seeds_views_and_inquiries_once(demo_db):
    with demo_db.app_context():
        assert not has_activity(db.session)
        written = seed_activity(db.session, TODAY)
        assert written["inquiries"] == 90 and written["views"] > 1000
        assert has_activity(db.session)
        (rows, total, first_day), inquiries = summary()
        assert rows == written["views"] and total >= rows and inquiries == 90
        assert first_day >= TODAY - timedelta(days=119)
        assert db.session.scalar(select(func.max(DailyCount.day))) == TODAY


def test_command_adds_nothing_the_second_time(demo_db):
    runner = demo_db.test_cli_runner()
    first = runner.invoke(args=["data", "demo-activity"])
    assert first.exit_code == 0 and "90 inquiries" in first.output
    with demo_db.app_context():
        before = summary()
    second = runner.invoke(args=["data", "demo-activity"])
    assert second.exit_code == 0 and "not added" in second.output
    with demo_db.app_context():
        assert summary() == before


def test_inquiries_ask_each_cooperative_for_its_own_published_products(demo_db):
    with demo_db.app_context():
        seed_activity(db.session, TODAY)
        rows = db.session.execute(
            select(
                Inquiry.cooperative_id, Product.cooperative_id, Product.status, Inquiry.created_at
            )
            .join(InquiryItem, InquiryItem.inquiry_id == Inquiry.id)
            .join(Product, Product.id == InquiryItem.product_id)
        ).all()
        assert rows
        for asked, owner, status, created in rows:
            assert asked == owner and status == ProductStatus.PUBLISHED
            local_day = created.astimezone(VIETNAM).date() if created.tzinfo else created.date()
            assert TODAY - timedelta(days=366) <= local_day <= TODAY
        assert (
            db.session.scalar(select(func.count()).select_from(Inquiry).where(~Inquiry.items.any()))
            == 0
        )


def test_the_same_seed_gives_the_same_history(demo_db):
    with demo_db.app_context():
        seed_activity(db.session, TODAY)
        first = summary()
        db.session.execute(InquiryItem.__table__.delete())
        db.session.execute(Inquiry.__table__.delete())
        db.session.execute(DailyCount.__table__.delete())
        seed_activity(db.session, TODAY)
        assert summary() == first
