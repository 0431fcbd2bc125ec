"""Create a PrestaShop schema from our fixture (8.x as written, 1.7.8 derived from it) and load SQL dumps.

The 8.x fixture is ``schema_8.sql``.  The 1.7.8 variant is *derived*: ``VERSION_DELTAS`` lists every difference
between 1.7.8.6 and 8.2 for the tables in the fixture (checked column by column against the real 1.7.8.6
``db_structure.sql`` by tests/test_prestashop_schema.py), and ``schema_sql('1.7.8')`` applies them as text edits.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import resources

from replicator.config import parse_mysql_url

SUPPORTED = ("8", "1.7.8")

# 1.7.8.6 vs 8.2: (table, column, new column definition or None to drop, insert-after column).
# Source: autoupgrade 8.0.0/8.1.0 upgrade scripts, verified against both db_structure.sql files.
REDIRECT_178 = "enum('404','301-product','302-product','301-category','302-category') NOT NULL DEFAULT '404'"
REDIRECT_SHOP_178 = "enum('','404','301-product','302-product','301-category','302-category') NOT NULL DEFAULT ''"
VERSION_DELTAS: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "1.7.8": [
        # dropped in 8.0.0: tracking moved to order_carrier, combination stock to stock_available, carrier tax to
        # carrier_tax_rules_group_shop
        ("orders", "shipping_number", "varchar(64) DEFAULT NULL", "mobile_theme"),
        ("product_attribute", "location", "varchar(255) NOT NULL DEFAULT ''", "supplier_reference"),
        ("product_attribute", "quantity", "int(10) NOT NULL DEFAULT '0'", "ecotax"),
        ("carrier", "id_tax_rules_group", "int(10) unsigned DEFAULT '0'", "id_reference"),
        # added in 8.x
        ("product", "unit_price", None, None),
        ("product_shop", "unit_price", None, None),
        ("category_lang", "additional_description", None, None),
        ("order_payment", "id_employee", None, None),
        # changed in 8.x (utf8mb4 migration made many TEXT columns MEDIUMTEXT; wider/new enum values)
        ("product", "redirect_type", REDIRECT_178, None),
        ("product_shop", "redirect_type", REDIRECT_SHOP_178, None),
        ("customer", "ape", "varchar(5) DEFAULT NULL", None),
        ("order_detail", "product_name", "varchar(255) NOT NULL", None),
        *[
            (t, c, "text" + (" NOT NULL" if nn else " DEFAULT NULL"), None)
            for t, c, nn in (
                ("configuration", "value", False),
                ("configuration_lang", "value", False),
                ("customer", "note", False),
                ("address", "other", False),
                ("product_lang", "description", False),
                ("product_lang", "description_short", False),
                ("category_lang", "description", False),
                ("orders", "gift_message", False),
                ("orders", "note", False),
                ("order_invoice", "shop_address", False),
                ("order_invoice", "note", False),
                ("cart", "delivery_option", True),
                ("cart", "gift_message", False),
            )
        ],
    ],
}
DROPPED_TABLES = {"1.7.8": ["product_attribute_lang"]}  # added in 8.1.0


def normalise_version(version: str) -> str:
    """'8.2.1' -> '8', '1.7.8.6' -> '1.7.8' (the schema families this module knows)."""
    v = str(version).strip()
    if v.startswith("1.7"):
        return "1.7.8"
    if v.split(".")[0] in ("8", "9"):
        return "8"
    raise ValueError(f"unsupported PrestaShop version {version!r} (supported: 1.7.8.x, 8.x)")


def _table_block(sql: str, table: str) -> re.Match:
    m = re.search(r"CREATE TABLE `PREFIX_%s` \(.*?\n\) ENGINE[^;]*;\n" % re.escape(table), sql, re.S)
    if not m:
        raise KeyError(table)
    return m


def _apply_delta(sql: str, table: str, column: str, definition: str | None, after: str | None) -> str:
    block = _table_block(sql, table)
    text = block.group(0)
    line_re = re.compile(r"^  `?%s`? [^\n]*?(,?)\n" % re.escape(column), re.M)
    existing = line_re.search(text)
    if existing and definition is None:
        text = text[: existing.start()] + text[existing.end() :]
    elif existing:
        text = text[: existing.start()] + f"  {column} {definition}{existing.group(1)}\n" + text[existing.end() :]
    else:
        anchor = re.search(r"^  `?%s`? [^\n]*,\n" % re.escape(after), text, re.M)
        if not anchor:
            raise KeyError(f"{table}.{after}")
        text = text[: anchor.end()] + f"  {column} {definition},\n" + text[anchor.end() :]
    return sql[: block.start()] + text + sql[block.end() :]


def schema_sql(version: str = "8", prefix: str = "ps_") -> str:
    """The CREATE TABLE script for one schema family, with the table prefix applied."""
    family = normalise_version(version)
    sql = resources.files(__package__).joinpath("schema_8.sql").read_text(encoding="utf-8")
    for table, column, definition, after in VERSION_DELTAS.get(family, []):
        sql = _apply_delta(sql, table, column, definition, after)
    for table in DROPPED_TABLES.get(family, []):
        block = _table_block(sql, table)
        sql = sql[: block.start()] + sql[block.end() :]
    if family == "1.7.8":
        # 1.7.8 installs were utf8 (3-byte); utf8mb4 came with 8.0
        sql = sql.replace("CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci", "CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci")
        sql = sql.replace("CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci", "CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci")
    return sql.replace("PREFIX_", prefix)


def split_statements(sql: str) -> list[str]:
    """Split a SQL script on ';' outside quotes and comments (enough for schema files and mysqldump output)."""
    statements, current, i, n = [], [], 0, len(sql)
    quote: str | None = None
    while i < n:
        ch = sql[i]
        if quote:
            current.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < n:
                current.append(sql[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in ("'", '"', "`"):
            quote = ch
            current.append(ch)
        elif ch == "#" or (sql.startswith("--", i) and (i + 2 >= n or sql[i + 2] in " \t\r\n")):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "/" and sql.startswith("/*", i) and not sql.startswith("/*!", i):
            end = sql.find("*/", i)
            i = n if end < 0 else end + 2
            continue
        elif ch == ";":
            stmt = "".join(current).strip()
            if stmt:
                statements.append(stmt)
            current = []
        else:
            current.append(ch)
        i += 1
    tail = "".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def create_schema(conn, version: str = "8", prefix: str = "ps_") -> None:
    """Create every fixture table in the connection's current database."""
    with conn.cursor() as cur:
        for stmt in split_statements(schema_sql(version, prefix)):
            cur.execute(stmt)


def load_sql_file(database_url: str, path: str) -> None:
    """Load a (large) SQL dump into the URL's database, with the ``mariadb``/``mysql`` client when present.

    The password goes through the MYSQL_PWD environment variable, never the command line.  Without a client, the
    file is split into statements and run through PyMySQL.
    """
    params = parse_mysql_url(database_url)
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client:
        import os

        env = dict(os.environ, MYSQL_PWD=params["password"])
        cmd = [
            client,
            "--protocol=TCP",
            "-h",
            params["host"],
            "-P",
            str(params["port"]),
            "-u",
            params["user"],
            "--default-character-set=utf8mb4",
            params["database"],
        ]
        with open(path, "rb") as fh:
            result = subprocess.run(cmd, stdin=fh, capture_output=True, env=env)
        if result.returncode != 0:
            raise RuntimeError("loading %s failed: %s" % (path, result.stderr.decode(errors="replace")[-500:]))
        return
    import pymysql

    with open(path, encoding="utf-8") as fh:
        statements = split_statements(fh.read())
    conn = pymysql.connect(**params, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = ''")
            for stmt in statements:
                cur.execute(stmt)
    finally:
        conn.close()
