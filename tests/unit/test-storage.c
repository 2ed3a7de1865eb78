/* test-storage.c - multi-file storage, verification, directory walk */
#include <criterion/criterion.h>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "filemap.h"
#include "log.h"
#include "metainfo.h"
#include "storage.h"
#include "util.h"

#include "tmpdir.h"

/* Whole file into a malloc'd buffer; -1 length if missing. */
static uint8_t *
get_file(const char *rel, long *len)
{
	char	*p = tpath(rel);
	uint8_t	*buf;
	FILE	*f;

	if ((f = fopen(p, "rb")) == NULL) {
		free(p);
		*len = -1;
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)*len + 1);
	cr_assert_eq(fread(buf, 1, (size_t)*len, f), (size_t)*len);
	fclose(f);
	free(p);
	return buf;
}

static bool
exists(const char *rel)
{
	struct stat	 st;
	char		*p = tpath(rel);
	int		 r = lstat(p, &st);

	free(p);
	return r == 0;
}

static void
mkdir_rel(const char *rel)
{
	char	*p = tpath(rel);

	cr_assert_eq(mkdir(p, 0777), 0, "%s: %s", p, strerror(errno));
	free(p);
}

static void
fill(uint8_t *p, size_t n, uint64_t seed)
{
	struct prng	r;
	size_t		i;

	prng_seed(&r, seed);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)prng_next(&r);
}

static struct storage *
open_ok(const char *rootrel, const struct storage_file *f, size_t n,
    uint64_t pl, unsigned flags)
{
	struct storage	*s = NULL;
	char		 err[GT_ERRLEN] = "", *root = tpath(rootrel);
	enum gt_err	 e;

	e = storage_open(&s, root, f, n, pl, flags, NULL, err);
	cr_assert_eq(e, GT_OK, "storage_open: %s: %s", gt_strerror(e), err);
	free(root);
	return s;
}

/* Expected hashes of data laid out as pieces of pl bytes. */
static void
expect_hashes(const uint8_t *data, uint64_t total, uint64_t pl,
    uint8_t *out)
{
	uint64_t	off;
	size_t		i = 0;

	for (off = 0; off < total; off += pl, i++)
		sha1(data + off, (size_t)MIN(pl, total - off),
		    out + i * SHA1_LEN);
}

TestSuite(storage, .init = tmp_setup, .fini = tmp_teardown);

Test(storage, roundtrip_across_file_boundaries)
{
	struct storage_file	 f[] = {
		{ .path = "t/a/x", .length = 10 },
		{ .path = "t/a/empty", .length = 0 },
		{ .path = "t/b", .length = 25 },
		{ .path = "t/c/d/e", .length = 7 },
	};
	uint8_t			 data[42], back[42], *disk;
	struct storage		*s;
	uint64_t		 off, n;
	long			 len;
	uint32_t		 p;

	fill(data, sizeof(data), 1);
	s = open_ok("root", f, nitems(f), 8, STORAGE_WRITE);
	cr_assert_eq(filemap_npieces(storage_filemap(s)), 6);

	/* Odd-sized chunks crossing every boundary. */
	for (off = 0; off < sizeof(data); off += n) {
		n = MIN(3 + off % 5, sizeof(data) - off);
		cr_assert_eq(storage_write_at(s, off, data + off, n), GT_OK);
	}
	memset(back, 0, sizeof(back));
	cr_assert_eq(storage_read_at(s, 0, back, sizeof(back)), GT_OK);
	cr_assert_arr_eq(back, data, sizeof(data));

	/* Piece-relative reads agree. */
	for (p = 0; p < 6; p++) {
		memset(back, 0, sizeof(back));
		cr_assert_eq(storage_read(s, p, 1, back, p == 5 ? 1 : 7),
		    GT_OK);
		cr_assert_arr_eq(back, data + p * 8 + 1, p == 5 ? 1 : 7);
	}
	cr_assert_eq(storage_write(s, 1, 0, data, 8), GT_OK);
	cr_assert_eq(storage_read_at(s, 8, back, 8), GT_OK);
	cr_assert_arr_eq(back, data, 8);
	cr_assert_eq(storage_write(s, 1, 0, data + 8, 8), GT_OK);
	storage_free(s);

	/* On disk, byte for byte. */
	disk = get_file("root/t/a/x", &len);
	cr_assert_eq(len, 10);
	cr_assert_arr_eq(disk, data, 10);
	free(disk);
	disk = get_file("root/t/b", &len);
	cr_assert_eq(len, 25);
	cr_assert_arr_eq(disk, data + 10, 25);
	free(disk);
	disk = get_file("root/t/c/d/e", &len);
	cr_assert_eq(len, 7);
	cr_assert_arr_eq(disk, data + 35, 7);
	free(disk);
	disk = get_file("root/t/a/empty", &len);
	cr_assert_eq(len, 0);
	free(disk);
}

Test(storage, files_created_sparse_with_final_size)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 100000 },
		{ .path = "b", .length = 5000 },
	};
	struct storage		*s;
	struct stat		 st;
	char			*p;
	uint8_t			 x = 7;

	s = open_ok("r", f, nitems(f), 16384, STORAGE_WRITE);
	cr_assert(!exists("r/a"));
	cr_assert_eq(storage_write_at(s, 99999, &x, 1), GT_OK);
	cr_assert(exists("r/a"));
	cr_assert(!exists("r/b"));
	p = tpath("r/a");
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_size, 100000);
	free(p);
	storage_free(s);

	s = open_ok("r2", f, nitems(f), 16384, STORAGE_WRITE |
	    STORAGE_PREALLOC);
	cr_assert_eq(storage_write_at(s, 100000, &x, 1), GT_OK);
	p = tpath("r2/b");
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_size, 5000);
	cr_assert_geq((long long)st.st_blocks * 512, 4096);
	free(p);
	storage_free(s);
}

Test(storage, prealloc_allocates_every_file_at_open)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 100000 },
		{ .path = "p", .length = 10, .pad = true },
		{ .path = "d/b", .length = 50000 },
	};
	struct storage		*s;
	struct stat		 st;
	char			*p;

	s = open_ok("pre", f, nitems(f), 16384, STORAGE_WRITE |
	    STORAGE_PREALLOC);
	p = tpath("pre/d/b");
	cr_assert_eq(stat(p, &st), 0, "created before any write");
	cr_assert_eq(st.st_size, 50000);
	cr_assert_geq((long long)st.st_blocks * 512, 49152);
	free(p);
	cr_assert(!exists("pre/p"), "padding never on disk");
	storage_free(s);
}

Test(storage, prealloc_shortfall_fails_before_writing)
{
	struct storage_file	 f[] = {
		{ .path = "small", .length = 1000 },
		{ .path = "huge", .length = 0 },	/* free space + 1 GiB */
	};
	struct storage		*s = NULL;
	struct statvfs		 v;
	char			 err[GT_ERRLEN];

	cr_assert_eq(statvfs(tmp, &v), 0);
	f[1].length = (uint64_t)v.f_bavail * v.f_frsize + (1ull << 30);
	cr_assert_eq(storage_open(&s, tmp, f, nitems(f), 1ull << 30,
	    STORAGE_WRITE | STORAGE_PREALLOC, NULL, err), GT_ENOSPC, "%s", err);
	cr_assert_not_null(strstr(err, "No space left on device"), "%s", err);
	cr_assert_not_null(strstr(err, "free"), "%s", err);
	cr_assert(!exists("small"), "nothing written");
	cr_assert(!exists("huge"));
}

