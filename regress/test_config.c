/*
 * Unit tests for common/config.c.  argv[1] is the directory holding the
 * configuration files of regress/conf.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tap.h"

static const char	*confdir;
static char		 diffs[256];

static const char full_yaml[] =
	"# every key set to something other than its default\n"
	"mode: peer\n"
	"listen:\n"
	"  - /ip4/0.0.0.0/tcp/4101\n"
	"  - /ip6/::/tcp/4101\n"
	"announce: [\"/dns4/a.example/tcp/4101\"]\n"
	"stateDir: /srv/peerd/state\n"
	"keyDir: /srv/peerd/keys\n"
	"emptyDir: /srv/empty\n"
	"controlSocket: /srv/peerd.sock\n"
	"controlSocketReadonly: /srv/peerd-ro.sock\n"
	"admin:\n"
	"  listen: \"[::1]:9000\"\n"
	"log:\n"
	"  format: json\n"
	"  facility: local3\n"
	"user: peerd_user\n"
	"keyUser: peerkey-1\n"
	"relay:\n"
	"  enabled: false\n"
	"  hop:\n"
	"    enabled: false\n"
	"    active: false\n"
	"  advertise:\n"
	"    enabled: false\n"
	"    ttl: 1000\n"
	"  reservations:\n"
	"    max: 0\n"
	"    ttl: 86400000\n"
	"    maxPerIP: 2\n"
	"  limit:\n"
	"    duration: 0\n"
	"    data: 1099511627776\n"
	"  rateLimit:\n"
	"    connectionsPerMinute: 0\n"
	"    reservationsPerHour: 7\n"
	"  allowlist:\n"
	"    - 12D3KooWA\n"
	"  blocklist: [QmB, QmC]\n"
	"connectionManager:\n"
	"  maxConnections: 100\n"
	"  minConnections: 100\n"
	"  maxOutgoing: 0\n"
	"  protected: [12D3KooWP]\n"
	"  dialBackoffMin: 100\n"
	"  dialBackoffMax: 86400000\n"
	"gossipSub:\n"
	"  enabled: true\n"
	"  topics:\n"
	"    - \"chat\"\n"
	"    - 'news/v1'\n"
	"bootstrapPeers:\n"
	"  - /dnsaddr/bootstrap.libp2p.io/p2p/QmNnoo\n"
	"relays:\n"
	"  - /ip4/198.51.100.1/tcp/4001/p2p/12D3KooWR\n"
	"store:\n"
	"  mapSize: 1048576\n"
	"  maxPeers: 16\n";

/* Expected positions are counted by hand from the inputs. */
static const struct {
	const char	*label;
	const char	*in;
	const char	*prefix;
	const char	*word;
} bad[] = {
	{ "syntax error", "mode: relay: x\n", "t:1:12: ", "mapping values" },
	{ "reader error", "mode: relay\nuser: \"\xff\"\n", "t:2:8: ",
	    "invalid" },
	{ "top level list", "- /a\n", "t:1:1: ", "mapping" },
	{ "top level scalar", "just a string\n", "t:1:1: ", "mapping" },
	{ "unknown top key", "mode: relay\nbogus: 1\n", "t:2:1: ",
	    "unknown key \"bogus\"" },
	{ "unknown nested key", "relay:\n  foo: 1\n", "t:2:3: ",
	    "unknown key \"relay.foo\"" },
	{ "unknown deep key", "relay:\n  hop:\n    enable: true\n", "t:3:5: ",
	    "unknown key \"relay.hop.enable\"" },
	{ "dotted key", "relay.enabled: true\n", "t:1:1: ", "unknown key" },
	{ "non-scalar key", "{[a]: 1}\n", "t:1:2: ", "scalar key" },
	{ "mapping for scalar", "mode:\n  a: b\n", "t:2:3: ",
	    "not a mapping" },
	{ "list for scalar", "stateDir: [/a]\n", "t:1:11: ", "not a list" },
	{ "scalar for list", "listen: /ip4/1.2.3.4/tcp/1\n", "t:1:9: ",
	    "expected a list" },
	{ "scalar for mapping", "relay: 5\n", "t:1:8: ",
	    "expected a mapping" },
	{ "list for mapping", "relay: [a]\n", "t:1:8: ",
	    "expected a mapping" },
	{ "mapping for list", "listen: {a: b}\n", "t:1:9: ",
	    "not a mapping" },
	{ "list in list", "announce: [[/a]]\n", "t:1:12: ", "strings" },
	{ "duplicate key", "mode: relay\nmode: peer\n", "t:2:1: ",
	    "duplicate key \"mode\"" },
	{ "duplicate mapping", "relay:\n  enabled: true\nrelay:\n"
	    "  hop:\n    active: false\n", "t:3:1: ",
	    "duplicate key \"relay\"" },
	{ "duplicate deep key", "relay:\n  hop:\n    enabled: true\n"
	    "    enabled: false\n", "t:4:5: ",
	    "duplicate key \"relay.hop.enabled\"" },
	{ "duplicate JSON key", "{\"mode\": \"relay\", \"mode\": \"peer\"}",
	    "t:1:19: ", "duplicate" },
	{ "bool yes", "relay:\n  enabled: yes\n", "t:2:12: ",
	    "expected true or false" },
	{ "bool quoted", "gossipSub:\n  enabled: \"true\"\n", "t:2:12: ",
	    "true or false" },
	{ "int word", "connectionManager:\n  maxConnections: lots\n",
	    "t:2:19: ", "integer" },
	{ "int below", "relay:\n  reservations:\n    ttl: 999\n", "t:3:10: ",
	    "from 1000 to 86400000" },
	{ "int above", "store:\n  mapSize: 1099511627777\n", "t:2:12: ",
	    "from 1048576 to 1099511627776" },
	{ "int negative", "relay:\n  limit:\n    data: -1\n", "t:3:11: ",
	    "from 0 to" },
	{ "int float", "relay:\n  advertise:\n    ttl: 1.5e4\n", "t:3:10: ",
	    "integer" },
	{ "int quoted", "relay:\n  reservations:\n    max: \"5\"\n",
	    "t:3:10: ", "integer" },
	{ "enum mode", "mode: server\n", "t:1:7: ", "relay, peer" },
	{ "backoff min above max", "connectionManager:\n"
	    "  dialBackoffMin: 5000\n  dialBackoffMax: 4000\n", "t:2:19: ",
	    "dialBackoffMin (5000) is greater than "
	    "connectionManager.dialBackoffMax (4000)" },
	{ "backoff min above default max", "connectionManager:\n"
	    "  dialBackoffMin: 60001\n", "t:2:19: ", "is greater than" },
	{ "backoff max below range", "connectionManager:\n"
	    "  dialBackoffMax: 999\n", "t:2:19: ", "from 1000 to 86400000" },
	{ "maxPeers below range", "store:\n  maxPeers: 15\n", "t:2:13: ",
	    "from 16 to 10000000" },
	{ "bad protected peer ID", "connectionManager:\n"
	    "  protected: [\"no way\"]\n", "t:2:15: ", "peer ID" },
	{ "enum format", "log:\n  format: xml\n", "t:2:11: ", "text, json" },
	{ "enum facility", "log:\n  facility: kern\n", "t:2:13: ", "local7" },
	{ "relative path", "stateDir: relative/path\n", "t:1:11: ",
	    "absolute" },
	{ "relative ro path", "controlSocketReadonly: tmp/x\n", "t:1:24: ",
	    "absolute" },
	{ "control in path", "keyDir: \"/a\\tb\"\n", "t:1:9: ", "control" },
	{ "space in multiaddr", "announce:\n  - \"/ip4/1.2.3.4 /tcp/1\"\n",
	    "t:2:5: ", "multiaddr" },
	{ "relative multiaddr", "bootstrapPeers: [ip4/1.2.3.4]\n",
	    "t:1:18: ", "multiaddr" },
	{ "empty multiaddr", "relays: [\"\"]\n", "t:1:10: ", "multiaddr" },
	{ "bad peer ID", "relay:\n  allowlist: [\"bad id!\"]\n", "t:2:15: ",
	    "peer ID" },
	{ "bad alias peer ID", "relay:\n  blockTrustedlist: [Qm_x]\n",
	    "t:2:22: ", "relay.blockTrustedlist: invalid peer ID" },
	{ "upper case user", "user: Root\n", "t:1:7: ", "user name" },
	{ "digit first user", "keyUser: 1abc\n", "t:1:10: ", "user name" },
	{ "admin port", "admin:\n  listen: 1.2.3.4:99999\n", "t:2:11: ",
	    "IPv4:port" },
	{ "admin bare IPv6", "admin:\n  listen: \"::1:4003\"\n", "t:2:11: ",
	    "[IPv6]:port" },
	{ "admin name", "admin:\n  listen: localhost:4003\n", "t:2:11: ",
	    "IPv4:port" },
	{ "admin port 0", "admin:\n  listen: \"[::1]:0\"\n", "t:2:11: ",
	    "IPv4:port" },
	{ "empty topic", "gossipSub:\n  topics: [\"\"]\n", "t:2:12: ",
	    "topic" },
	{ "empty value", "stateDir:\n", "t:1:1: ", "empty value" },
	{ "empty mapping value", "relay:\n  hop:\n", "t:2:3: ",
	    "empty value" },
	{ "tilde value", "mode: relay\nuser: ~\n", "t:2:1: ", "empty value" },
	{ "JSON null", "{\"mode\": null}", "t:1:2: ", "empty value" },
	{ "null list entry", "listen: [/a, ~]\n", "t:1:14: ", "empty value" },
	{ "anchor", "announce: &a [\"/x\"]\nrelays: *a\n", "t:1:11: ",
	    "aliases are not allowed" },
	{ "alias", "relays: *a\n", "t:1:9: ", "aliases are not allowed" },
	{ "two documents", "mode: relay\n---\nmode: peer\n", "t:2:1: ",
	    "more than one document" },
	{ "two flow documents", "--- {}\n--- {}\n", "t:2:1: ",
	    "more than one document" },
	{ "min above max", "connectionManager:\n  maxConnections: 5\n"
	    "  minConnections: 6\n", "t:3:19: ",
	    "connectionManager.minConnections (6) is greater" },
	{ "max below default min", "connectionManager:\n"
	    "  maxConnections: 5\n", "t:2:19: ", "greater" },
	{ "NUL in string", "user: \"a\\0b\"\n", "t:1:7: ", "NUL" },
};

