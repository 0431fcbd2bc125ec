"""Write canonical changes into a PrestaShop database the way PrestaShop itself would (PRESTASHOP.md §5, §5.1, §6).

Every public function runs in ONE transaction, uses only parameterised SQL, and accepts ``extra``: a callable
``extra(cursor)`` or a list of ``(sql, args)`` executed in the same transaction (the sync engine adds its ledger /
echo-marker row there).  What PrestaShop does in PHP hooks and mails is NOT emulated (see the module notes in
PRESTASHOP.md §5.1 item 10 and §6 item 9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Callable, Iterable

import pymysql

from ..model import Combination, Product
from .connection import ShopConnection, ShopConnectionError, redact

Extra = Callable | Iterable[tuple] | None
SIX = Decimal("0.000001")
TRACKING_RE = re.compile(r"^[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]+$")  # Validate::isTrackingNumber


class WriteError(RuntimeError):
    """A write was refused (unknown row, invalid value); nothing was changed."""


def _run_extra(shop: ShopConnection, cur, extra: Extra) -> None:
    if extra is None:
        return
    if callable(extra):
        extra(cur)
        return
    for item in extra:
        sql, args = (item, None) if isinstance(item, str) else item
        shop.execute(sql, args, cursor=cur)


def _scope_sql(shop: ShopConnection, alias: str = "") -> tuple[str, tuple]:
    id_shop, id_group = shop.stock_scope()
    a = f"{alias}." if alias else ""
    return f"{a}id_shop = %s AND {a}id_shop_group = %s", (id_shop, id_group)


# ---------------------------------------------------------------------------------------------------------------
# Stock
# ---------------------------------------------------------------------------------------------------------------

def _reserved_by_row(shop: ShopConnection, cur, product_ids: Iterable[int] | None = None,
                     attribute_id: int | None = None) -> dict[tuple[int, int], int]:
    """Units sold but not shipped per (id_product, id_product_attribute), as
    StockManager::updateReservedProductQuantity computes them: ONE grouped query for many products."""
    shops = shop.shop_ids_for_stock()
    error, canceled = shop.state_id("PS_OS_ERROR") or 0, shop.state_id("PS_OS_CANCELED") or 0
    where, args = "", ()
    if product_ids is not None:
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        where, args = f" AND od.product_id IN ({', '.join(['%s'] * len(ids))})", tuple(ids)
    if attribute_id is not None:
        where, args = where + " AND od.product_attribute_id = %s", (*args, attribute_id)
    rows = shop.query(
        "SELECT od.product_id, od.product_attribute_id,"
        " COALESCE(SUM(od.product_quantity - od.product_quantity_refunded), 0) AS r"
        " FROM {p}orders o JOIN {p}order_detail od ON od.id_order = o.id_order"
        " JOIN {p}order_state os ON os.id_order_state = o.current_state"
        f" WHERE o.id_shop IN ({', '.join(['%s'] * len(shops))}) AND os.shipped != 1"
        f" AND (o.valid = 1 OR os.id_order_state NOT IN (%s, %s)){where}"
        " GROUP BY od.product_id, od.product_attribute_id",
        (*shops, error, canceled, *args), cursor=cur)
    return {(int(r["product_id"]), int(r["product_attribute_id"])): int(r["r"]) for r in rows
            if r["product_attribute_id"] is not None}


def reserved_quantity(shop: ShopConnection, cur, product_id: int, attribute_id: int) -> int:
    """Units sold but not shipped, as StockManager::updateReservedProductQuantity computes them."""
    return _reserved_by_row(shop, cur, [product_id], attribute_id).get((int(product_id), int(attribute_id)), 0)


def recompute_reserved(shop: ShopConnection, cur, product_ids: Iterable[int] | None = None) -> None:
    """reserved_quantity from open orders, then physical_quantity = quantity + reserved, for the shop's scope.

    Unlike PrestaShop's legacy SQL this also recomputes group-scoped (share_stock) rows, which PS leaves stale.
    One grouped query for the reserved units; only rows whose figures differ are written.
    """
    if not shop.detect_version().has_physical_quantity:
        return
    scope, args = _scope_sql(shop)
    where = scope
    ids = None
    if product_ids is not None:
        ids = sorted(set(product_ids))
        if not ids:
            return
        where += f" AND id_product IN ({', '.join(['%s'] * len(ids))})"
        args = (*args, *ids)
    rows = shop.query("SELECT id_stock_available, id_product, id_product_attribute, quantity, reserved_quantity,"
                      f" physical_quantity FROM {{p}}stock_available WHERE {where} FOR UPDATE", args, cursor=cur)
    reserved = _reserved_by_row(shop, cur, ids)
    for r in rows:
        units = reserved.get((r["id_product"], r["id_product_attribute"]), 0)
        if units != r["reserved_quantity"] or int(r["quantity"]) + units != r["physical_quantity"]:
            shop.execute("UPDATE {p}stock_available SET reserved_quantity = %s, physical_quantity = quantity + %s"
                         " WHERE id_stock_available = %s", (units, units, r["id_stock_available"]), cursor=cur)


def _new_stock_row(shop: ShopConnection, product_id: int, attribute_id: int) -> dict:
    """The columns of a new stock_available row in the shop's scope (quantity 0): one place for every writer."""
    id_shop, id_group = shop.stock_scope()
    row = {"id_product": product_id, "id_product_attribute": attribute_id, "id_shop": id_shop,
           "id_shop_group": id_group, "quantity": 0}
    if shop.detect_version().has_physical_quantity:
        row.update(physical_quantity=0, reserved_quantity=0, depends_on_stock=0, out_of_stock=2, location="")
    else:
        row.update(depends_on_stock=0, out_of_stock=2)
    return row


def _insert_sql(shop: ShopConnection, table: str, columns: Iterable[str], tail: str = "") -> str:
    columns = list(columns)
    return shop.sql(f"INSERT INTO {{p}}{table} ({', '.join(f'`{c}`' for c in columns)})"
                    f" VALUES ({', '.join(['%s'] * len(columns))}){tail}")


def _insert_many(shop: ShopConnection, cur, table: str, rows: list[dict], tail: str = "", *,
                 skip_defaults: bool = False) -> None:
    """Rows (dicts with the same keys) in multi-row INSERTs: PyMySQL's executemany packs them into as few
    ``INSERT ... VALUES (...), (...)`` statements as its statement-size limit allows.

    ``skip_defaults``: a column whose value is its DEFAULT in the live schema in every row is left out (the
    server writes that default: the same row, fewer values to escape and send)."""
    if not rows:
        return
    columns = list(rows[0])
    if skip_defaults:
        info = _columns(shop, table)
        kept = []
        for c in columns:
            values = [r[c] for r in rows]
            if not (c in info and _equals_default(info[c], values[0]) and values.count(values[0]) == len(values)):
                kept.append(c)
        columns = kept or columns[:1]
    sql = _insert_sql(shop, table, columns, tail)
    try:
        if len(columns) == 1:
            cur.executemany(sql, [(r[columns[0]],) for r in rows])
        else:
            cur.executemany(sql, list(map(itemgetter(*columns), rows)))
    except pymysql.MySQLError as exc:
        raise ShopConnectionError(redact(f"{getattr(shop, '_where', '')}: {exc}",
                                         getattr(shop, "_password", None))) from exc


@dataclass(frozen=True)
class _Column:
    type: str  # COLUMN_TYPE, e.g. "decimal(20,6)", "int unsigned" (no display width)
    has_default: bool  # a constant DEFAULT (NULL included), not an expression and not "no default"
    default: object = None  # that DEFAULT: None (NULL), a Decimal for numeric columns, else a str


_INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
_NUMERIC_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "float",
                  "double"}


def _text_of(value) -> str | None:
    return value.decode() if isinstance(value, (bytes, bytearray)) else value


def _default_of(raw, nullable: bool, data_type: str, extra: str, mariadb: bool) -> tuple[bool, object]:
    """(has a constant default, its value) from information_schema.COLUMNS.  MariaDB (10.2.7+) writes the default
    as an SQL literal ('text', 12, NULL; no default = SQL NULL); MySQL writes the bare value (NULL default and no
    default are both SQL NULL, expressions are flagged DEFAULT_GENERATED).  Anything unclear counts as "no
    default": the column is then always sent."""
    if "generated" in extra or data_type not in _NUMERIC_TYPES | {"char", "varchar", "enum", "set", "date",
                                                                   "datetime", "timestamp", "time", "tinytext",
                                                                   "text", "mediumtext", "longtext"}:
        return False, None
    numeric = data_type in _NUMERIC_TYPES
    if mariadb:
        if raw is None:
            return False, None
        if raw == "NULL":
            return True, None
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            inner = raw[1:-1]
            if "'" in inner or "\\" in inner:
                return False, None
            if numeric:
                try:
                    return True, Decimal(inner)
                except ArithmeticError:
                    return False, None
            return True, inner
        if numeric:
            try:
                return True, Decimal(raw)
            except ArithmeticError:
                return False, None
        return False, None  # an expression (current_timestamp(), ...)
    if raw is None:
        return (True, None) if nullable else (False, None)
    if raw.upper().startswith("CURRENT_TIMESTAMP") and data_type in ("datetime", "timestamp"):
        return False, None  # MySQL 5.7 does not flag it DEFAULT_GENERATED
    if numeric:
        try:
            return True, Decimal(raw)
        except ArithmeticError:
            return False, None
    return True, raw


