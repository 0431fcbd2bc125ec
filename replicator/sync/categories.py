"""FactuSOL families (F_FAM) and sections (F_SEC) -> shop categories, and each product into its family's category.

The product rule's ``categories`` block says how: ``tree: section_family`` (Home > section > family),
``family`` (Home > family) or ``none`` (the shop's categories are left alone); ``parent`` (``home`` or a category
id) is where the tree hangs; ``default_category`` (``family``, ``section`` or ``keep``) is the products' default
category; ``rename`` lets a description changed in FactuSOL rename its category.

Keys are ``fam:<CODFAM>`` and ``sec:<CODSEC>``.  A first sight links the category of that name (case and accents
ignored, any language) under the expected parent before creating one.  The baseline of a key is what the shop was
given: ``{"id", "name", "parent"}``; a name or parent that moved in FactuSOL since then is written, while a category
the shop owner renamed or moved stays as it is until FactuSOL changes.  A family deleted in FactuSOL keeps its
category (products may still be in it).

Products: the baseline ``product_category`` of an article remembers the family and category it was placed in; a
product is placed when it is new, when its family changed in FactuSOL, or when that category is gone.  A product
moved to another category by hand in the shop stays there until its family changes in FactuSOL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from replicator.factusol.families import Family, Section, read_families, read_sections
from replicator.model import Product
from replicator.prestashop import categories as ps_categories
from replicator.rules.decisions import passes_filters
from replicator.store import Change
from replicator.sync.base import NOOP, QUARANTINED, Outcome, SyncContext, SyncError, log, source_value
from replicator.sync.echo import shop_marker, shop_read_back

ENTITY = "category"
PLACEMENT = "product_category"  # baseline entity: where each article's product was placed
FS_TABLES = {"F_FAM": "CODFAM", "F_SEC": "CODSEC"}
TREES = ("section_family", "family", "none")


@dataclass(frozen=True)
class CategoryRule:
    tree: str = "none"
    parent: str | int = "home"
    default_category: str = "family"
    rename: bool = True

    @property
    def on(self) -> bool:
        return self.tree != "none"


def category_rule(ctx: SyncContext) -> CategoryRule:
    """The product rule's ``categories`` block (absent: categories are not managed)."""
    spec = ctx.rules.entity("product").options.get("categories") or {}
    return CategoryRule(
        tree=str(spec.get("tree", "none")),
        parent=spec.get("parent", "home"),
        default_category=str(spec.get("default_category", "family")),
        rename=bool(spec.get("rename", True)),
    )


def family_key(code: str) -> str:
    return f"fam:{code}"


def section_key(code: str) -> str:
    return f"sec:{code}"


class Resolver:
    """Turns family/section keys into shop category ids inside one shop transaction, creating, renaming and moving
    what the rule and the baselines say; `commit` writes the baselines once the shop transaction is committed."""

    def __init__(
        self,
        ctx: SyncContext,
        rule: CategoryRule,
        families: dict[str, Family],
        sections: dict[str, Section],
        writer: ps_categories.TreeWriter,
    ):
        self.ctx, self.rule, self.families, self.sections, self.w = ctx, rule, families, sections, writer
        self.ids: dict[str, int] = {}
        self.notes: dict[str, list[str]] = {}
        self.baselines: dict[str, dict] = {}

    def root(self, key: str = "*") -> int:
        parent = self.rule.parent
        cid = ps_categories.home_category(self.ctx.shop) if str(parent) == "home" else int(parent)
        if cid not in self.w.tree:
            raise SyncError(
                ENTITY,
                key,
                f"category {cid} named by the product rule (categories.parent) is not in the shop: correct the rule",
                "categories.parent",
            )
        return cid

    def _place(self, key: str) -> tuple[str, int, str]:
        """(name, parent category id, parent key) that FactuSOL gives this key."""
        kind, code = key.split(":", 1)
        if kind == "sec":
            section = self.sections[code]
            return section.name or code, self.root(), ""
        family = self.families[code]
        if self.rule.tree == "section_family" and family.section in self.sections:
            parent_key = section_key(family.section)
            return family.name or code, self.resolve(parent_key), parent_key
        return family.name or code, self.root(), ""

    def known(self, key: str) -> bool:
        kind, code = key.split(":", 1)
        return code in (self.sections if kind == "sec" else self.families)

    def resolve(self, key: str) -> int:
        if key in self.ids:
            return self.ids[key]
        name, parent, parent_key = self._place(key)
        base = self.ctx.store.baseline(ENTITY, key) or {}
        notes = self.notes.setdefault(key, [])
        cid = base.get("id")
        if cid not in self.w.tree:
            cid = ps_categories.find_child(self.w.tree, parent, name)
            if cid is not None:
                notes.append(f"linked to shop category {cid} '{name}'")
            else:
                cid = self.w.create(parent, name)
                notes.append(f"created shop category {cid} '{name}'" + (f" under {parent_key}" if parent_key else ""))
        else:
            if self.rule.rename and base.get("name") != name:
                if self.w.rename(cid, name, base.get("name")):
                    notes.append(f"shop category {cid} renamed to '{name}'")
            if base.get("parent", parent_key) != parent_key and self.w.tree[cid].parent != parent:
                self.w.move(cid, parent)
                notes.append(f"shop category {cid} moved under {parent_key or 'the top of the tree'}")
        self.ids[key] = cid
        self.baselines[key] = {"id": cid, "name": name, "parent": parent_key}
        return cid

    def commit(self) -> None:
        self.ctx.store.set_baselines(ENTITY, self.baselines)


