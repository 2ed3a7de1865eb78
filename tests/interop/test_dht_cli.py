"""The DHT on gtorrent's command line: the download/seed options and
`gtorrent dht get-peers` / `gtorrent dht ping`.

Argument errors need no network.  The rest runs against python3-libtorrent
DHT nodes inside this process on 127.0.0.2, .3, ... (one address each, as
real nodes keep one table entry per IP), or a scripted KRPC node on
127.0.0.1.  gtorrent only ever gets loopback bootstrap nodes (helpers.gt_args
refuses others, and gives `dht get-peers` a dead loopback one when a test
gives none) and $XDG_STATE_HOME is a temporary folder (conftest.py), so
nothing leaves 127.0.0.0/8.  Every gtorrent runs under a timeout and is
killed by PID past it.

Run against another binary: GTORRENT=/abs/path/gtorrent /usr/bin/python3
-m pytest -q tests/interop/test_dht_cli.py
"""

import base64
import hashlib
import json
import os
import re
import select
import socket
import threading
import time

import pytest

import helpers
from conftest import run_cmd

IH = "0123456789abcdef0123456789abcdef01234567"
IH_NONE = "89abcdef0123456789abcdef0123456789abcdef"   # nobody announces it
ESC = "\x1b"
BIDI = "\u202e"


# --- argument errors: no network -------------------------------------------

def one_line_error(r, *needles):
    """Exit 2 or 3 with one line on stderr holding every needle."""
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("gtorrent: "), r
    for n in needles:
        assert n in lines[0], r
    assert r.out == "", r


@pytest.fixture
def torrent(tmp_path):
    data = b"dht cli" * 1000
    t = tmp_path / "x.torrent"
    info = {"name": "x.bin", "length": len(data), "piece length": 16384,
            "pieces": hashlib.sha1(data).digest()}
    t.write_bytes(helpers.bencode({"announce": helpers.ANNOUNCE,
                                   "info": info}))
    return t


@pytest.mark.parametrize("cmd", ["download", "seed"])
@pytest.mark.parametrize("bad", ["0", "65536", "-1", "1k", "80x", "",
                                 "999999999999999999999"])
def test_bad_dht_port(gt, torrent, cmd, bad):
    r = gt(cmd, "--dht-port", bad, torrent, timeout=10)
    assert r.rc == 2
    one_line_error(r, "--dht-port must be 1 to 65535", "'%s'" % bad)


BAD_BOOTSTRAP = ["foo", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                 "127.0.0.1:", ":6881", "[::1]", "::1:6881", "[::1:6881",
                 "[::1]:0", "[127.0.0.1]:1", "a..b:1", "-a:1", "a b:1",
                 "a_b:1", "host:80x", "x" * 300 + ":1"]


@pytest.mark.parametrize("bad", BAD_BOOTSTRAP)
def test_bad_dht_bootstrap(gtorrent_path, torrent, bad):
    # Run directly (gt_args refuses bootstrap nodes off loopback); --no-dht
    # first keeps it off the network even if the value were taken.
    r = run_cmd([gtorrent_path, "download", "--no-dht", "--dht-bootstrap",
                 bad, str(torrent)], timeout=10)
    assert r.rc == 2
    one_line_error(r, "--dht-bootstrap needs HOST:PORT")
    r = run_cmd([gtorrent_path, "dht", "get-peers", "-t", "1",
                 "--dht-bootstrap", "127.0.0.1:1", "--dht-bootstrap", bad,
                 IH], timeout=10)
    assert r.rc == 2
    one_line_error(r, "--dht-bootstrap needs HOST:PORT")


def test_good_dht_bootstrap_forms(gt, torrent):
    # --help ends the parse: the values before it were all taken.
    r = gt("download", "--dht-bootstrap", "127.0.0.2:6881",
           "--dht-bootstrap", "[::1]:6881", "--dht-bootstrap",
           "localhost:1", "--dht-port", "65535", "-d", "--help", timeout=10)
    assert r.rc == 0, r
    assert "--dht-bootstrap" in r.out


def test_too_many_bootstraps(gt, torrent):
    args = []
    for i in range(33):
        args += ["--dht-bootstrap", "127.0.0.%d:1" % (i + 2)]
    r = gt("download", *args, torrent, timeout=10)
    assert r.rc == 2
    one_line_error(r, "more than 32 --dht-bootstrap")


@pytest.mark.parametrize("opt", [["--dht-port", "7000"],
                                 ["--dht-bootstrap", "127.0.0.1:1"]])
