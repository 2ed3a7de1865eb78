/*
 * torrent-files.c - which files of the torrent are wanted, and how much
 *
 * The options name files by index ranges and globs (torrent_opts); each
 * file gets a priority (0 skipped, 1 low, 4 normal, 7 high), each piece
 * the highest of the files it holds bytes of (padding aside), and the
 * picker takes it from there.  A skipped file is never created: the
 * storage parks what shared pieces bring of it (storage.h).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "filemap.h"
#include "log.h"
#include "metainfo.h"
#include "picker.h"
#include "storage.h"
#include "torrent-int.h"
#include "util.h"

#define PRIO_LOW	1
#define PRIO_HIGH	PICKER_PRIO_MAX

static bool
in_ranges(const struct torrent_range *r, size_t n, size_t i)
{
	size_t	k;

	for (k = 0; k < n; k++)
		if (i >= r[k].first && i <= r[k].last)
			return true;
	return false;
}

/* The file's path inside the torrent (without the torrent's name). */
static const char *
inner_path(const struct metainfo *m, const char *path)
{
	size_t	n = strlen(m->name);

	if (m->multi_file && strncmp(path, m->name, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

static bool
excluded(const struct torrent *t, const char *path)
{
	const char	*in = inner_path(t->m, path), *base;
	size_t		 k;

	base = strrchr(in, '/');
	base = base != NULL ? base + 1 : in;
	for (k = 0; k < t->o.nexclude; k++)
		if (fnmatch(t->o.exclude[k], in, 0) == 0 ||
		    fnmatch(t->o.exclude[k], base, 0) == 0)
			return true;
	return false;
}

/*
 * Each file's priority from the options (t->fprio, NULL when every file
 * is wanted at the normal priority) and t->skip for the storage.
 */
void
torrent_files_choose(struct torrent *t)
{
	const struct metainfo	*m = t->m;
	size_t			 i, nskip = 0, nwant = 0;
	uint8_t			 pr;
	bool			 plain = true;

	free(t->fprio);
	free(t->skip);
	t->fprio = xcalloc(m->nfiles > 0 ? m->nfiles : 1, 1);
	t->skip = xcalloc(m->nfiles > 0 ? m->nfiles : 1, sizeof(*t->skip));
	for (i = 0; i < m->nfiles; i++) {
		pr = PICKER_PRIO_NORMAL;
		if (t->o.nselect > 0 && !in_ranges(t->o.select,
		    t->o.nselect, i))
			pr = PICKER_PRIO_SKIP;
		else if (excluded(t, m->files[i].path))
			pr = PICKER_PRIO_SKIP;
		else if (in_ranges(t->o.high, t->o.nhigh, i))
			pr = PRIO_HIGH;
		else if (in_ranges(t->o.low, t->o.nlow, i))
			pr = PRIO_LOW;
		if (m->files[i].attr & MI_ATTR_PAD)
			pr = PICKER_PRIO_NORMAL;	/* never on disk */
		else if (pr == PICKER_PRIO_SKIP)
			nskip++;
		else
			nwant++;
		t->fprio[i] = pr;
		t->skip[i] = pr == PICKER_PRIO_SKIP;
		plain &= pr == PICKER_PRIO_NORMAL;
	}
	if (nskip > 0)
		log_info("%s: %zu of %zu files selected", t->name, nwant,
		    nwant + nskip);
	if (plain) {
		free(t->fprio);
		free(t->skip);
		t->fprio = NULL;
		t->skip = NULL;
	}
}

/* The pieces' priorities from the files' (once the picker exists). */
void
torrent_files_apply(struct torrent *t)
{
	const struct metainfo	*m = t->m;
	const struct filemap	*fm = storage_filemap(t->st);
	uint8_t			*pp;
	uint32_t		 first, count, p;
	size_t			 i;

	picker_set_sequential(t->pk, t->o.sequential);
	if (t->fprio == NULL)
		return;
	pp = xcalloc(m->npieces, 1);	/* 0: no wanted file there */
	for (i = 0; i < m->nfiles; i++) {
		if (m->files[i].attr & MI_ATTR_PAD)
			continue;
		filemap_file_pieces(fm, i, &first, &count);
		for (p = first; p < first + count; p++)
			pp[p] = MAX(pp[p], t->fprio[i]);
	}
	for (p = 0; p < m->npieces; p++)
		if (pp[p] != PICKER_PRIO_NORMAL)
			picker_set_priority(t->pk, p, pp[p]);
	free(pp);
}

/* The file's priority for the resume record. */
uint8_t
torrent_file_priority(const struct torrent *t, size_t file)
{
	return t->fprio != NULL ? t->fprio[file] : PICKER_PRIO_NORMAL;
}
