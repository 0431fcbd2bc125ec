"""Read FactuSOL rows into the canonical entities of ``replicator.model`` (customers, products, stock, orders, VAT).

Every column the reader touches is named in a per-entity column map (``CUSTOMER_COLUMNS`` …) so rule files can
override a mapping without code changes: pass ``columns={"email": "EM1CLI"}`` to use another column.
SQL stays within what Access accepts: brackets, ``?`` parameters, no JOIN chains (lookups are separate queries).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..model import Address, Combination, Customer, Order, OrderLine, Product, Stock
from .connection import FactusolConnection, to_decimal
from .schema import CASH_CUSTOMER_CODE, SURCHARGE_RATE_KEYS, VAT_RATE_KEYS

ZERO = Decimal("0")
PRICE_PLACES = Decimal("0.000001")  # PrestaShop keeps 6 decimals on prices
CENT = Decimal("0.01")

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
PRODUCT_COLUMNS = {
    "reference": "CODART",
    "name": "DESART",
    "description": "DEWART",
    "long_description": "DLAART",
    "ean13": "EANART",
    "weight": "PESART",
    "vat_selector": "TIVART",
    "family": "FAMART",
    "cost_price": "PCOART",
    "publish": "SUWART",
    "discontinued": "DSCART",
    "blocked": "NPUART",
    "updated_at": "FUMART",
}
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
COUNTRY_ISO = {
    "ESPAÑA": "ES",
    "ESPANA": "ES",
    "SPAIN": "ES",
    "724": "ES",
    "ES": "ES",
    "": "ES",
    "PORTUGAL": "PT",
    "620": "PT",
    "FRANCIA": "FR",
    "FRANCE": "FR",
    "250": "FR",
    "ANDORRA": "AD",
    "020": "AD",
    "ALEMANIA": "DE",
    "ITALIA": "IT",
    "REINO UNIDO": "GB",
}
STOCK_FORMULAS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "physical": lambda act, dis: act,
    "available": lambda act, dis: dis,
    "physical_nonneg": lambda act, dis: max(act, ZERO),
    "available_nonneg": lambda act, dis: max(dis, ZERO),
    "min": lambda act, dis: min(act, dis),
}
PARAM_CHUNK = 100  # keep IN (...) lists short for the Access driver


def _cols(defaults: Mapping[str, str], overrides: Mapping[str, str] | None) -> dict[str, str]:
    return {**defaults, **(overrides or {})}


def _select(cols: Iterable[str]) -> str:
    return ", ".join(f"[{c}]" for c in dict.fromkeys(cols))


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), PARAM_CHUNK):
        yield values[i : i + PARAM_CHUNK]


RANGE_MIN_KEYS = 500  # from this many keys on, read the key range once instead of IN (...) lists
RANGE_MAX_SPREAD = 3  # ... unless the range holds more than this many rows per wanted key


class FileOrder(list):
    """Keys listed in the FactuSOL file's own sort order (as an ``ORDER BY`` on the file returned them).

    The first and the last of such a list, or of any slice or `subset` of it, bound all of its keys in the file's
    collation, so one ``BETWEEN`` of those two reads every row of those keys: a key the range did not return has
    no row, and `_rows` does not look for it again one IN (...) list at a time.
    """

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return FileOrder(item) if isinstance(index, slice) else item

    def subset(self, keep) -> FileOrder:
        """The keys that are in ``keep``, still in file order."""
        return FileOrder(k for k in self if k in keep)


def in_file_order(keys: Sequence[Any], keep) -> list:
    """The keys that are in ``keep``: a `FileOrder` if ``keys`` is one, else in ``keep``'s own order."""
    return keys.subset(keep) if isinstance(keys, FileOrder) else list(keep)


def article_codes(conn: FactusolConnection) -> FileOrder:
    """Every F_ART code, in the file's own order."""
    return FileOrder(r["CODART"] for r in conn.query("SELECT [CODART] FROM [F_ART] ORDER BY [CODART]"))


