"""Reading request bodies through pydantic schemas into CONTRACT-shaped errors."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Annotated, TypeVar

from flask import request
from flask_babel import gettext, lazy_gettext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Tag,
    ValidationError,
)
from wtforms.validators import StopValidation

from corrections import text as rules
from corrections.errors import ApiError, validation_error
from corrections.i18n import translate

M = TypeVar("M", bound=BaseModel)


class Schema(BaseModel):
    """Base for request schemas: unknown fields refused, no type coercion, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @classmethod
    def from_plain(cls, data: dict):
        """Validate plain Python data (a form, the demo loader) exactly as a JSON body would be."""
        return cls.model_validate_json(json.dumps(data), strict=True)


#: Degrees, WGS 84 (the rules and the database never hold GCJ-02 or BD-09 coordinates).
Latitude = Annotated[float, Field(ge=-90, le=90, description="degrees, WGS 84")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="degrees, WGS 84")]


def _text_rule(*, multiline: bool, strip: bool, digits: bool, required: bool):
    def apply(value):
        if not isinstance(value, str):
            return value  # the type check names it
        value = rules.clean(value, multiline=multiline, strip=strip)
        if digits:
            value = rules.ascii_digits(value)
        if required and not value:
            raise ValueError(rules.REQUIRED)
        return value

    return apply


def text(
    max_length: int,
    *,
    min_length: int = 1,
    pattern: str | None = None,
    multiline: bool = False,
    strip: bool = True,
    digits: bool = False,
    wanted: str | None = None,
):
    """A required text field under the text rule (corrections.text): control and direction
    characters refused, invisible ones taken off both ends (unless `strip` is False, as for a
    password), blank counts as missing. `digits`: full-width digits become 0-9, other scripts'
    digits are refused. Length and `pattern` are checked on the cleaned text. `wanted` (an N_
    msgid such as "must be 4 to 8 digits") says what is wanted when the text does not fit the
    length or the pattern, instead of "has the wrong format"."""
    rule = _text_rule(multiline=multiline, strip=strip, digits=digits, required=True)
    if wanted is None:
        return Annotated[
            str,
            Field(min_length=min_length, max_length=max_length, pattern=pattern),
            BeforeValidator(rule),
        ]

    def shape(value: str) -> str:
        fits = min_length <= len(value) <= max_length
        if not fits or (pattern is not None and re.search(pattern, value) is None):
            raise ValueError(wanted)
        return value

    return Annotated[str, AfterValidator(shape), BeforeValidator(rule)]


def _none_if_blank(value):
    # A refused character is not blank: it goes on to the text rule, which names it.
    return None if isinstance(value, str) and rules.is_blank(value) else value


def optional(field_type):
    """`field_type` or null; a text with nothing visible in it counts as null."""
    return Annotated[field_type | None, BeforeValidator(_none_if_blank)]


#: A number typed into a form has at most this many characters; a longer one stays text (the
#: schema then says "must be a number") and is never converted.
MAX_TYPED_NUMBER = 32
_TYPED_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")


def typed_text(value: str | None) -> str:
    """What a person typed in a form box, as a schema should see it: NFKC turns full-width
    digits and punctuation (１２，３：) into plain ones, and a zero-width space or byte order mark
    pasted in with it goes with the white space around it. A refused character (a control
    character) stays, for the schema to name."""
    return rules.trim(unicodedata.normalize("NFKC", value or ""))


def typed_number(value: str | None):
    """A number when the typed text is one, written with the digits 0-9 (full-width ones are
    converted); None when the box is empty; else the text, so the schema says "must be a
    number". Never more than MAX_TYPED_NUMBER characters are converted."""
    text = typed_text(value)
    if not text:
        return None
    if len(text) > MAX_TYPED_NUMBER or not _TYPED_NUMBER.fullmatch(text):
        return text
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    number = float(text)
    return number if math.isfinite(number) else text


class FormText:
    """The text rule for a WTForms field: it refuses what `text()` refuses, puts the cleaned
    text in `field.data`, and (with `required`) treats blank as missing."""

    def __init__(
        self,
        *,
        required: bool = False,
        multiline: bool = False,
        strip: bool = True,
        message=None,
    ):
        self.required, self.multiline, self.strip = required, multiline, strip
        #: What to say when a required field is blank (a lazy string; a default otherwise).
        self.message = message
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form, field) -> None:
        try:
            field.data = rules.clean(field.data or "", multiline=self.multiline, strip=self.strip)
        except rules.TextRefused as refused:
            raise StopValidation(translate(str(refused))) from None
        if self.required and not field.data:
            raise StopValidation(str(self.message or gettext("This field is required.")))


def check_query_text() -> None:
    """Refuse (422, naming each) query arguments whose name or value holds a control or
    direction character, whatever the endpoint: they would otherwise reach the search, the
    audit log's record of the filters, or the database driver."""
    fields: dict[str, str] = {}
    for name, values in request.args.lists():
        for item in (name, *values):
            try:
                rules.check(item)
            except rules.TextRefused as refused:
                fields.setdefault(_printable(name), translate(str(refused)))
    if fields:
        raise validation_error(
            fields, gettext("A query argument contains a character that is not allowed.")
        )


