"""The rows PrestaShop writes for a NEW product, its shop and language rows and its combinations: the one place for
their column defaults (used by the single and the bulk writers), prices as decimals, the link_rewrite slug.  Values
are not rounded or cut here: the writers fit every row to the live columns (replicator/prestashop/fit.py), which
rounds a price to its six places or cuts a name only by rule and with a log line."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from replicator.model import Combination, Product
from replicator.prestashop import defaults as ps_defaults
from replicator.prestashop.connection import ShopConnection

from replicator.prestashop.fit import fit_row

from .sql import live_columns


def as_price(value) -> Decimal | None:
    """A price or weight as a Decimal, unrounded (a float by its shortest text, not its binary expansion)."""
    if value is None:
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


_SLUG_WORD = re.compile(r"[a-z0-9]+")


def slug(text: str) -> str:
    """link_rewrite: the name in ASCII, lower case, its letters and digits in words joined by "-" (128 max: a name
    that fits its column can still fold to a longer slug, e.g. a ligature; the slug is derived, not a user's value)."""
    if text.isascii():
        ascii_text = text.lower()
    else:
        import unicodedata

        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(_SLUG_WORD.findall(ascii_text))[:128] or "product"


def complete_row(shop: ShopConnection, table: str, values: dict) -> dict:
    """``values`` with every other column PrestaShop writes on insert ('' not NULL: replicator/prestashop/defaults.py),
    restricted to the live table's columns."""
    return ps_defaults.new_row(table, shop.detect_version(), values, live_columns(shop, table))


def new_product_rows(
    shop: ShopConnection, product: Product, category: int, tax_group: int | None, now: datetime
) -> tuple[dict, dict]:
    """The ``product`` row and the ``product_shop`` row (without id_product) of a NEW product: the one place for
    the column defaults, used by ``upsert_product`` and ``create_products_bulk`` alike."""
    version = shop.detect_version()
    price, cost = as_price(product.price_tax_excl), as_price(product.cost_price)
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
        weight=as_price(product.weight),
        product_type="combinations" if product.combinations else "standard",
        state=1,
    )
    per_shop = dict(common, id_shop=shop.id_shop)
    if version.family != "8":
        per_shop["redirect_type"] = ""
    return complete_row(shop, "product", main), complete_row(shop, "product_shop", per_shop)


def new_lang_row(shop: ShopConnection, product: Product, product_id: int, lang: int) -> dict:
    """A product_lang row: the name (the reference when empty), its slug and the descriptions, fitted to the live
    columns (a name longer than product_lang.name is cut with a log line under `fit: truncate`, else refused)."""
    texts = fit_row(
        shop,
        "product_lang",
        {
            "name": product.name or product.reference,
            "description": product.description,
            "description_short": product.description_short,
        },
        product.reference,
    )
    return complete_row(
        shop,
        "product_lang",
        {
            "id_product": product_id,
            "id_shop": shop.id_shop,
            "id_lang": lang,
            "name": texts["name"],
            "link_rewrite": slug(texts["name"]),
            "description": texts["description"],
            "description_short": texts["description_short"],
        },
    )


def new_combination_rows(
    shop: ShopConnection, product_id: int, combo: Combination, default_on: int | None
) -> tuple[dict, dict]:
    """The ``product_attribute`` row and the ``product_attribute_shop`` row (without id_product_attribute) of a NEW
    combination: the one place for their column defaults, used by ``upsert_product`` and ``create_products_bulk``.
    ``default_on`` is 1 or None, never 0 (UNIQUE (id_product, default_on))."""
    impact = as_price(combo.price_impact)
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
    return complete_row(shop, "product_attribute", main), complete_row(shop, "product_attribute_shop", per_shop)
