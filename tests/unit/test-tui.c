/* test-tui.c - the full-screen view's figures and text, without a terminal */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "log.h"
#include "torrent.h"
#include "tui-int.h"
#include "util.h"

#define KIB	1024
#define MIB	(1024 * KIB)

static void
utf8_locale(void)
{
	cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"),
	    "the C.UTF-8 locale is needed");
}

/* ---- figures as text ---- */

Test(tui, sizes_and_etas)
{
	static const struct {
		double		 v;
		const char	*want;
	} sz[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" },
		{ 1536 * 1024, "1.5 MiB" }, { 150.0 * 1024, "150.0 KiB" },
		{ 3.0 * 1024 * 1024 * 1024 * 1024 * 1024 * 1024, "3072.0 PiB" },
	};
	static const struct {
		double		 s;
		const char	*want;
	} eta[] = {
		{ 0, "0:00" }, { 59.4, "0:59" }, { 59.6, "1:00" },
		{ 3599, "59:59" }, { 3600, "1:00:00" }, { 86399, "23:59:59" },
		{ 86400, "1d00h" }, { 2 * 86400 + 5 * 3600 + 59, "2d05h" },
		{ 100 * 86400, "100d00h" }, { 100 * 86400 + 1, "-" },
		{ -1, "-" }, { NAN, "-" }, { INFINITY, "-" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < nitems(sz); i++) {
		tui_size(buf, sizeof(buf), sz[i].v);
		cr_expect_str_eq(buf, sz[i].want, "%f", sz[i].v);
	}
	for (i = 0; i < nitems(eta); i++) {
		tui_eta(buf, sizeof(buf), eta[i].s);
		cr_expect_str_eq(buf, eta[i].want, "%f", eta[i].s);
	}
}

static struct torrent	*const fake_t = (struct torrent *)&fake_t;

Test(tui, states)
{
	struct tui_torrent	tt = { .t = fake_t };

	cr_expect_str_eq(tui_state(&tt), "downloading");
	tt.st.complete = true;
	cr_expect_str_eq(tui_state(&tt), "seeding");
	tt.st.complete = false;
	tt.st.metadata = true;
	cr_expect_str_eq(tui_state(&tt), "metadata");
	tt.st.paused = true;
	cr_expect_str_eq(tui_state(&tt), "paused");
	tt.stopping = true;
	cr_expect_str_eq(tui_state(&tt), "stopping");
	tt.ended = true;
	cr_expect_str_eq(tui_state(&tt), "stopped");
	tt.st.complete = true;
	cr_expect_str_eq(tui_state(&tt), "done");
	/* gone from the session: its last stats say paused, it is not */
	tt = (struct tui_torrent){ .t = NULL, .st.paused = true };
	cr_expect_str_eq(tui_state(&tt), "downloading");
	cr_expect_not(tui_is_paused(&tt));
}

/* Torrents whose data is checked before the loop runs. */
Test(tui, checking_and_queued)
{
	struct tui_torrent	tt = { .checking = true };
	struct tui_trow		r;

	tt.st.seeders = tt.st.leechers = -1;
	cr_expect_str_eq(tui_state(&tt), "checking");
	tui_torrent_row(&tt, "x", 0, 0, -1, &r);
	cr_expect_str_eq(r.done, "-");		/* not 100 % of nothing */
	cr_expect_str_eq(r.eta, "-");
	cr_expect_str_eq(r.seeds, "0");
	tt.check_done = 1 << 20;		/* hashed so far */
	tt.check_total = 4 << 20;
	tui_torrent_row(&tt, "x", 0, 0, -1, &r);
	cr_expect_str_eq(r.done, "25.0%");
	tt.checking = false;
	tt.queued = true;
	cr_expect_str_eq(tui_state(&tt), "queued");
	tt.ended = true;
	cr_expect_str_eq(tui_state(&tt), "stopped");
}

Test(tui, torrent_row_figures)
{
	struct tui_torrent	tt = { .t = fake_t };
	struct tui_trow		r;

	tt.st = (struct torrent_stats){ .size = 2000, .total = 2000,
	    .have = 1000, .uploaded = 1000, .uploaded_ever = 3000, .peers = 3,
	    .seeders = 7 };	/* the ratio: over every run */
	tui_torrent_row(&tt, "x", 100, 50, 10, &r);
	cr_expect_str_eq(r.done, "50.0%");
	cr_expect_str_eq(r.down, "100 B");
	cr_expect_str_eq(r.up, "50 B");
	cr_expect_str_eq(r.peers, "3");
	cr_expect_str_eq(r.seeds, "0/7");	/* connected / tracker's */
	tt.st.seeds = 2;
	tt.st.seeders = 123456;
	tui_torrent_row(&tt, "x", 100, 50, 10, &r);
	cr_expect_str_eq(r.seeds, "2");		/* too wide: connected only */
	tt.st.seeders = 7;
	cr_expect_str_eq(r.ratio, "1.50");
	cr_expect_str_eq(r.eta, "0:10");	/* 1000 B at 100 B/s */
	cr_expect_str_eq(r.state, "downloading");
	/* 99.95 % is not shown as 100 % while a byte is missing */
	tt.st.have = 1999;
	tui_torrent_row(&tt, "x", 0.5, 0, -1, &r);
	cr_expect_str_eq(r.done, "99.9%");
	cr_expect_str_eq(r.eta, "-");		/* none known */
	tt.st.seeders = -1;
	tt.st.size = 0;
	tt.st.total = 0;
	tt.st.have = 0;
	tui_torrent_row(&tt, "x", 0, 0, -1, &r);
	cr_expect_str_eq(r.seeds, "2");		/* no tracker figure */
	cr_expect_str_eq(r.ratio, "-");
	cr_expect_str_eq(r.done, "100.0%");
	tt.st.metadata = true;
	tt.st.md_pieces = 4;
	tt.st.md_have = 1;
	tui_torrent_row(&tt, "x", 1000, 0, 5, &r);
	cr_expect_str_eq(r.done, "1/4");
	cr_expect_str_eq(r.eta, "-");
	tt.st.md_pieces = 0;
	tui_torrent_row(&tt, "x", 1000, 0, 5, &r);
	cr_expect_str_eq(r.done, "-");
	/* paused: no ETA */
	tt.st = (struct torrent_stats){ .total = 10, .paused = true };
	tui_torrent_row(&tt, "x", 1000, 0, 5, &r);
	cr_expect_str_eq(r.eta, "-");
	cr_expect_str_eq(r.state, "paused");
}

/* ---- peer flags ---- */

/* Every combination of the nine flags against uTorrent's letters. */
Test(tui, flags_every_combination)
{
	struct torrent_peer_info	p;
	char				got[16], want[16];
	unsigned			m;
	size_t				k;

	for (m = 0; m < 512; m++) {
		memset(&p, 0, sizeof(p));
		p.am_interested = m & 1;
		p.peer_choking = m & 2;
		p.peer_interested = m & 4;
		p.am_choking = m & 8;
		p.optimistic = m & 16;
		p.snubbed = m & 32;
		p.incoming = m & 64;
		p.encrypted = m & 128;
		p.utp = m & 256;
		k = 0;
		if (p.am_interested && p.peer_choking)
			want[k++] = 'd';	/* we want, it chokes us */
		else if (p.am_interested)
			want[k++] = 'D';	/* downloading */
		else if (!p.peer_choking)
			want[k++] = 'K';	/* unchoked, not wanted */
		if (p.peer_interested && p.am_choking)
			want[k++] = 'u';
		else if (p.peer_interested)
			want[k++] = 'U';
		else if (!p.am_choking)
			want[k++] = '?';
		if (p.optimistic)
			want[k++] = 'O';
		if (p.snubbed)
			want[k++] = 'S';
		if (p.incoming)
			want[k++] = 'I';
		if (p.encrypted)
			want[k++] = 'E';
		if (p.utp)
			want[k++] = 'P';
		if (k == 0)
			want[k++] = '-';
		want[k] = '\0';
		tui_flags(&p, got, sizeof(got));
		cr_expect_str_eq(got, want, "flags %#x", m);
		/* the Flags column holds the longest */
		cr_expect_leq((int)strlen(got), tui_pcols[2].w);
	}
	/* cut to the buffer */
	memset(&p, 0, sizeof(p));
	p.am_interested = p.optimistic = p.snubbed = true;
	p.peer_interested = true;
	tui_flags(&p, got, 3);
	cr_expect_str_eq(got, "DU");
	cr_expect_str_eq(tui_source(TORRENT_SRC_TRACKER), "trk");
	cr_expect_str_eq(tui_source(TORRENT_SRC_DHT), "dht");
	cr_expect_str_eq(tui_source(TORRENT_SRC_PEX), "pex");
	cr_expect_str_eq(tui_source(TORRENT_SRC_INCOMING), "in");
	cr_expect_str_eq(tui_source(TORRENT_SRC_GIVEN), "given");
	cr_expect_str_eq(tui_source((enum torrent_peer_source)77), "?");
}

/* ---- the piece map ---- */

/* Every piece in exactly one cell, in order, each cell some of them. */
static void
check_map(size_t n, size_t room)
{
	size_t	cells = tui_map_cells(n, room), i, a, b, next = 0;

	cr_assert_eq(cells, n < room ? n : room, "n %zu room %zu", n, room);
	for (i = 0; i < cells; i++) {
		tui_map_range(i, cells, n, &a, &b);
		cr_assert_eq(a, next, "n %zu room %zu cell %zu", n, room, i);
		cr_assert_gt(b, a, "n %zu room %zu cell %zu empty", n, room,
		    i);
		/* scaled evenly: n/cells pieces, or one more */
		cr_assert_leq(b - a, n / cells + 1);
		cr_assert_geq(b - a, n / cells);
		next = b;
	}
	cr_assert_eq(next, cells > 0 ? n : 0);
}

Test(tui, map_scaling)
{
	static const size_t	n[] = { 1, 7, 79, 80, 81, 160, 1000, 4093,
		65536, TUI_MAX_PIECES };
	static const size_t	room[] = { 1, 20, 80, 80 * 5, 200 * 12 };
	size_t			i, j;

	for (i = 0; i < nitems(n); i++)
		for (j = 0; j < nitems(room); j++)
			check_map(n[i], room[j]);
	/* fewer pieces than cells: one cell a piece */
	cr_expect_eq(tui_map_cells(10, 80), 10);
	/* more: scaled to the room */
	cr_expect_eq(tui_map_cells(1000, 80), 80);
	cr_expect_eq(tui_map_cells(0, 80), 0);
}

Test(tui, map_shading)
{
	static const struct {
		uint16_t	avail;
		char		ch;
		enum tui_color	col;
	} sh[] = {
		{ 0, '_', TUI_C_NONEHAS }, { 1, '.', TUI_C_MISSING },
		{ 2, ':', TUI_C_MISSING }, { 4, ':', TUI_C_MISSING },
		{ 5, '=', TUI_C_MISSING }, { 6, '=', TUI_C_MISSING },
		{ UINT16_MAX, '=', TUI_C_MISSING },
	};
	uint8_t		st[4];
	uint16_t	av[4] = { 0 };
	enum tui_color	col;
	size_t		i;

	for (i = 0; i < nitems(sh); i++) {
		st[0] = TORRENT_PIECE_MISSING;
		av[0] = sh[i].avail;
		cr_expect_eq(tui_map_cell(st, av, 0, 1, &col), sh[i].ch,
		    "avail %u", sh[i].avail);
		cr_expect_eq(col, sh[i].col, "avail %u", sh[i].avail);
	}
	/* a range: the least available missing piece decides */
	st[0] = st[1] = st[2] = TORRENT_PIECE_MISSING;
	av[0] = 9;
	av[1] = 3;
	av[2] = 7;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), ':');
	av[1] = 1;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), '.');
	/* ... skipped pieces do not count (their availability neither) */
	st[1] = TORRENT_PIECE_SKIPPED;
	av[1] = 0;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), '=');
	/* one piece downloading: '+' whatever the others */
	st[2] = TORRENT_PIECE_PARTIAL;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), '+');
	cr_expect_eq(col, TUI_C_PARTIAL);
	/* had and missing: 'o' */
	st[0] = TORRENT_PIECE_HAVE;
	st[1] = TORRENT_PIECE_MISSING;
	st[2] = TORRENT_PIECE_MISSING;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), 'o');
	cr_expect_eq(col, TUI_C_HAVE);
	/* all had (skipped ones aside): '#' */
	st[1] = TORRENT_PIECE_HAVE;
	st[2] = TORRENT_PIECE_SKIPPED;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), '#');
	cr_expect_eq(col, TUI_C_HAVE);
	/* none wanted: blank */
	st[0] = st[1] = st[2] = TORRENT_PIECE_SKIPPED;
	cr_expect_eq(tui_map_cell(st, av, 0, 3, &col), ' ');
	cr_expect_eq(col, TUI_C_NONE);
}

