"""Several processes (the service, the CLI, the TUI, the initial sync's helper) may open a store that does not exist
yet at the same moment: each finds the tables and the store's identity made once, none fails."""

from __future__ import annotations

import multiprocessing
import threading

from replicator.store import STORE_SCHEMA_VERSION, Store


def _open(url: str, start, out) -> None:
    start.wait(30)
    try:
        store = Store(url)
        out.put(("ok", store.store_id, store.schema_version()))
    except Exception as exc:  # reported to the test, which names it
        out.put(("failed", f"{type(exc).__name__}: {exc}", 0))


def test_threads_opening_a_fresh_store_at_once_all_get_the_same_store(tmp_path):
    for attempt in range(8):
        url = f"sqlite:///{tmp_path / f'fresh-{attempt}.sqlite'}"
        start = threading.Barrier(4)
        results: list = []

        class Out:
            put = results.append

        threads = [threading.Thread(target=_open, args=(url, start, Out)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [r[0] for r in results] == ["ok"] * 4, results
        assert len({r[1] for r in results}) == 1  # one store identity, made once
        assert {r[2] for r in results} == {STORE_SCHEMA_VERSION}


def test_processes_opening_a_fresh_store_at_once_all_get_the_same_store(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    start, out = ctx.Barrier(3), ctx.Queue()
    processes = [ctx.Process(target=_open, args=(url, start, out)) for _ in range(3)]
    for p in processes:
        p.start()
    results = [out.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(30)
    assert [r[0] for r in results] == ["ok"] * 3, results
    assert len({r[1] for r in results}) == 1
