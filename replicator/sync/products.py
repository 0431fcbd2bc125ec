"""Articles: FactuSOL F_ART (+ tariff price, variants) -> shop products and combinations, fields owned by rule.

The key is the article code (F_ART.CODART = product.reference).  A first sight links an existing shop product
with that reference before creating one.  Afterwards a field travels when it changed in FactuSOL since the
baseline (the image last pushed) and the product rule lets it (`direction`); an edit made in the shop's back
office stays until the article changes in FactuSOL.  An article that leaves the rule's filters (unticked
"subir a internet", family filtered out) is deactivated, never deleted: orders refer to it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from replicator.factusol import reader as fs_reader
from replicator.model import Product
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.rules.decisions import passes_filters
from replicator.rules.ruleset import writes
from replicator.store import Change
from replicator.sync.base import NOOP, QUARANTINED, Outcome, SyncContext, image, row_key
from replicator.keys import canon
from replicator.sync.echo import shop_marker, shop_read_back
from replicator.sync.product_checks import publish_problem
from replicator.sync.categories import noted, place_products
from replicator.sync.combinations import resolve_attribute_values

ENTITY = "product"
FS_TABLES = {"F_ART": "CODART", "F_LTA": "ARTLTA", "F_ARC": "ARTARC", "F_EAN": "ARTEAN"}
PS_TABLES = ("product", "product_shop", "product_lang", "product_attribute")
# canonical comparison field -> the product rule field that owns it
RULE_FIELD = {
    "name": "name",
    "description": "description",
    "ean13": "ean13",
    "weight": "weight",
    "active": "publish",
    "price_tax_excl": "price_tax_excl",
    "cost_price": "cost_price",
    "vat_rate": "vat_selector",
}
SIX = Decimal("0.000001")
BULK_CHUNK = 2000  # new articles per shop transaction in the bulk creation path


def _money(value: Any) -> Any:
    return None if value is None else canon(Decimal(value).quantize(SIX, ROUND_HALF_UP))


def _fields(product: Product) -> dict[str, Any]:
    return {
        "name": product.name[:128],
        "description": product.description,
        "ean13": product.ean13[:13],
        "weight": _money(product.weight),
        "active": bool(product.active),
        "price_tax_excl": _money(product.price_tax_excl),
        "cost_price": _money(product.cost_price),
        "vat_rate": _money(product.vat_rate),
        "combinations": sorted(c.reference for c in product.combinations),
    }


def _lang_previous(key: str, base: dict | None) -> dict[str, str]:
    """What FactuSOL gave every language last time (the baseline): a language still holding it is not translated."""
    if not base:
        return {}
    out = {}
    if "name" in base:
        out["name"] = (base["name"] or key)[:128]
    if "description" in base:
        out["description"] = base["description"] or ""
    return out


def _indexing(ctx: SyncContext) -> bool:
    """product.yaml ``indexing``: the replicator keeps the shop's search/price indexes (default), or PrestaShop."""
    return ctx.rules.entity(ENTITY).options.get("indexing", "replicator") != "prestashop"


