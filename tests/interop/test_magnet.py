"""Magnet links with real clients (issue 9), all on 127.0.0.1.

  test_reference_magnet_plumbing  libtorrent, aria2c and Transmission each
                          fetch a magnet from a libtorrent seeder: no
                          gtorrent at all; if this fails, the drivers or
                          the machine are wrong, not gtorrent.
  test_gtorrent_fetches_magnet_from
                          a libtorrent, aria2c or Transmission seeder is
                          the only peer (x.pe= or --peer, no tracker):
                          gtorrent gets the metadata and the data from it;
                          -v names it on a 'metadata' line; the folder is
                          the metadata's name, not dn.
  test_client_fetches_magnet_from_gtorrent
                          `gtorrent seed` is the only source: libtorrent,
                          aria2c and Transmission fetch the metadata (BEP 9)
                          and the data from it, finding it through
                          opentracker (tr= in the magnet) or x.pe.
  test_gtorrent_magnet_swarm
                          one `gtorrent seed`, two gtorrent leechers from
                          a magnet (positional form and `download -m`,
                          http and udp tr=).
  test_pex_learns_the_seed
                          a leecher that knows only one peer finds the seed
                          through PEX (BEP 11): gtorrent <-> gtorrent,
                          libtorrent in the middle, and libtorrent learning
                          from gtorrent.
  test_metadata_only      `--metadata-only` writes DIR/NAME.torrent that
                          libtorrent loads with the magnet's info-hash and
                          trackers, and `gtorrent info` shows.

Clients run with DHT, LSD, UPnP, NAT-PMP (and PEX, but in the PEX tests)
off; every process is bounded in time and stopped by PID (peers.Net).
Transmission never dials 127.x: a seeder must dial it.

Run against another binary: GTORRENT=/abs/path/gtorrent /usr/bin/python3
-m pytest -q tests/interop/test_magnet.py
"""

import os
import time

import pytest

import clients
import helpers
import magnets
import peers
from magnets import Case, check_done, metadata_lines
from peers import why

DOWNLOAD_TIMEOUT = 45       # one magnet download (Transmission is slow)
SEEDER_READY = 20           # a seeder checks its data, listens, announces
PEX_WAIT = 25               # for the leecher to reach the seed by PEX
MIDDLE_RATE = 96 * 1024     # bytes/s the middle peer of a PEX test gets


def make_client(net, cls, tmp_path, case, torrent, name=None):
    reason = cls.missing()
    if reason:
        pytest.skip(reason)
    c = cls(tmp_path / (name or cls.name), torrent, case.meta)
    return net.add(c, lambda x: x.stop())


# --- reference clients among themselves -------------------------------------

@pytest.fixture
def lt_net(lt, tmp_path, request):
    """A peers.Net without gtorrent (the plumbing test needs none)."""
    ot = None
    if "opentracker" in request.fixturenames:
        ot = request.getfixturevalue("opentracker")
    n = peers.Net(tmp_path, gtorrent=None, opentracker=ot, lt=lt)
    yield n
    n.stop()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("client", list(magnets.MAGNET_LEECHERS))
def test_reference_magnet_plumbing(lt_net, opentracker, tmp_path, seed,
                                   client):
    """libtorrent seeds; the client fetches metadata and data from a
    magnet (tr= for aria2c, x.pe= for libtorrent; Transmission is dialled
    by the seeder).  Checks the drivers and settings the gtorrent tests
    below rely on."""
    tr = lt_net.tracker()
    case = Case(tmp_path, seed, "multi", trackers=[tr.announce])
    tr.start(case.ih)
    cls = magnets.MAGNET_LEECHERS[client]
    uri = case.uri(dn="plumbing", trackers=[tr.announce])
    s = lt_net.lt_peer(case.torrent_bytes, case.src)
    s.wait_seeding(SEEDER_READY)
    if client == "libtorrent":
        uri = case.uri(peer_addrs=[s.port])
    x = make_client(lt_net, cls, tmp_path, case, uri)
    out = tmp_path / "out"
    x.start_leecher(out)
    if not x.dials_loopback:
        assert s.connect_until_peer(x.port, 15), why(x)
    assert x.wait_complete(DOWNLOAD_TIMEOUT), why(x, s.status().num_peers)
    case.check_soon(out)
    print("libtorrent -> %s (magnet): %.1f s" % (client, x.elapsed))


