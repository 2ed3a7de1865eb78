"""gtorrent downloading and seeding with libtorrent 2.0 and with itself.

Everything runs on 127.0.0.1: opentracker (HTTP announce), python-libtorrent
sessions with DHT/LSD/UPnP/NAT-PMP/uTP off, gtorrent processes on explicit
free ports.  Payloads are random and compared byte for byte.  Each process
is bounded in time and killed by PID at teardown (peers.Net).
"""

import time

import pytest

import peers
import trackers
from peers import why
from helpers import KIB, MIB, build_shape, lt_make, make_payload

GT_TIMEOUT = 60          # seconds for one gtorrent download


class Case:
    """A payload under tmp/src, its torrent (libtorrent-made) and Meta."""

    def __init__(self, tmp_path, seed, kind, announce=None):
        import random
        self.src = tmp_path / "src"
        self.src.mkdir()
        v1_only = True
        if kind == "single-8M":
            self.pl = 256 * KIB
            rng = random.Random(seed)
            self.name = "payload 8M.bin"
            self.files = make_payload(self.src, self.name,
                                      [(None, 8 * MIB + 12345)], rng)
        elif kind == "single-3M":
            self.pl = 64 * KIB
            rng = random.Random(seed)
            self.name = "three.bin"
            self.files = make_payload(self.src, self.name,
                                      [(None, 3 * MIB + 777)], rng)
        else:
            # multi-nested: nested dirs, empty files, unicode names, a
            # last piece of one byte; hybrid: v1+v2 with pad files
            shape = {"multi-nested": "multi-nested",
                     "multi-many": "multi-many",
                     "hybrid-edges": "multi-empty-edges"}[kind]
            v1_only = kind != "hybrid-edges"
            self.pl = 32 * KIB
            self.name, self.files, _ = build_shape(self.src, shape, self.pl,
                                                   seed)
        trackers = [[announce]] if announce else []
        self.torrent_bytes = lt_make(self.src, self.name, self.files,
                                     self.pl, v1_only=v1_only,
                                     trackers=trackers)
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.total = self.meta.total
        self.real_total = sum(s for _, s in self.files)
        self.ih = self.meta.info_hash

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)


def check_done(g, case, rc=0):
    assert rc == 0, why(g)
    sm = g.summary()
    assert sm is not None, why("no summary line on stdout", g)
    assert sm["state"] == "done", why(g)
    assert sm["name"] == case.name, why(sm, g)
    assert sm["size"] == case.total, why(sm, g)
    assert sm["downloaded"] >= case.real_total, why(sm, g)
    assert sm["peers"] >= 1, why(sm, g)
    return sm


def check_stopped(g, rc):
    assert rc == 130, why("SIGINT must give exit 130", g)
    sm = g.summary()
    assert sm is not None, why("no summary line after SIGINT", g)
    assert sm["state"] == "stopped", why(sm, g)
    return sm


# --- 1. gtorrent <- libtorrent seeder through opentracker -------------------

@pytest.mark.timeout(100)
@pytest.mark.parametrize("kind", ["single-8M", "multi-nested",
                                  "hybrid-edges"])
def test_download_from_libtorrent_via_tracker(net, opentracker, tmp_path,
                                              seed, kind):
    tr = net.tracker()
    case = Case(tmp_path, seed, kind, tr.announce)
    tr.start(case.ih)
    s = net.lt_peer(case.torrent_bytes, case.src)
    s.wait_seeding(20)
    assert tr.wait_peers(case.ih, complete=1), "seeder never announced"
    out = tmp_path / "out"
    g = net.gt(case.torrent, "-o", out, "-p", peers.free_port(), "-v",
               tag="leecher")
    rc = g.wait(GT_TIMEOUT)
    check_done(g, case, rc)
    case.check(out)
    if kind == "multi-nested":
        # empty files are created too
        assert (out / case.name / "empty.txt").stat().st_size == 0
        assert (out / case.name / "sub/deeper/empty2").stat().st_size == 0


@pytest.mark.timeout(60)
def test_download_subcommand_and_quiet(net, tmp_path, seed):
    """`gtorrent download -q` with --peer/--no-tracker works the same, and
    -q still prints the summary line."""
    case = Case(tmp_path, seed, "multi-many")
    s = net.lt_peer(case.torrent_bytes, case.src)
    s.wait_seeding(20)
    out = tmp_path / "out"
    g = net.gt("download", "-q", "--no-tracker", "--peer",
               "127.0.0.1:%d" % s.port, "-p", peers.free_port(), "-o", out,
               case.torrent, tag="leecher")
    rc = g.wait(GT_TIMEOUT)
    check_done(g, case, rc)
    case.check(out)


