"""Least privilege against the real MariaDB: `replicator shop-sql` run by an admin is all a poll-mode service needs
(initial sync and live replication as a user with SELECT, INSERT, UPDATE, DELETE only), and a missing grant is
named precisely."""

from __future__ import annotations

import uuid

import pytest

from _service_env import factusol_standin, published_article, start_service, stop_service, wait_for, write_config
from _sshd import Sshd
from replicator.factusol.writer import update_stock
from replicator.prestashop.connection import ShopConnection, connect
from replicator.prestashop.grants import check_grants, check_shop, shop_sql
from replicator.sandbox.shop import create_shop

pytestmark = pytest.mark.mysql


def run_admin_sql(mysql_server, text: str) -> None:
    statements = [
        s.strip()
        for s in "\n".join(line for line in text.splitlines() if not line.startswith("--")).split(";")
        if s.strip()
    ]
    with mysql_server.connect() as root, root.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


@pytest.fixture
def restricted(mysql_server):
    made = []

    def make(database: str, sql: str) -> str:
        user = "rep_" + uuid.uuid4().hex[:8]
        made.append(user)
        run_admin_sql(mysql_server, sql.replace("'replicator'@", f"'{user}'@").replace("<password>", f"pw-{user}"))
        if "root@" not in mysql_server.url:
            pytest.skip("the test server's URL has a password: the user swap below needs root without one")
        return mysql_server.database_url(database).replace("root@", f"{user}:pw-{user}@", 1)

    yield make
    with mysql_server.connect() as root, root.cursor() as cur:
        for user in made:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")


@pytest.mark.parametrize("via_ssh", [False, True], ids=["direct", "ssh"])
def test_a_poll_mode_service_runs_as_a_user_with_table_privileges_only(
    mysql_server, mysql_db, tmp_path, restricted, via_ssh
):
    """The initial sync and live changes both ways; through the SSH tunnel too, which survives an SSH outage."""
    connection = factusol_standin(tmp_path)
    create_shop(mysql_server.url, mysql_db, demo=True)
    url = restricted(mysql_db, shop_sql(mysql_db, "ps_", "poll"))
    assert check_shop(url, "ps_", "poll") == []
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        grants = " ".join(r[0] for r in cur.fetchall())
    assert "CREATE" not in grants.replace("CREATE USER", "") and "REPLICATION" not in grants
    sshd = None
    edits = [("capture: auto", "capture: poll"), ("poll_seconds: 5", "poll_seconds: 0.5")]
    if via_ssh:
        (tmp_path / "sshd").mkdir()
        sshd = Sshd(tmp_path / "sshd").start()
        edits.append(
            (
                "  poll_seconds: 0.5\n",
                "  poll_seconds: 0.5\n  ssh:\n    host: 127.0.0.1\n"
                f"    port: {sshd.port}\n    user: {sshd.user}\n    key_file: {sshd.client_key}\n"
                f"    known_hosts: {sshd.known_hosts}\n",
            )
        )
    config = write_config(tmp_path, connection, url, edits=tuple(edits))
    log_path = tmp_path / "service.log"
    service = start_service(config, log_path)
    try:
        assert wait_for(lambda: "replicator running" in log_path.read_text(), 120), log_path.read_text()[-3000:]
        fs, shop, article, shop_quantity = published_article(connection, url)

        # shop -> FactuSOL: a new shop customer, seen by polling as the restricted user
        now = shop.now()
        with ShopConnection(mysql_server.database_url(mysql_db)) as admin, admin.transaction() as cur:
            cur.execute(
                "INSERT INTO ps_customer (id_shop_group, id_shop, id_gender, id_default_group, id_lang, "
                "id_risk, firstname, lastname, email, passwd, last_passwd_gen, birthday, secure_key, active, "
                "is_guest, deleted, date_add, date_upd, newsletter_date_add) VALUES (1, 1, 0, 3, 2, 0, "
                "'Least', 'Privilege', 'least.privilege@example.com', 'x', %s, '0000-00-00', %s, 1, 0, 0, "
                "%s, %s, '0000-00-00 00:00:00')",
                (now, "k" * 32, now, now),
            )
            cur.execute("INSERT INTO ps_customer_group (id_customer, id_group) VALUES (LAST_INSERT_ID(), 3)")
        assert wait_for(
            lambda: fs.query("SELECT [CODCLI] FROM [F_CLI] WHERE [EMACLI] = ?", ["least.privilege@example.com"]),
            60,
        ), log_path.read_text()[-3000:]
        if via_ssh:  # the SSH server goes away: said in one sentence, retried; nothing is lost once it is back
            assert "SSH tunnel to" in log_path.read_text()
            sshd.stop()
            assert wait_for(lambda: "cannot reach the SSH host" in log_path.read_text(), 30), log_path.read_text()[
                -3000:
            ]
            sshd.start()
        # FactuSOL -> shop: the restricted user writes the stock and its ledger row
        update_stock(fs, article, "GEN", actual=777, available=777)
        assert wait_for(lambda: shop_quantity() >= 770, 60), log_path.read_text()[-3000:]
        # the capture mode and why, where `replicator status` and the TUI read it
        from replicator.store import Store

        store = Store(f"sqlite:///{tmp_path / 'replicator-state.sqlite'}")
        # (after an SSH outage the poller may still be waiting out its backoff)
        status = wait_for(
            lambda: (
                (store.checkpoint("service") or {}).get("capture", {}).get("prestashop", {}).get("state") == "polling"
                and store.checkpoint("service")
            ),
            90,
        )
        assert status["capture"]["prestashop_mode"] == "poll"
        assert status["capture"]["prestashop_mode_why"] == "prestashop.capture is poll"
        assert (
            status["capture"]["prestashop"]["state"] == "polling" and not status["capture"]["prestashop"]["last_error"]
        )
        fs.close()
        shop.close()
    finally:
        code = stop_service(service)
        if sshd:
            sshd.stop()
    text = log_path.read_text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text and "shop grants:" not in text and "command denied" not in text, text[-3000:]


def test_a_missing_grant_and_a_missing_ledger_table_are_named(mysql_server, mysql_db, restricted):
    create_shop(mysql_server.url, mysql_db, demo=False)
    sql = shop_sql(mysql_db, "ps_", "poll").replace("SELECT, INSERT, UPDATE, DELETE", "SELECT, INSERT, UPDATE")
    url = restricted(mysql_db, sql)
    with connect(url) as conn:
        problems = check_grants(conn, "ps_", "poll")
        assert len(problems) == 1, problems
        assert "lacks DELETE on ps_customer, ps_address" in problems[0]
        assert problems[0].endswith(f"GRANT DELETE ON `{mysql_db}`.* TO '{url.split('//')[1].split(':')[0]}'@'%';")
    with mysql_server.connect(mysql_db) as root, root.cursor() as cur:
        cur.execute("DROP TABLE ps_replicator_ledger")
    with connect(url) as conn:
        problems = check_grants(conn, "ps_", "poll")
    assert any("ledger table ps_replicator_ledger is missing" in p and "replicator shop-sql" in p for p in problems)
    assert len(problems) == 2
