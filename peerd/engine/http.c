/*
 * The admin HTTP server on admin.listen (libevent's evhttp, in the
 * engine's own event loop): GET /status, /health and /metrics.  The
 * parent binds the socket and passes it down, as it does the listening
 * ones.  A client is bounded in what it may send (headers, body), in
 * time, and in number (admin.maxRequestSize, admin.timeout,
 * admin.maxClients): at admin.maxClients open connections the socket
 * is not accepted from until one goes.  The figures come from the engine
 * through the hook it sets; the exposition from metrics.c.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS	/* strvisx's one signature, no warning */
#include <vis.h>

#include <event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "engine.h"
#include "json.h"
#include "log.h"

#define HTTP_STORE_GRACE	60	/* seconds a refused write degrades */
#define HTTP_LOGPATH		64	/* bytes of a path logged */

/* A connection's bufferevent, held so that its end is seen. */
struct http_client {
	LIST_ENTRY(http_client)	 entry;
	struct bufferevent	*bev;
};

static struct {
	struct evhttp		*http;
	struct evconnlistener	*lst;
	struct event_base	*base;
	struct event		 ev_reap;
	int			 paused;
	int			 max_clients;
	int			 max_request;
	struct timeval		 timeout;
	int			 nclients;
	LIST_HEAD(, http_client) clients;
	struct http_hooks	 hooks;
	uint64_t		 store_dropped;	/* last seen */
	time_t			 store_when;	/* when it last grew */
	char			 addr[64];
} h;

static const char *const path_names[HTTP_PATHS] = {
	"/status", "/health", "/metrics", "other"
};
static const int codes[HTTP_CODES] = { 200, 404, 405, 500, 503 };
static const char *const reasons[HTTP_CODES] = {
	"OK", "Not Found", "Method Not Allowed", "Internal Server Error",
	"Service Unavailable"
};

void
http_set_hooks(const struct http_hooks *hooks)
{
	h.hooks = *hooks;
}

/* Accept while there is room under admin.maxClients, and only then. */
static void
http_gate(void)
{
	static struct log_limit	 ll = LOG_LIMIT("http_full");

	if (h.paused && h.nclients < h.max_clients) {
		evconnlistener_enable(h.lst);
		h.paused = 0;
	} else if (!h.paused && h.nclients >= h.max_clients) {
		evconnlistener_disable(h.lst);
		h.paused = 1;
		counters.http_full++;
		log_limited(&ll, LOG_WARNING, "http_full connections=%d: "
		    "admin.listen is not accepted from until one closes "
		    "(admin.maxClients)", h.nclients);
	}
}

/*
 * evhttp frees a connection's bufferevent, which clears its callbacks;
 * the reference held here keeps it (and its socket, a second at most)
 * until it is seen.  libevent 2.1 has no hook on a connection's end
 * (evhttp_set_max_connections came in 2.2).
 */
static void
http_reap(void)
{
	struct http_client	*cl, *next;
	bufferevent_event_cb	 ecb;

	for (cl = LIST_FIRST(&h.clients); cl != NULL; cl = next) {
		next = LIST_NEXT(cl, entry);
		bufferevent_getcb(cl->bev, NULL, NULL, &ecb, NULL);
		if (ecb != NULL)
			continue;
		LIST_REMOVE(cl, entry);
		bufferevent_decref(cl->bev);
		free(cl);
		h.nclients--;
	}
	http_gate();
}

static void
http_reap_cb(int fd, short event, void *arg)
{
	struct timeval	 tv = { 1, 0 };

	http_reap();
	if (h.nclients > 0)
		evtimer_add(&h.ev_reap, &tv);
}

static struct bufferevent *
http_new_conn(struct event_base *base, void *arg)
{
	struct timeval		 tv = { 1, 0 };
	struct http_client	*cl;
	struct bufferevent	*bev;

	http_reap();
	if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return bev;	/* no memory to count it: served all the same */
	bufferevent_incref(bev);
	cl->bev = bev;
	LIST_INSERT_HEAD(&h.clients, cl, entry);
	h.nclients++;
	if (!evtimer_pending(&h.ev_reap, NULL))
		evtimer_add(&h.ev_reap, &tv);
	http_gate();
	return bev;
}

/* Counted; the reason phrase of the code. */
static const char *
http_count(int path, int code)
{
	int	 i;

	for (i = 0; i < HTTP_CODES; i++)
		if (codes[i] == code) {
			counters.http_requests[path][i]++;
			return reasons[i];
		}
	return "Error";
}

