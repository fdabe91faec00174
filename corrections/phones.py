"""Phone numbers in one form (E.164), whichever way a person or Twilio writes them."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "CN"


def normalize_phone(raw: str) -> str | None:
    """'138 0000 0000' or '+86 13800000000' → '+8613800000000'; None when it is no phone number."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
