"""`replicator service` on Linux: a systemd unit that runs `replicator run --config FILE`.

As root the unit is written to /etc/systemd/system and enabled; otherwise (or with --print) it is printed with the
commands to run as root.  systemd's stop sends SIGTERM, which the service runner drains within 10 s; the unit gives
it 30 s before SIGKILL and restarts it on failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

UNIT_DIR = Path("/etc/systemd/system")


def _quote(arg: str) -> str:
    """One ExecStart argument as systemd reads it (double quotes when needed; \\ and " escaped)."""
    if arg and not any(c in arg for c in " \t\"\\'$%;"):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")
    return f'"{escaped}"'


def _path(path: Path) -> str:
    """A path setting as systemd reads it: taken literally (spaces too), only % specifiers escaped."""
    return str(path).replace("%", "%%")


def render_unit(
    config: Path, name: str, user: str | None = None, env_file: Path | None = None, python: str | None = None
) -> str:
    """The text of the unit file for the replicator of `config`."""
    command = " ".join(
        _quote(a) for a in [python or sys.executable, "-m", "replicator.cli", "run", "--config", str(config)]
    )
    lines = [
        "# Written by `replicator service install`: the FactuSOL <-> PrestaShop replicator as a service.",
        "[Unit]",
        f"Description=FactuSOL <-> PrestaShop replicator ({name})",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={command}",
        f"WorkingDirectory={_path(config.parent)}",
        # The shop password: PS_DB_PASSWORD=... in this root-only file, never in the unit itself.
        f"EnvironmentFile=-{_path(env_file or config.parent / 'replicator.env')}",
        "Environment=PYTHONUNBUFFERED=1",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=30",
        "Restart=on-failure",
        "RestartSec=10",
    ]
    if user:
        lines.append(f"User={user}")
    lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return bool(geteuid and geteuid() == 0)


def _systemctl(*args: str) -> int:
    if not shutil.which("systemctl"):
        print(
            "error: systemctl was not found: this system does not run systemd; run `replicator run --config "
            "FILE` from its own service manager",
            file=sys.stderr,
        )
        return 1
    return subprocess.run(["systemctl", *args]).returncode


def install(
    config: Path, name: str, user: str | None, env_file: Path | None, unit_dir: Path | None, print_only: bool
) -> int:
    text = render_unit(config, name, user, env_file)
    target_dir = unit_dir or UNIT_DIR
    unit = target_dir / f"{name}.service"
    if print_only or (unit_dir is None and not _is_root()):
        print(text)
        print(f"# as root: save the lines above as {unit}, then run:", file=sys.stderr)
        print(f"#   systemctl daemon-reload && systemctl enable --now {name}", file=sys.stderr)
        return 0
    target_dir.mkdir(parents=True, exist_ok=True)
    unit.write_text(text, encoding="utf-8")
    print(f"wrote {unit}")
    if unit_dir is not None:  # a unit folder of the caller's: they load it themselves
        return 0
    code = _systemctl("daemon-reload") or _systemctl("enable", "--now", name)
    if code == 0:
        print(f"service {name} enabled and started; `replicator service status --name {name}` shows it")
    return code


def uninstall(name: str, unit_dir: Path | None) -> int:
    unit = (unit_dir or UNIT_DIR) / f"{name}.service"
    if unit_dir is None:
        _systemctl("disable", "--now", name)
    if unit.exists():
        unit.unlink()
        print(f"removed {unit}")
    else:
        print(f"no unit {unit} to remove")
    if unit_dir is None:
        return _systemctl("daemon-reload")
    return 0


def control(action: str, name: str) -> int:
    """start | stop | status through systemctl (status: systemctl's own view of the unit)."""
    return _systemctl(action, "--no-pager", name) if action == "status" else _systemctl(action, name)
