/* test-metainfo.c - .torrent parsing, limits, hostile paths */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bencode.h"
#include "buf.h"
#include "crypto.h"
#include "metainfo.h"
#include "util.h"

#define TRACKER	"http://tracker.example/announce"

struct tfile {
	int64_t		 len;
	const char	*path;		/* components separated by '|' */
	const char	*attr;		/* NULL: none */
	const char	*link;		/* symlink path, '|'-separated */
};

/* A list of strings from "a|b|c"; "" is one empty string. */
static struct bval *
strlist(const char *spec)
{
	struct bval	*l = bval_list();
	const char	*p = spec, *q;

	for (;;) {
		q = strchr(p, '|');
		bval_list_add(l, bval_str(p, q != NULL ? (size_t)(q - p) :
		    strlen(p)));
		if (q == NULL)
			break;
		p = q + 1;
	}
	return l;
}

static uint64_t
count_pieces(uint64_t total, uint64_t pl)
{
	return total / pl + (total % pl != 0);
}

static struct bval *
pieces_str(uint64_t n)
{
	uint8_t	*p;
	size_t	 i;

	p = xmalloc(n * SHA1_LEN + 1);
	for (i = 0; i < n * SHA1_LEN; i++)
		p[i] = (uint8_t)(i * 7 + i / SHA1_LEN);
	return bval_str_take(p, n * SHA1_LEN);
}

static struct bval *
file_ent(const struct tfile *f)
{
	struct bval	*d = bval_dict();

	bval_dict_set(d, "length", bval_int(f->len));
	bval_dict_set(d, "path", strlist(f->path));
	if (f->attr != NULL)
		bval_dict_set(d, "attr", bval_cstr(f->attr));
	if (f->link != NULL)
		bval_dict_set(d, "symlink path", strlist(f->link));
	return d;
}

/* A multi-file info dict with the right number of piece hashes. */
static struct bval *
info_files(const char *name, int64_t pl, const struct tfile *f, size_t n)
{
	struct bval	*info = bval_dict(), *files = bval_list();
	uint64_t	 total = 0, np = 1;
	bool		 ok = pl > 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (f[i].len < 0 || (uint64_t)f[i].len > (1ULL << 50) - total)
			ok = false;
		else
			total += (uint64_t)f[i].len;
		bval_list_add(files, file_ent(&f[i]));
	}
	if (ok)
		np = count_pieces(total, (uint64_t)pl);
	if (np > MI_MAX_PIECES)
		np = 1;
	bval_dict_set(info, "name", bval_cstr(name));
	bval_dict_set(info, "piece length", bval_int(pl));
	bval_dict_set(info, "pieces", pieces_str(np));
	bval_dict_set(info, "files", files);
	return info;
}

static struct bval *
info_single(const char *name, int64_t len, int64_t pl)
{
	struct bval	*info = bval_dict();
	uint64_t	 np = 1;

	if (len > 0 && pl > 0)
		np = count_pieces((uint64_t)len, (uint64_t)pl);
	if (np > MI_MAX_PIECES)
		np = 1;
	bval_dict_set(info, "name", bval_cstr(name));
	bval_dict_set(info, "piece length", bval_int(pl));
	bval_dict_set(info, "pieces", pieces_str(np));
	bval_dict_set(info, "length", bval_int(len));
	return info;
}

static struct bval *
torrent_of(struct bval *info)
{
	struct bval	*t = bval_dict();

	bval_dict_set(t, "announce", bval_cstr(TRACKER));
	bval_dict_set(t, "info", info);
	return t;
}

static uint8_t *
encode(struct bval *v, size_t *len)
{
	struct buf	b;

	buf_init(&b, SIZE_MAX);
	cr_assert_eq(bencode_encode(v, &b), GT_OK);
	bval_free(v);
	return buf_take(&b, len);
}

/* Encodes and parses a whole torrent (taking it). */
static enum gt_err
parse_bval(struct bval *t, struct metainfo *m, char *err)
{
	uint8_t		*p;
	size_t		 len;
	enum gt_err	 e;

	p = encode(t, &len);
	err[0] = '\0';
	e = metainfo_parse(m, p, len, err);
	free(p);
	return e;
}

static enum gt_err
parse_info_bval(struct bval *info, struct metainfo *m, char *err)
{
	return parse_bval(torrent_of(info), m, err);
}

static enum gt_err
parse_bytes(const char *s, size_t len, struct metainfo *m, char *err)
{
	err[0] = '\0';
	return metainfo_parse(m, (const uint8_t *)s, len, err);
}

/* Every path: non-empty, relative, no "", "." or ".." component. */
static void
check_paths(const struct metainfo *m)
{
	const char	*p, *q;
	size_t		 i, n;
	uint64_t	 off = 0;

	for (i = 0; i < m->nfiles; i++) {
		p = m->files[i].path;
		cr_assert(p != NULL && p[0] != '\0' && p[0] != '/');
		cr_assert(strlen(p) <= MI_MAX_PATH);
		for (;;) {
			q = strchr(p, '/');
			n = q != NULL ? (size_t)(q - p) : strlen(p);
			cr_assert(n > 0 && n <= MI_MAX_COMPONENT, "%s",
			    m->files[i].path);
			cr_assert(!(n == 1 && p[0] == '.'));
			cr_assert(!(n == 2 && p[0] == '.' && p[1] == '.'));
			if (q == NULL)
				break;
			p = q + 1;
		}
		cr_assert_eq(m->files[i].offset, off);
		off += m->files[i].length;
	}
	cr_assert_eq(off, m->total_length);
}

/* Basic parsing. */

Test(metainfo, single_file)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];
	uint64_t	i;

	cr_assert_eq(parse_info_bval(info_single("file.bin", 40000, 16384),
	    &m, err), GT_OK, "%s", err);
	cr_assert_str_eq(m.name, "file.bin");
	cr_assert(!m.multi_file);
	cr_assert_eq(m.nfiles, 1);
	cr_assert_str_eq(m.files[0].path, "file.bin");
	cr_assert_eq(m.files[0].length, 40000);
	cr_assert_eq(m.total_length, 40000);
	cr_assert_eq(m.piece_length, 16384);
	cr_assert_eq(m.npieces, 3);
	cr_assert_eq(metainfo_piece_size(&m, 0), 16384);
	cr_assert_eq(metainfo_piece_size(&m, 1), 16384);
	cr_assert_eq(metainfo_piece_size(&m, 2), 40000 - 2 * 16384);
	for (i = 0; i < 3 * SHA1_LEN; i++)
		cr_assert_eq(metainfo_piece_hash(&m, (uint32_t)(i / SHA1_LEN))
		    [i % SHA1_LEN], (uint8_t)(i * 7 + i / SHA1_LEN));
	cr_assert_eq(m.ntiers, 1);
	cr_assert_eq(m.tiers[0].n, 1);
	cr_assert_str_eq(m.tiers[0].urls[0], TRACKER);
	cr_assert(!m.private);
	cr_assert(!m.has_v2);
	cr_assert_null(m.comment);
	cr_assert_null(m.files[0].symlink);
	check_paths(&m);
	metainfo_clear(&m);
}

Test(metainfo, multi_file)
{
	static const struct tfile	 f[] = {
		{ 100, "a.txt", NULL, NULL },
		{ 0, "empty", NULL, NULL },
		{ 70000, "sub|dir|b.bin", "x", NULL },
		{ 5, "sub|c", "h", NULL },
	};
	struct metainfo			 m;
	char				 err[GT_ERRLEN];

	cr_assert_eq(parse_info_bval(info_files("Album", 32768, f,
	    nitems(f)), &m, err), GT_OK, "%s", err);
	cr_assert(m.multi_file);
	cr_assert_str_eq(m.name, "Album");
	cr_assert_eq(m.nfiles, 4);
	cr_assert_str_eq(m.files[0].path, "Album/a.txt");
	cr_assert_str_eq(m.files[1].path, "Album/empty");
	cr_assert_str_eq(m.files[2].path, "Album/sub/dir/b.bin");
	cr_assert_str_eq(m.files[3].path, "Album/sub/c");
	cr_assert_eq(m.files[2].offset, 100);
	cr_assert_eq(m.files[3].offset, 70100);
	cr_assert_eq(m.files[2].attr, MI_ATTR_EXEC);
	cr_assert_eq(m.files[3].attr, MI_ATTR_HIDDEN);
	cr_assert_eq(m.total_length, 70105);
	cr_assert_eq(m.npieces, 3);
	cr_assert_eq(metainfo_piece_size(&m, 2), 70105 - 2 * 32768);
	check_paths(&m);
	metainfo_clear(&m);
}

