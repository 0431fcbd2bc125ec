"""`load_config`: one `replicator.yaml` read into a `Config`: sections read, paths made relative to the file,
secrets expanded and registered, then validated; every problem reported at once."""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath

from .errors import ConfigError
from .model import CONFIG_NAME, Config, FactusolConfig, PrestashopConfig
from .reader import SectionReader, read_config_yaml
from .redaction import register_url_secrets
from .shop_sections import ssh_section, webservice_section
from .validation import validate


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
    data = read_config_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys")
    r = SectionReader(path, data)
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
    register_url_secrets(store)

    fs_raw = r.section("factusol")
    r.unknown_keys(fs_raw, "factusol")
    fs = FactusolConfig(
        connection=r.env(r.text(fs_raw, "factusol", "connection") or "", "factusol.connection", need_secrets),
        file=rel(r.text(fs_raw, "factusol", "file"), "factusol.file"),
        data_dir=rel(r.text(fs_raw, "factusol", "data_dir"), "factusol.data_dir"),
        company=r.text(fs_raw, "factusol", "company") or "",
        rescan_seconds=r.number(fs_raw, "factusol", "rescan_seconds", 60.0),
        full_rescan_seconds=r.number(fs_raw, "factusol", "full_rescan_seconds", 900.0),
        debounce_seconds=r.number(fs_raw, "factusol", "debounce_seconds", 0.3, above=False),
        rescan_unchanged_file=r.flag(fs_raw, "factusol", "rescan_unchanged_file", False),
        lock_retry_seconds=r.number(fs_raw, "factusol", "lock_retry_seconds", 120.0),
        timeout_seconds=r.number(fs_raw, "factusol", "timeout_seconds", 30.0),
        fast_executemany=r.flag(fs_raw, "factusol", "fast_executemany", False),
        idle_close_seconds=r.number(fs_raw, "factusol", "idle_close_seconds", 60.0),
    )
    register_url_secrets(fs.connection)
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
    for sub in ("ssh", "webservice"):  # their unknown keys named like every section's, with "did you mean"
        if isinstance(ps_raw.get(sub), dict):
            r.unknown_keys(ps_raw[sub], f"prestashop.{sub}")
    try:
        ps.ssh = ssh_section(ps_raw.get("ssh"), path, lambda v: rel(v, "prestashop.ssh"))
    except ConfigError as exc:
        r.problems.append(f"{path}: {exc}")
    try:
        ps.webservice = webservice_section(ps_raw, path, need_secrets)
    except ConfigError as exc:
        r.problems.append(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}")
    register_url_secrets(ps.url)
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
