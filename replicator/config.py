"""`replicator.yaml`: loading, `${ENV_VAR}` secrets, validation with clear messages, and secret redaction.

One file is read by the daemon, the CLI and the TUI.  Relative paths in it are relative to the file.
Secrets (passwords inside the PrestaShop URL or the ODBC string) are registered with `redact` as soon as
they are read, so no output, log line or error message can show them.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML

from replicator.urls import password_of, split_url
from replicator.yamlsafe import YamlLimitError, read_yaml

CONFIG_NAME = "replicator.yaml"
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRETS: set[str] = set()
MASK = "***"


class ConfigError(Exception):
    """A configuration problem, already phrased for the user (file, key, what to do)."""


# --------------------------------------------------------------------------------------------- secrets


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact` hides it everywhere (only non-trivial values)."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def default_rules_dir() -> Path:
    """The shipped rule files: `rules/` beside the package in a checkout, or the copy inside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "rules", here / "default_rules"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("the default rule files are missing from this installation")


def redact(text: Any, *secrets: str | None) -> str:
    """`text` with every registered secret (and ``secrets``), and any URL/ODBC password, replaced by ***."""
    out = str(text)
    for secret in sorted({*_SECRETS, *filter(None, secrets)}, key=len, reverse=True):
        out = out.replace(secret, MASK)
    out = re.sub(r"(://[^:/@\s]+:)([^@\s]+)(@)", rf"\1{MASK}\3", out)
    out = re.sub(r"(?i)\b(pwd|password)=([^;\s]*)", rf"\1={MASK}", out)
    return out


class RedactingFilter(logging.Filter):
    """Logging filter that passes every record through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers or []:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())


# --------------------------------------------------------------------------------------------- model


@dataclass
class FactusolConfig:
    connection: str = ""  # full ODBC string, may contain {file}
    file: Path | None = None  # one fixed company/year file
    data_dir: Path | None = None  # ...or the FS folder + company code: follows the newest year
    company: str = ""
    rescan_seconds: float = 60.0  # safety rescan: narrow where FUM* columns allow
    full_rescan_seconds: float = 900.0  # a full rescan (every row of every table) at least this often
    debounce_seconds: float = 0.5  # cap of the adaptive quiet window after file events (factusol/watcher.py)
    lock_retry_seconds: float = 120.0
    # pyodbc's array binding for executemany: built for SQL Server, unproven on the Access driver, so off
    fast_executemany: bool = False
    # the service closes its connection after this long unused (FactuSOL's compact/repair needs the file alone)
    idle_close_seconds: float = 60.0
    timeout_seconds: float = 30.0  # ODBC login/statement timeout: a file held exclusively is reported, not waited on


@dataclass(frozen=True)
class SshConfig:
    """`prestashop.ssh`: reach the shop's database through an SSH tunnel (replicator/prestashop/tunnel.py)."""

    host: str
    user: str
    port: int = 22
    key_file: Path | None = None
    known_hosts: Path | None = None  # OpenSSH format; default: known_hosts beside replicator.yaml
    password: str = ""  # the user's password, or with key_file the key's passphrase when `passphrase` is empty
    passphrase: str = ""
    accept_new_host_key: bool = False  # trust an unknown host once (its key is then written to known_hosts)
    timeout: float = 15.0


@dataclass
class WebserviceConfig:
    """PrestaShop's webservice, for the state changes only its own code makes whole (mails, hooks): see
    docs/prestashop.md.  ``key`` comes from a ${ENV} variable and is a registered secret."""

    url: str = ""
    key: str = ""
    key_from_env: bool = True


