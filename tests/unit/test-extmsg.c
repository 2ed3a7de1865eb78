/* test-extmsg.c - extended handshake, ut_metadata and ut_pex payloads */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "extmsg.h"
#include "util.h"

#define LIT(s)	(const uint8_t *)(s), sizeof(s) - 1

static enum gt_err
parse_hs(const char *s, size_t len, struct ext_handshake *h)
{
	memset(h, 0xa5, sizeof(*h));	/* stale bytes must not survive */
	return extmsg_parse_handshake((const uint8_t *)s, len, h);
}

#define HS(lit, h)	parse_hs((lit), sizeof(lit) - 1, (h))

/* A libtorrent 2.0 handshake, as sent. */
static const char	lt_hs[] =
    "d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e"
    "1:pi6881e4:reqqi500e1:v17:libtorrent 2.0.8 6:yourip4:\x7f\x00\x00\x01"
    "e";

Test(extmsg, handshake_libtorrent)
{
	struct ext_handshake	h;
	char			s[ADDR_STRLEN];

	cr_assert_eq(HS(lt_hs, &h), GT_OK);
	cr_assert_eq(h.ut_metadata, 2);
	cr_assert_eq(h.ut_pex, 1);
	cr_assert_eq(h.port, 6881);
	cr_assert_str_eq(h.client, "libtorrent 2.0.8 ");
	cr_assert_eq(h.reqq, 500);
	cr_assert(h.has_yourip);
	cr_assert_str_eq(addr_str(&h.yourip, s), "127.0.0.1:0");
	cr_assert_eq(h.metadata_size, 31235);
	cr_assert_not(h.bad_metadata_size);
	cr_assert_not(h.upload_only);
}

/* Transmission-like: extra keys, a v6 yourip, upload_only, no ut_pex. */
Test(extmsg, handshake_other_clients)
{
	struct ext_handshake	h;
	char			s[ADDR_STRLEN];

	cr_assert_eq(HS("d12:complete_agoi-1e1:md11:lt_donthavei7e"
	    "10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e"
	    "11:ut_metadatai3e6:ut_pexi0ee13:metadata_sizei1e1:pi51413e"
	    "4:reqqi512e11:upload_onlyi1e1:v18:Transmission 4.0.5"
	    "6:yourip16:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01" "e", &h), GT_OK);
	cr_assert_eq(h.ut_metadata, 3);
	cr_assert_eq(h.ut_pex, 0, "0 disables");
	cr_assert_eq(h.port, 51413);
	cr_assert_str_eq(h.client, "Transmission 4.0.5");
	cr_assert_eq(h.reqq, 512);
	cr_assert_str_eq(addr_str(&h.yourip, s), "[::1]:0");
	cr_assert_eq(h.metadata_size, 1);
	cr_assert(h.upload_only);

	/* the smallest: just m, then trailing bytes (ignored) */
	cr_assert_eq(HS("d1:mdeeXYZ", &h), GT_OK);
	cr_assert_eq(h.ut_metadata, 0);
	cr_assert_eq(h.ut_pex, 0);
	cr_assert_eq(h.port, 0);
	cr_assert_str_eq(h.client, "");
	cr_assert_eq(h.reqq, 0);
	cr_assert_not(h.has_yourip);
	cr_assert_eq(h.metadata_size, 0);
	cr_assert_not(h.bad_metadata_size);
	cr_assert_not(h.upload_only);
	cr_assert_eq(HS("de", &h), GT_OK, "no m at all");
	cr_assert_eq(h.ut_metadata, 0);
}

