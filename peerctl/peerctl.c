/*
 * peerctl: steer a running peerd over its control socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "imsg.h"
#include "msg.h"
#include "metrics_out.h"
#include "output.h"
#include "parser.h"
#include "subscribe.h"

#define PEERCTL_TIMEOUT	30000	/* ms */
#define PEERCTL_LONG	600000	/* ms, for backup and verify */

static int	 sub_json;	/* peerctl -j subscribe: JSON lines */

__attribute__((__noreturn__))
static void
usage(void)
{
	fprintf(stderr, "usage: %s [-j] [-s socket] command [argument ...]\n"
	    "commands:\n"
	    "  show [status]\n"
	    "  show connections | reservations | circuits\n"
	    "  show peers | bans | accounting | store\n"
	    "  show metrics | topics\n"
	    "  ping <multiaddr | peer ID> [-c count]\n"
	    "  connect <multiaddr | peer ID>\n"
	    "  disconnect <peer ID>\n"
	    "  block <peer ID | address | network> [duration] [reason]\n"
	    "  unblock <peer ID | address | network>\n"
	    "  backup <file>\n"
	    "  verify\n"
	    "  reload\n"
	    "  log verbose | brief\n"
	    "  key show\n"
	    "  publish <topic> <message | ->\n"
	    "  subscribe <topic> [-j]\n"
	    "  lockdown\n", getprogname());
	exit(2);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(2, "%s: socket path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			errx(1, "cannot connect to %s: %s (is peerd running?)",
			    path, strerror(errno));
		err(1, "connect %s", path);
	}
	return fd;
}

static void
send_empty(struct imsgbuf *ibuf, uint32_t type, const struct parse_result *res)
{
	imsg_compose(ibuf, type, 0, 0, -1, NULL, 0);
}

static void
send_target(struct imsgbuf *ibuf, uint32_t type,
    const struct parse_result *res)
{
	struct ctl_target	 t;

	memset(&t, 0, sizeof(t));
	strlcpy(t.target, res->target, sizeof(t.target));
	t.count = res->count;
	imsg_compose(ibuf, type, 0, 0, -1, &t, sizeof(t));
}

static void
send_block(struct imsgbuf *ibuf, uint32_t type, const struct parse_result *res)
{
	struct ctl_block	 b;

	memset(&b, 0, sizeof(b));
	strlcpy(b.target, res->target, sizeof(b.target));
	b.duration = res->duration;
	strlcpy(b.reason, res->reason, sizeof(b.reason));
	imsg_compose(ibuf, type, 0, 0, -1, &b, sizeof(b));
}

