"""Shop products, combinations, stock and tax rates → canonical Product / Combination / Stock.

Combination attributes: values of colour groups (``attribute_group.is_color_group``) become ``color``, all other
groups (Size, Dimension, Paper Type, ...) become ``size``, joined with " " in group position order."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ...model import Combination, Product, Stock
from ..connection import ShopConnection
from .columns import as_decimal, as_text, column_maps, in_marks, select_list


def attribute_names(shop: ShopConnection, pa_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id_product_attribute -> (size, color) from its attribute values in the connection language."""
    pa_ids = list(pa_ids)
    if not pa_ids:
        return {}
    marks, args = in_marks(pa_ids)
    rows = shop.query(
        "SELECT pac.id_product_attribute AS pa, ag.is_color_group AS is_color, ag.position AS gpos,"
        " ag.id_attribute_group AS gid, COALESCE(al.name, '') AS name FROM {p}product_attribute_combination pac"
        " JOIN {p}attribute a ON a.id_attribute = pac.id_attribute"
        " JOIN {p}attribute_group ag ON ag.id_attribute_group = a.id_attribute_group"
        " LEFT JOIN {p}attribute_lang al ON al.id_attribute = a.id_attribute AND al.id_lang = %s"
        f" WHERE pac.id_product_attribute IN ({marks})"
        " ORDER BY pac.id_product_attribute, ag.position, ag.id_attribute_group",
        (shop.id_lang, *args),
    )
    out: dict[int, tuple[list, list]] = {}
    for r in rows:
        size, color = out.setdefault(r["pa"], ([], []))
        (color if r["is_color"] else size).append(r["name"])
    return {pa: (" ".join(s), " ".join(c)) for pa, (s, c) in out.items()}


def tax_rates(shop: ShopConnection) -> dict[int, Decimal]:
    """id_tax_rules_group -> rate for the default country, state 0 (what the BO shows for prices)."""
    country = shop.config_int("PS_COUNTRY_DEFAULT", 0)
    rows = shop.query(
        "SELECT r.id_tax_rules_group AS g, t.rate FROM {p}tax_rule r JOIN {p}tax t ON t.id_tax = r.id_tax"
        " WHERE r.id_country = %s AND r.id_state = 0 ORDER BY r.zipcode_from DESC, r.id_tax_rule",
        (country,),
    )
    rates: dict[int, Decimal] = {}
    for r in rows:
        rates.setdefault(r["g"], Decimal(r["rate"]))
    return rates


def read_products(
    shop: ShopConnection,
    ids: Iterable[int] | None = None,
    references: Iterable[str] | None = None,
    *,
    maps: dict | None = None,
) -> list[Product]:
    """Products of the shop (product_shop row present, not temporary drafts) with combinations."""
    maps = column_maps(maps)
    where, args = "p.state = 1", []
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        marks, a = in_marks(ids)
        where += f" AND p.id_product IN ({marks})"
        args += a
    if references is not None:
        refs = list(references)
        if not refs:
            return []
        marks, a = in_marks(refs)
        where += f" AND p.reference IN ({marks})"
        args += a
    rows = shop.query(
        f"SELECT {select_list(maps['product'])} FROM {{p}}product p"
        " JOIN {p}product_shop ps ON ps.id_product = p.id_product AND ps.id_shop = %s"
        " LEFT JOIN {p}product_lang pl ON pl.id_product = p.id_product AND pl.id_shop = %s AND pl.id_lang = %s"
        " LEFT JOIN {p}category_lang cl ON cl.id_category = ps.id_category_default AND cl.id_shop = %s"
        f" AND cl.id_lang = %s WHERE {where} ORDER BY p.id_product",
        (shop.id_shop, shop.id_shop, shop.id_lang, shop.id_shop, shop.id_lang, *args),
    )
    if not rows:
        return []
    rates = tax_rates(shop)
    marks, pargs = in_marks(r["prestashop_id"] for r in rows)
    combo_rows = shop.query(
        f"SELECT pa.id_product AS _product, {select_list(maps['combination'])} FROM {{p}}product_attribute pa"
        " LEFT JOIN {p}product_attribute_shop pas ON pas.id_product_attribute = pa.id_product_attribute"
        f" AND pas.id_shop = %s WHERE pa.id_product IN ({marks}) ORDER BY pa.id_product_attribute",
        (shop.id_shop, *pargs),
    )
    names = attribute_names(shop, [r["prestashop_id"] for r in combo_rows])
    combos: dict[int, list[Combination]] = {}
    for r in combo_rows:
        size, color = names.get(r["prestashop_id"], ("", ""))
        combos.setdefault(r["_product"], []).append(
            Combination(
                size=size,
                color=color,
                reference=as_text(r["reference"]),
                ean13=as_text(r["ean13"]),
                price_impact=None if r["price_impact"] is None else Decimal(r["price_impact"]),
                prestashop_id=r["prestashop_id"],
            )
        )
    products = []
    for r in rows:
        rate = rates.get(r["id_tax_rules_group"])
        products.append(
            Product(
                reference=as_text(r["reference"]),
                prestashop_id=r["prestashop_id"],
                name=as_text(r["name"]),
                description=as_text(r["description"]),
                description_short=as_text(r["description_short"]),
                ean13=as_text(r["ean13"]),
                weight=as_decimal(r["weight"]),
                active=bool(r["active"]),
                vat_rate=rate,
                family=as_text(r["family"]),
                price_tax_excl=None if r["price_tax_excl"] is None else Decimal(r["price_tax_excl"]),
                cost_price=None if r["cost_price"] is None else Decimal(r["cost_price"]),
                updated_at=r["updated_at"],
                combinations=combos.get(r["prestashop_id"], []),
            )
        )
    return products


