"""Tax: a rate per destination country, on tax-exclusive prices.

Rates are basis points (1900 = 19 %). The built-in table holds standard VAT
rates; `TAX_RATES` in the environment overrides it per country. A country
without a rate is taxed at 0.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_TAX_RATES: Mapping[str, int] = {
    "AT": 2000, "BE": 2100, "CH": 810, "CZ": 2100, "DE": 1900, "DK": 2500, "ES": 2100,
    "FI": 2550, "FR": 2000, "GB": 2000, "IE": 2300, "IT": 2200, "NL": 2100, "NO": 2500,
    "PL": 2300, "PT": 2300, "SE": 2500, "US": 0, "CA": 500, "AU": 1000, "JP": 1000,
}  # fmt: skip


def tax_rate(rates: Mapping[str, int], country: str | None) -> int:
    return rates.get(country or "", 0)
