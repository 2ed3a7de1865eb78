"""Drivers for mainstream BitTorrent clients on loopback, for the tests
that check that gtorrent trades with each of them (test_clients.py).

One class per client: libtorrent (python3-libtorrent, in this process),
qBittorrent (qbittorrent-nox), Transmission (transmission-cli), aria2c,
rTorrent and ctorrent.  Each driver has

  start_seeder(base)    seed the torrent's data found under base
  start_leecher(out)    download the torrent into out
  wait_complete(t)      True once the client says it completed (its
                        completion hook ran), False after t seconds or
                        when it died first
  stop()                stop it by PID (SIGINT/SIGTERM, SIGKILL after a
                        grace period), close its log
  describe()            command line, exit status and log tails

Every client runs in its own folder under the test's tmp_path, with HOME
and the XDG_* folders pointed there (nothing is written to the real
home), listens on 127.0.0.1 only on a free port, finds peers through the
torrent's tracker only, and has DHT, local peer discovery, PEX, UPnP and
NAT-PMP off.  Each class says how its client is run and what is odd
about it on loopback (Transmission and rTorrent never dial 127.x peers:
dials_loopback is False; ctorrent needs -I 0.0.0.0; aria2c uses HTTP
trackers only).  sockets_of()/off_loopback() let a test check that a
client bound nothing off loopback.
"""

import os
import shutil
import signal
import subprocess
import time

import peers

LOOPBACK = peers.LOOPBACK
STOP_GRACE = 5.0          # seconds a client has to exit after a signal


def _proc_net():
    """{socket inode: (proto, local ip, local port)} of every TCP/UDP
    socket in this network namespace."""
    import ipaddress
    socks = {}
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open("/proc/net/" + proto) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            col = row.split()
            hexip, hexport = col[1].split(":")
            raw = bytes.fromhex(hexip)
            # /proc shows each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            socks[col[9]] = (proto, str(ipaddress.ip_address(raw)),
                             int(hexport, 16))
    return socks


