"""Issue 13's command-line papercuts: what a new user meets first.

A web page or an empty file given as a .torrent, errors of one line with
the same prefix everywhere, `create -q` and `create -a` checks, `seed
--help`, the config file, `--on-done`, an output folder that cannot be
written.  Everything runs on 127.0.0.1 only.
"""

import os
import stat

import pytest

from helpers import ANNOUNCE, KIB

SOURCE_CMDS = ["info", "magnet", "verify", "scrape", "download", "seed"]


def cmd_args(cmd, path, tmp_path):
    """A command line of cmd that loads the .torrent path."""
    if cmd in ("download", "seed"):
        return [cmd, "--no-tracker", "--peer", "127.0.0.1:1", "-o",
                tmp_path / "out", path]
    if cmd == "verify":
        return [cmd, "-o", tmp_path, path]
    return [cmd, path]


def one_error(r, cmd):
    """Exactly one stderr line, "gtorrent: CMD: ..."."""
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("gtorrent: %s: " % cmd), r
    return lines[0]


@pytest.mark.parametrize("cmd", SOURCE_CMDS)
def test_html_page_as_torrent(gt, tmp_path, cmd):
    p = tmp_path / "page.torrent"
    p.write_bytes(b"\xef\xbb\xbf\n  <!DOCTYPE html>\n<html><head><title>"
                  b"404</title></head><body>Not found</body></html>\n")
    r = gt(*cmd_args(cmd, p, tmp_path))
    assert r.rc == 3, r
    line = one_error(r, cmd)
    assert line.endswith("page.torrent: not a .torrent file "
                         "(it looks like HTML)"), r


@pytest.mark.parametrize("cmd", SOURCE_CMDS)
def test_empty_file_as_torrent(gt, tmp_path, cmd):
    p = tmp_path / "empty.torrent"
    p.write_bytes(b"")
    r = gt(*cmd_args(cmd, p, tmp_path))
    assert r.rc == 3, r
    line = one_error(r, cmd)
    assert line.endswith("empty.torrent: not a .torrent file (it is empty)")


def test_damaged_torrent_keeps_parser_error(gt, tmp_path):
    """A broken bencoded file is not called HTML: the parser's reason."""
    p = tmp_path / "bad.torrent"
    p.write_bytes(b"d8:announce3:abc")
    r = gt("info", p)
    assert r.rc == 3, r
    line = one_error(r, "info")
    assert "not a .torrent file" not in line, r


def test_html_on_stdin(gt, tmp_path):
    r = gt("info", "-", input=b"<html><body>x</body></html>")
    assert r.rc == 3, r
    assert one_error(r, "info").endswith("(it looks like HTML)"), r


def payload(tmp_path):
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    f = d / "file.bin"
    f.write_bytes(os.urandom(100 * KIB))
    return f


def test_create_quiet(gt, tmp_path):
    f = payload(tmp_path)
    r = gt("create", "-q", "-v", "-o", tmp_path / "q.torrent", f)
    assert r.rc == 0, r
    assert r.out == "" and r.err == "", r
    r = gt("create", "--quiet", "-o", "-", f)
    assert r.rc == 0, r
    assert r.err == "" and r.outb.startswith(b"d"), r
    # errors still show
    r = gt("create", "-q", "-o", tmp_path / "q.torrent", f)
    assert r.rc == 4, r
    assert "already exists" in one_error(r, "create"), r


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/announce",
                                 "127.0.0.1:6969/announce",
                                 "udp://127.0.0.1/announce",
                                 "wss://127.0.0.1/announce",
                                 "http:/127.0.0.1/announce"])
def test_create_announce_scheme(gt, tmp_path, url):
    f = payload(tmp_path)
    out = tmp_path / "t.torrent"
    r = gt("create", "-o", out, "-a", ANNOUNCE + "," + url, f)
    assert r.rc == 2, r
    line = one_error(r, "create")
    assert url in line and "--any-url" in line, r
    assert not out.exists()
    r = gt("create", "-q", "--any-url", "-o", out, "-a", url, f)
    assert r.rc == 0, r


@pytest.mark.parametrize("url", ["http://127.0.0.1:6969/announce",
                                 "https://127.0.0.1/announce",
                                 "udp://127.0.0.1:6969/announce",
                                 "udp://[::1]:6969"])
