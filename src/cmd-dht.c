/* cmd-dht.c - `gtorrent dht get-peers` and `gtorrent dht ping`: the DHT as a tool */
#include <sys/socket.h>

#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "cmd.h"
#include "dht.h"
#include "log.h"
#include "magnet.h"
#include "reactor.h"
#include "session.h"
#include "sockaddr.h"

#define DHTC_PEERS_SECS		30	/* get-peers --timeout default */
#define DHTC_PING_SECS		5	/* ping --timeout default */
#define DHTC_MAX_SECS		3600
#define DHTC_MAX_PEERS		4096	/* distinct peers remembered */
#define DHTC_BOOT_GOOD		8	/* good nodes: the search may start */
#define DHTC_BOOT_SETTLE_MS	1000	/* ... or this long after the first
					   node entered the table */
#define DHTC_BOOT_MAX_MS	5000	/* ... or this long after the start */
#define DHTC_POLL_MS		100	/* the table looked at while waiting */
#define DHTC_RUNS		2	/* lookups while none finds a peer */
#define DHTC_RERUN_MS		1000	/* pause before the next one */
#define DHTC_MAX_VERSION	64	/* bytes of a node's "v" shown */

/*
 * Exit status: 0 peers found (get-peers) or an answer (ping); 1 none
 * within the timeout, or the DHT could not start; 2 bad command line; 3 a
 * bad info-hash or magnet; 130 interrupted.
 */

struct dhtc {
	const char		*cmd;		/* "dht get-peers", "dht ping" */
	struct reactor		*r;
	struct session		*s;
	struct dht		*dht;
	struct reactor_timer	*tick;		/* bootstrap wait, reruns, pings */
	struct reactor_timer	*deadline;	/* --timeout */
	unsigned		 secs;
	bool			 json;
	bool			 interrupted;
	bool			 finished;
	bool			 timed_out;	/* the deadline ended it */
	int			 rc;
	uint64_t		 start;

	/* get-peers */
	uint8_t			 ih[SHA1_LEN];
	struct netaddr		*peers;		/* distinct, in order found */
	size_t			 npeers;
	uint64_t		 first_node;	/* when the table got one, or 0 */
	bool			 searching;	/* a lookup is running */
	unsigned		 runs;		/* lookups started */
	unsigned		 families;	/* bit per family: lookups run */
	unsigned		 done;		/* ... and ended */
	uint32_t		 sent, answered;	/* all lookups' queries */

	/* ping */
	const char		*target_arg;	/* HOST:PORT as given */
	struct netaddr		 target;
	unsigned		 tries;
};

static void
dht_usage(FILE *f)
{
	fprintf(f,
	    "usage: gtorrent dht get-peers [OPTIONS] INFOHASH\n"
	    "       gtorrent dht ping [OPTIONS] HOST:PORT\n"
	    "\n"
	    "The DHT (BEP 5) as a tool, on a node of its own that holds no\n"
	    "torrent.\n"
	    "\n"
	    "get-peers joins the DHT, looks INFOHASH up (40 hex or 32 base32\n"
	    "digits, or a magnet URI) without announcing, and prints each\n"
	    "peer's address on stdout as it is found; a summary goes to\n"
	    "stderr.  It ends when the lookups are over or after the\n"
	    "timeout (default: %u s).\n"
	    "\n"
	    "ping asks the node at HOST:PORT (a name, IPv4 or [IPv6]) for\n"
	    "its id and prints the id (hex), its version (\"v\", escaped:\n"
	    "other bytes as \\xNN) and the round trip (default timeout: %u s).\n"
	    "\n"
	    "  -j, --json            get-peers: one JSON object a line per\n"
	    "                        peer, then a summary object; ping: one\n"
	    "                        JSON object\n"
	    "  -t, --timeout SECS    give up after SECS seconds (1 to %u)\n"
	    "      --dht-port N      our node's UDP port (default: any)\n"
	    "      --dht-bootstrap HOST:PORT\n"
	    "                        get-peers: join through this node (a name,\n"
	    "                        IPv4 or [IPv6]; repeatable; default: the\n"
	    "                        routing table kept in the state folder\n"
	    "                        and the well-known public routers)\n"
	    "  -v, --verbose         DHT events on stderr (-vv: debugging)\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "Exit status: 0 peers found (ping: an answer); 1 none within the\n"
	    "timeout, or the DHT could not start; 2 bad command line; 3 bad\n"
	    "info-hash or magnet; 130 interrupted.\n", DHTC_PEERS_SECS,
	    DHTC_PING_SECS, DHTC_MAX_SECS);
}

