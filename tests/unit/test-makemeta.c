/* test-makemeta.c - torrents from file lists, checked against mktorrent */
#include <string.h>

#include <criterion/criterion.h>

#include "bencode.h"
#include "buf.h"
#include "crypto.h"
#include "makemeta.h"

#define KIB	1024ULL
#define MIB	(1024ULL * KIB)
#define GIB	(1024ULL * MIB)

/*
 * Golden files made by mktorrent 1.1:
 *	printf 'hello\n' > hello.txt
 *	mktorrent -d -l 15 -a http://t1/ann -o s.torrent hello.txt
 */
static const char golden_single[] =
    "d8:announce13:http://t1/ann10:created by13:mktorrent 1.1"
    "4:infod6:lengthi6e4:name9:hello.txt12:piece lengthi32768e"
    "6:pieces20:\xf5r\xd3\x96\xfa\xe9 f(qO\xb2\xce\x00\xf7.\x94\xf2%\x8f"
    "ee";

/*
 * The tree d/{B/q, Z, a-c, a.d, a/b, a_, ab, empty} holding "v\n", "u\n",
 * "y\n", "z\n", "x\n", "t\n", "w\n" and nothing (mktorrent's order);
 *	mktorrent -d -l 15 -a http://t1/ann -a http://t2/ann,http://t3/ann \
 *	    -w http://w1/ -w http://w2/ -c comm -p -s SRC -o m.torrent d
 */
static const char golden_multi[] =
    "d8:announce13:http://t1/ann13:announce-listll13:http://t1/annel"
    "13:http://t2/ann13:http://t3/annee7:comment4:comm"
    "10:created by13:mktorrent 1.14:infod5:filesld6:lengthi2e"
    "4:pathl1:B1:qeed6:lengthi2e4:pathl1:Zeed6:lengthi2e4:pathl3:a-cee"
    "d6:lengthi2e4:pathl3:a.deed6:lengthi2e4:pathl1:a1:beed6:lengthi2e"
    "4:pathl2:a_eed6:lengthi2e4:pathl2:abeed6:lengthi0e4:pathl5:emptyeee"
    "4:name1:d12:piece lengthi32768e6:pieces20:"
    "\xca\xd9`\xb0\x9e!v|_6\x97S\x05\xabw\xf0iz\x7f`"
    "7:privatei1e6:source3:SRCe8:url-listl10:http://w1/10:http://w2/ee";

static const struct makemeta_file multi_files[] = {
	{ "B/q", 2 }, { "Z", 2 }, { "a-c", 2 }, { "a.d", 2 }, { "a/b", 2 },
	{ "a_", 2 }, { "ab", 2 }, { "empty", 0 },
};
static const char multi_data[] = "v\nu\ny\nz\nx\nt\nw\n";

static struct buf	out;

static void
setup(void)
{
	buf_init(&out, 1 << 20);
}

static void
teardown(void)
{
	buf_clear(&out);
}

TestSuite(makemeta, .init = setup, .fini = teardown);

/* A one-file torrent of "hello\n" with opts defaults; o may be changed. */
static struct makemeta_opts
single_opts(void)
{
	return (struct makemeta_opts){
		.name = "hello.txt",
		.single_file = true,
		.piece_length = 32768,
	};
}

static const struct makemeta_file	hello_file = { "hello.txt", 6 };

static enum gt_err
build_hello(const struct makemeta_opts *o)
{
	uint8_t	h[SHA1_LEN];

	sha1("hello\n", 6, h);
	buf_reset(&out);
	return makemeta_build(o, &hello_file, 1, h, 1, &out);
}

static bool
out_has(const char *s)
{
	return memmem(out.data, out.len, s, strlen(s)) != NULL;
}

static void
assert_out(const char *want, size_t len)
{
	cr_assert_eq(out.len, len, "length %zu, want %zu", out.len, len);
	cr_assert(memcmp(out.data, want, len) == 0, "bytes differ");
}

Test(makemeta, golden_single_file)
{
	static const char *const	 t0[] = { "http://t1/ann", NULL };
	static const char *const *const	 tiers[] = { t0 };
	struct makemeta_opts		 o = single_opts();

	o.created_by = "mktorrent 1.1";
	o.tiers = tiers;
	o.ntiers = 1;
	cr_assert_eq(build_hello(&o), GT_OK);
	assert_out(golden_single, sizeof(golden_single) - 1);
}

