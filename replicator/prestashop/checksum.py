"""Server-side chunk checksums of the shop tables: the SQL, and the two chunk levels it is read at.

A table's rows are grouped by their first primary-key column `k` (every watched PrestaShop table has an integer
one): a *block* is `k DIV BLOCK` (16 ids), a *chunk* is `k DIV CHUNK` (1,024 ids, 64 blocks).  For each group
the server returns `COUNT(*)` and `BIT_XOR` of a per-row CRC32 (as pt-table-checksum does), so text is hashed
where it lives and never crosses the wire to be compared.  The replicator keeps the blocks' (count, xor) from the
last poll; a chunk's expected value is the XOR of its blocks', so an idle poll reads one short row per chunk,
and a changed chunk is narrowed to its changed blocks before any row is fetched.

The per-row text is NULL-safe and keeps column boundaries: every column (text cast to binary only where a table
mixes collations, which would not concatenate), then a tail of one ISNULL flag per column and the byte length of every
text column, so ('a|b', 'c') and ('a', 'b|c'), or NULL and '', never hash alike; a change that keeps the row's length
changes its CRC all the same.  `keys_only` checksums cover the primary key alone: for tables read by `date_upd`
windows, where the checksum only has to reveal deletes and rows inserted with an old date.
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCK = 16  # ids per block: the unit whose rows are fetched again when it changed
BLOCKS_PER_CHUNK = 64
CHUNK = BLOCK * BLOCKS_PER_CHUNK  # ids per chunk: the unit an idle poll reads one row for
RANGES_PER_QUERY = 200  # changed blocks/chunks per statement (keeps statements short)

TEXT_TYPES = frozenset(
    {
        "char",
        "varchar",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "enum",
        "set",
        "binary",
        "varbinary",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "json",
    }
)


def q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class TableShape:
    """What the checksum SQL needs of one physical table: its columns (in order) with their data types."""

    physical: str
    columns: tuple[tuple[str, str], ...]  # (name, data type), ordinal order
    pk: tuple[str, ...]
    # Text columns in more than one collation can't be concatenated as they are: then each is cast to binary
    # (which costs the server about three times as much; PrestaShop's tables have one collation each).
    mixed_collations: bool = False

    @property
    def key(self) -> str:
        return q(self.pk[0])


def row_crc(shape: TableShape, keys_only: bool = False) -> str:
    """SQL expression: CRC32 of a row (or of its primary key), NULL-safe and boundary-safe."""
    if keys_only:
        return "CRC32(CONCAT_WS('|', " + ", ".join(q(c) for c in shape.pk) + "))"
    parts, flags, lengths = [], [], []
    for name, dtype in shape.columns:
        col = q(name)
        if dtype.lower() in TEXT_TYPES:
            parts.append(f"CAST({col} AS BINARY)" if shape.mixed_collations else col)
            lengths.append(f"LENGTH({col})")
        else:
            parts.append(col)
        flags.append(f"ISNULL({col})")
    tail = "CONCAT_WS(',', CONCAT(" + ", ".join(flags) + ")" + "".join(", " + x for x in lengths) + ")"
    return "CRC32(CONCAT_WS('|', " + ", ".join(parts) + ", " + tail + "))"


def grouped_sql(shape: TableShape, width: int, keys_only: bool, ranges: list[tuple[int, int]] | None = None) -> str:
    """`SELECT k DIV width, COUNT(*), BIT_XOR(crc) ... GROUP BY 1`, over the whole table or only `ranges`
    ([lo, hi) of k, as literal integers: they are ours, never user input)."""
    where = ""
    if ranges:
        where = " WHERE " + " OR ".join(f"({shape.key} >= {int(lo)} AND {shape.key} < {int(hi)})" for lo, hi in ranges)
    return (
        f"SELECT {shape.key} DIV {int(width)}, COUNT(*), BIT_XOR({row_crc(shape, keys_only)})"
        f" FROM {q(shape.physical)}{where} GROUP BY 1"
    )


def rows_sql(shape: TableShape, ranges: list[tuple[int, int]], keys_only: bool = False) -> str:
    """The rows (or only the keys) whose k lies in `ranges`."""
    what = ", ".join(q(c) for c in shape.pk) if keys_only else "*"
    where = " OR ".join(f"({shape.key} >= {int(lo)} AND {shape.key} < {int(hi)})" for lo, hi in ranges)
    return f"SELECT {what} FROM {q(shape.physical)} WHERE {where}"


def merge_ranges(ids: list[int], width: int) -> list[tuple[int, int]]:
    """Groups `ids` (k DIV width) -> [lo, hi) ranges of k, neighbours merged."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(ids)):
        lo, hi = i * width, (i + 1) * width
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def batches(items: list, size: int = RANGES_PER_QUERY):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def shapes(cur, tables: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, TableShape]:
    """{name: TableShape} for the tables present in the current database; `tables` is name -> (physical, pk).
    One information_schema query for all of them."""
    physical = {phys: (name, pk) for name, (phys, pk) in tables.items()}
    if not physical:
        return {}
    marks = ", ".join(["%s"] * len(physical))
    cur.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLLATION_NAME FROM information_schema.COLUMNS"
        f" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks}) ORDER BY TABLE_NAME, ORDINAL_POSITION",
        tuple(physical),
    )
    columns: dict[str, list[tuple[str, str]]] = {}
    collations: dict[str, set[str]] = {}
    for table, column, dtype, collation in cur.fetchall():
        columns.setdefault(_text(table), []).append((_text(column), _text(dtype)))
        if collation is not None:
            collations.setdefault(_text(table), set()).add(_text(collation))
    out = {}
    for phys, cols in columns.items():
        name, pk = physical[phys]
        out[name] = TableShape(phys, tuple(cols), pk, mixed_collations=len(collations.get(phys, ())) > 1)
    return out


def _text(value) -> str:
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)
