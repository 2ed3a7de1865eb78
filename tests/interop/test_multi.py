"""Several torrents in one gtorrent process (issue 12).

`gtorrent a.torrent b.torrent 'magnet:?...'`, `-m URI` repeated and
`-i FILE` (one source a line, as aria2c's --input-file) run every torrent
in one session: one summary line each, exit 0 only when all completed,
else the worst code (4 disk > 3 bad input > 130 interrupted > 1
incomplete); a bad source is one error line and the others still run; a
torrent given twice runs once (a warning); with --seed-ratio each torrent
stops at its own limit and the process ends when all have.

Everything runs on 127.0.0.1: opentracker, python-libtorrent sessions,
gtorrent processes and aria2c on free ports, small random payloads
compared byte for byte.  Each process is bounded in time and killed by
PID at teardown (peers.Net).
"""

import re

import pytest

import clients
import magnets
import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload
from test_download import lt_leech_from

GT_TIMEOUT = 60          # seconds for one multi-torrent download
SEEDING_DONE_RE = re.compile(r"^gtorrent: seeding done: (.*?): (.*)$", re.M)


class Payload:
    """A single-file payload src/NAME and its v1 torrent DIR/TAG.torrent
    (libtorrent-made; announce: the tracker, if any)."""

    def __init__(self, tmp_path, tag, name, size, rng, announce=None,
                 pl=32 * KIB):
        self.src = tmp_path / "src"
        self.src.mkdir(exist_ok=True)
        self.name = name
        self.files = make_payload(self.src, name, [(None, size)], rng)
        trackers = [[announce]] if announce else []
        self.torrent_bytes = lt_make(self.src, name, self.files, pl,
                                     trackers=trackers)
        self.torrent = tmp_path / (tag + ".torrent")
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash
        self.total = self.meta.total

    def magnet(self, *peer_ports):
        return magnets.magnet_uri(self.ih, dn=self.name,
                                  peer_addrs=peer_ports)

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)


def summaries(text):
    """Every summary line of stdout: [(state, name, dict)] in order."""
    out = []
    for ln in text.splitlines():
        m = peers.SUMMARY_RE.match(ln.rstrip("\r"))
        if m:
            out.append((m.group(1), m.group(2),
                        {"size": int(m.group(3)),
                         "downloaded": int(m.group(6)),
                         "uploaded": int(m.group(7)),
                         "peers": int(m.group(8))}))
    return out


def last_states(text):
    """{name: the state of its last summary line}."""
    return {name: state for state, name, _ in summaries(text)}


def gt_seeder(net, tmp_path, *payloads, extra=()):
    """`gtorrent seed` of every payload, in one process; its port."""
    port = peers.free_port()
    g = net.gt("seed", "--no-tracker", "-p", port, "-o",
               payloads[0].src, *extra, *[p.torrent for p in payloads],
               tag="gt-seeder")
    assert peers.wait_listening(port, 20, g.alive), why(g)
    return g, port


# --- three torrents, three kinds of seeder ----------------------------------

@pytest.mark.timeout(100)
def test_three_torrents_from_three_clients(net, opentracker, tmp_path, rng):
    """One gtorrent downloads three torrents at once through one tracker:
    one seeded by libtorrent, one by `gtorrent seed`, one by aria2c."""
    if clients.Aria2.missing():
        pytest.skip(clients.Aria2.missing())
    tr = net.tracker()
    a = Payload(tmp_path, "a", "from lt.bin", 2 * MIB + 111, rng,
                tr.announce)
    b = Payload(tmp_path, "b", "from gtorrent.bin", 1 * MIB + 5, rng,
                tr.announce)
    c = Payload(tmp_path, "c", "from aria2c.bin", 1 * MIB + 77777, rng,
                tr.announce)
    tr.start(a.ih, b.ih, c.ih)
    lt_seed = net.lt_peer(a.torrent_bytes, a.src)
    lt_seed.wait_seeding(20)
    gs = net.gt("seed", "-p", peers.free_port(), "-o", b.src, b.torrent,
                tag="gt-seeder")
    ar = net.add(clients.Aria2(tmp_path / "aria2c", c.torrent, c.meta),
                 lambda x: x.stop())
    ar.start_seeder(c.src)
    for p, who in ((a, lt_seed), (b, gs), (c, ar)):
        assert tr.wait_peers(p.ih, complete=1, timeout=20), why(
            "%s never announced" % p.name, who)
    out = tmp_path / "out"
    g = net.gt(a.torrent, b.torrent, c.torrent, "-o", out, "-p",
               peers.free_port(), "-v", tag="leecher")
    rc = g.wait(GT_TIMEOUT)
    assert rc == 0, why(g, ar)
    sums = summaries(g.out)
    assert sorted(n for _, n, _ in sums) == sorted(
        [a.name, b.name, c.name]), why("one summary line each", g)
    for state, name, d in sums:
        p = {a.name: a, b.name: b, c.name: c}[name]
        assert state == "done", why(g)
        assert d["size"] == p.total and d["downloaded"] >= p.total, why(g)
    for p in (a, b, c):
        p.check(out)
    assert gs.alive() and ar.alive(), why(gs, ar)


