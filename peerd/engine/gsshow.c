/*
 * peerctl show gossip peers: each pubsub peer, at most GSPEER_LIST_MAX,
 * a row for each of its topics (at most CTL_GSPEER_TOPICS, the mesh ones
 * first), with its protocol, its score and the parts of it we keep.
 * Calls control.c and gstopic.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <string.h>

#include "engine.h"
#include "gossip.h"

#define GSPEER_LIST_MAX	500	/* peers in one listing */

static int64_t
milli(double v)
{
	return (int64_t)(v * 1000 + (v < 0 ? -0.5 : 0.5));
}

static const char *
kind_name(enum gs_kind k)
{
	switch (k) {
	case GS_MESH12:
		return PS_MESHSUB12;
	case GS_MESH11:
		return PS_MESHSUB11;
	case GS_MESH10:
		return PS_MESHSUB10;
	default:
		return PS_FLOODSUB;
	}
}

/* The peer's fields, P2, P3 and P3b summed over its topics. */
static void
peer_row(const struct gs_peer *p, struct ctl_gspeer *g, int64_t now)
{
	const struct gs_sub	*s;
	double			 d, p2 = 0, p3 = 0, p3b = 0;

	memset(g, 0, sizeof(*g));
	peerid_format(&p->id, g->peer, sizeof(g->peer));
	strlcpy(g->protocol, kind_name(p->kind), sizeof(g->protocol));
	g->ntopics = p->nsubs;
	g->graylisted = p->score < gs_conf.graylist_thr;
	LIST_FOREACH(s, &p->subs, pentry) {
		d = sub_deficit(s, now);
		p3 += gs_conf.md_weight * d * d;
		p3b += gs_conf.mf_weight * s->failure;
		p2 += gs_conf.fd_weight * s->first;
	}
	g->score = milli(p->score);
	g->p2 = milli(p2);
	g->p3 = milli(p3);
	g->p3b = milli(p3b);
	g->p4 = milli(-(p->invalid * p->invalid));
	g->p6 = milli(-((double)p->coloc * p->coloc));
	g->p7 = milli(-(p->penalty * p->penalty));
	g->penalty = milli(p->penalty);
}

static void
topic_row(const struct gs_sub *s, struct ctl_gspeer *g, int64_t now)
{
	double	 d = sub_deficit(s, now);

	memcpy(g->topic, s->topic->name, s->topic->len);
	g->topic[s->topic->len] = '\0';
	g->subscribed = s->subscribed;
	g->mesh = s->mesh;
	g->fanout = s->fanout;
	g->backoff = s->backoff > now ? s->backoff - now : 0;
	g->first = milli(s->first);
	g->deliveries = milli(s->deliveries);
	g->tp2 = milli(gs_conf.fd_weight * s->first);
	g->tp3 = milli(gs_conf.md_weight * d * d);
	g->tp3b = milli(gs_conf.mf_weight * s->failure);
}

static void
show_peer(uint32_t ctl, const struct gs_peer *p, int64_t now)
{
	static struct ctl_gspeer	 base, g;
	const struct gs_sub		*s;
	int				 pass, n = 0;

	peer_row(p, &base, now);
	for (pass = 1; pass >= 0; pass--)
		LIST_FOREACH(s, &p->subs, pentry) {
			if (s->mesh != pass || n >= CTL_GSPEER_TOPICS)
				continue;
			g = base;
			topic_row(s, &g, now);
			control_reply(ctl, IMSG_CTL_GSPEER, &g, sizeof(g));
			n++;
		}
	if (n == 0)
		control_reply(ctl, IMSG_CTL_GSPEER, &base, sizeof(base));
}

int
gossip_show_peers(uint32_t ctl, struct imsg *imsg)
{
	struct ctl_result	 res;
	const struct gs_peer	*p;
	size_t			 n = 0;
	int64_t			 now = gs_now();

	TAILQ_FOREACH(p, &gs_peers, entry)
		if (n++ < GSPEER_LIST_MAX)
			show_peer(ctl, p, now);
	if (msg_list_more(&res, n, GSPEER_LIST_MAX, "gossip peers"))
		control_reply(ctl, IMSG_CTL_RESULT, &res, sizeof(res));
	control_end(ctl);
	return 0;
}
