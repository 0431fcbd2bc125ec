"""Small SQL helpers of the stand-in shop's seeding: the fixed clock, row inserts, the link_rewrite slug,
the version string a schema family's shop reports."""

from __future__ import annotations

from datetime import datetime, timedelta

from replicator.prestashop import schema

from .shop_data import T0


def ts(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def insert_row(cur, prefix: str, table: str, row: dict) -> int:
    cols = ", ".join(f"`{c}`" for c in row)
    cur.execute(f"INSERT INTO `{prefix}{table}` ({cols}) VALUES ({', '.join(['%s'] * len(row))})", list(row.values()))
    return cur.lastrowid


def insert_rows(cur, prefix: str, table: str, rows: list[dict]) -> None:
    if rows:
        cols = ", ".join(f"`{c}`" for c in rows[0])
        cur.executemany(
            f"INSERT INTO `{prefix}{table}` ({cols}) VALUES ({', '.join(['%s'] * len(rows[0]))})",
            [list(r.values()) for r in rows],
        )


def slug(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split()) or "item"


def version_string(version: str) -> str:
    return (
        "1.7.8.11"
        if schema.normalise_version(version) == "1.7.8"
        else (version if version.count(".") >= 2 else "8.2.1")
    )
