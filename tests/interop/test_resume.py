"""Fast resume (issue 12): gtorrent's resume records, seen from outside.

gtorrent keeps one record per torrent in
$XDG_STATE_HOME/gtorrent/resume/<info-hash>-<data key>.resume (resumekit.py reads it
back), written within about 3 s of a change while downloading and at a
clean stop.  A restart whose record agrees with the files checks no data
(-v: "resume record: N of M pieces here, B blocks of P more; no data
check"); a missing, broken, foreign or hostile record, or a file changed
since, gets a one-line notice and the data is checked as before ("N of M
pieces already here").  A second gtorrent on the same data refuses to
start.

Seeders are libtorrent (upload limit on loopback) or `gtorrent seed
--max-upload-rate`, each with a state folder of its own; every process
runs on 127.0.0.1 and is killed by PID at teardown (peers.Net).  Kill
moments come from the test's seed (printed), so a failure reproduces.
"""

import os
import random
import re
import shutil
import signal
import time

import pytest

import peers
import resumekit
from helpers import KIB, MIB
from peers import why
from resumekit import (BLOCK, RATE, Case, checked, gt_seed, proc_io,
                       read_record, record_path, resumed)

GT_TIMEOUT = 60
PIPELINE = 32 * BLOCK           # requests gtorrent keeps out to one peer
                                # at first (peer.c PEER_INIT_QUEUE)


@pytest.fixture(autouse=True)
def _config_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME",
                       str(tmp_path_factory.mktemp("config")))


def leech(net, case, port, out, *extra, tag, listen=None):
    """gtorrent (-v) downloading case into out from 127.0.0.1:port."""
    return net.gt("--no-tracker", "--peer", "127.0.0.1:%d" % port,
                  "-p", listen or peers.free_port(), "-o", out, "-v",
                  *extra, case.torrent, tag=tag)


