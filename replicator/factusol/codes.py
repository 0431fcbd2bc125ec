"""The codes FactuSOL's master tables hold, for checking the codes rule files name against the data.

Warehouses F_ALM.CODALM, tariffs F_TAR.CODTAR, payment methods F_FPA.CODFPA, carriers F_TRN.CODTRN, families
F_FAM.CODFAM, agents F_AGE.CODAGE.  Text codes compare without case (Access does), numbers as numbers.
"""

from __future__ import annotations

from .connection import FactusolConnection

TABLES = {  # kind -> (table, code column, what it is called in messages)
    "warehouse": ("F_ALM", "CODALM", "warehouse"),
    "tariff": ("F_TAR", "CODTAR", "tariff"),
    "payment_method": ("F_FPA", "CODFPA", "payment method"),
    "carrier": ("F_TRN", "CODTRN", "carrier"),
    "family": ("F_FAM", "CODFAM", "family"),
    "agent": ("F_AGE", "CODAGE", "agent"),
}


def norm(value) -> str:
    """How a code compares: text without case or outer spaces; 2, 2.0 and '2' alike."""
    text = str(value).strip()
    try:
        number = float(text)
        return str(int(number)) if number.is_integer() else text.casefold()
    except ValueError:
        return text.casefold()


def existing_codes(conn: FactusolConnection, kinds=None) -> dict[str, set[str]]:
    """kind -> the codes its table holds, as text (a table the file lacks gives an empty set)."""
    present = {n.upper() for n in conn.table_names()}
    out: dict[str, set[str]] = {}
    for kind in kinds or TABLES:
        table, column, _ = TABLES[kind]
        out[kind] = (
            {str(r[column]).strip() for r in conn.query(f"SELECT [{column}] FROM [{table}]") if r[column] is not None}
            if table in present
            else set()
        )
    return out
