"""State store: batched record_capture (dedupe by position, atomicity, snapshots), conflicts, schema version."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy import select as sa_select

from replicator.store import STORE_SCHEMA_VERSION, CapturedRow, Checkpoint, RowSnapshot, Store, utcnow
from replicator.store.dialect import IN_CHUNK as _IN_CHUNK
from replicator.store.dialect import upsert as _upsert


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """Each store test runs on SQLite (the default store) and on a real PostgreSQL (a shared server)."""
    if request.param == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    return Store(request.getfixturevalue("pg_url"))


def _row(
    i: int,
    position: str | None = None,
    side: str = "prestashop",
    table: str = "stock_available",
    after: dict | None = None,
) -> CapturedRow:
    return CapturedRow(
        side=side,
        entity="stock",
        source_table=table,
        row_key=f'{{"id":{i}}}',
        op="insert",
        before=None,
        after=after if after is not None else {"id": i, "q": i},
        position=position or f"bin.000001:{100 + i}#0",
        txn=f"bin.000001:{100 + i}",
    )


def _snapshots(store: Store, side: str = "factusol", table: str = "F_STO") -> dict[str, tuple[str, str]]:
    t = RowSnapshot.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa_select(t.c.row_key, t.c.row_hash, t.c.image).where(t.c.side == side, t.c.source_table == table)
        ).all()
    return {k: (h, img) for k, h, img in rows}


# ---------------------------------------------------------------------------------------------- dedupe


def test_dedupe_by_position_across_calls(store):
    assert store.record_capture([_row(1), _row(2)], ("prestashop.binlog", {"pos": 1})) == 2
    # A re-read after a crash hands the same positions again, plus one new row.
    assert store.record_capture([_row(1), _row(2), _row(3)], ("prestashop.binlog", {"pos": 2})) == 1
    changes = store.changes()
    assert [c.row_key for c in changes] == ['{"id":1}', '{"id":2}', '{"id":3}']
    assert store.checkpoint("prestashop.binlog") == {"pos": 2}
    # Same position but another key or table or side is a different change.
    assert (
        store.record_capture(
            [
                CapturedRow(
                    "prestashop",
                    "stock",
                    "stock_available",
                    '{"id":99}',
                    "insert",
                    None,
                    {"id": 99},
                    "bin.000001:101#0",
                ),
                CapturedRow(
                    "prestashop", "stock", "product", '{"id":1}', "insert", None, {"id": 1}, "bin.000001:101#0"
                ),
                CapturedRow(
                    "factusol", "stock", "stock_available", '{"id":1}', "insert", None, {"id": 1}, "bin.000001:101#0"
                ),
            ]
        )
        == 3
    )


def test_positions_are_new_skips_the_lookup_but_the_unique_key_still_guards(store):
    from sqlalchemy.exc import IntegrityError

    assert store.record_capture([_row(1), _row(2)], ("prestashop.binlog", {"pos": 1}), (), True) == 2
    # A source that wrongly claims new positions cannot log a change twice: the whole call is refused.
    with pytest.raises(IntegrityError):
        store.record_capture([_row(2), _row(3)], ("prestashop.binlog", {"pos": 9}), (), True)
    assert [c.row_key for c in store.changes()] == ['{"id":1}', '{"id":2}']
    assert store.checkpoint("prestashop.binlog") == {"pos": 1}


def test_dedupe_within_one_call_and_across_chunks(store):
    n = 2 * _IN_CHUNK + 37  # more positions than one IN list holds
    assert store.record_capture([_row(i) for i in range(n)] + [_row(5), _row(n - 1)]) == n
    assert store.record_capture([_row(i) for i in range(n + 10)]) == 10
    assert len(store.changes()) == n + 10


def test_captured_row_fields_are_stored(store):
    row = CapturedRow(
        "prestashop",
        "order",
        "orders",
        '{"id_order":7}',
        "update",
        {"a": 1},
        {"a": 2},
        "bin.000002:4#3",
        "bin.000002:4",
    )
    store.record_capture([row])
    (change,) = store.changes()
    assert (change.side, change.entity, change.source_table, change.row_key, change.op) == (
        "prestashop",
        "order",
        "orders",
        '{"id_order":7}',
        "update",
    )
    assert (change.before, change.after, change.position, change.txn) == (
        '{"a":1}',
        '{"a":2}',
        "bin.000002:4#3",
        "bin.000002:4",
    )
    assert (change.status, change.attempts, change.detail, change.held_by) == ("pending", 0, "", "")
    assert change.captured_at is not None and change.id is not None


_ODD_IMAGE = {
    "name": 'quote " backslash \\ newline \n tab \t',
    "uni": "Peñíscola € 😀 \u2028",
    "price": Decimal("10.500000"),
    "when": datetime(2026, 2, 3, 4, 5, 6, 789),
    "day": date(2026, 2, 3),
    "none": None,
    "float": 0.1,
    "negative": -42,
    "zero_key_order": 0,
}


@pytest.mark.parametrize("big", [False, True], ids=["one-statement", "beyond-64-bits"])
def test_images_are_stored_as_compact_json_in_source_column_order(store, big):
    # The batch goes in as one JSON array unpacked by SQLite; an image orjson refuses (an integer beyond 64 bits)
    # is encoded by the standard encoder instead.  Both store the same text, and the rows keep their order.
    image = dict(_ODD_IMAGE, big=2**70 if big else 2**63 - 1)
    rows = [
        CapturedRow(
            "prestashop",
            "product",
            "product",
            f'{{"id":{i}}}',
            "update",
            dict(image, id=i - 1),
            dict(image, id=i),
            f"bin.000001:{900 - i}#0",
            f"bin.000001:{900 - i}",
        )
        for i in range(300)
    ]
    inserts: list[tuple[str, bool]] = []
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda conn, cur, sql, params, ctx, many: inserts.append((sql, many)) if "change_log" in sql else None,
    )
    assert store.record_capture(rows, ("prestashop.binlog", {"pos": 1}), (), True) == 300
    assert len(inserts) == 1 and (
        "json_each" in inserts[0][0] or store.engine.dialect.name != "sqlite"
    )  # one statement
    changes = store.changes()
    assert [c.row_key for c in changes] == [r.row_key for r in rows]  # ids follow the batch, not the positions
    expected = json.dumps(dict(image, id=7), default=str, ensure_ascii=False, separators=(",", ":"))
    assert changes[7].after == expected.replace('"2026-02-03 04:05:06.000789"', '"2026-02-03T04:05:06.000789"')
    assert json.loads(changes[7].before)["id"] == 6 and list(json.loads(changes[7].after)) == list(image) + ["id"]
    assert all(c.before is not None for c in changes)


def test_a_missing_image_is_stored_as_null(store):
    store.record_capture(
        [
            CapturedRow(
                "prestashop",
                "stock",
                "stock_available",
                '{"id":1}',
                "delete",
                {"q": 1},
                None,
                "bin.000001:5#0",
                "bin.000001:5",
            )
        ],
        None,
        (),
        True,
    )
    (change,) = store.changes()
    assert change.before == '{"q":1}' and change.after is None


def test_captured_at_is_stored_like_the_orm_stores_datetimes(store, tmp_path):
    """The SQLite fast path must write SQLAlchemy's DATETIME text, so SQL comparisons and ordering keep working."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite fast path only")
    store.record_capture([_row(1)], ("prestashop.binlog", {"pos": 1}))
    store.set_baseline("product", "A1", {"x": 1})  # an ORM write of a datetime column, for comparison
    db = sqlite3.connect(tmp_path / "state.sqlite")
    captured = db.execute("SELECT captured_at FROM change_log").fetchone()[0]
    orm = db.execute("SELECT updated_at FROM baseline").fetchone()[0]
    core = db.execute("SELECT updated_at FROM checkpoint").fetchone()[0]
    db.close()
    shape = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
    assert shape.fullmatch(orm) and shape.fullmatch(captured) and shape.fullmatch(core), (orm, captured, core)
    assert store.changes()[0].captured_at.tzinfo is not None