/* Keys out of order: a re-encoding would sort them and hash differently. */
#define UNSORTED_INFO							\
	"d4:name3:foo12:piece lengthi16384e6:lengthi5e"			\
	"6:pieces20:ABCDEFGHIJKLMNOPQRST7:privatei1ee"

Test(metainfo, info_hash_of_raw_span)
{
	static const char	 info[] = UNSORTED_INFO;
	static const char	 torrent[] = "d8:announce9:http://x/4:info"
	    UNSORTED_INFO "e";
	uint8_t			 want[SHA1_LEN], resorted[SHA1_LEN];
	uint8_t			*p;
	struct bval		*v;
	struct metainfo		 m, m2;
	char			 err[GT_ERRLEN];
	size_t			 len;

	sha1(info, sizeof(info) - 1, want);
	cr_assert_eq(parse_bytes(torrent, sizeof(torrent) - 1, &m, err),
	    GT_OK, "%s", err);
	cr_assert_eq(memcmp(m.info_hash, want, SHA1_LEN), 0);
	cr_assert_eq(m.info_len, sizeof(info) - 1);
	cr_assert_eq(memcmp(m.info_raw, info, m.info_len), 0);
	cr_assert(m.private);
	cr_assert_str_eq(m.name, "foo");

	/* The sorted form hashes differently, so the test means something. */
	v = bval_dict();
	bval_dict_set(v, "name", bval_cstr("foo"));
	bval_dict_set(v, "piece length", bval_int(16384));
	bval_dict_set(v, "length", bval_int(5));
	bval_dict_set(v, "pieces", bval_cstr("ABCDEFGHIJKLMNOPQRST"));
	bval_dict_set(v, "private", bval_int(1));
	p = encode(v, &len);
	sha1(p, len, resorted);
	free(p);
	cr_assert_neq(memcmp(resorted, want, SHA1_LEN), 0);

	/* The bare info dict gives the same result. */
	cr_assert_eq(metainfo_parse_info(&m2, (const uint8_t *)info,
	    sizeof(info) - 1, err), GT_OK, "%s", err);
	cr_assert_eq(memcmp(m2.info_hash, want, SHA1_LEN), 0);
	cr_assert_eq(m2.ntiers, 0);
	cr_assert_eq(m2.total_length, 5);
	metainfo_clear(&m2);
	metainfo_clear(&m);
}

Test(metainfo, info_raw_kept_via_bval_raw)
{
	static const char	 info[] = UNSORTED_INFO;
	struct metainfo		 m;
	char			 err[GT_ERRLEN];
	uint8_t			 want[SHA1_LEN];

	sha1(info, sizeof(info) - 1, want);
	cr_assert_eq(parse_bval(torrent_of(bval_raw(info, sizeof(info) - 1)),
	    &m, err), GT_OK, "%s", err);
	cr_assert_eq(memcmp(m.info_hash, want, SHA1_LEN), 0);
	metainfo_clear(&m);
}

/* Trackers (BEP 12). */

/* "a,b|c": tiers separated by '|', URLs by ','. */
static struct bval *
tiers_of(const char *spec)
{
	struct bval	*l = bval_list(), *tier;
	const char	*p = spec, *end, *q;

	while (*p != '\0') {
		end = strchr(p, '|');
		if (end == NULL)
			end = p + strlen(p);
		tier = bval_list();
		while (p < end) {
			q = memchr(p, ',', (size_t)(end - p));
			if (q == NULL)
				q = end;
			bval_list_add(tier, bval_str(p, (size_t)(q - p)));
			p = q < end ? q + 1 : q;
		}
		bval_list_add(l, tier);
		p = *end == '|' ? end + 1 : end;
	}
	return l;
}

static void
tiers_str(const struct metainfo *m, char *out, size_t outsz)
{
	size_t	i, j, o = 0;

	out[0] = '\0';
	for (i = 0; i < m->ntiers; i++) {
		cr_assert(m->tiers[i].n > 0);
		for (j = 0; j < m->tiers[i].n; j++)
			o += (size_t)snprintf(out + o, outsz - o, "%s%s",
			    i > 0 && j == 0 ? "|" : j > 0 ? "," : "",
			    m->tiers[i].urls[j]);
	}
}

Test(metainfo, tiers)
{
	static const struct {
		const char	*announce;	/* NULL: absent */
		const char	*list;		/* NULL: absent */
		const char	*want;
	} cases[] = {
		{ "http://a/", NULL, "http://a/" },
		{ NULL, NULL, "" },
		{ "", NULL, "" },
		{ "http://x/", "http://a/,http://b/|udp://c:1",
		    "http://a/,http://b/|udp://c:1" },
		{ "http://x/", "|http://a/", "http://a/" },
		{ "http://x/", "", "http://x/" },
		{ "http://x/", ",http://bad url/|http://\x01/",
		    "http://x/" },
		{ "http://x/", "http://a/,http://a/|http://a/,http://b/",
		    "http://a/|http://b/" },
		{ "http://x/", "http://a/|http://x/", "http://a/|http://x/" },
		{ NULL, "http://a/|http://tab\t/", "http://a/" },
		{ "http://has space/", NULL, "" },
	};
	struct metainfo	m;
	struct bval	*t;
	char		err[GT_ERRLEN], got[512];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		t = bval_dict();
		bval_dict_set(t, "info", info_single("f", 1, 1));
		if (cases[i].announce != NULL)
			bval_dict_set(t, "announce",
			    bval_cstr(cases[i].announce));
		if (cases[i].list != NULL)
			bval_dict_set(t, "announce-list",
			    tiers_of(cases[i].list));
		cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
		tiers_str(&m, got, sizeof(got));
		cr_assert_str_eq(got, cases[i].want, "case %zu", i);
		metainfo_clear(&m);
	}
}

Test(metainfo, tiers_wrong_types_ignored)
{
	struct metainfo	m;
	struct bval	*t, *al;
	char		err[GT_ERRLEN];

	/* announce-list a string, announce an int: no trackers, no error. */
	t = bval_dict();
	bval_dict_set(t, "info", info_single("f", 1, 1));
	bval_dict_set(t, "announce", bval_int(7));
	bval_dict_set(t, "announce-list", bval_cstr("http://a/"));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert_eq(m.ntiers, 0);
	metainfo_clear(&m);

	/* Tiers of mixed junk: ints, dicts, nested lists are skipped. */
	t = bval_dict();
	bval_dict_set(t, "info", info_single("f", 1, 1));
	al = bval_list();
	bval_list_add(al, bval_int(1));
	bval_list_add(al, bval_dict());
	bval_list_add(al, tiers_of("http://a/"));
	bval_list_add(al, strlist("http://b/"));
	bval_dict_set(t, "announce-list", al);
	bval_dict_set(t, "announce", bval_cstr("http://x/"));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert_eq(m.ntiers, 1);
	cr_assert_str_eq(m.tiers[0].urls[0], "http://b/");
	metainfo_clear(&m);
}

Test(metainfo, web_seeds)
{
	struct metainfo	m;
	struct bval	*t;
	char		err[GT_ERRLEN];

	t = torrent_of(info_single("f", 1, 1));
	bval_dict_set(t, "url-list", bval_cstr("http://seed/f"));
	bval_dict_set(t, "httpseeds", strlist("http://h/|http://h/|"));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert_eq(m.nweb_seeds, 1);
	cr_assert_str_eq(m.web_seeds[0], "http://seed/f");
	cr_assert_eq(m.nhttp_seeds, 1);
	cr_assert_str_eq(m.http_seeds[0], "http://h/");
	metainfo_clear(&m);

	t = torrent_of(info_single("f", 1, 1));
	bval_dict_set(t, "url-list", strlist("http://a/|http://b/|"
	    "http://a/|bad\nurl"));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert_eq(m.nweb_seeds, 2);
	cr_assert_str_eq(m.web_seeds[0], "http://a/");
	cr_assert_str_eq(m.web_seeds[1], "http://b/");
	cr_assert_eq(m.nhttp_seeds, 0);
	metainfo_clear(&m);

	t = torrent_of(info_single("f", 1, 1));
	bval_dict_set(t, "url-list", bval_int(3));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert_eq(m.nweb_seeds, 0);
	metainfo_clear(&m);
}

