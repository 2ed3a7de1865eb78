"""The network papercuts of issue 13, each as a new user would meet it.

- SIGHUP (a closed terminal) stops a download, a seed, `dht get-peers`
  and `scrape` as cleanly as SIGINT: the trackers hear `stopped`, the
  summary is printed, the exit code is 130.
- `-p N` busy: one line naming the port, exit 1; without -p the next free
  port is taken and said; `-p 0` says the port the system chose.
- `--bind ADDR` / `--interface ADDR`: the listener and outgoing peer
  connections use that address, IPv4 and IPv6.
- The only tracker answering `failure reason`, with no other peer source,
  ends the run with its reason; a refused `--peer` is said once.
- A .torrent given by http:// URL is fetched (a tiny local server).

Everything runs on 127.0.0.0/8 and ::1; every process is bounded in time
and killed by PID at the end (peers.Net, conftest.run_cmd).
"""

import hashlib
import http.server
import os
import signal
import socket
import socketserver
import threading
import time

import pytest

import helpers
import peers
import trackers
from conftest import run_cmd
from peers import why

PL = 16384


def make_case(tmp_path, announce=None, size=100000, name="pc.bin"):
    """A one-file payload under tmp/src and its .torrent (bytes, path)."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    data = os.urandom(size)
    (src / name).write_bytes(data)
    info = {"name": name, "length": size, "piece length": PL,
            "pieces": b"".join(hashlib.sha1(data[i:i + PL]).digest()
                               for i in range(0, size, PL))}
    t = {"info": info}
    if announce:
        t["announce"] = announce
    raw = helpers.bencode(t)
    path = tmp_path / "pc.torrent"
    path.write_bytes(raw)
    return raw, path, src


def wait_event(tr, ev, timeout=15):
    return peers.wait_until(lambda: ev in tr.events(), timeout, 0.05)


# --- 1. SIGHUP stops cleanly, like SIGINT -----------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("verb", ["download", "seed"])
def test_sighup_stops_cleanly(net, tmp_path, verb):
    with trackers.HttpTracker() as tr:
        _, torrent, src = make_case(tmp_path, tr.announce)
        out = src if verb == "seed" else tmp_path / "out"
        g = net.gt(verb, "-p", peers.free_port(), "-o", out, torrent,
                   tag=verb)
        assert wait_event(tr, "started"), why("never announced", tr, g)
        g.proc.send_signal(signal.SIGHUP)
        rc = g.wait(15)
        assert rc == 130, why("SIGHUP must stop like SIGINT (130)", g)
        assert peers.wait_until(lambda: "stopped" in tr.events(), 5), why(
            "no `stopped` announce after SIGHUP", tr, g)
        assert "stopped" in g.out, why("no summary after SIGHUP", g)


@pytest.mark.timeout(40)
def test_sighup_stops_dht_and_scrape(gtorrent_path, tmp_path):
    """`dht get-peers` and `scrape` end on SIGHUP as on SIGINT."""
    import subprocess
    import helpers as h
    with trackers.HttpTracker(behaviour="silent",
                              scrape_behaviour="silent") as tr:
        _, torrent, _ = make_case(tmp_path, tr.announce)
        cmds = [["dht", "get-peers", "-t", "60", "--dht-bootstrap",
                 "127.0.0.1:1", "0123456789abcdef0123456789abcdef01234567"],
                ["scrape", "-t", "60", str(torrent)]]
        for args in cmds:
            rcs = []
            for sig in (signal.SIGINT, signal.SIGHUP):
                p = subprocess.Popen([gtorrent_path] + h.gt_args(args),
                                     cwd=str(tmp_path),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                try:
                    time.sleep(1.0)
                    p.send_signal(sig)
                    o, e = p.communicate(timeout=15)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait(5)
                rcs.append((p.returncode, o, e))
            assert rcs[0][0] >= 0, (args, rcs)
            assert rcs[1][0] == rcs[0][0], ("SIGHUP must end %s as SIGINT "
                                             "does" % args[0], rcs)
