"""Customers end to end: real MariaDB shop (binlog capture), FactuSOL stand-in through pyodbc, real capture.

Every scenario changes a database the way the program that owns it would (PrestaShop's front/back office writes
customer + address in one transaction; FactuSOL edits F_CLI rows), then runs `capture_once` + `apply_pending`.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.factusol.connection import STATEMENT_LOG, last_statement_seq
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.store import PENDING
from replicator.sync.customers import CustomerSync, normalise_nif

from _sync_env import build, lock_the_file_once_on_read_back, open_env

pytestmark = pytest.mark.mysql


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(
        mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=3, orders=0, workers="thread"
    )  # in-process: tests here look inside the syncs
    e = open_env(config)
    e.runtime.engine.syncs = {"customer": CustomerSync()}  # this module is about customers only
    yield e
    e.close()


def fcli(env, code: int) -> dict:
    return env.fs.query_one("SELECT * FROM [F_CLI] WHERE [CODCLI] = ?", [code])


def code_of(env, ps_id: int) -> int | None:
    link = env.store.map_id("customer", prestashop_id=str(ps_id))
    return int(link.factusol_key) if link else None


def customer_count(env) -> int:
    return env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_CLI]")


def add_shop_customer(
    env, first: str, last: str, email: str, addresses: list[dict], *, company: str = "", guest: bool = False
) -> int:
    """What PrestaShop's registration / guest checkout writes: customer, its group and addresses, one transaction."""
    shop = env.shop
    now = shop.now()
    with shop.transaction() as cur:
        cid = shop.execute(
            "INSERT INTO {p}customer (id_shop_group, id_shop, id_gender, id_default_group, id_lang, id_risk, company,"
            " firstname, lastname, email, passwd, last_passwd_gen, birthday, newsletter, optin, secure_key, active,"
            " is_guest, deleted, date_add, date_upd, newsletter_date_add, outstanding_allow_amount,"
            " show_public_prices, max_payment_days) VALUES (1, 1, 0, %s, 2, 0, %s, %s, %s, %s, %s, %s,"
            " '0000-00-00', 0, 0, %s, 1, %s, 0, %s, %s, '0000-00-00 00:00:00', 0, 0, 0)",
            (
                2 if guest else 3,
                company or None,
                first,
                last,
                email,
                "$2y$10$" + "x" * 53,
                now,
                "k" * 32,
                int(guest),
                now,
                now,
            ),
            cursor=cur,
        )
        shop.execute(
            "INSERT INTO {p}customer_group (id_customer, id_group) VALUES (%s, %s)",
            (cid, 2 if guest else 3),
            cursor=cur,
        )
        for a in addresses:
            row = dict(
                id_country=6,
                id_state=0,
                id_customer=cid,
                alias="Mi dirección",
                company=company or None,
                lastname=last,
                firstname=first,
                address1="",
                postcode="",
                city="",
                phone="",
                phone_mobile="",
                vat_number=None,
                dni=None,
                date_add=now,
                date_upd=now,
                active=1,
                deleted=0,
            )
            row.update(a)
            shop.execute(
                f"INSERT INTO {{p}}address ({', '.join(f'`{k}`' for k in row)})"
                f" VALUES ({', '.join(['%s'] * len(row))})",
                list(row.values()),
                cursor=cur,
            )
    return cid


def state_id(env, name: str) -> int:
    return env.shop.query_one("SELECT id_state FROM {p}state WHERE name = %s", (name,))["id_state"]


def country_id(env, iso: str) -> int:
    return env.shop.query_one("SELECT id_country FROM {p}country WHERE iso_code = %s", (iso,))["id_country"]


def synced(env):
    """run_once on the fresh pair: baseline capture, initial sync, capture + apply."""
    run_once(env.runtime)
    return env


# ------------------------------------------------------------------------------------------------ new customers