/*
 * a (100 bytes) | b (50, skipped) | c (70): with 64-byte pieces, pieces 1
 * and 2 hold bytes of b and of a wanted neighbour.
 */
Test(storage, skipped_file_parked_then_moved_back)
{
	struct storage_file	 f[] = {
		{ .path = "t/a", .length = 100 },
		{ .path = "t/b", .length = 50, .skip = true },
		{ .path = "t/c", .length = 70 },
	};
	struct storage		*s;
	uint8_t			 data[220], got[220];
	size_t			 i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	s = open_ok("sel", f, nitems(f), 64, STORAGE_WRITE);
	cr_assert(storage_parked(s, 1));
	cr_assert(!storage_parked(s, 0));
	cr_assert_eq(storage_write_at(s, 0, data, sizeof(data)), GT_OK);
	cr_assert_eq(storage_read_at(s, 0, got, sizeof(got)), GT_OK);
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert(exists("sel/t/a"));
	cr_assert(exists("sel/t/c"));
	cr_assert(!exists("sel/t/b"), "a skipped file is never created");
	cr_assert(exists("sel/.gtorrent.parts"));
	storage_free(s);

	/* only read (a seed without the selection): b is parked still */
	f[1].skip = false;
	s = open_ok("sel", f, nitems(f), 64, 0);
	cr_assert(storage_parked(s, 1));
	memset(got, 0, sizeof(got));
	cr_assert_eq(storage_read_at(s, 0, got, sizeof(got)), GT_OK);
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert(!exists("sel/t/b"));
	storage_free(s);

	/* b wanted now: it gets its bytes back, the part file goes */
	f[1].skip = false;
	s = open_ok("sel", f, nitems(f), 64, STORAGE_WRITE);
	cr_assert(!storage_parked(s, 1));
	cr_assert(exists("sel/t/b"));
	cr_assert(!exists("sel/.gtorrent.parts"));
	memset(got, 0, sizeof(got));
	cr_assert_eq(storage_read_at(s, 0, got, sizeof(got)), GT_OK);
	cr_assert_arr_eq(got, data, sizeof(data));
	storage_free(s);

	/* skipped again but on disk: it stays where it is, in use */
	f[1].skip = true;
	s = open_ok("sel", f, nitems(f), 64, STORAGE_WRITE);
	cr_assert(!storage_parked(s, 1));
	memset(got, 0, sizeof(got));
	cr_assert_eq(storage_read_at(s, 0, got, sizeof(got)), GT_OK);
	cr_assert_arr_eq(got, data, sizeof(data));
	storage_free(s);
}

Test(storage, parked_bytes_hash_from_the_part_file)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 100 },
		{ .path = "b", .length = 50, .skip = true },
		{ .path = "c", .length = 70 },
	};
	struct storage_hash_opts ho = { .nthreads = 2 };
	struct storage		*s;
	uint8_t			 data[220], want[4 * SHA1_LEN];
	uint8_t			 got[4 * SHA1_LEN];
	bool			 ok[4];
	char			 err[GT_ERRLEN];
	size_t			 i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	expect_hashes(data, sizeof(data), 64, want);
	s = open_ok("h", f, nitems(f), 64, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, sizeof(data)), GT_OK);
	cr_assert_eq(storage_hash_all(s, &ho, got, ok, err), GT_OK, "%s", err);
	for (i = 0; i < 4; i++)
		cr_assert(ok[i], "piece %zu", i);
	cr_assert_arr_eq(got, want, sizeof(want));
	storage_free(s);
}

Test(storage, prealloc_leaves_skipped_files_alone)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 5000 },
		{ .path = "b", .length = 5000, .skip = true },
	};
	struct storage		*s;

	s = open_ok("ps", f, nitems(f), 4096, STORAGE_WRITE |
	    STORAGE_PREALLOC);
	cr_assert(exists("ps/a"));
	cr_assert(!exists("ps/b"));
	storage_free(s);
}

Test(storage, empty_files_created_at_open)
{
	struct storage_file	 f[] = {
		{ .path = "t/e0", .length = 0 },
		{ .path = "t/x", .length = 3 },
		{ .path = "t/deep/er/e1", .length = 0 },
		{ .path = "t/e2", .length = 0 },
	};
	struct storage		*s;

	s = open_ok("dl/new", f, nitems(f), 16, STORAGE_WRITE);
	cr_assert(exists("dl/new/t/e0"));
	cr_assert(exists("dl/new/t/deep/er/e1"));
	cr_assert(exists("dl/new/t/e2"));
	cr_assert(!exists("dl/new/t/x"));
	storage_free(s);
}

Test(storage, read_only_open)
{
	struct storage_file	 f[] = {
		{ .path = "e", .length = 0 },
		{ .path = "x", .length = 3 },
	};
	struct storage		*s = NULL;
	char			 err[GT_ERRLEN], *root = tpath("missing");
	uint8_t			 b[3] = { 1, 2, 3 };

	cr_assert_eq(storage_open(&s, root, f, 2, 16, 0, NULL, err), GT_ENOENT);
	cr_assert_null(s);
	cr_assert(strstr(err, "missing") != NULL, "%s", err);
	free(root);

	mkdir_rel("ro");
	s = open_ok("ro", f, nitems(f), 16, 0);
	cr_assert(!exists("ro/e"));		/* nothing made read-only */
	cr_assert_eq(storage_write_at(s, 0, b, 3), GT_EINVAL);
	cr_assert_eq(storage_read_at(s, 0, b, 3), GT_ENOENT);
	cr_assert(!exists("ro/x"));
	storage_free(s);
}

Test(storage, unsafe_paths_rejected)
{
	static const char *const bad[] = {
		"", "/abs", "a//b", "a/", ".", "..", "a/../b", "a/./b",
		"../x",
	};
	struct storage_file	 f = { .length = 4 };
	struct storage		*s = NULL;
	char			 err[GT_ERRLEN], *root = tpath("r");
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		f.path = bad[i];
		cr_assert_eq(storage_open(&s, root, &f, 1, 16, STORAGE_WRITE,
		    NULL, err), GT_EINVAL, "%s", bad[i]);
		cr_assert_null(s);
	}
	f.path = "ok";
	f.symlink = "../out";
	cr_assert_eq(storage_open(&s, root, &f, 1, 16, STORAGE_WRITE, NULL,
	    err), GT_EINVAL);
	free(root);
}

/* Buffers of odd sizes (some empty) over every file boundary, padding. */
static void
writev_check(struct storage *s, const uint8_t *data, size_t total,
    size_t nbufs, uint64_t seed)
{
	struct iovec	*iov;
	struct prng	 r;
	uint8_t		*back;
	size_t		 off = 0, i, len;

	prng_seed(&r, seed);
	iov = xcalloc(nbufs, sizeof(*iov));
	for (i = 0; i < nbufs; i++) {
		len = i + 1 == nbufs ? total - off :
		    (size_t)prng_below(&r, 2 * total / nbufs + 1);
		len = MIN(len, total - off);
		iov[i].iov_base = (uint8_t *)data + off;
		iov[i].iov_len = len;
		off += len;
	}
	cr_assert_eq(storage_writev_at(s, 0, iov, nbufs), GT_OK);
	back = xcalloc(1, total);
	cr_assert_eq(storage_read_at(s, 0, back, total), GT_OK);
	cr_assert_arr_eq(back, data, total);
	free(back);
	free(iov);
}

