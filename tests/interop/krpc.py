"""KRPC (BEP 5, 32, 33, 51) from Python, for the DHT's hostile tests.

- bencode(v) / bdecode(b): a strict decoder that returns None for anything
  that is not exactly one value (with a depth cap: a reply we parse comes
  from the node under test, which must not crash us either).
- Query and response builders: ping, find_node, get_peers, announce_peer,
  sample_infohashes, and a response of our own (nodes, nodes6, token).
- Compact node and peer info both ways (26/38 bytes, 6/18 bytes).
- Node: one UDP socket bound to a loopback address that sends queries and
  reads the replies whose "t" it chose; Responder: a threaded fake DHT node
  that answers the queries it gets (so the node under test has a table of
  nodes that answered it) and records them.

Nothing here contacts anything but the addresses it is given; the tests
give loopback ones only.
"""

import os
import select
import socket
import struct
import threading
import time


# --- bencode ----------------------------------------------------------------

def bencode(v):
    """int, bytes, str, list/tuple, dict (keys sorted bytewise)."""
    out = []
    _enc(v, out)
    return b"".join(out)


def _enc(v, out):
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        out.append(b"i%de" % v)
    elif isinstance(v, str):
        v = v.encode("utf-8")
        out.append(b"%d:%s" % (len(v), v))
    elif isinstance(v, (bytes, bytearray)):
        out.append(b"%d:%s" % (len(v), bytes(v)))
    elif isinstance(v, (list, tuple)):
        out.append(b"l")
        for x in v:
            _enc(x, out)
        out.append(b"e")
    elif isinstance(v, dict):
        items = sorted(((k.encode("utf-8") if isinstance(k, str) else k, x)
                        for k, x in v.items()), key=lambda kv: kv[0])
        out.append(b"d")
        for k, x in items:
            out.append(b"%d:%s" % (len(k), k))
            _enc(x, out)
        out.append(b"e")
    else:
        raise TypeError("cannot bencode %r" % type(v))


class _Bad(Exception):
    pass


def _dec(b, i, depth):
    if depth > 64:
        raise _Bad("too deep")
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        s = b[i + 1:j]
        if not s or s == b"-" or (s[:1] == b"0" and len(s) > 1) or \
                s[:2] == b"-0":
            raise _Bad("bad int")
        return int(s), j + 1
    if c.isdigit():
        j = b.index(b":", i)
        if j - i > 6:
            raise _Bad("string length")
        n = int(b[i:j])
        if j + 1 + n > len(b):
            raise _Bad("truncated string")
        return bytes(b[j + 1:j + 1 + n]), j + 1 + n
    if c == b"l":
        out = []
        i += 1
        while b[i:i + 1] != b"e":
            if i >= len(b):
                raise _Bad("truncated list")
            x, i = _dec(b, i, depth + 1)
            out.append(x)
        return out, i + 1
    if c == b"d":
        out = {}
        i += 1
        while b[i:i + 1] != b"e":
            if i >= len(b):
                raise _Bad("truncated dict")
            k, i = _dec(b, i, depth + 1)
            if not isinstance(k, bytes):
                raise _Bad("dict key")
            x, i = _dec(b, i, depth + 1)
            out[k] = x
        return out, i + 1
    raise _Bad("bad byte %r at %d" % (c, i))


def bdecode(b):
    """The one value b holds, or None."""
    try:
        v, end = _dec(b, 0, 0)
    except (_Bad, ValueError, IndexError):
        return None
    return v if end == len(b) else None


# --- compact info -----------------------------------------------------------

def _ip_bytes(ip):
    if ":" in ip:
        return socket.inet_pton(socket.AF_INET6, ip)
    return socket.inet_aton(ip)


def compact_peer(ip, port):
    return _ip_bytes(ip) + struct.pack(">H", port)


def compact_node(nid, ip, port):
    return bytes(nid) + compact_peer(ip, port)


def parse_peer(b):
    """6 or 18 bytes -> (ip, port), else None."""
    if len(b) == 6:
        return socket.inet_ntoa(b[:4]), struct.unpack(">H", b[4:])[0]
    if len(b) == 18:
        return (socket.inet_ntop(socket.AF_INET6, b[:16]),
                struct.unpack(">H", b[16:])[0])
    return None


