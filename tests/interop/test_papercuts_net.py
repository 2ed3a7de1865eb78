"""The network papercuts of issue 13, each as a new user would meet it.

- SIGHUP (a closed terminal) stops a download, a seed, `dht get-peers`
  and `scrape` as cleanly as SIGINT: the trackers hear `stopped`, the
  summary is printed, the exit code is 130.
- `-p N` busy: one line naming the port, exit 1; without -p the next free
  port is taken and said; `-p 0` says the port the system chose.
- `--bind ADDR` / `--interface ADDR`: the listener and outgoing peer
  connections use that address, IPv4 and IPv6.
- The only tracker answering `failure reason`, with no other peer source,
  ends the run with its reason; a refused `--peer` is said once.
- A .torrent given by http:// URL is fetched (a tiny local server).

Everything runs on 127.0.0.0/8 and ::1; every process is bounded in time
and killed by PID at the end (peers.Net, conftest.run_cmd).
"""

import hashlib
import http.server
import json
import os
import signal
import socket
import socketserver
import threading
import time

import pytest

import helpers
import peers
import trackers
from conftest import run_cmd
from peers import why

PL = 16384


def make_case(tmp_path, announce=None, size=100000, name="pc.bin"):
    """A one-file payload under tmp/src and its .torrent (bytes, path)."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    data = os.urandom(size)
    (src / name).write_bytes(data)
    info = {"name": name, "length": size, "piece length": PL,
            "pieces": b"".join(hashlib.sha1(data[i:i + PL]).digest()
                               for i in range(0, size, PL))}
    t = {"info": info}
    if announce:
        t["announce"] = announce
    raw = helpers.bencode(t)
    path = tmp_path / "pc.torrent"
    path.write_bytes(raw)
    return raw, path, src


def wait_event(tr, ev, timeout=15):
    return peers.wait_until(lambda: ev in tr.events(), timeout, 0.05)


# --- 1. SIGHUP stops cleanly, like SIGINT -----------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("verb", ["download", "seed"])
def test_sighup_stops_cleanly(net, tmp_path, verb):
    with trackers.HttpTracker() as tr:
        _, torrent, src = make_case(tmp_path, tr.announce)
        out = src if verb == "seed" else tmp_path / "out"
        g = net.gt(verb, "-p", peers.free_port(), "-o", out, torrent,
                   tag=verb)
        assert wait_event(tr, "started"), why("never announced", tr, g)
        g.proc.send_signal(signal.SIGHUP)
        rc = g.wait(15)
        assert rc == 130, why("SIGHUP must stop like SIGINT (130)", g)
        assert peers.wait_until(lambda: "stopped" in tr.events(), 5), why(
            "no `stopped` announce after SIGHUP", tr, g)
        assert "stopped" in g.out, why("no summary after SIGHUP", g)


@pytest.mark.timeout(40)
def test_sighup_stops_dht_and_scrape(gtorrent_path, tmp_path):
    """`dht get-peers` and `scrape` end on SIGHUP as on SIGINT."""
    import subprocess
    import helpers as h
    with trackers.HttpTracker(behaviour="silent",
                              scrape_behaviour="silent") as tr:
        _, torrent, _ = make_case(tmp_path, tr.announce)
        cmds = [["dht", "get-peers", "-t", "60", "--dht-bootstrap",
                 "127.0.0.1:1", "0123456789abcdef0123456789abcdef01234567"],
                ["scrape", "-t", "60", str(torrent)]]
        for args in cmds:
            rcs = []
            for sig in (signal.SIGINT, signal.SIGHUP):
                p = subprocess.Popen([gtorrent_path] + h.gt_args(args),
                                     cwd=str(tmp_path),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                try:
                    time.sleep(1.0)
                    p.send_signal(sig)
                    o, e = p.communicate(timeout=15)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait(5)
                rcs.append((p.returncode, o, e))
            assert rcs[0][0] >= 0, (args, rcs)
            assert rcs[1][0] == rcs[0][0], ("SIGHUP must end %s as SIGINT "
                                             "does" % args[0], rcs)


# --- 2. -p N busy: an error; no -p: the next port, said; -p 0: said ----------

def hold_port(port, host="127.0.0.1"):
    """A listening socket on host:port (None when it is taken already)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        s.bind((host, port))
        s.listen(1)
    except OSError:
        s.close()
        return None
    return s


