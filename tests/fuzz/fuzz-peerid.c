/* fuzz-peerid.c - libFuzzer target: the input is a peer id */
#include <string.h>

#include "peerid.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	uint8_t	id[PEERID_LEN];
	char	out[PEERID_CLIENT_LEN], small[6];
	size_t	i;
	bool	known;

	if (size < PEERID_LEN)
		return 0;
	memcpy(id, in, PEERID_LEN);
	memset(out, 0x55, sizeof(out));
	known = peerid_client(id, out, sizeof(out));
	CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	for (i = 0; out[i] != '\0'; i++)
		CHECK(out[i] >= 0x20 && out[i] < 0x7f);
	CHECK(!known || out[0] != '\0');
	/* the same, cut to a smaller buffer */
	CHECK(peerid_client(id, small, sizeof(small)) == known);
	CHECK(strncmp(small, out, sizeof(small) - 1) == 0);
	return 0;
}
