/* fuzz-tracker-http.c - the HTTP tracker reply and scrape parsers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tracker-http.h"
#include "util.h"

#include "fuzz.h"

static void
check_reply(const uint8_t *data, size_t size)
{
	struct tracker_reply	r;
	char			err[TRACKER_ERRLEN];
	size_t			i;

	if (tracker_http_parse(data, size, &r, err) != GT_OK)
		return;
	if (r.npeers > TRACKER_MAX_PEERS)
		abort();
	for (i = 0; i < r.npeers; i++)
		if (r.peers[i].port == 0)
			abort();
	if (r.failure == NULL && (r.interval < TRACKER_MIN_INTERVAL ||
	    r.interval > TRACKER_MAX_INTERVAL))
		abort();
	if (r.warning != NULL && strlen(r.warning) > TRACKER_MAX_MSG)
		abort();
	tracker_reply_clear(&r);
}

static void
check_scrape(const uint8_t *data, size_t size)
{
	/* the seeds use these; the fuzzer's dictionary finds them */
	static const uint8_t	hashes[3][SHA1_LEN] = {
		"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb",
		"aaaaaaaaaaaaaaaaaaaa",	/* asked twice: kept once */
	};
	struct tracker_scrape	s;
	char			err[TRACKER_ERRLEN];
	size_t			i, j;

	if (tracker_http_parse_scrape(data, size, hashes, nitems(hashes), &s,
	    err) != GT_OK)
		return;
	if (s.failure != NULL && (s.n != 0 ||
	    strlen(s.failure) > TRACKER_MAX_MSG))
		abort();
	if (s.n > 2)
		abort();
	for (i = 0; i < s.n; i++) {
		if (memcmp(s.v[i].info_hash, hashes[0], SHA1_LEN) != 0 &&
		    memcmp(s.v[i].info_hash, hashes[1], SHA1_LEN) != 0)
			abort();
		if (s.v[i].complete < -1 || s.v[i].downloaded < -1 ||
		    s.v[i].incomplete < -1)
			abort();
		for (j = 0; j < i; j++)
			if (memcmp(s.v[i].info_hash, s.v[j].info_hash,
			    SHA1_LEN) == 0)
				abort();
	}
	/* asked order: a before b */
	if (s.n == 2 && memcmp(s.v[0].info_hash, hashes[0], SHA1_LEN) != 0)
		abort();
	tracker_scrape_clear(&s);
}

static void
check_scrape_url(const uint8_t *data, size_t size)
{
	static const uint8_t	 hashes[1][SHA1_LEN];
	char			*url, *u;

	if (size > 4096)
		return;
	url = malloc(size + 1);
	if (url == NULL)
		return;
	memcpy(url, data, size);
	url[size] = '\0';
	if ((u = tracker_http_scrape_url(url, hashes, 1)) != NULL) {
		if (strstr(u, "scrape") == NULL || strchr(u, '#') != NULL)
			abort();
		free(u);
	}
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_reply(data, size);
	check_scrape(data, size);
	check_scrape_url(data, size);
	return 0;
}
