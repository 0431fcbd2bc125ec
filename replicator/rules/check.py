"""`replicator rules check [PATH…]`: print every rule problem as file:line:col: message; exit 1 on any."""

from __future__ import annotations

import sys
from typing import TextIO

from .loader import check_rules


def rules_check_main(paths: list[str], out: TextIO | None = None, config=None) -> int:
    """Check the given rule files/dirs (the default rules dir when empty); 0 when clean, 1 on any problem.

    With a ``config`` the codes the rules name are also checked against its FactuSOL file and shop."""
    out = out or sys.stdout
    problems = check_rules(paths or None)
    if not problems and config is not None:
        from .datacheck import check_config_data

        problems = check_config_data(config, paths or None)
    for p in problems:
        print(p, file=out)
    if not problems:
        print("rules OK", file=out)
    return 1 if problems else 0
