"""The semantic checks of rule files, after the schema: fields against the canonical model and the column
catalogue, conflict policies against types and directions, value maps and their domains, entity-only keys, code
ranges, and the checks that need two files."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ruamel.yaml.comments import CommentedMap

from replicator.model import ENTITIES, canonical_fields

from .columns import ColumnCatalog
from .ruleset import writes
from .source import RuleFile

# Codes each side must cover in a value map that declares a domain ("value map missing a state").
PS_ORDER_STATES = [
    "PS_OS_CHEQUE",
    "PS_OS_PAYMENT",
    "PS_OS_PREPARATION",
    "PS_OS_SHIPPING",
    "PS_OS_DELIVERED",
    "PS_OS_CANCELED",
    "PS_OS_REFUND",
    "PS_OS_ERROR",
    "PS_OS_OUTOFSTOCK",
    "PS_OS_OUTOFSTOCK_PAID",
    "PS_OS_BANKWIRE",
    "PS_OS_WS_PAYMENT",
    "PS_OS_OUTOFSTOCK_UNPAID",
    "PS_OS_COD_VALIDATION",
]
DOMAINS: dict[str, dict[str, list]] = {
    "order_state": {"factusol": [0, 1, 2, 3, 4], "prestashop": PS_ORDER_STATES},  # ESTPCL codes
    "invoice_state": {"factusol": [0, 1, 2, 3, 4]},  # ESTFAC codes
    "vat_selector": {"factusol": [0, 1, 2, 3]},
    "boolean": {"canonical": [True, False]},
}

# Top-level keys that only make sense for some entities.
ENTITY_ONLY = {
    "codes": {"customer"},
    "gdpr": {"customer"},
    "warehouses": {"stock"},
    "formula": {"stock"},
    "subtract_unsynced_shop_orders": {"stock"},
    "negative_as_zero": {"stock"},
    "variants": {"stock", "product"},
    "tariff": {"product"},
    "on_filter_exit": {"product"},
    "categories": {"product"},
    "combinations": {"product"},
    "series": {"order"},
    "warehouse": {"order"},
    "shipping": {"order"},
    "line_fields": {"order"},
    "events": {"order", "invoice"},
}
FILTER_ONLY = {
    "families": {"product", "stock"},
    "publish_flag": {"product", "stock"},
    "customer_groups": {"customer"},
    "include_guests": {"customer", "order"},
}
REQUIRED = {
    "customer": ["codes", "gdpr"],
    "stock": ["warehouses", "formula"],
    "order": ["series", "warehouse", "shipping"],
}


def _field_type(entity: str, name: str) -> str:
    for fld in dataclasses.fields(ENTITIES[entity]):
        if fld.name == name:
            return str(fld.type)
    return ""


def is_numeric(entity: str, name: str) -> bool:
    t = _field_type(entity, name)
    return "bool" not in t and bool(re.search(r"\b(Decimal|int|float)\b", t))


def is_text(entity: str, name: str) -> bool:
    return re.fullmatch(r"str( \| None)?", _field_type(entity, name)) is not None


def _side_columns(spec: Any) -> list[tuple[Any, Any, str]]:
    """(node, key, column) of every column named by a side spec, for positions."""
    if isinstance(spec, str):
        return []
    out = []
    if isinstance(spec, dict):
        if "column" in spec:
            out.append((spec, "column", spec["column"]))
        for i, c in enumerate(spec.get("join") or []):
            out.append((spec["join"], i, c))
    return out


def _check_fields(
    f: RuleFile,
    entity: str,
    fields: CommentedMap,
    data: CommentedMap,
    catalog: ColumnCatalog,
    maps: dict[str, tuple[RuleFile, CommentedMap]],
) -> None:
    known = canonical_fields(entity)
    defaults = data.get("defaults") or {}
    entity_dir = data.get("direction", "both")
    written: dict[tuple[str, str], str] = {}
    for name, spec in fields.items():
        if name not in known:
            f.at_key(
                fields,
                name,
                f"unknown canonical field {name!r} for entity {entity} (known: {', '.join(sorted(known))})",
            )
            continue
        spec = spec or CommentedMap()
        direction = spec.get("direction", entity_dir)
        policy = spec.get("policy", defaults.get("policy", "manual"))
        where_policy = (spec, "policy") if "policy" in spec else (fields, name)
        # Conflict policy against the field's type and direction.
        if policy == "delta" and not is_numeric(entity, name):
            f.at(
                *where_policy,
                f"policy delta needs a numeric field; {entity}.{name} is {_field_type(entity, name) or 'not numeric'}",
            )
        elif policy == "delta" and direction != "both":
            f.at(
                *where_policy,
                f"policy delta needs direction both (both sides must receive the combined value), not {direction}",
            )
        elif policy == "prestashop_wins" and direction == "to_prestashop":
            f.at(*where_policy, "policy prestashop_wins can never apply: the field only flows to_prestashop")
        elif policy == "factusol_wins" and direction == "to_factusol":
            f.at(*where_policy, "policy factusol_wins can never apply: the field only flows to_factusol")
        for side in ("factusol", "prestashop"):
            side_spec = spec.get(side)
            if side_spec is None:
                continue
            cols = [(spec, side, side_spec)] if isinstance(side_spec, str) else _side_columns(side_spec)
            for node, key, col in cols:
                why = catalog.check(side, col)
                if why:
                    f.at(node, key, why)
                if writes(direction, side):
                    if (side, col) in written:
                        f.at(node, key, f"column {col} is written by both {written[side, col]} and {name}")
                    written[side, col] = name
            opts = side_spec if isinstance(side_spec, dict) else {}
            if opts.get("map"):
                ref = opts["map"]
                ent, _, local = ref.rpartition(".")
                if ent and ent not in maps:
                    pass  # the other entity's file is not part of this check; resolved at run time
                elif local not in (maps.get(ent or entity, (None, {}))[1] or {}):
                    f.at(
                        opts, "map", f"value map {ref!r} is not defined" + ("" if ent else " in this file's value_maps")
                    )
            for k in ("vat_selector_field", "vat_rate_field"):
                if opts.get(k) and opts[k] not in known:
                    f.at(opts, k, f"{k} {opts[k]!r} is not a canonical field of {entity}")
            if opts.get("vat_included") and not (opts.get("vat_selector_field") or opts.get("vat_rate_field")):
                f.at(
                    side_spec,
                    "vat_included",
                    "vat_included needs vat_selector_field or vat_rate_field to know the rate",
                )
            if side == "factusol" and is_text(entity, name) and writes(direction, "factusol") and not opts.get("map"):
                # Every text written to a FactuSOL column of known width needs an explicit policy for overflow.
                col = opts.get("column", side_spec if isinstance(side_spec, str) else None)
                width = opts.get("width") or (catalog.width(col) if col else None)
                if width and opts.get("fit", defaults.get("fit")) is None:
                    where = (side_spec, "column") if isinstance(side_spec, dict) else (spec, side)
                    f.at(
                        *where,
                        f"{col} holds {width} characters: say fit: truncate or fit: reject "
                        f"(or defaults: fit:) for field {name}",
                    )


def _check_value_maps(f: RuleFile, vmaps: CommentedMap) -> None:
    for mname, vm in (vmaps or {}).items():
        entries = vm.get("entries") or {}
        seen: dict[tuple[str, Any], Any] = {}
        for canonical, sides in entries.items():
            for side, vals in sides.items():
                vals_list = vals if isinstance(vals, list) else [vals]
                for v in vals_list:
                    k = (side, str(v).casefold() if isinstance(v, str) else v)
                    if k in seen and seen[k] != canonical:
                        f.at(
                            sides,
                            side,
                            f"value map {mname}: {side} value {v!r} is in both {seen[k]!r} and {canonical!r}; "
                            "a side value can mean only one canonical value",
                        )
                    seen[k] = canonical
        domain = vm.get("domain")
        for side, required in DOMAINS.get(domain, {}).items():
            fallback = vm.get("fallback") or {}
            if side == "canonical":
                have = {k for k in entries}
                missing = [v for v in required if v not in have]
            else:
                if side in fallback and side != "canonical" and "canonical" in fallback:
                    continue
                have = {(str(v).casefold() if isinstance(v, str) else v) for (s, v) in seen if s == side}
                missing = [v for v in required if (str(v).casefold() if isinstance(v, str) else v) not in have]
            if missing:
                label = {"order_state": "state", "invoice_state": "state"}.get(domain, "value")
                f.at_key(
                    vm,
                    "entries",
                    f"value map {mname} ({domain}) is missing {side} {label}"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}",
                )


def check_file(f: RuleFile, catalog: ColumnCatalog, maps: dict) -> None:
    data = f.data
    entity = data["entity"]
    for key in data:
        if key in ENTITY_ONLY and entity not in ENTITY_ONLY[key]:
            f.at_key(data, key, f"{key!r} belongs in {' or '.join(sorted(ENTITY_ONLY[key]))} rules, not {entity}")
    for key in data.get("filters") or {}:
        if key in FILTER_ONLY and entity not in FILTER_ONLY[key]:
            f.at_key(
                data["filters"], key, f"filter {key!r} applies to {' or '.join(sorted(FILTER_ONLY[key]))}, not {entity}"
            )
    for key in REQUIRED.get(entity, []):
        if key not in data:
            f.at(data, "entity", f"{entity} rules need {key!r}")
    _check_value_maps(f, data.get("value_maps"))
    _check_fields(f, entity, data["fields"], data, catalog, maps)
    if "line_fields" in data:
        _check_fields(f, "order_line", data["line_fields"], data, catalog, maps)
    codes = data.get("codes")
    if codes:
        reg, guests = codes["registered"], codes["guests"]
        if reg["from"] > reg["to"]:
            f.at_key(codes, "registered", f"registered code range is empty: from {reg['from']} > to {reg['to']}")
        if "single" in guests:
            if reg["from"] <= guests["single"] <= reg["to"]:
                f.at(
                    guests,
                    "single",
                    f"guest code {guests['single']} lies inside the registered range {reg['from']}-{reg['to']}",
                )
        else:
            if guests["from"] > guests["to"]:
                f.at_key(codes, "guests", f"guest code range is empty: from {guests['from']} > to {guests['to']}")
            elif reg["from"] <= guests["to"] and guests["from"] <= reg["to"]:
                f.at_key(
                    codes,
                    "guests",
                    f"guest codes {guests['from']}-{guests['to']} overlap registered codes {reg['from']}-{reg['to']}",
                )
    gdpr = data.get("gdpr")
    if gdpr:
        for i, name in enumerate(gdpr.get("anonymise_fields") or []):
            if name not in canonical_fields(entity):
                f.at(gdpr["anonymise_fields"], i, f"unknown canonical field {name!r} in anonymise_fields")
    shipping = data.get("shipping")
    if shipping and shipping.get("mode") == "line" and not shipping.get("article"):
        f.at_key(
            data,
            "shipping",
            "shipping mode line needs the FactuSOL article code that carries the shipping cost (article:)",
        )


def cross_checks(files: dict[str, RuleFile]) -> None:
    """Checks that need two files: VAT rates available, tracking column agreeing with the order rule."""
    has_rates = any(f.data.get("vat_rates") for f in files.values())
    if not has_rates and "product" in files:
        for f in files.values():
            for section in ("fields", "line_fields"):
                for name, spec in (f.data.get(section) or {}).items():
                    for side in ("factusol", "prestashop"):
                        opts = (spec or {}).get(side)
                        if isinstance(opts, dict) and (opts.get("as_vat_selector") or opts.get("vat_selector_field")):
                            f.at_key(f.data[section], name, "this field needs vat_rates (declare them in product.yaml)")
    order, shipment = files.get("order"), files.get("shipment")
    if order and shipment:
        source = (order.data.get("shipping") or {}).get("tracking_source")
        spec = (shipment.data.get("fields") or {}).get("tracking_number") or {}
        fs = spec.get("factusol")
        col = fs if isinstance(fs, str) else (fs or {}).get("column")
        if source and col and col.upper() != f"F_ALB.{source}":
            node, key = (spec, "factusol") if isinstance(fs, str) else (fs, "column")
            shipment.at(node, key, f"tracking_number reads {col} but order.yaml shipping.tracking_source is {source}")
