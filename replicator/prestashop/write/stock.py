"""Stock writes as PrestaShop makes them: stock_available per shop scope, the product row's sum over
combinations, reserved quantities, stock movements; one row or thousands per transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable

import pymysql

from replicator.prestashop.connection import ShopConnection, ShopConnectionError
from replicator.prestashop.fit import fit_row

from .readback import ReadBack
from .sql import Extra, WriteError, insert_many, insert_sql, run_extra, scope_sql


def _reserved_by_row(
    shop: ShopConnection, cur, product_ids: Iterable[int] | None = None, attribute_id: int | None = None
) -> dict[tuple[int, int], int]:
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
        (*shops, error, canceled, *args),
        cursor=cur,
    )
    return {
        (int(r["product_id"]), int(r["product_attribute_id"])): int(r["r"])
        for r in rows
        if r["product_attribute_id"] is not None
    }


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
    scope, args = scope_sql(shop)
    where = scope
    ids = None
    if product_ids is not None:
        ids = sorted(set(product_ids))
        if not ids:
            return
        where += f" AND id_product IN ({', '.join(['%s'] * len(ids))})"
        args = (*args, *ids)
    rows = shop.query(
        "SELECT id_stock_available, id_product, id_product_attribute, quantity, reserved_quantity,"
        f" physical_quantity FROM {{p}}stock_available WHERE {where} FOR UPDATE",
        args,
        cursor=cur,
    )
    reserved = _reserved_by_row(shop, cur, ids)
    for r in rows:
        units = reserved.get((r["id_product"], r["id_product_attribute"]), 0)
        if units != r["reserved_quantity"] or int(r["quantity"]) + units != r["physical_quantity"]:
            shop.execute(
                "UPDATE {p}stock_available SET reserved_quantity = %s, physical_quantity = quantity + %s"
                " WHERE id_stock_available = %s",
                (units, units, r["id_stock_available"]),
                cursor=cur,
            )


def new_stock_row(shop: ShopConnection, product_id: int, attribute_id: int) -> dict:
    """The columns of a new stock_available row in the shop's scope (quantity 0): one place for every writer."""
    id_shop, id_group = shop.stock_scope()
    row = {
        "id_product": product_id,
        "id_product_attribute": attribute_id,
        "id_shop": id_shop,
        "id_shop_group": id_group,
        "quantity": 0,
    }
    if shop.detect_version().has_physical_quantity:
        row.update(physical_quantity=0, reserved_quantity=0, depends_on_stock=0, out_of_stock=2, location="")
    else:
        row.update(depends_on_stock=0, out_of_stock=2)
    return row


def stock_row(shop: ShopConnection, cur, product_id: int, attribute_id: int, create: bool = True) -> dict | None:
    scope, args = scope_sql(shop)
    row = shop.query_one(
        "SELECT id_stock_available, quantity FROM {p}stock_available WHERE id_product = %s"
        f" AND id_product_attribute = %s AND {scope} FOR UPDATE",
        (product_id, attribute_id, *args),
        cursor=cur,
    )
    if row or not create:
        return row
    cols = new_stock_row(shop, product_id, attribute_id)
    new_id = shop.execute(insert_sql(shop, "stock_available", cols), list(cols.values()), cursor=cur)
    return {"id_stock_available": new_id, "quantity": 0}


def sync_product_row(shop: ShopConnection, cur, product_id: int) -> None:
    """pa=0 row = SUM(quantity) of the combination rows of the same scope (StockAvailable::postSave)."""
    scope, args = scope_sql(shop)
    total = shop.query_one(
        f"SELECT COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS q FROM {{p}}stock_available"
        f" WHERE id_product = %s AND id_product_attribute > 0 AND {scope}",
        (product_id, *args),
        cursor=cur,
    )
    if not total["n"]:
        return
    row = stock_row(shop, cur, product_id, 0)
    shop.execute(
        "UPDATE {p}stock_available SET quantity = %s WHERE id_stock_available = %s",
        (int(total["q"]), row["id_stock_available"]),
        cursor=cur,
    )


def add_quantity(shop: ShopConnection, cur, product_id: int, attribute_id: int, delta: int) -> dict:
    """StockAvailable::updateQuantity: quantity += delta on the row (delta update: safe against FO orders)."""
    row = stock_row(shop, cur, product_id, attribute_id)
    shop.execute(
        "UPDATE {p}stock_available SET quantity = quantity + %s WHERE id_stock_available = %s",
        (delta, row["id_stock_available"]),
        cursor=cur,
    )
    if attribute_id:
        sync_product_row(shop, cur, product_id)
    return row


