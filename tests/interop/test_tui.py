"""The full-screen view (--tui, issue 13), driven through tmux.

gtorrent runs in a detached tmux session of its own (a server on a socket
of this test's, 120x40, TERM=xterm-256color) downloading two torrents from
rate-limited libtorrent seeders through opentracker, all on 127.0.0.1,
DHT off.  `tmux capture-pane -p` reads the screen: the torrents pane shows
the names and progress, the peers pane the seeder's address and client,
the trackers pane the tracker's URL and a result; `p` pauses (the view
says so and the seeder sends nothing more) and `p` resumes; `?` shows the
help; a resize redraws cleanly; `q` stops as Ctrl-C does (exit 130) and
leaves the shell's screen clean, with the summary lines printed after the
view is gone.  The tmux server is killed (by its PID too) at the end.
"""

import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import time

import pytest

import helpers
import peers
from helpers import KIB, MIB
from peers import why
from test_multi import Payload

TMUX = shutil.which("tmux")
COLS, ROWS = 120, 40
RATE = 150 * KIB            # each seeder's upload limit (bytes/s)
SIZE = 3 * MIB              # each payload: ~20 s at RATE
MARK = "GT-TUI-EXIT="       # printed by the pane's shell after gtorrent


class Tmux:
    """One tmux server on a socket of its own, with one session."""

    def __init__(self, tmp_path):
        self.sock = "gt-tui-%d-%d" % (os.getpid(), random.randrange(1 << 30))
        self.env = dict(os.environ)
        self.env.pop("TMUX", None)
        self.env["TMUX_TMPDIR"] = str(tmp_path)
        self.pid = None

    def run(self, *args, check=True):
        r = subprocess.run([TMUX, "-L", self.sock] + list(args),
                           env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        if check and r.returncode != 0:
            raise AssertionError("tmux %s: %s" % (" ".join(args),
                                                  r.stderr.decode()))
        return r.stdout.decode("utf-8", "replace")

    def start(self, script):
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "gt",
                 "-x", str(COLS), "-y", str(ROWS), "sh " + shlex.quote(
                     str(script)))
        self.run("set-option", "-g", "remain-on-exit", "on")
        self.pid = int(self.run("display-message", "-p", "#{pid}").strip())

    def screen(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "gt"]
        if escapes:
            args.insert(2, "-e")
        return self.run(*args)

    def keys(self, *keys):
        self.run("send-keys", "-t", "gt", *keys)

    def wait_screen(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        s = ""
        while time.monotonic() < deadline:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.2)
        raise AssertionError("screen never showed %s in %s s:\n%s" % (
            what, timeout, s))

    def stop(self):
        if self.pid is None:
            return
        self.run("kill-server", check=False)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid = None


def run_script(tmp_path, gtorrent, args, no_color=True,
               term="xterm-256color"):
    """A shell script for the pane: gtorrent (bounded), then the marker
    with its exit code, then a shell that stays."""
    script = tmp_path / "run.sh"
    script.write_text(
        "export TERM=%s LANG=C.UTF-8 LC_ALL=C.UTF-8\n"
        "%s"
        "export XDG_STATE_HOME=%s XDG_CONFIG_HOME=%s XDG_CACHE_HOME=%s\n"
        "ulimit -c 0\n"
        "cd %s\n"
        "timeout --foreground -s KILL 100 %s %s\n"
        "echo %s$?\n"
        "exec sleep 100\n" % (
            term, "export NO_COLOR=1\n" if no_color else "unset NO_COLOR\n",
            shlex.quote(str(tmp_path / "state")),
            shlex.quote(str(tmp_path / "cfg")),
            shlex.quote(str(tmp_path / "cache")),
            shlex.quote(str(tmp_path)), shlex.quote(gtorrent),
            " ".join(shlex.quote(str(x)) for x in args), MARK))
    return script


