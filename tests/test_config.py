"""replicator.yaml: loading, ${ENV} secrets, validation messages, and secrets never shown."""

from __future__ import annotations

import logging

import pytest

from replicator.config import ConfigError, install_log_redaction, load_config, redact, render_config

SECRET = "s3cr3t-Pa55"


def write_config(tmp_path, body: str):
    (tmp_path / "rules").mkdir(exist_ok=True)
    for name in ("a", "a.sqlite", "fs.sqlite", "FS/0012026.sqlite"):  # the FactuSOL files the configs name
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    path = tmp_path / "replicator.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_env_secret_is_expanded_and_redacted_everywhere(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PS_DB_PASSWORD", SECRET)
    path = write_config(
        tmp_path,
        render_config(
            "DRIVER={SQLite3};Database=fs.sqlite", "mysql://shop:${PS_DB_PASSWORD}@db.example:3306/prestashop"
        ),
    )
    config = load_config(path)
    assert config.prestashop.url == f"mysql://shop:{SECRET}@db.example:3306/prestashop"
    assert SECRET not in str(config.describe())
    assert "***" in config.describe()["prestashop"]["url"]
    # a library error quoting the URL must not leak it either
    assert SECRET not in redact(f"cannot connect to {config.prestashop.url}: refused")
    logger = logging.getLogger("replicator.test")
    install_log_redaction(logger)
    with caplog.at_level(logging.INFO, logger="replicator.test"):
        logger.info("connecting with %s", config.prestashop.url)
    assert SECRET not in caplog.text
    assert "connecting with" in caplog.text


def test_initial_sync_workers_default_to_a_child_process(tmp_path):
    base = "factusol:\n  file: a.sqlite\nprestashop:\n  url: mysql://root@127.0.0.1/shop\n"
    assert load_config(write_config(tmp_path, base)).initial_sync_workers == "process"
    assert load_config(write_config(tmp_path, base + "initial_sync_workers: thread\n")).initial_sync_workers == "thread"


def test_safety_rescans_default_to_a_minute_and_a_full_one_every_quarter_hour(tmp_path):
    base = "factusol:\n  file: a.sqlite\nprestashop:\n  url: mysql://root@127.0.0.1/shop\n"
    fs = load_config(write_config(tmp_path, base)).factusol
    assert (fs.rescan_seconds, fs.full_rescan_seconds) == (60.0, 900.0)
    custom = base.replace("a.sqlite\n", "a.sqlite\n  full_rescan_seconds: 300\n")
    assert load_config(write_config(tmp_path, custom)).factusol.full_rescan_seconds == 300.0
    assert fs.rescan_unchanged_file is False  # a file at rest is not rescanned unless asked
    always = base.replace("a.sqlite\n", "a.sqlite\n  rescan_unchanged_file: true\n")
    assert load_config(write_config(tmp_path, always)).factusol.rescan_unchanged_file is True


def test_relative_paths_are_relative_to_the_file(tmp_path):
    path = write_config(
        tmp_path,
        "store: sqlite:///state.sqlite\nfactusol:\n  file: FS/0012026.sqlite\n"
        "prestashop:\n  url: mysql://root@127.0.0.1/shop\n",
    )
    config = load_config(path)
    assert config.store == f"sqlite:///{tmp_path / 'state.sqlite'}"
    assert config.factusol.file == tmp_path / "FS" / "0012026.sqlite"
    assert config.rules_dir == tmp_path / "rules"


@pytest.mark.parametrize(
    "body, message",
    [
        ("factusol:\n  file: a.sqlite\n", "prestashop.url: the shop database URL is required"),
        (
            "factusol:\n  file: a.sqlite\nprestashop:\n  url: postgres://x/y\n",
            "prestashop.url: must start with mysql://",
        ),
        ("factusol:\n  file: a.sqlite\nprestashop:\n  url: mysql://root@h/\n", "the database name is missing"),
        ("prestashop:\n  url: mysql://root@h/db\n", "factusol: give 'connection', 'file', or 'data_dir'"),
        ("factusol:\n  data_dir: FS\nprestashop:\n  url: mysql://root@h/db\n", "factusol.company"),
        (
            "factusol:\n  file: a\nprestashop:\n  url: mysql://root@h/db\n  capture: sometimes\n",
            "prestashop.capture: must be auto, binlog or poll",
        ),
        (
            "factusol:\n  file: a\nprestashop:\n  url: mysql://root@h/db\ninitial_sync_workers: fork\n",
            "initial_sync_workers: must be process or thread",
        ),
        (
            "factusol:\n  file: a\nprestashop:\n  url: mysql://root@h/db\n  poll_seconds: soon\n",
            "prestashop.poll_seconds: expected a number",
        ),
        (
            "factusol:\n  file: a\n  full_rescan_seconds: hourly\nprestashop:\n  url: mysql://root@h/db\n",
            "factusol.full_rescan_seconds: expected a number",
        ),
        (
            "factusol:\n  file: a\n  rescan_unchanged_file: sometimes\nprestashop:\n  url: mysql://root@h/db\n",
            "factusol.rescan_unchanged_file",
        ),
        ("factusol:\n  file: a\nprestashop:\n  url: mysql://root@h/db\nsurprise: 1\n", "surprise: unknown key"),
        ("factusol: [\n", "not valid YAML"),
        (
            "factusol:\n  file: a\nprestashop:\n  url: mysql://u:${NOT_SET_ANYWHERE}@h/db\n",
            "environment variable NOT_SET_ANYWHERE is not set",
        ),
    ],
)
def test_validation_names_the_key(tmp_path, body, message):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, body))
    assert message in str(info.value)
    assert str(tmp_path / "replicator.yaml") in str(info.value)


def test_yaml_error_points_at_line_and_column(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, "factusol:\n  file: a\n prestashop: [\n"))
    assert f"{tmp_path / 'replicator.yaml'}:3:" in str(info.value)


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="replicator init"):
        load_config(tmp_path / "nope.yaml")
