"""gtorrent and its trackers: UDP (BEP 15), tiers (BEP 12), --tracker,
the started/completed/stopped events, hostile HTTP and UDP trackers, IPv6.

Everything runs on 127.0.0.1 (and ::1 for the IPv6 tests): opentracker
(HTTP and UDP on one port, IPv4 only), the scripted trackers of
trackers.py, libtorrent seeders with DHT/LSD/UPnP/NAT-PMP off, gtorrent on
explicit free ports.  Payloads are random and compared byte for byte;
every process is bounded in time and stopped by PID at teardown (peers.Net).

A dead tracker is an HTTP URL on a free port (connection refused at once),
never a silent UDP one: gtorrent waits 15 s before retrying those.
"""

import random
import time

import pytest

import peers
import trackers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload
from trackers import HttpTracker, UdpTracker, torrent_with

GT_TIMEOUT = 30          # seconds for one small gtorrent download
RSS_CAP_MIB = 64         # peak RSS allowed next to a hostile tracker
STOP_WAIT = 5.0          # seconds from SIGINT to exit, at most
SIZE = 1 * MIB + 4321    # the payload: 33 pieces of 32 KiB
SLOW = 4 * MIB           # bytes/s: libtorrent makes that about 1.5 s


def add(net, thing):
    """Has net stop thing (a scripted tracker or trap) at teardown."""
    return net.add(thing, lambda x: x.stop())


def dead_url():
    """An HTTP announce URL on a port nobody listens on."""
    return "http://127.0.0.1:%d/announce" % peers.free_port()


class Swarm:
    """A random payload under tmp/src, its info dict, a libtorrent seeder
    and torrents with any tiers around the same info-hash."""

    def __init__(self, net, tmp_path, seed, size=SIZE):
        self.net = net
        self.tmp = tmp_path
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = "tracked.bin"
        self.files = make_payload(self.src, self.name, [(None, size)],
                                  random.Random(seed))
        self.meta = peers.Meta(lt_make(self.src, self.name, self.files,
                                       32 * KIB))
        self.raw_info = self.meta.raw_info
        self.ih = self.meta.info_hash
        self.total = self.meta.total
        self.seeder = None
        self.ntorrents = 0

    def start_seeder(self, tiers=(), upload_limit=0, v6=False):
        """A libtorrent seeder announcing to tiers; v6: listening on ::1
        only."""
        settings = None
        if v6:
            port = trackers.free_port6()
            settings = {"listen_interfaces": "[::1]:%d" % port}
        else:
            port = peers.free_port()
        self.seeder = self.net.lt_peer(torrent_with(self.raw_info, tiers),
                                       self.src, port=port,
                                       upload_limit=upload_limit,
                                       settings=settings)
        self.seeder.wait_seeding(20)
        return self.seeder

    @property
    def seeder_addr(self):
        return "127.0.0.1:%d" % self.seeder.port

    def torrent(self, tiers):
        self.ntorrents += 1
        p = self.tmp / ("t%d.torrent" % self.ntorrents)
        p.write_bytes(torrent_with(self.raw_info, tiers))
        return p

    def start_gt(self, torrent, *extra, tag="leecher"):
        """gtorrent -v downloading torrent into tmp/out-TAG; (proc, out,
        port, rss watch)."""
        out = self.tmp / ("out-" + tag)
        port = peers.free_port()
        g = self.net.gt("-v", "-o", out, "-p", port, *extra, torrent,
                        tag=tag)
        return g, out, port, trackers.RssWatch(g.pid)

    def download(self, torrent, *extra, timeout=GT_TIMEOUT, tag="leecher"):
        """Runs gtorrent to the end; checks exit 0, the summary and the
        data.  Returns (proc, port, peak RSS in MiB)."""
        g, out, port, rss = self.start_gt(torrent, *extra, tag=tag)
        rc = g.wait(timeout)
        rss.stop()
        self.check(g, rc, out)
        return g, port, rss.peak_mib

    def check(self, g, rc, out):
        assert rc >= 0, why("gtorrent died of signal %d" % -rc, g)
        assert rc == 0, why(g)
        sm = g.summary()
        assert sm is not None, why("no summary line on stdout", g)
        assert sm["state"] == "done", why(sm, g)
        assert sm["size"] == self.total, why(sm, g)
        peers.compare_download(self.src, out, self.name, self.files)


# --- 1-3: opentracker over UDP, tiers, --tracker ----------------------------

@pytest.mark.timeout(60)
def test_download_udp_only_torrent(net, opentracker, tmp_path, seed):
    """The torrent names only udp://127.0.0.1:PORT/announce: gtorrent finds
    the libtorrent seeder through opentracker's UDP side, no --peer."""
    tr = net.tracker()
    sw = Swarm(net, tmp_path, seed)
    tr.start(sw.ih)
    sw.start_seeder([[tr.announce]])
    assert tr.wait_peers(sw.ih, complete=1, timeout=15), \
        "the libtorrent seeder never announced to opentracker"
    sw.download(sw.torrent([[tr.announce_udp]]))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("second", ["http", "udp"])
