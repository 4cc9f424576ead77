/*
 * JSON output of peerctl (-j): one object per command; repeated replies
 * become arrays named after what they hold.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "output.h"

static const char	*array;		/* the array being written */
static char		 gspeer[PEERID_STRMAX];	/* the peer object open */
static int		 gstopics;		/* in its topics */
static int		 nmembers, nitems;
static int		 status, naddrs, nprocs;	/* of show status */

/* Start a member of the top object, closing an open array first. */
static void
array_end(void)
{
	if (gspeer[0] != '\0')
		printf("]}");
	gspeer[0] = '\0';
	putchar(']');
}

static void
member(const char *key)
{
	if (array != NULL) {
		array_end();
		array = NULL;
	}
	printf("%s\"%s\":", nmembers++ ? "," : "", key);
}

/* Start an element of the named array. */
static void
element(const char *name)
{
	if (array == NULL || strcmp(array, name) != 0) {
		member(name);
		putchar('[');
		array = name;
		nitems = 0;
	}
	if (nitems++)
		putchar(',');
}

/* Replies that are a list give an empty array rather than nothing. */
static void
json_head(const char *list)
{
	array = NULL;
	nmembers = status = naddrs = nprocs = 0;
	putchar('{');
	if (list != NULL) {
		member(list);
		putchar('[');
		array = list;
		nitems = 0;
	}
}

static void
json_status(const struct ctl_status *st)
{
	status = 1;
	member("version");
	json_fputs(st->version, stdout);
	member("mode");
	json_fputs(st->mode, stdout);
	member("uptime");
	printf("%lld", (long long)st->uptime);
	member("peerId");
	json_fputs(st->peerid, stdout);
	member("connections");
	printf("%d", st->connections);
	member("upgrading");
	printf("%d", st->upgrading);
	member("network");
	printf("{\"state\":");
	json_fputs(st->network, stdout);
	printf(",\"since\":%lld,\"outbound\":%d,\"outboundTarget\":%d,"
	    "\"minConnections\":%d}", (long long)st->network_since,
	    st->outbound, st->outbound_target, st->min_connections);
	member("bans");
	printf("%d", st->bans);
	member("peerAddrs");
	printf("{\"filtered\":%lld,\"dropped\":%lld,\"dialsBackedOff\":%lld}",
	    (long long)st->addrs_filtered, (long long)st->addrs_dropped,
	    (long long)st->dials_backed_off);
	member("control");
	printf("{\"refused\":%lld,\"idle\":%lld,\"late\":%lld}",
	    (long long)st->ctl_refused, (long long)st->ctl_idle,
	    (long long)st->ctl_late);
	member("protocolsUnknown");
	printf("%lld", (long long)st->protocols_unknown);
	member("lockdown");
	printf("%s", st->lockdown ? "true" : "false");
	member("memory");
	printf("{\"buffered\":%lld,\"peak\":%lld,\"budget\":%lld,"
	    "\"streamsReset\":%lld,\"windowsHeld\":%lld,\"readsPaused\":"
	    "%lld,\"closedStalled\":%lld,\"closedOverBudget\":%lld,"
	    "\"closedNoMemory\":%lld}", (long long)st->mem_buffered,
	    (long long)st->mem_peak, (long long)st->mem_budget,
	    (long long)st->mem_streams_reset,
	    (long long)st->mem_windows_held, (long long)st->mem_reads_paused,
	    (long long)st->mem_stalled, (long long)st->mem_reclaimed,
	    (long long)st->mem_alloc_failed);
}

static void
json_listen_addr(const char *addr)
{
	naddrs++;
	element("listenAddrs");
	json_fputs(addr, stdout);
}

static void
json_proc(const struct ctl_proc *p)
{
	nprocs++;
	element("processes");
	printf("{\"name\":");
	json_fputs(p->name, stdout);
	printf(",\"pid\":%d,\"uid\":%u,\"user\":", p->pid, p->uid);
	json_fputs(p->user, stdout);
	printf(",\"root\":");
	json_fputs(p->root, stdout);
	printf(",\"state\":");
	json_fputs(p->state, stdout);
	printf(",\"sandbox\":");
	json_fputs(p->sandbox, stdout);
	printf(",\"detail\":");
	json_fputs(p->detail, stdout);
	putchar('}');
}

static void
json_conn(const struct ctl_conn *c)
{
	element("connections");
	printf("{\"id\":%u,\"peerId\":", c->id);
	json_fputs(c->peer, stdout);
	printf(",\"direction\":\"%s\",\"address\":",
	    c->inbound ? "inbound" : "outbound");
	json_fputs(c->addr, stdout);
	printf(",\"age\":%lld,\"streams\":%d,\"agent\":", (long long)c->age,
	    c->streams);
	json_fputs(c->agent, stdout);
	putchar('}');
}

