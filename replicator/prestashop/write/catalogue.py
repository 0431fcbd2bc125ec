"""Product writes as PrestaShop makes them: one product created or updated with its shop, language and category
rows and its combinations; tax rule groups by rate; a product found by reference."""

from __future__ import annotations

from decimal import Decimal

from replicator.model import Product
from replicator.prestashop import search_index
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.fit import fit_row

from .combinations import upsert_combinations
from .product_rows import new_lang_row, new_product_rows, as_price
from .sql import Extra, WriteError, insert_sql, run_extra
from .stock import stock_row


def tax_rules_group_for_rate(shop: ShopConnection, rate: Decimal, cur=None) -> int | None:
    """The active tax rules group whose rule for the default country (all states) has this rate."""
    country = shop.config_int("PS_COUNTRY_DEFAULT", 0)
    row = shop.query_one(
        "SELECT g.id_tax_rules_group FROM {p}tax_rules_group g JOIN {p}tax_rule r"
        " ON r.id_tax_rules_group = g.id_tax_rules_group JOIN {p}tax t ON t.id_tax = r.id_tax"
        " WHERE g.active = 1 AND g.deleted = 0 AND r.id_country = %s AND r.id_state = 0 AND t.rate = %s"
        " ORDER BY g.id_tax_rules_group LIMIT 1",
        (country, Decimal(rate)),
        cursor=cur,
    )
    return row["id_tax_rules_group"] if row else None


def find_product(shop: ShopConnection, reference: str, cur=None) -> int | None:
    """product.reference is not unique in PrestaShop: the lowest id wins, like the BO search."""
    row = shop.query_one(
        "SELECT id_product FROM {p}product WHERE reference = %s ORDER BY id_product LIMIT 1", (reference,), cursor=cur
    )
    return row["id_product"] if row else None


