"""Every real client is named by its peer id, both ways (issue 13).

The full-screen view's peers pane and --json's peer_up/peer_down name a
peer's client from its peer id (peerid.c).  For each of libtorrent,
qBittorrent, Transmission, aria2c, rTorrent and ctorrent (clients.py),
on the single-file case of test_clients.py:

  test_leecher_names_the_seeder   the client seeds; `gtorrent --json`
                                  downloads: a peer_up names the client,
                                  the run ends with "done" and exit 0;
  test_seeder_names_the_leecher   `gtorrent seed --json` seeds; the
                                  client downloads: a peer_up names it,
                                  SIGINT gives "stopped" and exit 130.

Everything on 127.0.0.1 through the test's opentracker; every process is
stopped by PID at teardown (peers.Net).  A client whose binary is missing
is skipped.
"""

import json
import re

import pytest

import clients
import peers
from peers import why
from test_clients import (Case, DOWNLOAD_TIMEOUT, SEEDER_READY, TEST_TIMEOUT,
                          make_client)

# What peerid_client says of each client's peer id.
NAMED = {
    "libtorrent": r"^libtorrent \d+\.\d+",
    "qbittorrent": r"^qBittorrent \d+\.\d+",
    "transmission": r"^Transmission \d+\.\d+",
    "aria2c": r"^aria2 \d+\.\d+",
    "rtorrent": r"^libTorrent \d+\.\d+",
    "ctorrent": r"CTorrent \d",
}


def events(g):
    return [json.loads(ln) for ln in g.out.splitlines() if ln.strip()]


def clients_met(objs):
    return sorted({o["client"] or "" for o in objs
                   if o["event"] == "peer_up"})


@pytest.mark.timeout(TEST_TIMEOUT)
@pytest.mark.parametrize("client", clients.NAMES)
def test_leecher_names_the_seeder(net, opentracker, tmp_path, seed, client):
    tr = net.tracker()
    case = Case(tmp_path, seed, "single", tr.announce)
    tr.start(case.ih)
    x = make_client(net, client, tmp_path, case)
    x.start_seeder(case.src)
    assert tr.wait_peers(case.ih, complete=1, timeout=SEEDER_READY), why(
        "%s never announced itself as a seeder" % client, x)
    out = tmp_path / "out"
    g = net.gt("--json", "--no-dht", "-p", peers.free_port(), "-o", out,
               case.torrent, tag="gt-leecher")
    rc = g.wait(DOWNLOAD_TIMEOUT)
    assert rc == 0, why(g, x)
    objs = events(g)
    met = clients_met(objs)
    assert any(re.search(NAMED[client], c) for c in met), why(met, g)
    assert objs[-1]["event"] == "done" and objs[-1]["exit"] == 0, objs[-1]
    case.check(out)
    print("%s -> gtorrent: %s" % (client, met))


@pytest.mark.timeout(TEST_TIMEOUT)
@pytest.mark.parametrize("client", clients.NAMES)
def test_seeder_names_the_leecher(net, opentracker, tmp_path, seed, client):
    tr = net.tracker()
    case = Case(tmp_path, seed, "single", tr.announce)
    tr.start(case.ih)
    x = make_client(net, client, tmp_path, case)
    out = tmp_path / "out"
    args = ("seed", "--json", "--no-dht", "-p", peers.free_port(), "-o",
            case.src, case.torrent)
    if x.dials_loopback:
        g = net.gt(*args, tag="gt-seeder")
        assert tr.wait_peers(case.ih, complete=1, timeout=SEEDER_READY), \
            why("gtorrent seed never announced itself", g)
        x.start_leecher(out)
    else:
        x.start_leecher(out)
        assert tr.wait_peers(case.ih, incomplete=1, timeout=SEEDER_READY), \
            why("%s never announced itself" % client, x)
        g = net.gt(*args, tag="gt-seeder")
    assert x.wait_complete(DOWNLOAD_TIMEOUT), why(
        "%s did not complete from gtorrent" % client, x, g)
    case.check_soon(out)
    assert g.interrupt() == 130, why(g)
    objs = events(g)
    met = clients_met(objs)
    assert any(re.search(NAMED[client], c) for c in met), why(met, g)
    assert objs[-1]["event"] == "stopped", objs[-1]
    print("gtorrent -> %s: %s" % (client, met))
