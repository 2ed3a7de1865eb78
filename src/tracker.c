/* tracker.c - what every kind of tracker is asked and answers */
#include <stdlib.h>

#include "tracker.h"
#include "util.h"

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

#define PEER_SET_SLOTS	4096	/* a power of 2 > 2 * TRACKER_MAX_PEERS */
_Static_assert(PEER_SET_SLOTS > 2 * TRACKER_MAX_PEERS, "load under 1/2");
_Static_assert(TRACKER_MAX_PEERS < UINT16_MAX, "slots are uint16_t");

static size_t
peer_hash(const struct netaddr *a)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < 16; i++)
		h = (h ^ a->ip[i]) * 16777619u;
	h = (h ^ a->family) * 16777619u;
	h = (h ^ (a->port >> 8)) * 16777619u;
	h = (h ^ (a->port & 0xff)) * 16777619u;
	return h & (PEER_SET_SLOTS - 1);
}

void
tracker_peers_init(struct tracker_peers *ps, struct tracker_reply *r,
    size_t max)
{
	ps->r = r;
	r->npeers = 0;
	r->peers = xcalloc(MAX(1, MIN(max, TRACKER_MAX_PEERS)),
	    sizeof(*r->peers));
	ps->slots = xcalloc(PEER_SET_SLOTS, sizeof(*ps->slots));
}

bool
tracker_peers_add(struct tracker_peers *ps, const struct netaddr *a)
{
	struct tracker_reply	*r = ps->r;
	size_t			 h;

	if (r->npeers >= TRACKER_MAX_PEERS)
		return false;
	if (!addr_is_dialable(a))
		return true;
	for (h = peer_hash(a); ps->slots[h] != 0;
	    h = (h + 1) & (PEER_SET_SLOTS - 1))
		if (addr_eq(&r->peers[ps->slots[h] - 1], a))
			return true;
	r->peers[r->npeers++] = *a;
	ps->slots[h] = (uint16_t)r->npeers;
	return r->npeers < TRACKER_MAX_PEERS;
}

void
tracker_peers_clear(struct tracker_peers *ps)
{
	free(ps->slots);
	ps->slots = NULL;
}

char *
tracker_safe_text(const uint8_t *p, size_t len)
{
	size_t	n = MIN(len, TRACKER_MAX_MSG), i;
	char	*s = xmalloc(n + 1);

	for (i = 0; i < n; i++)
		s[i] = (char)(p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i]);
	s[n] = '\0';
	return s;
}
