"""The ids and names the shop holds, for checking what rule files name against the data: tax rules groups,
carriers (id_reference of a carrier not deleted, and id_carrier), categories, payment modules (`module`, when the
table is there) and order states (PS_OS_* configuration keys)."""

from __future__ import annotations

from .connection import ShopConnection


def existing_codes(shop: ShopConnection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {
        "tax_rules_group": {
            str(r["id_tax_rules_group"])
            for r in shop.query("SELECT id_tax_rules_group FROM {p}tax_rules_group WHERE deleted = 0")
        },
        "carrier_reference": {
            str(r["id_reference"]) for r in shop.query("SELECT id_reference FROM {p}carrier WHERE deleted = 0")
        },
        "carrier": {str(r["id_carrier"]) for r in shop.query("SELECT id_carrier FROM {p}carrier")},
        "category": {str(r["id_category"]) for r in shop.query("SELECT id_category FROM {p}category")},
    }
    if shop.has_table("module"):
        out["payment_module"] = {str(r["name"]).casefold() for r in shop.query("SELECT name FROM {p}module")}
    return out


def has_state(shop: ShopConnection, key: str) -> bool:
    """Does the shop have the order state this PS_OS_* key (or canonical name) names?"""
    return shop.state_id(key) is not None