Test(makemeta, golden_multi_file)
{
	static const char *const	 t0[] = { "http://t1/ann", NULL };
	static const char *const	 t1[] = { "http://t2/ann",
					     "http://t3/ann", NULL };
	static const char *const *const	 tiers[] = { t0, t1 };
	static const char *const	 seeds[] = { "http://w1/",
					     "http://w2/" };
	struct makemeta_opts		 o = {
		.name = "d",
		.piece_length = 32768,
		.private = true,
		.source = "SRC",
		.comment = "comm",
		.created_by = "mktorrent 1.1",
		.tiers = tiers,
		.ntiers = 2,
		.web_seeds = seeds,
		.nweb_seeds = 2,
	};
	uint8_t				 h[SHA1_LEN];

	sha1(multi_data, sizeof(multi_data) - 1, h);
	cr_assert_eq(makemeta_build(&o, multi_files, nitems(multi_files), h,
	    1, &out), GT_OK);
	assert_out(golden_multi, sizeof(golden_multi) - 1);
}

/* Every dictionary's keys strictly ascending, as raw bytes. */
static void
assert_sorted(const struct bencode_doc *doc, const struct bencode_node *n)
{
	const struct bencode_node	*c, *prev = NULL;
	size_t				 i = 0, m;
	int				 cmp;

	if (n->type != BENCODE_LIST && n->type != BENCODE_DICT)
		return;
	for (c = bencode_first(doc, n); c != NULL;
	    c = bencode_next(doc, n, c), i++) {
		if (n->type == BENCODE_DICT && i % 2 == 0) {
			if (prev != NULL) {
				m = MIN(prev->slen, c->slen);
				cmp = memcmp(prev->s, c->s, m);
				cr_assert(cmp < 0 ||
				    (cmp == 0 && prev->slen < c->slen),
				    "keys out of order");
			}
			prev = c;
		} else
			assert_sorted(doc, c);
	}
}

Test(makemeta, keys_sorted_everywhere)
{
	static const char *const	 t0[] = { "udp://a:1", "udp://b:2",
					     NULL };
	static const char *const *const	 tiers[] = { t0 };
	static const char *const	 seeds[] = { "http://w/" };
	struct makemeta_opts		 o = {
		.name = "folder",
		.piece_length = 1 << 14,
		.private = true,
		.source = "S",
		.comment = "c",
		.created_by = "gtorrent/test",
		.has_date = true,
		.creation_date = 1700000000,
		.tiers = tiers,
		.ntiers = 1,
		.web_seeds = seeds,
		.nweb_seeds = 1,
	};
	struct bencode_doc		 doc;
	uint8_t				 h[SHA1_LEN] = { 0 };

	cr_assert_eq(makemeta_build(&o, multi_files, nitems(multi_files), h,
	    1, &out), GT_OK);
	cr_assert_eq(bencode_decode(&doc, out.data, out.len,
	    &bencode_default_limits, NULL), GT_OK);
	cr_assert_eq(bencode_root(&doc)->type, BENCODE_DICT);
	assert_sorted(&doc, bencode_root(&doc));
	cr_assert(out_has("13:creation datei1700000000e"));
	cr_assert(out_has("10:created by13:gtorrent/test"));
	bencode_doc_clear(&doc);
}

Test(makemeta, no_trackers_no_announce)
{
	struct makemeta_opts	o = single_opts();

	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(!out_has("announce"));
	cr_assert(!out_has("creation date"));
	cr_assert(!out_has("comment"));
	cr_assert(!out_has("created by"));
	cr_assert(!out_has("url-list"));
	cr_assert(!out_has("private"));
	cr_assert(!out_has("source"));
	cr_assert(memcmp(out.data, "d4:infod6:lengthi6e", 19) == 0);
}