static void
json_ping(const struct ctl_ping *p)
{
	element("pings");
	printf("{\"peerId\":");
	json_fputs(p->peer, stdout);
	printf(",\"seq\":%d,\"rtt_ms\":%.3f}", p->seq, p->rtt_us / 1000.0);
}

static void
json_rsvp(const struct ctl_rsvp *r)
{
	element("reservations");
	printf("{\"peerId\":");
	json_fputs(r->peer, stdout);
	printf(",\"address\":");
	json_fputs(r->addr, stdout);
	printf(",\"expire\":%lld,\"created\":%lld}", (long long)r->expire,
	    (long long)r->created);
}

static void
json_circuit(const struct ctl_circuit *c)
{
	element("circuits");
	printf("{\"id\":%u,\"source\":", c->id);
	json_fputs(c->src, stdout);
	printf(",\"target\":");
	json_fputs(c->dst, stdout);
	printf(",\"bytesOut\":%llu,\"bytesBack\":%llu,\"age\":%lld,"
	    "\"limitDuration\":%u,\"limitData\":%llu}",
	    (unsigned long long)c->bytes_src_dst,
	    (unsigned long long)c->bytes_dst_src, (long long)c->age,
	    c->limit_duration, (unsigned long long)c->limit_data);
}

static void
json_topic(const struct ctl_topic *t)
{
	element("topics");
	printf("{\"topic\":");
	json_fputs(t->topic, stdout);
	printf(",\"joined\":%s,\"peers\":%d,\"mesh\":%d,\"fanout\":%d,"
	    "\"messagesIn\":%llu,\"messagesOut\":%llu,\"duplicates\":%llu,"
	    "\"dropped\":%llu}", t->joined ? "true" : "false", t->peers,
	    t->mesh, t->fanout, (unsigned long long)t->msgs_in,
	    (unsigned long long)t->msgs_out, (unsigned long long)t->dups,
	    (unsigned long long)t->dropped);
}

static void
milli(const char *key, int64_t v)
{
	printf("\"%s\":%s%lld.%03lld", key, v < 0 ? "-" : "",
	    (long long)(v < 0 ? -v : v) / 1000,
	    (long long)(v < 0 ? -v : v) % 1000);
}

/* The rows of one peer make one object, its topics an array. */
static void
json_gspeer(const struct ctl_gspeer *g)
{
	if (gspeer[0] == '\0' || strcmp(gspeer, g->peer) != 0) {
		if (gspeer[0] != '\0')
			printf("]}");
		element("peers");
		strlcpy(gspeer, g->peer, sizeof(gspeer));
		printf("{\"peerId\":");
		json_fputs(g->peer, stdout);
		printf(",\"protocol\":");
		json_fputs(g->protocol, stdout);
		printf(",");
		milli("score", g->score);
		printf(",\"graylisted\":%s,", g->graylisted ? "true" : "false");
		milli("P2", g->p2);
		putchar(',');
		milli("P3", g->p3);
		putchar(',');
		milli("P3b", g->p3b);
		putchar(',');
		milli("P4", g->p4);
		putchar(',');
		milli("P6", g->p6);
		putchar(',');
		milli("P7", g->p7);
		putchar(',');
		milli("behaviourPenalty", g->penalty);
		printf(",\"topicCount\":%d,\"topics\":[", g->ntopics);
		gstopics = 0;
	}
	if (g->topic[0] == '\0')
		return;
	printf("%s{\"topic\":", gstopics++ ? "," : "");
	json_fputs(g->topic, stdout);
	printf(",\"subscribed\":%s,\"mesh\":%s,\"fanout\":%s,"
	    "\"backoffMs\":%lld,", g->subscribed ? "true" : "false",
	    g->mesh ? "true" : "false", g->fanout ? "true" : "false",
	    (long long)g->backoff);
	milli("firstDeliveries", g->first);
	putchar(',');
	milli("meshDeliveries", g->deliveries);
	putchar(',');
	milli("P2", g->tp2);
	putchar(',');
	milli("P3", g->tp3);
	putchar(',');
	milli("P3b", g->tp3b);
	putchar('}');
}

static void
json_peer(const struct ctl_peer *p)
{
	int	 i, n;

	element("peers");
	printf("{\"peerId\":");
	json_fputs(p->peer, stdout);
	printf(",\"connected\":%s,\"sources\":%u,\"firstSeen\":%lld,"
	    "\"lastSeen\":%lld,\"lastSuccess\":%lld,\"failures\":%d,"
	    "\"addresses\":%d,\"address\":", p->connected ? "true" : "false",
	    p->sources, (long long)p->first_seen, (long long)p->last_seen,
	    (long long)p->last_ok, p->fails, p->naddrs);
	json_fputs(p->addr, stdout);
	printf(",\"agent\":");
	json_fputs(p->agent, stdout);
	printf(",\"sourceNames\":[");
	for (i = 0, n = 0; i < PEER_NSOURCES; i++)
		if (p->sources & (1U << i))
			printf("%s\"%s\"", n++ ? "," : "", peer_sources[i]);
	printf("]}");
}

