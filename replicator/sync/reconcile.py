"""`replicator reconcile`: compare both sides entity by entity from the data as it is now, not from the change log.

For each entity it reports three kinds of difference:

- ``missing_link``: a record one side has that should have a partner (an article that passes the product rule's
  filters, a shop customer, a shop order) and has none in the id map;
- ``orphan``: a link whose record is gone on one side;
- ``field``: a linked pair whose field, owned by a side under the rules, holds different values.

Stock compares each shop stock row (simple product or combination) with the quantity the stock rule's warehouses
and formula give from FactuSOL's figures now; shipments and invoices compare each linked shop order with its
FactuSOL delivery notes (tracking number, carrier, the shipped/delivered state the rule events give) and invoices
(number, date, totals, the paid state).

`repair` applies the rules' verdict through the normal apply path (`Engine.sync_keys`: ledger, echo suppression,
quarantine and conflicts all hold): the keys that differ are synced again, without the baseline entries of the
fields that differ, so what FactuSOL owns is written where the shop drifted (and an event whose state the shop
lacks fires again); a customer's field both sides may write is seen as moved on both, so its policy decides (a
`manual` field becomes a conflict for a person).  `repair_until_settled` compares again after a repair and repairs
what the links it made show (a lost store's keys: linked first, then their fields and stock).  Use it after a lost
or restored store or a FactuSOL file restored from a backup.
"""

from __future__ import annotations

from typing import Any

from replicator.factusol import reader as fs_reader
from replicator.prestashop import reader as ps_reader
from replicator.rules.decisions import passes_filters
from replicator.rules.ruleset import writes
from replicator.sync import customers as customer_sync
from replicator.sync import products as product_sync
from replicator.sync.base import SyncContext
from replicator.keys import doc_year, split_doc_key
from replicator.sync.differences import Difference, ReconcileReport
from replicator.sync.followup import order_key
from replicator.sync.reconcile_documents import invoices as _invoices
from replicator.sync.reconcile_documents import shipments as _shipments
from replicator.sync.reconcile_documents import stock as _stock

ENTITIES = ("product", "customer", "order", "stock", "shipment", "invoice")
CHUNK = 2000


def reconcile(ctx: SyncContext, entities: list[str] | None = None) -> ReconcileReport:
    report = ReconcileReport()
    for entity in entities or ENTITIES:
        READERS[entity](ctx, report)
    held = {(q.entity, q.key): f"quarantined: {q.reason}" for q in ctx.store.quarantined()}
    for c in ctx.store.conflicts():  # an open conflict waits for a person: `replicator resolve`
        held.setdefault((c.entity, c.key), f"open conflict #{c.id} on {c.field}: `replicator resolve {c.id}`")
    for d in report.differences:  # a difference the engine already holds in quarantine or a conflict says why
        if (d.entity, d.key) in held:
            d.detail = (d.detail + "; " if d.detail else "") + held[d.entity, d.key]
    return report


def _same(name: str, factusol: Any, shop: Any) -> bool:
    if name == "vat_rate" and factusol in (0, None) and shop in (0, None):
        return True  # a product without a tax rules group in the shop is taxed at 0 %
    return factusol == shop


def _products(ctx: SyncContext, report: ReconcileReport) -> None:
    rules = ctx.rules.entity("product")
    tariff = int(rules.options.get("tariff", 1))
    articles = {
        p.reference: p
        for p in fs_reader.read_products(
            ctx.factusol, tariff=tariff, combinations=bool(rules.options.get("variants", True))
        )
    }
    links = {k: int(v) for k, v in ctx.store.id_map("product").items()}
    shop = {p.prestashop_id: p for p in ps_reader.read_products(ctx.shop, ids=list(links.values()))} if links else {}
    report.checked["product"] = len(articles)
    by_reference = {}
    unlinked = [
        k
        for k, a in articles.items()
        if k not in links and passes_filters(rules, {"family": a.family, "publish": a.publish})
    ]
    if unlinked:
        by_reference = {p.reference: p.prestashop_id for p in ps_reader.read_products(ctx.shop, references=unlinked)}
    for key in unlinked:
        found = by_reference.get(key)
        report.differences.append(
            Difference(
                "product",
                key,
                "missing_link",
                detail=(f"shop product {found} has this reference and is not linked" if found else "no shop product"),
            )
        )
    for key, product_id in links.items():
        article, current = articles.get(key), shop.get(product_id)
        if article is None or current is None:
            gone = "the article is gone from FactuSOL" if article is None else f"shop product {product_id} is gone"
            report.differences.append(Difference("product", key, "orphan", detail=gone))
            continue
        if not passes_filters(rules, {"family": article.family, "publish": article.publish}):
            continue  # the product rule leaves it (deactivated on the way out)
        fs_now, ps_now = product_sync._fields(article), product_sync._fields(current)
        for name, value in fs_now.items():
            rule = rules.fields.get(product_sync.RULE_FIELD.get(name, name))
            if rule is not None and not writes(rule.direction, "prestashop"):
                continue  # the shop owns it
            if value in (None, "") or _same(name, value, ps_now.get(name)):
                continue
            report.differences.append(Difference("product", key, "field", name, value, ps_now.get(name)))


