"""The `replicator` command line: one sub-command per job, all over the same config and state store.

Errors reach the user as one clear line, `error: <what and what to do>` (secrets redacted), and an exit code
(`replicator.cli_output`: EXIT_*), never a traceback; `--debug` shows the traceback for developers.  A new
sub-command raises `UserError`, prints records with `_print_rows`/`print_json` and gives every argument a help
text; `_examples` adds its examples to `--help`.  Commands that only read or write the store load the
configuration with `_store_config` (no shop password needed).
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
from replicator.cli_output import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    UserError,  # noqa: F401
    error_sentence,
    jsonable,
    print_json,
    run_command,
)  # EXIT_ERROR: for sub-commands
from replicator.config import CONFIG_NAME, default_rules_dir, load_config, redact, render_config
from replicator.logsetup import setup_logging

log = logging.getLogger("replicator")
CHANGE_STATUSES = ("pending", "applied", "echo", "conflict", "quarantined", "skipped")


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error style: `error: <sentence>` and where to look, exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        "-c",
        default=os.environ.get("REPLICATOR_CONFIG", CONFIG_NAME),
        metavar="FILE",
        help=f"path to {CONFIG_NAME} (default: ./{CONFIG_NAME} or $REPLICATOR_CONFIG)",
    )


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json", action="store_true", help="print JSON (objects, ISO 8601 times, credentials masked) instead of text"
    )


def _examples(p: argparse.ArgumentParser, *lines: str) -> None:
    """Examples at the end of a sub-command's --help."""
    p.epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)
    p.formatter_class = argparse.RawDescriptionHelpFormatter


def _print_json(value: Any) -> None:
    print_json(value)


def _print_rows(args, rows: list, line, empty: str = "") -> int:
    """A listing command's output: JSON of the records with --json, else one `line(row)` per record."""
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows and empty:
        print(empty)
    for row in rows:
        print(redact(line(row)))
    return EXIT_OK


def _setup_logging(level: str = "INFO", log_file: Path | None = None) -> None:
    setup_logging(level, log_file)


def _store_config(args):
    """The configuration for a command that only uses the state store: no shop or FactuSOL password needed."""
    return load_config(args.config, need_secrets=False)


def _open_store(config):
    from replicator.store import Store

    return Store(config.store, config.store_namespace)


# --------------------------------------------------------------------------------------------- commands


def cmd_init(args) -> int:
    target = Path(args.dir).expanduser().resolve()
    target.mkdir(parents=True, exist_ok=True)
    config_path = target / CONFIG_NAME
    if config_path.exists() and not args.force:
        raise UserError(f"{config_path} already exists; use --force to overwrite it", EXIT_USAGE)
    if bool(args.data_dir) != bool(args.company):
        raise UserError(
            "give --data-dir and --company together (the FactuSOL data folder and the 3-character "
            "company code, e.g. 001)",
            EXIT_USAGE,
        )
    config_path.write_text(
        render_config(args.factusol, args.prestashop, data_dir=args.data_dir, company=args.company), encoding="utf-8"
    )
    rules_target = target / "rules"
    if not rules_target.exists() or args.force:
        shutil.copytree(default_rules_dir(), rules_target, dirs_exist_ok=True)
    print(f"wrote {config_path}")
    print(f"copied the default rules to {rules_target}")
    print(f"next: edit the file, then `replicator config validate --config {config_path}`")
    return EXIT_OK


def cmd_config_validate(args) -> int:
    config = load_config(args.config, need_secrets=not args.offline)
    from replicator.rules import check_rules

    problems = check_rules([str(config.rules_dir)])
    for problem in problems:
        print(problem)
    if problems:
        raise UserError(
            f"the rule files in {config.rules_dir} have {len(problems)} error(s) (listed above)", EXIT_USAGE
        )
    failures = [] if args.offline else _check_connections(config)
    if failures:
        raise UserError("; ".join(failures))
    print(
        "configuration is valid"
        + (" (connections not tried: --offline)" if args.offline else " and both databases answer")
        + ":"
    )
    print_json(config.describe())
    return EXIT_OK


