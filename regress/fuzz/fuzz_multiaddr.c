/*
 * Multiaddrs from bytes and from text: whatever decodes must print,
 * and what it prints must parse back to the same bytes.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multiaddr.h"
#include "peerid.h"

#define TEXT_MAX	4096

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
exercise(const struct multiaddr *ma)
{
	struct multiaddr	 mb, relay, dest;
	struct maddr_comp	 c;
	struct sockaddr_storage	 ss;
	struct peerid		 id;
	socklen_t		 sl;
	char			 text[MADDR_STRMAX], err[128];
	size_t			 off = 0;

	if (maddr_format(ma, text, sizeof(text)) == -1)
		abort();
	if (maddr_parse(text, &mb, err, sizeof(err)) == -1 ||
	    !maddr_equal(ma, &mb))
		abort();
	while (maddr_next(ma, &off, &c) == 1)
		continue;
	if (off != ma->len)
		abort();
	if (maddr_get_peerid(ma, &id) == 0 && maddr_has(ma, MADDR_P2P) != 1)
		abort();
	if (maddr_split_circuit(ma, &relay, &dest) == 0 &&
	    relay.len + dest.len + 2 != ma->len)
		abort();
	if (maddr_to_sockaddr(ma, &ss, &sl) == 0 &&
	    maddr_from_sockaddr((struct sockaddr *)&ss, &mb) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct multiaddr	 ma;
	char			 text[TEXT_MAX], err[128];

	if (maddr_decode(data, size, &ma) == 0)
		exercise(&ma);
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (maddr_parse(text, &ma, err, sizeof(err)) == 0)
			exercise(&ma);
	}
	return 0;
}