# --- the connection cap, shared ----------------------------------------------

@pytest.mark.timeout(60)
def test_connection_cap_shared_fairly(net, tmp_path, rng):
    """--max-peers 2 and two torrents, each with three slow seeders of its
    own: each torrent gets one connection while the other wants one (the
    first to ask does not take both), so the first to complete met one
    peer only."""
    a = Payload(tmp_path, "a", "fair a.bin", 384 * KIB, rng)
    b = Payload(tmp_path, "b", "fair b.bin", 384 * KIB, rng)
    ports = {a.name: [], b.name: []}
    for p in (a, b, a, b, a, b):
        _, port = gt_seeder(net, tmp_path, p,
                            extra=("--max-upload-rate", "64k"))
        ports[p.name].append(port)
    out = tmp_path / "out"
    # magnets naming each torrent's own seeders (--peer is for all)
    g = net.gt(a.magnet(*ports[a.name]), b.magnet(*ports[b.name]),
               "--max-peers", "2", "-p", peers.free_port(), "-o", out,
               tag="leecher")
    rc = g.wait(40)
    assert rc == 0, why(g)
    sums = summaries(g.out)
    assert len(sums) == 2, why(g)
    assert sums[0][2]["peers"] == 1, why(
        "the first torrent done had more than its share", g)
    a.check(out)
    b.check(out)


# --- bad sources among good ones; which exit code wins -----------------------

@pytest.mark.timeout(90)
def test_bad_sources_among_good_ones(net, tmp_path, rng):
    """A garbage .torrent, a missing one, a bad magnet and a torrent whose
    folder another one takes: one error line each, the good torrents
    still download, exit 3.  Run again with a torrent whose data path is
    a folder (a disk error when its first block comes): the good ones are
    done at once, and 4 wins over 3."""
    a = Payload(tmp_path, "a", "a.bin", 700 * KIB + 3, rng)
    b = Payload(tmp_path, "b", "b.bin", 900 * KIB + 9, rng)
    sg, sport = gt_seeder(net, tmp_path, a, b)
    # another torrent named a.bin (other data: another info-hash)
    other = tmp_path / "other"
    other.mkdir()
    same_name = lt_make(other, "a.bin", make_payload(
        other, "a.bin", [(None, 5000)], rng), 16 * KIB)
    clash = tmp_path / "clash.torrent"
    clash.write_bytes(same_name)
    bad = tmp_path / "bad.torrent"
    bad.write_bytes(b"this is not bencode")
    out = tmp_path / "out"
    peer = ["--no-tracker", "--peer", "127.0.0.1:%d" % sport]
    g = net.gt(a.torrent, bad, tmp_path / "missing.torrent",
               "magnet:?xt=urn:btih:zzzz", b.torrent, clash, "-o", out,
               "-p", peers.free_port(), *peer, tag="leecher")
    rc = g.wait(GT_TIMEOUT)
    assert rc == 3, why("a bad source: exit 3", g)
    assert last_states(g.out) == {a.name: "done", b.name: "done"}, why(g)
    a.check(out)
    b.check(out)
    errs = [ln for ln in g.err.splitlines() if ln.startswith("gtorrent: ")
            and "warning" not in ln]
    for needle in ("bad.torrent", "missing.torrent", "magnet:",
                   "clash.torrent"):
        assert len([ln for ln in errs if needle in ln]) == 1, why(
            "one error line for " + needle, g)

    # a disk error: e.bin's path is a folder
    e = Payload(tmp_path, "e", "e.bin", 40 * KIB, rng)
    (out / "e.bin").mkdir()
    _, eport = gt_seeder(net, tmp_path, e)
    g2 = net.gt(a.torrent, bad, e.torrent, b.torrent, "-o", out, "-p",
                peers.free_port(), *peer, "--peer", "127.0.0.1:%d" % eport,
                tag="again")
    rc = g2.wait(GT_TIMEOUT)
    assert rc == 4, why("a disk error wins over a bad .torrent", g2)
    assert last_states(g2.out) == {a.name: "done", b.name: "done",
                                   e.name: "stopped"}, why(g2)
    assert any("e.bin" in ln and "error" in ln
               for ln in g2.err.splitlines()), why(g2)
    assert sg.alive(), why(sg)


