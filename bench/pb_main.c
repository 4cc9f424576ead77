/*
 * peerbench: connect N peers to a relay at a set rate, each with its
 * own identity, reserve, hold the reservations, report JSON.  See
 * bench/README.
 *
 *	peerbench -a 127.0.0.1:PORT [-n N] [-r RATE] [-c CONC] [-t HOLD]
 *	    [-s NSRC] [-T TIMEOUT] [-S SEED] [-e POOL] [-HMV]
 *	    [-C CIRCUITS [-P PINGS] [-d SECONDS] [-p PID,...]]
 *	peerbench -B [-b SECONDS]
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <arpa/inet.h>

#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "peerbench.h"

#define MAXCAUSES	32

struct bench	 B;

static struct {
	char	 name[80];
	size_t	 n;
} causes[MAXCAUSES];
static size_t	 ncauses;

static struct event	 tick_ev, sec_ev, hold_ev, sigint_ev, sigterm_ev;
static double		 t0, t_setup_done, t_hold_end;
static double		 cpu0, cpu_setup;
static int		 holding;

__attribute__((__noreturn__))
static void
usage(void)
{
	fprintf(stderr, "usage: peerbench -a 127.0.0.1:PORT [-n peers] "
	    "[-r rate] [-c concurrency]\n\t[-t hold] [-s sources] "
	    "[-T timeout] [-S seed] [-e pool] [-HMV]\n"
	    "\t[-C circuits [-P pings] [-d seconds] [-p pid,...]]\n"
	    "       peerbench -B [-b seconds]\n");
	exit(2);
}

double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
cpu_seconds(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

void
fail_count(const char *why)
{
	size_t	 i;

	for (i = 0; i < ncauses; i++)
		if (strcmp(causes[i].name, why) == 0)
			break;
	if (i == ncauses) {
		/* the last slot gathers what does not fit */
		if (ncauses == MAXCAUSES - 1)
			why = "other causes";
		for (i = 0; i < ncauses; i++)
			if (strcmp(causes[i].name, why) == 0)
				break;
		if (i == ncauses) {
			strlcpy(causes[i].name, why, sizeof(causes[i].name));
			ncauses++;
		}
	}
	causes[i].n++;
}

/* "127.0.0.1:PORT" or "/ip4/127.0.0.1/tcp/PORT[/...]" */
static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char		 host[INET_ADDRSTRLEN], port[8];
	const char	*errstr;
	const char	*p;
	size_t		 hl;

	if (strncmp(s, "/ip4/", 5) == 0) {
		s += 5;
		if ((p = strchr(s, '/')) == NULL || strncmp(p, "/tcp/", 5))
			return -1;
		hl = p - s;
		p += 5;
	} else {
		if ((p = strrchr(s, ':')) == NULL)
			return -1;
		hl = p - s;
		p++;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	strlcpy(port, p, sizeof(port));
	port[strcspn(port, "/")] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(strtonum(port, 1, 65535, &errstr));
	if (errstr != NULL || inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	/* this tool only ever talks to loopback */
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
		return -1;
	return 0;
}

/* -p 123,456: the relay's processes, for its CPU */
static void
parse_pids(const char *arg)
{
	char		*s, *p, *tok;
	const char	*errstr;

	if ((s = strdup(arg)) == NULL)
		err(1, "strdup");
	for (p = s; (tok = strsep(&p, ",")) != NULL; ) {
		if (B.nrelay_pids == PB_MAXPIDS)
			errx(2, "-p: more than %d processes", PB_MAXPIDS);
		B.relay_pids[B.nrelay_pids++] = strtonum(tok, 1, INT32_MAX,
		    &errstr);
		if (errstr != NULL)
			errx(2, "-p %s: %s", tok, errstr);
	}
	free(s);
}

static void
derive(uint8_t out[32], const char *seed, size_t i, const char *what)
{
	crypto_generichash_state	 st;
	uint8_t				 le[8];
	size_t				 k;

	for (k = 0; k < 8; k++)
		le[k] = (uint64_t)i >> (8 * k);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)seed, strlen(seed));
	crypto_generichash_update(&st, (const uint8_t *)what, strlen(what));
	crypto_generichash_update(&st, le, sizeof(le));
	crypto_generichash_final(&st, out, 32);
}

