"""Which shops the replicator supports (PrestaShop 1.7.8 and 8.x), checked at start before anything is written.

A PrestaShop 1.6 shop (or 1.7.7, or 9.x, or a schema that does not look like the version it claims) would be
written with rows PrestaShop does not expect there: the run stops with one sentence naming the version found, before
the ledger table is created or any row of either side is touched.  Only reads happen here.
"""

from __future__ import annotations

import re

# What every supported version has and the replicator relies on; absent from 1.6 (stock_available's split of the
# physical and reserved quantities came in 1.7.2, order_detail's product_mpn in 1.7.7, orders.round_type in 1.6.0.11)
REQUIRED_COLUMNS = (
    ("stock_available", "physical_quantity"),
    ("stock_available", "reserved_quantity"),
    ("order_detail", "product_mpn"),
    ("orders", "round_type"),
    ("order_cart_rule", "free_shipping"),
    ("product", "product_type"),
    ("customer", "reset_password_token"),
    ("product_shop", "id_category_default"),
)


class UnsupportedShopError(RuntimeError):
    """The shop is not a PrestaShop version this replicator supports: one sentence for the user."""


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:4])


def supported_version(version: str) -> bool:
    parts = _parts(version)
    return parts[:3] == (1, 7, 8) or (len(parts) >= 1 and parts[0] == 8)


def check_supported(shop) -> str:
    """The shop's version when it is supported; else UnsupportedShopError naming what was found.  Reads only."""
    version = (
        shop.config_value("PS_VERSION_DB", id_shop=None) or shop.config_value("PS_INSTALL_VERSION", id_shop=None) or ""
    )
    version = str(version).strip()
    missing = [f"{table}.{column}" for table, column in REQUIRED_COLUMNS if not shop.has_column(table, column)]
    database = (shop.query_one("SELECT DATABASE() AS name") or {}).get("name")
    where = f"the shop database {database!r}" if database else "the shop"
    if version and not supported_version(version):
        raise UnsupportedShopError(
            f"{where} runs PrestaShop {version}, which this replicator does not support (it supports 1.7.8 and 8.x): "
            "nothing was written; upgrade the shop or point prestashop.url at a supported one"
        )
    if missing:
        said = f"says it is PrestaShop {version}" if version else "has no PS_VERSION_DB"
        raise UnsupportedShopError(
            f"{where} {said} but its tables are not those of PrestaShop 1.7.8 or 8.x (missing "
            f"{', '.join(missing[:4])}{', …' if len(missing) > 4 else ''}): nothing was written; check that "
            "prestashop.url and prestashop.prefix point at the shop's own database"
        )
    return version or "8"


__all__ = ["REQUIRED_COLUMNS", "UnsupportedShopError", "check_supported", "supported_version"]
