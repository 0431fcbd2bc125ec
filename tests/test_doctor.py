"""`replicator doctor` against the FactuSOL stand-in and the real MariaDB: a good installation passes every check;
a wrong path, a missing driver, a folder the account may not write and a file held exclusively each end in one
sentence naming the file and what to do."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from replicator.cli import main
from replicator.config import render_config
from replicator.prestashop.grants import ledger_ddl
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop

SECRET = "D0ctor-Pa55"


@pytest.fixture
def installation(mysql_server, mysql_db, tmp_path, monkeypatch):
    from replicator.cli import default_rules_dir

    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    connection = create_sandbox(str(fs_path), articles=20, customers=4, seed=3)
    create_shop(mysql_server.url, mysql_db, demo=True)
    user = f"doc_{mysql_db[-6:]}"
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (SECRET,))
        cur.execute(ledger_ddl("ps_", mysql_db))  # created once by an administrator (replicator shop-sql)
        cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{mysql_db}`.* TO '{user}'@'%'")
        cur.execute(f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'")
    host_port = mysql_server.url.split("@", 1)[1].rstrip("/")
    monkeypatch.setenv("PS_DB_PASSWORD", SECRET)
    url = f"mysql://{user}:${{PS_DB_PASSWORD}}@{host_port}/{mysql_db}"
    config = tmp_path / "replicator.yaml"
    config.write_text(render_config(connection, url), encoding="utf-8")
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    return {
        "config": config,
        "fs_path": fs_path,
        "connection": connection,
        "user": user,
        "db": mysql_db,
        "server": mysql_server,
    }


def _doctor(config, capsys, *extra):
    code = main(["doctor", "--config", str(config), *extra])
    captured = capsys.readouterr()
    assert not captured.err, captured.err
    assert SECRET not in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out


def _checks(out: str) -> dict:
    return {c["check"]: c for c in json.loads(out)["checks"]}


def test_a_good_installation_passes_every_check(installation, capsys):
    code, out = _doctor(installation["config"], capsys)
    assert code == 0, out + str(capsys.readouterr())
    assert "all checks passed" in out
    for check in (
        "driver",
        "FactuSOL file",
        "tables and columns",
        "folder writable",
        "write (rolled back)",
        "shop database",
        "shop tables",
        "shop privileges",
        "capture mode",
    ):
        assert f"[ ok ] {check}" in out
    code, out = _doctor(installation["config"], capsys, "--json")
    checks = _checks(out)
    assert code == 0 and json.loads(out)["ok"] is True
    assert checks["capture mode"]["data"]["mode"] == "binlog"
    assert checks["tables and columns"]["data"]["columns"] > 50
    # the rolled-back write left the file as it was
    with sqlite3.connect(installation["fs_path"]) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_missing_privileges_and_binlog_access_are_named(installation, capsys):
    server, user, db = installation["server"], installation["user"], installation["db"]
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"REVOKE DELETE ON `{db}`.* FROM '{user}'@'%'")
        cur.execute(f"REVOKE REPLICATION SLAVE, REPLICATION CLIENT ON *.* FROM '{user}'@'%'")
    code, out = _doctor(installation["config"], capsys, "--json")
    checks = _checks(out)
    assert code == 1
    assert checks["shop privileges"]["status"] == "fail"
    assert "lacks DELETE on" in checks["shop privileges"]["detail"]
    assert f"GRANT DELETE ON `{db}`.*" in checks["shop privileges"]["detail"]
    assert checks["capture mode"]["data"]["mode"] == "poll"
    assert "REPLICATION" in checks["capture mode"]["detail"]


def test_a_wrong_path_names_the_file(installation, capsys):
    config = installation["config"]
    missing = installation["fs_path"].parent / "0992026.sqlite"
    config.write_text(config.read_text().replace(str(installation["fs_path"]), str(missing)), encoding="utf-8")
    code, out = _doctor(config, capsys)
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("[FAIL]"))
    assert str(missing) in line and "was not found" in line and "UNC path" in line


def test_a_missing_access_driver_says_what_to_install(installation, capsys):
    config = installation["config"]
    access = f"DRIVER={{Microsoft Access Driver (*.mdb, *.accdb)}};DBQ={installation['fs_path'].parent}/0012026.accdb"
    config.write_text(config.read_text().replace(installation["connection"], access), encoding="utf-8")
    code, out = _doctor(config, capsys, "--json")
    checks = _checks(out)
    assert code == 1
    assert checks["driver"]["status"] == "fail"
    assert "Microsoft Access ODBC driver" in checks["driver"]["detail"]
    assert "FactuSOL file" not in checks  # nothing after a missing driver
    assert checks["shop database"]["status"] == "ok"  # the shop part still runs


def test_a_file_held_exclusively_is_said_so(installation, capsys):
    holder = sqlite3.connect(installation["fs_path"], timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, out = _doctor(installation["config"], capsys, "--json")
    finally:
        holder.rollback()
        holder.close()
    checks = _checks(out)
    assert code == 1
    detail = checks["FactuSOL file"]["detail"]
    assert str(installation["fs_path"]) in detail and "held exclusively" in detail and "replicator pause" in detail


def test_a_folder_the_account_may_not_write(installation, tmp_path):
    """Run as an unprivileged account (root writes anywhere) on a data folder it may read but not write."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run the check as another account")
    folder = installation["fs_path"].parent
    for parent in tmp_path.parents:  # pytest's own temp folders are private to root: let the account through
        if parent == parent.parent or parent.stat().st_mode & 0o005 == 0o005:
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    for path in (tmp_path, tmp_path / "rules", folder):
        path.chmod(0o755)
    for path in (tmp_path / "rules").iterdir():
        path.chmod(0o644)
    installation["config"].chmod(0o644)
    for path in folder.iterdir():  # the file (and any -wal/-shm of the stand-in) writable; the folder is not
        path.chmod(0o666)
    env = dict(os.environ, HOME=str(tmp_path))
    done = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "replicator.cli",
            "doctor",
            "--config",
            str(installation["config"]),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout.strip(), done.stdout[-2000:] + done.stderr[-2000:]
    checks = _checks(done.stdout)
    assert checks["folder writable"]["status"] == "fail"
    assert str(folder) in checks["folder writable"]["detail"]
    assert "Modify rights" in checks["folder writable"]["detail"]
