/* bencode.c - strict bencode decoder over a byte span, sorted encoder */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "util.h"

const struct bencode_limits bencode_default_limits = {
	.max_input = 64u << 20,
	.max_depth = 64,
	.max_nodes = 4u << 20,
};

/*
 * Duplicate keys.  Keys in ascending order (the canonical form) cost one
 * comparison each: a key greater than the largest key so far is new.  Real
 * torrents sometimes have unsorted keys, which are accepted; a key that is
 * not greater than the largest so far is compared with every earlier key of
 * its dictionary while the dictionary has at most DICT_SCAN_MAX keys, so a
 * key costs at most DICT_SCAN_MAX comparisons.  Past that, the dictionary's
 * check is deferred to its closing 'e', where a temporary array of its keys
 * is sorted and neighbours compared: O(k log k) for k keys, so a hostile
 * dictionary of millions of unsorted keys is still decoded quickly.
 */
#define DICT_SCAN_MAX	64

#define NODES_MIN	16

/* One open list or dictionary. */
struct frame {
	uint32_t	idx;		/* its node */
	uint32_t	count;		/* items or complete pairs */
	uint32_t	maxkey;		/* dict: node of the largest key yet */
	unsigned	want_value:1;	/* dict: a key was read, value next */
	unsigned	deferred:1;	/* dict: duplicates checked at 'e' */
};

struct decoder {
	const uint8_t		*p;
	size_t			 len;	/* bytes we may look at */
	size_t			 full;	/* bytes the caller passed */
	size_t			 pos;

	struct bencode_node	*nodes;
	size_t			 n;
	size_t			 cap;
	size_t			 max_nodes;
	size_t			 hard_nodes;	/* allocate no more */

	struct frame		*stack;
	size_t			 depth;
	size_t			 stack_cap;
	size_t			 max_depth;

	size_t			 err_off;
	const char		*err_reason;
};

struct keyref {
	const uint8_t	*s;
	size_t		 len;
	size_t		 off;
};

static enum gt_err
fail(struct decoder *d, enum gt_err e, size_t off, const char *reason)
{
	d->err_off = off;
	d->err_reason = reason;
	return e;
}

/* The input ended at off: truncated, or cut off by max_input (prefix). */
static enum gt_err
end_of_input(struct decoder *d, size_t off)
{
	if (d->len < d->full)
		return fail(d, GT_ETOOBIG, off, "input too large");
	return fail(d, GT_EINVAL, off, "unexpected end of input");
}

/* The string at d->pos claims more bytes than remain. */
static enum gt_err
past_end(struct decoder *d)
{
	if (d->len < d->full)
		return fail(d, GT_ETOOBIG, d->pos, "input too large");
	return fail(d, GT_EINVAL, d->pos, "string length past end of input");
}

static int
keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int	c;

	c = memcmp(a, b, MIN(alen, blen));
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
keyref_cmp(const void *va, const void *vb)
{
	const struct keyref	*a = va, *b = vb;
	int			 c;

	c = keycmp(a->s, a->len, b->s, b->len);
	if (c != 0)
		return c;
	return a->off < b->off ? -1 : a->off > b->off;
}

static int
node_keycmp(const struct bencode_node *a, const struct bencode_node *b)
{
	return keycmp(a->s, a->slen, b->s, b->slen);
}

/* Reserves the next node and returns its index. */
static enum gt_err
node_new(struct decoder *d, enum bencode_type type, uint32_t *idx)
{
	struct bencode_node	*nd;
	size_t			 ncap;

	if (d->n >= d->max_nodes)
		return fail(d, GT_ETOOBIG, d->pos, "too many values");
	if (d->n == d->cap) {
		ncap = d->cap == 0 ? NODES_MIN : d->cap * 2;
		if (ncap > d->hard_nodes)
			ncap = d->hard_nodes;
		assert(ncap > d->n);
		d->nodes = xreallocarray(d->nodes, ncap, sizeof *d->nodes);
		d->cap = ncap;
	}
	nd = &d->nodes[d->n];
	*nd = (struct bencode_node){
		.type = type,
		.next = (uint32_t)(d->n + 1),
		.off = d->pos,
	};
	*idx = (uint32_t)d->n++;
	return GT_OK;
}

