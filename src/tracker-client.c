/* tracker-client.c - tracker requests over HTTP(S) and UDP, one interface */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"
#include "tracker-client.h"
#include "tracker-http.h"
#include "tracker-udp.h"
#include "udp.h"
#include "util.h"

/*
 * The transports are made on first use and shared by every call: one curl
 * multi handle, one UDP socket (whose tracker connection ids are reused
 * across torrents).  A call wraps the transport's request and turns its
 * outcome into a parsed reply or one line of why.
 */

struct tracker_client {
	struct reactor	*r;
	struct http	*http;
	struct udp	*udp;
	bool		 udp_borrowed;	/* the session's (shared with the DHT) */
	struct netaddr	 bind;		/* tracker_client_bind's (family 0) */
	char		 bind_ip[ADDR_STRLEN];	/* ... for curl, or "" */
};

struct tracker_call {
	struct http_req		*hreq;
	struct udp_req		*ureq;
	bool			 scrape;
	uint8_t			(*hashes)[SHA1_LEN];	/* scrape, HTTP */
	size_t			 nhashes;
	tracker_announce_fn	*announced;
	tracker_scrape_fn	*scraped;
	void			*arg;
};

struct tracker_client *
tracker_client_new(struct reactor *r)
{
	struct tracker_client	*tc = xcalloc(1, sizeof(*tc));

	tc->r = r;
	return tc;
}

void
tracker_client_free(struct tracker_client *tc)
{
	if (tc == NULL)
		return;
	http_free(tc->http);
	if (!tc->udp_borrowed)
		udp_free(tc->udp);
	free(tc);
}

void
tracker_client_use_udp(struct tracker_client *tc, struct udp *u)
{
	if (tc->udp != NULL && !tc->udp_borrowed)
		udp_free(tc->udp);
	tc->udp = u;
	tc->udp_borrowed = u != NULL;
}

void
tracker_client_bind(struct tracker_client *tc, const struct netaddr *a)
{
	tc->bind = *a;
	if (a->family != 0)
		addr_ip_str(a, tc->bind_ip);
	else
		tc->bind_ip[0] = '\0';
}

