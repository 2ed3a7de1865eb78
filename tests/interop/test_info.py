"""`gtorrent info` against libtorrent's view of the same .torrent.

Torrents come from gtorrent itself, from libtorrent (plain v1, and its
default v1+v2 hybrid with pad files, an executable attribute, tracker
tiers, url and http seeds) and from mktorrent (tiers, web seeds, comment,
private, source).  Fields libtorrent rewrites (it appends '/' to multi-file
web seeds, shuffles trackers inside a tier) are checked against the raw
bencoded file instead.
"""

import hashlib
import os
import random

import pytest

import helpers

from helpers import (ANNOUNCE, KIB, bencode, build_shape,
                     check_json_against_raw, gt_view, info_hash_hex,
                     lt_make, lt_view)

ORIGINS = ["gtorrent", "gtorrent-opts", "lt-v1", "lt-hybrid",
           "lt-hybrid-single", "mktorrent", "mktorrent-opts"]
TRACKERS = [[ANNOUNCE, "http://127.0.0.1:2/announce"],
            ["udp://127.0.0.1:3/announce"]]


def make_torrent(request, origin, tmp_path, seed):
    """Builds a torrent of the given origin; returns its path."""
    gt = request.getfixturevalue("gt")
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "t.torrent"
    kind = "single-last-byte" if origin.endswith("single") else "multi-nested"
    pl = 32 * KIB
    name, files, path = build_shape(data, kind, pl, seed)
    if origin.startswith("gtorrent"):
        extra = []
        if origin == "gtorrent-opts":
            extra = ["-a", ANNOUNCE, "-a", "udp://127.0.0.1:3/announce",
                     "-w", "http://127.0.0.1:4/ws", "-c", "comment ü",
                     "-p", "-s", "SRC"]
        r = gt("create", "-l", "15", "-o", out, *extra, path)
        assert r.rc == 0, r
    elif origin.startswith("lt"):
        exec_paths = ()
        if kind == "multi-nested":
            exec_paths = (name + "/a0.txt",)
        t = lt_make(data, name, files, pl, v1_only=(origin == "lt-v1"),
                    trackers=TRACKERS, url_seeds=["http://127.0.0.1:4/ws"],
                    http_seeds=["http://127.0.0.1:5/hs"],
                    comment="lt comment", creator="libtorrent test",
                    priv=(origin == "lt-v1"), exec_paths=exec_paths)
        out.write_bytes(t)
    else:
        args = [request.getfixturevalue("mktorrent"), "-l", "15", "-o", out]
        if origin == "mktorrent-opts":
            args += ["-a", ANNOUNCE + ",http://127.0.0.1:2/announce",
                     "-a", "udp://127.0.0.1:3/announce",
                     "-w", "http://127.0.0.1:4/ws", "-c", "mk comment",
                     "-p", "-s", "MKSRC"]
        else:
            args += ["-a", ANNOUNCE]
        r = request.getfixturevalue("run")(args + [path])
        assert r.rc == 0, r
    return out


@pytest.mark.parametrize("origin", ORIGINS)
def test_info_json_matches_libtorrent(request, gt_json, lt, tmp_path, seed,
                                      origin):
    path = make_torrent(request, origin, tmp_path, seed)
    j = gt_json("info", "--json", path)
    want = lt_view(path)
    assert gt_view(j) == want
    check_json_against_raw(j, path)
    if origin.startswith("lt-hybrid"):
        assert j["info_hash_v2"] is not None
        assert any("p" in f["attr"] for f in j["files"]) or \
            origin.endswith("single")
    else:
        assert j["info_hash_v2"] is None


@pytest.mark.parametrize("origin", ["gtorrent", "lt-hybrid", "mktorrent"])
def test_info_text(request, gt, lt, tmp_path, seed, origin):
    path = make_torrent(request, origin, tmp_path, seed)
    r = gt("info", path)
    assert r.rc == 0, r
    want = lt_view(path)
    assert want["name"] in r.out, r
    assert want["info_hash"] in r.out.lower(), r
    for f in want["files"]:
        assert os.path.basename(f["path"]) in r.out, (f, r)


