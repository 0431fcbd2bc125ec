"""The configuration as the program uses it: `Config` and its sections' dataclasses, the file's name and where
the shipped rule files are.  `Config.describe` is its printable view, secrets masked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .redaction import MASK, redact

CONFIG_NAME = "replicator.yaml"


def default_rules_dir() -> Path:
    """The shipped rule files: `rules/` beside the package in a checkout, or the copy inside the package."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (here.parent / "rules", here / "default_rules"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("the default rule files are missing from this installation")


@dataclass
class FactusolConfig:
    connection: str = ""  # full ODBC string, may contain {file}
    file: Path | None = None  # one fixed company/year file
    data_dir: Path | None = None  # ...or the FS folder + company code: follows the newest year
    company: str = ""
    rescan_seconds: float = 60.0  # safety rescan: narrow where FUM* columns allow
    full_rescan_seconds: float = 900.0  # a full rescan (every row of every table) at least this often
    debounce_seconds: float = 0.3  # cap of the adaptive quiet window after file events (factusol/watcher.py)
    # True: rescan even a file whose size and modification time have not moved since the last scans (filestamp.py)
    rescan_unchanged_file: bool = False
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
    # Where the first run's initial sync does its helper work (customers, half the stock): "process" (a child
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
