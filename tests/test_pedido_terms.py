"""Due dates from F_FPA terms and the payment note, without a database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

from replicator.factusol.masters import PaymentTerms
from replicator.sync.pedido_terms import due_dates, due_line, due_text, paid_line, with_line


def terms(count=1, days=(0,), shares=(), proportional=False, by_months=False, month_end=False):
    days = tuple(days) + (0,) * (6 - len(days))
    shares = tuple(D(s) for s in shares) + (D(0),) * (6 - len(shares))
    return PaymentTerms("C30", "30/60", count, days, shares, proportional, by_months, month_end)


def test_cash_is_one_due_date_on_the_order_day():
    assert due_dates(terms(0), date(2026, 12, 7), D("121")) == [(date(2026, 12, 7), D("121.00"))]


def test_days_equal_parts_cents_on_the_last():
    dues = due_dates(terms(3, (30, 60, 90)), date(2026, 12, 7), D("100"))
    assert dues == [(date(2027, 1, 6), D("33.33")), (date(2027, 2, 5), D("33.33")), (date(2027, 3, 7), D("33.34"))]
    assert due_text(dues) == "06/01/2027;33,33;05/02/2027;33,33;07/03/2027;33,34"


def test_proportional_months_and_month_end():
    dues = due_dates(
        terms(2, (1, 2), ("25", "75"), proportional=True, by_months=True, month_end=True), date(2027, 1, 31), D("80")
    )
    assert dues == [(date(2027, 2, 28), D("20.00")), (date(2027, 3, 31), D("60.00"))]


def test_lines_replace_their_earlier_selves():
    notes = with_line("Llamar antes de entregar", due_line(terms(1, (30,)), date(2026, 12, 7), D("10")), "Vencimientos")
    notes = with_line(notes, paid_line(datetime(2026, 12, 7, 10, 32), D("121"), "ps_checkout", "8XK2"), "Pago aceptado")
    notes = with_line(notes, paid_line(datetime(2026, 12, 8, 9, 0), D("121"), "ps_checkout", "8XK2"), "Pago aceptado")
    assert notes.splitlines() == [
        "Llamar antes de entregar",
        "Vencimientos (C30): 06/01/2027;10,00",
        "Pago aceptado en la tienda: 08/12/2026 09:00, 121,00 (ps_checkout, transacción 8XK2)",
    ]