def test_dht_options_need_the_dht(gtorrent_path, torrent, opt):
    r = run_cmd([gtorrent_path, "download"] + opt + ["--no-dht",
                                                     str(torrent)],
                timeout=10)
    assert r.rc == 2
    one_line_error(r, opt[0], "needs the DHT")


BAD_HASHES = ["", "zz", IH[:-1], IH + "0", IH[:-1] + "g",
              "A" * 31, "1" * 32,          # base32 has no digit 1
              IH + "&xt=urn:btih:" + IH,
              "magnet:?xt=urn:btih:123", "magnet:?dn=x",
              ESC + "[31m" + BIDI + "x"]


@pytest.mark.parametrize("bad", BAD_HASHES)
def test_get_peers_bad_infohash(gt, bad):
    r = gt("dht", "get-peers", "-t", "1", bad, timeout=10)
    assert r.rc == 3
    one_line_error(r, "dht get-peers")
    assert ESC not in r.err and BIDI not in r.err


@pytest.mark.parametrize("args,needle", [
    ([], "missing get-peers or ping"),
    (["frob"], "unknown command 'frob'"),
    (["get-peers"], "get-peers needs one INFOHASH"),
    (["get-peers", IH, IH], "get-peers needs one INFOHASH"),
    (["ping"], "ping needs one HOST:PORT"),
    (["ping", "127.0.0.1"], "ping needs HOST:PORT"),
    (["ping", "127.0.0.1:0"], "ping needs HOST:PORT"),
    (["ping", "--dht-bootstrap", "127.0.0.1:1", "127.0.0.1:1"],
     "ping takes no --dht-bootstrap"),
    (["get-peers", "-t", "0", IH], "--timeout must be 1 to 3600"),
    (["get-peers", "-t", "3601", IH], "--timeout must be 1 to 3600"),
    (["ping", "--dht-port", "0", "127.0.0.1:1"], "--dht-port must be"),
    (["get-peers", "--bogus", IH], "unknown option '--bogus'"),
])
def test_dht_usage_errors(gt, args, needle):
    r = gt("dht", *args, timeout=10)
    assert r.rc == 2
    one_line_error(r, needle, "gtorrent dht --help")


def test_help_texts(gt):
    r = gt("--help")
    assert r.rc == 0 and re.search(r"^  dht ", r.out, re.M), r
    r = gt("dht", "--help")
    assert r.rc == 0, r
    for s in ("get-peers", "ping", "--json", "--timeout", "--dht-port",
              "--dht-bootstrap", "Exit status"):
        assert s in r.out, s
    for cmd in ("download", "seed"):
        r = gt(cmd, "--help")
        assert r.rc == 0, r
        for s in ("-d, --dht", "--no-dht", "--dht-port N",
                  "--dht-bootstrap HOST:PORT", "dht.dat",
                  "XDG_STATE_HOME"):
            assert s in r.out, (cmd, s)


def test_harness_never_reaches_the_public_dht():
    ga = helpers.gt_args
    assert ga(["x.torrent"]) == ["--no-dht", "x.torrent"]
    assert ga(["seed", "-o", "d", "t"]) == ["seed", "--no-dht", "-o", "d",
                                             "t"]
    assert ga(["info", "t"]) == ["info", "t"]
    assert ga(["--help"]) == ["--help"]
    assert "127.0.0.1:1" in ga(["dht", "get-peers", IH])
    assert ga(["--dht-bootstrap", "127.0.0.5:9", "t"])[0] == \
        "--dht-bootstrap"
    for bad in (["--dht-bootstrap", "192.0.2.1:6881", "t"],
                ["--dht", "t"], ["download", "-d", "t"]):
        with pytest.raises(AssertionError):
            ga(bad)
    assert os.environ.get("XDG_STATE_HOME", "").startswith("/")


# --- with the DHT runtime --------------------------------------------------

@pytest.fixture(scope="module")
def gt_dht(gtorrent_path):
    """gtorrent's path, or a skip while it has no DHT runtime yet."""
    r = run_cmd([gtorrent_path, "dht", "ping", "-t", "1", "127.0.0.1:1"],
                timeout=20)
    if "did not start" in r.err or "unknown command" in r.err:
        pytest.skip("no DHT runtime in this gtorrent: %s" % r.err.strip())
    return gtorrent_path


