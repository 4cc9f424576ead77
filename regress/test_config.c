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

#include "addrscope.h"
#include "config.h"
#include "log.h"
#include "multiaddr.h"
#include "peerid.h"
#include "tap.h"

/* Peer IDs of the libp2p specifications and of go-multiaddr's tests */
#define ID_ED		"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
#define ID_SHA		"QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"
#define ID_GO		"12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV"
#define ID_GO_CID	"bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkf" \
			"u7qjfi6sduakhso4lay6abn2d5u"
#define ID_BOOT		"QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"

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
	"controlSocketMaxClients: 2\n"
	"controlSocketReadonlyMaxClients: 256\n"
	"controlSocketReadonlyMaxPerUser: 1\n"
	"controlSocketReadonlyIdleTimeout: 3600000\n"
	"admin:\n"
	"  listen: \"[::1]:9000\"\n"
	"  maxClients: 3\n"
	"  maxRequestSize: 2048\n"
	"  timeout: 1500\n"
	"metrics:\n"
	"  namespace: bsv_p2p\n"
	"log:\n"
	"  format: json\n"
	"  rateLimit: 0\n"
	"  facility: local3\n"
	"user: peerd_user\n"
	"keyUser: peerkey-1\n"
	"keys:\n"
	"  passphraseFile: /etc/peerd/key.pass\n"
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
	"  maxPendingVouchers: 4096\n"
	"  allowlist:\n"
	"    - " ID_ED "\n"
	"  blocklist: [" ID_SHA ", " ID_GO_CID "]\n"
	"connectionManager:\n"
	"  maxConnections: 100\n"
	"  minConnections: 100\n"
	"  maxOutgoing: 0\n"
	"  protected: [" ID_GO "]\n"
	"  dialBackoffMin: 100\n"
	"  dialBackoffMax: 86400000\n"
	"  maxStreamBuffer: 65536\n"
	"  maxConnectionBuffer: 1048576\n"
	"  maxBuffer: 8388608\n"
	"  stalledTimeout: 5000\n"
	"  dialPrivateAddresses: false\n"
	"  maxPendingPerIP: 3\n"
	"  ipv4PrefixLength: 24\n"
	"  ipv6PrefixLength: 48\n"
	"gossipSub:\n"
	"  enabled: true\n"
	"  topics:\n"
	"    - \"chat\"\n"
	"    - 'news/v1'\n"
	"  D: 8\n"
	"  Dlo: 5\n"
	"  heartbeatInterval: 700\n"
	"  maxPeerQueue: 65536\n"
	"  msgIdContentHash: true\n"
	"  graylistThreshold: -1000\n"
	"  meshMessageDeliveriesWeight: -2\n"
	"  meshMessageDeliveriesActivation: 30000\n"
	"  firstMessageDeliveriesWeight: 1\n"
	"bootstrapPeers:\n"
	"  - /dnsaddr/bootstrap.libp2p.io/p2p/" ID_BOOT "\n"
	"  - /ip4/127.0.0.2/tcp/4001\n"
	"relays:\n"
	"  - /ip4/127.0.0.3/tcp/4001/p2p/" ID_ED "\n"
	"store:\n"
	"  mapSize: 1048576\n"
	"  maxPeers: 16\n"
	"  maxAccounting: 500\n"
	"  maxAccountingSize: 2097152\n";

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
	{ "pending vouchers 0", "relay:\n  maxPendingVouchers: 0\n",
	    "t:2:23: ", "from 1 to 4096" },
	{ "pending vouchers over", "relay:\n  maxPendingVouchers: 4097\n",
	    "t:2:23: ", "from 1 to 4096" },
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
	{ "connection budget above the engine's", "connectionManager:\n"
	    "  maxConnectionBuffer: 67108864\n", "t:2:24: ",
	    "maxConnectionBuffer (67108864) is greater than "
	    "connectionManager.maxBuffer (33554432)" },
	{ "stream budget above the connection's", "connectionManager:\n"
	    "  maxStreamBuffer: 8388608\n", "t:2:20: ",
	    "maxStreamBuffer (8388608) is greater than "
	    "connectionManager.maxConnectionBuffer (4194304)" },
	{ "stalled timeout below range", "connectionManager:\n"
	    "  stalledTimeout: 999\n", "t:2:19: ", "from 1000 to 3600000" },
	{ "log rate limit negative", "log:\n  rateLimit: -1\n", "t:2:14: ",
	    "from 0 to 1000000" },
	{ "maxPeers below range", "store:\n  maxPeers: 15\n", "t:2:13: ",
	    "from 16 to 10000000" },
	{ "IPv6 prefix below range", "connectionManager:\n"
	    "  ipv6PrefixLength: 31\n", "t:2:21: ", "from 32 to 128" },
	{ "IPv4 prefix above range", "connectionManager:\n"
	    "  ipv4PrefixLength: 33\n", "t:2:21: ", "from 8 to 32" },
	{ "pending per IP 0", "connectionManager:\n"
	    "  maxPendingPerIP: 0\n", "t:2:20: ", "from 1 to 1024" },
	{ "maxAccounting below range", "store:\n  maxAccounting: 15\n",
	    "t:2:18: ", "from 16 to 100000000" },
	{ "maxAccountingSize below range", "store:\n"
	    "  maxAccountingSize: 1048575\n", "t:2:22: ",
	    "from 1048576 to 1099511627776" },
	{ "per-user cap below range", "controlSocketReadonlyMaxPerUser: 0\n",
	    "t:1:34: ", "from 1 to 256" },
	{ "control pool above range", "controlSocketMaxClients: 257\n",
	    "t:1:26: ", "from 1 to 256" },
	{ "bad protected peer ID", "connectionManager:\n"
	    "  protected: [\"no way\"]\n", "t:2:15: ", "peer ID" },
	{ "enum format", "log:\n  format: xml\n", "t:2:11: ", "text, json" },
	{ "enum facility", "log:\n  facility: kern\n", "t:2:13: ", "local7" },
	{ "enum dialPrivateAddresses", "connectionManager:\n"
	    "  dialPrivateAddresses: yes\n", "t:2:25: ", "auto, true, false" },
	{ "relative path", "stateDir: relative/path\n", "t:1:11: ",
	    "absolute" },
	{ "relative ro path", "controlSocketReadonly: tmp/x\n", "t:1:24: ",
	    "absolute" },
	{ "relative passphrase file", "keys:\n  passphraseFile: key.pass\n",
	    "t:2:19: ", "absolute" },
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
	{ "admin remote", "admin:\n  listen: 0.0.0.0:4003\n", "t:2:11: ",
	    "admin.allowRemote" },
	{ "admin remote IPv6", "admin:\n  listen: \"[::]:4003\"\n",
	    "t:2:11: ", "not a loopback" },
	{ "admin port 0", "admin:\n  listen: \"[::1]:0\"\n", "t:2:11: ",
	    "IPv4:port" },
	{ "metrics namespace digit", "metrics:\n  namespace: 9p\n", "t:2:14: ",
	    "a name of" },
	{ "metrics namespace dash", "metrics:\n  namespace: bsv-p2p\n",
	    "t:2:14: ", "a name of" },
	{ "metrics namespace empty", "metrics:\n  namespace: \"\"\n",
	    "t:2:14: ", "a name of" },
	{ "empty topic", "gossipSub:\n  topics: [\"\"]\n", "t:2:12: ",
	    "topic" },
	{ "empty value", "stateDir:\n", "t:1:1: ", "empty value" },
	{ "empty mapping value", "relay:\n  hop:\n", "t:2:3: ",
	    "empty value" },
	{ "tilde value", "mode: relay\nuser: ~\n", "t:2:1: ", "empty value" },
	{ "JSON null", "{\"mode\": null}", "t:1:2: ", "empty value" },
	{ "null list entry", "listen: [/ip4/127.0.0.1/tcp/1, ~]\n", "t:1:32: ",
	    "empty value" },
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

