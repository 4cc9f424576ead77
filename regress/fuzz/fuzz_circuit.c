/*
 * Circuit relay v2 hop and stop messages: what decodes must encode,
 * decode again to the same message and encode again to the same
 * bytes.  The input is also read as a run of frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "circuit_equal.h"

#define ENC_MAX		16384

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What our encoder wrote decodes without a bad or dropped address. */
static int
addrs_clean(const struct circuit_addrs *a)
{
	return a->nbad == 0 && a->ndropped == 0;
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
	    !hop_equal(&m, &m2) || !addrs_clean(&m2.peer.addrs) ||
	    !addrs_clean(&m2.rsvp.addrs) ||
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
	    !stop_equal(&m, &m2) || !addrs_clean(&m2.peer.addrs) ||
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
