"""A client for PrestaShop's webservice (/api): the state changes only PrestaShop's own code can make whole.

``POST /api/order_histories?sendemail=1`` runs OrderHistory::changeIdOrderState + addWithemail: the customer's
mail for the state, invoice and delivery-slip numbers by the state's flags, stock, the hooks other modules listen
to.  ``PUT /api/order_carriers/ID`` stores a tracking number (no mail: the "shipped" mail sent by the state change
carries it, so the tracking goes first).  Behaviour as recorded on a real 8.2.0 shop (REAL-8.2.0-OBSERVED.md):
HTTP Basic with the key as the user and an empty password; writes take XML; a wrong key gives 401 (errors 20/21),
a missing id 404 (GET: empty body), malformed XML 500 (errors 3 and 127), a missing field 400 (41), an unknown
resource 400 (27).

The key is a secret: it is registered for redaction and never part of a message.  https is verified with the
system's certificate authorities; plain http is accepted only for a shop on this machine (loopback address).
"""

from __future__ import annotations

import base64
import socket
import ssl
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from replicator.config import register_secret
from replicator.config import webservice_url_problem as check_url

TIMEOUT = 30.0


@dataclass
class WebserviceError(Exception):
    """What the shop answered (or why it could not be asked), as one sentence; ``retryable`` when a later try may
    succeed (the shop down or busy), not when the request itself is wrong (bad key, unknown id, refused field)."""

    status: int  # HTTP status, 0 when the shop could not be reached
    sentence: str
    codes: list[int] = field(default_factory=list)
    retryable: bool = False

    def __str__(self) -> str:
        return self.sentence


def _errors(body: bytes) -> tuple[list[int], list[str]]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return [], []
    codes, messages = [], []
    for error in root.iter("error"):
        code = (error.findtext("code") or "").strip()
        codes.append(int(code) if code.isdigit() else 0)
        messages.append(" ".join((error.findtext("message") or "").split()))
    return codes, messages


def describe_failure(status: int, body: bytes, what: str) -> WebserviceError:
    """The sentence for a non-2xx answer, as the real shop gives them."""
    codes, messages = _errors(body)
    first = messages[0] if messages else ""
    if status == 401:
        return WebserviceError(
            status,
            f"{what}: the shop refused the webservice key (401: {first or 'unauthorized'});"
            " check prestashop.webservice.key and that the key is active",
            codes,
        )
    if status == 403:
        return WebserviceError(
            status,
            f"{what}: the webservice key lacks the permission for this request (403);"
            " give it the permissions listed in docs/prestashop.md",
            codes,
        )
    if status == 404:
        return WebserviceError(
            status, f"{what}: the shop has no such record (404{': ' + first if first else ''})", codes
        )
    if status == 400:
        return WebserviceError(status, f"{what}: the shop rejected the request (400: {first or 'bad request'})", codes)
    if status >= 500:
        detail = messages[-1].split(" Original XML")[0] if messages else "no detail"
        malformed = 127 in codes
        return WebserviceError(
            status, f"{what}: the shop failed with HTTP {status} ({detail})", codes, retryable=not malformed
        )
    return WebserviceError(status, f"{what}: unexpected HTTP {status} from the shop", codes, retryable=True)


def _fields(body: bytes, resource: str) -> dict[str, str]:
    root = ET.fromstring(body)
    node = root.find(resource)
    if node is None:
        raise ValueError(f"no <{resource}> in the answer")
    return {child.tag: (child.text or "").strip() for child in node}


def document(resource: str, fields: dict) -> bytes:
    """<prestashop><resource><field>value</field>...</resource></prestashop> (values escaped)."""
    root = ET.Element("prestashop")
    node = ET.SubElement(root, resource)
    for name, value in fields.items():
        ET.SubElement(node, name).text = "" if value is None else str(value)
    return ET.tostring(root, encoding="utf-8")


class WebserviceClient:
    def __init__(self, url: str, key: str, timeout: float = TIMEOUT, context: ssl.SSLContext | None = None):
        problem = check_url(url)
        if problem:
            raise ValueError(f"prestashop.webservice.url: {problem}")
        register_secret(key)
        self.base = url.rstrip("/")
        if not self.base.endswith("/api"):
            self.base += "/api"
        self._auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        register_secret(self._auth.split(" ", 1)[1])
        self.timeout = timeout
        self.context = context or ssl.create_default_context()
        self.requests: list[tuple[str, str]] = []  # (method, path) sent, for the log and the tests

    # -- transport ---------------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None, what: str = "") -> tuple[int, bytes]:
        """Send one request; return (status, body) of a 2xx answer, raise WebserviceError otherwise."""
        what = what or f"{method} /api/{path}"
        req = urllib.request.Request(f"{self.base}/{path}", data=body, method=method)
        req.add_header("Authorization", self._auth)
        if body is not None:
            req.add_header("Content-Type", "application/xml")
        self.requests.append((method, path))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            raise describe_failure(exc.code, exc.read() or b"", what) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WebserviceError(
                0,
                f"{what}: the shop's webservice could not be reached ({reason})",
                retryable=not isinstance(reason, ssl.SSLCertVerificationError),
            ) from None

    # -- resources -----------------------------------------------------------------------------------------
    def get(self, resource: str, id_: int, what: str = "") -> dict[str, str]:
        _, body = self.request("GET", f"{resource}/{int(id_)}", what=what)
        return _fields(body, _singular(resource))

    def add_order_history(
        self, id_order: int, id_order_state: int, send_mail: bool = True, what: str = ""
    ) -> dict[str, str]:
        """The state change PrestaShop makes itself; returns the new order_history row (id, date_add, ...)."""
        body = document("order_history", {"id_order": int(id_order), "id_order_state": int(id_order_state)})
        query = "?sendemail=1" if send_mail else ""
        _, answer = self.request(
            "POST", f"order_histories{query}", body, what=what or f"order {id_order}: state change to {id_order_state}"
        )
        return _fields(answer, "order_history")

    def set_tracking(self, id_order_carrier: int, tracking: str, id_order: int, what: str = "") -> dict[str, str]:
        """GET the order_carrier, PUT it back with the tracking number (a PUT replaces the whole record)."""
        what = what or f"order {id_order}: tracking number {tracking}"
        current = self.get("order_carriers", id_order_carrier, what=what)
        current["tracking_number"] = tracking
        _, answer = self.request(
            "PUT", f"order_carriers/{int(id_order_carrier)}", document("order_carrier", current), what=what
        )
        return _fields(answer, "order_carrier")


def _singular(resource: str) -> str:
    return {"order_histories": "order_history", "addresses": "address", "categories": "category"}.get(
        resource, resource[:-1] if resource.endswith("s") else resource
    )


__all__ = ["WebserviceClient", "WebserviceError", "check_url", "describe_failure", "document"]
