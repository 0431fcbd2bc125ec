"""The store's schema migrations: a store made by an older version is brought up step by step when opened."""

from __future__ import annotations

import sqlite3

from replicator.store import Store, schema


def test_an_older_store_is_migrated_step_by_step(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    Store(url).engine.dispose()  # a store of the current version
    monkeypatch.setattr(schema, "STORE_SCHEMA_VERSION", schema.STORE_SCHEMA_VERSION + 2)
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        {
            schema.STORE_SCHEMA_VERSION - 2: [
                "CREATE TABLE migration_probe (step INTEGER)",
                "INSERT INTO migration_probe VALUES (1)",
            ],
            schema.STORE_SCHEMA_VERSION - 1: ["INSERT INTO migration_probe VALUES (2)"],
        },
    )
    store = Store(url)
    assert store.schema_version() == schema.STORE_SCHEMA_VERSION
    store.engine.dispose()
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert [step for (step,) in db.execute("SELECT step FROM migration_probe ORDER BY step")] == [1, 2]
    Store(url).engine.dispose()  # opened again: nothing left to run (the probe rows stay as they are)
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM migration_probe").fetchone()[0] == 2
