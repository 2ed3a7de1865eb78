"""`gtorrent scrape`: figures from opentracker (HTTP and UDP) and from the
scripted trackers of trackers.py, several torrents batched per tracker,
dead, silent and hostile trackers, usage errors.

Output checked against the spec: per torrent a header line
"<40-hex info-hash>  <name>", then per tracker
"  <url>: <S> seeders, <L> leechers, <C> completed" ("?" for an unknown
figure) or "  <url>: error: <message>"; --json gives {"torrents": [{"name",
"info_hash", "trackers": [{"url", "seeders", "leechers", "completed"} or
{"url", "error"}]}]} with null for an unknown figure.  Exit 0 when every
torrent got at least one answer, 1 otherwise, 2 usage, 3 bad torrent.

Trackers are found in the output by the "127.0.0.1:PORT" in their URL.
Every process is bounded in time and killed by PID.
"""

import hashlib
import json
import random
import re

import pytest

import helpers
import peers
import trackers
from peers import why
from helpers import KIB, lt_make, make_payload
from trackers import HttpTracker, UdpTracker, torrent_with

SCRAPE_WAIT = 30         # seconds any scrape command may take at most
SHORT = 2                # --timeout for the tests with silent trackers
RSS_CAP_MIB = 64

HEADER_RE = re.compile(r"^([0-9a-f]{40})  (.+)$")
FIG_RE = re.compile(r"^  (\S+): (\d+|\?) seeders, (\d+|\?) leechers, "
                    r"(\d+|\?) completed$")
ERR_RE = re.compile(r"^  (\S+): error: (.*)$")


class Scrape:
    """One finished `gtorrent scrape` run: rc, out, err, elapsed, peak RSS
    (MiB)."""

    def __init__(self, gtorrent, tmp_path, args, timeout=SCRAPE_WAIT,
                 tag="scrape"):
        g = peers.GtProc(gtorrent, ["scrape"] + list(args), tmp_path, tag)
        rss = trackers.RssWatch(g.pid)
        try:
            self.rc = g.wait(timeout)
        finally:
            rss.stop()
            g.close()
        self.proc = g
        self.out = g.out
        self.err = g.err
        self.elapsed = g.elapsed
        self.peak_mib = rss.peak_mib

    def describe(self):
        return self.proc.describe(80)

    def json(self):
        try:
            obj = json.loads(self.out)
        except ValueError as e:
            raise AssertionError(why("stdout is not one JSON document: "
                                     "%s" % e, self))
        assert isinstance(obj, dict) and isinstance(
            obj.get("torrents"), list), why("no torrents list", self)
        return obj

    def json_torrent(self, ih):
        """The JSON entry of info-hash ih (bytes), checked for shape."""
        found = [t for t in self.json()["torrents"]
                 if t.get("info_hash") == ih.hex()]
        assert len(found) == 1, why("want one entry for %s" % ih.hex(),
                                    self)
        t = found[0]
        assert isinstance(t.get("name"), str), why(self)
        assert isinstance(t.get("trackers"), list), why(self)
        for tr in t["trackers"]:
            assert isinstance(tr.get("url"), str), why(tr, self)
            if "error" in tr:
                assert isinstance(tr["error"], str), why(tr, self)
            else:
                for k in ("seeders", "leechers", "completed"):
                    v = tr.get(k, "missing")
                    assert v is None or (isinstance(v, int) and
                                         not isinstance(v, bool) and
                                         v >= 0), why(k, tr, self)
        return t

    def plain(self):
        """{hex: (name, [(url, kind, data)])} from the text output; kind
        "fig" with (S, L, C) (None for "?") or "error" with the message.
        Any other line fails."""
        res = {}
        cur = None
        for ln in self.out.splitlines():
            if not ln.strip():
                continue
            m = HEADER_RE.match(ln)
            if m:
                cur = m.group(1)
                assert cur not in res, why("%s twice" % cur, self)
                res[cur] = (m.group(2), [])
                continue
            assert cur is not None, why("a line before any header: %r" % ln,
                                        self)
            m = FIG_RE.match(ln)
            if m:
                figs = tuple(None if x == "?" else int(x)
                             for x in m.group(2, 3, 4))
                res[cur][1].append((m.group(1), "fig", figs))
                continue
            m = ERR_RE.match(ln)
            assert m, why("a line of no known form: %r" % ln, self)
            res[cur][1].append((m.group(1), "error", m.group(2)))
        return res


