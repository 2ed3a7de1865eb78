/* cmd-download.c - `gtorrent [download] FILE.torrent` and `gtorrent seed` */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "bencode.h"
#include "buf.h"
#include "cmd.h"
#include "cmd-download-int.h"
#include "dht.h"
#include "log.h"
#include "magnet.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "torrent.h"
#include "tracker-client.h"
#include "tui.h"
#include "ui.h"
#include "ui-json.h"

#define DL_MAX_PEER_ARGS	256	/* --peer given at most */
#define DL_MAX_TRACKER_ARGS	64	/* --tracker given at most */
#define DL_STOP_MS		2000	/* tracker goodbye, at most */
#define DL_MAX_PEERS		10000	/* --max-peers, at most */
#define DL_MAX_SLOTS		1000	/* --upload-slots, at most */
#define DL_MIN_RATE		1024	/* a rate limit, at least (bytes/s) */
#define DL_MAX_RATE		(100ull << 30)	/* ... and at most */
#define DL_MAX_EXCLUDE		64	/* --exclude given at most */
#define DL_REFUSALS		2	/* the only tracker's "failure reason"s
					   in a row, with no other peer source,
					   that end a download (the second comes
					   15 s after the first: the backoff) */
#define DL_CHECK_MS		1000	/* ... looked for this often */
#define DL_ON_DONE_MAX		4096	/* --on-done: a command's bytes */

static double
dl_seconds(const struct dl *d)
{
	return (double)(reactor_now_ms(d->r) - d->start_ms) / 1000.0;
}

static const char *
item_label(const struct dl_item *it)
{
	return it->is_magnet ? it->label : it->src;
}

static void
item_summary(struct dl_item *it, bool done)
{
	struct torrent_stats	ts;

	if (it->d->json)
		return;			/* "done" or "stopped" instead */
	torrent_stats(it->t, &ts);
	ui_summary(it->d->ui, done, it->d->seed || it->d->upload_only,
	    torrent_name(it->t), &ts, dl_seconds(it->d));
}

/* Torrents to show: those in the session, and those done at once. */
static size_t
dl_nshown(const struct dl *d, struct dl_item **one)
{
	size_t	i, n = 0;

	for (i = 0; i < d->nitems; i++)
		if (d->items[i].t != NULL || d->items[i].has_final) {
			*one = &d->items[i];
			n++;
		}
	return n;
}

static void
item_stats(const struct dl_item *it, struct torrent_stats *ts)
{
	if (it->t != NULL)
		torrent_stats(it->t, ts);
	else
		*ts = it->final;
}

/* The status line: one torrent's as ever, else one over them all. */
static void
dl_ui_cb(void *arg)
{
	struct dl		*d = arg;
	struct dl_item		*one = NULL;
	struct torrent_stats	 ts, sum;
	struct ui_view		 v;
	struct dht_stats	 st;
	struct dht		*dht;
	unsigned		 n, done = 0, meta = 0;
	size_t			 i;

	n = (unsigned)dl_nshown(d, &one);
	if (n == 1)
		item_stats(one, &sum);
	else {
		memset(&sum, 0, sizeof(sum));
		for (i = 0; i < d->nitems; i++) {
			if (d->items[i].t == NULL && !d->items[i].has_final)
				continue;
			item_stats(&d->items[i], &ts);
			sum.have += ts.have;
			sum.total += ts.total;
			sum.downloaded += ts.downloaded;
			sum.uploaded += ts.uploaded;
			sum.peers += ts.peers;
			sum.conns += ts.conns;
			sum.known += ts.known > ts.peers ? ts.known : ts.conns;
			sum.dht_peers += ts.dht_peers;
			done += ts.complete;
			meta += ts.metadata;
		}
	}
	if (d->verbose && n == 1)
		ui_set_swarm(d->ui, sum.seeders, sum.leechers);
	if (d->verbose && (dht = session_dht(d->s)) != NULL) {
		dht_stats(dht, reactor_now_ms(d->r), &st);
		ui_set_dht(d->ui, (int64_t)(st.nodes[0] + st.nodes[1]),
		    (int64_t)(st.good[0] + st.good[1]));
	}
	v = (struct ui_view){
		.name = n != 1 ? NULL : one->t != NULL ? torrent_name(one->t) :
		    one->m.name,
		.n = n, .done = done, .metadata = meta,
	};
	ui_update(d->ui, &v, &sum, reactor_now_ms(d->r));
	reactor_timer_in(d->ui_timer, ui_interval_ms(d->ui));
}

/* Its exit code, as for one torrent; then said why, and summed up. */
static void
item_end(struct dl_item *it)
{
	struct dl		*d = it->d;
	struct dl_item		*one;
	struct torrent_stats	 ts;
	int			 rc;

	if (it->ended)
		return;
	it->ended = true;
	if (it->running) {
		it->running = false;
		d->nrunning--;
	}
	torrent_stats(it->t, &ts);
	if (ts.downloaded > 0)
		log_info("%s: %llu of %llu bytes received were duplicates "
		    "(wasted)", torrent_name(it->t),
		    (unsigned long long)ts.wasted,
		    (unsigned long long)ts.downloaded);
	if (ts.uploaded > 0)
		log_info("%s: %llu of %llu bytes sent were of pieces sent in "
		    "full before", torrent_name(it->t),
		    (unsigned long long)ts.resent,
		    (unsigned long long)ts.uploaded);
	if (d->metadata_only && it->md_written)
		rc = EXIT_OK;
	else if (it->fatal)
		rc = it->rc != EXIT_OK ? it->rc : EXIT_IO;
	else if (it->interrupted)
		rc = EXIT_INTERRUPTED;
	else if (d->metadata_only)
		rc = it->rc != EXIT_OK ? it->rc : EXIT_FAIL;
	else
		rc = ts.complete || it->seed_over ? EXIT_OK : EXIT_FAIL;
	if (it->seed_over && rc == EXIT_OK && !d->json) {
		ui_clear(d->ui);
		if (dl_nshown(d, &one) == 1)
			printf("gtorrent: seeding done: %s\n", it->seed_why);
		else {
			printf("gtorrent: seeding done: ");
			cmd_print_safe(stdout, torrent_name(it->t));
			printf(": %s\n", it->seed_why);
		}
	}
	if (!d->metadata_only)
		/*
		 * --seed stopped by Ctrl-C: its download is done all the same
		 * (`gtorrent seed` stopped: stopped).
		 */
		item_summary(it, rc == EXIT_OK || (rc == EXIT_INTERRUPTED &&
		    ts.complete && !d->upload_only));
	else if (rc != EXIT_OK && !it->fatal)
		cmd_error("%s: %s: no metadata (%u peers met)", d->cmd,
		    torrent_name(it->t), ts.peers_ever);
	dl_json_end(it, &ts, rc);
	it->exit = rc;
}