# --- 1. gtorrent fetches a magnet from each client --------------------------

# how gtorrent learns of the seeder: x.pe= in the magnet or --peer
SEEDERS = [("libtorrent", "x.pe"), ("aria2c", "--peer"),
           ("transmission", "x.pe")]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("client,how", SEEDERS)
def test_gtorrent_fetches_magnet_from(net, tmp_path, seed, client, how):
    """The client is the only peer and gtorrent has nothing but the
    magnet (no tracker): metadata and data both come from the client.
    dn= is deliberately not the torrent's name."""
    case = Case(tmp_path, seed, "multi", trackers=[helpers.ANNOUNCE])
    x = make_client(net, clients.driver(client), tmp_path, case,
                    case.torrent)
    x.start_seeder(case.src)
    if client == "libtorrent":
        x.lt_peer.wait_seeding(SEEDER_READY)
    else:
        assert peers.wait_listening(x.port, SEEDER_READY, x.alive), why(x)
    addr = "%s:%d" % (peers.LOOPBACK, x.port)
    out = tmp_path / "out"
    args = ["-v", "--no-tracker", "-p", peers.free_port(), "-o", out]
    if how == "x.pe":
        uri = case.uri(dn="not the name", peer_addrs=[addr])
    else:
        uri = case.uri(dn="not the name")
        args += ["--peer", addr]
    g = net.gt("-m", uri, *args, tag="gt-magnet")
    rc = g.wait(DOWNLOAD_TIMEOUT)
    x.sample_sockets()
    check_done(g, case.total, rc, case.name)
    case.check(out)
    assert not os.path.exists(out / "not the name"), why(
        "dn was used as a path", g)
    assert metadata_lines(g.err, addr), why(
        "-v shows no 'metadata' line naming %s" % addr, g)
    assert not x.exposed, why("%s bound sockets off loopback" % client, x)
    print("%s -> gtorrent (magnet, %s): %.1f s" % (client, how, g.elapsed))


# --- 2. each client fetches a magnet from gtorrent --------------------------

def start_gt_seed(net, tr, case, *extra):
    g = net.gt("seed", "-v", "-p", peers.free_port(), "-o", case.src,
               *extra, case.torrent, tag="gt-seeder")
    assert tr.wait_peers(case.ih, complete=1, timeout=SEEDER_READY), why(
        "gtorrent seed never announced itself as a seeder", g)
    return g


@pytest.mark.timeout(100)
@pytest.mark.parametrize("client", list(magnets.MAGNET_LEECHERS))
def test_client_fetches_magnet_from_gtorrent(net, opentracker, tmp_path,
                                             seed, client):
    """`gtorrent seed` is the only holder of the metadata; the client
    starts from a magnet (tr= opentracker; libtorrent also gets x.pe=)
    and gets metadata and data from gtorrent.  Transmission never dials
    127.x: it announces first and the seed dials it."""
    tr = net.tracker()
    case = Case(tmp_path, seed, "single", trackers=[tr.announce])
    tr.start(case.ih)
    cls = magnets.MAGNET_LEECHERS[client]
    out = tmp_path / "out"
    if cls.dials_loopback:
        g = start_gt_seed(net, tr, case)
        uri = case.uri(dn=case.name, trackers=[tr.announce])
        if client == "libtorrent":
            seed_port = int(g.args[g.args.index("-p") + 1])
            uri = case.uri(dn=case.name, trackers=[tr.announce],
                           peer_addrs=[seed_port])
        x = make_client(net, cls, tmp_path, case, uri)
        x.start_leecher(out)
    else:
        uri = case.uri(dn=case.name, trackers=[tr.announce])
        x = make_client(net, cls, tmp_path, case, uri)
        x.start_leecher(out)
        assert tr.wait_peers(case.ih, incomplete=1, timeout=SEEDER_READY), \
            why("%s never announced itself" % client, x)
        g = start_gt_seed(net, tr, case)
    done = x.wait_complete(DOWNLOAD_TIMEOUT)
    assert done, why("%s did not complete a magnet from gtorrent in %d s" % (
        client, DOWNLOAD_TIMEOUT), x, g)
    case.check_soon(out)
    assert not x.exposed, why("%s bound sockets off loopback" % client, x)
    assert g.alive(), why("gtorrent seed exited by itself", g)
    rc = g.interrupt()
    assert rc == 130, why("SIGINT must give exit 130", g)
    sm = g.summary()
    assert sm is not None and sm["uploaded"] >= case.total, why(
        "gtorrent seed uploaded less than the payload", sm, g)
    print("gtorrent -> %s (magnet): %.1f s" % (client, x.elapsed))


