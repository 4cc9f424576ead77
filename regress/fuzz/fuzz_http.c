/*
 * What a client sends the admin HTTP server: the bytes of one
 * connection to http.c on a real socket (127.0.0.1, a port of its
 * own), parsed by evhttp and answered by http.c with the engine's
 * figures (engine.c included) and metrics, within the configuration's
 * default bounds.  The engine dials nothing: connect() is refused here
 * for all but that socket.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "../peerd/engine/engine.c"

#define SPINS		64

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sockaddr_in	 admin;

/* The engine's dials go nowhere; the test's own client connects. */
int
connect(int s, const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL || len != sizeof(admin) ||
	    memcmp(sa, &admin, sizeof(admin)) != 0) {
		errno = ECONNREFUSED;
		return -1;
	}
	return syscall(SYS_connect, s, sa, len);
}

static void
setup(void)
{
	struct peerd_conf	*conf;
	struct reconf_engine	 e;
	socklen_t		 len = sizeof(admin);
	int			 fd;

	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	event_init();
	if (sodium_init() == -1)
		fatalx("sodium_init");
	signal(SIGPIPE, SIG_IGN);
	child = &engine_child;
	engine_child.opts.user = "_peerd";
	engine_child.opts.root = "/var/empty";
	http_set_hooks(&http_hooks);
	memset(&admin, 0, sizeof(admin));
	admin.sin_family = AF_INET;
	admin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&admin, sizeof(admin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&admin, &len) == -1 ||
	    listen(fd, 16) == -1)
		fatal("fuzz_http: listener");
	http_init(fd, "127.0.0.1");
	if ((conf = config_new()) == NULL)
		fatalx("config_new");
	memset(&e, 0, sizeof(e));
	config_part_engine(conf, &e);
	http_configure(&e);
	config_free(conf);
}

/* Send the input while the server reads and answers; until it closes. */
static void
converse(int s, const uint8_t *data, size_t size)
{
	uint8_t	 in[8192];
	size_t	 off = 0;
	ssize_t	 n;
	int	 spins;

	for (spins = 0; spins < SPINS; spins++) {
		if (off < size) {
			n = send(s, data + off, size - off, MSG_NOSIGNAL);
			if (n > 0)
				off += n;
			else if (n == -1 && errno != EAGAIN)
				off = size;
		}
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
	static int	 ready;
	int		 s, spins;

	if (!ready) {
		setup();
		ready = 1;
	}
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		fatal("fuzz_http: socket");
	if (connect(s, (struct sockaddr *)&admin, sizeof(admin)) == -1 &&
	    errno != EINPROGRESS)
		fatal("fuzz_http: connect");
	converse(s, data, size);
	close(s);
	/* the server sees the end, and evhttp frees the connection */
	for (spins = 0; spins < 4; spins++)
		event_loop(EVLOOP_NONBLOCK);
	return 0;
}
