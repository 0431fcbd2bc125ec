"""FactuSOL change detection by pages: which parts of a big table changed since the last scan, without reading it.

A big table is cut into pages of about PAGE_ROWS rows (fewer for a wide table, `page_rows`) by ranges of one
primary-key column (bounds taken from the file's own `ORDER BY`, so its collation decides what lies between two).
For each page the file computes `COUNT(*)` and, over every row, the `SUM` of each number column, of the `LEN` of
each text column and of a fingerprint of the text columns the replicator reads (`text_print`: the codes of a text's
first and last characters): one Access aggregate statement per page, evaluated by the database engine, no row
crosses the driver.  A scan compares these with the previous scan's and reads only the pages that differ.  That
finds inserts and deletes (the count) and edits that change a number, a text's length or a sampled character,
whether or not they moved a `FUM*` date (a bulk price update, another program, "Rojo" -> "Azul").  An edit that
keeps every number, every text length and every sampled character ("Camiseta roja" -> "Camiseta rosa", a column no
reader maps, two values swapped between rows of a page) is not seen here: the full rescan (`full_rescan_seconds`)
finds it.

Two tiers, so that an event scan stays short on a big file:

- the *quick sums* (`Pages.quick`): `COUNT(*)` and, for a table without a `FUM*` date, the `SUM` of each number
  column: one statement over the whole table on every event scan, and the pages' own quick sums only when that moved.
  They find inserts, deletes, and number edits (stock, prices) at once; a table with a `FUM*` date has its stamped
  edits found by the scanner's read of `FUM* >= watermark` instead (`stamped.py`).  A page that moved is cut into
  parts of about SUB_PAGE_ROWS rows (`moved_parts`), so its next moves read a part of it, not all of it.
- the *page sums* (`Pages.select`, every column, the text fingerprints): page by page, in the scanner's rotation
  (`FactusolScanner.rearm`), a slice per scan while file events keep coming, the rest once the file is quiet.

The sums are taken *before* the rows are read, so an edit made in between is read now and seen again (harmlessly)
by the next scan's sums; none is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from replicator.capture.tables import WatchedTable

from .schema import load_schema

log = logging.getLogger("replicator.factusol.pages")

PAGE_ROWS = 2000
# ... and at most about this many values (rows x columns): a page whose sums moved is read whole, and 2,000 rows of
# F_ART's 91 columns took 0.1 s, too long for the slice of page sums an event scan takes.  (Not much less: each page
# is one more statement of F_ART's 88 sums, and pages of 440 rows made its page sums 40% dearer.)
PAGE_CELLS = 80_000
# Tables up to this many values (rows x columns) are read whole on every scan: exact (every edit is seen), and
# about as cheap as their quick sums.  Bigger ones are paged.  (Reading 40,000 values whole took 0.02 s on the
# stand-in, a tenth of an event scan of a 100,000-article file: too dear for every scan.)
SMALL_TABLE_CELLS = 10_000

_NUMBER_TYPES = {"Moneda", "Entero", "Entero largo", "Simple", "Doble", "Byte"}
_TEXT_TYPES = {"Texto corto", "Texto largo"}


@dataclass
class SubPages:
    """One page cut in parts of about SUB_PAGE_ROWS rows, with their quick sums as last taken (`moved_parts`)."""

    wheres: list[tuple[str, list[Any]]]
    sums: list[tuple]


@dataclass
class Pages:
    """How one table is paged, and what its pages summed to at the last scan."""

    wheres: list[tuple[str, list[Any]]]  # per page: WHERE clause and its parameters; together they cover every row
    select: str  # the aggregate list: "COUNT(*) AS [N], SUM([A]) AS [S1], SUM(LEN([B])) AS [S2], ..."
    sums: list[tuple] | None = None
    quick: str = "COUNT(*) AS [N]"  # the quick aggregate list (`quick_aggregate_list`)
    quick_whole: tuple | None = None  # the quick sums of the whole table at the last scan
    quick_sums: list[tuple] | None = None  # ... and of each page, as they were when last taken (`moved_pages`)
    recent: list[int] = field(default_factory=list)  # the pages last found moved, most recent first
    subs: dict[int, SubPages] = field(default_factory=dict)  # the pages split for the drill-down (`moved_parts`)

    def where(self, i: int) -> tuple[str, list[Any]]:
        return self.wheres[i]

    @property
    def count(self) -> int:
        return len(self.wheres)


def ranges(column: str, bounds: list[Any], prefix: str = "", params: list[Any] | None = None) -> list[tuple[str, list]]:
    """Pages covering every value of `column` (below the first bound, between two, from the last on), each
    behind `prefix` (an equality on the leading key column, or a page's own clause: `moved_parts`) when given."""
    col, head, base = f"[{column}]", (prefix + " AND ") if prefix else "", list(params or [])
    if not bounds:
        return [(prefix, base)]
    out = [(f"{head}{col} < ?", [*base, bounds[0]])]
    out += [(f"{head}{col} >= ? AND {col} < ?", [*base, lo, hi]) for lo, hi in zip(bounds, bounds[1:])]
    out.append((f"{head}{col} >= ?", [*base, bounds[-1]]))
    return out


def aggregate_list(table: WatchedTable, columns: list[str]) -> str:
    """COUNT(*), the per-column sums for the columns of `columns` whose FactuSOL type is known, and the fingerprints
    (`text_print`) of the text columns the replicator reads (`fingerprinted`), TEXT_GROUP columns to a sum.

    In a stock table (a warehouse in its key: F_STO, F_STC) the numbers are also summed weighted by their row's
    warehouse fingerprint: a transfer moves units between two rows of one article, on one page, and leaves the
    plain sums as they were.  One sum of each row's numbers added up (a row with a NULL number drops out of that one
    sum only), not one per column: each costs about as much as the plain sums of the table."""
    types = _column_types(table)
    parts = ["COUNT(*) AS [N]"]
    texts = []
    printed = fingerprinted(table) if TEXT_FINGERPRINTS else set()
    keys = {column.upper() for column in table.pk}
    weighed = []
    for name in columns:
        kind = types.get(name.upper())
        if kind in _NUMBER_TYPES:
            parts.append(f"SUM([{name}]) AS [S{len(parts)}]")
            if name.upper() not in keys:
                weighed.append(f"[{name}]")
        elif kind in _TEXT_TYPES:
            parts.append(f"SUM(LEN([{name}])) AS [S{len(parts)}]")
            if name.upper() in printed:
                texts.append(name)
    warehouse = next((c for c in table.pk[1:] if c.upper().startswith(WAREHOUSE_PREFIX)), None)
    if warehouse and weighed:
        # A weight of at most 1,020 (`text_print`), 2,000 rows a page: Currency (up to 922 million million) holds
        # the sum for any row whose numbers add up to less than 450,000,000.
        parts.append(f"SUM(({' + '.join(weighed)}) * ({text_print(warehouse)})) AS [S{len(parts)}]")
    for i in range(0, len(texts), TEXT_GROUP):
        group = " + ".join(text_print(name) for name in texts[i : i + TEXT_GROUP])
        parts.append(f"SUM({group}) AS [S{len(parts)}]")
    return ", ".join(parts)


def _column_types(table: WatchedTable) -> dict[str, str]:
    """Column name (upper case) -> its FactuSOL type, from the schema; empty for a table the schema does not know."""
    schema = load_schema()
    return {c.name.upper(): c.type for c in schema[table.name].columns} if table.name in schema else {}


def quick_aggregate_list(table: WatchedTable, columns: list[str]) -> str:
    """COUNT(*), and for a table without a FUM* date the SUM of each number column the readers take from it
    (`read_articles.NUMBERS_READ`: stock, tariff prices), or of each number column whose FactuSOL type is known for
    a table they do not list, keys aside (a key edited in place is a new key: the page sums find it): cheap enough
    for every event scan (0.015 s over F_STO's 200,000 rows on the stand-in).  Each SUM costs about a third of the
    table's read, so F_STO's minimum and maximum stock, which no reader takes, are left to the page sums' rotation."""
    from .read_articles import NUMBERS_READ  # (it never imports this module)

    parts = ["COUNT(*) AS [N]"]
    if table.ts_column:
        return parts[0]
    types = _column_types(table)
    keys = {column.upper() for column in table.pk}
    read = {column.upper() for column in NUMBERS_READ.get(table.name.upper(), ())}
    for name in columns:
        if types.get(name.upper()) in _NUMBER_TYPES and name.upper() not in keys and (not read or name.upper() in read):
            parts.append(f"SUM([{name}]) AS [S{len(parts)}]")
    return ", ".join(parts)


# FactuSOL names a column by what it holds and its table: ALMSTO is F_STO's warehouse (almacén), ALMSTC F_STC's.
WAREHOUSE_PREFIX = "ALM"

# False: the page sums see a text's length only (how they were before; the bench compares the two).
TEXT_FINGERPRINTS = True
# Text columns whose fingerprints share one SUM: Access returns at most 255 fields per query, and a row's group
# stays below 32,768 (8 columns x 4 x 255), within Access's Integer arithmetic.
TEXT_GROUP = 8


def text_print(column: str) -> str:
    """An Access expression of one text value: the codes of its first and last characters (the last one weighted).

    `Right([X], 1) & ' '` and `[X] & ' '` are never empty in Access (`&` reads Null as ''), so `Asc` always has a
    character: no row can make the statement fail.  A value changed to another of the same length ("Rojo" ->
    "Azul", an EAN, a phone number) is seen when its first or last character differs.  Only Access's own functions
    (Asc, Right, `&`); the stand-in's translation is in `sqlcheck.translate_for_sqlite`.  Two characters, not more:
    each one costs about as much as the whole length sum (see docs/performance.md)."""
    col = f"[{column}]"
    return f"ASC({col} & ' ') + 3 * ASC(RIGHT({col}, 1) & ' ')"


def fingerprinted(table: WatchedTable) -> set[str]:
    """The text columns of `table` worth a fingerprint: its key and the columns the readers map (`reader.py`'s
    column maps).  Other columns' unstamped same-length edits wait for the full rescan, as before."""
    from . import read_articles, read_customers, read_documents  # the column maps; they never import this module

    maps = (
        read_customers.CUSTOMER_COLUMNS,
        read_customers.ADDRESS_COLUMNS,
        read_articles.PRODUCT_COLUMNS,
        read_documents.ORDER_COLUMNS,
        read_documents.ORDER_LINE_COLUMNS,
    )
    suffix = table.name[2:]  # FactuSOL names a table's columns with its three letters: DESART in F_ART
    named = {column.upper() for m in maps for column in m.values() if column.upper().endswith(suffix)}
    return named | {column.upper() for column in table.pk}


def is_small(rows: int, columns: int) -> bool:
    return rows * max(1, columns) <= SMALL_TABLE_CELLS


def page_rows(columns: int) -> int:
    """About how many rows a page of a table with this many columns holds."""
    return max(1, min(PAGE_ROWS, PAGE_CELLS // max(1, columns)))


def make_pages(conn, table: WatchedTable, columns: list[str], total: int) -> Pages:
    """Pages of about `page_rows` rows in primary-key order, so each page's sums are an index range read.

    By ranges of the leading key column when it has enough distinct values; otherwise (F_LTA: a few tariffs, each
    with every article) by ranges of the second column within each value of the first, plus pages for the values
    between and around them (a tariff added later)."""
    first, per_page = table.pk[0], page_rows(len(columns))
    values = _distinct(conn, f"SELECT DISTINCT [{first}] FROM [{table.name}] ORDER BY [{first}]")
    if len(values) >= max(2, total // per_page) or len(table.pk) == 1:
        return Pages(
            ranges(first, _bounds(values, total, per_page)),
            aggregate_list(table, columns),
            quick=quick_aggregate_list(table, columns),
        )
    second, col = table.pk[1], f"[{first}]"
    wheres: list[tuple[str, list]] = []
    for i, v in enumerate(values):
        wheres.append((f"{col} < ?", [v]) if i == 0 else (f"{col} > ? AND {col} < ?", [values[i - 1], v]))
        inner = _distinct(conn, f"SELECT [{second}] FROM [{table.name}] WHERE {col} = ? ORDER BY [{second}]", [v])
        wheres += ranges(second, _bounds(inner, len(inner), per_page), f"{col} = ?", [v])
    wheres.append((f"{col} > ?", [values[-1]]) if values else ("", []))
    return Pages(wheres, aggregate_list(table, columns), quick=quick_aggregate_list(table, columns))


def _bounds(values: list[Any], rows: int, per_page: int) -> list[Any]:
    """Every n-th of the ordered distinct `values`, so that a page holds about `per_page` of the `rows`."""
    per_value = max(1.0, rows / max(1, len(values)))
    step = max(1, int(per_page / per_value))
    return [v for v in values[step::step] if v is not None]


def _distinct(conn, sql: str, params: list[Any] | None = None) -> list[Any]:
    with conn.iter_tuples(sql, params) as rows:
        return [raw[0] for raw in rows]


def page_sums(conn, table: WatchedTable, pages: Pages, select: str | None = None) -> list[tuple]:
    """Every page's COUNT and sums (`select`, by default the page sums' list), as comparable tuples (one aggregate
    statement per page)."""
    return [page_sum(conn, table, pages, i, select) for i in range(pages.count)]


def page_sum(conn, table: WatchedTable, pages: Pages, i: int, select: str | None = None) -> tuple:
    """Page `i`'s COUNT and sums, as a comparable tuple."""
    where, params = pages.where(i)
    return whole_sums(conn, table, select or pages.select, where, params)


def whole_sums(conn, table: WatchedTable, select: str, where: str = "", params: list[Any] | None = None) -> tuple:
    """One aggregate statement over `table` (or the rows of `where`), as a comparable tuple."""
    sql = f"SELECT {select} FROM [{table.name}]" + (f" WHERE {where}" if where else "")
    with conn.iter_tuples(sql, params or []) as rows:
        row = next(iter(rows), None)
    return tuple(_comparable(v) for v in row) if row is not None else ()


def moved_pages(conn, table: WatchedTable, pages: Pages, whole: tuple) -> list[int]:
    """The pages whose quick sums moved since they were last taken, given the whole table's quick sums now.

    The quick sums add up (COUNT and SUM), so the pages are taken one by one, the last ones found moved first, until
    their moves add up to the whole table's: on average about half of a big table's pages are summed, not all of them
    (pages left unsummed keep their sums of before, so a later look at them sees every move since).  A move that is
    cancelled by another in a page left unsummed is found by the page sums' rotation.  Sums that do not add up exactly
    (Double columns) just mean every page is taken."""
    stored = pages.quick_sums
    target = _difference(pages.quick_whole, whole)
    if stored is None or len(stored) != pages.count or target is None:
        pages.quick_sums = page_sums(conn, table, pages, pages.quick)
        return list(range(pages.count))
    first = [i for i in pages.recent if i < pages.count]
    order = first + [i for i in range(pages.count) if i not in first]
    moved: list[int] = []
    found: tuple | None = tuple(0 for _ in target)
    for i in order:
        now = page_sum(conn, table, pages, i, pages.quick)
        if now == stored[i]:
            continue
        step = _difference(stored[i], now)
        stored[i] = now
        moved.append(i)
        found = None if found is None or step is None else tuple(a + b for a, b in zip(found, step))
        if found == target:
            break
    pages.recent = (moved + [i for i in pages.recent if i not in moved])[:RECENT_PAGES]
    return moved


# How many of the pages last found moved a drill-down takes first (a shop's stock moves on its best sellers).
RECENT_PAGES = 16

# The parts a moved page is cut into, the first time it moves, so that its next moves read about this many rows, not
# the whole page: one stock edit read 2,000 F_STO rows (0.02 s on the stand-in, about a sixth of an event scan).
SUB_PAGE_ROWS = 200


def moved_parts(conn, table: WatchedTable, pages: Pages, i: int) -> list[tuple[str, list[Any]]]:
    """The WHERE clauses (with parameters) to read for page `i`, whose quick sums moved: the parts of it whose quick
    sums moved since they were last taken, or, the first time, the whole page, cut into parts (their sums taken now,
    before the read, so an edit made in between is read now and seen again next time: none is lost)."""
    sub = pages.subs.get(i)
    if sub is None:
        counted = pages.quick_sums[i][0] if pages.quick_sums and i < len(pages.quick_sums) else None
        wheres = _parts(conn, table, pages.where(i), int(counted or 0))
        if len(wheres) > 1:
            pages.subs[i] = SubPages(wheres, [whole_sums(conn, table, pages.quick, w, p) for w, p in wheres])
        return [pages.where(i)]
    moved = []
    for j, (where, params) in enumerate(sub.wheres):
        now = whole_sums(conn, table, pages.quick, where, params)
        if now != sub.sums[j]:
            sub.sums[j] = now
            moved.append((where, params))
    return moved


def _parts(conn, table: WatchedTable, page: tuple[str, list[Any]], rows: int) -> list[tuple[str, list[Any]]]:
    """Page `page`, of about `rows` rows, cut in parts of about SUB_PAGE_ROWS rows, by ranges of its leading key
    column, or of the second one within a page that holds one value of the first (F_LTA: one tariff)."""
    where, params = page
    name, column = table.name, table.pk[0]
    clause = f" WHERE {where}" if where else ""
    values = _distinct(conn, f"SELECT DISTINCT [{column}] FROM [{name}]{clause} ORDER BY [{column}]", params)
    if len(values) < 2 and len(table.pk) > 1:
        column = table.pk[1]
        values = _distinct(conn, f"SELECT DISTINCT [{column}] FROM [{name}]{clause} ORDER BY [{column}]", params)
    return ranges(column, _bounds(values, rows, SUB_PAGE_ROWS), where, params)


def _difference(before: tuple | None, now: tuple) -> tuple | None:
    """`now` - `before`, value by value (a NULL sum is 0), or None when they cannot be subtracted."""
    if before is None or len(before) != len(now):
        return None
    try:
        return tuple(Decimal(b or 0) - Decimal(a or 0) for a, b in zip(before, now))
    except (ArithmeticError, ValueError):
        return None


def _comparable(value: Any) -> Any:
    # Sums come back as Decimal, float, int or text depending on the driver and column type: compare their text.
    return None if value is None else str(value)
