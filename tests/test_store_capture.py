"""The fast capture paths against the real store, pyodbc and the SQLite3-ODBC stand-in.

`FactusolConnection.iter_tuples` (raw rows, still Access-checked and recorded) and the scanner's fingerprint
cache: a warm scanner skips unchanged rows by a fingerprint of the raw driver row, so it must see every change a
cold scanner sees, including ones `hash()` of the raw tuple would miss (-1 -> -2).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import pyodbc
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from replicator.factusol import scanner as factusol_capture
from replicator.capture import snapshot
from replicator.factusol.scanner import FactusolScanner, ResultReader
from replicator.capture.snapshot import RowHasher
from replicator.keys import canon, row_hash
from replicator.capture.tables import WatchedTable
from replicator.config import FactusolConfig
from replicator.factusol import connection as fsconn
from replicator.factusol.schema import load_schema, table_ddl
from replicator.store import Store, dumps, loads
from replicator.store.codec import encode_key

CONN = "DRIVER={SQLite3};Database={file};Timeout=200"


@pytest.fixture
def fs(tmp_path):
    path = tmp_path / "0012026.sqlite"
    c = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=True)
    for t in ("F_ART", "F_STO"):
        c.execute(table_ddl(load_schema()[t]))
    for i in range(20):
        c.execute(
            "INSERT INTO [F_ART] ([CODART],[DESART],[PCOART],[CCOART],[FUMART]) VALUES (?,?,?,?,?)",
            f"A{i}",
            f"article {i}",
            Decimal("1.5"),
            -1,
            datetime(2026, 1, 1),
        )
        c.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", f"A{i}", "GEN", i)
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=path, connection=CONN)
    yield c, store, cfg, path
    c.close()


def _ops(store, after_id=0):
    return sorted(
        ((c.source_table, loads(c.row_key), c.op) for c in store.changes(after_id=after_id)),
        key=lambda o: (o[0], dumps(o[1]), o[2]),
    )


def _last_id(store):
    changes = store.changes()
    return changes[-1].id if changes else 0


# ---------------------------------------------------------------------------------------------- iter_tuples


def test_iter_tuples_streams_raw_tuples_and_records_the_statement(fs):
    _, _, _, path = fs
    with fsconn.FactusolConnection(fsconn.connection_string_for(path)) as conn:
        before = fsconn.last_statement_seq()
        rows = conn.iter_tuples("SELECT [ARTSTO], [ACTSTO] FROM [F_STO] WHERE [ALMSTO] = ?", ["GEN"], batch=7)
        assert rows.columns == ["ARTSTO", "ACTSTO"]
        assert rows.converters[0] is None and rows.converters[1] is fsconn.to_decimal
        got = list(rows)
        assert len(got) == 20 and all(type(r) is tuple and len(r) == 2 for r in got)
        recs = [r for r in fsconn.STATEMENT_LOG if r.seq > before]
        assert [(r.sql, r.sent) for r in recs] == [("SELECT [ARTSTO], [ACTSTO] FROM [F_STO] WHERE [ALMSTO] = ?", True)]
        # Refused SQL never reaches the driver and is recorded as not sent.
        with pytest.raises(fsconn.AccessSqlError):
            conn.iter_tuples("SELECT * FROM [F_STO] LIMIT 5")
        assert fsconn.STATEMENT_LOG[-1].sent is False
        # Abandoned half way inside `with`: the cursor closes and the connection keeps working.
        with conn.iter_tuples("SELECT * FROM [F_STO]", batch=3) as partial:
            next(iter(partial))
        assert conn.scalar("SELECT COUNT(*) AS [N] FROM [F_STO]") == 20
        conn.execute("UPDATE [F_STO] SET [ACTSTO] = ? WHERE [ARTSTO] = ?", [Decimal(5), "A1"])


def test_iter_tuples_is_access_checked_for_writers_too(fs):
    _, _, _, path = fs
    with fsconn.FactusolConnection(fsconn.connection_string_for(path)) as conn:
        with pytest.raises(fsconn.AccessSqlError):
            conn.iter_tuples("SELECT `ARTSTO` FROM [F_STO]")
        with pytest.raises(fsconn.FactusolError):
            list(conn.iter_tuples("SELECT [NOPE] FROM [F_STO]"))


# ---------------------------------------------------------------------------------------------- batch reading

_RAW = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", "'", '"', "\\", "a'b\"c", "ñandú €", "\n\t", "%s %%"]),
    st.integers(min_value=-3, max_value=3),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5.0, -0.0, 0.1, 1e300]),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**6), max_value=10**6),
    st.sampled_from([Decimal("5.0"), Decimal("NaN"), Decimal("-0")]),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
    st.binary(max_size=4),
)
_ROW = st.tuples(
    st.text(max_size=6),  # K1
    st.integers(min_value=-(2**40), max_value=2**40),  # K2
    st.one_of(
        st.none(),
        st.just(""),
        st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9).map(str),
    ),  # M (Moneda, text)
    st.one_of(
        st.none(),
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
        st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)).map(str),
    ),  # D (Fecha)
    st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**6), st.floats(allow_nan=False, width=32)),  # F
    _RAW,  # X: anything a driver may hand back
)
_COLUMNS = ["K1", "X", "M", "D", "K2", "F"]  # not sorted: the hash sorts them
_CONVERTERS = [None, None, fsconn.to_decimal, fsconn.to_datetime, None, lambda v: None if v is None else float(v)]


def _expected(table, raw):
    image = {c: (conv(v) if conv else v) for c, conv, v in zip(_COLUMNS, _CONVERTERS, raw)}
    return encode_key({c: canon(image[c]) for c in table.pk}), row_hash(image), image


@pytest.mark.parametrize("pk", [("K2", "K1"), ("K1",), ("X", "K2")])
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(_ROW.map(lambda r: (r[0], r[5], r[2], r[3], r[1], r[4])), max_size=12), max_size=4))
def test_batch_reader_keys_and_hashes_equal_the_row_by_row_definitions(pk, batches, monkeypatch):
    """`read_many` (column-wise, cached) must give exactly `row_hash(image)` and the JSON key, whatever the values:
    the hash is the contract with the apply layer's echo suppression and with every stored snapshot."""
    # Also exercise the cache being started over (the patch is the same for every generated input).
    monkeypatch.setattr(snapshot, "_CACHE_LIMIT", 5)
    table = WatchedTable("factusol", "T", pk, "test")
    reader = ResultReader(table, _COLUMNS, _CONVERTERS)
    for raws in batches:  # several batches through one reader: its caches carry over
        keys, hashes, texts = reader.read_many(raws)
        assert len(keys) == len(hashes) == len(texts) == len(raws)
        for raw, key, h, text in zip(raws, keys, hashes, texts):
            want_key, want_hash, image = _expected(table, raw)
            assert (key, h) == (want_key, want_hash), raw
            assert reader.read(raw)[:2] == (want_key, want_hash)
            # The compact image reads back as the canonical values (a float nan/inf is no literal: not kept).
            back = reader.hasher.expand(reader.hasher.compact(text))
            if not any(isinstance(v, float) and not math.isfinite(v) for v in (canon(x) for x in image.values())):
                assert back == {c: canon(v) for c, v in image.items()}


