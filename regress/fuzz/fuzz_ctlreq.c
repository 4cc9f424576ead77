/*
 * What a peerctl client sends the engine: the engine's own control
 * socket code (control.c) and request table (engine.c, included), on a
 * real socket, through the message table's check (msg_accept from
 * PROC_CTL), the read-only socket's, and each request's own checks
 * before it is served or passed on.  The other processes are either
 * gone (what would go to them is refused by child_compose) or stand-ins
 * on socketpairs that answer each control request passed on to them as
 * the process would end it (IMSG_CTL_RESULT from the parent,
 * IMSG_CTL_END from a child) and anything else never.  The engine dials
 * nothing: connect() is refused here for all but the control socket.
 *
 * Input: a first byte, bit 0 for the read-only socket, bit 1 to send
 * the rest as it is, bit 2 for the stand-ins; else requests, each a
 * byte choosing a row of the
 * table (or, past it, the byte is the type), a length byte (0xff: the
 * table's size for that type; 0xfe: two bytes of length follow, little
 * endian) and the payload, padded with zeros.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>

#include "../peerd/engine/engine.c"

#define CTL_INPUT_MAX	(256 * 1024)
#define SPINS		64

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sockaddr_un	 sun[2];
static int			 lfd[2] = { -1, -1 };
static size_t			 nrequests;
static const enum proc_id	 others[] = { PROC_PARENT, PROC_KEYD,
				    PROC_STORED, PROC_RELAYD };
#define NOTHERS	(sizeof(others) / sizeof(others[0]))
static struct imsgbuf		 far[NOTHERS];	/* the stand-ins' ends */
static int			 present;

/* The engine's dials go nowhere; the test's own client connects. */
int
connect(int s, const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL || sa->sa_family != AF_UNIX) {
		errno = ECONNREFUSED;
		return -1;
	}
	return syscall(SYS_connect, s, sa, len);
}

static void
listener(int i)
{
	socklen_t	 len;

	memset(&sun[i], 0, sizeof(sun[i]));
	sun[i].sun_family = AF_UNIX;
	/* abstract names: nothing in the file system to clean up */
	snprintf(sun[i].sun_path + 1, sizeof(sun[i].sun_path) - 1,
	    "peerd-fuzz-ctl-%d-%d", (int)getpid(), i);
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun[i].sun_path + 1);
	if ((lfd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(lfd[i], (struct sockaddr *)&sun[i], len) == -1 ||
	    listen(lfd[i], 16) == -1)
		fatal("fuzz_ctlreq: listener");
}

static void
setup(void)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	event_init();
	if (sodium_init() == -1)
		fatalx("sodium_init");
	signal(SIGPIPE, SIG_IGN);
	child = &engine_child;
	/* what privsep_child_init would have set */
	engine_child.opts.user = "_peerd";
	engine_child.opts.root = "/var/empty";
	engine_wire();
	while (requests[nrequests].serve != NULL)
		nrequests++;
	listener(0);
	listener(1);
}

/* The frames the input describes, into out: their length. */
static size_t
frames(const uint8_t *data, size_t size, uint8_t *out, size_t max)
{
	const struct msg_row	*m;
	struct imsg_hdr		 hdr;
	size_t			 i = 0, n = 0, plen, have;

	while (i + 2 <= size) {
		memset(&hdr, 0, sizeof(hdr));
		hdr.type = data[i] < nrequests ? requests[data[i]].type :
		    data[i];
		plen = data[i + 1];
		i += 2;
		if (plen == 0xfe && i + 2 <= size) {
			plen = data[i] | data[i + 1] << 8;
			i += 2;
		} else if (plen == 0xff) {
			m = msg_row(hdr.type);
			plen = m == NULL ? 0 : m->size == MSG_VAR ?
			    size - i : m->size;
		}
		if (plen > IMSG_MAXSIZE - IMSG_HEADER_SIZE ||
		    n + IMSG_HEADER_SIZE + plen > max)
			break;
		hdr.len = IMSG_HEADER_SIZE + plen;
		memcpy(out + n, &hdr, sizeof(hdr));
		n += sizeof(hdr);
		have = size - i < plen ? size - i : plen;
		memcpy(out + n, data + i, have);
		memset(out + n + have, 0, plen - have);
		n += plen;
		i += have;
	}
	return n;
}