@dataclass
class PrestashopConfig:
    url: str = ""
    prefix: str = "ps_"
    id_shop: int = 1
    id_lang: int | None = None  # None: PS_LANG_DEFAULT
    capture: str = "auto"  # auto | binlog | poll
    poll_seconds: float = 5.0
    poll_overlap_seconds: float = 10.0
    # Poll mode: how often the server-side checksums run (0: every poll); between them only date_upd windows are read
    poll_checksum_seconds: float = 0.0
    server_id: int = 4242
    timezone: str | None = None  # None: PS_TIMEZONE
    ssh: SshConfig | None = None  # None: the URL's host is reached directly
    routed_url: str = ""  # set while `url` points at the SSH tunnel's local end
    webservice: WebserviceConfig | None = None  # None: state changes by SQL (no mails, no hooks)


@dataclass
class Config:
    path: Path
    store: str
    rules_dir: Path
    store_namespace: str = ""  # this instance's name inside a store shared by several (PostgreSQL)
    factusol: FactusolConfig = field(default_factory=FactusolConfig)
    prestashop: PrestashopConfig = field(default_factory=PrestashopConfig)
    apply_interval_seconds: float = 2.0
    # Where the first run's initial sync does its side work (customers, half the stock): "process" (a child
    # process, a second core without the GIL) or "thread" (for where a child process can't be started)
    initial_sync_workers: str = "process"
    log_level: str = "INFO"
    log_file: Path | None = None

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def describe(self) -> dict[str, Any]:
        """A printable view with secrets masked (for `config validate` and `status`)."""
        return {
            "config": str(self.path),
            "store": redact(self.store),
            "rules": str(self.rules_dir),
            "factusol": {
                "connection": redact(self.factusol.connection),
                "file": str(self.factusol.file) if self.factusol.file else None,
                "data_dir": str(self.factusol.data_dir) if self.factusol.data_dir else None,
                "company": self.factusol.company,
            },
            "prestashop": {
                "url": redact(self.prestashop.url),
                "prefix": self.prestashop.prefix,
                "id_shop": self.prestashop.id_shop,
                "capture": self.prestashop.capture,
                **(
                    {"ssh": f"{self.prestashop.ssh.user}@{self.prestashop.ssh.host}:{self.prestashop.ssh.port}"}
                    if self.prestashop.ssh
                    else {}
                ),
                "webservice": (
                    {"url": self.prestashop.webservice.url, "key": MASK} if self.prestashop.webservice else None
                ),
            },
        }


# --------------------------------------------------------------------------------------------- loading


def expand_env(value: str, where: str, required: bool = True) -> str:
    """Replace ``${NAME}`` / ``${NAME:-default}``; the expanded values are secrets.  ``required=False``: an unset
    variable becomes "" (commands that only read the store need no shop password)."""

    def _sub(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        resolved = os.environ.get(name, default)
        if resolved is None and not required:
            return ""
        if resolved is None:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        register_secret(resolved)
        return resolved

    return _ENV_PATTERN.sub(_sub, value)


def _register_url_secrets(url: str) -> None:
    for password in password_of(url):
        register_secret(password)
    # ODBC: PWD=secret; or PWD={secret;with;semicolons}
    for match in re.finditer(r"(?i)\b(?:pwd|password)\s*=\s*(\{(?:[^}]|\}\})*\}|[^;]*)", url):
        value = match.group(1)
        register_secret(value)
        if value.startswith("{"):
            register_secret(value[1:-1].replace("}}", "}"))


def register_config_secrets(config: "Config") -> None:
    """Register the passwords in a config's URLs for redaction (a child process, which gets the config already
    loaded, calls it: registered secrets are per process)."""
    for url in (config.store, config.factusol.connection, config.prestashop.url):
        _register_url_secrets(url)


# Every key a section may hold; anything else is named with the nearest known key.
KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "store",
        "store_namespace",
        "rules",
        "factusol",
        "prestashop",
        "apply_interval_seconds",
        "initial_sync_workers",
        "log",
    ),
    "factusol": (
        "connection",
        "file",
        "data_dir",
        "company",
        "rescan_seconds",
        "full_rescan_seconds",
        "debounce_seconds",
        "lock_retry_seconds",
        "timeout_seconds",
        "fast_executemany",
        "idle_close_seconds",
    ),
    "prestashop": (
        "url",
        "prefix",
        "id_shop",
        "id_lang",
        "capture",
        "poll_seconds",
        "poll_overlap_seconds",
        "poll_checksum_seconds",
        "server_id",
        "timezone",
        "ssh",
        "webservice",
    ),
    "log": ("level", "file"),
}