/* ---- fitting to the width ---- */

static const char *const	hostile[] = {
	"\x1b[2J\x1b]0;owned\x07 evil\r\nname\x7f\x9b",
	"invoice\u202Eexe.pdf",		/* U+202E: "invoicefdp.exe" */
	"\xe2\x81\xa6isolated\xe2\x81\xa9 and \xe2\x80\x8bzero width",
	"日本語のとても長いファイル名とフォルダー名のテスト用データ.bin",
	"\xff\xfe not UTF-8 \xc3",
	"short",
};

/* No control, C1, DEL, bidi or other hidden character in out. */
static void
check_safe(const wchar_t *out, size_t n, const char *what)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		cr_assert(out[i] >= 0x20 && out[i] != 0x7f &&
		    !(out[i] >= 0x80 && out[i] < 0xa0),
		    "%s: control U+%04X at %zu", what, (unsigned)out[i], i);
		cr_assert(!utf8_hidden((uint32_t)out[i]),
		    "%s: hidden U+%04X at %zu", what, (unsigned)out[i], i);
	}
}

Test(tui, fit_columns_by_width)
{
	int	w[TUI_TCOLS], used, i;

	/* 200: every column, the name takes what is left */
	tui_cols_fit(tui_tcols, TUI_TCOLS, 200, w);
	for (used = -1, i = 0; i < TUI_TCOLS; i++) {
		cr_expect_gt(w[i], 0, "column %d at 200", i);
		used += w[i] + 1;
	}
	cr_expect_eq(used, 200);
	/* 80: every column fits, the name takes what is left */
	tui_cols_fit(tui_tcols, TUI_TCOLS, 80, w);
	for (used = -1, i = 0; i < TUI_TCOLS; i++) {
		cr_expect_gt(w[i], 0, "column %d at 80", i);
		used += w[i] + 1;
	}
	cr_expect_eq(used, 80);
	/* 73: the ratio goes first (drop 6), the rest fits */
	tui_cols_fit(tui_tcols, TUI_TCOLS, 73, w);
	cr_expect_eq(w[7], 0);
	for (used = -1, i = 0; i < TUI_TCOLS; i++) {
		if (i != 7)
			cr_expect_gt(w[i], 0, "column %d at 73", i);
		used += w[i] > 0 ? w[i] + 1 : 0;
	}
	cr_expect_eq(used, 73);
	cr_expect_geq(w[0], tui_tcols[0].min);
	/* 20: only the columns never dropped, clipped when drawn */
	tui_cols_fit(tui_tcols, TUI_TCOLS, 20, w);
	for (i = 0; i < TUI_TCOLS; i++)
		cr_expect_eq(w[i] > 0, tui_tcols[i].drop == 0, "column %d at 20",
		    i);
	/* the peers and trackers panes likewise fill 200 exactly */
	{
		int	pw[TUI_PCOLS], kw[TUI_KCOLS];

		tui_cols_fit(tui_pcols, TUI_PCOLS, 200, pw);
		for (used = -1, i = 0; i < TUI_PCOLS; i++)
			used += pw[i] > 0 ? pw[i] + 1 : 0;
		cr_expect_eq(used, 200);
		tui_cols_fit(tui_kcols, TUI_KCOLS, 80, kw);
		for (used = -1, i = 0; i < TUI_KCOLS; i++)
			used += kw[i] > 0 ? kw[i] + 1 : 0;
		cr_expect_leq(used, 80);
	}
}

