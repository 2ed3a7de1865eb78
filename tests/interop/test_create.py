"""`gtorrent create` against libtorrent 2.0.8 and mktorrent 1.1.

The same payload, name and piece length must give the same info-hash.
libtorrent gets its file_storage in mktorrent's bytewise-sorted order and
the v1_only flag (no v2, no pad files); it keeps empty files as ordinary
zero-length entries, exactly like mktorrent.  mktorrent 1.1 accepts piece
exponents 15..28 only, so 16 KiB pieces are compared with libtorrent alone.
"""

import os
import stat

import pytest

from helpers import (ANNOUNCE, KIB, MIB, SHAPES, bdecode, build_shape,
                     info_hash_hex, lt_make, lt_view, make_payload,
                     read_torrent)

PIECE_LENGTHS = [16 * KIB, 32 * KIB, 256 * KIB, MIB]
MK_PIECE_LENGTHS = [pl for pl in PIECE_LENGTHS if pl >= 32 * KIB]


def pl_id(pl):
    return "%dK" % (pl // KIB)


def exp_of(pl):
    return pl.bit_length() - 1


def gt_create(gt, path, out, pl, *extra):
    """Runs gtorrent create; returns the .torrent bytes."""
    r = gt("create", "-l", exp_of(pl), "-o", out, *extra, path)
    assert r.rc == 0, r
    with open(out, "rb") as f:
        return f.read()


def assert_same_info(got, want, who):
    """Same info-hash; on a difference, says which info key differs."""
    hg, hw = info_hash_hex(got), info_hash_hex(want)
    if hg == hw:
        return
    ig = bdecode(got)[0][b"info"]
    iw = bdecode(want)[0][b"info"]
    diffs = []
    for k in sorted(set(ig) | set(iw)):
        if ig.get(k) == iw.get(k):
            continue
        if k == b"pieces" and k in ig and k in iw:
            pg, pw = ig[k], iw[k]
            first = next((i // 20 for i in range(0, min(len(pg), len(pw)),
                                                    20)
                          if pg[i:i + 20] != pw[i:i + 20]), None)
            diffs.append("pieces: %d vs %d hashes, first differing piece "
                         "%s" % (len(pg) // 20, len(pw) // 20, first))
        elif k == b"files" and k in ig and k in iw:
            fg = [(b"/".join(f[b"path"]), f[b"length"]) for f in ig[k]]
            fw = [(b"/".join(f[b"path"]), f[b"length"]) for f in iw[k]]
            diffs.append("files:\n  gtorrent %r\n  %s %r" % (fg, who, fw))
            if [f for f in ig[k]] != [f for f in iw[k]]:
                diffs.append("file dicts: %r\nvs %r" % (ig[k][:3],
                                                         iw[k][:3]))
        else:
            diffs.append("%r: gtorrent %r vs %s %r" % (
                k, ig.get(k, "<absent>"), who, iw.get(k, "<absent>")))
    pytest.fail("info-hash %s (gtorrent) != %s (%s):\n%s" % (
        hg, hw, who, "\n".join(diffs)))


# --- same info-hash as libtorrent and mktorrent ----------------------------

@pytest.mark.parametrize("pl", PIECE_LENGTHS, ids=pl_id)
@pytest.mark.parametrize("kind", SHAPES)
def test_create_matches_libtorrent(gt, lt, tmp_path, seed, kind, pl):
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, kind, pl, seed)
    got = gt_create(gt, path, tmp_path / "g.torrent", pl)
    want = lt_make(data, name, files, pl)
    assert_same_info(got, want, "libtorrent")
    # libtorrent reads gtorrent's file back the same way
    assert lt_view(got) == lt_view(want)


@pytest.mark.parametrize("pl", MK_PIECE_LENGTHS, ids=pl_id)
@pytest.mark.parametrize("kind", SHAPES)
def test_create_matches_mktorrent(gt, mk, tmp_path, seed, kind, pl):
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, kind, pl, seed)
    got = gt_create(gt, path, tmp_path / "g.torrent", pl)
    want = open(mk(path, tmp_path / "m.torrent", exp_of(pl)), "rb").read()
    assert_same_info(got, want, "mktorrent")


@pytest.mark.parametrize("opts", [["-p"], ["-s", "SRC ünï"],
                                  ["-p", "-s", "tracker.example"]],
                         ids=["private", "source", "private+source"])