# ---------------------------------------------------------------------------------------------- atomicity


def test_python_failure_inside_the_batch_writes_nothing(store):
    store.record_capture([_row(1)], ("prestashop.binlog", {"pos": 1}), [("factusol", "F_STO", "k0", "h0", {"a": 0})])
    with pytest.raises(TypeError):
        # The checkpoint value is not JSON: it fails after the changes and snapshots were sent in the transaction.
        store.record_capture(
            [_row(2), _row(3)],
            ("prestashop.binlog", {"pos": object()}),
            [("factusol", "F_STO", "k1", "h1", {"a": 1}), ("factusol", "F_STO", "k0", None, None)],
        )
    assert [c.row_key for c in store.changes()] == ['{"id":1}']
    assert store.checkpoint("prestashop.binlog") == {"pos": 1}
    assert store.snapshot_hashes("factusol", "F_STO") == {"k0": "h0"}


def test_database_failure_inside_the_batch_writes_nothing(store):
    store.set_checkpoint("factusol.scan", {"scan": 4})
    with pytest.raises(Exception) as info:
        # A NULL primary-key column in the snapshots fails in the database, after the changes were inserted.
        store.record_capture(
            [_row(1), _row(2)],
            ("factusol.scan", {"scan": 5}),
            [("factusol", "F_STO", "k1", "h1", {"a": 1}), ("factusol", "F_STO", None, "h2", {})],
        )
    assert "null" in str(info.value).lower() or "constraint" in str(info.value).lower()
    assert store.changes() == []
    assert store.checkpoint("factusol.scan") == {"scan": 4}
    assert store.snapshot_hashes("factusol", "F_STO") == {}


