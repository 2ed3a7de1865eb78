/* storage-hash.h - hashing every piece of a storage on several threads */
#ifndef GT_STORAGE_HASH_H
#define GT_STORAGE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"

struct storage_view;

/* How storage_hash_all() runs (see storage.h). */
struct storage_hash_opts {
	unsigned	  nthreads;	/* 0: one per core */
	bool		  check_changes; /* stop if a file's size or mtime
					    changes */
	/*
	 * The piece hashes the data should have (npieces * SHA1_LEN bytes):
	 * ok[i] then also says that piece i matches, and the hashes array
	 * may be NULL (no second copy of every hash: 40 MiB at 2^21 pieces).
	 */
	const uint8_t	 *expected;
	/* Called from one thread at a time with the bytes hashed so far. */
	void		(*progress)(void *arg, uint64_t done, uint64_t total);
	void		 *arg;
};

/*
 * storage_hash_all() without the error text: hashes v's files where the
 * page cache holds them (the ops' map), else reads them through its ops
 * with large preads into per-thread buffers.  On GT_ECHANGED, *changed is
 * the file that changed.
 */
enum gt_err	 storage_hash_run(const struct storage_view *v,
		    const struct storage_hash_opts *, uint8_t *hashes,
		    bool *ok, size_t *changed);

/*
 * SHA-1 of n whole pieces of v (n <= SHA1_LANES_MAX, none the short last
 * one), side by side with sha1_multi, where the page cache holds them
 * (mapped, as storage_hash_run does): no copy.  False when one cannot be
 * (it spans files, a back end that maps nothing, a file shorter than
 * it, cut short while hashed): read them instead.
 */
bool		 storage_hash_view_mapped(const struct storage_view *v,
		    const uint32_t *pieces, size_t n,
		    uint8_t (*out)[SHA1_LEN]);

#endif /* GT_STORAGE_HASH_H */
