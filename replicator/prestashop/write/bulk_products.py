"""New products in bulk: thousands per transaction, the same rows ``upsert_product`` writes for one."""

from __future__ import annotations

from decimal import Decimal

from replicator.model import Product
from replicator.prestashop import search_index
from replicator.prestashop.connection import ShopConnection

from .catalogue import tax_rules_group_for_rate
from .combinations import create_combinations_bulk
from .product_rows import new_lang_row, new_product_rows
from .readback import ReadBack
from .sql import Extra, WriteError, insert_copies, insert_many, run_extra
from .stock import new_stock_row

PRODUCT_CHUNK = 2000  # new products per create_products_bulk transaction


class BulkCreated(dict):
    """reference -> id_product from ``create_products_bulk``; ``existing`` holds the references that were already
    in the shop when the chunk ran (returned with their lowest id, NOT created and NOT written)."""

    def __init__(self):
        super().__init__()
        self.existing: set[str] = set()


def create_products_bulk(
    shop: ShopConnection,
    products: list[Product],
    lang_ids: list[int] | None = None,
    *,
    extra: Extra = None,
    id_category: int | None = None,
    id_tax_rules_group: int | None = None,
    chunk: int = PRODUCT_CHUNK,
    index: bool = True,
    read_back: ReadBack | None = None,
) -> BulkCreated:
    """Create many NEW products, with or without combinations: the rows ``upsert_product`` writes for a new
    product (same column defaults, ``new_product_rows`` / ``new_combination_rows``), in ONE transaction per chunk
    of ``chunk`` products.

    Per chunk: references already in the shop are skipped (link, don't create); product rows go in with
    multi-row INSERTs and their ids are read back in the same transaction; then product_shop, product_lang (every
    language), category_product (positions after the category's last) and the pa=0 stock_available row (quantity
    0, the shop's stock scope).  Combinations: their attribute values are resolved (or created) once per chunk with
    ``attribute_id``, then product_attribute goes in with multi-row INSERTs (ids read back per product in insertion
    order, references checked), followed by product_attribute_shop, product_attribute_combination,
    product_attribute_lang (8.1+) and one stock_available row per combination; the first combination of a product
    is its default (default_on 1, the others NULL) and becomes cache_default_attribute of product and product_shop.
    ``extra`` runs once per chunk; ``read_back`` (poll mode) reads the new products' watched rows back in it, and
    hands their hashes on after its commit.  A failure rolls the whole chunk back.  Combination ids are set on the
    ``Combination`` objects (``prestashop_id``).

    Only what differs per row crosses the wire: columns holding their live-schema DEFAULT in every row are left
    to the server (``skip_defaults``), the texts go once (default language) and the rows that repeat a row already
    written (product_shop, the other languages, product_attribute_shop, product_attribute_lang, stock_available)
    are copied on the server with ``INSERT ... SELECT`` (``insert_copies``).  The rows are the same.
    """
    todo: dict[str, Product] = {}
    for product in products:
        if not product.reference:
            raise WriteError("a product needs a reference (FactuSOL article code)")
        todo.setdefault(product.reference, product)
    lang_ids = list(lang_ids or shop.lang_ids)
    category = id_category or shop.config_int("PS_HOME_CATEGORY", 2)
    shop.stock_scope()
    shop.detect_version()
    out = BulkCreated()
    items = list(todo.values())
    for i in range(0, len(items), chunk):
        _create_chunk(shop, items[i : i + chunk], lang_ids, category, id_tax_rules_group, extra, out, index, read_back)
    return out


def _create_chunk(
    shop: ShopConnection,
    products: list[Product],
    lang_ids: list[int],
    category: int,
    id_tax_rules_group: int | None,
    extra: Extra,
    out: BulkCreated,
    index: bool = True,
    read_back: ReadBack | None = None,
) -> None:
    now = shop.now()
    if read_back is not None:
        read_back.begin()
    refs = [p.reference for p in products]
    marks = ", ".join(["%s"] * len(refs))
    with shop.transaction() as cur:
        existing: dict[str, int] = {}
        for r in shop.query(
            f"SELECT id_product, reference FROM {{p}}product WHERE reference IN ({marks}) ORDER BY id_product",
            refs,
            cursor=cur,
        ):
            existing.setdefault(r["reference"], r["id_product"])
        new = [p for p in products if p.reference not in existing]
        created: dict[str, int] = {}
        if new:
            tax_groups: dict = {}
            rows = []
            for p in new:
                tax_group = id_tax_rules_group
                if tax_group is None and p.vat_rate is not None:
                    rate = Decimal(p.vat_rate)
                    if rate not in tax_groups:
                        tax_groups[rate] = tax_rules_group_for_rate(shop, rate, cur)
                    tax_group = tax_groups[rate]
                rows.append(new_product_rows(shop, p, category, tax_group, now))
            floor = shop.query_one("SELECT COALESCE(MAX(id_product), 0) AS n FROM {p}product", cursor=cur)["n"]
            insert_many(shop, cur, "product", [main for main, _ in rows], skip_defaults=True)
            wanted = {p.reference for p in new}
            for r in shop.query(
                "SELECT id_product, reference FROM {p}product WHERE id_product > %s ORDER BY id_product",
                (floor,),
                cursor=cur,
            ):
                if r["reference"] in wanted:  # above the floor: this chunk's rows (and any committed meanwhile)
                    created.setdefault(r["reference"], r["id_product"])
            if len(created) != len(new):
                raise WriteError(f"bulk product creation: {len(new)} inserted but {len(created)} read back")
            ids = [created[p.reference] for p in new]
            mains = {pid: main for pid, (main, _) in zip(ids, rows)}
            # product_shop repeats the product row's shop fields: copied from it on the server
            insert_copies(
                shop,
                cur,
                "product_shop",
                [dict(per_shop, id_product=pid) for pid, (_, per_shop) in zip(ids, rows)],
                "product",
                "id_product",
                mains,
            )
            # every language gets the same texts: sent once, copied to the other languages on the server
            first, *others = lang_ids
            texts = [new_lang_row(shop, p, pid, first) for p, pid in zip(new, ids)]
            insert_many(shop, cur, "product_lang", texts, skip_defaults=True)
            by_id = {row["id_product"]: row for row in texts}
            for lang in others:
                insert_copies(
                    shop,
                    cur,
                    "product_lang",
                    [dict(row, id_lang=lang) for row in texts],
                    "product_lang",
                    "id_product",
                    by_id,
                    " AND s.id_shop = %s AND s.id_lang = %s",
                    (shop.id_shop, first),
                )
            position = shop.query_one(
                "SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}category_product WHERE id_category = %s FOR UPDATE",
                (category,),
                cursor=cur,
            )["n"]
            insert_many(
                shop,
                cur,
                "category_product",
                [{"id_category": category, "id_product": pid, "position": position + n} for n, pid in enumerate(ids)],
            )
            insert_copies(
                shop,
                cur,
                "stock_available",
                [new_stock_row(shop, pid, 0) for pid in ids],
                "product",
                "id_product",
                mains,
            )
            create_combinations_bulk(shop, cur, [(pid, p) for p, pid in zip(new, ids) if p.combinations], lang_ids)
            search_index.after_product_write(shop, ids, cur, search=index)
            if read_back is not None:
                read_back.products(shop.conn, ids)
        run_extra(shop, cur, extra)
    if read_back is not None:
        read_back.committed()
    for p in products:
        pid = existing.get(p.reference) or created[p.reference]
        p.prestashop_id = pid
        out[p.reference] = pid
        if p.reference in existing:
            out.existing.add(p.reference)