def said_port(g, timeout=10):
    """The port of gtorrent's "listening on port N" line, once it comes."""
    found = []

    def look():
        for ln in g.err.splitlines():
            if ln.startswith("gtorrent: listening on port "):
                found.append(int(ln.rsplit(" ", 1)[1]))
                return True
        return False
    peers.wait_until(lambda: look() or not g.alive(), timeout, 0.05)
    return found[0] if found else None


def can_connect(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.mark.timeout(30)
def test_explicit_port_busy_is_an_error(gt, tmp_path):
    _, torrent, _ = make_case(tmp_path, helpers.ANNOUNCE)
    port = peers.free_port()
    s = hold_port(port)
    try:
        r = gt("-p", port, "-o", tmp_path / "out", torrent, timeout=15)
    finally:
        s.close()
    assert r.rc == 1, r
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("gtorrent: ") and str(port) in lines[0], r
    assert "in use" in lines[0], r


@pytest.mark.timeout(30)
def test_default_port_taken_next_one_said(net, tmp_path):
    """No -p: 6881 taken (by us, or by anything else), the next free port
    is used and said on stderr in one line."""
    _, torrent, _ = make_case(tmp_path, helpers.ANNOUNCE)
    s = hold_port(6881, "::") or hold_port(6881)
    try:
        g = net.gt("-o", tmp_path / "out", torrent, tag="noport")
        p = said_port(g)
        assert p is not None, why("the port taken is not said", g)
        assert 6881 < p <= 6890, why(g)
        assert can_connect("127.0.0.1", p), why("not listening on", p, g)
    finally:
        if s is not None:
            s.close()
    assert len(g.err_lines_with("listening on port")) == 1, why(g)


@pytest.mark.timeout(30)
def test_port_zero_said(net, tmp_path):
    _, torrent, _ = make_case(tmp_path, helpers.ANNOUNCE)
    g = net.gt("-p", "0", "-o", tmp_path / "out", torrent, tag="port0")
    p = said_port(g)
    assert p is not None and p > 0, why("-p 0: the port is not said", g)
    assert can_connect("127.0.0.1", p), why("not listening on", p, g)


# --- 3. --bind ADDR / --interface ADDR ---------------------------------------

class Dialled:
    """A TCP listener on host that records the source address of each
    connection gtorrent makes to it (and closes it)."""

    def __init__(self, host):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.sock = socket.socket(fam)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.sources = []
        self.stopping = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    @property
    def arg(self):
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)

    def _run(self):
        while not self.stopping.is_set():
            try:
                c, a = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.sources.append(a[0])
            c.close()

    def stop(self):
        self.stopping.set()
        self.t.join(5)
        self.sock.close()


@pytest.mark.timeout(40)
@pytest.mark.parametrize("opt", ["--bind", "--interface"])
def test_bind_ipv4(net, tmp_path, opt):
    """--bind 127.0.0.2: the listener is on 127.0.0.2 alone, peers are
    dialled from it, and the HTTP tracker sees it too."""
    seen = []

    def rec(tr, h, req):
        seen.append(h.client_address[0])
        h.send_body(helpers.bencode({"interval": 1800, "peers": b""}))
    with trackers.HttpTracker(behaviour=rec) as tr:
        _, torrent, _ = make_case(tmp_path, tr.announce)
        d = Dialled("127.0.0.1")
        try:
            port = peers.free_port()
            g = net.gt(opt, "127.0.0.2", "-p", port, "--peer", d.arg,
                       "-o", tmp_path / "out", torrent, tag="bind4")
            assert peers.wait_until(lambda: d.sources or not g.alive(),
                                    15), why("the peer was not dialled", g)
            assert set(d.sources) == {"127.0.0.2"}, why(d.sources, g)
            assert peers.wait_until(lambda: seen, 10), why(tr, g)
            assert set(seen) == {"127.0.0.2"}, why(seen, g)
            assert can_connect("127.0.0.2", port), why(g)
            assert not can_connect("127.0.0.1", port), why(
                "listening beyond --bind", g)
        finally:
            d.stop()


