"""Masking of credential-like columns in row images, wherever images are shown (CLI `log`, `--json`, the TUI).

Row images are copies of shop and FactuSOL rows; some columns hold credentials or tokens (PrestaShop's
`customer.passwd`, `secure_key`, `reset_password_token`, `employee.api_key`, webservice keys...). Their values
are never shown: one rule, here, decides which columns those are, and every view of an image goes through
`mask_image` (or `mask_field` for one value).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# Matched against the column name, case-insensitively.  Broad on purpose: hiding a harmless column costs a
# look at the database; showing a credential cannot be undone.
_CREDENTIAL = re.compile(
    r"(?i)(passw|passwd|pwd|secure_?key|token|secret|api_?key|apikey|auth_?key|private_?key|"
    r"credential|salt|hash_?pass|^key$|_key$|cookie|session_?id)"
)
# FactuSOL columns whose names do not say it: the customer's web password (F_CLI.CAWCLI) and the online shop's
# key (F_EMP.TVCEMP, "Clave para la tienda virtual").
_FACTUSOL_CREDENTIALS = {"cawcli", "tvcemp"}
# Column names ending in _key that are plain identifiers, not credentials (FactuSOL/replicator bookkeeping).
_NOT_CREDENTIAL = {"row_key", "factusol_key", "id_key", "sort_key", "natural_key", "primary_key"}


def is_credential(column: str) -> bool:
    """True when a column of that name may hold a credential or token, so its value must not be shown."""
    name = str(column).lower()
    if name in _FACTUSOL_CREDENTIALS:
        return True
    return name not in _NOT_CREDENTIAL and bool(_CREDENTIAL.search(name))


def mask_field(column: str, value: Any) -> Any:
    """`value`, or MASK when the column holds a credential (an empty or NULL value stays as it is: it shows
    that nothing is set, not what is)."""
    if value in (None, "") or not is_credential(column):
        return value
    return MASK


def mask_image(image: Any) -> Any:
    """A row image (dict of column -> value) with every credential-like column masked; anything else as is."""
    if not isinstance(image, dict):
        return image
    return {column: mask_field(column, value) for column, value in image.items()}


# 'OperationalError: ', 'pymysql.err.OperationalError: ', 'Error: ' (pyodbc) at the start of an error text
_CLASS_PREFIX = re.compile(r"^(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*)?(?:Error|Exception|Warning|Timeout|Exit): ")


def without_class_name(text: str) -> str:
    """An error text as people read it: the leading exception class name(s) taken off (the message stays)."""
    previous = None
    while text and text != previous:  # 'OperationalError: ProgrammingError: ...' from wrapped errors
        previous, text = text, _CLASS_PREFIX.sub("", text, count=1)
    return text