/* A torrents row with each hostile name, at 20, 80 and 200 columns. */
Test(tui, rows_fit_with_hostile_names, .init = utf8_locale)
{
	static const int	widths[] = { 20, 80, 200, 1 };
	struct tui_torrent	tt = { .t = fake_t };
	struct tui_trow		r;
	wchar_t			line[TUI_LINE_COLS + 1];
	int			w[TUI_TCOLS];
	size_t			i, j, k;

	tt.st = (struct torrent_stats){ .size = 1 << 30, .total = 1 << 30,
	    .have = 1 << 29, .peers = 12, .seeders = 3 };
	for (i = 0; i < nitems(hostile); i++) {
		tui_torrent_row(&tt, hostile[i], 132 * KIB, 20 * KIB,
		    (double)(1 << 29) / (132 * KIB), &r);
		for (j = 0; j < nitems(widths); j++) {
			tui_cols_fit(tui_tcols, TUI_TCOLS, widths[j], w);
			k = tui_line(tui_tcols, w, TUI_TCOLS, r.cell,
			    widths[j], line, nitems(line));
			cr_assert_eq(wcslen(line), k);
			check_safe(line, k, hostile[i]);
			cr_expect_eq(tui_wcols(line, k), widths[j],
			    "name %zu at %d: %d columns (%ls)", i, widths[j],
			    tui_wcols(line, k), line);
		}
		/* at 200 the figures are all there, right-aligned */
		tui_cols_fit(tui_tcols, TUI_TCOLS, 200, w);
		k = tui_line(tui_tcols, w, TUI_TCOLS, r.cell, 200, line,
		    nitems(line));
		cr_expect_not_null(wcsstr(line, L"downloading"));
		cr_expect_not_null(wcsstr(line, L" 50.0% "));
		cr_expect_not_null(wcsstr(line, L"132.0 KiB"));
		cr_expect_not_null(wcsstr(line, L"1:06:12"), "%ls", line);
		cr_expect_eq(line[k - 1], L'2');	/* the ETA, at the edge */
	}
	/* a wide name is cut between characters, the rest padded */
	tui_torrent_row(&tt, hostile[3], 0, 0, -1, &r);
	tui_cols_fit(tui_tcols, TUI_TCOLS, 80, w);
	k = tui_line(tui_tcols, w, TUI_TCOLS, r.cell, 80, line, nitems(line));
	cr_expect_eq(tui_wcols(line, k), 80);
	cr_expect_eq(line[0], L'日');
	/* w[0] is 13: 6 wide characters, a pad, then the space between */
	cr_expect_eq(w[0], 13);
	cr_expect_eq(line[5], L'て');
	cr_expect_eq(line[6], L' ');
	cr_expect_eq(line[7], L' ');
	cr_expect_eq(tui_wcols(line, 6), 12);
}

