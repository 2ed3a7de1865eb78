/* metainfo.h - .torrent bytes -> struct metainfo (BEP 3/12/19/27/47, v2 seen) */
#ifndef GT_METAINFO_H
#define GT_METAINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"

#define MI_MAX_TORRENT		(64u << 20)	/* bytes of .torrent */
#define MI_MAX_PIECES		(1u << 21)
#define MI_MAX_PIECE_LENGTH	(1u << 29)
#define MI_MAX_FILES		(1u << 19)	/* ~6 bencode values each: within
						   the decoder's 4 Mi cap */
#define MI_MAX_COMPONENT	255		/* bytes, like NAME_MAX */
#define MI_MAX_PATH		4000		/* bytes of a whole path */

enum mi_attr {
	MI_ATTR_PAD = 1 << 0,		/* 'p': padding, never on disk */
	MI_ATTR_EXEC = 1 << 1,		/* 'x' */
	MI_ATTR_HIDDEN = 1 << 2,	/* 'h' */
	MI_ATTR_SYMLINK = 1 << 3,	/* 'l': see symlink */
};

struct mi_file {
	char		*path;		/* safe, '/'-separated, relative to the
					   download folder; for a multi-file
					   torrent it starts with name + '/' */
	uint64_t	 length;
	uint64_t	 offset;	/* of its first byte in the torrent */
	unsigned	 attr;		/* enum mi_attr bits */
	char		*symlink;	/* MI_ATTR_SYMLINK: safe target, relative
					   to the download folder; else NULL */
};

struct mi_tier {
	char		**urls;
	size_t		  n;
};

struct mi_node {			/* BEP 5 "nodes" */
	char		*host;
	uint16_t	 port;
};

struct metainfo {
	uint8_t		 info_hash[SHA1_LEN];	/* SHA-1 of the raw info dict */
	bool		 has_v2;		/* meta version 2 (hybrid) */
	uint8_t		 info_hash_v2[SHA256_LEN]; /* SHA-256 of it, if has_v2 */
	uint8_t		*info_raw;		/* the info dict's bytes, owned */
	size_t		 info_len;

	char		*name;		/* safe single component */
	bool		 multi_file;	/* "files" (a folder) vs "length" */
	uint64_t	 piece_length;
	uint32_t	 npieces;
	const uint8_t	*pieces;	/* npieces * SHA1_LEN, in info_raw */
	uint64_t	 total_length;	/* padding included */
	struct mi_file	*files;
	size_t		 nfiles;

	struct mi_tier	*tiers;		/* announce-list, else announce */
	size_t		 ntiers;
	char		**web_seeds;	/* url-list (BEP 19) */
	size_t		 nweb_seeds;
	char		**http_seeds;	/* httpseeds (BEP 17) */
	size_t		 nhttp_seeds;
	struct mi_node	*nodes;
	size_t		 nnodes;

	bool		 private;	/* BEP 27 */
	char		*comment;	/* NULL when absent */
	char		*created_by;
	char		*source;
	bool		 has_creation_date;
	int64_t		 creation_date;	/* seconds since the epoch */
};

/*
 * Parses a whole .torrent.  On failure *m is untouched and err (GT_ERRLEN
 * bytes, may be NULL) holds one line saying what is wrong, e.g.
 * "info.piece length: must be between 1 and 536870912".  A v2-only
 * torrent fails with GT_EUNSUP and "v2-only torrents are not supported yet".
 */
enum gt_err	metainfo_parse(struct metainfo *m, const uint8_t *p, size_t len,
		    char *err);
/*
 * The same for a malloc'd p, which it takes (freed on failure): the info
 * dictionary is moved to the front of p, which becomes info_raw, so a big
 * torrent is never held twice.
 */
enum gt_err	metainfo_parse_take(struct metainfo *m, uint8_t *p, size_t len,
		    char *err);
/* Parses an info dictionary alone (from a magnet's ut_metadata). */
enum gt_err	metainfo_parse_info(struct metainfo *m, const uint8_t *p,
		    size_t len, char *err);
void		metainfo_clear(struct metainfo *);

/* SHA-1 of piece i; i < npieces. */
const uint8_t	*metainfo_piece_hash(const struct metainfo *, uint32_t i);
/* Bytes in piece i (the last one may be short). */
uint32_t	 metainfo_piece_size(const struct metainfo *, uint32_t i);

/*
 * One path component made safe: control characters, '/', '\\' and invalid
 * UTF-8 become '_', over-long names are shortened at a character boundary
 * keeping the extension.  Returns a malloc'd string, or NULL when nothing
 * is left ("", ".", "..").
 */
char		*metainfo_safe_component(const uint8_t *s, size_t len);

#endif /* GT_METAINFO_H */
