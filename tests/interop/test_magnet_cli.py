"""`gtorrent magnet FILE.torrent` against `gtorrent info` and libtorrent.

The URI's btih must be the info-hash `gtorrent info --json` reports, dn the
torrent's name and tr every tracker of every tier, in order, each once,
all percent-encoded; libtorrent's parse_magnet_uri must read the same.
Nothing here touches the network: the trackers are never contacted.
"""

import random
import re
import urllib.parse

import pytest

from helpers import (ANNOUNCE, KIB, bdecode, bencode, info_hash_hex,
                     lt_make, build_shape)

UNRESERVED = re.compile(r"^[A-Za-z0-9._~-]*$")
ENCODED = re.compile(r"^(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})*$")
TR1 = "http://127.0.0.1:1/announce?passkey=a+b&x=%41"
TR2 = "udp://127.0.0.1:2/announce"
TR3 = "https://[::1]:3/announce"


def split_uri(uri):
    """magnet:?k=v&k=v -> [(k, raw v)], checking the shape on the way."""
    assert uri.startswith("magnet:?"), uri
    assert uri.isascii() and "\n" not in uri and " " not in uri, uri
    out = []
    for part in uri[len("magnet:?"):].split("&"):
        k, sep, v = part.partition("=")
        assert sep == "=" and UNRESERVED.match(k), part
        if k == "xt":
            assert re.match(r"^urn:btih:[0-9a-f]{40}$", v), part
        else:
            assert ENCODED.match(v), "not percent-encoded: %r" % part
        out.append((k, v))
    return out


def check_uri(uri, info_hash, name, trackers):
    params = split_uri(uri)
    keys = [k for k, _ in params]
    assert keys[0] == "xt"
    assert params[0][1] == "urn:btih:" + info_hash     # lowercase hex
    if name:
        assert keys.count("dn") == 1
        dn = dict(params)["dn"]
        assert urllib.parse.unquote(dn, errors="strict") == name
        # every byte but the unreserved ones is encoded, '+' and ' ' too
        assert dn == urllib.parse.quote(name, safe="-._~")
    else:
        assert "dn" not in keys
    tr = [urllib.parse.unquote(v) for k, v in params if k == "tr"]
    assert tr == trackers
    for k, v in params:
        if k == "tr":
            assert v == urllib.parse.quote(urllib.parse.unquote(v),
                                           safe="-._~")
    assert set(keys) <= {"xt", "dn", "tr"}


def raw_trackers(path):
    """announce-list (else announce) flattened, each URL once, in order."""
    t, _ = bdecode(path.read_bytes())
    urls = []
    if b"announce-list" in t:
        for tier in t[b"announce-list"]:
            urls += [u.decode() for u in tier]
    elif b"announce" in t:
        urls.append(t[b"announce"].decode())
    seen = []
    for u in urls:
        if u not in seen:
            seen.append(u)
    return seen


def lt_check(lt, uri, info_hash, name, trackers):
    p = lt.parse_magnet_uri(uri)
    ih = p.info_hashes.v1 if hasattr(p, "info_hashes") else p.info_hash
    assert str(ih) == info_hash
    assert p.name == name
    assert list(p.trackers) == trackers


def make(gt, tmp_path, name, *announce):
    data = tmp_path / "data"
    data.mkdir()
    (data / name).mkdir()
    rng = random.Random(name)
    (data / name / "a.bin").write_bytes(rng.randbytes(40000))
    (data / name / "b c+d.txt").write_bytes(b"hello\n")
    out = tmp_path / "t.torrent"
    args = []
    for a in announce:
        args += ["-a", a]
    r = gt("create", "-l", "15", "-o", out, *args, data / name)
    assert r.rc == 0, r
    return out


NAMES = ["plain", "with space+plus & amp=eq #hash %25 ?q",
         "caf\u00e9 \u65e5\u672c \U0001f389", "~._-", "'quote\" \\back"]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_magnet_round_trip(gt, gt_json, lt, tmp_path, name):
    # three tiers, TR2 twice: kept once, at its first place
    t = make(gt, tmp_path, name, TR1 + "," + TR2, TR2, TR3)
    info = gt_json("info", "--json", t)
    want = [TR1, TR2, TR3]
    assert raw_trackers(t) == want
    # dn is the name as gtorrent reads it: '\\' made safe ('_')
    assert info["name"] == name.replace("\\", "_")
    name = info["name"]
    r = gt("magnet", t)
    assert r.rc == 0 and r.err == "", r
    uri = r.out
    assert uri.endswith("\n") and uri.count("\n") == 1, r
    uri = uri[:-1]
    check_uri(uri, info["info_hash"], name, want)
    assert info["info_hash"] == info_hash_hex(t.read_bytes())
    lt_check(lt, uri, info["info_hash"], name, want)

    j = gt_json("magnet", "--json", t)
    assert set(j) == {"magnet", "info_hash", "name", "trackers"}
    assert j["magnet"] == uri
    assert j["info_hash"] == info["info_hash"]
    assert j["name"] == name
    assert j["trackers"] == want

    # "-": the same torrent from standard input
    r = gt("magnet", "-", input=t.read_bytes())
    assert r.rc == 0 and r.out[:-1] == uri, r


def test_magnet_no_tracker(gt, gt_json, lt, tmp_path):
    t = make(gt, tmp_path, "solo")
    info = gt_json("info", "--json", t)
    r = gt("magnet", t)
    assert r.rc == 0, r
    check_uri(r.out.strip(), info["info_hash"], "solo", [])
    lt_check(lt, r.out.strip(), info["info_hash"], "solo", [])
    assert gt_json("magnet", "--json", t)["trackers"] == []


