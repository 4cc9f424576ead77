/*
 * WebSocket (RFC 6455): the HTTP/1.1 upgrade on both sides and the
 * frame headers, as pure functions over buffers.  Parsers return 1 (a
 * result, with the bytes it took), 0 (more bytes needed) or -1 (an
 * error: the HTTP status or close code to answer, a reason in err).
 */
#ifndef PEERD_WS_H
#define PEERD_WS_H

#include <stddef.h>
#include <stdint.h>

#define WS_MAXREQ	8192	/* request or response head, CRLF CRLF included */
#define WS_MAXHEADERS	64	/* header lines */
#define WS_MAXPATH	1024
#define WS_MAXHOST	256
#define WS_MAXXFF	64	/* first X-Forwarded-For address, with its NUL */
#define WS_KEYLEN	16	/* Sec-WebSocket-Key, decoded */
#define WS_KEYB64	24	/* ... in base64 */
#define WS_ACCEPTB64	28	/* Sec-WebSocket-Accept: base64 of a SHA-1 */

struct ws_request {
	char	 path[WS_MAXPATH + 1];
	char	 host[WS_MAXHOST + 1];
	char	 key[WS_KEYB64 + 1];
	char	 xff[WS_MAXXFF];	/* "" if absent or too long: not trusted */
};

/*
 * Server side.  ws_parse_request() refuses with *status 400 (malformed,
 * a missing or bad Host, Upgrade, Connection or Sec-WebSocket-Key), 405
 * (not GET), 426 (Sec-WebSocket-Version missing or not 13), or 431 (no
 * end of head within WS_MAXREQ bytes, so also a too long request line,
 * or more than WS_MAXHEADERS headers).  A cut request only ever asks
 * for more.
 */
int	 ws_parse_request(const uint8_t *, size_t, struct ws_request *,
	    size_t *, int *, char *, size_t);
void	 ws_accept(const char *, char [WS_ACCEPTB64 + 1]);
size_t	 ws_response(const struct ws_request *, char *, size_t);
size_t	 ws_error_response(int, char *, size_t);

/* Client side: the request with the caller's key, then the 101's check. */
size_t	 ws_client_request(const char *, const char *,
	    const uint8_t [WS_KEYLEN], char *, size_t);
int	 ws_parse_response(const uint8_t *, size_t, const uint8_t [WS_KEYLEN],
	    size_t *, char *, size_t);

#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xa
#define WS_ISCONTROL(op)	(((op) & 0x8) != 0)

#define WS_MAXFRAMEHDR	14
#define WS_MAXCONTROL	125

#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOINGAWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_NOSTATUS	1005	/* never sent: an empty close */
#define WS_CLOSE_TOOBIG		1009

/* Who receives the frames: a server wants them masked, a client not. */
#define WS_SERVER	0
#define WS_CLIENT	1

struct ws_frame {
	int		 fin;
	int		 opcode;
	int		 masked;
	uint8_t		 mask[4];
	uint64_t	 len;		/* payload */
	size_t		 hdrlen;	/* the payload starts there */
};

/* *code on -1: 1002 for a protocol error, 1009 over the length limit. */
int	 ws_frame_decode(const uint8_t *, size_t, int, uint64_t,
	    struct ws_frame *, uint16_t *, char *, size_t);
void	 ws_unmask(uint8_t *, size_t, const uint8_t [4], uint64_t);
size_t	 ws_frame_encode(uint8_t [WS_MAXFRAMEHDR], int, int, uint64_t,
	    const uint8_t *);
size_t	 ws_close_encode(uint8_t [WS_MAXFRAMEHDR + 2], uint16_t,
	    const uint8_t *);
int	 ws_close_code_valid(unsigned int);
int	 ws_close_decode(const uint8_t *, size_t, uint16_t *);

/*
 * Fragmentation, fed every frame header in order: a continuation
 * outside a message or a new data frame inside one is 1002, a message
 * over its limit 1009.  Control frames pass between fragments.
 */
struct ws_frag {
	int		 inmsg;
	uint64_t	 msglen;
};

int	 ws_frag_check(struct ws_frag *, const struct ws_frame *, uint64_t,
	    uint16_t *, char *, size_t);

#endif /* PEERD_WS_H */
