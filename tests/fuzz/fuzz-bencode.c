/* fuzz-bencode.c - libFuzzer target for the bencode decoder and encoder */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "util.h"

#include "fuzz.h"

/*
 * Checks n and everything under it, and returns it as a bval tree.  Clears
 * *canon if the input is not what the encoder would write (unsorted keys,
 * keys with NUL bytes, which the bval API cannot express and are dropped).
 * Recursion is bounded by the decoder's depth cap.
 */
static struct bval *
walk(const struct bencode_doc *doc, const struct bencode_node *n, int *canon)
{
	const struct bencode_node	*c, *v, *prev = NULL;
	const uint8_t			*raw;
	struct bval			*b;
	char				*key;
	size_t				 len, items = 0;
	int				 cmp;

	raw = bencode_raw(doc, n, &len);
	CHECK(n->off <= doc->len && len <= doc->len - n->off && len >= 2);
	CHECK(raw == doc->base + n->off);
	CHECK(n->next > (size_t)(n - doc->nodes) && n->next <= doc->n);
	switch (n->type) {
	case BENCODE_INT:
		CHECK(raw[0] == 'i' && raw[len - 1] == 'e');
		return bval_int(n->i);
	case BENCODE_STR:
		CHECK(n->s >= raw && n->s + n->slen == raw + len);
		CHECK(raw[len - n->slen - 1] == ':');
		return bval_str(n->s, n->slen);
	case BENCODE_LIST:
		CHECK(raw[0] == 'l' && raw[len - 1] == 'e');
		b = bval_list();
		for (c = bencode_first(doc, n); c != NULL;
		    c = bencode_next(doc, n, c)) {
			bval_list_add(b, walk(doc, c, canon));
			items++;
		}
		CHECK(items == n->count);
		return b;
	case BENCODE_DICT:
		CHECK(raw[0] == 'd' && raw[len - 1] == 'e');
		b = bval_dict();
		for (c = bencode_first(doc, n); c != NULL;
		    c = bencode_next(doc, n, v)) {
			CHECK(c->type == BENCODE_STR);
			v = bencode_next(doc, n, c);
			CHECK(v != NULL);
			if (prev != NULL) {
				cmp = memcmp(prev->s, c->s,
				    MIN(prev->slen, c->slen));
				if (cmp > 0 ||
				    (cmp == 0 && prev->slen >= c->slen))
					*canon = 0;
			}
			prev = c;
			items++;
			if (memchr(c->s, '\0', c->slen) != NULL) {
				*canon = 0;
				bval_free(walk(doc, v, canon));
				continue;
			}
			key = xstrndup((const char *)c->s, c->slen);
			CHECK(bencode_dict_get(doc, n, key) == v);
			CHECK(bencode_dict_get_type(doc, n, key, v->type) ==
			    v);
			bval_dict_set(b, key, walk(doc, v, canon));
			free(key);
		}
		CHECK(items == n->count);
		return b;
	}
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bencode_doc	 doc, doc2;
	struct bencode_error	 err;
	struct bval		*b;
	struct buf		 out;
	enum gt_err		 e, e2;
	size_t			 used;
	int			 canon = 1;

	/* The prefix decoder agrees with the whole-input decoder. */
	e2 = bencode_decode_prefix(&doc2, data, size, NULL, &err, &used);
	if (e2 == GT_OK) {
		CHECK(used <= size && doc2.len == used);
	} else {
		CHECK(doc2.n == 0 && doc2.nodes == NULL);
		CHECK(err.reason != NULL && err.offset <= size);
	}

	e = bencode_decode(&doc, data, size, NULL, &err);
	if (e != GT_OK) {
		CHECK(doc.n == 0 && doc.nodes == NULL);
		CHECK(err.reason != NULL && err.offset <= size);
		CHECK(e2 != GT_OK || used < size);
		bencode_doc_clear(&doc2);
		return 0;
	}
	CHECK(e2 == GT_OK && used == size && doc2.n == doc.n);
	bencode_doc_clear(&doc2);

	CHECK(doc.n > 0 && doc.n <= size && bencode_root(&doc) == doc.nodes);
	CHECK(doc.nodes[0].next == doc.n && doc.nodes[0].len == size);
	(void)bencode_dict_get(&doc, bencode_root(&doc), "info");
	(void)bencode_dict_get(&doc, bencode_root(&doc), "");
	(void)bencode_dict_get_type(&doc, bencode_root(&doc), "a",
	    BENCODE_INT);

	b = walk(&doc, bencode_root(&doc), &canon);
	buf_init(&out, SIZE_MAX);
	CHECK(bencode_encode(b, &out) == GT_OK);
	bval_free(b);
	if (canon) {
		/* Canonical input: re-encoding gives the same bytes. */
		CHECK(out.len == size && memcmp(out.data, data, size) == 0);
	} else {
		/* Whatever the encoder writes decodes again. */
		CHECK(out.len <= size);
		CHECK(bencode_decode(&doc2, out.data, out.len, NULL,
		    &err) == GT_OK);
		bencode_doc_clear(&doc2);
	}
	buf_clear(&out);
	bencode_doc_clear(&doc);
	return 0;
}
