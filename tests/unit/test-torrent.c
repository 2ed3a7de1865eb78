/* test-torrent.c - a gtorrent seed and leecher on 127.0.0.1: the pieces
 * arrive whole and verified whichever way they are hashed (in lanes from
 * the receive buffer, or read back a batch at a time) */
#define TEST_ALARM_S	90
#define PL		16384		/* piece length */
#define NPIECES		200		/* 3.1 MiB */

#include "torrent-pair.h"

static void
setup(void)
{
	alarm(TEST_ALARM_S);
	tmp_setup();
}

TestSuite(torrent, .init = setup, .fini = tmp_teardown);

/* The leecher's file is the seed's, byte for byte. */
static void
assert_same_data(void)
{
	char	*a = tpath("seed/v.bin"), *b = tpath("leech/v.bin");
	uint8_t	*da = xmalloc(NPIECES * PL), *db = xmalloc(NPIECES * PL);
	int	 fa, fb;

	fa = open(a, O_RDONLY);
	fb = open(b, O_RDONLY);
	cr_assert(fa >= 0 && fb >= 0);
	cr_assert_eq(read(fa, da, NPIECES * PL), NPIECES * PL);
	cr_assert_eq(read(fb, db, NPIECES * PL), NPIECES * PL);
	cr_assert_eq(memcmp(da, db, NPIECES * PL), 0, "%s differs", b);
	close(fa);
	close(fb);
	free(da);
	free(db);
	free(a);
	free(b);
}

static void
transfer(void)
{
	struct pair		p;
	struct torrent_stats	st;

	pair_start(&p, 0);
	cr_assert(run_until(p.r, NULL, leecher_complete, &p, 60000),
	    "not complete");
	torrent_stats(p.tl, &st);
	cr_assert_eq(st.have_pieces, NPIECES);
	/* no piece failed its hash check and came again */
	cr_assert_eq(st.downloaded, (uint64_t)NPIECES * PL);
	assert_same_data();
	pair_free(&p);
}

/* SHA-NI's lanes (untuned): complete pieces read back four at a time. */
Test(torrent, pieces_read_back_in_lanes)
{
	if (!sha1_multi_force(SHA1_KERNEL_SHANI) &&
	    !sha1_multi_force(SHA1_KERNEL_AVX2))
		cr_skip_test("no SHA-NI nor AVX2 on this CPU");
	cr_assert_geq(sha1_lanes_width(), 4);
	transfer();
}

/* One lane (the C kernel): each block hashed from the receive buffer as
   it is written, nothing read back. */
Test(torrent, pieces_hashed_from_the_receive_buffer)
{
	cr_assert(sha1_multi_force(SHA1_KERNEL_SCALAR));
	cr_assert_eq(sha1_lanes_width(), 1);
	transfer();
}

/* As gtorrent runs: the kernels timed, the widest that pays used. */
Test(torrent, pieces_hashed_by_the_tuned_kernels)
{
	sha1_kernel_tune(reactor_clock_ns);
	transfer();
}
