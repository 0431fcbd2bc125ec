"""Row hashing and the snapshot diff: compare rows read now with the per-row hashes kept in the store.

`replicator.keys.row_hash(image)` is THE hash of a row image, shared with the apply layer (echo suppression compares the
hash of what it wrote with the hash of what the watcher reads back), so it must not depend on driver types:
Decimal('5.5000'), '5.5' coerced, and 5.5 hash alike; 5 and Decimal('5.0') hash alike; a midnight datetime
hashes like its date.  `Differ` turns (key, hash, image) rows into CapturedRows with before/after images plus
the snapshot updates that go into the same `Store.record_capture` call.

Compact images: the text a row hash is computed from, `repr` of the row's canonical values in sorted column
order, is also a complete (canonical) image of the row.  A scanner that hashes many rows at once keeps that text
as the snapshot image (`RowHasher.compact`), so a baseline stores before-images without encoding a JSON image
per row; `RowHasher.expand` turns it back into {column: canonical value} while the table's columns are the same.
"""

from __future__ import annotations

import ast
import hashlib
import operator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Callable

from replicator.keys import DELETED_HASH, canon
from replicator.memo import memoised
from replicator.store import CapturedRow, Store

from .tables import WatchedTable

INSERT, UPDATE, DELETE = "insert", "update", "delete"


class RowHasher:
    """`row_hash` for many rows of one result set: sorts the columns once (same result as `row_hash`)."""

    def __init__(self, columns: list[str]):
        order = sorted(range(len(columns)), key=lambda i: columns[i])
        self.names = tuple(columns[i] for i in order)
        self.order = order
        self._pick = (lambda v, i=order[0]: (v[i],)) if len(order) == 1 else operator.itemgetter(*order)
        self._canon = _memo_canon()
        # digest hashes repr((names, values)): the "(names, " part is the same for every row, hash it once.
        names = repr(self.names)
        self._prefix = hashlib.blake2b(("(" + names + ", ").encode("utf-8", "surrogatepass"), digest_size=16)
        # Compact images carry a tag of the column names they were made with: "~<tag>(values...)".
        self._compact = COMPACT + hashlib.blake2b(names.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()

    def __call__(self, values) -> str:
        # canon() of str, int and None is the value itself: skip the call for them (most columns); the others
        # (Decimal, datetime, float) repeat few values across rows: memoised.
        can = self._canon
        canonical = tuple([v if type(v) in _CANON_SELF else can(v) for v in self._pick(values)])
        return self.of_text(repr(canonical))  # == digest(self.names, canonical)

    def of_text(self, text: str) -> str:
        """The row hash from `repr` of the row's canonical values, in `names` order."""
        h = self._prefix.copy()
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b")")
        return h.hexdigest()

    def of_texts(self, texts: list[str]) -> list[str]:
        """`of_text` of many rows."""
        copy, out = self._prefix.copy, []
        append = out.append
        for text in texts:
            h = copy()
            h.update(text.encode("utf-8", "surrogatepass"))
            h.update(b")")
            append(h.hexdigest())
        return out

    def compact(self, text: str) -> str:
        """The compact snapshot image of a row, from the same text as `of_text`."""
        return self._compact + text

    def expand(self, stored: str) -> dict | None:
        """{column: canonical value} from a `compact` image, or None when it was made with other columns (or is
        unreadable): the before-image is then unknown."""
        head = self._compact
        if not stored.startswith(head):
            return None
        try:
            values = ast.literal_eval(stored[len(head) :])  # literals only: never evaluates code
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None  # e.g. a float nan/inf, whose repr is not a literal
        if type(values) is not tuple or len(values) != len(self.names):
            return None
        return dict(zip(self.names, values))


COMPACT = "~"  # first character of a compact image (a JSON image starts with "{")


def canon_column(values: tuple | list, convert: Callable[[Any], Any] | None, cache: dict) -> tuple | list:
    """`canon(convert(v))` (or `canon(v)`) for every value of one column of a batch of rows.

    Columns of text, integers and NULLs only (most of them) come back as they are; the others go through `cache`
    (raw value -> canonical value), filled once per distinct value, so a batch costs a few C-level passes.
    Keyed by the raw value: values that compare equal have the same canonical form (see `_memo_canon`).
    """
    if convert is None:
        if set(map(type, values)) <= _CANON_SELF:
            return values
        one = canon
    else:

        def one(v, convert=convert):
            return canon(convert(v))

    try:
        missing = set(values).difference(cache)
    except TypeError:  # an unhashable (or signalling NaN) value: no cache for this batch
        return [one(v) for v in values]
    if missing:
        if len(cache) + len(missing) > _CACHE_LIMIT:  # many distinct values (prices of 100k articles): start over
            cache.clear()
            missing = set(values)
        for v in missing:
            cache[v] = one(v)
    return list(map(cache.__getitem__, values))