def test_info_single_file_paths(gt_json, gt, tmp_path, seed, lt):
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, "single-unicode", 16 * KIB, seed)
    r = gt("create", "-l", "14", "-o", tmp_path / "t.torrent", path)
    assert r.rc == 0, r
    j = gt_json("info", "--json", tmp_path / "t.torrent")
    assert [f["path"] for f in j["files"]] == [name]
    assert j["files"][0]["length"] == files[0][1]
    assert gt_view(j) == lt_view(tmp_path / "t.torrent")


def test_info_stdin(gt, tmp_path, seed, lt):
    """cmd.h: "-" reads the torrent from stdin."""
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, "multi-many", 16 * KIB, seed)
    t = lt_make(data, name, files, 16 * KIB)
    r = gt("info", "--json", "-", input=t)
    assert r.rc == 0, r
    assert r.json()["info_hash"].lower() == info_hash_hex(t)


# --- invalid torrents --------------------------------------------------------

def _valid_torrent(pl=16 * KIB, length=40000):
    rng = random.Random(7)
    data = rng.randbytes(length)
    pieces = b"".join(hashlib.sha1(data[i:i + pl]).digest()
                      for i in range(0, length, pl))
    return {b"announce": ANNOUNCE.encode(),
            b"info": {b"name": b"x.bin", b"length": length,
                      b"piece length": pl, b"pieces": pieces}}


def _with_info(**kw):
    t = _valid_torrent()
    for k, v in kw.items():
        k = k.replace("_", " ").encode()
        if v is None:
            del t[b"info"][k]
        else:
            t[b"info"][k] = v
    return bencode(t)


BAD_TORRENTS = {
    "empty": b"",
    "truncated": bencode(_valid_torrent())[:150],
    "garbage": random.Random(1).randbytes(3000),
    "not-a-dict": b"i42e",
    "no-info": b"d8:announce3:fooe",
    "info-not-dict": b"d4:infoi1ee",
    "piece-length-0": _with_info(piece_length=0),
    "piece-length-negative": _with_info(piece_length=-16384),
    "pieces-not-20n": _with_info(pieces=b"x" * 50),
    "too-few-pieces": _with_info(pieces=b"x" * 20),
    "too-many-pieces": _with_info(pieces=b"x" * 80),
    "negative-length": _with_info(length=-5),
    "huge-length": _with_info(length=1 << 62),
    "no-length-no-files": _with_info(length=None),
    "deep-nesting": b"d4:info" + b"l" * 100000 + b"e" * 100000 + b"e",
    "huge-string-length": b"d4:info999999999999:abce",
    "files-not-list": _with_info(length=None, files=5),
}


def assert_one_error_line(r, rcs=(3,)):
    assert r.rc in rcs, r
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("gtorrent: "), r


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
@pytest.mark.parametrize("what", sorted(BAD_TORRENTS))
def test_info_invalid_torrent(gt, tmp_path, what, json_flag):
    p = tmp_path / "bad.torrent"
    p.write_bytes(BAD_TORRENTS[what])
    r = gt("info", *json_flag, p, timeout=30)
    assert_one_error_line(r)


def test_info_v2_only_rejected(gt, lt, tmp_path, seed):
    """metainfo.h: v2-only torrents fail ("not supported yet") -> exit 3."""
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, "multi-nested", 16 * KIB, seed)
    import libtorrent
    fs = libtorrent.file_storage()
    for rel, size in files:
        fs.add_file(name + "/" + rel, size)
    ct = libtorrent.create_torrent(fs, 16 * KIB,
                                   flags=libtorrent.create_torrent.v2_only)
    libtorrent.set_piece_hashes(ct, str(data))
    (tmp_path / "v2.torrent").write_bytes(libtorrent.bencode(ct.generate()))
    r = gt("info", "--json", tmp_path / "v2.torrent")
    assert_one_error_line(r)


