/* test-addr.c - numeric addresses, formatting, compact peer lists */
#include <criterion/criterion.h>
#include <string.h>

#include "addr.h"
#include "util.h"

Test(addr, parse_and_format_round_trip)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "127.0.0.1:6881", "127.0.0.1:6881" },
		{ "[::1]:51413", "[::1]:51413" },
		{ "[2001:db8:0:0:1:0:0:1]:1", "[2001:db8::1:0:0:1]:1" },
		{ "[2001:0db8:0000:0000:0000:0000:0000:0001]:2",
		    "[2001:db8::1]:2" },
		{ "[fe80::]:3", "[fe80::]:3" },
		{ "[::]:4", "[::]:4" },
		{ "[1:2:3:4:5:6:7:8]:5", "[1:2:3:4:5:6:7:8]:5" },
		{ "[1:0:2:3:4:5:6:7]:6", "[1:0:2:3:4:5:6:7]:6" },
		{ "[::ffff:127.0.0.1]:7", "[::ffff:127.0.0.1]:7" },
		{ "[64:ff9b::127.1.2.3]:8", "[64:ff9b::7f01:203]:8" },
	};
	struct netaddr	a;
	char		s[ADDR_STRLEN];
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		cr_assert_eq(addr_parse(cases[i].in, 0, &a), GT_OK, "%s",
		    cases[i].in);
		cr_assert_str_eq(addr_str(&a, s), cases[i].out);
	}
}

Test(addr, parse_rejects)
{
	static const char *const bad[] = {
		"", "127.1.2.3", "127.1.2.3:", "127.1.2.3:0", "127.1.2.3:65536",
		"127.2.3:80", "127.1.2.3.5:80", "256.1.1.1:80", "0127.1.2.3:80",
		"127.1.2.3:8a", "[::1]", "[::1]:", "[::1:80", "::1]:80",
		"[1:2:3:4:5:6:7:8:9]:1", "[1::2::3]:1", "[12345::]:1",
		"[:1]:1", "[1:]:1", "[1:2:3:4:5:6:7::8:9]:1", "host:80",
		"[::1]x", "127.1.2.3:-1", "127.1.2.3: 80",
	};
	struct netaddr	a;
	size_t		i;

	for (i = 0; i < nitems(bad); i++)
		cr_assert_neq(addr_parse(bad[i], 0, &a), GT_OK, "%s", bad[i]);
}

Test(addr, default_port)
{
	struct netaddr	a;
	char		s[ADDR_STRLEN];

	cr_assert_eq(addr_parse("127.1.2.3", 6881, &a), GT_OK);
	cr_assert_str_eq(addr_str(&a, s), "127.1.2.3:6881");
	cr_assert_eq(addr_parse("::1", 6881, &a), GT_OK);
	cr_assert_str_eq(addr_str(&a, s), "[::1]:6881");
	cr_assert_eq(addr_parse_ip("::1", &a), GT_OK);
	cr_assert_str_eq(addr_ip_str(&a, s), "::1");
	cr_assert(addr_is_loopback(&a));
}

Test(addr, compact)
{
	static const uint8_t	v4[] = {
		127, 0, 0, 1, 0x1a, 0xe1,	/* 6881 */
		127, 0, 0, 2, 0, 0,		/* port 0: skipped */
		127, 9, 8, 7, 0xc8, 0xd5,	/* 51413 */
	};
	struct netaddr		out[4];
	uint8_t			back[18];
	char			s[ADDR_STRLEN];
	size_t			n;

	cr_assert_eq(addr_parse_compact(ADDR_V4, v4, sizeof(v4), out, 4, &n),
	    GT_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(addr_str(&out[0], s), "127.0.0.1:6881");
	cr_assert_str_eq(addr_str(&out[1], s), "127.9.8.7:51413");
	cr_assert_eq(addr_put_compact(&out[1], back), 6);
	cr_assert_eq(memcmp(back, v4 + 12, 6), 0);
	cr_assert_eq(addr_parse_compact(ADDR_V4, v4, 13, out, 4, &n),
	    GT_EPROTO);
	cr_assert_eq(addr_parse_compact(ADDR_V4, v4, sizeof(v4), out, 1, &n),
	    GT_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(addr_parse_compact(ADDR_V6, v4, 18, out, 4, &n), GT_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(out[0].family, ADDR_V6);
	cr_assert_eq(addr_put_compact(&out[0], back), 18);
	cr_assert_eq(memcmp(back, v4, 18), 0);
}

Test(addr, unmap_and_eq)
{
	struct netaddr	a, b;

	cr_assert_eq(addr_parse("[::ffff:127.1.2.3]:80", 0, &a), GT_OK);
	addr_unmap(&a);
	cr_assert_eq(addr_parse("127.1.2.3:80", 0, &b), GT_OK);
	cr_assert(addr_eq(&a, &b));
	b.port = 81;
	cr_assert(!addr_eq(&a, &b));
	cr_assert(addr_ip_eq(&a, &b));
}

/* Addresses no peer can be reached at are never dialled. */
Test(addr, dialable)
{
	static const struct {
		const char	*s;
		bool		 ok;
	} cases[] = {
		{ "127.0.0.1:6881", true },	/* loopback: tests use it */
		{ "127.255.255.254:1", true },
		{ "[::1]:6881", true },
		{ "[::ffff:127.0.0.1]:6881", true },
		{ "0.0.0.0:6881", false },	/* unspecified */
		{ "0.1.2.3:6881", false },	/* "this network" */
		{ "255.255.255.255:6881", false },	/* broadcast */
		{ "224.0.0.1:6881", false },	/* multicast */
		{ "239.255.255.250:1900", false },
		{ "240.0.0.1:6881", false },	/* reserved */
		{ "[::]:6881", false },
		{ "[ff02::1]:6881", false },	/* multicast */
		{ "[ff0e::1]:6881", false },
		{ "[::ffff:0.0.0.0]:6881", false },	/* v4-mapped */
		{ "[::ffff:255.255.255.255]:6881", false },
		{ "[::ffff:224.0.0.251]:5353", false },
	};
	struct netaddr	a;
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		cr_assert_eq(addr_parse(cases[i].s, 0, &a), GT_OK, "%s",
		    cases[i].s);
		cr_assert_eq(addr_is_dialable(&a), cases[i].ok, "%s",
		    cases[i].s);
	}
	/* Port 0 (addr_parse refuses it), and a family we do not know. */
	cr_assert_eq(addr_parse("127.0.0.1:6881", 0, &a), GT_OK);
	a.port = 0;
	cr_assert_not(addr_is_dialable(&a));
	a.port = 6881;
	a.family = 0;
	cr_assert_not(addr_is_dialable(&a));
}