def _columns(shop: ShopConnection, table: str) -> dict[str, _Column]:
    """The live schema's columns of a table (type and constant DEFAULT), read once per connection."""
    key = ("writer_columns", table)
    cache = shop._cache
    if key not in cache:
        if "server_is_mariadb" not in cache:
            version = shop.query_one("SELECT VERSION() AS v")["v"]
            cache["server_is_mariadb"] = "mariadb" in str(_text_of(version)).lower()
        out = {}
        for r in shop.query("SELECT COLUMN_NAME AS name, COLUMN_DEFAULT AS d, IS_NULLABLE AS nullable,"
                            " DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, EXTRA AS extra"
                            " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                            (shop.prefix + table,)):
            has, default = _default_of(_text_of(r["d"]), _text_of(r["nullable"]) == "YES",
                                       str(_text_of(r["data_type"])).lower(), str(_text_of(r["extra"]) or "").lower(),
                                       cache["server_is_mariadb"])
            column_type = str(_text_of(r["column_type"])).lower()
            if str(_text_of(r["data_type"])).lower() in _INTEGER_TYPES:  # int(10) and int(11) hold the same values
                column_type = re.sub(r"\(\d+\)", "", column_type)
            out[_text_of(r["name"])] = _Column(column_type, has, default)
        cache[key] = out
    return cache[key]


def _equals_default(column: _Column, value) -> bool:
    """True only when writing ``value`` stores exactly the column's DEFAULT (exact comparison; unsure = False)."""
    if not column.has_default:
        return False
    default = column.default
    if default is None or value is None:
        return default is None and value is None
    if isinstance(default, Decimal):
        if isinstance(value, bool):
            value = int(value)
        return isinstance(value, (int, Decimal)) and Decimal(value) == default
    return isinstance(value, str) and value == default


def _insert_copies(shop: ShopConnection, cur, table: str, rows: list[dict], source: str, key: str,
                   sources: dict, where: str = "", where_args: tuple = ()) -> None:
    """Insert ``rows`` of ``table``, one per row of ``source`` whose ``key`` is ``row[key]``, with ONE
    ``INSERT ... SELECT ... FROM source``: nothing per row crosses the wire.

    ``sources`` maps each key to the values that row of ``source`` was written with (in this transaction).  A
    column whose value is that source row's value of the same column in every row (and which has the same type in
    both tables) is copied from it; a column with the same value in every row is sent once.  When a column is
    neither, the rows are sent as they are (``_insert_many``).  ``where`` narrows the source rows (e.g. one
    language).  The rows go in in key order; their count is checked.
    """
    if not rows:
        return
    target, origin = _columns(shop, table), _columns(shop, source)
    exprs, args = [], []
    missing = object()
    origins = [sources[r[key]] for r in rows]
    for column in rows[0]:
        values = [r[column] for r in rows]
        if column == key or (column in origin and column in target and origin[column].type == target[column].type
                             and [o.get(column, missing) for o in origins] == values):
            exprs.append(f"s.`{column}`")
        elif values.count(values[0]) == len(values):
            exprs.append("%s")
            args.append(values[0])
        else:
            _insert_many(shop, cur, table, rows)
            return
    ids = [r[key] for r in rows]
    if len(set(ids)) != len(ids):
        _insert_many(shop, cur, table, rows)
        return
    ids.sort()
    if ids[-1] - ids[0] + 1 == len(ids):  # consecutive ids (the usual case): no other row can be in between
        match, keys = f"s.`{key}` BETWEEN %s AND %s", (ids[0], ids[-1])
    else:
        match, keys = f"s.`{key}` IN ({', '.join(['%s'] * len(ids))})", tuple(ids)
    sql = (f"INSERT INTO {{p}}{table} ({', '.join(f'`{c}`' for c in rows[0])}) SELECT {', '.join(exprs)}"
           f" FROM {{p}}{source} s WHERE {match}{where} ORDER BY s.`{key}`")
    shop.execute(sql, (*args, *keys, *where_args), cursor=cur)
    if cur.rowcount != len(rows):
        raise WriteError(f"bulk insert into {table}: {len(rows)} rows expected from {source}, {cur.rowcount} made")


def _stock_row(shop: ShopConnection, cur, product_id: int, attribute_id: int, create: bool = True) -> dict | None:
    scope, args = _scope_sql(shop)
    row = shop.query_one("SELECT id_stock_available, quantity FROM {p}stock_available WHERE id_product = %s"
                         f" AND id_product_attribute = %s AND {scope} FOR UPDATE",
                         (product_id, attribute_id, *args), cursor=cur)
    if row or not create:
        return row
    cols = _new_stock_row(shop, product_id, attribute_id)
    new_id = shop.execute(_insert_sql(shop, "stock_available", cols), list(cols.values()), cursor=cur)
    return {"id_stock_available": new_id, "quantity": 0}


def _sync_product_row(shop: ShopConnection, cur, product_id: int) -> None:
    """pa=0 row = SUM(quantity) of the combination rows of the same scope (StockAvailable::postSave)."""
    scope, args = _scope_sql(shop)
    total = shop.query_one(f"SELECT COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS q FROM {{p}}stock_available"
                           f" WHERE id_product = %s AND id_product_attribute > 0 AND {scope}",
                           (product_id, *args), cursor=cur)
    if not total["n"]:
        return
    row = _stock_row(shop, cur, product_id, 0)
    shop.execute("UPDATE {p}stock_available SET quantity = %s WHERE id_stock_available = %s",
                 (int(total["q"]), row["id_stock_available"]), cursor=cur)


def _add_quantity(shop: ShopConnection, cur, product_id: int, attribute_id: int, delta: int) -> dict:
    """StockAvailable::updateQuantity: quantity += delta on the row (delta update: safe against FO orders)."""
    row = _stock_row(shop, cur, product_id, attribute_id)
    shop.execute("UPDATE {p}stock_available SET quantity = quantity + %s WHERE id_stock_available = %s",
                 (delta, row["id_stock_available"]), cursor=cur)
    if attribute_id:
        _sync_product_row(shop, cur, product_id)
    return row


def _stock_mvt(shop: ShopConnection, cur, id_stock: int, quantity: int, sign: int, reason_key: str,
               id_order: int | None = None, id_employee: int = 0, when: datetime | None = None) -> None:
    reason = shop.config_int(reason_key, 0)
    shop.execute("INSERT INTO {p}stock_mvt (id_stock, id_order, id_stock_mvt_reason, id_employee, physical_quantity,"
                 " date_add, sign, price_te, last_wa, current_wa) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0, 0)",
                 (id_stock, id_order, reason, id_employee, abs(quantity), when or shop.now(), sign), cursor=cur)


@dataclass
class StockWrite:
    id_stock_available: int
    old_quantity: int
    new_quantity: int
    reserved: int = 0

    @property
    def delta(self) -> int:
        return self.new_quantity - self.old_quantity


def set_stock(shop: ShopConnection, product_id: int, attribute_id: int, quantity: int | Decimal, *,
              physical: bool = False, movement: bool = True, id_employee: int = 0, extra: Extra = None) -> StockWrite:
    """Set the available quantity of a product (attribute_id=0) or combination in the shop's stock scope.

    ``physical=True`` means the ERP sends on-hand stock: the units reserved by open, unshipped PS orders are
    subtracted (§6 step 2).  The row is locked (FOR UPDATE) and changed by delta, the pa=0 row is re-summed,
    reserved/physical recomputed, and a stock_mvt (Employee Edition reasons) written when ``movement``.
    """
    quantity = int(Decimal(quantity).to_integral_value(ROUND_HALF_UP))
    with shop.transaction() as cur:
        row = _stock_row(shop, cur, product_id, attribute_id)
        reserved = reserved_quantity(shop, cur, product_id, attribute_id) if physical else 0
        target = quantity - reserved
        delta = target - int(row["quantity"])
        if delta:
            shop.execute("UPDATE {p}stock_available SET quantity = quantity + %s WHERE id_stock_available = %s",
                         (delta, row["id_stock_available"]), cursor=cur)
            if movement:
                _stock_mvt(shop, cur, row["id_stock_available"], delta, 1 if delta > 0 else -1,
                           "PS_STOCK_MVT_INC_EMPLOYEE_EDITION" if delta > 0 else "PS_STOCK_MVT_DEC_EMPLOYEE_EDITION",
                           id_employee=id_employee)
        if attribute_id:
            _sync_product_row(shop, cur, product_id)
        recompute_reserved(shop, cur, [product_id])
        _run_extra(shop, cur, extra)
    return StockWrite(row["id_stock_available"], int(row["quantity"]), target, reserved)


STOCK_CHUNK = 5000  # stock rows per set_stock_bulk transaction


def set_stock_bulk(shop: ShopConnection, rows: Iterable[tuple[int, int, int | Decimal]], *, extra: Extra = None,
                   movement: bool = True, id_employee: int = 0, compute: Callable | None = None,
                   chunk: int = STOCK_CHUNK) -> dict[tuple[int, int], StockWrite]:
    """Set many available quantities ``(id_product, id_product_attribute, quantity)`` in the shop's stock scope:
    what ``set_stock`` does per row, for a whole batch, in ONE transaction per chunk (products are never split
    across chunks).

    Per chunk: every stock row of the chunk's products is locked (one SELECT ... FOR UPDATE), missing rows are
    inserted, ``compute(cursor)`` (if given) is called under the lock and may return ``{(id_product,
    id_product_attribute): quantity}`` replacing the quantities passed in (the stock sync reads the shop orders
    FactuSOL does not know yet there, so an order committed meanwhile cannot be put back on sale), the pa=0 rows
    of products with combinations are re-summed, reserved/physical are recomputed from ONE grouped query over
    the open orders of the chunk's products (rows without open orders get reserved 0), changed rows are written
    with one ``UPDATE ... JOIN`` from a session TEMPORARY table holding (id, quantity, reserved, delta) — or one
    multi-row upsert when the server refuses temporary tables —, stock_mvt rows are inserted in bulk when
    ``movement`` (``INSERT ... SELECT`` from that table), then ``extra`` runs.
    The transaction reads committed data (READ COMMITTED), so what ``compute`` reads is current.

    Returns the rows asked for whose quantity changed: {(id_product, id_product_attribute): StockWrite}.
    """
    wanted: dict[tuple[int, int], int] = {}
    for product_id, attribute_id, quantity in rows:
        wanted[(int(product_id), int(attribute_id or 0))] = int(Decimal(quantity).to_integral_value(ROUND_HALF_UP))
    by_product: dict[int, list[tuple[int, int]]] = {}
    for key in wanted:
        by_product.setdefault(key[0], []).append(key)
    out: dict[tuple[int, int], StockWrite] = {}
    batch: dict[tuple[int, int], int] = {}
    for product_id in sorted(by_product):
        batch.update((k, wanted[k]) for k in by_product[product_id])
        if len(batch) >= chunk:
            out.update(_set_stock_chunk(shop, batch, extra, movement, id_employee, compute))
            batch = {}
    if batch:
        out.update(_set_stock_chunk(shop, batch, extra, movement, id_employee, compute))
    return out


def _set_stock_chunk(shop: ShopConnection, wanted: dict[tuple[int, int], int], extra: Extra, movement: bool,
                     id_employee: int, compute: Callable | None) -> dict[tuple[int, int], StockWrite]:
    physical = shop.detect_version().has_physical_quantity
    scope, scope_args = _scope_sql(shop)  # cached lookups first: nothing but the batch runs in the transaction
    shop.stock_scope()
    shop.shop_ids_for_stock()
    shop.order_states()
    reasons = {1: shop.config_int("PS_STOCK_MVT_INC_EMPLOYEE_EDITION", 0),
               -1: shop.config_int("PS_STOCK_MVT_DEC_EMPLOYEE_EDITION", 0)} if movement else {}
    now = shop.now()
    ids = sorted({k[0] for k in wanted})
    marks = ", ".join(["%s"] * len(ids))
    columns = "id_stock_available, id_product, id_product_attribute, quantity" + (
        ", reserved_quantity, physical_quantity" if physical else "")
    select = (f"SELECT {columns} FROM {{p}}stock_available WHERE {scope} AND id_product IN ({marks})"
              " ORDER BY id_product, id_product_attribute FOR UPDATE")
    # the batch table for a big chunk only (a normal cycle's few rows go as one upsert); created before the
    # transaction: MySQL's GTID rules refuse it inside one
    batch = len(wanted) >= STOCK_BATCH_MIN_ROWS and _stock_batch_ready(shop)
    shop.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # for the next transaction only
    with shop.transaction() as cur:
        locked = {(r["id_product"], r["id_product_attribute"]): r
                  for r in shop.query(select, (*scope_args, *ids), cursor=cur)}
        with_combos = {pid for pid, pa in (*locked, *wanted) if pa}
        missing = [k for k in wanted if k not in locked]
        missing += [(pid, 0) for pid in sorted(with_combos) if (pid, 0) not in locked and (pid, 0) not in wanted]
        if missing:
            _insert_many(shop, cur, "stock_available", [_new_stock_row(shop, pid, pa) for pid, pa in missing])
            locked = {(r["id_product"], r["id_product_attribute"]): r
                      for r in shop.query(select, (*scope_args, *ids), cursor=cur)}
        targets = dict(wanted)
        if compute is not None:
            for key, quantity in (compute(cur) or {}).items():
                if key in targets:
                    targets[key] = int(quantity)
        quantity = {k: int(r["quantity"]) for k, r in locked.items()}
        quantity.update(targets)
        sums: dict[int, int] = {pid: 0 for pid in with_combos}
        for (pid, pa), q in quantity.items():
            if pa and pid in sums:
                sums[pid] += q
        for pid, total in sums.items():  # StockAvailable::postSave: pa=0 = SUM of the combination rows of the scope
            quantity[(pid, 0)] = total
        reserved = _reserved_by_row(shop, cur, ids) if physical else {}
        changed, writes = [], {}  # changed: (id_stock_available, quantity, reserved, delta of a row asked for)
        for key, r in locked.items():
            q = quantity[key]
            units = reserved.get(key, 0)
            old = int(r["quantity"])
            if q != old or (physical and (units != r["reserved_quantity"] or q + units != r["physical_quantity"])):
                asked = key in targets and q != old
                changed.append((r["id_stock_available"], q, units, q - old if asked else 0))
                if asked:
                    writes[key] = StockWrite(r["id_stock_available"], old, q, units)
        if changed:
            if batch:
                _write_stock_batch(shop, cur, changed, physical, reasons if movement else None, id_employee, now)
            else:
                _write_stock_rows(shop, cur, changed, locked, physical)
        if movement and writes and not batch:
            _insert_many(shop, cur, "stock_mvt", [
                {"id_stock": w.id_stock_available, "id_order": None,
                 "id_stock_mvt_reason": reasons[1 if w.delta > 0 else -1], "id_employee": id_employee,
                 "physical_quantity": abs(w.delta), "date_add": now, "sign": 1 if w.delta > 0 else -1,
                 "price_te": 0, "last_wa": 0, "current_wa": 0} for w in writes.values()], skip_defaults=True)
        _run_extra(shop, cur, extra)
    return writes


STOCK_BATCH_TABLE = "replicator_stock_batch"  # a TEMPORARY table of the replicator's own session
STOCK_BATCH_MIN_ROWS = 64  # fewer stock rows than this in a chunk: one upsert, no batch table
_TRANSIENT_CODES = {1205, 1213}  # lock wait timeout, deadlock (client errors 2000-2999 are transient too)


def _stock_batch_ready(shop: ShopConnection) -> bool:
    """(Re)create the session's empty temporary table ``set_stock_bulk`` sends a chunk's changed rows into.

    False when the server refuses it (no CREATE TEMPORARY TABLES privilege, a disabled engine, ...): the rows
    then go as a multi-row upsert, and the table is not tried again on this connection.  A lost connection is
    raised."""
    if shop._cache.get("stock_batch_table") is False:
        return False
    try:  # a fresh (empty) table per chunk: emptying an InnoDB one row by row costs more than re-creating it
        shop.execute(f"DROP TEMPORARY TABLE IF EXISTS {{p}}{STOCK_BATCH_TABLE}")
        shop.execute(f"CREATE TEMPORARY TABLE {{p}}{STOCK_BATCH_TABLE} ("
                     "seq INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, id_stock_available INT UNSIGNED NOT NULL,"
                     " quantity INT NOT NULL DEFAULT 0, reserved_quantity INT NOT NULL DEFAULT 0,"
                     " delta INT NOT NULL DEFAULT 0, UNIQUE KEY (id_stock_available)) ENGINE=InnoDB")
    except ShopConnectionError as exc:
        code = exc.__cause__.args[0] if isinstance(exc.__cause__, pymysql.MySQLError) and exc.__cause__.args else 0
        if not isinstance(code, int) or 2000 <= code < 3000 or code in _TRANSIENT_CODES:
            raise
        shop._cache["stock_batch_table"] = False
        return False
    return True


def _write_stock_batch(shop: ShopConnection, cur, changed: list[tuple[int, int, int, int]], physical: bool,
                       reasons: dict[int, int] | None, id_employee: int, now: datetime) -> None:
    """The changed stock rows (id_stock_available, quantity, reserved, delta) through the session's batch table:
    at most four integers per row are sent (columns that are 0 in every row are not), then ONE UPDATE ... JOIN
    writes them and ONE INSERT ... SELECT writes the stock_mvt rows of the deltas (``reasons``: None = no
    movements), in the order of ``changed`` (the table's auto-increment ``seq``)."""
    table = f"{{p}}{STOCK_BATCH_TABLE}"
    names = ("id_stock_available", "quantity", "reserved_quantity", "delta")
    sent = [n for n, name in enumerate(names) if n == 0 or any(row[n] for row in changed)]  # the others default 0
    _insert_many(shop, cur, STOCK_BATCH_TABLE, [{names[n]: row[n] for n in sent} for row in changed])
    sets = "sa.quantity = b.quantity" + (", sa.reserved_quantity = b.reserved_quantity,"
                                         " sa.physical_quantity = b.quantity + b.reserved_quantity" if physical else "")
    shop.execute(f"UPDATE {{p}}stock_available sa JOIN {table} b ON b.id_stock_available = sa.id_stock_available"
                 f" SET {sets}", cursor=cur)
    if cur.rowcount > len(changed):
        raise WriteError(f"stock batch: {cur.rowcount} rows updated for {len(changed)} changes")
    if reasons is not None and any(delta for *_, delta in changed):
        shop.execute("INSERT INTO {p}stock_mvt (id_stock, id_order, id_stock_mvt_reason, id_employee,"
                     " physical_quantity, date_add, sign, price_te, last_wa, current_wa)"
                     " SELECT b.id_stock_available, %s, IF(b.delta > 0, %s, %s), %s, ABS(b.delta), %s,"
                     f" IF(b.delta > 0, %s, %s), %s, %s, %s FROM {table} b WHERE b.delta <> 0 ORDER BY b.seq",
                     (None, reasons[1], reasons[-1], id_employee, now, 1, -1, 0, 0, 0), cursor=cur)


def _write_stock_rows(shop: ShopConnection, cur, changed: list[tuple[int, int, int, int]], locked: dict,
                      physical: bool) -> None:
    """The changed stock rows as one multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` (no batch table)."""
    by_id = {r["id_stock_available"]: r for r in locked.values()}
    id_shop, id_group = shop.stock_scope()
    rows = []
    for sid, q, units, _ in changed:
        r = by_id[sid]
        row = {"id_stock_available": sid, "id_product": r["id_product"], "id_product_attribute":
               r["id_product_attribute"], "id_shop": id_shop, "id_shop_group": id_group, "quantity": q}
        if physical:
            row.update(reserved_quantity=units, physical_quantity=q + units)
        rows.append(row)
    tail = " ON DUPLICATE KEY UPDATE quantity = VALUES(quantity)" + (
        ", reserved_quantity = VALUES(reserved_quantity), physical_quantity = VALUES(physical_quantity)"
        if physical else "")
    _insert_many(shop, cur, "stock_available", rows, tail)


# ---------------------------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------------------------

def _price(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(SIX, ROUND_HALF_UP)


_SLUG_WORD = re.compile(r"[a-z0-9]+")


def _slug(text: str) -> str:
    """link_rewrite: the name in ASCII, lower case, its letters and digits in words joined by "-" (128 max)."""
    if text.isascii():
        ascii_text = text.lower()
    else:
        import unicodedata

        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(_SLUG_WORD.findall(ascii_text))[:128] or "product"


def tax_rules_group_for_rate(shop: ShopConnection, rate: Decimal, cur=None) -> int | None:
    """The active tax rules group whose rule for the default country (all states) has this rate."""
    country = shop.config_int("PS_COUNTRY_DEFAULT", 0)
    row = shop.query_one(
        "SELECT g.id_tax_rules_group FROM {p}tax_rules_group g JOIN {p}tax_rule r"
        " ON r.id_tax_rules_group = g.id_tax_rules_group JOIN {p}tax t ON t.id_tax = r.id_tax"
        " WHERE g.active = 1 AND g.deleted = 0 AND r.id_country = %s AND r.id_state = 0 AND t.rate = %s"
        " ORDER BY g.id_tax_rules_group LIMIT 1", (country, Decimal(rate)), cursor=cur)
    return row["id_tax_rules_group"] if row else None


def _attribute_id(shop: ShopConnection, cur, value: str, color: bool, lang_ids: list[int]) -> int:
    """Find (or create) the attribute value in the Color group (is_color_group) or the first other group (Size)."""
    group = shop.query_one("SELECT id_attribute_group FROM {p}attribute_group WHERE is_color_group = %s"
                           " ORDER BY position, id_attribute_group LIMIT 1", (1 if color else 0,), cursor=cur)
    if not group:
        gid = shop.execute("INSERT INTO {p}attribute_group (is_color_group, group_type, position)"
                           " VALUES (%s, %s, 0)", (1 if color else 0, "color" if color else "select"), cursor=cur)
        name = "Color" if color else "Size"
        for lang in lang_ids:
            shop.execute("INSERT INTO {p}attribute_group_lang (id_attribute_group, id_lang, name, public_name)"
                         " VALUES (%s, %s, %s, %s)", (gid, lang, name, name), cursor=cur)
        shop.execute("INSERT INTO {p}attribute_group_shop (id_attribute_group, id_shop) VALUES (%s, %s)",
                     (gid, shop.id_shop), cursor=cur)
    else:
        gid = group["id_attribute_group"]
    row = shop.query_one("SELECT a.id_attribute FROM {p}attribute a JOIN {p}attribute_lang l ON l.id_attribute ="
                         " a.id_attribute WHERE a.id_attribute_group = %s AND l.name = %s ORDER BY a.id_attribute"
                         " LIMIT 1", (gid, value), cursor=cur)
    if row:
        return row["id_attribute"]
    position = shop.query_one("SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}attribute WHERE"
                              " id_attribute_group = %s", (gid,), cursor=cur)["n"]
    aid = shop.execute("INSERT INTO {p}attribute (id_attribute_group, color, position) VALUES (%s, '', %s)",
                       (gid, position), cursor=cur)
    for lang in lang_ids:
        shop.execute("INSERT INTO {p}attribute_lang (id_attribute, id_lang, name) VALUES (%s, %s, %s)",
                     (aid, lang, value), cursor=cur)
    shop.execute("INSERT INTO {p}attribute_shop (id_attribute, id_shop) VALUES (%s, %s)", (aid, shop.id_shop),
                 cursor=cur)
    return aid


def _find_combination(shop: ShopConnection, cur, product_id: int, combo: Combination, attribute_ids: list[int]):
    if combo.prestashop_id:
        row = shop.query_one("SELECT id_product_attribute FROM {p}product_attribute WHERE id_product_attribute = %s"
                             " AND id_product = %s", (combo.prestashop_id, product_id), cursor=cur)
        if row:
            return row["id_product_attribute"]
    if combo.reference:  # link before create: the shop's combination with this reference (lowest id)
        row = shop.query_one("SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s"
                             " AND reference = %s ORDER BY id_product_attribute LIMIT 1",
                             (product_id, combo.reference), cursor=cur)
        if row:
            return row["id_product_attribute"]
    for pa in shop.query("SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s",
                         (product_id,), cursor=cur):
        ids = sorted(r["id_attribute"] for r in shop.query(
            "SELECT id_attribute FROM {p}product_attribute_combination WHERE id_product_attribute = %s",
            (pa["id_product_attribute"],), cursor=cur))
        if ids == sorted(attribute_ids):
            return pa["id_product_attribute"]
    return None


def _new_combination_rows(shop: ShopConnection, product_id: int, combo: Combination,
                          default_on: int | None) -> tuple[dict, dict]:
    """The ``product_attribute`` row and the ``product_attribute_shop`` row (without id_product_attribute) of a NEW
    combination: the one place for their column defaults, used by ``upsert_product`` and ``create_products_bulk``.
    ``default_on`` is 1 or None, never 0 (UNIQUE (id_product, default_on))."""
    impact = _price(combo.price_impact)
    main = {"id_product": product_id, "reference": combo.reference, "ean13": combo.ean13 or "", "price": impact or 0,
            "wholesale_price": 0, "default_on": default_on, "minimal_quantity": 1, "available_date": "0000-00-00"}
    if shop.detect_version().has_product_attribute_quantity:
        main.update(quantity=0, location="")
    per_shop = {"id_product": product_id, "id_shop": shop.id_shop, "price": impact or 0, "wholesale_price": 0,
                "default_on": default_on, "minimal_quantity": 1, "available_date": "0000-00-00"}
    return main, per_shop


def _upsert_combinations(shop: ShopConnection, cur, product_id: int, product: Product, lang_ids: list[int]) -> None:
    version = shop.detect_version()
    has_default = shop.query_one("SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s"
                                 " AND default_on = 1", (product_id,), cursor=cur)
    for combo in product.combinations:
        attrs = []
        if combo.size:
            attrs.append(_attribute_id(shop, cur, combo.size, False, lang_ids))
        if combo.color:
            attrs.append(_attribute_id(shop, cur, combo.color, True, lang_ids))
        pa = _find_combination(shop, cur, product_id, combo, attrs)
        impact = _price(combo.price_impact)
        if pa:
            sets, args = ["reference = %s"], [combo.reference]
            if combo.ean13:
                sets.append("ean13 = %s")
                args.append(combo.ean13)
            if impact is not None:
                sets.append("price = %s")
                args.append(impact)
            shop.execute(f"UPDATE {{p}}product_attribute SET {', '.join(sets)} WHERE id_product_attribute = %s",
                         (*args, pa), cursor=cur)
            if impact is not None:
                shop.execute("UPDATE {p}product_attribute_shop SET price = %s WHERE id_product_attribute = %s"
                             " AND id_shop = %s", (impact, pa, shop.id_shop), cursor=cur)
        else:
            default_on = None if has_default else 1  # NULL, never 0: UNIQUE (id_product, default_on)
            main, per_shop = _new_combination_rows(shop, product_id, combo, default_on)
            pa = shop.execute(_insert_sql(shop, "product_attribute", main), list(main.values()), cursor=cur)
            per_shop = dict(per_shop, id_product_attribute=pa)
            shop.execute(_insert_sql(shop, "product_attribute_shop", per_shop), list(per_shop.values()), cursor=cur)
            for aid in attrs:
                shop.execute("INSERT INTO {p}product_attribute_combination (id_attribute, id_product_attribute)"
                             " VALUES (%s, %s)", (aid, pa), cursor=cur)
            if version.has_product_attribute_lang:
                for lang in lang_ids:
                    shop.execute("INSERT IGNORE INTO {p}product_attribute_lang (id_product_attribute, id_lang,"
                                 " available_now, available_later) VALUES (%s, %s, '', '')", (pa, lang), cursor=cur)
            _stock_row(shop, cur, product_id, pa)
            if default_on:
                has_default = {"id_product_attribute": pa}
                for table in ("product", "product_shop"):
                    shop.execute(f"UPDATE {{p}}{table} SET cache_default_attribute = %s WHERE id_product = %s",
                                 (pa, product_id), cursor=cur)
        combo.prestashop_id = pa
    if product.combinations:
        shop.execute("UPDATE {p}product SET product_type = 'combinations' WHERE id_product = %s AND product_type"
                     " IN ('standard', '')", (product_id,), cursor=cur)
        _sync_product_row(shop, cur, product_id)


def _new_product_rows(shop: ShopConnection, product: Product, category: int, tax_group: int | None,
                      now: datetime) -> tuple[dict, dict]:
    """The ``product`` row and the ``product_shop`` row (without id_product) of a NEW product: the one place for
    the column defaults, used by ``upsert_product`` and ``create_products_bulk`` alike."""
    version = shop.detect_version()
    price, cost = _price(product.price_tax_excl), _price(product.cost_price)
    common = {"id_category_default": category, "id_tax_rules_group": tax_group if tax_group is not None else 0,
              "price": price or 0, "wholesale_price": cost or 0, "active": int(product.active),
              "available_for_order": 1, "show_price": 1, "indexed": 0, "visibility": "both",
              "available_date": "0000-00-00", "redirect_type": "default" if version.family == "8" else "404",
              "date_add": now, "date_upd": now}
    main = dict(common, id_shop_default=shop.id_shop, reference=product.reference, ean13=product.ean13 or "",
                weight=_price(product.weight), product_type="combinations" if product.combinations else "standard",
                state=1)
    per_shop = dict(common, id_shop=shop.id_shop)
    if version.family != "8":
        per_shop["redirect_type"] = ""
    return main, per_shop


def _new_lang_row(shop: ShopConnection, product: Product, product_id: int, lang: int) -> dict:
    """A product_lang row: the name (the reference when empty), its slug and the descriptions."""
    name = (product.name or product.reference)[:128]
    return {"id_product": product_id, "id_shop": shop.id_shop, "id_lang": lang, "name": name,
            "link_rewrite": _slug(name), "description": product.description,
            "description_short": product.description_short}


def find_product(shop: ShopConnection, reference: str, cur=None) -> int | None:
    """product.reference is not unique in PrestaShop: the lowest id wins, like the BO search."""
    row = shop.query_one("SELECT id_product FROM {p}product WHERE reference = %s ORDER BY id_product LIMIT 1",
                         (reference,), cursor=cur)
    return row["id_product"] if row else None


def upsert_product(shop: ShopConnection, product: Product, lang_ids: list[int] | None = None, *,
                   id_category: int | None = None, id_tax_rules_group: int | None = None,
                   extra: Extra = None, lang_previous: dict[str, str] | None = None) -> int:
    """Create or update a product found by reference (or ``product.prestashop_id``); returns id_product.

    Writes product + product_shop (price tax excluded, 6 decimals), product_lang for every language,
    category_product and the stock_available rows (new rows start at 0; stock is ``set_stock``'s job).

    ``lang_previous`` keeps the shop's translations on an UPDATE: the values this writer's caller wrote last time
    (e.g. ``{"name": ..., "description": ...}``).  The shop's default language always gets the product's values;
    another language gets a field only while its current value still equals the previous one (nobody translated
    it), and fields not named there are left alone in other languages.  Without it every language is written.
    A new product (or a language without a row yet) gets every field in every language.
    """
    if not product.reference:
        raise WriteError("a product needs a reference (FactuSOL article code)")
    lang_ids = list(lang_ids or shop.lang_ids)
    now = shop.now()
    price, cost = _price(product.price_tax_excl), _price(product.cost_price)
    with shop.transaction() as cur:
        pid = product.prestashop_id or find_product(shop, product.reference, cur)
        if pid and not shop.query_one("SELECT 1 AS x FROM {p}product WHERE id_product = %s FOR UPDATE", (pid,), cursor=cur):
            pid = find_product(shop, product.reference, cur)
        tax_group = id_tax_rules_group
        if tax_group is None and product.vat_rate is not None:
            tax_group = tax_rules_group_for_rate(shop, product.vat_rate, cur)
        existed = bool(pid)
        if pid:
            sets = {"reference": product.reference, "active": int(product.active), "date_upd": now,
                    "weight": _price(product.weight)}
            if product.ean13:
                sets["ean13"] = product.ean13
            shop_sets = {"active": int(product.active), "date_upd": now}
            if price is not None:
                sets["price"] = shop_sets["price"] = price
            if cost is not None:
                sets["wholesale_price"] = shop_sets["wholesale_price"] = cost
            if tax_group is not None:
                sets["id_tax_rules_group"] = shop_sets["id_tax_rules_group"] = tax_group
            shop.execute(f"UPDATE {{p}}product SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_product = %s",
                         (*sets.values(), pid), cursor=cur)
            shop.execute(f"UPDATE {{p}}product_shop SET {', '.join(f'`{k}` = %s' for k in shop_sets)}"
                         " WHERE id_product = %s AND id_shop = %s", (*shop_sets.values(), pid, shop.id_shop), cursor=cur)
            category = id_category or shop.query_one("SELECT id_category_default FROM {p}product WHERE id_product = %s",
                                                     (pid,), cursor=cur)["id_category_default"]
        else:
            category = id_category or shop.config_int("PS_HOME_CATEGORY", 2)
            main, per_shop = _new_product_rows(shop, product, category, tax_group, now)
            pid = shop.execute(_insert_sql(shop, "product", main), list(main.values()), cursor=cur)
            per_shop = dict(per_shop, id_product=pid)
            shop.execute(_insert_sql(shop, "product_shop", per_shop), list(per_shop.values()), cursor=cur)
            _stock_row(shop, cur, pid, 0)
        current_langs = {}
        if existed and lang_previous is not None:
            current_langs = {r["id_lang"]: r for r in shop.query(
                "SELECT id_lang, name, description, description_short FROM {p}product_lang WHERE id_product = %s"
                " AND id_shop = %s FOR UPDATE", (pid, shop.id_shop), cursor=cur)}
        for lang in lang_ids:
            row = _new_lang_row(shop, product, pid, lang)
            current = current_langs.get(lang)
            if current is not None and lang != shop.id_lang:
                # a translation made in the shop stays: only fields still holding the previous value move
                sets = {f: row[f] for f in ("name", "description", "description_short")
                        if f in lang_previous and _same_text(current[f], lang_previous[f]) and current[f] != row[f]}
                if sets:
                    shop.execute(f"UPDATE {{p}}product_lang SET {', '.join(f'`{k}` = %s' for k in sets)}"
                                 " WHERE id_product = %s AND id_shop = %s AND id_lang = %s",
                                 (*sets.values(), pid, shop.id_shop, lang), cursor=cur)
                continue
            shop.execute(
                "INSERT INTO {p}product_lang (id_product, id_shop, id_lang, name, link_rewrite, description,"
                " description_short) VALUES (%s, %s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE name = VALUES(name),"
                " description = VALUES(description), description_short = VALUES(description_short),"
                " link_rewrite = IF(link_rewrite = '', VALUES(link_rewrite), link_rewrite)",
                tuple(row.values()), cursor=cur)
        if not shop.query_one("SELECT 1 AS x FROM {p}category_product WHERE id_category = %s AND id_product = %s",
                              (category, pid), cursor=cur):
            position = shop.query_one("SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}category_product"
                                      " WHERE id_category = %s", (category,), cursor=cur)["n"]
            shop.execute("INSERT INTO {p}category_product (id_category, id_product, position) VALUES (%s, %s, %s)",
                         (category, pid, position), cursor=cur)
        _upsert_combinations(shop, cur, pid, product, lang_ids)
        _run_extra(shop, cur, extra)
    product.prestashop_id = pid
    return pid


def _same_text(a, b) -> bool:
    return ("" if a is None else str(a).strip()) == ("" if b is None else str(b).strip())


PRODUCT_CHUNK = 2000  # new products per create_products_bulk transaction


class BulkCreated(dict):
    """reference -> id_product from ``create_products_bulk``; ``existing`` holds the references that were already
    in the shop when the chunk ran (returned with their lowest id, NOT created and NOT written)."""

    def __init__(self):
        super().__init__()
        self.existing: set[str] = set()


def create_products_bulk(shop: ShopConnection, products: list[Product], lang_ids: list[int] | None = None, *,
                         extra: Extra = None, id_category: int | None = None, id_tax_rules_group: int | None = None,
                         chunk: int = PRODUCT_CHUNK) -> BulkCreated:
    """Create many NEW products, with or without combinations: the rows ``upsert_product`` writes for a new
    product (same column defaults, ``_new_product_rows`` / ``_new_combination_rows``), in ONE transaction per chunk
    of ``chunk`` products.

    Per chunk: references already in the shop are skipped (link, don't create); product rows go in with
    multi-row INSERTs and their ids are read back in the same transaction; then product_shop, product_lang (every
    language), category_product (positions after the category's last) and the pa=0 stock_available row (quantity
    0, the shop's stock scope).  Combinations: their attribute values are resolved (or created) once per chunk with
    ``_attribute_id``, then product_attribute goes in with multi-row INSERTs (ids read back per product in insertion
    order, references checked), followed by product_attribute_shop, product_attribute_combination,
    product_attribute_lang (8.1+) and one stock_available row per combination; the first combination of a product
    is its default (default_on 1, the others NULL) and becomes cache_default_attribute of product and product_shop.
    ``extra`` runs once per chunk.  A failure rolls the whole chunk back.  Combination ids are set on the
    ``Combination`` objects (``prestashop_id``).

    Only what differs per row crosses the wire: columns holding their live-schema DEFAULT in every row are left
    to the server (``skip_defaults``), the texts go once (default language) and the rows that repeat a row already
    written (product_shop, the other languages, product_attribute_shop, product_attribute_lang, stock_available)
    are copied on the server with ``INSERT ... SELECT`` (``_insert_copies``).  The rows are the same.
    """
    todo: dict[str, Product] = {}
    for product in products:
        if not product.reference:
            raise WriteError("a product needs a reference (FactuSOL article code)")
        todo.setdefault(product.reference, product)
    lang_ids = list(lang_ids or shop.lang_ids)
    category = id_category or shop.config_int("PS_HOME_CATEGORY", 2)
    shop.stock_scope()
    shop.detect_version()
    out = BulkCreated()
    items = list(todo.values())
    for i in range(0, len(items), chunk):
        _create_chunk(shop, items[i:i + chunk], lang_ids, category, id_tax_rules_group, extra, out)
    return out


def _create_chunk(shop: ShopConnection, products: list[Product], lang_ids: list[int], category: int,
                  id_tax_rules_group: int | None, extra: Extra, out: BulkCreated) -> None:
    now = shop.now()
    refs = [p.reference for p in products]
    marks = ", ".join(["%s"] * len(refs))
    with shop.transaction() as cur:
        existing: dict[str, int] = {}
        for r in shop.query(f"SELECT id_product, reference FROM {{p}}product WHERE reference IN ({marks})"
                            " ORDER BY id_product", refs, cursor=cur):
            existing.setdefault(r["reference"], r["id_product"])
        new = [p for p in products if p.reference not in existing]
        created: dict[str, int] = {}
        if new:
            tax_groups: dict = {}
            rows = []
            for p in new:
                tax_group = id_tax_rules_group
                if tax_group is None and p.vat_rate is not None:
                    rate = Decimal(p.vat_rate)
                    if rate not in tax_groups:
                        tax_groups[rate] = tax_rules_group_for_rate(shop, rate, cur)
                    tax_group = tax_groups[rate]
                rows.append(_new_product_rows(shop, p, category, tax_group, now))
            floor = shop.query_one("SELECT COALESCE(MAX(id_product), 0) AS n FROM {p}product", cursor=cur)["n"]
            _insert_many(shop, cur, "product", [main for main, _ in rows], skip_defaults=True)
            wanted = {p.reference for p in new}
            for r in shop.query("SELECT id_product, reference FROM {p}product WHERE id_product > %s"
                                " ORDER BY id_product", (floor,), cursor=cur):
                if r["reference"] in wanted:  # above the floor: this chunk's rows (and any committed meanwhile)
                    created.setdefault(r["reference"], r["id_product"])
            if len(created) != len(new):
                raise WriteError(f"bulk product creation: {len(new)} inserted but {len(created)} read back")
            ids = [created[p.reference] for p in new]
            mains = {pid: main for pid, (main, _) in zip(ids, rows)}
            # product_shop repeats the product row's shop fields: copied from it on the server
            _insert_copies(shop, cur, "product_shop", [dict(per_shop, id_product=pid) for pid, (_, per_shop)
                                                       in zip(ids, rows)], "product", "id_product", mains)
            # every language gets the same texts: sent once, copied to the other languages on the server
            first, *others = lang_ids
            texts = [_new_lang_row(shop, p, pid, first) for p, pid in zip(new, ids)]
            _insert_many(shop, cur, "product_lang", texts, skip_defaults=True)
            by_id = {row["id_product"]: row for row in texts}
            for lang in others:
                _insert_copies(shop, cur, "product_lang", [dict(row, id_lang=lang) for row in texts], "product_lang",
                               "id_product", by_id, " AND s.id_shop = %s AND s.id_lang = %s", (shop.id_shop, first))
            position = shop.query_one("SELECT COALESCE(MAX(position) + 1, 0) AS n FROM {p}category_product"
                                      " WHERE id_category = %s FOR UPDATE", (category,), cursor=cur)["n"]
            _insert_many(shop, cur, "category_product", [
                {"id_category": category, "id_product": pid, "position": position + n} for n, pid in enumerate(ids)])
            _insert_copies(shop, cur, "stock_available", [_new_stock_row(shop, pid, 0) for pid in ids], "product",
                           "id_product", mains)
            _create_combinations_bulk(shop, cur, [(pid, p) for p, pid in zip(new, ids) if p.combinations], lang_ids)
        _run_extra(shop, cur, extra)
    for p in products:
        pid = existing.get(p.reference) or created[p.reference]
        p.prestashop_id = pid
        out[p.reference] = pid
        if p.reference in existing:
            out.existing.add(p.reference)



def _ci(text: str | None) -> str:
    """A Python stand-in for the shop's ``reference = %s`` comparison (utf8mb4_general_ci: case and accents
    ignored, trailing spaces ignored)."""
    text = text or ""
    if text.isascii():  # nothing to decompose: the same result, faster
        return text.lower().rstrip(" ")
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().rstrip(" ")


def _create_combinations_bulk(shop: ShopConnection, cur, products: list[tuple[int, Product]],
                              lang_ids: list[int]) -> None:
    """The combinations of NEW products (``_create_chunk``), written as ``_upsert_combinations`` writes them for a
    product that has none yet, with multi-row INSERTs.

    Within one article ``_upsert_combinations`` finds an earlier combination again (``_find_combination``: same
    reference, else the same attribute values) and updates it instead of inserting a second one; that is
    replayed here on the planned rows (reference, a non-empty ean13 and a known price impact win)."""
    if not products:
        return
    version = shop.detect_version()
    values: dict[tuple[str, bool], int] = {}  # (value, is colour) -> id_attribute, resolved once per chunk

    def attribute(value: str, color: bool) -> int:
        key = (value, color)
        if key not in values:
            values[key] = _attribute_id(shop, cur, value, color, lang_ids)
        return values[key]

    plans: list[tuple[int, list[dict]]] = []  # (id_product, planned combinations in insertion order)
    for pid, product in products:
        planned: list[dict] = []
        for combo in product.combinations:
            attrs = []
            if combo.size:
                attrs.append(attribute(combo.size, False))
            if combo.color:
                attrs.append(attribute(combo.color, True))
            same = None
            if combo.reference:
                ci = _ci(combo.reference)
                same = next((c for c in planned if c["ci"] == ci), None)
            if same is None:
                same = next((c for c in planned if c["sorted"] == sorted(attrs)), None)
            if same is not None:  # _upsert_combinations would UPDATE the earlier one
                impact = _price(combo.price_impact)
                same["main"]["reference"] = combo.reference
                same["ci"] = _ci(combo.reference)
                if combo.ean13:
                    same["main"]["ean13"] = combo.ean13
                if impact is not None:
                    same["main"]["price"] = same["shop"]["price"] = impact
                same["combos"].append(combo)
                continue
            main, per_shop = _new_combination_rows(shop, pid, combo, None if planned else 1)
            planned.append({"main": main, "shop": per_shop, "attrs": attrs, "combos": [combo], "sorted": sorted(attrs),
                            "ci": _ci(combo.reference)})
        plans.append((pid, planned))
    floor = shop.query_one("SELECT COALESCE(MAX(id_product_attribute), 0) AS n FROM {p}product_attribute",
                           cursor=cur)["n"]
    _insert_many(shop, cur, "product_attribute", [c["main"] for _, planned in plans for c in planned],
                 skip_defaults=True)
    pids = [pid for pid, _ in plans]
    read: dict[int, list[dict]] = {pid: [] for pid in pids}
    for r in shop.query(f"SELECT id_product_attribute, id_product, reference FROM {{p}}product_attribute"
                        f" WHERE id_product IN ({', '.join(['%s'] * len(pids))}) AND id_product_attribute > %s"
                        " ORDER BY id_product_attribute", (*pids, floor), cursor=cur):
        read[r["id_product"]].append(r)
    mains, shop_rows, links, stock_rows = {}, [], [], []
    for pid, planned in plans:
        got = read[pid]
        if len(got) != len(planned) or any((r["reference"] or "") != (c["main"]["reference"] or "")[:64]
                                           for r, c in zip(got, planned)):
            raise WriteError(f"bulk combination creation: product {pid}: {len(planned)} combinations inserted,"
                             f" {len(got)} read back (or another reference)")
        for r, c in zip(got, planned):
            pa = r["id_product_attribute"]
            mains[pa] = c["main"]
            shop_rows.append(dict(c["shop"], id_product_attribute=pa))
            links.extend({"id_attribute": aid, "id_product_attribute": pa} for aid in c["attrs"])
            stock_rows.append(_new_stock_row(shop, pid, pa))
            for combo in c["combos"]:
                combo.prestashop_id = pa
    # product_attribute_shop repeats the combination row, the language rows and the stock rows are constants:
    # copied on the server
    _insert_copies(shop, cur, "product_attribute_shop", shop_rows, "product_attribute", "id_product_attribute", mains)
    _insert_many(shop, cur, "product_attribute_combination", links)
    if version.has_product_attribute_lang:
        for lang in lang_ids:
            _insert_copies(shop, cur, "product_attribute_lang", [
                {"id_product_attribute": pa, "id_lang": lang, "available_now": "", "available_later": ""}
                for pa in mains], "product_attribute", "id_product_attribute", mains)
    _insert_copies(shop, cur, "stock_available", stock_rows, "product_attribute", "id_product_attribute", mains)
    # the default combination (the first one) is the product's cache_default_attribute, in every shop
    marks = ", ".join(["%s"] * len(pids))
    for table in ("product", "product_shop"):
        shop.execute(f"UPDATE {{p}}{table} t JOIN {{p}}product_attribute pa ON pa.id_product = t.id_product AND"
                     f" pa.default_on = 1 SET t.cache_default_attribute = pa.id_product_attribute"
                     f" WHERE t.id_product IN ({marks})", pids, cursor=cur)
    # product_type is already 'combinations' (_new_product_rows) and the pa=0 row's quantity is the sum of the
    # combination rows (all 0): nothing else to do.

# ---------------------------------------------------------------------------------------------------------------
# Orders: state, tracking, invoice
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class StateChange:
    id_order: int
    old_state: int
    new_state: int
    id_order_history: int = 0
    stock_changes: list[tuple[int, int, int]] = field(default_factory=list)  # (product, attribute, delta)
    movements: int = 0
    invoice_needed: bool = False  # PS would have created an invoice; we did not (create_invoice=False)
    id_order_invoice: int | None = None
    payments: int = 0
    delivery_number: int | None = None


def _next_delivery_number(shop: ShopConnection, cur) -> int:
    configured = shop.config_int("PS_DELIVERY_NUMBER", 0)
    current = shop.query_one("SELECT COALESCE(MAX(delivery_number), 0) AS n FROM {p}order_invoice", cursor=cur)["n"]
    if configured and configured > current:
        # Order::setDeliveryNumber consumes PS_DELIVERY_NUMBER once, then clears it
        shop.execute("UPDATE {p}configuration SET value = '', date_upd = %s WHERE name = 'PS_DELIVERY_NUMBER'",
                     (shop.now(),), cursor=cur)
        return configured
    return int(current) + 1


def _next_invoice_number(shop: ShopConnection, cur, when: datetime) -> int:
    start = shop.config_int("PS_INVOICE_START_NUMBER", 0)
    if shop.config_value("PS_INVOICE_RESET") == "1":
        current = shop.query_one("SELECT COALESCE(MAX(number), 0) AS n FROM {p}order_invoice WHERE YEAR(date_add) = %s",
                                 (when.year,), cursor=cur)["n"]
    else:
        current = shop.query_one("SELECT COALESCE(MAX(number), 0) AS n FROM {p}order_invoice", cursor=cur)["n"]
    if start and start > current:
        shop.execute("UPDATE {p}configuration SET value = '', date_upd = %s WHERE name = 'PS_INVOICE_START_NUMBER'",
                     (shop.now(),), cursor=cur)
        return start
    return int(current) + 1


def _insert_invoice(shop: ShopConnection, cur, order: dict, number: int, when: datetime,
                    totals: dict | None = None) -> int:
    t = {"total_discount_tax_excl": order["total_discounts_tax_excl"],
         "total_discount_tax_incl": order["total_discounts_tax_incl"],
         "total_paid_tax_excl": order["total_paid_tax_excl"], "total_paid_tax_incl": order["total_paid_tax_incl"],
         "total_products": order["total_products"], "total_products_wt": order["total_products_wt"],
         "total_shipping_tax_excl": order["total_shipping_tax_excl"],
         "total_shipping_tax_incl": order["total_shipping_tax_incl"],
         "total_wrapping_tax_excl": order["total_wrapping_tax_excl"],
         "total_wrapping_tax_incl": order["total_wrapping_tax_incl"]}
    t.update({k: v for k, v in (totals or {}).items() if k in t})
    shop_address = shop.config_value("PS_SHOP_NAME") or ""
    cols = dict(t, id_order=order["id_order"], number=number, delivery_number=0, delivery_date="0000-00-00 00:00:00",
                shipping_tax_computation_method=0, shop_address=shop_address, note="", date_add=when)
    inv = shop.execute(f"INSERT INTO {{p}}order_invoice ({', '.join(f'`{k}`' for k in cols)})"
                       f" VALUES ({', '.join(['%s'] * len(cols))})", list(cols.values()), cursor=cur)
    for table in ("order_detail", "order_carrier"):
        shop.execute(f"UPDATE {{p}}{table} SET id_order_invoice = %s WHERE id_order = %s AND"
                     " (id_order_invoice = 0 OR id_order_invoice IS NULL)", (inv, order["id_order"]), cursor=cur)
    return inv


def _link_existing_payments(shop: ShopConnection, cur, order: dict, inv: int) -> None:
    shop.execute("INSERT INTO {p}order_invoice_payment (id_order_invoice, id_order_payment, id_order)"
                 " SELECT %s, op.id_order_payment, %s FROM {p}order_payment op WHERE op.order_reference = %s"
                 " AND NOT EXISTS (SELECT 1 FROM {p}order_invoice_payment x WHERE x.id_order_payment ="
                 " op.id_order_payment)", (inv, order["id_order"], (order["reference"] or "")[:9]), cursor=cur)


def _load_order(shop: ShopConnection, cur, order_id: int) -> dict:
    order = shop.query_one("SELECT * FROM {p}orders WHERE id_order = %s FOR UPDATE", (order_id,), cursor=cur)
    if not order:
        raise WriteError(f"order {order_id} does not exist")
    return order


def change_order_state(shop: ShopConnection, order_id: int, new_state_id: int, *, id_employee: int = 0,
                       create_invoice: bool = False, extra: Extra = None) -> StateChange:
    """OrderHistory::changeIdOrderState + add(), by SQL (PRESTASHOP.md §5/§5.1), in one transaction.

    Stock: cancel/error gives stock back, leaving cancel/error takes it again; shipped-flag changes write
    stock_mvt (reason PS_STOCK_CUSTOMER_ORDER_REASON / _CANCEL_REASON) without touching quantity; reserved and
    physical are recomputed.  ProductSale is kept.  Invoices are NOT created unless ``create_invoice`` (PS numbering
    races are a known bug); ``StateChange.invoice_needed`` says PS would have made one.  Payments are added for
    invoices with rest-to-pay when the new state is paid; delivery numbers are assigned when it is delivery.
    No mail, no hook.
    """
    states = shop.order_states()
    if new_state_id not in states:
        raise WriteError(f"order state {new_state_id} does not exist")
    error, canceled = shop.state_id("PS_OS_ERROR"), shop.state_id("PS_OS_CANCELED")
    now = shop.now()
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        old_id = int(order["current_state"])
        old = states.get(old_id)
        new = states[new_state_id]
        result = StateChange(order_id, old_id, new_state_id)
        old_logable = bool(old and old.logable)
        old_shipped = bool(old and old.shipped)
        lines = shop.query("SELECT * FROM {p}order_detail WHERE id_order = %s", (order_id,), cursor=cur)
        for line in lines:
            pid, pa, qty = line["product_id"], line["product_attribute_id"] or 0, int(line["product_quantity"])
            delta = 0
            if not old_logable and new.logable:
                _product_sale(shop, cur, pid, qty, now)
                if old_id in (error, canceled):
                    delta = -qty
            elif old_logable and not new.logable:
                _product_sale(shop, cur, pid, -qty, now)
                if new_state_id in (error, canceled):
                    delta = qty
            elif not old_logable and not new.logable and new_state_id in (error, canceled) \
                    and old_id not in (error, canceled):
                delta = qty
            if delta:
                _add_quantity(shop, cur, pid, pa, delta)
                result.stock_changes.append((pid, pa, delta))
            if old_shipped != new.shipped:
                moved = qty - int(line["product_quantity_refunded"]) - int(line["product_quantity_return"])
                if moved > 0:
                    row = _stock_row(shop, cur, pid, pa)
                    _stock_mvt(shop, cur, row["id_stock_available"], moved, -1 if new.shipped else 1,
                               "PS_STOCK_CUSTOMER_ORDER_REASON" if new.shipped else
                               "PS_STOCK_CUSTOMER_ORDER_CANCEL_REASON", id_order=order_id, id_employee=id_employee,
                               when=now)
                    result.movements += 1
        shop.execute("UPDATE {p}orders SET current_state = %s, valid = %s, date_upd = %s WHERE id_order = %s",
                     (new_state_id, int(new.logable), now, order_id), cursor=cur)
        invoices = shop.query("SELECT * FROM {p}order_invoice WHERE id_order = %s ORDER BY id_order_invoice",
                              (order_id,), cursor=cur)
        has_invoice = any(i["number"] > 0 for i in invoices) or (shop.config_value("PS_INVOICE") == "0" and invoices)
        if new.invoice and not int(order["invoice_number"] or 0) and not has_invoice:
            if create_invoice:
                number = _next_invoice_number(shop, cur, now) if shop.config_value("PS_INVOICE") != "0" else 0
                inv = _insert_invoice(shop, cur, order, number, now)
                _link_existing_payments(shop, cur, order, inv)
                shop.execute("UPDATE {p}orders SET invoice_number = %s, invoice_date = %s WHERE id_order = %s",
                             (number, now, order_id), cursor=cur)
                result.id_order_invoice = inv
            else:
                result.invoice_needed = True
        elif new.delivery and not int(order["delivery_number"] or 0) and not invoices:
            # Order::setDeliverySlip: a number-0 order_invoice carries the delivery slip
            _insert_invoice(shop, cur, order, 0, now)
            shop.execute("UPDATE {p}orders SET delivery_date = %s WHERE id_order = %s", (now, order_id), cursor=cur)
        invoices = shop.query("SELECT * FROM {p}order_invoice WHERE id_order = %s ORDER BY id_order_invoice",
                              (order_id,), cursor=cur)
        if new.paid:
            result.payments += _pay_invoices(shop, cur, order, invoices, now, id_employee)
        if new.delivery:
            for inv in invoices:
                if not inv["delivery_number"]:
                    number = _next_delivery_number(shop, cur)
                    shop.execute("UPDATE {p}order_invoice SET delivery_number = %s, delivery_date = %s"
                                 " WHERE id_order_invoice = %s", (number, now, inv["id_order_invoice"]), cursor=cur)
                    shop.execute("UPDATE {p}orders SET delivery_number = %s, delivery_date = %s WHERE id_order = %s",
                                 (number, now, order_id), cursor=cur)
                    result.delivery_number = number
        result.id_order_history = shop.execute(
            "INSERT INTO {p}order_history (id_employee, id_order, id_order_state, date_add) VALUES (%s, %s, %s, %s)",
            (id_employee, order_id, new_state_id, now), cursor=cur)
        recompute_reserved(shop, cur, {line["product_id"] for line in lines})
        _run_extra(shop, cur, extra)
    return result


def _pay_invoices(shop: ShopConnection, cur, order: dict, invoices: list[dict], now: datetime,
                  id_employee: int = 0) -> int:
    """An order_payment for the rest to pay of every numbered invoice (what a paid state does); returns how many."""
    made = 0
    for inv in invoices:
        if inv["number"] <= 0:
            continue
        paid = shop.query_one("SELECT COALESCE(SUM(op.amount), 0) AS s FROM {p}order_invoice_payment oip"
                              " JOIN {p}order_payment op ON op.id_order_payment = oip.id_order_payment"
                              " WHERE oip.id_order_invoice = %s", (inv["id_order_invoice"],), cursor=cur)["s"]
        rest = (Decimal(inv["total_paid_tax_incl"]) - Decimal(paid)).quantize(Decimal("0.01"))
        if rest > 0:
            cols = {"order_reference": (order["reference"] or "")[:9], "id_currency": order["id_currency"],
                    "amount": rest, "payment_method": order["payment"],
                    "conversion_rate": order["conversion_rate"], "transaction_id": "", "date_add": now}
            if shop.detect_version().has_order_payment_employee:
                cols["id_employee"] = id_employee
            pay = shop.execute(f"INSERT INTO {{p}}order_payment ({', '.join(f'`{k}`' for k in cols)})"
                               f" VALUES ({', '.join(['%s'] * len(cols))})", list(cols.values()), cursor=cur)
            shop.execute("INSERT INTO {p}order_invoice_payment (id_order_invoice, id_order_payment, id_order)"
                         " VALUES (%s, %s, %s)", (inv["id_order_invoice"], pay, order["id_order"]), cursor=cur)
            shop.execute("UPDATE {p}orders SET total_paid_real = total_paid_real + %s WHERE id_order = %s",
                         (rest, order["id_order"]), cursor=cur)
            made += 1
    return made


def record_invoice_payment(shop: ShopConnection, order_id: int, *, id_employee: int = 0, extra: Extra = None) -> int:
    """Register the rest to pay of the order's invoices as paid, without changing the order state (for an ERP
    "collected" event on an order already further along, e.g. Delivered).  Returns the payments added."""
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        invoices = shop.query("SELECT * FROM {p}order_invoice WHERE id_order = %s ORDER BY id_order_invoice",
                              (order_id,), cursor=cur)
        made = _pay_invoices(shop, cur, order, invoices, shop.now(), id_employee)
        _run_extra(shop, cur, extra)
    return made


def set_order_carrier(shop: ShopConnection, order_id: int, id_carrier: int, *, extra: Extra = None) -> bool:
    """Point the order (orders.id_carrier and its first order_carrier row) at another carrier; False if unchanged."""
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        if int(order["id_carrier"]) == int(id_carrier):
            return False
        shop.execute("UPDATE {p}orders SET id_carrier = %s, date_upd = %s WHERE id_order = %s",
                     (id_carrier, shop.now(), order_id), cursor=cur)
        shop.execute("UPDATE {p}order_carrier SET id_carrier = %s WHERE id_order_carrier = (SELECT id FROM"
                     " (SELECT MIN(id_order_carrier) AS id FROM {p}order_carrier WHERE id_order = %s) x)",
                     (id_carrier, order_id), cursor=cur)
        _run_extra(shop, cur, extra)
    return True


def _product_sale(shop: ShopConnection, cur, product_id: int, qty: int, now: datetime) -> None:
    """ProductSale::addProductSale / removeProductSale."""
    if qty > 0:
        shop.execute("INSERT INTO {p}product_sale (id_product, quantity, sale_nbr, date_upd) VALUES (%s, %s, 1, %s)"
                     " ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity), sale_nbr = sale_nbr + 1,"
                     " date_upd = VALUES(date_upd)", (product_id, qty, now.date()), cursor=cur)
    else:
        shop.execute("UPDATE {p}product_sale SET quantity = GREATEST(CAST(quantity AS SIGNED) + %s, 0),"
                     " sale_nbr = GREATEST(CAST(sale_nbr AS SIGNED) - 1, 0), date_upd = %s WHERE id_product = %s",
                     (qty, now.date(), product_id), cursor=cur)


def validate_tracking(tracking: str) -> str:
    tracking = (tracking or "").strip()
    if not tracking or len(tracking) > 64 or not TRACKING_RE.match(tracking):
        raise WriteError("invalid tracking number: PrestaShop allows letters, digits, spaces and ~:#,%&_=()[].?+-@/"
                         " up to 64 characters")
    return tracking


def set_tracking(shop: ShopConnection, order_id: int, tracking: str, *, extra: Extra = None) -> int:
    """Tracking number on the order's first order_carrier row (and orders.shipping_number on 1.7.8).

    Returns the id_order_carrier written.  Does not change the order state (use change_order_state).
    """
    tracking = validate_tracking(tracking)
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        row = shop.query_one("SELECT MIN(id_order_carrier) AS id FROM {p}order_carrier WHERE id_order = %s",
                             (order_id,), cursor=cur)
        if row and row["id"]:
            oc = row["id"]
            shop.execute("UPDATE {p}order_carrier SET tracking_number = %s WHERE id_order_carrier = %s",
                         (tracking, oc), cursor=cur)
        else:  # orders created outside the checkout may lack the row; PS's getIdOrderCarrier would find none
            oc = shop.execute("INSERT INTO {p}order_carrier (id_order, id_carrier, id_order_invoice, weight,"
                              " shipping_cost_tax_excl, shipping_cost_tax_incl, tracking_number, date_add)"
                              " VALUES (%s, %s, 0, 0, %s, %s, %s, %s)",
                              (order_id, order["id_carrier"], order["total_shipping_tax_excl"],
                               order["total_shipping_tax_incl"], tracking, shop.now()), cursor=cur)
        if shop.detect_version().has_shipping_number:
            shop.execute("UPDATE {p}orders SET shipping_number = %s, date_upd = %s WHERE id_order = %s",
                         (tracking, shop.now(), order_id), cursor=cur)
        _run_extra(shop, cur, extra)
    return oc


def set_invoice(shop: ShopConnection, order_id: int, number: int, date: datetime, totals: dict | None = None, *,
                note: str | None = None, extra: Extra = None) -> int:
    """Record the ERP's invoice on the order: order_invoice (+ line/carrier links, existing payments linked)
    and orders.invoice_number/invoice_date.  Updates the existing invoice if the order has one (or fills the
    delivery-slip-only row).  ``totals`` may override order_invoice total_* columns; ``note`` sets
    order_invoice.note (e.g. the ERP's due dates, which PrestaShop has no column for).  Returns id_order_invoice.
    """
    if int(number) <= 0:
        raise WriteError("invoice number must be positive")
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        rows = shop.query("SELECT id_order_invoice, number FROM {p}order_invoice WHERE id_order = %s"
                          " ORDER BY (number > 0) DESC, id_order_invoice FOR UPDATE", (order_id,), cursor=cur)
        if rows:
            inv = rows[0]["id_order_invoice"]
            sets = {"number": int(number), "date_add": date}
            allowed = {"total_discount_tax_excl", "total_discount_tax_incl", "total_paid_tax_excl",
                       "total_paid_tax_incl", "total_products", "total_products_wt", "total_shipping_tax_excl",
                       "total_shipping_tax_incl", "total_wrapping_tax_excl", "total_wrapping_tax_incl"}
            sets.update({k: v for k, v in (totals or {}).items() if k in allowed})
            if note is not None:
                sets["note"] = note
            shop.execute(f"UPDATE {{p}}order_invoice SET {', '.join(f'`{k}` = %s' for k in sets)}"
                         " WHERE id_order_invoice = %s", (*sets.values(), inv), cursor=cur)
        else:
            inv = _insert_invoice(shop, cur, order, int(number), date, totals)
            if note is not None:
                shop.execute("UPDATE {p}order_invoice SET note = %s WHERE id_order_invoice = %s", (note, inv),
                             cursor=cur)
        _link_existing_payments(shop, cur, order, inv)
        shop.execute("UPDATE {p}orders SET invoice_number = %s, invoice_date = %s, date_upd = %s WHERE id_order = %s",
                     (int(number), date, shop.now(), order_id), cursor=cur)
        _run_extra(shop, cur, extra)
    return inv


# ---------------------------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------------------------

CUSTOMER_COLUMNS = {"firstname", "lastname", "email", "company", "active", "note"}
ADDRESS_COLUMNS = {"firstname", "lastname", "company", "address1", "address2", "postcode", "city", "phone",
                   "phone_mobile", "dni", "vat_number", "id_country", "id_state", "other"}


def main_address_id(shop: ShopConnection, customer_id: int, cur=None) -> int | None:
    """The customer's first live address: the one the reader takes the contact fields from."""
    row = shop.query_one("SELECT id_address FROM {p}address WHERE id_customer = %s AND deleted = 0"
                         " ORDER BY id_address LIMIT 1", (customer_id,), cursor=cur)
    return row["id_address"] if row else None


def country_and_state(shop: ShopConnection, country_iso: str | None, province: str | None, cur=None) -> dict:
    """id_country / id_state for an ISO code and a province name (by name, case-insensitive); {} if unknown."""
    out: dict = {}
    if country_iso:
        row = shop.query_one("SELECT id_country FROM {p}country WHERE iso_code = %s", (country_iso,), cursor=cur)
        if row:
            out["id_country"] = row["id_country"]
            if province:
                state = shop.query_one("SELECT id_state FROM {p}state WHERE id_country = %s AND LOWER(name) = LOWER(%s)",
                                       (row["id_country"], province), cursor=cur)
                if state:
                    out["id_state"] = state["id_state"]
    return out


def update_customer(shop: ShopConnection, customer_id: int, customer: dict, address: dict, *,
                    extra: Extra = None) -> int | None:
    """Change customer columns and main-address columns in one transaction; returns the (new) main address id.

    An address already used by an order is never edited in place (PrestaShop keeps orders pointing at a frozen
    address): a copy with the changes is inserted and the old row soft-deleted, as the front office does.
    """
    unknown = (set(customer) - CUSTOMER_COLUMNS) | (set(address) - ADDRESS_COLUMNS)
    if unknown:
        raise WriteError(f"customer {customer_id}: columns not writable here: {', '.join(sorted(unknown))}")
    now = shop.now()
    with shop.transaction() as cur:
        if not shop.query_one("SELECT id_customer FROM {p}customer WHERE id_customer = %s FOR UPDATE",
                              (customer_id,), cursor=cur):
            raise WriteError(f"customer {customer_id} does not exist in the shop")
        if customer:
            sets = dict(customer, date_upd=now)
            shop.execute(f"UPDATE {{p}}customer SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_customer = %s",
                         (*sets.values(), customer_id), cursor=cur)
        address_id = main_address_id(shop, customer_id, cur)
        if address and address_id:
            used = shop.query_one("SELECT id_order FROM {p}orders WHERE id_address_delivery = %s OR"
                                  " id_address_invoice = %s LIMIT 1", (address_id, address_id), cursor=cur)
            if used:
                old = shop.query_one("SELECT * FROM {p}address WHERE id_address = %s", (address_id,), cursor=cur)
                copy = {k: v for k, v in old.items() if k != "id_address"}
                copy.update(address, date_add=now, date_upd=now)
                address_id = shop.execute(
                    f"INSERT INTO {{p}}address ({', '.join(f'`{k}`' for k in copy)})"
                    f" VALUES ({', '.join(['%s'] * len(copy))})", list(copy.values()), cursor=cur)
                shop.execute("UPDATE {p}address SET deleted = 1, date_upd = %s WHERE id_address = %s",
                             (now, old["id_address"]), cursor=cur)
            else:
                sets = dict(address, date_upd=now)
                shop.execute(f"UPDATE {{p}}address SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_address = %s",
                             (*sets.values(), address_id), cursor=cur)
        _run_extra(shop, cur, extra)
    return address_id
