/*
 * One connection of peerbench, as the initiator: multistream-select for
 * /noise, Noise XX with the libp2p payload, yamux (agreed inside the
 * handshake when the relay lists it, else by multistream-select), then
 * a hop stream that reserves.  The relay's identify and ping streams
 * are answered; any other protocol it opens is refused with na.
 * Everything the relay sends is parsed with bounds: a stream holds at
 * most PB_STREAMMAX bytes, a connection PB_INMAX.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "circuit.h"
#include "identify.h"
#include "multistream.h"
#include "peerbench.h"
#include "yamuxhdr.h"

#define PROTO_NOISE	"/noise"
#define PROTO_YAMUX	"/yamux/1.0.0"
#define PROTO_ID	"/ipfs/id/1.0.0"
#define PROTO_PING	"/ipfs/ping/1.0.0"
#define SIG_PREFIX	"noise-libp2p-static-key:"


static void	 pc_event(int, short, void *);
static struct pstream *st_find(struct pconn *, uint32_t);

void
pc_events(struct pconn *c)
{
	short	 want;

	if (c->state == PC_CONNECTING)
		want = EV_WRITE;
	else
		want = EV_READ | (c->out.len > 0 ? EV_WRITE : 0);
	if (event_initialized(&c->ev)) {
		if (want == c->ev_mask)
			return;
		event_del(&c->ev);
	}
	event_assign(&c->ev, B.base, c->fd, want | EV_PERSIST, pc_event, c);
	event_add(&c->ev, NULL);
	c->ev_mask = want;
}

int
pc_flush(struct pconn *c)
{
	ssize_t	 n;

	while (c->out.len > 0) {
		n = write(c->fd, bq_ptr(&c->out), c->out.len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			pc_close(c, "write failed");
			return -1;
		}
		bq_consume(&c->out, n);
	}
	return 0;
}

static int
pc_write(struct pconn *c, const void *p, size_t len)
{
	if (bq_append(&c->out, p, len, PB_INMAX) == -1) {
		pc_close(c, "output queue full");
		return -1;
	}
	return 0;
}

/* One Noise transport message. */
int
pc_send(struct pconn *c, const uint8_t *pt, size_t len)
{
	uint8_t	 f[2 + NOISE_MAXMSG];

	if (len > NOISE_MAXMSG - NOISE_TAGLEN) {
		pc_close(c, "noise: message too large");
		return -1;
	}
	f[0] = (len + NOISE_TAGLEN) >> 8;
	f[1] = (len + NOISE_TAGLEN) & 0xff;
	if (noise_encrypt(&c->tx, pt, len, f + 2) == -1) {
		pc_close(c, "noise: cannot encrypt");
		return -1;
	}
	return pc_write(c, f, 2 + len + NOISE_TAGLEN);
}

int
y_send(struct pconn *c, int type, int flags, uint32_t id, uint32_t len,
    const uint8_t *data)
{
	static uint8_t	 f[YAMUX_HDRLEN + PB_DATAMAX];
	struct pstream	*s;
	size_t		 dl = type == YAMUX_T_DATA ? len : 0;

	if (dl > PB_DATAMAX) {
		pc_close(c, "yamux: frame too large");
		return -1;
	}
	/* every byte we send counts against the relay's window */
	if (dl > 0 && (s = st_find(c, id)) != NULL)
		s->sendwin -= dl < s->sendwin ? dl : s->sendwin;
	yamux_hdr_encode(f, type, flags, id, len);
	if (dl > 0)
		memmove(f + YAMUX_HDRLEN, data, dl);
	return pc_send(c, f, YAMUX_HDRLEN + dl);
}

/* multistream-select messages, concatenated. */
size_t
ms_many(uint8_t *buf, size_t sz, const char *a, const char *b)
{
	size_t	 n, m = 0;

	if ((n = ms_encode(a, buf, sz)) == 0)
		return 0;
	if (b != NULL && (m = ms_encode(b, buf + n, sz - n)) == 0)
		return 0;
	return n + m;
}

static struct pstream *
st_find(struct pconn *c, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < PB_MAXSTREAMS; i++)
		if (c->st[i].kind != PS_NONE && c->st[i].id == id)
			return &c->st[i];
	return NULL;
}