/* tui_clip: one column left for a wide character: it is not drawn. */
Test(tui, clip_wide_and_invalid, .init = utf8_locale)
{
	wchar_t	out[16];
	int	cols;
	size_t	n;

	n = tui_clip("日本語", 5, out, nitems(out), &cols);
	cr_expect_eq(n, 2);
	cr_expect_eq(cols, 4);
	n = tui_clip("ab\xffz", 10, out, nitems(out), &cols);
	cr_expect_eq(n, 4);
	cr_expect_eq(out[2], L'?');
	n = tui_clip("abcdef", 10, out, 4, &cols);	/* out's room */
	cr_expect_eq(n, 3);
	cr_expect_eq(out[3], L'\0');
	n = tui_clip("abc", 0, out, nitems(out), &cols);
	cr_expect_eq(n, 0);
	cr_expect_eq(cols, 0);
}

/*
 * Text drawn as it is (the log strip shows log lines, the trackers pane
 * a tracker's failure reason): a bidi override or a zero-width
 * character, which wcwidth counts as 0 columns, reached the terminal.
 */
Test(tui, clip_hides_bidi_and_controls, .init = utf8_locale)
{
	wchar_t	out[128];
	int	cols;
	size_t	i, n;

	for (i = 0; i < nitems(hostile); i++) {
		n = tui_clip(hostile[i], 100, out, nitems(out), &cols);
		check_safe(out, n, hostile[i]);
		cr_expect_eq(tui_wcols(out, n), cols);
	}
	n = tui_clip("gtorrent: warning: invoice\xe2\x80\xae" "exe.pdf: done", 100,
	    out, nitems(out), &cols);
	cr_expect(wcscmp(out, L"gtorrent: warning: invoice?exe.pdf: done") ==
	    0, "%ls", out);
	cr_expect_eq(cols, (int)n);
}

