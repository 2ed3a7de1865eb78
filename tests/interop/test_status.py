"""The status line (issue 13): on a terminal (a pty of a set width) every
redraw fits the width, names the torrent first, and a log line never sticks
to it; on a pipe a plain line comes every 5 s.

A `gtorrent seed` on 127.0.0.1, rate-limited so that the download lasts a
few seconds, and a gtorrent downloading from it; each process is bounded
in time and killed by PID (peers.Net, or here in finally).
"""

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

import helpers
import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload

# a long name with wide (CJK) and accented characters, to be shortened
NAME = "статус 日本語のファイル名 with a long tail for the status line.bin"
SIZE = 6 * MIB + 777
RATE = "1536k"                 # the seeder's upload: about 4 s
CLEAR = "\r\x1b[K"


class Payload:
    def __init__(self, tmp_path, rng):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.files = make_payload(self.src, NAME, [(None, SIZE)], rng)
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(lt_make(self.src, NAME, self.files,
                                         64 * KIB))

    def check(self, out):
        peers.compare_download(self.src, out, NAME, self.files)


def seeder(net, p, rate=RATE):
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "-p", port, "-o", p.src,
               "--max-upload-rate", rate, p.torrent, tag="seeder")
    assert peers.wait_listening(port, 20, g.alive), why(g)
    return port


def refused_port():
    """A loopback port nobody listens on (a --peer that refuses)."""
    return peers.free_port()