Test(metainfo, optional_keys)
{
	struct metainfo	m;
	struct bval	*t, *info, *nodes, *n;
	char		err[GT_ERRLEN];

	info = info_single("f", 1, 1);
	bval_dict_set(info, "private", bval_int(1));
	bval_dict_set(info, "source", bval_cstr("SRC"));
	bval_dict_set(info, "some unknown key", bval_dict());
	t = torrent_of(info);
	bval_dict_set(t, "comment", bval_cstr("plain"));
	bval_dict_set(t, "comment.utf-8", bval_cstr("caf\xc3\xa9"));
	bval_dict_set(t, "created by", bval_cstr("mktorrent 1.1"));
	bval_dict_set(t, "creation date", bval_int(1700000000));
	nodes = bval_list();
	n = bval_list();
	bval_list_add(n, bval_cstr("router.example"));
	bval_list_add(n, bval_int(6881));
	bval_list_add(nodes, n);
	n = bval_list();			/* port out of range */
	bval_list_add(n, bval_cstr("bad.example"));
	bval_list_add(n, bval_int(70000));
	bval_list_add(nodes, n);
	n = bval_list();			/* wrong types */
	bval_list_add(n, bval_int(1));
	bval_list_add(n, bval_cstr("x"));
	bval_list_add(nodes, n);
	bval_list_add(nodes, bval_cstr("junk"));
	n = bval_list();
	bval_list_add(n, bval_cstr("127.0.0.5"));
	bval_list_add(n, bval_int(1));
	bval_list_add(nodes, n);
	bval_dict_set(t, "nodes", nodes);
	bval_dict_set(t, "unknown", bval_int(5));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert(m.private);
	cr_assert_str_eq(m.source, "SRC");
	cr_assert_str_eq(m.comment, "caf\xc3\xa9");
	cr_assert_str_eq(m.created_by, "mktorrent 1.1");
	cr_assert(m.has_creation_date);
	cr_assert_eq(m.creation_date, 1700000000);
	cr_assert_eq(m.nnodes, 2);
	cr_assert_str_eq(m.nodes[0].host, "router.example");
	cr_assert_eq(m.nodes[0].port, 6881);
	cr_assert_str_eq(m.nodes[1].host, "127.0.0.5");
	cr_assert_eq(m.nodes[1].port, 1);
	metainfo_clear(&m);
}

Test(metainfo, optional_keys_wrong_types)
{
	struct metainfo	m;
	struct bval	*t, *info;
	char		err[GT_ERRLEN];

	info = info_single("f", 1, 1);
	bval_dict_set(info, "private", bval_cstr("1"));
	bval_dict_set(info, "source", bval_int(1));
	bval_dict_set(info, "attr", bval_int(1));
	bval_dict_set(info, "meta version", bval_cstr("2"));
	t = torrent_of(info);
	bval_dict_set(t, "comment", bval_list());
	bval_dict_set(t, "created by", bval_int(3));
	bval_dict_set(t, "creation date", bval_cstr("yesterday"));
	bval_dict_set(t, "nodes", bval_dict());
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert(!m.private);
	cr_assert_null(m.source);
	cr_assert_null(m.comment);
	cr_assert_null(m.created_by);
	cr_assert(!m.has_creation_date);
	cr_assert_eq(m.nnodes, 0);
	cr_assert(!m.has_v2);
	metainfo_clear(&m);

	/* private must be exactly 1. */
	info = info_single("f", 1, 1);
	bval_dict_set(info, "private", bval_int(2));
	cr_assert_eq(parse_info_bval(info, &m, err), GT_OK, "%s", err);
	cr_assert(!m.private);
	metainfo_clear(&m);
}

Test(metainfo, comment_bytes_made_text)
{
	struct metainfo	m;
	struct bval	*t;
	char		err[GT_ERRLEN];

	t = torrent_of(info_single("f", 1, 1));
	bval_dict_set(t, "comment", bval_str("a\0b\xff", 4));
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert_str_eq(m.comment, "a?b?");
	metainfo_clear(&m);
}

/* Names. */

Test(metainfo, name_utf8_preferred)
{
	struct metainfo	m;
	struct bval	*info;
	char		err[GT_ERRLEN];

	info = info_single("latin1-\xe9", 1, 1);
	bval_dict_set(info, "name.utf-8", bval_cstr("utf8-\xc3\xa9"));
	cr_assert_eq(parse_info_bval(info, &m, err), GT_OK, "%s", err);
	cr_assert_str_eq(m.name, "utf8-\xc3\xa9");
	cr_assert_str_eq(m.files[0].path, "utf8-\xc3\xa9");
	metainfo_clear(&m);

	/* name.utf-8 of the wrong type: name. */
	info = info_single("plain", 1, 1);
	bval_dict_set(info, "name.utf-8", bval_int(1));
	cr_assert_eq(parse_info_bval(info, &m, err), GT_OK, "%s", err);
	cr_assert_str_eq(m.name, "plain");
	metainfo_clear(&m);
}

Test(metainfo, name_sanitised)
{
	static const struct {
		const char	*name;
		const char	*want;		/* NULL: the info-hash */
	} cases[] = {
		{ "..", NULL },
		{ ".", NULL },
		{ "", NULL },
		{ "/", "_" },
		{ "../../etc", ".._.._etc" },
		{ "/etc/passwd", "_etc_passwd" },
		{ "a\\b", "a_b" },
		{ "bad\x1b[0m", "bad_[0m" },
		{ "\xff\xfe", "__" },
	};
	struct metainfo	m;
	char		err[GT_ERRLEN], hex[2 * SHA1_LEN + 1];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		cr_assert_eq(parse_info_bval(info_single(cases[i].name, 1, 1),
		    &m, err), GT_OK, "%s", err);
		hex_encode(hex, m.info_hash, SHA1_LEN);
		cr_assert_str_eq(m.name, cases[i].want != NULL ?
		    cases[i].want : hex, "case %zu", i);
		cr_assert_str_eq(m.files[0].path, m.name);
		metainfo_clear(&m);
	}
}

/* One component. */

