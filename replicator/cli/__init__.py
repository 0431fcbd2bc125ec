"""The `replicator` command line: one sub-command per job, all over the same config and state store.

Errors reach the user as one clear line, `error: <what and what to do>` (secrets redacted), and an exit code
(`replicator.cli_output`: EXIT_*), never a traceback; `--debug` shows the traceback for developers.  A new
sub-command is registered with `common.command` (its --config/--json and examples), raises `UserError`, prints
records with `print_rows`/`print_json` and gives every argument a help text.  Commands that only read or write the
store load the configuration with `store_config` (no shop password needed).  The commands live by what they touch:
`setup_commands`, `store_commands`, `service_commands`; `parser` registers them.
"""

from __future__ import annotations

from typing import Callable

from replicator.cli_output import UserError, run_command
from replicator.config import default_rules_dir

from .parser import build_parser

__all__ = ["UserError", "build_parser", "default_rules_dir", "main"]


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen Windows build: lets the initial sync's child process start
    from replicator.console import make_standard_streams_safe

    make_standard_streams_safe()  # a cp1252 console or pipe shows '?' for what it cannot show, never crashes
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable = args.func
    return run_command(handler, args, debug=args.debug)
