"""Catalogue writes as PrestaShop makes them: products, their language and shop rows, attributes and combinations,
tax rule groups; one product or thousands per transaction."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal


from replicator.model import Combination, Product
from replicator.prestashop.connection import ShopConnection

from replicator.prestashop import defaults as ps_defaults
from replicator.prestashop import search_index

from .sql import Extra, WriteError, insert_copies, insert_many, insert_sql, live_columns, run_extra
from .stock import new_stock_row, stock_row, sync_product_row

SIX = Decimal("0.000001")


def _price(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(SIX, ROUND_HALF_UP)


_SLUG_WORD = re.compile(r"[a-z0-9]+")


def _slug(text: str) -> str:
    """link_rewrite: the name in ASCII, lower case, its letters and digits in words joined by "-" (128 max)."""
    if text.isascii():
        ascii_text = text.lower()
    else:
        import unicodedata

        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(_SLUG_WORD.findall(ascii_text))[:128] or "product"


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


def attribute_id(shop: ShopConnection, cur, value: str, color: bool, lang_ids: list[int]) -> int:
    """Find (or create) the attribute value in the Color group (is_color_group) or the first other group (Size)."""
    group = shop.query_one(
        "SELECT id_attribute_group FROM {p}attribute_group WHERE is_color_group = %s"
        " ORDER BY position, id_attribute_group LIMIT 1",
        (1 if color else 0,),
        cursor=cur,
    )
    if not group:
        gid = shop.execute(
            "INSERT INTO {p}attribute_group (is_color_group, group_type, position) VALUES (%s, %s, 0)",
            (1 if color else 0, "color" if color else "select"),
            cursor=cur,
        )
        name = "Color" if color else "Size"
        for lang in lang_ids:
            shop.execute(
                "INSERT INTO {p}attribute_group_lang (id_attribute_group, id_lang, name, public_name)"
                " VALUES (%s, %s, %s, %s)",
                (gid, lang, name, name),
                cursor=cur,
            )
        shop.execute(
            "INSERT INTO {p}attribute_group_shop (id_attribute_group, id_shop) VALUES (%s, %s)",
            (gid, shop.id_shop),
            cursor=cur,
        )
    else:
        gid = group["id_attribute_group"]
    row = shop.query_one(
        "SELECT a.id_attribute FROM {p}attribute a JOIN {p}attribute_lang l ON l.id_attribute ="
        " a.id_attribute WHERE a.id_attribute_group = %s AND l.name = %s ORDER BY a.id_attribute"
        " LIMIT 1",
        (gid, value),
        cursor=cur,
    )
    if row:
        return row["id_attribute"]
    position = shop.query_one(
        "SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}attribute WHERE id_attribute_group = %s", (gid,), cursor=cur
    )["n"]
    aid = shop.execute(
        "INSERT INTO {p}attribute (id_attribute_group, color, position) VALUES (%s, '', %s)",
        (gid, position),
        cursor=cur,
    )
    for lang in lang_ids:
        shop.execute(
            "INSERT INTO {p}attribute_lang (id_attribute, id_lang, name) VALUES (%s, %s, %s)",
            (aid, lang, value),
            cursor=cur,
        )
    shop.execute(
        "INSERT INTO {p}attribute_shop (id_attribute, id_shop) VALUES (%s, %s)", (aid, shop.id_shop), cursor=cur
    )
    return aid


def _find_combination(shop: ShopConnection, cur, product_id: int, combo: Combination, attribute_ids: list[int]):
    if combo.prestashop_id:
        row = shop.query_one(
            "SELECT id_product_attribute FROM {p}product_attribute WHERE id_product_attribute = %s AND id_product = %s",
            (combo.prestashop_id, product_id),
            cursor=cur,
        )
        if row:
            return row["id_product_attribute"]
    if combo.reference:  # link before create: the shop's combination with this reference (lowest id)
        row = shop.query_one(
            "SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s"
            " AND reference = %s ORDER BY id_product_attribute LIMIT 1",
            (product_id, combo.reference),
            cursor=cur,
        )
        if row:
            return row["id_product_attribute"]
    for pa in shop.query(
        "SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s", (product_id,), cursor=cur
    ):
        ids = sorted(
            r["id_attribute"]
            for r in shop.query(
                "SELECT id_attribute FROM {p}product_attribute_combination WHERE id_product_attribute = %s",
                (pa["id_product_attribute"],),
                cursor=cur,
            )
        )
        if ids == sorted(attribute_ids):
            return pa["id_product_attribute"]
    return None


def _new_combination_rows(
    shop: ShopConnection, product_id: int, combo: Combination, default_on: int | None
) -> tuple[dict, dict]:
    """The ``product_attribute`` row and the ``product_attribute_shop`` row (without id_product_attribute) of a NEW
    combination: the one place for their column defaults, used by ``upsert_product`` and ``create_products_bulk``.
    ``default_on`` is 1 or None, never 0 (UNIQUE (id_product, default_on))."""
    impact = _price(combo.price_impact)
    main = {
        "id_product": product_id,
        "reference": combo.reference,
        "ean13": combo.ean13 or "",
        "price": impact or 0,
        "wholesale_price": 0,
        "default_on": default_on,
        "minimal_quantity": 1,
        "available_date": "0000-00-00",
    }
    if shop.detect_version().has_product_attribute_quantity:
        main.update(quantity=0, location="")
    per_shop = {
        "id_product": product_id,
        "id_shop": shop.id_shop,
        "price": impact or 0,
        "wholesale_price": 0,
        "default_on": default_on,
        "minimal_quantity": 1,
        "available_date": "0000-00-00",
    }
    return _complete(shop, "product_attribute", main), _complete(shop, "product_attribute_shop", per_shop)


def _complete(shop: ShopConnection, table: str, values: dict) -> dict:
    """``values`` with every other column PrestaShop writes on insert ('' not NULL: replicator/prestashop/defaults.py),
    restricted to the live table's columns."""
    return ps_defaults.new_row(table, shop.detect_version(), values, live_columns(shop, table))