def _check_connections(config) -> list[str]:
    """Open the FactuSOL file and the shop database once each; one line per side, the failures returned."""
    from replicator.factusol.connection import open_factusol
    from replicator.factusol.years import connection_string
    from replicator.prestashop.connection import connect

    failures = []
    checks = (
        ("FactuSOL", lambda: open_factusol(connection_string(config.factusol), retries=0)),
        ("PrestaShop", lambda: connect(config.prestashop.url)),
    )
    for name, opener in checks:
        try:
            opener().close()
        except Exception as exc:  # each side is reported, the other is still tried
            failures.append(f"{name}: {error_sentence(exc)}")
            print(f"{name}: cannot connect", file=sys.stderr)
        else:
            print(f"{name}: connected")
    return failures


def cmd_sandbox_factusol(args) -> int:
    from replicator.sandbox.factusol import create_sandbox

    conn = create_sandbox(args.path, articles=args.articles, customers=args.customers, seed=args.seed)
    print(f"FactuSOL stand-in created at {Path(args.path).resolve()}")
    print(f"connection string (factusol.connection / replicator init --factusol):\n  {conn}")
    return EXIT_OK


def cmd_sandbox_prestashop(args) -> int:
    from replicator.sandbox.shop import create_shop

    url = create_shop(
        args.mysql, args.database, demo=args.demo, products=args.products, customers=args.customers, prefix=args.prefix
    )
    print(f"PrestaShop sandbox database `{args.database}` created")
    print(f"URL (prestashop.url / replicator init --prestashop):\n  {redact(url)}")
    return EXIT_OK


def cmd_run(args) -> int:
    from replicator.hosting import prepare_shop
    from replicator.instance_lock import ensure_free

    config = load_config(args.config)
    _setup_logging(config.log_level, config.log_file)
    ensure_free(_open_store(config))  # a second replicator is refused before it opens a tunnel or a connection
    prepare_shop(config, retry=not args.once)  # the SSH tunnel (prestashop.ssh, retried by the service), grants
    if args.once:
        from replicator.daemon import run

        return run(config, once=True)
    from replicator.service.runner import ServiceRunner

    return ServiceRunner(config).run_in_foreground()  # SIGTERM / Ctrl-C: a clean drain


def cmd_resync(args) -> int:
    from replicator.runtime import open_runtime
    from replicator.resync import ENTITIES, render, resync

    config = load_config(args.config)
    _setup_logging("WARNING" if args.json else config.log_level, config.log_file)
    entities = [args.entity] if args.entity else list(ENTITIES)
    from replicator.hosting import prepare_shop

    prepare_shop(config)  # the SSH tunnel when the shop is reached through one
    runtime = open_runtime(config)
    try:
        reports = resync(runtime.engine, entities, args.keys or None, dry_run=args.dry_run)
    finally:
        runtime.close()
    if args.json:
        _print_json({"dry_run": args.dry_run, "entities": {e: r.as_dict() for e, r in reports.items()}})
    else:
        for line in render(reports, args.dry_run):
            print(line)
    failed = any(r.outcomes.get("quarantined") for r in reports.values())
    return EXIT_ERROR if failed else EXIT_OK


def cmd_tui(args) -> int:
    from tui.app import run_tui

    _store_config(args)  # fail early with a clear message
    return run_tui(args.config, readonly=args.readonly)


