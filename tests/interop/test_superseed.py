"""`gtorrent seed --super-seed` (BEP 16) with libtorrent and a scripted peer.

A super-seeding gtorrent tells each peer it has nothing (HAVE_NONE), then
one piece at a time (a HAVE), the next once that piece was seen on another
peer; it serves only the pieces it revealed.  The swarm test measures what
the seed uploads before the swarm as a whole holds every piece: the
issue's goal is at most 1.1 x the torrent's size (a plain seed: reported
beside it).  Everything runs on 127.0.0.1; every process is killed by PID
at the end (peers.Net).
"""

import random
import struct
import time

import pytest

import peers
from helpers import KIB, MIB, lt_make, make_payload
from peers import why

HAVE_ALL, HAVE_NONE, REJECT = 14, 15, 16
RSV_FAST = bytes(7) + b"\x04"


class Payload:
    """A random single file under tmp/src and its tracker-less torrent."""

    def __init__(self, tmp_path, seed, size, pl):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = "super.bin"
        self.pl = pl
        self.files = make_payload(self.src, self.name, [(None, size)],
                                  random.Random(seed))
        self.torrent_bytes = lt_make(self.src, self.name, self.files, pl)
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.size = size

    def check(self, out, le=None, timeout=10):
        """Compares out with the source (after libtorrent's disk caught
        up)."""
        if le is not None:
            le.h.flush_cache()
        end = time.monotonic() + timeout
        while True:
            try:
                peers.compare_download(self.src, out, self.name,
                                       self.files)
                return
            except AssertionError:
                if time.monotonic() > end:
                    raise
            time.sleep(0.1)


def start_seed(net, case, port, super_seed):
    args = ["seed", "-v", "-p", port, "-o", case.src, "--no-tracker"]
    if super_seed:
        args.append("--super-seed")
    g = net.gt(*args, case.torrent, tag="seeder")
    assert peers.wait_listening(port, 20, g.alive), why(
        "gtorrent seed does not listen", g)
    return g


class SeedMeter:
    """What libtorrent leechers got from the seed on port before the swarm
    as a whole held every piece, from their alerts in order: each block
    finished from the seed's address, each piece finished (peer_info's
    byte counters lag by up to a second: useless here)."""

    def __init__(self, lt, les, port, meta):
        self.lt = lt
        self.les = les
        self.port = port
        self.meta = meta
        self.got = 0            # payload bytes from the seed
        self.union = set()      # pieces some leecher holds
        self.at_full = None     # self.got when union became complete

    def poll(self):
        for le in self.les:
            for a in le.ses.pop_alerts():
                if isinstance(a, self.lt.block_finished_alert):
                    if a.endpoint[1] == self.port:
                        size = self.meta.piece_size(a.piece_index)
                        off = a.block_index * peers.BLOCK
                        self.got += min(peers.BLOCK, size - off)
                elif isinstance(a, self.lt.piece_finished_alert):
                    self.union.add(a.piece_index)
                    if (self.at_full is None and
                            len(self.union) == self.meta.npieces):
                        self.at_full = self.got


