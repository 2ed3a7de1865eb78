/* cmd-scrape.c - `gtorrent scrape`: ask trackers how big a swarm is */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "tracker-client.h"
#include "tracker-udp.h"		/* TRACKER_UDP_MAX_TRIES */

#define SCRAPE_MAX_TORRENTS	1024	/* files on one command line */
#define SCRAPE_MAX_URLS		64	/* trackers asked per torrent */
#define SCRAPE_DEFAULT_SECS	15
#define SCRAPE_MAX_SECS		3600

/*
 * Every torrent's trackers become cells (torrent x URL); cells with the
 * same URL are asked together, TRACKER_MAX_SCRAPE info-hashes a request
 * (HTTP: several info_hash parameters; UDP: one action-2 packet).  All
 * requests run at once on one reactor; whatever has not answered when the
 * timeout fires is reported as silent.
 */

enum sc_state {
	SC_PENDING,
	SC_OK,
	SC_ERR,
};

struct sc_cell {
	const char	*url;		/* borrowed from the metainfo/argv */
	const uint8_t	*hash;		/* the torrent's info-hash */
	enum sc_state	 state;
	int64_t		 seeders, leechers, completed;
	char		 err[TRACKER_ERRLEN];
};

struct sc_torrent {
	struct metainfo	 m;
	struct sc_cell	*cells;
	size_t		 ncells;
};

struct sc_batch {
	struct scrape	 *sc;
	const char	 *url;
	struct sc_cell	**cells;	/* what this request answers */
	size_t		  ncells;
	uint8_t		(*hashes)[SHA1_LEN];	/* their info-hashes, once */
	size_t		  n;
	struct tracker_call *call;	/* under way, or NULL */
};

struct scrape {
	struct reactor		 *r;
	struct tracker_client	 *tc;
	struct sc_torrent	 *t;
	size_t			  nt;
	struct sc_batch		 *b;
	size_t			  nb;
	size_t			  running;	/* batches not yet answered */
	struct reactor_timer	 *deadline;
	unsigned		  secs;
	bool			  interrupted;
};

static void
scrape_usage(FILE *f)
{
	fprintf(f,
	    "usage: gtorrent scrape [OPTIONS] FILE.torrent...\n"
	    "\n"
	    "Asks every tracker of each torrent how many seeders, leechers\n"
	    "and completed downloads it knows of: HTTP(S) trackers through\n"
	    "their scrape URL, UDP trackers with a BEP 15 scrape.  Torrents\n"
	    "sharing a tracker are asked in one request.  Exit status is 0\n"
	    "when every torrent got at least one answer, 1 otherwise.\n"
	    "\n"
	    "  -j, --json          one JSON document, for scripts\n"
	    "  -t, --timeout SEC   give up on silent trackers after SEC\n"
	    "                      seconds (default: %u)\n"
	    "      --tracker URL   ask URL too (repeatable)\n"
	    "  -v, --verbose       tracker exchanges on stderr\n"
	    "  -h, --help          this help\n", SCRAPE_DEFAULT_SECS);
}

static void
sc_cell_err(struct sc_cell *c, const char *why)
{
	if (c->state != SC_PENDING)
		return;
	c->state = SC_ERR;
	snprintf(c->err, sizeof(c->err), "%.250s", why);
}

static void
sc_batch_err(struct sc_batch *b, const char *why)
{
	size_t	i;

	for (i = 0; i < b->ncells; i++)
		sc_cell_err(b->cells[i], why);
}