static double
dhtc_seconds(const struct dhtc *d)
{
	return (double)(reactor_now_ms(d->r) - d->start) / 1000.0;
}

static void
dhtc_finish(struct dhtc *d, int rc)
{
	if (d->finished)
		return;
	d->finished = true;
	d->rc = rc;
	reactor_timer_cancel(d->tick);
	reactor_timer_cancel(d->deadline);
	reactor_stop(d->r);
}

static void
dhtc_on_signal(void *arg, int signo)
{
	struct dhtc	*d = arg;

	log_debug("%s: signal %d: stopping", d->cmd, signo);
	d->interrupted = true;
	dhtc_finish(d, EXIT_INTERRUPTED);
}

/* ---- get-peers ---- */

/* INFOHASH: 40 hex or 32 base32 digits, or a magnet URI (magnet_parse). */
static int
dhtc_parse_hash(const char *cmd, const char *arg, uint8_t out[SHA1_LEN])
{
	struct magnet	 m;
	char		 err[GT_ERRLEN];
	char		*uri;
	size_t		 i, len = strlen(arg);
	enum gt_err	 e;

	if (strncasecmp(arg, "magnet:", 7) != 0) {
		for (i = 0; i < len; i++)
			if (!((arg[i] >= '0' && arg[i] <= '9') ||
			    (arg[i] >= 'a' && arg[i] <= 'z') ||
			    (arg[i] >= 'A' && arg[i] <= 'Z')))
				break;
		if (i < len || (len != 2 * SHA1_LEN && len != 32)) {
			cmd_error("%s: '%s' is not an info-hash (40 hex or 32 "
			    "base32 digits, or a magnet URI)", cmd, arg);
			return EXIT_BADINPUT;
		}
		uri = xasprintf("magnet:?xt=urn:btih:%s", arg);
	} else
		uri = xstrdup(arg);
	memset(&m, 0, sizeof(m));
	e = magnet_parse(&m, uri, err);
	free(uri);
	if (e != GT_OK) {
		if (strncasecmp(arg, "magnet:", 7) == 0)
			cmd_error("%s: magnet: %s", cmd, err);
		else
			cmd_error("%s: '%s' is not an info-hash (40 hex or 32 "
			    "base32 digits, or a magnet URI)", cmd, arg);
		return EXIT_BADINPUT;
	}
	memcpy(out, m.info_hash, SHA1_LEN);
	magnet_clear(&m);
	return EXIT_OK;
}

static void
dhtc_peers_cb(void *arg, const uint8_t info_hash[20],
    const struct netaddr *peers, size_t n)
{
	struct dhtc	*d = arg;
	char		 a[ADDR_STRLEN], ip[ADDR_STRLEN];
	size_t		 i, j;

	if (d->finished || d->peers == NULL ||
	    memcmp(info_hash, d->ih, SHA1_LEN) != 0)
		return;
	for (i = 0; i < n && d->npeers < DHTC_MAX_PEERS; i++) {
		for (j = 0; j < d->npeers; j++)
			if (addr_eq(&d->peers[j], &peers[i]))
				break;
		if (j < d->npeers)
			continue;
		d->peers[d->npeers++] = peers[i];
		addr_str(&peers[i], a);
		if (d->json)
			printf("{\"peer\": \"%s\", \"ip\": \"%s\", \"port\": %u, "
			    "\"ms\": %llu}\n", a, addr_ip_str(&peers[i], ip),
			    peers[i].port, (unsigned long long)
			    (reactor_now_ms(d->r) - d->start));
		else
			printf("%s\n", a);
	}
	fflush(stdout);
}

static void
dhtc_search(struct dhtc *d)
{
	struct dht_search_opts	o = { .announce = false };
	struct dht_stats	st;
	uint64_t		now = reactor_now_ms(d->r);
	enum gt_err		e;

	/*
	 * One lookup per family whose table has nodes; the others wait for
	 * nodes (and end only if some come): they are not waited for.
	 */
	dht_stats(d->dht, now, &st);
	d->families = (st.nodes[0] > 0 ? 1u : 0) | (st.nodes[1] > 0 ? 2u : 0);
	if (d->families == 0)
		d->families = 3;	/* ends at the deadline, or a late run */
	d->done = 0;
	d->runs++;
	log_info("%s: lookup %u (%zu nodes, %zu good)", d->cmd, d->runs,
	    st.nodes[0] + st.nodes[1], st.good[0] + st.good[1]);
	if ((e = dht_search(d->dht, d->ih, &o, now)) != GT_OK) {
		cmd_error("%s: cannot search: %s", d->cmd, gt_strerror(e));
		dhtc_finish(d, EXIT_FAIL);
		return;
	}
	d->searching = true;
}

