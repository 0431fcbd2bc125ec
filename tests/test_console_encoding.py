"""Output never crashes on the console's encoding: the real command in a cp1252 pipe, and the log handler."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys

from replicator.console import SafeStreamHandler


def _run_cp1252(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="cp1252", PYTHONUTF8="0")
    return subprocess.run(
        [sys.executable, "-m", "replicator.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=120,
    )


def test_help_in_a_cp1252_pipe(tmp_path):
    done = _run_cp1252("--help")
    assert done.returncode == 0, done.stderr.decode("cp1252", "replace")
    out = done.stdout.decode("cp1252")  # what the pipe carries is cp1252
    assert "FactuSOL ? PrestaShop" in out  # the ⇄ cp1252 cannot show is replaced, not a crash
    assert b"UnicodeEncodeError" not in done.stderr


def test_a_command_printing_characters_cp1252_cannot_show(tmp_path):
    target = tmp_path / "Datos Ω ⇄ Ñandú"  # Ñ and ú exist in cp1252; Ω and ⇄ do not
    done = _run_cp1252("init", str(target))
    assert done.returncode == 0, done.stderr.decode("cp1252", "replace")
    out = done.stdout.decode("cp1252")
    assert "Datos ? ? Ñandú" in out
    assert (target / "replicator.yaml").exists()
    # and its error path: the same folder again is refused in one line, not a traceback
    again = _run_cp1252("init", str(target))
    assert again.returncode == 2
    err = again.stderr.decode("cp1252")
    assert "already exists" in err and "Traceback" not in err


def test_log_handler_replaces_what_the_stream_cannot_show():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", errors="strict", write_through=True)
    logger = logging.getLogger("replicator.test.console")
    logger.propagate = False
    handler = SafeStreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("cliente Muñoz ⇄ pedido 7 — 5 €")
    finally:
        logger.removeHandler(handler)
    assert raw.getvalue().decode("cp1252") == "cliente Muñoz ? pedido 7 — 5 €\n"
