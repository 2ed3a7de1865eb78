"""Magnet links against hostile peers and hostile input (issue 9).

Scripted peers (magnets.ext_script: BEP 10 with ut_metadata and ut_pex)
misbehave, next to one honest libtorrent seeder where a test needs one:

  test_absurd_metadata_size   metadata_size of 1 TiB, -1, 0, just over the
                              16 MiB cap: gtorrent never asks that peer,
                              stays up, and completes once the honest seeder
                              dials in.
  test_random_metadata_pieces pieces of random bytes: the assembled info
                              dict fails its hash, that peer is never asked
                              again, the honest seeder's metadata is used.
  test_metadata_paths_stay_inside
                              a valid info dict (the magnet's btih is its
                              hash) whose paths or name climb out of -o:
                              nothing is written outside -o, and the files
                              land where `gtorrent info` says the same
                              .torrent puts them (the same sanitiser).
  test_hostile_pex            oversized and malformed ut_pex messages:
                              gtorrent survives, completes, and never dials
                              0.0.0.0 (seen by a listener that only
                              0.0.0.0:PORT names).
  test_bad_magnet             bad magnets: exit 3, one line on stderr, no
                              connection to the trackers/peers they name,
                              nothing created; in the three command forms.
  test_dn_is_escaped_never_a_path
                              a dn with ../, bidi and invisible characters:
                              shown escaped, never used as a path.

The honest seeder joins late on purpose (it dials gtorrent after
HONEST_DELAY seconds): until then the hostile peer is gtorrent's only
source of metadata, so a test cannot pass because gtorrent happened to ask
the honest one first.  (Broadcast and multicast addresses are left out of
the PEX lists: the tests contact nothing outside 127.0.0.0/8.)
"""

import hashlib
import os
import random
import socket
import time

import pytest

import helpers
import magnets
import peers
from helpers import KIB, MIB, bencode
from magnets import Case, check_done, compact4, magnet_uri
from peers import why

HONEST_DELAY = 1.0      # seconds gtorrent has only the hostile peer
DOWNLOAD_TIMEOUT = 40


def honest_joins(net, case, gt_port, g, upload_limit=0):
    """A libtorrent seeder that dials gtorrent (started by the caller
    after HONEST_DELAY)."""
    s = net.lt_peer(case.torrent_bytes, case.src, upload_limit=upload_limit)
    s.wait_seeding(20)
    assert g.alive(), why("gtorrent exited before the honest peer came", g)
    assert s.connect_until_peer(gt_port, 15), why(
        "the honest seeder could not reach gtorrent", g)
    return s


def ext_states(p):
    return list(getattr(p, "ext", []))


def meta_requests(p):
    return [x for st in ext_states(p) for x in st.meta_requests]


# --- metadata_size lies -----------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [1 << 40, -1, 0, (16 << 20) + 1],
                         ids=["1TiB", "minus-1", "zero", "cap-plus-1"])
def test_absurd_metadata_size(net, tmp_path, seed, size):
    """The only peer gtorrent knows at first claims an absurd
    metadata_size (and has no metadata): gtorrent must not ask it for
    any, must not die or allocate that much; once an honest seeder dials
    in, it gets the metadata and the data from it."""
    case = Case(tmp_path, seed, "single")
    liar = net.scripted(case.meta, magnets.ext_script(
        info=None, metadata_size=size), "liar")
    port = peers.free_port()
    out = tmp_path / "out"
    g = net.gt("-m", case.uri(peer_addrs=[liar.port]), "-v", "--no-tracker",
               "-p", port, "-o", out, tag="gt")
    liar.alive = g.alive
    assert peers.wait_until(lambda: any(st.handshake for st in
                                        ext_states(liar)) or not g.alive(),
                            10) and g.alive(), why(
        "gtorrent never sent the liar its extended handshake", liar, g)
    time.sleep(HONEST_DELAY)
    s = honest_joins(net, case, port, g)
    rc = magnets.wait_gt(g, DOWNLOAD_TIMEOUT, liar, magnets.lt_state(s))
    check_done(g, case.total, rc, case.name)
    case.check(out)
    assert not liar.errors, why(liar)
    assert meta_requests(liar) == [], why(
        "gtorrent asked a peer whose metadata_size is %d" % size, liar, g)


# --- metadata of random bytes -----------------------------------------------