static void
dhtc_search_done_cb(void *arg, const uint8_t info_hash[20],
    const struct dht_search_result *res)
{
	struct dhtc	*d = arg;
	uint64_t	 left, elapsed;

	if (d->finished || !d->searching ||
	    memcmp(info_hash, d->ih, SHA1_LEN) != 0)
		return;
	d->sent += res->sent;
	d->answered += res->answered;
	d->done |= res->family == ADDR_V6 ? 2u : 1u;
	log_info("%s: IPv%u lookup over in %u ms: %u queries, %u answers, "
	    "%u values", d->cmd, res->family, res->elapsed_ms, res->sent,
	    res->answered, res->peers);
	if ((d->done & d->families) != d->families)
		return;
	d->searching = false;
	if (d->npeers > 0) {
		dhtc_finish(d, EXIT_OK);
		return;
	}
	elapsed = reactor_now_ms(d->r) - d->start;
	left = (uint64_t)d->secs * 1000 > elapsed ?
	    (uint64_t)d->secs * 1000 - elapsed : 0;
	if (d->runs >= DHTC_RUNS || left <= DHTC_RERUN_MS)
		dhtc_finish(d, EXIT_FAIL);
	else
		reactor_timer_in(d->tick, DHTC_RERUN_MS);
}

/* Waits for the table to fill (bounded), then looks up; reruns too. */
static void
dhtc_peers_tick(void *arg)
{
	struct dhtc		*d = arg;
	struct dht_stats	 st;
	uint64_t		 now = reactor_now_ms(d->r);
	size_t			 nodes, good;

	if (d->runs > 0) {
		dhtc_search(d);
		return;
	}
	dht_stats(d->dht, now, &st);
	nodes = st.nodes[0] + st.nodes[1];
	good = st.good[0] + st.good[1];
	if (nodes > 0 && d->first_node == 0)
		d->first_node = now;
	if (good >= DHTC_BOOT_GOOD || (d->first_node != 0 &&
	    now - d->first_node >= DHTC_BOOT_SETTLE_MS) ||
	    now - d->start >= DHTC_BOOT_MAX_MS) {
		dhtc_search(d);
		return;
	}
	reactor_timer_in(d->tick, DHTC_POLL_MS);
}

static void
dhtc_peers_summary(struct dhtc *d)
{
	struct dht_stats	st;
	char			hex[2 * SHA1_LEN + 1];
	size_t			nodes;

	dht_stats(d->dht, reactor_now_ms(d->r), &st);
	nodes = st.nodes[0] + st.nodes[1];
	hex_encode(hex, d->ih, SHA1_LEN);
	if (d->json) {
		printf("{\"info_hash\": \"%s\", \"peers\": %zu, \"seconds\": "
		    "%.2f, \"lookups\": %u, \"queries\": %u, \"answers\": %u, "
		    "\"nodes\": %zu, \"timed_out\": %s}\n", hex, d->npeers,
		    dhtc_seconds(d), d->runs, d->sent, d->answered, nodes,
		    d->timed_out ? "true" : "false");
		return;
	}
	fprintf(stderr, "gtorrent: %s: %s: %zu peer%s in %.2f s (%u "
	    "lookup%s, %u queries, %u answers; %zu nodes)\n", d->cmd, hex,
	    d->npeers, d->npeers == 1 ? "" : "s", dhtc_seconds(d), d->runs,
	    d->runs == 1 ? "" : "s", d->sent, d->answered, nodes);
}

/* ---- ping ---- */

/* "v" for a terminal or JSON: printable ASCII kept, '\' and others \xNN. */
static char *
dhtc_version(const uint8_t *v, size_t vlen)
{
	char	*out, *o;
	size_t	 i, n = MIN(vlen, DHTC_MAX_VERSION);

	out = o = xmalloc(4 * n + 4);
	for (i = 0; i < n; i++) {
		if (v[i] >= 0x20 && v[i] < 0x7f && v[i] != '\\')
			*o++ = (char)v[i];
		else
			o += sprintf(o, "\\x%02x", v[i]);
	}
	if (vlen > n)
		o += sprintf(o, "...");
	*o = '\0';
	return out;
}

