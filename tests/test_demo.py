"""`replicator demo --headless`: the README's first command, end to end, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from replicator.sandbox import mariadb


def test_demo_headless_replicates_stock_changes(tmp_path):
    assert mariadb.available(), "the demo needs mariadb-server (make installs it)"
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "replicator.cli", "demo", "--headless", "--seconds", "8", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    log = result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "FactuSOL user: stock of" in log
    replicated = [line for line in log.splitlines() if "replicator.apply: stock" in line and "->" in line]
    assert replicated, "each FactuSOL stock edit shows up as a shop stock line"
    assert "pedido 1-" in log, "the demo shop's orders became FactuSOL pedidos"
    families = [line for line in log.splitlines() if "replicator.apply: category fam:" in line]
    assert any("created shop category" in line for line in families), "FactuSOL families became shop categories"
    assert any("replicator.apply: category sec:ROP: linked to shop category 3" in line for line in log.splitlines())
    assert "Traceback" not in log
    assert (workdir / "replicator.yaml").exists() and (workdir / "rules").is_dir()
    assert not (workdir / "mysql").exists() or not any(Path(workdir / "mysql").glob("*.pid"))