Test(extmsg, handshake_caps)
{
	static const struct {
		const char	*s;
		uint32_t	 reqq;
	} rq[] = {
		{ "d4:reqqi0ee", EXT_REQQ_MIN },
		{ "d4:reqqi-5ee", EXT_REQQ_MIN },
		{ "d4:reqqi1ee", 1 },
		{ "d4:reqqi4096ee", 4096 },
		{ "d4:reqqi4097ee", EXT_REQQ_MAX },
		{ "d4:reqqi9223372036854775807ee", EXT_REQQ_MAX },
		{ "d4:reqq3:500e", 0 },		/* wrong type: absent */
	};
	static const struct {
		const char	*s;
		uint32_t	 size;
		bool		 bad;
	} ms[] = {
		{ "d13:metadata_sizei-1ee", 0, true },
		{ "d13:metadata_sizei0ee", 0, true },
		{ "d13:metadata_sizei1ee", 1, false },
		{ "d13:metadata_sizei16777216ee", EXT_METADATA_MAX, false },
		{ "d13:metadata_sizei16777217ee", 0, true },
		{ "d13:metadata_sizei1099511627776ee", 0, true }, /* 1 TiB */
		{ "d13:metadata_sizei-9223372036854775808ee", 0, true },
		{ "d13:metadata_size5:31235e", 0, false },
	};
	static const struct {
		const char	*s;
		uint16_t	 port;
	} ps[] = {
		{ "d1:pi0ee", 0 }, { "d1:pi1ee", 1 }, { "d1:pi65535ee", 65535 },
		{ "d1:pi65536ee", 0 }, { "d1:pi-6881ee", 0 },
		{ "d1:p4:6881e", 0 },
	};
	struct ext_handshake	h;
	size_t			i;

	cr_assert_eq(EXT_METADATA_MAX, 16777216);
	for (i = 0; i < nitems(rq); i++) {
		cr_assert_eq(parse_hs(rq[i].s, strlen(rq[i].s), &h), GT_OK);
		cr_assert_eq(h.reqq, rq[i].reqq, "%s", rq[i].s);
	}
	for (i = 0; i < nitems(ms); i++) {
		cr_assert_eq(parse_hs(ms[i].s, strlen(ms[i].s), &h), GT_OK);
		cr_assert_eq(h.metadata_size, ms[i].size, "%s", ms[i].s);
		cr_assert_eq(h.bad_metadata_size, ms[i].bad, "%s", ms[i].s);
	}
	for (i = 0; i < nitems(ps); i++) {
		cr_assert_eq(parse_hs(ps[i].s, strlen(ps[i].s), &h), GT_OK);
		cr_assert_eq(h.port, ps[i].port, "%s", ps[i].s);
	}
}

Test(extmsg, handshake_ids)
{
	struct ext_handshake	h;
	struct buf		b;
	size_t			i;

	cr_assert_eq(HS("d1:md11:ut_metadatai255e6:ut_pexi256eee", &h),
	    GT_OK);
	cr_assert_eq(h.ut_metadata, 255);
	cr_assert_eq(h.ut_pex, 0, "over 255: absent");
	cr_assert_eq(HS("d1:md11:ut_metadatai-1e6:ut_pex1:1ee", &h), GT_OK);
	cr_assert_eq(h.ut_metadata, 0);
	cr_assert_eq(h.ut_pex, 0, "wrong type: absent");
	cr_assert_eq(HS("d1:mli1eee", &h), GT_OK, "m not a dict: ignored");
	cr_assert_eq(h.ut_metadata, 0);

	/* 300 extensions: ours are found among them */
	buf_init(&b, SIZE_MAX);
	buf_puts(&b, "d1:md");
	for (i = 0; i < 300; i++)
		buf_printf(&b, "6:x_%04zui%zue", i, i);
	buf_puts(&b, "11:ut_metadatai7e6:ut_pexi9eee");
	cr_assert_eq(parse_hs((char *)b.data, b.len, &h), GT_OK);
	cr_assert_eq(h.ut_metadata, 7);
	cr_assert_eq(h.ut_pex, 9);
	buf_clear(&b);
}

Test(extmsg, handshake_client_string)
{
	struct ext_handshake	h;
	char			want[EXT_CLIENT_MAX + 1];

	cr_assert_eq(HS("d1:v4:ab\x00" "ce", &h), GT_OK);
	cr_assert_str_eq(h.client, "ab", "cut at the NUL");
	cr_assert_eq(HS("d1:v1:\x00" "e", &h), GT_OK);
	cr_assert_str_eq(h.client, "");
	cr_assert_eq(HS("d1:v0:e", &h), GT_OK);
	cr_assert_str_eq(h.client, "");
	cr_assert_eq(HS("d1:vi5ee", &h), GT_OK);
	cr_assert_str_eq(h.client, "", "wrong type: absent");
	/* raw bytes are kept (the caller escapes them) */
	cr_assert_eq(HS("d1:v6:\x1b[2J\xff" "ae", &h), GT_OK);
	cr_assert_str_eq(h.client, "\x1b[2J\xff" "a");
	/* 70 bytes: 64 kept */
	cr_assert_eq(HS("d1:v70:"
	    "0123456789012345678901234567890123456789"
	    "012345678901234567890123456789e", &h), GT_OK);
	memcpy(want, "0123456789012345678901234567890123456789"
	    "012345678901234567890123", EXT_CLIENT_MAX);
	want[EXT_CLIENT_MAX] = '\0';
	cr_assert_str_eq(h.client, want);
	cr_assert_eq(strlen(h.client), EXT_CLIENT_MAX);
}