def run_swarm(net, tmp_path, seed, super_seed, nleech=3, timeout=45):
    """A gtorrent seed and nleech libtorrent leechers that know each
    other.  Returns (case, seed's upload when the swarm first held every
    piece, seed's total upload, seconds)."""
    case = Payload(tmp_path, seed, 8 * MIB + 12345, 256 * KIB)
    port = peers.free_port()
    g = start_seed(net, case, port, super_seed)
    lt = net.lt
    mask = (lt.alert.category_t.block_progress_notification |
            lt.alert.category_t.piece_progress_notification)
    les = [net.lt_peer(case.torrent_bytes, tmp_path / ("lt%d" % i),
                       seeder=False, settings={"alert_mask": int(mask),
                                               "alert_queue_size": 100000})
           for i in range(nleech)]

    def dial():
        for le in les:
            if le.status().is_seeding:
                continue
            le.connect(port)
            for o in les:
                if o is not le:
                    le.connect(o.port)
    dial()
    t0 = time.monotonic()
    redial = t0 + 1
    meter = SeedMeter(lt, les, port, case.meta)
    while True:
        sts = [le.status() for le in les]
        meter.poll()
        if all(st.is_seeding for st in sts):
            break
        assert time.monotonic() - t0 < timeout, why(
            "swarm not done in %d s: progress %s" % (
                timeout, [round(st.progress, 3) for st in sts]), g)
        if time.monotonic() > redial:
            dial()
            redial = time.monotonic() + 1
        time.sleep(0.02)
    secs = time.monotonic() - t0
    meter.poll()
    at_full = meter.at_full
    assert at_full is not None, why("no piece_finished alerts?", g)
    for i, le in enumerate(les):
        case.check(tmp_path / ("lt%d" % i), le)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    rc = g.interrupt()
    assert rc == 130, why(g)
    sm = g.summary()
    assert sm is not None, why("no summary line", g)
    return case, at_full, sm["uploaded"], secs, g


@pytest.mark.timeout(60)
@pytest.mark.parametrize("super_seed", [True, False],
                         ids=["super-seed", "plain"])
def test_superseed_swarm_libtorrent(net, tmp_path, seed, super_seed):
    """Three libtorrent leechers get the file from a gtorrent seed and
    from each other; with --super-seed the seed sends about one copy
    before the swarm holds every piece."""
    case, at_full, total, secs, g = run_swarm(net, tmp_path, seed,
                                              super_seed)
    ratio = at_full / case.size
    print("\n%s: seed uploaded %.3f x F before the swarm held every "
          "piece (%d bytes), %.3f x F in all, swarm done in %.1f s" % (
              "super-seed" if super_seed else "plain seed", ratio,
              at_full, total / case.size, secs))
    if super_seed:
        # The goal is 1.1; loose here, the figure is printed.
        assert ratio <= 1.25, why("seed uploaded %.3f x F" % ratio, g)
        assert "super-seeding" in g.err, why(g)


def reveal_script(result):
    """A fast-extension peer alone with the seed: records what it is
    shown and what it is served."""
    def script(c):
        m = c.meta
        c.handshake(reserved=RSV_FAST)
        c.send_msg(HAVE_NONE)
        c.send_msg(peers.INTERESTED)
        first, haves, unchoked = None, [], False
        end = time.monotonic() + 10
        while (not haves or not unchoked) and time.monotonic() < end:
            mid, pl = c.recv_msg(10)
            if first is None and mid is not None:
                first = mid
            if mid == peers.HAVE:
                haves.append(struct.unpack(">I", pl)[0])
            elif mid == peers.UNCHOKE:
                unchoked = True
            elif mid in (peers.BITFIELD, HAVE_ALL):
                result["bitfield"] = mid
        result["first"], result["haves"] = first, list(haves)
        assert haves and unchoked, "no HAVE or no UNCHOKE in 10 s"
        p = haves[0]
        q = 1 if p == 0 else 0
        # a piece not revealed: rejected; the revealed one: served
        c.send_msg(peers.REQUEST, struct.pack(">III", q, 0, peers.BLOCK))
        c.send_msg(peers.REQUEST, struct.pack(
            ">III", p, 0, min(peers.BLOCK, m.piece_size(p))))
        end = time.monotonic() + 10
        while time.monotonic() < end and ("reject" not in result or
                                          "piece" not in result):
            mid, pl = c.recv_msg(10)
            if mid == REJECT:
                result["reject"] = struct.unpack(">III", pl)
            elif mid == peers.PIECE:
                idx, begin = struct.unpack(">II", pl[:8])
                result["piece"] = (idx, begin,
                                   pl[8:] == m.block(idx, begin,
                                                     len(pl) - 8))
            elif mid == peers.HAVE:
                result["haves"].append(struct.unpack(">I", pl)[0])
        # nobody else to take p from us: nothing more shown meanwhile
        result["before_have"] = list(result["haves"])
        # we "have" p now (alone: that is enough): the next one comes
        c.send_msg(peers.HAVE, struct.pack(">I", p))
        end = time.monotonic() + 5
        while time.monotonic() < end and len(result["haves"]) < 2:
            try:
                mid, pl = c.recv_msg(max(0.1, end - time.monotonic()))
            except OSError:
                break
            if mid == peers.HAVE:
                result["haves"].append(struct.unpack(">I", pl)[0])
        result["done"] = True
        c.idle()
    return script


