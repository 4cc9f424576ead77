/*
 * WebSocket under a connection (RFC 6455): the opening handshake on
 * either side, then binary frames that carry the connection's byte
 * stream, multistream, Noise and yamux, as TCP carries it.  Input is
 * unframed in place as it is read; output is framed as it is sent, so
 * that nothing is copied and an idle connection holds no buffer.
 * Pings are answered, a close is answered with a close.  Calls only
 * common/ (the codec of ws.c and wsframe.c); conn.c calls it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine.h"
#include "ws.h"

#define WS_CTL_MAX	4096		/* queued pongs and closes */
#define WS_SEND_MAX	(256 * 1024)	/* payload of one frame we send */

enum ws_phase {
	WSP_UPGRADE,		/* the request (server) or the 101 (client) */
	WSP_OPEN,
	WSP_CLOSED		/* a close was sent: nothing more goes out */
};

struct wsconn {
	int		 side;		/* WS_SERVER: we accepted it */
	enum ws_phase	 phase;
	int		 quiet;		/* server: the client has not spoken */
	struct bq	 head;		/* the upgrade head, while partial */
	struct bq	 ctl;		/* sent before the next data frame */
	uint64_t	 maxmsg;
	/* receiving */
	uint8_t		 hb[WS_MAXFRAMEHDR];	/* a partial frame header */
	size_t		 hblen;
	struct ws_frame	 rf;		/* the frame whose payload comes */
	int		 infr;
	uint64_t	 roff;		/* of its payload, received */
	uint8_t		 cb[WS_MAXCONTROL];	/* a control frame's payload */
	struct ws_frag	 frag;
	/* sending */
	uint8_t		 th[WS_MAXFRAMEHDR];	/* the data frame's header */
	size_t		 thlen;
	size_t		 thoff;
	uint64_t	 tleft;		/* its payload not yet sent */
	uint8_t		 key[WS_KEYLEN];	/* client: the 101 must match */
	char		 xff[WS_MAXXFF];	/* server: X-Forwarded-For */
};

struct wsconn *
wsc_new(int side, uint64_t maxmsg, struct bq_acct *acct)
{
	struct wsconn	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->side = side;
	w->maxmsg = maxmsg;
	w->head.acct = acct;
	w->ctl.acct = acct;
	return w;
}

void
wsc_free(struct wsconn *w)
{
	if (w == NULL)
		return;
	bq_free(&w->head);
	bq_free(&w->ctl);
	free(w);
}

int
wsc_upgraded(const struct wsconn *w)
{
	return w->phase != WSP_UPGRADE;
}

const char *
wsc_forwarded(const struct wsconn *w)
{
	return w->xff;
}

/* Bytes waiting to go out: handshake text, pongs, a close. */
int
wsc_pending(const struct wsconn *w)
{
	return w->ctl.len > 0;
}

/*
 * "host:port" of an /ip4, /ip6 or /dns address with /tcp, for the Host
 * header of our request.
 */
