"""Magnet links on loopback: URIs, the extension protocol on the wire for
scripted peers, magnet leechers of the reference clients, a throttling
relay and a look at who is connected to whom (issue 9's tests).

- magnet_uri(): builds magnet:? URIs (hex or base32 btih, dn, tr, x.pe).
- ext_script(): a peers.ScriptedPeer script speaking BEP 10 with
  ut_metadata (BEP 9) and ut_pex (BEP 11): honest, lying about
  metadata_size, answering with random bytes, sending PEX lists, and
  optionally seeding the data too.
- LtMagnet, Aria2Magnet, TransmissionMagnet: clients.py drivers whose
  leecher starts from a magnet URI instead of a .torrent.
- Relay: a TCP relay to one port that slows down the connections a test
  picks (gtorrent has no rate limit of its own).
- tcp_links()/linked(): established TCP connections between two
  processes, read from /proc.

Nothing here contacts an address outside 127.0.0.0/8.
"""

import base64
import os
import random
import select
import socket
import struct
import threading
import time
import urllib.parse

import clients
import helpers
import peers
from peers import BITFIELD, INTERESTED, REQUEST, UNCHOKE, msg
from peers import PIECE as PIECE_MSG

EXTENDED = 20                   # BEP 10 message id
EXT_RESERVED = bytes([0, 0, 0, 0, 0, 0x10, 0, 0])   # reserved[5] & 0x10
META_PIECE = 16 * 1024          # BEP 9 piece size
# the ids this side assigns in its extended handshake (BEP 10: a message
# to us carries OUR id; a message from us carries THEIRS)
OUR_UT_METADATA = 3
OUR_UT_PEX = 1
META_REQUEST, META_DATA, META_REJECT = 0, 1, 2


# --- URIs -------------------------------------------------------------------

def b32(info_hash):
    """The 32-character base32 form of a 20-byte info-hash."""
    return base64.b32encode(info_hash).decode("ascii")


def q(s):
    """Percent-encodes everything but RFC 3986 unreserved characters."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    return urllib.parse.quote_from_bytes(s, safe="")


def magnet_uri(info_hash, dn=None, trackers=(), peer_addrs=(),
               base32=False, extra=()):
    """magnet:?xt=urn:btih:...&dn=...&tr=...&x.pe=...

    info_hash is 20 bytes (or 40 hex); peer_addrs are "127.0.0.1:P"
    strings or ports; extra is [(key, raw value)] appended as given."""
    if isinstance(info_hash, str):
        info_hash = bytes.fromhex(info_hash)
    xt = b32(info_hash) if base32 else info_hash.hex()
    parts = ["xt=urn:btih:" + xt]
    if dn is not None:
        parts.append("dn=" + q(dn))
    for t in trackers:
        parts.append("tr=" + q(t))
    for p in peer_addrs:
        if isinstance(p, int):
            p = "%s:%d" % (peers.LOOPBACK, p)
        parts.append("x.pe=" + p)
    for k, v in extra:
        parts.append("%s=%s" % (k, v))
    return "magnet:?" + "&".join(parts)


def info_dict_bytes(torrent_bytes):
    """The raw info dictionary of a .torrent (what ut_metadata carries)."""
    return peers.Meta(torrent_bytes).raw_info


def meta_pieces(size):
    return (size + META_PIECE - 1) // META_PIECE


# --- BEP 10 on the wire -----------------------------------------------------

def bdecode_prefix(b):
    """(value, end): one bencoded value at the start of b (ut_metadata
    data messages carry raw bytes after it)."""
    try:
        return helpers._bdecode_at(b, 0, {}, None)
    except (IndexError, ValueError) as e:
        raise helpers.BencodeError(str(e))


def ext_msg(ext_id, payload):
    """An EXTENDED message; payload is a dict (bencoded here) or bytes
    (sent as they are: malformed payloads)."""
    if not isinstance(payload, (bytes, bytearray)):
        payload = helpers.bencode(payload)
    return msg(EXTENDED, bytes([ext_id]) + bytes(payload))


def compact4(addrs):
    """Compact IPv4 peers from [(ip, port)]."""
    return b"".join(socket.inet_aton(ip) + struct.pack(">H", port)
                    for ip, port in addrs)


class ExtState:
    """What one scripted connection learnt from gtorrent's side."""

    def __init__(self):
        self.handshake = None        # gtorrent's extended handshake (dict)
        self.m = {}                  # its name -> id map
        self.meta_requests = []      # pieces it asked for, in order
        self.pex_sent = 0