@pytest.mark.timeout(60)
def test_superseed_reveals_one_piece_at_a_time(net, tmp_path, seed):
    case = Payload(tmp_path, seed, 8 * 32 * KIB + 99, 32 * KIB)
    port = peers.free_port()
    g = start_seed(net, case, port, True)
    result = {}
    sp = net.scripted(case.meta, reveal_script(result), listen=False,
                      alive=g.alive)
    sp.connect_to(port)
    assert peers.wait_until(lambda: "done" in result or sp.errors, 30), \
        why("script did not finish", result, sp, g)
    assert not sp.errors, why(sp, g)
    assert result["first"] == HAVE_NONE, why(result, g)
    assert "bitfield" not in result, why(result, g)
    p = result["haves"][0]
    assert result["before_have"] == [p], why(result, g)
    q = 1 if p == 0 else 0
    assert result["reject"] == (q, 0, peers.BLOCK), why(result, g)
    assert result["piece"] == (p, 0, True), why(result, g)
    assert len(result["haves"]) == 2 and result["haves"][1] != p, \
        why("no second piece after our HAVE", result, g)


@pytest.mark.timeout(60)
def test_superseed_aria2c_and_libtorrent(net, opentracker, tmp_path, seed):
    """aria2c and a libtorrent leecher find a super-seeding gtorrent (and
    each other) through opentracker; both complete with the right data
    and the seed sends about one copy."""
    import clients
    if clients.Aria2.missing():
        pytest.skip(clients.Aria2.missing())
    tr = net.tracker()
    src = tmp_path / "src"
    src.mkdir()
    name = "super.bin"
    size = 4 * MIB + 777
    files = make_payload(src, name, [(None, size)], random.Random(seed))
    tb = lt_make(src, name, files, 256 * KIB, trackers=[[tr.announce]])
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(tb)
    meta = peers.Meta(tb).load(src)
    tr.start(meta.info_hash)
    g = net.gt("seed", "-v", "-p", peers.free_port(), "-o", src,
               "--super-seed", torrent, tag="seeder")
    assert tr.wait_peers(meta.info_hash, complete=1, timeout=20), why(
        "gtorrent seed never announced", g)
    x = net.add(clients.Aria2(tmp_path / "aria2c", torrent, meta),
                lambda c: c.stop())
    le = net.lt_peer(tb, tmp_path / "lt", seeder=False)
    x.start_leecher(tmp_path / "aria2c-out")
    done = x.wait_complete(45)
    assert done, why("aria2c did not complete in 45 s", x, g)
    le.wait_seeding(15)
    for out in (tmp_path / "aria2c-out", tmp_path / "lt"):
        end = time.monotonic() + 10
        while True:
            try:
                peers.compare_download(src, out, name, files)
                break
            except AssertionError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
    rc = g.interrupt()
    assert rc == 130, why(g)
    sm = g.summary()
    print("\nsuper-seed -> aria2c + libtorrent: seed uploaded %.3f x F" %
          (sm["uploaded"] / size))
    assert sm["uploaded"] <= 1.5 * size, why(sm, g)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("super_seed", [True, False],
                         ids=["super-seed", "plain"])
