"""Shared by test_resume.py, test_faults.py and resume_trials.py: payloads
with their torrents, throttled seeders, gtorrent's resume records read back
and the lines gtorrent prints about them.

gtorrent keeps one resume record per torrent in
$XDG_STATE_HOME/gtorrent/resume/<40-hex info-hash>-<16-hex data key>.resume, a bencoded
dictionary (include/resume.h): "have" (the bitfield of verified pieces),
"partial" ([piece, block bitmap] pairs), "files" ([size, mtime_ns,
priority] each), "clean" and so on.  Nothing here talks to the network.
"""

import contextlib
import glob
import hashlib
import os
import random
import re

import helpers
import peers
from helpers import KIB, MIB

BLOCK = 16 * KIB
RATE = 1 * MIB                  # the throttled seeders' rate, bytes/s

# -v: a record that agrees with the files
RESUMED_RE = re.compile(
    r"resume record: (\d+) of (\d+) pieces here, (\d+) blocks of (\d+) "
    r"more; no data check")
# the data hashed as before the records (a notice said why)
CHECKED_RE = re.compile(r"(\d+) of (\d+) pieces already here")
NO_RECORD = "no resume record: checking the data"
IGNORED_RE = re.compile(r"resume record ignored \((.+)\): checking the data")
CHANGED_RE = re.compile(r"(.*) since the resume record: checking the data")


# --- payloads and torrents --------------------------------------------------

def make_torrent(base, name, files, pl, announce=None):
    """A plain v1 .torrent (bytes) of the payload base/name, as
    helpers.make_payload wrote it: files [(relpath or None, size)] in
    torrent order."""
    h = []
    buf = b""
    for rel in helpers.payload_paths(name, files):
        with open(os.path.join(str(base), *rel.split("/")), "rb") as f:
            while True:
                chunk = f.read(pl - len(buf))
                if not chunk:
                    break
                buf += chunk
                if len(buf) == pl:
                    h.append(hashlib.sha1(buf).digest())
                    buf = b""
    if buf:
        h.append(hashlib.sha1(buf).digest())
    info = {"name": name, "piece length": pl, "pieces": b"".join(h)}
    if len(files) == 1 and files[0][0] is None:
        info["length"] = files[0][1]
    else:
        info["files"] = [{"length": s, "path": rel.split("/")}
                         for rel, s in files]
    return helpers.bencode({"announce": announce or helpers.ANNOUNCE,
                            "info": info})


