"""Pausing the replicator so FactuSOL can have its file alone (compact/repair, a backup restore).

The request lives in the state store (checkpoint `pause`), which the service and the command line share: `replicator
pause` writes it, the running service sees it within one apply interval, stops scanning and applying, closes its
FactuSOL connection and publishes the state `paused`; `replicator resume` clears it and the service goes on with a
full scan of the file (a restore may have changed anything).  A service started while the request stands starts
paused.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

PAUSE_CHECKPOINT = "pause"


def request_pause(store, reason: str = "") -> dict[str, Any]:
    try:
        who = getpass.getuser()
    except Exception:  # no user name in this environment (a service account without a profile)
        who = ""
    request = {
        "paused": True,
        "since": datetime.now().isoformat(timespec="seconds"),
        "by": who,
        "reason": reason or "FactuSOL maintenance",
    }
    store.set_checkpoint(PAUSE_CHECKPOINT, request)
    return request


def request_resume(store) -> dict[str, Any] | None:
    """Clear the pause; the request that was standing (None if there was none)."""
    standing = pause_request(store)
    store.set_checkpoint(PAUSE_CHECKPOINT, {"paused": False, "resumed": datetime.now().isoformat(timespec="seconds")})
    return standing


def pause_request(store) -> dict[str, Any] | None:
    """The standing pause request, or None."""
    request = store.checkpoint(PAUSE_CHECKPOINT) or {}
    return request if request.get("paused") else None


def describe(request: dict[str, Any]) -> str:
    by = f" by {request['by']}" if request.get("by") else ""
    return f"paused since {request.get('since')}{by} ({request.get('reason')})"


def wait_while_paused(store, stop, interval: float = 1.0) -> bool:
    """Before the service opens anything: wait while a pause request stands, saying so in the store's `service`
    entry.  False when a stop came first."""
    import logging
    import os

    request = pause_request(store)
    if request:
        logging.getLogger("replicator.service").info(
            "%s: the FactuSOL file is left alone until `replicator resume`", describe(request)
        )
    while request and not stop.is_set():
        store.set_checkpoint(
            "service",
            {
                "state": "paused",
                "pid": os.getpid(),
                "paused": describe(request),
                "at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "factusol_open": False,
            },
        )
        stop.wait(interval)
        request = pause_request(store)
    return not stop.is_set()


def service_report(store, fresh_seconds: float) -> dict[str, Any] | None:
    """The running service's last report, if it is recent enough to say a service is running."""
    report = store.checkpoint("service") or {}
    try:
        at = datetime.fromisoformat(report["at"])
        age = (datetime.now(at.tzinfo) - at).total_seconds()  # the service writes local time with its offset
    except (KeyError, TypeError, ValueError):
        return None
    return report if report.get("state") in ("running", "paused") and age <= fresh_seconds else None
