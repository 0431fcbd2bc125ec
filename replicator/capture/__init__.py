"""Change capture: FactuSOL file-snapshot diffs and PrestaShop binlog (or polling) into the store's change log."""

from .binlog import BinlogCapture, check_binlog_access, ensure_ledger_table, ledger_insert_sql
from .factusol import FactusolScanner, FactusolWatcher, WatcherStatus
from .poller import PollCapture
from .service import CaptureReport, CaptureService, capture_once
from .snapshot import DELETED_HASH, row_hash
from .tables import FACTUSOL_TABLES, PRESTASHOP_TABLES, WatchedTable, factusol_tables, prestashop_tables, row_key

__all__ = [
    "BinlogCapture", "CaptureReport", "CaptureService", "DELETED_HASH", "FACTUSOL_TABLES", "FactusolScanner",
    "FactusolWatcher", "PRESTASHOP_TABLES", "PollCapture", "WatchedTable", "WatcherStatus", "capture_once",
    "check_binlog_access", "ensure_ledger_table", "factusol_tables", "ledger_insert_sql", "prestashop_tables",
    "row_hash", "row_key",
]
