"""One plain sentence for a failure to reach or read the shop database (no exception class, no password).

Used by the poller's retry loop, the SSH tunnel and the grants check, so the same cause reads the same way
in the log, in `replicator status` and in the TUI.
"""

from __future__ import annotations

import re
import sys

import pymysql

from replicator.config import redact

# MySQL client/server error numbers -> what happened and what to do.
_SENTENCES = {
    2003: "cannot reach the shop database server{where}: check the host and port (and that the server runs)",
    2005: "the shop database host name{where} does not resolve: check prestashop.url",
    2006: "the shop database server{where} closed the connection: it restarted or timed the session out",
    2013: "the shop database server{where} dropped the connection in the middle of a query",
    2055: "the shop database server{where} dropped the connection in the middle of a query",
    1045: "the shop database refused the user name or password{where}: check prestashop.url and its secret",
    1044: "the shop database user may not use this database{where}: see `replicator shop-sql` for the grants",
    1049: "the shop database{where} does not exist: check the database name at the end of prestashop.url",
    1053: "the shop database server{where} is shutting down",
    1927: "the shop database server{where} killed the connection",
}
_LOST = {2003, 2006, 2013, 2055}  # through a tunnel, these are the tunnel's failure
_CODED = re.compile(r"\((\d{4}), [\'\"](.*)[\'\"]\)")
_DENIED = re.compile(r"(\w+) command denied to user .*? for table [`']?([\w$.]+)[`']?", re.I)


def explain(exc: BaseException) -> str:
    """A one-sentence, secret-free description of `exc` (a PyMySQL error, the tunnel's, or any other)."""
    sentence = getattr(exc, "sentence", None)  # our own errors carry theirs
    if sentence:
        return redact(sentence)
    err = exc.__cause__ if isinstance(exc.__cause__, pymysql.MySQLError) else exc
    code, text = None, ""
    if isinstance(err, pymysql.MySQLError) and err.args and isinstance(err.args[0], int):
        code, text = err.args[0], str(err.args[1]) if len(err.args) > 1 else ""
    else:  # ShopConnectionError: "cannot connect to user@host:port/db: (2003, "...")"
        found = _CODED.search(str(exc))
        if found:
            code, text = int(found.group(1)), found.group(2)
    if code in _LOST:
        tunnel = sys.modules.get("replicator.prestashop.tunnel")  # loaded only when the shop is reached by SSH
        cause = tunnel.recent_failure() if tunnel else ""
        if cause:
            return redact(cause)
    if code is not None:
        denied = _DENIED.search(text)
        if code in (1142, 1143) and denied:
            return (
                f"the shop database user lacks the {denied.group(1).upper()} privilege on table "
                f"{denied.group(2)}: run the GRANT printed by `replicator shop-sql`"
            )
        if code in _SENTENCES:
            return redact(_SENTENCES[code].format(where=""))
        return redact(f"the shop database answered error {code}: {text}")
    text = str(exc).strip()
    if not text:  # EOFError(), a bare timeout: say what it means, not what it is called
        if isinstance(exc, (EOFError, ConnectionError)):
            return "the connection to the shop database ended unexpectedly"
        if isinstance(exc, TimeoutError):
            return "the shop database did not answer in time"
        return "the shop database failed without saying why"
    return redact(text.rstrip("."))
