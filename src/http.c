/* http.c - HTTP(S) GETs through libcurl's multi socket API on the reactor */
#include <sys/queue.h>

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "reactor.h"
#include "util.h"

#define HTTP_CONNECT_TIMEOUT_MS	10000	/* at most, for the TCP+TLS connect */
#define HTTP_DEFAULT_TIMEOUT_MS	30000	/* when opts.timeout_ms is 0 */
#define HTTP_MAX_TIMEOUT_MS	3600000u	/* longer ones are cut */
#define HTTP_PROTOCOLS		"http,https"

/*
 * How it runs: curl tells us which sockets to watch (http_curl_sock_cb) and
 * when it next wants a timeout (http_curl_timer_cb); libevent calls back and
 * we hand the socket or the timeout to curl_multi_socket_action, then read
 * finished transfers off curl_multi_info_read and report them.  Nothing
 * blocks and nothing polls.
 *
 * Callbacks may call http_get, http_cancel and http_free: requests are
 * detached from curl before their callback runs, and http_free during a
 * callback only marks the http dead (busy > 0); the outermost libevent
 * callback finishes the job.
 */

enum http_req_state {
	HTTP_REQ_RUNNING,	/* in the multi handle, on http.running */
	HTTP_REQ_FAILING,	/* never started: on http.failing, to report */
	HTTP_REQ_DONE,		/* detached; its callback is running */
};

struct http_req {
	struct http		*h;
	CURL			*easy;		/* NULL once detached */
	enum http_req_state	 state;
	http_done_fn		*done;
	void			*arg;
	char			*url;		/* owned, for the logs */
	struct buf		 body;		/* decoded bytes, capped */
	bool			 toobig;	/* the body hit the cap */
	enum gt_err		 early;		/* FAILING: what to report */
	char			 errbuf[CURL_ERROR_SIZE]; /* curl's reason */
	TAILQ_ENTRY(http_req)	 entry;
};
TAILQ_HEAD(http_reqs, http_req);

struct http_sock {
	struct event		*ev;
	curl_socket_t		 fd;
	LIST_ENTRY(http_sock)	 entry;
};

struct http {
	struct reactor		*r;
	CURLM			*multi;
	struct event		*timer;		/* curl's multi timeout */
	struct event		*kick;		/* reports http.failing */
	struct http_reqs	 running;
	struct http_reqs	 failing;
	LIST_HEAD(, http_sock)	 socks;		/* one per curl socket */
	unsigned		 busy;		/* user callbacks running */
	bool			 dead;		/* http_free was called */
};

static void	http_destroy(struct http *);

/* ---- requests --------------------------------------------------------- */

static void
http_req_free(struct http_req *q)
{
	if (q->easy != NULL)
		curl_easy_cleanup(q->easy);
	buf_clear(&q->body);
	free(q->url);
	free(q);
}

/* Detached from every list and from curl: calls back, then frees. */
static void
http_finish(struct http_req *q, enum gt_err e, long status,
    const char *reason)
{
	struct http	*h = q->h;
	uint8_t		*body = NULL;
	size_t		 len = 0;

	q->state = HTTP_REQ_DONE;
	if (e == GT_OK) {
		body = buf_take(&q->body, &len);
		log_debug("http: GET %s: status %ld, %zu bytes", q->url, status,
		    len);
	} else
		log_debug("http: GET %s: %s (%s)", q->url, gt_strerror(e),
		    reason);
	h->busy++;
	q->done(q->arg, e, status, body, len, reason);
	h->busy--;
	free(body);
	http_req_free(q);
}

static enum gt_err
http_map_error(CURLcode c)
{
	switch (c) {
	case CURLE_UNSUPPORTED_PROTOCOL:
		return GT_EUNSUP;
	case CURLE_URL_MALFORMAT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return GT_EINVAL;
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_RANGE_ERROR:
		return GT_EPROTO;
	case CURLE_FILESIZE_EXCEEDED:
		return GT_ETOOBIG;
	default:
		return GT_EIO;
	}
}

