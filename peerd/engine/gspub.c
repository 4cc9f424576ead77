/*
 * Publishing from peerd and watching topics: peerctl publish (the
 * Message made here, signed by keyd, sent down the router's forward
 * path), peerctl subscribe (each message from a peer on the topic, to
 * the client, which the router keeps joined while one watches), and
 * relay.advertise (a relay's signed peer record published on its
 * gossipSub.topics every ttl).  A watcher that does not read loses
 * messages, counted: its queue never grows past SUB_MAXQUEUE.
 * Calls control.c, pssign.c and gossip.c.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event.h>

#include "engine.h"
#include "log.h"

#define SUB_MAXQUEUE	(256 * 1024)	/* queued to a watcher, at most */

/* A message waiting for keyd's signature, and who asked for it. */
struct pending_pub {
	gspub_done_fn	 done;		/* NULL: relay.advertise */
	uint32_t	 id;
	size_t		 len;
	uint8_t		 msg[];
};

struct watcher {
	LIST_ENTRY(watcher)	 entry;
	uint32_t		 ctl;		/* 0: gone, to be reaped */
	uint64_t		 lost;
	char			 topic[CONF_TOPIC_MAX + 1];
};

static LIST_HEAD(, watcher)	 watchers = LIST_HEAD_INITIALIZER(watchers);
static struct event		 ev_reap;
static int			 reap_set;
static const struct engine_conf	*conf;
static gossip_deliver_fn	 tap;		/* the daemon API's */
static int			 advertised;	/* since gossip came on */
static time_t			 advertise_next;