def at(entries, port):
    """The tracker entries (JSON dicts or plain tuples) whose URL names
    127.0.0.1:port or [::1]:port."""
    def url(e):
        return e["url"] if isinstance(e, dict) else e[0]
    return [e for e in entries
            if ("127.0.0.1:%d" % port) in url(e) or
            ("[::1]:%d" % port) in url(e)]


def one_at(entries, port, s):
    found = at(entries, port)
    assert len(found) == 1, why("want one entry for port %d" % port,
                                repr(entries), s)
    return found[0]


def figures(e):
    return (e.get("seeders"), e.get("leechers"), e.get("completed"))


def fake_torrent(tmp_path, name, tiers, size=50000):
    """A .torrent for random data nobody has (scrapes need no data).
    Returns (path, info_hash)."""
    data = random.Random(name).randbytes(size)
    pl = 16 * KIB
    info = {"name": name, "length": size, "piece length": pl,
            "pieces": b"".join(hashlib.sha1(data[i:i + pl]).digest()
                               for i in range(0, size, pl))}
    raw = helpers.bencode(info)
    p = tmp_path / (name + ".torrent")
    p.write_bytes(torrent_with(raw, tiers))
    return p, hashlib.sha1(raw).digest()


def fake_ports(n):
    """n distinct ports for fake peers (the tracker counts peers by
    address and port)."""
    ports = set()
    while len(ports) < n:
        ports.add(peers.free_port())
    return sorted(ports)


def dead_url():
    return "http://127.0.0.1:%d/announce" % peers.free_port()


@pytest.fixture
def ot(opentracker, tmp_path):
    """An opentracker (not started: call .start(*hashes)), stopped at
    teardown."""
    t = peers.Opentracker(opentracker, tmp_path / "tracker")
    yield t
    t.stop()


@pytest.fixture
def scripted():
    """scripted(cls, **kw) starts a scripted tracker, stopped at
    teardown."""
    started = []

    def make(cls, **kw):
        t = cls(**kw).start()
        started.append(t)
        return t
    yield make
    for t in reversed(started):
        t.stop()


# --- 1: figures match opentracker's own -----------------------------------

@pytest.mark.timeout(60)
def test_scrape_matches_opentracker(net, opentracker, gtorrent_path,
                                    tmp_path, seed):
    """Two libtorrent seeders, a leecher and a finished peer (both fake
    announces) on opentracker: `scrape --json` over HTTP and over UDP gives
    what opentracker itself says."""
    tr = net.tracker()
    src = tmp_path / "src"
    src.mkdir()
    name = "swarm.bin"
    files = make_payload(src, name, [(None, 300000)], random.Random(seed))
    meta = peers.Meta(lt_make(src, name, files, 32 * KIB))
    ih = meta.info_hash
    tr.start(ih)
    for _ in range(2):
        s = net.lt_peer(torrent_with(meta.raw_info, [[tr.announce]]), src)
        s.wait_seeding(20)
    pa, pb = fake_ports(2)
    trackers.fake_announce(tr.announce, ih, pa, left=1000)
    trackers.fake_announce(tr.announce, ih, pb, left=0, event="completed")
    assert tr.wait_peers(ih, complete=3, incomplete=1, timeout=15), \
        "opentracker counts %r" % tr.scrape(ih)
    want = tr.scrape(ih)
    want = (want["complete"], want["incomplete"], want["downloaded"])
    for label, url in (("http", tr.announce), ("udp", tr.announce_udp)):
        t = tmp_path / ("%s.torrent" % label)
        t.write_bytes(torrent_with(meta.raw_info, [[url]]))
        s = Scrape(gtorrent_path, tmp_path, ["--json", t], tag=label)
        assert s.rc == 0, why(label, s)
        e = one_at(s.json_torrent(ih)["trackers"], tr.port, s)
        assert "error" not in e, why(label, e, s)
        assert figures(e) == want, why("%s: gtorrent says %r, opentracker "
                                       "%r" % (label, figures(e), want), s)
        assert s.json_torrent(ih)["name"] == name, why(s)


# --- 2: several torrents, plain output, batching ----------------------------

