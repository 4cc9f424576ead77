/*
 * Streams: multistream-select on each stream, then the protocol from the
 * one protocol table of the engine, which stream_init() is given.  Above
 * yamux.c: stream_init() registers the upcalls through which yamux.c
 * hands streams up, and yamux.c is called to write, consume, close and
 * reset.  The protocols are reached only through their struct proto.
 * Calls yamux.c only.
 */
#include <sys/types.h>

#include <string.h>
#define LIBBSD_OPENBSD_VIS	/* strvisx's one signature, no warning */
#include <vis.h>

#include "engine.h"
#include "log.h"
#include "multistream.h"
#include "varint.h"

#define MS_MAXTRIES	8	/* proposals a remote may make per stream */
#define MS_LOGNAME	64	/* bytes of a refused name that are logged */

static const struct proto *const *protocols;	/* the engine's table */
static stream_dynamic_fn	 dynamic;	/* names outside it */

/* Any protocol of the table, enabled or not: for streams we open. */
const struct proto *
proto_find(const char *name)
{
	size_t	 i;

	for (i = 0; protocols[i] != NULL; i++)
		if (strcmp(protocols[i]->name, name) == 0)
			return protocols[i];
	return NULL;
}

const struct proto *
proto_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; protocols[i] != NULL; i++)
		if (strcmp(protocols[i]->name, name) == 0 &&
		    (protocols[i]->enabled == NULL || protocols[i]->enabled()))
			return protocols[i];
	return NULL;
}

static int
ms_write(struct stream *s, const char *msg)
{
	uint8_t	 buf[MS_MAXMSG + 10];
	size_t	 n;

	if ((n = ms_encode(msg, buf, sizeof(buf))) == 0)
		return -1;
	return stream_write(s, buf, n);
}

static void
stream_opened(struct stream *s)
{
	ms_write(s, MS_PROTO);
	if (s->flags & ST_OUTBOUND) {
		s->proto = proto_find(s->want);
		ms_write(s, s->want);
	}
}

/* The answer to "ls": one message holding every protocol, each framed. */
static void
ms_list(struct stream *s)
{
	uint8_t	 buf[MS_MAXMSG], msg[MS_MAXMSG + 10], v[10];
	size_t	 i, len = 0, n, vl;

	for (i = 0; protocols[i] != NULL; i++) {
		if (protocols[i]->enabled != NULL && !protocols[i]->enabled())
			continue;
		if ((n = ms_encode(protocols[i]->name, buf + len,
		    sizeof(buf) - len - 1)) == 0)
			break;
		len += n;
	}
	buf[len++] = '\n';
	vl = uvarint_encode(len, v);
	memcpy(msg, v, vl);
	memcpy(msg + vl, buf, len);
	stream_write(s, msg, vl + len);
}

static void
negotiated(struct stream *s, const struct proto *p)
{
	uint32_t	 id = s->id;
	struct conn	*c = s->conn;

	s->proto = p;
	s->flags |= ST_NEGOTIATED;
	if (p->open != NULL)
		p->open(s);
	if ((s = stream_lookup(c, id)) != NULL && s->in.len > 0 &&
	    p->input != NULL)
		p->input(s);
}

/*
 * A protocol the remote proposed that we do not serve, on a stream or
 * (stream 0) for the connection's security or muxer: counted, and at
 * debug level logged, escaped (the remote chose every byte) and cut.
 */
void
proto_unknown(const struct conn *c, uint32_t stream, const char *name)
{
	static struct log_limit	 ll = LOG_LIMIT("unknown protocols proposed");
	char			 vis[4 * MS_LOGNAME + 1];
	size_t			 len = strlen(name);

	counters.protocols_unknown++;
	if (log_getverbose() < 1)
		return;
	strvisx(vis, name, len < MS_LOGNAME ? len : MS_LOGNAME,
	    VIS_OCTAL | VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_DQ);
	log_limited(&ll, LOG_DEBUG, "protocol_unknown conn=%u stream=%u "
	    "protocol=\"%s%s\" length=%zu", c->id, stream, vis,
	    len > MS_LOGNAME ? "..." : "", len);
}

