#!/usr/bin/python3
"""peer_flood.py - many cheap BitTorrent peers on loopback, all in one
asyncio process (bench_download.py's case 7: gtorrent with 1,000
connected peers).

Opens --n TCP connections to 127.0.0.1:--port, each bound to a source
address 127.0.0.2 .. 127.0.0.(1 + --sources) (so no per-address cap or
port shortage gets in the way), at most --inflight of them waiting for
the handshake at once (gtorrent drops inbound connections beyond 64
that have not finished theirs).  Each peer sends the BitTorrent
handshake (--info-hash, a peer id of its own), a BITFIELD (empty, or
every third peer a partial one: every other piece) and INTERESTED,
then sends a keep-alive every --keepalive s.  One peer in
--request-every also requests blocks when unchoked: --pipeline 16 KiB
REQUESTs outstanding, a new one for each PIECE received, random blocks
of pieces it lacks.

Prints on stdout, one line each:
  connected N            every 100 peers that completed the handshake
  all N                  once every peer has (or gave up: N is the count)
  stat T alive N closed C failed F recv B
                         every second: peers alive, closed by the other
                         side, never connected, payload bytes received
Exits after --life s, on SIGTERM/SIGINT, or when stdin reaches EOF
(its parent died).
"""

import argparse
import asyncio
import os
import random
import signal
import struct
import sys
import time

BLOCK = 16384


class Flood:
    def __init__(self, a):
        self.a = a
        self.ih = bytes.fromhex(a.info_hash)
        self.npieces = (a.size + a.piece_length - 1) // a.piece_length
        self.connected = 0
        self.alive = 0
        self.closed = 0
        self.failed = 0
        self.recv = 0
        self.sem = asyncio.Semaphore(a.inflight)
        self.done = asyncio.Event()
        self.all_said = False
        self.writers = []

    def bitfield(self, i):
        n = (self.npieces + 7) // 8
        if i % 3 != 0:
            return bytes(n)
        bf = bytearray(b"\xaa" * n)     # every other piece (0, 2, 4, ...)
        spare = n * 8 - self.npieces
        if spare:
            bf[-1] &= (0xff << spare) & 0xff
        return bytes(bf)

    def pick(self, i):
        """A random block of a piece this peer lacks: (index, begin, len)."""
        while True:
            p = random.randrange(self.npieces)
            if i % 3 != 0 or p % 2 == 1:
                break
        plen = min(self.a.piece_length, self.a.size - p * self.a.piece_length)
        b = random.randrange((plen + BLOCK - 1) // BLOCK) * BLOCK
        return p, b, min(BLOCK, plen - b)

    async def peer(self, i):
        a = self.a
        src = "127.0.0.%d" % (2 + i % a.sources)
        w = None
        async with self.sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(
                    "127.0.0.1", a.port, local_addr=(src, 0)), 15)
                pid = b"-FL0001-" + os.urandom(12)
                w.write(b"\x13BitTorrent protocol" + bytes(8) + self.ih +
                        pid)
                await w.drain()
                hs = await asyncio.wait_for(r.readexactly(68), 15)
                if hs[28:48] != self.ih:
                    raise ConnectionError("another info-hash")
            except (OSError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError, ConnectionError):
                self.failed += 1
                if w is not None:
                    w.close()
                self.check_all()
                return
        self.connected += 1
        self.alive += 1
        if self.connected % 100 == 0:
            print("connected %d" % self.connected, flush=True)
        self.check_all()
        bf = self.bitfield(i)
        w.write(struct.pack(">IB", 1 + len(bf), 5) + bf +
                struct.pack(">IB", 1, 2))          # BITFIELD, INTERESTED
        self.writers.append(w)
        requester = a.request_every > 0 and i % a.request_every == 0
        outstanding = 0
        unchoked = False
        try:
            await w.drain()
            while True:
                hdr = await r.readexactly(4)
                n = struct.unpack(">I", hdr)[0]
                if n == 0:
                    continue
                body = await r.readexactly(n)
                mid = body[0]
                if mid == 7:
                    self.recv += n - 9
                    outstanding = max(0, outstanding - 1)
                elif mid == 1:
                    unchoked = True
                elif mid == 0:
                    unchoked = False
                    outstanding = 0
                if requester and unchoked and outstanding < a.pipeline:
                    out = []
                    while outstanding < a.pipeline:
                        out.append(struct.pack(">IBIII", 13, 6,
                                               *self.pick(i)))
                        outstanding += 1
                    w.write(b"".join(out))
                    await w.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        self.alive -= 1
        self.closed += 1
        w.close()

    def check_all(self):
        if not self.all_said and self.connected + self.failed >= self.a.n:
            self.all_said = True
            print("all %d" % self.connected, flush=True)

    async def keepalive(self):
        while True:
            await asyncio.sleep(self.a.keepalive)
            for w in self.writers:
                if not w.is_closing():
                    w.write(b"\0\0\0\0")

    async def stats(self, t0):
        while True:
            await asyncio.sleep(1)
            print("stat %.1f alive %d closed %d failed %d recv %d" % (
                time.monotonic() - t0, self.alive, self.closed, self.failed,
                self.recv), flush=True)

    async def main(self):
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, self.done.set)
        try:
            loop.add_reader(sys.stdin.fileno(), self.on_stdin)
        except (OSError, ValueError):
            pass                # not a pipe: --life and signals only
        t0 = time.monotonic()
        tasks = [asyncio.ensure_future(self.peer(i))
                 for i in range(self.a.n)]
        tasks.append(asyncio.ensure_future(self.keepalive()))
        tasks.append(asyncio.ensure_future(self.stats(t0)))
        try:
            await asyncio.wait_for(self.done.wait(), self.a.life)
        except asyncio.TimeoutError:
            pass
        for t in tasks:
            t.cancel()
        for w in self.writers:
            w.close()

    def on_stdin(self):
        if not os.read(sys.stdin.fileno(), 4096):
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            self.done.set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--info-hash", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--piece-length", type=int, required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--sources", type=int, default=10)
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--request-every", type=int, default=10)
    ap.add_argument("--pipeline", type=int, default=8)
    ap.add_argument("--keepalive", type=float, default=20)
    ap.add_argument("--life", type=float, default=120)
    a = ap.parse_args()
    asyncio.run(Flood(a).main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
