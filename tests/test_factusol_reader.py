"""Reader output against the seeded stand-in, cross-checked with direct sqlite3 reads of the same file."""

import sqlite3
from datetime import datetime
from decimal import Decimal


from replicator.factusol import reader, reading
from replicator.sandbox.access_sql import *  # noqa: F401,F403


def _db(path):
    return sqlite3.connect(path)


def test_vat_rates(fs_conn):
    assert reader.read_vat_rates(fs_conn) == {0: Decimal("21"), 1: Decimal("10"), 2: Decimal("4"), 3: Decimal("0")}
    assert reader.read_surcharge_rates(fs_conn)[0] == Decimal("5.2")


def test_customers(fs_conn, sandbox_path):
    customers = reader.read_customers(fs_conn)
    assert len(customers) == 200
    cash = customers[0]
    assert cash.factusol_code == 1 and cash.is_guest and cash.fiscal_name == "CLIENTE CONTADO WEB"
    db = _db(sandbox_path)
    raw = dict(((r[0]), r[1:]) for r in db.execute("SELECT CODCLI, CPOCLI, POBCLI, NIFCLI, EMACLI FROM F_CLI"))
    for c in customers:
        assert (c.postcode, c.city, c.nif, c.email) == raw[c.factusol_code]  # CPOCLI is the postcode
        assert c.country_iso == "ES"
        assert (c.company != "") == (c.nif[:1].isalpha() and c.nif[:1] not in "XYZ")
    with_addr = [c for c in customers if c.addresses]
    n_obr = db.execute("SELECT COUNT(*) FROM F_OBR").fetchone()[0]
    assert sum(len(c.addresses) for c in with_addr) == n_obr
    assert all(a.postcode.isdigit() and not a.city.isdigit() for c in with_addr for a in c.addresses)


def test_customers_by_code_and_column_override(fs_conn):
    [c] = reader.read_customers(fs_conn, codes=[5], columns={"email": "NOCCLI"})
    assert c.factusol_code == 5 and c.email == c.commercial_name


def test_empty_date_is_none(fs_conn):
    fs_conn.execute("UPDATE [F_CLI] SET [FUMCLI] = ? WHERE [CODCLI] = ?", [datetime(1900, 1, 1), 3])
    [c] = reader.read_customers(fs_conn, codes=[3])
    assert c.updated_at is None


def test_products_prices_tax_excluded_for_both_tariffs(fs_conn, sandbox_path):
    p1 = {p.reference: p for p in reader.read_products(fs_conn, tariff=1)}
    p2 = {p.reference: p for p in reader.read_products(fs_conn, tariff=2, combinations=False)}
    assert len(p1) == len(p2) == 1000
    db = _db(sandbox_path)
    raw1 = dict(db.execute("SELECT ARTLTA, PRELTA FROM F_LTA WHERE TARLTA = 1"))
    for ref, p in p1.items():
        assert p.price_tax_excl == Decimal(str(raw1[ref])).quantize(Decimal("0.000001"))
        # tariff 2 includes VAT (IVATAR=1): divided back by 1 + rate of the article's selector
        assert abs(p2[ref].price_tax_excl - p.price_tax_excl) <= Decimal("0.005")
        assert p.vat_rate == {0: 21, 1: 10, 2: 4, 3: 0}[p.vat_selector]
        assert p.section and p.family and len(p.ean13) == 13
    variant = [p for p in p1.values() if p.combinations]
    n_arc = db.execute("SELECT COUNT(*) FROM F_ARC").fetchone()[0]
    assert variant and sum(len(p.combinations) for p in variant) == n_arc
    assert all(len(c.ean13) == 13 for p in variant for c in p.combinations)
    priced = [c for p in variant for c in p.combinations if c.price_impact is not None]
    assert priced and all(c.price_impact == Decimal("5.000000") for c in priced)


def test_products_subset(fs_conn):
    refs = [p.reference for p in reader.read_products(fs_conn, combinations=False)][:150]
    subset = reader.read_products(fs_conn, references=refs)
    assert [p.reference for p in subset] == sorted(refs)