@pytest.mark.timeout(60)
def test_scrape_several_torrents_plain(ot, gtorrent_path, tmp_path):
    """Two torrents on opentracker with different swarms (fake announces)
    in one command: plain output, one header and one figures line each,
    equal to opentracker's; exit 0."""
    ta, iha = fake_torrent(tmp_path, "alpha", [[ot.announce]])
    tb, ihb = fake_torrent(tmp_path, "beta", [[ot.announce]])
    ot.start(iha, ihb)
    ports = iter(fake_ports(7))
    for ih, seeders, leechers in ((iha, 2, 1), (ihb, 1, 3)):
        for _ in range(seeders):
            trackers.fake_announce(ot.announce, ih, next(ports), 0)
        for _ in range(leechers):
            trackers.fake_announce(ot.announce, ih, next(ports), 500)
    assert ot.wait_peers(iha, 2, 1, 10) and ot.wait_peers(ihb, 1, 3, 10), \
        "opentracker counts %r %r" % (ot.scrape(iha), ot.scrape(ihb))
    s = Scrape(gtorrent_path, tmp_path, [ta, tb])
    assert s.rc == 0, why(s)
    res = s.plain()
    assert set(res) == {iha.hex(), ihb.hex()}, why(s)
    for ih, name in ((iha, "alpha"), (ihb, "beta")):
        got_name, lines = res[ih.hex()]
        assert got_name == name, why(s)
        assert len(lines) == 1, why(s)
        url, kind, figs = lines[0]
        assert kind == "fig" and ("127.0.0.1:%d" % ot.port) in url, why(s)
        o = ot.scrape(ih)
        assert figs == (o["complete"], o["incomplete"], o["downloaded"]), \
            why("%s: %r, opentracker %r" % (name, figs, o), s)


@pytest.mark.timeout(60)
def test_scrape_batched_per_tracker(gtorrent_path, tmp_path, scripted):
    """Three torrents naming the same scripted HTTP and UDP trackers: each
    tracker is asked about all three in one request; the figures come out
    per torrent and tracker, a figure the tracker leaves out as null."""
    h = scripted(HttpTracker)
    u = scripted(UdpTracker)
    made = [fake_torrent(tmp_path, "t%d" % k, [[h.announce], [u.announce]])
            for k in range(3)]
    counts = {}
    for k, (_, ih) in enumerate(made):
        counts[ih] = (10 + k, 20 + k, 30 + k)
    h.counts = dict(counts)
    u.counts = dict(counts)
    ih0 = made[0][1]
    h.counts[ih0] = (10, None, 30)          # no "downloaded"
    s = Scrape(gtorrent_path, tmp_path, ["--json"] + [p for p, _ in made])
    assert s.rc == 0, why(s, h, u)
    want_all = {ih for _, ih in made}
    assert any(set(r["info_hashes"]) == want_all for r in h.scrapes()), \
        why("no HTTP scrape with all three info-hashes", h)
    assert any(set(r["hashes"]) == want_all for r in u.scrapes()), \
        why("no UDP scrape with all three info-hashes", u)
    assert u.bad_conn_ids == 0, why(u)
    for _, ih in made:
        c, d, i = counts[ih]
        t = s.json_torrent(ih)
        assert len(t["trackers"]) == 2, why(s)
        eh = one_at(t["trackers"], h.port, s)
        eu = one_at(t["trackers"], u.port, s)
        assert figures(eu) == (c, i, d), why(eu, s)
        assert figures(eh) == ((c, i, None) if ih == ih0 else (c, i, d)), \
            why(eh, s)


# --- 3: dead and silent trackers ---------------------------------------------

@pytest.mark.timeout(60)
def test_scrape_dead_tracker(gtorrent_path, tmp_path, scripted):
    """A torrent whose only tracker refuses connections: an error line and
    exit 1, well within the default timeout.  Next to a torrent with a
    dead and a live tracker (which alone would exit 0): still exit 1."""
    dead = dead_url()
    td, ihd = fake_torrent(tmp_path, "dead", [[dead]])
    s = Scrape(gtorrent_path, tmp_path, [td], tag="dead")
    assert s.rc == 1, why(s)
    assert s.elapsed < 10, why("%.1f s for a refused connection" %
                               s.elapsed, s)
    name, lines = s.plain()[ihd.hex()]
    assert name == "dead" and len(lines) == 1, why(s)
    assert lines[0][1] == "error" and lines[0][2].strip(), why(s)

    live = scripted(HttpTracker)
    tm, ihm = fake_torrent(tmp_path, "mixed", [[dead], [live.announce]])
    live.counts = {ihm: (4, 5, 6)}
    s = Scrape(gtorrent_path, tmp_path, [tm], tag="mixed")
    assert s.rc == 0, why(s)
    lines = s.plain()[ihm.hex()][1]
    assert len(lines) == 2, why(s)
    e = one_at(lines, live.port, s)
    assert e[1:] == ("fig", (4, 6, 5)), why(s)
    assert [x for x in lines if x is not e][0][1] == "error", why(s)

    s = Scrape(gtorrent_path, tmp_path, ["--json", tm, td], tag="both")
    assert s.rc == 1, why("a torrent had no answer: exit 1", s)
    assert "error" in s.json_torrent(ihd)["trackers"][0], why(s)
    assert figures(one_at(s.json_torrent(ihm)["trackers"], live.port,
                          s)) == (4, 6, 5), why(s)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto", ["http", "udp"])
