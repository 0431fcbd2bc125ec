"""FactuSOL master tables the order and customer mapping look codes up in: payment methods (F_FPA, with their
due-date terms), tariffs (F_TAR), agents (F_AGE).  Read only; every statement is Access SQL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from replicator.factusol.connection import FactusolConnection

MASTERS = {"payment_method": ("F_FPA", "CODFPA"), "tariff": ("F_TAR", "CODTAR"), "agent": ("F_AGE", "CODAGE")}


def codes(conn: FactusolConnection, kind: str) -> set[str]:
    """The codes of one master table, as text (stripped)."""
    table, column = MASTERS[kind]
    return {str(r[column]).strip() for r in conn.query(f"SELECT [{column}] FROM [{table}]") if r[column] is not None}


@dataclass(frozen=True)
class PaymentTerms:
    """F_FPA: how a payment method's due dates fall (FACTUSOL.md §3.10 and Appendix A)."""

    code: str
    name: str
    count: int  # VENFPA: number of due dates
    days: tuple[int, ...]  # DIA1..6FPA (text in FactuSOL: days, or months when by_months)
    shares: tuple[Decimal, ...]  # PRO1..6FPA: proportion of the total per due date (used when proportional)
    proportional: bool  # PROFPA 1
    by_months: bool  # MESFPA: "por días o por meses" (1 read as months: unverified)
    month_end: bool  # AUDFPA: adjust to the last day of the month


def _int(value: Any) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def payment_terms(conn: FactusolConnection, code: str) -> PaymentTerms | None:
    rows = conn.query(
        "SELECT [CODFPA], [DESFPA], [VENFPA], [PROFPA], [DIA1FPA], [DIA2FPA], [DIA3FPA], [DIA4FPA],"
        " [DIA5FPA], [DIA6FPA], [PRO1FPA], [PRO2FPA], [PRO3FPA], [PRO4FPA], [PRO5FPA], [PRO6FPA],"
        " [MESFPA], [AUDFPA] FROM [F_FPA] WHERE [CODFPA] = ?",
        [code],
    )
    if not rows:
        return None
    r = rows[0]
    return PaymentTerms(
        code=str(r["CODFPA"]).strip(),
        name=str(r["DESFPA"] or "").strip(),
        count=_int(r["VENFPA"]),
        days=tuple(_int(r[f"DIA{n}FPA"]) for n in range(1, 7)),
        shares=tuple(Decimal(str(r[f"PRO{n}FPA"] or 0)) for n in range(1, 7)),
        proportional=bool(_int(r["PROFPA"])),
        by_months=bool(_int(r["MESFPA"])),
        month_end=bool(_int(r["AUDFPA"])),
    )


__all__ = ["MASTERS", "PaymentTerms", "codes", "payment_terms"]
