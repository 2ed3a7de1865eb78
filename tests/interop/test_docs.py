"""README.md, --help and the man page say the same thing: every long option
a subcommand's --help lists is in README and in the man page (as an .Fl
item), and every option the man page lists is in some --help."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMMANDS = ["download", "seed", "create", "info", "magnet", "verify",
            "scrape", "dht"]
LONG_OPT = re.compile(r"(?<![\w\\-])--([a-z0-9][a-z0-9-]+)")
MAN_OPT = re.compile(r"(?<![\w\\-])-([a-z][a-z0-9-]+)")


def help_options(gt, *args):
    r = gt(*args, "--help", timeout=20)
    assert r.rc == 0, r
    return set(LONG_OPT.findall(r.out))


def man_options():
    man = (ROOT / "src" / "gtorrent.1").read_text()
    return {o for ln in man.splitlines() if "Fl " in ln
            for o in MAN_OPT.findall(ln)}


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_options_are_documented(gt, cmd):
    readme = (ROOT / "README.md").read_text()
    opts = help_options(gt, cmd)
    assert opts, cmd
    man = man_options()
    assert [o for o in sorted(opts) if "--" + o not in readme] == [], cmd
    assert [o for o in sorted(opts) if o not in man] == [], cmd


def test_man_options_exist(gt):
    known = help_options(gt)
    for cmd in COMMANDS:
        known |= help_options(gt, cmd)
    # "-no-" alone: the man page's "--no-X turns X off" shorthand
    extra = sorted(o for o in man_options() - known if o != "no-")
    assert extra == [], "in the man page, in no --help: %s" % extra