def parse_nodes(b, six=False):
    """Compact node info (nodes or nodes6) -> [(id, ip, port)]."""
    n = 38 if six else 26
    out = []
    if not isinstance(b, bytes):
        return out
    for i in range(0, len(b) - n + 1, n):
        e = b[i:i + n]
        ip, port = parse_peer(e[20:])
        out.append((e[:20], ip, port))
    return out


def reply_nodes(msg):
    """Every (id, ip, port) of a response's nodes and nodes6."""
    r = msg.get(b"r") if isinstance(msg, dict) else None
    if not isinstance(r, dict):
        return []
    return parse_nodes(r.get(b"nodes")) + parse_nodes(r.get(b"nodes6"),
                                                      six=True)


def reply_values(msg):
    """Every (ip, port) of a get_peers response's values."""
    r = msg.get(b"r") if isinstance(msg, dict) else None
    if not isinstance(r, dict) or not isinstance(r.get(b"values"), list):
        return []
    return [p for p in (parse_peer(v) for v in r[b"values"]
                        if isinstance(v, bytes)) if p is not None]


# --- messages ---------------------------------------------------------------

def rand_id():
    return os.urandom(20)


def query(tid, q, args):
    return bencode({"t": tid, "y": "q", "q": q, "a": args})


def ping(tid, nid):
    return query(tid, "ping", {"id": nid})


def find_node(tid, nid, target, want=None):
    a = {"id": nid, "target": target}
    if want is not None:
        a["want"] = list(want)
    return query(tid, "find_node", a)


def get_peers(tid, nid, info_hash, want=None, scrape=False, noseed=False):
    a = {"id": nid, "info_hash": info_hash}
    if want is not None:
        a["want"] = list(want)
    if scrape:
        a["scrape"] = 1
    if noseed:
        a["noseed"] = 1
    return query(tid, "get_peers", a)


def announce_peer(tid, nid, info_hash, port, token, implied_port=None,
                  seed=None):
    a = {"id": nid, "info_hash": info_hash, "port": port, "token": token}
    if implied_port is not None:
        a["implied_port"] = implied_port
    if seed is not None:
        a["seed"] = seed
    return query(tid, "announce_peer", a)


def sample_infohashes(tid, nid, target, want=None):
    a = {"id": nid, "target": target}
    if want is not None:
        a["want"] = list(want)
    return query(tid, "sample_infohashes", a)


def response(tid, nid, **fields):
    r = {"id": nid}
    r.update(fields)
    return bencode({"t": tid, "y": "r", "r": r})


def error(tid, code, text):
    return bencode({"t": tid, "y": "e", "e": [code, text]})


def kind(msg):
    """b"q", b"r", b"e" or None."""
    return msg.get(b"y") if isinstance(msg, dict) else None


def err_code(msg):
    e = msg.get(b"e") if isinstance(msg, dict) else None
    if isinstance(e, list) and e and isinstance(e[0], int):
        return e[0]
    return None


# --- sockets ----------------------------------------------------------------

def udp_socket(ip="127.0.0.1", port=0, rcvbuf=None, sndbuf=None):
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.bind((ip, port))
    s.setblocking(False)
    return s


def drain(s):
    """Every datagram waiting on s: [(bytes, addr)]."""
    out = []
    while True:
        try:
            out.append(s.recvfrom(65536))
        except (BlockingIOError, InterruptedError):
            return out


