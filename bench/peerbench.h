/*
 * peerbench: a libp2p load generator for relays.  Many identities
 * dial a relay, each completes multistream-select, Noise XX and yamux
 * as the initiator, answers the relay's identify and ping streams and
 * reserves a slot (circuit relay v2 hop RESERVE), then holds it.
 */
#ifndef PEERBENCH_H
#define PEERBENCH_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <event.h>
#include <stdint.h>

#include "buf.h"
#include "noise.h"
#include "noisepb.h"
#include "peerid.h"
#include "yamuxhdr.h"

#define PB_PAYLOADMAX	256	/* our Noise handshake payload */
#define PB_MAXSTREAMS	8	/* inbound streams open at once */
#define PB_INMAX	(512 * 1024)	/* bytes buffered per connection */
#define PB_STREAMMAX	8192	/* bytes buffered per stream */
#define PB_WINDOW	(256 * 1024)	/* yamux's initial window */
#define PB_DATAMAX	(NOISE_MAXMSG - NOISE_TAGLEN - YAMUX_HDRLEN)
					/* a data frame in one Noise message */
#define PB_MAXCIRC	16	/* circuits between our own peers */
#define PB_MAXPIDS	16	/* processes of the relay, for its CPU */
#define PB_PINGLEN	32	/* bytes of a relayed ping */

struct identity {
	uint8_t		 sign_sk[64];
	uint8_t		 noise_sk[32];
	uint8_t		 noise_pk[32];
	uint8_t		 payload[PB_PAYLOADMAX];
	size_t		 payloadlen;
	uint8_t		 pubkey_pb[ED25519_PUBKEY_PB_LEN];
};

enum pc_state {
	PC_CONNECTING,
	PC_MS,			/* multistream-select for /noise */
	PC_NOISE,		/* waiting for message 2 */
	PC_MSMUX,		/* multistream-select for yamux, encrypted */
	PC_OPEN,		/* yamux */
	PC_DONE			/* closed, counted */
};

enum ps_kind {
	PS_NONE,
	PS_HOP,			/* ours: the reservation */
	PS_IN,			/* the relay's, protocol not yet known */
	PS_IDENTIFY,
	PS_PING,
	PS_REFUSED,		/* answered na: waiting for its end */
	PS_CONNECT,		/* ours: hop CONNECT, waiting for the status */
	PS_STOP,		/* the relay's stop stream: CONNECT, answered */
	PS_CSRC,		/* a circuit's end, at the peer that opened it */
	PS_CDST			/* a circuit's end, at the peer it reached */
};

struct pstream {
	uint32_t	 id;
	enum ps_kind	 kind;
	int		 ms_header;
	int		 ms_done;
	int		 finished;	/* we sent FIN */
	size_t		 unacked;	/* bytes read since our last update */
	uint32_t	 sendwin;	/* the relay's window for our data */
	size_t		 circ;		/* its circuit, + 1; 0: none */
	struct bq	 in;
};

struct pconn {
	int		 fd;
	size_t		 idx;		/* identity, and the slot in conns[] */
	enum pc_state	 state;
	struct event	 ev;
	short		 ev_mask;
	struct bq	 in;		/* from the socket */
	struct bq	 pt;		/* decrypted, not yet parsed */
	struct bq	 out;		/* to the socket */
	struct noise_hs	*hs;
	struct noise_cs	 tx, rx;
	int		 ms_header;
	int		 reserved;	/* or, with -H, secured */
	uint32_t	 next_sid;
	struct pstream	 st[PB_MAXSTREAMS];
	double		 t_start, t_secured, t_rsvp;
};

enum circ_phase {
	CP_IDLE,
	CP_OPEN1,		/* the first circuit */
	CP_PING,		/* relayed pings on it, one at a time */
	CP_TPUT1,		/* one circuit at full speed */
	CP_SETTLE,		/* what is in flight arrives */
	CP_OPEN16,		/* the others */
	CP_TPUT16,		/* all at full speed */
	CP_DONE
};