@pytest.mark.timeout(60)
def test_random_metadata_pieces(net, tmp_path, seed):
    """The only peer at first answers every ut_metadata request with random
    bytes of the right length (an info dict of three pieces): the
    assembled dict fails the btih check, that peer is not asked again
    (no piece asked twice), and the honest seeder's metadata is used."""
    case = Case(tmp_path, seed, "many")
    n = magnets.meta_pieces(len(case.info))
    assert n >= 3
    bad = net.scripted(case.meta, magnets.ext_script(
        info=case.info, mode="random"), "garbage")
    port = peers.free_port()
    out = tmp_path / "out"
    g = net.gt("-m", case.uri(peer_addrs=[bad.port]), "-v", "--no-tracker",
               "-p", port, "-o", out, tag="gt")
    bad.alive = g.alive
    assert peers.wait_until(lambda: meta_requests(bad) or not g.alive(),
                            10) and meta_requests(bad), why(
        "gtorrent never asked the (only) peer for metadata", bad, g)
    peers.wait_until(lambda: len(meta_requests(bad)) >= n, 5)
    time.sleep(HONEST_DELAY)
    s = honest_joins(net, case, port, g)
    rc = magnets.wait_gt(g, DOWNLOAD_TIMEOUT, bad, magnets.lt_state(s))
    check_done(g, case.total, rc, case.name)
    case.check(out)
    assert not bad.errors, why(bad)
    reqs = meta_requests(bad)
    assert len(reqs) <= n and len(set(reqs)) == len(reqs), why(
        "the peer whose metadata failed the hash was asked again: %r" %
        reqs, bad, g)
    print("garbage metadata: pieces asked %r of %d; connections %d" % (
        reqs, n, bad.stats["connections"]))


# --- paths that climb out of -o ---------------------------------------------

def _evil_layout(tmp_path, tag, what):
    """(name, [path components] or None for a single file)."""
    outside = str(tmp_path / "outside")
    if what == "paths":
        return "evil", [
            [b"ok.bin"],
            [b"..", b"up1-%s.bin" % tag],
            [b"..", b"..", b"up2-%s.bin" % tag],
            [b"..", b"..", b"..", b"up3-%s.bin" % tag],
            [outside.encode(), b"abs.bin"],
            [b"a", b"..", b"..", b"..", b"..", b"b-%s.bin" % tag],
            [b"a/../../../c-%s.bin" % tag],
            [b"/", b"root-%s.bin" % tag],
        ]
    if what == "name-dotdot":
        return "../../name-%s" % tag.decode(), None
    if what == "name-absolute":
        return outside + "/abs-name.bin", None
    raise ValueError(what)


class EvilCase:
    """A torrent made by hand (no tool would make it) with its payload;
    the magnet's btih is the hash of its info dict."""

    def __init__(self, tmp_path, seed, what):
        rng = random.Random(seed)
        tag = b"%08x" % (seed & 0xffffffff)
        self.tag = tag.decode()
        name, paths = _evil_layout(tmp_path, tag, what)
        pl = 16 * KIB
        sizes = [rng.randrange(5000, 40000) for _ in (paths or [None])]
        self.payload = rng.randbytes(sum(sizes))
        info = {"name": name, "piece length": pl,
                "pieces": b"".join(
                    hashlib.sha1(self.payload[i:i + pl]).digest()
                    for i in range(0, len(self.payload), pl))}
        if paths is None:
            info["length"] = sizes[0]
        else:
            info["files"] = [{"length": n, "path": p}
                             for n, p in zip(sizes, paths)]
        self.raw_info = bencode(info)
        self.torrent_bytes = b"d4:info" + self.raw_info + b"e"
        self.meta = peers.Meta(self.torrent_bytes, self.payload)
        self.ih = self.meta.info_hash
        self.total = len(self.payload)


def _tree(root, skip=None):
    """Every path under root (relative), not descending into skip."""
    found = set()
    for d, dirs, files in os.walk(str(root)):
        if skip is not None and os.path.abspath(d) == os.path.abspath(
                str(skip)):
            dirs[:] = []
            continue
        for x in dirs + files:
            found.add(os.path.relpath(os.path.join(d, x), str(root)))
    return found


