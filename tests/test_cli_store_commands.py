"""The commands that only use the state store (status, log, conflicts, quarantine, resolve) and the store lock.

A real SQLite store and a configuration whose shop password variable is NOT set: these commands must work
without it.  The shop URL points at a closed port, so nothing here can reach a database by accident.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from replicator.cli import main
from replicator.cli_output import EXIT_ERROR, EXIT_LOCKED, EXIT_USAGE, error_sentence, jsonable
from replicator.instance_lock import LOCK_NAME, InstanceLock, InstanceLocked, read_holder
from replicator.masking import is_credential, mask_image
from replicator.service_state import NOT_RESPONDING, RUNNING, STOPPED, service_state
from replicator.store import CapturedRow, Checkpoint, Store, dumps, utcnow


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("PS_UNSET_PASSWORD", raising=False)
    (tmp_path / "0012026.sqlite").touch()  # the FactuSOL file the config names must exist (it is never created)
    assert (
        main(
            [
                "init",
                str(tmp_path),
                "--factusol",
                f"DRIVER={{SQLite3}};Database={tmp_path / '0012026.sqlite'}",
                "--prestashop",
                "mysql://shop:${PS_UNSET_PASSWORD}@127.0.0.1:1/prestashop",
            ]
        )
        == 0
    )
    return tmp_path / "replicator.yaml"


@pytest.fixture
def store(config) -> Store:
    return Store(f"sqlite:///{config.parent / 'replicator-state.sqlite'}")


def customer_change(store: Store, n: int = 1) -> None:
    rows = [
        CapturedRow(
            side="prestashop",
            entity="customer",
            source_table="ps_customer",
            row_key=dumps([i]),
            op="update",
            position=f"bin.1:{i}",
            before={"id_customer": i, "firstname": "Pierre", "passwd": "$2y$10$abc", "secure_key": "s1"},
            after={
                "id_customer": i,
                "firstname": "Pierrot",
                "passwd": "$2y$10$abc",
                "secure_key": "5e3b1c0ffee",
                "reset_password_token": "tok-123",
            },
        )
        for i in range(1, n + 1)
    ]
    store.record_capture(rows, checkpoint=("prestashop.binlog", {"file": "bin.1", "pos": n}))


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_masking_rule():
    for name in ("passwd", "secure_key", "reset_password_token", "api_key", "PASSWORD", "CAWCLI", "webservice_key"):
        assert is_credential(name), name
    for name in ("firstname", "email", "id_customer", "row_key", "NOFCLI", "CODCLI", "reference"):
        assert not is_credential(name), name
    assert mask_image({"passwd": "x", "passwd_empty": "", "name": "A"}) == {
        "passwd": "***",
        "passwd_empty": "",
        "name": "A",
    }


def test_read_commands_need_no_shop_password(config, store, capsys):
    customer_change(store)
    for argv in (["status"], ["log"], ["conflicts"], ["quarantine"], ["status", "--json"]):
        code, out, err = run_cli(capsys, *argv, "--config", str(config))
        assert code == 0, (argv, err)
        assert err == ""


def test_log_json_is_plain_json_with_credentials_masked(config, store, capsys):
    customer_change(store)
    code, out, _ = run_cli(capsys, "log", "--json", "--config", str(config))
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows[0]["after"], dict) and isinstance(rows[0]["before"], dict)  # not JSON in a string
    assert rows[0]["after"]["firstname"] == "Pierrot"
    assert rows[0]["after"]["secure_key"] == "***" and rows[0]["before"]["passwd"] == "***"
    assert rows[0]["after"]["reset_password_token"] == "***"
    assert rows[0]["row_key"] == [1]
    assert rows[0]["captured_at"].endswith("+00:00") and "T" in rows[0]["captured_at"]
    assert "5e3b1c0ffee" not in out and "tok-123" not in out


def test_conflicts_json_values_are_values(config, store, capsys):
    store.open_conflict("customer", "ps:4", "firstname", "Pierre", "Pierre A.", "Pierrot")
    store.open_conflict("customer", "ps:4", "passwd", "a", "b", "c")
    code, out, _ = run_cli(capsys, "conflicts", "--json", "--config", str(config))
    rows = json.loads(out)
    assert rows[0]["factusol"] == "Pierre A." and rows[0]["prestashop"] == "Pierrot"  # not "\"Pierre A.\""
    assert rows[1]["factusol"] == "***"
    code, out, _ = run_cli(capsys, "conflicts", "--config", str(config))
    assert 'factusol="Pierre A."' in out and '"b"' not in out


def test_log_status_refuses_an_unknown_status(config, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["log", "--status", "bogus", "--config", str(config)])
    assert exit_info.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "error: argument --status: invalid choice: 'bogus'" in err and "quarantined" in err


def test_errors_are_one_sentence_without_exception_names(config, store, capsys):
    code, _, err = run_cli(capsys, "quarantine", "--skip", "99", "--config", str(config))
    assert code == EXIT_ERROR
    assert err.startswith("error: there is no quarantined change #99") and "KeyError" not in err
    code, _, err = run_cli(capsys, "resolve", "99", "--take", "base", "--config", str(config))
    assert code == EXIT_ERROR and err.startswith("error: there is no conflict #99")
    assert error_sentence(KeyError("no conflict with id 3")) == "no conflict with id 3"
    assert error_sentence(ValueError("bad value")) == "bad value"


def test_skip_twice_says_already_skipped(config, store, capsys):
    customer_change(store)
    qid = store.quarantine("customer", "ps:1", "prestashop", "unknown country", change_id=1)
    code, out, _ = run_cli(capsys, "quarantine", "--skip", str(qid), "--config", str(config))
    assert code == 0 and "skipped" in out
    code, _, err = run_cli(capsys, "quarantine", "--skip", str(qid), "--config", str(config))
    assert code == EXIT_ERROR and "already skipped" in err


def test_resolve_twice_says_already_resolved(config, store, capsys):
    cid = store.open_conflict("customer", "ps:4", "firstname", "A", "B", "C")
    assert run_cli(capsys, "resolve", str(cid), "--take", "factusol", "--config", str(config))[0] == 0
    code, _, err = run_cli(capsys, "resolve", str(cid), "--take", "factusol", "--config", str(config))
    assert code == EXIT_ERROR and "already resolved" in err and "ValueError" not in err


def test_help_has_text_for_every_argument_and_examples(capsys):
    from replicator.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - walking argparse's own tree
    seen = 0
    for name, sub in commands.items():
        nested = [a for a in sub._actions if isinstance(a, type(parser._subparsers._group_actions[0]))]
        parsers = list(nested[0].choices.values()) if nested else [sub]
        for p in parsers:
            for action in p._actions:
                if action.dest == "help" or isinstance(action, type(parser._subparsers._group_actions[0])):
                    continue
                assert action.help, f"{p.prog}: {action.dest} has no help text"
            assert p.epilog and "examples:" in p.epilog, f"{p.prog} has no examples"
            seen += 1
    assert seen >= 14
    assert "exit codes:" in parser.epilog and "3 " in parser.epilog


def test_broken_pipe_is_quiet(config, store):
    customer_change(store, 300)
    env = {k: v for k, v in os.environ.items() if k != "PS_UNSET_PASSWORD"}
    result = subprocess.run(
        f"'{sys.executable}' -m replicator.cli log --limit 0 --config '{config}' | head -n 2",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == "", result.stderr


def test_jsonable_times_are_iso_8601():
    from datetime import datetime, timezone

    assert jsonable({"at": datetime(2026, 1, 2, 3, 4, 5)}) == {"at": "2026-01-02T03:04:05+00:00"}
    assert jsonable([datetime(2026, 1, 2, tzinfo=timezone.utc)]) == ["2026-01-02T00:00:00+00:00"]


# --------------------------------------------------------------------------------------------- the store lock


def test_second_lock_is_refused_naming_the_pid(store):
    first = InstanceLock(store, "run")
    first.acquire()
    try:
        with pytest.raises(InstanceLocked) as refused:
            InstanceLock(store, "run").acquire()
        assert f"pid {os.getpid()}" in str(refused.value) and socket.gethostname() in str(refused.value)
    finally:
        first.release()
    assert read_holder(store) is None
    second = InstanceLock(store, "run")
    second.acquire()  # free again after a release
    second.release()


def _plant_holder(store: Store, pid: int, host: str, age_seconds: float) -> None:
    table = Checkpoint.__table__
    with store.engine.begin() as conn:
        conn.execute(
            table.insert().values(
                name=LOCK_NAME,
                value=dumps(
                    {
                        "pid": pid,
                        "host": host,
                        "command": "run",
                        "started_at": "2026-01-01T00:00:00+00:00",
                        "token": "t",
                    }
                ),
                updated_at=utcnow() - timedelta(seconds=age_seconds),
            )
        )


def test_lock_of_a_dead_process_on_this_host_is_taken_over(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _plant_holder(store, dead.pid, socket.gethostname(), 1)
    lock = InstanceLock(store, "run")
    lock.acquire()
    assert read_holder(store).pid == os.getpid()
    lock.release()


def test_lock_of_another_host_waits_for_its_heartbeat_to_age(store):
    _plant_holder(store, 4242, "other-host", 5)
    with pytest.raises(InstanceLocked, match="pid 4242 on host other-host"):
        InstanceLock(store, "run").acquire()
    table = Checkpoint.__table__
    with store.engine.begin() as conn:
        conn.execute(
            update(table).where(table.c.name == LOCK_NAME).values(updated_at=utcnow() - timedelta(seconds=600))
        )
    lock = InstanceLock(store, "run")
    lock.acquire()  # stale: taken over
    lock.release()


def test_run_is_refused_while_another_replicator_holds_the_store(config, store, capsys, monkeypatch):
    monkeypatch.setenv("PS_UNSET_PASSWORD", "x")
    _plant_holder(store, os.getppid(), socket.gethostname(), 1)  # a live process on this host
    code, _, err = run_cli(capsys, "run", "--once", "--config", str(config))
    assert code == EXIT_LOCKED
    assert err.startswith("error: another replicator is running on this state store") and f"pid {os.getppid()}" in err


def test_status_tells_running_not_responding_and_stopped(config, store, capsys):
    store.set_checkpoint(
        "service",
        {
            "capture": {
                "factusol": {"state": "locked", "locked_since": None},
                "prestashop": {"state": "streaming", "file": "bin.3", "pos": 9},
            }
        },
    )
    lock = InstanceLock(store, "run")
    lock.acquire()
    state = service_state(store)
    assert state.state == RUNNING and [w.state for w in state.watchers] == ["locked", "streaming"]
    code, out, _ = run_cli(capsys, "status", "--config", str(config))
    assert f"service:     running: pid {os.getpid()}" in out and "locked" in out and "streaming" in out
    table = Checkpoint.__table__
    with store.engine.begin() as conn:  # as if the holder stopped beating
        conn.execute(
            update(table).where(table.c.name == LOCK_NAME).values(updated_at=utcnow() - timedelta(seconds=300))
        )
    lock._stop.set()  # noqa: SLF001 - no more heartbeats from this holder
    assert service_state(store).state == NOT_RESPONDING
    code, out, _ = run_cli(capsys, "status", "--config", str(config))
    assert "not responding" in out and "5 min ago" in out
    lock.release()
    state = service_state(store)
    assert state.state == STOPPED and all(w.state == "stopped" for w in state.watchers)
    code, out, _ = run_cli(capsys, "status", "--json", "--config", str(config))
    assert json.loads(out)["service"]["state"] == "stopped"


def test_status_service_line_says_paused_while_a_pause_stands(config, store, capsys):
    from replicator.service.pause import request_pause, request_resume

    store.set_checkpoint("service", {"capture": {"factusol": {"state": "idle"}}})
    lock = InstanceLock(store, "run")
    lock.acquire()
    try:
        request_pause(store, "compact and repair")
        code, out, _ = run_cli(capsys, "status", "--config", str(config))
        service_line = next(line for line in out.splitlines() if line.startswith("service:"))
        assert code == 0 and service_line.startswith("service:     paused since") and "compact and repair" in out
        assert f"pid {os.getpid()}" in service_line and "running" not in service_line
        assert not any(line.startswith("paused:") for line in out.splitlines())  # one line, cannot disagree
        code, out, _ = run_cli(capsys, "status", "--json", "--config", str(config))
        assert json.loads(out)["service"]["paused"] is True
        request_resume(store)
        code, out, _ = run_cli(capsys, "status", "--config", str(config))
        assert f"service:     running: pid {os.getpid()}" in out and "paused" not in out  # the pause checkpoint too
    finally:
        lock.release()


def test_stored_error_texts_lose_their_exception_class_names():
    from replicator.masking import without_class_name

    assert without_class_name('OperationalError: (2003, "Can\'t connect")') == '(2003, "Can\'t connect")'
    assert without_class_name("pymysql.err.OperationalError: gone away") == "gone away"
    assert without_class_name("Error: ('HY000', 'database is locked')") == "('HY000', 'database is locked')"
    assert without_class_name("OperationalError: ProgrammingError: bad column") == "bad column"
    assert without_class_name("FactuSOL: the file is locked") == "FactuSOL: the file is locked"  # not a class
    assert without_class_name("") == ""