def _rows(
    conn: FactusolConnection,
    sql_head: str,
    key_col: str,
    keys: Sequence[Any] | None,
    order: str,
    params: Sequence[Any] = (),
) -> Iterable[dict[str, Any]]:
    """Rows of ``sql_head`` (a SELECT … FROM … [WHERE …]), optionally restricted to ``key_col IN keys``.

    Many keys (the initial sync's chunks of consecutive codes): one ``BETWEEN`` read of their range, filtered
    here, instead of one IN (...) query per hundred keys.  For a `FileOrder` the range is bounded by its first and
    last key.  Otherwise it is bounded by Python's order of the keys, which may differ from the file's collation
    (Access compares text without case), so any key the range read did not return is read again by IN (...): the
    range is then a shortcut, never the only way a row is found.
    """
    joiner = " AND " if " WHERE " in sql_head else " WHERE "
    if keys is None:
        yield from conn.iter_rows(f"{sql_head} ORDER BY {order}", list(params))
        return
    wanted = list(dict.fromkeys(keys))
    rest: Sequence[Any] = wanted
    select, source = sql_head.split(" FROM ", 1)
    if (
        len(wanted) >= RANGE_MIN_KEYS
        and f"[{key_col}]" in select
        and " JOIN " not in source.upper()
        and len({type(k) for k in wanted}) == 1
    ):
        file_order = isinstance(keys, FileOrder)
        low, high = (wanted[0], wanted[-1]) if file_order else (min(wanted), max(wanted))
        where = f"{joiner}[{key_col}] BETWEEN ? AND ?"
        count = conn.scalar(f"SELECT COUNT(*) AS [N] FROM {source}{where}", [*params, low, high])
        if count <= RANGE_MAX_SPREAD * len(wanted):
            keyset, found = set(wanted), set()
            for row in conn.iter_rows(f"{sql_head}{where} ORDER BY {order}", [*params, low, high]):
                if row[key_col] in keyset:
                    found.add(row[key_col])
                    yield row
            rest = [] if file_order else [k for k in wanted if k not in found]
    for chunk in _chunks(rest):
        marks = ", ".join("?" for _ in chunk)
        yield from conn.query(f"{sql_head}{joiner}[{key_col}] IN ({marks}) ORDER BY {order}", [*params, *chunk])


def empty_date(value: datetime | None) -> datetime | None:
    """FactuSOL's empty date is 1900-01-01 (Access zero date 1899-12-30 too): both mean "no date"."""
    if value is None or value.year < 1900 or (value.year == 1900 and value.month == 1 and value.day == 1):
        return None
    return value


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _dec(v: Any) -> Decimal:
    d = to_decimal(v)
    return ZERO if d is None else d


def country_iso(name: str) -> str:
    return COUNTRY_ISO.get(_text(name).upper(), "")


def _is_company_nif(nif: str) -> bool:
    return bool(nif) and nif[0].upper() in "ABCDEFGHJNPQRSUVW"


# --------------------------------------------------------------------------------------------------------------------
# VAT


def _cfg_numbers(conn: FactusolConnection, keys: Sequence[str]) -> dict[str, Decimal]:
    marks = ", ".join("?" for _ in keys)
    rows = conn.query(f"SELECT [CODCFG], [NUMCFG] FROM [F_CFG] WHERE [CODCFG] IN ({marks})", list(keys))
    return {r["CODCFG"]: _dec(r["NUMCFG"]) for r in rows}


def read_vat_rates(conn: FactusolConnection, keys: Sequence[str] = VAT_RATE_KEYS) -> dict[int, Decimal]:
    """VAT percentage per selector: 0 IVA1, 1 IVA2, 2 IVA3 (from F_CFG), 3 exento = 0.  Missing keys are absent."""
    found = _cfg_numbers(conn, keys)
    rates = {i: found[k] for i, k in enumerate(keys) if k in found}
    rates[3] = ZERO
    return rates


def read_surcharge_rates(conn: FactusolConnection, keys: Sequence[str] = SURCHARGE_RATE_KEYS) -> dict[int, Decimal]:
    """Equivalence-surcharge percentages per selector.  The F_CFG key names are unverified (see schema.py)."""
    found = _cfg_numbers(conn, keys)
    rates = {i: found[k] for i, k in enumerate(keys) if k in found}
    rates[3] = ZERO
    return rates


# --------------------------------------------------------------------------------------------------------------------
# Customers