def cmd_status(args) -> int:
    from replicator.service_state import service_state
    from replicator.sync.shop_state import mode_line

    config = _store_config(args)
    if getattr(args, "all", False):
        return _status_all(config, args.json)
    store = _open_store(config)
    summary = store.status_summary()
    service = service_state(store)
    summary["checkpoints"] = {
        name: value for name, value in summary["checkpoints"].items() if name not in ("service", "service.lock")
    }  # both are in "service", in words
    summary["service"] = service.as_dict()
    summary["config"] = config.describe()
    summary["order_states"] = mode_line(config)
    if args.json:
        print_json(summary)
        return EXIT_OK
    changes = summary["changes"]
    print(f"config:      {config.path}")
    print(f"service:     {service.sentence()}")
    for watcher in service.watchers:
        print(f"  {watcher.side:<11}{redact(watcher.describe())}")
    if service.apply_error:
        print(f"  last apply error: {redact(service.apply_error)}")
    print("changes:     " + (", ".join(f"{k} {changes.get(k, 0)}" for k in CHANGE_STATUSES) if changes else "none"))
    print(f"open:        {summary['open_conflicts']} conflict(s), {summary['open_quarantine']} quarantined")
    print(summary["order_states"])
    _print_lock(store)
    points = _checkpoint_lines(store)
    if points:
        print("checkpoints:")
        for line in points:
            print(f"  {redact(line)}")
    return EXIT_OK


def _status_all(config, as_json: bool) -> int:
    """`status --all`: each instance (store_namespace) keeping its state in the same PostgreSQL store."""
    from replicator.store import Store

    names = Store.namespaces(config.store)
    stores = {name: Store(config.store, name) for name in names}
    summaries = {name: store.status_summary() for name, store in stores.items()}
    if as_json:
        print_json(summaries)
        return EXIT_OK
    if not names:
        print(f"no instances in {redact(config.store)} (store_namespace is set per instance in replicator.yaml)")
    for name, summary in summaries.items():
        changes = ", ".join(f"{k} {v}" for k, v in sorted(summary["changes"].items())) or "no changes"
        print(
            f"{name}: {changes}; open conflicts {summary['open_conflicts']}; quarantined {summary['open_quarantine']}"
        )
        _print_lock(stores[name])
    return EXIT_OK


def _checkpoint_lines(store) -> list[str]:
    """Each capture checkpoint as 'name: key value, ... (updated ...)', readable rather than a JSON blob."""
    from replicator.cli_output import iso_time
    from replicator.service_state import SERVICE_CHECKPOINT

    lines = []
    for name, (value, updated_at) in sorted(store.checkpoint_times().items()):
        if name in (SERVICE_CHECKPOINT, "service.lock", "pause"):
            continue  # all three are told on the `service:` line
        if isinstance(value, dict):
            text = ", ".join(f"{k} {_short(v)}" for k, v in value.items() if not isinstance(v, (dict, list)))
            nested = [k for k, v in value.items() if isinstance(v, (dict, list))]
            if nested:
                text += (", " if text else "") + "+ " + ", ".join(nested)
        else:
            text = _short(value)
        lines.append(f"{name}: {text} (updated {iso_time(updated_at)})")
    return lines