def _printable(name: str) -> str:
    # The name goes back in the error; its refused characters go back escaped.
    return name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name


#: pydantic puts a tagged union's chosen member in the error location; field_errors drops it.
UNION_TAG_MARK = "~"


def union_tag(name: str) -> Tag:
    """The Tag of a discriminated-union member, marked so error locations leave it out."""
    return Tag(UNION_TAG_MARK + name)


#: Field messages by pydantic error type; the ctx values fill the placeholders.
MESSAGES = {
    "missing": lazy_gettext("is required"),
    "extra_forbidden": lazy_gettext("is not an accepted field"),
    "float_type": lazy_gettext("must be a number"),
    "float_parsing": lazy_gettext("must be a number"),
    "int_type": lazy_gettext("must be a whole number"),
    "int_parsing": lazy_gettext("must be a whole number"),
    "int_from_float": lazy_gettext("must be a whole number"),
    "finite_number": lazy_gettext("must be a finite number"),
    "string_type": lazy_gettext("must be text"),
    "bool_type": lazy_gettext("must be true or false"),
    "list_type": lazy_gettext("must be a list"),
    "model_type": lazy_gettext("must be an object"),
    "dict_type": lazy_gettext("must be an object"),
    "greater_than_equal": lazy_gettext("must be at least %(ge)s"),
    "greater_than": lazy_gettext("must be greater than %(gt)s"),
    "less_than_equal": lazy_gettext("must be at most %(le)s"),
    "less_than": lazy_gettext("must be less than %(lt)s"),
    "string_too_short": lazy_gettext("must have at least %(min_length)s characters"),
    "string_too_long": lazy_gettext("must have at most %(max_length)s characters"),
    "too_short": lazy_gettext("must have at least %(min_length)s items"),
    "too_long": lazy_gettext("must have at most %(max_length)s items"),
    "string_pattern_mismatch": lazy_gettext("has the wrong format"),
    "literal_error": lazy_gettext("must be one of: %(expected)s"),
    "enum": lazy_gettext("must be one of: %(expected)s"),
    "timezone_aware": lazy_gettext(
        "must include a time zone offset, e.g. 2026-01-01T08:00:00+08:00"
    ),
    "datetime_type": lazy_gettext("must be an ISO 8601 date-time"),
    "datetime_parsing": lazy_gettext("must be an ISO 8601 date-time"),
    "datetime_from_date_parsing": lazy_gettext("must be an ISO 8601 date-time"),
    "date_type": lazy_gettext("must be a date, YYYY-MM-DD"),
    "date_parsing": lazy_gettext("must be a date, YYYY-MM-DD"),
    "date_from_datetime_parsing": lazy_gettext("must be a date, YYYY-MM-DD"),
    "date_from_datetime_inexact": lazy_gettext("must be a date, YYYY-MM-DD"),
    "time_parsing": lazy_gettext("must be a time, HH:MM"),
    "union_tag_invalid": lazy_gettext("must be one of: %(expected_tags)s"),
}


def field_errors(error: ValidationError) -> dict[str, str]:
    """Map a pydantic error to {"dotted.field": "sentence"}; the first problem per field wins."""
    fields: dict[str, str] = {}
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"] if not _is_union_tag(part)) or "body"
        if loc in fields:
            continue
        template = MESSAGES.get(item["type"])
        ctx = {k: str(v) for k, v in (item.get("ctx") or {}).items()}
        if item["type"] == "value_error" and "error" in ctx:
            # Validators raise English msgids marked with N_; the reader gets their language.
            fields[loc] = translate(ctx["error"])
        elif template is not None:
            try:
                fields[loc] = str(template) % ctx
            except (KeyError, TypeError, ValueError):
                fields[loc] = item["msg"]
        else:
            fields[loc] = item["msg"]
    return fields


def _is_union_tag(part) -> bool:
    # pydantic names the chosen union member in the location (a union_tag, "function-after[...]").
    return isinstance(part, str) and ("[" in part or part.startswith(UNION_TAG_MARK))


def parse_json(schema: type[M], *, body: bytes | None = None) -> M:
    """Validate the JSON request body against `schema`; 415, 400 or 422 with fields named."""
    if body is None:
        if not request.is_json:
            raise ApiError(415, message=gettext("Send the body as application/json."))
        body = request.get_data(cache=True)
        limit = request.max_content_length
        if request.content_length is None and limit is not None and len(body) >= limit:
            # A chunked body (no Content-Length) is cut at the limit rather than refused.
            raise ApiError(413)
    if not body.strip():
        raise ApiError(400, message=gettext("The request body is empty."))
    try:
        return schema.model_validate_json(body, strict=True)
    except ValidationError as error:
        types = {item["type"] for item in error.errors()}
        if "json_invalid" in types:
            raise ApiError(400, message=gettext("The body is not valid JSON.")) from None
        if any(
            item["loc"] == () and item["type"] in ("model_type", "dict_type")
            for item in error.errors()
        ):
            raise ApiError(400, message=gettext("The body must be a JSON object.")) from None
        if any(item["loc"] == () and item["type"] == "list_type" for item in error.errors()):
            raise ApiError(400, message=gettext("The body must be a JSON array.")) from None
        raise validation_error(field_errors(error)) from None
