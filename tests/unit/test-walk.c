/* test-walk.c - the directory walk behind `create` */
#include <criterion/criterion.h>

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metainfo.h"		/* GT_ERRLEN */
#include "walk.h"
#include "util.h"

#include "tmpdir.h"

static void
mkdir_rel(const char *rel)
{
	char	*p = tpath(rel);

	cr_assert_eq(mkdir(p, 0777), 0, "%s: %s", p, strerror(errno));
	free(p);
}

TestSuite(walk, .init = tmp_setup, .fini = tmp_teardown);

static void
check_walk(const char *rel, bool skip, const char *const *want,
    const uint64_t *lens, size_t nwant, bool want_dir)
{
	struct walk_entry	*v = NULL;
	size_t				 n = 0, i;
	bool				 is_dir;
	char				 err[GT_ERRLEN] = "", *p = tpath(rel);
	enum gt_err			 e;

	e = walk_tree(p, skip, &v, &n, &is_dir, err);
	cr_assert_eq(e, GT_OK, "%s: %s", gt_strerror(e), err);
	cr_assert_eq(is_dir, want_dir);
	cr_assert_eq(n, nwant, "%zu entries, want %zu", n, nwant);
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(v[i].path, want[i]);
		cr_assert_eq(v[i].length, lens[i], "%s", want[i]);
	}
	walk_free(v, n);
	free(p);
}

Test(walk, order_like_mktorrent)
{
	static const char *const want[] = {
		".hidden", "B", "a-c/x", "a.d", "a/b", "a/z/deep", "ab",
	};
	static const uint64_t	 lens[] = { 1, 2, 3, 4, 5, 6, 0 };
	char			*a, *b;

	mkdir_rel("d");
	mkdir_rel("d/a");
	mkdir_rel("d/a/z");
	mkdir_rel("d/a-c");
	mkdir_rel("d/empty");
	put_file("d/.hidden", "1", 1);
	put_file("d/B", "22", 2);
	put_file("d/a-c/x", "333", 3);
	put_file("d/a.d", "4444", 4);
	put_file("d/a/b", "55555", 5);
	put_file("d/a/z/deep", "666666", 6);
	put_file("d/ab", "", 0);
	mkdir_rel("outside");
	put_file("outside/secret", "s", 1);
	a = tpath("outside");
	b = tpath("d/link-dir");
	cr_assert_eq(symlink(a, b), 0);
	free(a);
	free(b);
	b = tpath("d/link-file");
	cr_assert_eq(symlink("ab", b), 0);
	free(b);

	check_walk("d", false, want, lens, nitems(want), true);
	check_walk("d/", false, want, lens, nitems(want), true);
}

Test(walk, single_file_and_empty_dir)
{
	static const char *const want[] = { "f.bin" };
	static const uint64_t	 lens[] = { 3 };
	struct walk_entry	*v;
	size_t				 n;
	bool				 d;
	char				 err[GT_ERRLEN], *p;

	put_file("f.bin", "abc", 3);
	check_walk("f.bin", false, want, lens, 1, false);
	mkdir_rel("e");
	mkdir_rel("e/sub");
	check_walk("e", false, NULL, NULL, 0, true);
	p = tpath("nothing");
	cr_assert_eq(walk_tree(p, false, &v, &n, &d, err), GT_ENOENT);
	cr_assert(strstr(err, "nothing") != NULL);
	free(p);
}

Test(walk, special_files)
{
	static const char *const want[] = { "a", "z" };
	static const uint64_t	 lens[] = { 1, 1 };
	struct walk_entry	*v = NULL;
	size_t				 n = 0;
	bool				 d;
	char				 err[GT_ERRLEN] = "", *p;

	mkdir_rel("d");
	put_file("d/a", "1", 1);
	put_file("d/z", "2", 1);
	p = tpath("d/pipe");
	cr_assert_eq(mkfifo(p, 0600), 0);
	free(p);

	p = tpath("d");
	cr_assert_eq(walk_tree(p, false, &v, &n, &d, err), GT_EINVAL);
	cr_assert_null(v);
	cr_assert(strstr(err, "d/pipe: is a FIFO (not a regular file)") !=
	    NULL, "%s", err);
	free(p);
	check_walk("d", true, want, lens, 2, true);

	/* The FIFO named directly. */
	p = tpath("d/pipe");
	cr_assert_eq(walk_tree(p, false, &v, &n, &d, err), GT_EINVAL);
	cr_assert(strstr(err, "is a FIFO") != NULL, "%s", err);
	cr_assert_eq(walk_tree(p, true, &v, &n, &d, err), GT_OK);
	cr_assert_eq(n, 0);
	walk_free(v, n);
	free(p);
}

Test(walk, depth_cap)
{
	struct walk_entry	*v = NULL;
	size_t				 n = 0, i;
	bool				 d;
	char				 err[GT_ERRLEN] = "", *p, *q;
	int				 fd, nfd;

	mkdir_rel("deep");
	p = tpath("deep");
	fd = open(p, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(fd, 0);
	for (i = 0; i < 300; i++) {
		cr_assert_eq(mkdirat(fd, "d", 0777), 0);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		cr_assert_geq(nfd, 0);
		close(fd);
		fd = nfd;
	}
	close(fd);
	cr_assert_neq(walk_tree(p, false, &v, &n, &d, err), GT_OK);
	cr_assert_null(v);
	q = strstr(err, "deep");
	cr_assert_not_null(q, "%s", err);
	free(p);
}
