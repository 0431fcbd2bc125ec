"""Read FactuSOL families (F_FAM) and sections (F_SEC): the catalogue tree the shop's categories follow.

F_FAM(CODFAM, DESFAM, SECFAM -> F_SEC, ORDFAM) and F_SEC(CODSEC, DESSEC, ORDSEC) (FACTUSOL.md §3.4).  Both tables
are small (862 families and 10 sections in the largest file seen), so they are read whole or by code list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .connection import FactusolConnection

PARAM_CHUNK = 100


@dataclass(frozen=True)
class Family:
    code: str
    name: str
    section: str = ""  # SECFAM: "" when the family belongs to no section
    order: int = 0


@dataclass(frozen=True)
class Section:
    code: str
    name: str
    order: int = 0


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _order(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _select(conn: FactusolConnection, head: str, key: str, codes: Sequence[str] | None) -> list[dict]:
    if codes is None:
        return conn.query(f"{head} ORDER BY [{key}]")
    rows: list[dict] = []
    wanted = list(dict.fromkeys(c for c in codes if c))
    for i in range(0, len(wanted), PARAM_CHUNK):
        chunk = wanted[i : i + PARAM_CHUNK]
        rows.extend(conn.query(f"{head} WHERE [{key}] IN ({', '.join('?' for _ in chunk)}) ORDER BY [{key}]", chunk))
    return rows


def read_families(conn: FactusolConnection, codes: Sequence[str] | None = None) -> dict[str, Family]:
    """code -> Family for these codes (every family when None); unknown codes are simply absent."""
    rows = _select(conn, "SELECT [CODFAM], [DESFAM], [SECFAM], [ORDFAM] FROM [F_FAM]", "CODFAM", codes)
    return {
        _text(r["CODFAM"]): Family(_text(r["CODFAM"]), _text(r["DESFAM"]), _text(r["SECFAM"]), _order(r["ORDFAM"]))
        for r in rows
    }


def read_sections(conn: FactusolConnection, codes: Sequence[str] | None = None) -> dict[str, Section]:
    """code -> Section for these codes (every section when None)."""
    rows = _select(conn, "SELECT [CODSEC], [DESSEC], [ORDSEC] FROM [F_SEC]", "CODSEC", codes)
    return {_text(r["CODSEC"]): Section(_text(r["CODSEC"]), _text(r["DESSEC"]), _order(r["ORDSEC"])) for r in rows}