/* A transfer curl reports done: take it off curl, then report it. */
static void
http_complete(struct http *h, CURL *easy, CURLcode res)
{
	struct http_req	*q;
	char		*priv = NULL;
	long		 status = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	q = (struct http_req *)priv;
	assert(q != NULL && q->easy == easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	TAILQ_REMOVE(&h->running, q, entry);
	curl_multi_remove_handle(h->multi, easy);
	curl_easy_cleanup(easy);
	q->easy = NULL;

	if (res == CURLE_OK)
		http_finish(q, GT_OK, status, "");
	else if (q->toobig) {
		snprintf(q->errbuf, sizeof(q->errbuf),
		    "reply larger than %zu bytes", q->body.max);
		http_finish(q, GT_ETOOBIG, status, q->errbuf);
	} else {
		if (q->errbuf[0] == '\0')
			snprintf(q->errbuf, sizeof(q->errbuf), "%s",
			    curl_easy_strerror(res));
		http_finish(q, http_map_error(res), status, q->errbuf);
	}
}

/* Reports every finished transfer; stops if a callback freed the http. */
static void
http_drain(struct http *h)
{
	CURLMsg		*m;
	CURL		*easy;
	CURLcode	 res;
	int		 left;

	while (!h->dead &&
	    (m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		easy = m->easy_handle;	/* m dies with the handle */
		res = m->data.result;
		http_complete(h, easy, res);
	}
}

/* Ends an outermost libevent callback: frees the http if it was freed. */
static void
http_reap(struct http *h)
{
	if (h->dead && h->busy == 0)
		http_destroy(h);
}

/* ---- curl's side: sockets and timeout --------------------------------- */

static void
http_sock_free(struct http_sock *s)
{
	LIST_REMOVE(s, entry);
	event_free(s->ev);
	free(s);
}

static void
http_sock_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;
	int		 action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	http_drain(h);
	http_reap(h);
}

static void
http_timer_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;
	int		 running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_drain(h);
	http_reap(h);
}

static int
http_curl_sock_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct http		*h = arg;
	struct http_sock	*s = sockp;
	struct event_base	*base = reactor_base(h->r);
	short			 kind = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			http_sock_free(s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		s = xmalloc(sizeof(*s));
		s->fd = fd;
		s->ev = event_new(base, fd, kind, http_sock_ev_cb, h);
		if (s->ev == NULL) {
			log_error("%s: event_new failed", __func__);
			free(s);
			return -1;
		}
		LIST_INSERT_HEAD(&h->socks, s, entry);
		curl_multi_assign(h->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, base, fd, kind, http_sock_ev_cb, h);
	}
	if ((kind & (EV_READ | EV_WRITE)) != 0 && event_add(s->ev, NULL) != 0) {
		log_error("%s: event_add failed", __func__);
		return -1;
	}
	return 0;
}

static int
http_curl_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct http	*h = arg;
	struct timeval	 tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	/* Never call curl from here: the timer event does, from the loop. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (evtimer_add(h->timer, &tv) != 0) {
		log_error("%s: evtimer_add failed", __func__);
		return -1;
	}
	return 0;
}

static size_t
http_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_req	*q = arg;
	size_t		 len = size * n;	/* size is always 1 */

	/* Counts decoded bytes: a gzip bomb stops at the cap. */
	if (buf_append(&q->body, data, len) != GT_OK) {
		q->toobig = true;
		return 0;		/* -> CURLE_WRITE_ERROR */
	}
	return len;
}

static int
http_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct http_req	*q = arg;

	(void)easy;
	if (type != CURLINFO_TEXT)
		return 0;
	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		size--;
	log_trace("http: %p: curl: %.*s", (void *)q, (int)MIN(size, 512),
	    data);
	return 0;
}

/* ---- the http object -------------------------------------------------- */

static void
http_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;
	struct http_req	*q;

	(void)fd;
	(void)what;
	while (!h->dead && (q = TAILQ_FIRST(&h->failing)) != NULL) {
		TAILQ_REMOVE(&h->failing, q, entry);
		if (q->easy != NULL) {
			curl_easy_cleanup(q->easy);
			q->easy = NULL;
		}
		http_finish(q, q->early, 0, q->errbuf);
	}
	http_reap(h);
}