# --- 3. gtorrent only -------------------------------------------------------

@pytest.mark.timeout(60)
def test_gtorrent_magnet_swarm(net, opentracker, tmp_path, seed):
    """One `gtorrent seed` (from the .torrent) and two gtorrent leechers
    that have only a magnet: one `gtorrent URI` with an http tr=, one
    `gtorrent download -m URI` with a udp tr=.  Both complete."""
    tr = net.tracker()
    case = Case(tmp_path, seed, "multi", trackers=[tr.announce])
    tr.start(case.ih)
    s = start_gt_seed(net, tr, case)
    outs = [tmp_path / "out1", tmp_path / "out2"]
    g1 = net.gt("-v", "-p", peers.free_port(), "-o", outs[0],
                case.uri(dn="swarm", trackers=[tr.announce]), tag="leecher1")
    g2 = net.gt("download", "-m",
                case.uri(dn="swarm", trackers=[tr.announce_udp]), "-v",
                "-p", peers.free_port(), "-o", outs[1], tag="leecher2")
    for g, out in ((g1, outs[0]), (g2, outs[1])):
        rc = g.wait(DOWNLOAD_TIMEOUT)
        check_done(g, case.total, rc, case.name)
        case.check(out)
        assert metadata_lines(g.err), why("no 'metadata' line at -v", g)
    assert s.alive(), why("the seed exited", s)
    print("swarm: %.1f s, %.1f s" % (g1.elapsed, g2.elapsed))


# --- 4. PEX -----------------------------------------------------------------

@pytest.mark.timeout(90)
@pytest.mark.parametrize("middle,leecher", [
    ("gtorrent", "gtorrent"), ("libtorrent", "gtorrent"),
    ("gtorrent", "libtorrent")])
def test_pex_learns_the_seed(net, tmp_path, seed, middle, leecher):
    """Seed S (`gtorrent seed --no-pex`, no tracker: it dials nobody) sits
    behind a relay; middle peer A knows only the relay's address and gets
    its bytes through it slowly (MIDDLE_RATE); leecher B knows only A (a
    magnet with x.pe=A, no tracker).  B can learn the relay's address from
    A's PEX only, and the relay sees B's connection arrive (a short one
    could be missed by polling).  Then A is killed if B is not done yet:
    B completes from S alone.  PEX is on by default in gtorrent and in
    python-libtorrent.  The first PEX message to a peer must go out soon
    after its extended handshake (libtorrent's does within about a
    second; "one a minute" is the pace after that): PEX_WAIT."""
    case = Case(tmp_path, seed, "single", size=2 * helpers.MIB + 12345)
    s_port = peers.free_port()
    S = net.gt("seed", "-v", "--no-tracker", "--no-pex", "-p", s_port, "-o",
               case.src, case.torrent, tag="S")
    assert peers.wait_listening(s_port, SEEDER_READY, S.alive), why(S)
    procs = {}
    in_process = {"libtorrent": "A"} if middle == "libtorrent" else \
        {"libtorrent": "B"} if leecher == "libtorrent" else {}

    def policy(port):
        for k, p in list(procs.items()):
            if port in magnets.local_ports(p.pid):
                break
        else:
            k = in_process.get("libtorrent", "?")
        return k, MIDDLE_RATE if k == "A" else 0

    relay = net.add(magnets.Relay(s_port, policy), lambda r: r.stop())
    # A: the middle peer, slow on purpose
    if middle == "gtorrent":
        a_port = peers.free_port()
        A = net.gt("-v", "--no-tracker", "-p", a_port, "-o", tmp_path / "a",
                   "--peer", relay.addr, case.torrent, tag="A")
        procs["A"] = A
    else:
        A = net.lt_peer(case.torrent_bytes, tmp_path / "a", seeder=False)
        a_port = A.port
        A.connect(relay.port)
    assert peers.wait_until(lambda: "A" in relay.labels(), 10), why(
        "A never dialled S (through the relay)", relay, A)
    # B: knows only A
    uri = case.uri(peer_addrs=[a_port])
    out = tmp_path / "b"
    if leecher == "gtorrent":
        B = net.gt("-m", uri, "-v", "--no-tracker", "-p", peers.free_port(),
                   "-o", out, tag="B")
        procs["B"] = B
        b_done = lambda: not B.alive()  # noqa: E731
    else:
        B = make_client(net, magnets.LtMagnet, tmp_path, case, uri, "B")
        B.start_leecher(out)
        b_done = B.completed
    peers.wait_until(lambda: "B" in relay.labels() or b_done(), PEX_WAIT,
                     0.05)
    assert "B" in relay.labels(), why(
        "B never dialled the relay in %d s: it did not learn S by PEX" %
        PEX_WAIT if not b_done() else
        "B finished without ever dialling S", relay, B, A, S)
    t_reach = time.monotonic()
    if not b_done():
        # without A, only S can give B the pieces it lacks
        if middle == "gtorrent":
            A.kill()
        else:
            A.close()
    if leecher == "gtorrent":
        rc = B.wait(DOWNLOAD_TIMEOUT)
        check_done(B, case.total, rc, case.name)
    else:
        assert B.wait_complete(DOWNLOAD_TIMEOUT), why(B, S)
    case.check_soon(out)
    print("PEX %s -> %s: B reached S %.1f s after S started, done %.1f s "
          "later; relay %r" % (middle, leecher, t_reach - S.t0,
                               time.monotonic() - t_reach, relay.accepted))


