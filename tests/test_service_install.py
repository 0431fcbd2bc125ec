"""`replicator service`: the systemd unit (printed, or written to a unit folder and checked by systemd-analyze),
and the Windows glue kept to pywin32's documented service API."""

from __future__ import annotations

import ast
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replicator.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PS_DB_PASSWORD", "x")
    folder = tmp_path / "Datos 100%"  # a space and a systemd specifier character in the path
    assert main(["init", str(folder)]) == 0
    capsys.readouterr()
    return folder / "replicator.yaml"


def _setting(unit: str, key: str) -> str:
    return next(line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(key + "="))


def test_print_shows_the_unit_and_writes_nothing(config, capsys, tmp_path):
    assert main(["service", "install", "--config", str(config), "--print", "--user", "factusol"]) == 0
    captured = capsys.readouterr()
    unit = captured.out
    command = shlex.split(_setting(unit, "ExecStart").replace("%%", "%"))
    assert command == [sys.executable, "-m", "replicator.cli", "run", "--config", str(config)]
    assert _setting(unit, "Restart") == "on-failure"
    assert _setting(unit, "User") == "factusol"
    assert _setting(unit, "KillSignal") == "SIGTERM"
    assert int(_setting(unit, "TimeoutStopSec")) > 10  # beyond the runner's 10 s drain
    assert _setting(unit, "WorkingDirectory") == str(config.parent).replace("%", "%%")
    assert "systemctl daemon-reload && systemctl enable --now replicator" in captured.err
    assert not list(tmp_path.rglob("*.service"))


def test_install_into_a_unit_folder_and_uninstall(config, capsys, tmp_path):
    units = tmp_path / "units"
    assert main(["service", "install", "--config", str(config), "--unit-dir", str(units), "--name", "fs-001"]) == 0
    unit_file = units / "fs-001.service"
    assert f"wrote {unit_file}" in capsys.readouterr().out
    analyze = shutil.which("systemd-analyze")
    if analyze:  # systemd's own reading of the unit: no warning, the command exists
        done = subprocess.run([analyze, "verify", str(unit_file)], capture_output=True, text=True)
        assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    text = unit_file.read_text()
    assert "[Service]" in text and "[Install]" in text and "WantedBy=multi-user.target" in text
    assert main(["service", "uninstall", "--name", "fs-001", "--unit-dir", str(units)]) == 0
    assert not unit_file.exists()


def test_install_refuses_a_config_that_does_not_load(tmp_path, capsys):
    assert main(["service", "install", "--config", str(tmp_path / "missing.yaml"), "--print"]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml" in err and "replicator init" in err and "Traceback" not in err


def test_the_windows_glue_is_not_imported_here():
    with pytest.raises(ImportError, match="Windows service glue"):
        import replicator.service.windows  # noqa: F401


# What replicator/service/windows.py may call: the pywin32 functions and constants read in pywin32's own
# win32serviceutil.py / win32service.i / servicemanager docs when the glue was written.  A new call must be
# checked against pywin32's documentation and added here.
DOCUMENTED = {
    "win32serviceutil": {
        "ServiceFramework",
        "InstallService",
        "ChangeServiceConfig",
        "SetServiceCustomOption",
        "GetServiceCustomOption",
        "RemoveService",
        "StartService",
        "StopService",
        "WaitForServiceStatus",
        "QueryServiceStatus",
    },
    "win32service": {
        "OpenSCManager",
        "OpenService",
        "CloseServiceHandle",
        "ChangeServiceConfig2",
        "error",
        "SC_MANAGER_ALL_ACCESS",
        "SERVICE_ALL_ACCESS",
        "SERVICE_AUTO_START",
        "SERVICE_STOP_PENDING",
        "SERVICE_CONFIG_FAILURE_ACTIONS",
        "SERVICE_CONFIG_FAILURE_ACTIONS_FLAG",
        "SC_ACTION_RESTART",
        "SERVICE_STOPPED",
        "SERVICE_START_PENDING",
        "SERVICE_RUNNING",
        "SERVICE_PAUSED",
    },
    "servicemanager": {
        "LogMsg",
        "LogInfoMsg",
        "LogErrorMsg",
        "EVENTLOG_INFORMATION_TYPE",
        "PYS_SERVICE_STARTED",
        "PYS_SERVICE_STOPPED",
        "__file__",
    },
    "win32evtlogutil": {"AddSourceToRegistry"},
    "winerror": {"ERROR_SERVICE_EXISTS"},
}


def test_the_windows_glue_uses_only_the_reviewed_pywin32_api():
    tree = ast.parse((ROOT / "replicator" / "service" / "windows.py").read_text(encoding="utf-8"))
    used = {
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in DOCUMENTED
    }
    unreviewed = sorted(f"{module}.{name}" for module, name in used if name not in DOCUMENTED[module])
    assert not unreviewed, f"check these against pywin32's documentation first: {unreviewed}"
    assert ("win32serviceutil", "ServiceFramework") in used and ("servicemanager", "LogErrorMsg") in used
