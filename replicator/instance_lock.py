"""One running replicator per state store: a lock row in the store itself, with pid, host and a heartbeat.

Two `replicator run` on one store fight over the binlog connection and apply the same changes twice, so the
second one is refused with a message naming the first (pid, host, since when).  The lock is a row of the
store's checkpoint table (name `service.lock`), not an OS file lock: it works the same on Windows and Linux, and
across hosts when the store is a shared PostgreSQL/MySQL server.

- Taking it: an INSERT of the row (atomic on every database: the name is the primary key).
- Holding it: a thread moves the row's `updated_at` every HEARTBEAT_SECONDS.
- A crashed holder: the row stays, but its heartbeat ages.  It is taken over when the heartbeat is older than
  STALE_SECONDS, or at once when the holder ran on this host and its pid is gone.  The takeover is a
  compare-and-set on the row's value (which carries a per-run token), so two starters cannot both win.
- Letting go: the row is deleted on a clean stop, which is how `status` tells "stopped" from "not responding".
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from replicator.store import Store, dumps, loads, utcnow

log = logging.getLogger("replicator")

LOCK_NAME = "service.lock"
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0  # a heartbeat this old: the holder is gone (or hung) and the lock may be taken over


class InstanceLocked(Exception):
    """Another replicator holds the store; the message names it (pid, host, since, last heartbeat)."""


@dataclass
class LockHolder:
    """Who holds (or held) a store's lock, as read from its row."""

    pid: int
    host: str
    command: str
    started_at: str
    heartbeat_at: datetime  # aware, UTC
    token: str = ""

    @property
    def age_seconds(self) -> float:
        return max(0.0, (utcnow() - self.heartbeat_at).total_seconds())

    @property
    def stale(self) -> bool:
        return self.age_seconds > STALE_SECONDS

    @property
    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def describe(self) -> str:
        return (
            f"pid {self.pid} on host {self.host} ({self.command}, started {self.started_at}, "
            f"last heartbeat {round(self.age_seconds)} s ago)"
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite returns naive UTC


def read_holder(store: Store) -> LockHolder | None:
    """The lock's current holder, or None when no replicator holds the store."""
    row = store.checkpoint_row(LOCK_NAME)
    return _holder(*row) if row else None


def _holder(value: str, updated_at: datetime) -> LockHolder:
    data: dict[str, Any] = loads(value) or {}
    return LockHolder(
        pid=int(data.get("pid", 0)),
        host=str(data.get("host", "")),
        command=str(data.get("command", "")),
        started_at=str(data.get("started_at", "")),
        heartbeat_at=_aware(updated_at),
        token=str(data.get("token", "")),
    )


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (True when it cannot be told: the caller then
    waits for the heartbeat to age instead)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows: ask the kernel instead
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists, it is someone else's
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _refusal(holder: LockHolder) -> InstanceLocked:
    return InstanceLocked(
        f"another replicator is running on this state store: {holder.describe()}; stop it first "
        f"(a crashed one is taken over once its heartbeat is {int(STALE_SECONDS)} s old)"
    )


def ensure_free(store: Store) -> None:
    """Raise InstanceLocked now if a live replicator holds the store (before a second one opens any connection);
    the lock itself is taken by `hold`."""
    holder = read_holder(store)
    if holder is not None and not holder.stale and not (holder.on_this_host and not pid_alive(holder.pid)):
        raise _refusal(holder)


class InstanceLock:
    """The lock of one store, held by this process: `acquire()`, then `release()` (or use `hold()`)."""

    def __init__(self, store: Store, command: str = "run", on_lost: Callable[[str], None] | None = None):
        self.store = store
        self.on_lost = on_lost
        self.value = dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "command": command,
                "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "token": uuid.uuid4().hex,
            }
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.held = False

    def acquire(self) -> None:
        """Take the lock or raise InstanceLocked naming the holder."""
        if not self.store.claim_checkpoint(LOCK_NAME, self.value):
            self._take_over()
        self.held = True
        self._thread = threading.Thread(target=self._beat, name="store-lock-heartbeat", daemon=True)
        self._thread.start()

    def _take_over(self) -> None:
        row = self.store.checkpoint_row(LOCK_NAME)
        if row is None:  # released between our claim and our read: claim once more
            if not self.store.claim_checkpoint(LOCK_NAME, self.value):
                raise InstanceLocked(
                    "another replicator took the state store's lock at the same moment; "
                    "only one may run: stop the other first"
                )
            return
        holder = _holder(*row)
        gone = holder.on_this_host and not pid_alive(holder.pid)
        if not (holder.stale or gone):
            raise _refusal(holder)
        if not self.store.swap_checkpoint(LOCK_NAME, row[0], self.value):
            raise InstanceLocked(
                "another replicator took the state store's lock at the same moment; "
                "only one may run: stop the other first"
            )
        why = "its process is gone" if gone else f"no heartbeat for {round(holder.age_seconds)} s"
        log.warning("took over the state store's lock from pid %d on host %s (%s)", holder.pid, holder.host, why)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                mine = self.store.swap_checkpoint(LOCK_NAME, self.value, self.value)  # moves the heartbeat
            except Exception as exc:  # a busy or unreachable store: try again at the next beat
                log.debug("store lock heartbeat failed: %s", exc)
                continue
            if not mine:
                self.held = False
                holder = read_holder(self.store)
                message = (
                    "the state store's lock was taken over by "
                    + (holder.describe() if holder else "another process")
                    + " (this process did not beat for too long); stopping"
                )
                log.error(message)
                if self.on_lost:
                    self.on_lost(message)
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if not self.held:
            return
        try:
            self.store.drop_checkpoint(LOCK_NAME, self.value)
        except Exception as exc:  # the row ages into "not responding" and is taken over later
            log.warning("could not release the state store's lock: %s", exc)
        self.held = False


@contextmanager
def hold(store: Store, command: str = "run", on_lost: Callable[[str], None] | None = None) -> Iterator[InstanceLock]:
    """The store's lock for the length of a `with` block (InstanceLocked if another replicator holds it)."""
    lock = InstanceLock(store, command, on_lost)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
