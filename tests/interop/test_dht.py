"""gtorrent in a DHT of libtorrent nodes on loopback (issue 10, Interop).

A DHT of 20 python3-libtorrent nodes (dht.LtDht), each on its own address
127.0.0.10, .11, ... (real nodes keep one table entry per IP), is built
once for this module; the tests check that it is one DHT, then:

  test_libtorrent_dht_forms            every node's table holds >= 5 of
                                       the others, one connected graph,
                                       nothing but our loopback nodes;
  test_libtorrent_finds_libtorrent     a libtorrent leecher finds a
                                       libtorrent seeder by the DHT alone
                                       (a magnet with no tr=) and
                                       downloads: the harness works;
  test_gtorrent_finds_libtorrent       (1) gtorrent, bootstrapped through
                                       one node, downloads a magnet with
                                       no tr= from a libtorrent seeder;
  test_libtorrent_finds_gtorrent       (2) a libtorrent leecher finds and
                                       downloads from `gtorrent seed`,
                                       which announced only to the DHT;
  test_aria2c_*                        (3) the same two with aria2c;
  test_transmission_cannot_join        (3) why Transmission is not here;
  test_ipv6_*                          (4) the DHT on ::1 (BEP 32);
  test_only_loopback_is_contacted      (5) gtorrent under strace: with
                                       --dht-bootstrap given, every
                                       datagram and connect goes to
                                       loopback;
  test_dead_bootstrap_stays_on_loopback  (5) the same with a dead
                                       bootstrap node for 36 s, in a
                                       network namespace of its own: no
                                       fallback to the public routers,
                                       no DNS query.

No tracker anywhere: magnets carry no tr=, torrents no announce, and a
seed runs with --no-tracker.  Every gtorrent gets a loopback
--dht-bootstrap and ports of its own; $XDG_STATE_HOME is the test's own
(conftest.py), so no saved table is used.  All the tests of this module
run on one xdist worker (they share the DHT).

Run against another binary: GTORRENT=/abs/path/gtorrent /usr/bin/python3
-m pytest -q tests/interop/test_dht.py
"""

import os
import random
import subprocess
import time

import pytest

import clients
import dht
import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload

pytestmark = pytest.mark.xdist_group("dht")

NODES = 20
PIECE = 32 * KIB
FORM_TIMEOUT = 45           # seconds for the DHT to form
FIND_TIMEOUT = 45           # seconds to find a peer by the DHT and finish
TEST_TIMEOUT = 120


# --- fixtures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def ltdht(lt):
    d = dht.LtDht(lt, NODES)
    try:
        d.formed = d.wait_formed(min_nodes=5, timeout=FORM_TIMEOUT)
        yield d
    finally:
        d.close()


@pytest.fixture(scope="module")
def ltdht6(lt):
    why_not = dht.ipv6_unusable()
    if why_not:
        pytest.skip(why_not)
    d = dht.LtDht(lt, 8, family=6)
    try:
        d.formed = d.wait_formed(min_nodes=4, timeout=FORM_TIMEOUT)
        yield d
    finally:
        d.close()


