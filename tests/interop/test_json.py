"""--json: gtorrent's NDJSON stream, every line checked against the schema.

The schema is the ```ndjson-schema block of README.md (event, field, type,
meaning, one a line), read here, so that the documentation and the stream
cannot drift apart; the man page's JSON EVENTS section must list the same
events and fields in the same order.  Each line of stdout must be one JSON
object, printable (no control or bidi character raw), with exactly the
fields of its event in the documented order and of the documented types,
"v" 1, "t" non-decreasing with 3 decimals; per torrent "added" comes first
and "done"/"stopped" last, and every "peer_down" follows a "peer_up" of
the same address.

The runs: a download from a libtorrent seeder, a `gtorrent seed --json`
and a scripted peer serving corrupt blocks, found through a local HTTP
tracker whose first tier answers with a failure reason (so both kinds of
"tracker" event show); the seed itself, stopped by SIGINT; an interrupted
download ("stopped", exit 130); a magnet ("metadata"); a source that
cannot be loaded ("error"); and a torrent whose name carries bidi
overrides and control characters.  Everything on 127.0.0.1, every
process killed by PID at teardown.
"""

import json
import os
import random
import re
import time

import pytest

import helpers
import peers
from peers import why
from helpers import KIB, MIB, lt_make, make_payload
from trackers import HttpTracker

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
MANPAGE = os.path.join(HERE, "..", "..", "src", "gtorrent.1")

# What a terminal would act on or hide: C0, DEL, C1, and the format
# characters gtorrent escapes (bidi embeddings, overrides, isolates, marks,
# zero-width ones, line/paragraph separators, BOM).
HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e"
                    "\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


# --- the schema, from README.md ---------------------------------------------

def load_schema():
    """(common [(field, type)], {event: [(field, type)]}) from README."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"```ndjson-schema\n(.*?)```", text, re.S)
    assert m, "README.md has no ```ndjson-schema block"
    common, events = [], {}
    for ln in m.group(1).splitlines():
        if not ln.strip():
            continue
        parts = ln.split(None, 3)
        assert len(parts) == 4, "schema line %r: event field type meaning" % ln
        ev, field, typ, _ = parts
        for alt in typ.split("|"):
            assert alt in TYPES, "schema line %r: unknown type %s" % (ln, alt)
        if ev == "*":
            common.append((field, typ))
        else:
            events.setdefault(ev, []).append((field, typ))
    return common, events


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


TYPES = {
    "null": lambda v: v is None,
    "int": _is_int,
    "number": lambda v: _is_int(v) or isinstance(v, float),
    "string": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "hex": lambda v: isinstance(v, str) and len(v) % 2 == 0 and
    re.fullmatch(r"[0-9a-f]+", v) is not None,
    "[string]": lambda v: isinstance(v, list) and
    all(isinstance(x, str) for x in v),
}


def type_ok(v, typ):
    return any(TYPES[alt](v) for alt in typ.split("|"))


SCHEMA = load_schema()


def _pairs(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "a key twice: %r" % keys
    return pairs


def parse_stream(raw):
    """Every line of raw (bytes) checked; the objects as dicts, in order,
    each with its raw line under "_raw"."""
    common, events = SCHEMA
    text = raw.decode("utf-8")          # strict: valid UTF-8 throughout
    assert text == "" or text.endswith("\n"), "a cut last line: %r" % (
        text[-200:],)
    objs = []
    last_t = 0.0
    for n, line in enumerate(text.splitlines(), 1):
        where = "line %d: %s" % (n, line[:300])
        assert not HIDDEN.search(line), "raw hidden character, " + where
        pairs = json.loads(line, object_pairs_hook=_pairs)
        assert isinstance(pairs, list), "not an object, " + where
        keys = [k for k, _ in pairs]
        obj = dict(pairs)
        ev = obj.get("event")
        assert ev in events, "unknown event %r, %s" % (ev, where)
        want = common + events[ev]
        assert keys == [f for f, _ in want], (
            "fields %r, documented %r, %s" % (keys, [f for f, _ in want],
                                              where))
        for f, typ in want:
            assert type_ok(obj[f], typ), "%s: %r is not %s, %s" % (
                f, obj[f], typ, where)
        assert obj["v"] == 1, where
        assert re.search(r'"t":\d+\.\d{3}[,}]', line), "t format, " + where
        assert obj["t"] >= last_t, "t went back, " + where
        last_t = obj["t"]
        obj["_raw"] = line
        objs.append(obj)
    return objs


def check_order(objs):
    """start first; per torrent added first, done/stopped last, once;
    peer_down after a peer_up of the same address."""
    assert objs and objs[0]["event"] == "start", objs[:1]
    assert all(o["event"] != "start" for o in objs[1:])
    per = {}
    for o in objs:
        ih = o.get("torrent")
        if ih is None or o["event"] == "error" and ih not in per:
            continue
        per.setdefault(ih, []).append(o)
    for ih, seq in per.items():
        evs = [o["event"] for o in seq]
        assert evs[0] == "added", (ih, evs[:5])
        assert evs.count("added") == 1, (ih, evs)
        assert evs[-1] in ("done", "stopped"), (ih, evs[-5:])
        assert evs.count("done") + evs.count("stopped") == 1, (ih, evs)
        assert evs.count("complete") <= 1, (ih, evs)
        up = {}
        for o in seq:
            if o["event"] == "peer_up":
                up[o["addr"]] = up.get(o["addr"], 0) + 1
            elif o["event"] == "peer_down":
                assert up.get(o["addr"], 0) > 0, (
                    "peer_down without peer_up", o["_raw"])
                up[o["addr"]] -= 1
    return per


def events_of(objs, name):
    return [o for o in objs if o["event"] == name]


# --- the documentation ------------------------------------------------------

def test_man_page_lists_the_schema():
    """The man page's JSON EVENTS section: the same events and fields, in
    the same order, with the same types, as README's block."""
    common, events = SCHEMA
    with open(MANPAGE, encoding="utf-8") as f:
        man = f.read()
    m = re.search(r"^\.Sh JSON EVENTS\n(.*?)^\.Sh ", man, re.S | re.M)
    assert m, "no JSON EVENTS section in gtorrent.1"
    got, cur = {}, None
    lines = m.group(1).splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith(".Ss "):
            title = ln[4:].strip()
            cur = "*" if title == "Every event" else title.split()[-1]
            got[cur] = []
        elif ln.startswith(".It Li ") and cur is not None:
            typ = lines[i + 1]
            assert typ.startswith(".Pq "), (ln, typ)
            got[cur].append((ln[7:].strip(),
                             typ[4:].strip().replace("\\(ba", "|")))
    want = {"*": common}
    want.update(events)
    assert list(got) == list(want), (list(got), list(want))
    for ev in want:
        assert got[ev] == want[ev], (ev, got[ev], want[ev])


