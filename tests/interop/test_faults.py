"""Faults (issue 12): a full disk, --preallocate short of space, an
output folder gtorrent may not write, a data file deleted mid-run, and
the wall clock jumping.  Each ends in one clear line with the system's
words (never "input/output error") and loses no verified piece.

The small file systems are tmpfs mounts in a mount namespace of the
test's own (`unshare -m` holding it, `nsenter` to mount and to run
gtorrent in it; the test reads the files through /proc/PID/root); the
tests skip where that is not permitted.  The wall clock is moved with an
LD_PRELOAD library (clockshim.c, compiled here with cc) that adds the
seconds written in a file to CLOCK_REALTIME, gettimeofday() and time().
Every process runs on 127.0.0.1 and is killed by PID at teardown.
"""

import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import helpers
import peers
from helpers import KIB, MIB
from peers import why
from resumekit import (RATE, Case, checked, environ, gt_seed,
                       proc_io, read_record, resumed)

HERE = os.path.dirname(os.path.abspath(__file__))
GT_TIMEOUT = 60
NOT_EIO = re.compile(r"input/output error", re.I)


@pytest.fixture(autouse=True)
def _config_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME",
                       str(tmp_path_factory.mktemp("config")))


def leech_args(case, port, out, *extra, listen=None):
    return ["--no-tracker", "--peer", "127.0.0.1:%d" % port, "-p",
            listen or peers.free_port(), "-o", out] + list(extra) + \
        [case.torrent]


def one_line_with(g, words):
    """The one stderr line holding words; fails if none or several."""
    lines = g.err_lines_with(words)
    assert len(lines) == 1, why("want one line with %r" % words, g)
    assert not NOT_EIO.search(g.err), why("'input/output error'", g)
    return lines[0]


# --- a mount namespace with small file systems ------------------------------

class MountNS:
    """A mount namespace of our own, held by a sleeping `unshare -m`;
    mounts made in it vanish with it."""

    def __init__(self, tmp):
        for exe in ("unshare", "nsenter", "mount"):
            if shutil.which(exe) is None:
                pytest.skip("%s not installed" % exe)
        self.tmp = str(tmp)
        self.p = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sleep", "600"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        mine = os.readlink("/proc/self/ns/mnt")

        def entered():
            try:
                return os.readlink("/proc/%d/ns/mnt" % self.p.pid) != mine
            except OSError:
                return False
        if not peers.wait_until(lambda: entered() or self.p.poll()
                                is not None, 5, 0.02) or \
                self.p.poll() is not None:
            err = self.p.communicate(timeout=5)[1] if self.p.poll() \
                is not None else b""
            self.stop()
            pytest.skip("unshare -m not permitted: %s" % err.decode(
                "utf-8", "replace").strip())
        self.wrapper = None

    def run(self, *cmd):
        return subprocess.run(["nsenter", "-t", str(self.p.pid), "-m",
                               "--"] + [str(c) for c in cmd],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=15)

    def tmpfs(self, path, size):
        os.makedirs(str(path), exist_ok=True)
        r = self.run("mount", "-t", "tmpfs", "-o",
                     "size=%s,mode=0755" % size, "tmpfs", path)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs: %s" % r.stderr.decode(
                "utf-8", "replace").strip())

    def remount(self, path, size):
        r = self.run("mount", "-o", "remount,size=%s" % size, path)
        assert r.returncode == 0, r.stderr

    def view(self, path):
        """path as the namespace sees it, from here."""
        return "/proc/%d/root%s" % (self.p.pid, os.path.abspath(str(path)))

    def free(self, path):
        s = os.statvfs(self.view(path))
        return s.f_bavail * s.f_frsize

    def gt(self, net, *args, tag):
        """gtorrent args inside the namespace (nsenter execs it: the PID
        is gtorrent's), registered with net for teardown."""
        if self.wrapper is None:
            self.wrapper = os.path.join(self.tmp, "gt-in-ns.sh")
            with open(self.wrapper, "w") as f:
                f.write("#!/bin/sh\nexec nsenter -t %d -m -- %s \"$@\"\n" %
                        (self.p.pid, net.gtorrent))
            os.chmod(self.wrapper, 0o755)
        return net.add(peers.GtProc(self.wrapper, args, net.tmp, tag),
                       lambda p: p.close())

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture
def mountns(net, tmp_path):
    ns = MountNS(tmp_path)
    net.add(ns, lambda n: n.stop())
    return ns


# --- 1. disk full -----------------------------------------------------------

