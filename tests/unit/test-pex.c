/* test-pex.c - peer exchange policy: timing and what one peer is told */
#include <criterion/criterion.h>

#include <string.h>

#include "pex.h"
#include "util.h"

#define T0	5000u

static struct ext_pex_peer
peer4(uint8_t last, uint16_t port)
{
	struct ext_pex_peer	p = { .a = { .family = ADDR_V4 } };

	p.a.ip[0] = 127;
	p.a.ip[3] = last;
	p.a.port = port;
	return p;
}

static struct ext_pex_peer	cur[400];
static struct ext_pex_peer	added[PEX_MAX_ADDED];
static struct netaddr		dropped[PEX_MAX_ADDED];

Test(pex, first_soon_then_once_a_minute)
{
	struct pex	*x = pex_new(T0);
	size_t		 na, nd;

	cur[0] = peer4(2, 6881);
	cr_assert_eq(pex_deadline(x), T0 + PEX_FIRST_MS);
	cr_assert_not(pex_message(x, cur, 1, T0 + PEX_FIRST_MS - 1, added,
	    &na, dropped, &nd), "not due yet");
	cr_assert(pex_message(x, cur, 1, T0 + PEX_FIRST_MS, added, &na,
	    dropped, &nd));
	cr_assert_eq(na, 1);
	cr_assert_eq(nd, 0);
	cr_assert(addr_eq(&added[0].a, &cur[0].a));
	cr_assert_eq(pex_deadline(x), T0 + PEX_FIRST_MS + PEX_EVERY_MS);
	cur[1] = peer4(3, 6881);
	cr_assert_not(pex_message(x, cur, 2, T0 + PEX_FIRST_MS + 1000,
	    added, &na, dropped, &nd), "at most one a minute");
	cr_assert(pex_message(x, cur, 2, pex_deadline(x), added, &na,
	    dropped, &nd));
	cr_assert_eq(na, 1, "only the new one");
	cr_assert_eq(added[0].a.ip[3], 3);
	pex_free(x);
}

Test(pex, nothing_changed_nothing_sent)
{
	struct pex	*x = pex_new(T0);
	size_t		 na, nd;
	uint64_t	 now = T0 + PEX_FIRST_MS;

	cr_assert_not(pex_message(x, cur, 0, now, added, &na, dropped, &nd));
	cur[0] = peer4(2, 7000);
	now += PEX_EVERY_MS;
	cr_assert(pex_message(x, cur, 1, now, added, &na, dropped, &nd));
	now += PEX_EVERY_MS;
	cr_assert_not(pex_message(x, cur, 1, now, added, &na, dropped, &nd));
	cr_assert_eq(pex_deadline(x), now + PEX_EVERY_MS);
	pex_free(x);
}

Test(pex, dropped_when_gone)
{
	struct pex	*x = pex_new(T0);
	size_t		 na, nd;
	uint64_t	 now = T0 + PEX_FIRST_MS;

	cur[0] = peer4(2, 7000);
	cur[1] = peer4(3, 7000);
	cr_assert(pex_message(x, cur, 2, now, added, &na, dropped, &nd));
	cur[0] = peer4(4, 7000);		/* .2 left, .4 came */
	now += PEX_EVERY_MS;
	cr_assert(pex_message(x, cur, 2, now, added, &na, dropped, &nd));
	cr_assert_eq(na, 1);
	cr_assert_eq(added[0].a.ip[3], 4);
	cr_assert_eq(nd, 1);
	cr_assert_eq(dropped[0].ip[3], 2);
	/* .2 comes back: added again */
	cur[2] = peer4(2, 7000);
	now += PEX_EVERY_MS;
	cr_assert(pex_message(x, cur, 3, now, added, &na, dropped, &nd));
	cr_assert_eq(na, 1);
	cr_assert_eq(nd, 0);
	pex_free(x);
}

Test(pex, caps_per_message_and_told)
{
	struct pex	*x = pex_new(T0);
	size_t		 na, nd, i, total = 0;
	uint64_t	 now = T0 + PEX_FIRST_MS;

	for (i = 0; i < nitems(cur); i++)
		cur[i] = peer4((uint8_t)(1 + i % 250), (uint16_t)(1000 + i));
	for (i = 0; i < 10; i++, now += PEX_EVERY_MS) {
		(void)pex_message(x, cur, nitems(cur), now, added, &na,
		    dropped, &nd);
		cr_assert_leq(na, PEX_MAX_ADDED);
		cr_assert_eq(nd, 0);
		total += na;
	}
	cr_assert_eq(total, PEX_MAX_TOLD, "never more than told in all");
	/* all gone: dropped, PEX_MAX_ADDED a message */
	cr_assert(pex_message(x, cur, 0, now, added, &na, dropped, &nd));
	cr_assert_eq(na, 0);
	cr_assert_eq(nd, PEX_MAX_ADDED);
	pex_free(x);
}

Test(pex, undialable_and_duplicates_skipped)
{
	struct pex	*x = pex_new(T0);
	size_t		 na, nd;

	cur[0] = peer4(2, 0);			/* port 0 */
	cur[1] = peer4(2, 7000);
	cur[2] = peer4(2, 7000);		/* twice */
	memset(&cur[3], 0, sizeof(cur[3]));	/* 0.0.0.0 */
	cur[3].a.family = ADDR_V4;
	cur[3].a.port = 7000;
	cr_assert(pex_message(x, cur, 4, T0 + PEX_FIRST_MS, added, &na,
	    dropped, &nd));
	cr_assert_eq(na, 1);
	pex_free(x);
}

Test(pex, theirs_rate_limited)
{
	struct pex	*x = pex_new(T0);

	cr_assert(pex_accept(x, T0));
	cr_assert_not(pex_accept(x, T0 + 1000));
	cr_assert_not(pex_accept(x, T0 + PEX_IN_MS - 1));
	cr_assert(pex_accept(x, T0 + PEX_IN_MS));
	pex_free(x);
}

Test(pex, usable_filters)
{
	struct ext_pex_peer	in[5];
	struct netaddr		out[5];

	in[0] = peer4(2, 7000);
	in[1] = peer4(2, 0);
	in[2] = peer4(255, 7000);
	in[2].a.ip[0] = 255;			/* broadcast */
	in[3] = peer4(1, 7000);
	in[3].a.ip[0] = 224;			/* multicast */
	memset(&in[4], 0, sizeof(in[4]));
	in[4].a.family = ADDR_V6;
	in[4].a.ip[15] = 1;			/* ::1 */
	in[4].a.port = 7000;
	cr_assert_eq(pex_usable(in, 5, out), 2);
	cr_assert_eq(out[0].ip[3], 2);
	cr_assert_eq(out[1].family, ADDR_V6);
	/* ::ffff:127.0.0.9 comes out as 127.0.0.9 */
	memset(&in[0], 0, sizeof(in[0]));
	in[0].a.family = ADDR_V6;
	in[0].a.ip[10] = in[0].a.ip[11] = 0xff;
	in[0].a.ip[12] = 127;
	in[0].a.ip[15] = 9;
	in[0].a.port = 7000;
	cr_assert_eq(pex_usable(in, 1, out), 1);
	cr_assert_eq(out[0].family, ADDR_V4);
	cr_assert_eq(out[0].ip[0], 127);
	cr_assert_eq(out[0].ip[3], 9);
	pex_free(NULL);
}