def canon_repr_column(
    values: tuple | list, convert: Callable[[Any], Any] | None, cache: dict, state: list[bool]
) -> list[str]:
    """`repr(canon(convert(v)))` for every value of one column of a batch: the column's part of the repr of the
    rows' canonical tuples (see `RowHasher.of_text`), so a row's text is ", ".join of its parts in brackets.

    `cache` maps raw value -> repr.  Columns of text, integers and NULLs use it only while they repeat values
    (`state[0]`, switched off for good by a batch of mostly distinct values); the others always do.
    """
    if convert is None and set(map(type, values)) <= _CANON_SELF:  # already canonical
        if not state[0]:
            return list(map(repr, values))
        try:
            distinct = set(values)
        except TypeError:
            return list(map(repr, values))
        if len(distinct) * 4 > len(values):  # mostly distinct (names, codes): a cache would not pay
            state[0] = False
            return list(map(repr, values))
        missing = distinct.difference(cache)
        one = repr
    else:
        if convert is None:

            def one(v):
                return repr(canon(v))
        else:

            def one(v, convert=convert):
                return repr(canon(convert(v)))

        try:
            missing = set(values).difference(cache)
        except TypeError:  # an unhashable (or signalling NaN) value: no cache for this batch
            return [one(v) for v in values]
    if missing:
        if len(cache) + len(missing) > _CACHE_LIMIT:
            cache.clear()
            missing = set(values)
        for v in missing:
            cache[v] = one(v)
    return list(map(cache.__getitem__, values))


_CACHE_LIMIT = 50_000


def _memo_canon(limit: int = 50_000) -> Callable[[Any], Any]:
    """`canon` with a cache.  Safe to key by value: values that compare equal have the same canonical form
    (Decimal('5.0') == 5.0 -> 5; Decimal('0.1') != 0.1), and datetime never equals date."""
    return memoised(canon, limit)


_CANON_SELF = frozenset({str, int, type(None)})


@dataclass
class DiffResult:
    """What one scan of one or more tables produced, ready for `Store.record_capture`."""

    rows: list[CapturedRow] = field(default_factory=list)
    snapshots: list[tuple[str, str, str, str | None, dict | None]] = field(default_factory=list)
    new_hashes: dict[str, dict[str, str | None]] = field(default_factory=dict)  # table -> key -> hash/None
    echoes: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {INSERT: 0, UPDATE: 0, DELETE: 0})

    def extend(self, other: "DiffResult") -> None:
        self.rows += other.rows
        self.snapshots += other.snapshots
        for t, m in other.new_hashes.items():
            self.new_hashes.setdefault(t, {}).update(m)
        self.echoes += other.echoes
        for k, v in other.counts.items():
            self.counts[k] += v


def _image_of(image: dict | str | Callable[[], dict] | None) -> dict | str | None:
    return image() if callable(image) else image