class Node:
    """One UDP socket on ip (port 0: any) speaking KRPC to a target."""

    def __init__(self, ip="127.0.0.1", port=0, nid=None, rcvbuf=None):
        self.sock = udp_socket(ip, port, rcvbuf=rcvbuf)
        self.addr = self.sock.getsockname()[:2]
        self.id = nid or rand_id()
        self._n = 0
        self.other = []         # datagrams read that were not the reply
        self.last_query = self.last_raw = None

    def tid(self):
        self._n += 1
        return struct.pack(">I", self._n)

    def send(self, to, data):
        self.sock.sendto(data, to)

    def recv(self, timeout):
        """[(bytes, addr)] read within timeout (at least one wait)."""
        p = select.poll()           # not select(): fds may pass 1024
        p.register(self.sock, select.POLLIN)
        r = p.poll(max(timeout, 0) * 1000)
        return drain(self.sock) if r else []

    def wait_tid(self, tid, timeout, src=None):
        """The decoded message with this "t" (from src if given), or None
        once timeout passes.  Others are kept in self.other."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for data, addr in self.recv(left):
                m = bdecode(data)
                if isinstance(m, dict) and m.get(b"t") == tid and \
                        (src is None or addr[:2] == tuple(src)):
                    self.last_raw = data
                    return m
                self.other.append((data, addr))

    def ask(self, to, build, *args, timeout=2.0, **kw):
        """Sends build(tid, self.id, *args, **kw) to to; the reply or
        None.  self.last_query and self.last_raw hold the bytes."""
        t = self.tid()
        self.last_query = build(t, self.id, *args, **kw)
        self.last_raw = None
        self.send(to, self.last_query)
        return self.wait_tid(t, timeout, src=to)

    def close(self):
        self.sock.close()


class Responder:
    """A fake DHT node on ip:port in a thread: answers ping, find_node,
    get_peers (token, nodes, and self.values[info_hash] if any),
    sample_infohashes and
    announce_peer like an honest node would, with self.nodes (a list of
    (id, ip, port)) as its view of the DHT.  Every query it gets is kept in
    self.queries as (monotonic time, decoded, addr).  mute: records only;
    die_on (b"get_peers", ...): closes its socket after answering that."""

    def __init__(self, ip="127.0.0.1", port=0, nid=None, nodes=(),
                 mute=False, values=None, die_on=None):
        self.sock = udp_socket(ip, port)
        self.addr = self.sock.getsockname()[:2]
        self.id = nid or rand_id()
        self.nodes = list(nodes)
        self.values = dict(values or {})    # info_hash -> [(ip, port)]
        self.mute = mute
        self.die_on = die_on        # a method: close after answering it
        self.died = False
        self.queries = []
        self.other = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _answer(self, m):
        q = m.get(b"q")
        a = m.get(b"a") if isinstance(m.get(b"a"), dict) else {}
        t = m.get(b"t")
        v4 = b"".join(compact_node(i, ip, p) for i, ip, p in self.nodes
                      if ":" not in ip)
        v6 = b"".join(compact_node(i, ip, p) for i, ip, p in self.nodes
                      if ":" in ip)
        if q == b"ping" or q == b"announce_peer":
            return response(t, self.id)
        if q in (b"find_node", b"get_peers", b"sample_infohashes"):
            f = {}
            want = a.get(b"want") if isinstance(a.get(b"want"),
                                                list) else []
            if v4 and (not want or b"n4" in want):
                f["nodes"] = v4
            if v6 and b"n6" in want:
                f["nodes6"] = v6
            if q == b"get_peers":
                f["token"] = b"tok" + self.addr[0].encode()[-5:]
                vals = self.values.get(a.get(b"info_hash"))
                if vals:
                    f["values"] = [compact_peer(ip, p) for ip, p in vals]
            if q == b"sample_infohashes":
                f.update(interval=60, num=0, samples=b"")
            return response(t, self.id, **f)
        return error(t, 204, "method unknown")

    def _run(self):
        p = select.poll()
        p.register(self.sock, select.POLLIN)
        while not self._stop.is_set():
            try:
                r = p.poll(50)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                got = drain(self.sock)
            except OSError:
                return
            for data, addr in got:
                m = bdecode(data)
                if kind(m) != b"q":
                    with self._lock:
                        self.other.append((data, addr))
                    continue
                with self._lock:
                    self.queries.append((time.monotonic(), m, addr))
                if self.mute:
                    continue
                try:
                    self.sock.sendto(self._answer(m), addr)
                except OSError:
                    pass
                if self.die_on is not None and m.get(b"q") == self.die_on:
                    self.died = True
                    self.sock.close()   # what comes next: ICMP unreachable
                    return

    def seen(self):
        with self._lock:
            return list(self.queries)

    def close(self):
        self._stop.set()
        self._t.join(2)
        self.sock.close()           # (again, if it died: harmless)