# --- -i FILE, stdin, duplicates ----------------------------------------------

@pytest.mark.timeout(90)
def test_input_file_and_duplicates(net, gt, tmp_path, rng):
    """-i FILE: comments, blank lines, surrounding blanks and CRLF; the
    same torrent as a path twice and as a magnet: one warning each, one
    torrent.  Then -i - (stdin) with -m and a path on the command line."""
    a = Payload(tmp_path, "a", "listed a.bin", 600 * KIB + 1, rng)
    b = Payload(tmp_path, "b", "listed b.bin", 300 * KIB + 7, rng)
    sg, sport = gt_seeder(net, tmp_path, a, b)
    lst = tmp_path / "list.txt"
    lst.write_bytes(("# torrents for gtorrent\n"
                     "\n"
                     "   %s  \r\n"
                     "\t%s\n"
                     "    # an indented comment\n"
                     "%s\n"
                     "%s\n" % (a.torrent, a.magnet(sport), b.torrent,
                               b.torrent)).encode())
    out = tmp_path / "out"
    peer = ["--no-tracker", "--peer", "127.0.0.1:%d" % sport]
    r = gt("-i", lst, "-o", out, "-p", peers.free_port(), *peer,
           timeout=GT_TIMEOUT)
    assert r.rc == 0, r
    sums = summaries(r.out)
    assert sorted(n for _, n, _ in sums) == sorted([a.name, b.name]), r
    assert all(s == "done" for s, _, _ in sums), r
    warns = [ln for ln in r.err.splitlines() if "the same torrent" in ln]
    assert len(warns) == 2, r
    a.check(out)
    b.check(out)

    out2 = tmp_path / "out2"
    stdin = ("%s\n# b below\n%s\n" % (a.torrent, b.torrent)).encode()
    r = gt("-i", "-", "-m", b.magnet(sport), "-o", out2, "-p",
           peers.free_port(), *peer, input=stdin, timeout=GT_TIMEOUT)
    assert r.rc == 0, r
    assert last_states(r.out) == {a.name: "done", b.name: "done"}, r
    assert len([ln for ln in r.err.splitlines()
                if "the same torrent" in ln]) == 1, r
    a.check(out2)
    b.check(out2)
    assert sg.alive(), why(sg)


# --- seeding limits: each torrent ends alone ---------------------------------

@pytest.mark.timeout(120)
def test_seed_ratio_each_torrent_alone(net, tmp_path, rng):
    """`gtorrent A B --seed-ratio 1`: both download, the seeder goes; a
    libtorrent leecher takes A from gtorrent: A stops seeding ("seeding
    done: NAME: ...") while B seeds on; a second leecher takes B, and
    the process exits 0."""
    a = Payload(tmp_path, "a", "ratio a.bin", 512 * KIB + 5, rng)
    b = Payload(tmp_path, "b", "ratio b.bin", 768 * KIB + 9, rng)
    sg, sport = gt_seeder(net, tmp_path, a, b)
    out = tmp_path / "out"
    port = peers.free_port()
    g = net.gt(a.torrent, b.torrent, "--no-tracker", "--peer",
               "127.0.0.1:%d" % sport, "-p", port, "-o", out,
               "--seed-ratio", "1", tag="gt")
    assert peers.wait_until(lambda: len(peers.COMPLETE_RE.findall(g.err))
                            >= 2 or not g.alive(), 30, 0.1), why(
        "downloads did not finish", g)
    assert g.alive(), why("exited at completion despite --seed-ratio", g)
    a.check(out)
    b.check(out)
    sg.interrupt()                     # only gtorrent has the data now

    lt_leech_from(net, a, tmp_path, port, tag="lt-a")
    assert peers.wait_until(lambda: SEEDING_DONE_RE.search(g.out) or
                            not g.alive(), 15, 0.1), why(g)
    m = SEEDING_DONE_RE.search(g.out)
    assert m and m.group(1) == a.name, why(g)
    assert m.group(2).startswith("ratio "), why(g)
    assert g.alive(), why("B still seeds: the process goes on", g)
    assert last_states(g.out)[a.name] == "done", why(g)

    lt_leech_from(net, b, tmp_path, port, tag="lt-b")
    rc = g.wait(20)
    assert rc == 0, why(g)
    done = SEEDING_DONE_RE.findall(g.out)
    assert [n for n, _ in done] == [a.name, b.name], why(g)
    sums = summaries(g.out)
    assert len(sums) == 2, why("one summary each, at the end", g)
    ends = {n: d for s, n, d in sums}
    assert ends[a.name]["uploaded"] >= a.total, why(g)
    assert ends[b.name]["uploaded"] >= b.total, why(g)