static int
wsc_host(const struct multiaddr *ma, char *out, size_t outsz)
{
	struct maddr_comp	 h, port;
	char			 a[INET6_ADDRSTRLEN];
	size_t			 off = 0;
	unsigned int		 p;
	int			 n;

	if (maddr_next(ma, &off, &h) != 1 ||
	    maddr_next(ma, &off, &port) != 1 || port.code != MADDR_TCP)
		return -1;
	p = port.val[0] << 8 | port.val[1];
	if (h.code == MADDR_IP4 && inet_ntop(AF_INET, h.val, a, sizeof(a)))
		n = snprintf(out, outsz, "%s:%u", a, p);
	else if (h.code == MADDR_IP6 &&
	    inet_ntop(AF_INET6, h.val, a, sizeof(a)))
		n = snprintf(out, outsz, "[%s]:%u", a, p);
	else if ((h.code == MADDR_DNS || h.code == MADDR_DNS4 ||
	    h.code == MADDR_DNS6) && h.vlen < WS_MAXHOST - 6)
		n = snprintf(out, outsz, "%.*s:%u", (int)h.vlen, h.val, p);
	else
		return -1;
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Client: the request, sent as soon as the TCP connection is up. */
int
wsc_client_start(struct wsconn *w, const struct multiaddr *ma)
{
	char	 host[WS_MAXHOST + 1], req[WS_MAXREQ];
	size_t	 n;

	if (wsc_host(ma, host, sizeof(host)) == -1)
		return -1;
	randombytes_buf(w->key, sizeof(w->key));
	if ((n = ws_client_request("/", host, w->key, req, sizeof(req))) == 0)
		return -1;
	return bq_append(&w->ctl, req, n, WS_MAXREQ);
}

/* The head, from what came before and buf; 1 when it is whole. */
static int
wsc_head(struct wsconn *w, uint8_t *buf, size_t *i, size_t n,
    uint16_t *status, char *err, size_t errsz)
{
	struct ws_request	 req;
	const uint8_t		*p = buf + *i;
	size_t			 len = n - *i, used, before = w->head.len;
	int			 r, st = 400;
	char			 out[512];

	/* past WS_MAXREQ the parser refuses: no more is kept */
	if (before > 0) {
		if (len > WS_MAXREQ + 1 - before)
			len = WS_MAXREQ + 1 - before;
		if (bq_append(&w->head, p, len, WS_MAXREQ + 1) == -1)
			return -1;
		p = bq_ptr(&w->head);
		len = w->head.len;
	}
	if (w->side == WS_SERVER)
		r = ws_parse_request(p, len, &req, &used, &st, err, errsz);
	else
		r = ws_parse_response(p, len, w->key, &used, err, errsz);
	if (r == 0) {
		*i = n;
		if (before == 0 && bq_append(&w->head, p, len, WS_MAXREQ + 1) ==
		    -1)
			return -1;
		return 0;
	}
	if (r == -1) {
		*status = st;
		if (w->side == WS_SERVER) {
			len = ws_error_response(st, out, sizeof(out));
			bq_append(&w->ctl, out, len, WS_CTL_MAX + WS_MAXREQ);
		}
		return -1;
	}
	*i += used - before;
	bq_free(&w->head);
	if (w->side == WS_SERVER) {
		strlcpy(w->xff, req.xff, sizeof(w->xff));
		if ((len = ws_response(&req, out, sizeof(out))) == 0 ||
		    bq_append(&w->ctl, out, len, WS_CTL_MAX + WS_MAXREQ) == -1)
			return -1;
	}
	w->phase = WSP_OPEN;
	w->quiet = w->side == WS_SERVER;
	return 1;
}

/* A close frame to send, after which nothing else is sent. */
static void
wsc_queue_close(struct wsconn *w, uint16_t code)
{
	uint8_t	 f[WS_MAXFRAMEHDR + 2], mask[4];

	if (w->phase == WSP_CLOSED)
		return;
	randombytes_buf(mask, sizeof(mask));
	bq_append(&w->ctl, f, ws_close_encode(f, code,
	    w->side == WS_CLIENT ? mask : NULL), WS_CTL_MAX + 64);
	w->phase = WSP_CLOSED;
}

/* A whole control frame: pong a ping, answer a close. */
static int
wsc_control(struct wsconn *w, uint16_t *code, char *err, size_t errsz)
{
	uint8_t		 f[WS_MAXFRAMEHDR], mask[4];
	size_t		 h, len = w->rf.len;
	uint16_t	 c;

	switch (w->rf.opcode) {
	case WS_OP_PING:
		/* a pong for each ping while there is room; the RFC allows
		 * answering only the last */
		if (w->phase != WSP_OPEN ||
		    w->ctl.len + WS_MAXFRAMEHDR + len > WS_CTL_MAX)
			return WSC_OK;
		randombytes_buf(mask, sizeof(mask));
		h = ws_frame_encode(f, 1, WS_OP_PONG, len,
		    w->side == WS_CLIENT ? mask : NULL);
		if (w->side == WS_CLIENT)
			ws_unmask(w->cb, len, mask, 0);
		if (bq_append(&w->ctl, f, h, WS_CTL_MAX) == -1 ||
		    bq_append(&w->ctl, w->cb, len, WS_CTL_MAX) == -1)
			return WSC_ERROR;
		return WSC_OK;
	case WS_OP_CLOSE:
		if (ws_close_decode(w->cb, len, &c) == -1) {
			*code = WS_CLOSE_PROTOCOL;
			snprintf(err, errsz, "bad close frame");
			wsc_queue_close(w, WS_CLOSE_PROTOCOL);
			return WSC_ERROR;
		}
		*code = c;
		wsc_queue_close(w, c == WS_CLOSE_NOSTATUS ? WS_CLOSE_NORMAL : c);
		return WSC_CLOSE;
	default:
		return WSC_OK;		/* a pong */
	}
}

/* A frame header, from what came before and buf. */
static int
wsc_frame_head(struct wsconn *w, const uint8_t *buf, size_t *i, size_t n,
    uint16_t *code, char *err, size_t errsz)
{
	size_t	 k = n - *i, before = w->hblen;
	int	 r;

	if (k > sizeof(w->hb) - before)
		k = sizeof(w->hb) - before;
	memcpy(w->hb + before, buf + *i, k);
	r = ws_frame_decode(w->hb, before + k, w->side, w->maxmsg, &w->rf,
	    code, err, errsz);
	if (r == 0) {
		w->hblen += k;
		*i += k;
		return 0;
	}
	if (r == -1)
		return -1;
	*i += w->rf.hdrlen - before;
	w->hblen = 0;
	if (w->rf.opcode == WS_OP_TEXT) {
		*code = 1003;
		snprintf(err, errsz, "text frame: libp2p is binary");
		return -1;
	}
	if (ws_frag_check(&w->frag, &w->rf, w->maxmsg, code, err, errsz) ==
	    -1)
		return -1;
	w->infr = 1;
	w->roff = 0;
	return 1;
}

/*
 * The bytes just read, buf[0..*len): the upgrade, then frames.  The
 * payload of data frames is moved to the front of buf, and *len set to
 * its length.  WSC_OPENED: the upgrade is done (the payload after it is
 * in buf); a server says so only once the client's first payload has
 * come, since js-libp2p's client loses what comes with the 101 before
 * it listens for messages.  WSC_CLOSE: the peer closed, our close is queued; WSC_ERROR:
 * *code is the HTTP status or the close code, err says why, and the
 * answer is queued.
 */
int
wsc_input(struct wsconn *w, uint8_t *buf, size_t *len, uint16_t *code,
    char *err, size_t errsz)
{
	size_t		 i = 0, o = 0, n = *len, k;
	uint64_t	 left;
	int		 r, ret = WSC_OK;

	*code = WS_CLOSE_PROTOCOL;
	if (w->phase == WSP_UPGRADE) {
		if ((r = wsc_head(w, buf, &i, n, code, err, errsz)) == -1) {
			*len = 0;
			return WSC_ERROR;
		}
		if (r == 1 && w->side == WS_CLIENT)
			ret = WSC_OPENED;
	}
	while (i < n && w->phase != WSP_UPGRADE) {
		if (!w->infr) {
			if ((r = wsc_frame_head(w, buf, &i, n, code, err,
			    errsz)) == -1)
				goto fail;
			if (r == 0)
				break;
		}
		left = w->rf.len - w->roff;
		k = n - i < left ? n - i : left;
		if (WS_ISCONTROL(w->rf.opcode)) {
			memcpy(w->cb + w->roff, buf + i, k);
			ws_unmask(w->cb + w->roff, k, w->rf.mask, w->roff);
		} else {
			memmove(buf + o, buf + i, k);
			ws_unmask(buf + o, k, w->rf.mask, w->roff);
			o += k;
		}
		i += k;
		w->roff += k;
		if (w->roff < w->rf.len)
			continue;
		w->infr = 0;
		if (WS_ISCONTROL(w->rf.opcode) &&
		    (r = wsc_control(w, code, err, errsz)) != WSC_OK) {
			*len = o;
			return r;
		}
	}
	*len = o;
	if (w->quiet && o > 0) {
		w->quiet = 0;
		ret = WSC_OPENED;
	}
	return ret;
 fail:
	*len = 0;
	wsc_queue_close(w, *code);
	return WSC_ERROR;
}

/* Sends what ctl holds; 1 when it is all gone. */
static int
wsc_send_ctl(struct wsconn *w, int fd)
{
	ssize_t	 n;

	if (w->ctl.len == 0)
		return 1;
	if ((n = send(fd, bq_ptr(&w->ctl), w->ctl.len, MSG_NOSIGNAL |
	    MSG_DONTWAIT)) == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	bq_consume(&w->ctl, n);
	return w->ctl.len == 0;
}

/*
 * Send data (the connection's output) in binary frames, after what ctl
 * holds and between frames only.  A client masks the frame's payload in
 * place: once framed those bytes are sent as they are.  Returns the
 * bytes of data sent, 0 with nothing sent yet, -1 on an error.
 */
ssize_t
wsc_send(struct wsconn *w, int fd, uint8_t *data, size_t len)
{
	struct iovec	 iov[2];
	uint8_t		 mask[4];
	size_t		 hl;
	ssize_t		 n;
	int		 r;

	if (w->tleft == 0 && (r = wsc_send_ctl(w, fd)) != 1)
		return r;
	if (len == 0 || w->phase != WSP_OPEN)
		return 0;
	if (w->tleft == 0) {
		w->tleft = len < WS_SEND_MAX ? len : WS_SEND_MAX;
		randombytes_buf(mask, sizeof(mask));
		w->thlen = ws_frame_encode(w->th, 1, WS_OP_BINARY, w->tleft,
		    w->side == WS_CLIENT ? mask : NULL);
		w->thoff = 0;
		if (w->side == WS_CLIENT)
			ws_unmask(data, w->tleft, mask, 0);
	}
	hl = w->thlen - w->thoff;
	iov[0].iov_base = w->th + w->thoff;
	iov[0].iov_len = hl;
	iov[1].iov_base = data;
	iov[1].iov_len = len < w->tleft ? len : w->tleft;
	if ((n = writev(fd, iov, 2)) == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if ((size_t)n <= hl) {
		w->thoff += n;
		return 0;
	}
	w->thoff = w->thlen;
	n -= hl;
	w->tleft -= n;
	return n;
}

/*
 * Last words: a close frame with code, sent if it can go at once and no
 * data frame is half sent.
 */
void
wsc_bye(struct wsconn *w, int fd, uint16_t code)
{
	if (w->phase == WSP_OPEN && w->tleft == 0)
		wsc_queue_close(w, code);
	if (w->tleft == 0)
		wsc_send_ctl(w, fd);
}