class _Reader:
    """Reads one replicator.yaml, collecting every problem (with line:col where the YAML gives one)."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data
        self.problems: list[str] = []

    def where(self, node: Any, key: str) -> str:
        try:
            line, col = node.lc.key(key)
            return f"{self.path}:{line + 1}:{col + 1}"
        except (AttributeError, KeyError, TypeError):
            return str(self.path)

    def problem(self, node: Any, dotted: str, message: str) -> None:
        self.problems.append(f"{self.where(node, dotted.rpartition('.')[2])}: {dotted}: {message}")

    def section(self, name: str) -> dict:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(self.data, name, "must be a mapping of keys (indented under it)")
            return {}
        return value

    def unknown_keys(self, node: dict, section: str) -> None:
        known = KEYS[section]
        for key in node:
            if str(key) in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
            dotted = f"{section}.{key}" if section else str(key)
            self.problem(node, dotted, f"unknown key{hint}")

    def text(self, node: dict, section: str, key: str, default: str | None = "") -> str | None:
        value = node.get(key, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (dict, list)):
            self.problem(node, f"{section}.{key}", "must be a single value, not a list or mapping")
            return default
        return str(value)

    def number(
        self, node: dict, section: str, key: str, default: float | None, *, minimum: float = 0.0, above: bool = True
    ) -> float | None:
        """A number of seconds: above `minimum` (or at least it when `above` is False)."""
        value = node.get(key, default)
        if value is None:
            return None
        dotted = f"{section}.{key}" if section else key
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            self.problem(node, dotted, f"expected a number, got {value!r}")
            return default
        if not math.isfinite(number) or (number <= minimum if above else number < minimum):
            self.problem(node, dotted, f"must be {'greater than' if above else 'at least'} {minimum:g} (got {value!r})")
            return default
        return number

    def flag(self, node: dict, section: str, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.problem(node, f"{section}.{key}", f"expected true or false, got {value!r}")
            return default
        return value

    def integer(
        self, node: dict, section: str, key: str, default: int | None, *, minimum: int = 1, maximum: int = 2**32 - 1
    ) -> int | None:
        value = node.get(key, default)
        if value is None:
            return None
        dotted = f"{section}.{key}"
        if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(node, dotted, f"expected a whole number, got {value!r}")
            return default
        if not minimum <= value <= maximum:
            self.problem(node, dotted, f"must be from {minimum} to {maximum} (got {value})")
            return default
        return int(value)

    def env(self, value: str, dotted: str, required: bool = True) -> str:
        try:
            return expand_env(value, dotted, required)
        except ConfigError as exc:
            self.problems.append(f"{self.path}: {exc}")
            return value  # unexpanded: the other checks go on without a second, misleading message


def _read_yaml(path: Path) -> Any:
    try:
        return read_yaml(path, typ="rt")
    except YamlLimitError as exc:
        raise ConfigError(
            f"{path}:{exc.problem.line}:{exc.problem.col}: not valid YAML: {exc.problem.message}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None


def _webservice(ps_raw: dict, path: Path, need_secrets: bool = True) -> WebserviceConfig | None:
    raw = ps_raw.get("webservice")
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        raise ConfigError("prestashop.webservice: must be a mapping with url and key")
    unknown = set(raw) - {"url", "key"}
    if unknown:
        raise ConfigError(f"prestashop.webservice: unknown key(s): {', '.join(sorted(unknown))}")
    key_text = str(raw.get("key") or "")
    key = expand_env(key_text, f"{path}: prestashop.webservice.key", need_secrets)
    register_secret(key)
    return WebserviceConfig(
        url=expand_env(str(raw.get("url") or ""), f"{path}: prestashop.webservice.url"),
        key=key,
        key_from_env=bool(_ENV_PATTERN.search(key_text)) or not key_text,
    )


def load_config(path: str | os.PathLike, need_secrets: bool = True, check_files: bool | None = None) -> Config:
    """Read and check a configuration file.  ``need_secrets=False`` (status, log, the TUI...: commands that only
    use the state store): ``${VAR}`` in the FactuSOL connection, the shop URL and the webservice key may be unset,
    and the FactuSOL file is not looked for.  ``check_files=False`` skips only the FactuSOL file check, for commands
    that do not open it (service install, ssh trust, shop-sql) or that report on it themselves (doctor)."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file (create one with `replicator init DIR`)")
    data = _read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys")
    r = _Reader(path, data)
    r.unknown_keys(data, "")
    base = path.parent

    def rel(value: str | None, dotted: str) -> Path | None:
        if not value:
            return None
        text = r.env(str(value), dotted)
        if PureWindowsPath(text).anchor and not Path(text).is_absolute():
            return Path(text)  # C:\... or \\SERVER\share\... read on another system: kept as written
        p = Path(text).expanduser()
        return p if p.is_absolute() else (base / p)

    store = r.env(r.text(data, "", "store") or "sqlite:///replicator-state.sqlite", "store")
    if store.startswith("sqlite:///") and not store.startswith("sqlite:////") and ":memory:" not in store:
        store = "sqlite:///" + str(base / store[len("sqlite:///") :])
    _register_url_secrets(store)

    fs_raw = r.section("factusol")
    r.unknown_keys(fs_raw, "factusol")
    fs = FactusolConfig(
        connection=r.env(r.text(fs_raw, "factusol", "connection") or "", "factusol.connection", need_secrets),
        file=rel(r.text(fs_raw, "factusol", "file"), "factusol.file"),
        data_dir=rel(r.text(fs_raw, "factusol", "data_dir"), "factusol.data_dir"),
        company=r.text(fs_raw, "factusol", "company") or "",
        rescan_seconds=r.number(fs_raw, "factusol", "rescan_seconds", 60.0),
        full_rescan_seconds=r.number(fs_raw, "factusol", "full_rescan_seconds", 900.0),
        debounce_seconds=r.number(fs_raw, "factusol", "debounce_seconds", 0.5, above=False),
        lock_retry_seconds=r.number(fs_raw, "factusol", "lock_retry_seconds", 120.0),
        timeout_seconds=r.number(fs_raw, "factusol", "timeout_seconds", 30.0),
        fast_executemany=r.flag(fs_raw, "factusol", "fast_executemany", False),
        idle_close_seconds=r.number(fs_raw, "factusol", "idle_close_seconds", 60.0),
    )
    _register_url_secrets(fs.connection)
    ps_raw = r.section("prestashop")
    r.unknown_keys(ps_raw, "prestashop")
    ps = PrestashopConfig(
        url=r.env(r.text(ps_raw, "prestashop", "url") or "", "prestashop.url", need_secrets),
        prefix=r.text(ps_raw, "prestashop", "prefix", "ps_") or "",
        id_shop=r.integer(ps_raw, "prestashop", "id_shop", 1),
        id_lang=r.integer(ps_raw, "prestashop", "id_lang", None),
        capture=r.text(ps_raw, "prestashop", "capture", "auto") or "",
        poll_seconds=r.number(ps_raw, "prestashop", "poll_seconds", 5.0),
        poll_overlap_seconds=r.number(ps_raw, "prestashop", "poll_overlap_seconds", 10.0, above=False),
        poll_checksum_seconds=r.number(ps_raw, "prestashop", "poll_checksum_seconds", 0.0, above=False),
        server_id=r.integer(ps_raw, "prestashop", "server_id", 4242),
        timezone=r.text(ps_raw, "prestashop", "timezone", None),
    )
    try:
        ps.ssh = _ssh_config(ps_raw.get("ssh"), path, lambda v: rel(v, "prestashop.ssh"))
    except ConfigError as exc:
        r.problems.append(f"{path}: {exc}")
    try:
        ps.webservice = _webservice(ps_raw, path, need_secrets)
    except ConfigError as exc:
        r.problems.append(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}")
    _register_url_secrets(ps.url)
    log_raw = r.section("log")
    r.unknown_keys(log_raw, "log")
    config = Config(
        path=path,
        store=store,
        store_namespace=r.text(data, "", "store_namespace") or "",
        rules_dir=rel(r.text(data, "", "rules") or "rules", "rules"),
        factusol=fs,
        prestashop=ps,
        apply_interval_seconds=r.number(data, "", "apply_interval_seconds", 2.0),
        initial_sync_workers=r.text(data, "", "initial_sync_workers", "process") or "",
        log_level=str(r.text(log_raw, "log", "level", "INFO")).upper(),
        log_file=rel(r.text(log_raw, "log", "file"), "log.file"),
    )
    problems = r.problems + [
        f"{path}: {p}" for p in validate(config, check_files=need_secrets if check_files is None else check_files)
    ]
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def parse_mysql_url(url: str) -> dict:
    """``mysql://user:pass@host:port/db?ssl_mode=verify_identity&ssl_ca=/path/ca.pem`` -> keyword arguments for
    ``pymysql.connect``.

    TLS options, named as the MySQL client names them: ``ssl_mode`` = ``disabled``, ``preferred`` (the default:
    encrypted when the server offers it, the certificate not checked), ``required`` (encrypted or no connection),
    ``verify_ca`` (and the server's certificate signed by ``ssl_ca``), ``verify_identity`` (and issued to the host
    name); ``ssl_ca``, ``ssl_cert``, ``ssl_key``: file paths.  Raises ValueError naming an unknown or bad option.
    """
    try:
        parsed = split_url(url)
    except ValueError as exc:
        raise ValueError(f"PrestaShop URL: {exc}") from None
    if parsed.scheme not in ("mysql", "mariadb", "mysql+pymysql"):
        raise ValueError("PrestaShop URL must start with mysql:// (got scheme %r)" % parsed.scheme)
    params: dict = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        "charset": "utf8mb4",
    }
    if parsed.database:
        params["database"] = parsed.database
    options = {key.replace("-", "_").lower(): value for key, value in parsed.options}
    unknown = sorted(set(options) - {"ssl_mode", "ssl_ca", "ssl_cert", "ssl_key", "charset"})
    if unknown:
        raise ValueError(
            f"PrestaShop URL: unknown option(s) {', '.join(unknown)} (known: ssl_mode, ssl_ca, ssl_cert, "
            "ssl_key, charset)"
        )
    if options.get("charset", "utf8mb4").lower() != "utf8mb4":
        raise ValueError("PrestaShop URL: charset must be utf8mb4, the character set of PrestaShop's tables")
    params.update(_tls_params(options))
    return params