/* Whether the engine's table passes requests of this type on. */
static int
passed_on(uint32_t type)
{
	size_t	 i;

	for (i = 0; i < nrequests; i++)
		if (requests[i].type == type)
			return requests[i].serve == control_to_stored ||
			    requests[i].serve == control_to_relayd ||
			    requests[i].serve == control_to_parent ||
			    requests[i].serve == control_to_keyd;
	return 0;
}

/* child.c's dispatcher for a channel (child_channel is its own). */
static void
others_dispatch(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	enum proc_id	 from = iev - child->iev;
	struct imsg	 imsg;

	if (imsgev_io(iev, event, proc_name(from)) == -1) {
		imsgev_clear(iev);
		return;
	}
	while (imsg_get(&iev->ibuf, &imsg) > 0) {
		child_receive(from, &imsg);
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

static void
others_start(void)
{
	size_t	 i;
	int	 sp[2];

	for (i = 0; i < NOTHERS; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
		    sp) == -1)
			fatal("fuzz_ctlreq: socketpair");
		imsgev_init(&child->iev[others[i]], sp[0], others_dispatch,
		    &child->iev[others[i]]);
		imsgbuf_init(&far[i], sp[1]);
	}
	present = 1;
}

/* What the stand-ins were sent; the control requests answered. */
static void
others_answer(void)
{
	struct ctl_result	 res;
	struct imsg		 imsg;
	size_t			 i;
	uint32_t		 type, id;

	memset(&res, 0, sizeof(res));
	res.ok = 1;
	strlcpy(res.msg, "done", sizeof(res.msg));
	for (i = 0; present && i < NOTHERS; i++) {
		while (imsgbuf_read(&far[i]) > 0)
			;
		while (imsg_get(&far[i], &imsg) > 0) {
			type = imsg_get_type(&imsg);
			id = imsg_get_id(&imsg);
			if (imsg_get_fd(&imsg) != -1)
				close(imsg_get_fd(&imsg));
			imsg_free(&imsg);
			if (!passed_on(type))
				continue;
			if (others[i] == PROC_PARENT)
				imsg_compose(&far[i], IMSG_CTL_RESULT, id, 0,
				    -1, &res, sizeof(res));
			else
				imsg_compose(&far[i], IMSG_CTL_END, id, 0, -1,
				    NULL, 0);
		}
		imsgbuf_write(&far[i]);
	}
}

static void
others_stop(void)
{
	size_t	 i;

	for (i = 0; present && i < NOTHERS; i++) {
		imsgev_clear(&child->iev[others[i]]);
		imsgbuf_clear(&far[i]);
		close(far[i].fd);
	}
	present = 0;
}

/* Send buf on s while the engine reads and answers; read until it ends. */
static void
converse(int s, const uint8_t *buf, size_t len)
{
	uint8_t	 in[8192];
	size_t	 off = 0;
	ssize_t	 n;
	int	 spins, shut = 0;

	for (spins = 0; spins < SPINS; spins++) {
		if (off < len) {
			n = send(s, buf + off, len - off, MSG_NOSIGNAL);
			if (n > 0)
				off += n;
			else if (n == -1 && errno != EAGAIN)
				off = len;
		}
		if (off == len && !shut) {
			shutdown(s, SHUT_WR);
			shut = 1;
		}
		event_loop(EVLOOP_NONBLOCK);
		others_answer();
		event_loop(EVLOOP_NONBLOCK);
		while ((n = recv(s, in, sizeof(in), 0)) > 0)
			;
		if (n == 0 || (n == -1 && errno != EAGAIN))
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t	*buf;
	size_t		 len;
	int		 s, ro;

	if (buf == NULL) {
		setup();
		if ((buf = malloc(CTL_INPUT_MAX)) == NULL)
			fatal("fuzz_ctlreq");
	}
	if (size < 1)
		return 0;
	ro = data[0] & 1;
	if (data[0] & 2) {
		len = size - 1 < CTL_INPUT_MAX ? size - 1 : CTL_INPUT_MAX;
		memcpy(buf, data + 1, len);
	} else
		len = frames(data + 1, size - 1, buf, CTL_INPUT_MAX);
	if (data[0] & 4)
		others_start();
	control_init(dup(lfd[0]), 0);
	control_init(dup(lfd[1]), 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		fatal("fuzz_ctlreq: socket");
	if (connect(s, (struct sockaddr *)&sun[ro],
	    offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun[ro].sun_path + 1)) == -1 && errno != EINPROGRESS &&
	    errno != EAGAIN)
		fatal("fuzz_ctlreq: connect");
	converse(s, buf, len);
	close(s);
	control_shutdown();
	others_stop();
	return 0;
}
