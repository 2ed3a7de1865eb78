/* test-peerid.c - peer ids to client names: every style, hostile bytes */
#include <criterion/criterion.h>
#include <string.h>

#include "peerid.h"
#include "util.h"

/* The client id (its first bytes; the rest random-looking) names. */
static void
check(const char *start, const char *want, bool known)
{
	uint8_t	id[PEERID_LEN];
	char	out[PEERID_CLIENT_LEN];
	size_t	n = strlen(start);

	memset(id, 0xa7, sizeof(id));
	memcpy(id, start, n);
	cr_assert_eq(peerid_client(id, out, sizeof(out)), known, "%s", start);
	cr_assert_str_eq(out, want, "%s", start);
}

Test(peerid, azureus)
{
	check("-qB4520-", "qBittorrent 4.5.2", true);
	check("-qB5010-", "qBittorrent 5.0.1", true);
	check("-lt0D80-", "libTorrent 0.13.8", true);
	check("-LT2090-", "libtorrent 2.0.9", true);
	check("-LT1217-", "libtorrent 1.2.1.7", true);
	check("-UT355W-", "uTorrent 3.5.5", true);
	check("-DE13F0-", "Deluge 1.3.15", true);
	check("-AZ5770-", "Vuze 5.7.7", true);
	check("-BI3600-", "BiglyBT 3.6.0", true);
	check("-GT0001-", "gtorrent 0.0.0.1", true);
	check("-GQ0100-", "gtorrent 0.1.0", true);	/* ours */
	check("-KT5100-", "KTorrent 5.1.0", true);
	check("-BC0150-", "BitComet 1.50", true);
	check("-CD0303-", "Enhanced CTorrent 3.3", true);
}

Test(peerid, transmission)
{
	check("-TR2940-", "Transmission 2.94", true);
	check("-TR294Z-", "Transmission 2.94+", true);
	check("-TR3000-", "Transmission 3.00", true);
	check("-TR4050-", "Transmission 4.0.5", true);
	check("-TR400Z-", "Transmission 4.0.0-dev", true);
	check("-TR400B-", "Transmission 4.0.0-beta", true);
	check("-TR0072-", "Transmission 0.72", true);
	check("-TR0006-", "Transmission 0.6", true);
}

Test(peerid, mainline_aria2_shadow)
{
	check("M7-4-0--", "Mainline 7.4.0", true);
	check("M4-20-8-", "Mainline 4.20.8", true);
	check("A2-1-37-0-", "aria2 1.37.0", true);
	check("A2-0-9-12-", "aria2 0.9.12", true);
	check("T03I--", "BitTornado 0.3.18", true);
	check("S587--", "Shadow 5.8.7", true);
	check("exbc\x01\x02", "BitComet 1.02", true);
	check("XBT054d-", "XBT 0.5.4", true);
}

Test(peerid, unknown)
{
	check("-ZZ1234-", "-ZZ1234-", false);	/* a code we do not know */
	check("-qB45\x01" "0-", "-qB45", false);	/* not alnum */
	check("M7-4-", "M7-4-", false);		/* cut short */
	check("A2-1-37", "A2-1-37", false);
	check("\x01\x02" "abc", "", false);
	check("", "", false);
	check("Hello world, id", "Hello wo", false);
}

Test(peerid, safe_output)
{
	uint8_t	id[PEERID_LEN];
	char	out[PEERID_CLIENT_LEN];
	size_t	i;
	int	b;

	/* every byte value in every position: printable ASCII out */
	for (i = 0; i < PEERID_LEN; i++)
		for (b = 0; b < 256; b++) {
			memcpy(id, "-TR4050-\x1b[2J\xc2\xb5\x7f\x80\xff\x00\x0a"
			    "\x9b", PEERID_LEN);
			id[i] = (uint8_t)b;
			(void)peerid_client(id, out, sizeof(out));
			cr_assert_lt(strlen(out), sizeof(out));
			for (size_t k = 0; out[k] != '\0'; k++)
				cr_assert(out[k] >= 0x20 && out[k] < 0x7f);
		}
}

Test(peerid, small_buffers)
{
	const uint8_t	*id = (const uint8_t *)"-qB4520-abcdefghijkl";
	char		 out[8];

	cr_assert(peerid_client(id, out, sizeof(out)));
	cr_assert_str_eq(out, "qBittor");
	cr_assert(peerid_client(id, out, 1));
	cr_assert_str_eq(out, "");
	cr_assert_not(peerid_client(id, out, 0));
}