static void
make_identity(struct identity *id, const char *seed, size_t i)
{
	struct noise_payload	 p;
	uint8_t			 s[32], pk[32];
	uint8_t			 msg[24 + 32];

	derive(s, seed, i, "sign");
	crypto_sign_seed_keypair(pk, id->sign_sk, s);
	derive(id->noise_sk, seed, i, "noise");
	crypto_scalarmult_base(id->noise_pk, id->noise_sk);
	if (pb_ed25519_pubkey(pk, id->pubkey_pb, sizeof(id->pubkey_pb)) !=
	    ED25519_PUBKEY_PB_LEN)
		errx(1, "public key does not encode");
	memset(&p, 0, sizeof(p));
	memcpy(p.key, id->pubkey_pb, ED25519_PUBKEY_PB_LEN);
	p.keylen = ED25519_PUBKEY_PB_LEN;
	memcpy(msg, "noise-libp2p-static-key:", 24);
	memcpy(msg + 24, id->noise_pk, 32);
	crypto_sign_detached(p.sig, NULL, msg, sizeof(msg), id->sign_sk);
	p.siglen = 64;
	if (!B.no_early) {
		strlcpy(p.muxers[0], "/yamux/1.0.0", sizeof(p.muxers[0]));
		p.nmuxers = 1;
		p.has_ext = 1;
	}
	if (noise_payload_encode(&p, id->payload, sizeof(id->payload),
	    &id->payloadlen) == -1)
		errx(1, "noise payload does not encode");
	sodium_memzero(s, sizeof(s));
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
print_lat(const char *name, double *v, size_t n, int last)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (n == 0)
		printf("  \"%s\": null%s\n", name, last ? "" : ",");
	else
		printf("  \"%s\": {\"n\": %zu, \"p50_ms\": %.3f, "
		    "\"p99_ms\": %.3f, \"max_ms\": %.3f}%s\n", name, n,
		    1e3 * v[(n - 1) / 2], 1e3 * v[(n - 1) * 99 / 100],
		    1e3 * v[n - 1], last ? "" : ",");
}

static void
report(void)
{
	struct stats	*s = &B.st;
	double		 hs_span = s->t_last_secured - s->t_first;
	double		 rv_span = s->t_last_reserved - s->t_first;
	size_t		 i;

	printf("{\n  \"scenario\": \"%s\",\n  \"peers\": %zu,\n"
	    "  \"rate\": %g,\n  \"concurrency\": %zu,\n  \"sources\": %d,\n"
	    "  \"ephemeral_pool\": %zu,\n",
	    B.hs_only ? "handshake" : B.ncirc > 0 ? "relayed" : "reserve", B.n, B.rate, B.concurrency,
	    B.nsrc, B.npool);
	printf("  \"relay_peer_id\": \"%s\",\n  \"early_muxer\": %s,\n",
	    B.relay_id, B.relay_muxer[0] && !B.no_early ? "true" : "false");
	printf("  \"launched\": %zu,\n  \"connected\": %zu,\n  \"secured\": "
	    "%zu,\n  \"reserved\": %zu,\n  \"failed\": %zu,\n  \"dropped\": "
	    "%zu,\n  \"held_at_end\": %zu,\n", s->launched, s->connected,
	    s->secured, s->reserved, s->failed, s->dropped,
	    (B.hs_only ? s->secured : s->reserved) - s->dropped);
	printf("  \"handshakes_per_s\": %.1f,\n  \"reservations_per_s\": "
	    "%.1f,\n", hs_span > 0 ? s->secured / hs_span : 0,
	    rv_span > 0 ? s->reserved / rv_span : 0);
	printf("  \"setup_seconds\": %.3f,\n  \"hold_seconds\": %.3f,\n",
	    t_setup_done > 0 ? t_setup_done - t0 : now() - t0,
	    t_hold_end > 0 && t_setup_done > 0 ? t_hold_end - t_setup_done :
	    0);
	printf("  \"cpu_seconds_setup\": %.3f,\n  \"cpu_seconds\": %.3f,\n",
	    cpu_setup > 0 ? cpu_setup - cpu0 : cpu_seconds() - cpu0,
	    cpu_seconds() - cpu0);
	printf("  \"identify_answered\": %zu,\n  \"pings_answered\": %zu,\n"
	    "  \"streams_refused\": %zu,\n", s->identifies, s->pings,
	    s->refused_streams);
	print_lat("handshake_latency", s->lat_hs, s->nlat_hs, 0);
	print_lat("reserve_latency", s->lat_rsvp, s->nlat_rsvp, 0);
	print_lat("connect_to_reserved_latency", s->lat_total,
	    s->nlat_total, 0);
	if (B.ncirc > 0)
		circ_report();
	printf("  \"failures\": {");
	for (i = 0; i < ncauses; i++)
		printf("%s\"%s\": %zu", i ? ", " : "", causes[i].name,
		    causes[i].n);
	printf("}\n}\n");
	fflush(stdout);
}

