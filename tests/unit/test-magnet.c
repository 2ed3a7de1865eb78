/* test-magnet.c - magnet URIs: valid and hostile tables, caps, round trips */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magnet.h"
#include "util.h"

#define HEX	"0123456789abcdef0123456789abcdef01234567"
#define B32	"AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH"	/* the same 20 bytes */
#define XT	"magnet:?xt=urn:btih:" HEX
#define V2	"1220" HEX "0123456789abcdef01234567"	/* 64 hex */
#define TR	"http://127.0.0.1:6969/announce"

/* Parses uri, which must succeed. */
static void
parse_ok(struct magnet *m, const char *uri)
{
	char		err[GT_ERRLEN] = "";
	enum gt_err	e;

	e = magnet_parse(m, uri, err);
	cr_assert_eq(e, GT_OK, "%s: %s", uri, err);
}

/* Parses uri, which must fail with e and err holding want. */
static void
parse_fails(const char *uri, enum gt_err want, const char *msg)
{
	struct magnet	m;
	char		err[GT_ERRLEN] = "";
	enum gt_err	e;

	memset(&m, 0xa5, sizeof(m));
	e = magnet_parse(&m, uri, err);
	cr_assert_eq(e, want, "%.200s: %d, want %d (%s)", uri, e, want, err);
	cr_assert_neq(err[0], '\0', "%.200s: no message", uri);
	cr_assert_null(strchr(err, '\n'), "%s", err);
	if (msg != NULL)
		cr_assert_not_null(strstr(err, msg), "%.200s: '%s' lacks "
		    "'%s'", uri, err, msg);
	/* *m untouched on failure */
	for (size_t i = 0; i < sizeof(m); i++)
		cr_assert_eq(((uint8_t *)&m)[i], 0xa5);
}

static void
assert_hash(const struct magnet *m, const char *hex)
{
	char	got[2 * SHA1_LEN + 1];

	hex_encode(got, m->info_hash, SHA1_LEN);
	cr_assert_str_eq(got, hex);
}