@pytest.mark.parametrize("kind", ["single-last-byte", "multi-nested"])
def test_create_private_source_match_mktorrent(gt, mk, lt, tmp_path, seed,
                                               kind, opts):
    pl = 32 * KIB
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, kind, pl, seed)
    got = gt_create(gt, path, tmp_path / "g.torrent", pl, *opts)
    want = open(mk(path, tmp_path / "m.torrent", exp_of(pl), *opts),
                "rb").read()
    assert_same_info(got, want, "mktorrent")
    info = bdecode(got)[0][b"info"]
    assert (info.get(b"private") == 1) == ("-p" in opts)
    if "-s" in opts:
        assert info.get(b"source") == opts[opts.index("-s") + 1].encode()
    if opts == ["-p"]:
        # libtorrent's set_priv gives the same info dict
        assert_same_info(got, lt_make(data, name, files, pl, priv=True),
                         "libtorrent")
    assert lt_view(got)["private"] == ("-p" in opts)


@pytest.mark.parametrize("kind", ["single-unicode", "multi-many"])
def test_create_name_override(gt, mk, tmp_path, seed, kind):
    pl = 64 * KIB
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, kind, pl, seed)
    got = gt_create(gt, path, tmp_path / "g.torrent", pl, "-n",
                    "Other name ß")
    want = open(mk(path, tmp_path / "m.torrent", exp_of(pl), "-n",
                   "Other name ß"), "rb").read()
    assert_same_info(got, want, "mktorrent")
    assert bdecode(got)[0][b"info"][b"name"] == "Other name ß".encode()


@pytest.mark.parametrize("exp,size", [(15, "32K"), (18, "256K"),
                                      (20, "1M")])
def test_create_piece_length_forms(gt, tmp_path, seed, exp, size):
    pl = 1 << exp
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "multi-nested", pl, seed)
    r1 = gt("create", "-l", exp, "-o", tmp_path / "a.torrent", path)
    r2 = gt("create", "-l", size, "-o", tmp_path / "b.torrent", path)
    assert r1.rc == 0, r1
    assert r2.rc == 0, r2
    a = (tmp_path / "a.torrent").read_bytes()
    b = (tmp_path / "b.torrent").read_bytes()
    assert bdecode(a)[0][b"info"][b"piece length"] == pl
    assert info_hash_hex(a) == info_hash_hex(b)


def test_create_threads_same_hash(gt, tmp_path, seed):
    pl = 16 * KIB
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "multi-many", pl, seed)
    hashes = set()
    for t in ("1", "2", "7"):
        out = tmp_path / ("t%s.torrent" % t)
        hashes.add(info_hash_hex(gt_create(gt, path, out, pl, "-t", t)))
    assert len(hashes) == 1


def test_create_trackers_webseeds_comment(gt, mk, lt, tmp_path, seed):
    pl = 32 * KIB
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "multi-nested", pl, seed)
    a1, a2 = ANNOUNCE, "udp://127.0.0.1:2/announce"
    w1, w2 = "http://127.0.0.1:3/ws/", "http://127.0.0.1:4/other/"
    opts = ["-a", a1, "-a", a2, "-w", w1, "-w", w2, "-c", "a comment ü"]
    got = gt_create(gt, path, tmp_path / "g.torrent", pl, *opts)
    want = open(mk(path, tmp_path / "m.torrent", exp_of(pl), *opts),
                "rb").read()
    assert_same_info(got, want, "mktorrent")
    meta = bdecode(got)[0]
    assert meta.get(b"announce") == a1.encode()
    assert lt_view(got)["trackers"] == [[a1], [a2]]
    ul = meta.get(b"url-list")
    assert ul == [w1.encode(), w2.encode()], meta
    assert meta.get(b"comment") == "a comment ü".encode()
    ti = lt.torrent_info(str(tmp_path / "g.torrent"))
    assert ti.comment() == "a comment ü"


def test_create_no_date(gt, tmp_path, seed):
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "single-last-byte", 16 * KIB, seed)
    got = gt_create(gt, path, tmp_path / "g.torrent", 16 * KIB, "-d")
    assert b"creation date" not in bdecode(got)[0]


def test_create_one_line_summary(gt, tmp_path, seed):
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "multi-many", 16 * KIB, seed)
    r = gt("create", "-l", "14", "-o", tmp_path / "g.torrent", path)
    assert r.rc == 0, r
    assert len(r.out.splitlines()) == 1, r


def test_create_lt_reads_it_back(gt, lt, tmp_path, seed):
    """The written file is a torrent libtorrent accepts, with the files."""
    pl = 256 * KIB
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, "multi-nested", pl, seed)
    got = gt_create(gt, path, tmp_path / "g.torrent", pl)
    v = lt_view(tmp_path / "g.torrent")
    assert v["name"] == name
    assert v["info_hash"] == info_hash_hex(got)
    assert [f["path"] for f in v["files"]] == [
        name + "/" + rel for rel, _ in files]
    assert v["total_size"] == sum(s for _, s in files)


