"""The loaded, validated rules as plain dataclasses: what the sync engine reads per entity and per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .columns import ColumnCatalog

SIDES = ("factusol", "prestashop")
DIRECTIONS = ("to_prestashop", "to_factusol", "both", "none")
POLICIES = ("factusol_wins", "prestashop_wins", "newest_wins", "manual", "delta")


def writes(direction: str, side: str) -> bool:
    """May a field with this direction be written on `side`?"""
    return direction == "both" or direction == f"to_{side}"


@dataclass
class SideMap:
    """How one canonical field lives on one side: its column(s) and the transforms between them."""

    columns: list[str]
    join: bool = False  # several columns joined into one canonical value (e.g. firstname + lastname)
    separator: str = " "
    split: str = "first_space"
    fit: str | None = None  # truncate | reject, FactuSOL widths only
    width: int | None = None  # declared fallback width when the FactuSOL catalog is absent
    trim: bool = True
    multiply: Decimal | None = None  # side value = canonical * multiply
    round: int | None = None
    vat_included: bool = False
    vat_selector_field: str | None = None
    vat_rate_field: str | None = None
    as_vat_selector: bool = False  # canonical holds a VAT %, this side stores the selector 0..3
    map: str | None = None
    template: str | None = None

    @property
    def column(self) -> str:
        return self.columns[0]


@dataclass
class FieldRule:
    name: str
    direction: str
    policy: str
    factusol: SideMap | None = None
    prestashop: SideMap | None = None
    file: str = ""
    line: int = 0
    col: int = 0

    def side(self, side: str) -> SideMap | None:
        return self.factusol if side == "factusol" else self.prestashop


def _norm(value: Any) -> tuple:
    """Comparison key for value maps: bools stay bools, numbers compare numerically, text case-insensitively."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, Decimal, float)):
        return ("n", Decimal(str(value)).normalize())
    text = str(value).strip()
    try:
        return ("n", Decimal(text).normalize())
    except ArithmeticError:
        return ("s", text.casefold())


@dataclass
class ValueMap:
    """canonical value -> the value(s) each side uses; the first side value is the one written."""

    name: str
    entries: dict[Any, dict[str, list[Any]]]
    fallback: dict[str, Any] = field(default_factory=dict)
    domain: str | None = None

    def to_side(self, value: Any, side: str) -> Any:
        """Canonical -> side value; raises KeyError when unmapped and no fallback."""
        for canonical, sides in self.entries.items():
            if _norm(canonical) == _norm(value) and sides.get(side):
                return sides[side][0]
        if side in self.fallback:
            return self.fallback[side]
        raise KeyError(value)

    def knows(self, value: Any, side: str) -> bool:
        """Whether a side value is in the entries (False when only the fallback would take it)."""
        key = _norm(value)
        return any(any(_norm(v) == key for v in sides.get(side, ())) for sides in self.entries.values())

    def from_side(self, value: Any, side: str) -> Any:
        """Side value -> canonical; raises KeyError when unmapped and no fallback."""
        key = _norm(value)
        for canonical, sides in self.entries.items():
            if any(_norm(v) == key for v in sides.get(side, ())):
                return canonical
        if "canonical" in self.fallback:
            return self.fallback["canonical"]
        raise KeyError(value)


@dataclass
class EntityRules:
    """Everything the rule file says about one entity."""

    name: str
    file: str
    direction: str
    create: str
    fields: dict[str, FieldRule]
    value_maps: dict[str, ValueMap] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # entity-specific keys (codes, gdpr, formula, events...)
    line_fields: dict[str, FieldRule] = field(default_factory=dict)  # order lines (entity order_line)
    defaults: dict[str, Any] = field(default_factory=dict)  # `defaults:` (policy, fit, control_chars)
    ruleset: RuleSet | None = field(default=None, repr=False, compare=False)

    def policies(self) -> dict[str, str]:
        return {n: f.policy for n, f in self.fields.items()}

    def directions(self) -> dict[str, str]:
        return {n: f.direction for n, f in self.fields.items()}

    def value_map(self, name: str) -> ValueMap:
        """A value map by local name or by ENTITY.NAME of another file."""
        if "." in name and self.ruleset is not None:
            entity, _, local = name.partition(".")
            return self.ruleset.entity(entity).value_maps[local]
        return self.value_maps[name]

    @property
    def vat_rates(self) -> dict[int, Decimal]:
        own = self.options.get("vat_rates")
        if own:
            return own
        return self.ruleset.vat_rates if self.ruleset else {}

    def lines(self) -> EntityRules:
        """The order-line rules of an order file as an EntityRules of their own."""
        return EntityRules(
            "order_line",
            self.file,
            self.direction,
            self.create,
            self.line_fields,
            self.value_maps,
            ruleset=self.ruleset,
        )


@dataclass
class RuleSet:
    """All rule files loaded together."""

    entities: dict[str, EntityRules]
    files: list[Path] = field(default_factory=list)
    catalog: ColumnCatalog = field(default_factory=ColumnCatalog)

    def entity(self, name: str) -> EntityRules:
        if name == "order_line":
            return self.entities["order"].lines()
        try:
            return self.entities[name]
        except KeyError:
            raise KeyError(f"no rule file for entity {name!r}") from None

    @property
    def vat_rates(self) -> dict[int, Decimal]:
        """VAT rates come from whichever file declares them; product.yaml by convention."""
        for name in ("product", *self.entities):
            er = self.entities.get(name)
            if er and er.options.get("vat_rates"):
                return er.options["vat_rates"]
        return {}

    def width(self, field_rule: FieldRule) -> int | None:
        """FactuSOL width of a field: the catalog's when known, else the width declared in the rule file."""
        side = field_rule.factusol
        if side is None:
            return None
        return self.catalog.width(side.column) or side.width