def read_stock(shop: ShopConnection, product_ids: Iterable[int] | None = None) -> list[Stock]:
    """One Stock per simple product (pa=0 row) and per combination (the pa=0 row of a product with combinations
    is PrestaShop's derived sum and is skipped), in the shop's stock scope."""
    id_shop, id_group = shop.stock_scope()
    where, args = "", ()
    if product_ids is not None:
        ids = list(product_ids)
        if not ids:
            return []
        marks, args = in_marks(ids)
        where = f" AND sa.id_product IN ({marks})"
    physical = "sa.physical_quantity" if shop.detect_version().has_physical_quantity else "sa.quantity"
    rows = shop.query(
        f"SELECT sa.id_product, sa.id_product_attribute, sa.quantity, {physical} AS physical, p.reference,"
        " (SELECT COUNT(*) FROM {p}product_attribute x WHERE x.id_product = sa.id_product) AS n_combos"
        " FROM {p}stock_available sa JOIN {p}product p ON p.id_product = sa.id_product"
        f" WHERE sa.id_shop = %s AND sa.id_shop_group = %s{where} ORDER BY sa.id_product, sa.id_product_attribute",
        (id_shop, id_group, *args),
    )
    names = attribute_names(shop, [r["id_product_attribute"] for r in rows if r["id_product_attribute"]])
    out = []
    for r in rows:
        if r["id_product_attribute"] == 0 and r["n_combos"]:
            continue
        size, color = names.get(r["id_product_attribute"], ("", ""))
        q = Decimal(int(r["quantity"]))
        out.append(
            Stock(
                reference=as_text(r["reference"]),
                size=size,
                color=color,
                quantity=q,
                physical=Decimal(int(r["physical"] or 0)),
                available=q,
            )
        )
    return out


def stock_targets(shop: ShopConnection, product_ids: Iterable[int]) -> list[dict]:
    """Stock rows the replicator may write for these products: one per simple product (pa=0) and one per
    combination, as ``{id_product, id_product_attribute, combination_reference}`` (products not in the shop give
    none).  The quantities are not read here: ``writer.set_stock_bulk`` reads them under its lock."""
    ids = list(product_ids)
    if not ids:
        return []
    marks, args = in_marks(ids)
    return shop.query(
        "SELECT p.id_product, COALESCE(pa.id_product_attribute, 0) AS id_product_attribute,"
        " COALESCE(pa.reference, '') AS combination_reference"
        " FROM {p}product p LEFT JOIN {p}product_attribute pa ON pa.id_product = p.id_product"
        f" WHERE p.id_product IN ({marks}) ORDER BY p.id_product, id_product_attribute",
        args,
    )


def combination_references(shop: ShopConnection, attribute_ids: Iterable[int]) -> dict[int, str]:
    """id_product_attribute -> product_attribute.reference (the variant code, e.g. 'CAM001-S-BLA')."""
    ids = sorted({int(i) for i in attribute_ids if i})
    if not ids:
        return {}
    marks, args = in_marks(ids)
    rows = shop.query(
        f"SELECT id_product_attribute AS pa, reference FROM {{p}}product_attribute"
        f" WHERE id_product_attribute IN ({marks})",
        args,
    )
    return {r["pa"]: as_text(r["reference"]) for r in rows}
