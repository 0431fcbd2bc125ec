"""Shop customers and their addresses → canonical Customer / Address."""

from __future__ import annotations

from typing import Iterable

from ...model import Address, Customer
from ..connection import ShopConnection
from .columns import as_text, column_maps, in_marks, select_list


def address_of(row: dict) -> Address:
    name = " ".join(p for p in (as_text(row.get("firstname")), as_text(row.get("lastname"))) if p)
    street = " ".join(p for p in (as_text(row.get("street")), as_text(row.get("street2"))) if p)
    return Address(
        alias=as_text(row.get("alias")),
        name=name,
        company=as_text(row.get("company")),
        street=street,
        city=as_text(row.get("city")),
        postcode=as_text(row.get("postcode")),
        province=as_text(row.get("province")),
        country_iso=as_text(row.get("country_iso")) or "ES",
        phone=as_text(row.get("phone")),
        mobile=as_text(row.get("mobile")),
        email=as_text(row.get("email")),
        nif=as_text(row.get("dni")) or as_text(row.get("vat_number")),
    )  # dni is the Spanish NIF field


def addresses_by_id(shop: ShopConnection, ids: Iterable[int], maps) -> dict[int, Address]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    marks, args = in_marks(ids)
    rows = shop.query(
        f"SELECT a.id_address AS _id, {select_list(maps['address'])} FROM {{p}}address a"
        " LEFT JOIN {p}country co ON co.id_country = a.id_country"
        f" LEFT JOIN {{p}}state st ON st.id_state = a.id_state WHERE a.id_address IN ({marks})",
        args,
    )
    return {r["_id"]: address_of(r) for r in rows}


def read_customers(
    shop: ShopConnection,
    ids: Iterable[int] | None = None,
    *,
    include_deleted_addresses: bool = False,
    maps: dict | None = None,
) -> list[Customer]:
    """Customers (registered and guests) of the shop, with their addresses; the first address fills the
    customer-level contact fields and the NIF (dni, else vat_number)."""
    maps = column_maps(maps)
    where, args = "1 = 1", ()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        marks, args = in_marks(ids)
        where = f"c.id_customer IN ({marks})"
    rows = shop.query(
        f"SELECT {select_list(maps['customer'])} FROM {{p}}customer c WHERE {where} ORDER BY c.id_customer", args
    )
    if not rows:
        return []
    marks, cargs = in_marks(r["prestashop_id"] for r in rows)
    deleted = "" if include_deleted_addresses else " AND a.deleted = 0"
    addr_rows = shop.query(
        f"SELECT a.id_customer AS _customer, {select_list(maps['address'])} FROM {{p}}address a"
        " LEFT JOIN {p}country co ON co.id_country = a.id_country"
        " LEFT JOIN {p}state st ON st.id_state = a.id_state"
        f" WHERE a.id_customer IN ({marks}){deleted} ORDER BY a.id_address",
        cargs,
    )
    by_customer: dict[int, list[Address]] = {}
    for r in addr_rows:
        by_customer.setdefault(r["_customer"], []).append(address_of(r))
    customers = []
    for r in rows:
        addresses = by_customer.get(r["prestashop_id"], [])
        first = addresses[0] if addresses else Address()
        for a in addresses:
            a.email = as_text(r["email"])
        full = " ".join(p for p in (as_text(r["firstname"]), as_text(r["lastname"])) if p)
        company = as_text(r["company"]) or first.company
        customers.append(
            Customer(
                prestashop_id=r["prestashop_id"],
                is_guest=bool(r["is_guest"]),
                firstname=as_text(r["firstname"]),
                lastname=as_text(r["lastname"]),
                fiscal_name=company or full,
                commercial_name=full,
                company=company,
                nif=next((a.nif for a in addresses if a.nif), ""),
                email=as_text(r["email"]),
                phone=first.phone,
                mobile=first.mobile,
                street=first.street,
                city=first.city,
                postcode=first.postcode,
                province=first.province,
                country_iso=first.country_iso if addresses else "ES",
                active=bool(r["active"]),
                deleted=bool(r["deleted"]),
                updated_at=r["updated_at"],
                addresses=addresses,
            )
        )
    return customers


def customer_ids(shop: ShopConnection) -> list[int]:
    """Ids of the shop's customers not deleted, in id order."""
    return [
        int(r["id_customer"])
        for r in shop.query("SELECT id_customer FROM {p}customer WHERE deleted = 0 ORDER BY id_customer")
    ]


def address_ids(shop: ShopConnection, customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """id_customer -> the ids of its addresses not deleted, in id order (chunks of 500 customers per query)."""
    ids = list(customer_ids)
    out: dict[int, list[int]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for r in shop.query(
            "SELECT id_customer, id_address FROM {p}address WHERE id_customer IN "
            f"({', '.join(['%s'] * len(chunk))}) AND deleted = 0 "
            "ORDER BY id_customer, id_address",
            chunk,
        ):
            out.setdefault(int(r["id_customer"]), []).append(int(r["id_address"]))
    return out
