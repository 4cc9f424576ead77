/*
 * Circuits between peerbench's own peers, through the relay under test,
 * once every peer holds its reservation (-C).  Peer 2i opens a hop
 * stream and CONNECTs to peer 2i + 1; the relay opens a stop stream to
 * it, which is answered OK.  What then crosses a circuit is not libp2p:
 * the relay only moves bytes, so the ends send plain bytes and the
 * relay's work per byte is the same (decrypt from one peer, encrypt to
 * the other).
 *
 * Phases: one circuit; relayed pings on it, 32 bytes echoed, one at a
 * time; that circuit at full speed for -d seconds; the others opened;
 * all of them at full speed for -d seconds.  For each transfer phase
 * the bytes that arrived, the relay's CPU seconds (summed over -p
 * PIDs, from /proc/PID/stat) and peerbench's own.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "circuit.h"
#include "multistream.h"
#include "peerbench.h"

#define PB_OUTHIGH	(128 * 1024)	/* queued before we stop pumping */
#define PB_SETTLE	1.0		/* seconds between the transfers */

static struct event	 phase_ev;
static struct phase	 p0;
static uint8_t		 bulk[PB_DATAMAX];

static void	 phase_next(void);

static double
relay_cpu(void)
{
	char	 path[64], buf[1024], *p;
	double	 total = 0;
	long	 ticks = sysconf(_SC_CLK_TCK);
	size_t	 i, n;
	FILE	*f;
	unsigned long long	 ut, st;

	for (i = 0; i < B.nrelay_pids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat",
		    (int)B.relay_pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* after the command's ")": state is field 3, utime 14 */
		if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
		    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		    &ut, &st) != 2)
			return -1;
		total += (double)(ut + st) / ticks;
	}
	return total;
}

static uint64_t
rx_total(void)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < B.ncirc; i++)
		n += B.circ[i].rx;
	return n;
}

static void
mark(struct phase *p)
{
	p->t = now();
	p->relay_cpu = relay_cpu();
	p->own_cpu = cpu_seconds();
	p->rx = rx_total();
}

static void
circ_fail(const char *why)
{
	fail_count(why);
	fprintf(stderr, "peerbench: circuits: %s\n", why);
	B.phase = CP_DONE;
	finish();
}

static struct pstream *
circ_stream(size_t ci, int src, enum ps_kind kind)
{
	struct pconn	*c = B.conns[src ? B.circ[ci].src : B.circ[ci].dst];
	size_t		 i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < PB_MAXSTREAMS; i++)
		if (c->st[i].circ == ci + 1 && c->st[i].kind == kind)
			return &c->st[i];
	return NULL;
}

static int
circ_open(size_t ci)
{
	struct pconn	*c = B.conns[B.circ[ci].src];
	struct pstream	*s;
	uint8_t		 m[128];
	size_t		 n;

	if (c == NULL || B.conns[B.circ[ci].dst] == NULL)
		return -1;
	if ((s = st_new(c, c->next_sid, PS_CONNECT)) == NULL)
		return -1;
	c->next_sid += 2;
	s->circ = ci + 1;
	B.circ[ci].t_ping = now();
	n = ms_many(m, sizeof(m), MS_PROTO, CIRCUIT_HOP);
	if (y_send(c, YAMUX_T_DATA, YAMUX_F_SYN, s->id, n, m) == -1 ||
	    pc_flush(c) == -1)
		return -1;
	pc_events(c);
	return 0;
}

/* The hop protocol is agreed: CONNECT to the circuit's far end. */
int
circ_connect(struct pconn *c, struct pstream *s)
{
	struct hop_msg	 h;
	struct circuit	*ci = &B.circ[s->circ - 1];
	uint8_t		 m[256];
	size_t		 n;

	memset(&h, 0, sizeof(h));
	h.type = HOP_CONNECT;
	h.has_type = 1;
	h.peer.present = 1;
	if (peerid_from_pubkey_pb(B.ids[ci->dst].pubkey_pb,
	    ED25519_PUBKEY_PB_LEN, &h.peer.id) == -1 ||
	    hop_encode(&h, m, sizeof(m), &n) == -1 ||
	    (n = circuit_frame_write(m, n, m, sizeof(m))) == 0) {
		pc_close(c, "cannot encode CONNECT");
		return -1;
	}
	return y_send(c, YAMUX_T_DATA, 0, s->id, n, m);
}