Test(magnet, valid_table)
{
	static const struct {
		const char	*uri, *hex, *dn;
		size_t		 ntr, npeers, nws, nsel, nwarn;
	} cases[] = {
		{ XT, HEX, NULL, 0, 0, 0, 0, 0 },
		{ "magnet:?xt=urn:btih:" B32, HEX, NULL, 0, 0, 0, 0, 0 },
		{ "MAGNET:?xt=URN:BTIH:" HEX, HEX, NULL, 0, 0, 0, 0, 0 },
		{ "Magnet:?xt=urn:BtIh:0123456789ABCDEF0123456789abcdef0123"
		    "4567", HEX, NULL, 0, 0, 0, 0, 0 },
		{ XT "&dn=hello+world", HEX, "hello world", 0, 0, 0, 0, 0 },
		{ XT "&dn=a%2Bb%20c", HEX, "a+b c", 0, 0, 0, 0, 0 },
		{ XT "&dn=caf%C3%A9", HEX, "caf\xc3\xa9", 0, 0, 0, 0, 0 },
		{ XT "&dn=%0a%1b", HEX, "\n\x1b", 0, 0, 0, 0, 0 },
		{ XT "&dn=", HEX, NULL, 0, 0, 0, 0, 0 },
		{ XT "&dn=first&dn=second", HEX, "first", 0, 0, 0, 0, 0 },
		{ XT "&dn=raw space", HEX, "raw space", 0, 0, 0, 0, 0 },
		{ "magnet:?dn=x&xt=urn:btih:" HEX, HEX, "x", 0, 0, 0, 0, 0 },
		{ XT "&tr=" TR, HEX, NULL, 1, 0, 0, 0, 0 },
		{ XT "&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=" TR,
		    HEX, NULL, 1, 0, 0, 0, 0 },		/* a duplicate */
		{ XT "&tr=udp://127.0.0.1:6969&tr=https://127.0.0.1/a"
		    "&tr=udp://[::1]:6969", HEX, NULL, 3, 0, 0, 0, 0 },
		{ XT "&tr=wss://127.0.0.1/a&tr=" TR, HEX, NULL, 1, 0, 0, 0,
		    1 },
		{ XT "&tr=&tr=http://&tr=http:///a&tr=http://127.0.0.1/a%20b",
		    HEX, NULL, 0, 0, 0, 0, 4 },
		{ XT "&x.pe=127.0.0.1:6881&x.pe=[::1]:6881"
		    "&x.pe=127.0.0.1:6881", HEX, NULL, 0, 2, 0, 0, 0 },
		{ XT "&x.pe=0.0.0.0:6881&x.pe=[::]:1", HEX, NULL, 0, 0, 0, 0,
		    2 },
		{ XT "&ws=http://127.0.0.1/f&ws=ftp://127.0.0.1/f", HEX, NULL,
		    0, 0, 1, 0, 1 },
		{ XT "&so=0,2,4-6", HEX, NULL, 0, 0, 0, 3, 0 },
		{ XT "&so=1&so=3-3", HEX, NULL, 0, 0, 0, 2, 0 },
		{ XT "&so=4294967295", HEX, NULL, 0, 0, 0, 1, 0 },
		/* numbered keys, repeats of the same hash, a v2 hash too */
		{ "magnet:?xt.1=urn:btih:" HEX "&xt.2=urn:btih:" B32
		    "&tr.1=" TR, HEX, NULL, 1, 0, 0, 0, 0 },
		{ XT "&xt=urn:btmh:" V2, HEX, NULL, 0, 0, 0, 0, 0 },
		/* unknown keys ignored, keys are case-sensitive */
		{ XT "&xl=10826029&kt=a+b&mt=x&DN=no&Tr=ftp://x&TR=1", HEX,
		    NULL, 0, 0, 0, 0, 0 },
		{ XT "&&&dn=x&", HEX, "x", 0, 0, 0, 0, 0 },
		{ XT "&unknown", HEX, NULL, 0, 0, 0, 0, 0 },
		{ XT "&%64n=escaped+key", HEX, "escaped key", 0, 0, 0, 0, 0 },
		{ XT "&dn=a#fragment&dn=b", HEX, "a", 0, 0, 0, 0, 0 },
		{ "magnet:?xt=urn:btih:" HEX "#", HEX, NULL, 0, 0, 0, 0, 0 },
	};
	struct magnet	m;
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		parse_ok(&m, cases[i].uri);
		assert_hash(&m, cases[i].hex);
		if (cases[i].dn == NULL)
			cr_assert_null(m.dn, "%s", cases[i].uri);
		else
			cr_assert_str_eq(m.dn, cases[i].dn, "%s", cases[i].uri);
		cr_assert_eq(m.ntrackers, cases[i].ntr, "%s", cases[i].uri);
		cr_assert_eq(m.npeers, cases[i].npeers, "%s", cases[i].uri);
		cr_assert_eq(m.nweb_seeds, cases[i].nws, "%s", cases[i].uri);
		cr_assert_eq(m.nselect, cases[i].nsel, "%s", cases[i].uri);
		cr_assert_eq(m.nwarnings, cases[i].nwarn, "%s: %zu warnings",
		    cases[i].uri, m.nwarnings);
		magnet_clear(&m);
	}
}

