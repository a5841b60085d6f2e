"""Web Push end to end, with every piece real except the browser vendor's push service:

dashboard "Enable notifications" → the real sink's POST /api/push/subscriptions → "Send test
notification" → the sink encrypts (RFC 8291 aes128gcm) and signs (VAPID) a push and POSTs it to a
fake push service on 127.0.0.1 (sink flag --push-allow-insecure-localhost) → the test decrypts it
with the subscription's private key → CDP ServiceWorker.deliverPushMessage hands the plaintext to
the dashboard's service worker → a notification is shown → its click opens the page.

PushManager.subscribe itself cannot succeed offline (browser-harness.md §6), so it is stubbed to
return a subscription whose keys the test made."""

from __future__ import annotations

import base64
import http.server
import json
import os
import threading
import time

from conftest import DESKTOP, Front, wait_js
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hkdf(salt: bytes, ikm: bytes, info: bytes, n: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=salt, info=info).derive(ikm)


def decrypt_aes128gcm(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """RFC 8291 §3.4 + RFC 8188: one record, as Web Push sends it."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public = body[21:21 + idlen]
    ciphertext = body[21 + idlen:]
    assert idlen == 65 and len(ciphertext) <= rs
    ua_public = ua_private.public_key().public_bytes(serialization.Encoding.X962,
                                                     serialization.PublicFormat.UncompressedPoint)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    ecdh = ua_private.exchange(ec.ECDH(), peer)
    ikm = hkdf(auth, ecdh, b"WebPush: info\x00" + ua_public + as_public, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    plain = AESGCM(cek).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
    assert plain.endswith(b"\x02"), "not the last record's padding delimiter"
    return plain[:-1]


class FakePushService:
    def __init__(self):
        self.received: list[dict] = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                outer.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "body": self.rfile.read(n)})
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_enable_notifications_then_a_real_test_push_reaches_the_service_worker(sink_factory, new_page):
    sink = sink_factory.start(extra_args=["--push-allow-insecure-localhost"])
    push = FakePushService()
    front = Front(sink)
    try:
        ua_private = ec.generate_private_key(ec.SECP256R1())
        ua_public = ua_private.public_key().public_bytes(serialization.Encoding.X962,
                                                         serialization.PublicFormat.UncompressedPoint)
        auth = os.urandom(16)
        endpoint = push.url + "/push/device-1"
        ctx, page, watch = new_page(**DESKTOP)
        ctx.add_init_script("""(() => {
          const sub = %s;
          PushManager.prototype.subscribe = async function (opts) {
            window.__subscribeKey = btoa(String.fromCharCode(...new Uint8Array(opts.applicationServerKey)));
            return { endpoint: sub.endpoint, expirationTime: null, options: opts, unsubscribe: async () => true,
                     getKey: () => null, toJSON() { return sub; } };
          };
          PushManager.prototype.getSubscription = async function () { return null; };
        })();""" % json.dumps({"endpoint": endpoint, "expirationTime": None,
                                "keys": {"p256dh": b64u(ua_public), "auth": b64u(auth)}}))
        ctx.grant_permissions(["notifications"], origin=front.origin)
        cdp = ctx.new_cdp_session(page)
        regs: dict[str, str] = {}
        cdp.on("ServiceWorker.workerRegistrationUpdated",
               lambda ev: regs.update({r["scopeURL"]: r["registrationId"] for r in ev["registrations"]}))
        cdp.send("ServiceWorker.enable")

        page.goto(front.origin + "/")
        page.get_by_test_id("tab-settings").click()
        page.locator('[data-testid="notifications"] input[type="text"]').fill("Test phone")
        page.get_by_test_id("enable-notifications").click()
        page.get_by_text("Notifications are on for this device.").wait_for()
        # The key the page subscribed with is the sink's VAPID key.
        vapid = sink.get_json("/api/push/vapid-public-key")["publicKey"]
        key = base64.b64decode(page.evaluate("window.__subscribeKey"))
        assert b64u(key) == vapid
        subs = sink.get_json("/api/push/subscriptions")["subscriptions"]
        assert len(subs) == 1 and subs[0].get("label") == "Test phone", subs

        page.get_by_test_id("test-notification").click()
        page.get_by_text("Test notification sent to 1 device").wait_for()
        deadline = time.monotonic() + 15
        while not push.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert push.received, "the sink sent no push to the fake push service"
        msg = push.received[0]
        assert msg["path"] == "/push/device-1"
        assert msg["headers"].get("content-encoding") == "aes128gcm"
        assert msg["headers"].get("authorization", "").startswith("vapid t=")
        payload = decrypt_aes128gcm(msg["body"], ua_private, auth)
        data = json.loads(payload)
        assert data["title"] and data["body"]

        # The decrypted push, delivered to the dashboard's service worker as the browser would.
        wait_js(page, "navigator.serviceWorker.controller !== null")
        cdp.send("ServiceWorker.deliverPushMessage",
                 {"origin": front.origin, "registrationId": regs[front.origin + "/"], "data": payload.decode()})
        wait_js(page, "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.length > 0)")
        shown = page.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                              ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))")
        assert shown == [{"title": data["title"], "body": data["body"], "tag": data.get("tag") or "",
                          "url": data.get("url") or "/"}]
        watch.assert_clean()
    finally:
        front.close()
        push.close()