static int
stop_answer(struct pconn *c, struct pstream *s, const uint8_t *m,
    size_t len)
{
	static struct stop_msg	 sm;
	struct peerid		 id;
	uint8_t			 out[64];
	size_t			 i, n;

	if (stop_decode(m, len, &sm) == -1 || !sm.has_type ||
	    sm.type != STOP_CONNECT || !sm.peer.present) {
		pc_close(c, "stop: not a CONNECT");
		return -1;
	}
	/* which of our circuits this is: its source's peer ID */
	for (i = 0; i < B.ncirc; i++) {
		if (B.circ[i].dst != c->idx || peerid_from_pubkey_pb(
		    B.ids[B.circ[i].src].pubkey_pb, ED25519_PUBKEY_PB_LEN,
		    &id) == -1)
			continue;
		if (peerid_equal(&id, &sm.peer.id))
			break;
	}
	if (i == B.ncirc) {
		pc_close(c, "stop: a CONNECT from a stranger");
		return -1;
	}
	memset(&sm, 0, sizeof(sm));
	sm.type = STOP_STATUS;
	sm.has_type = 1;
	sm.status = CIRCUIT_OK;
	sm.has_status = 1;
	if (stop_encode(&sm, out, sizeof(out), &n) == -1 ||
	    (n = circuit_frame_write(out, n, out, sizeof(out))) == 0) {
		pc_close(c, "cannot encode the stop status");
		return -1;
	}
	s->circ = i + 1;
	s->kind = PS_CDST;
	return y_send(c, YAMUX_T_DATA, 0, s->id, n, out);
}

static int
hop_status(struct pconn *c, struct pstream *s, const uint8_t *m,
    size_t len)
{
	static struct hop_msg	 h;
	static char		 why[64];
	struct circuit		*ci = &B.circ[s->circ - 1];

	if (hop_decode(m, len, &h) == -1 || !h.has_type ||
	    h.type != HOP_STATUS || !h.has_status) {
		pc_close(c, "hop: CONNECT answered with no status");
		return -1;
	}
	if (h.status != CIRCUIT_OK) {
		snprintf(why, sizeof(why), "CONNECT refused: %s",
		    circuit_status_name(h.status));
		circ_fail(why);
		return -1;
	}
	s->kind = PS_CSRC;
	ci->up = 1;
	B.st.lat_circ[B.st.circuits_up++] = now() - ci->t_ping;
	return 0;
}

/* A framed message on a hop (CONNECT) or stop stream. */
int
circ_message(struct pconn *c, struct pstream *s)
{
	const uint8_t	*m;
	size_t		 len, used;
	int		 r;

	if ((r = circuit_frame_read(bq_ptr(&s->in), s->in.len, &m, &len,
	    &used)) == 0)
		return 0;
	if (r == -1) {
		pc_close(c, "circuit: malformed message");
		return -1;
	}
	if ((s->kind == PS_STOP ? stop_answer(c, s, m, len) :
	    hop_status(c, s, m, len)) == -1)
		return -1;
	bq_consume(&s->in, used);
	/* bytes behind the message are the circuit's */
	if (s->in.len > 0 && circ_data(c, s, bq_ptr(&s->in), s->in.len) ==
	    -1)
		return -1;
	bq_free(&s->in);
	phase_next();
	return 0;
}