Test(magnet, hostile_table)
{
	static const struct {
		const char	*uri;
		enum gt_err	 e;
		const char	*msg;
	} cases[] = {
		{ "", GT_EINVAL, "not a magnet" },
		{ "magnet:", GT_EINVAL, "not a magnet" },
		{ "magnet:xt=urn:btih:" HEX, GT_EINVAL, "not a magnet" },
		{ "http://127.0.0.1/?xt=urn:btih:" HEX, GT_EINVAL, NULL },
		{ "magnet:?", GT_EINVAL, "no xt" },
		{ "magnet:?dn=x&tr=" TR, GT_EINVAL, "no xt" },
		/* hash lengths and digits */
		{ "magnet:?xt=urn:btih:" HEX "0", GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456",
		    GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456g",
		    GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRL1",
		    GT_EINVAL, "bad btih" },	/* 1 is no base32 digit */
		{ "magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRL",
		    GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:" B32 "====", GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:", GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:%00123456789abcdef0123456789abcdef01234567",
		    GT_EINVAL, NULL },
		{ "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456%00",
		    GT_EINVAL, "bad btih" },
		{ "magnet:?xt=urn:btih:+123456789abcdef0123456789abcdef01234567",
		    GT_EINVAL, "bad btih" },
		{ "magnet:?xt=" HEX, GT_EINVAL, "not a URN" },
		{ "magnet:?xt=", GT_EINVAL, "not a URN" },
		{ "magnet:?xt", GT_EINVAL, "not a URN" },
		{ "magnet:?xt=urn:btih", GT_EINVAL, "not a URN" },
		{ "magnet:?xt=urn:sha1:" B32, GT_EINVAL, "unknown namespace" },
		{ "magnet:?xt=urn:ed2k:" HEX "&xt=urn:btih:" HEX, GT_EINVAL,
		    "unknown namespace" },
		{ "magnet:?xt=urn:tree:tiger:" B32, GT_EINVAL,
		    "unknown namespace" },
		/* two torrents in one */
		{ XT "&xt=urn:btih:ffffffffffffffffffffffffffffffffffffffff",
		    GT_EINVAL, "two different btih" },
		{ XT "&xt.2=urn:btih:77777777777777777777777777777777",
		    GT_EINVAL, "two different btih" },
		/* v2 */
		{ "magnet:?xt=urn:btmh:" V2, GT_EUNSUP,
		    "v2-only magnets (urn:btmh) are not supported yet" },
		{ "magnet:?xt=urn:btmh:" V2 "&dn=x&tr=" TR, GT_EUNSUP,
		    "not supported yet" },
		{ XT "&xt=urn:btmh:1114" HEX "0123456789abcdef01234567",
		    GT_EINVAL, "bad btmh" },	/* SHA-1 multihash */
		{ XT "&xt=urn:btmh:1220" HEX, GT_EINVAL, "bad btmh" },
		{ XT "&xt=urn:btmh:" V2 "&xt=urn:btmh:1220" HEX
		    "ffffffffffffffffffffffff", GT_EINVAL, "two different btmh" },
		/* percent escapes */
		{ XT "&dn=%G1", GT_EINVAL, "bad percent escape" },
		{ XT "&dn=%1G", GT_EINVAL, "bad percent escape" },
		{ XT "&dn=%", GT_EINVAL, "bad percent escape" },
		{ XT "&dn=%4", GT_EINVAL, "bad percent escape" },
		{ XT "&dn=%%41", GT_EINVAL, "bad percent escape" },
		{ XT "&dn=%4&x=1", GT_EINVAL, "bad percent escape" },
		{ XT "&unknown=%zz", GT_EINVAL, "bad percent escape" },
		{ XT "&%zz=1", GT_EINVAL, "bad percent escape" },
		{ "magnet:?xt=urn%3Abtih%3" HEX, GT_EINVAL, NULL },
		/* NUL bytes and control characters */
		{ XT "&dn=a%00b", GT_EINVAL, "NUL" },
		{ XT "&tr=http://127.0.0.1/%00", GT_EINVAL, "NUL" },
		{ XT "&ws=http://127.0.0.1/%00", GT_EINVAL, "NUL" },
		{ XT "&x.pe=127.0.0.1:1%00", GT_EINVAL, "x.pe" },
		{ XT "&dn=a\nb", GT_EINVAL, "control character" },
		{ XT "&dn=a\x1b[2J", GT_EINVAL, "control character" },
		{ XT "&dn=a\x7f", GT_EINVAL, "control character" },
		{ XT "\r\n", GT_EINVAL, "control character" },
		/* peers */
		{ XT "&x.pe=127.0.0.1", GT_EINVAL, "x.pe" },
		{ XT "&x.pe=127.0.0.1:0", GT_EINVAL, "x.pe" },
		{ XT "&x.pe=127.0.0.1:65536", GT_EINVAL, "x.pe" },
		{ XT "&x.pe=localhost:6881", GT_EINVAL, "x.pe" },
		{ XT "&x.pe=::1:6881", GT_EINVAL, "x.pe" },
		{ XT "&x.pe=", GT_EINVAL, "x.pe" },
		/* file selection */
		{ XT "&so=", GT_EINVAL, "so:" },
		{ XT "&so=1,", GT_EINVAL, "so:" },
		{ XT "&so=,1", GT_EINVAL, "so:" },
		{ XT "&so=1,,2", GT_EINVAL, "so:" },
		{ XT "&so=6-4", GT_EINVAL, "so:" },
		{ XT "&so=4-", GT_EINVAL, "so:" },
		{ XT "&so=-4", GT_EINVAL, "so:" },
		{ XT "&so=1-2-3", GT_EINVAL, "so:" },
		{ XT "&so=a", GT_EINVAL, "so:" },
		{ XT "&so=+1", GT_EINVAL, "so:" },
		{ XT "&so=1 ", GT_EINVAL, "so:" },
		{ XT "&so=4294967296", GT_EINVAL, "so:" },
		{ XT "&so=99999999999999999999999", GT_EINVAL, "so:" },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		parse_fails(cases[i].uri, cases[i].e, cases[i].msg);
}

Test(magnet, base32_and_hex_agree)
{
	static const char *const forms[] = {
		"magnet:?xt=urn:btih:" HEX,
		"magnet:?xt=urn:btih:0123456789ABCDEF0123456789ABCDEF01234567",
		"magnet:?xt=urn:btih:" B32,
		"magnet:?xt=urn:btih:aerukz4jvpg66ajdivtytk6n54asgrlh",
		"magnet:?xt=urn:btih:AeRuKz4JvPg66aJdIvTyTk6N54aSgRlH",
	};
	struct magnet	m;
	size_t		i;

	for (i = 0; i < nitems(forms); i++) {
		parse_ok(&m, forms[i]);
		assert_hash(&m, HEX);
		magnet_clear(&m);
	}
	parse_ok(&m, "magnet:?xt=urn:btih:77777777777777777777777777777777");
	assert_hash(&m, "ffffffffffffffffffffffffffffffffffffffff");
	magnet_clear(&m);
	parse_ok(&m, "magnet:?xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_hash(&m, "0000000000000000000000000000000000000000");
	magnet_clear(&m);
	/* the same hash in both forms is one torrent */
	parse_ok(&m, XT "&xt=urn:btih:" B32);
	assert_hash(&m, HEX);
	magnet_clear(&m);
}

Test(magnet, fields)
{
	struct magnet	m;
	char		s[ADDR_STRLEN];

	parse_ok(&m, XT "&dn=My+File%21&tr=" TR "&tr=udp%3A%2F%2F127.0.0.1"
	    "%3A6969&x.pe=127.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A51413"
	    "&x.pe=[::ffff:127.0.0.2]:1&ws=https://127.0.0.1/seed/"
	    "&so=0,2,4-6&xt=urn:btmh:" V2);
	cr_assert_str_eq(m.dn, "My File!");
	cr_assert_eq(m.ntrackers, 2);
	cr_assert_str_eq(m.trackers[0], TR);
	cr_assert_str_eq(m.trackers[1], "udp://127.0.0.1:6969");
	cr_assert_eq(m.npeers, 3);
	cr_assert_str_eq(addr_str(&m.peers[0], s), "127.0.0.1:6881");
	cr_assert_str_eq(addr_str(&m.peers[1], s), "[::1]:51413");
	cr_assert_str_eq(addr_str(&m.peers[2], s), "127.0.0.2:1");
	cr_assert_eq(m.nweb_seeds, 1);
	cr_assert_str_eq(m.web_seeds[0], "https://127.0.0.1/seed/");
	cr_assert_eq(m.nselect, 3);
	cr_assert_eq(m.select[0].first, 0);
	cr_assert_eq(m.select[0].last, 0);
	cr_assert_eq(m.select[1].first, 2);
	cr_assert_eq(m.select[1].last, 2);
	cr_assert_eq(m.select[2].first, 4);
	cr_assert_eq(m.select[2].last, 6);
	cr_assert(m.has_v2);
	cr_assert_eq(m.info_hash_v2[0], 0x01);
	cr_assert_eq(m.info_hash_v2[SHA256_LEN - 1], 0x67);
	cr_assert_eq(m.nwarnings, 0);
	magnet_clear(&m);
	magnet_clear(&m);		/* cleared twice: harmless */
	magnet_clear(NULL);
}

Test(magnet, warnings)
{
	struct magnet	m;
	char		uri[2048];
	size_t		i;
	int		n;

	parse_ok(&m, XT "&tr=wss://127.0.0.1/a&tr=" TR);
	cr_assert_eq(m.nwarnings, 1);
	cr_assert_str_eq(m.warnings[0], "tr: 'wss://127.0.0.1/a' ignored: "
	    "only http, https and udp trackers");
	magnet_clear(&m);

	/* terminal escapes in a skipped URL come out as '?' */
	parse_ok(&m, XT "&tr=x%1B%5D0%3Btitle%07%E2%80%AE%0A");
	cr_assert_eq(m.nwarnings, 1);
	cr_assert_str_eq(m.warnings[0], "tr: 'x?]0;title?\?\?' ignored: only "
	    "http, https and udp trackers");
	magnet_clear(&m);
	parse_ok(&m, XT "&tr=http://127.0.0.1/a%0Ab");
	cr_assert_eq(m.nwarnings, 1);
	cr_assert_str_eq(m.warnings[0], "tr: 'http://127.0.0.1/a?b' ignored: "
	    "a space or control character");
	magnet_clear(&m);

	/* a long value is cut in the message */
	n = snprintf(uri, sizeof(uri), XT "&ws=ftp://127.0.0.1/");
	for (i = 0; i < 200; i++)
		uri[n++] = 'a';
	uri[n] = '\0';
	parse_ok(&m, uri);
	cr_assert_eq(m.nwarnings, 1);
	cr_assert(strlen(m.warnings[0]) < 128, "%s", m.warnings[0]);
	cr_assert_not_null(strstr(m.warnings[0], "...' ignored: only http "
	    "and https web seeds"), "%s", m.warnings[0]);
	magnet_clear(&m);

	/* past the cap, dropped */
	n = snprintf(uri, sizeof(uri), XT);
	for (i = 0; i < MAGNET_MAX_WARNINGS + 3; i++)
		n += snprintf(uri + n, sizeof(uri) - (size_t)n,
		    "&tr=ftp://127.0.0.1/%zu", i);
	parse_ok(&m, uri);
	cr_assert_eq(m.nwarnings, MAGNET_MAX_WARNINGS);
	cr_assert_eq(m.ntrackers, 0);
	for (i = 0; i < MAGNET_MAX_WARNINGS; i++)
		cr_assert_not_null(m.warnings[i]);
	magnet_clear(&m);
}

Test(magnet, error_values_escaped)
{
	char		err[GT_ERRLEN];
	struct magnet	m;

	cr_assert_eq(magnet_parse(&m, XT "&x.pe=%1B%5B2J%E2%80%AE", err),
	    GT_EINVAL);
	cr_assert_str_eq(err, "x.pe: '?[2J?' is not a numeric address:port");
	cr_assert_eq(magnet_parse(&m, "magnet:?xt=urn:x%0a:1", err),
	    GT_EINVAL);
	cr_assert_str_eq(err, "xt: unknown namespace 'urn:x?' (only "
	    "urn:btih: and urn:btmh:)");
	/* err may be NULL */
	cr_assert_eq(magnet_parse(&m, "magnet:?", NULL), GT_EINVAL);
}

/* A URI of exactly len bytes: XT, then "&x=" and 'a's. */
static char *
uri_of_len(size_t len)
{
	char	*s = xmalloc(len + 1);

	cr_assert_geq(len, sizeof(XT) - 1 + 3);
	memcpy(s, XT "&x=", sizeof(XT) - 1 + 3);
	memset(s + sizeof(XT) - 1 + 3, 'a', len - (sizeof(XT) - 1 + 3));
	s[len] = '\0';
	return s;
}

/* XT and n of "&KEY=PREFIX<i>SUFFIX". */
static char *
uri_repeat(const char *key, const char *prefix, const char *suffix, size_t n)
{
	size_t	cap = sizeof(XT) + n * (strlen(key) + strlen(prefix) +
		    strlen(suffix) + 16), len;
	char	*s = xmalloc(cap);
	size_t	i;

	len = (size_t)snprintf(s, cap, "%s", XT);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "&%s=%s%zu%s", key,
		    prefix, i + 1, suffix);
	return s;
}

Test(magnet, caps)
{
	struct magnet	 m;
	char		*s, *dn, *u;
	size_t		 i;

	/* the whole URI */
	s = uri_of_len(MAGNET_MAX_URI);
	parse_ok(&m, s);
	magnet_clear(&m);
	free(s);
	s = uri_of_len(MAGNET_MAX_URI + 1);
	parse_fails(s, GT_EINVAL, "longer than 16384");
	free(s);

	/* trackers: the cap counts distinct ones */
	s = uri_repeat("tr", "http://127.0.0.1/", "", MAGNET_MAX_TRACKERS);
	parse_ok(&m, s);
	cr_assert_eq(m.ntrackers, MAGNET_MAX_TRACKERS);
	magnet_clear(&m);
	u = xasprintf("%s&tr=http://127.0.0.1/1&tr=http://127.0.0.1/2", s);
	parse_ok(&m, u);
	cr_assert_eq(m.ntrackers, MAGNET_MAX_TRACKERS);
	magnet_clear(&m);
	free(u);
	free(s);
	/* more: the first ones kept, one warning (100+ tracker lists exist) */
	s = uri_repeat("tr", "udp://127.0.0.1:", "", MAGNET_MAX_TRACKERS + 5);
	parse_ok(&m, s);
	cr_assert_eq(m.ntrackers, MAGNET_MAX_TRACKERS);
	cr_assert_eq(m.nwarnings, 1);
	cr_assert_not_null(strstr(m.warnings[0], "tr: more than 64"));
	cr_assert_str_eq(m.trackers[0], "udp://127.0.0.1:1");
	magnet_clear(&m);
	free(s);

	/* peers */
	s = uri_repeat("x.pe", "127.0.0.1:", "", MAGNET_MAX_PEERS);
	parse_ok(&m, s);
	cr_assert_eq(m.npeers, MAGNET_MAX_PEERS);
	magnet_clear(&m);
	free(s);
	s = uri_repeat("x.pe", "127.0.0.1:", "", MAGNET_MAX_PEERS + 1);
	parse_fails(s, GT_EINVAL, "x.pe: more than 64");
	free(s);

	/* web seeds */
	s = uri_repeat("ws", "http://127.0.0.1/", "", MAGNET_MAX_WEB_SEEDS);
	parse_ok(&m, s);
	cr_assert_eq(m.nweb_seeds, MAGNET_MAX_WEB_SEEDS);
	magnet_clear(&m);
	free(s);
	s = uri_repeat("ws", "http://127.0.0.1/", "", MAGNET_MAX_WEB_SEEDS +
	    1);
	parse_ok(&m, s);
	cr_assert_eq(m.nweb_seeds, MAGNET_MAX_WEB_SEEDS);
	cr_assert_eq(m.nwarnings, 1);
	cr_assert_not_null(strstr(m.warnings[0], "ws: more than 16"));
	magnet_clear(&m);
	free(s);

	/* so= ranges, over one or several so= */
	s = uri_repeat("so", "", "", MAGNET_MAX_SELECT);
	parse_ok(&m, s);
	cr_assert_eq(m.nselect, MAGNET_MAX_SELECT);
	cr_assert_eq(m.select[MAGNET_MAX_SELECT - 1].first,
	    MAGNET_MAX_SELECT);
	magnet_clear(&m);
	free(s);
	s = uri_repeat("so", "", "", MAGNET_MAX_SELECT + 1);
	parse_fails(s, GT_EINVAL, "so: more than 256");
	free(s);

	/* dn, counted once decoded: %41 is one byte */
	dn = xmalloc(3 * MAGNET_MAX_DN + 2);
	for (i = 0; i < MAGNET_MAX_DN; i++)
		memcpy(dn + 3 * i, "%41", 3);
	dn[3 * MAGNET_MAX_DN] = '\0';
	s = xasprintf("%s&dn=%s", XT, dn);
	parse_ok(&m, s);
	cr_assert_eq(strlen(m.dn), MAGNET_MAX_DN);
	magnet_clear(&m);
	free(s);
	s = xasprintf("%s&dn=%sB", XT, dn);
	parse_fails(s, GT_EINVAL, "dn: longer than 1024");
	free(s);
	free(dn);

	/* one URL */
	u = xmalloc(MAGNET_MAX_URL + 2);
	memcpy(u, "http://127.0.0.1/", 17);
	memset(u + 17, 'a', MAGNET_MAX_URL - 17);
	u[MAGNET_MAX_URL] = '\0';
	s = xasprintf("%s&tr=%s&ws=%s", XT, u, u);
	parse_ok(&m, s);
	cr_assert_eq(strlen(m.trackers[0]), MAGNET_MAX_URL);
	cr_assert_eq(strlen(m.web_seeds[0]), MAGNET_MAX_URL);
	magnet_clear(&m);
	free(s);
	s = xasprintf("%s&tr=%sa", XT, u);
	parse_fails(s, GT_EINVAL, "tr: a URL longer than 2048");
	free(s);
	s = xasprintf("%s&ws=%sa", XT, u);
	parse_fails(s, GT_EINVAL, "ws: a URL longer than 2048");
	free(s);
	free(u);
}

Test(magnet, format)
{
	static const uint8_t	h[SHA1_LEN] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
		0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
	};
	char *const		tr[] = {
		"http://127.0.0.1:6969/announce?k=v&x=1",
		"udp://[::1]:6969",
	};
	char			*s;

	s = magnet_format(h, NULL, NULL, 0);
	cr_assert_str_eq(s, XT);
	free(s);
	s = magnet_format(h, "", NULL, 0);
	cr_assert_str_eq(s, XT);
	free(s);
	s = magnet_format(h, "a b+c/d~e_f.g-h\xc3\xa9&=%#", tr, nitems(tr));
	cr_assert_str_eq(s, XT "&dn=a%20b%2Bc%2Fd~e_f.g-h%C3%A9%26%3D%25%23"
	    "&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce%3Fk%3Dv%26x%3D1"
	    "&tr=udp%3A%2F%2F%5B%3A%3A1%5D%3A6969");
	free(s);
}