def _short(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_lock(store) -> None:
    """`FactuSOL file: locked since ...` while the service finds the file held by another program."""
    from replicator.halt import halted
    from replicator.service_state import SERVICE_CHECKPOINT

    stopped = halted(store)
    if stopped:
        print(f"applying is STOPPED since {stopped.get('since', '?').replace('T', ' ')}: {stopped.get('reason')}")
        print(f"  run {stopped.get('command')}")
    factusol = ((store.checkpoint(SERVICE_CHECKPOINT) or {}).get("capture") or {}).get("factusol") or {}
    if factusol.get("locked_since"):
        since = str(factusol["locked_since"]).replace("T", " ")
        print(
            f"FactuSOL file: locked since {since} ({redact(factusol.get('last_error') or 'held by another program')})"
        )


def cmd_pause(args) -> int:
    """Give FactuSOL its file: ask the service to pause and wait until it says it has let go of the file."""
    import time

    from replicator.service.pause import request_pause, service_report

    config = _store_config(args)
    store = _open_store(config)
    request_pause(store, args.reason)
    fresh = max(30.0, 5 * config.apply_interval_seconds)
    if service_report(store, fresh) is None:
        print("pause recorded; no service is running now: one started later stays paused until `replicator resume`")
        return EXIT_OK
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        report = store.checkpoint("service") or {}
        if report.get("state") in ("paused", "stopped") and not report.get("factusol_open"):
            print(
                "paused: the service has closed the FactuSOL file; FactuSOL can compact/repair or restore it "
                "now. Run `replicator resume` when it is done"
            )
            return EXIT_OK
        time.sleep(0.5)
    raise UserError(
        f"the service has not confirmed the pause within {args.wait:.0f} s (it may be finishing a long "
        "apply): check `replicator status` before FactuSOL's maintenance",
        EXIT_ERROR,
    )


def cmd_resume(args) -> int:
    from replicator.service.pause import request_resume

    standing = request_resume(_open_store(_store_config(args)))
    print(
        "resumed: the service scans the whole FactuSOL file, then applies what waited"
        if standing
        else "the replicator was not paused"
    )
    return EXIT_OK


def cmd_log(args) -> int:
    config = _store_config(args)
    rows = _open_store(config).changes(status=args.status, entity=args.entity, side=args.side)
    rows = rows[-args.limit :] if args.limit else rows
    return _print_rows(
        args,
        rows,
        lambda row: (
            f"{row.id:>6} {row.captured_at:%Y-%m-%d %H:%M:%S} {row.side:<10} {row.entity:<9} "
            f"{row.source_table:<18} {row.op:<6} {row.row_key:<24} {row.status:<11} {row.detail}"
        ),
        "no changes" + (" match" if args.status or args.entity or args.side else " yet"),
    )


def cmd_conflicts(args) -> int:
    config = _store_config(args)
    rows = _open_store(config).conflicts(status=None if args.all else "open")

    def line(row) -> str:
        values = jsonable(row)
        return (
            f"#{row.id} {row.entity} {row.key} field {row.field}: base={json.dumps(values['base'])} "
            f"factusol={json.dumps(values['factusol'])} prestashop={json.dumps(values['prestashop'])} "
            f"[{row.status}]"
        )

    return _print_rows(args, rows, line, "no conflicts" if args.all else "no open conflicts")


def cmd_resolve(args) -> int:
    config = _store_config(args)
    store = _open_store(config)
    conflict = store.conflict(args.id)
    if conflict is None:
        raise UserError(f"there is no conflict #{args.id}; `replicator conflicts` lists the open ones")
    if conflict.status != "open":
        raise UserError(
            f"conflict #{args.id} is already {conflict.status}"
            + (f" (with {conflict.resolved_by})" if conflict.resolved_by else "")
        )
    if args.field and args.field != conflict.field:
        raise UserError(f"conflict #{args.id} is about field {conflict.field}, not {args.field}; nothing was changed")
    if args.value is not None:
        try:
            value = json.loads(args.value)
        except json.JSONDecodeError:
            value = args.value
        resolved = store.resolve_conflict(args.id, "custom", value)
    elif args.take:
        resolved = store.resolve_conflict(args.id, args.take)
    else:
        raise UserError("say which value wins: --take factusol|prestashop|base or --value VALUE", EXIT_USAGE)
    shown = jsonable(resolved)["resolution"]
    print(
        f"conflict #{resolved.id} ({resolved.entity} {resolved.key} {resolved.field}) resolved with "
        f"{resolved.resolved_by}: {redact(json.dumps(shown, ensure_ascii=False))}; it is applied on the next cycle"
    )
    return EXIT_OK


def cmd_reconcile(args) -> int:
    """Compare both sides from their current data; --repair applies the rules' verdict through the apply path."""
    from replicator.runtime import open_runtime
    from replicator.sync.reconcile import ENTITIES, reconcile, repair

    config = load_config(args.config)
    _setup_logging(config.log_level, config.log_file)
    entities = [args.entity] if args.entity else list(ENTITIES)
    runtime = open_runtime(config)
    try:
        report = reconcile(runtime.ctx, entities)
        repaired = {}
        if args.repair and not args.dry_run and report.differences:
            repaired = repair(runtime.ctx, runtime.engine, report)
            after = reconcile(runtime.ctx, entities)
        else:
            after = report
    finally:
        runtime.close()
    if args.json:
        _print_json(
            {
                **report.as_dict(),
                "repaired": repaired,
                "remaining": after.as_dict()["total"],
                "dry_run": bool(args.dry_run),
            }
        )
    else:
        checked = ", ".join(f"{n} {e}s" for e, n in report.checked.items())
        print(f"checked {checked}: {len(report.differences)} difference(s)")
        for d in report.differences:
            print(f"  {d}")
        if args.repair and args.dry_run and report.differences:
            keys = sum(len(report.keys(e)) for e in entities)
            print(f"--dry-run: {keys} key(s) would be synced again; nothing written")
        for entity, outcomes in repaired.items():
            for key, outcome in outcomes.items():
                print(f"  repaired {entity} {key}: {outcome}")
        if repaired:
            print(f"after the repair: {len(after.differences)} difference(s)")
            for d in after.differences:
                print(f"  {d}")
    return EXIT_OK if not after.differences else EXIT_ERROR


def cmd_accept_baseline(args) -> int:
    """Go on after a stop for a restored FactuSOL file or a replaced store: the data as it is now is the baseline."""
    from replicator.halt import accept

    config = load_config(args.config)
    stopped = accept(_open_store(config))
    if not stopped:
        print("applying was not stopped; nothing to accept")
        return EXIT_OK
    print(f"accepted: {stopped.get('reason')}")
    if stopped.get("cause") == "factusol_restored":
        print("the next FactuSOL scan takes the file as it is now as the new baseline (no change is sent)")
    print("applying goes on; `replicator reconcile --repair` brings the sides in step by the rules")
    return EXIT_OK


def cmd_quarantine(args) -> int:
    config = _store_config(args)
    store = _open_store(config)
    if args.skip is not None:
        row = store.quarantine_row(args.skip)
        if row is None:
            raise UserError(f"there is no quarantined change #{args.skip}; `replicator quarantine` lists them")
        if row.status != "open":
            raise UserError(f"quarantined change #{args.skip} is already {row.status}; nothing to do")
        store.skip_quarantine(args.skip)
        print(f"quarantined change #{args.skip} ({row.entity} {row.key}) skipped: it will not be applied")
        return EXIT_OK
    return _print_rows(
        args,
        store.quarantined(),
        lambda row: f"#{row.id} {row.entity} {row.key} from {row.side}: {row.reason} (tries {row.attempts})",
        "nothing quarantined",
    )


def cmd_link(args) -> int:
    """A person's answer to an ambiguous match: this FactuSOL record is that shop record."""
    config = _store_config(args)
    store = _open_store(config)
    for side, value in (("factusol", args.factusol), ("prestashop", args.prestashop)):
        existing = store.map_id(args.entity, **{"factusol_key" if side == "factusol" else "prestashop_id": value})
        if existing:
            raise UserError(
                f"{args.entity} {side} {value} is already linked (FactuSOL {existing.factusol_key} <-> "
                f"shop {existing.prestashop_id})"
            )
    store.link(args.entity, args.factusol, args.prestashop)
    print(
        f"linked {args.entity}: FactuSOL {args.factusol} <-> shop {args.prestashop}; quarantined changes of it "
        "are retried on the next cycle (only blank fields are filled on a first link)"
    )
    return EXIT_OK


def cmd_rules_check(args) -> int:
    from replicator.rules import rules_check_main

    if args.config:  # the codes the rules name are checked against the configured FactuSOL file and shop too
        from replicator.hosting import prepare_shop

        config = load_config(args.config)
        prepare_shop(config)  # the SSH tunnel when the shop is reached through one
        return rules_check_main(args.paths or [str(config.rules_dir)], config=config)
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
    parser = Parser(
        prog="replicator",
        description="FactuSOL ⇄ PrestaShop replicator",
        epilog="examples:\n"
        "  replicator init /etc/replicator --factusol 'DRIVER=...;DBQ=C:\\...\\0012026.accdb' "
        "--prestashop 'mysql://ps:${PS_DB_PASSWORD}@db/prestashop'\n"
        "  replicator run --config /etc/replicator/replicator.yaml\n"
        "  replicator status --config /etc/replicator/replicator.yaml\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("init", help="write a commented replicator.yaml and copy the default rules")
    p.add_argument("dir", metavar="DIR", help="folder to write replicator.yaml and rules/ into (created if missing)")
    p.add_argument("--factusol", metavar="ODBC", help="pyodbc connection string of the FactuSOL file")
    p.add_argument(
        "--prestashop",
        metavar="URL",
        help="mysql:// URL of the shop database (write the password as "
        "${PS_DB_PASSWORD}: it is read from the environment)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="FactuSOL data folder (Datos\\FS; a UNC path on a network): "
        "follow the newest fiscal-year file of --company",
    )
    p.add_argument("--company", metavar="CCC", help="3-character FactuSOL company code (with --data-dir), e.g. 001")
    p.add_argument("--force", action="store_true", help="overwrite an existing replicator.yaml and rule files")
    _examples(
        p,
        "replicator init /etc/replicator",
        "replicator init . --prestashop 'mysql://ps:${PS_DB_PASSWORD}@127.0.0.1/prestashop' --force",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("config", help="configuration tools")
    config_sub = p.add_subparsers(dest="config_command", required=True, metavar="COMMAND", parser_class=Parser)
    v = config_sub.add_parser("validate", help="check replicator.yaml and the rules, and connect to both sides")
    _config_arg(v)
    v.add_argument("--offline", action="store_true", help="check the files only; do not connect (no passwords needed)")
    _examples(
        v, "replicator config validate --config /etc/replicator/replicator.yaml", "replicator config validate --offline"
    )
    v.set_defaults(func=cmd_config_validate)

    p = sub.add_parser("sandbox", help="create stand-in databases to try the replicator")
    sandbox_sub = p.add_subparsers(dest="sandbox_command", required=True, metavar="KIND", parser_class=Parser)
    f = sandbox_sub.add_parser("factusol", help="a schema-faithful FactuSOL stand-in (SQLite via ODBC)")
    f.add_argument("path", metavar="PATH", help="the stand-in file to create, e.g. FS/0012026.sqlite")
    f.add_argument("--articles", type=int, default=1000, metavar="N", help="articles to seed (default 1000)")
    f.add_argument("--customers", type=int, default=200, metavar="N", help="customers to seed (default 200)")
    f.add_argument("--seed", type=int, default=0, metavar="S", help="random seed: same seed, same data (default 0)")
    _examples(f, "replicator sandbox factusol /tmp/FS/0012026.sqlite --articles 200 --customers 50")
    f.set_defaults(func=cmd_sandbox_factusol)
    s = sandbox_sub.add_parser("prestashop", help="a PrestaShop database with the tables the replicator uses")
    s.add_argument("--mysql", required=True, metavar="URL", help="mysql://user:pass@host:port/ of the server")
    s.add_argument("--database", default="prestashop", metavar="NAME", help="database to create (default prestashop)")
    s.add_argument("--demo", action="store_true", help="seed like a fresh shop with demo data")
    s.add_argument("--products", type=int, default=50, metavar="N", help="products to seed (default 50)")
    s.add_argument("--customers", type=int, default=20, metavar="N", help="customers to seed (default 20)")
    s.add_argument("--prefix", default="ps_", metavar="PREFIX", help="table prefix (default ps_)")
    _examples(s, "replicator sandbox prestashop --mysql mysql://root:secret@127.0.0.1:3306/ --demo")
    s.set_defaults(func=cmd_sandbox_prestashop)

    p = sub.add_parser("run", help="run headless (as a service); --once: capture and apply what is pending, then exit")
    _config_arg(p)
    p.add_argument(
        "--once",
        action="store_true",
        help="do the initial sync if not done yet, capture and apply what is pending, then exit",
    )
    _examples(
        p,
        "replicator run --config /etc/replicator/replicator.yaml --once   # first sync",
        "replicator run --config /etc/replicator/replicator.yaml          # as a service, Ctrl-C stops",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tui", help="the terminal UI: change log, conflicts, quarantine")
    _config_arg(p)
    p.add_argument("--readonly", action="store_true", help="only look: no key resolves, skips or changes anything")
    _examples(
        p,
        "replicator tui --config /etc/replicator/replicator.yaml",
        "replicator tui --readonly   # no password needed, nothing can be changed",
    )
    p.set_defaults(func=cmd_tui)

    p = sub.add_parser("status", help="the service's state, change counts, open conflicts, checkpoints")
    _config_arg(p)
    _json_arg(p)
    p.add_argument("--all", action="store_true", help="every instance sharing this (PostgreSQL) store, one line each")
    _examples(p, "replicator status", "replicator status --json | jq .service.state")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("log", help="the change log, oldest first")
    _config_arg(p)
    _json_arg(p)
    p.add_argument(
        "--status",
        choices=CHANGE_STATUSES,
        metavar="STATUS",
        help="only changes in this status: " + ", ".join(CHANGE_STATUSES),
    )
    p.add_argument("--entity", metavar="ENTITY", help="only this entity: customer, product, stock, order, ...")
    p.add_argument(
        "--side",
        choices=["factusol", "prestashop"],
        metavar="SIDE",
        help="only changes captured on this side: factusol or prestashop",
    )
    p.add_argument("--limit", type=int, default=200, metavar="N", help="the newest N changes (default 200; 0 for all)")
    _examples(
        p,
        "replicator log --status quarantined",
        "replicator log --entity customer --side prestashop --limit 20",
        "replicator log --json --limit 5",
    )
    p.set_defaults(func=cmd_log)

    p = sub.add_parser("conflicts", help="open conflicts (a field changed differently on both sides)")
    _config_arg(p)
    _json_arg(p)
    p.add_argument("--all", action="store_true", help="include resolved and applied conflicts")
    _examples(p, "replicator conflicts", "replicator conflicts --all --json")
    p.set_defaults(func=cmd_conflicts)

    p = sub.add_parser("resolve", help="resolve a conflict")
    p.add_argument("id", type=int, metavar="ID", help="the conflict's number (`replicator conflicts` lists them)")
    p.add_argument(
        "--take",
        choices=["factusol", "prestashop", "base"],
        metavar="SIDE",
        help="the value that wins: factusol, prestashop, or base (the last agreed value)",
    )
    p.add_argument(
        "--value", metavar="VALUE", help="a value of your own instead (JSON such as 12.5 or null, else plain text)"
    )
    p.add_argument("--field", metavar="NAME", help="refuse unless the conflict is about this field")
    _config_arg(p)
    _examples(
        p,
        "replicator resolve 12 --take factusol",
        "replicator resolve 12 --value '\"Calle Mayor 1\"'",
        "replicator resolve 12 --take base --field phone",
    )
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser(
        "reconcile",
        help="compare both sides entity by entity (missing links, field differences, "
        "orphans); --repair brings them in step through the normal apply path",
    )
    _config_arg(p)
    p.add_argument(
        "entity",
        nargs="?",
        choices=["product", "customer", "order", "stock", "shipment", "invoice"],
        metavar="ENTITY",
        help="only this entity: product, customer, order, stock, shipment or invoice (default: all six)",
    )
    _json_arg(p)
    p.add_argument("--repair", action="store_true", help="sync the keys that differ, by the rules")
    p.add_argument("--dry-run", action="store_true", help="with --repair: say what would be synced, write nothing")
    _examples(
        p,
        "replicator reconcile",
        "replicator reconcile product --json",
        "replicator reconcile stock",
        "replicator reconcile --repair --dry-run",
        "replicator reconcile --repair",
    )
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser(
        "accept-baseline",
        help="after a stop for a restored FactuSOL file or a replaced store: go on from the data as it is now",
    )
    _config_arg(p)
    _examples(p, "replicator accept-baseline   # after `replicator status` says applying is STOPPED")
    p.set_defaults(func=cmd_accept_baseline)

    p = sub.add_parser("quarantine", help="list quarantined changes, or skip one")
    _config_arg(p)
    _json_arg(p)
    p.add_argument(
        "--skip", type=int, metavar="ID", help="skip this quarantined change: it is marked skipped and never applied"
    )
    _examples(p, "replicator quarantine", "replicator quarantine --skip 7")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("link", help="link a FactuSOL record to a shop record by hand (ambiguous matches)")
    p.add_argument("entity", choices=["customer", "product"], metavar="ENTITY", help="customer or product")
    p.add_argument("--factusol", required=True, metavar="KEY", help="F_CLI.CODCLI or F_ART.CODART")
    p.add_argument("--prestashop", required=True, metavar="ID", help="id_customer or id_product")
    _config_arg(p)
    _examples(
        p,
        "replicator link customer --factusol 431 --prestashop 88",
        "replicator link product --factusol A100 --prestashop 12",
    )
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("resync", help="re-evaluate keys under the current rules and write what differs")
    p.add_argument(
        "entity",
        nargs="?",
        choices=("category", "product", "stock"),
        help="one entity (default: category, product and stock)",
    )
    p.add_argument("--keys", nargs="+", metavar="KEY", help="only these keys (article codes; fam:CODE / sec:CODE)")
    p.add_argument("--dry-run", action="store_true", help="write nothing; list what would change")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    _config_arg(p)
    _examples(
        p,
        "replicator resync --dry-run --config /etc/replicator/replicator.yaml",
        "replicator resync stock --config /etc/replicator/replicator.yaml",
        "replicator resync product --keys CAM001 TAZ010 --dry-run --json",
    )
    p.set_defaults(func=cmd_resync)

    p = sub.add_parser("rules", help="rule file tools")
    rules_sub = p.add_subparsers(dest="rules_command", required=True, metavar="COMMAND", parser_class=Parser)
    c = rules_sub.add_parser("check", help="validate rule files: file:line:col: message")
    c.add_argument("paths", nargs="*", metavar="PATH", help="rule files or folders (default: the shipped rules)")
    c.add_argument("--config", "-c", help=f"also check the codes the rules name against this {CONFIG_NAME}'s data")
    _examples(
        c,
        "replicator rules check /etc/replicator/rules",
        "replicator rules check rules/stock.yaml",
        "replicator rules check --config /etc/replicator/replicator.yaml",
    )
    c.set_defaults(func=cmd_rules_check)

    p = sub.add_parser(
        "pause",
        help="give FactuSOL its file (compact/repair, restore): the service stops "
        "scanning and applying and closes the file until `replicator resume`",
    )
    _config_arg(p)
    p.add_argument("--reason", default="", help="shown in `replicator status` (default: FactuSOL maintenance)")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the service to confirm (30)")
    _examples(p, "replicator pause --config C:\\Replicator\\conf\\replicator.yaml --reason 'compact and repair'")
    p.set_defaults(func=cmd_pause)
    p = sub.add_parser("resume", help="end a pause: the service scans the whole file and goes on")
    _config_arg(p)
    _examples(p, "replicator resume --config C:\\Replicator\\conf\\replicator.yaml")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("doctor", help="check this installation end to end (driver, file, columns, rights, shop)")
    _config_arg(p)
    p.add_argument("--json", action="store_true", help="the report as JSON (ok, status, and each check's data)")
    _examples(
        p,
        "replicator doctor --config /etc/replicator/replicator.yaml",
        "replicator doctor --config replicator.yaml --json",
    )
    p.set_defaults(func=cmd_doctor)

    from replicator.service.manage import add_parser as add_service_parser

    add_service_parser(sub)

    p = sub.add_parser("demo", help="everything local, nothing to configure")
    p.add_argument("--headless", action="store_true", help="log lines instead of the TUI")
    p.add_argument(
        "--seconds",
        type=int,
        default=60,
        metavar="N",
        help="headless: stop after N seconds (default 60); with the TUI it runs until you quit",
    )
    p.add_argument("--workdir", metavar="DIR", help="keep the demo files here (default: a temp folder)")
    _examples(p, "replicator demo", "replicator demo --headless --seconds 20")
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
    return run_command(handler, args, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
