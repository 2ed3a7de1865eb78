/* test-statefile.c - state files written whole, atomically, off the loop */
#include <criterion/criterion.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "statefile.h"
#include "storage.h"
#include "util.h"

#include "tmpdir.h"

TestSuite(statefile, .init = tmp_setup, .fini = tmp_teardown);

/* The whole of path, NUL-terminated; *len its size. */
static char *
slurp(const char *path, size_t *len)
{
	char	*buf = xmalloc(4096);
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_RDONLY);
	cr_assert_neq(fd, -1, "%s: %s", path, strerror(errno));
	n = read(fd, buf, 4095);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	*len = (size_t)n;
	close(fd);
	return buf;
}

static bool
exists(const char *path)
{
	struct stat	st;

	return lstat(path, &st) == 0;
}

Test(statefile, writes_and_replaces_whole)
{
	char	*path = tpath("rec"), *tmpf = tpath("rec.tmp"), *got;
	char	 err[GT_ERRLEN];
	size_t	 len;

	cr_assert_eq(statefile_write(NULL, path, (const uint8_t *)"first", 5,
	    err), GT_OK, "%s", err);
	got = slurp(path, &len);
	cr_assert_str_eq(got, "first");
	free(got);
	cr_assert_eq(statefile_write(NULL, path, (const uint8_t *)"2nd", 3,
	    err), GT_OK, "%s", err);
	got = slurp(path, &len);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(got, "2nd");
	cr_assert(!exists(tmpf), "the temporary file is gone");
	free(got);
	free(path);
	free(tmpf);
}

Test(statefile, error_names_the_file_and_keeps_the_old_one)
{
	char	*path = tpath("no/such/folder/rec"), err[GT_ERRLEN];

	cr_assert_eq(statefile_write(NULL, path, (const uint8_t *)"x", 1,
	    err), GT_EIO);
	cr_assert_not_null(strstr(err, path), "%s", err);
	cr_assert_not_null(strstr(err, "No such file"), "%s", err);
	free(path);
}

Test(statefile, syncs_the_data_first)
{
	struct storage_file	 f[2] = {
		{ .path = "a", .length = 100 }, { .path = "b", .length = 100 },
	};
	struct storage		*st = storage_new_memory(f, 2, 64, 0);
	char			*path = tpath("rec"), err[GT_ERRLEN];

	cr_assert_eq(storage_write_at(st, 120, "data", 4), GT_OK);
	cr_assert_eq(statefile_write(st, path, (const uint8_t *)"r", 1,
	    err), GT_OK, "%s", err);
	cr_assert_eq(storage_memory_syncs(st, 0), 0, "a was not written");
	cr_assert_eq(storage_memory_syncs(st, 1), 1, "b was synced");
	storage_free(st);
	free(path);
}

Test(statefile, background_writes_one_at_a_time)
{
	struct statefile	*sf = statefile_new();
	char			*path = tpath("rec"), *got, err[GT_ERRLEN];
	size_t			 len;
	int			 i;

	for (i = 0; i < 20; i++) {
		char	*data = xasprintf("record %d", i);

		if (!statefile_start(sf, NULL, path, (uint8_t *)data,
		    strlen(data)))
			cr_assert(i > 0, "the first write starts");
		if (i % 5 == 4)
			cr_assert_eq(statefile_wait(sf, err), GT_OK, "%s",
			    err);
	}
	cr_assert_eq(statefile_wait(sf, err), GT_OK);
	cr_assert(!statefile_busy(sf));
	got = slurp(path, &len);
	cr_assert_eq(strncmp(got, "record ", 7), 0, "%s", got);
	free(got);
	/* the last one started after a wait always lands */
	cr_assert(statefile_start(sf, NULL, path, (uint8_t *)xstrdup("last"),
	    4));
	cr_assert_eq(statefile_wait(sf, err), GT_OK);
	got = slurp(path, &len);
	cr_assert_str_eq(got, "last");
	free(got);
	statefile_free(sf);
	statefile_free(NULL);
	free(path);
}

Test(statefile, background_error_is_reported_once)
{
	struct statefile	*sf = statefile_new();
	char			*path = tpath("none/rec"), err[GT_ERRLEN];

	cr_assert(statefile_start(sf, NULL, path, (uint8_t *)xstrdup("x"),
	    1));
	cr_assert_eq(statefile_wait(sf, err), GT_EIO);
	cr_assert_not_null(strstr(err, "none/rec"), "%s", err);
	cr_assert_eq(statefile_wait(sf, err), GT_OK, "said once");
	statefile_free(sf);
	free(path);
}

Test(statefile, read_whole_capped_never_through_a_link)
{
	char		*path = tpath("rec"), *link = tpath("link");
	char		 err[GT_ERRLEN];
	uint8_t		*data;
	size_t		 len;

	cr_assert_eq(statefile_read(path, 100, &data, &len, err), GT_ENOENT);
	cr_assert_eq(statefile_write(NULL, path, (const uint8_t *)"hello", 5,
	    err), GT_OK);
	cr_assert_eq(statefile_read(path, 100, &data, &len, err), GT_OK, "%s",
	    err);
	cr_assert_eq(len, 5);
	cr_assert_str_eq((char *)data, "hello");
	free(data);
	cr_assert_eq(statefile_read(path, 4, &data, &len, err), GT_ETOOBIG);
	cr_assert_not_null(strstr(err, "over 4 bytes"), "%s", err);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(statefile_read(link, 100, &data, &len, err), GT_EIO);
	cr_assert_eq(statefile_read(tmp, 100, &data, &len, err), GT_EIO,
	    "a folder");
	cr_assert_not_null(strstr(err, "not a regular file"), "%s", err);
	free(path);
	free(link);
}