Test(magnet, round_trip)
{
	static const char *const	names[] = {
		"plain", "with space", "a+b", "100% & more=yes#1?",
		"caf\xc3\xa9 \xe2\x80\xae", "\x01\x1b[2J\x7f\n", "\xff\xfe",
		"~._-", "/etc/passwd", "../..", "C:\\x",
	};
	char *const			 tr[] = {
		"http://127.0.0.1:6969/announce",
		"https://127.0.0.1/a?passkey=a%2Fb&x=y+z",
		"udp://[::1]:6969/announce",
		"HTTP://127.0.0.1/UPPER",
	};
	uint8_t				 h[SHA1_LEN];
	struct magnet			 m;
	char				*s;
	size_t				 i, j;

	for (i = 0; i < nitems(names); i++) {
		for (j = 0; j < SHA1_LEN; j++)
			h[j] = (uint8_t)(i * 37 + j * 11);
		s = magnet_format(h, names[i], tr, nitems(tr));
		parse_ok(&m, s);
		cr_assert_eq(memcmp(m.info_hash, h, SHA1_LEN), 0);
		cr_assert_str_eq(m.dn, names[i]);
		cr_assert_eq(m.ntrackers, nitems(tr));
		for (j = 0; j < nitems(tr); j++)
			cr_assert_str_eq(m.trackers[j], tr[j]);
		cr_assert_eq(m.nwarnings, 0);
		magnet_clear(&m);
		free(s);
	}
}
