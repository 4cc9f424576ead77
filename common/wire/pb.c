/*
 * Just enough protobuf for the libp2p messages: a writer that never
 * writes past its buffer and a reader that walks fields one at a time.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pb.h"
#include "varint.h"

void
pbw_init(struct pbw *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->len = 0;
	w->cap = cap;
	w->overflow = 0;
}

static int
pbw_room(struct pbw *w, uint32_t field, size_t need)
{
	if (w->overflow || field == 0 || field > PB_MAXFIELD ||
	    need > w->cap - w->len) {
		w->overflow = 1;
		return 0;
	}
	return 1;
}

void
pbw_varint(struct pbw *w, uint32_t field, uint64_t v)
{
	uint8_t	 t[UVARINT_MAXLEN], x[UVARINT_MAXLEN];
	size_t	 tl, xl;

	tl = uvarint_encode((uint64_t)field << 3 | PB_VARINT, t);
	xl = uvarint_encode(v, x);
	if (!pbw_room(w, field, tl + xl))
		return;
	memcpy(w->buf + w->len, t, tl);
	memcpy(w->buf + w->len + tl, x, xl);
	w->len += tl + xl;
}

void
pbw_bytes(struct pbw *w, uint32_t field, const void *data, size_t len)
{
	uint8_t	 t[UVARINT_MAXLEN], x[UVARINT_MAXLEN];
	size_t	 tl, xl;

	tl = uvarint_encode((uint64_t)field << 3 | PB_LEN, t);
	xl = uvarint_encode(len, x);
	if (len > w->cap) {
		w->overflow = 1;
		return;
	}
	if (!pbw_room(w, field, tl + xl + len))
		return;
	memcpy(w->buf + w->len, t, tl);
	memcpy(w->buf + w->len + tl, x, xl);
	if (len > 0)
		memcpy(w->buf + w->len + tl + xl, data, len);
	w->len += tl + xl + len;
}

void
pbw_string(struct pbw *w, uint32_t field, const char *s)
{
	pbw_bytes(w, field, s, strlen(s));
}

/* A submessage: its body is written after room for its header. */
size_t
pbw_nest_begin(struct pbw *w)
{
	size_t	 start = w->len;

	if (w->overflow || w->cap - w->len < PBW_NEST_HDR)
		w->overflow = 1;
	else
		w->len += PBW_NEST_HDR;
	return start;
}

/* Put the tag and length before the body written since pbw_nest_begin. */
void
pbw_nest_end(struct pbw *w, uint32_t field, size_t start)
{
	uint8_t	 t[UVARINT_MAXLEN], x[UVARINT_MAXLEN];
	size_t	 tl, xl, body, blen;

	if (w->overflow)
		return;
	body = start + PBW_NEST_HDR;
	blen = w->len - body;
	tl = uvarint_encode((uint64_t)field << 3 | PB_LEN, t);
	xl = uvarint_encode(blen, x);
	memcpy(w->buf + start, t, tl);
	memcpy(w->buf + start + tl, x, xl);
	memmove(w->buf + start + tl + xl, w->buf + body, blen);
	w->len = start + tl + xl + blen;
}

void
pbr_init(struct pbr *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

/* A protobuf varint: up to 10 bytes, no bits beyond the 64th. */
static int
pb_varint(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
	uint64_t	 x = 0;
	size_t		 i;

	for (i = 0; i < len && i < 10; i++) {
		if (i == 9 && p[i] > 1)
			return -1;
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			*used = i + 1;
			return 0;
		}
	}
	return -1;
}

static uint64_t
pb_le(const uint8_t *p, size_t n)
{
	uint64_t	 v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Returns 1 with *f filled, 0 at the end of the input, -1 if malformed. */
int
pbr_next(struct pbr *r, struct pbf *f)
{
	const uint8_t	*p;
	size_t		 left, n, used;
	uint64_t	 tag;

	if (r->off >= r->len)
		return 0;
	p = r->p + r->off;
	left = r->len - r->off;
	if (pb_varint(p, left, &tag, &used) == -1)
		return -1;
	if ((tag >> 3) == 0 || (tag >> 3) > PB_MAXFIELD)
		return -1;
	f->field = (uint32_t)(tag >> 3);
	f->wire = (int)(tag & 7);
	p += used;
	left -= used;
	switch (f->wire) {
	case PB_VARINT:
		if (pb_varint(p, left, &f->v, &n) == -1)
			return -1;
		break;
	case PB_I64:
	case PB_I32:
		n = f->wire == PB_I64 ? 8 : 4;
		if (left < n)
			return -1;
		f->v = pb_le(p, n);
		break;
	case PB_LEN:
		if (pb_varint(p, left, &f->v, &n) == -1 || f->v > left - n)
			return -1;
		p += n;
		left -= n;
		used += n;
		n = (size_t)f->v;
		break;
	default:
		return -1;
	}
	f->data = p;
	f->len = n;
	r->off += used + n;
	return 1;
}

/* Well-formed UTF-8 (no overlong forms or surrogates) without NUL. */
int
pb_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 c, min;

	while (i < len) {
		c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			c &= 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n > len - i - 1)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
