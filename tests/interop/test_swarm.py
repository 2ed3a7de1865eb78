"""gtorrent among several peers: a corrupt seeder, a seeder that hangs up
in the middle of a piece, one that never answers, and a swarm of gtorrent
leechers sharing with each other.

Honest seeders are python-libtorrent sessions (rate-limited where gtorrent
should lean on the misbehaving peer); misbehaving ones are scripted peers
from peers.py.  All on 127.0.0.1; every process is killed by PID at
teardown.
"""

import random

import pytest

import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload


class Case:
    """A single-file random payload under tmp/src and its v1 torrent."""

    def __init__(self, tmp_path, seed, size, pl, announce=None,
                 name="payload.bin"):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = name
        self.files = make_payload(self.src, name, [(None, size)],
                                  random.Random(seed))
        self.torrent_bytes = lt_make(self.src, name, self.files, pl,
                                     trackers=[[announce]] if announce
                                     else [])
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash
        self.total = size

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)


def check_done(g, case, rc):
    assert rc == 0, why(g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why("no done line", g)
    assert sm["size"] == case.total, why(sm, g)
    return sm


def peer_arg(port):
    return ["--peer", "127.0.0.1:%d" % port]


# --- 4. four seeders, one serving corrupt blocks ----------------------------

@pytest.mark.timeout(120)
def test_corrupt_seeder_is_banned(net, tmp_path, seed):
    """Three honest libtorrent seeders capped at 256 KiB/s each and a fast
    scripted seeder answering every request with random bytes: gtorrent
    completes with correct data and bans the corrupt one (-v shows a
    'banned' line naming its address) and no honest one."""
    case = Case(tmp_path, seed, 4 * MIB + 4321, 64 * KIB)
    bad = net.scripted(case.meta, peers.seeder_script(corrupt=True),
                       "corrupt")
    honest = []
    for i in range(3):
        s = net.lt_peer(case.torrent_bytes, case.src,
                        upload_limit=256 * KIB)
        honest.append(s)
    for s in honest:
        s.wait_seeding(20)
    args = ["-v", "--no-tracker", "-p", peers.free_port(),
            "-o", tmp_path / "out"]
    args += peer_arg(bad.port)
    for s in honest:
        args += peer_arg(s.port)
    g = net.gt(*args, case.torrent, tag="leecher")
    bad.alive = g.alive
    rc = g.wait(90)
    check_done(g, case, rc)
    case.check(tmp_path / "out")
    assert not bad.errors, why(bad)
    assert bad.stats["blocks"] > 0, why(
        "gtorrent never asked the corrupt peer: the test proves nothing",
        bad, g)
    banned = [ln for ln in g.err.splitlines() if "banned" in ln.lower()]
    assert any(":%d" % bad.port in ln for ln in banned), why(
        "no 'banned' line for the corrupt peer %s" % bad.addr, banned, g)
    for s in honest:
        assert not any(":%d" % s.port in ln for ln in banned), why(
            "honest seeder 127.0.0.1:%d was banned" % s.port, banned)
    assert "failed hash check" in g.err, why(g)


# --- 5. a seeder that hangs up mid-piece, one that stalls -------------------

@pytest.mark.timeout(120)
@pytest.mark.parametrize("end_game", [True, False],
                         ids=["end-game", "no-end-game"])
def test_hangup_and_stalling_peers(net, tmp_path, seed, end_game):
    """Next to one honest libtorrent seeder (512 KiB/s): a scripted seeder
    that sends three good blocks then half a PIECE message and closes (on
    every connection), and one that unchokes, takes requests and never
    answers.  The download completes with correct data; without end game
    only the request timeout (~20 s) frees the stalled blocks, so the run
    is bounded at 75 s."""
    case = Case(tmp_path, seed, 3 * MIB + 99, 32 * KIB)
    hang = net.scripted(case.meta, peers.seeder_script(hangup_after=3),
                        "hangup")
    stall = net.scripted(case.meta, peers.seeder_script(stall=True),
                         "stall")
    s = net.lt_peer(case.torrent_bytes, case.src, upload_limit=512 * KIB)
    s.wait_seeding(20)
    args = ["-v", "--no-tracker", "-p", peers.free_port(),
            "-o", tmp_path / "out"]
    args += peer_arg(hang.port) + peer_arg(stall.port) + peer_arg(s.port)
    if not end_game:
        args.append("--no-end-game")
    g = net.gt(*args, case.torrent, tag="leecher")
    hang.alive = stall.alive = g.alive
    rc = g.wait(75)
    check_done(g, case, rc)
    case.check(tmp_path / "out")
    assert not hang.errors and not stall.errors, why(hang, stall)
    assert hang.stats["hangups"] >= 1, why(
        "gtorrent never asked the hang-up peer", hang, g)
    assert stall.stats["requests"] >= 1, why(
        "gtorrent never asked the stalling peer", stall, g)
    print("%s: %.1f s; hangup peer %r; stall peer %r" % (
        "end-game" if end_game else "no-end-game", g.elapsed,
        hang.stats, stall.stats))


# --- 6. a swarm: one rate-limited seeder, four gtorrent leechers ------------

@pytest.mark.timeout(150)
def test_swarm_leechers_share(net, opentracker, tmp_path, seed):
    """One libtorrent seeder at 2 MiB/s and four gtorrent leechers, all
    through opentracker: every leecher completes with correct data and the
    leechers traded pieces among themselves (uploaded counters)."""
    tr = net.tracker()
    case = Case(tmp_path, seed, 8 * MIB + 1, 128 * KIB, tr.announce)
    tr.start(case.ih)
    s = net.lt_peer(case.torrent_bytes, case.src, upload_limit=2 * MIB)
    s.wait_seeding(20)
    assert tr.wait_peers(case.ih, complete=1), "seeder never announced"
    leechers = []
    for i in range(4):
        out = tmp_path / ("out%d" % i)
        leechers.append((out, net.gt("-v", "-p", peers.free_port(), "-o",
                                     out, case.torrent,
                                     tag="leecher%d" % i)))
    sums = []
    for out, g in leechers:
        rc = g.wait(120)
        sums.append(check_done(g, case, rc))
        case.check(out)
    ups = [sm["uploaded"] for sm in sums]
    print("uploaded per leecher:", ups, "seeder uploaded:", s.uploaded(),
          "times:", ["%.1f" % g.elapsed for _, g in leechers])
    assert sum(ups) > 0, why("no leecher uploaded anything", ups)
    assert max(ups) > 0, why(ups)
