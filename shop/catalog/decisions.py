"""What the staff's decision pages share: digests of what a page showed, and the owners' email.

A decision only applies to what the staff member saw. The product page and the single queue
both put a digest of the shown product (or revision) into their forms; a product that changed
since, or one someone else decided first, is not decided again.
"""

import hashlib
import json
from collections import defaultdict

from sqlalchemy import select

from shop.catalog import services
from shop.catalog.models import (
    Product,
    ProductCertification,
    ProductImage,
    ProductLink,
    ProductRevision,
    ProductStatus,
)
from shop.cooperatives.models import Cooperative
from shop.cooperatives.services import owner_users
from shop.extensions import db
from shop.notify import messages
from shop.notify.services import queue_email, site_url


def digest(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def product_version(product: Product) -> str:
    """What staff see of a product: its values and photos (its status is checked apart)."""
    values = services.to_json(services.current_values(product))
    photos = [vars(photo) for photo in services.photos_of(product)]
    return digest(product.id, values, photos)


def product_versions(products) -> dict[int, str]:
    """product_version() of many products at once, in three statements whatever their number.

    A published product's photos may be those of its pending revision (services.photos_of),
    so published ones are digested one by one; the queue only lists products under review.
    """
    products = list(products)
    waiting = [p for p in products if p.status != ProductStatus.PUBLISHED]
    ids = [p.id for p in waiting]
    certifications, links, photos = defaultdict(list), defaultdict(list), defaultdict(list)
    if ids:
        for product_id, code in db.session.execute(
            select(ProductCertification.product_id, ProductCertification.certification_code)
            .where(ProductCertification.product_id.in_(ids))
            .order_by(ProductCertification.product_id, ProductCertification.certification_code)
        ):
            certifications[product_id].append(code)
        for product_id, label, url in db.session.execute(
            select(ProductLink.product_id, ProductLink.label, ProductLink.url)
            .where(ProductLink.product_id.in_(ids))
            .order_by(ProductLink.product_id, ProductLink.position)
        ):
            links[product_id].append({"label": label, "url": url})
        for row in db.session.execute(
            select(
                ProductImage.product_id,
                ProductImage.image_id,
                ProductImage.alt_vi,
                ProductImage.alt_en,
            )
            .where(ProductImage.product_id.in_(ids))
            .order_by(ProductImage.product_id, ProductImage.position)
        ):
            photos[row.product_id].append(
                vars(services.Photo(row.image_id, row.alt_vi, row.alt_en))
            )
    versions = {}
    for product in waiting:
        values = {key: getattr(product, key) for key in services.EDITABLE_FIELDS[:-2]}
        values["certifications"] = certifications[product.id]
        values["links"] = links[product.id]
        versions[product.id] = digest(product.id, services.to_json(values), photos[product.id])
    for product in products:
        if product.status == ProductStatus.PUBLISHED:
            versions[product.id] = product_version(product)
    return versions


def revision_version(revision: ProductRevision) -> str:
    return digest(revision.id, revision.data, revision.images)


def email_owners(product: Product, kind: str, reasons=(), note: str | None = None) -> None:
    """Tell the cooperative's owners by email too (the dashboard notice is the service's)."""
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    recipients = [user.email for user in owner_users(cooperative)]
    if not recipients and cooperative.email:
        recipients = [cooperative.email]
    subject, body = messages.product_decision_email(
        kind=kind,
        product=product.name_vi,
        cooperative=cooperative.name,
        reasons=reasons,
        note=note,
        link=site_url("product_dashboard.product", id=product.id),
    )
    for address in recipients:
        queue_email(address, subject, body, kind)