Test(extmsg, handshake_yourip)
{
	struct ext_handshake	h;

	cr_assert_eq(HS("d6:yourip5:\x7f\x00\x00\x01\x01" "e", &h), GT_OK);
	cr_assert_not(h.has_yourip, "5 bytes: ignored");
	cr_assert_eq(HS("d6:yourip0:e", &h), GT_OK);
	cr_assert_not(h.has_yourip);
	cr_assert_eq(HS("d6:yourip6:\x7f\x00\x00\x01\x1a\xe1" "e", &h), GT_OK);
	cr_assert_not(h.has_yourip, "compact with port: ignored");
	cr_assert_eq(HS("d6:youripi1ee", &h), GT_OK);
	cr_assert_not(h.has_yourip);
	cr_assert_eq(HS("d6:yourip4:\x7f\x00\x00\x02" "e", &h), GT_OK);
	cr_assert(h.has_yourip);
	cr_assert_eq(h.yourip.family, ADDR_V4);
	cr_assert_eq(h.yourip.port, 0);
	cr_assert_eq(memcmp(h.yourip.ip, "\x7f\x00\x00\x02", 4), 0);
	cr_assert_eq(memcmp(h.yourip.ip + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12),
	    0, "the rest zeroed");
}

Test(extmsg, handshake_hostile)
{
	static const char *const bad[] = {
		"", "d", "d1:m", "d1:md", "d1:mde", "le", "i1e", "4:spam",
		"x", "d1:pi1e1:pi2ee",
		"d1:pi01ee", "d3:abc", "d1:v99:abce", "d2:m1:ae",
		"di1ei2ee",
	};
	struct ext_handshake	h, keep;
	size_t			i;
	char			deep[64];
	size_t			k;

	for (i = 0; i < nitems(bad); i++) {
		memset(&h, 0x5a, sizeof(h));
		keep = h;
		cr_assert_eq(extmsg_parse_handshake((const uint8_t *)bad[i],
		    strlen(bad[i]), &h), GT_EPROTO, "\"%s\"", bad[i]);
		cr_assert_eq(memcmp(&h, &keep, sizeof(h)), 0,
		    "untouched on error");
	}
	/* every prefix of a real handshake is truncated */
	for (i = 0; i < sizeof(lt_hs) - 1; i++)
		cr_assert_eq(extmsg_parse_handshake((const uint8_t *)lt_hs,
		    i, &h), GT_EPROTO, "%zu bytes", i);
	/* nesting past the cap (and within it) */
	for (k = 8; k <= 20; k += 12) {
		memcpy(deep, "d1:x", 4);
		memset(deep + 4, 'l', k);
		memset(deep + 4 + k, 'e', k + 1);
		cr_assert_eq(extmsg_parse_handshake((const uint8_t *)deep,
		    5 + 2 * k, &h), k == 8 ? GT_OK : GT_EPROTO);
	}
	/* wrong types everywhere: a valid, empty handshake */
	cr_assert_eq(HS("d1:m3:abc1:p3:abc4:reqqle1:vi1e6:yourip"
	    "d1:ai1ee13:metadata_sizeli1ee11:upload_only1:1e", &h), GT_OK);
	cr_assert_eq(h.ut_metadata + h.ut_pex + h.port + h.reqq, 0);
	cr_assert_str_eq(h.client, "");
	cr_assert_not(h.has_yourip);
	cr_assert_eq(h.metadata_size, 0);
	cr_assert_not(h.bad_metadata_size);
	cr_assert_not(h.upload_only);
}

