/*
 * fuzz-spread.c - libFuzzer target: a seed's suggestions (spread) fed the
 * requests, announcements and departures remote peers cause
 *
 * The input is a program: a byte for the torrent's size, then 3-byte
 * operations (op, peer, arg) on up to FZ_PEERS peers whose piece sets the
 * target keeps in a seed's picker, as the torrent does.  Checked: a piece
 * suggested exists, the peer lacks it and nobody has it; it is not
 * suggested to another peer while claimed; a peer never has more than
 * SPREAD_AHEAD_MAX open suggestions; a refusal is never repeated for the
 * same peer and piece while remembered.
 */
#include <stdbool.h>
#include <string.h>

#include "bitfield.h"
#include "picker.h"
#include "spread.h"
#include "util.h"

#include "fuzz.h"

#define FZ_PEERS	8

struct fz_peer {
	bool			in;
	struct bitfield		has;
	struct spread_peer	sp;
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct picker_opts	 po = { .rarest_first = true, .seed = 1 };
	struct fz_peer		 peers[FZ_PEERS];
	struct picker		*pk;
	struct spread		*s;
	uint64_t		 owner_until[64];
	uint32_t		 owner[64];
	uint32_t		 npieces, piece, i;
	uint64_t		 now = 1000;
	size_t			 pos, k;

	if (size < 1)
		return 0;
	npieces = 1 + data[0] % 64;
	memset(peers, 0, sizeof(peers));
	memset(owner_until, 0, sizeof(owner_until));
	memset(owner, 0, sizeof(owner));
	pk = picker_new(npieces, 1 << 18, 1 << 18, &po);
	for (i = 0; i < npieces; i++)
		picker_have(pk, i);
	s = spread_new(npieces, 7);
	for (pos = 1; pos + 3 <= size; pos += 3) {
		uint8_t		 op = data[pos] % 6;
		uint32_t	 id = (uint32_t)(data[pos + 1] % FZ_PEERS);
		struct fz_peer	*p = &peers[id];
		uint8_t		 arg = data[pos + 2];

		piece = arg % npieces;
		switch (op) {
		case 0:				/* joins, or leaves */
			if (!p->in) {
				p->in = true;
				bitfield_init(&p->has, npieces);
				memset(&p->sp, 0, sizeof(p->sp));
				p->sp.id = id + 1;
				picker_peer_add(pk, &p->has);
			} else {
				picker_peer_remove(pk, &p->has);
				bitfield_clear(&p->has);
				p->in = false;
			}
			break;
		case 1:				/* HAVE */
			if (p->in && bitfield_set(&p->has, piece))
				picker_peer_have(pk, piece);
			break;
		case 2:				/* asks for a block */
			if (!p->in)
				break;
			if (spread_refuse(s, &p->sp, pk, piece, arg & 1, now)) {
				CHECK(!spread_refuse(s, &p->sp, pk, piece,
				    arg & 1, now));
				break;
			}
			spread_requested(s, &p->sp, piece, now);
			break;
		case 3:				/* we top it up */
			if (!p->in)
				break;
			while ((piece = spread_next(s, &p->sp, &p->has, pk,
			    arg % 24, now)) != UINT32_MAX) {
				CHECK(piece < npieces);
				CHECK(!bitfield_get(&p->has, piece));
				CHECK(picker_availability(pk, piece) == 0);
				CHECK(owner_until[piece] <= now ||
				    owner[piece] == p->sp.id);
				if (arg & 0x80) {
					spread_skip(s, piece, now);
					break;
				}
				spread_opened(s, &p->sp, piece, now);
				owner[piece] = p->sp.id;
				owner_until[piece] = now + SPREAD_CLAIM_MS;
				CHECK(p->sp.n <= SPREAD_AHEAD_MAX);
			}
			break;
		case 4:				/* time passes */
			now += (uint64_t)arg * 100;
			break;
		case 5:				/* time passes, a lot */
			now += (uint64_t)arg * 1000;
			break;
		}
	}
	for (k = 0; k < FZ_PEERS; k++)
		bitfield_clear(&peers[k].has);
	spread_free(s);
	picker_free(pk);
	return 0;
}
