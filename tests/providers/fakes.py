"""A local HTTP server speaking the documented subset of each provider's API that Cobro uses.

The real SDKs (stripe, mercadopago, transbank-sdk) talk to it through COBRO_*_API_BASE:

- Stripe: POST /v1/checkout/sessions (form-encoded, Bearer secret key) -> a checkout.session object.
- Mercado Pago: POST /checkout/preferences (JSON, Bearer access token) -> a preference with
  init_point; GET /v1/payments/{id} -> a payment.
- Transbank Webpay Plus 1.2: POST /rswebpaytransaction/api/webpay/v1.2/transactions (Tbk-Api-Key-Id,
  Tbk-Api-Key-Secret) -> token and url; PUT .../transactions/{token} -> the commit result, once.

The "debtor" side (paying on the provider's page) is driven by the test through pay_* methods, which
return what the provider would then send to Cobro. For browser tests each provider's hosted page is
there too, showing the amount with a pay button and a way back:

- Stripe, GET /pay/{session id}: its POST marks the session paid, sends the signed
  ``checkout.session.completed`` to ``stripe_webhook`` (url, secret) and redirects (303) to the
  session's success_url.
- Mercado Pago, GET /mp/checkout?pref_id=...: its POST approves a payment, notifies ``mp_webhook``
  (url, secret) with the ``x-signature`` its docs describe, and redirects to the preference's
  ``back_urls.success`` with the payment's query parameters; "Volver" goes to ``back_urls.failure``.
- Transbank, GET /webpayserver/initTransaction?token_ws=...: "Pagar" authorizes the transaction and
  sends the debtor to its return_url with ``token_ws`` (Cobro then commits it); "Anular" returns
  with ``TBK_TOKEN``, ``TBK_ORDEN_COMPRA`` and ``TBK_ID_SESION``, as an abandoned payment does.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

TBK_PATH = "/rswebpaytransaction/api/webpay/v1.2/transactions"


def _unflatten(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (a[b][0][c]=v) back to nested dicts (lists as dicts keyed "0", "1")."""
    out: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@dataclass
