"""FactuSOL values from raw driver values: Moneda as ``Decimal`` with 4 places, Fecha/Hora as ``datetime``,
Single/Double as ``float``, by the column's type in the FactuSOL schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import FactusolError
from .schema import DATE, DOUBLE, MONEY, SINGLE, column_index

FOUR_PLACES = Decimal("0.0001")


def to_decimal(value: Any) -> Decimal | None:
    """Moneda as Decimal with 4 places (the SQLite driver hands DECIMAL back as text, Access as Decimal)."""
    if value is None or value == "":
        return None if value is None else Decimal("0.0000")
    try:
        return Decimal(str(value)).quantize(FOUR_PLACES)
    except InvalidOperation as exc:
        raise FactusolError(f"not a Moneda value: {value!r}") from exc


def to_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).replace("T", " "))


def converter_for(name: str) -> Callable[[Any], Any] | None:
    """How a raw driver value of column `name` becomes its FactuSOL value (Moneda -> Decimal with 4 places,
    Fecha/Hora -> datetime, Single/Double -> float), or None when the driver value is used as it is."""
    col = column_index().get(name.upper())
    if col is None:
        return None
    if col.type == MONEY:
        return to_decimal
    if col.type == DATE:
        return to_datetime
    if col.type in (SINGLE, DOUBLE):
        return lambda v: None if v is None else float(v)
    return None