static void
json_ban(const struct ctl_ban *b)
{
	element("bans");
	printf("{\"target\":");
	json_fputs(b->target, stdout);
	printf(",\"until\":%lld,\"created\":%lld,\"reason\":",
	    (long long)b->until, (long long)b->created);
	json_fputs(b->reason, stdout);
	putchar('}');
}

static void
json_acct(const struct ctl_acct *a)
{
	element("accounting");
	printf("{\"day\":%u,\"peerId\":", a->day);
	json_fputs(a->peer, stdout);
	printf(",\"reservations\":%llu,\"circuits\":%llu,\"bytesIn\":%llu,"
	    "\"bytesOut\":%llu}", (unsigned long long)a->rsvps,
	    (unsigned long long)a->circuits, (unsigned long long)a->bytes_in,
	    (unsigned long long)a->bytes_out);
}

static void
json_store(const struct ctl_store *s)
{
	member("store");
	printf("{\"mapSize\":%llu,\"used\":%llu,\"schema\":%u,"
	    "\"peers\":%llu,\"bans\":%llu,\"accounting\":%llu,"
	    "\"commits\":%llu,\"queued\":%llu,\"dropped\":%llu,",
	    (unsigned long long)s->mapsize,
	    (unsigned long long)s->used, s->schema,
	    (unsigned long long)s->peers, (unsigned long long)s->bans,
	    (unsigned long long)s->acct, (unsigned long long)s->commits,
	    (unsigned long long)s->queued, (unsigned long long)s->dropped);
	printf("\"accountingSize\":%llu,\"maxPeers\":%llu,"
	    "\"maxAccounting\":%llu,\"maxAccountingSize\":%llu,"
	    "\"prunedPeers\":%llu,\"prunedAccounting\":%llu,"
	    "\"prunedAccountingSize\":%llu,\"failure\":",
	    (unsigned long long)s->acct_size,
	    (unsigned long long)s->max_peers, (unsigned long long)s->max_acct,
	    (unsigned long long)s->max_acct_size,
	    (unsigned long long)s->pruned_peers,
	    (unsigned long long)s->pruned_acct,
	    (unsigned long long)s->pruned_acct_size);
	json_fputs(s->failure, stdout);
	putchar('}');
}

static void
json_key(const struct ctl_key *k)
{
	member("peerId");
	json_fputs(k->peerid, stdout);
	member("publicKey");
	json_fputs(k->pubkey, stdout);
	member("type");
	json_fputs(k->type, stdout);
	member("fingerprint");
	json_fputs(k->fingerprint, stdout);
	member("file");
	json_fputs(k->file, stdout);
	member("created");
	printf("%lld", (long long)k->created);
	member("encrypted");
	printf("%s", k->encrypted ? "true" : "false");
}

/* The last result is the answer; any before it are notes. */
static struct ctl_result	 last;
static int			 have_last;

static void
json_result(const struct ctl_result *r)
{
	if (have_last) {
		element("notes");
		printf("{\"ok\":%s,\"message\":", last.ok ? "true" : "false");
		json_fputs(last.msg, stdout);
		putchar('}');
	}
	last = *r;
	have_last = 1;
}

static void
json_tail(void)
{
	/* the arrays of show status are there even when empty */
	if (status && naddrs == 0) {
		member("listenAddrs");
		printf("[]");
	}
	if (status && nprocs == 0) {
		member("processes");
		printf("[]");
	}
	if (have_last) {
		member("ok");
		printf("%s", last.ok ? "true" : "false");
		member("message");
		json_fputs(last.msg, stdout);
		have_last = 0;
	}
	if (array != NULL)
		array_end();
	printf("}\n");
}

/* Still one valid object when peerd fails to finish its answer. */
static void
json_abort(const char *why)
{
	struct ctl_result	 r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.msg, why, sizeof(r.msg));
	json_result(&r);
	json_tail();
}

const struct output json_output = {
	.head = json_head,
	.status = json_status,
	.listen_addr = json_listen_addr,
	.proc = json_proc,
	.conn = json_conn,
	.ping = json_ping,
	.rsvp = json_rsvp,
	.circuit = json_circuit,
	.peer = json_peer,
	.ban = json_ban,
	.acct = json_acct,
	.store = json_store,
	.key = json_key,
	.topic = json_topic,
	.gspeer = json_gspeer,
	.result = json_result,
	.tail = json_tail,
	.abort = json_abort,
};