static void
ping_send(struct circuit *ci)
{
	struct pstream	*s = circ_stream(0, 1, PS_CSRC);
	struct pconn	*c = B.conns[ci->src];
	uint8_t		 m[PB_PINGLEN];

	if (s == NULL) {
		circ_fail("the ping circuit is gone");
		return;
	}
	randombytes_buf(m, sizeof(m));
	ci->echo = 0;
	ci->t_ping = now();
	if (y_send(c, YAMUX_T_DATA, 0, s->id, sizeof(m), m) == 0 &&
	    pc_flush(c) == 0)
		pc_events(c);
}

int
circ_data(struct pconn *c, struct pstream *s, const uint8_t *p,
    size_t len)
{
	struct circuit	*ci = &B.circ[s->circ - 1];

	if (s->kind == PS_CDST) {
		ci->rx += len;
		/* the far end echoes only while pinging */
		if (B.phase == CP_PING)
			return y_send(c, YAMUX_T_DATA, 0, s->id, len, p);
		return 0;
	}
	if (B.phase != CP_PING)
		return 0;
	ci->echo += len;
	if (ci->echo < PB_PINGLEN)
		return 0;
	B.st.lat_ping[B.st.nlat_ping++] = now() - ci->t_ping;
	if (B.st.nlat_ping < B.npings)
		ping_send(ci);
	else
		phase_next();
	return 0;
}

/* Full speed: as much as the relay's window and our queue take. */
void
circ_pump(struct pconn *c)
{
	struct pstream	*s;
	size_t		 i, n;

	if (B.phase != CP_TPUT1 && B.phase != CP_TPUT16)
		return;
	for (i = 0; i < PB_MAXSTREAMS; i++) {
		s = &c->st[i];
		if (s->kind != PS_CSRC ||
		    (B.phase == CP_TPUT1 && s->circ != 1))
			continue;
		while (c->state != PC_DONE && s->sendwin > 0) {
			/* the socket takes what is queued: queue more */
			if (c->out.len >= PB_OUTHIGH && (pc_flush(c) == -1 ||
			    c->out.len >= PB_OUTHIGH))
				break;
			n = s->sendwin < sizeof(bulk) ? s->sendwin :
			    sizeof(bulk);
			if (y_send(c, YAMUX_T_DATA, 0, s->id, n, bulk) == -1)
				return;
		}
	}
}

void
circ_ended(struct pconn *c, struct pstream *s)
{
	if (B.phase != CP_DONE)
		circ_fail(s->kind == PS_CDST || s->kind == PS_CSRC ?
		    "a circuit ended while measured" :
		    "a circuit ended before it was up");
}

static void
pump_all(void)
{
	struct pconn	*c;
	size_t		 i;

	for (i = 0; i < B.ncirc; i++) {
		if ((c = B.conns[B.circ[i].src]) == NULL)
			continue;
		circ_pump(c);
		if (c->state != PC_DONE && pc_flush(c) == 0)
			pc_events(c);
	}
}

static void
xfer_end(struct xfer *x, size_t ncirc)
{
	struct phase	 p1;

	mark(&p1);
	x->done = 1;
	x->circuits = ncirc;
	x->seconds = p1.t - p0.t;
	x->bytes = p1.rx - p0.rx;
	x->relay_cpu = p0.relay_cpu < 0 || p1.relay_cpu < 0 ? -1 :
	    p1.relay_cpu - p0.relay_cpu;
	x->own_cpu = p1.own_cpu - p0.own_cpu;
}

static void	 after(double);

static void
open_rest(void)
{
	size_t	 i;

	B.phase = CP_OPEN16;
	for (i = 1; i < B.ncirc; i++)
		if (circ_open(i) == -1) {
			circ_fail("cannot open a circuit");
			return;
		}
	phase_next();
}

static void
timed(int fd, short ev, void *arg)
{
	switch (B.phase) {
	case CP_TPUT1:
		xfer_end(&B.st.x1, 1);
		/* what is still in flight arrives before the next phase */
		B.phase = CP_SETTLE;
		after(PB_SETTLE);
		return;
	case CP_SETTLE:
		open_rest();
		return;
	case CP_TPUT16:
		xfer_end(&B.st.x16, B.ncirc);
		B.phase = CP_DONE;
		finish();
		return;
	default:
		return;
	}
}

