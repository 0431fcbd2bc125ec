"""The `replicator` argument parser: every sub-command registered through `common.command`, with its arguments,
help texts and examples."""

from __future__ import annotations

import argparse

from replicator import __version__
from replicator.cli_output import EXIT_CODES_HELP
from replicator.config import CONFIG_NAME

from . import service_commands as svc
from . import setup_commands as setup
from . import store_commands as st
from .common import CHANGE_STATUSES, Parser, command, json_arg


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
    _setup_commands(sub)
    _store_commands(sub)
    _service_commands(sub)

    from replicator.hosting import add_commands
    from replicator.service.manage import add_parser as add_service_parser

    add_service_parser(sub)
    add_commands(sub, command)  # shop-sql, ssh trust
    return parser


def _setup_commands(sub) -> None:
    p = command(
        sub,
        "init",
        setup.cmd_init,
        "write a commented replicator.yaml and copy the default rules",
        example_lines=(
            "replicator init /etc/replicator",
            "replicator init . --prestashop 'mysql://ps:${PS_DB_PASSWORD}@127.0.0.1/prestashop' --force",
        ),
    )
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

    p = sub.add_parser("config", help="configuration tools")
    config_sub = p.add_subparsers(dest="config_command", required=True, metavar="COMMAND", parser_class=Parser)
    v = command(
        config_sub,
        "validate",
        setup.cmd_config_validate,
        "check replicator.yaml and the rules, and connect to both sides",
        config=True,
        example_lines=(
            "replicator config validate --config /etc/replicator/replicator.yaml",
            "replicator config validate --offline",
        ),
    )
    v.add_argument("--offline", action="store_true", help="check the files only; do not connect (no passwords needed)")

    p = sub.add_parser("sandbox", help="create stand-in databases to try the replicator")
    sandbox_sub = p.add_subparsers(dest="sandbox_command", required=True, metavar="KIND", parser_class=Parser)
    f = command(
        sandbox_sub,
        "factusol",
        setup.cmd_sandbox_factusol,
        "a schema-faithful FactuSOL stand-in (SQLite via ODBC)",
        example_lines=("replicator sandbox factusol /tmp/FS/0012026.sqlite --articles 200 --customers 50",),
    )
    f.add_argument("path", metavar="PATH", help="the stand-in file to create, e.g. FS/0012026.sqlite")
    f.add_argument("--articles", type=int, default=1000, metavar="N", help="articles to seed (default 1000)")
    f.add_argument("--customers", type=int, default=200, metavar="N", help="customers to seed (default 200)")
    f.add_argument("--seed", type=int, default=0, metavar="S", help="random seed: same seed, same data (default 0)")
    s = command(
        sandbox_sub,
        "prestashop",
        setup.cmd_sandbox_prestashop,
        "a PrestaShop database with the tables the replicator uses",
        example_lines=("replicator sandbox prestashop --mysql mysql://root:secret@127.0.0.1:3306/ --demo",),
    )
    s.add_argument("--mysql", required=True, metavar="URL", help="mysql://user:pass@host:port/ of the server")
    s.add_argument("--database", default="prestashop", metavar="NAME", help="database to create (default prestashop)")
    s.add_argument("--demo", action="store_true", help="seed like a fresh shop with demo data")
    s.add_argument("--products", type=int, default=50, metavar="N", help="products to seed (default 50)")
    s.add_argument("--customers", type=int, default=20, metavar="N", help="customers to seed (default 20)")
    s.add_argument("--prefix", default="ps_", metavar="PREFIX", help="table prefix (default ps_)")

    p = sub.add_parser("rules", help="rule file tools")
    rules_sub = p.add_subparsers(dest="rules_command", required=True, metavar="COMMAND", parser_class=Parser)
    c = command(
        rules_sub,
        "check",
        setup.cmd_rules_check,
        "validate rule files: file:line:col: message",
        example_lines=(
            "replicator rules check /etc/replicator/rules",
            "replicator rules check rules/stock.yaml",
            "replicator rules check --config /etc/replicator/replicator.yaml",
        ),
    )
    c.add_argument("paths", nargs="*", metavar="PATH", help="rule files or folders (default: the shipped rules)")
    c.add_argument("--config", "-c", help=f"also check the codes the rules name against this {CONFIG_NAME}'s data")

    p = command(
        sub,
        "doctor",
        setup.cmd_doctor,
        "check this installation end to end (driver, file, columns, rights, shop)",
        config=True,
        example_lines=(
            "replicator doctor --config /etc/replicator/replicator.yaml",
            "replicator doctor --config replicator.yaml --json",
        ),
    )
    p.add_argument("--json", action="store_true", help="the report as JSON (ok, status, and each check's data)")

    p = command(
        sub,
        "demo",
        setup.cmd_demo,
        "everything local, nothing to configure",
        example_lines=("replicator demo", "replicator demo --headless --seconds 20"),
    )
    p.add_argument("--headless", action="store_true", help="log lines instead of the TUI")
    p.add_argument(
        "--seconds",
        type=int,
        default=60,
        metavar="N",
        help="headless: stop after N seconds (default 60); with the TUI it runs until you quit",
    )
    p.add_argument("--workdir", metavar="DIR", help="keep the demo files here (default: a temp folder)")


