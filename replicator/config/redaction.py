"""Secrets and their redaction: `${ENV}` expansion (what it yields is a secret), the registered secrets, the one
`redact` every output, log line and error message passes through, and the log filter that applies it.

Secrets (passwords inside the PrestaShop URL or the ODBC string, keys) are registered as soon as they are read.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from replicator.urls import password_of

from .errors import ConfigError

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRETS: set[str] = set()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact` hides it everywhere (only non-trivial values)."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


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

    return ENV_PATTERN.sub(_sub, value)


def register_url_secrets(url: str) -> None:
    for password in password_of(url):
        register_secret(password)
    # ODBC: PWD=secret; or PWD={secret;with;semicolons}
    for match in re.finditer(r"(?i)\b(?:pwd|password)\s*=\s*(\{(?:[^}]|\}\})*\}|[^;]*)", url):
        value = match.group(1)
        register_secret(value)
        if value.startswith("{"):
            register_secret(value[1:-1].replace("}}", "}"))


def register_config_secrets(config: Any) -> None:
    """Register the passwords in a config's URLs for redaction (a child process, which gets the config already
    loaded, calls it: registered secrets are per process)."""
    for url in (config.store, config.factusol.connection, config.prestashop.url):
        register_url_secrets(url)
