"""Units ordered from suppliers and not yet received: FactuSOL supplier orders (pedidos a proveedor), F_PPR + F_LPP.

Read by analogy with customer orders (F_PCL/F_LPC, FACTUSOL.md §3.7): the header gives the warehouse and state,
the lines the article, talla/color and the units still pending (to receive).  Only the header F_PPR is attested
(the 2017 DDL: TIPPPR, CODPPR, ESTPPR, ALMPPR); no public source lists F_LPP.  Every name this module relies on
that no source confirms is in the block below, to be checked on a real FactuSOL install.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from .connection import FactusolConnection

# ---- UNVERIFIED (no public source; named by analogy with F_PCL/F_LPC) ------------------------------------------
LINES = "F_LPP"  # supplier-order lines
LINE_SERIES, LINE_NUMBER = "TIPLPP", "CODLPP"  # -> F_PPR.TIPPPR / CODPPR (those two are attested)
LINE_ARTICLE, LINE_SIZE, LINE_COLOUR = "ARTLPP", "CE1LPP", "CE2LPP"
LINE_PENDING = "PENLPP"  # units still to receive, as PENLPC is the units still to serve
CLOSED_STATES = (2, 4)  # ESTPPR values that hold nothing on order, as ESTPCL 2 (served) and 4 (cancelled)
# ------------------------------------------------------------------------------------------------------------------
HEADER, HEADER_SERIES, HEADER_NUMBER, HEADER_STATE, HEADER_WAREHOUSE = "F_PPR", "TIPPPR", "CODPPR", "ESTPPR", "ALMPPR"
PARAM_CHUNK = 100
ZERO = Decimal(0)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def has_supplier_orders(conn: FactusolConnection) -> bool:
    names = {n.upper() for n in conn.table_names()}
    return HEADER in names and LINES in names


def read_on_order_units(
    conn: FactusolConnection, references: Sequence[str] | None = None
) -> dict[tuple[str, str, str], dict[str, Decimal]]:
    """{(article, talla, color): {warehouse: units pending on open supplier orders}}.  A file without the tables
    gives nothing (the caller says so)."""
    marks = ", ".join("?" for _ in CLOSED_STATES)
    head = (
        f"SELECT [{LINES}].[{LINE_ARTICLE}] AS [ART], [{LINES}].[{LINE_SIZE}] AS [CE1],"
        f" [{LINES}].[{LINE_COLOUR}] AS [CE2], [{HEADER}].[{HEADER_WAREHOUSE}] AS [ALM],"
        f" [{LINES}].[{LINE_PENDING}] AS [PEN] FROM [{LINES}] INNER JOIN [{HEADER}] ON"
        f" ([{HEADER}].[{HEADER_SERIES}] = [{LINES}].[{LINE_SERIES}] AND"
        f" [{HEADER}].[{HEADER_NUMBER}] = [{LINES}].[{LINE_NUMBER}])"
        f" WHERE [{HEADER}].[{HEADER_STATE}] NOT IN ({marks}) AND [{LINES}].[{LINE_PENDING}] > 0"
    )
    rows = []
    if references is None:
        rows = conn.query(f"{head} ORDER BY [{LINES}].[{LINE_ARTICLE}]", list(CLOSED_STATES))
    else:
        wanted = list(dict.fromkeys(r for r in references if r))
        for i in range(0, len(wanted), PARAM_CHUNK):
            chunk = wanted[i : i + PARAM_CHUNK]
            rows.extend(
                conn.query(
                    f"{head} AND [{LINES}].[{LINE_ARTICLE}] IN ({', '.join('?' for _ in chunk)})"
                    f" ORDER BY [{LINES}].[{LINE_ARTICLE}]",
                    [*CLOSED_STATES, *chunk],
                )
            )
    out: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in rows:
        out[(_text(r["ART"]), _text(r["CE1"]), _text(r["CE2"]))][_text(r["ALM"])] += Decimal(r["PEN"] or 0)
    return {k: dict(v) for k, v in out.items()}


def order_articles(conn: FactusolConnection, series: str, number: int) -> list[str]:
    """The articles on one supplier order (a header whose state changed moves their units on order)."""
    rows = conn.query(
        f"SELECT DISTINCT [{LINE_ARTICLE}] AS [ART] FROM [{LINES}] WHERE [{LINE_SERIES}] = ? AND [{LINE_NUMBER}] = ?",
        [series, number],
    )
    return [_text(r["ART"]) for r in rows if _text(r["ART"])]
