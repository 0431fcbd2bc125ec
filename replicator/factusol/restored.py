"""Signs that the FactuSOL file was restored from a backup or replaced by another file, found by a scan.

Two kinds of sign.  Rows whose FUM* (last-modified) date went back (`went_back`): FactuSOL only moves it forward.
And the file's identity (`file_identity`, recorded by every scan and compared with the last one by `replaced`): the
company rows of F_EMP, the file's last-write time, the highest number of each document series, and which file it is
on disk (volume and file number, where the system gives them).  A FactuSOL save rewrites the file in place and a
compaction makes a new file with the same data: neither moves anything back.  A restored or copied-over file does.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from replicator.capture.tables import WatchedTable

from .errors import FactusolError, is_lock_error

# The document tables whose numbers only grow within a series: (table, series column, number column).
DOCUMENT_SERIES = (("F_PCL", "TIPPCL", "CODPCL"), ("F_ALB", "TIPALB", "CODALB"), ("F_FAC", "TIPFAC", "CODFAC"))
# A last-write time this much older than the last scan's is a copy put back, not a clock's small correction.
MTIME_SLACK_SECONDS = 60.0


def _image(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}


def _day(value: Any) -> str:
    return str(value).replace("T", " ")[:10] if value else ""


def went_back(tables: dict[str, WatchedTable], rows) -> list[str]:
    """Updated rows whose FUM* (last-modified) date is older than before: FactuSOL only ever moves it forward."""
    out = []
    for r in rows:
        table = tables.get(r.source_table)
        if r.op != "update" or table is None or not table.ts_column:
            continue
        before, after = _day(_image(r.before).get(table.ts_column)), _day(_image(r.after).get(table.ts_column))
        if before and after and after < before:
            out.append(f"{r.source_table} {r.row_key}: {table.ts_column} {before} -> {after}")
    return out


# ------------------------------------------------------------------------------------------------ file identity


def file_identity(path: Path, conn, present: set[str]) -> dict[str, Any]:
    """What says which file this is and how far its data goes: a JSON-ready dict kept in the scan checkpoint.

    `on_disk`: volume and file number ("" where the system gives none, e.g. some network shares); `mtime`: the
    last-write time; `company`: the F_EMP code and NIF of each company row; `series`: per document table, the
    highest number of each series.  A part the file cannot give (a table missing) is left out, never guessed."""
    try:
        st = os.stat(path)
    except OSError:  # the connection string names the file some other way: only the data parts are checked
        identity: dict[str, Any] = {"on_disk": "", "mtime": None}
    else:
        identity = {"on_disk": f"{st.st_dev}:{st.st_ino}" if st.st_ino else "", "mtime": st.st_mtime}
    if "F_EMP" in present:
        rows = _read(conn, "SELECT [CODEMP], [NIFEMP] FROM [F_EMP] ORDER BY [CODEMP]")
        if rows is not None:
            identity["company"] = [f"{_text(r['CODEMP'])} {_text(r['NIFEMP'])}" for r in rows]
    series: dict[str, dict[str, int]] = {}
    for table, tip, cod in DOCUMENT_SERIES:
        if table in present:
            rows = _read(conn, f"SELECT [{tip}] AS [S], MAX([{cod}]) AS [M] FROM [{table}] GROUP BY [{tip}]")
            if rows is not None:
                series[table] = {_text(r["S"]): int(r["M"]) for r in rows if r["M"] is not None}
    identity["series"] = series
    return identity


def _read(conn, sql: str) -> list[dict[str, Any]] | None:
    try:
        return conn.query(sql)
    except FactusolError as exc:
        if is_lock_error(exc):
            raise
        return None  # a column this file does not have: that part of the identity is not checked


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def replaced(before: dict[str, Any] | None, now: dict[str, Any]) -> list[str]:
    """Why the file scanned now is not the one scanned last, moved on (empty when it is).

    Another company's rows; a last-write time gone back by more than MTIME_SLACK_SECONDS (a copy that kept its date,
    or the clock set back); or a document series whose highest number went down in a file that is another file on
    disk (deleting the last document of a series is allowed; a new file with fewer documents is an older copy)."""
    if not before:
        return []
    out = []
    if before.get("company") and now.get("company") and before["company"] != now["company"]:
        out.append(f"its company rows are {', '.join(now['company'])}, they were {', '.join(before['company'])}")
    old_mtime, new_mtime = before.get("mtime"), now.get("mtime")
    if old_mtime is not None and new_mtime is not None and new_mtime < old_mtime - MTIME_SLACK_SECONDS:
        out.append(f"its last-write time went back from {_when(old_mtime)} to {_when(new_mtime)}")
    moved_on_disk = bool(before.get("on_disk")) and bool(now.get("on_disk")) and before["on_disk"] != now["on_disk"]
    if moved_on_disk:
        back = []
        for table, numbers in (before.get("series") or {}).items():
            current = (now.get("series") or {}).get(table)
            if current is None:
                continue
            for series, top in sorted(numbers.items()):
                now_top = current.get(series, 0)
                if now_top < top:
                    back.append(f"{table} series {series!r} ends at {now_top}, it ended at {top}")
        if back:
            out.append("it is a new file on disk whose documents stop earlier (" + "; ".join(back) + ")")
    return out


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