def _customers(ctx: SyncContext, report: ReconcileReport) -> None:
    rules = ctx.rules.entity("customer")
    shop = {c.prestashop_id: c for c in ps_reader.read_customers(ctx.shop) if not c.deleted}
    links = {int(ps): int(code) for code, ps in ctx.store.id_map("customer").items()}
    factusol = (
        {c.factusol_code: c for c in fs_reader.read_customers(ctx.factusol, list(links.values()))} if links else {}
    )
    report.checked["customer"] = len(shop)
    guests = bool(rules.filters.get("include_guests", True))
    for ps_id, customer in shop.items():
        if ps_id not in links and (guests or not customer.is_guest):
            report.differences.append(
                Difference(
                    "customer", f"ps:{ps_id}", "missing_link", detail="shop customer without a FactuSOL customer"
                )
            )
    for ps_id, code in links.items():
        fs, current = factusol.get(code), shop.get(ps_id)
        if fs is None or current is None:
            gone = f"FactuSOL customer {code} is gone" if fs is None else f"shop customer {ps_id} is gone"
            report.differences.append(Difference("customer", f"ps:{ps_id}", "orphan", detail=gone))
            continue
        fs_now, ps_now = customer_sync._fields(fs), customer_sync._fields(current)
        for name in customer_sync.FIELDS:
            rule = rules.fields.get(name)
            if rule is not None and rule.direction == "none":
                continue
            if fs_now[name] != ps_now[name] and (fs_now[name] or ps_now[name]):
                report.differences.append(
                    Difference("customer", f"ps:{ps_id}", "field", name, fs_now[name], ps_now[name])
                )


def _orders(ctx: SyncContext, report: ReconcileReport) -> None:
    """Every shop order should have its pedido (orders flow shop -> FactuSOL); a link whose pedido or order is gone
    is an orphan.  Pedidos of another fiscal-year file than the open one are not looked for."""
    shop_ids = ps_reader.order_ids(ctx.shop)
    links = {int(ps): code for code, ps in ctx.store.id_map("order").items()}
    report.checked["order"] = len(shop_ids)
    present = set(shop_ids)
    pedidos = (
        {
            (str(o.factusol_series).strip(), int(o.factusol_number))
            for o in fs_reader.read_orders(ctx.factusol)
            if o.factusol_number is not None
        }
        if links
        else set()
    )
    for order_id in shop_ids:
        if order_id not in links:
            report.differences.append(
                Difference("order", order_key(order_id), "missing_link", detail="shop order without a pedido")
            )
    for order_id, code in links.items():
        if order_id not in present:
            report.differences.append(
                Difference("order", order_key(order_id), "orphan", detail=f"the shop order is gone (pedido {code})")
            )
        elif doc_year(code) in ("", ctx.factusol_year) and split_doc_key(code) not in pedidos:
            report.differences.append(
                Difference("order", order_key(order_id), "orphan", detail=f"pedido {code} is gone from FactuSOL")
            )


# Baseline entries a field difference clears before the repair syncs the key again (the sync then sees FactuSOL's
# value as moved and writes it): entity -> reported field -> baseline entry.
STALE = {
    "shipment": {"tracking_number": "tracking", "carrier": "carrier"},
    "invoice": {"number": "invoice", "issued_at": "invoice", "total_tax_incl": "invoice", "total_tax_excl": "invoice"},
}


def _forget(ctx: SyncContext, entity: str, differences: list[Difference]) -> None:
    """Drop from the baselines what the differences say the shop lacks, so the entity sync writes it again."""
    stale: dict[str, dict] = {}
    for d in differences:
        if d.entity != entity or d.kind != "field":
            continue
        if d.key not in stale:
            stale[d.key] = ctx.store.baseline(entity, d.key)
        base = stale[d.key]
        if base is None:  # no baseline (a lost store): every field is seen as moved already
            continue
        if entity == "product":
            base.pop(d.field, None)
        elif entity == "customer":  # both sides' images forget it: both moved, the field's policy decides
            for side in ("factusol", "prestashop"):
                (base.get(side) or {}).pop(d.field, None)
        elif d.event:
            base["events"] = [e for e in base.get("events", []) if e != d.event]
        elif d.field in STALE.get(entity, {}):
            base.pop(STALE[entity][d.field], None)
    stale = {k: v for k, v in stale.items() if v is not None}
    if stale:
        ctx.store.set_baselines(entity, stale)


REPAIR_PASSES = 3


def repair_until_settled(
    ctx: SyncContext, engine, report: ReconcileReport, entities: list[str]
) -> tuple[dict[str, dict], ReconcileReport]:
    """Repair, compare again, and repair what the first pass made visible: a key linked by the first pass (after a
    lost store) shows its field differences and its stock only once it is linked.  Stops when a pass leaves nothing
    or no fewer differences than the pass before; returns what was repaired (the last outcome per key) and the
    comparison after it."""
    repaired: dict[str, dict] = {}
    after = report
    for _ in range(REPAIR_PASSES):
        for entity, outcomes in repair(ctx, engine, after).items():
            repaired.setdefault(entity, {}).update(outcomes)
        before, after = after, reconcile(ctx, entities)
        if not after.differences or len(after.differences) >= len(before.differences):
            break
    return repaired, after


READERS = {
    "product": _products,
    "customer": _customers,
    "order": _orders,
    "stock": _stock,
    "shipment": _shipments,
    "invoice": _invoices,
}


def repair(ctx: SyncContext, engine, report: ReconcileReport) -> dict[str, dict]:
    """Sync the keys that differ through the engine; returns entity -> key -> outcome detail."""
    out: dict[str, dict] = {}
    for entity in ENTITIES:  # dependency order: products before their stock, orders before their follow-ups
        keys = report.keys(entity)
        if not keys:
            continue
        _forget(ctx, entity, report.differences)
        out[entity] = {}
        for i in range(0, len(keys), CHUNK):
            outcomes = engine.sync_keys(entity, keys[i : i + CHUNK])
            out[entity].update({k: f"{o.status}: {o.detail}".rstrip(": ") for k, o in outcomes.items()})
    return out
