"""Combination writes as PrestaShop makes them: attribute groups and values, a product's combinations found
(id, reference, attribute values) and updated or created, and the combinations of new products in bulk."""

from __future__ import annotations

from replicator.model import Combination, Product
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.fit import fit_row

from .product_rows import complete_row, new_combination_rows, as_price
from .sql import WriteError, insert_copies, insert_many, insert_sql
from .stock import new_stock_row, stock_row, sync_product_row


def attribute_id(shop: ShopConnection, cur, value: str, color: bool, lang_ids: list[int]) -> int:
    """Find (or create) the attribute value in the Color group (is_color_group) or the first other group (Size)."""
    value = fit_row(shop, "attribute_lang", {"name": value}, value)["name"]  # a talla/colour name: checked too
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


def upsert_combinations(shop: ShopConnection, cur, product_id: int, product: Product, lang_ids: list[int]) -> None:
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
        impact = as_price(combo.price_impact)
        if pa:
            sets = {"reference": combo.reference}
            if combo.ean13:
                sets["ean13"] = combo.ean13
            if impact is not None:
                sets["price"] = impact
            # checked against the live columns like every insert: fitted by rule with a log line, or refused
            sets = fit_row(shop, "product_attribute", sets, product.reference)
            shop.execute(
                f"UPDATE {{p}}product_attribute SET {', '.join(f'`{k}` = %s' for k in sets)}"
                " WHERE id_product_attribute = %s",
                (*sets.values(), pa),
                cursor=cur,
            )
            if impact is not None:
                shop.execute(
                    "UPDATE {p}product_attribute_shop SET price = %s WHERE id_product_attribute = %s AND id_shop = %s",
                    (sets["price"], pa, shop.id_shop),
                    cursor=cur,
                )
        else:
            default_on = None if has_default else 1  # NULL, never 0: UNIQUE (id_product, default_on)
            main, per_shop = new_combination_rows(shop, product_id, combo, default_on)
            main = fit_row(shop, "product_attribute", main, product.reference)
            per_shop = fit_row(shop, "product_attribute_shop", per_shop, product.reference)
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
                    lang_row = complete_row(
                        shop, "product_attribute_lang", {"id_product_attribute": pa, "id_lang": lang}
                    )
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


def _ci(text: str | None) -> str:
    """A Python stand-in for the shop's ``reference = %s`` comparison (utf8mb4_general_ci: case and accents
    ignored, trailing spaces ignored)."""
    text = text or ""
    if text.isascii():  # nothing to decompose: the same result, faster
        return text.lower().rstrip(" ")
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().rstrip(" ")


def create_combinations_bulk(
    shop: ShopConnection, cur, products: list[tuple[int, Product]], lang_ids: list[int]
) -> None:
    """The combinations of NEW products (``_create_chunk``), written as ``upsert_combinations`` writes them for a
    product that has none yet, with multi-row INSERTs.

    Within one article ``upsert_combinations`` finds an earlier combination again (``_find_combination``: same
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
            if same is not None:  # upsert_combinations would UPDATE the earlier one
                impact = as_price(combo.price_impact)
                same["main"]["reference"] = combo.reference
                same["ci"] = _ci(combo.reference)
                if combo.ean13:
                    same["main"]["ean13"] = combo.ean13
                if impact is not None:
                    same["main"]["price"] = same["shop"]["price"] = impact
                same["combos"].append(combo)
                continue
            main, per_shop = new_combination_rows(shop, pid, combo, None if planned else 1)
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
