"""FactuSOL articles: F_ART with prices and combinations as ``Product``s; stock per warehouse and variant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..model import Combination, Product, Stock
from .connection import FactusolConnection, to_decimal
from .reading import (
    PRICE_PLACES,
    ZERO,
    clean_text,
    column_map,
    dec_or_zero,
    empty_date,
    in_file_order,
    keyed_rows,
    param_chunks,
    read_vat_rates,
    select_list,
)

# The number columns read here from the tables without a FUM* date: stock (`read_stock`, `read_stock_detail`) and
# tariff prices (`read_products`).  A FactuSOL scan's quick sums watch these (`pages.quick_aggregate_list`).
NUMBERS_READ = {"F_STO": ("ACTSTO", "DISSTO"), "F_STC": ("ACTSTC", "DISSTC"), "F_LTA": ("PRELTA",)}

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
STOCK_FORMULAS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "physical": lambda act, dis: act,
    "available": lambda act, dis: dis,
    "physical_nonneg": lambda act, dis: max(act, ZERO),
    "available_nonneg": lambda act, dis: max(dis, ZERO),
    "min": lambda act, dis: min(act, dis),
}
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
    c = column_map(PRODUCT_COLUMNS, columns)
    rates = read_vat_rates(conn)
    includes = tariff_includes_vat(conn, tariff)
    prices = {
        r["ARTLTA"]: to_decimal(r["PRELTA"])
        for r in keyed_rows(  # NULL stays None: "no price", not 0
            conn,
            "SELECT [ARTLTA], [PRELTA] FROM [F_LTA] WHERE [TARLTA] = ?",
            "ARTLTA",
            references,
            "[ARTLTA]",
            [tariff],
        )
    }
    sections = {r["CODFAM"]: clean_text(r["SECFAM"]) for r in conn.query("SELECT [CODFAM], [SECFAM] FROM [F_FAM]")}
    combos: dict[str, list[tuple[str, str]]] = defaultdict(list)
    eans: dict[tuple[str, str, str], str] = {}
    combo_prices: dict[tuple[str, str, str], Decimal] = {}
    if combinations:
        for r in keyed_rows(
            conn,
            "SELECT [ARTARC], [CE1ARC], [CE2ARC] FROM [F_ARC]",
            "ARTARC",
            references,
            "[ARTARC], [CE1ARC], [CE2ARC]",
        ):
            combos[r["ARTARC"]].append((clean_text(r["CE1ARC"]), clean_text(r["CE2ARC"])))
        for r in keyed_rows(
            conn,
            "SELECT [ARTEAC], [EANEAC], [CE1EAC], [CE2EAC] FROM [F_EAC]",
            "ARTEAC",
            references,
            "[ARTEAC], [CE1EAC], [CE2EAC], [EANEAC]",
        ):
            eans.setdefault((r["ARTEAC"], clean_text(r["CE1EAC"]), clean_text(r["CE2EAC"])), clean_text(r["EANEAC"]))
        for r in keyed_rows(
            conn,
            "SELECT [ARTLTC], [CE1LTC], [CE2LTC], [PRELTC] FROM [F_LTC] WHERE [TARLTC] = ?",
            "ARTLTC",
            references,
            "[ARTLTC], [CE1LTC], [CE2LTC]",
            [tariff],
        ):
            combo_prices[(r["ARTLTC"], clean_text(r["CE1LTC"]), clean_text(r["CE2LTC"]))] = dec_or_zero(r["PRELTC"])
    out = []
    for r in keyed_rows(
        conn, f"SELECT {select_list(c.values())} FROM [F_ART]", c["reference"], references, f"[{c['reference']}]"
    ):
        ref = r[c["reference"]]
        selector = int(r[c["vat_selector"]] or 0)
        rate = rates.get(selector, ZERO)
        price = prices.get(ref)
        base = None if price is None else _ex_vat(price, includes, rate)
        family = clean_text(r[c["family"]])
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
                name=clean_text(r[c["name"]]),
                description=clean_text(r[c["description"]]) or clean_text(r[c["long_description"]]),
                ean13=clean_text(r[c["ean13"]]),
                weight=dec_or_zero(r[c["weight"]]),
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
        r["ARTARC"] for r in keyed_rows(conn, "SELECT DISTINCT [ARTARC] FROM [F_ARC]", "ARTARC", references, "[ARTARC]")
    }
    out = []
    head = (
        "SELECT [ARTSTO], SUM([ACTSTO]) AS [SUMACT], SUM([DISSTO]) AS [SUMDIS] "
        f"FROM [F_STO]{wh_sql.format(col='ALMSTO')}"
    )
    for r in _grouped(conn, head, "ARTSTO", references, "GROUP BY [ARTSTO]", "[ARTSTO]", wh_params):
        if r["ARTSTO"] in variant_articles:
            continue  # variant articles keep their stock in F_STC
        act, dis = dec_or_zero(r["SUMACT"]), dec_or_zero(r["SUMDIS"])
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
        act, dis = dec_or_zero(r["SUMACT"]), dec_or_zero(r["SUMDIS"])
        out.append(
            Stock(
                reference=r["ARTSTC"],
                size=clean_text(r["CE1STC"]),
                color=clean_text(r["CE2STC"]),
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
    for chunk in param_chunks(list(keys)):
        marks = ", ".join("?" for _ in chunk)
        yield from conn.query(f"{head}{joiner}[{key_col}] IN ({marks}) {group} ORDER BY {order}", [*params, *chunk])


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
        r["ARTARC"] for r in keyed_rows(conn, "SELECT DISTINCT [ARTARC] FROM [F_ARC]", "ARTARC", references, "[ARTARC]")
    }
    out: dict[StockKey, dict[str, dict[str, Decimal]]] = defaultdict(dict)
    for r in keyed_rows(
        conn, "SELECT [ARTSTO], [ALMSTO], [ACTSTO], [DISSTO] FROM [F_STO]", "ARTSTO", references, "[ARTSTO], [ALMSTO]"
    ):
        if r["ARTSTO"] not in variant_articles:
            out[(r["ARTSTO"], "", "")][clean_text(r["ALMSTO"])] = {
                "physical": dec_or_zero(r["ACTSTO"]),
                "available": dec_or_zero(r["DISSTO"]),
            }
    for r in keyed_rows(
        conn,
        "SELECT [ARTSTC], [ALMSTC], [CE1STC], [CE2STC], [ACTSTC], [DISSTC] FROM [F_STC]",
        "ARTSTC",
        references,
        "[ARTSTC], [CE1STC], [CE2STC], [ALMSTC]",
    ):
        out[(r["ARTSTC"], clean_text(r["CE1STC"]), clean_text(r["CE2STC"]))][clean_text(r["ALMSTC"])] = {
            "physical": dec_or_zero(r["ACTSTC"]),
            "available": dec_or_zero(r["DISSTC"]),
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
    for r in keyed_rows(conn, head, "ARTLPC", references, "[F_LPC].[ARTLPC]", list(closed_states)):
        key = (clean_text(r["ARTLPC"]), clean_text(r["CE1LPC"]), clean_text(r["CE2LPC"]))
        out[key][clean_text(r["ALMPCL"])] += dec_or_zero(r["PENLPC"])
    return {k: dict(v) for k, v in out.items()}


def article_variants(conn: FactusolConnection, codes: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """code -> its (CE1, CE2) variants for the F_ART codes that exist ([] for an article without variants)."""
    out: dict[str, list[tuple[str, str]]] = {}
    codes = in_file_order(codes, {c for c in codes if c})
    for r in keyed_rows(conn, "SELECT [CODART] FROM [F_ART]", "CODART", codes, "[CODART]"):
        out[r["CODART"]] = []
    if out:
        for r in keyed_rows(
            conn,
            "SELECT [ARTARC], [CE1ARC], [CE2ARC] FROM [F_ARC]",
            "ARTARC",
            in_file_order(codes, out),
            "[ARTARC], [CE1ARC], [CE2ARC]",
        ):
            out[r["ARTARC"]].append((clean_text(r["CE1ARC"]), clean_text(r["CE2ARC"])))
    return out