struct http *
http_new(struct reactor *r)
{
	struct http		*h;
	struct event_base	*base = reactor_base(r);
	CURLcode		 c;

	/* Counted by libcurl; not thread-safe, but we have one thread. */
	if ((c = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		log_error("%s: curl_global_init: %s", __func__,
		    curl_easy_strerror(c));
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->r = r;
	TAILQ_INIT(&h->running);
	TAILQ_INIT(&h->failing);
	LIST_INIT(&h->socks);
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, http_timer_ev_cb, h);
	h->kick = event_new(base, -1, 0, http_kick_cb, h);
	if (h->multi == NULL || h->timer == NULL || h->kick == NULL) {
		log_error("%s: cannot set up curl on the loop", __func__);
		http_destroy(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_curl_sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_curl_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	log_debug("%s: %s", __func__, curl_version());
	return h;
}

static void
http_destroy(struct http *h)
{
	struct http_sock	*s;

	while (!TAILQ_EMPTY(&h->running))
		http_cancel(TAILQ_FIRST(&h->running));
	while (!TAILQ_EMPTY(&h->failing))
		http_cancel(TAILQ_FIRST(&h->failing));
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);	/* may call the callbacks */
	while ((s = LIST_FIRST(&h->socks)) != NULL)
		http_sock_free(s);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->kick != NULL)
		event_free(h->kick);
	free(h);
	curl_global_cleanup();
}

void
http_free(struct http *h)
{
	if (h == NULL || h->dead)
		return;
	h->dead = true;
	if (h->busy == 0)
		http_destroy(h);
	/* else the callback running now returns, then http_reap frees it */
}

static bool
http_url_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

static CURLcode
http_setup(struct http_req *q, const char *url, const struct http_opts *o)
{
	CURL		*e = q->easy;
	CURLcode	 c = CURLE_OK;
	long		 timeout, connect;
	char		*iface = NULL;

	timeout = o->timeout_ms != 0 ?
	    (long)MIN(o->timeout_ms, HTTP_MAX_TIMEOUT_MS) :
	    HTTP_DEFAULT_TIMEOUT_MS;
	connect = MIN(timeout, HTTP_CONNECT_TIMEOUT_MS);
	if (o->bind_ip != NULL)
		iface = xasprintf("host!%s", o->bind_ip);	/* an address */

#define SET(opt, val) do {						\
	if (c == CURLE_OK)						\
		c = curl_easy_setopt(e, (opt), (val));			\
} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, HTTP_PROTOCOLS);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, HTTP_PROTOCOLS);
	if (o->max_redirects > 0) {
		SET(CURLOPT_FOLLOWLOCATION, 1L);
		SET(CURLOPT_MAXREDIRS, o->max_redirects);
	}
	SET(CURLOPT_TIMEOUT_MS, timeout);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect);
	SET(CURLOPT_ACCEPT_ENCODING, "");	/* whatever curl decodes */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_WRITEFUNCTION, http_write_cb);
	SET(CURLOPT_WRITEDATA, q);
	SET(CURLOPT_PRIVATE, q);
	SET(CURLOPT_ERRORBUFFER, q->errbuf);
	if (o->user_agent != NULL)
		SET(CURLOPT_USERAGENT, o->user_agent);
	if (iface != NULL)
		SET(CURLOPT_INTERFACE, iface);	/* curl copies it */
	if (log_level_max >= LOG_TRACE) {
		SET(CURLOPT_DEBUGFUNCTION, http_debug_cb);
		SET(CURLOPT_DEBUGDATA, q);
		SET(CURLOPT_VERBOSE, 1L);
	}
#undef SET
	free(iface);
	return c;
}

/* Reports e from the loop, never from inside http_get. */
static struct http_req *
http_fail_later(struct http_req *q, enum gt_err e, const char *reason)
{
	struct http	*h = q->h;

	q->state = HTTP_REQ_FAILING;
	q->early = e;
	snprintf(q->errbuf, sizeof(q->errbuf), "%s", reason);
	TAILQ_INSERT_TAIL(&h->failing, q, entry);
	event_active(h->kick, EV_TIMEOUT, 0);
	return q;
}

struct http_req *
http_get(struct http *h, const char *url, const struct http_opts *o,
    http_done_fn *done, void *arg)
{
	struct http_req	*q;
	CURLcode	 c;
	CURLMcode	 mc;

	assert(url != NULL && o != NULL && done != NULL);
	q = xcalloc(1, sizeof(*q));
	q->h = h;
	q->done = done;
	q->arg = arg;
	q->url = xstrdup(url);
	buf_init(&q->body, o->max_body);
	log_debug("http: GET %s", url);

	if (!http_url_ok(url))
		return http_fail_later(q, GT_EINVAL,
		    "not an http:// or https:// URL");
	if ((q->easy = curl_easy_init()) == NULL)
		return http_fail_later(q, GT_EIO, "curl_easy_init failed");
	if ((c = http_setup(q, url, o)) != CURLE_OK)
		return http_fail_later(q, http_map_error(c),
		    curl_easy_strerror(c));
	q->errbuf[0] = '\0';
	if ((mc = curl_multi_add_handle(h->multi, q->easy)) != CURLM_OK)
		return http_fail_later(q, GT_EIO, curl_multi_strerror(mc));
	q->state = HTTP_REQ_RUNNING;
	TAILQ_INSERT_TAIL(&h->running, q, entry);
	return q;
}

void
http_cancel(struct http_req *q)
{
	struct http	*h;

	if (q == NULL || q->state == HTTP_REQ_DONE)
		return;		/* in its callback: freed when it returns */
	h = q->h;
	if (q->state == HTTP_REQ_RUNNING) {
		TAILQ_REMOVE(&h->running, q, entry);
		curl_multi_remove_handle(h->multi, q->easy);
	} else
		TAILQ_REMOVE(&h->failing, q, entry);
	log_debug("http: GET %s: cancelled", q->url);
	http_req_free(q);
}
