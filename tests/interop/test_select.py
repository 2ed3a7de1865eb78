"""File selection and order (issue 12): --show-files, --select-file,
--exclude, --priority-high/--priority-low, --sequential, --preallocate and
a magnet's so=.

A five-file payload of odd sizes (pieces straddle files) is seeded by
libtorrent, gtorrent or aria2c; gtorrent downloads part of it.  Files not
selected must never be created (not even empty); the bytes that pieces
shared with selected files bring of them go to DIR/.HEX.parts, which must
exist only when such a piece was needed.  A selection changed on a
restart keeps what was downloaded.  Every process runs on 127.0.0.1 with
a timeout, has a state folder of its own (resume records are per
info-hash: a seeder and a leecher of one torrent must not share one) and
is killed by PID at teardown (peers.Net).
"""

import os
import re

import pytest

import clients
import helpers
import magnets
import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload, pieces_touching

GT_TIMEOUT = 60          # seconds for one gtorrent download

# (path in the torrent, size): sorted as the torrent lists them
FILES = [
    ("a.bin", MIB + 12345),
    ("b.nfo", 333333),
    ("c/data.bin", 2 * MIB + 7777),
    ("d.txt", 54321),
    ("e.bin", MIB + 500001),
]
PL = 64 * KIB


class Multi:
    """The payload src/NAME, its v1 torrent (libtorrent-made) and what a
    selection of it should leave on disk."""

    def __init__(self, tmp_path, rng, name="sel payload", announce=None):
        self.src = tmp_path / "src"
        self.src.mkdir(exist_ok=True)
        self.name = name
        self.files = make_payload(self.src, name, list(FILES), rng)
        assert [f for f, _ in self.files] == [f for f, _ in FILES]
        trackers = [[announce]] if announce else []
        self.torrent_bytes = lt_make(self.src, name, self.files, PL,
                                     trackers=trackers)
        self.torrent = tmp_path / "sel.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash
        self.total = self.meta.total
        self.layout = helpers.file_layout(name, self.files)

    def path(self, base, i):
        """File i (1-based) under base."""
        return os.path.join(str(base), *self.layout[i - 1][0].split("/"))

    def pieces(self, idx):
        """Pieces holding bytes of the files idx (1-based)."""
        out = set()
        for i in idx:
            _, off, n = self.layout[i - 1]
            out.update(pieces_touching(off, n, PL))
        return out

    def piece_bytes(self, pieces):
        return sum(self.meta.piece_size(p) for p in pieces)

    def shared(self, idx):
        """Does a piece of the files idx hold bytes of another file?"""
        others = self.pieces(i for i in range(1, len(FILES) + 1)
                             if i not in idx)
        return bool(self.pieces(idx) & others)

    def part_file(self, out):
        return os.path.join(str(out), ".%s.parts" % self.ih.hex())

    def check(self, out, idx, parts=None):
        """Files idx (1-based) equal the source byte for byte; the others
        are not there, nor any folder only they would need; the part file
        is there when a piece was shared (or as parts says)."""
        root = os.path.join(str(out), self.name)
        want = set()
        for i in idx:
            rel = self.layout[i - 1][0]
            want.add(rel)
            with open(self.path(self.src, i), "rb") as a, \
                    open(self.path(out, i), "rb") as b:
                da, db = a.read(), b.read()
            assert da == db, "%s differs (%d bytes, want %d)" % (
                rel, len(db), len(da))
        got = set()
        dirs = set()
        for d, ds, fs in os.walk(root):
            for f in fs:
                got.add(os.path.relpath(os.path.join(d, f),
                                        str(out)).replace(os.sep, "/"))
            for x in ds:
                dirs.add(os.path.relpath(os.path.join(d, x), root))
        assert got == want, "on disk %s, selected %s" % (sorted(got),
                                                         sorted(want))
        need_dirs = {os.path.dirname(r[len(self.name) + 1:]) for r in want}
        assert dirs <= need_dirs, "folders of unselected files: %s" % (
            sorted(dirs - need_dirs))
        if parts is None:
            parts = self.shared(idx)
        assert os.path.exists(self.part_file(out)) == parts, (
            "part file there: %s, expected: %s" % (
                os.path.exists(self.part_file(out)), parts))