def test_stock_formulas_and_warehouses(fs_conn, sandbox_path):
    db = _db(sandbox_path)
    variant = {r[0] for r in db.execute("SELECT DISTINCT ARTARC FROM F_ARC")}
    sto = {}
    for art, wh, act, dis in db.execute("SELECT ARTSTO, ALMSTO, ACTSTO, DISSTO FROM F_STO"):
        sto.setdefault(art, {})[wh] = (Decimal(str(act)), Decimal(str(dis)))
    gen = {s.key: s for s in reader.read_stock(fs_conn, ["GEN"], "physical")}
    both = {s.key: s for s in reader.read_stock(fs_conn, None, "available")}
    for art, per in sto.items():
        if art in variant:
            assert art not in gen  # variant articles are stocked in F_STC
            continue
        assert gen[art].quantity == per["GEN"][0]
        assert both[art].quantity == per["GEN"][1] + per["AL2"][1]
    stc = db.execute("SELECT ARTSTC, CE1STC, CE2STC, SUM(ACTSTC) FROM F_STC GROUP BY 1, 2, 3").fetchall()
    for art, size, color, act in stc:
        s = both[f"{art}/{size}/{color}"]
        assert s.physical == Decimal(str(act)) and s.size == size and s.color == color


def test_stock_nonneg_formula(fs_conn):
    fs_conn.execute(
        "UPDATE [F_STO] SET [DISSTO] = ? WHERE [ARTSTO] = ? AND [ALMSTO] = ?", [Decimal("-3"), "ACE000048", "GEN"]
    )
    [s] = [s for s in reader.read_stock(fs_conn, ["GEN"], "available_nonneg", references=["ACE000048"])]
    assert s.available == Decimal("-3") and s.quantity == 0


def test_orders(fs_conn, sandbox_path):
    orders = reader.read_orders(fs_conn)
    db = _db(sandbox_path)
    assert len(orders) == db.execute("SELECT COUNT(*) FROM F_PCL").fetchone()[0]
    for o in orders:
        cpo, ccp, tot = db.execute(
            "SELECT CPOPCL, CCPPCL, TOTPCL FROM F_PCL WHERE TIPPCL = ? AND CODPCL = ?",
            (o.factusol_series, o.factusol_number),
        ).fetchone()
        assert o.billing.city == cpo and o.billing.postcode == ccp  # CPO = población, CCP = postcode
        assert o.total_tax_incl == Decimal(str(tot)).quantize(Decimal("0.01"))
        assert o.lines and [ln.position for ln in o.lines] == list(range(1, len(o.lines) + 1))
        net = sum(ln.total_tax_excl for ln in o.lines)
        assert net == o.total_products_tax_excl
        with_vat = sum(ln.total_tax_incl for ln in o.lines) + o.shipping_tax_incl
        assert with_vat - Decimal("0.05") <= o.total_tax_incl  # equivalence surcharge can only add on top
        assert o.placed_at and o.placed_at.year == SANDBOX_YEAR and o.state in reader.ORDER_STATES.values()
    [one] = reader.read_orders(fs_conn, references=[orders[0].reference])
    assert one.factusol_number == orders[0].factusol_number
    assert reader.read_orders(fs_conn, since=datetime(SANDBOX_YEAR + 1, 1, 1)) == []
    assert reader.read_orders(fs_conn, series="9") == []


