"""What the service is doing, as `replicator status` and the TUI tell it: running, not responding, stopped.

Read from the store only (no connection to either side): the instance lock's row (pid, host, heartbeat; see
`replicator.instance_lock`) and the `service` checkpoint the running service rewrites after every apply cycle
(its watchers' states).  A lock row whose heartbeat is older than STALE_SECONDS means a replicator that crashed
or hangs; no lock row means none runs, and the checkpoint then tells when one last did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from replicator.instance_lock import STALE_SECONDS, LockHolder, read_holder
from replicator.store import Store, loads, utcnow

SERVICE_CHECKPOINT = "service"
RUNNING, NOT_RESPONDING, STOPPED, NEVER_RUN = "running", "not responding", "stopped", "never run"

# A watcher's state, in the words shown to people, and the colour the TUI gives it.
WATCHER_STYLES = {
    "idle": "green",
    "streaming": "green",
    "polling": "green",
    "scanning": "cyan",
    "starting": "cyan",
    "paused": "yellow",
    "reconnecting": "yellow",
    "locked": "yellow",
    "error": "bold red",
    "stopped": "dim",
    "unknown": "dim",
}


@dataclass
class Watcher:
    """One capture watcher: FactuSOL (file scans) or PrestaShop (binlog or polling)."""

    side: str
    state: str
    since: datetime | None = None  # when the state began, or the last event/scan, where the service says
    detail: str = ""  # the last error, the file or binlog position

    def describe(self) -> str:
        """'idle, last activity 12 s ago', 'locked for 3 min', 'error since 1 min: <message>'."""
        text = self.state
        if self.since is not None:
            age = age_text((utcnow() - self.since).total_seconds())
            text += {"locked": f" for {age}", "error": f" since {age}"}.get(self.state, f", last activity {age} ago")
        if self.detail:
            text += f": {self.detail}" if self.state == "error" else f" ({self.detail})"
        return text


@dataclass
class ServiceState:
    state: str  # running | not responding | stopped | never run
    holder: LockHolder | None = None
    last_seen: datetime | None = None  # the service checkpoint's last update (aware UTC)
    watchers: list[Watcher] = field(default_factory=list)
    apply_error: str = ""
    paused: bool = False  # a pause request stands (`replicator pause`), whether or not a service runs
    pause_text: str = ""  # 'paused since ... by ... (reason)'
    reported: dict[str, Any] = field(default_factory=dict)  # the rest of what the service last reported

    @property
    def last_seen_seconds(self) -> float | None:
        return None if self.last_seen is None else max(0.0, (utcnow() - self.last_seen).total_seconds())

    def sentence(self) -> str:
        """One line for people, e.g. 'running: pid 412 on host shop-pc, last heartbeat 3 s ago'.  While a pause
        request stands the line says paused (one line, so it cannot disagree with a separate pause line)."""
        if self.paused:
            where = (
                f"; pid {self.holder.pid} on host {self.holder.host}"
                if self.holder
                else "; no service runs now (one started later stays paused)"
            )
            return f"{self.pause_text or 'paused'}{where}; `replicator resume` to go on"
        if self.state in (RUNNING, NOT_RESPONDING) and self.holder:
            text = (
                f"{self.state}: pid {self.holder.pid} on host {self.holder.host}, "
                f"last heartbeat {age_text(self.holder.age_seconds)} ago"
            )
            if self.state == NOT_RESPONDING:
                text += " (crashed or hung; a new `replicator run` takes over the store)"
            return text
        if self.state == STOPPED:
            seen = self.last_seen_seconds
            return "stopped" + (f" (last seen {age_text(seen)} ago)" if seen is not None else "")
        return "never run on this store"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.holder.pid if self.holder else None,
            "host": self.holder.host if self.holder else None,
            "command": self.holder.command if self.holder else None,
            "started_at": self.holder.started_at if self.holder else None,
            "heartbeat_at": iso(self.holder.heartbeat_at) if self.holder else None,
            "heartbeat_age_seconds": round(self.holder.age_seconds, 1) if self.holder else None,
            "last_seen_at": iso(self.last_seen),
            "paused": self.paused,
            "apply_error": self.apply_error or None,
            "capture_mode": (self.reported.get("capture") or {}).get("prestashop_mode") or None,
            "last_apply": self.reported.get("last_apply"),
            "factusol_year": self.reported.get("factusol_year") or None,
            "watchers": [
                {"side": w.side, "state": w.state, "since": iso(w.since), "detail": w.detail or None}
                for w in self.watchers
            ],
        }


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return aware(value).isoformat(timespec="seconds")


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # the store keeps naive UTC


def parse_time(value: Any) -> datetime | None:
    """A time the service wrote (ISO text, naive = this machine's local time) as an aware datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.astimezone()  # naive: written with datetime.now()


def age_text(seconds: float | None) -> str:
    """12 s, 4 min, 3 h, 2 d."""
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def watchers_from(capture: dict[str, Any] | None, running: bool) -> list[Watcher]:
    """The watchers of a `service` checkpoint's capture status, in words."""
    out: list[Watcher] = []
    capture = capture or {}
    fs = capture.get("factusol")
    if isinstance(fs, dict):
        state = str(fs.get("state") or "unknown")
        since = parse_time(fs.get("locked_since")) if state == "locked" else parse_time(fs.get("last_scan_at"))
        out.append(
            Watcher(
                "factusol", state if running else "stopped", since, str(fs.get("last_error") or fs.get("file") or "")
            )
        )
    ps = capture.get("prestashop")
    if isinstance(ps, dict):
        state = str(ps.get("state") or "unknown")
        detail = ps.get("last_error") or (f"{ps['file']}:{ps.get('pos')}" if ps.get("file") else "")
        out.append(
            Watcher(
                "prestashop", state if running else "stopped", parse_time(ps.get("last_event_at")), str(detail or "")
            )
        )
    return out


def service_state(store: Store) -> ServiceState:
    """The service's state from the store (never raises for a store without a service yet)."""
    holder = read_holder(store)
    value, updated = _checkpoint(store, SERVICE_CHECKPOINT)
    value = value if isinstance(value, dict) else {}
    if holder is None:
        state = STOPPED if updated is not None else NEVER_RUN
    else:
        state = NOT_RESPONDING if holder.age_seconds > STALE_SECONDS else RUNNING
    from replicator.service.pause import describe, pause_request

    request = pause_request(store)  # the standing request, not the service's last report: both agree soon after
    paused = request is not None
    watchers = watchers_from(value.get("capture"), running=state == RUNNING)
    if paused and state == RUNNING:
        for watcher in watchers:
            watcher.state = "paused"
    return ServiceState(
        state=state,
        holder=holder,
        last_seen=aware(updated) if updated else None,
        watchers=watchers,
        apply_error=str(value.get("apply_error") or ""),
        paused=paused,
        pause_text=describe(request) if request else "",
        reported=value,
    )


def _checkpoint(store: Store, name: str) -> tuple[Any, datetime | None]:
    """(value, updated_at) of one checkpoint, (None, None) when absent."""
    row = store.checkpoint_row(name)
    if row is None:
        return None, None
    try:
        return loads(row[0]), row[1]
    except ValueError:
        return None, row[1]