def test_info_missing_file(gt, tmp_path):
    r = gt("info", tmp_path / "nope.torrent")
    assert_one_error_line(r, (3, 4))


def test_info_directory(gt, tmp_path):
    r = gt("info", tmp_path)
    assert_one_error_line(r, (3, 4))


def test_info_json_escapes_strings(gt_json, tmp_path):
    """Comment, creator and source with quotes, backslashes, newlines."""
    t = _valid_torrent()
    odd = 'a "quoted" \\ back\\slash\nnew line\ttab é 🎉'
    t[b"comment"] = odd.encode()
    t[b"created by"] = odd.encode()
    t[b"info"][b"source"] = odd.encode()
    t[b"announce"] = b'http://127.0.0.1:1/a?x="y"&z=\\'
    p = tmp_path / "odd.torrent"
    p.write_bytes(bencode(t))
    j = gt_json("info", "--json", p)
    assert j["comment"] == odd
    assert j["created_by"] == odd
    assert j["source"] == odd
    assert j["trackers"] == [['http://127.0.0.1:1/a?x="y"&z=\\']]


def test_info_json_control_characters(gt_json, tmp_path):
    """Control bytes and invalid UTF-8 still give one valid JSON object."""
    t = _valid_torrent()
    t[b"comment"] = b"bell\x07 nul\x00 esc\x1b del\x7f bad\xff\xfe utf8"
    t[b"info"][b"name"] = b"n\x01a\xffme"
    p = tmp_path / "ctl.torrent"
    p.write_bytes(bencode(t))
    j = gt_json("info", "--json", p)
    assert isinstance(j["comment"], str)
    assert "/" not in j["name"] and j["name"]


HOSTILE_PATHS = {
    "dotdot": [[b"..", b"..", b"etc", b"passwd"]],
    "absolute": [[b"/etc", b"passwd"]],
    "slash-inside": [[b"a/../../b"]],
    "dot": [[b".", b"x"]],
    "empty-component": [[b"", b"x"]],
    "backslash": [[b"..\\..\\x"]],
    "invalid-utf8": [[b"\xff\xfe\xfd"]],
    "duplicate": [[b"same"], [b"same"]],
}


@pytest.mark.parametrize("what", sorted(HOSTILE_PATHS))
def test_info_and_verify_hostile_paths(gt, tmp_path, what):
    """Hostile file paths: rejected (exit 3) or made safe; never outside."""
    paths = HOSTILE_PATHS[what]
    length = 10000
    rng = random.Random(3)
    data = rng.randbytes(length * len(paths))
    pl = 16 * KIB
    pieces = b"".join(hashlib.sha1(data[i:i + pl]).digest()
                      for i in range(0, len(data), pl))
    t = {b"info": {b"name": b"evil", b"piece length": pl, b"pieces": pieces,
                   b"files": [{b"length": length, b"path": p}
                              for p in paths]}}
    tp = tmp_path / "evil.torrent"
    tp.write_bytes(bencode(t))
    r = gt("info", "--json", tp)
    assert r.rc in (0, 3), r
    if r.rc == 3:
        assert len(r.err_lines()) == 1, r
    else:
        for f in r.json()["files"]:
            comps = f["path"].split("/")
            assert comps[0] == "evil", f
            assert all(c not in ("", ".", "..") for c in comps), f
            assert "\\" not in f["path"] or what == "backslash"
    dl = tmp_path / "dl"
    dl.mkdir()
    v = gt("verify", "--json", "-o", dl, tp)
    assert v.rc in (1, 3), v
    assert os.listdir(dl) == []
    assert sorted(os.listdir(tmp_path)) == ["dl", "evil.torrent"]


