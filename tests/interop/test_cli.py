"""The command line itself: help, version, usage errors (exit 2)."""

import pytest


@pytest.mark.parametrize("args", [["--help"], ["--version"],
                                  ["create", "--help"], ["info", "--help"],
                                  ["verify", "--help"]],
                         ids=lambda a: " ".join(a))
def test_help_and_version(gt, args):
    r = gt(*args, timeout=20)
    assert r.rc == 0, r
    assert r.out.strip() != "", r


def test_version_is_one_line(gt):
    r = gt("--version", timeout=20)
    assert r.rc == 0, r
    assert len(r.out.strip().splitlines()) == 1, r
    assert "gtorrent" in r.out, r


def test_create_help_lists_options(gt):
    r = gt("create", "--help", timeout=20)
    assert r.rc == 0, r
    for opt in ("-a", "-c", "-l", "-n", "-o", "-p", "-s", "-w", "-f"):
        assert opt in r.out, (opt, r)


@pytest.mark.parametrize("args", [[], ["no-such-command"], ["--no-such"],
                                  ["info"], ["verify"],
                                  ["info", "--no-such", "x.torrent"]],
                         ids=lambda a: " ".join(a) or "no-args")
def test_usage_errors(gt, tmp_path, args):
    r = gt(*args, cwd=tmp_path, timeout=20)
    assert r.rc == 2, r
    assert r.err.strip() != "", r
    assert list(tmp_path.iterdir()) == []


# --- remote strings on the terminal (bidi and invisible characters) --------

EVIL = ("\u202e\u2066\u2069\u200b\u200f\u061c\u2028\ufeff\u00ad\u0085"
        "\U000e0001")


def _assert_shown_safely(text):
    for ch in EVIL:
        assert ch not in text, (hex(ord(ch)), text)


def _evil_torrent(tmp_path, announce):
    import hashlib
    from helpers import bencode
    data = bytes(1000)
    t = {b"announce": announce.encode(),
         b"info": {b"name": ("evil" + EVIL + "gpj.exe").encode(),
                   b"length": len(data), b"piece length": 16384,
                   b"pieces": hashlib.sha1(data).digest()}}
    p = tmp_path / "evil.torrent"
    p.write_bytes(bencode(t))
    return p


def test_errors_escape_remote_names(gt, tmp_path):
    """An error line naming the torrent shows no hidden character."""
    tp = _evil_torrent(tmp_path, "http://127.0.0.1:1/announce")
    empty = tmp_path / "empty"
    empty.mkdir()
    r = gt("seed", "--no-tracker", "-p", "0", "-o", empty, tp, timeout=30)
    assert r.rc == 1, r
    assert "evil?" in r.err, r
    _assert_shown_safely(r.errb.decode("utf-8"))


def _evil_failure(tracker, h, req):
    from helpers import bencode
    h.send_body(bencode({"failure reason": "no" + EVIL + "txt.exe"}))


def test_tracker_messages_escaped(gt, gtorrent_path, tmp_path):
    """A tracker's failure reason: escaped in scrape's text and JSON, in
    download's log lines; the download's summary escapes the name."""
    import json
    import time
    import peers
    from trackers import HttpTracker
    with HttpTracker(behaviour=_evil_failure,
                     scrape_behaviour=_evil_failure) as tr:
        tp = _evil_torrent(tmp_path, tr.announce)
        r = gt("scrape", "--timeout", "10", tp, timeout=30)
        assert "error: failure reason: no?" in r.out, r
        _assert_shown_safely(r.outb.decode("utf-8"))
        r = gt("scrape", "--json", "--timeout", "10", tp, timeout=30)
        raw = r.outb.decode("utf-8")
        _assert_shown_safely(raw)
        err = json.loads(raw)["torrents"][0]["trackers"][0]["error"]
        assert ("no" + EVIL + "txt.exe") in err, raw

        g = peers.GtProc(gtorrent_path, ["download", "-v", "-p", "0", "-o",
                                         tmp_path / "dl", tp], tmp_path,
                         "dl")
        try:
            deadline = time.monotonic() + 20
            while (time.monotonic() < deadline and g.alive() and
                   "failure reason" not in g.err):
                time.sleep(0.1)
            assert "failure reason: no?" in g.err, g
            g.interrupt()
            _assert_shown_safely(g.err)
            _assert_shown_safely(g.out)
            assert "stopped: evil?" in g.out, g
        finally:
            g.close()