/* Values read by the real parsers: the whole message is checked. */
static const struct {
	const char	*label;
	const char	*in;
	const char	*want;
} typed[] = {
	{ "the issue's file: its first bad value",
	    "connectionManager:\n  protected: [\"abc\"]\n"
	    "bootstrapPeers:\n  - /ip4/1.2.3.4/tcp/notaport\n"
	    "relay: {allowlist: [\"xyz\"]}\n",
	    "t:2:15: connectionManager.protected: invalid peer ID \"abc\": "
	    "expected base58btc (1... or Qm...) or a base32 CID (b...)" },
	{ "the issue's bootstrap address",
	    "bootstrapPeers:\n  - /ip4/1.2.3.4/tcp/notaport\n",
	    "t:2:5: bootstrapPeers: invalid multiaddr "
	    "\"/ip4/1.2.3.4/tcp/notaport\": /tcp/notaport: invalid port" },
	{ "the issue's allowlist, flow style",
	    "relay: {allowlist: [\"xyz\"]}\n",
	    "t:1:21: relay.allowlist: invalid peer ID \"xyz\": expected "
	    "base58btc (1... or Qm...) or a base32 CID (b...)" },
	{ "listen on a name",
	    "listen: [/dns4/localhost/tcp/4001]\n",
	    "t:1:10: listen: \"/dns4/localhost/tcp/4001\" cannot be listened "
	    "on: only /ip4 or /ip6 with /tcp can" },
	{ "listen over WebSocket on a name",
	    "listen: [/dns4/localhost/tcp/4002/ws]\n",
	    "t:1:10: listen: \"/dns4/localhost/tcp/4002/ws\" cannot be "
	    "listened on: only /ip4 or /ip6 with /tcp can" },
	{ "listen on UDP",
	    "listen:\n  - /ip4/127.0.0.1/tcp/4001\n"
	    "  - /ip4/127.0.0.1/udp/4001/quic-v1\n",
	    "t:3:5: listen: \"/ip4/127.0.0.1/udp/4001/quic-v1\" cannot be "
	    "listened on: only /ip4 or /ip6 with /tcp can" },
	{ "a relay without its peer ID",
	    "relays: [\"/ip4/127.0.0.1/tcp/4001\"]\n",
	    "t:1:10: relays: \"/ip4/127.0.0.1/tcp/4001\" has no peer ID: a "
	    "relay's address ends in /p2p/<peer ID>" },
	{ "JSON blockTrustedlist",
	    "{\"relay\": {\"blockTrustedlist\": [\"12D3KooWBannedPeer...\"]}}",
	    "t:1:33: relay.blockTrustedlist: invalid peer ID "
	    "\"12D3KooWBannedPeer...\": not base58btc, or too long" },
	{ "JSON announce, second entry",
	    "{\"announce\": [\"/ip4/127.0.0.1/tcp/1\", "
	    "\"/ip4/YOUR_PUBLIC_IP/tcp/4001\"]}",
	    "t:1:39: announce: invalid multiaddr "
	    "\"/ip4/YOUR_PUBLIC_IP/tcp/4001\": /ip4/YOUR_PUBLIC_IP: invalid "
	    "IPv4 address" },
};

/* Every list of multiaddrs or peer IDs, the most entries it takes. */
static const struct {
	const char	*key;
	const char	*good;
	int		 peerids;
	size_t		 max;
} lists[] = {
	{ "listen", "/ip4/127.0.0.1/tcp/4001", 0, 65536 },
	{ "announce", "/ip4/127.0.0.1/tcp/4001", 0, 16 },
	{ "bootstrapPeers", "/ip4/127.0.0.1/tcp/4001/p2p/" ID_ED, 0, 32 },
	{ "relays", "/ip4/127.0.0.1/tcp/4001/p2p/" ID_ED, 0, 16 },
	{ "connectionManager.protected", ID_ED, 1, 256 },
	{ "relay.allowlist", ID_ED, 1, 65536 },
	{ "relay.blocklist", ID_ED, 1, 65536 },
	{ "relay.blockTrustedlist", ID_ED, 1, 65536 },
};