static void
assert_hs_eq(const struct ext_handshake *a, const struct ext_handshake *b)
{
	cr_assert_eq(a->ut_metadata, b->ut_metadata);
	cr_assert_eq(a->ut_pex, b->ut_pex);
	cr_assert_eq(a->port, b->port);
	cr_assert_str_eq(a->client, b->client);
	cr_assert_eq(a->reqq, b->reqq);
	cr_assert_eq(a->has_yourip, b->has_yourip);
	if (a->has_yourip)
		cr_assert(addr_eq(&a->yourip, &b->yourip));
	cr_assert_eq(a->metadata_size, b->metadata_size);
	cr_assert_eq(a->upload_only, b->upload_only);
}

Test(extmsg, handshake_put)
{
	struct ext_handshake	h = {
		.ut_metadata = EXT_ID_METADATA, .ut_pex = EXT_ID_PEX,
		.port = 6881, .client = "gtorrent 0.1", .reqq = 250,
		.has_yourip = true, .metadata_size = 31235,
		.upload_only = true,
	}, g;
	struct buf		b;
	const char		want[] = "d1:md11:ut_metadatai1e6:ut_pexi2ee"
	    "13:metadata_sizei31235e1:pi6881e4:reqqi250e"
	    "11:upload_onlyi1e1:v12:gtorrent 0.16:yourip4:\x7f\x00\x00\x01"
	    "e";

	addr_parse_ip("127.0.0.1", &h.yourip);
	buf_init(&b, 4096);
	cr_assert_eq(extmsg_put_handshake(&b, &h), GT_OK);
	cr_assert_eq(b.len, sizeof(want) - 1);
	cr_assert_eq(memcmp(b.data, want, b.len), 0, "%.*s", (int)b.len,
	    (char *)b.data);
	cr_assert_eq(extmsg_parse_handshake(b.data, b.len, &g), GT_OK);
	assert_hs_eq(&h, &g);

	/* the least: m, empty */
	buf_reset(&b);
	memset(&h, 0, sizeof(h));
	cr_assert_eq(extmsg_put_handshake(&b, &h), GT_OK);
	cr_assert_eq(b.len, 7);
	cr_assert_eq(memcmp(b.data, "d1:mdee", 7), 0);

	/* v6 yourip; libtorrent's handshake round-trips */
	buf_reset(&b);
	h.has_yourip = true;
	addr_parse_ip("::1", &h.yourip);
	cr_assert_eq(extmsg_put_handshake(&b, &h), GT_OK);
	cr_assert_eq(extmsg_parse_handshake(b.data, b.len, &g), GT_OK);
	assert_hs_eq(&h, &g);
	cr_assert_eq(HS(lt_hs, &h), GT_OK);
	buf_reset(&b);
	cr_assert_eq(extmsg_put_handshake(&b, &h), GT_OK);
	cr_assert_eq(extmsg_parse_handshake(b.data, b.len, &g), GT_OK);
	assert_hs_eq(&h, &g);
	cr_assert_eq(b.len, sizeof(lt_hs) - 1);
	cr_assert_eq(memcmp(b.data, lt_hs, b.len), 0, "same bytes");

	/* a full buffer is left as it was */
	buf_clear(&b);
	buf_init(&b, 10);
	buf_puts(&b, "xy");
	cr_assert_eq(extmsg_put_handshake(&b, &h), GT_ETOOBIG);
	cr_assert_eq(b.len, 2);
	h.yourip.family = 0;
	cr_assert_eq(extmsg_put_handshake(&b, &h), GT_EINVAL);
	buf_clear(&b);
}

static enum gt_err
parse_md(const char *s, size_t len, struct ext_md *m)
{
	memset(m, 0xa5, sizeof(*m));
	return extmsg_parse_metadata((const uint8_t *)s, len, m);
}

#define MD(lit, m)	parse_md((lit), sizeof(lit) - 1, (m))