def test_new_registered_customer_becomes_f_cli_with_f_obr_delivery_addresses(env):
    synced(env)
    before = {code_of(env, i) for i in (1, 2, 4)}
    assert all(10000 <= c <= 89999 for c in before)
    madrid, barcelona = state_id(env, "Madrid"), state_id(env, "Barcelona")
    cid = add_shop_customer(
        env,
        "Ana",
        "Ruiz Soler",
        "ana.ruiz@example.com",
        [
            dict(
                alias="Casa",
                address1="Calle de Alcalá 100, 3º",
                postcode="28009",
                city="Madrid",
                id_state=madrid,
                phone="915551234",
                phone_mobile="600111222",
                dni="71234567L",
            ),
            dict(
                alias="Trabajo",
                address1="Paseo de Gracia 21",
                postcode="08007",
                city="Barcelona",
                id_state=barcelona,
                phone="931112233",
            ),
            dict(
                alias="Playa",
                address1="Avenida del Mar 7",
                postcode="03001",
                city="Benidorm " + "x" * 40,
                phone="",
                company="Apartamentos " + "Sol y Playa " * 10,
            ),
        ],
    )
    captured, applied = env.cycle()
    assert captured.prestashop["changes"] >= 1 and applied.outcomes.get("applied") == 1, applied
    code = code_of(env, cid)
    assert code == max(before) + 1  # next free code of the registered range
    row = fcli(env, code)
    assert (row["NOFCLI"], row["NOCCLI"], row["NIFCLI"], row["EMACLI"]) == (
        "Ana Ruiz Soler",
        "Ana Ruiz Soler",
        "71234567L",
        "ana.ruiz@example.com",
    )
    assert (row["TELCLI"], row["MOVCLI"]) == ("915551234", "600111222")
    assert (row["DOMCLI"], row["POBCLI"], row["CPOCLI"], row["PROCLI"], row["PAICLI"]) == (
        "Calle de Alcalá 100, 3º",
        "Madrid",
        "28009",
        "Madrid",
        "ESPAÑA",
    )
    # every extra shop address is an F_OBR row, CODOBR 1..n for this customer, cut to the FactuSOL widths
    obr = env.fs.query("SELECT * FROM [F_OBR] WHERE [CLIOBR] = ? ORDER BY [CODOBR]", [code])
    assert [(o["CODOBR"], o["DIROBR"], o["CPOOBR"], o["POBOBR"]) for o in obr] == [
        (1, "Paseo de Gracia 21", "08007", "Barcelona"),
        (2, "Avenida del Mar 7", "03001", ("Benidorm " + "x" * 40)[:30]),
    ]
    assert obr[0]["NOMOBR"] == "Ana Ruiz Soler" and obr[0]["PROOBR"] == "Barcelona" and obr[0]["TELOBR"] == "931112233"
    assert obr[0]["PAIOBR"] == "ESPAÑA" and obr[1]["NOMOBR"] == ("Apartamentos " + "Sol y Playa " * 10)[:100].strip()
    # idempotent: the replicator's own writes come back as echoes, a second apply writes nothing
    captured, applied = env.cycle()
    assert captured.factusol["changes"] == 0 and captured.prestashop["changes"] == 0
    assert applied.changes == 0 and env.store.changes(status=PENDING) == []
    assert CustomerSync().sync(env.ctx, [f"ps:{cid}"])[f"ps:{cid}"].status == "noop"
    assert env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_OBR] WHERE [CLIOBR] = ?", [code]) == 2
    # a new delivery address added later in the shop gets the next CODOBR
    with env.shop.transaction() as cur:
        env.shop.execute(
            "INSERT INTO {p}address (id_country, id_state, id_customer, alias, lastname, firstname,"
            " address1, postcode, city, phone, phone_mobile, date_add, date_upd, active, deleted)"
            " VALUES (%s, 0, %s, 'Padres', 'Ruiz', 'Ana', 'Rúa Nova 5', '15703', 'Santiago', '', '',"
            " NOW(), NOW(), 1, 0)",
            (country_id(env, "ES"), cid),
            cursor=cur,
        )
    env.cycle()
    obr = env.fs.query("SELECT [CODOBR], [DIROBR] FROM [F_OBR] WHERE [CLIOBR] = ? ORDER BY [CODOBR]", [code])
    assert [(o["CODOBR"], o["DIROBR"]) for o in obr][-1] == (3, "Rúa Nova 5")


