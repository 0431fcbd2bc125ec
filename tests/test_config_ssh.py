"""`prestashop.ssh` in replicator.yaml: parsed with paths beside the file, secrets redacted, mistakes named; the
routed URL keeps the user, password, database and options."""

from __future__ import annotations

import pytest

from replicator.config import ConfigError, load_config, redact
from replicator.prestashop.tunnel import routed_url

BASE = "factusol:\n  file: a.sqlite\nprestashop:\n  url: mysql://shop:pw-shop@127.0.0.1:3306/shop\n"


def write(tmp_path, ssh: str):
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "id_ed25519").write_text("key")
    (tmp_path / "a.sqlite").touch()  # the FactuSOL file must exist (it is never created)
    path = tmp_path / "replicator.yaml"
    path.write_text(BASE + "  ssh:\n" + "".join(f"    {line}\n" for line in ssh.splitlines()), encoding="utf-8")
    return path


def test_ssh_section_is_read_with_paths_beside_the_file_and_secrets_hidden(tmp_path, monkeypatch):
    monkeypatch.setenv("SSH_KEY_PASS", "passphrase-9f3k")
    config = load_config(
        write(tmp_path, "host: ssh.example.com\nuser: shop\nkey_file: id_ed25519\npassphrase: ${SSH_KEY_PASS}")
    )
    ssh = config.prestashop.ssh
    assert (ssh.host, ssh.port, ssh.user) == ("ssh.example.com", 22, "shop")
    assert ssh.key_file == tmp_path / "id_ed25519" and ssh.known_hosts == tmp_path / "known_hosts"
    assert ssh.passphrase == "passphrase-9f3k" and not ssh.accept_new_host_key
    assert "passphrase-9f3k" not in redact(f"key {ssh.passphrase}")
    assert config.describe()["prestashop"]["ssh"] == "shop@ssh.example.com:22"


@pytest.mark.parametrize(
    "body, message",
    [
        ("host: h\nkey_file: id_ed25519", "prestashop.ssh.user: required"),
        ("host: h\nuser: u", "give key_file"),
        ("host: h\nuser: u\nkey_file: missing_key", "missing_key does not exist"),
        (
            "host: h\nuser: u\nkey_file: id_ed25519\nknownhosts: x",
            "prestashop.ssh.knownhosts: unknown key; did you mean known_hosts?",
        ),
        ("host: h\nuser: u\nkey_file: id_ed25519\naccept_new_host_key: 'yes'", "must be true or false"),
    ],
)
def test_ssh_mistakes_are_named(tmp_path, body, message):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, body))
    assert message in str(info.value)


def test_the_routed_url_points_at_the_tunnel_and_keeps_the_rest():
    url = "mysql://shop:p%40ss@db.internal:3307/shop?ssl_mode=verify_ca&ssl_ca=ca.pem"
    assert routed_url(url, 40123) == "mysql://shop:p%40ss@127.0.0.1:40123/shop?ssl_mode=verify_ca&ssl_ca=ca.pem"


def test_unknown_ssh_and_webservice_keys_are_named_with_the_nearest_known_one_and_where(tmp_path):
    path = write(tmp_path, "host: h\nuser: u\nkey_file: id_ed25519\ntimeout: 5\nprot: 2222")
    path.write_text(
        path.read_text() + "  webservice:\n    url: https://shop.example.com\n    kye: x\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert f"{path}:9:5: prestashop.ssh.timeout: unknown key; did you mean timeout_seconds?" in lines
    assert f"{path}:10:5: prestashop.ssh.prot: unknown key; did you mean port?" in lines
    assert f"{path}:13:5: prestashop.webservice.kye: unknown key; did you mean key?" in lines


# A password with every character a URL gives a meaning to: / # ? @ and a literal %
HOSTILE = "Xy/7#q?z@k%w:v"


def _hostile_url(host_part: str = "db.internal:3307") -> str:
    return f"mysql://shop:{HOSTILE}@{host_part}/shop?ssl_mode=verify_ca&ssl_ca=ca.pem"


def test_the_routed_url_keeps_a_password_holding_url_characters():
    from replicator.config import parse_mysql_url

    routed = routed_url(_hostile_url(), 40123)
    assert routed == f"mysql://shop:{HOSTILE}@127.0.0.1:40123/shop?ssl_mode=verify_ca&ssl_ca=ca.pem"
    params = parse_mysql_url(routed)
    assert (params["host"], params["port"], params["user"], params["database"]) == ("127.0.0.1", 40123, "shop", "shop")
    assert params["password"] == HOSTILE


def test_a_url_the_tunnel_cannot_route_is_refused_without_a_fragment_of_the_password():
    for bad in (_hostile_url("db.internal:99999"), _hostile_url("db internal")):
        with pytest.raises(ValueError) as info:
            routed_url(bad, 40123)
        message = str(info.value)
        fragments = {HOSTILE[i : i + 3] for i in range(len(HOSTILE) - 2)}
        assert not [f for f in fragments if f in message], message
