#!/usr/bin/python3
"""bench_many.py - one gtorrent process running 100 torrents at once, on
loopback (what tests/bench/bench-many.sh runs): issue 12's scale goal,
"memory under 64 MiB anonymous RSS and idle CPU under 2 % of a core when
nothing moves".

The set: BENCH_MANY_N torrents (default 100) made with `gtorrent create`
from random data, sizes spread from 16 KiB to 8 MiB (16 KiB x 512^(e^0.6),
e from 0 to 1, +-10 %; about 190 MiB in all), every fourth one a folder
of 2 to 5 files (one in a subfolder), piece sizes 16 KiB to 1 MiB drawn
at random among those giving 1 to 1024 pieces; the same seed each run.

The swarm, all on 127.0.0.1, no tracker, no DHT:
  seeder A   `gtorrent seed` of every torrent
  seeder B   `gtorrent seed` of three torrents in four (k % 4 != 3)
  seeder L   one libtorrent session seeding one torrent in three
             (k % 3 == 0; seed mode, so it does not hash first)
  leecher    ONE `gtorrent -i LIST --seed --peer A --peer B --peer L`
             process with all of them (1 to 3 seeders a torrent), the
             process measured
  lt leecher one libtorrent session fetching one torrent in ten
             (k % 10 == 5) from the leecher only, for upload traffic

The seeders and the leecher get --max-peers BENCH_MANY_MAX_PEERS
(default 400: every torrent can hold all its peers at once; gtorrent's
default, 50 in all, would queue them), and each gtorrent its own
XDG_STATE_HOME and XDG_CONFIG_HOME under the work folder.

Measured on the leecher, from /proc every BENCH_SAMPLE s (default 0.15):
  wall       from its start until its stderr holds a "gtorrent: NAME:
             complete, seeding" line for every torrent (--seed: the
             summaries come at the end); the first and median
             completions; the peers each torrent met ("peers N" of its
             summary line)
  CPU        user + system seconds (/proc/PID/stat) over the download
  anon RSS   the largest RssAnon of /proc/PID/status, during the
             download and during each idle window; VmHWM beside it
  conns      established TCP connections (its socket fds whose inodes
             /proc/net/tcp lists in state 01), the most during the
             download and the last count of each idle window
  idle CPU   once every torrent is done, the lt leecher has finished and
             the leecher's read+write bytes (/proc/PID/io) stay under
             64 KiB/s for 2 s: its CPU seconds over BENCH_IDLE s (default
             30) / BENCH_IDLE, in percent of a core; first with the
             seeders still up ("swarm up"), then after they are stopped
             ("alone"); with the voluntary context switches per second
             (wakeups) and the bytes it read and wrote in the window
The seeders' peak anon RSS, CPU during the download and idle CPU are
shown for information.  Every file of every torrent is compared with
the seeders' copy (filecmp, byte for byte) at the end.  BENCH_STRACE=1
adds `strace -c -f` of the idle leecher for 10 s after the windows.

Sub-commands used internally: `lt-seed` (seeder L) and `lt-leech` (the
lt leecher).
"""

import argparse
import filecmp
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import peers    # noqa: E402
from bench_download import Procs, loadavg, proc_cpu  # noqa: E402

LOOPBACK = peers.LOOPBACK
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

GOAL_RSS_MIB = 64.0         # anonymous RSS of the leecher, always
GOAL_IDLE_CPU = 2.0         # percent of one core, when nothing moves
QUIET_BPS = 64 * KIB        # read + write bytes/s under which it is idle


def say(*a):
    print("bench-many:", *a, flush=True)


# --- /proc ------------------------------------------------------------------

def proc_status(pid):
    """{field: int} of /proc/PID/status (kB fields in KiB), {} if gone."""
    want = ("RssAnon", "VmHWM", "VmRSS", "voluntary_ctxt_switches",
            "nonvoluntary_ctxt_switches", "Threads")
    d = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                k, _, v = ln.partition(":")
                if k in want:
                    d[k] = int(v.split()[0])
    except (OSError, ValueError):
        pass
    return d


def proc_io(pid):
    """rchar + wchar of /proc/PID/io (sockets and files), or None."""
    try:
        with open("/proc/%d/io" % pid) as f:
            d = dict(ln.split(":") for ln in f if ":" in ln)
        return int(d["rchar"]) + int(d["wchar"])
    except (OSError, KeyError, ValueError):
        return None