class Case:
    """A random payload under tmp/src and its torrent tmp/NAME.torrent.

    files: [(None, size)] for one file, else [(relpath, size)]."""

    def __init__(self, tmp, seed, files, pl=64 * KIB, name=None,
                 tag="t"):
        tmp = str(tmp)
        self.tmp = tmp
        self.pl = pl
        self.src = os.path.join(tmp, "src-" + tag)
        os.makedirs(self.src, exist_ok=True)
        single = len(files) == 1 and files[0][0] is None
        self.name = name or ("payload.bin" if single else "payload")
        self.files = helpers.make_payload(self.src, self.name, files,
                                          random.Random(seed))
        self.torrent_bytes = make_torrent(self.src, self.name, self.files,
                                          pl)
        self.torrent = os.path.join(tmp, tag + ".torrent")
        with open(self.torrent, "wb") as f:
            f.write(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.total = self.meta.total
        self.npieces = self.meta.npieces
        self.ih = self.meta.info_hash.hex()
        self.layout = helpers.file_layout(self.name, self.files)

    def piece_size(self, i):
        return self.meta.piece_size(i)

    def check(self, out):
        """The download under out equals the payload, byte for byte."""
        peers.compare_download(self.src, out, self.name, self.files)

    def read_disk(self, out):
        """The torrent's bytes as they are under out (a missing or short
        file reads as zeros)."""
        parts = []
        for rel, off, size in self.layout:
            p = os.path.join(str(out), *rel.split("/"))
            try:
                with open(p, "rb") as f:
                    d = f.read(size)
            except (FileNotFoundError, NotADirectoryError):
                d = b""
            parts.append(d + bytes(size - len(d)))
        return b"".join(parts)

    def good_pieces(self, out):
        """The pieces whose data under out passes its hash."""
        data = self.read_disk(out)
        pl = self.pl
        return {i for i in range(self.npieces)
                if hashlib.sha1(data[i * pl:i * pl + self.piece_size(i)])
                .digest() == self.meta.hashes[i]}

    def file_pieces(self, rel):
        """Pieces holding bytes of the file NAME/rel (or NAME)."""
        for p, off, size in self.layout:
            if p == rel or p == self.name + "/" + str(rel):
                return helpers.pieces_touching(off, size, self.pl)
        raise KeyError(rel)

    def bytes_of(self, pieces):
        return sum(self.piece_size(i) for i in pieces)


# --- resume records ---------------------------------------------------------

def state_home():
    return os.environ["XDG_STATE_HOME"]


def record_path(ih_hex, state=None, out=None, name=None):
    """The record of the torrent: resume/HEX-KEY.resume, KEY the first 16
    hex digits of the SHA-1 of the data's real path (OUT/NAME).  Without
    out, the newest record of the torrent (or a path that does not
    exist)."""
    folder = os.path.join(state or state_home(), "gtorrent", "resume")
    if out is not None:
        key = hashlib.sha1(("%s/%s" % (os.path.realpath(str(out)), name))
                           .encode()).hexdigest()[:16]
        return os.path.join(folder, "%s-%s.resume" % (ih_hex.lower(), key))
    found = glob.glob(os.path.join(folder, ih_hex.lower() + "-*.resume"))
    if not found:
        return os.path.join(folder, ih_hex.lower() + "-none.resume")
    return max(found, key=os.path.getmtime)


def _bits(b, n):
    return {i for i in range(n) if b[i // 8] & (0x80 >> (i % 8))}


class Record:
    """A resume record read back: have (set of pieces), partial ({piece:
    blocks received}), clean, raw (the decoded dict) and data (bytes)."""

    def __init__(self, data, case):
        self.data = data
        d = helpers.bdecode(data)[0]
        self.raw = d
        self.npieces = d[b"pieces"]
        self.have = _bits(d[b"have"], self.npieces)
        self.partial = {}
        for piece, bm in d[b"partial"]:
            nb = (case.piece_size(piece) + BLOCK - 1) // BLOCK \
                if piece < case.npieces else len(bm) * 8
            self.partial[piece] = len(_bits(bm, nb))
        self.clean = bool(d.get(b"clean"))
        self.info_hash = d[b"info-hash"].hex()
        self.files = d[b"files"]
        self.case = case

    @property
    def partial_blocks(self):
        return sum(self.partial.values())

    def have_bytes(self):
        return self.case.bytes_of(self.have)

    def covered_bytes(self):
        """Bytes the record says are on disk: verified pieces and the
        blocks of partial ones (the last block of the last piece may be
        short: counted whole, a bound)."""
        return self.have_bytes() + BLOCK * self.partial_blocks

    def __repr__(self):
        return "<record %s: %d of %d pieces, %d blocks of %d partial, " \
            "clean %s>" % (self.info_hash[:8], len(self.have),
                           self.npieces, self.partial_blocks,
                           len(self.partial), self.clean)


def read_record(case, state=None):
    """The record of case's torrent, or None when there is none."""
    try:
        with open(record_path(case.ih, state), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return Record(data, case)


def encode_record(raw):
    """A decoded record (dict with bytes keys) encoded again."""
    return helpers.bencode(raw)


# --- what gtorrent prints ---------------------------------------------------

def resumed(text):
    """(have, pieces, blocks, partial) of the "no data check" line, or
    None."""
    m = RESUMED_RE.search(text)
    return tuple(int(x) for x in m.groups()) if m else None


def checked(text):
    """(have, pieces) of the "N of M pieces already here" line, or None."""
    m = CHECKED_RE.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


# --- processes --------------------------------------------------------------

@contextlib.contextmanager
def environ(**kw):
    """os.environ with kw set (None: unset) for the processes started
    inside (peers.GtProc copies os.environ)."""
    old = {k: os.environ.get(k) for k in kw}
    try:
        for k, v in kw.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def gt_seed(net, case, rate="1M", tag="seeder", src=None, extra=()):
    """`gtorrent seed` of case's data at rate (a --max-upload-rate
    value), with a state folder of its own (its resume record is not the
    leecher's).  Returns (proc, port) once it listens."""
    state = os.path.join(case.tmp, "state-" + tag)
    os.makedirs(state, exist_ok=True)
    port = peers.free_port()
    args = ["seed", "--no-tracker", "-p", port, "-o", src or case.src]
    if rate:
        args += ["--max-upload-rate", rate]
    with environ(XDG_STATE_HOME=state):
        g = net.gt(*(args + list(extra) + [case.torrent]), tag=tag)
    assert peers.wait_listening(port, 20, g.alive), peers.why(
        "gtorrent seed does not listen", g)
    return g, port


def proc_io(pid, key="wchar"):
    """A counter of /proc/PID/io (wchar: bytes gtorrent wrote with
    write(2)/pwrite(2): its file data, its few lines and records), or
    None once it is gone."""
    try:
        with open("/proc/%d/io" % pid) as f:
            for ln in f:
                k, v = ln.split(":")
                if k == key:
                    return int(v)
    except (OSError, ValueError):
        return None
    return None
