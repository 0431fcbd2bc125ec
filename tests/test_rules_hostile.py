"""Malformed rule files, one per row: each gives one clean `file:line:col: message`, fast, never a traceback.

The same files saved into a running service's rules folder leave the watcher alive with the previous rules.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replicator.rules import ColumnCatalog, RulesWatcher, check_rules
from replicator.rules.loader import DEFAULT_RULES_DIR

BASE = """\
entity: shipment
version: 1
direction: to_prestashop
create: none
defaults:
  policy: factusol_wins
fields:
  tracking_number:
    factusol: F_ALB.CISALB
    prestashop: order_carrier.tracking_number
"""


def bomb(levels: int = 9) -> str:
    """The "billion laughs": each level is ten aliases of the one before (10^levels values once expanded)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return BASE + "value_maps:\n  bomb:\n    entries:\n" + "".join(f"      {ln}\n" for ln in lines)


def fields(extra: str) -> str:
    return BASE + extra


# (id, file content, line, col, words the message must carry)
CASES: list[tuple[str, str | bytes, int, int, str]] = [
    ("alias bomb", bomb(), 19, 21, "alias bomb"),
    ("recursive alias", BASE + "value_maps: &m {x: *m}\n", 11, 20, "contains it"),
    ("too many aliases", BASE + "x: &a 1\ny: [" + ", ".join(["*a"] * 101) + "]\n", 12, 405, "more than 100 aliases"),
    ("nested too deep", BASE + "x: " + "[" * 70 + "]" * 70 + "\n", 11, 67, "nested more than 64"),
    ("latin-1 byte", BASE.replace("version: 1", "version: 1 # a\xf1o").encode("latin-1"), 2, 15, "0xf1 is not UTF-8"),
    ("lone continuation byte", BASE.encode() + b"note: \x80\n", 11, 7, "0x80 is not UTF-8"),
    ("NUL byte", BASE.replace("create: none", "create: no\x00ne"), 4, 11, "U+0000"),
    ("bell character", BASE.replace("policy: factusol_wins", "policy: fact\x07usol_wins"), 6, 15, "U+0007"),
    ("escape character", BASE + "\x1b[31m\n", 11, 1, "U+001B"),
    ("C1 control", BASE.replace("fields:", "fields:\x85"), 7, 8, "U+0085"),
    ("control char as YAML escape", BASE + 'note: "a\\x01b"\n', 11, 7, "U+0001 in a value"),
    ("BOM inside the text", BASE + "x: \ufeff1\n", 11, 4, "U+FEFF"),
    ("tab indentation", BASE.replace("    prestashop", "\tprestashop"), 10, 1, "YAML syntax"),
    ("unclosed flow mapping", BASE + "value_maps: {a: 1\n", 12, 1, "YAML syntax"),
    ("unclosed quote", BASE.replace("create: none", 'create: "none'), 11, 1, "YAML syntax"),
    ("duplicate key", BASE + "direction: both\n", 11, 1, "duplicate key"),
    ("two documents", BASE + "---\nentity: stock\n", 11, 1, "single document"),
    ("undefined alias", BASE + "x: *nowhere\n", 11, 4, "nowhere"),
    ("not a mapping", "- entity: shipment\n", 1, 1, "must be a mapping"),
    ("empty file", "", 1, 1, "must be a mapping"),
    ("unknown entity", BASE.replace("entity: shipment", "entity: shipmnt"), 1, 9, "shipmnt"),
    ("unknown top-level key", BASE + "colour: blue\n", 11, 1, "unknown key 'colour'"),
    ("bad direction", BASE.replace("direction: to_prestashop", "direction: sideways"), 3, 12, "sideways"),
    ("version as text", BASE.replace("version: 1", "version: one"), 2, 10, "version"),
    (
        "bad sub-key in factusol flow map",
        fields("  carrier:\n    factusol: {column: F_ALB.TRNALB, mapp: carriers}\n"),
        12,
        38,
        "unknown key 'mapp'",
    ),
    (
        "bad sub-key in factusol block map",
        fields("  shipping_cost:\n    factusol:\n      column: F_ALB.IPOR1ALB\n      roundd: 2\n"),
        14,
        7,
        "unknown key 'roundd'",
    ),
    (
        "bad fit value in factusol",
        fields("  carrier:\n    factusol: {column: F_ALB.TRNALB, fit: chop}\n"),
        12,
        43,
        "'chop' is not one of",
    ),
    (
        "negative multiply",
        fields("  shipping_cost:\n    factusol: {column: F_ALB.IPOR1ALB, multiply: -1}\n"),
        12,
        50,
        "multiply",
    ),
    (
        "round too large",
        fields("  shipping_cost:\n    factusol: {column: F_ALB.IPOR1ALB, round: 9}\n"),
        12,
        47,
        "round",
    ),
    (
        "bad sub-key in prestashop",
        fields("  shipping_cost:\n    prestashop: {colum: x.y}\n"),
        12,
        18,
        "unknown key 'colum'",
    ),
    ("unknown field key", fields("  shipping_cost:\n    polcy: newest_wins\n"), 12, 5, "unknown key 'polcy'"),
    ("unknown canonical field", fields("  weight:\n    factusol: F_ALB.PESALB\n"), 11, 3, "unknown canonical field"),
    ("unknown column", fields("  shipping_cost:\n    factusol: F_ALB.NOPE\n"), 12, 15, "F_ALB.NOPE"),
    ("unknown policy", BASE.replace("policy: factusol_wins", "policy: loudest_wins"), 6, 11, "loudest_wins"),
    ("delta on text", fields("  shipped:\n    direction: both\n    policy: delta\n"), 13, 13, "delta"),
    ("value map without entries", BASE + "value_maps:\n  carriers:\n    fallback: {factusol: 0}\n", 12, 3, "entries"),
    ("value map entry is a list", BASE + "value_maps:\n  carriers:\n    entries: [1, 2]\n", 13, 5, "entries"),
    (
        "map names an undefined map",
        fields("  carrier:\n    factusol: {column: F_ALB.TRNALB, map: nope}\n"),
        12,
        43,
        "'nope' is not defined",
    ),
    (
        "fields is a list",
        BASE.replace(
            "fields:\n  tracking_number:\n    factusol: F_ALB.CISALB\n    prestashop: order_carrier.tracking_number\n",
            "fields: [a, b]\n",
        ),
        7,
        1,
        "fields",
    ),
    ("huge file", BASE + "# " + "x" * (1024 * 1024) + "\n", 1, 1, "larger than"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_rule_file_is_one_clean_positioned_error(tmp_path, case):
    name, content, line, col, words = case
    path = tmp_path / "shipment.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    started = time.monotonic()
    problems = check_rules([path])
    took = time.monotonic() - started
    assert problems, f"{name}: no problem reported"
    first = problems[0]
    assert (first.file, first.line, first.col) == (str(path), line, col), [str(p) for p in problems]
    assert words.lower() in first.message.lower(), str(first)
    assert str(first).startswith(f"{path}:{line}:{col}: ")
    assert "Traceback" not in first.message and "Error" not in first.message.split(":")[0]
    assert took < 10, f"{name}: {took:.1f} s"  # a guard against a hang, not a speed measure


def test_the_table_has_at_least_thirty_files():
    assert len(CASES) >= 30


def test_rules_check_command_reports_a_bomb_and_exits_1(tmp_path):
    path = tmp_path / "shipment.yaml"
    path.write_text(bomb(12), encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("replicator")), "rules", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout.strip().startswith(f"{path}:") and "alias bomb" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_bomb_saved_into_a_watched_folder_leaves_the_watcher_working(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for p in DEFAULT_RULES_DIR.glob("*.yaml"):
        (rules / p.name).write_bytes(p.read_bytes())
    (rules / DEFAULT_RULES_DIR.joinpath("rules.schema.json").name).write_bytes(
        DEFAULT_RULES_DIR.joinpath("rules.schema.json").read_bytes()
    )
    seen: list = []
    changed = threading.Event()

    def on_reload(rs, probs):
        seen.append((rs, probs))
        changed.set()

    with RulesWatcher(rules, on_reload, debounce=0.1, catalog=ColumnCatalog()) as w:
        first = w.ruleset
        assert first is not None
        for bad in (bomb(12).encode(), b"entity: shipment\nfields: \xff\n", "entity: \x00\n".encode()):
            changed.clear()
            (rules / "shipment.yaml").write_bytes(bad)
            assert changed.wait(20), "the watcher did not report the bad file"
            rs, probs = seen[-1]
            assert rs is first and probs and probs[0].file.endswith("shipment.yaml")
        changed.clear()
        (rules / "shipment.yaml").write_bytes((DEFAULT_RULES_DIR / "shipment.yaml").read_bytes())
        assert changed.wait(20)
        rs, probs = seen[-1]
        assert probs == [] and rs is not first


def test_a_failing_reload_handler_does_not_end_the_watcher(tmp_path, caplog):
    rules = tmp_path / "rules"
    rules.mkdir()
    for p in DEFAULT_RULES_DIR.glob("*.yaml"):
        (rules / p.name).write_bytes(p.read_bytes())
    calls: list = []

    def on_reload(rs, probs):
        calls.append(probs)
        if len(calls) == 1:
            raise RuntimeError("the handler broke")

    w = RulesWatcher(rules, on_reload, catalog=ColumnCatalog())
    assert w.reload() is w.ruleset  # the handler's failure is logged, not raised
    assert "applying them failed" in caplog.text
    assert w.reload() is w.ruleset and len(calls) == 2
