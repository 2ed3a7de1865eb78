"""Processes and peers for gtorrent's transfer tests, all on 127.0.0.1.

- free_port(): a port free for TCP and UDP on 127.0.0.1, from this test
  worker's own block of ports (ports.py).
- Opentracker: an opentracker process (HTTP + UDP on one port) with scrape.
- LtPeer: a python-libtorrent 2.0 session holding one torrent, loopback
  only, DHT/LSD/UPnP/NAT-PMP/uTP off, optional rate limits that also apply
  to loopback peers.
- GtProc: one gtorrent process, output to files, summary line parsed.
- ScriptedPeer: a tiny threaded BitTorrent peer (listens, or connects out)
  that does the handshake and then runs a script: an honest or corrupt
  seeder, one that hangs up in the middle of a piece, one that never
  answers, or one that sends something hostile.
- Net: owns all of the above for one test and stops each by PID/handle in
  reverse order at teardown.

Every wait here has a deadline; nothing waits forever.
"""

import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import traceback
import urllib.parse
import urllib.request

import helpers
import ports

LOOPBACK = "127.0.0.1"
BLOCK = 16 * 1024

# peer wire message ids (BEP 3)
CHOKE, UNCHOKE, INTERESTED, NOT_INTERESTED = 0, 1, 2, 3
HAVE, BITFIELD, REQUEST, PIECE, CANCEL, PORT = 4, 5, 6, 7, 8, 9
PSTR = b"BitTorrent protocol"
MAX_MSG = 1 << 20          # what a scripted peer accepts from gtorrent


def free_port(udp_too=False):
    """A port nobody uses now, for TCP and UDP on 127.0.0.1, from this
    test worker's own block (ports.py: collision-free under xdist)."""
    return ports.free_port(LOOPBACK)


def wait_listening(port, timeout=10.0, alive=None):
    """True once something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def why(*parts):
    """An assertion message: each part on its own lines, in full."""
    return "\n".join(p if isinstance(p, str) else
                     (p.describe() if hasattr(p, "describe") else repr(p))
                     for p in parts)


def wait_until(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


# --- torrents and payloads --------------------------------------------------

class Meta:
    """What a scripted peer needs to know of a v1 torrent and its data."""

    def __init__(self, torrent_bytes, payload=None):
        meta, spans = helpers.bdecode(torrent_bytes)
        s, e = spans["info"]
        self.torrent = torrent_bytes
        self.raw_info = torrent_bytes[s:e]
        self.info_hash = hashlib.sha1(self.raw_info).digest()
        info = meta[b"info"]
        self.name = info[b"name"].decode("utf-8")
        self.piece_length = info[b"piece length"]
        hs = info[b"pieces"]
        self.hashes = [hs[i:i + 20] for i in range(0, len(hs), 20)]
        self.npieces = len(self.hashes)
        if b"files" in info:
            self.files = [(b"/".join(f[b"path"]).decode("utf-8"),
                           f[b"length"], b"p" in f.get(b"attr", b""))
                          for f in info[b"files"]]
            self.single = False
        else:
            self.files = [(None, info[b"length"], False)]
            self.single = True
        self.total = sum(f[1] for f in self.files)
        self.payload = payload

    def load(self, base):
        """Reads the payload (pads as zeros) from base/name."""
        parts = []
        for rel, size, pad in self.files:
            if pad:
                parts.append(bytes(size))
                continue
            p = os.path.join(str(base), self.name)
            if rel is not None:
                p = os.path.join(p, *rel.split("/"))
            with open(p, "rb") as f:
                parts.append(f.read())
        self.payload = b"".join(parts)
        assert len(self.payload) == self.total
        return self

    def piece_size(self, i):
        if i == self.npieces - 1:
            return self.total - i * self.piece_length
        return self.piece_length

    def block(self, index, begin, length):
        off = index * self.piece_length + begin
        return self.payload[off:off + length]

    def bitfield(self, have=None):
        """Bitfield bytes; have is a set of pieces (default: all)."""
        b = bytearray((self.npieces + 7) // 8)
        for i in range(self.npieces):
            if have is None or i in have:
                b[i // 8] |= 0x80 >> (i % 8)
        return bytes(b)

    def without_trackers(self):
        """The same torrent (same info-hash) with no announce keys."""
        return b"d4:info" + self.raw_info + b"e"


def piece_hashes(payload, piece_length):
    """SHA-1 of each piece of payload."""
    return [hashlib.sha1(payload[i:i + piece_length]).digest()
            for i in range(0, len(payload), piece_length)]


def check_hashes(meta):
    """The scripted peer's payload matches the torrent."""
    assert piece_hashes(meta.payload, meta.piece_length) == meta.hashes


