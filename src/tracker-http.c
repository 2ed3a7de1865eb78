/* tracker-http.c - HTTP announce URL and reply parsing (BEP 3, 7, 23, 48) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "log.h"
#include "tracker-http.h"
#include "util.h"

static const char *const tracker_event_names[] = {
	[TRACKER_EVENT_NONE] = NULL,
	[TRACKER_EVENT_STARTED] = "started",
	[TRACKER_EVENT_COMPLETED] = "completed",
	[TRACKER_EVENT_STOPPED] = "stopped",
};

static void
put_escaped(struct buf *b, const uint8_t *p, size_t n)
{
	static const char	hexd[] = "0123456789ABCDEF";
	size_t			i;
	uint8_t			c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			buf_putc(b, c);
		else {
			buf_putc(b, '%');
			buf_putc(b, (uint8_t)hexd[c >> 4]);
			buf_putc(b, (uint8_t)hexd[c & 15]);
		}
	}
}

char *
tracker_http_announce_url(const char *announce, const struct tracker_req *r)
{
	struct buf	 b;
	const char	*frag;
	size_t		 baselen;

	buf_init(&b, SIZE_MAX);
	/* a fragment never goes to the server */
	frag = strchr(announce, '#');
	baselen = frag != NULL ? (size_t)(frag - announce) : strlen(announce);
	buf_append(&b, announce, baselen);
	buf_putc(&b, memchr(announce, '?', baselen) != NULL ? '&' : '?');
	buf_puts(&b, "info_hash=");
	put_escaped(&b, r->info_hash, SHA1_LEN);
	buf_puts(&b, "&peer_id=");
	put_escaped(&b, r->peer_id, sizeof(r->peer_id));
	buf_printf(&b, "&port=%u&uploaded=%" PRIu64 "&downloaded=%" PRIu64
	    "&left=%" PRIu64 "&corrupt=0&key=%08" PRIX32 "&numwant=%" PRIu32
	    "&compact=1&no_peer_id=1", r->port, r->uploaded, r->downloaded,
	    r->left, r->key, r->numwant);
	if (tracker_event_names[r->event] != NULL)
		buf_printf(&b, "&event=%s", tracker_event_names[r->event]);
	if (r->tracker_id != NULL) {
		buf_puts(&b, "&trackerid=");
		put_escaped(&b, (const uint8_t *)r->tracker_id,
		    strlen(r->tracker_id));
	}
	return (char *)buf_take(&b, NULL);
}

/* Whole 6- or 18-byte entries; a partial one at the end is ignored. */
static void
parse_compact(struct tracker_peers *ps, enum addr_family fam,
    const struct bencode_node *n)
{
	struct netaddr	a;
	size_t		step = fam == ADDR_V4 ? 6 : 18, i, got;

	if (n->slen % step != 0)
		log_debug("tracker reply: %s: %zu trailing bytes ignored",
		    fam == ADDR_V4 ? "peers" : "peers6", n->slen % step);
	for (i = 0; i + step <= n->slen; i += step)
		if (addr_parse_compact(fam, n->s + i, step, &a, 1,
		    &got) == GT_OK && got == 1) {
			addr_unmap(&a);
			if (!tracker_peers_add(ps, &a))
				break;
		}
}

