"""PyMySQL connections to the shop database, from a URL; the password never leaves this module in text."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pymysql
from pymysql import converters
from pymysql.constants import FIELD_TYPE

from replicator.config import parse_mysql_url, redact


# --------------------------------------------------------------------------------------------------------------
# Shop connection: prefix, shop/lang context, version detection, configuration lookup, order states, stock scope.
# --------------------------------------------------------------------------------------------------------------

PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{0,32}$")


class ShopConnectionError(RuntimeError):
    """Could not connect / query the shop database.  The message never contains the password."""


def is_transient(exc: BaseException) -> bool:
    """Whether a shop error says "try again later" (connection lost, lock wait, server gone), not "this row is bad"."""
    return isinstance(exc, (pymysql.err.OperationalError, pymysql.err.InterfaceError))


def _zero_safe(convert):
    # PyMySQL returns the raw str when a DATE/DATETIME does not parse ('0000-00-00 ...', '2024-00-10'): those are
    # PrestaShop's "no date" values, so normalise them to None.
    def wrapped(value):
        result = convert(value)
        return None if isinstance(result, (str, bytes)) else result

    return wrapped


ZERO_DATE_CONVERSIONS = dict(converters.conversions)
ZERO_DATE_CONVERSIONS[FIELD_TYPE.DATETIME] = _zero_safe(converters.convert_datetime)
ZERO_DATE_CONVERSIONS[FIELD_TYPE.TIMESTAMP] = _zero_safe(converters.convert_datetime)
ZERO_DATE_CONVERSIONS[FIELD_TYPE.DATE] = _zero_safe(converters.convert_date)


def connect(url: str, **overrides) -> pymysql.Connection:
    """A PyMySQL connection the way PrestaShop's own Db layer has it: ``sql_mode=''``, utf8mb4, zero dates -> None."""
    params = parse_mysql_url(url)
    params.update(overrides)
    password = params.get("password")
    try:
        conn = pymysql.connect(
            **params, conv=ZERO_DATE_CONVERSIONS, autocommit=True, init_command="SET SESSION sql_mode = ''"
        )
    except pymysql.MySQLError as exc:
        where = f"{params.get('user')}@{params.get('host')}:{params.get('port')}/{params.get('database', '')}"
        raise ShopConnectionError(redact(f"cannot connect to {where}: {exc}", password)) from None
    return conn


@dataclass(frozen=True)
class VersionInfo:
    """What the shop runs, from PS_VERSION_DB, and which version-dependent columns exist (checked on the server)."""

    version: str  # e.g. '8.2.1', '1.7.8.6'
    family: str  # '8' or '1.7.8'
    has_shipping_number: bool  # orders.shipping_number (1.7.8)
    has_physical_quantity: bool  # stock_available.physical_quantity/reserved_quantity (1.7.2+)
    has_product_attribute_quantity: bool  # product_attribute.quantity/location (1.7.8)
    has_product_attribute_lang: bool  # 8.1+
    has_carrier_tax_rules_group: bool  # carrier.id_tax_rules_group (1.7.8)
    has_order_payment_employee: bool  # order_payment.id_employee (8.1+)


@dataclass(frozen=True)
class OrderState:
    id: int
    name: str  # order_state_lang name in the connection language
    canonical: str  # e.g. 'payment_accepted'; 'ps_state_<id>' for states no PS_OS_* key points to
    keys: tuple[str, ...]  # PS_OS_* keys resolving to this id
    logable: bool
    invoice: bool
    shipped: bool
    paid: bool
    delivery: bool
    deleted: bool = False


# PS_OS_* configuration keys -> canonical state names (the key, not the id, is the stable identity).
STATE_KEYS: dict[str, str] = {
    "PS_OS_CHEQUE": "awaiting_cheque",
    "PS_OS_PAYMENT": "payment_accepted",
    "PS_OS_PREPARATION": "processing",
    "PS_OS_SHIPPING": "shipped",
    "PS_OS_DELIVERED": "delivered",
    "PS_OS_CANCELED": "canceled",
    "PS_OS_REFUND": "refunded",
    "PS_OS_ERROR": "payment_error",
    "PS_OS_OUTOFSTOCK_PAID": "backorder_paid",
    "PS_OS_OUTOFSTOCK": "backorder_paid",
    "PS_OS_BANKWIRE": "awaiting_bankwire",
    "PS_OS_WS_PAYMENT": "remote_payment_accepted",
    "PS_OS_OUTOFSTOCK_UNPAID": "backorder_unpaid",
    "PS_OS_COD_VALIDATION": "awaiting_cod",
}


