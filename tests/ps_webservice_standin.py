"""STAND-IN for PrestaShop 8.2's webservice, built only from exchanges recorded on a real 8.2.0 shop.

Not PrestaShop: a local HTTP server that answers the requests the replicator makes the way the recordings in
../shared/reference/prestashop/webservice-8.2.0/ show the real shop answering them (status, headers, XML shape,
error codes and messages), and that writes into the test shop database the rows the real shop wrote for them:

- authentication: HTTP Basic, the key as the user name; another key gives 401 with errors 20 and 21;
- an unknown resource gives 400 (error 27); GET of a missing id 404 with an empty body and an empty Content-Type;
  PUT of a missing id 404 with error 92 "Invalid ID"; malformed XML 500 with the parser's errors (code 3) and a
  final error 127; a POST without id_order_state 400 (error 41);
- GET /api/order_carriers/ID returns the row; PUT stores the fields sent (the tracking number) and sends no mail;
- POST /api/order_histories[/ID][?sendemail=1] adds a NEW history row (an id in the URL is ignored) and makes the
  state change PrestaShop makes (history row with employee 0, orders.current_state, invoice and delivery numbers by
  the state's flags, stock), here through the replicator's SQL emulation of OrderHistory::changeIdOrderState; with
  sendemail=1 and a state that sends mail, the real shop wrote a row in its `mail` table (the template, e.g.
  `shipped`) and sent the mail (REAL-8.2.0-OBSERVED.md): the stand-in writes that row (to the customer's address,
  in the order's language; the recordings do not show the subject, so it is left empty) and sends nothing; what
  the unsent message would carry (the order, the tracking number) is kept in `sent`, the stand-in's own record.

``RecordingReplay`` answers each request found in a folder of recordings with its recorded response, verbatim.
"""

from __future__ import annotations

import base64
import json
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from replicator.prestashop import write as ps_writer
from replicator.prestashop.connection import ShopConnection

# Facts of the recordings (webservice-8.2.0/*.json), written out as the stand-in's own fixture.
RESOURCES = (
    "addresses",
    "carriers",
    "carts",
    "categories",
    "combinations",
    "configurations",
    "countries",
    "currencies",
    "customers",
    "order_carriers",
    "order_details",
    "order_histories",
    "order_invoices",
    "order_payments",
    "order_states",
    "orders",
    "products",
    "stock_availables",
    "stock_movements",
)
HEADERS = {"X-Powered-By": "PrestaShop Webservice", "PSWS-Version": "8.2.0", "Content-type": "text/xml;charset=utf-8"}
UNAUTHORIZED = [(20, "Authentification key is not active"), (21, "No permission for this authentication key")]
REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login.'
    ' No password required."'
)
CARRIER_FIELDS = (
    "id",
    "id_order",
    "id_carrier",
    "id_order_invoice",
    "weight",
    "shipping_cost_tax_excl",
    "shipping_cost_tax_incl",
    "tracking_number",
    "date_add",
)


def _cdata(value) -> str:
    return f"<![CDATA[{'' if value is None else value}]]>"


def _document(resource: str, fields: list[tuple[str, object, str | None]], base: str) -> bytes:
    """The real shop's answer layout: tab-indented fields in CDATA, xlink:href on the ids of other resources."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">',
        f"<{resource}>",
    ]
    for name, value, link in fields:
        href = f' xlink:href="{base}/api/{link}/{value}"' if link else ""
        lines.append(f"\t<{name}{href}>{_cdata(value)}</{name}>")
    lines += [f"</{resource}>", "</prestashop>", ""]
    return "\n".join(lines).encode()


def _errors(errors: list[tuple[int, str]]) -> bytes:
    body = "".join(f"<error>\n<code>{_cdata(c)}</code>\n<message>{_cdata(m)}</message>\n</error>\n" for c, m in errors)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
        f"<errors>\n{body}</errors>\n</prestashop>\n"
    ).encode()


def _malformed(text: str, problem: str) -> bytes:
    where = "(/var/www/prestashop/classes/webservice/WebserviceRequest.php, line 1544)"
    return _errors(
        [
            (3, f"[PHP Warning #2] SimpleXMLElement::__construct(): Entity: line 1: parser error : {problem} {where}"),
            (127, f"XML error : String could not be parsed as XML\nXML length : {len(text)}\nOriginal XML : {text}"),
        ]
    )


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    body: str = ""


@dataclass
class Mail:
    """A mail the stand-in did not send: its ps_mail row's id and template, and what the message would carry."""

    id_mail: int
    id_order: int
    template: str
    tracking: str


