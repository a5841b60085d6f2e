"""A tiny same-origin front for browser tests (and local development) while the sink does not
serve the dashboard itself: static files from dashboard/dist (index.html for unknown paths, like
the sink will) and everything under /api/, /ws, /control/, /healthz and /metrics passed through
to the sink's API port byte for byte (WebSocket upgrades included).

Each connection carries one request (answers say `Connection: close`, proxied requests are sent
upstream with `Connection: close` unless they are upgrades), which keeps the tunnel trivial.

    python3 tests/browser/devserver.py --api-port 4320 [--port 8080] [--dist dashboard/dist]
"""

from __future__ import annotations

import argparse
import asyncio
import mimetypes
import threading
from pathlib import Path

PROXIED = ("/api/", "/ws", "/control/", "/healthz", "/metrics")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".webmanifest": "application/manifest+json",
         ".png": "image/png", ".json": "application/json"}
CSP = ("default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "worker-src 'self'; manifest-src 'self'")


class DevServer:
    def __init__(self, dist: Path, api_port: int, host: str = "127.0.0.1", port: int = 0, block_ws: bool = False):
        self.dist = dist.resolve()
        self.block_ws = block_ws
        self.api_port = api_port
        self.host = host
        self.port = port
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.base_events.Server | None = None
        self.thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Future | None = None
        self.tasks: set[asyncio.Task] = set()

    # -- lifecycle (in a daemon thread, for pytest) ------------------------------------------

    def start(self) -> "DevServer":
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("devserver did not start")
        return self

    def stop(self) -> None:
        if self.loop and self._stop and not self._stop.done():
            self.loop.call_soon_threadsafe(self._stop.set_result, None)
        if self.thread:
            self.thread.join(10)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = self.loop.create_future()
        self.server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop
        finally:
            self.server.close()
            for t in list(self.tasks):
                t.cancel()
            await self.server.wait_closed()

    # -- requests ------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task:
            self.tasks.add(task)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = line.split(" ", 2)
            path = target.split("?", 1)[0]
            if self.block_ws and path == "/ws":
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
            elif path.startswith(PROXIED):
                await self._proxy(head, header_lines, line, reader, writer)
            else:
                await self._static(method, path, writer)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, ValueError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass
            if task:
                self.tasks.discard(task)

    async def _static(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        rel = path.lstrip("/") or "index.html"
        f = (self.dist / rel).resolve()
        if not str(f).startswith(str(self.dist)) or not f.is_file():
            f = self.dist / "index.html"  # SPA fallback, as the sink does
        body = f.read_bytes()
        ctype = TYPES.get(f.suffix) or mimetypes.guess_type(f.name)[0] or "application/octet-stream"
        cache = "public, max-age=31536000, immutable" if rel.startswith("assets/") else "no-cache"
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                f"Cache-Control: {cache}\r\nContent-Security-Policy: {CSP}\r\nConnection: close\r\n\r\n")
        writer.write(head.encode() + (body if method != "HEAD" else b""))
        await writer.drain()

    async def _proxy(self, head: bytes, header_lines: list[str], line: str, reader, writer) -> None:
        upgrade = any(h.lower().startswith("upgrade:") for h in header_lines)
        if not upgrade:
            kept = [h for h in header_lines if h and not h.lower().startswith(("connection:", "keep-alive:"))]
            head = ("\r\n".join([line, *kept, "Connection: close"]) + "\r\n\r\n").encode("latin-1")
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.api_port)
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        up_w.write(head)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                try:
                    dst.close()
                except Exception:
                    pass

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--api-port", type=int, required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--dist", type=Path, default=Path(__file__).resolve().parents[2] / "dashboard" / "dist")
    a = ap.parse_args()
    s = DevServer(a.dist, a.api_port, port=a.port).start()
    print(f"dashboard on {s.origin} → sink API 127.0.0.1:{a.api_port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        s.stop()
