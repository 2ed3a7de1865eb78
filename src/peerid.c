/* peerid.c - a peer id (20 bytes) to the client and version that sent it */
#include <stdio.h>
#include <string.h>

#include "peerid.h"
#include "util.h"

/*
 * The conventions (BEP 20 and what clients do): the Azureus style
 * "-XXabcd-" (two letters, four version characters), the Shadow style
 * "Xabc--" (one letter, up to five version characters, then dashes), the
 * Mainline style "M7-4-0--" (a letter, numbers between dashes).  The
 * tables follow libtorrent's and Transmission's identify_client.  Every
 * name here is ASCII ("uTorrent" for µTorrent).
 */

struct client {
	const char	*code;
	const char	*name;
};

/* Azureus style: "-" code(2) version(4) "-". */
static const struct client az_clients[] = {
	{ "7T", "aTorrent" },		{ "A~", "Ares" },
	{ "AG", "Ares" },		{ "AR", "Arctic" },
	{ "AT", "Artemis" },		{ "AV", "Avicora" },
	{ "AX", "BitPump" },		{ "AZ", "Vuze" },
	{ "BB", "BitBuddy" },		{ "BC", "BitComet" },
	{ "BE", "BitTorrent SDK" },	{ "BF", "Bitflu" },
	{ "BG", "BTG" },		{ "BI", "BiglyBT" },
	{ "BL", "BitBlinder" },		{ "BN", "Baidu Netdisk" },
	{ "BP", "BitTorrent Pro" },	{ "BR", "BitRocket" },
	{ "BS", "BTSlave" },		{ "BT", "BitTorrent" },
	{ "BW", "BitWombat" },		{ "BX", "BittorrentX" },
	{ "CD", "Enhanced CTorrent" },	{ "CT", "CTorrent" },
	{ "DE", "Deluge" },		{ "DP", "Propagate Data Client" },
	{ "EB", "EBit" },		{ "ES", "Electric Sheep" },
	{ "FC", "FileCroc" },		{ "FD", "Free Download Manager" },
	{ "FG", "FlashGet" },		{ "FL", "Folx" },
	{ "FT", "FoxTorrent" },		{ "FW", "FrostWire" },
	{ "FX", "Freebox" },		{ "GR", "GetRight" },
	{ "GQ", "gtorrent" },		{ "GS", "GSTorrent" },
	{ "GT", "gtorrent" },
	{ "HK", "Hekate" },		{ "HL", "Halite" },
	{ "HN", "Hydranode" },		{ "IL", "iLivid" },
	{ "KG", "KGet" },		{ "KT", "KTorrent" },
	{ "LC", "LeechCraft" },		{ "LH", "LH-ABC" },
	{ "LK", "Linkage" },		{ "LP", "Lphant" },
	{ "LT", "libtorrent" },		{ "lt", "libTorrent" },
	{ "LW", "LimeWire" },		{ "MG", "MediaGet" },
	{ "MO", "MonoTorrent" },	{ "MP", "MooPolice" },
	{ "MR", "Miro" },		{ "MT", "MoonlightTorrent" },
	{ "NB", "Net::BitTorrent" },	{ "NE", "BT Next Evolution" },
	{ "NX", "Net Transport" },	{ "OS", "OneSwarm" },
	{ "OT", "OmegaTorrent" },	{ "PB", "Protocol::BitTorrent" },
	{ "PD", "Pando" },		{ "PI", "PicoTorrent" },
	{ "PT", "PHPTracker" },		{ "qB", "qBittorrent" },
	{ "QD", "QQDownload" },		{ "QT", "Qt 4 Torrent example" },
	{ "RT", "Retriever" },		{ "RZ", "RezTorrent" },
	{ "SB", "Swiftbit" },		{ "SD", "Thunder" },
	{ "SM", "SoMud" },		{ "SP", "BitSpirit" },
	{ "SS", "SwarmScope" },		{ "ST", "SymTorrent" },
	{ "st", "sharktorrent" },	{ "SZ", "Shareaza" },
	{ "TB", "Torch" },		{ "TE", "terasaur Seed Bank" },
	{ "TL", "Tribler" },		{ "TN", "TorrentDotNET" },
	{ "TR", "Transmission" },	{ "TS", "Torrentstorm" },
	{ "TT", "TuoTu" },		{ "UE", "uTorrent Embedded" },
	{ "UL", "uLeecher!" },		{ "UM", "uTorrent Mac" },
	{ "UT", "uTorrent" },		{ "UW", "uTorrent Web" },
	{ "VG", "Vagaa" },		{ "WD", "WebTorrent Desktop" },
	{ "WT", "BitLet" },		{ "WW", "WebTorrent" },
	{ "WY", "FireTorrent" },	{ "XF", "Xfplay" },
	{ "XL", "Xunlei" },		{ "XS", "XSwifter" },
	{ "XT", "XanTorrent" },		{ "XX", "Xtorrent" },
	{ "ZO", "Zona" },		{ "ZT", "ZipTorrent" },
};

