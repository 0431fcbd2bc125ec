"""Rule checks against the data: every code a rule file names must exist in FactuSOL's tables or the shop's.

Warehouses (`warehouses`, `warehouse`, `filters.warehouses`) in F_ALM, the product `tariff` in F_TAR, the
`new_customers` payment method, tariff and agent of the customer rule in F_FPA, F_TAR and F_AGE,
`filters.families` in F_FAM, `categories.parent` among the shop's categories, and the side values of the value maps
that feed code columns: payment methods (F_FPA), carriers (F_TRN; the shop's carrier id_reference / id_carrier),
VAT types (the shop's tax rules groups).  0 stands for "no carrier" and "no tax" and always passes.  Shop payment
modules are not checked: a value map lists the modules a shop may have, as alternatives.

Each unknown code is a `RuleProblem` (``file:line:col: message`` naming the code), from `replicator rules check
--config FILE` and at start, where it stops the start (a typo in `warehouses:` would publish 0 stock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from replicator.factusol.codes import TABLES as FS_TABLES
from replicator.factusol.codes import norm

from .errors import RuleProblem
from .source import pos, rule_files

FS_COLUMN_KINDS = {  # FactuSOL columns whose values are codes of a master table
    "F_PCL.FOPPCL": "payment_method",
    "F_ALB.FOPALB": "payment_method",
    "F_FAC.FOPFAC": "payment_method",
    "F_CLI.FPACLI": "payment_method",
    "F_PCL.TRNPCL": "carrier",
    "F_ALB.TRNALB": "carrier",
    "F_FAC.TRNFAC": "carrier",
    "F_PCL.ALMPCL": "warehouse",
    "F_CLI.TARCLI": "tariff",
}
PS_COLUMN_KINDS = {
    "product.id_tax_rules_group": "tax_rules_group",
    "product_shop.id_tax_rules_group": "tax_rules_group",
    "carrier.id_reference": "carrier_reference",
    "carrier.id_carrier": "carrier",
    "orders.id_carrier": "carrier",
    "order_carrier.id_carrier": "carrier",
}
NONE_CODES = {"carrier": {"0"}, "carrier_reference": {"0"}, "tax_rules_group": {"0"}, "agent": {"0"}}
PS_NAMES = {
    "tax_rules_group": "tax rules group",
    "carrier_reference": "carrier (id_reference)",
    "carrier": "carrier (id_carrier)",
    "category": "category",
}
SHOWN = 12  # codes listed in a message


@dataclass
class Codes:
    """What exists: kind -> codes as text, per side (a kind absent from a side is not checked)."""

    factusol: dict[str, set[str]] = field(default_factory=dict)
    prestashop: dict[str, set[str]] = field(default_factory=dict)


def _listing(codes: set[str]) -> str:
    shown = sorted(codes)[:SHOWN]
    more = f", … ({len(codes)} in all)" if len(codes) > SHOWN else ""
    return ", ".join(shown) + more if shown else "none"


class _Checker:
    def __init__(self, codes: Codes):
        self.codes = codes
        self.problems: list[RuleProblem] = []
        self._seen: set[tuple] = set()

    def check(self, path: Path, node: Any, key: Any, value: Any, side: str, kind: str) -> None:
        have = (self.codes.factusol if side == "factusol" else self.codes.prestashop).get(kind)
        if have is None or value is None or (isinstance(value, str) and value.strip().casefold() in ("all", "")):
            return  # every code, or none
        code = norm(value)
        if code in {norm(h) for h in have} or code in NONE_CODES.get(kind, ()):
            return
        line, col = pos(node, key)
        if (str(path), line, col) in self._seen:
            return
        self._seen.add((str(path), line, col))
        if side == "factusol":
            table, column, label = FS_TABLES[kind]
            where = f"FactuSOL's {table} ({column}: {_listing(have)})"
        else:
            label, where = PS_NAMES.get(kind, kind), "the shop"
        self.problems.append(
            RuleProblem(
                str(path), line, col, f"{label} {value!r} is not in {where}: correct the code or create it there"
            )
        )

    def codes_in(self, path: Path, parent: Any, key: Any, side: str, kind: str) -> None:
        """A scalar or a list of codes at parent[key]."""
        value = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(value, CommentedSeq):
            for i, item in enumerate(value):
                self.check(path, value, i, item, side, kind)
        elif value is not None and not isinstance(value, dict):
            self.check(path, parent, key, value, side, kind)


def _load(paths: Iterable[Path]) -> dict[str, tuple[Path, CommentedMap]]:
    out: dict[str, tuple[Path, CommentedMap]] = {}
    for path in paths:
        try:
            data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
        except (OSError, YAMLError):
            continue  # the rule checker reports those
        if isinstance(data, CommentedMap) and data.get("entity"):
            out.setdefault(str(data["entity"]), (path, data))
    return out


def _map_node(files: dict, entity: str, name: str) -> tuple[Path, CommentedMap] | None:
    if "." in name:
        entity, name = name.split(".", 1)
    path, data = files.get(entity, (None, None))
    vm = ((data or {}).get("value_maps") or {}).get(name)
    return (path, vm) if isinstance(vm, CommentedMap) else None


def check_against_data(rules_dir: str | Path | Iterable[str | Path], codes: Codes) -> list[RuleProblem]:
    """Every code the rule files name that the data lacks (empty when all exist)."""
    files = _load(rule_files(rules_dir))
    c = _Checker(codes)
    for entity, (path, data) in files.items():
        if entity == "stock":
            c.codes_in(path, data, "warehouses", "factusol", "warehouse")
        if entity == "order":
            c.codes_in(path, data, "warehouse", "factusol", "warehouse")
        if entity == "customer" and isinstance(data.get("new_customers"), CommentedMap):
            defaults = data["new_customers"]
            c.codes_in(path, defaults, "payment_method", "factusol", "payment_method")
            if str(defaults.get("tariff", "")).strip().casefold() != "product":  # "product": the product rule's
                c.codes_in(path, defaults, "tariff", "factusol", "tariff")
            c.codes_in(path, defaults, "agent", "factusol", "agent")
        if entity == "product":
            c.codes_in(path, data, "tariff", "factusol", "tariff")
            categories = data.get("categories")
            if isinstance(categories, CommentedMap) and isinstance(categories.get("parent"), int):
                c.codes_in(path, categories, "parent", "prestashop", "category")
        filters = data.get("filters")
        if isinstance(filters, CommentedMap):
            c.codes_in(path, filters, "warehouses", "factusol", "warehouse")
            c.codes_in(path, filters, "families", "factusol", "family")
        for section in ("fields", "line_fields"):
            for spec in (data.get(section) or {}).values():
                if not isinstance(spec, CommentedMap):
                    continue
                for side, kinds in (("factusol", FS_COLUMN_KINDS), ("prestashop", PS_COLUMN_KINDS)):
                    side_spec = spec.get(side)
                    if not isinstance(side_spec, CommentedMap) or not side_spec.get("map"):
                        continue
                    kind = kinds.get(str(side_spec.get("column", "")))
                    found = _map_node(files, entity, str(side_spec["map"])) if kind else None
                    if found is None:
                        continue
                    map_path, vm = found
                    for entry in (vm.get("entries") or {}).values():
                        if isinstance(entry, CommentedMap):
                            c.codes_in(map_path, entry, side, side, kind)
                    fallback = vm.get("fallback")
                    if isinstance(fallback, CommentedMap):
                        c.codes_in(map_path, fallback, side, side, kind)
    return sorted(c.problems)


def read_codes(factusol, shop) -> Codes:
    """What both sides hold (connections open; nothing is written)."""
    from replicator.factusol.codes import existing_codes as fs_codes
    from replicator.prestashop.codes import existing_codes as ps_codes

    return Codes(fs_codes(factusol), ps_codes(shop))


def check_config_data(config, rules_dir: str | Path | Iterable[str | Path] | None = None) -> list[RuleProblem]:
    """`check_against_data` with the FactuSOL file and the shop the configuration names (read only)."""
    from replicator.factusol.connection import open_factusol
    from replicator.factusol.years import configured_file, connection_string
    from replicator.prestashop.connection import ShopConnection

    factusol = open_factusol(connection_string(config.factusol, configured_file(config.factusol)))
    try:
        ps = config.prestashop
        shop = ShopConnection.from_config(
            {"url": ps.url, "prefix": ps.prefix, "id_shop": ps.id_shop, "id_lang": ps.id_lang}
        )
        try:
            return check_against_data(rules_dir or config.rules_dir, read_codes(factusol, shop))
        finally:
            shop.close()
    finally:
        factusol.close()


__all__ = ["Codes", "check_against_data", "check_config_data", "read_codes"]