Test(extmsg, metadata_parse)
{
	static const char	data[] =
	    "d8:msg_typei1e5:piecei2e10:total_sizei34256eeINFODICT";
	struct ext_md		m;

	cr_assert_eq(MD("d8:msg_typei0e5:piecei0ee", &m), GT_OK);
	cr_assert_eq(m.type, EXT_MD_REQUEST);
	cr_assert_eq(m.piece, 0);
	cr_assert_null(m.data);
	cr_assert_eq(m.len, 0);
	cr_assert_eq(MD("d8:msg_typei2e5:piecei4294967295ee", &m), GT_OK);
	cr_assert_eq(m.type, EXT_MD_REJECT);
	cr_assert_eq(m.piece, UINT32_MAX);
	cr_assert_eq(MD(data, &m), GT_OK);
	cr_assert_eq(m.type, EXT_MD_DATA);
	cr_assert_eq(m.piece, 2);
	cr_assert_eq(m.total_size, 34256);
	cr_assert_eq(m.data, (const uint8_t *)data + 45, "borrowed");
	cr_assert_eq(m.len, 8);
	cr_assert_eq(memcmp(m.data, "INFODICT", 8), 0);
	/* a piece that is itself bencode (an info dict is) */
	cr_assert_eq(MD("d8:msg_typei1e5:piecei0e10:total_sizei6ee"
	    "d1:ai1ee", &m), GT_OK);
	cr_assert_eq(m.len, 8);
	/* extra keys and unsorted keys are accepted */
	cr_assert_eq(MD("d5:piecei3e8:msg_typei0e4:junkli1eee", &m), GT_OK);
	cr_assert_eq(m.type, EXT_MD_REQUEST);
	cr_assert_eq(m.piece, 3);
	/* unknown msg_type: ignored by the caller */
	cr_assert_eq(MD("d8:msg_typei3e5:piecei0ee", &m), GT_EUNSUP);
	cr_assert_eq(MD("d8:msg_typei-1ee", &m), GT_EUNSUP);
	cr_assert_eq(MD("d8:msg_typei99e5:piecei0eeXXX", &m), GT_EUNSUP);
}

Test(extmsg, metadata_hostile)
{
	static const char *const bad[] = {
		"", "d", "de", "le", "i0e",
		"d5:piecei0ee",				/* no msg_type */
		"d8:msg_type1:05:piecei0ee",		/* wrong type */
		"d8:msg_typei0ee",			/* no piece */
		"d8:msg_typei0e5:piecei-1ee",		/* negative */
		"d8:msg_typei0e5:piece1:0e",
		"d8:msg_typei0e5:piecei4294967296ee",	/* over u32 */
		"d8:msg_typei0e5:piecei0eeX",		/* data after */
		"d8:msg_typei2e5:piecei0eed1:ae",
		"d8:msg_typei1e5:piecei0eeDATA",	/* no total_size */
		"d8:msg_typei1e5:piecei0e10:total_size1:1eDATA",
		"d8:msg_typei1e5:piecei0e10:total_sizei-1eeDATA",
		"d8:msg_typei1e5:piecei0e10:total_sizei4294967296eeDATA",
		"d8:msg_typei1e5:piecei0e10:total_sizei4ee",	/* no data */
		"d8:msg_typei1e5:piecei0e10:total_sizei4e",	/* truncated */
		"d8:msg_typei0e5:piecei0e5:piecei1ee",	/* duplicate */
		"d8:msg_typei00e5:piecei0ee",
	};
	struct ext_md	m, keep;
	size_t		i;

	for (i = 0; i < nitems(bad); i++) {
		memset(&m, 0x5a, sizeof(m));
		keep = m;
		cr_assert_eq(extmsg_parse_metadata((const uint8_t *)bad[i],
		    strlen(bad[i]), &m), GT_EPROTO, "\"%s\"", bad[i]);
		cr_assert_eq(memcmp(&m, &keep, sizeof(m)), 0);
	}
}