def test_company_nif_from_vat_number_and_french_country(env):
    synced(env)
    cid = add_shop_customer(
        env,
        "Luc",
        "Bernard",
        "luc@bernard.example.fr",
        [
            dict(
                address1="3 place Bellecour",
                postcode="69002",
                city="Lyon",
                id_country=country_id(env, "FR"),
                vat_number="FR40303265045",
            )
        ],
        company="Bernard SARL",
    )
    env.cycle()
    row = fcli(env, code_of(env, cid))
    assert row["NOFCLI"] == "Bernard SARL" and row["NOCCLI"] == "Luc Bernard"
    assert row["NIFCLI"] == "FR40303265045" and row["PAICLI"] == "FRANCIA" and row["CPOCLI"] == "69002"


def test_street_too_long_for_domcli_is_quarantined_not_cut(env):
    synced(env)
    cid = add_shop_customer(
        env, "Eva", "Long", "eva@example.com", [dict(address1="Calle " + "x" * 110, postcode="28001", city="Madrid")]
    )
    env.cycle()
    assert code_of(env, cid) is None
    [q] = [q for q in env.store.quarantined() if q.key == f"ps:{cid}"]
    assert q.field == "street" and "100" in q.reason
    # fixed in the shop: goes through and the quarantine is released
    env.shop.execute(
        "UPDATE {p}address SET address1 = 'Calle Corta 1', date_upd = NOW() WHERE id_customer = %s", (cid,)
    )
    env.cycle()
    assert fcli(env, code_of(env, cid))["DOMCLI"] == "Calle Corta 1"
    assert not [q for q in env.store.quarantined() if q.key == f"ps:{cid}"]


# ------------------------------------------------------------------------------------------------ guests


def test_guest_gets_a_code_from_the_guest_range(env):
    synced(env)
    lucia = code_of(env, 3)  # the demo's guest
    assert 90000 <= lucia <= 99999 and fcli(env, lucia)["NOFCLI"] == "Lucía Fernández"
    cid = add_shop_customer(
        env,
        "Tomás",
        "Gil",
        "tomas@example.com",
        [dict(address1="Calle Sol 2", postcode="41001", city="Sevilla")],
        guest=True,
    )
    env.cycle()
    assert code_of(env, cid) == lucia + 1


def test_guest_maps_to_the_configured_cash_customer(env):
    env.rules.entity("customer").options["codes"]["guests"] = {"single": 1}  # "cliente de contado"
    count = customer_count(env)
    synced(env)
    assert customer_count(env) == count + 3  # the three registered demo customers only
    assert code_of(env, 3) is None and env.store.map_id("customer_guest", factusol_key="1:3") is not None
    cid = add_shop_customer(
        env,
        "Tomás",
        "Gil",
        "tomas@example.com",
        [dict(address1="Calle Sol 2", postcode="41001", city="Sevilla")],
        guest=True,
    )
    env.cycle()
    assert customer_count(env) == count + 3 and code_of(env, cid) is None
    from replicator.sync.customers import ensure_factusol_customer

    assert ensure_factusol_customer(env.ctx, cid) == 1  # what its orders will use


# ------------------------------------------------------------------------------------------------ merge


def test_edits_on_both_sides_merge(env):
    synced(env)
    code = code_of(env, 1)  # María
    env.shop.execute("UPDATE {p}customer SET email = 'maria.nueva@example.com', date_upd = NOW() WHERE id_customer = 1")
    fs_writer.update_customer_fields(env.fs, code, {"TELCLI": "699000111"})
    env.cycle()
    assert fcli(env, code)["EMACLI"] == "maria.nueva@example.com" and fcli(env, code)["TELCLI"] == "699000111"
    phone = env.shop.query_one(
        "SELECT phone FROM {p}address WHERE id_customer = 1 AND deleted = 0 ORDER BY id_address LIMIT 1"
    )["phone"]
    assert phone == "699000111"
    assert (
        env.shop.query_one("SELECT email FROM {p}customer WHERE id_customer = 1")["email"] == "maria.nueva@example.com"
    )
    captured, applied = env.cycle()  # our writes are echoes: nothing flows back
    assert captured.changes == 0 and applied.changes == 0
    assert env.store.conflicts() == []


