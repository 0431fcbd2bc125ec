"""A bounded per-value cache for pure one-argument converters (hot per-row paths of the scanners and readers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def memoised(fn: Callable[[Any], Any], limit: int = 50_000) -> Callable[[Any], Any]:
    """``fn`` with a cache of at most ``limit`` raw values: columns repeat few values ('0', the same dates) across
    rows.  Only for functions whose result depends on the value alone; unhashable values are not cached."""
    cache: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            out = fn(value)
            if len(cache) < limit:
                cache[value] = out
            return out
        except TypeError:  # unhashable (or a signalling NaN)
            return fn(value)

    return run
