#!/usr/bin/env python3
"""Fake Web Push service (RFC 8030 + RFC 8291 + RFC 8292) for offline tests (the recipe of
shared/reference/webpush.md §8.3).

Needs: cryptography, http_ece (pip install http_ece).  Binds to loopback only.

  python3 fake_push_service.py [--port 0] [--apple]
  -> prints "LISTENING http://127.0.0.1:<port>" on stdout, then serves.

Test-facing API (all JSON):
  POST /subscribe               body {} or {"applicationServerKey": "<b64url VAPID pub>"}
                                -> 201 {"endpoint", "expirationTime": null, "keys": {"p256dh", "auth"}}
                                   (same shape as PushSubscription.toJSON() in a browser)
  POST /push/<id>               the push resource (what the app server under test calls)
  GET  /__messages[?sub=<id>]   -> [{"sub", "ttl", "urgency", "topic", "plaintext", "claims", ...}]
  POST /__control/<id>          {"status": 410} | {"status": 429, "retry_after": 3, "times": 1} | {"status": null}
  POST /__reset                 drop all messages and scripted statuses
"""
import argparse, base64, json, re, secrets, struct, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
URGENCIES = {"very-low", "low", "normal", "high"}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    if not B64URL.match(s or ""):
        raise ValueError("not base64url (no padding)")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Reject(Exception):
    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.subs = {}      # id -> dict(priv, auth, p256dh, vapid_key, script)
        self.messages = []  # delivered (decrypted) messages, newest last