/* At 'i': reads the integer into nd. */
static enum gt_err
parse_int(struct decoder *d, struct bencode_node *nd)
{
	const uint8_t	*p = d->p;
	size_t		 pos = d->pos + 1, start;
	uint64_t	 v = 0, lim;
	unsigned	 dig;
	int		 neg = 0;

	if (pos < d->len && p[pos] == '-') {
		neg = 1;
		pos++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	start = pos;
	while (pos < d->len && p[pos] >= '0' && p[pos] <= '9') {
		if (pos > start && p[start] == '0')
			return fail(d, GT_EINVAL, start,
			    "leading zero in integer");
		dig = p[pos] - '0';
		if (v > (lim - dig) / 10)
			return fail(d, GT_EINVAL, d->pos,
			    "integer out of range");
		v = v * 10 + dig;
		pos++;
	}
	if (pos == d->len)
		return end_of_input(d, pos);
	if (pos == start)
		return fail(d, GT_EINVAL, pos, "missing digits in integer");
	if (p[pos] != 'e')
		return fail(d, GT_EINVAL, pos, "invalid character in integer");
	if (neg && v == 0)
		return fail(d, GT_EINVAL, d->pos, "negative zero");
	if (neg)
		nd->i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		nd->i = (int64_t)v;
	d->pos = pos + 1;
	return GT_OK;
}

/* At a digit: reads "<len>:<bytes>" without touching the bytes. */
static enum gt_err
parse_str(struct decoder *d, struct bencode_node *nd)
{
	const uint8_t	*p = d->p;
	size_t		 pos = d->pos, n = 0;
	unsigned	 dig;

	while (pos < d->len && p[pos] >= '0' && p[pos] <= '9') {
		if (pos > d->pos && p[d->pos] == '0')
			return fail(d, GT_EINVAL, d->pos,
			    "leading zero in string length");
		dig = p[pos] - '0';
		/* Stop as soon as the length passes the input: no overflow. */
		if (n > d->len / 10 || dig > d->len - n * 10)
			return past_end(d);
		n = n * 10 + dig;
		pos++;
	}
	if (pos == d->len)
		return end_of_input(d, pos);
	if (p[pos] != ':')
		return fail(d, GT_EINVAL, pos,
		    "invalid character in string length");
	pos++;
	if (n > d->len - pos)
		return past_end(d);
	nd->s = p + pos;
	nd->slen = n;
	d->pos = pos + n;
	return GT_OK;
}

static enum gt_err
push(struct decoder *d, uint32_t idx)
{
	size_t	ncap;

	if (d->depth >= d->max_depth)
		return fail(d, GT_EDEPTH, d->pos, "nesting too deep");
	if (d->depth == d->stack_cap) {
		ncap = d->stack_cap < 8 ? 8 : d->stack_cap * 2;
		if (ncap > d->max_depth)
			ncap = d->max_depth;
		d->stack = xreallocarray(d->stack, ncap, sizeof *d->stack);
		d->stack_cap = ncap;
	}
	d->stack[d->depth++] = (struct frame){ .idx = idx };
	return GT_OK;
}

/* Compares key k with every earlier key of the dict in frame f. */
static enum gt_err
scan_keys(struct decoder *d, const struct frame *f, uint32_t k)
{
	const struct bencode_node	*key = &d->nodes[k];
	uint32_t			 i;

	for (i = f->idx + 1; i < k; i = d->nodes[i + 1].next) {
		if (node_keycmp(&d->nodes[i], key) == 0)
			return fail(d, GT_EINVAL, key->off, "duplicate key");
	}
	return GT_OK;
}

/* Sorts the keys of a deferred dict to find duplicates. */
static enum gt_err
sort_keys(struct decoder *d, const struct frame *f)
{
	struct keyref	*keys;
	size_t		 n = 0, j, off = 0;
	uint32_t	 i, end = d->nodes[f->idx].next;

	keys = xreallocarray(NULL, f->count, sizeof *keys);
	for (i = f->idx + 1; i < end; i = d->nodes[i + 1].next) {
		assert(n < f->count);
		keys[n++] = (struct keyref){
			.s = d->nodes[i].s,
			.len = d->nodes[i].slen,
			.off = d->nodes[i].off,
		};
	}
	qsort(keys, n, sizeof *keys, keyref_cmp);
	for (j = 1; j < n; j++) {
		if (keycmp(keys[j - 1].s, keys[j - 1].len, keys[j].s,
		    keys[j].len) == 0 && (off == 0 || keys[j].off < off))
			off = keys[j].off;	/* earliest repeat */
	}
	free(keys);
	if (off != 0)
		return fail(d, GT_EINVAL, off, "duplicate key");
	return GT_OK;
}

/* A dictionary key k was read into frame f. */
static enum gt_err
on_key(struct decoder *d, struct frame *f, uint32_t k)
{
	int	c;

	f->want_value = 1;
	if (f->count == 0) {
		f->maxkey = k;
		return GT_OK;
	}
	if (f->deferred)
		return GT_OK;
	c = node_keycmp(&d->nodes[k], &d->nodes[f->maxkey]);
	if (c > 0) {
		f->maxkey = k;
		return GT_OK;
	}
	if (c == 0)
		return fail(d, GT_EINVAL, d->nodes[k].off, "duplicate key");
	if (f->count > DICT_SCAN_MAX) {
		f->deferred = 1;
		return GT_OK;
	}
	return scan_keys(d, f, k);
}

/* At 'e': closes the innermost list or dict. */
static enum gt_err
close_container(struct decoder *d)
{
	struct frame		*f = &d->stack[d->depth - 1];
	struct bencode_node	*nd = &d->nodes[f->idx];
	enum gt_err		 e;

	if (f->want_value)
		return fail(d, GT_EINVAL, d->pos, "dictionary key without "
		    "value");
	nd->next = (uint32_t)d->n;
	nd->count = f->count;
	nd->len = d->pos + 1 - nd->off;
	if (f->deferred && (e = sort_keys(d, f)) != GT_OK)
		return e;
	d->pos++;
	d->depth--;
	return GT_OK;
}

/* A value ended; records it in its parent. */
static enum gt_err
on_value(struct decoder *d, uint32_t idx)
{
	struct frame	*f;

	if (d->depth == 0)
		return GT_OK;
	f = &d->stack[d->depth - 1];
	if (d->nodes[f->idx].type == BENCODE_LIST) {
		f->count++;
		return GT_OK;
	}
	if (!f->want_value)
		return on_key(d, f, idx);
	f->want_value = 0;
	f->count++;
	return GT_OK;
}

static enum gt_err
decode_value(struct decoder *d)
{
	struct bencode_node	*nd;
	struct frame		*f;
	enum bencode_type	 type;
	uint32_t		 idx;
	uint8_t			 c;
	enum gt_err		 e;

	for (;;) {
		if (d->pos >= d->len)
			return end_of_input(d, d->pos);
		c = d->p[d->pos];
		f = d->depth > 0 ? &d->stack[d->depth - 1] : NULL;
		if (f != NULL && c == 'e') {
			if ((e = close_container(d)) != GT_OK)
				return e;
			idx = f->idx;
		} else {
			if (f != NULL && d->nodes[f->idx].type ==
			    BENCODE_DICT && !f->want_value &&
			    (c < '0' || c > '9'))
				return fail(d, GT_EINVAL, d->pos,
				    "dictionary key is not a string");
			if (c == 'i')
				type = BENCODE_INT;
			else if (c >= '0' && c <= '9')
				type = BENCODE_STR;
			else if (c == 'l')
				type = BENCODE_LIST;
			else if (c == 'd')
				type = BENCODE_DICT;
			else
				return fail(d, GT_EINVAL, d->pos,
				    "invalid value type");
			if ((e = node_new(d, type, &idx)) != GT_OK)
				return e;
			nd = &d->nodes[idx];
			switch (type) {
			case BENCODE_INT:
				e = parse_int(d, nd);
				break;
			case BENCODE_STR:
				e = parse_str(d, nd);
				break;
			default:
				if ((e = push(d, idx)) != GT_OK)
					return e;
				d->pos++;
				continue;
			}
			if (e != GT_OK)
				return e;
			nd->len = d->pos - nd->off;
		}
		if ((e = on_value(d, idx)) != GT_OK)
			return e;
		if (d->depth == 0)
			return GT_OK;
	}
}

static enum gt_err
decode(struct bencode_doc *doc, const uint8_t *p, size_t len,
    const struct bencode_limits *lim, struct bencode_error *err,
    size_t *used, int prefix)
{
	struct decoder	d;
	enum gt_err	e;

	*doc = (struct bencode_doc){ 0 };
	if (lim == NULL)
		lim = &bencode_default_limits;
	d = (struct decoder){
		.p = p,
		.len = len,
		.full = len,
		.max_depth = lim->max_depth,
		.max_nodes = MIN(lim->max_nodes, (size_t)UINT32_MAX - 1),
	};
	if (len > lim->max_input) {
		if (!prefix) {
			e = fail(&d, GT_ETOOBIG, 0, "input too large");
			goto out;
		}
		d.len = lim->max_input;	/* the value must end within */
	}
	/* Every value starts at a byte of its own. */
	d.hard_nodes = MIN(d.max_nodes, d.len);

	e = decode_value(&d);
	if (e == GT_OK && !prefix && d.pos != d.len)
		e = fail(&d, GT_EINVAL, d.pos, "trailing data");
out:
	free(d.stack);
	if (e != GT_OK) {
		free(d.nodes);
		if (err != NULL)
			*err = (struct bencode_error){
				.offset = d.err_off,
				.reason = d.err_reason,
			};
		return e;
	}
	assert(d.n <= UINT32_MAX);
	doc->base = p;
	doc->len = d.pos;
	doc->nodes = d.nodes;
	doc->n = d.n;
	if (used != NULL)
		*used = d.pos;
	return GT_OK;
}

enum gt_err
bencode_decode(struct bencode_doc *doc, const uint8_t *p, size_t len,
    const struct bencode_limits *lim, struct bencode_error *err)
{
	return decode(doc, p, len, lim, err, NULL, 0);
}

enum gt_err
bencode_decode_prefix(struct bencode_doc *doc, const uint8_t *p, size_t len,
    const struct bencode_limits *lim, struct bencode_error *err, size_t *used)
{
	return decode(doc, p, len, lim, err, used, 1);
}

void
bencode_doc_clear(struct bencode_doc *doc)
{
	if (doc == NULL)
		return;
	free(doc->nodes);
	*doc = (struct bencode_doc){ 0 };
}

const struct bencode_node *
bencode_root(const struct bencode_doc *doc)
{
	return doc->n > 0 ? &doc->nodes[0] : NULL;
}

const struct bencode_node *
bencode_first(const struct bencode_doc *doc, const struct bencode_node *n)
{
	size_t	idx;

	if (n == NULL ||
	    (n->type != BENCODE_LIST && n->type != BENCODE_DICT))
		return NULL;
	idx = (size_t)(n - doc->nodes) + 1;
	return idx < n->next ? &doc->nodes[idx] : NULL;
}

const struct bencode_node *
bencode_next(const struct bencode_doc *doc, const struct bencode_node *parent,
    const struct bencode_node *n)
{
	if (parent == NULL || n == NULL)
		return NULL;
	return n->next < parent->next ? &doc->nodes[n->next] : NULL;
}

bool
bencode_str_eq(const struct bencode_node *n, const char *s)
{
	size_t	len;

	if (n == NULL || n->type != BENCODE_STR)
		return false;
	len = strlen(s);
	return n->slen == len && (len == 0 || memcmp(n->s, s, len) == 0);
}

const struct bencode_node *
bencode_dict_get(const struct bencode_doc *doc,
    const struct bencode_node *dict, const char *key)
{
	const struct bencode_node	*k, *v;

	if (dict == NULL || dict->type != BENCODE_DICT)
		return NULL;
	for (k = bencode_first(doc, dict); k != NULL;
	    k = bencode_next(doc, dict, v)) {
		v = bencode_next(doc, dict, k);
		assert(v != NULL);
		if (bencode_str_eq(k, key))
			return v;
	}
	return NULL;
}

const struct bencode_node *
bencode_dict_get_type(const struct bencode_doc *doc,
    const struct bencode_node *dict, const char *key, enum bencode_type type)
{
	const struct bencode_node	*v;

	v = bencode_dict_get(doc, dict, key);
	return v != NULL && v->type == type ? v : NULL;
}

const uint8_t *
bencode_raw(const struct bencode_doc *doc, const struct bencode_node *n,
    size_t *len)
{
	*len = n->len;
	return doc->base + n->off;
}

/* Encoder. */

enum bval_type {
	BVAL_INT,
	BVAL_STR,
	BVAL_RAW,
	BVAL_LIST,
	BVAL_DICT,
};

struct bval_pair {
	char		*key;
	size_t		 klen;
	struct bval	*v;
};

struct bval {
	enum bval_type	 type;
	int64_t		 i;		/* BVAL_INT */
	uint8_t		*s;		/* BVAL_STR, BVAL_RAW: owned */
	size_t		 len;
	struct bval	**items;	/* BVAL_LIST */
	struct bval_pair *pairs;	/* BVAL_DICT, sorted by key */
	size_t		 n;		/* items or pairs */
	size_t		 cap;
};

static struct bval *
bval_new(enum bval_type type)
{
	struct bval	*v;

	v = xcalloc(1, sizeof *v);
	v->type = type;
	return v;
}

struct bval *
bval_int(int64_t i)
{
	struct bval	*v;

	v = bval_new(BVAL_INT);
	v->i = i;
	return v;
}

struct bval *
bval_str(const void *p, size_t len)
{
	struct bval	*v;

	v = bval_new(BVAL_STR);
	v->s = xmalloc(len);
	if (len > 0)
		memcpy(v->s, p, len);
	v->len = len;
	return v;
}

struct bval *
bval_cstr(const char *s)
{
	return bval_str(s, strlen(s));
}

struct bval *
bval_str_take(void *p, size_t len)
{
	struct bval	*v;

	v = bval_new(BVAL_STR);
	v->s = p;
	v->len = len;
	return v;
}

struct bval *
bval_raw(const void *p, size_t len)
{
	struct bval	*v;

	v = bval_str(p, len);
	v->type = BVAL_RAW;
	return v;
}

struct bval *
bval_list(void)
{
	return bval_new(BVAL_LIST);
}

struct bval *
bval_dict(void)
{
	return bval_new(BVAL_DICT);
}

void
bval_list_add(struct bval *list, struct bval *v)
{
	assert(list->type == BVAL_LIST && v != NULL);
	if (list->n == list->cap) {
		list->cap = list->cap < 4 ? 4 : list->cap * 2;
		list->items = xreallocarray(list->items, list->cap,
		    sizeof *list->items);
	}
	list->items[list->n++] = v;
}

void
bval_dict_set(struct bval *dict, const char *key, struct bval *v)
{
	size_t	lo = 0, hi, mid, klen = strlen(key);
	int	c;

	assert(dict->type == BVAL_DICT && v != NULL);
	/* Binary search for key in the sorted pairs. */
	hi = dict->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = keycmp((const uint8_t *)dict->pairs[mid].key,
		    dict->pairs[mid].klen, (const uint8_t *)key, klen);
		if (c == 0) {
			bval_free(dict->pairs[mid].v);
			dict->pairs[mid].v = v;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (dict->n == dict->cap) {
		dict->cap = dict->cap < 4 ? 4 : dict->cap * 2;
		dict->pairs = xreallocarray(dict->pairs, dict->cap,
		    sizeof *dict->pairs);
	}
	memmove(&dict->pairs[lo + 1], &dict->pairs[lo],
	    (dict->n - lo) * sizeof *dict->pairs);
	dict->pairs[lo] = (struct bval_pair){
		.key = xstrdup(key),
		.klen = klen,
		.v = v,
	};
	dict->n++;
}

/* Trees are built by our own code, so recursion depth is the caller's. */
void
bval_free(struct bval *v)
{
	size_t	i;

	if (v == NULL)
		return;
	switch (v->type) {
	case BVAL_LIST:
		for (i = 0; i < v->n; i++)
			bval_free(v->items[i]);
		free(v->items);
		break;
	case BVAL_DICT:
		for (i = 0; i < v->n; i++) {
			free(v->pairs[i].key);
			bval_free(v->pairs[i].v);
		}
		free(v->pairs);
		break;
	default:
		free(v->s);
		break;
	}
	free(v);
}

static enum gt_err
encode_str(struct buf *out, const void *p, size_t len)
{
	enum gt_err	e;

	if ((e = buf_printf(out, "%zu:", len)) != GT_OK)
		return e;
	return buf_append(out, p, len);
}

static enum gt_err
encode_value(const struct bval *v, struct buf *out)
{
	size_t		i;
	enum gt_err	e;

	switch (v->type) {
	case BVAL_INT:
		return buf_printf(out, "i%" PRId64 "e", v->i);
	case BVAL_STR:
		return encode_str(out, v->s, v->len);
	case BVAL_RAW:
		return buf_append(out, v->s, v->len);
	case BVAL_LIST:
		if ((e = buf_putc(out, 'l')) != GT_OK)
			return e;
		for (i = 0; i < v->n; i++) {
			if ((e = encode_value(v->items[i], out)) != GT_OK)
				return e;
		}
		return buf_putc(out, 'e');
	case BVAL_DICT:
		if ((e = buf_putc(out, 'd')) != GT_OK)
			return e;
		for (i = 0; i < v->n; i++) {
			if ((e = encode_str(out, v->pairs[i].key,
			    v->pairs[i].klen)) != GT_OK ||
			    (e = encode_value(v->pairs[i].v, out)) != GT_OK)
				return e;
		}
		return buf_putc(out, 'e');
	}
	return GT_EINVAL;
}

enum gt_err
bencode_encode(const struct bval *v, struct buf *out)
{
	size_t		old = out->len;
	enum gt_err	e;

	if ((e = encode_value(v, out)) != GT_OK)
		out->len = old;		/* nothing half-written stays */
	return e;
}

enum gt_err
bencode_encode_take(struct bval *v, struct buf *out)
{
	enum gt_err	e = bencode_encode(v, out);

	bval_free(v);
	return e;
}