# --- 2. libtorrent <- gtorrent seeder ---------------------------------------

def lt_leech_from(net, case, tmp_path, gt_port, tag="lt-leecher"):
    """A libtorrent leecher on a tracker-less copy of the torrent, dialling
    gtorrent only; returns it once complete."""
    lt_out = tmp_path / tag
    le = net.lt_peer(case.meta.without_trackers(), lt_out, seeder=False)
    assert le.connect_until_peer(gt_port, 20), \
        "libtorrent never got connected to gtorrent on %d" % gt_port
    redial = time.monotonic() + 1
    end = time.monotonic() + GT_TIMEOUT
    while not le.status().is_seeding:
        st = le.status()
        assert time.monotonic() < end, (
            "libtorrent did not complete from gtorrent: progress %.3f, "
            "peers %d" % (st.progress, st.num_peers))
        if time.monotonic() > redial and st.num_peers == 0:
            le.connect(gt_port)
            redial = time.monotonic() + 1
        time.sleep(0.05)
    lt_check(le, case, lt_out)
    return le


def lt_check(le, case, out, timeout=10):
    """libtorrent says it seeds before its disk thread has written every
    file: compare once the files have caught up (or fail with the
    last difference)."""
    le.h.flush_cache()
    end = time.monotonic() + timeout
    while True:
        try:
            case.check(out)
            return
        except AssertionError:
            if time.monotonic() > end:
                raise
        time.sleep(0.1)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("via", ["tracker", "direct"])
def test_libtorrent_downloads_from_gtorrent_seed(net, opentracker,
                                                 tmp_path, seed, via):
    tr = net.tracker()
    case = Case(tmp_path, seed, "single-3M" if via == "tracker"
                else "multi-nested", tr.announce)
    tr.start(case.ih)
    port = peers.free_port()
    args = ["seed", "-v", "-p", port, "-o", case.src]
    if via == "direct":
        args.append("--no-tracker")
    g = net.gt(*args, case.torrent, tag="seeder")
    if via == "tracker":
        assert tr.wait_peers(case.ih, complete=1, timeout=20), why(
            "gtorrent seed never announced as a seeder", g)
        le = net.lt_peer(case.torrent_bytes, tmp_path / "lt-out",
                         seeder=False)
        le.wait_seeding(GT_TIMEOUT)
        lt_check(le, case, tmp_path / "lt-out")
    else:
        assert peers.wait_listening(port, 20, g.alive), why(
            "gtorrent seed does not listen", g)
        lt_leech_from(net, case, tmp_path, port)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    rc = g.interrupt()
    sm = check_stopped(g, rc)
    assert sm["uploaded"] >= case.real_total, why(sm, g)


@pytest.mark.timeout(120)
def test_seed_flag_after_download(net, opentracker, tmp_path, seed):
    """`gtorrent --seed`: download from a libtorrent seeder, keep seeding;
    the seeder goes away and a libtorrent leecher gets it all from
    gtorrent."""
    tr = net.tracker()
    case = Case(tmp_path, seed, "single-3M", tr.announce)
    tr.start(case.ih)
    s = net.lt_peer(case.torrent_bytes, case.src)
    s.wait_seeding(20)
    assert tr.wait_peers(case.ih, complete=1)
    out = tmp_path / "out"
    port = peers.free_port()
    g = net.gt("--seed", "-v", "-p", port, "-o", out, case.torrent,
               tag="gt-seed")

    def complete():
        return (peers.COMPLETE_RE.search(g.err) or
                tr.scrape(case.ih).get("complete", 0) >= 2)
    assert peers.wait_until(lambda: complete() or not g.alive(),
                            GT_TIMEOUT, 0.2), why("download did not finish", g)
    assert g.alive(), why("--seed: gtorrent exited after completing", g)
    case.check(out)
    s.close()                 # only gtorrent has the data now
    lt_leech_from(net, case, tmp_path, port)
    rc = g.interrupt()
    assert rc == 130, why("SIGINT must give exit 130", g)
    # one summary, at the end: the download is done
    assert g.out.count("gtorrent: done:") == 1 and \
        "gtorrent: stopped:" not in g.out, why(g)
    sm = g.summary()
    assert sm["state"] == "done" and sm["up_rate"] is not None, why(sm, g)
    assert sm["uploaded"] >= case.real_total, why(sm, g)
    case.check(out)


