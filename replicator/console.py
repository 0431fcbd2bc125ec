"""Output that never crashes on the console's encoding.

A Windows console, a service wrapper or a redirected pipe may write in cp1252, cp850 or another code page that
cannot show every character the replicator prints (``⇄``, customer names, log lines from the shop).  Python's
streams then raise ``UnicodeEncodeError`` in the middle of a command.  Here every standard stream, and every log
stream handler, replaces what its encoding cannot show instead (``?``); files the replicator writes itself are
UTF-8 and lose nothing.
"""

from __future__ import annotations

import io
import logging
import sys

REPLACE = "replace"


def _make_safe(stream) -> None:
    """Let `stream` replace the characters its encoding cannot show (if it is a text stream we can reconfigure)."""
    if stream is None:  # pythonw.exe, or a Windows service: no console at all
        return
    errors = getattr(stream, "errors", None)
    if errors in (REPLACE, "backslashreplace", "xmlcharrefreplace", "namereplace"):
        return
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None:
        return
    try:
        reconfigure(errors=REPLACE)
    except (ValueError, io.UnsupportedOperation):  # a closed or detached stream: nothing will be written to it
        pass


def make_standard_streams_safe() -> None:
    """stdout and stderr replace what their encoding cannot show (called first thing by the command line)."""
    _make_safe(sys.stdout)
    _make_safe(sys.stderr)


class SafeStreamHandler(logging.StreamHandler):
    """A StreamHandler whose line is encoded with `replace` when the stream's encoding cannot show it.

    The stream may be one a caller handed in (a test's, a service wrapper's) that `make_standard_streams_safe`
    never saw, so the handler does not rely on the stream's own error mode."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            encoding = getattr(self.stream, "encoding", None)
            if encoding:
                message = message.encode(encoding, REPLACE).decode(encoding, REPLACE)
            self.stream.write(message + self.terminator)
            self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
