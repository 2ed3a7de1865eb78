/* cmd-download-json.c - `--json`: the download's events, one object a line */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "cmd.h"
#include "cmd-download-int.h"
#include "peerid.h"
#include "reactor.h"
#include "torrent.h"
#include "ui-json.h"
#include "util.h"

static void
dl_json_begin(struct dl *d, const char *event)
{
	ui_json_begin(&d->js, event, d->r != NULL ?
	    reactor_now_ms(d->r) - d->start_ms : 0);
}

/* {"v":1,"event":EVENT,"t":...,"torrent":HEX */
static void
dl_json_item(struct dl_item *it, const char *event)
{
	dl_json_begin(it->d, event);
	ui_json_hex(&it->d->js, "torrent", item_info_hash(it), SHA1_LEN);
}

static void
dl_json_send(struct dl *d)
{
	const char	*line;
	size_t		 len;

	line = ui_json_end(&d->js, &len);
	(void)fwrite(line, 1, len, stdout);
	(void)fflush(stdout);		/* each line as it happens */
}

/*
 * "error": it (NULL: the whole run) cannot go on; exit is the code that
 * ends it (-1: told later, by "stopped").
 */
void
dl_json_error(struct dl *d, struct dl_item *it, int exit, const char *msg)
{
	if (!d->json)
		return;
	dl_json_begin(d, "error");
	if (it != NULL && it->loaded)
		ui_json_hex(&d->js, "torrent", item_info_hash(it), SHA1_LEN);
	else
		ui_json_null(&d->js, "torrent");
	ui_json_str(&d->js, "source", it != NULL ? it->src : NULL);
	if (exit >= 0)
		ui_json_int(&d->js, "exit", exit);
	else
		ui_json_null(&d->js, "exit");
	ui_json_str(&d->js, "message", msg);
	dl_json_send(d);
}

/* "start" (port -1: not listening yet), then the sources not loaded. */
void
dl_json_start(struct dl *d, int port)
{
	size_t	i;

	if (!d->json)
		return;
	dl_json_begin(d, "start");
	ui_json_str(&d->js, "command", d->cmd);
	ui_json_str(&d->js, "version", GT_VERSION);
	ui_json_array_begin(&d->js, "sources");
	for (i = 0; i < d->nitems; i++)
		ui_json_array_str(&d->js, d->items[i].src);
	ui_json_array_end(&d->js);
	ui_json_str(&d->js, "dir", d->dir);
	if (port > 0)
		ui_json_int(&d->js, "port", port);
	else
		ui_json_null(&d->js, "port");
	dl_json_send(d);
	for (i = 0; i < d->nitems; i++)
		if (d->items[i].exit != EXIT_OK)
			dl_json_error(d, &d->items[i], d->items[i].exit,
			    "not run (the reason is on stderr)");
}

/* "complete", once, and never before "added". */
void
dl_json_complete(struct dl_item *it)
{
	if (!it->d->json || !it->js_added || it->js_complete)
		return;
	it->js_complete = true;
	dl_json_item(it, "complete");
	dl_json_send(it->d);
}

/* "added": in the session, what is known of it. */
void
dl_json_added(struct dl_item *it)
{
	struct dl		*d = it->d;
	const struct metainfo	*m = torrent_metainfo(it->t);
	struct torrent_stats	 ts;

	if (!d->json)
		return;
	torrent_stats(it->t, &ts);
	dl_json_item(it, "added");
	ui_json_str(&d->js, "source", it->src);
	ui_json_str(&d->js, "name", torrent_name(it->t));
	ui_json_bool(&d->js, "metadata", m != NULL);
	if (m != NULL) {
		ui_json_uint(&d->js, "size", m->total_length);
		ui_json_uint(&d->js, "pieces", m->npieces);
		ui_json_uint(&d->js, "files", m->nfiles);
	} else {
		ui_json_null(&d->js, "size");
		ui_json_null(&d->js, "pieces");
		ui_json_null(&d->js, "files");
	}
	ui_json_uint(&d->js, "have_pieces", ts.have_pieces);
	dl_json_send(d);
	it->js_added = true;
	if (ts.complete && m != NULL)
		dl_json_complete(it);
}

void
dl_json_metadata(struct dl_item *it, const struct metainfo *m)
{
	struct dl	*d = it->d;

	if (!d->json)
		return;
	dl_json_item(it, "metadata");
	ui_json_str(&d->js, "name", m->name);
	ui_json_uint(&d->js, "size", m->total_length);
	ui_json_uint(&d->js, "pieces", m->npieces);
	ui_json_uint(&d->js, "piece_length", m->piece_length);
	ui_json_uint(&d->js, "files", m->nfiles);
	ui_json_bool(&d->js, "private", m->private);
	dl_json_send(d);
}

/* -1: unknown (null) */
static void
dl_json_count(struct dl *d, const char *key, int64_t v)
{
	if (v < 0)
		ui_json_null(&d->js, key);
	else
		ui_json_int(&d->js, key, v);
}