Test(storage, writev_across_files_and_padding)
{
	struct storage_file	 f[] = {
		{ .path = "w/a", .length = 10 },
		{ .path = "w/.pad/6", .length = 6, .pad = true },
		{ .path = "w/empty", .length = 0 },
		{ .path = "w/b", .length = 300 },
		{ .path = "w/c", .length = 1 },
	};
	uint8_t			 data[317], zero[6] = { 0 }, back[317];
	struct iovec		 iov[3];
	struct storage		*s;
	uint8_t			*disk;
	uint64_t		 seed;
	long			 len;

	s = open_ok("root", f, nitems(f), 16, STORAGE_WRITE);
	for (seed = 1; seed <= 40; seed++) {
		fill(data, sizeof(data), seed);
		memset(data + 10, 0, 6);
		/* 1 to 200 buffers: more than one pwritev's worth too. */
		writev_check(s, data, sizeof(data), 1 + (seed * 7) % 200,
		    seed);
	}
	/* At an offset, from inside a file to inside the next. */
	fill(back, sizeof(back), 99);
	iov[0] = (struct iovec){ .iov_base = back, .iov_len = 3 };
	iov[1] = (struct iovec){ .iov_base = back + 3, .iov_len = 0 };
	iov[2] = (struct iovec){ .iov_base = back + 3, .iov_len = 9 };
	cr_assert_eq(storage_writev_at(s, 5, iov, 3), GT_OK);
	memcpy(data + 5, back, 5);
	memcpy(data + 16, back + 11, 1);
	cr_assert_eq(storage_writev_at(s, 317, iov, 0), GT_OK);
	cr_assert_eq(storage_writev_at(s, 310, iov, 3), GT_ERANGE);
	cr_assert_eq(storage_writev_at(s, UINT64_MAX, iov, 3), GT_ERANGE);
	storage_free(s);

	cr_assert(!exists("root/w/.pad"));
	disk = get_file("root/w/a", &len);
	cr_assert_eq(len, 10);
	cr_assert_arr_eq(disk, data, 10);
	free(disk);
	disk = get_file("root/w/b", &len);
	cr_assert_eq(len, 300);
	cr_assert_arr_eq(disk, data + 16, 300);
	free(disk);
	disk = get_file("root/w/c", &len);
	cr_assert_eq(len, 1);
	cr_assert_eq(disk[0], data[316]);
	free(disk);
	cr_assert_arr_eq(data + 10, zero, 6);
}

Test(storage, writev_memory_and_fail_write)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 20 },
		{ .path = "b", .length = 12 },
	};
	uint8_t			 data[32];
	struct iovec		 iov[2];
	struct storage		*s;
	uint64_t		 seed;

	s = storage_new_memory(f, nitems(f), 8, 0);
	cr_assert_not_null(s);
	for (seed = 1; seed <= 20; seed++) {
		fill(data, sizeof(data), seed);
		writev_check(s, data, sizeof(data), 1 + seed % 9, seed);
	}
	storage_free(s);

	/* A gathered write counts as one write. */
	s = storage_new_memory(f, nitems(f), 8, 2);
	iov[0] = (struct iovec){ .iov_base = data, .iov_len = 16 };
	iov[1] = (struct iovec){ .iov_base = data + 16, .iov_len = 16 };
	cr_assert_eq(storage_writev_at(s, 0, iov, 2), GT_OK);
	cr_assert_eq(storage_writev_at(s, 0, iov, 2), GT_EIO);
	cr_assert_eq(storage_writev_at(s, 0, iov, 2), GT_OK);
	storage_free(s);
}

/*
 * Whole pieces hashed where the page cache holds them: the same digests
 * as sha1() of the bytes, in any order; false for a piece across two
 * files, a piece the file is too short for, the memory back end.
 */
Test(storage, hash_mapped_whole_pieces)
{
	struct storage_file	 f[] = {
		{ .path = "m/a", .length = 40 << 10 },	/* pieces 0, 1, half 2 */
		{ .path = "m/b", .length = 88 << 10 },
	};
	uint8_t			*data = xmalloc(128 << 10);
	uint8_t			 got[SHA1_LANES_MAX][SHA1_LEN], want[SHA1_LEN];
	uint32_t		 pieces[] = { 7, 0, 4, 1, 6 }, across[] = { 0, 2 };
	struct storage		*s;
	size_t			 k;
	char			*p;

	fill(data, 128 << 10, 11);
	s = open_ok("root", f, nitems(f), 16 << 10, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, 128 << 10), GT_OK);
	cr_assert(storage_hash_mapped(s, pieces, nitems(pieces), got));
	for (k = 0; k < nitems(pieces); k++) {
		sha1(data + ((size_t)pieces[k] << 14), 16 << 10, want);
		cr_assert_arr_eq(got[k], want, SHA1_LEN, "piece %u",
		    pieces[k]);
	}
	cr_assert_not(storage_hash_mapped(s, across, nitems(across), got));
	storage_free(s);

	/* b cut short: its last piece cannot be mapped */
	p = tpath("root/m/b");
	cr_assert_eq(truncate(p, 80 << 10), 0);
	free(p);
	s = open_ok("root", f, nitems(f), 16 << 10, 0);
	cr_assert(storage_hash_mapped(s, pieces + 2, 1, got));	/* 4 */
	cr_assert_not(storage_hash_mapped(s, pieces, 1, got));	/* 7 */
	storage_free(s);

	s = storage_new_memory(f, nitems(f), 16 << 10, 0);
	cr_assert_eq(storage_write_at(s, 0, data, 128 << 10), GT_OK);
	cr_assert_not(storage_hash_mapped(s, pieces + 1, 1, got));
	storage_free(s);
	free(data);
}

/*
 * Early writeback: off by default; on, a run every so many bytes written
 * (none while one is going, so at most one per threshold), the data
 * intact, and no run with a back end that has no writeback.
 */
Test(storage, writeback_every)
{
	struct storage_file	 f[] = {
		{ .path = "w/a", .length = 96 << 10 },
		{ .path = "w/b", .length = 160 << 10 },
	};
	uint8_t			*data = xmalloc(256 << 10), *back;
	struct storage		*s;
	uint64_t		 off;
	unsigned		 runs;

	fill(data, 256 << 10, 7);
	s = open_ok("root", f, nitems(f), 16 << 10, STORAGE_WRITE);
	for (off = 0; off < (64 << 10); off += 16 << 10)
		cr_assert_eq(storage_write_at(s, off, data + off, 16 << 10),
		    GT_OK);
	cr_assert_eq(storage_writebacks(s), 0);		/* off */
	storage_writeback_every(s, 64 << 10);
	for (; off < (256 << 10); off += 16 << 10)
		cr_assert_eq(storage_write_at(s, off, data + off, 16 << 10),
		    GT_OK);
	runs = storage_writebacks(s);
	cr_assert(runs >= 1 && runs <= 3, "%u runs", runs);
	back = xmalloc(256 << 10);
	cr_assert_eq(storage_read_at(s, 0, back, 256 << 10), GT_OK);
	cr_assert_arr_eq(back, data, 256 << 10);
	cr_assert_eq(storage_sync(s), GT_OK);
	/* a run is joined by storage_free, even one still going */
	storage_writeback_every(s, 1);
	cr_assert_eq(storage_write_at(s, 0, data, 16 << 10), GT_OK);
	storage_free(s);

	s = storage_new_memory(f, nitems(f), 16 << 10, 0);
	storage_writeback_every(s, 1);
	cr_assert_eq(storage_write_at(s, 0, data, 64 << 10), GT_OK);
	cr_assert_eq(storage_writebacks(s), 0);
	storage_free(s);
	free(back);
	free(data);
}