def test_a_file_locked_between_a_write_and_its_read_back_leaves_no_write_behind(env, monkeypatch):
    """FactuSOL (or a backup) takes the file just after our UPDATE of F_CLI, before its image is read back for the
    echo record: the write is rolled back with it, so when the shop edits the customer again the newest value goes
    through, with no conflict against a write of ours the store never heard of."""
    from replicator.factusol.errors import FactusolLockedError

    synced(env)
    code = code_of(env, 1)
    before = fcli(env, code)
    env.shop.execute("UPDATE {p}customer SET lastname = 'Primera', date_upd = NOW() WHERE id_customer = 1")
    calls = lock_the_file_once_on_read_back(monkeypatch, "F_CLI")
    with pytest.raises(FactusolLockedError):
        env.cycle()
    assert calls and fcli(env, code)["NOCCLI"] == before["NOCCLI"]  # the UPDATE went with the transaction
    env.shop.execute("UPDATE {p}customer SET lastname = 'Segunda', date_upd = NOW() WHERE id_customer = 1")
    env.cycle()
    assert "Segunda" in fcli(env, code)["NOCCLI"]
    assert env.store.conflicts() == []
    captured, applied = env.cycle()  # our write is an echo: nothing flows back
    assert applied.changes == 0


def test_a_shop_write_failing_after_the_factusol_write_loses_nothing_and_raises_no_conflict(env, monkeypatch):
    """Both sides edit one customer: the apply writes FactuSOL (the shop's surname), then the shop's write (FactuSOL's
    phone) fails (the shop's server gone).  The retry, after the shop edits the surname again, writes the newest
    surname and the phone, and raises no conflict: our committed FactuSOL write is not taken for a FactuSOL edit."""
    import pymysql

    from replicator.prestashop import write as ps_write

    synced(env)
    code = code_of(env, 1)
    env.shop.execute("UPDATE {p}customer SET lastname = 'Primera', date_upd = NOW() WHERE id_customer = 1")
    fs_writer.update_customer_fields(env.fs, code, {"TELCLI": "611222333"})
    real_update, calls = ps_write.update_customer, []

    def gone_once(*args, **kwargs):
        if not calls:
            calls.append(args[1])
            raise pymysql.err.OperationalError(2013, "Lost connection to server during query")
        return real_update(*args, **kwargs)

    monkeypatch.setattr(ps_write, "update_customer", gone_once)
    with pytest.raises(pymysql.err.OperationalError):
        env.cycle()
    assert calls and "Primera" in fcli(env, code)["NOCCLI"]  # FactuSOL was written before the shop failed
    env.shop.execute("UPDATE {p}customer SET lastname = 'Segunda', date_upd = NOW() WHERE id_customer = 1")
    env.cycle()
    assert "Segunda" in fcli(env, code)["NOCCLI"]
    phone = env.shop.query_one(
        "SELECT phone FROM {p}address WHERE id_customer = 1 AND deleted = 0 ORDER BY id_address LIMIT 1"
    )["phone"]
    assert phone == "611222333"  # what FactuSOL changed still reached the shop
    assert env.store.conflicts() == []


def test_conflicting_nif_edit_parks_a_manual_conflict(env):
    synced(env)
    code = code_of(env, 1)
    env.shop.execute("UPDATE {p}address SET dni = '11111111H', date_upd = NOW() WHERE id_customer = 1")
    fs_writer.update_customer_fields(env.fs, code, {"NIFCLI": "22222222J"})
    env.cycle()
    [conflict] = env.store.conflicts()
    assert (conflict.entity, conflict.key, conflict.field) == ("customer", "ps:1", "nif")
    assert fcli(env, code)["NIFCLI"] == "22222222J"  # neither side overwritten
    assert (
        env.shop.query_one("SELECT dni FROM {p}address WHERE id_customer = 1 AND deleted = 0 LIMIT 1")["dni"]
        == "11111111H"
    )
    # seen again on the next cycle, still one conflict (not a new one per cycle)
    env.shop.execute("UPDATE {p}customer SET date_upd = NOW() WHERE id_customer = 1")
    env.cycle()
    assert len(env.store.conflicts()) == 1


