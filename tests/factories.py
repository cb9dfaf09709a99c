"""Build records for tests: the taxonomy from the demo file, then cooperatives and products."""

import hashlib
import itertools
from datetime import date

from sqlalchemy import select

from shop.catalog.models import (
    Category,
    Product,
    ProductCertification,
    ProductImage,
    ProductStatus,
)
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    LegalForm,
    Locality,
    Sector,
)
from shop.dataset.commands import DEMO_FILE
from shop.dataset.importer import import_data, read_file
from shop.db import utcnow
from shop.extensions import db
from shop.media.models import StoredImage
from shop.programmes.models import Booth, BoothProduct, Programme, ProgrammeStatus

_seq = itertools.count(1)


def load_taxonomy() -> None:
    """Sectors, categories, localities, units and certification kinds of the demo file."""
    demo = read_file(str(DEMO_FILE))
    keys = ("meta", "sectors", "product_categories", "localities")
    import_data({k: demo[k] for k in keys}, db.session)


def create_cooperative(**values) -> Cooperative:
    n = next(_seq)
    sector = values.pop("sector", None) or db.session.scalar(select(Sector).limit(1))
    locality = values.pop("locality", None) or db.session.scalar(select(Locality).limit(1))
    coop = Cooperative(
        slug=values.pop("slug", f"htx-thu-nghiem-{n}"),
        name=values.pop("name", f"HTX Thử nghiệm số {n}"),
        legal_form=values.pop("legal_form", LegalForm.COOPERATIVE),
        sector_id=sector.id,
        locality_id=locality.id,
        address_vi=values.pop("address_vi", f"Thôn {n}, {locality.name_vi}, tỉnh Bắc Ninh"),
        phone=values.pop("phone", "0900 000 999"),
        status=values.pop("status", CooperativeStatus.VERIFIED),
        **values,
    )
    db.session.add(coop)
    db.session.flush()
    return coop


def create_product(cooperative: Cooperative, **values) -> Product:
    n = next(_seq)
    category = values.pop("category", None) or db.session.scalar(select(Category).limit(1))
    certifications = values.pop("certifications", ["vietgap"])
    status = values.pop("status", ProductStatus.PUBLISHED)
    product = Product(
        slug=values.pop("slug", f"san-pham-thu-nghiem-{n}"),
        cooperative_id=cooperative.id,
        sector_id=cooperative.sector_id,
        category_id=category.id,
        name_vi=values.pop("name_vi", f"Sản phẩm thử nghiệm {n}"),
        description_vi=values.pop("description_vi", "Mô tả sản phẩm thử nghiệm."),
        unit_code=values.pop("unit_code", "kg"),
        price_vnd=values.pop("price_vnd", 10000 + n * 1000),
        status=status,
        published_at=utcnow() if status == ProductStatus.PUBLISHED else None,
        ocop_stars=values.pop("ocop_stars", 3),
        ocop_year=values.pop("ocop_year", 2024),
        ocop_expires_on=values.pop("ocop_expires_on", date(2027, 6, 30)),
        **values,
    )
    db.session.add(product)
    db.session.flush()
    for code in certifications:
        db.session.add(ProductCertification(product_id=product.id, certification_code=code))
    db.session.flush()
    return product


def add_photos(
    product: Product,
    count: int,
    *,
    mime_type: str = "image/jpeg",
    size: tuple[int, int] = (2000, 1500),
    alt_vi: str | None = None,
    alt_en: str | None = None,
) -> list[StoredImage]:
    """Photo rows for a product, the first its cover (with the alt texts given); no files:
    pages and exports that only name the photos need none."""
    images = []
    for position in range(count):
        sha = hashlib.sha256(f"photo-{product.id}-{position}-{next(_seq)}".encode()).hexdigest()
        image = StoredImage(
            sha256=sha, mime_type=mime_type, width=size[0], height=size[1], byte_size=1
        )
        db.session.add(image)
        db.session.flush()
        alts = {"alt_vi": alt_vi, "alt_en": alt_en} if position == 0 else {}
        db.session.add(
            ProductImage(product_id=product.id, image_id=image.id, position=position, **alts)
        )
        images.append(image)
    db.session.flush()
    return images


def create_programme(**values) -> Programme:
    n = next(_seq)
    programme = Programme(
        slug=values.pop("slug", f"chuong-trinh-thu-nghiem-{n}"),
        title_vi=values.pop("title_vi", f"Chương trình thử nghiệm {n}"),
        start_date=values.pop("start_date", date(2027, 3, 18)),
        end_date=values.pop("end_date", date(2027, 3, 21)),
        status=values.pop("status", ProgrammeStatus.PUBLISHED),
        **values,
    )
    db.session.add(programme)
    db.session.flush()
    return programme


def create_booth(programme: Programme, number: int, cooperative, products=()) -> Booth:
    booth = Booth(programme_id=programme.id, number=number, cooperative_id=cooperative.id)
    db.session.add(booth)
    db.session.flush()
    for position, product in enumerate(products):
        db.session.add(BoothProduct(booth_id=booth.id, product_id=product.id, position=position))
    db.session.flush()
    return booth


def create_user(
    role=None,
    *,
    email=None,
    password="mật-khẩu-thử-nghiệm-dài",
    cooperative=None,
    membership_role=None,
    name=None,
):
    """A user with a real argon2id hash; with `cooperative`, a member (owner by default)."""
    from argon2 import PasswordHasher

    from shop.accounts.models import Role, User
    from shop.cooperatives.models import Membership, MembershipRole

    n = next(_seq)
    role = role or (Role.MEMBER if cooperative is not None else Role.BUYER)
    # The same cheap argon2id parameters as TestConfig; verification reads them from the hash.
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)
    user = User(
        email=email or f"nguoi-dung-{n}@example.com",
        name=name or f"Người dùng {n}",
        role=role,
        password_hash=password_hash,
    )
    db.session.add(user)
    db.session.flush()
    if cooperative is not None:
        db.session.add(
            Membership(
                user_id=user.id,
                cooperative_id=cooperative.id,
                role=membership_role or MembershipRole.OWNER,
            )
        )
        db.session.flush()
    user.password = password  # for tests that sign in through the form
    return user
