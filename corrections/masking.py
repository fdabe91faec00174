"""Masking personal data for display."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str | None:
    """4500**********1234: the first four and last four characters kept."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str | None) -> str | None:
    """王*明, 欧阳**华; a two-character name keeps its first (王*)."""
    if not name:
        return name
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