static void
dhtc_pong_cb(void *arg, const struct netaddr *a, const uint8_t *id,
    const uint8_t *v, size_t vlen, uint32_t rtt_ms)
{
	struct dhtc	*d = arg;
	char		 addr[ADDR_STRLEN], hex[2 * SHA1_LEN + 1];
	char		 vhex[2 * DHTC_MAX_VERSION + 1];
	char		*ver;

	if (d->finished || !addr_eq(a, &d->target))
		return;
	addr_str(a, addr);
	if (id == NULL) {
		log_info("%s: %s: no answer (try %u)", d->cmd, addr, d->tries);
		reactor_timer_in(d->tick, 0);		/* again, if time is left */
		return;
	}
	hex_encode(hex, id, SHA1_LEN);
	ver = dhtc_version(v, vlen);
	if (d->json) {
		hex_encode(vhex, v, MIN(vlen, DHTC_MAX_VERSION));
		printf("{\"address\": \"%s\", \"id\": \"%s\", \"version\": ",
		    addr, hex);
		if (vlen > 0)
			cmd_json_str(stdout, ver);
		else
			fputs("null", stdout);
		printf(", \"version_hex\": \"%s\", \"rtt_ms\": %u}\n", vhex,
		    rtt_ms);
	} else
		printf("%s  id %s  version %s  rtt %u ms\n", addr, hex,
		    vlen > 0 ? ver : "-", rtt_ms);
	free(ver);
	dhtc_finish(d, EXIT_OK);
}

static void
dhtc_ping_tick(void *arg)
{
	struct dhtc	*d = arg;
	uint64_t	 elapsed = reactor_now_ms(d->r) - d->start;

	if (d->finished)
		return;
	if (d->tries > 0 && elapsed + DHT_QUERY_MS / 2 > (uint64_t)d->secs *
	    1000)
		return;				/* the deadline ends it */
	d->tries++;
	if (!dht_ping(d->dht, &d->target, reactor_now_ms(d->r))) {
		cmd_error("%s: cannot ping %s", d->cmd, d->target_arg);
		dhtc_finish(d, EXIT_FAIL);
	}
}

/*
 * HOST:PORT to an address: numeric ones as they are, names through the
 * resolver (the first address of a family we have).  EXIT_OK, or the
 * error printed.
 */
