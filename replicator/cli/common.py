"""What every sub-command shares: the parser with the CLI's error style, the one helper that registers a
sub-command (its --config/--json arguments and examples), listing output and opening the configuration and store."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Iterable

from replicator.cli_output import EXIT_OK, EXIT_USAGE, print_json
from replicator.config import CONFIG_NAME, load_config, redact

CHANGE_STATUSES = ("pending", "applied", "echo", "conflict", "quarantined", "skipped")


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error style: `error: <sentence>` and where to look, exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        "-c",
        default=os.environ.get("REPLICATOR_CONFIG", CONFIG_NAME),
        metavar="FILE",
        help=f"path to {CONFIG_NAME} (default: ./{CONFIG_NAME} or $REPLICATOR_CONFIG)",
    )


def json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json", action="store_true", help="print JSON (objects, ISO 8601 times, credentials masked) instead of text"
    )


def examples(p: argparse.ArgumentParser, *lines: str) -> None:
    """Examples at the end of a sub-command's --help."""
    p.epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)
    p.formatter_class = argparse.RawDescriptionHelpFormatter


def command(
    sub,
    name: str,
    func: Callable,
    help: str,
    *,
    config: bool = False,
    json: bool = False,
    example_lines: Iterable[str] = (),
) -> argparse.ArgumentParser:
    """Register one sub-command: its help, `--config` and `--json` when it takes them, examples, its function."""
    p = sub.add_parser(name, help=help)
    if config:
        config_arg(p)
    if json:
        json_arg(p)
    if example_lines:
        examples(p, *example_lines)
    p.set_defaults(func=func)
    return p


def print_rows(args, rows: list, line, empty: str = "") -> int:
    """A listing command's output: JSON of the records with --json, else one `line(row)` per record."""
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows and empty:
        print(empty)
    for row in rows:
        print(redact(line(row)))
    return EXIT_OK


def store_config(args):
    """The configuration for a command that only uses the state store: no shop or FactuSOL password needed."""
    return load_config(args.config, need_secrets=False)


def open_store(config):
    from replicator.store import Store

    return Store(config.store, config.store_namespace)


def config_and_store(args):
    """(configuration, store) for a command that only uses the state store."""
    config = store_config(args)
    return config, open_store(config)
