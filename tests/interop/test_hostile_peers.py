"""Hostile peers next to one honest seeder.

gtorrent downloads from a libtorrent seeder capped at 384 KiB/s (so the
download lasts about 5 s) while a scripted peer (peers.hostile_script)
misbehaves: an oversized length prefix, out-of-range HAVE/REQUEST/PIECE,
an unrequested PIECE, a bitfield of the wrong length, garbage instead of a
handshake, a handshake for another torrent.  The hostile peer either dials
gtorrent ("in") or is dialled by it through --peer ("out").

For each, gtorrent must hang up on that peer within DROP_WAIT seconds and
not merely because it finished (and, at -vv, log a line naming the peer),
keep downloading from the honest seeder, exit 0 with the right data, and
never die of a signal.  (An unrequested in-range PIECE may be ignored
instead: peers.HOSTILE says which behaviours must be dropped.)
"""

import random

import pytest

import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload

DROP_WAIT = 3.0     # seconds gtorrent has to hang up after the bad bytes
EXIT_GAP = 1.0      # a hang-up this close to gtorrent's exit is its exit


class Case:
    def __init__(self, tmp_path, seed):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = "hostile.bin"
        # 65 pieces: a bitfield with spare bits
        size = 2 * MIB + 5000
        self.files = make_payload(self.src, self.name, [(None, size)],
                                  random.Random(seed))
        self.torrent_bytes = lt_make(self.src, self.name, self.files,
                                     32 * KIB)
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.total = size


def log_lines_for(err, addr):
    """-vv lines that name addr other than plain 'connected' lines."""
    import re
    out = []
    for ln in err.splitlines():
        if addr not in ln:
            continue
        if re.search(r"(?<![a-z])connected\b", ln, re.I) and not re.search(
                r"drop|ban|clos|error|invalid|bad|reject|protocol|disconn",
                ln, re.I):
            continue
        out.append(ln)
    return out


@pytest.mark.timeout(75)
@pytest.mark.parametrize("direction", ["in", "out"])
@pytest.mark.parametrize("kind", list(peers.HOSTILE))
def test_hostile_peer(net, tmp_path, seed, kind, direction):
    case = Case(tmp_path, seed)
    s = net.lt_peer(case.torrent_bytes, case.src, upload_limit=384 * KIB)
    s.wait_seeding(20)
    h = net.scripted(case.meta, peers.hostile_script(kind, 10.0),
                     "hostile-" + kind, listen=(direction == "out"))
    port = peers.free_port()
    out = tmp_path / "out"
    args = ["-vv", "--no-tracker", "-p", port, "-o", out,
            "--peer", "127.0.0.1:%d" % s.port]
    if direction == "out":
        args += ["--peer", h.addr]
    g = net.gt(*args, case.torrent, tag="leecher")
    h.alive = g.alive
    if direction == "in":
        h.connect_to(port, timeout=15)
    rc = g.wait(60)
    assert rc >= 0, why("gtorrent died of signal %d" % -rc, g)
    assert rc == 0, why(g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why(g)
    peers.compare_download(case.src, out, case.name, case.files)

    h.stop()
    assert not h.errors, why(h)
    assert h.conns, why("the hostile peer never got a connection", h, g)
    sent = [c for c in h.conns if c.sent_bad is not None]
    assert sent, why("the hostile bytes were never sent", h, g)
    dropped = [c for c in sent
               if c.closed_by_remote is not None and c.gt_alive_at_close
               and c.closed_by_remote - c.sent_bad <= DROP_WAIT
               and c.closed_by_remote < g.t1 - EXIT_GAP]
    print("%s/%s: %.1f s, %d connection(s), %d dropped by gtorrent" % (
        kind, direction, g.elapsed, len(sent), len(dropped)))
    for c in dropped:
        print("  %s after %.3f s: %s" % (
            c.addr_as_seen, c.closed_by_remote - c.sent_bad,
            log_lines_for(g.err, c.addr_as_seen)[-3:]))
    if not peers.HOSTILE[kind]:
        return
    assert dropped, why("gtorrent did not hang up on the %s peer within "
                        "%s s while running (gtorrent ran %.3f s after the "
                        "peer started)" % (kind, DROP_WAIT, g.t1 - h.t0),
                        h, g)
    named = [c for c in dropped if log_lines_for(g.err, c.addr_as_seen)]
    assert named, why("-vv shows no line for the dropped peer %s" %
                      dropped[0].addr_as_seen, g)