def test_magnet_libtorrent_hybrid(gt_json, lt, tmp_path, seed):
    """A v1+v2 hybrid made by libtorrent: the btih is its v1 info-hash."""
    data = tmp_path / "data"
    data.mkdir()
    name, files, path = build_shape(data, "multi-nested", 16 * KIB, seed)
    tb = lt_make(data, name, files, 16 * KIB, v1_only=False,
                 trackers=[[TR1], [TR2, TR3]])
    t = tmp_path / "h.torrent"
    t.write_bytes(tb)
    info = gt_json("info", "--json", t)
    assert info["info_hash_v2"] is not None
    j = gt_json("magnet", "--json", t)
    assert j["info_hash"] == info_hash_hex(tb) == info["info_hash"]
    want = raw_trackers(t)
    assert sorted(want) == sorted([TR1, TR2, TR3])
    check_uri(j["magnet"], j["info_hash"], name, want)
    lt_check(lt, j["magnet"], j["info_hash"], name, want)


def test_magnet_odd_name_is_one_safe_line(gt_json, gt, lt, tmp_path):
    """Control bytes and bidi overrides in name and tracker: one ASCII
    line on stdout, encoded; libtorrent reads the same name back."""
    rng = random.Random(3)
    length, pl = 40000, 16 * KIB
    data = rng.randbytes(length)
    import hashlib
    pieces = b"".join(hashlib.sha1(data[i:i + pl]).digest()
                      for i in range(0, length, pl))
    tr = "http://127.0.0.1:1/a\u202e?x=\"y\""
    t = {b"announce": tr.encode(),
         b"info": {b"name": "n\u202eame\ttab".encode(), b"length": length,
                   b"piece length": pl, b"pieces": pieces}}
    p = tmp_path / "odd.torrent"
    p.write_bytes(bencode(t))
    j = gt_json("magnet", "--json", p)
    info = gt_json("info", "--json", p)
    r = gt("magnet", p)
    assert r.rc == 0, r
    uri = r.out[:-1]
    assert uri == j["magnet"]
    trackers = info["trackers"][0] if info["trackers"] else []
    check_uri(uri, info["info_hash"], info["name"], trackers)
    lt_check(lt, uri, info["info_hash"], info["name"], trackers)


def test_magnet_over_our_caps_warns(gt, lt, tmp_path):
    """More trackers than gtorrent -m takes: printed, with one warning."""
    many = ["http://127.0.0.1:1/%d" % i for i in range(70)]
    t = make(gt, tmp_path, "many", *many)
    r = gt("magnet", t)
    assert r.rc == 0, r
    lines = r.err_lines()
    assert len(lines) == 1 and lines[0].startswith("gtorrent: warning: "), r
    assert "more than 64" in lines[0], r
    ih = info_hash_hex(t.read_bytes())
    check_uri(r.out.strip(), ih, "many", many)
    lt_check(lt, r.out.strip(), ih, "many", many)


def _valid_torrent(pl=16 * KIB, length=40000):
    import hashlib
    data = random.Random(7).randbytes(length)
    pieces = b"".join(hashlib.sha1(data[i:i + pl]).digest()
                      for i in range(0, length, pl))
    return {b"announce": ANNOUNCE.encode(),
            b"info": {b"name": b"x.bin", b"length": length,
                      b"piece length": pl, b"pieces": pieces}}


def _bad_info(**kw):
    t = _valid_torrent()
    for k, v in kw.items():
        t[b"info"][k.replace("_", " ").encode()] = v
    return bencode(t)


BAD_TORRENTS = {
    "empty": b"",
    "truncated": bencode(_valid_torrent())[:150],
    "garbage": random.Random(1).randbytes(3000),
    "not-a-dict": b"i42e",
    "no-info": b"d8:announce3:fooe",
    "pieces-not-20n": _bad_info(pieces=b"x" * 50),
    "piece-length-0": _bad_info(piece_length=0),
    "deep-nesting": b"d4:info" + b"l" * 100000 + b"e" * 100000 + b"e",
    "huge-string-length": b"d4:info999999999999:abce",
    "escape-in-error": b"d4:infod4:name3:\x1b[2e",
}


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
@pytest.mark.parametrize("what", sorted(BAD_TORRENTS))
def test_magnet_hostile_torrent(gt, tmp_path, what, json_flag):
    p = tmp_path / "bad.torrent"
    p.write_bytes(BAD_TORRENTS[what])
    r = gt("magnet", *json_flag, p, timeout=30)
    assert r.rc == 3, r
    assert r.out == "", r
    lines = r.err_lines()
    assert len(lines) == 1 and lines[0].startswith("gtorrent: "), r
    assert "\x1b" not in r.err, r


def test_magnet_command_line(gt, tmp_path):
    r = gt("magnet", "--help")
    assert r.rc == 0 and "usage: gtorrent magnet" in r.out, r
    r = gt("magnet", "-h")
    assert r.rc == 0 and "usage: gtorrent magnet" in r.out, r
    for args in ([], ["--bogus", "x.torrent"], ["a.torrent", "b.torrent"]):
        r = gt("magnet", *args)
        assert r.rc == 2, r
        assert len(r.err_lines()) == 1 and "magnet --help" in r.err, r
    r = gt("magnet", tmp_path / "missing.torrent")
    assert r.rc == 3 and len(r.err_lines()) == 1, r
    r = gt("magnet", tmp_path)
    assert r.rc == 3 and len(r.err_lines()) == 1, r
    r = gt("--help")
    assert r.rc == 0 and re.search(r"^  magnet ", r.out, re.M), r
