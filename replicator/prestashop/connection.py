"""PyMySQL connections to the shop database, from a URL; the password never leaves this module in text."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import pymysql


def parse_mysql_url(url: str) -> dict:
    """``mysql://user:pass@host:port/db?charset=utf8mb4`` -> keyword arguments for ``pymysql.connect``."""
    parsed = urlparse(url)
    if parsed.scheme not in ("mysql", "mariadb", "mysql+pymysql"):
        raise ValueError("PrestaShop URL must start with mysql:// (got scheme %r)" % parsed.scheme)
    params: dict = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": unquote(parsed.username or "root"),
        "password": unquote(parsed.password or ""),
        "charset": "utf8mb4",
    }
    database = parsed.path.lstrip("/")
    if database:
        params["database"] = unquote(database)
    return params
