"""The `replicator` command line: one sub-command per job, all over the same config and state store.

Errors reach the user as one clear line (secrets redacted) and a non-zero exit code, never a traceback;
`--debug` shows the traceback for developers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

from replicator import __version__
from replicator.config import (CONFIG_NAME, ConfigError, default_rules_dir, install_log_redaction, load_config, redact,
                               render_config)
from replicator.rules.errors import RulesError
from replicator.prestashop.support import UnsupportedShopError

log = logging.getLogger("replicator")
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _user_facing_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message is already one sentence for the user (what, and what to do)."""
    from replicator.daemon import PausedError
    from replicator.factusol.errors import FactusolDriverError, FactusolFileError, FactusolNotWritableError

    return PausedError, FactusolDriverError, FactusolFileError, FactusolNotWritableError


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default=os.environ.get("REPLICATOR_CONFIG", CONFIG_NAME),
                   help=f"path to {CONFIG_NAME} (default: ./{CONFIG_NAME} or $REPLICATOR_CONFIG)")


def _print_json(value: Any) -> None:
    print(redact(json.dumps(value, indent=2, default=str, ensure_ascii=False)))


def _print_rows(args, rows: list, line, empty: str = "") -> int:
    """A listing command's output: JSON of the records with --json, else one `line(row)` per record."""
    if args.json:
        _print_json([row.model_dump() for row in rows])
        return EXIT_OK
    if not rows and empty:
        print(empty)
    for row in rows:
        print(redact(line(row)))
    return EXIT_OK


