"""gtorrent trades with every mainstream client, both ways (issue 8).

For each of libtorrent, qBittorrent, Transmission, aria2c, rTorrent and
ctorrent (drivers in clients.py), on a single-file and on a multi-file
torrent (nested folders, an odd-sized last piece):

  test_gtorrent_downloads_from   the client seeds; gtorrent finds it
                                 through opentracker and downloads;
  test_client_downloads_from     `gtorrent seed` seeds; the client finds
                                 it through opentracker (no --peer on
                                 either side) and downloads.

Payloads are random and compared byte for byte.  Everything listens on
127.0.0.1 on free ports; each client runs in its own folder of the
test's tmp_path; every process is stopped by PID at teardown (peers.Net).
A client whose binary is missing is skipped.

Transmission and rTorrent never dial a peer at 127.x (rTorrent keeps one
peer per IP and may keep itself), so a gtorrent seeder must dial them: they
start first and the seed learns of them from its first announce.
(opentracker asks for a "min interval" of ~850 s: a seed started first
could only learn of them from an announce far beyond any test's time.)
The clients that do dial start after the seed and find it through the
tracker.  Transmission asks for data only on its ~10 s timers: its first
byte comes late, hence the generous (but bounded) waits.

Run against another binary: GTORRENT=/abs/path/gtorrent /usr/bin/python3
-m pytest -q tests/interop/test_clients.py (-k aria2c, -k "multi", ...).
"""

import random
import time

import pytest

import clients
import helpers
import peers
import trackers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload

PIECE = 64 * KIB
DOWNLOAD_TIMEOUT = 60      # seconds for one download, either way
SEEDER_READY = 20          # seconds for a peer to check data, announce
TEST_TIMEOUT = 110         # the alarm for one test (> 2 x 20 + 60)


