"""FactuSOL fiscal-year files: FactuSOL starts a new ``<CCC><YYYY>`` file each year; which one is in use, its year,
and the ODBC connection string that opens it."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from replicator.config import FactusolConfig

from .connection import connection_string_for, database_path, set_timeout

_YEAR_FILE = re.compile(r"^(?P<company>[A-Za-z0-9]{3})(?P<year>\d{4})\.(?P<ext>accdb|mdb|sqlite)$", re.IGNORECASE)
_EXT_RANK = {"accdb": 3, "mdb": 2, "sqlite": 1}


def resolve_year_file(data_dir: str | os.PathLike, company: str) -> Path:
    """The newest ``<CCC><YYYY>.(accdb|mdb|sqlite)`` for a company (FactuSOL starts a new file each fiscal year)."""
    folder = Path(data_dir)
    best: tuple[int, int, Path] | None = None
    for p in folder.iterdir() if folder.is_dir() else ():
        m = _YEAR_FILE.match(p.name)
        if not m or m["company"].upper() != company.upper() or not p.is_file():
            continue
        key = (int(m["year"]), _EXT_RANK[m["ext"].lower()], p)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        raise FileNotFoundError(f"no FactuSOL year file {company}YYYY.accdb/.mdb/.sqlite in {folder}")
    return best[2]


@lru_cache(maxsize=8)
def year_file_pattern(company: str) -> re.Pattern:
    """`<CCC><YYYY>.<ext>`, upper case: a fiscal-year file of the company (not its lock or journal files)."""
    return re.compile(re.escape(company.upper()) + r"\d{4}\.(?!LACCDB$|LDB$)[A-Z0-9]+")


def configured_file(cfg: FactusolConfig) -> Path | None:
    """The company/year file in use: the configured one, or the newest <CCC><YYYY> in the data folder."""
    return cfg.file or (resolve_year_file(cfg.data_dir, cfg.company) if cfg.data_dir else None)


def resolve_file(cfg: FactusolConfig) -> Path:
    """The year file to read: the fixed `file`, else the newest <CCC><YYYY> file in `data_dir`."""
    if cfg.file:
        return Path(cfg.file)
    if cfg.data_dir:
        return resolve_year_file(cfg.data_dir, cfg.company)
    raise ValueError("factusol: neither 'file' nor 'data_dir' + 'company' is configured")


def fiscal_year(path: Path | None, connection: str = "") -> str:
    """The 4-digit year of a <CCC><YYYY> file name ("" when the name does not say)."""
    name = path.stem if path else database_path(connection)
    match = re.search(r"(\d{4})$", Path(str(name)).stem) if name else None
    return match.group(1) if match else ""


def connection_string(cfg: FactusolConfig, path: Path | None = None) -> str:
    """The configured ODBC string (its ``{file}`` filled in), else the driver's string for the year file."""
    set_timeout(getattr(cfg, "timeout_seconds", 30.0))  # every connection built from the config has its timeout
    path = path or configured_file(cfg)
    if cfg.connection:
        return cfg.connection.replace("{file}", str(path)) if path else cfg.connection
    return connection_string_for(path)