@pytest.mark.timeout(40)
def test_bind_ipv6_skips_ipv4_peers(net, tmp_path):
    why6 = trackers.ipv6_unusable()
    if why6:
        pytest.skip(why6)
    _, torrent, _ = make_case(tmp_path, helpers.ANNOUNCE)
    d6 = Dialled("::1")
    d4 = Dialled("127.0.0.1")
    try:
        port = trackers.free_port6()
        g = net.gt("--bind", "::1", "-p", port, "-vv", "--no-tracker",
                   "--peer", d6.arg, "--peer", d4.arg,
                   "-o", tmp_path / "out", torrent, tag="bind6")
        assert peers.wait_until(lambda: d6.sources or not g.alive(), 15), \
            why("the IPv6 peer was not dialled", g)
        assert set(d6.sources) == {"::1"}, why(d6.sources, g)
        assert can_connect("::1", port), why(g)
        assert not can_connect("127.0.0.1", port), why(g)
        time.sleep(1.0)
        assert d4.sources == [], why("an IPv4 peer dialled from --bind ::1",
                                     g)
        assert g.err_lines_with("not IPv6 like --bind"), why(g)
    finally:
        d6.stop()
        d4.stop()


@pytest.mark.timeout(30)
def test_bind_interface_name_and_udp_tracker(net, tmp_path):
    """--interface lo takes lo's IPv4 address (127.0.0.1); --bind
    127.0.0.3 sends UDP tracker datagrams from 127.0.0.3."""
    with trackers.UdpTracker() as ut:
        _, torrent, _ = make_case(tmp_path, "udp://127.0.0.1:%d" % ut.port)
        port = peers.free_port()
        g = net.gt("--interface", "lo", "-p", port, "-o", tmp_path / "o1",
                   torrent, tag="lo")
        assert peers.wait_until(lambda: can_connect("127.0.0.1", port) or
                                not g.alive(), 10), why(g)
        assert not can_connect("127.0.0.2", port), why(g)
        g.interrupt()
        n = len(ut.requests)
        g2 = net.gt("--bind", "127.0.0.3", "-p", peers.free_port(), "-o",
                    tmp_path / "o2", torrent, tag="udp")
        assert peers.wait_until(lambda: len(ut.requests) > n or
                                not g2.alive(), 10), why(ut, g2)
        srcs = {r["addr"][0] for r in ut.requests[n:]}
        assert srcs == {"127.0.0.3"}, why(srcs, g2)


def test_bind_bad_address(gt, tmp_path):
    _, torrent, _ = make_case(tmp_path, helpers.ANNOUNCE)
    r = gt("--bind", "no-such-if0", "-o", tmp_path / "out", torrent,
           timeout=10)
    assert r.rc == 2, r
    assert len(r.err_lines()) == 1 and "--bind" in r.err, r


# --- 4. the only tracker refuses; a refused --peer ---------------------------

@pytest.mark.timeout(60)
def test_only_tracker_failure_reason_ends_the_run(net, tmp_path):
    """No DHT, no --peer, one tracker that says `failure reason`: the run
    ends after its second refusal (15 s after the first), exit 1, with
    the reason in one error line."""
    with trackers.HttpTracker(behaviour="failure") as tr:
        _, torrent, _ = make_case(tmp_path, tr.announce)
        g = net.gt("--json", "-p", peers.free_port(), "-o",
                   tmp_path / "out", torrent, tag="refused")
        rc = g.wait(35)
        assert rc == 1, why(g)
        lines = g.err_lines_with("tracker says:")
        assert lines == ["gtorrent: download: pc.bin: tracker says: scripted "
                         "failure"], why(g)
        assert "stopped" in tr.events(), why(tr, g)
        # --json tells the same: an "error" with the reason, then "stopped"
        objs = [json.loads(ln) for ln in g.out.splitlines() if ln]
        errs = [o for o in objs if o["event"] == "error"]
        assert [o["message"] for o in errs] == ["scripted failure"], objs
        assert objs[-1]["event"] == "stopped" and objs[-1]["exit"] == 1, objs


@pytest.mark.timeout(40)
def test_failure_reason_with_a_peer_keeps_running(net, tmp_path):
    """A --peer is another source: the run goes on."""
    with trackers.HttpTracker(behaviour="failure") as tr:
        _, torrent, _ = make_case(tmp_path, tr.announce)
        d = Dialled("127.0.0.1")
        try:
            g = net.gt("-p", peers.free_port(), "--peer", d.arg, "-o",
                       tmp_path / "out", torrent, tag="refused-peer")
            peers.wait_until(lambda: len(tr.announces()) >= 2 or
                             not g.alive(), 25)
            time.sleep(2)
            assert g.alive(), why(g)
            assert not g.err_lines_with("tracker says:"), why(g)
        finally:
            d.stop()