struct pstream *
st_new(struct pconn *c, uint32_t id, enum ps_kind kind)
{
	size_t	 i;

	for (i = 0; i < PB_MAXSTREAMS; i++)
		if (c->st[i].kind == PS_NONE) {
			memset(&c->st[i], 0, sizeof(c->st[i]));
			c->st[i].id = id;
			c->st[i].kind = kind;
			c->st[i].sendwin = PB_WINDOW;
			return &c->st[i];
		}
	return NULL;
}

static void
st_free(struct pstream *s)
{
	bq_free(&s->in);
	memset(s, 0, sizeof(*s));
}

static int
open_hop(struct pconn *c)
{
	struct pstream	*s;
	uint8_t		 m[128];
	size_t		 n;

	if ((s = st_new(c, c->next_sid, PS_HOP)) == NULL)
		return -1;
	c->next_sid += 2;
	n = ms_many(m, sizeof(m), MS_PROTO, CIRCUIT_HOP);
	return y_send(c, YAMUX_T_DATA, YAMUX_F_SYN, s->id, n, m);
}

static int
send_reserve(struct pconn *c, struct pstream *s)
{
	struct hop_msg	 h;
	uint8_t		 m[256];
	size_t		 n;

	memset(&h, 0, sizeof(h));
	h.type = HOP_RESERVE;
	h.has_type = 1;
	if (hop_encode(&h, m, sizeof(m), &n) == -1 ||
	    (n = circuit_frame_write(m, n, m, sizeof(m))) == 0) {
		pc_close(c, "cannot encode RESERVE");
		return -1;
	}
	c->t_rsvp = now();
	return y_send(c, YAMUX_T_DATA, 0, s->id, n, m);
}

static int
send_identify(struct pconn *c, struct pstream *s)
{
	struct identify_msg	*m;
	uint8_t			 buf[1024];
	size_t			 n, hl;
	int			 rv = -1;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	identify_init(m);
	memcpy(m->pubkey, B.ids[c->idx].pubkey_pb, ED25519_PUBKEY_PB_LEN);
	m->pubkeylen = ED25519_PUBKEY_PB_LEN;
	strlcpy(m->protocol_version, "ipfs/0.1.0",
	    sizeof(m->protocol_version));
	strlcpy(m->agent_version, "peerbench", sizeof(m->agent_version));
	if (identify_add_proto(m, PROTO_ID) == 0 &&
	    identify_add_proto(m, PROTO_PING) == 0 &&
	    identify_add_proto(m, CIRCUIT_STOP) == 0 &&
	    identify_encode(m, buf, sizeof(buf), &n) == 0 &&
	    (hl = circuit_frame_write(buf, n, buf, sizeof(buf))) > 0 &&
	    y_send(c, YAMUX_T_DATA, YAMUX_F_FIN, s->id, hl, buf) == 0)
		rv = 0;
	free(m);
	s->finished = 1;
	B.st.identifies++;
	return rv;
}

static void
reserved(struct pconn *c, struct pstream *s)
{
	double	 t = now();

	c->reserved = 1;
	B.st.reserved++;
	B.st.inflight--;
	B.st.t_last_reserved = t;
	B.st.lat_rsvp[B.st.nlat_rsvp++] = t - c->t_rsvp;
	B.st.lat_total[B.st.nlat_total++] = t - c->t_start;
	y_send(c, YAMUX_T_DATA, YAMUX_F_FIN, s->id, 0, NULL);
	s->finished = 1;
}

static int
hop_input(struct pconn *c, struct pstream *s)
{
	static struct hop_msg	 h;
	static char		 why[64];
	const uint8_t		*m;
	size_t			 len, used;
	int			 r;

	if (c->reserved)
		return 0;
	if ((r = circuit_frame_read(bq_ptr(&s->in), s->in.len, &m, &len,
	    &used)) == 0)
		return 0;
	if (r == -1 || hop_decode(m, len, &h) == -1) {
		pc_close(c, "hop: malformed message");
		return -1;
	}
	bq_consume(&s->in, used);
	if (!h.has_type || h.type != HOP_STATUS || !h.has_status) {
		pc_close(c, "hop: not a status");
		return -1;
	}
	if (h.status != CIRCUIT_OK) {
		snprintf(why, sizeof(why), "reservation refused: %s",
		    circuit_status_name(h.status));
		pc_close(c, why);
		return -1;
	}
	reserved(c, s);
	return 0;
}