def test_an_edit_applied_while_a_field_waits_for_a_person_is_logged_as_a_warning(env, caplog):
    import logging

    synced(env)
    code = code_of(env, 1)
    env.shop.execute("UPDATE {p}address SET dni = '11111111H', date_upd = NOW() WHERE id_customer = 1")
    fs_writer.update_customer_fields(env.fs, code, {"NIFCLI": "22222222J", "TELCLI": "699000222"})
    with caplog.at_level(logging.INFO, logger="replicator"):
        env.cycle()
    [conflict] = env.store.conflicts()
    assert conflict.field == "nif"
    lines = [r for r in caplog.records if "customer ps:1" in r.getMessage() and "conflict on nif" in r.getMessage()]
    assert lines and all(r.levelno == logging.WARNING for r in lines)  # a person must act: not an INFO line
    assert "parked for review" in lines[0].getMessage()


@pytest.mark.parametrize("newer", ["factusol", "prestashop"])
def test_newest_wins_field_resolves_by_timestamps(env, newer):
    synced(env)
    code = code_of(env, 1)
    fs_time, ps_time = (
        (datetime(2031, 1, 1, 12), datetime(2031, 1, 1, 11))
        if newer == "factusol"
        else (datetime(2031, 1, 1, 11), datetime(2031, 1, 1, 12))
    )
    env.shop.execute(
        "UPDATE {p}customer SET email = 'shop@example.com', date_upd = %s WHERE id_customer = 1", (ps_time,)
    )
    fs_writer.update_customer_fields(env.fs, code, {"EMACLI": "erp@example.com", "FUMCLI": fs_time})
    env.cycle()
    winner = "erp@example.com" if newer == "factusol" else "shop@example.com"
    assert fcli(env, code)["EMACLI"] == winner
    assert env.shop.query_one("SELECT email FROM {p}customer WHERE id_customer = 1")["email"] == winner
    assert env.store.conflicts() == []


# ------------------------------------------------------------------------------------------------ first link


def test_first_sync_links_by_nif_then_email_and_quarantines_ambiguous_nif(env):
    fs_writer.insert_row(
        env.fs,
        "F_CLI",
        {
            "CODCLI": 500,
            "NOFCLI": "MARIA GARCIA LOPEZ",
            "NIFCLI": "12.345.678-z",
            "EMACLI": "otra@example.com",
            "TELCLI": "",
        },
    )
    fs_writer.insert_row(
        env.fs, "F_CLI", {"CODCLI": 501, "NOFCLI": "PIERRE MARTIN", "NIFCLI": "", "EMACLI": "Pierre.Martin@example.fr"}
    )
    for code in (502, 503):  # two FactuSOL customers with Jordi's NIF: which one is his?
        fs_writer.insert_row(env.fs, "F_CLI", {"CODCLI": code, "NOFCLI": f"PUIG SERRA {code}", "NIFCLI": "B12345674"})
    count = customer_count(env)
    synced(env)
    assert code_of(env, 1) == 500 and code_of(env, 4) == 501
    assert code_of(env, 2) is None
    [q] = [q for q in env.store.quarantined() if q.entity == "customer"]
    assert q.key == "ps:2" and "ambiguous" in q.reason and "502" in q.reason and "503" in q.reason
    assert customer_count(env) == count + 1  # only the guest Lucía was created
    # nothing existing was overwritten, blanks were filled
    assert fcli(env, 500)["NOFCLI"] == "MARIA GARCIA LOPEZ" and fcli(env, 500)["EMACLI"] == "otra@example.com"
    assert fcli(env, 500)["TELCLI"] == "612345678"
    # running again creates no duplicates
    run_once(env.runtime)
    env.runtime.engine.initial_sync()
    assert customer_count(env) == count + 1
    # the person fixes the duplicate: the retry links Jordi
    fs_writer.update_customer_fields(env.fs, 503, {"NIFCLI": "B00000000"})
    env.runtime.engine.retry_due = 0.0  # the quarantine retry interval has passed
    env.cycle()
    assert code_of(env, 2) == 502
    assert normalise_nif("ESB12345674") == "B12345674"


