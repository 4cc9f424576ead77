/*
 * Unit tests for common/imsg.c over AF_UNIX socketpairs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "tap.h"

#define MAXPAYLOAD	(IMSG_MAXSIZE - IMSG_HEADER_SIZE)

static int		 sv[2];
static struct imsgbuf	 ia, ib;	/* ia on sv[0], ib on sv[1] */
static unsigned char	 big[IMSG_MAXSIZE + 1];

static void
setup(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	imsgbuf_init(&ia, sv[0]);
	imsgbuf_init(&ib, sv[1]);
}

static void
teardown(void)
{
	imsgbuf_clear(&ia);
	imsgbuf_clear(&ib);
	close(sv[0]);
	close(sv[1]);
}

/* Read from ib until a frame is complete; -1 on error or EOF. */
static ssize_t
get_one(struct imsg *imsg)
{
	ssize_t	 n;

	while ((n = imsg_get(&ib, imsg)) == 0)
		if (imsgbuf_read(&ib) <= 0)
			return -1;
	return n;
}

static void
raw_write(const void *buf, size_t len)
{
	if (write(sv[0], buf, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
}

static void
raw_header(uint32_t type, uint16_t len, uint16_t flags)
{
	struct imsg_hdr	 hdr = { type, len, flags, 0, 0 };

	raw_write(&hdr, sizeof(hdr));
}

static int
fd_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

static int
pipe_through(int wfd, int rfd)
{
	char	 buf[4];

	return write(wfd, "ping", 4) == 4 && read(rfd, buf, 4) == 4 &&
	    memcmp(buf, "ping", 4) == 0;
}

static void
test_roundtrip(void)
{
	struct imsg	 imsg;
	size_t		 lens[] = { 0, 5, 1000 };
	size_t		 i;

	setup();
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	for (i = 0; i < 3; i++)
		ok(imsg_compose(&ia, 10 + i, 100 + i, i == 2 ? 0 : 4242, -1,
		    big, lens[i]) == 0, "compose frame %zu", i);
	ok(imsgbuf_queued(&ia) == 3 * IMSG_HEADER_SIZE + 1005, "queued bytes");
	ok(imsgbuf_flush(&ia) == 0 && imsgbuf_queued(&ia) == 0, "flush");
	for (i = 0; i < 3; i++) {
		ok(get_one(&imsg) == (ssize_t)(IMSG_HEADER_SIZE + lens[i]),
		    "get frame %zu", i);
		ok(imsg_get_type(&imsg) == 10 + i &&
		    imsg_get_id(&imsg) == 100 + i, "type, id %zu", i);
		ok(imsg_get_pid(&imsg) == (i == 2 ? getpid() : 4242),
		    "pid %zu", i);
		ok(imsg_get_len(&imsg) == lens[i] && imsg.fd == -1 &&
		    (lens[i] == 0 ? imsg.data == NULL :
		    memcmp(imsg.data, big, lens[i]) == 0), "payload %zu", i);
		imsg_free(&imsg);
		imsg_free(&imsg);
	}
	ok(imsg_get(&ib, &imsg) == 0 && ib.rlen == 0, "nothing left");
	teardown();
}

static void
test_maxsize(void)
{
	struct imsg	 imsg;

	setup();
	ok(imsg_compose(&ia, 1, 0, 0, -1, big, MAXPAYLOAD + 1) == -1 &&
	    errno == ERANGE, "one byte over the maximum: ERANGE");
	ok(imsg_compose(&ia, 1, 0, 0, -1, NULL, 1) == -1 && errno == EINVAL,
	    "NULL data with length: EINVAL");
	ok(imsg_compose(&ia, 1, 0, 0, -1, big, MAXPAYLOAD) == 0,
	    "maximum size compose");
	ok(imsgbuf_flush(&ia) == 0, "maximum size flush");
	ok(get_one(&imsg) == IMSG_MAXSIZE && imsg_get_len(&imsg) ==
	    MAXPAYLOAD && memcmp(imsg.data, big, MAXPAYLOAD) == 0,
	    "maximum size frame received intact");
	imsg_free(&imsg);
	teardown();
}

static void
test_queue_bound(void)
{
	struct imsg	 imsg;
	ssize_t		 n = 0;
	int		 sent = 0, got = 0, bad = 0, sndbuf = 4096;

	setup();
	imsgbuf_set_maxqueue(&ia, 40 * IMSG_MAXSIZE);
	while (sent < 100 && imsg_compose(&ia, 7, sent, 0, -1, big,
	    MAXPAYLOAD) == 0)
		sent++;
	ok(errno == ENOBUFS && sent == 40, "queue full after 40 frames");

	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ok(imsgbuf_write(&ia) == 0 && imsgbuf_queued(&ia) > 0,
	    "write to a full socket returns 0 and keeps the rest");
	ok(imsg_compose(&ia, 7, 0, 0, -1, big, MAXPAYLOAD) == -1 &&
	    errno == ENOBUFS, "still full");

	while (got < sent) {
		if (imsgbuf_write(&ia) == -1 || imsgbuf_read(&ib) <= 0)
			break;
		while ((n = imsg_get(&ib, &imsg)) > 0) {
			if (imsg_get_id(&imsg) != (uint32_t)got++ ||
			    memcmp(imsg.data, big, MAXPAYLOAD) != 0)
				bad++;
			imsg_free(&imsg);
		}
		if (n == -1)
			break;
	}
	ok(got == sent && bad == 0 && imsgbuf_queued(&ia) == 0,
	    "all %d frames drained in order", sent);
	ok(imsg_compose(&ia, 7, 0, 0, -1, big, MAXPAYLOAD) == 0,
	    "compose works again after draining");
	teardown();
}

static void
test_fdpass(void)
{
	struct imsg	 imsg;
	int		 p[2], q[2], fd;

	setup();
	if (pipe(p) == -1 || pipe(q) == -1)
		exit(1);
	ok(imsg_compose(&ia, 1, 0, 0, p[1], "x", 1) == 0, "compose with fd");
	ok(imsgbuf_flush(&ia) == 0 && fd_closed(p[1]),
	    "sent fd closed by the sender");
	ok(get_one(&imsg) > 0 && (imsg.hdr.flags & IMSGF_HASFD),
	    "frame with fd received");
	fd = imsg_get_fd(&imsg);
	ok(fd >= 0 && imsg.fd == -1, "imsg_get_fd moves ownership");
	ok(fcntl(fd, F_GETFD) == FD_CLOEXEC, "received fd is close-on-exec");
	ok(pipe_through(fd, p[0]), "write through the received fd");
	close(fd);
	imsg_free(&imsg);

	ok(imsg_compose(&ia, 2, 0, 0, -1, "a", 1) == 0 &&
	    imsg_compose(&ia, 3, 0, 0, q[1], "b", 1) == 0 &&
	    imsgbuf_flush(&ia) == 0, "two frames, fd on the second");
	ok(get_one(&imsg) > 0 && imsg_get_type(&imsg) == 2 && imsg.fd == -1,
	    "first frame has no fd");
	imsg_free(&imsg);
	ok(get_one(&imsg) > 0 && imsg_get_type(&imsg) == 3 && imsg.fd >= 0 &&
	    pipe_through(imsg.fd, q[0]), "second frame carries the fd");
	imsg_free(&imsg);
	close(p[0]);
	close(q[0]);
	teardown();
}

static void
test_too_many_fds(void)
{
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov = { "x", 1 };
	int		 fds[IMSG_MAXFDS + 1], i;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(fds))];
	} cbuf;

	setup();
	for (i = 0; i <= IMSG_MAXFDS; i++)
		fds[i] = sv[0];
	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	if (sendmsg(sv[0], &msg, 0) != 1)
		exit(1);
	ok(imsgbuf_read(&ib) == -1 && errno == EBADMSG &&
	    ib.nfds <= IMSG_MAXFDS, "more than IMSG_MAXFDS fds: EBADMSG");
	teardown();
}