/* Hands a scrape reply's figures to the batch's cells. */
static void
sc_batch_ok(struct sc_batch *b, const struct tracker_scrape *ts)
{
	const struct tracker_scrape_entry	*e;
	struct sc_cell				*c;
	size_t					 i, j;

	if (ts->failure != NULL) {
		char	why[TRACKER_ERRLEN];

		snprintf(why, sizeof(why), "failure reason: %.200s",
		    ts->failure);
		sc_batch_err(b, why);
		return;
	}
	for (i = 0; i < b->ncells; i++) {
		c = b->cells[i];
		e = NULL;
		for (j = 0; j < ts->n; j++)
			if (memcmp(ts->v[j].info_hash, c->hash, SHA1_LEN) == 0)
				e = &ts->v[j];
		c->state = SC_OK;
		if (e == NULL) {
			/* trackers leave out torrents without peers */
			c->seeders = c->leechers = c->completed = 0;
			continue;
		}
		c->seeders = e->complete;
		c->leechers = e->incomplete;
		c->completed = e->downloaded;
	}
}

static void
sc_batch_done(struct sc_batch *b)
{
	struct scrape	*sc = b->sc;

	if (--sc->running == 0)
		reactor_stop(sc->r);
}

static void
sc_done(void *arg, enum gt_err e, struct tracker_scrape *ts, const char *why)
{
	struct sc_batch	*b = arg;

	b->call = NULL;
	if (e == GT_OK)
		sc_batch_ok(b, ts);
	else
		sc_batch_err(b, why);
	log_debug("scrape %s: done", b->url);
	sc_batch_done(b);
}

static void
sc_batch_start(struct scrape *sc, struct sc_batch *b)
{
	struct tracker_call_opts o = {
		.timeout_ms = sc->secs * 1000,
		.udp_tries = TRACKER_UDP_MAX_TRIES,
		.user_agent = SESSION_USER_AGENT,
	};
	char			 err[GT_ERRLEN];

	log_debug("scrape %s: %zu info-hashes", b->url, b->n);
	b->call = tracker_client_scrape(sc->tc, b->url,
	    (const uint8_t (*)[SHA1_LEN])b->hashes, b->n, &o, sc_done, b,
	    err);
	if (b->call == NULL)
		sc_batch_err(b, err);
	else
		sc->running++;
}

/* Groups the cells by URL into batches of at most TRACKER_MAX_SCRAPE. */
static void
sc_plan(struct scrape *sc)
{
	struct sc_batch	*b;
	struct sc_cell	*c;
	size_t		 ti, ci, bi, k;

	for (ti = 0; ti < sc->nt; ti++) {
		for (ci = 0; ci < sc->t[ti].ncells; ci++) {
			c = &sc->t[ti].cells[ci];
			b = NULL;
			for (bi = 0; bi < sc->nb && b == NULL; bi++) {
				if (strcmp(sc->b[bi].url, c->url) != 0)
					continue;
				/* the same torrent twice: asked once */
				for (k = 0; k < sc->b[bi].n; k++)
					if (memcmp(sc->b[bi].hashes[k], c->hash,
					    SHA1_LEN) == 0)
						b = &sc->b[bi];
				if (sc->b[bi].n < TRACKER_MAX_SCRAPE)
					b = &sc->b[bi];
			}
			if (b == NULL) {
				sc->b = xreallocarray(sc->b, sc->nb + 1,
				    sizeof(*sc->b));
				b = &sc->b[sc->nb++];
				memset(b, 0, sizeof(*b));
				b->sc = sc;
				b->url = c->url;
				b->hashes = xcalloc(TRACKER_MAX_SCRAPE,
				    SHA1_LEN);
			}
			for (k = 0; k < b->n; k++)
				if (memcmp(b->hashes[k], c->hash,
				    SHA1_LEN) == 0)
					break;
			if (k == b->n)
				memcpy(b->hashes[b->n++], c->hash, SHA1_LEN);
			b->cells = xreallocarray(b->cells, b->ncells + 1,
			    sizeof(*b->cells));
			b->cells[b->ncells++] = c;
		}
	}
}

static void
sc_deadline_cb(void *arg)
{
	struct scrape	*sc = arg;
	char		 why[64];
	size_t		 i;

	snprintf(why, sizeof(why), "no answer in %u s", sc->secs);
	for (i = 0; i < sc->nb; i++)
		sc_batch_err(&sc->b[i], why);
	reactor_stop(sc->r);
}

