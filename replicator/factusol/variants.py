"""The names of FactuSOL's tallas (F_CE1) and colores (F_CE2): what a shop's attribute values are matched with.

F_CE1(CODCE1 Texto 3, DESCE1 Texto 50) and F_CE2(CODCE2, DESCE2) (FACTUSOL.md §3.2).  Variant rows (F_ARC, F_STC,
F_LPC) carry the 3-letter codes; a shop shows names ("Azul marino", "Talla M").  Both tables are small (45 and 27
rows in the largest file seen): read whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .connection import FactusolConnection


@dataclass(frozen=True)
class VariantNames:
    sizes: dict[str, str] = field(default_factory=dict)  # CODCE1 -> DESCE1
    colours: dict[str, str] = field(default_factory=dict)  # CODCE2 -> DESCE2

    def size(self, code: str) -> str:
        """The talla's name, or its code when FactuSOL has no description for it."""
        return self.sizes.get(code) or code

    def colour(self, code: str) -> str:
        return self.colours.get(code) or code


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def read_variant_names(conn: FactusolConnection) -> VariantNames:
    sizes = {_text(r["CODCE1"]): _text(r["DESCE1"]) for r in conn.query("SELECT [CODCE1], [DESCE1] FROM [F_CE1]")}
    colours = {_text(r["CODCE2"]): _text(r["DESCE2"]) for r in conn.query("SELECT [CODCE2], [DESCE2] FROM [F_CE2]")}
    return VariantNames(sizes, colours)