@pytest.mark.timeout(60)
@pytest.mark.parametrize("what", ["paths", "name-dotdot", "name-absolute"])
def test_metadata_paths_stay_inside(net, gt, tmp_path, seed, what):
    """A scripted seeder serves metadata and data of a torrent whose paths
    (or name) climb out of -o: "../x", "../../x", an absolute folder,
    "a/../../..", "/".  gtorrent writes inside -o only, exactly where
    `gtorrent info` says the same .torrent's files go (or, if it refuses
    that .torrent, refuses the magnet too and writes nothing)."""
    ev = EvilCase(tmp_path, seed, what)
    tp = tmp_path / "evil.torrent"
    tp.write_bytes(ev.torrent_bytes)
    info = gt("info", "--json", tp, timeout=20)
    assert info.rc in (0, 3), info
    out = tmp_path / "out"
    before = _tree(tmp_path)
    parent_before = set(os.listdir(str(tmp_path.parent)))
    peer = net.scripted(ev.meta, magnets.ext_script(info=ev.raw_info,
                                                    seed=True), "evil")
    g = net.gt("-m", magnet_uri(ev.ih, peer_addrs=[peer.port]), "-v",
               "--no-tracker", "-p", peers.free_port(), "-o", out,
               tag="gt")
    peer.alive = g.alive
    rc = g.wait(DOWNLOAD_TIMEOUT)
    assert rc >= 0, why("gtorrent died of signal %d" % -rc, g)
    new = _tree(tmp_path, skip=out) - before - {"gt.stdout", "gt.stderr",
                                                 "out"}
    assert not new, why("written outside -o: %r" % sorted(new), g)
    assert set(os.listdir(str(tmp_path.parent))) == parent_before, why(
        "written next to the test's folder: %r" % sorted(
            set(os.listdir(str(tmp_path.parent))) - parent_before), g)
    assert not os.path.exists(str(tmp_path / "outside"))
    assert not peer.errors, why(peer)
    if info.rc == 3:
        assert rc != 0, why("a refused .torrent, an accepted magnet", g)
        assert not os.path.exists(str(out)) or not _tree(out), why(
            "the refused torrent left files: %r" % _tree(out), g)
        return
    check_done(g, ev.total, rc)
    j = info.json()
    want = {f["path"]: (f["offset"], f["length"]) for f in j["files"]
            if "p" not in f["attr"]}
    got = {p for p in _tree(out) if os.path.isfile(str(out / p))}
    assert got == set(want), why("files %r, info says %r" % (
        sorted(got), sorted(want)), g)
    for p, (off, n) in want.items():
        data = (out / p).read_bytes()
        assert data == ev.payload[off:off + n], "%s: wrong content" % p


# --- hostile PEX ------------------------------------------------------------