Test(makemeta, one_url_no_announce_list)
{
	static const char *const	 empty[] = { NULL };
	static const char *const	 t0[] = { "http://only/", NULL };
	static const char *const *const	 tiers[] = { empty, t0, empty };
	struct makemeta_opts		 o = single_opts();

	o.tiers = tiers;
	o.ntiers = 3;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("8:announce12:http://only/"));
	cr_assert(!out_has("announce-list"));
}

Test(makemeta, two_urls_one_tier)
{
	static const char *const	 t0[] = { "http://a/", "http://b/",
					     NULL };
	static const char *const *const	 tiers[] = { t0 };
	struct makemeta_opts		 o = single_opts();

	o.tiers = tiers;
	o.ntiers = 1;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("d8:announce9:http://a/"
	    "13:announce-listll9:http://a/9:http://b/ee4:info"));
}

Test(makemeta, tiers_keep_order_skip_empty)
{
	static const char *const	 empty[] = { NULL };
	static const char *const	 t0[] = { "http://z/", NULL };
	static const char *const	 t1[] = { "http://a/", NULL };
	static const char *const *const	 tiers[] = { empty, t0, empty, t1 };
	struct makemeta_opts		 o = single_opts();

	o.tiers = tiers;
	o.ntiers = 4;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("d8:announce9:http://z/"
	    "13:announce-listll9:http://z/el9:http://a/ee4:info"));
}

Test(makemeta, url_list_string_or_list)
{
	static const char *const	seeds[] = { "http://w1/",
					    "http://w2/" };
	struct makemeta_opts		o = single_opts();

	o.web_seeds = seeds;
	o.nweb_seeds = 1;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("8:url-list10:http://w1/e"));
	o.nweb_seeds = 2;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("8:url-listl10:http://w1/10:http://w2/ee"));
}

Test(makemeta, private_and_source_in_info)
{
	struct makemeta_opts	o = single_opts();

	o.private = true;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("7:privatei1ee"));
	cr_assert(!out_has("source"));
	o.private = false;
	o.source = "TRK";
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("6:source3:TRKee"));
	cr_assert(!out_has("private"));
	o.source = "";		/* mktorrent -s "" writes it, so do we */
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("6:source0:ee"));
}

Test(makemeta, piece_length_limits)
{
	struct makemeta_opts	o = single_opts();
	uint64_t		bad[] = { 0, 1, 1 << 13, 3 << 14, 49152,
				    1ULL << 29, (1ULL << 28) + 1 };
	size_t			i;

	for (i = 0; i < nitems(bad); i++) {
		o.piece_length = bad[i];
		cr_assert_eq(build_hello(&o), GT_EINVAL, "%llu",
		    (unsigned long long)bad[i]);
		cr_assert_eq(out.len, 0);
	}
	o.piece_length = 1 << 14;
	cr_assert_eq(build_hello(&o), GT_OK);
	o.piece_length = 1ULL << 28;
	cr_assert_eq(build_hello(&o), GT_OK);
	cr_assert(out_has("12:piece lengthi268435456e"));
}

Test(makemeta, bad_names)
{
	struct makemeta_opts	o = single_opts();
	const char		*bad[] = { "", ".", "..", "a/b", "/x", "x/" };
	size_t			 i;

	o.name = NULL;
	cr_assert_eq(build_hello(&o), GT_EINVAL);
	for (i = 0; i < nitems(bad); i++) {
		o.name = bad[i];
		cr_assert_eq(build_hello(&o), GT_EINVAL, "%s", bad[i]);
	}
	o.name = "...";
	cr_assert_eq(build_hello(&o), GT_OK);
}

Test(makemeta, bad_paths)
{
	struct makemeta_opts	o = { .name = "d", .piece_length = 1 << 14 };
	const char		*bad[] = { "", "/a", "a/", "a//b", "a/../b",
				    "./a", ".." };
	struct makemeta_file	f[2] = { { "ok", 1 }, { NULL, 1 } };
	uint8_t			h[SHA1_LEN] = { 0 };
	size_t			i;

	cr_assert_eq(makemeta_build(&o, f, 2, h, 1, &out), GT_EINVAL);
	for (i = 0; i < nitems(bad); i++) {
		f[1].path = bad[i];
		cr_assert_eq(makemeta_build(&o, f, 2, h, 1, &out), GT_EINVAL,
		    "%s", bad[i]);
	}
	f[1].path = "a/.b/c..";
	cr_assert_eq(makemeta_build(&o, f, 2, h, 1, &out), GT_OK);
	cr_assert(out_has("4:pathl1:a2:.b3:c..e"));
}