def gt_pid(exe, needle):
    """The PID of the gtorrent process whose command line holds needle."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] == exe.encode() and any(
                needle.encode() in a for a in argv):
            return int(d)
    return None


def small_torrent(gt, tmp_path, name, size=256 * KIB):
    """A .torrent of a random file made by `gtorrent create`."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_bytes(os.urandom(size))
    t = tmp_path / (name + ".torrent")
    subprocess.run([gt, "create", "-o", str(t), str(src / name)],
                   check=True, timeout=30, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return t


def clean_after(screen):
    """No piece of the view left on the shell's screen."""
    for leftover in ("Tab pane", "Peers (", "Pieces (", "Tracker "):
        assert leftover not in screen, ("curses screen left over", screen)


def row_of(screen, needle):
    """The first line of screen holding needle, or ''."""
    for ln in screen.splitlines():
        if needle in ln:
            return ln
    return ""


def pane_rows(screen, heading, n=8):
    """The lines under the heading line that starts with heading."""
    lines = screen.splitlines()
    for i, ln in enumerate(lines):
        if ln.lstrip().startswith(heading):
            return lines[i + 1:i + 1 + n]
    return []


def well_formed(screen, cols, rows):
    """One header at the top, one footer at the bottom, each pane once,
    nothing wider than the window."""
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) <= rows, "%d lines\n%s" % (len(lines), screen)
    assert all(len(ln) <= cols for ln in lines), screen
    assert lines[0].startswith(" gtorrent "), screen
    assert "q quit" in lines[-1] or "q qu" in lines[-1], screen
    for head in ("Torrent ", "Pieces ("):
        assert sum(ln.startswith(head) for ln in lines) == 1, (head, screen)


