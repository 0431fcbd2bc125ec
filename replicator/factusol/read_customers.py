"""FactuSOL customers: F_CLI rows with their F_OBR delivery addresses as ``Customer``s, and single lookups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model import Address, Customer
from .connection import FactusolConnection
from .reading import clean_text, column_map, country_iso, is_company_nif, keyed_rows, select_list, empty_date
from .schema import CASH_CUSTOMER_CODE

CUSTOMER_COLUMNS = {
    "code": "CODCLI",
    "fiscal_name": "NOFCLI",
    "commercial_name": "NOCCLI",
    "nif": "NIFCLI",
    "street": "DOMCLI",
    "city": "POBCLI",
    "postcode": "CPOCLI",  # CPOCLI is the postcode in F_CLI (unlike CPO in document headers)
    "province": "PROCLI",
    "country_name": "PAICLI",
    "phone": "TELCLI",
    "mobile": "MOVCLI",
    "email": "EMACLI",
    "payment_method": "FPACLI",
    "tariff": "TARCLI",
    "surcharge": "REQCLI",
    "status": "ESTCLI",
    "updated_at": "FUMCLI",
}
ADDRESS_COLUMNS = {
    "customer": "CLIOBR",
    "code": "CODOBR",
    "name": "NOMOBR",
    "street": "DIROBR",
    "city": "POBOBR",
    "postcode": "CPOOBR",
    "province": "PROOBR",
    "phone": "TELOBR",
    "contact": "PCOOBR",
    "email": "EMAOBR",
    "country_name": "PAIOBR",
}
# --------------------------------------------------------------------------------------------------------------------
# Customers


def read_customers(
    conn: FactusolConnection,
    codes: Sequence[int] | None = None,
    columns: Mapping[str, str] | None = None,
    address_columns: Mapping[str, str] | None = None,
) -> list[Customer]:
    """F_CLI rows (all, or ``codes``) as Customers with their F_OBR delivery addresses."""
    c = column_map(CUSTOMER_COLUMNS, columns)
    a = column_map(ADDRESS_COLUMNS, address_columns)
    address_rows = keyed_rows(
        conn,
        f"SELECT {select_list(a.values())} FROM [F_OBR]",
        a["customer"],
        codes,
        f"[{a['customer']}], [{a['code']}]",
    )
    customer_rows = keyed_rows(
        conn, f"SELECT {select_list(c.values())} FROM [F_CLI]", c["code"], codes, f"[{c['code']}]"
    )
    return customers_from_rows(customer_rows, address_rows, columns, address_columns)


def customers_from_rows(
    customer_rows: Iterable[Mapping[str, Any]],
    address_rows: Iterable[Mapping[str, Any]],
    columns: Mapping[str, str] | None = None,
    address_columns: Mapping[str, str] | None = None,
) -> list[Customer]:
    """Customers from F_CLI rows and F_OBR rows already read (column -> value, as reads convert them); the address
    rows are read first, and each customer's addresses keep their order."""
    c = column_map(CUSTOMER_COLUMNS, columns)
    a = column_map(ADDRESS_COLUMNS, address_columns)
    addresses: dict[int, list[Address]] = defaultdict(list)
    for r in address_rows:
        addresses[r[a["customer"]]].append(
            Address(
                alias=f"OBR{r[a['code']]}",
                name=clean_text(r[a["name"]]),
                street=clean_text(r[a["street"]]),
                city=clean_text(r[a["city"]]),
                postcode=clean_text(r[a["postcode"]]),
                province=clean_text(r[a["province"]]),
                phone=clean_text(r[a["phone"]]),
                email=clean_text(r[a["email"]]),
                country_iso=country_iso(r[a["country_name"]]) or "ES",
            )
        )
    out = []
    for r in customer_rows:
        code = r[c["code"]]
        fiscal, nif = clean_text(r[c["fiscal_name"]]), clean_text(r[c["nif"]])
        company = is_company_nif(nif)
        first, _, last = fiscal.partition(" ")
        out.append(
            Customer(
                factusol_code=code,
                is_guest=code == CASH_CUSTOMER_CODE,
                firstname="" if company else first,
                lastname="" if company else last,
                fiscal_name=fiscal,
                commercial_name=clean_text(r[c["commercial_name"]]),
                company=fiscal if company else "",
                nif=nif,
                email=clean_text(r[c["email"]]),
                phone=clean_text(r[c["phone"]]),
                mobile=clean_text(r[c["mobile"]]),
                street=clean_text(r[c["street"]]),
                city=clean_text(r[c["city"]]),
                postcode=clean_text(r[c["postcode"]]),
                province=clean_text(r[c["province"]]),
                country_iso=country_iso(r[c["country_name"]]),
                country_name=clean_text(r[c["country_name"]]),
                payment_method=clean_text(r[c["payment_method"]]),
                tariff=r[c["tariff"]],
                surcharge=bool(r[c["surcharge"]]),
                active=r[c["status"]] != 3,
                updated_at=empty_date(r[c["updated_at"]]),
                addresses=addresses.get(code, []),
            )
        )
    return out


def delivery_addresses(conn: FactusolConnection, customers: set[int]) -> dict[tuple[int, int], Address]:
    if not customers:
        return {}
    a = ADDRESS_COLUMNS
    out = {}
    for r in keyed_rows(
        conn,
        f"SELECT {select_list(a.values())} FROM [F_OBR]",
        a["customer"],
        sorted(customers),
        f"[{a['customer']}], [{a['code']}]",
    ):
        out[(r[a["customer"]], r[a["code"]])] = Address(
            alias=f"OBR{r[a['code']]}",
            name=clean_text(r[a["name"]]),
            street=clean_text(r[a["street"]]),
            city=clean_text(r[a["city"]]),
            postcode=clean_text(r[a["postcode"]]),
            province=clean_text(r[a["province"]]),
            phone=clean_text(r[a["phone"]]),
            email=clean_text(r[a["email"]]),
            country_iso=country_iso(r[a["country_name"]]) or "ES",
        )
    return out


def customer_tax(conn: FactusolConnection, code: int) -> dict[str, Any] | None:
    """IVACLI (VAT regime) and REQCLI (equivalence surcharge) of one customer."""
    return conn.query_one("SELECT [IVACLI], [REQCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [code])


def delivery_address_code(conn: FactusolConnection, customer: int, street: str, postcode: str) -> int | None:
    """CODOBR of the customer's F_OBR address with this street and postcode, if FactuSOL has it."""
    row = conn.query_one(
        "SELECT TOP 1 [CODOBR] FROM [F_OBR] WHERE [CLIOBR] = ? AND [DIROBR] = ? AND [CPOOBR] = ? ORDER BY [CODOBR]",
        [customer, street, postcode],
    )
    return None if row is None else int(row["CODOBR"])