def payload_files(kind, rng):
    """(name, [(relpath or None, size)]) for a kind of torrent.

    A few MiB, but not less: a seeder that serves Transmission only
    when it next hears from it (about 1 MiB per 10 s) must run over the
    download timeout."""
    if kind == "single":
        return "single file.bin", [(None, 8 * MIB + rng.randrange(1, PIECE))]
    files = [
        ("a.bin", 4 * MIB + 3),
        ("docs/readme.txt", rng.randrange(1000, 9000)),
        ("docs/sub/deeper/data.dat", 1536 * KIB + 17),
        ("docs/sub/x y.bin", PIECE),
        ("m.bin", rng.randrange(1, 3 * PIECE)),
    ]
    total = sum(s for _, s in files)
    # the last piece: neither full nor a single byte
    last = (PIECE // 3 - total) % PIECE or PIECE // 3
    files.append(("z last.bin", 1 * MIB + last))
    return "multi files", files


class Case:
    """A random payload under tmp/src and its v1 torrent (libtorrent-made,
    announcing to the test's opentracker)."""

    def __init__(self, tmp_path, seed, kind, announce):
        self.src = tmp_path / "src"
        self.src.mkdir()
        rng = random.Random(seed)
        self.name, files = payload_files(kind, rng)
        self.files = make_payload(self.src, self.name, files, rng)
        self.torrent_bytes = lt_make(self.src, self.name, self.files, PIECE,
                                     trackers=[[announce]])
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash
        self.total = self.meta.total
        assert self.total % PIECE not in (0, 1)

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)

    def check_soon(self, out, timeout=10):
        """check(), retried for a while: a client may say it completed a
        moment before its last write or rename lands."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.check(out)
                return
            except AssertionError:
                if time.monotonic() > end:
                    raise
            time.sleep(0.1)


def make_client(net, name, tmp_path, case):
    cls = clients.driver(name)
    reason = cls.missing()
    if reason:
        pytest.skip(reason)
    c = cls(tmp_path / name, case.torrent, case.meta)
    return net.add(c, lambda x: x.stop())


params = pytest.mark.parametrize(
    "client,kind", [(c, k) for c in clients.NAMES
                    for k in ("single", "multi")])


@pytest.mark.timeout(TEST_TIMEOUT)
@params
def test_gtorrent_downloads_from(net, opentracker, tmp_path, seed, client,
                                 kind):
    """The client seeds; gtorrent finds it through the tracker and gets
    the whole payload."""
    tr = net.tracker()
    case = Case(tmp_path, seed, kind, tr.announce)
    tr.start(case.ih)
    x = make_client(net, client, tmp_path, case)
    x.start_seeder(case.src)
    assert tr.wait_peers(case.ih, complete=1, timeout=SEEDER_READY), why(
        "%s never announced itself as a seeder" % client, x)
    x.sample_sockets()
    out = tmp_path / "out"
    g = net.gt("-v", "-p", peers.free_port(), "-o", out, case.torrent,
               tag="gt-leecher")
    rc = g.wait(DOWNLOAD_TIMEOUT)
    x.sample_sockets()
    assert rc == 0, why(g, x)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why(g, x)
    assert sm["size"] == case.total, why(sm, g)
    case.check(out)
    assert not x.exposed, why("%s bound sockets off loopback: %r" % (
        client, sorted(x.exposed)), x)
    print("%s -> gtorrent (%s): %.1f s" % (client, kind, g.elapsed))


def start_gt_seed(net, tr, case, extra=()):
    """`gtorrent seed` on the source data, once the tracker counts it."""
    g = net.gt("seed", "-v", *extra, "-p", peers.free_port(), "-o",
               case.src, case.torrent, tag="gt-seeder")
    assert tr.wait_peers(case.ih, complete=1, timeout=SEEDER_READY), why(
        "gtorrent seed never announced itself as a seeder", g)
    return g


@pytest.mark.timeout(TEST_TIMEOUT)
@params
def test_client_downloads_from(net, opentracker, tmp_path, seed, client,
                               kind):
    """`gtorrent seed` seeds; the client finds it through the tracker (no
    --peer anywhere) and gets the whole payload from it."""
    tr = net.tracker()
    case = Case(tmp_path, seed, kind, tr.announce)
    tr.start(case.ih)
    x = make_client(net, client, tmp_path, case)
    out = tmp_path / "out"
    if x.dials_loopback:
        # the seed is there first: the client learns of it from the
        # tracker and dials it
        g = start_gt_seed(net, tr, case)
        x.start_leecher(out)
    else:
        # the client is there first: the seed learns of it from the
        # tracker and must dial it (the client never dials 127.x)
        x.start_leecher(out)
        assert tr.wait_peers(case.ih, incomplete=1, timeout=SEEDER_READY), \
            why("%s never announced itself" % client, x)
        g = start_gt_seed(net, tr, case)
    done = x.wait_complete(DOWNLOAD_TIMEOUT)
    assert done, why("%s did not complete from gtorrent in %d s" % (
        client, DOWNLOAD_TIMEOUT), x, g)
    t = x.elapsed
    case.check_soon(out)
    assert not x.exposed, why("%s bound sockets off loopback: %r" % (
        client, sorted(x.exposed)), x)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    rc = g.interrupt()
    assert rc == 130, why("SIGINT must give exit 130", g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "stopped", why(g)
    assert sm["uploaded"] >= case.total, why(
        "gtorrent seed uploaded less than the payload", sm, g)
    print("gtorrent -> %s (%s): %.1f s" % (client, kind, t))


@pytest.mark.timeout(TEST_TIMEOUT)
@pytest.mark.parametrize("pair", [("libtorrent", "aria2c"),
                                  ("libtorrent", "transmission")])
def test_two_clients_download_together_from(net, opentracker, tmp_path,
                                            seed, pair):
    """A rate-limited `gtorrent seed` (2 MiB/s) and two other clients
    leeching at once: the seed spreads the pieces nobody has between
    them (SUGGEST_PIECE) and refuses one a piece the other is fetching
    (REJECT_REQUEST): both complete, byte for byte."""
    tr = net.tracker()
    case = Case(tmp_path, seed, "single", tr.announce)
    tr.start(case.ih)
    xs = [make_client(net, c, tmp_path, case) for c in pair]
    outs = [tmp_path / ("out-" + c) for c in pair]
    late = [i for i, x in enumerate(xs) if not x.dials_loopback]
    for i in late:
        xs[i].start_leecher(outs[i])
    if late:
        assert tr.wait_peers(case.ih, incomplete=len(late),
                             timeout=SEEDER_READY), why(
            "a client never announced itself", *xs)
    g = start_gt_seed(net, tr, case, ("-vv", "--max-upload-rate", "2M"))
    for i, x in enumerate(xs):
        if i not in late:
            x.start_leecher(outs[i])
    for c, x, out in zip(pair, xs, outs):
        assert x.wait_complete(DOWNLOAD_TIMEOUT), why(
            "%s did not complete beside %s" % (c, pair), x, g)
        case.check_soon(out)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    assert g.interrupt() == 130, why(g)
    print("%s: %d refusals, %s" % (
        "+".join(pair), len(g.err_lines_with("refused (")),
        g.err_lines_with("bytes sent were")))


def swarm_tracker(tr, h, req):
    """A tracker that remembers who announced (address and port) and
    hands each the others, with interval 1800 s and no min interval: a
    seed that started first learns of a later leecher only by asking
    again, as gtorrent does while it has nobody to serve."""
    addr = h.client_address[0]
    me = (addr, req["port"])
    with tr.lock:
        known = tr.__dict__.setdefault("swarm", {})
        if req["event"] == "stopped":
            known.pop(me, None)
        elif req["port"]:
            known[me] = req["left"]
        others = [p for p in known if p != me]
    body = {"interval": 1800,
            "peers": b"".join(trackers.compact(a, p) for a, p in others)}
    h.send_body(helpers.bencode(body))


@pytest.mark.timeout(TEST_TIMEOUT)
@pytest.mark.parametrize("client", ["transmission"])
def test_seed_dials_a_late_leecher(net, tmp_path, seed, client):
    """A gtorrent seed is there first; a client that never dials 127.x
    (Transmission; rTorrent sometimes does, so it proves nothing) joins
    later.  The seed asks the tracker again because it has nobody
    to serve (every 15 s while the tracker sets no min interval), learns
    of the client and dials it: the client gets the whole payload."""
    tr = net.add(trackers.HttpTracker(behaviour=swarm_tracker),
                 lambda t: t.stop())
    tr.start()
    case = Case(tmp_path, seed, "single", tr.announce)
    g = net.gt("seed", "-v", "-p", peers.free_port(), "-o", case.src,
               case.torrent, tag="gt-seeder")
    assert peers.wait_until(lambda: len(tr.announces()) >= 1, SEEDER_READY), \
        why("gtorrent seed never announced", g)
    x = make_client(net, client, tmp_path, case)
    out = tmp_path / "out"
    x.start_leecher(out)
    done = x.wait_complete(DOWNLOAD_TIMEOUT)
    assert done, why("%s did not complete from gtorrent in %d s" % (
        client, DOWNLOAD_TIMEOUT), x, g, tr.describe())
    case.check_soon(out)
    seeds = [r for r in tr.announces() if r["left"] == 0]
    assert len(seeds) >= 2, why("the seed asked the tracker only once",
                                tr.describe())
    assert g.alive(), why("gtorrent seed exited by itself", g)
    print("gtorrent (there first) -> %s: %.1f s" % (client, x.elapsed))
