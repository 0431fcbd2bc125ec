"""Everything one screen refresh shows, read from the store on a worker thread and posted to the UI as one object.

The UI thread never waits for the store: `take_snapshot` runs in a thread worker (`ReplicatorApp.refresh_data`),
and the widgets only copy what the snapshot holds.  A store that is busy (the running replicator holds its write
lock) or unreachable delays the next snapshot; the screen keeps answering keys meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from replicator.service_state import ServiceState, service_state
from replicator.store import Change, Conflict, Quarantine, Store, utcnow

from .filters import Filter
from .names import record_label


@dataclass(frozen=True)
class ChangeRequest:
    """What the change log asks for: a filtered window, or the changes after `after_id` plus the states of the
    ids on screen.  `generation` lets the pane drop an answer to a request its filter has since replaced."""

    generation: int
    flt: Filter
    window: int
    after_id: int = 0
    shown: tuple[int, int] | None = None
    reload: bool = False


@dataclass
class ChangeData:
    request: ChangeRequest
    rows: list[Change] = field(default_factory=list)
    states: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Snapshot:
    counts: dict[str, int]
    open_conflicts: int
    open_quarantine: int
    service: ServiceState
    changes: ChangeData
    conflicts: list[Conflict]
    quarantine: list[Quarantine]
    labels: dict[tuple[str, str], str]  # (entity, key) -> human name of the record
    taken_at: datetime


def load_changes(store: Store, request: ChangeRequest) -> ChangeData:
    if request.reload or request.flt.active:
        flt = request.flt
        rows = store.newest_changes(
            request.window, status=flt.status, entity=flt.entity, side=flt.side, key=flt.key, words=flt.text
        )
        return ChangeData(request, rows, {c.id: (c.status, c.detail) for c in rows})
    states = store.change_states(*request.shown) if request.shown else {}
    return ChangeData(request, store.changes(after_id=request.after_id, limit=request.window), states)


def take_snapshot(store: Store, request: ChangeRequest, labels: dict[tuple[str, str], str]) -> Snapshot:
    """One consistent-enough view of the store (each part is its own short read).  `labels` is the caller's
    cache of record names: only keys not seen before are looked up."""
    summary = store.status_summary()
    conflicts = store.conflicts("open")
    quarantine = store.quarantined("open")
    for entity, key in {(r.entity, r.key) for r in [*conflicts, *quarantine]}:
        if (entity, key) not in labels:
            labels[(entity, key)] = record_label(store, entity, key)
    return Snapshot(
        counts=summary["changes"],
        open_conflicts=summary["open_conflicts"],
        open_quarantine=summary["open_quarantine"],
        service=service_state(store),
        changes=load_changes(store, request),
        conflicts=conflicts,
        quarantine=quarantine,
        labels=dict(labels),
        taken_at=utcnow(),
    )


def describe_error(exc: BaseException) -> str:
    """A store failure in one sentence for the notice (no exception class names)."""
    from replicator.cli_output import error_sentence

    return error_sentence(exc)


__all__ = ["ChangeData", "ChangeRequest", "Snapshot", "describe_error", "load_changes", "take_snapshot"]