Test(extmsg, metadata_put)
{
	static uint8_t	piece[EXT_METADATA_PIECE];
	struct ext_md	m;
	struct buf	b;
	size_t		i;

	buf_init(&b, 4 + 1 + 1 + 64 + EXT_METADATA_PIECE);
	cr_assert_eq(extmsg_put_metadata(&b, EXT_MD_REQUEST, 5, 0, NULL, 0),
	    GT_OK);
	cr_assert_eq(b.len, 25);
	cr_assert_eq(memcmp(b.data, "d8:msg_typei0e5:piecei5ee", 25), 0);
	buf_reset(&b);
	cr_assert_eq(extmsg_put_metadata(&b, EXT_MD_REJECT, 7, 0, NULL, 0),
	    GT_OK);
	cr_assert_eq(memcmp(b.data, "d8:msg_typei2e5:piecei7ee", 25), 0);
	cr_assert_eq(extmsg_parse_metadata(b.data, b.len, &m), GT_OK);
	cr_assert_eq(m.type, EXT_MD_REJECT);
	cr_assert_eq(m.piece, 7);

	for (i = 0; i < sizeof(piece); i++)
		piece[i] = (uint8_t)(i * 7);
	buf_reset(&b);
	cr_assert_eq(extmsg_put_metadata(&b, EXT_MD_DATA, 1, 40000, piece,
	    sizeof(piece)), GT_OK);
	cr_assert_eq(memcmp(b.data, "d8:msg_typei1e5:piecei1e"
	    "10:total_sizei40000ee", 45), 0);
	cr_assert_eq(b.len, 45 + sizeof(piece));
	cr_assert_eq(extmsg_parse_metadata(b.data, b.len, &m), GT_OK);
	cr_assert_eq(m.type, EXT_MD_DATA);
	cr_assert_eq(m.piece, 1);
	cr_assert_eq(m.total_size, 40000);
	cr_assert_eq(m.len, sizeof(piece));
	cr_assert_eq(memcmp(m.data, piece, sizeof(piece)), 0);

	/* over the buffer's cap: nothing appended */
	cr_assert_eq(extmsg_put_metadata(&b, EXT_MD_DATA, 1, 40000, piece,
	    sizeof(piece)), GT_ETOOBIG);
	cr_assert_eq(b.len, 45 + sizeof(piece));
	cr_assert_eq(extmsg_put_metadata(&b, EXT_MD_DATA, 1, 1, NULL, 0),
	    GT_EINVAL);
	cr_assert_eq(extmsg_put_metadata(&b, (enum ext_md_type)3, 1, 1, NULL,
	    0), GT_EINVAL);
	buf_clear(&b);
}

static enum gt_err
parse_pex(const char *s, size_t len, struct ext_pex_peer *a, size_t maxa,
    size_t *na, struct netaddr *d, size_t maxd, size_t *nd)
{
	*na = *nd = 12345;
	return extmsg_parse_pex((const uint8_t *)s, len, a, maxa, na, d, maxd,
	    nd);
}

#define PEX(lit)	parse_pex((lit), sizeof(lit) - 1, a, nitems(a), &na, \
			    d, nitems(d), &nd)

Test(extmsg, pex_parse)
{
	struct ext_pex_peer	a[8];
	struct netaddr		d[8];
	size_t			na, nd;
	char			s[ADDR_STRLEN];

	/* libtorrent's shape: every key, flags for each added entry */
	cr_assert_eq(PEX("d5:added12:\x7f\x00\x00\x01\x1a\xe1"
	    "\x7f\x00\x00\x02\x1a\xe2" "7:added.f2:\x12\x01"
	    "6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x1a\xe3" "8:added6.f1:\x10"
	    "7:dropped6:\x7f\x00\x00\x03\x00\x50"
	    "8:dropped618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x00\x51" "e"), GT_OK);
	cr_assert_eq(na, 3);
	cr_assert_str_eq(addr_str(&a[0].a, s), "127.0.0.1:6881");
	cr_assert_eq(a[0].flags, EXT_PEX_REACHABLE | EXT_PEX_SEED);
	cr_assert_str_eq(addr_str(&a[1].a, s), "127.0.0.2:6882");
	cr_assert_eq(a[1].flags, EXT_PEX_ENCRYPT);
	cr_assert_str_eq(addr_str(&a[2].a, s), "[::1]:6883");
	cr_assert_eq(a[2].flags, EXT_PEX_REACHABLE);
	cr_assert_eq(nd, 2);
	cr_assert_str_eq(addr_str(&d[0], s), "127.0.0.3:80");
	cr_assert_str_eq(addr_str(&d[1], s), "[::1]:81");

	/* no .f: flags 0; a short .f: the rest 0; port 0 skipped and its
	 * flag with it */
	cr_assert_eq(PEX("d5:added18:\x7f\x00\x00\x01\x00\x00"
	    "\x7f\x00\x00\x02\x1a\xe2\x7f\x00\x00\x03\x1a\xe3"
	    "7:added.f2:\x01\x02" "e"), GT_OK);
	cr_assert_eq(na, 2);
	cr_assert_str_eq(addr_str(&a[0].a, s), "127.0.0.2:6882");
	cr_assert_eq(a[0].flags, 0x02, "the flag of the second entry");
	cr_assert_str_eq(addr_str(&a[1].a, s), "127.0.0.3:6883");
	cr_assert_eq(a[1].flags, 0, "past a short .f");
	cr_assert_eq(nd, 0);
	cr_assert_eq(PEX("d6:added66:abcdefe"), GT_EPROTO);
	cr_assert_eq(PEX("d5:added6:\x7f\x00\x00\x01\x1a\xe1" "e"), GT_OK);
	cr_assert_eq(na, 1);
	cr_assert_eq(a[0].flags, 0);

	/* empty, extra keys, wrong types, trailing bytes: all fine */
	cr_assert_eq(PEX("de"), GT_OK);
	cr_assert_eq(na + nd, 0);
	cr_assert_eq(PEX("d5:addedi1e7:added.fi1e7:droppedle1:xdeeTRAIL"),
	    GT_OK);
	cr_assert_eq(na + nd, 0);
}

