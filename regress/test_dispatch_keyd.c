/*
 * keyd's dispatcher against the message table (dispatch_check.h), and
 * its pubsub signing: what it signs verifies as js would check it, what
 * it must not sign is refused and counted, a request too short to carry
 * its ID is fatal.
 */
#include <sys/socket.h>

#include <event.h>

#define main keyd_main
int	 keyd_main(int, char *[]);
#include "../keyd/keyd.c"
#undef main
#include "dispatch_check.h"
#include "pubsub.h"

static const struct var_type	 vars[] = {
	{ IMSG_KEY_SIGN_RECORD, 0, VAR_ANY, "a peer record keyd decodes and "
	    "checks itself; what it will not sign it answers with an empty "
	    "record" },
	{ IMSG_KEY_SIGN_VOUCHER, 0, VAR_ANY, "a voucher keyd decodes and "
	    "checks itself; what it will not sign it answers with an empty "
	    "voucher" },
	{ IMSG_KEY_SIGN_PUBSUB, sizeof(struct key_ps_sign), VAR_ANY, "after "
	    "its request ID, a message pscheck.c checks; keyd refuses one "
	    "over KEY_PSMSG_MAX with its ID" },
	{ 0, 0, 0, NULL }
};

static const struct var_form	 forms[] = {
	{ IMSG_KEY_SIGN_RECORD, "not protobuf", "\xff\xff\xff", 3, 0 },
	{ IMSG_KEY_SIGN_RECORD, "a field claiming 16 bytes, 1 there",
	    "\x0a\x10x", 3, 0 },
	{ IMSG_KEY_SIGN_VOUCHER, "a field claiming 16 bytes, 1 there",
	    "\x0a\x10x", 3, 0 },
	{ IMSG_KEY_SIGN_PUBSUB, "a field claiming 16 bytes, 1 there",
	    "\0\0\0\0\x0a\x10x", 7, 0 },
	{ 0, NULL, NULL, 0, 0 }
};

static struct imsgbuf	 engine_end;	/* what keyd sends the engine */

/* A channel to the engine whose other end the test reads. */
static void
ps_channel(void)
{
	int	 sv[2];

	event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fatal("socketpair");
	imsgev_init(&child->iev[PROC_ENGINE], sv[0], NULL, NULL);
	imsgbuf_init(&engine_end, sv[1]);
}

/* A sign request through keyd's whole receive path; 0 with its answer. */
static int
ps_ask(uint32_t req, const uint8_t *msg, size_t len, struct key_ps_sig *res)
{
	static uint8_t	 buf[IMSG_MAXSIZE];
	struct imsg	 imsg, ans;
	int		 rv = -1;

	memcpy(buf, &req, sizeof(req));
	memcpy(buf + sizeof(req), msg, len);
	memset(&imsg, 0, sizeof(imsg));
	imsg.hdr.type = IMSG_KEY_SIGN_PUBSUB;
	imsg.hdr.len = IMSG_HEADER_SIZE + sizeof(req) + len;
	imsg.fd = -1;
	imsg.data = buf;
	child_receive(PROC_ENGINE, &imsg);
	if (imsgbuf_write(&child->iev[PROC_ENGINE].ibuf) == -1 ||
	    imsgbuf_read(&engine_end) <= 0 || imsg_get(&engine_end, &ans) <= 0)
		return -1;
	if (ans.hdr.type == IMSG_KEY_PUBSUB_SIG &&
	    imsg_get_len(&ans) == sizeof(*res)) {
		memcpy(res, ans.data, sizeof(*res));
		rv = 0;
	}
	imsg_free(&ans);
	return rv;
}

/* A message of ours on topic /t; the caller changes what it tests. */
static void
ps_good(struct ps_msg *m)
{
	static const uint8_t	 seqno[8] = { 0, 0, 0, 0, 0, 0, 1, 2 };

	memset(m, 0, sizeof(*m));
	m->from.p = self.mh;
	m->from.len = self.len;
	m->data.p = (const uint8_t *)"hello";
	m->data.len = 5;
	m->seqno.p = seqno;
	m->seqno.len = sizeof(seqno);
	m->topic.p = (const uint8_t *)"/t";
	m->topic.len = 2;
}

