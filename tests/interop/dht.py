"""A DHT on loopback for gtorrent's DHT interop tests (test_dht*.py).

- LtDht: n python3-libtorrent DHT nodes in this process, each on its own
  loopback address (127.0.0.10, .11, ...; real nodes keep one table entry
  per IP) and one port for all, or all on ::1 with a port each.  Settings
  that make loopback nodes count (REFERENCE-PEERS.md): no routing/search
  IP restrictions, dark internet allowed, unverifiable (BEP 42) ids
  accepted, a high block rate limit.  libtorrent never puts its bootstrap
  nodes in its table and nodes started together stay apart, so each node
  is told of a few others (add_dht_node).  Its bootstrap setting always
  names one of these nodes: libtorrent's default is a public router.
  tables() / wait_formed() read every node's routing table
  (dht_live_nodes); find_peers() runs a get_peers from one node.
- lt_dht_peer(): a peers.LtPeer (seeder, leecher, or magnet leecher) with
  its DHT joined to an LtDht, on an address of its own.
- gt_dht_args(): a gtorrent's DHT options for an LtDht.
- Strace: gtorrent under `strace -f -e trace=network`, and every address
  it sent to or connected to, to assert that only loopback was contacted.
- krpc(): a KRPC message encoder (bencode), for scripted DHT traffic.

Nothing here leaves 127.0.0.0/8 or ::1; every session is closed and every
process stopped by PID (through peers.Net) at the end of a test.
"""

import ipaddress
import os
import re
import shutil
import socket
import time

import helpers
import peers
import ports

BASE_IP = 10                # LtDht nodes on 127.0.0.10 and up
PEER_IP = 200               # lt_dht_peer()s on 127.0.0.200 and up
NEIGHBOURS = 6              # nodes each node is told of


def host(ip):
    """ip as in HOST:PORT ([::1] for IPv6)."""
    return "[%s]" % ip if ":" in ip else ip


def hostport(ip, port):
    return "%s:%d" % (host(ip), port)


def is_loopback(ip):
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.is_loopback