# --- 3. gtorrent <-> gtorrent -----------------------------------------------

@pytest.mark.timeout(90)
@pytest.mark.parametrize("via,kind", [("tracker", "single-8M"),
                                      ("direct", "multi-nested")])
def test_gtorrent_to_gtorrent(net, opentracker, tmp_path, seed, via, kind):
    tr = net.tracker()
    case = Case(tmp_path, seed, kind, tr.announce)
    tr.start(case.ih)
    sport = peers.free_port()
    extra = ["--no-tracker"] if via == "direct" else []
    sg = net.gt("seed", "-v", "-p", sport, "-o", case.src, *extra,
                case.torrent, tag="gt-seeder")
    if via == "tracker":
        assert tr.wait_peers(case.ih, complete=1, timeout=20), why(
            "gtorrent seed never announced", sg)
        extra = []
    else:
        assert peers.wait_listening(sport, 20, sg.alive), why(sg)
        extra = ["--no-tracker", "--peer", "127.0.0.1:%d" % sport]
    out = tmp_path / "out"
    lg = net.gt("-v", "-p", peers.free_port(), "-o", out, *extra,
                case.torrent, tag="gt-leecher")
    rc = lg.wait(GT_TIMEOUT)
    check_done(lg, case, rc)
    case.check(out)
    assert sg.alive(), why("seeder exited by itself", sg)
    rc = sg.interrupt()
    sm = check_stopped(sg, rc)
    assert sm["uploaded"] >= case.real_total, why(sm, sg)


@pytest.mark.timeout(60)
def test_gtorrent_to_gtorrent_ipv6(net, tmp_path, seed):
    """The listener takes IPv6 too: a leecher dials the seeder at [::1]."""
    why6 = trackers.ipv6_unusable()
    if why6:
        pytest.skip(why6)
    case = Case(tmp_path, seed, "single-3M", "http://127.0.0.1:1/announce")
    sport = peers.free_port()
    sg = net.gt("seed", "-v", "-p", sport, "-o", case.src, "--no-tracker",
                case.torrent, tag="gt-seeder")
    assert peers.wait_listening(sport, 20, sg.alive), why(sg)
    out = tmp_path / "out"
    lg = net.gt("-v", "-p", peers.free_port(), "-o", out, "--no-tracker",
                "--peer", "[::1]:%d" % sport, case.torrent, tag="gt-leecher")
    rc = lg.wait(GT_TIMEOUT)
    check_done(lg, case, rc)
    case.check(out)
    sg.interrupt()


@pytest.mark.timeout(60)
def test_resume_keeps_verified_data(net, tmp_path, seed):
    """SIGINT in the middle (exit 130, a 'stopped' line) keeps what was
    verified: a second run on the same folder completes it and fetches
    less than the whole payload."""
    case = Case(tmp_path, seed, "single-3M")
    s = net.lt_peer(case.torrent_bytes, case.src,
                    upload_limit=1 * MIB)
    s.wait_seeding(20)
    out = tmp_path / "out"
    peer = "127.0.0.1:%d" % s.port
    g1 = net.gt("--no-tracker", "--peer", peer, "-p", peers.free_port(),
                "-o", out, case.torrent, tag="first")
    # stop it once the seeder has sent about a third
    peers.wait_until(lambda: s.uploaded() >= case.total // 3 or
                     not g1.alive(), 30, 0.05)
    stopped = g1.alive()
    if stopped:
        sm1 = check_stopped(g1, g1.interrupt())
    else:
        sm1 = check_done(g1, case, g1.wait(5))
    g2 = net.gt("--no-tracker", "--peer", peer, "-p", peers.free_port(),
                "-o", out, case.torrent, tag="second")
    rc = g2.wait(GT_TIMEOUT)
    assert rc == 0, why(g2)
    sm2 = g2.summary()
    assert sm2 is not None and sm2["state"] == "done", why(g2)
    case.check(out)
    print("first run %s after %d bytes; second run fetched %d bytes" % (
        sm1["state"], sm1["downloaded"], sm2["downloaded"]))
    if stopped and sm1["downloaded"] >= 4 * case.pl:
        assert sm2["downloaded"] < case.real_total, why(
            "verified data of the first run was not kept", g1, g2)
