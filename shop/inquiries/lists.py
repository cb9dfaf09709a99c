"""The buyer's inquiry list: products collected from several cooperatives, sent once later.

Anonymous visitors keep their list in the Flask session (a short list of
[product id, quantity, booth id] triples); signed-in users keep it in InquiryListItem rows.
Every function takes `user`: the signed-in User, or None for an anonymous visitor (the
session). Writes validate everything first, so a refused request changes nothing; they flush,
the view commits. No audit entries: a buyer's list is private working state (like a basket),
not a decision anyone answers for; the inquiry it becomes (sending) is recorded there.

Rules (decided here, tested in tests/test_inquiry_list.py):
- a quantity is a positive amount in the product's unit, at most 1.000.000 with at most three
  decimals; "1,5" is 1.5; in Vietnamese "1.500" is fifteen hundred, in English "1,500" is;
- only public products may be added; adding a product already on the list adds to its quantity
  (the sum is refused above the maximum); at most 50 lines;
- a booth is remembered only when it features the product in a public programme; another booth
  id (tampered or stale) is ignored and the product is added without it;
- a product that stopped being public after it was added stays on the list, greyed as no
  longer sold, and is left out of the estimate and of sending (`InquiryList.sendable`);
- on sign-in the session's list is merged into the saved one by the same adding rule (sums
  capped at the maximum, lines past 50 dropped and counted).
"""

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import flash, g, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import contains_eager

from shop.catalog.models import Product, ProductStatus
from shop.catalog.queries import public_products, with_card_data
from shop.cooperatives.models import Cooperative
from shop.cooperatives.queries import is_public_cooperative
from shop.extensions import db
from shop.inquiries.models import InquiryListItem
from shop.programmes.models import PUBLIC_PROGRAMME_STATUSES, Booth, BoothProduct, Programme
from shop.text.folding import nfc
from shop.text.formatting import format_quantity

#: The session key of an anonymous visitor's list (kept across signing in: see merge_on_sign_in).
SESSION_KEY = "inquiry_list"
MAX_LINES = 50
MAX_QUANTITY = Decimal("1000000")
QUANTUM = Decimal("0.001")
#: Longest quantity text read at all (1.000.000,000 is 13 characters).
MAX_INPUT_LENGTH = 20

