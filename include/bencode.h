/* bencode.h - strict bencode decoder over a byte span, sorted encoder */
#ifndef GT_BENCODE_H
#define GT_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * Decoding parses the whole input once into a flat array of nodes in
 * document order (a value, then its children); nothing is copied, strings
 * point into the input, which must outlive the document.  A dictionary's
 * children alternate key, value.
 */
enum bencode_type {
	BENCODE_INT,
	BENCODE_STR,
	BENCODE_LIST,
	BENCODE_DICT,
};

struct bencode_node {
	enum bencode_type	 type;
	uint32_t		 next;	/* index just past this value's subtree */
	uint32_t		 count;	/* list: items; dict: key/value pairs */
	size_t			 off;	/* raw span of the value in the input */
	size_t			 len;
	int64_t			 i;	/* BENCODE_INT */
	const uint8_t		*s;	/* BENCODE_STR: bytes, borrowed */
	size_t			 slen;
};

struct bencode_limits {
	size_t	max_input;	/* bytes; longer input is GT_ETOOBIG */
	size_t	max_depth;	/* nesting of lists and dicts */
	size_t	max_nodes;	/* values in the document */
};

/* Caps for .torrent files: 64 MiB, depth 64, 4 Mi values. */
extern const struct bencode_limits	bencode_default_limits;

struct bencode_doc {
	const uint8_t		*base;	/* the input, borrowed */
	size_t			 len;
	struct bencode_node	*nodes;	/* owned; nodes[0] is the root */
	size_t			 n;
};

struct bencode_error {
	size_t		 offset;	/* byte where decoding stopped */
	const char	*reason;	/* static string */
};

/*
 * Decodes exactly one value spanning all of [p, p + len).  Integers follow
 * the strict grammar (no leading zeros, no -0, within int64); a dictionary's
 * keys must be strings and may not repeat.  Errors fill *err if non-NULL.
 */
enum gt_err	bencode_decode(struct bencode_doc *, const uint8_t *p,
		    size_t len, const struct bencode_limits *,
		    struct bencode_error *err);
/* Decodes one value at the start of p; *used is its length.  Trailing bytes
 * are allowed (ut_metadata puts the piece after the dictionary). */
enum gt_err	bencode_decode_prefix(struct bencode_doc *, const uint8_t *p,
		    size_t len, const struct bencode_limits *,
		    struct bencode_error *err, size_t *used);
void		bencode_doc_clear(struct bencode_doc *);

const struct bencode_node *bencode_root(const struct bencode_doc *);
/* First child of a list or dict (for a dict: the first key), or NULL. */
const struct bencode_node *bencode_first(const struct bencode_doc *,
		    const struct bencode_node *);
/* The node after n's subtree within parent, or NULL at the end. */
const struct bencode_node *bencode_next(const struct bencode_doc *,
		    const struct bencode_node *parent,
		    const struct bencode_node *n);
/* Value for key in dict, or NULL (also when dict is not a dict). */
const struct bencode_node *bencode_dict_get(const struct bencode_doc *,
		    const struct bencode_node *dict, const char *key);
/* Typed look-ups: NULL unless the key is there with that type. */
const struct bencode_node *bencode_dict_get_type(const struct bencode_doc *,
		    const struct bencode_node *dict, const char *key,
		    enum bencode_type);
/* True if n is a string equal to the NUL-terminated s. */
bool		bencode_str_eq(const struct bencode_node *, const char *s);
/* The raw bytes of a value as they appear in the input. */
const uint8_t	*bencode_raw(const struct bencode_doc *,
		    const struct bencode_node *, size_t *len);

/*
 * Encoding builds a tree of values and writes it with every dictionary's
 * keys sorted as raw byte strings (BEP 3).
 */
struct bval;

struct bval	*bval_int(int64_t);
struct bval	*bval_str(const void *, size_t);	/* copies */
struct bval	*bval_cstr(const char *);		/* copies */
struct bval	*bval_str_take(void *, size_t);	/* takes a malloc'd block */
/* Pre-encoded bencode copied through unchanged (e.g. an info dict). */
struct bval	*bval_raw(const void *, size_t);
struct bval	*bval_list(void);
struct bval	*bval_dict(void);
/* Appends v (taking it) to a list. */
void		 bval_list_add(struct bval *list, struct bval *v);
/* Sets key to v (taking it) in a dict, replacing an existing value. */
void		 bval_dict_set(struct bval *dict, const char *key,
		    struct bval *v);
void		 bval_free(struct bval *);
/* Appends v to out; on failure (out's cap) out is left as it was. */
enum gt_err	 bencode_encode(const struct bval *, struct buf *out);
/* The same, then frees v. */
enum gt_err	 bencode_encode_take(struct bval *, struct buf *out);

#endif /* GT_BENCODE_H */