static void
dl_ended_one(struct dl *d)
{
	if (d->nrunning == 0)
		reactor_stop(d->r);
}

/* Its trackers were told (or the wait ended): it is over. */
static void
item_left(void *arg)
{
	struct dl_item	*it = arg;

	item_end(it);
	dl_ended_one(it->d);
}

/* Leaving: peers closed, the trackers told (bounded), then item_left. */
static void
dl_stop_cb(void *arg)
{
	struct dl	*d = arg;
	struct dl_item	*it;
	size_t		 i;
	bool		 staying = false;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->running || it->leaving)
			continue;
		if (!it->stop_asked) {
			staying = true;
			continue;
		}
		it->leaving = true;
		torrent_leave(it->t, DL_STOP_MS, item_left, it);
	}
	if (!staying)
		reactor_timer_cancel(d->ui_timer);
}

static void
item_stop(struct dl_item *it)
{
	if (!it->running || it->stop_asked)
		return;
	it->stop_asked = true;
	/* not inside a peer hook: from the loop */
	if (!reactor_timer_pending(it->d->stop_timer))
		reactor_timer_in(it->d->stop_timer, 0);
}

static void
dl_on_signal(void *arg, int signo)
{
	struct dl	*d = arg;
	size_t		 i;

	if (d->interrupted) {
		log_debug("signal %d again: leaving now", signo);
		reactor_stop(d->r);
		return;
	}
	log_debug("signal %d: stopping", signo);
	d->interrupted = true;
	for (i = 0; i < d->nitems; i++) {
		if (!d->items[i].running || d->items[i].stop_asked)
			continue;
		d->items[i].interrupted = true;
		item_stop(&d->items[i]);
	}
}

static void
dl_on_complete(void *arg)
{
	struct dl_item		*it = arg;
	struct torrent_stats	 ts;
	char			*line, *safe;

	if (it->d->on_done != NULL) {
		/* completed by this run: not data found complete */
		torrent_stats(it->t, &ts);
		if (ts.downloaded > 0)
			dl_on_done_run(it);
	}

	dl_json_complete(it);
	if (it->d->seed || it->d->upload_only) {
		/* One summary, at the end: here a notice (with -q too). */
		if (!it->done_shown) {
			it->done_shown = true;
			safe = text_escape(torrent_name(it->t), TEXT_TERM);
			line = xasprintf("gtorrent: %s: complete, seeding\n",
			    safe);
			log_print(line);
			free(line);
			free(safe);
		}
		return;
	}
	item_stop(it);
}

/* A seeding limit is reached: it leaves as on Ctrl-C, but with exit 0. */
static void
dl_on_seed_limit(void *arg, enum seedlimit_reason why, const char *text)
{
	struct dl_item	*it = arg;

	log_debug("%s: seeding limit: %s", torrent_name(it->t),
	    seedlimit_reason_name(why));
	it->seed_over = true;
	snprintf(it->seed_why, sizeof(it->seed_why), "%s", text);
	item_stop(it);
}

static void
dl_on_fatal(void *arg, enum gt_err e)
{
	struct dl_item	*it = arg;

	it->fatal = true;
	if (e == GT_EINVAL)
		it->rc = EXIT_BADINPUT;	/* the metadata itself */
	item_stop(it);
}

/*
 * The .torrent of a magnet: the verified info dict as it came, the
 * magnet's trackers (one tier each, in order, as libtorrent reads them).
 */
static int
dl_write_torrent(struct dl_item *it, const struct metainfo *m)
{
	struct dl	*d = it->d;
	struct bval	*root, *list, *tier;
	struct buf	 b;
	char		*path;
	size_t		 i;
	int		 rc;

	root = bval_dict();
	if (it->ntrackers > 0) {
		bval_dict_set(root, "announce", bval_cstr(it->trackers[0]));
		list = bval_list();
		for (i = 0; i < it->ntrackers; i++) {
			tier = bval_list();
			bval_list_add(tier, bval_cstr(it->trackers[i]));
			bval_list_add(list, tier);
		}
		bval_dict_set(root, "announce-list", list);
	}
	bval_dict_set(root, "created by", bval_cstr("gtorrent " GT_VERSION));
	bval_dict_set(root, "info", bval_raw(m->info_raw, m->info_len));
	buf_init(&b, MI_MAX_TORRENT);
	if (bencode_encode_take(root, &b) != GT_OK) {
		buf_clear(&b);
		cmd_error("%s: %s: metadata too large to write", d->cmd,
		    m->name);
		return EXIT_IO;
	}
	if (mkdir(d->dir, 0777) != 0 && errno != EEXIST) {
		cmd_error("%s: %s: %s", d->cmd, d->dir, strerror(errno));
		buf_clear(&b);
		return EXIT_IO;
	}
	path = xasprintf("%s/%s.torrent", d->dir, m->name);
	rc = cmd_write_file(d->cmd, path, b.data, b.len, true);
	if (rc == EXIT_OK && d->json) {
		free(it->js_file);
		it->js_file = xstrdup(path);	/* in "done" */
	} else if (rc == EXIT_OK) {
		ui_clear(d->ui);
		cmd_print_safe(stdout, path);
		putchar('\n');
		fflush(stdout);
	}
	free(path);
	buf_clear(&b);
	return rc;
}

/* Another torrent of the command writing DIR/name, or NULL. */
static const struct dl_item *
dl_same_name(const struct dl *d, const struct dl_item *me, const char *name)
{
	const struct dl_item	*it;
	const struct metainfo	*m;
	size_t			 i;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (it == me || !it->loaded || it->dup != NULL)
			continue;
		if (!it->is_magnet)
			m = &it->m;
		else if (it->t == NULL || (m = torrent_metainfo(it->t)) == NULL)
			continue;
		if (strcmp(m->name, name) == 0)
			return it;
	}
	return NULL;
}

/*
 * File numbers of --select-file, --priority-high, --priority-low past the
 * torrent's nfiles: with one torrent an error (false, it->exit set), with
 * several a warning each (another torrent may have those files).  A
 * magnet's so= past them: a warning.
 */
