/* addr.c - peer addresses without socket headers; compact peer formats */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "util.h"

static const uint8_t	v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

enum gt_err
addr_parse_compact(enum addr_family fam, const uint8_t *p, size_t len,
    struct netaddr *out, size_t max, size_t *n)
{
	size_t	iplen = fam == ADDR_V4 ? 4 : 16, step = iplen + 2;
	size_t	i, k = 0;

	if (len % step != 0)
		return GT_EPROTO;
	for (i = 0; i + step <= len && k < max; i += step) {
		struct netaddr	*a = &out[k];

		memset(a, 0, sizeof(*a));
		a->family = (uint8_t)fam;
		memcpy(a->ip, p + i, iplen);
		a->port = load_be16(p + i + iplen);
		if (a->port != 0)
			k++;
	}
	*n = k;
	return GT_OK;
}

size_t
addr_put_compact(const struct netaddr *a, uint8_t *out)
{
	size_t	iplen = a->family == ADDR_V4 ? 4 : 16;

	memcpy(out, a->ip, iplen);
	store_be16(out + iplen, a->port);
	return iplen + 2;
}

static int
parse_v4(const char *s, size_t len, uint8_t ip[4])
{
	size_t		i = 0;
	unsigned	part, digits;
	int		k;

	for (k = 0; k < 4; k++) {
		if (k > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		part = 0;
		digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits > 0 && part == 0)
				return -1;	/* leading zero */
			part = part * 10 + (unsigned)(s[i] - '0');
			if (part > 255)
				return -1;
			digits++;
			i++;
		}
		if (digits == 0)
			return -1;
		ip[k] = (uint8_t)part;
	}
	return i == len ? 0 : -1;
}

static int
parse_v6(const char *s, size_t len, uint8_t ip[16])
{
	uint16_t	words[8];
	uint8_t		q[4];
	size_t		i = 0, nw = 0, gap = SIZE_MAX, j;
	unsigned	w;
	int		d, nd;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (len >= 1 && s[0] == ':')
		return -1;
	while (i < len) {
		if (nw == 8)
			return -1;
		/* an embedded dotted quad ends the address */
		if (memchr(s + i, '.', len - i) != NULL &&
		    memchr(s + i, ':', len - i) == NULL) {
			if (nw > 6 || parse_v4(s + i, len - i, q) != 0)
				return -1;
			words[nw++] = load_be16(q);
			words[nw++] = load_be16(q + 2);
			break;
		}
		w = 0;
		nd = 0;
		while (i < len && (d = hex_digit(s[i])) >= 0) {
			if (++nd > 4)
				return -1;
			w = w << 4 | (unsigned)d;
			i++;
		}
		if (nd == 0)
			return -1;
		words[nw++] = (uint16_t)w;
		if (i == len)
			break;
		if (s[i] != ':')
			return -1;
		i++;
		if (i < len && s[i] == ':') {
			if (gap != SIZE_MAX)
				return -1;
			gap = nw;
			i++;
		} else if (i == len)
			return -1;	/* trailing single ':' */
	}
	if (gap == SIZE_MAX ? nw != 8 : nw > 7)
		return -1;
	memset(ip, 0, 16);
	if (gap == SIZE_MAX)
		gap = nw;
	for (j = 0; j < gap; j++)
		store_be16(ip + 2 * j, words[j]);
	for (j = gap; j < nw; j++)
		store_be16(ip + 16 - 2 * (nw - j), words[j]);
	return 0;
}

enum gt_err
addr_parse_ip(const char *s, struct netaddr *a)
{
	struct netaddr	r = { 0 };
	size_t		len = strlen(s);

	if (parse_v4(s, len, r.ip) == 0)
		r.family = ADDR_V4;
	else if (parse_v6(s, len, r.ip) == 0)
		r.family = ADDR_V6;
	else
		return GT_EINVAL;
	*a = r;
	return GT_OK;
}

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned	v = 0;

	if (*s == '\0' || *s == '0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

enum gt_err
addr_parse(const char *s, uint16_t default_port, struct netaddr *a)
{
	struct netaddr	 r = { 0 };
	const char	*colon, *end;
	uint16_t	 port = default_port;
	size_t		 len = strlen(s);

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL ||
		    parse_v6(s + 1, (size_t)(end - s - 1), r.ip) != 0)
			return GT_EINVAL;
		r.family = ADDR_V6;
		if (end[1] == ':') {
			if (parse_port(end + 2, &port) != 0)
				return GT_EINVAL;
		} else if (end[1] != '\0')
			return GT_EINVAL;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		if (parse_v4(s, (size_t)(colon - s), r.ip) != 0 ||
		    parse_port(colon + 1, &port) != 0)
			return GT_EINVAL;
		r.family = ADDR_V4;
	} else if (parse_v4(s, len, r.ip) == 0)
		r.family = ADDR_V4;
	else if (parse_v6(s, len, r.ip) == 0)
		r.family = ADDR_V6;
	else
		return GT_EINVAL;
	if (port == 0)
		return GT_EINVAL;
	r.port = port;
	*a = r;
	return GT_OK;
}