# ------------------------------------------------------------------------------------------------ deletes


@pytest.mark.parametrize("action", ["keep", "block", "anonymise"])
def test_customer_deleted_in_the_shop(env, action):
    env.rules.entity("customer").options["gdpr"]["on_delete"] = action
    synced(env)
    code = code_of(env, 4)  # Pierre: no orders in FactuSOL, deleted for real in the shop
    before = fcli(env, code)
    with env.shop.transaction() as cur:
        env.shop.execute("DELETE FROM {p}customer_group WHERE id_customer = 4", cursor=cur)
        env.shop.execute("UPDATE {p}address SET deleted = 1 WHERE id_customer = 4", cursor=cur)
        env.shop.execute("DELETE FROM {p}customer WHERE id_customer = 4", cursor=cur)
    env.cycle()
    after = fcli(env, code)
    assert after is not None  # never a delete of the F_CLI row
    if action == "keep":
        assert after == before
    elif action == "block":
        assert after["ESTCLI"] == 3 and after["NOFCLI"] == before["NOFCLI"]
    else:
        assert after["EMACLI"] == "ANONIMIZADO" and after["TELCLI"] == "ANONIMIZADO"
        assert after["DOMCLI"] == "ANONIMIZADO" and after["NIFCLI"] == before["NIFCLI"]
    captured, applied = env.cycle()
    assert captured.changes == 0 and applied.changes == 0
    # a soft delete (customer.deleted = 1) is treated the same way
    env.shop.execute("UPDATE {p}customer SET deleted = 1, date_upd = NOW() WHERE id_customer = 1")
    env.cycle()
    assert fcli(env, code_of(env, 1)) is not None


# ------------------------------------------------------------------------------------------------ bulk creation


def _max_code(env, lo: int, hi: int) -> int:
    return env.fs.scalar("SELECT MAX([CODCLI]) AS [M] FROM [F_CLI] WHERE [CODCLI] BETWEEN ? AND ?", [lo, hi]) or lo - 1


