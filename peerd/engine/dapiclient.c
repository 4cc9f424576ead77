/*
 * The daemon API's socket and clients (dapi.h): on each connection one
 * varint-framed Request, one Response, and again; a request is bounded
 * in size (P2PD_MAXREQ), in number a second (daemonApi.rateLimit), and
 * must come whole within DAPI_REQ_TIMEOUT; clients are bounded in number
 * (daemonApi.maxClients), and one that stops reading what it asked for
 * is closed.  A whole request goes up to dapi.c through the function it
 * gave.  Calls conn.c, gossip.c and dapistream.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "dapi.h"
#include "engine.h"
#include "log.h"
#include "p2pd.h"

#define DAPI_REQ_TIMEOUT	10	/* seconds to send a whole request */

struct dapi_clients		 dapi_clients =
				    LIST_HEAD_INITIALIZER(dapi_clients);
static struct evconnlistener	*lst;
static struct event_base	*base;
static struct event		 ev_base;
static dc_request_fn		 request;
static int			 nclients;
static uint32_t			 next_id = 1;
static struct {
	int			 max_clients;
	int64_t			 rate;		/* requests a second */
	double			 tokens;
	int64_t			 last;		/* ms */
} lim = { 64, 1000, 1000, 0 };
static struct timeval		 stall_tv = { 30, 0 };

void
dc_free(struct dapi_client *dc)
{
	LIST_REMOVE(dc, entry);
	nclients--;
	if (dc->state == DC_SUBSCRIBED)
		gossip_unwatch(dc->topic);
	if (dc->bev != NULL)
		bufferevent_free(dc->bev);
	free(dc->addrs);
	free(dc);
}

/* Nothing more is read: the end, once what it was sent is out. */
static void
dc_closing(struct dapi_client *dc)
{
	dc->state = DC_CLOSING;
	bufferevent_disable(dc->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(dc->bev)) == 0)
		dc_free(dc);
}

struct dapi_client *
dc_find(uint32_t id)
{
	struct dapi_client	*dc;

	LIST_FOREACH(dc, &dapi_clients, entry)
		if (dc->id == id)
			return dc;
	return NULL;
}

/* Its answer written: the next request, or the end once flushed. */
static void
dc_done(struct dapi_client *dc)
{
	free(dc->addrs);
	dc->addrs = NULL;
	dc->naddrs = dc->next = 0;
	dc->conn = 0;
	dc->pstore = 0;
	if (dc->eof) {
		dc_closing(dc);
		return;
	}
	dc->state = DC_REQUEST;
	dc->deadline = mono_now() + DAPI_REQ_TIMEOUT;
	bufferevent_set_timeouts(dc->bev, NULL, &stall_tv);
	bufferevent_enable(dc->bev, EV_READ);
	/* one request an event loop: a pipelining client waits its turn */
	if (evbuffer_get_length(bufferevent_get_input(dc->bev)) > 0)
		bufferevent_trigger(dc->bev, EV_READ,
		    BEV_TRIG_DEFER_CALLBACKS);
}

void
dc_ok(struct dapi_client *dc, struct p2pd_resp *r)
{
	r->type = P2PD_OK;
	if (dapi_respond(dc->bev, r) == -1) {
		dc_free(dc);
		return;
	}
	dc_done(dc);
}

void
dc_fail(struct dapi_client *dc, const char *msg)
{
	if (dapi_error(dc->bev, msg) == -1) {
		dc_free(dc);
		return;
	}
	dc_done(dc);
}

void
dc_okay(struct dapi_client *dc)
{
	struct p2pd_resp	 r;

	memset(&r, 0, sizeof(r));
	dc_ok(dc, &r);
}

/* One request more than daemonApi.rateLimit allows a second? */
static int
rate_over(void)
{
	int64_t	 now = mono_ms();

	lim.tokens += (double)(now - lim.last) * lim.rate / 1000;
	if (lim.tokens > lim.rate)
		lim.tokens = lim.rate;
	lim.last = now;
	if (lim.tokens < 1)
		return 1;
	lim.tokens--;
	return 0;
}

/* SUBSCRIBE answered: from here on the connection is a feed. */
void
dc_feed(struct dapi_client *dc, const char *topic)
{
	struct p2pd_resp	 r;

	strlcpy(dc->topic, topic, sizeof(dc->topic));
	dc->state = DC_SUBSCRIBED;
	memset(&r, 0, sizeof(r));
	r.type = P2PD_OK;
	if (dapi_respond(dc->bev, &r) == -1) {
		dc_free(dc);
		return;
	}
	/* nothing more is read; its end is the client's close */
	bufferevent_set_timeouts(dc->bev, NULL, &stall_tv);
}