@pytest.mark.timeout(30)
def test_refused_peer_warned_once(net, tmp_path):
    _, torrent, _ = make_case(tmp_path, helpers.ANNOUNCE)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]       # bound, not listening: refused
    try:
        g = net.gt("--no-tracker", "--peer", "127.0.0.1:%d" % dead, "-p",
                   peers.free_port(), "-o", tmp_path / "out", torrent,
                   tag="refused")
        tag = "127.0.0.1:%d" % dead
        assert peers.wait_until(lambda: g.err_lines_with(tag) or
                                not g.alive(), 10), why(g)
        time.sleep(6)               # redials
        lines = g.err_lines_with(tag)
        assert len(lines) == 1, why(g)
        assert "warning" in lines[0] and "refused" in lines[0], why(g)
    finally:
        s.close()


# --- 5. a .torrent by URL ------------------------------------------------------

class _Web(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Web:
    """A tiny HTTP server on 127.0.0.1 (a random port): path -> (status,
    body bytes or a size of filler, extra headers)."""

    def __init__(self, routes):
        self.routes = routes
        self.hits = []
        web = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                web.hits.append(self.path)
                status, body, headers = web.routes.get(
                    self.path, (404, b"not here", {}))
                self.send_response(status)
                n = body if isinstance(body, int) else len(body)
                self.send_header("Content-Length", str(n))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    if isinstance(body, int):
                        chunk = b"x" * (1 << 20)
                        while n > 0:
                            self.wfile.write(chunk[:min(n, len(chunk))])
                            n -= len(chunk)
                    else:
                        self.wfile.write(body)
                except OSError:
                    pass
        self.srv = _Web(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever,
                                  kwargs={"poll_interval": 0.1},
                                  daemon=True)
        self.t.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.t.join(5)


@pytest.fixture
def web():
    w = Web({})
    yield w
    w.stop()


@pytest.mark.timeout(60)
def test_torrent_by_url_downloads(net, tmp_path, web):
    """`gtorrent http://…/x.torrent` (through a redirect) downloads from a
    gtorrent seeder, byte for byte."""
    raw, torrent, src = make_case(tmp_path, helpers.ANNOUNCE, size=300000)
    web.routes["/x.torrent"] = (200, raw, {})
    web.routes["/go"] = (302, b"", {"Location": "/x.torrent"})
    sport = peers.free_port()
    sg = net.gt("seed", "--no-tracker", "-p", sport, "-o", src, torrent,
                tag="seeder")
    assert peers.wait_listening(sport, 20, sg.alive), why(sg)
    out = tmp_path / "out"
    g = net.gt("--no-tracker", "--peer", "127.0.0.1:%d" % sport, "-p",
               peers.free_port(), "-o", out, web.url("/go"), tag="url")
    rc = g.wait(40)
    assert rc == 0, why(g)
    assert (out / "pc.bin").read_bytes() == (src / "pc.bin").read_bytes()
    assert "/x.torrent" in web.hits, web.hits


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path,rc,needle", [
    ("/page.html", 3, "not a .torrent file (it looks like HTML)"),
    ("/missing.torrent", 1, "HTTP 404"),
    ("/big.torrent", 3, "larger than 64 MiB"),
    ("/loop", 1, "edirect"),
    ("/empty.torrent", 3, "not a .torrent file (it is empty)"),
])
def test_torrent_by_url_errors(gt, tmp_path, web, path, rc, needle):
    web.routes["/page.html"] = (200, b"<!DOCTYPE html>\n<html><body>hi"
                                b"</body></html>\n",
                                {"Content-Type": "text/html"})
    web.routes["/big.torrent"] = (200, (64 << 20) + 1, {})
    web.routes["/loop"] = (302, b"", {"Location": "/loop"})
    web.routes["/empty.torrent"] = (200, b"", {})
    r = gt("-p", "0", "-o", tmp_path / "out", web.url(path), timeout=40)
    assert r.rc == rc, r
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("gtorrent: ") and needle in lines[0], r


@pytest.mark.parametrize("verb", ["info", "verify"])
def test_url_to_a_local_only_command(gt, tmp_path, web, verb):
    args = [verb, web.url("/x.torrent")]
    if verb == "verify":
        args += ["-o", str(tmp_path)]
    r = gt(*args, timeout=10)
    assert r.rc == 2, r
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert "reads a local .torrent file" in lines[0], r
    assert web.hits == [], web.hits
