"""`python -m bench` (or `make bench`): run every benchmark script in this folder; each prints one JSON object.

Arguments after `--` go to every script (e.g. `python -m bench -- --articles 20000`); `python -m bench NAME`
runs only the scripts whose name contains NAME.  Numbers are measured, never asserted: see docs/performance.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    names = argv[: argv.index("--")] if "--" in argv else argv
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if names and not any(n in script.stem for n in names):
            continue
        print(f"# {script.name}", file=sys.stderr, flush=True)
        failed |= subprocess.call([sys.executable, str(script), *extra]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