TLS_MODES = ("disabled", "preferred", "required", "verify_ca", "verify_identity")


def _tls_params(options: dict[str, str]) -> dict:
    """PyMySQL's TLS arguments for the URL's ssl_* options (see `parse_mysql_url`)."""
    mode = options.get("ssl_mode", "preferred").lower()
    if mode not in TLS_MODES:
        raise ValueError(f"PrestaShop URL: ssl_mode must be one of {', '.join(TLS_MODES)} (got {mode!r})")
    if mode == "disabled":
        return {"ssl_disabled": True}
    ca = options.get("ssl_ca") or None
    if mode in ("verify_ca", "verify_identity") and not ca:
        raise ValueError(f"PrestaShop URL: ssl_mode={mode} needs ssl_ca, the CA certificate file to check against")
    client = {name: options[f"ssl_{name}"] for name in ("cert", "key") if options.get(f"ssl_{name}")}
    if mode == "required":
        return {"ssl": {"verify_mode": False, **({"ca": ca} if ca else {}), **client}}
    out = {f"ssl_{name}": value for name, value in client.items()}
    if ca:
        out.update(ssl_ca=ca, ssl_verify_cert=mode != "preferred", ssl_verify_identity=mode == "verify_identity")
    return out


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


def _number(section: dict, key: str, default: float, where: str, kind=float) -> Any:
    value = section.get(key, default)
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key}: expected a number, got {value!r}") from None