def test_failed_call_can_be_repeated(store):
    with pytest.raises(TypeError):
        store.record_capture([_row(1)], ("prestashop.binlog", {"pos": object()}))
    assert store.record_capture([_row(1)], ("prestashop.binlog", {"pos": 9})) == 1
    assert store.checkpoint("prestashop.binlog") == {"pos": 9}


# ---------------------------------------------------------------------------------------------- snapshots


def test_snapshot_upsert_update_and_delete(store):
    store.record_capture(
        [],
        None,
        [
            ("factusol", "F_STO", "a", "h1", {"q": 1}),
            ("factusol", "F_STO", "b", "h2", {"q": 2}),
            ("factusol", "F_ART", "a", "x1", {"d": "art"}),
        ],
    )
    assert store.snapshot_hashes("factusol", "F_STO") == {"a": "h1", "b": "h2"}
    assert store.snapshot_hashes("factusol", "F_ART") == {"a": "x1"}
    assert store.snapshot_image("factusol", "F_STO", "a") == {"q": 1}
    store.record_capture(
        [],
        None,
        [
            ("factusol", "F_STO", "a", "h1b", {"q": 10}),
            ("factusol", "F_STO", "b", None, None),
            ("factusol", "F_STO", "c", "h3", None),
        ],
    )
    assert store.snapshot_hashes("factusol", "F_STO") == {"a": "h1b", "c": "h3"}
    assert store.snapshot_image("factusol", "F_STO", "a") == {"q": 10}
    assert store.snapshot_image("factusol", "F_STO", "b") is None
    assert store.snapshot_image("factusol", "F_STO", "zz") is None
    assert _snapshots(store)["c"] == ("h3", None)  # no image kept: NULL
    # Deleting an unknown key is harmless; the other side/table is untouched.
    store.record_capture([], None, [("factusol", "F_STO", "nope", None, None)])
    assert store.snapshot_hashes("factusol", "F_ART") == {"a": "x1"}


