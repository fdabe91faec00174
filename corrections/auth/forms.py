"""Login form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length

from corrections.validation import FormText


class LoginForm(FlaskForm):
    """Username and password, under the text rule (a password is kept as typed)."""

    username = StringField(_l("Username"), validators=[FormText(required=True), Length(max=64)])
    password = PasswordField(
        _l("Password"), validators=[FormText(required=True, strip=False), Length(max=256)]
    )