def test_single_column_table_reads_like_row_hash():
    # repr of a 1-tuple is "(x,)": the batch reader must build the same text.
    reader = ResultReader(WatchedTable("factusol", "T", ("A",), "test"), ["A"], [None])
    keys, hashes, _ = reader.read_many([("x",), (5,), (None,)])
    assert keys == ['{"A":"x"}', '{"A":5}', '{"A":null}']
    assert hashes == [row_hash({"A": "x"}), row_hash({"A": 5}), row_hash({"A": None})]


def test_compact_image_of_other_columns_is_not_read_back():
    a, b = RowHasher(["A", "B"]), RowHasher(["A", "C"])
    text = repr((1, "x"))
    assert a.expand(a.compact(text)) == {"A": 1, "B": "x"}
    assert b.expand(a.compact(text)) is None
    assert a.expand(a.compact("(1, __import__('os'))")) is None  # literals only
    assert a.expand(a.compact("(1,)")) is None


# ---------------------------------------------------------------------------------------------- fingerprints


def test_warm_scanner_sees_changes_hash_of_the_tuple_would_miss(fs):
    c, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()  # baseline
    assert scanner.scan().changes == 0  # warm: every row through the fingerprint path
    mark = _last_id(store)
    assert hash(-1) == hash(-2)  # the trap: CPython hashes -1 and -2 alike
    c.execute("UPDATE [F_ART] SET [CCOART] = -2 WHERE [CODART] = ?", "A3")
    c.execute("UPDATE [F_STO] SET [ACTSTO] = ? WHERE [ARTSTO] = ?", Decimal("7.0001"), "A4")
    report = scanner.scan()
    assert _ops(store, mark) == [
        ("F_ART", {"CODART": "A3"}, "update"),
        ("F_STO", {"ALMSTO": "GEN", "ARTSTO": "A4"}, "update"),
    ]
    upd = [ch for ch in store.changes(after_id=mark) if ch.source_table == "F_ART"][0]
    assert loads(upd.before)["CCOART"] == -1 and loads(upd.after)["CCOART"] == -2
    assert report.changes == 2


