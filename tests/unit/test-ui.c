/* test-ui.c - the status line and the summary, on pipes with a fake clock */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "log.h"
#include "torrent.h"
#include "ui.h"
#include "util.h"

#define MIB	(1024 * 1024)

static const char *const names[] = {
	"ubuntu-24.04.1-desktop-amd64-with-a-rather-long-suffix-added.iso",
	"日本語のとても長いファイル名とフォルダー名のテスト用データ.bin",
	"Ünïcödé naïve café, résume\xcc\x81\xcc\x81 with ✓ and 😀😀 at the end",
	"short",
};

/* One ui writing to a pipe (out and err both, in order), cols wide. */
struct rig {
	struct ui	*u;
	FILE		*out;
	int		 rd;		/* the pipe's reading end */
};

static void
rig_open(struct rig *r, bool tty, int cols)
{
	int	fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_neq(fcntl(fds[0], F_SETFL, O_NONBLOCK), -1);
	r->rd = fds[0];
	r->out = fdopen(fds[1], "w");
	cr_assert_not_null(r->out);
	r->u = ui_new(&(struct ui_opts){
		.tty = tty, .out = r->out, .err = fds[1], .cols = cols,
	});
}

static void
rig_close(struct rig *r)
{
	ui_free(r->u);
	fclose(r->out);
	close(r->rd);
}