def test_create_announce_good_schemes(gt, tmp_path, url):
    f = payload(tmp_path)
    r = gt("create", "-q", "-o", tmp_path / "t.torrent", "-a", url, f)
    assert r.rc == 0, r


DOWNLOAD_ONLY = ["--magnet", "--metadata-only", "--preallocate",
                 "--priority-high", "--priority-low", "--sequential",
                 "--seed ", "--anti-snubbing", "--rarest-first",
                 "--end-game", "--bbs-plus", "implies --seed"]


def long_opts(text):
    import re
    return set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z-]*)", text))


def test_seed_help_lists_seeding_options_only(gt):
    r = gt("seed", "--help")
    assert r.rc == 0, r
    for o in DOWNLOAD_ONLY:
        assert o not in r.out, (o, r.out)
    assert "-m," not in r.out
    seed = long_opts(r.out)
    for o in ("--output", "--seed-ratio", "--seed-time", "--seed-idle",
              "--max-upload-rate", "--super-seed", "--select-file",
              "--exclude", "--peer", "--tracker", "--port", "--recheck"):
        assert o in seed, (o, r.out)
    d = gt("download", "--help")
    assert d.rc == 0, d
    dl = long_opts(d.out)
    assert seed <= dl, seed - dl
    for o in DOWNLOAD_ONLY[:6]:
        assert o in dl, o


# --- an output folder that cannot be written ------------------------------

def listener():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


def contacted(sock):
    import select
    r, _, _ = select.select([sock], [], [], 0)
    return bool(r)


def small_torrent(gt, tmp_path):
    f = payload(tmp_path)
    t = tmp_path / "t.torrent"
    r = gt("create", "-o", t, f)
    assert r.rc == 0, r
    return t


def as_nobody(tmp_path):
    """argv prefix running a program as nobody (root and setpriv needed)."""
    import shutil
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run as nobody")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
            "--"]


@pytest.fixture
def nobody_base(tmp_path_factory):
    """A folder nobody may read, with a .torrent nobody may read."""
    import tempfile
    import shutil
    base = tempfile.mkdtemp(prefix="gtorrent-papercuts.")
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("case", ["folder-not-writable",
                                  "parent-not-writable",
                                  "deep-under-not-writable",
                                  "folder-is-a-file", "under-a-file"])
