"""Check every value against the column it is about to be written to; fit it by rule with a log line, or refuse it.

Side-neutral: each side describes its columns as `ColumnFacts` (the shop from its live schema, FactuSOL from the
reference widths) and calls `fit_row` just before writing.  A value is either

- stored as it is,
- fitted by the entity's rule (`defaults: fit: truncate` cuts a long text, `control_chars: strip` removes control
  characters), always with one log line saying what changed, or
- refused with `ValueRejected` naming table, column, value and limit; the engine quarantines the key with it.

Nothing is cut, clamped or blanked silently: the shop's sessions run with an empty sql_mode, where MySQL would cut
a long text and clamp a big number without an error, so the check happens here, not in the server.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from .errors import MappingError

log = logging.getLogger(__name__)

# C0 controls but tab, LF and CR; DEL.  NUL cuts a value short in ODBC drivers and C APIs.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FIT_POLICIES = ("truncate", "reject")
CONTROL_POLICIES = ("strip", "reject")


@dataclass(frozen=True)
class ColumnFacts:
    """What a column can hold.  kind: text | int | decimal | float | date | other."""

    table: str
    column: str
    kind: str
    width: int | None = None  # characters, for text
    max_bytes: int | None = None  # UTF-8 bytes, for text types limited in bytes (MySQL TEXT: 65,535)
    utf16: bool = False  # width counted in UTF-16 units (Access: a character beyond U+FFFF takes two)
    low: Decimal | None = None  # inclusive range, for numbers
    high: Decimal | None = None
    scale: int | None = None  # decimal places kept
    required: bool = False  # must never be written empty (a login e-mail, a name)
    whole: bool = False  # a quantity that must be a whole number
    non_negative: bool = False  # a price, a line total

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class FitPolicy:
    fit: str = "reject"  # a text longer than its column: truncate (logged) | reject (quarantined)
    control_chars: str = "strip"  # control characters and NUL: strip (logged) | reject (quarantined)


DEFAULT_POLICY = FitPolicy()
_policies: dict[str, FitPolicy] = {}


def set_policies(policies: Mapping[str, FitPolicy]) -> None:
    """The rules in force give each entity its policy (called whenever rules are loaded)."""
    _policies.clear()
    _policies.update(policies)


def policy_for(entity: str | None) -> FitPolicy:
    return _policies.get(entity or "", DEFAULT_POLICY)


class ValueRejected(MappingError):
    """A value its column cannot hold; the engine quarantines the key with this reason."""


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(str(value))} characters)"


def _reject(facts: ColumnFacts, entity: str, key: Any, value: Any, why: str) -> ValueRejected:
    return ValueRejected(entity, key, facts.name, f"{_shown(value)} {why}", {"value": value, "column": facts.name})


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def fit_value(
    facts: ColumnFacts,
    value: Any,
    *,
    entity: str = "",
    key: Any = None,
    policy: FitPolicy | None = None,
    what: str = "",
) -> Any:
    """`value` as it may be written to the column (fitted by `policy` with a log line), or ValueRejected."""
    policy = policy or policy_for(entity)
    label = what or (f"{entity} {key}" if entity else facts.table)
    if value is None or (isinstance(value, str) and not value.strip()):
        if facts.required:
            raise _reject(
                facts, entity, key, value, "is empty: the field is required and is not overwritten with nothing"
            )
        return value
    if facts.kind == "text":  # a number where text belongs is the writer's type error, reported by the side
        return _fit_text(facts, value, entity, key, policy, label) if isinstance(value, str) else value
    if facts.kind in ("int", "decimal", "float"):
        return _fit_number(facts, value, entity, key)
    if facts.kind == "date" and isinstance(value, (date, datetime)) and not 1000 <= value.year <= 9999:
        raise _reject(facts, entity, key, value, "is outside the dates the column holds (years 1000-9999)")
    return value


def _length(text: str, utf16: bool) -> int:
    return len(text.encode("utf-16-le")) // 2 if utf16 else len(text)


def _cut(text: str, width: int, utf16: bool) -> str:
    """The longest start of `text` within `width`, never half a character."""
    if not utf16:
        return text[:width]
    out, used = [], 0
    for ch in text:
        units = 2 if ord(ch) > 0xFFFF else 1
        if used + units > width:
            break
        out.append(ch)
        used += units
    return "".join(out)


def _fit_text(facts: ColumnFacts, value: str, entity: str, key: Any, policy: FitPolicy, label: str) -> str:
    if CONTROL.search(value):
        if policy.control_chars == "reject":
            bad = CONTROL.search(value).group()
            raise _reject(
                facts, entity, key, value, f"holds control character U+{ord(bad):04X} (control_chars: reject)"
            )
        cleaned = CONTROL.sub("", value)
        log.warning(
            "%s: %s: %d control character(s) removed from %s (control_chars: strip)",
            label,
            facts.name,
            len(value) - len(cleaned),
            _shown(value),
        )
        value = cleaned
        if facts.required and not value.strip():
            raise _reject(
                facts, entity, key, value, "is empty once its control characters are removed: the field is required"
            )
    size = _length(value, facts.utf16)
    if facts.width is not None and size > facts.width:
        if policy.fit != "truncate":
            raise _reject(
                facts, entity, key, value, f"is {size} characters; {facts.name} holds {facts.width} (fit: reject)"
            )
        cut = _cut(value, facts.width, facts.utf16).rstrip()
        log.warning(
            "%s: %s holds %d characters: %d cut to %d: %s -> %r (fit: truncate)",
            label,
            facts.name,
            facts.width,
            size,
            _length(cut, facts.utf16),
            _shown(value),
            cut,
        )
        value = cut
    if facts.max_bytes is not None and len(value.encode("utf-8")) > facts.max_bytes:
        size = len(value.encode("utf-8"))
        if policy.fit != "truncate":
            raise _reject(
                facts, entity, key, value, f"is {size} bytes; {facts.name} holds {facts.max_bytes} (fit: reject)"
            )
        cut = value.encode("utf-8")[: facts.max_bytes].decode("utf-8", errors="ignore").rstrip()
        log.warning(
            "%s: %s holds %d bytes: %d cut to %d (fit: truncate)",
            label,
            facts.name,
            facts.max_bytes,
            size,
            len(cut.encode()),
        )
        value = cut
    return value


def _fit_number(facts: ColumnFacts, value: Any, entity: str, key: Any) -> Any:
    number = _number(value)
    if number is None or not number.is_finite():
        raise _reject(facts, entity, key, value, f"is not a number ({facts.name} holds numbers)")
    if facts.non_negative and number < 0:
        raise _reject(facts, entity, key, value, "is negative: a price or total below zero is not written")
    if (facts.kind == "int" or facts.whole) and number != number.to_integral_value():
        raise _reject(facts, entity, key, value, f"is not a whole number ({facts.name} holds whole numbers)")
    if facts.low is not None and number < facts.low:
        raise _reject(facts, entity, key, value, f"is below {facts.low}, the lowest {facts.name} holds")
    if facts.high is not None and number > facts.high:
        raise _reject(facts, entity, key, value, f"is above {facts.high}, the highest {facts.name} holds")
    return value


def fit_row(
    facts: Mapping[str, ColumnFacts],
    row: Mapping[str, Any],
    *,
    entity: str = "",
    key: Any = None,
    policy: FitPolicy | None = None,
    what: str = "",
) -> dict[str, Any]:
    """`row` (column -> value) with each value fitted to its column; columns without facts pass unchanged."""
    out = dict(row)
    for column, value in row.items():
        f = facts.get(column)
        if f is not None:
            out[column] = fit_value(f, value, entity=entity, key=key, policy=policy, what=what)
    return out


def check_order_lines(lines: list, total: Any, *, entity: str = "order", key: Any = None) -> None:
    """An order's lines as a pedido needs them: whole positive quantities, prices and line totals not below zero,
    a total not below zero (a discount is its own line, made from the shop's cart rules).  ValueRejected names the
    line and the field otherwise; nothing is rounded or flipped."""
    for n, ln in enumerate(lines, start=1):
        where = f"line {n} ({getattr(ln, 'reference', '') or getattr(ln, 'name', '')})"
        qty = _number(getattr(ln, "quantity", None))
        if qty is None or qty <= 0 or qty != qty.to_integral_value():
            raise ValueRejected(
                entity,
                key,
                f"{where}.quantity",
                f"quantity {getattr(ln, 'quantity', None)!r} is not a whole number above zero",
            )
        for name in ("unit_price_tax_excl", "unit_price_tax_incl", "total_tax_excl", "total_tax_incl"):
            value = _number(getattr(ln, name, 0))
            if value is None or value < 0:
                raise ValueRejected(
                    entity,
                    key,
                    f"{where}.{name}",
                    f"{name} {getattr(ln, name, None)!r} is negative: a pedido line is never below zero",
                )
    value = _number(total)
    if value is not None and value < 0:
        raise ValueRejected(entity, key, "total_tax_incl", f"the order total {total!r} is negative")