Test(extmsg, pex_hostile)
{
	static const char *const bad[] = {
		"", "d", "le", "3:abc",
		"d5:added5:abcdee",			/* 5 bytes */
		"d5:added7:abcdefge",
		"d6:added66:abcdefe",
		"d6:added619:0123456789012345678e",
		"d7:dropped1:xe",
		"d8:dropped617:01234567890123456e",
		"d5:added6:\x7f\x00\x00\x01\x1a\xe1",	/* truncated */
	};
	struct ext_pex_peer	a[4];
	struct netaddr		d[4];
	size_t			na, nd, i;

	for (i = 0; i < nitems(bad); i++) {
		cr_assert_eq(parse_pex(bad[i], strlen(bad[i]), a, nitems(a),
		    &na, d, nitems(d), &nd), GT_EPROTO, "\"%s\"", bad[i]);
		cr_assert_eq(na, 12345, "untouched on error");
		cr_assert_eq(nd, 12345);
	}
}

/* A PEX message of nv4 + nv6 added and as many dropped entries. */
static void
put_big_pex(struct buf *b, size_t nv4, size_t nv6)
{
	uint8_t	e[18];
	size_t	i, k;

	for (k = 0; k < 2; k++) {
		buf_puts(b, k == 0 ? "5:added" : "7:dropped");
		buf_printf(b, "%zu:", nv4 * 6);
		for (i = 0; i < nv4; i++) {
			memcpy(e, "\x7f\x00\x00\x00", 4);
			store_be16(e + 2, (uint16_t)i);
			store_be16(e + 4, (uint16_t)(i + 1));
			buf_append(b, e, 6);
		}
		if (k == 0) {
			buf_printf(b, "7:added.f%zu:", nv4);
			for (i = 0; i < nv4; i++)
				buf_putc(b, (uint8_t)i);
		}
		buf_puts(b, k == 0 ? "6:added6" : "8:dropped6");
		buf_printf(b, "%zu:", nv6 * 18);
		for (i = 0; i < nv6; i++) {
			memset(e, 0, 16);
			store_be16(e + 14, (uint16_t)(i + 1));
			store_be16(e + 16, (uint16_t)(i + 1));
			buf_append(b, e, 18);
		}
	}
}

