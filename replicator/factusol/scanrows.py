"""A scan's raw rows: keys, row hashes and images with FactuSOL value types (`ResultReader`), keys alone
(`KeyReader`), and the cheap fingerprints that let an unchanged row skip all of that."""

from __future__ import annotations

import operator
from functools import partial
from pickle import dumps as _pickle

from replicator.capture.snapshot import RowHasher, canon_column, canon_repr_column
from replicator.capture.tables import WatchedTable
from replicator.keys import canon
from replicator.memo import memoised
from replicator.store.codec import encode_key, encode_key_str, json_column, json_ready

from .values import converter_for


class ResultReader:
    """Turns raw row tuples into keys and row hashes with FactuSOL value types (Decimal, datetime).

    Rows are read in batches, column by column (`read_many`): each column's canonical values are turned into their
    reprs in a few C-level passes (`canon_repr_column`, cached per raw value) instead of value by value, then a row's
    text is those reprs joined and its hash one blake2b: the same as `row_hash` of its converted image.  The text is
    also the row's compact image (`RowHasher.compact`), which a baseline stores instead of a JSON image.
    """

    def __init__(self, table: WatchedTable, columns: list[str], converters: list | None = None):
        self.table, self.columns = table, columns
        self.hasher = RowHasher(columns)
        if converters is None:
            converters = [converter_for(n) for n in columns]
        # Moneda/Fecha converters from the FactuSOL schema: the stand-in driver returns DECIMAL as text.
        self.converters = list(converters)
        self.convs = [(i, memoised(c)) for i, c in enumerate(converters) if c]
        self._caches: list[dict] = [{} for _ in columns]  # per key column: raw value -> canonical value
        self._reprs: list[dict] = [{} for _ in columns]  # per column: raw value -> repr of its canonical value
        self._repr_state = [[True] for _ in columns]  # per column: still worth caching (see canon_repr_column)
        self.pk_idx = [columns.index(c) for c in table.pk]
        self.pk_names = table.pk
        ts = table.ts_column
        self.ts_idx = columns.index(ts) if ts and ts in columns else None
        self._ts_conv = (
            memoised(converters[self.ts_idx]) if self.ts_idx is not None and converters[self.ts_idx] else None
        )
        # The raw primary key of a row tuple (a value for one column, a tuple for several): the fingerprint
        # cache's key, so unchanged rows never build their JSON key.
        self.raw_pk = operator.itemgetter(*self.pk_idx)
        # The JSON key ({"A":..,"B":..}, sorted names, as encode_key writes it) from the canonical pk columns.
        key_names = sorted(table.pk)
        self._key_idx = [columns.index(n) for n in key_names]
        heads = ["{" if i == 0 else "," for i in range(len(key_names))]
        if len(key_names) == 1:
            self._key_head = "{" + encode_key_str(key_names[0]) + ":"
        self._key_fmt = (
            "".join(h + encode_key_str(n).replace("%", "%%") + ":%s" for h, n in zip(heads, key_names)) + "}"
        )
        # Before-images from compact images: canonical values back to the JSON image's form (Moneda "1.5000",
        # dates "2026-01-01T00:00:00") for the columns that have a converter.
        self._restore = [(n, c) for n, c in zip(columns, converters) if c]

    def read_many(self, raws: list[tuple]) -> tuple[list[str], list[str], list[str]]:
        """(keys, hashes, texts) of a batch of raw rows; `texts[i]` is what `hashes[i]` was computed from."""
        if not raws:
            return [], [], []
        cols = list(zip(*raws))
        convs, reprs, states = self.converters, self._reprs, self._repr_state
        # texts[r] == repr(tuple of row r's canonical values in sorted column order), built from per-column reprs
        # (cached for the columns that repeat values) instead of one repr per row.
        parts = [canon_repr_column(cols[i], convs[i], reprs[i], states[i]) for i in self.hasher.order]
        if len(parts) == 1:
            texts = ["(" + t + ",)" for t in parts[0]]
        else:
            texts = ["(" + t + ")" for t in map(", ".join, zip(*parts))]
        hashes = self.hasher.of_texts(texts)
        enc = [json_column(canon_column(cols[i], convs[i], self._caches[i])) for i in self._key_idx]
        if len(enc) == 1:
            head = self._key_head
            keys = [head + e + "}" for e in enc[0]]
        else:
            keys = list(map(self._key_fmt.__mod__, zip(*enc)))
        return keys, hashes, texts

    def ts_values(self, raws: list[tuple]) -> list | None:
        """The converted timestamp column of a batch (None when the table has none)."""
        if self.ts_idx is None:
            return None
        i, conv = self.ts_idx, self._ts_conv
        values = [raw[i] for raw in raws]
        return list(map(conv, values)) if conv else values

    def read(self, raw) -> tuple[str, str, list]:
        """One row: (key, hash, converted values)."""
        keys, hashes, _ = self.read_many([raw])
        return keys[0], hashes[0], self.values(raw)

    def values(self, raw) -> list:
        vals = list(raw)
        for i, conv in self.convs:
            vals[i] = conv(vals[i])
        return vals

    def image(self, raw) -> dict:
        return dict(zip(self.columns, self.values(raw)))

    def expand(self, stored: str) -> dict | None:
        """The before-image kept as a compact image: canonical values, converted columns in their image form.

        Exact for text, integers, NULLs, Moneda, Fecha and float columns; a Yes/No column reads back as 1/0."""
        image = self.hasher.expand(stored)
        if image is None:
            return None
        for name, conv in self._restore:
            value = image.get(name)
            if value is not None:
                try:
                    image[name] = json_ready(conv(value))
                except Exception:  # noqa: BLE001 - the canonical value is still a faithful image
                    pass
        return image


def _fingerprint(raw: tuple) -> int:
    """A cheap exact-enough fingerprint of a raw driver row: the 64-bit hash of its pickle.

    A pickle tells every driver value apart (1 vs 1.0 vs '1', -1 vs -2: `hash()` of the tuple itself would not,
    hash(-1) == hash(-2)), and bytes hash with SipHash, so two different rows of one key collide with probability
    ~2^-64.  Equal rows may pickle differently (shared objects are memoised), which only sends them down the
    full path.  About half the cost of repr on 90-column rows.  Only compared within one process: never stored.
    """
    try:
        return hash(_pickle(raw, 5))
    except Exception:  # a value pickle does not know: repr still tells values apart
        return hash(repr(raw))


_dumps5 = partial(_pickle, protocol=5)
KEY, FP, HASH, STAMP = (operator.itemgetter(i) for i in range(4))  # of a fingerprint cache entry


def fingerprints(raws: list[tuple]) -> list[int]:
    """`_fingerprint` of many rows (C-level map; per row only when a value does not pickle)."""
    try:
        return list(map(hash, map(_dumps5, raws)))
    except Exception:
        return [_fingerprint(raw) for raw in raws]


class KeyReader:
    def __init__(self, table: WatchedTable, columns: list[str]):
        self.names = table.pk
        self.idx = [columns.index(c) for c in table.pk]
        self.convs = {i: converter_for(columns[i]) for i in self.idx}

    def key(self, raw) -> str:
        out = {}
        for n, i in zip(self.names, self.idx):
            v, c = raw[i], self.convs[i]
            out[n] = canon(c(v) if c else v)
        return encode_key(out)
