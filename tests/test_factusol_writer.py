"""Writer primitives on the stand-in: numbering within ranges/series, retry on collision, widths, stock."""

from datetime import datetime
from decimal import Decimal

import pytest

from replicator.factusol import reader, writer
from replicator.factusol.connection import STATEMENT_HOOKS, STATEMENT_LOG, last_statement_seq
from replicator.factusol.schema import FactusolWidthError
from replicator.factusol.seeddata import SURCHARGE_RATES, VAT_RATES, make_nif
from replicator.factusol.testing import *  # noqa: F401,F403

NEW_CUSTOMER = {"NOFCLI": "Lucía Peña Ibáñez", "NOCCLI": "Lucía Peña Ibáñez", "NIFCLI": make_nif(44556677),
                "DOMCLI": "Calle Mayor, 3", "POBCLI": "Logroño", "CPOCLI": "26001", "PROCLI": "La Rioja",
                "PAICLI": "ESPAÑA", "EMACLI": "lucia@example.es", "FPACLI": "TAR", "TARCLI": 1}


def _sent_since(seq, prefix):
    return [r.sql for r in STATEMENT_LOG if r.seq > seq and r.sent and r.sql.startswith(prefix)]


def test_insert_customer_takes_next_code_in_range(fs_conn):
    assert writer.insert_customer(fs_conn, NEW_CUSTOMER) == 201
    assert writer.insert_customer(fs_conn, NEW_CUSTOMER, code_range=(50000, 59999)) == 50000
    assert writer.insert_customer(fs_conn, NEW_CUSTOMER, code_range=(50000, 59999)) == 50001
    [c] = reader.read_customers(fs_conn, codes=[50001])
    assert (c.postcode, c.city, c.nif) == ("26001", "Logroño", NEW_CUSTOMER["NIFCLI"]) and c.updated_at


def test_insert_customer_range_full(fs_conn):
    writer.insert_customer(fs_conn, NEW_CUSTOMER, code_range=(70000, 70000))
    with pytest.raises(writer.FactusolRangeFullError):
        writer.insert_customer(fs_conn, NEW_CUSTOMER, code_range=(70000, 70000))


