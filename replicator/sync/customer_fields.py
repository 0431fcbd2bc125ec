"""A customer's fields: its canonical image, and how that maps to F_CLI and F_OBR columns (through the customer and
address rules, widths with their fit policy) and to the shop's customer and address columns; the quarantine of a shop
customer that cannot be mapped."""

from __future__ import annotations

from typing import Any

from replicator.factusol.schema import FactusolWidthError
from replicator.keys import canon
from replicator.model import Address, Customer
from replicator.prestashop import write as ps_writer
from replicator.rules import MappingError, apply_transforms
from replicator.sync.base import Outcome, SyncContext, SyncError

ENTITY = "customer"
ADDRESS_ENTITY = "address"  # F_OBR delivery addresses: "CLIOBR:CODOBR" <-> id_address
GUEST_ENTITY = "customer_guest"  # guests sharing one "cliente de contado" code: linked per shop id
FIELDS = (
    "fiscal_name",
    "commercial_name",
    "nif",
    "email",
    "phone",
    "mobile",
    "street",
    "city",
    "postcode",
    "province",
    "country_iso",
)


def normalise_nif(nif: str) -> str:
    value = "".join(ch for ch in (nif or "").upper() if ch.isalnum())
    return value[2:] if value.startswith("ES") and len(value) > 9 else value


def fields_of(customer: Customer) -> dict[str, Any]:
    """The canonical image of a customer (either side's): what merges and baselines compare."""
    return {name: canon(getattr(customer, name)) for name in FIELDS}


def fs_columns(ctx: SyncContext, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical -> F_CLI columns through the rule (widths with their fit policy, value maps)."""
    try:
        mapped = apply_transforms(ctx.rules.entity(ENTITY), fields, "factusol", key=key)
    except MappingError as exc:
        raise SyncError(ENTITY, key, exc.reason, exc.field) from None
    return {column.split(".", 1)[1]: value for column, value in mapped.items() if column.startswith("F_CLI.")}


def ps_columns(ctx: SyncContext, current: Customer, fields: dict[str, Any]) -> tuple[dict, dict]:
    """Canonical -> (customer columns, main-address columns) of the shop."""
    customer: dict[str, Any] = {}
    address: dict[str, Any] = {}
    if "fiscal_name" in fields:
        if current.company:  # a company customer: the fiscal name is the company
            customer["company"] = fields["fiscal_name"]
        else:
            first, _, last = str(fields["fiscal_name"]).partition(" ")
            customer["firstname"], customer["lastname"] = first, last or first
    if "commercial_name" in fields and current.company:
        first, _, last = str(fields["commercial_name"]).partition(" ")
        customer["firstname"], customer["lastname"] = first, last or first
    if "email" in fields:
        customer["email"] = fields["email"]
    for name, column in (
        ("nif", "dni"),
        ("phone", "phone"),
        ("mobile", "phone_mobile"),
        ("street", "address1"),
        ("city", "city"),
        ("postcode", "postcode"),
    ):
        if name in fields:
            address[column] = fields[name]
    if "country_iso" in fields or "province" in fields:
        address.update(
            ps_writer.country_and_state(
                ctx.shop, fields.get("country_iso", current.country_iso), fields.get("province", current.province)
            )
        )
    return customer, address


def address_columns(ctx: SyncContext, key: str, address_id: int, address: Address) -> dict[str, Any]:
    """A shop delivery address -> F_OBR columns through the address rule; SyncError naming the field if it can't."""
    fields = {
        "name": address.company or address.name,
        "street": address.street,
        "city": address.city,
        "postcode": address.postcode,
        "province": address.province,
        "country_iso": address.country_iso,
        "phone": address.phone or address.mobile,
        "email": address.email,
    }
    try:
        mapped = apply_transforms(
            ctx.rules.entity(ADDRESS_ENTITY), fields, "factusol", key=f"{key} address {address_id}"
        )
    except MappingError as exc:
        raise SyncError(ENTITY, key, f"delivery address {address_id}: {exc.reason}", f"address.{exc.field}") from None
    return {c.split(".", 1)[1]: v for c, v in mapped.items() if c.startswith("F_OBR.")}


def quarantined(ctx: SyncContext, key: str, exc: SyncError | FactusolWidthError) -> Outcome:
    """Park a shop customer that cannot be mapped: the quarantine names entity, key and field."""
    if isinstance(exc, FactusolWidthError):
        ctx.store.quarantine(ENTITY, key, "prestashop", str(exc), exc.column)
    else:
        ctx.store.quarantine(exc.entity, exc.key, "prestashop", exc.reason, exc.field)
    return Outcome("quarantined", str(exc))
