"""Benchmark: what the page sums' text fingerprints cost and what they catch, on the 100,000-article stand-in; JSON.

    python bench/bench_page_sums.py [--articles 100000] [--rounds 3] [--file PATH]

Builds the stand-in (or uses `--file`, a copy of it is taken), takes the first sight, then for the page sums
without the text fingerprints (`TEXT_FINGERPRINTS = False`, how they were) and with them, alternately:
the CPU and wall seconds of every paged table's sums, of a quick scan that takes all sums (a safety rescan, or a
rotation scan on a quiet file), of an event scan (the quick sums only; `event_scan`, with and without a stock edit
to find) and of a full rescan; and whether a quick scan sees an article
description changed to another of the same length without FUMART moving (a bulk update by another program).
`idle_cpu_percent`: one quick scan a minute (`rescan_seconds`) and a full rescan every 15 minutes, as a share of
one core.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from replicator.config import FactusolConfig
from replicator.factusol import pages
from replicator.factusol.connection import connection_string_for, open_factusol
from replicator.factusol.scanner import FactusolScanner
from replicator.sandbox.factusol import create_sandbox
from replicator.store import Store


def timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def replan(scanner: FactusolScanner, conn) -> None:
    """The scanner's pages with the current TEXT_FINGERPRINTS: new aggregate lists and their sums now."""
    for name, paged in scanner._pages.items():
        table = scanner.tables[name]
        with conn.iter_tuples(f"SELECT TOP 1 * FROM [{name}]") as rows:
            columns = list(rows.columns)
            rows.drain()
        paged.select = pages.aggregate_list(table, columns)
        paged.sums = pages.page_sums(conn, table, paged)


def same_length_edit(conn, code: str) -> None:
    desc = conn.scalar("SELECT [DESART] FROM [F_ART] WHERE [CODART] = ?", [code])
    swapped = desc[:-1] + ("Z" if desc[-1:] != "Z" else "Y")  # same length, FUMART left as it is
    conn.execute("UPDATE [F_ART] SET [DESART] = ? WHERE [CODART] = ?", [swapped, code])


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--file", type=Path)
    args = ap.parse_args()
    variants = {"without": False, "with": True}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "0012025.sqlite"
        if args.file:
            shutil.copyfile(args.file, path)
        else:
            create_sandbox(path, articles=args.articles, customers=2000, seed=0, year=2025)
        store = Store(f"sqlite:///{Path(tmp) / 'state.sqlite'}")
        scanner = FactusolScanner(store, FactusolConfig(file=path))
        _, first_wall, first_cpu = timed(scanner.scan)
        conn = open_factusol(connection_string_for(path))
        codes = [r["CODART"] for r in conn.query("SELECT TOP 3 [CODART] FROM [F_ART] ORDER BY [CODART] DESC")]
        sums: dict[str, dict[str, list]] = {v: {} for v in variants}
        quick: dict[str, list] = {v: [] for v in variants}
        event: dict[str, list] = {"nothing to find": [], "a stock edit": []}
        full: dict[str, list] = {}
        for _ in range(args.rounds):
            for variant, n in variants.items():
                pages.TEXT_FINGERPRINTS = n
                replan(scanner, conn)
                for name, paged in scanner._pages.items():
                    _, wall, cpu = timed(pages.page_sums, conn, scanner.tables[name], paged)
                    sums[variant].setdefault(name, []).append((wall, cpu))
                _, wall, cpu = timed(scanner.scan, full=False)
                quick[variant].append((wall, cpu))
            for what, runs in event.items():
                if what == "a stock edit":
                    conn.execute("UPDATE [F_STO] SET [ACTSTO] = [ACTSTO] + 1 WHERE [ARTSTO] = ?", [codes[0]])
                scanner.rearm()
                _, wall, cpu = timed(scanner.scan, full=False, rotation_seconds=0)
                runs.append((wall, cpu))
        for variant, n in variants.items():
            pages.TEXT_FINGERPRINTS = n
            replan(scanner, conn)
            _, wall, cpu = timed(scanner.scan, full=True)
            full[variant] = [wall, cpu]
        seen = {}
        for (variant, n), code in zip(variants.items(), codes):
            pages.TEXT_FINGERPRINTS = n
            replan(scanner, conn)
            same_length_edit(conn, code)
            report, wall, _ = timed(scanner.scan, full=False)
            seen[variant] = {"changes": report.changes, "scan_seconds": round(wall, 3)}
        conn.close()
        pages.TEXT_FINGERPRINTS = True

    def med(pairs, i):
        return round(statistics.median(p[i] for p in pairs), 3)

    result = {
        "articles": args.articles,
        "first_sight_s": round(first_wall, 1),
        "first_sight_cpu_s": round(first_cpu, 1),
        "page_sums": {
            v: {name: {"wall_s": med(runs, 0), "cpu_s": med(runs, 1)} for name, runs in by_table.items()}
            for v, by_table in sums.items()
        },
        "quick_scan_all_sums": {
            v: {"wall_s": [round(w, 3) for w, _ in runs], "cpu_s": [round(c, 3) for _, c in runs]}
            for v, runs in quick.items()
        },
        "event_scan": {what: {"wall_s": med(runs, 0), "cpu_s": med(runs, 1)} for what, runs in event.items()},
        "full_rescan": {v: {"wall_s": round(w, 2), "cpu_s": round(c, 2)} for v, (w, c) in full.items()},
        "idle_cpu_percent": {v: round(100 * (med(quick[v], 1) / 60 + full[v][1] / 900), 2) for v in variants},
        "unstamped_same_length_edit": seen,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
