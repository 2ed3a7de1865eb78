#!/usr/bin/python3
"""bench_download.py - gtorrent as a leecher against aria2c, ctorrent and
libtorrent, on loopback (what tests/bench/bench-download.sh runs).

A 1 GiB single-file torrent (256 KiB pieces) is served by libtorrent
seeders (one process, one session per seeder).  Each leecher downloads it
in turn into an empty folder; the bench measures, per run:

  wall       from the leecher's start to its completion: process exit for
             gtorrent, the completion hook for aria2c and ctorrent, the
             torrent_finished alert for libtorrent
  first data from the start until the output file holds a 16 KiB block
             (st_blocks, polled every 5 ms; files are sparse)
  CPU        user + system seconds of the leecher (wait4), per GiB
  anon RSS   the largest RssAnon of /proc/PID/status, polled every 5 ms
  peak RSS   VmHWM of /proc/PID/status (includes file-backed pages)
  seeder CPU user + system seconds of the seeding process during the run

Every output is compared with the payload (cmp); a client whose copy
differs or that times out is FAILED.  Just before each leecher starts,
the bench writes and frees memory the size of the payload and a quarter
(prefault: on a VM that gives freed pages back to its host, the next
writer into them pays a host fault per page, up to 3 CPU-s a GiB, in
whichever client comes next).  Runs go round-robin (every client
once, then again), and the table shows the best of BENCH_RUNS runs.

Cases (BENCH_CASES, e.g. "1,5" or "seed,recheck"; default all):
  1 (one)     one libtorrent seeder, every leecher
  2 (four)    four libtorrent seeders, every leecher
  3 (same)    gtorrent -> gtorrent against libtorrent -> libtorrent
  4 (magnet)  a magnet against the .torrent: gtorrent, libtorrent and
              aria2c each download from one libtorrent seeder once from
              the .torrent and once from the magnet URI (xt=urn:btih only;
              aria2c's also has tr=, the tracker, its only way to the
              seeder with DHT off); first data and wall of both and the
              magnet's extra time, on its own smaller payload,
              BENCH_MAGNET_MIB (default 256)
  5 (seed)    gtorrent as the SEEDER: a libtorrent leecher (lt-leech)
              downloads the payload from one seeder that is in turn
              gtorrent (`gtorrent seed`), libtorrent (lt-seed), aria2c
              (--seed-ratio=0.0 --bt-seed-unverified) and rTorrent; the
              seeder's CPU (/proc/PID/stat, sampled when the leecher is
              told to go and when it completes: the serving only, not the
              seeder's start-up hash check) per GiB served, and the
              leecher's wall.  Transmission is left out: it serves ~3 MB/s
              on loopback (minutes for 1 GiB).
  6 (many)    gtorrent downloads from 20 seeders at once: 10 libtorrent
              sessions in one lt-seed process (seed mode) and 10 `gtorrent
              seed` processes (BENCH_MANY_LT, BENCH_MANY_GT), all given
              with --peer; its CPU per GiB against case 1's
              (BENCH_HEAVY_RUNS runs, default 2)
  7 (peers)   1,000 connected peers (BENCH_FLOOD_PEERS): a `gtorrent seed
              --max-peers N+100 --no-choking` and peer_flood.py, one
              asyncio process whose peers handshake, send a bitfield
              (empty, or partial) and INTERESTED, keep alive, and one in
              ten request blocks (8 outstanding); gtorrent's RssAnon once
              all are connected and its peak over BENCH_FLOOD_SECS s
              (default 10) of traffic (one run)
  8 (recheck) `gtorrent verify` of the payload in the page cache, MiB/s,
              against the machine's in-memory SHA-1 throughput on every
              core: the best of sha1speed.c (gtorrent's sha1_multi on
              nproc threads, built into the work folder from src/crypto.c)
              and `openssl speed -multi NPROC -evp sha1 -bytes 262144`;
              both hash buffers that stay in the CPU's caches.  Beside
              it, not as the reference: sha1speed.c hashing a buffer of
              the payload's size in memory (the floor of a recheck: no
              I/O, no process start)

Each gtorrent process gets XDG_STATE_HOME and XDG_CONFIG_HOME under the
work folder and --no-config.  The goals of issue 14 are printed beside
each table and together at the end (PASS or MISS each).
BENCH_CLIENTS (comma-separated, e.g. "gtorrent,aria2c") limits the
leechers of cases 1, 2 and 4 and the seeders of case 5.

Sub-commands used internally: `lt-seed` (the seeding process) and
`lt-leech` (the libtorrent leecher process).
"""

import argparse
import mmap
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import helpers  # noqa: E402
import peers    # noqa: E402

LOOPBACK = peers.LOOPBACK
MIB = 1024 * 1024
GIB = 1024 * MIB
POLL = 0.005
FIRST_BLOCKS = 16384 // 512     # st_blocks of one 16 KiB block

# gtorrent's goals (issue 14), for 1 GiB
GOAL_FIRST_MS = 50.0
GOAL_CPU_PER_GIB = 0.8         # leecher, CPU-s per GiB downloaded
GOAL_CPU_VS_ARIA2 = 0.6        # leecher CPU over aria2c's, same run
GOAL_WALL_VS_BEST = 0.45       # leecher wall over the best other's
GOAL_RSS_MIB = 16.0
GOAL_MAGNET_EXTRA_MS = 50.0    # magnet first data - .torrent first data
GOAL_SEED_CPU_PER_GIB = 0.3    # seeder, CPU-s per GiB served
GOAL_SEED_CPU_VS_BEST = 0.3    # seeder CPU over the best other seeder's
GOAL_SEED_WALL_VS_BEST = 1.0   # the leecher's wall with gtorrent seeding
GOAL_SAME_SPEEDUP = 2.0        # lt->lt wall over gt->gt wall, at least
GOAL_MANY_VS_ONE = 1.0         # CPU/GiB from 20 seeders over case 1's
GOAL_FLOOD_RSS_MIB = 64.0      # anon RSS with 1,000 connected peers
GOAL_RECHECK_SHARE = 0.85      # recheck MiB/s over the machine's SHA-1

CASE_NAMES = {"one": "1", "four": "2", "same": "3", "magnet": "4",
              "seed": "5", "many": "6", "peers": "7", "recheck": "8"}
ALL_CASES = "1,2,3,4,5,6,7,8"
SEEDERS = ("gtorrent", "libtorrent", "aria2c", "rtorrent")


def say(*a):
    print("bench-download:", *a, flush=True)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def proc_cpu(pid):
    """User + system seconds of a live process, from /proc/PID/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mem_kib(pid):
    """(RssAnon, VmHWM) of a live process in KiB, or (None, None).
    VmHWM, unlike ru_maxrss, starts again at exec: a child forked from
    this python would otherwise report python's size."""
    anon = hwm = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("RssAnon:"):
                    anon = int(ln.split()[1])
                elif ln.startswith("VmHWM:"):
                    hwm = int(ln.split()[1])
    except OSError:
        pass
    return anon, hwm


# --- the seeding process (libtorrent) ---------------------------------------

def lt_seed_main(args):
    """One session per port, each seeding the torrent from args.data.
    Writes args.ready once all of them have checked the data and seed;
    exits on SIGTERM/SIGINT, when its parent dies, or after args.life s."""
    import libtorrent as lt
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    parent = os.getppid()
    with open(args.torrent, "rb") as f:
        tb = f.read()
    if args.no_trackers:
        tb = peers.Meta(tb).without_trackers()
    seeds = []
    for port in args.ports.split(","):
        st = peers.lt_settings(lt, int(port), seeder=True,
                               announce_to_all_trackers=True)
        st.update({"upload_rate_limit": 0, "download_rate_limit": 0})
        ses = lt.session(st)
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(lt.bdecode(tb))
        atp.save_path = args.data
        fl = atp.flags & ~lt.torrent_flags.auto_managed
        atp.flags = fl & ~lt.torrent_flags.paused
        if args.seed_mode:      # no hash check first (case 6's ten)
            atp.flags |= lt.torrent_flags.seed_mode
        seeds.append((ses, ses.add_torrent(atp)))
    deadline = time.monotonic() + args.life
    ready = False
    while not stop and time.monotonic() < deadline:
        if os.getppid() != parent:
            break
        if not ready:
            sts = [h.status() for _, h in seeds]
            for s in sts:
                if s.errc.value() != 0:
                    print("lt-seed: %s" % s.errc.message(), file=sys.stderr)
                    return 1
            if all(s.is_seeding for s in sts):
                with open(args.ready + ".tmp", "w") as f:
                    f.write("ready\n")
                os.rename(args.ready + ".tmp", args.ready)
                ready = True
        time.sleep(0.05)
    for ses, h in seeds:
        ses.remove_torrent(h)       # announces "stopped"
    time.sleep(0.3)
    return 0


# --- the libtorrent leecher -------------------------------------------------

