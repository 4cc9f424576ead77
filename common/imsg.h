/*
 * imsg-style framed messages between the processes of the suite, and
 * between peerctl and the control socket.
 *
 * A frame is a 16-byte header (type, total length, flags, id, pid)
 * followed by at most IMSG_MAXSIZE - header bytes of payload.  The id
 * names the owner of a request, and the answer carries it back: a
 * control client, a connection, or a request the sender keeps pending
 * (0: none).  A frame may carry one file descriptor (SCM_RIGHTS),
 * attached to its first byte.  Write queues are bounded: imsg_compose
 * fails with ENOBUFS rather than grow without limit.
 */
#ifndef PEERD_IMSG_H
#define PEERD_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_MAXSIZE		16384		/* header included */
#define IMSG_DEFAULT_MAXQUEUE	(1024 * 1024)	/* bytes queued for write */
#define IMSG_MAXFDS		16		/* received, not yet claimed */
#define IMSGF_HASFD		0x0001

struct imsg_hdr {
	uint32_t	 type;
	uint16_t	 len;
	uint16_t	 flags;
	uint32_t	 id;		/* the request's owner */
	uint32_t	 pid;
};
#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)

struct imsg_out {
	TAILQ_ENTRY(imsg_out)	 entry;
	size_t			 len;
	size_t			 off;
	int			 fd;
	unsigned char		 buf[];
};

struct imsgbuf {
	TAILQ_HEAD(, imsg_out)	 outq;
	size_t			 queued;	/* bytes not yet written */
	size_t			 maxqueue;
	int			 fd;
	pid_t			 pid;
	size_t			 rlen;
	unsigned char		 rbuf[2 * IMSG_MAXSIZE];
	int			 fds[IMSG_MAXFDS];
	int			 nfds;
};

struct imsg {
	struct imsg_hdr	 hdr;
	int		 fd;
	void		*data;
};

void	 imsgbuf_init(struct imsgbuf *, int);
void	 imsgbuf_set_maxqueue(struct imsgbuf *, size_t);
void	 imsgbuf_clear(struct imsgbuf *);
ssize_t	 imsgbuf_read(struct imsgbuf *);
int	 imsgbuf_write(struct imsgbuf *);
int	 imsgbuf_flush(struct imsgbuf *);
int	 imsgbuf_queued(const struct imsgbuf *);

int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
ssize_t	 imsg_get(struct imsgbuf *, struct imsg *);
void	 imsg_free(struct imsg *);

uint32_t imsg_get_type(const struct imsg *);
/* the owner of the request: a control client, a connection, ... */
uint32_t imsg_get_id(const struct imsg *);
pid_t	 imsg_get_pid(const struct imsg *);
size_t	 imsg_get_len(const struct imsg *);
int	 imsg_get_fd(struct imsg *);
int	 imsg_get_data(const struct imsg *, void *, size_t);
int	 imsg_get_string(const struct imsg *, char *, size_t);

#endif /* PEERD_IMSG_H */