Test(makemeta, piece_count_must_match)
{
	struct makemeta_opts	o = { .name = "d", .piece_length = 1 << 14 };
	struct makemeta_file	f[2] = { { "a", 1 << 14 }, { "b", 1 } };
	uint8_t			h[3 * SHA1_LEN] = { 0 };

	cr_assert_eq(makemeta_build(&o, f, 2, h, 1, &out), GT_EINVAL);
	cr_assert_eq(makemeta_build(&o, f, 2, h, 3, &out), GT_EINVAL);
	cr_assert_eq(makemeta_build(&o, f, 2, NULL, 2, &out), GT_EINVAL);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(makemeta_build(&o, f, 2, h, 2, &out), GT_OK);
	cr_assert(out_has("6:pieces40:"));
	f[1].length = 0;		/* exactly one piece */
	buf_reset(&out);
	cr_assert_eq(makemeta_build(&o, f, 2, h, 1, &out), GT_OK);
}

Test(makemeta, nothing_to_share)
{
	struct makemeta_opts	o = { .name = "d", .piece_length = 1 << 14 };
	struct makemeta_file	f[2] = { { "a", 0 }, { "b", 0 } };
	uint8_t			h[SHA1_LEN] = { 0 };

	cr_assert_eq(makemeta_build(&o, f, 2, h, 0, &out), GT_EINVAL);
	cr_assert_eq(makemeta_build(&o, f, 0, h, 0, &out), GT_EINVAL);
	o.single_file = true;
	f[0].length = 5;
	cr_assert_eq(makemeta_build(&o, f, 2, h, 1, &out), GT_EINVAL);
	cr_assert_eq(makemeta_build(&o, f, 1, h, 1, &out), GT_OK);
}

Test(makemeta, empty_urls_refused)
{
	static const char *const	 t0[] = { "", NULL };
	static const char *const *const	 tiers[] = { t0 };
	static const char *const	 seeds[] = { "" };
	struct makemeta_opts		 o = single_opts();

	o.tiers = tiers;
	o.ntiers = 1;
	cr_assert_eq(build_hello(&o), GT_EINVAL);
	o.ntiers = 0;
	o.web_seeds = seeds;
	o.nweb_seeds = 1;
	cr_assert_eq(build_hello(&o), GT_EINVAL);
}

Test(makemeta, output_cap)
{
	struct makemeta_opts	o = single_opts();

	buf_clear(&out);
	buf_init(&out, 32);
	cr_assert_eq(build_hello(&o), GT_ETOOBIG);
}

Test(makemeta, auto_piece_length_table)
{
	static const struct {
		uint64_t	total, want;
	} cases[] = {
		{ 1, 32 * KIB },
		{ 64 * MIB, 32 * KIB },
		{ 64 * MIB + 1, 64 * KIB },
		{ 128 * MIB, 64 * KIB },
		{ 700 * MIB, 512 * KIB },
		{ 1 * GIB, 512 * KIB },
		{ 2 * GIB, 1 * MIB },
		{ 4 * GIB + 1, 4 * MIB },
		{ 16 * GIB, 8 * MIB },
		{ 16 * GIB + 1, 16 * MIB },
		{ 1024 * GIB, 16 * MIB },
		{ UINT64_MAX, 16 * MIB },
	};
	uint64_t	pl, n, t;
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		pl = makemeta_auto_piece_length(cases[i].total);
		cr_assert_eq(pl, cases[i].want, "%llu -> %llu",
		    (unsigned long long)cases[i].total,
		    (unsigned long long)pl);
	}
	/* Between the clamps the count lands in (1024, 2048]. */
	for (t = 65 * MIB; t < 16 * GIB; t += t / 3 + 12345) {
		pl = makemeta_auto_piece_length(t);
		n = (t + pl - 1) / pl;
		cr_assert(n > 1024 && n <= 2048, "%llu: %llu pieces",
		    (unsigned long long)t, (unsigned long long)n);
	}
}