# --- errors ---------------------------------------------------------------

def assert_one_error_line(r, rc):
    assert r.rc == rc, r
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("gtorrent: "), r


def test_create_missing_path(gt, tmp_path):
    r = gt("create", "-o", tmp_path / "x.torrent", tmp_path / "nope")
    assert_one_error_line(r, 3)
    assert not (tmp_path / "x.torrent").exists()


@pytest.mark.parametrize("what", ["empty-file", "empty-dir",
                                  "dir-of-empty-files"])
def test_create_empty_payload(gt, tmp_path, what):
    p = tmp_path / "payload"
    if what == "empty-file":
        p.write_bytes(b"")
    else:
        p.mkdir()
        (p / "sub").mkdir()
        if what == "dir-of-empty-files":
            (p / "a").write_bytes(b"")
            (p / "sub" / "b").write_bytes(b"")
    r = gt("create", "-o", tmp_path / "x.torrent", p)
    assert_one_error_line(r, 3)
    assert not (tmp_path / "x.torrent").exists()


def test_create_fifo(gt, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = gt("create", "-o", tmp_path / "x.torrent", fifo, timeout=20)
    assert_one_error_line(r, 3)


def test_create_dir_with_fifo_does_not_hang(gt, tmp_path, rng):
    """A FIFO inside the folder: exit 3, or skip it; never block on it."""
    d = tmp_path / "payload"
    d.mkdir()
    (d / "data.bin").write_bytes(rng.randbytes(50000))
    os.mkfifo(d / "fifo")
    r = gt("create", "-o", tmp_path / "x.torrent", d, timeout=20)
    assert r.rc in (0, 3), r
    if r.rc == 0:
        info = read_torrent(tmp_path / "x.torrent")[b"info"]
        names = [b"/".join(f[b"path"]) for f in info.get(b"files", [])]
        assert b"fifo" not in names


def test_create_refuses_overwrite(gt, tmp_path, seed):
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "single-last-byte", 16 * KIB, seed)
    out = tmp_path / "x.torrent"
    out.write_bytes(b"precious")
    r = gt("create", "-o", out, path)
    assert r.rc != 0, r
    assert len(r.err_lines()) == 1 and r.err.startswith("gtorrent: "), r
    assert out.read_bytes() == b"precious"
    r = gt("create", "-f", "-o", out, path)
    assert r.rc == 0, r
    assert out.read_bytes().startswith(b"d")


@pytest.mark.parametrize("args", [[], ["--no-such-option", "X"],
                                  ["-l", "abc", "X"]],
                         ids=["no-path", "bad-option", "bad-piece-length"])