static struct peerd_conf *
parse(const char *s, char *err)
{
	return config_parse(s, strlen(s), "t", err, CONF_ERRLEN);
}

static void
fails(const char *label, const char *in, const char *prefix, const char *word)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN];
	size_t			 plen = strlen(prefix);

	c = parse(in, err);
	if (!ok(c == NULL && strncmp(err, prefix, plen) == 0 &&
	    strstr(err + plen, word) != NULL, "error: %s", label))
		printf("#   got \"%s\"\n", c == NULL ? err : "(no error)");
	config_free(c);
}

static int
parses(const char *in)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN];

	if ((c = parse(in, err)) == NULL)
		printf("#   %s\n", err);
	config_free(c);
	return c != NULL;
}

static int
list_is(const struct strlist *l, size_t n, ...)
{
	va_list	 ap;
	size_t	 i;
	int	 same = l->n == n;

	va_start(ap, n);
	for (i = 0; i < n && same; i++)
		same = strcmp(l->v[i], va_arg(ap, const char *)) == 0;
	va_end(ap);
	return same;
}

static struct peerd_conf *
load(const char *file, int must_exist, char *err)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", confdir, file);
	return config_load(path, must_exist, err, CONF_ERRLEN);
}

static int
roundtrip(const struct peerd_conf *c)
{
	struct peerd_conf	*r;
	char			 err[CONF_ERRLEN], *text;
	size_t			 len;
	int			 same;

	if ((text = config_emit(c, &len)) == NULL)
		return 0;
	if ((r = config_parse(text, len, "emitted", err, sizeof(err))) == NULL)
		printf("#   %s\n", err);
	same = r != NULL && strlen(text) == len && config_equal(c, r);
	config_free(r);
	free(text);
	return same;
}