/*
 * Every block of s (pieces of pl bytes, total bytes) through storage_send
 * into a pipe, read back whole: the bytes of data.
 */
static void
send_check(struct storage *s, const uint8_t *data, uint64_t total,
    uint32_t pl, uint32_t blk)
{
	uint8_t		*back = xmalloc(blk);
	uint64_t	 toff;
	uint32_t	 piece, off, len;
	size_t		 sent, got;
	ssize_t		 n;
	int		 pp[2];

	cr_assert_eq(pipe(pp), 0);
	for (toff = 0; toff < total; toff += len) {
		piece = (uint32_t)(toff / pl);
		off = (uint32_t)(toff % pl);
		len = (uint32_t)MIN(MIN(blk, pl - off), total - toff);
		for (got = 0; got < len; got += sent) {
			sent = 0;
			cr_assert_eq(storage_send(s, piece, off + (uint32_t)got,
			    len - (uint32_t)got, pp[1], &sent), GT_OK,
			    "piece %u+%u", piece, off);
			cr_assert_gt(sent, 0);
			cr_assert_leq(sent, len - got);
			n = read(pp[0], back + got, sent);
			cr_assert_eq(n, (ssize_t)sent);
		}
		cr_assert_arr_eq(back, data + toff, len, "piece %u+%u", piece,
		    off);
	}
	close(pp[0]);
	close(pp[1]);
	free(back);
}

Test(storage, send_across_files_and_padding)
{
	struct storage_file	 f[] = {
		{ .path = "s/a", .length = 10 },
		{ .path = "s/.pad/6", .length = 6, .pad = true },
		{ .path = "s/empty", .length = 0 },
		{ .path = "s/b", .length = 300 },
		{ .path = "s/c", .length = 1 },
	};
	uint8_t			 data[317];
	struct storage		*s;
	size_t			 sent = 7;
	int			 pp[2];

	fill(data, sizeof(data), 5);
	memset(data + 10, 0, 6);
	s = open_ok("root", f, nitems(f), 32, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, sizeof(data)), GT_OK);
	send_check(s, data, sizeof(data), 32, 32);
	send_check(s, data, sizeof(data), 32, 5);
	send_check(s, data, sizeof(data), 32, 3);
	/* Past the piece: nothing sent, *sent untouched. */
	cr_assert_eq(pipe(pp), 0);
	cr_assert_eq(storage_send(s, 0, 30, 3, pp[1], &sent), GT_ERANGE);
	cr_assert_eq(storage_send(s, 10, 0, 1, pp[1], &sent), GT_ERANGE);
	cr_assert_eq(storage_send(s, 9, 28, 2, pp[1], &sent), GT_ERANGE);
	cr_assert_eq(sent, 7);
	/* A closed reader: EPIPE (SIGPIPE ignored, as the program does). */
	signal(SIGPIPE, SIG_IGN);
	close(pp[0]);
	cr_assert_eq(storage_send(s, 0, 0, 8, pp[1], &sent), GT_EIO);
	cr_assert_eq(errno, EPIPE);
	close(pp[1]);
	storage_free(s);
}

Test(storage, send_memory_backend)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 20 },
		{ .path = "p", .length = 4, .pad = true },
		{ .path = "b", .length = 12 },
	};
	uint8_t			 data[36];
	struct storage		*s;

	fill(data, sizeof(data), 6);
	memset(data + 20, 0, 4);
	s = storage_new_memory(f, nitems(f), 16, 0);
	cr_assert_not_null(s);
	cr_assert_eq(storage_write_at(s, 0, data, sizeof(data)), GT_OK);
	send_check(s, data, sizeof(data), 16, 16);
	send_check(s, data, sizeof(data), 16, 7);
	storage_free(s);
}

/* A full non-blocking pipe: some bytes, then GT_EAGAIN, then the rest. */
Test(storage, send_stops_when_full)
{
	struct storage_file	 f[] = {
		{ .path = "big", .length = 1 << 20 },
	};
	uint8_t			*data = xmalloc(1 << 20), *back;
	struct storage		*s;
	size_t			 sent, total = 0, got = 0;
	enum gt_err		 e;
	ssize_t			 n;
	int			 pp[2];

	fill(data, 1 << 20, 7);
	s = open_ok("root", f, nitems(f), 1 << 20, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, 1 << 20), GT_OK);
	cr_assert_eq(pipe2(pp, O_NONBLOCK), 0);
	back = xmalloc(1 << 20);
	while (got < (1u << 20)) {
		if (total < (1u << 20)) {
			sent = 0;
			e = storage_send(s, 0, (uint32_t)total,
			    (uint32_t)((1u << 20) - total), pp[1], &sent);
			cr_assert(e == GT_OK || e == GT_EAGAIN, "%s",
			    gt_strerror(e));
			if (e == GT_OK) {
				cr_assert_lt(sent, (size_t)1 << 20);
				total += sent;
			}
		}
		n = read(pp[0], back + got, (1u << 20) - got);
		if (n > 0)
			got += (size_t)n;
		if (total == (1u << 20) && n <= 0)
			break;
	}
	cr_assert_eq(got, (size_t)1 << 20);
	cr_assert_arr_eq(back, data, 1 << 20);
	close(pp[0]);
	close(pp[1]);
	free(back);
	free(data);
	storage_free(s);
}

Test(storage, padding_never_on_disk)
{
	struct storage_file	 f[] = {
		{ .path = "t/a", .length = 5 },
		{ .path = "t/.pad/11", .length = 11, .pad = true },
		{ .path = "t/b", .length = 16 },
		{ .path = "t/.pad/0", .length = 0, .pad = true },
	};
	uint8_t			 data[32], back[32], zero[11] = { 0 };
	struct storage		*s;

	fill(data, sizeof(data), 2);
	s = open_ok("r", f, nitems(f), 16, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, 32), GT_OK);
	cr_assert(!exists("r/t/.pad"));
	cr_assert_eq(storage_read_at(s, 0, back, 32), GT_OK);
	cr_assert_arr_eq(back, data, 5);
	cr_assert_arr_eq(back + 5, zero, 11);
	cr_assert_arr_eq(back + 16, data + 16, 16);
	/* A piece made only of padding hashes as zeros. */
	cr_assert_eq(storage_read(s, 0, 5, back, 11), GT_OK);
	cr_assert_arr_eq(back, zero, 11);
	storage_free(s);
	cr_assert(!exists("r/t/.pad"));
}

Test(storage, symlinks_inside_root_not_followed)
{
	struct storage_file	 f[] = {
		{ .path = "t/dir/f", .length = 8 },
		{ .path = "t/file", .length = 8 },
		{ .path = "t/ok", .length = 8 },
	};
	uint8_t			 data[8] = "ABCDEFGH", back[8], *got;
	struct storage		*s;
	char			*a, *b;
	long			 len;

	mkdir_rel("out");
	put_file("out/f", "outside!", 8);
	put_file("out/file", "outside!", 8);
	mkdir_rel("r");
	mkdir_rel("r/t");
	a = tpath("out");
	b = tpath("r/t/dir");
	cr_assert_eq(symlink(a, b), 0);		/* folder symlink */
	free(a);
	free(b);
	a = tpath("out/file");
	b = tpath("r/t/file");
	cr_assert_eq(symlink(a, b), 0);		/* file symlink */
	free(a);
	free(b);

	s = open_ok("r", f, nitems(f), 8, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, 8), GT_EIO);
	cr_assert_eq(storage_write_at(s, 8, data, 8), GT_EIO);
	cr_assert_eq(storage_write_at(s, 16, data, 8), GT_OK);
	cr_assert_neq(storage_read_at(s, 0, back, 8), GT_OK);
	cr_assert_neq(storage_read_at(s, 8, back, 8), GT_OK);
	storage_free(s);

	/* Read-only too. */
	s = open_ok("r", f, nitems(f), 8, 0);
	cr_assert_neq(storage_read_at(s, 0, back, 8), GT_OK);
	cr_assert_neq(storage_read_at(s, 8, back, 8), GT_OK);
	storage_free(s);

	got = get_file("out/f", &len);
	cr_assert_eq(len, 8);
	cr_assert_arr_eq(got, "outside!", 8);
	free(got);
	got = get_file("out/file", &len);
	cr_assert_eq(len, 8);
	cr_assert_arr_eq(got, "outside!", 8);
	free(got);
}