def verify_vapid(authz, origin, apple_strict, now=None):
    """Return (claims, k) for a valid 'vapid t=<jwt>, k=<key>' header, else raise Reject."""
    now = int(now or time.time())
    m = re.match(r"^\s*vapid\s+(.*)$", authz or "", re.I | re.S)
    if not m:
        raise Reject(401, "missing or non-'vapid' Authorization header")
    params = {}
    for part in m.group(1).split(","):
        key, _, val = part.strip().partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    if "t" not in params or "k" not in params:
        raise Reject(401, "vapid credentials need both t= and k=")
    try:
        head_b64, claims_b64, sig_b64 = params["t"].split(".")
        header = json.loads(unb64u(head_b64))
        claims = json.loads(unb64u(claims_b64))
        sig = unb64u(sig_b64)
        pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(params["k"]))
    except Exception as e:  # malformed JWT / key
        raise Reject(403, f"malformed VAPID token or key: {e}")
    if header.get("alg") != "ES256":
        raise Reject(403, f"JWT alg must be ES256, got {header.get('alg')!r}")
    if len(sig) != 64:  # JOSE ES256 = raw r||s, NOT DER
        raise Reject(403, f"ES256 signature must be 64 raw bytes (r||s), got {len(sig)}")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        pub.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Reject(403, "VAPID JWT signature does not verify with k")
    if claims.get("aud") != origin:
        raise Reject(403, f"aud must be the push resource origin {origin!r}, got {claims.get('aud')!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now:
        raise Reject(403, f"exp missing or expired: {exp!r}")
    if exp > now + 24 * 3600:
        raise Reject(403, "exp is more than 24 hours in the future")
    sub = claims.get("sub", "")
    if not (isinstance(sub, str) and (sub.startswith("mailto:") or sub.startswith("https:"))):
        raise Reject(403, f"sub should be a mailto: or https: URI, got {sub!r}")
    if apple_strict and re.match(r"^https://localhost(?:[:/]|$)", sub):
        raise Reject(403, "BadJwtToken (Apple rejects https://localhost as sub)")
    return claims, params["k"]


def decrypt_body(body, sub):
    """RFC 8188/8291 checks + decryption with the subscriber's private key (http_ece)."""
    if len(body) > 4096:
        raise Reject(413, f"payload {len(body)} bytes > 4096")
    if len(body) < 16 + 4 + 1 + 65 + 17:
        raise Reject(400, "aes128gcm body too short")
    rs = struct.unpack("!I", body[16:20])[0]
    idlen = body[20]
    if idlen != 65 or body[21] != 0x04:
        raise Reject(400, f"keyid must be the 65-byte uncompressed as_public (idlen={idlen})")
    if rs < 18 or len(body) - 86 > rs:
        raise Reject(400, f"must be exactly one record (rs={rs}, records bytes={len(body) - 86})")
    try:
        return http_ece.decrypt(body, private_key=sub["priv"], auth_secret=sub["auth"], version="aes128gcm")
    except Exception as e:
        raise Reject(400, f"decryption failed: {getattr(e, 'message', e)}")


def make_handler(state, base_url, apple_strict):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # keep test output quiet
            pass

        def _send(self, status, obj=None, headers=None):
            data = b"" if obj is None else json.dumps(obj).encode()
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            if obj is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            if self.path.startswith("/__messages"):
                m = re.search(r"[?&]sub=([^&]+)", self.path)
                with state.lock:
                    out = [x for x in state.messages if not m or x["sub"] == m.group(1)]
                return self._send(200, out)
            self._send(404, {"error": "not found"})

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            if self.headers.get("Transfer-Encoding"):  # some push services demand Content-Length
                self.close_connection = True
                return self._send(411, {"code": 411, "reason": "send Content-Length, not chunked"})
            body = self._body()
            if path == "/subscribe":
                req = json.loads(body or b"{}")
                priv = ec.generate_private_key(ec.SECP256R1())
                p256dh = priv.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint)
                sid, auth = secrets.token_urlsafe(12), secrets.token_bytes(16)
                with state.lock:
                    state.subs[sid] = dict(priv=priv, auth=auth, vapid_key=req.get("applicationServerKey"),
                                           script=None)
                return self._send(201, {"endpoint": f"{base_url}/push/{sid}", "expirationTime": None,
                                        "keys": {"p256dh": b64u(p256dh), "auth": b64u(auth)}})
            if path == "/__reset":
                with state.lock:
                    state.messages.clear()
                    for s in state.subs.values():
                        s["script"] = None
                return self._send(204)
            if path.startswith("/__control/"):
                with state.lock:
                    s = state.subs.get(path.rsplit("/", 1)[1])
                    if s is None:
                        return self._send(404, {"error": "no such subscription"})
                    req = json.loads(body or b"{}")
                    s["script"] = req if req.get("status") else None
                return self._send(204)
            if path.startswith("/push/"):
                return self._push(path.rsplit("/", 1)[1], body)
            self._send(404, {"error": "not found"})

        def _push(self, sid, body):
            try:
                with state.lock:
                    sub = state.subs.get(sid)
                    if sub is None:
                        raise Reject(404, "no such subscription (expired?)")
                    script = sub["script"]
                    if script:  # scripted failure: 410 Gone, 429 + Retry-After, 5xx, ...
                        if script.get("times") is not None:
                            script["times"] -= 1
                            if script["times"] <= 0:
                                sub["script"] = None
                        hdrs = {"Retry-After": script["retry_after"]} if "retry_after" in script else {}
                        raise Reject(script["status"], "scripted", hdrs)
                ttl = self.headers.get("TTL")
                if ttl is None or not ttl.isdigit():
                    raise Reject(400, "TTL header is required (RFC 8030 5.2)")
                urgency = self.headers.get("Urgency", "normal")
                if urgency not in URGENCIES:
                    raise Reject(400, f"bad Urgency {urgency!r}")
                topic = self.headers.get("Topic")
                if topic is not None and (len(topic) > 32 or not B64URL.match(topic)):
                    raise Reject(400, "Topic must be <= 32 base64url characters")
                claims, k = verify_vapid(self.headers.get("Authorization"), base_url, apple_strict)
                if sub["vapid_key"] and sub["vapid_key"] != k:
                    raise Reject(403, "VAPID key differs from the subscription's applicationServerKey")
                plaintext = None
                if body:
                    if self.headers.get("Content-Encoding", "").lower() != "aes128gcm":
                        raise Reject(400, "Content-Encoding must be aes128gcm")
                    plaintext = decrypt_body(body, sub)
            except Reject as r:
                return self._send(r.status, {"code": r.status, "reason": str(r)}, r.headers)
            msg_id = secrets.token_urlsafe(8)
            with state.lock:
                if topic:  # RFC 8030 5.4: same topic replaces the stored message
                    state.messages = [m for m in state.messages if not (m["sub"] == sid and m["topic"] == topic)]
                state.messages.append(dict(
                    id=msg_id, sub=sid, ttl=int(ttl), urgency=urgency, topic=topic, claims=claims,
                    vapid_k=k, body_len=len(body), received_at=time.time(),
                    plaintext=None if plaintext is None else plaintext.decode("utf-8", "replace")))
            self._send(201, None, {"Location": f"{base_url}/message/{msg_id}", "TTL": ttl})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--apple", action="store_true", help="also reject sub=https://localhost like Apple")
    args = ap.parse_args()
    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), None)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = make_handler(state, base_url, args.apple)
    print(f"LISTENING {base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
