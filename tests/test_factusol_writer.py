"""Writer primitives on the stand-in: numbering within ranges/series, retry on collision, widths, stock."""

from datetime import datetime
from decimal import Decimal

import pytest

from replicator.factusol import reader, writer
from replicator.factusol.connection import STATEMENT_HOOKS, STATEMENT_LOG, last_statement_seq
from replicator.factusol.schema import FactusolWidthError
from replicator.sandbox.factusol_seed import SURCHARGE_RATES, VAT_RATES, make_nif
from replicator.sandbox.access_sql import *  # noqa: F401,F403

NEW_CUSTOMER = {
    "NOFCLI": "Lucía Peña Ibáñez",
    "NOCCLI": "Lucía Peña Ibáñez",
    "NIFCLI": make_nif(44556677),
    "DOMCLI": "Calle Mayor, 3",
    "POBCLI": "Logroño",
    "CPOCLI": "26001",
    "PROCLI": "La Rioja",
    "PAICLI": "ESPAÑA",
    "EMACLI": "lucia@example.es",
    "FPACLI": "TAR",
    "TARCLI": 1,
}


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
    assert (err.value.table, err.value.column) == ("F_CLI", "CPOCLI") and "holds 10" in str(err.value)
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
        {
            "ARTLPC": "ACE000048",
            "DESLPC": "Aceite de oliva 5L",
            "CANLPC": Decimal("2"),
            "PRELPC": Decimal("28.44"),
            "IVALPC": 1.0,
            "DT1LPC": 0.0,
        },
        {"ARTLPC": "", "DESLPC": "Portes", "CANLPC": Decimal("1"), "PRELPC": Decimal("4.95"), "IVALPC": 0.0},
    ]
    totals = writer.order_totals(lines, VAT_RATES, SURCHARGE_RATES)
    header = {
        "REFPCL": ref,
        "FECPCL": datetime(2025, 7, 1),
        "HORPCL": datetime(1900, 1, 1, 10, 30),
        "CLIPCL": 1,
        "CNOPCL": "Ana Gil",
        "CDOPCL": "Calle Real, 5",
        "CPOPCL": "Sevilla",
        "CCPPCL": "41001",
        "CPRPCL": "Sevilla",
        "ALMPCL": "GEN",
        "FOPPCL": "PAY",
        "ESTPCL": 0,
        "USUPCL": 1,
        "USMPCL": 1,
        **totals,
    }
    return header, lines


def test_insert_order_numbering_and_lines(fs_conn):
    before = fs_conn.scalar("SELECT MAX([CODPCL]) AS [M] FROM [F_PCL] WHERE [TIPPCL] = ?", ["1"])
    header, lines = _order("PS-1001")
    assert writer.insert_order(fs_conn, header, lines) == ("1", before + 1)
    assert writer.insert_order(fs_conn, {**_order("PS-1002")[0], "TIPPCL": "5"}, lines) == ("5", 1)
    found = writer.find_order_by_ref(fs_conn, "PS-1001")
    assert (
        found["CODPCL"] == before + 1
        and found["CCPPCL"] == "41001"
        and found["TOTPCL"] == header["TOTPCL"].quantize(Decimal("0.0001"))
    )
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
    row = fs_conn.query_one(
        "SELECT [ACTSTO], [DISSTO] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", ["ACE000048", "AL2"]
    )
    assert row == {"ACTSTO": Decimal("7.0000"), "DISSTO": Decimal("5.0000")}
    writer.update_stock(fs_conn, "ACE000048", "AL3", available=Decimal("1"))  # missing row is created
    assert fs_conn.scalar("SELECT [DISSTO] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", ["ACE000048", "AL3"]) == 1
    art, size, color = fs_conn.query_one(
        "SELECT TOP 1 [ARTARC], [CE1ARC], [CE2ARC] FROM [F_ARC] ORDER BY [ARTARC]"
    ).values()
    writer.update_stock(fs_conn, art, "GEN", actual=Decimal("3"), available=Decimal("2"), size=size, color=color)
    [s] = [
        s
        for s in reader.read_stock(fs_conn, ["GEN"], "physical", references=[art])
        if (s.size, s.color) == (size, color)
    ]
    assert (s.physical, s.available) == (Decimal("3"), Decimal("2"))


# ------------------------------------------------------------------------------------------------ bulk customers