_SSH_KEYS = {
    "host",
    "port",
    "user",
    "key_file",
    "known_hosts",
    "password",
    "passphrase",
    "accept_new_host_key",
    "timeout_seconds",
}


def _ssh_config(raw: Any, path: Path, rel) -> SshConfig | None:
    """`prestashop.ssh` (absent or empty: no tunnel); password and passphrase are secrets (write them as ${ENV})."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("prestashop.ssh: must be a mapping (host, port, user, key_file, known_hosts, ...)")
    unknown = sorted(set(raw) - _SSH_KEYS)
    if unknown:
        raise ConfigError(
            f"prestashop.ssh: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_SSH_KEYS))})"
        )
    for key in ("host", "user"):
        if not raw.get(key):
            raise ConfigError(f"prestashop.ssh.{key}: required (the SSH server's {key} to log in to)")
    secrets = {}
    for key in ("password", "passphrase"):
        value = expand_env(str(raw.get(key) or ""), f"{path}: prestashop.ssh.{key}")
        register_secret(value)
        secrets[key] = value
    if not (raw.get("key_file") or secrets["password"]):
        raise ConfigError("prestashop.ssh: give key_file (a private key) or password (as ${ENV_VAR})")
    accept = raw.get("accept_new_host_key", False)
    if not isinstance(accept, bool):
        raise ConfigError("prestashop.ssh.accept_new_host_key: must be true or false")
    return SshConfig(
        host=str(raw["host"]),
        user=str(raw["user"]),
        port=_number(raw, "port", 22, "prestashop.ssh", int),
        key_file=rel(raw.get("key_file")),
        known_hosts=rel(raw.get("known_hosts") or "known_hosts"),
        password=secrets["password"],
        passphrase=secrets["passphrase"],
        accept_new_host_key=accept,
        timeout=_number(raw, "timeout_seconds", 15.0, "prestashop.ssh"),
    )


def webservice_url_problem(url: str) -> str:
    """'' when ``url`` may be the shop's webservice address, else what is wrong with it: https (the key travels
    with every request), plain http only for a shop on this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be the shop's address, e.g. https://shop.example.com"
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return "must use https (the key travels with every request); http only for a shop on this machine"
    return ""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


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