class FakeProviders:
    stripe_key: str = "sk_test_cobro"
    mp_token: str = "APP_USR-cobro"
    tbk_code: str = "597055555532"
    tbk_key: str = "tbk-secret"
    fail_next: set = field(default_factory=set)  # provider names whose next create answers an error
    sessions: dict = field(default_factory=dict)
    preferences: dict = field(default_factory=dict)
    payments: dict = field(default_factory=dict)
    transactions: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    stripe_webhook: tuple[str, str] | None = None  # (url, signing secret) the hosted page notifies
    mp_webhook: tuple[str, str] | None = None  # (url, webhook secret) Mercado Pago's page notifies
    webhook_answers: list = field(default_factory=list)

    def __post_init__(self):
        self._ids = itertools.count(1001)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(data)

            def _page(self, status, text="", location=None):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self):
                fake._handle(self, "POST")

            def do_GET(self):
                fake._handle(self, "GET")

            def do_PUT(self):
                fake._handle(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- the APIs --------------------------------------------------------------------------------
    def _handle(self, h, method):
        path = urlparse(h.path).path
        raw = h._body()
        self.calls.append((method, path))
        auth = h.headers.get("Authorization", "")
        if path == "/v1/checkout/sessions" and method == "POST":
            if auth != f"Bearer {self.stripe_key}":
                return h._send(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
            if "stripe" in self.fail_next:
                self.fail_next.discard("stripe")
                return h._send(402, {"error": {"type": "card_error", "message": "Your account cannot charge"}})
            form = _unflatten(parse_qsl(raw.decode()))
            item = form["line_items"]["0"]
            sid = f"cs_test_{next(self._ids)}"
            session = {"id": sid, "object": "checkout.session", "mode": form["mode"],
                       "client_reference_id": form.get("client_reference_id"),
                       "metadata": form.get("metadata", {}), "currency": item["price_data"]["currency"],
                       "amount_total": int(item["price_data"]["unit_amount"]) * int(item["quantity"]),
                       "success_url": form["success_url"], "cancel_url": form["cancel_url"],
                       "payment_status": "unpaid", "status": "open", "payment_intent": None,
                       "url": f"{self.base}/pay/{sid}", "form": form}
            self.sessions[sid] = session
            return h._send(200, {k: v for k, v in session.items() if k != "form"})
        if path.startswith("/pay/cs_test_") and method in ("GET", "POST"):
            return self._stripe_hosted_page(h, method, path.rsplit("/", 1)[1])
        if path == "/mp/checkout" and method in ("GET", "POST"):
            return self._mp_hosted_page(h, method, parse_qs(urlparse(h.path).query).get("pref_id", [""])[0])
        if path == "/webpayserver/initTransaction" and method in ("GET", "POST"):
            form = {**parse_qs(urlparse(h.path).query), **parse_qs(raw.decode())}
            return self._tbk_hosted_page(h, method, form.get("token_ws", [""])[0], form.get("do", [""])[0])
        if path == "/checkout/preferences" and method == "POST":
            if auth != f"Bearer {self.mp_token}":
                return h._send(401, {"message": "invalid access token", "status": 401})
            if "mercadopago" in self.fail_next:
                self.fail_next.discard("mercadopago")
                return h._send(500, {"message": "internal error", "status": 500})
            body = json.loads(raw)
            pid = f"{next(self._ids)}-pref"
            pref = {"id": pid, **body, "init_point": f"{self.base}/mp/checkout?pref_id={pid}"}
            self.preferences[pid] = pref
            return h._send(201, pref)
        if path.startswith("/v1/payments/") and method == "GET":
            if auth != f"Bearer {self.mp_token}":
                return h._send(401, {"message": "invalid access token", "status": 401})
            payment = self.payments.get(path.rsplit("/", 1)[1])
            return h._send(200, payment) if payment else h._send(404, {"message": "Payment not found", "status": 404})
        if path.startswith(TBK_PATH):
            if (h.headers.get("Tbk-Api-Key-Id"), h.headers.get("Tbk-Api-Key-Secret")) != (self.tbk_code, self.tbk_key):
                return h._send(401, {"error_message": "Not Authorized"})
            if method == "POST" and path.rstrip("/") == TBK_PATH:
                if "transbank" in self.fail_next:
                    self.fail_next.discard("transbank")
                    return h._send(422, {"error_message": "Invalid value for parameter: amount"})
                body = json.loads(raw)
                body["amount"] = json.loads(str(body["amount"]))  # the SDK sends it as a string
                token = f"01ab{next(self._ids):060d}"
                self.transactions[token] = {**body, "state": "created"}
                return h._send(200, {"token": token, "url": f"{self.base}/webpayserver/initTransaction"})
            if method == "PUT":
                token = path.rsplit("/", 1)[1]
                tx = self.transactions.get(token)
                if tx is None:
                    return h._send(422, {"error_message": "Transaction not found"})
                if tx["state"] in ("committed", "failed"):
                    return h._send(422, {"error_message": "Invalid status for transaction while authorizing"})
                ok = tx["state"] == "authorized"
                tx["state"] = "committed" if ok else "failed"
                return h._send(200, {"vci": "TSY", "amount": tx["amount"], "status": "AUTHORIZED" if ok else "FAILED",
                                     "buy_order": tx["buy_order"], "session_id": tx["session_id"],
                                     "card_detail": {"card_number": "6623"}, "accounting_date": "0504",
                                     "transaction_date": "2026-05-04T15:00:00.000Z",
                                     "authorization_code": "1213" if ok else "000000",
                                     "payment_type_code": "VN", "response_code": 0 if ok else -1,
                                     "installments_number": 0})
        return h._send(404, {"error": {"message": f"no route {method} {path}"}})

    # ---- the hosted pages (browser tests) -------------------------------------------------------
    @staticmethod
    def _checkout_page(h, title: str, amount: str, fields: str, back: str):
        """The amount, a form whose button pays (``fields`` inside it), and the way back (``back``)."""
        return h._page(200, (
            '<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width">'
            f'<title>{title}</title></head><body><h1>{title}</h1><p id="amount">{html.escape(amount)}</p>'
            f'<form method="post">{fields}<button id="pay" type="submit">Pay</button></form>{back}</body></html>'))

    def _notify(self, url: str, payload: bytes, headers: dict) -> None:
        """Send a provider's notification to Cobro and keep its answer for the test."""
        request = urllib.request.Request(url, payload, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                self.webhook_answers.append((answer.status, answer.read().decode()))
        except urllib.error.HTTPError as refused:  # Cobro said no: the test reads why
            self.webhook_answers.append((refused.code, refused.read().decode()))

    def _stripe_hosted_page(self, h, method, sid):
        session = self.sessions.get(sid)
        if session is None:
            return h._page(404, "<h1>No such checkout session</h1>")
        if method == "GET":
            back = f'<p><a id="cancel" href="{html.escape(session["cancel_url"])}">Cancel</a></p>'
            return self._checkout_page(h, "Fake Stripe Checkout",
                                       f"{session['amount_total']} {session['currency'].upper()}", "", back)
        event = self.stripe_completed_event(sid)
        if self.stripe_webhook:
            url, secret = self.stripe_webhook
            payload = json.dumps(event).encode()
            ts = int(time.time())
            sig = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
            self._notify(url, payload, {"Stripe-Signature": f"t={ts},v1={sig}"})
        return h._page(303, "", location=session["success_url"])

    def _mp_hosted_page(self, h, method, pref_id):
        pref = self.preferences.get(pref_id)
        if pref is None:
            return h._page(404, "<h1>No such preference</h1>")
        item = pref["items"][0]
        if method == "GET":
            back = f'<p><a id="cancel" href="{html.escape(pref["back_urls"]["failure"])}">Volver</a></p>'
            return self._checkout_page(h, "Fake Mercado Pago", f"{item['unit_price']} {item['currency_id']}", "", back)
        pid = self.mp_pay(pref_id)
        if self.mp_webhook:
            url, secret = self.mp_webhook
            ts, request_id = str(int(time.time() * 1000)), f"req-{pid}"
            v1 = hmac.new(secret.encode(), f"id:{pid};request-id:{request_id};ts:{ts};".encode(),
                          hashlib.sha256).hexdigest()
            body = {"id": next(self._ids), "type": "payment", "action": "payment.created", "data": {"id": pid}}
            self._notify(f"{url}?{urlencode({'data.id': pid, 'type': 'payment'})}", json.dumps(body).encode(),
                         {"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id})
        query = urlencode({"collection_id": pid, "collection_status": "approved", "payment_id": pid,
                           "status": "approved", "external_reference": pref["external_reference"],
                           "preference_id": pref_id})
        return h._page(303, "", location=f"{pref['back_urls']['success']}?{query}")

    def _tbk_hosted_page(self, h, method, token, do):
        tx = self.transactions.get(token)
        if tx is None:
            return h._page(404, "<h1>Transacción no encontrada</h1>")
        if method == "GET":
            fields = f'<input type="hidden" name="token_ws" value="{html.escape(token)}">'
            cancel = (f'<form method="post"><input type="hidden" name="token_ws" value="{html.escape(token)}">'
                      '<button id="cancel" type="submit" name="do" value="cancel">Anular</button></form>')
            return self._checkout_page(h, "Fake Webpay Plus", f"{tx['amount']} CLP", fields, cancel)
        if do == "cancel":
            query = {"TBK_TOKEN": token, "TBK_ORDEN_COMPRA": tx["buy_order"], "TBK_ID_SESION": tx["session_id"]}
        else:
            self.tbk_authorize(token)
            query = {"token_ws": token}
        return h._page(303, "", location=f"{tx['return_url']}?{urlencode(query)}")

    # ---- what the debtor does on the provider's page --------------------------------------------
    def stripe_session_for(self, checkout_url: str) -> dict:
        return self.sessions[checkout_url.rsplit("/", 1)[1]]

    def stripe_completed_event(self, session_id: str, paid: bool = True) -> dict:
        session = self.sessions[session_id]
        if paid:
            session.update(payment_status="paid", status="complete",
                           payment_intent=session.get("payment_intent") or f"pi_{next(self._ids)}")
        data = {k: v for k, v in session.items() if k != "form"}
        return {"id": f"evt_{next(self._ids)}", "object": "event", "type": "checkout.session.completed",
                "api_version": "2024-06-20", "data": {"object": data}}

    def mp_pay(self, pref_id: str, status: str = "approved", amount=None) -> str:
        pref = self.preferences[pref_id]
        item = pref["items"][0]
        pid = str(next(self._ids) * 1000 + 7)
        self.payments[pid] = {"id": int(pid), "status": status, "external_reference": pref["external_reference"],
                              "transaction_amount": item["unit_price"] if amount is None else amount,
                              "currency_id": item["currency_id"]}
        return pid

    def tbk_authorize(self, token: str, approve: bool = True) -> None:
        self.transactions[token]["state"] = "authorized" if approve else "rejected"