def test_scrape_silent_tracker_timeout(gtorrent_path, tmp_path, scripted,
                                       proto):
    """--timeout bounds a tracker that never answers: an error, exit 1,
    soon after the timeout."""
    cls = HttpTracker if proto == "http" else UdpTracker
    t = scripted(cls, scrape_behaviour="silent")
    p, ih = fake_torrent(tmp_path, "quiet", [[t.announce]])
    s = Scrape(gtorrent_path, tmp_path, ["--timeout", str(SHORT), p])
    assert s.rc == 1, why(s, t)
    assert s.elapsed < SHORT + 3, why("%.1f s with --timeout %d" % (
        s.elapsed, SHORT), s)
    lines = s.plain()[ih.hex()][1]
    assert len(lines) == 1 and lines[0][1] == "error", why(s)
    assert t.scrapes(), why("never asked", t)


# --- 4: hostile scrape replies ---------------------------------------------

HOSTILE = [("http", "big_body"), ("http", "gzip_bomb"), ("http", "garbage"),
           ("http", "huge_files"), ("http", "failure"),
           ("udp", "big_error"), ("udp", "short"), ("udp", "truncated"),
           ("udp", "wrong_txid")]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("proto,kind", HOSTILE,
                         ids=["%s-%s" % x for x in HOSTILE])
def test_scrape_hostile_reply(gtorrent_path, tmp_path, scripted, proto,
                              kind):
    """A tracker whose scrape reply is huge, a bomb, malformed, short, of
    another transaction or an error: an error entry (JSON and plain), exit
    1, no crash, bounded memory and time; the other torrent's honest
    tracker is still reported."""
    cls = HttpTracker if proto == "http" else UdpTracker
    t = scripted(cls, scrape_behaviour=kind)
    good = scripted(HttpTracker)
    p, ih = fake_torrent(tmp_path, "victim", [[t.announce]])
    q, ih2 = fake_torrent(tmp_path, "fine", [[good.announce]])
    good.counts = {ih2: (1, 2, 3)}
    s = Scrape(gtorrent_path, tmp_path, ["--json", "--timeout", str(SHORT),
                                         p, q], tag="json")
    assert s.rc >= 0, why("gtorrent died of signal %d" % -s.rc, s)
    assert s.rc == 1, why(s, t)
    assert s.elapsed < SHORT + 3, why(s)
    assert s.peak_mib < RSS_CAP_MIB, why("peak RSS %.1f MiB" % s.peak_mib,
                                         s)
    e = s.json_torrent(ih)["trackers"]
    assert len(e) == 1 and "error" in e[0], why(s)
    assert figures(s.json_torrent(ih2)["trackers"][0]) == (1, 3, 2), why(s)
    assert t.scrapes(), why("never asked", t)
    if kind in ("short", "wrong_txid"):
        return          # ignored datagrams: a timeout, as in the silent test
    s = Scrape(gtorrent_path, tmp_path, ["--timeout", str(SHORT), p],
               tag="plain")
    assert s.rc == 1, why(s)
    lines = s.plain()[ih.hex()][1]
    assert len(lines) == 1 and lines[0][1] == "error", why(s)
    print("%s/%s: %s" % (proto, kind, lines[0][2][:120]))


# --- 5: usage ---------------------------------------------------------------

@pytest.mark.parametrize("args,rc", [
    ([], 2),
    (["--no-such-option", "x.torrent"], 2),
    (["--timeout", "soon", "x.torrent"], 2),
    (["bad.torrent"], 3),
    (["missing.torrent"], 3),
], ids=["no-file", "bad-option", "bad-timeout", "bad-torrent", "missing"])
def test_scrape_usage(gt, tmp_path, args, rc):
    (tmp_path / "bad.torrent").write_bytes(b"d4:infod4:name")
    (tmp_path / "x.torrent").write_bytes(
        torrent_with(helpers.bencode({"name": "x", "length": 1,
                                      "piece length": 16384,
                                      "pieces": bytes(20)}),
                     [[dead_url()]]))
    r = gt("scrape", *args, cwd=tmp_path, timeout=20)
    assert r.rc == rc, r
    assert r.err.strip(), r