def test_many_new_customers_are_created_in_bulk_with_consecutive_codes(env, monkeypatch):
    import replicator.sync.customer_create as customer_create

    monkeypatch.setattr(customer_create, "CREATE_CHUNK", 128)  # several chunks (one FactuSOL transaction each)
    registered_top, guest_top = _max_code(env, 10000, 89999), _max_code(env, 90000, 99999)
    count = customer_count(env)
    made, extra, bad = {}, {}, None
    for i in range(300):
        guest = i % 3 == 2
        addresses = [dict(address1=f"Calle Mayor {i}", postcode="28013", city="Madrid")]
        if i % 5 == 0:
            addresses += [
                dict(alias="Envío", address1=f"Calle Envío {i}", postcode="41001", city="Sevilla"),
                dict(alias="Otra", address1=f"Calle Otra {i}", postcode="46001", city="Valencia"),
            ]
        if i == 150:
            addresses = [dict(address1="Calle " + "x" * 110, postcode="28001", city="Madrid")]  # street: fit reject
        cid = add_shop_customer(env, f"Nombre{i}", f"Apellido{i}", f"bulk{i}@example.com", addresses, guest=guest)
        if i == 150:
            bad = cid
            continue
        made[cid] = guest
        if i % 5 == 0:
            extra[cid] = [f"Calle Envío {i}", f"Calle Otra {i}"]
    seq = last_statement_seq()
    synced(env)
    # each chunk reads its new rows back by one range per code range, not by IN lists of codes
    reads = [r.sql for r in STATEMENT_LOG if r.seq > seq and r.sent and r.sql.startswith("SELECT * FROM [F_")]
    assert not [s for s in reads if " IN (" in s]
    assert reads.count("SELECT * FROM [F_CLI] WHERE [CODCLI] BETWEEN ? AND ?") == 2 * 3  # 3 chunks, 2 ranges each
    # the bad customer alone is quarantined, with its reason; everyone else is in FactuSOL
    assert code_of(env, bad) is None
    [q] = [q for q in env.store.quarantined() if q.key == f"ps:{bad}"]
    assert q.field == "street" and "100" in q.reason
    registered = [code_of(env, cid) for cid in [1, 2, 4] + sorted(c for c, g in made.items() if not g)]
    guests = [code_of(env, cid) for cid in [3] + sorted(c for c, g in made.items() if g)]
    assert registered == list(range(registered_top + 1, registered_top + 1 + len(registered)))
    assert guests == list(range(guest_top + 1, guest_top + 1 + len(guests)))
    assert registered[-1] <= 89999 and guests[-1] <= 99999
    assert customer_count(env) == count + len(registered) + len(guests)
    some = next(iter(made))
    assert fcli(env, code_of(env, some))["EMACLI"] == f"bulk{0}@example.com"
    for cid, streets in extra.items():
        code = code_of(env, cid)
        obr = env.fs.query("SELECT [CODOBR], [DIROBR] FROM [F_OBR] WHERE [CLIOBR] = ? ORDER BY [CODOBR]", [code])
        assert [(o["CODOBR"], o["DIROBR"]) for o in obr] == [(1, streets[0]), (2, streets[1])]
        assert env.store.map_id("address", factusol_key=f"{code}:2") is not None
    obr_total = env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_OBR]")
    # the capture sees every row we wrote as our own echo: nothing comes back, nothing is applied again
    captured, applied = env.cycle()
    assert captured.factusol["changes"] == 0 and captured.prestashop["changes"] == 0
    assert applied.changes == 0 and env.store.changes(status=PENDING) == []
    # exactly once: another initial sync links nothing new and creates nothing
    env.runtime.engine.initial_sync()
    assert customer_count(env) == count + len(registered) + len(guests)
    assert env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_OBR]") == obr_total
    assert len(env.store.id_map("customer")) == len(registered) + len(guests)
    captured, applied = env.cycle()
    assert captured.changes == 0 and applied.changes == 0


def test_bulk_insert_retries_a_chunk_on_collision_and_leaves_a_full_range_out(env):
    from replicator.factusol.connection import STATEMENT_HOOKS

    state = {"done": False}

    def steal(rec):  # another writer takes a code between our MAX read and our INSERT
        if not state["done"] and rec.sql.startswith("INSERT INTO [F_CLI]"):
            state["done"] = True
            env.fs.execute("INSERT INTO [F_CLI] ([CODCLI], [NOFCLI]) VALUES (?, ?)", [50001, "Otro proceso"])

    items = [
        ((50000, 50002), {"NOFCLI": f"Cliente {i}"}, [{"DIROBR": f"Calle {i}"}] if i == 1 else []) for i in range(4)
    ]
    STATEMENT_HOOKS.append(steal)
    try:
        result = fs_writer.insert_customers(env.fs, items)
    finally:
        STATEMENT_HOOKS.remove(steal)
    assert state["done"]
    assert result == [(50000, []), (50001, [1]), (50002, []), None]  # the 4th did not fit in 50000..50002
    assert [
        r["NOFCLI"]
        for r in env.fs.query(
            "SELECT [NOFCLI] FROM [F_CLI] WHERE [CODCLI] BETWEEN ? AND ? ORDER BY [CODCLI]", [50000, 50002]
        )
    ] == ["Cliente 0", "Cliente 1", "Cliente 2"]
    assert env.fs.scalar("SELECT [DIROBR] FROM [F_OBR] WHERE [CLIOBR] = ? AND [CODOBR] = 1", [50001]) == "Calle 1"