# Invisible characters that reorder or hide text on a terminal: bidi
# embeddings, overrides and isolates, marks, zero-width and other format
# characters (Unicode category Cf), the line and paragraph separators and
# the C1 controls.  ZWJ and ZWNJ (U+200C, U+200D) are kept: scripts and
# emoji need them.
HIDDEN = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
          "\u2067", "\u2068", "\u2069", "\u200b", "\u200e", "\u200f",
          "\u061c", "\u2028", "\u2029", "\u2060", "\u2064", "\ufeff",
          "\ufff9", "\ufffb", "\u00ad", "\u0085", "\u009b",
          "\U000e0001", "\U000e0041"]


def _bidi_torrent(tmp_path):
    """A multi-file torrent whose name, paths, comment, creator, source
    and tracker URL carry every HIDDEN character."""
    evil = "".join(HIDDEN)
    length = 1000
    data = bytes(2 * length)
    pl = 16 * KIB
    pieces = hashlib.sha1(data).digest()
    t = {b"announce": ("http://127.0.0.1:1/a" + evil).encode(),
         b"comment": ("c" + evil + "txt.exe").encode(),
         b"created by": ("by" + evil).encode(),
         b"info": {b"name": ("name\u202egpj.exe" + evil).encode(),
                   b"piece length": pl, b"pieces": pieces,
                   b"source": ("src" + evil).encode(),
                   b"files": [
                       {b"length": length,
                        b"path": [("dir" + evil).encode(),
                                  "a\u202etxt.exe".encode()]},
                       {b"length": length,
                        b"path": ["zw\u200d\u200cj".encode()]}]}}
    p = tmp_path / "bidi.torrent"
    p.write_bytes(bencode(t))
    return p


def _no_hidden(text):
    for ch in HIDDEN:
        assert ch not in text, (hex(ord(ch)), text)


def test_info_text_escapes_format_characters(gt, tmp_path):
    """Bidi controls and invisible format characters print as '?'."""
    r = gt("info", _bidi_torrent(tmp_path))
    assert r.rc == 0, r
    _no_hidden(r.outb.decode("utf-8"))
    assert "name?gpj.exe" in r.out, r
    assert "a?txt.exe" in r.out, r
    assert "zw\u200d\u200cj" in r.out, r     # ZWJ, ZWNJ kept


def test_info_json_escapes_format_characters(gt, tmp_path):
    """In JSON they are \\u escapes: the text shows none, the values are
    exact."""
    r = gt("info", "--json", _bidi_torrent(tmp_path))
    assert r.rc == 0, r
    raw = r.outb.decode("utf-8")
    _no_hidden(raw)
    assert "\\u202e" in raw and "\\udb40\\udc01" in raw, raw
    j = r.json()
    assert j["name"].startswith("name\u202egpj.exe\u202a"), j["name"]
    assert j["files"][0]["path"].endswith("/a\u202etxt.exe"), j["files"]
    assert j["comment"] == "c" + "".join(HIDDEN) + "txt.exe"
    assert j["source"] == "src" + "".join(HIDDEN)


def test_verify_escapes_format_characters(gt, tmp_path):
    """verify's report and its errors show no hidden character either."""
    tp = _bidi_torrent(tmp_path)
    dl = tmp_path / "dl"
    dl.mkdir()
    for flags in ([], ["--json"]):
        r = gt("verify", *flags, "-o", dl, tp)
        assert r.rc in (1, 3), r
        _no_hidden(r.outb.decode("utf-8"))
        _no_hidden(r.errb.decode("utf-8"))


# --- the .torrent size cap (metainfo.h MI_MAX_TORRENT) ----------------------

CAP = 64 * 1024 * 1024
PIPE_SLACK = 2 * 1024 * 1024    # what a pipe may hold besides (<= 1 MiB)
READ_SLACK = 1024 * 1024        # reads besides the torrent (locale, /proc)


