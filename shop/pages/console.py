"""The alliance console's front page (/quan-tri): what is waiting for staff."""

from flask import render_template

from shop.access import staff_blueprint
from shop.bulk import queries as bulk_queries
from shop.catalog import queries as catalog_queries
from shop.cooperatives import queries as cooperative_queries
from shop.extensions import db
from shop.moderation import queries as moderation_queries
from shop.moderation.queue import KIND_ARGS, KIND_LABELS
from shop.notify.messages import PRODUCT_STATUS_LABELS

bp = staff_blueprint("console", __name__, url_prefix="/quan-tri")


@bp.get("/")
def home():
    waiting = dict(db.session.execute(moderation_queries.kind_counts()).all())
    return render_template(
        "console/home.html",
        counts=cooperative_queries.status_counts(),
        product_counts=catalog_queries.review_counts(),
        waiting=[
            (KIND_LABELS[kind], KIND_ARGS[kind], waiting.get(kind, 0))
            for kind in moderation_queries.KINDS
        ],
        waiting_sum=sum(waiting.values()),
        # The product export's filters (shop.bulk.exports).
        product_statuses=list(PRODUCT_STATUS_LABELS.items()),
        sectors=db.session.scalars(bulk_queries.sectors_in_order()).all(),
    )
