/* fuzz-metainfo.c - libFuzzer target for .torrent parsing */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "metainfo.h"
#include "util.h"

#include "fuzz.h"

/* Relative, non-empty, no "", "." or ".." component, within the caps. */
static void
check_path(const char *p)
{
	const char	*q;
	size_t		 n;

	CHECK(p != NULL && p[0] != '\0' && p[0] != '/');
	CHECK(strlen(p) <= MI_MAX_PATH);
	for (;;) {
		q = strchr(p, '/');
		n = q != NULL ? (size_t)(q - p) : strlen(p);
		CHECK(n > 0 && n <= MI_MAX_COMPONENT);
		CHECK(!(n == 1 && p[0] == '.'));
		CHECK(!(n == 2 && p[0] == '.' && p[1] == '.'));
		CHECK(memchr(p, '\\', n) == NULL);
		if (q == NULL)
			break;
		p = q + 1;
	}
}

/* Bytewise order with '/' lowest: a folder's contents follow it. */
static int
path_cmp(const void *a, const void *b)
{
	const unsigned char	*x = *(const unsigned char *const *)a;
	const unsigned char	*y = *(const unsigned char *const *)b;
	unsigned		 cx, cy;

	for (;; x++, y++) {
		cx = *x == '/' ? 1 : *x;
		cy = *y == '/' ? 1 : *y;
		if (cx != cy || cx == 0)
			return (int)cx - (int)cy;
	}
}

/* No two files at one path, no file where a folder is (padding aside). */
static void
check_unique(const struct metainfo *m)
{
	const char	**v;
	size_t		  i, n = 0, len;

	v = xcalloc(m->nfiles, sizeof(*v));
	for (i = 0; i < m->nfiles; i++) {
		if (!(m->files[i].attr & MI_ATTR_PAD))
			v[n++] = m->files[i].path;
	}
	qsort(v, n, sizeof(*v), path_cmp);
	for (i = 0; i + 1 < n; i++) {
		len = strlen(v[i]);
		CHECK(strcmp(v[i], v[i + 1]) != 0);
		CHECK(!(strncmp(v[i], v[i + 1], len) == 0 &&
		    v[i + 1][len] == '/'));
	}
	free(v);
}

static void
check(const struct metainfo *m)
{
	uint8_t		h[SHA256_LEN];
	uint64_t	off = 0, sum = 0;
	size_t		i, j, nlen;

	sha1(m->info_raw, m->info_len, h);
	CHECK(memcmp(h, m->info_hash, SHA1_LEN) == 0);
	if (m->has_v2) {
		sha256(m->info_raw, m->info_len, h);
		CHECK(memcmp(h, m->info_hash_v2, SHA256_LEN) == 0);
	}
	CHECK(m->name != NULL && strchr(m->name, '/') == NULL);
	check_path(m->name);
	nlen = strlen(m->name);
	CHECK(m->piece_length >= 1 && m->piece_length <= MI_MAX_PIECE_LENGTH);
	CHECK(m->nfiles >= 1 && m->nfiles <= MI_MAX_FILES);
	CHECK(m->multi_file || m->nfiles == 1);
	for (i = 0; i < m->nfiles; i++) {
		const struct mi_file	*f = &m->files[i];

		check_path(f->path);
		if (m->multi_file)
			CHECK(strncmp(f->path, m->name, nlen) == 0 &&
			    f->path[nlen] == '/');
		else
			CHECK(strcmp(f->path, m->name) == 0);
		CHECK(f->offset == off);
		CHECK(f->length <= UINT64_MAX - off);
		off += f->length;
		if (f->attr & MI_ATTR_SYMLINK) {
			CHECK(f->symlink != NULL && f->length == 0);
			check_path(f->symlink);
		} else
			CHECK(f->symlink == NULL);
	}
	check_unique(m);
	CHECK(off == m->total_length && off > 0);
	CHECK(m->npieces >= 1 && m->npieces <= MI_MAX_PIECES);
	CHECK(m->npieces == m->total_length / m->piece_length +
	    (m->total_length % m->piece_length != 0));
	for (i = 0; i < m->npieces; i++) {
		CHECK(metainfo_piece_size(m, (uint32_t)i) >= 1);
		sum += metainfo_piece_size(m, (uint32_t)i);
		(void)metainfo_piece_hash(m, (uint32_t)i);
	}
	CHECK(sum == m->total_length);
	for (i = 0; i < m->ntiers; i++) {
		CHECK(m->tiers[i].n > 0);
		for (j = 0; j < m->tiers[i].n; j++)
			CHECK(m->tiers[i].urls[j][0] != '\0' &&
			    strpbrk(m->tiers[i].urls[j], " \t\r\n") == NULL);
	}
	for (i = 0; i < m->nweb_seeds; i++)
		CHECK(m->web_seeds[i][0] != '\0');
	for (i = 0; i < m->nnodes; i++)
		CHECK(m->nodes[i].host[0] != '\0' && m->nodes[i].port > 0);
}

static void
check_err(const char *err)
{
	size_t	len;

	len = strnlen(err, GT_ERRLEN);
	CHECK(len > 0 && len < GT_ERRLEN);
	CHECK(memchr(err, '\n', len) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metainfo	m;
	char		err[GT_ERRLEN];

	memset(err, 0, sizeof(err));
	if (metainfo_parse(&m, data, size, err) == GT_OK) {
		check(&m);
		metainfo_clear(&m);
	} else
		check_err(err);

	memset(err, 0, sizeof(err));
	if (metainfo_parse_info(&m, data, size, err) == GT_OK) {
		check(&m);
		CHECK(m.ntiers == 0 && m.comment == NULL);
		metainfo_clear(&m);
	} else
		check_err(err);
	return 0;
}