/* ---- rates ---- */

/*
 * A peer as the peers pane shows it: peer.c's window (1 s buckets, 5 of
 * them, from the first byte, divided by no less than 1 s).
 */
struct fake_peer {
	uint64_t	bucket[64];	/* bytes of second s */
	uint64_t	start;		/* first byte, ms */
	bool		started;
};

static void
fake_peer_add(struct fake_peer *p, uint64_t n, uint64_t now)
{
	if (!p->started) {
		p->started = true;
		p->start = now;
	}
	p->bucket[now / 1000 % 64] += n;
}

static uint64_t
fake_peer_rate(const struct fake_peer *p, uint64_t now)
{
	uint64_t	sum = 0, span, s = now / 1000, i;

	if (!p->started)
		return 0;
	for (i = 0; i < 5 && i <= s; i++)
		sum += p->bucket[(s - i) % 64];
	span = 4 * 1000 + now % 1000;
	if (now - p->start < span)
		span = now - p->start;
	if (span < 1000)
		span = 1000;
	return sum * 1000 / span;
}

/*
 * A torrent (paused then resumed, or just started), its only peer sending
 * `rate` bytes/s in bursts of `burst` bytes; redrawn every 250 ms, and
 * 100 ms after a redraw now and then (a key).  Each redraw from 1 s after
 * the first byte: the torrent's row within 10 % of its peer's.
 */