static void
test_defaults(void)
{
	struct peerd_conf	*c, *d;
	char			 err[CONF_ERRLEN];

	c = config_new();
	ok(c != NULL, "config_new");
	ok(c->mode == MODE_RELAY, "default mode");
	ok(list_is(&c->listen, 1, "/ip4/127.0.0.1/tcp/4001"),
	    "default listen");
	ok(c->announce.n == 0, "default announce");
	ok(strcmp(c->state_dir, "/var/lib/peerd/state") == 0,
	    "default stateDir");
	ok(strcmp(c->empty_dir, "/var/empty") == 0, "default emptyDir");
	ok(strcmp(c->control_socket_ro, "") == 0,
	    "default controlSocketReadonly");
	ok(strcmp(c->admin_listen, "127.0.0.1:4003") == 0,
	    "default admin.listen");
	ok(c->log_format == LOG_FORMAT_TEXT && c->log_facility == LOG_DAEMON,
	    "default log");
	ok(strcmp(c->user, "_peerd") == 0 &&
	    strcmp(c->key_user, "_peerkey") == 0,
	    "default users");
	ok(c->relay.enabled && c->relay.hop_enabled && c->relay.hop_active,
	    "default relay bools");
	ok(c->relay.reservations_ttl == 3600000 &&
	    c->relay.reservations_per_ip == 8 &&
	    c->relay.limit_data == 131072, "default relay ints");
	ok(c->max_connections == 2000 && c->min_connections == 10 &&
	    c->max_outgoing == 20, "default connectionManager");
	ok(!c->gossip_enabled && c->gossip_topics.n == 0, "default gossipSub");
	ok(c->store_map_size == 268435456, "default store.mapSize");
	ok(c->store_max_peers == 10000, "default store.maxPeers");
	ok(c->protected_peers.n == 0 && c->dial_backoff_min == 1000 &&
	    c->dial_backoff_max == 60000,
	    "default protected peers and dial backoff");
	ok(strcmp(config_mode_name(MODE_RELAY), "relay") == 0 &&
	    strcmp(config_mode_name(MODE_PEER), "peer") == 0, "mode names");

	d = config_parse("", 0, "t", err, sizeof(err));
	ok(d != NULL && config_equal(c, d), "empty buffer gives defaults");
	config_free(d);
	d = parse("# nothing\n\n   # at all\n", err);
	ok(d != NULL && config_equal(c, d), "comments give defaults");
	config_free(d);
	d = parse("---\n", err);
	ok(d != NULL && config_equal(c, d), "empty document gives defaults");
	config_free(d);
	ok(roundtrip(c), "defaults round trip");
	config_free(c);
	config_free(NULL);
}

