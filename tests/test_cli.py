"""The `replicator` command end to end: init, sandboxes, run --once, status/log/conflicts/resolve, rules check.

Runs against the real test MariaDB and the FactuSOL stand-in through pyodbc; a shop user with a password
checks that the password never appears in any output.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from replicator.cli import main
from replicator.store import Store

SECRET = "Sh0p-Pa55word!"


@pytest.fixture(autouse=True)
def restore_logging():
    """`replicator run` installs stderr handlers on the root logger; capsys closes that stream after the test."""
    import logging

    root = logging.getLogger()
    handlers, level, filters = root.handlers[:], root.level, root.filters[:]
    yield
    root.handlers[:], root.filters[:] = handlers, filters
    root.setLevel(level)


@pytest.fixture
def installation(mysql_server, mysql_db, tmp_path, monkeypatch, capsys):
    """A FactuSOL stand-in, a demo shop reached by a user with a password, and `replicator init` beside them."""
    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    assert main(["sandbox", "factusol", str(fs_path), "--articles", "40", "--customers", "10"]) == 0
    out = capsys.readouterr().out
    connection = next(line.strip() for line in out.splitlines() if line.strip().startswith("DRIVER="))
    assert main(["sandbox", "prestashop", "--mysql", mysql_server.url, "--database", mysql_db, "--demo"]) == 0
    capsys.readouterr()
    with mysql_server.connect() as conn, conn.cursor() as cur:
        user = f"shop_{mysql_db[-6:]}"
        cur.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (SECRET,))
        cur.execute(f"GRANT ALL ON `{mysql_db}`.* TO '{user}'@'%'")
        cur.execute(f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'")
    host_port = mysql_server.url.split("@", 1)[1].rstrip("/")
    monkeypatch.setenv("PS_DB_PASSWORD", SECRET)
    url = f"mysql://{user}:${{PS_DB_PASSWORD}}@{host_port}/{mysql_db}"
    assert main(["init", str(tmp_path / "conf"), "--factusol", connection, "--prestashop", url]) == 0
    capsys.readouterr()
    return tmp_path / "conf" / "replicator.yaml"


def test_init_writes_config_and_rules_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / "replicator.yaml").read_text().startswith("# FactuSOL <-> PrestaShop")
    assert (tmp_path / "rules" / "customer.yaml").exists()
    assert (tmp_path / "rules" / "rules.schema.json").exists()
    assert main(["init", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_rules_check_exit_codes(tmp_path, capsys):
    assert main(["rules", "check"]) == 0
    bad = tmp_path / "stock.yaml"
    bad.write_text("entity: stock\nversion: 1\nformula: guesswork\n", encoding="utf-8")
    assert main(["rules", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:3:10:" in out


def test_run_once_status_log_and_no_secret_anywhere(installation, capsys):
    config = str(installation)
    outputs = []
    assert main(["config", "validate", "--config", config]) == 0
    outputs.append(capsys.readouterr())
    assert "FactuSOL: connected" in outputs[-1].out and "PrestaShop: connected" in outputs[-1].out
    assert main(["run", "--config", config, "--once"]) == 0
    outputs.append(capsys.readouterr())
    err = outputs[-1].err
    assert "initial sync done" in err
    assert re.search(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} INFO ", err, re.M)  # dated lines
    assert "CaptureReport(" not in err and "{'" not in err  # words, not Python reprs
    assert err.rstrip().splitlines()[-1].endswith(f"replicator stopped (pid {os.getpid()})")
    assert "Before using MARIADB" not in err and "BINLOG_ROW_METADATA = FULL" not in err
    assert main(["status", "--config", config, "--json"]) == 0
    captured = capsys.readouterr()
    outputs.append(captured)
    status = json.loads(captured.out)
    assert status["checkpoints"]["initial_sync"]["done"] is True
    assert "prestashop.binlog" in status["checkpoints"]
    assert "***" in status["config"]["prestashop"]["url"]
    store = Store(json.loads(main_json(["status", "--config", config, "--json"], capsys))["config"]["store"])
    assert store.id_map("product"), "the initial sync linked or created shop products"
    assert store.id_map("customer"), "the demo shop's customers reached FactuSOL"
    for command in (
        ["log", "--config", config],
        ["log", "--config", config, "--json"],
        ["conflicts", "--config", config],
        ["quarantine", "--config", config],
    ):
        assert main(command) == 0
        outputs.append(capsys.readouterr())
    for captured in outputs:
        assert SECRET not in captured.out and SECRET not in captured.err


def main_json(argv, capsys) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_wrong_password_is_a_clear_error_without_the_password(installation, monkeypatch, capsys):
    monkeypatch.setenv("PS_DB_PASSWORD", "not-the-Right-one")
    assert main(["run", "--config", str(installation), "--once"]) == 1
    err = capsys.readouterr().err
    assert "not-the-Right-one" not in err
    assert "Traceback" not in err
    assert "error:" in err and "Error:" not in err  # no exception class name
    assert main(["config", "validate", "--config", str(installation)]) == 1  # it connects, so it finds out
    captured = capsys.readouterr()
    assert "PrestaShop: cannot connect" in captured.err and "not-the-Right-one" not in captured.out + captured.err
    assert main(["config", "validate", "--offline", "--config", str(installation)]) == 0


def test_conflicts_and_resolve(installation, capsys):
    config = str(installation)
    store_url = json.loads(main_json(["status", "--config", config, "--json"], capsys))["config"]["store"]
    store = Store(store_url)
    cid = store.open_conflict("customer", "ps:1", "nif", "1X", "12345678Z", "87654321X")
    listing = main_json(["conflicts", "--config", config, "--json"], capsys)
    assert json.loads(listing)[0]["field"] == "nif"
    assert main(["resolve", str(cid), "--take", "prestashop", "--field", "email", "--config", config]) == 1
    assert "not email" in capsys.readouterr().err
    assert main(["resolve", str(cid), "--take", "prestashop", "--config", config]) == 0
    assert "resolved with prestashop" in capsys.readouterr().out
    assert json.loads(store.conflict(cid).resolution) == "87654321X"
    assert main(["resolve", str(cid), "--take", "base", "--config", config]) == 1
    assert "already resolved" in capsys.readouterr().err
    assert main(["resolve", "999", "--take", "base", "--config", config]) == 1


def test_run_refuses_to_start_with_invalid_rules(installation, capsys):
    stock = installation.parent / "rules" / "stock.yaml"
    stock.write_text(stock.read_text().replace("formula: physical_minus_pending_orders", "formula: guesswork"))
    assert main(["run", "--config", str(installation), "--once"]) == 2
    err = capsys.readouterr().err
    assert "nothing was started" in err
    assert f"{stock}:" in err and "Traceback" not in err


def test_link_by_hand(installation, capsys):
    config = str(installation)
    assert main(["link", "customer", "--factusol", "4242", "--prestashop", "3", "--config", config]) == 0
    assert "linked customer" in capsys.readouterr().out
    assert main(["link", "customer", "--factusol", "4242", "--prestashop", "4", "--config", config]) == 1
    assert "already linked" in capsys.readouterr().err
    store_url = json.loads(main_json(["status", "--config", config, "--json"], capsys))["config"]["store"]
    assert Store(store_url).map_id("customer", prestashop_id="3").factusol_key == "4242"


def test_the_installed_command_runs_the_initial_sync_with_its_child_process(installation):
    """`replicator run --once` as an admin runs it (the console script, a new interpreter): the initial sync's child
    process starts from it, its lines come through the command's own log, and no secret is printed."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from replicator.config import load_config

    assert load_config(installation).initial_sync_workers == "process"
    command = Path(sys.executable).parent / "replicator"
    done = subprocess.run(
        [str(command), "run", "--config", str(installation), "--once"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PS_DB_PASSWORD": SECRET},
    )
    assert done.returncode == 0, done.stderr
    assert "initial sync done" in done.stderr
    assert "initial sync: customer" in done.stderr  # the child's progress, shown by the command
    assert SECRET not in done.stdout + done.stderr
    store = Store(load_config(installation).store)
    assert store.id_map("customer"), "the child created the demo shop's customers in FactuSOL"


def test_status_says_since_when_the_factusol_file_is_locked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PS_DB_PASSWORD", "not-used-here")
    (tmp_path / "fs.sqlite").touch()
    assert main(["init", str(tmp_path), "--factusol", f"DRIVER={{SQLite3}};Database={tmp_path / 'fs.sqlite'}"]) == 0
    config = tmp_path / "replicator.yaml"
    capsys.readouterr()
    from replicator.config import load_config
    from replicator.daemon import SERVICE_CHECKPOINT

    Store(load_config(config).store).set_checkpoint(
        SERVICE_CHECKPOINT,
        {
            "capture": {
                "factusol": {
                    "state": "locked",
                    "locked_since": "2026-12-07T03:58:56",
                    "last_error": "database is locked",
                }
            }
        },
    )
    assert main(["status", "--config", str(config)]) == 0
    assert "FactuSOL file: locked since 2026-12-07 03:58:56 (database is locked)" in capsys.readouterr().out
