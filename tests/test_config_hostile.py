"""Malformed replicator.yaml files, one per row: each refused with a message naming the key, never a piece of a
password, never a traceback; and passwords holding URL delimiters read correctly."""

from __future__ import annotations

import pytest

from replicator.config import ConfigError, load_config, redact
from replicator.prestashop.connection import parse_mysql_url

RAW = "Q9z/k#W?x@v%25Zj"  # as written in the URL: / # ? @ raw, a percent-escape
DECODED = "Q9z/k#W?x@v%Zj"
URL = f"mysql://shop:{RAW}@db.example:3306/prestashop"


def fragments(secret: str, size: int = 3) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


SECRET_PIECES = fragments(RAW) | fragments(DECODED) | fragments("Sx;Y}zz9")


def config_text(fs: str = "  file: fs.sqlite\n", ps: str = f"  url: '{URL}'\n", extra: str = "") -> str:
    return f"factusol:\n{fs}prestashop:\n{ps}{extra}"


# (id, replicator.yaml text, the key the message must name, words it must carry)
CASES: list[tuple[str, str | bytes, str, str]] = [
    ("misspelt top key", config_text(extra="stroe: sqlite:///x.sqlite\n"), "stroe", "did you mean store"),
    (
        "misspelt factusol key",
        config_text(fs="  file: fs.sqlite\n  rescan_secs: 10\n"),
        "factusol.rescan_secs",
        "did you mean rescan_seconds",
    ),
    (
        "misspelt prestashop key",
        config_text(ps=f"  url: '{URL}'\n  idshop: 2\n"),
        "prestashop.idshop",
        "did you mean id_shop",
    ),
    ("misspelt log key", config_text(extra="log:\n  levle: INFO\n"), "log.levle", "did you mean level"),
    ("unknown key far from any", config_text(extra="colour: blue\n"), "colour", "known:"),
    (
        "apply interval zero",
        config_text(extra="apply_interval_seconds: 0\n"),
        "apply_interval_seconds",
        "greater than 0",
    ),
    (
        "apply interval negative",
        config_text(extra="apply_interval_seconds: -2\n"),
        "apply_interval_seconds",
        "greater than 0",
    ),
    (
        "rescan negative",
        config_text(fs="  file: fs.sqlite\n  rescan_seconds: -5\n"),
        "factusol.rescan_seconds",
        "greater than 0",
    ),
    (
        "full rescan zero",
        config_text(fs="  file: fs.sqlite\n  full_rescan_seconds: 0\n"),
        "factusol.full_rescan_seconds",
        "greater than 0",
    ),
    (
        "lock retry not a number",
        config_text(fs="  file: fs.sqlite\n  lock_retry_seconds: .nan\n"),
        "factusol.lock_retry_seconds",
        "greater than 0",
    ),
    (
        "debounce negative",
        config_text(fs="  file: fs.sqlite\n  debounce_seconds: -1\n"),
        "factusol.debounce_seconds",
        "at least 0",
    ),
    (
        "timeout zero",
        config_text(fs="  file: fs.sqlite\n  timeout_seconds: 0\n"),
        "factusol.timeout_seconds",
        "greater than 0",
    ),
    ("poll zero", config_text(ps=f"  url: '{URL}'\n  poll_seconds: 0\n"), "prestashop.poll_seconds", "greater than"),
    (
        "poll overlap negative",
        config_text(ps=f"  url: '{URL}'\n  poll_overlap_seconds: -3\n"),
        "prestashop.poll_overlap_seconds",
        "at least 0",
    ),
    (
        "poll as text",
        config_text(ps=f"  url: '{URL}'\n  poll_seconds: soon\n"),
        "prestashop.poll_seconds",
        "expected a number",
    ),
    ("id_shop fraction", config_text(ps=f"  url: '{URL}'\n  id_shop: 1.9\n"), "prestashop.id_shop", "whole number"),
    ("id_shop zero", config_text(ps=f"  url: '{URL}'\n  id_shop: 0\n"), "prestashop.id_shop", "from 1"),
    ("id_shop text", config_text(ps=f"  url: '{URL}'\n  id_shop: one\n"), "prestashop.id_shop", "whole number"),
    ("id_lang boolean", config_text(ps=f"  url: '{URL}'\n  id_lang: true\n"), "prestashop.id_lang", "whole number"),
    (
        "server_id too big",
        config_text(ps=f"  url: '{URL}'\n  server_id: 99999999999\n"),
        "prestashop.server_id",
        "from 1 to",
    ),
    (
        "unknown time zone",
        config_text(ps=f"  url: '{URL}'\n  timezone: Mars/Olympus\n"),
        "prestashop.timezone",
        "Mars/Olympus",
    ),
    ("missing FactuSOL file", config_text(fs="  file: missing.accdb\n"), "factusol.file", "does not exist"),
    ("FactuSOL file is a folder", config_text(fs="  file: rules\n"), "factusol.file", "is a folder"),
    (
        "connection names a missing file",
        config_text(fs="  connection: 'DRIVER={SQLite3};Database=missing.sqlite;PWD={Sx;Y}}zz9}'\n"),
        "factusol.connection",
        "does not exist",
    ),
    (
        "data_dir missing",
        config_text(fs="  data_dir: nowhere\n  company: '001'\n"),
        "factusol.data_dir",
        "does not exist",
    ),
    ("company code bad", config_text(fs="  data_dir: rules\n  company: 'x'\n"), "factusol.company", "3-character"),
    ("factusol is a list", config_text(fs="  - file\n"), "factusol", "mapping"),
    ("file is a list", config_text(fs="  file: [a, b]\n"), "factusol.file", "single value"),
    (
        "log in a missing folder",
        config_text(extra="log:\n  file: no/such/dir/replicator.log\n"),
        "log.file",
        "does not exist",
    ),
    ("log file is a folder", config_text(extra="log:\n  file: rules\n"), "log.file", "is a folder"),
    ("log level unknown", config_text(extra="log:\n  level: LOUD\n"), "log.level", "DEBUG"),
    ("store unknown scheme", config_text(extra=f"store: 'foo://shop:{RAW}@h/db'\n"), "store", "unknown database kind"),
    (
        "store in a missing folder",
        config_text(extra="store: sqlite:///no/such/dir/state.sqlite\n"),
        "store",
        "does not exist",
    ),
    ("store not a URL", config_text(extra="store: just some words\n"), "store", "not a database URL"),
    (
        "store namespace bad",
        config_text(extra="store: postgresql://rep@db.example/state\nstore_namespace: 'Shop One!'\n"),
        "store_namespace",
        "letters",
    ),
    ("store namespace on SQLite", config_text(extra="store_namespace: shop_one\n"), "store_namespace", "PostgreSQL"),
    ("shop URL wrong scheme", config_text(ps=f"  url: 'postgres://shop:{RAW}@h/db'\n"), "prestashop.url", "mysql://"),
    (
        "shop URL bad port",
        config_text(ps=f"  url: 'mysql://shop:{RAW}@db.example:99999/shop'\n"),
        "prestashop.url",
        "port",
    ),
    (
        "shop URL no database",
        config_text(ps=f"  url: 'mysql://shop:{RAW}@db.example'\n"),
        "prestashop.url",
        "database name is missing",
    ),
    (
        "shop URL unknown option",
        config_text(ps=f"  url: 'mysql://shop:{RAW}@h/db?sslmode=on'\n"),
        "prestashop.url",
        "unknown option",
    ),
    ("shop URL without @", config_text(ps="  url: 'mysql://shop:Q9z/k#W?x/shop'\n"), "prestashop.url", ""),
    (
        "shop URL unset variable",
        config_text(ps="  url: 'mysql://shop:${NOT_SET_ANYWHERE_20}@h/db'\n"),
        "prestashop.url",
        "NOT_SET_ANYWHERE_20",
    ),
    ("capture unknown", config_text(ps=f"  url: '{URL}'\n  capture: sometimes\n"), "prestashop.capture", "auto"),
    ("prefix with a quote", config_text(ps=f"  url: '{URL}'\n  prefix: \"ps_'\"\n"), "prestashop.prefix", "letters"),
    ("workers unknown", config_text(extra="initial_sync_workers: fork\n"), "initial_sync_workers", "process"),
    (
        "alias bomb",
        "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdefgh", "bcdefghi")),
        "",
        "alias bomb",
    ),
    ("not UTF-8", config_text().encode() + b"log:\n  file: caf\xe9.log\n", "", "not UTF-8"),
    ("control character", config_text(extra="log:\n  level: IN\x07FO\n"), "", "U+0007"),
    ("not a mapping", "- store\n- rules\n", "", "mapping"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_config_names_the_key_and_no_secret(tmp_path, case):
    name, body, key, words = case
    (tmp_path / "rules").mkdir()
    (tmp_path / "fs.sqlite").touch()
    path = tmp_path / "replicator.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert f": {key}: " in message if key else ":" in message, message
    assert words in message, message
    assert "Traceback" not in message and "Error(" not in message
    leaked = [piece for piece in SECRET_PIECES if piece in message]
    assert not leaked, f"{name}: {leaked} in {message!r}"
    assert not (tmp_path / "missing.accdb").exists() and not (tmp_path / "missing.sqlite").exists()


def test_the_table_has_at_least_thirty_configs():
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    "raw, decoded",
    [
        ("Xy7/ab", "Xy7/ab"),
        ("a#b", "a#b"),
        ("p?w", "p?w"),
        ("p@ss", "p@ss"),
        ("50%off", "50%off"),
        ("p%40ss%2Fw", "p@ss/w"),
        (RAW, DECODED),
        ("::@@//", "::@@//"),
    ],
)
def test_passwords_with_url_delimiters_are_read_whole(tmp_path, raw, decoded):
    params = parse_mysql_url(f"mysql://shop:{raw}@db.example:3307/prestashop?ssl_mode=disabled")
    assert (params["user"], params["password"], params["host"], params["port"], params["database"]) == (
        "shop",
        decoded,
        "db.example",
        3307,
        "prestashop",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "fs.sqlite").touch()
    path = tmp_path / "replicator.yaml"
    path.write_text(config_text(ps=f"  url: 'mysql://shop:{raw}@db.example/prestashop'\n"), encoding="utf-8")
    config = load_config(path)
    assert decoded not in redact(f"connect failed for {decoded}") or len(decoded) < 3
    assert raw not in redact(config.prestashop.url) or len(raw) < 3


def test_a_missing_factusol_file_is_never_created(tmp_path):
    from replicator.factusol.connection import FactusolError, connection_string_for, open_factusol

    missing = tmp_path / "0012026.sqlite"
    with pytest.raises(FactusolError, match="does not exist"):
        open_factusol(connection_string_for(missing))
    assert not missing.exists()
