/* test-tracker-http.c - announce URLs and tracker replies */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "tracker-http.h"
#include "util.h"

static struct tracker_req
sample_req(void)
{
	struct tracker_req	r = {
		.port = 6881, .uploaded = 1, .downloaded = 2, .left = 3,
		.numwant = 50, .key = 0xabcd, .event = TRACKER_EVENT_STARTED,
	};
	size_t			i;

	for (i = 0; i < SHA1_LEN; i++)
		r.info_hash[i] = (uint8_t)(i * 13);
	memcpy(r.peer_id, "-GR0100-abcdefghij~.", 20);
	return r;
}

Test(tracker_http, announce_url)
{
	struct tracker_req	 r = sample_req();
	char			*u;

	u = tracker_http_announce_url("http://127.0.0.1:6969/announce", &r);
	cr_assert_str_eq(u, "http://127.0.0.1:6969/announce?info_hash="
	    "%00%0D%1A%274AN%5Bhu%82%8F%9C%A9%B6%C3%D0%DD%EA%F7"
	    "&peer_id=-GR0100-abcdefghij~.&port=6881&uploaded=1"
	    "&downloaded=2&left=3&corrupt=0&key=0000ABCD&numwant=50"
	    "&compact=1&no_peer_id=1&event=started");
	free(u);
	r.event = TRACKER_EVENT_NONE;
	r.tracker_id = "id 1";
	u = tracker_http_announce_url("http://h/a?passkey=x#frag", &r);
	cr_assert(strncmp(u, "http://h/a?passkey=x&info_hash=", 31) == 0);
	cr_assert_null(strstr(u, "event="));
	cr_assert_null(strchr(u, '#'));
	cr_assert_not_null(strstr(u, "&trackerid=id%201"));
	free(u);
}

static enum gt_err
parse(const char *s, size_t len, struct tracker_reply *r)
{
	char	err[TRACKER_ERRLEN];

	return tracker_http_parse((const uint8_t *)s, len, r, err);
}

#define PARSE(lit, r)	parse((lit), sizeof(lit) - 1, (r))

Test(tracker_http, compact_peers)
{
	struct tracker_reply	r;
	char			s[ADDR_STRLEN];

	cr_assert_eq(PARSE("d8:completei5e10:incompletei7e8:intervali900e"
	    "5:peers18:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x00\x00"
	    "\x7f\x00\x00\x01\x1a\xe1"
	    "6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x1a\xe2" "e", &r), GT_OK);
	cr_assert_eq(r.interval, 900);
	cr_assert_eq(r.complete, 5);
	cr_assert_eq(r.incomplete, 7);
	cr_assert_eq(r.npeers, 2, "port 0 and the duplicate are dropped");
	cr_assert_str_eq(addr_str(&r.peers[0], s), "127.0.0.1:6881");
	cr_assert_str_eq(addr_str(&r.peers[1], s), "[::1]:6882");
	tracker_reply_clear(&r);
}

Test(tracker_http, dict_peers_and_strings)
{
	struct tracker_reply	r;
	char			s[ADDR_STRLEN];

	cr_assert_eq(PARSE("d8:intervali5e12:min intervali99999e"
	    "5:peersld2:ip9:127.0.0.14:porti80eed2:ip7:example4:porti1ee"
	    "d2:ip3:::14:porti70000eed2:ip3:::14:porti81eee"
	    "10:tracker id2:ab15:warning message5:a\x01\x1b[be", &r), GT_OK);
	cr_assert_eq(r.interval, TRACKER_MIN_INTERVAL);
	cr_assert_eq(r.min_interval, TRACKER_MAX_INTERVAL);
	cr_assert_eq(r.npeers, 2);
	cr_assert_str_eq(addr_str(&r.peers[0], s), "127.0.0.1:80");
	cr_assert_str_eq(addr_str(&r.peers[1], s), "[::1]:81");
	cr_assert_str_eq(r.tracker_id, "ab");
	cr_assert_str_eq(r.warning, "a??[b");
	cr_assert_eq(r.complete, -1);
	tracker_reply_clear(&r);
}

