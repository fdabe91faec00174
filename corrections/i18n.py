"""Translation helpers for messages made where no request is known (services, schemas)."""

from __future__ import annotations

from flask import has_app_context
from flask_babel import get_locale, gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name for a deferred-translation mark
    """Mark `message` for the catalogue; it is translated later, where the reader is known."""
    return message


def translate(message: str, **params) -> str:
    """The reader's language inside the app, English (the msgid) elsewhere."""
    if has_app_context():
        return gettext(message, **params)
    return message % params if params else message


class FieldProblem(ValueError):
    """A service refuses a value; `field` names it, `message` is an English msgid with `params`."""

    def __init__(self, field: str, message: str, **params):
        self.field = field
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)

    def translated(self) -> str:
        """The message in the reader's language."""
        return translate(self.message, **self.params)


def distance_text(meters: float | None) -> str:
    """A distance as a person says it: "350 米" under a kilometre, "1.2 公里" up to 100 km,
    then whole kilometres ("1,716 公里")."""
    if meters is None:
        return ""
    if meters < 1000:
        return translate(N_("%(m)s m"), m=f"{meters:.0f}")
    km = meters / 1000
    return translate(N_("%(km)s km"), km=f"{km:.1f}" if km < 100 else f"{km:,.0f}")


def statutory_term(terms: dict, code: str | None) -> str:
    """A statutory term (`terms`: code -> (the law's Chinese, a lazy English gloss)): the law's
    words as they are for Chinese readers, "English (中文)" for the others."""
    if code not in terms:
        return code or ""
    chinese, english = terms[code]
    if str(get_locale()).startswith("zh"):
        return chinese
    return f"{english} ({chinese})"
