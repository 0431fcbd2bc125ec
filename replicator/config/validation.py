"""The semantic checks of a loaded configuration: each message names the key and says what to do (files and
folders that must exist, the store URL, the shop URL, names and values that must be one of a list)."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import Config
from .mysql_url import parse_mysql_url
from .redaction import redact
from .shop_sections import webservice_url_problem


def database_path(conn_str: str) -> str:
    """The file an ODBC connection string opens (its DBQ= or Database=), or "" when it names none."""
    match = re.search(r"(?i)(?:^|;)\s*(?:DBQ|Database)\s*=\s*([^;]+)", conn_str)
    return match.group(1).strip() if match else ""


def _file_problem(p: Path, what: str) -> str | None:
    """Why `p` can't be opened as an existing file, or None."""
    if not p.exists():
        return f"{what} {p} does not exist (it is never created: check the path)"
    if p.is_dir():
        return f"{what} {p} is a folder, not a file"
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        return f"{what} {p} cannot be read: {exc.strerror or exc}"
    return None


def _store_problems(store: str, namespace: str) -> list[str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(store)
    except ArgumentError:
        return ["store: not a database URL: write sqlite:///state.sqlite or postgresql://USER:${PASSWORD}@HOST/DB"]
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        return [f"store: unknown database kind {url.drivername!r}: use sqlite or postgresql"]
    problems = []
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if db and db != ":memory:":
            folder = Path(db).parent
            if not folder.is_dir():
                problems.append(f"store: folder {folder} does not exist: create it or change the path")
            elif Path(db).is_dir():
                problems.append(f"store: {db} is a folder, not a file")
    else:
        try:
            dialect.import_dbapi()
        except ImportError:
            problems.append(f"store: the {url.get_backend_name()} driver ({url.get_driver_name()}) is not installed")
    if namespace and url.get_backend_name() == "sqlite":
        problems.append(
            "store_namespace: only for a shared PostgreSQL store (each SQLite store is one instance's file)"
        )
    elif namespace and not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", namespace):
        problems.append(
            f"store_namespace: lower-case letters, digits and _ only, starting with a letter (got {namespace!r})"
        )
    return problems


def validate(config: Config, check_files: bool = True) -> list[str]:
    """Semantic checks; each message names the key and says what to do."""
    problems: list[str] = []
    fs, ps = config.factusol, config.prestashop
    if not (fs.connection or fs.file or fs.data_dir):
        problems.append("factusol: give 'connection', 'file', or 'data_dir' + 'company'")
    if fs.data_dir and not re.fullmatch(r"[A-Za-z0-9]{3}", fs.company or ""):
        problems.append("factusol.company: the 3-character company code is required with data_dir (e.g. '001')")
    if not check_files:  # a command that only reads the store: the FactuSOL file may be away
        pass
    elif fs.file:
        why = _file_problem(fs.file, "the FactuSOL file")
        if why:
            problems.append(f"factusol.file: {why}")
    elif fs.data_dir and not fs.data_dir.is_dir():
        problems.append(f"factusol.data_dir: folder {fs.data_dir} does not exist")
    elif fs.connection and "{file}" not in fs.connection and database_path(fs.connection):
        named = Path(database_path(fs.connection))
        why = _file_problem(named if named.is_absolute() else config.base_dir / named, "the FactuSOL file")
        if why:
            problems.append(f"factusol.connection: {why}")
    elif fs.connection and "{file}" in fs.connection and not (fs.file or fs.data_dir):
        problems.append("factusol.connection: it says {file}: give factusol.file or data_dir + company")
    if not ps.url:
        problems.append(
            "prestashop.url: the shop database URL is required, e.g. mysql://user:${PS_DB_PASSWORD}@host/db"
        )
    else:
        try:
            params = parse_mysql_url(ps.url)
        except ValueError as exc:
            text = redact(str(exc)).removeprefix("PrestaShop URL: ")
            problems.append(f"prestashop.url: {'must start with mysql://' if 'must start' in text else text}")
        else:
            if not params.get("database"):
                problems.append("prestashop.url: the database name is missing at the end of the URL")
    if ps.timezone:
        try:
            ZoneInfo(ps.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"prestashop.timezone: unknown time zone {ps.timezone!r} (e.g. Europe/Madrid)")
    if ps.ssh is not None and ps.ssh.key_file is not None and not ps.ssh.key_file.is_file():
        problems.append(f"prestashop.ssh.key_file: {ps.ssh.key_file} does not exist")
    if config.initial_sync_workers not in ("process", "thread"):
        problems.append(f"initial_sync_workers: must be process or thread (got {config.initial_sync_workers!r})")
    if ps.capture not in ("auto", "binlog", "poll"):
        problems.append(f"prestashop.capture: must be auto, binlog or poll (got {ps.capture!r})")
    if not re.fullmatch(r"[A-Za-z0-9_]*", ps.prefix):
        problems.append(f"prestashop.prefix: only letters, digits and _ are allowed (got {ps.prefix!r})")
    if config.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append("log.level: must be DEBUG, INFO, WARNING or ERROR")
    if config.log_file:
        if config.log_file.is_dir():
            problems.append(f"log.file: {config.log_file} is a folder; name a file in it")
        elif not config.log_file.parent.is_dir():
            problems.append(f"log.file: folder {config.log_file.parent} does not exist: create it or change the path")
    ws = ps.webservice
    if ws is not None:
        problem = (
            webservice_url_problem(ws.url)
            if ws.url
            else "the shop's address is required, e.g. https://shop.example.com"
        )
        if problem:
            problems.append(f"prestashop.webservice.url: {problem}")
        if not ws.key:
            problems.append("prestashop.webservice.key: the webservice key is required, e.g. ${PS_WEBSERVICE_KEY}")
        elif not ws.key_from_env:
            problems.append(
                "prestashop.webservice.key: write the key as ${ENV_VAR} and set the variable in the"
                " service's environment (a key written in the file would be readable by anyone)"
            )
    problems.extend(_store_problems(config.store, config.store_namespace))
    if not config.rules_dir.is_dir():
        problems.append(f"rules: folder {config.rules_dir} does not exist (run `replicator init` to copy the defaults)")
    return problems
