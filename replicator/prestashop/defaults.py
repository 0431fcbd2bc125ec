"""What PrestaShop itself writes in every column of a row it creates, per schema family (8.x, 1.7.8).

PrestaShop's ObjectModel::add() sends every field of the class definition: a text field it has no value for goes
in as '' (never NULL), an id as 0, a flag as its class default.  A NULL where PrestaShop writes '' breaks its own
pages (the 8.2 back-office product page fails with HTTP 500 on a NULL isbn/upc/mpn: REAL-8.2.0-OBSERVED.md).

``new_row(table, family, values)`` gives the row to INSERT: these defaults, overlaid with the writer's values,
where a ``None`` from the writer never replaces a non-NULL default.  ``NULL_WRITTEN`` lists the only columns
PrestaShop itself leaves NULL on insert (``allow_null`` fields).  Columns the live table lacks are dropped by the
caller (``restrict``), so one table of defaults serves 1.7.8.x and every 8.x minor version.
"""

from __future__ import annotations

from typing import Iterable, Mapping

FAMILIES = ("8", "1.7.8")

# product and product_shop share the shop fields (Product::$definition 'shop' => true)
_SHOP_FIELDS = {
    "id_category_default": 0,
    "id_tax_rules_group": 0,
    "on_sale": 0,
    "online_only": 0,
    "ecotax": 0,
    "minimal_quantity": 1,
    "low_stock_threshold": None,
    "low_stock_alert": 0,
    "price": 0,
    "wholesale_price": 0,
    "unity": "",
    "unit_price": 0,
    "unit_price_ratio": 0,
    "additional_shipping_cost": 0,
    "customizable": 0,
    "uploadable_files": 0,
    "text_fields": 0,
    "active": 0,
    "redirect_type": "default",
    "id_type_redirected": 0,
    "available_for_order": 1,
    "available_date": "0000-00-00",
    "show_condition": 0,
    "condition": "new",
    "show_price": 1,
    "indexed": 0,
    "visibility": "both",
    "cache_default_attribute": 0,
    "advanced_stock_management": 0,
    "pack_stock_type": 3,
}

_PRODUCT = dict(
    _SHOP_FIELDS,
    id_supplier=0,
    id_manufacturer=0,
    id_shop_default=1,
    ean13="",
    isbn="",
    upc="",
    mpn="",
    quantity=0,
    reference="",
    supplier_reference="",
    location="",
    width=0,
    height=0,
    depth=0,
    weight=0,
    out_of_stock=2,
    additional_delivery_times=1,
    quantity_discount=0,
    cache_is_pack=0,
    cache_has_attachments=0,
    is_virtual=0,
    state=1,
    product_type="standard",
)

_PRODUCT_LANG = {
    "description": "",
    "description_short": "",
    "link_rewrite": "",
    "meta_description": "",
    "meta_keywords": "",
    "meta_title": "",
    "name": "",
    "available_now": "",
    "available_later": "",
    "delivery_in_stock": "",
    "delivery_out_stock": "",
}

_COMBINATION_SHOP = {
    "wholesale_price": 0,
    "price": 0,
    "ecotax": 0,
    "weight": 0,
    "unit_price_impact": 0,
    "default_on": None,
    "minimal_quantity": 1,
    "low_stock_threshold": None,
    "low_stock_alert": 0,
    "available_date": "0000-00-00",
}

_COMBINATION = dict(
    _COMBINATION_SHOP, reference="", supplier_reference="", location="", ean13="", isbn="", upc="", mpn="", quantity=0
)

_CUSTOMER = {
    "id_shop_group": 1,
    "id_shop": 1,
    "id_gender": 0,
    "id_default_group": 3,
    "id_lang": 1,
    "id_risk": 0,
    "company": "",
    "siret": "",
    "ape": "",
    "birthday": "0000-00-00",
    "newsletter": 0,
    "ip_registration_newsletter": None,
    "newsletter_date_add": None,
    "optin": 0,
    "website": "",
    "outstanding_allow_amount": 0,
    "show_public_prices": 0,
    "max_payment_days": 0,
    "secure_key": "-1",
    "note": "",
    "active": 1,
    "is_guest": 0,
    "deleted": 0,
    "reset_password_token": None,
    "reset_password_validity": None,
}