def _bindable(ip, port):
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(fam, kind)
        try:
            s.bind((ip, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port_on(ips):
    """A port of this worker's block (ports.py) free for TCP and UDP on
    every address of ips."""
    for _ in range(100):
        p = ports.free_port(ips[0])
        if all(_bindable(ip, p) for ip in ips[1:]):
            return p
    raise RuntimeError("no port free on all of %s" % ", ".join(ips))


def ipv6_unusable():
    """None if libtorrent-style UDP/TCP on ::1 works here, else why not."""
    import trackers
    return trackers.ipv6_unusable()


def dht_settings(lt, ip, port, bootstrap):
    """A loopback-only libtorrent session with its DHT on ip:port,
    bootstrapping from bootstrap ("HOST:PORT"; never the default, a public
    router)."""
    assert bootstrap and all(
        is_loopback(b.rsplit(":", 1)[0].strip("[]"))
        for b in bootstrap.split(",")), bootstrap
    cat = lt.alert.category_t
    s = {
        "listen_interfaces": hostport(ip, port),
        "outgoing_interfaces": "",
        "enable_dht": True,
        "dht_bootstrap_nodes": bootstrap,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "dht_block_ratelimit": 1000,
        "dht_announce_interval": 60,
        "dht_upload_rate_limit": 1 << 20,
        "dht_aggressive_lookups": True,
        "user_agent": "lt-dht-interop",
        "alert_mask": int(cat.dht_notification | cat.dht_operation_notification
                          | cat.status_notification | cat.error_notification),
    }
    d = lt.default_settings()
    if "dht_ignore_dark_internet" in d:
        s["dht_ignore_dark_internet"] = False
    return s


class LtDht:
    """n libtorrent DHT nodes on loopback (family 4: 127.0.0.10.. on one
    port; 6: ::1, a port each)."""

    def __init__(self, lt, n=20, family=4):
        self.lt = lt
        self.family = family
        if family == 4:
            self.ips = ["127.0.0.%d" % (BASE_IP + i) for i in range(n)]
            p = free_port_on(self.ips)
            self.ports = [p] * n
        else:
            self.ips = ["::1"] * n
            self.ports = []
            while len(self.ports) < n:
                p = ports.free_port("::1")
                if p not in self.ports:
                    self.ports.append(p)
        self.nodes = []
        self.t0 = time.monotonic()
        for i in range(n):
            boot = self.addr((i + 1) % n)
            self.nodes.append(lt.session(dht_settings(
                lt, self.ips[i], self.ports[i], boot)))
        for i, s in enumerate(self.nodes):
            self.introduce(s, i)

    def __len__(self):
        return len(self.nodes)

    def addr(self, i):
        return hostport(self.ips[i], self.ports[i])

    def endpoints(self):
        return set(zip(self.ips, self.ports))

    def neighbours(self):
        """How many nodes each node is told of."""
        return min(NEIGHBOURS, len(self.ips) // 3)

    def introduce(self, ses, i=None, k=None):
        """Tells ses of k nodes (after node i in the ring, or spread)."""
        n = len(self.ips)
        k = k or self.neighbours()
        start = 0 if i is None else i + 1
        step = 1 if i is not None else max(1, n // k)
        for d in range(k):
            j = (start + d * step) % n
            if j != i:
                ses.add_dht_node((self.ips[j], self.ports[j]))

    def _alerts(self, ses, kind, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ses.wait_for_alert(int(max(1, (end - time.monotonic()) * 1000)))
            for a in ses.pop_alerts():
                if isinstance(a, kind):
                    return a
        return None

    def node_id(self, i):
        """Node i's DHT node id (20 bytes), from its saved state (the one
        way the bindings tell it)."""
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # None (an empty entry) until the node's DHT has started: a
            # busy machine under CI got there before it once.
            st = self.nodes[i].dht_state() or {}
        ids = st.get(b"node-id") or st.get("node-id") or []
        return bytes(ids[0][:20]) if ids else None

    def table(self, i, timeout=2.0):
        """Node i's routing table: [(ip, port)] of its live nodes, or
        None when it did not say in time."""
        ses = self.nodes[i]
        nid = self.node_id(i)
        if nid is None:
            return None
        ses.dht_live_nodes(self.lt.sha1_hash(nid))
        a = self._alerts(ses, self.lt.dht_live_nodes_alert, timeout)
        if a is None:
            return None
        return [tuple(n["endpoint"][:2]) for n in a.nodes]

    def tables(self):
        return [self.table(i) for i in range(len(self.nodes))]

    def wait_formed(self, min_nodes=5, timeout=45):
        """Waits until every node's table holds at least min_nodes of the
        DHT's own nodes, on average more than the neighbours() it was
        told of (so they learnt of each other), and the tables link every node
        to every other (one connected graph).  Returns (seconds, tables);
        raises
        AssertionError with the table sizes on timeout."""
        own = self.endpoints()
        deadline = time.monotonic() + timeout
        while True:
            tabs = self.tables()
            sizes = [len([e for e in (t or []) if e in own]) for t in tabs]
            learnt = sum(sizes) > len(sizes) * self.neighbours()
            if min(sizes) >= min_nodes and learnt and \
                    self._connected(tabs):
                return time.monotonic() - self.t0, tabs
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the libtorrent DHT did not form in %s s: table sizes "
                    "%s" % (timeout, sizes))
            time.sleep(0.5)

    def _connected(self, tabs):
        index = {e: i for i, e in enumerate(zip(self.ips, self.ports))}
        seen = {0}
        todo = [0]
        adj = {i: set() for i in range(len(tabs))}
        for i, t in enumerate(tabs):
            for e in t or []:
                j = index.get(e)
                if j is not None:
                    adj[i].add(j)
                    adj[j].add(i)
        while todo:
            i = todo.pop()
            for j in adj[i] - seen:
                seen.add(j)
                todo.append(j)
        return len(seen) == len(tabs)

    def find_peers(self, info_hash, want=None, timeout=30, i=0):
        """get_peers for info_hash (20 bytes) from node i, repeated, until
        want (a "HOST:PORT") is among the peers (or, want None, any peer
        is); returns the set of "HOST:PORT" found, raises AssertionError
        on timeout."""
        lt = self.lt
        ses = self.nodes[i]
        got = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ses.dht_get_peers(lt.sha1_hash(bytes(info_hash)))
            end = min(deadline, time.monotonic() + 2.0)
            while time.monotonic() < end:
                ses.wait_for_alert(200)
                for a in ses.pop_alerts():
                    if isinstance(a, lt.dht_get_peers_reply_alert):
                        got.update(hostport(ip, port)
                                   for ip, port in a.peers())
                if (want in got) if want else got:
                    return got
        raise AssertionError("get_peers from %s for %s: wanted %s, got "
                             "%s in %s s" % (self.addr(i),
                                             bytes(info_hash).hex(), want,
                                             sorted(got), timeout))

    def close(self):
        for s in self.nodes:
            try:
                s.pause()
            except RuntimeError:
                pass
        self.nodes = []


_peer_ips = [PEER_IP]


def next_peer_ip():
    """A loopback address for one more DHT peer (127.0.0.200..254)."""
    ip = "127.0.0.%d" % _peer_ips[0]
    _peer_ips[0] = PEER_IP + (_peer_ips[0] + 1 - PEER_IP) % 55
    return ip


def lt_dht_peer(net, lt, d, save_path, torrent_bytes=None, magnet=None,
                seeder=True, ip=None):
    """A peers.LtPeer on an address of its own (IPv4; ::1 for an IPv6
    LtDht) whose DHT joins d (told of a few of its nodes), owned by net.
    No tracker: a magnet has no tr=, a torrent's announce is
    helpers.ANNOUNCE (never contacted: trackers are off)."""
    if ip is None:
        ip = "::1" if d.family == 6 else next_peer_ip()
    port = free_port_on([ip])
    st = dht_settings(lt, ip, port, d.addr(len(d) // 2))
    st["alert_mask"] = 0
    lp = net.lt_peer(torrent_bytes, save_path, port=port, seeder=seeder,
                     settings=st, magnet=magnet)
    assert not lp.h.trackers(), "a DHT test's torrent names a tracker"
    lp.ip = ip
    lp.addr = hostport(ip, port)
    d.introduce(lp.ses)
    return lp


def gt_dht_args(d, port, dht_port=None, boot=0):
    """gtorrent's listen and DHT options for joining d through node boot
    only (and its own ports)."""
    return ["-p", port, "--dht-port", dht_port or port,
            "--dht-bootstrap", d.addr(boot)]


# --- strace: where did a process send? --------------------------------------

ADDR_RES = [
    re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)'),
    re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, '
               r'"([^"]+)"'),
]
CALLS = ("sendto(", "sendmsg(", "connect(", "sendmmsg(")


def strace_path():
    return shutil.which("strace")


def strace_wrap(args, log):
    """args run under strace, every network call of every thread and child
    written to log."""
    return [strace_path(), "-f", "-qq", "-s", "0", "-e",
            "trace=sendto,sendmsg,sendmmsg,connect", "-o", str(log)] + \
        [str(a) for a in args]


def strace_destinations(log):
    """[(ip, port, line)] of every AF_INET/AF_INET6 address in a sendto,
    sendmsg, sendmmsg or connect call of the strace log."""
    out = []
    with open(log, "r", errors="replace") as f:
        for ln in f:
            if not any(c in ln for c in CALLS):
                continue
            for rx in ADDR_RES:
                for m in rx.finditer(ln):
                    ip = m.group(2)
                    if ip.lower().startswith("::ffff:") and "." in ip:
                        ip = ip[7:]         # a v4-mapped address
                    out.append((ip, int(m.group(1)), ln.strip()))
    return out


# --- KRPC ---------------------------------------------------------------------

def krpc(y, t=b"aa", q=None, a=None, r=None, e=None, **extra):
    """A KRPC message: y "q" (q, a), "r" (r) or "e" (e), transaction id t;
    extra keys as given.  bytes."""
    m = {"t": t, "y": y}
    if q is not None:
        m["q"] = q
    if a is not None:
        m["a"] = a
    if r is not None:
        m["r"] = r
    if e is not None:
        m["e"] = e
    m.update(extra)
    return helpers.bencode(m)


def krpc_decode(b):
    v, _ = helpers.bdecode(b)
    return v