@pytest.mark.timeout(120)
def test_tui_in_tmux(net, opentracker, tmp_path, rng):
    """Two torrents, each from a libtorrent seeder at RATE: every pane,
    pause/resume, help, resize, and a clean exit on `q`."""
    if TMUX is None:
        pytest.skip("tmux is not installed")
    tr = net.tracker()
    a = Payload(tmp_path, "a", "alpha-tui.bin", SIZE, rng, tr.announce)
    b = Payload(tmp_path, "b", "beta-tui.bin", SIZE, rng, tr.announce)
    tr.start(a.ih, b.ih)
    sa = net.lt_peer(a.torrent_bytes, a.src, upload_limit=RATE)
    sb = net.lt_peer(b.torrent_bytes, b.src, upload_limit=RATE)
    for s, p in ((sa, a), (sb, b)):
        s.wait_seeding(20)
        assert tr.wait_peers(p.ih, complete=1, timeout=20), why(
            "%s never announced" % p.name)
    out = tmp_path / "out"
    args = helpers.gt_args([a.torrent, b.torrent, "-o", out, "-p",
                            peers.free_port()])
    tm = net.add(Tmux(tmp_path), lambda t: t.stop())
    tm.start(run_script(tmp_path, net.gtorrent, args))

    # The torrents pane: both names, downloading, a progress figure.
    s = tm.wait_screen(lambda s: "alpha-tui.bin" in s and "beta-tui.bin" in s
                       and "127.0.0.1:%d" % sa.port in s, 30,
                       "both torrents and the first one's seeder")
    well_formed(s, COLS, ROWS)
    ra = row_of(s, "alpha-tui.bin")
    assert re.search(r"\b(downloading|metadata)\b", ra), s
    assert re.search(r"\d+\.\d%", ra), s
    # The peers pane: the seeder, by address and client, sending to us
    # (flag D) from the tracker's list, with some of the pieces.
    addr = "127.0.0.1:%d" % sa.port
    s = tm.wait_screen(lambda s: re.search(
        r"libtorrent\S*\s+\S+\s+D\w*\s+trk\s", row_of(s, addr)), 20,
        "the seeder unchoking us")
    assert re.search(r"\b100%$", row_of(s, addr).rstrip()), s
    # The trackers pane: the URL and a result.
    s = tm.wait_screen(lambda s: tr.announce in s and re.search(
        r"\bok\b", row_of(s, tr.announce)), 20, "the tracker answered")
    assert re.search(r"\d+ peers?", row_of(s, tr.announce)), s
    # Data comes; the selected torrent (alpha) has some already.
    assert peers.wait_until(lambda: sa.uploaded() > 64 * KIB, 20), why(
        "alpha's seeder sent nothing")

    # `p`: paused, and nothing more comes from its seeder.
    tm.keys("p")
    s = tm.wait_screen(lambda s: "paused" in row_of(s, "alpha-tui.bin"), 5,
                       "alpha paused")
    assert "paused" not in row_of(s, "beta-tui.bin"), s
    time.sleep(1.5)                 # what was under way lands
    u0 = sa.uploaded()
    time.sleep(3)
    u1 = sa.uploaded()
    assert u1 == u0, "paused, yet the seeder sent %d bytes more" % (u1 - u0)
    s = tm.screen()
    assert "127.0.0.1:%d" % sa.port not in s, (
        "a paused torrent keeps no connection", s)
    assert "beta-tui.bin" in s and "downloading" in row_of(
        s, "beta-tui.bin"), s
    # `p` again: resumed, data flows again.
    tm.keys("p")
    s = tm.wait_screen(lambda s: "downloading" in row_of(s, "alpha-tui.bin"),
                       5, "alpha resumed")
    assert peers.wait_until(lambda: sa.uploaded() > u1 + 32 * KIB, 20), why(
        "resumed, yet the seeder sends nothing")

    # `?`: the help; any key closes it.
    tm.keys("?")
    s = tm.wait_screen(lambda s: "Peer flags" in s, 5, "the help")
    assert "pause or resume" in s and "optimistic" in s, s
    tm.keys("Escape")
    tm.wait_screen(lambda s: "Peer flags" not in s, 5, "the help closed")

    # Tab and the arrows: the focus moves, the selection too.
    tm.keys("Right")
    s = tm.wait_screen(lambda s: "127.0.0.1:%d" % sb.port in s, 10,
                       "beta's seeder once beta is selected")
    tm.keys("Tab")
    tm.wait_screen(lambda s: "[peers]" in s, 5, "the peers pane focused")
    tm.keys("Left")

    # A resize redraws the whole screen, nothing left over.
    tm.run("resize-window", "-t", "gt", "-x", "90", "-y", "28")
    time.sleep(1)
    s = tm.wait_screen(lambda s: len(s.rstrip("\n").split("\n")) <= 28 and
                       "alpha-tui.bin" in s, 5, "the smaller screen")
    well_formed(s, 90, 28)
    small = s
    tm.run("resize-window", "-t", "gt", "-x", "60", "-y", "15")
    time.sleep(1)
    s = tm.wait_screen(lambda s: "alpha-tui" in s, 5, "a 60x15 screen")
    assert all(len(ln) <= 60 for ln in s.splitlines()), s
    tm.run("resize-window", "-t", "gt", "-x", str(COLS), "-y", str(ROWS))
    time.sleep(1)
    s = tm.wait_screen(lambda s: len(s.rstrip("\n").split("\n")) > 28, 5,
                       "the screen back to 120x40")
    well_formed(s, COLS, ROWS)
    # NO_COLOR: attributes (reverse, bold) but no colour.
    esc = tm.screen(escapes=True)
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)", esc), esc
    sample = s

    # `q`: stops as Ctrl-C does; the shell's screen is clean after.
    tm.keys("q")
    s = tm.wait_screen(lambda s: MARK in s, 20, "gtorrent's exit")
    rc = int(re.search(re.escape(MARK) + r"(\d+)", s).group(1))
    assert rc == 130, s
    clean_after(s)
    stopped = re.findall(r"^gtorrent: stopped: ([^:]+): ", s, re.M)
    assert sorted(stopped) == ["alpha-tui.bin", "beta-tui.bin"], s
    print("\n--- sample screen (120x40) ---\n" + sample +
          "\n--- 90x28 ---\n" + small + "\n--- after q ---\n" + s)


