"""Scripted BitTorrent trackers for gtorrent's tracker tests, loopback only.

- HttpTracker: a threaded http.server on 127.0.0.1 or ::1 answering
  announces (BEP 3/23/7) and scrapes (BEP 48) honestly or with one of the
  hostile behaviours in HTTP_BEHAVIOURS / HTTP_SCRAPE_BEHAVIOURS; it
  records each request with its decoded query.
- UdpTracker: a thread with one UDP socket speaking BEP 15: connect is
  always answered correctly, announces and scrapes honestly or with one of
  UDP_BEHAVIOURS; it records each datagram it understood.
- Small helpers the tracker tests share: torrent files with given tiers,
  compact peers, a peak-RSS watch on a process, fake announces.

Both trackers have start()/stop() and work as context managers; their
threads are daemons, every blocking call has a timeout, and stop() joins
them (bounded).  Nothing here sends traffic anywhere but 127.0.0.1/::1.
"""

import http.server
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
import zlib

import helpers
import ports

KIB = 1024
MIB = 1024 * 1024

HOLD_MAX = 60.0          # seconds a silent tracker holds a request at most
JOIN_WAIT = 3.0          # seconds stop() waits for each thread

UDP_PROTOCOL_ID = 0x41727101980
UDP_CONNECT, UDP_ANNOUNCE, UDP_SCRAPE, UDP_ERROR = 0, 1, 2, 3
UDP_EVENTS = {0: None, 1: "completed", 2: "started", 3: "stopped"}

# announce behaviours of HttpTracker
HTTP_BEHAVIOURS = (
    "honest",          # compact peers (peers / peers6), counts if known
    "dict",            # non-compact peers from dict_peers (any port)
    "raw_peers",       # "peers" is exactly raw_peers (e.g. 13 bytes)
    "failure",         # failure reason
    "big_body",        # a big_body_size-byte body (Content-Length said)
    "gzip_bomb",       # Content-Encoding: gzip, inflates to bomb_size
    "redirect_file",   # 302 to file:///etc/passwd
    "redirect_loop",   # 302 to the same URL, hop=N added, for ever
    "garbage",         # 200 with bytes that are not bencode
    "silent",          # accepts, reads the request, never answers
)
# scrape behaviours of HttpTracker
HTTP_SCRAPE_BEHAVIOURS = ("honest", "failure", "big_body", "gzip_bomb",
                          "garbage", "huge_files", "silent", "not_found")
# announce and scrape behaviours of UdpTracker (connect is always honest)
UDP_BEHAVIOURS = (
    "honest",          # the right reply
    "wrong_txid",      # the right reply with another transaction id
    "short",           # 7 bytes
    "big_error",       # action 3 with a 60,000-byte message
    "truncated",       # the right header, then 5 bytes of an entry
    "silent",          # nothing
)
BIG_ERROR_LEN = 60000


# --- helpers ---------------------------------------------------------------

def is_v6(host):
    return ":" in host


def url_host(host):
    return "[%s]" % host if is_v6(host) else host


def compact(host, port):
    """The compact form of one peer: 6 bytes (IPv4) or 18 (IPv6)."""
    fam = socket.AF_INET6 if is_v6(host) else socket.AF_INET
    return socket.inet_pton(fam, host) + struct.pack(">H", port)


def torrent_with(raw_info, tiers):
    """A .torrent holding raw_info (so the same info-hash) and the tiers
    given ([[url, ...], ...]): "announce" is the first URL, and
    "announce-list" is there when tiers has more than one URL.  No tiers:
    no announce keys at all."""
    urls = [u for t in tiers for u in t]
    out = [b"d"]
    if urls:
        out.append(helpers.bencode(b"announce") + helpers.bencode(urls[0]))
    if len(urls) > 1:
        out.append(helpers.bencode(b"announce-list") +
                   helpers.bencode([list(t) for t in tiers if t]))
    out.append(b"4:info" + raw_info + b"e")
    return b"".join(out)


