"""Field transforms between canonical values and side columns: value maps, VAT, units, joins, fit to width.

`apply_transforms` turns canonical fields into the columns to write on one side; `read_side` turns a side row
(keyed "TABLE.COLUMN") back into canonical fields.  Anything that can't be mapped raises MappingError so the
engine can quarantine that row alone.
"""

from __future__ import annotations

import logging
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import MappingError
from .ruleset import EntityRules, FieldRule, SideMap, writes

log = logging.getLogger(__name__)

# Decimals each side stores: FactuSOL Moneda has 4, PrestaShop decimal(20,6) has 6.
SIDE_PLACES = {"factusol": 4, "prestashop": 6}
KEY_FIELDS = ("reference", "order_reference", "prestashop_id", "factusol_code", "email", "alias")


def _key_of(fields: dict) -> Any:
    for k in KEY_FIELDS:
        if fields.get(k) not in (None, ""):
            return fields[k]
    return None


def _dec(value: Any, entity: str, key: Any, name: str) -> Decimal:
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MappingError(entity, key, name, f"{value!r} is not a number") from None


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _vat_rate(er: EntityRules, sm: SideMap, fields: dict, key: Any, name: str) -> Decimal:
    if sm.vat_rate_field:
        rate = fields.get(sm.vat_rate_field)
        if rate is None:
            raise MappingError(er.name, key, name, f"VAT rate field {sm.vat_rate_field} has no value")
        return _dec(rate, er.name, key, name)
    selector = fields.get(sm.vat_selector_field)
    try:
        return er.vat_rates[int(selector)]
    except (KeyError, TypeError, ValueError):
        raise MappingError(er.name, key, name, f"no VAT rate configured for selector {selector!r}") from None


def _rate_to_selector(er: EntityRules, rate: Any, key: Any, name: str) -> int:
    rate = _dec(rate, er.name, key, name)
    for selector, r in sorted(er.vat_rates.items()):
        if r == rate:
            return selector
    raise MappingError(
        er.name,
        key,
        name,
        f"no FactuSOL VAT type has rate {rate}% (vat_rates: "
        f"{', '.join(f'{k}={v}' for k, v in sorted(er.vat_rates.items()))})",
    )


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
    return re.compile(rx + "$")


def fit_width(er: EntityRules, fr: FieldRule, value: str, key: Any) -> str:
    """Trim and fit a text to its FactuSOL width under the field's policy (truncate | reject)."""
    sm = fr.factusol
    width = er.ruleset.width(fr) if er.ruleset else sm.width
    if width is None or len(value) <= width:
        return value
    if sm.fit == "truncate":
        cut = value[:width].rstrip() if sm.trim else value[:width]
        log.warning(
            "%s %s: field %s: %d characters cut to %d for %s: %r -> %r (fit: truncate)",
            er.name,
            key,
            fr.name,
            len(value),
            len(cut),
            sm.column,
            value,
            cut,
        )
        return cut
    raise MappingError(
        er.name,
        key,
        fr.name,
        f"{len(value)} characters do not fit {sm.column} (width {width}, fit: reject)",
        {"width": width, "value": value},
    )


def to_side_value(er: EntityRules, fr: FieldRule, side: str, fields: dict, key: Any = None) -> Any:
    """One canonical field value -> the value stored on `side` (before splitting a join)."""
    sm = fr.side(side)
    value = fields.get(fr.name)
    key = key if key is not None else _key_of(fields)
    if sm.map:
        try:
            value = er.value_map(sm.map).to_side(value, side)
        except KeyError:
            raise MappingError(
                er.name, key, fr.name, f"value {value!r} is missing from value map {sm.map} ({side})"
            ) from None
    if sm.as_vat_selector:
        value = _rate_to_selector(er, value, key, fr.name)
    if value is not None and (sm.vat_included or sm.multiply is not None or sm.round is not None):
        value = _dec(value, er.name, key, fr.name)
        if sm.vat_included:
            value = value * (1 + _vat_rate(er, sm, fields, key, fr.name) / 100)
        if sm.multiply is not None:
            value = value * sm.multiply
        value = _quantize(value, sm.round if sm.round is not None else SIDE_PLACES[side])
    if sm.template:
        value = sm.template.format(**{k: ("" if v is None else v) for k, v in fields.items()})
    if isinstance(value, str):
        if sm.trim:
            value = value.strip()
        if side == "factusol" and fr.factusol.fit and not sm.join:
            value = fit_width(er, fr, value, key)
    return value


