#!/usr/bin/python3
"""Issue 12's acceptance trials of fast resume, in full (not a test: run
it by hand; test_resume.py::test_resume_after_sigkill is the short form
that `make check` runs).

A 64 MiB torrent at 64 KiB pieces is seeded on 127.0.0.1 by one seeder
throttled to 1 MiB/s (`gtorrent seed --max-upload-rate 1M`, or libtorrent
with --seeder lt).  Each trial downloads it from scratch, kills gtorrent
with SIGKILL at a random moment of the download (after the first
checkpoint: from 4 s on), and runs the same command again to the end.
A trial passes when the data is correct, the restart checked no data
("no data check"), and it fetched again no more than the pieces partial
at the kill plus those verified in the last 5 s, taken as 5 s at the
seeder's rate plus gtorrent's first request pipeline (32 blocks):

    written before the kill + downloaded after it - size <= bound

("written": the killed process's write(2) bytes, /proc/PID/io wchar, read
just before the kill).  One line per trial, then PASS or FAIL.

    GTORRENT=$PWD/gtorrent /usr/bin/python3 tests/interop/resume_trials.py
        [--trials 20] [--size-mib 64] [--seed N] [--seeder gt|lt] [--keep]
"""

import argparse
import os
import pathlib
import random
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers  # noqa: E402
import resumekit  # noqa: E402
from helpers import KIB, MIB  # noqa: E402
from resumekit import (BLOCK, RATE, Case, checked, gt_seed,  # noqa: E402
                       proc_io, read_record, resumed)

PIPELINE = 32 * BLOCK


def trial(net, case, port, out, t_kill, listen):
    """One kill -9 and restart; a dict of figures."""
    shutil.rmtree(str(out), ignore_errors=True)
    try:
        os.unlink(resumekit.record_path(case.ih))
    except FileNotFoundError:
        pass
    args = ["--no-tracker", "--peer", "127.0.0.1:%d" % port, "-p", listen,
            "-o", out, "-v", case.torrent]
    g1 = net.gt(*args, tag="killed")
    while g1.elapsed < t_kill and g1.alive():
        time.sleep(0.005)
    if not g1.alive():
        return {"error": "exited before the kill (rc %s)" % g1.rc}
    written = proc_io(g1.pid)
    os.kill(g1.pid, signal.SIGKILL)
    g1.wait(10)
    rec = read_record(case)
    good = case.good_pieces(out)
    t0 = time.monotonic()
    g2 = net.gt(*args, tag="restarted")
    rc = g2.wait(case.total / RATE * 3 + 60)
    r = {"written": written, "rec": rec, "good": good, "rc": rc,
         "secs2": time.monotonic() - t0, "g1": g1, "g2": g2}
    sm = g2.summary()
    r["down2"] = sm["downloaded"] if sm else None
    r["skipped"] = resumed(g2.err) is not None and checked(g2.err) is None
    try:
        case.check(out)
        r["correct"] = rc == 0
    except AssertionError as e:
        r["correct"] = False
        r["why"] = str(e)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--size-mib", type=int, default=64)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--seeder", choices=["gt", "lt"], default="gt")
    ap.add_argument("--gtorrent", default=os.environ.get("GTORRENT") or
                    os.path.join(HERE, "..", "..", "gtorrent"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the work folder")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    exe = os.path.abspath(a.gtorrent)
    work = pathlib.Path(tempfile.mkdtemp(prefix="gtorrent-trials."))
    os.environ["XDG_STATE_HOME"] = str(work / "state")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    os.environ.setdefault("LC_ALL", "C.UTF-8")
    lt = None
    if a.seeder == "lt":
        import libtorrent as lt
    net = peers.Net(work, gtorrent=exe, lt=lt)
    size = a.size_mib * MIB
    dur = size / RATE
    bound = 5 * RATE + PIPELINE
    print("seed %d; %d MiB at 64 KiB pieces, seeder %s at 1 MiB/s; "
          "bound on bytes fetched twice: %d; work %s" % (
              seed, a.size_mib, a.seeder, bound, work), flush=True)
    npass = 0
    try:
        case = Case(work, seed, [(None, size)], pl=64 * KIB)
        if a.seeder == "lt":
            s = net.lt_peer(case.torrent_bytes, case.src,
                            upload_limit=RATE)
            s.wait_seeding(60)
            port = s.port
        else:
            _, port = gt_seed(net, case, "1M")
        listen = peers.free_port()
        print("trial  kill_s  written_B  rec_pieces  rec_blocks  "
              "good_pieces  down_after_B  again_B  check_skipped  "
              "correct  restart_s  result", flush=True)
        for i in range(a.trials):
            t_kill = rng.uniform(4.0, dur * 0.93)
            r = trial(net, case, port, work / "out", t_kill, listen)
            if "error" in r:
                print("%5d  %6.2f  %s  FAIL" % (i + 1, t_kill, r["error"]),
                      flush=True)
                continue
            rec = r["rec"]
            down2 = r["down2"] if r["down2"] is not None else -1
            again = r["written"] + down2 - case.total
            claims_ok = rec is None or rec.have <= r["good"]
            ok = (r["correct"] and r["skipped"] and again <= bound and
                  claims_ok and r["down2"] is not None)
            npass += ok
            print("%5d  %6.2f  %9d  %10s  %10s  %11d  %12d  %7d  %13s  "
                  "%7s  %9.1f  %s%s" % (
                      i + 1, t_kill, r["written"],
                      len(rec.have) if rec else "none",
                      rec.partial_blocks if rec else "-",
                      len(r["good"]), down2, again,
                      "yes" if r["skipped"] else "no",
                      "yes" if r["correct"] else "NO", r["secs2"],
                      "pass" if ok else "FAIL",
                      "" if claims_ok else " (record claims pieces "
                      "not on disk)"), flush=True)
            if not ok:
                print(r["g2"].describe(20), flush=True)
            # the processes of this trial are done: forget them
            net.items = [(x, st) for x, st in net.items
                         if x not in (r["g1"], r["g2"])]
            r["g1"].close()
            r["g2"].close()
    finally:
        net.stop()
        if not a.keep:
            shutil.rmtree(str(work), ignore_errors=True)
    print("%s: %d of %d trials passed (seed %d)" % (
        "PASS" if npass == a.trials else "FAIL", npass, a.trials, seed),
        flush=True)
    return 0 if npass == a.trials else 1


if __name__ == "__main__":
    sys.exit(main())
