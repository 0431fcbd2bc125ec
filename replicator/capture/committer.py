"""Commit captured batches on a background thread, one at a time and in order, while the reader parses on.

A batch is whole source transactions plus the checkpoint after the last of them, stored by ONE
`Store.record_capture`, exactly as when the reader commits it itself: a crash before that commit re-reads the batch
from the previous checkpoint, a crash after it re-reads nothing.  Batches are committed in the order they were
handed over and never two at once, so the checkpoint only moves forward.

The overlap pays because the store writes a batch of changes as one SQLite statement, which runs without Python's
GIL (`replicator.store.capture.insert_changes`): the binlog's row parsing, pure Python, goes on beside it on the other
core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from replicator.store import CapturedRow, Store


class BackgroundCommitter:
    """`submit` hands a batch over (waiting while the previous one is written); `close` waits for the last one.

    An error of the commit thread is raised by `raise_error`, the next `submit` or `close`; batches after it are not
    written (their checkpoint never moves, so they are read again)."""

    def __init__(self, store: Store, checkpoint: str, on_commit: Callable[[Any, int], None]):
        self.store, self.checkpoint, self.on_commit = store, checkpoint, on_commit
        self.error: BaseException | None = None
        self._work: queue.Queue = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="capture-commit", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """A batch is being written now."""
        return not self._idle.is_set()

    def submit(self, rows: list[CapturedRow], checkpoint_value: Any) -> None:
        self._idle.wait()
        self.raise_error()
        self._idle.clear()
        self._work.put((rows, checkpoint_value))

    def close(self) -> None:
        """Wait for the batch in flight, stop the thread, and raise its error if it had one."""
        self._work.put(None)
        self._thread.join()
        self.raise_error()

    def raise_error(self) -> None:
        """Raise the commit thread's error, if it had one."""
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            rows, checkpoint_value = item
            try:
                if self.error is None:
                    changes = self.store.record_capture(rows, (self.checkpoint, checkpoint_value), (), True)
                    self.on_commit(checkpoint_value, changes)
            except BaseException as exc:  # handed to the reader's thread, which raises it
                self.error = exc
            finally:
                self._idle.set()
