"""FactuSOL rows stamped since the last scan, read without reading them all again.

FactuSOL's `FUM*` dates are days: every row edited today carries today's date, so the scan's read of the rows
stamped since its watermark (`FUMART >= watermark`) takes every row edited today, on every scan of the day.  After
a price update from FactuSOL's own screens, that is thousands of articles of 91 columns, again on each save.

So the scan first reads, for each stamped row, its key, its stamp and its *row print*: its values joined into a few
texts by the file itself (`print_list`), a handful of values per row instead of all of them; and reads whole only
the rows whose print is new or moved since the last scan (`StampedRows`).  The print holds every value of the
columns whose FactuSOL type is known (text, number, date), each ended by a separator, a NULL by a mark of its own:
an edit that changes any of them changes it.  A column the schema does not know (a newer FactuSOL's) is left out:
its same-day edits wait for the full rescan, as the page sums' blind spots do (`pages.py`).

Unverified on Access (the stand-in is SQLite): that `&` keeps a long text (Memo) whole in a plain SELECT, as it is
documented to (it cuts one at 255 characters only with DISTINCT, GROUP BY or UNION).  Were a driver to cut it, an edit
past the cut would wait for the full rescan too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from replicator.capture.tables import WatchedTable

from .schema import load_schema

# The types a print can hold: Access turns each into text with `&` (Memo included); an OLE object could fail it.
_PRINTABLE = {
    "Texto corto",
    "Texto largo",
    "Moneda",
    "Entero",
    "Entero largo",
    "Simple",
    "Doble",
    "Byte",
    "Fecha/Hora",
}
# Columns joined into one text of the print: a few texts per row cross the driver instead of every value, and no
# one expression grows long enough for Access to call it too complex.
PRINT_GROUP = 16
# Above this many moved rows the stamped rows are read whole in one statement, not by key.
BY_KEY_MAX = 200
# Keys per statement when moved rows are read by key (`IN (...)`, or one `(... AND ...)` per key for a compound one).
KEYS_PER_STATEMENT = 40


def print_list(table: WatchedTable, columns: list[str]) -> list[str]:
    """The row print's select list for `table`, whose columns in the file are `columns` (empty: no print possible).

    Each value is followed by CHR(31) and a NULL is CHR(30) alone, so no edit can move text from one value to the
    next and keep the print (Access's `&` reads NULL as an empty text, which would hide a value set to NULL)."""
    return list(_print_list(table.name, tuple(columns)))


@functools.lru_cache(maxsize=64)  # every event scan asks again, with the same columns
def _print_list(name: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    schema = load_schema()
    if name not in schema:
        return ()
    types = {c.name.upper(): c.type for c in schema[name].columns}
    usable = [c for c in columns if types.get(c.upper()) in _PRINTABLE]
    parts = [f"IIF([{c}] IS NULL, CHR(30), [{c}] & CHR(31))" for c in usable]
    groups = [" & ".join(parts[i : i + PRINT_GROUP]) for i in range(0, len(parts), PRINT_GROUP)]
    return tuple(f"{group} AS [P{i}]" for i, group in enumerate(groups))


@dataclass
class StampedRows:
    """What the last scan's read of one table's stamped rows found: per raw key, the hash of its stamp and print.

    Replaced as a whole by each scan, never changed in place, so that a scan that fails before its commit can put
    the one before back (`FactusolScanner._sums_state`)."""

    columns: tuple[str, ...]
    prints: dict[Any, int] = field(default_factory=dict)


def key_wheres(table: WatchedTable, keys: list[Any]) -> list[tuple[str, list[Any]]]:
    """WHERE clauses, with their parameters, that together select the rows of these raw keys (a value for a one-column
    key, a tuple for a compound one), KEYS_PER_STATEMENT at a time."""
    out = []
    for i in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[i : i + KEYS_PER_STATEMENT]
        if len(table.pk) == 1:
            marks = ", ".join("?" for _ in chunk)
            out.append((f"[{table.pk[0]}] IN ({marks})", list(chunk)))
        else:
            one = "(" + " AND ".join(f"[{c}] = ?" for c in table.pk) + ")"
            out.append((" OR ".join(one for _ in chunk), [v for key in chunk for v in key]))
    return out