def read_customers(
    conn: FactusolConnection,
    codes: Sequence[int] | None = None,
    columns: Mapping[str, str] | None = None,
    address_columns: Mapping[str, str] | None = None,
) -> list[Customer]:
    """F_CLI rows (all, or ``codes``) as Customers with their F_OBR delivery addresses."""
    c = _cols(CUSTOMER_COLUMNS, columns)
    a = _cols(ADDRESS_COLUMNS, address_columns)
    address_rows = _rows(
        conn, f"SELECT {_select(a.values())} FROM [F_OBR]", a["customer"], codes, f"[{a['customer']}], [{a['code']}]"
    )
    customer_rows = _rows(conn, f"SELECT {_select(c.values())} FROM [F_CLI]", c["code"], codes, f"[{c['code']}]")
    return customers_from_rows(customer_rows, address_rows, columns, address_columns)


def customers_from_rows(
    customer_rows: Iterable[Mapping[str, Any]],
    address_rows: Iterable[Mapping[str, Any]],
    columns: Mapping[str, str] | None = None,
    address_columns: Mapping[str, str] | None = None,
) -> list[Customer]:
    """Customers from F_CLI rows and F_OBR rows already read (column -> value, as reads convert them); the address
    rows are read first, and each customer's addresses keep their order."""
    c = _cols(CUSTOMER_COLUMNS, columns)
    a = _cols(ADDRESS_COLUMNS, address_columns)
    addresses: dict[int, list[Address]] = defaultdict(list)
    for r in address_rows:
        addresses[r[a["customer"]]].append(
            Address(
                alias=f"OBR{r[a['code']]}",
                name=_text(r[a["name"]]),
                street=_text(r[a["street"]]),
                city=_text(r[a["city"]]),
                postcode=_text(r[a["postcode"]]),
                province=_text(r[a["province"]]),
                phone=_text(r[a["phone"]]),
                email=_text(r[a["email"]]),
                country_iso=country_iso(r[a["country_name"]]) or "ES",
            )
        )
    out = []
    for r in customer_rows:
        code = r[c["code"]]
        fiscal, nif = _text(r[c["fiscal_name"]]), _text(r[c["nif"]])
        company = _is_company_nif(nif)
        first, _, last = fiscal.partition(" ")
        out.append(
            Customer(
                factusol_code=code,
                is_guest=code == CASH_CUSTOMER_CODE,
                firstname="" if company else first,
                lastname="" if company else last,
                fiscal_name=fiscal,
                commercial_name=_text(r[c["commercial_name"]]),
                company=fiscal if company else "",
                nif=nif,
                email=_text(r[c["email"]]),
                phone=_text(r[c["phone"]]),
                mobile=_text(r[c["mobile"]]),
                street=_text(r[c["street"]]),
                city=_text(r[c["city"]]),
                postcode=_text(r[c["postcode"]]),
                province=_text(r[c["province"]]),
                country_iso=country_iso(r[c["country_name"]]),
                country_name=_text(r[c["country_name"]]),
                payment_method=_text(r[c["payment_method"]]),
                tariff=r[c["tariff"]],
                surcharge=bool(r[c["surcharge"]]),
                active=r[c["status"]] != 3,
                updated_at=empty_date(r[c["updated_at"]]),
                addresses=addresses.get(code, []),
            )
        )
    return out


# --------------------------------------------------------------------------------------------------------------------
# Products


def tariff_includes_vat(conn: FactusolConnection, tariff: int) -> bool:
    row = conn.query_one("SELECT [IVATAR] FROM [F_TAR] WHERE [CODTAR] = ?", [tariff])
    if row is None:
        raise LookupError(f"tariff {tariff} does not exist in F_TAR")
    return bool(row["IVATAR"])