def gt_proc(net, monkeypatch, tmp_path, state, *args, tag=None):
    """A gtorrent process with the state folder tmp_path/state-STATE."""
    d = tmp_path / ("state-" + state)
    d.mkdir(exist_ok=True)
    monkeypatch.setenv("XDG_STATE_HOME", str(d))
    return net.gt(*args, tag=tag or state)


def resume_have(tmp_path, state, ih):
    """The verified pieces of the state folder's resume record."""
    d = tmp_path / ("state-" + state) / "gtorrent" / "resume"
    found = sorted(d.glob(ih.hex() + "-*.resume"))   # HEX-KEY.resume
    assert len(found) == 1, found
    rec = helpers.bdecode(found[0].read_bytes())[0]
    bits = rec[b"have"]
    return {i for i in range(rec[b"pieces"])
            if bits[i // 8] & (0x80 >> (i % 8))}


def check_done(g, m, rc, wanted):
    """Exit 0, "done", and at least the wanted pieces' bytes received."""
    assert rc == 0, why(g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why(g)
    assert sm["name"] == m.name, why(g)
    need = m.piece_bytes(m.pieces(wanted))
    assert need <= sm["downloaded"] < m.total, why(
        "downloaded %d bytes, the selection is %d" % (sm["downloaded"],
                                                      need), g)
    return sm


def allocated(path):
    try:
        return os.stat(path).st_blocks * 512
    except OSError:
        return 0


def lt_seeder(net, m, **kw):
    s = net.lt_peer(m.torrent_bytes, m.src, **kw)
    s.wait_seeding(20)
    return s


def peer_args(port):
    return ["--no-tracker", "--peer", "127.0.0.1:%d" % port]


# --- 1, 2. --select-file from libtorrent, gtorrent and aria2c seeders --------

@pytest.mark.timeout(90)
@pytest.mark.parametrize("seeder", ["libtorrent", "gtorrent", "aria2c"])
def test_select_files_from_seeder(net, monkeypatch, tmp_path, rng, seeder):
    """--select-file 2,4 downloads exactly those two files, byte for
    byte; the other three are never created; exit 0 with "done"."""
    m = Multi(tmp_path, rng)
    assert m.shared({2, 4}), "the payload must have shared pieces"
    if seeder == "libtorrent":
        port = lt_seeder(net, m).port
    elif seeder == "gtorrent":
        port = peers.free_port()
        sg = gt_proc(net, monkeypatch, tmp_path, "seeder", "seed", "-p",
                     port, "--no-tracker", "-o", m.src, m.torrent)
        assert peers.wait_listening(port, 20, sg.alive), why(sg)
    else:
        if clients.Aria2.missing():
            pytest.skip(clients.Aria2.missing())
        ar = net.add(clients.Aria2(tmp_path / "aria2c", m.torrent, m.meta),
                     lambda x: x.stop())
        ar.start_seeder(m.src)
        port = ar.port
        assert peers.wait_listening(port, 20, ar.alive), why(ar)
    out = tmp_path / "out"
    sel = ["--select-file", "2,4"] if seeder != "gtorrent" else [
        "--select-file", "4", "--select-file", "2"]   # repeatable
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", *sel, "-v", "-p",
                peers.free_port(), "-o", out, *peer_args(port), m.torrent)
    rc = g.wait(GT_TIMEOUT)
    check_done(g, m, rc, {2, 4})
    assert "2 of 5 files selected" in g.err, why(g)
    m.check(out, {2, 4})


@pytest.mark.timeout(90)
def test_partial_gtorrent_seed_serves_libtorrent(net, monkeypatch, tmp_path,
                                                 rng):
    """gtorrent holding files 2 and 4 only (and the shared pieces' other
    bytes in its part file) seeds them with `gtorrent seed --select-file
    2,4`: a libtorrent leecher wanting files 2 and 4 gets both."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m)
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "gt", "--select-file", "2,4",
                "-p", peers.free_port(), "-o", out, *peer_args(s.port),
                m.torrent, tag="download")
    check_done(g, m, g.wait(GT_TIMEOUT), {2, 4})
    s.close()                           # only gtorrent has the data now
    port = peers.free_port()
    sg = gt_proc(net, monkeypatch, tmp_path, "gt", "seed", "-vv",
                 "--select-file", "2,4", "-p", port, "--no-tracker", "-o",
                 out, m.torrent, tag="seed")
    assert peers.wait_listening(port, 20, sg.alive), why(sg)
    lt_partial_leech(net, m, tmp_path, port, {2, 4})
    assert sg.alive(), why(sg)
    assert "cannot read" not in sg.err, why(sg)
    rc = sg.interrupt()
    assert rc == 130, why(sg)
    assert sg.summary()["uploaded"] >= m.piece_bytes(m.pieces({2, 4})) - \
        2 * PL, why(sg)
    m.check(out, {2, 4})


def lt_partial_leech(net, m, tmp_path, port, idx, timeout=30):
    """A libtorrent leecher wanting the files idx (1-based) only, dialling
    gtorrent on port; returns once they are complete and checked."""
    import time
    lt_out = tmp_path / "lt-out"
    le = net.lt_peer(m.meta.without_trackers(), lt_out, seeder=False)
    le.h.prioritize_files([4 if i + 1 in idx else 0
                           for i in range(len(FILES))])
    # (not connect_until_peer: libtorrent may finish within one poll and
    # then drops gtorrent at once, an upload-only peer, each time)
    le.connect(port)
    end = time.monotonic() + timeout
    redial = time.monotonic() + 1
    while True:
        st = le.status()
        prog = le.h.file_progress()
        if all(prog[i - 1] == m.layout[i - 1][2] for i in idx):
            break
        assert time.monotonic() < end, (
            "libtorrent did not get files %s from gtorrent: %r of %r, "
            "peers %d" % (sorted(idx), [prog[i - 1] for i in idx],
                          [m.layout[i - 1][2] for i in idx], st.num_peers))
        if time.monotonic() > redial and st.num_peers == 0:
            le.connect(port)
            redial = time.monotonic() + 1
        time.sleep(0.05)
    le.h.flush_cache()
    end = time.monotonic() + 10
    while True:
        try:
            for i in idx:
                with open(m.path(m.src, i), "rb") as a, \
                        open(m.path(lt_out, i), "rb") as b:
                    assert a.read() == b.read(), "file %d differs" % i
            return le
        except (AssertionError, OSError):
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


@pytest.mark.timeout(60)
def test_seed_without_selection_after_partial(net, monkeypatch, tmp_path,
                                              rng):
    """After a --select-file 2,4 download, `gtorrent seed` with no
    selection should still serve files 2 and 4 whole (the shared pieces'
    other bytes are in the part file), or at least not claim pieces it
    cannot read."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m)
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "gt", "--select-file", "2,4",
                "-p", peers.free_port(), "-o", out, *peer_args(s.port),
                m.torrent, tag="download")
    check_done(g, m, g.wait(GT_TIMEOUT), {2, 4})
    s.close()
    port = peers.free_port()
    sg = gt_proc(net, monkeypatch, tmp_path, "gt", "seed", "-p", port,
                 "--no-tracker", "-o", out, m.torrent, tag="seed")
    assert peers.wait_listening(port, 20, sg.alive), why(sg)
    try:
        lt_partial_leech(net, m, tmp_path, port, {2, 4}, timeout=10)
    finally:
        sg.interrupt()
    assert "cannot read piece" not in sg.err, why(sg)


# --- 3. --exclude, --priority-high, --sequential -----------------------------

@pytest.mark.timeout(60)
def test_exclude_globs(net, monkeypatch, tmp_path, rng):
    """--exclude '*.nfo' (a base name) and --exclude 'c/*' (a path in the
    torrent): everything but b.nfo and c/data.bin."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m)
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", "--exclude", "*.nfo",
                "--exclude", "c/*", "-p", peers.free_port(), "-o", out,
                *peer_args(s.port), m.torrent)
    check_done(g, m, g.wait(GT_TIMEOUT), {1, 4, 5})
    m.check(out, {1, 4, 5})


def interrupt_when(g, pred, timeout=30):
    assert peers.wait_until(lambda: pred() or not g.alive(), timeout,
                            0.02), why("never got there", g)
    assert g.alive(), why("finished before the interrupt", g)
    rc = g.interrupt()
    assert rc == 130, why(g)


@pytest.mark.timeout(60)
def test_priority_high_first(net, monkeypatch, tmp_path, rng):
    """--priority-high 5 (the last file) with a seeder at 512 KiB/s: at an
    early SIGINT every verified piece is one of file 5's, and file 5 is
    not complete yet; --priority-low takes the same syntax."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m, upload_limit=512 * KIB)
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", "--priority-high",
                "5", "--priority-low", "1-2", "-p", peers.free_port(), "-o",
                out, *peer_args(s.port), m.torrent)
    e = m.path(out, 5)
    interrupt_when(g, lambda: allocated(e) >= 384 * KIB)
    have = resume_have(tmp_path, "leecher", m.ih)
    high = m.pieces({5})
    assert have, why("nothing verified", g)
    assert have <= high, why("pieces outside file 5 first: %s" % sorted(
        have - high), g)
    assert have != high, why("file 5 complete: the seeder ran too fast", g)