Test(storage, fifo_in_root_does_not_hang)
{
	struct storage_file	 f[] = { { .path = "p", .length = 8 } };
	struct storage		*s;
	uint8_t			 b[8] = { 0 };
	char			*p;

	mkdir_rel("r");
	p = tpath("r/p");
	cr_assert_eq(mkfifo(p, 0600), 0);
	free(p);
	s = open_ok("r", f, nitems(f), 8, 0);
	cr_assert_eq(storage_read_at(s, 0, b, 8), GT_EIO);
	storage_free(s);
	s = open_ok("r", f, nitems(f), 8, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, b, 8), GT_EIO);
	storage_free(s);
}

/* Many small and a few larger files, some empty, with their contents. */
static void
make_tree(const char *root, struct storage_file **fout, size_t *nout,
    uint8_t **dout, uint64_t *tout)
{
	struct storage_file	*f;
	char			*dir;
	uint8_t			*data;
	uint64_t		 total = 0, off = 0;
	size_t			 n = 40, i;

	f = xcalloc(n, sizeof(*f));
	for (i = 0; i < n; i++) {
		f[i].path = xasprintf("%02zu", i);
		f[i].length = i % 9 == 4 ? 0 : i % 10 == 7 ? 300000 :
		    1 + (i * 7919) % 5000;
		total += f[i].length;
	}
	data = xmalloc(total);
	fill(data, total, 3);
	dir = tpath(root);
	cr_assert_eq(mkdir(dir, 0777), 0);
	free(dir);
	for (i = 0; i < n; i++) {
		dir = xasprintf("%s/%s", root, f[i].path);
		put_file(dir, data + off, f[i].length);
		free(dir);
		off += f[i].length;
	}
	*fout = f;
	*nout = n;
	*dout = data;
	*tout = total;
}

static void
free_tree(struct storage_file *f, size_t n, uint8_t *data)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free((char *)f[i].path);
	free(f);
	free(data);
}

static void
check_hash_all(uint64_t pl, unsigned nthreads)
{
	struct storage_hash_opts o = { .nthreads = nthreads };
	struct storage_file	*f;
	struct storage		*s;
	uint8_t			*data, *want, *got, h[SHA1_LEN];
	uint64_t		 total;
	uint32_t		 np, i;
	size_t			 n;
	bool			*ok;
	char			 err[GT_ERRLEN];

	make_tree("r", &f, &n, &data, &total);
	s = open_ok("r", f, n, pl, 0);
	np = filemap_npieces(storage_filemap(s));
	want = xcalloc(np, SHA1_LEN);
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));
	expect_hashes(data, total, pl, want);
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK);
	for (i = 0; i < np; i++)
		cr_assert(ok[i], "piece %u", i);
	cr_assert_arr_eq(got, want, (size_t)np * SHA1_LEN);
	for (i = 0; i < np; i += 7) {
		cr_assert_eq(storage_hash_piece(s, i, h), GT_OK);
		cr_assert_arr_eq(h, want + (size_t)i * SHA1_LEN, SHA1_LEN);
	}
	cr_assert_eq(storage_hash_piece(s, np, h), GT_ERANGE);
	/* compared in place against what the pieces should be */
	for (i = 0; i < np; i += 3)
		want[(size_t)i * SHA1_LEN] ^= 1;
	o.expected = want;
	memset(ok, 0, np * sizeof(*ok));
	cr_assert_eq(storage_hash_all(s, &o, NULL, ok, err), GT_OK);
	for (i = 0; i < np; i++)
		cr_assert_eq(ok[i], i % 3 != 0, "piece %u", i);
	storage_free(s);
	free(want);
	free(got);
	free(ok);
	free_tree(f, n, data);
}

Test(storage, hash_all_one_thread)
{
	check_hash_all(16384, 1);
}

Test(storage, hash_all_four_threads)
{
	check_hash_all(16384, 4);
	tmp_teardown();
	tmp_setup();
	check_hash_all(1000, 4);	/* not a power of two, many batches */
}

Test(storage, hash_all_default_threads_big_pieces)
{
	check_hash_all(1 << 23, 0);	/* one piece bigger than a batch */
}

/* Large files: several batches, odd boundaries, padding between. */
static void
check_large(uint64_t pl, unsigned nthreads)
{
	struct storage_file	 f[] = {
		{ .path = "big/a", .length = (5 << 20) + 123 },
		{ .path = "big/.pad/x", .length = 65536 - 123, .pad = true },
		{ .path = "big/b", .length = (3 << 20) + 7 },
		{ .path = "big/c", .length = 700000 },
		{ .path = "big/d", .length = 1 },
	};
	struct storage_hash_opts o = { .nthreads = nthreads };
	struct storage		*s;
	uint8_t			*data, *want, *got;
	uint64_t		 total = 0, pad;
	uint32_t		 np, i;
	bool			*ok;
	char			 err[GT_ERRLEN];
	size_t			 k;

	for (k = 0; k < nitems(f); k++)
		total += f[k].length;
	data = xmalloc(total);
	fill(data, total, 7);
	pad = f[0].length;
	memset(data + pad, 0, f[1].length);
	s = open_ok("r", f, nitems(f), pl, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, total), GT_OK);
	storage_free(s);

	s = open_ok("r", f, nitems(f), pl, 0);
	np = filemap_npieces(storage_filemap(s));
	want = xcalloc(np, SHA1_LEN);
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));
	expect_hashes(data, total, pl, want);
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK);
	for (i = 0; i < np; i++)
		cr_assert(ok[i], "piece %u", i);
	cr_assert_arr_eq(got, want, (size_t)np * SHA1_LEN);
	storage_free(s);
	free(want);
	free(got);
	free(ok);
	free(data);
}

Test(storage, hash_all_large_files)
{
	check_large(65536, 2);
	check_large(1 << 20, 3);
	check_large(12345, 1);
	check_large(3 << 20, 4);
}

/* Pieces overlapping bytes [a, b) of the torrent. */
static bool
overlaps(uint32_t p, uint64_t pl, uint64_t a, uint64_t b)
{
	return a < b && (uint64_t)p * pl < b && (uint64_t)(p + 1) * pl > a;
}

