"""Reading `replicator.yaml`'s sections: the keys each section may hold (an unknown one is named with the nearest
known key: "did you mean"), typed values with line:col, every problem collected rather than the first raised."""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any

from replicator.yamlsafe import YamlLimitError, read_yaml

from .errors import ConfigError
from .redaction import expand_env

# Every key a section may hold; anything else is named with the nearest known key.
KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "store",
        "store_namespace",
        "rules",
        "factusol",
        "prestashop",
        "apply_interval_seconds",
        "initial_sync_workers",
        "log",
    ),
    "factusol": (
        "connection",
        "file",
        "data_dir",
        "company",
        "rescan_seconds",
        "full_rescan_seconds",
        "debounce_seconds",
        "rescan_unchanged_file",
        "lock_retry_seconds",
        "timeout_seconds",
        "fast_executemany",
        "idle_close_seconds",
    ),
    "prestashop": (
        "url",
        "prefix",
        "id_shop",
        "id_lang",
        "capture",
        "poll_seconds",
        "poll_overlap_seconds",
        "poll_checksum_seconds",
        "server_id",
        "timezone",
        "ssh",
        "webservice",
    ),
    "prestashop.ssh": (
        "host",
        "port",
        "user",
        "key_file",
        "known_hosts",
        "password",
        "passphrase",
        "accept_new_host_key",
        "timeout_seconds",
    ),
    "prestashop.webservice": ("url", "key"),
    "log": ("level", "file"),
}


class SectionReader:
    """Reads one replicator.yaml, collecting every problem (with line:col where the YAML gives one)."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data
        self.problems: list[str] = []

    def where(self, node: Any, key: str) -> str:
        try:
            line, col = node.lc.key(key)
            return f"{self.path}:{line + 1}:{col + 1}"
        except (AttributeError, KeyError, TypeError):
            return str(self.path)

    def problem(self, node: Any, dotted: str, message: str) -> None:
        self.problems.append(f"{self.where(node, dotted.rpartition('.')[2])}: {dotted}: {message}")

    def section(self, name: str) -> dict:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(self.data, name, "must be a mapping of keys (indented under it)")
            return {}
        return value

    def unknown_keys(self, node: dict, section: str) -> None:
        known = KEYS[section]
        for key in node:
            if str(key) in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
            dotted = f"{section}.{key}" if section else str(key)
            self.problem(node, dotted, f"unknown key{hint}")

    def text(self, node: dict, section: str, key: str, default: str | None = "") -> str | None:
        value = node.get(key, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            self.problem(node, f"{section}.{key}", "must be a single value, not a list or mapping")
            return default
        return str(value)

    def number(
        self, node: dict, section: str, key: str, default: float | None, *, minimum: float = 0.0, above: bool = True
    ) -> float | None:
        """A number of seconds: above `minimum` (or at least it when `above` is False)."""
        value = node.get(key, default)
        if value is None:
            return None
        dotted = f"{section}.{key}" if section else key
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            self.problem(node, dotted, f"expected a number, got {value!r}")
            return default
        if not math.isfinite(number) or (number <= minimum if above else number < minimum):
            self.problem(node, dotted, f"must be {'greater than' if above else 'at least'} {minimum:g} (got {value!r})")
            return default
        return number

    def flag(self, node: dict, section: str, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.problem(node, f"{section}.{key}", f"expected true or false, got {value!r}")
            return default
        return value

    def integer(
        self, node: dict, section: str, key: str, default: int | None, *, minimum: int = 1, maximum: int = 2**32 - 1
    ) -> int | None:
        value = node.get(key, default)
        if value is None:
            return None
        dotted = f"{section}.{key}"
        if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(node, dotted, f"expected a whole number, got {value!r}")
            return default
        if not minimum <= value <= maximum:
            self.problem(node, dotted, f"must be from {minimum} to {maximum} (got {value})")
            return default
        return int(value)

    def env(self, value: str, dotted: str, required: bool = True) -> str:
        try:
            return expand_env(value, dotted, required)
        except ConfigError as exc:
            self.problems.append(f"{self.path}: {exc}")
            return value  # unexpanded: the other checks go on without a second, misleading message


def read_config_yaml(path: Path) -> Any:
    try:
        return read_yaml(path, typ="rt")
    except YamlLimitError as exc:
        raise ConfigError(
            f"{path}:{exc.problem.line}:{exc.problem.col}: not valid YAML: {exc.problem.message}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None
