"""Rule files as read: which files a path names, their YAML with 1-based positions, one file's problems.

Every later check reports through `RuleFile.at`/`at_key`, so each problem names file, line and column.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from replicator.yamlsafe import YamlLimitError, read_yaml

from .errors import RuleProblem


def _default_rules_dir() -> Path:
    """`rules/` beside the package in a checkout, else the copy an installed package carries."""
    here = Path(__file__).resolve()
    candidates = (here.parents[2] / "rules", here.parents[1] / "default_rules")
    return next((c for c in candidates if c.is_dir()), candidates[0])


DEFAULT_RULES_DIR = _default_rules_dir()


def rule_files(paths_or_dir: str | Path | Iterable[str | Path] | None = None) -> list[Path]:
    """The rule files named: directories expand to their *.yaml / *.yml files (sorted)."""
    if paths_or_dir is None:
        paths_or_dir = [DEFAULT_RULES_DIR]
    elif isinstance(paths_or_dir, (str, Path)):
        paths_or_dir = [paths_or_dir]
    files: list[Path] = []
    for p in map(Path, paths_or_dir):
        if p.is_dir():
            files.extend(sorted(x for x in p.iterdir() if x.suffix in (".yaml", ".yml")))
        else:
            files.append(p)
    return files


def pos(node: Any, key: Any) -> tuple[int, int]:
    """1-based (line, col) of node[key]: the value when it is a scalar, else the key (where a reader looks)."""
    try:
        if isinstance(node, CommentedSeq):
            line, col = node.lc.item(key)
        elif isinstance(node[key], (CommentedMap, CommentedSeq)):
            line, col = node.lc.key(key)
        else:
            line, col = node.lc.value(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 1, 1


def key_pos(node: CommentedMap, key: Any) -> tuple[int, int]:
    try:
        line, col = node.lc.key(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def plain(node: Any) -> Any:
    """JSON-like copy for the schema validator (string keys, plain numbers)."""
    if isinstance(node, dict):
        return {str(k).lower() if isinstance(k, bool) else str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return node if not isinstance(node, str) else str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def to_py(value: Any) -> Any:
    """Scalar from YAML to the value the engine uses: floats become Decimal (money, rates)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        return str(value)
    return value


def original_key(node: dict, key: str) -> Any:
    for k in node:
        if (str(k).lower() if isinstance(k, bool) else str(k)) == key:
            return k
    return key


class RuleFile:
    """One rule file being checked: its parsed data and the problems found in it."""

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)
        self.data: Any = None
        self.problems: list[RuleProblem] = []

    def add(self, line_col: tuple[int, int], message: str) -> None:
        self.problems.append(RuleProblem(self.name, line_col[0], line_col[1], message))

    def at(self, node: Any, key: Any, message: str) -> None:
        self.add(pos(node, key), message)

    def at_key(self, node: Any, key: Any, message: str) -> None:
        self.add(key_pos(node, key), message)


def load_yaml(f: RuleFile) -> None:
    try:
        f.data = read_yaml(f.path)
    except OSError as e:
        f.add((1, 1), f"cannot read rule file: {e.strerror or e}")
        return
    except YamlLimitError as e:
        f.add((e.problem.line, e.problem.col), e.problem.message)
        return
    if not isinstance(f.data, CommentedMap):
        f.add((1, 1), "a rule file must be a mapping with at least 'entity' and 'fields'")
        f.data = None