static void
http_reply(struct evhttp_request *req, int path, int code,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);
	const char		*reason;

	reason = http_count(path, code);
	evhttp_add_header(oh, "Content-Type", type);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

static void
http_text(struct evhttp_request *req, int path, int code, const char *why)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "%s\n", why);
	http_reply(req, path, code, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

static void
json_str(struct evbuffer *b, const char *key, const char *val, int comma)
{
	char	 e[256];

	json_escape(e, sizeof(e), val);
	evbuffer_add_printf(b, "%s\"%s\": \"%s\"", comma ? ", " : "", key, e);
}

static void
json_maddrs(struct evbuffer *b, const char *key, const struct multiaddr *ma,
    size_t n)
{
	char	 a[MADDR_STRMAX], e[2 * MADDR_STRMAX];
	size_t	 i;

	evbuffer_add_printf(b, ", \"%s\": [", key);
	for (i = 0; i < n; i++) {
		if (maddr_format(&ma[i], a, sizeof(a)) == -1)
			continue;
		json_escape(e, sizeof(e), a);
		evbuffer_add_printf(b, "%s\"%s\"", i ? ", " : "", e);
	}
	evbuffer_add_printf(b, "]");
}

static void
http_status(struct evhttp_request *req, const struct http_figures *f)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		http_text(req, HP_STATUS, 500, "no memory");
		return;
	}
	evbuffer_add_printf(b, "{");
	json_str(b, "peerId", f->st.peerid, 0);
	evbuffer_add_printf(b, ", \"reservations\": %d, \"connections\": %d, "
	    "\"circuits\": %d", f->reservations, f->st.connections,
	    f->circuits);
	json_str(b, "mode", f->st.mode, 1);
	json_str(b, "version", f->st.version, 1);
	evbuffer_add_printf(b, ", \"uptime\": %lld",
	    (long long)f->st.uptime);
	json_maddrs(b, "listen", f->listen, f->nlisten);
	json_maddrs(b, "announce", f->announce, f->nannounce);
	json_str(b, "network", f->st.network, 1);
	evbuffer_add_printf(b, ", \"lockdown\": %s}\n",
	    f->lockdown ? "true" : "false");
	http_reply(req, HP_STATUS, 200, "application/json", b);
	evbuffer_free(b);
}

/* Whether the store refused an update within HTTP_STORE_GRACE. */
static int
http_store_refusing(const struct http_figures *f)
{
	time_t	 now = mono_now();

	if (f->store_dropped != h.store_dropped) {
		h.store_dropped = f->store_dropped;
		h.store_when = now;
	}
	return h.store_when != 0 && now - h.store_when < HTTP_STORE_GRACE;
}

static void
http_health(struct evhttp_request *req, const struct http_figures *f)
{
	struct evbuffer	*b;
	const char	*status;
	int		 procs, store, limit, relays, partitioned;

	procs = f->procs_silent == 0;
	store = !http_store_refusing(f);
	limit = f->max_connections == 0 ||
	    f->st.connections < f->max_connections;
	relays = f->relays_reserved >= f->relays_configured;
	partitioned = f->st.connections == 0 && (f->has_bootstrap ||
	    strcmp(f->st.network, "partitioned") == 0);
	if (f->lockdown)
		status = "lockdown";
	else if (partitioned)
		status = "partitioned";
	else if (!procs || !store || !limit || !relays)
		status = "degraded";
	else
		status = "healthy";
	if ((b = evbuffer_new()) == NULL) {
		http_text(req, HP_HEALTH, 500, "no memory");
		return;
	}
	evbuffer_add_printf(b, "{\"status\": \"%s\", \"uptime\": %lld, "
	    "\"peers\": %d, \"checks\": {\"processes\": %s, "
	    "\"store\": %s, \"connectionLimit\": %s, \"relays\": %s, "
	    "\"network\": %s}", status, (long long)f->st.uptime,
	    f->st.connections, procs ? "true" : "false",
	    store ? "true" : "false", limit ? "true" : "false",
	    relays ? "true" : "false", partitioned ? "false" : "true");
	if (f->lockdown)
		evbuffer_add_printf(b, ", \"reason\": \"lockdown: the keys "
		    "are wiped and the network is closed; only a restart "
		    "leaves it\"");
	evbuffer_add_printf(b, "}\n");
	http_reply(req, HP_HEALTH, strcmp(status, "healthy") == 0 ? 200 : 503,
	    "application/json", b);
	evbuffer_free(b);
}

