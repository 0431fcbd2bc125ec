"""Log output of `replicator run` and the demo: one line per record, with date and time, secrets redacted.

The binlog library (`pymysqlreplication`) logs multi-line warnings of its own; they are folded into one line,
and its warning about BINLOG_ROW_METADATA (said at every start on servers that keep the default) is dropped:
the replicator's own capture-mode line already says the same, once, in its words.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from replicator.console import SafeStreamHandler
from replicator.config import install_log_redaction

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
BINLOG_LIBRARY = "pymysqlreplication"


class OneLineFilter(logging.Filter):
    """Folds a record's message into one line; drops the binlog library's row-metadata advice."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\n" not in message:
            return True
        folded = " ".join(message.split())
        if record.name.startswith(BINLOG_LIBRARY) and "BINLOG_ROW_METADATA" in folded:
            return False
        record.msg, record.args = folded, None
        return True


def setup_logging(level: str = "INFO", log_file: Path | None = None) -> None:
    """stderr (and `log_file`) handlers on the root logger, dated lines, secrets redacted."""
    # the console's code page (cp1252...) may not show every character: replaced, never a crash (console.py)
    handlers: list[logging.Handler] = [SafeStreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        handlers=handlers,
        force=True,
        format=LOG_FORMAT,
        datefmt=DATE_FORMAT,
    )
    # watchdog logs every inotify event at DEBUG (a FactuSOL save is a dozen): the replicator's own lines say what
    # each file event led to.
    logging.getLogger("watchdog").setLevel(max(logging.INFO, logging.getLogger().level))
    library = logging.getLogger(BINLOG_LIBRARY)
    if not any(isinstance(f, OneLineFilter) for f in library.filters):
        library.addFilter(OneLineFilter())
    for handler in handlers:
        handler.addFilter(OneLineFilter())
    install_log_redaction()