/* Signed, the answer carries the ID, and the signature verifies. */
static void
ps_test_good(void)
{
	static uint8_t		 enc[IMSG_MAXSIZE], scratch[IMSG_MAXSIZE];
	struct key_ps_sig	 res;
	struct ps_msg		 m;
	char			 err[128] = "";
	size_t			 len;
	uint8_t			 data[KEY_PSMSG_MAX];
	int			 got;

	ps_good(&m);
	if (ps_msg_encode(&m, 0, enc, sizeof(enc), &len) == -1)
		fatalx("encode");
	got = ps_ask(77, enc, len, &res);
	ok(got == 0 && res.ok && res.req == 77, "a message of ours is "
	    "signed, answered with its request ID (%u)", res.req);
	m.signature.p = res.sig;
	m.signature.len = sizeof(res.sig);
	ok(ps_msg_verify(&m, scratch, sizeof(scratch), err, sizeof(err)) ==
	    0, "its signature verifies with ps_msg_verify: %s", err);
	m.data.p = (const uint8_t *)"hellO";
	ok(ps_msg_verify(&m, scratch, sizeof(scratch), err, sizeof(err)) ==
	    -1, "and not over other data: %s", err);

	/* the largest message keyd takes */
	ps_good(&m);
	memset(data, 'x', sizeof(data));
	m.data.p = data;
	/* its tag and a 2-byte length instead of a 1-byte one */
	m.data.len = KEY_PSMSG_MAX - (len - 7) - 3;
	if (ps_msg_encode(&m, 0, enc, sizeof(enc), &len) == -1)
		fatalx("encode");
	got = ps_ask(78, enc, len, &res);
	m.signature.p = res.sig;
	m.signature.len = sizeof(res.sig);
	strlcpy(err, "", sizeof(err));
	ok(len == KEY_PSMSG_MAX && got == 0 && res.ok &&
	    ps_msg_verify(&m, scratch, sizeof(scratch), err, sizeof(err)) == 0,
	    "a message of KEY_PSMSG_MAX bytes (%zu) is signed and verifies: "
	    "%s", len, err);
	m.data.len++;
	if (ps_msg_encode(&m, 0, enc, sizeof(enc), &len) == -1)
		fatalx("encode");
	got = ps_ask(79, enc, len, &res);
	ok(len == KEY_PSMSG_MAX + 1 && got == 0 && !res.ok && res.req == 79,
	    "one byte more (%zu) is refused", len);
}

/* The encoding of m with extra bytes after it. */
static size_t
ps_enc(const struct ps_msg *m, int withsig, const char *tail, size_t tlen,
    uint8_t *out, size_t cap)
{
	size_t	 len;

	if (ps_msg_encode(m, withsig, out, cap, &len) == -1 ||
	    len + tlen > cap)
		fatalx("encode");
	memcpy(out + len, tail, tlen);
	return len + tlen;
}