def test_superseed_gtorrent_swarm(net, tmp_path, seed, super_seed):
    """Three gtorrent leechers (--seed, each told of the seed and of the
    others) get the file; with --super-seed the seed sends about one copy
    in all."""
    case = Payload(tmp_path, seed, 8 * MIB + 12345, 256 * KIB)
    sport = peers.free_port()
    g = start_seed(net, case, sport, super_seed)
    lports = [peers.free_port() for _ in range(3)]
    ls = []
    for i, lp in enumerate(lports):
        extra = ["--peer", "127.0.0.1:%d" % sport]
        for o in lports:
            if o != lp:
                extra += ["--peer", "127.0.0.1:%d" % o]
        ls.append(net.gt("-v", "-p", lp, "-o", tmp_path / ("gl%d" % i),
                         "--no-tracker", "--seed", *extra, case.torrent,
                         tag="leecher%d" % i))
    assert peers.wait_until(
        lambda: all("download complete" in x.err for x in ls), 45, 0.1), \
        why("the leechers did not all complete", g, *ls)
    for i in range(3):
        case.check(tmp_path / ("gl%d" % i))
    for x in ls:
        assert x.interrupt() == 130, why(x)
    assert g.interrupt() == 130, why(g)
    sm = g.summary()
    ratio = sm["uploaded"] / case.size
    print("\n%s -> 3 gtorrents: seed uploaded %.3f x F in all" % (
        "super-seed" if super_seed else "plain seed", ratio))
    if super_seed:
        assert ratio <= 1.25, why(sm, g)


def plain_script(result):
    """A BEP 3 peer (no fast extension) that sends no bitfield at all:
    its first piece comes after the seed's wait for one; a request for
    another piece is dropped (no REJECT without BEP 6), the revealed one
    is served."""
    def script(c):
        m = c.meta
        c.handshake()
        c.send_msg(peers.INTERESTED)
        t0 = time.monotonic()
        ids, haves, unchoked = [], [], False
        while (not haves or not unchoked) and time.monotonic() < t0 + 8:
            mid, pl = c.recv_msg(8)
            ids.append(mid)
            if mid == peers.HAVE:
                haves.append(struct.unpack(">I", pl)[0])
                result["have_after"] = time.monotonic() - t0
            elif mid == peers.UNCHOKE:
                unchoked = True
        result["ids"], result["haves"] = ids, haves
        assert haves and unchoked, "no HAVE or no UNCHOKE in 8 s"
        p = haves[0]
        q = 1 if p == 0 else 0
        c.send_msg(peers.REQUEST, struct.pack(">III", q, 0, peers.BLOCK))
        c.send_msg(peers.REQUEST, struct.pack(
            ">III", p, 0, min(peers.BLOCK, m.piece_size(p))))
        while "piece" not in result:
            mid, pl = c.recv_msg(8)
            ids.append(mid)
            if mid == peers.PIECE:
                result["piece"] = struct.unpack(">II", pl[:8])
        result["done"] = True
        c.idle()
    return script


@pytest.mark.timeout(60)
def test_superseed_plain_peer_without_bitfield(net, tmp_path, seed):
    case = Payload(tmp_path, seed, 8 * 32 * KIB + 99, 32 * KIB)
    port = peers.free_port()
    g = start_seed(net, case, port, True)
    result = {}
    sp = net.scripted(case.meta, plain_script(result), listen=False,
                      alive=g.alive)
    sp.connect_to(port)
    assert peers.wait_until(lambda: "done" in result or sp.errors, 20), \
        why("script did not finish", result, sp, g)
    assert not sp.errors, why(sp, g)
    # nothing but the revealed piece announced, no bitfield, no reject
    assert peers.BITFIELD not in result["ids"], why(result, g)
    assert REJECT not in result["ids"], why(result, g)
    p = result["haves"][0]
    assert result["ids"].count(peers.HAVE) == 1, why(result, g)
    assert 1.0 <= result["have_after"] <= 5.0, why(result, g)
    assert result["piece"] == (p, 0), why(result, g)