/* Shadow style: code(1) version(up to 5) then "--". */
static const struct client shadow_clients[] = {
	{ "A", "ABC" },		{ "O", "Osprey Permaseed" },
	{ "Q", "BTQueue" },	{ "R", "Tribler" },
	{ "S", "Shadow" },	{ "T", "BitTornado" },
	{ "U", "UPnP NAT BitTorrent" },
};

/* Mainline style: code(1), then numbers between dashes. */
static const struct client mainline_clients[] = {
	{ "M", "Mainline" },	{ "Q", "Queen Bee" },
};

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(uint8_t c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static bool
is_print(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* A version character: 0-9, then A-Z as 10-35, a-z as 36-61. */
static int
vdigit(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	if (c == '.')
		return 62;
	return -1;
}

static const char *
lookup(const struct client *tab, size_t n, const uint8_t *code, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (memcmp(tab[i].code, code, len) == 0 &&
		    tab[i].code[len] == '\0')
			return tab[i].name;
	return NULL;
}

/* Transmission: "-TR2940-" is 2.94; from 4.0 "-TR4050-" is 4.0.5. */
static void
tr_version(const uint8_t *v, char *out, size_t len)
{
	const char	*suffix = "";

	if (v[0] >= '4' && is_digit(v[1]) && is_digit(v[2])) {
		if (v[3] == 'Z' || v[3] == 'X')
			suffix = "-dev";
		else if (v[3] == 'B')
			suffix = "-beta";
		snprintf(out, len, "%c.%c.%c%s", v[0], v[1], v[2], suffix);
		return;
	}
	if (v[3] == 'Z' || v[3] == 'X')
		suffix = "+";
	if (v[0] == '0' && v[1] == '0' && v[2] == '0')
		snprintf(out, len, "0.%c%s", v[3], suffix);	/* -TR0006- */
	else if (v[0] == '0' && v[1] == '0')
		snprintf(out, len, "0.%c%c%s", v[2], v[3], suffix);
	else
		snprintf(out, len, "%c.%c%c%s", v[0], v[1], v[2], suffix);
}

/* "-qB4520-": 4.5.2; a fourth part only when it is a digit, not 0. */
static void
az_version(const uint8_t *code, const uint8_t *v, char *out, size_t len)
{
	int	d[4], i;

	for (i = 0; i < 4; i++)
		d[i] = vdigit(v[i]);
	if (code[0] == 'T' && code[1] == 'R') {
		tr_version(v, out, len);
		return;
	}
	if ((code[0] == 'C' && code[1] == 'D') ||
	    (code[0] == 'B' && code[1] == 'C')) {
		/* two numbers of two digits: -CD0303- is 3.3, -BC0150- 1.50 */
		if (code[0] == 'C')
			snprintf(out, len, "%d.%d", d[0] * 10 + d[1],
			    d[2] * 10 + d[3]);
		else
			snprintf(out, len, "%d.%c%c", d[0] * 10 + d[1], v[2],
			    v[3]);
		return;
	}
	if (is_digit(v[3]) && v[3] != '0')
		snprintf(out, len, "%d.%d.%d.%d", d[0], d[1], d[2], d[3]);
	else
		snprintf(out, len, "%d.%d.%d", d[0], d[1], d[2]);
}

static bool
azureus(const uint8_t *id, char *out, size_t len)
{
	const char	*name;
	char		 ver[24];
	int		 i;

	if (id[0] != '-' || id[7] != '-' || !is_print(id[1]) ||
	    !is_print(id[2]))
		return false;
	for (i = 3; i < 7; i++)
		if (!is_alnum(id[i]))
			return false;
	name = lookup(az_clients, nitems(az_clients), id + 1, 2);
	if (name == NULL)
		return false;
	az_version(id + 1, id + 3, ver, sizeof(ver));
	snprintf(out, len, "%s %s", name, ver);
	return true;
}

static bool
shadow(const uint8_t *id, char *out, size_t len)
{
	const char	*name;
	char		 ver[32];
	size_t		 n, i, used = 0;
	int		 r;

	name = lookup(shadow_clients, nitems(shadow_clients), id, 1);
	if (name == NULL)
		return false;
	for (n = 1; n < 6 && vdigit(id[n]) >= 0 && id[n] != '.'; n++)
		;
	if (n == 1 || id[n] != '-' || id[n + 1] != '-')
		return false;
	ver[0] = '\0';
	for (i = 1; i < n; i++) {
		r = snprintf(ver + used, sizeof(ver) - used, "%s%d",
		    i > 1 ? "." : "", vdigit(id[i]));
		if (r < 0 || (size_t)r >= sizeof(ver) - used)
			break;
		used += (size_t)r;
	}
	snprintf(out, len, "%s %s", name, ver);
	return true;
}

/*
 * Numbers between dashes from id[at]: "7-4-0--" or "1-37-0-"; three
 * numbers of at most two digits (Mainline) or three (aria2), each
 * followed by a dash.
 */
static bool
dashed(const uint8_t *id, size_t at, size_t maxd, char *ver, size_t vlen)
{
	size_t	part, n, used = 0;
	int	r;

	for (part = 0; part < 3; part++) {
		for (n = 0; at + n < PEERID_LEN && is_digit(id[at + n]) &&
		    n < maxd; n++)
			;
		if (n == 0 || at + n >= PEERID_LEN || id[at + n] != '-')
			return false;
		r = snprintf(ver + used, vlen - used, "%s%.*s",
		    part > 0 ? "." : "", (int)n, (const char *)id + at);
		if (r < 0 || (size_t)r >= vlen - used)
			return false;
		used += (size_t)r;
		at += n + 1;
	}
	return true;
}

static bool
mainline(const uint8_t *id, char *out, size_t len)
{
	const char	*name;
	char		 ver[16];

	if (memcmp(id, "A2-", 3) == 0 && dashed(id, 3, 3, ver, sizeof(ver))) {
		snprintf(out, len, "aria2 %s", ver);
		return true;
	}
	name = lookup(mainline_clients, nitems(mainline_clients), id, 1);
	if (name == NULL || !dashed(id, 1, 2, ver, sizeof(ver)))
		return false;
	snprintf(out, len, "%s %s", name, ver);
	return true;
}

/* A few with a fixed prefix of their own. */
static bool
others(const uint8_t *id, char *out, size_t len)
{
	if (memcmp(id, "exbc", 4) == 0) {
		snprintf(out, len, "BitComet %u.%02u", id[4] % 100u,
		    id[5] % 100u);
		return true;
	}
	if (memcmp(id, "XBT", 3) == 0 && is_digit(id[3]) && is_digit(id[4]) &&
	    is_digit(id[5])) {
		snprintf(out, len, "XBT %c.%c.%c", id[3], id[4], id[5]);
		return true;
	}
	if (memcmp(id, "-ML", 3) == 0) {
		snprintf(out, len, "MLdonkey");
		return true;
	}
	return false;
}

/* Only printable ASCII stays in out; anything else becomes '?'. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if (!is_print((uint8_t)*s))
			*s = '?';
}

bool
peerid_client(const uint8_t id[PEERID_LEN], char *out, size_t len)
{
	size_t	n;
	bool	found;

	if (len == 0)
		return false;
	out[0] = '\0';
	found = azureus(id, out, len) || mainline(id, out, len) ||
	    shadow(id, out, len) || others(id, out, len);
	if (!found) {
		for (n = 0; n < 8 && n + 1 < len && is_print(id[n]); n++)
			out[n] = (char)id[n];
		out[n] = '\0';
	}
	sanitize(out);
	return found;
}
