/*
 * The engine's WebSocket layer (peerd/engine/wsconn.c) fed a stream as
 * a peer sends it, the upgrade then frames, cut into reads where the
 * input says.  Whatever the cuts, the payload and the answers must be
 * those of the stream in one read; payload never outgrows what was
 * read, nothing is queued past its bound, and the budget is given back.
 * The first byte picks the side, the second and third the cuts.
 */
#include "../../peerd/engine/wsconn.c"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_wsconn: %s\n", what);
		abort();
	}
}

struct run {
	uint8_t		*payload;
	size_t		 len;
	uint8_t		*ctl;
	size_t		 ctllen;
	int		 ended;		/* CLOSE or ERROR, at that byte */
};

static void
run(int side, const uint8_t *s, size_t n, size_t step, struct run *r)
{
	struct bq_acct	 acct = { 0, NULL };
	struct wsconn	*w;
	uint8_t		*buf;
	size_t		 at = 0, len;
	uint16_t	 code;
	char		 err[128];
	int		 res;

	memset(r, 0, sizeof(*r));
	if ((w = wsc_new(side, 4096, &acct)) == NULL ||
	    (buf = malloc(n + 1)) == NULL ||
	    (r->payload = malloc(n + 1)) == NULL)
		abort();
	if (side == WS_CLIENT)
		memcpy(w->key, "the sample nonce", WS_KEYLEN);
	while (at < n && !r->ended) {
		len = n - at < step ? n - at : step;
		memcpy(buf, s + at, len);
		res = wsc_input(w, buf, &len, &code, err, sizeof(err));
		check(len <= step, "more payload than was read");
		memcpy(r->payload + r->len, buf, len);
		r->len += len;
		at += step;
		if (res == WSC_CLOSE || res == WSC_ERROR)
			r->ended = 1;
	}
	check(w->ctl.len <= WS_CTL_MAX + WS_MAXREQ + 64, "ctl over its bound");
	check(w->head.len <= WS_MAXREQ + 1, "head over its bound");
	if ((r->ctl = malloc(w->ctl.len + 1)) == NULL)
		abort();
	r->ctllen = w->ctl.len;
	if (w->ctl.len > 0)
		memcpy(r->ctl, bq_ptr(&w->ctl), w->ctl.len);
	wsc_free(w);
	check(acct.held == 0, "budget not given back");
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 one, cut;
	size_t		 step;
	int		 side;

	if (size < 3)
		return 0;
	side = data[0] & 1 ? WS_CLIENT : WS_SERVER;
	step = 1 + (data[1] << 8 | data[2]) % (size - 2);
	data += 3;
	size -= 3;
	run(side, data, size, size, &one);
	run(side, data, size, step, &cut);
	/* an error can only come sooner or with less payload when cut */
	if (!one.ended && !cut.ended) {
		check(one.len == cut.len && memcmp(one.payload, cut.payload,
		    one.len) == 0, "payload differs with the cuts");
		/* a client masks its pongs with a random key */
		check(one.ctllen == cut.ctllen && (side == WS_CLIENT ||
		    memcmp(one.ctl, cut.ctl, one.ctllen) == 0),
		    "answers differ with the cuts");
	}
	free(one.payload);
	free(one.ctl);
	free(cut.payload);
	free(cut.ctl);
	return 0;
}