def test_read_rows_by_key_reads_consecutive_codes_by_range_and_nothing_else(fs_conn):
    """A bulk insert's consecutive codes are read back by one BETWEEN per run; keys outside a run (neighbours,
    gaps inside the span) never come back, and scattered keys still go by IN lists."""
    made = writer.insert_customers(
        fs_conn, [((60000, 60999), {**NEW_CUSTOMER, "NOFCLI": f"Bulk {i}"}, []) for i in range(25)]
    )
    assert [code for code, _ in made] == list(range(60000, 60025))
    wanted = [*range(60001, 60011), *range(60012, 60021), 5, 7, 60022]  # 60000, 60011, 60021, 60023.. exist too
    seq = last_statement_seq()
    rows = writer.read_rows_by_key(fs_conn, "F_CLI", "CODCLI", wanted)
    sent = _sent_since(seq, "SELECT")
    assert sorted(r["CODCLI"] for r in rows) == sorted(wanted)
    assert sorted(s for s in sent if "BETWEEN" in s) == ["SELECT * FROM [F_CLI] WHERE [CODCLI] BETWEEN ? AND ?"] * 2
    assert [s for s in sent if "BETWEEN" not in s] == ["SELECT * FROM [F_CLI] WHERE [CODCLI] IN (?, ?, ?)"]
    for r in rows:  # the same images a plain SELECT * reads
        assert r == fs_conn.query_one("SELECT * FROM [F_CLI] WHERE [CODCLI] = ?", [r["CODCLI"]])
    seq = last_statement_seq()
    assert sorted(r["CODCLI"] for r in writer.read_rows_by_key(fs_conn, "F_CLI", "CODCLI", [60001, 60002, 60003])) == [
        60001,
        60002,
        60003,
    ]
    assert _sent_since(seq, "SELECT") == ["SELECT * FROM [F_CLI] WHERE [CODCLI] IN (?, ?, ?)"]  # too short a run
    assert writer.read_rows_by_key(fs_conn, "F_CLI", "CODCLI", []) == []


def test_read_values_by_key_hash_like_the_echo_ledger_and_the_capture(fs_conn):
    """What the bulk creation records for its echoes (RowHasher over read_values_by_key) equals `row_hash` of the
    row image as `factusol_writes` and the capture read it, Moneda/Fecha columns included."""
    from replicator.capture.snapshot import RowHasher
    from replicator.keys import row_hash

    made = writer.insert_customers(
        fs_conn,
        [
            ((61000, 61999), {**NEW_CUSTOMER, "NOFCLI": f"Eco {i}"}, [{"DIROBR": f"Calle {i}", "CPOOBR": "26001"}])
            for i in range(12)
        ],
    )
    codes = [code for code, _ in made]
    names, rows = writer.read_values_by_key(fs_conn, "F_CLI", "CODCLI", codes)
    assert len(rows) == 12 and isinstance(rows[0][names.index("FUMCLI")], datetime)
    assert isinstance(rows[0][names.index("FINCLI")], Decimal)  # Moneda converted, not the driver's text
    hasher = RowHasher(names)
    for vals in rows:
        image = fs_conn.query_one("SELECT * FROM [F_CLI] WHERE [CODCLI] = ?", [vals[names.index("CODCLI")]])
        assert hasher(vals) == row_hash(image) == row_hash(dict(zip(names, vals)))
    names, rows = writer.read_values_by_key(fs_conn, "F_OBR", "CLIOBR", codes)
    assert sorted((v[names.index("CLIOBR")], v[names.index("CODOBR")]) for v in rows) == [(c, 1) for c in codes]


def test_insert_customers_numbers_addresses_after_leftover_f_obr_rows(fs_conn):
    """F_OBR rows left under a code whose F_CLI row is gone (e.g. deleted in FactuSOL) push the new addresses'
    CODOBR past them, whichever of the new codes they sit under; rows under other codes do not."""
    for cli, cod in [(62001, 1), (62001, 2), (62000, 7), (62003, 4), (62004, 9), (63000, 3)]:
        fs_conn.execute("INSERT INTO [F_OBR] ([CLIOBR], [CODOBR], [DIROBR]) VALUES (?, ?, ?)", [cli, cod, "Vieja"])
    items = [
        ((62000, 62999), {"NOFCLI": "Sin direcciones"}, []),
        ((62000, 62999), {"NOFCLI": "Con restos"}, [{"DIROBR": "Nueva 1"}]),
        ((63000, 63999), {"NOFCLI": "Otro rango"}, [{"DIROBR": "Nueva 2"}, {"DIROBR": "Nueva 3"}]),
        ((62000, 62999), {"NOFCLI": "Limpio"}, [{"DIROBR": "Nueva 4"}]),
        ((62000, 62999), {"NOFCLI": "Restos al final"}, [{"DIROBR": "Nueva 5"}]),
    ]
    assert writer.insert_customers(fs_conn, items) == [
        (62000, []),
        (62001, [3]),
        (63000, [4, 5]),
        (62002, [1]),
        (62003, [5]),
    ]
    got = fs_conn.query(
        "SELECT [CLIOBR], [CODOBR], [DIROBR] FROM [F_OBR] WHERE [CLIOBR] BETWEEN ? AND ? "
        "AND [DIROBR] <> ? ORDER BY [CLIOBR], [CODOBR]",
        [62000, 63999, "Vieja"],
    )
    assert [(r["CLIOBR"], r["CODOBR"], r["DIROBR"]) for r in got] == [
        (62001, 3, "Nueva 1"),
        (62002, 1, "Nueva 4"),
        (62003, 5, "Nueva 5"),
        (63000, 4, "Nueva 2"),
        (63000, 5, "Nueva 3"),
    ]
