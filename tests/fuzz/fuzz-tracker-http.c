/* fuzz-tracker-http.c - the HTTP tracker reply parser */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tracker-http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracker_reply	r;
	char			err[TRACKER_ERRLEN];
	size_t			i;

	if (tracker_http_parse(data, size, &r, err) != GT_OK)
		return 0;
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
	return 0;
}
