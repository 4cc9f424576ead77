/*
 * Dialing: a TCP connection to an ip4 or ip6 multiaddr, with the peer ID
 * of its /p2p part checked in the handshake.  A live connection to the
 * same peer is reused.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"

struct conn *
dial_maddr(const struct multiaddr *ma, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct peerid		 id;
	struct conn		*c;
	int			 have_id, s;

	if (maddr_has(ma, MADDR_P2P_CIRCUIT))
		return client_dial(ma, err, errlen);
	have_id = maddr_get_peerid(ma, &id) == 0;
	if (have_id && (c = conn_find_peer(&id)) != NULL)
		return c;
	if (maddr_has(ma, MADDR_WS) || maddr_has(ma, MADDR_WSS)) {
		snprintf(err, errlen, "the WebSocket transport is not "
		    "supported yet");
		return NULL;
	}
	if (maddr_to_sockaddr(ma, &ss, &len) == -1) {
		snprintf(err, errlen, "only /ip4 and /ip6 with /tcp can be "
		    "dialled");
		return NULL;
	}
	if (conn_count() >= engine_max_connections()) {
		snprintf(err, errlen, "connection limit reached");
		return NULL;
	}
	if ((s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(s, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(s);
		return NULL;
	}
	if ((c = conn_new(s, CONN_OUTBOUND, (struct sockaddr *)&ss, len)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		close(s);
		return NULL;
	}
	if (have_id) {
		c->peer = id;
		c->expect_peer = 1;
	}
	counters.dialed++;
	return c;
}
