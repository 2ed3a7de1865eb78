"""A gtorrent seeder under a connection flood.

`gtorrent seed --max-peers 200` serves a rate-limited libtorrent leecher
while 2,000 TCP connections that send nothing are opened to it and held.
It must keep serving the honest peer at no less than half its rate, close
the excess at once and the silent ones within 20 s of their connect (an
absolute deadline), spend less than half a core, and be back to its
baseline of file descriptors within 30 s after the flood; then the rest
of the payload comes unlimited and is compared.  It measures CPU and
rates, so it runs alone (marker serial).  Every socket is
on 127.0.0.1 and closed at the end.
"""

import os
import random
import resource
import select
import socket
import time

import pytest

import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload

FLOOD = 2000
MAX_PEERS = 200
RATE = 4 * MIB                  # the honest leecher's download limit
SIZE = 160 * MIB


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def done_bytes(lp):
    return lp.status().total_wanted_done


def rate_over(lp, secs):
    b0, t0 = done_bytes(lp), time.monotonic()
    time.sleep(secs)
    return (done_bytes(lp) - b0) / (time.monotonic() - t0)


class Flood:
    """Non-blocking sockets connecting to port, each remembered with the
    time its connect completed and the time it saw the other side close."""

    def __init__(self, port, n):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < n + 256:
            pytest.skip("RLIMIT_NOFILE hard limit %d is under %d"
                        % (hard, n + 256))
        if soft < n + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, hard))
        self.socks = []
        self.connected = {}     # fd -> monotonic time the connect completed
        self.closed = {}        # fd -> monotonic time EOF/RST was seen
        self.by_fd = {}
        self.poll = select.poll()
        # a connection flood, not a SYN flood: batches of 100 every 50 ms,
        # so that the kernel's queues never overflow into SYN cookies
        # (those connections exist on our side only: nobody can close them)
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((peers.LOOPBACK, port))
            self.socks.append(s)
            self.by_fd[s.fileno()] = s
            self.poll.register(s, select.POLLOUT | select.POLLIN)
            if i % 100 == 99:
                self.step(50)

    def step(self, ms=100):
        now = time.monotonic()
        for fd, ev in self.poll.poll(ms):
            s = self.by_fd[fd]
            if fd not in self.connected and ev & select.POLLOUT:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                self.connected[fd] = now
                if err != 0:
                    self.closed[fd] = now
                    self.poll.unregister(fd)
                    continue
                self.poll.modify(fd, select.POLLIN)
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                try:
                    data = s.recv(1)
                except OSError:
                    data = b""
                if data == b"":
                    self.closed[fd] = now
                    self.poll.unregister(fd)

    def run_until_closed(self, n, end):
        """Steps until all n sockets connected and saw their close, or
        until the monotonic time end."""
        while time.monotonic() < end:
            if len(self.connected) == n and len(self.closed) == n:
                return
            self.step()

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


@pytest.mark.serial
@pytest.mark.timeout(240)
def test_connection_flood(net, tmp_path, seed):
    src = tmp_path / "src"
    src.mkdir()
    files = make_payload(src, "big.bin", [(None, SIZE)], random.Random(seed))
    tb = lt_make(src, "big.bin", files, 256 * KIB)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(tb)
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "--max-peers", MAX_PEERS,
               "-p", port, "-o", src, torrent, tag="seeder")
    assert peers.wait_listening(port, 30, alive=g.alive), why(g)
    lp = net.lt_peer(tb, tmp_path / "out", seeder=False,
                     download_limit=RATE)
    assert lp.connect_until_peer(port), why("leecher never connected", g)
    peers.wait_until(lambda: done_bytes(lp) > 4 * MIB, 30)
    base_fds = nfds(g.pid)
    before = rate_over(lp, 5)
    assert before > RATE / 4, why("baseline rate %.0f B/s" % before, g)

    cpu0, t0 = cpu_seconds(g.pid), time.monotonic()
    flood = Flood(port, FLOOD)
    max_fds = 0
    b0 = done_bytes(lp)
    end = time.monotonic() + 8
    while time.monotonic() < end:
        flood.step()
        max_fds = max(max_fds, nfds(g.pid))
    during = (done_bytes(lp) - b0) / (time.monotonic() - t0)
    # every silent connection closed within 20 s of its connect: watched
    # until each is closed (gtorrent gives a handshake 10 s), or for at
    # most 14 s more, past the 20 s of the last to connect
    flood.run_until_closed(FLOOD, end + 14)
    cpu = (cpu_seconds(g.pid) - cpu0) / (time.monotonic() - t0)
    open_late = [fd for fd, t in flood.connected.items()
                 if fd not in flood.closed and time.monotonic() - t > 20]
    slow = [flood.closed[fd] - t for fd, t in flood.connected.items()
            if fd in flood.closed and flood.closed[fd] - t > 20]
    n_connected = len(flood.connected)
    n_closed = len(flood.closed)
    flood.close()
    t_end = time.monotonic()
    assert peers.wait_until(lambda: nfds(g.pid) <= base_fds + 2, 30), \
        why("fds %d, baseline %d" % (nfds(g.pid), base_fds), g)
    back = time.monotonic() - t_end
    print("flood: %d connects, %d seen closed; rate %.2f MiB/s before, "
          "%.2f during; seeder CPU %.2f cores; fds max %d (baseline %d), "
          "back in %.1f s" % (n_connected, n_closed, before / MIB,
                              during / MIB, cpu, max_fds, base_fds, back))
    assert g.alive(), why("seeder died", g)
    assert not open_late, why("%d silent connections open > 20 s"
                              % len(open_late), g)
    assert not slow, why("closed after %.1f s" % max(slow), g)
    assert during >= before / 2, \
        why("rate %.0f B/s under the flood, %.0f before" % (during, before),
            g)
    assert cpu < 0.5, why("seeder used %.2f cores" % cpu, g)
    assert max_fds <= MAX_PEERS + 64, why("seeder held %d fds" % max_fds, g)
    # the rest of the payload at full speed: still every byte checked,
    # without 10-15 s more at the measuring rate
    lp.ses.apply_settings({"download_rate_limit": 0})
    lp.wait_seeding(120)
    peers.compare_download(src, tmp_path / "out", "big.bin", files)
