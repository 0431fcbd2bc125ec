"""What `replicator reconcile` reports: one difference between the two sides, and the report of a whole run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Difference:
    entity: str
    key: str  # the key the entity's sync takes (article code, ps:<customer id>, ps:<order id>)
    kind: str  # missing_link | orphan | field
    field: str = ""
    factusol: Any = None
    prestashop: Any = None
    detail: str = ""
    event: str = ""  # a state difference: the rule event whose state the shop lacks (repair fires it again)

    def __str__(self) -> str:
        if self.kind == "field":
            return (
                f"{self.entity} {self.key}: {self.field} differs: FactuSOL {self.factusol!r}, "
                f"shop {self.prestashop!r}" + (f" ({self.detail})" if self.detail else "")
            )
        return f"{self.entity} {self.key}: {self.kind.replace('_', ' ')}: {self.detail}"


@dataclass
class ReconcileReport:
    checked: dict[str, int] = field(default_factory=dict)  # records looked at per entity
    differences: list[Difference] = field(default_factory=list)

    def keys(self, entity: str) -> list[str]:
        return list(dict.fromkeys(d.key for d in self.differences if d.entity == entity))

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "differences": [asdict(d) for d in self.differences],
            "total": len(self.differences),
        }