/* Malformed values and what the parsers say of them. */
static const struct {
	const char	*in;
	const char	*why;
} bad_maddrs[] = {
	{ "/ip4/1.2.3.4/tcp/notaport", "/tcp/notaport: invalid port" },
	{ "/ip4/127.0.0.1/tcp/65536", "/tcp/65536: port out of range" },
	{ "/ip4/256.0.0.1/tcp/1", "/ip4/256.0.0.1: invalid IPv4 address" },
	{ "/ip6/::1::2/tcp/1", "/ip6/::1::2: invalid IPv6 address" },
	{ "/ip4/127.0.0.1/tcp", "missing value for tcp" },
	{ "/ip4/127.0.0.1/tcp/1/", "trailing slash" },
	{ "/ip4/127.0.0.1/sctp/1", "unknown protocol \"sctp\"" },
	{ "/ip4/127.0.0.1/tcp/1/p2p/QmNnoo", "/p2p/QmNnoo: invalid peer ID" },
}, bad_peerids[] = {
	{ "abc", "expected base58btc (1... or Qm...) or a base32 CID (b...)" },
	{ "QmNnoo", "not an identity or sha2-256 multihash" },
	{ "12D3KooWTrustedPeer1...", "not base58btc, or too long" },
	{ "bafybeibj6lixxzqtsb45ysdjnupvqkufgdvzqbnvmhw2kf7cfkesy7r7d4",
	    "not a CIDv1 of a libp2p-key" },
	{ "b0", "not a base32 CID" },
};

/* Every key in milliseconds, and its range. */
static const struct {
	const char	*key;
	long long	 min;
	long long	 max;
	const char	*extra;		/* beside it, for the maximum */
} durations[] = {
	{ "relay.advertise.ttl", 1000, 86400000, "" },
	{ "relay.reservations.ttl", 1000, 86400000, "" },
	{ "relay.limit.duration", 0, 86400000, "" },
	{ "connectionManager.inboundUpgradeTimeout", 1000, 600000, "" },
	{ "connectionManager.dialBackoffMin", 100, 3600000,
	    "  dialBackoffMax: 86400000\n" },
	{ "connectionManager.dialBackoffMax", 1000, 86400000, "" },
	{ "controlSocketReadonlyIdleTimeout", 1000, 3600000, "" },
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

static void
fails_exact(const char *label, const char *in, const char *want)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN];

	c = parse(in, err);
	if (!ok(c == NULL && strcmp(err, want) == 0, "refused: %s", label))
		printf("#   want \"%s\"\n#   got  \"%s\"\n", want,
		    c == NULL ? err : "(no error)");
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

/* Each parsed value is its text read by the real parser. */
static int
maddrs_are(const struct maddrlist *l)
{
	struct multiaddr	 ma;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < l->text.n; i++)
		if (maddr_parse(l->text.v[i], &ma, err, sizeof(err)) == -1 ||
		    !maddr_equal(&ma, &l->ma[i]))
			return 0;
	return 1;
}

static int
peerids_are(const struct peeridlist *l)
{
	struct peerid	 id;
	size_t		 i;

	for (i = 0; i < l->text.n; i++)
		if (peerid_parse(l->text.v[i], &id) == -1 ||
		    !peerid_equal(&id, &l->id[i]))
			return 0;
	return 1;
}

static int
maddr_is(const struct multiaddr *ma, const char *text)
{
	char	 buf[MADDR_STRMAX];

	return maddr_format(ma, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, text) == 0;
}