def peak_rss_kib(pid):
    """VmHWM of pid in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1])
    except (OSError, ValueError):
        pass
    return None


class RssWatch:
    """Samples a process's VmHWM (peak resident set) every step seconds
    until it exits (or stop()); peak_kib is the highest seen.  Bounded:
    the thread ends when the process does, or after limit seconds."""

    def __init__(self, pid, step=0.02, limit=180.0):
        self.pid = pid
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._limit = limit
        self._step = step
        self._t = threading.Thread(target=self._run, daemon=True,
                                   name="rss-%d" % pid)
        self._t.start()

    def _run(self):
        end = time.monotonic() + self._limit
        while not self._stop.is_set() and time.monotonic() < end:
            v = peak_rss_kib(self.pid)
            if v is None:
                return
            self.samples += 1
            self.peak_kib = max(self.peak_kib, v)
            self._stop.wait(self._step)

    def stop(self):
        self._stop.set()
        self._t.join(JOIN_WAIT)
        return self.peak_kib

    @property
    def peak_mib(self):
        return self.peak_kib / 1024.0


def fake_announce(announce_url, info_hash, port, left, event="started",
                  peer_id=None, timeout=3.0, retry_for=5.0):
    """An HTTP announce, as a peer that does not exist (a tracker counts
    it as a seeder when left is 0, a leecher otherwise).  A "failure
    reason" is retried for retry_for seconds (opentracker loads its
    whitelist in a thread: the first announces may be refused).  The
    decoded reply, or raises."""
    deadline = time.monotonic() + retry_for
    while True:
        d = _fake_announce_once(announce_url, info_hash, port, left, event,
                                peer_id, timeout)
        if b"failure reason" not in d:
            return d
        if time.monotonic() >= deadline:
            raise AssertionError("tracker refused the announce: %r" % d)
        time.sleep(0.1)


def _fake_announce_once(announce_url, info_hash, port, left, event,
                        peer_id, timeout):
    peer_id = peer_id or (b"-PY0001-" + os.urandom(12))
    q = ("info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d"
         "&compact=1&numwant=0" % (
             urllib.parse.quote_from_bytes(info_hash),
             urllib.parse.quote_from_bytes(peer_id), port, left))
    if event:
        q += "&event=" + event
    sep = "&" if "?" in announce_url else "?"
    with urllib.request.urlopen(announce_url + sep + q,
                                timeout=timeout) as r:
        return helpers.bdecode(r.read())[0]


_bomb_cache = {}


def gzip_bomb(size):
    """A gzip stream inflating to size bytes of zeros (a multiple of 1 MiB),
    about size/1000 bytes long.  Built from one deflate block after a full
    flush, repeated (each is the same once the window is reset)."""
    if size in _bomb_cache:
        return _bomb_cache[size]
    n = size // MIB
    assert n >= 2 and n * MIB == size
    z = bytes(MIB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(z, crc)
    body = (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + first +
            again * (n - 1) + end + struct.pack("<II", crc, size & 0xFFFFFFFF))
    _bomb_cache[size] = body
    return body


def parse_query(qs):
    """{name: [bytes, ...]} of a query string; values percent-decoded to
    bytes (no '+' to space: a binary info_hash keeps its bytes)."""
    out = {}
    for part in qs.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        key = urllib.parse.unquote_to_bytes(k).decode("latin-1")
        out.setdefault(key, []).append(urllib.parse.unquote_to_bytes(v))
    return out


def _first_int(q, key):
    v = q.get(key)
    if not v:
        return None
    try:
        return int(v[0])
    except ValueError:
        return None


# --- the HTTP tracker ------------------------------------------------------

class _HttpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, tracker, addr, family):
        self.address_family = family
        self.tracker = tracker
        super().__init__(addr, _HttpHandler)

    def process_request(self, request, client_address):
        t = threading.Thread(target=self.process_request_thread,
                             args=(request, client_address), daemon=True,
                             name="http-tracker-conn")
        self.tracker._track(t)
        t.start()

    def handle_error(self, request, client_address):
        # a client that hangs up mid-reply is part of the game
        self.tracker._note("handler error: %r" % (sys.exc_info()[1],))


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "scripted-tracker/1"
    timeout = 10            # seconds, every socket operation

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.server.tracker._serve(self)

    def send_body(self, body, ctype="text/plain", status=200, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class HttpTracker:
    """A scripted HTTP tracker on host (127.0.0.1 or ::1).

    behaviour: one of HTTP_BEHAVIOURS for announces, or a callable
    f(tracker, handler, request) that writes the reply itself.
    scrape_behaviour: one of HTTP_SCRAPE_BEHAVIOURS (or a callable).
    Knobs (attributes, may be changed while it runs): peers [(host, port)]
    (IPv4 ones go in "peers", IPv6 ones in "peers6"); dict_peers
    [(ip, port)]; raw_peers (bytes); counts {info_hash: (complete,
    downloaded, incomplete)} for scrapes and announce replies (None: the
    key is left out); interval;
    big_body_size; bomb_size.

    requests: one dict per request: kind ("announce"/"scrape"/"other"),
    path, query ({name: [bytes]}), info_hashes, event, port, left, hop,
    headers, t (monotonic), served (the behaviour's reply started).
    """

    def __init__(self, host="127.0.0.1", port=0, behaviour="honest",
                 scrape_behaviour="honest", path="/announce"):
        self.host = host
        self.port = port
        self.path = path
        self.behaviour = behaviour
        self.scrape_behaviour = scrape_behaviour
        self.peers = []
        self.dict_peers = []
        self.raw_peers = None
        self.counts = {}
        self.interval = 1800
        self.big_body_size = 128 * MIB
        self.bomb_size = 512 * MIB
        self.requests = []
        self.notes = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self._threads = []
        self._srv = None
        self._main = None

    # lifecycle

    def start(self):
        fam = socket.AF_INET6 if is_v6(self.host) else socket.AF_INET
        self._srv = _HttpServer(self, (self.host, self.port), fam)
        self.port = self._srv.server_address[1]
        self._main = threading.Thread(
            target=self._srv.serve_forever, kwargs={"poll_interval": 0.1},
            daemon=True, name="http-tracker")
        self._main.start()
        return self

    def stop(self):
        self.stopping.set()
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server_close()
            self._main.join(JOIN_WAIT)
            self._srv = None
        with self.lock:
            threads = list(self._threads)
        for t in threads:
            t.join(JOIN_WAIT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _track(self, t):
        with self.lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)

    def _note(self, text):
        with self.lock:
            self.notes.append(text)

    @property
    def announce(self):
        return "http://%s:%d%s" % (url_host(self.host), self.port, self.path)

    @property
    def base(self):
        return "http://%s:%d" % (url_host(self.host), self.port)

    # what it saw

    def announces(self):
        with self.lock:
            return [r for r in self.requests if r["kind"] == "announce"]

    def scrapes(self):
        with self.lock:
            return [r for r in self.requests if r["kind"] == "scrape"]

    def events(self):
        """The event of each announce in order (None: a regular one)."""
        return [r["event"] for r in self.announces()]

    def served(self):
        with self.lock:
            return [r for r in self.requests if r["served"] is not None]

    def describe(self):
        with self.lock:
            reqs = ["%.3f %s %s event=%s left=%s hop=%s served=%s" % (
                r["t"], r["kind"], r["path"], r["event"], r["left"],
                r["hop"], r["served"] is not None)
                for r in self.requests[-20:]]
            return "HttpTracker %s (%s/%s): %d requests\n  %s\nnotes %r" % (
                self.announce, self.behaviour, self.scrape_behaviour,
                len(self.requests), "\n  ".join(reqs), self.notes[-5:])

    def __repr__(self):
        return self.describe()

    # serving

    def _serve(self, h):
        path, _, qs = h.path.partition("?")
        q = parse_query(qs)
        last = path.rsplit("/", 1)[-1]
        kind = ("announce" if last.startswith("announce") else
                "scrape" if last.startswith("scrape") else "other")
        ev = q.get("event", [None])[0]
        req = {"kind": kind, "path": path, "query": q,
               "info_hashes": q.get("info_hash", []),
               "event": ev.decode("latin-1") if ev else None,
               "port": _first_int(q, "port"), "left": _first_int(q, "left"),
               "hop": _first_int(q, "hop") or 0,
               "headers": dict(h.headers.items()),
               "t": time.monotonic(), "served": None}
        with self.lock:
            self.requests.append(req)
        if kind == "announce":
            how = self.behaviour
        elif kind == "scrape":
            how = self.scrape_behaviour
        else:
            h.send_body(b"not here", status=404)
            return
        req["served"] = time.monotonic()
        if callable(how):
            how(self, h, req)
            return
        getattr(self, "_http_" + how)(h, req)

    def _announce_dict(self, req):
        d = {"interval": self.interval}
        ih = req["info_hashes"][0] if req["info_hashes"] else None
        if ih in self.counts:
            c, _, i = self.counts[ih]
            if c is not None:
                d["complete"] = c
            if i is not None:
                d["incomplete"] = i
        return d

    def _http_honest(self, h, req):
        if req["kind"] == "scrape":
            files = {}
            for ih in req["info_hashes"]:
                c, dl, i = self.counts.get(ih, (0, 0, 0))
                # a figure of None is left out of the reply
                files[ih] = {k: v for k, v in (("complete", c),
                                               ("downloaded", dl),
                                               ("incomplete", i))
                             if v is not None}
            h.send_body(helpers.bencode({"files": files}))
            return
        d = self._announce_dict(req)
        d["peers"] = b"".join(compact(a, p) for a, p in self.peers
                              if not is_v6(a))
        six = b"".join(compact(a, p) for a, p in self.peers if is_v6(a))
        if six:
            d["peers6"] = six
        h.send_body(helpers.bencode(d))

    def _http_dict(self, h, req):
        d = self._announce_dict(req)
        d["peers"] = [{"ip": a, "port": p, "peer id": os.urandom(20)}
                      for a, p in self.dict_peers]
        h.send_body(helpers.bencode(d))

    def _http_raw_peers(self, h, req):
        d = self._announce_dict(req)
        d["peers"] = self.raw_peers
        h.send_body(helpers.bencode(d))

    def _http_failure(self, h, req):
        h.send_body(helpers.bencode({"failure reason":
                                     "scripted failure"}))

    def _http_not_found(self, h, req):
        h.send_body(b"no scrape here", status=404)

    def _http_garbage(self, h, req):
        h.send_body(b"d5:files" + b"\xff" * 64 + b"i12" + b"<html>" * 20)

    def _http_huge_files(self, h, req):
        # a well-formed scrape reply naming 200,000 other torrents (~10 MB)
        n = 200000
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        entry = b"d8:completei1e10:downloadedi1e10:incompletei1ee"
        body_len = len(b"d5:filesd") + n * (23 + len(entry)) + len(b"ee")
        h.send_header("Content-Length", str(body_len))
        h.end_headers()
        try:
            h.wfile.write(b"d5:filesd")
            for k in range(0, n, 4096):
                chunk = b"".join(b"20:" + struct.pack(">I", j) + bytes(16) +
                                 entry
                                 for j in range(k, min(n, k + 4096)))
                if self.stopping.is_set():
                    return
                h.wfile.write(chunk)
            h.wfile.write(b"ee")
        except OSError:
            self._note("huge_files: client hung up")

    def _http_big_body(self, h, req):
        size = self.big_body_size
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        # a string that claims to be nearly as long as the body
        head = b"d8:intervali1800e5:peers%d:" % (size - 40)
        chunk = b"\x7f\x00\x00\x01\x00\x01" * (MIB // 6)
        sent = 0
        try:
            h.wfile.write(head)
            sent = len(head)
            while sent < size and not self.stopping.is_set():
                part = chunk[:size - sent]
                h.wfile.write(part)
                sent += len(part)
        except OSError:
            self._note("big_body: client hung up after %d bytes" % sent)

    def _http_gzip_bomb(self, h, req):
        body = gzip_bomb(self.bomb_size)
        try:
            h.send_body(body, extra=[("Content-Encoding", "gzip")])
        except OSError:
            self._note("gzip_bomb: client hung up")

    def _http_redirect_file(self, h, req):
        h.send_response(302)
        h.send_header("Location", "file:///etc/passwd")
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _http_redirect_loop(self, h, req):
        path, _, qs = h.path.partition("?")
        parts = [p for p in qs.split("&") if p and not p.startswith("hop=")]
        parts.append("hop=%d" % (req["hop"] + 1))
        h.send_response(302)
        h.send_header("Location", "%s%s?%s" % (self.base, path,
                                               "&".join(parts)))
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _http_silent(self, h, req):
        # holds the connection, reading nothing more, until stop()
        self.stopping.wait(HOLD_MAX)


# --- the UDP tracker -------------------------------------------------------

class UdpTracker:
    """A scripted BEP 15 tracker on host (127.0.0.1 or ::1), one thread.

    Connect requests always get a correct reply with a fresh connection id;
    announces get behaviour, scrapes scrape_behaviour (UDP_BEHAVIOURS, or
    a callable f(tracker, packet, addr, txid) -> bytes or None).  An
    announce or scrape with an unknown connection id is refused with an
    error (and counted in bad_conn_ids).  Knobs as HttpTracker: peers
    [(host, port)] (those of the socket's family are sent), counts,
    interval.

    requests: one dict per datagram understood: action ("connect",
    "announce", "scrape", "bad"), addr, len, txid, event, info_hash,
    hashes, port, left, num_want, conn_ok, t (monotonic), served (a reply
    went out).
    """

    def __init__(self, host="127.0.0.1", port=0, behaviour="honest",
                 scrape_behaviour="honest"):
        self.host = host
        self.port = port
        self.behaviour = behaviour
        self.scrape_behaviour = scrape_behaviour
        self.peers = []
        self.counts = {}
        self.interval = 1800
        self.requests = []
        self.bad_conn_ids = 0
        self.conn_ids = set()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.sock = None
        self._t = None

    def start(self):
        fam = socket.AF_INET6 if is_v6(self.host) else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((self.host, self.port))
        self.port = self.sock.getsockname()[1]
        self._t = threading.Thread(target=self._run, daemon=True,
                                   name="udp-tracker")
        self._t.start()
        return self

    def stop(self):
        self.stopping.set()
        if self._t is not None:
            self._t.join(JOIN_WAIT)
            self._t = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def announce(self):
        return "udp://%s:%d/announce" % (url_host(self.host), self.port)

    def announces(self):
        with self.lock:
            return [r for r in self.requests if r["action"] == "announce"]

    def scrapes(self):
        with self.lock:
            return [r for r in self.requests if r["action"] == "scrape"]

    def events(self):
        return [r["event"] for r in self.announces()]

    def served(self):
        with self.lock:
            return [r for r in self.requests
                    if r["action"] in ("announce", "scrape")]

    def describe(self):
        with self.lock:
            reqs = ["%.3f %s len=%d txid=%s event=%s conn_ok=%s served=%s"
                    % (r["t"], r["action"], r["len"], r["txid"], r["event"],
                       r["conn_ok"], r["served"])
                    for r in self.requests[-20:]]
        return "UdpTracker %s (%s/%s): bad conn ids %d\n  %s" % (
            self.announce, self.behaviour, self.scrape_behaviour,
            self.bad_conn_ids, "\n  ".join(reqs))

    def __repr__(self):
        return self.describe()

    def _run(self):
        while not self.stopping.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.1)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                pkt, addr = self.sock.recvfrom(65536)
            except OSError:
                continue
            try:
                out = self._handle(pkt, addr)
            except Exception as e:      # keep serving; note it
                out = None
                with self.lock:
                    self.requests.append({"action": "bad", "addr": addr,
                                          "len": len(pkt), "event": None,
                                          "conn_ok": None, "t":
                                          time.monotonic(), "served": False,
                                          "error": repr(e)})
            if out:
                try:
                    self.sock.sendto(out, addr)
                except OSError:
                    pass

    def _record(self, **kw):
        rec = {"action": None, "addr": None, "len": 0, "txid": None,
               "event": None, "info_hash": None, "hashes": [],
               "port": None, "left": None, "num_want": None,
               "conn_ok": None, "t": time.monotonic(), "served": False}
        rec.update(kw)
        with self.lock:
            self.requests.append(rec)
        return rec

    def _handle(self, pkt, addr):
        if len(pkt) < 16:
            self._record(action="bad", addr=addr, len=len(pkt))
            return None
        cid, action, txid = struct.unpack(">QII", pkt[:16])
        if action == UDP_CONNECT:
            if cid != UDP_PROTOCOL_ID:
                self._record(action="bad", addr=addr, len=len(pkt))
                return None
            new = struct.unpack(">Q", os.urandom(8))[0]
            with self.lock:
                self.conn_ids.add(new)
            rec = self._record(action="connect", addr=addr, len=len(pkt),
                               txid=txid)
            rec["served"] = True
            return struct.pack(">IIQ", UDP_CONNECT, txid, new)
        conn_ok = cid in self.conn_ids
        if action == UDP_ANNOUNCE and len(pkt) >= 98:
            (ih, pid, down, left, up, ev, ip, key, num_want,
             port) = struct.unpack(">20s20sQQQIIIiH", pkt[16:98])
            rec = self._record(action="announce", addr=addr, len=len(pkt),
                               txid=txid, event=UDP_EVENTS.get(ev, ev),
                               info_hash=ih, hashes=[ih], port=port,
                               left=left, num_want=num_want,
                               conn_ok=conn_ok, options=pkt[98:])
            how = self.behaviour
        elif action == UDP_SCRAPE and len(pkt) >= 36 and \
                (len(pkt) - 16) % 20 == 0:
            hashes = [pkt[i:i + 20] for i in range(16, len(pkt), 20)]
            rec = self._record(action="scrape", addr=addr, len=len(pkt),
                               txid=txid, hashes=hashes, conn_ok=conn_ok)
            how = self.scrape_behaviour
        else:
            self._record(action="bad", addr=addr, len=len(pkt), txid=txid)
            return None
        if not conn_ok:
            with self.lock:
                self.bad_conn_ids += 1
            rec["served"] = True
            return struct.pack(">II", UDP_ERROR, txid) + b"bad connection id"
        if callable(how):
            out = how(self, pkt, addr, txid)
        else:
            out = self._reply(how, rec, txid)
        rec["served"] = out is not None
        return out

    def _honest(self, rec, txid):
        if rec["action"] == "scrape":
            body = b"".join(struct.pack(">III", *(x or 0 for x in f))
                            for f in (self.counts.get(h, (0, 0, 0))
                                      for h in rec["hashes"]))
            return struct.pack(">II", UDP_SCRAPE, txid) + body
        c, _, i = (x or 0 for x in self.counts.get(rec["info_hash"],
                                                   (0, 0, 0)))
        v6 = self.sock.family == socket.AF_INET6
        peers = b"".join(compact(a, p) for a, p in self.peers
                         if is_v6(a) == v6)
        return struct.pack(">IIIII", UDP_ANNOUNCE, txid, self.interval, i,
                           c) + peers

    def _reply(self, how, rec, txid):
        if how == "honest":
            return self._honest(rec, txid)
        if how == "wrong_txid":
            return self._honest(rec, txid ^ 0x5A5A5A5A)
        if how == "short":
            return self._honest(rec, txid)[:7]
        if how == "big_error":
            msg = b"hostile error: " + b"E" * (BIG_ERROR_LEN - 15)
            return struct.pack(">II", UDP_ERROR, txid) + msg
        if how == "truncated":
            action = UDP_SCRAPE if rec["action"] == "scrape" else UDP_ANNOUNCE
            return struct.pack(">II", action, txid) + b"\x00\x00\x00\x01\x00"
        if how == "silent":
            return None
        raise ValueError("unknown UDP behaviour %r" % how)


def free_port6():
    """A port free on ::1 now (this worker's block, ports.py), or None
    when ::1 is unusable."""
    try:
        return ports.free_port("::1")
    except (OSError, RuntimeError):
        return None


def ipv6_unusable():
    """None if TCP and UDP sockets work on ::1, else why not."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        try:
            s = socket.socket(socket.AF_INET6, kind)
        except OSError as e:
            return "no IPv6 sockets: %s" % e
        try:
            s.bind(("::1", 0))
            if kind == socket.SOCK_STREAM:
                s.listen(1)
                c = socket.create_connection(s.getsockname()[:2], timeout=2)
                c.close()
        except OSError as e:
            return "::1 unusable: %s" % e
        finally:
            s.close()
    return None


class Trap:
    """A TCP listener on 127.0.0.1:port that counts connections (for ports
    gtorrent must never dial).  bound is False when the port was taken."""

    def __init__(self, port):
        self.port = port
        self.accepted = 0
        self.bound = False
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", port))
            self.sock.listen(8)
            self.bound = True
        except OSError:
            self.sock.close()
            return
        self._t = threading.Thread(target=self._run, daemon=True,
                                   name="trap-%d" % port)
        self._t.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.1)
                if r:
                    c, _ = self.sock.accept()
                    self.accepted += 1
                    c.close()
            except OSError:
                return

    def stop(self):
        if not self.bound:
            return
        self.stopping.set()
        self._t.join(JOIN_WAIT)
        self.sock.close()
        self.bound = False