def _upsert_combinations(shop: ShopConnection, cur, product_id: int, product: Product, lang_ids: list[int]) -> None:
    version = shop.detect_version()
    has_default = shop.query_one(
        "SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s AND default_on = 1",
        (product_id,),
        cursor=cur,
    )
    for combo in product.combinations:
        attrs = []
        if combo.size:
            attrs.append(combo.size_attribute or attribute_id(shop, cur, combo.size, False, lang_ids))
        if combo.color:
            attrs.append(combo.color_attribute or attribute_id(shop, cur, combo.color, True, lang_ids))
        pa = _find_combination(shop, cur, product_id, combo, attrs)
        impact = _price(combo.price_impact)
        if pa:
            sets, args = ["reference = %s"], [combo.reference]
            if combo.ean13:
                sets.append("ean13 = %s")
                args.append(combo.ean13)
            if impact is not None:
                sets.append("price = %s")
                args.append(impact)
            shop.execute(
                f"UPDATE {{p}}product_attribute SET {', '.join(sets)} WHERE id_product_attribute = %s",
                (*args, pa),
                cursor=cur,
            )
            if impact is not None:
                shop.execute(
                    "UPDATE {p}product_attribute_shop SET price = %s WHERE id_product_attribute = %s AND id_shop = %s",
                    (impact, pa, shop.id_shop),
                    cursor=cur,
                )
        else:
            default_on = None if has_default else 1  # NULL, never 0: UNIQUE (id_product, default_on)
            main, per_shop = _new_combination_rows(shop, product_id, combo, default_on)
            pa = shop.execute(insert_sql(shop, "product_attribute", main), list(main.values()), cursor=cur)
            per_shop = dict(per_shop, id_product_attribute=pa)
            shop.execute(insert_sql(shop, "product_attribute_shop", per_shop), list(per_shop.values()), cursor=cur)
            for aid in attrs:
                shop.execute(
                    "INSERT INTO {p}product_attribute_combination (id_attribute, id_product_attribute) VALUES (%s, %s)",
                    (aid, pa),
                    cursor=cur,
                )
            if version.has_product_attribute_lang:
                for lang in lang_ids:
                    lang_row = _complete(shop, "product_attribute_lang", {"id_product_attribute": pa, "id_lang": lang})
                    sql = insert_sql(shop, "product_attribute_lang", lang_row).replace("INSERT", "INSERT IGNORE", 1)
                    shop.execute(sql, tuple(lang_row.values()), cursor=cur)
            stock_row(shop, cur, product_id, pa)
            if default_on:
                has_default = {"id_product_attribute": pa}
                for table in ("product", "product_shop"):
                    shop.execute(
                        f"UPDATE {{p}}{table} SET cache_default_attribute = %s WHERE id_product = %s",
                        (pa, product_id),
                        cursor=cur,
                    )
        combo.prestashop_id = pa
    if product.combinations:
        shop.execute(
            "UPDATE {p}product SET product_type = 'combinations' WHERE id_product = %s AND product_type"
            " IN ('standard', '')",
            (product_id,),
            cursor=cur,
        )
        sync_product_row(shop, cur, product_id)