def test_create_usage_errors(gt, tmp_path, args):
    (tmp_path / "X").write_bytes(b"x" * 100)
    r = gt("create", *args, cwd=tmp_path)
    assert r.rc == 2, r
    assert r.err.strip() != "", r
    assert not any(p.suffix == ".torrent" for p in tmp_path.iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_create_unreadable_file(gt, tmp_path):
    d = tmp_path / "payload"
    d.mkdir()
    f = d / "secret.bin"
    f.write_bytes(b"x" * 1000)
    f.chmod(0)
    try:
        r = gt("create", "-o", tmp_path / "x.torrent", d)
    finally:
        f.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert r.rc in (3, 4), r
    assert len(r.err_lines()) == 1 and r.err.startswith("gtorrent: "), r


def test_create_sorted_order_like_mktorrent(gt, tmp_path, rng):
    """Files are listed by bytewise-sorted full path (not dir order)."""
    d = tmp_path / "data"
    d.mkdir()
    files = [("b", 10), ("a/z", 10), ("a-", 10), ("A", 10), ("a.x", 10),
             ("é", 10), ("a/B", 10), ("a0", 10)]
    make_payload(d, "p", files, rng)
    r = gt("create", "-l", "15", "-o", tmp_path / "g.torrent", d / "p")
    assert r.rc == 0, r
    info = read_torrent(tmp_path / "g.torrent")[b"info"]
    got = [b"/".join(f[b"path"]).decode() for f in info[b"files"]]
    assert got == sorted((p for p, _ in files), key=lambda s: s.encode())


def test_create_hidden_files_match_mktorrent(gt, mk, tmp_path, rng):
    """Dot files and dot folders are part of the payload, as in mktorrent."""
    d = tmp_path / "data"
    d.mkdir()
    make_payload(d, "p", [(".hidden", 100), (".dir/x", 5000), ("vis", 70000),
                          ("sub/.h", 3)], rng)
    got = gt_create(gt, d / "p", tmp_path / "g.torrent", 32 * KIB)
    want = open(mk(d / "p", tmp_path / "m.torrent", 15), "rb").read()
    assert_same_info(got, want, "mktorrent")


def test_create_trailing_slash(gt, tmp_path, seed):
    """PATH/ names the torrent after PATH, like PATH without the slash."""
    data = tmp_path / "data"
    data.mkdir()
    name, _, path = build_shape(data, "multi-many", 16 * KIB, seed)
    a = gt_create(gt, path, tmp_path / "a.torrent", 16 * KIB)
    b = gt_create(gt, path + "/", tmp_path / "b.torrent", 16 * KIB)
    assert bdecode(b)[0][b"info"][b"name"] == name.encode()
    assert info_hash_hex(a) == info_hash_hex(b)


@pytest.mark.parametrize("threads", ["1", "2", "5"])
def test_create_bigger_payload_threads(gt, lt, tmp_path, rng, threads):
    """~14 MiB over 60 files in 16 KiB pieces, hashed by several threads."""
    pl = 16 * KIB
    d = tmp_path / "data"
    d.mkdir()
    files = [("big/%02d.bin" % i, rng.randrange(0, 2 * pl) if i % 7
              else rng.randrange(1 * MIB, 3 * MIB)) for i in range(60)]
    files = make_payload(d, "big", files, rng)
    got = gt_create(gt, d / "big", tmp_path / "g.torrent", pl, "-t", threads)
    assert_same_info(got, lt_make(d, "big", files, pl), "libtorrent")


def test_create_names_with_quotes_and_symbols(gt, gt_json, lt, mk, tmp_path,
                                              rng):
    """Names JSON and shells care about: quotes, $, %, &, #, emoji."""
    d = tmp_path / "data"
    d.mkdir()
    names = ['say "hi".txt', "it's.bin", "$HOME & %s #1.dat", "emoji 🎉.bin",
             "sp  ace/ lead", "trail "]
    files = make_payload(d, 'odd "name"', [(n, rng.randrange(1, 40000))
                                          for n in names], rng)
    got = gt_create(gt, d / 'odd "name"', tmp_path / "g.torrent", 32 * KIB)
    want = open(mk(d / 'odd "name"', tmp_path / "m.torrent", 15),
                "rb").read()
    assert_same_info(got, want, "mktorrent")
    j = gt_json("info", "--json", tmp_path / "g.torrent")
    assert [f["path"] for f in j["files"]] == [
        'odd "name"/' + rel for rel, _ in files]
    assert j["name"] == 'odd "name"'


def test_create_tiers_and_seeds_like_mktorrent(gt, mk, tmp_path, seed):
    """Each -a is a tier and commas add trackers to it; -w takes commas."""
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "single-exact-piece", 32 * KIB, seed)
    opts = ["-a", ANNOUNCE + ",http://127.0.0.1:2/announce",
            "-a", "udp://127.0.0.1:3/announce",
            "-a", "http://127.0.0.1:4/a,udp://127.0.0.1:5/a",
            "-w", "http://127.0.0.1:6/w,http://127.0.0.1:7/w",
            "-w", "http://127.0.0.1:8/w"]
    gt_create(gt, path, tmp_path / "g.torrent", 32 * KIB, *opts)
    mk(path, tmp_path / "m.torrent", 15, *opts)
    g = read_torrent(tmp_path / "g.torrent")
    m = read_torrent(tmp_path / "m.torrent")
    for k in (b"announce", b"announce-list", b"url-list"):
        assert g.get(k) == m.get(k), (k, g.get(k), m.get(k))


# --- file names that are not UTF-8 ------------------------------------------

def _latin1_tree(tmp_path):
    """A folder whose names are Latin-1 / Windows-1252 bytes, not UTF-8."""
    top = os.path.join(os.fsencode(tmp_path), b"caf\xe9-dir")
    os.makedirs(os.path.join(top, b"sub"))
    files = {b"caf\xe9.txt": b"hello", b"sub/ok": b"x" * 40000,
             b"sub/\x92quote \x80": b"y" * 30000, b"plain": b"z"}
    for rel, data in files.items():
        with open(os.path.join(top, rel), "wb") as f:
            f.write(data)
    return top, files