def finish(g, case, out, timeout=GT_TIMEOUT):
    rc = g.wait(timeout)
    assert rc == 0, why(g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "done", why(g)
    case.check(out)
    return sm


def wait_written(g, n, timeout=30):
    """Until gtorrent wrote n bytes (its data, mostly) or exited."""
    assert peers.wait_until(lambda: (proc_io(g.pid) or 0) >= n or
                            not g.alive(), timeout, 0.02), why(
        "not %d bytes written in %d s" % (n, timeout), g)
    assert g.alive(), why("gtorrent exited before %d bytes" % n, g)


def interrupted_record(net, case, port, out, frac, tag="first"):
    """A first run stopped by SIGINT once frac of the payload is written:
    (its summary, the clean record it left)."""
    g = leech(net, case, port, out, tag=tag)
    wait_written(g, int(case.total * frac))
    rc = g.interrupt()
    assert rc == 130, why("SIGINT must give exit 130", g)
    sm = g.summary()
    assert sm is not None and sm["state"] == "stopped", why(g)
    rec = read_record(case)
    assert rec is not None, why("no resume record after a clean stop: %s" %
                                record_path(case.ih), g)
    assert rec.clean, why("the record of a clean stop says not clean",
                          repr(rec), g)
    return sm, rec


def check_claims(case, out, rec, g):
    """The record claims no piece the disk lacks."""
    good = case.good_pieces(out)
    bad = sorted(rec.have - good)
    assert not bad, why("the record claims pieces %s, not on disk" % bad,
                        repr(rec), g)
    return good


# --- 1. SIGINT, restart -----------------------------------------------------

@pytest.mark.timeout(90)
def test_resume_after_sigint(net, tmp_path, seed):
    """A clean stop in the middle, a restart: no data check, the rest
    only is downloaded, byte for byte correct (libtorrent seeder at
    1 MiB/s)."""
    case = Case(tmp_path, seed, [(None, 4 * MIB + 1234)])
    s = net.lt_peer(case.torrent_bytes, case.src, upload_limit=RATE)
    s.wait_seeding(20)
    out = tmp_path / "out"
    sm1, rec = interrupted_record(net, case, s.port, out, 0.4)
    good = check_claims(case, out, rec, None)
    # a clean stop records every block it received
    assert rec.covered_bytes() >= sm1["downloaded"] - BLOCK, why(
        "received %d bytes, the clean record covers %d" % (
            sm1["downloaded"], rec.covered_bytes()), repr(rec))
    g2 = leech(net, case, s.port, out, tag="second")
    sm2 = finish(g2, case, out)
    line = resumed(g2.err)
    assert line is not None, why("no 'no data check' line", g2)
    assert line == (len(rec.have), case.npieces, rec.partial_blocks,
                    len(rec.partial)), why(line, repr(rec), g2)
    assert checked(g2.err) is None, why("the data was checked", g2)
    rest = case.total - rec.covered_bytes()
    print("first run %d bytes (%r, %d pieces good on disk); second run "
          "%d bytes, the rest was %d" % (sm1["downloaded"], rec, len(good),
                                          sm2["downloaded"], rest))
    assert sm2["downloaded"] <= rest + 2 * BLOCK, why(
        "second run fetched %d bytes, %d were missing" % (
            sm2["downloaded"], rest), g2)
    assert sm1["downloaded"] + sm2["downloaded"] <= case.total + \
        2 * BLOCK, why(sm1, sm2, g2)
    rec2 = read_record(case)
    assert rec2 is not None and len(rec2.have) == case.npieces and \
        rec2.clean and not rec2.partial, why(repr(rec2), g2)


@pytest.mark.timeout(60)
def test_recheck_ignores_record(net, tmp_path, seed):
    """--recheck: the data is checked although the record agrees."""
    case = Case(tmp_path, seed, [(None, 2 * MIB)])
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "out"
    _, rec = interrupted_record(net, case, port, out, 0.4)
    good = check_claims(case, out, rec, None)
    g2 = leech(net, case, port, out, "--recheck", tag="second")
    finish(g2, case, out)
    assert resumed(g2.err) is None, why("--recheck used the record", g2)
    assert "--recheck: checking the data" in g2.err, why(g2)
    assert checked(g2.err) == (len(good), case.npieces), why(
        len(good), g2)


# --- 2. kill -9, restart ----------------------------------------------------

def kill9_trial(net, case, port, out, t_kill, listen):
    """A run killed with SIGKILL t_kill s after its start, then the same
    command again to the end.  Returns a dict of figures."""
    g1 = leech(net, case, port, out, tag="killed", listen=listen)
    while g1.elapsed < t_kill and g1.alive():
        time.sleep(0.01)
    assert g1.alive(), why("done before the kill at %.2f s" % t_kill, g1)
    written = proc_io(g1.pid)
    os.kill(g1.pid, signal.SIGKILL)
    g1.wait(10)
    rec = read_record(case)
    good = case.good_pieces(out)
    g2 = leech(net, case, port, out, tag="restarted", listen=listen)
    sm2 = finish(g2, case, out)
    return {"g1": g1, "g2": g2, "written": written, "rec": rec,
            "good": good, "down2": sm2["downloaded"]}


@pytest.mark.timeout(90)
def test_resume_after_sigkill(net, tmp_path, seed):
    """The issue's acceptance trial, short: 8 MiB at 64 KiB pieces from a
    seeder at 1 MiB/s, kill -9 at a random moment (after the first
    checkpoint), the same command again: it completes with correct data,
    checks no data, and fetches again at most what came in the last 5 s
    (the record lags at most ~3 s) plus the pipeline."""
    rng = random.Random(seed)
    case = Case(tmp_path, seed, [(None, 8 * MIB)])
    sg, port = gt_seed(net, case, "1M")
    t_kill = rng.uniform(4.0, 6.5)
    print("seed %d: kill -9 at %.2f s" % (seed, t_kill))
    out = tmp_path / "out"
    r = kill9_trial(net, case, port, out, t_kill, peers.free_port())
    rec, g2 = r["rec"], r["g2"]
    assert rec is not None, why("no record %.1f s into the download" %
                                t_kill, r["g1"])
    assert not rec.clean, why("a killed run left a clean record",
                              repr(rec))
    bad = sorted(rec.have - r["good"])
    assert not bad, why("the record claims pieces %s, not on disk" % bad)
    line = resumed(g2.err)
    assert line is not None, why("no 'no data check' line", g2)
    assert line[0] >= len(rec.have), why(line, repr(rec), g2)
    assert checked(g2.err) is None, why("the data was checked", g2)
    lag = r["written"] - rec.covered_bytes()
    waste = r["written"] + r["down2"] - case.total
    bound = 5 * RATE + PIPELINE
    print("killed at %.2f s with %d bytes written, %r (%d pieces good on "
          "disk); the restart fetched %d bytes: %d again (record lag %d), "
          "bound %d" % (t_kill, r["written"], rec, len(r["good"]),
                        r["down2"], waste, lag, bound))
    assert r["down2"] <= case.total - rec.covered_bytes() + 2 * case.pl, \
        why("the restart did not trust the record", repr(rec), g2)
    assert waste <= bound, why("%d bytes fetched twice, bound %d" % (
        waste, bound), g2)


# --- 3. hostile records -----------------------------------------------------

def other_torrent_record(net, tmp_path, seed):
    """A real record of another torrent (a small one, downloaded whole
    here), as bytes."""
    other = Case(tmp_path, seed + 1, [(None, 3 * 64 * KIB + 5)], tag="b")
    sg, port = gt_seed(net, other, None, tag="seeder-b")
    g = leech(net, other, port, tmp_path / "out-b", tag="other")
    finish(g, other, tmp_path / "out-b", 30)
    sg.interrupt()
    rec = read_record(other)
    assert rec is not None, why("no record of the other torrent", g)
    return rec.data


HOSTILE = ["missing", "empty", "truncated", "garbage", "other-torrent",
           "partial-out-of-range", "piece-count", "have-too-long"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_record(net, tmp_path, seed, kind):
    """A record that cannot be trusted: a one-line notice, the data is
    checked, every good piece is kept and the download completes."""
    case = Case(tmp_path, seed, [(None, 2 * MIB + 99)])
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "out"
    _, rec = interrupted_record(net, case, port, out, 0.5)
    path = record_path(case.ih)
    raw = dict(rec.raw)
    rng = random.Random(seed)
    if kind == "missing":
        os.unlink(path)
        data = None
    elif kind == "empty":
        data = b""
    elif kind == "truncated":
        data = rec.data[:len(rec.data) * 2 // 3]
    elif kind == "garbage":
        data = b"\xff" + rng.randbytes(len(rec.data) - 1)
    elif kind == "other-torrent":
        data = other_torrent_record(net, tmp_path, seed)
    elif kind == "partial-out-of-range":
        raw[b"partial"] = list(raw[b"partial"]) + [
            [case.npieces + 3, b"\x80\x00"]]
        data = resumekit.encode_record(raw)
    elif kind == "piece-count":
        raw[b"pieces"] = 1 << 40
        data = resumekit.encode_record(raw)
    elif kind == "have-too-long":
        raw[b"have"] = raw[b"have"] + b"\xff" * 4096
        data = resumekit.encode_record(raw)
    if data is not None:
        with open(path, "wb") as f:
            f.write(data)
    good = case.good_pieces(out)
    g2 = leech(net, case, port, out, tag="second")
    sm2 = finish(g2, case, out)
    assert resumed(g2.err) is None, why("a %s record was used" % kind, g2)
    if kind == "missing":
        notice = g2.err_lines_with(resumekit.NO_RECORD)
    else:
        notice = [ln for ln in g2.err.splitlines()
                  if resumekit.IGNORED_RE.search(ln)]
    assert len(notice) == 1, why("want one notice", g2)
    print("%s: %s" % (kind, notice[0]))
    if kind == "other-torrent":
        assert "another torrent" in notice[0], why(notice[0])
    if kind == "partial-out-of-range":
        assert "out of range" in notice[0], why(notice[0])
    assert checked(g2.err) == (len(good), case.npieces), why(
        "%d pieces good on disk" % len(good), g2)
    assert sm2["downloaded"] <= case.total - case.bytes_of(good) + \
        2 * case.pl, why(sm2, g2)
    rec2 = read_record(case)
    assert rec2 is not None and len(rec2.have) == case.npieces, why(
        "the record was not rewritten whole", g2)


# --- 4. a file changed after a clean stop ------------------------------------

CHANGES = ["touch-back", "touch-forward", "corrupt", "truncate", "append",
           "delete"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("change", CHANGES)
def test_file_changed_after_stop(net, tmp_path, seed, change):
    """One file of a multi-file torrent changed after a clean stop (its
    mtime only, a byte of it, its length, or gone): a notice naming it,
    the data is checked, the good pieces are kept, the download completes
    byte for byte."""
    files = [("a.bin", 1 * MIB + 17), ("b.bin", 1 * MIB - 5),
             ("c/d.bin", 1 * MIB + 3000)]
    case = Case(tmp_path, seed, files)
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "out"
    _, rec = interrupted_record(net, case, port, out, 0.6)
    rel, off, size, inside = biggest_claimed_file(case, rec)
    path = os.path.join(str(out), *rel.split("/"))
    st = os.stat(path)
    if change == "touch-back":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 3600 * 10**9))
    elif change == "touch-forward":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 3600 * 10**9))
    elif change == "corrupt":
        with open(path, "r+b") as f:
            f.seek(inside[0] * case.pl - off + 100)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x55]))
    elif change == "truncate":
        os.truncate(path, size // 2)
    elif change == "append":
        with open(path, "ab") as f:
            f.write(b"x")
    elif change == "delete":
        os.unlink(path)
    good = case.good_pieces(out)
    g2 = leech(net, case, port, out, tag="second")
    rc = g2.wait(GT_TIMEOUT)
    assert rc == 0, why(g2)
    assert resumed(g2.err) is None, why("the record was used", g2)
    notice = [ln for ln in g2.err.splitlines()
              if resumekit.CHANGED_RE.search(ln)]
    assert len(notice) == 1, why("want one notice", g2)
    assert os.path.basename(rel) in notice[0], why(notice[0])
    print("%s %s: %s" % (change, rel, notice[0]))
    assert checked(g2.err) == (len(good), case.npieces), why(
        "%d pieces good on disk (record: %d)" % (len(good), len(rec.have)),
        g2)
    if change.startswith("touch"):
        assert good >= rec.have
    if change == "append":
        # the torrent's bytes are right; the extra byte is gtorrent's to
        # keep or cut
        data = case.read_disk(out)
        assert data == case.meta.payload, why("wrong data", g2)
        print("appended file now %d bytes (torrent: %d)" % (
            os.path.getsize(path), size))
    else:
        case.check(out)
    sm2 = g2.summary()
    assert sm2["downloaded"] <= case.total - case.bytes_of(good) + \
        2 * case.pl, why(sm2, g2)


def biggest_claimed_file(case, rec):
    """(rel, off, size, pieces) of the file with the most verified pieces
    wholly inside it."""
    best = None
    for rel, off, size in case.layout:
        inside = [p for p in sorted(rec.have) if off <= p * case.pl and
                  (p + 1) * case.pl <= off + size]
        if best is None or len(inside) > len(best[3]):
            best = (rel, off, size, inside)
    assert best[3], why("no verified piece inside a file", repr(rec))
    return best


@pytest.mark.timeout(60)
def test_record_claiming_absent_file(net, tmp_path, seed):
    """A record that claims verified pieces of a file it lists as absent
    (size 0, no mtime: what a file deleted before the first checkpoint
    left in the record), the file gone: not trusted ("is missing"), the
    data is checked, the file downloaded again."""
    files = [("a.bin", 1 * MIB + 17), ("b.bin", 1 * MIB - 5)]
    case = Case(tmp_path, seed, files)
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "out"
    _, rec = interrupted_record(net, case, port, out, 0.6)
    rel, off, size, inside = biggest_claimed_file(case, rec)
    i = [p for p, _, _ in case.layout].index(rel)
    raw = dict(rec.raw)
    raw[b"files"] = list(raw[b"files"])
    raw[b"files"][i] = [0, 0, raw[b"files"][i][2]]
    with open(record_path(case.ih), "wb") as f:
        f.write(resumekit.encode_record(raw))
    os.unlink(os.path.join(str(out), *rel.split("/")))
    good = case.good_pieces(out)
    g2 = leech(net, case, port, out, tag="second")
    rc = g2.wait(GT_TIMEOUT)
    assert rc == 0, why(g2)
    assert resumed(g2.err) is None, why(
        "a record claiming %d pieces of the absent %s was used" % (
            len(inside), rel), g2)
    notice = [ln for ln in g2.err.splitlines()
              if resumekit.CHANGED_RE.search(ln)]
    assert len(notice) == 1 and "is missing" in notice[0], why(g2)
    assert checked(g2.err) == (len(good), case.npieces), why(g2)
    case.check(out)


# --- 5. the lock -------------------------------------------------------------

IN_USE_RE = r"(\S*)%s: in use by another gtorrent \(pid (\d+)\)"


@pytest.mark.timeout(90)
def test_second_gtorrent_on_same_data_refuses(net, tmp_path, seed):
    """A second gtorrent on the same -o and torrent refuses at the start
    with "DIR/NAME: in use by another gtorrent (pid N)", whatever the
    spelling of DIR; the first is not disturbed.  After the first is
    killed with SIGKILL, the lock is gone with it; another folder is
    never refused."""
    case = Case(tmp_path, seed, [(None, 3 * MIB)])
    sg, port = gt_seed(net, case, "1M")
    out = tmp_path / "out"
    g1 = leech(net, case, port, out, tag="first")
    wait_written(g1, 256 * KIB)
    pat = re.compile(IN_USE_RE % re.escape(case.name))
    for i, o in enumerate([out, str(out) + "/", tmp_path / "out/../out"]):
        g2 = leech(net, case, port, o, tag="second-%d" % i)
        rc = g2.wait(15)
        assert rc in (1, 4), why("want a refusal (exit 1 or 4)", g2)
        m = pat.search(g2.err)
        assert m is not None, why("no 'in use' message", g2)
        assert int(m.group(2)) == g1.pid, why("pid %d" % g1.pid, g2)
        assert "connected" not in g2.err, why("refused after a peer", g2)
        assert g1.alive(), why("the first one stopped", g1)
    # another folder is other data
    other = tmp_path / "elsewhere"
    g3 = leech(net, case, port, other, tag="elsewhere")
    assert peers.wait_until(lambda: (proc_io(g3.pid) or 0) > 64 * KIB or
                            not g3.alive(), 20, 0.05), why(g3)
    assert g3.alive() and not pat.search(g3.err), why(g3)
    g3.kill()
    # kill -9: no stale lock
    os.kill(g1.pid, signal.SIGKILL)
    g1.wait(10)
    g4 = leech(net, case, port, out, tag="after-kill")
    finish(g4, case, out)
    assert not pat.search(g4.err), why(g4)
    print("refused: %s" % m.group(0))


# --- 6. a download moved away and back, the record of another copy ----------

@pytest.mark.timeout(90)
def test_record_of_other_folder(net, tmp_path, seed):
    """The record is per torrent and folder: a second folder of the same
    torrent (a partial copy of the first) has no record of its own: a
    check and a correct download; the first folder then still finds its
    own record, untouched by the second's run, and needs no check."""
    case = Case(tmp_path, seed, [(None, 2 * MIB)])
    sg, port = gt_seed(net, case, "1M")
    out1, out2 = tmp_path / "one", tmp_path / "two"
    _, rec1 = interrupted_record(net, case, port, out1, 0.5, tag="one-a")
    # a partial copy of other pieces in folder two: half of one's
    shutil.copytree(out1, out2)
    with open(os.path.join(str(out2), case.name), "r+b") as f:
        f.truncate(case.total // 4)
        f.truncate(case.total)
    good2 = case.good_pieces(out2)
    g = leech(net, case, port, out2, tag="two")
    finish(g, case, out2)
    assert resumed(g.err) is None, why("folder one's record used", g)
    assert checked(g.err) == (len(good2), case.npieces), why(g)
    g = leech(net, case, port, out1, tag="one-b")
    finish(g, case, out1)
    assert resumed(g.err) is not None, why("folder one's record not used",
                                           g)
    assert checked(g.err) is None, why(g)


@pytest.mark.timeout(90)
def test_two_folders_killed_together(net, tmp_path, seed):
    """The same torrent downloading into two folders at once (one state
    folder), both killed with SIGKILL: the record left is one folder's
    checkpoint, and the other folder's files are of the same size and
    newer.  Restarting that other folder must not take the record's
    pieces for its own: it completes byte for byte."""
    case = Case(tmp_path, seed, [(None, 8 * MIB)])
    sg, port = gt_seed(net, case, "2M")
    one, two = tmp_path / "one", tmp_path / "two"
    # no PEX: each takes its own pieces from the seeder
    ga = leech(net, case, port, one, "--no-pex", tag="one")
    gb = leech(net, case, port, two, "--no-pex", tag="two")
    for g in (ga, gb):
        wait_written(g, 2 * MIB)
    assert peers.wait_until(lambda: os.path.exists(record_path(case.ih)),
                            10, 0.05), why("no checkpoint", ga, gb)
    time.sleep(1.5)
    for g in (ga, gb):
        os.kill(g.pid, signal.SIGKILL)
    for g in (ga, gb):
        g.wait(10)
    rec = read_record(case)
    assert rec is not None, why("no record", ga, gb)
    good = {"one": case.good_pieces(one), "two": case.good_pieces(two)}
    owner = [k for k in good if rec.have <= good[k]]
    print("%r; pieces good in one: %d, in two: %d; the record fits %s" % (
        rec, len(good["one"]), len(good["two"]), owner or "neither"))
    # the folder the record does not fit first (after a restart the
    # record is of its own files)
    order = sorted((("one", one), ("two", two)), key=lambda x: x[0] in
                   owner)
    for name, out in order:
        g = leech(net, case, port, out, tag=name + "-again")
        rc = g.wait(GT_TIMEOUT)
        assert rc == 0, why(g)
        try:
            case.check(out)
        except AssertionError as e:
            raise AssertionError(why(
                "%s: wrong data after a restart (%s); the record fits %s"
                % (name, e, owner), repr(rec), g))
