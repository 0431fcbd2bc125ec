"""`replicator init` writes replicator.yaml through the YAML library: Windows paths come back exactly as given.

Drive paths with spaces and backslashes, UNC paths and the data folder + company code are each written by
`init` and read back by `load_config`, and the file keeps its comments.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from replicator.cli import main
from replicator.config import ConfigError, load_config, render_config

ACCESS = "DRIVER={Microsoft Access Driver (*.mdb, *.accdb)};DBQ="
DRIVE_FILE = r"C:\Software DELSOL\FACTUSOL\Datos\FS\0012026.accdb"
UNC_FILE = r"\\SERVIDOR\FACTUSOL\Datos\FS\0012026.accdb"
SHOP = "mysql://prestashop:${PS_DB_PASSWORD}@127.0.0.1:3306/prestashop"


def _init(tmp_path, *args: str):
    assert main(["init", str(tmp_path), "--prestashop", SHOP, *args]) == 0
    path = tmp_path / "replicator.yaml"
    return path, YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("file", [DRIVE_FILE, UNC_FILE], ids=["drive-with-spaces", "unc"])
def test_a_windows_file_in_the_connection_string_round_trips(tmp_path, monkeypatch, capsys, file):
    monkeypatch.setenv("PS_DB_PASSWORD", "x")
    connection = f"{ACCESS}{file};Mode=Share Deny None"
    path, data = _init(tmp_path, "--factusol", connection)
    assert data["factusol"]["connection"] == connection
    assert data["factusol"]["file"] == file
    config = load_config(path, check_files=False)  # the daemon's own reading of the file
    assert config.factusol.connection == connection
    assert str(config.factusol.file) == file
    assert "wrote" in capsys.readouterr().out


def test_data_folder_and_company_code_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PS_DB_PASSWORD", "x")
    folder = r"\\SERVIDOR\FACTUSOL\Datos\FS"
    path, data = _init(tmp_path, "--data-dir", folder, "--company", "001")
    assert data["factusol"]["data_dir"] == folder
    assert data["factusol"]["company"] == "001"  # a string, not the number 1
    assert "file" not in data["factusol"]
    config = load_config(path, check_files=False)
    assert str(config.factusol.data_dir) == folder
    assert config.factusol.company == "001"


def test_data_folder_needs_a_company(tmp_path, capsys):
    assert main(["init", str(tmp_path), "--data-dir", r"C:\Datos\FS"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--company" in err and "Traceback" not in err
    assert not (tmp_path / "replicator.yaml").exists()


def test_characters_yaml_treats_specially_are_kept(tmp_path):
    """Quotes, '#', ': ' and a ${ENV} reference inside the connection string survive the trip."""
    connection = f"{ACCESS}{DRIVE_FILE};PWD=${{FS_PASSWORD}};Extended Properties=\"a: b #c\"; 'x'"
    data = YAML(typ="safe").load(render_config(connection, SHOP))
    assert data["factusol"]["connection"] == connection
    assert data["prestashop"]["url"] == SHOP


def test_the_written_file_keeps_its_comments(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PS_DB_PASSWORD", "x")
    path, _ = _init(tmp_path, "--factusol", f"{ACCESS}{DRIVE_FILE}")
    text = path.read_text(encoding="utf-8")
    for comment in (
        "# FactuSOL <-> PrestaShop replicator configuration.",
        "# pyodbc connection string.",
        "# safety rescan when file events don't arrive",
        "# table prefix",
        "# process | thread",
        "# file: replicator.log",
    ):
        assert comment in text
    assert "apply_interval_seconds: 2\n" in text


def test_fast_executemany_is_off_unless_the_config_turns_it_on(tmp_path):
    (tmp_path / "rules").mkdir()
    path = tmp_path / "replicator.yaml"
    base = "prestashop:\n  url: mysql://root@127.0.0.1/shop\nfactusol:\n  file: a.accdb\n"
    path.write_text(base, encoding="utf-8")
    assert load_config(path, check_files=False).factusol.fast_executemany is False
    path.write_text(base + "  fast_executemany: true\n", encoding="utf-8")
    assert load_config(path, check_files=False).factusol.fast_executemany is True
    path.write_text(base + "  fast_executemany: 'yes'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="factusol.fast_executemany: expected true or false"):
        load_config(path, check_files=False)