@pytest.mark.parametrize("batch", [None, 3])
def test_warm_and_cold_scanners_agree(fs, batch, monkeypatch):
    c, store, cfg, _ = fs
    if batch:  # batches that mix cached rows, changed rows and new rows
        monkeypatch.setattr(factusol_capture, "BATCH", batch)
        monkeypatch.setattr(factusol_capture, "BASELINE_CHUNK", batch + 1)
    warm = FactusolScanner(store, cfg)
    warm.scan()
    warm.scan()
    edits = [
        ("UPDATE [F_ART] SET [DESART] = ? WHERE [CODART] = ?", ("renamed", "A1")),
        ("DELETE FROM [F_STO] WHERE [ARTSTO] = ?", ("A2",)),
        ("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", ("A99", "GEN", 1)),
        ("UPDATE [F_ART] SET [PCOART] = ? WHERE [CODART] = ?", (Decimal("1.5000"), "A5")),  # same value: no change
        ("UPDATE [F_ART] SET [FUMART] = ? WHERE [CODART] = ?", (datetime(2026, 3, 1, 10, 30), "A6")),
    ]
    for sql, params in edits:
        mark = _last_id(store)
        c.execute(sql, *params)
        warm.scan(full=True)
        got = _ops(store, mark)
        # A cold scanner on the same store (it reloads the committed hashes) finds nothing more.
        assert FactusolScanner(store, cfg).scan().changes == 0
        assert len(got) == (0 if "1.5000" in str(params) else 1), (sql, got)
    # Edit then revert between two scans: nothing happened.
    c.execute("UPDATE [F_ART] SET [DESART] = ? WHERE [CODART] = ?", "tmp", "A7")
    c.execute("UPDATE [F_ART] SET [DESART] = ? WHERE [CODART] = ?", "article 7", "A7")
    assert warm.scan().changes == 0


def test_narrow_scan_uses_cached_keys_and_still_finds_inserts_and_deletes(fs):
    c, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg, paging=False)
    scanner.scan()
    scanner.scan()
    mark = _last_id(store)
    c.execute("DELETE FROM [F_ART] WHERE [CODART] = ?", "A8")
    c.execute(
        "INSERT INTO [F_ART] ([CODART],[DESART],[FUMART]) VALUES (?,?,?)", "OLD", "copied in", datetime(2020, 1, 1)
    )
    c.execute("UPDATE [F_ART] SET [DESART] = ?, [FUMART] = ? WHERE [CODART] = ?", "bumped", datetime(2026, 2, 1), "A9")
    report = scanner.scan(full=False)
    assert report.tables["F_ART"] == "narrow"
    assert _ops(store, mark) == [
        ("F_ART", {"CODART": "A8"}, "delete"),
        ("F_ART", {"CODART": "A9"}, "update"),
        ("F_ART", {"CODART": "OLD"}, "insert"),
    ]
    assert scanner.scan(full=True).changes == 0


def test_renamed_column_drops_the_cache(fs):
    c, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()
    scanner.scan()
    mark = _last_id(store)
    # Same raw values, new column names: the image hash changes for every row, as a cold scanner would see it.
    c.execute("ALTER TABLE [F_STO] RENAME COLUMN [UBISTO] TO [UBISTX]")
    scanner.scan()
    ops = _ops(store, mark)
    assert len(ops) == 20 and {o[2] for o in ops} == {"update"} and {o[0] for o in ops} == {"F_STO"}


def test_failed_commit_keeps_the_scanner_consistent(fs, monkeypatch):
    c, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()
    scanner.scan()
    c.execute("UPDATE [F_STO] SET [ACTSTO] = ? WHERE [ARTSTO] = ?", Decimal(42), "A1")
    real = store.record_capture

    def boom(*a, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "record_capture", boom)
    with pytest.raises(RuntimeError):
        scanner.scan()
    monkeypatch.setattr(store, "record_capture", real)
    mark = _last_id(store)
    assert scanner.scan().changes == 1  # the change was not lost with the failed commit
    assert _ops(store, mark) == [("F_STO", {"ALMSTO": "GEN", "ARTSTO": "A1"}, "update")]
    assert dumps(loads(store.changes()[-1].after)["ACTSTO"]) == '"42.0000"'
