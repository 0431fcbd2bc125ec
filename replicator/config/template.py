"""The file `replicator init` writes: a commented `replicator.yaml`, filled in through ruamel.yaml's round trip."""

from __future__ import annotations

import re

from ruamel.yaml import YAML


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
  rescan_seconds: 60      # safety rescan when file events don't arrive (network shares); 4x rarer while they do
  full_rescan_seconds: 900  # ...and a full one (edits that did not move FUM* dates) at least this often
  # (both are skipped while the file's size and modification time stay as they were; true: never skip them)
  # rescan_unchanged_file: false
  debounce_seconds: 0.3   # a save is scanned ~0.1 s after its file events; a burst waits up to this to settle
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
  # poll_checksum_seconds: 60   # poll mode, big catalogue: server row checksums once a minute (default: each poll)
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
initial_sync_workers: process   # process | thread: where the first run's helper work runs (customers, half the stock)

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