/* The relay opened a stream: answer identify and ping, refuse the rest. */
static int
in_proto(struct pconn *c, struct pstream *s, const char *line)
{
	uint8_t	 m[MS_MAXMSG + 16];
	size_t	 n;

	if (strcmp(line, PROTO_ID) == 0 || strcmp(line, PROTO_PING) == 0 ||
	    (B.ncirc > 0 && strcmp(line, CIRCUIT_STOP) == 0)) {
		n = ms_encode(line, m, sizeof(m));
		if (y_send(c, YAMUX_T_DATA, 0, s->id, n, m) == -1)
			return -1;
		s->ms_done = 1;
		if (strcmp(line, CIRCUIT_STOP) == 0) {
			s->kind = PS_STOP;
			return 0;
		}
		if (strcmp(line, PROTO_PING) == 0) {
			s->kind = PS_PING;
			return 0;
		}
		s->kind = PS_IDENTIFY;
		return send_identify(c, s);
	}
	B.st.refused_streams++;
	s->kind = PS_REFUSED;
	n = ms_encode(MS_NA, m, sizeof(m));
	return y_send(c, YAMUX_T_DATA, 0, s->id, n, m);
}

static int
st_negotiate(struct pconn *c, struct pstream *s)
{
	char	 line[MS_MAXMSG + 1];
	uint8_t	 m[64];
	size_t	 used, n;
	int	 r;

	while (!s->ms_done && s->kind != PS_REFUSED) {
		r = ms_decode(bq_ptr(&s->in), s->in.len, line, sizeof(line),
		    &used);
		if (r == 0)
			return 0;
		if (r == -1) {
			pc_close(c, "stream: malformed multistream message");
			return -1;
		}
		bq_consume(&s->in, used);
		if (!s->ms_header) {
			if (strcmp(line, MS_PROTO) != 0) {
				pc_close(c, "stream: not multistream 1.0");
				return -1;
			}
			s->ms_header = 1;
			if (s->kind != PS_HOP && s->kind != PS_CONNECT) {
				n = ms_encode(MS_PROTO, m, sizeof(m));
				if (y_send(c, YAMUX_T_DATA, 0, s->id, n, m) == -1)
					return -1;
			}
		} else if (s->kind == PS_HOP || s->kind == PS_CONNECT) {
			if (strcmp(line, CIRCUIT_HOP) != 0) {
				pc_close(c, "relay refused the hop protocol");
				return -1;
			}
			s->ms_done = 1;
			if (s->kind == PS_CONNECT)
				return circ_connect(c, s);
			return send_reserve(c, s);
		} else if (in_proto(c, s, line) == -1)
			return -1;
	}
	return 0;
}

static int
st_input(struct pconn *c, struct pstream *s)
{
	size_t	 n;

	if (s->kind == PS_REFUSED) {
		bq_free(&s->in);
		return 0;
	}
	if (st_negotiate(c, s) == -1)
		return -1;
	if (!s->ms_done)
		return 0;
	switch (s->kind) {
	case PS_HOP:
		return hop_input(c, s);
	case PS_CONNECT:
	case PS_STOP:
		return circ_message(c, s);
	case PS_PING:
		if (s->in.len > 0)
			B.st.pings++;
		while (s->in.len > 0) {
			n = s->in.len < PB_DATAMAX ? s->in.len : PB_DATAMAX;
			if (y_send(c, YAMUX_T_DATA, 0, s->id, n, bq_ptr(&s->in)) ==
			    -1)
				return -1;
			bq_consume(&s->in, n);
		}
		break;
	default:
		break;
	}
	bq_free(&s->in);
	return 0;
}

