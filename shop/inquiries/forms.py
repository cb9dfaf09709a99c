"""Forms of the inquiry list: adding a product, and the list page's quantities."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField

from shop.forms import Form

#: The list page names each quantity field after its product: qty-<product id>.
QUANTITY_PREFIX = "qty-"


class AddForm(Form):
    """The small form on product, cooperative and booth pages; the rules live in lists.add."""

    product = HiddenField()
    quantity = StringField(_l("Số lượng"))
    #: Set on booth pages so the inquiry remembers where the buyer met the product.
    booth = HiddenField()
    next = HiddenField()


class ListForm(Form):
    """The list page's one form: the quantities (qty-<id> fields, read by the view) and CSRF."""

    #: The product a line's "Xóa" button removes (the button's own value).
    product = HiddenField()


def typed_quantities(form_data, limit: int) -> dict[int, str]:
    """{product id: text} of the qty-<id> fields posted, at most `limit` of them."""
    typed: dict[int, str] = {}
    for key, value in form_data.items():
        if not key.startswith(QUANTITY_PREFIX):
            continue
        raw_id = key[len(QUANTITY_PREFIX) :]
        if not (raw_id.isascii() and raw_id.isdecimal()) or len(raw_id) > 10:
            continue
        typed[int(raw_id)] = value
        if len(typed) >= limit:
            break
    return typed