static void
after(double secs)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - tv.tv_sec) * 1e6);
	evtimer_assign(&phase_ev, B.base, timed, NULL);
	evtimer_add(&phase_ev, &tv);
}

static void
xfer_begin(enum circ_phase ph)
{
	B.phase = ph;
	mark(&p0);
	after(B.xfer_secs);
	pump_all();
}

/* Called as circuits come up and phases end: move on when it can. */
static void
phase_next(void)
{
	size_t	 i, up = 0;

	for (i = 0; i < B.ncirc; i++)
		up += B.circ[i].up;
	switch (B.phase) {
	case CP_OPEN1:
		if (!B.circ[0].up)
			return;
		B.phase = CP_PING;
		if (B.npings > 0)
			ping_send(&B.circ[0]);
		else
			xfer_begin(CP_TPUT1);
		return;
	case CP_PING:
		xfer_begin(CP_TPUT1);
		return;
	case CP_OPEN16:
		if (up == B.ncirc)
			xfer_begin(CP_TPUT16);
		return;
	default:
		return;
	}
}

/* Every peer holds its reservation: pair them, open the first circuit. */
void
circ_begin(void)
{
	size_t	 i;

	if (B.ncirc * 2 > B.n) {
		circ_fail("fewer peers than two a circuit (-n, -C)");
		return;
	}
	if ((B.st.lat_ping = calloc(B.npings + 1, sizeof(double))) == NULL) {
		circ_fail("out of memory");
		return;
	}
	memset(bulk, 0x5a, sizeof(bulk));
	for (i = 0; i < B.ncirc; i++) {
		B.circ[i].src = 2 * i;
		B.circ[i].dst = 2 * i + 1;
	}
	B.phase = CP_OPEN1;
	if (circ_open(0) == -1)
		circ_fail("cannot open the first circuit");
}

static void
xfer_print(const char *name, const struct xfer *x, int last)
{
	double	 gib = x->bytes / (double)(1 << 30);

	if (!x->done) {
		printf("    \"%s\": null%s\n", name, last ? "" : ",");
		return;
	}
	printf("    \"%s\": {\"circuits\": %zu, \"seconds\": %.3f, "
	    "\"bytes\": %llu, \"bytes_per_s\": %.0f, "
	    "\"relay_cpu_seconds\": %.3f, \"relay_cpu_s_per_gib\": %.3f, "
	    "\"relay_cpu_bound_bytes_per_s\": %.0f, "
	    "\"peerbench_cpu_seconds\": %.3f}%s\n", name, x->circuits,
	    x->seconds, (unsigned long long)x->bytes,
	    x->seconds > 0 ? x->bytes / x->seconds : 0, x->relay_cpu,
	    gib > 0 && x->relay_cpu >= 0 ? x->relay_cpu / gib : -1,
	    x->relay_cpu > 0 ? x->bytes / x->relay_cpu : -1, x->own_cpu,
	    last ? "" : ",");
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
circ_report(void)
{
	double	*v = B.st.lat_ping;
	size_t	 n = B.st.nlat_ping;

	printf("  \"relayed\": {\n    \"circuits_requested\": %zu,\n"
	    "    \"circuits_up\": %zu,\n", B.ncirc, B.st.circuits_up);
	if (n > 0) {
		qsort(v, n, sizeof(*v), cmp_double);
		printf("    \"ping\": {\"n\": %zu, \"bytes\": %d, "
		    "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f},\n",
		    n, PB_PINGLEN, 1e3 * v[(n - 1) / 2],
		    1e3 * v[(n - 1) * 99 / 100], 1e3 * v[n - 1]);
	} else
		printf("    \"ping\": null,\n");
	xfer_print("throughput_1", &B.st.x1, 0);
	xfer_print("throughput_n", &B.st.x16, 1);
	printf("  },\n");
}