/* BEP 23 readers take the whole entries and ignore a partial tail. */
Test(tracker_http, compact_partial_tail_ignored)
{
	struct tracker_reply	r;
	char			s[ADDR_STRLEN];

	cr_assert_eq(PARSE("d8:intervali900e"
	    "5:peers13:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe2\x7f"
	    "6:peers620:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x1a\xe3\x00\x00" "e", &r), GT_OK);
	cr_assert_eq(r.npeers, 3);
	cr_assert_str_eq(addr_str(&r.peers[0], s), "127.0.0.1:6881");
	cr_assert_str_eq(addr_str(&r.peers[1], s), "127.0.0.2:6882");
	cr_assert_str_eq(addr_str(&r.peers[2], s), "[::1]:6883");
	tracker_reply_clear(&r);

	/* Shorter than one entry: no peers, no error. */
	cr_assert_eq(PARSE("d5:peers5:\x7f\x00\x00\x01\x1a"
	    "6:peers65:\x00\x00\x00\x00\x00" "e", &r), GT_OK);
	cr_assert_eq(r.npeers, 0);
	tracker_reply_clear(&r);
}

/* A peer at 0.0.0.0, broadcast, multicast is never handed out. */
Test(tracker_http, undialable_peers_dropped)
{
	struct tracker_reply	r;
	char			s[ADDR_STRLEN];

	cr_assert_eq(PARSE("d5:peersl"
	    "d2:ip7:0.0.0.04:porti6881ee"
	    "d2:ip15:255.255.255.2554:porti6881ee"
	    "d2:ip9:224.0.0.14:porti6881ee"
	    "d2:ip7:ff02::14:porti6881ee"
	    "d2:ip2:::4:porti6881ee"
	    "d2:ip16:::ffff:224.0.0.14:porti6881ee"
	    "d2:ip9:127.0.0.14:porti6881ee"
	    "ee", &r), GT_OK);
	cr_assert_eq(r.npeers, 1);
	cr_assert_str_eq(addr_str(&r.peers[0], s), "127.0.0.1:6881");
	tracker_reply_clear(&r);

	cr_assert_eq(PARSE("d5:peers18:\x00\x00\x00\x00\x1a\xe1"
	    "\xe0\x00\x00\x01\x1a\xe1\x7f\x00\x00\x03\x1a\xe1"
	    "6:peers636:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x1a\xe1"
	    "\xff\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x1a\xe1" "e", &r), GT_OK);
	cr_assert_eq(r.npeers, 1);
	cr_assert_str_eq(addr_str(&r.peers[0], s), "127.0.0.3:6881");
	tracker_reply_clear(&r);
}

Test(tracker_http, failure)
{
	struct tracker_reply	r;

	cr_assert_eq(PARSE("d14:failure reason8:not heree", &r), GT_OK);
	cr_assert_str_eq(r.failure, "not here");
	cr_assert_eq(r.npeers, 0);
	tracker_reply_clear(&r);
}

Test(tracker_http, malformed)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} bad[] = {
		{ "", 0 }, { "le", 2 }, { "d5:peers", 8 }, { "i3e", 3 },
		{ "<html>", 6 },
	};
	struct tracker_reply	r;
	size_t			i;

	for (i = 0; i < nitems(bad); i++)
		cr_assert_neq(parse(bad[i].s, bad[i].len, &r), GT_OK, "%zu",
		    i);
}

Test(tracker_http, peer_cap)
{
	size_t			 n = TRACKER_MAX_PEERS + 500, i, len;
	char			*body, hdr[64];
	struct tracker_reply	 r;

	len = (size_t)snprintf(hdr, sizeof(hdr), "d5:peers%zu:", n * 6);
	body = xmalloc(len + n * 6 + 1);
	memcpy(body, hdr, len);
	for (i = 0; i < n; i++) {
		uint8_t	*p = (uint8_t *)body + len + i * 6;

		p[0] = 127;
		p[1] = (uint8_t)(i >> 16);
		p[2] = (uint8_t)(i >> 8);
		p[3] = (uint8_t)i;
		p[4] = 0x1a;
		p[5] = 0xe1;
	}
	body[len + n * 6] = 'e';
	cr_assert_eq(parse(body, len + n * 6 + 1, &r), GT_OK);
	cr_assert_eq(r.npeers, TRACKER_MAX_PEERS);
	tracker_reply_clear(&r);
	free(body);
}

/* Scrapes (BEP 48). */