static int
st_data(struct pconn *c, struct pstream *s, const uint8_t *body,
    size_t len)
{
	s->unacked += len;
	if (s->unacked >= PB_WINDOW / 2) {
		if (y_send(c, YAMUX_T_WINDOW, 0, s->id, s->unacked, NULL) ==
		    -1)
			return -1;
		s->unacked = 0;
	}
	/* a circuit's bytes are counted or echoed, never kept */
	if (s->kind == PS_CSRC || s->kind == PS_CDST)
		return circ_data(c, s, body, len);
	if (bq_append(&s->in, body, len, PB_STREAMMAX) == -1) {
		pc_close(c, "stream: too much data");
		return -1;
	}
	return st_input(c, s);
}

/* A stream's end, by the relay; -1 when it closed the connection. */
static int
st_ended(struct pconn *c, struct pstream *s, int flags)
{
	if (s->kind == PS_HOP && !c->reserved) {
		pc_close(c, flags & YAMUX_F_RST ? "hop stream reset" :
		    "hop stream closed before the status");
		return -1;
	}
	if (s->circ != 0)
		circ_ended(c, s);
	if (!(flags & YAMUX_F_RST) && !s->finished &&
	    y_send(c, YAMUX_T_DATA, YAMUX_F_FIN, s->id, 0, NULL) == -1)
		return -1;
	st_free(s);
	return 0;
}

/*
 * A frame for a stream: hlen is the header's length field, body the
 * data of a data frame.
 */
static int
y_stream(struct pconn *c, int type, int flags, uint32_t id, uint32_t hlen,
    const uint8_t *body, size_t len)
{
	struct pstream	*s = st_find(c, id);

	if (s == NULL && (flags & YAMUX_F_SYN)) {
		if ((id & 1) || (s = st_new(c, id, PS_IN)) == NULL) {
			B.st.refused_streams++;
			return y_send(c, YAMUX_T_WINDOW, YAMUX_F_RST, id, 0,
			    NULL);
		}
		if (y_send(c, YAMUX_T_WINDOW, YAMUX_F_ACK, id, 0, NULL) == -1)
			return -1;
	}
	if (s == NULL)
		return 0;	/* a stream we ended */
	if (flags & YAMUX_F_RST)
		return st_ended(c, s, flags);
	if (type == YAMUX_T_WINDOW && hlen > 0) {
		s->sendwin += hlen;
		if (s->kind == PS_CSRC)
			circ_pump(c);
	}
	if (type == YAMUX_T_DATA && len > 0 && st_data(c, s, body, len) == -1)
		return -1;
	if (flags & YAMUX_F_FIN)
		return st_ended(c, s, flags);
	return 0;
}

/* yamux frames in c->pt. */
static int
y_input(struct pconn *c)
{
	struct yamux_hdr	 h;
	const uint8_t		*p;
	size_t			 need;

	while (c->pt.len >= YAMUX_HDRLEN) {
		p = bq_ptr(&c->pt);
		if (yamux_hdr_decode(p, &h) == -1) {
			pc_close(c, "yamux: bad frame header");
			return -1;
		}
		need = YAMUX_HDRLEN + (h.type == YAMUX_T_DATA ? h.len : 0);
		if (need > PB_INMAX) {
			pc_close(c, "yamux: frame too large");
			return -1;
		}
		if (c->pt.len < need)
			return 0;
		if (h.type == YAMUX_T_GOAWAY) {
			pc_close(c, "yamux: go away");
			return -1;
		}
		if (h.type == YAMUX_T_PING) {
			if ((h.flags & YAMUX_F_SYN) && y_send(c, YAMUX_T_PING,
			    YAMUX_F_ACK, 0, h.len, NULL) == -1)
				return -1;
		} else if (h.id != 0 && y_stream(c, h.type, h.flags, h.id,
		    h.len, p + YAMUX_HDRLEN, need - YAMUX_HDRLEN) == -1)
			return -1;
		bq_consume(&c->pt, need);
	}
	return 0;
}

static int
secured_open(struct pconn *c)
{
	c->state = PC_OPEN;
	if (B.hs_only)
		return 0;
	return open_hop(c);
}