/* peerctl opens the file: stored never needs to see the path. */
static void
send_backup(struct imsgbuf *ibuf, uint32_t type,
    const struct parse_result *res)
{
	int	 fd;

	if ((fd = open(res->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		err(1, "%s", res->target);
	imsg_compose(ibuf, type, 0, 0, fd, NULL, 0);
}

/* The topic, then the message, or standard input for "-". */
static void
send_publish(struct imsgbuf *ibuf, uint32_t type,
    const struct parse_result *res)
{
	static uint8_t		 buf[sizeof(struct ctl_publish) +
				    KEY_PSMSG_MAX + 1];
	struct ctl_publish	*p = (struct ctl_publish *)buf;
	size_t			 len = 0, n;

	memset(buf, 0, sizeof(*p));
	if (strlcpy(p->topic, res->target, sizeof(p->topic)) >=
	    sizeof(p->topic))
		errx(1, "topic too long (at most %d bytes)", CONF_TOPIC_MAX);
	if (strcmp(res->message, "-") != 0) {
		len = strlen(res->message);
		memcpy(buf + sizeof(*p), res->message, len);
	} else {
		while (len <= KEY_PSMSG_MAX && (n = fread(buf + sizeof(*p) +
		    len, 1, KEY_PSMSG_MAX + 1 - len, stdin)) > 0)
			len += n;
		if (ferror(stdin))
			err(1, "standard input");
	}
	if (len > KEY_PSMSG_MAX)
		errx(1, "message too large: more than %d bytes, what keyd "
		    "signs with its topic, sender and seqno", KEY_PSMSG_MAX);
	imsg_compose(ibuf, type, 0, 0, -1, buf, sizeof(*p) + len);
}

static void
send_subscribe(struct imsgbuf *ibuf, uint32_t type,
    const struct parse_result *res)
{
	struct ctl_subscribe	 s;

	memset(&s, 0, sizeof(s));
	if (strlcpy(s.topic, res->target, sizeof(s.topic)) >= sizeof(s.topic))
		errx(1, "topic too long (at most %d bytes)", CONF_TOPIC_MAX);
	imsg_compose(ibuf, type, 0, 0, -1, &s, sizeof(s));
}

static void
send_verbose(struct imsgbuf *ibuf, uint32_t type,
    const struct parse_result *res)
{
	int32_t	 v = res->action == LOG_VERBOSE;

	imsg_compose(ibuf, type, 0, 0, -1, &v, sizeof(v));
}

/* Each action: its request, how it is sent, its listing, its patience. */
static const struct action_row {
	uint32_t	 type;
	void		(*send)(struct imsgbuf *, uint32_t,
			    const struct parse_result *);
	const char	*list;		/* the JSON array of its rows */
	int		 timeout;	/* ms */
} actions[] = {
	[SHOW_STATUS] =	{ IMSG_CTL_SHOW_STATUS, send_empty, NULL,
			    PEERCTL_TIMEOUT },
	[SHOW_CONNS] =	{ IMSG_CTL_SHOW_CONNS, send_empty, "connections",
			    PEERCTL_TIMEOUT },
	[SHOW_RSVPS] =	{ IMSG_CTL_SHOW_RSVPS, send_empty, "reservations",
			    PEERCTL_TIMEOUT },
	[SHOW_CIRCUITS] = { IMSG_CTL_SHOW_CIRCUITS, send_empty, "circuits",
			    PEERCTL_TIMEOUT },
	[RELOAD] =	{ IMSG_CTL_RELOAD, send_empty, NULL, PEERCTL_TIMEOUT },
	[KEY_ROTATE] =	{ IMSG_CTL_KEY_ROTATE, send_empty, NULL,
			    PEERCTL_TIMEOUT },
	[LOG_VERBOSE] =	{ IMSG_CTL_LOG_VERBOSE, send_verbose, NULL,
			    PEERCTL_TIMEOUT },
	[LOG_BRIEF] =	{ IMSG_CTL_LOG_VERBOSE, send_verbose, NULL,
			    PEERCTL_TIMEOUT },
	[PING] =	{ IMSG_CTL_PING, send_target, "pings", PEERCTL_TIMEOUT },
	[CONNECT] =	{ IMSG_CTL_CONNECT, send_target, NULL,
			    PEERCTL_TIMEOUT },
	[DISCONNECT] =	{ IMSG_CTL_DISCONNECT, send_target, NULL,
			    PEERCTL_TIMEOUT },
	[SHOW_PEERS] =	{ IMSG_CTL_SHOW_PEERS, send_empty, "peers",
			    PEERCTL_TIMEOUT },
	[SHOW_BANS] =	{ IMSG_CTL_SHOW_BANS, send_empty, "bans",
			    PEERCTL_TIMEOUT },
	[SHOW_ACCT] =	{ IMSG_CTL_SHOW_ACCT, send_empty, "accounting",
			    PEERCTL_TIMEOUT },
	[BLOCK] =	{ IMSG_CTL_BLOCK, send_block, NULL, PEERCTL_TIMEOUT },
	[UNBLOCK] =	{ IMSG_CTL_UNBLOCK, send_target, NULL,
			    PEERCTL_TIMEOUT },
	[BACKUP] =	{ IMSG_CTL_BACKUP, send_backup, NULL, PEERCTL_LONG },
	[VERIFY] =	{ IMSG_CTL_VERIFY, send_empty, NULL, PEERCTL_LONG },
	[SHOW_STORE] =	{ IMSG_CTL_SHOW_STORE, send_empty, NULL,
			    PEERCTL_TIMEOUT },
	[SHOW_METRICS] = { IMSG_CTL_SHOW_METRICS, send_empty, NULL,
			    PEERCTL_TIMEOUT },
	[LOCKDOWN] =	{ IMSG_CTL_LOCKDOWN, send_empty, NULL,
			    PEERCTL_TIMEOUT },
	[KEY_SHOW] =	{ IMSG_CTL_SHOW_KEY, send_empty, NULL,
			    PEERCTL_TIMEOUT },
	[SHOW_TOPICS] =	{ IMSG_CTL_SHOW_TOPICS, send_empty, "topics",
			    PEERCTL_TIMEOUT },
	[PUBLISH] =	{ IMSG_CTL_PUBLISH, send_publish, NULL,
			    PEERCTL_TIMEOUT },
	[SUBSCRIBE] =	{ IMSG_CTL_SUBSCRIBE, send_subscribe, NULL, -1 },
	[SHOW_GSPEERS] = { IMSG_CTL_SHOW_GSPEERS, send_empty, "peers",
			    PEERCTL_TIMEOUT },
};

static void
send_request(struct imsgbuf *ibuf, const struct parse_result *res)
{
	const struct action_row	*a = &actions[res->action];

	if (res->action == NONE || a->send == NULL)
		usage();
	a->send(ibuf, a->type, res);
	if (imsgbuf_flush(ibuf) == -1)
		err(1, "write to control socket");
}

/* The answer was cut short: end the output started, then say why. */
__attribute__((__noreturn__, __format__(printf, 2, 3)))
static void
cut_short(const struct output *out, const char *fmt, ...)
{
	va_list	 ap;
	char	 why[256];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	out->abort(why);
	fflush(stdout);
	errx(1, "%s", why);
}

/* Returns 1 when the reply is complete. */
static int
handle_reply(struct imsg *imsg, const struct output *out, int *failed,
    const struct parse_result *res)
{
	struct ctl_status	 st;
	struct ctl_proc		 p;
	struct ctl_result	 r;
	struct ctl_conn		 cc;
	struct ctl_ping		 pg;
	struct ctl_rsvp		 rv;
	struct ctl_circuit	 ci;
	struct ctl_peer		 pe;
	struct ctl_ban		 ba;
	struct ctl_acct		 ac;
	struct ctl_store	 so;
	struct ctl_key		 ky;
	struct ctl_topic	 tp;
	struct ctl_gspeer	 gp;
	char			 addr[IMSG_MAXSIZE];
	char			 why[160];

	if (msg_accept(imsg, PROC_ENGINE, PROC_CTL, why, sizeof(why)) == -1)
		cut_short(out, "bad reply from peerd: %s", why);
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_STATUS:
		imsg_get_data(imsg, &st, sizeof(st));
		out->status(&st);
		return 0;
	case IMSG_CTL_PROC:
		imsg_get_data(imsg, &p, sizeof(p));
		out->proc(&p);
		return 0;
	case IMSG_CTL_LISTEN_ADDR:
		if (imsg_get_string(imsg, addr, sizeof(addr)) == -1)
			cut_short(out, "malformed reply from peerd");
		out->listen_addr(addr);
		return 0;
	case IMSG_CTL_CONN:
		imsg_get_data(imsg, &cc, sizeof(cc));
		out->conn(&cc);
		return 0;
	case IMSG_CTL_RSVP:
		imsg_get_data(imsg, &rv, sizeof(rv));
		out->rsvp(&rv);
		return 0;
	case IMSG_CTL_CIRCUIT:
		imsg_get_data(imsg, &ci, sizeof(ci));
		out->circuit(&ci);
		return 0;
	case IMSG_CTL_TOPIC:
		imsg_get_data(imsg, &tp, sizeof(tp));
		out->topic(&tp);
		return 0;
	case IMSG_CTL_GSPEER:
		imsg_get_data(imsg, &gp, sizeof(gp));
		out->gspeer(&gp);
		return 0;
	case IMSG_CTL_PEER:
		imsg_get_data(imsg, &pe, sizeof(pe));
		out->peer(&pe);
		return 0;
	case IMSG_CTL_BAN:
		imsg_get_data(imsg, &ba, sizeof(ba));
		out->ban(&ba);
		return 0;
	case IMSG_CTL_ACCT:
		imsg_get_data(imsg, &ac, sizeof(ac));
		out->acct(&ac);
		return 0;
	case IMSG_CTL_STORE:
		imsg_get_data(imsg, &so, sizeof(so));
		out->store(&so);
		return 0;
	case IMSG_CTL_KEY:
		imsg_get_data(imsg, &ky, sizeof(ky));
		out->key(&ky);
		return 0;
	case IMSG_CTL_PING_REPLY:
		imsg_get_data(imsg, &pg, sizeof(pg));
		out->ping(&pg);
		return 0;
	case IMSG_CTL_RESULT:
		imsg_get_data(imsg, &r, sizeof(r));
		if (!r.ok)
			*failed = 1;
		out->result(&r);
		return 0;
	case IMSG_CTL_METRICS:
		metrics_chunk(imsg->data, imsg_get_len(imsg));
		return 0;
	case IMSG_CTL_GSMSG:
		if (res->action != SUBSCRIBE ||
		    gsmsg_print(imsg, res->target, res->json || sub_json) ==
		    -1)
			cut_short(out, "malformed reply from peerd");
		return 0;
	case IMSG_CTL_END:
		return 1;
	default:
		cut_short(out, "unexpected reply from peerd (type %u)",
		    imsg_get_type(imsg));
	}
}

static int
read_replies(struct imsgbuf *ibuf, const struct output *out,
    const struct parse_result *res)
{
	struct pollfd	 pfd;
	struct imsg	 imsg;
	ssize_t		 n;
	int		 done = 0, failed = 0, r, timeout;

	timeout = actions[res->action].timeout;
	out->head(actions[res->action].list);
	while (!done) {
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			cut_short(out, "poll: %s", strerror(errno));
		}
		if (r == 0)
			cut_short(out, "peerd did not answer within %d seconds",
			    timeout / 1000);
		if ((n = imsgbuf_read(ibuf)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			cut_short(out, "read from control socket: %s",
			    strerror(errno));
		}
		if (n == 0)
			cut_short(out, "peerd closed the control connection");
		while (!done && (n = imsg_get(ibuf, &imsg)) > 0) {
			done = handle_reply(&imsg, out, &failed, res);
			imsg_free(&imsg);
		}
		if (n == -1)
			cut_short(out, "malformed reply from peerd");
	}
	out->tail();
	return failed;
}

int
main(int argc, char *argv[])
{
	const struct parse_result	*res;
	const struct output		*out = &show_output;
	const char			*sock = PEERD_SOCKET;
	struct imsgbuf			 ibuf;
	int				 ch, fd, failed;

	while ((ch = getopt(argc, argv, "+js:")) != -1) {
		switch (ch) {
		case 'j':
			out = &json_output;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((res = parse(argc, argv)) == NULL)
		usage();
	if (res->action == SHOW_METRICS)
		out = metrics_output_for(out == &json_output);
	/* JSON lines, not one object: the messages are the output */
	if (res->action == SUBSCRIBE && out == &json_output) {
		sub_json = 1;
		out = &show_output;
	}

	fd = ctl_connect(sock);
	imsgbuf_init(&ibuf, fd);
	send_request(&ibuf, res);
	failed = read_replies(&ibuf, out, res);
	/* a failed backup leaves no file behind */
	if (failed && res->action == BACKUP)
		unlink(res->target);
	imsgbuf_clear(&ibuf);
	close(fd);
	return failed ? 1 : 0;
}