def _new_product_rows(
    shop: ShopConnection, product: Product, category: int, tax_group: int | None, now: datetime
) -> tuple[dict, dict]:
    """The ``product`` row and the ``product_shop`` row (without id_product) of a NEW product: the one place for
    the column defaults, used by ``upsert_product`` and ``create_products_bulk`` alike."""
    version = shop.detect_version()
    price, cost = _price(product.price_tax_excl), _price(product.cost_price)
    common = {
        "id_category_default": category,
        "id_tax_rules_group": tax_group if tax_group is not None else 0,
        "price": price or 0,
        "wholesale_price": cost or 0,
        "active": int(product.active),
        "available_for_order": 1,
        "show_price": 1,
        "indexed": 0,
        "visibility": "both",
        "available_date": "0000-00-00",
        "redirect_type": "default" if version.family == "8" else "404",
        "date_add": now,
        "date_upd": now,
    }
    main = dict(
        common,
        id_shop_default=shop.id_shop,
        reference=product.reference,
        ean13=product.ean13 or "",
        weight=_price(product.weight),
        product_type="combinations" if product.combinations else "standard",
        state=1,
    )
    per_shop = dict(common, id_shop=shop.id_shop)
    if version.family != "8":
        per_shop["redirect_type"] = ""
    return _complete(shop, "product", main), _complete(shop, "product_shop", per_shop)


def _new_lang_row(shop: ShopConnection, product: Product, product_id: int, lang: int) -> dict:
    """A product_lang row: the name (the reference when empty), its slug and the descriptions."""
    name = (product.name or product.reference)[:128]
    return _complete(
        shop,
        "product_lang",
        {
            "id_product": product_id,
            "id_shop": shop.id_shop,
            "id_lang": lang,
            "name": name,
            "link_rewrite": _slug(name),
            "description": product.description,
            "description_short": product.description_short,
        },
    )


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
    price, cost = _price(product.price_tax_excl), _price(product.cost_price)
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
                "weight": _price(product.weight),
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
            main, per_shop = _new_product_rows(shop, product, category, tax_group, now)
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
        for lang in lang_ids:
            row = _new_lang_row(shop, product, pid, lang)
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
        _upsert_combinations(shop, cur, pid, product, lang_ids)
        search_index.after_product_write(shop, [pid], cur, search=index)
        run_extra(shop, cur, extra)
    product.prestashop_id = pid
    return pid