struct circuit {
	size_t		 src, dst;	/* peers, indexes of conns[] */
	int		 up;		/* the status OK came */
	uint64_t	 rx;		/* bytes the far end got */
	size_t		 echo;		/* ping bytes back at src */
	double		 t_ping;
};

struct phase {
	double		 t, relay_cpu, own_cpu;
	uint64_t	 rx;
};

struct xfer {
	int		 done;
	size_t		 circuits;
	double		 seconds;
	uint64_t	 bytes;
	double		 relay_cpu;
	double		 own_cpu;
};

struct stats {
	size_t		 launched;
	size_t		 connected;
	size_t		 secured;
	size_t		 reserved;
	size_t		 failed;
	size_t		 dropped;	/* closed by the relay once held */
	size_t		 inflight;	/* launched, neither held nor failed */
	size_t		 pings;
	size_t		 identifies;
	size_t		 refused_streams;
	double		 t_first, t_last_secured, t_last_reserved;
	double		*lat_hs;	/* connect to secured, seconds */
	double		*lat_rsvp;	/* RESERVE sent to status OK */
	double		*lat_total;	/* connect to reserved */
	size_t		 nlat_hs, nlat_rsvp, nlat_total;
	double		*lat_ping;	/* relayed, sent to echoed */
	size_t		 nlat_ping;
	size_t		 circuits_up;
	double		 lat_circ[PB_MAXCIRC];	/* CONNECT to OK */
	struct xfer	 x1, x16;
};

struct bench {
	struct sockaddr_in	 relay;
	int			 nsrc;
	size_t			 n;
	double			 rate;		/* a second, 0: -c only */
	size_t			 concurrency;
	double			 hold;
	double			 timeout;
	int			 verify_each;
	int			 hs_only;	/* -H: no reservation */
	int			 no_early;	/* -M: yamux by multistream */
	size_t			 npool;		/* ephemeral keys reused */
	struct identity		*ids;
	uint8_t			(*epool)[2][32];
	struct pconn		**conns;
	struct event_base	*base;
	struct stats		 st;
	uint8_t			 relay_payload[NOISE_MAXMSG];
	size_t			 relay_payloadlen;
	uint8_t			 relay_rs[32];
	int			 relay_known;
	char			 relay_id[PEERID_STRMAX];
	char			 relay_muxer[32];
	size_t			 ncirc;		/* -C: circuits, 0: none */
	size_t			 npings;	/* -P */
	double			 xfer_secs;	/* -d */
	pid_t			 relay_pids[PB_MAXPIDS];	/* -p */
	size_t			 nrelay_pids;
	enum circ_phase		 phase;
	struct circuit		 circ[PB_MAXCIRC];
};

extern struct bench	 B;

double	 now(void);
void	 fail_count(const char *);

void	 pc_start(size_t);
void	 pc_close(struct pconn *, const char *);
void	 pc_check_timeouts(double);

int	 pc_flush(struct pconn *);
void	 pc_events(struct pconn *);
int	 pc_send(struct pconn *, const uint8_t *, size_t);
int	 y_send(struct pconn *, int, int, uint32_t, uint32_t,
	    const uint8_t *);
struct pstream *st_new(struct pconn *, uint32_t, enum ps_kind);
size_t	 ms_many(uint8_t *, size_t, const char *, const char *);
void	 finish(void);
double	 cpu_seconds(void);

void	 circ_begin(void);
int	 circ_connect(struct pconn *, struct pstream *);
int	 circ_message(struct pconn *, struct pstream *);
int	 circ_data(struct pconn *, struct pstream *, const uint8_t *,
	    size_t);
void	 circ_pump(struct pconn *);
void	 circ_ended(struct pconn *, struct pstream *);
void	 circ_report(void);

int	 bound_main(double);

#endif /* PEERBENCH_H */
