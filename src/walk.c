/* walk.c - the files under a path, in mktorrent's order, for `create` */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metainfo.h"		/* MI_MAX_FILES */
#include "util.h"
#include "walk.h"

#define WALK_DEPTH	256		/* nested folders */

struct walk {
	const char			*top;
	bool				 skip_special;
	char				*err;
	struct walk_entry	*v;
	size_t				 n;
	size_t				 cap;
};

static const char *
walk_special_name(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

static enum gt_err
walk_add(struct walk *w, char *rel, uint64_t length)
{
	if (w->n >= MI_MAX_FILES) {
		(void)gt_fail(w->err, GT_EIO, "%s: more than %u files", w->top,
		    MI_MAX_FILES);
		free(rel);
		return GT_ETOOBIG;
	}
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 64 : w->cap * 2;
		w->v = xreallocarray(w->v, w->cap, sizeof(*w->v));
	}
	w->v[w->n].path = rel;
	w->v[w->n].length = length;
	w->n++;
	return GT_OK;
}

/* Reads the names in folder dfd (not closed). */
static enum gt_err
walk_names(struct walk *w, int dfd, const char *rel, char ***out,
    size_t *nout)
{
	struct dirent	 *de;
	DIR		 *d;
	char		**v = NULL;
	size_t		  n = 0, cap = 0;
	int		  fd;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		(void)gt_fail(w->err, GT_EIO, "%s/%s: %s", w->top, rel,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return GT_EIO;
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno != 0) {
		(void)gt_fail(w->err, GT_EIO, "%s/%s: %s", w->top, rel,
		    strerror(errno));
		closedir(d);
		while (n > 0)
			free(v[--n]);
		free(v);
		return GT_EIO;
	}
	closedir(d);
	*out = v;
	*nout = n;
	return GT_OK;
}

/* Walks folder dfd (closed here), whose path relative to top is rel. */
static enum gt_err
walk_dir(struct walk *w, int dfd, const char *rel, unsigned depth)
{
	struct stat	  st;
	char		**names = NULL, *sub;
	size_t		  n = 0, i;
	enum gt_err	  e;
	int		  nfd;

	if ((e = walk_names(w, dfd, rel, &names, &n)) != GT_OK) {
		close(dfd);
		return e;
	}
	for (i = 0; i < n && e == GT_OK; i++) {
		sub = *rel == '\0' ? xstrdup(names[i]) :
		    xasprintf("%s/%s", rel, names[i]);
		if (strlen(sub) > MI_MAX_PATH) {
			e = gt_fail(w->err, GT_ETOOBIG, "%s/%.64s...: path too "
			    "long", w->top, sub);
		} else if (fstatat(dfd, names[i], &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			e = gt_fail(w->err, GT_EIO, "%s/%s: %s", w->top, sub,
			    strerror(errno));
		} else if (S_ISREG(st.st_mode)) {
			e = walk_add(w, sub, (uint64_t)st.st_size);
			sub = NULL;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= WALK_DEPTH) {
				e = gt_fail(w->err, GT_EDEPTH, "%s/%s: folders "
				    "nested more than %d deep", w->top, sub,
				    WALK_DEPTH);
			} else if ((nfd = openat(dfd, names[i], O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
				e = gt_fail(w->err, GT_EIO, "%s/%s: %s",
				    w->top, sub, strerror(errno));
			} else
				e = walk_dir(w, nfd, sub, depth + 1);
		} else if (S_ISLNK(st.st_mode))
			log_warn("%s/%s: skipping symbolic link", w->top, sub);
		else if (w->skip_special)
			log_warn("%s/%s: skipping %s", w->top, sub,
			    walk_special_name(st.st_mode));
		else {
			e = gt_fail(w->err, GT_EINVAL, "%s/%s: is %s (not a "
			    "regular file)", w->top, sub,
			    walk_special_name(st.st_mode));
		}
		free(sub);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(dfd);
	return e;
}

static int
walk_cmp_entry(const void *a, const void *b)
{
	const struct walk_entry	*x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* The last component of path, ignoring trailing slashes. */
static char *
walk_basename(const char *path)
{
	size_t	end = strlen(path), start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return xstrndup(path + start, end - start);
}

enum gt_err
walk_tree(const char *path, bool skip_special,
    struct walk_entry **out, size_t *n, bool *is_dir, char *err)
{
	struct walk	 w = { .skip_special = skip_special, .err = err };
	struct stat	 st;
	enum gt_err	 e = GT_OK;
	char		*name, *top;
	size_t		 len;
	int		 dfd, saved;

	if (lstat(path, &st) == -1) {
		saved = errno;
		(void)gt_fail(err, GT_EIO, "%s: %s", path, strerror(saved));
		return saved == ENOENT ? GT_ENOENT : GT_EIO;
	}
	if (S_ISLNK(st.st_mode)) {
		/* Named by the user: a folder may be reached through it. */
		if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
			return gt_fail(err, GT_EINVAL, "%s: is a symbolic "
			    "link (name its target instead)", path);
		}
	}
	if (S_ISREG(st.st_mode)) {
		name = walk_basename(path);
		if (*name == '\0' || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0) {
			free(name);
			return gt_fail(err, GT_EINVAL, "%s: no usable file "
			    "name", path);
		}
		walk_add(&w, name, (uint64_t)st.st_size);
		*out = w.v;
		*n = w.n;
		*is_dir = false;
		return GT_OK;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((dfd = open(path, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			return gt_fail(err, GT_EIO, "%s: %s", path,
			    strerror(errno));
		}
		/* "dir/" names its files "dir/x", not "dir//x". */
		len = strlen(path);
		while (len > 1 && path[len - 1] == '/')
			len--;
		top = xstrndup(path, len);
		w.top = top;
		e = walk_dir(&w, dfd, "", 0);
		free(top);
		if (e != GT_OK) {
			walk_free(w.v, w.n);
			return e;
		}
		if (w.n > 1)
			qsort(w.v, w.n, sizeof(*w.v), walk_cmp_entry);
		*out = w.v;
		*n = w.n;
		*is_dir = true;
		return GT_OK;
	}
	if (!skip_special) {
		return gt_fail(err, GT_EINVAL, "%s: is %s (not a regular "
		    "file)", path, walk_special_name(st.st_mode));
	}
	log_warn("%s: skipping %s", path, walk_special_name(st.st_mode));
	*out = NULL;
	*n = 0;
	*is_dir = false;
	return GT_OK;
}

void
walk_free(struct walk_entry *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