def ext_script(info=None, metadata_size="auto", mode="honest",
               seed=False, pex=(), other_ext=None):
    """A script for peers.ScriptedPeer: handshake with the extension bit,
    an extended handshake offering ut_metadata and ut_pex, then a loop
    that answers what gtorrent asks.

    info: the raw info dict served over ut_metadata (None: we have none,
      every request is rejected).
    metadata_size: the value in our handshake ("auto": len(info), None:
      left out; any other value is sent as it is, however absurd).
    mode: "honest" (the pieces of info), "random" (random bytes of the
      right lengths), "reject" (reject every request).
    seed: also send a full bitfield, unchoke and answer REQUESTs from
      peer.meta's payload (sent right after the handshakes, before
      gtorrent can know the piece count).
    pex: ut_pex payloads (dicts or raw bytes) sent once gtorrent's
      extended handshake names its ut_pex id.
    Each connection's ExtState is appended to peer.ext (a list).
    """
    def script(c):
        st = ExtState()
        with c.peer.lock:
            if not hasattr(c.peer, "ext"):
                c.peer.ext = []
            c.peer.ext.append(st)
        c.handshake(reserved=EXT_RESERVED)
        theirs = c.remote_handshake[0]
        if not theirs[5] & 0x10:
            raise AssertionError("gtorrent's handshake lacks the extension "
                                 "bit (reserved %s)" % theirs.hex())
        hs = {"m": {"ut_metadata": OUR_UT_METADATA, "ut_pex": OUR_UT_PEX},
              "v": "py-interop 1.0", "reqq": 250}
        if c.peer.port:
            hs["p"] = c.peer.port
        size = len(info) if (metadata_size == "auto" and info) else \
            metadata_size
        if size is not None and size != "auto":
            hs["metadata_size"] = size
        if other_ext:
            hs.update(other_ext)
        c.send(ext_msg(0, hs))
        if seed:
            c.send_msg(BITFIELD, c.meta.bitfield())
            c.send_msg(UNCHOKE)
        rnd = random.Random(c.n)
        while True:
            mid, pl = c.recv_msg(None)
            if mid == EXTENDED:
                if not pl:
                    raise AssertionError("empty EXTENDED message")
                eid = pl[0]
                d, end = bdecode_prefix(pl[1:])
                if eid == 0:
                    st.handshake = d
                    st.m = d.get(b"m", {}) if isinstance(d, dict) else {}
                    c.log("extended handshake %r" % (st.m,))
                    if pex:
                        pid = st.m.get(b"ut_pex")
                        if not isinstance(pid, int) or pid <= 0:
                            raise AssertionError(
                                "gtorrent offers no ut_pex: %r" % (d,))
                        for p in pex:
                            c.send_bad(ext_msg(pid, p))
                            st.pex_sent += 1
                elif eid == OUR_UT_METADATA:
                    _answer_metadata(c, st, d, info, size, mode, rnd)
                elif eid == OUR_UT_PEX:
                    c.peer.count("pex_received")
                else:
                    raise AssertionError("EXTENDED with id %d we never "
                                         "assigned" % eid)
            elif mid == REQUEST and seed:
                index, begin, length = struct.unpack(">III", pl)
                c.peer.count("requests")
                data = c.meta.block(index, begin, length)
                c.send_msg(PIECE_MSG, struct.pack(">II", index, begin) + data)
                c.peer.count("blocks")
                c.peer.count("bytes", length)
            elif mid == INTERESTED and seed:
                c.send_msg(UNCHOKE)
    return script