def lt_leech_main(args):
    """Prints "ready" once libtorrent is imported, waits for "go" on stdin,
    then downloads args.torrent or args.magnet (peers by connect_peer
    only; from a magnet, libtorrent fetches the metadata from them).  Once the torrent is
    finished and libtorrent has written every block (flush_cache: its
    hash checks may pass before the last writes land), touches
    args.marker and exits at once."""
    import libtorrent as lt
    tb = None
    if args.torrent:
        with open(args.torrent, "rb") as f:
            tb = peers.Meta(f.read()).without_trackers()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        return 1
    st = peers.lt_settings(lt, args.port, seeder=False)
    st["alert_mask"] = int(lt.alert_category.status |
                           lt.alert_category.storage |
                           lt.alert_category.error)
    ses = lt.session(st)
    if tb is not None:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(lt.bdecode(tb))
    else:
        atp = lt.parse_magnet_uri(args.magnet)  # no trackers in it
    atp.save_path = args.out
    fl = atp.flags & ~lt.torrent_flags.auto_managed
    atp.flags = fl & ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    for p in args.peer:
        h.connect_peer((LOOPBACK, int(p)))
    deadline = time.monotonic() + args.life
    redial = time.monotonic() + 1
    finished = False
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_finished_alert) and not finished:
                finished = True
                h.flush_cache()
            elif isinstance(a, lt.cache_flushed_alert) and finished:
                open(args.marker, "w").close()
                os._exit(0)
            elif isinstance(a, lt.torrent_error_alert):
                print("lt-leech: %s" % a.message(), file=sys.stderr)
                os._exit(1)
        if not finished and time.monotonic() > redial and \
                h.status().num_peers == 0:
            for p in args.peer:
                h.connect_peer((LOOPBACK, int(p)))
            redial = time.monotonic() + 1
    os._exit(1)


# --- the bench --------------------------------------------------------------

class Failed(Exception):
    pass


class Result:
    def __init__(self, client):
        self.client = client
        self.ok = False
        self.why = ""
        self.wall = None
        self.first = None
        self.cpu = None
        self.anon_kib = 0
        self.maxrss_kib = None
        self.seed_cpu = None
        self.base_anon_kib = None


class Procs:
    """The processes a bench starts (self.procs, Popen objects), run in
    self.work and each stopped by PID; bench_many.py's Bench uses it too."""

    def spawn(self, argv, log, **kw):
        with open(log, "wb") as lf:
            p = subprocess.Popen(argv, stdout=kw.pop("stdout", lf),
                                 stderr=lf, cwd=kw.pop("cwd", self.work),
                                 stdin=kw.pop("stdin", subprocess.DEVNULL),
                                 **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=5.0):
        """Signals p (by PID) and waits; SIGKILL after grace seconds."""
        if p is None:
            return
        if p.returncode is None and p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        """SIGKILL to every process still running, newest first."""
        for p in reversed(list(self.procs)):
            try:
                self.stop(p, signal.SIGKILL, 2)
            except Exception:           # keep stopping the others
                pass


