"""Translation helpers for messages made where no request is known (services, schemas)."""

from __future__ import annotations

import re

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


#: A number and its unit ("17 m", "1.2 公里") are one thing to a reader: a page never breaks
#: the line between them.
_NUMBER_UNIT = re.compile(r"(?<=\d) (?=(?:米|公里|km|m)(?![A-Za-z]))")


def unbroken_units(text: str) -> str:
    """`text` with a no-break space between each number and its distance unit, for pages."""
    return _NUMBER_UNIT.sub("\u00a0", text)


def distance_text(meters: float | None) -> str:
    """A distance as a person says it: "350 米" under a kilometre, "1.2 公里" up to 100 km,
    then whole kilometres ("1,716 公里"). Rounded first, so 999.6 m is "1.0 公里", not "1000 米"."""
    if meters is None:
        return ""
    if round(meters) < 1000:
        return translate(N_("%(m)s m"), m=f"{meters:.0f}")
    km = meters / 1000
    return translate(N_("%(km)s km"), km=f"{km:.1f}" if round(km, 1) < 100 else f"{km:,.0f}")


#: How often a plan asks for a check-in, for the rhythms people name in words (每两天一次, not
#: 每 2 天一次; Chinese has one plural form, so ngettext cannot tell 1 from 2).
_RHYTHMS = {
    1: N_("Once a day"),
    2: N_("Every 2 days"),
    3: N_("Every 3 days"),
    4: N_("Every 4 days"),
    5: N_("Every 5 days"),
    6: N_("Every 6 days"),
    7: N_("Once a week"),
    8: N_("Every 8 days"),
    9: N_("Every 9 days"),
    10: N_("Every 10 days"),
    14: N_("Every 2 weeks"),
}


def how_often(every_days: int | None) -> str:
    """A plan's rhythm in words: "每天一次", "每两天一次", "每周一次", "每 30 天一次"."""
    if every_days is None:
        return ""
    if every_days in _RHYTHMS:
        return translate(_RHYTHMS[every_days])
    return translate(N_("Every %(num)s days"), num=every_days)


def statutory_term(terms: dict, code: str | None) -> str:
    """A statutory term (`terms`: code -> (the law's Chinese, a lazy English gloss)): the law's
    words as they are for Chinese readers, "English (中文)" for the others."""
    if code not in terms:
        return code or ""
    chinese, english = terms[code]
    if str(get_locale()).startswith("zh"):
        return chinese
    return f"{english} ({chinese})"