# --------------------------------------------------------------------------------------------- init


# The file `replicator init` writes: valid YAML with its comments, filled in through ruamel.yaml's round-trip
# mode (never by pasting text into quotes), so a Windows path such as C:\Software DELSOL\... or
# \\SERVER\FACTUSOL\... is written in a form YAML reads back exactly.
CONFIG_TEMPLATE = """\
# FactuSOL <-> PrestaShop replicator configuration.
# Relative paths are relative to this file.  Secrets: write ${ENV_VAR} and set the variable in the
# service's environment; a password is never printed, logged or shown in the TUI.

# State store (change log, baselines, id map, conflicts...). Any SQLAlchemy URL; SQLite file by default.
store: sqlite:///replicator-state.sqlite

# Folder with the rule files (one YAML per entity). `replicator rules check` validates them.
rules: rules

factusol:
  # pyodbc connection string. On the FactuSOL PC:
  #   DRIVER={Microsoft Access Driver (*.mdb, *.accdb)};DBQ={file};Mode=Share Deny None
  # {file} is replaced by the company/year file chosen below.
  connection: DRIVER={Microsoft Access Driver (*.mdb, *.accdb)};DBQ={file};Mode=Share Deny None
  # Either one fixed file (file: 'C:\\Software DELSOL\\FACTUSOL\\Datos\\FS\\0012026.accdb')...
  # ...or the data folder and the 3-character company code: the newest <CCC><YYYY> file is followed
  # automatically across the fiscal-year rollover (a UNC path such as '\\\\SERVER\\FACTUSOL\\Datos\\FS' rather
  # than a mapped drive letter, which a Windows service does not see).
  # data_dir: 'C:\\Software DELSOL\\FACTUSOL\\Datos\\FS'
  # company: '001'
  rescan_seconds: 60      # safety rescan when file events don't arrive (network shares)
  full_rescan_seconds: 900  # ...and a full one (edits that did not move FUM* dates) at least this often
  debounce_seconds: 0.5   # a save is scanned ~0.1 s after its file events; a burst waits up to this to settle
  idle_close_seconds: 60  # close the file after this long unused (FactuSOL's compact/repair needs it alone)

prestashop:
  # mysql://USER:${PS_DB_PASSWORD}@HOST:3306/DATABASE  (a remote server: add ?ssl_mode=verify_identity&ssl_ca=FILE,
  # see docs/operations.md)
  url: mysql://prestashop:${PS_DB_PASSWORD}@127.0.0.1:3306/prestashop
  prefix: ps_            # table prefix (database_prefix in app/config/parameters.php)
  id_shop: 1
  # id_lang: 1           # default: PS_LANG_DEFAULT
  capture: auto          # auto | binlog | poll (poll when the host gives no REPLICATION privileges)
  poll_seconds: 5
  # poll_checksum_seconds: 60   # poll mode, big catalogue: the server's row checksums once a minute (default: each poll)
  # Through SSH (hosting without remote MySQL): the url's host and port are then as seen from the SSH server.
  # `replicator ssh trust` writes the host's key to known_hosts once you accept it. See docs/hosting.md.
  # ssh:
  #   host: ssh.example.com
  #   port: 22
  #   user: shopuser
  #   key_file: replicator_ed25519      # or password: ${{SSH_PASSWORD}}
  #   known_hosts: known_hosts
  # PrestaShop's webservice, so that order state changes go through PrestaShop itself: the customer gets the
  # state's mail (shipped with its tracking number, payment accepted...) and modules their hooks.  Without it the
  # states are written by SQL: no mail, no hook.  How to create a key with the least permissions: docs/prestashop.md
  # webservice:
  #   url: https://shop.example.com
  #   key: ${{PS_WEBSERVICE_KEY}}

apply_interval_seconds: 2
initial_sync_workers: process   # process | thread: where the first run's side work runs (customers, half the stock)

log:
  level: INFO
  # file: replicator.log
"""


