"""Our own shop writes read back as a poll will read them, so that poll mode knows them as ours.

The binlog watcher knows our transactions by the ledger row each one carries (`sync/echo.py`).  A poll sees rows,
not transactions: every row the replicator wrote came back at the next poll as a change, to be applied to FactuSOL
as a no-op.  After the initial sync of a big catalogue that is every product's rows (about half a million with
100,000 articles), and the shop's real changes waited behind them.

A bulk writer given a `ReadBack` reads the watched rows of the products it wrote inside its own transaction, where
they are exactly what it wrote (its locks hold them until the commit); their hashes go to the state store after
the commit (`committed`), and a poll's diff takes a row with that hash as ours (`capture.snapshot.Differ`), while a
later edit by anyone (another hash) is still captured.  A crash between the commit and the record only loses the
records: those rows come back as changes, as before."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from replicator.capture.tables import prestashop_tables

from ..checksum import batches, q
from ..pollrows import row_hashes

# The watched tables a product's creation writes (combinations and stock rows included), all keyed by id_product.
PRODUCT_TABLES = ("product", "product_shop", "product_lang", "product_attribute", "stock_available")

Record = Callable[[list[tuple[str, str, str]]], None]  # [(table, row key, row hash)] -> the state store


class ReadBack:
    """Collects the hashes of rows written in one transaction: `begin` when it starts (what a transaction that
    rolled back left is dropped), `products` inside it, `committed` after its commit hands them on."""

    def __init__(self, prefix: str, record: Record):
        self.prefix, self.record = prefix, record
        self.tables = prestashop_tables()
        self._pending: list[tuple[str, str, str]] = []

    def begin(self) -> None:
        self._pending = []

    def products(self, conn, product_ids: Iterable[int], tables: Iterable[str] = PRODUCT_TABLES) -> None:
        """Read the rows of `tables` belonging to `product_ids`, on `conn` inside its open transaction."""
        ids = sorted({int(i) for i in product_ids})
        with conn.cursor() as cur:  # a plain cursor: rows as tuples, with the values a poll reads
            for name in tables:
                table = self.tables[name]
                for part in batches(ids, 1000):
                    marks = ", ".join(["%s"] * len(part))
                    cur.execute(f"SELECT * FROM {q(table.physical(self.prefix))} WHERE `id_product` IN ({marks})", part)
                    self._pending.extend((name, key, h) for key, h in row_hashes(cur, table))

    def committed(self) -> None:
        records, self._pending = self._pending, []
        if records:
            self.record(records)
