"""Which shop combination is which FactuSOL talla/color, and which shop attribute values new combinations use.

The product rule's ``combinations`` block:

- ``match``: how a shop combination is recognised, tried in this order: ``names`` (its attribute values against
  FactuSOL's talla/color names, DESCE1/DESCE2, or their codes; case and accents ignored, any language) and
  ``reference`` (the combination reference ``<article>-<talla>-<color>``).  A shop whose combinations carry the
  product's reference, or none, is matched by names.
- ``size_groups`` / ``colour_groups``: the shop attribute groups that hold tallas and colores (their names in any
  language; a group marked as a colour group counts as a colour group too).  The first group found gets the values
  FactuSOL adds, named with FactuSOL's names (the code when the description is empty), never the codes alone.

The stock sync uses the matcher for every combination it publishes; the product sync resolves (or adds) the
attribute values of the combinations it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from typing import Iterable

from replicator.factusol.variants import VariantNames, read_variant_names
from replicator.model import Product
from replicator.prestashop import attributes as ps_attributes
from replicator.prestashop.categories import fold, run_extra
from replicator.sync.base import SyncContext
from replicator.sync.echo import shop_marker

MATCHES = ("names", "reference")


@dataclass(frozen=True)
class CombinationRule:
    match: tuple[str, ...] = MATCHES
    size_groups: tuple[str, ...] = ("Talla", "Size")
    colour_groups: tuple[str, ...] = ("Color", "Colour")


def combination_rule(ctx: SyncContext) -> CombinationRule:
    spec = ctx.rules.entity("product").options.get("combinations") or {}
    default = CombinationRule()

    def listed(name: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
        value = spec.get(name)
        if value is None:
            return fallback
        return tuple(str(v) for v in (value if isinstance(value, list) else [value]))

    return CombinationRule(
        match=listed("match", default.match),
        size_groups=listed("size_groups", default.size_groups),
        colour_groups=listed("colour_groups", default.colour_groups),
    )


def variant_names(ctx: SyncContext) -> VariantNames:
    """F_CE1/F_CE2 names, read once per cycle."""
    names = ctx.cache.get("variant_names")
    if names is None:
        names = ctx.cache["variant_names"] = read_variant_names(ctx.factusol)
    return names


class Matcher:
    """Finds the FactuSOL (talla, color) of a shop combination, by names and/or reference as the rule says."""

    def __init__(self, ctx: SyncContext, rule: CombinationRule | None = None):
        self.rule = rule or combination_rule(ctx)
        self.names = variant_names(ctx)
        sizes, colours = {fold(n) for n in self.rule.size_groups}, {fold(n) for n in self.rule.colour_groups}
        self.kind: dict[int, str] = {}
        for gid, group in ps_attributes.read_groups(ctx.shop).items():
            self.kind[gid] = (
                "colour" if group.is_color or group.names & colours else "size" if group.names & sizes else "other"
            )

    def variant(
        self, article: str, reference: str, values: list[ps_attributes.Value], variants: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        for method in self.rule.match:
            found = self.by_names(values, variants) if method == "names" else by_reference(article, reference, variants)
            if found is not None:
                return found
        return None

    def by_names(self, values: list[ps_attributes.Value], variants: list[tuple[str, str]]) -> tuple[str, str] | None:
        if not values:
            return None
        found = [v for v in variants if self._fits(values, v)]
        return found[0] if len(found) == 1 else None  # none, or ambiguous: not this way

    def _fits(self, values: list[ps_attributes.Value], variant: tuple[str, str]) -> bool:
        size, colour = variant
        parts = []
        if size:
            parts.append(("size", {fold(size), fold(self.names.size(size))}))
        if colour:
            parts.append(("colour", {fold(colour), fold(self.names.colour(colour))}))
        if len(parts) != len(values):
            return False
        return any(
            all(self._same(kind, names, value) for (kind, names), value in zip(parts, order))
            for order in permutations(values)
        )

    def _same(self, kind: str, names: set[str], value: ps_attributes.Value) -> bool:
        return self.kind.get(value.group, "other") in (kind, "other") and bool(names & value.names)


def by_reference(article: str, reference: str, variants: list[tuple[str, str]]) -> tuple[str, str] | None:
    """'<article>-<size>-<colour>', or '<article>-<size>' / '<article>-<colour>' when the other one is empty."""
    prefix = f"{article}-"
    if not reference or not reference.startswith(prefix):
        return None
    rest = reference[len(prefix) :]
    for size, colour in variants:
        if rest in ("-".join(p for p in (size, colour) if p), f"{size}-{colour}"):
            return (size, colour)
    return None


def _group(groups: dict[int, ps_attributes.Group], wanted: tuple[str, ...], colour: bool) -> int | None:
    """The first group named in the rule (in the rule's order), else the first colour / non-colour group."""
    for name in wanted:
        for gid in sorted(groups, key=lambda g: (groups[g].position, g)):
            if fold(name) in groups[gid].names:
                return gid
    for gid in sorted(groups, key=lambda g: (groups[g].position, g)):
        if groups[gid].is_color == colour:
            return gid
    return None


def resolve_attribute_values(ctx: SyncContext, products: Iterable[Product]) -> list[str]:
    """Set ``size_attribute``/``color_attribute`` on these products' combinations: the shop value of the rule's
    group whose name is FactuSOL's name or code, added with FactuSOL's name when the shop has none.  Returns the
    values added (one shop transaction, with the echo marker)."""
    combos = [c for p in products for c in p.combinations if c.size or c.color]
    if not combos:
        return []
    rule, names, shop = combination_rule(ctx), variant_names(ctx), ctx.shop
    added: list[str] = []
    with shop.transaction() as cur:
        groups = ps_attributes.read_groups(shop, cur)
        gids = {}
        for colour, wanted in ((False, rule.size_groups), (True, rule.colour_groups)):
            if not any((c.color if colour else c.size) for c in combos):
                continue
            gid = _group(groups, wanted, colour)
            if gid is None:
                gid = ps_attributes.add_group(
                    shop, cur, wanted[0] if wanted else ("Color" if colour else "Size"), colour
                )
                added.append(f"group {wanted[0] if wanted else gid}")
            gids[colour] = gid
        values = ps_attributes.read_values(shop, gids.values(), cur)
        found: dict[tuple[bool, str], int] = {}

        def value_id(colour: bool, code: str) -> int:
            key = (colour, code)
            if key not in found:
                name = names.colour(code) if colour else names.size(code)
                wanted = {fold(code), fold(name)}
                match = next(
                    (v.id for v in values.values() if v.group == gids[colour] and fold(name) in v.names), None
                ) or next((v.id for v in values.values() if v.group == gids[colour] and v.names & wanted), None)
                if match is None:
                    match = ps_attributes.add_value(shop, cur, gids[colour], name)
                    values[match] = ps_attributes.Value(match, gids[colour], {fold(name)})
                    added.append(name)
                found[key] = match
            return found[key]

        for combo in combos:
            if combo.size:
                combo.size_attribute = value_id(False, combo.size)
            if combo.color:
                combo.color_attribute = value_id(True, combo.color)
        if added:
            run_extra(shop, cur, shop_marker(ctx, f"attribute values {', '.join(added)}"[:255]))
    return added


def variant_of_combination(ctx: SyncContext, pa_id: int, variants: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The FactuSOL (talla, color) of one shop combination by its attribute values' names (for order lines whose
    combination reference names no variant: the product's reference, or none)."""
    if not pa_id or not variants:
        return None
    values = ps_attributes.combination_values(ctx.shop, [pa_id]).get(int(pa_id), [])
    return Matcher(ctx).by_names(values, variants)