# --- runs -------------------------------------------------------------------

class Case:
    """A single-file random payload under tmp/src and its v1 torrent."""

    def __init__(self, tmp_path, seed, size, pl, tiers=(), name="payload.bin"):
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.name = name
        self.files = make_payload(self.src, name, [(None, size)],
                                  random.Random(seed))
        self.torrent_bytes = lt_make(self.src, name, self.files, pl,
                                     trackers=[list(t) for t in tiers])
        self.torrent = tmp_path / "t.torrent"
        self.torrent.write_bytes(self.torrent_bytes)
        self.meta = peers.Meta(self.torrent_bytes).load(self.src)
        self.ih = self.meta.info_hash.hex()
        self.total = size

    def check(self, out):
        peers.compare_download(self.src, out, self.name, self.files)


def stream(g):
    with open(g.out_path, "rb") as f:
        return f.read()


def wait_for_event(g, name, timeout):
    """Polls g's stdout until a line of that event shows (True)."""
    needle = ('"event":"%s"' % name).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in stream(g):
            return True
        if not g.alive():
            return needle in stream(g)
        time.sleep(0.05)
    return False


@pytest.fixture
def http_tracker():
    ts = []

    def make(**kw):
        t = HttpTracker(**kw).start()
        ts.append(t)
        return t
    yield make
    for t in ts:
        t.stop()


