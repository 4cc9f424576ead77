/*
 * The daemon API's clients, shared by its two files, lowest first:
 *
 *	dapiclient.c	 the socket, its clients, their requests' frames,
 *			 bounds and deadlines, and the answers
 *	dapi.c		 each request, and what it waits for
 *
 * dapiclient.c hands each request up through the function dapi.c gives
 * it (dapiclient_init), with the client DC_WAITING and not read from
 * until it is answered: a request that waits only sets its deadline.
 */
#ifndef PEERD_DAPI_H
#define PEERD_DAPI_H

#include <sys/queue.h>

#include <stdint.h>
#include <time.h>

#include "multiaddr.h"
#include "p2pd.h"
#include "peerid.h"

#define DAPI_ID_BIT		0x80000000u	/* ids asked of stored */

enum dc_state {
	DC_REQUEST,		/* reading a request */
	DC_WAITING,		/* a CONNECT, PUBLISH or lookup in flight */
	DC_SUBSCRIBED,		/* a feed of PSMessages */
	DC_CLOSING		/* flushing its last answer */
};

struct dapi_client {
	LIST_ENTRY(dapi_client)	 entry;
	uint32_t		 id;
	struct bufferevent	*bev;
	enum dc_state		 state;
	uint32_t		 conn;		/* CONNECT: the dial */
	struct peerid		 peer;		/* CONNECT, lookup */
	struct multiaddr	*addrs;		/* CONNECT: left to try */
	size_t			 naddrs, next;
	time_t			 deadline;	/* CONNECT, monotonic */
	int			 pstore;	/* lookup: PEERSTORE type */
	int			 eof;		/* the client sent all */
	uint64_t		 lost;		/* PSMessages not sent */
	char			 topic[P2PD_MAXTOPIC + 1];
};

LIST_HEAD(dapi_clients, dapi_client);
extern struct dapi_clients	 dapi_clients;

typedef void	(*dc_request_fn)(struct dapi_client *, const uint8_t *,
		    size_t);

void			 dapiclient_init(int, const char *, dc_request_fn);
void			 dc_free(struct dapi_client *);
struct dapi_client	*dc_find(uint32_t);
void			 dc_ok(struct dapi_client *, struct p2pd_resp *);
void			 dc_fail(struct dapi_client *, const char *);
void			 dc_okay(struct dapi_client *);
void			 dc_feed(struct dapi_client *, const char *);

#endif /* PEERD_DAPI_H */