def test_snapshot_compact_image_is_stored_and_returned_as_text(store):
    # A str image is already in its stored form (a FactuSOL baseline's compact image): no JSON encoding.
    store.record_capture(
        [],
        None,
        [("factusol", "F_STO", "a", "h1", "~0123456789ab('A1', 5)"), ("factusol", "F_STO", "b", "h2", {"q": 2})],
    )
    assert _snapshots(store) == {"a": ("h1", "~0123456789ab('A1', 5)"), "b": ("h2", '{"q":2}')}
    assert store.snapshot_image("factusol", "F_STO", "a") == "~0123456789ab('A1', 5)"
    assert store.snapshot_images("factusol", "F_STO", ["a", "b", "zz"]) == {
        "a": "~0123456789ab('A1', 5)",
        "b": {"q": 2},
    }
    # The next change replaces it with a JSON image.
    store.record_capture([], None, [("factusol", "F_STO", "a", "h3", {"q": 3})])
    assert store.snapshot_image("factusol", "F_STO", "a") == {"q": 3}


def test_snapshot_rows_without_images_to_encode_still_collapse_by_key(store):
    # Compact (str) and missing images need no encoding; a key given twice still keeps its last item.
    store.record_capture(
        [],
        None,
        [
            ("factusol", "F_STO", "a", "h1", "~x(1,)"),
            ("factusol", "F_STO", "b", "h2", None),
            ("factusol", "F_STO", "a", "h3", "~x(3,)"),
            ("factusol", "F_STO", "b", None, None),
        ],
    )
    assert _snapshots(store) == {"a": ("h3", "~x(3,)")}
    store.record_capture(
        [], None, [("factusol", "F_STO", "c", "h4", "~x(4,)"), ("factusol", "F_STO", "a", None, "~x(3,)")]
    )
    assert _snapshots(store) == {"c": ("h4", "~x(4,)")}


def test_snapshot_last_item_per_key_wins(store):
    store.record_capture([], None, [("factusol", "F_STO", "a", "h1", {"q": 1})])
    store.record_capture(
        [],
        None,
        [
            ("factusol", "F_STO", "a", None, None),
            ("factusol", "F_STO", "a", "h2", {"q": 2}),
            ("factusol", "F_STO", "b", "h3", {"q": 3}),
            ("factusol", "F_STO", "b", None, None),
        ],
    )
    assert store.snapshot_hashes("factusol", "F_STO") == {"a": "h2"}
    assert store.snapshot_image("factusol", "F_STO", "a") == {"q": 2}


def test_many_snapshots_in_one_call(store):
    n = 12_345
    store.record_capture(
        [], ("factusol.scan", {"scan": 1}), [("factusol", "F_STO", f"k{i}", f"h{i}", {"i": i}) for i in range(n)]
    )
    hashes = store.snapshot_hashes("factusol", "F_STO")
    assert len(hashes) == n and hashes["k12344"] == "h12344"
    store.record_capture(
        [], None, [("factusol", "F_STO", f"k{i}", None if i % 2 else f"n{i}", {"i": -i}) for i in range(n)]
    )
    hashes = store.snapshot_hashes("factusol", "F_STO")
    assert len(hashes) == (n + 1) // 2 and hashes["k0"] == "n0" and "k1" not in hashes