/* What came out since the last call, NUL-terminated (malloc'd). */
static char *
rig_read(struct rig *r)
{
	char	*b = NULL;
	size_t	 len = 0;
	ssize_t	 n;
	char	 chunk[4096];

	while ((n = read(r->rd, chunk, sizeof(chunk))) > 0) {
		b = realloc(b, len + (size_t)n + 1);
		memcpy(b + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	if (b == NULL)
		b = calloc(1, 1);
	b[len] = '\0';
	return b;
}

/* Display columns by the C library's wcwidth (the oracle). */
static int
cols_of(const char *s, size_t n)
{
	mbstate_t	st;
	wchar_t		wc;
	size_t		k;
	int		w = 0, c;

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		k = mbrtowc(&wc, s, n, &st);
		cr_assert(k != (size_t)-1 && k != (size_t)-2, "bad UTF-8");
		if (k == 0)
			break;
		c = wcwidth(wc);
		w += c < 0 ? 1 : c;
		s += k;
		n -= k;
	}
	return w;
}

/* Every segment between "\r"s, "\033[K" taken off, within cols - 1. */
static void
check_width(const char *out, int cols)
{
	const char	*p = out, *e;

	while (*p != '\0') {
		e = strchr(p, '\r');
		if (e == NULL)
			e = p + strlen(p);
		if (strncmp(p, "\033[K", 3) == 0)
			p += 3;
		cr_assert_leq(cols_of(p, (size_t)(e - p)), cols - 1,
		    "%d columns: %.*s", cols, (int)(e - p), p);
		p = *e == '\r' ? e + 1 : e;
	}
}

/* The last status line drawn, "\033[K" and "\r" taken off (static). */
static const char *
last_line(const char *out)
{
	static char	line[UI_LINE_MAX];
	const char	*p = strrchr(out, '\r');

	cr_assert_not_null(p, "no line in '%s'", out);
	p++;
	if (strncmp(p, "\033[K", 3) == 0)
		p += 3;
	snprintf(line, sizeof(line), "%s", p);
	return line;
}

static struct torrent_stats
stats(uint64_t have, uint64_t total, uint64_t down, uint64_t up)
{
	return (struct torrent_stats){
		.have = have, .total = total, .downloaded = down,
		.uploaded = up, .peers = 3, .conns = 4, .known = 9,
		.dht_peers = 5, .npieces = 100,
	};
}

static void
setup(void)
{
	cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
}

TestSuite(ui, .init = setup);

Test(ui, never_wider_than_the_terminal)
{
	struct torrent_stats	ts;
	struct ui_view		v = { 0 };
	struct rig		r;
	uint64_t		now;
	size_t			i;
	char			*out;
	int			cols;

	for (i = 0; i < nitems(names); i++)
		for (cols = 20; cols <= 200; cols++) {
			rig_open(&r, true, cols);
			ui_set_swarm(r.u, 12, 345);
			ui_set_dht(r.u, 1234, 567);
			v.name = names[i];
			for (now = 1000; now <= 3000; now += 500) {
				ts = stats(now * 7777, 64ull * MIB * 1024,
				    now * 7777, now * 333);
				ui_update(r.u, &v, &ts, now);
			}
			out = rig_read(&r);
			cr_assert(strlen(out) > 0);
			check_width(out, cols);
			cr_assert(cols < 40 || strncmp(last_line(out),
			    names[i], 3) == 0, "name first: %s",
			    last_line(out));
			free(out);
			rig_close(&r);
		}
}

/* The line at cols columns after two samples a second apart. */
static char *
line_at(const char *name, int cols)
{
	struct torrent_stats	ts;
	struct ui_view		v = { .name = name };
	struct rig		r;
	char			*out, *line;

	rig_open(&r, true, cols);
	ui_set_swarm(r.u, 12, 345);
	ui_set_dht(r.u, 1234, 567);
	ts = stats(0, 64 * MIB, 0, 0);
	ui_update(r.u, &v, &ts, 1000);
	ts = stats(MIB, 64 * MIB, MIB, MIB / 2);
	ui_update(r.u, &v, &ts, 2000);
	out = rig_read(&r);
	line = strdup(last_line(out));
	free(out);
	rig_close(&r);
	return line;
}

Test(ui, shortening_order)
{
	const char	*name = "a-name-of-forty-columns-exactly-00000000";
	char		*full, *l;
	int		 w, cols;
	bool		 extra_gone = false, up_gone = false, name_short = false;
	bool		 peers_gone = false;

	full = line_at(name, 500);
	cr_assert(strstr(full, "swarm 12 seeders 345 leechers") != NULL, "%s",
	    full);
	cr_assert(strstr(full, "dht 1234 nodes (567 good) 5 peers") != NULL);
	cr_assert(strncmp(full, name, strlen(name)) == 0, "%s", full);
	cr_assert(strstr(full, "down 1.0 MiB/s  up 512.0 KiB/s") != NULL,
	    "%s", full);
	w = cols_of(full, strlen(full));
	free(full);
	for (cols = w + 1; cols >= 20; cols--) {
		l = line_at(name, cols);
		cr_assert_leq(cols_of(l, strlen(l)), cols - 1);
		if (strstr(l, "swarm") == NULL) {
			extra_gone = true;
			cr_assert(strstr(l, "dht") == NULL, "%s", l);
		} else
			cr_assert(!up_gone && !name_short, "%s", l);
		if (strstr(l, "up ") == NULL) {
			up_gone = true;
			cr_assert(extra_gone, "%s", l);
		} else
			cr_assert(!name_short, "%s", l);
		if (strncmp(l, name, strlen(name)) != 0) {
			name_short = true;
			cr_assert(up_gone, "%s", l);
			cr_assert(strchr(l, '~') != NULL, "%s", l);
		} else
			cr_assert(!peers_gone, "%s", l);
		if (strstr(l, "peers") == NULL) {
			peers_gone = true;
			cr_assert(name_short, "%s", l);
		}
		free(l);
	}
	cr_assert(extra_gone && up_gone && name_short && peers_gone);
	/* the name keeps its start and its end */
	l = line_at(name, 60);
	cr_assert(strncmp(l, "a-name", 6) == 0 && strstr(l, "00~") == NULL,
	    "%s", l);
	cr_assert(strstr(l, "~") != NULL && strstr(l, "000  ") != NULL, "%s",
	    l);
	free(l);
}

Test(ui, shortened_utf8_name_is_valid_and_fits)
{
	char	*l;
	int	 cols;

	for (cols = 30; cols <= 80; cols++) {
		l = line_at(names[1], cols);
		cr_assert_leq(cols_of(l, strlen(l)), cols - 1, "%s", l);
		cr_assert(strncmp(l, "日本", 6) == 0, "%s", l);
		free(l);
	}
}

/* "down X/s" of the last line, in bytes/s. */
static double
down_rate(const char *line)
{
	const char	*p = strstr(line, "down ");
	double		 v;
	char		 unit[8];

	cr_assert_not_null(p, "%s", line);
	cr_assert_eq(sscanf(p, "down %lf %7[A-Za-z]/s", &v, unit), 2, "%s",
	    line);
	if (strcmp(unit, "KiB") == 0)
		v *= 1024;
	else if (strcmp(unit, "MiB") == 0)
		v *= MIB;
	return v;
}

Test(ui, rate_starts_from_the_first_real_sample)
{
	struct torrent_stats	ts;
	struct ui_view		v = { .name = "x" };
	struct rig		r;
	char			*out;
	uint64_t		now;

	rig_open(&r, true, 200);
	/* 3 s of nothing (connecting), then 2 MiB/s */
	for (now = 1000; now <= 4000; now += 250) {
		ts = stats(0, 64 * MIB, 0, 0);
		ui_update(r.u, &v, &ts, now);
	}
	out = rig_read(&r);
	cr_assert(strstr(last_line(out), "down 0 B/s") != NULL, "%s", out);
	cr_assert(strstr(last_line(out), "eta -") != NULL, "%s", out);
	free(out);
	ts = stats(0, 64 * MIB, MIB / 2, 0);
	ui_update(r.u, &v, &ts, 4250);
	out = rig_read(&r);
	/* not 0.5 MiB over a 5 s window, nor an average with the zeros */
	cr_assert_float_eq(down_rate(last_line(out)), 2.0 * MIB, 0.06 * MIB,
	    "%s", last_line(out));
	cr_assert(strstr(last_line(out), "eta 0:32") != NULL, "%s",
	    last_line(out));
	free(out);
	rig_close(&r);
}

Test(ui, rate_is_an_exponential_average)
{
	struct torrent_stats	ts;
	struct ui_view		v = { .name = "x" };
	struct rig		r;
	char			*out;
	uint64_t		now, got = 0;
	double			rate;

	rig_open(&r, true, 200);
	for (now = 1000; now <= 21000; now += 250) {
		got += now < 11000 ? MIB / 4 : MIB;	/* 1, then 4 MiB/s */
		ts = stats(0, 1024ull * MIB, got, 0);
		ui_update(r.u, &v, &ts, now);
		out = rig_read(&r);
		rate = down_rate(last_line(out));
		free(out);
		if (now == 10750)
			cr_assert_float_eq(rate, 1.0 * MIB, 0.06 * MIB);
		if (now == 11000) /* a step: one sample's weight, 250/4250 */
			cr_assert(rate > 1.1 * MIB && rate < 1.3 * MIB,
			    "%f", rate);
		if (now == 15000) /* about 1 - e^-1 of the way after tau */
			cr_assert(rate > 2.7 * MIB && rate < 3.2 * MIB,
			    "%f", rate);
		if (now == 21000) /* 1 - e^-2.5 of the way */
			cr_assert(rate > 3.6 * MIB && rate < 3.9 * MIB,
			    "%f", rate);
	}
	rig_close(&r);
}

/* The ETA of a line in seconds, -1 for "-". */
static long
eta_of(const char *line)
{
	const char	*p = strstr(line, "eta ");
	unsigned	 a, b, c;

	cr_assert_not_null(p, "%s", line);
	if (p[4] == '-')
		return -1;
	if (sscanf(p, "eta %u:%u:%u", &a, &b, &c) == 3)
		return (long)(a * 3600 + b * 60 + c);
	cr_assert_eq(sscanf(p, "eta %u:%u", &a, &b), 2, "%s", line);
	return (long)(a * 60 + b);
}

Test(ui, eta_does_not_jump_with_bursts)
{
	struct torrent_stats	ts;
	struct ui_view		v = { .name = "x" };
	struct rig		r;
	char			*out;
	uint64_t		now, got = 0, total = 200ull * MIB;
	long			eta, prev = -1;
	unsigned		k = 0, shown = 0;

	rig_open(&r, true, 200);
	for (now = 1000; got < total; now += 250, k++) {
		/* 4 MiB at once every 3 s, nothing between; a pause */
		if (k % 12 == 0 && (now < 60000 || now > 70000))
			got = MIN(got + 4 * MIB, total);
		ts = stats(got, total, got, 0);
		ui_update(r.u, &v, &ts, now);
		out = rig_read(&r);
		eta = eta_of(last_line(out));
		free(out);
		if (eta >= 0 && prev >= 0 && got < total) {
			shown++;
			/* never 10x (nor even 3x) from one redraw to the next */
			cr_assert_leq(eta, MAX(prev, 2) * 3, "%ld -> %ld at %ju",
			    prev, eta, (uintmax_t)now);
			cr_assert_geq(eta * 3, prev - 2, "%ld -> %ld at %ju",
			    prev, eta, (uintmax_t)now);
		}
		prev = eta;
	}
	cr_assert_gt(shown, 400);
	rig_close(&r);
}

Test(ui, eta_unknown_when_stalled)
{
	struct torrent_stats	ts;
	struct ui_view		v = { .name = "x" };
	struct rig		r;
	char			*out;
	uint64_t		now;

	rig_open(&r, true, 200);
	ts = stats(0, 64 * MIB, 0, 0);
	ui_update(r.u, &v, &ts, 1000);
	ts = stats(MIB, 64 * MIB, MIB, 0);
	ui_update(r.u, &v, &ts, 2000);
	for (now = 2250; now <= 2000 + UI_STALL_MS + 500; now += 250)
		ui_update(r.u, &v, &ts, now);
	out = rig_read(&r);
	cr_assert(strstr(last_line(out), "eta -") != NULL, "%s",
	    last_line(out));
	free(out);
	rig_close(&r);
}

Test(ui, log_line_clears_and_redraws)
{
	struct torrent_stats	ts = stats(MIB, 64 * MIB, MIB, 0);
	struct ui_view		v = { .name = "the-name" };
	struct rig		r;
	char			*out, want[UI_LINE_MAX + 64];
	const char		*status;
	char			line[UI_LINE_MAX];

	rig_open(&r, true, 100);
	ui_update(r.u, &v, &ts, 1000);
	out = rig_read(&r);
	snprintf(line, sizeof(line), "%s", last_line(out));
	status = line;
	cr_assert(strncmp(status, "the-name  ", 10) == 0, "%s", status);
	free(out);
	log_set_level(LOG_WARN);
	log_warn("a warning %d", 7);
	out = rig_read(&r);
	snprintf(want, sizeof(want),
	    "\r\033[Kgtorrent: warning: a warning 7\n\r\033[K%s", status);
	cr_assert_str_eq(out, want);
	free(out);
	/* after ui_clear no redraw; after ui_free no sink */
	ui_clear(r.u);
	out = rig_read(&r);
	cr_assert_str_eq(out, "\r\033[K");
	free(out);
	log_print("gtorrent: plain\n");
	out = rig_read(&r);
	cr_assert_str_eq(out, "gtorrent: plain\n");
	free(out);
	rig_close(&r);
}

Test(ui, log_sink_gone_after_free)
{
	struct torrent_stats	ts = stats(MIB, 64 * MIB, MIB, 0);
	struct ui_view		v = { .name = "n" };
	struct rig		r;
	int			fds[2], saved;
	char			buf[64] = "";
	ssize_t			n;

	rig_open(&r, true, 100);
	ui_update(r.u, &v, &ts, 1000);
	rig_close(&r);
	/* stderr again: into a pipe of our own */
	cr_assert_eq(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	log_print("gtorrent: after\n");
	dup2(saved, STDERR_FILENO);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "gtorrent: after\n");
	close(fds[0]);
	close(saved);
}

Test(ui, pipe_gets_a_plain_line_every_5s)
{
	struct torrent_stats	ts;
	struct ui_view		v = { .name = names[0] };
	struct rig		r;
	char			*out, *p;
	uint64_t		now;
	int			lines = 0;

	rig_open(&r, false, 0);
	ui_set_swarm(r.u, 1, 2);
	for (now = 1000; now <= 31000; now += ui_interval_ms(r.u)) {
		ts = stats(now * 1000, 64ull * MIB, now * 1000, 0);
		ui_update(r.u, &v, &ts, now);
	}
	out = rig_read(&r);
	cr_assert(strchr(out, '\r') == NULL && strchr(out, '\033') == NULL);
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	cr_assert_eq(lines, 6, "%s", out);
	/* whole: the name, the swarm figures */
	cr_assert(strncmp(out, names[0], strlen(names[0])) == 0, "%s", out);
	cr_assert(strstr(out, "swarm 1 seeders 2 leechers\n") != NULL, "%s",
	    out);
	free(out);
	rig_close(&r);
}

Test(ui, several_torrents_one_line)
{
	struct torrent_stats	ts = stats(MIB, 4 * MIB, MIB, 0);
	struct ui_view		v = { .n = 3, .done = 1, .metadata = 1 };
	struct rig		r;
	char			*out;

	rig_open(&r, true, 200);
	ui_update(r.u, &v, &ts, 1000);
	out = rig_read(&r);
	cr_assert(strncmp(last_line(out), "3 torrents, 1 done, 1 metadata  "
	    "25.0% 1.0 MiB/4.0 MiB  down 0 B/s  up 0 B/s  peers 3/9  eta -",
	    100) == 0, "%s", last_line(out));
	free(out);
	rig_close(&r);
}

Test(ui, magnet_metadata_line)
{
	struct torrent_stats	ts = stats(0, 0, 0, 0);
	struct ui_view		v = { .name = "mag" };
	struct rig		r;
	char			*out;

	ts.metadata = true;
	ts.md_pieces = 5;
	ts.md_have = 2;
	rig_open(&r, true, 200);
	ui_update(r.u, &v, &ts, 1000);
	out = rig_read(&r);
	cr_assert_str_eq(last_line(out), "mag  metadata 2/5  peers 3/9");
	free(out);
	rig_close(&r);
}

static char *
summary(bool done, bool seeder, const struct torrent_stats *ts,
    double secs)
{
	struct rig	r;
	char		*out;

	rig_open(&r, false, 0);
	ui_summary(r.u, done, seeder, "na\x1bme", ts, secs);
	out = rig_read(&r);
	rig_close(&r);
	return out;
}

Test(ui, summary_done)
{
	struct torrent_stats	ts = stats(64 * MIB, 64 * MIB, 64 * MIB,
	    1258291);
	char			*out;

	ts.peers_ever = 3;
	out = summary(true, false, &ts, 3.2);
	cr_assert_str_eq(out, "gtorrent: done: na?me: 64.0 MiB (67108864 "
	    "bytes) in 3.20 s (20.0 MiB/s), downloaded 64.0 MiB (67108864), "
	    "uploaded 1.2 MiB (1258291), peers 3\n");
	free(out);
}

Test(ui, summary_stopped_says_how_far)
{
	struct torrent_stats	ts = stats(12 * MIB, 64 * MIB, 10 * MIB, 0);
	char			*out;

	ts.peers_ever = 1;
	out = summary(false, false, &ts, 2.0);
	cr_assert_str_eq(out, "gtorrent: stopped: na?me: 12.0 MiB of 64.0 "
	    "MiB (12582912 of 67108864 bytes) in 2.00 s (5.0 MiB/s), "
	    "downloaded 10.0 MiB (10485760), uploaded 0 B (0), peers 1\n");
	free(out);
}

Test(ui, summary_seeder_upload_rate)
{
	struct torrent_stats	ts = stats(64 * MIB, 64 * MIB, 0, 30 * MIB);
	char			*out;

	ts.peers_ever = 2;
	out = summary(true, true, &ts, 10.0);
	cr_assert_str_eq(out, "gtorrent: done: na?me: 64.0 MiB (67108864 "
	    "bytes) in 10.00 s (0 B/s), downloaded 0 B (0), uploaded 30.0 MiB "
	    "(31457280) at 3.0 MiB/s, peers 2\n");
	free(out);
}

/* The data check at the start: its own line, the bytes hashed so far. */
Test(ui, checking_line)
{
	struct torrent_stats	ts = { .have = 3 * MIB, .total = 12 * MIB };
	struct ui_view		v = { .name = "big.iso", .checking = true };
	struct rig		r;
	char			*out;

	rig_open(&r, true, 200);
	ui_update(r.u, &v, &ts, 1000);
	out = rig_read(&r);
	cr_assert_str_eq(last_line(out), "big.iso  checking 25.0% "
	    "3.0 MiB/12.0 MiB");
	free(out);
	rig_close(&r);
}