static const uint8_t	hash_a[SHA1_LEN] = "aaaaaaaaaaaaaaaaaaaa";
static const uint8_t	hash_b[SHA1_LEN] = "bbbbbbbbbbbbbbbbbbbb";
static const uint8_t	hash_c[SHA1_LEN] = "cccccccccccccccccccc";

Test(tracker_http, scrape_url_table)
{
	static const struct {
		const char	*announce;
		const char	*scrape;	/* NULL: no scrape form */
	} t[] = {
		{ "http://127.0.0.1:6969/announce",
		  "http://127.0.0.1:6969/scrape?info_hash=%00%01" },
		{ "http://h/announce.php",
		  "http://h/scrape.php?info_hash=%00%01" },
		{ "http://h/x/announce?passkey=1",
		  "http://h/x/scrape?passkey=1&info_hash=%00%01" },
		{ "https://h/a/b/announce?pk=1&z=2#frag",
		  "https://h/a/b/scrape?pk=1&z=2&info_hash=%00%01" },
		{ "http://h/announce#x/announce",
		  "http://h/scrape?info_hash=%00%01" },
		{ "http://h/announce?",
		  "http://h/scrape?info_hash=%00%01" },
		{ "http://h/announcements",
		  "http://h/scrapements?info_hash=%00%01" },
		{ "http://h/announce/x", NULL },
		{ "http://h/x/ann", NULL },
		{ "http://h/a?x=/announce", NULL },
		{ "http://h/tracker", NULL },
		{ "http://h", NULL },
		{ "http://announce.example.org", NULL },
		{ "http://h/", NULL },
		{ "", NULL },
	};
	uint8_t	h[1][SHA1_LEN] = { { 0, 1 } };
	char	*u, want[256];
	size_t	i;

	for (i = 0; i < nitems(t); i++) {
		u = tracker_http_scrape_url(t[i].announce,
		    (const uint8_t (*)[SHA1_LEN])h, 1);
		if (t[i].scrape == NULL) {
			cr_assert_null(u, "%s -> %s", t[i].announce, u);
			continue;
		}
		cr_assert_not_null(u, "%s", t[i].announce);
		snprintf(want, sizeof(want), "%s%s", t[i].scrape,
		    "%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00");
		cr_assert_str_eq(u, want, "%s", t[i].announce);
		free(u);
	}
}

Test(tracker_http, scrape_url_many)
{
	uint8_t	 h[3][SHA1_LEN];
	char	*u;

	memcpy(h[0], hash_a, SHA1_LEN);
	memcpy(h[1], "~ x/&?#%", 8);
	memset(h[1] + 8, 0xff, SHA1_LEN - 8);
	memcpy(h[2], hash_c, SHA1_LEN);
	u = tracker_http_scrape_url("http://h/announce?pk=a",
	    (const uint8_t (*)[SHA1_LEN])h, 3);
	cr_assert_str_eq(u, "http://h/scrape?pk=a"
	    "&info_hash=aaaaaaaaaaaaaaaaaaaa"
	    "&info_hash=~%20x%2F%26%3F%23%25"
	    "%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF"
	    "&info_hash=cccccccccccccccccccc");
	free(u);
	cr_assert_null(tracker_http_scrape_url("http://h/announce",
	    (const uint8_t (*)[SHA1_LEN])h, 0));
}

Test(tracker_http, scrape_url_cap)
{
	uint8_t	(*h)[SHA1_LEN];
	char	*u;

	h = xcalloc(TRACKER_MAX_SCRAPE + 1, SHA1_LEN);
	u = tracker_http_scrape_url("http://h/announce",
	    (const uint8_t (*)[SHA1_LEN])h, TRACKER_MAX_SCRAPE);
	cr_assert_not_null(u);
	free(u);
	cr_assert_null(tracker_http_scrape_url("http://h/announce",
	    (const uint8_t (*)[SHA1_LEN])h, TRACKER_MAX_SCRAPE + 1));
	free(h);
}

static enum gt_err
parse_scrape(const char *s, size_t len, const uint8_t (*h)[SHA1_LEN],
    size_t n, struct tracker_scrape *r)
{
	char	err[TRACKER_ERRLEN] = "";
	enum gt_err	e;

	e = tracker_http_parse_scrape((const uint8_t *)s, len, h, n, r, err);
	if (e != GT_OK)
		cr_assert_neq(err[0], '\0', "an error says why");
	return e;
}

