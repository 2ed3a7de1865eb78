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
