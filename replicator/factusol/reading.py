"""What the FactuSOL readers share: reads of many keys (`keyed_rows`, one range or short IN lists; `FileOrder`),
cleaning of text, numbers, dates and countries, and the VAT rates of F_CFG."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from .connection import FactusolConnection, to_decimal
from .schema import SURCHARGE_RATE_KEYS, VAT_RATE_KEYS

ZERO = Decimal("0")
PRICE_PLACES = Decimal("0.000001")  # PrestaShop keeps 6 decimals on prices
CENT = Decimal("0.01")

COUNTRY_ISO = {
    "ESPAÑA": "ES",
    "ESPANA": "ES",
    "SPAIN": "ES",
    "724": "ES",
    "ES": "ES",
    "": "ES",
    "PORTUGAL": "PT",
    "620": "PT",
    "FRANCIA": "FR",
    "FRANCE": "FR",
    "250": "FR",
    "ANDORRA": "AD",
    "020": "AD",
    "ALEMANIA": "DE",
    "ITALIA": "IT",
    "REINO UNIDO": "GB",
}
PARAM_CHUNK = 100  # keep IN (...) lists short for the Access driver


def column_map(defaults: Mapping[str, str], overrides: Mapping[str, str] | None) -> dict[str, str]:
    return {**defaults, **(overrides or {})}


def select_list(cols: Iterable[str]) -> str:
    return ", ".join(f"[{c}]" for c in dict.fromkeys(cols))


def param_chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), PARAM_CHUNK):
        yield values[i : i + PARAM_CHUNK]


RANGE_MIN_KEYS = 500  # from this many keys on, read the key range once instead of IN (...) lists
RANGE_MAX_SPREAD = 3  # ... unless the range holds more than this many rows per wanted key


class FileOrder(list):
    """Keys listed in the FactuSOL file's own sort order (as an ``ORDER BY`` on the file returned them).

    The first and the last of such a list, or of any slice or `subset` of it, bound all of its keys in the file's
    collation, so one ``BETWEEN`` of those two reads every row of those keys: a key the range did not return has
    no row, and `keyed_rows` does not look for it again one IN (...) list at a time.
    """

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return FileOrder(item) if isinstance(index, slice) else item

    def subset(self, keep) -> FileOrder:
        """The keys that are in ``keep``, still in file order."""
        return FileOrder(k for k in self if k in keep)


def in_file_order(keys: Sequence[Any], keep) -> list:
    """The keys that are in ``keep``: a `FileOrder` if ``keys`` is one, else in ``keep``'s own order."""
    return keys.subset(keep) if isinstance(keys, FileOrder) else list(keep)


def article_codes(conn: FactusolConnection) -> FileOrder:
    """Every F_ART code, in the file's own order."""
    return FileOrder(r["CODART"] for r in conn.query("SELECT [CODART] FROM [F_ART] ORDER BY [CODART]"))


def keyed_rows(
    conn: FactusolConnection,
    sql_head: str,
    key_col: str,
    keys: Sequence[Any] | None,
    order: str,
    params: Sequence[Any] = (),
) -> Iterable[dict[str, Any]]:
    """Rows of ``sql_head`` (a SELECT … FROM … [WHERE …]), optionally restricted to ``key_col IN keys``.

    Many keys (the initial sync's chunks of consecutive codes): one ``BETWEEN`` read of their range, filtered
    here, instead of one IN (...) query per hundred keys.  For a `FileOrder` the range is bounded by its first and
    last key.  Otherwise it is bounded by Python's order of the keys, which may differ from the file's collation
    (Access compares text without case), so any key the range read did not return is read again by IN (...): the
    range is then a shortcut, never the only way a row is found.
    """
    joiner = " AND " if " WHERE " in sql_head else " WHERE "
    if keys is None:
        yield from conn.iter_rows(f"{sql_head} ORDER BY {order}", list(params))
        return
    wanted = list(dict.fromkeys(keys))
    rest: Sequence[Any] = wanted
    select, source = sql_head.split(" FROM ", 1)
    if (
        len(wanted) >= RANGE_MIN_KEYS
        and f"[{key_col}]" in select
        and " JOIN " not in source.upper()
        and len({type(k) for k in wanted}) == 1
    ):
        file_order = isinstance(keys, FileOrder)
        low, high = (wanted[0], wanted[-1]) if file_order else (min(wanted), max(wanted))
        where = f"{joiner}[{key_col}] BETWEEN ? AND ?"
        count = conn.scalar(f"SELECT COUNT(*) AS [N] FROM {source}{where}", [*params, low, high])
        if count <= RANGE_MAX_SPREAD * len(wanted):
            keyset, found = set(wanted), set()
            for row in conn.iter_rows(f"{sql_head}{where} ORDER BY {order}", [*params, low, high]):
                if row[key_col] in keyset:
                    found.add(row[key_col])
                    yield row
            rest = [] if file_order else [k for k in wanted if k not in found]
    for chunk in param_chunks(rest):
        marks = ", ".join("?" for _ in chunk)
        yield from conn.query(f"{sql_head}{joiner}[{key_col}] IN ({marks}) ORDER BY {order}", [*params, *chunk])


def empty_date(value: datetime | None) -> datetime | None:
    """FactuSOL's empty date is 1900-01-01 (Access zero date 1899-12-30 too): both mean "no date"."""
    if value is None or value.year < 1900 or (value.year == 1900 and value.month == 1 and value.day == 1):
        return None
    return value


def clean_text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def dec_or_zero(v: Any) -> Decimal:
    d = to_decimal(v)
    return ZERO if d is None else d


def country_iso(name: str) -> str:
    return COUNTRY_ISO.get(clean_text(name).upper(), "")


def is_company_nif(nif: str) -> bool:
    return bool(nif) and nif[0].upper() in "ABCDEFGHJNPQRSUVW"


# --------------------------------------------------------------------------------------------------------------------
# VAT


def _cfg_numbers(conn: FactusolConnection, keys: Sequence[str]) -> dict[str, Decimal]:
    marks = ", ".join("?" for _ in keys)
    rows = conn.query(f"SELECT [CODCFG], [NUMCFG] FROM [F_CFG] WHERE [CODCFG] IN ({marks})", list(keys))
    return {r["CODCFG"]: dec_or_zero(r["NUMCFG"]) for r in rows}


def read_vat_rates(conn: FactusolConnection, keys: Sequence[str] = VAT_RATE_KEYS) -> dict[int, Decimal]:
    """VAT percentage per selector: 0 IVA1, 1 IVA2, 2 IVA3 (from F_CFG), 3 exento = 0.  Missing keys are absent."""
    found = _cfg_numbers(conn, keys)
    rates = {i: found[k] for i, k in enumerate(keys) if k in found}
    rates[3] = ZERO
    return rates


def read_surcharge_rates(conn: FactusolConnection, keys: Sequence[str] = SURCHARGE_RATE_KEYS) -> dict[int, Decimal]:
    """Equivalence-surcharge percentages per selector.  The F_CFG key names are unverified (see schema.py)."""
    found = _cfg_numbers(conn, keys)
    rates = {i: found[k] for i, k in enumerate(keys) if k in found}
    rates[3] = ZERO
    return rates