def _setup_logging(level: str = "INFO", log_file: Path | None = None) -> None:
    from replicator.console import SafeStreamHandler

    handlers: list[logging.Handler] = [SafeStreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=getattr(logging, level, logging.INFO), handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
    install_log_redaction()


def _open_store(config):
    from replicator.store import Store

    return Store(config.store)


# --------------------------------------------------------------------------------------------- commands


def cmd_init(args) -> int:
    target = Path(args.dir).expanduser().resolve()
    target.mkdir(parents=True, exist_ok=True)
    config_path = target / CONFIG_NAME
    if config_path.exists() and not args.force:
        print(f"{config_path} already exists (use --force to overwrite)", file=sys.stderr)
        return EXIT_USAGE
    if bool(args.data_dir) != bool(args.company):
        print("error: give --data-dir and --company together (the FactuSOL data folder and the 3-character company"
              " code, e.g. 001)", file=sys.stderr)
        return EXIT_USAGE
    config_path.write_text(render_config(args.factusol, args.prestashop, data_dir=args.data_dir,
                                         company=args.company), encoding="utf-8")
    rules_target = target / "rules"
    if not rules_target.exists() or args.force:
        shutil.copytree(default_rules_dir(), rules_target, dirs_exist_ok=True)
    print(f"wrote {config_path}")
    print(f"copied the default rules to {rules_target}")
    print(f"next: edit the file, then `replicator config validate --config {config_path}`")
    return EXIT_OK


def cmd_config_validate(args) -> int:
    config = load_config(args.config)
    from replicator.rules import check_rules

    problems = check_rules([str(config.rules_dir)])
    for problem in problems:
        print(problem)
    if problems:
        return EXIT_ERROR
    print("configuration is valid:")
    _print_json(config.describe())
    return EXIT_OK


def cmd_sandbox_factusol(args) -> int:
    from replicator.sandbox.factusol import create_sandbox

    conn = create_sandbox(args.path, articles=args.articles, customers=args.customers, seed=args.seed)
    print(f"FactuSOL stand-in created at {Path(args.path).resolve()}")
    print(f"connection string (factusol.connection / replicator init --factusol):\n  {conn}")
    return EXIT_OK


def cmd_sandbox_prestashop(args) -> int:
    from replicator.sandbox.shop import create_shop

    url = create_shop(args.mysql, args.database, demo=args.demo, products=args.products,
                      customers=args.customers, prefix=args.prefix)
    print(f"PrestaShop sandbox database `{args.database}` created")
    print(f"URL (prestashop.url / replicator init --prestashop):\n  {redact(url)}")
    return EXIT_OK


def cmd_run(args) -> int:
    from replicator.hosting import prepare_shop

    config = load_config(args.config)
    _setup_logging(config.log_level, config.log_file)
    prepare_shop(config, retry=not args.once)  # the SSH tunnel (prestashop.ssh, retried by the service), grants
    if args.once:
        from replicator.daemon import run_once_command

        return run_once_command(config)
    from replicator.service.runner import ServiceRunner

    return ServiceRunner(config).run_in_foreground()  # SIGTERM / Ctrl-C: a clean drain


def cmd_tui(args) -> int:
    from tui.app import run_tui

    load_config(args.config)  # fail early with a clear message
    return run_tui(args.config, readonly=args.readonly)


def cmd_status(args) -> int:
    config = load_config(args.config)
    from replicator.sync.shop_state import mode_line

    summary = _open_store(config).status_summary()
    summary["config"] = config.describe()
    summary["order_states"] = mode_line(config)
    if args.json:
        _print_json(summary)
        return EXIT_OK
    changes = summary["changes"]
    print(f"config: {config.path}")
    print("changes: " + (", ".join(f"{k} {v}" for k, v in sorted(changes.items())) or "none"))
    print(f"open conflicts: {summary['open_conflicts']}   quarantined: {summary['open_quarantine']}")
    print(summary["order_states"])
    from replicator.service.pause import describe, pause_request

    pause = pause_request(_open_store(config))
    if pause:
        print(f"service: {describe(pause)}; `replicator resume` to go on")
    for name, value in sorted(summary["checkpoints"].items()):
        print(f"checkpoint {name}: {redact(json.dumps(value, default=str))}")
    return EXIT_OK


def cmd_pause(args) -> int:
    """Give FactuSOL its file: ask the service to pause and wait until it says it has let go of the file."""
    import time

    from replicator.service.pause import request_pause, service_report

    config = load_config(args.config)
    store = _open_store(config)
    request_pause(store, args.reason)
    fresh = max(30.0, 5 * config.apply_interval_seconds)
    if service_report(store, fresh) is None:
        print("pause recorded; no service is running now: one started later stays paused until "
              "`replicator resume`")
        return EXIT_OK
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        report = store.checkpoint("service") or {}
        if report.get("state") in ("paused", "stopped") and not report.get("factusol_open"):
            print("paused: the service has closed the FactuSOL file; FactuSOL can compact/repair or restore it "
                  "now. Run `replicator resume` when it is done")
            return EXIT_OK
        time.sleep(0.5)
    print(f"error: the service has not confirmed the pause within {args.wait:.0f} s (it may be finishing a long "
          "apply): check `replicator status` before FactuSOL's maintenance", file=sys.stderr)
    return EXIT_ERROR


def cmd_resume(args) -> int:
    from replicator.service.pause import request_resume

    config = load_config(args.config)
    standing = request_resume(_open_store(config))
    print("resumed: the service scans the whole FactuSOL file, then applies what waited" if standing else
          "the replicator was not paused")
    return EXIT_OK


def cmd_log(args) -> int:
    config = load_config(args.config)
    rows = _open_store(config).changes(status=args.status, entity=args.entity, side=args.side)
    rows = rows[-args.limit:] if args.limit else rows
    return _print_rows(args, rows, lambda row: (
        f"{row.id:>6} {row.captured_at:%Y-%m-%d %H:%M:%S} {row.side:<10} {row.entity:<9} "
        f"{row.source_table:<18} {row.op:<6} {row.row_key:<24} {row.status:<11} {row.detail}"))


def cmd_conflicts(args) -> int:
    config = load_config(args.config)
    rows = _open_store(config).conflicts(status=None if args.all else "open")
    return _print_rows(args, rows, lambda row: (
        f"#{row.id} {row.entity} {row.key} field {row.field}: base={row.base} "
        f"factusol={row.factusol} prestashop={row.prestashop} [{row.status}]"), "no open conflicts")


def cmd_resolve(args) -> int:
    config = load_config(args.config)
    store = _open_store(config)
    conflict = store.conflict(args.id)
    if conflict is None:
        print(f"no conflict with id {args.id}", file=sys.stderr)
        return EXIT_ERROR
    if args.field and args.field != conflict.field:
        print(f"conflict #{args.id} is about field {conflict.field}, not {args.field}", file=sys.stderr)
        return EXIT_ERROR
    if args.value is not None:
        try:
            value = json.loads(args.value)
        except json.JSONDecodeError:
            value = args.value
        resolved = store.resolve_conflict(args.id, "custom", value)
    elif args.take:
        resolved = store.resolve_conflict(args.id, args.take)
    else:
        print("give --take factusol|prestashop|base or --value VALUE", file=sys.stderr)
        return EXIT_USAGE
    print(f"conflict #{resolved.id} ({resolved.entity} {resolved.key} {resolved.field}) resolved with "
          f"{resolved.resolved_by}: {resolved.resolution}; it is applied on the next cycle")
    return EXIT_OK


def cmd_quarantine(args) -> int:
    config = load_config(args.config)
    store = _open_store(config)
    if args.skip is not None:
        store.skip_quarantine(args.skip)
        print(f"quarantined change #{args.skip} skipped")
        return EXIT_OK
    return _print_rows(args, store.quarantined(), lambda row: (
        f"#{row.id} {row.entity} {row.key} from {row.side}: {row.reason} (tries {row.attempts})"),
        "nothing quarantined")


def cmd_link(args) -> int:
    """A person's answer to an ambiguous match: this FactuSOL record is that shop record."""
    config = load_config(args.config)
    store = _open_store(config)
    for side, value in (("factusol", args.factusol), ("prestashop", args.prestashop)):
        existing = store.map_id(args.entity, **{"factusol_key" if side == "factusol" else "prestashop_id": value})
        if existing:
            print(f"{args.entity} {side} {value} is already linked (FactuSOL {existing.factusol_key} <-> "
                  f"shop {existing.prestashop_id})", file=sys.stderr)
            return EXIT_ERROR
    store.link(args.entity, args.factusol, args.prestashop)
    print(f"linked {args.entity}: FactuSOL {args.factusol} <-> shop {args.prestashop}; quarantined changes of it "
          "are retried on the next cycle (only blank fields are filled on a first link)")
    return EXIT_OK


def cmd_rules_check(args) -> int:
    from replicator.rules import rules_check_main

    return rules_check_main(args.paths or [str(default_rules_dir())])


def cmd_doctor(args) -> int:
    from replicator.doctor import main as doctor_main

    return doctor_main(args)


def cmd_demo(args) -> int:
    from replicator.sandbox.demo import run_demo

    _setup_logging("INFO")
    headless = args.headless or not (sys.stdout.isatty() and sys.stdin.isatty())  # no terminal: log lines
    return run_demo(headless=headless, seconds=args.seconds, workdir=args.workdir)


# --------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="replicator", description="FactuSOL ⇄ PrestaShop replicator")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="write a commented replicator.yaml and copy the default rules")
    p.add_argument("dir")
    p.add_argument("--factusol", help="pyodbc connection string of the FactuSOL file")
    p.add_argument("--prestashop", help="mysql:// URL of the shop database")
    p.add_argument("--data-dir", help="FactuSOL data folder (Datos\\FS; a UNC path on a network): follow the newest "
                                      "fiscal-year file of --company")
    p.add_argument("--company", help="3-character FactuSOL company code (with --data-dir), e.g. 001")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("config", help="configuration tools")
    config_sub = p.add_subparsers(dest="config_command", required=True)
    v = config_sub.add_parser("validate", help="check replicator.yaml and the rules")
    _config_arg(v)
    v.set_defaults(func=cmd_config_validate)

    p = sub.add_parser("sandbox", help="create stand-in databases to try the replicator")
    sandbox_sub = p.add_subparsers(dest="sandbox_command", required=True)
    f = sandbox_sub.add_parser("factusol", help="a schema-faithful FactuSOL stand-in (SQLite via ODBC)")
    f.add_argument("path")
    f.add_argument("--articles", type=int, default=1000)
    f.add_argument("--customers", type=int, default=200)
    f.add_argument("--seed", type=int, default=0)
    f.set_defaults(func=cmd_sandbox_factusol)
    s = sandbox_sub.add_parser("prestashop", help="a PrestaShop database with the tables the replicator uses")
    s.add_argument("--mysql", required=True, help="mysql://user:pass@host:port/ of the server")
    s.add_argument("--database", default="prestashop")
    s.add_argument("--demo", action="store_true", help="seed like a fresh shop with demo data")
    s.add_argument("--products", type=int, default=50)
    s.add_argument("--customers", type=int, default=20)
    s.add_argument("--prefix", default="ps_")
    s.set_defaults(func=cmd_sandbox_prestashop)

    p = sub.add_parser("run", help="run headless (as a service); --once: capture and apply what is pending, then exit")
    _config_arg(p)
    p.add_argument("--once", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tui", help="the terminal UI: change log, conflicts, quarantine")
    _config_arg(p)
    p.add_argument("--readonly", action="store_true")
    p.set_defaults(func=cmd_tui)

    for name, func, text in (("status", cmd_status, "summary of the store"),
                             ("log", cmd_log, "the change log"),
                             ("conflicts", cmd_conflicts, "open conflicts")):
        p = sub.add_parser(name, help=text)
        _config_arg(p)
        p.add_argument("--json", action="store_true")
        if name == "log":
            p.add_argument("--status")
            p.add_argument("--entity")
            p.add_argument("--side", choices=["factusol", "prestashop"])
            p.add_argument("--limit", type=int, default=200)
        if name == "conflicts":
            p.add_argument("--all", action="store_true", help="include resolved conflicts")
        p.set_defaults(func=func)

    p = sub.add_parser("resolve", help="resolve a conflict")
    p.add_argument("id", type=int)
    p.add_argument("--take", choices=["factusol", "prestashop", "base"])
    p.add_argument("--value", help="a custom value (JSON or plain text)")
    p.add_argument("--field", help="check that the conflict is about this field")
    _config_arg(p)
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("quarantine", help="list quarantined changes, or skip one")
    _config_arg(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--skip", type=int, metavar="ID")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("link", help="link a FactuSOL record to a shop record by hand (ambiguous matches)")
    p.add_argument("entity", choices=["customer", "product"])
    p.add_argument("--factusol", required=True, help="F_CLI.CODCLI or F_ART.CODART")
    p.add_argument("--prestashop", required=True, help="id_customer or id_product")
    _config_arg(p)
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("rules", help="rule file tools")
    rules_sub = p.add_subparsers(dest="rules_command", required=True)
    c = rules_sub.add_parser("check", help="validate rule files: file:line:col: message")
    c.add_argument("paths", nargs="*")
    c.set_defaults(func=cmd_rules_check)

    p = sub.add_parser("pause", help="give FactuSOL its file (compact/repair, restore): the service stops "
                                     "scanning and applying and closes the file until `replicator resume`")
    _config_arg(p)
    p.add_argument("--reason", default="", help="shown in `replicator status` (default: FactuSOL maintenance)")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the service to confirm (30)")
    p.set_defaults(func=cmd_pause)
    p = sub.add_parser("resume", help="end a pause: the service scans the whole file and goes on")
    _config_arg(p)
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("doctor", help="check this installation end to end (driver, file, columns, rights, shop)")
    _config_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)

    from replicator.service.manage import add_parser as add_service_parser

    add_service_parser(sub)

    p = sub.add_parser("demo", help="everything local, nothing to configure")
    p.add_argument("--headless", action="store_true", help="log lines instead of the TUI")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--workdir", help="keep the demo files here (default: a temp folder)")
    p.set_defaults(func=cmd_demo)
    from replicator.hosting import add_commands

    add_commands(sub, _config_arg)  # shop-sql, ssh trust
    return parser


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen Windows build: lets the initial sync's child process start
    from replicator.console import make_standard_streams_safe

    make_standard_streams_safe()  # a cp1252 console or pipe shows '?' for what it cannot show, never crashes
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable = args.func
    try:
        return handler(args) or EXIT_OK
    except ConfigError as exc:
        print(f"configuration error: {redact(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except RulesError as exc:
        print("the rule files have errors; nothing was started:", file=sys.stderr)
        for problem in exc.errors:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except UnsupportedShopError as exc:
        print(f"error: {redact(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130

    except Exception as exc:  # the last line of defence: one clear, redacted line
        if args.debug:
            raise
        if isinstance(exc, _user_facing_errors()):
            print(f"error: {redact(exc)}", file=sys.stderr)
            return EXIT_ERROR
        from replicator.hosting import sentence_of

        sentence = sentence_of(exc)  # our own errors (the SSH tunnel's) carry their sentence
        print(f"error: {sentence}" if sentence else f"error: {type(exc).__name__}: {redact(exc)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