Test(metainfo, safe_component)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;		/* NULL: dropped */
	} cases[] = {
		{ "", 0, NULL },
		{ ".", 1, NULL },
		{ "..", 2, NULL },
		{ "...", 3, "..." },
		{ ".hidden", 7, ".hidden" },
		{ "a/b", 3, "a_b" },
		{ "a\\b", 3, "a_b" },
		{ "/", 1, "_" },
		{ "a\0b", 3, "a_b" },
		{ "\x7f\x1f\n", 3, "___" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
		{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },		/* euro */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },	/* emoji */
		{ "\xc3", 1, "_" },			/* truncated */
		{ "\xc0\xaf", 2, "__" },		/* overlong '/' */
		{ "\xe0\x80\xaf", 3, "___" },		/* overlong */
		{ "\xed\xa0\x80", 3, "___" },		/* surrogate */
		{ "\xf4\x90\x80\x80", 4, "____" },	/* > U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 5, "_____" },
		{ "\x80x", 2, "_x" },
		{ "a/../../b", 9, "a_.._.._b" },
	};
	char	*s;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		s = metainfo_safe_component((const uint8_t *)cases[i].in,
		    cases[i].len);
		if (cases[i].want == NULL)
			cr_assert_null(s, "case %zu", i);
		else {
			cr_assert_not_null(s, "case %zu", i);
			cr_assert_str_eq(s, cases[i].want, "case %zu", i);
		}
		free(s);
	}
}

Test(metainfo, safe_component_long)
{
	char	in[1024], *s;
	size_t	i;

	/* 300 bytes with a short extension: cut, extension kept. */
	memset(in, 'a', 296);
	memcpy(in + 296, ".mkv", 4);
	s = metainfo_safe_component((uint8_t *)in, 300);
	cr_assert_eq(strlen(s), MI_MAX_COMPONENT);
	cr_assert_eq(strcmp(s + MI_MAX_COMPONENT - 4, ".mkv"), 0);
	free(s);

	/* Two-byte characters: never split one. */
	for (i = 0; i < 300; i += 2)
		memcpy(in + i, "\xc3\xa9", 2);
	memcpy(in + 300, ".txt", 4);
	s = metainfo_safe_component((uint8_t *)in, 304);
	cr_assert_leq(strlen(s), MI_MAX_COMPONENT);
	cr_assert_eq(strcmp(s + strlen(s) - 4, ".txt"), 0);
	cr_assert_eq((strlen(s) - 4) % 2, 0);
	free(s);

	/* Three-byte characters, no extension. */
	for (i = 0; i < 900; i += 3)
		memcpy(in + i, "\xe2\x82\xac", 3);
	s = metainfo_safe_component((uint8_t *)in, 900);
	cr_assert_eq(strlen(s), 255);
	cr_assert_eq(strlen(s) % 3, 0);
	free(s);
	s = metainfo_safe_component((uint8_t *)in + 1, 899);
	cr_assert_leq(strlen(s), MI_MAX_COMPONENT);
	cr_assert_eq(s[0], '_');
	cr_assert_eq(s[1], '_');
	cr_assert_eq((strlen(s) - 2) % 3, 0);
	free(s);

	/* A long "extension" is not one. */
	memset(in, 'b', 300);
	in[100] = '.';
	s = metainfo_safe_component((uint8_t *)in, 300);
	cr_assert_eq(strlen(s), MI_MAX_COMPONENT);
	cr_assert_eq(s[100], '.');
	free(s);

	/* Exactly the limit: unchanged. */
	memset(in, 'c', MI_MAX_COMPONENT);
	s = metainfo_safe_component((uint8_t *)in, MI_MAX_COMPONENT);
	cr_assert_eq(strlen(s), MI_MAX_COMPONENT);
	free(s);
}

/* Hostile paths in multi-file torrents. */

Test(metainfo, hostile_paths)
{
	static const struct {
		const char	*paths[4];
		const char	*want[4];
	} cases[] = {
		{ { "..|..|etc|passwd" }, { "T/etc/passwd" } },
		{ { "/etc/passwd" }, { "T/_etc_passwd" } },
		{ { "/|etc|passwd" }, { "T/_/etc/passwd" } },
		{ { "a/../../b" }, { "T/a_.._.._b" } },
		{ { "..\\..\\windows\\x" }, { "T/.._.._windows_x" } },
		{ { "C:\\x" }, { "T/C:_x" } },
		{ { "|.|a||b|." }, { "T/a/b" } },
		{ { "..|." }, { "T/_" } },
		{ { "" }, { "T/_" } },
		{ { "a|..|..|b" }, { "T/a/b" } },
		{ { "\x01" "evil\x1b[31m" }, { "T/_evil_[31m" } },
		{ { "ok\r\nx" }, { "T/ok__x" } },
		{ { "\xff\xfe.txt" }, { "T/__.txt" } },
		{ { "caf\xc3\xa9|\xe2\x82\xac" },
		    { "T/caf\xc3\xa9/\xe2\x82\xac" } },
		{ { "~|.ssh" }, { "T/~/.ssh" } },
	};
	struct tfile	f[4];
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i, j, n;

	for (i = 0; i < nitems(cases); i++) {
		for (n = 0; n < 4 && cases[i].paths[n] != NULL; n++)
			f[n] = (struct tfile){ 1, cases[i].paths[n], NULL,
			    NULL };
		cr_assert_eq(parse_info_bval(info_files("T", 16, f, n), &m,
		    err), GT_OK, "case %zu: %s", i, err);
		cr_assert_eq(m.nfiles, n);
		for (j = 0; j < n; j++)
			cr_assert_str_eq(m.files[j].path, cases[i].want[j],
			    "case %zu file %zu", i, j);
		check_paths(&m);
		metainfo_clear(&m);
	}
}

Test(metainfo, clashes)
{
	static const struct {
		const char	*paths[6];
		const char	*want[6];
	} cases[] = {
		{ { "x", "x" }, { "T/x", "T/x.1" } },
		{ { "x", "x", "x" }, { "T/x", "T/x.1", "T/x.2" } },
		{ { "x", "x.1", "x" }, { "T/x", "T/x.1", "T/x.2" } },
		{ { "x", "x", "x.1" }, { "T/x", "T/x.1", "T/x.1.1" } },
		{ { "a", "a|b" }, { "T/a", "T/a.1/b" } },
		{ { "a|b", "a" }, { "T/a/b", "T/a.1" } },
		{ { "a", "a|b", "a|c" }, { "T/a", "T/a.1/b", "T/a.1/c" } },
		{ { "a", "a|b", "a.1" }, { "T/a", "T/a.1/b", "T/a.1.1" } },
		{ { "a|b", "a|b|c" }, { "T/a/b", "T/a/b.1/c" } },
		{ { "a|b", "a|b", "a|b|c" },
		    { "T/a/b", "T/a/b.1", "T/a/b.2/c" } },
		{ { "..|x", "x", "./x" }, { "T/x", "T/x.1", "T/._x" } },
		{ { "", ".", ".." }, { "T/_", "T/_.1", "T/_.2" } },
		{ { "d|f", "D|f" }, { "T/d/f", "T/D/f" } },
	};
	struct tfile	f[6];
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i, j, n;

	for (i = 0; i < nitems(cases); i++) {
		for (n = 0; n < 6 && cases[i].paths[n] != NULL; n++)
			f[n] = (struct tfile){ 1, cases[i].paths[n], NULL,
			    NULL };
		cr_assert_eq(parse_info_bval(info_files("T", 16, f, n), &m,
		    err), GT_OK, "case %zu: %s", i, err);
		for (j = 0; j < n; j++)
			cr_assert_str_eq(m.files[j].path, cases[i].want[j],
			    "case %zu file %zu", i, j);
		check_paths(&m);
		metainfo_clear(&m);
	}
}

/* A renamed component that is already at the limit stays within it. */
Test(metainfo, clash_long_component)
{
	char		name[MI_MAX_COMPONENT + 1];
	struct tfile	f[3];
	struct metainfo	m;
	char		err[GT_ERRLEN];

	memset(name, 'z', MI_MAX_COMPONENT);
	name[MI_MAX_COMPONENT] = '\0';
	f[0] = (struct tfile){ 1, name, NULL, NULL };
	f[1] = f[0];
	f[2] = f[0];
	cr_assert_eq(parse_info_bval(info_files("T", 16, f, 3), &m, err),
	    GT_OK, "%s", err);
	cr_assert_eq(strlen(m.files[1].path), 2 + MI_MAX_COMPONENT);
	cr_assert_eq(strcmp(m.files[1].path + strlen(m.files[1].path) - 2,
	    ".1"), 0);
	cr_assert_eq(strcmp(m.files[2].path + strlen(m.files[2].path) - 2,
	    ".2"), 0);
	check_paths(&m);
	metainfo_clear(&m);
}

Test(metainfo, over_long_component_in_path)
{
	char		comp[301];
	struct tfile	f;
	struct metainfo	m;
	char		err[GT_ERRLEN];

	memset(comp, 'q', 300);
	comp[300] = '\0';
	memcpy(comp + 296, ".iso", 4);
	f = (struct tfile){ 1, comp, NULL, NULL };
	cr_assert_eq(parse_info_bval(info_files("T", 16, &f, 1), &m, err),
	    GT_OK, "%s", err);
	cr_assert_eq(strlen(m.files[0].path), 2 + MI_MAX_COMPONENT);
	cr_assert_eq(strcmp(m.files[0].path + 2 + MI_MAX_COMPONENT - 4,
	    ".iso"), 0);
	metainfo_clear(&m);
}

/* "a|a|a..." with n components of len bytes each. */
static char *
deep_path(size_t n, size_t len)
{
	char	*p;
	size_t	 i;

	p = xmalloc(n * (len + 1) + 1);
	for (i = 0; i < n; i++) {
		memset(p + i * (len + 1), 'd', len);
		p[i * (len + 1) + len] = '|';
	}
	p[n * (len + 1) - 1] = '\0';
	return p;
}

