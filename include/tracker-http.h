/* tracker-http.h - HTTP announce URL and reply parsing (BEP 3, 7, 23, 48) */
#ifndef GT_TRACKER_HTTP_H
#define GT_TRACKER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "tracker.h"

/* The announce URL for req; keeps the tracker's own query (passkeys). */
char		*tracker_http_announce_url(const char *announce,
		    const struct tracker_req *);
/*
 * Parses a bencoded reply body (compact and dictionary peer lists, peers6).
 * A compact list's partial last entry is ignored (BEP 23 readers do);
 * peers no one can be at (addr_is_dialable) and duplicates are dropped.
 * Strings are kept with control characters replaced; a malformed body is
 * GT_EPROTO with err (TRACKER_ERRLEN bytes) saying why.
 */
enum gt_err	 tracker_http_parse(const uint8_t *body, size_t len,
		    struct tracker_reply *, char *err);

/*
 * The scrape URL for n (1..TRACKER_MAX_SCRAPE) info-hashes, by BEP 48's rule:
 * the last path segment must start with "announce", which becomes "scrape";
 * the tracker's own query is kept.  NULL when the announce URL has no
 * scrape form.
 */
char		*tracker_http_scrape_url(const char *announce,
		    const uint8_t (*hashes)[SHA1_LEN], size_t n);
/*
 * Parses a scrape reply body: the "files" dictionary, keeping only the n
 * hashes asked about (others, and duplicates, are ignored), or a "failure
 * reason".  Malformed: GT_EPROTO with err (TRACKER_ERRLEN bytes).
 */
enum gt_err	 tracker_http_parse_scrape(const uint8_t *body, size_t len,
		    const uint8_t (*hashes)[SHA1_LEN], size_t n,
		    struct tracker_scrape *, char *err);

#endif /* GT_TRACKER_HTTP_H */