static int
dhtc_resolve(struct dhtc *d, const char *arg, struct netaddr *out)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*colon = strrchr(arg, ':');
	char		*host;
	int		 gai;

	if (addr_parse(arg, 0, out) == GT_OK)
		return EXIT_OK;
	host = xstrndup(arg, (size_t)(colon - arg));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	gai = getaddrinfo(host, colon + 1, &hints, &res);
	free(host);
	if (gai != 0) {
		cmd_error("%s: %s: %s", d->cmd, arg, gai_strerror(gai));
		return EXIT_FAIL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (sockaddr_to_netaddr(ai->ai_addr, out))
			break;
	freeaddrinfo(res);
	if (ai == NULL) {
		cmd_error("%s: %s: no usable address", d->cmd, arg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- both ---- */

static void
dhtc_deadline_cb(void *arg)
{
	struct dhtc	*d = arg;

	d->timed_out = true;
	if (d->target_arg != NULL)
		cmd_error("%s: no answer from %s in %u s", d->cmd,
		    d->target_arg, d->secs);
	dhtc_finish(d, d->npeers > 0 ? EXIT_OK : EXIT_FAIL);
}

static int
dhtc_run(struct dhtc *d, const struct session_opts *so, bool ping)
{
	struct dht_hooks	hooks = {
		.peers = dhtc_peers_cb, .search_done = dhtc_search_done_cb,
		.pong = dhtc_pong_cb, .arg = d,
	};
	char			err[GT_ERRLEN];

	if ((d->r = reactor_new()) == NULL) {
		cmd_error("%s: cannot start the event loop", d->cmd);
		return EXIT_FAIL;
	}
	d->start = reactor_now_ms(d->r);
	err[0] = '\0';
	if (session_new(&d->s, d->r, so, err) != GT_OK) {
		cmd_error("%s: %s", d->cmd, err);
		return EXIT_FAIL;
	}
	if ((d->dht = session_dht(d->s)) == NULL) {
		cmd_error("%s: the DHT did not start", d->cmd);
		return EXIT_FAIL;
	}
	session_dht_watch(d->s, &hooks);
	reactor_on_signal(d->r, SIGINT, dhtc_on_signal, d);
	reactor_on_signal(d->r, SIGTERM, dhtc_on_signal, d);
	reactor_on_signal(d->r, SIGHUP, dhtc_on_signal, d);
	d->tick = reactor_timer_new(d->r, ping ? dhtc_ping_tick :
	    dhtc_peers_tick, d);
	d->deadline = reactor_timer_new(d->r, dhtc_deadline_cb, d);
	reactor_timer_in(d->tick, 0);
	reactor_timer_in(d->deadline, (uint64_t)d->secs * 1000);
	d->rc = EXIT_FAIL;
	if (reactor_run(d->r) != 0 && !d->finished) {
		cmd_error("%s: the event loop failed", d->cmd);
		return EXIT_FAIL;
	}
	session_dht_watch(d->s, NULL);
	if (!ping && !d->interrupted)
		dhtc_peers_summary(d);
	return d->rc;
}

int
cmd_dht(int argc, char **argv)
{
	enum { OPT_DHT_PORT = 256, OPT_DHT_BOOTSTRAP };
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dht-port", required_argument, NULL, OPT_DHT_PORT },
		{ "dht-bootstrap", required_argument, NULL,
		    OPT_DHT_BOOTSTRAP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_opts	 so = {
		.listen = false, .max_peers = 1, .dht = true,
	};
	struct dhtc		 d = { .cmd = "dht" };
	char			**boot = NULL, *state_dir = NULL, *cmd;
	char			*target[1];
	size_t			 nboot = 0;
	uint64_t		 v;
	bool			 ping;
	int			 c, verbose = 0, rc;

	if (argc < 2)
		return cmd_usage_error("dht", "missing get-peers or ping");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		dht_usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "get-peers") == 0)
		ping = false;
	else if (strcmp(argv[1], "ping") == 0)
		ping = true;
	else
		return cmd_usage_error("dht", "unknown command '%s' (get-peers "
		    "or ping)", argv[1]);
	cmd = ping ? "dht ping" : "dht get-peers";
	d.cmd = cmd;
	d.secs = ping ? DHTC_PING_SECS : DHTC_PEERS_SECS;
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":jt:vh", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'j':
			d.json = true;
			break;
		case 't':
			if (cmd_parse_size(optarg, &v) != 0 || v < 1 ||
			    v > DHTC_MAX_SECS) {
				rc = cmd_usage_error("dht", "--timeout must be "
				    "1 to %u seconds, not '%s'", DHTC_MAX_SECS,
				    optarg);
				goto out;
			}
			d.secs = (unsigned)v;
			break;
		case OPT_DHT_PORT:
			if (cmd_parse_port(optarg, &so.dht_port) != 0) {
				rc = cmd_usage_error("dht", "--dht-port must be "
				    "1 to 65535, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_DHT_BOOTSTRAP:
			if (ping) {
				rc = cmd_usage_error("dht", "ping takes no "
				    "--dht-bootstrap");
				goto out;
			}
			if ((rc = cmd_add_bootstrap("dht", optarg, &boot,
			    &nboot)) != EXIT_OK)
				goto out;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			dht_usage(stdout);
			rc = EXIT_OK;
			goto out;
		default:
			rc = cmd_bad_option("dht", c, argv);
			goto out;
		}
	}
	if (optind != argc - 1) {
		rc = cmd_usage_error("dht", "%s needs one %s", argv[0],
		    ping ? "HOST:PORT" : "INFOHASH");
		goto out;
	}
	cmd_set_verbosity(verbose);

	if (ping) {
		/*
		 * The node pinged is the only one contacted: it is also the
		 * bootstrap node (else the public routers would be), and no
		 * saved routing table is loaded.
		 */
		if (!cmd_hostport_ok(argv[optind])) {
			rc = cmd_usage_error("dht", "ping needs HOST:PORT (a "
			    "name, a numeric IPv4 or [IPv6] address, a port 1 "
			    "to 65535), not '%s'", argv[optind]);
			goto out;
		}
		d.target_arg = argv[optind];
		if ((rc = dhtc_resolve(&d, d.target_arg, &d.target)) !=
		    EXIT_OK)
			goto out;
		target[0] = argv[optind];
		so.dht_bootstrap = target;
		so.ndht_bootstrap = 1;
	} else {
		if ((rc = dhtc_parse_hash(cmd, argv[optind], d.ih)) !=
		    EXIT_OK)
			goto out;
		so.dht_bootstrap = boot;
		so.ndht_bootstrap = nboot;
		so.state_dir = state_dir = cmd_state_dir();
		d.peers = xcalloc(DHTC_MAX_PEERS, sizeof(*d.peers));
	}
	signal(SIGPIPE, SIG_IGN);
	rc = dhtc_run(&d, &so, ping);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_IO;

out:
	reactor_timer_free(d.tick);
	reactor_timer_free(d.deadline);
	session_free(d.s);
	reactor_free(d.r);
	free(d.peers);
	free(boot);
	free(state_dir);
	return rc;
}