static int
peerid_is(const struct peerid *id, const char *text)
{
	char	 buf[PEERID_STRMAX];

	return peerid_format(id, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, text) == 0;
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
	ok(list_is(&c->listen.text, 1, "/ip4/127.0.0.1/tcp/4001") &&
	    maddr_is(&c->listen.ma[0], "/ip4/127.0.0.1/tcp/4001"),
	    "default listen, parsed");
	ok(c->announce.text.n == 0 && c->bootstrap_peers.text.n == 0 &&
	    c->relays.text.n == 0, "default announce, bootstrapPeers, relays");
	ok(c->relay.allowlist.text.n == 0 && c->relay.blocklist.text.n == 0,
	    "default access lists");
	ok(strcmp(c->state_dir, "/var/lib/peerd/state") == 0,
	    "default stateDir");
	ok(strcmp(c->empty_dir, "/var/empty") == 0, "default emptyDir");
	ok(strcmp(c->control_socket_ro, "") == 0,
	    "default controlSocketReadonly");
	ok(strcmp(c->key_passfile, "") == 0, "default keys.passphraseFile");
	ok(c->ctl_max_clients == 32 && c->ctl_ro_max_clients == 32 &&
	    c->ctl_ro_max_per_uid == 4 && c->ctl_ro_idle == 10000,
	    "default control socket pools, per-user cap and idle timeout");
	ok(strcmp(c->admin_listen, "127.0.0.1:4003") == 0,
	    "default admin.listen");
	ok(c->admin_allow_remote == 0 && c->admin_max_clients == 64 &&
	    c->admin_max_request == 8192 && c->admin_timeout == 10000,
	    "default admin.allowRemote, maxClients, maxRequestSize, timeout");
	ok(c->dapi_listen[0] == '\0' && c->dapi_max_clients == 64 &&
	    c->dapi_max_streams == 256 && c->dapi_rate == 1000,
	    "default daemonApi: off, 64 clients, 256 streams, 1000/s");
	ok(strcmp(c->metrics_ns, "peerd") == 0, "default metrics.namespace");
	ok(c->log_format == LOG_FORMAT_TEXT && c->log_facility == LOG_DAEMON,
	    "default log");
	ok(strcmp(c->user, "_peerd") == 0 &&
	    strcmp(c->key_user, "_peerkey") == 0,
	    "default users");
	ok(c->relay.enabled && c->relay.hop_enabled && c->relay.hop_active,
	    "default relay bools");
	ok(c->relay.reservations_ttl == 3600000 &&
	    c->relay.reservations_per_ip == 8 &&
	    c->relay.limit_data == 131072 &&
	    c->relay.max_pending_vouchers == 256, "default relay ints");
	ok(c->max_connections == 2000 && c->min_connections == 10 &&
	    c->max_outgoing == 20, "default connectionManager");
	ok(!c->gossip_enabled && c->gossip_topics.n == 0, "default gossipSub");
	ok(c->gs_D == 6 && c->gs_Dlo == 4 && c->gs_Dhi == 12 &&
	    c->gs_Dlazy == 6 && c->gs_Dout == 2 && c->gs_heartbeat == 1000 &&
	    c->gs_fanout_ttl == 60000 && c->gs_seen_ttl == 120000 &&
	    c->gs_prune_backoff == 60000 && c->gs_mcache_len == 5 &&
	    c->gs_mcache_gossip == 3, "default gossipSub mesh (the spec's)");
	ok(c->gs_max_topics == 1024 && c->gs_max_peer_topics == 128 &&
	    c->gs_max_seen == 100000 && c->gs_max_mcache == 10000 &&
	    c->gs_max_ihave == 5000 && c->gs_max_iwant == 500 &&
	    c->gs_max_queue == 1048576 && c->gs_idontwant_min == 512 &&
	    c->gs_max_rpc == 1048576 && !c->gs_hash_ids,
	    "default gossipSub bounds");
	ok(c->gs_gossip_thr == -10 && c->gs_publish_thr == -50 &&
	    c->gs_graylist_thr == -80 && c->gs_coloc_thr == 10,
	    "default gossipSub score thresholds");
	ok(c->gs_max_watchers == 16 && c->gs_max_topic_watchers == 4,
	    "default gossipSub peerctl subscribe bounds");
	ok(c->gs_md_weight == 0 && c->gs_md_thr == 20 &&
	    c->gs_md_window == 10 && c->gs_md_activation == 5000 &&
	    c->gs_mf_weight == -1 && c->gs_fd_weight == 0 &&
	    c->gs_fd_cap == 2000, "default gossipSub deliveries (P2, P3 "
	    "off, js's topic defaults)");
	ok(c->store_map_size == 268435456, "default store.mapSize");
	ok(c->store_max_peers == 10000, "default store.maxPeers");
	ok(c->stream_buffer == 262144 && c->conn_buffer == 4194304 &&
	    c->total_buffer == 33554432 && c->stalled_timeout == 30000,
	    "default memory budgets: 256 KiB a stream, 4 MiB a connection, "
	    "32 MiB in all, 30 s stalled");
	ok(c->log_rate_limit == 5, "default log.rateLimit");
	ok(c->store_max_acct == 100000 && c->store_max_acct_size == 67108864,
	    "default store.maxAccounting, store.maxAccountingSize");
	ok(c->protected_peers.text.n == 0 && c->dial_backoff_min == 1000 &&
	    c->dial_backoff_max == 60000,
	    "default protected peers and dial backoff");
	ok(c->dial_private == DIALPRIV_AUTO,
	    "default connectionManager.dialPrivateAddresses auto");
	ok(c->max_pending_per_ip == 8 && c->ipv4_prefix == 32 &&
	    c->ipv6_prefix == 64, "default admission: pending per source, "
	    "source prefixes");
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
	ok(list_is(&c->listen.text, 2, "/ip4/0.0.0.0/tcp/4101",
	    "/ip6/::/tcp/4101"), "full listen replaces the default");
	ok(maddr_is(&c->listen.ma[0], "/ip4/0.0.0.0/tcp/4101") &&
	    maddr_is(&c->listen.ma[1], "/ip6/::/tcp/4101"),
	    "full listen parsed");
	ok(list_is(&c->announce.text, 1, "/dns4/a.example/tcp/4101") &&
	    maddr_is(&c->announce.ma[0], "/dns4/a.example/tcp/4101"),
	    "full announce, parsed");
	ok(strcmp(c->control_socket_ro, "/srv/peerd-ro.sock") == 0,
	    "full controlSocketReadonly");
	ok(c->ctl_max_clients == 2 && c->ctl_ro_max_clients == 256 &&
	    c->ctl_ro_max_per_uid == 1 && c->ctl_ro_idle == 3600000,
	    "full control socket pools, per-user cap and idle timeout");
	ok(strcmp(c->admin_listen, "[::1]:9000") == 0, "full admin.listen");
	ok(strcmp(c->metrics_ns, "bsv_p2p") == 0, "full metrics.namespace");
	ok(c->log_format == LOG_FORMAT_JSON && c->log_facility == LOG_LOCAL3,
	    "full log");
	ok(strcmp(c->key_user, "peerkey-1") == 0, "full keyUser");
	ok(strcmp(c->key_passfile, "/etc/peerd/key.pass") == 0,
	    "full keys.passphraseFile");
	ok(!c->relay.enabled && !c->relay.hop_enabled && !c->relay.hop_active &&
	    !c->relay.advertise_enabled, "full relay bools");
	ok(c->relay.advertise_ttl == 1000 && c->relay.reservations_max == 0 &&
	    c->relay.reservations_ttl == 86400000 &&
	    c->relay.reservations_per_ip == 2, "full relay ints");
	ok(c->relay.limit_duration == 0 &&
	    c->relay.limit_data == 1099511627776LL, "full relay.limit");
	ok(c->relay.conns_per_minute == 0 && c->relay.rsvp_per_hour == 7,
	    "full relay.rateLimit");
	ok(list_is(&c->relay.allowlist.text, 1, ID_ED) &&
	    list_is(&c->relay.blocklist.text, 2, ID_SHA, ID_GO_CID),
	    "full access lists, as written");
	ok(peerid_is(&c->relay.allowlist.id[0], ID_ED) &&
	    peerid_is(&c->relay.blocklist.id[0], ID_SHA) &&
	    peerid_is(&c->relay.blocklist.id[1], ID_GO),
	    "full access lists parsed, the CID as the same peer ID");
	ok(c->max_connections == 100 && c->min_connections == 100 &&
	    c->max_outgoing == 0, "full connectionManager");
	ok(list_is(&c->protected_peers.text, 1, ID_GO) &&
	    peerid_is(&c->protected_peers.id[0], ID_GO) &&
	    c->dial_backoff_min == 100 && c->dial_backoff_max == 86400000,
	    "full connectionManager protected (parsed) and backoff");
	ok(c->dial_private == DIALPRIV_FALSE,
	    "full connectionManager.dialPrivateAddresses");
	ok(c->max_pending_per_ip == 3 && c->ipv4_prefix == 24 &&
	    c->ipv6_prefix == 48, "full connectionManager admission");
	ok(c->gossip_enabled &&
	    list_is(&c->gossip_topics, 2, "chat", "news/v1"),
	    "full gossipSub");
	ok(list_is(&c->bootstrap_peers.text, 2,
	    "/dnsaddr/bootstrap.libp2p.io/p2p/" ID_BOOT,
	    "/ip4/127.0.0.2/tcp/4001") &&
	    list_is(&c->relays.text, 1, "/ip4/127.0.0.3/tcp/4001/p2p/" ID_ED),
	    "full bootstrapPeers and relays");
	ok(maddr_is(&c->bootstrap_peers.ma[0],
	    "/dnsaddr/bootstrap.libp2p.io/p2p/" ID_BOOT) &&
	    maddr_is(&c->bootstrap_peers.ma[1], "/ip4/127.0.0.2/tcp/4001") &&
	    maddr_is(&c->relays.ma[0], "/ip4/127.0.0.3/tcp/4001/p2p/" ID_ED),
	    "full bootstrapPeers and relays parsed");
	ok(maddrs_are(&c->listen) && maddrs_are(&c->announce) &&
	    maddrs_are(&c->bootstrap_peers) && maddrs_are(&c->relays) &&
	    peerids_are(&c->protected_peers) &&
	    peerids_are(&c->relay.allowlist) &&
	    peerids_are(&c->relay.blocklist),
	    "full: every typed value is its text parsed");
	ok(c->store_map_size == 1048576 && c->store_max_peers == 16 &&
	    c->store_max_acct == 500 && c->store_max_acct_size == 2097152,
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
	ok(l != NULL && config_equal(c, l) && maddrs_are(&l->relays) &&
	    peerids_are(&l->relay.blocklist), "config_load of a file");
	config_free(l);
	config_free(d);
	config_free(c);
}

/* The typed parts the parent sends the children carry what was parsed. */
static void
test_parts(void)
{
	struct peerd_conf	*c;
	struct reconf_engine	 e;
	struct reconf_relay	 r;
	struct reconf_store	 st;
	char			 err[CONF_ERRLEN];

	if ((c = parse(full_yaml, err)) == NULL) {
		ok(0, "full YAML parses for the parts: %s", err);
		return;
	}
	config_part_engine(c, &e);
	ok(e.mode == MODE_PEER && !e.relay_enabled && !e.hop_enabled &&
	    e.conns_per_minute == 0 && e.max_connections == 100 &&
	    e.min_connections == 100 && e.max_outgoing == 0 &&
	    e.max_pending == c->max_pending &&
	    e.upgrade_timeout == c->upgrade_timeout &&
	    e.max_per_ip == c->max_per_ip && e.max_streams == c->max_streams &&
	    e.dial_backoff_min == 100 && e.dial_backoff_max == 86400000 &&
	    e.dial_private == DIALPRIV_FALSE,
	    "the engine's part: mode, relay switches, limits, backoff, "
	    "dialPrivateAddresses");
	ok(e.stream_buffer == 65536 && e.conn_buffer == 1048576 &&
	    e.total_buffer == 8388608 && e.stalled_timeout == 5000,
	    "the engine's part: the memory budgets");
	ok(c->log_rate_limit == 0, "log.rateLimit 0 is taken");
	ok(e.max_pending_per_ip == 3 && e.ipv4_prefix == 24 &&
	    e.ipv6_prefix == 48, "the engine's part: admission");
	ok(e.ctl_max_clients == 2 && e.ctl_ro_max_clients == 256 &&
	    e.ctl_ro_max_per_uid == 1 && e.ctl_ro_idle == 3600000,
	    "the engine's part: the control sockets' sizes");
	ok(e.admin_max_clients == 3 && e.admin_max_request == 2048 &&
	    e.admin_timeout == 1500, "the engine's part: the admin bounds");
	ok(strcmp(e.metrics_ns, "bsv_p2p") == 0,
	    "the engine's part: metrics.namespace");
	ok(e.gossip_enabled && e.gs_D == 8 && e.gs_Dlo == 5 &&
	    e.gs_Dhi == 12 && e.gs_heartbeat == 700 &&
	    e.gs_max_queue == 65536 && e.gs_hash_ids &&
	    e.gs_max_rpc == 1048576 && e.gs_graylist_thr == -1000 &&
	    e.gs_gossip_thr == -10 && e.gs_md_weight == -2 &&
	    e.gs_md_thr == 20 && e.gs_md_activation == 30000 &&
	    e.gs_fd_weight == 1 && e.gs_fd_cap == 2000,
	    "the engine's part: gossipSub");
	ok(!e.advertise_enabled && e.advertise_ttl == 1000,
	    "the engine's part: relay.advertise");
	config_part_relay(c, &r);
	ok(!r.enabled && !r.hop_enabled && r.reservations_max == 0 &&
	    r.reservations_ttl == 86400000 && r.reservations_per_ip == 2 &&
	    r.limit_duration == 0 && r.limit_data == 1099511627776LL &&
	    r.rsvp_per_hour == 7 && r.max_pending_vouchers == 4096,
	    "relayd's part: the relay settings");
	config_part_store(c, &st);
	ok(st.map_size == 1048576 && st.max_peers == 16 &&
	    st.max_acct == 500 && st.max_acct_size == 2097152,
	    "stored's part");
	config_free(c);
}

/* A file of regress/conf with each placeholder replaced by a value. */
static struct peerd_conf *
load_filled(const char *file, const char *const *subst, char *err)
{
	char	 path[PATH_MAX], in[8192], out[8192], *hit;
	size_t	 i;
	ssize_t	 n;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", confdir, file);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(in, 1, sizeof(in) - 1, fp);
	fclose(fp);
	in[n] = '\0';
	for (i = 0; subst[i] != NULL; i += 2) {
		while ((hit = strstr(in, subst[i])) != NULL) {
			*hit = '\0';
			snprintf(out, sizeof(out), "%s%s%s", in, subst[i + 1],
			    hit + strlen(subst[i]));
			strlcpy(in, out, sizeof(in));
		}
	}
	return config_parse(in, strlen(in), file, err, CONF_ERRLEN);
}

static void
test_guide(void)
{
	static const char *const relay_fill[] = {
		"YOUR_PUBLIC_IP", "127.0.0.7", NULL
	};
	static const char *const security_fill[] = {
		"12D3KooWTrustedPeer1...", ID_ED,
		"12D3KooWTrustedPeer2...", ID_SHA,
		"12D3KooWBannedPeer...", ID_GO, NULL
	};
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN], want[PATH_MAX + 256];
	char			*text;

	/* as the guide prints them, with placeholders: refused */
	c = load("guide-relay.json", 1, err);
	snprintf(want, sizeof(want), "%s/guide-relay.json:8:5: announce: "
	    "invalid multiaddr \"/ip4/YOUR_PUBLIC_IP/tcp/4001\": "
	    "/ip4/YOUR_PUBLIC_IP: invalid IPv4 address", confdir);
	if (!ok(c == NULL && strcmp(err, want) == 0,
	    "guide-relay.json: the YOUR_PUBLIC_IP placeholder is refused "
	    "at its line and column"))
		printf("#   got \"%s\"\n", c == NULL ? err : "(no error)");
	config_free(c);
	c = load("guide-security.json", 1, err);
	snprintf(want, sizeof(want), "%s/guide-security.json:8:7: "
	    "relay.allowlist: invalid peer ID \"12D3KooWTrustedPeer1...\": "
	    "not base58btc, or too long", confdir);
	if (!ok(c == NULL && strcmp(err, want) == 0,
	    "guide-security.json: a placeholder peer ID is refused at its "
	    "line and column"))
		printf("#   got \"%s\"\n", c == NULL ? err : "(no error)");
	config_free(c);

	c = load_filled("guide-relay.json", relay_fill, err);
	if (!ok(c != NULL, "guide-relay.json with its address filled in "
	    "loads"))
		printf("#   %s\n", err);
	if (c != NULL) {
		ok(c->mode == MODE_RELAY, "guide mode");
		ok(list_is(&c->listen.text, 2, "/ip4/0.0.0.0/tcp/4001",
		    "/ip4/0.0.0.0/tcp/4002/ws") &&
		    maddr_is(&c->listen.ma[1], "/ip4/0.0.0.0/tcp/4002/ws"),
		    "guide listen, the /ws address kept");
		ok(list_is(&c->announce.text, 2, "/ip4/127.0.0.7/tcp/4001",
		    "/dns4/relay.yourdomain.com/tcp/4001") &&
		    maddrs_are(&c->announce), "guide announce");
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

	c = load_filled("guide-security.json", security_fill, err);
	if (!ok(c != NULL, "guide-security.json with peer IDs filled in "
	    "loads"))
		printf("#   %s\n", err);
	if (c == NULL)
		return;
	ok(c->relay.conns_per_minute == 10 && c->relay.rsvp_per_hour == 5,
	    "guide rateLimit");
	ok(list_is(&c->relay.allowlist.text, 2, ID_ED, ID_SHA) &&
	    peerids_are(&c->relay.allowlist), "guide allowlist");
	ok(list_is(&c->relay.blocklist.text, 1, ID_GO) &&
	    peerid_is(&c->relay.blocklist.id[0], ID_GO),
	    "guide blockTrustedlist fills blocklist");
	text = config_emit(c, NULL);
	ok(text != NULL && strstr(text, "blockTrustedlist") == NULL &&
	    strstr(text, "  blocklist:\n    - \"" ID_GO "\"\n") != NULL,
	    "emitter writes blocklist only");
	free(text);
	ok(roundtrip(c), "guide security round trip");
	config_free(c);
}

static void
test_alias(void)
{
	struct peerd_conf	*c;
	char			 err[CONF_ERRLEN], in[4096];
	size_t			 i;
	int			 same;

	c = parse("relay:\n  blocklist: [" ID_ED "]\n  blockTrustedlist: ["
	    ID_SHA ", " ID_GO_CID "]\n", err);
	ok(c != NULL && list_is(&c->relay.blocklist.text, 3, ID_ED, ID_SHA,
	    ID_GO_CID) && peerids_are(&c->relay.blocklist) &&
	    peerid_is(&c->relay.blocklist.id[2], ID_GO),
	    "blocklist then alias append, parsed");
	config_free(c);
	c = parse("relay:\n  blockTrustedlist: [" ID_SHA "]\n  blocklist: ["
	    ID_ED "]\n", err);
	ok(c != NULL && list_is(&c->relay.blocklist.text, 2, ID_SHA, ID_ED) &&
	    peerids_are(&c->relay.blocklist),
	    "alias then blocklist append, parsed");
	config_free(c);

	/* 8 entries fill the first allocation; the alias's 9 grow it */
	strlcpy(in, "relay:\n  blocklist:\n", sizeof(in));
	for (i = 0; i < 8; i++)
		strlcat(in, "    - " ID_ED "\n", sizeof(in));
	strlcat(in, "  blockTrustedlist:\n", sizeof(in));
	for (i = 0; i < 9; i++)
		strlcat(in, i % 2 ? "    - " ID_SHA "\n" : "    - " ID_GO "\n",
		    sizeof(in));
	c = parse(in, err);
	same = c != NULL && c->relay.blocklist.text.n == 17 &&
	    peerids_are(&c->relay.blocklist);
	for (i = 0; same && i < 17; i++)
		same = peerid_is(&c->relay.blocklist.id[i], i < 8 ? ID_ED :
		    (i - 8) % 2 ? ID_SHA : ID_GO);
	ok(same, "17 entries across the alias keep their parsed values");
	config_free(c);

	c = parse("relay:\n  blocklist: []\n", err);
	ok(c != NULL && c->relay.blocklist.text.n == 0, "empty flow list");
	config_free(c);
	c = parse("listen: []\n", err);
	ok(c != NULL && c->listen.text.n == 0,
	    "empty list replaces the default");
	config_free(c);
}

static void
test_errors(void)
{
	char	*big, *e;
	size_t	 i, n, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails(bad[i].label, bad[i].in, bad[i].prefix, bad[i].word);

#define ENTRY	"- /ip4/127.0.0.1/tcp/4001\n"
	len = strlen("listen:\n") + 65537 * strlen(ENTRY) + 1;
	if ((big = malloc(len)) == NULL)
		return;
	e = big + strlcpy(big, "listen:\n", len);
	for (n = 0; n < 65536; n++, e += strlen(ENTRY))
		memcpy(e, ENTRY, strlen(ENTRY) + 1);
	ok(parses(big), "list of 65536 entries");
	memcpy(e, ENTRY, strlen(ENTRY) + 1);
	fails("list of 65537 entries", big, "t:65538:3: ",
	    "listen: more than 65536 entries");
	free(big);
#undef ENTRY
}

/*
 * The mappings of a dotted key, one a line, into buf; returns how many
 * (the line of the key), the last one being the key.
 */
static int
nest(const char *key, char *buf, size_t len)
{
	const char	*dot;
	char		 line[128];
	int		 depth = 0;

	buf[0] = '\0';
	for (;;) {
		dot = strchr(key, '.');
		snprintf(line, sizeof(line), "%*s%.*s:", depth * 2, "",
		    (int)(dot != NULL ? dot - key : (int)strlen(key)), key);
		strlcat(buf, line, len);
		depth++;
		if (dot == NULL)
			return depth;
		strlcat(buf, "\n", len);
		key = dot + 1;
	}
}

/* A block list of n good entries then the one given, if any. */
static void
list_input(size_t li, size_t n, const char *last, char *buf, size_t len,
    int *line, int *col)
{
	char	 entry[512];
	size_t	 i;
	int	 depth;

	depth = nest(lists[li].key, buf, len);
	strlcat(buf, "\n", len);
	for (i = 0; i < n; i++) {
		snprintf(entry, sizeof(entry), "%*s- %s\n", depth * 2, "",
		    lists[li].good);
		strlcat(buf, entry, len);
	}
	if (last != NULL) {
		snprintf(entry, sizeof(entry), "%*s- %s\n", depth * 2, "",
		    last);
		strlcat(buf, entry, len);
	}
	*line = depth + (int)n + 1;
	*col = depth * 2 + 3;
}

static void
test_typed(void)
{
	char	 in[2048], want[CONF_ERRLEN], label[256];
	size_t	 i, j, nbad;
	int	 line, col;

	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++)
		fails_exact(typed[i].label, typed[i].in, typed[i].want);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		list_input(i, 1, NULL, in, sizeof(in), &line, &col);
		ok(parses(in), "%s: a good entry", lists[i].key);
		nbad = lists[i].peerids ?
		    sizeof(bad_peerids) / sizeof(bad_peerids[0]) :
		    sizeof(bad_maddrs) / sizeof(bad_maddrs[0]);
		for (j = 0; j < nbad; j++) {
			const char *v = lists[i].peerids ? bad_peerids[j].in :
			    bad_maddrs[j].in;
			const char *why = lists[i].peerids ?
			    bad_peerids[j].why : bad_maddrs[j].why;

			list_input(i, 1, v, in, sizeof(in), &line, &col);
			snprintf(want, sizeof(want), "t:%d:%d: %s: invalid %s "
			    "\"%s\": %s", line, col, lists[i].key,
			    lists[i].peerids ? "peer ID" : "multiaddr", v, why);
			snprintf(label, sizeof(label), "%s: %s", lists[i].key,
			    v);
			fails_exact(label, in, want);
		}
	}
	ok(parses("listen:\n  - /ip6/::1/tcp/4001\n"
	    "  - /ip4/127.0.0.1/tcp/4002/ws\n"
	    "  - /ip4/127.0.0.1/tcp/4003/wss\n"
	    "  - /ip4/127.0.0.1/tcp/4004/tls/ws\n"),
	    "listen: /ip6, and /ws, /wss and /tls/ws (the last two skipped "
	    "when started)");
	ok(parses("relays:\n  - /dns4/localhost/tcp/4001/p2p/" ID_ED "\n"
	    "  - /ip4/127.0.0.1/tcp/4001/ipfs/" ID_SHA "\n"
	    "  - /ip6/::1/tcp/4001/p2p/" ID_GO_CID "\n"),
	    "relays: names, /ipfs and CID peer IDs");
	ok(parses("connectionManager:\n  protected: [" ID_GO_CID "]\n"),
	    "protected: a CID peer ID");
}