Test(metainfo, path_length_limit)
{
	struct tfile	f;
	struct metainfo	m;
	char		err[GT_ERRLEN], *p;
	size_t		i;

	/* 1 + 1999 * 2 = 3999 bytes: fits. */
	p = deep_path(1999, 1);
	f = (struct tfile){ 1, p, NULL, NULL };
	cr_assert_eq(parse_info_bval(info_files("T", 16, &f, 1), &m, err),
	    GT_OK, "%s", err);
	cr_assert_eq(strlen(m.files[0].path), 3999);
	metainfo_clear(&m);
	free(p);

	/* 16 components of 250 bytes: over. */
	p = deep_path(16, 250);
	f = (struct tfile){ 1, p, NULL, NULL };
	cr_assert_eq(parse_info_bval(info_files("T", 16, &f, 1), &m, err),
	    GT_ETOOBIG);
	cr_assert_str_eq(err, "info.files[0].path: path too long (over "
	    "4000 bytes)");
	free(p);

	/* Dropped components do not count. */
	p = xmalloc(3 * 5000 + 16);
	memset(p, 0, 3 * 5000 + 16);
	for (i = 0; i < 5000; i++)
		memcpy(p + 3 * i, "..|", 3);
	strcat(p, "end");
	f = (struct tfile){ 1, p, NULL, NULL };
	cr_assert_eq(parse_info_bval(info_files("T", 16, &f, 1), &m, err),
	    GT_OK, "%s", err);
	cr_assert_str_eq(m.files[0].path, "T/end");
	metainfo_clear(&m);
	free(p);
}

/* A rename that pushes a path over the limit is an error too. */
Test(metainfo, path_length_limit_after_rename)
{
	struct tfile	f[2];
	struct metainfo	m;
	char		err[GT_ERRLEN], *p;

	p = deep_path(1999, 1);
	f[0] = (struct tfile){ 1, p, NULL, NULL };
	f[1] = f[0];
	cr_assert_eq(parse_info_bval(info_files("T", 16, f, 2), &m, err),
	    GT_ETOOBIG);
	cr_assert(strstr(err, "info.files[1].path: path too long") != NULL,
	    "%s", err);
	free(p);
}

/* Padding and symlinks (BEP 47). */

Test(metainfo, padding_files)
{
	static const struct tfile	 f[] = {
		{ 100, "a", NULL, NULL },
		{ 16284, ".pad|16284", "p", NULL },
		{ 50, "b", NULL, NULL },
		{ 16334, "..|whatever", "p", NULL },
		{ 7, ".pad|16284", NULL, NULL },
		{ 16284, "a", "px", NULL },
	};
	struct metainfo			 m;
	char				 err[GT_ERRLEN];

	cr_assert_eq(parse_info_bval(info_files("T", 16384, f, nitems(f)),
	    &m, err), GT_OK, "%s", err);
	cr_assert_eq(m.nfiles, 6);
	cr_assert_str_eq(m.files[0].path, "T/a");
	cr_assert_str_eq(m.files[1].path, "T/.pad/16284");
	cr_assert_eq(m.files[1].attr, MI_ATTR_PAD);
	cr_assert_eq(m.files[1].offset, 100);
	cr_assert_str_eq(m.files[2].path, "T/b");
	cr_assert_eq(m.files[2].offset, 16384);
	cr_assert_str_eq(m.files[3].path, "T/.pad/16334");
	/* A real file where a pad's path is: pads take no part in renames. */
	cr_assert_str_eq(m.files[4].path, "T/.pad/16284");
	cr_assert_eq(m.files[4].attr, 0);
	cr_assert_str_eq(m.files[5].path, "T/.pad/16284");
	cr_assert_eq(m.files[5].attr, MI_ATTR_PAD | MI_ATTR_EXEC);
	cr_assert_eq(m.total_length, 100 + 16284 + 50 + 16334 + 7 + 16284);
	check_paths(&m);
	metainfo_clear(&m);
}

Test(metainfo, symlinks)
{
	static const struct tfile	 f[] = {
		{ 10, "target", NULL, NULL },
		{ 0, "link", "l", "target" },
		{ 0, "up", "l", "..|..|etc|passwd" },
		{ 0, "abs", "l", "/|etc|shadow" },
		{ 0, "none", "l", "..|." },
		{ 0, "nolist", "l", NULL },
		{ 0, "sub|deep", "lx", "sub|..|target" },
	};
	struct metainfo			 m;
	char				 err[GT_ERRLEN];

	cr_assert_eq(parse_info_bval(info_files("T", 16, f, nitems(f)), &m,
	    err), GT_OK, "%s", err);
	cr_assert_null(m.files[0].symlink);
	cr_assert_eq(m.files[1].attr, MI_ATTR_SYMLINK);
	cr_assert_str_eq(m.files[1].symlink, "T/target");
	cr_assert_str_eq(m.files[2].symlink, "T/etc/passwd");
	cr_assert_str_eq(m.files[3].symlink, "T/_/etc/shadow");
	cr_assert_null(m.files[4].symlink);
	cr_assert_eq(m.files[4].attr, 0);
	cr_assert_str_eq(m.files[4].path, "T/none");
	cr_assert_null(m.files[5].symlink);
	cr_assert_eq(m.files[5].attr, 0);
	cr_assert_str_eq(m.files[6].symlink, "T/sub/target");
	cr_assert_eq(m.files[6].attr, MI_ATTR_SYMLINK | MI_ATTR_EXEC);
	check_paths(&m);
	metainfo_clear(&m);
}

Test(metainfo, symlink_with_data_is_a_file)
{
	static const struct tfile	 f[] = {
		{ 10, "link", "l", "target" },
	};
	struct metainfo			 m;
	char				 err[GT_ERRLEN];

	cr_assert_eq(parse_info_bval(info_files("T", 16, f, nitems(f)), &m,
	    err), GT_OK, "%s", err);
	cr_assert_null(m.files[0].symlink);
	cr_assert_eq(m.files[0].attr, 0);
	metainfo_clear(&m);
}

Test(metainfo, path_utf8_preferred)
{
	struct bval	*info, *files, *fd;
	struct metainfo	m;
	char		err[GT_ERRLEN];

	files = bval_list();
	fd = bval_dict();
	bval_dict_set(fd, "length", bval_int(3));
	bval_dict_set(fd, "path", strlist("old"));
	bval_dict_set(fd, "path.utf-8", strlist("new|\xc3\xa9"));
	bval_list_add(files, fd);
	fd = bval_dict();
	bval_dict_set(fd, "length", bval_int(3));
	bval_dict_set(fd, "path", strlist("kept"));
	bval_dict_set(fd, "path.utf-8", bval_cstr("not a list"));
	bval_list_add(files, fd);
	info = bval_dict();
	bval_dict_set(info, "name", bval_cstr("T"));
	bval_dict_set(info, "piece length", bval_int(16));
	bval_dict_set(info, "pieces", pieces_str(1));
	bval_dict_set(info, "files", files);
	cr_assert_eq(parse_info_bval(info, &m, err), GT_OK, "%s", err);
	cr_assert_str_eq(m.files[0].path, "T/new/\xc3\xa9");
	cr_assert_str_eq(m.files[1].path, "T/kept");
	metainfo_clear(&m);
}

/* BitTorrent v2. */

static struct bval *
file_tree(void)
{
	struct bval	*ft = bval_dict(), *f = bval_dict();
	struct bval	*leaf = bval_dict();

	bval_dict_set(leaf, "length", bval_int(5));
	bval_dict_set(leaf, "pieces root", bval_str("01234567890123456789"
	    "012345678901", 32));
	bval_dict_set(f, "", leaf);
	bval_dict_set(ft, "f", f);
	return ft;
}