static bool
item_check_files(struct dl_item *it, const char *name, size_t nfiles)
{
	static const char *const opts[] = {
		"--select-file", "--priority-high", "--priority-low",
	};
	struct dl		*d = it->d;
	const struct dl_ranges	*lists[] = { &d->select, &d->high, &d->low };
	int64_t			 max;
	size_t			 k;

	for (k = 0; k < nitems(lists); k++) {
		if ((max = dl_ranges_max(lists[k])) < (int64_t)nfiles)
			continue;
		if (d->nitems == 1) {
			cmd_error("%s: %s: no file %lld, it has %zu (see "
			    "--show-files)", name, opts[k], (long long)max + 1,
			    nfiles);
			it->exit = EXIT_BADINPUT;
			/* a magnet's ends with "stopped", a file's here */
			dl_json_error(d, it, it->t == NULL ? it->exit : -1,
			    "a file number past the torrent's files");
			return false;
		}
		cmd_warn("%s: %s: no file %lld, it has %zu: ignored", name,
		    opts[k], (long long)max + 1, nfiles);
	}
	if (d->select.n == 0 && (max = dl_ranges_max(&it->so)) >=
	    (int64_t)nfiles)
		cmd_warn("%s: so=: no file %lld (0-based %lld), it has %zu: "
		    "ignored", name, (long long)max + 1, (long long)max,
		    nfiles);
	return true;
}

static void
dl_on_metadata(void *arg, const struct metainfo *m)
{
	struct dl_item		*it = arg;
	struct dl		*d = it->d;
	const struct dl_item	*other;

	log_info("%s: metadata: %u pieces of %llu bytes, %zu files, %llu "
	    "bytes", m->name, m->npieces, (unsigned long long)m->piece_length,
	    m->nfiles, (unsigned long long)m->total_length);
	dl_json_metadata(it, m);
	if (!d->metadata_only) {
		ui_clear(d->ui);
		if ((other = dl_same_name(d, it, m->name)) != NULL) {
			/* Two torrents on one folder: this one stops. */
			cmd_error("%s: %s/%s is the data of %s too: not "
			    "downloaded", item_label(it), d->dir, m->name,
			    item_label(other));
			dl_json_error(d, it, -1, "its folder is another "
			    "torrent's: not downloaded");
		} else if (item_check_files(it, m->name, m->nfiles))
			return;
		torrent_stop(it->t);		/* no data, no file */
		it->fatal = true;
		it->rc = EXIT_BADINPUT;
		item_stop(it);
		return;
	}
	it->rc = dl_write_torrent(it, m);
	it->md_written = it->rc == EXIT_OK;
	item_stop(it);
}

/*
 * Its data is being checked (from a hashing thread; the loop is held):
 * the view or the status line shows how far, 4 times a second at most.
 */
static void
dl_on_checking(void *arg, uint64_t done, uint64_t total)
{
	struct dl_item		*it = arg;
	struct dl		*d = it->d;
	struct torrent_stats	 ts = { .have = done, .total = total };
	uint64_t		 now = reactor_clock_ms();

	it->check_done = done;
	it->check_total = total;
	if (d->json || (now - d->check_drawn < UI_TTY_MS && done < total))
		return;
	d->check_drawn = now;
	if (d->tui_view != NULL) {
		/* not a magnet's (its torrent is half made): those to add */
		if (d->checking == it)
			tui_redraw(d->tui_view);
	} else
		ui_update(d->ui, &(struct ui_view){
			.name = it->is_magnet ? it->label : it->m.name,
			.checking = true,
		}, &ts, now);
}

/* Into the session; false (said why, it->exit set) when it cannot run. */
static bool
item_add(struct dl_item *it, const struct torrent_opts *base,
    const struct netaddr *peers, size_t npeers)
{
	struct dl		*d = it->d;
	struct torrent_events	 ev = {
		.complete = dl_on_complete, .fatal = dl_on_fatal,
		.metadata = dl_on_metadata, .seed_limit = dl_on_seed_limit,
		.checking = dl_on_checking,
		.event = dl_on_event, .arg = it,
	};
	struct torrent_opts	 to = *base;
	struct torrent_stats	 ts;
	char			 err[GT_ERRLEN];
	enum gt_err		 e;

	err[0] = '\0';
	if (it->is_magnet) {
		to.trackers = it->trackers;
		to.ntrackers = it->ntrackers;
		to.metadata_only = d->metadata_only;
		if (to.nselect == 0 && it->so.n > 0) {
			to.select = it->so.v;	/* BEP 53 so= */
			to.nselect = it->so.n;
		}
		if ((e = session_add_magnet(d->s, it->mg.info_hash,
		    it->mg.dn, &to, &ev, &it->t, err)) != GT_OK) {
			cmd_error("%s", err[0] != '\0' ? err :
			    gt_strerror(e));
			it->exit = EXIT_FAIL;
			dl_json_error(d, it, it->exit, err[0] != '\0' ?
			    err : gt_strerror(e));
			return false;
		}
		if ((!to.use_trackers || it->ntrackers == 0) && npeers == 0 &&
		    it->mg.npeers == 0 && !to.dht)
			cmd_warn("%s: no tracker to ask (tr=, --tracker) and "
			    "no peer given (x.pe=, --peer): waiting for peers "
			    "to connect on port %u", torrent_name(it->t),
			    session_port(d->s));
		dl_json_added(it);
		torrent_add_peers(it->t, it->mg.peers, it->mg.npeers, true);
		torrent_add_peers(it->t, peers, npeers, true);
		return true;
	}
	if (!item_check_files(it, it->src, it->m.nfiles))
		return false;
	if ((e = session_add_torrent(d->s, &it->m, &to, &ev, &it->t, err)) !=
	    GT_OK) {
		it->t = NULL;
		if (d->upload_only && e == GT_ENOENT) {
			cmd_error("%s: no data to seed under %s", it->m.name,
			    d->dir);
			it->exit = EXIT_FAIL;
			dl_json_error(d, it, it->exit, "no data to seed");
			return false;
		}
		cmd_error("%s", err[0] != '\0' ? err : gt_strerror(e));
		it->exit = e == GT_EINVAL ? EXIT_BADINPUT : EXIT_IO;
		dl_json_error(d, it, it->exit, err[0] != '\0' ? err :
		    gt_strerror(e));
		return false;
	}
	torrent_stats(it->t, &ts);
	if (d->upload_only && ts.have_pieces == 0) {
		cmd_error("%s: no verified data to seed under %s", it->m.name,
		    d->dir);
		dl_json_error(d, it, EXIT_FAIL, "no verified data to seed");
		session_remove_torrent(d->s, it->t);
		it->t = NULL;
		it->exit = EXIT_FAIL;
		return false;
	}
	if (d->upload_only && !ts.complete)
		cmd_warn("%s: only %u of %u pieces are here; seeding those",
		    it->m.name, ts.have_pieces, ts.npieces);
	dl_json_added(it);
	if (ts.complete && !d->seed && !d->upload_only) {
		dl_json_end(it, &ts, EXIT_OK);
		item_summary(it, true);		/* nothing to do */
		it->final = ts;
		it->has_final = true;
		session_remove_torrent(d->s, it->t);	/* never started */
		it->t = NULL;
		it->ended = true;
		it->exit = EXIT_OK;
		return false;
	}
	if (to.use_trackers && ts.trackers == 0 && npeers == 0 &&
	    !d->upload_only && (!to.dht || it->m.private))
		cmd_warn("%s: no usable tracker%s and no --peer: waiting for "
		    "peers to connect on port %u", it->m.name, to.dht ?
		    " (a private torrent: no DHT)" : "", session_port(d->s));
	torrent_add_peers(it->t, peers, npeers, true);
	return true;
}

