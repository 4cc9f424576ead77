/*
 * Circuit relay v2 hop and stop messages: what decodes must encode,
 * decode again to the same message and encode again to the same
 * bytes.  The input is also read as a run of frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"

#define ENC_MAX		16384

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
addrs_equal(const struct circuit_addrs *a, const struct circuit_addrs *b)
{
	struct multiaddr	 x, y;
	size_t			 i;

	if (a->naddrs != b->naddrs || b->nbad != 0 || b->ndropped != 0)
		return 0;
	for (i = 0; i < a->naddrs; i++)
		if (circuit_addr(a, i, &x) == -1 ||
		    circuit_addr(b, i, &y) == -1 || !maddr_equal(&x, &y))
			return 0;
	return 1;
}

static int
peer_equal(const struct circuit_peer *a, const struct circuit_peer *b)
{
	if (a->present != b->present)
		return 0;
	return !a->present ||
	    (peerid_equal(&a->id, &b->id) && addrs_equal(&a->addrs, &b->addrs));
}

static int
limit_equal(const struct circuit_limit *a, const struct circuit_limit *b)
{
	return a->present == b->present && a->duration == b->duration &&
	    a->data == b->data;
}

static int
rsvp_equal(const struct circuit_reservation *a,
    const struct circuit_reservation *b)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	if (a->expire != b->expire || !addrs_equal(&a->addrs, &b->addrs) ||
	    (a->voucher == NULL) != (b->voucher == NULL) ||
	    a->voucherlen != b->voucherlen)
		return 0;
	return a->voucher == NULL || a->voucherlen == 0 ||
	    memcmp(a->voucher, b->voucher, a->voucherlen) == 0;
}

static void
fuzz_hop(const uint8_t *data, size_t size)
{
	static struct hop_msg	 m, m2;
	static uint8_t		 enc[ENC_MAX], enc2[ENC_MAX];
	struct rsvp_voucher	 v;
	size_t			 len, len2;

	if (hop_decode(data, size, &m) == -1)
		return;
	if (m.rsvp.voucher != NULL)
		voucher_open(m.rsvp.voucher, m.rsvp.voucherlen, &v, NULL);
	if (hop_encode(&m, enc, sizeof(enc), &len) == -1 ||
	    hop_decode(enc, len, &m2) == -1 ||
	    m2.type != m.type || !m2.has_type ||
	    m2.has_status != m.has_status || m2.status != m.status ||
	    !peer_equal(&m.peer, &m2.peer) || !rsvp_equal(&m.rsvp, &m2.rsvp) ||
	    !limit_equal(&m.limit, &m2.limit) ||
	    hop_encode(&m2, enc2, sizeof(enc2), &len2) == -1 ||
	    len != len2 || memcmp(enc, enc2, len) != 0)
		abort();
}

static void
fuzz_stop(const uint8_t *data, size_t size)
{
	static struct stop_msg	 m, m2;
	static uint8_t		 enc[ENC_MAX], enc2[ENC_MAX];
	size_t			 len, len2;

	if (stop_decode(data, size, &m) == -1)
		return;
	if (stop_encode(&m, enc, sizeof(enc), &len) == -1 ||
	    stop_decode(enc, len, &m2) == -1 ||
	    m2.type != m.type || !m2.has_type ||
	    m2.has_status != m.has_status || m2.status != m.status ||
	    !peer_equal(&m.peer, &m2.peer) ||
	    !limit_equal(&m.limit, &m2.limit) ||
	    stop_encode(&m2, enc2, sizeof(enc2), &len2) == -1 ||
	    len != len2 || memcmp(enc, enc2, len) != 0)
		abort();
}

/* Frames as they come off a stream; each one framed again is the same. */
static void
fuzz_frames(const uint8_t *data, size_t size)
{
	static uint8_t	 out[CIRCUIT_MAXMSG + 8];
	const uint8_t	*msg;
	size_t		 len, used, off = 0;

	while (circuit_frame_read(data + off, size - off, &msg, &len,
	    &used) == 1) {
		if (used > size - off || len > CIRCUIT_MAXMSG || len >= used ||
		    circuit_frame_write(msg, len, out, sizeof(out)) != used ||
		    memcmp(out, data + off, used) != 0)
			abort();
		fuzz_hop(msg, len);
		fuzz_stop(msg, len);
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_hop(data, size);
	fuzz_stop(data, size);
	fuzz_frames(data, size);
	return 0;
}