@pytest.mark.timeout(60)
def test_seed_several_one_without_data(net, tmp_path, rng):
    """`gtorrent seed A X --seed-time 0.05 -o DIR` where X has no data
    there: X's error line, A seeds 3 s and ends; the exit code is X's 1."""
    a = Payload(tmp_path, "a", "seeded.bin", 100 * KIB, rng)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    x = lt_make(elsewhere, "x.bin", make_payload(
        elsewhere, "x.bin", [(None, 9000)], rng), 16 * KIB)
    xt = tmp_path / "x.torrent"
    xt.write_bytes(x)
    g = net.gt("seed", "--no-tracker", "-p", peers.free_port(), "-o",
               a.src, "--seed-time", "0.05", a.torrent, xt, tag="seeder")
    rc = g.wait(20)
    assert rc == 1, why("X could not seed: exit 1", g)
    assert "data to seed" in g.err and "x.bin" in g.err, why(g)
    assert last_states(g.out) == {a.name: "done"}, why(g)
    # one torrent ran: the one-torrent line
    assert "gtorrent: seeding done: seed time" in g.out, why(g)


# --- magnets: --metadata-only, and Ctrl-C -----------------------------------

@pytest.mark.timeout(60)
def test_metadata_only_several_magnets(net, gt, tmp_path, rng):
    """--metadata-only with two magnets writes both .torrent files."""
    a = Payload(tmp_path, "a", "meta a.bin", 200 * KIB, rng)
    b = Payload(tmp_path, "b", "meta b.bin", 300 * KIB, rng)
    sg, sport = gt_seeder(net, tmp_path, a, b)
    out = tmp_path / "out"
    r = gt("--metadata-only", "-o", out, "-p", peers.free_port(),
           "-m", a.magnet(sport), b.magnet(sport), timeout=GT_TIMEOUT)
    assert r.rc == 0, r
    paths = sorted(r.out.splitlines())
    assert paths == sorted([str(out / (a.name + ".torrent")),
                            str(out / (b.name + ".torrent"))]), r
    for p in (a, b):
        got = peers.Meta((out / (p.name + ".torrent")).read_bytes())
        assert got.info_hash == p.ih, r
    assert not (out / a.name).exists(), r
    assert sg.alive(), why(sg)


@pytest.mark.timeout(60)
def test_interrupt_several(net, tmp_path, rng):
    """SIGINT while two torrents download slowly: one "stopped" line
    each, exit 130."""
    a = Payload(tmp_path, "a", "slow a.bin", 1 * MIB, rng)
    b = Payload(tmp_path, "b", "slow b.bin", 1 * MIB, rng)
    sg, sport = gt_seeder(net, tmp_path, a, b,
                          extra=("--max-upload-rate", "64k"))
    out = tmp_path / "out"
    g = net.gt(a.torrent, "-m", b.magnet(sport), "--no-tracker", "--peer",
               "127.0.0.1:%d" % sport, "-p", peers.free_port(), "-o", out,
               tag="leecher")
    assert peers.wait_until(lambda: (out / a.name).exists() and
                            (out / b.name).exists(), 20, 0.1), why(g)
    rc = g.interrupt()
    assert rc == 130, why(g)
    assert last_states(g.out) == {a.name: "stopped",
                                  b.name: "stopped"}, why(g)


# --- the command line --------------------------------------------------------

@pytest.mark.parametrize("args,code", [
    (["--metadata-only", "x.torrent"], 2),
    (["--metadata-only", "-m", "magnet:?xt=urn:btih:" + "ab" * 20,
      "x.torrent"], 2),
    (["seed", "-o", ".", "magnet:?xt=urn:btih:" + "ab" * 20], 2),
    (["-i", "-", "-"], 2),
    (["-i", "no such list.txt"], 3),
    (["-i", "empty.txt"], 2),
], ids=["metadata-only-torrent", "metadata-only-mixed", "seed-magnet",
        "stdin-twice", "missing-list", "empty-list"])
def test_usage(gt, tmp_path, args, code):
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    r = gt(*args, cwd=tmp_path, input=b"", timeout=20)
    assert r.rc == code, r
    assert len(r.err_lines()) == 1, r


def test_help_names_the_options(gt):
    r = gt("download", "--help", timeout=20)
    assert r.rc == 0, r
    for opt in ("--input-file", "--recheck", "-m, --magnet", "worst"):
        assert opt in r.out, (opt, r)
