"""Real-world torrents from the npm package webtorrent-fixtures.

The package is fetched once with `npm pack` into tests/interop/.cache/ (or
$INTEROP_CACHE), never committed, and reused afterwards without the
network.  Every .torrent in it goes through `gtorrent info --json` and is
compared with libtorrent; where the package ships the content (alice.txt,
the Leaves of Grass epub, folder/, numbers/, lots-of-numbers/),
`gtorrent verify -o fixtures` must pass.
"""

import os
import shutil
import subprocess
import tarfile

import pytest

from helpers import (bdecode, check_json_against_raw, gt_view,
                     info_hash_hex, lt_view)

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "webtorrent-fixtures"
# Torrents in webtorrent-fixtures 2.0.3; new ones are still checked by
# test_fixture_list_covered.
KNOWN = ["alice", "bunny", "corrupt", "folder", "leaves", "leaves-metadata",
         "lots-of-numbers", "numbers", "sintel"]


def _safe_extract(tgz, dest):
    with tarfile.open(tgz) as tf:
        for m in tf.getmembers():
            p = os.path.normpath(m.name)
            if p.startswith("..") or os.path.isabs(p) or not (
                    m.isfile() or m.isdir()):
                raise RuntimeError("unsafe member %r in %s" % (m.name, tgz))
        tf.extractall(dest)


# One xdist worker runs them all: the package is fetched once.
pytestmark = pytest.mark.xdist_group("fixtures")


@pytest.fixture(scope="session")
def fixtures_dir():
    """The package's fixtures/ folder, fetched on first use."""
    cache = os.environ.get("INTEROP_CACHE") or os.path.join(HERE, ".cache")
    root = os.path.join(cache, PACKAGE)
    fx = os.path.join(root, "package", "fixtures")
    if os.path.isdir(fx):
        return fx
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm not installed; cannot fetch %s" % PACKAGE)
    os.makedirs(cache, exist_ok=True)
    tmp = root + ".tmp.%d" % os.getpid()
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        try:
            p = subprocess.run([npm, "pack", "--silent", PACKAGE], cwd=tmp,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.skip("npm pack %s timed out" % PACKAGE)
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if p.returncode != 0 or len(tgz) != 1:
            pytest.skip("npm pack %s failed (exit %d): %s" % (
                PACKAGE, p.returncode,
                p.stderr.decode("utf-8", "replace").strip()[-500:]))
        _safe_extract(os.path.join(tmp, tgz[0]), tmp)
        try:
            os.replace(tmp, root)
        except OSError:
            # another xdist worker fetched it first: use theirs
            if not os.path.isdir(fx):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return fx


def lt_accepts(path):
    try:
        return lt_view(path)
    except RuntimeError:
        return None


def content_present(fx, view):
    return all(os.path.isfile(os.path.join(fx, f["path"])) and
               os.path.getsize(os.path.join(fx, f["path"])) == f["length"]
               for f in view["files"])


def check_fixture(gt, fx, name):
    path = os.path.join(fx, name + ".torrent")
    want = lt_accepts(path)
    r = gt("info", "--json", path)
    if want is None:
        # libtorrent rejects it: gtorrent must reject it cleanly (exit 3,
        # one line) or, if it accepts it, agree on the raw info-hash.
        if r.rc == 3:
            lines = r.err_lines()
            assert len(lines) == 1 and lines[0].startswith("gtorrent: "), r
            return "rejected"
        assert r.rc == 0, r
        raw = open(path, "rb").read()
        assert r.json()["info_hash"].lower() == info_hash_hex(raw), r
        return "accepted"
    assert r.rc == 0, r
    j = r.json()
    assert gt_view(j) == want
    check_json_against_raw(j, path)
    t = gt("info", path)
    assert t.rc == 0, t
    assert want["info_hash"] in t.out.lower(), t
    if content_present(fx, want):
        v = gt("verify", "--json", "-o", fx, path)
        assert v.rc == 0, v
        vj = v.json()
        assert vj["complete"] is True and vj["bad_pieces"] == []
        assert vj["good_pieces"] == want["piece_count"]
        return "verified"
    return "info-only"


@pytest.mark.parametrize("name", KNOWN)
def test_fixture_info(gt, lt, fixtures_dir, name):
    if not os.path.isfile(os.path.join(fixtures_dir, name + ".torrent")):
        pytest.skip("%s.torrent not in this version of %s" % (name, PACKAGE))
    check_fixture(gt, fixtures_dir, name)


def test_fixture_list_covered(gt, lt, fixtures_dir):
    """Torrents a newer package adds are checked the same way."""
    names = sorted(f[:-len(".torrent")] for f in os.listdir(fixtures_dir)
                   if f.endswith(".torrent"))
    for name in names:
        if name not in KNOWN:
            check_fixture(gt, fixtures_dir, name)


def test_fixture_corrupt_is_rejected_by_libtorrent(lt, fixtures_dir):
    """corrupt.torrent has no info.name; libtorrent refuses it."""
    p = os.path.join(fixtures_dir, "corrupt.torrent")
    if not os.path.isfile(p):
        pytest.skip("no corrupt.torrent")
    assert lt_accepts(p) is None
    assert b"name" not in bdecode(open(p, "rb").read())[0][b"info"]


@pytest.mark.parametrize("name", ["bunny", "sintel"])
def test_fixture_verify_without_content(gt, lt, fixtures_dir, tmp_path,
                                        name):
    """Big torrents with no data on disk: every piece bad, quickly."""
    p = os.path.join(fixtures_dir, name + ".torrent")
    if not os.path.isfile(p):
        pytest.skip("no %s.torrent" % name)
    want = lt_view(p)
    r = gt("verify", "--json", "-o", tmp_path, p, timeout=60)
    assert r.rc == 1, r
    j = r.json()
    assert j["complete"] is False
    assert j["pieces"] == want["piece_count"]
    assert j["good_pieces"] == 0
    assert len(j["bad_pieces"]) == want["piece_count"]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["alice", "numbers", "lots-of-numbers"])
def test_fixture_verify_damaged_copy(gt, lt, fixtures_dir, tmp_path, name):
    """A copy of the shipped content with one byte changed fails verify."""
    p = os.path.join(fixtures_dir, name + ".torrent")
    if not os.path.isfile(p):
        pytest.skip("no %s.torrent" % name)
    want = lt_view(p)
    if not content_present(fixtures_dir, want):
        pytest.skip("content of %s not shipped" % name)
    for f in want["files"]:
        dst = tmp_path / f["path"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.join(fixtures_dir, f["path"]), dst)
    victim = want["files"][-1]
    dst = tmp_path / victim["path"]
    b = bytearray(dst.read_bytes())
    b[-1] ^= 0x20
    dst.write_bytes(b)
    r = gt("verify", "--json", "-o", tmp_path, p)
    assert r.rc == 1, r
    bad = (victim["offset"] + victim["length"] - 1) // want["piece_length"]
    assert r.json()["bad_pieces"] == [bad]
