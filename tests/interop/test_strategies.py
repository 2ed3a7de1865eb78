"""The peer strategies of issue 11 in a small swarm (the swarm laboratory,
tests/bench/swarm_lab.py, at N = 4 and F = 8 MiB; `make bench-swarm` runs
it at full size).

One gtorrent seed (upload u_s = 1 MiB/s) and four leechers (upload 1 MiB/s,
download 4 MiB/s, --seed once done) on 127.0.0.1, finding each other
through opentracker; T_min = max(F/u_s, F/d, N*F/(u_s + N*u)) = 8 s.  An
observer peer in the test records every leecher's BITFIELD and HAVEs.
Bounds are loose: these tests say that each switch works, the bench says
how well.  Every process is killed by PID when its run ends.
"""

import os
import sys

import pytest

import peers
from peers import why

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "bench"))
import swarm_lab  # noqa: E402

MIB = 1024 * 1024
N = 4
SIZE = 8 * MIB
RUN_TIMEOUT = 60            # seconds one swarm may take


@pytest.fixture
def lab(gt_download, opentracker, lt, tmp_path):
    lb = swarm_lab.Lab(gt_download, str(tmp_path / "lab"), SIZE, N, MIB,
                       MIB, 4 * MIB, log=print)
    lb.timeout = RUN_TIMEOUT
    yield lb
    lb.close()


@pytest.fixture
def fr_lab(gt_download, opentracker, lt, tmp_path):
    """The free-rider's swarm: F = 24 MiB, upload-bound rates as in the
    bench (seed 2 MiB/s, leechers 512 KiB/s up): T_min 24 s, long enough
    for two rechokes (10 s) and an optimistic turn (30 s); at 8 MiB the
    run ends before the first rechoke and every newcomer stays
    unchoked."""
    lb = swarm_lab.Lab(gt_download, str(tmp_path / "lab"), 24 * MIB, N,
                       2 * MIB, MIB // 2, 4 * MIB, log=print)
    lb.timeout = 90
    yield lb
    lb.close()


def describe(lab, r):
    return "\n".join(swarm_lab.detail(lab, r))


@pytest.mark.serial
@pytest.mark.timeout(120)
def test_homogeneous(lab):
    """Every leecher finishes, all within 2 x T_min."""
    r = lab.run("gt", "plain")
    assert r.ok, why(describe(lab, r))
    assert r.swarm_time <= 2 * lab.tmin, why(
        "swarm time %.1f s > 2 x T_min (%.1f s)" % (r.swarm_time,
                                                    lab.tmin),
        describe(lab, r))


@pytest.mark.xfail(strict=False, reason="issue 11, open: the free-rider is "
                   "not reliably punished yet (free-rider / others' median "
                   "0.98-1.09 with choking against 0.84-0.88 without in 6 "
                   "quiet runs, but 0.88 both ways on a loaded machine)")
@pytest.mark.timeout(200)
def test_free_rider(fr_lab):
    """A libtorrent leecher that never unchokes anyone, in a swarm of
    gtorrents with one regular upload slot.  With choking on it gets the
    optimistic slot and the slots nobody who gives is interested in; with
    --no-choking it gets a slot everywhere: it finishes earlier against
    the others' median with --no-choking than with choking (the flag
    demonstrably matters), and never last by far without choking.  (That
    it finishes last with choking holds when every leecher stays
    interested in every other: make bench-swarm's case 2 reports it; at
    N = 4 the gtorrents often have nothing to trade and their spare
    slots go to the free-rider, as they should.)  At N = 4 with one
    regular slot the optimistic slot is worth as much as the regular
    one, so tit-for-tat expects the free-rider level with the others
    (about 1.0 x their median) against about 0.83 without choking; it
    finished first (0.78-0.95) while a spare regular slot went to the
    peer that never had a turn, the free-rider, before the peers that
    unchoke us (choke.c, fixed): since then 0.98-1.09 against 0.84-0.88
    in six runs."""
    lab = fr_lab
    slots = ["--upload-slots", "1"]
    r = lab.run("gt", "choking", free_rider=True, leech_flags=slots)
    assert r.ok, why(describe(lab, r))
    ft, med, last, frac, rank = swarm_lab.fr_figures(lab, r)
    r2 = lab.run("gt", "no-choking", free_rider=True,
                 leech_flags=slots + ["--no-choking"])
    assert r2.ok, why(describe(lab, r2))
    ft2, med2, _, _, _ = swarm_lab.fr_figures(lab, r2)
    print("choking: free-rider %.1f s, rank %d of %d (others' median "
          "%.1f s, last %.1f s); --no-choking: %.1f s (median %.1f s)" % (
              ft, rank, N, med, last, ft2, med2))
    assert ft / med > ft2 / med2, why(
        "free-rider / others' median: %.2f with choking, %.2f without" % (
            ft / med, ft2 / med2), describe(lab, r), describe(lab, r2))
    assert ft2 <= 1.5 * med2, why(
        "--no-choking: free-rider %.1f s, others' median %.1f s" % (
            ft2, med2), describe(lab, r2))


@pytest.mark.timeout(120)
def test_super_seed(lab):
    """With --super-seed the seed sends at most 1.5 x F before the
    leechers as a whole hold every piece."""
    r = lab.run("gt", "super-seed", super_seed=True)
    assert r.ok, why(describe(lab, r))
    assert r.t_union is not None and r.seed_up is not None, why(
        "no time at which the swarm held every piece", describe(lab, r))
    assert r.seed_up <= 1.5 * SIZE, why(
        "seed sent %.2f F before the swarm held every piece" % (
            r.seed_up / SIZE), describe(lab, r))


@pytest.mark.timeout(120)
def test_snubbing_peer(lab):
    """A peer that unchokes and never sends a block (announced as a
    seed): every leecher still completes; it was connected to and asked
    for blocks; a leecher that ran long enough logs it snubbed."""
    r = lab.run("gt", "snub peer", snub=True)
    assert r.ok, why(describe(lab, r))
    assert r.snub_stats["connections"] > 0 and \
        r.snub_stats["requests"] > 0, why(
            "the snubbing peer was never asked: the test proves nothing",
            r.snub_stats, describe(lab, r))
    assert r.swarm_time <= 3 * lab.tmin, why(describe(lab, r))
    late = [x for x, (c, s) in r.snub.items()
            if c is not None and r.finish.get(x, 0) - c > 65 and s is None]
    assert not late, why("connected over 65 s and never snubbed: %s" %
                         late, describe(lab, r))


@pytest.mark.timeout(120)
def test_bbs_plus(lab):
    """-b: every leecher completes, and the duplicate bytes it received
    (a copy that arrived before its CANCEL did: often none, the senders
    being rate limited) stay a small part of the download."""
    r = lab.run("gt", "-b", leech_flags=["-b"])
    assert r.ok, why(describe(lab, r))
    w = swarm_lab.waste(lab, r)
    assert w is not None, why("no duplicate figure in the -v logs",
                              describe(lab, r))
    assert w <= N * lab.size // 4, why("-b wasted %d bytes" % w,
                                       describe(lab, r))
    print("-b: %d duplicate bytes, swarm time %.1f s" % (w, r.swarm_time))


