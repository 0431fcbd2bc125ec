"""Hot reload: a valid edit replaces the rules, an invalid one is reported and the previous rules stay."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from replicator.rules import ColumnCatalog, RulesWatcher
from replicator.rules.loader import DEFAULT_RULES_DIR


def copy_rules(tmp_path: Path) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, d)
    return d


def wait_for(event: threading.Event, seconds: float = 10) -> bool:
    return event.wait(seconds)


def test_reload_keeps_previous_rules_on_a_bad_edit(tmp_path):
    d = copy_rules(tmp_path)
    calls = []
    w = RulesWatcher(d, lambda rs, probs: calls.append((rs, probs)), catalog=ColumnCatalog())
    first = w.ruleset
    assert first is not None and w.problems == []

    stock = d / "stock.yaml"
    stock.write_text(
        stock.read_text(encoding="utf-8").replace("formula: physical_minus_pending_orders", "formula: guesswork"),
        encoding="utf-8",
    )
    assert w.reload() is first
    rs, probs = calls[-1]
    assert rs is first and len(probs) == 1
    assert probs[0].file == str(stock) and "guesswork" in probs[0].message

    stock.write_text(
        stock.read_text(encoding="utf-8").replace("formula: guesswork", "formula: available"), encoding="utf-8"
    )
    new = w.reload()
    assert new is not first and new.entity("stock").options["formula"] == "available"
    assert calls[-1] == (new, [])


def test_watchdog_triggers_reload_on_file_change(tmp_path):
    d = copy_rules(tmp_path)
    seen: list = []
    changed = threading.Event()

    def on_reload(rs, probs):
        seen.append((rs, probs))
        changed.set()

    with RulesWatcher(d, on_reload, debounce=0.1, catalog=ColumnCatalog()) as w:
        first = w.ruleset
        time.sleep(0.2)
        order = d / "order.yaml"
        order.write_text(order.read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
        assert wait_for(changed), "no reload after a file change"
        deadline = time.time() + 5
        while not seen[-1][1] and time.time() < deadline:  # a burst may reload twice; wait for the last
            time.sleep(0.05)
        rs, probs = seen[-1]
        assert rs is first and w.ruleset is first
        assert [(p.line, p.message) for p in probs][-1][1] == "unknown key 'bogus_key'"

        changed.clear()
        order.write_text(order.read_text(encoding="utf-8").replace("\nbogus_key: 1\n", "\n"), encoding="utf-8")
        assert wait_for(changed)
        deadline = time.time() + 5
        while (seen[-1][1] or seen[-1][0] is first) and time.time() < deadline:
            time.sleep(0.05)
        assert seen[-1][1] == [] and w.ruleset is not first


def test_starting_with_bad_rules_reports_problems(tmp_path):
    d = copy_rules(tmp_path)
    (d / "extra.yaml").write_text("entity: order\nfields: {}\n", encoding="utf-8")
    w = RulesWatcher(d, catalog=ColumnCatalog())
    assert w.ruleset is None and any("already defined" in p.message for p in w.problems)
