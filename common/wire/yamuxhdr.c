/*
 * The yamux frame header.
 */
#include <stdint.h>

#include "yamuxhdr.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
yamux_hdr_encode(uint8_t h[YAMUX_HDRLEN], int type, int flags, uint32_t id,
    uint32_t len)
{
	h[0] = 0;
	h[1] = type;
	h[2] = flags >> 8;
	h[3] = flags & 0xff;
	put32(h + 4, id);
	put32(h + 8, len);
}

/* -1: a version or a type yamux 0 does not have. */
int
yamux_hdr_decode(const uint8_t h[YAMUX_HDRLEN], struct yamux_hdr *y)
{
	y->version = h[0];
	y->type = h[1];
	y->flags = h[2] << 8 | h[3];
	y->id = get32(h + 4);
	y->len = get32(h + 8);
	if (y->version != 0 || y->type > YAMUX_T_GOAWAY)
		return -1;
	return 0;
}
