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
