"""Whether the FactuSOL file can have changed since it was last scanned, from its files' sizes and modification times.

At rest nothing writes to the file, yet a safety rescan of a 100,000-article file costs about 0.4 s and a full one
about 13 s: most of a service's CPU at rest.  Before such a rescan the watcher takes the file's *stamp* (name, size,
modification time and file id of each database file it watches, and of a SQLite stand-in's write-ahead log) and skips
the rescan when the stamp is the one the last scans began with: no write can have come since.

One stamp alone does not prove that: a write in the same tick of the file system's clock as the stat before a scan
(2 s on FAT, milliseconds elsewhere), but after the scan read the table it changed, leaves the stamp as it was.  So a
stamp counts only once two completed scans began with it at least STAMP_TICK apart: a write after the first one's
stat that left the stamp alone came in that same tick, before the second began, and the second read it; a write
after the second one's stat comes in a later tick and moves the stamp.

Where the modification time does not move on a write (unverified with Access; file events, which the watcher relies
on too, come from the same time moving), the watcher's hourly full rescan of a file at rest finds the write and
stops the skipping (`watcher.AT_REST_FULL_SCAN`); `factusol.rescan_unchanged_file: true` turns it off at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

Stamp = tuple[tuple[str, int, int, int], ...]  # per file: (name, size, modification time in ns, file id)

# Longer than the coarsest file-time tick in use (FAT: 2 s), so two stats this far apart see different ticks.
STAMP_TICK = 2.5  # seconds


def file_stamp(folder: Path, watched: Callable[[str], bool]) -> Stamp | None:
    """The stamp of the files in `folder` whose names `watched` accepts; None when the folder cannot be read (a
    network share gone): then nothing is skipped."""
    try:
        entries = []
        with os.scandir(folder) as found:
            for entry in found:
                if watched(entry.name):
                    # os.stat, not the directory entry's: on Windows that one lags while a program holds the file
                    st = os.stat(entry.path)
                    entries.append((entry.name.upper(), st.st_size, st.st_mtime_ns, st.st_ino))
    except OSError:
        return None
    return tuple(sorted(entries))


@dataclass
class ScannedStamp:
    """The stamp that completed scans of one kind began with, and when the first and the latest of them began."""

    stamp: Stamp | None = None
    first: float = 0.0  # monotonic time
    latest: float = 0.0

    def record(self, stamp: Stamp | None, at: float) -> None:
        """A scan that began with `stamp` at `at` (its stat's time) completed."""
        if stamp is None or stamp != self.stamp:
            self.stamp, self.first = stamp, at
        self.latest = at

    def covers(self, stamp: Stamp | None) -> bool:
        """Whether a scan now would find nothing those scans did not: the stamp is theirs, proved (see the module)."""
        return stamp is not None and stamp == self.stamp and self.latest - self.first >= STAMP_TICK
