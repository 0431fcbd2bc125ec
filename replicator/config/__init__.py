"""`replicator.yaml`: loading, `${ENV_VAR}` secrets, validation with clear messages, and secret redaction.

One file is read by the daemon, the CLI and the TUI.  Relative paths in it are relative to the file.  The parts:
`model` (the dataclasses), `redaction` (secrets and `redact`), `reader` (sections, known keys, did you mean),
`shop_sections` (ssh, webservice), `mysql_url` (the shop URL's options), `validation`, `loading` (`load_config`)
and `template` (`replicator init`'s file).
"""

from __future__ import annotations

from .errors import ConfigError
from .loading import load_config
from .model import (
    CONFIG_NAME,
    Config,
    FactusolConfig,
    PrestashopConfig,
    SshConfig,
    WebserviceConfig,
    default_rules_dir,
)
from .mysql_url import TLS_MODES, parse_mysql_url
from .reader import KEYS
from .redaction import (
    MASK,
    RedactingFilter,
    expand_env,
    install_log_redaction,
    redact,
    register_config_secrets,
    register_secret,
)
from .shop_sections import webservice_url_problem
from .template import CONFIG_TEMPLATE, render_config
from .validation import database_path, validate

__all__ = [
    "CONFIG_NAME",
    "CONFIG_TEMPLATE",
    "KEYS",
    "MASK",
    "TLS_MODES",
    "Config",
    "ConfigError",
    "FactusolConfig",
    "PrestashopConfig",
    "RedactingFilter",
    "SshConfig",
    "WebserviceConfig",
    "database_path",
    "default_rules_dir",
    "expand_env",
    "install_log_redaction",
    "load_config",
    "parse_mysql_url",
    "redact",
    "register_config_secrets",
    "register_secret",
    "render_config",
    "validate",
    "webservice_url_problem",
]