/* What keyd must not sign: refused, the ID given back, counted. */
static void
ps_test_refused(void)
{
	static const uint8_t	 other[] = { 0x00, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t	 seq7[7] = { 0 };
	static const uint8_t	 sig[64] = { 1 };
	uint8_t			 enc[512];
	struct key_ps_sig	 res;
	struct ps_msg		 m;
	size_t			 len;
	uint64_t		 before = npsrefused;
	int			 i, n = 0, bad = 0;
	const char		*what[] = {
		"from another peer", "without from", "a 7-byte seqno",
		"without seqno", "without topic", "an empty topic",
		"a second topic", "with a signature", "with a key",
		"with an unknown field", "not protobuf", "empty"
	};

	for (i = 0; i < (int)(sizeof(what) / sizeof(what[0])); i++) {
		ps_good(&m);
		len = 0;
		switch (i) {
		case 0:
			m.from.p = other;
			m.from.len = sizeof(other);
			break;
		case 1:
			m.from.p = NULL;
			break;
		case 2:
			m.seqno.p = seq7;
			m.seqno.len = sizeof(seq7);
			break;
		case 3:
			m.seqno.p = NULL;
			break;
		case 4:
			m.topic.p = NULL;
			break;
		case 5:
			m.topic.p = NULL;
			len = ps_enc(&m, 0, "\x22\x00", 2, enc, sizeof(enc));
			break;
		case 6:
			len = ps_enc(&m, 0, "\x22\x02/u", 4, enc, sizeof(enc));
			break;
		case 7:
			m.signature.p = sig;
			m.signature.len = sizeof(sig);
			break;
		case 8:
			m.key.p = sig;
			m.key.len = 36;
			break;
		case 9:
			len = ps_enc(&m, 0, "\x38\x01", 2, enc, sizeof(enc));
			break;
		case 10:
			memcpy(enc, "\xff\xff\xff", 3);
			len = 3;
			break;
		case 11:
			len = 0;
			break;
		}
		if (i < 10 && len == 0)
			len = ps_enc(&m, 1, "", 0, enc, sizeof(enc));
		n++;
		if (ps_ask(1000 + i, enc, len, &res) == -1 || res.ok ||
		    res.req != (uint32_t)(1000 + i)) {
			bad++;
			printf("# %s: not refused\n", what[i]);
		}
	}
	ok(bad == 0 && npsrefused - before == (uint64_t)n, "%d messages "
	    "keyd must not sign are refused with their IDs and counted "
	    "(%d wrong, %llu counted)", n, bad,
	    (unsigned long long)(npsrefused - before));
}

/* A request too short for its ID: fatal, as a message off the table. */
static void
ps_test_short(int lockdown)
{
	struct imsg	 imsg;
	char		 out[512];
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], status = 0;

	fflush(stdout);
	if (pipe(p) == -1 || (pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		child->lockdown = lockdown;
		memset(&imsg, 0, sizeof(imsg));
		imsg.hdr.type = IMSG_KEY_SIGN_PUBSUB;
		imsg.hdr.len = IMSG_HEADER_SIZE + 3;
		imsg.fd = -1;
		imsg.data = out;
		child_receive(PROC_ENGINE, &imsg);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    strstr(out, "bad message IMSG_KEY_SIGN_PUBSUB from engine"),
	    "a 3-byte sign request is fatal%s: status %d, %s",
	    lockdown ? " in lockdown too" : "", status, out);
}

static void
ps_tests(void)
{
	struct key_ps_sig	 res;
	struct ps_msg		 m;
	uint8_t			 enc[512];
	size_t			 len;

	log_init(1, 0);
	log_procinit("keyd");
	ps_channel();
	ps_ask(5, (const uint8_t *)"", 0, &res);
	ok(!res.ok && res.req == 5, "with no key loaded keyd signs nothing");
	if ((keys = sodium_malloc(sizeof(*keys))) == NULL)
		fatal("sodium_malloc");
	crypto_sign_keypair(keys->id.pk, keys->id.sk);
	keyd_public();
	ps_test_good();
	ps_test_refused();
	ps_test_short(0);
	ps_test_short(1);
	ps_good(&m);
	if (ps_msg_encode(&m, 0, enc, sizeof(enc), &len) == -1)
		fatalx("encode");
	child->lockdown = 1;
	ok(ps_ask(9, enc, len, &res) == 0 && !res.ok && res.req == 9,
	    "in lockdown a good message is refused with its ID");
	child->lockdown = 0;
	sodium_free(keys);
	keys = NULL;
	imsgev_clear(&child->iev[PROC_ENGINE]);
	imsgbuf_clear(&engine_end);
}

int
main(void)
{
	if (sodium_init() == -1)
		fatalx("sodium_init");
	child = &keyd_child;
	ps_tests();
	return dispatch_check(keyd_child.id, child_receive, vars, forms);
}