def test_create_refuses_names_not_utf8(gt, tmp_path):
    """By default a name that is not UTF-8 stops create with one line
    naming its bytes (escaped) and the option that converts it."""
    top, _ = _latin1_tree(tmp_path)
    out = tmp_path / "x.torrent"
    r = gt("create", "-n", "named", "-o", out, os.fsdecode(top))
    assert_one_error_line(r, 3)
    assert "caf\\xe9.txt" in r.err and "not valid UTF-8" in r.err, r
    assert "--convert-names" in r.err, r
    assert not out.exists()
    # the folder's own name is the torrent's name
    r = gt("create", "-o", out, os.fsdecode(top))
    assert_one_error_line(r, 3)
    assert "caf\\xe9-dir" in r.err, r
    # one file: its name is the torrent's name; -n gives a good one
    lone = os.path.join(os.fsencode(tmp_path), b"lone\xff")
    with open(lone, "wb") as f:
        f.write(b"q" * 100)
    r = gt("create", "-o", out, os.fsdecode(lone))
    assert_one_error_line(r, 3)
    assert "lone\\xff" in r.err, r
    r = gt("create", "-n", "lone", "-o", out, os.fsdecode(lone))
    assert r.rc == 0, r
    assert read_torrent(out)[b"info"][b"name"] == b"lone"


def test_create_convert_names(gt, tmp_path):
    """--convert-names: bytes that are not UTF-8 read as Windows-1252;
    the data, order and pieces are those of the files on disk."""
    top, files = _latin1_tree(tmp_path)
    out = tmp_path / "x.torrent"
    r = gt("create", "--convert-names", "-l", "15", "-o", out,
           os.fsdecode(top))
    assert r.rc == 0, r
    info = read_torrent(out)[b"info"]
    assert info[b"name"] == "café-dir".encode()
    got = [(b"/".join(f[b"path"]), f[b"length"]) for f in info[b"files"]]
    raw_order = sorted(files)                    # mktorrent's, by raw bytes
    conv = {b"caf\xe9.txt": "café.txt", b"plain": "plain", b"sub/ok":
            "sub/ok", b"sub/\x92quote \x80": "sub/\u2019quote \u20ac"}
    assert got == [(conv[k].encode(), len(files[k])) for k in raw_order]
    payload = b"".join(files[k] for k in raw_order)
    import hashlib
    pl = 1 << 15
    want = b"".join(hashlib.sha1(payload[i:i + pl]).digest()
                    for i in range(0, len(payload), pl))
    assert info[b"pieces"] == want
    # gtorrent reads it back with the converted names, shown as they are
    r = gt("info", out)
    assert r.rc == 0 and "café-dir/sub/\u2019quote \u20ac" in r.out, r


def test_create_convert_names_clash(gt, tmp_path):
    """Two names that convert to the same one: one line, no torrent."""
    top = os.path.join(os.fsencode(tmp_path), b"d")
    os.makedirs(top)
    for name in (b"caf\xe9", "café".encode()):
        with open(os.path.join(top, name), "wb") as f:
            f.write(b"x")
    out = tmp_path / "x.torrent"
    r = gt("create", "--convert-names", "-o", out, os.fsdecode(top))
    assert_one_error_line(r, 3)
    assert "café" in r.err and "--convert-names" in r.err, r
    assert not out.exists()
    # a converted file name where another path has a folder
    os.remove(os.path.join(top, "café".encode()))
    os.makedirs(os.path.join(top, "café".encode()))
    with open(os.path.join(top, "café/in".encode()), "wb") as f:
        f.write(b"y")
    r = gt("create", "--convert-names", "-o", out, os.fsdecode(top))
    assert_one_error_line(r, 3)
    assert not out.exists()


def test_create_convert_names_matches_mktorrent_data(gt, mk, tmp_path):
    """mktorrent writes the raw bytes; with --convert-names the pieces,
    lengths and order are the same, only the names are UTF-8."""
    top, files = _latin1_tree(tmp_path)
    mk(os.fsdecode(top), tmp_path / "mk.torrent", 15)
    r = gt("create", "--convert-names", "-l", "15", "-o",
           tmp_path / "gt.torrent", os.fsdecode(top))
    assert r.rc == 0, r
    im = read_torrent(tmp_path / "mk.torrent")[b"info"]
    ig = read_torrent(tmp_path / "gt.torrent")[b"info"]
    assert im[b"pieces"] == ig[b"pieces"]
    assert ([f[b"length"] for f in im[b"files"]] ==
            [f[b"length"] for f in ig[b"files"]])
    assert ([b"/".join(f[b"path"]).decode("cp1252") for f in im[b"files"]]
            == [b"/".join(f[b"path"]).decode("utf-8")
                for f in ig[b"files"]])