def upsert_product(
    shop: ShopConnection,
    product: Product,
    lang_ids: list[int] | None = None,
    *,
    id_category: int | None = None,
    id_tax_rules_group: int | None = None,
    extra: Extra = None,
    lang_previous: dict[str, str] | None = None,
    index: bool = True,
) -> int:
    """Create or update a product found by reference (or ``product.prestashop_id``); returns id_product.

    Writes product + product_shop (price tax excluded, 6 decimals), product_lang for every language,
    category_product and the stock_available rows (new rows start at 0; stock is ``set_stock``'s job).

    ``lang_previous`` keeps the shop's translations on an UPDATE: the values this writer's caller wrote last time
    (e.g. ``{"name": ..., "description": ...}``).  The shop's default language always gets the product's values;
    another language gets a field only while its current value still equals the previous one (nobody translated
    it), and fields not named there are left alone in other languages.  Without it every language is written.
    A new product (or a language without a row yet) gets every field in every language.

    ``index``: as PrestaShop's product save, the product's search rows (indexed = 1), its faceted-search price rows
    and the filter cache are brought up to date in the same transaction (replicator/prestashop/search_index.py);
    False leaves the search index to PrestaShop (indexed = 0).
    """
    if not product.reference:
        raise WriteError("a product needs a reference (FactuSOL article code)")
    lang_ids = list(lang_ids or shop.lang_ids)
    now = shop.now()
    price, cost = as_price(product.price_tax_excl), as_price(product.cost_price)
    with shop.transaction() as cur:
        pid = product.prestashop_id or find_product(shop, product.reference, cur)
        if pid and not shop.query_one(
            "SELECT 1 AS x FROM {p}product WHERE id_product = %s FOR UPDATE", (pid,), cursor=cur
        ):
            pid = find_product(shop, product.reference, cur)
        tax_group = id_tax_rules_group
        if tax_group is None and product.vat_rate is not None:
            tax_group = tax_rules_group_for_rate(shop, product.vat_rate, cur)
        existed = bool(pid)
        if pid:
            sets = {
                "reference": product.reference,
                "active": int(product.active),
                "date_upd": now,
                "weight": as_price(product.weight),
            }
            if product.ean13:
                sets["ean13"] = product.ean13
            shop_sets = {"active": int(product.active), "date_upd": now}
            if price is not None:
                sets["price"] = shop_sets["price"] = price
            if cost is not None:
                sets["wholesale_price"] = shop_sets["wholesale_price"] = cost
            if tax_group is not None:
                sets["id_tax_rules_group"] = shop_sets["id_tax_rules_group"] = tax_group
            # checked against the live columns like every insert: fitted by rule with a log line, or refused
            sets = fit_row(shop, "product", sets, product.reference)
            shop_sets = fit_row(shop, "product_shop", shop_sets, product.reference)
            shop.execute(
                f"UPDATE {{p}}product SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_product = %s",
                (*sets.values(), pid),
                cursor=cur,
            )
            shop.execute(
                f"UPDATE {{p}}product_shop SET {', '.join(f'`{k}` = %s' for k in shop_sets)}"
                " WHERE id_product = %s AND id_shop = %s",
                (*shop_sets.values(), pid, shop.id_shop),
                cursor=cur,
            )
            category = (
                id_category
                or shop.query_one(
                    "SELECT id_category_default FROM {p}product WHERE id_product = %s", (pid,), cursor=cur
                )["id_category_default"]
            )
        else:
            category = id_category or shop.config_int("PS_HOME_CATEGORY", 2)
            main, per_shop = new_product_rows(shop, product, category, tax_group, now)
            main = fit_row(shop, "product", main, product.reference)
            per_shop = fit_row(shop, "product_shop", per_shop, product.reference)
            pid = shop.execute(insert_sql(shop, "product", main), list(main.values()), cursor=cur)
            per_shop = dict(per_shop, id_product=pid)
            shop.execute(insert_sql(shop, "product_shop", per_shop), list(per_shop.values()), cursor=cur)
            stock_row(shop, cur, pid, 0)
        current_langs = {}
        if existed and lang_previous is not None:
            current_langs = {
                r["id_lang"]: r
                for r in shop.query(
                    "SELECT id_lang, name, description, description_short FROM {p}product_lang WHERE id_product = %s"
                    " AND id_shop = %s FOR UPDATE",
                    (pid, shop.id_shop),
                    cursor=cur,
                )
            }
        texts = new_lang_row(shop, product, pid, lang_ids[0])  # fitted once, the same in every language
        for lang in lang_ids:
            row = dict(texts, id_lang=lang)
            current = current_langs.get(lang)
            if current is not None and lang != shop.id_lang:
                # a translation made in the shop stays: only fields still holding the previous value move
                sets = {
                    f: row[f]
                    for f in ("name", "description", "description_short")
                    if f in lang_previous and _same_text(current[f], lang_previous[f]) and current[f] != row[f]
                }
                if sets:
                    shop.execute(
                        f"UPDATE {{p}}product_lang SET {', '.join(f'`{k}` = %s' for k in sets)}"
                        " WHERE id_product = %s AND id_shop = %s AND id_lang = %s",
                        (*sets.values(), pid, shop.id_shop, lang),
                        cursor=cur,
                    )
                continue
            shop.execute(
                insert_sql(
                    shop,
                    "product_lang",
                    row,
                    " ON DUPLICATE KEY UPDATE name = VALUES(name),"
                    " description = VALUES(description), description_short = VALUES(description_short),"
                    " link_rewrite = IF(link_rewrite = '', VALUES(link_rewrite), link_rewrite)",
                ),
                tuple(row.values()),
                cursor=cur,
            )
        if not shop.query_one(
            "SELECT 1 AS x FROM {p}category_product WHERE id_category = %s AND id_product = %s",
            (category, pid),
            cursor=cur,
        ):
            position = shop.query_one(
                "SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}category_product WHERE id_category = %s",
                (category,),
                cursor=cur,
            )["n"]
            shop.execute(
                "INSERT INTO {p}category_product (id_category, id_product, position) VALUES (%s, %s, %s)",
                (category, pid, position),
                cursor=cur,
            )
        upsert_combinations(shop, cur, pid, product, lang_ids)
        search_index.after_product_write(shop, [pid], cur, search=index)
        run_extra(shop, cur, extra)
    product.prestashop_id = pid
    return pid


def _same_text(a, b) -> bool:
    return ("" if a is None else str(a).strip()) == ("" if b is None else str(b).strip())
