"""End to end with the webservice: FactuSOL ships an order -> tracking PUT, then ONE order_histories POST to the
stand-in built from the real shop's recordings, which writes the rows PrestaShop writes into the real MariaDB shop;
the binlog capture then sees them as a shop transaction, and they are recognised as our own (echo): nothing goes
back to FactuSOL, no conflict, no second request.  Errors of the shop quarantine the order with a sentence."""

from __future__ import annotations

import pytest

from replicator.keys import row_hash
from replicator.config import WebserviceConfig
from replicator.store import ECHO

from _sync_env import build, open_env
from ps_webservice_standin import RecordedShopWebservice
from test_sync_orders import ARTICLES, _delivery_note, add_article, pedidos

pytestmark = pytest.mark.mysql
KEY = "E2EKEY0123456789ABCDEFGHIJKLMNOP"


def _fs_image(env, header) -> list[str]:
    rows = env.fs.query(
        "SELECT * FROM [F_PCL] WHERE [TIPPCL] = ? AND [CODPCL] = ?", [header["TIPPCL"], header["CODPCL"]]
    )
    rows += env.fs.query(
        "SELECT * FROM [F_LPC] WHERE [TIPLPC] = ? AND [CODLPC] = ? ORDER BY [POSLPC]",
        [header["TIPPCL"], header["CODPCL"]],
    )
    return [row_hash(r) for r in rows]


@pytest.fixture(params=["binlog"])
def setup(mysql_server, mysql_db, tmp_path, request):
    config = build(mysql_server, mysql_db, tmp_path, capture=request.param)
    with RecordedShopWebservice(config.prestashop.url, KEY) as standin:
        config.prestashop.webservice = WebserviceConfig(url=standin.url, key=KEY)
        env = open_env(config)
        try:
            for code, selector, variants in ARTICLES:
                add_article(env.fs, code, selector, variants)
            env.baseline_capture()
            yield env, standin
        finally:
            env.close()


@pytest.mark.parametrize("setup", ["binlog", "poll"], indirect=True)
def test_shipping_in_factusol_makes_one_state_post_after_the_tracking_put_and_no_echo(setup):
    env, standin = setup
    key = "ps:2"
    assert env.runtime.engine.sync_keys("order", [key])[key].status == "applied"
    [header] = pedidos(env.ctx, 2)
    env.cycle()  # the pedido's own rows come back from the FactuSOL scan as ours
    assert standin.exchanges == []

    _delivery_note(env.ctx, header, 501, "SEU0000001")
    _, applied = env.cycle()
    requests = [(e.method, e.path.split("?")[0], e.status) for e in standin.exchanges]
    carrier = env.shop.query_one(
        "SELECT id_order_carrier FROM {p}order_carrier WHERE id_order = 2 ORDER BY id_order_carrier LIMIT 1"
    )["id_order_carrier"]
    assert requests == [
        ("GET", f"/api/order_carriers/{carrier}", 200),
        ("PUT", f"/api/order_carriers/{carrier}", 200),
        ("POST", "/api/order_histories", 201),
    ], applied
    assert [e.path for e in standin.exchanges][-1] == "/api/order_histories?sendemail=1"
    shipped = env.shop.state_id("PS_OS_SHIPPING")
    order = env.shop.query_one("SELECT current_state FROM {p}orders WHERE id_order = 2")
    assert order["current_state"] == shipped
    assert [(m.template, m.tracking) for m in standin.mails] == [("shipped", "SEU0000001")]
    history = env.shop.query_one(
        "SELECT * FROM {p}order_history WHERE id_order = 2 ORDER BY id_order_history DESC LIMIT 1"
    )
    assert (history["id_employee"], history["id_order_state"]) == (0, shipped)

    # the stand-in's writes come back through the binlog: recognised as ours, nothing travels back
    before = _fs_image(env, header)
    captured, applied = env.cycle()
    assert captured.prestashop["changes"] > 0
    shop_changes = [
        c
        for c in env.store.changes(side="prestashop", limit=10_000)
        if c.source_table in ("orders", "order_history", "order_carrier", "order_invoice", "order_detail")
        and '"id_order":2' in (c.after or "").replace(" ", "")
    ]
    assert shop_changes and all(c.status == ECHO for c in shop_changes), [
        (c.source_table, c.status, c.detail) for c in shop_changes
    ]
    assert any(c.source_table == "order_history" for c in shop_changes)
    assert any("through the webservice" in c.detail for c in shop_changes)
    assert env.store.conflicts() == [] and env.store.quarantined() == []
    assert _fs_image(env, header) == before
    assert len(standin.exchanges) == 3  # no second request
    env.cycle()
    assert len(standin.exchanges) == 3


def test_a_person_changing_the_state_after_us_is_not_taken_for_our_echo(setup):
    env, standin = setup
    key = "ps:2"
    env.runtime.engine.sync_keys("order", [key])
    [header] = pedidos(env.ctx, 2)
    env.cycle()
    _delivery_note(env.ctx, header, 502, "SEU0000009")
    env.cycle()
    assert len([e for e in standin.exchanges if e.method == "POST"]) == 1
    # a person cancels the order in the back office right after our change
    from replicator.prestashop import write as ps_writer

    ps_writer.change_order_state(env.shop, 2, env.shop.state_id("PS_OS_CANCELED"), id_employee=1)
    env.cycle()
    person = [
        c
        for c in env.store.changes(side="prestashop", limit=10_000)
        if c.source_table == "order_history"
        and f'"id_order_state":{env.shop.state_id("PS_OS_CANCELED")}' in (c.after or "").replace(" ", "")
    ]
    assert person and all(c.status != ECHO for c in person)
    # the cancellation travelled to FactuSOL, as any shop cancellation does
    assert pedidos(env.ctx, 2)[0]["ESTPCL"] == 4


def test_a_refused_state_change_quarantines_the_order_with_the_cause(setup):
    env, standin = setup
    key = "ps:2"
    env.runtime.engine.sync_keys("order", [key])
    [header] = pedidos(env.ctx, 2)
    env.cycle()
    standin.state.key = "ANOTHERKEY0123456789ABCDEFGHIJK"  # the key was revoked in the shop
    _delivery_note(env.ctx, header, 503, "SEU0000003")
    env.cycle()
    entries = [q for q in env.store.quarantined() if q.key == key]
    assert entries and {q.entity for q in entries} <= {"order", "shipment"}
    for entry in entries:  # both syncs that wanted the order shipped say why they could not
        assert entry.reason.startswith(
            "order 2: tracking number SEU0000003 through the shop's webservice: the shop"
            " refused the webservice key (401"
        ), entry.reason
        assert KEY not in entry.reason and "ANOTHERKEY" not in entry.reason
    standin.state.key = KEY  # fixed: the retry goes through
    env.runtime.engine.retry_due = 0
    env.cycle()
    assert env.shop.query_one("SELECT current_state FROM {p}orders WHERE id_order = 2")[
        "current_state"
    ] == env.shop.state_id("PS_OS_SHIPPING")
    assert not [q for q in env.store.quarantined() if q.key == key]
