"""BEP 6, the fast extension, between gtorrent and other peers on 127.0.0.1.

- A raw fast peer that stays choked by a gtorrent seed gets ALLOWED_FAST
  for exactly the set BEP 6 computes from its address and the info-hash,
  is served blocks of those pieces while choked, and gets a REJECT for a
  block of any other piece.
- gtorrent choked by a raw fast seeder asks only for the pieces that seeder
  allowed, never again for one whose request it rejected, and downloads
  the rest once unchoked.
- A gtorrent seed suggests to each leecher pieces nobody has, different
  ones to each, and refuses a leecher a piece another is fetching from it
  and nobody has yet (once); a gtorrent leecher tells a second leecher
  SUGGEST_PIECE of a piece it just read for the first; a gtorrent
  leecher asks first for a piece suggested to it (in its first pieces,
  before rarest-first takes over).
- libtorrent: a choking libtorrent seeder (no unchoke slots) still gives
  gtorrent its allowed-fast pieces; a libtorrent leecher downloads from a
  gtorrent seed that offered it its allowed-fast set.
"""

import hashlib
import random
import struct
import threading
import time

import pytest

import peers
from peers import BLOCK, INTERESTED, PIECE, REQUEST, UNCHOKE, why
from helpers import KIB, lt_make, make_payload

SUGGEST, HAVE_ALL, HAVE_NONE, REJECT, ALLOWED_FAST = 13, 14, 15, 16, 17
FAST_RESERVED = bytes(7) + b"\x04"
PL = 32 * KIB
NPIECES = 120           # gtorrent offers min(10, npieces / 10) pieces
GT_K = 10
LT_K = 5                # libtorrent's allowed_fast_set_size


def allowed_fast_set(ip4, info_hash, npieces, k):
    """BEP 6's algorithm, for a dotted IPv4 address."""
    ip = bytes(int(x) for x in ip4.split("."))
    x = ip[:3] + b"\0" + info_hash
    out = []
    k = min(k, npieces)
    while len(out) < k:
        x = hashlib.sha1(x).digest()
        for i in range(5):
            if len(out) >= k:
                break
            y = struct.unpack(">I", x[4 * i:4 * i + 4])[0] % npieces
            if y not in out:
                out.append(y)
    return out


class Case:
    def __init__(self, tmp_path, seed, npieces=NPIECES):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = "fast.bin"
        size = (npieces - 1) * PL + 1000
        self.files = make_payload(self.src, self.name, [(None, size)],
                                  random.Random(seed))
        self.torrent_bytes = lt_make(self.src, self.name, self.files, PL)
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        assert self.meta.npieces == npieces


def block_req(index, begin, length):
    return struct.pack(">III", index, begin, length)


