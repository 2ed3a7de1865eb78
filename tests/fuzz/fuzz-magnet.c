/* fuzz-magnet.c - libFuzzer target: the input is a magnet URI */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "magnet.h"
#include "util.h"

#include "fuzz.h"

/* Safe for a terminal: no C0 control byte, no DEL. */
static int
term_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((uint8_t)*s < ' ' || *s == 0x7f)
			return 0;
	}
	return 1;
}

static void
check_magnet(const struct magnet *m)
{
	size_t	i, j;

	CHECK(m->dn == NULL || (m->dn[0] != '\0' &&
	    strlen(m->dn) <= MAGNET_MAX_DN));
	CHECK(m->ntrackers <= MAGNET_MAX_TRACKERS);
	CHECK(m->npeers <= MAGNET_MAX_PEERS);
	CHECK(m->nweb_seeds <= MAGNET_MAX_WEB_SEEDS);
	CHECK(m->nselect <= MAGNET_MAX_SELECT);
	CHECK(m->nwarnings <= MAGNET_MAX_WARNINGS);
	for (i = 0; i < m->ntrackers; i++) {
		CHECK(strlen(m->trackers[i]) <= MAGNET_MAX_URL);
		CHECK(strncasecmp(m->trackers[i], "http://", 7) == 0 ||
		    strncasecmp(m->trackers[i], "https://", 8) == 0 ||
		    strncasecmp(m->trackers[i], "udp://", 6) == 0);
		CHECK(term_safe(m->trackers[i]));
		for (j = 0; j < i; j++)
			CHECK(strcmp(m->trackers[i], m->trackers[j]) != 0);
	}
	for (i = 0; i < m->nweb_seeds; i++) {
		CHECK(strlen(m->web_seeds[i]) <= MAGNET_MAX_URL);
		CHECK(strncasecmp(m->web_seeds[i], "http://", 7) == 0 ||
		    strncasecmp(m->web_seeds[i], "https://", 8) == 0);
		CHECK(term_safe(m->web_seeds[i]));
	}
	for (i = 0; i < m->npeers; i++) {
		CHECK(addr_is_dialable(&m->peers[i]));
		for (j = 0; j < i; j++)
			CHECK(!addr_eq(&m->peers[i], &m->peers[j]));
	}
	for (i = 0; i < m->nselect; i++)
		CHECK(m->select[i].first <= m->select[i].last);
	for (i = 0; i < m->nwarnings; i++)
		CHECK(m->warnings[i] != NULL && term_safe(m->warnings[i]));
}

/* format, then parse again: the same hash, name and trackers. */
static void
round_trip(const struct magnet *m)
{
	struct magnet	 m2;
	char		 err[GT_ERRLEN];
	char		*s;
	size_t		 i;
	enum gt_err	 e;

	s = magnet_format(m->info_hash, m->dn, m->trackers, m->ntrackers);
	if (strlen(s) <= MAGNET_MAX_URI) {
		e = magnet_parse(&m2, s, err);
		if (e != GT_OK)
			fprintf(stderr, "%s\n%s\n", s, err);
		CHECK(e == GT_OK);
		CHECK(memcmp(m2.info_hash, m->info_hash, SHA1_LEN) == 0);
		CHECK((m->dn == NULL && m2.dn == NULL) ||
		    (m->dn != NULL && m2.dn != NULL &&
		    strcmp(m->dn, m2.dn) == 0));
		CHECK(m2.ntrackers == m->ntrackers);
		for (i = 0; i < m->ntrackers; i++)
			CHECK(strcmp(m2.trackers[i], m->trackers[i]) == 0);
		CHECK(m2.npeers == 0 && m2.nweb_seeds == 0 &&
		    m2.nselect == 0 && m2.nwarnings == 0 && !m2.has_v2);
		magnet_clear(&m2);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct magnet	 m;
	char		 err[GT_ERRLEN];
	char		*s;
	enum gt_err	 e;

	s = xmalloc(size + 1);
	memcpy(s, in, size);
	s[size] = '\0';
	err[0] = '\0';
	e = magnet_parse(&m, s, err);
	if (e == GT_OK) {
		check_magnet(&m);
		round_trip(&m);
		magnet_clear(&m);
	} else {
		CHECK(e == GT_EINVAL || e == GT_EUNSUP);
		CHECK(err[0] != '\0' && strlen(err) < GT_ERRLEN);
		CHECK(term_safe(err));
	}
	free(s);
	return 0;
}
