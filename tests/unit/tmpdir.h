/* tmpdir.h - a temporary folder per test, for the tests that touch files */
#ifndef GT_TEST_TMPDIR_H
#define GT_TEST_TMPDIR_H

#include <criterion/criterion.h>

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static char	tmp[64];		/* this test's folder */

static inline void
tmp_setup(void)
{
	log_set_level(LOG_ERROR);	/* the warnings here are expected */
	snprintf(tmp, sizeof(tmp), "/tmp/gt-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static inline int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static inline void
tmp_teardown(void)
{
	if (tmp[0] != '\0')
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

static inline char *
tpath(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static inline void
put_file(const char *rel, const void *data, size_t len)
{
	char	*p = tpath(rel);
	FILE	*f;

	f = fopen(p, "wb");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(p);
}

#endif /* GT_TEST_TMPDIR_H */
