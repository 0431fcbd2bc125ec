"""Rule checks against the data: codes the rule files name must exist in FactuSOL (stand-in through pyodbc) and the
shop (real MariaDB); `rules check --config` and the start report each unknown code as file:line:col naming it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from replicator.cli import main
from replicator.runtime import open_runtime
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.rules import load_rules
from replicator.rules.datacheck import Codes, check_against_data
from replicator.rules.errors import RulesError

from _sync_env import build

DEFAULT_RULES = Path(load_rules().files[0]).parent
CODES = Codes(
    factusol={
        "warehouse": {"GEN", "AL2"},
        "tariff": {"1", "2"},
        "payment_method": {"TAR", "TRF", "efe", "PAY"},
        "carrier": {"1", "2", "3"},
        "family": {"CAM", "ROP"},
        "agent": {"1"},
    },
    prestashop={
        "tax_rules_group": {"1", "2", "3"},
        "carrier_reference": {"1", "2", "3"},
        "carrier": {"1", "2", "3"},
        "category": {"1", "2", "3"},
    },
)


def rules_copy(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, target)
    for name, (old, new) in edits.items():
        text = (target / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (target / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def where(path: Path, needle: str) -> tuple[int, int]:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return n, line.index(needle) + 1
    raise AssertionError(needle)


def test_default_rules_name_only_codes_that_exist():
    assert check_against_data(DEFAULT_RULES, CODES) == []


def test_each_unknown_code_is_named_at_its_place(tmp_path):
    rules = rules_copy(
        tmp_path,
        {
            "stock.yaml": ("warehouses: [GEN]", "warehouses: [GEN, GNE]"),
            "product.yaml": ("tariff: 1", "tariff: 7"),
            "order.yaml": ("transfer: {factusol: TRF,", "transfer: {factusol: TRX,"),
            "customer.yaml": ("  agent: 0 ", "  agent: 7 "),
            "shipment.yaml": ("standard: {factusol: 1, prestashop: 2}", "standard: {factusol: 9, prestashop: 8}"),
        },
    )
    problems = check_against_data(rules, CODES)
    got = {(Path(p.file).name, p.line, p.col): p.message for p in problems}
    stock_at = where(rules / "stock.yaml", "GNE")
    assert got[("stock.yaml", *stock_at)] == (
        "warehouse 'GNE' is not in FactuSOL's F_ALM (CODALM: AL2, GEN): correct the code or create it there"
    )
    assert "tariff 7 is not in FactuSOL's F_TAR" in got[("product.yaml", *where(rules / "product.yaml", "7"))]
    line, col = where(rules / "order.yaml", "factusol: TRX")
    assert "payment method 'TRX'" in got[("order.yaml", line, col + len("factusol: "))]
    assert "agent 7 is not in FactuSOL's F_AGE" in got[("customer.yaml", *where(rules / "customer.yaml", "7 "))]
    shipment = rules / "shipment.yaml"
    line, _ = where(shipment, "standard: {factusol: 9")
    messages = [m for (name, ln, _), m in got.items() if name == "shipment.yaml" and ln == line]
    assert sorted(messages) == [
        "carrier (id_reference) 8 is not in the shop: correct the code or create it there",
        "carrier 9 is not in FactuSOL's F_TRN (CODTRN: 1, 2, 3): correct the code or create it there",
    ]
    assert len(problems) == 6


@pytest.mark.mysql
def test_rules_check_config_and_the_start_against_both_sides(mysql_server, mysql_db, tmp_path, capsys):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, articles=20, customers=0, orders=0, workers="thread")
    config_file = tmp_path / "replicator.yaml"
    config_file.write_text(
        f'factusol:\n  connection: "{config.factusol.connection}"\n  file: {config.factusol.file}\n'
        f'prestashop:\n  url: "{config.prestashop.url}"\nstore: "{config.store}"\nrules: {config.rules_dir}\n',
        encoding="utf-8",
    )
    # the default rules pass against the stand-in and the demo shop
    assert main(["rules", "check", "--config", str(config_file)]) == 0
    assert "rules OK" in capsys.readouterr().out
    # a typo in warehouses is an error naming the code, and the service does not start
    rules = rules_copy(tmp_path, {"stock.yaml": ("warehouses: [GEN]", "warehouses: [GNE]")})
    assert main(["rules", "check", "--config", str(config_file), str(rules)]) == 1
    line, col = where(rules / "stock.yaml", "GNE")
    out = capsys.readouterr().out
    assert f"stock.yaml:{line}:{col}: warehouse 'GNE' is not in FactuSOL's F_ALM" in out
    with pytest.raises(RulesError) as refused:
        open_runtime(dataclasses.replace(config, rules_dir=rules))
    assert [str(p) for p in refused.value.errors] == [line for line in out.splitlines() if "GNE" in line]