def _read(
    ctx: SyncContext, rule: CategoryRule, family_codes: Iterable[str], section_codes: Iterable[str]
) -> tuple[dict[str, Family], dict[str, Section]]:
    families = read_families(ctx.factusol, sorted(set(family_codes))) if family_codes else {}
    wanted_sections = set(section_codes)
    if rule.tree == "section_family":
        wanted_sections |= {f.section for f in families.values() if f.section}
    sections = read_sections(ctx.factusol, sorted(wanted_sections)) if wanted_sections else {}
    return families, sections


def _family_wanted(ctx: SyncContext, code: str) -> bool:
    return (
        passes_filters(ctx.rules.entity("product"), {"family": code, "publish": True})
        if ctx.rules.entity("product").filters.get("families") not in (None, "all")
        else True
    )


class CategorySync:
    entity = ENTITY

    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        if change.side != "factusol" or change.source_table not in FS_TABLES:
            return []
        code = source_value(change, FS_TABLES[change.source_table])
        if not code:
            return []
        return [family_key(str(code)) if change.source_table == "F_FAM" else section_key(str(code))]

    def all_keys(self, ctx: SyncContext) -> list[str]:
        rule = category_rule(ctx)
        if not rule.on:
            return []
        keys = [family_key(code) for code in read_families(ctx.factusol) if _family_wanted(ctx, code)]
        if rule.tree == "section_family" and ctx.rules.entity("product").filters.get("families") in (None, "all"):
            keys = [section_key(code) for code in read_sections(ctx.factusol)] + keys
        return keys

    def plan(self, ctx: SyncContext, keys: list[str]) -> dict[str, list[str]]:
        """What `sync` would do, without writing: categories to create or link, rename or move."""
        rule = category_rule(ctx)
        if not rule.on:
            return {}
        families, sections = _read(
            ctx, rule, [k[4:] for k in keys if k.startswith("fam:")], [k[4:] for k in keys if k.startswith("sec:")]
        )
        out: dict[str, list[str]] = {}
        for key in keys:
            kind, code = key.split(":", 1)
            item = (sections if kind == "sec" else families).get(code)
            if item is None or (kind == "sec" and rule.tree != "section_family"):
                continue
            base = ctx.store.baseline(ENTITY, key)
            parent = ""
            if kind == "fam" and rule.tree == "section_family" and item.section in sections:
                parent = section_key(item.section)
            name = item.name or code
            if base is None:
                out[key] = [f"category '{name}' created (or linked)"]
            elif rule.rename and base.get("name") != name:
                out[key] = [f"name: {base.get('name')!r} -> {name!r}"]
            elif base.get("parent", parent) != parent:
                out[key] = [f"parent: {base.get('parent') or 'top'} -> {parent or 'top'}"]
        return out

    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Outcome]:
        rule = category_rule(ctx)
        if not rule.on:
            return {k: Outcome(NOOP, "categories are not managed (product rule: categories.tree none)") for k in keys}
        fam = [k.split(":", 1)[1] for k in keys if k.startswith("fam:")]
        sec = [k.split(":", 1)[1] for k in keys if k.startswith("sec:")]
        families, sections = _read(ctx, rule, fam, sec)
        outcomes: dict[str, Outcome] = {}
        todo = []
        for key in keys:
            kind, code = key.split(":", 1)
            if kind == "sec" and rule.tree != "section_family":
                outcomes[key] = Outcome(NOOP, "sections are not categories (product rule: categories.tree family)")
            elif kind == "fam" and not _family_wanted(ctx, code):
                outcomes[key] = Outcome(NOOP, "family filtered out by the product rule")
            elif (
                kind == "sec"
                and not ctx.store.baseline(ENTITY, key)
                and ctx.rules.entity("product").filters.get("families") not in (None, "all")
            ):
                outcomes[key] = Outcome(NOOP, "made when one of its families is (product rule: filters.families)")
            elif code not in (sections if kind == "sec" else families):
                outcomes[key] = Outcome(NOOP, "deleted in FactuSOL: the shop category is kept")
            else:
                todo.append(key)
        if todo:
            with ctx.shop.transaction() as cur:
                resolver = Resolver(ctx, rule, families, sections, ps_categories.TreeWriter(ctx.shop, cur))
                try:
                    resolver.root()
                except SyncError as exc:  # a rule naming a category the shop lacks: every key waits for the fix
                    for key in todo:
                        ctx.store.quarantine(ENTITY, key, "prestashop", exc.reason, exc.field)
                        outcomes[key] = Outcome(QUARANTINED, str(SyncError(ENTITY, key, exc.reason, exc.field)))
                    return {k: outcomes[k] for k in keys}
                for key in todo:
                    resolver.resolve(key)
                resolver.w.finish()
                touched = [k for k, n in resolver.notes.items() if n]
                if touched:
                    ps_categories.run_extra(ctx.shop, cur, shop_marker(ctx, f"categories {', '.join(touched)}"[:255]))
            resolver.commit()
            for key in todo:
                notes = resolver.notes.get(key) or []
                outcomes[key] = Outcome("applied", "; ".join(notes)) if notes else Outcome(NOOP)
        return {k: outcomes[k] for k in keys}


