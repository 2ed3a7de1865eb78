"""--max-download-rate and --max-upload-rate against libtorrent 2.0.

gtorrent leeches from an unlimited libtorrent seeder with
--max-download-rate 1M, and a libtorrent leecher downloads from
`gtorrent seed --max-upload-rate 1M`.  In the middle of each transfer the
payload libtorrent counts (its status: what it sent, what it received)
is measured over 10 s and must be within 5 % of the limit.

gtorrent's limits count every byte on the socket (handshakes, message
headers, HAVEs, requests), not TCP/IP's: the payload of a PIECE message
is 16384 of its 16397 bytes, so payload flows at LIMIT * 16384 / 16397
(0.08 % below the limit) and the test compares with that.  The window
starts once 3 MiB went, well after the bucket's first burst (125 ms of
the rate) and after the socket buffers between the two filled.  gtorrent's
CPU over the window is printed, and bounded unless it is a sanitizer
build: a throttled process sleeps between its timer's wakeups.

Everything runs on 127.0.0.1; every process is killed by PID at teardown.
"""

import os
import random
import time

import pytest

import peers
from peers import why
from helpers import KIB, MIB, is_sanitized, lt_make, make_payload

LIMIT = 1 * MIB                 # bytes/s, --max-*-rate 1M
WINDOW = 10.0                   # seconds measured
WARMUP = 3 * MIB                # payload before the window opens
SIZE = 20 * MIB                 # 20 s at the limit: the window fits
PIECE = 256 * KIB
BLOCK = 16 * KIB
PAYLOAD_SHARE = BLOCK / (BLOCK + 13)    # PIECE message: 13-byte header
TOLERANCE = 0.05
MAX_CPU = 0.25                  # of one core, over the window


def make_case(tmp_path, seed):
    src = tmp_path / "src"
    src.mkdir()
    name = "limited.bin"
    files = make_payload(src, name, [(None, SIZE)], random.Random(seed))
    tb = lt_make(src, name, files, PIECE)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(tb)
    meta = peers.Meta(tb)
    return src, tb, torrent, meta


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_io(pid, key):
    """A counter of /proc/PID/io: rchar (bytes read(2), sockets included)
    or wchar (bytes write(2)/pwrite(2): gtorrent's file data; its send(2)
    to sockets is not counted)."""
    with open("/proc/%d/io" % pid) as f:
        for ln in f:
            k, v = ln.split(":")
            if k == key:
                return int(v)
    raise KeyError(key)


def measure(counter, g, label, extra=None):
    """Payload rate over WINDOW seconds once WARMUP bytes went; also
    gtorrent's CPU share over the same window, and the rates of the
    extra counters ({name: counter}), printed."""
    extra = extra or {}
    assert peers.wait_until(lambda: counter() >= WARMUP or not g.alive(),
                            20, 0.02), why(
        "%s: not %d bytes in 20 s (got %d)" % (label, WARMUP, counter()), g)
    assert g.alive(), why("gtorrent exited", g)
    e0 = {k: f() for k, f in extra.items()}
    b0, t0, c0 = counter(), time.monotonic(), cpu_seconds(g.pid)
    samples = []
    while time.monotonic() < t0 + WINDOW:
        time.sleep(min(1.0, t0 + WINDOW - time.monotonic()))
        samples.append((time.monotonic() - t0, counter() - b0))
    b1, t1, c1 = counter(), time.monotonic(), cpu_seconds(g.pid)
    e1 = {k: f() for k, f in extra.items()}
    for k in extra:
        print("%s: %s %.0f B/s" % (label, k, (e1[k] - e0[k]) / (t1 - t0)))
    print("%s: per second: %s" % (label, " ".join(
        "%.0f" % ((b - pb) / (t - pt)) for (pt, pb), (t, b) in
        zip([(0.0, 0)] + samples, samples))))
    assert b1 < SIZE, why("%s: done before the window closed: no limit?" %
                          label, g)
    rate = (b1 - b0) / (t1 - t0)
    cpu = (c1 - c0) / (t1 - t0)
    want = LIMIT * PAYLOAD_SHARE
    print("%s: %.0f B/s payload over %.2f s = %.4f x the limit's payload "
          "rate (%.0f B/s); gtorrent CPU %.1f %%" % (
              label, rate, t1 - t0, rate / want, want, 100 * cpu))
    assert abs(rate - want) <= TOLERANCE * want, why(
        "%s: %.0f B/s, want %.0f +- 5 %%" % (label, rate, want), g)
    if not is_sanitized(g.args[0]):
        assert cpu <= MAX_CPU, why(
            "%s: gtorrent used %.0f %% CPU while throttled" % (
                label, 100 * cpu), g)
    return rate


def stop(g):
    """SIGINT ends a throttled gtorrent at once and cleanly."""
    t = time.monotonic()
    rc = g.interrupt()
    assert rc == 130, why("SIGINT must give exit 130", g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "stopped", why(g)
    assert time.monotonic() - t < 10, why("slow to stop", g)


@pytest.mark.serial
@pytest.mark.timeout(60)
def test_max_download_rate(net, tmp_path, seed):
    """gtorrent <- libtorrent seeder (unlimited), --max-download-rate 1M."""
    src, tb, torrent, meta = make_case(tmp_path, seed)
    s = net.lt_peer(tb, src)
    s.wait_seeding(20)
    g = net.gt("--no-tracker", "--peer", "127.0.0.1:%d" % s.port,
               "-p", peers.free_port(), "-o", tmp_path / "out",
               "--max-download-rate", "1M", torrent, tag="leecher")
    # libtorrent's count of what it sent moves in steps of a third of its
    # socket's send buffer (hundreds of KiB, when the kernel wakes it up):
    # the payload gtorrent writes to its file is measured instead.
    measure(lambda: proc_io(g.pid, "wchar"), g, "download", {
        "libtorrent's payload sent": lambda:
            s.status().total_payload_upload})
    stop(g)


@pytest.mark.serial
@pytest.mark.timeout(60)
def test_max_upload_rate(net, tmp_path, seed):
    """libtorrent leecher (unlimited) <- `gtorrent seed
    --max-upload-rate 1M`."""
    src, tb, torrent, meta = make_case(tmp_path, seed)
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "-p", port, "-o", src,
               "--max-upload-rate", "1M", torrent, tag="seeder")
    assert peers.wait_listening(port, 20, g.alive), why(
        "gtorrent seed does not listen", g)
    le = net.lt_peer(meta.without_trackers(), tmp_path / "lt-out",
                     seeder=False)
    assert le.connect_until_peer(port, 20), why(
        "libtorrent never got connected to gtorrent", g)
    measure(lambda: le.status().total_payload_download, g, "upload")
    stop(g)
