"""What a customer created from the shop gets in FactuSOL's commercial fields, by rule (``customer.yaml
new_customers``): payment method (FPACLI), tariff (TARCLI), agent (AGECLI), VAT regime (IVACLI), default series
(DOCCLI).

FactuSOL needs real codes there (FACTUSOL.md §4.4: "FPACLI a valid F_FPA code, TARCLI a valid tariff"); tariff 0
does not exist.  A code the rule names that FactuSOL lacks quarantines the new customer naming the rule key, rather
than writing a code FactuSOL would not find.  ``tariff: product`` takes the tariff the shop's prices come from
(product.yaml ``tariff``).  ``vat_regime: by_country`` follows the customer's country: Spain 0 "Con IVA" (the Canary
Islands, Ceuta and Melilla 3, outside the VAT territory), another EU country 2 "Intracomunitario" when the customer
gives a VAT number and 0 otherwise (a consumer pays Spanish VAT), outside the EU 3.
"""

from __future__ import annotations

from typing import Any

from replicator.factusol import masters
from replicator.model import Customer
from replicator.sync.base import SyncError

DEFAULTS: dict[str, Any] = {
    "payment_method": "",
    "tariff": "product",
    "agent": 0,
    "vat_regime": "by_country",
    "series": 1,
}
EU = {
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
}
OUTSIDE_VAT_POSTCODES = ("35", "38", "51", "52")  # Las Palmas, Santa Cruz de Tenerife, Ceuta, Melilla
CACHE = "customer_defaults.codes"


def settings(ctx) -> dict[str, Any]:
    return {**DEFAULTS, **(ctx.rules.entity("customer").options.get("new_customers") or {})}


def _exists(ctx, kind: str, code: Any) -> bool:
    found = ctx.cache.setdefault(CACHE, {})
    if kind not in found:
        found[kind] = masters.codes(ctx.factusol, kind)
    return str(code).strip() in found[kind]


def vat_regime(customer: Customer) -> int:
    """IVACLI for a customer from the shop: 0 Con IVA, 2 Intracomunitario, 3 Importación/Exportación."""
    iso = (customer.country_iso or "ES").upper()
    if iso == "ES":
        return 3 if str(customer.postcode or "").strip()[:2] in OUTSIDE_VAT_POSTCODES else 0
    if iso in EU:
        return 2 if str(customer.nif or "").strip() else 0
    return 3


def new_customer_columns(ctx, key: str, customer: Customer) -> dict[str, Any]:
    """F_CLI commercial columns of a new customer; SyncError naming the rule key when a code does not exist."""
    cfg = settings(ctx)
    out: dict[str, Any] = {"DOCCLI": int(cfg["series"])}
    payment = str(cfg["payment_method"] or "").strip()
    if payment:
        if not _exists(ctx, "payment_method", payment):
            raise SyncError(
                "customer",
                key,
                f"payment method {payment!r} (customer.yaml new_customers.payment_method) is not in FactuSOL's F_FPA",
                "new_customers.payment_method",
            )
        out["FPACLI"] = payment
    tariff = cfg["tariff"]
    if str(tariff) == "product":
        tariff = ctx.rules.entity("product").options.get("tariff", 1)
    if not _exists(ctx, "tariff", tariff):
        raise SyncError(
            "customer",
            key,
            f"tariff {tariff} (customer.yaml new_customers.tariff) is not in FactuSOL's F_TAR",
            "new_customers.tariff",
        )
    out["TARCLI"] = int(tariff)
    agent = int(cfg["agent"] or 0)
    if agent and not _exists(ctx, "agent", agent):
        raise SyncError(
            "customer",
            key,
            f"agent {agent} (customer.yaml new_customers.agent) is not in FactuSOL's F_AGE",
            "new_customers.agent",
        )
    out["AGECLI"] = agent
    regime = cfg["vat_regime"]
    out["IVACLI"] = vat_regime(customer) if regime == "by_country" else int(regime)
    return out


__all__ = ["DEFAULTS", "new_customer_columns", "settings", "vat_regime"]
