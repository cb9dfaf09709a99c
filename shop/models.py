"""Import every model so metadata is complete for migrations and create_all()."""

from shop.accounts.models import AuthSession, Role, User  # noqa: F401
from shop.audit.models import AuditEntry  # noqa: F401
from shop.bulk.models import ImportBatch  # noqa: F401
from shop.catalog.models import (  # noqa: F401
    Category,
    CertificationKind,
    OcopGroup,
    Product,
    ProductCertification,
    ProductImage,
    ProductStatus,
    Unit,
)
from shop.cooperatives.models import (  # noqa: F401
    Cooperative,
    CooperativeStatus,
    Invitation,
    LegalForm,
    Locality,
    Membership,
    Sector,
)
from shop.inquiries.models import Inquiry, InquiryItem  # noqa: F401
from shop.media.models import StoredImage  # noqa: F401
from shop.moderation.models import ModerationCase, ProductReport  # noqa: F401
from shop.notify.models import Notification, OutboxEmail  # noqa: F401
from shop.programmes.models import Booth, BoothProduct, Programme, ProgrammeStatus  # noqa: F401
from shop.reports.models import DailyCount  # noqa: F401
