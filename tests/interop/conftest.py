"""Fixtures for gtorrent's interop tests (pytest, /usr/bin/python3).

gtorrent is found through $GTORRENT, else ../../gtorrent from this folder.
Its command lines go through helpers.gt_args (--no-dht unless a test gives
a loopback --dht-bootstrap) and $XDG_STATE_HOME is a temporary folder.
Every test gets its own tmp_path; every process started here has a timeout
and is killed by PID when it runs over.  A per-test alarm (INTEROP_TIMEOUT
seconds, default 90; @pytest.mark.timeout(N) for one test) stops a test that
hangs in Python itself.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import helpers  # noqa: E402

RUN_TIMEOUT = 120          # seconds, one subprocess
TEST_TIMEOUT = int(os.environ.get("INTEROP_TIMEOUT", "90"))


class InteropTimeout(Exception):
    pass


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): alarm for one "
                            "test instead of INTEROP_TIMEOUT")
    config.addinivalue_line("markers", "serial: a test that measures CPU "
                            "or rates; run-interop.sh runs these alone, "
                            "after the parallel (xdist) pass")
    # gtorrent's DHT state folder (dht.dat): a fresh one, never the user's,
    # so that no saved routing table sends a test to the internet.
    global _STATE_HOME
    _STATE_HOME = tempfile.mkdtemp(prefix="gtorrent-interop-state.")
    os.environ["XDG_STATE_HOME"] = _STATE_HOME


_STATE_HOME = None


def pytest_unconfigure(config):
    if _STATE_HOME:
        shutil.rmtree(_STATE_HOME, ignore_errors=True)


# Modules (or single tests, "file::name") whose tests run longest (tens of
# seconds: Transmission's timers, rate-limited swarms), started first and
# longest first so that parallel workers do not end on them one after
# another; the rest keep their order.  test_dht.py is one xdist_group (one
# worker, 100 s) and holds the 36 s dead-bootstrap test; the swarm-lab
# tests of test_strategies.py (five gtorrents each) are spread out among
# the others rather than started together.
SLOW_FIRST = ("test_dht.py", "test_strategies.py::test_free_rider",
              "test_clients.py", "test_strategies.py::test_snubbing_peer",
              "test_swarm.py", "test_strategies.py::test_bbs_plus",
              "test_magnet.py", "test_strategies.py::test_super_seed",
              "test_dht_flood.py", "test_seedlimit.py",
              "test_hostile_peers.py", "test_dht_cli.py",
              "test_magnet_hostile.py", "test_trackers.py",
              "test_faults.py::test_wall_clock_jumps",
              "test_faults.py::test_file_deleted_mid_run",
              "test_resume.py::test_resume_after_sigkill")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        name = os.path.basename(str(item.fspath))
        test = name + "::" + item.name.split("[")[0]
        for i, key in enumerate(SLOW_FIRST):
            if key in (name, test):
                return i
        return len(SLOW_FIRST)
    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory, monkeypatch):
    """Every process a test starts keeps its state (gtorrent's DHT table
    in $XDG_STATE_HOME/gtorrent) in a folder of that test's own: never in
    the real home, never shared between tests running in parallel."""
    d = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(d))
    # ... and reads no config file but the test's own (none by default)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d / "config"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    m = item.get_closest_marker("timeout")
    secs = int(m.args[0]) if m and m.args else TEST_TIMEOUT

    def _alarm(signum, frame):
        raise InteropTimeout("test ran over %d s" % secs)

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(secs)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Result:
    """A finished process: rc, out/err (str), outb/errb (bytes)."""

    def __init__(self, args, rc, outb, errb):
        self.args = args
        self.rc = rc
        self.outb = outb
        self.errb = errb
        self.out = outb.decode("utf-8", "replace")
        self.err = errb.decode("utf-8", "replace")

    def __repr__(self):
        return "<%s rc=%r\n--- stdout:\n%s\n--- stderr:\n%s>" % (
            " ".join(self.args), self.rc, self.out[-3000:],
            self.err[-3000:])

    def json(self):
        """stdout must be exactly one JSON object."""
        text = self.outb.decode("utf-8")
        dec = json.JSONDecoder()
        obj, end = dec.raw_decode(text.lstrip())
        assert text.lstrip()[end:].strip() == "", \
            "more than one JSON value on stdout: %r" % self
        assert isinstance(obj, dict), "JSON is not an object: %r" % self
        return obj

    def err_lines(self):
        return [ln for ln in self.err.splitlines() if ln.strip()]


def run_cmd(args, cwd=None, timeout=RUN_TIMEOUT, input=None, env=None):
    """Runs args; on timeout kills it (by PID) and fails the test."""
    args = [str(a) for a in args]
    e = dict(os.environ)
    e.setdefault("LC_ALL", "C.UTF-8")
    if env:
        e.update(env)
    try:
        p = subprocess.run(args, cwd=cwd and str(cwd), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=None if input is not None
                           else subprocess.DEVNULL,
                           timeout=timeout, env=e)
    except subprocess.TimeoutExpired as ex:
        pytest.fail("%s: timed out after %s s\n--- stdout:\n%s\n--- stderr:\n"
                    "%s" % (" ".join(args), timeout,
                            (ex.stdout or b"")[-2000:],
                            (ex.stderr or b"")[-2000:]))
    return Result(args, p.returncode, p.stdout, p.stderr)


def _default_gtorrent():
    return os.path.normpath(os.path.join(HERE, "..", "..", "gtorrent"))


@pytest.fixture(scope="session")
def gtorrent_path():
    p = os.environ.get("GTORRENT") or _default_gtorrent()
    p = os.path.abspath(p)
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        pytest.skip("gtorrent binary not found at %s (set GTORRENT)" % p)
    return p


@pytest.fixture
def gt(gtorrent_path):
    """gt(*args, cwd=, timeout=, input=) runs gtorrent -> Result."""
    def _gt(*args, **kw):
        return run_cmd([gtorrent_path] + helpers.gt_args(args), **kw)
    return _gt


@pytest.fixture
def gt_json(gt):
    """gt_json(*args) runs gtorrent, expects exit 0, returns its JSON."""
    def _gt_json(*args, **kw):
        ok = kw.pop("ok", (0,))
        r = gt(*args, **kw)
        assert r.rc in ok, r
        return r.json()
    return _gt_json


@pytest.fixture
def run():
    """run(args, cwd=, timeout=, input=) -> Result, for any program."""
    return run_cmd


@pytest.fixture(scope="session")
def lt():
    try:
        import libtorrent
    except ImportError as e:
        pytest.skip("python3-libtorrent not importable: %s" % e)
    return libtorrent


@pytest.fixture(scope="session")
def mktorrent():
    p = shutil.which("mktorrent")
    if p is None:
        pytest.skip("mktorrent not installed")
    return p


@pytest.fixture
def mk(mktorrent):
    """mk(path, out, piece_exp, *extra) runs mktorrent (fails on error)."""
    def _mk(path, out, piece_exp, *extra, **kw):
        args = [mktorrent, "-l", str(piece_exp), "-o", str(out)]
        if not any(str(a).startswith("-a") for a in extra):
            args += ["-a", helpers.ANNOUNCE]
        args += [str(a) for a in extra] + [str(path)]
        r = run_cmd(args, **kw)
        assert r.rc == 0, r
        return out
    return _mk


@pytest.fixture
def seed(request):
    """A seed stable for each test id, so failures reproduce."""
    return zlib.crc32(request.node.nodeid.encode("utf-8"))


@pytest.fixture
def rng(seed):
    import random
    return random.Random(seed)


# --- transfers: gtorrent downloading/seeding with other peers ---------------

@pytest.fixture(scope="session")
def opentracker():
    p = shutil.which("opentracker")
    if p is None:
        pytest.skip("opentracker not installed")
    return p


def _probe_download(gtorrent, tmp):
    """None if `gtorrent FILE.torrent` looks like a download engine, else
    why not.  Runs it on a tiny torrent with one refusing peer for at most
    1 s (a command that is not there yet exits at once) and kills it by
    PID."""
    import hashlib
    data = b"probe" * 1000
    info = {"name": "probe.bin", "length": len(data),
            "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(data[i:i + 16384]).digest()
                               for i in range(0, len(data), 16384))}
    t = os.path.join(tmp, "probe.torrent")
    with open(t, "wb") as f:
        f.write(helpers.bencode({"announce": helpers.ANNOUNCE,
                                 "info": info}))
    out = os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    import peers
    port = peers.free_port()
    p = subprocess.Popen([gtorrent] + helpers.gt_args(
                         ["--no-tracker", "--peer", "127.0.0.1:1", "-o", out,
                          "-p", str(port), t]),
                         cwd=tmp, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        outb, errb = p.communicate(timeout=1)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate(timeout=5)
        return None
    text = (outb + errb).decode("utf-8", "replace")
    if "not implemented" in text or "unknown command" in text or \
            p.returncode == 2:
        return "download engine not there yet (rc %d): %s" % (
            p.returncode, text.strip()[:200])
    return None


@pytest.fixture(scope="session")
def gt_download(gtorrent_path, tmp_path_factory):
    """gtorrent's path, or a skip while it cannot download yet."""
    why = _probe_download(gtorrent_path,
                          str(tmp_path_factory.mktemp("probe")))
    if why is not None:
        pytest.skip(why)
    return gtorrent_path


@pytest.fixture
def net(gt_download, lt, tmp_path, request):
    """A peers.Net: trackers, libtorrent peers, gtorrent processes and
    scripted peers for one test, all stopped (by PID/handle) at teardown.
    The opentracker fixture is used when the test asks for it."""
    import peers
    ot = None
    if "opentracker" in request.fixturenames:
        ot = request.getfixturevalue("opentracker")
    n = peers.Net(tmp_path, gtorrent=gt_download, opentracker=ot, lt=lt)
    yield n
    n.stop()