static void
check_damaged(bool truncate_it)
{
	struct storage_hash_opts o = { .nthreads = 2, .check_changes = true };
	struct storage_file	*f;
	struct storage		*s;
	uint8_t			*data, *want, *got;
	uint64_t		 total, pl = 4096, start, cut;
	uint32_t		 np, i;
	size_t			 n, victim = 7;	/* a 300000-byte file */
	bool			*ok, bad;
	char			 err[GT_ERRLEN], *p;

	make_tree("r", &f, &n, &data, &total);
	start = 0;
	for (i = 0; i < victim; i++)
		start += f[i].length;
	p = tpath("r/07");
	if (truncate_it) {
		cut = 123457;
		cr_assert_eq(truncate(p, (off_t)cut), 0);
	} else {
		cut = 0;
		cr_assert_eq(unlink(p), 0);
	}
	free(p);

	s = open_ok("r", f, n, pl, 0);
	np = filemap_npieces(storage_filemap(s));
	want = xcalloc(np, SHA1_LEN);
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));
	expect_hashes(data, total, pl, want);
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK, "%s", err);
	for (i = 0; i < np; i++) {
		bad = overlaps(i, pl, start + cut, start + f[victim].length);
		cr_assert_eq(ok[i], !bad, "piece %u ok %d", i, ok[i]);
		if (!bad)
			cr_assert_arr_eq(got + (size_t)i * SHA1_LEN,
			    want + (size_t)i * SHA1_LEN, SHA1_LEN);
	}
	storage_free(s);
	free(want);
	free(got);
	free(ok);
	free_tree(f, n, data);
}

Test(storage, hash_all_missing_file)
{
	check_damaged(false);
}

Test(storage, hash_all_short_file)
{
	check_damaged(true);
}

struct progress {
	uint64_t	 last;
	unsigned	 calls;
	char		*touch;		/* file to change, or NULL */
};

static void
progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress	*pr = arg;
	struct timeval	 tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	cr_assert_gt(done, pr->last);
	cr_assert_leq(done, total);
	pr->last = done;
	pr->calls++;
	if (pr->touch != NULL)
		cr_assert_eq(utimes(pr->touch, tv), 0);
}

Test(storage, hash_all_progress_and_changes)
{
	struct progress		 pr = { 0 };
	struct storage_hash_opts o = {
		.nthreads = 2, .check_changes = true,
		.progress = progress_cb, .arg = &pr,
	};
	struct storage_file	*f;
	struct storage		*s;
	uint8_t			*data, *got;
	uint64_t		 total;
	uint32_t		 np;
	size_t			 n;
	bool			*ok;
	char			 err[GT_ERRLEN] = "";

	make_tree("r", &f, &n, &data, &total);
	s = open_ok("r", f, n, 16384, 0);
	np = filemap_npieces(storage_filemap(s));
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));

	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK, "%s", err);
	cr_assert_eq(pr.last, total);
	cr_assert_geq(pr.calls, 1);

	pr.last = 0;
	pr.touch = tpath("r/12");
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_ECHANGED);
	cr_assert(strstr(err, "r/12: file changed while being hashed") !=
	    NULL, "%s", err);

	/* Without check_changes nobody looks. */
	pr.last = 0;
	o.check_changes = false;
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK);
	free(pr.touch);
	storage_free(s);
	free(got);
	free(ok);
	free_tree(f, n, data);
}

Test(storage, fd_cache_many_files)
{
	enum { N = 200, LEN = 777 };
	struct storage_hash_opts o = { .nthreads = 4 };
	struct storage_file	*f;
	struct storage		*s;
	uint8_t			*data, *back, *want, *got;
	uint32_t		 np, i;
	bool			*ok;
	char			 err[GT_ERRLEN];

	f = xcalloc(N, sizeof(*f));
	for (i = 0; i < N; i++) {
		f[i].path = xasprintf("d%u/f%03u", i % 3, i);
		f[i].length = LEN;
	}
	data = xmalloc(N * LEN);
	back = xmalloc(N * LEN);
	fill(data, N * LEN, 4);
	s = open_ok("r", f, N, 1024, STORAGE_WRITE);
	/* Twice round, in two orders, so the cache evicts and reopens. */
	for (i = 0; i < N; i++)
		cr_assert_eq(storage_write_at(s, (uint64_t)i * LEN,
		    data + i * LEN, LEN), GT_OK);
	for (i = N; i-- > 0;)
		cr_assert_eq(storage_read_at(s, (uint64_t)i * LEN,
		    back + i * LEN, LEN), GT_OK);
	cr_assert_arr_eq(back, data, N * LEN);
	cr_assert_eq(storage_read_at(s, 0, back, N * LEN), GT_OK);
	cr_assert_arr_eq(back, data, N * LEN);

	np = filemap_npieces(storage_filemap(s));
	want = xcalloc(np, SHA1_LEN);
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));
	expect_hashes(data, N * LEN, 1024, want);
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK);
	cr_assert_arr_eq(got, want, (size_t)np * SHA1_LEN);
	storage_free(s);
	for (i = 0; i < N; i++)
		free((char *)f[i].path);
	free(f);
	free(data);
	free(back);
	free(want);
	free(got);
	free(ok);
}

struct writer {
	struct storage	*s;
	const uint8_t	*data;
	uint32_t	 np, first, step;
};

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	uint32_t	 p, size, off;

	for (p = w->first; p < w->np; p += w->step) {
		size = filemap_piece_size(storage_filemap(w->s), p);
		for (off = 0; off < size; off += 100)
			if (storage_write(w->s, p, off, w->data + (size_t)p *
			    512 + off, MIN(100, size - off)) != GT_OK)
				return w;
	}
	return NULL;
}

Test(storage, concurrent_writers)
{
	enum { N = 90, LEN = 1000, T = 4 };
	struct storage_file	*f;
	struct storage		*s;
	struct writer		 w[T];
	pthread_t		 tid[T];
	uint8_t			*data, *back;
	void			*r;
	uint32_t		 i;

	f = xcalloc(N, sizeof(*f));
	for (i = 0; i < N; i++) {
		f[i].path = xasprintf("f%u", i);
		f[i].length = LEN;
	}
	data = xmalloc(N * LEN);
	back = xmalloc(N * LEN);
	fill(data, N * LEN, 5);
	s = open_ok("r", f, N, 512, STORAGE_WRITE);
	for (i = 0; i < T; i++) {
		w[i] = (struct writer){ s, data,
		    filemap_npieces(storage_filemap(s)), i, T };
		cr_assert_eq(pthread_create(&tid[i], NULL, writer_main, &w[i]),
		    0);
	}
	for (i = 0; i < T; i++) {
		pthread_join(tid[i], &r);
		cr_assert_null(r);
	}
	cr_assert_eq(storage_read_at(s, 0, back, N * LEN), GT_OK);
	cr_assert_arr_eq(back, data, N * LEN);
	storage_free(s);
	for (i = 0; i < N; i++)
		free((char *)f[i].path);
	free(f);
	free(data);
	free(back);
}

Test(storage, range_errors)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 20 },
		{ .path = "b", .length = 5 },
	};
	struct storage		*s;
	uint8_t			 b[32] = { 0 };

	s = storage_new_memory(f, nitems(f), 8, 0);
	cr_assert_not_null(s);
	cr_assert_eq(filemap_npieces(storage_filemap(s)), 4);
	cr_assert_eq(storage_read(s, 4, 0, b, 1), GT_ERANGE);
	cr_assert_eq(storage_write(s, 4, 0, b, 1), GT_ERANGE);
	cr_assert_eq(storage_read(s, 0, 0, b, 9), GT_ERANGE);
	cr_assert_eq(storage_read(s, 0, 8, b, 1), GT_ERANGE);
	cr_assert_eq(storage_read(s, 0, UINT32_MAX, b, 2), GT_ERANGE);
	cr_assert_eq(storage_read(s, 3, 0, b, 2), GT_ERANGE);	/* 1 byte */
	cr_assert_eq(storage_read(s, 3, 0, b, 1), GT_OK);
	cr_assert_eq(storage_write(s, 3, 1, b, 0), GT_OK);
	cr_assert_eq(storage_read_at(s, 24, b, 2), GT_ERANGE);
	cr_assert_eq(storage_read_at(s, UINT64_MAX, b, 2), GT_ERANGE);
	cr_assert_eq(storage_write_at(s, 20, b, 6), GT_ERANGE);
	cr_assert_eq(storage_write_at(s, 0, b, 25), GT_OK);
	storage_free(s);

	f[0].length = (uint64_t)1 << 30;	/* over the memory cap */
	cr_assert_null(storage_new_memory(f, 1, 8, 0));
	cr_assert_null(storage_new_memory(f, 1, 0, 0));
}

