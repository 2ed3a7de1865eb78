"""`gtorrent verify` on data laid out as DIR/<path of each file>.

Torrents are made by libtorrent (v1, and the v1+v2 hybrid whose pad files
never exist on disk) or mktorrent, so verify is checked independently of
`gtorrent create`.  Damage is then done to the payload and the expected bad
pieces are worked out from the file offsets libtorrent reports.
"""

import os
import re

import pytest

import helpers

from helpers import (KIB, MIB, bencode, build_shape, lt_make, lt_view,
                     make_payload, pieces_touching)

pytestmark = pytest.mark.usefixtures("lt")


class Case:
    """A payload under tmp/data and a torrent for it."""

    def __init__(self, tmp_path, seed, kind, pl, origin, mk=None):
        self.data = tmp_path / "data"
        self.data.mkdir()
        self.pl = pl
        self.name, self.files, self.path = build_shape(self.data, kind, pl,
                                                       seed)
        self.torrent = tmp_path / "t.torrent"
        if origin == "mktorrent":
            mk(self.path, self.torrent, pl.bit_length() - 1)
        else:
            self.torrent.write_bytes(lt_make(
                self.data, self.name, self.files, pl,
                v1_only=(origin == "lt-v1")))
        v = lt_view(self.torrent)
        self.npieces = v["piece_count"]
        self.layout = v["files"]          # non-pad: path, length, offset

    def disk(self, f):
        return self.data / f["path"]

    def middle_file(self):
        nonempty = [f for f in self.layout if f["length"] > 0]
        return nonempty[len(nonempty) // 2]

    def expect(self, bad):
        """Expected verify --json for the set of bad pieces."""
        files = {}
        for f in self.layout:
            ps = pieces_touching(f["offset"], f["length"], self.pl)
            nbad = len([p for p in ps if p in bad])
            files[f["path"]] = {"path": f["path"], "length": f["length"],
                                "complete": nbad == 0, "pieces": len(ps),
                                "good_pieces": len(ps) - nbad}
        return {"complete": not bad, "pieces": self.npieces,
                "good_pieces": self.npieces - len(bad),
                "bad_pieces": sorted(bad)}, files


def verify(gt, case, *extra, cwd=None):
    args = ["verify", "--json"]
    if cwd is None:
        args += ["-o", case.data]
    r = gt(*args, *extra, case.torrent, cwd=cwd)
    assert r.rc in (0, 1), r
    return r, r.json()


def check(r, j, case, bad):
    top, files = case.expect(set(bad))
    assert r.rc == (1 if bad else 0), r
    assert {k: j[k] for k in top} == top, r
    got = {f["path"]: f for f in j["files"]}
    for path, want in files.items():
        assert path in got, (path, sorted(got))
        g = got[path]
        if want["length"] == 0:
            assert g["length"] == 0
            continue
        assert {k: g[k] for k in want} == want, (path, r)
    extra = set(got) - set(files)
    assert all("/.pad/" in p or p.startswith(".pad/") for p in extra), extra


ORIGINS = ["lt-v1", "lt-hybrid"]
KINDS = ["single-last-byte", "multi-nested", "multi-many",
         "multi-empty-edges"]


@pytest.mark.parametrize("pl", [16 * KIB, 256 * KIB], ids=["16K", "256K"])
@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize("kind", KINDS)
def test_verify_intact(gt, tmp_path, seed, kind, origin, pl):
    case = Case(tmp_path, seed, kind, pl, origin)
    r, j = verify(gt, case)
    check(r, j, case, [])
    assert j["complete"] is True


def test_verify_intact_mktorrent(gt, mk, tmp_path, seed):
    case = Case(tmp_path, seed, "multi-nested", 32 * KIB, "mktorrent", mk)
    r, j = verify(gt, case)
    check(r, j, case, [])


def test_verify_own_torrent(gt, tmp_path, seed):
    data = tmp_path / "data"
    data.mkdir()
    _, _, path = build_shape(data, "multi-nested", 16 * KIB, seed)
    r = gt("create", "-l", "14", "-o", tmp_path / "t.torrent", path)
    assert r.rc == 0, r
    r = gt("verify", "--json", "-o", data, tmp_path / "t.torrent")
    assert r.rc == 0, r
    assert r.json()["complete"] is True


def test_verify_default_dir_is_cwd(gt, tmp_path, seed):
    case = Case(tmp_path, seed, "multi-nested", 16 * KIB, "lt-v1")
    r, j = verify(gt, case, cwd=case.data)
    check(r, j, case, [])


@pytest.mark.parametrize("pl", [16 * KIB, 256 * KIB], ids=["16K", "256K"])
@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize("kind", ["multi-nested", "multi-many"])
def test_verify_flipped_byte_middle_file(gt, tmp_path, seed, rng, kind,
                                         origin, pl):
    case = Case(tmp_path, seed, kind, pl, origin)
    f = case.middle_file()
    k = rng.randrange(f["length"])
    p = case.disk(f)
    b = bytearray(p.read_bytes())
    b[k] ^= 0xFF
    p.write_bytes(b)
    bad = (f["offset"] + k) // pl
    r, j = verify(gt, case)
    check(r, j, case, [bad])


@pytest.mark.parametrize("origin", ORIGINS)
def test_verify_text_names_piece_and_file(gt, tmp_path, seed, rng, origin):
    """Text form: a line names the bad piece and the file it lies in.

    The byte is flipped in the biggest file, in a piece that touches at
    most two files, so a listing that abbreviates long file lists still
    has to name it.
    """
    pl = 16 * KIB
    case = Case(tmp_path, seed, "multi-nested", pl, origin)
    f = max(case.layout, key=lambda x: x["length"])
    k = f["length"] // 2
    p = case.disk(f)
    b = bytearray(p.read_bytes())
    b[k] ^= 0x55
    p.write_bytes(b)
    bad = (f["offset"] + k) // pl
    t = gt("verify", "-o", case.data, case.torrent)
    assert t.rc == 1, t
    lines = [ln for ln in (t.out + t.err).splitlines()
             if re.search(r"\b%d\b" % bad, ln) and f["path"] in ln]
    assert lines, ("no line names piece %d and %s" % (bad, f["path"]), t)


@pytest.mark.parametrize("where", ["first", "last"])
def test_verify_flipped_byte_single_file(gt, tmp_path, seed, where):
    pl = 16 * KIB
    case = Case(tmp_path, seed, "single-last-byte", pl, "lt-v1")
    p = case.disk(case.layout[0])
    b = bytearray(p.read_bytes())
    k = 0 if where == "first" else len(b) - 1
    b[k] ^= 0x01
    p.write_bytes(b)
    r, j = verify(gt, case)
    check(r, j, case, [k // pl])
    assert j["bad_pieces"] == [0 if where == "first" else case.npieces - 1]


@pytest.mark.parametrize("origin", ORIGINS)
def test_verify_missing_file(gt, tmp_path, seed, origin):
    pl = 16 * KIB
    case = Case(tmp_path, seed, "multi-nested", pl, origin)
    f = case.middle_file()
    case.disk(f).unlink()
    r, j = verify(gt, case)
    check(r, j, case, pieces_touching(f["offset"], f["length"], pl))


@pytest.mark.parametrize("origin", ORIGINS)
def test_verify_truncated_file(gt, tmp_path, seed, origin):
    pl = 16 * KIB
    case = Case(tmp_path, seed, "multi-nested", pl, origin)
    f = max(case.layout, key=lambda x: x["length"])
    keep = f["length"] // 2
    os.truncate(case.disk(f), keep)
    r, j = verify(gt, case)
    check(r, j, case, pieces_touching(f["offset"] + keep,
                                      f["length"] - keep, pl))


def test_verify_zeroed_file(gt, tmp_path, seed):
    pl = 16 * KIB
    case = Case(tmp_path, seed, "multi-nested", pl, "lt-v1")
    f = case.middle_file()
    case.disk(f).write_bytes(bytes(f["length"]))
    r, j = verify(gt, case)
    check(r, j, case, pieces_touching(f["offset"], f["length"], pl))


def test_verify_nothing_on_disk(gt, tmp_path, seed):
    case = Case(tmp_path, seed, "multi-nested", 16 * KIB, "lt-v1")
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    r = gt("verify", "--json", "-o", empty, case.torrent)
    assert r.rc == 1, r
    j = r.json()
    assert j["complete"] is False
    assert j["good_pieces"] == 0
    assert j["bad_pieces"] == list(range(case.npieces))
    assert os.listdir(empty) == [], "verify wrote into the folder"


def test_verify_writes_nothing(gt, tmp_path, seed):
    case = Case(tmp_path, seed, "multi-nested", 16 * KIB, "lt-v1")
    f = case.middle_file()
    case.disk(f).unlink()
    before = sorted(str(p) for p in case.data.rglob("*"))
    verify(gt, case)
    assert sorted(str(p) for p in case.data.rglob("*")) == before


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
@pytest.mark.parametrize("content", [b"", b"garbage not bencode",
                                     bencode({b"info": {b"name": b"x"}})],
                         ids=["empty", "garbage", "no-pieces"])
def test_verify_bad_torrent(gt, tmp_path, content, json_flag):
    p = tmp_path / "bad.torrent"
    p.write_bytes(content)
    r = gt("verify", *json_flag, "-o", tmp_path, p)
    assert r.rc == 3, r
    lines = r.err_lines()
    assert len(lines) == 1 and lines[0].startswith("gtorrent: "), r


def test_verify_missing_torrent(gt, tmp_path):
    r = gt("verify", "-o", tmp_path, tmp_path / "nope.torrent")
    assert r.rc in (3, 4), r
    lines = r.err_lines()
    assert len(lines) == 1 and lines[0].startswith("gtorrent: "), r


@pytest.mark.parametrize("threads", ["1", "4"])
def test_verify_many_flips_threads(gt, tmp_path, rng, threads):
    """~12 MiB, 16 KiB pieces, bytes flipped all over; every bad piece is
    found whatever the number of hashing threads."""
    pl = 16 * KIB
    data = tmp_path / "data"
    data.mkdir()
    files = [("f%02d.bin" % i, rng.randrange(0, 3 * pl) if i % 5
              else rng.randrange(MIB, 3 * MIB)) for i in range(30)]
    files = make_payload(data, "many", files, rng)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(lt_make(data, "many", files, pl))
    layout = lt_view(torrent)["files"]
    bad = set()
    for f in rng.sample([f for f in layout if f["length"]], 8):
        k = rng.randrange(f["length"])
        p = data / f["path"]
        with open(p, "r+b") as fh:
            fh.seek(k)
            c = fh.read(1)
            fh.seek(k)
            fh.write(bytes([c[0] ^ 0x80]))
        bad.add((f["offset"] + k) // pl)
    r = gt("verify", "--json", "-t", threads, "-o", data, torrent)
    assert r.rc == 1, r
    assert r.json()["bad_pieces"] == sorted(bad)


@pytest.mark.timeout(180)
def test_verify_2m_pieces_peak_memory(gtorrent_path, tmp_path):
    """verify on a 2^21-piece torrent: peak memory (VmHWM) at most twice
    the file plus 16 MiB."""
    from test_info import BIG_PIECES, peak_kib, write_big_torrent
    tp, data = write_big_torrent(tmp_path)
    size = tp.stat().st_size
    rc, out, peak = peak_kib([gtorrent_path, "verify", "-o", data, tp])
    assert rc == 0, out
    assert "%d of %d pieces good" % (BIG_PIECES, BIG_PIECES) in out, out
    limit = (2 * size + 16 * 1024 * 1024) // 1024
    print("verify: VmHWM %d KiB for a %d-byte torrent (limit %d KiB)" %
          (peak, size, limit))
    if helpers.is_sanitized(gtorrent_path):
        return      # ASan's shadow memory: the figure says nothing
    assert peak is not None and peak <= limit, (peak, limit)
