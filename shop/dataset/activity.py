"""Made-up buyer activity for the demo: product views and a year of inquiries.

The demo catalogue alone leaves the alliance's dashboard with nothing to show for what buyers
do. `flask data demo-activity` fills an empty database's counters and inquiries with a
repeatable, clearly fictional history (a fixed random seed, buyers at example.com addresses),
relative to today's date. It is never run by the tests' fixtures, only by `make run`.
"""

import random
import secrets
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.catalog.models import Product, ProductStatus
from shop.inquiries.models import (
    BuyerType,
    ContactChannel,
    Inquiry,
    InquiryItem,
    InquiryStatus,
)
from shop.reports.models import DailyCount

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
SEED = 2022_12_23
VIEW_DAYS = 120
INQUIRY_MONTHS = 12
INQUIRIES = 90

BUYERS = (
    ("Chị Lan", BuyerType.HOUSEHOLD, None),
    ("Anh Tuấn", BuyerType.SHOP, "Cửa hàng thực phẩm sạch Tuấn Lan"),
    ("Chị Hồng", BuyerType.SUPERMARKET, "Siêu thị mini Hồng Phát"),
    ("Anh Dũng", BuyerType.RESTAURANT, "Nhà hàng Quê Nhà"),
    ("Chị Thu", BuyerType.WHOLESALER, "Đại lý nông sản Thu Hà"),
    ("Anh Minh", BuyerType.EXPORTER, "Công ty XNK Minh Long (demo)"),
    ("Bác Hòa", BuyerType.OTHER, None),
)
MESSAGES = (
    "Cho tôi xin báo giá và thời gian giao hàng.",
    "Bên mình cần lấy hàng đều hằng tháng, HTX báo giá sỉ giúp.",
    "Sản phẩm có giao về Hà Nội không ạ?",
    "Tôi muốn đặt làm quà Tết cho công ty, khoảng 50 phần.",
    "",
)
STATUSES = (
    (InquiryStatus.NEW, 3),
    (InquiryStatus.REPLIED, 4),
    (InquiryStatus.WON, 2),
    (InquiryStatus.LOST, 1),
)


def has_activity(session: Session) -> bool:
    views = session.scalar(select(func.count()).select_from(DailyCount))
    inquiries = session.scalar(select(func.count()).select_from(Inquiry))
    return bool(views or inquiries)


def _local_datetime(day, rng: random.Random) -> datetime:
    moment = datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59)), VIETNAM)
    return moment.astimezone(UTC)


def seed_activity(session: Session, today) -> dict[str, int]:
    """Write views and inquiries; returns how many rows of each were written."""
    rng = random.Random(SEED)
    products = session.scalars(
        select(Product).where(Product.status == ProductStatus.PUBLISHED).order_by(Product.id)
    ).all()
    if not products:
        return {"views": 0, "inquiries": 0}

    # Views: a few products are much more popular than the rest, as on any catalogue.
    popularity = {p.id: rng.paretovariate(1.6) for p in products}
    view_rows = 0
    for offset in range(VIEW_DAYS):
        day = today - timedelta(days=offset)
        for product in products:
            count = int(rng.random() * popularity[product.id] * 3)
            if count:
                session.add(
                    DailyCount(day=day, kind="product_view", subject_id=product.id, count=count)
                )
                view_rows += 1

    by_cooperative: dict[int, list[Product]] = {}
    for product in products:
        by_cooperative.setdefault(product.cooperative_id, []).append(product)
    cooperative_ids = sorted(by_cooperative)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    for number in range(INQUIRIES):
        day = today - timedelta(days=rng.randint(0, INQUIRY_MONTHS * 30 - 1))
        cooperative_id = rng.choice(cooperative_ids)
        name, buyer_type, organisation = rng.choice(BUYERS)
        created = _local_datetime(day, rng)
        status = InquiryStatus.NEW if (today - day).days < 7 else rng.choice(statuses)
        inquiry = Inquiry(
            cooperative_id=cooperative_id,
            group_key=secrets.token_hex(8),
            status=status,
            buyer_name=name,
            buyer_phone=f"0900 000 {number:03d}",
            buyer_email=f"nguoi-mua-{number}@example.com",
            buyer_organisation=organisation,
            buyer_type=buyer_type,
            preferred_contact=rng.choice(list(ContactChannel)),
            message=rng.choice(MESSAGES),
            created_at=created,
            updated_at=created,
            replied_at=created + timedelta(hours=rng.randint(2, 48))
            if status != InquiryStatus.NEW
            else None,
        )
        for product in rng.sample(
            by_cooperative[cooperative_id],
            k=min(len(by_cooperative[cooperative_id]), rng.randint(1, 3)),
        ):
            inquiry.items.append(
                InquiryItem(
                    product_id=product.id,
                    product_name=product.name_vi,
                    unit_code=product.unit_code,
                    quantity=product.min_order_qty * Decimal(rng.randint(1, 20)),
                )
            )
        session.add(inquiry)
    session.flush()
    return {"views": view_rows, "inquiries": INQUIRIES}