/* multistream-select for yamux, inside the encrypted channel. */
static int
msmux_input(struct pconn *c)
{
	char	 line[MS_MAXMSG + 1];
	size_t	 used;
	int	 r;

	while (c->state == PC_MSMUX) {
		r = ms_decode(bq_ptr(&c->pt), c->pt.len, line, sizeof(line),
		    &used);
		if (r == 0)
			return 0;
		if (r == -1) {
			pc_close(c, "muxer: malformed multistream message");
			return -1;
		}
		bq_consume(&c->pt, used);
		if (!c->ms_header) {
			if (strcmp(line, MS_PROTO) != 0) {
				pc_close(c, "muxer: not multistream 1.0");
				return -1;
			}
			c->ms_header = 1;
		} else if (strcmp(line, PROTO_YAMUX) != 0) {
			pc_close(c, "relay refused yamux");
			return -1;
		} else if (secured_open(c) == -1)
			return -1;
	}
	return y_input(c);
}

/* The relay's payload: its key signs its static key. */
static int
check_payload(struct pconn *c, const uint8_t *pl, size_t len, int *early)
{
	struct noise_payload	 p;
	struct peerid		 id;
	const uint8_t		*rs = noise_hs_remote_static(c->hs), *key;
	uint8_t			 msg[sizeof(SIG_PREFIX) - 1 + 32];
	size_t			 keylen, i;
	int			 type;

	if (!B.verify_each && B.relay_known && len == B.relay_payloadlen &&
	    memcmp(pl, B.relay_payload, len) == 0 &&
	    memcmp(rs, B.relay_rs, 32) == 0) {
		*early = B.relay_muxer[0] != '\0';
		return 0;
	}
	if (noise_payload_decode(pl, len, &p) == -1)
		return -1;
	if (pubkey_pb_decode(p.key, p.keylen, &type, &key, &keylen) == -1 ||
	    type != PUBKEY_ED25519 || keylen != 32)
		return -1;
	memcpy(msg, SIG_PREFIX, sizeof(SIG_PREFIX) - 1);
	memcpy(msg + sizeof(SIG_PREFIX) - 1, rs, 32);
	if (p.siglen != 64 || crypto_sign_verify_detached(p.sig, msg,
	    sizeof(msg), key) != 0)
		return -1;
	if (peerid_from_pubkey_pb(p.key, p.keylen, &id) == -1)
		return -1;
	*early = 0;
	for (i = 0; i < p.nmuxers; i++)
		if (strcmp(p.muxers[i], PROTO_YAMUX) == 0)
			*early = 1;
	if (p.nmuxers > 0 && !*early)
		return -1;
	if (!B.relay_known) {
		peerid_format(&id, B.relay_id, sizeof(B.relay_id));
		memcpy(B.relay_payload, pl, len);
		B.relay_payloadlen = len;
		memcpy(B.relay_rs, rs, 32);
		strlcpy(B.relay_muxer, *early ? PROTO_YAMUX : "",
		    sizeof(B.relay_muxer));
		B.relay_known = 1;
	}
	return 0;
}

static int
noise_msg2(struct pconn *c, const uint8_t *msg, size_t len)
{
	static uint8_t		 pl[NOISE_MAXMSG];
	uint8_t			 m3[2 + 1024], dh[32], hdr[128];
	struct identity		*id = &B.ids[c->idx];
	size_t			 plen, n;
	int			 early;
	double			 t;

	if (noise_hs_read(c->hs, msg, len, pl, sizeof(pl), &plen) == -1) {
		pc_close(c, "noise: message 2 refused");
		return -1;
	}
	if (check_payload(c, pl, plen, &early) == -1) {
		pc_close(c, "noise: relay's payload refused");
		return -1;
	}
	if (crypto_scalarmult(dh, id->noise_sk,
	    noise_hs_remote_ephemeral(c->hs)) != 0) {
		pc_close(c, "noise: bad ephemeral key");
		return -1;
	}
	noise_hs_set_static_dh(c->hs, dh);
	sodium_memzero(dh, sizeof(dh));
	if (noise_hs_write(c->hs, id->payload, id->payloadlen, m3 + 2,
	    sizeof(m3) - 2, &n) == -1) {
		pc_close(c, "noise: cannot write message 3");
		return -1;
	}
	m3[0] = n >> 8;
	m3[1] = n & 0xff;
	if (pc_write(c, m3, n + 2) == -1)
		return -1;
	noise_hs_split(c->hs, &c->tx, &c->rx);
	free(c->hs);
	c->hs = NULL;
	t = now();
	c->t_secured = t;
	B.st.secured++;
	B.st.t_last_secured = t;
	B.st.lat_hs[B.st.nlat_hs++] = t - c->t_start;
	if (B.hs_only) {
		c->reserved = 1;	/* held from here on */
		B.st.inflight--;
	}
	/* inside the handshake only when both sides list yamux */
	if (early && !B.no_early)
		return secured_open(c);
	c->state = PC_MSMUX;
	c->ms_header = 0;
	n = ms_many(hdr, sizeof(hdr), MS_PROTO, PROTO_YAMUX);
	return pc_send(c, hdr, n);
}

