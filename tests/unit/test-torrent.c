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

/* The bytes of the files under tmp/dir (v.bin, or v/a and v/b), in a row. */
static uint8_t *
read_data(const char *dir, int split)
{
	const char	*names[] = { "v.bin", "v/a", "v/b" };
	uint8_t		*d = xmalloc(NPIECES * PL);
	size_t		 i, got = 0;
	ssize_t		 n;
	char		 rel[64], *path;
	int		 fd;

	for (i = split == 0 ? 0 : 1; i < (split == 0 ? 1u : 3u); i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
		path = tpath(rel);
		fd = open(path, O_RDONLY);
		cr_assert(fd >= 0, "%s", path);
		while ((n = read(fd, d + got, NPIECES * PL - got)) > 0)
			got += (size_t)n;
		close(fd);
		free(path);
	}
	cr_assert_eq(got, (size_t)NPIECES * PL, "%s: %zu bytes", dir, got);
	return d;
}

/* The leecher's data is the seed's, byte for byte. */
static void
assert_same_data(int split)
{
	uint8_t	*da = read_data("seed", split), *db = read_data("leech", split);

	cr_assert_eq(memcmp(da, db, NPIECES * PL), 0, "the leecher's differs");
	free(da);
	free(db);
}

static void
transfer_split(int split)
{
	struct pair		p;
	struct torrent_stats	st;

	pair_start_split(&p, 0, split);
	cr_assert(run_until(p.r, NULL, leecher_complete, &p, 60000),
	    "not complete");
	torrent_stats(p.tl, &st);
	cr_assert_eq(st.have_pieces, NPIECES);
	/* no piece failed its hash check and came again */
	cr_assert_eq(st.downloaded, (uint64_t)NPIECES * PL);
	assert_same_data(split);
	pair_free(&p);
}

static void
transfer(void)
{
	transfer_split(0);
}

/* SHA-NI's lanes (untuned): complete pieces hashed four at a time where
   the page cache holds them. */
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

/* A piece across two files cannot be mapped: its batch is read back
   (storage_read) and hashed in lanes, the others mapped. */
Test(torrent, pieces_across_files_read_back)
{
	if (!sha1_multi_force(SHA1_KERNEL_SHANI) &&
	    !sha1_multi_force(SHA1_KERNEL_AVX2))
		cr_skip_test("no SHA-NI nor AVX2 on this CPU");
	transfer_split(NPIECES / 2 * PL + 5000);
}