Test(storage, memory_backend_and_fail_write)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 10 },
		{ .path = "pad", .length = 6, .pad = true },
		{ .path = "b", .length = 30 },
	};
	struct storage_hash_opts o = { .nthreads = 3 };
	struct storage		*s;
	uint8_t			 data[46], back[46], want[6 * SHA1_LEN];
	uint8_t			 got[6 * SHA1_LEN];
	bool			 ok[6];
	char			 err[GT_ERRLEN];
	uint32_t		 p;

	fill(data, sizeof(data), 6);
	memset(data + 10, 0, 6);
	s = storage_new_memory(f, nitems(f), 8, 3);
	cr_assert_not_null(s);
	cr_assert_eq(storage_write(s, 0, 0, data, 8), GT_OK);	/* 1 */
	cr_assert_eq(storage_write(s, 1, 0, data + 8, 8), GT_OK); /* 2 */
	cr_assert_eq(storage_write(s, 2, 0, data + 16, 8), GT_EIO); /* 3 */
	cr_assert_eq(storage_write(s, 2, 0, data + 16, 8), GT_OK); /* 4 */
	for (p = 3; p < 6; p++)
		cr_assert_eq(storage_write(s, p, 0, data + p * 8,
		    p == 5 ? 6 : 8), GT_OK);
	cr_assert_eq(storage_read_at(s, 0, back, 46), GT_OK);
	cr_assert_arr_eq(back, data, 46);

	expect_hashes(data, 46, 8, want);
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK);
	for (p = 0; p < 6; p++)
		cr_assert(ok[p]);
	cr_assert_arr_eq(got, want, sizeof(want));
	cr_assert_eq(storage_make_symlinks(s, err), GT_OK);
	storage_free(s);
	storage_free(NULL);

	/* A fresh one reads zeros. */
	s = storage_new_memory(f, nitems(f), 8, 0);
	memset(back, 1, sizeof(back));
	cr_assert_eq(storage_read_at(s, 0, back, 46), GT_OK);
	for (p = 0; p < 46; p++)
		cr_assert_eq(back[p], 0);
	storage_free(s);
}

Test(storage, make_symlinks)
{
	struct storage_file	 f[] = {
		{ .path = "t/data/x", .length = 4 },
		{ .path = "t/links/l", .length = 0,
		    .symlink = "t/data/x" },
		{ .path = "t/top", .length = 0, .symlink = "t/data" },
		{ .path = "t/taken", .length = 0, .symlink = "t/data/x" },
	};
	struct storage		*s;
	char			 err[GT_ERRLEN], buf[256], *p;
	ssize_t			 n;
	uint8_t			*got;
	long			 len;

	s = open_ok("r", f, nitems(f), 16, STORAGE_WRITE);
	cr_assert(!exists("r/t/links"));	/* links are no empty files */
	cr_assert_eq(storage_write_at(s, 0, "data", 4), GT_OK);
	put_file("r/t/taken", "mine", 4);
	cr_assert_eq(storage_make_symlinks(s, err), GT_OK, "%s", err);

	p = tpath("r/t/links/l");
	n = readlink(p, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "../../t/data/x");
	free(p);
	got = get_file("r/t/links/l", &len);	/* resolves inside root */
	cr_assert_eq(len, 4);
	cr_assert_arr_eq(got, "data", 4);
	free(got);

	p = tpath("r/t/top");
	n = readlink(p, buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "../t/data");
	free(p);

	got = get_file("r/t/taken", &len);	/* left alone */
	cr_assert_eq(len, 4);
	cr_assert_arr_eq(got, "mine", 4);
	free(got);
	storage_free(s);
}

Test(storage, open_metainfo)
{
	struct mi_file		 mf[] = {
		{ .path = "name/a", .length = 10, .offset = 0 },
		{ .path = "name/.pad/6", .length = 6, .offset = 10,
		    .attr = MI_ATTR_PAD },
		{ .path = "name/b", .length = 4, .offset = 16 },
		{ .path = "name/e", .length = 0, .offset = 20 },
	};
	struct metainfo		 m = {
		.name = "name", .multi_file = true, .piece_length = 16,
		.npieces = 2, .total_length = 20, .files = mf, .nfiles = 4,
	};
	struct storage		*s = NULL;
	char			 err[GT_ERRLEN], *root = tpath("dl");
	uint8_t			 b[20];

	cr_assert_eq(storage_open_metainfo(&s, root, &m, NULL, STORAGE_WRITE, err),
	    GT_OK, "%s", err);
	cr_assert(exists("dl/name/e"));
	cr_assert_eq(storage_write_at(s, 0, "0123456789abcdefWXYZ", 20),
	    GT_OK);
	cr_assert_eq(storage_read_at(s, 0, b, 20), GT_OK);
	cr_assert_arr_eq(b, "0123456789\0\0\0\0\0\0WXYZ", 20);
	cr_assert(!exists("dl/name/.pad"));
	storage_free(s);

	m.npieces = 3;
	s = NULL;
	cr_assert_eq(storage_open_metainfo(&s, root, &m, NULL, 0, err), GT_EINVAL);
	cr_assert_null(s);
	free(root);
}

/* A sparse file of len bytes (zeros) at rel. */
static void
make_sparse(const char *rel, uint64_t len)
{
	char	*p = tpath(rel);
	int	 fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	cr_assert_neq(fd, -1, "%s: %s", p, strerror(errno));
	cr_assert_eq(ftruncate(fd, (off_t)len), 0);
	close(fd);
	free(p);
}

/*
 * Hashing leaves SIGBUS to the program: a SIGBUS raised meanwhile (not
 * from storage's mapped reads) reaches the handler installed before the
 * run, which is the one installed after it.  (During the run storage's
 * own handler stands in front of it, for files cut short while mapped.)
 */
static volatile sig_atomic_t	sigbus_seen;

static void
sigbus_count(int sig)
{
	(void)sig;
	sigbus_seen++;
}

struct sigbus_probe {
	unsigned	calls;
};

static void
sigbus_progress(void *arg, uint64_t done, uint64_t total)
{
	struct sigbus_probe	*sp = arg;

	(void)done;
	(void)total;
	sp->calls++;
	raise(SIGBUS);
}

Test(storage, hash_all_passes_other_sigbus_on)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 200u << 20 },	/* sparse: zeros */
		{ .path = "b", .length = 1000 },
	};
	struct sigbus_probe	 sp = { 0 };
	struct storage_hash_opts o = {
		.nthreads = 2, .progress = sigbus_progress, .arg = &sp,
	};
	struct sigaction	 sa = { .sa_handler = sigbus_count }, cur;
	struct storage		*s;
	uint8_t			*got;
	uint32_t		 np, i;
	bool			*ok;
	char			 err[GT_ERRLEN];

	mkdir_rel("r");
	make_sparse("r/a", f[0].length);
	make_sparse("r/b", f[1].length);
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGBUS, &sa, NULL), 0);
	s = open_ok("r", f, nitems(f), 1 << 20, 0);
	np = filemap_npieces(storage_filemap(s));
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));
	cr_assert_eq(storage_hash_all(s, &o, got, ok, err), GT_OK, "%s", err);
	for (i = 0; i < np; i++)
		cr_assert(ok[i], "piece %u", i);
	cr_assert_geq(sp.calls, 3);
	cr_assert_eq((unsigned)sigbus_seen, sp.calls,
	    "%d of %u SIGBUS delivered", (int)sigbus_seen, sp.calls);
	cr_assert_eq(sigaction(SIGBUS, NULL, &cur), 0);
	cr_assert_eq(cur.sa_handler, sigbus_count);
	storage_free(s);
	free(got);
	free(ok);
}

