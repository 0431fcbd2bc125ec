"""Rule-driven decisions that aren't a field copy: stock formula, customer codes, filters, GDPR anonymising."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

from .errors import MappingError
from .ruleset import EntityRules


def _d(v: Any) -> Decimal:
    return Decimal(0) if v in (None, "") else (v if isinstance(v, Decimal) else Decimal(str(v)))


def _chosen(rule_value: Any, value: Any) -> bool:
    """Does `value` pass a filter given as 'all', one value or a list?"""
    if rule_value == "all" or rule_value is None:
        return True
    allowed = rule_value if isinstance(rule_value, list) else [rule_value]
    return str(value).strip().casefold() in {str(a).strip().casefold() for a in allowed}


def stock_quantity(
    stock_rules: EntityRules, per_warehouse: Mapping[str, Mapping[str, Any]], unsynced_shop_orders: Any = 0
) -> Decimal:
    """The shop quantity of one article/variant from its FactuSOL stock per warehouse.

    per_warehouse: warehouse code -> {physical (ACTSTO), available (DISSTO), pending (units pending in customer
    orders), on_order (units ordered from suppliers)}; missing numbers count as 0.  unsynced_shop_orders: units
    of shop orders not yet in FactuSOL, subtracted when the rule says subtract_unsynced_shop_orders.
    """
    opts = stock_rules.options
    formula = opts.get("formula", "available")
    total = Decimal(0)
    for wh, row in per_warehouse.items():
        if not _chosen(opts.get("warehouses", "all"), wh):
            continue
        base = _d(row.get("physical")) if formula.startswith("physical") else _d(row.get("available"))
        if formula.endswith("minus_pending_orders"):
            base -= _d(row.get("pending"))
        elif formula.endswith("plus_on_order"):
            base += _d(row.get("on_order"))
        total += base
    if opts.get("subtract_unsynced_shop_orders"):
        total -= _d(unsynced_shop_orders)
    if opts.get("negative_as_zero") and total < 0:
        total = Decimal(0)
    return total


def assign_customer_code(customer_rules: EntityRules, is_guest: bool, used_codes: Iterable[int]) -> int:
    """The FactuSOL code (CODCLI) for a customer created from the shop.

    Registered customers and guests use their own ranges; inside a range the next code is MAX+1 (as FactuSOL
    writers do), so gaps left by deleted customers are not reused.  A single guest code is shared by all guests.
    """
    codes = customer_rules.options["codes"]
    spec = codes["guests"] if is_guest else codes["registered"]
    if "single" in spec:
        return int(spec["single"])
    lo, hi = int(spec["from"]), int(spec["to"])
    in_range = [c for c in used_codes if lo <= c <= hi]
    code = max(in_range) + 1 if in_range else lo
    if code > hi:
        kind = "guest" if is_guest else "registered"
        raise MappingError("customer", None, "factusol_code", f"{kind} code range {lo}-{hi} is full")
    return code


def passes_filters(entity_rules: EntityRules, values: Mapping[str, Any]) -> bool:
    """Does a record pass the entity's filters?  `values` holds canonical fields and/or "TABLE.COLUMN" keys;
    customer groups come as values['groups'] (list of PrestaShop group ids)."""
    f = entity_rules.filters
    if "families" in f and not _chosen(f["families"], values.get("family", values.get("F_ART.FAMART", ""))):
        return False
    flag = f.get("publish_flag")
    if flag:
        raw = values.get(flag["column"], values.get("publish"))
        if isinstance(raw, bool):
            raw = int(raw)
        if raw is None or str(raw).strip().casefold() != str(flag["equals"]).strip().casefold():
            return False
    if "customer_groups" in f and f["customer_groups"] != "all":
        groups = values.get("groups") or []
        if not any(_chosen(f["customer_groups"], g) for g in groups):
            return False
    if f.get("include_guests") is False and values.get("is_guest"):
        return False
    return True


def anonymise(customer_rules: EntityRules, fields: Mapping[str, Any]) -> dict:
    """The customer's fields with the GDPR anonymise_fields replaced (only when on_delete is anonymise)."""
    gdpr = customer_rules.options.get("gdpr", {})
    out = dict(fields)
    if gdpr.get("on_delete") != "anonymise":
        return out
    value = gdpr.get("anonymous_value", "ANONIMIZADO")
    for name in gdpr.get("anonymise_fields", []):
        if name in out or name in customer_rules.fields:
            out[name] = value
    return out