static int
dl_worst(const struct dl *d)
{
	size_t	i;
	int	rc = EXIT_OK;

	for (i = 0; i < d->nitems; i++)
		if (dl_rank(d->items[i].exit) > dl_rank(rc))
			rc = d->items[i].exit;
	return rc;
}

/* The full-screen view's torrents: those shown, as the status line's. */
static size_t
dl_tui_torrents(void *arg, struct tui_torrent *out, size_t max)
{
	struct dl	*d = arg;
	struct dl_item	*it;
	size_t		 i, n = 0;

	bool		 waiting;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		/* not in the session yet: its data check comes */
		waiting = it->t == NULL && !it->has_final && !it->ended &&
		    it->loaded && it->dup == NULL && it->exit == EXIT_OK &&
		    d->checking != NULL;
		if (it->t == NULL && !it->has_final && !waiting)
			continue;
		if (n < max)
			out[n] = (struct tui_torrent){
				.t = it->t,
				.name = it->is_magnet ? it->label : it->m.name,
				.st = it->final,
				.stopping = it->stop_asked && !it->ended,
				.ended = it->ended || (it->t == NULL &&
				    !waiting),
				.checking = waiting && it == d->checking,
				.queued = waiting && it != d->checking,
				.check_done = it->check_done,
				.check_total = it->check_total,
			};
		if (n < max && waiting)
			out[n].st.seeders = out[n].st.leechers = -1;
		n++;
	}
	return n;
}

/* `q` in the view: as Ctrl-C. */
static void
dl_tui_quit(void *arg)
{
	dl_on_signal(arg, SIGINT);
}

static void
dl_tui_start(struct dl *d)
{
	struct tui_hooks	h = {
		.torrents = dl_tui_torrents, .quit = dl_tui_quit, .arg = d,
	};
	char			err[GT_ERRLEN];

	if (!d->tui_on)
		return;
	if (tui_new(&d->tui_view, d->r, d->s, &h, err) != GT_OK) {
		/* the status line then; said when --tui asked for it */
		if (d->tui > 0)
			cmd_warn("no full-screen view: %s", err);
		d->tui_view = NULL;
		ui_free(d->ui);
		d->ui = ui_new(&(struct ui_opts){
			.quiet = d->quiet || d->metadata_only, .out = stdout,
			.tty = isatty(STDOUT_FILENO) == 1,
			.err = STDERR_FILENO,
		});
	}
}

/* The terminal back before the last summary lines. */
static void
dl_tui_end(struct dl *d)
{
	tui_free(d->tui_view);
	d->tui_view = NULL;
}

/*
 * A download whose only tracker keeps answering with a "failure reason"
 * and that has no other way to find peers (no DHT, no --peer, nobody
 * known or connected, so no PEX either) would wait forever: it ends with
 * the tracker's reason (exit 1) after DL_REFUSALS of them.
 */
static void
dl_check_refused(void *arg)
{
	struct dl		*d = arg;
	struct dl_item		*it;
	struct torrent_stats	 ts;
	const char		*why;
	size_t			 i;

	for (i = 0; i < d->nitems && !d->upload_only; i++) {
		it = &d->items[i];
		if (!it->running || it->stop_asked || it->t == NULL)
			continue;
		torrent_stats(it->t, &ts);
		if (ts.complete || ts.trackers != 1 || ts.dht || ts.known > 0 ||
		    ts.conns > 0 || ts.peers_ever > 0 ||
		    torrent_tracker_refusals(it->t, &why) < DL_REFUSALS)
			continue;
		ui_clear(d->ui);
		cmd_error("%s: tracker says: %s", torrent_name(it->t), why);
		dl_json_error(d, it, -1, why);
		it->fatal = true;
		it->rc = EXIT_FAIL;
		item_stop(it);
	}
	reactor_timer_in(d->check_timer, DL_CHECK_MS);
}

/*
 * The listen port, on stderr, when it is not the one asked for: -p 0, or
 * the default taken and the next free one used.
 */
static void
dl_say_port(const struct dl *d, const struct session_opts *so)
{
	char	line[64];

	if (d->quiet || !so->listen || session_port(d->s) == 0 ||
	    session_port(d->s) == so->port)
		return;
	snprintf(line, sizeof(line), "gtorrent: listening on port %u\n",
	    session_port(d->s));
	log_print(line);
}

