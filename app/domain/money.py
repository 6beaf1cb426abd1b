"""Money rules: integer minor units and an ISO 4217 currency, never floats."""

from __future__ import annotations

import pycountry

_ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)


def is_iso_currency(code: str) -> bool:
    """True when `code` is an active ISO 4217 alphabetic code (upper case)."""
    return code in _ISO_4217
