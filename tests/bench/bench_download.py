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
differs or that times out is FAILED.  Runs go round-robin (every client
once, then again), and the table shows the best of BENCH_RUNS runs.

Cases: 1, one libtorrent seeder; 2, four; 3, gtorrent -> gtorrent
against libtorrent -> libtorrent (one seeder, one leecher each); 4, a
magnet against the .torrent: gtorrent, libtorrent and aria2c each
download from one libtorrent seeder once from the .torrent and once from
the magnet URI (xt=urn:btih only; aria2c's also has tr=, the tracker,
its only way to the seeder with DHT off), and the table shows first data
and wall of both and the magnet's extra time.  Case 4 uses its own
smaller payload, BENCH_MAGNET_MIB (default 256): first data is what it
measures.

BENCH_CLIENTS (comma-separated, e.g. "gtorrent") limits the leechers;
BENCH_CASES (e.g. "1,2" or "4"; default all) the cases, by number.

Sub-commands used internally: `lt-seed` (the seeding process) and
`lt-leech` (the libtorrent leecher process).
"""

import argparse
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

# gtorrent's goals, for 1 GiB (wall time scales with the size)
GOAL_WALL_PER_GIB = 1.7
GOAL_FIRST_MS = 50.0
GOAL_CPU_PER_GIB = 1.5
GOAL_RSS_MIB = 16.0
GOAL_MAGNET_EXTRA_MS = 50.0    # magnet first data - .torrent first data


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
        cs = os.environ.get("BENCH_CASES", "1,2,3,4")
        self.cases = {c.strip() for c in cs.split(",") if c.strip()}
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
        self.seed_ports = []
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
            pl["ih"] = helpers.info_hash_hex(f.read())
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
        self.magnet = "magnet:?xt=urn:btih:%s" % self.ih

    def start_tracker(self):
        if self.tracker is None:
            return
        self.tracker.stop()
        self.tracker.proc = None
        self.tracker.start(self.ih)

    def start_lt_seeders(self, n):
        self.stop_seeder()
        self.start_tracker()    # a fresh peer list for each case
        self.seed_ports = [peers.free_port() for _ in range(n)]
        ready = os.path.join(self.work, "seed.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.seeder = self.spawn(
            [self.py, os.path.abspath(__file__), "lt-seed", "--torrent",
             self.torrent, "--data", self.data, "--ready", ready,
             "--ports", ",".join(map(str, self.seed_ports)),
             "--life", "3600"], os.path.join(self.work, "seed.log"))
        if not peers.wait_until(lambda: os.path.exists(ready) or
                                self.seeder.poll() is not None, 300, 0.05) \
                or not os.path.exists(ready):
            raise Failed("the libtorrent seeders did not start: %s" %
                         self.log_tail("seed.log"))
        if self.tracker is not None:
            if not self.tracker.wait_peers(bytes.fromhex(self.ih),
                                           complete=n, timeout=30):
                raise Failed("the seeders did not reach the tracker")

    def start_gt_seeder(self):
        self.stop_seeder()
        port = peers.free_port()
        self.seed_ports = [port]
        log = os.path.join(self.work, "gtseed.log")
        self.seeder = self.spawn([self.gt, "seed", "-v", "--no-tracker",
                                  "--no-dht", "-o", self.data, "-p", str(port),
                                  self.torrent], log)

        def ready():
            with open(log, "rb") as f:
                return b"pieces already here" in f.read()
        if not peers.wait_until(lambda: ready() or
                                self.seeder.poll() is not None, 300, 0.05) \
                or not peers.wait_listening(port, 10):
            raise Failed("the gtorrent seeder did not start: %s" %
                         self.log_tail("gtseed.log"))

    def stop_seeder(self):
        if self.seeder is not None:
            self.stop(self.seeder, signal.SIGTERM, 10)
            self.seeder = None

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
            argv = [self.gt, "download", "-q", "--no-tracker", "--no-dht",
                    "-o", out, "-p", str(port)]
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
        seed_pid = self.seeder.pid
        p = None
        try:
            s0 = proc_cpu(seed_pid)
            cpu0 = 0.0
            if lt:
                p = self.spawn(argv, log, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
                line = self.read_line(p, 30)
                if line != "ready":
                    raise Failed("libtorrent leecher: %r" % line)
                cpu0 = proc_cpu(p.pid) or 0.0
                r.base_anon_kib = mem_kib(p.pid)[0]
                t0 = time.monotonic()
                p.stdin.write(b"go\n")
                p.stdin.flush()
            else:
                t0 = time.monotonic()
                p = self.spawn(argv, log)
            self.watch(p, r, t0, target, marker, stopsig)
            s1 = proc_cpu(seed_pid)
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


def goals(bench, b, gib):
    """The goal row and the met/MISSED row for gtorrent."""
    if b is None:
        bench.missed = True
        return []
    wall_goal = GOAL_WALL_PER_GIB * gib
    marks = [b.wall <= wall_goal, b.first * 1000 <= GOAL_FIRST_MS,
             b.cpu / gib <= GOAL_CPU_PER_GIB,
             b.anon_kib / 1024 <= GOAL_RSS_MIB]
    if not all(marks):
        bench.missed = True
    m = ["met" if x else "MISSED" for x in marks]
    return [
        (FMT % ("  goal", "<=%.2f" % wall_goal, "",
                "<=%.0f" % GOAL_FIRST_MS, "<=%.2f" % GOAL_CPU_PER_GIB,
                "<=%.0f" % GOAL_RSS_MIB, "", "")).rstrip(),
        (FMT % ("", m[0], "", m[1], m[2], m[3], "", "")).rstrip(),
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


def table(bench, title, res, label=None):
    gib = bench.size / GIB
    print()
    say(title)
    print(HEAD)
    print(UNITS)
    bs = {}
    for c, rs in res.items():
        b = best(rs)
        bs[c] = b
        print(row(label(c) if label else c, b, gib))
        if c == "gtorrent" or c.startswith("gtorrent"):
            for ln in goals(bench, b, gib):
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
        b.make_tracker()
        big = small = None
        if b.cases & {"1", "2", "3"}:
            big = b.make_payload(b.swarm_mib)
        if "4" in b.cases:
            small = big if big is not None and \
                b.magnet_mib == b.swarm_mib else \
                b.make_payload(b.magnet_mib)
        if big is None and small is None:
            say("no case selected (BENCH_CASES=%s; cases 1 to 4)" %
                ",".join(sorted(b.cases)))
            return 1
        clients, notes = b.available()
        for n in notes:
            say(n)
        for pl in [big] + ([small] if small is not big else []):
            if pl is not None:
                say("torrent %s: %d MiB, one file, 256 KiB pieces" % (
                    pl["ih"], pl["mib"]))
        say("%d runs per client, best of each figure; timeout %.0f s a "
            "run" % (b.runs, b.timeout))
        say("wall: start to completion; 1st: first 16 KiB on disk; "
            "CPU: user+sys of the leecher; anonRSS: peak RssAnon (5 ms "
            "polls); peakRSS: VmHWM (with file pages); seedCPU: the "
            "seeders' CPU in the run")

        r1 = r4 = r3 = rm = None
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
        b.stop_seeder()

        print()
        say("results%s (load average %s at the start, %s now)" % (
            ", %d MiB" % big["mib"] if big is not None and
            b.cases & {"1", "2", "3"} else "", load0, loadavg()))
        if big is not None:
            b.use(big)
        if r1 is not None:
            bs1 = table(b, "one libtorrent seeder, best of %d" % b.runs, r1)
            print("\n".join(ratios(bs1.get("gtorrent"),
                                   [v for k, v in bs1.items()
                                    if k != "gtorrent"], "the best other")))
        if r4 is not None:
            bs4 = table(b, "four libtorrent seeders, best of %d" % b.runs,
                        r4)
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
        if rm is not None:
            b.use(small)
            magnet_table(b, rm)
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