def _round_trip_yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps the comments and the order of the keys
    yaml.width = 4096  # a long connection string stays on one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def render_config(
    factusol: str | None = None,
    prestashop: str | None = None,
    store: str = "sqlite:///replicator-state.sqlite",
    data_dir: str | None = None,
    company: str | None = None,
) -> str:
    """The text of a new, commented replicator.yaml with these values (as YAML writes them, read back exactly).

    `factusol` is a pyodbc connection string; when it names a file (DBQ= / Database=) that file is also written
    as `factusol.file`.  `data_dir` + `company` follow the newest fiscal-year file of a company instead."""
    import io

    yaml = _round_trip_yaml()
    data = yaml.load(CONFIG_TEMPLATE)
    data["store"] = store
    fs = data["factusol"]
    if factusol:
        fs["connection"] = factusol
    at = list(fs).index("connection") + 1
    if data_dir:
        fs.insert(at, "data_dir", str(data_dir))
        fs.insert(at + 1, "company", str(company or ""))
    else:
        match = re.search(r"(?i)(?:^|;)\s*(?:DBQ|Database)\s*=\s*([^;{}]+)", factusol or "")
        if match:  # the string names a file: keep it as is, note it for the rollover watcher
            fs.insert(at, "file", match.group(1).strip())
    if prestashop:
        data["prestashop"]["url"] = prestashop
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