#define PARSE_SCRAPE(lit, h, n, r)					\
	parse_scrape((lit), sizeof(lit) - 1, (h), (n), (r))

static const uint8_t	asked[3][SHA1_LEN] = {
	"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccc",
};

#define ENTRY(h, c, d, i)						\
	"20:" h "d8:completei" #c "e10:downloadedi" #d "e10:incompletei" #i "ee"

Test(tracker_http, scrape_one)
{
	struct tracker_scrape	r;

	cr_assert_eq(PARSE_SCRAPE("d5:filesd"
	    ENTRY("aaaaaaaaaaaaaaaaaaaa", 5, 50, 7) "ee", asked, 1, &r), GT_OK);
	cr_assert_null(r.failure);
	cr_assert_eq(r.n, 1);
	cr_assert(memcmp(r.v[0].info_hash, hash_a, SHA1_LEN) == 0);
	cr_assert_eq(r.v[0].complete, 5);
	cr_assert_eq(r.v[0].downloaded, 50);
	cr_assert_eq(r.v[0].incomplete, 7);
	tracker_scrape_clear(&r);
	cr_assert_null(r.v);
	cr_assert_eq(r.n, 0);
	tracker_scrape_clear(&r);	/* twice is fine */
}

Test(tracker_http, scrape_several_in_asked_order)
{
	struct tracker_scrape	r;

	/* the reply's keys are sorted; the result follows the asked order */
	cr_assert_eq(PARSE_SCRAPE("d5:filesd"
	    ENTRY("aaaaaaaaaaaaaaaaaaaa", 1, 2, 3)
	    ENTRY("bbbbbbbbbbbbbbbbbbbb", 4, 5, 6)
	    ENTRY("cccccccccccccccccccc", 7, 8, 9) "ee",
	    (const uint8_t (*)[SHA1_LEN])asked + 1, 2, &r), GT_OK);
	cr_assert_eq(r.n, 2, "a is not asked about");
	cr_assert(memcmp(r.v[0].info_hash, hash_b, SHA1_LEN) == 0);
	cr_assert_eq(r.v[0].complete, 4);
	cr_assert(memcmp(r.v[1].info_hash, hash_c, SHA1_LEN) == 0);
	cr_assert_eq(r.v[1].incomplete, 9);
	tracker_scrape_clear(&r);

	{
		uint8_t	rev[3][SHA1_LEN];

		memcpy(rev[0], hash_c, SHA1_LEN);
		memcpy(rev[1], hash_a, SHA1_LEN);
		memcpy(rev[2], hash_c, SHA1_LEN);	/* asked twice */
		cr_assert_eq(PARSE_SCRAPE("d5:filesd"
		    ENTRY("aaaaaaaaaaaaaaaaaaaa", 1, 2, 3)
		    ENTRY("cccccccccccccccccccc", 7, 8, 9) "ee",
		    (const uint8_t (*)[SHA1_LEN])rev, 3, &r), GT_OK);
		cr_assert_eq(r.n, 2, "each hash at most once");
		cr_assert(memcmp(r.v[0].info_hash, hash_c, SHA1_LEN) == 0);
		cr_assert(memcmp(r.v[1].info_hash, hash_a, SHA1_LEN) == 0);
		tracker_scrape_clear(&r);
	}
}

Test(tracker_http, scrape_not_asked_ignored)
{
	struct tracker_scrape	r;

	cr_assert_eq(PARSE_SCRAPE("d5:filesd"
	    ENTRY("zzzzzzzzzzzzzzzzzzzz", 1, 2, 3) "ee", asked, 3, &r), GT_OK);
	cr_assert_eq(r.n, 0);
	cr_assert_null(r.v);
	tracker_scrape_clear(&r);
	cr_assert_eq(PARSE_SCRAPE("d5:filesdee", asked, 3, &r), GT_OK);
	cr_assert_eq(r.n, 0);
	tracker_scrape_clear(&r);
	/* wrong-length keys and non-dict values are skipped */
	cr_assert_eq(PARSE_SCRAPE("d5:filesd3:abcde"
	    "20:aaaaaaaaaaaaaaaaaaaai5e"
	    ENTRY("bbbbbbbbbbbbbbbbbbbb", 1, 2, 3) "ee", asked, 3, &r), GT_OK);
	cr_assert_eq(r.n, 1);
	cr_assert(memcmp(r.v[0].info_hash, hash_b, SHA1_LEN) == 0);
	tracker_scrape_clear(&r);
	/* nothing asked */
	cr_assert_eq(PARSE_SCRAPE("d5:filesd"
	    ENTRY("aaaaaaaaaaaaaaaaaaaa", 1, 2, 3) "ee", NULL, 0, &r), GT_OK);
	cr_assert_eq(r.n, 0);
	tracker_scrape_clear(&r);
}