def test_dead_first_tier(net, opentracker, tmp_path, seed, second):
    """BEP 12: the first tier holds two dead HTTP trackers, the second
    opentracker; gtorrent moves on and downloads without --peer."""
    tr = net.tracker()
    sw = Swarm(net, tmp_path, seed)
    tr.start(sw.ih)
    sw.start_seeder([[tr.announce]])
    assert tr.wait_peers(sw.ih, complete=1, timeout=15)
    live = tr.announce if second == "http" else tr.announce_udp
    sw.download(sw.torrent([[dead_url(), dead_url()], [live]]))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("own,extra", [("none", "udp"), ("dead", "http")])
def test_tracker_option(net, opentracker, tmp_path, seed, own, extra):
    """--tracker URL adds a working tracker to a torrent that has none, or
    only a dead one."""
    tr = net.tracker()
    sw = Swarm(net, tmp_path, seed)
    tr.start(sw.ih)
    sw.start_seeder([[tr.announce]])
    assert tr.wait_peers(sw.ih, complete=1, timeout=15)
    tiers = [] if own == "none" else [[dead_url()]]
    url = tr.announce if extra == "http" else tr.announce_udp
    sw.download(sw.torrent(tiers), "--tracker", url)


# --- 4: events ---------------------------------------------------------------

def scripted(net, proto, **kw):
    cls = HttpTracker if proto == "http" else UdpTracker
    return add(net, cls(**kw).start())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto", ["http", "udp"])
def test_scripted_tracker_events(net, tmp_path, seed, proto):
    """An honest scripted tracker hands out the seeder (no --peer): the
    download completes; the tracker sees "started" first (left = all),
    "completed" exactly once (left 0), "stopped" last, every announce with
    gtorrent's listen port (and, over UDP, a valid connection id)."""
    sw = Swarm(net, tmp_path, seed)
    sw.start_seeder()
    t = scripted(net, proto)
    t.peers = [("127.0.0.1", sw.seeder.port)]
    g, port, _ = sw.download(sw.torrent([[t.announce]]))
    ann = t.announces()
    evs = [a["event"] for a in ann]
    assert evs and evs[0] == "started", why(evs, t, g)
    assert ann[0]["left"] == sw.total, why(t)
    assert evs.count("completed") == 1, why(evs, t, g)
    done = ann[evs.index("completed")]
    assert done["left"] == 0, why(t)
    assert evs[-1] == "stopped", why(evs, t, g)
    assert all(a["port"] == port for a in ann), why(
        "announced another port than -p %d" % port, t)
    if proto == "udp":
        assert t.bad_conn_ids == 0, why(t)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto", ["http", "udp"])
def test_verbose_logs_tracker_exchanges(net, tmp_path, seed, proto):
    """-v: the exchanges with a tracker that answers every time are logged
    on stderr (lines naming it), not only its failures."""
    sw = Swarm(net, tmp_path, seed)
    sw.start_seeder()
    t = scripted(net, proto)
    t.peers = [("127.0.0.1", sw.seeder.port)]
    g, _, _ = sw.download(sw.torrent([[t.announce]]))
    assert len(t.announces()) >= 2, why(t)
    named = g.err_lines_with("127.0.0.1:%d" % t.port)
    print("\n".join(named))
    assert named, why("-v logs nothing of the tracker's exchanges", g)


def status_lines(out):
    return [ln for ln in out.splitlines()
            if ln.strip() and not ln.startswith("gtorrent: ")]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto", ["http", "udp"])