def stock_movement(
    shop: ShopConnection,
    cur,
    id_stock: int,
    quantity: int,
    sign: int,
    reason_key: str,
    id_order: int | None = None,
    id_employee: int = 0,
    when: datetime | None = None,
) -> None:
    reason = shop.config_int(reason_key, 0)
    shop.execute(
        "INSERT INTO {p}stock_mvt (id_stock, id_order, id_stock_mvt_reason, id_employee, physical_quantity,"
        " date_add, sign, price_te, last_wa, current_wa) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0, 0)",
        (id_stock, id_order, reason, id_employee, abs(quantity), when or shop.now(), sign),
        cursor=cur,
    )


@dataclass
class StockWrite:
    id_stock_available: int
    old_quantity: int
    new_quantity: int
    reserved: int = 0

    @property
    def delta(self) -> int:
        return self.new_quantity - self.old_quantity


def _whole_quantity(shop: ShopConnection, product_id: int, attribute_id: int, quantity) -> int:
    """The quantity as the INT stock_available holds it; ValueRejected for 2.5, 1e10 or text (MySQL would round
    or clamp them without a word)."""
    fit_row(shop, "stock_available", {"quantity": quantity}, f"{product_id}/{attribute_id}")
    return int(Decimal(quantity))


def set_stock(
    shop: ShopConnection,
    product_id: int,
    attribute_id: int,
    quantity: int | Decimal,
    *,
    physical: bool = False,
    movement: bool = True,
    id_employee: int = 0,
    extra: Extra = None,
) -> StockWrite:
    """Set the available quantity of a product (attribute_id=0) or combination in the shop's stock scope.

    ``physical=True`` means the ERP sends on-hand stock: the units reserved by open, unshipped PS orders are
    subtracted.  The row is locked (FOR UPDATE) and changed by delta, the pa=0 row is re-summed,
    reserved/physical recomputed, and a stock_mvt (Employee Edition reasons) written when ``movement``.
    """
    quantity = _whole_quantity(shop, product_id, attribute_id, quantity)
    with shop.transaction() as cur:
        row = stock_row(shop, cur, product_id, attribute_id)
        reserved = reserved_quantity(shop, cur, product_id, attribute_id) if physical else 0
        target = quantity - reserved
        delta = target - int(row["quantity"])
        if delta:
            shop.execute(
                "UPDATE {p}stock_available SET quantity = quantity + %s WHERE id_stock_available = %s",
                (delta, row["id_stock_available"]),
                cursor=cur,
            )
            if movement:
                stock_movement(
                    shop,
                    cur,
                    row["id_stock_available"],
                    delta,
                    1 if delta > 0 else -1,
                    "PS_STOCK_MVT_INC_EMPLOYEE_EDITION" if delta > 0 else "PS_STOCK_MVT_DEC_EMPLOYEE_EDITION",
                    id_employee=id_employee,
                )
        if attribute_id:
            sync_product_row(shop, cur, product_id)
        recompute_reserved(shop, cur, [product_id])
        run_extra(shop, cur, extra)
    return StockWrite(row["id_stock_available"], int(row["quantity"]), target, reserved)


STOCK_CHUNK = 5000  # stock rows per set_stock_bulk transaction


