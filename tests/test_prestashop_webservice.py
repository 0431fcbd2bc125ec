"""The webservice client against the stand-in built from the real shop's recordings (tests/ps_webservice_standin.py),
every recorded error included; the configuration keys; and (reference) the shared recordings replayed verbatim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicator.config import ConfigError, load_config, redact
from replicator.sandbox import shop as sandbox
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.webservice import WebserviceClient, WebserviceError, check_url

from ps_webservice_standin import RecordedShopWebservice, RecordingReplay

KEY = "STANDINKEY0123456789ABCDEFGHIJKL"


@pytest.fixture
def shop_url(mysql_server, mysql_db):
    return sandbox.create_shop(mysql_server.url, mysql_db, demo=True)


@pytest.fixture
def standin(shop_url):
    with RecordedShopWebservice(shop_url, KEY) as server:
        yield server


def _fails(call) -> WebserviceError:
    with pytest.raises(WebserviceError) as info:
        call()
    return info.value


@pytest.mark.mysql
def test_state_change_and_tracking_as_the_real_shop_makes_them(standin, shop_url):
    client = WebserviceClient(standin.url, KEY)
    with ShopConnection(shop_url) as shop:
        carrier = shop.query_one("SELECT * FROM {p}order_carrier WHERE id_order = 2 ORDER BY id_order_carrier LIMIT 1")
        put = client.set_tracking(carrier["id_order_carrier"], "TRK-STANDIN-1", 2)
        assert put["tracking_number"] == "TRK-STANDIN-1" and put["id_order"] == "2"
        assert [e.method for e in standin.exchanges] == ["GET", "PUT"] and standin.mails == []  # a PUT sends no mail
        shipped = shop.state_id("PS_OS_SHIPPING")
        row = client.add_order_history(2, shipped)
        history = shop.query_one("SELECT * FROM {p}order_history WHERE id_order_history = %s", (int(row["id"]),))
        assert (history["id_employee"], history["id_order"], history["id_order_state"]) == (0, 2, shipped)
        assert shop.query_one("SELECT current_state FROM {p}orders WHERE id_order = 2")["current_state"] == shipped
        assert [(m.id_order, m.template, m.tracking) for m in standin.mails] == [(2, "shipped", "TRK-STANDIN-1")]
        # as the real shop: a row in its mail table, to the customer, with the state's template
        mail = shop.query_one("SELECT * FROM {p}mail WHERE id_mail = %s", (standin.mails[0].id_mail,))
        customer = shop.query_one(
            "SELECT c.email, o.id_lang FROM {p}orders o JOIN {p}customer c USING (id_customer) WHERE o.id_order = 2"
        )
        assert (mail["recipient"], mail["template"], mail["id_lang"]) == (
            customer["email"],
            "shipped",
            customer["id_lang"],
        )
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_mvt WHERE id_order = 2")["n"] == 0
        # PS_OS_PAYMENT has the invoice flag: PrestaShop numbers the invoice
        client.add_order_history(3, shop.state_id("PS_OS_PAYMENT"), send_mail=False)
        assert shop.query_one("SELECT invoice_number FROM {p}orders WHERE id_order = 3")["invoice_number"] > 0
        assert len(standin.mails) == 1  # no sendemail: no mail
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}mail")["n"] == 1


@pytest.mark.mysql
def test_every_recorded_error(standin):
    wrong = _fails(lambda: WebserviceClient(standin.url, "WRONGKEY0123456789ABCDEFGHIJKLMN").get("orders", 6))
    assert (wrong.status, wrong.codes, wrong.retryable) == (401, [20, 21], False)
    assert "webservice key" in str(wrong) and "WRONGKEY" not in str(wrong)
    client = WebserviceClient(standin.url, KEY)
    missing = _fails(lambda: client.get("orders", 999999))
    assert (missing.status, missing.codes) == (404, []) and "no such record" in str(missing)
    put = _fails(lambda: client.set_tracking(999999, "X", 7))
    assert put.status == 404  # the GET before the PUT already finds nothing
    put = _fails(
        lambda: client.request(
            "PUT",
            "order_carriers/999999",
            b"<prestashop><order_carrier><id>999999</id><tracking_number>X"
            b"</tracking_number></order_carrier></prestashop>",
        )
    )
    assert (put.status, put.codes) == (404, [92]) and "Invalid ID" in str(put)
    bad_xml = _fails(
        lambda: client.request(
            "POST", "order_histories?sendemail=1", b"<prestashop><order_history><id_order>7</id_order></order_histor"
        )
    )
    assert bad_xml.status == 500 and bad_xml.codes[-1] == 127 and 3 in bad_xml.codes and not bad_xml.retryable
    field = _fails(
        lambda: client.request(
            "POST",
            "order_histories?sendemail=1",
            b"<prestashop><order_history><id_order>7</id_order></order_history></prestashop>",
        )
    )
    assert (field.status, field.codes) == (400, [41]) and 'parameter "id_order_state" required' in str(field)
    unknown = _fails(lambda: client.request("GET", "no_such_resource"))
    assert (unknown.status, unknown.codes) == (400, [27])
    assert all(e.status >= 400 for e in standin.exchanges)


def test_unreachable_shop_is_retryable_and_names_no_secret():
    client = WebserviceClient("http://127.0.0.1:9", KEY, timeout=2)
    error = _fails(lambda: client.get("orders", 1))
    assert error.status == 0 and error.retryable and "could not be reached" in str(error)
    assert KEY not in redact(f"{error} {client._auth}")


def test_urls_https_or_loopback():
    assert check_url("https://shop.example.com") == ""
    assert check_url("http://127.0.0.1:8110") == "" and check_url("http://localhost") == ""
    assert "https" in check_url("http://shop.example.com")
    with pytest.raises(ValueError):
        WebserviceClient("http://shop.example.com", KEY)


def _config(tmp_path: Path, webservice: str) -> Path:
    path = tmp_path / "replicator.yaml"
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "f.accdb").touch()
    path.write_text(
        "factusol: {file: f.accdb}\nprestashop:\n  url: mysql://u:p@127.0.0.1:3306/shop\n" + webservice,
        encoding="utf-8",
    )
    return path


def test_config_key_from_the_environment_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("PS_WS_KEY_TEST", "ENVKEY0123456789ABCDEFGHIJKLMNOP")
    config = load_config(
        _config(tmp_path, "  webservice: {url: 'https://shop.example.com', key: '${PS_WS_KEY_TEST}'}\n")
    )
    assert config.prestashop.webservice.key == "ENVKEY0123456789ABCDEFGHIJKLMNOP"
    shown = json.dumps(config.describe())
    assert "ENVKEY" not in shown and '"key": "***"' in shown
    assert "ENVKEY" not in redact("key ENVKEY0123456789ABCDEFGHIJKLMNOP")
    assert load_config(_config(tmp_path, "")).prestashop.webservice is None


def test_config_refuses_a_written_key_and_plain_http(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, "  webservice: {url: 'https://shop.example.com', key: 'LITERALKEY12345'}\n"))
    assert "${ENV_VAR}" in str(info.value) and "LITERALKEY12345" not in redact(str(info.value))
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, "  webservice: {url: 'http://shop.example.com', key: '${HOME}'}\n"))
    assert "https" in str(info.value)


# ------------------------------------------------------------------------------------------------ reference


@pytest.mark.reference
def test_the_shared_recordings_replayed_verbatim(reference_dir):
    folder = reference_dir / "prestashop" / "webservice-8.2.0"
    with RecordingReplay(folder, KEY) as replay:
        good, wrong = WebserviceClient(replay.url, KEY), WebserviceClient(replay.url, "WRONG" + KEY)
        assert len(replay.recordings) >= 20
        for rec in replay.recordings:
            req, resp = rec["request"], rec["response"]
            client = wrong if "wrong key" in req.get("auth", "") else good
            body = req["body"].encode() if req["body"] is not None else None
            path = req["url"].removeprefix("/api/")
            if resp["status"] < 300:
                status, answer = client.request(req["method"], path, body)
                assert status == resp["status"] and answer.decode() == resp["body"]
                continue
            error = _fails(lambda: client.request(req["method"], path, body))
            codes = [int(c) for c in __import__("re").findall(r"<code><!\[CDATA\[(\d+)\]\]></code>", resp["body"])]
            assert (error.status, error.codes) == (resp["status"], codes), rec
            assert str(error) and "\n" not in str(error)


def test_status_says_what_the_customer_gets(tmp_path, monkeypatch, capsys):
    from replicator.cli import main

    path = _config(tmp_path, "")
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "order states: written by SQL; the customer gets no e-mail" in out and "no hook" in out
    monkeypatch.setenv("PS_WS_KEY_TEST", "ENVKEY0123456789ABCDEFGHIJKLMNOP")
    path = _config(tmp_path, "  webservice: {url: 'https://shop.example.com', key: '${PS_WS_KEY_TEST}'}\n")
    assert main(["status", "--config", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert "through PrestaShop's webservice at https://shop.example.com" in out and "ENVKEY" not in out


@pytest.mark.mysql
def test_doctor_says_how_order_states_reach_the_shop(standin, tmp_path, monkeypatch):
    from replicator.doctor import _webservice_findings

    path = _config(tmp_path, "")
    [plain] = _webservice_findings(load_config(path))
    assert plain.status == "ok" and "the customer gets no e-mail" in plain.detail
    monkeypatch.setenv("PS_WS_KEY_TEST", KEY)
    config = load_config(_config(tmp_path, f"  webservice: {{url: '{standin.url}', key: '${{PS_WS_KEY_TEST}}'}}\n"))
    [good] = _webservice_findings(config)
    assert good.status == "ok" and "takes the key" in good.detail
    monkeypatch.setenv("PS_WS_KEY_TEST", "WRONGKEY0123456789ABCDEFGHIJKLMN")
    [bad] = _webservice_findings(
        load_config(_config(tmp_path, f"  webservice: {{url: '{standin.url}', key: '${{PS_WS_KEY_TEST}}'}}\n"))
    )
    assert bad.status == "fail" and "401" in bad.detail and "WRONGKEY" not in redact(bad.detail)