static void
test_full(void)
{
	struct peerd_conf	*c, *d, *l;
	char			 err[CONF_ERRLEN];
	char			 path[] = "/tmp/confXXXXXX";
	int			 fd;

	c = parse(full_yaml, err);
	if (!ok(c != NULL, "full YAML parses"))
		printf("#   %s\n", err);
	if (c == NULL)
		return;
	ok(c->mode == MODE_PEER, "full mode");
	ok(list_is(&c->listen, 2, "/ip4/0.0.0.0/tcp/4101", "/ip6/::/tcp/4101"),
	    "full listen replaces the default");
	ok(list_is(&c->announce, 1, "/dns4/a.example/tcp/4101"),
	    "full announce");
	ok(strcmp(c->control_socket_ro, "/srv/peerd-ro.sock") == 0,
	    "full controlSocketReadonly");
	ok(strcmp(c->admin_listen, "[::1]:9000") == 0, "full admin.listen");
	ok(c->log_format == LOG_FORMAT_JSON && c->log_facility == LOG_LOCAL3,
	    "full log");
	ok(strcmp(c->key_user, "peerkey-1") == 0, "full keyUser");
	ok(!c->relay.enabled && !c->relay.hop_enabled && !c->relay.hop_active &&
	    !c->relay.advertise_enabled, "full relay bools");
	ok(c->relay.advertise_ttl == 1000 && c->relay.reservations_max == 0 &&
	    c->relay.reservations_ttl == 86400000 &&
	    c->relay.reservations_per_ip == 2, "full relay ints");
	ok(c->relay.limit_duration == 0 &&
	    c->relay.limit_data == 1099511627776LL, "full relay.limit");
	ok(c->relay.conns_per_minute == 0 && c->relay.rsvp_per_hour == 7,
	    "full relay.rateLimit");
	ok(list_is(&c->relay.allowlist, 1, "12D3KooWA") &&
	    list_is(&c->relay.blocklist, 2, "QmB", "QmC"), "full access lists");
	ok(c->max_connections == 100 && c->min_connections == 100 &&
	    c->max_outgoing == 0, "full connectionManager");
	ok(list_is(&c->protected_peers, 1, "12D3KooWP") &&
	    c->dial_backoff_min == 100 && c->dial_backoff_max == 86400000,
	    "full connectionManager protected and backoff");
	ok(c->gossip_enabled &&
	    list_is(&c->gossip_topics, 2, "chat", "news/v1"),
	    "full gossipSub");
	ok(list_is(&c->bootstrap_peers, 1,
	    "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnoo") &&
	    list_is(&c->relays, 1, "/ip4/198.51.100.1/tcp/4001/p2p/12D3KooWR"),
	    "full bootstrapPeers and relays");
	ok(c->store_map_size == 1048576 && c->store_max_peers == 16,
	    "full store");

	d = config_new();
	ok(!config_equal(c, d), "full differs from defaults");
	ok(roundtrip(c), "full round trip (every key emitted)");

	l = NULL;
	if ((fd = mkstemp(path)) != -1) {
		if (write(fd, full_yaml, sizeof(full_yaml) - 1) ==
		    (ssize_t)sizeof(full_yaml) - 1)
			l = config_load(path, 1, err, sizeof(err));
		close(fd);
		unlink(path);
	}
	ok(l != NULL && config_equal(c, l), "config_load of a file");
	config_free(l);
	config_free(d);
	config_free(c);
}