/* One whole request frame, copied out and taken off the input. */
static void
dc_read(struct bufferevent *bev, void *arg)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API requests refused");
	struct dapi_client	*dc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	uint8_t			*p, *msg;
	uint64_t		 n;
	size_t			 len, hl;
	int			 rv;

	/* a subscriber says nothing more: what it sends is dropped */
	if (dc->state == DC_SUBSCRIBED)
		evbuffer_drain(in, evbuffer_get_length(in));
	if (dc->state != DC_REQUEST)
		return;
	len = evbuffer_get_length(in);
	hl = len < UVARINT_MAXLEN ? len : UVARINT_MAXLEN;
	p = evbuffer_pullup(in, hl);
	if ((rv = uvarint_decode(p, hl, &n, &hl)) == 0 &&
	    len < UVARINT_MAXLEN)
		return;
	if (rv != 1 || n > P2PD_MAXREQ) {
		counters.dapi_refused++;
		log_limited(&ll, LOG_INFO, "dapi_request_refused client=%u "
		    "reason=size", dc->id);
		dapi_error(bev, "request over 1052672 bytes, or its length "
		    "is not a varint");
		dc_closing(dc);
		return;
	}
	if (len < hl + n) {
		bufferevent_setwatermark(bev, EV_READ, hl + n, 0);
		return;
	}
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	if ((msg = malloc(n + 1)) == NULL) {
		dc_free(dc);
		return;
	}
	evbuffer_drain(in, hl);
	evbuffer_remove(in, msg, n);
	dc->state = DC_WAITING;
	dc->deadline = 0;
	bufferevent_disable(bev, EV_READ);
	counters.dapi_requests++;
	if (rate_over()) {
		counters.dapi_refused++;
		log_limited(&ll, LOG_INFO, "dapi_request_refused client=%u "
		    "reason=rate", dc->id);
		dc_fail(dc, "too many requests (daemonApi.rateLimit)");
	} else
		request(dc, msg, n);
	free(msg);
}

static void
dc_write(struct bufferevent *bev, void *arg)
{
	struct dapi_client	*dc = arg;

	if (dc->state == DC_CLOSING)
		dc_free(dc);
}

static void
dc_event(struct bufferevent *bev, short what, void *arg)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API clients closed");
	struct dapi_client	*dc = arg;

	if (what & BEV_EVENT_EOF) {
		/* its answer still goes out: it may have only shut down */
		if (dc->state == DC_WAITING)
			dc->eof = 1;
		else
			dc_closing(dc);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		counters.dapi_stalled++;
		log_limited(&ll, LOG_INFO, "dapi_client_closed client=%u "
		    "reason=not_reading", dc->id);
	}
	dc_free(dc);
}

static void
dapi_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API clients refused");
	struct dapi_client	*dc;

	if (nclients >= lim.max_clients || ident.lockdown ||
	    (dc = calloc(1, sizeof(*dc))) == NULL) {
		counters.dapi_refused++;
		log_limited(&ll, LOG_INFO, "dapi_client_refused clients=%d "
		    "max=%d reason=%s", nclients, lim.max_clients,
		    ident.lockdown ? "lockdown" : nclients >= lim.max_clients ?
		    "max_clients" : "no_memory");
		close(fd);
		return;
	}
	if ((dc->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(dc);
		return;
	}
	dc->id = next_id++ & ~DAPI_ID_BIT;
	if (dc->id == 0)
		dc->id = next_id++;
	LIST_INSERT_HEAD(&dapi_clients, dc, entry);
	nclients++;
	bufferevent_setcb(dc->bev, dc_read, dc_write, dc_event, dc);
	dc->state = DC_REQUEST;
	dc->deadline = mono_now() + DAPI_REQ_TIMEOUT;
	bufferevent_set_timeouts(dc->bev, NULL, &stall_tv);
	bufferevent_enable(dc->bev, EV_READ);
}

/*
 * Clients that have not sent a whole request in DAPI_REQ_TIMEOUT, and
 * CONNECTs and lookups past their time.
 */
void
dapi_sweep(time_t now)
{
	static struct log_limit	 ll = LOG_LIMIT("daemon API clients closed");
	struct dapi_client	*dc, *next;

	LIST_FOREACH_SAFE(dc, &dapi_clients, entry, next) {
		if (dc->deadline == 0 || now < dc->deadline)
			continue;
		dc->deadline = 0;
		if (dc->state == DC_REQUEST) {
			counters.dapi_idle++;
			log_limited(&ll, LOG_INFO, "dapi_client_closed "
			    "client=%u reason=no_request", dc->id);
			dc_free(dc);
		} else if (dc->state == DC_WAITING)
			dc_fail(dc, dc->naddrs > 0 ? "connect: timed out" :
			    "peerstore: stored did not answer in time");
	}
	dapistream_sweep(now);
}

/* Gossip went off, or lockdown: the subscriptions end. */
void
dapi_unsubscribe_all(void)
{
	struct dapi_client	*dc, *next;

	LIST_FOREACH_SAFE(dc, &dapi_clients, entry, next)
		if (dc->state == DC_SUBSCRIBED)
			dc_free(dc);
}

void
dapi_configure(const struct reconf_engine *e)
{
	if (!e->gossip_enabled)
		dapi_unsubscribe_all();
	lim.max_clients = e->dapi_max_clients;
	if (lim.rate != e->dapi_rate)
		lim.tokens = e->dapi_rate;
	lim.rate = e->dapi_rate;
	stall_tv.tv_sec = e->stalled_timeout / 1000;
	stall_tv.tv_usec = (e->stalled_timeout % 1000) * 1000;
	dapistream_configure(e);
}

/* The socket the parent bound for daemonApi.listen; fn serves requests. */
void
dapiclient_init(int fd, const char *text, dc_request_fn fn)
{
	if (lst != NULL)
		fatalx("a second daemon API socket from the parent");
	request = fn;
	evtimer_set(&ev_base, NULL, NULL);
	base = event_get_base(&ev_base);
	if ((lst = evconnlistener_new(base, dapi_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd)) == NULL)
		fatalx("evconnlistener_new");
	lim.last = mono_ms();
	dapistream_init(base);
	log_info("daemon API on %s", text);
}

int
dapi_client_count(void)
{
	return nclients;
}

void
dapi_shutdown(void)
{
	struct dapi_client	*dc;

	if (lst == NULL)
		return;
	evconnlistener_free(lst);
	lst = NULL;
	while ((dc = LIST_FIRST(&dapi_clients)) != NULL)
		dc_free(dc);
	dapistream_shutdown();
}