/* The lists the engine keeps in arrays of its own take so many. */
static void
test_caps(void)
{
	char	*in, want[CONF_ERRLEN];
	size_t	 i, len;
	int	 line, col;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (lists[i].max >= 65536)
			continue;
		len = (lists[i].max + 2) * 128;
		if ((in = malloc(len)) == NULL)
			return;
		list_input(i, lists[i].max, NULL, in, len, &line, &col);
		ok(parses(in), "%s: %zu entries", lists[i].key, lists[i].max);
		list_input(i, lists[i].max, lists[i].good, in, len, &line,
		    &col);
		snprintf(want, sizeof(want), "t:%d:%d: %s: more than %zu "
		    "entries", line, col, lists[i].key, lists[i].max);
		fails_exact(lists[i].key, in, want);
		free(in);
	}
	/* gossipSub.topics: what the engine joins, CONF_MAX_TOPICS */
	len = (CONF_MAX_TOPICS + 3) * 16;
	if ((in = malloc(len)) == NULL)
		return;
	strlcpy(in, "gossipSub:\n  topics:\n", len);
	for (i = 0; i < CONF_MAX_TOPICS; i++) {
		snprintf(want, sizeof(want), "    - /t/%zu\n", i);
		strlcat(in, want, len);
	}
	ok(parses(in), "gossipSub.topics: %d entries", CONF_MAX_TOPICS);
	strlcat(in, "    - /t/last\n", len);
	snprintf(want, sizeof(want), "t:%d:7: gossipSub.topics: more than %d "
	    "entries", CONF_MAX_TOPICS + 3, CONF_MAX_TOPICS);
	fails_exact("gossipSub.topics", in, want);
	free(in);
}