def free_port_on(ip):
    """A port free for TCP and UDP on ip now."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind((ip, 0))
            port = t.getsockname()[1]
            u.bind((ip, port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise AssertionError("no free port on %s" % ip)


class LtDht:
    """n libtorrent DHT nodes on 127.0.0.2.., settings from
    REFERENCE-PEERS.md so that loopback nodes count; each is told of the
    others (libtorrent never puts bootstrap nodes in its table)."""

    def __init__(self, lt, n, tmp):
        self.lt = lt
        self.tmp = str(tmp)
        self.ips = ["127.0.0.%d" % (i + 2) for i in range(n)]
        self.ports = [free_port_on(ip) for ip in self.ips]
        self.nodes = []
        self.handles = []
        cat = lt.alert.category_t
        for ip, port in zip(self.ips, self.ports):
            self.nodes.append(lt.session({
                "listen_interfaces": "%s:%d" % (ip, port),
                "enable_dht": True, "enable_lsd": False,
                "enable_upnp": False, "enable_natpmp": False,
                "dht_bootstrap_nodes": "%s:%d" % (self.ips[0],
                                                  self.ports[0]),
                "dht_restrict_routing_ips": False,
                "dht_restrict_search_ips": False,
                "dht_ignore_dark_internet": False,
                "dht_prefer_verified_node_ids": False,
                "dht_enforce_node_id": False,
                "dht_block_ratelimit": 1000,
                "dht_announce_interval": 60,
                "enable_incoming_utp": False, "enable_outgoing_utp": False,
                "alert_mask": cat.dht_notification |
                cat.dht_operation_notification,
            }))
        for i, s in enumerate(self.nodes):
            for j in range(n):
                if j != i:
                    s.add_dht_node((self.ips[j], self.ports[j]))

    def addr(self, i):
        return "%s:%d" % (self.ips[i], self.ports[i])

    def announce(self, ih_hex, i, timeout=30):
        """Node i joins ih's swarm (by its hash: no metadata) and announces
        until node 0 finds it with a get_peers of its own."""
        lt = self.lt
        p = lt.add_torrent_params()
        p.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(ih_hex)))
        p.save_path = os.path.join(self.tmp, "lt%d" % i)
        h = self.nodes[i].add_torrent(p)
        self.handles.append((i, h))
        want = "%s:%d" % (self.ips[i], self.ports[i])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            h.force_dht_announce()
            self.nodes[0].dht_get_peers(lt.sha1_hash(bytes.fromhex(ih_hex)))
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                self.nodes[0].wait_for_alert(200)
                for a in self.nodes[0].pop_alerts():
                    if isinstance(a, lt.dht_get_peers_reply_alert):
                        got = ["%s:%d" % (ip, port) for ip, port in
                               a.peers()]
                        if want in got:
                            return want
        raise AssertionError("libtorrent node %d's announce of %s was not "
                             "seen in %s s" % (i, ih_hex, timeout))

    def close(self):
        for i, h in self.handles:
            try:
                self.nodes[i].remove_torrent(h)
            except Exception:
                pass
        for s in self.nodes:
            s.pause()
        self.nodes = []


@pytest.fixture(scope="module")
def ltdht(lt, gt_dht, tmp_path_factory):
    d = LtDht(lt, 6, tmp_path_factory.mktemp("ltdht"))
    try:
        d.peer = d.announce(IH, 5)
        yield d
    finally:
        d.close()


PING_LINE = re.compile(r"^(\S+)  id ([0-9a-f]{40})  version (\S+)  "
                       r"rtt (\d+) ms$")


def test_ping_libtorrent_node(gt, gt_dht, ltdht):
    t0 = time.monotonic()
    r = gt("dht", "ping", ltdht.addr(1), timeout=20)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 5, r
    lines = r.out.splitlines()
    assert len(lines) == 1, r
    m = PING_LINE.match(lines[0])
    assert m, r
    assert m.group(1) == ltdht.addr(1)
    # libtorrent's "v" is "LT" and two version bytes: escaped as \xNN
    assert re.match(r"^LT(\\x[0-9a-f]{2}|[ -~]){2}$", m.group(3)), r

    r = gt("dht", "ping", "--json", ltdht.addr(2), timeout=20)
    assert r.rc == 0, r
    j = r.json()
    assert j["address"] == ltdht.addr(2)
    assert re.match(r"^[0-9a-f]{40}$", j["id"])
    assert j["version_hex"].startswith("4c54") and \
        len(j["version_hex"]) == 8, j
    assert j["version"].startswith("LT")
    assert isinstance(j["rtt_ms"], int) and 0 <= j["rtt_ms"] < 2000


class KrpcNode:
    """A scripted node on 127.0.0.1: records every datagram, answers each
    query with reply(msg) (None: silence)."""

    def __init__(self, reply=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.got = []
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def _run(self):
        while not self.stop_ev.is_set():
            try:
                rd, _, _ = select.select([self.sock], [], [], 0.1)
                if not rd:
                    continue
                pkt, src = self.sock.recvfrom(65536)
            except OSError:
                return
            self.got.append((pkt, src))
            if self.reply is None:
                continue
            try:
                msg, _ = helpers.bdecode(pkt)
            except Exception:
                continue
            out = self.reply(msg)
            if out is not None:
                try:
                    self.sock.sendto(helpers.bencode(out), src)
                except OSError:
                    return

    def close(self):
        self.stop_ev.set()
        self.th.join(5)
        self.sock.close()


@pytest.fixture
def krpc_node():
    made = []

    def _mk(reply=None):
        n = KrpcNode(reply)
        made.append(n)
        return n
    yield _mk
    for n in made:
        n.close()


def test_ping_no_answer(gt, gt_dht, krpc_node):
    silent = krpc_node(None)
    t0 = time.monotonic()
    r = gt("dht", "ping", "-t", "3", silent.addr, timeout=20)
    secs = time.monotonic() - t0
    assert r.rc == 1, r
    assert r.out == "", r
    assert "no answer from %s in 3 s" % silent.addr in r.err, r
    assert 2.5 < secs < 8, secs
    # It was asked (ping, and find_node as its bootstrap node), and only
    # with KRPC queries.
    assert silent.got, "no datagram reached the node"
    kinds = set()
    for pkt, _ in silent.got:
        msg, _ = helpers.bdecode(pkt)
        assert msg[b"y"] == b"q", msg
        kinds.add(msg[b"q"])
    assert b"ping" in kinds, kinds


# gtorrent keeps the first 4 bytes of "v" (KRPC_MAX_VERSION).
@pytest.mark.parametrize("evil,shown", [
    ((ESC + BIDI).encode(), "\\x1b\\xe2\\x80\\xae"),
    (b"\\\x00\xffZ", "\\x5c\\x00\\xffZ"),
    (b"LT\x02\x08", "LT\\x02\\x08"),
])
def test_ping_version_is_escaped(gt, gt_dht, krpc_node, evil, shown):

    def reply(msg):
        if msg.get(b"y") != b"q":
            return None
        r = {b"id": b"\x11" * 20}
        if msg.get(b"q") != b"ping":
            r[b"nodes"] = b""
        return {b"t": msg[b"t"], b"y": b"r", b"r": r, b"v": evil}
    node = krpc_node(reply)
    r = gt("dht", "ping", "-t", "5", node.addr, timeout=20)
    assert r.rc == 0, r
    assert ESC not in r.out and BIDI not in r.out and "\x00" not in r.out
    m = PING_LINE.match(r.out.strip())
    assert m, r
    assert m.group(2) == "11" * 20
    assert m.group(3) == shown, r
    r = gt("dht", "ping", "--json", "-t", "5", node.addr, timeout=20)
    assert r.rc == 0, r
    j = r.json()
    assert j["version_hex"] == evil.hex()
    assert ESC not in j["version"] and BIDI not in j["version"]


def hash_forms():
    raw = bytes.fromhex(IH)
    return {
        "hex": IH,
        "HEX": IH.upper(),
        "base32": base64.b32encode(raw).decode(),
        "magnet": "magnet:?xt=urn:btih:%s&dn=x&tr=%s" % (
            IH, "http%3A%2F%2F127.0.0.1%3A1%2Fannounce"),
    }


def test_get_peers_finds_libtorrent_peer(gt, gt_dht, ltdht):
    t0 = time.monotonic()
    r = gt("dht", "get-peers", "-t", "20", "--dht-bootstrap",
           ltdht.addr(0), IH, timeout=40)
    secs = time.monotonic() - t0
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert ltdht.peer in lines, r
    assert all(re.match(r"^127\.0\.0\.\d+:\d+$", ln) for ln in lines), r
    assert len(set(lines)) == len(lines), "a peer printed twice: %r" % r
    assert secs < 15, (secs, r)
    assert re.search(r"^gtorrent: dht get-peers: %s: %d peers? in "
                     r"[0-9.]+ s \(\d+ lookups?, \d+ queries, \d+ answers; "
                     r"\d+ nodes\)$" % (IH, len(lines)), r.err, re.M), r


@pytest.mark.parametrize("form", sorted(hash_forms()))
def test_get_peers_json_hash_forms(gt, gt_dht, ltdht, form):
    r = gt("dht", "get-peers", "--json", "-t", "20", "--dht-bootstrap",
           ltdht.addr(0), hash_forms()[form], timeout=40)
    assert r.rc == 0, r
    objs = [json.loads(ln) for ln in r.out.splitlines()]
    peers, summary = objs[:-1], objs[-1]
    assert ltdht.peer in [p["peer"] for p in peers], r
    for p in peers:
        assert p["peer"] == "%s:%d" % (p["ip"], p["port"]), p
        assert isinstance(p["ms"], int)
    assert summary["info_hash"] == IH
    assert summary["peers"] == len(peers) >= 1
    assert summary["timed_out"] is False
    assert summary["lookups"] >= 1 and summary["answers"] >= 1


def test_get_peers_none(gt, gt_dht, ltdht):
    t0 = time.monotonic()
    r = gt("dht", "get-peers", "-t", "20", "--dht-bootstrap",
           ltdht.addr(0), IH_NONE, timeout=40)
    assert r.rc == 1, r
    assert r.out == "", r
    assert "%s: 0 peers in" % IH_NONE in r.err, r
    assert time.monotonic() - t0 < 20


def test_get_peers_timeout_without_nodes(gt, gt_dht):
    t0 = time.monotonic()
    r = gt("dht", "get-peers", "--json", "-t", "2", "--dht-bootstrap",
           "127.0.0.1:1", IH, timeout=20)
    secs = time.monotonic() - t0
    assert r.rc == 1, r
    j = r.json()
    assert j["peers"] == 0 and j["timed_out"] is True, j
    assert 1.5 < secs < 6, secs


@pytest.mark.parametrize("where", ["xdg", "home"])
def test_state_folder(gtorrent_path, gt_dht, ltdht, tmp_path, where):
    """The routing table is kept in $XDG_STATE_HOME/gtorrent/dht.dat, else
    ~/.local/state/gtorrent/dht.dat."""
    if where == "xdg":
        env = {"XDG_STATE_HOME": str(tmp_path / "xdg")}
        path = tmp_path / "xdg" / "gtorrent" / "dht.dat"
    else:
        env = {"XDG_STATE_HOME": "", "HOME": str(tmp_path / "home")}
        (tmp_path / "home").mkdir()
        path = tmp_path / "home" / ".local" / "state" / "gtorrent" / \
            "dht.dat"
    args = [gtorrent_path] + helpers.gt_args(
        ["dht", "get-peers", "-t", "20", "--dht-bootstrap", ltdht.addr(0),
         IH])
    r = run_cmd(args, env=env, timeout=40)
    assert r.rc == 0, r
    assert path.is_file(), r
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    t, _ = helpers.bdecode(path.read_bytes())
    assert isinstance(t, dict), t


def test_status_line_shows_the_dht(gt_dht, ltdht, tmp_path):
    """-v: the status line (a plain line every 5 s off a terminal) shows
    the DHT's nodes and the peers it found for the torrent: here a magnet
    with no tracker whose one peer, a libtorrent node, only the DHT
    knows."""
    import peers
    g = peers.GtProc(gt_dht, ["-v", "-p", "0", "-o", tmp_path / "out",
                              "--dht-bootstrap", ltdht.addr(0),
                              "magnet:?xt=urn:btih:" + IH], tmp_path, "dl")
    try:
        pat = re.compile(r"  dht (\d+) nodes \((\d+) good\) (\d+) peers$",
                         re.M)
        assert peers.wait_until(lambda: pat.search(g.out) or not g.alive(),
                                15), g
        m = pat.search(g.out)
        assert m, g
        assert int(m.group(1)) >= 1 and int(m.group(3)) >= 1, g
        assert g.interrupt() == 130, g
    finally:
        g.close()


@pytest.mark.parametrize("verb", ["ping", "get-peers"])
def test_dht_port_taken(gt, gt_dht, verb):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    try:
        port = u.getsockname()[1]
        arg = "127.0.0.1:1" if verb == "ping" else IH
        r = gt("dht", verb, "--dht-port", port, "-t", "2", arg, timeout=20)
        assert r.rc == 1, r
        one_line_error(r, "dht %s" % verb, str(port))
    finally:
        u.close()
