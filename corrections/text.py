"""What a text input may hold: the one rule every body field, form field and query argument
goes through (corrections.validation applies it to schemas, forms and query arguments).

- **Refused anywhere**: control characters (Unicode category Cc: NUL, C0, DEL, C1) and lone
  surrogates, except tab and line breaks in a multi-line text (a note); in a one-line text
  the Unicode line and paragraph separators too. Refused as well: the direction embeddings,
  overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a name display as
  something other than what is stored ("Trojan Source"). PostgreSQL cannot store a NUL at
  all; SQLite would store it and then match every row when it is searched for.
- **Invisible**: white space, the default-ignorable code points (zero-width space and
  joiners, soft hyphen, direction marks, word joiner, byte order mark, variation selectors,
  Hangul fillers, tags), the other format characters (category Cf) and the blank Braille
  pattern. They are taken off both ends of a text; a text made only of them is blank. Inside
  a text they stay: a joiner can be part of how a name is written.
- **Digits**: a digits field (PIN, phone, resident ID, times, whole numbers) takes 0-9;
  full-width digits (as Chinese input methods type them) are converted, any other script's
  digits refused.
"""

from __future__ import annotations

import regex

from corrections.i18n import N_

CONTROL = N_("must not contain control characters")
DIRECTION = N_("must not contain characters that change the text direction")
OTHER_DIGITS = N_("must be written with the digits 0 to 9")
REQUIRED = N_("is required")

_CONTROL_ONE_LINE = regex.compile(r"[\p{Cc}\p{Cs}\u2028\u2029]")
_CONTROL_LINES = regex.compile(r"[[\p{Cc}\p{Cs}]--[\t\n\r]]", regex.V1)
_DIRECTION = regex.compile(r"[\u202a-\u202e\u2066-\u2069]")
#: What is refused is never invisible, so trimming can never hide it.
_INVISIBLE = (
    r"[[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]"
    r"--[[\p{Cc}--[\t\n\r]]\u202a-\u202e\u2066-\u2069]]"
)
_EDGES = regex.compile(rf"\A{_INVISIBLE}+|{_INVISIBLE}+\Z", regex.V1)
_OTHER_DIGITS = regex.compile(r"[\p{Nd}--[0-9\uff10-\uff19]]", regex.V1)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


class TextRefused(ValueError):
    """The text holds a character no text field takes; the message is an English msgid."""


def check(value: str, *, multiline: bool = False) -> None:
    """TextRefused when `value` holds a control or direction character."""
    control = _CONTROL_LINES if multiline else _CONTROL_ONE_LINE
    if control.search(value):
        raise TextRefused(CONTROL)
    if _DIRECTION.search(value):
        raise TextRefused(DIRECTION)


def clean(value: str, *, multiline: bool = False, strip: bool = True) -> str:
    """`value` as it is kept: checked, the invisible characters at both ends removed; "" when
    nothing visible is left. With `strip` False (a password) the text is kept as typed, but a
    blank one is still "" ."""
    check(value, multiline=multiline)
    stripped = trim(value)
    if not strip and stripped:
        return value
    return stripped


def without_controls(value: str) -> str:
    """`value` with its control characters taken out (line breaks and tabs stay): a refused
    text can be shown back to its writer for correction without echoing what was refused."""
    return _CONTROL_LINES.sub("", value)


def trim(value: str) -> str:
    """`value` without the invisible characters at its ends (nothing is checked)."""
    return _EDGES.sub("", value)


def is_blank(value: str | None) -> bool:
    """Whether nothing visible is in `value` (a refused character counts as visible)."""
    return not value or not trim(value)


def ascii_digits(value: str) -> str:
    """Full-width digits turned into 0-9; TextRefused for the digits of any other script."""
    if _OTHER_DIGITS.search(value):
        raise TextRefused(OTHER_DIGITS)
    return value.translate(_FULL_WIDTH_DIGITS)
