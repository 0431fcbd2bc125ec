"""The watched tables of each side: primary key, the canonical entity each row feeds, and its timestamp column.

One list per side so every watcher (file-snapshot, binlog, poller) agrees on what is captured and how a row's
key is written (`row_key`).  Timestamp columns only *narrow* scans; they never replace the diff (FactuSOL's
FUM* is a hint; PrestaShop's stock, combinations and lines carry no date_upd).
"""

from __future__ import annotations

from dataclasses import dataclass

from replicator.keys import canon
from replicator.store import dumps

FACTUSOL, PRESTASHOP = "factusol", "prestashop"


@dataclass(frozen=True)
class WatchedTable:
    side: str
    name: str  # unprefixed (PrestaShop) / exact (FactuSOL) table name
    pk: tuple[str, ...]
    entity: str
    ts_column: str | None = None  # FUMxxx / date_upd: narrows scans, never trusted alone
    per_year: bool = False  # FactuSOL documents: numbering restarts in each fiscal-year file

    def physical(self, prefix: str = "") -> str:
        return prefix + self.name if self.side == PRESTASHOP else self.name


def _fs(name: str, pk: tuple[str, ...], entity: str, ts: str | None = None) -> WatchedTable:
    return WatchedTable(FACTUSOL, name, pk, entity, ts, per_year=entity in ("order", "shipment", "invoice"))


# PKs as in replicator/factusol/schema.json (FACTUSOL.md appendix A).  Order matters only for readability:
# masters first, so a scan records customers/articles before the documents that reference them.
FACTUSOL_TABLES: tuple[WatchedTable, ...] = (
    _fs("F_CLI", ("CODCLI",), "customer", "FUMCLI"),
    _fs("F_OBR", ("CLIOBR", "CODOBR"), "customer"),
    _fs("F_SEC", ("CODSEC",), "category"),
    _fs("F_FAM", ("CODFAM",), "category"),
    _fs("F_ART", ("CODART",), "product", "FUMART"),
    _fs("F_LTA", ("TARLTA", "ARTLTA"), "product"),
    _fs("F_ARC", ("ARTARC", "CE1ARC", "CE2ARC"), "product"),
    _fs("F_EAN", ("ARTEAN", "EANEAN"), "product"),
    _fs("F_STO", ("ARTSTO", "ALMSTO"), "stock"),
    _fs("F_STC", ("ARTSTC", "ALMSTC", "CE1STC", "CE2STC"), "stock"),
    # supplier orders (F_LPP named by analogy with F_LPC, see replicator.factusol.supplier_orders): units on order
    _fs("F_PPR", ("TIPPPR", "CODPPR"), "stock"),
    _fs("F_LPP", ("TIPLPP", "CODLPP", "POSLPP"), "stock"),
    _fs("F_PCL", ("TIPPCL", "CODPCL"), "order", "FUMPCL"),
    _fs("F_LPC", ("TIPLPC", "CODLPC", "POSLPC"), "order"),
    # F_ALB's "last modified" column is only attested by one source: not used to narrow.
    _fs("F_ALB", ("TIPALB", "CODALB"), "shipment"),
    _fs("F_LAL", ("TIPLAL", "CODLAL", "POSLAL"), "shipment"),
    _fs("F_FAC", ("TIPFAC", "CODFAC"), "invoice", "FUMFAC"),
    _fs("F_LFA", ("TIPLFA", "CODLFA", "POSLFA"), "invoice"),
)


def _ps(name: str, pk: tuple[str, ...], entity: str, ts: str | None = None) -> WatchedTable:
    return WatchedTable(PRESTASHOP, name, pk, entity, ts)


PRESTASHOP_TABLES: tuple[WatchedTable, ...] = (
    _ps("customer", ("id_customer",), "customer", "date_upd"),
    _ps("address", ("id_address",), "customer", "date_upd"),
    _ps("product", ("id_product",), "product", "date_upd"),
    _ps("product_shop", ("id_product", "id_shop"), "product", "date_upd"),
    _ps("product_lang", ("id_product", "id_shop", "id_lang"), "product"),
    _ps("product_attribute", ("id_product_attribute",), "product"),
    _ps("stock_available", ("id_stock_available",), "stock"),
    _ps("orders", ("id_order",), "order", "date_upd"),
    _ps("order_detail", ("id_order_detail",), "order"),
    _ps("order_carrier", ("id_order_carrier",), "order"),
    _ps("order_history", ("id_order_history",), "order"),
    _ps("order_invoice", ("id_order_invoice",), "invoice"),
)

LEDGER_TABLE = "replicator_ledger"  # unprefixed; our own PrestaShop writes insert a row here (echo marker)


def factusol_tables() -> dict[str, WatchedTable]:
    return {t.name: t for t in FACTUSOL_TABLES}


def prestashop_tables() -> dict[str, WatchedTable]:
    """By unprefixed name; use `WatchedTable.physical(prefix)` for the real table name."""
    return {t.name: t for t in PRESTASHOP_TABLES}


def row_key(table: WatchedTable, image: dict) -> str:
    """The change log / snapshot key of a row: JSON object of its primary-key columns (sorted, stable)."""
    pk = table.pk
    spec = _INT_KEYS.get(pk)
    if spec is None:
        spec = _INT_KEYS[pk] = _int_key_spec(pk)
    fmt, names = spec
    values = tuple([image[c] for c in names])
    for v in values:
        if type(v) is not int:
            break
    else:  # integer keys (every PrestaShop id): the same text as dumps, without building a dict and encoder
        return fmt % values
    return dumps({c: canon(image[c]) for c in pk})  # canonical values: '5' and Decimal('5.0') are one key


_INT_KEYS: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}


def _int_key_spec(pk: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    names = tuple(sorted(pk))
    return "{" + ",".join(dumps(n).replace("%", "%%") + ":%d" for n in names) + "}", names
