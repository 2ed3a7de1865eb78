"""Seeding limits: --seed-ratio, --seed-time, --seed-idle (issue 11).

The first limit reached ends seeding: gtorrent tells the tracker it stops
(as on Ctrl-C), prints "gtorrent: seeding done: WHY" and the usual summary
line, and exits 0.  Everything runs on 127.0.0.1 with python-libtorrent
peers; each process is bounded in time and killed by PID at teardown.
"""

import re
import time

import pytest

import peers
from peers import why
from test_download import Case, lt_leech_from

SEEDING_DONE_RE = re.compile(r"^gtorrent: seeding done: (.*)$", re.M)


def seeding_done(g):
    """The reason text of the "seeding done" line, or None."""
    m = SEEDING_DONE_RE.search(g.out)
    return m.group(1) if m else None


def check_seed_exit(g, rc, reason):
    assert rc == 0, why("a seeding limit must give exit 0", g)
    text = seeding_done(g)
    assert text is not None, why("no 'seeding done' line", g)
    assert text.startswith(reason), why(text, g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why(sm, g)
    # the reason line comes before the summary
    assert g.out.index("seeding done:") < g.out.rindex("gtorrent: done:")
    return sm


@pytest.mark.timeout(40)
def test_seed_time_ends_seeding(net, tmp_path, seed):
    """`gtorrent seed --seed-time 0.1`: six seconds of seeding, then exit
    0 with the reason, nobody around."""
    case = Case(tmp_path, seed, "single-3M")
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "-p", port, "-o", case.src,
               "--seed-time", "0.1", case.torrent, tag="seeder")
    rc = g.wait(25)
    check_seed_exit(g, rc, "seed time 0.1 min reached")
    assert 5.5 <= g.elapsed <= 15, why("took %.1f s" % g.elapsed, g)


@pytest.mark.timeout(40)
def test_seed_ratio_after_download(net, tmp_path, seed):
    """`gtorrent FILE --seed-ratio 1`: download from a libtorrent seeder,
    which then goes away; a libtorrent leecher takes the whole file from
    gtorrent, which exits 0 once it has uploaded the torrent's size (the
    leecher complete: the last blocks went out before it left)."""
    case = Case(tmp_path, seed, "single-3M")
    s = net.lt_peer(case.torrent_bytes, case.src)
    s.wait_seeding(20)
    out = tmp_path / "out"
    port = peers.free_port()
    g = net.gt("--no-tracker", "--peer", "127.0.0.1:%d" % s.port, "-p",
               port, "-o", out, "--seed-ratio", "1", case.torrent,
               tag="gt")
    assert peers.wait_until(lambda: peers.COMPLETE_RE.search(g.err) or
                            not g.alive(), 20, 0.1), why(
        "download did not finish", g)
    assert g.alive(), why("exited at completion despite --seed-ratio", g)
    case.check(out)
    s.close()                         # only gtorrent has the data now
    lt_leech_from(net, case, tmp_path, port)
    rc = g.wait(15)
    sm = check_seed_exit(g, rc, "ratio ")
    assert sm["uploaded"] >= case.real_total, why(sm, g)
    ratio = float(seeding_done(g).split()[1])
    assert ratio >= 1.0, why(g)


@pytest.mark.timeout(40)
def test_seed_idle_after_leecher(net, tmp_path, seed):
    """`gtorrent seed --seed-idle 0.1`: a libtorrent leecher downloads
    everything; six seconds after the last block went out (the idle time
    counts from the last upload, not from the start) gtorrent exits 0."""
    case = Case(tmp_path, seed, "single-3M")
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "-p", port, "-o", case.src,
               "--seed-idle", "0.1", case.torrent, tag="seeder")
    assert peers.wait_listening(port, 10, g.alive), why(g)
    time.sleep(3)                     # half the idle time with no upload
    lt_leech_from(net, case, tmp_path, port)
    done_at = g.elapsed
    assert g.alive(), why("exited while uploading", g)
    rc = g.wait(20)
    sm = check_seed_exit(g, rc, "seed idle 0.1 min reached")
    assert sm["uploaded"] >= case.real_total, why(sm, g)
    assert g.elapsed - done_at >= 4.5, why(
        "exited %.1f s after the leecher completed" %
        (g.elapsed - done_at), g)


@pytest.mark.timeout(30)
def test_seed_limit_interrupted_is_130(net, tmp_path, seed):
    """Ctrl-C before a limit is reached stays an interruption (130), with
    no 'seeding done' line."""
    case = Case(tmp_path, seed, "single-3M")
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "-p", port, "-o", case.src,
               "--seed-time", "10", "--seed-ratio", "5", case.torrent,
               tag="seeder")
    assert peers.wait_listening(port, 10, g.alive), why(g)
    rc = g.interrupt()
    assert rc == 130, why(g)
    assert seeding_done(g) is None, why(g)
    assert g.summary()["state"] == "stopped", why(g)