@pytest.mark.timeout(120)
def test_json_full_run(net, tmp_path, seed, http_tracker):
    """A download from a libtorrent seeder, a gtorrent seed and a corrupt
    peer through a tracker (its first tier failing): every line valid, all
    the events a download has, the data right; then the seed's own stream
    after SIGINT."""
    bad_tier = http_tracker(behaviour="failure")
    good = http_tracker()
    case = Case(tmp_path, seed, 4 * MIB + 4321, 64 * KIB,
                tiers=[[bad_tier.announce], [good.announce]])
    npieces = case.meta.npieces
    bad = net.scripted(case.meta, peers.seeder_script(corrupt=True),
                       "corrupt")
    lt_seed = net.lt_peer(case.torrent_bytes, case.src,
                          upload_limit=384 * KIB)
    lt_seed.wait_seeding(20)
    seed_port = peers.free_port()
    gseed = net.gt("seed", "--json", "--no-tracker", "-p", seed_port,
                   "--max-upload-rate", "384k", "-o", case.src, case.torrent,
                   tag="seed")
    assert peers.wait_listening(seed_port, 15, alive=gseed.alive), why(gseed)
    good.peers = [("127.0.0.1", lt_seed.port), ("127.0.0.1", seed_port),
                  ("127.0.0.1", bad.port)]
    port = peers.free_port()
    out = tmp_path / "out"
    g = net.gt("--json", "-v", "-p", port, "-o", out, case.torrent,
               tag="leecher")
    bad.alive = g.alive
    rc = g.wait(90)
    assert rc == 0, why(g, good, bad)
    case.check(out)
    objs = parse_stream(stream(g))
    per = check_order(objs)
    assert list(per) == [case.ih], why(per.keys(), g)
    start = objs[0]
    assert start["command"] == "download" and start["port"] == port, start
    assert start["sources"] == [str(case.torrent)], start
    added = events_of(objs, "added")[0]
    assert added["name"] == case.name and added["size"] == case.total
    assert added["pieces"] == npieces and added["metadata"] is True
    # the trackers: tier 0's failure reason, then tier 1's peers
    tr = events_of(objs, "tracker")
    failed = [o for o in tr if not o["ok"]]
    okd = [o for o in tr if o["ok"]]
    assert failed and "scripted failure" in failed[0]["error"], why(tr, g)
    assert failed[0]["url"] == bad_tier.announce and \
        failed[0]["peers"] is None, failed[0]
    assert okd and okd[0]["url"] == good.announce, why(tr)
    assert okd[0]["announce"] == "started" and okd[0]["peers"] == 3, okd[0]
    assert okd[0]["error"] is None and okd[0]["interval"] == good.interval
    assert objs.index(failed[0]) < objs.index(okd[0])
    # the peers: both seeders met
    ups = {o["addr"]: o for o in events_of(objs, "peer_up")}
    assert "127.0.0.1:%d" % lt_seed.port in ups, why(ups.keys(), g)
    assert "127.0.0.1:%d" % seed_port in ups, why(ups.keys(), g)
    gs = ups["127.0.0.1:%d" % seed_port]
    assert gs["incoming"] is False and gs["client"].startswith("gtorrent "), gs
    lts = ups["127.0.0.1:%d" % lt_seed.port]
    assert lts["client"].startswith("libtorrent "), lts
    assert len(gs["peer_id"]) == 40
    # the pieces: each verified once, the corrupt peer named in a failure
    ok = [o["piece"] for o in events_of(objs, "piece_ok")]
    assert sorted(ok) == list(range(npieces)), why(len(ok), npieces)
    badp = events_of(objs, "piece_bad")
    assert bad.stats["blocks"] > 0 and badp, why(
        "no corrupt piece: the test proves nothing", bad, g)
    assert any(bad.addr in o["peers"] for o in badp), why(badp)
    assert all(0 <= o["piece"] < npieces for o in badp)
    downs = [o for o in events_of(objs, "peer_down")
             if o["addr"] == bad.addr]
    assert any(o["reason"] == "banned: corrupt data" for o in downs), why(
        "no peer_down naming the ban", downs, g)
    assert all(o["reason"] for o in events_of(objs, "peer_down"))
    # the figures
    stats = events_of(objs, "stats")
    assert stats, why("no stats line in a run of %.1f s" % g.elapsed, g)
    for o in stats:
        assert o["total"] == case.total and 0 <= o["have"] <= o["total"]
        assert o["pieces"] == npieces and o["state"] in (
            "downloading", "seeding", "stopping")
        assert 0.0 <= o["progress"] <= 1.0
    assert any(o["down_rate"] > 0 for o in stats), why(stats)
    assert all(o["seeds"] <= o["peers"] <= o["conns"] for o in stats)
    assert any(o["seeds"] >= 2 for o in stats), why(stats)
    assert [o["have"] for o in stats] == sorted(o["have"] for o in stats)
    assert events_of(objs, "complete"), why(g)
    done = objs[-1]
    assert done["event"] == "done" and done["exit"] == 0, done
    assert done["reason"] == "complete" and done["name"] == case.name
    assert done["have"] == done["total"] == case.total, done
    assert done["downloaded"] >= case.total and done["file"] is None
    assert done["peers_ever"] >= 2, done
    # no summary line, no status line: stdout is the stream only
    assert g.summary() is None
    assert "gtorrent: done:" not in g.out
    # the seed's stream, after Ctrl-C
    rc = gseed.interrupt(20)
    assert rc == 130, why(gseed)
    sobjs = parse_stream(stream(gseed))
    check_order(sobjs)
    assert sobjs[0]["command"] == "seed" and sobjs[0]["port"] == seed_port
    sa = events_of(sobjs, "added")[0]
    assert sa["have_pieces"] == npieces, sa
    assert events_of(sobjs, "complete"), why(gseed)
    assert any(o["incoming"] for o in events_of(sobjs, "peer_up"))
    assert any(o["state"] == "seeding" and o["uploaded"] > 0
               for o in events_of(sobjs, "stats")), why(gseed)
    last = sobjs[-1]
    assert last["event"] == "stopped" and last["reason"] == "interrupted"
    assert last["exit"] == 130 and last["uploaded"] > 0, last