static void
parse_dict_peers(struct tracker_peers *ps, const struct bencode_doc *d,
    const struct bencode_node *list)
{
	const struct bencode_node	*p, *ip, *port;
	struct netaddr			 a;
	char				 host[64];

	for (p = bencode_first(d, list); p != NULL;
	    p = bencode_next(d, list, p)) {
		ip = bencode_dict_get_type(d, p, "ip", BENCODE_STR);
		port = bencode_dict_get_type(d, p, "port", BENCODE_INT);
		if (ip == NULL || port == NULL || port->i < 1 ||
		    port->i > 65535 || ip->slen >= sizeof(host))
			continue;	/* skip what we can't use */
		memcpy(host, ip->s, ip->slen);
		host[ip->slen] = '\0';
		if (addr_parse_ip(host, &a) != GT_OK)
			continue;	/* host names are not looked up */
		addr_unmap(&a);
		a.port = (uint16_t)port->i;
		if (!tracker_peers_add(ps, &a))
			break;
	}
}
enum gt_err
tracker_http_parse(const uint8_t *body, size_t len, struct tracker_reply *out,
    char *err)
{
	static const struct bencode_limits	 lim = {
		.max_input = TRACKER_MAX_REPLY, .max_depth = 8,
		.max_nodes = 4 * TRACKER_MAX_PEERS + 64,
	};
	struct bencode_doc			 d;
	struct bencode_error			 be;
	const struct bencode_node		*root, *n;
	struct tracker_reply			 r = {
		.complete = -1, .incomplete = -1,
	};
	struct tracker_peers			 ps;
	enum gt_err				 e;

	if ((e = bencode_decode(&d, body, len, &lim, &be)) != GT_OK) {
		snprintf(err, TRACKER_ERRLEN, "bad reply: %s at byte %zu",
		    be.reason, be.offset);
		return GT_EPROTO;
	}
	root = bencode_root(&d);
	if (root->type != BENCODE_DICT) {
		snprintf(err, TRACKER_ERRLEN, "bad reply: not a dictionary");
		bencode_doc_clear(&d);
		return GT_EPROTO;
	}
	if ((n = bencode_dict_get_type(&d, root, "failure reason",
	    BENCODE_STR)) != NULL) {
		r.failure = tracker_safe_text(n->s, n->slen);
		goto done;
	}
	if ((n = bencode_dict_get_type(&d, root, "warning message",
	    BENCODE_STR)) != NULL)
		r.warning = tracker_safe_text(n->s, n->slen);
	n = bencode_dict_get_type(&d, root, "interval", BENCODE_INT);
	r.interval = tracker_clamp_interval(n != NULL ? n->i : 1800);
	if ((n = bencode_dict_get_type(&d, root, "min interval",
	    BENCODE_INT)) != NULL)
		r.min_interval = tracker_clamp_interval(n->i);
	if ((n = bencode_dict_get_type(&d, root, "tracker id",
	    BENCODE_STR)) != NULL && n->slen > 0)
		r.tracker_id = tracker_safe_text(n->s, n->slen);
	if ((n = bencode_dict_get_type(&d, root, "complete",
	    BENCODE_INT)) != NULL && n->i >= 0)
		r.complete = n->i;
	if ((n = bencode_dict_get_type(&d, root, "incomplete",
	    BENCODE_INT)) != NULL && n->i >= 0)
		r.incomplete = n->i;
	tracker_peers_init(&ps, &r, TRACKER_MAX_PEERS);
	n = bencode_dict_get(&d, root, "peers");
	if (n != NULL && n->type == BENCODE_STR)
		parse_compact(&ps, ADDR_V4, n);
	else if (n != NULL && n->type == BENCODE_LIST)
		parse_dict_peers(&ps, &d, n);
	if ((n = bencode_dict_get_type(&d, root, "peers6",
	    BENCODE_STR)) != NULL)
		parse_compact(&ps, ADDR_V6, n);
	tracker_peers_clear(&ps);
done:
	bencode_doc_clear(&d);
	*out = r;
	return GT_OK;
}
/*
 * Where the path of an http(s) URL starts (the '/' after the authority),
 * within the first len bytes; NULL if the URL has no path.
 */
static const char *
url_path(const char *u, size_t len)
{
	const char	*p, *end = u + len;

	p = memmem(u, len, "://", 3);
	p = p != NULL ? p + 3 : u;
	return memchr(p, '/', (size_t)(end - p));
}

char *
tracker_http_scrape_url(const char *announce,
    const uint8_t (*hashes)[SHA1_LEN], size_t n)
{
	struct buf	 b;
	const char	*frag, *q, *path, *seg, *s;
	size_t		 baselen, pathlen, i;

	if (n == 0 || n > TRACKER_MAX_SCRAPE)
		return NULL;		/* outside the contract: no URL */
	/* a fragment never goes to the server */
	frag = strchr(announce, '#');
	baselen = frag != NULL ? (size_t)(frag - announce) : strlen(announce);
	q = memchr(announce, '?', baselen);
	pathlen = q != NULL ? (size_t)(q - announce) : baselen;
	if ((path = url_path(announce, pathlen)) == NULL)
		return NULL;
	/* the last segment of the path, before any query */
	seg = path + 1;
	for (s = path; s < announce + pathlen; s++)
		if (*s == '/')
			seg = s + 1;
	if ((size_t)(announce + pathlen - seg) < 8 ||
	    memcmp(seg, "announce", 8) != 0)
		return NULL;

	buf_init(&b, SIZE_MAX);
	buf_append(&b, announce, (size_t)(seg - announce));
	buf_puts(&b, "scrape");
	/* the rest of the segment ("announce.php"), then the query */
	buf_append(&b, seg + 8, baselen - (size_t)(seg + 8 - announce));
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, '&');
		else if (q == NULL)
			buf_putc(&b, '?');
		else if (announce[baselen - 1] != '?' &&
		    announce[baselen - 1] != '&')
			buf_putc(&b, '&');
		buf_puts(&b, "info_hash=");
		put_escaped(&b, hashes[i], SHA1_LEN);
	}
	return (char *)buf_take(&b, NULL);
}

