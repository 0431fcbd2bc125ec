"""Sub-commands that set an installation up and check it: `init`, `config validate`, `rules check`, `doctor`,
the stand-ins (`sandbox factusol|prestashop`) and `demo`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from replicator.cli_output import EXIT_OK, EXIT_USAGE, UserError, error_sentence, print_json
from replicator.config import CONFIG_NAME, default_rules_dir, load_config, redact, render_config
from replicator.logsetup import setup_logging


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

    setup_logging("INFO")
    headless = args.headless or not (sys.stdout.isatty() and sys.stdin.isatty())  # no terminal: log lines
    return run_demo(headless=headless, seconds=args.seconds, workdir=args.workdir)
