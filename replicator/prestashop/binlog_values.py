"""Binlog row values made plain: bytes to text, zero dates to None, SET and TIME as text; only the columns whose
binlog type may need it are looked at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymysqlreplication.constants import FIELD_TYPE


def clean_value(value: Any) -> Any:
    """bytes -> text, zero dates -> None, SET -> "a,b", TIME -> "HH:MM:SS"; Decimal and datetime stay
    (store images handle them)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str) and value.startswith("0000-00-00"):
        return None
    if isinstance(value, set):
        return ",".join(sorted(value))
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        return f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return value


# Binlog column types whose decoded values may need `clean_value`: text can arrive as bytes (a binary column, or a
# character set Python lacks), SET as a set, TIME as a timedelta.  Numbers, dates (zero dates arrive as None),
# ENUM and BIT arrive ready.
_MAYBE_UNCLEAN = frozenset(
    {
        FIELD_TYPE.VARCHAR,
        FIELD_TYPE.STRING,
        FIELD_TYPE.VAR_STRING,
        FIELD_TYPE.BLOB,
        FIELD_TYPE.TINY_BLOB,
        FIELD_TYPE.MEDIUM_BLOB,
        FIELD_TYPE.LONG_BLOB,
        FIELD_TYPE.GEOMETRY,
        FIELD_TYPE.SET,
        FIELD_TYPE.TIME,
        FIELD_TYPE.TIME2,
    }
)


def unclean_columns(columns) -> tuple[str, ...]:
    """Names of the binlog columns (a RowsEvent's `.columns`) whose values `clean_row` must look at."""
    return tuple(c.name for c in columns if c.type in _MAYBE_UNCLEAN)


def clean_row(values: dict, unclean: tuple[str, ...]) -> dict:
    """`clean_value` of the values in the `unclean` columns that are not already text (in place; text, the usual
    case, is left as it is, whatever it reads)."""
    for name in unclean:
        value = values[name]
        if value is not None and type(value) is not str:
            values[name] = clean_value(value)
    return values


# ------------------------------------------------------------------------------------------------ reader