def compare_download(src_base, out_base, name, files):
    """Every file of the torrent under out_base equals src_base, byte for
    byte; no file outside the torrent (pad files aside) is there.
    files as helpers.make_payload returns them."""
    want = helpers.payload_paths(name, files)
    for rel in want:
        a = os.path.join(str(src_base), *rel.split("/"))
        b = os.path.join(str(out_base), *rel.split("/"))
        assert os.path.isfile(b), "missing in download: %s" % rel
        with open(a, "rb") as fa, open(b, "rb") as fb:
            da, db = fa.read(), fb.read()
        assert len(da) == len(db), "%s: %d bytes, want %d" % (
            rel, len(db), len(da))
        if da != db:
            k = next(i for i in range(len(da)) if da[i] != db[i])
            raise AssertionError("%s differs first at byte %d" % (rel, k))
    got = set()
    root = os.path.join(str(out_base), name)
    if os.path.isdir(root):
        for d, _, fs in os.walk(root):
            for f in fs:
                rel = os.path.relpath(os.path.join(d, f), str(out_base))
                got.add(rel.replace(os.sep, "/"))
    elif os.path.isfile(root):
        got.add(name)
    extra = {p for p in got - set(want) if "/.pad/" not in p}
    assert not extra, "unexpected files in download: %s" % sorted(extra)


# --- opentracker ------------------------------------------------------------