static int
noise_begin(struct pconn *c)
{
	uint8_t	 m1[2 + NOISE_KEYLEN];
	size_t	 n;

	if ((c->hs = calloc(1, sizeof(*c->hs))) == NULL) {
		pc_close(c, "out of memory");
		return -1;
	}
	noise_hs_init(c->hs, 1, B.ids[c->idx].noise_pk, NULL, 0);
	if (B.npool > 0) {
		/* reused: the relay's work is the same, ours is less */
		memcpy(c->hs->e_priv, B.epool[c->idx % B.npool][0], 32);
		memcpy(c->hs->e_pub, B.epool[c->idx % B.npool][1], 32);
		c->hs->have_e = 1;
	}
	if (noise_hs_write(c->hs, NULL, 0, m1 + 2, sizeof(m1) - 2, &n) ==
	    -1) {
		pc_close(c, "noise: cannot write message 1");
		return -1;
	}
	m1[0] = 0;
	m1[1] = n;
	c->state = PC_NOISE;
	return pc_write(c, m1, n + 2);
}

static int
ms_input(struct pconn *c, size_t *used)
{
	char	 line[MS_MAXMSG + 1];
	int	 r;

	if ((r = ms_decode(bq_ptr(&c->in), c->in.len, line, sizeof(line),
	    used)) == 0)
		return 0;
	if (r == -1) {
		pc_close(c, "multistream: malformed message");
		return -1;
	}
	if (!c->ms_header) {
		if (strcmp(line, MS_PROTO) != 0) {
			pc_close(c, "multistream: not 1.0");
			return -1;
		}
		c->ms_header = 1;
		return 1;
	}
	if (strcmp(line, PROTO_NOISE) != 0) {
		pc_close(c, "relay refused /noise");
		return -1;
	}
	bq_consume(&c->in, *used);
	*used = 0;
	return noise_begin(c) == -1 ? -1 : 1;
}

/* Noise frames and what is inside them. */
static int
frames_input(struct pconn *c)
{
	uint8_t		*p;
	size_t		 n, used;
	int		 r;

	while (c->state != PC_DONE) {
		if (c->state == PC_MS) {
			if ((r = ms_input(c, &used)) <= 0)
				return r;
			bq_consume(&c->in, used);
			continue;
		}
		if (c->in.len < 2)
			return 0;
		p = c->in.data + c->in.off;
		n = (size_t)p[0] << 8 | p[1];
		if (c->in.len - 2 < n)
			return 0;
		if (c->state == PC_NOISE) {
			if (noise_msg2(c, p + 2, n) == -1)
				return -1;
		} else {
			if (n < NOISE_TAGLEN ||
			    noise_decrypt(&c->rx, p + 2, n, p + 2) == -1) {
				pc_close(c, "noise: decryption failed");
				return -1;
			}
			if (bq_append(&c->pt, p + 2, n - NOISE_TAGLEN,
			    PB_INMAX) == -1) {
				pc_close(c, "too much undecoded input");
				return -1;
			}
		}
		bq_consume(&c->in, 2 + n);
		if (c->state == PC_MSMUX && msmux_input(c) == -1)
			return -1;
		if (c->state == PC_OPEN && y_input(c) == -1)
			return -1;
	}
	return 0;
}

static const char *
stage(const struct pconn *c)
{
	switch (c->state) {
	case PC_CONNECTING:
		return "connect";
	case PC_MS:
		return "multistream";
	case PC_NOISE:
		return "noise";
	case PC_MSMUX:
		return "muxer";
	case PC_OPEN:
		return "reserve";
	default:
		return "closed";
	}
}