@pytest.mark.timeout(60)
def test_json_interrupted(net, tmp_path, seed):
    """A download from a peer that never answers, stopped by SIGINT once
    a stats line is out: "stopped", interrupted, exit 130, last."""
    case = Case(tmp_path, seed, 1 * MIB + 17, 32 * KIB)
    stall = net.scripted(case.meta, peers.seeder_script(stall=True),
                         "stall")
    g = net.gt("--json", "--no-tracker", "-p", peers.free_port(),
               "--peer", stall.addr, "-o", tmp_path / "out", case.torrent,
               tag="leecher")
    assert wait_for_event(g, "stats", 15), why(g, stall)
    rc = g.interrupt(20)
    assert rc == 130, why(g)
    objs = parse_stream(stream(g))
    check_order(objs)
    assert any(o["addr"] == stall.addr for o in events_of(objs, "peer_up"))
    assert not events_of(objs, "piece_ok")
    st = events_of(objs, "stats")[-1]
    assert st["state"] == "downloading" and st["have"] == 0, st
    last = objs[-1]
    assert last["event"] == "stopped", last
    assert last["reason"] == "interrupted" and last["exit"] == 130, last
    assert last["have"] == 0 and last["total"] == case.total, last
    assert not events_of(objs, "done") and not events_of(objs, "complete")


@pytest.mark.timeout(60)
def test_json_magnet_metadata(net, tmp_path, seed):
    """A magnet fetched from a gtorrent seed: "added" without metadata,
    then "metadata" with the real name and size, then the data, "done"."""
    case = Case(tmp_path, seed, 700 * KIB + 3, 32 * KIB)
    seed_port = peers.free_port()
    gseed = net.gt("seed", "--no-tracker", "-p", seed_port, "-o", case.src,
                   case.torrent, tag="seed")
    assert peers.wait_listening(seed_port, 15, alive=gseed.alive), why(gseed)
    uri = "magnet:?xt=urn:btih:%s&dn=shown" % case.ih
    g = net.gt("--json", "--no-tracker", "-p", peers.free_port(),
               "--peer", "127.0.0.1:%d" % seed_port, "-o", tmp_path / "out",
               "-m", uri, tag="leecher")
    rc = g.wait(45)
    assert rc == 0, why(g, gseed)
    case.check(tmp_path / "out")
    objs = parse_stream(stream(g))
    check_order(objs)
    assert objs[0]["sources"] == [uri]
    added = events_of(objs, "added")[0]
    assert added["metadata"] is False and added["size"] is None, added
    assert added["name"] == "shown" and added["torrent"] == case.ih, added
    md = events_of(objs, "metadata")
    assert len(md) == 1, why(md, g)
    assert md[0]["name"] == case.name and md[0]["size"] == case.total
    assert md[0]["pieces"] == case.meta.npieces and md[0]["files"] == 1
    assert md[0]["piece_length"] == 32 * KIB and md[0]["private"] is False
    assert objs.index(md[0]) < objs.index(events_of(objs, "piece_ok")[0])
    assert objs[-1]["event"] == "done" and objs[-1]["name"] == case.name
    # --metadata-only: the .torrent's path is in "done", not a plain line
    g = net.gt("--json", "--no-tracker", "-p", peers.free_port(),
               "--peer", "127.0.0.1:%d" % seed_port, "-o", tmp_path / "md",
               "--metadata-only", "-m", uri, tag="metadata-only")
    rc = g.wait(45)
    assert rc == 0, why(g, gseed)
    objs = parse_stream(stream(g))
    check_order(objs)
    assert len(events_of(objs, "metadata")) == 1, why(g)
    done = objs[-1]
    assert done["event"] == "done" and done["reason"] == "metadata written"
    assert done["file"] == str(tmp_path / "md" / (case.name + ".torrent"))
    with open(done["file"], "rb") as f:
        assert peers.Meta(f.read()).info_hash.hex() == case.ih


