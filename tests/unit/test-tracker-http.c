/* test-tracker-http.c - announce URLs and tracker replies */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

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
		{ "", 0 }, { "le", 2 }, { "d5:peers13:0123456789abce", 25 },
		{ "d5:peers", 8 }, { "i3e", 3 }, { "<html>", 6 },
		{ "d6:peers65:abcdee", 17 },
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
