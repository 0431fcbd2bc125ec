"""`replicator reconcile` against a real shop and the FactuSOL stand-in: 0 differences after the initial sync;
edits made while the service was stopped and the state store lost are found and repaired through the apply path."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime

import pytest

from replicator.cli import main
from replicator.config import load_config
from replicator.factusol import writer as fs_writer
from replicator.factusol.connection import open_factusol
from replicator.keys import split_doc_key
from replicator.sandbox.demo import add_shop_catalogue
from replicator.sandbox.factusol import create_sandbox
from replicator.prestashop.connection import ShopConnection
from replicator.store import Store

pytestmark = pytest.mark.mysql


@pytest.fixture(autouse=True)
def restore_logging():
    import logging

    root = logging.getLogger()
    handlers, level, filters = root.handlers[:], root.level, root.filters[:]
    yield
    root.handlers[:], root.filters[:] = handlers, filters
    root.setLevel(level)


@pytest.fixture
def installation(mysql_server, mysql_db, tmp_path, capsys):
    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    assert main(["sandbox", "factusol", str(fs_path), "--articles", "30", "--customers", "8"]) == 0
    connection = next(
        line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("DRIVER=")
    )
    assert main(["sandbox", "prestashop", "--mysql", mysql_server.url, "--database", mysql_db, "--demo"]) == 0
    url = mysql_server.url.rstrip("/") + f"/{mysql_db}"
    assert main(["init", str(tmp_path / "conf"), "--factusol", connection, "--prestashop", url]) == 0
    capsys.readouterr()
    config = tmp_path / "conf" / "replicator.yaml"
    assert main(["run", "--config", str(config), "--once"]) == 0
    capsys.readouterr()
    return config


def linked_product(config) -> dict:
    """A shop product the first sync made from a FactuSOL article (FactuSOL owns its name)."""
    reference, product_id = sorted(Store(config.store).id_map("product").items())[0]
    return {"reference": reference, "id_product": int(product_id)}


def reconcile(config, capsys, *extra) -> tuple[int, dict]:
    code = main(["reconcile", "--config", str(config), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_zero_differences_after_the_first_sync_then_edits_with_the_store_lost_are_found_and_repaired(
    installation, capsys
):
    for entity in ("product", "customer"):
        code, report = reconcile(installation, capsys, entity)
        assert (code, report["total"]) == (0, 0), "\n".join(map(str, report["differences"]))
        assert report["checked"][entity] > 0
    # the demo shop's orders name articles this FactuSOL file lacks: no pedido, and the report says why
    code, report = reconcile(installation, capsys, "order")
    assert code == 1 and report["total"] == report["checked"]["order"] > 0
    assert all(
        d["kind"] == "missing_link" and "quarantined: line 1: unknown FactuSOL article" in d["detail"]
        for d in report["differences"]
    )
    config = load_config(installation)
    with ShopConnection(config.prestashop.url, config.prestashop.prefix) as shop:
        product = linked_product(config)
        shop.execute(
            "UPDATE {p}product_lang SET name = 'edited while stopped' WHERE id_product = %s AND id_lang = %s",
            (product["id_product"], shop.id_lang),
        )
    os.remove(config.store.removeprefix("sqlite:///"))  # the state store is lost
    # the service recognises a store that is not the one the shop was written with, and applies nothing
    assert main(["run", "--config", str(installation), "--once"]) == 1
    assert "state store" in capsys.readouterr().err
    assert main(["status", "--config", str(installation)]) == 0
    assert "applying is STOPPED" in capsys.readouterr().out
    assert Store(config.store).id_map("product") == {}  # no initial sync ran on the new store
    code, report = reconcile(installation, capsys, "product")
    assert code == 1 and {d["kind"] for d in report["differences"]} == {"missing_link"}  # no id map any more
    assert any(d["key"] == product["reference"] and "is not linked" in d["detail"] for d in report["differences"])
    code, dry = reconcile(installation, capsys, "product", "--repair", "--dry-run")
    assert code == 1 and dry["repaired"] == {} and dry["remaining"] == dry["total"]
    assert main(["accept-baseline", "--config", str(installation)]) == 0
    assert "accepted: the shop was last written with state store" in capsys.readouterr().out
    for entity in ("product", "customer"):
        code, fixed = reconcile(installation, capsys, entity, "--repair")
        assert (code, fixed["remaining"]) == (0, 0), fixed
        code, report = reconcile(installation, capsys, entity)
        assert (code, report["total"]) == (0, 0), "\n".join(map(str, report["differences"]))
    with ShopConnection(config.prestashop.url, config.prestashop.prefix) as shop:
        name = shop.query_one(
            "SELECT name FROM {p}product_lang WHERE id_product = %s AND id_lang = %s",
            (product["id_product"], shop.id_lang),
        )["name"]
    assert name != "edited while stopped"  # FactuSOL owns the name: the rules' verdict was applied


def test_a_field_drift_with_the_store_kept_is_reported_and_repaired(installation, capsys):
    config = load_config(installation)
    with ShopConnection(config.prestashop.url, config.prestashop.prefix) as shop:
        product = linked_product(config)
        # written as if the replicator's own echo had been lost: the shop drifts without a change being captured
        shop.execute(
            "UPDATE {p}product_lang SET name = 'drifted' WHERE id_product = %s AND id_lang = %s",
            (product["id_product"], shop.id_lang),
        )
    code, report = reconcile(installation, capsys, "product")
    assert code == 1
    [diff] = [d for d in report["differences"] if d["key"] == product["reference"]]
    assert (diff["kind"], diff["field"], diff["prestashop"]) == ("field", "name", "drifted")
    code, fixed = reconcile(installation, capsys, "product", "--repair")
    assert (code, fixed["remaining"]) == (0, 0), fixed


# ------------------------------------------------------------------------------------------------ stock, shipments,
# invoices: a FactuSOL file with the demo shop's catalogue, so the shop's orders become pedidos


def delivery_note(fs, header: dict, number: int, tracking: str, carrier: int) -> None:
    """What FactuSOL writes when it serves a pedido: F_ALB + an F_LAL line with DOC='C' back to it."""
    fs_writer.insert_row(
        fs,
        "F_ALB",
        {
            "TIPALB": "1",
            "CODALB": number,
            "FECALB": datetime(2026, 3, 1),
            "CLIALB": header["CLIPCL"],
            "TRNALB": carrier,
            "CISALB": tracking,
            "TOTALB": header["TOTPCL"],
        },
    )
    fs_writer.insert_row(
        fs,
        "F_LAL",
        {
            "TIPLAL": "1",
            "CODLAL": number,
            "POSLAL": 1,
            "DOCLAL": "C",
            "DTPLAL": header["TIPPCL"],
            "DCOLAL": header["CODPCL"],
        },
    )


def invoice(fs, header: dict, number: int, albaran: int) -> None:
    """The delivery note invoiced (ESTALB 1) by an F_FAC whose F_LFA line points at it, collected (ESTFAC 2)."""
    fs_writer.insert_row(
        fs,
        "F_FAC",
        {
            "TIPFAC": "1",
            "CODFAC": number,
            "FECFAC": datetime(2026, 3, 5),
            "ESTFAC": 2,
            "CLIFAC": header["CLIPCL"],
            "TOTFAC": header["TOTPCL"],
            "BAS1FAC": header["BAS1PCL"],
        },
    )
    fs_writer.insert_row(
        fs, "F_LFA", {"TIPLFA": "1", "CODLFA": number, "POSLFA": 1, "DOCLFA": "A", "DTPLFA": "1", "DCOLFA": albaran}
    )
    fs_writer.update_fields(fs, "F_ALB", {"TIPALB": "1", "CODALB": albaran}, {"ESTALB": 1})


@pytest.fixture
def catalogue_installation(mysql_server, mysql_db, tmp_path, capsys):
    """Both sandboxes, FactuSOL holding the demo shop's catalogue; the first sync made the orders' pedidos; two of
    them are then served (delivery note with tracking), one also invoiced and collected, and applied."""
    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    connection = create_sandbox(str(fs_path), articles=10, customers=4, seed=7)
    add_shop_catalogue(connection)
    assert main(["sandbox", "prestashop", "--mysql", mysql_server.url, "--database", mysql_db, "--demo"]) == 0
    url = mysql_server.url.rstrip("/") + f"/{mysql_db}"
    assert main(["init", str(tmp_path / "conf"), "--factusol", connection, "--prestashop", url]) == 0
    config = tmp_path / "conf" / "replicator.yaml"
    assert main(["run", "--config", str(config), "--once"]) == 0
    orders = sorted(Store(load_config(config).store).id_map("order").items(), key=lambda item: int(item[1]))
    assert len(orders) >= 2, orders
    fs = open_factusol(connection)
    try:
        served = []
        for n, (code, order_id) in enumerate(orders[:2]):
            series, number = split_doc_key(code)
            header = fs.query("SELECT * FROM [F_PCL] WHERE [TIPPCL] = ? AND [CODPCL] = ?", [series, number])[0]
            delivery_note(fs, header, 700 + n, f"SEU{n:07d}", carrier=1)
            served.append((f"ps:{order_id}", header))
        invoice(fs, served[0][1], 90, 700)
    finally:
        fs.close()
    assert main(["run", "--config", str(config), "--once"]) == 0
    capsys.readouterr()
    return config, [key for key, _ in served]


def test_stock_shipments_and_invoices_drifted_while_stopped_are_reported_then_repaired(catalogue_installation, capsys):
    config_path, (invoiced, served) = catalogue_installation
    for entity in ("stock", "shipment", "invoice", "product", "order"):
        code, report = reconcile(config_path, capsys, entity)
        assert (code, report["total"]) == (0, 0), "\n".join(map(str, report["differences"]))
        assert report["checked"][entity] > 0
    config = load_config(config_path)
    store = Store(config.store)
    with ShopConnection(config.prestashop.url, config.prestashop.prefix) as shop:
        product = int(store.id_map("product")["TAZ010"])  # a simple product, stock from FactuSOL's warehouses
        invoiced_id, served_id = (int(k.removeprefix("ps:")) for k in (invoiced, served))
        before = {
            "stock": shop.query_one(
                "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0",
                (product,),
            )["quantity"],
            "state": shop.query_one("SELECT current_state FROM {p}orders WHERE id_order = %s", (served_id,))[
                "current_state"
            ],
        }
        # edits made while the service is stopped, as if their capture had been lost (the sides drift)
        shop.execute(
            "UPDATE {p}stock_available SET quantity = 999 WHERE id_product = %s AND id_product_attribute = 0",
            (product,),
        )
        shop.execute("UPDATE {p}order_carrier SET tracking_number = 'LOST' WHERE id_order = %s", (served_id,))
        shop.execute(
            "UPDATE {p}orders SET current_state = %s WHERE id_order = %s",
            (shop.state_id("PS_OS_PREPARATION"), served_id),
        )
        shop.execute("UPDATE {p}order_invoice SET number = 5 WHERE id_order = %s AND number = 90", (invoiced_id,))
    code, report = reconcile(config_path, capsys)
    assert code == 1
    found = {(d["entity"], d["key"], d["field"]): d for d in report["differences"]}
    assert set(found) == {
        ("stock", "TAZ010", "quantity"),
        ("shipment", served, "tracking_number"),
        ("shipment", served, "state"),
        ("invoice", invoiced, "number"),
    }, "\n".join(map(str, report["differences"]))
    assert (found["stock", "TAZ010", "quantity"]["factusol"], found["stock", "TAZ010", "quantity"]["prestashop"]) == (
        before["stock"],
        999,
    )
    assert found["shipment", served, "tracking_number"]["factusol"] == "SEU0000001"
    assert found["shipment", served, "state"]["factusol"] == "PS_OS_SHIPPING"
    assert (found["invoice", invoiced, "number"]["factusol"], found["invoice", invoiced, "number"]["prestashop"]) == (
        90,
        [5],
    )
    code, fixed = reconcile(config_path, capsys, "--repair")
    assert (code, fixed["remaining"]) == (0, 0), fixed
    assert set(fixed["repaired"]) == {"stock", "shipment", "invoice"}
    code, report = reconcile(config_path, capsys)
    assert (code, report["total"]) == (0, 0), "\n".join(map(str, report["differences"]))
    with ShopConnection(config.prestashop.url, config.prestashop.prefix) as shop:
        assert (
            shop.query_one(
                "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0",
                (product,),
            )["quantity"]
            == before["stock"]
        )
        assert shop.query_one("SELECT current_state FROM {p}orders WHERE id_order = %s", (served_id,))[
            "current_state"
        ] == shop.state_id("PS_OS_SHIPPING")
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}order_invoice WHERE number = 90")["n"] == 1
    # the repair's writes carry the ledger marker: the next run captures them as its own echo, applies nothing
    assert main(["run", "--config", str(config_path), "--once"]) == 0
    code, report = reconcile(config_path, capsys)
    assert (code, report["total"]) == (0, 0), "\n".join(map(str, report["differences"]))


# ------------------------------------------------------------------------------------------------ an older copy of
# the same state store restored over the newer one


def copy_sqlite(source, target) -> None:
    """A consistent copy of a SQLite store (WAL included), as SQLite's online backup makes it."""
    src, dst = sqlite3.connect(str(source)), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_an_older_copy_of_the_store_restored_stops_the_apply_then_accept_baseline_resumes_with_nothing_lost_or_doubled(
    installation, tmp_path, capsys
):
    config = load_config(installation)
    store_path = config.store.removeprefix("sqlite:///")
    copy_sqlite(store_path, tmp_path / "backup.sqlite")  # the backup: taken after the first sync
    connection = config.factusol.connection
    article = sorted(Store(config.store).id_map("product"))[0]
    with ShopConnection(config.prestashop.url, config.prestashop.prefix) as shop:
        # after the backup, both sides change and the service applies it: FactuSOL stock -> the shop, a new shop
        # customer -> a new FactuSOL customer, a shop rename -> FactuSOL
        customer = shop.query_one(
            "SELECT id_customer FROM {p}customer WHERE deleted = 0 AND is_guest = 0 ORDER BY id_customer"
        )["id_customer"]
        shop.execute(
            "UPDATE {p}customer SET firstname = 'Renombrada', date_upd = NOW() WHERE id_customer = %s", (customer,)
        )
        new_customer = shop.execute(
            "INSERT INTO {p}customer (id_shop_group, id_shop, id_gender, id_default_group, id_lang, id_risk, company,"
            " firstname, lastname, email, passwd, last_passwd_gen, newsletter, optin, secure_key, note, active,"
            " is_guest, deleted, date_add, date_upd) VALUES (1, 1, 1, 3, 1, 0, '', 'Nueva', 'Cliente',"
            " 'nueva.cliente@example.com', '', NOW(), 0, 0, 'x', '', 1, 0, 0, NOW(), NOW())"
        )
    fs = open_factusol(connection)
    try:
        fs_writer.update_stock(fs, article, "GEN", actual=321, available=321)
    finally:
        fs.close()
    assert main(["run", "--config", str(installation), "--once"]) == 0
    capsys.readouterr()
    fs = open_factusol(connection)
    try:
        assert [
            r["NOFCLI"]
            for r in fs.query("SELECT [NOFCLI] FROM [F_CLI] WHERE [EMACLI] = ?", ["nueva.cliente@example.com"])
        ]
    finally:
        fs.close()
    copy_sqlite(tmp_path / "backup.sqlite", store_path)  # the old copy restored over the store
    assert main(["run", "--config", str(installation), "--once"]) == 1
    err = capsys.readouterr().err
    assert "older copy of the store" in err and "replicator accept-baseline" in err, err
    assert main(["status", "--config", str(installation)]) == 0
    out = capsys.readouterr().out
    assert "applying is STOPPED" in out and "older copy of the store" in out, out
    assert main(["accept-baseline", "--config", str(installation)]) == 0
    assert "accepted: this state store" in capsys.readouterr().out
    assert main(["run", "--config", str(installation), "--once"]) == 0  # resumes: the old positions are read again
    assert main(["run", "--config", str(installation), "--once"]) == 0
    capsys.readouterr()
    fs = open_factusol(connection)
    try:
        created = fs.query("SELECT [CODCLI] FROM [F_CLI] WHERE [EMACLI] = ?", ["nueva.cliente@example.com"])
        assert len(created) == 1, created  # the customer created before the restore is linked, not made again
    finally:
        fs.close()
    assert Store(config.store).map_id("customer", prestashop_id=str(new_customer)) is not None
    for entity in ("product", "customer", "stock"):
        code, report = reconcile(installation, capsys, entity)
        assert (code, report["total"]) == (0, 0), "\n".join(map(str, report["differences"]))
    # and the next start is not stopped again
    assert main(["run", "--config", str(installation), "--once"]) == 0