def tcp_states():
    """{socket inode: TCP state (hex)} of /proc/net/tcp and tcp6."""
    st = {}
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f)
                for ln in f:
                    x = ln.split()
                    st[x[9]] = x[3]
        except (OSError, StopIteration, IndexError):
            pass
    return st


def proc_fds(pid, states=None):
    """(fds, sockets, established TCP connections) of pid, or None."""
    if states is None:
        states = tcp_states()
    n = socks = est = 0
    try:
        names = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return None
    for fd in names:
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        n += 1
        if t.startswith("socket:["):
            socks += 1
            if states.get(t[8:-1]) == "01":
                est += 1
    return n, socks, est


# --- seeder L (libtorrent) --------------------------------------------------

def read_list(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


def lt_seed_main(args):
    """One session seeding every torrent of args.list from args.data (seed
    mode: no hashing first).  Writes args.ready once all seed; exits on
    SIGTERM/SIGINT, when its parent dies, or after args.life s."""
    import libtorrent as lt
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    parent = os.getppid()
    st = peers.lt_settings(lt, args.port, seeder=True)
    st.update({"upload_rate_limit": 0, "download_rate_limit": 0,
               "connections_limit": 1000})
    ses = lt.session(st)
    hs = []
    for t in read_list(args.list):
        with open(t, "rb") as f:
            tb = peers.Meta(f.read()).without_trackers()
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(lt.bdecode(tb))
        atp.save_path = args.data
        fl = (atp.flags & ~lt.torrent_flags.auto_managed &
              ~lt.torrent_flags.paused)
        atp.flags = fl | lt.torrent_flags.seed_mode
        hs.append(ses.add_torrent(atp))
    deadline = time.monotonic() + args.life
    ready = False
    while not stop and time.monotonic() < deadline:
        if os.getppid() != parent:
            break
        if not ready:
            sts = [h.status() for h in hs]
            for s in sts:
                if s.errc.value() != 0:
                    print("lt-seed: %s" % s.errc.message(), file=sys.stderr)
                    return 1
            if all(s.is_seeding for s in sts):
                with open(args.ready + ".tmp", "w") as f:
                    f.write("ready\n")
                os.rename(args.ready + ".tmp", args.ready)
                ready = True
        time.sleep(0.1)
    return 0


# --- the lt leecher ---------------------------------------------------------

def lt_leech_main(args):
    """Downloads every torrent of args.list into args.out from the peer
    on args.peer only (redialled while a torrent has no peer); once all
    are finished and written (flush_cache), touches args.marker and
    exits."""
    import libtorrent as lt
    st = peers.lt_settings(lt, args.port, seeder=False)
    st["alert_mask"] = int(lt.alert_category.status |
                           lt.alert_category.storage |
                           lt.alert_category.error)
    st["connections_limit"] = 1000
    ses = lt.session(st)
    hs = {}
    for t in read_list(args.list):
        with open(t, "rb") as f:
            tb = peers.Meta(f.read()).without_trackers()
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(lt.bdecode(tb))
        atp.save_path = args.out
        fl = atp.flags & ~lt.torrent_flags.auto_managed
        atp.flags = fl & ~lt.torrent_flags.paused
        h = ses.add_torrent(atp)
        hs[str(h.info_hash())] = h
        h.connect_peer((LOOPBACK, args.peer))
    finished = set()
    flushed = set()
    deadline = time.monotonic() + args.life
    redial = time.monotonic() + 1
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_finished_alert):
                ih = str(a.handle.info_hash())
                if ih not in finished:
                    finished.add(ih)
                    a.handle.flush_cache()
            elif isinstance(a, lt.cache_flushed_alert):
                ih = str(a.handle.info_hash())
                if ih in finished:
                    flushed.add(ih)
            elif isinstance(a, lt.torrent_error_alert):
                print("lt-leech: %s" % a.message(), file=sys.stderr)
                os._exit(1)
        if len(flushed) == len(hs):
            open(args.marker, "w").close()
            os._exit(0)
        if time.monotonic() > redial:
            for ih, h in hs.items():
                if ih not in finished and h.status().num_peers == 0:
                    h.connect_peer((LOOPBACK, args.peer))
            redial = time.monotonic() + 1
    print("lt-leech: %d of %d finished at the deadline" % (
        len(finished), len(hs)), file=sys.stderr)
    os._exit(1)