def _ex_vat(price: Decimal, includes: bool, rate: Decimal) -> Decimal:
    if includes:
        price = price / (1 + rate / 100)
    return price.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def read_products(
    conn: FactusolConnection,
    tariff: int = 1,
    references: Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    combinations: bool = True,
) -> list[Product]:
    """F_ART rows as Products priced from F_LTA of ``tariff``, tax excluded, with F_ARC/F_EAC/F_LTC combinations."""
    c = _cols(PRODUCT_COLUMNS, columns)
    rates = read_vat_rates(conn)
    includes = tariff_includes_vat(conn, tariff)
    prices = {
        r["ARTLTA"]: to_decimal(r["PRELTA"])
        for r in _rows(  # NULL stays None: "no price", not 0
            conn,
            "SELECT [ARTLTA], [PRELTA] FROM [F_LTA] WHERE [TARLTA] = ?",
            "ARTLTA",
            references,
            "[ARTLTA]",
            [tariff],
        )
    }
    sections = {r["CODFAM"]: _text(r["SECFAM"]) for r in conn.query("SELECT [CODFAM], [SECFAM] FROM [F_FAM]")}
    combos: dict[str, list[tuple[str, str]]] = defaultdict(list)
    eans: dict[tuple[str, str, str], str] = {}
    combo_prices: dict[tuple[str, str, str], Decimal] = {}
    if combinations:
        for r in _rows(
            conn,
            "SELECT [ARTARC], [CE1ARC], [CE2ARC] FROM [F_ARC]",
            "ARTARC",
            references,
            "[ARTARC], [CE1ARC], [CE2ARC]",
        ):
            combos[r["ARTARC"]].append((_text(r["CE1ARC"]), _text(r["CE2ARC"])))
        for r in _rows(
            conn,
            "SELECT [ARTEAC], [EANEAC], [CE1EAC], [CE2EAC] FROM [F_EAC]",
            "ARTEAC",
            references,
            "[ARTEAC], [CE1EAC], [CE2EAC], [EANEAC]",
        ):
            eans.setdefault((r["ARTEAC"], _text(r["CE1EAC"]), _text(r["CE2EAC"])), _text(r["EANEAC"]))
        for r in _rows(
            conn,
            "SELECT [ARTLTC], [CE1LTC], [CE2LTC], [PRELTC] FROM [F_LTC] WHERE [TARLTC] = ?",
            "ARTLTC",
            references,
            "[ARTLTC], [CE1LTC], [CE2LTC]",
            [tariff],
        ):
            combo_prices[(r["ARTLTC"], _text(r["CE1LTC"]), _text(r["CE2LTC"]))] = _dec(r["PRELTC"])
    out = []
    for r in _rows(
        conn, f"SELECT {_select(c.values())} FROM [F_ART]", c["reference"], references, f"[{c['reference']}]"
    ):
        ref = r[c["reference"]]
        selector = int(r[c["vat_selector"]] or 0)
        rate = rates.get(selector, ZERO)
        price = prices.get(ref)
        base = None if price is None else _ex_vat(price, includes, rate)
        family = _text(r[c["family"]])
        combs = []
        for size, color in combos.get(ref, []):
            vprice = combo_prices.get((ref, size, color))
            impact = None if vprice is None or base is None else _ex_vat(vprice, includes, rate) - base
            combs.append(
                Combination(
                    size=size,
                    color=color,
                    reference="-".join(p for p in (ref, size, color) if p),
                    ean13=eans.get((ref, size, color), ""),
                    price_impact=impact,
                )
            )
        out.append(
            Product(
                reference=ref,
                name=_text(r[c["name"]]),
                description=_text(r[c["description"]]) or _text(r[c["long_description"]]),
                ean13=_text(r[c["ean13"]]),
                weight=_dec(r[c["weight"]]),
                active=not (r[c["discontinued"]] or r[c["blocked"]]),
                publish=bool(r[c["publish"]]),
                vat_selector=selector,
                vat_rate=rate,
                family=family,
                section=sections.get(family, ""),
                price_tax_excl=base,
                cost_price=to_decimal(r[c["cost_price"]]),
                updated_at=empty_date(r[c["updated_at"]]),
                combinations=combs,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------------------------
# Stock


def read_stock(
    conn: FactusolConnection,
    warehouses: Sequence[str] | None = None,
    formula: str | Callable = "available",
    references: Sequence[str] | None = None,
) -> list[Stock]:
    """Stock per article (F_STO) or per size/colour (F_STC for articles with variants), summed over ``warehouses``.

    ``formula`` reduces (physical ACT, available DIS) to the published quantity: a STOCK_FORMULAS name or a callable.
    """
    fn = STOCK_FORMULAS[formula] if isinstance(formula, str) else formula
    wh_sql, wh_params = "", []
    if warehouses:
        wh_sql = f" WHERE [{{col}}] IN ({', '.join('?' for _ in warehouses)})"
        wh_params = list(warehouses)
    variant_articles = {
        r["ARTARC"] for r in _rows(conn, "SELECT DISTINCT [ARTARC] FROM [F_ARC]", "ARTARC", references, "[ARTARC]")
    }
    out = []
    head = f"SELECT [ARTSTO], SUM([ACTSTO]) AS [SUMACT], SUM([DISSTO]) AS [SUMDIS] FROM [F_STO]{wh_sql.format(col='ALMSTO')}"
    for r in _grouped(conn, head, "ARTSTO", references, "GROUP BY [ARTSTO]", "[ARTSTO]", wh_params):
        if r["ARTSTO"] in variant_articles:
            continue  # variant articles keep their stock in F_STC
        act, dis = _dec(r["SUMACT"]), _dec(r["SUMDIS"])
        out.append(Stock(reference=r["ARTSTO"], quantity=fn(act, dis), physical=act, available=dis))
    head = (
        f"SELECT [ARTSTC], [CE1STC], [CE2STC], SUM([ACTSTC]) AS [SUMACT], SUM([DISSTC]) AS [SUMDIS] "
        f"FROM [F_STC]{wh_sql.format(col='ALMSTC')}"
    )
    for r in _grouped(
        conn,
        head,
        "ARTSTC",
        references,
        "GROUP BY [ARTSTC], [CE1STC], [CE2STC]",
        "[ARTSTC], [CE1STC], [CE2STC]",
        wh_params,
    ):
        act, dis = _dec(r["SUMACT"]), _dec(r["SUMDIS"])
        out.append(
            Stock(
                reference=r["ARTSTC"],
                size=_text(r["CE1STC"]),
                color=_text(r["CE2STC"]),
                quantity=fn(act, dis),
                physical=act,
                available=dis,
            )
        )
    return out


def _grouped(conn, head: str, key_col: str, keys, group: str, order: str, params) -> Iterable[dict[str, Any]]:
    joiner = " AND " if " WHERE " in head else " WHERE "
    if keys is None:
        yield from conn.iter_rows(f"{head} {group} ORDER BY {order}", params)
        return
    for chunk in _chunks(list(keys)):
        marks = ", ".join("?" for _ in chunk)
        yield from conn.query(f"{head}{joiner}[{key_col}] IN ({marks}) {group} ORDER BY {order}", [*params, *chunk])


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
    c = _cols(ORDER_COLUMNS, columns)
    lc = _cols(ORDER_LINE_COLUMNS, line_columns)
    slot_cols = [f"{p}{n}PCL" for n in range(1, 5) for p in ("NET", "IPOR")] + [f"PIVA{n}PCL" for n in range(1, 4)]
    where, params = [], []
    if series is not None:
        where.append(f"[{c['series']}] = ?")
        params.append(series)
    if since is not None:
        where.append(f"[{c['date']}] >= ?")
        params.append(since)  # dates always travel as parameters
    head = f"SELECT {_select([*c.values(), *slot_cols])} FROM [F_PCL]" + (
        " WHERE " + " AND ".join(where) if where else ""
    )
    headers = list(_rows(conn, head, c["reference"], references, f"[{c['series']}], [{c['number']}]", params))
    if not headers:
        return []
    wanted = {(h[c["series"]], h[c["number"]]) for h in headers}
    lines: dict[tuple[str, int], list[dict]] = defaultdict(list)
    line_sql = f"SELECT {_select(lc.values())} FROM [F_LPC]"
    line_params: list[Any] = []
    if series is not None:
        line_sql += f" WHERE [{lc['series']}] = ?"
        line_params.append(series)
    for r in conn.iter_rows(f"{line_sql} ORDER BY [{lc['series']}], [{lc['number']}], [{lc['position']}]", line_params):
        k = (r[lc["series"]], r[lc["number"]])
        if k in wanted:
            lines[k].append(r)
    delivery = _delivery_addresses(conn, {h[c["customer"]] for h in headers if h.get(c["delivery_address"])})
    out = []
    for h in headers:
        k = (h[c["series"]], h[c["number"]])
        doc_rates = {i: _dec(h[f"PIVA{i + 1}PCL"]) for i in range(3)} | {3: ZERO}
        billing = Address(
            alias="factusol-billing",
            name=_text(h[c["name"]]),
            street=_text(h[c["street"]]),
            city=_text(h[c["city"]]),
            postcode=_text(h[c["postcode"]]),
            province=_text(h[c["province"]]),
            nif=_text(h[c["nif"]]),
            phone=_text(h[c["phone"]]),
            email=_text(h[c["email"]]),
            country_iso=country_iso(h[c["country_name"]]) or "ES",
        )
        obr = h.get(c["delivery_address"]) or 0
        ship = delivery.get((h[c["customer"]], obr)) if obr else None
        shipping = sum((_dec(h[f"IPOR{n}PCL"]) for n in range(1, 5)), ZERO)
        shipping_incl = sum((_dec(h[f"IPOR{n}PCL"]) * (1 + doc_rates[n - 1] / 100) for n in range(1, 5)), ZERO)
        date_part, time_part = empty_date(h[c["date"]]), h[c["time"]]
        placed = date_part
        if date_part and time_part:
            placed = date_part.replace(hour=time_part.hour, minute=time_part.minute, second=time_part.second)
        state = int(h[c["state"]] or 0)
        out.append(
            Order(
                reference=_text(h[c["reference"]]),
                factusol_series=_text(h[c["series"]]),
                factusol_number=h[c["number"]],
                customer_factusol_code=h[c["customer"]],
                is_guest=h[c["customer"]] == CASH_CUSTOMER_CODE,
                placed_at=placed,
                state=ORDER_STATES.get(state, f"unknown_{state}"),
                state_id=state,
                payment_method=_text(h[c["payment_method"]]),
                carrier_id=h[c["carrier"]] or None,
                shipping_tax_excl=shipping.quantize(CENT),
                shipping_tax_incl=shipping_incl.quantize(CENT, rounding=ROUND_HALF_UP),
                total_products_tax_excl=sum((_dec(h[f"NET{n}PCL"]) for n in range(1, 5)), ZERO).quantize(CENT),
                total_tax_incl=_dec(h[c["total"]]).quantize(CENT),
                billing=billing,
                delivery=ship or billing,
                customer_email=_text(h[c["email"]]),
                lines=[_line(r, lc, doc_rates) for r in lines.get(k, [])],
                updated_at=empty_date(h.get(c["updated_at"])),
            )
        )
    return out


def _line(r: dict[str, Any], lc: Mapping[str, str], rates: Mapping[int, Decimal]) -> OrderLine:
    rate = rates.get(int(r[lc["vat_selector"]] or 0), ZERO)
    qty, price, total = _dec(r[lc["quantity"]]), _dec(r[lc["price"]]), _dec(r[lc["total"]])
    if r[lc["vat_included"]]:  # IIN: the line price includes VAT
        price, total = price / (1 + rate / 100), total / (1 + rate / 100)
    price = price.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
    return OrderLine(
        position=r[lc["position"]],
        reference=_text(r[lc["reference"]]),
        size=_text(r[lc["size"]]),
        color=_text(r[lc["color"]]),
        name=_text(r[lc["name"]]),
        quantity=qty,
        unit_price_tax_excl=price,
        unit_price_tax_incl=(price * (1 + rate / 100)).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP),
        discount_percent=Decimal(str(r[lc["discount"]] or 0)).quantize(CENT),
        total_tax_excl=total.quantize(CENT, rounding=ROUND_HALF_UP),
        total_tax_incl=(total * (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP),
        vat_rate=rate,
    )


def _delivery_addresses(conn: FactusolConnection, customers: set[int]) -> dict[tuple[int, int], Address]:
    if not customers:
        return {}
    a = ADDRESS_COLUMNS
    out = {}
    for r in _rows(
        conn,
        f"SELECT {_select(a.values())} FROM [F_OBR]",
        a["customer"],
        sorted(customers),
        f"[{a['customer']}], [{a['code']}]",
    ):
        out[(r[a["customer"]], r[a["code"]])] = Address(
            alias=f"OBR{r[a['code']]}",
            name=_text(r[a["name"]]),
            street=_text(r[a["street"]]),
            city=_text(r[a["city"]]),
            postcode=_text(r[a["postcode"]]),
            province=_text(r[a["province"]]),
            phone=_text(r[a["phone"]]),
            email=_text(r[a["email"]]),
            country_iso=country_iso(r[a["country_name"]]) or "ES",
        )
    return out


# --------------------------------------------------------------------------------------------------------------------
# Stock detail for the stock rule (per warehouse, plus units pending on customer orders)

StockKey = tuple  # (article, size CE1, colour CE2); size/colour "" for articles without variants


def read_stock_detail(
    conn: FactusolConnection, references: Sequence[str] | None = None
) -> dict[StockKey, dict[str, dict[str, Decimal]]]:
    """{(article, size, colour): {warehouse: {"physical": ACT, "available": DIS}}} from F_STO and F_STC.

    Articles with variants keep their stock in F_STC only, so their F_STO rows are ignored.
    """
    variant_articles = {
        r["ARTARC"] for r in _rows(conn, "SELECT DISTINCT [ARTARC] FROM [F_ARC]", "ARTARC", references, "[ARTARC]")
    }
    out: dict[StockKey, dict[str, dict[str, Decimal]]] = defaultdict(dict)
    for r in _rows(
        conn, "SELECT [ARTSTO], [ALMSTO], [ACTSTO], [DISSTO] FROM [F_STO]", "ARTSTO", references, "[ARTSTO], [ALMSTO]"
    ):
        if r["ARTSTO"] not in variant_articles:
            out[(r["ARTSTO"], "", "")][_text(r["ALMSTO"])] = {
                "physical": _dec(r["ACTSTO"]),
                "available": _dec(r["DISSTO"]),
            }
    for r in _rows(
        conn,
        "SELECT [ARTSTC], [ALMSTC], [CE1STC], [CE2STC], [ACTSTC], [DISSTC] FROM [F_STC]",
        "ARTSTC",
        references,
        "[ARTSTC], [CE1STC], [CE2STC], [ALMSTC]",
    ):
        out[(r["ARTSTC"], _text(r["CE1STC"]), _text(r["CE2STC"]))][_text(r["ALMSTC"])] = {
            "physical": _dec(r["ACTSTC"]),
            "available": _dec(r["DISSTC"]),
        }
    return dict(out)


def read_pending_order_units(
    conn: FactusolConnection, references: Sequence[str] | None = None, closed_states: Sequence[int] = (2, 4)
) -> dict[StockKey, dict[str, Decimal]]:
    """Units still pending (PENLPC) on open customer orders, per article/variant and warehouse (ALMPCL).

    Orders whose ESTPCL is in ``closed_states`` (2 enviado, 4 anulado) reserve nothing.
    """
    marks = ", ".join("?" for _ in closed_states)
    head = (
        "SELECT [F_LPC].[ARTLPC], [F_LPC].[CE1LPC], [F_LPC].[CE2LPC], [F_PCL].[ALMPCL], [F_LPC].[PENLPC]"
        " FROM [F_LPC] INNER JOIN [F_PCL] ON ([F_PCL].[TIPPCL] = [F_LPC].[TIPLPC]"
        " AND [F_PCL].[CODPCL] = [F_LPC].[CODLPC])"
        f" WHERE [F_PCL].[ESTPCL] NOT IN ({marks}) AND [F_LPC].[PENLPC] > 0"
    )
    out: dict[StockKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in _rows(conn, head, "ARTLPC", references, "[F_LPC].[ARTLPC]", list(closed_states)):
        key = (_text(r["ARTLPC"]), _text(r["CE1LPC"]), _text(r["CE2LPC"]))
        out[key][_text(r["ALMPCL"])] += _dec(r["PENLPC"])
    return {k: dict(v) for k, v in out.items()}


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
    """F_ALB headers made from order (series, number): F_LAL lines with DOC='C' pointing at it, or REFALB = reference."""
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
        (_text(r[f"DOC{suffix}"]), _text(r[f"DTP{suffix}"]), int(r[f"DCO{suffix}"] or 0))
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


def article_variants(conn: FactusolConnection, codes: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """code -> its (CE1, CE2) variants for the F_ART codes that exist ([] for an article without variants)."""
    out: dict[str, list[tuple[str, str]]] = {}
    codes = in_file_order(codes, {c for c in codes if c})
    for r in _rows(conn, "SELECT [CODART] FROM [F_ART]", "CODART", codes, "[CODART]"):
        out[r["CODART"]] = []
    if out:
        for r in _rows(
            conn,
            "SELECT [ARTARC], [CE1ARC], [CE2ARC] FROM [F_ARC]",
            "ARTARC",
            in_file_order(codes, out),
            "[ARTARC], [CE1ARC], [CE2ARC]",
        ):
            out[r["ARTARC"]].append((_text(r["CE1ARC"]), _text(r["CE2ARC"])))
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
