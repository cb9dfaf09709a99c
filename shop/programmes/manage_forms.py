"""Forms of the console's programme pages: the programme, a booth's place, a time slot.

Forms read what was typed (numbers, days, times); the rules of programmes and booths are
checked by the services (shop.programmes.rules), so every caller meets the same rules.
"""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import StopValidation

from shop.catalog.forms import parse_day
from shop.cooperatives.forms import NumberField, max_length, plain_text, required
from shop.forms import Form
from shop.notify.messages import VIETNAM
from shop.programmes.rules import MAX_BOOTH_NUMBER, MAX_PLAN_SIZE, MAX_URL_LENGTH, MAX_ZONE_LENGTH
from shop.programmes.services import PROGRAMME_FIELDS


class DayField(Field):
    """A day typed as 23/12/2027 or sent by a date picker as 2027-12-23."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        if raw:
            try:
                self.data = parse_day(raw)
            except ValueError:
                raise ValueError(_("Ngày không đúng; hãy nhập dạng 23/12/2027.")) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class LocalTimeField(Field):
    """A time in Vietnam typed as 19/03/2027 09:00 or sent as 2027-03-19T09:00; data is aware."""

    PATTERNS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S")

    def process_formdata(self, valuelist):
        self.data = None
        raw = " ".join((valuelist[0] if valuelist else "").split())
        if not raw:
            return
        for pattern in self.PATTERNS:
            try:
                self.data = datetime.strptime(raw, pattern).replace(tzinfo=VIETNAM)
                return
            except ValueError:
                continue
        raise ValueError(_("Giờ không đúng; hãy nhập dạng 19/03/2027 09:00."))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M") if self.data else ""


def given(message):
    """The field must have been filled in (whatever its type)."""

    def check(form, field):
        if field.data is None and not field.errors:
            raise StopValidation(str(message))

    return check


def one_line(limit: int):
    return [max_length(limit), plain_text()]


class ProgrammeForm(Form):
    title_vi = StringField(
        _l("Tên chương trình"),
        [required(_l("Hãy nhập tên chương trình.")), *one_line(255)],
        description=_l("Ví dụ: Tuần hàng HTX & OCOP Bắc Ninh – Xuân 2027"),
    )
    title_en = StringField(_l("Tên tiếng Anh"), one_line(255))
    organizer_vi = StringField(
        _l("Đơn vị tổ chức"),
        one_line(255),
        description=_l("Ví dụ: Liên minh Hợp tác xã tỉnh Bắc Ninh"),
    )
    organizer_en = StringField(_l("Đơn vị tổ chức bằng tiếng Anh"), one_line(255))
    start_date = DayField(_l("Ngày bắt đầu"), [given(_l("Hãy nhập ngày bắt đầu."))])
    end_date = DayField(_l("Ngày kết thúc"), [given(_l("Hãy nhập ngày kết thúc."))])
    registration_deadline = DayField(
        _l("Hạn đăng ký gian hàng"),
        description=_l("Để trống thì hợp tác xã đăng ký được đến ngày bắt đầu."),
    )
    venue_vi = StringField(_l("Địa điểm"), one_line(255))
    venue_en = StringField(_l("Địa điểm bằng tiếng Anh"), one_line(255))
    description_vi = TextAreaField(
        _l("Giới thiệu"),
        [max_length(5000), plain_text(multiline=True)],
        description=_l("Mỗi dòng là một đoạn."),
    )
    description_en = TextAreaField(
        _l("Giới thiệu bằng tiếng Anh"), [max_length(5000), plain_text(multiline=True)]
    )
    plan_columns = NumberField(
        _l("Số cột của sơ đồ"),
        [given(_l("Hãy nhập số cột của sơ đồ."))],
        minimum=1,
        maximum=MAX_PLAN_SIZE,
        default=6,
    )
    plan_rows = NumberField(
        _l("Số hàng của sơ đồ"),
        [given(_l("Hãy nhập số hàng của sơ đồ."))],
        minimum=1,
        maximum=MAX_PLAN_SIZE,
        default=2,
    )
    zones = TextAreaField(
        _l("Các khu"),
        [max_length(12 * (MAX_ZONE_LENGTH + 2)), plain_text(multiline=True)],
        description=_l("Mỗi dòng một khu, theo thứ tự trên sơ đồ; tối đa 12 khu. Ví dụ: Nông sản"),
    )

    def values(self) -> dict:
        return {
            "title_vi": self.title_vi.data,
            "title_en": self.title_en.data or None,
            "organizer_vi": self.organizer_vi.data or "",
            "organizer_en": self.organizer_en.data or None,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "registration_deadline": self.registration_deadline.data,
            "venue_vi": self.venue_vi.data or "",
            "venue_en": self.venue_en.data or None,
            "description_vi": self.description_vi.data or "",
            "description_en": self.description_en.data or None,
            "plan_columns": self.plan_columns.data,
            "plan_rows": self.plan_rows.data,
            "zones": [
                line.strip() for line in (self.zones.data or "").splitlines() if line.strip()
            ],
        }

    @classmethod
    def data_of(cls, programme) -> dict:
        """The form's initial data from a programme."""
        return {
            **{
                name: getattr(programme, name)
                for name in PROGRAMME_FIELDS
                if name != "zones"  # one name per line in the form
            },
            "zones": "\n".join(programme.zones or []),
        }


class BoothForm(Form):
    """A booth's printed number, zone and cell on the plan."""

    number = NumberField(
        _l("Số gian hàng"),
        [given(_l("Hãy nhập số gian hàng."))],
        minimum=1,
        maximum=MAX_BOOTH_NUMBER,
        description=_l("Số in trên gian hàng; không cần liền nhau, ví dụ 1, 2, 10, 100."),
    )
    zone = StringField(_l("Khu"), one_line(MAX_ZONE_LENGTH))
    plan_column = NumberField(_l("Cột trên sơ đồ"), minimum=1, maximum=999)
    plan_row = NumberField(_l("Hàng trên sơ đồ"), minimum=1, maximum=999)


class AssignForm(Form):
    cooperative_id = NumberField(
        _l("Hợp tác xã"), [given(_l("Hãy chọn một hợp tác xã."))], minimum=1, maximum=2**31 - 1
    )


class LivestreamForm(Form):
    livestream_url = StringField(
        _l("Đường dẫn phát trực tiếp"),
        [max_length(MAX_URL_LENGTH), plain_text()],
        description=_l("Ví dụ: https://www.facebook.com/htxhoasen/live. Để trống để bỏ."),
        render_kw={"inputmode": "url"},
    )


class SlotForm(Form):
    starts_at = LocalTimeField(_l("Bắt đầu"), [given(_l("Hãy nhập giờ bắt đầu."))])
    ends_at = LocalTimeField(_l("Kết thúc"), [given(_l("Hãy nhập giờ kết thúc."))])
    title_vi = StringField(
        _l("Nội dung"), one_line(200), description=_l("Ví dụ: Phát trực tiếp, nếm thử mật ong")
    )
    title_en = StringField(_l("Nội dung bằng tiếng Anh"), one_line(200))
