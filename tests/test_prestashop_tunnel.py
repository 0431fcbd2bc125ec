"""The SSH tunnel against a real OpenSSH server on loopback: host key checks, bad inputs in one sentence, polling
and the binlog stream through it, and a dropped SSH session retried without losing a change."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from _sshd import Sshd, keygen
from replicator.prestashop.binlog import BinlogCapture, ensure_ledger_table
from replicator.config import PrestashopConfig, SshConfig
from replicator.prestashop.chunkpoll import ChunkPoller, run_chunk_poller
from replicator.prestashop.schema import create_schema
from replicator.prestashop.tunnel import Tunnel, TunnelError, open_client, routed_url
from replicator.store import Store

pytestmark = pytest.mark.mysql


@pytest.fixture
def sshd(tmp_path):
    folder = tmp_path / "sshd"
    folder.mkdir()
    server = Sshd(folder).start()
    yield server
    server.stop()


def settings(sshd: Sshd, **kw) -> SshConfig:
    return replace(
        SshConfig(
            host="127.0.0.1",
            port=sshd.port,
            user=sshd.user,
            key_file=sshd.client_key,
            known_hosts=sshd.known_hosts,
            timeout=5,
        ),
        **kw,
    )


def stock(conn, i, qty):
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, id_shop, "
            "id_shop_group, quantity) VALUES (%s, %s, 0, 1, 0, %s) ON DUPLICATE KEY UPDATE quantity = %s",
            (i, i, qty, qty),
        )


def test_bad_inputs_are_one_sentence_each(sshd, tmp_path):
    with pytest.raises(TunnelError) as info:  # nothing listens there
        open_client(settings(sshd, port=sshd.port + 1 if sshd.port < 65535 else 1))
    assert info.value.sentence.startswith("cannot reach the SSH host 127.0.0.1:")
    other = tmp_path / "known_hosts_other"
    pub = keygen(tmp_path / "not_the_host").with_suffix(".pub").read_text().split()
    other.write_text(f"[127.0.0.1]:{sshd.port} {pub[0]} {pub[1]}\n")
    with pytest.raises(TunnelError) as info:
        open_client(settings(sshd, known_hosts=other))
    assert "does not match" in info.value.sentence and "refused" in info.value.sentence
    with pytest.raises(TunnelError) as info:
        open_client(settings(sshd, key_file=keygen(tmp_path / "stranger")))
    assert "refused the key" in info.value.sentence
    unknown = tmp_path / "empty_known_hosts"
    with pytest.raises(TunnelError) as info:
        open_client(settings(sshd, known_hosts=unknown))
    assert "is not in" in info.value.sentence and "replicator ssh trust" in info.value.sentence
    assert not unknown.exists()
    for sentence in ():
        assert "\n" not in sentence
    # accepted explicitly: written to known_hosts, then checked like any other
    open_client(settings(sshd, known_hosts=unknown, accept_new_host_key=True)).close()
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519 " in unknown.read_text()
    open_client(settings(sshd, known_hosts=unknown)).close()


def test_polling_and_the_binlog_stream_go_through_the_tunnel(sshd, mysql_server, mysql_db, tmp_path):
    conn = mysql_server.connect(mysql_db)
    create_schema(conn, "8", "ps_")
    ensure_ledger_table(conn, "ps_")
    stock(conn, 1, 5)
    url = mysql_server.database_url(mysql_db)
    from urllib.parse import urlparse

    target = urlparse(url)
    tunnel = Tunnel(settings(sshd), target.hostname, target.port).start()
    try:
        cfg = PrestashopConfig(url=routed_url(url, tunnel.local_port), prefix="ps_", server_id=7401)
        assert f"127.0.0.1:{tunnel.local_port}/" in cfg.url
        store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
        poller = ChunkPoller(store, cfg, initial_load=True)
        assert poller.poll().changes == 1  # the initial read
        stock(conn, 1, 7)
        assert poller.poll().changes == 1
        binlog = BinlogCapture(store, cfg)
        binlog.capture()  # position taken through the tunnel
        stock(conn, 2, 3)
        assert binlog.capture().changes == 1
        # The SSH session drops: the poll says why in one sentence; once sshd is back nothing is lost.
        stop = threading.Event()
        thread = threading.Thread(target=run_chunk_poller, args=(poller, stop, 0.1))
        thread.start()
        try:
            sshd.stop()
            stock(conn, 1, 9)
            deadline = time.monotonic() + 30
            while "SSH host" not in poller.status.last_error and time.monotonic() < deadline:
                time.sleep(0.05)
            assert poller.status.last_error.startswith("cannot reach the SSH host 127.0.0.1:"), poller.status
            assert poller.status.state == "retrying"
            sshd.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(
                c.after and '"quantity":9' in c.after for c in store.changes()
            ):
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join(30)
        quantities = [c.after for c in store.changes() if c.after and '"id_stock_available":1' in c.after]
        assert len([q for q in quantities if '"quantity":9' in q]) == 1
    finally:
        tunnel.stop()
        conn.close()


def test_the_service_start_says_why_the_tunnel_is_down_and_retries_until_it_opens(
    sshd, mysql_server, mysql_db, tmp_path, caplog
):
    import logging
    from pathlib import Path

    from replicator.config import Config
    from replicator.hosting import grant_problems, prepare_shop
    from replicator.prestashop import tunnel as tunnel_module

    url = mysql_server.database_url(mysql_db)
    config = Config(
        path=tmp_path / "replicator.yaml",
        store="sqlite://",
        rules_dir=Path("."),
        prestashop=PrestashopConfig(url=url, prefix="ps_", capture="poll", ssh=settings(sshd)),
    )
    sshd.stop()
    stop = threading.Event()
    failure: list[BaseException] = []

    def start():
        try:
            prepare_shop(config, retry=True, stop=stop)
        except BaseException as exc:  # surfaced by the assertions below
            failure.append(exc)

    with caplog.at_level(logging.ERROR, logger="replicator"):
        thread = threading.Thread(target=start)
        thread.start()
        deadline = time.monotonic() + 20
        while "retrying in" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "cannot reach the SSH host 127.0.0.1:" in caplog.text and "retrying in 2 s" in caplog.text
        sshd.start()
        thread.join(30)
    assert not thread.is_alive() and not failure
    assert config.prestashop.url != url and config.prestashop.routed_url == config.prestashop.url
    # the grants check other tools call goes through the same tunnel; the fresh database has no ledger table
    problems = grant_problems(config)
    assert len(problems) == 1 and "ledger table ps_replicator_ledger is missing" in problems[0]
    for t in list(tunnel_module._LIVE):
        if t.ssh.port == sshd.port:
            t.stop()


def test_ssh_trust_shows_the_fingerprint_and_writes_known_hosts_once_accepted(sshd, tmp_path):
    import subprocess
    import sys

    (tmp_path / "rules").mkdir()
    known = tmp_path / "trusted_hosts"
    config = tmp_path / "replicator.yaml"
    config.write_text(
        "factusol:\n  file: a.sqlite\nprestashop:\n  url: mysql://u@127.0.0.1:3306/shop\n  ssh:\n"
        f"    host: 127.0.0.1\n    port: {sshd.port}\n    user: {sshd.user}\n"
        f"    key_file: {sshd.client_key}\n    known_hosts: {known}\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "replicator.cli", "ssh", "trust", "--config", str(config)]
    refused = subprocess.run(command, input="n\n", capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "SHA256:" in refused.stdout and not known.exists()
    accepted = subprocess.run(command + ["--yes"], capture_output=True, text=True, timeout=60)
    assert accepted.returncode == 0, accepted.stderr
    host_key = (sshd.folder / "host_key.pub").read_text().split()[1]
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519 {host_key}" in known.read_text()
    open_client(settings(sshd, known_hosts=known)).close()