def place_products(ctx: SyncContext, items: list[tuple[str, Product, int, bool]]) -> dict[str, str]:
    """Put these products (article code, FactuSOL article, shop product id, created just now) into their family's
    category as the rule says; returns a note per article whose product was placed or moved."""
    rule = category_rule(ctx)
    if not rule.on or not items:
        return {}
    todo: list[tuple[str, Product, int, bool, dict | None]] = []
    for key, article, product_id, created in items:
        if not article.family or not product_id:
            continue
        base = None if created else ctx.store.baseline(PLACEMENT, key)
        if base is not None and base.get("family") == article.family:
            continue  # placed already; a hand-made change in the shop stays until the family changes
        todo.append((key, article, int(product_id), created, base))
    if not todo:
        return {}
    families, sections = _read(ctx, rule, {a.family for _, a, _, _, _ in todo}, ())
    notes: dict[str, str] = {}
    placements: list[ps_categories.Placement] = []
    placed: dict[str, dict] = {}
    home = ps_categories.home_category(ctx.shop)
    with ctx.shop.transaction() as cur:
        resolver = Resolver(ctx, rule, families, sections, ps_categories.TreeWriter(ctx.shop, cur))
        try:
            resolver.root()
        except SyncError as exc:  # the category keys are quarantined with the reason; products keep their categories
            log.debug("products not placed: %s", exc)
            return {}
        for key, article, product_id, created, base in todo:
            fkey = family_key(article.family)
            if not resolver.known(fkey):
                continue  # a family code F_FAM does not have: the product keeps the shop's categories
            category = resolver.resolve(fkey)
            family = families[article.family]
            section = resolver.ids.get(section_key(family.section)) if rule.tree == "section_family" else None
            default = section if rule.default_category == "section" and section else category
            if not created and rule.default_category == "keep":
                default = None  # a linked product keeps the default category the shop gave it
            leave = {home} if created else set()  # the product writer put the new product in Home
            if base:
                leave |= {c for c in (base.get("category"), base.get("default")) if c}
            placements.append(ps_categories.Placement(product_id, (category,), default, tuple(leave)))
            placed[key] = {"family": article.family, "category": category, "default": default}
            notes[key] = f"category {family.name or family.code} ({category})"
        resolver.w.finish()
        if any(resolver.notes.values()):
            ps_categories.run_extra(ctx.shop, cur, shop_marker(ctx, "categories for products"))
    resolver.commit()
    ps_categories.place_products(
        ctx.shop,
        placements,
        extra=shop_marker(ctx, f"product categories ({len(placed)})"),
        read_back=shop_read_back(ctx, "product"),
    )
    ctx.store.set_baselines(PLACEMENT, placed)
    return notes


def noted(outcome: Outcome, note: str | None) -> Outcome:
    """The product's outcome with its category note (a NOOP that placed the product becomes applied)."""
    if not note:
        return outcome
    if outcome.status == NOOP:
        return Outcome("applied", note)
    if outcome.status == "applied":
        return Outcome("applied", f"{outcome.detail}; {note}" if outcome.detail else note)
    return outcome


__all__ = [
    "CategorySync",
    "CategoryRule",
    "category_rule",
    "place_products",
    "noted",
    "family_key",
    "section_key",
    "TREES",
]