# --- 5. --metadata-only -----------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind,base32", [("single", False), ("multi", True)],
                         ids=["single-hex", "multi-base32"])
def test_metadata_only(net, lt, gt, tmp_path, seed, kind, base32):
    """gtorrent -m URI --metadata-only -o DIR: DIR/NAME.torrent (NAME from
    the metadata, not dn), its path on stdout, no payload written; it
    loads in libtorrent with the magnet's info-hash, the very same info
    dict, and the magnet's trackers as announce/announce-list; `gtorrent
    info --json` shows it."""
    case = Case(tmp_path, seed, kind, trackers=[helpers.ANNOUNCE],
                name="Metadata Only ü" + (".bin" if kind == "single" else ""))
    s = net.lt_peer(case.torrent_bytes, case.src)
    s.wait_seeding(SEEDER_READY)
    trs = ["http://127.0.0.1:%d/announce" % peers.free_port(),
           "udp://127.0.0.1:%d/announce" % peers.free_port(),
           "http://127.0.0.1:%d/a?b=c&d=e" % peers.free_port()]
    uri = magnets.magnet_uri(case.ih, dn="other name", trackers=trs,
                             peer_addrs=[s.port], base32=base32)
    out = tmp_path / "meta"
    g = net.gt("-m", uri, "--metadata-only", "-v", "-p", peers.free_port(),
               "-o", out, tag="meta")
    rc = g.wait(30)
    assert rc == 0, why(g)
    want = out / (case.name + ".torrent")
    lines = [ln for ln in g.out.splitlines() if ln.strip()]
    assert lines and os.path.realpath(lines[-1].strip()) == \
        os.path.realpath(want), why("stdout must name %s" % want, g)
    assert sorted(os.listdir(out)) == [want.name], why(
        "only the .torrent may be written: %r" % os.listdir(out), g)
    raw = want.read_bytes()
    assert helpers.info_hash_hex(raw) == case.ih.hex()
    assert peers.Meta(raw).raw_info == case.info, "info dict changed"
    top = helpers.bdecode(raw)[0]
    assert top.get(b"announce") == trs[0].encode(), top.get(b"announce")
    flat = [u.decode() for tier in top.get(b"announce-list", [])
            for u in tier]
    assert flat == trs, flat
    ti = lt.torrent_info(str(want))
    assert str(ti.info_hashes().v1) == case.ih.hex()
    assert ti.name() == case.name
    assert sorted(t.url for t in ti.trackers()) == sorted(trs)
    j = gt("info", "--json", want, timeout=20).json()
    assert j["info_hash"].lower() == case.ih.hex(), j
    assert j["name"] == case.name and j["total_size"] == case.total, j
    assert [u for tier in j["trackers"] for u in tier] == trs, j
    assert metadata_lines(g.err, "%s:%d" % (peers.LOOPBACK, s.port)), why(
        "-v shows no 'metadata' line naming the seeder", g)