@pytest.mark.timeout(60)
def test_sequential_in_order(net, monkeypatch, tmp_path, rng):
    """--sequential with a seeder at 512 KiB/s: at an early SIGINT the
    verified pieces are the first ones, in order, with no gap."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m, upload_limit=512 * KIB)
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", "--sequential", "-p",
                peers.free_port(), "-o", out, *peer_args(s.port), m.torrent)
    interrupt_when(g, lambda: allocated(m.path(out, 1)) >= 512 * KIB)
    have = resume_have(tmp_path, "leecher", m.ih)
    assert len(have) >= 4, why("too few pieces verified: %s" % sorted(have),
                               g)
    assert have == set(range(len(have))), why(
        "not a prefix: %s" % sorted(have), g)
    assert len(have) < m.meta.npieces // 2, why("ran too fast", g)


# --- 4. changing the selection on a restart ---------------------------------

@pytest.mark.timeout(120)
def test_selection_changed_on_restart(net, monkeypatch, tmp_path, rng):
    """Run 1 selects file 2; run 2 files 2 and 3: file 2 is not fetched
    (nor touched) again, only file 3's pieces not had yet; run 3 selects
    everything: the parked bytes go back into their files, the part file
    goes, and only the missing pieces come."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m)
    out = tmp_path / "out"
    common = ["-p", peers.free_port(), "-o", out, *peer_args(s.port),
              m.torrent]

    g1 = gt_proc(net, monkeypatch, tmp_path, "gt", "--select-file", "2",
                 *common, tag="run1")
    check_done(g1, m, g1.wait(GT_TIMEOUT), {2})
    m.check(out, {2})
    mtime2 = os.stat(m.path(out, 2)).st_mtime_ns
    had = m.pieces({2})

    g2 = gt_proc(net, monkeypatch, tmp_path, "gt", "--select-file", "2-3",
                 *common, tag="run2")
    sm = check_done(g2, m, g2.wait(GT_TIMEOUT), set())
    new = m.pieces({3}) - had
    need = m.piece_bytes(new)
    assert need <= sm["downloaded"] <= need + 2 * PL, why(
        "run 2 received %d bytes, file 3's missing pieces are %d" % (
            sm["downloaded"], need), g2)
    m.check(out, {2, 3})
    assert os.stat(m.path(out, 2)).st_mtime_ns == mtime2, why(
        "file 2 written again", g2)
    had |= new

    g3 = gt_proc(net, monkeypatch, tmp_path, "gt", *common, tag="run3")
    sm = check_done(g3, m, g3.wait(GT_TIMEOUT), set())
    need = m.piece_bytes(set(range(m.meta.npieces)) - had)
    assert need <= sm["downloaded"] <= need + 2 * PL, why(
        "run 3 received %d bytes, the missing pieces are %d" % (
            sm["downloaded"], need), g3)
    m.check(out, {1, 2, 3, 4, 5}, parts=False)


