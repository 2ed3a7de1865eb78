/* makemeta.c - build a .torrent from a file list and its piece hashes */
#include <string.h>

#include "bencode.h"
#include "crypto.h"
#include "makemeta.h"

#define MAKEMETA_MIN_PIECE	(1ULL << 14)
#define MAKEMETA_MAX_PIECE	(1ULL << 28)
#define MAKEMETA_AUTO_MIN	(1ULL << 15)
#define MAKEMETA_AUTO_MAX	(1ULL << 24)
#define MAKEMETA_AUTO_PIECES	2048	/* at most this many, if possible */

/*
 * The smallest power of two in [32 KiB, 16 MiB] that keeps the piece count
 * at or below 2048, so it lands in (1024, 2048] between the clamps.  Like
 * libtorrent, qBittorrent and Transmission it scales with the size (mktorrent
 * always uses 256 KiB unless told):
 *
 *	total size		piece length	pieces
 *	<= 64 MiB		32 KiB		<= 2048
 *	<= 128 MiB		64 KiB		1025 .. 2048
 *	<= 256 MiB		128 KiB		1025 .. 2048
 *	<= 512 MiB		256 KiB		1025 .. 2048
 *	<= 1 GiB		512 KiB		1025 .. 2048
 *	<= 2 GiB		1 MiB		1025 .. 2048
 *	<= 4 GiB		2 MiB		1025 .. 2048
 *	<= 8 GiB		4 MiB		1025 .. 2048
 *	<= 16 GiB		8 MiB		1025 .. 2048
 *	larger			16 MiB		> 1024
 */
uint64_t
makemeta_auto_piece_length(uint64_t total)
{
	uint64_t	pl = MAKEMETA_AUTO_MIN;

	while (pl < MAKEMETA_AUTO_MAX && total / pl +
	    (total % pl != 0) > MAKEMETA_AUTO_PIECES)
		pl <<= 1;
	return pl;
}

/* A relative path of non-empty components other than "." and "..". */
static bool
makemeta_path_ok(const char *path)
{
	const char	*p = path, *slash;
	size_t		 len;

	for (;;) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
		p = slash + 1;
	}
}

static bool
makemeta_name_ok(const char *name)
{
	return name != NULL && strchr(name, '/') == NULL &&
	    makemeta_path_ok(name);
}

static enum gt_err
makemeta_check(const struct makemeta_opts *o,
    const struct makemeta_file *files, size_t nfiles,
    const uint8_t *hashes, size_t npieces, size_t *nurls)
{
	uint64_t	total = 0, want;
	size_t		i, j;

	if (!makemeta_name_ok(o->name))
		return GT_EINVAL;
	if (o->piece_length < MAKEMETA_MIN_PIECE ||
	    o->piece_length > MAKEMETA_MAX_PIECE ||
	    (o->piece_length & (o->piece_length - 1)) != 0)
		return GT_EINVAL;
	if (nfiles == 0 || (o->single_file && nfiles != 1))
		return GT_EINVAL;
	for (i = 0; i < nfiles; i++) {
		if (!o->single_file && (files[i].path == NULL ||
		    !makemeta_path_ok(files[i].path)))
			return GT_EINVAL;
		if (files[i].length > UINT64_MAX - total)
			return GT_ERANGE;
		total += files[i].length;
	}
	if (total > INT64_MAX)
		return GT_ERANGE;
	if (total == 0)
		return GT_EINVAL;		/* nothing to share */
	want = total / o->piece_length + (total % o->piece_length != 0);
	if (want != npieces || hashes == NULL ||
	    npieces > SIZE_MAX / SHA1_LEN)
		return GT_EINVAL;

	*nurls = 0;
	if (o->ntiers > 0 && o->tiers == NULL)
		return GT_EINVAL;
	for (i = 0; i < o->ntiers; i++) {
		if (o->tiers[i] == NULL)
			return GT_EINVAL;
		for (j = 0; o->tiers[i][j] != NULL; j++) {
			if (o->tiers[i][j][0] == '\0')
				return GT_EINVAL;
			(*nurls)++;
		}
	}
	if (o->nweb_seeds > 0 && o->web_seeds == NULL)
		return GT_EINVAL;
	for (i = 0; i < o->nweb_seeds; i++) {
		if (o->web_seeds[i] == NULL || o->web_seeds[i][0] == '\0')
			return GT_EINVAL;
	}
	return GT_OK;
}