static void
rates_agree(uint64_t rate, uint64_t burst, bool resumed, double *worst)
{
	struct tui_torrent		tt = { .t = fake_t };
	struct tui_rate			rt = { 0 };
	struct torrent_peer_info	pi;
	struct fake_peer		fp = { .started = false };
	uint64_t			now = 1000000, resume, next, sent = 0;
	double				row, peer, off;

	memset(fp.bucket, 0, sizeof(fp.bucket));
	*worst = 0;
	/* 10 s downloading at another rate, then 5 s paused */
	for (; resumed && now < 1010000; now += 250) {
		tt.st.downloaded += 40 * KIB;
		tui_rate_update(&rt, &tt, NULL, 0, now);
	}
	tt.st.paused = true;
	for (; resumed && now < 1015000; now += 250)
		tui_rate_update(&rt, &tt, NULL, 0, now);
	tt.st.paused = false;
	resume = now;
	next = now + 100;		/* the first burst */
	for (; now < resume + 20000; now += now / 250 % 7 == 3 ? 100 : 250) {
		while (next <= now) {
			fake_peer_add(&fp, burst, next);
			tt.st.downloaded += burst;
			sent += burst;
			next += burst * 1000 / rate;
		}
		memset(&pi, 0, sizeof(pi));
		pi.down_rate = fake_peer_rate(&fp, now);
		tui_rate_update(&rt, &tt, &pi, 1, now);
		row = tui_rate_down(&rt);
		peer = (double)pi.down_rate;
		if (!fp.started || now < fp.start + 1000)
			continue;
		off = fabs(row - peer) / peer;
		if (off > *worst)
			*worst = off;
		cr_expect_leq(off, 0.10, "%" PRIu64 " ms after the resume: "
		    "row %.0f B/s, its only peer %.0f B/s", now - resume, row,
		    peer);
	}
	cr_assert_gt(sent, 0);
}

/* The figures: 47 KiB/s on the row, 132 KiB/s on its peer. */
Test(tui, rate_row_agrees_with_peers_after_resume)
{
	double	worst;

	rates_agree(132 * KIB, 16 * KIB, true, &worst);
}

/* ... and 203 KiB/s on the row from a seeder capped at 150 KiB/s. */
Test(tui, rate_row_agrees_with_peers_bursty_seeder)
{
	double	worst;

	rates_agree(150 * KIB, 64 * KIB, false, &worst);
	rates_agree(150 * KIB, 64 * KIB, true, &worst);
}

/* Several peers: the row is their sum; paused or over: 0. */
Test(tui, rate_row_sums_peers)
{
	struct tui_torrent		tt = { .t = fake_t };
	struct tui_rate			rt = { 0 };
	struct torrent_peer_info	pi[3];

	memset(pi, 0, sizeof(pi));
	pi[0].down_rate = 100 * KIB;
	pi[0].up_rate = 1 * KIB;
	pi[1].down_rate = 50 * KIB;
	pi[2].up_rate = 10 * KIB;
	tui_rate_update(&rt, &tt, pi, 3, 5000);
	tui_rate_update(&rt, &tt, pi, 3, 5250);
	cr_expect_eq(tui_rate_down(&rt), 150 * KIB);
	cr_expect_eq(tui_rate_up(&rt), 11 * KIB);
	tt.st.paused = true;
	tui_rate_update(&rt, &tt, NULL, 0, 5500);
	cr_expect_eq(tui_rate_down(&rt), 0);
	cr_expect_eq(tui_rate_up(&rt), 0);
}

