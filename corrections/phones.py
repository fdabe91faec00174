"""Phone numbers in one form (E.164), whichever way a person or Twilio writes them."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "CN"


def normalize_phone(raw: str, *, strict: bool = False) -> str | None:
    """'138 0000 0000' or '+86 13800000000' → '+8613800000000'; None when it is no phone number.

    `strict` also refuses numbers of a plausible length that no carrier assigns (enrolment);
    matching an incoming number against the registered ones needs only the normal form."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    if strict and not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