/* A scrape entry's count: a non-negative integer, else -1. */
static int64_t
scrape_count(const struct bencode_doc *d, const struct bencode_node *dict,
    const char *key)
{
	const struct bencode_node	*n;

	n = bencode_dict_get_type(d, dict, key, BENCODE_INT);
	return n != NULL && n->i >= 0 ? n->i : -1;
}

enum gt_err
tracker_http_parse_scrape(const uint8_t *body, size_t len,
    const uint8_t (*hashes)[SHA1_LEN], size_t n, struct tracker_scrape *out,
    char *err)
{
	/* a tracker may list every torrent it has: 8 values per entry */
	static const struct bencode_limits	 lim = {
		.max_input = TRACKER_MAX_REPLY, .max_depth = 8,
		.max_nodes = 64 * 1024,
	};
	struct bencode_doc			 d;
	struct bencode_error			 be;
	const struct bencode_node		*root, *files, *k, *v;
	struct tracker_scrape			 r = { 0 };
	struct tracker_scrape_entry		*found = NULL;
	bool					*have = NULL;
	size_t					 i;

	if (len > TRACKER_MAX_REPLY) {
		snprintf(err, TRACKER_ERRLEN, "bad scrape: %zu bytes, over %u",
		    len, TRACKER_MAX_REPLY);
		return GT_ETOOBIG;
	}
	if (bencode_decode(&d, body, len, &lim, &be) != GT_OK) {
		snprintf(err, TRACKER_ERRLEN, "bad scrape: %s at byte %zu",
		    be.reason, be.offset);
		return GT_EPROTO;
	}
	root = bencode_root(&d);
	if (root->type != BENCODE_DICT) {
		snprintf(err, TRACKER_ERRLEN, "bad scrape: not a dictionary");
		bencode_doc_clear(&d);
		return GT_EPROTO;
	}
	if ((v = bencode_dict_get_type(&d, root, "failure reason",
	    BENCODE_STR)) != NULL) {
		r.failure = tracker_safe_text(v->s, v->slen);
		goto done;
	}
	if ((files = bencode_dict_get_type(&d, root, "files",
	    BENCODE_DICT)) == NULL) {
		snprintf(err, TRACKER_ERRLEN, "bad scrape: no files dict");
		bencode_doc_clear(&d);
		return GT_EPROTO;
	}
	if (n > 0) {
		found = xcalloc(n, sizeof(*found));
		have = xcalloc(n, sizeof(*have));
	}
	for (k = bencode_first(&d, files); k != NULL;
	    k = bencode_next(&d, files, v)) {
		v = bencode_next(&d, files, k);
		if (k->slen != SHA1_LEN || v->type != BENCODE_DICT)
			continue;
		for (i = 0; i < n; i++)
			if (memcmp(hashes[i], k->s, SHA1_LEN) == 0)
				break;
		if (i == n || have[i])
			continue;	/* not asked about, or said twice */
		have[i] = true;
		memcpy(found[i].info_hash, k->s, SHA1_LEN);
		found[i].complete = scrape_count(&d, v, "complete");
		found[i].downloaded = scrape_count(&d, v, "downloaded");
		found[i].incomplete = scrape_count(&d, v, "incomplete");
	}
	/* keep the order of hashes */
	for (i = 0; i < n; i++) {
		if (!have[i])
			continue;
		if (r.v == NULL)
			r.v = xcalloc(n, sizeof(*r.v));
		r.v[r.n++] = found[i];
	}
	free(found);
	free(have);
done:
	bencode_doc_clear(&d);
	*out = r;
	return GT_OK;
}
