"""Login and own-password forms, under the text rule (a password is kept as typed)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, Length

from corrections.validation import FormText


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[FormText(required=True), Length(max=64)])
    password = PasswordField(
        _l("Password"), validators=[FormText(required=True, strip=False), Length(max=256)]
    )


class OwnPasswordForm(FlaskForm):
    """The current password, and the new one twice."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[
            FormText(required=True, strip=False, message=_l("Type your current password."))
        ],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[
            FormText(required=True, strip=False, message=_l("Type the new password.")),
            Length(max=256),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            FormText(
                required=True, strip=False, message=_l("Type the new password a second time.")
            ),
            EqualTo("password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