static void
test_guide(void)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN], *text;

	c = load("guide-relay.json", 1, err);
	if (!ok(c != NULL, "guide-relay.json loads"))
		printf("#   %s\n", err);
	if (c != NULL) {
		ok(c->mode == MODE_RELAY, "guide mode");
		ok(list_is(&c->listen, 2, "/ip4/0.0.0.0/tcp/4001",
		    "/ip4/0.0.0.0/tcp/4002/ws"), "guide listen");
		ok(list_is(&c->announce, 2, "/ip4/YOUR_PUBLIC_IP/tcp/4001",
		    "/dns4/relay.yourdomain.com/tcp/4001"),
		    "guide announce placeholder");
		ok(c->relay.reservations_ttl == 3600000 &&
		    c->relay.reservations_max == 1000 &&
		    c->relay.advertise_ttl == 30000, "guide relay");
		ok(c->max_connections == 500 && c->min_connections == 10,
		    "guide connectionManager");
		ok(c->max_outgoing == 20 && c->relay.reservations_per_ip == 8,
		    "guide leaves other keys at their defaults");
		ok(c->gossip_enabled &&
		    list_is(&c->gossip_topics, 1, "/openclaw/v1/announce"),
		    "guide gossipSub");
		ok(roundtrip(c), "guide round trip");
		config_free(c);
	}

	c = load("guide-security.json", 1, err);
	if (!ok(c != NULL, "guide-security.json loads"))
		printf("#   %s\n", err);
	if (c == NULL)
		return;
	ok(c->relay.conns_per_minute == 10 && c->relay.rsvp_per_hour == 5,
	    "guide rateLimit");
	ok(list_is(&c->relay.allowlist, 2, "12D3KooWTrustedPeer1...",
	    "12D3KooWTrustedPeer2..."), "guide allowlist");
	ok(list_is(&c->relay.blocklist, 1, "12D3KooWBannedPeer..."),
	    "guide blockTrustedlist fills blocklist");
	text = config_emit(c, NULL);
	ok(text != NULL && strstr(text, "blockTrustedlist") == NULL &&
	    strstr(text, "  blocklist:\n    - \"12D3KooWBannedPeer...\"\n") !=
	    NULL, "emitter writes blocklist only");
	free(text);
	ok(roundtrip(c), "guide security round trip");
	config_free(c);
}

static void
test_alias(void)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN];

	c = parse("relay:\n  blocklist: [A]\n  blockTrustedlist: [B, C]\n",
	    err);
	ok(c != NULL && list_is(&c->relay.blocklist, 3, "A", "B", "C"),
	    "blocklist then alias append");
	config_free(c);
	c = parse("relay:\n  blockTrustedlist: [B]\n  blocklist: [A]\n", err);
	ok(c != NULL && list_is(&c->relay.blocklist, 2, "B", "A"),
	    "alias then blocklist append");
	config_free(c);
	c = parse("relay:\n  blocklist: []\n", err);
	ok(c != NULL && c->relay.blocklist.n == 0, "empty flow list");
	config_free(c);
	c = parse("listen: []\n", err);
	ok(c != NULL && c->listen.n == 0, "empty list replaces the default");
	config_free(c);
}

