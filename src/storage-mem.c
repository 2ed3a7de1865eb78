/* storage-mem.c - storage back end in memory, for tests */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage-backend.h"
#include "storage-mem.h"
#include "util.h"

struct storage_mem {
	pthread_mutex_t	  lock;		/* guards data and syncs */
	uint8_t		**data;		/* per file, owned; NULL for padding */
	uint64_t	 *length;
	unsigned	 *syncs;	/* per file: sync calls */
	size_t		  nfiles;
};

static bool
mem_range_ok(const struct storage_mem *mb, size_t file, uint64_t off,
    uint64_t len)
{
	return file < mb->nfiles && off <= mb->length[file] &&
	    len <= mb->length[file] - off;
}

static enum gt_err
mem_read(void *ctx, size_t file, uint64_t off, void *buf, size_t len)
{
	struct storage_mem	*mb = ctx;

	if (!mem_range_ok(mb, file, off, len))
		return GT_ERANGE;
	pthread_mutex_lock(&mb->lock);
	if (mb->data[file] != NULL)
		memcpy(buf, mb->data[file] + off, len);
	else
		memset(buf, 0, len);
	pthread_mutex_unlock(&mb->lock);
	return GT_OK;
}

static enum gt_err
mem_writev(void *ctx, size_t file, uint64_t off, const struct iovec *iov,
    size_t n)
{
	struct storage_mem	*mb = ctx;
	uint64_t		 len = 0;
	size_t			 i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (!mem_range_ok(mb, file, off, len))
		return GT_ERANGE;
	pthread_mutex_lock(&mb->lock);
	for (i = 0; i < n && mb->data[file] != NULL; i++) {
		memcpy(mb->data[file] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	pthread_mutex_unlock(&mb->lock);
	return GT_OK;
}

static enum gt_err
mem_send(void *ctx, size_t file, uint64_t off, size_t len, int outfd,
    size_t *sent)
{
	static const uint8_t	 zeros[4096];
	struct storage_mem	*mb = ctx;
	enum gt_err		 e;

	if (!mem_range_ok(mb, file, off, len))
		return GT_ERANGE;
	pthread_mutex_lock(&mb->lock);
	if (mb->data[file] != NULL)
		e = storage_send_mem(outfd, mb->data[file] + off, len, sent);
	else
		e = storage_send_mem(outfd, zeros, MIN(len, sizeof(zeros)),
		    sent);
	pthread_mutex_unlock(&mb->lock);
	return e;
}

static enum gt_err
mem_stat(void *ctx, size_t file, uint64_t *size, int64_t *mtime_ns)
{
	struct storage_mem	*mb = ctx;

	if (file >= mb->nfiles)
		return GT_ERANGE;
	*size = mb->length[file];
	*mtime_ns = 0;
	return GT_OK;
}

static enum gt_err
mem_sync(void *ctx, size_t file)
{
	struct storage_mem	*mb = ctx;

	if (file >= mb->nfiles)
		return GT_ERANGE;
	pthread_mutex_lock(&mb->lock);
	mb->syncs[file]++;
	pthread_mutex_unlock(&mb->lock);
	return GT_OK;
}

static enum gt_err
mem_remove(void *ctx, size_t file)
{
	struct storage_mem	*mb = ctx;

	if (file >= mb->nfiles)
		return GT_ERANGE;
	return GT_OK;		/* memory files are never created */
}

static void
mem_free(void *ctx)
{
	struct storage_mem	*mb = ctx;
	size_t			 i;

	if (mb == NULL)
		return;
	for (i = 0; i < mb->nfiles; i++)
		free(mb->data[i]);
	free(mb->data);
	free(mb->length);
	free(mb->syncs);
	pthread_mutex_destroy(&mb->lock);
	free(mb);
}

const struct storage_ops storage_mem_ops = {
	.read = mem_read,
	.writev = mem_writev,
	.send = mem_send,
	.stat = mem_stat,
	.sync = mem_sync,
	.remove = mem_remove,
	.free = mem_free,
};

struct storage_mem *
storage_mem_new(const struct storage_view *v)
{
	struct storage_mem	*mb;
	size_t			 i;

	mb = xcalloc(1, sizeof(*mb));
	pthread_mutex_init(&mb->lock, NULL);
	mb->nfiles = v->nfiles;
	mb->data = xcalloc(v->nfiles, sizeof(*mb->data));
	mb->length = xcalloc(v->nfiles, sizeof(*mb->length));
	mb->syncs = xcalloc(v->nfiles, sizeof(*mb->syncs));
	for (i = 0; i < v->nfiles; i++) {
		mb->length[i] = v->files[i].length;
		if (!v->files[i].pad && v->files[i].length > 0)
			mb->data[i] = xcalloc(1, (size_t)v->files[i].length);
	}
	return mb;
}

unsigned
storage_mem_syncs(struct storage_mem *mb, size_t file)
{
	unsigned	n;

	if (file >= mb->nfiles)
		return 0;
	pthread_mutex_lock(&mb->lock);
	n = mb->syncs[file];
	pthread_mutex_unlock(&mb->lock);
	return n;
}
