"""Ports for the interop tests that no other test process can take.

The tests run in parallel (pytest-xdist: workers gw0, gw1, ...), and a
port found by binding to port 0 and closing the socket is free only until
the next bind(0) or connect() anywhere on the machine picks it, which
another worker may do before the test's process binds it.  So each worker
hands out ports from its own block of the range below the kernel's
ephemeral ports (net.ipv4.ip_local_port_range): the kernel never picks
those by itself, and no two workers share a block.  Within its block a
worker starts at a random offset and walks on, so a port is not handed out
twice until the block wraps (thousands of ports; a run uses hundreds per
worker), and each candidate is bound first (TCP and UDP on the host) to
skip ports in use by anything else.

Nothing here talks to the network.
"""

import os
import random
import socket

BLOCKS = 8                  # workers with a block of their own
FLOOR = 10000               # lowest port handed out


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def worker_index():
    """0 for gw0 (or no xdist), 1 for gw1, ..."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    if w.startswith("gw") and w[2:].isdigit():
        return int(w[2:])
    return 0


class _Block:
    def __init__(self):
        top = _ephemeral_low()
        if top - FLOOR < BLOCKS * 256:
            top = 60000         # odd range settings: still disjoint blocks
        size = (top - FLOOR) // BLOCKS
        self.lo = FLOOR + (worker_index() % BLOCKS) * size
        self.size = size
        self.next = random.Random(os.getpid()).randrange(size)

    def take(self):
        p = self.lo + self.next
        self.next = (self.next + 1) % self.size
        return p


_block = None


def _bindable(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(fam, kind)
        try:
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(host="127.0.0.1"):
    """A port of this worker's block free for TCP and UDP on host now."""
    global _block
    if _block is None or _block.pid != os.getpid():
        _block = _Block()
        _block.pid = os.getpid()
    for _ in range(200):
        p = _block.take()
        if _bindable(host, p):
            return p
    raise RuntimeError("no free port in %d-%d" % (
        _block.lo, _block.lo + _block.size - 1))
