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