static void
sc_signal_cb(void *arg, int signo)
{
	struct scrape	*sc = arg;

	(void)signo;
	sc->interrupted = true;
	reactor_stop(sc->r);
}

static void
sc_figure(FILE *f, int64_t v, bool json)
{
	if (v >= 0)
		fprintf(f, "%" PRId64, v);
	else
		fputs(json ? "null" : "?", f);
}

static void
sc_print(const struct scrape *sc, bool json)
{
	const struct sc_torrent	*t;
	const struct sc_cell	*c;
	char			 hex[2 * SHA1_LEN + 1];
	size_t			 i, j;

	if (json)
		fputs("{\"torrents\": [", stdout);
	for (i = 0; i < sc->nt; i++) {
		t = &sc->t[i];
		hex_encode(hex, t->m.info_hash, SHA1_LEN);
		if (json) {
			fputs(i > 0 ? ", {\"name\": " : "{\"name\": ", stdout);
			cmd_json_str(stdout, t->m.name);
			printf(", \"info_hash\": \"%s\", \"trackers\": [",
			    hex);
		} else {
			printf("%s  ", hex);
			cmd_print_safe(stdout, t->m.name);
			putchar('\n');
			if (t->ncells == 0)
				puts("  (no trackers)");
		}
		for (j = 0; j < t->ncells; j++) {
			c = &t->cells[j];
			if (json) {
				fputs(j > 0 ? ", {\"url\": " : "{\"url\": ",
				    stdout);
				cmd_json_str(stdout, c->url);
			} else {
				fputs("  ", stdout);
				cmd_print_safe(stdout, c->url);
			}
			if (c->state != SC_OK) {
				fputs(json ? ", \"error\": " : ": error: ",
				    stdout);
				if (json)
					cmd_json_str(stdout, c->err);
				else
					cmd_print_safe(stdout, c->err);
				fputs(json ? "}" : "\n", stdout);
				continue;
			}
			fputs(json ? ", \"seeders\": " : ": ", stdout);
			sc_figure(stdout, c->seeders, json);
			fputs(json ? ", \"leechers\": " : " seeders, ", stdout);
			sc_figure(stdout, c->leechers, json);
			fputs(json ? ", \"completed\": " : " leechers, ",
			    stdout);
			sc_figure(stdout, c->completed, json);
			fputs(json ? "}" : " completed\n", stdout);
		}
		if (json)
			fputs("]}", stdout);
	}
	if (json)
		fputs("]}\n", stdout);
}

/* Adds url to t unless it is there already. */
static void
sc_add_url(struct sc_torrent *t, const char *url)
{
	size_t	i;

	for (i = 0; i < t->ncells; i++)
		if (strcmp(t->cells[i].url, url) == 0)
			return;
	if (t->ncells == SCRAPE_MAX_URLS)
		return;
	t->cells[t->ncells++] = (struct sc_cell){
		.url = url, .hash = t->m.info_hash, .seeders = -1,
		.leechers = -1, .completed = -1,
	};
}

static void
sc_free(struct scrape *sc)
{
	size_t	i;

	for (i = 0; i < sc->nb; i++) {
		tracker_call_cancel(sc->b[i].call);
		free(sc->b[i].cells);
		free(sc->b[i].hashes);
	}
	free(sc->b);
	tracker_client_free(sc->tc);
	reactor_timer_free(sc->deadline);
	reactor_free(sc->r);
	for (i = 0; i < sc->nt; i++) {
		metainfo_clear(&sc->t[i].m);
		free(sc->t[i].cells);
	}
	free(sc->t);
}

