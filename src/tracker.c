/* tracker.c - what every kind of tracker is asked and answers */
#include <stdlib.h>

#include "tracker.h"

static const char *const tracker_event_names[] = {
	[TRACKER_EVENT_NONE] = "announce",
	[TRACKER_EVENT_STARTED] = "started",
	[TRACKER_EVENT_COMPLETED] = "completed",
	[TRACKER_EVENT_STOPPED] = "stopped",
};

const char *
tracker_event_name(enum tracker_event ev)
{
	if ((unsigned)ev >= sizeof(tracker_event_names) /
	    sizeof(tracker_event_names[0]))
		return "?";
	return tracker_event_names[ev];
}

uint32_t
tracker_clamp_interval(int64_t v)
{
	if (v < TRACKER_MIN_INTERVAL)
		return TRACKER_MIN_INTERVAL;
	if (v > TRACKER_MAX_INTERVAL)
		return TRACKER_MAX_INTERVAL;
	return (uint32_t)v;
}

void
tracker_reply_clear(struct tracker_reply *r)
{
	free(r->failure);
	free(r->warning);
	free(r->tracker_id);
	free(r->peers);
	*r = (struct tracker_reply){ .complete = -1, .incomplete = -1 };
}

void
tracker_scrape_clear(struct tracker_scrape *s)
{
	free(s->failure);
	free(s->v);
	*s = (struct tracker_scrape){ 0 };
}
