"""Unsupported shops are refused at start, before anything is written: real MariaDB, a 1.6-shaped schema.

The 1.6 shape is the 1.7.8 sandbox with what 1.6 lacks taken away (stock_available's physical/reserved quantities,
product_type, product_mpn, reset_password_token) and PS_VERSION_DB '1.6.1.24', as a 1.6.1 install has it.
"""

from __future__ import annotations

import hashlib
import logging

import pytest

from replicator.cli import main
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.support import UnsupportedShopError, check_supported, supported_version
from replicator.sandbox import shop as ps_sandbox

GONE_IN_16 = [
    ("stock_available", "physical_quantity"),
    ("stock_available", "reserved_quantity"),
    ("product", "product_type"),
    ("order_detail", "product_mpn"),
    ("customer", "reset_password_token"),
]


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _shape_as_16(shop: ShopConnection, version: str = "1.6.1.24") -> None:
    for table, column in GONE_IN_16:
        shop.execute(f"ALTER TABLE {{p}}{table} DROP COLUMN {column}")
    shop.execute(
        "UPDATE {p}configuration SET value = %s WHERE name IN ('PS_VERSION_DB', 'PS_INSTALL_VERSION')", (version,)
    )


def _fingerprint(shop: ShopConnection) -> dict[str, object]:
    tables = [
        r["t"]
        for r in shop.query(
            "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
        )
    ]
    return {t: shop.query_one(f"CHECKSUM TABLE `{t}`")["Checksum"] for t in tables}


def test_versions():
    assert supported_version("1.7.8.11") and supported_version("8.0.0") and supported_version("8.2.1")
    assert not supported_version("1.6.1.24") and not supported_version("1.7.7.8") and not supported_version("9.0.0")


@pytest.mark.mysql
@pytest.mark.parametrize("version", ["8.2.1", "1.7.8.11"])
def test_supported_shops_pass(mysql_server, mysql_db, version):
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, version=version)
    shop = ShopConnection(url)
    try:
        assert supported_version(check_supported(shop))
    finally:
        shop.close()


@pytest.mark.mysql
def test_a_16_shaped_schema_is_named_even_when_it_claims_a_supported_version(mysql_server, mysql_db):
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, version="1.7.8.11")
    shop = ShopConnection(url)
    _shape_as_16(shop, version="1.7.8.11")
    shop.close()
    shop = ShopConnection(url)
    try:
        with pytest.raises(UnsupportedShopError) as err:
            check_supported(shop)
        assert "1.7.8.11" in str(err.value) and "stock_available.physical_quantity" in str(err.value)
    finally:
        shop.close()


@pytest.mark.mysql
def test_run_refuses_a_16_shop_before_any_write(mysql_server, mysql_db, tmp_path, capsys):
    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    assert main(["sandbox", "factusol", str(fs_path), "--articles", "10", "--customers", "3"]) == 0
    connection = next(
        line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("DRIVER=")
    )
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True, version="1.7.8.11")
    shop = ShopConnection(url)
    try:
        _shape_as_16(shop)
        before, fs_before = _fingerprint(shop), hashlib.sha256(fs_path.read_bytes()).hexdigest()
        assert main(["init", str(tmp_path / "conf"), "--factusol", connection, "--prestashop", url]) == 0
        capsys.readouterr()
        assert main(["run", "--config", str(tmp_path / "conf" / "replicator.yaml"), "--once"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and "PrestaShop 1.6.1.24" in err[-1], err
        assert "Traceback" not in "\n".join(err) and "Error:" not in err[-1]
        assert _fingerprint(shop) == before, "nothing written to the shop"
        assert "ps_replicator_ledger" not in before and not shop.has_table("replicator_ledger")
        assert hashlib.sha256(fs_path.read_bytes()).hexdigest() == fs_before, "nothing written to FactuSOL"
    finally:
        shop.close()
