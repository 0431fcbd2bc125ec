"""Hostile values written to FactuSOL, one per row: each is stored verbatim, fitted by rule with a log line, or
refused with a message naming the column — never a traceback, never a silent change."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import pytest

from replicator.factusol import writer
from replicator.factusol.schema import FactusolWidthError
from replicator.sandbox.access_sql import *  # noqa: F401,F403
from replicator.sandbox.factusol_seed import SURCHARGE_RATES, VAT_RATES
from replicator.rules.fit import FitPolicy, set_policies

REJECT = FitPolicy(fit="reject", control_chars="strip")
TRUNCATE = FitPolicy(fit="truncate", control_chars="strip")
STRICT = FitPolicy(fit="reject", control_chars="reject")
V, FIT, NO = "verbatim", "fitted", "rejected"
EMOJI = "\U0001f6d2"  # two UTF-16 units in Access

# (id, table, column, value, policy, outcome, what is stored when fitted)
CASES = [
    ("plain name", "F_CLI", "NOFCLI", "Ana Gil", REJECT, V, None),
    ("accents", "F_CLI", "NOFCLI", "Lucía Peña Ibáñez", REJECT, V, None),
    ("emoji", "F_CLI", "NOFCLI", f"Tienda {EMOJI}", REJECT, V, None),
    ("exactly the width", "F_CLI", "NOFCLI", "x" * 100, REJECT, V, None),
    ("one over the width", "F_CLI", "NOFCLI", "x" * 101, REJECT, NO, None),
    ("one over, truncate", "F_CLI", "NOFCLI", "y" * 101, TRUNCATE, FIT, "y" * 100),
    (
        "60-char city, truncate",
        "F_CLI",
        "POBCLI",
        "Villanueva " * 5 + "del Pardillo",
        TRUNCATE,
        FIT,
        ("Villanueva " * 5 + "del Pardillo")[:30].rstrip(),
    ),
    ("60-char city, reject", "F_CLI", "POBCLI", "C" * 60, REJECT, NO, None),
    ("NUL inside", "F_CLI", "POBCLI", "Ci\x00ty", REJECT, FIT, "City"),
    ("NUL inside, reject", "F_CLI", "POBCLI", "Ci\x00ty", STRICT, NO, None),
    ("bell", "F_CLI", "NOFCLI", "\x07Bell", REJECT, FIT, "Bell"),
    ("escape sequence", "F_CLI", "NOFCLI", "\x1b[31mRojo", REJECT, FIT, "[31mRojo"),
    ("escape sequence, reject", "F_CLI", "NOFCLI", "\x1b[31mRojo", STRICT, NO, None),
    ("DEL", "F_CLI", "NOFCLI", "Del\x7f", REJECT, FIT, "Del"),
    ("vertical tab", "F_CLI", "DOMCLI", "Calle\x0bMayor", REJECT, FIT, "CalleMayor"),
    ("form feed", "F_CLI", "DOMCLI", "Calle\x0cMayor", REJECT, FIT, "CalleMayor"),
    ("tab kept", "F_CLI", "DOMCLI", "Calle\tMayor", REJECT, V, None),
    ("newline in a memo", "F_CLI", "OBSCLI", "línea 1\nlínea 2", REJECT, V, None),
    ("CRLF in a memo", "F_CLI", "OBSCLI", "a\r\nb", REJECT, V, None),
    ("only control characters", "F_CLI", "FAXCLI", "\x00\x01\x02", REJECT, FIT, ""),
    ("18-char NIF", "F_CLI", "NIFCLI", "ES-B12345678-XYZ9A", REJECT, V, None),
    ("19-char NIF", "F_CLI", "NIFCLI", "ES-B12345678-XYZ9AB", REJECT, NO, None),
    ("50-digit phone", "F_CLI", "TELCLI", "9" * 50, REJECT, V, None),
    ("51-digit phone", "F_CLI", "TELCLI", "9" * 51, REJECT, NO, None),
    ("spaces around", "F_CLI", "NOFCLI", "  Ana  ", REJECT, V, None),
    ("SQL in a name", "F_CLI", "NOFCLI", "'; DROP TABLE [F_CLI]; --", REJECT, V, None),
    ("quotes", "F_CLI", "NOFCLI", 'O\'Brien "Jr"', REJECT, V, None),
    ("backslashes", "F_CLI", "DOMCLI", "C:\\Datos\\x", REJECT, V, None),
    ("LIKE wildcards", "F_CLI", "NOFCLI", "100% _real_", REJECT, V, None),
    ("long memo", "F_CLI", "MEMCLI", "m" * 60000, REJECT, V, None),
    ("five emoji in 10 units", "F_CLI", "CPOCLI", EMOJI * 5, REJECT, V, None),
    ("six emoji in 10 units", "F_CLI", "CPOCLI", EMOJI * 6, REJECT, NO, None),
    ("six emoji, truncate", "F_CLI", "CPOCLI", EMOJI * 6, TRUNCATE, FIT, EMOJI * 5),
    ("combining accent", "F_CLI", "NOFCLI", "Jose\u0301", REJECT, V, None),
    ("zero-width space", "F_CLI", "NOFCLI", "Ana\u200bGil", REJECT, V, None),
    ("right-to-left mark", "F_CLI", "NOFCLI", "\u202eliG anA", REJECT, V, None),
    ("empty text", "F_CLI", "FAXCLI", "", REJECT, V, None),
    ("NULL", "F_CLI", "FAXCLI", None, REJECT, V, None),
    ("long integer", "F_CLI", "TARCLI", 5, REJECT, V, None),
    ("long integer overflow", "F_CLI", "TARCLI", 2**31, REJECT, NO, None),
    ("long integer underflow", "F_CLI", "TARCLI", -(2**31) - 1, REJECT, NO, None),
    ("integer overflow", "F_CLI", "DOCCLI", 70000, REJECT, NO, None),
    ("integer not whole", "F_CLI", "DOCCLI", 2.5, REJECT, NO, None),
    ("integer as text", "F_CLI", "TARCLI", "12", REJECT, NO, None),
    ("money", "F_CLI", "FINCLI", Decimal("12.34"), REJECT, V, None),
    ("money negative allowed", "F_CLI", "FINCLI", Decimal("-5"), REJECT, V, None),
    ("money too big", "F_CLI", "FINCLI", Decimal("1e15"), REJECT, NO, None),
    ("money NaN", "F_CLI", "FINCLI", Decimal("NaN"), REJECT, NO, None),
    ("money infinite", "F_CLI", "FINCLI", Decimal("Infinity"), REJECT, NO, None),
    ("money float NaN", "F_CLI", "FINCLI", float("nan"), REJECT, NO, None),
    ("date", "F_CLI", "FALCLI", datetime(2024, 1, 2, 3, 4, 5), REJECT, V, None),
    ("date year 1", "F_CLI", "FALCLI", datetime(1, 1, 1), REJECT, NO, None),
    ("date year 9999", "F_CLI", "FALCLI", datetime(9999, 12, 31), REJECT, V, None),
    ("stock with decimals", "F_STO", "ACTSTO", Decimal("2.5"), REJECT, V, None),
    ("stock 1e10", "F_STO", "ACTSTO", Decimal("1e10"), REJECT, V, None),
    ("stock beyond Moneda", "F_STO", "ACTSTO", Decimal("1e16"), REJECT, NO, None),
    ("negative tariff price", "F_LTA", "PRELTA", Decimal("-1"), REJECT, NO, None),
    ("tariff price", "F_LTA", "PRELTA", Decimal("9.99"), REJECT, V, None),
    ("negative quantity ordered", "F_LPC", "CANLPC", Decimal("-1"), REJECT, NO, None),
    ("NUL in a line text", "F_LPC", "DESLPC", "Aceite\x00 5L", REJECT, FIT, "Aceite 5L"),
    ("negative order total", "F_PCL", "TOTPCL", Decimal("-10"), REJECT, NO, None),
    ("51-char order reference", "F_PCL", "REFPCL", "R" * 51, REJECT, NO, None),
]


def _order(ref: str):
    lines = [
        {
            "ARTLPC": "ACE000048",
            "DESLPC": "Aceite de oliva 5L",
            "CANLPC": Decimal("2"),
            "PRELPC": Decimal("28.44"),
            "IVALPC": 1.0,
            "DT1LPC": 0.0,
        }
    ]
    header = {
        "REFPCL": ref,
        "FECPCL": datetime(2025, 7, 1),
        "CLIPCL": 1,
        "CNOPCL": "Ana Gil",
        "ALMPCL": "GEN",
        "ESTPCL": 0,
        **writer.order_totals(lines, VAT_RATES, SURCHARGE_RATES),
    }
    return header, lines


def _write_and_read(conn, table: str, column: str, value, n: int):
    """Write `value` to `column` through the writer; returns the value read back."""
    if table == "F_CLI":
        writer.update_customer_fields(conn, 5, {column: value}, touch=False)
        return conn.scalar(f"SELECT [{column}] AS [V] FROM [F_CLI] WHERE [CODCLI] = ?", [5])
    if table == "F_STO":
        row = conn.query_one("SELECT TOP 1 [ARTSTO], [ALMSTO] FROM [F_STO] ORDER BY [ARTSTO], [ALMSTO]")
        writer.update_stock(conn, row["ARTSTO"], row["ALMSTO"], actual=value)
        return conn.scalar(
            "SELECT [ACTSTO] AS [V] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", [row["ARTSTO"], row["ALMSTO"]]
        )
    if table == "F_LTA":
        row = conn.query_one("SELECT TOP 1 [TARLTA], [ARTLTA] FROM [F_LTA] ORDER BY [TARLTA], [ARTLTA]")
        writer.update_fields(conn, "F_LTA", row, {column: value})
        return conn.scalar(
            "SELECT [PRELTA] AS [V] FROM [F_LTA] WHERE [TARLTA] = ? AND [ARTLTA] = ?", [row["TARLTA"], row["ARTLTA"]]
        )
    header, lines = _order(f"HOSTILE-{n}")
    if table == "F_PCL":
        header[column] = value
    else:
        lines[0][column] = value
    series, number = writer.insert_order(conn, header, lines)
    if table == "F_PCL":
        return conn.scalar(
            f"SELECT [{column}] AS [V] FROM [F_PCL] WHERE [TIPPCL] = ? AND [CODPCL] = ?", [series, number]
        )
    return conn.scalar(f"SELECT [{column}] AS [V] FROM [F_LPC] WHERE [TIPLPC] = ? AND [CODLPC] = ?", [series, number])


@pytest.fixture
def policy():
    yield lambda p: set_policies({e: p for e in ("customer", "stock", "product", "order", "address")})
    set_policies({})


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_value_is_stored_fitted_or_refused(fs_conn, policy, caplog, case):
    name, table, column, value, rule, outcome, fitted = case
    policy(rule)
    n = CASES.index(case)
    caplog.set_level(logging.INFO)
    if outcome == NO:
        before = fs_conn.query(f"SELECT * FROM [{table}] ORDER BY 1")
        with pytest.raises(FactusolWidthError) as info:
            _write_and_read(fs_conn, table, column, value, n)
        assert info.value.column == column and column in str(info.value) and table in str(info.value)
        assert fs_conn.query(f"SELECT * FROM [{table}] ORDER BY 1") == before  # nothing written
        return
    stored = _write_and_read(fs_conn, table, column, value, n)
    said = [r.getMessage() for r in caplog.records if column in r.getMessage()]
    if isinstance(value, Decimal):  # the stand-in's driver hands Moneda back as text
        stored = Decimal(str(stored))
    if outcome == V:
        assert stored == value, f"{name}: stored {stored!r}"
        assert said == [], f"{name}: a verbatim value needs no log line: {said}"
    else:
        assert stored == fitted, f"{name}: stored {stored!r}, expected {fitted!r}"
        assert len(said) == 1 and ("cut" in said[0] or "removed" in said[0]), said


def test_the_table_has_at_least_fifty_inputs():
    assert len(CASES) >= 50
