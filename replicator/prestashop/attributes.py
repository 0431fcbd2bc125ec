"""The shop's attribute groups and values (Size, Color ...) as combinations use them: read, and values added the way
PrestaShop's AttributeCore::add writes them (`attribute` at the next position of its group, one `attribute_lang`
per language, `attribute_shop`).  A missing group is added as AttributeGroup::add does (`attribute_group` last by
position, `attribute_group_lang` per language with name and public name, `attribute_group_shop`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .categories import fold
from .connection import ShopConnection


@dataclass
class Group:
    id: int
    is_color: bool
    position: int
    names: set[str] = field(default_factory=set)  # folded names and public names, every language


@dataclass
class Value:
    id: int
    group: int
    names: set[str] = field(default_factory=set)  # folded, every language


def read_groups(shop: ShopConnection, cur=None) -> dict[int, Group]:
    groups = {
        r["id_attribute_group"]: Group(r["id_attribute_group"], bool(r["is_color_group"]), r["position"] or 0)
        for r in shop.query("SELECT id_attribute_group, is_color_group, position FROM {p}attribute_group", cursor=cur)
    }
    for r in shop.query("SELECT id_attribute_group, name, public_name FROM {p}attribute_group_lang", cursor=cur):
        if r["id_attribute_group"] in groups:
            groups[r["id_attribute_group"]].names |= {fold(r["name"]), fold(r["public_name"])} - {""}
    return groups


def read_values(shop: ShopConnection, group_ids: Iterable[int], cur=None) -> dict[int, Value]:
    """Every value of these groups with its names in every language."""
    ids = list(dict.fromkeys(group_ids))
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    values: dict[int, Value] = {}
    for r in shop.query(
        f"SELECT a.id_attribute, a.id_attribute_group, l.name FROM {{p}}attribute a LEFT JOIN"
        f" {{p}}attribute_lang l ON l.id_attribute = a.id_attribute WHERE a.id_attribute_group IN"
        f" ({marks}) ORDER BY a.id_attribute",
        ids,
        cursor=cur,
    ):
        value = values.setdefault(r["id_attribute"], Value(r["id_attribute"], r["id_attribute_group"]))
        if r["name"]:
            value.names.add(fold(r["name"]))
    return values


def combination_values(shop: ShopConnection, pa_ids: Iterable[int]) -> dict[int, list[Value]]:
    """id_product_attribute -> its attribute values (group and names in every language)."""
    ids = [int(p) for p in dict.fromkeys(pa_ids) if p]
    out: dict[int, list[Value]] = {}
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        marks = ", ".join(["%s"] * len(chunk))
        rows = shop.query(
            f"SELECT pac.id_product_attribute AS pa, a.id_attribute, a.id_attribute_group, l.name FROM"
            f" {{p}}product_attribute_combination pac JOIN {{p}}attribute a ON a.id_attribute ="
            f" pac.id_attribute LEFT JOIN {{p}}attribute_lang l ON l.id_attribute = a.id_attribute"
            f" WHERE pac.id_product_attribute IN ({marks}) ORDER BY pac.id_product_attribute,"
            f" a.id_attribute",
            chunk,
        )
        seen: dict[tuple[int, int], Value] = {}
        for r in rows:
            key = (r["pa"], r["id_attribute"])
            if key not in seen:
                seen[key] = Value(r["id_attribute"], r["id_attribute_group"])
                out.setdefault(r["pa"], []).append(seen[key])
            if r["name"]:
                seen[key].names.add(fold(r["name"]))
    return out


def add_group(shop: ShopConnection, cur, name: str, is_color: bool) -> int:
    position = shop.query_one("SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}attribute_group", cursor=cur)["n"]
    gid = shop.execute(
        "INSERT INTO {p}attribute_group (is_color_group, group_type, position) VALUES (%s, %s, %s)",
        (1 if is_color else 0, "color" if is_color else "select", position),
        cursor=cur,
    )
    for lang in shop.lang_ids:
        shop.execute(
            "INSERT INTO {p}attribute_group_lang (id_attribute_group, id_lang, name, public_name)"
            " VALUES (%s, %s, %s, %s)",
            (gid, lang, name[:128], name[:64]),
            cursor=cur,
        )
    shop.execute(
        "INSERT INTO {p}attribute_group_shop (id_attribute_group, id_shop) VALUES (%s, %s)",
        (gid, shop.id_shop),
        cursor=cur,
    )
    return gid


def add_value(shop: ShopConnection, cur, group: int, name: str) -> int:
    position = shop.query_one(
        "SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}attribute WHERE id_attribute_group = %s",
        (group,),
        cursor=cur,
    )["n"]
    aid = shop.execute(
        "INSERT INTO {p}attribute (id_attribute_group, color, position) VALUES (%s, '', %s)",
        (group, position),
        cursor=cur,
    )
    for lang in shop.lang_ids:
        shop.execute(
            "INSERT INTO {p}attribute_lang (id_attribute, id_lang, name) VALUES (%s, %s, %s)",
            (aid, lang, name[:128]),
            cursor=cur,
        )
    shop.execute(
        "INSERT INTO {p}attribute_shop (id_attribute, id_shop) VALUES (%s, %s)", (aid, shop.id_shop), cursor=cur
    )
    return aid
