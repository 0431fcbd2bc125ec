"""Read a YAML file an admin edits (rule files, replicator.yaml) without letting it hang or exhaust the process.

Limits are checked on the event stream before anything is built: file size, alias count, the size the document
would have with every alias expanded (a "billion laughs" file is a few lines that expand to 10^9 nodes),
nesting depth and a time budget.  Bytes that are not UTF-8 and control characters are refused with their line
and column.  Every problem is a `YamlProblem` (1-based line and column), never an exception from the parser.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

MAX_BYTES = 1024 * 1024  # rule files and replicator.yaml are a few KB; 1 MiB leaves room for big value maps
MAX_ALIASES = 100
MAX_NODES = 200_000  # nodes after expanding every alias
MAX_DEPTH = 64
MAX_SECONDS = 2.0

# C0 controls except tab, LF, CR; DEL; C1 controls; the BOM inside the text; non-characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")


@dataclass(frozen=True)
class YamlProblem:
    line: int
    col: int
    message: str


class YamlLimitError(Exception):
    def __init__(self, problem: YamlProblem):
        super().__init__(problem.message)
        self.problem = problem


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def decode(raw: bytes) -> str:
    """UTF-8 text (a leading BOM dropped); raises YamlLimitError naming the line and column of a bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        line, col = _line_col(before, len(before))
        raise YamlLimitError(
            YamlProblem(line, col, f"byte 0x{raw[exc.start]:02x} is not UTF-8: save the file as UTF-8")
        ) from None
    bad = _CONTROL.search(text)
    if bad:
        line, col = _line_col(text, bad.start())
        raise YamlLimitError(
            YamlProblem(line, col, f"control character U+{ord(bad.group()):04X} is not allowed in the file: remove it")
        )
    return text


def _mark(event: Any) -> tuple[int, int]:
    mark = getattr(event, "start_mark", None)
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def check_limits(
    text: str,
    *,
    max_aliases: int = MAX_ALIASES,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
    max_seconds: float = MAX_SECONDS,
) -> None:
    """Walk the parser's events (no document is built) and raise YamlLimitError at the first limit crossed."""
    deadline = time.monotonic() + max_seconds
    sizes: dict[str, int] = {}  # anchor -> nodes in its node once expanded
    open_frames: list[list] = []  # [anchor, expanded size so far]
    aliases = 0
    total = 0

    def fail(event: Any, message: str) -> None:
        raise YamlLimitError(YamlProblem(*_mark(event), message))

    for n, event in enumerate(YAML(typ="rt").parse(text)):
        if n % 1000 == 0 and time.monotonic() > deadline:
            fail(event, f"the file takes more than {max_seconds:g} s to read: simplify it")
        if isinstance(event, CollectionStartEvent):
            if len(open_frames) >= max_depth:
                fail(event, f"nested more than {max_depth} levels deep")
            open_frames.append([event.anchor, 1])
            continue
        if isinstance(event, AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                fail(event, f"more than {max_aliases} aliases (*name): write the values out")
            if event.anchor not in sizes:
                fail(event, f"alias *{event.anchor} refers to a node that contains it")
            size = sizes[event.anchor]
        elif isinstance(event, ScalarEvent):
            size = 1
            bad = _CONTROL.search(event.value or "")
            if bad:  # written as an escape ("\x07"): the file is clean, the value would not be
                fail(event, f"control character U+{ord(bad.group()):04X} in a value is not allowed: remove it")
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, CollectionEndEvent):
            anchor, size = open_frames.pop()
            if anchor:
                sizes[anchor] = size
        else:
            continue
        if open_frames:
            open_frames[-1][1] += size
            grown = open_frames[-1][1]
        else:
            total += size
            grown = total
        if grown > max_nodes:
            fail(event, f"the aliases expand to more than {max_nodes} values (an alias bomb?): write the values out")


def load_text(text: str, typ: str = "rt") -> Any:
    """Parse already-checked text; raises YamlLimitError with the parser's position on a syntax error."""
    try:
        check_limits(text)
        return YAML(typ=typ).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        said = str(exc.problem or exc.context)
        if said.startswith("but ") and exc.context:  # "but found another document" needs what was expected
            said = f"{exc.context} {said}"
        raise YamlLimitError(YamlProblem(*where, f"YAML syntax: {said}")) from None
    except ReaderError as exc:  # a character the reader refuses (text that did not come through decode())
        line, col = _line_col(text, exc.position)
        raise YamlLimitError(
            YamlProblem(line, col, f"character U+{exc.character:04X} is not allowed: remove it")
        ) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlLimitError(YamlProblem(*where, f"YAML syntax: {getattr(exc, 'problem', None) or exc}")) from None
    except RecursionError:
        raise YamlLimitError(YamlProblem(1, 1, "nested too deep to read")) from None


def read_yaml(path: Path, typ: str = "rt", max_bytes: int = MAX_BYTES) -> Any:
    """Read, decode, check and parse `path`; YamlLimitError for every problem in the text, OSError to read it."""
    with open(path, "rb") as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise YamlLimitError(
            YamlProblem(1, 1, f"the file is larger than {max_bytes // 1024} KiB: is it the right file?")
        )
    return load_text(decode(raw), typ)
