#!/usr/bin/env python3
"""Generate the OTLP/HTTP log bodies of the observatory-sink benchmark.

Usage: python gen_bodies.py OUT_DIR [--records 100] [--sessions 10] [--base-ns NS]

Derived from perf/gen_bodies.py of the project's performance anchors
(shared/reference/perf/gen_bodies.py, "Generate realistic OTLP/HTTP request bodies for
load tests"): the Claude-Code-like log events (`claude_event`) and resource attributes are
copied from there unchanged in shape.  What is new here:

* ~10 distinct `session.id`s per body (10 agents behind one collector): one ResourceLogs per
  agent, records spread evenly over them.
* Every record's `time_unix_nano` (fixed64, little-endian) has the 4-byte MARKER as its
  low-order 4 bytes.  wrk (otlp_post_unique.lua) replaces the marker per request with
  SALT + a 3-byte counter, so every request carries 100 records never seen before (the sink
  deduplicates by a hash of each record, which includes the timestamp).  Only the low 32 bits
  of the nanoseconds change: the event times move by < 4.3 s and sessions stay the same 10.
* A gzip variant whose marker bytes stay literally visible: the deflate stream is cut before
  each marker; each piece is compressed with the preceding plaintext as preset dictionary
  (so compression is as good as one stream's, apart from a block boundary per record), and
  the marker travels in a 4-byte stored block.  The gzip CRC-32 is affine in the substituted
  bits, so the load generator fixes the trailer with 32 precomputed constants (the .crc file)
  instead of hashing 56 KB per request.

Writes:
  logs_<N>_uniq.pb          the protobuf template (marker in every record's time)
  logs_<N>_uniq.pb.gz       the gzip template (marker in stored blocks)
  logs_<N>_uniq.pb.gz.crc   "ISIZE CRC0 K0 .. K31" (decimal) for the CRC trailer
  logs_<N>_whole.pb.gz      the template gzipped as one stream (size comparison only)
and prints a size table.  Deterministic for a given --base-ns.
Needs: pip install opentelemetry-proto
"""
import argparse
import gzip
import json
import os
import random
import struct
import sys
import time
import zlib

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import SEVERITY_NUMBER_INFO

MARKER = bytes([0xA5, 0x5A, 0xC3, 0x3C])  # replaced per request by otlp_post_unique.lua
MARKER_LOW32 = int.from_bytes(MARKER, "little")
RNG = random.Random(42)
TOOLS = ["Bash", "Read", "Edit", "Write", "Grep", "Glob", "WebFetch", "TodoWrite", "Task"]
MODELS = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"]


# --- copied from shared/reference/perf/gen_bodies.py (kv, uuid, resource_attrs, claude_event) ---
def kv(key, value):
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def uuid():
    return "%08x-%04x-4%03x-%04x-%012x" % (RNG.getrandbits(32), RNG.getrandbits(16), RNG.getrandbits(12),
                                           0x8000 | RNG.getrandbits(14), RNG.getrandbits(48))


def resource_attrs():
    return [kv("service.name", "claude-code"), kv("service.version", "2.0.50"),
            kv("os.type", "linux"), kv("os.version", "6.1.0-27-amd64"), kv("host.arch", "amd64")]