def _pex_payloads(kind, trap_port, refuse_port, gt_port):
    """The ut_pex payloads one hostile peer sends, right after gtorrent's
    extended handshake.  Forbidden entries: 0.0.0.0 (only ever named with
    the trap's port), port 0, gtorrent's own address.  Bulk entries point
    to 127.66.x.y:refuse_port, which nothing can listen on while the test
    holds 127.0.0.1:refuse_port."""
    forbidden = [("0.0.0.0", trap_port), ("127.0.0.1", 0),
                 ("127.0.0.1", gt_port), ("0.0.0.0", 0)]
    bulk = [("127.66.%d.%d" % (i >> 8, i & 255), refuse_port)
            for i in range(1, 5001)]
    c4 = compact4
    if kind == "oversized":
        added = c4(forbidden + bulk)
        return [{"added": added, "added.f": bytes(len(added) // 6),
                 "dropped": c4(bulk[:3000])}]
    if kind == "forbidden-only":
        return [{"added": c4(forbidden),
                 "added.f": b"\x10" * len(forbidden)}]
    if kind == "odd-length":
        return [{"added": c4(forbidden) + b"\x7f\x00\x00",
                 "added.f": b"\x00" * 3, "dropped": b"\x7f\x00\x00\x01\x1a"}]
    if kind == "flags-mismatch":
        return [{"added": c4(forbidden + bulk[:50]), "added.f": b"\xff"}]
    if kind == "ipv6-odd":
        return [{"added6": b"\x00" * 15 + b"\x01" + b"\x1a\xe1" + b"\x00" * 7,
                 "added6.f": b"\x00\x00", "dropped6": b"\x00" * 5}]
    if kind == "wrong-types":
        return [{"added": 5, "added.f": [1, 2], "dropped": {"x": 1},
                 "added6": -1}]
    if kind == "not-a-dict":
        return [b"li1ei2ee", b"4:spam"]
    if kind == "garbage":
        return [b"\xff\xfe not bencode at all", b"d5:added", b""]
    if kind == "flood":
        return [{"added": c4(bulk[i:i + 20] + forbidden),
                 "added.f": bytes(20 + len(forbidden))}
                for i in range(0, 600, 20)]
    raise ValueError(kind)


PEX_KINDS = ["oversized", "forbidden-only", "odd-length", "flags-mismatch",
             "ipv6-odd", "wrong-types", "not-a-dict", "garbage", "flood"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", PEX_KINDS)
def test_hostile_pex(net, tmp_path, seed, kind):
    """gtorrent downloads a .torrent from a libtorrent seeder (1 MiB/s,
    so it runs about a second) while a scripted peer sends it hostile
    ut_pex messages.  gtorrent survives (drop or ignore: either is fine),
    completes with the right data, and nothing reaches the trap: it never
    dialled 0.0.0.0."""
    case = Case(tmp_path, seed, "single")
    trap = net.add(magnets.Trap(), lambda t: t.stop())
    hold = socket.socket()
    hold.bind((peers.LOOPBACK, 0))
    net.add(hold, lambda s: s.close())
    gt_port = peers.free_port()
    payloads = _pex_payloads(kind, trap.port, hold.getsockname()[1], gt_port)
    h = net.scripted(case.meta, magnets.ext_script(pex=payloads),
                     "pex-" + kind)
    s = net.lt_peer(case.torrent_bytes, case.src, upload_limit=1 * MIB)
    s.wait_seeding(20)
    out = tmp_path / "out"
    g = net.gt("-v", "--no-tracker", "-p", gt_port, "-o", out,
               "--peer", h.addr, "--peer", "%s:%d" % (peers.LOOPBACK, s.port),
               case.torrent, tag="gt")
    h.alive = g.alive
    rc = g.wait(DOWNLOAD_TIMEOUT)
    check_done(g, case.total, rc, case.name)
    case.check(out)
    h.stop()
    assert not h.errors, why(h, g)
    assert sum(st.pex_sent for st in ext_states(h)) >= 1, why(
        "the hostile PEX never reached gtorrent", h, g)
    assert not trap.accepted, why(
        "gtorrent dialled 0.0.0.0:%d (%d connection(s))" % (
            trap.port, len(trap.accepted)), g)
    # closed well before gtorrent's exit: dropped, not just finished
    dropped = [c for c in h.conns if c.closed_by_remote is not None and
               c.gt_alive_at_close and c.closed_by_remote < g.t1 - 0.3]
    print("pex %s: %d message(s) sent; gtorrent %s the peer" % (
        kind, sum(st.pex_sent for st in ext_states(h)),
        "dropped" if dropped else "kept"))


# --- the command line: bad magnets, dn --------------------------------------

# Invisible characters that reorder or hide text (as in test_cli.py).
EVIL = ("\u202e\u2066\u2069\u200b\u200f\u061c\u2028\ufeff\u00ad\u0085"
        "\U000e0001")
IH = bytes(range(1, 21))


def _bad_magnets(trap):
    """{id: URI}; each also names the trap as tracker and peer."""
    tail = "&tr=%s&x.pe=127.0.0.1:%d" % (
        magnets.q("http://127.0.0.1:%d/announce" % trap), trap)
    hexih = IH.hex()
    b32 = magnets.b32(IH)
    bad = {
        "no-xt": "magnet:?dn=nothing",
        "hex-39": "magnet:?xt=urn:btih:" + hexih[:39],
        "hex-41": "magnet:?xt=urn:btih:" + hexih + "a",
        "hex-bad-digit": "magnet:?xt=urn:btih:" + hexih[:39] + "g",
        "base32-bad-char": "magnet:?xt=urn:btih:" + b32[:31] + "1",
        "base32-31": "magnet:?xt=urn:btih:" + b32[:31],
        "empty-btih": "magnet:?xt=urn:btih:",
        "percent-zz": "magnet:?xt=urn:btih:" + hexih + "&dn=a%zzb",
        "percent-truncated": "magnet:?xt=urn:btih:" + hexih + "&dn=ab%4",
        "percent-in-xt": "magnet:?xt=urn:btih:%zz" + hexih[4:],
        "xt-sha1": "magnet:?xt=urn:sha1:" + b32,
        "xt-unknown": "magnet:?xt=urn:ed2k:" + hexih[:32],
        "btmh-only": "magnet:?xt=urn:btmh:1220" + hashlib.sha256(
            IH).hexdigest(),
        "two-btih": "magnet:?xt=urn:btih:" + hexih + "&xt=urn:btih:" +
        bytes(range(2, 22)).hex(),
        "dn-too-long": "magnet:?xt=urn:btih:" + hexih + "&dn=" + "d" * 2000,
        "uri-too-long": "magnet:?xt=urn:btih:" + hexih + "&x.junk=" +
        "j" * 17000,
        "too-many-peers": "magnet:?xt=urn:btih:" + hexih + "".join(
            "&x.pe=127.77.0.%d:%d" % (i, trap) for i in range(1, 66)),
        "x.pe-hostname": "magnet:?xt=urn:btih:" + hexih +
        "&x.pe=localhost:%d" % trap,
        "control-char": "magnet:?xt=urn:btih:" + hexih + "&dn=a\tb",
        "evil-dn-bad-hex": "magnet:?xt=urn:btih:" + hexih[:38] + "zz&dn=" +
        magnets.q("x" + EVIL + "y"),
    }
    return {k: (v if k == "uri-too-long" else v + tail)
            for k, v in bad.items()}


BAD_IDS = sorted(_bad_magnets(1))
# (before the options, after them): the three ways to give a magnet
FORMS = {"-m": lambda u: ([], ["-m", u]),
         "positional": lambda u: ([], [u]),
         "download-m": lambda u: (["download"], ["-m", u])}


def _assert_shown_safely(text):
    for ch in EVIL:
        assert ch not in text, (hex(ord(ch)), text)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("form", list(FORMS))
def test_bad_magnet(gt, tmp_path, form):
    """Every bad magnet: exit 3, exactly one line on stderr starting
    'gtorrent: ', nothing on stdout, no connection to the tracker or peer
    it names, -o not created."""
    trap = magnets.Trap()
    try:
        bad = _bad_magnets(trap.port)
        failed = []
        for k in BAD_IDS:
            out = tmp_path / ("out-" + k)
            pre, post = FORMS[form](bad[k])
            r = gt(*pre, "-o", out, "-p", peers.free_port(), *post,
                   cwd=tmp_path, timeout=10)
            lines = r.err_lines()
            if not (r.rc == 3 and len(lines) == 1 and
                    lines[0].startswith("gtorrent: ") and r.out == "" and
                    not os.path.exists(str(out))):
                failed.append("%s: %r" % (k, r))
            else:
                _assert_shown_safely(r.err)
        time.sleep(0.3)
        assert not failed, "\n".join(failed)
        assert not trap.accepted, "a bad magnet made gtorrent connect"
        assert sorted(os.listdir(str(tmp_path))) == [], os.listdir(
            str(tmp_path))
    finally:
        trap.stop()


@pytest.mark.timeout(40)
def test_dn_is_escaped_never_a_path(net, tmp_path):
    """A magnet whose dn holds ../, bidi and invisible characters; the only
    peer speaks BEP 10 but has no metadata (rejects every request), so
    gtorrent stays in its metadata phase.  After SIGINT (exit 130) no
    output holds one of those characters raw, and nothing was created from
    dn (in -o or beside it)."""
    dn = "../../dn-" + EVIL + "-escape"
    ih = hashlib.sha1(b"no such torrent").digest()
    p = peers.Meta(helpers.bencode({"info": {
        "name": "x", "length": 1, "piece length": 16384,
        "pieces": hashlib.sha1(b"x").digest()}}))
    p.info_hash = ih
    peer = net.scripted(p, magnets.ext_script(info=None, metadata_size=None,
                                              mode="reject"), "empty")
    out = tmp_path / "out"
    parent_before = set(os.listdir(str(tmp_path.parent)))
    g = net.gt("-v", "-m", magnet_uri(ih, dn=dn, peer_addrs=[peer.port]),
               "--no-tracker", "-p", peers.free_port(), "-o", out, tag="gt")
    peer.alive = g.alive
    peers.wait_until(lambda: any(st.handshake for st in ext_states(peer)) or
                     not g.alive(), 10)
    time.sleep(1.5)
    assert g.alive(), why("gtorrent gave up on a magnet with a live peer", g)
    rc = g.interrupt()
    assert rc == 130, why(g)
    _assert_shown_safely(g.out)
    _assert_shown_safely(g.err)
    assert set(os.listdir(str(tmp_path.parent))) == parent_before
    made = [x for x in _tree(tmp_path) if "escape" in x]
    assert not made, why("dn became a path: %r" % made, g)
