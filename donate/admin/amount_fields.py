"""Amounts typed into dashboard forms, read the site's way, each problem noted on its field."""

from __future__ import annotations

import re
from typing import Any

from donate import money

_LIST_SEPARATORS = re.compile(r"[\n;]+")


def read_amount(field: Any, currency: str, locale: str) -> int | None:
    """One typed amount in minor units, or None (empty, or a problem noted beside the field)."""
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return money.parse_amount(text, currency, locale)
    except ValueError as error:
        field.errors.append(str(error))
        return None


def read_amounts(field: Any, currency: str, locale: str) -> list[int]:
    """One amount per line (or separated by semicolons), each problem noted on the field."""
    amounts = []
    for piece in _LIST_SEPARATORS.split(field.data or ""):
        if not piece.strip():
            continue
        try:
            amounts.append(money.parse_amount(piece.strip(), currency, locale))
        except ValueError as error:
            field.errors.append(f"{piece.strip()}: {error}")
    return amounts
