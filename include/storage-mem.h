/* storage-mem.h - storage back end in memory, for tests */
#ifndef GT_STORAGE_MEM_H
#define GT_STORAGE_MEM_H

#include <stddef.h>

struct storage_mem;
struct storage_ops;
struct storage_view;

extern const struct storage_ops	storage_mem_ops; /* ctx: struct storage_mem */

/* Zeroed files of v's lengths; v is borrowed for the back end's life. */
struct storage_mem	*storage_mem_new(const struct storage_view *v);
/* How many times file was synced. */
unsigned		 storage_mem_syncs(struct storage_mem *, size_t file);

#endif /* GT_STORAGE_MEM_H */
