"""Forms of buyers' product reports and of the staff's decisions on a case."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from shop.catalog.forms import CheckboxesField
from shop.catalog.services import REVIEW_REASONS
from shop.cooperatives.forms import max_length, normalize_email, plain_text, required, valid_email
from shop.forms import Form, choices
from shop.moderation.models import ReportReason
from shop.moderation.services import DETAILS_MAX, NOTE_MAX, REPORT_REASONS


def _reason_given(form, field):
    if not field.raw_data or not field.raw_data[0]:
        raise StopValidation(_("Hãy chọn sản phẩm có vấn đề gì."))


class ReportForm(Form):
    reason = RadioField(
        _l("Sản phẩm có vấn đề gì?"),
        choices=choices((reason.value, label) for reason, label in REPORT_REASONS.items()),
        validators=[_reason_given],
        validate_choice=False,  # validate_reason below gives the message
    )
    details = TextAreaField(
        _l("Mô tả thêm"),
        validators=[max_length(DETAILS_MAX), plain_text(multiline=True)],
        description=_l(
            "Điều gì chưa đúng, bạn thấy ở đâu. Bắt buộc khi chọn “Khác”. Tối đa %(max)d ký tự.",
            max=DETAILS_MAX,
        ),
    )
    email = StringField(
        _l("Email của bạn"),
        filters=[lambda value: normalize_email(value) if isinstance(value, str) else value],
        validators=[valid_email],
        description=_l(
            "Chỉ cán bộ Liên minh HTX thấy, để hỏi thêm khi cần; hợp tác xã không thấy địa chỉ này."
        ),
    )

    def validate_reason(self, field):
        if field.data not in {reason.value for reason in ReportReason}:
            raise ValidationError(_("Lựa chọn này không có trong danh sách. Hãy chọn lại."))

    def validate_details(self, field):
        if self.reason.data == ReportReason.OTHER.value and not field.data:
            raise ValidationError(_("Khi chọn “Khác”, hãy mô tả vấn đề bạn thấy."))


# --------------------------------------------------------------------------- staff decisions


def _note(label, description=None, *validators):
    return TextAreaField(
        label,
        validators=[*validators, max_length(NOTE_MAX), plain_text(multiline=True)],
        description=description,
    )


class DismissForm(Form):
    note = _note(
        _l("Ghi chú nội bộ"),
        _l("Chỉ cán bộ Liên minh HTX thấy; hợp tác xã không được báo."),
    )


class ChangesForm(Form):
    reasons = CheckboxesField(
        _l("Cần sửa gì?"),
        choices=choices(REVIEW_REASONS.items()),
        # Unknown codes are dropped by the service; the note check below counts.
        validate_choice=False,
    )
    note = _note(
        _l("Ghi chú cho hợp tác xã"),
        _l("Hợp tác xã đọc đúng lời này. Ví dụ: Ghi rõ xuất xứ nguyên liệu trong mô tả."),
    )

    def validate_note(self, field):
        known = [code for code in self.reasons.data or () if code in REVIEW_REASONS]
        if not known and not field.data:
            raise ValidationError(_("Hãy chọn ít nhất một lý do hoặc ghi rõ cần sửa gì."))


class UnpublishForm(Form):
    note = _note(
        _l("Lý do gỡ sản phẩm"),
        _l(
            "Bắt buộc. Hợp tác xã đọc đúng lời này. Ví dụ: Sản phẩm mang nhãn hiệu của cơ sở "
            "khác (hàng nhái)."
        ),
        required(_l("Hãy ghi lý do gỡ sản phẩm để hợp tác xã biết.")),
    )
