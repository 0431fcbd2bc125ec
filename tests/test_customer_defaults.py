"""New FactuSOL customers get their commercial fields by rule (customer.yaml new_customers): real MariaDB demo shop,
FactuSOL stand-in through pyodbc.  A code FactuSOL does not have quarantines the customer naming the rule key."""

from __future__ import annotations

import pytest

from replicator.daemon import run_once
from replicator.model import Customer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sync.customer_defaults import vat_regime
from replicator.sync.customers import CustomerSync

from _sync_env import build, open_env


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, customers=0, workers="thread")
    e = open_env(config)
    e.runtime.engine.syncs = {"customer": CustomerSync()}
    yield e
    e.close()


def created(env) -> list[dict]:
    codes = [int(c) for c in env.store.id_map("customer")]
    assert codes, "the demo shop's customers reached FactuSOL"
    marks = ", ".join("?" * len(codes))
    return env.fs.query(
        f"SELECT [CODCLI], [FPACLI], [TARCLI], [AGECLI], [IVACLI], [DOCCLI], [PAICLI] FROM [F_CLI]"
        f" WHERE [CODCLI] IN ({marks})",
        codes,
    )


@pytest.mark.mysql
def test_default_rule_gives_an_existing_tariff_and_the_regime_by_country(env):
    run_once(env.runtime)
    rows = created(env)
    assert {r["TARCLI"] for r in rows} == {1}, "the product rule's tariff, never 0"
    assert {r["DOCCLI"] for r in rows} == {1} and {r["AGECLI"] for r in rows} == {0}
    assert all(r["IVACLI"] == (0 if r["PAICLI"] == "ESPAÑA" else r["IVACLI"]) for r in rows)
    assert {(r["FPACLI"] or "") for r in rows} == {""}


@pytest.mark.mysql
def test_rule_codes_are_written_and_a_missing_one_waits(env):
    env.rules.entity("customer").options["new_customers"] = {"payment_method": "TAR", "tariff": 7}
    run_once(env.runtime)
    held = [q for q in env.store.quarantined() if q.entity == "customer"]
    assert held and {q.field for q in held} == {"new_customers.tariff"}
    assert "tariff 7" in held[0].reason and "F_TAR" in held[0].reason
    assert not env.store.id_map("customer")
    env.rules.entity("customer").options["new_customers"] = {"payment_method": "TAR", "tariff": 2}
    env.runtime.engine.retry_due = 0
    env.cycle()
    rows = created(env)
    assert {(r["FPACLI"], r["TARCLI"]) for r in rows} == {("TAR", 2)}
    assert not [q for q in env.store.quarantined() if q.entity == "customer"]


def test_vat_regime_by_country():
    assert vat_regime(Customer(country_iso="ES", postcode="28001")) == 0
    assert vat_regime(Customer(country_iso="ES", postcode="35001")) == 3  # Las Palmas: outside the VAT territory
    assert vat_regime(Customer(country_iso="FR", nif="FR40303265045")) == 2
    assert vat_regime(Customer(country_iso="FR")) == 0
    assert vat_regime(Customer(country_iso="US")) == 3
