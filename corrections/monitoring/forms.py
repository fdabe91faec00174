"""The forms of the monitoring pages: request an order, end one. They collect text; the API's
schemas (OrderIn, EndIn) and the services decide what is valid, so page and API agree."""

from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput

from corrections.monitoring.grounds import GROUND_TERMS, ground_label
from corrections.monitoring.schemas import EndIn, OrderIn
from corrections.validation import FormText, field_errors, typed_text


class Marked:
    """Marks a field as required on the page; the schema does the checking."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


class OrderForm(FlaskForm):
    """Request electronic monitoring: the ground, the term and why."""

    ground = SelectField(_l("Ground"), validators=[Marked()], validate_choice=False)
    starts_on = StringField(_l("First day"), validators=[Marked()], widget=DateInput())
    ends_on = StringField(_l("Last day"), validators=[Marked()], widget=DateInput())
    reason = TextAreaField(_l("Why monitoring is needed"), validators=[FormText(multiline=True)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ground.choices = [SelectChoice("", gettext("— choose —"))] + [
            SelectChoice(code, ground_label(code)) for code in GROUND_TERMS
        ]


class EndForm(FlaskForm):
    """End an order early (or withdraw a request): why."""

    reason = TextAreaField(_l("Why it ends now"), validators=[FormText(multiline=True)])


_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")


def typed_date(value: str | None) -> str:
    """A date as typed (2026-01-05, 2026/1/5, 2026年1月5日, full-width digits) as YYYY-MM-DD;
    anything else as it is, for the schema to name."""
    text = typed_text(value)
    match = _DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def _problems(form: FlaskForm, error: ValidationError) -> dict[str, str]:
    problems = {}
    for name, message in field_errors(error).items():
        if name in form._fields:
            problems[name] = message
        else:
            problems.setdefault("reason", message)
    return problems


def read_order(form: OrderForm) -> tuple[OrderIn | None, dict[str, str]]:
    """The form as the API's body; (None, {field: problem}) when it does not validate."""
    if not form.validate():
        return None, {name: errors[0] for name, errors in form.errors.items() if errors}
    plain = {
        "ground": form.ground.data or "",
        "starts_on": typed_date(form.starts_on.data),
        "ends_on": typed_date(form.ends_on.data),
        "reason": form.reason.data or "",
    }
    try:
        return OrderIn.from_plain(plain), {}
    except ValidationError as error:
        return None, _problems(form, error)


def read_end(form: EndForm) -> tuple[EndIn | None, dict[str, str]]:
    """The end form as the API's body; (None, {field: problem}) when it does not validate."""
    if not form.validate():
        return None, {name: errors[0] for name, errors in form.errors.items() if errors}
    try:
        return EndIn.from_plain({"reason": form.reason.data or ""}), {}
    except ValidationError as error:
        return None, _problems(form, error)
