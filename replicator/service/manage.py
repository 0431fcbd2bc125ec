"""`replicator service install | uninstall | start | stop | status`: the same command on Linux and Windows.

Linux writes and enables a systemd unit (replicator.service.systemd); Windows installs a real Windows service
(replicator.service.windows, pywin32).  `status` also says what the service itself last published in the state
store (running, paused, stopped) when given the config file.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

WINDOWS = sys.platform == "win32"
DEFAULT_NAME = "FactusolReplicator" if WINDOWS else "replicator"
_BUILTIN_ACCOUNTS = ("localsystem", "nt authority\\localservice", "nt authority\\networkservice")


def _config_path(args) -> Path:
    from replicator.config import load_config

    # fails early, in one sentence, on a config that does not load
    return load_config(args.config, check_files=False).path


def _store_state(config_arg: str) -> dict | None:
    from replicator.config import load_config
    from replicator.store import Store

    try:
        config = load_config(config_arg, check_files=False)
    except Exception:
        return None
    return Store(config.store).checkpoint("service")


def main(args) -> int:
    action, name = args.service_command, args.name or DEFAULT_NAME
    if WINDOWS:
        from replicator.service import windows as glue
    else:
        from replicator.service import systemd as glue
    if action == "install":
        config = _config_path(args)
        if WINDOWS:
            user = args.user
            password = None
            if user and user.lower() not in _BUILTIN_ACCOUNTS:
                password = getpass.getpass(f"password of {user} (for the service to log on): ")
            return glue.install(config, name, user, password)
        unit_dir = Path(args.unit_dir) if args.unit_dir else None
        env_file = Path(args.env_file) if args.env_file else None
        return glue.install(config, name, args.user, env_file, unit_dir, args.print)
    if action == "uninstall":
        return glue.uninstall(name) if WINDOWS else glue.uninstall(name, Path(args.unit_dir) if args.unit_dir else None)
    code = glue.control(action, name)
    if action == "status" and args.config:
        state = _store_state(args.config)
        if state:
            paused = state.get("paused")
            print(
                f"replicator state: {state.get('state', 'unknown')}{' (paused: ' + paused + ')' if paused else ''}"
                f", last report {state.get('at')}"
            )
            if state.get("apply_error"):
                print(f"last apply error: {state['apply_error']}")
        else:
            print("replicator state: no service has reported yet")
    return code


_EXAMPLES = {
    "install": [
        "replicator service install --config /etc/replicator/replicator.yaml --print",
        "replicator service install --config C:\\Replicator\\conf\\replicator.yaml --user .\\replicator",
    ],
    "uninstall": ["replicator service uninstall --name replicator"],
    "start": ["replicator service start --name FactusolReplicator"],
    "stop": ["replicator service stop --name FactusolReplicator"],
    "status": ["replicator service status --config /etc/replicator/replicator.yaml"],
}


def add_parser(sub) -> None:
    """The `service` sub-command (called by replicator.cli.build_parser)."""
    import os

    p = sub.add_parser("service", help="install, control and inspect the replicator as a system service")
    service_sub = p.add_subparsers(dest="service_command", required=True)
    for action, text in (
        ("install", "install the service (systemd unit on Linux, Windows service on Windows)"),
        ("uninstall", "remove the service"),
        ("start", "start the service"),
        ("stop", "stop the service (it finishes the current apply first)"),
        ("status", "the service manager's view, and the replicator's own state with --config"),
    ):
        s = service_sub.add_parser(action, help=text)
        s.add_argument("--name", help=f"service name (default {DEFAULT_NAME}); one service per company file")
        if action in ("install", "status"):
            s.add_argument(
                "--config",
                "-c",
                default=os.environ.get("REPLICATOR_CONFIG")
                if action == "status"
                else os.environ.get("REPLICATOR_CONFIG", "replicator.yaml"),
                help="path to replicator.yaml",
            )
        if action == "install":
            s.add_argument(
                "--user",
                help="account the service runs as (Windows: .\\name or DOMAIN\\name, the "
                "password is asked; Linux: a user name)",
            )
            s.add_argument("--print", action="store_true", help="Linux: print the systemd unit instead of writing it")
            s.add_argument(
                "--env-file", help="Linux: file with PS_DB_PASSWORD=... (default replicator.env beside the config)"
            )
        if action in ("install", "uninstall"):
            s.add_argument(
                "--unit-dir", help="Linux: write the unit here instead of /etc/systemd/system (no systemctl call)"
            )
        s.epilog = "examples:\n" + "\n".join(f"  {line}" for line in _EXAMPLES[action])
        s.formatter_class = argparse.RawDescriptionHelpFormatter
        s.set_defaults(func=main)