# The real shop's mail log (db_structure.sql of 8.2.0): not in the replicator's schema fixture, which has only the
# tables the replicator reads or writes, so the stand-in makes it where it is missing.
MAIL_DDL = """CREATE TABLE IF NOT EXISTS `{p}mail` (
  `id_mail` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `recipient` varchar(126) NOT NULL,
  `template` varchar(62) NOT NULL,
  `subject` varchar(254) NOT NULL,
  `id_lang` int(11) unsigned NOT NULL,
  `date_add` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id_mail`),
  KEY `recipient` (`recipient`(10))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"""


@dataclass
class _State:
    shop_url: str
    key: str
    prefix: str = "ps_"
    exchanges: list[Exchange] = field(default_factory=list)
    sent: list[Mail] = field(default_factory=list)
    shop: ShopConnection | None = None


class _Handler(BaseHTTPRequestHandler):
    state: _State  # set on the subclass made per server

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- plumbing ------------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        # recorded before answering: the client may look as soon as it has the answer
        self.state.exchanges.append(Exchange(self.command, self.path, status, self._body.decode(errors="replace")))
        self.send_response(status)
        for k, v in (headers if headers is not None else HEADERS).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @property
    def _base(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def _shop(self) -> ShopConnection:
        if self.state.shop is None:
            self.state.shop = ShopConnection(self.state.shop_url, prefix=self.state.prefix)
        return self.state.shop

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        try:
            user = base64.b64decode(header.split(" ", 1)[1]).decode().split(":", 1)[0] if header else ""
        except (IndexError, ValueError):
            user = ""
        return user == self.state.key

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(length) if length else b""
        if not self._authorised():
            self._send(401, _errors(UNAUTHORIZED), dict(HEADERS, **{"WWW-Authenticate": REALM, "PSWS-Version": "0"}))
            return
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        if not segments or segments[0] != "api" or len(segments) < 2:
            self._send(400, _errors([(27, 'Resource of type "" does not exists.')]))
            return
        resource, ident = segments[1], (segments[2] if len(segments) > 2 else None)
        if resource not in RESOURCES:
            self._send(400, _errors([(27, f'Resource of type "{resource}" does not exists.')]))
            return
        handler = getattr(self, f"_{self.command.lower()}_{resource}", None)
        if handler is None:
            self._send(405, _errors([(100, f"Method {self.command} is not allowed for {resource}")]))
            return
        handler(ident, parse_qs(parts.query))

    do_GET = do_PUT = do_POST = _route  # noqa: N815 (http.server's names)

    def _parsed(self, resource: str) -> dict[str, str] | None:
        text = self._body.decode(errors="replace")
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            self._send(500, _malformed(text, str(exc)))
            return None
        node = root.find(resource)
        return {} if node is None else {c.tag: (c.text or "").strip() for c in node}

    # -- order_carriers ------------------------------------------------------------------------------------
    def _carrier_row(self, ident) -> dict | None:
        if not str(ident or "").isdigit():
            return None
        return self._shop().query_one("SELECT * FROM {p}order_carrier WHERE id_order_carrier = %s", (int(ident),))

    def _carrier_document(self, row: dict) -> bytes:
        links = {"id_order": "orders", "id_carrier": "carriers"}
        values = dict(row, id=row["id_order_carrier"])
        return _document("order_carrier", [(f, values[f], links.get(f)) for f in CARRIER_FIELDS], self._base)

    def _get_order_carriers(self, ident, query) -> None:
        row = self._carrier_row(ident)
        if row is None:
            self._send(404, b"", dict(HEADERS, **{"Content-type": ""}))
            return
        self._send(200, self._carrier_document(row))

    def _put_order_carriers(self, ident, query) -> None:
        fields = self._parsed("order_carrier")
        if fields is None:
            return
        if self._carrier_row(ident) is None:
            self._send(404, _errors([(92, "Invalid ID")]))
            return
        sets = {k: v for k, v in fields.items() if k in CARRIER_FIELDS and k not in ("id", "date_add", "id_order")}
        if sets:
            self._shop().execute(
                f"UPDATE {{p}}order_carrier SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_order_carrier = %s",
                (*sets.values(), int(ident)),
            )
        self._send(200, self._carrier_document(self._carrier_row(ident)))

    # -- orders --------------------------------------------------------------------------------------------
    def _get_orders(self, ident, query) -> None:
        row = (
            self._shop().query_one(
                "SELECT id_order, current_state, reference FROM {p}orders WHERE id_order = %s", (int(ident),)
            )
            if str(ident or "").isdigit()
            else None
        )
        if row is None:
            self._send(404, b"", dict(HEADERS, **{"Content-type": ""}))
            return
        self._send(
            200,
            _document(
                "order",
                [
                    ("id", row["id_order"], None),
                    ("current_state", row["current_state"], "order_states"),
                    ("reference", row["reference"], None),
                ],
                self._base,
            ),
        )

    # -- order_histories -----------------------------------------------------------------------------------
    def _post_order_histories(self, ident, query) -> None:
        fields = self._parsed("order_history")
        if fields is None:
            return
        for required in ("id_order", "id_order_state"):
            if not fields.get(required):
                self._send(400, _errors([(41, f'parameter "{required}" required')]))
                return
        shop = self._shop()
        id_order, id_state = int(fields["id_order"]), int(fields["id_order_state"])
        # PrestaShop's own state change, rows as the real shop wrote them (employee 0, invoice by the flags); on
        # this path the real shop wrote no stock_mvt rows (the back office writes two): none are kept
        last_mvt = shop.query_one("SELECT COALESCE(MAX(id_stock_mvt), 0) AS n FROM {p}stock_mvt")["n"]
        change = ps_writer.change_order_state(shop, id_order, id_state, id_employee=0, create_invoice=True)
        shop.execute("DELETE FROM {p}stock_mvt WHERE id_stock_mvt > %s AND id_order = %s", (last_mvt, id_order))
        history = shop.query_one(
            "SELECT * FROM {p}order_history WHERE id_order_history = %s", (change.id_order_history,)
        )
        if query.get("sendemail") == ["1"]:
            state = shop.query_one(
                "SELECT s.send_email, l.template FROM {p}order_state s JOIN {p}order_state_lang l"
                " ON l.id_order_state = s.id_order_state AND l.id_lang = %s"
                " WHERE s.id_order_state = %s",
                (shop.id_lang, id_state),
            )
            if state and int(state["send_email"]):
                carrier = shop.query_one(
                    "SELECT tracking_number FROM {p}order_carrier WHERE id_order = %s"
                    " ORDER BY id_order_carrier LIMIT 1",
                    (id_order,),
                )
                to = shop.query_one(
                    "SELECT c.email, o.id_lang FROM {p}orders o JOIN {p}customer c ON c.id_customer = o.id_customer"
                    " WHERE o.id_order = %s",
                    (id_order,),
                )
                shop.execute(MAIL_DDL.replace("{p}", shop.prefix))
                id_mail = shop.execute(
                    "INSERT INTO {p}mail (recipient, template, subject, id_lang) VALUES (%s, %s, '', %s)",
                    (to["email"], state["template"], to["id_lang"]),
                )
                tracking = (carrier or {}).get("tracking_number") or ""
                self.state.sent.append(Mail(id_mail, id_order, state["template"], tracking))
        self._send(
            201,
            _document(
                "order_history",
                [
                    ("id", history["id_order_history"], None),
                    ("id_employee", "", None),
                    ("id_order_state", id_state, "order_states"),
                    ("id_order", id_order, "orders"),
                    ("date_add", history["date_add"], None),
                ],
                self._base,
            ),
        )


class RecordedShopWebservice:
    """The stand-in, serving on 127.0.0.1 (one request at a time, like the recorded php -S shop)."""

    def __init__(self, shop_url: str, key: str, prefix: str = "ps_"):
        self.state = _State(shop_url, key, prefix)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = HTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def exchanges(self) -> list[Exchange]:
        return self.state.exchanges

    @property
    def mails(self) -> list[Mail]:
        """The mails the shop would have sent: one per row written in its `mail` table."""
        return self.state.sent

    def __enter__(self) -> "RecordedShopWebservice":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.state.shop is not None:
            self.state.shop.close()


class RecordingReplay:
    """Answers each recorded request (method, URL, body) with its recorded response, verbatim."""

    def __init__(self, folder: Path, key: str):
        self.recordings = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
        by_request: dict[tuple, list[dict]] = {}  # the same request recorded twice is answered in recorded order
        for r in self.recordings:
            by_request.setdefault(
                (
                    r["request"]["method"],
                    r["request"]["url"],
                    r["request"]["body"] or "",
                    "wrong key" not in r["request"].get("auth", ""),
                ),
                [],
            ).append(r["response"])

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                header = self.headers.get("Authorization", "")
                user = base64.b64decode(header.split(" ", 1)[1]).decode().split(":", 1)[0] if header else ""
                queue = by_request.get((self.command, self.path, body, user == key)) or []
                response = queue.pop(0) if queue else None
                if response is None:
                    self.send_response(599, "no such recording")
                    self.end_headers()
                    return
                payload = (response["body"] or "").encode()
                self.send_response(response["status"], response["reason"])
                for k, v in response["headers"].items():
                    if k.lower() not in ("connection", "host", "set-cookie", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = _answer  # noqa: N815

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingReplay":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