def sockets_of(pid):
    """[(proto, local ip, local port)] of the TCP/UDP sockets process pid
    holds (empty once it is gone)."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return []
    for fd in fds:
        try:
            t = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            inodes.add(t[8:-1])
    table = _proc_net()
    return sorted(table[i] for i in inodes if i in table)


def off_loopback(socks):
    """The sockets bound to an address that is not loopback (a socket
    not bound at all, 0.0.0.0 or :: with port 0, does not count)."""
    import ipaddress
    bad = []
    for proto, ip, port in socks:
        a = ipaddress.ip_address(ip)
        if getattr(a, "ipv4_mapped", None):
            a = a.ipv4_mapped
        if a.is_loopback or (a.is_unspecified and port == 0):
            continue
        bad.append((proto, ip, port))
    return bad


def _sh_quote(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


class Client:
    """A client run as a child process; subclasses say how."""

    name = "client"
    exe = None               # binary looked up on PATH
    stop_signal = signal.SIGINT
    stop_grace = STOP_GRACE
    # False: it never dials a peer at 127.x, so a seeder must dial it
    dials_loopback = True

    def __init__(self, workdir, torrent, meta):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.torrent = str(torrent)
        self.meta = meta
        self.port = peers.free_port()
        self.marker = os.path.join(self.dir, "completed")
        self.log_path = os.path.join(self.dir, "stdout.log")
        self.extra_logs = []
        self.proc = None
        self.args = None
        self.log = None
        self.t0 = None
        self.role = None
        self.exposed = set()     # sockets seen bound off loopback
        home = os.path.join(self.dir, "home")
        self.env = dict(os.environ)
        self.env.update({
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "run"),
            "TMPDIR": os.path.join(self.dir, "tmp"),
            "LC_ALL": "C.UTF-8",
        })
        for k in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME",
                  "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "TMPDIR"):
            os.makedirs(self.env[k], mode=0o700, exist_ok=True)
        self.hook = self._write_hook()

    @classmethod
    def missing(cls):
        """Why this client cannot run here, or None."""
        if cls.exe and shutil.which(cls.exe) is None:
            return "%s not installed (%s)" % (cls.exe, cls.name)
        return None

    def _write_hook(self):
        """A completion script that creates self.marker."""
        p = os.path.join(self.dir, "on-complete.sh")
        with open(p, "w") as f:
            f.write("#!/bin/sh\n: > %s\n" % _sh_quote(self.marker))
        os.chmod(p, 0o755)
        return p

    def data_path(self, base):
        """Where the torrent's file or folder is under base."""
        return os.path.join(str(base), self.meta.name)

    # subclasses: argv (and config files) for one role
    def seeder_args(self, base):
        raise NotImplementedError

    def leecher_args(self, out):
        raise NotImplementedError

    def _spawn(self, args, role):
        assert self.proc is None, "%s started twice" % self.name
        self.role = role
        self.args = [str(a) for a in args]
        self.log = open(self.log_path, "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.args, cwd=self.dir, env=self.env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        return self

    def start_seeder(self, base):
        os.makedirs(str(base), exist_ok=True)
        return self._spawn(self.seeder_args(str(base)), "seeder")

    def start_leecher(self, out):
        os.makedirs(str(out), exist_ok=True)
        return self._spawn(self.leecher_args(str(out)), "leecher")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def completed(self):
        return os.path.exists(self.marker)

    def sample_sockets(self):
        """Notes (in self.exposed) any socket of the client bound to an
        address off loopback; the tests assert there is none."""
        if self.alive() and self.proc is not None:
            self.exposed.update(off_loopback(sockets_of(self.proc.pid)))

    def wait_complete(self, timeout):
        """True once the completion hook ran; False on timeout or when
        the client exited without running it.  Samples its sockets every
        half second meanwhile."""
        deadline = time.monotonic() + timeout
        next_sample = 0
        while time.monotonic() < deadline:
            if self.completed():
                return True
            if not self.alive():
                # an exiting client may run its hook just before
                time.sleep(0.2)
                return self.completed()
            if time.monotonic() >= next_sample:
                self.sample_sockets()
                next_sample = time.monotonic() + 0.5
            time.sleep(0.1)
        return self.completed()

    @property
    def elapsed(self):
        return 0.0 if self.t0 is None else time.monotonic() - self.t0

    def stop(self):
        """Stops the client by PID: stop_signal, then SIGKILL after
        stop_grace seconds.  Safe to call twice."""
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                p.send_signal(self.stop_signal)
                p.wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        if self.log is not None:
            self.log.close()
            self.log = None

    @staticmethod
    def _tail(path, lines):
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                n = f.tell()
                f.seek(max(0, n - 64 * 1024))
                text = f.read().decode("utf-8", "replace")
        except OSError as e:
            return "(%s)" % e
        # progress lines end in \r: keep the last state of each line
        out = [ln.split("\r")[-1] for ln in text.splitlines()]
        return "\n".join([ln for ln in out if ln.strip()][-lines:])

    def describe(self, lines=40):
        parts = ["<%s %s on 127.0.0.1:%d, rc=%r, %.1f s, completed=%s: %s" %
                 (self.name, self.role, self.port,
                  self.proc.poll() if self.proc else None, self.elapsed,
                  self.completed(), " ".join(self.args or []))]
        for p in [self.log_path] + self.extra_logs:
            parts.append("--- %s (tail):\n%s" % (
                os.path.relpath(p, self.dir), self._tail(p, lines)))
        return "\n".join(parts) + ">"

    def __repr__(self):
        return self.describe()


# --- libtorrent (in this process) -------------------------------------------

class Libtorrent(Client):
    """python3-libtorrent 2.0 through peers.LtPeer, in the test process
    (so it has no PID: stop() closes its session).  It reaches the
    tracker and dials whoever it names."""

    name = "libtorrent"

    def __init__(self, workdir, torrent, meta):
        super().__init__(workdir, torrent, meta)
        self.lt_peer = None

    @classmethod
    def missing(cls):
        import importlib
        try:
            importlib.import_module("libtorrent")
        except ImportError as e:
            return "python3-libtorrent not importable: %s" % e
        return None

    def _start(self, save, seeder, role):
        import libtorrent as lt
        self.role = role
        self.t0 = time.monotonic()
        self.lt_peer = peers.LtPeer(lt, self.meta.torrent, save,
                                    port=self.port, seeder=seeder)
        return self

    def start_seeder(self, base):
        return self._start(base, True, "seeder")

    def start_leecher(self, out):
        return self._start(out, False, "leecher")

    def alive(self):
        return self.lt_peer is not None and self.lt_peer.ses is not None

    def completed(self):
        if not self.alive():
            return os.path.exists(self.marker)
        st = self.lt_peer.status()
        if st.is_seeding and not os.path.exists(self.marker):
            # libtorrent says so before its disk thread wrote everything
            self.lt_peer.h.flush_cache()
            open(self.marker, "w").close()
        return os.path.exists(self.marker)

    def stop(self):
        if self.lt_peer is not None:
            self.lt_peer.close()

    def describe(self, lines=40):
        if not self.alive():
            return "<libtorrent %s on %d: closed>" % (self.role, self.port)
        st = self.lt_peer.status()
        return ("<libtorrent %s on 127.0.0.1:%d, %.1f s: state %s, progress "
                "%.3f, peers %d, up %d, down %d, tracker %r>" % (
                    self.role, self.port, self.elapsed, st.state,
                    st.progress, st.num_peers, st.total_payload_upload,
                    st.total_payload_download, st.current_tracker))


# --- qBittorrent -------------------------------------------------------------

class QBittorrent(Client):
    """qbittorrent-nox 4.5 with its own profile: the config below is all
    it knows.  Its Web UI must listen somewhere: 127.0.0.1 on a free
    port.  It stops on SIGTERM."""

    name = "qbittorrent"
    exe = "qbittorrent-nox"
    stop_signal = signal.SIGTERM

    def _config(self, save):
        profile = os.path.join(self.dir, "profile")
        cfg = os.path.join(profile, "qBittorrent", "config")
        os.makedirs(cfg, exist_ok=True)
        self.extra_logs = [os.path.join(profile, "qBittorrent", "data",
                                        "logs", "qbittorrent.log")]
        hook = "/bin/sh %s" % self.hook
        text = "\n".join([
            "[LegalNotice]",
            "Accepted=true",
            "",
            "[AutoRun]",
            "enabled=true",
            "program=%s" % hook,
            "",
            "[BitTorrent]",
            "Session\\DHTEnabled=false",
            "Session\\LSDEnabled=false",
            "Session\\PeXEnabled=false",
            "Session\\Port=%d" % self.port,
            "Session\\Interface=lo",
            "Session\\InterfaceAddress=127.0.0.1",
            "Session\\MultiConnectionsPerIp=true",
            "Session\\BTProtocol=TCP",
            "Session\\QueueingSystemEnabled=false",
            "Session\\DefaultSavePath=%s" % save,
            "Session\\TempPathEnabled=false",
            "Session\\AddExtensionToIncompleteFiles=false",
            "Session\\GlobalMaxRatio=-1",
            "",
            "[Network]",
            "PortForwardingEnabled=false",
            "",
            "[Preferences]",
            "Connection\\ResolvePeerCountries=false",
            "Connection\\UPnP=false",
            "General\\Locale=en",
            "WebUI\\Address=127.0.0.1",
            "WebUI\\Port=%d" % peers.free_port(),
            "WebUI\\UseUPnP=false",
            "",
        ])
        with open(os.path.join(cfg, "qBittorrent.conf"), "w") as f:
            f.write(text)
        return profile

    def _args(self, save, extra=()):
        profile = self._config(save)
        return [self.exe, "--profile=%s" % profile, "--save-path=%s" % save,
                "--add-paused=false", "--skip-dialog=true",
                "--torrenting-port=%d" % self.port] + list(extra) + \
            [self.torrent]

    def seeder_args(self, base):
        return self._args(base)

    def leecher_args(self, out):
        return self._args(out)


# --- Transmission ------------------------------------------------------------

class Transmission(Client):
    """transmission-cli 3.00 with settings.json in its own config folder.
    As a leecher, ratio limit 0 makes it stop and exit on completion; as
    a seeder there is no limit.  It never dials 127.x peers."""

    name = "transmission"
    exe = "transmission-cli"
    dials_loopback = False      # 127.x is "martian" to it

    def _config(self, save, seeder):
        import json
        cfg = os.path.join(self.dir, "config")
        os.makedirs(cfg, exist_ok=True)
        st = {
            "dht-enabled": False,
            "lpd-enabled": False,
            "pex-enabled": False,
            "utp-enabled": False,
            "port-forwarding-enabled": False,
            "rpc-enabled": False,
            "blocklist-enabled": False,
            "bind-address-ipv4": LOOPBACK,
            "bind-address-ipv6": "::1",
            "peer-port": self.port,
            "peer-port-random-on-start": False,
            "download-dir": save,
            "incomplete-dir-enabled": False,
            "watch-dir-enabled": False,
            "speed-limit-down-enabled": False,
            "speed-limit-up-enabled": False,
            "alt-speed-enabled": False,
            "idle-seeding-limit-enabled": False,
            "ratio-limit-enabled": not seeder,
            "ratio-limit": 0,
            "start-added-torrents": True,
            "message-level": 2,
        }
        with open(os.path.join(cfg, "settings.json"), "w") as f:
            json.dump(st, f, indent=1)
        return cfg

    def _args(self, save, seeder):
        cfg = self._config(save, seeder)
        return [self.exe, "-g", cfg, "-w", save, "-p", self.port, "-M",
                "-D", "-U", "-et", "-f", self.hook, self.torrent]

    def seeder_args(self, base):
        return self._args(base, True)

    def leecher_args(self, out):
        return self._args(out, False)


# --- aria2c -----------------------------------------------------------------

class Aria2(Client):
    """aria2c 1.36: exits after a download (--seed-time=0); seeds without
    hashing (--bt-seed-unverified) until stopped.  HTTP trackers only
    (it uses udp:// ones only with DHT on)."""

    name = "aria2c"
    exe = "aria2c"

    def _common(self, save):
        self.extra_logs = [os.path.join(self.dir, "aria2.log")]
        return [self.exe, "--no-conf", "--enable-dht=false",
                "--enable-dht6=false", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--disable-ipv6=true",
                "--interface=%s" % LOOPBACK,
                "--listen-port=%d" % self.port,
                "--dht-listen-port=%d" % self.port,
                "--file-allocation=none", "--summary-interval=0",
                "--console-log-level=notice",
                "--log=%s" % self.extra_logs[0], "--log-level=info",
                "--allow-overwrite=true", "--auto-file-renaming=false",
                "--bt-detach-seed-only=false",
                "--on-bt-download-complete=%s" % self.hook,
                "--dir=%s" % save]

    def seeder_args(self, base):
        return self._common(base) + [
            "--seed-ratio=0.0", "--bt-seed-unverified=true",
            "--check-integrity=false", self.torrent]

    def leecher_args(self, out):
        return self._common(out) + ["--seed-time=0", self.torrent]


# --- rTorrent ----------------------------------------------------------------

class RTorrent(Client):
    """rTorrent 0.9.8 as a daemon, configured by an rc file only (-n).
    It keeps one peer per IP: on loopback it may keep itself and then
    never dials a 127.0.0.1 seeder.  It stops on SIGINT."""

    name = "rtorrent"
    exe = "rtorrent"
    dials_loopback = False      # not to be relied on, see above

    def _rc(self, save):
        session = os.path.join(self.dir, "session")
        os.makedirs(session, exist_ok=True)
        log = os.path.join(self.dir, "rtorrent.log")
        self.extra_logs = [log]
        rc = os.path.join(self.dir, "rtorrent.rc")
        lines = [
            'directory.default.set = "%s"' % save,
            'session.path.set = "%s"' % session,
            "network.bind_address.set = 127.0.0.1",
            "network.port_range.set = %d-%d" % (self.port, self.port),
            "network.port_random.set = no",
            "dht.mode.set = disable",
            "protocol.pex.set = no",
            "trackers.use_udp.set = no",
            "system.daemon.set = true",
            'log.open_file = "main", "%s"' % log,
            'log.add_output = "info", "main"',
            'method.set_key = event.download.finished, done, '
            '"execute.nothrow = sh, %s"' % self.hook,
            'load.start_verbose = "%s"' % self.torrent,
            "",
        ]
        with open(rc, "w") as f:
            f.write("\n".join(lines))
        return rc

    def seeder_args(self, base):
        return [self.exe, "-n", "-o", "import=%s" % self._rc(base)]

    def leecher_args(self, out):
        return [self.exe, "-n", "-o", "import=%s" % self._rc(out)]


# --- ctorrent ----------------------------------------------------------------

class CTorrent(Client):
    """Enhanced CTorrent 3.3.2.  -I 0.0.0.0, or it drops every tracker
    peer at 127.0.0.1 (its own IP).  -e 0 exits on completion; a seeder
    gets -e 1 (an hour: the test stops it).  SIGINT stops it."""

    name = "ctorrent"
    exe = "ctorrent"
    stop_grace = 2.0        # on SIGINT it waits long for the tracker

    def _args(self, base, hours, extra=()):
        return [self.exe, "-e", hours] + list(extra) + [
            "-i", LOOPBACK, "-I", "0.0.0.0", "-p", self.port, "-X", self.hook,
            "-s", self.data_path(base),
            "-b", os.path.join(self.dir, "ctorrent.bf"), self.torrent]

    def seeder_args(self, base):
        # -f: seed mode without a hash check, or its first announce
        # says "incomplete" and the next comes ~15 s later
        return self._args(base, 1, ["-f"])

    def leecher_args(self, out):
        return self._args(out, 0)


DRIVERS = {c.name: c for c in (Libtorrent, QBittorrent, Transmission,
                                Aria2, RTorrent, CTorrent)}
NAMES = list(DRIVERS)


def driver(name):
    return DRIVERS[name]
