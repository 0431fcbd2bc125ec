"""A record's human name for the screen: `Pierre Martin <pierre@example.es> · FactuSOL 431 · shop 4`.

Conflict and quarantine keys are the sync's keys (`ps:4`, `fs:431`, an article code `A100`); people know the
customer's name, the FactuSOL code and the shop id.  The name comes from the key's baseline (the last image both
sides agreed on) and the other side's id from the id map.  Read on the TUI's worker thread, never on the UI thread.
"""

from __future__ import annotations

from typing import Any

from replicator.store import Store

_NAME_FIELDS = (("firstname", "lastname"), ("fiscal_name",), ("commercial_name",), ("name",), ("reference",))


def _images(base: Any) -> list[dict]:
    if not isinstance(base, dict):
        return []
    nested = [v for v in base.values() if isinstance(v, dict)]
    return nested or [base]


def _name(images: list[dict]) -> str:
    for image in images:
        for fields in _NAME_FIELDS:
            text = " ".join(str(image.get(f) or "").strip() for f in fields).strip()
            if text:
                email = str(image.get("email") or "").strip()
                return f"{text} <{email}>" if email else text
    return ""


def record_label(store: Store, entity: str, key: str) -> str:
    """Human name, FactuSOL code and shop id of one entity key, as far as the store knows them."""
    side, _, ident = key.partition(":") if key[:3] in ("ps:", "fs:") else ("", "", key)
    fs_code, shop_id = (ident, None) if side in ("fs", "") else (None, ident)
    try:
        if shop_id is not None:
            link = store.map_id(entity, prestashop_id=shop_id)
            fs_code = link.factusol_key if link else None
        elif fs_code:
            link = store.map_id(entity, factusol_key=fs_code)
            shop_id = link.prestashop_id if link else None
        name = _name(_images(store.baseline(entity, key)))
    except Exception:  # noqa: BLE001 - a label is a help; a store hiccup leaves the key as it is
        return key
    parts = [name] if name else []
    parts.append(f"FactuSOL {fs_code}" if fs_code else "not in FactuSOL yet")
    parts.append(f"shop {shop_id}" if shop_id else "not in the shop yet")
    return " · ".join(parts)