@pytest.mark.timeout(90)
def test_disk_full(net, mountns, tmp_path, seed):
    """A 4 MiB tmpfs as -o, an 8 MiB torrent at 1 MiB/s: the run ends
    within 2 s of the disk filling, exit 4, one line with "No space left
    on device" naming the folder; the resume record claims only pieces
    on disk; once the tmpfs is made larger, a restart downloads no
    verified piece again and completes byte for byte."""
    case = Case(tmp_path, seed, [(None, 8 * MIB)])
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "fs"
    mountns.tmpfs(out, "4m")
    args = leech_args(case, port, out, listen=peers.free_port())
    g1 = mountns.gt(net, *args, tag="full")
    t_full = None
    deadline = time.monotonic() + 40
    while g1.alive() and time.monotonic() < deadline:
        if t_full is None and mountns.free(out) == 0:
            t_full = time.monotonic()
        time.sleep(0.02)
    rc = g1.wait(5)
    t_exit = g1.t1
    assert rc == 4, why("want exit 4 (disk error)", g1)
    line = one_line_with(g1, "No space left on device")
    assert str(out) in line, why("the folder is not named", line)
    stopped = "n/a" if t_full is None else "%.2f s" % (t_exit - t_full)
    print("%s; exit %.2f s after the disk filled" % (line, t_exit -
                                                     (t_full or t_exit)))
    if t_full is not None:
        assert t_exit - t_full <= 2.5, why("ran %s on a full disk" %
                                           stopped, g1)
    rec = read_record(case)
    assert rec is not None, why("no resume record after a full disk", g1)
    good = case.good_pieces(mountns.view(out))
    bad = sorted(rec.have - good)
    assert not bad, why("the record claims pieces %s, not on disk" % bad,
                        repr(rec))
    mountns.remount(out, "64m")
    g2 = mountns.gt(net, *(args[:-1] + ["-v", case.torrent]),
                    tag="after")
    rc = g2.wait(GT_TIMEOUT)
    assert rc == 0, why(g2)
    case.check(mountns.view(out))
    sm2 = g2.summary()
    # every piece good on disk when the disk filled was verified then
    # (or its last block was being written): none is fetched again
    again = sm2["downloaded"] - (case.total - case.bytes_of(good))
    print("%r, %d pieces good on disk; the restart fetched %d bytes, %d "
          "more than the pieces the disk lacked; %s" % (
              rec, len(good), sm2["downloaded"], again,
              "no data check" if resumed(g2.err) else "data checked"))
    assert again <= 4 * case.pl, why(
        "verified pieces downloaded again: %d bytes" % again, repr(rec), g2)


# --- 2. --preallocate --------------------------------------------------------