static void
test_durations(void)
{
	static const char *const words[] = { "30s", "1.5e3", "\"1000\"",
	    "1m", "1000ms" };
	char	 in[512], want[CONF_ERRLEN], v[32];
	size_t	 i, j;
	int	 depth, col;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		for (j = 0; j < sizeof(words) / sizeof(words[0]) + 2; j++) {
			if (j < sizeof(words) / sizeof(words[0]))
				strlcpy(v, words[j], sizeof(v));
			else
				snprintf(v, sizeof(v), "%lld", j % 2 ?
				    durations[i].min - 1 :
				    durations[i].max + 1);
			depth = nest(durations[i].key, in, sizeof(in));
			col = (int)(strlen(in) - (strrchr(in, '\n') != NULL ?
			    strrchr(in, '\n') + 1 - in : 0)) + 2;
			strlcat(in, " ", sizeof(in));
			strlcat(in, v, sizeof(in));
			strlcat(in, "\n", sizeof(in));
			snprintf(want, sizeof(want), "t:%d:%d: %s: expected an "
			    "integer from %lld to %lld", depth, col,
			    durations[i].key, durations[i].min,
			    durations[i].max);
			fails_exact(durations[i].key, in, want);
		}
		nest(durations[i].key, in, sizeof(in));
		snprintf(v, sizeof(v), " %lld\n", durations[i].min);
		strlcat(in, v, sizeof(in));
		ok(parses(in), "%s: %lld", durations[i].key, durations[i].min);
		nest(durations[i].key, in, sizeof(in));
		snprintf(v, sizeof(v), " %lld\n", durations[i].max);
		strlcat(in, v, sizeof(in));
		strlcat(in, durations[i].extra, sizeof(in));
		ok(parses(in), "%s: %lld", durations[i].key, durations[i].max);
	}
}