def test_output_not_writable_found_first(gt, run, gtorrent_path,
                                         nobody_base, case):
    """As nobody: the error comes before any peer is contacted, one line,
    exit 4, the reason strerror's ("Permission denied", "Not a
    directory"), never "input/output error"."""
    pre = as_nobody(nobody_base)
    base = nobody_base
    t = small_torrent(gt, __import__("pathlib").Path(base))
    os.chmod(t, 0o644)
    os.chmod(os.path.join(base, "data"), 0o755)
    ro = os.path.join(base, "ro")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    afile = os.path.join(base, "afile")
    open(afile, "w").close()
    out, why = {
        "folder-not-writable": (ro, "Permission denied"),
        "parent-not-writable": (os.path.join(ro, "out"),
                                "Permission denied"),
        "deep-under-not-writable": (os.path.join(ro, "a", "b"),
                                    "Permission denied"),
        "folder-is-a-file": (afile, "Not a directory"),
        "under-a-file": (os.path.join(afile, "x"), "Not a directory"),
    }[case]
    state = os.path.join(base, "state")
    os.makedirs(state)
    os.chmod(state, 0o777)
    lsock = listener()
    port = lsock.getsockname()[1]
    try:
        r = run(pre + [gtorrent_path, "download", "--no-dht",
                       "--no-tracker", "--peer", "127.0.0.1:%d" % port,
                       "-p", "0", "-o", out, t], timeout=20,
                env={"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state})
        if "setpriv" in r.err:
            pytest.skip("setpriv cannot drop to nobody: %s" % r.err)
        assert r.rc == 4, r
        lines = r.err_lines()
        assert len(lines) == 1, r
        assert lines[0].startswith("gtorrent: download: %s: " % out), r
        assert why in lines[0], r
        assert "input/output" not in r.err.lower(), r
        assert not contacted(lsock), ("a peer was contacted", r)
        # seeding only reads: no such check
        r = run(pre + [gtorrent_path, "seed", "--no-dht", "--no-tracker",
                       "-p", "0", "-o", out, t], timeout=20,
                env={"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state})
        if why == "Permission denied":
            assert r.rc == 1 and "data to seed" in r.err, r
    finally:
        lsock.close()


@pytest.fixture
def mount_ns(tmp_path):
    """A mount namespace held by `unshare -m sleep`, killed by PID."""
    import shutil
    import subprocess
    import time
    for exe in ("unshare", "nsenter", "mount"):
        if shutil.which(exe) is None:
            pytest.skip("%s not installed" % exe)
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                          "sleep", "120"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    mine = os.readlink("/proc/self/ns/mnt")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and p.poll() is None:
        try:
            if os.readlink("/proc/%d/ns/mnt" % p.pid) != mine:
                break
        except OSError:
            pass
        time.sleep(0.02)
    if p.poll() is not None:
        pytest.skip("unshare -m not permitted: %r" % p.stderr.read())
    yield ["nsenter", "-t", str(p.pid), "-m", "--"]
    p.kill()
    p.wait(5)


def test_output_on_read_only_mount(gt, run, gtorrent_path, tmp_path,
                                   mount_ns):
    t = small_torrent(gt, tmp_path)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    for args in (["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
                 ["-o", "remount,ro", mnt]):
        r = run(mount_ns + ["mount"] + args)
        if r.rc != 0:
            pytest.skip("cannot mount a tmpfs: %s" % r.err)
    lsock = listener()
    try:
        for out in (mnt, mnt / "sub"):
            r = run(mount_ns + [gtorrent_path, "download", "--no-dht",
                                "--no-tracker", "--peer", "127.0.0.1:%d" %
                                lsock.getsockname()[1], "-p", "0", "-o",
                                out, t], timeout=20)
            assert r.rc == 4, r
            lines = r.err_lines()
            assert len(lines) == 1 and "Read-only file system" in \
                lines[0], r
            assert not contacted(lsock), ("a peer was contacted", r)
    finally:
        lsock.close()


def test_output_on_full_disk(gt, run, gtorrent_path, tmp_path, mount_ns):
    t = small_torrent(gt, tmp_path)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = run(mount_ns + ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                        mnt])
    if r.rc != 0:
        pytest.skip("cannot mount a tmpfs: %s" % r.err)
    r = run(mount_ns + ["sh", "-c", "cat /dev/zero > %s/fill" % mnt])
    lsock = listener()
    try:
        r = run(mount_ns + [gtorrent_path, "download", "--no-dht",
                            "--no-tracker", "--peer", "127.0.0.1:%d" %
                            lsock.getsockname()[1], "-p", "0", "-o", mnt,
                            t], timeout=20)
        assert r.rc == 4, r
        lines = r.err_lines()
        assert len(lines) == 1 and "No space left on device" in lines[0], r
        assert not contacted(lsock), ("a peer was contacted", r)
    finally:
        lsock.close()


# --- --on-done ---------------------------------------------------------------

@pytest.fixture
def seeder(gt, gtorrent_path, tmp_path):
    """A `gtorrent seed` of a 100 KiB file on 127.0.0.1; -> (torrent,
    port, data file).  Killed by PID at the end."""
    import subprocess
    import peers
    f = payload(tmp_path)
    t = tmp_path / "t.torrent"
    r = gt("create", "-q", "-o", t, f)
    assert r.rc == 0, r
    port = peers.free_port()
    p = subprocess.Popen([gtorrent_path, "seed", "--no-dht", "--no-tracker",
                          "-q", "-p", str(port), "-o", f.parent, t],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        assert peers.wait_listening(port, 10, lambda: p.poll() is None)
        yield t, port, f
    finally:
        p.kill()
        p.wait(10)


def fetch(gt, tmp_path, seeder, *extra, **kw):
    t, port, _ = seeder
    out = tmp_path / "out"
    return gt("download", "--no-tracker", "-q", "--peer",
              "127.0.0.1:%d" % port, "-p", "0", "-o", out, *extra, t,
              timeout=60, **kw), out


def test_on_done_env_and_args(gt, tmp_path, seeder):
    env_file = tmp_path / "env.txt"
    cmd = ('{ env | grep ^GTORRENT_ | sort; echo "0=$0"; echo "1=$1"; '
           'echo "2=$2"; echo "3=$3"; } > %s' % env_file)
    r, out = fetch(gt, tmp_path, seeder, "--on-done", cmd,
                   env={"GTORRENT_STALE": "x"})
    assert r.rc == 0, r
    assert r.err == "", r
    # gtorrent waited for it (bounded): the file is there now
    got = dict(ln.split("=", 1) for ln in
               env_file.read_text().splitlines())
    t, _, f = seeder
    import hashlib
    import helpers
    ih = helpers.info_hash_hex(t.read_bytes())
    assert got == {
        "GTORRENT_NAME": "file.bin",
        "GTORRENT_PATH": "%s/file.bin" % out,
        "GTORRENT_INFO_HASH": ih,
        "GTORRENT_DIR": str(out),
        "0": "gtorrent", "1": "%s/file.bin" % out, "2": "file.bin",
        "3": ih,
    }, got
    assert (out / "file.bin").read_bytes() == f.read_bytes()
    del hashlib


def test_on_done_failure_is_one_warning(gt, tmp_path, seeder):
    r, out = fetch(gt, tmp_path, seeder, "--on-done", "exit 7")
    assert r.rc == 0, r
    lines = r.err_lines()
    assert lines == ["gtorrent: warning: file.bin: --on-done: the command "
                     "failed with exit status 7"], r


def test_on_done_not_for_data_already_complete(gt, tmp_path, seeder):
    r, out = fetch(gt, tmp_path, seeder)
    assert r.rc == 0, r
    mark = tmp_path / "ran"
    r, out = fetch(gt, tmp_path, seeder, "--on-done", "touch %s" % mark)
    assert r.rc == 0, r
    assert not mark.exists()


def test_on_done_does_not_block(gt, tmp_path, seeder):
    """A command that sleeps: the download still ends; gtorrent waits for
    it at most 10 s and then says so (one warning)."""
    import time
    t0 = time.monotonic()
    r, out = fetch(gt, tmp_path, seeder, "--on-done",
                   "exec sleep 30 >/dev/null 2>&1")
    took = time.monotonic() - t0
    assert r.rc == 0, r
    assert 9 < took < 25, took
    lines = r.err_lines()
    assert len(lines) == 1 and "still runs after 10 s" in lines[0], r
    import re
    pid = int(re.search(r"pid (\d+)", lines[0]).group(1))
    os.kill(pid, 9)


def test_on_done_refused_for_seed(gt, tmp_path, seeder):
    t, _, f = seeder
    r = gt("seed", "--no-tracker", "-o", f.parent, "--on-done", "true", t)
    assert r.rc == 2, r
    assert "--on-done" in one_error(r, "seed")


# --- the config file ------------------------------------------------------

def write_config(tmp_path, text):
    """$XDG_CONFIG_HOME/gtorrent/config (conftest points XDG_CONFIG_HOME
    at a folder of the test's own)."""
    d = os.path.join(os.environ["XDG_CONFIG_HOME"], "gtorrent")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "config")
    with open(p, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())
    return p


def test_config_applied_before_command_line(gt, tmp_path, seeder):
    out_cfg = tmp_path / "from-config"
    mark = tmp_path / "mark"
    cfg = write_config(tmp_path, (
        "# gtorrent settings\n"
        "\n"
        "   output = %s\n"
        "--no-pex\n"
        "max-upload-rate 1M\n"
        "--max-download-rate=0\n"
        "on-done = \"echo $GTORRENT_NAME > %s\"\n"
        "[seed]\n"
        "max-upload-rate = not-a-rate\n"
        "[download]\n"
        "upload-slots 3\n") % (out_cfg, mark))
    t, port, f = seeder
    r = gt("download", "--no-tracker", "-q", "--peer",
           "127.0.0.1:%d" % port, "-p", "0", t, timeout=60)
    assert r.rc == 0, r
    assert (out_cfg / "file.bin").read_bytes() == f.read_bytes()
    assert mark.read_text() == "file.bin\n"
    # the command line wins
    out_cl = tmp_path / "from-command-line"
    r = gt("download", "--no-tracker", "-q", "--peer",
           "127.0.0.1:%d" % port, "-p", "0", "-o", out_cl, t, timeout=60)
    assert r.rc == 0, r
    assert (out_cl / "file.bin").exists()
    # --no-config: none of it
    os.unlink(mark)
    out_none = tmp_path / "none"
    r = gt("download", "--no-config", "--no-tracker", "-q", "--peer",
           "127.0.0.1:%d" % port, "-p", "0", "-o", out_none, t, timeout=60)
    assert r.rc == 0, r
    assert not mark.exists()
    # seed reads its [seed] section: the bad value, named by file:line
    r = gt("seed", "--no-tracker", "-o", out_cfg, t)
    assert r.rc == 2, r
    line = one_error(r, "seed")
    assert "%s:9: " % cfg in line and "--max-upload-rate" in line, r
    del f


@pytest.mark.parametrize("text,line,words", [
    ("no-pex\n\nbogus-option = 1\n", 3, "unknown option 'bogus-option'"),
    ("max-peers\n", 1, "'max-peers' needs a value"),
    ("no-pex = yes\n", 1, "'no-pex' takes no value"),
    ("help\n", 1, "not for a config file"),
    ("config = /etc/passwd\n", 1, "not for a config file"),
    ("[torrents]\n", 1, "a section is [download] or [seed]"),
    ("-o /tmp\n", 1, "long name"),
    ("max-upload-rate: 1M\n", 1, "long name"),
    ("# ok\nmax-upload-rate = fast\n", 2, "--max-upload-rate"),
    ("no-pex\n" + "x" * 5000 + "\n", 2, "longer than 4096 bytes"),
    ("no-pex\nno-dht\0\n", 2, "a NUL byte"),
], ids=lambda v: str(v)[:20])
def test_config_errors_name_file_and_line(gt, tmp_path, text, line, words):
    cfg = write_config(tmp_path, text)
    for cmd in ("download", "seed"):
        r = gt(cmd, "-o", tmp_path, tmp_path / "x.torrent")
        assert r.rc == 2, r
        got = one_error(r, cmd)
        assert "%s:%d: " % (cfg, line) in got and words in got, r
    # --help whatever the file holds
    r = gt("download", "--help")
    assert r.rc == 0 and "--config" in r.out, r


def test_config_hostile_files(gt, tmp_path):
    import random
    rng = random.Random(13)
    cases = [bytes(rng.randrange(256) for _ in range(3000))
             for _ in range(20)]
    cases += [b"\n" * 70000, b"#" * 65537, b"[" * 100, b"=" * 100,
              b"--\n", b"--=\n", b"\xff\xfe\n", b"no-pex\r\n\r\n"]
    for text in cases:
        write_config(tmp_path, text)
        r = gt("download", "-o", tmp_path,
               tmp_path / "x.torrent")
        assert r.rc in (2, 3), r
        assert r.rc == 3 or len(r.err_lines()) == 1, r
        assert r.err.startswith("gtorrent: download: "), r


def test_config_not_a_file(gt, tmp_path):
    d = os.path.join(os.environ["XDG_CONFIG_HOME"], "gtorrent")
    os.makedirs(d)
    fifo = os.path.join(d, "config")
    os.mkfifo(fifo)
    r = gt("download", "-o", tmp_path,
           tmp_path / "x.torrent", timeout=10)
    assert r.rc == 2 and "not a regular file" in one_error(r, "download")
    os.unlink(fifo)
    os.mkdir(fifo)
    r = gt("download", "-o", tmp_path,
           tmp_path / "x.torrent", timeout=10)
    assert r.rc == 2, r
    one_error(r, "download")


def test_config_option_and_missing_file(gt, tmp_path):
    other = tmp_path / "other.conf"
    other.write_text("bogus\n")
    write_config(tmp_path, "no-pex\n")
    for args in (["--config", other], ["--config=%s" % other]):
        r = gt("download", *args, "-o", tmp_path,
               tmp_path / "x.torrent")
        assert r.rc == 2, r
        assert "%s:1: unknown option 'bogus'" % other in \
            one_error(r, "download")
    r = gt("download", "--config", tmp_path / "missing", "-o", tmp_path,
           tmp_path / "x.torrent")
    assert r.rc == 2, r
    assert "No such file" in one_error(r, "download")
    r = gt("download", "--config", other, "--no-config", "-o", tmp_path,
           tmp_path / "x.torrent")
    assert r.rc == 2, r
    # the default file missing: no config, no error
    os.unlink(os.path.join(os.environ["XDG_CONFIG_HOME"], "gtorrent",
                           "config"))
    r = gt("download", "-o", tmp_path,
           tmp_path / "x.torrent")
    assert r.rc == 3, r


def test_config_download_only_options_skip_seed(gt, tmp_path, seeder):
    t, port, f = seeder
    write_config(tmp_path, "sequential\npreallocate\nmetadata-only\n"
                 "seed-time = 0.02\n")
    r = gt("seed", "--no-tracker", "-q", "-p", "0", "-o", f.parent, t,
           timeout=30)
    assert r.rc == 0, r


# --- every error one line, one prefix --------------------------------------

BAD_INPUTS = [
    [], ["nonsense"], ["--nonsense"], ["-Z"],
    ["download"], ["download", "--nonsense"], ["download", "--max-peers"],
    ["download", "--max-peers", "0", "x.torrent"],
    ["download", "--no-tracker", "{t}"],
    ["download", "{missing}"], ["download", "-m", "magnet:?xt=nonsense"],
    ["download", "--peer", "nohost", "{t}"], ["{missing}"], ["{html}"],
    ["seed"], ["seed", "-m", "magnet:?xt=urn:btih:" + "a" * 40],
    ["seed", "--sequential", "{t}"], ["seed", "{html}"],
    ["create"], ["create", "--nonsense"], ["create", "{missing}"],
    ["create", "-l", "3", "{dir}"], ["create", "-a", "gopher://x", "{dir}"],
    ["create", "-o", "{t}", "{dir}"],
    ["info"], ["info", "{missing}"], ["info", "{html}"], ["info", "{dir}"],
    ["info", "a.torrent", "b.torrent"], ["info", "--nonsense"],
    ["magnet"], ["magnet", "{empty}"], ["magnet", "-x", "{t}"],
    ["verify"], ["verify", "{missing}"], ["verify", "{html}"],
    ["verify", "--nonsense"],
    ["scrape"], ["scrape", "{missing}"], ["scrape", "{html}"],
    ["scrape", "--nonsense"],
    ["dht"], ["dht", "nonsense"], ["dht", "get-peers"],
    ["dht", "get-peers", "nothex"], ["dht", "ping"],
    ["dht", "ping", "nohostport"],
]


@pytest.mark.parametrize("args", BAD_INPUTS,
                         ids=lambda a: " ".join(a) or "no-args")
def test_errors_are_one_line_with_one_prefix(gt, tmp_path, args):
    (tmp_path / "html.torrent").write_text("<html><body>x</body></html>")
    (tmp_path / "empty.torrent").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_bytes(b"x" * 1000)
    t = tmp_path / "t.torrent"
    t.write_bytes(b"d4:infod6:lengthi1e4:name1:x12:piece lengthi16384e"
                  b"6:pieces20:" + b"\0" * 20 + b"ee")
    subst = {"{t}": str(t), "{missing}": str(tmp_path / "no.torrent"),
             "{html}": str(tmp_path / "html.torrent"),
             "{empty}": str(tmp_path / "empty.torrent"),
             "{dir}": str(tmp_path / "dir")}
    argv = [subst.get(a, a) for a in args]
    r = gt(*argv, cwd=tmp_path, timeout=20)
    assert r.rc in (2, 3, 4), r
    lines = r.err_lines()
    errors = [ln for ln in lines if not ln.startswith("gtorrent: warning: ")]
    assert len(errors) == 1, r
    for ln in lines:
        assert ln.startswith("gtorrent: "), r
    cmd = args[0] if args and args[0] in (
        "download", "seed", "create", "info", "magnet", "verify", "scrape",
        "dht") else None
    if args and args[0].startswith("{"):
        cmd = "download"            # gtorrent FILE.torrent
    if cmd is not None:
        assert errors[0].startswith("gtorrent: %s" % cmd), r