static void
test_errors(void)
{
	char	*big;
	size_t	 i, n, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails(bad[i].label, bad[i].in, bad[i].prefix, bad[i].word);

	len = strlen("announce:\n") + 65537 * strlen("- /a\n") + 1;
	if ((big = malloc(len)) == NULL)
		return;
	strlcpy(big, "announce:\n", len);
	for (n = 0; n < 65536; n++)
		strlcat(big, "- /a\n", len);
	ok(parses(big), "list of 65536 entries");
	strlcat(big, "- /a\n", len);
	fails("list of 65537 entries", big, "t:65538:3: ", "65536");
	free(big);
}

static void
test_bounds(void)
{
	char	 in[2048], s[1100];

	memset(s, 'a', sizeof(s));
	s[1023] = '\0';
	snprintf(in, sizeof(in), "relays: [/%s]\n", s);
	ok(parses(in), "multiaddr of 1024 bytes");
	snprintf(in, sizeof(in), "relays: [/a%s]\n", s);
	fails("multiaddr of 1025 bytes", in, "t:1:10: ", "multiaddr");
	s[129] = '\0';
	snprintf(in, sizeof(in), "relay:\n  allowlist: [%s]\n", s);
	fails("peer ID of 129", in, "t:2:15: ", "peer ID");
	s[128] = '\0';
	snprintf(in, sizeof(in), "relay:\n  allowlist: [%s]\n", s);
	ok(parses(in), "peer ID of 128");
	s[33] = '\0';
	snprintf(in, sizeof(in), "user: %s\n", s);
	fails("user of 33", in, "t:1:7: ", "user name");
	snprintf(in, sizeof(in), "user: %s\n", s + 1);
	ok(parses(in), "user of 32");
	memset(s, 'a', sizeof(s));
	s[257] = '\0';
	snprintf(in, sizeof(in), "gossipSub:\n  topics:\n    - %s\n", s);
	fails("topic of 257", in, "t:3:7: ", "topic");
	snprintf(in, sizeof(in), "gossipSub:\n  topics:\n    - %s\n", s + 1);
	ok(parses(in), "topic of 256");
	ok(parses("admin:\n  listen: \"[::1]:4003\"\n") &&
	    parses("admin:\n  listen: 0.0.0.0:65535\n") &&
	    parses("admin:\n  listen: \"\"\n"), "admin.listen forms");
	ok(parses("controlSocketReadonly: \"\"\n"),
	    "controlSocketReadonly disabled");
	ok(parses("connectionManager:\n  maxConnections: 7\n"
	    "  minConnections: 7\n"), "minConnections equal to max");
}

static void
test_load(void)
{
	struct peerd_conf	*c, *d;
	char			 err[CONF_ERRLEN], want[PATH_MAX + 64];
	char			 path[] = "/tmp/confXXXXXX";
	char			*buf;
	int			 fd;

	d = config_new();
	c = load("no-such-file.yaml", 0, err);
	ok(c != NULL && config_equal(c, d), "missing optional file: defaults");
	config_free(c);
	c = load("no-such-file.yaml", 1, err);
	snprintf(want, sizeof(want), "%s/no-such-file.yaml: No such file or "
	    "directory", confdir);
	ok(c == NULL && strcmp(err, want) == 0, "missing required file");
	config_free(c);
	c = config_load(confdir, 1, err, sizeof(err));
	ok(c == NULL && strstr(err, "Is a directory") != NULL,
	    "directory is an error");
	config_free(c);
	config_free(d);

	if ((buf = malloc(4 * 1024 * 1024 + 1)) == NULL ||
	    (fd = mkstemp(path)) == -1) {
		free(buf);
		return;
	}
	memset(buf, '#', 4 * 1024 * 1024 + 1);
	if (write(fd, buf, 4 * 1024 * 1024) == 4 * 1024 * 1024) {
		c = config_load(path, 1, err, sizeof(err));
		ok(c != NULL, "file of 4 MiB loads");
		config_free(c);
	}
	if (write(fd, buf, 1) == 1) {
		c = config_load(path, 1, err, sizeof(err));
		ok(c == NULL && strstr(err, "too large") != NULL &&
		    strncmp(err, path, strlen(path)) == 0, "file over 4 MiB");
		config_free(c);
	}
	close(fd);
	unlink(path);
	free(buf);
}

