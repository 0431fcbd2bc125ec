"""The palette's "resync (dry run)": what the current rules would change, then (after y) writing it.

Both steps call `replicator.resync.resync`, as `replicator resync [--dry-run]` does, on a runtime opened from the
configuration file for the run and closed after it (the TUI itself only reads the store).  They run on a Textual
worker thread: a dry run reads every key of category, product and stock from both sides.
"""

from __future__ import annotations

from typing import Any, Callable

from replicator.resync import ENTITIES, EntityResync, resync


def runtime_opener(config_path: str) -> Callable[[], Any]:
    """Opens the same runtime `replicator resync` opens (the shop's SSH tunnel first when there is one)."""

    def open_it():
        from replicator.config import load_config
        from replicator.hosting import prepare_shop
        from replicator.runtime import open_runtime

        config = load_config(config_path)
        prepare_shop(config)
        return open_runtime(config)

    return open_it


def run_resync(open_runtime: Callable[[], Any], dry_run: bool) -> dict[str, EntityResync]:
    runtime = open_runtime()
    try:
        return resync(runtime.engine, list(ENTITIES), None, dry_run=dry_run)
    finally:
        runtime.close()


def counts_lines(reports: dict[str, EntityResync], dry_run: bool) -> list[str]:
    """'stock: 1 of 2 keys would change' per entity, then the first keys with what differs."""
    verb = "would change" if dry_run else "changed"
    lines = [f"{entity}: {len(r.changes)} of {r.checked} keys {verb}" for entity, r in reports.items()]
    shown = [(key, changes) for r in reports.values() for key, changes in r.changes.items()]
    lines += [f"  {key}: {'; '.join(changes)}" for key, changes in shown[:20]]
    if len(shown) > 20:
        lines.append(f"  … and {len(shown) - 20} more keys (`replicator resync --dry-run` lists them all)")
    if not dry_run:
        outcomes: dict[str, int] = {}
        for r in reports.values():
            for status, n in r.outcomes.items():
                outcomes[status] = outcomes.get(status, 0) + n
        if outcomes:
            lines.append("outcomes: " + ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())))
    return lines