int
cmd_scrape(int argc, char **argv)
{
	enum { OPT_TRACKER = 256 };
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tracker", required_argument, NULL, OPT_TRACKER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scrape	 sc = { .secs = SCRAPE_DEFAULT_SECS };
	char		*extra[SCRAPE_MAX_URLS];
	size_t		 nextra = 0, i, j, k;
	uint64_t	 v;
	bool		 json = false, all = true, any;
	int		 c, verbose = 0, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":jt:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			if (cmd_parse_size(optarg, &v) != 0 || v < 1 ||
			    v > SCRAPE_MAX_SECS)
				return cmd_usage_error("scrape", "--timeout must "
				    "be 1 to %u seconds, not '%s'",
				    SCRAPE_MAX_SECS, optarg);
			sc.secs = (unsigned)v;
			break;
		case OPT_TRACKER:
			if (!tracker_client_url_ok(optarg))
				return cmd_usage_error("scrape", "--tracker "
				    "needs an http://, https:// or "
				    "udp://host:port URL, not '%s'", optarg);
			if (nextra == SCRAPE_MAX_URLS)
				return cmd_usage_error("scrape", "more than %u "
				    "--tracker options", SCRAPE_MAX_URLS);
			extra[nextra++] = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			scrape_usage(stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("scrape", c, argv);
		}
	}
	if (optind == argc)
		return cmd_usage_error("scrape", "missing FILE.torrent");
	if (argc - optind > SCRAPE_MAX_TORRENTS)
		return cmd_usage_error("scrape", "more than %u torrents",
		    SCRAPE_MAX_TORRENTS);
	if (verbose == 1)
		log_set_level(LOG_INFO);
	else if (verbose > 1)
		log_set_level(LOG_DEBUG);

	sc.t = xcalloc((size_t)(argc - optind), sizeof(*sc.t));
	for (i = 0; i < (size_t)(argc - optind); i++) {
		struct sc_torrent	*t = &sc.t[i];

		if ((rc = cmd_load_torrent(argv[optind + (int)i], &t->m)) !=
		    EXIT_OK) {
			sc_free(&sc);
			return rc;
		}
		sc.nt++;
		t->cells = xcalloc(SCRAPE_MAX_URLS, sizeof(*t->cells));
		for (j = 0; j < t->m.ntiers; j++)
			for (k = 0; k < t->m.tiers[j].n; k++)
				sc_add_url(t, t->m.tiers[j].urls[k]);
		for (j = 0; j < nextra; j++)
			sc_add_url(t, extra[j]);
	}

	signal(SIGPIPE, SIG_IGN);
	if ((sc.r = reactor_new()) == NULL) {
		cmd_error("cannot start the event loop");
		sc_free(&sc);
		return EXIT_IO;
	}
	sc.tc = tracker_client_new(sc.r);
	reactor_on_signal(sc.r, SIGINT, sc_signal_cb, &sc);
	reactor_on_signal(sc.r, SIGTERM, sc_signal_cb, &sc);
	reactor_on_signal(sc.r, SIGHUP, sc_signal_cb, &sc);
	sc_plan(&sc);
	for (i = 0; i < sc.nb; i++)
		sc_batch_start(&sc, &sc.b[i]);
	if (sc.running > 0) {
		sc.deadline = reactor_timer_new(sc.r, sc_deadline_cb, &sc);
		reactor_timer_in(sc.deadline, (uint64_t)sc.secs * 1000);
		if (reactor_run(sc.r) != 0) {
			cmd_error("the event loop failed");
			sc_free(&sc);
			return EXIT_IO;
		}
	}
	if (sc.interrupted) {
		sc_free(&sc);
		return EXIT_INTERRUPTED;
	}
	sc_print(&sc, json);
	for (i = 0; i < sc.nt; i++) {
		any = false;
		for (j = 0; j < sc.t[i].ncells; j++)
			if (sc.t[i].cells[j].state == SC_OK)
				any = true;
		all = all && any;
	}
	sc_free(&sc);
	if (fflush(stdout) != 0)
		return EXIT_IO;
	return all ? EXIT_OK : EXIT_FAIL;
}
