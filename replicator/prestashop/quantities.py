"""The shop's available quantities per (id_product, id_product_attribute) in its stock scope, read without locks:
what a dry run compares the stock rule's figures with (the writers read them again under their lock)."""

from __future__ import annotations

from typing import Iterable

from .connection import ShopConnection


def stock_quantities(shop: ShopConnection, product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    ids = list(dict.fromkeys(int(p) for p in product_ids))
    id_shop, id_group = shop.stock_scope()
    out: dict[tuple[int, int], int] = {}
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        marks = ", ".join(["%s"] * len(chunk))
        for r in shop.query(
            f"SELECT id_product, id_product_attribute, quantity FROM {{p}}stock_available WHERE"
            f" id_shop = %s AND id_shop_group = %s AND id_product IN ({marks})",
            (id_shop, id_group, *chunk),
        ):
            out[(r["id_product"], r["id_product_attribute"])] = int(r["quantity"])
    return out
