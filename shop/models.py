"""Import every model so metadata is complete for migrations and create_all()."""

from shop.accounts.models import Role, User  # noqa: F401
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
    LegalForm,
    Locality,
    Membership,
    Sector,
)
from shop.media.models import StoredImage  # noqa: F401
from shop.programmes.models import Booth, BoothProduct, Programme, ProgrammeStatus  # noqa: F401