class Bench(Procs):
    def __init__(self):
        self.gt = os.environ.get("GTORRENT") or os.path.abspath("gtorrent")
        self.runs = int(os.environ.get("BENCH_RUNS", "3"))
        self.timeout = float(os.environ.get("BENCH_TIMEOUT", "120"))
        self.swarm_mib = int(os.environ.get("BENCH_SWARM_MIB", "1024"))
        self.magnet_mib = int(os.environ.get("BENCH_MAGNET_MIB", "256"))
        self.strict = os.environ.get("BENCH_STRICT", "0") == "1"
        cl = os.environ.get("BENCH_CLIENTS", "")
        self.only = [c for c in cl.split(",") if c] or None
        cs = os.environ.get("BENCH_CASES", "") or ALL_CASES
        self.cases = {CASE_NAMES.get(c.strip(), c.strip())
                      for c in cs.split(",") if c.strip()}
        self.heavy_runs = int(os.environ.get("BENCH_HEAVY_RUNS", "2"))
        self.many_lt = int(os.environ.get("BENCH_MANY_LT", "10"))
        self.many_gt = int(os.environ.get("BENCH_MANY_GT", "10"))
        self.flood_peers = int(os.environ.get("BENCH_FLOOD_PEERS", "1000"))
        self.flood_secs = float(os.environ.get("BENCH_FLOOD_SECS", "10"))
        self.py = sys.executable or "/usr/bin/python3"
        self.work = tempfile.mkdtemp(
            prefix="gtorrent-bench-download.",
            dir=os.environ.get("BENCH_DIR") or "/tmp")
        os.chmod(self.work, 0o755)   # opentracker drops to nobody
        self.procs = []              # Popen objects still to stop
        self.tracker = None
        self.announce = None
        self.data = None             # the seeders' folder
        self.seeder = None
        self.seeder_sig = signal.SIGTERM
        self.more_seeders = []       # case 6: the other seeding processes
        self.seed_ports = []
        self.goal_rows = []          # (case, goal, figure, met) for the end
        self.sha1_floor = []         # case 8: (what, MiB/s) in memory
        self.env = dict(os.environ)  # gtorrent's, its state in the work
        self.env.update({
            "XDG_STATE_HOME": os.path.join(self.work, "state"),
            "XDG_CONFIG_HOME": os.path.join(self.work, "config")})
        self.nrun = 0
        self.missed = False
        self.failed = False

    # processes: Procs ---------------------------------------------------

    def cleanup(self):
        self.stop_all()
        if self.tracker is not None:
            self.tracker.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    # setup -------------------------------------------------------------

    def make_tracker(self):
        """opentracker on loopback when installed (aria2c and ctorrent
        find the seeders through it); the payloads' announce URL."""
        ot = shutil.which("opentracker")
        if ot:
            self.tracker = peers.Opentracker(ot, os.path.join(self.work,
                                                              "tracker"))
            self.announce = self.tracker.announce
        else:
            self.announce = "http://127.0.0.1:1/announce"

    def make_payload(self, mib):
        """A random payload of mib MiB in the seed folder and its torrent
        (256 KiB pieces); a dict for use()."""
        if self.data is None:
            self.data = os.path.join(self.work, "seed")
            os.makedirs(self.data)
        name = "payload-%s.bin" % ("%dg" % (mib // 1024) if mib % 1024 == 0
                                   else "%dm" % mib)
        pl = {"name": name, "mib": mib, "size": mib * MIB,
              "payload": os.path.join(self.data, name),
              "torrent": os.path.join(self.work, name + ".torrent")}
        say("making a %d MiB payload in %s" % (mib, self.work))
        with open(pl["payload"], "wb") as f:
            left = pl["size"]
            while left:
                n = min(left, 4 * MIB)
                f.write(os.urandom(n))
                left -= n
        subprocess.run([self.gt, "create", "-l", "18", "-a", self.announce,
                        "-o", pl["torrent"], pl["payload"]], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
        with open(pl["torrent"], "rb") as f:
            tb = f.read()
        pl["ih"] = helpers.info_hash_hex(tb)
        pl["piece_length"] = peers.Meta(tb).piece_length
        subprocess.run(["sync"], timeout=120)
        return pl

    def use(self, pl):
        """Makes pl the payload that the next seeders and leechers use."""
        self.name = pl["name"]
        self.mib = pl["mib"]
        self.size = pl["size"]
        self.payload = pl["payload"]
        self.torrent = pl["torrent"]
        self.ih = pl["ih"]
        self.piece_length = pl["piece_length"]
        self.magnet = "magnet:?xt=urn:btih:%s" % self.ih

    def start_tracker(self):
        if self.tracker is None:
            return
        self.tracker.stop()
        self.tracker.proc = None
        self.tracker.start(self.ih)

    def start_lt_seeders(self, n, seed_mode=False, keep=False):
        """One lt-seed process with n libtorrent sessions; with keep, the
        seeders running already stay (case 6 adds gtorrent ones)."""
        if not keep:
            self.stop_seeder()
            self.start_tracker()    # a fresh peer list for each case
        ports = [peers.free_port() for _ in range(n)]
        ready = os.path.join(self.work, "seed.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        p = self.spawn(
            [self.py, os.path.abspath(__file__), "lt-seed", "--torrent",
             self.torrent, "--data", self.data, "--ready", ready,
             "--ports", ",".join(map(str, ports)), "--life", "3600"] +
            (["--seed-mode"] if seed_mode else []),
            os.path.join(self.work, "seed.log"))
        self.add_seeder(p, ports)
        if not peers.wait_until(lambda: os.path.exists(ready) or
                                p.poll() is not None, 300, 0.05) \
                or not os.path.exists(ready):
            raise Failed("the libtorrent seeders did not start: %s" %
                         self.log_tail("seed.log"))
        if self.tracker is not None and not keep:
            if not self.tracker.wait_peers(bytes.fromhex(self.ih),
                                           complete=n, timeout=30):
                raise Failed("the seeders did not reach the tracker")

    def add_seeder(self, p, ports, sig=signal.SIGTERM):
        if self.seeder is None:
            self.seeder, self.seeder_sig = p, sig
            self.seed_ports = []
        else:
            self.more_seeders.append((p, sig))
        self.seed_ports += ports

    def gt_seed_argv(self, port, *extra):
        return [self.gt, "seed", "-v", "--no-config", "--no-tracker",
                "--no-dht", "--no-pex", "-o", self.data, "-p", str(port)] + \
            list(extra) + [self.torrent]

    def start_gt_seeder(self, keep=False, extra=(), wait=True):
        """A `gtorrent seed` (-v: its "pieces ... here" line says that it
        serves); with keep, the seeders running already stay."""
        if not keep:
            self.stop_seeder()
        port = peers.free_port()
        name = "gtseed%d.log" % (len(self.more_seeders) + 1)
        log = os.path.join(self.work, name)
        p = self.spawn(self.gt_seed_argv(port, *extra), log, env=self.env)
        self.add_seeder(p, [port])
        if wait:
            self.wait_gt_seeder(p, port, name)
        return p, port, name

    def wait_gt_seeder(self, p, port, name):
        log = os.path.join(self.work, name)

        def ready():
            with open(log, "rb") as f:
                t = f.read()
            return b"pieces already here" in t or b"pieces here" in t
        if not peers.wait_until(lambda: ready() or p.poll() is not None,
                                300, 0.05) \
                or not peers.wait_listening(port, 10):
            raise Failed("the gtorrent seeder did not start: %s" %
                         self.log_tail(name))

    def start_other_seeder(self, client):
        """aria2c (no hash check: --bt-seed-unverified) or rTorrent
        (hashes first; its hash_done hook says when it serves)."""
        self.stop_seeder()
        port = peers.free_port()
        sdir = os.path.join(self.work, "seeder-%s" % client)
        shutil.rmtree(sdir, ignore_errors=True)
        os.makedirs(os.path.join(sdir, "home"))
        env = dict(os.environ, HOME=os.path.join(sdir, "home"))
        log = os.path.relpath(os.path.join(sdir, "log"), self.work)
        marker = None
        if client == "aria2c":
            argv = ["aria2c", "--no-conf", "--enable-dht=false",
                    "--enable-dht6=false", "--bt-enable-lpd=false",
                    "--enable-peer-exchange=false", "--disable-ipv6=true",
                    "--interface=%s" % LOOPBACK, "--listen-port=%d" % port,
                    "--dht-listen-port=%d" % port,
                    "--file-allocation=none", "--summary-interval=0",
                    "--console-log-level=warn", "--allow-overwrite=true",
                    "--auto-file-renaming=false",
                    "--bt-detach-seed-only=false", "--seed-ratio=0.0",
                    "--bt-seed-unverified=true", "--check-integrity=false",
                    "--dir=%s" % self.data, self.torrent]
            sig = signal.SIGTERM
        elif client == "rtorrent":
            marker = os.path.join(sdir, "hashed")
            script = os.path.join(sdir, "hashed.sh")
            with open(script, "w") as f:
                f.write("#!/bin/sh\n: > '%s'\n" % marker)
            os.chmod(script, 0o755)
            os.makedirs(os.path.join(sdir, "session"))
            rc = os.path.join(sdir, "rtorrent.rc")
            with open(rc, "w") as f:
                f.write("\n".join([
                    'directory.default.set = "%s"' % self.data,
                    'session.path.set = "%s"' % os.path.join(sdir,
                                                             "session"),
                    "network.bind_address.set = 127.0.0.1",
                    "network.port_range.set = %d-%d" % (port, port),
                    "network.port_random.set = no",
                    "dht.mode.set = disable",
                    "protocol.pex.set = no",
                    "trackers.use_udp.set = no",
                    "system.daemon.set = true",
                    'method.set_key = event.download.hash_done, mark, '
                    '"execute.nothrow = sh, %s"' % script,
                    'load.start_verbose = "%s"' % self.torrent, ""]))
            argv = ["rtorrent", "-n", "-o", "import=%s" % rc]
            sig = signal.SIGINT
        else:
            raise ValueError(client)
        p = self.spawn(argv, os.path.join(self.work, log), env=env,
                       cwd=sdir)
        self.add_seeder(p, [port], sig)
        if not peers.wait_until(lambda: p.poll() is not None or (
                (marker is None or os.path.exists(marker)) and
                peers.wait_listening(port, 0.05)), 300, 0.05) or \
                p.poll() is not None:
            raise Failed("the %s seeder did not start: %s" % (
                client, self.log_tail(log)))

    def start_seeder(self, client):
        """One seeder of the payload: client is one of SEEDERS."""
        if client == "gtorrent":
            self.start_gt_seeder()
        elif client == "libtorrent":
            self.start_lt_seeders(1)
        else:
            self.start_other_seeder(client)

    def start_many(self, n_lt, n_gt):
        """Case 6: n_lt libtorrent sessions (one process, seed mode) and
        n_gt `gtorrent seed` processes.  A `gtorrent download` of the
        complete data first leaves a resume record in the shared state
        folder, so the gtorrent seeders need no hash check."""
        self.stop_seeder()
        self.start_tracker()
        argv = [self.gt, "download", "-q", "--no-config", "--no-tracker",
                "--no-dht", "--peer", "127.0.0.1:1", "-p", "0", "-o",
                self.data, self.torrent]
        subprocess.run(argv, env=self.env, timeout=300, cwd=self.work,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if n_lt:
            self.start_lt_seeders(n_lt, seed_mode=True, keep=True)
        started = [self.start_gt_seeder(keep=True, wait=False)
                   for _ in range(n_gt)]
        for p, port, name in started:
            self.wait_gt_seeder(p, port, name)

    def stop_seeder(self):
        for p, sig in reversed(self.more_seeders):
            self.stop(p, sig, 10)
        self.more_seeders = []
        if self.seeder is not None:
            self.stop(self.seeder, self.seeder_sig, 10)
            self.seeder = None
        self.seed_ports = []

    def seed_cpu(self):
        """User + system seconds of every seeding process, or None."""
        ps = ([self.seeder] if self.seeder is not None else []) + \
            [p for p, _ in self.more_seeders]
        cs = [proc_cpu(p.pid) for p in ps]
        if not ps or None in cs:
            return None
        return sum(cs)

    def log_tail(self, name):
        try:
            with open(os.path.join(self.work, name), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    # the leechers ------------------------------------------------------

    def hook(self, rundir):
        """A completion script that creates rundir/done."""
        marker = os.path.join(rundir, "done")
        script = os.path.join(rundir, "hook.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n: > '%s'\n" % marker)
        os.chmod(script, 0o755)
        return script, marker

    def command(self, client, rundir, out, port, magnet=False):
        """(argv, output file, marker or None, how to stop it); with
        magnet, the client is given the magnet URI in place of the
        .torrent (the same peers, or the tracker for aria2c)."""
        target = os.path.join(out, self.name)
        if client == "gtorrent":
            argv = [self.gt, "download", "-q", "--no-config",
                    "--no-tracker", "--no-dht", "-o", out, "-p", str(port)]
            for p in self.seed_ports:
                argv += ["--peer", "%s:%d" % (LOOPBACK, p)]
            if magnet:
                return argv + ["-m", self.magnet], target, None, None
            return argv + [self.torrent], target, None, None
        if client == "aria2c":
            script, marker = self.hook(rundir)
            argv = ["aria2c", "--no-conf", "--enable-dht=false",
                    "--enable-dht6=false", "--bt-enable-lpd=false",
                    "--enable-peer-exchange=false", "--disable-ipv6=true",
                    "--interface=%s" % LOOPBACK, "--listen-port=%d" % port,
                    "--dht-listen-port=%d" % port, "--seed-time=0",
                    "--file-allocation=none", "--summary-interval=0",
                    "--console-log-level=warn", "--allow-overwrite=true",
                    "--auto-file-renaming=false",
                    "--on-bt-download-complete=%s" % script,
                    "--dir=%s" % out]
            if magnet:
                # its only way to the seeder with DHT off: the tracker
                argv.append("%s&tr=%s" % (self.magnet, urllib.parse.quote(
                    self.announce, safe="")))
            else:
                argv.append(self.torrent)
            return argv, target, marker, None
        if client == "ctorrent":
            script, marker = self.hook(rundir)
            argv = ["ctorrent", "-e", "0", "-i", LOOPBACK, "-I", "0.0.0.0",
                    "-p", str(port), "-X", script, "-s", target,
                    "-b", os.path.join(rundir, "ct.bf"), self.torrent]
            return argv, target, marker, signal.SIGINT
        if client == "libtorrent":
            marker = os.path.join(rundir, "done")
            argv = [self.py, os.path.abspath(__file__), "lt-leech",
                    "--magnet" if magnet else "--torrent",
                    self.magnet if magnet else self.torrent,
                    "--out", out, "--port",
                    str(port), "--marker", marker, "--life",
                    str(int(self.timeout) + 5)]
            for p in self.seed_ports:
                argv += ["--peer", str(p)]
            return argv, target, marker, None
        raise ValueError(client)

    def run_one(self, client, magnet=False):
        """One download by client (from the magnet URI with magnet); a
        Result (ok False when it failed)."""
        self.nrun += 1
        r = Result(client)
        rundir = os.path.join(self.work, "run%d-%s%s" % (
            self.nrun, client, "-magnet" if magnet else ""))
        out = os.path.join(rundir, "out")
        os.makedirs(out)
        port = peers.free_port()
        argv, target, marker, stopsig = self.command(client, rundir, out,
                                                     port, magnet)
        log = os.path.join(rundir, "log")
        lt = client == "libtorrent"
        p = None
        try:
            cpu0 = 0.0
            if lt:
                p = self.spawn(argv, log, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
                line = self.read_line(p, 30)
                if line != "ready":
                    raise Failed("libtorrent leecher: %r" % line)
                cpu0 = proc_cpu(p.pid) or 0.0
                r.base_anon_kib = mem_kib(p.pid)[0]
                self.prefault()
                s0 = self.seed_cpu()
                t0 = time.monotonic()
                p.stdin.write(b"go\n")
                p.stdin.flush()
            else:
                self.prefault()
                s0 = self.seed_cpu()
                t0 = time.monotonic()
                p = self.spawn(argv, log, env=self.env)
            self.watch(p, r, t0, target, marker, stopsig)
            s1 = self.seed_cpu()
            if s0 is not None and s1 is not None:
                r.seed_cpu = s1 - s0
            r.cpu -= cpu0
            self.check(r, target)
        except Failed as e:
            r.ok = False
            r.why = str(e)
        finally:
            if p is not None and p.returncode is None:
                self.stop(p, signal.SIGKILL, 5)
            elif p in self.procs:
                self.procs.remove(p)
            if not r.ok:
                r.why += "\n" + self.log_tail(os.path.relpath(log,
                                                              self.work))
            shutil.rmtree(rundir, ignore_errors=True)
            subprocess.run(["sync"], timeout=120)
        return r

    def prefault(self):
        """Writes and frees memory the size of the payload and a quarter,
        just before a leecher starts.  This machine is a VM that gives the
        pages it frees back to its host (free page reporting, 2 s after
        they are freed); a download writing into such pages pays a host
        fault per page, up to 3 CPU-s a GiB, in whichever client runs
        then.  Pages freed a moment ago are not given back yet and are
        the first the kernel hands out, so every client writes into pages
        the host holds, as on a machine of its own."""
        n = self.size + self.size // 4
        zeros = bytes(4 * MIB)
        m = mmap.mmap(-1, n)
        try:
            for _ in range(0, n, len(zeros)):
                m.write(zeros[:min(len(zeros), n - m.tell())])
        finally:
            m.close()

    def read_line(self, p, timeout):
        import select
        fd = p.stdout.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return None
        return p.stdout.readline().decode("utf-8", "replace").strip()

    def watch(self, p, r, t0, target, marker, stopsig):
        """Polls every 5 ms until p completes (exit, or marker), then
        stops it and fills r from wait4."""
        deadline = t0 + self.timeout
        done_at = None
        status = rusage = None
        while True:
            now = time.monotonic()
            if r.first is None:
                try:
                    if os.stat(target).st_blocks >= FIRST_BLOCKS:
                        r.first = now - t0
                except OSError:
                    pass
            a, hwm = mem_kib(p.pid)
            if a is not None and a > r.anon_kib:
                r.anon_kib = a
            if hwm is not None:
                r.maxrss_kib = max(r.maxrss_kib or 0, hwm)
            pid, st, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                status, rusage = st, ru
                p.returncode = os.waitstatus_to_exitcode(st)
                if done_at is None:
                    done_at = now
                break
            if done_at is None and marker and os.path.exists(marker):
                done_at = now
                break
            if now > deadline:
                raise Failed("timed out after %.0f s" % self.timeout)
            time.sleep(POLL)
        r.wall = done_at - t0
        if rusage is None:
            # completed, still running: stop it, then collect its usage
            end = time.monotonic() + 15
            sent = False
            while True:
                if stopsig is not None and not sent:
                    p.send_signal(stopsig)
                    sent = True
                pid, st, ru = os.wait4(p.pid, os.WNOHANG)
                if pid == p.pid:
                    status, rusage = st, ru
                    p.returncode = os.waitstatus_to_exitcode(st)
                    break
                if time.monotonic() > end:
                    p.kill()
                    pid, st, ru = os.wait4(p.pid, 0)
                    status, rusage = st, ru
                    p.returncode = os.waitstatus_to_exitcode(st)
                    break
                time.sleep(0.01)
        if p in self.procs:
            self.procs.remove(p)
        r.cpu = rusage.ru_utime + rusage.ru_stime
        if r.maxrss_kib is None:
            r.maxrss_kib = 0
        if marker is None and p.returncode != 0:
            raise Failed("exit status %d" % p.returncode)
        if marker is not None and not os.path.exists(marker):
            raise Failed("exited (status %d) before completing" %
                         p.returncode)
        if r.first is None:
            r.first = r.wall

    def check(self, r, target):
        try:
            same = subprocess.run(["cmp", "-s", self.payload, target],
                                  timeout=120).returncode == 0
        except subprocess.TimeoutExpired:
            same = False
        if not same:
            raise Failed("the downloaded file differs from the payload")
        r.ok = True

    # cases -------------------------------------------------------------

    def available(self):
        have = []
        notes = []
        for c in ("gtorrent", "aria2c", "ctorrent", "libtorrent"):
            if self.only is not None and c not in self.only:
                continue
            if c in ("aria2c", "ctorrent"):
                if not shutil.which(c):
                    notes.append("%s skipped: not installed" % c)
                    continue
                if self.tracker is None:
                    notes.append("%s skipped: needs opentracker" % c)
                    continue
            have.append(c)
        return have, notes

    def series(self, clients, start=None):
        """BENCH_RUNS rounds of every client; {client: [Result]}."""
        res = {c: [] for c in clients}
        for i in range(self.runs):
            for c in clients:
                if start is not None:
                    start(c)
                r = self.run_one(c)
                res[c].append(r)
                say("  run %d %-10s %s" % (
                    i + 1, c, "%.2f s" % r.wall if r.ok else
                    "FAILED: " + r.why.splitlines()[0]))
        return res


    def magnet_series(self, clients):
        """BENCH_RUNS rounds of every client, each downloading once from
        the .torrent and once from the magnet (the order alternates from
        round to round); {client: {"torrent": [Result], "magnet": [...]}}.
        """
        res = {c: {"torrent": [], "magnet": []} for c in clients}
        for i in range(self.runs):
            for c in clients:
                for m in ((False, True) if i % 2 == 0 else (True, False)):
                    r = self.run_one(c, magnet=m)
                    res[c]["magnet" if m else "torrent"].append(r)
                    say("  run %d %-10s %-8s %s" % (
                        i + 1, c, "magnet" if m else ".torrent",
                        "first data %.1f ms, %.2f s" % (r.first * 1000,
                                                        r.wall)
                        if r.ok else "FAILED: " + r.why.splitlines()[0]))
        return res


    def flood_one(self):
        """Case 7: a `gtorrent seed` (--max-peers flood_peers + 100,
        --no-choking: every requester is served) and peer_flood.py with
        flood_peers peers; a dict of figures, or raises Failed."""
        self.stop_seeder()
        p, port, name = self.start_gt_seeder(extra=(
            "--max-peers", str(self.flood_peers + 100), "--no-choking"))
        gpid = p.pid
        f = {"base_kib": mem_kib(gpid)[0], "peak_kib": 0, "all_kib": None,
             "alive": 0, "closed": 0, "failed": 0, "recv": 0,
             "connected": None}
        flog = os.path.join(self.work, "flood.log")
        fl = self.spawn([self.py, os.path.join(HERE, "peer_flood.py"),
                         "--port", str(port), "--info-hash", self.ih,
                         "--size", str(self.size), "--piece-length",
                         str(self.piece_length), "--n",
                         str(self.flood_peers), "--life",
                         str(int(self.flood_secs) + 120)], flog,
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        os.set_blocking(fl.stdout.fileno(), False)
        t0 = time.monotonic()
        end = None
        pending = b""
        try:
            while True:
                now = time.monotonic()
                a = mem_kib(gpid)[0]
                if a is not None:
                    f["peak_kib"] = max(f["peak_kib"], a)
                try:
                    chunk = os.read(fl.stdout.fileno(), 65536)
                except BlockingIOError:
                    chunk = b""
                pending += chunk
                while b"\n" in pending:
                    ln, pending = pending.split(b"\n", 1)
                    w = ln.decode("ascii", "replace").split()
                    if w[:1] == ["all"] and end is None:
                        f["connected"] = int(w[1])
                        f["connect_s"] = now - t0
                        f["all_kib"] = a
                        f["cpu0"] = proc_cpu(gpid)
                        f["sock0"] = socket_fds(gpid)
                        end = now + self.flood_secs
                    elif w[:1] == ["stat"]:
                        f["alive"], f["closed"] = int(w[3]), int(w[5])
                        f["failed"], f["recv"] = int(w[7]), int(w[9])
                        if end is not None and "recv0" not in f:
                            f["recv0"], f["t_recv0"] = f["recv"], now
                if end is not None and now >= end:
                    break
                if end is None and now > t0 + 120:
                    raise Failed("peer_flood: not every peer connected in "
                                 "120 s: %s" % self.log_tail(name))
                if p.poll() is not None:
                    raise Failed("gtorrent seed exited (%s): %s" % (
                        p.returncode, self.log_tail(name)))
                if fl.poll() is not None:
                    raise Failed("peer_flood exited: %s" %
                                 self.log_tail("flood.log"))
                time.sleep(0.05)
            f["end_kib"] = mem_kib(gpid)[0]
            f["cpu"] = proc_cpu(gpid) - f["cpu0"]
            f["sock"] = socket_fds(gpid)
            f["hwm_kib"] = mem_kib(gpid)[1]
            f["rate"] = ((f["recv"] - f.get("recv0", f["recv"])) /
                         max(1e-3, now - f.get("t_recv0", now)))
        finally:
            self.stop(fl, signal.SIGTERM, 5)
            self.stop_seeder()
        return f

    def machine_sha1(self, notes, openssl=True):
        """The machine's SHA-1 MiB/s on every core: [(what, MiB/s)]."""
        n = os.cpu_count() or 1
        root = os.path.normpath(os.path.join(HERE, "..", ".."))
        exe = os.path.join(self.work, "sha1speed")
        out = []
        if not os.path.exists(exe):
            cc = os.environ.get("CC") or "cc"
            r = subprocess.run(
                [cc, "-std=c11", "-D_GNU_SOURCE", "-O2", "-pthread",
                 "-I", os.path.join(root, "include"),
                 os.path.join(HERE, "sha1speed.c"),
                 os.path.join(root, "src", "crypto.c"),
                 os.path.join(root, "src", "util.c"), "-o", exe,
                 "-lcrypto"], capture_output=True, timeout=300)
            if r.returncode != 0:
                notes.append("sha1speed.c did not build: %s" %
                             r.stderr.decode("utf-8", "replace")[-500:])
        if os.path.exists(exe):
            r = subprocess.run([exe, str(n), "3"], capture_output=True,
                               timeout=60)
            w = r.stdout.decode().split()
            if r.returncode == 0 and len(w) >= 5:
                out.append(("sha1_multi x%d" % n, float(w[4])))
            # Not the goal's reference: hashing the payload's size out of
            # memory, no I/O and no process start (the floor of a recheck).
            r = subprocess.run([exe, str(n), "1", str(self.mib)],
                               capture_output=True, timeout=60)
            w = r.stdout.decode().split()
            if r.returncode == 0 and len(w) >= 7 and w[3] == "stream":
                self.sha1_floor.append(("sha1_multi x%d" % n, float(w[6])))
        if openssl and shutil.which("openssl"):
            try:
                r = subprocess.run(
                    ["openssl", "speed", "-multi", str(n), "-evp", "sha1",
                     "-bytes", "262144", "-seconds", "3"],
                    capture_output=True, timeout=60)
                for ln in r.stdout.decode("utf-8", "replace").splitlines():
                    w = ln.split()
                    if len(w) == 2 and w[0] == "sha1" and w[1][-1] == "k":
                        # openssl's k: 1000 bytes/s
                        out.append(("openssl x%d" % n,
                                    float(w[1][:-1]) * 1000 / MIB))
            except subprocess.TimeoutExpired:
                notes.append("openssl speed timed out")
        return out

    def verify_one(self):
        """Case 8: one `gtorrent verify` of the payload (in the page
        cache); (wall s, CPU s)."""
        log = os.path.join(self.work, "verify.log")
        p = self.spawn([self.gt, "verify", "-q", "-o", self.data,
                        self.torrent], log, env=self.env)
        t0 = time.monotonic()
        deadline = t0 + self.timeout
        while True:
            pid, st, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                wall = time.monotonic() - t0
                break
            if time.monotonic() > deadline:
                self.stop(p, signal.SIGKILL)
                raise Failed("gtorrent verify timed out")
            time.sleep(0.002)
        p.returncode = os.waitstatus_to_exitcode(st)
        self.procs.remove(p)
        if p.returncode != 0:
            raise Failed("gtorrent verify: exit %d: %s" % (
                p.returncode, self.log_tail("verify.log")))
        return wall, ru.ru_utime + ru.ru_stime

    def warm(self):
        """Reads the payload so that it is in the page cache."""
        with open(self.payload, "rb") as f:
            while f.read(4 * MIB):
                pass


def socket_fds(pid):
    """How many of pid's descriptors are sockets, or None."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                        "socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return None
    return n


# --- reporting ---------------------------------------------------------------

def best(rs):
    """The best of each figure over the good runs, or None."""
    ok = [r for r in rs if r.ok]
    if not ok:
        return None
    b = Result(rs[0].client)
    b.ok = True
    b.wall = min(r.wall for r in ok)
    b.first = min(r.first for r in ok)
    b.cpu = min(r.cpu for r in ok)
    b.anon_kib = min(r.anon_kib for r in ok)
    b.maxrss_kib = min(r.maxrss_kib for r in ok)
    sc = [r.seed_cpu for r in ok if r.seed_cpu is not None]
    b.seed_cpu = min(sc) if sc else None
    bases = [r.base_anon_kib for r in ok if r.base_anon_kib]
    b.base_anon_kib = min(bases) if bases else None
    b.nok = len(ok)
    b.walls = [r.wall for r in rs if r.ok]
    b.fails = [r.why for r in rs if not r.ok]
    return b


FMT = "  %-22s %6s %7s %6s %7s %7s %7s %7s"
HEAD = (FMT %
        ("leecher", "wall s", "MiB/s", "1st ms", "CPU/GiB", "anonRSS",
         "peakRSS", "seedCPU"))
UNITS = (FMT %
         ("", "", "", "", "s", "MiB", "MiB", "s"))


def row(label, b, gib):
    if b is None:
        return "  %-22s FAILED" % label
    return (FMT % (
        label, "%.2f" % b.wall, "%.1f" % (gib * 1024 / b.wall),
        "%.1f" % (b.first * 1000), "%.2f" % (b.cpu / gib),
        "%.1f" % (b.anon_kib / 1024), "%.1f" % (b.maxrss_kib / 1024),
        "%.2f" % b.seed_cpu if b.seed_cpu is not None else "-"))


def goal(bench, case, what, figure, met):
    """Notes one goal for the summary at the end; "PASS"/"MISS"/"n/a"."""
    if met is None:
        mark = "n/a"
    else:
        mark = "PASS" if met else "MISS"
        if not met:
            bench.missed = True
    bench.goal_rows.append((case, what, figure, mark))
    return mark


def goals(bench, b, gib, others, case):
    """Issue 14's leecher goals for gtorrent: the goal row (the
    relative goals worked out from this run's others) and the PASS/MISS
    row; each also noted for the summary under case."""
    if b is None:
        bench.missed = True
        return ["    (gtorrent FAILED: no goal met)"]
    others = [o for o in others if o is not None]
    bw = min(others, key=lambda o: o.wall) if others else None
    ar = [o for o in others if o.client == "aria2c"]
    cpu = b.cpu / gib
    wall_goal = GOAL_WALL_VS_BEST * bw.wall if bw else None
    cpu_goal = GOAL_CPU_PER_GIB
    if ar:
        cpu_goal = min(cpu_goal, GOAL_CPU_VS_ARIA2 * ar[0].cpu / gib)
    marks = [
        goal(bench, case, "wall <= %.2fx best other's (%s %.2f s)" % (
            GOAL_WALL_VS_BEST, bw.client, bw.wall) if bw else
            "wall <= %.2fx the best other's" % GOAL_WALL_VS_BEST,
            "%.2f s = %.2fx" % (b.wall, b.wall / bw.wall) if bw else
            "%.2f s" % b.wall, b.wall <= wall_goal if bw else None),
        goal(bench, case, "first data <= %.0f ms" % GOAL_FIRST_MS,
             "%.1f ms" % (b.first * 1000),
             b.first * 1000 <= GOAL_FIRST_MS),
        goal(bench, case, "CPU <= %.2f s/GiB" % GOAL_CPU_PER_GIB,
             "%.2f s/GiB" % cpu, cpu <= GOAL_CPU_PER_GIB),
        goal(bench, case, "CPU <= %.2fx aria2c's (%s)" % (
            GOAL_CPU_VS_ARIA2, "%.2f s/GiB" % (ar[0].cpu / gib)
            if ar else "not run"),
            "%.2fx" % (b.cpu / ar[0].cpu) if ar else "-",
            b.cpu <= GOAL_CPU_VS_ARIA2 * ar[0].cpu if ar else None),
        goal(bench, case, "anon RSS <= %.0f MiB" % GOAL_RSS_MIB,
             "%.1f MiB" % (b.anon_kib / 1024),
             b.anon_kib / 1024 <= GOAL_RSS_MIB),
    ]
    cpu_mark = "PASS" if marks[2] == "PASS" and \
        marks[3] in ("PASS", "n/a") else "MISS"
    return [
        (FMT % ("  goal", "<=%.2f" % wall_goal if bw else "", "",
                "<=%.0f" % GOAL_FIRST_MS, "<=%.2f" % cpu_goal,
                "<=%.0f" % GOAL_RSS_MIB, "", "")).rstrip(),
        (FMT % ("", marks[0], "", marks[1], cpu_mark, marks[4], "",
                "")).rstrip(),
        "    (goals: wall <= %.2fx best other's; CPU <= %.2f s/GiB and "
        "%.2fx aria2c's)" % (GOAL_WALL_VS_BEST, GOAL_CPU_PER_GIB,
                                GOAL_CPU_VS_ARIA2),
    ]


def ratios(g, others, what):
    """gtorrent's figures over the best of the others, as a row under
    the table, and who was best at each."""
    others = [o for o in others if o is not None]
    if g is None or not others:
        return ["  gtorrent / %s: no comparison" % what]
    figs = [("wall", lambda o: o.wall, min),
            ("MiB/s", lambda o: 1 / o.wall, max),
            ("1st", lambda o: o.first, min),
            ("CPU", lambda o: o.cpu, min),
            ("anonRSS", lambda o: o.anon_kib, min),
            ("peakRSS", lambda o: o.maxrss_kib, min)]
    cells = []
    names = []
    for label, key, pick in figs:
        v = pick(key(o) for o in others)
        who = [o.client for o in others if key(o) == v][0]
        cells.append("%.2fx" % (key(g) / v) if v else "-")
        names.append("%s %s" % (label, who))
    note = ("(gtorrent's figure over that of %s; best: %s; MiB/s: "
            "higher is better, the rest lower)" % (what, ", ".join(names)))
    return ([(FMT % (("gtorrent / best", ) + tuple(cells) +
                     ("", ))).rstrip()] +
        textwrap.wrap(note, 78, initial_indent="    ",
                      subsequent_indent="     "))


def table(bench, title, res, label=None, case=None):
    """One row per client, best of its runs; with case, gtorrent's
    goal rows under its row (noted for the summary under case)."""
    gib = bench.size / GIB
    print()
    say(title)
    print(HEAD)
    print(UNITS)
    bs = {c: best(rs) for c, rs in res.items()}
    others = [v for k, v in bs.items() if not k.startswith("gtorrent")]
    for c, rs in res.items():
        b = bs[c]
        print(row(label(c) if label else c, b, gib))
        if c == "gtorrent" and case is not None:
            for ln in goals(bench, b, gib, others, case):
                print(ln)
        if b is None:
            bench.failed = True
            print("    %s" % rs[0].why.replace("\n", "\n    ").rstrip())
        else:
            if b.fails:
                bench.failed = True
                print("    %d of %d runs FAILED: %s" % (
                    len(b.fails), len(rs), b.fails[0].splitlines()[0]))
            if b.base_anon_kib:
                print("    (anon RSS includes python + libtorrent: %.1f MiB "
                      "before the download;\n     libtorrent dials out on "
                      "its 500 ms tick, hence its late first data)" %
                      (b.base_anon_kib / 1024))
    return bs


FMT5 = "  %-12s %8s %8s %9s %7s %5s"


def seed_table(bench, res):
    """Case 5: per seeder, its CPU per GiB served and the libtorrent
    leecher's wall; gtorrent's goals."""
    gib = bench.size / GIB
    print()
    say("one seeder, a libtorrent leecher, %d MiB, best of %d" % (
        bench.mib, bench.runs))
    print(FMT5 % ("seeder", "seedCPU", "CPU/GiB", "leecher", "MiB/s",
                  "runs"))
    print(FMT5 % ("", "s", "served", "wall s", "", "ok"))
    bs = {}
    for c, rs in res.items():
        ok = [r for r in rs if r.ok and r.seed_cpu is not None]
        if not ok:
            bs[c] = None
            bench.failed = True
            print("  %-12s FAILED: %s" % (c, rs[0].why.replace(
                "\n", "\n    ").rstrip() if rs else "not run"))
            continue
        cpu = min(r.seed_cpu for r in ok)
        wall = min(r.wall for r in ok)
        bs[c] = (cpu, wall)
        print(FMT5 % (c, "%.2f" % cpu, "%.2f" % (cpu / gib), "%.2f" % wall,
                      "%.1f" % (bench.mib / wall), "%d/%d" % (len(ok),
                                                              len(rs))))
        if len(ok) < len(rs):
            bench.failed = True
            print("    %d of %d runs FAILED: %s" % (
                len(rs) - len(ok), len(rs),
                [r.why for r in rs if not r.ok][0].splitlines()[0]))
    g = bs.get("gtorrent")
    others = {k: v for k, v in bs.items() if k != "gtorrent" and v}
    case = "5 seeder"
    if g is None:
        if "gtorrent" in bs:
            goal(bench, case, "gtorrent seeding", "FAILED", False)
        return
    bc = min(others.items(), key=lambda kv: kv[1][0]) if others else None
    bw = min(others.items(), key=lambda kv: kv[1][1]) if others else None
    m1 = goal(bench, case, "seeder CPU <= %.2f s/GiB served" %
              GOAL_SEED_CPU_PER_GIB, "%.2f s/GiB" % (g[0] / gib),
              g[0] / gib <= GOAL_SEED_CPU_PER_GIB)
    m2 = goal(bench, case, "seeder CPU <= %.2fx best other's (%s "
              "%.2f)" % (GOAL_SEED_CPU_VS_BEST, bc[0],
                               bc[1][0] / gib) if bc else
              "seeder CPU <= %.2fx the best other's" %
              GOAL_SEED_CPU_VS_BEST,
              "%.2fx" % (g[0] / bc[1][0]) if bc and bc[1][0] else "-",
              g[0] <= GOAL_SEED_CPU_VS_BEST * bc[1][0] if bc else None)
    m3 = goal(bench, case, "leecher wall <= best other seeder's "
              "(%s %.2f s)" % (bw[0], bw[1][1]) if bw else
              "leecher wall <= the best other seeder's",
              "%.2f s = %.2fx" % (g[1], g[1] / bw[1][1]) if bw else
              "%.2f s" % g[1],
              g[1] <= GOAL_SEED_WALL_VS_BEST * bw[1][1] if bw else None)
    print("  goal gtorrent: CPU/GiB <= %.2f: %s; <= %.2fx the best other "
          "seeder's: %s;\n    leecher wall <= with the best other seeder: "
          "%s" % (GOAL_SEED_CPU_PER_GIB, m1, GOAL_SEED_CPU_VS_BEST, m2, m3))
    print("\n".join(textwrap.wrap(
        "(seedCPU: user+sys of the seeding process from the leecher's go "
        "to its completion (the serving only; each seeder is started, and "
        "has checked its data, before); leecher: a libtorrent session "
        "given the seeder's address; every seeder is restarted for each "
        "run; Transmission is left out: ~3 MB/s from it on loopback)",
        76, initial_indent="  ", subsequent_indent="   ")))


def many_table(bench, rs, one):
    """Case 6: gtorrent from 20 seeders; its CPU/GiB against case 1's
    (one, a best() or None)."""
    gib = bench.size / GIB
    n = bench.many_lt + bench.many_gt
    print()
    say("gtorrent from %d seeders at once (%d libtorrent sessions in one "
        "process, %d gtorrent seed processes), best of %d" % (
            n, bench.many_lt, bench.many_gt, len(rs)))
    print(HEAD)
    print(UNITS)
    b = best(rs)
    print(row("gtorrent <- %d" % n, b, gib))
    case = "6 %d seeders" % n
    if b is None:
        bench.failed = True
        print("    %s" % rs[0].why.replace("\n", "\n    ").rstrip())
        goal(bench, case, "CPU/GiB <= case 1's", "FAILED", False)
        return
    if b.fails:
        bench.failed = True
        print("    %d of %d runs FAILED: %s" % (
            len(b.fails), len(rs), b.fails[0].splitlines()[0]))
    if one is not None:
        r = b.cpu / one.cpu
        m = goal(bench, case, "CPU/GiB <= %.2fx case 1's (%.2f s/GiB)" % (
            GOAL_MANY_VS_ONE, one.cpu / gib), "%.2f s/GiB = %.2fx" % (
            b.cpu / gib, r), r <= GOAL_MANY_VS_ONE)
        print("  goal: CPU/GiB <= %.2fx one seeder's (case 1, %.2f): "
              "%.2fx %s" % (GOAL_MANY_VS_ONE, one.cpu / gib, r, m))
    else:
        goal(bench, case, "CPU/GiB <= case 1's", "%.2f s/GiB (no case 1)"
             % (b.cpu / gib), None)
        print("  goal: CPU/GiB <= one seeder's: no case 1 in this run")
    print("  (seedCPU: all %d seeders together)" % n)


def flood_table(bench, f):
    """Case 7: gtorrent with flood_peers connected peers."""
    print()
    say("gtorrent seed with %d connected peers (peer_flood.py), one run" %
        bench.flood_peers)
    case = "7 %d peers" % bench.flood_peers
    if isinstance(f, str):
        bench.failed = True
        print("  FAILED: %s" % f.replace("\n", "\n    "))
        goal(bench, case, "anon RSS <= %.0f MiB" % GOAL_FLOOD_RSS_MIB,
             "FAILED", False)
        return
    mib = lambda k: "%.1f MiB" % (k / 1024) if k is not None else "?"
    print("  peers connected     %s of %d in %.1f s; after %.0f s of "
          "traffic: %d alive, %d closed by gtorrent, %d never connected" % (
              f["connected"], bench.flood_peers, f["connect_s"],
              bench.flood_secs, f["alive"], f["closed"], f["failed"]))
    print("  gtorrent's sockets  %s when all were connected, %s at the "
          "end" % (f["sock0"], f["sock"]))
    print("  anon RSS            %s before, %s with all connected, %s at "
          "the end, peak %s" % (mib(f["base_kib"]), mib(f["all_kib"]),
                                mib(f["end_kib"]), mib(f["peak_kib"])))
    print("  VmHWM               %s (with file pages)" % mib(f["hwm_kib"]))
    print("  traffic             %.1f MiB/s served to the requesters, "
          "gtorrent CPU %.2f s over %.0f s" % (f["rate"] / MIB, f["cpu"],
                                              bench.flood_secs))
    ok = f["connected"] == bench.flood_peers and \
        f["alive"] == bench.flood_peers
    m = goal(bench, case, "anon RSS <= %.0f MiB (peak)" % GOAL_FLOOD_RSS_MIB,
             "%s%s" % (mib(f["peak_kib"]), "" if ok else
                       " (%d alive)" % f["alive"]),
             f["peak_kib"] / 1024 <= GOAL_FLOOD_RSS_MIB and ok)
    print("  goal: peak anon RSS <= %.0f MiB with all %d connected: %s" % (
        GOAL_FLOOD_RSS_MIB, bench.flood_peers, m))
    print("\n".join(textwrap.wrap(
        "(gtorrent seed --max-peers %d --no-choking; the peers come from "
        "127.0.0.2-11, send an empty bitfield (one in three: every other "
        "piece) and INTERESTED, keep-alives; one in ten requests blocks, "
        "8 outstanding; anon RSS: RssAnon of /proc/PID/status every 50 ms)"
        % (bench.flood_peers + 100), 76, initial_indent="  ",
        subsequent_indent="   ")))


def recheck_table(bench, machine, runs, notes):
    """Case 8: gtorrent verify's MiB/s against the machine's SHA-1."""
    print()
    say("recheck: gtorrent verify of %d MiB in the page cache, best of %d"
        % (bench.mib, len(runs)))
    for n in notes:
        print("  note: %s" % n)
    for what, v in machine:
        print("  machine SHA-1  %-16s %8.1f MiB/s" % (what, v))
    for what, v in bench.sha1_floor:
        print("  in memory      %-16s %8.1f MiB/s (%d MiB: the floor, "
              "not the reference)" % (what, v, bench.mib))
    floor = [v for _, v in bench.sha1_floor]
    case = "8 recheck"
    ok = [r for r in runs if not isinstance(r, str)]
    if not ok:
        bench.failed = True
        print("  gtorrent verify FAILED: %s" % (runs[0] if runs else
                                                 "not run"))
        goal(bench, case, "recheck >= %.0f%% of the machine's SHA-1" %
             (GOAL_RECHECK_SHARE * 100), "FAILED", False)
        return
    wall = min(w for w, _ in ok)
    cpu = min(c for _, c in ok)
    rate = bench.size / MIB / wall
    print("  gtorrent verify                 %8.1f MiB/s (%.2f s, CPU "
          "%.2f s)" % (rate, wall, cpu))
    if len(ok) < len(runs):
        bench.failed = True
        print("  %d of %d runs FAILED" % (len(runs) - len(ok), len(runs)))
    if not machine:
        goal(bench, case, "recheck >= %.0f%% of the machine's SHA-1" %
             (GOAL_RECHECK_SHARE * 100), "%.1f MiB/s" % rate, None)
        return
    top = max(v for _, v in machine)
    m = goal(bench, case, "verify >= %.0f%% of machine SHA-1 "
             "(%.0f MiB/s)" % (GOAL_RECHECK_SHARE * 100, top),
             "%.1f MiB/s = %.1f%%" % (rate, 100 * rate / top),
             rate >= GOAL_RECHECK_SHARE * top)
    print("  goal: >= %.0f%% of the best machine figure (%.1f MiB/s): "
          "%.1f%% %s" % (GOAL_RECHECK_SHARE * 100, top, 100 * rate / top, m))
    if floor:
        print("  the same SHA-1 over %d MiB in memory: %.1f%% of that "
              "figure; gtorrent verify: %.1f%% of it" % (
                  bench.mib, 100 * max(floor) / top,
                  100 * rate / max(floor)))


def summary(bench):
    """Every goal noted in this run, with PASS/MISS."""
    if not bench.goal_rows:
        return
    print()
    say("issue 14's goals in this run")
    fmt = "  %-13s %-54s %-22s %s"
    for case, what, figure, mark in bench.goal_rows:
        print(fmt % (case, what, figure, mark))


FMT4 = "  %-12s %9s %8s %8s %9s %8s %8s"


def magnet_table(bench, res):
    """Case 4: first data and wall, from the .torrent and from the
    magnet, and the magnet's extra time, per client."""
    print()
    say("a magnet against the .torrent, one libtorrent seeder, %d MiB, "
        "best of %d" % (bench.mib, bench.runs))
    print("  %-12s %s %s" % ("", " first data, ms ".center(27, "-"),
                             " wall, s ".center(27, "-")))
    print(FMT4 % ("leecher", ".torrent", "magnet", "extra", ".torrent",
                  "magnet", "extra"))
    for c, rr in res.items():
        bt, bm = best(rr["torrent"]), best(rr["magnet"])
        if bt is not None and bm is not None:
            print(FMT4 % (c, "%.1f" % (bt.first * 1000),
                          "%.1f" % (bm.first * 1000),
                          "%+.1f" % ((bm.first - bt.first) * 1000),
                          "%.2f" % bt.wall, "%.2f" % bm.wall,
                          "%+.2f" % (bm.wall - bt.wall)))
        else:
            print(FMT4 % ((c, ) + tuple(
                "%.1f" % (x.first * 1000) if x else "FAILED"
                for x in (bt, bm)) + ("-", ) + tuple(
                "%.2f" % x.wall if x else "FAILED" for x in (bt, bm)) +
                ("-", )))
        if c == "gtorrent":
            met = bt is not None and bm is not None and \
                (bm.first - bt.first) * 1000 <= GOAL_MAGNET_EXTRA_MS
            if not met:
                bench.missed = True
            print((FMT4 % ("  goal", "", "", "<=+%.0f" %
                           GOAL_MAGNET_EXTRA_MS, "", "", "")).rstrip())
            print((FMT4 % ("", "", "", "met" if met else "MISSED", "", "",
                           "")).rstrip())
        ds = [(m.first - t.first) * 1000 for t, m in
              zip(rr["torrent"], rr["magnet"]) if t.ok and m.ok]
        if ds:
            print("    first-data extra, round by round: %s ms (median "
                  "%+.1f)" % (" ".join("%+.1f" % d for d in ds),
                              statistics.median(ds)))
        for kind, rs, b in (("torrent", rr["torrent"], bt),
                            ("magnet", rr["magnet"], bm)):
            fails = [r.why for r in rs if not r.ok]
            if fails:
                bench.failed = True
                print("    %s: %d of %d runs FAILED: %s" % (
                    kind, len(fails), len(rs),
                    fails[0].replace("\n", "\n    ").rstrip()
                    if b is None else fails[0].splitlines()[0]))
    print("\n".join(textwrap.wrap(
        "(extra: the best magnet figure minus the best .torrent figure "
        "(round by round: the same round's; the two downloads of a round "
        "run back to back, in alternating order); "
        "from the magnet, the leecher first fetches the info dict from the "
        "seeder (BEP 9 ut_metadata) and checks it against the btih.  %s"
        "gtorrent and libtorrent are given the seeder's address, aria2c "
        "finds it through opentracker (tr= in the magnet, the announce URL "
        "in the .torrent); ctorrent has no magnets.)" % (
            "%d MiB rather than %d: first data is what this case measures, "
            "and the wall times scale with the size (BENCH_MAGNET_MIB).  " % (
                bench.mib, bench.swarm_mib)
            if bench.mib != bench.swarm_mib else ""), 76,
        initial_indent="  ", subsequent_indent="   ")))


def bench_main():
    b = Bench()
    t_start = time.monotonic()

    def on_signal(sig, _):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not os.access(b.gt, os.X_OK):
            say("no gtorrent binary at %s (run make)" % b.gt)
            return 1
        load0 = loadavg()
        if float(load0) > 0.5:
            say("warning: load average %s: other work shares the CPUs, so "
                "wall-clock speeds are low and noisy; see the CPU figures"
                % load0)
        unknown = b.cases - set(ALL_CASES.split(","))
        if unknown:
            say("unknown case(s) %s (cases 1 to 8 or %s)" % (
                ",".join(sorted(unknown)), ", ".join(CASE_NAMES)))
            return 1
        b.make_tracker()
        big = small = None
        if b.cases & {"1", "2", "3", "5", "6", "7", "8"}:
            big = b.make_payload(b.swarm_mib)
        if "4" in b.cases:
            small = big if big is not None and \
                b.magnet_mib == b.swarm_mib else \
                b.make_payload(b.magnet_mib)
        if big is None and small is None:
            say("no case selected (BENCH_CASES=%s; cases 1 to 8)" %
                ",".join(sorted(b.cases)))
            return 1
        clients, notes = b.available()
        for n in notes:
            say(n)
        for pl in [big] + ([small] if small is not big else []):
            if pl is not None:
                say("torrent %s: %d MiB, one file, 256 KiB pieces" % (
                    pl["ih"], pl["mib"]))
        say("%d runs per client (cases 6: %d, 7: 1), best of each figure; "
            "timeout %.0f s a run" % (b.runs, b.heavy_runs, b.timeout))
        say("wall: start to completion; 1st: first 16 KiB on disk; "
            "CPU: user+sys of the leecher; anonRSS: peak RssAnon (5 ms "
            "polls); peakRSS: VmHWM (with file pages); seedCPU: the "
            "seeders' CPU in the run")

        r1 = r4 = r3 = rm = r5 = r6 = r7 = r8 = None
        if big is not None:
            b.use(big)
        if "1" in b.cases:
            say("case 1: one libtorrent seeder")
            b.start_lt_seeders(1)
            r1 = b.series(clients)
        if "2" in b.cases:
            say("case 2: four libtorrent seeders")
            b.start_lt_seeders(4)
            r4 = b.series(clients)

        both = ["gtorrent", "libtorrent"]
        if b.only is not None:
            both = [c for c in both if c in b.only]
        if "3" in b.cases:
            say("case 3: gtorrent -> gtorrent, libtorrent -> libtorrent")
            r3 = {c: [] for c in both}
        for i in range(b.runs if r3 is not None else 0):
            if "gtorrent" in r3:
                b.start_gt_seeder()
                r = b.run_one("gtorrent")
                r3["gtorrent"].append(r)
                say("  run %d gtorrent->gtorrent %s" % (
                    i + 1, "%.2f s" % r.wall if r.ok else "FAILED"))
            if "libtorrent" in r3:
                b.start_lt_seeders(1)
                r = b.run_one("libtorrent")
                r3["libtorrent"].append(r)
                say("  run %d libtorrent->libtorrent %s" % (
                    i + 1, "%.2f s" % r.wall if r.ok else "FAILED"))
        if "4" in b.cases:
            say("case 4: a magnet against the .torrent, one libtorrent "
                "seeder, %d MiB" % small["mib"])
            b.use(small)
            b.start_lt_seeders(1)
            rm = b.magnet_series([c for c in clients if c != "ctorrent"])
            if big is not None:
                b.use(big)
        if "5" in b.cases:
            seeders = [c for c in SEEDERS if (b.only is None or
                                               c in b.only)]
            for c in ("aria2c", "rtorrent"):
                if c in seeders and not shutil.which(c):
                    say("%s seeder skipped: not installed" % c)
                    seeders.remove(c)
            say("case 5: one seeder (%s), a libtorrent leecher" %
                ", ".join(seeders))
            r5 = {c: [] for c in seeders}
            for i in range(b.runs):
                for c in seeders:
                    try:
                        b.start_seeder(c)
                        r = b.run_one("libtorrent")
                    except Failed as e:
                        r = Result("libtorrent")
                        r.why = str(e)
                    finally:
                        b.stop_seeder()
                    r5[c].append(r)
                    say("  run %d seeder %-10s %s" % (
                        i + 1, c, "leecher %.2f s, seeder CPU %.2f s" % (
                            r.wall, r.seed_cpu) if r.ok and
                        r.seed_cpu is not None else
                        "FAILED: " + r.why.splitlines()[0]))
        if "6" in b.cases:
            n = b.many_lt + b.many_gt
            say("case 6: gtorrent from %d seeders (%d libtorrent, %d "
                "gtorrent)" % (n, b.many_lt, b.many_gt))
            r6 = []
            try:
                b.start_many(b.many_lt, b.many_gt)
                for i in range(b.heavy_runs):
                    r = b.run_one("gtorrent")
                    r6.append(r)
                    say("  run %d gtorrent <- %d seeders %s" % (
                        i + 1, n, "%.2f s, CPU %.2f s" % (r.wall, r.cpu)
                        if r.ok else "FAILED: " + r.why.splitlines()[0]))
            except Failed as e:
                r = Result("gtorrent")
                r.why = str(e)
                r6.append(r)
                say("  FAILED: %s" % r.why.splitlines()[0])
            b.stop_seeder()
        if "7" in b.cases:
            say("case 7: gtorrent seed with %d connected peers, %.0f s" % (
                b.flood_peers, b.flood_secs))
            try:
                r7 = b.flood_one()
                say("  peak anon RSS %.1f MiB, %d peers alive" % (
                    r7["peak_kib"] / 1024, r7["alive"]))
            except Failed as e:
                r7 = str(e)
                say("  FAILED: %s" % r7.splitlines()[0])
        if "8" in b.cases:
            say("case 8: recheck (gtorrent verify) against the machine's "
                "SHA-1")
            notes8 = []
            machine = b.machine_sha1(notes8)
            b.warm()
            r8 = []
            for i in range(b.runs):
                try:
                    w, c = b.verify_one()
                    r8.append((w, c))
                    say("  run %d verify %.2f s, %.1f MiB/s" % (
                        i + 1, w, b.mib / w))
                except Failed as e:
                    r8.append(str(e))
                    say("  run %d FAILED: %s" % (i + 1, e))
            machine += b.machine_sha1(notes8, False)    # again, after
        b.stop_seeder()

        print()
        say("results%s (load average %s at the start, %s now)" % (
            ", %d MiB" % big["mib"] if big is not None else "", load0,
            loadavg()))
        bs1 = None
        if r1 is not None:
            bs1 = table(b, "one libtorrent seeder, best of %d" % b.runs, r1,
                        case="1 leecher")
            print("\n".join(ratios(bs1.get("gtorrent"),
                                   [v for k, v in bs1.items()
                                    if k != "gtorrent"], "the best other")))
            if bs1.get("aria2c") is not None:
                print("\n".join(ratios(bs1.get("gtorrent"),
                                       [bs1["aria2c"]], "aria2c")[:1])
                      .replace("gtorrent / best ", "gtorrent / aria2c"))
        if r4 is not None:
            bs4 = table(b, "four libtorrent seeders, best of %d" % b.runs,
                        r4, case="2 4 seeders")
            print("\n".join(ratios(bs4.get("gtorrent"),
                                   [v for k, v in bs4.items()
                                    if k != "gtorrent"], "the best other")))
        if r3 is not None:
            bs3 = table(b, "seeder and leecher the same client, best of %d"
                        % b.runs, r3,
                        label=lambda c: "%s->%s" % (c, c))
            print("\n".join(ratios(bs3.get("gtorrent"),
                                   [bs3.get("libtorrent")],
                                   "libtorrent->libtorrent")))
            print("  (seedCPU here: the gtorrent seed process, or the "
                  "libtorrent seeding process)")
            g3, l3 = bs3.get("gtorrent"), bs3.get("libtorrent")
            if g3 is not None and l3 is not None:
                x = l3.wall / g3.wall
                m = goal(b, "3 same client", "gt->gt >= %.1fx as fast as "
                         "lt->lt (wall)" % GOAL_SAME_SPEEDUP,
                         "%.2fx (%.2f s, %.2f s)" % (x, g3.wall, l3.wall),
                         x >= GOAL_SAME_SPEEDUP)
                print("  goal: gtorrent->gtorrent >= %.1fx as fast as "
                      "libtorrent->libtorrent: %.2fx %s" % (
                          GOAL_SAME_SPEEDUP, x, m))
            else:
                goal(b, "3 same client", "gt->gt >= %.1fx as fast as lt->lt"
                     % GOAL_SAME_SPEEDUP, "FAILED or not run",
                     False if "gtorrent" in r3 else None)
        if rm is not None:
            b.use(small)
            magnet_table(b, rm)
            if big is not None:
                b.use(big)
        if r5 is not None:
            seed_table(b, r5)
        if r6 is not None:
            many_table(b, r6, bs1.get("gtorrent") if bs1 else None)
        if r7 is not None:
            flood_table(b, r7)
        if r8 is not None:
            recheck_table(b, machine, r8, notes8)
        summary(b)
        say("took %.0f s" % (time.monotonic() - t_start))
        if b.failed:
            say("some runs FAILED")
            return 1
        if b.strict and b.missed:
            say("goals missed (BENCH_STRICT=1)")
            return 1
        return 0
    except Failed as e:
        say("error: %s" % e)
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        b.cleanup()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("lt-seed")
    s.add_argument("--torrent", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--ports", required=True)
    s.add_argument("--ready", required=True)
    s.add_argument("--life", type=float, default=3600)
    s.add_argument("--no-trackers", action="store_true")
    s.add_argument("--seed-mode", action="store_true")
    s = sub.add_parser("lt-leech")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--torrent")
    g.add_argument("--magnet")
    s.add_argument("--out", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--peer", action="append", default=[])
    s.add_argument("--marker", required=True)
    s.add_argument("--life", type=float, default=125)
    args = ap.parse_args()
    if args.cmd == "lt-seed":
        return lt_seed_main(args)
    if args.cmd == "lt-leech":
        return lt_leech_main(args)
    return bench_main()


if __name__ == "__main__":
    sys.exit(main())