# --- 5. a magnet's so= -------------------------------------------------------

@pytest.mark.timeout(90)
def test_magnet_so(net, monkeypatch, tmp_path, rng):
    """A magnet with so=1,3 (BEP 53, 0-based) fetches files 2 and 4 only;
    --select-file given as well wins over so=."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m)
    uri = magnets.magnet_uri(m.ih, dn=m.name, peer_addrs=[s.port],
                             extra=[("so", "1,3")])
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "so", "-v", "-p",
                peers.free_port(), "-o", out, "--no-tracker", uri)
    check_done(g, m, g.wait(GT_TIMEOUT), {2, 4})
    m.check(out, {2, 4})

    out2 = tmp_path / "out2"
    g = gt_proc(net, monkeypatch, tmp_path, "sel", "--select-file", "5",
                "-p", peers.free_port(), "-o", out2, "--no-tracker", uri)
    check_done(g, m, g.wait(GT_TIMEOUT), {5})
    m.check(out2, {5})


@pytest.mark.timeout(60)
def test_magnet_select_past_the_files(net, monkeypatch, tmp_path, rng):
    """A magnet alone with --select-file 9 (5 files): once the metadata
    is there, one error line and exit 3, and no file is created."""
    m = Multi(tmp_path, rng)
    s = lt_seeder(net, m)
    uri = magnets.magnet_uri(m.ih, peer_addrs=[s.port])
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", "--select-file", "9",
                "-p", peers.free_port(), "-o", out, "--no-tracker", uri)
    rc = g.wait(GT_TIMEOUT)
    assert rc == 3, why(g)
    errs = [ln for ln in g.err.splitlines() if "--select-file" in ln]
    assert len(errs) == 1 and "no file 9" in errs[0], why(g)
    assert not (out / m.name).exists(), why(g)


# --- 6. --show-files and the command line -----------------------------------

SHOW_RE = re.compile(r"^ *(\d+)  +(\S+(?: \S+)?)  +(\d+)  (.*)$")


def show_lines(text):
    """[[(index, human, bytes, path)]] per torrent listed."""
    blocks, cur = [], None
    for ln in text.splitlines():
        if not ln.strip():
            continue
        mm = SHOW_RE.match(ln)
        if mm:
            cur.append((int(mm.group(1)), mm.group(2), int(mm.group(3)),
                        mm.group(4)))
        else:
            cur = []
            blocks.append((ln, cur))
    return blocks


def test_show_files(gt, tmp_path, rng):
    """--show-files (-S): a header and `N  SIZE  BYTES  PATH` per file,
    numbered from 1 as --select-file takes them, pad files marked, hostile
    names escaped; a missing .torrent among them: its error, exit 3; a
    magnet: a usage error (exit 2) pointing at --metadata-only."""
    m = Multi(tmp_path, rng)
    # a hybrid torrent: pad files between the files
    hy = tmp_path / "hybrid.torrent"
    hy.write_bytes(lt_make(m.src, m.name, m.files, PL, v1_only=False))
    evil = tmp_path / "evil.torrent"
    evil.write_bytes(helpers.bencode({"info": {
        "name": "evil", "piece length": 16384, "pieces": bytes(20),
        "files": [{"length": 100, "path": ["a\x1b[31mred"]},
                  {"length": 200, "path": ["\u202egpj.exe"]}]}}))
    r = gt("--show-files", m.torrent, timeout=20)
    assert r.rc == 0, r
    (head, rows), = show_lines(r.out)
    assert head.startswith(str(m.torrent) + ": 5 files"), r
    assert "(%d bytes)" % m.total in head, r
    assert [(i, n, p) for i, _, n, p in rows] == [
        (k + 1, n, p) for k, (p, _, n) in enumerate(m.layout)], r

    r = gt("-S", hy, evil, tmp_path / "missing.torrent", timeout=20)
    assert r.rc == 3, r
    assert len(r.err_lines()) == 1 and "missing.torrent" in r.err, r
    (_, hrows), (_, erows) = show_lines(r.out)
    real = [x for x in hrows if not x[3].endswith(" [padding]")]
    assert [(n, p) for _, _, n, p in real] == [
        (n, p) for p, _, n in m.layout], r
    assert len(hrows) > len(real), "no pad file listed: %r" % r
    assert [i for i, _, _, _ in hrows] == list(range(1, len(hrows) + 1))
    assert "\x1b" not in r.out and "\u202e" not in r.out, r
    # control bytes are made safe in the path itself, bidi controls
    # when shown
    assert [p for _, _, _, p in erows] == ["evil/a_[31mred",
                                           "evil/?gpj.exe"], r

    r = gt("--show-files", "magnet:?xt=urn:btih:" + "ab" * 20, timeout=20)
    assert r.rc == 2, r
    assert len(r.err_lines()) == 1 and "--metadata-only" in r.err, r


@pytest.mark.parametrize("opt,arg", [
    ("--select-file", "0"), ("--select-file", "3-2"),
    ("--select-file", "1,,2"), ("--select-file", "x"),
    ("--select-file", ""), ("--select-file", "1,"),
    ("--select-file", "2-"), ("--select-file", "99999999999"),
    ("--priority-high", "0-3"), ("--priority-low", "a"),
    ("--exclude", ""),
])
def test_bad_lists(gt, tmp_path, opt, arg):
    r = gt(opt, arg, "--no-tracker", "--peer", "127.0.0.1:1", "x.torrent",
           cwd=tmp_path, timeout=20)
    assert r.rc == 2, r
    assert len(r.err_lines()) == 1 and opt in r.err, r
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("opt", ["--sequential", "--preallocate",
                                 "--priority-high"])
def test_seed_refuses_download_options(gt, tmp_path, opt):
    args = [opt] + (["1"] if opt == "--priority-high" else [])
    r = gt("seed", *args, "-o", tmp_path, "x.torrent", timeout=20)
    assert r.rc == 2, r
    assert len(r.err_lines()) == 1 and opt in r.err, r


def test_select_past_the_files(gt, tmp_path, rng):
    """--select-file 7 with one 5-file torrent: one error line, exit 3;
    with two torrents it is a warning for the one that has fewer files
    (both are complete on disk here: done at once, exit 0)."""
    m = Multi(tmp_path, rng)
    other = tmp_path / "other"
    other.mkdir()
    of = make_payload(other, "other", [("x%d" % i, 1000 + i)
                                       for i in range(8)], rng)
    ot = tmp_path / "other.torrent"
    ot.write_bytes(lt_make(other, "other", of, 16 * KIB))
    peer = ["--no-tracker", "--peer", "127.0.0.1:1"]
    r = gt("--select-file", "2,7", "-o", m.src, *peer, m.torrent,
           timeout=30)
    assert r.rc == 3, r
    assert len(r.err_lines()) == 1, r
    assert "sel.torrent: --select-file: no file 7" in r.err, r

    (tmp_path / "both").mkdir()
    os.rename(str(m.src / m.name), str(tmp_path / "both" / m.name))
    os.rename(str(other / "other"), str(tmp_path / "both" / "other"))
    r = gt("--select-file", "2,7", "--priority-high", "8", "-o",
           tmp_path / "both", *peer, m.torrent, ot, timeout=30)
    assert r.rc == 0, r
    warns = [ln for ln in r.err_lines() if "warning" in ln]
    assert len(warns) == 2, r
    assert all("sel.torrent" in w and "ignored" in w for w in warns), r
    assert r.out.count("gtorrent: done: ") == 2, r


def test_help_names_selection(gt):
    r = gt("download", "--help", timeout=20)
    assert r.rc == 0, r
    for opt in ("--show-files", "--select-file LIST", "--exclude GLOB",
                "--priority-high LIST", "--priority-low LIST",
                "--sequential", "--preallocate", ".parts"):
        assert opt in r.out, (opt, r)


# --- 7. --preallocate --------------------------------------------------------

@pytest.mark.timeout(60)
def test_preallocate(net, monkeypatch, tmp_path, rng):
    """--preallocate --select-file 2,4: before any peer came, files 2 and
    4 have their whole size allocated; the others are not created; then
    a libtorrent seeder dials in and the download completes."""
    m = Multi(tmp_path, rng)
    out = tmp_path / "out"
    port = peers.free_port()
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", "--preallocate",
                "--select-file", "2,4", "-p", port, "-o", out,
                "--no-tracker", "--peer", "127.0.0.1:1", m.torrent)
    assert peers.wait_listening(port, 20, g.alive), why(g)
    # the port listens before the torrent's files are opened: wait for
    # them (no peer can send anything yet)
    sizes = {i: m.layout[i - 1][2] for i in (2, 4)}
    peers.wait_until(lambda: all(allocated(m.path(out, i)) >= n
                                 for i, n in sizes.items()), 20, 0.05)
    for i, n in sizes.items():
        assert os.path.exists(m.path(out, i)), why(g)
        assert os.path.getsize(m.path(out, i)) == n, why(g)
        assert allocated(m.path(out, i)) >= n, why(
            "file %d: %d bytes allocated of %d" % (
                i, allocated(m.path(out, i)), n), g)
    for i in (1, 3, 5):
        assert not os.path.exists(m.path(out, i)), why(g)
    assert g.summary() is None, why(g)
    s = lt_seeder(net, m)
    assert s.connect_until_peer(port, 20), why("no connection", g)
    check_done(g, m, g.wait(GT_TIMEOUT), {2, 4})
    m.check(out, {2, 4})


# --- padding files and empty files -------------------------------------------

@pytest.mark.timeout(60)
def test_select_in_hybrid_torrent(net, monkeypatch, gt, tmp_path, rng):
    """A v1+v2 hybrid torrent (pad files align every file to a piece):
    numbers count the pad files, as --show-files shows them; selecting a
    file shares no piece with another, so no part file appears, and no
    pad file is created.  An empty file selected alone is created, and
    nothing else: its torrent is done at once."""
    m = Multi(tmp_path, rng)
    files = m.files + [("z empty", 0)]
    (m.src / m.name / "z empty").write_bytes(b"")
    tb = lt_make(m.src, m.name, files, PL, v1_only=False)
    t = tmp_path / "hybrid.torrent"
    t.write_bytes(tb)
    r = gt("--show-files", t, timeout=20)
    assert r.rc == 0, r
    num = {p: i for i, _, _, p in show_lines(r.out)[0][1]}
    want = num[m.name + "/b.nfo"]
    assert want > 2, "pad files are numbered: %r" % r
    s = net.lt_peer(tb, m.src)
    s.wait_seeding(20)
    out = tmp_path / "out"
    g = gt_proc(net, monkeypatch, tmp_path, "leecher", "--select-file",
                str(want), "-p", peers.free_port(), "-o", out,
                *peer_args(s.port), t)
    rc = g.wait(GT_TIMEOUT)
    assert rc == 0 and g.summary()["state"] == "done", why(g)
    m.check(out, {2}, parts=False)

    out2 = tmp_path / "out2"
    g = gt_proc(net, monkeypatch, tmp_path, "empty", "--select-file",
                str(num[m.name + "/z empty"]), "-p", peers.free_port(),
                "-o", out2, *peer_args(s.port), t)
    rc = g.wait(GT_TIMEOUT)
    assert rc == 0 and g.summary()["state"] == "done", why(g)
    got = sorted(os.path.relpath(os.path.join(d, f), str(out2))
                 for d, _, fs in os.walk(str(out2)) for f in fs)
    assert got == [m.name + "/z empty"], why(got, g)
