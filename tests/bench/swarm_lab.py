#!/usr/bin/python3
"""swarm_lab.py - the swarm laboratory (what tests/bench/bench-swarm.sh runs,
and what tests/interop/test_strategies.py drives at a small scale).

A whole swarm of rate-limited peers on loopback: one seed with upload u_s,
N leechers each with upload u and download d, one single-file torrent of F
bytes (256 KiB pieces) made by `gtorrent create`, an opentracker through
which the peers find each other (every peer is on 127.0.0.1 with a port of
its own; every gtorrent runs with --no-dht).  The same swarm is run with
gtorrent peers and with libtorrent peers (python3-libtorrent, one process
holding every session: upload_rate_limit / download_rate_limit, DHT, LSD,
UPnP, NAT-PMP and uTP off, listening on 127.0.0.1) and the two are shown
side by side against the fluid model's minimum distribution time (Kumar
and Ross, 2006):

    T_min = max(F/u_s, F/d, N*F/(u_s + N*u))

How it measures, the same way for both clients:
  - an observer (a passive BitTorrent peer in this process) dials every
    leecher, says it has nothing, is never interested, and records each
    BITFIELD and HAVE it is sent: each leecher's pieces over time, hence
    its finish time, its 95 % time, and the moment the leechers as a whole
    hold every piece ("the swarm holds every piece");
  - the seed's upload (protocol included) over time: for a gtorrent seed
    the bytes its TCP sockets had sent and seen acknowledged (`ss -tinp`,
    tcp_info bytes_acked), sampled every 100 ms; for a libtorrent seed
    its total_upload counter, sampled as often;
  - each leecher's bytes down/up: gtorrent's summary line (downloaded
    counts every payload byte received, duplicates included), or
    libtorrent's total_payload_download/upload (and
    total_redundant_bytes).
Leechers keep seeding once done (gtorrent --seed) until every leecher is.

Cases (BENCH_SWARM_CASES, e.g. "1,3"; default all):
  1 homogeneous  gtorrent and libtorrent swarms
  2 free-rider   one of the N leechers is a libtorrent session that
                 never unchokes anyone (unchoke_slots_limit 0,
                 allowed_fast_set_size 0: it uploads 0 bytes, yet its
                 requests go out, which a 1-byte/s rate limit would
                 throttle too); the other leechers get S regular slots
                 (BENCH_SWARM_SLOTS, 4); the rates are 2 u_s and u/2
                 (upload-bound: with u_s = u the seed is the bottleneck,
                 the leechers' upload is idle half the time and no
                 unchoke slot is worth fighting for); in the gtorrent
                 swarm with choking on and with --no-choking, and in
                 the libtorrent swarm
  3 super-seed   gtorrent seed --super-seed, libtorrent super_seeding;
                 the seed's upload before the swarm holds every piece
                 (without: case 1's runs)
  4 anti-snub    a scripted peer (announced to the tracker as a seed)
                 that handshakes, sends a full bitfield, unchokes and
                 never sends a block; gtorrent leechers run with -vv and
                 log "snubbed", libtorrent's peer_info has the flag
  5 -b           gtorrent leechers with -b against case 1's gtorrent run:
                 time from 95 % to 100 %, duplicate bytes

Environment: GTORRENT, BENCH_DIR (the output folder is
$BENCH_DIR/gtorrent-bench-swarm; default /tmp), BENCH_SWARM_N (default
"8,16"), BENCH_SWARM_MIB (F, default 64), BENCH_SWARM_CASES,
BENCH_SWARM_US / _U / _D (rates in KiB/s; default 1024, 1024, 4096),
BENCH_SWARM_CLIENTS ("gt,lt"), BENCH_SWARM_KEEP=1 (keep each run's folder:
logs, data), BENCH_SWARM_SEED_FLAGS (more options for a gtorrent seed,
e.g. -vv), BENCH_SWARM_SLOTS (case 2: the leechers'
regular unchoke slots, default 4, so that tit-for-tat has a choice at
N = 8), BENCH_SWARM_VV=1 (gtorrent leechers with -vv: each rechoke's
decisions), BENCH_STRICT=1 to exit 1 on a missed goal.  Case 2's lt.json
(kept with BENCH_SWARM_KEEP=1) has under "from" the free-rider's bytes
from each peer (address: [(t, bytes)], sampled each second).
Output: the table on stdout and in swarm.txt, one PNG per case and N
(finish-time curves; gnuplot) and the data behind them, in the output
folder.

Sub-command used internally: `lt-swarm SPEC.json` (the libtorrent
process).
"""

import json
import math
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import helpers  # noqa: E402
import peers    # noqa: E402

LOOPBACK = peers.LOOPBACK
KIB = 1024
MIB = 1024 * 1024
PIECE_EXP = 18                  # 256 KiB pieces
SAMPLE = 0.1                    # seconds between samples
SLOTS = int(os.environ.get("BENCH_SWARM_SLOTS", "4"))  # case 2's slots
SEED_FLAGS = os.environ.get("BENCH_SWARM_SEED_FLAGS", "").split()
FR_US_X = 2                     # case 2: the seed uploads 2 x u_s,
FR_U_DIV = 2                    # ... the leechers u / 2: upload-bound

GOAL_HOMO_TMIN = 1.15           # swarm time <= 1.15 x T_min
GOAL_HOMO_LT = 0.9              # gtorrent's <= 0.9 x libtorrent's
GOAL_SUPER = 1.1                # seed upload before all pieces <= 1.1 F
GOAL_SNUB_S = 60.0              # snubbed within 60 s of the connection
SNUB_RES = 1.0                  # ... measured from log lines read every
                                # 100 ms, the snub timer's own tick
GOAL_NOCHOKE = 1.15             # free-rider / others' median, no choking
VV = os.environ.get("BENCH_SWARM_VV", "0") == "1"   # gtorrent leechers -vv


def say(*a):
    print("bench-swarm:", *a, flush=True)


def t_min(size, u_s, u, d, n):
    return max(size / u_s, size / d, n * size / (u_s + n * u))


