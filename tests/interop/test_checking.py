"""The data check at the start holds the loop, one torrent at a time
(issue 13): a Ctrl-C during it is taken before the next torrent's check,
so a long list of torrents with data on disk stops at once, exit 130, and
the torrents not checked yet are not run.

Twenty torrents of 1 GiB each over sparse files (holes read as zeros:
every piece's hash is that of a zero piece, so the .torrent files are made
here, not hashed); each check takes a fraction of a second.  No tracker, no
DHT, a --peer on a loopback port nobody listens on.  The process is bounded in
time and killed by PID (peers.Net).
"""

import hashlib
import time

import pytest

import helpers
import peers
from peers import why

N = 20
SIZE = 1 << 30
PIECE = 4 << 20


def zero_torrents(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    h = hashlib.sha1(bytes(PIECE)).digest()
    paths = []
    for i in range(N):
        name = "zero-%02d.bin" % i
        with open(data / name, "wb") as f:
            f.truncate(SIZE)                # a hole: no disk used
        meta = {"info": {"name": name, "length": SIZE,
                         "piece length": PIECE,
                         "pieces": h * (SIZE // PIECE)}}
        t = tmp_path / (name + ".torrent")
        t.write_bytes(helpers.bencode(meta))
        paths.append(t)
    return data, paths


@pytest.mark.timeout(120)
def test_ctrl_c_during_the_checks(net, tmp_path):
    data, torrents = zero_torrents(tmp_path)
    g = net.gt("--no-dht", "--no-tracker", "--recheck", "-p",
               peers.free_port(), "--peer", "127.0.0.1:%d" % peers.free_port(),
               "-o", data, *torrents, tag="checks")
    time.sleep(1.5)
    assert g.alive(), why("all checked in 1.5 s: make them longer", g)
    t0 = time.monotonic()
    rc = g.interrupt(60)
    took = time.monotonic() - t0
    assert rc == 130, why(g)
    done = g.out.count("gtorrent: done: ")
    # the one being checked at the Ctrl-C ends, the rest never start
    assert done < N - 2, why("%d of %d torrents ran to the end" % (done, N),
                             g)
    assert took < 10, why("%.1f s after Ctrl-C" % took, g)
    # each checked one was complete (a summary each), the rest not run
    assert g.err_lines_with("not started") == [
        "gtorrent: warning: interrupted: %d torrents not started" %
        (N - done)], why(g)
    print("stopped %.2f s after Ctrl-C, %d of %d checked" % (took, done, N))