def _split(sm: SideMap, value: Any) -> list[Any]:
    text = "" if value is None else str(value)
    n = len(sm.columns)
    if sm.split == "last_space":
        parts = text.rsplit(sm.separator, n - 1)
    else:
        parts = text.split(sm.separator, n - 1)
    return parts + [""] * (n - len(parts))


def apply_transforms(
    entity: EntityRules,
    fields: dict,
    towards: str,
    key: Any = None,
    as_columns: bool = True,
    respect_direction: bool = True,
) -> dict:
    """Canonical fields -> what to write on `towards` ('factusol' | 'prestashop').

    Keys of the result are side columns ("F_CLI.NOFCLI") unless as_columns=False (canonical names).  Fields whose
    direction forbids writing that side are left out, and None ("no opinion") is never written.
    """
    if towards not in ("factusol", "prestashop"):
        raise ValueError(f"towards must be 'factusol' or 'prestashop', not {towards!r}")
    out: dict = {}
    for name, fr in entity.fields.items():
        sm = fr.side(towards)
        if sm is None or name not in fields or fields[name] is None:
            continue
        if respect_direction and not writes(fr.direction, towards):
            continue
        value = to_side_value(entity, fr, towards, fields, key)
        if not as_columns:
            out[name] = value
        elif sm.join:
            out.update(zip(sm.columns, _split(sm, value)))
        else:
            out[sm.column] = value
    return out


def from_side_value(er: EntityRules, fr: FieldRule, side: str, row: dict, canonical: dict, key: Any = None) -> Any:
    """A side row -> the canonical value of one field (inverse of to_side_value)."""
    sm = fr.side(side)
    if sm.join:
        parts = [row.get(c) for c in sm.columns]
        value = sm.separator.join(str(p).strip() for p in parts if p not in (None, ""))
    else:
        value = row.get(sm.column)
    if isinstance(value, str) and sm.trim:
        value = value.strip()
    if sm.template and isinstance(value, str):
        m = _template_regex(sm.template).match(value)
        if m and fr.name in m.groupdict():
            value = m.group(fr.name)
    if value is not None and (sm.vat_included or sm.multiply is not None):
        value = _dec(value, er.name, key, fr.name)
        if sm.multiply is not None:
            value = value / sm.multiply
        if sm.vat_included:
            value = value / (1 + _vat_rate(er, sm, {**canonical, **row}, key, fr.name) / 100)
        value = _quantize(value, 6)
    if sm.as_vat_selector and value is not None:
        try:
            value = er.vat_rates[int(value)]
        except (KeyError, TypeError, ValueError):
            raise MappingError(er.name, key, fr.name, f"no VAT rate configured for selector {value!r}") from None
    if sm.map:
        try:
            value = er.value_map(sm.map).from_side(value, side)
        except KeyError:
            raise MappingError(
                er.name, key, fr.name, f"{side} value {value!r} is missing from value map {sm.map}"
            ) from None
    return value


def read_side(entity: EntityRules, row: dict, side: str, key: Any = None) -> dict:
    """A side row keyed "TABLE.COLUMN" -> canonical fields (only fields whose columns are in the row).

    Fields whose VAT depends on another canonical field are read after it.
    """
    out: dict = {}
    later = []
    for name, fr in entity.fields.items():
        sm = fr.side(side)
        if sm is None or not all(c in row for c in sm.columns):
            continue
        if sm.vat_included and sm.vat_selector_field:
            later.append(fr)
            continue
        out[name] = from_side_value(entity, fr, side, row, out, key)
    for fr in later:
        out[fr.name] = from_side_value(entity, fr, side, row, out, key)
    return out