def claude_event(i, session_id, account, user_id, base_ns):
    """One log record shaped like Claude Code's OTel events (~10-14 attributes).
    (Reference version; here the base time is a parameter and event.timestamp follows it.)"""
    kind = ["tool_result", "tool_result", "tool_decision", "api_request", "user_prompt"][i % 5]
    ts = base_ns + i * 137_000_000
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1_000_000_000)) + ".%03dZ" % (ts // 1_000_000 % 1000)
    common = [kv("event.name", kind),
              kv("event.timestamp", iso),
              kv("session.id", session_id), kv("user.account_uuid", account),
              kv("organization.id", "8a0c1f9e-55d2-4c1b-9d0e-2f6b3c7a9e11"),
              kv("user.id", user_id), kv("terminal.type", "vscode"),
              kv("app.version", "2.0.50")]
    if kind == "tool_result":
        tool = RNG.choice(TOOLS)
        ok = RNG.random() > 0.1
        extra = [kv("tool_name", tool), kv("success", "true" if ok else "false"),
                 kv("duration_ms", str(RNG.randint(3, 9000))), kv("decision", "accept"),
                 kv("source", "config"),
                 kv("tool_parameters", json.dumps({"bash_command": "git status", "full_command": "git status --short",
                                                   "timeout": 120000, "description": "Show working tree status"}))
                 if tool == "Bash" else kv("tool_result_size_bytes", str(RNG.randint(10, 40000)))]
        if not ok:
            extra.append(kv("error", "Error: command exited with code 1"))
    elif kind == "tool_decision":
        extra = [kv("tool_name", RNG.choice(TOOLS)), kv("decision", "accept"), kv("source", "user_temporary")]
    elif kind == "api_request":
        inp, out = RNG.randint(5, 4000), RNG.randint(20, 3000)
        extra = [kv("model", RNG.choice(MODELS)), kv("cost_usd", str(round(RNG.random() * 0.2, 6))),
                 kv("duration_ms", str(RNG.randint(800, 40000))), kv("input_tokens", str(inp)),
                 kv("output_tokens", str(out)), kv("cache_read_tokens", str(RNG.randint(0, 90000))),
                 kv("cache_creation_tokens", str(RNG.randint(0, 9000)))]
    else:
        extra = [kv("prompt_length", str(RNG.randint(5, 2000))), kv("prompt", "<REDACTED>")]
    rec = dict(time_unix_nano=ts, observed_time_unix_nano=ts + 1_000_000,
               severity_number=SEVERITY_NUMBER_INFO, severity_text="INFO",
               body=AnyValue(string_value="claude_code." + kind), attributes=common + extra)
    return rec
# --- end of copied part ---


def build_logs_uniq(n, sessions, base_ns):
    """n records over `sessions` agents (one ResourceLogs each); every time_unix_nano carries MARKER."""
    req = ExportLogsServiceRequest()
    account, user_id = uuid(), "%064x" % RNG.getrandbits(256)
    session_ids = [uuid() for _ in range(sessions)]
    per = n // sessions
    i = 0
    for s, sid in enumerate(session_ids):
        rl = req.resource_logs.add()
        rl.resource.attributes.extend(resource_attrs())
        sl = rl.scope_logs.add()
        sl.scope.name = "com.anthropic.claude_code.events"
        sl.scope.version = "2.0.50"
        for _ in range(per + (1 if s < n % sessions else 0)):
            rec = claude_event(i, sid, account, user_id, base_ns)
            rec["time_unix_nano"] = (rec["time_unix_nano"] & ~0xFFFFFFFF) | MARKER_LOW32
            sl.log_records.add(**rec)
            i += 1
    return req


def gzip_with_visible_markers(plain, marker):
    """gzip member whose deflate stream holds every occurrence of `marker` as a 4-byte stored block."""
    positions = []
    p = plain.find(marker)
    while p >= 0:
        positions.append(p)
        p = plain.find(marker, p + len(marker))
    other = bytes(b ^ 0xFF for b in marker)  # differs from the marker in every byte

    def piece(seg, zdict, last):
        c = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, **({"zdict": zdict} if zdict else {}))
        data = c.compress(seg)
        if last:
            return data + c.flush(zlib.Z_FINISH)
        data += c.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(b"\x00\x00\xff\xff"), "sync flush must end in an empty stored block"
        return data[:-4] + struct.pack("<HH", len(marker), 0xFFFF ^ len(marker)) + marker

    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")  # gzip header, mtime 0, OS unix
    prev, fallbacks = 0, 0
    for p in positions + [len(plain)]:
        last = p == len(plain)
        seg = plain[prev:p]
        zdict = plain[max(0, prev - 32768):prev]
        data = piece(seg, zdict, last)
        if zdict:
            # Safe only if no back-reference copies a marker byte: decode with every marker of the
            # dictionary changed and compare.  Otherwise compress this piece without dictionary.
            d = zlib.decompressobj(-15, zdict=zdict.replace(marker, other))
            if d.decompress(data) + d.flush() != seg + (b"" if last else marker):
                data, fallbacks = piece(seg, b"", last), fallbacks + 1
        out += data
        prev = p + len(marker)
    out += struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF)
    return bytes(out), positions, fallbacks