/* "stats": each torrent running, every DL_JSON_STATS_MS. */
void
dl_json_tick(void *arg)
{
	struct dl		*d = arg;
	struct dl_item		*it;
	struct torrent_stats	 ts;
	uint64_t		 now = reactor_now_ms(d->r), span;
	const char		*state;
	size_t			 i;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->running || it->ended || it->t == NULL)
			continue;
		torrent_stats(it->t, &ts);
		if (it->js_ms == 0)
			it->js_ms = d->start_ms;
		span = now > it->js_ms ? now - it->js_ms : 1;
		state = it->leaving || it->stop_asked ? "stopping" :
		    ts.metadata ? "metadata" : ts.complete ||
		    d->upload_only ? "seeding" : "downloading";
		dl_json_item(it, "stats");
		ui_json_str(&d->js, "state", state);
		ui_json_uint(&d->js, "have", ts.have);
		ui_json_uint(&d->js, "total", ts.total);
		ui_json_uint(&d->js, "have_pieces", ts.have_pieces);
		ui_json_uint(&d->js, "pieces", ts.npieces);
		ui_json_uint(&d->js, "downloaded", ts.downloaded);
		ui_json_uint(&d->js, "uploaded", ts.uploaded);
		ui_json_uint(&d->js, "down_rate", (ts.downloaded -
		    it->js_down) * 1000 / span);
		ui_json_uint(&d->js, "up_rate", (ts.uploaded - it->js_up) *
		    1000 / span);
		ui_json_uint(&d->js, "peers", ts.peers);
		ui_json_uint(&d->js, "seeds", ts.seeds);
		ui_json_uint(&d->js, "conns", ts.conns);
		dl_json_count(d, "seeders", ts.seeders);
		dl_json_count(d, "leechers", ts.leechers);
		ui_json_fraction(&d->js, "progress", ts.have, ts.total);
		dl_json_send(d);
		it->js_ms = now;
		it->js_down = ts.downloaded;
		it->js_up = ts.uploaded;
	}
	reactor_timer_in(d->json_timer, DL_JSON_STATS_MS);
}

/* "done" (rc 0) or "stopped": the torrent's last line. */
void
dl_json_end(struct dl_item *it, const struct torrent_stats *ts, int rc)
{
	struct dl	*d = it->d;
	const char	*why;

	if (!d->json)
		return;
	if (rc == EXIT_OK)
		why = it->md_written ? "metadata written" : it->seed_over ?
		    it->seed_why : "complete";
	else
		why = it->fatal ? "error" : it->interrupted ? "interrupted" :
		    d->metadata_only ? "no metadata" : "incomplete";
	dl_json_item(it, rc == EXIT_OK ? "done" : "stopped");
	ui_json_str(&d->js, "name", torrent_name(it->t));
	ui_json_str(&d->js, "reason", why);
	ui_json_int(&d->js, "exit", rc);
	ui_json_uint(&d->js, "have", ts->have);
	ui_json_uint(&d->js, "total", ts->total);
	ui_json_uint(&d->js, "downloaded", ts->downloaded);
	ui_json_uint(&d->js, "uploaded", ts->uploaded);
	ui_json_uint(&d->js, "wasted", ts->wasted);
	ui_json_uint(&d->js, "peers_ever", ts->peers_ever);
	ui_json_str(&d->js, "file", it->js_file);
	dl_json_send(d);
}

/* The client and version the peer id names (peerid.h), or NULL. */
static const char *
dl_json_client(const uint8_t *id, char out[PEERID_CLIENT_LEN])
{
	if (id == NULL)
		return NULL;
	peerid_client(id, out, PEERID_CLIENT_LEN);
	return out[0] != '\0' ? out : NULL;
}

/* What the torrent tells (torrent_events.event). */
void
dl_on_event(void *arg, const struct torrent_event *e)
{
	struct dl_item	*it = arg;
	struct dl	*d = it->d;
	char		 a[ADDR_STRLEN], client[PEERID_CLIENT_LEN];
	size_t		 i;

	if (!d->json || it->ended)
		return;
	switch (e->kind) {
	case TORRENT_EV_TRACKER:
		dl_json_item(it, "tracker");
		ui_json_str(&d->js, "url", e->url);
		ui_json_str(&d->js, "announce", e->announce);
		ui_json_bool(&d->js, "ok", e->ok);
		ui_json_str(&d->js, "error", e->ok ? NULL : e->error);
		dl_json_count(d, "peers", e->ok ? (int64_t)e->npeers : -1);
		dl_json_count(d, "seeders", e->ok ? e->seeders : -1);
		dl_json_count(d, "leechers", e->ok ? e->leechers : -1);
		dl_json_count(d, "interval", e->ok ? (int64_t)e->interval :
		    -1);
		break;
	case TORRENT_EV_PEER_UP:
	case TORRENT_EV_PEER_DOWN:
		dl_json_item(it, e->kind == TORRENT_EV_PEER_UP ? "peer_up" :
		    "peer_down");
		ui_json_str(&d->js, "addr", addr_str(e->addr, a));
		ui_json_bool(&d->js, "incoming", e->incoming);
		if (e->peer_id != NULL)
			ui_json_hex(&d->js, "peer_id", e->peer_id, 20);
		else
			ui_json_null(&d->js, "peer_id");
		ui_json_str(&d->js, "client", dl_json_client(e->peer_id,
		    client));
		if (e->kind == TORRENT_EV_PEER_DOWN)
			ui_json_str(&d->js, "reason", e->reason);
		break;
	case TORRENT_EV_PIECE_OK:
		dl_json_item(it, "piece_ok");
		ui_json_uint(&d->js, "piece", e->piece);
		break;
	case TORRENT_EV_PIECE_BAD:
		dl_json_item(it, "piece_bad");
		ui_json_uint(&d->js, "piece", e->piece);
		ui_json_array_begin(&d->js, "peers");
		for (i = 0; i < e->ncontrib; i++)
			ui_json_array_str(&d->js, addr_str(&e->contrib[i], a));
		ui_json_array_end(&d->js);
		ui_json_bool(&d->js, "more", e->more);
		break;
	case TORRENT_EV_ERROR:
		dl_json_error(d, it, -1, e->reason);
		return;
	default:
		return;
	}
	dl_json_send(d);
}