def test_insert_customer_retries_on_collision(fs_conn):
    """A concurrent writer takes the number between our MAX read and our INSERT: we must retry, not fail."""
    state = {"done": False}

    def steal(rec):
        if not state["done"] and rec.sql.startswith("INSERT INTO [F_CLI]"):
            state["done"] = True
            fs_conn.execute("INSERT INTO [F_CLI] ([CODCLI], [NOFCLI]) VALUES (?, ?)", [90000, "Otro proceso"])

    STATEMENT_HOOKS.append(steal)
    seq = last_statement_seq()
    try:
        code = writer.insert_customer(fs_conn, NEW_CUSTOMER, code_range=(90000, 90999))
    finally:
        STATEMENT_HOOKS.remove(steal)
    assert len(_sent_since(seq, "INSERT INTO [F_CLI] ([CODCLI], [NOFCLI], [NOCCLI]")) == 2  # first attempt + retry
    assert code == 90000  # the stolen row was in our rolled-back transaction, so the number is free again
    assert fs_conn.scalar("SELECT [NOFCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [90000]) == NEW_CUSTOMER["NOFCLI"]


def test_width_is_validated_before_writing(fs_conn):
    seq = last_statement_seq()
    with pytest.raises(FactusolWidthError) as err:
        writer.insert_customer(fs_conn, {**NEW_CUSTOMER, "CPOCLI": "26001-LOGRONO"})
    assert (err.value.table, err.value.column) == ("F_CLI", "CPOCLI") and "Texto corto(10)" in str(err.value)
    assert _sent_since(seq, "") == []  # nothing reached the database
    with pytest.raises(FactusolWidthError, match="F_CLI key=.*NOFCLI"):
        writer.update_customer_fields(fs_conn, 5, {"NOFCLI": "x" * 101})
    with pytest.raises(FactusolWidthError, match="DOCCLI"):
        writer.update_customer_fields(fs_conn, 5, {"DOCCLI": 70000})
    with pytest.raises(FactusolWidthError, match="no such column"):
        writer.update_customer_fields(fs_conn, 5, {"NOPE": 1})


def test_update_customer_fields(fs_conn):
    assert writer.update_customer_fields(fs_conn, 5, {"EMACLI": "nuevo@example.es", "TELCLI": "941000000"}) == 1
    [c] = reader.read_customers(fs_conn, codes=[5])
    assert c.email == "nuevo@example.es" and c.phone == "941000000"
    assert c.updated_at.date() == datetime.now().date()  # FUMCLI stamped
    assert writer.update_customer_fields(fs_conn, 999999, {"EMACLI": "x@y.es"}) == 0


def _order(ref):
    lines = [
        {"ARTLPC": "ACE000048", "DESLPC": "Aceite de oliva 5L", "CANLPC": Decimal("2"), "PRELPC": Decimal("28.44"),
         "IVALPC": 1.0, "DT1LPC": 0.0},
        {"ARTLPC": "", "DESLPC": "Portes", "CANLPC": Decimal("1"), "PRELPC": Decimal("4.95"), "IVALPC": 0.0},
    ]
    totals = writer.order_totals(lines, VAT_RATES, SURCHARGE_RATES)
    header = {"REFPCL": ref, "FECPCL": datetime(2025, 7, 1), "HORPCL": datetime(1900, 1, 1, 10, 30), "CLIPCL": 1,
              "CNOPCL": "Ana Gil", "CDOPCL": "Calle Real, 5", "CPOPCL": "Sevilla", "CCPPCL": "41001",
              "CPRPCL": "Sevilla", "ALMPCL": "GEN", "FOPPCL": "PAY", "ESTPCL": 0, "USUPCL": 1, "USMPCL": 1, **totals}
    return header, lines


def test_insert_order_numbering_and_lines(fs_conn):
    before = fs_conn.scalar("SELECT MAX([CODPCL]) AS [M] FROM [F_PCL] WHERE [TIPPCL] = ?", ["1"])
    header, lines = _order("PS-1001")
    assert writer.insert_order(fs_conn, header, lines) == ("1", before + 1)
    assert writer.insert_order(fs_conn, {**_order("PS-1002")[0], "TIPPCL": "5"}, lines) == ("5", 1)
    found = writer.find_order_by_ref(fs_conn, "PS-1001")
    assert found["CODPCL"] == before + 1 and found["CCPPCL"] == "41001" and found["TOTPCL"] == header["TOTPCL"].quantize(Decimal("0.0001"))
    assert writer.find_order_by_ref(fs_conn, "nope") is None
    [o] = reader.read_orders(fs_conn, references=["PS-1001"])
    assert [ln.quantity for ln in o.lines] == [Decimal("2.0000"), Decimal("1.0000")]
    assert o.placed_at == datetime(2025, 7, 1, 10, 30) and o.billing.city == "Sevilla"
    pen = fs_conn.query("SELECT [CANLPC], [PENLPC] FROM [F_LPC] WHERE [TIPLPC] = ? AND [CODLPC] = ?", ["1", before + 1])
    assert all(r["CANLPC"] == r["PENLPC"] for r in pen)  # PEN = CAN
    # totals: slot 1 = 21 % (portes 4.95), slot 2 = 10 % (2 x 28.44)
    assert header["NET1PCL"] == Decimal("4.95") and header["NET2PCL"] == Decimal("56.88")
    assert header["TOTPCL"] == Decimal("4.95") + Decimal("1.04") + Decimal("56.88") + Decimal("5.69")


def test_insert_order_is_one_transaction(fs_conn):
    header, lines = _order("PS-2001")
    bad_lines = [lines[0], {**lines[1], "CE1LPC": "TOO-LONG"}]
    with pytest.raises(FactusolWidthError):
        writer.insert_order(fs_conn, header, bad_lines)
    assert writer.find_order_by_ref(fs_conn, "PS-2001") is None
    # a failure inside the transaction (duplicate line position) leaves no header behind
    dup = [{**lines[0], "POSLPC": 1}, {**lines[1], "POSLPC": 1}]
    with pytest.raises(Exception):
        writer.insert_order(fs_conn, header, dup, retries=1)
    assert writer.find_order_by_ref(fs_conn, "PS-2001") is None


def test_insert_order_retries_on_number_collision(fs_conn):
    state = {"n": 0}

    def steal(rec):
        if rec.sql.startswith("INSERT INTO [F_PCL]") and state["n"] == 0:
            state["n"] += 1
            top = fs_conn.scalar("SELECT MAX([CODPCL]) AS [M] FROM [F_PCL] WHERE [TIPPCL] = ?", ["1"])
            fs_conn.execute("INSERT INTO [F_PCL] ([TIPPCL], [CODPCL], [REFPCL]) VALUES (?, ?, ?)", ["1", top + 1, "X"])

    STATEMENT_HOOKS.append(steal)
    seq = last_statement_seq()
    try:
        series, number = writer.insert_order(fs_conn, *_order("PS-3001"))
    finally:
        STATEMENT_HOOKS.remove(steal)
    ours = [q for q in _sent_since(seq, "INSERT INTO [F_PCL]") if "[CNOPCL]" in q]
    assert len(ours) == 2  # first attempt collided, the retry took the next number
    assert writer.find_order_by_ref(fs_conn, "PS-3001")["CODPCL"] == number


def test_update_stock(fs_conn):
    writer.update_stock(fs_conn, "ACE000048", "AL2", actual=Decimal("7"), available=Decimal("5"))
    row = fs_conn.query_one("SELECT [ACTSTO], [DISSTO] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", ["ACE000048", "AL2"])
    assert row == {"ACTSTO": Decimal("7.0000"), "DISSTO": Decimal("5.0000")}
    writer.update_stock(fs_conn, "ACE000048", "AL3", available=Decimal("1"))  # missing row is created
    assert fs_conn.scalar("SELECT [DISSTO] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", ["ACE000048", "AL3"]) == 1
    art, size, color = fs_conn.query_one("SELECT TOP 1 [ARTARC], [CE1ARC], [CE2ARC] FROM [F_ARC] ORDER BY [ARTARC]").values()
    writer.update_stock(fs_conn, art, "GEN", actual=Decimal("3"), available=Decimal("2"), size=size, color=color)
    [s] = [s for s in reader.read_stock(fs_conn, ["GEN"], "physical", references=[art]) if (s.size, s.color) == (size, color)]
    assert (s.physical, s.available) == (Decimal("3"), Decimal("2"))