_ADDRESS = {
    "id_state": 0,
    "id_customer": 0,
    "id_manufacturer": 0,
    "id_supplier": 0,
    "id_warehouse": 0,
    "alias": "",
    "company": "",
    "address2": "",
    "postcode": "",
    "other": "",
    "phone": "",
    "phone_mobile": "",
    "vat_number": "",
    "dni": "",
    "active": 1,
    "deleted": 0,
}

DEFAULTS: dict[str, dict[str, dict]] = {
    "8": {
        "product": _PRODUCT,
        "product_shop": _SHOP_FIELDS,
        "product_lang": _PRODUCT_LANG,
        "product_attribute": _COMBINATION,
        "product_attribute_shop": _COMBINATION_SHOP,
        "product_attribute_lang": {"available_now": "", "available_later": ""},
        "customer": _CUSTOMER,
        "address": _ADDRESS,
    },
}
# 1.7.8: the redirect enum has no 'default' (products '404', product_shop ''), product_type was written ''
# until 8.0 made the type explicit; everything else is the same.
DEFAULTS["1.7.8"] = {
    **DEFAULTS["8"],
    "product": dict(_PRODUCT, redirect_type="404"),
    "product_shop": dict(_SHOP_FIELDS, redirect_type=""),
}

# The only columns PrestaShop leaves NULL on a row it creates (allow_null fields, NULL = "not set").
NULL_WRITTEN: dict[str, frozenset[str]] = {
    "product": frozenset({"low_stock_threshold"}),
    "product_shop": frozenset({"low_stock_threshold"}),
    "product_lang": frozenset(),
    "product_attribute": frozenset({"low_stock_threshold", "default_on"}),
    "product_attribute_shop": frozenset({"low_stock_threshold", "default_on"}),
    "product_attribute_lang": frozenset(),
    "customer": frozenset(
        {
            "ip_registration_newsletter",
            "newsletter_date_add",
            "reset_password_token",
            "reset_password_validity",
            "last_passwd_gen",
        }
    ),
    "address": frozenset(),
}


def family_of(version) -> str:
    """'8' or '1.7.8' from a ShopVersion (``.family``) or a version string."""
    family = getattr(version, "family", version)
    return "1.7.8" if str(family).startswith("1.7") else "8"


def defaults(table: str, version) -> dict:
    """The column -> value PrestaShop writes on insert for ``table`` (a copy)."""
    return dict(DEFAULTS[family_of(version)][table])


def new_row(table: str, version, values: Mapping, columns: Iterable[str] | None = None) -> dict:
    """The row to INSERT: PrestaShop's defaults overlaid with ``values``.  A ``None`` in ``values`` keeps a non-NULL
    default ('' for text, 0 for numbers): the writer never sends NULL where PrestaShop writes a value.  When
    ``columns`` (the live table's) is given, columns the table does not have are dropped."""
    row = defaults(table, version)
    for key, value in values.items():
        if value is None and row.get(key) is not None:
            continue
        row[key] = value
    return restrict(row, columns) if columns is not None else row


def restrict(row: dict, columns: Iterable[str]) -> dict:
    live = set(columns)
    return {k: v for k, v in row.items() if k in live} if live else row


def null_violations(table: str, row: Mapping) -> list[str]:
    """Columns of a row read back from the shop that hold NULL where PrestaShop never writes NULL."""
    allowed = NULL_WRITTEN.get(table, frozenset())
    return sorted(k for k, v in row.items() if v is None and k not in allowed)


__all__ = ["DEFAULTS", "FAMILIES", "NULL_WRITTEN", "defaults", "family_of", "new_row", "null_violations", "restrict"]