def _answer_metadata(c, st, d, info, size, mode, rnd):
    if not isinstance(d, dict):
        raise AssertionError("ut_metadata payload is not a dict: %r" % (d,))
    t = d.get(b"msg_type")
    piece = d.get(b"piece")
    if t != META_REQUEST:
        c.peer.count("meta_other")
        return
    st.meta_requests.append(piece)
    c.peer.count("meta_requests")
    c.log("metadata request for piece %r" % (piece,))
    tid = st.m.get(b"ut_metadata")
    if not isinstance(tid, int) or tid <= 0:
        raise AssertionError("gtorrent asked for metadata but its handshake "
                             "has no ut_metadata id: %r" % (st.handshake,))
    n = meta_pieces(len(info)) if info else 0
    if info is None or mode == "reject" or not isinstance(piece, int) or \
            not 0 <= piece < n:
        c.send(ext_msg(tid, {"msg_type": META_REJECT, "piece": piece}))
        return
    chunk = info[piece * META_PIECE:(piece + 1) * META_PIECE]
    if mode == "random":
        chunk = rnd.randbytes(len(chunk))
        c.sent_bad = c.sent_bad or time.monotonic()
    head = helpers.bencode({"msg_type": META_DATA, "piece": piece,
                            "total_size": len(info)})
    c.send(msg(EXTENDED, bytes([tid]) + head + chunk))
    c.peer.count("meta_pieces_sent")


# --- reference clients leeching a magnet ------------------------------------

class LtMagnet(clients.Libtorrent):
    """libtorrent (in this process) leeching from a magnet URI given as
    the driver's `torrent`; its x.pe peers are dialled at once."""

    name = "libtorrent"

    def _start(self, save, seeder, role):
        import libtorrent as lt
        assert not seeder, "a magnet seeder makes no sense"
        self.role = role
        self.t0 = time.monotonic()
        self.lt_peer = peers.LtPeer(lt, None, save, port=self.port,
                                    seeder=False, magnet=self.torrent,
                                    settings=getattr(self, "settings", None))
        return self

    def has_metadata(self):
        return self.alive() and self.lt_peer.status().has_metadata


class Aria2Magnet(clients.Aria2):
    """aria2c leeching a magnet: it fetches the metadata as a download of
    its own ([METADATA]), then follows it with the real one; it finds
    peers through the magnet's http tr= only (no x.pe, no DHT here).
    --on-bt-download-complete runs for the real download only (checked
    by the marker and the data)."""

    def leecher_args(self, out):
        return self._common(out) + [
            "--seed-time=0", "--bt-metadata-only=false",
            "--bt-save-metadata=false", "--follow-torrent=mem",
            self.torrent]


class TransmissionMagnet(clients.Transmission):
    """transmission-cli takes the magnet URI in place of the file.  It
    never dials 127.x: a seeder must dial it."""


MAGNET_LEECHERS = {"libtorrent": LtMagnet, "aria2c": Aria2Magnet,
                   "transmission": TransmissionMagnet}


# --- a relay that slows some connections down -------------------------------

