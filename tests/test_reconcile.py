"""`replicator reconcile` against a real shop and the FactuSOL stand-in: 0 differences after the initial sync;
edits made while the service was stopped and the state store lost are found and repaired through the apply path."""

from __future__ import annotations

import json
import os

import pytest

from replicator.cli import main
from replicator.config import load_config
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
