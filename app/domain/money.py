"""Money rules: integer minor units and an ISO 4217 currency, never floats. Human text shows major units."""

from __future__ import annotations

from decimal import Decimal

import pycountry

_ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)

# ISO 4217 minor-unit exponents that differ from the usual 2 (pycountry does not carry them).
_ZERO = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF")
_EXPONENT = {
    **dict.fromkeys((*_ZERO, "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def is_iso_currency(code: str) -> bool:
    """True when `code` is an active ISO 4217 alphabetic code (upper case)."""
    return code in _ISO_4217


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's major unit (CNY 2, JPY 0, KWD 3)."""
    return _EXPONENT.get(currency, 2)


def major_units(amount: int, currency: str) -> Decimal:
    """`51210, "CNY"` → `Decimal("512.10")`, `5120, "JPY"` → `Decimal("5120")`: exact, with the currency's digits."""
    return Decimal(amount).scaleb(-minor_exponent(currency))


def format_money(amount: int, currency: str) -> str:
    """`51210, "CNY"` → `512.10 CNY`: the major unit, exact (no float on the way)."""
    return f"{major_units(amount, currency):f} {currency}"