/* Runs every torrent that loaded until all are done; the exit code. */
static int
dl_run(struct dl *d, const struct session_opts *so,
    const struct torrent_opts *to, const struct netaddr *peers,
    size_t npeers)
{
	struct dl_item	*it;
	char		 err[GT_ERRLEN];
	size_t		 i, left;

	if ((d->r = reactor_new()) == NULL) {
		cmd_error("%s: cannot start the event loop", d->cmd);
		return EXIT_FAIL;
	}
	d->start_ms = reactor_now_ms(d->r);
	if (session_new(&d->s, d->r, so, err) != GT_OK) {
		cmd_error("%s", err);
		dl_json_start(d, -1);
		dl_json_error(d, NULL, EXIT_FAIL, err);
		return EXIT_FAIL;
	}
	dl_say_port(d, so);
	dl_json_start(d, session_port(d->s));
	/* Before the data checks, so that Ctrl-C during them stops cleanly. */
	d->ui_timer = reactor_timer_new(d->r, dl_ui_cb, d);
	d->stop_timer = reactor_timer_new(d->r, dl_stop_cb, d);
	reactor_on_signal(d->r, SIGINT, dl_on_signal, d);
	reactor_on_signal(d->r, SIGTERM, dl_on_signal, d);
	reactor_on_signal(d->r, SIGHUP, dl_on_signal, d);	/* terminal closed */
	d->check_timer = reactor_timer_new(d->r, dl_check_refused, d);
	reactor_timer_in(d->check_timer, DL_CHECK_MS);
	dl_tui_start(d);		/* the checks below show there */
	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->loaded || it->dup != NULL)
			continue;
		/*
		 * Each check holds the loop: a Ctrl-C (or `q`) that came
		 * during one is taken before the next, and the torrents not
		 * added yet are not.
		 */
		if (reactor_poll(d->r) != 0 || d->interrupted) {
			it->exit = EXIT_INTERRUPTED;
			continue;
		}
		d->checking = it;
		if (d->tui_view != NULL)
			tui_redraw(d->tui_view);
		if (item_add(it, to, peers, npeers)) {
			it->running = true;
			d->nrunning++;
		}
	}
	d->checking = NULL;
	(void)reactor_poll(d->r);	/* a Ctrl-C during the last check */
	for (i = 0, left = 0; i < d->nitems; i++)
		left += d->items[i].loaded && d->items[i].dup == NULL &&
		    d->items[i].exit == EXIT_INTERRUPTED && !d->items[i].ended;
	if (left > 0)
		cmd_warn("interrupted: %zu torrent%s not started", left,
		    left == 1 ? "" : "s");
	if (d->nrunning == 0) {
		dl_tui_end(d);
		return dl_worst(d);
	}
	for (i = 0; i < d->nitems; i++)
		if (d->items[i].running && !d->items[i].stop_asked)
			torrent_start(d->items[i].t);
	dl_ui_cb(d);			/* a first sample (and line) now */
	if (d->json) {
		d->json_timer = reactor_timer_new(d->r, dl_json_tick, d);
		reactor_timer_in(d->json_timer, DL_JSON_STATS_MS);
	}
	if (reactor_run(d->r) != 0)
		d->loop_failed = true;
	dl_tui_end(d);
	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (!it->running)
			continue;
		if (d->loop_failed)
			it->fatal = true;
		item_end(it);
	}
	return dl_worst(d);
}

/*
 * Parses each source (errors said, exit codes kept) and finds those given
 * twice (a warning; the first runs) or writing the same folder (an
 * error; the first runs).  The number that can run.
 */
static size_t
dl_load(struct dl *d, const struct dl_src *srcs)
{
	struct dl_item	*it, *o;
	char		 err[GT_ERRLEN], hex[2 * SHA1_LEN + 1];
	size_t		 i, j, k, n = 0;

	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		it->d = d;
		it->src = srcs[i].arg;
		it->is_magnet = srcs[i].magnet;
		if (it->is_magnet) {
			if (magnet_parse(&it->mg, it->src, err) != GT_OK) {
				cmd_error("magnet: %s", err);
				it->exit = EXIT_BADINPUT;
				continue;
			}
			hex_encode(hex, it->mg.info_hash, SHA1_LEN);
			snprintf(it->label, sizeof(it->label),
			    "magnet:?xt=urn:btih:%s", hex);
			for (k = 0; k < it->mg.nwarnings; k++)
				cmd_warn("magnet: %s", it->mg.warnings[k]);
			/* BEP 53 so= (0-based, as the engine takes them) */
			it->so.v = xreallocarray(NULL, it->mg.nselect + 1,
			    sizeof(*it->so.v));
			for (k = 0; k < it->mg.nselect; k++)
				it->so.v[k] = (struct torrent_range){
					.first = it->mg.select[k].first,
					.last = it->mg.select[k].last,
				};
			it->so.n = it->mg.nselect;
			/* The magnet's trackers, then --tracker ones. */
			it->trackers = xreallocarray(NULL, it->mg.ntrackers +
			    d->ntrackers + 1, sizeof(*it->trackers));
			for (k = 0; k < it->mg.ntrackers; k++)
				it->trackers[k] = it->mg.trackers[k];
			for (k = 0; k < d->ntrackers; k++)
				it->trackers[it->mg.ntrackers + k] =
				    d->trackers[k];
			it->ntrackers = it->mg.ntrackers + d->ntrackers;
		} else if ((it->exit = cmd_load_torrent_src(it->src, d->bind,
		    &it->m)) != EXIT_OK)
			continue;
		it->loaded = true;
		for (j = 0; j < i && it->dup == NULL; j++) {
			o = &d->items[j];
			if (!o->loaded || o->dup != NULL)
				continue;
			if (memcmp(item_info_hash(o), item_info_hash(it),
			    SHA1_LEN) == 0) {
				cmd_warn("%s: the same torrent as %s: run "
				    "once", item_label(it), item_label(o));
				it->dup = o;
			} else if (!it->is_magnet && !o->is_magnet &&
			    !d->upload_only &&
			    strcmp(it->m.name, o->m.name) == 0) {
				cmd_error("%s: %s/%s is the data of %s too: "
				    "not downloaded", item_label(it), d->dir,
				    it->m.name, item_label(o));
				it->dup = o;
				it->exit = EXIT_BADINPUT;
			}
		}
		if (it->dup == NULL)
			n++;
	}
	return n;
}