static void
test_split(void)
{
	struct imsg	 imsg;
	unsigned char	 frame[IMSG_HEADER_SIZE + 4];
	struct imsg_hdr	 hdr = { 9, sizeof(frame), 0, 1, 2 };

	setup();
	memcpy(frame, &hdr, sizeof(hdr));
	memcpy(frame + sizeof(hdr), "abcd", 4);
	raw_write(frame, 10);
	ok(imsgbuf_read(&ib) == 10 && imsg_get(&ib, &imsg) == 0,
	    "partial header: no frame yet");
	raw_write(frame + 10, sizeof(frame) - 10);
	ok(imsgbuf_read(&ib) > 0 &&
	    imsg_get(&ib, &imsg) == (ssize_t)sizeof(frame) &&
	    imsg_get_type(&imsg) == 9 && imsg_get_len(&imsg) == 4 &&
	    memcmp(imsg.data, "abcd", 4) == 0, "rest arrives: frame complete");
	imsg_free(&imsg);
	teardown();
}

static void
test_malformed(void)
{
	struct imsg	 imsg;

	setup();
	raw_header(1, 8, 0);
	ok(imsgbuf_read(&ib) > 0 && imsg_get(&ib, &imsg) == -1 &&
	    errno == EBADMSG, "header len 8: EBADMSG");
	teardown();

	setup();
	raw_header(1, IMSG_MAXSIZE + 1, 0);
	ok(imsgbuf_read(&ib) > 0 && imsg_get(&ib, &imsg) == -1 &&
	    errno == EBADMSG, "header len over IMSG_MAXSIZE: EBADMSG");
	teardown();

	setup();
	raw_header(1, IMSG_HEADER_SIZE, IMSGF_HASFD);
	ok(imsgbuf_read(&ib) > 0 && imsg_get(&ib, &imsg) == -1 &&
	    errno == EBADMSG, "HASFD without an fd: EBADMSG");
	teardown();

	setup();
	raw_header(1, IMSG_HEADER_SIZE + 100, 0);
	raw_write(big, 20);
	close(sv[0]);
	sv[0] = -1;
	ok(imsgbuf_read(&ib) == IMSG_HEADER_SIZE + 20 &&
	    imsg_get(&ib, &imsg) == 0, "half a frame: nothing yet");
	ok(imsgbuf_read(&ib) == 0 && imsg_get(&ib, &imsg) == 0,
	    "then EOF, still no frame");
	teardown();
}