def _store_commands(sub) -> None:
    p = command(
        sub,
        "tui",
        st.cmd_tui,
        "the terminal UI: change log, conflicts, quarantine",
        config=True,
        example_lines=(
            "replicator tui --config /etc/replicator/replicator.yaml",
            "replicator tui --readonly   # no password needed, nothing can be changed",
        ),
    )
    p.add_argument("--readonly", action="store_true", help="only look: no key resolves, skips or changes anything")

    p = command(
        sub,
        "status",
        st.cmd_status,
        "the service's state, change counts, open conflicts, checkpoints",
        config=True,
        json=True,
        example_lines=("replicator status", "replicator status --json | jq .service.state"),
    )
    p.add_argument("--all", action="store_true", help="every instance sharing this (PostgreSQL) store, one line each")

    p = command(
        sub,
        "log",
        st.cmd_log,
        "the change log, oldest first",
        config=True,
        json=True,
        example_lines=(
            "replicator log --status quarantined",
            "replicator log --entity customer --side prestashop --limit 20",
            "replicator log --json --limit 5",
        ),
    )
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

    p = command(
        sub,
        "conflicts",
        st.cmd_conflicts,
        "open conflicts (a field changed differently on both sides)",
        config=True,
        json=True,
        example_lines=("replicator conflicts", "replicator conflicts --all --json"),
    )
    p.add_argument("--all", action="store_true", help="include resolved and applied conflicts")

    p = command(
        sub,
        "resolve",
        st.cmd_resolve,
        "resolve a conflict",
        config=True,
        example_lines=(
            "replicator resolve 12 --take factusol",
            "replicator resolve 12 --value '\"Calle Mayor 1\"'",
            "replicator resolve 12 --take base --field phone",
        ),
    )
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

    p = command(
        sub,
        "quarantine",
        st.cmd_quarantine,
        "list quarantined changes, or skip one",
        config=True,
        json=True,
        example_lines=("replicator quarantine", "replicator quarantine --skip 7"),
    )
    p.add_argument(
        "--skip", type=int, metavar="ID", help="skip this quarantined change: it is marked skipped and never applied"
    )

    p = command(
        sub,
        "link",
        st.cmd_link,
        "link a FactuSOL record to a shop record by hand (ambiguous matches)",
        config=True,
        example_lines=(
            "replicator link customer --factusol 431 --prestashop 88",
            "replicator link product --factusol A100 --prestashop 12",
        ),
    )
    p.add_argument("entity", choices=["customer", "product"], metavar="ENTITY", help="customer or product")
    p.add_argument("--factusol", required=True, metavar="KEY", help="F_CLI.CODCLI or F_ART.CODART")
    p.add_argument("--prestashop", required=True, metavar="ID", help="id_customer or id_product")


def _service_commands(sub) -> None:
    p = command(
        sub,
        "run",
        svc.cmd_run,
        "run headless (as a service); --once: capture and apply what is pending, then exit",
        config=True,
        example_lines=(
            "replicator run --config /etc/replicator/replicator.yaml --once   # first sync",
            "replicator run --config /etc/replicator/replicator.yaml          # as a service, Ctrl-C stops",
        ),
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="do the initial sync if not done yet, capture and apply what is pending, then exit",
    )

    p = command(
        sub,
        "reconcile",
        svc.cmd_reconcile,
        "compare both sides entity by entity (missing links, field differences, "
        "orphans); --repair brings them in step through the normal apply path",
        config=True,
        example_lines=(
            "replicator reconcile",
            "replicator reconcile product --json",
            "replicator reconcile stock",
            "replicator reconcile --repair --dry-run",
            "replicator reconcile --repair",
        ),
    )
    p.add_argument(
        "entity",
        nargs="?",
        choices=["product", "customer", "order", "stock", "shipment", "invoice"],
        metavar="ENTITY",
        help="only this entity: product, customer, order, stock, shipment or invoice (default: all six)",
    )
    json_arg(p)
    p.add_argument("--repair", action="store_true", help="sync the keys that differ, by the rules")
    p.add_argument("--dry-run", action="store_true", help="with --repair: say what would be synced, write nothing")

    command(
        sub,
        "accept-baseline",
        svc.cmd_accept_baseline,
        "after a stop for a restored FactuSOL file or a replaced store: go on from the data as it is now",
        config=True,
        example_lines=("replicator accept-baseline   # after `replicator status` says applying is STOPPED",),
    )

    p = command(
        sub,
        "resync",
        svc.cmd_resync,
        "re-evaluate keys under the current rules and write what differs",
        config=True,
        example_lines=(
            "replicator resync --dry-run --config /etc/replicator/replicator.yaml",
            "replicator resync stock --config /etc/replicator/replicator.yaml",
            "replicator resync product --keys CAM001 TAZ010 --dry-run --json",
        ),
    )
    p.add_argument(
        "entity",
        nargs="?",
        choices=("category", "product", "stock"),
        help="one entity (default: category, product and stock)",
    )
    p.add_argument("--keys", nargs="+", metavar="KEY", help="only these keys (article codes; fam:CODE / sec:CODE)")
    p.add_argument("--dry-run", action="store_true", help="write nothing; list what would change")
    p.add_argument("--json", action="store_true", help="the report as JSON")

    p = command(
        sub,
        "pause",
        svc.cmd_pause,
        "give FactuSOL its file (compact/repair, restore): the service stops "
        "scanning and applying and closes the file until `replicator resume`",
        config=True,
        example_lines=(
            "replicator pause --config C:\\Replicator\\conf\\replicator.yaml --reason 'compact and repair'",
        ),
    )
    p.add_argument("--reason", default="", help="shown in `replicator status` (default: FactuSOL maintenance)")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the service to confirm (30)")
    command(
        sub,
        "resume",
        svc.cmd_resume,
        "end a pause: the service scans the whole file and goes on",
        config=True,
        example_lines=("replicator resume --config C:\\Replicator\\conf\\replicator.yaml",),
    )