@pytest.fixture(scope="module")
def gt_dht(gtorrent_path):
    """gtorrent's path, or a skip while it has no DHT (runtime and
    options) yet."""
    r = subprocess.run([gtorrent_path, "download", "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=10)
    if b"--dht-bootstrap" not in r.stdout:
        pytest.skip("gtorrent has no --dht-bootstrap yet")
    r = subprocess.run([gtorrent_path, "dht", "ping", "-t", "1",
                        "127.0.0.1:1"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=20)
    if b"unknown command" in r.stdout or b"did not start" in r.stdout:
        pytest.skip("no DHT runtime in this gtorrent: %s" %
                    r.stdout.decode("utf-8", "replace").strip()[:200])
    return gtorrent_path


class Case:
    """A random payload under tmp/src, its torrent (no announce: the DHT
    is the only way to the peers) and magnet (no tr=)."""

    def __init__(self, tmp_path, seed, size=1 * MIB + 12345):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = "dht payload.bin"
        self.files = make_payload(self.src, self.name, [(None, size)],
                                  random.Random(seed))
        self.torrent_bytes = lt_make(self.src, self.name, self.files, PIECE)
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash
        self.size = size
        self.magnet = "magnet:?xt=urn:btih:%s" % self.ih.hex()
        assert "tr=" not in self.magnet and b"announce" not in \
            self.torrent_bytes.split(b"4:info")[0]

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)


def lt_seed(net, lt, d, case, tmp_path):
    """A libtorrent seeder in d, announced: its announce is seen by a
    get_peers from another node before this returns."""
    s = dht.lt_dht_peer(net, lt, d, case.src, case.torrent_bytes)
    s.wait_seeding(20)
    deadline = time.monotonic() + FIND_TIMEOUT
    while True:
        s.h.force_dht_announce()
        try:
            d.find_peers(case.ih, want=s.addr, timeout=5, i=len(d) - 1)
            return s
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def lt_fetch(lp, timeout=FIND_TIMEOUT):
    """Waits for a libtorrent leecher to complete, asking the DHT again
    every 2 s until it has a peer (its own first lookup may run before
    its DHT has any node; the next would be a minute later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = lp.status()
        if st.is_seeding:
            return
        if st.num_peers == 0:
            lp.h.force_dht_announce()
        time.sleep(2 if st.num_peers == 0 else 0.2)
    lp.wait_seeding(1)


def gt_done(g, case, out, timeout=FIND_TIMEOUT):
    rc = g.wait(timeout)
    assert rc == 0, why(g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why(g)
    assert sm["size"] == case.size, why(sm, g)
    case.check(out)


# --- the libtorrent DHT itself ----------------------------------------------

@pytest.mark.timeout(TEST_TIMEOUT)
def test_libtorrent_dht_forms(ltdht):
    secs, tabs = ltdht.formed
    own = ltdht.endpoints()
    sizes = [len(t) for t in tabs]
    for i, t in enumerate(tabs):
        strangers = [e for e in t if e not in own]
        assert not strangers, "node %s knows %s" % (ltdht.addr(i),
                                                   strangers)
        assert all(dht.is_loopback(ip) for ip, _ in t)
    assert len(tabs) >= 20 and min(sizes) >= 5, sizes
    print("libtorrent DHT of %d nodes formed in %.1f s; table sizes %s" %
          (len(tabs), secs, sizes))


@pytest.mark.timeout(TEST_TIMEOUT)
def test_libtorrent_finds_libtorrent(net, lt, ltdht, tmp_path, seed):
    """The harness: a libtorrent leecher with a magnet (no tr=) finds a
    libtorrent seeder by the DHT alone."""
    case = Case(tmp_path, seed)
    s = lt_seed(net, lt, ltdht, case, tmp_path)
    out = tmp_path / "out"
    t0 = time.monotonic()
    lp = dht.lt_dht_peer(net, lt, ltdht, out, magnet=case.magnet,
                         seeder=False)
    lt_fetch(lp)
    case.check(out)
    print("libtorrent -> libtorrent by the DHT: %.1f s (seeder %s)" % (
        time.monotonic() - t0, s.addr))


# --- gtorrent and libtorrent --------------------------------------------------

@pytest.mark.timeout(TEST_TIMEOUT)
def test_gtorrent_finds_libtorrent(net, lt, gt_dht, ltdht, tmp_path, seed):
    """(1) gtorrent bootstraps through one libtorrent node, finds the
    libtorrent seeder of a magnet with no tr= and downloads it."""
    case = Case(tmp_path, seed)
    s = lt_seed(net, lt, ltdht, case, tmp_path)
    out = tmp_path / "out"
    g = net.gt("-v", "-m", case.magnet, "-o", out,
               *dht.gt_dht_args(ltdht, peers.free_port()), tag="gt")
    gt_done(g, case, out)
    print("libtorrent -> gtorrent by the DHT: %.1f s (seeder %s)" % (
        g.elapsed, s.addr))


def gt_seed(net, d, case, tag="gt-seed"):
    """`gtorrent seed` of case, on the DHT only (--no-tracker), and the
    address it announces: 127.0.0.1 (or ::1) and its listen port."""
    port = peers.free_port()
    g = net.gt("seed", "-v", "--no-tracker", "-o", case.src,
               *dht.gt_dht_args(d, port), case.torrent, tag=tag)
    ip = "::1" if d.family == 6 else "127.0.0.1"
    return g, dht.hostport(ip, port)


@pytest.mark.timeout(TEST_TIMEOUT)
def test_libtorrent_finds_gtorrent(net, lt, gt_dht, ltdht, tmp_path, seed):
    """(2) `gtorrent seed` announces to the DHT only; a libtorrent node
    finds it there (get_peers), and a libtorrent leecher with a magnet
    (no tr=) downloads from it."""
    case = Case(tmp_path, seed)
    g, addr = gt_seed(net, ltdht, case)
    got = ltdht.find_peers(case.ih, want=addr, timeout=FIND_TIMEOUT)
    assert g.alive(), why(g)
    out = tmp_path / "out"
    t0 = time.monotonic()
    lp = dht.lt_dht_peer(net, lt, ltdht, out, magnet=case.magnet,
                         seeder=False)
    lt_fetch(lp)
    case.check(out)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    assert g.interrupt() == 130, why(g)
    sm = g.summary()
    assert sm is not None and sm["uploaded"] >= case.size, why(sm, g)
    print("gtorrent -> libtorrent by the DHT: %.1f s; get_peers saw %s" % (
        time.monotonic() - t0, sorted(got)))


# --- aria2c -------------------------------------------------------------------

class Aria2Dht(clients.Aria2):
    """aria2c with its IPv4 DHT on, joined to an LtDht through one entry
    point (it has no built-in bootstrap nodes; its table file is in its
    own folder).  Peers come from the DHT only."""

    dht = None
    dht_port = None

    def _common(self, save):
        args = super()._common(save)
        args = [a for a in args if not a.startswith(("--enable-dht=",
                                                     "--dht-listen-port="))]
        self.dht_port = dht.free_port_on(["127.0.0.1"])
        return args + ["--enable-dht=true",
                       "--dht-listen-port=%d" % self.dht_port,
                       "--dht-entry-point=%s" % self.dht.addr(0),
                       "--dht-file-path=%s" % os.path.join(self.dir,
                                                           "dht.dat"),
                       "--bt-tracker-connect-timeout=1"]

    def magnet_leecher_args(self, out, uri):
        return self._common(out) + ["--seed-time=0", uri]


def aria2(net, tmp_path, case, d):
    reason = Aria2Dht.missing()
    if reason:
        pytest.skip(reason)
    x = Aria2Dht(tmp_path / "aria2c", case.torrent, case.meta)
    x.dht = d
    return net.add(x, lambda c: c.stop())


@pytest.mark.timeout(TEST_TIMEOUT)
def test_aria2c_finds_gtorrent(net, lt, gt_dht, ltdht, tmp_path, seed):
    """(3) aria2c, its DHT entered through one libtorrent node, downloads
    a magnet (no tr=) from a `gtorrent seed` that announced only to the
    DHT."""
    case = Case(tmp_path, seed)
    g, addr = gt_seed(net, ltdht, case)
    ltdht.find_peers(case.ih, want=addr, timeout=FIND_TIMEOUT)
    x = aria2(net, tmp_path, case, ltdht)
    out = tmp_path / "out"
    os.makedirs(out)
    x._spawn(x.magnet_leecher_args(str(out), case.magnet), "leecher")
    assert x.wait_complete(FIND_TIMEOUT), why(x, g)
    case.check(out)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    print("gtorrent -> aria2c by the DHT: %.1f s" % x.elapsed)


@pytest.mark.timeout(TEST_TIMEOUT)
def test_aria2c_is_found_by_gtorrent(net, lt, gt_dht, ltdht, tmp_path,
                                     seed):
    """(3) aria2c seeds a torrent with no announce (so it announces to the
    DHT); gtorrent finds it with a magnet (no tr=) and downloads."""
    case = Case(tmp_path, seed)
    x = aria2(net, tmp_path, case, ltdht)
    x.start_seeder(case.src)
    got = ltdht.find_peers(case.ih, timeout=FIND_TIMEOUT)
    out = tmp_path / "out"
    g = net.gt("-v", "-m", case.magnet, "-o", out,
               *dht.gt_dht_args(ltdht, peers.free_port()), tag="gt")
    gt_done(g, case, out)
    print("aria2c -> gtorrent by the DHT: %.1f s (aria2c seen as %s)" % (
        g.elapsed, sorted(got)))


def test_transmission_cannot_join():
    """Transmission 3.00 cannot be pointed at a loopback DHT: its DHT
    (jech/dht) drops every node and datagram from 127.0.0.0/8 and ::1 as
    martian, and when the nodes of its config folder's dht.bootstrap
    file do not bring its table up it bootstraps from
    dht.transmissionbt.com, a public name (a DNS query off this
    machine).  Only a network namespace with non-loopback addresses
    could hold it."""
    pytest.skip("Transmission's DHT refuses loopback nodes (jech/dht "
                "martian filter) and falls back to dht.transmissionbt.com")


# --- IPv6 (BEP 32) ------------------------------------------------------------

@pytest.mark.timeout(TEST_TIMEOUT)
def test_ipv6_gtorrent_finds_libtorrent(net, lt, gt_dht, ltdht6, tmp_path,
                                        seed):
    """(4) The same as (1) on ::1: gtorrent bootstraps through [::1]:P
    and finds a libtorrent seeder on ::1 (nodes6, values of 18 bytes)."""
    case = Case(tmp_path, seed)
    s = lt_seed(net, lt, ltdht6, case, tmp_path)
    out = tmp_path / "out"
    g = net.gt("-v", "-m", case.magnet, "-o", out,
               *dht.gt_dht_args(ltdht6, peers.free_port()), tag="gt")
    gt_done(g, case, out)
    print("libtorrent -> gtorrent by the IPv6 DHT: %.1f s (seeder %s)" % (
        g.elapsed, s.addr))


@pytest.mark.timeout(TEST_TIMEOUT)
def test_ipv6_libtorrent_finds_gtorrent(net, lt, gt_dht, ltdht6, tmp_path,
                                        seed):
    """(4) The same as (2) on ::1."""
    case = Case(tmp_path, seed)
    g, addr = gt_seed(net, ltdht6, case)
    ltdht6.find_peers(case.ih, want=addr, timeout=FIND_TIMEOUT)
    out = tmp_path / "out"
    lp = dht.lt_dht_peer(net, lt, ltdht6, out, magnet=case.magnet,
                         seeder=False)
    lt_fetch(lp)
    case.check(out)
    assert g.alive(), why(g)


# --- nothing but loopback -----------------------------------------------------

def no_leak_check_under_ptrace(monkeypatch):
    """LeakSanitizer cannot run under ptrace (strace) and fails the exit
    of an ASan build: off for the processes of this test."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS",
                       (opts + ":" if opts else "") + "detect_leaks=0")


@pytest.mark.timeout(TEST_TIMEOUT)
def test_only_loopback_is_contacted(net, lt, gt_dht, ltdht, tmp_path, seed,
                                    monkeypatch):
    """(5) With --dht-bootstrap given, gtorrent contacts nothing but
    loopback: run under strace -f (every thread), every sendto, sendmsg,
    sendmmsg and connect names 127.0.0.0/8 or ::1 (no public router, no
    DNS server), and the download still completes by the DHT."""
    if dht.strace_path() is None:
        pytest.skip("strace not installed")
    no_leak_check_under_ptrace(monkeypatch)
    case = Case(tmp_path, seed)
    lt_seed(net, lt, ltdht, case, tmp_path)
    out = tmp_path / "out"
    log = tmp_path / "strace.log"
    args = dht.strace_wrap([net.gtorrent], log) + [
        "-v", "-m", case.magnet, "-o", out] + \
        dht.gt_dht_args(ltdht, peers.free_port())
    g = net.add(peers.GtProc(args[0], args[1:], tmp_path, "gt-strace"),
                lambda p: p.close())
    gt_done(g, case, out, timeout=FIND_TIMEOUT + 30)
    dests = dht.strace_destinations(log)
    assert dests, "strace saw no network call: %s" % log.read_text()[:2000]
    off = [d for d in dests if not dht.is_loopback(d[0])]
    assert not off, "gtorrent contacted %s" % "\n".join(
        "%s:%d  (%s)" % (ip, p, ln[:160]) for ip, p, ln in off[:20])
    dht_dests = {(ip, p) for ip, p, _ in dests} & ltdht.endpoints()
    assert dht_dests, "no datagram to any DHT node: %r" % dests[:20]
    print("strace: %d network calls, %d destinations, all loopback; %d of "
          "them DHT nodes" % (len(dests), len({(ip, p) for ip, p, _ in
                                                dests}), len(dht_dests)))


def children(pid):
    """PIDs of pid's child processes (every thread's)."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def netns_unusable():
    for exe in ("unshare", "ip"):
        if dht.shutil.which(exe) is None:
            return "%s not installed" % exe
    r = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=10)
    if r.returncode != 0:
        return "cannot make a network namespace: %s" % r.stdout.decode(
            "utf-8", "replace").strip()[:200]
    return None


DEAD_RUN = 36       # s: past DHT_KEEP_ROUTERS_MS (30 s), when a node with
                    # no good node may turn to the public routers


@pytest.mark.xdist_group("dht-dead")      # no shared DHT: another worker
@pytest.mark.timeout(TEST_TIMEOUT)
def test_dead_bootstrap_stays_on_loopback(gt_dht, tmp_path, monkeypatch):
    """(5) The worst case: the one --dht-bootstrap node is dead, so the
    table stays empty past the time after which a node that was given
    no bootstrap node turns to the public routers.  gtorrent, in a network
    namespace of its own with only lo up (so nothing could leave anyway)
    and under strace -f, runs a magnet download for DEAD_RUN s: every
    address it sent to or connected to is loopback, none is a DNS server
    (port 53), and it kept asking the node it was given."""
    if dht.strace_path() is None:
        pytest.skip("strace not installed")
    why_not = netns_unusable()
    if why_not:
        pytest.skip(why_not)
    no_leak_check_under_ptrace(monkeypatch)
    dead = peers.free_port()
    port = peers.free_port()
    log = tmp_path / "strace.log"
    out = tmp_path / "out"
    magnet = "magnet:?xt=urn:btih:" + "5a" * 20
    inner = dht.strace_wrap([gt_dht, "-v", "-m", magnet, "-o", out,
                             "-p", port, "--dht-port", port,
                             "--dht-bootstrap", "127.0.0.1:%d" % dead], log)
    g = peers.GtProc("unshare", ["-n", "sh", "-c",
                                 'ip link set lo up && exec "$@"', "sh"] +
                     inner, tmp_path, "gt-netns")
    try:
        time.sleep(DEAD_RUN)
        assert g.alive(), why("gtorrent ended by itself", g)
        kids = children(g.pid)          # g.pid is strace now
        assert kids, why("no gtorrent under strace", g)
        for k in kids:
            os.kill(k, 2)
        g.wait(15)
    finally:
        g.close()
    dests = dht.strace_destinations(log)
    off = [d for d in dests if not dht.is_loopback(d[0]) or d[1] == 53]
    assert not off, "gtorrent contacted %s" % "\n".join(
        "%s:%d  (%s)" % (ip, p, ln[:160]) for ip, p, ln in off[:20])
    to_boot = [d for d in dests if d[0] == "127.0.0.1" and d[1] == dead]
    assert len(to_boot) >= 2, "the bootstrap node was asked %d times: %r" % (
        len(to_boot), dests[:20])
    print("dead bootstrap, %d s: %d network calls, all loopback, %d to the "
          "bootstrap node" % (DEAD_RUN, len(dests), len(to_boot)))