def crc_constants(plain, positions):
    """CRC-32 is affine: crc(P with id X) = crc(P with id 0) ^ XOR of K[bit] over X's set bits."""
    n = len(plain)
    zero = bytearray(plain)
    for p in positions:
        zero[p:p + 4] = b"\x00\x00\x00\x00"
    crc0 = zlib.crc32(bytes(zero))
    crc_z = zlib.crc32(bytes(n))
    keys = []
    for byte in range(4):
        for bit in range(8):
            d = bytearray(n)
            for p in positions:
                d[p + byte] = 1 << bit
            keys.append(zlib.crc32(bytes(d)) ^ crc_z)
    return crc0, keys


def substitute(data, marker, ident):
    return data.replace(marker, ident)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--base-ns", type=int, default=0, help="time of the first record (default: now)")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    n = a.records
    base = a.base_ns or (time.time_ns() // 1_000_000_000 * 1_000_000_000)
    plain = build_logs_uniq(n, a.sessions, base).SerializeToString(deterministic=True)
    if plain.count(MARKER) != n:
        sys.exit("marker occurs %d times, expected %d (only in the times)" % (plain.count(MARKER), n))
    gz, positions, fallbacks = gzip_with_visible_markers(plain, MARKER)
    if gz.count(MARKER) != n:
        sys.exit("gzip template: marker occurs %d times, expected %d" % (gz.count(MARKER), n))
    crc0, keys = crc_constants(plain, positions)

    # Self-check: what the Lua script will send decodes to the protobuf body with the same ids.
    req = ExportLogsServiceRequest()
    for ident in (bytes([1, 0, 0, 1]), bytes([0xFF, 0xFE, 0x80, 0x7F]), bytes([37, 0x12, 0x34, 0x56])):
        body = substitute(plain, MARKER, ident)
        req.ParseFromString(body)
        assert sum(len(sl.log_records) for rl in req.resource_logs for sl in rl.scope_logs) == n
        crc = crc0
        for k in range(32):
            if ident[k // 8] >> (k % 8) & 1:
                crc ^= keys[k]
        assert crc == zlib.crc32(body), "CRC constants do not reproduce the CRC"
        gzb = substitute(gz, MARKER, ident)
        gzb = gzb[:-8] + struct.pack("<II", crc, len(plain))
        assert gzip.decompress(gzb) == body, "gzip template does not decode to the body"
    sessions = {kv_.value.string_value for rl in req.resource_logs for sl in rl.scope_logs
                for r in sl.log_records for kv_ in r.attributes if kv_.key == "session.id"}
    assert len(sessions) == a.sessions

    files = {
        "logs_%d_uniq.pb" % n: plain,
        "logs_%d_uniq.pb.gz" % n: gz,
        "logs_%d_uniq.pb.gz.crc" % n: ("%d %d %s\n" % (len(plain), crc0, " ".join(map(str, keys)))).encode(),
        "logs_%d_whole.pb.gz" % n: gzip.compress(plain, compresslevel=6, mtime=0),
    }
    print("%-26s %10s %10s" % ("file", "bytes", "per-record"))
    for fn, data in files.items():
        with open(os.path.join(a.out_dir, fn), "wb") as f:
            f.write(data)
        if not fn.endswith(".crc"):
            print("%-26s %10d %10.1f" % (fn, len(data), len(data) / n))
    print("records/body %d, sessions/body %d, first record time %d ns, gzip pieces without dictionary %d"
          % (n, a.sessions, base, fallbacks))


if __name__ == "__main__":
    main()
