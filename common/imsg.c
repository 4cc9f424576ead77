/*
 * Framed messages over local stream sockets, with optional descriptor
 * passing.  See imsg.h for the frame layout.  Calls libc only.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

static int	 imsgbuf_takefds(struct imsgbuf *, struct msghdr *);
static ssize_t	 imsg_sendframe(int, struct imsg_out *);

void
imsgbuf_init(struct imsgbuf *ibuf, int fd)
{
	TAILQ_INIT(&ibuf->outq);
	ibuf->queued = 0;
	ibuf->maxqueue = IMSG_DEFAULT_MAXQUEUE;
	ibuf->fd = fd;
	ibuf->pid = getpid();
	ibuf->rlen = 0;
	ibuf->nfds = 0;
}

void
imsgbuf_set_maxqueue(struct imsgbuf *ibuf, size_t maxqueue)
{
	ibuf->maxqueue = maxqueue;
}

void
imsgbuf_clear(struct imsgbuf *ibuf)
{
	struct imsg_out	*out;
	int		 i;

	while ((out = TAILQ_FIRST(&ibuf->outq)) != NULL) {
		TAILQ_REMOVE(&ibuf->outq, out, entry);
		if (out->fd >= 0)
			close(out->fd);
		free(out);
	}
	ibuf->queued = 0;
	for (i = 0; i < ibuf->nfds; i++)
		close(ibuf->fds[i]);
	ibuf->nfds = 0;
	ibuf->rlen = 0;
}

static int
imsgbuf_takefds(struct imsgbuf *ibuf, struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	size_t		 i, n;
	int		 fd, bad;

	bad = (msg->msg_flags & MSG_CTRUNC) != 0;
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			if (ibuf->nfds < IMSG_MAXFDS)
				ibuf->fds[ibuf->nfds++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	if (bad) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

ssize_t
imsgbuf_read(struct imsgbuf *ibuf)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int) * IMSG_MAXFDS)];
	} cmsgbuf;
	ssize_t		 n;

	if (ibuf->rlen >= sizeof(ibuf->rbuf)) {
		errno = ENOBUFS;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = ibuf->rbuf + ibuf->rlen;
	iov.iov_len = sizeof(ibuf->rbuf) - ibuf->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	if ((n = recvmsg(ibuf->fd, &msg, MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	ibuf->rlen += n;
	if (imsgbuf_takefds(ibuf, &msg) == -1)
		return -1;
	return n;
}

static ssize_t
imsg_sendframe(int sock, struct imsg_out *out)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = out->buf + out->off;
	iov.iov_len = out->len - out->off;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;

	if (out->off == 0 && out->fd >= 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &out->fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

int
imsgbuf_write(struct imsgbuf *ibuf)
{
	struct imsg_out	*out;
	ssize_t		 n;

	while ((out = TAILQ_FIRST(&ibuf->outq)) != NULL) {
		if ((n = imsg_sendframe(ibuf->fd, out)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			return -1;
		}
		if (n == 0)
			return 0;
		/* The descriptor went out with the first byte. */
		if (out->fd >= 0) {
			close(out->fd);
			out->fd = -1;
		}
		out->off += n;
		ibuf->queued -= n;
		if (out->off < out->len)
			continue;
		TAILQ_REMOVE(&ibuf->outq, out, entry);
		free(out);
	}
	return 0;
}

