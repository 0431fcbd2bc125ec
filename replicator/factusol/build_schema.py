"""Regenerate ``schema.json`` (the package's own FactuSOL fixture) from the research reference.

Only developers run this (``python -m replicator.factusol.build_schema [reference.json]``); the package and its tests
never need the reference at install or test time.  Each column keeps its real name, Access type and width; columns
whose type no source gives get a chosen type plus a ``note`` saying so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_REFERENCE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "factusol" / "factusol_key_tables_schema.json"
)
OUT = Path(__file__).with_name("schema.json")

# Access type names as they appear in the reference, mapped to the canonical names schema.py understands.
_TYPES = {
    "Texto corto": "Texto corto",
    "Texto largo": "Texto largo",
    "Entero": "Entero",
    "Entero largo": "Entero largo",
    "Moneda": "Moneda",
    "Simple (inferred)": "Simple",
    "Simple": "Simple",
    "Doble": "Doble",
    "Fecha/Hora": "Fecha/Hora",
    "Fecha/Hora (inferred)": "Fecha/Hora",
    "Objeto OLE": "Objeto OLE",
    "Byte": "Byte",
}


def _choose_unknown(name: str) -> tuple[str, str]:
    """Pick a type for a column no source types.  The 2026 dump omits only Fecha/Hora, Simple and OLE columns, so a
    column present in 2025 but absent from the dump is most likely one of those; names decide between them."""
    stem = name[:3]
    if stem.startswith("F") or stem in ("HAL", "HUM", "MFE"):
        return "Fecha/Hora", "type unknown in every source; chosen Fecha/Hora from the name (date/hour field)"
    if stem in ("UAL", "UUM"):
        return "Entero largo", "type unknown in every source; chosen Entero largo (user code), unverified"
    return (
        "Simple",
        "type unknown in every source (absent from the 2026 dump, so Fecha/Simple/OLE); chosen Simple, unverified",
    )


def _default(col: dict) -> str | None:
    raw = (col.get("default") or "").strip('"')
    if not raw:
        return None
    if raw.startswith("#"):
        return "1900-01-01 00:00:00"  # every Access date default seen is #1/1/1900#
    if raw == "''":
        return ""
    return raw


def build(reference: Path) -> dict:
    ref = json.loads(reference.read_text(encoding="utf-8"))
    tables: dict[str, dict] = {}
    for t in ref["tables"]:
        cols = []
        for c in t["columns"]:
            name = c["name"].split(" ")[0]  # "FUMALB (name not captured)" -> FUMALB
            note = ""
            if c["name"] != name:
                note = "name not captured by any source; FUMALB presumed"
            if c["access_type"] in _TYPES:
                access = _TYPES[c["access_type"]]
                if c["type_src"] == "inferred":
                    note = (note + "; " if note else "") + "type inferred by the reference"
            else:
                access, why = _choose_unknown(name)
                note = (note + "; " if note else "") + why
            entry: dict = {"name": name, "type": access}
            if access == "Texto corto":
                entry["size"] = int(c["size"])
            default = _default(c)
            if default is not None:
                entry["default"] = default
            if note:
                entry["note"] = note
            cols.append(entry)
        tables[t["table"]] = {"pk": t["pk"], "columns": cols}
    return {
        "about": "FactuSOL table layouts (names, Access types, Texto widths, PKs) compiled from the public reference "
        "factusol_key_tables_schema.json by build_schema.py.  'note' marks types no source gives, and the "
        "supplier-order tables F_PPR (2017 DDL only) and F_LPP (named by analogy with F_LPC, unverified).",
        "tables": tables,
    }


DEFAULT_DDL = DEFAULT_REFERENCE.with_name("rahulyhg_factusol-rest-api_db.ddl")
_DDL_TYPES = (
    ("VARCHAR", "Texto corto"),
    ("DECIMAL", "Moneda"),
    ("DATETIME", "Fecha/Hora"),
    ("LONGTEXT", "Texto largo"),
    ("INT", "Entero largo"),
)
DDL_NOTE = "F_PPR only in the 2017 DDL (rahulyhg db.ddl), not in the key-tables reference"
ANALOGY_NOTE = "no source lists F_LPP: column named by analogy with F_LPC (unverified)"


def supplier_orders(tables: dict, ddl: Path) -> None:
    """Supplier orders: F_PPR (header) as the 2017 DDL lists it, F_LPP (lines) by analogy with F_LPC.

    The key-tables reference has neither; the DDL gives F_PPR's columns (INT there may be Entero or Entero largo:
    Entero largo is taken) and no source gives F_LPP, whose columns are F_LPC's with the suffix LPP.  Every column
    carries a note saying so."""
    text = ddl.read_text(encoding="utf-8")
    body = text.split("CREATE TABLE F_PPR", 1)[1].split(")\n;", 1)[0]
    cols, pk = [], []
    for line in body.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith("PRIMARY KEY"):
            pk = [c.strip() for c in line[line.index("(") + 1 : line.rindex(")")].split(",")]
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[0].isupper() or not parts[0].endswith("PPR"):
            continue
        sql_type = parts[1].upper()
        access = next(a for prefix, a in _DDL_TYPES if sql_type.startswith(prefix))
        entry: dict = {"name": parts[0], "type": access, "note": DDL_NOTE}
        if access == "Texto corto":
            entry["size"] = int(sql_type[sql_type.index("(") + 1 : sql_type.index(")")])
        cols.append(entry)
    tables["F_PPR"] = {"pk": pk, "columns": cols}
    lpc = tables["F_LPC"]
    tables["F_LPP"] = {
        "pk": [c.replace("LPC", "LPP") for c in lpc["pk"]],
        "columns": [{**c, "name": c["name"].replace("LPC", "LPP"), "note": ANALOGY_NOTE} for c in lpc["columns"]],
    }


def main(argv: list[str]) -> None:
    reference = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    data = build(reference)
    supplier_orders(data["tables"], DEFAULT_DDL)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(data['tables'])} tables)")


if __name__ == "__main__":
    main(sys.argv)
