/* seedlimit.c - when seeding ends: share ratio, seeding time, idle time */
#include <stdio.h>
#include <string.h>

#include "seedlimit.h"
#include "util.h"

static const char *const seedlimit_names[] = {
	[SEEDLIMIT_NONE] = "none",	[SEEDLIMIT_RATIO] = "ratio",
	[SEEDLIMIT_TIME] = "time",	[SEEDLIMIT_IDLE] = "idle",
};

void
seedlimit_init(struct seedlimit *sl, const struct seedlimit_opts *o,
    uint64_t size)
{
	double		x;
	uint64_t	t;

	memset(sl, 0, sizeof(*sl));
	sl->o = *o;
	if (!(sl->o.ratio > 0))
		sl->o.ratio = 0;	/* negative or NaN: none */
	sl->size = size;
	sl->target = UINT64_MAX;
	if (sl->o.ratio > 0) {
		/* The first whole byte count at or above ratio x size. */
		x = sl->o.ratio * (double)size;
		if (x >= 18446744073709549568.0)	/* 2^64 - 2048 */
			t = UINT64_MAX - 1;
		else {
			t = (uint64_t)x;
			if ((double)t < x)
				t++;
		}
		sl->target = t;
	}
}

bool
seedlimit_active(const struct seedlimit *sl)
{
	return sl->o.ratio > 0 || sl->o.time_s > 0 || sl->o.idle_s > 0;
}

void
seedlimit_start(struct seedlimit *sl, uint64_t uploaded, uint64_t now)
{
	if (sl->seeding)
		return;
	sl->seeding = true;
	sl->start_ms = now;
	sl->uploaded = uploaded;
}

void
seedlimit_skip(struct seedlimit *sl, uint64_t ms)
{
	if (!sl->seeding || sl->reached != SEEDLIMIT_NONE)
		return;
	sl->start_ms += ms;
	if (sl->last_up_ms != 0)
		sl->last_up_ms += ms;
}

static enum seedlimit_reason
reach(struct seedlimit *sl, enum seedlimit_reason why, uint64_t now)
{
	sl->reached = why;
	sl->end_ms = now;
	return why;
}

enum seedlimit_reason
seedlimit_on_upload(struct seedlimit *sl, uint64_t uploaded, uint64_t now)
{
	if (uploaded > sl->uploaded)
		sl->last_up_ms = now;
	if (sl->reached != SEEDLIMIT_NONE) {
		if (uploaded > sl->uploaded)
			sl->uploaded = uploaded;
		return sl->reached;
	}
	sl->uploaded = uploaded;
	if (sl->seeding && sl->o.ratio > 0 && uploaded >= sl->target)
		return reach(sl, SEEDLIMIT_RATIO, now);
	return SEEDLIMIT_NONE;
}

/* Seeding time starts at seedlimit_start; idle time at the last upload. */
static uint64_t
time_deadline(const struct seedlimit *sl)
{
	return sl->o.time_s == 0 ? UINT64_MAX :
	    sl->start_ms + (uint64_t)sl->o.time_s * 1000;
}

static uint64_t
idle_deadline(const struct seedlimit *sl)
{
	return sl->o.idle_s == 0 ? UINT64_MAX :
	    MAX(sl->start_ms, sl->last_up_ms) + (uint64_t)sl->o.idle_s * 1000;
}

enum seedlimit_reason
seedlimit_check(struct seedlimit *sl, uint64_t uploaded, uint64_t now)
{
	enum seedlimit_reason	why;

	if ((why = seedlimit_on_upload(sl, uploaded, now)) != SEEDLIMIT_NONE ||
	    !sl->seeding)
		return why;
	if (now >= time_deadline(sl))
		return reach(sl, SEEDLIMIT_TIME, now);
	if (now >= idle_deadline(sl))
		return reach(sl, SEEDLIMIT_IDLE, now);
	return SEEDLIMIT_NONE;
}

uint64_t
seedlimit_deadline(const struct seedlimit *sl)
{
	if (!sl->seeding || sl->reached != SEEDLIMIT_NONE)
		return UINT64_MAX;
	return MIN(time_deadline(sl), idle_deadline(sl));
}

enum seedlimit_reason
seedlimit_reached(const struct seedlimit *sl)
{
	return sl->reached;
}

const char *
seedlimit_reason_name(enum seedlimit_reason why)
{
	if ((size_t)why >= nitems(seedlimit_names))
		return "?";
	return seedlimit_names[why];
}

/* 0 B, 512 B, 1.5 KiB, 64.0 MiB, 2.00 GiB */
static void
fmt_bytes(char *buf, size_t len, uint64_t n)
{
	if (n < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else if (n < (1u << 20))
		snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
	else if (n < (1u << 30))
		snprintf(buf, len, "%.1f MiB", (double)n / 1048576.0);
	else
		snprintf(buf, len, "%.2f GiB", (double)n / 1073741824.0);
}

/* A limit as the user gave it: minutes (0.1, 0.5, 30). */
static void
fmt_minutes(char *buf, size_t len, uint32_t s)
{
	snprintf(buf, len, "%.4g min", (double)s / 60.0);
}

void
seedlimit_describe(const struct seedlimit *sl, char *buf, size_t len)
{
	char		up[32], lim[32];
	uint64_t	idle;

	if (len == 0)
		return;
	fmt_bytes(up, sizeof(up), sl->uploaded);
	switch (sl->reached) {
	case SEEDLIMIT_RATIO:
		snprintf(buf, len, "ratio %.2f reached (%s up)",
		    sl->size > 0 ? (double)sl->uploaded / (double)sl->size :
		    sl->o.ratio, up);
		break;
	case SEEDLIMIT_TIME:
		fmt_minutes(lim, sizeof(lim), sl->o.time_s);
		snprintf(buf, len, "seed time %s reached (%.0f s seeding, "
		    "%s up)", lim, (double)(sl->end_ms - sl->start_ms) /
		    1000.0, up);
		break;
	case SEEDLIMIT_IDLE:
		fmt_minutes(lim, sizeof(lim), sl->o.idle_s);
		idle = sl->end_ms - MAX(sl->start_ms, sl->last_up_ms);
		snprintf(buf, len, "seed idle %s reached (nothing up for "
		    "%.0f s, %s up)", lim, (double)idle / 1000.0, up);
		break;
	case SEEDLIMIT_NONE:
	default:
		snprintf(buf, len, "no seeding limit reached");
		break;
	}
}