Test(metainfo, hybrid_v2)
{
	struct bval	*info, *t;
	struct metainfo	m;
	char		err[GT_ERRLEN];
	uint8_t		want[SHA256_LEN];

	info = info_single("f", 5, 16384);
	bval_dict_set(info, "meta version", bval_int(2));
	bval_dict_set(info, "file tree", file_tree());
	t = torrent_of(info);
	bval_dict_set(t, "piece layers", bval_dict());
	cr_assert_eq(parse_bval(t, &m, err), GT_OK, "%s", err);
	cr_assert(m.has_v2);
	sha256(m.info_raw, m.info_len, want);
	cr_assert_eq(memcmp(m.info_hash_v2, want, SHA256_LEN), 0);
	sha1(m.info_raw, m.info_len, want);
	cr_assert_eq(memcmp(m.info_hash, want, SHA1_LEN), 0);
	cr_assert_eq(m.total_length, 5);
	metainfo_clear(&m);
}

Test(metainfo, v2_only)
{
	struct bval	*info;
	struct metainfo	m;
	char		err[GT_ERRLEN];

	info = bval_dict();
	bval_dict_set(info, "name", bval_cstr("f"));
	bval_dict_set(info, "piece length", bval_int(16384));
	bval_dict_set(info, "meta version", bval_int(2));
	bval_dict_set(info, "file tree", file_tree());
	cr_assert_eq(parse_info_bval(info, &m, err), GT_EUNSUP);
	cr_assert_str_eq(err, "v2-only torrents are not supported yet");

	info = info_single("f", 5, 16384);
	bval_dict_set(info, "meta version", bval_int(3));
	cr_assert_eq(parse_info_bval(info, &m, err), GT_EUNSUP);
	cr_assert_str_eq(err, "info.meta version: version 3 is not "
	    "supported");
}

/* Errors. */

/* Single-file info dicts with one key changed. */
Test(metainfo, info_errors)
{
	static const struct {
		const char	*key;
		int64_t		 ival;
		const char	*sval;		/* non-NULL: a string */
		int		 other;		/* 1 list, 2 dict */
		enum gt_err	 e;
		const char	*msg;
	} cases[] = {
		{ "piece length", 0, NULL, 0, GT_EINVAL,
		    "info.piece length: must be between 1 and 536870912" },
		{ "piece length", -16384, NULL, 0, GT_EINVAL,
		    "info.piece length: must be between 1 and 536870912" },
		{ "piece length", 1LL << 32, NULL, 0, GT_EINVAL,
		    "info.piece length: must be between 1 and 536870912" },
		{ "piece length", (1LL << 29) + 1, NULL, 0, GT_EINVAL,
		    "info.piece length: must be between 1 and 536870912" },
		{ "piece length", 0, "16384", 0, GT_EINVAL,
		    "info.piece length: not an integer" },
		{ "length", -1, NULL, 0, GT_EINVAL,
		    "info.length: must not be negative" },
		{ "length", 0, NULL, 0, GT_EINVAL,
		    "info: torrent holds no data" },
		{ "length", 0, "100", 0, GT_EINVAL,
		    "info.length: not an integer" },
		{ "length", 16385, NULL, 0, GT_EINVAL,
		    "info.pieces: length 20 does not match 2 pieces of data "
		    "(40 bytes)" },
		{ "length", INT64_MAX, NULL, 0, GT_ETOOBIG,
		    "info: 562949953421312 pieces is over the limit of "
		    "2097152" },
		{ "pieces", 0, "0123456789012345678901234567890123456789X",
		    0, GT_EINVAL,
		    "info.pieces: length 41 is not a multiple of 20" },
		{ "pieces", 0, "", 0, GT_EINVAL,
		    "info.pieces: length 0 does not match 1 pieces of data "
		    "(20 bytes)" },
		{ "pieces", 0, "0123456789012345678901234567890123456789",
		    0, GT_EINVAL,
		    "info.pieces: length 40 does not match 1 pieces of data "
		    "(20 bytes)" },
		{ "pieces", 5, NULL, 0, GT_EINVAL,
		    "info.pieces: not a string" },
		{ "name", 5, NULL, 0, GT_EINVAL, "info.name: not a string" },
		{ "name", 0, NULL, 1, GT_EINVAL, "info.name: not a string" },
		{ "files", 0, NULL, 2, GT_EINVAL, "info.files: not a list" },
		{ "files", 0, "x", 0, GT_EINVAL, "info.files: not a list" },
		{ "files", 0, NULL, 1, GT_EINVAL, "info.files: empty list" },
		{ "length", 0, NULL, 1, GT_EINVAL,
		    "info.length: not an integer" },
	};
	struct bval	*info, *v;
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		info = info_single("f", 16384, 16384);
		if (cases[i].sval != NULL)
			v = bval_cstr(cases[i].sval);
		else if (cases[i].other == 1)
			v = bval_list();
		else if (cases[i].other == 2)
			v = bval_dict();
		else
			v = bval_int(cases[i].ival);
		bval_dict_set(info, cases[i].key, v);
		cr_assert_eq(parse_info_bval(info, &m, err), cases[i].e,
		    "case %zu: %s", i, err);
		cr_assert_str_eq(err, cases[i].msg, "case %zu", i);
	}
}

/* Required keys missing. */
Test(metainfo, missing_keys)
{
	static const struct {
		const char	*drop;
		const char	*msg;
	} cases[] = {
		{ "piece length", "info.piece length: missing" },
		{ "pieces", "info.pieces: missing" },
		{ "name", "info.name: missing" },
		{ "length", "info: has neither length nor files" },
	};
	static const char *const	 keys[] = {
		"name", "piece length", "pieces", "length",
	};
	struct bval			*info;
	struct metainfo			 m;
	char				 err[GT_ERRLEN];
	size_t				 i, k;

	for (i = 0; i < nitems(cases); i++) {
		info = bval_dict();
		for (k = 0; k < nitems(keys); k++) {
			if (strcmp(keys[k], cases[i].drop) == 0)
				continue;
			if (strcmp(keys[k], "name") == 0)
				bval_dict_set(info, "name", bval_cstr("f"));
			else if (strcmp(keys[k], "pieces") == 0)
				bval_dict_set(info, "pieces", pieces_str(1));
			else
				bval_dict_set(info, keys[k], bval_int(10));
		}
		cr_assert_eq(parse_info_bval(info, &m, err), GT_EINVAL,
		    "case %zu", i);
		cr_assert_str_eq(err, cases[i].msg, "case %zu", i);
	}
}

/* Multi-file entries with something wrong. */
Test(metainfo, file_errors)
{
	static const struct {
		int		 kind;
		const char	*msg;
	} cases[] = {
		{ 0, "info.files[1]: not a dictionary" },
		{ 1, "info.files[1].length: missing" },
		{ 2, "info.files[1].length: not an integer" },
		{ 3, "info.files[1].length: must not be negative" },
		{ 4, "info.files[1].path: missing" },
		{ 5, "info.files[1].path: not a list" },
		{ 6, "info.files[1].path[1]: not a string" },
		{ 7, "info.files[1].path: not a list" },
		{ 8, "info.files[1].path[0]: not a string" },
	};
	struct bval	*info, *files, *fd, *p;
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		files = bval_list();
		fd = bval_dict();
		bval_dict_set(fd, "length", bval_int(1));
		bval_dict_set(fd, "path", strlist("ok"));
		bval_list_add(files, fd);
		fd = bval_dict();
		switch (cases[i].kind) {
		case 0:
			bval_free(fd);
			fd = strlist("a|b");
			break;
		case 1:
			bval_dict_set(fd, "path", strlist("x"));
			break;
		case 2:
			bval_dict_set(fd, "length", bval_cstr("1"));
			break;
		case 3:
			bval_dict_set(fd, "length", bval_int(-5));
			break;
		case 4:
			bval_dict_set(fd, "length", bval_int(1));
			break;
		case 5:
			bval_dict_set(fd, "length", bval_int(1));
			bval_dict_set(fd, "path", bval_cstr("x"));
			break;
		case 6:
			bval_dict_set(fd, "length", bval_int(1));
			p = strlist("x");
			bval_list_add(p, bval_int(3));
			bval_dict_set(fd, "path", p);
			break;
		case 7:
			bval_dict_set(fd, "length", bval_int(1));
			bval_dict_set(fd, "path", bval_dict());
			break;
		case 8:
			bval_dict_set(fd, "length", bval_int(1));
			p = bval_list();
			bval_list_add(p, strlist("nested"));
			bval_dict_set(fd, "path", p);
			break;
		}
		bval_list_add(files, fd);
		info = bval_dict();
		bval_dict_set(info, "name", bval_cstr("T"));
		bval_dict_set(info, "piece length", bval_int(16));
		bval_dict_set(info, "pieces", pieces_str(1));
		bval_dict_set(info, "files", files);
		cr_assert_eq(parse_info_bval(info, &m, err), GT_EINVAL,
		    "case %zu: %s", i, err);
		cr_assert_str_eq(err, cases[i].msg, "case %zu", i);
	}
}

