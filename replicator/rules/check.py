"""`replicator rules check [PATH…]`: print every rule problem as file:line:col: message; exit 1 on any."""

from __future__ import annotations

import sys
from typing import TextIO

from .loader import check_rules


def rules_check_main(paths: list[str], out: TextIO | None = None) -> int:
    """Check the given rule files/dirs (the default rules dir when empty); 0 when clean, 1 on any problem."""
    out = out or sys.stdout
    problems = check_rules(paths or None)
    for p in problems:
        print(p, file=out)
    if not problems:
        print("rules OK", file=out)
    return 1 if problems else 0
