/*
 * WebSocket frames (RFC 6455 section 5): headers, masking, close
 * payloads and the fragmentation rules.
 */
#include <string.h>

#include "errbuf.h"
#include "ws.h"

static int
frame_err(uint16_t *code, uint16_t c, char *err, size_t errsz,
    const char *why)
{
	*code = c;
	return errbuf(err, errsz, "%s", why);
}

static int
known_opcode(int op)
{
	return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY ||
	    op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

/* The 16- or 64-bit length that ends at h: minimal, top bit clear. */
static int
ext_len(const uint8_t *buf, size_t len, size_t h, uint64_t *n,
    uint16_t *code, char *err, size_t errsz)
{
	size_t	 i;

	if (len < h)
		return 0;
	for (*n = 0, i = 2; i < h; i++)
		*n = *n << 8 | buf[i];
	if (h == 10 && (*n >> 63) != 0)
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "64-bit length with the top bit set");
	if (*n < (h == 4 ? 126 : 65536))
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "length not in its minimal encoding");
	return 1;
}

/*
 * One frame header off buf, received by side (WS_SERVER, WS_CLIENT);
 * payloads over maxlen are refused.  Errors come as soon as the bytes
 * that show them are there; f is only filled on 1.  Text frames pass:
 * UTF-8 is the caller's to check, or to refuse text altogether.
 */
int
ws_frame_decode(const uint8_t *buf, size_t len, int side, uint64_t maxlen,
    struct ws_frame *f, uint16_t *code, char *err, size_t errsz)
{
	uint64_t	 n;
	size_t		 h = 2;
	int		 r;

	if (len < 2)
		return 0;
	if (buf[0] & 0x70)
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "reserved bits set");
	f->fin = (buf[0] & 0x80) != 0;
	f->opcode = buf[0] & 0x0f;
	f->masked = (buf[1] & 0x80) != 0;
	n = buf[1] & 0x7f;
	if (!known_opcode(f->opcode))
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "unknown opcode");
	if (WS_ISCONTROL(f->opcode) && (!f->fin || n > WS_MAXCONTROL))
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "fragmented or long control frame");
	if (side == WS_SERVER && !f->masked)
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "unmasked frame from a client");
	if (side != WS_SERVER && f->masked)
		return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
		    "masked frame from a server");
	if (n == 126 || n == 127) {
		h += n == 126 ? 2 : 8;
		if ((r = ext_len(buf, len, h, &n, code, err, errsz)) != 1)
			return r;
	}
	if (n > maxlen)
		return frame_err(code, WS_CLOSE_TOOBIG, err, errsz,
		    "frame too long");
	if (f->masked) {
		if (len < h + 4)
			return 0;
		memcpy(f->mask, buf + h, 4);
		h += 4;
	} else
		memset(f->mask, 0, sizeof(f->mask));
	f->len = n;
	f->hdrlen = h;
	return 1;
}

/* XOR a piece of payload that starts off bytes into the frame's payload. */
void
ws_unmask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t off)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] ^= mask[(off + i) & 3];
}

/* A frame header, masked if mask is not NULL; returns its length. */
size_t
ws_frame_encode(uint8_t out[WS_MAXFRAMEHDR], int fin, int opcode,
    uint64_t len, const uint8_t *mask)
{
	size_t	 h = 2, i, n;

	out[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
	if (len < 126)
		out[1] = len;
	else if (len <= 0xffff) {
		out[1] = 126;
		h += 2;
	} else {
		out[1] = 127;
		h += 8;
	}
	for (n = h - 2, i = 0; i < n; i++)
		out[2 + i] = len >> (8 * (n - 1 - i));
	if (mask != NULL) {
		out[1] |= 0x80;
		memcpy(out + h, mask, 4);
		h += 4;
	}
	return h;
}

/* A whole close frame with a status code and no reason. */
size_t
ws_close_encode(uint8_t out[WS_MAXFRAMEHDR + 2], uint16_t code,
    const uint8_t *mask)
{
	size_t	 h;

	h = ws_frame_encode(out, 1, WS_OP_CLOSE, 2, mask);
	out[h] = code >> 8;
	out[h + 1] = code & 0xff;
	if (mask != NULL)
		ws_unmask(out + h, 2, mask, 0);
	return h + 2;
}

/* Codes a peer may send in a close frame (section 7.4). */
int
ws_close_code_valid(unsigned int c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) ||
	    (c >= 3000 && c <= 4999);
}

/*
 * An unmasked close payload: 1 with its code, 0 when empty (*code is
 * then 1005), -1 when a 1002 is due.  The reason is not checked.
 */
int
ws_close_decode(const uint8_t *p, size_t len, uint16_t *code)
{
	if (len == 0) {
		*code = WS_CLOSE_NOSTATUS;
		return 0;
	}
	if (len < 2 || len > WS_MAXCONTROL)
		return -1;
	*code = (uint16_t)(p[0] << 8 | p[1]);
	return ws_close_code_valid(*code) ? 1 : -1;
}

int
ws_frag_check(struct ws_frag *fs, const struct ws_frame *f, uint64_t maxmsg,
    uint16_t *code, char *err, size_t errsz)
{
	if (WS_ISCONTROL(f->opcode))
		return 0;
	if (f->opcode == WS_OP_CONT) {
		if (!fs->inmsg)
			return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
			    "continuation outside a message");
	} else {
		if (fs->inmsg)
			return frame_err(code, WS_CLOSE_PROTOCOL, err, errsz,
			    "data frame inside a fragmented message");
		fs->msglen = 0;
	}
	if (f->len > maxmsg - fs->msglen)
		return frame_err(code, WS_CLOSE_TOOBIG, err, errsz,
		    "message too long");
	fs->msglen += f->len;
	fs->inmsg = !f->fin;
	return 0;
}