/*
 * A file cut short while two threads hash it: no crash, no leak (run it
 * under ASan or valgrind), the pieces read after the cut are bad and
 * every good piece has the right hash.  The scalar kernel runs every
 * piece through libcrypto.
 */
struct cutter {
	char		*path;
	off_t		 to;
	uint64_t	 at;		/* bytes hashed when cut, or 0 */
};

static void
cut_progress(void *arg, uint64_t done, uint64_t total)
{
	struct cutter	*c = arg;

	(void)total;
	if (c->at != 0)
		return;
	cr_assert_eq(truncate(c->path, c->to), 0);
	c->at = done;
}

static void
check_cut(enum sha1_kernel k, bool check_changes)
{
	enum { PL = 1 << 20 };
	struct storage_file	 f[] = {
		{ .path = "big", .length = (200u << 20) + 12345 },
	};
	struct cutter		 c = { .to = 32 << 20 };
	struct storage_hash_opts o = {
		.nthreads = 2, .check_changes = check_changes,
		.progress = cut_progress, .arg = &c,
	};
	struct storage		*s;
	uint8_t			*got, *zeros, zh[SHA1_LEN];
	uint32_t		 np, i;
	bool			*ok;
	char			 err[GT_ERRLEN];
	enum gt_err		 e;

	if (!sha1_multi_force(k))
		return;
	mkdir_rel("r");
	make_sparse("r/big", f[0].length);
	c.path = tpath("r/big");
	s = open_ok("r", f, nitems(f), PL, 0);
	np = filemap_npieces(storage_filemap(s));
	got = xcalloc(np, SHA1_LEN);
	ok = xcalloc(np, sizeof(*ok));
	zeros = xcalloc(1, PL);
	sha1(zeros, PL, zh);
	e = storage_hash_all(s, &o, got, ok, err);
	cr_assert_eq(e, check_changes ? GT_ECHANGED : GT_OK, "%s", err);
	cr_assert_gt(c.at, (uint64_t)c.to);
	for (i = 0; !check_changes && i < np; i++) {
		if ((uint64_t)i * PL >= c.at + (16u << 20))
			cr_assert(!ok[i], "piece %u read after the cut", i);
		else if ((uint64_t)(i + 1) * PL <= (uint64_t)c.to)
			cr_assert(ok[i], "piece %u before the cut", i);
		if (ok[i] && i + 1 < np)
			cr_assert_arr_eq(got + (size_t)i * SHA1_LEN, zh,
			    SHA1_LEN, "piece %u", i);
	}
	sha1_multi_force(SHA1_KERNEL_BEST);
	storage_free(s);
	free(c.path);
	free(zeros);
	free(got);
	free(ok);
	tmp_teardown();
	tmp_setup();
}

Test(storage, hash_all_file_cut_while_hashed)
{
	check_cut(SHA1_KERNEL_SCALAR, false);
	check_cut(SHA1_KERNEL_BEST, false);
	check_cut(SHA1_KERNEL_SCALAR, true);
}

/* storage_sync() syncs each file written since the last sync, once. */
Test(storage, sync_written_files_once)
{
	struct storage_file	 f[] = {
		{ .path = "a", .length = 10 },
		{ .path = "pad", .length = 6, .pad = true },
		{ .path = "b", .length = 30 },
		{ .path = "c", .length = 5 },
	};
	struct storage		*s;
	uint8_t			 data[51];

	fill(data, sizeof(data), 8);
	s = storage_new_memory(f, nitems(f), 8, 0);
	cr_assert_not_null(s);
	cr_assert_eq(storage_sync(s), GT_OK);		/* nothing written */
	cr_assert_eq(storage_memory_syncs(s, 0), 0);
	cr_assert_eq(storage_write_at(s, 4, data, 20), GT_OK);	/* a, pad, b */
	cr_assert_eq(storage_read_at(s, 0, data, 8), GT_OK);	/* reads: no */
	cr_assert_eq(storage_sync(s), GT_OK);
	cr_assert_eq(storage_memory_syncs(s, 0), 1);
	cr_assert_eq(storage_memory_syncs(s, 1), 0);	/* padding: never */
	cr_assert_eq(storage_memory_syncs(s, 2), 1);
	cr_assert_eq(storage_memory_syncs(s, 3), 0);
	cr_assert_eq(storage_sync(s), GT_OK);		/* clean now */
	cr_assert_eq(storage_memory_syncs(s, 0), 1);
	cr_assert_eq(storage_memory_syncs(s, 2), 1);
	cr_assert_eq(storage_write(s, 5, 6, data, 2), GT_OK);	/* c */
	cr_assert_eq(storage_sync(s), GT_OK);
	cr_assert_eq(storage_memory_syncs(s, 0), 1);
	cr_assert_eq(storage_memory_syncs(s, 2), 1);
	cr_assert_eq(storage_memory_syncs(s, 3), 1);
	storage_free(s);
}

/*
 * On disk too, past the fd cache: files whose fd was closed meanwhile are
 * opened again to be synced, and one that cannot be is reported (and
 * tried again by the next call).
 */
Test(storage, sync_files_on_disk)
{
	enum { N = 150, LEN = 100 };
	struct storage_file	*f;
	struct storage		*s;
	uint8_t			*data, *back;
	uint32_t		 i;
	char			*p;

	f = xcalloc(N, sizeof(*f));
	for (i = 0; i < N; i++) {
		f[i].path = xasprintf("d/f%03u", i);
		f[i].length = LEN;
	}
	data = xmalloc(N * LEN);
	back = xmalloc(N * LEN);
	fill(data, N * LEN, 9);
	s = open_ok("r", f, N, 64, STORAGE_WRITE);
	cr_assert_eq(storage_write_at(s, 0, data, N * LEN), GT_OK);
	cr_assert_eq(storage_sync(s), GT_OK);
	cr_assert_eq(storage_sync(s), GT_OK);
	cr_assert_eq(storage_read_at(s, 0, back, N * LEN), GT_OK);
	cr_assert_arr_eq(back, data, N * LEN);

	/* f000 written, its fd evicted by the others, then removed. */
	cr_assert_eq(storage_write_at(s, 0, data, N * LEN), GT_OK);
	p = tpath("r/d/f000");
	cr_assert_eq(unlink(p), 0);
	free(p);
	cr_assert_eq(storage_sync(s), GT_EIO);
	cr_assert_eq(storage_sync(s), GT_EIO);		/* still pending */
	storage_free(s);

	/* Read-only: nothing to sync. */
	s = open_ok("r", f + 1, N - 1, 64, 0);
	cr_assert_eq(storage_read_at(s, 0, back, (N - 1) * LEN), GT_OK);
	cr_assert_eq(storage_sync(s), GT_OK);
	storage_free(s);
	for (i = 0; i < N; i++)
		free((char *)f[i].path);
	free(f);
	free(data);
	free(back);
}