def test_json_source_not_loaded(gt, tmp_path):
    """A .torrent that is not there: "start", then an "error" naming the
    source with the exit code; the exit status as without --json."""
    missing = tmp_path / "missing.torrent"
    plain = gt("-o", tmp_path / "o1", "--no-tracker", "--peer",
               "127.0.0.1:1", missing)
    r = gt("--json", "-o", tmp_path / "o2", "--no-tracker", "--peer",
           "127.0.0.1:1", missing)
    assert r.rc == plain.rc != 0, (r, plain)
    objs = parse_stream(r.outb)
    assert [o["event"] for o in objs] == ["start", "error"], r
    assert objs[0]["port"] is None, objs[0]
    e = objs[1]
    assert e["torrent"] is None and e["source"] == str(missing), e
    assert e["exit"] == r.rc and e["message"], e
    assert r.err == plain.err, "stderr as without --json"


@pytest.mark.timeout(60)
def test_json_hostile_name(gt, net, tmp_path):
    """A torrent named with a right-to-left override, isolates, marks, an
    escape sequence and a quote: the stream holds none of them raw, and
    the name decodes back to the name gtorrent uses."""
    name = 'evil\u202egpj.exe \u2066x\u2069\u200e"q\\ \x1b[31mred'
    data = b"hostile name" * 100
    info = {"name": name.encode("utf-8"), "length": len(data),
            "piece length": 16384,
            "pieces": __import__("hashlib").sha1(data).digest()}
    t = tmp_path / "h.torrent"
    t.write_bytes(helpers.bencode({"info": info}))
    g = net.gt("--json", "--no-tracker", "-p", peers.free_port(),
               "--peer", "127.0.0.1:1", "-o", tmp_path / "out", t,
               tag="hostile")
    assert wait_for_event(g, "added", 15), why(g)
    g.interrupt(20)
    raw = stream(g)
    objs = parse_stream(raw)        # no raw hidden character, valid lines
    check_order(objs)
    added = events_of(objs, "added")[0]
    assert b"\\u202e" in raw and "\u202e".encode() not in raw, raw[:500]
    assert b'\\u2066x\\u2069\\u200e\\"q' in raw, raw[:500]
    assert b"\x1b" not in raw
    # the name as gtorrent uses it (control characters made safe for a
    # path), the same as `gtorrent info --json` shows
    info = gt("info", "--json", t)
    assert info.rc == 0, info
    assert added["name"] == objs[-1]["name"] == info.json()["name"], added
    assert "\u202egpj.exe \u2066x\u2069\u200e\"q" in added["name"]


def test_json_file_number_past_the_files(gt, tmp_path):
    """--select-file past the torrent's files: "error" with the torrent's
    info-hash and exit 3, and nothing else after "start"."""
    data = b"one file" * 100
    info = {"name": b"one.bin", "length": len(data), "piece length": 16384,
            "pieces": __import__("hashlib").sha1(data).digest()}
    t = tmp_path / "one.torrent"
    tb = helpers.bencode({"info": info})
    t.write_bytes(tb)
    r = gt("--json", "--select-file", "5", "--no-tracker", "--peer",
           "127.0.0.1:1", "-o", tmp_path / "out", t)
    assert r.rc == 3, r
    objs = parse_stream(r.outb)
    assert [o["event"] for o in objs] == ["start", "error"], r
    e = objs[1]
    assert e["torrent"] == helpers.info_hash_hex(tb) and e["exit"] == 3, e
    assert e["source"] == str(t) and "file" in e["message"], e
