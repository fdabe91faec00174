"""Forms of the administration pages. They collect text; the services decide what is valid
(the same ones the API calls), so a page and the API accept exactly the same accounts."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField

from corrections.auth.models import ROLES
from corrections.validation import FormText

#: The text rule on every box (control and direction characters refused); a password is kept as
#: typed, and the service's policy says what it must be.
TEXT = [FormText()]
PASSWORD = [FormText(strip=False)]


def role_labels() -> dict[str, str]:
    """Translated role names."""
    return {
        "admin": gettext("Administrator"),
        "supervisor": gettext("Bureau supervisor (all offices)"),
        "officer": gettext("Office officer (one office)"),
        "viewer": gettext("Wall display (view only)"),
    }


def _office_choices(offices, *, none_label: str) -> list[SelectChoice]:
    return [SelectChoice("", none_label)] + [SelectChoice(o.code, o.name) for o in offices]


class PasswordPair(FlaskForm):
    """A new password, typed twice."""

    password = PasswordField(
        _l("New password"), validators=PASSWORD, render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("New password again"), validators=PASSWORD, render_kw={"autocomplete": "new-password"}
    )

    def problems(self) -> dict[str, str]:
        """What is wrong before the policy is asked: missing, or the two differ."""
        if not (self.password.data or ""):
            return {"password": gettext("Type the new password.")}
        if self.password.data != (self.confirm.data or ""):
            return {"confirm": gettext("The two new passwords are not the same.")}
        return {}


class AccountForm(PasswordPair):
    """A new account."""

    username = StringField(
        _l("Username (for signing in)"),
        validators=TEXT,
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("Name shown on the pages"), validators=TEXT, render_kw={"autocomplete": "off"}
    )
    role = SelectField(_l("Role"), validators=TEXT, validate_choice=False)
    office_code = SelectField(_l("Judicial office"), validators=TEXT, validate_choice=False)
    password = PasswordField(
        _l("Password"), validators=PASSWORD, render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("Password again"), validators=PASSWORD, render_kw={"autocomplete": "new-password"}
    )

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = role_labels()
        self.role.choices = [SelectChoice("", gettext("— choose —"))] + [
            SelectChoice(role, labels[role]) for role in ROLES
        ]
        self.office_code.choices = _office_choices(
            offices, none_label=gettext("None (county level)")
        )


class AccountDetailsForm(FlaskForm):
    """The display name and the office of an account."""

    display_name = StringField(
        _l("Name shown on the pages"), validators=TEXT, render_kw={"autocomplete": "off"}
    )
    office_code = SelectField(_l("Judicial office"), validators=TEXT, validate_choice=False)

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.office_code.choices = _office_choices(
            offices, none_label=gettext("None (county level)")
        )


class ConfirmForm(FlaskForm):
    """A button that confirms a step (only the CSRF token travels)."""


class OfficeForm(FlaskForm):
    """A new office."""

    code = StringField(
        _l("Office code"),
        validators=TEXT,
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    name = StringField(_l("Office name"), validators=TEXT, render_kw={"autocomplete": "off"})
    lat = StringField(
        _l("Latitude"), validators=TEXT, render_kw={"autocomplete": "off", "inputmode": "decimal"}
    )
    lon = StringField(
        _l("Longitude"), validators=TEXT, render_kw={"autocomplete": "off", "inputmode": "decimal"}
    )