Test(extmsg, pex_caps)
{
	static struct ext_pex_peer	a[1000];
	static struct netaddr		d[1000];
	struct buf			b;
	size_t				na, nd;

	/* absurd counts: at most EXT_PEX_MAX_ADDED per family taken */
	buf_init(&b, SIZE_MAX);
	buf_putc(&b, 'd');
	put_big_pex(&b, 5000, 3000);
	buf_putc(&b, 'e');
	cr_assert_eq(parse_pex((char *)b.data, b.len, a, nitems(a), &na, d,
	    nitems(d), &nd), GT_OK);
	cr_assert_eq(na, 2 * EXT_PEX_MAX_ADDED);
	cr_assert_eq(nd, 2 * EXT_PEX_MAX_DROPPED);
	cr_assert_eq(a[0].a.family, ADDR_V4);
	cr_assert_eq(a[EXT_PEX_MAX_ADDED - 1].a.family, ADDR_V4);
	cr_assert_eq(a[EXT_PEX_MAX_ADDED - 1].flags,
	    (uint8_t)(EXT_PEX_MAX_ADDED - 1));
	cr_assert_eq(a[EXT_PEX_MAX_ADDED].a.family, ADDR_V6);
	cr_assert_eq(d[EXT_PEX_MAX_DROPPED].family, ADDR_V6);

	/* and the caller's room */
	cr_assert_eq(parse_pex((char *)b.data, b.len, a, 250, &na, d, 3,
	    &nd), GT_OK);
	cr_assert_eq(na, 250);
	cr_assert_eq(a[249].a.family, ADDR_V6);
	cr_assert_eq(nd, 3);
	cr_assert_eq(parse_pex((char *)b.data, b.len, a, 0, &na, d, 0, &nd),
	    GT_OK);
	cr_assert_eq(na + nd, 0);
	cr_assert_eq(parse_pex((char *)b.data, b.len, NULL, 0, &na, NULL, 0,
	    &nd), GT_OK, "no room at all");
	cr_assert_eq(na + nd, 0);
	buf_clear(&b);
}

Test(extmsg, pex_put)
{
	struct ext_pex_peer	a[3], a2[4];
	struct netaddr		d[2], d2[4];
	struct buf		b;
	size_t			na, nd, i;
	const char		want[] =
	    "d5:added6:\x7f\x00\x00\x01\x1a\xe1" "7:added.f1:\x01"
	    "6:added636:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x1a\xe2\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x01\x1a\xe3" "8:added6.f2:\x02\x12"
	    "7:dropped6:\x7f\x00\x00\x09\x00\x09" "8:dropped60:e";

	memset(a, 0, sizeof(a));
	addr_parse("127.0.0.1:6881", 0, &a[0].a);
	a[0].flags = EXT_PEX_ENCRYPT;
	addr_parse("[::1]:6882", 0, &a[1].a);
	a[1].flags = EXT_PEX_SEED;
	addr_parse("[::1]:6883", 0, &a[2].a);
	a[2].flags = EXT_PEX_SEED | EXT_PEX_REACHABLE;
	addr_parse("127.0.0.9:9", 0, &d[0]);
	buf_init(&b, 4096);
	cr_assert_eq(extmsg_put_pex(&b, a, 3, d, 1), GT_OK);
	cr_assert_eq(b.len, sizeof(want) - 1);
	cr_assert_eq(memcmp(b.data, want, b.len), 0);
	cr_assert_eq(extmsg_parse_pex(b.data, b.len, a2, nitems(a2), &na, d2,
	    nitems(d2), &nd), GT_OK);
	cr_assert_eq(na, 3);
	for (i = 0; i < 3; i++) {
		cr_assert(addr_eq(&a[i].a, &a2[i].a));
		cr_assert_eq(a[i].flags, a2[i].flags);
	}
	cr_assert_eq(nd, 1);
	cr_assert(addr_eq(&d[0], &d2[0]));

	/* nothing at all: every key, empty */
	buf_reset(&b);
	cr_assert_eq(extmsg_put_pex(&b, NULL, 0, NULL, 0), GT_OK);
	cr_assert_eq(b.len, 67);
	cr_assert_eq(memcmp(b.data, "d5:added0:7:added.f0:6:added60:"
	    "8:added6.f0:7:dropped0:8:dropped60:e", b.len), 0);
	/* a bad family; a full buffer */
	memset(&d[1], 0, sizeof(d[1]));
	cr_assert_eq(extmsg_put_pex(&b, a, 3, d, 2), GT_EINVAL);
	cr_assert_eq(b.len, 67);
	buf_clear(&b);
	buf_init(&b, 20);
	cr_assert_eq(extmsg_put_pex(&b, a, 3, d, 1), GT_ETOOBIG);
	cr_assert_eq(b.len, 0);
	buf_clear(&b);
}
