"""Phone numbers in one form (E.164), whichever way a person or Twilio writes them."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "CN"
#: Chinese mobiles have 11 national digits, landlines with their area code 10 to 11.
MIN_NATIONAL_DIGITS = 8


def normalize_phone(raw: str, *, strict: bool = False) -> str | None:
    """'138 0000 0000' or '+86 13800000000' → '+8613800000000'; None when it is no phone number.

    `strict` (enrolment) also refuses numbers too short to reach a phone: fewer than
    MIN_NATIONAL_DIGITS national digits ("12345" would otherwise become +8612345). It does not
    ask whether a carrier assigned the number: test and reserved ranges (+1 555 01xx, new
    Chinese prefixes the library does not know yet) must still enrol. Matching an incoming number
    against the registered ones needs only the normal form."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    if strict and len(phonenumbers.national_significant_number(number)) < MIN_NATIONAL_DIGITS:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_text(e164: str | None) -> str:
    """A number grouped for reading aloud: '+8613000000002' → '130 0000 0002' (a Chinese
    mobile), a landline in its national form, a foreign number in the international one."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    national = phonenumbers.national_significant_number(number)
    if number.country_code == 86 and len(national) == 11 and national.startswith("1"):
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def tel_href(e164: str | None) -> str:
    """The `tel:` link that dials the number from a phone or a softphone."""
    return f"tel:{e164}" if e164 else ""