static void
test_bounds(void)
{
	char	 in[2048], s[1100], name[251];
	size_t	 i;

	/* /tls is 2 bytes in binary: 256 of them fill a multiaddr */
	s[0] = '\0';
	for (i = 0; i < 256; i++)
		strlcat(s, "/tls", sizeof(s));
	snprintf(in, sizeof(in), "announce: [%s]\n", s);
	ok(parses(in), "multiaddr of 1024 bytes");
	snprintf(in, sizeof(in), "announce: [%s/tls]\n", s);
	fails("multiaddr of 1028 bytes", in, "t:1:12: ",
	    "announce: invalid multiaddr: too long");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(in, sizeof(in), "announce: [/dns4/%s/dns4/%s/dns4/%s/dns4/%s]"
	    "\n", name, name, name, name);
	fails("multiaddr of 1024 bytes, too long in binary", in, "t:1:12: ",
	    "multiaddr too long");
	memset(s, 'a', sizeof(s));
	s[129] = '\0';
	snprintf(in, sizeof(in), "relay:\n  allowlist: [%s]\n", s);
	fails("peer ID of 129", in, "t:2:15: ",
	    "relay.allowlist: invalid peer ID");
	s[0] = 'Q';
	s[1] = 'm';
	s[128] = '\0';
	snprintf(in, sizeof(in), "relay:\n  allowlist: [%s]\n", s);
	fails("peer ID of 128: text, not a peer ID", in, "t:2:15: ",
	    "not base58btc, or too long");
	s[0] = s[1] = 'a';
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
	    parses("admin:\n  listen: 127.1.2.3:65535\n") &&
	    parses("admin:\n  listen: 0.0.0.0:65535\n  allowRemote: true\n") &&
	    parses("admin:\n  listen: \"\"\n"), "admin.listen forms");
	ok(parses("controlSocketReadonly: \"\"\n"),
	    "controlSocketReadonly disabled");
	ok(parses("daemonApi:\n  listen: /unix/run/p2pd.sock\n") &&
	    parses("daemonApi:\n  listen: /ip4/127.0.0.1/tcp/5005\n") &&
	    parses("daemonApi:\n  listen: /ip6/::1/tcp/5005\n"),
	    "daemonApi.listen: UNIX socket, loopback TCP");
	fails("daemonApi.listen not loopback",
	    "daemonApi:\n  listen: /ip4/10.0.0.1/tcp/5005\n", "t:2:11: ",
	    "/unix/ABSOLUTE-PATH");
	fails("daemonApi.listen without a port",
	    "daemonApi:\n  listen: /ip4/127.0.0.1\n", "t:2:11: ", "/tcp/");
	fails("daemonApi.listen with /ws",
	    "daemonApi:\n  listen: /ip4/127.0.0.1/tcp/5005/ws\n", "t:2:11: ",
	    "/tcp/PORT");
	fails("daemonApi.listen on port 0",
	    "daemonApi:\n  listen: /ip4/127.0.0.1/tcp/0\n", "t:2:11: ",
	    "/tcp/PORT");
	fails("daemonApi.listen a bare path",
	    "daemonApi:\n  listen: /tmp/p2pd.sock\n", "t:2:11: ", "/unix/");
	fails("daemonApi.maxStreams 0",
	    "daemonApi:\n  maxStreams: 0\n", "t:2:15: ", "maxStreams");
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
	ok(list_is(&n->listen.text, 1, "/ip4/127.0.0.1/tcp/4001") &&
	    maddr_is(&n->listen.ma[0], "/ip4/127.0.0.1/tcp/4001"),
	    "keep_static: listen keeps the running value, parsed");
	ok(n->relay.reservations_max == 5,
	    "keep_static: a live key takes the new value");
	ok(strcmp(o->state_dir, "/srv/other") == 0 &&
	    maddr_is(&o->listen.ma[0], "/ip4/127.0.0.1/tcp/9"),
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
	test_parts();
	test_guide();
	test_alias();
	test_errors();
	test_typed();
	test_caps();
	test_durations();
	test_bounds();
	test_load();
	test_escapes();
	test_diff();
	test_keep_static();
	return tap_done();
}