def _run_io(args, stdin=None, timeout=60):
    """Runs args; returns (rc, stdout, stderr, bytes it read, seconds).
    The bytes are rchar of /proc/PID/io, read while the child is a zombie
    (waitid WNOWAIT), so everything it ever read is counted."""
    import subprocess
    import threading
    import time
    t0 = time.monotonic()
    p = subprocess.Popen([str(a) for a in args], stdin=stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = [], []
    readers = [threading.Thread(target=lambda f=f, b=b: b.append(f.read()),
                                daemon=True)
               for f, b in ((p.stdout, out), (p.stderr, err))]
    for th in readers:
        th.start()
    deadline = t0 + timeout
    while os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG |
                    os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            p.kill()
            p.wait()
            pytest.fail("%s: over %d s" % (args, timeout))
        time.sleep(0.01)
    secs = time.monotonic() - t0
    rchar = None
    with open("/proc/%d/io" % p.pid) as f:
        for ln in f:
            if ln.startswith("rchar:"):
                rchar = int(ln.split()[1])
    p.wait()
    for th in readers:
        th.join(5)
    return (p.returncode, b"".join(out).decode("utf-8", "replace"),
            b"".join(err).decode("utf-8", "replace"), rchar, secs)


class _EndlessWriter:
    """A thread writing 64 KiB blocks of 'x' to a file object until the
    reader goes away; counts what it wrote."""

    def __init__(self, opener):
        import threading
        self.opener = opener
        self.written = 0
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        block = b"d8:announce" + b"x" * (64 * 1024 - 11)
        try:
            f = self.opener()
        except OSError:
            return
        try:
            while not self.stop:
                n = os.write(f, block if self.written == 0 else
                             b"x" * len(block))
                self.written += n
        except OSError:         # EPIPE: the reader is gone
            pass
        finally:
            os.close(f)


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_info_endless_fifo_is_refused_at_the_cap(gtorrent_path, tmp_path,
                                                json_flag):
    """A FIFO fed for ever: refused with one line, having taken no more
    than the cap (plus what the pipe itself holds)."""
    fifo = tmp_path / "endless.torrent"
    os.mkfifo(fifo)
    w = _EndlessWriter(lambda: os.open(fifo, os.O_WRONLY))
    try:
        rc, out, err, nread, secs = _run_io(
            [gtorrent_path, "info", *json_flag, fifo])
    finally:
        w.stop = True
        # unblock a writer still waiting in open() (reader never came)
        try:
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
        w.th.join(10)
    assert rc == 3, (rc, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gtorrent: "), err
    assert "64 MiB" in lines[0], err
    assert out == "", out
    assert nread <= CAP + 1 + READ_SLACK, nread
    assert w.written <= CAP + 1 + PIPE_SLACK, w.written
    assert secs < 30, secs


def test_info_endless_stdin_is_refused_at_the_cap(gtorrent_path):
    import subprocess
    r, wfd = os.pipe()
    w = _EndlessWriter(lambda: wfd)
    try:
        rc, out, err, nread, secs = _run_io(
            [gtorrent_path, "info", "-"], stdin=r)
    finally:
        os.close(r)
        w.stop = True
        w.th.join(10)
    assert rc == 3, (rc, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "64 MiB" in lines[0], err
    assert nread <= CAP + 1 + READ_SLACK, nread
    assert w.written <= CAP + 1 + PIPE_SLACK, w.written


def test_info_huge_regular_file_is_refused_unread(gtorrent_path, tmp_path):
    """A (sparse) 1 TiB file: refused from its size, nothing read."""
    p = tmp_path / "huge.torrent"
    with open(p, "wb") as f:
        f.write(b"d4:info")
        f.truncate(1 << 40)
    rc, out, err, nread, secs = _run_io([gtorrent_path, "info", p])
    assert rc == 3, (rc, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "64 MiB" in lines[0], err
    assert nread < READ_SLACK, nread
    assert secs < 10, secs


def test_info_at_the_cap_is_read(gtorrent_path, tmp_path):
    """A file of exactly the cap is read (and then judged as bencode)."""
    p = tmp_path / "cap.torrent"
    # d7:comment<m>:<m bytes>e, CAP bytes in all
    n = CAP - len(b"d7:comment") - 1
    for digits in range(1, 10):
        m = n - digits - 1
        if len(str(m)) == digits:
            break
    data = b"d7:comment" + str(m).encode() + b":" + b"x" * m + b"e"
    assert len(data) == CAP
    p.write_bytes(data)
    rc, out, err, nread, secs = _run_io([gtorrent_path, "info", p])
    assert rc == 3, (rc, err)
    assert "64 MiB" not in err and "info" in err, err
    assert CAP <= nread <= CAP + 1 + READ_SLACK, nread


# --- a 2^21-piece torrent: peak memory --------------------------------------

BIG_PIECES = 1 << 21            # metainfo.h MI_MAX_PIECES
BIG_PL = 16                     # bytes a piece: a 32 MiB payload


def write_big_torrent(tmp_path):
    """A single-file torrent of 2^21 pieces (a 40 MiB "pieces" string),
    streamed to disk, and its payload as a sparse file of zeros (every
    piece good).  Returns (torrent path, data folder)."""
    import hashlib
    h = hashlib.sha1(bytes(BIG_PL)).digest()
    length = BIG_PIECES * BIG_PL
    tp = tmp_path / "big.torrent"
    with open(tp, "wb") as f:
        f.write(b"d8:announce" + bencode(ANNOUNCE.encode()) + b"4:infod" +
                b"6:lengthi%de4:name3:big12:piece lengthi%de" %
                (length, BIG_PL) + b"6:pieces%d:" % (BIG_PIECES * 20))
        chunk = h * 65536
        for _ in range(BIG_PIECES // 65536):
            f.write(chunk)
        f.write(b"ee")
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "big", "wb") as f:
        f.truncate(length)
    return tp, data


def peak_kib(args, timeout=120):
    """Runs args with stdout on a full one-page pipe, so the process blocks
    in its first write of output, after its work and before freeing
    anything; reads its VmHWM (KiB) then.  Returns (rc, stdout, peak)."""
    import fcntl
    import subprocess
    import time
    rfd, wfd = os.pipe()
    fcntl.fcntl(wfd, 1031, 4096)                # F_SETPIPE_SZ
    os.write(wfd, b"\n" * 4096)
    p = subprocess.Popen([str(a) for a in args], stdout=wfd,
                         stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    os.close(wfd)
    peak = None
    deadline = time.monotonic() + timeout
    try:
        while p.poll() is None and time.monotonic() < deadline:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for ln in f:
                        if ln.startswith("VmHWM:"):
                            peak = int(ln.split()[1])
                with open("/proc/%d/wchan" % p.pid) as f:
                    wchan = f.read()
            except OSError:
                break
            if "pipe_write" in wchan or "pipe_wait" in wchan:
                break
            time.sleep(0.005)
        out = b""
        while True:
            b = os.read(rfd, 1 << 20)
            if not b:
                break
            out += b
        rc = p.wait(timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        os.close(rfd)
    return rc, out[4096:].decode("utf-8", "replace"), peak


@pytest.mark.timeout(120)
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_info_2m_pieces_peak_memory(gtorrent_path, tmp_path, json_flag):
    """info on a 2^21-piece torrent: peak memory (VmHWM) at most twice the
    file plus 16 MiB."""
    tp, _ = write_big_torrent(tmp_path)
    size = tp.stat().st_size
    rc, out, peak = peak_kib([gtorrent_path, "info", *json_flag, tp])
    assert rc == 0, out
    assert str(BIG_PIECES) in out, out
    limit = (2 * size + 16 * 1024 * 1024) // 1024
    print("info%s: VmHWM %d KiB for a %d-byte torrent (limit %d KiB)" %
          (" --json" if json_flag else "", peak, size, limit))
    if helpers.is_sanitized(gtorrent_path):
        return      # ASan's shadow memory: the figure says nothing
    assert peak is not None and peak <= limit, (peak, limit)