class Differ:
    """Diff the rows of one table, as they are read, against the known snapshot hashes.

    `known` is key -> hash of the last committed snapshot.  `baseline=True` records snapshots without emitting
    changes (first sight of a table, or a fiscal-year switch for masters where only differences matter is
    handled by passing the previous year's hashes as `known`).  Own writes: a changed row whose new hash equals
    `store.last_written_hash(side, table, key)` only moves the snapshot.
    """

    def __init__(
        self,
        store: Store,
        table: WatchedTable,
        known: dict[str, str],
        position: str,
        txn: str,
        baseline: bool = False,
        physical_name: str | None = None,
    ):
        self.store, self.table, self.known = store, table, known
        self.position, self.txn, self.baseline = position, txn, baseline
        self.source_table = physical_name or table.name
        self._result = DiffResult()
        self._result.new_hashes[self.table.name] = {}
        self.seen: set[str] = set()
        # Changed rows wait here until the result is read, so their echo checks and before-images are looked
        # up in a few batched queries instead of two queries per row: (op, key, hash, after-image or the callable
        # that builds it, compact image or None).  Their snapshots are written when they are resolved.
        self._pending: list[tuple[str, str, str, Any, str | None]] = []
        # Turns a compact snapshot image (see `RowHasher.compact`) back into a before-image; without it (or when
        # it answers None) such a before-image counts as not kept.
        self.expand_image: Callable[[str], dict | None] | None = None

    @property
    def result(self) -> DiffResult:
        self._resolve()
        return self._result

    def _resolve(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        keys = [key for _op, key, _h, _image, _compact in pending]
        written = self.store.last_written_hashes(self.table.side, self.table.name, keys)
        needs_before = [key for op, key, h, _image, _compact in pending if op != INSERT and written.get(key) != h]
        before = self.store.snapshot_images(self.table.side, self.table.name, needs_before) if needs_before else {}
        for op, key, h, image, compact in pending:
            echo = written.get(key) == h  # our own write coming back
            if op == DELETE:
                self._snap(key, None, None)
                after = None
            elif echo and compact is not None:
                self._snap(key, h, compact)  # the after-image of an echo is never built
            else:
                after = _image_of(image)
                self._snap(key, h, after)
            if echo:
                self._result.echoes += 1
                continue
            old = before.get(key) if op != INSERT else None
            if type(old) is str:  # a compact image (the baseline's)
                old = self.expand_image(old) if self.expand_image is not None else None
            self._emit(op, key, old, after)

    def _snap(self, key: str, h: str | None, image: dict | None) -> None:
        self._result.snapshots.append((self.table.side, self.table.name, key, h, image))
        self._result.new_hashes[self.table.name][key] = h

    def _emit(self, op: str, key: str, before: dict | None, after: dict | None) -> None:
        self._result.rows.append(
            CapturedRow(
                side=self.table.side,
                entity=self.table.entity,
                source_table=self.table.name,
                row_key=key,
                op=op,
                before=before,
                after=after,
                position=self.position,
                txn=self.txn,
            )
        )
        self._result.counts[op] += 1

    def row(self, key: str, h: str, image: dict | str | Callable[[], dict], compact: str | None = None) -> None:
        """One row as read now; `image` may be a callable so unchanged rows never build their dict.

        A `str` image is a compact image (`RowHasher.compact`): only for a baseline, where no change needs an
        after-image, so the snapshot keeps the text the hash was computed from.  `compact`, when given, is that
        compact image of a changed row: it becomes the snapshot if the row turns out to be our own write (an
        echo), whose after-image is then never built."""
        self.seen.add(key)
        old = self.known.get(key)
        if old == h:
            return
        if self.baseline:
            self._snap(key, h, _image_of(image))
            return
        if self._result.new_hashes[self.table.name].get(key, old) == h:
            return  # read twice by this scan (a page whose sums moved, and the FUM read): one change
        self._result.new_hashes[self.table.name][key] = h
        self._pending.append((INSERT if old is None else UPDATE, key, h, image, compact))

    def baseline_rows(self, keys: list[str], hashes: list[str], images: list) -> None:
        """`row` for many rows of a baseline that are all new or changed against `known`: snapshots only."""
        assert self.baseline
        self.seen.update(keys)
        side, name = self.table.side, self.table.name
        self._result.snapshots.extend(zip(repeat(side), repeat(name), keys, hashes, images))
        self._result.new_hashes[name].update(zip(keys, hashes))

    def gone(self, key: str) -> None:
        """A known row that no longer exists."""
        if key not in self.known:
            return
        if self.baseline:
            self._snap(key, None, None)
            return
        self._result.new_hashes[self.table.name][key] = None
        self._pending.append((DELETE, key, DELETED_HASH, None, None))

    def finish_full(self) -> DiffResult:
        """After a full read: every known key not seen is a delete."""
        for key in [k for k in self.known if k not in self.seen]:
            self.gone(key)
        return self.result


def commit_diff(store: Store, diff: DiffResult, checkpoint: tuple[str, Any], known: dict[str, dict[str, str]]) -> int:
    """Write a scan's changes, snapshots and checkpoint in one store transaction, then bring the in-memory
    snapshot hashes (`known`, table -> key -> hash) in line.  If the write fails, `known` is cleared so the
    next scan reloads what is really committed.  Returns the number of new changes."""
    try:
        changes = store.record_capture(diff.rows, checkpoint, diff.snapshots)
    except BaseException:
        known.clear()
        raise
    for name, updates in diff.new_hashes.items():
        table = known.setdefault(name, {})
        for key, h in updates.items():
            if h is None:
                table.pop(key, None)
            else:
                table[key] = h
    return changes