def set_stock_bulk(
    shop: ShopConnection,
    rows: Iterable[tuple[int, int, int | Decimal]],
    *,
    extra: Extra = None,
    movement: bool = True,
    id_employee: int = 0,
    compute: Callable | None = None,
    chunk: int = STOCK_CHUNK,
    read_back: ReadBack | None = None,
) -> dict[tuple[int, int], StockWrite]:
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
    ``movement`` (``INSERT ... SELECT`` from that table), then ``extra`` runs; ``read_back`` (poll mode) reads the
    stock rows of the products whose rows were written back in it, and hands their hashes on after its commit.
    The transaction reads committed data (READ COMMITTED), so what ``compute`` reads is current.

    Returns the rows asked for whose quantity changed: {(id_product, id_product_attribute): StockWrite}.
    """
    wanted: dict[tuple[int, int], int] = {}
    for product_id, attribute_id, quantity in rows:
        wanted[(int(product_id), int(attribute_id or 0))] = _whole_quantity(shop, product_id, attribute_id, quantity)
    by_product: dict[int, list[tuple[int, int]]] = {}
    for key in wanted:
        by_product.setdefault(key[0], []).append(key)
    out: dict[tuple[int, int], StockWrite] = {}
    batch: dict[tuple[int, int], int] = {}
    for product_id in sorted(by_product):
        batch.update((k, wanted[k]) for k in by_product[product_id])
        if len(batch) >= chunk:
            out.update(_set_stock_chunk(shop, batch, extra, movement, id_employee, compute, read_back))
            batch = {}
    if batch:
        out.update(_set_stock_chunk(shop, batch, extra, movement, id_employee, compute, read_back))
    return out


def _set_stock_chunk(
    shop: ShopConnection,
    wanted: dict[tuple[int, int], int],
    extra: Extra,
    movement: bool,
    id_employee: int,
    compute: Callable | None,
    read_back: ReadBack | None = None,
) -> dict[tuple[int, int], StockWrite]:
    physical = shop.detect_version().has_physical_quantity
    if read_back is not None:
        read_back.begin()
    scope, scope_args = scope_sql(shop)  # cached lookups first: nothing but the batch runs in the transaction
    shop.stock_scope()
    shop.shop_ids_for_stock()
    shop.order_states()
    reasons = (
        {
            1: shop.config_int("PS_STOCK_MVT_INC_EMPLOYEE_EDITION", 0),
            -1: shop.config_int("PS_STOCK_MVT_DEC_EMPLOYEE_EDITION", 0),
        }
        if movement
        else {}
    )
    now = shop.now()
    ids = sorted({k[0] for k in wanted})
    marks = ", ".join(["%s"] * len(ids))
    columns = "id_stock_available, id_product, id_product_attribute, quantity" + (
        ", reserved_quantity, physical_quantity" if physical else ""
    )
    select = (
        f"SELECT {columns} FROM {{p}}stock_available WHERE {scope} AND id_product IN ({marks})"
        " ORDER BY id_product, id_product_attribute FOR UPDATE"
    )
    # the batch table for a big chunk only (a normal cycle's few rows go as one upsert); created before the
    # transaction: MySQL's GTID rules refuse it inside one
    batch = len(wanted) >= STOCK_BATCH_MIN_ROWS and _stock_batch_ready(shop)
    shop.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # for the next transaction only
    with shop.transaction() as cur:
        locked = {
            (r["id_product"], r["id_product_attribute"]): r for r in shop.query(select, (*scope_args, *ids), cursor=cur)
        }
        with_combos = {pid for pid, pa in (*locked, *wanted) if pa}
        missing = [k for k in wanted if k not in locked]
        missing += [(pid, 0) for pid in sorted(with_combos) if (pid, 0) not in locked and (pid, 0) not in wanted]
        if missing:
            insert_many(shop, cur, "stock_available", [new_stock_row(shop, pid, pa) for pid, pa in missing])
            locked = {
                (r["id_product"], r["id_product_attribute"]): r
                for r in shop.query(select, (*scope_args, *ids), cursor=cur)
            }
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
            insert_many(
                shop,
                cur,
                "stock_mvt",
                [
                    {
                        "id_stock": w.id_stock_available,
                        "id_order": None,
                        "id_stock_mvt_reason": reasons[1 if w.delta > 0 else -1],
                        "id_employee": id_employee,
                        "physical_quantity": abs(w.delta),
                        "date_add": now,
                        "sign": 1 if w.delta > 0 else -1,
                        "price_te": 0,
                        "last_wa": 0,
                        "current_wa": 0,
                    }
                    for w in writes.values()
                ],
                skip_defaults=True,
            )
        if read_back is not None and (changed or missing):
            written = {pid for pid, _ in missing} | _products_of(changed, locked)
            read_back.products(shop.conn, written, ("stock_available",))
        run_extra(shop, cur, extra)
    if read_back is not None:
        read_back.committed()
    return writes


def _products_of(changed: list[tuple], locked: dict[tuple[int, int], dict]) -> set[int]:
    """The products of the stock rows in `changed` (by id_stock_available)."""
    by_id = {r["id_stock_available"]: key[0] for key, r in locked.items()}
    return {by_id[row[0]] for row in changed}


STOCK_BATCH_TABLE = "replicator_stock_batch"  # a TEMPORARY table of the replicator's own session
STOCK_BATCH_MIN_ROWS = 64  # fewer stock rows than this in a chunk: one upsert, no batch table
_TRANSIENT_CODES = {1205, 1213}  # lock wait timeout, deadlock (client errors 2000-2999 are transient too)


def _stock_batch_ready(shop: ShopConnection) -> bool:
    """(Re)create the session's empty temporary table ``set_stock_bulk`` sends a chunk's changed rows into.

    False when the server refuses it (no CREATE TEMPORARY TABLES privilege, a disabled engine, ...): the rows
    then go as a multi-row upsert, and the table is not tried again on this connection.  A lost connection is
    raised."""
    if shop.cached("stock_batch_table") is False:
        return False
    try:  # a fresh (empty) table per chunk: emptying an InnoDB one row by row costs more than re-creating it
        shop.execute(f"DROP TEMPORARY TABLE IF EXISTS {{p}}{STOCK_BATCH_TABLE}")
        shop.execute(
            f"CREATE TEMPORARY TABLE {{p}}{STOCK_BATCH_TABLE} ("
            "seq INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, id_stock_available INT UNSIGNED NOT NULL,"
            " quantity INT NOT NULL DEFAULT 0, reserved_quantity INT NOT NULL DEFAULT 0,"
            " delta INT NOT NULL DEFAULT 0, UNIQUE KEY (id_stock_available)) ENGINE=InnoDB"
        )
    except ShopConnectionError as exc:
        code = exc.__cause__.args[0] if isinstance(exc.__cause__, pymysql.MySQLError) and exc.__cause__.args else 0
        if not isinstance(code, int) or 2000 <= code < 3000 or code in _TRANSIENT_CODES:
            raise
        shop.remember("stock_batch_table", False)
        return False
    return True


def _write_stock_batch(
    shop: ShopConnection,
    cur,
    changed: list[tuple[int, int, int, int]],
    physical: bool,
    reasons: dict[int, int] | None,
    id_employee: int,
    now: datetime,
) -> None:
    """The changed stock rows (id_stock_available, quantity, reserved, delta) through the session's batch table:
    at most four integers per row are sent (columns that are 0 in every row are not), then ONE UPDATE ... JOIN
    writes them and ONE INSERT ... SELECT writes the stock_mvt rows of the deltas (``reasons``: None = no
    movements), in the order of ``changed`` (the table's auto-increment ``seq``)."""
    table = f"{{p}}{STOCK_BATCH_TABLE}"
    names = ("id_stock_available", "quantity", "reserved_quantity", "delta")
    sent = [n for n, name in enumerate(names) if n == 0 or any(row[n] for row in changed)]  # the others default 0
    insert_many(shop, cur, STOCK_BATCH_TABLE, [{names[n]: row[n] for n in sent} for row in changed])
    sets = "sa.quantity = b.quantity" + (
        ", sa.reserved_quantity = b.reserved_quantity, sa.physical_quantity = b.quantity + b.reserved_quantity"
        if physical
        else ""
    )
    shop.execute(
        f"UPDATE {{p}}stock_available sa JOIN {table} b ON b.id_stock_available = sa.id_stock_available SET {sets}",
        cursor=cur,
    )
    if cur.rowcount > len(changed):
        raise WriteError(f"stock batch: {cur.rowcount} rows updated for {len(changed)} changes")
    if reasons is not None and any(delta for *_, delta in changed):
        shop.execute(
            "INSERT INTO {p}stock_mvt (id_stock, id_order, id_stock_mvt_reason, id_employee,"
            " physical_quantity, date_add, sign, price_te, last_wa, current_wa)"
            " SELECT b.id_stock_available, %s, IF(b.delta > 0, %s, %s), %s, ABS(b.delta), %s,"
            f" IF(b.delta > 0, %s, %s), %s, %s, %s FROM {table} b WHERE b.delta <> 0 ORDER BY b.seq",
            (None, reasons[1], reasons[-1], id_employee, now, 1, -1, 0, 0, 0),
            cursor=cur,
        )


def _write_stock_rows(
    shop: ShopConnection, cur, changed: list[tuple[int, int, int, int]], locked: dict, physical: bool
) -> None:
    """The changed stock rows as one multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` (no batch table)."""
    by_id = {r["id_stock_available"]: r for r in locked.values()}
    id_shop, id_group = shop.stock_scope()
    rows = []
    for sid, q, units, _ in changed:
        r = by_id[sid]
        row = {
            "id_stock_available": sid,
            "id_product": r["id_product"],
            "id_product_attribute": r["id_product_attribute"],
            "id_shop": id_shop,
            "id_shop_group": id_group,
            "quantity": q,
        }
        if physical:
            row.update(reserved_quantity=units, physical_quantity=q + units)
        rows.append(row)
    tail = " ON DUPLICATE KEY UPDATE quantity = VALUES(quantity)" + (
        ", reserved_quantity = VALUES(reserved_quantity), physical_quantity = VALUES(physical_quantity)"
        if physical
        else ""
    )
    insert_many(shop, cur, "stock_available", rows, tail)
