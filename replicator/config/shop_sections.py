"""`prestashop.ssh` and `prestashop.webservice`: the tunnel's and the webservice's settings, their secrets
registered, and the check of a webservice address (https, or http only on this machine).  Their unknown keys are
named by `reader.SectionReader.unknown_keys`, with the nearest known key, like every other section's."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .model import SshConfig, WebserviceConfig
from .redaction import ENV_PATTERN, expand_env, register_secret


def webservice_section(ps_raw: dict, path: Path, need_secrets: bool = True) -> WebserviceConfig | None:
    raw = ps_raw.get("webservice")
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        raise ConfigError("prestashop.webservice: must be a mapping with url and key")
    key_text = str(raw.get("key") or "")
    key = expand_env(key_text, f"{path}: prestashop.webservice.key", need_secrets)
    register_secret(key)
    return WebserviceConfig(
        url=expand_env(str(raw.get("url") or ""), f"{path}: prestashop.webservice.url"),
        key=key,
        key_from_env=bool(ENV_PATTERN.search(key_text)) or not key_text,
    )


def _number(section: dict, key: str, default: float, where: str, kind=float) -> Any:
    value = section.get(key, default)
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key}: expected a number, got {value!r}") from None


def ssh_section(raw: Any, path: Path, rel) -> SshConfig | None:
    """`prestashop.ssh` (absent or empty: no tunnel); password and passphrase are secrets (write them as ${ENV})."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("prestashop.ssh: must be a mapping (host, port, user, key_file, known_hosts, ...)")
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
