/*
 * p2pd's flags (go-libp2p-daemon p2pd/main.go), parsed as Go's flag
 * package parses them: -name or --name, -name=value, "-name value" for
 * all but booleans, a boolean alone is true; parsing stops at "--" or
 * at the first argument that is not a flag.  A syntax error or an
 * unknown flag is the usage and exit 2; -h and -help the usage and
 * exit 0.  What each flag does here is options.c's.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pdwrap.h"

#define FL(n, k, d, u)	{ .name = n, .kind = k, .def = d, .usage = u }

static struct flag flags[] = {
	FL("listen", F_STR, "/unix/tmp/p2pd.sock",
	    "daemon control listen multiaddr"),
	FL("q", F_BOOL, "false", "be quiet"),
	FL("id", F_STR, "", "peer identity; private key file"),
	FL("b", F_BOOL, "false", "connects to bootstrap peers and "
	    "bootstraps the dht if enabled"),
	FL("bootstrapPeers", F_STR, "", "comma separated list of bootstrap "
	    "peers"),
	FL("dht", F_BOOL, "false", "Enables the DHT in full node mode"),
	FL("dhtClient", F_BOOL, "false", "Enables the DHT in client mode"),
	FL("dhtServer", F_BOOL, "false", "Enables the DHT in server mode"),
	FL("connManager", F_BOOL, "false", "Enables the Connection Manager"),
	FL("connLo", F_INT, "256", "Connection Manager Low Water mark"),
	FL("connHi", F_INT, "512", "Connection Manager High Water mark"),
	FL("connGrace", F_DUR, "2m0s", "Connection Manager grace period"),
	FL("natPortMap", F_BOOL, "false", "Enables NAT port mapping"),
	FL("pubsub", F_BOOL, "false", "Enables pubsub"),
	FL("pubsubRouter", F_STR, "gossipsub", "Specifies the pubsub router "
	    "implementation"),
	FL("pubsubSign", F_BOOL, "true", "Enables pubsub message signing"),
	FL("pubsubSignStrict", F_BOOL, "true", "Enables or disables pubsub "
	    "strict signature verification"),
	FL("gossipsubHeartbeatInterval", F_DUR, "0s", "Specifies the "
	    "gossipsub heartbeat interval"),
	FL("gossipsubHeartbeatInitialDelay", F_DUR, "0s", "Specifies the "
	    "gossipsub initial heartbeat delay"),
	FL("relay", F_BOOL, "true", "Enables circuit relay"),
	FL("relayActive", F_BOOL, "false", "Enables active mode for relay"),
	FL("relayHop", F_BOOL, "false", "Enables hop for relay"),
	FL("relayHopLimit", F_INT, "0", "Sets the hop limit for hop relays"),
	FL("relayDiscovery", F_BOOL, "false", "Enables passive discovery for "
	    "relay"),
	FL("autoRelay", F_BOOL, "false", "Enables autorelay"),
	FL("autonat", F_BOOL, "false", "Enables the AutoNAT service"),
	FL("hostAddrs", F_STR, "", "comma separated list of multiaddrs the "
	    "host should listen on"),
	FL("announceAddrs", F_STR, "", "comma separated list of multiaddrs "
	    "the host should announce to the network"),
	FL("noListenAddrs", F_BOOL, "false", "sets the host to listen on no "
	    "addresses"),
	FL("metricsAddr", F_STR, "", "an address to bind the metrics handler "
	    "to"),
	FL("f", F_STR, "", "a file from which to read a json representation "
	    "of the deamon config"),
	FL("i", F_BOOL, "false", "have the daemon read the json config from "
	    "stdin"),
	FL("pprof", F_BOOL, "false", "Enables the HTTP pprof handler"),
	FL("pprofPort", F_INT, "0", "Binds the HTTP pprof handler to a "
	    "specific port"),
	FL("noise", F_BOOL, "true", "Enables Noise channel security protocol"),
	FL("tls", F_BOOL, "true", "Enables TLS1.3 channel security protocol"),
	FL("plaintext", F_BOOL, "true", "Enables Plaintext channel security "
	    "protocol"),
	FL("forceReachabilityPublic", F_BOOL, "false", "Set up "
	    "ForceReachability as public for autonat"),
	FL("forceReachabilityPrivate", F_BOOL, "false", "Set up "
	    "ForceReachability as private for autonat"),
	FL("muxer", F_STR, "yamux", "muxer to use for connections"),
	FL("echo", F_BOOL, "true", "Enables echo protocol"),
};

#define NFLAGS	(sizeof(flags) / sizeof(flags[0]))

struct flag *
flag_get(const char *name)
{
	size_t	 i;

	for (i = 0; i < NFLAGS; i++)
		if (strcmp(flags[i].name, name) == 0)
			return &flags[i];
	return NULL;
}

void
flags_usage(int status)
{
	static const char *kinds[] = { "", " string", " int", " duration" };
	FILE	*f = status == 0 ? stdout : stderr;
	size_t	 i;

	fprintf(f, "usage: %s [-flag[=value] ...]\n", WRAP_NAME);
	for (i = 0; i < NFLAGS; i++)
		fprintf(f, "  -%s%s\n    \t%s (default %s)\n", flags[i].name,
		    kinds[flags[i].kind], flags[i].usage,
		    flags[i].def[0] != '\0' ? flags[i].def : "\"\"");
	fprintf(f, "See peerd-p2pd(8) for what peerd does with each.\n");
	exit(status);
}

__attribute__((__noreturn__, __format__(__printf__, 1, 2)))
static void
flag_syntax(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	flags_usage(2);
}

/* strconv.ParseBool */
static int
parse_bool(const char *s, int *b)
{
	static const char *t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *f[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t	 i;

	for (i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0) {
			*b = 1;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*b = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_int(const char *s, long long *n)
{
	char	*end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	/* base 0, as Go's strconv.ParseInt(s, 0, 64): 0x1f, 017 */
	*n = strtoll(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

/* A unit of time.ParseDuration, in nanoseconds; 0 when unknown. */
static double
dur_unit(const char *s, size_t *len)
{
	static const struct { const char *u; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 },
		{ "\xce\xbcs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 } };
	size_t	 i, l;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		l = strlen(units[i].u);
		/* "m" must not take the "m" of "ms" */
		if (strncmp(s, units[i].u, l) == 0 && (s[l] == '\0' ||
		    isdigit((unsigned char)s[l]) || s[l] == '.')) {
			*len = l;
			return units[i].ns;
		}
	}
	return 0;
}

/* time.ParseDuration ("1h2m3.5s", "250ms", "0"), in milliseconds. */
static int
parse_dur(const char *s, long long *ms)
{
	double	 total = 0, v, scale, ns;
	size_t	 ul;
	int	 neg = 0, digits;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		v = 0;
		digits = 0;
		for (; isdigit((unsigned char)*s); s++, digits++)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++, scale = 0.1; isdigit((unsigned char)*s);
			    s++, digits++, scale /= 10)
				v += (*s - '0') * scale;
		if (digits == 0 || (ns = dur_unit(s, &ul)) == 0)
			return -1;
		s += ul;
		total += v * ns;
		if (total > 9.2e18)
			return -1;
	}
	*ms = (long long)(total / 1e6 + 0.5);
	*ms = neg ? -*ms : *ms;
	return 0;
}

static void
flag_value(struct flag *f, const char *v)
{
	static const char *what[] = { "a boolean", "a string", "an integer",
	    "a duration (such as 30s or 2m)" };
	int	 r = 0;

	switch (f->kind) {
	case F_BOOL:
		r = parse_bool(v, &f->b);
		break;
	case F_STR:
		f->s = v;
		break;
	case F_INT:
		r = parse_int(v, &f->n);
		break;
	case F_DUR:
		r = parse_dur(v, &f->n);
		break;
	}
	if (r == -1) {
		fprintf(stderr, "%s: invalid value \"%s\" for flag -%s: not "
		    "%s\n", WRAP_NAME, v, f->name, what[f->kind]);
		flags_usage(2);
	}
	f->set = 1;
}

/* One flag at argv[i]; the arguments it used. */
static int
flag_one(int argc, char *argv[], int i)
{
	struct flag	*f;
	char		 name[64], *arg = argv[i] + 1, *eq;
	size_t		 len;

	if (*arg == '-')
		arg++;
	if (*arg == '\0' || *arg == '-' || *arg == '=')
		flag_syntax("bad flag syntax: %s", argv[i]);
	len = (eq = strchr(arg, '=')) != NULL ? (size_t)(eq - arg) :
	    strlen(arg);
	if (len >= sizeof(name))
		flag_syntax("flag provided but not defined: -%s", arg);
	memcpy(name, arg, len);
	name[len] = '\0';
	if ((f = flag_get(name)) == NULL) {
		if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0)
			flags_usage(0);
		flag_syntax("flag provided but not defined: -%s", name);
	}
	if (eq != NULL) {
		flag_value(f, eq + 1);
		return 1;
	}
	if (f->kind == F_BOOL) {
		f->b = 1;
		f->set = 1;
		return 1;
	}
	if (i + 1 >= argc)
		flag_syntax("flag needs an argument: -%s", name);
	flag_value(f, argv[i + 1]);
	return 2;
}

static void
flags_defaults(void)
{
	size_t	 i;

	for (i = 0; i < NFLAGS; i++) {
		flags[i].set = 0;
		flags[i].s = flags[i].def;
		if (flags[i].kind == F_BOOL)
			parse_bool(flags[i].def, &flags[i].b);
		else if (flags[i].kind == F_INT)
			parse_int(flags[i].def, &flags[i].n);
		else if (flags[i].kind == F_DUR)
			parse_dur(flags[i].def, &flags[i].n);
	}
}

void
flags_parse(int argc, char *argv[])
{
	int	 i = 1;

	flags_defaults();
	while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		i += flag_one(argc, argv, i);
	}
	/* p2pd takes no operands; one here is a flag typed wrong */
	if (i < argc)
		flag_syntax("unexpected argument \"%s\": p2pd takes flags "
		    "only", argv[i]);
}
