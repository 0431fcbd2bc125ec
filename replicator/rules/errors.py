"""Error types of the rules engine: rule-file problems (with positions) and per-row mapping failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class RuleProblem:
    """One problem in a rule file; line and col are 1-based, like editors and compilers show them."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class RulesError(Exception):
    """Raised by load_rules when any rule file has a problem; carries every problem found, not just the first."""

    def __init__(self, errors: list[RuleProblem]):
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors) or "invalid rules")


@dataclass
class MappingError(Exception):
    """A row that the rules cannot map (value too wide under `reject`, value missing from a value map, ...).

    The sync engine quarantines the row with this reason instead of stopping.
    """

    entity: str
    key: Any
    field: str
    reason: str
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.entity} {self.key!r}: field {self.field}: {self.reason}"