static void
pc_read(struct pconn *c)
{
	static char	 why[64];
	uint8_t		*p;
	ssize_t		 n;

	if ((p = bq_reserve(&c->in, 16384, PB_INMAX)) == NULL) {
		pc_close(c, "too much input");
		return;
	}
	n = read(c->fd, p, 16384);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(why, sizeof(why), "%s during %s",
		    n == 0 ? "closed by the relay" : "read error", stage(c));
		pc_close(c, why);
		return;
	}
	c->in.len += n;
	if (frames_input(c) == 0 && pc_flush(c) == 0)
		pc_events(c);
}

static void
pc_connected(struct pconn *c)
{
	static char	 why[96];
	uint8_t		 m[64];
	socklen_t	 sl = sizeof(int);
	int		 err = 0;
	size_t		 n;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		pc_close(c, why);
		return;
	}
	B.st.connected++;
	c->state = PC_MS;
	n = ms_many(m, sizeof(m), MS_PROTO, PROTO_NOISE);
	if (pc_write(c, m, n) == 0 && pc_flush(c) == 0)
		pc_events(c);
}

static void
pc_event(int fd, short ev, void *arg)
{
	struct pconn	*c = arg;

	if (c->state == PC_CONNECTING) {
		pc_connected(c);
		return;
	}
	if (ev & EV_WRITE) {
		if (pc_flush(c) == -1)
			return;
		circ_pump(c);
		if (c->state == PC_DONE || pc_flush(c) == -1)
			return;
		pc_events(c);
	}
	if (ev & EV_READ)
		pc_read(c);
}

void
pc_start(size_t idx)
{
	static char		 why[96];
	struct sockaddr_in	 src;
	struct pconn		*c;
	int			 one = 1;

	B.st.launched++;
	B.st.inflight++;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		B.st.inflight--;
		B.st.failed++;
		fail_count("out of memory");
		return;
	}
	c->fd = -1;
	c->idx = idx;
	c->next_sid = 1;
	c->t_start = now();
	B.conns[idx] = c;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		pc_close(c, why);
		return;
	}
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000002 + idx % B.nsrc);
#ifdef IP_BIND_ADDRESS_NO_PORT
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
#endif
	setsockopt(c->fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one,
	    sizeof(one));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
		snprintf(why, sizeof(why), "bind: %s", strerror(errno));
		pc_close(c, why);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&B.relay, sizeof(B.relay)) ==
	    -1 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		pc_close(c, why);
		return;
	}
	pc_events(c);
}

static void
pc_free(int fd, short ev, void *arg)
{
	free(arg);
}

/* Close c; a cause counts it as failed (or dropped, once reserved). */
void
pc_close(struct pconn *c, const char *cause)
{
	size_t	 i;

	if (cause != NULL) {
		if (c->reserved)
			B.st.dropped++;
		else {
			B.st.failed++;
			B.st.inflight--;
			fail_count(cause);
		}
	} else if (!c->reserved)
		B.st.inflight--;
	if (event_initialized(&c->ev))
		event_del(&c->ev);
	if (c->fd != -1)
		close(c->fd);
	for (i = 0; i < PB_MAXSTREAMS; i++)
		bq_free(&c->st[i].in);
	bq_free(&c->in);
	bq_free(&c->pt);
	bq_free(&c->out);
	if (c->hs != NULL) {
		sodium_memzero(c->hs, sizeof(*c->hs));
		free(c->hs);
	}
	c->state = PC_DONE;
	B.conns[c->idx] = NULL;
	/* the callers up the stack still read c->state */
	event_base_once(B.base, -1, EV_TIMEOUT, pc_free, c, NULL);
}

void
pc_check_timeouts(double t)
{
	static char	 why[64];
	struct pconn	*c;
	size_t		 i;

	for (i = 0; i < B.st.launched; i++) {
		c = B.conns[i];
		if (c != NULL && !c->reserved && t - c->t_start > B.timeout) {
			snprintf(why, sizeof(why), "timeout during %s",
			    stage(c));
			pc_close(c, why);
		}
	}
}