Test(metainfo, sizes)
{
	static const struct {
		int64_t		 len[3];
		size_t		 n;
		int64_t		 pl;
		enum gt_err	 e;
		const char	*msg;
	} cases[] = {
		{ { INT64_MAX, INT64_MAX, 2 }, 3, 1 << 20, GT_ETOOBIG,
		    "info.files[2].length: total size overflows" },
		{ { INT64_MAX, 1 }, 2, 1 << 20, GT_ETOOBIG,
		    "info: 8796093022208 pieces is over the limit of 2097152" },
		{ { 0, 0, 0 }, 3, 16, GT_EINVAL,
		    "info: torrent holds no data" },
		{ { 1, -1 }, 2, 16, GT_EINVAL,
		    "info.files[1].length: must not be negative" },
		{ { (1LL << 21) * 16 + 1 }, 1, 16, GT_ETOOBIG,
		    "info: 2097153 pieces is over the limit of 2097152" },
	};
	struct tfile	f[3];
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i, j;

	for (i = 0; i < nitems(cases); i++) {
		for (j = 0; j < cases[i].n; j++)
			f[j] = (struct tfile){ cases[i].len[j], j == 0 ? "a" :
			    j == 1 ? "b" : "c", NULL, NULL };
		cr_assert_eq(parse_info_bval(info_files("T", cases[i].pl, f,
		    cases[i].n), &m, err), cases[i].e, "case %zu: %s", i,
		    err);
		cr_assert_str_eq(err, cases[i].msg, "case %zu", i);
	}
}

Test(metainfo, big_but_fine)
{
	static const struct tfile	 f[] = {
		{ 1LL << 40, "a", NULL, NULL },
		{ (1LL << 40) - 1, "b", NULL, NULL },
	};
	struct metainfo			 m;
	char				 err[GT_ERRLEN];

	cr_assert_eq(parse_info_bval(info_files("T", 1 << 20, f, 2), &m, err),
	    GT_OK, "%s", err);
	cr_assert_eq(m.total_length, (2ULL << 40) - 1);
	cr_assert_eq(m.npieces, 2u << 20);
	cr_assert_eq(metainfo_piece_size(&m, m.npieces - 1), (1u << 20) - 1);
	cr_assert_eq(m.files[1].offset, 1ULL << 40);
	metainfo_clear(&m);
}

/* The piece hashes are read where they are, in info_raw: no copy. */
Test(metainfo, pieces_inside_info_raw)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];

	cr_assert_eq(parse_info_bval(info_single("f", 40000, 16384), &m, err),
	    GT_OK, "%s", err);
	cr_assert_eq(m.npieces, 3);
	cr_assert(m.pieces > m.info_raw && m.pieces + 3 * SHA1_LEN <
	    m.info_raw + m.info_len);
	cr_assert_eq(metainfo_piece_hash(&m, 2), m.pieces + 2 * SHA1_LEN);
	metainfo_clear(&m);
}

/* parse_take: the same result, the input block becomes info_raw. */
Test(metainfo, parse_take)
{
	struct bval	*info;
	struct metainfo	 a, b;
	char		 err[GT_ERRLEN];
	uint8_t		*p, *q;
	size_t		 len;

	info = info_single("f", 40000, 16384);
	bval_dict_set(info, "source", bval_cstr("src"));
	p = encode(torrent_of(info), &len);
	q = xmalloc(len);
	memcpy(q, p, len);
	cr_assert_eq(metainfo_parse(&a, p, len, err), GT_OK, "%s", err);
	cr_assert_eq(metainfo_parse_take(&b, q, len, err), GT_OK, "%s", err);
	free(p);
	cr_assert_eq(memcmp(a.info_hash, b.info_hash, SHA1_LEN), 0);
	cr_assert_eq(a.info_len, b.info_len);
	cr_assert_eq(memcmp(a.info_raw, b.info_raw, a.info_len), 0);
	cr_assert_eq(b.info_raw[0], 'd');
	cr_assert_eq(b.npieces, 3);
	cr_assert_eq(memcmp(a.pieces, b.pieces, 3 * SHA1_LEN), 0);
	cr_assert(b.pieces > b.info_raw && b.pieces + 3 * SHA1_LEN <
	    b.info_raw + b.info_len);
	cr_assert_str_eq(b.name, "f");
	cr_assert_str_eq(b.source, "src");
	cr_assert_eq(b.ntiers, a.ntiers);
	metainfo_clear(&a);
	metainfo_clear(&b);

	/* Failures free the block (ASan's leak check sees to it). */
	q = xmalloc(2);
	memcpy(q, "le", 2);
	cr_assert_eq(metainfo_parse_take(&b, q, 2, err), GT_EINVAL);
	info = info_single("f", 40000, 16384);
	bval_dict_set(info, "piece length", bval_int(0));
	q = encode(torrent_of(info), &len);
	cr_assert_eq(metainfo_parse_take(&b, q, len, err), GT_EINVAL);
	cr_assert_str_eq(err, "info.piece length: must be between 1 and "
	    "536870912");
}

Test(metainfo, too_many_pieces)
{
	struct bval	*info;
	struct metainfo	m;
	char		err[GT_ERRLEN];

	info = info_single("f", 1, 1);
	bval_dict_set(info, "pieces", pieces_str(MI_MAX_PIECES + 1));
	cr_assert_eq(parse_info_bval(info, &m, err), GT_ETOOBIG);
	cr_assert_str_eq(err, "info.pieces: 2097153 pieces is over the limit "
	    "of 2097152");
}

Test(metainfo, too_many_files)
{
	struct bval	*info, *files;
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i;

	files = bval_list();
	for (i = 0; i < MI_MAX_FILES + 1; i++)
		bval_list_add(files, bval_int(0));
	info = bval_dict();
	bval_dict_set(info, "name", bval_cstr("T"));
	bval_dict_set(info, "piece length", bval_int(16));
	bval_dict_set(info, "pieces", pieces_str(1));
	bval_dict_set(info, "files", files);
	cr_assert_eq(parse_info_bval(info, &m, err), GT_ETOOBIG);
	cr_assert_str_eq(err, "info.files: 524289 files is over the limit "
	    "of 524288");
}

Test(metainfo, too_big_torrent)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];
	uint8_t		*p;

	p = xcalloc(1, MI_MAX_TORRENT + 1);
	cr_assert_eq(metainfo_parse(&m, p, MI_MAX_TORRENT + 1, err),
	    GT_ETOOBIG);
	cr_assert_str_eq(err, "torrent: 67108865 bytes is over the limit of "
	    "67108864");
	cr_assert_eq(metainfo_parse_info(&m, p, MI_MAX_TORRENT + 1, err),
	    GT_ETOOBIG);
	free(p);
}

Test(metainfo, structure_errors)
{
	static const struct {
		const char	*in;
		const char	*msg;		/* prefix */
	} cases[] = {
		{ "le", "torrent: not a dictionary" },
		{ "i5e", "torrent: not a dictionary" },
		{ "de", "info: missing" },
		{ "d4:infoli1eee", "info: not a dictionary" },
		{ "d4:info3:abce", "info: not a dictionary" },
		{ "d4:infoi01ee", "bencode error at byte " },
		{ "d4:info", "bencode error at byte " },
		{ "", "bencode error at byte " },
		{ "d4:infode", "bencode error at byte " },
		{ "d4:infodee", "info.piece length: missing" },
		{ "d4:infodee trailing", "bencode error at byte " },
	};
	struct metainfo	m;
	char		err[GT_ERRLEN];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		cr_assert_neq(parse_bytes(cases[i].in, strlen(cases[i].in),
		    &m, err), GT_OK, "case %zu", i);
		cr_assert_eq(strncmp(err, cases[i].msg,
		    strlen(cases[i].msg)), 0, "case %zu: %s", i, err);
		cr_assert_null(strchr(err, '\n'));
	}
}