# --- the bench --------------------------------------------------------------

class Failed(Exception):
    pass


class Torrent:
    def __init__(self, k, name, files, size, plen):
        self.k = k
        self.name = name
        self.files = files        # [relative path inside the name]
        self.size = size
        self.plen = plen
        self.torrent = None
        self.done_at = None       # seconds from the leecher's start
        self.peers = None         # "peers N" of its summary line


class Proc:
    """A process the bench watches: its Popen and its figures."""

    def __init__(self, label, p):
        self.label = label
        self.p = p
        self.pid = p.pid
        self.peak_anon = 0
        self.peak_hwm = 0
        self.peak_est = 0
        self.fds = None
        self.cpu_dl = None
        self.idle = {}            # window name: {figure: value}

    def sample(self, states=None):
        s = proc_status(self.pid)
        if s:
            self.peak_anon = max(self.peak_anon, s.get("RssAnon", 0))
            self.peak_hwm = max(self.peak_hwm, s.get("VmHWM", 0))
        if states is not None:
            f = proc_fds(self.pid, states)
            if f is not None:
                self.fds = f
                self.peak_est = max(self.peak_est, f[2])
        return s


class Bench(Procs):
    def __init__(self):
        self.gt = os.environ.get("GTORRENT") or os.path.abspath("gtorrent")
        self.n = int(os.environ.get("BENCH_MANY_N", "100"))
        self.max_peers = int(os.environ.get("BENCH_MANY_MAX_PEERS", "400"))
        self.idle_s = float(os.environ.get("BENCH_IDLE", "30"))
        self.timeout = float(os.environ.get("BENCH_TIMEOUT", "300"))
        self.sample_s = float(os.environ.get("BENCH_SAMPLE", "0.15"))
        self.strace = os.environ.get("BENCH_STRACE", "0") == "1"
        self.strict = os.environ.get("BENCH_STRICT", "0") == "1"
        self.py = sys.executable or "/usr/bin/python3"
        self.work = tempfile.mkdtemp(
            prefix="gtorrent-bench-many.",
            dir=os.environ.get("BENCH_DIR") or "/tmp")
        self.seed_dir = os.path.join(self.work, "seed")
        self.out = os.path.join(self.work, "out")
        self.tdir = os.path.join(self.work, "torrents")
        self.procs = []           # Popen objects still to stop
        self.set = []             # [Torrent]
        self.seeders = []         # [Proc]
        self.seed_ports = []
        self.leecher = None       # Proc
        self.lt_leech = None      # Popen
        self.lt_marker = os.path.join(self.work, "lt-leech.done")
        self.lt_done_at = None
        self.lt_set = []
        self.wall = None
        self.dl_anon = 0
        self.dl_est = 0
        self.missed = False
        self.failed = []          # texts
        self.strace_out = None
        self.exit_s = None
        self.exit_rc = None

    # processes ---------------------------------------------------------

    def env(self, tag):
        """The environment of a gtorrent: its own state and config."""
        e = dict(os.environ)
        for v in ("XDG_STATE_HOME", "XDG_CONFIG_HOME"):
            d = os.path.join(self.work, "xdg-" + tag, v.lower())
            os.makedirs(d, exist_ok=True)
            e[v] = d
        return e

    def cleanup(self):
        self.stop_all()
        shutil.rmtree(self.work, ignore_errors=True)

    def log_tail(self, name, n=1500):
        try:
            with open(os.path.join(self.work, name), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    # the set -------------------------------------------------------------

    def make_set(self):
        """The payloads in seed/ and their torrents in torrents/."""
        rng = random.Random(1212)
        os.makedirs(self.seed_dir)
        os.makedirs(self.tdir)
        for k in range(self.n):
            e = k / max(1, self.n - 1)
            size = int(16 * KIB * 512 ** (e ** 0.6) * rng.uniform(0.9, 1.1))
            size = max(16 * KIB, min(8 * MIB, size))
            plens = [ln for ln in range(14, 21)
                     if (1 << ln) <= max(2 * size, 16 * KIB) and
                     size <= 1024 << ln]
            plen = 1 << rng.choice(plens)
            if k % 4 == 1 and size >= 64 * KIB:
                name = "t%03d-dir" % k
                nf = rng.randint(2, 5)
                cuts = sorted(rng.sample(range(1, size), nf - 1))
                lens = [b - a for a, b in zip([0] + cuts, cuts + [size])]
                files = ["part%d.bin" % i for i in range(nf - 1)] + \
                    ["sub/last.bin"]
                for rel, ln in zip(files, lens):
                    p = os.path.join(self.seed_dir, name, rel)
                    os.makedirs(os.path.dirname(p), exist_ok=True)
                    with open(p, "wb") as f:
                        f.write(os.urandom(ln))
            else:
                name = "t%03d-%dk.bin" % (k, size // KIB)
                files = [""]
                with open(os.path.join(self.seed_dir, name), "wb") as f:
                    f.write(os.urandom(size))
            t = Torrent(k, name, files, size, plen)
            t.torrent = os.path.join(self.tdir, "t%03d.torrent" % k)
            subprocess.run([self.gt, "create", "-t", "1", "-l",
                            str(plen.bit_length() - 1), "-o", t.torrent,
                            os.path.join(self.seed_dir, name)],
                           check=True, stdout=subprocess.DEVNULL,
                           timeout=120)
            self.set.append(t)
        subprocess.run(["sync"], timeout=120)

    def write_list(self, name, ts):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            for t in ts:
                f.write(t.torrent + "\n")
        return path

    # the seeders ---------------------------------------------------------

    def start_seeders(self):
        a = list(self.set)
        b = [t for t in self.set if t.k % 4 != 3]
        lt_ts = [t for t in self.set if t.k % 3 == 0]
        self.seed_sets = (("gtorrent seed A", a), ("gtorrent seed B", b),
                          ("libtorrent seed", lt_ts))
        for tag, ts in (("A", a), ("B", b)):
            port = peers.free_port()
            log = os.path.join(self.work, "seed-%s.log" % tag)
            p = self.spawn([self.gt, "seed", "-v", "--no-tracker",
                            "--no-dht", "--max-peers", str(self.max_peers),
                            "-o", self.seed_dir, "-p", str(port)] +
                           [t.torrent for t in ts], log,
                           env=self.env("seed-" + tag))
            self.seeders.append(Proc("gtorrent seed " + tag, p))
            self.seed_ports.append(port)
        port = peers.free_port()
        ready = os.path.join(self.work, "lt-seed.ready")
        p = self.spawn([self.py, os.path.abspath(__file__), "lt-seed",
                        "--list", self.write_list("lt-seed.list", lt_ts),
                        "--data", self.seed_dir, "--port", str(port),
                        "--ready", ready, "--life", "3600"],
                       os.path.join(self.work, "lt-seed.log"))
        self.seeders.append(Proc("libtorrent seed", p))
        self.seed_ports.append(port)

        def count(tag):
            try:
                with open(os.path.join(self.work, "seed-%s.log" % tag),
                          "rb") as f:
                    return f.read().count(b"pieces already here")
            except OSError:
                return 0

        def up():
            for s in self.seeders:
                if s.p.poll() is not None:
                    raise Failed("%s exited: %s" % (
                        s.label, self.log_tail(
                            "seed-%s.log" % s.label[-1]
                            if s.label.startswith("gtorrent") else
                            "lt-seed.log")))
            return (count("A") == len(a) and count("B") == len(b) and
                    os.path.exists(ready))
        t0 = time.monotonic()
        if not peers.wait_until(up, 300, 0.1):
            raise Failed("the seeders did not start within 300 s "
                         "(A %d/%d, B %d/%d checked)" % (
                             count("A"), len(a), count("B"), len(b)))
        for port in self.seed_ports:
            if not peers.wait_listening(port, 10):
                raise Failed("nothing listens on seeder port %d" % port)
        say("seeders up in %.1f s (A %d torrents on :%d, B %d on :%d, "
            "libtorrent %d on :%d)" % (
                time.monotonic() - t0, len(a), self.seed_ports[0], len(b),
                self.seed_ports[1], len(lt_ts), self.seed_ports[2]))
        for s in self.seeders:
            s.cpu0 = proc_cpu(s.pid) or 0.0

    def stop_seeders(self):
        for s in self.seeders:
            self.stop(s.p, signal.SIGTERM, 10)

    # the download --------------------------------------------------------

    def start_leecher(self):
        self.port = peers.free_port()
        lst = self.write_list("leech.list", self.set)
        argv = [self.gt, "-q", "--no-tracker", "--no-dht", "--seed",
                "--max-peers", str(self.max_peers), "-o", self.out,
                "-p", str(self.port), "-i", lst]
        for p in self.seed_ports:
            argv += ["--peer", "%s:%d" % (LOOPBACK, p)]
        self.leech_out = os.path.join(self.work, "leech.out")
        os.makedirs(self.out)
        with open(self.leech_out, "wb") as so:
            self.t0 = time.monotonic()
            p = self.spawn(argv, os.path.join(self.work, "leech.err"),
                           stdout=so, env=self.env("leech"))
        self.leecher = Proc("leecher", p)

    def start_lt_leech(self):
        self.lt_set = [t for t in self.set if t.k % 10 == 5]
        if not self.lt_set:
            return
        if not peers.wait_listening(self.port, 10, lambda: self.leecher.p
                                    .poll() is None):
            raise Failed("the leecher never listened: %s" %
                         self.log_tail("leech.err"))
        lt_out = os.path.join(self.work, "lt-out")
        os.makedirs(lt_out)
        self.lt_leech = self.spawn(
            [self.py, os.path.abspath(__file__), "lt-leech",
             "--list", self.write_list("lt-leech.list", self.lt_set),
             "--out", lt_out, "--port", str(peers.free_port()),
             "--peer", str(self.port), "--marker", self.lt_marker,
             "--life", str(int(self.timeout) + 10)],
            os.path.join(self.work, "lt-leech.log"))

    def read_done(self, pos):
        """Reads the leecher's new "NAME: complete, seeding" lines (--seed:
        the summaries come at the end) from pos in leech.err; the new
        pos."""
        with open(os.path.join(self.work, "leech.err"), "rb") as f:
            f.seek(pos)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        now = time.monotonic() - self.t0
        by_name = {t.name: t for t in self.set}
        text = chunk[:end].decode("utf-8", "replace")
        for m in peers.COMPLETE_RE.finditer(text):
            t = by_name.get(m.group(1))
            if t is not None and t.done_at is None:
                t.done_at = now
        return pos + end

    def read_summaries(self):
        """The leecher's summary lines, once it exited: "peers N" each."""
        with open(self.leech_out, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        by_name = {t.name: t for t in self.set}
        for ln in text.splitlines():
            m = peers.SUMMARY_RE.match(ln.rstrip("\r"))
            t = by_name.get(m.group(2)) if m else None
            if t is None:
                continue
            if m.group(1) == "stopped":
                self.failed.append("the leecher stopped %s: %s" % (
                    m.group(2), ln))
            t.peers = int(m.group(8))

    def download(self):
        self.start_leecher()
        self.start_lt_leech()
        pos = 0
        tick = 0
        nextsay = time.monotonic() + 5
        lc = self.leecher
        while True:
            now = time.monotonic()
            tick += 1
            states = tcp_states() if tick % 2 == 1 else None
            lc.sample(states)
            for s in self.seeders:
                s.sample(states)
            pos = self.read_done(pos)
            ndone = sum(1 for t in self.set if t.done_at is not None)
            if self.lt_leech is not None and self.lt_done_at is None and \
                    os.path.exists(self.lt_marker):
                self.lt_done_at = now - self.t0
                say("  the lt leecher has its %d torrents at %.1f s" % (
                    len(self.lt_set), self.lt_done_at))
            if ndone == len(self.set) and self.wall is None:
                self.wall = max(t.done_at for t in self.set)
                lc.cpu_dl = proc_cpu(lc.pid)
                for s in self.seeders:
                    c = proc_cpu(s.pid)
                    s.cpu_dl = c - s.cpu0 if c is not None else None
                say("  all %d done at %.1f s" % (ndone, self.wall))
            if self.wall is not None and (self.lt_leech is None or
                                          self.lt_done_at is not None):
                break
            if lc.p.poll() is not None:
                raise Failed("the leecher exited (status %d) with %d of %d "
                             "done: %s" % (lc.p.returncode, ndone,
                                           len(self.set),
                                           self.log_tail("leech.err")))
            if self.lt_leech is not None and self.lt_done_at is None and \
                    self.lt_leech.poll() is not None:
                raise Failed("the lt leecher failed: %s" %
                             self.log_tail("lt-leech.log"))
            if now - self.t0 > self.timeout:
                raise Failed("timed out after %.0f s: %d of %d done%s" % (
                    self.timeout, ndone, len(self.set),
                    "" if self.lt_leech is None or self.lt_done_at else
                    ", the lt leecher not done"))
            if now > nextsay:
                f = lc.fds
                say("  %.0f s: %d of %d done, anon RSS %.1f MiB, %s "
                    "connections" % (now - self.t0, ndone, len(self.set),
                                     lc.peak_anon / 1024,
                                     f[2] if f else "?"))
                nextsay = now + 5
            time.sleep(self.sample_s)
        self.dl_anon = lc.peak_anon
        self.dl_est = lc.peak_est
        if self.lt_leech is not None:
            self.stop(self.lt_leech, signal.SIGTERM, 5)

    # idle ------------------------------------------------------------------

    def settle(self):
        """Waits (at most 30 s) until the leecher reads and writes under
        QUIET_BPS for 2 s in a row; the seconds it took."""
        t0 = time.monotonic()
        last = proc_io(self.leecher.pid)
        calm = 0
        while time.monotonic() - t0 < 30:
            time.sleep(1)
            io = proc_io(self.leecher.pid)
            if io is None or last is None:
                break
            calm = calm + 1 if io - last < QUIET_BPS else 0
            last = io
            if calm >= 2:
                return time.monotonic() - t0, True
        return time.monotonic() - t0, False

    def idle(self, name, others):
        """One idle window of self.idle_s seconds: the leecher's (and
        others') CPU, wakeups, I/O, RSS and connections."""
        took, calm = self.settle()
        say("  %s: quiet after %.0f s%s; measuring %.0f s" % (
            name, took, "" if calm else " (NOT quiet: still moving)",
            self.idle_s))
        lc = self.leecher
        procs = [lc] + others
        c0 = {p.pid: proc_cpu(p.pid) for p in procs}
        s0 = proc_status(lc.pid)
        io0 = proc_io(lc.pid)
        peak = {p.pid: 0 for p in procs}
        t0 = time.monotonic()
        tick = 0
        while time.monotonic() - t0 < self.idle_s:
            tick += 1
            states = tcp_states() if tick % 7 == 1 else None
            for p in procs:
                s = p.sample(states)
                peak[p.pid] = max(peak[p.pid], s.get("RssAnon", 0))
            time.sleep(self.sample_s)
        dt = time.monotonic() - t0
        s1 = proc_status(lc.pid)
        io1 = proc_io(lc.pid)
        f = proc_fds(lc.pid)
        for p in procs:
            c1 = proc_cpu(p.pid)
            d = {"anon": peak[p.pid]}
            if c0[p.pid] is not None and c1 is not None:
                d["cpu"] = (c1 - c0[p.pid]) / dt * 100
            if p is lc:
                d["quiet"] = calm
                d["wakeups"] = (s1.get("voluntary_ctxt_switches", 0) -
                                s0.get("voluntary_ctxt_switches", 0)) / dt
                d["io"] = (io1 - io0) if io0 is not None and \
                    io1 is not None else None
                d["fds"] = f
                d["threads"] = s1.get("Threads")
            else:
                pf = proc_fds(p.pid)
                d["fds"] = pf
            p.idle[name] = d
        say("  %s: leecher CPU %.2f %% of a core, %.1f wakeups/s, anon RSS "
            "%.1f MiB, %s connections" % (
                name, lc.idle[name].get("cpu", -1),
                lc.idle[name]["wakeups"], peak[lc.pid] / 1024,
                f[2] if f else "?"))

    def run_strace(self):
        if not shutil.which("strace"):
            self.strace_out = "strace is not installed"
            return
        out = os.path.join(self.work, "strace.txt")
        p = self.spawn(["strace", "-c", "-f", "-o", out, "-p",
                        str(self.leecher.pid)],
                       os.path.join(self.work, "strace.log"))
        time.sleep(10)
        self.stop(p, signal.SIGINT, 10)
        try:
            with open(out) as f:
                self.strace_out = f.read()
        except OSError:
            self.strace_out = "strace failed: " + self.log_tail("strace.log")

    def stop_leecher(self):
        """SIGTERM, and how long it takes to exit."""
        p = self.leecher.p
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
            self.exit_s = time.monotonic() - t0
            self.exit_rc = p.returncode
        except subprocess.TimeoutExpired:
            self.failed.append("the leecher did not exit within 20 s of "
                               "SIGTERM")
        self.stop(p, signal.SIGKILL, 5)
        self.read_summaries()

    def check_data(self):
        bad = []
        for t in self.set:
            for rel in t.files:
                a = os.path.join(self.seed_dir, t.name, rel) if rel else \
                    os.path.join(self.seed_dir, t.name)
                b = os.path.join(self.out, t.name, rel) if rel else \
                    os.path.join(self.out, t.name)
                try:
                    same = filecmp.cmp(a, b, shallow=False)
                except OSError:
                    same = False
                if not same:
                    bad.append(os.path.relpath(b, self.out))
        nf = sum(len(t.files) for t in self.set)
        if bad:
            self.failed.append("%d of %d files differ from the seeders' "
                               "copy: %s" % (len(bad), nf,
                                             ", ".join(bad[:5])))
        return nf, bad


# --- reporting --------------------------------------------------------------

FMT = "  %-40s %11s %9s %7s"


def line(label, value, goal="", mark=""):
    print((FMT % (label, value, goal, mark)).rstrip())


def goal(b, value, limit):
    ok = value is not None and value < limit
    if not ok:
        b.missed = True
    return "met" if ok else "MISSED"


def report(b, load0):
    total = sum(t.size for t in b.set)
    lc = b.leecher
    print()
    say("results (load average %s at the start, %s now)" % (load0,
                                                             loadavg()))
    say("%d torrents, %.1f MiB, %d to %d KiB each, %d multi-file; %s" % (
        len(b.set), total / MIB, min(t.size for t in b.set) // KIB,
        max(t.size for t in b.set) // KIB,
        sum(1 for t in b.set if t.files != [""]),
        ", ".join("%s %d" % (lb, len(ts)) for lb, ts in b.seed_sets)))
    print(FMT % ("leecher (one gtorrent process)", "figure", "goal", ""))
    if b.wall is not None:
        done = sorted(t.done_at for t in b.set)
        line("wall to the last completion, s", "%.1f" % b.wall)
        line("first / median completion, s", "%.1f / %.1f" % (
            done[0], statistics.median(done)))
        line("download rate, MiB/s", "%.1f" % (total / MIB / b.wall))
        ps = [t.peers for t in b.set if t.peers is not None]
        if ps:
            line("peers a torrent met, mean / most", "%.1f / %d" % (
                statistics.mean(ps), max(ps)))
        if lc.cpu_dl is not None:
            line("CPU during the download, s (per GiB)", "%.2f (%.2f)" % (
                lc.cpu_dl, lc.cpu_dl / (total / GIB)))
    dl_anon = b.dl_anon / 1024
    line("peak anon RSS, download, MiB", "%.1f" % dl_anon,
         "<%.0f" % GOAL_RSS_MIB, goal(b, dl_anon, GOAL_RSS_MIB))
    line("peak VmHWM (with file pages), MiB", "%.1f" % (lc.peak_hwm / 1024))
    line("peak established connections", "%d" % b.dl_est)
    if b.lt_done_at is not None:
        line("lt leecher's %d torrents from it, s" % len(b.lt_set),
             "%.1f" % b.lt_done_at)
    for name, d in lc.idle.items():
        line("idle (%s): CPU, %% of a core" % name,
             "%.2f" % d["cpu"] if "cpu" in d else "?",
             "<%.0f" % GOAL_IDLE_CPU, goal(b, d.get("cpu"), GOAL_IDLE_CPU))
        line("idle (%s): anon RSS, MiB" % name, "%.1f" % (d["anon"] / 1024),
             "<%.0f" % GOAL_RSS_MIB, goal(b, d["anon"] / 1024,
                                           GOAL_RSS_MIB))
        line("idle (%s): wakeups/s" % name, "%.1f" % d["wakeups"])
        line("idle (%s): bytes read+written" % name,
             "%d" % d["io"] if d["io"] is not None else "?")
        f = d["fds"]
        line("idle (%s): fds / sockets / conns" % name,
             "%d/%d/%d" % f if f else "?")
        if not d["quiet"]:
            print("    (it never went quiet before this window)")
    if b.exit_s is not None:
        line("exit after SIGTERM, s (status)", "%.2f (%d)" % (b.exit_s,
                                                             b.exit_rc))
    print()
    say("seeders, for information")
    FS = "  %-18s %9s %9s %9s %9s %6s"
    print(FS % ("", "anonRSS", "CPU dl", "idle CPU", "peak", "conns"))
    print(FS % ("", "MiB", "s", "% core", "conns", "idle"))
    for s in b.seeders:
        d = s.idle.get("swarm up", {})
        f = d.get("fds")
        print(FS % (s.label, "%.1f" % (s.peak_anon / 1024),
                    "%.2f" % s.cpu_dl if s.cpu_dl is not None else "-",
                    "%.2f" % d["cpu"] if "cpu" in d else "-",
                    "%d" % s.peak_est, "%d" % f[2] if f else "-"))
    print("    (the goals bind the leecher; seeders A and B run 100 and 75 "
          "torrents in one\n     process too; libtorrent's anon RSS "
          "includes python's)")
    if b.strace_out:
        print()
        say("strace -c -f of the idle leecher, 10 s:")
        for ln in b.strace_out.strip().splitlines()[:18]:
            print("    " + ln)
    print("\n".join(textwrap.wrap(
        "(wall: the leecher's start to its last \"complete, seeding\" line; "
        "anon RSS: the most RssAnon seen in %.2f s polls; conns: "
        "established TCP; idle: %.0f s windows once its reads and writes "
        "stay under %d KiB/s, \"swarm up\" with the seeders running, "
        "\"alone\" after they are stopped; wakeups: voluntary context "
        "switches.)" % (b.sample_s, b.idle_s, QUIET_BPS // KIB), 76,
        initial_indent="  ", subsequent_indent="   ")))


def bench_main():
    b = Bench()

    def on_signal(sig, _):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    load0 = loadavg()
    try:
        if not os.access(b.gt, os.X_OK):
            say("no gtorrent binary at %s (run make)" % b.gt)
            return 1
        if float(load0) > 0.5:
            say("warning: load average %s: other work shares the CPUs, so "
                "wall-clock figures are noisy" % load0)
        say("making %d torrents in %s" % (b.n, b.work))
        t0 = time.monotonic()
        b.make_set()
        say("made %.1f MiB in %.1f s" % (
            sum(t.size for t in b.set) / MIB, time.monotonic() - t0))
        b.start_seeders()
        say("downloading %d torrents into one gtorrent (--max-peers %d), "
            "timeout %.0f s" % (b.n, b.max_peers, b.timeout))
        b.download()
        b.idle("swarm up", list(b.seeders))
        b.stop_seeders()
        b.idle("alone", [])
        if b.strace:
            b.run_strace()
        b.stop_leecher()
        nf, bad = b.check_data()
        say("data: %d of %d files identical to the seeders'" % (
            nf - len(bad), nf))
        report(b, load0)
    except Failed as e:
        say("error: %s" % e)
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        b.cleanup()
    if b.failed:
        for f in b.failed:
            say("FAILED: %s" % f)
        return 1
    if b.strict and b.missed:
        say("goals missed (BENCH_STRICT=1)")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("lt-seed")
    s.add_argument("--list", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--ready", required=True)
    s.add_argument("--life", type=float, default=3600)
    s = sub.add_parser("lt-leech")
    s.add_argument("--list", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--peer", type=int, required=True)
    s.add_argument("--marker", required=True)
    s.add_argument("--life", type=float, default=310)
    args = ap.parse_args()
    if args.cmd == "lt-seed":
        return lt_seed_main(args)
    if args.cmd == "lt-leech":
        return lt_leech_main(args)
    return bench_main()


if __name__ == "__main__":
    sys.exit(main())