class ProductSync:
    entity = ENTITY
    force = False  # a resync: every field FactuSOL owns is written where the shop differs, moved or not

    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        if change.side == "factusol" and change.source_table in FS_TABLES:
            column = FS_TABLES[change.source_table]
            article = row_key(change).get(column) or image(change).get(column)
            return [str(article)] if article else []
        if change.side == "prestashop" and change.source_table in PS_TABLES:
            product_id = image(change).get("id_product")
            link = ctx.store.map_id(ENTITY, prestashop_id=str(product_id)) if product_id else None
            return [link.factusol_key] if link else []  # shop-only products are the shop's business
        return []

    def all_keys(self, ctx: SyncContext) -> Iterable[str]:
        return fs_reader.article_codes(ctx.factusol)

    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Outcome]:
        rules = ctx.rules.entity(ENTITY)
        tariff = int(rules.options.get("tariff", 1))
        fs_products = {
            p.reference: p
            for p in fs_reader.read_products(
                ctx.factusol, tariff=tariff, references=keys, combinations=bool(rules.options.get("variants", True))
            )
        }
        # combinations use the shop's attribute values named as FactuSOL names the tallas/colores (product rule)
        resolve_attribute_values(
            ctx,
            [
                p
                for p in fs_products.values()
                if p.combinations and passes_filters(rules, {"family": p.family, "publish": p.publish})
            ],
        )
        wanted = set(keys)
        links = {k: int(v) for k, v in ctx.store.id_map_for(ENTITY, wanted).items()}
        unlinked = [k for k in keys if k not in links]
        found = []
        for product in ps_reader.read_products(ctx.shop, references=unlinked) if unlinked else []:
            if product.reference in fs_products and product.reference not in links:
                links[product.reference] = product.prestashop_id  # link before create (lowest id wins)
                found.append((product.reference, str(product.prestashop_id)))
        ctx.store.link_many(ENTITY, found)
        shop_products = (
            {p.prestashop_id: p for p in ps_reader.read_products(ctx.shop, ids=links.values())} if links else {}
        )
        outcomes: dict[str, Outcome] = {}
        new: list[tuple[str, Product]] = []  # articles to create (with or without combinations): bulk writes
        bases = ctx.store.baselines(ENTITY, [k for k in keys if k in links])  # one read for the batch
        self._baselines: dict[str, dict] = {}
        try:
            for key in keys:
                article = fs_products.get(key)
                product_id = links.get(key)
                current = shop_products.get(product_id) if product_id else None
                if article is None or not passes_filters(rules, {"family": article.family, "publish": article.publish}):
                    outcomes[key] = self._leave(
                        ctx,
                        key,
                        current,
                        "deleted in FactuSOL" if article is None else "filtered out by the product rule",
                    )
                    continue
                problem = publish_problem(ctx, key, article, current is None, tariff)
                if problem is not None:  # no price, or a VAT rate without a shop tax rule: wait, say why
                    ctx.store.quarantine(ENTITY, key, "factusol", problem[1], problem[0])
                    outcomes[key] = Outcome(QUARANTINED, f"{ENTITY} {key} field {problem[0]}: {problem[1]}")
                    continue
                if current is None:
                    if rules.create not in ("to_prestashop", "both"):
                        outcomes[key] = self._create(ctx, key, article)
                    else:
                        new.append((key, article))
                else:
                    outcomes[key] = self._update(ctx, key, article, current, bases.get(key))
            if new:
                outcomes.update(self._create_bulk(ctx, new))
        finally:
            ctx.store.set_baselines(ENTITY, self._baselines)
            self._baselines = {}
        created = {key for key, _ in new}
        placed = place_products(
            ctx,
            [
                (key, fs_products[key], links.get(key) or fs_products[key].prestashop_id, key in created)
                for key in keys
                if key in fs_products
                and outcomes.get(key)
                and outcomes[key].status in ("applied", NOOP)
                and passes_filters(rules, {"family": fs_products[key].family, "publish": fs_products[key].publish})
            ],
        )
        return {key: noted(outcomes[key], placed.get(key)) for key in keys if key in outcomes}

    def _create_bulk(self, ctx: SyncContext, new: list[tuple[str, Product]]) -> dict[str, Outcome]:
        """Many new articles, with or without combinations: one shop transaction, one link and one baseline
        transaction per chunk (a crash between them is healed by the next run, which links the products by
        reference)."""
        outcomes: dict[str, Outcome] = {}
        for i in range(0, len(new), BULK_CHUNK):
            part = new[i : i + BULK_CHUNK]
            note = f"products {part[0][0]}..{part[-1][0]} created ({len(part)})"
            made = ps_writer.create_products_bulk(
                ctx.shop,
                [a for _, a in part],
                extra=shop_marker(ctx, note),
                index=_indexing(ctx),
                read_back=shop_read_back(ctx, ENTITY),
            )
            ctx.store.link_many(ENTITY, [(key, str(made[key])) for key, _ in part])
            ctx.store.set_baselines(ENTITY, {key: _fields(a) for key, a in part if key not in made.existing})
            for key, article in part:
                if key in made.existing:
                    # appeared in the shop since the links were read: linked, then updated like any linked product
                    current = next(iter(ps_reader.read_products(ctx.shop, ids=[made[key]])), None)
                    outcomes[key] = (
                        self._update(ctx, key, article, current, ctx.store.baseline(ENTITY, key))
                        if current
                        else Outcome(NOOP, f"linked to shop product {made[key]}")
                    )
                else:
                    combos = f" with {len(article.combinations)} combinations" if article.combinations else ""
                    outcomes[key] = Outcome("applied", f"created shop product {made[key]}{combos}")
        return outcomes

    def _baseline(self, ctx: SyncContext, key: str, fields: dict[str, Any]) -> None:
        """Baselines are written in one transaction at the end of the batch."""
        if getattr(self, "_baselines", None) is None:
            ctx.store.set_baseline(ENTITY, key, fields)
        else:
            self._baselines[key] = fields

    def _create(self, ctx: SyncContext, key: str, article: Product) -> Outcome:
        rules = ctx.rules.entity(ENTITY)
        if rules.create not in ("to_prestashop", "both"):
            return Outcome(NOOP, "product creation in the shop is off (product rule: create)")
        product_id = ps_writer.upsert_product(
            ctx.shop, article, extra=shop_marker(ctx, f"product {key}"), index=_indexing(ctx)
        )
        ctx.store.link(ENTITY, key, str(product_id))
        ctx.store.set_baseline(ENTITY, key, _fields(article))
        combos = f" with {len(article.combinations)} combinations" if article.combinations else ""
        return Outcome("applied", f"created shop product {product_id}{combos}")

    @staticmethod
    def _changed(
        ctx: SyncContext, key: str, article: Product, current: Product, base: dict | None, force: bool = False
    ) -> list[str]:
        """The fields to write: those FactuSOL moved since the baseline (every one it owns with ``force``, as a
        resync asks) that the shop does not already hold."""
        rules = ctx.rules.entity(ENTITY)
        fs_now, ps_now = _fields(article), _fields(current)
        changed = []
        for name, value in fs_now.items():
            rule = rules.fields.get(RULE_FIELD.get(name, name))
            if rule is not None and not writes(rule.direction, "prestashop"):
                continue  # the shop owns this field
            if value is None or (value == "" and (base is None or force)):
                continue  # no opinion: an empty FactuSOL field never wipes what a linked shop product has
            moved = force or base is None or base.get(name) != value
            shop_value = ps_now.get(name)
            if name == "vat_rate" and shop_value is None:
                shop_value = _money(0)  # the shop's "No tax" (tax rules group 0) is FactuSOL's 0 % (exento)
            if moved and shop_value != value:
                changed.append(name)
        return changed

    def plan(self, ctx: SyncContext, keys: list[str]) -> dict[str, list[str]]:
        """What a resync would write, without writing: {article: ["<field>: <shop> -> <FactuSOL>", ...]}."""
        rules = ctx.rules.entity(ENTITY)
        fs_products = {
            p.reference: p
            for p in fs_reader.read_products(
                ctx.factusol,
                tariff=int(rules.options.get("tariff", 1)),
                references=keys,
                combinations=bool(rules.options.get("variants", True)),
            )
        }
        links = {k: int(v) for k, v in ctx.store.id_map_for(ENTITY, set(keys)).items()}
        shop = {p.prestashop_id: p for p in ps_reader.read_products(ctx.shop, ids=links.values())} if links else {}
        out: dict[str, list[str]] = {}
        for key in keys:
            article, current = fs_products.get(key), shop.get(links.get(key))
            if article is None or not passes_filters(rules, {"family": article.family, "publish": article.publish}):
                if (
                    current is not None
                    and current.active
                    and rules.options.get("on_filter_exit", "deactivate") == "deactivate"
                ):
                    out[key] = ["active: True -> False"]
            elif current is None:
                if rules.create in ("to_prestashop", "both"):
                    out[key] = ["created in the shop"]
            else:
                shop_fields, fs_fields = _fields(current), _fields(article)
                changed = self._changed(ctx, key, article, current, ctx.store.baseline(ENTITY, key), force=True)
                if changed:
                    out[key] = [f"{n}: {shop_fields.get(n)!r} -> {fs_fields.get(n)!r}" for n in changed]
        return out

    def _update(self, ctx: SyncContext, key: str, article: Product, current: Product, base: dict | None) -> Outcome:
        fs_now = _fields(article)
        changed = self._changed(ctx, key, article, current, base, force=self.force)
        if not changed:
            self._baseline(ctx, key, fs_now)
            return Outcome(NOOP)
        # Fields FactuSOL does not own keep the shop's values: start from the shop product.
        merged = Product(
            reference=key,
            prestashop_id=current.prestashop_id,
            name=current.name,
            description=current.description,
            description_short=current.description_short,
            ean13=current.ean13,
            weight=current.weight,
            active=current.active,
            price_tax_excl=current.price_tax_excl,
            cost_price=current.cost_price,
            vat_rate=current.vat_rate,
            combinations=article.combinations,
        )
        for name in changed:
            if name != "combinations":
                setattr(merged, name, getattr(article, name))
        ps_writer.upsert_product(
            ctx.shop,
            merged,
            extra=shop_marker(ctx, f"product {key}"),
            lang_previous=_lang_previous(key, base),
            index=_indexing(ctx),
        )
        self._baseline(ctx, key, fs_now)
        return Outcome("applied", f"shop product {current.prestashop_id}: {', '.join(changed)}")

    def _leave(self, ctx: SyncContext, key: str, current: Product | None, why: str) -> Outcome:
        rules = ctx.rules.entity(ENTITY)
        if current is None or not current.active or rules.options.get("on_filter_exit", "deactivate") != "deactivate":
            return Outcome(NOOP, why)
        current.active = False
        current.combinations = []
        ps_writer.upsert_product(
            ctx.shop,
            current,
            extra=shop_marker(ctx, f"product {key} deactivated"),
            lang_previous={},
            index=_indexing(ctx),
        )  # never over the translations
        # Remember what the shop was given: an article that comes back (ticked again, family re-added) must be
        # seen as moved, or its product would stay inactive for ever.
        base = ctx.store.baseline(ENTITY, key)
        if base is not None:
            ctx.store.set_baseline(ENTITY, key, {**base, "active": False})
        return Outcome("applied", f"{why}: shop product {current.prestashop_id} deactivated")