static void
ip_fmt(const struct netaddr *a, char *out, size_t size)
{
	size_t	best = 0, bestlen = 0, run, i, j, n = 0;

	if (a->family == ADDR_V4) {
		snprintf(out, size, "%u.%u.%u.%u", a->ip[0], a->ip[1],
		    a->ip[2], a->ip[3]);
		return;
	}
	if (memcmp(a->ip, v4mapped, 12) == 0) {
		snprintf(out, size, "::ffff:%u.%u.%u.%u", a->ip[12],
		    a->ip[13], a->ip[14], a->ip[15]);
		return;
	}
	/* RFC 5952: the longest run of two or more zero words becomes ::. */
	for (i = 0; i < 8; i = j + 1) {
		for (j = i; j < 8 && load_be16(a->ip + 2 * j) == 0; j++)
			;
		run = j - i;
		if (run > bestlen) {
			best = i;
			bestlen = run;
		}
	}
	if (bestlen < 2)
		bestlen = 0;
	out[0] = '\0';
	for (i = 0; i < 8 && n < size; i++) {
		if (bestlen > 0 && i == best) {
			n += (size_t)snprintf(out + n, size - n, "::");
			i += bestlen - 1;
			continue;
		}
		n += (size_t)snprintf(out + n, size - n, "%s%x",
		    i > 0 && !(bestlen > 0 && i == best + bestlen) ? ":" : "",
		    load_be16(a->ip + 2 * i));
	}
}

const char *
addr_ip_str(const struct netaddr *a, char out[ADDR_STRLEN])
{
	ip_fmt(a, out, ADDR_STRLEN);
	return out;
}

const char *
addr_str(const struct netaddr *a, char out[ADDR_STRLEN])
{
	size_t	n;

	if (a->family == ADDR_V4) {
		ip_fmt(a, out, ADDR_STRLEN);
		n = strlen(out);
	} else {
		out[0] = '[';
		ip_fmt(a, out + 1, ADDR_STRLEN - 1);
		n = strlen(out);
		out[n++] = ']';
	}
	snprintf(out + n, ADDR_STRLEN - n, ":%u", a->port);
	return out;
}

bool
addr_ip_eq(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip,
	    a->family == ADDR_V4 ? 4 : 16) == 0;
}

bool
addr_eq(const struct netaddr *a, const struct netaddr *b)
{
	return addr_ip_eq(a, b) && a->port == b->port;
}

bool
addr_is_loopback(const struct netaddr *a)
{
	static const uint8_t	v6lo[16] = { [15] = 1 };

	if (a->family == ADDR_V4)
		return a->ip[0] == 127;
	return memcmp(a->ip, v6lo, 16) == 0;
}

static bool
v4_dialable(const uint8_t ip[4])
{
	/*
	 * Not 0.0.0.0/8 ("this network"), 224.0.0.0/4 (multicast) or
	 * 240.0.0.0/4 (reserved, with the broadcast 255.255.255.255).
	 */
	return ip[0] != 0 && ip[0] < 224;
}

bool
addr_is_dialable(const struct netaddr *a)
{
	static const uint8_t	zero[16];

	if (a->port == 0)
		return false;
	switch (a->family) {
	case ADDR_V4:
		return v4_dialable(a->ip);
	case ADDR_V6:
		if (memcmp(a->ip, v4mapped, 12) == 0)
			return v4_dialable(a->ip + 12);
		/* :: unspecified; ff00::/8 multicast */
		return memcmp(a->ip, zero, 16) != 0 && a->ip[0] != 0xff;
	default:
		return false;
	}
}

void
addr_unmap(struct netaddr *a)
{
	if (a->family != ADDR_V6 || memcmp(a->ip, v4mapped, 12) != 0)
		return;
	memmove(a->ip, a->ip + 12, 4);
	memset(a->ip + 4, 0, 12);
	a->family = ADDR_V4;
}