Test(tracker_http, scrape_failure)
{
	struct tracker_scrape	r;

	cr_assert_eq(PARSE_SCRAPE("d14:failure reason9:no\x01scrapee",
	    asked, 1, &r), GT_OK);
	cr_assert_str_eq(r.failure, "no?scrape");
	cr_assert_eq(r.n, 0);
	tracker_scrape_clear(&r);
	cr_assert_null(r.failure);
}

Test(tracker_http, scrape_negative_and_missing)
{
	struct tracker_scrape	r;

	cr_assert_eq(PARSE_SCRAPE("d5:filesd"
	    "20:aaaaaaaaaaaaaaaaaaaad8:completei-1e10:downloadedi-5e"
	    "10:incompletei3ee"
	    "20:bbbbbbbbbbbbbbbbbbbbd8:complete1:54:name1:xe"
	    "20:ccccccccccccccccccccde"
	    "e5:flagsd20:min_request_intervali60eee", asked, 3, &r), GT_OK);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.v[0].complete, -1);
	cr_assert_eq(r.v[0].downloaded, -1);
	cr_assert_eq(r.v[0].incomplete, 3);
	cr_assert_eq(r.v[1].complete, -1, "a string is not a count");
	cr_assert_eq(r.v[1].downloaded, -1);
	cr_assert_eq(r.v[1].incomplete, -1);
	cr_assert_eq(r.v[2].complete, -1);
	cr_assert_eq(r.v[2].downloaded, -1);
	cr_assert_eq(r.v[2].incomplete, -1);
	tracker_scrape_clear(&r);
}

Test(tracker_http, scrape_malformed)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} bad[] = {
		{ "", 0 }, { "le", 2 }, { "i3e", 3 }, { "<html>", 6 },
		{ "de", 2 },			/* no files */
		{ "d5:filesle", 10 },		/* files not a dict */
		{ "d5:filesdeex", 12 },		/* trailing garbage */
		{ "d5:filesd", 9 },		/* truncated */
		{ "d5:filesdee\0", 12 },
	};
	struct tracker_scrape	r = { 0 };
	size_t			i;

	for (i = 0; i < nitems(bad); i++)
		cr_assert_eq(parse_scrape(bad[i].s, bad[i].len, asked, 1,
		    &r), GT_EPROTO, "%zu", i);
}

Test(tracker_http, scrape_huge_refused)
{
	size_t			 len = TRACKER_MAX_REPLY + 1;
	char			*body;
	struct tracker_scrape	 r;

	body = xmalloc(len);
	memset(body, '0', len);
	cr_assert_eq(parse_scrape(body, len, asked, 1, &r), GT_ETOOBIG);
	free(body);
}

Test(tracker_http, scrape_many_entries)
{
	struct buf		b;
	struct tracker_scrape	r;
	uint8_t			h[SHA1_LEN];
	size_t			i, len;
	uint8_t			*body;

	/* a full scrape of 5000 torrents: only the one asked about is kept */
	buf_init(&b, SIZE_MAX);
	buf_puts(&b, "d5:filesd");
	for (i = 0; i < 5000; i++) {
		memset(h, 0, sizeof(h));
		store_be32(h, (uint32_t)i);
		buf_puts(&b, "20:");
		buf_append(&b, h, SHA1_LEN);
		buf_printf(&b, "d8:completei%zue10:downloadedi0e"
		    "10:incompletei0ee", i);
	}
	buf_puts(&b, "ee");
	body = buf_take(&b, &len);
	memset(h, 0, sizeof(h));
	store_be32(h, 4321);
	cr_assert_eq(parse_scrape((const char *)body, len,
	    (const uint8_t (*)[SHA1_LEN])&h, 1, &r), GT_OK);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.v[0].complete, 4321);
	tracker_scrape_clear(&r);
	free(body);
}
