"""An exception as a reader's words: its message without the exception class name, for log lines, stored statuses
and quarantine reasons (the CLI's `error: ...` builds on it too)."""

from __future__ import annotations

import re


def exception_text(exc: BaseException) -> str:
    """What `exc` says, never its class name: a bare KeyError as "missing 'key'", a driver's (SQLSTATE, text) pair as
    "text (SQLSTATE x)", an OSError
    without its errno prefix, an empty message as the kind of error in words ("timeout error"), on one line.
    Secrets are not redacted here: callers pass the result through `redact`."""
    if getattr(exc, "sentence", None):  # errors that carry their own sentence (the SSH tunnel's)
        text = str(exc.sentence)  # type: ignore[attr-defined]
    elif isinstance(exc, KeyError) and exc.args:
        key = exc.args[0]
        text = key if isinstance(key, str) and " " in key else f"missing {key!r}"  # a sentence, or a bare key
    elif isinstance(exc, OSError) and exc.strerror:  # "[Errno 2] ..." as the system's words, and the file named
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    elif len(exc.args) == 2 and isinstance(exc.args[0], str) and len(exc.args[0]) == 5:  # pyodbc: (SQLSTATE, text)
        text = f"{exc.args[1]} (SQLSTATE {exc.args[0]})"
    else:
        text = str(exc)
    text = " ".join(text.split())
    return text or kind_in_words(exc)


def kind_in_words(exc: BaseException) -> str:
    """'TimeoutError' -> 'timeout error', 'ConnectionResetError' -> 'connection reset error': for an exception that
    says nothing."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(exc).__name__).lower()