int
imsgbuf_flush(struct imsgbuf *ibuf)
{
	struct pollfd	 pfd;

	for (;;) {
		if (imsgbuf_write(ibuf) == -1)
			return -1;
		if (TAILQ_EMPTY(&ibuf->outq))
			return 0;
		pfd.fd = ibuf->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
}

int
imsgbuf_queued(const struct imsgbuf *ibuf)
{
	if (ibuf->queued > INT_MAX)
		return INT_MAX;
	return (int)ibuf->queued;
}

int
imsg_compose(struct imsgbuf *ibuf, uint32_t type, uint32_t id, pid_t pid,
    int fd, const void *data, size_t len)
{
	struct imsg_out	*out;
	struct imsg_hdr	 hdr;
	size_t		 framelen;

	if (len > IMSG_MAXSIZE - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return -1;
	}
	if (data == NULL && len > 0) {
		errno = EINVAL;
		return -1;
	}
	framelen = IMSG_HEADER_SIZE + len;
	if (ibuf->queued + framelen > ibuf->maxqueue) {
		errno = ENOBUFS;
		return -1;
	}
	if ((out = malloc(sizeof(*out) + framelen)) == NULL)
		return -1;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint16_t)framelen;
	hdr.flags = fd >= 0 ? IMSGF_HASFD : 0;
	hdr.id = id;
	hdr.pid = pid != 0 ? pid : ibuf->pid;
	memcpy(out->buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(out->buf + sizeof(hdr), data, len);
	out->len = framelen;
	out->off = 0;
	out->fd = fd >= 0 ? fd : -1;

	TAILQ_INSERT_TAIL(&ibuf->outq, out, entry);
	ibuf->queued += framelen;
	return 0;
}

ssize_t
imsg_get(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	size_t		 datalen;
	void		*data = NULL;

	if (ibuf->rlen < IMSG_HEADER_SIZE)
		return 0;
	memcpy(&hdr, ibuf->rbuf, sizeof(hdr));
	if (hdr.len < IMSG_HEADER_SIZE || hdr.len > IMSG_MAXSIZE) {
		errno = EBADMSG;
		return -1;
	}
	if (hdr.len > ibuf->rlen)
		return 0;
	if ((hdr.flags & IMSGF_HASFD) && ibuf->nfds == 0) {
		errno = EBADMSG;
		return -1;
	}

	datalen = hdr.len - IMSG_HEADER_SIZE;
	if (datalen > 0) {
		if ((data = malloc(datalen)) == NULL)
			return -1;
		memcpy(data, ibuf->rbuf + IMSG_HEADER_SIZE, datalen);
	}
	imsg->hdr = hdr;
	imsg->data = data;
	imsg->fd = -1;
	if (hdr.flags & IMSGF_HASFD) {
		imsg->fd = ibuf->fds[0];
		ibuf->nfds--;
		memmove(ibuf->fds, ibuf->fds + 1,
		    ibuf->nfds * sizeof(ibuf->fds[0]));
	}

	ibuf->rlen -= hdr.len;
	memmove(ibuf->rbuf, ibuf->rbuf + hdr.len, ibuf->rlen);
	return hdr.len;
}

void
imsg_free(struct imsg *imsg)
{
	free(imsg->data);
	imsg->data = NULL;
	if (imsg->fd >= 0)
		close(imsg->fd);
	imsg->fd = -1;
}

uint32_t
imsg_get_type(const struct imsg *imsg)
{
	return imsg->hdr.type;
}

uint32_t
imsg_get_id(const struct imsg *imsg)
{
	return imsg->hdr.id;
}

pid_t
imsg_get_pid(const struct imsg *imsg)
{
	return (pid_t)imsg->hdr.pid;
}

size_t
imsg_get_len(const struct imsg *imsg)
{
	if (imsg->hdr.len < IMSG_HEADER_SIZE)
		return 0;
	return imsg->hdr.len - IMSG_HEADER_SIZE;
}

int
imsg_get_fd(struct imsg *imsg)
{
	int	 fd = imsg->fd;

	imsg->fd = -1;
	return fd;
}

int
imsg_get_data(const struct imsg *imsg, void *buf, size_t len)
{
	if (imsg_get_len(imsg) != len) {
		errno = EBADMSG;
		return -1;
	}
	if (len > 0)
		memcpy(buf, imsg->data, len);
	return 0;
}

int
imsg_get_string(const struct imsg *imsg, char *buf, size_t size)
{
	const char	*s = imsg->data;
	size_t		 len;

	len = imsg_get_len(imsg);
	if (len == 0 || len > size || s[len - 1] != '\0' ||
	    memchr(s, '\0', len - 1) != NULL) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(buf, s, len);
	return 0;
}