def test_ctrl_c_announces_stopped(net, tmp_path, seed, proto):
    """No peer anywhere: after "started", SIGINT makes gtorrent announce
    "stopped" and exit 130 within STOP_WAIT s.  With -v, the seeder and
    leecher counts of the tracker's announce reply show in the status
    lines (over HTTP, complete/incomplete)."""
    sw = Swarm(net, tmp_path, seed)
    t = scripted(net, proto)
    t.counts = {sw.ih: (17, 0, 5)}
    g, _, _, rss = sw.start_gt(sw.torrent([[t.announce]]))
    assert peers.wait_until(lambda: "started" in t.events() or
                            not g.alive(), 10), why("no started", t, g)
    assert g.alive(), why("gtorrent exited by itself", g)
    seeders = None
    if proto == "http":
        # the plain status line comes every 5 s
        peers.wait_until(lambda: any("seeders" in ln for ln in
                                     status_lines(g.out)) or not g.alive(),
                         8)
        seeders = [ln for ln in status_lines(g.out) if "seeders" in ln]
    else:
        time.sleep(0.3)
    t_int = time.monotonic()
    rc = g.interrupt(STOP_WAIT + 5)
    took = time.monotonic() - t_int
    rss.stop()
    assert rc == 130, why("SIGINT must give exit 130", g)
    assert took <= STOP_WAIT, why("exit took %.1f s after SIGINT" % took, g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "stopped", why(g)
    ann = t.announces()
    evs = [a["event"] for a in ann]
    assert evs[0] == "started", why(evs, t)
    assert evs[-1] == "stopped", why("no stopped after SIGINT", evs, t, g)
    assert ann[-1]["t"] >= t_int, why(t)
    assert "completed" not in evs, why(evs, t)
    if proto == "http":
        assert seeders and any("17" in ln for ln in seeders), why(
            "no status line with the tracker's 17 seeders in 8 s", g)


# --- 5: hostile HTTP trackers ----------------------------------------------

HOSTILE_HTTP = ["big_body", "gzip_bomb", "redirect_file", "redirect_loop",
                "compact_13", "bad_ports", "silent"]


def run_hostile(sw, t, g, out, rss, what):
    """gtorrent downloads through --peer while the tracker t misbehaves:
    exit 0, data right, RSS bounded, and t's reply went out while gtorrent
    ran."""
    rc = g.wait(GT_TIMEOUT)
    peak = rss.stop() / 1024.0
    sw.check(g, rc, out)
    print("%s: %.2f s, peak RSS %.1f MiB (%d samples)" % (
        what, g.elapsed, peak, rss.samples))
    for ln in g.err_lines_with("tracker")[:6]:
        print("  " + ln[:200])
    assert peak < RSS_CAP_MIB, why("peak RSS %.1f MiB next to %s" % (
        peak, what), g)
    served = t.served()
    assert served, why("the tracker was never asked", t, g)
    assert served[0]["t"] < g.t1, why(t)
    return rc


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", HOSTILE_HTTP)
def test_hostile_http_tracker(net, tmp_path, seed, kind):
    sw = Swarm(net, tmp_path, seed)
    sw.start_seeder(upload_limit=SLOW)
    behaviour = {"compact_13": "raw_peers", "bad_ports": "dict"}.get(kind,
                                                                     kind)
    t = scripted(net, "http", behaviour=behaviour)
    trap = None
    if kind == "compact_13":
        dead = peers.free_port()
        t.raw_peers = (trackers.compact("127.0.0.1", dead) * 2 + b"\x01")
    elif kind == "bad_ports":
        t.dict_peers = [("127.0.0.1", 0), ("127.0.0.1", 70000)]
        trap = add(sw.net, trackers.Trap(70000 & 0xFFFF))
    g, out, _, rss = sw.start_gt(sw.torrent([[t.announce]]), "--peer",
                                 sw.seeder_addr)
    run_hostile(sw, t, g, out, rss, kind)
    if kind == "redirect_loop":
        hops = max(r["hop"] for r in t.announces())
        assert hops <= 3, why("followed %d redirects" % hops, t)
    elif kind == "redirect_file":
        assert "root:" not in g.out + g.err, why(g)
    elif kind == "bad_ports":
        if trap.bound:
            assert trap.accepted == 0, why(
                "gtorrent dialled port 70000 as %d" % trap.port, g)
    elif kind == "silent":
        assert g.elapsed < 12, why("a silent tracker held gtorrent up", g)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto", ["http", "udp"])
def test_silent_tracker_does_not_hold_ctrl_c(net, tmp_path, seed, proto):
    """A tracker that takes the announce and never answers: SIGINT still
    ends gtorrent (exit 130) within STOP_WAIT s."""
    sw = Swarm(net, tmp_path, seed)
    t = scripted(net, proto, behaviour="silent")
    g, _, _, rss = sw.start_gt(sw.torrent([[t.announce]]))
    assert peers.wait_until(lambda: t.announces() or not g.alive(), 10), \
        why("never announced", t, g)
    time.sleep(0.3)
    t_int = time.monotonic()
    rc = g.interrupt(STOP_WAIT + 5)
    took = time.monotonic() - t_int
    rss.stop()
    assert rc == 130, why(g)
    assert took <= STOP_WAIT, why("exit took %.1f s after SIGINT" % took, g)


# --- 6: hostile UDP trackers, an honest one on its own ----------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["wrong_txid", "short", "big_error",
                                  "truncated", "silent"])
def test_hostile_udp_tracker(net, tmp_path, seed, kind):
    sw = Swarm(net, tmp_path, seed)
    sw.start_seeder(upload_limit=SLOW)
    t = scripted(net, "udp", behaviour=kind)
    t.peers = [("127.0.0.1", sw.seeder.port)]
    g, out, _, rss = sw.start_gt(sw.torrent([[t.announce]]), "--peer",
                                 sw.seeder_addr)
    run_hostile(sw, t, g, out, rss, "udp " + kind)
    assert t.bad_conn_ids == 0, why(t)
    assert g.elapsed < 12, why("the UDP tracker held gtorrent up", g)


# --- 7: IPv6 ----------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto", ["http", "udp"])
def test_ipv6_tracker(net, tmp_path, seed, proto):
    """A scripted tracker on [::1] hands out a libtorrent seeder listening
    on ::1 only (HTTP: "peers6"; UDP: 18-byte peers); gtorrent downloads
    through it without --peer."""
    bad = trackers.ipv6_unusable()
    if bad:
        pytest.skip(bad)
    sw = Swarm(net, tmp_path, seed)
    sw.start_seeder(v6=True)
    t = scripted(net, proto, host="::1")
    t.peers = [("::1", sw.seeder.port)]
    sw.download(sw.torrent([[t.announce]]))
    assert t.announces(), why(t)