static void
published(void *arg, const uint8_t *sig)
{
	static struct log_limit	 ll = LOG_LIMIT("relay advertisements");
	struct pending_pub	*p = arg;
	struct gossip_sent	 sent;
	char			 err[CTL_MSGLEN], msg[CTL_MSGLEN];
	char			 hex[2 * sizeof(sent.id) + 1];
	size_t			 i;
	int			 r = -1;

	if (sig == NULL)
		strlcpy(err, "keyd refused to sign the message, or did not "
		    "answer in time", sizeof(err));
	else
		r = gossip_publish(p->msg, p->len, sig, &sent, err,
		    sizeof(err));
	if (p->done == NULL) {
		if (r == -1)
			log_limited(&ll, LOG_INFO, "relay_advertise_failed "
			    "error=\"%s\"", err);
		free(p);
		return;
	}
	if (r == -1)
		p->done(p->id, 0, err);
	else {
		for (i = 0; i < sent.idlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", sent.id[i]);
		hex[2 * sent.idlen] = '\0';
		snprintf(msg, sizeof(msg), "published message %s to %d peers",
		    hex, sent.peers);
		p->done(p->id, 1, msg);
	}
	free(p);
}

/*
 * The Message made and handed to keyd; done(id, ok, text) is called
 * once it is sent or refused.  NULL, or why not (done is not called).
 */
const char *
gspub_send(const char *topic, const uint8_t *data, size_t len,
    gspub_done_fn done, uint32_t id)
{
	struct pending_pub	*p;

	if (ident.lockdown)
		return "peerd is in lockdown: it publishes nothing";
	if (!gossip_on())
		return "gossipSub is not enabled";
	if (topic[0] == '\0')
		return "no topic";
	if (!ident.ready)
		return "peerd has no identity from keyd yet";
	if ((p = malloc(sizeof(*p) + KEY_PSMSG_MAX)) == NULL)
		return "out of memory";
	p->done = done;
	p->id = id;
	if (gossip_unsigned(topic, data, len, p->msg, KEY_PSMSG_MAX,
	    &p->len) == -1) {
		free(p);
		return "message too large: with its topic, sender and seqno "
		    "it is over what keyd signs (16000 bytes)";
	}
	if (pssign_request(p->msg, p->len, published, p) == -1) {
		free(p);
		return "keyd is busy or refuses to sign: try again later";
	}
	return NULL;
}

static void
ctl_published(uint32_t ctl, int ok, const char *msg)
{
	control_result(ctl, ok, msg);
}

/* peerctl publish TOPIC MESSAGE: answered once keyd has signed. */
int
gspub_publish(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_publish	 hdr;
	size_t			 len = imsg_get_len(imsg);
	const char		*why;

	if (len < sizeof(hdr))
		return -1;
	memcpy(&hdr, imsg->data, sizeof(hdr));
	if (memchr(hdr.topic, '\0', sizeof(hdr.topic)) == NULL)
		return -1;
	if ((why = gspub_send(hdr.topic, (const uint8_t *)imsg->data +
	    sizeof(hdr), len - sizeof(hdr), ctl_published, ctl)) != NULL)
		control_result(ctl, 0, why);
	return 0;
}

static void
reap(int fd, short event, void *arg)
{
	struct watcher	*w, *next;

	LIST_FOREACH_SAFE(w, &watchers, entry, next) {
		if (w->ctl != 0)
			continue;
		LIST_REMOVE(w, entry);
		gossip_unwatch(w->topic);
		free(w);
	}
}

/* Its client went: reaped later, the router may be in the middle. */
static void
watcher_gone(uint32_t ctl)
{
	struct timeval	 tv = { 0, 0 };
	struct watcher	*w;

	LIST_FOREACH(w, &watchers, entry)
		if (w->ctl == ctl)
			w->ctl = 0;
	if (!reap_set) {
		evtimer_set(&ev_reap, reap, NULL);
		reap_set = 1;
	}
	evtimer_add(&ev_reap, &tv);
}

static int
watcher_count(const char *topic, int *all)
{
	struct watcher	*w;
	int		 n = 0;

	*all = 0;
	LIST_FOREACH(w, &watchers, entry) {
		if (w->ctl == 0)
			continue;
		(*all)++;
		n += strcmp(w->topic, topic) == 0;
	}
	return n;
}

/* Why a new watcher of topic cannot be, or NULL. */
static const char *
watch_refused(const char *topic)
{
	static struct log_limit	 ll = LOG_LIMIT("peerctl subscribe refused");
	const char		*why = NULL;
	int			 all, n;

	if (ident.lockdown)
		return "peerd is in lockdown";
	if (!gossip_on())
		return "gossipSub is not enabled";
	if (topic[0] == '\0')
		return "no topic";
	n = watcher_count(topic, &all);
	if (conf == NULL || all >= conf->lim.gs_max_watchers)
		why = "too many peerctl subscribe clients "
		    "(gossipSub.maxSubscribers)";
	else if (n >= conf->lim.gs_max_topic_watchers)
		why = "too many peerctl subscribe clients on that topic "
		    "(gossipSub.maxTopicSubscribers)";
	if (why != NULL) {
		counters.gossip.watch_refused++;
		log_limited(&ll, LOG_INFO, "gossip_subscribe_refused "
		    "watchers=%d topic_watchers=%d", all, n);
	}
	return why;
}

/* peerctl subscribe TOPIC: each message, until the client goes. */
int
gspub_subscribe(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_subscribe	 req;
	struct watcher		*w;
	const char		*why;

	imsg_get_data(imsg, &req, sizeof(req));
	if ((why = watch_refused(req.topic)) == NULL &&
	    (w = calloc(1, sizeof(*w))) == NULL)
		why = "out of memory";
	else if (why == NULL && gossip_watch(req.topic) == -1) {
		free(w);
		why = "the router cannot join that topic (gossipSub.maxTopics)";
	}
	if (why != NULL) {
		control_result(ctl, 0, why);
		return 0;
	}
	w->ctl = ctl;
	strlcpy(w->topic, req.topic, sizeof(w->topic));
	LIST_INSERT_HEAD(&watchers, w, entry);
	control_stream(ctl, watcher_gone);
	return 0;
}

/* One message to one watcher, or lost when it has not read enough. */
static void
watcher_send(struct watcher *w, const struct gossip_delivery *d)
{
	static struct log_limit	 ll = LOG_LIMIT("peerctl subscribe losses");
	static uint8_t		 buf[IMSG_MAXSIZE - IMSG_HEADER_SIZE];
	struct ctl_gsmsg	 m;
	int64_t			 q;
	size_t			 n;

	if ((q = control_queued(w->ctl)) == -1)
		return;
	if (q > SUB_MAXQUEUE) {
		w->lost++;
		counters.gossip.watch_lost++;
		log_limited(&ll, LOG_INFO, "gossip_subscriber_lost request=%u "
		    "lost=%llu", w->ctl, (unsigned long long)w->lost);
		return;
	}
	memset(&m, 0, sizeof(m));
	peerid_format(d->from, m.from, sizeof(m.from));
	m.idlen = d->idlen < CTL_GSID_MAX ? d->idlen : CTL_GSID_MAX;
	memcpy(m.id, d->id, m.idlen);
	m.seqnolen = d->seqnolen;
	memcpy(m.seqno, d->seqno, d->seqnolen < sizeof(m.seqno) ?
	    d->seqnolen : sizeof(m.seqno));
	m.lost = w->lost;
	m.datalen = d->len;
	n = d->len < sizeof(buf) - sizeof(m) ? d->len : sizeof(buf) - sizeof(m);
	memcpy(buf, &m, sizeof(m));
	if (n > 0)
		memcpy(buf + sizeof(m), d->data, n);
	control_reply(w->ctl, IMSG_CTL_GSMSG, buf, sizeof(m) + n);
}

static void
deliver(const struct gossip_delivery *d)
{
	struct watcher	*w, *next;

	LIST_FOREACH_SAFE(w, &watchers, entry, next)
		if (w->ctl != 0 && strcmp(w->topic, d->topic) == 0)
			watcher_send(w, d);
	if (tap != NULL)
		tap(d);
}

/* The daemon API's subscribers hear what the watchers hear. */
void
gspub_set_tap(gossip_deliver_fn fn)
{
	tap = fn;
}

/* Every watcher told why it ends: gossip went off, or lockdown. */
static void
watchers_end(const char *why)
{
	struct watcher	*w;
	uint32_t	 ctl;

	while ((w = LIST_FIRST(&watchers)) != NULL) {
		LIST_REMOVE(w, entry);
		ctl = w->ctl;
		gossip_unwatch(w->topic);
		free(w);
		if (ctl != 0)
			control_result(ctl, 0, why);
	}
}

/*
 * relay.advertise: a relay with gossip on publishes its signed peer
 * record on each of its gossipSub.topics, once one of them has a mesh,
 * then every ttl.
 */
void
gspub_sweep(time_t now)
{
	static struct log_limit		 ll = LOG_LIMIT("relay advertisements");
	const struct reconf_engine	*e;
	const char			*why;
	size_t				 i;

	if (conf == NULL || ident.lockdown || !gossip_on() ||
	    ident.record == NULL)
		return;
	e = &conf->lim;
	if (!e->advertise_enabled || !e->relay_enabled || !e->hop_enabled ||
	    conf->ntopics == 0)
		return;
	if (!advertised) {
		for (i = 0; i < conf->ntopics; i++)
			if (gossip_mesh_size(conf->topics[i]) > 0)
				break;
		if (i == conf->ntopics)
			return;
	} else if (now < advertise_next)
		return;
	advertised = 1;
	advertise_next = now + (e->advertise_ttl + 999) / 1000;
	for (i = 0; i < conf->ntopics; i++)
		if ((why = gspub_send(conf->topics[i], ident.record,
		    ident.recordlen, NULL, 0)) != NULL)
			log_limited(&ll, LOG_INFO, "relay_advertise_failed "
			    "topic=\"%s\" error=\"%s\"", conf->topics[i], why);
}

void
gspub_configure(const struct engine_conf *ec)
{
	conf = ec;
	gossip_set_deliver(deliver);
	if (!gossip_on()) {
		advertised = 0;
		watchers_end("gossipSub was turned off");
	}
}

void
gspub_lockdown(void)
{
	watchers_end("peerd went into lockdown");
}
