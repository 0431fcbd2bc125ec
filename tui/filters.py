"""The filter every tab shares: `/` opens it, words narrow the rows, a chip shows it, Esc clears it.

Words: a status (`pending`, `conflict`, ...), a side (`fs`/`ps`, `factusol`/`prestashop`), an entity
(`customer`, `product`, ...), `key=...`, `status=...`, `entity=...`, `side=...`; any other word is searched in the
row's key and text (article code, customer name or e-mail in the row images, the conflict's record name, the
quarantine reason).  All words must match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .format import SIDE_ALIASES, STATUSES

ENTITIES = ("customer", "address", "product", "stock", "order", "shipment", "invoice")
EXTRA_STATUSES = ("open", "resolved", "applied", "skipped")  # conflict and quarantine row statuses


@dataclass(frozen=True)
class Filter:
    status: str | None = None
    entity: str | None = None
    side: str | None = None
    key: str | None = None
    text: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> "Filter":
        found: dict[str, str | None] = {"status": None, "entity": None, "side": None, "key": None}
        words: list[str] = []
        for word in text.split():
            name, sep, value = word.replace(":", "=", 1).partition("=")
            if sep and name in found and value:
                found[name] = SIDE_ALIASES.get(value.lower(), value) if name == "side" else value
            elif word.lower() in STATUSES or word.lower() in EXTRA_STATUSES:
                found["status"] = word.lower()
            elif word.lower() in SIDE_ALIASES:
                found["side"] = SIDE_ALIASES[word.lower()]
            elif word.lower() in ENTITIES:
                found["entity"] = word.lower()
            else:
                words.append(word)
        return cls(text=tuple(words), **found)

    @property
    def active(self) -> bool:
        return bool(self.status or self.entity or self.side or self.key or self.text)

    def chip(self) -> str:
        """The filter in words, for the chip above the table."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status),
                ("entity", self.entity),
                ("side", self.side),
                ("key", self.key),
            )
            if value
        ]
        parts += [f'"{word}"' for word in self.text]
        return "  ".join(parts)

    def matches(
        self, status: str = "", entity: str = "", side: str = "", key: str = "", texts: Iterable[str] = ()
    ) -> bool:
        """For rows filtered on screen (conflicts, quarantine): every given part must match."""
        if self.status and status != self.status:
            return False
        if self.entity and entity != self.entity:
            return False
        if self.side and side not in (self.side, "any"):
            return False
        if self.key and self.key.lower() not in key.lower():
            return False
        haystack = " ".join([key, entity, *texts]).lower()
        return all(word.lower() in haystack for word in self.text)


def parse_filter(text: str) -> dict[str, object]:
    """'conflict customer' or 'status=conflict entity=customer side=factusol' -> the filter's parts."""
    flt = Filter.parse(text)
    return {"status": flt.status, "entity": flt.entity, "side": flt.side, "key": flt.key, "text": list(flt.text)}
