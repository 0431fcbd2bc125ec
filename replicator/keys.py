"""Canonical keys and hashes, parsed and formatted in one place.

- entity keys: ``ps:<id>`` (a shop row), ``fs:<code>`` (a FactuSOL row not yet in the shop);
- document keys in the id map: ``<year>/<series>-<number>`` (FactuSOL numbers restart in each fiscal-year file);
- row keys: the sorted JSON of a row's canonical primary-key values; row hashes: of a whole canonical image.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

SHOP, FACTUSOL = "ps:", "fs:"


def shop_key(shop_id: int | str) -> str:
    """``ps:<id>`` of a shop row."""
    return f"{SHOP}{int(shop_id)}"


def is_shop_key(key: str) -> bool:
    return key.startswith(SHOP) and key[len(SHOP) :].isdigit()


def shop_id(key: str) -> int:
    """The id of a ``ps:<id>`` key; ValueError for any other key."""
    if not is_shop_key(key):
        raise ValueError(f"not a ps:<id> key: {key!r}")
    return int(key[len(SHOP) :])


def factusol_code_key(code: int | str) -> str:
    """``fs:<code>`` of a FactuSOL row the shop does not have yet."""
    return f"{FACTUSOL}{code}"


def is_factusol_key(key: str) -> bool:
    return key.startswith(FACTUSOL)


def factusol_code(key: str) -> str:
    """The code of an ``fs:<code>`` key."""
    return key[len(FACTUSOL) :]


def doc_key(series: str, number: int, year: str = "") -> str:
    """The id-map FactuSOL key of a document: "<year>/<series>-<number>" (numbers restart in each year file)."""
    return (f"{year}/" if year else "") + f"{str(series).strip()}-{int(number)}"


def split_doc_key(value: str) -> tuple[str, int]:
    """(series, number) of a document key, with or without its year."""
    series, _, number = value.rpartition("/")[2].partition("-")
    return series, int(number)


def doc_year(value: str) -> str:
    """The year of a document key ("" for a key written without one)."""
    return value.partition("/")[0] if "/" in value else ""


def factusol_row_key(pk: dict[str, Any]) -> str:
    """A FactuSOL row key written the way the watcher writes it (sorted JSON of canonical values)."""
    return json.dumps({k: canon(v) for k, v in pk.items()}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# What the apply layer records as `row_hash` in the applied ledger when it DELETES a row, so the watcher can
# recognise that delete as its own write.
DELETED_HASH = "deleted"


def canon(value: Any) -> Any:
    """A driver-independent form of one value (numbers: int when integral else float; dates: ISO text)."""
    t = type(value)
    if value is None or t is str or t is int:
        return value
    if t is bool:
        return int(value)
    if t is float:
        return int(value) if value.is_integer() else value
    if t is Decimal:
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if t is datetime:
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # images are naive local time on both sides
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if t is date:
        return value.isoformat()
    if t is time:
        return value.isoformat()
    if t in (bytes, bytearray, memoryview):
        return bytes(value).hex()
    if isinstance(value, (int, float, Decimal, str, datetime, date)):  # subclasses (e.g. numpy-free enums)
        return canon(_base(value))
    return str(value)


def _base(value: Any) -> Any:
    for t in (bool, int, float, Decimal, str, datetime, date):
        if isinstance(value, t):
            return t(value) if t not in (datetime, date) else value
    return value


def digest(names: tuple[str, ...], values: tuple) -> str:
    return hashlib.blake2b(repr((names, values)).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def row_hash(image: dict) -> str:
    """Stable hash of a row image (column name -> value); key order and driver value types don't matter."""
    names = tuple(sorted(image))
    return digest(names, tuple(canon(image[n]) for n in names))