def test_portable_upsert_path(store):
    """The update-then-insert fallback (dialects without ON CONFLICT), run on the real SQLite store."""
    t = RowSnapshot.__table__
    rows = [
        {"side": "factusol", "source_table": "F_STO", "row_key": f"k{i}", "row_hash": f"h{i}", "image": "{}"}
        for i in range(3)
    ]
    with store.engine.begin() as conn:
        _upsert(conn, t, ("side", "source_table", "row_key"), rows, dialect="generic")
    more = [{**rows[1], "row_hash": "new"}] + [
        {"side": "factusol", "source_table": "F_STO", "row_key": f"k{i}", "row_hash": f"h{i}", "image": "{}"}
        for i in range(3, 3 + 2 * _IN_CHUNK)
    ]
    with store.engine.begin() as conn:
        _upsert(conn, t, ("side", "source_table", "row_key"), more, dialect="generic")
        _upsert(
            conn,
            Checkpoint.__table__,
            ("name",),
            [{"name": "x", "value": "1", "updated_at": utcnow()}],
            dialect="generic",
        )
        _upsert(
            conn,
            Checkpoint.__table__,
            ("name",),
            [{"name": "x", "value": "2", "updated_at": utcnow()}],
            dialect="generic",
        )
    hashes = store.snapshot_hashes("factusol", "F_STO")
    assert len(hashes) == 3 + 2 * _IN_CHUNK and hashes["k1"] == "new" and hashes["k0"] == "h0"
    assert store.checkpoint("x") == 2


def test_checkpoint_insert_then_update(store):
    store.record_capture([], ("a", {"n": 1}))
    store.record_capture([], ("a", {"n": 2}))
    store.record_capture([], ("b", [1, 2]))
    assert store.checkpoint("a") == {"n": 2} and store.checkpoint("b") == [1, 2]
    assert store.checkpoint("missing") is None


# ---------------------------------------------------------------------------------------------- conflicts


def test_resolved_conflicts_and_mark_applied(store):
    a = store.open_conflict("product", "A1", "price", 1, 2, 3)
    b = store.open_conflict("customer", "7", "email", "x", "y", "z")
    c = store.open_conflict("product", "A2", "name", "n", "m", "o")
    assert store.resolved_conflicts() == []
    store.resolve_conflict(a, "factusol")
    store.resolve_conflict(b, "custom", "w")
    assert [x.id for x in store.resolved_conflicts()] == [a, b]
    assert [x.id for x in store.resolved_conflicts("product")] == [a]
    assert store.resolved_conflicts("order") == []
    store.mark_conflict_applied(a)
    store.mark_conflict_applied(a)  # idempotent: a retry after a crash
    assert store.conflict(a).status == "applied"
    assert [x.id for x in store.resolved_conflicts()] == [b]
    assert [x.id for x in store.conflicts("applied")] == [a]
    assert store.conflict(c).status == "open"


# ---------------------------------------------------------------------------------------------- schema version


def test_schema_version_is_recorded(store):
    assert store.schema_version() == STORE_SCHEMA_VERSION


def test_refuses_a_newer_store(tmp_path):
    path = tmp_path / "state.sqlite"
    Store(f"sqlite:///{path}").engine.dispose()
    db = sqlite3.connect(path)
    db.execute("UPDATE store_meta SET value = ? WHERE key = 'schema_version'", (str(STORE_SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer than this replicator"):
        Store(f"sqlite:///{path}")
    # The refusal changed nothing: the store still says the newer version.
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()[0] == str(
        STORE_SCHEMA_VERSION + 1
    )
    db.close()


def test_id_map_lookups_for_some_keys(store):
    """A batch looks up only its own keys, either way round, across IN-list chunks; other entities don't leak."""
    n = _IN_CHUNK + 20
    store.link_many("product", [(f"ART{i:05d}", str(1000 + i)) for i in range(n)])
    store.link_many("customer", [("ART00001", "7")])
    wanted = [f"ART{i:05d}" for i in range(0, n, 2)] + ["NOPE"]
    got = store.id_map_for("product", wanted)
    assert got == {f"ART{i:05d}": str(1000 + i) for i in range(0, n, 2)}
    assert store.id_map_by_prestashop("product", [1001, 1000 + n - 1, 5]) == {
        "1001": "ART00001",
        str(1000 + n - 1): f"ART{n - 1:05d}",
    }
    assert store.id_map_for("customer", ["ART00001", "ART00002"]) == {"ART00001": "7"}
    assert store.id_map_for("product", []) == {}