Test(metainfo, deep_nesting)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];
	char		buf[4096];
	size_t		n = 0, i;

	/* A path element that is 1000 nested lists. */
	n += (size_t)snprintf(buf, sizeof(buf), "d4:infod5:filesld6:lengthi1"
	    "e4:pathl");
	for (i = 0; i < 1000; i++)
		buf[n++] = 'l';
	for (i = 0; i < 1000; i++)
		buf[n++] = 'e';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "eee4:name1:T12:pie"
	    "ce lengthi16e6:pieces20:01234567890123456789ee");
	cr_assert_neq(parse_bytes(buf, n, &m, err), GT_OK);
	cr_assert(strncmp(err, "bencode error at byte ", 22) == 0, "%s", err);
}

Test(metainfo, failure_leaves_m_untouched)
{
	struct metainfo	m, copy;
	char		err[GT_ERRLEN];

	memset(&m, 0xa5, sizeof(m));
	copy = m;
	cr_assert_neq(parse_info_bval(info_single("f", -1, 16), &m, err),
	    GT_OK);
	cr_assert_eq(memcmp(&m, &copy, sizeof(m)), 0);
	cr_assert_neq(parse_bytes("x", 1, &m, err), GT_OK);
	cr_assert_eq(memcmp(&m, &copy, sizeof(m)), 0);
	cr_assert_neq(metainfo_parse(&m, (const uint8_t *)"x", 1, NULL),
	    GT_OK);
	cr_assert_eq(memcmp(&m, &copy, sizeof(m)), 0);
}

Test(metainfo, clear)
{
	struct metainfo	m = { 0 }, zero = { 0 };
	char		err[GT_ERRLEN];

	metainfo_clear(&m);
	cr_assert_eq(memcmp(&m, &zero, sizeof(m)), 0);
	cr_assert_eq(parse_info_bval(info_single("f", 1, 1), &m, err), GT_OK);
	metainfo_clear(&m);
	cr_assert_eq(memcmp(&m, &zero, sizeof(m)), 0);
	metainfo_clear(&m);
}

Test(metainfo, parse_info_bare)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];
	uint8_t		*p;
	size_t		 len;

	p = encode(info_single("bare", 3, 2), &len);
	cr_assert_eq(metainfo_parse_info(&m, p, len, err), GT_OK, "%s", err);
	cr_assert_str_eq(m.name, "bare");
	cr_assert_eq(m.npieces, 2);
	cr_assert_eq(m.info_len, len);
	metainfo_clear(&m);
	cr_assert_eq(metainfo_parse_info(&m, (const uint8_t *)"le", 2, err),
	    GT_EINVAL);
	cr_assert_str_eq(err, "info: not a dictionary");
	free(p);
}

/* Scale: many files, many duplicates, in well under a second. */

#if defined(__SANITIZE_ADDRESS__)
#define SLOW	4.0		/* ASan: several times slower */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW	4.0
#endif
#endif
#ifndef SLOW
#define SLOW	1.0
#endif

/* CPU time, so a loaded machine does not fail the test. */
static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *
many_files(size_t n, bool same, size_t *len)
{
	struct bval	*info, *files, *fd, *path;
	char		 comp[32];
	size_t		 i;

	files = bval_list();
	for (i = 0; i < n; i++) {
		fd = bval_dict();
		bval_dict_set(fd, "length", bval_int(1));
		path = bval_list();
		snprintf(comp, sizeof(comp), "d%zu", same ? 0 : i % 100);
		bval_list_add(path, bval_cstr(comp));
		snprintf(comp, sizeof(comp), "f%zu", same ? 0 : i);
		bval_list_add(path, bval_cstr(comp));
		bval_dict_set(fd, "path", path);
		bval_list_add(files, fd);
	}
	info = bval_dict();
	bval_dict_set(info, "name", bval_cstr("many"));
	bval_dict_set(info, "piece length", bval_int(16));
	bval_dict_set(info, "pieces", pieces_str(count_pieces(n, 16)));
	bval_dict_set(info, "files", files);
	return encode(torrent_of(info), len);
}

Test(metainfo, hundred_thousand_files, .timeout = 30)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];
	uint8_t		*p;
	size_t		 len;
	double		 t;

	p = many_files(100000, false, &len);
	t = now_s();
	cr_assert_eq(metainfo_parse(&m, p, len, err), GT_OK, "%s", err);
	t = now_s() - t;
	cr_assert_lt(t, 1.0 * SLOW, "took %.3f s", t);
	cr_assert_eq(m.nfiles, 100000);
	cr_assert_str_eq(m.files[12345].path, "many/d45/f12345");
	check_paths(&m);
	metainfo_clear(&m);
	free(p);

	/* All the same path: renames stay linear. */
	p = many_files(100000, true, &len);
	t = now_s();
	cr_assert_eq(metainfo_parse(&m, p, len, err), GT_OK, "%s", err);
	t = now_s() - t;
	cr_assert_lt(t, 1.0 * SLOW, "took %.3f s", t);
	cr_assert_str_eq(m.files[0].path, "many/d0/f0");
	cr_assert_str_eq(m.files[99999].path, "many/d0/f0.99999");
	metainfo_clear(&m);
	free(p);
}

/* Deep paths cost their length, not their length squared. */
Test(metainfo, many_deep_paths, .timeout = 30)
{
	struct buf	b;
	struct metainfo	m;
	char		err[GT_ERRLEN];
	uint8_t		*p;
	size_t		 len, i, j, nfiles = 1000, depth = 1990;
	double		 t;

	buf_init(&b, SIZE_MAX);
	buf_puts(&b, "d4:infod5:filesl");
	for (i = 0; i < nfiles; i++) {
		buf_puts(&b, "d6:lengthi1e4:pathl");
		for (j = 0; j < depth; j++)
			buf_puts(&b, "1:a");
		buf_printf(&b, "%zu:f%0*zuee", (size_t)5, 4, i);
	}
	buf_printf(&b, "e4:name1:T12:piece lengthi16e6:pieces%zu:",
	    (size_t)count_pieces(nfiles, 16) * SHA1_LEN);
	for (i = 0; i < count_pieces(nfiles, 16) * SHA1_LEN; i++)
		buf_putc(&b, 'h');
	buf_puts(&b, "ee");
	p = buf_take(&b, &len);
	t = now_s();
	cr_assert_eq(metainfo_parse(&m, p, len, err), GT_OK, "%s", err);
	t = now_s() - t;
	cr_assert_lt(t, 1.0 * SLOW, "took %.3f s", t);
	cr_assert_eq(m.nfiles, nfiles);
	cr_assert_eq(strlen(m.files[7].path), 2 + 2 * depth + 5);
	check_paths(&m);
	metainfo_clear(&m);
	free(p);
}

/* The committed fixture (run from the top of the tree). */
Test(metainfo, fixture_hostile_paths)
{
	static const char *const	 want[] = {
		".._hostile/etc/passwd", ".._hostile/_etc_shadow",
		".._hostile/a_.._.._b", ".._hostile/dup", ".._hostile/dup.1",
		".._hostile/dup.2/inner", ".._hostile/evil",
	};
	struct metainfo			 m;
	char				 err[GT_ERRLEN];
	uint8_t				 buf[4096];
	size_t				 len, i;
	FILE				*f;

	f = fopen("torrents/hostile-paths.torrent", "rb");
	if (f == NULL)
		cr_skip_test("torrents/hostile-paths.torrent not found");
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_eq(metainfo_parse(&m, buf, len, err), GT_OK, "%s", err);
	cr_assert_eq(m.nfiles, nitems(want));
	for (i = 0; i < nitems(want); i++)
		cr_assert_str_eq(m.files[i].path, want[i]);
	cr_assert_str_eq(m.files[6].symlink, ".._hostile/tmp");
	cr_assert_eq(m.files[6].attr, MI_ATTR_SYMLINK);
	cr_assert_eq(m.total_length, 17);
	cr_assert_eq(m.npieces, 2);
	check_paths(&m);
	metainfo_clear(&m);
}