/* One multistream message on a stream not yet agreed. */
static int
ms_step(struct stream *s, const char *line)
{
	const struct proto	*p;

	if (!(s->flags & ST_MS_HEADER)) {
		if (strcmp(line, MS_PROTO) != 0)
			return -1;
		s->flags |= ST_MS_HEADER;
		return 0;
	}
	if (s->flags & ST_OUTBOUND) {
		if (strcmp(line, s->want) != 0 || s->proto == NULL)
			return -1;
		negotiated(s, s->proto);
		return 1;
	}
	if (strcmp(line, MS_LS) == 0) {
		ms_list(s);
		return 0;
	}
	if ((p = proto_lookup(line)) == NULL &&
	    (dynamic == NULL || (p = dynamic(s, line)) == NULL)) {
		proto_unknown(s->conn, s->id, line);
		if (++s->tries > MS_MAXTRIES)
			return -1;
		ms_write(s, MS_NA);
		return 0;
	}
	ms_write(s, line);
	negotiated(s, p);
	return 1;
}

static void
stream_input(struct stream *s)
{
	char		 line[MS_MAXMSG + 1];
	struct conn	*c = s->conn;
	uint32_t	 id = s->id;
	size_t		 used;
	int		 r;

	while (!(s->flags & ST_NEGOTIATED)) {
		r = ms_decode(bq_ptr(&s->in), s->in.len, line, sizeof(line),
		    &used);
		if (r == 0)
			return;
		if (r == 1) {
			stream_consume(s, used);
			r = ms_step(s, line);
		}
		if (r == -1) {
			log_debug("connection %u stream %u: protocol "
			    "negotiation failed", c->id, id);
			stream_reset(s);
			return;
		}
		if (r == 1 || (s = stream_lookup(c, id)) == NULL)
			return;
	}
	if (s->proto->input != NULL)
		s->proto->input(s);
}

static void
stream_remote_closed(struct stream *s)
{
	if (!(s->flags & ST_NEGOTIATED)) {
		stream_reset(s);
		return;
	}
	if (s->proto->closed != NULL)
		s->proto->closed(s);
	else
		stream_close(s);
}

static void
stream_writable_cb(struct stream *s)
{
	if ((s->flags & ST_NEGOTIATED) && s->proto->writable != NULL)
		s->proto->writable(s);
}

static void
stream_free_proto(struct stream *s)
{
	if (s->proto != NULL && s->proto->free != NULL)
		s->proto->free(s);
	s->ctx = NULL;
}

/* Names of the enabled protocols, for identify. */
size_t
proto_names(const char **names, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; protocols[i] != NULL && n < max; i++)
		if (protocols[i]->enabled == NULL || protocols[i]->enabled())
			names[n++] = protocols[i]->name;
	return n;
}

/*
 * An outbound stream for a protocol outside the table, served by p with
 * ctx; name must last as long as the stream.
 */
struct stream *
stream_open_as(struct conn *c, const char *name, const struct proto *p,
    void *ctx)
{
	struct stream	*s;

	if ((s = yamux_open(c, name)) == NULL)
		return NULL;
	s->proto = p;
	s->ctx = ctx;
	return s;
}

/*
 * Who serves the names the table does not have (the daemon API's
 * handlers): it returns their struct proto, having set s->ctx, or NULL.
 */
void
stream_set_dynamic(stream_dynamic_fn fn)
{
	dynamic = fn;
}

/* The protocol table, NULL-terminated, in the order ls lists it. */
void
stream_init(const struct proto *const *table)
{
	static const struct stream_upcalls	 upcalls = {
		.opened = stream_opened,
		.input = stream_input,
		.remote_closed = stream_remote_closed,
		.writable = stream_writable_cb,
		.freed = stream_free_proto,
	};

	protocols = table;
	yamux_set_upcalls(&upcalls);
}