def need_preallocate(net):
    r = subprocess.run([net.gtorrent, "download", "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=10)
    if b"--preallocate" not in r.stdout:
        pytest.skip("this gtorrent has no --preallocate")


@pytest.mark.timeout(60)
def test_preallocate_short_of_space(net, mountns, tmp_path, seed):
    """--preallocate on a 4 MiB tmpfs for 8 MiB: fails at the start with
    the shortfall ("No space left on device", "free"), exit 4, before
    any peer is contacted and with nothing written."""
    need_preallocate(net)
    case = Case(tmp_path, seed, [("a.bin", 5 * MIB), ("b.bin", 3 * MIB)])
    out = tmp_path / "fs"
    mountns.tmpfs(out, "4m")
    lsock = socket.socket()
    lsock.bind((peers.LOOPBACK, 0))
    lsock.listen(8)
    net.add(lsock, lambda s: s.close())
    port = lsock.getsockname()[1]
    free0 = mountns.free(out)
    g = mountns.gt(net, *leech_args(case, port, out, "--preallocate"),
                   tag="prealloc")
    rc = g.wait(20)
    assert rc == 4, why("want exit 4", g)
    line = one_line_with(g, "No space left on device")
    assert "free" in line, why(line)
    print(line)
    r, _, _ = select.select([lsock], [], [], 0)
    assert not r, why("a peer was contacted before the space check", g)
    assert mountns.free(out) >= free0 - 64 * KIB, why(
        "%d bytes written" % (free0 - mountns.free(out)), g)


@pytest.mark.timeout(60)
def test_preallocate_reserves(net, mountns, tmp_path, seed):
    """--preallocate with room: every file is allocated whole at the
    start (the free space drops by the torrent's size before much came
    in), and the download completes byte for byte."""
    need_preallocate(net)
    case = Case(tmp_path, seed, [("a.bin", 2 * MIB + 5), ("b.bin", 2 * MIB),
                                 ("c/d.bin", 1)])
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "fs"
    mountns.tmpfs(out, "16m")
    free0 = mountns.free(out)
    g = mountns.gt(net, *leech_args(case, port, out, "--preallocate"),
                   tag="prealloc")
    assert peers.wait_until(lambda: (proc_io(g.pid) or 0) > 0 or
                            not g.alive(), 10, 0.01), why(g)
    # as soon as something was written (a block, a line): all reserved
    assert peers.wait_until(lambda: free0 - mountns.free(out) >=
                            case.total or not g.alive(), 5, 0.01), why(g)
    written = proc_io(g.pid) or 0
    used = free0 - mountns.free(out)
    print("%d bytes allocated with %d written" % (used, written))
    assert written < case.total // 2, why(
        "allocated only once %d bytes came" % written, g)
    rc = g.wait(GT_TIMEOUT)
    assert rc == 0, why(g)
    case.check(mountns.view(out))


# --- 3. an output folder gtorrent may not write ------------------------------

@pytest.mark.timeout(30)
def test_output_not_writable(net, tmp_path, seed):
    """As an unprivileged user, -o under a folder it may not write:
    exit 4 at the start, one line "Permission denied" naming the
    folder."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run as nobody")
    base = tempfile.mkdtemp(prefix="gtorrent-eacces.")
    net.add(base, lambda b: shutil.rmtree(b, ignore_errors=True))
    os.chmod(base, 0o755)
    case = Case(base, seed, [(None, 256 * KIB)])
    os.chmod(case.torrent, 0o644)
    ro = os.path.join(base, "ro")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    state = os.path.join(base, "state")
    os.makedirs(state)
    os.chmod(state, 0o777)
    out = os.path.join(ro, "out")
    exe = os.path.join(base, "gt-as-nobody.sh")
    with open(exe, "w") as f:
        f.write("#!/bin/sh\nexec %s --reuid=65534 --regid=65534 "
                "--clear-groups -- %s \"$@\"\n" % (setpriv, net.gtorrent))
    os.chmod(exe, 0o755)
    if not os.access(net.gtorrent, os.X_OK):
        pytest.skip("gtorrent not executable")
    with environ(XDG_STATE_HOME=state, XDG_CONFIG_HOME=state):
        g = net.add(peers.GtProc(exe, ["--no-tracker", "--peer",
                                       "127.0.0.1:1", "-o", out,
                                       case.torrent], base, "nobody"),
                    lambda p: p.close())
    rc = g.wait(20)
    if "Operation not permitted" in g.err and "setpriv" in g.err:
        pytest.skip("setpriv cannot drop to nobody here: %s" % g.err)
    assert rc == 4, why("want exit 4", g)
    line = one_line_with(g, "Permission denied")
    assert out in line or ro in line, why("the folder is not named", line)
    print(line)


# --- 4. a data file deleted mid-run ------------------------------------------

@pytest.mark.timeout(90)
@pytest.mark.parametrize("when", ["before-checkpoint", "after-checkpoint"])
def test_file_deleted_mid_run(net, tmp_path, seed, when):
    """rm of a data file while it downloads, before gtorrent's first
    checkpoint (at 1 MiB) or after one (at 4.5 MiB): the next checkpoint
    (~3 s) ends the run with an error naming the file ("was deleted"),
    never "done"; a restart checks the data and downloads the file
    again, byte for byte."""
    files = [("one.bin", 5 * MIB // 2), ("two.bin", 5 * MIB // 2 + 7),
             ("sub/three.bin", 5 * MIB // 2 - 7), ("four.bin", 5 * MIB // 2)]
    case = Case(tmp_path, seed, files)
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "out"
    args = leech_args(case, port, out, "-v", listen=peers.free_port())
    g1 = net.gt(*args, tag="deleted")
    at = MIB if when == "before-checkpoint" else 9 * MIB // 2
    assert peers.wait_until(lambda: (proc_io(g1.pid) or 0) >= at or
                            not g1.alive(), 30, 0.02), why(g1)
    assert g1.alive(), why(g1)
    rec = read_record(case)
    assert (rec is None) == (when == "before-checkpoint"), why(
        "want %s" % when, repr(rec), g1)
    # the file holding most data now
    paths = [os.path.join(str(out), *p.split("/"))
             for p, _, _ in case.layout]
    victim = max(paths, key=lambda p: os.stat(p).st_blocks
                 if os.path.exists(p) else -1)
    os.unlink(victim)
    t_del = time.monotonic()
    rc = g1.wait(15)
    t_exit = g1.t1
    assert rc not in (0, 130), why("want an error exit", g1)
    name = os.path.basename(victim)
    lines = [ln for ln in g1.err_lines_with("was deleted") if name in ln]
    assert len(lines) == 1, why("want one line naming %s" % name, g1)
    assert not NOT_EIO.search(g1.err), why(g1)
    print("%s (exit %d, %.2f s after the rm)" % (lines[0], rc,
                                                 t_exit - t_del))
    assert t_exit - t_del <= 6, why("ran %.1f s after the rm" %
                                    (t_exit - t_del), g1)
    good = case.good_pieces(out)
    g2 = net.gt(*args, tag="restart")
    rc = g2.wait(GT_TIMEOUT)
    assert rc == 0, why(g2)
    case.check(out)
    assert resumed(g2.err) is None, why("the data was not checked", g2)
    assert "checking the data" in g2.err, why(g2)
    assert checked(g2.err) == (len(good), case.npieces), why(
        "%d pieces good on disk" % len(good), g2)


# --- 5. the wall clock jumps -------------------------------------------------

def build_shim(tmp):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler for the clock shim")
    so = os.path.join(str(tmp), "clockshim.so")
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", so,
                        os.path.join(HERE, "clockshim.c")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if r.returncode != 0:
        pytest.skip("cannot build the clock shim: %s" % r.stdout.decode(
            "utf-8", "replace"))
    return so


def set_offset(path, secs):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % secs)
    os.replace(tmp, path)


STATUS_RE = re.compile(      # the torrent's name first
    r"^(?:.*?  )?([0-9.]+)% (\S+ \S+)/(\S+ \S+)  down (\S+) (\S+)/s  "
    r"up (\S+) (\S+)/s  peers (\d+)/(\d+)  eta (\S+)")
UNITS = {"B": 1, "KiB": KIB, "MiB": MIB, "GiB": 1 << 30, "TiB": 1 << 40,
         "PiB": 1 << 50, "EiB": 1 << 60}


def eta_seconds(s):
    if s == "-":
        return None
    parts = [int(x) for x in s.split(":")]
    secs = 0
    for p in parts:
        secs = secs * 60 + p
    return secs


TEN_YEARS = 315576000


@pytest.mark.timeout(90)
def test_wall_clock_jumps(net, tmp_path, seed):
    """The wall clock of both gtorrents goes back an hour, forward ten
    years, then back to now, during a 12 MiB download at 1 MiB/s: it
    completes on time, on one connection, and the status lines (every
    5 s) and the summary never show a negative or absurd rate or ETA."""
    so = build_shim(tmp_path)
    offset = str(tmp_path / "clock-offset")
    set_offset(offset, TEN_YEARS)
    env = {"LD_PRELOAD": so, "CLOCKSHIM_FILE": offset}
    if helpers.is_sanitized(net.gtorrent):
        env["ASAN_OPTIONS"] = ",".join(filter(None, [
            os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    # the shim takes: gtorrent create dates a torrent ten years ahead
    probe = tmp_path / "probe.bin"
    probe.write_bytes(b"probe" * 100)
    with environ(**env):
        r = subprocess.run([net.gtorrent, "create", "-o",
                            tmp_path / "probe.torrent", probe],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
    assert r.returncode == 0, r
    date = helpers.read_torrent(tmp_path / "probe.torrent").get(
        b"creation date", 0)
    if abs(date - time.time() - TEN_YEARS) > 60:
        pytest.skip("the clock shim does not take: creation date %d" %
                    date)
    set_offset(offset, 0)
    case = Case(tmp_path, seed, [(None, 12 * MIB)])
    with environ(**env):
        sg, port = gt_seed(net, case, "1M")
        g = net.gt(*leech_args(case, port, tmp_path / "out", "-v"),
                   tag="leecher")
    plan = [(2.5, -3600), (5.5, TEN_YEARS), (8.5, 0), (9.5, -TEN_YEARS)]
    for at, secs in plan:
        while g.elapsed < at and g.alive():
            time.sleep(0.01)
        set_offset(offset, secs)
    rc = g.wait(GT_TIMEOUT)
    set_offset(offset, 0)
    assert rc == 0, why(g)
    case.check(tmp_path / "out")
    nominal = case.total / RATE
    print("%.1f s for %.1f s at the seeder's rate" % (g.elapsed, nominal))
    assert g.elapsed <= nominal * 1.5 + 5, why("stalled: %.1f s" %
                                               g.elapsed, g)
    conns = g.err_lines_with("connected 127.0.0.1:%d" % port)
    assert len(conns) == 1, why("the connection was dropped", g)
    lines = [m for m in (STATUS_RE.match(ln) for ln in g.out.splitlines())
             if m]
    assert len(lines) >= 2, why("no status lines", g)
    last_pct = -1.0
    for m in lines:
        print(m.group(0))
        pct = float(m.group(1))
        down = float(m.group(4)) * UNITS[m.group(5)]
        up = float(m.group(6)) * UNITS[m.group(7)]
        eta = eta_seconds(m.group(10))
        assert 0 <= pct <= 100 and pct >= last_pct, why(m.group(0))
        last_pct = pct
        assert down <= 4 * RATE and up <= 4 * RATE, why(m.group(0))
        assert eta is None or eta <= 10 * nominal, why(m.group(0))
    sm = g.summary()
    assert sm is not None and 0 < sm["seconds"] <= g.elapsed + 1 and \
        sm["rate"] <= 4 * RATE / MIB, why(sm, g)