def recv_by(c, deadline):
    """The next message before deadline, or (None, None)."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None, None
    try:
        return c.recv_msg(left)
    except TimeoutError:
        return None, None


@pytest.mark.timeout(40)
def test_choked_raw_peer_gets_allowed_fast_from_gtorrent_seed(
        net, tmp_path, seed):
    case = Case(tmp_path, seed)
    m = case.meta
    want = allowed_fast_set("127.0.0.1", m.info_hash, m.npieces, GT_K)
    other = next(i for i in range(m.npieces) if i not in want)
    res = {"allowed": [], "msgs": [], "done": threading.Event()}

    def script(c):
        c.handshake(reserved=FAST_RESERVED)
        c.send_msg(HAVE_NONE)
        deadline = time.monotonic() + 5
        while len(res["allowed"]) < len(want) and \
                time.monotonic() < deadline:
            mid, pl = recv_by(c, deadline)
            res["msgs"].append(mid)
            if mid == ALLOWED_FAST:
                res["allowed"].append(struct.unpack(">I", pl)[0])
        # never interested: gtorrent keeps choking us
        a = want[0]
        c.send_msg(REQUEST, block_req(a, 0, BLOCK))
        c.send_msg(REQUEST, block_req(other, 0, BLOCK))
        c.send_msg(REQUEST, block_req(a, BLOCK, BLOCK))
        got = {}
        deadline = time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            mid, pl = recv_by(c, deadline)
            res["msgs"].append(mid)
            if mid == PIECE:
                i, b = struct.unpack(">II", pl[:8])
                got[(i, b)] = ("piece", pl[8:])
            elif mid == REJECT:
                i, b, n = struct.unpack(">III", pl)
                got[(i, b)] = ("reject", n)
        res["got"] = got
        res["done"].set()
        c.idle()

    port = peers.free_port()
    g = net.gt("seed", "-vv", "--no-tracker", "-p", port, "-o", case.src,
               case.torrent, tag="seeder")
    assert peers.wait_listening(port, 20, g.alive), why(
        "gtorrent seed does not listen", g)
    h = net.scripted(m, script, "fast-leecher", listen=False)
    h.connect_to(port, timeout=15)
    assert res["done"].wait(15), why("the raw peer did not finish", h, g)
    assert not h.errors, why(h)
    assert HAVE_ALL in res["msgs"], why(res["msgs"], g)
    assert UNCHOKE not in res["msgs"], why("unchoked though not "
                                           "interested", res["msgs"], g)
    assert res["allowed"] == want, why("ALLOWED_FAST %r, BEP 6 says %r" %
                                       (res["allowed"], want), g)
    got = res["got"]
    a = want[0]
    for b in (0, BLOCK):
        assert got.get((a, b), (None,))[0] == "piece", why(got, g)
        assert got[(a, b)][1] == m.block(a, b, BLOCK)
    assert got.get((other, 0)) == ("reject", BLOCK), why(got, g)
    assert len(g.err_lines_with("allowed fast")) >= len(want), why(g)
    h.stop()
    assert g.alive(), why(g)


@pytest.mark.timeout(40)
def test_gtorrent_choked_by_raw_fast_seeder(net, tmp_path, seed):
    case = Case(tmp_path, seed)
    m = case.meta
    allowed = [7, 42]
    refused = 99            # allowed, but its requests are rejected
    res = {"choked": [], "after": 0, "rejected": 0}

    def script(c):
        c.handshake(reserved=FAST_RESERVED)
        c.send_msg(HAVE_ALL)
        for i in allowed + [refused]:
            c.send_msg(ALLOWED_FAST, struct.pack(">I", i))
        need = {(i, b) for i in allowed
                for b in range(0, m.piece_size(i), BLOCK)}
        deadline = time.monotonic() + 8
        quiet = None
        # choked: serve the allowed pieces, reject the refused one, until
        # all is served and a second passes without a request
        while time.monotonic() < deadline:
            if not need and quiet is None:
                quiet = time.monotonic() + 1
            mid, pl = recv_by(c, min(deadline, quiet or deadline))
            if mid is None and quiet is not None:
                break
            if mid != REQUEST:
                continue
            i, b, n = struct.unpack(">III", pl)
            res["choked"].append(i)
            if i == refused:
                res["rejected"] += 1
                c.send_msg(REJECT, pl)
                continue
            c.send_msg(PIECE, struct.pack(">II", i, b) + m.block(i, b, n))
            need.discard((i, b))
        c.send_msg(UNCHOKE)
        while True:
            mid, pl = c.recv_msg(None)
            if mid != REQUEST:
                continue
            i, b, n = struct.unpack(">III", pl)
            res["after"] += 1
            c.send_msg(PIECE, struct.pack(">II", i, b) + m.block(i, b, n))

    h = net.scripted(m, script, "fast-seeder", listen=True)
    out = tmp_path / "out"
    g = net.gt("-vv", "--no-tracker", "-p", peers.free_port(), "-o", out,
               "--peer", h.addr, case.torrent, tag="leecher")
    rc = g.wait(30)
    assert rc == 0, why(g, h)
    peers.compare_download(case.src, out, case.name, case.files)
    h.stop()
    assert not h.errors, why(h)
    choked = res["choked"]
    assert set(choked) <= set(allowed) | {refused}, why(
        "requests of pieces not allowed while choked: %r" % choked, g)
    for i in allowed:
        assert choked.count(i) == len(range(0, m.piece_size(i), BLOCK)), \
            why(choked, g)
    # one round for the refused piece, then it is withdrawn
    assert 1 <= res["rejected"] <= len(range(0, PL, BLOCK)), why(res, g)
    assert res["after"] > 0


def lt_seeder(net, case, **settings):
    return net.lt_peer(case.torrent_bytes, case.src, settings=settings)


@pytest.mark.timeout(40)
def test_choking_libtorrent_seed_gives_allowed_fast(net, tmp_path, seed):
    """libtorrent with no unchoke slot: gtorrent still gets the pieces of
    libtorrent's allowed-fast set (allowed_fast_set_size, 5), then the
    rest once libtorrent unchokes."""
    case = Case(tmp_path, seed)
    m = case.meta
    s = lt_seeder(net, case, unchoke_slots_limit=0,
                  allowed_fast_set_size=LT_K)
    # loopback peers are "local", whose class ignores the unchoke slots:
    # put every address in the global class
    f = s.lt.ip_filter()
    f.add_rule("0.0.0.0", "255.255.255.255",
               1 << s.lt.session.global_peer_class_id)
    s.ses.set_peer_class_filter(f)
    s.wait_seeding(20)
    out = tmp_path / "out"
    g = net.gt("-vv", "--no-tracker", "-p", peers.free_port(), "-o", out,
               "--peer", "127.0.0.1:%d" % s.port, case.torrent,
               tag="leecher")
    theirs = []

    def got_allowed():
        theirs[:] = [int(ln.rsplit("allowed fast ", 1)[1].split()[0])
                     for ln in g.err_lines_with("(theirs)")]
        return len(theirs) >= LT_K
    assert peers.wait_until(got_allowed, 15), why(
        "no ALLOWED_FAST from libtorrent", g)
    # the allowed pieces arrive though choked
    path = out / case.name

    def have_allowed():
        try:
            data = path.read_bytes()
        except OSError:
            return False
        for i in theirs:
            if hashlib.sha1(data[i * PL:i * PL + m.piece_size(i)]
                            ).digest() != m.hashes[i]:
                return False
        return True
    assert peers.wait_until(have_allowed, 15), why(
        "libtorrent's allowed-fast pieces %r never arrived" % theirs, g)
    assert s.uploaded() <= (LT_K + 1) * PL, why(
        "libtorrent uploaded %d bytes though choking" % s.uploaded(), g)
    assert g.alive(), why(g)
    st = s.ses.get_settings()
    st["unchoke_slots_limit"] = 8
    s.ses.apply_settings(st)
    rc = g.wait(25)
    assert rc == 0, why(g)
    peers.compare_download(case.src, out, case.name, case.files)


@pytest.mark.timeout(40)
def test_libtorrent_downloads_from_fast_gtorrent_seed(net, tmp_path, seed):
    case = Case(tmp_path, seed)
    m = case.meta
    port = peers.free_port()
    g = net.gt("seed", "-vv", "--no-tracker", "-p", port, "-o", case.src,
               case.torrent, tag="seeder")
    assert peers.wait_listening(port, 20, g.alive), why(
        "gtorrent seed does not listen", g)
    lt_out = tmp_path / "lt-out"
    le = net.lt_peer(case.torrent_bytes, lt_out, seeder=False)
    assert le.connect_until_peer(port, 15), why("libtorrent never "
                                                "connected", g)
    le.wait_seeding(25)
    peers.compare_download(case.src, lt_out, case.name, case.files)
    want = allowed_fast_set("127.0.0.1", m.info_hash, m.npieces, GT_K)
    ours = [int(ln.rsplit("allowed fast ", 1)[1].split()[0])
            for ln in g.err_lines_with("(ours)")]
    assert ours[:GT_K] == want, why(ours, want, g)
    assert g.alive(), why(g)


def read_suggest_loop(c, res, who, seconds):
    """Reads for the given time, recording SUGGEST_PIECE, REJECT and
    PIECE headers into res[who]."""
    deadline = time.monotonic() + seconds
    while True:
        mid, pl = recv_by(c, deadline)
        if mid is None:
            return
        if mid == SUGGEST:
            res[who]["sug"].append(struct.unpack(">I", pl)[0])
        elif mid == REJECT:
            res[who]["rej"].append(struct.unpack(">III", pl)[:2])
        elif mid == PIECE:
            res[who]["got"].append(struct.unpack(">II", pl[:8]))


@pytest.mark.timeout(40)
def test_gtorrent_seed_spreads_new_pieces_and_refuses_a_second_fetch(
        net, tmp_path, seed):
    """Two raw fast leechers of a gtorrent seed: each is told
    SUGGEST_PIECE of pieces nobody has, different ones for each.  A asks
    for one of its suggestions; B's request for that same piece, which
    nobody has yet and A is fetching, gets a REJECT; asked again, B gets
    it."""
    case = Case(tmp_path, seed)
    m = case.meta
    ready = {"A": threading.Event(), "B": threading.Event()}
    res = {w: {"sug": [], "rej": [], "got": []} for w in "AB"}
    step = {"a_asked": threading.Event(), "b_done": threading.Event()}
    chosen = []

    def script_a(c):
        c.handshake(reserved=FAST_RESERVED)
        c.send_msg(HAVE_NONE)
        c.send_msg(INTERESTED)
        if not c.wait_for(UNCHOKE, 5):
            return
        ready["A"].set()
        read_suggest_loop(c, res, "A", 1.0)
        if not res["A"]["sug"]:
            return
        chosen.append(res["A"]["sug"][0])
        for b in (0, BLOCK):
            c.send_msg(REQUEST, block_req(chosen[0], b, BLOCK))
        read_suggest_loop(c, res, "A", 0.5)
        step["a_asked"].set()
        step["b_done"].wait(10)
        c.idle()

    def script_b(c):
        c.handshake(reserved=FAST_RESERVED)
        c.send_msg(HAVE_NONE)
        c.send_msg(INTERESTED)
        if not c.wait_for(UNCHOKE, 5):
            return
        ready["B"].set()
        if not step["a_asked"].wait(10):
            return
        read_suggest_loop(c, res, "B", 0.2)
        c.send_msg(REQUEST, block_req(chosen[0], 0, BLOCK))
        read_suggest_loop(c, res, "B", 1.0)
        c.send_msg(REQUEST, block_req(chosen[0], 0, BLOCK))
        read_suggest_loop(c, res, "B", 1.0)
        step["b_done"].set()
        c.idle()

    port = peers.free_port()
    g = net.gt("seed", "-vv", "--no-tracker", "-p", port, "-o", case.src,
               case.torrent, tag="seeder")
    assert peers.wait_listening(port, 20, g.alive), why(
        "gtorrent seed does not listen", g)
    ha = net.scripted(m, script_a, "A", listen=False)
    hb = net.scripted(m, script_b, "B", listen=False)
    hb.connect_to(port, timeout=15)
    assert ready["B"].wait(10), why("B never unchoked", hb, g)
    ha.connect_to(port, timeout=15)
    assert ready["A"].wait(10), why("A never unchoked", ha, g)
    assert step["b_done"].wait(20), why("the script did not finish", res,
                                        ha, hb, g)
    sa, sb = set(res["A"]["sug"]), set(res["B"]["sug"])
    assert len(sa) >= 2 and len(sb) >= 2, why(res, g)
    assert not sa & sb, why("the same piece suggested to both", res, g)
    x = chosen[0]
    assert res["A"]["got"] == [(x, 0), (x, BLOCK)], why(res, g)
    assert res["B"]["rej"] == [(x, 0)], why("B's first request for the "
                                            "piece A fetches", res, g)
    assert res["B"]["got"] == [(x, 0)], why("asked again, B gets it",
                                            res, g)
    assert g.err_lines_with("refused"), why(g)
    assert not ha.errors and not hb.errors, why(ha, hb)


@pytest.mark.timeout(40)
def test_gtorrent_leecher_suggests_pieces_it_just_read(net, tmp_path,
                                                        seed):
    """A gtorrent that holds half the file (a leecher) and two raw fast
    leechers: when A has a block of a piece read from disk, B
    (unchoked, interested, lacking it) is told SUGGEST_PIECE of it, once;
    A is not.  (A seed suggests the pieces nobody has instead.)"""
    case = Case(tmp_path, seed)
    m = case.meta
    out = tmp_path / "out"
    out.mkdir()
    data = bytearray((case.src / case.name).read_bytes())
    half = (m.npieces // 2) * PL
    data[half:] = bytes(len(data) - half)
    (out / case.name).write_bytes(bytes(data))
    piece = 7
    ready = {"A": threading.Event(), "B": threading.Event()}
    res = {w: {"sug": [], "rej": [], "got": []} for w in "AB"}
    go = threading.Event()

    def script_for(who):
        def script(c):
            c.handshake(reserved=FAST_RESERVED)
            c.send_msg(HAVE_NONE)
            c.send_msg(INTERESTED)
            if not c.wait_for(UNCHOKE, 5):
                return
            ready[who].set()
            if who == "A":
                go.wait(10)
                for b in (0, BLOCK):
                    c.send_msg(REQUEST, block_req(piece, b, BLOCK))
                # and again, the piece still in the ring: no 2nd SUGGEST
                c.send_msg(REQUEST, block_req(piece, 0, BLOCK))
            read_suggest_loop(c, res, who, 4)
            c.idle()
        return script

    port = peers.free_port()
    # --no-tracker wants a --peer: one that is not listening
    g = net.gt("-vvv", "--no-tracker", "-p", port, "-o", out, "--peer",
               "127.0.0.1:%d" % peers.free_port(), case.torrent,
               tag="leecher")
    assert peers.wait_listening(port, 20, g.alive), why(
        "gtorrent does not listen", g)
    ha = net.scripted(m, script_for("A"), "A", listen=False)
    hb = net.scripted(m, script_for("B"), "B", listen=False)
    hb.connect_to(port, timeout=15)
    assert ready["B"].wait(10), why("B never unchoked", hb, g)
    ha.connect_to(port, timeout=15)
    assert ready["A"].wait(10), why("A never unchoked", ha, g)
    go.set()
    assert peers.wait_until(lambda: res["B"]["sug"], 6), why(
        "B got no SUGGEST", hb, g)
    time.sleep(1)
    assert res["B"]["sug"] == [piece], why(res, g)
    assert res["A"]["sug"] == [], why(res, g)
    assert not ha.errors and not hb.errors, why(ha, hb)


@pytest.mark.timeout(40)
def test_gtorrent_prefers_suggested_piece(net, tmp_path, seed):
    """A raw fast seeder suggests piece 77 before unchoking: gtorrent,
    holding no piece yet (the picker's random phase, where suggestions
    count), asks for piece 77 first, and the download completes."""
    case = Case(tmp_path, seed)
    m = case.meta
    piece = 77
    first = []

    def script(c):
        c.handshake(reserved=FAST_RESERVED)
        c.send_msg(HAVE_ALL)
        c.send_msg(SUGGEST, struct.pack(">I", piece))
        time.sleep(0.3)
        c.send_msg(UNCHOKE)
        while True:
            mid, pl = c.recv_msg(None)
            if mid != REQUEST:
                continue
            i, b, n = struct.unpack(">III", pl)
            if len(first) < 2:
                first.append(i)
            c.send_msg(PIECE, struct.pack(">II", i, b) + m.block(i, b, n))

    h = net.scripted(m, script, "suggesting-seeder", listen=True)
    out = tmp_path / "out"
    g = net.gt("-vv", "--no-tracker", "-p", peers.free_port(), "-o", out,
               "--peer", h.addr, case.torrent, tag="leecher")
    rc = g.wait(30)
    assert rc == 0, why(g, h)
    peers.compare_download(case.src, out, case.name, case.files)
    h.stop()
    assert not h.errors, why(h)
    assert first == [piece, piece], why(first, g)