def family_of(version: str) -> str:
    return "1.7.8" if version.startswith("1.") else "8"


class ShopConnection:
    """One shop: a PyMySQL connection + table prefix + id_shop/id_shop_group + languages, with PrestaShop lookups.

    SQL passed to ``query``/``execute`` may use ``{p}`` for the table prefix: ``SELECT ... FROM {p}orders``.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "ps_",
        id_shop: int | None = None,
        id_lang: int | None = None,
        lang_ids: list[int] | None = None,
        conn: pymysql.Connection | None = None,
    ):
        if not PREFIX_RE.match(prefix):
            raise ValueError("table prefix may only contain letters, digits and '_'")
        params = parse_mysql_url(url)
        self._where = f"{params['user']}@{params['host']}:{params['port']}/{params.get('database', '')}"
        self._password = params.get("password")
        self._url = url  # to open a new connection when the server dropped this one (ensure_connected)
        self.prefix = prefix
        self.conn = conn or connect(url)
        self._cache: dict = {}
        self._cycle: dict = {}  # settings an admin may change (time zone, search weights): kept for one apply cycle
        self.id_shop = int(id_shop or self.config_value("PS_SHOP_DEFAULT", id_shop=None) or 1)
        row = self.query_one("SELECT id_shop_group FROM {p}shop WHERE id_shop = %s", (self.id_shop,))
        if row is None:  # writing under a shop that does not exist makes rows no back office shows
            shops = [str(r["id_shop"]) for r in self.query("SELECT id_shop FROM {p}shop ORDER BY id_shop")]
            if conn is None:
                self.close()
            raise ShopConnectionError(
                f"prestashop.id_shop: shop {self.id_shop} does not exist in {prefix}shop "
                f"(shops there: {', '.join(shops) or 'none'}): set id_shop in replicator.yaml"
            )
        self.id_shop_group = int(row["id_shop_group"])
        self.id_lang = int(id_lang or self.config_value("PS_LANG_DEFAULT") or 1)
        if lang_ids is None:
            rows = self.query(
                "SELECT l.id_lang FROM {p}lang l JOIN {p}lang_shop ls ON ls.id_lang = l.id_lang"
                " WHERE ls.id_shop = %s ORDER BY l.id_lang",
                (self.id_shop,),
            )
            lang_ids = [r["id_lang"] for r in rows] or [
                r["id_lang"] for r in self.query("SELECT id_lang FROM {p}lang ORDER BY id_lang")
            ]
        self.lang_ids = list(lang_ids) or [self.id_lang]

    @classmethod
    def from_config(cls, config: dict) -> "ShopConnection":
        """From a mapping with ``url`` and optional ``prefix``, ``id_shop``, ``id_lang``, ``lang_ids``."""
        return cls(
            config["url"],
            prefix=config.get("prefix", "ps_"),
            id_shop=config.get("id_shop"),
            id_lang=config.get("id_lang"),
            lang_ids=config.get("lang_ids"),
        )

    def __repr__(self) -> str:
        return f"ShopConnection({self._where} prefix={self.prefix!r} id_shop={self.id_shop})"

    def close(self) -> None:
        self.conn.close()

    def ensure_connected(self) -> bool:
        """Ping the server; a connection it dropped (a restart, wait_timeout) is replaced by a new one, as PyMySQL
        asks (its ``ping(reconnect=True)`` is deprecated).  Returns True when a new connection was opened."""
        try:
            self.conn.ping()
            return False
        except (pymysql.MySQLError, OSError):
            pass
        try:
            self.conn.close()
        except (pymysql.MySQLError, OSError):  # already closed by the failed ping
            pass
        self.conn = connect(self._url)
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- SQL helpers ---------------------------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        return text.replace("{p}", self.prefix)

    def driver_error(self, exc: BaseException) -> ShopConnectionError:
        """A driver error as this connection reports it: where it happened, the password never shown."""
        return ShopConnectionError(redact(f"{self._where}: {exc}", self._password))

    def _run(self, cur, text, args):
        try:
            cur.execute(self.sql(text), args)
        except pymysql.MySQLError as exc:
            raise self.driver_error(exc) from exc

    def query(self, text: str, args=None, cursor=None) -> list[dict]:
        if cursor is not None:
            self._run(cursor, text, args)
            return list(cursor.fetchall())
        with self.conn.cursor(pymysql.cursors.DictCursor) as cur:
            self._run(cur, text, args)
            return list(cur.fetchall())

    def query_one(self, text: str, args=None, cursor=None) -> dict | None:
        rows = self.query(text, args, cursor)
        return rows[0] if rows else None

    def execute(self, text: str, args=None, cursor=None) -> int:
        """Run one statement; returns lastrowid for INSERTs (else rowcount)."""
        if cursor is not None:
            self._run(cursor, text, args)
            return cursor.lastrowid or cursor.rowcount
        with self.conn.cursor() as cur:
            self._run(cur, text, args)
            return cur.lastrowid or cur.rowcount

    @contextmanager
    def transaction(self):
        """BEGIN ... COMMIT (ROLLBACK on error); yields a DictCursor to run the statements on."""
        self.conn.begin()
        cur = self.conn.cursor(pymysql.cursors.DictCursor)
        try:
            yield cur
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cur.close()

    def has_table(self, table: str) -> bool:
        key = ("table", table)
        if key not in self._cache:
            self._cache[key] = bool(
                self.query(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = %s",
                    (self.prefix + table,),
                )
            )
        return self._cache[key]

    def has_column(self, table: str, column: str) -> bool:
        key = ("columns", table)
        if key not in self._cache:
            self._cache[key] = {
                r["column_name"]
                for r in self.query(
                    "SELECT column_name AS column_name FROM information_schema.columns"
                    " WHERE table_schema = DATABASE() AND table_name = %s",
                    (self.prefix + table,),
                )
            }
        return column in self._cache[key]

    # -- PrestaShop lookups --------------------------------------------------------------------------------------
    def config_value(
        self, key: str, id_shop: int | None | str = "current", id_lang: int | None = None, default: str | None = None
    ) -> str | None:
        """``Configuration::get``: the shop row, else the shop-group row, else the global row.

        ``id_shop='current'`` means this connection's shop (global only while the connection is being set up).
        With ``id_lang`` the value comes from configuration_lang (multilingual keys such as PS_INVOICE_PREFIX).
        """
        if id_shop == "current":
            id_shop = getattr(self, "id_shop", None)
        id_group = None
        if id_shop is not None:
            id_group = (
                self.id_shop_group
                if id_shop == getattr(self, "id_shop", None)
                else (
                    (self.query_one("SELECT id_shop_group FROM {p}shop WHERE id_shop = %s", (id_shop,)) or {}).get(
                        "id_shop_group"
                    )
                )
            )
        rows = self.query(
            "SELECT c.id_configuration, c.id_shop, c.id_shop_group, c.value FROM {p}configuration c WHERE c.name = %s",
            (key,),
        )
        chosen = None
        for rank in ("shop", "group", "global"):
            for r in rows:
                if rank == "shop" and id_shop is not None and r["id_shop"] == id_shop:
                    chosen = r
                elif (
                    rank == "group" and id_group is not None and r["id_shop"] is None and r["id_shop_group"] == id_group
                ):
                    chosen = r
                elif rank == "global" and r["id_shop"] is None and r["id_shop_group"] is None:
                    chosen = r
                if chosen:
                    break
            if chosen:
                break
        if chosen is None:
            return default
        if id_lang is not None:
            lang_row = self.query_one(
                "SELECT value FROM {p}configuration_lang WHERE id_configuration = %s AND id_lang = %s",
                (chosen["id_configuration"], id_lang),
            )
            if lang_row and lang_row["value"] is not None:
                return lang_row["value"]
        return chosen["value"] if chosen["value"] is not None else default

    def config_int(self, key: str, default: int = 0) -> int:
        value = self.config_value(key)
        try:
            return int(value) if value not in (None, "") else default
        except ValueError:
            return default

    def detect_version(self) -> VersionInfo:
        if "version" not in self._cache:
            version = (
                self.config_value("PS_VERSION_DB", id_shop=None)
                or self.config_value("PS_INSTALL_VERSION", id_shop=None)
                or ""
            )
            family = (
                family_of(version) if version else ("1.7.8" if self.has_column("orders", "shipping_number") else "8")
            )
            self._cache["version"] = VersionInfo(
                version=version or family,
                family=family,
                has_shipping_number=self.has_column("orders", "shipping_number"),
                has_physical_quantity=self.has_column("stock_available", "physical_quantity"),
                has_product_attribute_quantity=self.has_column("product_attribute", "quantity"),
                has_product_attribute_lang=self.has_table("product_attribute_lang"),
                has_carrier_tax_rules_group=self.has_column("carrier", "id_tax_rules_group"),
                has_order_payment_employee=self.has_column("order_payment", "id_employee"),
            )
        return self._cache["version"]

    def order_states(self) -> dict[int, OrderState]:
        """Every order state by id, with flags and the PS_OS_* keys (shop-scoped lookup) that point to it."""
        if "states" not in self._cache:
            by_id: dict[int, list[str]] = {}
            for key in STATE_KEYS:
                value = self.config_value(key)
                if value and value.isdigit():
                    by_id.setdefault(int(value), []).append(key)
            rows = self.query(
                "SELECT s.id_order_state, s.logable, s.invoice, s.shipped, s.paid, s.delivery, s.deleted,"
                " COALESCE(l.name, '') AS name FROM {p}order_state s LEFT JOIN {p}order_state_lang l"
                " ON l.id_order_state = s.id_order_state AND l.id_lang = %s ORDER BY s.id_order_state",
                (self.id_lang,),
            )
            states = {}
            for r in rows:
                keys = tuple(by_id.get(r["id_order_state"], ()))
                canonical = STATE_KEYS[keys[0]] if keys else f"ps_state_{r['id_order_state']}"
                states[r["id_order_state"]] = OrderState(
                    id=r["id_order_state"],
                    name=r["name"],
                    canonical=canonical,
                    keys=keys,
                    logable=bool(r["logable"]),
                    invoice=bool(r["invoice"]),
                    shipped=bool(r["shipped"]),
                    paid=bool(r["paid"]),
                    delivery=bool(r["delivery"]),
                    deleted=bool(r["deleted"]),
                )
            self._cache["states"] = states
        return self._cache["states"]

    def state_id(self, key_or_canonical: str) -> int | None:
        """'PS_OS_SHIPPING' or 'shipped' -> the id in this shop."""
        for state in self.order_states().values():
            if key_or_canonical in state.keys or state.canonical == key_or_canonical:
                return state.id
        return None

    def stock_scope(self) -> tuple[int, int]:
        """(id_shop, id_shop_group) of this shop's stock_available rows: group-wide when shop_group.share_stock."""
        if "scope" not in self._cache:
            row = self.query_one(
                "SELECT share_stock FROM {p}shop_group WHERE id_shop_group = %s", (self.id_shop_group,)
            )
            self._cache["scope"] = (0, self.id_shop_group) if row and row["share_stock"] else (self.id_shop, 0)
        return self._cache["scope"]

    def shop_ids_for_stock(self) -> list[int]:
        """Shops whose orders draw on this stock scope (all shops of the group when stock is shared)."""
        id_shop, _ = self.stock_scope()
        if id_shop:
            return [id_shop]
        return [
            r["id_shop"]
            for r in self.query("SELECT id_shop FROM {p}shop WHERE id_shop_group = %s", (self.id_shop_group,))
        ]

    def timezone(self) -> ZoneInfo:
        def read() -> ZoneInfo:
            name = self.config_value("PS_TIMEZONE") or "Europe/Paris"
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                return ZoneInfo("UTC")

        return self.cycle_cached("timezone", read)

    def now(self) -> datetime:
        """Shop-local wall clock, naive: what PrestaShop's PHP date() writes into date_add/date_upd."""
        return datetime.now(self.timezone()).replace(tzinfo=None, microsecond=0)

    def clear_cache(self) -> None:
        self._cache.clear()

    def cached(self, key, compute: Callable[[], Any] | None = None, default: Any = None) -> Any:
        """What this connection remembers under ``key`` (facts of the live server, read once): computed by
        ``compute`` on first use, else ``default`` when nothing is remembered."""
        if key not in self._cache:
            if compute is None:
                return default
            self._cache[key] = compute()
        return self._cache[key]

    def cycle_cached(self, key, compute: Callable[[], Any]) -> Any:
        """A shop setting read once per apply cycle (`new_cycle`), not once per row written: a product write used
        to read the time zone and the ~17 search settings again each time."""
        if key not in self._cycle:
            self._cycle[key] = compute()
        return self._cycle[key]

    def new_cycle(self) -> None:
        """The apply engine starts a cycle: settings are read again, so an admin's change is seen by the next one."""
        self._cycle.clear()

    def remember(self, key, value: Any) -> None:
        """Keep ``value`` under ``key`` for the life of this connection (until `clear_cache`)."""
        self._cache[key] = value