static void
test_escapes(void)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN], *text;

	c = parse("stateDir: \"/srv/a\\\"b\\\\c\"\n"
	    "gossipSub:\n"
	    "  topics:\n"
	    "    - \"quote\\\"and\\\\back\"\n"
	    "    - \"caf\xc3\xa9 \\u2028 \\u2029 end\"\n"
	    "    - '#hash: [x]'\n", err);
	if (!ok(c != NULL, "escapes parse"))
		printf("#   %s\n", err);
	if (c == NULL)
		return;
	ok(strcmp(c->state_dir, "/srv/a\"b\\c") == 0, "escaped path value");
	ok(list_is(&c->gossip_topics, 3, "quote\"and\\back",
	    "caf\xc3\xa9 \xe2\x80\xa8 \xe2\x80\xa9 end", "#hash: [x]"),
	    "escaped topic values");
	text = config_emit(c, NULL);
	ok(text != NULL && strstr(text, "\"quote\\\"and\\\\back\"") != NULL &&
	    strstr(text, "\"/srv/a\\\"b\\\\c\"") != NULL &&
	    strstr(text, "\"caf\xc3\xa9 \\u2028 \\u2029 end\"") != NULL,
	    "emitted escapes");
	free(text);
	ok(roundtrip(c), "escapes round trip");

	free(c->gossip_topics.v[0]);
	c->gossip_topics.v[0] = strdup("\x01\n\t\x7f\xc2\x85z\xff");
	text = config_emit(c, NULL);
	ok(text != NULL && c->gossip_topics.v[0] != NULL &&
	    strstr(text, "\"\\x01\\n\\t\\x7f\\u0085z\\xff\"") != NULL,
	    "control characters escaped");
	free(text);
	config_free(c);
}

static void
record(const char *name)
{
	strlcat(diffs, name, sizeof(diffs));
	strlcat(diffs, " ", sizeof(diffs));
}

static void
test_diff(void)
{
	struct peerd_conf	*a, *b;
	char			 err[CONF_ERRLEN];

	a = config_new();
	b = parse("listen: [/ip4/0.0.0.0/tcp/1]\nstateDir: /srv/state\n", err);
	diffs[0] = '\0';
	if (a != NULL && b != NULL)
		config_diff_static(a, b, record);
	ok(strcmp(diffs, "listen stateDir ") == 0, "static diff: %s", diffs);
	config_free(b);

	b = parse("relay:\n  reservations:\n    max: 5\n", err);
	diffs[0] = '\0';
	if (a != NULL && b != NULL)
		config_diff_static(a, b, record);
	ok(b != NULL && diffs[0] == '\0' && !config_equal(a, b),
	    "no static diff for relay.reservations.max");
	config_free(b);

	b = parse("log:\n  format: json\n  facility: local0\n", err);
	diffs[0] = '\0';
	if (a != NULL && b != NULL)
		config_diff_static(a, b, record);
	ok(strcmp(diffs, "log.facility ") == 0, "static diff of log: %s",
	    diffs);
	config_free(b);

	b = parse("listen: [/ip4/127.0.0.1/tcp/4002]\n", err);
	ok(b != NULL && !config_equal(a, b),
	    "config_equal compares list entries");
	config_free(b);
	b = config_new();
	ok(config_equal(a, b), "config_equal of defaults");
	config_free(b);
	config_free(a);
}

static void
test_keep_static(void)
{
	struct peerd_conf	*o, *n;
	char			 err[CONF_ERRLEN];

	o = config_new();
	n = parse("stateDir: /srv/other\nlisten: [/ip4/127.0.0.1/tcp/9]\n"
	    "relay:\n  reservations:\n    max: 5\n", err);
	if (!ok(n != NULL, "keep_static: new config parses"))
		return;
	config_keep_static(n, o);
	ok(strcmp(n->state_dir, "/var/lib/peerd/state") == 0,
	    "keep_static: stateDir keeps the running value");
	ok(n->listen.n == 1 &&
	    strcmp(n->listen.v[0], "/ip4/127.0.0.1/tcp/4001") == 0,
	    "keep_static: listen keeps the running value");
	ok(n->relay.reservations_max == 5,
	    "keep_static: a live key takes the new value");
	ok(strcmp(o->state_dir, "/srv/other") == 0,
	    "keep_static: the old config holds what is to be freed");
	config_free(o);
	config_free(n);
}

int
main(int argc, char *argv[])
{
	confdir = argc > 1 ? argv[1] : "regress/conf";
	test_defaults();
	test_full();
	test_guide();
	test_alias();
	test_errors();
	test_bounds();
	test_load();
	test_escapes();
	test_diff();
	test_keep_static();
	return tap_done();
}