def _same_text(a, b) -> bool:
    return ("" if a is None else str(a).strip()) == ("" if b is None else str(b).strip())


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
) -> BulkCreated:
    """Create many NEW products, with or without combinations: the rows ``upsert_product`` writes for a new
    product (same column defaults, ``_new_product_rows`` / ``_new_combination_rows``), in ONE transaction per chunk
    of ``chunk`` products.

    Per chunk: references already in the shop are skipped (link, don't create); product rows go in with
    multi-row INSERTs and their ids are read back in the same transaction; then product_shop, product_lang (every
    language), category_product (positions after the category's last) and the pa=0 stock_available row (quantity
    0, the shop's stock scope).  Combinations: their attribute values are resolved (or created) once per chunk with
    ``attribute_id``, then product_attribute goes in with multi-row INSERTs (ids read back per product in insertion
    order, references checked), followed by product_attribute_shop, product_attribute_combination,
    product_attribute_lang (8.1+) and one stock_available row per combination; the first combination of a product
    is its default (default_on 1, the others NULL) and becomes cache_default_attribute of product and product_shop.
    ``extra`` runs once per chunk.  A failure rolls the whole chunk back.  Combination ids are set on the
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
        _create_chunk(shop, items[i : i + chunk], lang_ids, category, id_tax_rules_group, extra, out, index)
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
) -> None:
    now = shop.now()
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
                rows.append(_new_product_rows(shop, p, category, tax_group, now))
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
            texts = [_new_lang_row(shop, p, pid, first) for p, pid in zip(new, ids)]
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
            _create_combinations_bulk(shop, cur, [(pid, p) for p, pid in zip(new, ids) if p.combinations], lang_ids)
            search_index.after_product_write(shop, ids, cur, search=index)
        run_extra(shop, cur, extra)
    for p in products:
        pid = existing.get(p.reference) or created[p.reference]
        p.prestashop_id = pid
        out[p.reference] = pid
        if p.reference in existing:
            out.existing.add(p.reference)


def _ci(text: str | None) -> str:
    """A Python stand-in for the shop's ``reference = %s`` comparison (utf8mb4_general_ci: case and accents
    ignored, trailing spaces ignored)."""
    text = text or ""
    if text.isascii():  # nothing to decompose: the same result, faster
        return text.lower().rstrip(" ")
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().rstrip(" ")


def _create_combinations_bulk(
    shop: ShopConnection, cur, products: list[tuple[int, Product]], lang_ids: list[int]
) -> None:
    """The combinations of NEW products (``_create_chunk``), written as ``_upsert_combinations`` writes them for a
    product that has none yet, with multi-row INSERTs.

    Within one article ``_upsert_combinations`` finds an earlier combination again (``_find_combination``: same
    reference, else the same attribute values) and updates it instead of inserting a second one; that is
    replayed here on the planned rows (reference, a non-empty ean13 and a known price impact win)."""
    if not products:
        return
    version = shop.detect_version()
    values: dict[tuple[str, bool], int] = {}  # (value, is colour) -> id_attribute, resolved once per chunk

    def attribute(value: str, color: bool) -> int:
        key = (value, color)
        if key not in values:
            values[key] = attribute_id(shop, cur, value, color, lang_ids)
        return values[key]

    plans: list[tuple[int, list[dict]]] = []  # (id_product, planned combinations in insertion order)
    for pid, product in products:
        planned: list[dict] = []
        for combo in product.combinations:
            attrs = []
            if combo.size:
                attrs.append(combo.size_attribute or attribute(combo.size, False))
            if combo.color:
                attrs.append(combo.color_attribute or attribute(combo.color, True))
            same = None
            if combo.reference:
                ci = _ci(combo.reference)
                same = next((c for c in planned if c["ci"] == ci), None)
            if same is None:
                same = next((c for c in planned if c["sorted"] == sorted(attrs)), None)
            if same is not None:  # _upsert_combinations would UPDATE the earlier one
                impact = _price(combo.price_impact)
                same["main"]["reference"] = combo.reference
                same["ci"] = _ci(combo.reference)
                if combo.ean13:
                    same["main"]["ean13"] = combo.ean13
                if impact is not None:
                    same["main"]["price"] = same["shop"]["price"] = impact
                same["combos"].append(combo)
                continue
            main, per_shop = _new_combination_rows(shop, pid, combo, None if planned else 1)
            planned.append(
                {
                    "main": main,
                    "shop": per_shop,
                    "attrs": attrs,
                    "combos": [combo],
                    "sorted": sorted(attrs),
                    "ci": _ci(combo.reference),
                }
            )
        plans.append((pid, planned))
    floor = shop.query_one("SELECT COALESCE(MAX(id_product_attribute), 0) AS n FROM {p}product_attribute", cursor=cur)[
        "n"
    ]
    insert_many(
        shop, cur, "product_attribute", [c["main"] for _, planned in plans for c in planned], skip_defaults=True
    )
    pids = [pid for pid, _ in plans]
    read: dict[int, list[dict]] = {pid: [] for pid in pids}
    for r in shop.query(
        f"SELECT id_product_attribute, id_product, reference FROM {{p}}product_attribute"
        f" WHERE id_product IN ({', '.join(['%s'] * len(pids))}) AND id_product_attribute > %s"
        " ORDER BY id_product_attribute",
        (*pids, floor),
        cursor=cur,
    ):
        read[r["id_product"]].append(r)
    mains, shop_rows, links, stock_rows = {}, [], [], []
    for pid, planned in plans:
        got = read[pid]
        if len(got) != len(planned) or any(
            (r["reference"] or "") != (c["main"]["reference"] or "")[:64] for r, c in zip(got, planned)
        ):
            raise WriteError(
                f"bulk combination creation: product {pid}: {len(planned)} combinations inserted,"
                f" {len(got)} read back (or another reference)"
            )
        for r, c in zip(got, planned):
            pa = r["id_product_attribute"]
            mains[pa] = c["main"]
            shop_rows.append(dict(c["shop"], id_product_attribute=pa))
            links.extend({"id_attribute": aid, "id_product_attribute": pa} for aid in c["attrs"])
            stock_rows.append(new_stock_row(shop, pid, pa))
            for combo in c["combos"]:
                combo.prestashop_id = pa
    # product_attribute_shop repeats the combination row, the language rows and the stock rows are constants:
    # copied on the server
    insert_copies(shop, cur, "product_attribute_shop", shop_rows, "product_attribute", "id_product_attribute", mains)
    insert_many(shop, cur, "product_attribute_combination", links)
    if version.has_product_attribute_lang:
        for lang in lang_ids:
            insert_copies(
                shop,
                cur,
                "product_attribute_lang",
                [
                    {"id_product_attribute": pa, "id_lang": lang, "available_now": "", "available_later": ""}
                    for pa in mains
                ],
                "product_attribute",
                "id_product_attribute",
                mains,
            )
    insert_copies(shop, cur, "stock_available", stock_rows, "product_attribute", "id_product_attribute", mains)
    # the default combination (the first one) is the product's cache_default_attribute, in every shop
    marks = ", ".join(["%s"] * len(pids))
    for table in ("product", "product_shop"):
        shop.execute(
            f"UPDATE {{p}}{table} t JOIN {{p}}product_attribute pa ON pa.id_product = t.id_product AND"
            f" pa.default_on = 1 SET t.cache_default_attribute = pa.id_product_attribute"
            f" WHERE t.id_product IN ({marks})",
            pids,
            cursor=cur,
        )
    # product_type is already 'combinations' (_new_product_rows) and the pa=0 row's quantity is the sum of the
    # combination rows (all 0): nothing else to do.
