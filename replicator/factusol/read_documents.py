"""FactuSOL documents: customer orders (F_PCL/F_LPC) as ``Order``s, and the delivery notes and invoices that
follow an order, found through their lines' origin or their reference."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..model import Address, Order, OrderLine
from .connection import FactusolConnection
from .read_customers import delivery_addresses
from .reading import (
    CENT,
    PRICE_PLACES,
    ZERO,
    clean_text,
    column_map,
    country_iso,
    dec_or_zero,
    empty_date,
    keyed_rows,
    select_list,
)
from .schema import CASH_CUSTOMER_CODE

ORDER_COLUMNS = {
    "series": "TIPPCL",
    "number": "CODPCL",
    "reference": "REFPCL",
    "date": "FECPCL",
    "time": "HORPCL",
    "customer": "CLIPCL",
    "name": "CNOPCL",
    "street": "CDOPCL",
    "city": "CPOPCL",
    "postcode": "CCPPCL",  # in document headers CPO = población and CCP = código postal
    "province": "CPRPCL",
    "nif": "CNIPCL",
    "phone": "TELPCL",
    "email": "CEMPCL",
    "country_name": "CPAPCL",
    "state": "ESTPCL",
    "payment_method": "FOPPCL",
    "carrier": "TRNPCL",
    "delivery_address": "OBRPCL",
    "total": "TOTPCL",
    "updated_at": "FUMPCL",
}
ORDER_LINE_COLUMNS = {
    "series": "TIPLPC",
    "number": "CODLPC",
    "position": "POSLPC",
    "reference": "ARTLPC",
    "name": "DESLPC",
    "quantity": "CANLPC",
    "price": "PRELPC",
    "discount": "DT1LPC",
    "total": "TOTLPC",
    "vat_selector": "IVALPC",
    "vat_included": "IINLPC",
    "size": "CE1LPC",
    "color": "CE2LPC",
}
ORDER_STATES = {0: "pending", 1: "partially_served", 2: "sent", 3: "in_warehouse", 4: "cancelled"}
# --------------------------------------------------------------------------------------------------------------------
# Orders


def read_orders(
    conn: FactusolConnection,
    series: str | None = None,
    since: datetime | None = None,
    references: Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    line_columns: Mapping[str, str] | None = None,
) -> list[Order]:
    """F_PCL headers with their F_LPC lines as Orders (filters: series, FECPCL >= since, REFPCL in references)."""
    c = column_map(ORDER_COLUMNS, columns)
    lc = column_map(ORDER_LINE_COLUMNS, line_columns)
    slot_cols = [f"{p}{n}PCL" for n in range(1, 5) for p in ("NET", "IPOR")] + [f"PIVA{n}PCL" for n in range(1, 4)]
    where, params = [], []
    if series is not None:
        where.append(f"[{c['series']}] = ?")
        params.append(series)
    if since is not None:
        where.append(f"[{c['date']}] >= ?")
        params.append(since)  # dates always travel as parameters
    head = f"SELECT {select_list([*c.values(), *slot_cols])} FROM [F_PCL]" + (
        " WHERE " + " AND ".join(where) if where else ""
    )
    headers = list(keyed_rows(conn, head, c["reference"], references, f"[{c['series']}], [{c['number']}]", params))
    if not headers:
        return []
    wanted = {(h[c["series"]], h[c["number"]]) for h in headers}
    lines: dict[tuple[str, int], list[dict]] = defaultdict(list)
    line_sql = f"SELECT {select_list(lc.values())} FROM [F_LPC]"
    line_params: list[Any] = []
    if series is not None:
        line_sql += f" WHERE [{lc['series']}] = ?"
        line_params.append(series)
    for r in conn.iter_rows(f"{line_sql} ORDER BY [{lc['series']}], [{lc['number']}], [{lc['position']}]", line_params):
        k = (r[lc["series"]], r[lc["number"]])
        if k in wanted:
            lines[k].append(r)
    delivery = delivery_addresses(conn, {h[c["customer"]] for h in headers if h.get(c["delivery_address"])})
    out = []
    for h in headers:
        k = (h[c["series"]], h[c["number"]])
        doc_rates = {i: dec_or_zero(h[f"PIVA{i + 1}PCL"]) for i in range(3)} | {3: ZERO}
        billing = Address(
            alias="factusol-billing",
            name=clean_text(h[c["name"]]),
            street=clean_text(h[c["street"]]),
            city=clean_text(h[c["city"]]),
            postcode=clean_text(h[c["postcode"]]),
            province=clean_text(h[c["province"]]),
            nif=clean_text(h[c["nif"]]),
            phone=clean_text(h[c["phone"]]),
            email=clean_text(h[c["email"]]),
            country_iso=country_iso(h[c["country_name"]]) or "ES",
        )
        obr = h.get(c["delivery_address"]) or 0
        ship = delivery.get((h[c["customer"]], obr)) if obr else None
        shipping = sum((dec_or_zero(h[f"IPOR{n}PCL"]) for n in range(1, 5)), ZERO)
        shipping_incl = sum((dec_or_zero(h[f"IPOR{n}PCL"]) * (1 + doc_rates[n - 1] / 100) for n in range(1, 5)), ZERO)
        date_part, time_part = empty_date(h[c["date"]]), h[c["time"]]
        placed = date_part
        if date_part and time_part:
            placed = date_part.replace(hour=time_part.hour, minute=time_part.minute, second=time_part.second)
        state = int(h[c["state"]] or 0)
        out.append(
            Order(
                reference=clean_text(h[c["reference"]]),
                factusol_series=clean_text(h[c["series"]]),
                factusol_number=h[c["number"]],
                customer_factusol_code=h[c["customer"]],
                is_guest=h[c["customer"]] == CASH_CUSTOMER_CODE,
                placed_at=placed,
                state=ORDER_STATES.get(state, f"unknown_{state}"),
                state_id=state,
                payment_method=clean_text(h[c["payment_method"]]),
                carrier_id=h[c["carrier"]] or None,
                shipping_tax_excl=shipping.quantize(CENT),
                shipping_tax_incl=shipping_incl.quantize(CENT, rounding=ROUND_HALF_UP),
                total_products_tax_excl=sum((dec_or_zero(h[f"NET{n}PCL"]) for n in range(1, 5)), ZERO).quantize(CENT),
                total_tax_incl=dec_or_zero(h[c["total"]]).quantize(CENT),
                billing=billing,
                delivery=ship or billing,
                customer_email=clean_text(h[c["email"]]),
                lines=[_line(r, lc, doc_rates) for r in lines.get(k, [])],
                updated_at=empty_date(h.get(c["updated_at"])),
            )
        )
    return out


def _line(r: dict[str, Any], lc: Mapping[str, str], rates: Mapping[int, Decimal]) -> OrderLine:
    rate = rates.get(int(r[lc["vat_selector"]] or 0), ZERO)
    qty, price, total = dec_or_zero(r[lc["quantity"]]), dec_or_zero(r[lc["price"]]), dec_or_zero(r[lc["total"]])
    if r[lc["vat_included"]]:  # IIN: the line price includes VAT
        price, total = price / (1 + rate / 100), total / (1 + rate / 100)
    price = price.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
    return OrderLine(
        position=r[lc["position"]],
        reference=clean_text(r[lc["reference"]]),
        size=clean_text(r[lc["size"]]),
        color=clean_text(r[lc["color"]]),
        name=clean_text(r[lc["name"]]),
        quantity=qty,
        unit_price_tax_excl=price,
        unit_price_tax_incl=(price * (1 + rate / 100)).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP),
        discount_percent=Decimal(str(r[lc["discount"]] or 0)).quantize(CENT),
        total_tax_excl=total.quantize(CENT, rounding=ROUND_HALF_UP),
        total_tax_incl=(total * (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP),
        vat_rate=rate,
    )


# --------------------------------------------------------------------------------------------------------------------
# Documents that follow a customer order (delivery notes, invoices) — used by the order/shipment/invoice syncs.
# Lines carry their origin (DOC letter, DTP series, DCO number); headers also keep REFxxx, which
# FactuSOL copies from the order when it converts it, so both are followed.


def order_header(conn: FactusolConnection, series: str, number: int) -> dict[str, Any] | None:
    """The F_PCL row (all columns) of one customer order, or None."""
    return conn.query_one("SELECT * FROM [F_PCL] WHERE [TIPPCL] = ? AND [CODPCL] = ?", [series, number])


def order_lines(conn: FactusolConnection, series: str, number: int) -> list[dict[str, Any]]:
    return conn.query("SELECT * FROM [F_LPC] WHERE [TIPLPC] = ? AND [CODLPC] = ? ORDER BY [POSLPC]", [series, number])


def _doc_headers(
    conn: FactusolConnection, table: str, suffix: str, keys: Iterable[tuple[str, int]], reference: str | None
) -> list[dict[str, Any]]:
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for tip, cod in sorted(set(keys)):
        row = conn.query_one(f"SELECT * FROM [{table}] WHERE [TIP{suffix}] = ? AND [COD{suffix}] = ?", [tip, cod])
        if row is not None:
            found[(tip, cod)] = row
    if reference:
        for row in conn.query(f"SELECT * FROM [{table}] WHERE [REF{suffix}] = ?", [reference]):
            found.setdefault((row[f"TIP{suffix}"], row[f"COD{suffix}"]), row)
    # oldest first: the last one is the most recent document (its tracking/state wins)
    return sorted(
        found.values(),
        key=lambda r: (empty_date(r.get(f"FEC{suffix}")) or datetime.min, r[f"TIP{suffix}"], r[f"COD{suffix}"]),
    )


def order_delivery_notes(
    conn: FactusolConnection, series: str, number: int, reference: str | None = None
) -> list[dict[str, Any]]:
    """F_ALB headers made from order (series, number): F_LAL lines with DOC='C' pointing at it, or REFALB =
    reference."""
    keys = [
        (r["TIPLAL"], r["CODLAL"])
        for r in conn.query(
            "SELECT DISTINCT [TIPLAL], [CODLAL] FROM [F_LAL] WHERE [DOCLAL] = ? AND [DTPLAL] = ? AND [DCOLAL] = ?",
            ["C", series, number],
        )
    ]
    return _doc_headers(conn, "F_ALB", "ALB", keys, reference)


def order_invoices(
    conn: FactusolConnection,
    series: str,
    number: int,
    delivery_notes: Sequence[dict[str, Any]] = (),
    reference: str | None = None,
) -> list[dict[str, Any]]:
    """F_FAC headers of an order: lines DOC='C' to the order, DOC='A' to one of its delivery notes, or REFFAC."""
    keys = [
        (r["TIPLFA"], r["CODLFA"])
        for r in conn.query(
            "SELECT DISTINCT [TIPLFA], [CODLFA] FROM [F_LFA] WHERE [DOCLFA] = ? AND [DTPLFA] = ? AND [DCOLFA] = ?",
            ["C", series, number],
        )
    ]
    for note in delivery_notes:
        keys += [
            (r["TIPLFA"], r["CODLFA"])
            for r in conn.query(
                "SELECT DISTINCT [TIPLFA], [CODLFA] FROM [F_LFA] WHERE [DOCLFA] = ? AND [DTPLFA] = ? AND [DCOLFA] = ?",
                ["A", note["TIPALB"], note["CODALB"]],
            )
        ]
    return _doc_headers(conn, "F_FAC", "FAC", keys, reference)


def _origins(conn: FactusolConnection, table: str, suffix: str, series: str, number: int) -> list[tuple[str, str, int]]:
    return [
        (clean_text(r[f"DOC{suffix}"]), clean_text(r[f"DTP{suffix}"]), int(r[f"DCO{suffix}"] or 0))
        for r in conn.query(
            f"SELECT DISTINCT [DOC{suffix}], [DTP{suffix}], [DCO{suffix}] FROM [{table}] WHERE [TIP{suffix}] = ? AND "
            f"[COD{suffix}] = ?",
            [series, number],
        )
    ]


def delivery_note_orders(conn: FactusolConnection, series: str, number: int) -> list[tuple[str, int]]:
    """(TIPPCL, CODPCL) of the customer orders a delivery note was made from (its DOC='C' lines)."""
    return sorted({(s, n) for doc, s, n in _origins(conn, "F_LAL", "LAL", series, number) if doc.upper() == "C" and n})


def invoice_orders(conn: FactusolConnection, series: str, number: int) -> list[tuple[str, int]]:
    """(TIPPCL, CODPCL) of the customer orders an invoice comes from, directly or through its delivery notes."""
    out: set[tuple[str, int]] = set()
    for doc, s, n in _origins(conn, "F_LFA", "LFA", series, number):
        if doc.upper() == "C" and n:
            out.add((s, n))
        elif doc.upper() == "A" and n:
            out.update(delivery_note_orders(conn, s, n))
    return sorted(out)


def document_header(conn: FactusolConnection, table: str, series: str, number: int) -> dict[str, Any] | None:
    """One F_ALB / F_FAC header by key (REFxxx and friends)."""
    if table not in ("F_ALB", "F_FAC", "F_PCL"):
        raise ValueError(f"not a document header table: {table}")
    suffix = table[2:]
    return conn.query_one(f"SELECT * FROM [{table}] WHERE [TIP{suffix}] = ? AND [COD{suffix}] = ?", [series, number])


def document_article_lines(
    conn: FactusolConnection, table: str, series: str, number: int, article: str
) -> list[dict[str, Any]]:
    """The lines of one document (F_LAL, F_LFA, F_LPC) with a given article: TOT<x> and the VAT selector IVA<x>."""
    suffix = table[2:]
    return conn.query(
        f"SELECT [TOT{suffix}], [IVA{suffix}] FROM [{table}] WHERE [TIP{suffix}] = ? AND "
        f"[COD{suffix}] = ? AND [ART{suffix}] = ?",
        [series, number, article],
    )
