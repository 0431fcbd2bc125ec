"""What every `replicator` sub-command prints: one error style, exit codes, plain JSON, a quiet broken pipe.

Sub-commands raise `UserError("what happened; what to do")` (or let a known exception through) and print
records with `print_json` / `jsonable`; `run_command` turns all of it into output and an exit code:

    error: <one sentence>            on stderr, secrets redacted, never a traceback nor an exception class name

JSON is plain JSON: records become objects, the store's JSON columns (row images, conflict values) are decoded
into values, times are ISO 8601 with their UTC offset, and credential-like columns of row images are masked.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from replicator.config import ConfigError, redact
from replicator.masking import mask_field, mask_image

# Exit codes (listed in `replicator --help` and docs/operations.md).
EXIT_OK = 0  # done
EXIT_ERROR = 1  # it failed: a connection, a write, a record that does not exist; the message says what
EXIT_USAGE = 2  # the command line, the configuration or the rule files are wrong: nothing was done
EXIT_LOCKED = 3  # another replicator is running on this state store (the message names its pid)
EXIT_INTERRUPTED = 130  # stopped with Ctrl-C

EXIT_CODES_HELP = """\
exit codes:
  0    done
  1    failed (a connection, a write, a record that does not exist); the error line says what to do
  2    wrong command line, configuration or rule files; nothing was done
  3    another replicator is running on this state store (the error names its pid and host)
  130  interrupted (Ctrl-C)
Errors are one line on stderr: `error: <what happened and what to do>`; --debug shows the traceback."""

# The store's columns that hold JSON text, per record type: decoded into values for output.
_JSON_COLUMNS = {"before", "after", "base", "factusol", "prestashop", "resolution", "row_key", "value", "fields"}
_IMAGE_COLUMNS = {"before", "after", "fields"}
_FIELD_VALUE_COLUMNS = {"base", "factusol", "prestashop", "resolution"}  # one field's value: masked by its name


class UserError(Exception):
    """A failure phrased for the user: printed as `error: <message>`, exit code `code`."""

    def __init__(self, message: str, code: int = EXIT_ERROR):
        super().__init__(message)
        self.code = code


def iso_time(value: datetime | date) -> str:
    """ISO 8601; a naive datetime from the store is UTC (the store writes UTC)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat(timespec="seconds")
    return value.isoformat()


def _decode(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def record_dict(record: Any) -> dict[str, Any]:
    """A store record (SQLModel row or dataclass) as a plain dict: JSON columns decoded, images masked."""
    if hasattr(record, "model_dump"):
        data = record.model_dump()
    elif is_dataclass(record):
        data = asdict(record)
    else:
        data = dict(record)
    field = str(data.get("field") or "")
    for column in _JSON_COLUMNS & set(data):
        value = _decode(data[column])
        if column in _IMAGE_COLUMNS:
            value = mask_image(value)
        elif column in _FIELD_VALUE_COLUMNS and field:
            value = mask_field(field, value)
        data[column] = value
    return {"id": data.pop("id"), **data} if "id" in data else data  # the record's id first, for people reading


def jsonable(value: Any) -> Any:
    """`value` as JSON-ready data: records as objects, times ISO 8601, Decimal and bytes as text."""
    if hasattr(value, "model_dump") or is_dataclass(value) and not isinstance(value, type):
        return jsonable(record_dict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return iso_time(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def print_json(value: Any) -> None:
    """Pretty JSON on stdout, secrets redacted."""
    print(redact(json.dumps(jsonable(value), indent=2, ensure_ascii=False)))


def error_sentence(exc: BaseException) -> str:
    """An exception as the user's sentence: its message without the class name (a KeyError's quotes too)."""
    if getattr(exc, "sentence", None):  # errors that carry their own sentence (the SSH tunnel's)
        text = str(exc.sentence)  # type: ignore[attr-defined]
    elif isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif len(exc.args) == 2 and isinstance(exc.args[0], str) and len(exc.args[0]) == 5:  # pyodbc: (SQLSTATE, text)
        text = f"{exc.args[1]} (SQLSTATE {exc.args[0]})"
    else:
        text = str(exc) or type(exc).__name__.lower()
    if type(exc).__module__.startswith(("sqlalchemy", "sqlite3")):
        text = "the state store could not be read or written: " + _store_reason(exc)
    text = " ".join(redact(text).split())
    return text


def _store_reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    reason = str(orig) if orig is not None else str(exc).split("\n")[0]
    if "locked" in reason:
        return reason + " (the running replicator holds it; try again)"
    return reason


def fail(message: str) -> None:
    print(f"error: {redact(message)}", file=sys.stderr)


def _quiet_broken_pipe() -> None:
    """stdout's reader went away (`replicator log | head`): drop what is left, exit without a word."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (tests capture it)
        pass


def run_command(handler: Callable[[Any], int | None], args: Any, debug: bool = False) -> int:
    """Run a sub-command: its return code, or an exception turned into `error: ...` and an exit code."""
    from replicator.instance_lock import InstanceLocked
    from replicator.prestashop.support import UnsupportedShopError
    from replicator.rules.errors import RulesError

    try:
        code = handler(args) or EXIT_OK
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_broken_pipe()
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except UserError as exc:
        fail(str(exc))
        return exc.code
    except ConfigError as exc:
        lines = str(exc).splitlines() or ["the configuration is not valid"]
        fail(
            f"the configuration is not valid: {lines[0]}"
            if len(lines) == 1
            else f"the configuration has {len(lines)} problems; fix them and run again:"
        )
        for line in lines[1:] if len(lines) == 1 else lines:
            print(f"  {redact(line)}", file=sys.stderr)
        return EXIT_USAGE
    except RulesError as exc:
        fail("the rule files have errors; nothing was started (fix them, then `replicator rules check`):")
        for problem in exc.errors:
            print(f"  {redact(problem)}", file=sys.stderr)
        return EXIT_USAGE
    except InstanceLocked as exc:
        fail(str(exc))
        return EXIT_LOCKED
    except UnsupportedShopError as exc:  # already the user's sentence (which shop version, what to do)
        fail(str(exc))
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: one clear, redacted line
        if debug:
            raise
        hint = "" if getattr(exc, "sentence", None) else " (run with --debug for details)"
        fail(error_sentence(exc) + hint)
        return EXIT_ERROR