def test_tui_needs_a_terminal(gt_download, tmp_path):
    """--tui with stdout on a pipe: a usage error (exit 2), nothing run."""
    r = subprocess.run([gt_download] + helpers.gt_args(
        ["--tui", str(tmp_path / "x.torrent"), "-o", str(tmp_path)]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20,
        stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r
    assert b"--tui needs a terminal" in r.stderr, r


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", ["TERM", "INT", "HUP", "ABRT"])
def test_tui_restored_on_signal(gt_download, tmp_path, sig):
    """--tui with one torrent and no peer to be had: SIGTERM, SIGINT and
    SIGHUP stop it (exit 130; SIGHUP 129 while nothing handles it), SIGABRT
    kills it (134): each time the shell's screen is clean after."""
    if TMUX is None:
        pytest.skip("tmux is not installed")
    t = small_torrent(gt_download, tmp_path, "sig-%s.bin" % sig.lower())
    # a tracker that refuses: its warnings go to the log strip, and to
    # stderr again once the view is gone
    dead = "http://127.0.0.1:%d/announce" % peers.free_port()
    args = helpers.gt_args(["--tui", "--tracker", dead, "--peer",
                            "127.0.0.1:%d" % peers.free_port(), "-o",
                            tmp_path / "out", "-p", peers.free_port(), t])
    tm = Tmux(tmp_path)
    try:
        tm.start(run_script(tmp_path, gt_download, args))
        s = tm.wait_screen(lambda s: "Tab pane" in s and re.search(
            r"^warning: tracker .*127\.0\.0\.1", s, re.M), 20,
            "the view, a warning in its log strip")
        assert "gtorrent: warning" not in s, ("a line over the view", s)
        pid = gt_pid(gt_download, str(t))
        assert pid is not None
        os.kill(pid, getattr(signal, "SIG" + sig))
        s = tm.wait_screen(lambda s: MARK in s, 20, "gtorrent's exit")
        rc = int(re.search(re.escape(MARK) + r"(\d+)", s).group(1))
        want = {"TERM": (130,), "INT": (130,), "HUP": (130, 129),
                "ABRT": (134,)}[sig]
        assert rc in want, s
        clean_after(s)
        assert re.search(r"^gtorrent: warning: tracker .*127\.0\.0\.1", s,
                         re.M), ("the warnings again after the view", s)
        if rc == 130:
            assert re.search(r"^gtorrent: stopped: sig-", s, re.M), s
    finally:
        tm.stop()


@pytest.mark.timeout(60)
def test_no_tui_keeps_the_status_line(gt_download, tmp_path):
    """Two torrents on a terminal with --no-tui: the status line, no view;
    the default (no option) is the view."""
    if TMUX is None:
        pytest.skip("tmux is not installed")
    ts = [small_torrent(gt_download, tmp_path, n) for n in ("x.bin", "y.bin")]
    base = ["--no-tracker", "--peer", "127.0.0.1:%d" % peers.free_port(),
            "-o", tmp_path / "out"]
    for opt, shows in (("--no-tui", "2 torrents, 0 done"),
                       (None, "Tab pane")):
        args = helpers.gt_args(([opt] if opt else []) + base +
                               ["-p", peers.free_port()] + ts)
        tm = Tmux(tmp_path)
        try:
            tm.start(run_script(tmp_path, gt_download, args, no_color=False))
            s = tm.wait_screen(lambda s: shows in s, 20, shows)
            if opt:
                assert "Tab pane" not in s, s
            else:
                # colours when NO_COLOR is unset
                assert re.search(r"\x1b\[[0-9;]*(3[0-7]|4[0-7])",
                                 tm.screen(escapes=True)), "no colour"
            # as Ctrl-C, to gtorrent alone (C-c would end the shell too)
            os.kill(gt_pid(gt_download, str(ts[0])), signal.SIGINT)
            s = tm.wait_screen(lambda s: MARK in s, 20, "gtorrent's exit")
            assert MARK + "130" in s, s
            clean_after(s)
        finally:
            tm.stop()


@pytest.mark.timeout(60)
def test_tui_on_a_dumb_terminal(gt_download, tmp_path):
    """TERM=dumb (no cursor addressing): by default the status line, with
    --tui a warning and the status line; never a broken screen."""
    if TMUX is None:
        pytest.skip("tmux is not installed")
    ts = [small_torrent(gt_download, tmp_path, n) for n in ("d.bin", "e.bin")]
    base = ["--no-tracker", "--peer", "127.0.0.1:%d" % peers.free_port(),
            "-o", tmp_path / "out"]
    for opt in (None, "--tui"):
        args = helpers.gt_args(([opt] if opt else []) + base +
                               ["-p", peers.free_port()] + ts)
        tm = Tmux(tmp_path)
        try:
            tm.start(run_script(tmp_path, gt_download, args, term="dumb"))
            s = tm.wait_screen(lambda s: "2 torrents, 0 done" in s, 20,
                               "the status line")
            assert "Tab pane" not in s, s
            assert ("no full-screen view: the terminal cannot move its "
                    "cursor" in s) == bool(opt), s
            os.kill(gt_pid(gt_download, str(ts[0])), signal.SIGINT)
            s = tm.wait_screen(lambda s: MARK in s, 20, "gtorrent's exit")
            assert MARK + "130" in s, s
        finally:
            tm.stop()
