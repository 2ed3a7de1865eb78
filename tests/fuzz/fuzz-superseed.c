/*
 * fuzz-superseed.c - libFuzzer target: super-seeding (BEP 16) fed a
 * sequence of peer events, as remote peers cause them
 *
 * The input is a program: a byte for the torrent's size, then 3-byte
 * operations (op, peer, arg) on up to FZ_PEERS peers whose piece sets the
 * target keeps, as the torrent does, so superseed gets what its contract
 * promises (a HAVE is for a piece not announced before, bitfields are the
 * peer's current set).  Checked: a revealed piece exists, the peer lacks
 * it and may then be served it; a peer never has more than
 * SUPERSEED_OPEN pieces revealed and unannounced at once; deadlines are
 * never in the past for long; the peer count matches.
 */
#include <stdbool.h>
#include <string.h>

#include "bitfield.h"
#include "superseed.h"
#include "util.h"

#include "fuzz.h"

#define FZ_PEERS	16

struct fz_peer {
	bool		in;
	bool		got_bf;
	struct bitfield	has;
	uint32_t	open[64];	/* revealed, not yet announced */
	size_t		nopen;
};

static void
fz_forget(struct fz_peer *p, uint32_t piece)
{
	size_t	i;

	for (i = 0; i < p->nopen; i++) {
		if (p->open[i] == piece) {
			p->open[i] = p->open[--p->nopen];
			return;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_peer		 peers[FZ_PEERS];
	struct superseed	*ss;
	struct bitfield		 bf;
	uint32_t		 npieces, piece, i;
	uint64_t		 now = 1000;
	size_t			 pos, n = 0;

	if (size < 1)
		return 0;
	npieces = 1 + data[0] % 64;
	memset(peers, 0, sizeof(peers));
	ss = superseed_new(npieces, 42);
	for (pos = 1; pos + 3 <= size; pos += 3) {
		uint8_t		 op = data[pos] % 7;
		struct fz_peer	*p = &peers[data[pos + 1] % FZ_PEERS];
		uint32_t	 id = (uint32_t)(data[pos + 1] % FZ_PEERS);
		uint8_t		 arg = data[pos + 2];

		switch (op) {
		case 0:				/* joins */
			if (p->in)
				break;
			p->in = true;
			p->got_bf = false;
			p->nopen = 0;
			bitfield_init(&p->has, npieces);
			superseed_peer_add(ss, id, now);
			n++;
			break;
		case 1:				/* its bitfield */
			if (!p->in || p->got_bf)
				break;
			p->got_bf = true;
			for (i = 0; i < npieces; i++) {
				if ((arg >> (i % 8)) & (i & 1 ? 1 : 2))
					bitfield_set(&p->has, i);
			}
			for (i = 0; i < npieces; i++) {
				if (bitfield_get(&p->has, i))
					fz_forget(p, i);
			}
			superseed_peer_bitfield(ss, id, &p->has, now);
			break;
		case 2:				/* a HAVE */
			piece = arg % npieces;
			if (!p->in || bitfield_get(&p->has, piece))
				break;
			bitfield_set(&p->has, piece);
			fz_forget(p, piece);
			superseed_peer_have(ss, id, piece, now);
			break;
		case 3:				/* we served it a block */
			if (p->in)
				superseed_peer_served(ss, id, arg % npieces,
				    now);
			break;
		case 4:				/* it leaves */
			if (!p->in)
				break;
			superseed_peer_remove(ss, id, &p->has);
			bitfield_clear(&p->has);
			p->in = false;
			n--;
			break;
		case 5:				/* time passes */
			now += (uint64_t)arg * 250;
			break;
		case 6:				/* the torrent asks */
			if (!p->in)
				break;
			while (superseed_next(ss, id, &p->has, now, &piece)) {
				CHECK(piece < npieces);
				CHECK(!bitfield_get(&p->has, piece));
				CHECK(superseed_revealed(ss, id, piece));
				fz_forget(p, piece);
				CHECK(p->nopen < nitems(p->open));
				p->open[p->nopen++] = piece;
				CHECK(p->nopen <= SUPERSEED_OPEN);
			}
			break;
		}
		CHECK(superseed_npeers(ss) == n);
	}
	/* Everybody leaves: nothing is left behind (LeakSanitizer). */
	bitfield_init(&bf, npieces);
	for (i = 0; i < FZ_PEERS; i++) {
		if (peers[i].in) {
			superseed_peer_remove(ss, i, &peers[i].has);
			bitfield_clear(&peers[i].has);
		}
	}
	bitfield_clear(&bf);
	CHECK(superseed_npeers(ss) == 0);
	superseed_free(ss);
	return 0;
}