/*
 * The row's ETA moves as the status line's does: a burst or a lull of the
 * peers' rates moves it at most UI_ETA_STEP times per redraw from its
 * countdown; none while paused or complete.
 */
Test(tui, eta_steadied)
{
	struct tui_torrent		tt = { .t = fake_t };
	struct tui_rate			rt = { 0 };
	struct torrent_peer_info	pi = { .down_rate = 100 * KIB };
	uint64_t			now = 10000;
	double				prev, e;
	int				i;

	tt.st = (struct torrent_stats){ .total = 100 * MIB, .have = 0 };
	tui_rate_update(&rt, &tt, &pi, 1, now);
	prev = tui_rate_eta(&rt);
	cr_expect_float_eq(prev, 1024.0, 0.01);	/* 100 MiB at 100 KiB/s */
	for (i = 0; i < 40; i++) {
		now += 250;
		/* a seeder that sends in bursts: 10x, then 1/10 */
		pi.down_rate = i % 8 < 4 ? 1000 * KIB : 10 * KIB;
		tui_rate_update(&rt, &tt, &pi, 1, now);
		e = tui_rate_eta(&rt);
		cr_expect(e <= prev * UI_ETA_STEP + 0.01 &&
		    e * UI_ETA_STEP >= prev - 0.25 - 0.01,
		    "redraw %d: %.1f s after %.1f s", i, e, prev);
		prev = e;
	}
	pi.down_rate = 0;			/* nothing comes: unknown */
	tui_rate_update(&rt, &tt, &pi, 1, now + 250);
	cr_expect_lt(tui_rate_eta(&rt), 0);
	tt.st.paused = true;
	tui_rate_update(&rt, &tt, &pi, 1, now + 500);
	cr_expect_lt(tui_rate_eta(&rt), 0);
}

/* ---- the log ---- */

/* "PREFIX I", a newline after if nl, to the sink. */
static void
log_add(struct tui_log *lg, const char *prefix, int i, bool nl)
{
	char	line[128];
	int	n = snprintf(line, sizeof(line), "%s %d%s", prefix, i,
		    nl ? "\n" : "");

	tui_log_sink(lg, line, (size_t)n);
}

Test(tui, log_ring_wraps)
{
	struct tui_log		*lg = xcalloc(1, sizeof(*lg));
	struct tui_logline	 last[8];
	char			 want[128], big[TUI_LINE_MAX + 100];
	size_t			 n, i;

	n = tui_log_last(lg, last, nitems(last));
	cr_expect_eq(n, 0);
	for (i = 0; i < 3; i++)
		log_add(lg, "gtorrent: info: line", (int)i, true);
	n = tui_log_last(lg, last, nitems(last));
	cr_assert_eq(n, 3);
	cr_expect_str_eq(last[0].text, "gtorrent: info: line 0");
	cr_expect_str_eq(last[2].text, "gtorrent: info: line 2");
	cr_expect_not(last[0].important);
	cr_expect_eq(lg->kn, 0);		/* info is not kept */
	/* past the ring: the last ones, oldest first */
	for (i = 3; i < TUI_LOG_LINES * 3 + 5; i++)
		log_add(lg, "gtorrent: info: line", (int)i, true);
	cr_expect_eq(lg->ln, TUI_LOG_LINES);
	n = tui_log_last(lg, last, nitems(last));
	cr_assert_eq(n, nitems(last));
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "gtorrent: info: line %d",
		    (int)(TUI_LOG_LINES * 3 + 5 - nitems(last) + i));
		cr_expect_str_eq(last[i].text, want);
	}
	/* warnings and errors kept, the oldest pushed out and counted */
	for (i = 0; i < TUI_LOG_KEEP + 10; i++)
		log_add(lg, i % 2 ? "gtorrent: error: bad" :
		    "gtorrent: warning: odd", (int)i, false);
	cr_expect_eq(lg->kn, TUI_LOG_KEEP);
	cr_expect_eq(lg->kdropped, 10);
	cr_expect_str_eq(tui_log_kept(lg, 0), "gtorrent: warning: odd 10");
	snprintf(want, sizeof(want), "gtorrent: error: bad %d",
	    TUI_LOG_KEEP + 9);
	cr_expect_str_eq(tui_log_kept(lg, TUI_LOG_KEEP - 1), want);
	n = tui_log_last(lg, last, 1);
	cr_expect(last[0].important);
	/* a line longer than the room is cut, newline or not */
	memset(big, 'x', sizeof(big));
	memcpy(big, "gtorrent: debug: ", 17);
	tui_log_sink(lg, big, sizeof(big));
	n = tui_log_last(lg, last, 1);
	cr_expect_eq(strlen(last[0].text), TUI_LINE_MAX - 1);
	cr_expect_not(last[0].important);
	/* an empty line */
	tui_log_sink(lg, "\n", 1);
	n = tui_log_last(lg, last, 1);
	cr_expect_str_eq(last[0].text, "");
	free(lg);
}

