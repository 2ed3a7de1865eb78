"""Shared helpers for gtorrent's interop tests: bencode, payloads, libtorrent.

Nothing here talks to the network.  libtorrent is imported lazily so that a
missing python3-libtorrent skips the tests that need it instead of breaking
collection.
"""

import hashlib
import os
import random

ANNOUNCE = "http://127.0.0.1:1/announce"  # never contacted

KIB = 1024
MIB = 1024 * 1024


# --- bencode ---------------------------------------------------------------

class BencodeError(ValueError):
    pass


def bencode(v):
    """Encodes int, bytes, str, list and dict (keys sorted bytewise)."""
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode("utf-8")
    if isinstance(v, (bytes, bytearray)):
        return b"%d:%s" % (len(v), bytes(v))
    if isinstance(v, (list, tuple)):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = []
        for k, x in v.items():
            if isinstance(k, str):
                k = k.encode("utf-8")
            items.append((k, x))
        items.sort(key=lambda kv: kv[0])
        return b"d" + b"".join(bencode(k) + bencode(x)
            for k, x in items) + b"e"
    raise TypeError("cannot bencode %r" % type(v))


def _bdecode_at(b, i, spans, path):
    if i >= len(b):
        raise BencodeError("truncated")
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c.isdigit():
        j = b.index(b":", i)
        n = int(b[i:j])
        if j + 1 + n > len(b):
            raise BencodeError("truncated string")
        return bytes(b[j + 1:j + 1 + n]), j + 1 + n
    if c == b"l":
        out = []
        i += 1
        while b[i:i + 1] != b"e":
            x, i = _bdecode_at(b, i, spans, None)
            out.append(x)
        return out, i + 1
    if c == b"d":
        out = {}
        i += 1
        while b[i:i + 1] != b"e":
            k, i = _bdecode_at(b, i, spans, None)
            start = i
            x, i = _bdecode_at(b, i, spans, None)
            if path == () and k == b"info":
                spans["info"] = (start, i)
            out[k] = x
        return out, i + 1
    raise BencodeError("bad byte %r at %d" % (c, i))


def bdecode(b):
    """Returns (value, spans); spans["info"] is the raw info dict's range."""
    spans = {}
    try:
        v, end = _bdecode_at(b, 0, spans, ())
    except (IndexError, ValueError) as e:
        raise BencodeError(str(e))
    if end != len(b):
        raise BencodeError("trailing bytes")
    return v, spans


def info_hash_hex(torrent_bytes):
    """SHA-1 of the raw info dictionary bytes, as found in the file."""
    _, spans = bdecode(torrent_bytes)
    s, e = spans["info"]
    return hashlib.sha1(torrent_bytes[s:e]).hexdigest()


def read_torrent(path):
    with open(path, "rb") as f:
        return bdecode(f.read())[0]


# --- payloads --------------------------------------------------------------

def sort_key(rel):
    """mktorrent's order: bytewise on the full relative path."""
    return rel.encode("utf-8")


def rand_bytes(rng, n):
    return rng.randbytes(n) if n else b""


def make_payload(base, name, files, rng, empty_dirs=()):
    """Writes payload base/name.

    files is [(relpath, size)] with '/' separators; for a single-file payload
    pass [(None, size)] and the file is base/name.  Returns the sorted file
    list [(relpath or None, size)] as a torrent lists it.
    """
    base = str(base)
    if len(files) == 1 and files[0][0] is None:
        with open(os.path.join(base, name), "wb") as f:
            f.write(rand_bytes(rng, files[0][1]))
        return list(files)
    root = os.path.join(base, name)
    os.makedirs(root, exist_ok=True)
    for d in empty_dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for rel, size in files:
        p = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(rand_bytes(rng, size))
    return sorted(files, key=lambda fs: sort_key(fs[0]))


def payload_paths(name, files):
    """Paths relative to the download folder, in torrent order."""
    if len(files) == 1 and files[0][0] is None:
        return [name]
    return [name + "/" + rel for rel, _ in files]


