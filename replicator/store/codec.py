"""The store's JSON: `dumps`/`loads` for values and hashes, and the fast image encoders of the capture path.

Every JSON text the store writes comes from here; Decimal and dates are written as strings, bytes as hex."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Stable JSON for images and hashes (sorted keys; Decimal and dates as strings)."""
    return json.dumps(value, default=json_default, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def image_encoder(sort_keys: bool):
    """A JSON encoder for stored images: orjson where it can (for speed, see docs/performance.md), the standard
    encoder where orjson refuses (an integer beyond 64 bits, a dict key that is not text).  Both write compact UTF-8
    JSON that `loads` reads back to the same values; dates go through `json_default` in both, so they read the same
    too."""
    options = orjson.OPT_PASSTHROUGH_DATETIME | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    fallback = json.JSONEncoder(
        default=json_default, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":")
    ).encode
    fast, error = orjson.dumps, orjson.JSONEncodeError

    def encode(value: Any) -> str:
        try:
            return fast(value, json_default, options).decode()
        except error:
            return fallback(value)

    return encode


# Row snapshot images (sorted keys, as `dumps` writes them).
encode_snapshot_image = image_encoder(sort_keys=True)
# Change-log images keep the source's column order (nothing compares their text; hashes come from the values):
# skipping the key sort is a few per cent of the binlog capture.
encode_change_image = image_encoder(sort_keys=False)


def load_image(text: str | None) -> dict | str | None:
    """A stored snapshot image: JSON decoded; a compact image ("~...") handed back as text."""
    if text is None or text.startswith("~"):
        return text
    return json.loads(text)


def json_ready(value: Any) -> Any:
    """A value as it reads back from a JSON image (store.dumps writes Decimal and datetime as text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# Row keys: json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":")) with the encoder built once.
encode_key = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
encode_key_value = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
encode_key_str = json.encoder.encode_basestring  # what encode_key writes for a str (ensure_ascii=False)


_STR, _INT = {str}, {int}


def json_column(values) -> list[str]:
    """JSON text of every canonical value of one key column, as encode_key writes it inside the key."""
    types = set(map(type, values))
    if types == _STR:
        return list(map(encode_key_str, values))
    if types == _INT:
        return list(map(int.__repr__, values))
    return list(map(encode_key_value, values))