#define LOG_THREADS	4
#define LOG_EACH	2000

struct log_job {
	int	id;
};

static void *
log_thread(void *arg)
{
	struct log_job	*j = arg;
	int		 i;

	for (i = 0; i < LOG_EACH; i++) {
		if (i % 3 == 0)
			log_info("thread %d line %d", j->id, i);
		else
			log_warn("thread %d line %d", j->id, i);
	}
	return NULL;
}

struct strip {
	struct tui_log		*lg;
	struct tui_logline	 last[8];
	size_t			 n;
};

static void
strip_copy(void *arg)
{
	struct strip	*s = arg;

	s->n = tui_log_last(s->lg, s->last, nitems(s->last));
}

/* "gtorrent: LEVEL: thread T line N", whole; *t and *n out. */
static bool
line_ok(const char *s, int *t, int *n)
{
	char	lvl[16];
	int	used = 0;

	if (sscanf(s, "gtorrent: %15[a-z]: thread %d line %d%n", lvl, t, n,
	    &used) != 3 || s[used] != '\0')
		return false;
	if (*t < 0 || *t >= LOG_THREADS || *n < 0 || *n >= LOG_EACH)
		return false;
	return strcmp(lvl, *n % 3 == 0 ? "info" : "warning") == 0;
}

/* Lines from several threads at once, the strip copied meanwhile. */
Test(tui, log_ring_threads)
{
	struct tui_log		*lg = xcalloc(1, sizeof(*lg));
	struct log_job		 job[LOG_THREADS];
	pthread_t		 th[LOG_THREADS];
	struct strip		 s = { .lg = lg };
	int			 i, t, n, prev[LOG_THREADS], copies = 0;
	size_t			 k;

	log_set_level(LOG_INFO);
	log_set_sink(tui_log_sink, lg);
	for (i = 0; i < LOG_THREADS; i++) {
		job[i].id = i;
		cr_assert_eq(pthread_create(&th[i], NULL, log_thread, &job[i]),
		    0);
	}
	/* the loop thread's copies: whole lines, each thread's in order */
	for (copies = 0; copies < 2000; copies++) {
		log_locked(strip_copy, &s);
		for (i = 0; i < LOG_THREADS; i++)
			prev[i] = -1;
		for (k = 0; k < s.n; k++) {
			cr_assert(line_ok(s.last[k].text, &t, &n), "copy %d: "
			    "\"%s\"", copies, s.last[k].text);
			cr_assert_gt(n, prev[t]);
			prev[t] = n;
			cr_assert_eq(s.last[k].important, n % 3 != 0);
		}
	}
	for (i = 0; i < LOG_THREADS; i++)
		pthread_join(th[i], NULL);
	log_set_sink(NULL, NULL);
	/* every line counted: the ring full, the kept ones the last */
	cr_expect_eq(lg->ln, TUI_LOG_LINES);
	cr_expect_eq(lg->kn, TUI_LOG_KEEP);
	cr_expect_eq(lg->kdropped + lg->kn, (uint64_t)LOG_THREADS *
	    (LOG_EACH - (LOG_EACH + 2) / 3));
	for (i = 0; i < LOG_THREADS; i++)
		prev[i] = -1;
	for (k = 0; k < lg->kn; k++) {
		cr_assert(line_ok(tui_log_kept(lg, k), &t, &n), "\"%s\"",
		    tui_log_kept(lg, k));
		cr_expect_gt(n, prev[t]);
		prev[t] = n;
	}
	free(lg);
}