def rate_arg(b):
    return "%dk" % max(1, b // KIB)


# --- the observer -----------------------------------------------------------

class Target:
    def __init__(self, name, port, npieces):
        self.name = name
        self.port = port
        self.sock = None
        self.buf = bytearray()
        self.hs = False
        self.have = bytearray(npieces)
        self.n = 0
        self.series = [(0.0, 0)]    # (t, pieces) at each change
        self.next_try = 0.0
        self.last_send = 0.0
        self.connects = 0


class Observer:
    """Dials each leecher and records the pieces it announces."""

    def __init__(self, info_hash, npieces, t0):
        self.ih = info_hash
        self.np = npieces
        self.t0 = t0
        self.peer_id = b"-OB0001-" + os.urandom(12)
        self.targets = []
        self.lock = threading.Lock()
        self.union = bytearray(npieces)
        self.union_n = 0
        self.t_union = None
        self.stopping = threading.Event()
        self.thread = None

    def add(self, name, port):
        with self.lock:
            self.targets.append(Target(name, port, self.np))

    def start(self):
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name="observer")
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(3)
        for tg in self.targets:
            self._close(tg)

    def counts(self):
        with self.lock:
            return {tg.name: tg.n for tg in self.targets}

    def _close(self, tg):
        if tg.sock is not None:
            try:
                tg.sock.close()
            except OSError:
                pass
        tg.sock = None
        tg.buf = bytearray()
        tg.hs = False

    def _dial(self, tg, now):
        tg.next_try = now + 0.5
        try:
            s = socket.create_connection((LOOPBACK, tg.port), timeout=0.3)
            s.sendall(peers.handshake_bytes(self.ih, self.peer_id))
        except OSError:
            return
        s.setblocking(False)
        tg.sock = s
        tg.connects += 1
        tg.last_send = now

    def _set(self, tg, i, t):
        if i >= self.np or tg.have[i]:
            return
        tg.have[i] = 1
        tg.n += 1
        tg.series.append((t, tg.n))
        if not self.union[i]:
            self.union[i] = 1
            self.union_n += 1
            if self.union_n == self.np:
                self.t_union = t

    def _parse(self, tg, t):
        b = tg.buf
        off = 0
        while True:
            if not tg.hs:
                if len(b) - off < 68:
                    break
                if b[off] != 19 or bytes(b[off + 28:off + 48]) != self.ih:
                    raise OSError("bad handshake")
                off += 68
                tg.hs = True
                continue
            if len(b) - off < 4:
                break
            n = struct.unpack_from(">I", b, off)[0]
            if n > 1 << 20:
                raise OSError("message of %d bytes" % n)
            if len(b) - off < 4 + n:
                break
            body = b[off + 4:off + 4 + n]
            off += 4 + n
            if n == 0:
                continue
            mid = body[0]
            with self.lock:
                if mid == peers.BITFIELD:
                    for i in range(self.np):
                        if 1 + i // 8 < len(body) and \
                                body[1 + i // 8] & (0x80 >> (i % 8)):
                            self._set(tg, i, t)
                elif mid == peers.HAVE and n >= 5:
                    self._set(tg, struct.unpack_from(">I", body, 1)[0], t)
                elif mid == 0x0E:               # have all (BEP 6)
                    for i in range(self.np):
                        self._set(tg, i, t)
        del b[:off]

    def _loop(self):
        while not self.stopping.is_set():
            now = time.monotonic()
            for tg in self.targets:
                if tg.sock is None and now >= tg.next_try and \
                        tg.n < self.np:
                    self._dial(tg, now)
                elif tg.sock is not None and now - tg.last_send > 20:
                    tg.last_send = now
                    try:
                        tg.sock.send(b"\0\0\0\0")
                    except OSError:
                        pass
            socks = [tg for tg in self.targets if tg.sock is not None]
            if not socks:
                time.sleep(0.05)
                continue
            try:
                r, _, _ = select.select([tg.sock for tg in socks], [], [],
                                        0.05)
            except (OSError, ValueError):
                continue
            t = time.monotonic() - self.t0
            for tg in socks:
                if tg.sock not in r:
                    continue
                try:
                    data = tg.sock.recv(1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._close(tg)
                    continue
                tg.buf += data
                try:
                    self._parse(tg, t)
                except OSError:
                    self._close(tg)


# --- the libtorrent process -------------------------------------------------

def lt_swarm_main(spec_path):
    """The sessions of spec (JSON): seeds first; prints "ready" once they
    seed, waits for "go" on stdin, adds the leechers, and samples until
    "stop" (or its life ends, or its parent dies); then writes the
    results to spec["out"] and exits."""
    import libtorrent as lt
    with open(spec_path) as f:
        spec = json.load(f)
    parent = os.getppid()
    with open(spec["torrent"], "rb") as f:
        tb = f.read()
    snub_port = spec.get("snub_port")

    def add(p):
        st = peers.lt_settings(lt, p["port"], seeder=False,
                               aio_threads=2)
        st["upload_rate_limit"] = p["up"]
        st["download_rate_limit"] = p["down"]
        st["alert_mask"] = 0
        if p.get("no_choke"):
            st["unchoke_slots_limit"] = -1
        if p.get("slots"):
            st["unchoke_slots_limit"] = p["slots"]
        if p.get("free_rider"):
            # never unchokes anyone, no allowed-fast pieces: uploads
            # nothing, yet sends its requests (a rate limit would
            # throttle those too: they count against it)
            st["unchoke_slots_limit"] = 0
            st["allowed_fast_set_size"] = 0
        ses = lt.session(st)
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255",
                   1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(lt.bdecode(tb))
        atp.save_path = p["dir"]
        fl = atp.flags & ~lt.torrent_flags.auto_managed
        fl &= ~lt.torrent_flags.paused
        if p.get("super"):
            fl |= lt.torrent_flags.super_seeding
        atp.flags = fl
        os.makedirs(p["dir"], exist_ok=True)
        return {"p": p, "ses": ses, "h": ses.add_torrent(atp),
                "done": None, "snub_conn": None, "snub": None,
                "from": {}}

    live = [add(p) for p in spec["peers"] if p["role"] == "seed"]
    deadline = time.monotonic() + spec.get("life", 1800)
    while True:
        sts = [x["h"].status() for x in live]
        if all(s.is_seeding for s in sts):
            break
        for s in sts:
            if s.errc.value() != 0:
                print("lt-swarm: %s" % s.errc.message(), file=sys.stderr)
                return 1
        if time.monotonic() > deadline:
            return 1
        time.sleep(0.05)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        return 1
    t0 = time.monotonic()
    live += [add(p) for p in spec["peers"] if p["role"] != "seed"]
    series = []
    last_pi = 0.0
    last_fr = 0.0
    while time.monotonic() < deadline and os.getppid() == parent:
        r, _, _ = select.select([sys.stdin], [], [], SAMPLE)
        if r:
            ln = sys.stdin.readline()
            if ln.strip() == "stop" or not ln:
                break
        now = time.monotonic()
        t = now - t0
        row = []
        for x in live:
            s = x["h"].status()
            if x["p"]["role"] == "seed":
                row.append(s.total_upload)
            elif x["done"] is None and s.is_seeding:
                x["done"] = t
        series.append((t, row))
        if now - last_fr >= 1.0:
            last_fr = now
            for x in live:
                if not x["p"].get("free_rider"):
                    continue
                for pi in x["h"].get_peer_info():
                    k = "%s:%d" % (pi.ip[0], pi.ip[1])
                    x["from"].setdefault(k, []).append(
                        (round(t, 2), pi.total_download))
        if snub_port and now - last_pi >= 0.5:
            last_pi = now
            for x in live:
                if x["p"]["role"] == "seed" or x["snub"] is not None:
                    continue
                for pi in x["h"].get_peer_info():
                    if pi.ip[1] != snub_port:
                        continue
                    if x["snub_conn"] is None:
                        x["snub_conn"] = t
                    if pi.flags & lt.peer_info.snubbed:
                        x["snub"] = t
    out = {"t0": t0, "seed_series": series, "peers": {}}
    for x in live:
        s = x["h"].status()
        out["peers"][x["p"]["name"]] = {
            "down": s.total_payload_download,
            "up": s.total_payload_upload,
            "wire_down": s.total_download, "wire_up": s.total_upload,
            "redundant": s.total_redundant_bytes,
            "done": x["done"], "snub_conn": x["snub_conn"],
            "snub": x["snub"], "seeding": s.is_seeding,
            "from": x["from"]}
    with open(spec["out"] + ".tmp", "w") as f:
        json.dump(out, f)
    os.rename(spec["out"] + ".tmp", spec["out"])
    sys.stdout.flush()
    os._exit(0)


# --- one run ----------------------------------------------------------------

class SentBytes:
    """Bytes a process sent over TCP, protocol included: the sum over its
    sockets of tcp_info's bytes_acked (`ss -tinp`), each socket's last
    figure kept once it closes.  (gtorrent writes with send(), which
    /proc/PID/io does not count.)"""

    def __init__(self, pid):
        self.tag = "pid=%d," % pid
        self.socks = {}
        self.ss = shutil.which("ss")

    def sample(self):
        if self.ss is None:
            return None
        try:
            out = subprocess.run([self.ss, "-tinpH", "state", "established"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=5,
                                 check=False).stdout.decode("utf-8",
                                                            "replace")
        except (subprocess.SubprocessError, OSError):
            return None
        key = None
        for ln in out.splitlines():
            if not ln[:1].isspace():
                f = ln.split()
                key = (f[2], f[3]) if self.tag in ln and len(f) > 3 \
                    else None
                continue
            if key is None:
                continue
            for w in ln.split():
                if w.startswith("bytes_acked:"):
                    self.socks[key] = int(w[12:])
        return sum(self.socks.values())


def at(series, t):
    """series [(t, v)] sorted by t: v at t, linearly interpolated."""
    if not series or t is None:
        return None
    prev = series[0]
    if t <= prev[0]:
        return prev[1]
    for cur in series[1:]:
        if cur[0] >= t:
            if cur[0] == prev[0]:
                return cur[1]
            return prev[1] + (cur[1] - prev[1]) * (t - prev[0]) / \
                (cur[0] - prev[0])
        prev = cur
    return prev[1]


def time_at(series, v):
    """The first t at which series reaches v, or None."""
    for t, x in series:
        if x >= v:
            return t
    return None


class Tail:
    """New lines of a growing file, each with the time it was read."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.part = b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                b = f.read()
        except OSError:
            return []
        self.off += len(b)
        b = self.part + b
        *full, self.part = b.split(b"\n")
        return [x.decode("utf-8", "replace") for x in full]


class Run:
    """The outcome of one swarm run."""

    def __init__(self, client, label, n):
        self.client = client
        self.label = label
        self.n = n
        self.ok = False
        self.why = ""
        self.names = []
        self.free_rider = None
        self.finish = {}            # leecher -> s after the start
        self.t95 = {}
        self.series = {}            # leecher -> [(t, pieces)]
        self.down = {}
        self.up = {}
        self.redundant = {}         # lt: total_redundant_bytes
        self.seed_series = []       # [(t, bytes)]
        self.seed_up = None         # bytes at t_union
        self.t_union = None
        self.snub = {}              # leecher -> (connected t, snubbed t)
        self.snub_stats = None

    @property
    def swarm_time(self):
        if len(self.finish) < len(self.names) or not self.names:
            return None
        return max(self.finish.values())

    def others(self):
        return [x for x in self.names if x != self.free_rider]


class Lab:
    """A payload, its torrent, and swarm runs on it."""

    def __init__(self, gtorrent, work, size, n, u_s, u, d, log=say):
        self.gt = gtorrent
        self.work = work
        self.size = size
        self.n = n
        self.u_s, self.u, self.d = u_s, u, d
        self.log = log
        self.py = "/usr/bin/python3"
        self.procs = []
        self.tracker = None
        self.ot = shutil.which("opentracker")
        if self.ot is None:
            raise RuntimeError("opentracker is not installed")
        self.set_rates(u_s, u, d)
        self.nrun = 0
        self.keep = os.environ.get("BENCH_SWARM_KEEP", "0") == "1"
        self.seed_dir = os.path.join(work, "seed")
        os.makedirs(self.seed_dir, exist_ok=True)
        os.chmod(work, 0o755)       # opentracker drops to nobody
        self.port = peers.free_port()   # the tracker's, for the torrent
        self.announce = "http://%s:%d/announce" % (LOOPBACK, self.port)
        self.name = "swarm-%dm.bin" % (size // MIB)
        self.payload = os.path.join(self.seed_dir, self.name)
        with open(self.payload, "wb") as f:
            left = size
            while left:
                k = min(left, 4 * MIB)
                f.write(os.urandom(k))
                left -= k
        self.torrent = os.path.join(work, self.name + ".torrent")
        subprocess.run([self.gt, "create", "-l", str(PIECE_EXP), "-a",
                        self.announce, "-o", self.torrent, self.payload],
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        with open(self.torrent, "rb") as f:
            self.meta = peers.Meta(f.read())
        self.np = self.meta.npieces

    def set_rates(self, u_s, u, d):
        self.u_s, self.u, self.d = u_s, u, d
        self.tmin = t_min(self.size, u_s, u, d, self.n)
        self.timeout = 4 * self.tmin + 60

    # processes ---------------------------------------------------------

    def spawn(self, argv, tag, rundir, **kw):
        out = open(os.path.join(rundir, tag + ".stdout"), "wb")
        err = open(os.path.join(rundir, tag + ".stderr"), "wb")
        env = dict(os.environ, LC_ALL="C.UTF-8")
        p = subprocess.Popen(argv, cwd=rundir, env=env,
                             stdin=kw.pop("stdin", subprocess.DEVNULL),
                             stdout=kw.pop("stdout", out), stderr=err,
                             **kw)
        out.close()
        err.close()
        p.tag = tag
        self.procs.append(p)
        return p

    def stop_proc(self, p, sig=signal.SIGINT, grace=10.0):
        """Signals p by PID, waits, kills after grace seconds."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        if p in self.procs:
            self.procs.remove(p)

    def close(self):
        for p in list(self.procs):
            self.stop_proc(p, signal.SIGKILL, 3)
        if self.tracker is not None:
            self.tracker.stop()
            self.tracker = None

    def gt_proc(self, args, tag, rundir):
        return self.spawn([self.gt] + helpers.gt_args(args), tag, rundir)

    def start_tracker(self, rundir):
        """A fresh opentracker per run: no peers of the last run."""
        if self.tracker is not None:
            self.tracker.stop()
        self.tracker = peers.Opentracker(self.ot,
                                         os.path.join(rundir, "tracker"))
        self.tracker.port = self.port
        self.tracker.start(self.meta.info_hash)

    def fake_announce(self, port, left):
        q = urllib.parse.urlencode({
            "info_hash": self.meta.info_hash, "peer_id": os.urandom(20),
            "port": port, "uploaded": 0, "downloaded": 0, "left": left,
            "event": "started", "compact": 1})
        with urllib.request.urlopen(self.announce + "?" + q, timeout=5) as r:
            r.read()

    # the run -----------------------------------------------------------

    def run(self, client, label, free_rider=False, leech_flags=(),
            super_seed=False, snub=False, slots=None):
        """One swarm: client "gt" or "lt"; returns a Run.  slots: the
        leechers' regular unchoke slots (gtorrent --upload-slots,
        libtorrent unchoke_slots_limit), else their default."""
        self.slots = slots
        if slots is not None and client == "gt":
            leech_flags = ["--upload-slots", str(slots)] + list(leech_flags)
        self.nrun += 1
        rundir = os.path.join(self.work, "run%02d-%s" % (self.nrun, client))
        os.makedirs(rundir)
        os.chmod(rundir, 0o755)
        res = Run(client, label, self.n)
        try:
            self._run(res, rundir, client, free_rider, list(leech_flags),
                      super_seed, snub)
        except (RuntimeError, AssertionError, OSError,
                subprocess.SubprocessError) as e:
            res.ok = False
            res.why = "%s: %s" % (type(e).__name__, e)
        finally:
            self.close()
            if not self.keep:
                shutil.rmtree(rundir, ignore_errors=True)
        return res

    def _run(self, res, rundir, client, free_rider, leech_flags,
             super_seed, snub):
        n = self.n
        self.start_tracker(rundir)
        names = ["L%02d" % i for i in range(n)]
        res.names = names
        lports = {x: peers.free_port() for x in names}
        seed_port = peers.free_port()
        fr = names[-1] if free_rider else None
        res.free_rider = fr
        lt_peers = []
        seed = None
        if client == "gt":
            args = ["seed", "-v", "-p", seed_port, "-o", self.seed_dir,
                    "--max-upload-rate", rate_arg(self.u_s)] + SEED_FLAGS
            if super_seed:
                args.append("--super-seed")
            seed = self.gt_proc(args + [self.torrent], "seed", rundir)
        else:
            lt_peers.append({"name": "seed", "role": "seed",
                             "port": seed_port, "up": self.u_s, "down": 0,
                             "dir": self.seed_dir, "super": super_seed})
        for x in names:
            if client == "lt" or x == fr:
                lt_peers.append({"name": x, "role": "leech",
                                 "port": lports[x],
                                 "up": self.u, "down": self.d,
                                 "free_rider": x == fr,
                                 "slots": self.slots,
                                 "dir": os.path.join(rundir, x)})
        snubber = None
        if snub:
            snubber = peers.ScriptedPeer(self.meta, snub_script,
                                         "snubber")
            self.snubber = snubber
        ltp = None
        ltout = os.path.join(rundir, "lt.json")
        obs = None
        gts = {}
        sums = {}
        try:
            if lt_peers:
                spec = {"torrent": self.torrent, "peers": lt_peers,
                        "out": ltout, "life": self.timeout + 300,
                        "snub_port": snubber.port if snubber else None}
                sp = os.path.join(rundir, "lt-spec.json")
                with open(sp, "w") as f:
                    json.dump(spec, f)
                ltp = self.spawn([self.py, "-u", os.path.abspath(__file__),
                                  "lt-swarm", sp], "lt", rundir,
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
                r, _, _ = select.select([ltp.stdout], [], [], 120)
                if not r or ltp.stdout.readline().strip() != b"ready":
                    raise RuntimeError("libtorrent process not ready")
            if not self.tracker.wait_peers(self.meta.info_hash, complete=1,
                                           timeout=60):
                raise RuntimeError("the seed never announced")
            if seed is not None and seed.poll() is not None:
                raise RuntimeError("gtorrent seed exited %d" % seed.rc)
            if snubber is not None:
                # announced as a seed, and given to every gtorrent leecher
                # with --peer as well: on a busy machine opentracker was
                # seen not to count an announce it answered (the scrape
                # kept saying 1 seed after 5 announces), and a snubber
                # nobody hears of proves nothing
                self.fake_announce(snubber.port, 0)
                leech_flags = list(leech_flags) + [
                    "--peer", "%s:%d" % (LOOPBACK, snubber.port)]
            t0 = time.monotonic()
            obs = Observer(self.meta.info_hash, self.np, t0)
            gts = {}
            tails = {}
            for x in names:
                if x == fr or client == "lt":
                    continue
                args = ["download", "-vv" if snub or VV else "-v",
                    "-p", lports[x],
                    "-o", os.path.join(rundir, x), "--seed",
                    "--max-upload-rate", rate_arg(self.u),
                    "--max-download-rate", rate_arg(self.d)] + \
                    leech_flags + [self.torrent]
                gts[x] = self.gt_proc(args, x, rundir)
                tails[x] = (Tail(os.path.join(rundir, x + ".stdout")),
                            Tail(os.path.join(rundir, x + ".stderr")))
            if ltp is not None:
                ltp.stdin.write(b"go\n")
                ltp.stdin.flush()
            for x in names:
                obs.add(x, lports[x])
            obs.start()
            self._watch(res, obs, t0, seed, gts, tails, ltp, snubber)
        finally:
            if obs is not None:
                obs.stop()
            lt_res = None
            if ltp is not None:
                if ltp.poll() is None:
                    try:
                        ltp.stdin.write(b"stop\n")
                        ltp.stdin.flush()
                    except OSError:
                        pass
                    try:
                        ltp.wait(30)
                    except subprocess.TimeoutExpired:
                        pass
                self.stop_proc(ltp, signal.SIGKILL, 3)
                try:
                    with open(ltout) as f:
                        lt_res = json.load(f)
                except (OSError, ValueError):
                    lt_res = None
            for x, p in gts.items():
                self.stop_proc(p)
                with open(os.path.join(rundir, x + ".stdout"), "rb") as f:
                    sums[x] = peers.parse_summary(
                        f.read().decode("utf-8", "replace"))
                if sums[x] is not None:
                    sums[x]["wasted"] = wasted_line(
                        os.path.join(rundir, x + ".stderr"))
            if seed is not None:
                self.stop_proc(seed)
            if snubber is not None:
                res.snub_stats = dict(snubber.stats)
                snubber.stop()
            if obs is not None:
                self._collect(res, obs, sums, lt_res)

    def _watch(self, res, obs, t0, seed, gts, tails, ltp, snubber):
        deadline = t0 + self.timeout
        gdone = {}
        conn = {}
        snubbed = {}
        spat = None
        if snubber is not None:
            spat = "[%s:%d]" % (LOOPBACK, snubber.port)
        sent = SentBytes(seed.pid) if seed is not None else None
        while True:
            now = time.monotonic()
            t = now - t0
            if sent is not None:
                w = sent.sample()
                if w is not None:
                    res.seed_series.append((t, w))
            for x, (out, err) in tails.items():
                for ln in out.lines():
                    if ln.startswith("gtorrent: done:") and x not in gdone:
                        gdone[x] = t
                for ln in err.lines():
                    # --seed: "NAME: complete, seeding", the summary later
                    if peers.COMPLETE_RE.match(ln) and x not in gdone:
                        gdone[x] = t
                    if spat is None or spat[1:-1] not in ln:
                        continue
                    if ": connected " in ln and x not in conn:
                        conn[x] = t
                    if "] snubbed (" in ln and x not in snubbed:
                        snubbed[x] = t
            counts = obs.counts()
            done = [x for x in res.names
                    if counts.get(x) == self.np or x in gdone]
            if len(done) == len(res.names):
                break
            for x, p in gts.items():
                if p.poll() is not None:
                    raise RuntimeError("gtorrent %s exited %d" % (x,
                                                                  p.rc))
            if ltp is not None and ltp.poll() is not None:
                raise RuntimeError("the libtorrent process exited")
            if now > deadline:
                res.why = "timed out after %.0f s (%d of %d done)" % (
                    self.timeout, len(done), len(res.names))
                break
            time.sleep(SAMPLE)
        res.gdone = gdone
        for x in gts:
            if x in conn or x in snubbed:
                res.snub[x] = (conn.get(x), snubbed.get(x))

    def _collect(self, res, obs, sums, lt_res):
        for tg in obs.targets:
            res.series[tg.name] = list(tg.series)
            if tg.n == self.np:
                res.finish[tg.name] = tg.series[-1][0]
            k = math.ceil(0.95 * self.np)
            t95 = time_at(tg.series, k)
            if t95 is not None:
                res.t95[tg.name] = t95
        for x, t in getattr(res, "gdone", {}).items():
            res.finish.setdefault(x, t)
        res.t_union = obs.t_union
        for x, sm in sums.items():
            if sm is not None:
                res.down[x] = sm["downloaded"]
                res.up[x] = sm["uploaded"]
                if sm.get("wasted") is not None:
                    res.redundant[x] = sm["wasted"]
        if lt_res is not None:
            for x, p in lt_res["peers"].items():
                if x == "seed":
                    continue
                res.down[x] = p["down"]
                res.up[x] = p["up"]
                res.redundant[x] = p["redundant"]
                if p["done"] is not None:
                    res.finish.setdefault(x, p["done"])
                if p["snub_conn"] is not None or p["snub"] is not None:
                    res.snub[x] = (p["snub_conn"], p["snub"])
            if res.client == "lt":
                res.seed_series = [(t, row[0]) for t, row in
                                   lt_res["seed_series"] if row]
        if res.seed_series:
            base = res.seed_series[0][1]
            res.seed_series = [(t, v - base) for t, v in res.seed_series]
        res.seed_up = at(res.seed_series, res.t_union)
        if not res.why:
            res.ok = len(res.finish) == len(res.names)
            if not res.ok:
                res.why = "not every leecher finished"


def wasted_line(path):
    """gtorrent -v's closing "N of M bytes received were duplicates"."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 65536))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    found = None
    for ln in text.splitlines():
        if "bytes received were duplicates" in ln:
            w = ln.split(": ")[-1].split()
            if w and w[0].isdigit():
                found = int(w[0])
    return found


def snub_script(c):
    """Handshake, a full bitfield, unchoke, then never a block."""
    c.handshake()
    c.send_msg(peers.BITFIELD, c.meta.bitfield())
    c.send_msg(peers.UNCHOKE)
    while True:
        mid, pl = c.recv_msg(None)
        if mid == peers.REQUEST:
            c.peer.count("requests")


# --- figures ----------------------------------------------------------------

def fr_estimate(lab, t):
    """The fraction of F a peer that never uploads gets by time t from
    optimistic unchokes alone: each of the N-1 honest leechers gives
    1/(S+1) of its upload to one of its choked interested peers (N-1-S
    of them), rotated every 30 s; the seed, which has nothing to judge a
    peer by (nobody uploads to it), gives every leecher the same share
    over time with its round robin (libtorrent's seeding choker too):
    u_s / N."""
    n = lab.n
    s = SLOTS
    r = (n - 1) * lab.u / (s + 1) / max(1, n - 1 - s) + lab.u_s / n
    return min(1.0, r * t / lab.size)


def median(v):
    v = sorted(v)
    if not v:
        return None
    k = len(v) // 2
    return v[k] if len(v) % 2 else (v[k - 1] + v[k]) / 2


def fr_figures(lab, r):
    """(free-rider finish, others' median, others' last, fraction of F
    the free-rider held when the last other finished, its rank)."""
    fr = r.free_rider
    oth = [r.finish[x] for x in r.others() if x in r.finish]
    if fr not in r.finish or not oth:
        return None
    last = max(oth)
    frac = at(r.series.get(fr, []), last)
    frac = frac / lab.np if frac is not None else None
    rank = 1 + sum(1 for x in oth if x < r.finish[fr])
    return r.finish[fr], median(oth), last, frac, rank


def tail_times(r):
    return [r.finish[x] - r.t95[x] for x in r.names
            if x in r.finish and x in r.t95 and x != r.free_rider]


def waste(lab, r):
    """Duplicate payload bytes over the leechers: gtorrent -v's closing
    "N of M bytes received were duplicates" (else downloaded - F), or
    libtorrent's total_redundant_bytes."""
    if len(r.redundant) == len(r.names):
        return sum(r.redundant.values())
    if r.client == "lt":
        return None
    if len(r.down) < len(r.names):
        return None
    return sum(max(0, r.down[x] - lab.size) for x in r.names)


def fmt_s(v):
    return "-" if v is None else "%.1f s" % v


class Table:
    def __init__(self):
        self.rows = []
        self.missed = False

    def add(self, case, run, figure, value, goal="", met=None):
        if met is False:
            self.missed = True
        self.rows.append((case, run, figure, value, goal,
                          "" if met is None else
                          ("met" if met else "MISSED")))

    def text(self):
        w = [max(len(r[i]) for r in self.rows + [HEAD]) for i in range(6)]
        out = []
        for r in [HEAD] + self.rows:
            out.append("  ".join(c.ljust(w[i]) for i, c in
                                 enumerate(r)).rstrip())
        return "\n".join(out)


HEAD = ("case", "run", "figure", "value", "goal", "")


def detail(lab, r):
    """Per-leecher lines of one run."""
    lines = ["  %s (%s): %s" % (r.label, r.client,
                                "ok" if r.ok else "FAILED: " + r.why)]
    for x in r.names:
        tag = " (free-rider)" if x == r.free_rider else ""
        lines.append("    %s%s finish %s  down %s  up %s%s" % (
            x, tag, fmt_s(r.finish.get(x)),
            "%.1f MiB" % (r.down[x] / MIB) if x in r.down else "-",
            "%.1f MiB" % (r.up[x] / MIB) if x in r.up else "-",
            "  snub: connected %s, snubbed %s" % tuple(
                fmt_s(v) for v in r.snub[x]) if x in r.snub else ""))
    lines.append("    swarm holds every piece at %s; seed uploaded %s "
                 "by then" % (fmt_s(r.t_union),
                              "-" if r.seed_up is None else
                              "%.1f MiB" % (r.seed_up / MIB)))
    return lines


def plot(outdir, tag, title, runs, tmin):
    """One PNG: leechers finished against time, one curve per run."""
    datas = []
    for i, r in enumerate(runs):
        p = os.path.join(outdir, "%s-%d.dat" % (tag, i))
        ts = sorted(r.finish.values())
        with open(p, "w") as f:
            f.write("0 0\n")
            for k, t in enumerate(ts):
                f.write("%.3f %d\n" % (t, k + 1))
        datas.append((p, "%s %s" % ("gtorrent" if r.client == "gt" else
                                    "libtorrent", r.label)))
    gp = shutil.which("gnuplot")
    if gp is None:
        return None
    png = os.path.join(outdir, tag + ".png")
    plots = ", ".join("'%s' using 1:2 with steps lw 2 title '%s'" % (
        p, t.replace("'", "")) for p, t in datas)
    n = max([len(r.names) for r in runs] + [1])
    script = ("set terminal png noenhanced size 900,560\n"
              "set output '%s'\nset yrange [0:%d]\nset ytics %d\n"
              "set title '%s'\nset xlabel 'time (s)'\n"
              "set ylabel 'leechers finished'\nset key bottom right\n"
              "set grid\nset arrow from %.2f, graph 0 to %.2f, graph 1 "
              "nohead dt 2\nset label 'T_min' at %.2f, graph 0.95\n"
              "plot %s\n" % (png, n, max(1, n // 8), title.replace("'", ""),
                             tmin, tmin,
                             tmin, plots))
    try:
        subprocess.run([gp], input=script.encode(), timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    return png


def run_cases(lab, cases, clients, table, outdir, details):
    """Runs the selected cases at lab.n; fills table and details."""
    n = lab.n
    tag = "N=%d" % n
    cache = {}

    def get(client, label, **kw):
        key = (client, label)
        if key not in cache:
            lab.log("%s: %s swarm, %s ..." % (tag, "gtorrent" if
                                              client == "gt" else
                                              "libtorrent", label))
            r = lab.run(client, label, **kw)
            lab.log("  %s" % ("swarm time %.1f s (T_min %.1f s)" % (
                r.swarm_time, lab.tmin) if r.swarm_time is not None
                else "FAILED: " + r.why))
            details.extend(detail(lab, r))
            cache[key] = r
        return cache[key]

    tm = lab.tmin
    for c in cases:
        runs = []
        ptm = tm
        if c == "1":
            g = get("gt", "plain") if "gt" in clients else None
            lr = get("lt", "plain") if "lt" in clients else None
            runs = [x for x in (g, lr) if x]
            for r in runs:
                st = r.swarm_time
                table.add("1 homog %s" % tag, r.client, "swarm time",
                          fmt_s(st) + (" = %.2f T_min" % (st / tm)
                                       if st else ""),
                          "<= %.2f T_min (%.1f s)" % (GOAL_HOMO_TMIN,
                                                      GOAL_HOMO_TMIN * tm)
                          if r.client == "gt" else "",
                          (st is not None and st <= GOAL_HOMO_TMIN * tm)
                          if r.client == "gt" else None)
            if g and lr and g.swarm_time and lr.swarm_time:
                q = g.swarm_time / lr.swarm_time
                table.add("1 homog %s" % tag, "gt/lt", "swarm time ratio",
                          "%.2f" % q, "<= %.2f" % GOAL_HOMO_LT,
                          q <= GOAL_HOMO_LT)
        elif c == "2":
            # upload-bound: the leechers' upload is what is scarce, so
            # that whom they unchoke matters (with u_s = u the seed is
            # the bottleneck and no slot is worth fighting for)
            base_rates = (lab.u_s, lab.u, lab.d)
            lab.set_rates(FR_US_X * lab.u_s, lab.u // FR_U_DIV, lab.d)
            lab.log("%s: case 2 at u_s %d KiB/s, u %d KiB/s: T_min %.1f s"
                    % (tag, lab.u_s // KIB, lab.u // KIB, lab.tmin))
            if "gt" in clients:
                runs.append(get("gt", "free-rider", free_rider=True,
                                slots=SLOTS))
                runs.append(get("gt", "free-rider --no-choking",
                                free_rider=True, slots=SLOTS,
                                leech_flags=["--no-choking"]))
            if "lt" in clients:
                runs.append(get("lt", "free-rider", free_rider=True,
                                slots=SLOTS))
            fr_tmin = lab.tmin
            for r in runs:
                f = fr_figures(lab, r)
                nochoke = "--no-choking" in r.label
                name = "%s %s" % (r.client, "no-choking" if nochoke else
                                  "choking")
                if f is None:
                    table.add("2 free-rider %s" % tag, name, "finish",
                              "FAILED", "", False if r.client == "gt"
                              else None)
                    continue
                ft, med, last, frac, rank = f
                if nochoke:
                    q = ft / med
                    table.add("2 free-rider %s" % tag, name,
                              "FR finish / others' median",
                              "%.2f (%.1f / %.1f s)" % (q, ft, med),
                              "<= %.2f" % GOAL_NOCHOKE, q <= GOAL_NOCHOKE)
                else:
                    table.add("2 free-rider %s" % tag, name,
                              "FR finish rank", "%d of %d (%.1f s; others "
                              "last %.1f s)" % (rank, n, ft, last),
                              "last", (rank == n) if r.client == "gt"
                              else None)
                    est = fr_estimate(lab, last)
                    table.add("2 free-rider %s" % tag, name,
                              "FR share of F when others last done",
                              "%.2f" % frac if frac is not None else "-",
                              "~%.2f (optimistic only, S=%d; seed: u_s/N)" % (est,
                                                                  SLOTS),
                              None)
            table.add("2 free-rider %s" % tag, "", "rates, T_min",
                      "u_s %d KiB/s, u %d KiB/s: T_min %.1f s" % (
                          lab.u_s // KIB, lab.u // KIB, fr_tmin), "", None)
            ptm = fr_tmin
            lab.set_rates(*base_rates)
        elif c == "3":
            sup = []
            for cl in ("gt", "lt"):
                if cl not in clients:
                    continue
                sup.append(get(cl, "super-seed", super_seed=True))
                sup.append(get(cl, "plain"))
            runs = sup
            for r in sup:
                s = r.label == "super-seed"
                v = r.seed_up / lab.size if r.seed_up is not None else None
                table.add("3 super-seed %s" % tag, "%s %s" % (
                    r.client, "super" if s else "plain"),
                    "seed upload before all pieces",
                    "%.2f F (at %s)" % (v, fmt_s(r.t_union))
                    if v is not None else "-",
                    "<= %.2f F" % GOAL_SUPER if s else "(report)",
                    (v is not None and v <= GOAL_SUPER)
                    if s and r.client == "gt" else None)
                table.add("3 super-seed %s" % tag, "%s %s" % (
                    r.client, "super" if s else "plain"), "swarm time",
                    fmt_s(r.swarm_time) + (" = %.2f T_min" % (
                        r.swarm_time / tm) if r.swarm_time else ""),
                    "(report)")
        elif c == "4":
            base = {}
            for cl in ("gt", "lt"):
                if cl not in clients:
                    continue
                r = get(cl, "snub peer", snub=True)
                runs.append(r)
                delays = [s - c0 for c0, s in r.snub.values()
                          if s is not None and c0 is not None]
                nsn = sum(1 for _, s in r.snub.values() if s is not None)
                ncon = sum(1 for c0, _ in r.snub.values()
                           if c0 is not None)
                worst = max(delays) if delays else None
                table.add("4 anti-snub %s" % tag, cl,
                          "snubbed by (of connected)",
                          "%d of %d, latest %s after connecting" % (
                              nsn, ncon, fmt_s(worst)),
                          "all, <= %.0f s (+%.0f s resolution)" % (
                              GOAL_SNUB_S, SNUB_RES),
                          (ncon > 0 and nsn == ncon and worst is not None
                           and worst <= GOAL_SNUB_S + SNUB_RES)
                          if cl == "gt" else None)
                st = r.swarm_time
                table.add("4 anti-snub %s" % tag, cl, "swarm time",
                          fmt_s(st) + (" = %.2f T_min" % (st / tm)
                                       if st else ""),
                          "<= %.2f T_min" % GOAL_HOMO_TMIN
                          if cl == "gt" else "",
                          (st is not None and st <= GOAL_HOMO_TMIN * tm)
                          if cl == "gt" else None)
                base[cl] = r
        elif c == "5":
            if "gt" not in clients:
                continue
            runs = [get("gt", "-b", leech_flags=["-b"]), get("gt", "plain")]
            if "lt" in clients:
                runs.append(get("lt", "plain"))
            for r in runs:
                tt = tail_times(r)
                w = waste(lab, r)
                name = "%s %s" % (r.client, r.label)
                table.add("5 -b %s" % tag, name, "95->100 % median / max",
                          "%s / %s" % (fmt_s(median(tt)),
                                       fmt_s(max(tt) if tt else None)),
                          "(report)")
                table.add("5 -b %s" % tag, name, "duplicate bytes",
                          "%.1f MiB = %.2f %% of N*F" % (
                              w / MIB, 100.0 * w / (n * lab.size))
                          if w is not None else "-", "(report)")
                table.add("5 -b %s" % tag, name, "swarm time",
                          fmt_s(r.swarm_time), "(report)")
        if runs:
            png = plot(outdir, "case%s-n%d" % (c, n), "case %s, N=%d, "
                       "F=%d MiB, T_min %.1f s" % (c, n, lab.size // MIB,
                                                   ptm), runs, ptm)
            if png:
                lab.log("plot: %s" % png)
    for r in cache.values():
        if not r.ok:
            table.add("%s" % tag, "%s %s" % (r.client, r.label), "run",
                      "FAILED: %s" % r.why, "", False
                      if r.client == "gt" else None)


def bench_main():
    gt = os.environ.get("GTORRENT") or os.path.abspath("gtorrent")
    out = os.path.join(os.environ.get("BENCH_DIR") or "/tmp",
                       "gtorrent-bench-swarm")
    ns = [int(x) for x in os.environ.get("BENCH_SWARM_N", "8,16").split(",")
          if x.strip()]
    mib = int(os.environ.get("BENCH_SWARM_MIB", "64"))
    cases = [c.strip() for c in os.environ.get(
        "BENCH_SWARM_CASES", "1,2,3,4,5").split(",") if c.strip()]
    clients = [c.strip() for c in os.environ.get(
        "BENCH_SWARM_CLIENTS", "gt,lt").split(",") if c.strip()]
    u_s = int(os.environ.get("BENCH_SWARM_US", "1024")) * KIB
    u = int(os.environ.get("BENCH_SWARM_U", "1024")) * KIB
    d = int(os.environ.get("BENCH_SWARM_D", "4096")) * KIB
    strict = os.environ.get("BENCH_STRICT", "0") == "1"
    os.makedirs(out, exist_ok=True)
    table = Table()
    details = []
    say("output in %s; F = %d MiB (%d KiB pieces), u_s %d KiB/s, "
        "u %d KiB/s, d %d KiB/s, N = %s, cases %s" % (
            out, mib, (1 << PIECE_EXP) // KIB, u_s // KIB, u // KIB,
            d // KIB, ",".join(map(str, ns)), ",".join(cases)))
    lab = None

    def on_signal(sig, _):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    rc = 0
    try:
        for n in ns:
            work = tempfile.mkdtemp(prefix="work-n%d." % n, dir=out)
            try:
                lab = Lab(gt, work, mib * MIB, n, u_s, u, d)
                say("N=%d: T_min = max(F/u_s %.1f, F/d %.1f, N*F/(u_s+N*u) "
                    "%.1f) = %.1f s; %d pieces" % (
                        n, lab.size / u_s, lab.size / d,
                        n * lab.size / (u_s + n * u), lab.tmin, lab.np))
                run_cases(lab, cases, clients, table, out, details)
            finally:
                if lab is not None:
                    lab.close()
                if lab is None or not lab.keep:
                    shutil.rmtree(work, ignore_errors=True)
    except KeyboardInterrupt:
        say("interrupted")
        rc = 130
    text = ("swarm laboratory: F = %d MiB, u_s %d KiB/s, u %d KiB/s, "
            "d %d KiB/s (gt = gtorrent swarm, lt = libtorrent swarm)\n" % (
                mib, u_s // KIB, u // KIB, d // KIB) + table.text() +
            "\n\nper run:\n" + "\n".join(details) + "\n")
    print()
    print(text)
    with open(os.path.join(out, "swarm.txt"), "w") as f:
        f.write(text)
    if rc:
        return rc
    if strict and table.missed:
        say("goals missed (BENCH_STRICT=1)")
        return 1
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "lt-swarm":
        return lt_swarm_main(sys.argv[2])
    return bench_main()


if __name__ == "__main__":
    sys.exit(main())