static void
http_metrics(struct evhttp_request *req)
{
	struct evbuffer	*b;
	struct bq	 out;

	memset(&out, 0, sizeof(out));
	if (metrics_render(&out) == -1 || (b = evbuffer_new()) == NULL) {
		bq_free(&out);
		http_text(req, HP_METRICS, 500, "metrics not available");
		return;
	}
	evbuffer_add(b, bq_ptr(&out), out.len);
	bq_free(&out);
	http_reply(req, HP_METRICS, 200,
	    "text/plain; version=0.0.4; charset=utf-8", b);
	evbuffer_free(b);
}

/* A path a client asked for, escaped and cut, at debug level. */
static void
http_log_path(struct log_limit *ll, const char *path)
{
	char	 vis[4 * HTTP_LOGPATH + 1];
	size_t	 len = strlen(path);

	if (log_getverbose() < 1)
		return;
	strvisx(vis, path, len < HTTP_LOGPATH ? len : HTTP_LOGPATH,
	    VIS_OCTAL | VIS_CSTYLE | VIS_TAB | VIS_NL | VIS_DQ);
	log_limited(ll, LOG_DEBUG, "http_not_found path=\"%s%s\" length=%zu",
	    vis, len > HTTP_LOGPATH ? "..." : "", len);
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	static struct log_limit	 ll = LOG_LIMIT("http_request");
	struct http_figures	 f;
	const char		*path;
	int			 p;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (p = 0; p < HP_OTHER; p++)
		if (path != NULL && strcmp(path, path_names[p]) == 0)
			break;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		http_text(req, p, 405, "only GET is served");
		return;
	}
	if (p == HP_OTHER) {
		http_log_path(&ll, path != NULL ? path : "");
		http_text(req, p, 404, "not found: GET /status, /health or "
		    "/metrics");
		return;
	}
	if (p == HP_METRICS) {
		http_metrics(req);
		return;
	}
	memset(&f, 0, sizeof(f));
	h.hooks.figures(&f);
	if (p == HP_STATUS)
		http_status(req, &f);
	else
		http_health(req, &f);
}

static void
http_apply(void)
{
	if (h.http == NULL || h.max_clients == 0)
		return;
	evhttp_set_max_headers_size(h.http, h.max_request);
	evhttp_set_max_body_size(h.http, h.max_request);
	evhttp_set_timeout_tv(h.http, &h.timeout);
	http_reap();
}

/* The bounds, at each load; connections open keep the timeout they had. */
void
http_configure(const struct reconf_engine *lim)
{
	h.max_clients = lim->admin_max_clients;
	h.max_request = lim->admin_max_request;
	h.timeout.tv_sec = lim->admin_timeout / 1000;
	h.timeout.tv_usec = (lim->admin_timeout % 1000) * 1000;
	http_apply();
}

/* The socket the parent bound for admin.listen. */
void
http_init(int fd, const char *text)
{
	if (h.http != NULL)
		fatalx("a second admin socket from the parent");
	LIST_INIT(&h.clients);
	evtimer_set(&h.ev_reap, http_reap_cb, NULL);
	h.base = event_get_base(&h.ev_reap);
	strlcpy(h.addr, text, sizeof(h.addr));
	if ((h.http = evhttp_new(h.base)) == NULL)
		fatalx("evhttp_new");
	http_apply();
	/* every method reaches http_request, which answers 405 */
	evhttp_set_allowed_methods(h.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(h.http, http_new_conn, NULL);
	evhttp_set_gencb(h.http, http_request, NULL);
	if ((h.lst = evconnlistener_new(h.base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd)) == NULL)
		fatalx("evconnlistener_new");
	if (evhttp_bind_listener(h.http, h.lst) == NULL)
		fatalx("evhttp_bind_listener");
	log_info("admin HTTP on %s", text);
}

void
http_shutdown(void)
{
	struct http_client	*cl;

	if (h.http == NULL)
		return;
	evtimer_del(&h.ev_reap);
	evhttp_free(h.http);
	h.http = NULL;
	while ((cl = LIST_FIRST(&h.clients)) != NULL) {
		LIST_REMOVE(cl, entry);
		bufferevent_decref(cl->bev);
		free(cl);
	}
	h.nclients = 0;
}