static bool
is_http(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

bool
tracker_client_url_ok(const char *url)
{
	return is_http(url) || udp_url_ok(url);
}

static struct http *
tc_http(struct tracker_client *tc)
{
	if (tc->http == NULL)
		tc->http = http_new(tc->r);
	return tc->http;
}

static struct udp *
tc_udp(struct tracker_client *tc)
{
	uint64_t	seed;

	if (tc->udp == NULL) {
		rand_bytes(&seed, sizeof(seed));
		tc->udp = udp_new(tc->r, seed);
		if (tc->bind.family != 0)
			udp_set_bind(tc->udp, &tc->bind);
	}
	return tc->udp;
}

static void
call_free(struct tracker_call *c)
{
	free(c->hashes);
	free(c);
}

/* Reports an error to the caller and frees the call. */
static void
call_fail(struct tracker_call *c, enum gt_err e, const char *why)
{
	if (c->scrape)
		c->scraped(c->arg, e, NULL, why);
	else
		c->announced(c->arg, e, NULL, why);
	call_free(c);
}

static void
call_http_done(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	struct tracker_call	*c = arg;
	struct tracker_reply	 rep;
	struct tracker_scrape	 sc;
	char			 err[TRACKER_ERRLEN], why[TRACKER_ERRLEN + 16];

	c->hreq = NULL;
	if (e != GT_OK) {
		call_fail(c, e, reason != NULL ? reason : gt_strerror(e));
		return;
	}
	if (status != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", status);
		call_fail(c, GT_EPROTO, why);
		return;
	}
	if (c->scrape) {
		memset(&sc, 0, sizeof(sc));
		e = tracker_http_parse_scrape(body, len,
		    (const uint8_t (*)[SHA1_LEN])c->hashes, c->nhashes, &sc,
		    err);
	} else {
		memset(&rep, 0, sizeof(rep));
		e = tracker_http_parse(body, len, &rep, err);
	}
	if (e != GT_OK) {
		snprintf(why, sizeof(why), "bad reply: %s", err);
		call_fail(c, e, why);
		return;
	}
	if (c->scrape) {
		c->scraped(c->arg, GT_OK, &sc, NULL);
		tracker_scrape_clear(&sc);
	} else {
		c->announced(c->arg, GT_OK, &rep, NULL);
		tracker_reply_clear(&rep);
	}
	call_free(c);
}

static void
call_udp_done(void *arg, struct tracker_udp_result *res)
{
	struct tracker_call	*c = arg;

	c->ureq = NULL;
	if (res->e == GT_ECANCELED)
		call_fail(c, GT_ECANCELED, "no answer");
	else if (res->e != GT_OK)
		call_fail(c, res->e, res->err);
	else if (c->scrape) {
		c->scraped(c->arg, GT_OK, &res->scrape, NULL);
		call_free(c);
	} else {
		c->announced(c->arg, GT_OK, &res->announce, NULL);
		call_free(c);
	}
}

static struct http_opts
http_opts(const struct tracker_client *tc, const struct tracker_call_opts *o)
{
	return (struct http_opts){
		.timeout_ms = o->timeout_ms,
		.max_body = TRACKER_MAX_REPLY,
		.max_redirects = TRACKER_CLIENT_REDIRECTS,
		.user_agent = o->user_agent,
		.bind_ip = tc->bind_ip[0] != '\0' ? tc->bind_ip : NULL,
	};
}

/* A call to url, or NULL (and err) when gtorrent cannot talk to it. */
static struct tracker_call *
call_new(const char *url, bool *udp, char *err)
{
	if (strncasecmp(url, "udp://", 6) == 0)
		*udp = true;
	else if (is_http(url))
		*udp = false;
	else {
		(void)gt_fail(err, GT_EUNSUP, "unsupported kind of tracker");
		return NULL;
	}
	return xcalloc(1, sizeof(struct tracker_call));
}

/* c, or NULL (and err) when its UDP request could not start. */
static struct tracker_call *
call_udp_started(struct tracker_call *c, char *err)
{
	if (c->ureq != NULL)
		return c;
	call_free(c);
	(void)gt_fail(err, GT_EINVAL, "unusable UDP tracker URL");
	return NULL;
}

struct tracker_call *
tracker_client_announce(struct tracker_client *tc, const char *url,
    const struct tracker_req *tr, const struct tracker_call_opts *o,
    tracker_announce_fn *done, void *arg, char *err)
{
	struct tracker_call	*c;
	struct http_opts	 ho = http_opts(tc, o);
	char			*u;
	bool			 udp;

	if ((c = call_new(url, &udp, err)) == NULL)
		return NULL;
	c->announced = done;
	c->arg = arg;
	if (udp) {
		c->ureq = udp_announce(tc_udp(tc), url, tr, o->udp_tries,
		    call_udp_done, c);
		return call_udp_started(c, err);
	}
	u = tracker_http_announce_url(url, tr);
	c->hreq = http_get(tc_http(tc), u, &ho, call_http_done, c);
	free(u);
	return c;
}

struct tracker_call *
tracker_client_scrape(struct tracker_client *tc, const char *url,
    const uint8_t (*hashes)[SHA1_LEN], size_t n,
    const struct tracker_call_opts *o, tracker_scrape_fn *done, void *arg,
    char *err)
{
	struct tracker_call	*c;
	struct http_opts	 ho = http_opts(tc, o);
	char			*u = NULL;
	bool			 udp;

	if (n == 0 || n > TRACKER_MAX_SCRAPE) {
		(void)gt_fail(err, GT_EINVAL, "%zu info-hashes in a scrape", n);
		return NULL;
	}
	if (is_http(url) &&
	    (u = tracker_http_scrape_url(url, hashes, n)) == NULL) {
		(void)gt_fail(err, GT_EUNSUP, "this tracker has no scrape URL");
		return NULL;
	}
	if ((c = call_new(url, &udp, err)) == NULL) {
		free(u);
		return NULL;
	}
	c->scrape = true;
	c->scraped = done;
	c->arg = arg;
	if (udp) {
		c->ureq = udp_scrape(tc_udp(tc), url, hashes, n, o->udp_tries,
		    call_udp_done, c);
		return call_udp_started(c, err);
	}
	c->hashes = xreallocarray(NULL, n, SHA1_LEN);
	memcpy(c->hashes, hashes, n * SHA1_LEN);
	c->nhashes = n;
	c->hreq = http_get(tc_http(tc), u, &ho, call_http_done, c);
	free(u);
	return c;
}

void
tracker_call_cancel(struct tracker_call *c)
{
	if (c == NULL)
		return;
	if (c->hreq != NULL)
		http_cancel(c->hreq);
	if (c->ureq != NULL)
		udp_cancel(c->ureq);
	call_free(c);
}