_PLAIN = re.compile(r"\d+(?:[.,]\d+)?", re.ASCII)
#: Thousands written with the language's grouping mark: 1.500 (vi), 1,500 (en).
_GROUPED = {"vi": re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+", re.ASCII)}
_GROUPED["en"] = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+", re.ASCII)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


class InquiryListError(Exception):
    """A change the rules refuse; `message` is shown to the buyer, `status` is the HTTP answer."""

    def __init__(self, message, status: int = 422, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.status = status
        #: The form field at fault ("quantity", or a product id on the list page).
        self.field = field


# --------------------------------------------------------------------------- quantities


def parse_quantity(text: str | None, lang: str = "vi") -> Decimal:
    """The amount a buyer typed, in the product's unit; raise InquiryListError when unclear.

    NFC, spaces dropped; a comma or a point is the decimal mark, except that a number grouped
    by thousands in the page's language reads as thousands (vi 1.500 = en 1,500 = 1500).
    """
    raw = _SPACES.sub("", nfc(text or ""))
    if not raw:
        raise InquiryListError(_l("Hãy nhập số lượng."))
    if len(raw) > MAX_INPUT_LENGTH:
        raise InquiryListError(_l("Số lượng tối đa là %(max)s.", max=_max_label(lang)))
    grouped = _GROUPED["en" if lang == "en" else "vi"]
    if grouped.fullmatch(raw):
        raw = raw.replace("." if lang != "en" else ",", "")
    elif raw.startswith("-") and _PLAIN.fullmatch(raw[1:]):
        raise InquiryListError(_l("Số lượng phải lớn hơn 0."))
    elif not _PLAIN.fullmatch(raw):
        raise InquiryListError(_l("Số lượng phải là một số, ví dụ 2 hoặc 1,5."))
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover (the patterns above admit only numbers)
        raise InquiryListError(_l("Số lượng phải là một số, ví dụ 2 hoặc 1,5.")) from None
    check_quantity(value, lang)
    return value


def check_quantity(value: Decimal, lang: str = "vi") -> None:
    if not value.is_finite() or value <= 0:
        raise InquiryListError(_l("Số lượng phải lớn hơn 0."))
    if value > MAX_QUANTITY:
        raise InquiryListError(_l("Số lượng tối đa là %(max)s.", max=_max_label(lang)))
    if value != value.quantize(QUANTUM):
        raise InquiryListError(_l("Số lượng chỉ có tối đa 3 chữ số thập phân, ví dụ 0,125."))


def _max_label(lang: str) -> str:
    return format_quantity(MAX_QUANTITY, lang)


def input_value(value: Decimal | int | None, lang: str = "vi") -> str:
    """A quantity to put in a form field: no grouping, the language's decimal mark (1,5 / 1.5)."""
    qty = Decimal(value or 1).normalize()
    if qty == qty.to_integral_value():
        qty = qty.quantize(Decimal(1))
    text = format(qty, "f")
    return text if lang == "en" else text.replace(".", ",")


def _stored(value: Decimal) -> str:
    """A quantity as kept in the session (JSON has no decimals)."""
    return format(value.quantize(QUANTUM).normalize(), "f")


# --------------------------------------------------------------------------- stored lines


@dataclass
class Line:
    """One product on a list as stored: what sending reads."""

    product_id: int
    quantity: Decimal
    booth_id: int | None = None


def _session_lines() -> list[Line]:
    """The anonymous list from the session; malformed entries (an old cookie) are skipped."""
    lines: list[Line] = []
    seen: set[int] = set()
    for entry in session.get(SESSION_KEY) or ():
        try:
            product_id, quantity, booth_id = entry
            product_id = int(product_id)
            quantity = Decimal(str(quantity))
            booth_id = int(booth_id) if booth_id is not None else None
            check_quantity(quantity)
        except (TypeError, ValueError, InvalidOperation, InquiryListError):
            continue
        if product_id in seen or len(lines) >= MAX_LINES:
            continue
        seen.add(product_id)
        lines.append(Line(product_id, quantity, booth_id))
    return lines


def _save_session(lines: list[Line]) -> None:
    if lines:
        session[SESSION_KEY] = [[ln.product_id, _stored(ln.quantity), ln.booth_id] for ln in lines]
    else:
        session.pop(SESSION_KEY, None)


def _saved_rows(user) -> list[InquiryListItem]:
    return list(
        db.session.scalars(
            select(InquiryListItem)
            .where(InquiryListItem.user_id == user.id)
            .order_by(InquiryListItem.added_at, InquiryListItem.id)
        )
    )


def stored_lines(user) -> list[Line]:
    """Every line of the list, in the order added, whether or not its product is still public."""
    if user is None:
        return _session_lines()
    return [Line(r.product_id, r.quantity, r.booth_id) for r in _saved_rows(user)]


def line_count(user) -> int:
    """How many products the list holds (the header's badge): one statement at most, once.

    Anonymous visitors' lists are in the session: no SQL at all.
    """
    if user is None:
        return len(_session_lines())
    if "inquiry_line_count" not in g:
        g.inquiry_line_count = (
            db.session.scalar(
                select(func.count())
                .select_from(InquiryListItem)
                .where(InquiryListItem.user_id == user.id)
            )
            or 0
        )
    return g.inquiry_line_count


# --------------------------------------------------------------------------- writes


@dataclass
class Added:
    """What add() did, for the message the buyer reads."""

    product: Product
    added: Decimal
    total: Decimal
    #: False when the product was already on the list (the quantity grew).
    new_line: bool
    booth_id: int | None


def public_product(product_id) -> Product:
    """A product anyone may see now, with its unit and cooperative; else InquiryListError."""
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise InquiryListError(_l("Không rõ sản phẩm nào cần thêm."), 400) from None
    if not 0 < product_id < 2**31:
        raise InquiryListError(_l("Sản phẩm này không có hoặc không còn bán."))
    stmt = (
        public_products()
        .where(Product.id == product_id)
        .options(contains_eager(Product.cooperative))
    )
    product = db.session.scalar(with_card_data(stmt))
    if product is None:
        raise InquiryListError(_l("Sản phẩm này không có hoặc không còn bán."))
    return product


def featuring_booth(product: Product, booth_id) -> int | None:
    """`booth_id` when that booth of a public programme features `product`, else None."""
    try:
        booth_id = int(booth_id) if booth_id not in (None, "") else None
    except (TypeError, ValueError):
        return None
    if booth_id is None or not 0 < booth_id < 2**31:
        return None
    found = db.session.scalar(
        select(BoothProduct.booth_id)
        .join(Booth, Booth.id == BoothProduct.booth_id)
        .join(Programme, Programme.id == Booth.programme_id)
        .where(
            BoothProduct.booth_id == booth_id,
            BoothProduct.product_id == product.id,
            Booth.cooperative_id == product.cooperative_id,
            Programme.status.in_(PUBLIC_PROGRAMME_STATUSES),
        )
    )
    return found


def _too_many():
    return InquiryListError(
        _l(
            "Yêu cầu báo giá có tối đa %(max)d sản phẩm. Hãy gửi hoặc bớt sản phẩm rồi thêm tiếp.",
            max=MAX_LINES,
        )
    )


def _sum_too_large(product: Product, current: Decimal, lang: str):
    return InquiryListError(
        _l(
            "Trong danh sách đã có %(current)s %(unit)s; cộng thêm sẽ vượt quá %(max)s.",
            current=format_quantity(current, lang),
            unit=product.unit.t("name"),
            max=_max_label(lang),
        ),
        field="quantity",
    )


def add(user, product_id, quantity_text: str | None, booth_id=None, lang: str = "vi") -> Added:
    """Put a public product on the list, or add `quantity` to the line already there."""
    product = public_product(product_id)
    try:
        try:
            quantity = parse_quantity(quantity_text, lang)
        except InquiryListError as error:
            error.field = "quantity"
            raise
        return _add(user, product, quantity, booth_id, lang)
    except InquiryListError as error:
        error.product = product  # the refusal page offers to try again
        raise


def _add(user, product: Product, quantity: Decimal, booth_id, lang: str) -> Added:
    booth_id = featuring_booth(product, booth_id)

    if user is None:
        lines = _session_lines()
        line = next((ln for ln in lines if ln.product_id == product.id), None)
        if line is None:
            if len(lines) >= MAX_LINES:
                raise _too_many()
            lines.append(Line(product.id, quantity, booth_id))
            _save_session(lines)
            return Added(product, quantity, quantity, True, booth_id)
        total = line.quantity + quantity
        if total > MAX_QUANTITY:
            raise _sum_too_large(product, line.quantity, lang)
        line.quantity = total
        line.booth_id = line.booth_id or booth_id
        _save_session(lines)
        return Added(product, quantity, total, False, line.booth_id)

    row = db.session.scalar(
        select(InquiryListItem).where(
            InquiryListItem.user_id == user.id, InquiryListItem.product_id == product.id
        )
    )
    if row is None:
        if line_count(user) >= MAX_LINES:
            raise _too_many()
        row = InquiryListItem(
            user_id=user.id, product_id=product.id, quantity=quantity, booth_id=booth_id
        )
        db.session.add(row)
        db.session.flush()
        g.pop("inquiry_line_count", None)
        return Added(product, quantity, quantity, True, booth_id)
    total = row.quantity + quantity
    if total > MAX_QUANTITY:
        raise _sum_too_large(product, row.quantity, lang)
    row.quantity = total
    row.booth_id = row.booth_id or booth_id
    db.session.flush()
    return Added(product, quantity, total, False, row.booth_id)


def update_quantities(user, typed: dict[int, str], lang: str = "vi") -> int:
    """Set the quantities typed on the list page ({product id: text}); all or nothing.

    Ids that are not on this user's list are ignored (a line removed in another tab, or a
    made-up id): nobody else's list can be reached from here. Returns how many lines changed.
    Raises InquiryListError whose `errors` maps product ids to messages.
    """
    current = {ln.product_id: ln for ln in stored_lines(user)}
    wanted: dict[int, Decimal] = {}
    errors: dict[int, object] = {}
    for product_id, text in typed.items():
        if product_id not in current:
            continue
        try:
            wanted[product_id] = parse_quantity(text, lang)
        except InquiryListError as error:
            errors[product_id] = error.message
    if errors:
        error = InquiryListError(
            ngettext(
                "Chưa lưu được: %(num)d số lượng chưa đúng. Hãy sửa ô được đánh dấu.",
                "Chưa lưu được: %(num)d số lượng chưa đúng. Hãy sửa các ô được đánh dấu.",
                len(errors),
            )
        )
        error.errors = errors
        raise error
    changed = {pid: q for pid, q in wanted.items() if q != current[pid].quantity}
    if not changed:
        return 0
    if user is None:
        for product_id, quantity in changed.items():
            current[product_id].quantity = quantity
        _save_session(list(current.values()))
        return len(changed)
    for row in _saved_rows(user):
        if row.product_id in changed:
            row.quantity = changed[row.product_id]
    db.session.flush()
    return len(changed)


def remove(user, product_id) -> bool:
    """Take a product off this user's list; False when it was not on it (nothing changes)."""
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise InquiryListError(_l("Không rõ sản phẩm nào cần xóa."), 400) from None
    if user is None:
        lines = _session_lines()
        kept = [ln for ln in lines if ln.product_id != product_id]
        if len(kept) == len(lines):
            return False
        _save_session(kept)
        return True
    if not 0 < product_id < 2**31:
        return False
    result = db.session.execute(
        delete(InquiryListItem).where(
            InquiryListItem.user_id == user.id, InquiryListItem.product_id == product_id
        )
    )
    g.pop("inquiry_line_count", None)
    return bool(result.rowcount)


def clear(user) -> None:
    """Empty the list (after it was sent)."""
    if user is None:
        session.pop(SESSION_KEY, None)
        return
    db.session.execute(delete(InquiryListItem).where(InquiryListItem.user_id == user.id))
    g.pop("inquiry_line_count", None)


@dataclass
class Merged:
    added: int = 0
    grown: int = 0
    #: Lines left out because the saved list was full.
    dropped: int = 0


def merge(user, lines: list[Line]) -> Merged:
    """Fold an anonymous list into `user`'s saved one: quantities add up (capped at the
    maximum); products no longer public are skipped; lines past MAX_LINES are dropped."""
    result = Merged()
    if not lines:
        return result
    ids = {ln.product_id for ln in lines}
    public_ids = set(
        db.session.scalars(
            select(Product.id).join(Product.cooperative).where(_is_public(), Product.id.in_(ids))
        )
    )
    rows = {row.product_id: row for row in _saved_rows(user)}
    for line in lines:
        if line.product_id not in public_ids:
            continue
        row = rows.get(line.product_id)
        if row is not None:
            row.quantity = min(row.quantity + line.quantity, MAX_QUANTITY)
            row.booth_id = row.booth_id or line.booth_id
            result.grown += 1
        elif len(rows) >= MAX_LINES:
            result.dropped += 1
        else:
            row = InquiryListItem(
                user_id=user.id,
                product_id=line.product_id,
                quantity=line.quantity,
                booth_id=line.booth_id,
            )
            db.session.add(row)
            rows[line.product_id] = row
            result.added += 1
    db.session.flush()
    g.pop("inquiry_line_count", None)
    return result


def merge_on_sign_in(sender, user, **extra) -> None:
    """flask_login's user_logged_in: the list made before signing in joins the saved one.

    shop.accounts.sessions keeps SESSION_KEY when it renews the session, so the list is still
    there when this runs; the view that signed the user in commits.
    """
    lines = _session_lines()
    session.pop(SESSION_KEY, None)
    if not lines:
        return
    result = merge(user, lines)
    if result.added or result.grown:
        flash(
            ngettext(
                "%(num)d sản phẩm bạn chọn trước khi đăng nhập đã được thêm vào yêu cầu báo giá.",
                "%(num)d sản phẩm bạn chọn trước khi đăng nhập đã được thêm vào yêu cầu báo giá.",
                result.added + result.grown,
            ),
            "success",
        )
    if result.dropped:
        flash(
            ngettext(
                "%(num)d sản phẩm không thêm được vì yêu cầu báo giá đã đủ %(max)d sản phẩm.",
                "%(num)d sản phẩm không thêm được vì yêu cầu báo giá đã đủ %(max)d sản phẩm.",
                result.dropped,
                max=MAX_LINES,
            ),
            "warning",
        )


# --------------------------------------------------------------------------- reading the list


@dataclass
class ListLine:
    """A line as the list page shows it."""

    product: Product
    quantity: Decimal
    booth: Booth | None
    #: False once the product stopped being public: greyed, left out of estimate and sending.
    available: bool

    @property
    def subtotal(self) -> int | None:
        """Price × quantity in whole VND; None for "Liên hệ" or an unavailable product."""
        if not self.available or self.product.price_vnd is None:
            return None
        amount = Decimal(self.product.price_vnd) * self.quantity
        return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def below_minimum(self) -> bool:
        return self.available and self.quantity < self.product.min_order_qty

    @property
    def line(self) -> Line:
        return Line(self.product.id, self.quantity, self.booth.id if self.booth else None)


@dataclass
class CooperativeGroup:
    cooperative: Cooperative
    lines: list[ListLine] = field(default_factory=list)

    @property
    def available_lines(self) -> list[ListLine]:
        return [ln for ln in self.lines if ln.available]

    @property
    def estimate(self) -> int:
        """The sum of the priced, available lines (an indication: cooperatives quote)."""
        return sum(ln.subtotal for ln in self.lines if ln.subtotal is not None)

    @property
    def on_request(self) -> int:
        """Available lines without a price ("Liên hệ"), which the estimate leaves out."""
        return sum(1 for ln in self.available_lines if ln.product.price_vnd is None)


@dataclass
class InquiryList:
    groups: list[CooperativeGroup] = field(default_factory=list)

    @property
    def lines(self) -> list[ListLine]:
        return [ln for group in self.groups for ln in group.lines]

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def available_count(self) -> int:
        return sum(len(group.available_lines) for group in self.groups)

    @property
    def estimate(self) -> int:
        return sum(group.estimate for group in self.groups)

    def sendable(self) -> list[CooperativeGroup]:
        """What sending reads: per cooperative, only products still public; no empty group."""
        groups = []
        for group in self.groups:
            lines = group.available_lines
            if lines:
                groups.append(CooperativeGroup(group.cooperative, lines))
        return groups


def _is_public():
    return and_(Product.status == ProductStatus.PUBLISHED, is_public_cooperative())


def read_list(user) -> InquiryList:
    """The list grouped by cooperative, in the order products were added.

    Two statements whatever the length: the products with what a line shows, and the booths
    the lines came from (only when some did).
    """
    lines = stored_lines(user)
    if user is not None:
        g.inquiry_line_count = len(lines)  # the header needs no statement of its own
    if not lines:
        return InquiryList()
    stmt = with_card_data(
        select(Product, _is_public().label("available"))
        .join(Product.cooperative)
        .where(Product.id.in_([ln.product_id for ln in lines]))
    )
    products = {
        product.id: (product, bool(available)) for product, available in db.session.execute(stmt)
    }
    booth_ids = {ln.booth_id for ln in lines if ln.booth_id is not None}
    booths = {}
    if booth_ids:
        booths = {
            booth.id: booth
            for booth in db.session.scalars(
                select(Booth)
                .join(Booth.programme)
                .where(Booth.id.in_(booth_ids), Programme.status.in_(PUBLIC_PROGRAMME_STATUSES))
                .options(contains_eager(Booth.programme))
            )
        }
    groups: dict[int, CooperativeGroup] = {}
    for line in lines:
        found = products.get(line.product_id)
        if found is None:  # deleted since (saved rows cascade; a session may still name it)
            continue
        product, available = found
        group = groups.get(product.cooperative_id)
        if group is None:
            group = groups[product.cooperative_id] = CooperativeGroup(product.cooperative)
        group.lines.append(ListLine(product, line.quantity, booths.get(line.booth_id), available))
    return InquiryList(list(groups.values()))


def sendable_groups(user) -> list[CooperativeGroup]:
    """The list's public lines grouped by cooperative: what sending turns into inquiries."""
    return read_list(user).sendable()


def added_message(result: Added, lang: str) -> str:
    """'Đã thêm 2 kg “Cải ngồng” vào yêu cầu báo giá.' (and the new total when it grew)."""
    unit = result.product.unit.t("name")
    name = result.product.t("name")
    if result.new_line:
        return _(
            "Đã thêm %(quantity)s %(unit)s “%(name)s” vào yêu cầu báo giá.",
            quantity=format_quantity(result.added, lang),
            unit=unit,
            name=name,
        )
    return _(
        "Đã thêm %(quantity)s %(unit)s “%(name)s” vào yêu cầu báo giá (nay là %(total)s %(unit)s).",
        quantity=format_quantity(result.added, lang),
        unit=unit,
        name=name,
        total=format_quantity(result.total, lang),
    )