static void
test_get_data(void)
{
	struct imsg	 imsg;
	uint64_t	 v = 0x0102030405060708ULL, w = 0;
	unsigned char	 buf[12];

	setup();
	imsg_compose(&ia, 1, 0, 0, -1, &v, sizeof(v));
	imsg_compose(&ia, 2, 0, 0, -1, NULL, 0);
	imsgbuf_flush(&ia);
	ok(get_one(&imsg) > 0 && imsg_get_data(&imsg, &w, sizeof(w)) == 0 &&
	    w == v, "get_data exact length");
	ok(imsg_get_data(&imsg, buf, 4) == -1 && errno == EBADMSG,
	    "get_data shorter fails");
	ok(imsg_get_data(&imsg, buf, 12) == -1 && errno == EBADMSG,
	    "get_data longer fails");
	imsg_free(&imsg);
	ok(get_one(&imsg) > 0 && imsg_get_data(&imsg, NULL, 0) == 0,
	    "get_data empty payload, length 0");
	imsg_free(&imsg);
	teardown();
}

static void
test_get_string(void)
{
	static const struct {
		const char	*s;
		size_t		 len;
		size_t		 size;
		int		 want;
		const char	*name;
	} t[] = {
		{ "hello", 6, 16, 0, "terminated string" },
		{ "hello", 6, 6, 0, "string exactly fills buffer" },
		{ "hello", 5, 16, -1, "unterminated string fails" },
		{ "he\0lo", 6, 16, -1, "embedded NUL fails" },
		{ "hello", 6, 5, -1, "string too long fails" },
		{ "", 0, 16, -1, "empty payload fails" },
	};
	struct imsg	 imsg;
	char		 buf[16];
	size_t		 i;

	setup();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		imsg_compose(&ia, 1, 0, 0, -1, t[i].s, t[i].len);
	imsgbuf_flush(&ia);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		ok(get_one(&imsg) > 0 &&
		    imsg_get_string(&imsg, buf, t[i].size) == t[i].want &&
		    (t[i].want == 0 ? strcmp(buf, t[i].s) == 0 :
		    errno == EBADMSG), "%s", t[i].name);
		imsg_free(&imsg);
	}
	teardown();
}

static void
test_clear(void)
{
	int	 p[2], qfd, rfd;

	setup();
	if (pipe(p) == -1 || (qfd = dup(p[1])) == -1)
		exit(1);
	ok(imsg_compose(&ia, 1, 0, 0, qfd, NULL, 0) == 0 && !fd_closed(qfd),
	    "queued fd open before clear");
	imsgbuf_clear(&ia);
	ok(fd_closed(qfd) && imsgbuf_queued(&ia) == 0,
	    "clear closes queued fd and empties the queue");

	ok(imsg_compose(&ia, 1, 0, 0, p[1], NULL, 0) == 0 &&
	    imsgbuf_flush(&ia) == 0 && imsgbuf_read(&ib) > 0 && ib.nfds == 1,
	    "fd received, not claimed");
	rfd = ib.fds[0];
	imsgbuf_clear(&ib);
	ok(fd_closed(rfd) && ib.nfds == 0 && ib.rlen == 0,
	    "clear closes unclaimed received fd");
	close(p[0]);
	teardown();
}

int
main(void)
{
	test_roundtrip();
	test_maxsize();
	test_queue_bound();
	test_fdpass();
	test_too_many_fds();
	test_split();
	test_malformed();
	test_get_data();
	test_get_string();
	test_clear();
	return tap_done();
}
