"""The service at rest, printed as JSON: CPU seconds `replicator run` uses while nothing changes on either side.

    python bench/bench_daemon_idle.py [--seconds 30] [--settle 15] [--articles 15] [--no-edit-first]
                                      [--log-level DEBUG] [--keep]

Starts a throwaway local mariadbd with the demo shop and a FactuSOL stand-in, runs `replicator run` on them, waits
for the first run to finish and settle, then reads the process's CPU time (user + system, children included) from
/proc over `--seconds` of quiet.  With `--keep` the work folder (service log, store) is kept and named; with
`--log-level DEBUG` its log times every scan.  Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replicator.config import default_rules_dir
from replicator.config import render_config
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.mariadb import LocalMariaDB
from replicator.sandbox.shop import create_shop


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children, from /proc."""
    ticks = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for p in [pid, *map(int, children)]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0, help="quiet time measured")
    ap.add_argument("--settle", type=float, default=15.0, help="wait after the service says it is running")
    ap.add_argument("--articles", type=int, default=15)
    ap.add_argument(
        "--no-edit-first",
        dest="edit_first",
        action="store_false",
        help="measure a service that has seen no FactuSOL edit (by default one stock edit comes first, as in a file in "
        "use: its file event tells the watcher that events arrive here, which stretches its safety rescans)",
    )
    ap.add_argument("--log-level", default="INFO", help="the service's log level (DEBUG: every scan timed)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (service log, store) to look into")
    args = ap.parse_args()
    server = LocalMariaDB().start()
    work = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    service = None
    try:
        fs_path = work / "FS" / "0012026.sqlite"
        fs_path.parent.mkdir()
        connection = create_sandbox(str(fs_path), articles=args.articles, customers=3, seed=5)
        shop_url = create_shop(server.url, "bench_idle", demo=True)
        config = work / "replicator.yaml"
        config.write_text(
            render_config(connection, shop_url, store=f"sqlite:///{work / 'state.sqlite'}").replace(
                "  level: INFO", f"  level: {args.log_level}"
            ),
            encoding="utf-8",
        )
        shutil.copytree(default_rules_dir(), work / "rules")
        log_path = work / "service.log"
        with open(log_path, "w") as log:
            service = subprocess.Popen(
                [sys.executable, "-m", "replicator.cli", "run", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180
        while "replicator running" not in log_path.read_text() and time.monotonic() < deadline:
            if service.poll() is not None:
                raise SystemExit("the service stopped:\n" + log_path.read_text()[-2000:])
            time.sleep(0.5)
        time.sleep(args.settle)
        if args.edit_first:
            with sqlite3.connect(fs_path) as fs:
                fs.execute("UPDATE F_STO SET ACTSTO = ACTSTO + 1 WHERE rowid = (SELECT MIN(rowid) FROM F_STO)")
            time.sleep(args.settle)
        before, started = cpu_seconds(service.pid), time.monotonic()
        time.sleep(args.seconds)
        used, elapsed = cpu_seconds(service.pid) - before, time.monotonic() - started
    finally:
        if service is not None:
            service.terminate()
            service.wait(30)
        server.stop()
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "daemon_idle",
                "articles": args.articles,
                "edit_first": args.edit_first,
                "seconds": round(elapsed, 1),
                "cpu_seconds": round(used, 2),
                "cpu_share_of_one_core": round(used / elapsed, 4),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