def test_many_keys_read_by_range_match_in_lists(fs_conn, monkeypatch):
    """A big key list is read as one BETWEEN range, filtered; the result is what IN (...) lists give."""
    codes = sorted(r["CODART"] for r in fs_conn.query("SELECT [CODART] FROM [F_ART]"))
    # every other article: dense enough for the range read, and it must leave the others out
    wanted = codes[::2] + ["NO-SUCH-ARTICLE"]
    from replicator.factusol.connection import STATEMENT_LOG, last_statement_seq

    since = last_statement_seq()
    by_range = {p.reference: p for p in reader.read_products(fs_conn, references=wanted)}
    statements = [r.sql for r in STATEMENT_LOG if r.seq > since]
    assert any("[CODART] BETWEEN ? AND ?" in sql for sql in statements)
    # only the key the range did not return is looked up again
    assert [sql.count("?") for sql in statements if "FROM [F_ART]" in sql and "[CODART] IN (" in sql] == [1]
    stock_by_range = reader.read_stock_detail(fs_conn, wanted)
    monkeypatch.setattr(reading, "RANGE_MIN_KEYS", 10**9)  # IN (...) lists only
    by_lists = {p.reference: p for p in reader.read_products(fs_conn, references=wanted)}
    assert set(by_range) == set(codes[::2]) and by_range == by_lists
    assert stock_by_range == reader.read_stock_detail(fs_conn, wanted)


def test_range_read_finds_keys_outside_python_order(fs_conn):
    """Keys the BETWEEN range does not return are read by IN (...).  The file compares text without case
    (Access; COLLATE NOCASE in the stand-in) but Python's order puts lower case after upper case: with a
    lower-case code the range's bounds come out reversed for the file, the range returns nothing, and every
    key must still be found."""
    codes = sorted(r["CODART"] for r in fs_conn.query("SELECT [CODART] FROM [F_ART]"))
    fs_conn.execute("UPDATE [F_ART] SET [CODART] = ? WHERE [CODART] = ?", ["a-low", codes[-1]])
    wanted = codes[:-1] + ["a-low"]
    low, high = min(wanted), max(wanted)
    assert (
        high == "a-low"
        and fs_conn.scalar("SELECT COUNT(*) AS [N] FROM [F_ART] WHERE [CODART] BETWEEN ? AND ?", [low, high]) == 0
    )
    got = {p.reference for p in reader.read_products(fs_conn, references=wanted, combinations=False)}
    assert got == set(wanted)


def test_keys_in_file_order_are_read_by_one_range_per_table(fs_conn):
    """Keys as the file sorts them (`FileOrder`, what the initial sync passes) bound their range in the file's own
    collation, so no key is looked up again by IN (...), not even one the file has no row for, and a lower-case
    code (sorted apart from upper case by Python, not by the file) is still found."""
    from replicator.factusol.connection import STATEMENT_LOG, last_statement_seq

    codes = sorted(r["CODART"] for r in fs_conn.query("SELECT [CODART] FROM [F_ART]"))
    fs_conn.execute("UPDATE [F_ART] SET [CODART] = ? WHERE [CODART] = ?", ["a-low", codes[-1]])
    in_file = reader.FileOrder(r["CODART"] for r in fs_conn.query("SELECT [CODART] FROM [F_ART] ORDER BY [CODART]"))
    assert isinstance(in_file[1:], reader.FileOrder) and isinstance(in_file.subset(set(codes)), reader.FileOrder)
    wanted = in_file[::2]
    since = last_statement_seq()
    by_range = {p.reference: p for p in reader.read_products(fs_conn, references=wanted)}
    stock_by_range = reader.read_stock_detail(fs_conn, wanted)
    statements = [r.sql for r in STATEMENT_LOG if r.seq > since]

    def table(sql):
        return sql.split(" FROM ", 1)[1].split()[0]

    ranged = {table(sql) for sql in statements if "BETWEEN ? AND ?" in sql and not sql.startswith("SELECT COUNT")}
    assert {"[F_ART]", "[F_LTA]", "[F_ARC]"} <= ranged
    assert not [sql for sql in statements if " IN (" in sql and table(sql) in ranged]
    assert set(by_range) == set(wanted) and ("a-low" in wanted) == ("a-low" in by_range)
    plain = list(wanted)  # the same keys without the promise: the IN (...) fallback looks for the missing ones
    assert {p.reference: p for p in reader.read_products(fs_conn, references=plain)} == by_range
    assert reader.read_stock_detail(fs_conn, plain) == stock_by_range