class Opentracker:
    """opentracker on 127.0.0.1:PORT for HTTP and UDP.

    Debian's opentracker is built with a whitelist: it refuses every
    torrent not listed.  So the port is chosen first (torrents need the
    announce URL), then start(info_hash, ...) runs it with the whitelist.
    It chroots to workdir and drops to nobody when run as root.
    """

    def __init__(self, exe, workdir):
        self.exe = exe
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        self.port = free_port(udp_too=True)
        self.proc = None
        self.log = None

    def start(self, *info_hashes):
        wl = os.path.join(self.workdir, "whitelist.txt")
        with open(wl, "w") as f:
            for ih in info_hashes:
                f.write((ih.hex() if isinstance(ih, bytes) else ih) + "\n")
        os.chmod(wl, 0o644)
        self.log = open(os.path.join(self.workdir, "opentracker.log"), "wb")
        self.proc = subprocess.Popen(
            [self.exe, "-i", LOOPBACK, "-p", str(self.port), "-P",
             str(self.port), "-d", self.workdir, "-w", "whitelist.txt"],
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        if not wait_listening(self.port, 10,
                              alive=lambda: self.proc.poll() is None):
            self.stop()
            raise RuntimeError("opentracker did not start on %d" % self.port)
        return self

    @property
    def announce(self):
        return "http://%s:%d/announce" % (LOOPBACK, self.port)

    @property
    def announce_udp(self):
        return "udp://%s:%d/announce" % (LOOPBACK, self.port)

    def scrape(self, info_hash):
        """{'complete':, 'incomplete':, 'downloaded':} for one torrent."""
        url = "http://%s:%d/scrape?info_hash=%s" % (
            LOOPBACK, self.port, urllib.parse.quote_from_bytes(info_hash))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read()
            d = helpers.bdecode(body)[0]
        except (OSError, helpers.BencodeError):
            return {}
        t = d.get(b"files", {}).get(info_hash, {})
        return {k.decode(): v for k, v in t.items()}

    def wait_peers(self, info_hash, complete=0, incomplete=0, timeout=15):
        """Waits until the tracker counts that many seeders/leechers."""
        def ok():
            s = self.scrape(info_hash)
            return (s.get("complete", 0) >= complete and
                    s.get("incomplete", 0) >= incomplete)
        return wait_until(ok, timeout, 0.1)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()


# --- libtorrent -------------------------------------------------------------

def lt_settings(lt, port, seeder=True, **extra):
    s = lt.high_performance_seed() if seeder else lt.default_settings()
    s.update({
        "listen_interfaces": "%s:%d" % (LOOPBACK, port),
        "outgoing_interfaces": "",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "min_reconnect_time": 1,
        # gtorrent has no MSE/PE: dial in plain text (libtorrent would try
        # an encrypted handshake first), accept either
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "max_allowed_in_request_queue": 8192,
        "stop_tracker_timeout": 1,
        "tracker_completion_timeout": 5,
        "tracker_receive_timeout": 5,
        "user_agent": "lt-interop",
        "alert_mask": 0,
    })
    s.update(extra)
    return s


class LtPeer:
    """A libtorrent session with one torrent, on 127.0.0.1:port.

    upload_limit/download_limit (bytes/s) also bind loopback peers.
    magnet: start from this magnet URI instead of torrent_bytes.  Note
    that seed_mode does not make a corrupt seeder: libtorrent hashes each
    piece before serving it and leaves seed mode on a mismatch, so corrupt
    data comes from a scripted peer (seeder_script(corrupt=True)).
    """

    def __init__(self, lt, torrent_bytes, save_path, port=None,
                 upload_limit=0, download_limit=0, seeder=True,
                 seed_mode=False, settings=None, magnet=None):
        self.lt = lt
        self.port = port or free_port()
        self.save_path = str(save_path)
        os.makedirs(self.save_path, exist_ok=True)
        st = lt_settings(lt, self.port, seeder, **(settings or {}))
        st["upload_rate_limit"] = upload_limit
        st["download_rate_limit"] = download_limit
        self.ses = lt.session(st)
        if upload_limit or download_limit:
            # loopback peers are "local" and unlimited by default: put
            # every address in the global class, which has the limits
            f = lt.ip_filter()
            f.add_rule("0.0.0.0", "255.255.255.255",
                       1 << lt.session.global_peer_class_id)
            self.ses.set_peer_class_filter(f)
        if magnet is not None:
            # a magnet URI (torrent_bytes unused): metadata from peers
            atp = lt.parse_magnet_uri(magnet)
        else:
            atp = lt.add_torrent_params()
            atp.ti = lt.torrent_info(lt.bdecode(bytes(torrent_bytes)))
        atp.save_path = self.save_path
        flags = atp.flags & ~lt.torrent_flags.auto_managed
        flags &= ~lt.torrent_flags.paused
        if seed_mode:
            flags |= lt.torrent_flags.seed_mode
        atp.flags = flags
        self.h = self.ses.add_torrent(atp)

    def status(self):
        return self.h.status()

    def wait_state(self, done, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.h.status()
            if st.errc.value() != 0:
                raise AssertionError("libtorrent: %s" % st.errc.message())
            if done(st):
                return st
            time.sleep(0.05)
        st = self.h.status()
        raise AssertionError("libtorrent on %d: not %s in %s s (state %s, "
                             "progress %.3f, peers %d)" % (
                                 self.port, what, timeout, st.state,
                                 st.progress, st.num_peers))

    def wait_seeding(self, timeout=30):
        """Checked its data and seeds (a seeder) or completed (leecher)."""
        return self.wait_state(lambda st: st.is_seeding, timeout, "seeding")

    def connect(self, port):
        self.h.connect_peer((LOOPBACK, port))

    def connect_until_peer(self, port, timeout=15):
        """Dials port every second until a peer is connected (or the
        torrent is complete: a small one may be done at once)."""
        deadline = time.monotonic() + timeout
        next_dial = 0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_dial:
                self.connect(port)
                next_dial = time.monotonic() + 1
            st = self.h.status()
            if st.num_peers > 0 or st.is_seeding:
                return True
            time.sleep(0.05)
        return False

    def reannounce(self):
        self.h.force_reannounce(0, -1)

    def uploaded(self):
        return self.h.status().total_payload_upload

    def close(self):
        if self.ses is None:
            return
        try:
            self.ses.remove_torrent(self.h)
        except RuntimeError:
            pass
        self.ses.pause()
        self.h = None
        self.ses = None


# --- gtorrent ---------------------------------------------------------------

# "12.0 MiB": a size in gtorrent's human units
HUMAN = r"[0-9.]+ (?:B|KiB|MiB|GiB|TiB|PiB|EiB)"
HUMAN_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
               "TiB": 1 << 40, "PiB": 1 << 50, "EiB": 1 << 60}
# The summary line (ui.h): groups 1 state, 2 name, 3 size (bytes), 4
# seconds, 5 download rate (human), 6 downloaded, 7 uploaded, 8 peers.
SUMMARY_RE = re.compile(
    r"^gtorrent: (done|stopped): (.*): (?:%s of )?%s \((?:\d+ of )?(\d+) "
    r"bytes\) in ([0-9.]+) s \((%s)/s\), downloaded %s \((\d+)\), "
    r"uploaded %s \((\d+)\)(?: at %s/s)?, peers (\d+)$" % (
        HUMAN, HUMAN, HUMAN, HUMAN, HUMAN, HUMAN))
# its parts SUMMARY_RE leaves out: HAVE of a stopped one, a seeder's rate
SUMMARY_HAVE_RE = re.compile(r": (?:%s) of (?:%s) \((\d+) of \d+ bytes\) "
                             r"in [0-9.]+ s \(" % (HUMAN, HUMAN))
SUMMARY_UPRATE_RE = re.compile(r"\) at (%s)/s, peers \d+$" % HUMAN)
# The notice of a torrent complete that seeds on (--seed, `gtorrent seed`)
# on stderr: the summary comes at the end only.
COMPLETE_RE = re.compile(r"^gtorrent: (.*): complete, seeding$", re.M)


def human_bytes(text):
    """ "1.5 MiB" -> 1572864.0 (as shown: rounded)."""
    v, unit = text.split()
    return float(v) * HUMAN_UNITS[unit]


def parse_summary(text):
    """The last summary line of stdout as a dict, or None: state, name,
    size (bytes), seconds, rate (MiB/s, the download's), downloaded,
    uploaded, peers; have (verified bytes: size when done), up_rate (a
    seeder's, MiB/s, else None)."""
    found = None
    for ln in text.splitlines():
        ln = ln.rstrip("\r")
        m = SUMMARY_RE.match(ln)
        if m:
            h = SUMMARY_HAVE_RE.search(ln)
            u = SUMMARY_UPRATE_RE.search(ln)
            found = {"state": m.group(1), "name": m.group(2),
                     "size": int(m.group(3)), "seconds": float(m.group(4)),
                     "rate": human_bytes(m.group(5)) / (1 << 20),
                     "downloaded": int(m.group(6)),
                     "uploaded": int(m.group(7)),
                     "peers": int(m.group(8)),
                     "have": int(h.group(1)) if h and m.group(1) ==
                     "stopped" else int(m.group(3)),
                     "up_rate": human_bytes(u.group(1)) / (1 << 20)
                     if u else None}
    return found


class GtProc:
    """One gtorrent process; stdout/stderr go to files in workdir."""

    def __init__(self, exe, args, workdir, tag):
        self.args = [exe] + helpers.gt_args(args)    # never the public DHT
        self.tag = tag
        workdir = str(workdir)
        os.makedirs(workdir, exist_ok=True)
        self.out_path = os.path.join(workdir, tag + ".stdout")
        self.err_path = os.path.join(workdir, tag + ".stderr")
        env = dict(os.environ)
        env.setdefault("LC_ALL", "C.UTF-8")
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.t0 = time.monotonic()
        self.t1 = None
        self.proc = subprocess.Popen(self.args, cwd=workdir, env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    @property
    def rc(self):
        return self.proc.poll()

    @property
    def elapsed(self):
        return (self.t1 or time.monotonic()) - self.t0

    def _read(self, path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def out(self):
        return self._read(self.out_path)

    @property
    def err(self):
        return self._read(self.err_path)

    def summary(self):
        return parse_summary(self.out)

    def wait(self, timeout):
        """Exit code; on timeout kills it and raises AssertionError."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not finish in %s s\n%s" % (
                self.tag, timeout, self.describe()))
        self.t1 = self.t1 or time.monotonic()
        return rc

    def interrupt(self, timeout=15):
        """SIGINT, then waits; kills on timeout (AssertionError)."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.t1 = self.t1 or time.monotonic()

    def close(self):
        self.kill()
        self._out.close()
        self._err.close()

    def describe(self, lines=40):
        def tail(s):
            return "\n".join(s.splitlines()[-lines:])
        return ("<%s rc=%r %.1fs: %s\n--- stdout:\n%s\n--- stderr (tail):\n"
                "%s>" % (self.tag, self.proc.poll(), self.elapsed,
                         " ".join(self.args), tail(self.out),
                         tail(self.err)))

    def __repr__(self):
        return self.describe()

    def err_lines_with(self, needle):
        return [ln for ln in self.err.splitlines() if needle in ln]


# --- scripted peers ---------------------------------------------------------

class PeerClosed(Exception):
    """The other side closed or reset the connection."""


class Stopped(Exception):
    """The test is over: the script must end."""


def handshake_bytes(info_hash, peer_id, reserved=bytes(8)):
    return bytes([len(PSTR)]) + PSTR + reserved + info_hash + peer_id


def msg(mid, payload=b""):
    return struct.pack(">IB", 1 + len(payload), mid) + payload


class Conn:
    """One connection of a ScriptedPeer, seen by its script."""

    def __init__(self, peer, sock, outgoing, n):
        self.peer = peer
        self.meta = peer.meta
        self.sock = sock
        self.outgoing = outgoing
        self.n = n
        self.local_port = sock.getsockname()[1]
        self.remote = sock.getpeername()
        self.closed_by_remote = None       # time when EOF/RST came
        self.gt_alive_at_close = None
        self.remote_handshake = None
        self.sent_bad = None               # time the hostile bytes went

    # addresses gtorrent sees us by, for grepping its log
    @property
    def addr_as_seen(self):
        if self.outgoing:
            return "%s:%d" % (LOOPBACK, self.local_port)
        return "%s:%d" % (LOOPBACK, self.peer.port)

    def log(self, text):
        self.peer.event(self.n, text)

    def describe(self, t0):
        def rel(t):
            return None if t is None else round(t - t0, 3)
        return ("conn %d %s %s: bad sent at %s, closed by remote at %s "
                "(gtorrent alive: %s)" % (
                    self.n, "to" if self.outgoing else "from",
                    self.addr_as_seen, rel(self.sent_bad),
                    rel(self.closed_by_remote), self.gt_alive_at_close))

    def _wait_readable(self, deadline):
        while True:
            if self.peer.stopping.is_set():
                raise Stopped()
            left = 0.2
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
                if left <= 0:
                    raise socket.timeout()
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                return

    def _closed(self):
        if self.closed_by_remote is None:
            self.closed_by_remote = time.monotonic()
            alive = self.peer.alive
            self.gt_alive_at_close = alive() if alive else None
            self.log("closed by remote")
        raise PeerClosed()

    def recv_exact(self, n, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        parts = []
        while n > 0:
            self._wait_readable(deadline)
            try:
                b = self.sock.recv(min(n, 1 << 16))
            except (ConnectionResetError, BrokenPipeError):
                self._closed()
            if not b:
                self._closed()
            parts.append(b)
            n -= len(b)
        return b"".join(parts)

    def send(self, data):
        if self.peer.stopping.is_set():
            raise Stopped()
        try:
            self.sock.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            self._closed()

    def send_msg(self, mid, payload=b""):
        self.send(msg(mid, payload))

    def recv_msg(self, timeout=None):
        """(id, payload); id None for a keep-alive."""
        n = struct.unpack(">I", self.recv_exact(4, timeout))[0]
        if n == 0:
            return None, b""
        if n > MAX_MSG:
            raise AssertionError("gtorrent sent a %d-byte message" % n)
        body = self.recv_exact(n, 30)
        return body[0], body[1:]

    def handshake(self, info_hash=None, reserved=bytes(8), timeout=10):
        """Exchanges handshakes (ours first when we dialled); returns
        theirs as (reserved, info_hash, peer_id)."""
        ours = handshake_bytes(info_hash or self.meta.info_hash,
                               self.peer.peer_id, reserved)
        if self.outgoing:
            self.send(ours)
        h = self.read_handshake(timeout)
        if not self.outgoing:
            self.send(ours)
        return h

    def read_handshake(self, timeout=10):
        b = self.recv_exact(68, timeout)
        if b[0] != 19 or b[1:20] != PSTR:
            raise AssertionError("bad handshake from gtorrent: %r" % b)
        self.remote_handshake = (b[20:28], b[28:48], b[48:68])
        if b[28:48] != self.meta.info_hash:
            raise AssertionError("gtorrent sent info-hash %s" %
                                 b[28:48].hex())
        return self.remote_handshake

    def wait_for(self, mid, timeout):
        """Reads messages until one with id mid; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                got, _ = self.recv_msg(left)
            except socket.timeout:
                return False
            if got == mid:
                return True

    def send_bad(self, data):
        """Sends hostile bytes, noting when."""
        self.sent_bad = time.monotonic()
        self.log("hostile bytes sent")
        self.send(data)

    def wait_closed(self, timeout):
        """Reads and drops whatever comes until the remote closes; True if
        it closed within timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._wait_readable(deadline)
                try:
                    b = self.sock.recv(1 << 16)
                except (ConnectionResetError, BrokenPipeError):
                    b = b""
                if not b:
                    try:
                        self._closed()
                    except PeerClosed:
                        return True
        except socket.timeout:
            return False

    def idle(self):
        """Keeps the connection open, reading and ignoring, until the test
        ends or the remote closes."""
        while True:
            try:
                self.recv_msg(None)
            except PeerClosed:
                return

    def serve(self, corrupt=False, hangup_after=None, stall=False,
              delay=0.0):
        """A seeder's loop: bitfield, unchoke, answer each REQUEST.

        corrupt: answer with random bytes of the right length.
        hangup_after: after that many blocks on this connection, send half
        of the next PIECE message and close the connection.  stall: read
        requests but never answer.  delay: sleep that long before each
        answer.
        """
        self.send_msg(BITFIELD, self.meta.bitfield())
        self.send_msg(UNCHOKE)
        rnd = random.Random(self.n)
        served = 0
        while True:
            mid, pl = self.recv_msg(None)
            if mid != REQUEST:
                continue
            if len(pl) != 12:
                raise AssertionError("REQUEST of %d bytes" % len(pl))
            index, begin, length = struct.unpack(">III", pl)
            self.peer.count("requests")
            if stall:
                continue
            if (index >= self.meta.npieces or length > BLOCK or
                    begin + length > self.meta.piece_size(index)):
                raise AssertionError("gtorrent asked for a bad block %r" %
                                     ((index, begin, length),))
            if corrupt:
                data = rnd.randbytes(length)
            else:
                data = self.meta.block(index, begin, length)
            m = msg(PIECE, struct.pack(">II", index, begin) + data)
            if hangup_after is not None and served >= hangup_after:
                self.send(m[:len(m) // 2])
                self.peer.count("hangups")
                self.log("hanging up mid-piece %d" % index)
                return
            if delay:
                time.sleep(delay)
            self.send(m)
            served += 1
            self.peer.count("blocks")
            self.peer.count("bytes", length)


class ScriptedPeer:
    """A scripted peer.  script(conn) runs once per connection in its own
    thread; listen=True accepts on 127.0.0.1:self.port; connect_to(port)
    dials gtorrent.  alive, when given, is called when the remote closes
    (to tell a drop by gtorrent from gtorrent's exit)."""

    def __init__(self, meta, script, name="scripted", listen=True,
                 alive=None):
        self.meta = meta
        self.script = script
        self.name = name
        self.alive = alive
        self.peer_id = b"-PY0001-" + os.urandom(12)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.events = []
        self.errors = []
        self.conns = []
        self.stats = {"blocks": 0, "bytes": 0, "requests": 0,
                      "hangups": 0, "connections": 0}
        self.threads = []
        self.lsock = None
        self.port = None
        self.t0 = time.monotonic()
        if listen:
            self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.lsock.bind((LOOPBACK, 0))
            self.lsock.listen(16)
            self.port = self.lsock.getsockname()[1]
            self._spawn(self._accept_loop)

    @property
    def addr(self):
        return "%s:%d" % (LOOPBACK, self.port)

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True,
                             name="%s" % self.name)
        with self.lock:
            self.threads.append(t)
        t.start()

    def event(self, n, text):
        with self.lock:
            self.events.append((round(time.monotonic() - self.t0, 3), n,
                                text))

    def count(self, key, k=1):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + k

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                # stop() may close the socket between two selects
                r, _, _ = select.select([self.lsock], [], [], 0.2)
                if not r:
                    continue
                s, _ = self.lsock.accept()
            except (OSError, ValueError):
                return
            self._spawn(self._run, s, False)

    def connect_to(self, port, timeout=10.0):
        """Dials 127.0.0.1:port (retrying until it listens) in a thread."""
        def dial():
            deadline = time.monotonic() + timeout
            while not self.stopping.is_set():
                try:
                    s = socket.create_connection((LOOPBACK, port),
                                                 timeout=1)
                except OSError:
                    if time.monotonic() > deadline:
                        self.event(-1, "could not connect to %d" % port)
                        return
                    time.sleep(0.05)
                    continue
                self._run(s, True)
                return
        self._spawn(dial)

    def _run(self, sock, outgoing):
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            n = len(self.conns)
            c = Conn(self, sock, outgoing, n)
            self.conns.append(c)
            self.stats["connections"] += 1
        self.event(n, "connection %s %s:%d" % (
            "to" if outgoing else "from", *c.remote))
        try:
            self.script(c)
        except (PeerClosed, Stopped):
            pass
        except Exception:
            self.errors.append(traceback.format_exc())
            self.event(n, "script error")
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        if self.lsock is not None:
            try:
                self.lsock.close()
            except OSError:
                pass
        with self.lock:
            threads = list(self.threads)
        for t in threads:
            t.join(2)

    def describe(self):
        """Stats, connections and events, times relative to the start."""
        conns = "\n".join("  " + c.describe(self.t0) for c in self.conns[:20])
        return "%s on %s: stats %r\n%s\nevents %r\nerrors %s" % (
            self.name, self.addr if self.port else "-", self.stats, conns,
            self.events[-30:], "\n".join(self.errors[-3:]))

    def __repr__(self):
        return self.describe()


# scripts ---------------------------------------------------------------------

def seeder_script(corrupt=False, hangup_after=None, stall=False, delay=0.0):
    def script(c):
        c.handshake()
        c.serve(corrupt=corrupt, hangup_after=hangup_after, stall=stall,
                delay=delay)
    return script


# The hostile behaviours: after a normal start (or none), one message that
# a correct client must refuse; then the script waits for gtorrent to hang
# up.  MUST_DROP says whether hanging up is required (an unrequested block
# of the right size may also just be ignored).
HOSTILE = {
    "oversized-length": True,       # length prefix 0xFFFFFFF0
    "have-out-of-range": True,      # HAVE piece == piece count
    "request-out-of-range": True,   # REQUEST piece == piece count
    "piece-out-of-range": True,     # PIECE for piece == piece count
    "piece-unrequested": False,     # PIECE for a block never requested
    "bitfield-wrong-length": True,  # one byte too many
    "garbage-handshake": True,      # 68 bytes, not a handshake
    "wrong-infohash": True,         # a handshake for another torrent
}
JUNK = bytes(range(0x42, 0x42 + 68))


def hostile_script(kind, drop_wait=8.0):
    def script(c):
        m = c.meta
        if kind in ("garbage-handshake", "wrong-infohash"):
            if not c.outgoing:
                c.read_handshake()     # gtorrent dialled: it speaks first
            if kind == "garbage-handshake":
                c.send_bad(JUNK)
            else:
                other = bytes(x ^ 0x5A for x in m.info_hash)
                c.send_bad(handshake_bytes(other, c.peer.peer_id))
        else:
            c.handshake()
            half = set(range(0, m.npieces, 2))
            if kind == "oversized-length":
                c.send_bad(struct.pack(">IB", 0xFFFFFFF0, PIECE) +
                           bytes(4096))
            elif kind == "have-out-of-range":
                c.send_msg(BITFIELD, m.bitfield(half))
                c.send_bad(msg(HAVE, struct.pack(">I", m.npieces)))
            elif kind == "bitfield-wrong-length":
                c.send_bad(msg(BITFIELD, b"\xff" * (len(m.bitfield()) + 1)))
            elif kind == "request-out-of-range":
                c.send_msg(BITFIELD, m.bitfield(half))
                c.send_msg(INTERESTED)
                c.wait_for(UNCHOKE, 2.0)
                c.send_bad(msg(REQUEST, struct.pack(">III", m.npieces, 0,
                                                    BLOCK)))
            elif kind == "piece-out-of-range":
                c.send_msg(BITFIELD, m.bitfield())
                c.send_msg(UNCHOKE)
                c.wait_for(REQUEST, 3.0)
                c.send_bad(msg(PIECE, struct.pack(">II", m.npieces, 0) +
                               bytes(BLOCK)))
            elif kind == "piece-unrequested":
                c.send_msg(BITFIELD, m.bitfield(set()))
                c.send_bad(msg(PIECE, struct.pack(">II", 1, 0) +
                               random.Random(1).randbytes(BLOCK)))
            else:
                raise ValueError(kind)
        c.wait_closed(drop_wait)
    return script


# --- one test's processes ---------------------------------------------------

class Net:
    """Everything one test starts; stop() ends it all, newest first."""

    def __init__(self, tmp_path, gtorrent=None, opentracker=None, lt=None):
        self.tmp = tmp_path
        self.gtorrent = gtorrent
        self.opentracker_exe = opentracker
        self.lt = lt
        self.items = []
        self.ntag = 0

    def add(self, x, stop):
        """Registers x for teardown: stop(x) runs at the end of the test."""
        self.items.append((x, stop))
        return x

    def tracker(self):
        assert self.opentracker_exe, "opentracker fixture needed"
        return self.add(Opentracker(self.opentracker_exe,
                                     self.tmp / "tracker"),
                         lambda t: t.stop())

    def lt_peer(self, torrent_bytes, save_path, **kw):
        assert self.lt is not None, "lt fixture needed"
        return self.add(LtPeer(self.lt, torrent_bytes, save_path, **kw),
                         lambda p: p.close())

    def gt(self, *args, tag=None):
        assert self.gtorrent, "gtorrent fixture needed"
        self.ntag += 1
        tag = tag or "gt%d" % self.ntag
        return self.add(GtProc(self.gtorrent, args, self.tmp, tag),
                         lambda p: p.close())

    def scripted(self, meta, script, name="scripted", listen=True,
                 alive=None):
        return self.add(ScriptedPeer(meta, script, name, listen, alive),
                         lambda p: p.stop())

    def stop(self):
        errors = []
        while self.items:
            x, stop = self.items.pop()
            try:
                stop(x)
            except Exception as e:      # keep stopping the others
                errors.append(repr(e))
        return errors


def which_opentracker():
    return shutil.which("opentracker")
