/* http.h - HTTP(S) GETs through libcurl's multi socket API on the reactor */
#ifndef GT_HTTP_H
#define GT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct reactor;
struct http;
struct http_req;

struct http_opts {
	uint32_t	 timeout_ms;	/* whole request, connect included */
	size_t		 max_body;	/* bytes after decoding; over: GT_ETOOBIG */
	long		 max_redirects;	/* only to http:// and https:// */
	const char	*user_agent;
	const char	*bind_ip;	/* local address, or NULL */
};

/*
 * Done: e is GT_OK with the HTTP status and the (decoded) body, or an error
 * with a one-line reason.  The body is borrowed for the call.  The request
 * is freed after the callback returns.
 */
typedef void	http_done_fn(void *arg, enum gt_err e, long status,
		    const uint8_t *body, size_t len, const char *reason);

struct http	*http_new(struct reactor *);
void		 http_free(struct http *);	/* cancels what is running */
struct http_req	*http_get(struct http *, const char *url,
		    const struct http_opts *, http_done_fn *, void *arg);
/* The callback is not called for a cancelled request. */
void		 http_cancel(struct http_req *);

#endif /* GT_HTTP_H */