def test_observer_sees_a_leecher(net, tmp_path, seed):
    """The lab's observer records a gtorrent leecher's pieces as it gets
    them from a rate-limited libtorrent seeder (its finish time and 95 %
    time are what the cases measure)."""
    import random
    import time
    from helpers import KIB, lt_make, make_payload
    src = tmp_path / "src"
    src.mkdir()
    files = make_payload(src, "p.bin", [(None, 2 * MIB)],
                         random.Random(seed))
    tb = lt_make(src, "p.bin", files, 64 * KIB)
    (tmp_path / "t.torrent").write_bytes(tb)
    meta = peers.Meta(tb)
    s = net.lt_peer(tb, src, upload_limit=512 * KIB)
    s.wait_seeding(20)
    port = peers.free_port()
    t0 = time.monotonic()
    obs = swarm_lab.Observer(meta.info_hash, meta.npieces, t0)
    obs.add("L", port)
    obs.start()
    try:
        g = net.gt("--no-tracker", "-p", port, "-o", tmp_path / "out",
                   "--peer", "127.0.0.1:%d" % s.port, "--seed",
                   tmp_path / "t.torrent", tag="leecher")
        assert peers.wait_until(lambda: obs.counts()["L"] == meta.npieces,
                                30), why(obs.counts(), g)
    finally:
        obs.stop()
    tg = obs.targets[0]
    assert len(tg.series) > 3, why("pieces seen at once: %r" % tg.series)
    assert obs.t_union is not None and obs.t_union > 1.0, why(tg.series)
