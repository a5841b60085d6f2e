#!/usr/bin/env python3
"""Draws the dashboard's PNG icons with the standard library only (zlib + struct), so they can be
regenerated anywhere: a dark rounded square with a cyan ring (the lens) and a green dot (an agent).
Writes public/icons/{icon-192,icon-512,icon-maskable-512,apple-touch-icon}.png. Deterministic."""

import math
import struct
import sys
import zlib
from pathlib import Path

BG = (15, 23, 42)
RING = (34, 211, 238)
DOT = (74, 222, 128)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def draw(size: int, maskable: bool) -> bytes:
    s = size
    radius = 0 if maskable else s * 0.22          # maskable icons are full-bleed squares
    scale = 0.8 if maskable else 1.0              # keep the motif inside the maskable safe zone
    cx = cy = s / 2
    r_out, r_in = s * 0.30 * scale, s * 0.22 * scale
    dot_c = (cx + s * 0.17 * scale, cy - s * 0.17 * scale)
    dot_r = s * 0.075 * scale
    rows = []
    for y in range(s):
        row = bytearray()
        for x in range(s):
            px, py = x + 0.5, y + 0.5
            # coverage of the rounded square (anti-aliased by distance)
            if radius:
                dx = max(radius - px, 0, px - (s - radius))
                dy = max(radius - py, 0, py - (s - radius))
                d = math.hypot(dx, dy) - radius
                a_bg = min(1.0, max(0.0, 0.5 - d))
            else:
                a_bg = 1.0
            col = BG
            dist = math.hypot(px - cx, py - cy)
            ring = min(1.0, max(0.0, 0.5 - abs(dist - (r_out + r_in) / 2) + (r_out - r_in) / 2))
            dd = math.hypot(px - dot_c[0], py - dot_c[1])
            dot = min(1.0, max(0.0, dot_r - dd + 0.5))
            gap = min(1.0, max(0.0, dot_r * 1.6 - dd + 0.5))  # a notch in the ring around the dot
            ring *= 1 - gap
            col = tuple(round(c0 * (1 - ring) + c1 * ring) for c0, c1 in zip(col, RING))
            col = tuple(round(c0 * (1 - dot) + c1 * dot) for c0, c1 in zip(col, DOT))
            row += bytes(col) + bytes([round(255 * a_bg)])
        rows.append(bytes(row))
    return png(s, s, rows)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "public" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (("icon-192", 192, False), ("icon-512", 512, False),
                                 ("icon-maskable-512", 512, True), ("apple-touch-icon", 180, True)):
        (out / f"{name}.png").write_bytes(draw(size, maskable))
        print(f"{out / name}.png")


if __name__ == "__main__":
    main()
