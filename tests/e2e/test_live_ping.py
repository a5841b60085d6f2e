"""The live feed drops a peer that stops answering WebSocket pings, and keeps one that answers.

Both clients are raw sockets (handshake and frames by hand), so what the server sees is exactly
what we send: one never answers a ping (a phone that lost its network without a FIN), the other
answers every ping with a pong, as browsers do. `api.ping_interval: 1s` keeps the test short.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time

from conftest import wait_until


def handshake(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def read_frame(s: socket.socket) -> tuple[int, bytes] | None:
    """(opcode, payload) of the next frame, None at EOF."""
    def exact(n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data
    head = exact(2)
    if head is None:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", exact(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exact(8))[0]
    payload = exact(length)
    return None if payload is None else (opcode, payload)


def send_pong(s: socket.socket, payload: bytes) -> None:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)


def live_clients(sink) -> float:
    for line in sink.metrics_text().splitlines():
        if line.startswith("observatory_live_clients "):
            return float(line.split()[1])
    return -1


def test_a_peer_that_stops_answering_pings_is_dropped_one_that_answers_stays(sink_factory, tmp_path):
    config = tmp_path / "sink.yaml"
    config.write_text("api: { ping_interval: 1s }\n")
    sink = sink_factory.start(extra_args=["--config", str(config)])

    silent = handshake(sink.api_port)
    answering = handshake(sink.api_port)
    wait_until(lambda: live_clients(sink) == 2, desc="two live clients")

    # The answering client runs its read loop for 5 s (five ping periods), answering every ping.
    # The silent one is never read from, so it answers nothing.
    pings = 0
    deadline = time.monotonic() + 5
    answering.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            frame = read_frame(answering)
        except socket.timeout:
            continue
        assert frame is not None, "the server dropped the client that answers pings"
        opcode, payload = frame
        if opcode == 0x9:
            pings += 1
            send_pong(answering, payload)
    assert pings >= 3, pings
    assert live_clients(sink) == 1, "the silent client should have been dropped"

    # The silent client finds its connection closed by the server: what it never read (the
    # snapshot, the pings, a close frame) and then the end of the stream — not a timeout.
    silent.settimeout(5)
    closed = False
    while True:
        try:
            frame = read_frame(silent)
        except ConnectionResetError:
            closed = True
            break
        if frame is None:
            closed = True
            break
    assert closed
    answering.close()
    silent.close()