static int
cmd_download_common(int argc, char **argv, const char *cmd, bool seed_cmd)
{
	enum {
		OPT_PEER = 256, OPT_NO_TRACKER, OPT_MAX_PEERS, OPT_SEED,
		OPT_NO_RAREST, OPT_NO_END_GAME, OPT_TRACKER,
		OPT_METADATA_ONLY, OPT_NO_PEX, OPT_NO_DHT, OPT_DHT_PORT,
		OPT_DHT_BOOTSTRAP, OPT_NO_CHOKING, OPT_NO_OPTIMISTIC,
		OPT_NO_ANTI_SNUB, OPT_UPLOAD_SLOTS, OPT_SUPER_SEED,
		OPT_MAX_DOWN, OPT_MAX_UP, OPT_SEED_RATIO, OPT_SEED_TIME,
		OPT_SEED_IDLE, OPT_RECHECK, OPT_SELECT_FILE, OPT_EXCLUDE,
		OPT_PRIO_HIGH, OPT_PRIO_LOW, OPT_SEQUENTIAL, OPT_PREALLOCATE,
		OPT_TUI, OPT_NO_TUI,
		OPT_BIND,
		OPT_ON_DONE = 400,	/* h-cli */
		OPT_JSON,
	};
	static const struct option	 longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "magnet", required_argument, NULL, 'm' },
		{ "input-file", required_argument, NULL, 'i' },
		{ "metadata-only", no_argument, NULL, OPT_METADATA_ONLY },
		{ "recheck", no_argument, NULL, OPT_RECHECK },
		{ "show-files", no_argument, NULL, 'S' },
		{ "select-file", required_argument, NULL, OPT_SELECT_FILE },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "priority-high", required_argument, NULL, OPT_PRIO_HIGH },
		{ "priority-low", required_argument, NULL, OPT_PRIO_LOW },
		{ "sequential", no_argument, NULL, OPT_SEQUENTIAL },
		{ "preallocate", no_argument, NULL, OPT_PREALLOCATE },
		{ "no-pex", no_argument, NULL, OPT_NO_PEX },
		{ "dht", no_argument, NULL, 'd' },
		{ "no-dht", no_argument, NULL, OPT_NO_DHT },
		{ "dht-port", required_argument, NULL, OPT_DHT_PORT },
		{ "dht-bootstrap", required_argument, NULL,
		    OPT_DHT_BOOTSTRAP },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "interface", required_argument, NULL, OPT_BIND },
		{ "peer", required_argument, NULL, OPT_PEER },
		{ "no-tracker", no_argument, NULL, OPT_NO_TRACKER },
		{ "tracker", required_argument, NULL, OPT_TRACKER },
		{ "max-peers", required_argument, NULL, OPT_MAX_PEERS },
		{ "seed", no_argument, NULL, OPT_SEED },
		{ "rarest-first", no_argument, NULL, 'r' },
		{ "rarest-piece-first", no_argument, NULL, 'r' },
		{ "no-rarest-first", no_argument, NULL, OPT_NO_RAREST },
		{ "end-game", no_argument, NULL, 'e' },
		{ "end-game-mode", no_argument, NULL, 'e' },
		{ "no-end-game", no_argument, NULL, OPT_NO_END_GAME },
		{ "choking", no_argument, NULL, 'c' },
		{ "choking-strategy", no_argument, NULL, 'c' },
		{ "no-choking", no_argument, NULL, OPT_NO_CHOKING },
		{ "optimistic-unchoke", no_argument, NULL, 'O' },
		{ "optimistic-unchoking", no_argument, NULL, 'O' },
		{ "no-optimistic-unchoke", no_argument, NULL,
		    OPT_NO_OPTIMISTIC },
		{ "anti-snubbing", no_argument, NULL, 'a' },
		{ "no-anti-snubbing", no_argument, NULL, OPT_NO_ANTI_SNUB },
		{ "upload-slots", required_argument, NULL, OPT_UPLOAD_SLOTS },
		{ "bbs-plus", no_argument, NULL, 'b' },
		{ "super-seed", no_argument, NULL, OPT_SUPER_SEED },
		{ "max-download-rate", required_argument, NULL, OPT_MAX_DOWN },
		{ "max-upload-rate", required_argument, NULL, OPT_MAX_UP },
		{ "seed-ratio", required_argument, NULL, OPT_SEED_RATIO },
		{ "seed-time", required_argument, NULL, OPT_SEED_TIME },
		{ "seed-idle", required_argument, NULL, OPT_SEED_IDLE },
		{ "tui", no_argument, NULL, OPT_TUI },
		{ "no-tui", no_argument, NULL, OPT_NO_TUI },
		{ "on-done", required_argument, NULL, OPT_ON_DONE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_opts	 so = {
		.port = SESSION_DEFAULT_PORT, .listen = true,
		.max_peers = SESSION_DEFAULT_PEERS, .dht = true,
	};
	struct torrent_opts	 to = {
		.dir = ".", .rarest_first = true, .end_game = true,
		.max_peers = TORRENT_DEFAULT_PEERS, .use_trackers = true,
		.upload_only = seed_cmd, .seed = seed_cmd, .pex = true,
		.dht = true, .choking = true, .optimistic = true,
		.anti_snub = true,
	};
	struct dl		 d = { .cmd = cmd, .upload_only = seed_cmd };
	struct cmd_config	 conf = { .path = NULL };
	struct netaddr		*peers = NULL;
	struct dl_src		*srcs = NULL;
	size_t			 npeers = 0, ntrackers = 0, nboot = 0;
	size_t			 nsrcs = 0, nmagnets = 0, nstdin = 0;
	char			**trackers = NULL;
	char			**boot = NULL, *state_dir = NULL;
	char			**exclude = NULL;
	size_t			 nexclude = 0, i;
	uint64_t		 v;
	double			 x;
	bool			 quiet = false, show_files = false;
	int			 c, verbose = 0, rc;

	/* The config file's options first: the command line's win. */
	if ((rc = cmd_config(&conf, cmd, longopts, &argc, &argv)) != EXIT_OK)
		goto out;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:m:i:p:dreqvhcOabS", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			to.dir = optarg;
			break;
		case 'm':
			if ((rc = dl_add_src(cmd, optarg, true, &srcs,
			    &nsrcs)) != EXIT_OK)
				goto out;
			break;
		case 'i':
			if (strcmp(optarg, "-") == 0)
				nstdin++;
			if ((rc = dl_read_input(cmd, optarg, &srcs,
			    &nsrcs)) != EXIT_OK)
				goto out;
			break;
		case OPT_METADATA_ONLY:
			d.metadata_only = true;
			break;
		case OPT_RECHECK:
			to.recheck = true;
			break;
		case 'S':
			show_files = true;
			break;
		case OPT_SELECT_FILE:
			if ((rc = dl_parse_files(cmd, "--select-file", optarg,
			    &d.select)) != EXIT_OK)
				goto out;
			break;
		case OPT_PRIO_HIGH:
			if ((rc = dl_parse_files(cmd, "--priority-high",
			    optarg, &d.high)) != EXIT_OK)
				goto out;
			break;
		case OPT_PRIO_LOW:
			if ((rc = dl_parse_files(cmd, "--priority-low", optarg,
			    &d.low)) != EXIT_OK)
				goto out;
			break;
		case OPT_EXCLUDE:
			if (*optarg == '\0') {
				rc = cmd_usage_error(cmd, "--exclude needs a "
				    "pattern (e.g. '*.nfo')");
				goto out;
			}
			if (nexclude == DL_MAX_EXCLUDE) {
				rc = cmd_usage_error(cmd, "more than %u "
				    "--exclude options", DL_MAX_EXCLUDE);
				goto out;
			}
			exclude = xreallocarray(exclude, nexclude + 1,
			    sizeof(*exclude));
			exclude[nexclude++] = optarg;
			break;
		case OPT_SEQUENTIAL:
			to.sequential = true;
			break;
		case OPT_PREALLOCATE:
			to.preallocate = true;
			break;
		case OPT_NO_PEX:
			to.pex = false;
			break;
		case 'd':
			so.dht = true;
			break;
		case OPT_NO_DHT:
			so.dht = false;
			break;
		case OPT_DHT_PORT:
			if (cmd_parse_port(optarg, &so.dht_port) != 0) {
				rc = cmd_usage_error(cmd, "--dht-port must "
				    "be 1 to 65535, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_DHT_BOOTSTRAP:
			if ((rc = cmd_add_bootstrap(cmd, optarg, &boot,
			    &nboot)) != EXIT_OK)
				goto out;
			break;
		case 'p':
			if (cmd_parse_size(optarg, &v) != 0 || v > 65535) {
				rc = cmd_usage_error(cmd, "port must be 0 to "
				    "65535, not '%s'", optarg);
				goto out;
			}
			so.port = (uint16_t)v;
			so.port_exact = true;
			break;
		case OPT_BIND:
			if (cmd_parse_bind(optarg, &so.bind) != 0) {
				rc = cmd_usage_error(cmd, "--bind needs a "
				    "numeric IPv4 or IPv6 address or the name "
				    "of an interface with one, not '%s'",
				    optarg);
				goto out;
			}
			break;
		case OPT_PEER:
			if (npeers == DL_MAX_PEER_ARGS) {
				rc = cmd_usage_error(cmd, "more than %u "
				    "--peer options", DL_MAX_PEER_ARGS);
				goto out;
			}
			peers = xreallocarray(peers, npeers + 1,
			    sizeof(*peers));
			if (addr_parse(optarg, 0, &peers[npeers]) != GT_OK) {
				rc = cmd_usage_error(cmd, "--peer needs a "
				    "numeric IPv4:PORT or [IPv6]:PORT, not "
				    "'%s'", optarg);
				goto out;
			}
			npeers++;
			break;
		case OPT_NO_TRACKER:
			to.use_trackers = false;
			break;
		case OPT_TRACKER:
			if (!tracker_client_url_ok(optarg)) {
				rc = cmd_usage_error(cmd, "--tracker needs an "
				    "http://, https:// or udp://host:port URL, "
				    "not '%s'", optarg);
				goto out;
			}
			if (ntrackers == DL_MAX_TRACKER_ARGS) {
				rc = cmd_usage_error(cmd, "more than %u "
				    "--tracker options", DL_MAX_TRACKER_ARGS);
				goto out;
			}
			trackers = xreallocarray(trackers, ntrackers + 1,
			    sizeof(*trackers));
			trackers[ntrackers++] = optarg;
			break;
		case OPT_MAX_PEERS:
			if (cmd_parse_size(optarg, &v) != 0 || v < 1 ||
			    v > DL_MAX_PEERS) {
				rc = cmd_usage_error(cmd, "--max-peers must "
				    "be 1 to %u, not '%s'", DL_MAX_PEERS,
				    optarg);
				goto out;
			}
			so.max_peers = to.max_peers = (uint32_t)v;
			break;
		case OPT_SEED:
			to.seed = true;
			break;
		case 'r':
			to.rarest_first = true;
			break;
		case OPT_NO_RAREST:
			to.rarest_first = false;
			break;
		case 'e':
			to.end_game = true;
			break;
		case OPT_NO_END_GAME:
			to.end_game = false;
			break;
		case 'c':
			to.choking = true;
			break;
		case OPT_NO_CHOKING:
			to.choking = false;
			break;
		case 'O':
			to.optimistic = true;
			break;
		case OPT_NO_OPTIMISTIC:
			to.optimistic = false;
			break;
		case 'a':
			to.anti_snub = true;
			break;
		case OPT_NO_ANTI_SNUB:
			to.anti_snub = false;
			break;
		case OPT_UPLOAD_SLOTS:
			if (cmd_parse_size(optarg, &v) != 0 || v < 1 ||
			    v > DL_MAX_SLOTS) {
				rc = cmd_usage_error(cmd, "--upload-slots "
				    "must be 1 to %u, not '%s'", DL_MAX_SLOTS,
				    optarg);
				goto out;
			}
			to.upload_slots = (uint32_t)v;
			break;
		case 'b':
			to.bbs_plus = true;
			break;
		case OPT_SUPER_SEED:
			to.super_seed = true;
			break;
		case OPT_MAX_DOWN:
		case OPT_MAX_UP:
			if (cmd_parse_size(optarg, &v) != 0 ||
			    (v != 0 && v < DL_MIN_RATE) || v > DL_MAX_RATE) {
				rc = cmd_usage_error(cmd, "%s must be 0 (no "
				    "limit) or 1k to 100G bytes/s, not '%s'",
				    c == OPT_MAX_DOWN ? "--max-download-rate" :
				    "--max-upload-rate", optarg);
				goto out;
			}
			if (c == OPT_MAX_DOWN)
				to.max_down_rate = v;
			else
				to.max_up_rate = v;
			break;
		case OPT_SEED_RATIO:
			if (cmd_parse_decimal(optarg, 0.001, 1e6, &x) != 0) {
				rc = cmd_usage_error(cmd, "--seed-ratio must "
				    "be a number above 0 (e.g. 1.5), not '%s'",
				    optarg);
				goto out;
			}
			to.seed_ratio = x;
			to.seed = true;
			break;
		case OPT_SEED_TIME:
		case OPT_SEED_IDLE:
			if (cmd_parse_decimal(optarg, 0.01, 1e6, &x) != 0) {
				rc = cmd_usage_error(cmd, "%s must be minutes "
				    "above 0 (e.g. 30 or 0.5), not '%s'",
				    c == OPT_SEED_TIME ? "--seed-time" :
				    "--seed-idle", optarg);
				goto out;
			}
			if (c == OPT_SEED_TIME)
				to.seed_time_s = (uint32_t)(x * 60 + 0.5);
			else
				to.seed_idle_s = (uint32_t)(x * 60 + 0.5);
			to.seed = true;
			break;
		case OPT_TUI:
			if (!isatty(STDOUT_FILENO)) {
				rc = cmd_usage_error(cmd, "--tui needs a "
				    "terminal on stdout");
				goto out;
			}
			d.tui = 1;
			break;
		case OPT_NO_TUI:
			d.tui = -1;
			break;
		case OPT_ON_DONE:
			if (*optarg == '\0' || seed_cmd ||
			    strlen(optarg) > DL_ON_DONE_MAX) {
				rc = seed_cmd ? cmd_usage_error(cmd, "seed "
				    "downloads nothing: --on-done is for "
				    "downloads") : cmd_usage_error(cmd,
				    "--on-done needs a command of 1 to %u "
				    "bytes", DL_ON_DONE_MAX);
				goto out;
			}
			d.on_done = optarg;
			break;
		case 'q':
			quiet = d.quiet = true;
			break;
		case OPT_JSON:
			d.json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			dl_usage(stdout, seed_cmd);
			rc = EXIT_OK;
			goto out;
		default:
			rc = cmd_bad_option(cmd, c, argv);
			goto out;
		}
	}
	for (; optind < argc; optind++)
		if ((rc = dl_add_src(cmd, argv[optind],
		    strncasecmp(argv[optind], "magnet:", 7) == 0, &srcs,
		    &nsrcs)) != EXIT_OK)
			goto out;
	for (i = 0; i < nsrcs; i++) {
		nmagnets += srcs[i].magnet;
		nstdin += !srcs[i].magnet && strcmp(srcs[i].arg, "-") == 0;
	}
	if (nsrcs == 0) {
		rc = cmd_usage_error(cmd, "missing FILE.torrent or -m MAGNET");
		goto out;
	}
	if (nmagnets > 0 && seed_cmd) {
		rc = cmd_usage_error(cmd, "seed needs a FILE.torrent, not a "
		    "magnet");
		goto out;
	}
	if (nstdin > 1) {
		rc = cmd_usage_error(cmd, "standard input (-) given twice");
		goto out;
	}
	if (show_files) {
		if (nmagnets > 0) {
			rc = cmd_usage_error(cmd, "--show-files needs a "
			    ".torrent: a magnet's file list comes with its "
			    "metadata (fetch it with --metadata-only, then "
			    "--show-files DIR/NAME.torrent)");
			goto out;
		}
		rc = dl_show_files(cmd, srcs, nsrcs);
		goto out;
	}
	if (seed_cmd && (d.high.n > 0 || d.low.n > 0 || to.sequential ||
	    to.preallocate)) {
		rc = cmd_usage_error(cmd, "seed downloads nothing: %s is for "
		    "downloads", d.high.n > 0 ? "--priority-high" : d.low.n > 0 ?
		    "--priority-low" : to.sequential ? "--sequential" :
		    "--preallocate");
		goto out;
	}
	if (d.metadata_only && nmagnets < nsrcs) {
		rc = cmd_usage_error(cmd, "--metadata-only needs a magnet "
		    "(-m)%s", nmagnets > 0 ? ", and magnets only" : "");
		goto out;
	}
	if (d.metadata_only && to.seed) {
		rc = cmd_usage_error(cmd, "--metadata-only and seeding "
		    "(--seed, --seed-ratio, --seed-time, --seed-idle) do not "
		    "go together");
		goto out;
	}
	if (!so.dht && (so.dht_port != 0 || nboot > 0)) {
		rc = cmd_usage_error(cmd, "%s needs the DHT (drop --no-dht)",
		    so.dht_port != 0 ? "--dht-port" : "--dht-bootstrap");
		goto out;
	}
	if (!to.use_trackers && npeers == 0 && !seed_cmd && nmagnets == 0 &&
	    !so.dht) {
		rc = cmd_usage_error(cmd, "--no-tracker needs at least one "
		    "--peer (or the DHT)");
		goto out;
	}
	cmd_set_verbosity(verbose);

	d.dir = to.dir;
	d.bind = &so.bind;
	d.seed = to.seed;
	d.verbose = verbose > 0;
	d.trackers = trackers;
	d.ntrackers = ntrackers;
	to.trackers = trackers;
	to.ntrackers = ntrackers;
	to.select = d.select.v;
	to.nselect = d.select.n;
	to.exclude = exclude;
	to.nexclude = nexclude;
	to.high = d.high.v;
	to.nhigh = d.high.n;
	to.low = d.low.v;
	to.nlow = d.low.n;
	d.items = xcalloc(nsrcs, sizeof(*d.items));
	d.nitems = nsrcs;
	if ((i = dl_load(&d, srcs)) == 0) {
		dl_json_start(&d, -1);
		rc = dl_worst(&d);
		goto out;
	}
	if (!seed_cmd && (rc = dl_check_dir(to.dir)) != EXIT_OK)
		goto out;		/* seeding only reads */
	if (i > 1) {
		/* The rates are for all together (each may use them all). */
		so.max_down_rate = to.max_down_rate;
		so.max_up_rate = to.max_up_rate;
	}
	to.dht = so.dht;
	if (so.dht) {
		so.dht_bootstrap = boot;
		so.ndht_bootstrap = nboot;
	}
	/* The DHT's table and the resume records. */
	so.state_dir = to.state_dir = state_dir = cmd_state_dir();
	signal(SIGPIPE, SIG_IGN);
	if (d.tui > 0 && d.json) {
		rc = cmd_usage_error(cmd, "--tui and --json both want stdout");
		goto out;
	}
	d.tui_on = d.tui > 0 || (d.tui == 0 && !quiet && !d.json && i > 1 &&
	    isatty(STDERR_FILENO) && tui_can());
	d.ui = ui_new(&(struct ui_opts){
		.quiet = quiet || d.metadata_only || d.json || d.tui_on,
		.out = stdout, .tty = isatty(STDOUT_FILENO) == 1,
		.err = STDERR_FILENO,
	});
	rc = dl_run(&d, &so, &to, peers, npeers);
	dl_on_done_wait(&d);		/* --on-done commands, a while */
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_IO;

out:
	reactor_timer_free(d.json_timer);
	ui_json_clear(&d.js);
	reactor_timer_free(d.ui_timer);
	reactor_timer_free(d.stop_timer);
	reactor_timer_free(d.check_timer);
	session_free(d.s);		/* and the torrents */
	reactor_free(d.r);
	ui_free(d.ui);
	for (i = 0; i < d.nitems; i++) {
		metainfo_clear(&d.items[i].m);
		magnet_clear(&d.items[i].mg);
		free(d.items[i].trackers);
		free(d.items[i].so.v);
		free(d.items[i].js_file);
	}
	free(d.items);
	for (i = 0; i < nsrcs; i++)
		free(srcs[i].arg);
	free(srcs);
	free(peers);
	free(trackers);
	free(boot);
	free(exclude);
	free(d.select.v);
	free(d.high.v);
	free(d.low.v);
	free(state_dir);
	cmd_config_clear(&conf);
	return rc;
}

int
cmd_download(int argc, char **argv)
{
	return cmd_download_common(argc, argv, "download", false);
}

int
cmd_seed(int argc, char **argv)
{
	return cmd_download_common(argc, argv, "seed", true);
}
