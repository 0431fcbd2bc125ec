"""Stock: FactuSOL -> shop, from the chosen warehouse(s) with the chosen formula, per product and combination.

The key is the FactuSOL article code.  The quantity published is the stock rule's formula over F_STO/F_STC
(and the units pending on FactuSOL customer orders when the formula asks for them), minus the units of shop
orders FactuSOL does not know yet: a sale in the shop has already taken its units there, and putting them
back on sale because FactuSOL lags behind would oversell.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable

from replicator.factusol import reader as fs_reader
from replicator.factusol import supplier_orders
from replicator.prestashop import attributes as ps_attributes
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.prestashop.quantities import stock_quantities
from replicator.rules.decisions import stock_quantity
from replicator.store import Change
from replicator.sync.base import NOOP, Outcome, SyncContext, image, row_key, source_value
from replicator.sync.combinations import Matcher
from replicator.sync.echo import shop_marker, shop_read_back

ENTITY = "stock"
log = logging.getLogger("replicator.sync.stock")
FS_TABLES = {
    "F_STO": "ARTSTO",
    "F_STC": "ARTSTC",
    "F_LPC": "ARTLPC",
    supplier_orders.LINES: supplier_orders.LINE_ARTICLE,
}
HANDFUL = 8  # more stock rows than this in one batch: written together (set_stock_bulk chunks), not per article


def _quantity(rules, per_warehouse: dict, reserved: int) -> int:
    """The shop quantity the stock rule gives these FactuSOL figures (minus units held by unsynced shop orders)."""
    q = int(stock_quantity(rules, per_warehouse, reserved).to_integral_value())
    return max(q, 0) if rules.options.get("negative_as_zero", True) else q


def on_order_units(ctx: SyncContext, articles: list[str]) -> dict:
    """Units on open supplier orders (F_PPR/F_LPP) for the *_plus_on_order formulas; a file without those tables
    counts none, said once."""
    if not supplier_orders.has_supplier_orders(ctx.factusol):
        if not ctx.cache.get("no_supplier_orders_said"):
            log.warning(
                "stock formula %s: this FactuSOL file has no supplier orders (F_PPR/F_LPP): none counted",
                ctx.rules.entity(ENTITY).options.get("formula"),
            )
            ctx.cache["no_supplier_orders_said"] = True
        return {}
    return supplier_orders.read_on_order_units(ctx.factusol, articles)


def _article_of_product(ctx: SyncContext, product_id: Any) -> str | None:
    known = ctx.cache.setdefault("article_of_product", {})  # per batch: an order's lines name the same products
    if product_id not in known:
        link = ctx.store.map_id("product", prestashop_id=str(product_id))
        known[product_id] = link.factusol_key if link else None
    return known[product_id]


class StockSync:
    entity = ENTITY

    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        if change.side == "factusol" and change.source_table == "F_PCL":
            # a pedido's state alone (served, cancelled) decides whether its pending units still count
            before, after = json.loads(change.before or "{}"), json.loads(change.after or "{}")
            if before.get("ESTPCL") == after.get("ESTPCL") or not (before and after):
                return []
            key = row_key(change)
            return sorted(
                {
                    str(r["ARTLPC"]).strip()
                    for r in fs_reader.order_lines(ctx.factusol, str(key.get("TIPPCL")), int(key.get("CODPCL")))
                    if r.get("ARTLPC")
                }
            )
        if change.side == "factusol" and change.source_table == supplier_orders.HEADER:
            # a supplier order's state moves the units of all its lines (received, cancelled)
            key = row_key(change)
            series, number = key.get(supplier_orders.HEADER_SERIES), key.get(supplier_orders.HEADER_NUMBER)
            return supplier_orders.order_articles(ctx.factusol, str(series), int(number)) if number else []
        if change.side == "factusol" and change.source_table in FS_TABLES:
            article = source_value(change, FS_TABLES[change.source_table])
            return [str(article)] if article else []
        if change.side == "prestashop" and change.source_table in ("stock_available", "order_detail"):
            product_id = image(change).get("id_product", image(change).get("product_id"))
            article = _article_of_product(ctx, product_id) if product_id else None
            return [article] if article else []
        return []

    def all_keys(self, ctx: SyncContext) -> Iterable[str]:
        # In the file's order (`FileOrder`): each chunk's FactuSOL rows are then read by one range per table.
        linked = ctx.store.id_map("product")
        in_file = fs_reader.article_codes(ctx.factusol).subset(linked)
        gone = sorted(set(linked) - set(in_file))  # links to articles no longer in the file (rare)
        return in_file if not gone else [*in_file, *gone]

    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Outcome]:
        rules = ctx.rules.entity(ENTITY)
        options = rules.options
        products, rows, outcomes = self._rows(ctx, keys)
        if not products:
            return outcomes
        subtract = bool(options.get("subtract_unsynced_shop_orders", True))

        def synced(order_ids: list[int]) -> set[int]:  # which of these shop orders FactuSOL already has
            return {int(v) for v in ctx.store.id_map_by_prestashop("order", order_ids)}

        count = sum(len(r) for r in rows.values())
        if count > HANDFUL:  # a large batch (initial sync): one locked transaction per chunk of rows
            groups = [list(rows)]
        else:  # a few articles (a normal cycle): one transaction per article, as before
            groups = [[article] for article in rows]
        for group in groups:
            outcomes.update(
                self._write(
                    ctx,
                    rules,
                    {a: products[a] for a in group},
                    {a: rows[a] for a in group},
                    synced if subtract else None,
                )
            )
        for article in products:
            outcomes.setdefault(article, Outcome(NOOP))
        return {key: outcomes[key] for key in keys}

    def plan(self, ctx: SyncContext, keys: list[str]) -> dict[str, list[str]]:
        """What `sync` would write, without writing: {article: ["<label> <shop> -> <new>", ...]} for the keys whose
        shop quantities differ from what the current rules give (`replicator resync --dry-run`)."""
        return {
            article: [f"{label} {old} -> {new}" for label, old, new in rows]
            for article, rows in self.differences(ctx, keys).items()
        }

    def differences(self, ctx: SyncContext, keys: list[str]) -> dict[str, list[tuple[str, int, int]]]:
        """{article: [(combination reference or article, shop quantity, quantity the rules give), ...]} for the
        shop stock rows that differ from what the current rules give (resync's plan, `replicator reconcile`)."""
        rules = ctx.rules.entity(ENTITY)
        products, rows, _ = self._rows(ctx, keys)
        if not products:
            return {}
        held: dict[tuple[int, int], int] = {}
        if rules.options.get("subtract_unsynced_shop_orders", True):
            held = ps_reader.unsynced_order_units(
                ctx.shop, products.values(), lambda ids: {int(v) for v in ctx.store.id_map_by_prestashop("order", ids)}
            )
        current = stock_quantities(ctx.shop, products.values())
        out: dict[str, list[tuple[str, int, int]]] = {}
        for article, items in rows.items():
            for row, per_warehouse in items:
                key = (row["id_product"], row["id_product_attribute"])
                new = _quantity(rules, per_warehouse, held.get(key, 0))
                old = int(current.get(key, 0))
                if old != new:
                    out.setdefault(article, []).append((row["combination_reference"] or article, old, new))
        return out

    def _rows(self, ctx: SyncContext, keys: list[str]):
        """(article -> shop product id, article -> [(shop stock row, FactuSOL figures per warehouse)], outcomes of
        the keys with nothing to do)."""
        options = ctx.rules.entity(ENTITY).options
        wanted = set(keys)
        products = {k: int(v) for k, v in ctx.store.id_map_for("product", wanted).items()}
        outcomes = {k: Outcome(NOOP, "article not in the shop") for k in keys if k not in products}
        rows: dict[str, list[tuple[dict, dict]]] = {}
        if not products:
            return products, rows, outcomes
        articles = fs_reader.in_file_order(keys, products)
        detail = fs_reader.read_stock_detail(ctx.factusol, articles)
        formula = str(options.get("formula", "available"))
        pending = fs_reader.read_pending_order_units(ctx.factusol, articles) if "pending" in formula else {}
        on_order = on_order_units(ctx, articles) if formula.endswith("plus_on_order") else {}
        targets = ps_reader.stock_targets(ctx.shop, products.values())
        by_product: dict[int, list[dict]] = {}
        for row in targets:
            by_product.setdefault(row["id_product"], []).append(row)
        # the FactuSOL variants matter only for the shop's combinations: read for those articles alone
        with_combinations = fs_reader.in_file_order(
            articles,
            [a for a, pid in products.items() if any(r["id_product_attribute"] for r in by_product.get(pid, ()))],
        )
        variants = fs_reader.article_variants(ctx.factusol, with_combinations) if with_combinations else {}
        # which FactuSOL talla/color each shop combination is: by attribute names and/or reference (product rule)
        matcher = Matcher(ctx) if with_combinations else None
        values = ps_attributes.combination_values(
            ctx.shop, [r["id_product_attribute"] for a in with_combinations for r in by_product.get(products[a], ())]
        )
        # every stock row FactuSOL feeds: (article, shop row, FactuSOL figures per warehouse)
        for article, product_id in products.items():
            for row in by_product.get(product_id, []):
                size_colour = (
                    ("", "")
                    if not row["id_product_attribute"]
                    else matcher.variant(
                        article,
                        row["combination_reference"] or "",
                        values.get(row["id_product_attribute"], []),
                        variants.get(article, []),
                    )
                    if matcher
                    else None
                )
                if size_colour is None:
                    continue  # a shop combination FactuSOL does not have: left alone
                stock_key = (article, *size_colour)
                per_warehouse = detail.get(stock_key, {})
                if stock_key in pending or stock_key in on_order:  # a copy: the detail read stays as FactuSOL gave it
                    per_warehouse = {wh: dict(v) for wh, v in per_warehouse.items()}
                    for wh, units in pending.get(stock_key, {}).items():
                        per_warehouse.setdefault(wh, {})["pending"] = units
                    for wh, units in on_order.get(stock_key, {}).items():
                        per_warehouse.setdefault(wh, {})["on_order"] = units
                rows.setdefault(article, []).append((row, per_warehouse))
        return products, rows, outcomes

    def _write(
        self,
        ctx: SyncContext,
        rules,
        products: dict[str, int],
        rows: dict[str, list[tuple[dict, dict]]],
        synced: Callable[[list[int]], set[int]] | None,
    ) -> dict[str, Outcome]:
        """Write the quantities of these articles; the units of shop orders FactuSOL does not know yet are read
        INSIDE the transaction that holds the stock rows locked, so an order committed meanwhile is counted."""
        by_key = {
            (row["id_product"], row["id_product_attribute"]): (article, row, per_warehouse)
            for article, items in rows.items()
            for row, per_warehouse in items
        }
        held: dict[tuple[int, int], int] = {}

        def quantity(per_warehouse: dict, reserved: int) -> int:
            return _quantity(rules, per_warehouse, reserved)

        def under_lock(cur) -> dict[tuple[int, int], int]:
            if synced is None:
                return {}
            held.update(ps_reader.unsynced_order_units(ctx.shop, products.values(), synced))
            # only the rows with held units change: the others keep the quantity passed in (held 0)
            return {key: quantity(by_key[key][2], units) for key, units in held.items() if units and key in by_key}

        first, last = min(products), max(products)
        note = f"stock {first}" if first == last else f"stock {first}..{last} ({len(products)} articles)"
        written = ps_writer.set_stock_bulk(
            ctx.shop,
            [(pid, pa, quantity(per_warehouse, 0)) for (pid, pa), (_, _, per_warehouse) in by_key.items()],
            extra=shop_marker(ctx, note),
            compute=under_lock,
            read_back=shop_read_back(ctx, ENTITY),
        )
        notes: dict[str, list[str]] = {}
        for key, write in written.items():
            article, row, _ = by_key[key]
            reserved = held.get(key, 0)
            label = row["combination_reference"] or article
            notes.setdefault(article, []).append(
                f"{label} {write.old_quantity} -> {write.new_quantity}"
                + (f" ({reserved} held by shop orders not yet in FactuSOL)" if reserved else "")
            )
        ctx.count("stock_writes", len(written))
        return {article: Outcome("applied", "shop stock " + ", ".join(n)) for article, n in notes.items()}
