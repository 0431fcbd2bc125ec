"""The shop server's binary log: what binlog capture needs (format, row image, privileges), notes worth logging,
MariaDB or MySQL, and the position a new reader starts from."""

from __future__ import annotations

import pymysql


def _grants(conn) -> str:
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        return " ".join(
            str(r[0] if not isinstance(r, dict) else next(iter(r.values()))) for r in cur.fetchall()
        ).upper()


def check_binlog_access(conn) -> list[str]:
    """What is missing for binlog capture, one message per problem (empty list: binlog capture can run)."""
    problems: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT @@log_bin, @@binlog_format, @@binlog_row_image")
        row = cur.fetchone()
        row = tuple(row.values()) if isinstance(row, dict) else row
    log_bin, fmt, image = row
    if str(log_bin) not in ("1", "ON"):
        problems.append(
            "binary logging is off: start the server with log_bin (e.g. log_bin=binlog, server_id=1 in my.cnf)"
        )
    if str(fmt).upper() != "ROW":
        problems.append(f"binlog_format is {fmt}, must be ROW (SET GLOBAL binlog_format='ROW' and in my.cnf)")
    if str(image).upper() != "FULL":
        problems.append(f"binlog_row_image is {image}, must be FULL (SET GLOBAL binlog_row_image='FULL' and in my.cnf)")
    try:
        grants = _grants(conn)
    except pymysql.MySQLError as exc:
        problems.append(f"cannot read the user's grants (SHOW GRANTS failed: {exc})")
        return problems
    everything = "ALL PRIVILEGES ON *.*" in grants
    if not everything and "REPLICATION SLAVE" not in grants and "REPLICATION REPLICA" not in grants:
        problems.append(
            "missing privilege REPLICATION SLAVE: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the shop user"
        )
    # MariaDB >= 10.5 shows REPLICATION CLIENT as BINLOG MONITOR; SUPER implied it on old servers.
    if not everything and not any(p in grants for p in ("REPLICATION CLIENT", "BINLOG MONITOR", "SUPER")):
        problems.append(
            "missing privilege REPLICATION CLIENT (BINLOG MONITOR on MariaDB): "
            "GRANT REPLICATION CLIENT ON *.* TO the shop user"
        )
    return problems


def binlog_notes(conn) -> list[str]:
    """Non-blocking remarks (logged at start)."""
    notes = []
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT @@binlog_row_metadata")
            value = cur.fetchone()
            value = next(iter(value.values())) if isinstance(value, dict) else value[0]
            if str(value).upper() != "FULL":
                notes.append(
                    f"binlog_row_metadata is {value}: column names come from information_schema "
                    "(an ALTER TABLE while old events are re-read can mislabel columns; FULL avoids that)"
                )
        except pymysql.MySQLError:
            notes.append(
                "server has no binlog_row_metadata (MySQL < 8.0.1 / MariaDB < 10.5): "
                "column names from information_schema"
            )
    return notes


def is_mariadb(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
    version = next(iter(row.values())) if isinstance(row, dict) else row[0]
    return "mariadb" in str(version).lower()


def current_position(conn) -> tuple[str, int]:
    """The binlog file and position a new reader starts from (no history is replayed at first start)."""
    with conn.cursor() as cur:
        for statement in ("SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"):  # MySQL 8.4 renamed it
            try:
                cur.execute(statement)
                row = cur.fetchone()
                break
            except pymysql.MySQLError:
                row = None
    if not row:
        raise RuntimeError("SHOW MASTER STATUS returned nothing: binary logging is off")
    values = list(row.values()) if isinstance(row, dict) else list(row)
    return str(values[0]), int(values[1])


# ------------------------------------------------------------------------------------------------ ledger (echo)


def binary_logs(conn) -> list[tuple[str, int | None]]:
    """The server's binary logs (SHOW BINARY LOGS): (file name, size in bytes) in order."""
    with conn.cursor() as cur:
        cur.execute("SHOW BINARY LOGS")
        rows = cur.fetchall()
    out = []
    for row in rows:
        values = list(row.values()) if isinstance(row, dict) else list(row)
        out.append((str(values[0]), int(values[1]) if len(values) > 1 and values[1] is not None else None))
    return out