class Relay:
    """Accepts on 127.0.0.1:port and relays each connection to
    127.0.0.1:target.  policy(client port) -> (label, bytes/s) is asked
    once per accepted connection: who the client is (for the test's
    eyes) and how fast the bytes from the target flow back to it (0: full
    speed).  accepted is [(time, client port, label, rate)]; a connection
    cannot be missed the way a short one can when polling /proc."""

    def __init__(self, target, policy=lambda port: (None, 0)):
        self.target = target
        self.policy = policy
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.accepted = []
        self.socks = []
        self.threads = []
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((peers.LOOPBACK, 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.t0 = time.monotonic()
        self._spawn(self._accept_loop)

    @property
    def addr(self):
        return "%s:%d" % (peers.LOOPBACK, self.port)

    def labels(self):
        with self.lock:
            return [a[2] for a in self.accepted]

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True,
                             name="relay")
        with self.lock:
            self.threads.append(t)
        t.start()

    def _accept_loop(self):
        while not self.stopping.is_set():
            r, _, _ = select.select([self.lsock], [], [], 0.2)
            if not r:
                continue
            try:
                a, addr = self.lsock.accept()
            except OSError:
                return
            label, rate = self.policy(addr[1])
            with self.lock:
                self.accepted.append((round(time.monotonic() - self.t0, 3),
                                      addr[1], label, rate))
            try:
                b = socket.create_connection((peers.LOOPBACK, self.target),
                                             timeout=5)
            except OSError:
                a.close()
                continue
            with self.lock:
                self.socks += [a, b]
            self._spawn(self._pump, a, b, 0)
            self._spawn(self._pump, b, a, rate)

    def _pump(self, src, dst, rate):
        """src -> dst; at most rate bytes/s when rate > 0."""
        t0 = time.monotonic()
        sent = 0
        try:
            while not self.stopping.is_set():
                r, _, _ = select.select([src], [], [], 0.2)
                if not r:
                    continue
                b = src.recv(4096 if rate else 1 << 16)
                if not b:
                    break
                dst.sendall(b)
                sent += len(b)
                if rate:
                    ahead = sent / rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        with self.lock:
            socks, threads = list(self.socks), list(self.threads)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        for t in threads:
            t.join(2)

    def describe(self):
        return "relay %s -> %d: accepted %r" % (self.addr, self.target,
                                               self.accepted)


# --- who is connected to whom (/proc) ---------------------------------------

def _hexaddr(s):
    hexip, hexport = s.split(":")
    raw = bytes.fromhex(hexip)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if len(raw) == 16 and raw[:12] == bytes(10) + b"\xff\xff":
        raw = raw[12:]          # ::ffff:a.b.c.d
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw)
    else:
        ip = socket.inet_ntop(socket.AF_INET6, raw)
    return ip, int(hexport, 16)


def tcp_established():
    """[(local (ip, port), remote (ip, port), inode)] of every established
    TCP connection in this network namespace."""
    out = []
    for proto in ("tcp", "tcp6"):
        try:
            with open("/proc/net/" + proto) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            col = row.split()
            if col[3] != "01":          # TCP_ESTABLISHED
                continue
            out.append((_hexaddr(col[1]), _hexaddr(col[2]), col[9]))
    return out


def inodes_of(pid):
    found = set()
    d = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(d)
    except OSError:
        return found
    for fd in fds:
        try:
            t = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            found.add(t[8:-1])
    return found


def ends_of(pid, table=None):
    """{(local, remote)} of pid's established TCP connections."""
    table = tcp_established() if table is None else table
    ino = inodes_of(pid)
    return {(l, r) for l, r, i in table if i in ino}


def local_ports(pid):
    return {l[1] for l, r in ends_of(pid)}


def linked(pid_a, pid_b, via_ports=()):
    """True when processes pid_a and pid_b hold the two ends of one TCP
    connection, or pid_a is connected to one of via_ports (a relay in
    front of pid_b)."""
    table = tcp_established()
    ea, eb = ends_of(pid_a, table), ends_of(pid_b, table)
    for l, r in ea:
        if (r, l) in eb or r[1] in via_ports:
            return True
    return False


# --- a payload, its torrent and its magnet ----------------------------------

PIECE = 32 * helpers.KIB


