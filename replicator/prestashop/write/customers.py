"""Customer writes: the customer row and its main address, country and state looked up from ISO code and name."""

from __future__ import annotations


from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.fit import fit_row

from replicator.prestashop import defaults as ps_defaults

from .sql import Extra, WriteError, live_columns, run_extra


CUSTOMER_COLUMNS = {"firstname", "lastname", "email", "company", "active", "note"}
ADDRESS_COLUMNS = {
    "firstname",
    "lastname",
    "company",
    "address1",
    "address2",
    "postcode",
    "city",
    "phone",
    "phone_mobile",
    "dni",
    "vat_number",
    "id_country",
    "id_state",
    "other",
}


def main_address_id(shop: ShopConnection, customer_id: int, cur=None) -> int | None:
    """The customer's first live address: the one the reader takes the contact fields from."""
    row = shop.query_one(
        "SELECT id_address FROM {p}address WHERE id_customer = %s AND deleted = 0 ORDER BY id_address LIMIT 1",
        (customer_id,),
        cursor=cur,
    )
    return row["id_address"] if row else None


def country_and_state(shop: ShopConnection, country_iso: str | None, province: str | None, cur=None) -> dict:
    """id_country / id_state for an ISO code and a province name (by name, case-insensitive); {} if unknown."""
    out: dict = {}
    if country_iso:
        row = shop.query_one("SELECT id_country FROM {p}country WHERE iso_code = %s", (country_iso,), cursor=cur)
        if row:
            out["id_country"] = row["id_country"]
            if province:
                state = shop.query_one(
                    "SELECT id_state FROM {p}state WHERE id_country = %s AND LOWER(name) = LOWER(%s)",
                    (row["id_country"], province),
                    cursor=cur,
                )
                if state:
                    out["id_state"] = state["id_state"]
    return out


def update_customer(
    shop: ShopConnection, customer_id: int, customer: dict, address: dict, *, extra: Extra = None
) -> int | None:
    """Change customer columns and main-address columns in one transaction; returns the (new) main address id.

    An address already used by an order is never edited in place (PrestaShop keeps orders pointing at a frozen
    address): a copy with the changes is inserted and the old row soft-deleted, as the front office does.
    """
    unknown = (set(customer) - CUSTOMER_COLUMNS) | (set(address) - ADDRESS_COLUMNS)
    if unknown:
        raise WriteError(f"customer {customer_id}: columns not writable here: {', '.join(sorted(unknown))}")
    customer = fit_row(shop, "customer", customer, customer_id)  # checked against the live columns: never cut
    address = fit_row(shop, "address", address, customer_id)
    now = shop.now()
    with shop.transaction() as cur:
        if not shop.query_one(
            "SELECT id_customer FROM {p}customer WHERE id_customer = %s FOR UPDATE", (customer_id,), cursor=cur
        ):
            raise WriteError(f"customer {customer_id} does not exist in the shop")
        if customer:
            sets = dict(customer, date_upd=now)
            shop.execute(
                f"UPDATE {{p}}customer SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_customer = %s",
                (*sets.values(), customer_id),
                cursor=cur,
            )
        address_id = main_address_id(shop, customer_id, cur)
        if address and address_id:
            used = shop.query_one(
                "SELECT id_order FROM {p}orders WHERE id_address_delivery = %s OR id_address_invoice = %s LIMIT 1",
                (address_id, address_id),
                cursor=cur,
            )
            if used:
                old = shop.query_one("SELECT * FROM {p}address WHERE id_address = %s", (address_id,), cursor=cur)
                copy = {k: v for k, v in old.items() if k != "id_address"}
                copy.update(address, date_add=now, date_upd=now)
                # '' where PrestaShop writes '', never a NULL copied on
                copy = ps_defaults.new_row("address", shop.detect_version(), copy, live_columns(shop, "address"))
                address_id = shop.execute(
                    f"INSERT INTO {{p}}address ({', '.join(f'`{k}`' for k in copy)})"
                    f" VALUES ({', '.join(['%s'] * len(copy))})",
                    list(copy.values()),
                    cursor=cur,
                )
                shop.execute(
                    "UPDATE {p}address SET deleted = 1, date_upd = %s WHERE id_address = %s",
                    (now, old["id_address"]),
                    cursor=cur,
                )
            else:
                sets = dict(address, date_upd=now)
                shop.execute(
                    f"UPDATE {{p}}address SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_address = %s",
                    (*sets.values(), address_id),
                    cursor=cur,
                )
        run_extra(shop, cur, extra)
    return address_id