void
finish(void)
{
	size_t	 i;

	t_hold_end = now();
	if (cpu_setup == 0)
		cpu_setup = cpu_seconds();
	report();
	for (i = 0; i < B.n; i++)
		if (B.conns[i] != NULL)
			pc_close(B.conns[i], NULL);
	event_base_loopbreak(B.base);
}

static void
hold_done(int fd, short ev, void *arg)
{
	finish();
}

static void
on_signal(int sig, short ev, void *arg)
{
	finish();
}

static void
tick(int fd, short ev, void *arg)
{
	struct timeval	 tv;
	size_t		 target = B.n;
	double		 t = now();

	if (B.rate > 0 && (t - t0) * B.rate + 1 < (double)B.n)
		target = (size_t)((t - t0) * B.rate) + 1;
	while (B.st.launched < target && B.st.inflight < B.concurrency)
		pc_start(B.st.launched);
	if (!holding && B.st.launched == B.n && B.st.inflight == 0) {
		holding = 1;
		t_setup_done = t;
		cpu_setup = cpu_seconds();
		evtimer_del(&tick_ev);
		if (B.ncirc > 0) {
			fprintf(stderr, "peerbench: %zu reserved, %zu failed "
			    "in %.1f s; circuits\n", B.st.reserved,
			    B.st.failed, t - t0);
			circ_begin();
			return;
		}
		fprintf(stderr, "peerbench: %zu secured, %zu reserved, %zu "
		    "failed in %.1f s; holding %g s\n", B.st.secured,
		    B.st.reserved, B.st.failed, t - t0, B.hold);
		tv.tv_sec = (time_t)B.hold;
		tv.tv_usec = (suseconds_t)((B.hold - tv.tv_sec) * 1e6);
		evtimer_assign(&hold_ev, B.base, hold_done, NULL);
		evtimer_add(&hold_ev, &tv);
	}
}

static void
second(int fd, short ev, void *arg)
{
	pc_check_timeouts(now());
}

