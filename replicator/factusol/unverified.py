"""FactuSOL columns the replicator writes or reads with a meaning no public source confirms, in one place.

Each entry: table.column -> what the replicator assumes.  docs/orders.md lists them for users; settle them on a real
FactuSOL install (FACTUSOL.md §4.5) before relying on them.
"""

UNVERIFIED = {
    "F_PCL.PRIPCL": "the pedido's private notes (memo, '[E]CAMPO PARA ANOTACIONES PRIVADAS DEL DOCUMENTO'): the "
    "replicator writes the due dates and the shop's payment there, as F_PCL has no due-date or paid "
    "column; that FactuSOL shows the memo on the pedido is assumed",
    "F_FPA.MESFPA": "'forma de pago por días o por meses': 1 is read as months, 0 as days",
    "F_FPA.PROFPA": "1 is read as 'split the total by PRO1..6FPA'; otherwise equal parts",
    "F_FPA.AUDFPA": "1 is read as 'move each due date to the last day of its month'",
    "F_LPC.TOTLPC": "FactuSOL's line total is CAN x PRE x (1 - DT1/100) rounded to cents (the reference's "
    "reconstruction, §4.2); rounding lines keep every line so",
    "F_PCL.IPORnPCL": "shipping in the VAT slot of its rate (n = 1..4), not only slot 1 as public writers put it",
}

__all__ = ["UNVERIFIED"]
