"""The pedido's payment: due dates from the payment method's terms (F_FPA) and the note of a payment the shop took.

Pure.  F_PCL has no due-date nor paid column (FACTUSOL.md Appendix A lists none; only invoices have VENFAC), so
both go into the pedido's private notes, PRIPCL (see replicator/factusol/unverified.py), one line each:

    Vencimientos (TAR): 06/01/2027;60,50;05/02/2027;60,50
    Pago aceptado en la tienda: 07/12/2026 10:32, 121,00 (ps_checkout, transacción 8XK2)

The due dates are written in VENFAC's own format (``dd/mm/yyyy;importe;...`` with a decimal comma), so whoever
reads an invoice's due dates reads these the same way.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from replicator.factusol.masters import PaymentTerms

CENT = Decimal("0.01")
DUE_LABEL = "Vencimientos"
PAID_LABEL = "Pago aceptado en la tienda"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(terms: PaymentTerms, placed: date, total: Decimal) -> list[tuple[date, Decimal]]:
    """(date, amount) of each due date: VENFPA of them (at least one), each DIAnFPA days (or months with MESFPA)
    after the order, moved to the month's last day with AUDFPA; the total split by PROnFPA when proportional, else
    in equal parts, the cents left over on the last."""
    count = min(max(int(terms.count or 0), 1), 6)
    total = Decimal(total).quantize(CENT, ROUND_HALF_UP)
    shares = terms.shares[:count]
    weight = sum(shares, Decimal(0))
    if not terms.proportional or weight <= 0:
        shares, weight = tuple(Decimal(1) for _ in range(count)), Decimal(count)
    out, left = [], total
    for n in range(count):
        offset = terms.days[n] if n < len(terms.days) else 0
        due = _add_months(placed, offset) if terms.by_months else date.fromordinal(placed.toordinal() + offset)
        if terms.month_end:
            due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
        amount = left if n == count - 1 else (total * shares[n] / weight).quantize(CENT, ROUND_HALF_UP)
        out.append((due, amount))
        left -= amount
    return out


def spanish_amount(amount: Decimal) -> str:
    return f"{Decimal(amount).quantize(CENT, ROUND_HALF_UP):.2f}".replace(".", ",")


def due_text(dues: Iterable[tuple[date, Decimal]]) -> str:
    """VENFAC's format: dd/mm/yyyy;importe;dd/mm/yyyy;importe (decimal comma)."""
    return ";".join(f"{d:%d/%m/%Y};{spanish_amount(a)}" for d, a in dues)


def due_line(terms: PaymentTerms, placed: date, total: Decimal) -> str:
    return f"{DUE_LABEL} ({terms.code}): {due_text(due_dates(terms, placed, total))}"


def paid_line(when: datetime, amount: Decimal, method: str = "", transaction: str = "") -> str:
    detail = ", ".join(p for p in (method, f"transacción {transaction}" if transaction else "") if p)
    return f"{PAID_LABEL}: {when:%d/%m/%Y %H:%M}, {spanish_amount(amount)}" + (f" ({detail})" if detail else "")


def with_line(notes: str | None, line: str, label: str) -> str:
    """The notes with `line` in place of any earlier line that starts with `label` (else added at the end)."""
    kept = [ln for ln in (notes or "").splitlines() if not ln.startswith(label)]
    return "\n".join([*kept, line]) if kept else line


__all__ = ["DUE_LABEL", "PAID_LABEL", "due_dates", "due_line", "due_text", "paid_line", "spanish_amount", "with_line"]