/* ["a", "b", "c"] from "a/b/c". */
static struct bval *
makemeta_path_list(const char *path)
{
	struct bval	*list = bval_list();
	const char	*p = path, *slash;

	while ((slash = strchr(p, '/')) != NULL) {
		bval_list_add(list, bval_str(p, (size_t)(slash - p)));
		p = slash + 1;
	}
	bval_list_add(list, bval_cstr(p));
	return list;
}

static struct bval *
makemeta_info(const struct makemeta_opts *o,
    const struct makemeta_file *files, size_t nfiles,
    const uint8_t *hashes, size_t npieces)
{
	struct bval	*info = bval_dict(), *list, *f;
	size_t		 i;

	bval_dict_set(info, "name", bval_cstr(o->name));
	bval_dict_set(info, "piece length",
	    bval_int((int64_t)o->piece_length));
	bval_dict_set(info, "pieces", bval_str(hashes, npieces * SHA1_LEN));
	if (o->single_file)
		bval_dict_set(info, "length",
		    bval_int((int64_t)files[0].length));
	else {
		list = bval_list();
		for (i = 0; i < nfiles; i++) {
			f = bval_dict();
			bval_dict_set(f, "length",
			    bval_int((int64_t)files[i].length));
			bval_dict_set(f, "path",
			    makemeta_path_list(files[i].path));
			bval_list_add(list, f);
		}
		bval_dict_set(info, "files", list);
	}
	if (o->private)
		bval_dict_set(info, "private", bval_int(1));
	if (o->source != NULL)
		bval_dict_set(info, "source", bval_cstr(o->source));
	return info;
}

/* announce, and announce-list when there is more than one URL (mktorrent). */
static void
makemeta_trackers(struct bval *top, const struct makemeta_opts *o,
    size_t nurls)
{
	struct bval	*tiers, *tier;
	size_t		 i, j;

	if (nurls == 0)
		return;
	for (i = 0; o->tiers[i][0] == NULL; i++)
		;			/* the first non-empty tier */
	bval_dict_set(top, "announce", bval_cstr(o->tiers[i][0]));
	if (nurls == 1)
		return;
	tiers = bval_list();
	for (i = 0; i < o->ntiers; i++) {
		if (o->tiers[i][0] == NULL)
			continue;
		tier = bval_list();
		for (j = 0; o->tiers[i][j] != NULL; j++)
			bval_list_add(tier, bval_cstr(o->tiers[i][j]));
		bval_list_add(tiers, tier);
	}
	bval_dict_set(top, "announce-list", tiers);
}

enum gt_err
makemeta_build(const struct makemeta_opts *o,
    const struct makemeta_file *files, size_t nfiles,
    const uint8_t *hashes, size_t npieces, struct buf *out)
{
	struct bval	*top, *seeds;
	size_t		 i, nurls;
	enum gt_err	 e;

	if ((e = makemeta_check(o, files, nfiles, hashes, npieces,
	    &nurls)) != GT_OK)
		return e;

	top = bval_dict();
	makemeta_trackers(top, o, nurls);
	if (o->comment != NULL)
		bval_dict_set(top, "comment", bval_cstr(o->comment));
	if (o->created_by != NULL)
		bval_dict_set(top, "created by", bval_cstr(o->created_by));
	if (o->has_date)
		bval_dict_set(top, "creation date", bval_int(o->creation_date));
	bval_dict_set(top, "info",
	    makemeta_info(o, files, nfiles, hashes, npieces));
	if (o->nweb_seeds == 1)
		bval_dict_set(top, "url-list", bval_cstr(o->web_seeds[0]));
	else if (o->nweb_seeds > 1) {
		seeds = bval_list();
		for (i = 0; i < o->nweb_seeds; i++)
			bval_list_add(seeds, bval_cstr(o->web_seeds[i]));
		bval_dict_set(top, "url-list", seeds);
	}
	e = bencode_encode(top, out);
	bval_free(top);
	return e;
}