static void
setup(const char *seed)
{
	struct rlimit	 rl;
	size_t		 i;

	if ((B.ids = calloc(B.n, sizeof(*B.ids))) == NULL ||
	    (B.conns = calloc(B.n, sizeof(*B.conns))) == NULL ||
	    (B.st.lat_hs = calloc(B.n, sizeof(double))) == NULL ||
	    (B.st.lat_rsvp = calloc(B.n, sizeof(double))) == NULL ||
	    (B.st.lat_total = calloc(B.n, sizeof(double))) == NULL)
		err(1, "calloc");
	for (i = 0; i < B.n; i++)
		make_identity(&B.ids[i], seed, i);
	if (B.npool > 0) {
		if ((B.epool = calloc(B.npool, sizeof(*B.epool))) == NULL)
			err(1, "calloc");
		for (i = 0; i < B.npool; i++) {
			randombytes_buf(B.epool[i][0], 32);
			crypto_scalarmult_base(B.epool[i][1], B.epool[i][0]);
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < B.n + 64) {
		rl.rlim_cur = rl.rlim_max = B.n + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			warn("cannot raise the open file limit to %zu",
			    B.n + 64);
	}
}

int
main(int argc, char *argv[])
{
	struct timeval	 tv_tick = { 0, 1000 }, tv_sec = { 1, 0 };
	const char	*errstr, *seed = "peerbench", *addr = NULL;
	double		 bsecs = 1;
	int		 ch, bounds = 0;

	B.n = 1000;
	B.concurrency = 64;
	B.hold = 5;
	B.timeout = 60;
	B.npool = 64;
	B.npings = 1000;
	B.xfer_secs = 5;
	while ((ch = getopt(argc, argv, "a:Bb:C:c:d:e:HMn:P:p:r:S:s:T:t:V")) !=
	    -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'B':
			bounds = 1;
			break;
		case 'b':
			bsecs = strtonum(optarg, 1, 60, &errstr);
			if (errstr != NULL)
				errx(2, "-b %s: %s", optarg, errstr);
			break;
		case 'C':
			B.ncirc = strtonum(optarg, 1, PB_MAXCIRC, &errstr);
			if (errstr != NULL)
				errx(2, "-C %s: %s", optarg, errstr);
			break;
		case 'd':
			B.xfer_secs = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "-d %s: %s", optarg, errstr);
			break;
		case 'P':
			B.npings = strtonum(optarg, 0, 1000000, &errstr);
			if (errstr != NULL)
				errx(2, "-P %s: %s", optarg, errstr);
			break;
		case 'p':
			parse_pids(optarg);
			break;
		case 'c':
			B.concurrency = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(2, "-c %s: %s", optarg, errstr);
			break;
		case 'e':
			B.npool = strtonum(optarg, 0, 1000000, &errstr);
			if (errstr != NULL)
				errx(2, "-e %s: %s", optarg, errstr);
			break;
		case 'H':
			B.hs_only = 1;
			break;
		case 'M':
			B.no_early = 1;
			break;
		case 'n':
			B.n = strtonum(optarg, 1, 10000000, &errstr);
			if (errstr != NULL)
				errx(2, "-n %s: %s", optarg, errstr);
			break;
		case 'r':
			B.rate = strtonum(optarg, 0, 10000000, &errstr);
			if (errstr != NULL)
				errx(2, "-r %s: %s", optarg, errstr);
			break;
		case 'S':
			seed = optarg;
			break;
		case 's':
			B.nsrc = strtonum(optarg, 1, 250, &errstr);
			if (errstr != NULL)
				errx(2, "-s %s: %s", optarg, errstr);
			break;
		case 'T':
			B.timeout = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "-T %s: %s", optarg, errstr);
			break;
		case 't':
			B.hold = strtonum(optarg, 0, 86400, &errstr);
			if (errstr != NULL)
				errx(2, "-t %s: %s", optarg, errstr);
			break;
		case 'V':
			B.verify_each = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if (sodium_init() == -1)
		errx(1, "libsodium does not start");
	if (bounds)
		return bound_main(bsecs);
	if (addr == NULL)
		usage();
	if (parse_addr(addr, &B.relay) == -1)
		errx(2, "%s: not 127.x.y.z:PORT or /ip4/127.x.y.z/tcp/PORT",
		    addr);
	if (B.ncirc > 0 && B.hs_only)
		errx(2, "-C needs reservations: not with -H");
	if (B.nsrc == 0)
		B.nsrc = 1 + B.n / 20000;
	signal(SIGPIPE, SIG_IGN);
	setup(seed);
	if ((B.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	evsignal_assign(&sigint_ev, B.base, SIGINT, on_signal, NULL);
	evsignal_assign(&sigterm_ev, B.base, SIGTERM, on_signal, NULL);
	evsignal_add(&sigint_ev, NULL);
	evsignal_add(&sigterm_ev, NULL);
	event_assign(&tick_ev, B.base, -1, EV_PERSIST, tick, NULL);
	event_add(&tick_ev, &tv_tick);
	event_assign(&sec_ev, B.base, -1, EV_PERSIST, second, NULL);
	event_add(&sec_ev, &tv_sec);
	t0 = B.st.t_first = now();
	cpu0 = cpu_seconds();
	event_base_dispatch(B.base);
	return (B.hs_only ? B.st.secured : B.st.reserved) == B.n &&
	    B.st.dropped == 0 && (B.ncirc == 0 || B.st.x16.done) ? 0 : 1;
}