class Case:
    """A random payload under tmp/src, its v1 torrent (libtorrent-made;
    trackers: one tier per URL) and what a magnet needs.  kind "single"
    is one file of about 1 MiB, "multi" a folder of a few files (an odd
    last piece either way), "many" 520 small files (about 1 MiB, an info
    dict of three metadata pieces)."""

    def __init__(self, tmp_path, seed, kind="single", trackers=(),
                 piece=PIECE, size=None, name=None):
        self.tmp = tmp_path
        self.src = tmp_path / "src"
        self.src.mkdir()
        rng = random.Random(seed)
        if kind == "single":
            self.name = name or "magnet payload.bin"
            files = [(None, size or helpers.MIB + rng.randrange(1, piece))]
        elif kind == "many":
            # an info dict of about 40 KiB: three ut_metadata pieces
            self.name = name or "many files"
            files = [("dir%02d/a rather long file name, number %04d.dat" %
                      (i % 7, i), rng.randrange(1, 5000))
                     for i in range(520)]
        else:
            self.name = name or "magnet folder"
            files = [("a.bin", 300 * helpers.KIB + 3),
                     ("sub/deeper/b.dat", 500 * helpers.KIB +
                      rng.randrange(1, piece)),
                     ("sub/c.txt", rng.randrange(1, 9000)),
                     ("z last.bin", rng.randrange(1, 3 * piece))]
        self.files = helpers.make_payload(self.src, self.name, files, rng)
        self.trackers = list(trackers)
        self.torrent_bytes = helpers.lt_make(
            self.src, self.name, self.files, piece,
            trackers=[[t] for t in self.trackers])
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash
        self.info = self.meta.raw_info
        self.total = self.meta.total

    def uri(self, **kw):
        return magnet_uri(self.ih, **kw)

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)

    def check_soon(self, out, timeout=10):
        """check(), retried for a while: a client may say it completed a
        moment before its last write or rename lands."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.check(out)
                return
            except AssertionError:
                if time.monotonic() > end:
                    raise
            time.sleep(0.1)


def check_done(g, total, rc, name=None):
    """gtorrent exited 0 with a 'done' summary for total bytes (and the
    torrent's name, from its metadata, when name is given)."""
    assert rc is not None and rc >= 0, peers.why(
        "gtorrent died of signal %d" % -(rc or 0), g)
    assert rc == 0, peers.why(g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", peers.why(
        "no 'done' summary line", g)
    assert sm["size"] == total, peers.why(sm, g)
    if name is not None:
        assert sm["name"] == name, peers.why(
            "the summary names %r, the metadata says %r" % (sm["name"], name),
            g)
    return sm


def metadata_lines(err, addr=None):
    """-v lines that mention metadata (and name addr, when given)."""
    return [ln for ln in err.splitlines() if "metadata" in ln.lower() and
            (addr is None or addr in ln)]


# --- a listener nobody should reach -----------------------------------------

class Trap:
    """Listens on 127.0.0.1:port and notes every connection (Linux routes
    a connect to 0.0.0.0:port here: a peer list that says 0.0.0.0:port
    and nothing else names this port makes any connection a dial to
    0.0.0.0)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((peers.LOOPBACK, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name="trap")
        self.thread.start()

    def _loop(self):
        while not self.stopping.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            try:
                c, addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append((time.monotonic(), addr))
            c.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


def wait_gt(g, timeout, *context):
    """g.wait(timeout); on a timeout the message also describes context
    (the other peers of the test)."""
    try:
        return g.wait(timeout)
    except AssertionError as e:
        raise AssertionError(peers.why(str(e), *context)) from None


def lt_state(p):
    """One line on a peers.LtPeer, for assertion messages."""
    if p.ses is None:
        return "<libtorrent on %d: closed>" % p.port
    st = p.status()
    return ("<libtorrent on 127.0.0.1:%d: state %s, progress %.3f, peers %d, "
            "up %d, down %d>" % (p.port, st.state, st.progress, st.num_peers,
                                 st.total_payload_upload,
                                 st.total_payload_download))
