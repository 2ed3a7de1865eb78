"""-b/--bbs-plus against libtorrent seeders (issue 11).

bbs-plus asks a second peer for the rarest outstanding blocks all along,
not only in the end game, and cancels the other request when one answer
arrives.  Two rate-limited libtorrent seeders, a fast one and a slow one,
on 127.0.0.1: gtorrent -b completes, the data is right, and the duplicate
bytes it received (-v log: "N of M bytes received were duplicates") stay
a small part of the download.  Each process is bounded in time and killed
by PID at teardown.
"""

import re

import pytest

import peers
from peers import why
from helpers import MIB
from test_download import Case, check_done

WASTED_RE = re.compile(r"(\d+) of (\d+) bytes received were duplicates")


def wasted(g):
    m = WASTED_RE.search(g.err)
    return (int(m.group(1)), int(m.group(2))) if m else None


@pytest.mark.timeout(40)
@pytest.mark.parametrize("bbs", [False, True])
def test_bbs_plus_two_seeders(net, tmp_path, seed, bbs):
    case = Case(tmp_path, seed, "single-3M")
    fast = net.lt_peer(case.torrent_bytes, case.src, upload_limit=2 * MIB)
    slow = net.lt_peer(case.torrent_bytes, case.src,
                       upload_limit=256 * 1024)
    fast.wait_seeding(20)
    slow.wait_seeding(20)
    out = tmp_path / "out"
    args = ["-v", "--no-tracker", "--peer", "127.0.0.1:%d" % fast.port,
            "--peer", "127.0.0.1:%d" % slow.port, "-p", peers.free_port(),
            "-o", out]
    if bbs:
        args.append("-b")
    g = net.gt(*args, case.torrent, tag="leecher")
    rc = g.wait(30)
    check_done(g, case, rc)
    case.check(out)
    w = wasted(g)
    assert w is not None, why("no duplicate figure in the -v log", g)
    dup, down = w
    assert down == g.summary()["downloaded"], why(w, g)
    # a duplicate costs at most its block: a fraction of the download
    assert dup <= down // 4, why("wasted %d of %d" % w, g)