def cols_of(text):
    """Display columns (wide East Asian characters count 2)."""
    import unicodedata
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def run_in_pty(gtorrent, args, cols, timeout):
    """gtorrent with stdout and stderr on a pty of cols columns; its exit
    code and everything it wrote (str)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", 24, cols, 0, 0))
    env = dict(os.environ, COLUMNS="500")   # the pty's width wins
    p = subprocess.Popen([gtorrent] + helpers.gt_args(args), stdin=slave,
                         stdout=slave, stderr=slave, env=env,
                         start_new_session=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if master in r:
                try:
                    b = os.read(master, 65536)
                except OSError:             # EIO: the slave is closed
                    break
                if not b:
                    break
                chunks.append(b)
            elif p.poll() is not None:
                continue                    # drain what is left
        rc = p.wait(5)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(5)
        os.close(master)
    return rc, b"".join(chunks).decode("utf-8", "replace")


def segments(raw):
    """The pieces of output between carriage returns and newlines, each
    without a leading erase ("\\x1b[K")."""
    out = []
    for s in re.split(r"[\r\n]", raw):
        while s.startswith("\x1b[K"):
            s = s[3:]
        if s:
            out.append(s)
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cols", [60, 100, 160])
def test_status_line_on_a_terminal(net, tmp_path, rng, cols):
    """Every redraw fits cols (less one), the name (maybe shortened in the
    middle) comes first, the rates and ETA show; the warning for a
    refused --peer starts its own line, and the line comes back after."""
    p = Payload(tmp_path, rng)
    sport = seeder(net, p)
    out = tmp_path / "out"
    # -v: a refused connection is an info line for sure
    rc, raw = run_in_pty(net.gtorrent, [
        "-v", "--no-tracker", "-p", peers.free_port(), "-o", out,
        "--peer", "127.0.0.1:%d" % sport,
        "--peer", "127.0.0.1:%d" % refused_port(), p.torrent], cols, 40)
    assert rc == 0, raw
    p.check(out)
    status = [s for s in segments(raw) if not s.startswith("gtorrent: ")]
    assert len(status) >= 4, why("few redraws", raw)
    for s in status:
        assert cols_of(s) <= cols - 1, why("%d > %d columns: %r" % (
            cols_of(s), cols - 1, s), raw)
        assert s.startswith(NAME[:6]), why("name first: %r" % s, raw)
    drawn = [s for s in status if "down " in s]
    assert drawn and all("%" in s and "eta " in s for s in drawn), raw
    if cols >= 160:
        assert any(NAME in s and " up " in s for s in status), why(
            "the whole name, the up rate", raw)
    else:                   # the name takes 66 columns
        assert all("~" in s and " up " not in s for s in status), why(
            "the up rate gone, the name shortened", raw)
    # log lines: at column 0 after an erase or a newline, never glued
    logs = [m.start() for m in re.finditer(r"gtorrent: (info|warning)",
                                           raw)]
    assert logs, why("no log line", raw)
    for at in logs:
        before = raw[max(0, at - len(CLEAR)):at]
        assert before == CLEAR or before.endswith("\n"), why(
            "a log line glued to the status line: %r" %
            raw[max(0, at - 80):at + 40], raw)
    # the summary: on its own line too, last
    done = raw.rindex("gtorrent: done: ")
    assert raw[done - len(CLEAR):done] == CLEAR or \
        raw[done - 1] == "\n", raw[done - 80:]
    sm = peers.parse_summary(raw[done:].replace("\r\n", "\n"))
    assert sm and sm["state"] == "done" and sm["name"] == NAME, raw[done:]


@pytest.mark.timeout(60)
def test_status_on_a_pipe_every_5s(net, tmp_path, rng):
    """stdout a pipe: a whole line (name first, no \\r, no escapes) every
    5 s, then the summary."""
    p = Payload(tmp_path, rng)
    sport = seeder(net, p, rate="512k")    # about 12 s
    out = tmp_path / "out"
    g = subprocess.Popen(
        [net.gtorrent] + helpers.gt_args([
            "--no-tracker", "-p", peers.free_port(), "-o", out, "--peer",
            "127.0.0.1:%d" % sport, p.torrent]),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True)
    times, lines = [], []
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 45:
            ln = g.stdout.readline()
            if not ln:
                break
            times.append(time.monotonic() - t0)
            lines.append(ln.decode("utf-8"))
        rc = g.wait(10)
    finally:
        if g.poll() is None:
            os.kill(g.pid, signal.SIGKILL)
            g.wait(5)
        g.stdout.close()
    assert rc == 0, lines
    p.check(out)
    status = [ln for ln in lines if not ln.startswith("gtorrent: ")]
    assert len(status) >= 2, lines
    for ln in lines:
        assert "\r" not in ln and "\x1b" not in ln, lines
    for ln in status:
        assert ln.startswith(NAME + "  "), lines
        assert "down " in ln and "eta " in ln, lines
    st = [t for t, ln in zip(times, lines) if not ln.startswith("gtorrent")]
    gaps = [b - a for a, b in zip(st, st[1:])]
    assert all(4.0 <= d <= 6.5 for d in gaps), (gaps, lines)
    assert lines[-1].startswith("gtorrent: done: "), lines


@pytest.mark.timeout(60)
def test_checking_shown_on_a_terminal(net, tmp_path, rng):
    """Data already there, --recheck: while it is hashed the line says
    "NAME  checking PCT% HAVE/TOTAL" (at least the last, 100 %), within
    the width; then the summary says done."""
    p = Payload(tmp_path, rng)
    rc, raw = run_in_pty(net.gtorrent, [
        "--no-tracker", "--no-dht", "--recheck", "-p", peers.free_port(),
        "--peer", "127.0.0.1:%d" % refused_port(), "-o", p.src, p.torrent],
        100, 30)
    assert rc == 0, raw
    segs = [s for s in segments(raw) if " checking " in s]
    assert segs, raw
    for s in segs:
        assert re.search(r" checking \d+\.\d% [0-9.]+ [KMG]?i?B/6\.0 MiB$",
                         s), s
        assert cols_of(s) <= 99, s
    assert re.search(r" checking 100\.0% 6\.0 MiB/6\.0 MiB$", segs[-1]), segs
    assert "gtorrent: done: " in raw, raw