def shape(kind, pl, rng):
    """Returns (name, files, empty_dirs) for a named payload shape.

    Sizes depend on the piece length pl so that boundaries land where the
    shape says (a file exactly one piece, a last piece of one byte, ...).
    """
    if kind == "single-last-byte":
        return "file one.bin", [(None, 3 * pl + 1)], ()
    if kind == "single-exact-piece":
        return "exact.bin", [(None, pl)], ()
    if kind == "single-unicode":
        n = rng.randrange(1, 5 * pl // 2)
        return "ünïcødé файл 日本.dat", [(None, n)], ()
    if kind == "multi-nested":
        files = [
            ("a.bin", pl),  # exactly one piece long
            ("empty.txt", 0),
            ("a-b.txt", rng.randrange(1, pl)),
            ("a.b", rng.randrange(1, 300)),
            ("a/b.txt", rng.randrange(1, 2 * pl)),
            ("a0.txt", 7),
            ("B upper.txt", rng.randrange(1, pl)),
            ("b lower.txt", rng.randrange(1, pl)),
            ("sub/deeper/x y.bin", rng.randrange(1, 3 * pl)),
            ("sub/deeper/empty2", 0),
            ("sub/one piece.bin", pl),
            ("ünï/日本語 テキスト.txt", rng.randrange(1, pl)),
            ("ünï/файл.bin", rng.randrange(1, pl)),
        ]
        total = sum(s for _, s in files)
        # a last file sized so that the last piece holds one byte
        last = (1 - total) % pl or pl
        files.append(("zz last.bin", last))
        return "My Payload ü", files, ()
    if kind == "multi-many":
        files = []
        for i in range(40):
            d = ("d%d/" % (i % 5)) if i % 3 else ""
            files.append(("%sf%02d.dat" % (d, i),
                rng.choice([0, 1, rng.randrange(1, pl // 3 + 2)])))
        return "many", files, ()
    if kind == "multi-one-file":
        return "folder", [("file.txt", rng.randrange(1, 2 * pl))], ()
    if kind == "multi-empty-edges":
        files = [
            ("!first-empty", 0),
            ("middle/data.bin", 2 * pl + rng.randrange(1, pl)),
            ("~last-empty", 0),
        ]
        return "edges", files, ("empty dir", "middle/also empty")
    raise ValueError(kind)


SHAPES = ["single-last-byte", "single-exact-piece", "single-unicode",
    "multi-nested", "multi-many", "multi-one-file", "multi-empty-edges"]


def build_shape(base, kind, pl, seed):
    """Writes a shape under base; returns (name, sorted files, path)."""
    rng = random.Random(seed)
    name, files, dirs = shape(kind, pl, rng)
    files = make_payload(base, name, files, rng, dirs)
    return name, files, os.path.join(str(base), name)


def file_layout(name, files):
    """[(path, offset, length)] in torrent order for a v1 torrent."""
    out = []
    off = 0
    for p, (_, size) in zip(payload_paths(name, files), files):
        out.append((p, off, size))
        off += size
    return out


def pieces_touching(off, length, pl):
    """Piece indexes that hold bytes [off, off + length)."""
    if length == 0:
        return []
    return list(range(off // pl, (off + length - 1) // pl + 1))


# --- libtorrent -------------------------------------------------------------

def lt_make(base, name, files, pl, v1_only=True, trackers=(),
    url_seeds=(), http_seeds=(), comment=None, creator=None, priv=False,
    exec_paths=()):
    """Makes a torrent with libtorrent from the payload at base/name.

    The file_storage is filled in mktorrent's (sorted) order.  v1_only
    gives a plain v1 torrent without pad files; otherwise libtorrent 2.0's
    default, a v1+v2 hybrid with pad files.  trackers is [[url...]...].
    Returns the .torrent bytes.
    """
    import libtorrent as lt
    fs = lt.file_storage()
    for p, (_, size) in zip(payload_paths(name, files), files):
        flags = lt.file_storage.flag_executable if p in exec_paths else 0
        fs.add_file(p, size, flags=flags)
    flags = lt.create_torrent.v1_only if v1_only else 0
    ct = lt.create_torrent(fs, pl, flags=flags)
    for tier, urls in enumerate(trackers):
        for u in urls:
            ct.add_tracker(u, tier)
    for u in url_seeds:
        ct.add_url_seed(u)
    for u in http_seeds:
        ct.add_http_seed(u)
    if comment is not None:
        ct.set_comment(comment)
    if creator is not None:
        ct.set_creator(creator)
    if priv:
        ct.set_priv(True)
    lt.set_piece_hashes(ct, str(base))
    return lt.bencode(ct.generate())


def lt_view(torrent):
    """What libtorrent sees in a .torrent (path or bytes), normalised to
    compare with `gtorrent info --json`.  Pad files are left out of files;
    tracker tiers are sorted within each tier (libtorrent shuffles them).
    """
    import libtorrent as lt
    if isinstance(torrent, (bytes, bytearray)):
        ti = lt.torrent_info(lt.bdecode(bytes(torrent)))
    else:
        ti = lt.torrent_info(str(torrent))
    ih = ti.info_hashes()
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        if fs.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        files.append({"path": fs.file_path(i), "length": fs.file_size(i),
            "offset": fs.file_offset(i),
            "exec": bool(fs.file_flags(i) &
            lt.file_storage.flag_executable)})
    tiers = {}
    for t in ti.trackers():
        tiers.setdefault(t.tier, []).append(t.url)
    return {
        "name": ti.name(),
        "info_hash": str(ih.v1),
        "info_hash_v2": str(ih.v2) if ih.has_v2() else None,
        "total_size": ti.total_size(),
        "piece_length": ti.piece_length(),
        "piece_count": ti.num_pieces(),
        "private": bool(ti.priv()),
        "trackers": [sorted(tiers[k]) for k in sorted(tiers)],
        "files": files,
    }


def gt_view(j):
    """The same normalised view of `gtorrent info --json` output."""
    files = []
    for f in j["files"]:
        if "p" in f["attr"]:
            continue
        files.append({"path": f["path"], "length": f["length"],
            "offset": f["offset"], "exec": "x" in f["attr"]})
    return {
        "name": j["name"],
        "info_hash": j["info_hash"].lower(),
        "info_hash_v2": (j["info_hash_v2"].lower()
            if j["info_hash_v2"] is not None else None),
        "total_size": j["total_size"],
        "piece_length": j["piece_length"],
        "piece_count": j["piece_count"],
        "private": j["private"],
        "trackers": [sorted(t) for t in j["trackers"]],
        "files": files,
    }


def raw_seeds(meta):
    """(web_seeds, http_seeds) from a decoded torrent's url-list/httpseeds."""
    def strs(v):
        if v is None:
            return []
        if isinstance(v, bytes):
            return [v.decode("utf-8")] if v else []
        return [x.decode("utf-8") for x in v if isinstance(x, bytes)]
    return strs(meta.get(b"url-list")), strs(meta.get(b"httpseeds"))


def raw_str(meta, key):
    v = meta.get(key)
    return v.decode("utf-8") if isinstance(v, bytes) else None


def check_json_against_raw(j, path):
    """Fields compared with the bencoded file itself."""
    raw = open(path, "rb").read()
    meta = bdecode(raw)[0]
    info = meta[b"info"]
    ws, hs = raw_seeds(meta)
    assert j["web_seeds"] == ws
    assert j["http_seeds"] == hs
    assert j["comment"] == raw_str(meta, b"comment")
    assert j["created_by"] == raw_str(meta, b"created by")
    assert j["source"] == raw_str(info, b"source")
    cd = meta.get(b"creation date")
    assert j["creation_date"] == (cd if isinstance(cd, int) else None)
    assert j["info_hash"].lower() == info_hash_hex(raw)
    assert len(j["info_hash"]) == 40
    if j["info_hash_v2"] is not None:
        assert len(j["info_hash_v2"]) == 64
    # files lie end to end, pads included, and fill the total
    off = 0
    for f in j["files"]:
        assert f["offset"] == off, f
        assert set(f["attr"]) <= set("pxhl"), f
        off += f["length"]
    assert off == j["total_size"]
    pl = j["piece_length"]
    assert j["piece_count"] == (j["total_size"] + pl - 1) // pl


def is_sanitized(exe):
    """True when exe was built with AddressSanitizer (its shadow memory and
    redzones make peak-memory figures meaningless)."""
    try:
        with open(exe, "rb") as f:
            tail = b""
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    return False
                if b"__asan_init" in tail + chunk:
                    return True
                tail = chunk[-16:]
    except OSError:
        return False


# --- gtorrent command lines: never the public DHT ----------------------------

# gtorrent turns the DHT on by default, and its default bootstrap nodes are
# the public routers.  Every gtorrent a test starts goes through gt_args:
# downloads and seeds get --no-dht unless the test gives a loopback
# --dht-bootstrap itself, and `gtorrent dht get-peers` a dead loopback one.
# conftest.py also points $XDG_STATE_HOME at a temporary folder, so no saved
# routing table (dht.dat) of a real run is ever used.
GT_NOT_DOWNLOAD = {"create", "info", "magnet", "verify", "scrape", "dht",
                   "-h", "--help", "help", "-V", "--version"}
LOOPBACK_BOOTSTRAP = "127.0.0.1:1"      # nothing listens there


def _loopback_hostport(v):
    if v.startswith("[::1]:"):
        return True
    host = v.rsplit(":", 1)[0]
    return host == "localhost" or (host.startswith("127.") and
                                   all(p.isdigit() for p in host.split(".")))


def _bootstraps(args):
    out = []
    for i, a in enumerate(args):
        if a == "--dht-bootstrap" and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith("--dht-bootstrap="):
            out.append(a.split("=", 1)[1])
    return out


def _is_download(first):
    """main.c's test: what `gtorrent ARG...` runs as a download."""
    if first.startswith("-") or first.lower().startswith("magnet:"):
        return True
    return first.endswith(".torrent") or os.path.isfile(first)


def gt_args(args):
    """gtorrent's arguments (after the program) made safe for a test: see
    above.  A --dht-bootstrap off loopback, or --dht with none, fails."""
    args = [str(a) for a in args]
    boots = _bootstraps(args)
    for b in boots:
        assert _loopback_hostport(b), \
            "--dht-bootstrap %s: tests use loopback DHT nodes only" % b
    if boots or not args:
        return args
    first = args[0]
    if first == "dht" and len(args) > 1 and args[1] == "get-peers":
        return args[:2] + ["--dht-bootstrap", LOOPBACK_BOOTSTRAP] + args[2:]
    if first in ("download", "seed"):
        rest = args[1:]
    elif first in GT_NOT_DOWNLOAD or not _is_download(first):
        return args
    else:
        first, rest = None, args
    assert "--dht" not in rest and "-d" not in rest, \
        "--dht without a loopback --dht-bootstrap: the public routers"
    return ([first] if first else []) + ["--no-dht"] + rest
