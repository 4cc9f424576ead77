/*
 * The store's records: known peers, bans and relay accounting.  The
 * expected bytes are written out by hand from the protobuf rules (a
 * version byte 0x01, then tag = field << 3 | wire type, varints), the
 * peer ID is the libp2p peer-ids spec's Ed25519 example.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peerid.h"
#include "storerec.h"
#include "storerec_equal.h"
#include "tap.h"

#define BUFSZ		(REC_MAXLEN + 64)

/*
 * The peer-ids spec's Ed25519 example: an identity multihash of the
 * PublicKey protobuf 08 01 12 20 <key>.
 */
#define SPEC_PEER	"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
#define SPEC_MH		"00 24 08 01 12 20" \
			"2ffa35a99d3a3cfbb17bb7c1dc5561b1" \
			"8a8dcca4df38dc613ea859c37eb1336b"

/* /ip4/127.0.0.1/tcp/4001 and /ip6/::1/tcp/4001 */
#define MA_LO4		"04 7f000001 06 0fa1"
#define MA_LO6		"29 00000000000000000000000000000001 06 0fa1"

/* A peer record with every field, in the order the encoder writes. */
#define PREC_FULL \
	"01"						\
	"08 03"			/* sources 3 */		\
	"12 01 61"		/* agent "a" */		\
	"1a 10 2f697066732f70696e672f312e302e30" /* "/ipfs/ping/1.0.0" */ \
	"1a 0e 2f697066732f69642f312e302e30"	/* "/ipfs/id/1.0.0" */ \
	"22 0d" "0a 08" MA_LO4 "10 c801"	/* addr, last_ok 200 */ \
	"22 18" "0a 14" MA_LO6 "18 01"		/* addr, last_fail 1 */ \
	"28 01"			/* first_seen 1 */	\
	"30 ac02"		/* last_seen 300 */	\
	"38 02"			/* last_ok 2 */		\
	"40 7f"			/* last_fail 127 */	\
	"48 05"			/* fails 5 */

/* Why the last decode from hex refused its input. */
static char	 why[128];

/* Hex to bytes; spaces are skipped. */
static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t		 n = 0;
	unsigned int	 b;

	for (;;) {
		while (*h == ' ')
			h++;
		if (h[0] == '\0' || h[1] == '\0' || n >= max ||
		    sscanf(h, "%2x", &b) != 1)
			break;
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

static int
bytes_are(const uint8_t *b, size_t len, const char *hex)
{
	uint8_t	 want[BUFSZ];
	size_t	 n;

	n = unhex(hex, want, sizeof(want));
	return len == n && memcmp(b, want, n) == 0;
}

static void
set_addr(struct prec_addr *a, const char *hex, int64_t last_ok,
    int64_t last_fail)
{
	memset(a, 0, sizeof(*a));
	a->len = unhex(hex, a->b, sizeof(a->b));
	a->last_ok = last_ok;
	a->last_fail = last_fail;
}

/* The index of the address in r, or -1. */
static int
addr_index(const struct peer_rec *r, const char *hex)
{
	uint8_t	 b[PREC_ADDRMAX];
	size_t	 i, n;

	n = unhex(hex, b, sizeof(b));
	for (i = 0; i < r->naddrs; i++)
		if (r->addrs[i].len == n && memcmp(r->addrs[i].b, b, n) == 0)
			return (int)i;
	return -1;
}

static int
prec_hex(const char *hex, struct peer_rec *r)
{
	static uint8_t	 buf[BUFSZ];

	why[0] = '\0';
	return peer_rec_decode(buf, unhex(hex, buf, sizeof(buf)), r, why,
	    sizeof(why));
}

/* The full record of PREC_FULL, built field by field. */
static void
prec_full(struct peer_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->sources = SRC_BOOTSTRAP | SRC_IDENTIFY;
	strlcpy(r->agent, "a", sizeof(r->agent));
	strlcpy(r->protos[0], "/ipfs/ping/1.0.0", sizeof(r->protos[0]));
	strlcpy(r->protos[1], "/ipfs/id/1.0.0", sizeof(r->protos[1]));
	r->nprotos = 2;
	set_addr(&r->addrs[0], MA_LO4, 200, 0);
	set_addr(&r->addrs[1], MA_LO6, 0, 1);
	r->naddrs = 2;
	r->first_seen = 1;
	r->last_seen = 300;
	r->last_ok = 2;
	r->last_fail = 127;
	r->fails = 5;
}

static void
test_peer_encode(void)
{
	struct peer_rec	 r, d;
	uint8_t		 buf[BUFSZ];
	size_t		 len;

	memset(&r, 0, sizeof(r));
	r.sources = SRC_BOOTSTRAP | SRC_IDENTIFY;
	strlcpy(r.agent, "a", sizeof(r.agent));
	ok(peer_rec_encode(&r, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01 08 03 12 01 61"),
	    "peer record: sources 3, agent \"a\" is 01 08 03 12 01 61");

	memset(&r, 0, sizeof(r));
	ok(peer_rec_encode(&r, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01"), "empty peer record is the version byte");
	ok(prec_hex("01", &d) == 0 && prec_same(&d, &r),
	    "the version byte alone decodes to an empty record");
	ok(peer_rec_encode(&r, buf, 1, &len) == 0 && bytes_are(buf, len, "01"),
	    "empty peer record fits in one byte");
	ok(peer_rec_encode(&r, buf, 0, &len) == -1,
	    "nothing fits in no bytes");

	prec_full(&r);
	ok(peer_rec_encode(&r, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, PREC_FULL),
	    "peer record with every field encodes to the hand-made bytes");
	memset(&d, 0xa5, sizeof(d));
	ok(peer_rec_decode(buf, len, &d, NULL, 0) == 0 && prec_same(&d, &r),
	    "and decodes back to the same record");
	ok(prec_hex(PREC_FULL, &d) == 0 && prec_same(&d, &r),
	    "hand-made bytes decode field by field");
	ok(d.addrs[0].len == 8 && d.addrs[0].last_ok == 200 &&
	    d.addrs[1].len == 20 && d.addrs[1].last_fail == 1 &&
	    strcmp(d.protos[1], "/ipfs/id/1.0.0") == 0 && d.fails == 5 &&
	    d.last_seen == 300, "decoded values");
	ok(peer_rec_encode(&r, buf, len - 1, &len) == -1,
	    "encoding into a buffer one byte short fails");
	ok(peer_rec_encode(&r, buf, 1, &len) == -1,
	    "encoding into one byte fails");

	/* fields in another order */
	ok(prec_hex("01 48 05 12 01 61 08 03", &d) == 0 && d.sources == 3 &&
	    strcmp(d.agent, "a") == 0 && d.fails == 5,
	    "fields in any order decode");
	ok(prec_hex("01 12 02 c3a9", &d) == 0 &&
	    strcmp(d.agent, "\xc3\xa9") == 0, "two-byte UTF-8 agent decodes");
	ok(prec_hex("01 48 e807", &d) == 0 && d.fails == 1000,
	    "fails 1000 decodes");
	ok(prec_hex("01 28 ffffffffffffffff7f", &d) == 0 &&
	    d.first_seen == INT64_MAX, "time INT64_MAX decodes");
	ok(prec_hex("01 08 7f", &d) == 0 && d.sources == SRC_ALL,
	    "every known source bit decodes");
}

/* n copies of an entry after the version byte. */
static size_t
repeat(uint8_t *buf, size_t bufsz, const char *entry, size_t n, int vary)
{
	uint8_t	 e[64];
	size_t	 el, i, len = 1;

	buf[0] = 0x01;
	el = unhex(entry, e, sizeof(e));
	for (i = 0; i < n && len + el <= bufsz; i++) {
		memcpy(buf + len, e, el);
		if (vary >= 0)
			buf[len + (size_t)vary] = (uint8_t)(i + 1);
		len += el;
	}
	return len;
}

static void
test_peer_reject(void)
{
	static const struct {
		const char	*hex, *what;
	} bad[] = {
		{ "", "empty" },
		{ "02", "version 2 alone" },
		{ "02 08 03", "version 2" },
		{ "00 08 03", "version 0" },
		{ "01 50 01", "unknown field 10" },
		{ "01 08 03 08 01", "sources twice" },
		{ "01 12 01 61 12 01 62", "agent twice" },
		{ "01 28 01 28 02", "first_seen twice" },
		{ "01 30 01 30 01", "last_seen twice" },
		{ "01 38 01 38 01", "last_ok twice" },
		{ "01 40 01 40 01", "last_fail twice" },
		{ "01 48 01 48 01", "fails twice" },
		{ "01 28 00 28 05", "first_seen twice, the first 0" },
		{ "01 28 00", "first_seen 0" },
		{ "01 22 0c 0a 08" MA_LO4 "10 00", "address last_ok 0" },
		{ "01 22 0e 0a 08" MA_LO4 "10 01 10 02", "address last_ok twice" },
		{ "01 22 0e 0a 08" MA_LO4 "18 01 18 02",
		    "address last_fail twice" },
		{ "01 22 14 0a 08" MA_LO4 "0a 08" MA_LO4, "address twice in entry" },
		{ "01 22 0a 0a 08" MA_LO4 "22 0a 0a 08" MA_LO4,
		    "the same address in two entries" },
		{ "01 08 80 01", "sources bit 7" },
		{ "01 08 ff 01", "sources with unknown bits" },
		{ "01 08 00", "sources 0" },
		{ "01 0a 01 03", "sources length-delimited" },
		{ "01 22 06 0a 04 047f0000", "truncated ip4 multiaddr" },
		{ "01 22 03 0a 01 7e", "unknown multiaddr protocol" },
		{ "01 22 02 0a 00", "empty multiaddr" },
		{ "01 22 02 10 01", "address entry without an address" },
		{ "01 22 00", "empty address entry" },
		{ "01 20 01", "address entry as a varint" },
		{ "01 22 0c 0a 08" MA_LO4 "20 01", "unknown address field" },
		{ "01 22 0c 0a 08" MA_LO4 "12 00", "address last_ok length" },
		{ "01 12 02 c3 28", "invalid UTF-8 agent" },
		{ "01 12 02 c0 80", "overlong UTF-8 agent" },
		{ "01 12 02 61 00", "NUL in agent" },
		{ "01 12 00", "empty agent" },
		{ "01 1a 00", "empty protocol" },
		{ "01 1a 01 ff", "invalid UTF-8 protocol" },
		{ "01 08 80", "truncated varint" },
		{ "01 08", "tag without a value" },
		{ "01 80", "truncated tag" },
		{ "01 12 05 61", "truncated string" },
		{ "01 00 01", "field 0" },
		{ "01 0b", "wire type 3" },
		{ "01 48 e9 07", "fails 1001" },
		{ "01 48 00", "fails 0" },
		{ "01 28 ffffffffffffffff ff 01", "time above INT64_MAX" },
		{ "01 29 0100000000000000", "time as fixed64" },
	};
	struct peer_rec	 r;
	uint8_t		 buf[BUFSZ];
	char		 err[128];
	size_t		 i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(prec_hex(bad[i].hex, &r) == -1,
		    "peer record: %s refused (%s)", bad[i].what, why);

	err[0] = '\0';
	ok(peer_rec_decode((const uint8_t *)"\x02", 1, &r, err,
	    sizeof(err)) == -1 && err[0] != '\0', "refusal says why");

	/* eight addresses fit, a ninth does not */
	len = repeat(buf, sizeof(buf), "22 0a 0a 08 047f000001 060fa1", 8, 8);
	ok(peer_rec_decode(buf, len, &r, NULL, 0) == 0 && r.naddrs == 8 &&
	    r.addrs[7].b[4] == 8, "eight addresses decode");
	len = repeat(buf, sizeof(buf), "22 0a 0a 08 047f000001 060fa1", 9, 8);
	ok(peer_rec_decode(buf, len, &r, NULL, 0) == -1,
	    "nine addresses refused");

	len = repeat(buf, sizeof(buf), "1a 01 61", 32, 2);
	ok(peer_rec_decode(buf, len, &r, NULL, 0) == 0 && r.nprotos == 32 &&
	    r.protos[31][0] == 32, "32 protocols decode");
	len = repeat(buf, sizeof(buf), "1a 01 61", 33, 2);
	ok(peer_rec_decode(buf, len, &r, NULL, 0) == -1,
	    "33 protocols refused");

	/* an agent of 127 bytes, not 128 */
	buf[0] = 0x01;
	buf[1] = 0x12;
	buf[2] = 127;
	memset(buf + 3, 'x', 128);
	ok(peer_rec_decode(buf, 3 + 127, &r, NULL, 0) == 0 &&
	    strlen(r.agent) == 127, "agent of 127 bytes decodes");
	buf[2] = 128;
	buf[3] = 0x01;
	memset(buf + 4, 'x', 128);
	ok(peer_rec_decode(buf, 4 + 128, &r, NULL, 0) == -1,
	    "agent of 128 bytes refused");

	/* an address of 128 bytes, not 129: /dns/<126 x 'a'> is 2 + 126 */
	len = 0;
	buf[len++] = 0x01;
	buf[len++] = 0x22;
	buf[len++] = 0x84;	/* 132 */
	buf[len++] = 0x01;
	buf[len++] = 0x0a;
	buf[len++] = 0x81;	/* 129 */
	buf[len++] = 0x01;
	buf[len++] = 0x35;	/* dns */
	buf[len++] = 0x7f;	/* 127 */
	memset(buf + len, 'a', 127);
	len += 127;
	ok(peer_rec_decode(buf, len, &r, NULL, 0) == -1,
	    "multiaddr of 129 bytes refused");
	len = 0;
	buf[len++] = 0x01;
	buf[len++] = 0x22;
	buf[len++] = 0x83;	/* 131 */
	buf[len++] = 0x01;
	buf[len++] = 0x0a;
	buf[len++] = 0x80;	/* 128 */
	buf[len++] = 0x01;
	buf[len++] = 0x35;
	buf[len++] = 0x7e;	/* 126 */
	memset(buf + len, 'a', 126);
	len += 126;
	ok(peer_rec_decode(buf, len, &r, NULL, 0) == 0 && r.naddrs == 1 &&
	    r.addrs[0].len == 128, "multiaddr of 128 bytes decodes");
}

static void
test_merge(void)
{
	struct peer_rec	 r, u, d;
	uint8_t		 buf[BUFSZ];
	size_t		 len, i;
	char		 hex[64];

	/* CONNECTED */
	memset(&r, 0, sizeof(r));
	r.sources = SRC_BOOTSTRAP;
	r.first_seen = 10;
	r.last_seen = 20;
	r.last_ok = 15;
	r.last_fail = 50;
	r.fails = 4;
	set_addr(&r.addrs[0], MA_LO4, 0, 40);
	r.naddrs = 1;
	memset(&u, 0, sizeof(u));
	u.sources = SRC_INBOUND;
	set_addr(&u.addrs[0], MA_LO4, 0, 0);
	u.naddrs = 1;
	peer_rec_merge(&r, &u, UPD_CONNECTED, 1000);
	ok(r.last_seen == 1000 && r.last_ok == 1000,
	    "CONNECTED sets last_seen and last_ok");
	ok(r.fails == 0 && r.last_fail == 50,
	    "CONNECTED resets fails, keeps last_fail");
	ok(r.first_seen == 10, "first_seen kept");
	ok(r.sources == (SRC_BOOTSTRAP | SRC_INBOUND), "sources are or-ed");
	ok(r.naddrs == 1 && r.addrs[0].last_ok == 1000 &&
	    r.addrs[0].last_fail == 40,
	    "CONNECTED sets the address's last_ok, adds no duplicate");
	ok(peer_rec_encode(&r, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01 08 21 22 0f 0a 08" MA_LO4 "10 e807 18 28"
	    "28 0a 30 e807 38 e807 40 32"),
	    "merged record encodes to the hand-made bytes");

	/* a new record: first_seen is now */
	memset(&r, 0, sizeof(r));
	peer_rec_merge(&r, &u, UPD_CONNECTED, 77);
	ok(r.first_seen == 77 && r.last_seen == 77 && r.naddrs == 1 &&
	    r.addrs[0].last_ok == 77, "first merge sets first_seen");

	/* DIAL_FAILED */
	memset(&r, 0, sizeof(r));
	r.first_seen = 10;
	r.last_seen = 20;
	r.last_ok = 15;
	r.fails = 4;
	set_addr(&r.addrs[0], MA_LO4, 12, 0);
	r.naddrs = 1;
	memset(&u, 0, sizeof(u));
	u.sources = SRC_DIALLED;
	set_addr(&u.addrs[0], MA_LO4, 0, 0);
	set_addr(&u.addrs[1], MA_LO6, 0, 0);
	u.naddrs = 2;
	peer_rec_merge(&r, &u, UPD_DIAL_FAILED, 2000);
	ok(r.fails == 5 && r.last_fail == 2000,
	    "DIAL_FAILED counts the failure and sets last_fail");
	ok(r.last_ok == 15 && r.last_seen == 20,
	    "DIAL_FAILED leaves last_ok and last_seen");
	ok(r.naddrs == 2 && addr_index(&r, MA_LO4) == 0 &&
	    r.addrs[0].last_fail == 2000 && r.addrs[0].last_ok == 12 &&
	    addr_index(&r, MA_LO6) == 1 && r.addrs[1].last_fail == 2000 &&
	    r.addrs[1].last_ok == 0, "DIAL_FAILED marks the addresses failed");
	r.fails = PREC_MAXFAILS;
	peer_rec_merge(&r, &u, UPD_DIAL_FAILED, 2001);
	ok(r.fails == PREC_MAXFAILS && r.last_fail == 2001,
	    "fails stops at 1000");

	/* IDENTIFIED */
	memset(&r, 0, sizeof(r));
	r.first_seen = 10;
	r.last_ok = 15;
	r.fails = 3;
	strlcpy(r.agent, "old", sizeof(r.agent));
	strlcpy(r.protos[0], "/x", sizeof(r.protos[0]));
	strlcpy(r.protos[1], "/y", sizeof(r.protos[1]));
	strlcpy(r.protos[2], "/z", sizeof(r.protos[2]));
	r.nprotos = 3;
	set_addr(&r.addrs[0], MA_LO4, 12, 0);
	r.naddrs = 1;
	memset(&u, 0, sizeof(u));
	u.sources = SRC_IDENTIFY;
	strlcpy(u.agent, "new", sizeof(u.agent));
	strlcpy(u.protos[0], "/ipfs/id/1.0.0", sizeof(u.protos[0]));
	strlcpy(u.protos[1], "/ipfs/ping/1.0.0", sizeof(u.protos[1]));
	u.nprotos = 2;
	set_addr(&u.addrs[0], MA_LO6, 0, 0);
	set_addr(&u.addrs[1], MA_LO4, 0, 0);
	u.naddrs = 2;
	peer_rec_merge(&r, &u, UPD_IDENTIFIED, 3000);
	ok(strcmp(r.agent, "new") == 0, "IDENTIFIED replaces the agent");
	ok(r.nprotos == 2 && strcmp(r.protos[0], "/ipfs/id/1.0.0") == 0 &&
	    strcmp(r.protos[1], "/ipfs/ping/1.0.0") == 0,
	    "IDENTIFIED replaces the protocols");
	ok(r.last_seen == 3000 && r.last_ok == 15 && r.fails == 3 &&
	    r.first_seen == 10 && r.sources == SRC_IDENTIFY,
	    "IDENTIFIED sets last_seen only");
	ok(r.naddrs == 2 && addr_index(&r, MA_LO4) == 0 &&
	    addr_index(&r, MA_LO6) == 1 && r.addrs[0].last_ok == 12 &&
	    r.addrs[1].last_ok == 0 && r.addrs[1].last_fail == 0,
	    "IDENTIFIED adds the new address, once, untried");
	memset(&u, 0, sizeof(u));
	peer_rec_merge(&r, &u, UPD_IDENTIFIED, 3001);
	ok(strcmp(r.agent, "new") == 0 && r.nprotos == 2 && r.naddrs == 2,
	    "IDENTIFIED without agent or protocols keeps them");
	ok(peer_rec_encode(&r, buf, sizeof(buf), &len) == 0 &&
	    peer_rec_decode(buf, len, &d, NULL, 0) == 0 && prec_same(&d, &r),
	    "merged record round trips");

	/* DISCOVERED: only the address and the source */
	memset(&r, 0, sizeof(r));
	r.first_seen = 5;
	memset(&u, 0, sizeof(u));
	u.sources = SRC_MANUAL;
	set_addr(&u.addrs[0], MA_LO6, 0, 0);
	u.naddrs = 1;
	peer_rec_merge(&r, &u, UPD_DISCOVERED, 4000);
	ok(r.sources == SRC_MANUAL && r.naddrs == 1 && r.last_seen == 0 &&
	    r.last_ok == 0 && r.last_fail == 0 && r.first_seen == 5 &&
	    r.addrs[0].last_ok == 0, "DISCOVERED adds the address only");
	u.sources = 0x80 | SRC_GOSSIP;
	peer_rec_merge(&r, &u, UPD_DISCOVERED, 4001);
	ok(r.sources == (SRC_MANUAL | SRC_GOSSIP) && r.naddrs == 1,
	    "unknown source bits are not merged, no duplicate address");

	/* a ninth address: the one that worked longest ago makes way */
	memset(&r, 0, sizeof(r));
	for (i = 0; i < PREC_MAXADDRS; i++) {
		snprintf(hex, sizeof(hex), "04 7f0000%02zx 06 0fa1", i + 1);
		set_addr(&r.addrs[i], hex, i == 5 ? 5 : 100 * (int64_t)(i + 1),
		    0);
	}
	r.naddrs = PREC_MAXADDRS;
	memset(&u, 0, sizeof(u));
	set_addr(&u.addrs[0], "04 0a000009 06 0fa1", 0, 0);
	u.naddrs = 1;
	peer_rec_merge(&r, &u, UPD_DISCOVERED, 5000);
	ok(r.naddrs == PREC_MAXADDRS &&
	    addr_index(&r, "04 7f000006 06 0fa1") == -1 &&
	    addr_index(&r, "04 0a000009 06 0fa1") != -1,
	    "a ninth address evicts the oldest last_ok");
	ok(addr_index(&r, "04 7f000001 06 0fa1") != -1 &&
	    addr_index(&r, "04 7f000005 06 0fa1") != -1 &&
	    addr_index(&r, "04 7f000007 06 0fa1") != -1 &&
	    addr_index(&r, "04 7f000008 06 0fa1") != -1 &&
	    r.addrs[addr_index(&r, "04 7f000008 06 0fa1")].last_ok == 800,
	    "the others stay as they were");
	set_addr(&u.addrs[0], "04 0a00000a 06 0fa1", 0, 0);
	peer_rec_merge(&r, &u, UPD_CONNECTED, 6000);
	ok(r.naddrs == PREC_MAXADDRS &&
	    addr_index(&r, "04 0a000009 06 0fa1") == -1 &&
	    addr_index(&r, "04 0a00000a 06 0fa1") != -1 &&
	    r.addrs[addr_index(&r, "04 0a00000a 06 0fa1")].last_ok == 6000,
	    "a connected ninth address evicts the never-working one");

	/* among addresses that never worked, the last to fail goes */
	memset(&r, 0, sizeof(r));
	for (i = 0; i < PREC_MAXADDRS; i++) {
		snprintf(hex, sizeof(hex), "04 7f0000%02zx 06 0fa1", i + 1);
		set_addr(&r.addrs[i], hex, 0, i == 2 ? 900 : 10);
	}
	r.naddrs = PREC_MAXADDRS;
	set_addr(&u.addrs[0], "04 0a000009 06 0fa1", 0, 0);
	peer_rec_merge(&r, &u, UPD_DISCOVERED, 7000);
	ok(r.naddrs == PREC_MAXADDRS &&
	    addr_index(&r, "04 7f000003 06 0fa1") == -1 &&
	    addr_index(&r, "04 0a000009 06 0fa1") != -1,
	    "ties on last_ok: the most recent failure makes way");

	ok(peer_rec_add_addr(&r, u.addrs[0].b, 0) == -1 &&
	    peer_rec_add_addr(&r, u.addrs[0].b, PREC_ADDRMAX + 1) == -1,
	    "add_addr refuses empty and long addresses");
	ok(peer_rec_add_addr(&r, u.addrs[0].b, u.addrs[0].len) == 0 &&
	    r.naddrs == PREC_MAXADDRS, "add_addr of a known address");
}

static void
test_ban_parse(void)
{
	struct ban	 b;
	uint8_t		 mh[PEERID_MAXLEN], ip[16];
	char		 s[BAN_TARGETLEN], err[128];
	size_t		 n;

	n = unhex(SPEC_MH, mh, sizeof(mh));
	ok(ban_parse(SPEC_PEER, &b, err, sizeof(err)) == 0 &&
	    b.kind == BAN_PEER && b.peer.len == n && n == 38 &&
	    memcmp(b.peer.mh, mh, n) == 0, "ban on the spec's peer ID");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, SPEC_PEER) == 0, "formats as the peer ID");

	ok(ban_parse("10.1.2.3", &b, err, sizeof(err)) == 0 &&
	    b.kind == BAN_NET && b.prefix == 128 &&
	    unhex("00000000000000000000ffff 0a010203", ip, 16) == 16 &&
	    memcmp(b.ip, ip, 16) == 0, "ban on 10.1.2.3: ::ffff:10.1.2.3/128");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "10.1.2.3") == 0, "formats as 10.1.2.3");

	ok(ban_parse("10.1.2.3/8", &b, err, sizeof(err)) == 0 &&
	    b.kind == BAN_NET && b.prefix == 104 &&
	    unhex("00000000000000000000ffff 0a000000", ip, 16) == 16 &&
	    memcmp(b.ip, ip, 16) == 0,
	    "10.1.2.3/8: host bits cleared, prefix 104");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "10.0.0.0/8") == 0, "formats as 10.0.0.0/8");

	ok(ban_parse("172.31.255.1/12", &b, err, sizeof(err)) == 0 &&
	    b.prefix == 108 &&
	    unhex("00000000000000000000ffff ac100000", ip, 16) == 16 &&
	    memcmp(b.ip, ip, 16) == 0, "172.31.255.1/12 is 172.16.0.0/12");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "172.16.0.0/12") == 0, "formats as 172.16.0.0/12");

	ok(ban_parse("10.1.2.3/32", &b, err, sizeof(err)) == 0 &&
	    b.prefix == 128, "10.1.2.3/32 is prefix 128");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "10.1.2.3") == 0, "formats without a prefix");

	ok(ban_parse("0.0.0.0/0", &b, err, sizeof(err)) == 0 &&
	    b.prefix == 96, "0.0.0.0/0 is prefix 96");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "0.0.0.0/0") == 0, "formats as 0.0.0.0/0");

	ok(ban_parse("2001:db8::1/32", &b, err, sizeof(err)) == 0 &&
	    b.kind == BAN_NET && b.prefix == 32 &&
	    unhex("20010db8 000000000000000000000000", ip, 16) == 16 &&
	    memcmp(b.ip, ip, 16) == 0, "2001:db8::1/32");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "2001:db8::/32") == 0, "formats as 2001:db8::/32");

	ok(ban_parse("2001:db8::1", &b, err, sizeof(err)) == 0 &&
	    b.prefix == 128 &&
	    unhex("20010db8 000000000000000000000001", ip, 16) == 16 &&
	    memcmp(b.ip, ip, 16) == 0, "2001:db8::1");
	ban_format(&b, s, sizeof(s));
	ok(strcmp(s, "2001:db8::1") == 0, "formats as 2001:db8::1");

	ok(ban_parse("2001:db8::ff/121", &b, err, sizeof(err)) == 0 &&
	    b.prefix == 121 && b.ip[15] == 0x80,
	    "2001:db8::ff/121 keeps the top bit of the last byte");

	err[0] = '\0';
	ok(ban_parse("garbage", &b, err, sizeof(err)) == -1 && err[0] != '\0',
	    "garbage refused with a reason");
	ok(ban_parse("10.1.2.3/33", &b, NULL, 0) == -1, "/33 on IPv4 refused");
	ok(ban_parse("2001:db8::/129", &b, NULL, 0) == -1,
	    "/129 on IPv6 refused");
	ok(ban_parse("10.1.2.3/", &b, NULL, 0) == -1, "empty prefix refused");
	ok(ban_parse("10.1.2.3/-1", &b, NULL, 0) == -1,
	    "negative prefix refused");
	ok(ban_parse("10.1.2.3/8x", &b, NULL, 0) == -1,
	    "prefix with trailing junk refused");
	ok(ban_parse("10.1.2.256", &b, NULL, 0) == -1, "10.1.2.256 refused");
	ok(ban_parse("", &b, NULL, 0) == -1, "empty string refused");
	ok(ban_parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5S",
	    &b, NULL, 0) == -1, "truncated peer ID refused");
}

static void
test_ban_match(void)
{
	struct ban	 b;
	uint8_t		 ip[16];

#define MATCH(s) (unhex((s), ip, 16) == 16 && ban_match_ip(&b, ip))
	ban_parse("10.1.2.3/8", &b, NULL, 0);
	ok(MATCH("00000000000000000000ffff 0ac80304"), "10.200.3.4 in 10/8");
	ok(MATCH("00000000000000000000ffff 0affffff"), "10.255.255.255 in 10/8");
	ok(!MATCH("00000000000000000000ffff 0b000001"),
	    "11.0.0.1 not in 10/8");
	ok(!MATCH("00000000000000000000ffff 09ffffff"),
	    "9.255.255.255 not in 10/8");
	ok(!MATCH("0a000000 000000000000000000000000"),
	    "IPv6 0a00:: not in 10/8");

	ban_parse("172.16.0.0/12", &b, NULL, 0);
	ok(MATCH("00000000000000000000ffff acffffff") == 0 &&
	    MATCH("00000000000000000000ffff ac1fffff") &&
	    MATCH("00000000000000000000ffff ac100000") &&
	    !MATCH("00000000000000000000ffff ac200000") &&
	    !MATCH("00000000000000000000ffff ac0fffff"),
	    "172.16.0.0/12 bounds");

	ban_parse("10.1.2.3", &b, NULL, 0);
	ok(MATCH("00000000000000000000ffff 0a010203"), "10.1.2.3 matches");
	ok(!MATCH("00000000000000000000ffff 0a010204"),
	    "10.1.2.4 does not match 10.1.2.3");
	ok(!MATCH("000000000000000000000000 0a010203"),
	    "::10.1.2.3 does not match 10.1.2.3");

	ban_parse("2001:db8::1/32", &b, NULL, 0);
	ok(MATCH("20010db8ffff0000 0000000000000001"),
	    "2001:db8:ffff::1 in 2001:db8::/32");
	ok(!MATCH("20010db9 000000000000000000000001"),
	    "2001:db9::1 not in 2001:db8::/32");
	ok(!MATCH("00000000000000000000ffff 20010db8"),
	    "IPv4 32.1.13.184 not in the IPv6 ban 2001:db8::/32");
	ok(!MATCH("00000000000000000000ffff 0a010203"),
	    "IPv4 10.1.2.3 not in the IPv6 ban 2001:db8::/32");

	ban_parse(SPEC_PEER, &b, NULL, 0);
	memset(ip, 0, sizeof(ip));
	ok(ban_match_ip(&b, ip) == 0, "a peer ban matches no address");
#undef MATCH
}

static void
test_ban_key(void)
{
	struct ban	 b, d;
	uint8_t		 k[BAN_KEYMAX + 8];
	size_t		 len;

	ban_parse(SPEC_PEER, &b, NULL, 0);
	ok(ban_key_encode(&b, k, &len) == 0 && bytes_are(k, len, "70" SPEC_MH),
	    "peer ban key is 'p' and the multihash");
	memset(&d, 0xa5, sizeof(d));
	ok(ban_key_decode(k, len, &d) == 0 && d.kind == BAN_PEER &&
	    ban_same(&b, &d), "and decodes back");

	ban_parse("10.1.2.3/8", &b, NULL, 0);
	ok(ban_key_encode(&b, k, &len) == 0 &&
	    bytes_are(k, len, "6e 00000000000000000000ffff 0a000000 68"),
	    "net ban key is 'n', 16 bytes of address and the prefix");
	memset(&d, 0xa5, sizeof(d));
	ok(ban_key_decode(k, len, &d) == 0 && d.kind == BAN_NET &&
	    d.prefix == 104 && memcmp(d.ip, b.ip, 16) == 0 && ban_same(&b, &d),
	    "and decodes back");

	ban_parse("2001:db8::/32", &b, NULL, 0);
	ok(ban_key_encode(&b, k, &len) == 0 &&
	    bytes_are(k, len, "6e 20010db8000000000000000000000000 20") &&
	    ban_key_decode(k, len, &d) == 0 && ban_same(&b, &d),
	    "IPv6 net ban key round trip");

	len = unhex("6e 00000000000000000000ffff 0a000001 68", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "net key with host bits refused");
	len = unhex("6e 00000000000000000000ffff 0a000001 81", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "net key with prefix 129 refused");
	len = unhex("6e 00000000000000000000ffff 0a000001 80", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == 0 && d.prefix == 128,
	    "net key with prefix 128 decodes");
	len = unhex("6e 00000000000000000000000000000000 00", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == 0 && d.prefix == 0,
	    "net key ::/0 decodes");
	len = unhex("6e 00000000000000000000ffff 0a0000 68", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "net key of 17 bytes refused");
	len = unhex("6e 00000000000000000000ffff 0a000000 68 00", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "net key of 19 bytes refused");
	len = unhex("78 00000000000000000000ffff 0a000000 68", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "key of kind 'x' refused");
	ok(ban_key_decode(k, 0, &d) == -1, "empty key refused");
	len = unhex("70", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "'p' alone refused");
	len = unhex("70 00 00", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "empty identity multihash refused");
	len = unhex("70 12 20 00", k, sizeof(k));
	ok(ban_key_decode(k, len, &d) == -1, "short sha2-256 multihash refused");

	memset(&b, 0, sizeof(b));
	ok(ban_key_encode(&b, k, &len) == -1, "kind 0 does not encode");
	b.kind = BAN_NET;
	b.prefix = 129;
	ok(ban_key_encode(&b, k, &len) == -1, "prefix 129 does not encode");
	b.kind = BAN_PEER;
	ok(ban_key_encode(&b, k, &len) == -1, "empty peer does not encode");
}

static int
ban_val_hex(const char *hex, struct ban *b)
{
	uint8_t	 buf[BUFSZ];

	why[0] = '\0';
	return ban_val_decode(buf, unhex(hex, buf, sizeof(buf)), b, why,
	    sizeof(why));
}

static void
test_ban_val(void)
{
	static const struct {
		const char	*hex, *what;
	} bad[] = {
		{ "", "empty" },
		{ "02 08 01", "version 2" },
		{ "01 20 01", "unknown field 4" },
		{ "01 08 01 08 02", "until twice" },
		{ "01 10 01 10 02", "created twice" },
		{ "01 1a 01 61 1a 01 62", "reason twice" },
		{ "01 08 00 08 05", "until twice, the first 0" },
		{ "01 10 00", "created 0" },
		{ "01 1a 00", "empty reason" },
		{ "01 1a 02 c3 28", "invalid UTF-8 reason" },
		{ "01 0a 01 01", "until length-delimited" },
		{ "01 18 01", "reason as a varint" },
		{ "01 08 ffffffffffffffffff01", "until above INT64_MAX" },
		{ "01 08 80", "truncated varint" },
		{ "01 1a 04 61", "truncated reason" },
	};
	struct ban	 b, d;
	uint8_t		 buf[BUFSZ];
	size_t		 len, i;

	memset(&b, 0, sizeof(b));
	b.until = 300;
	b.created = 1;
	strlcpy(b.reason, "spam", sizeof(b.reason));
	ok(ban_val_encode(&b, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01 08 ac02 10 01 1a 04 7370616d"),
	    "ban value: until 300, created 1, reason \"spam\"");
	ban_parse("10.1.2.3/8", &d, NULL, 0);
	ok(ban_val_decode(buf, len, &d, NULL, 0) == 0 && d.until == 300 &&
	    d.created == 1 && strcmp(d.reason, "spam") == 0,
	    "and decodes back");
	ok(d.kind == BAN_NET && d.prefix == 104,
	    "decoding the value leaves the key's fields");

	memset(&b, 0, sizeof(b));
	b.created = 5;
	ok(ban_val_encode(&b, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01 10 05"), "forever, no reason: 01 10 05");
	strlcpy(d.reason, "old", sizeof(d.reason));
	d.until = 9;
	ok(ban_val_decode(buf, len, &d, NULL, 0) == 0 && d.until == 0 &&
	    d.created == 5 && d.reason[0] == '\0',
	    "decoding clears the previous value");
	ok(ban_val_encode(&b, buf, 1, &len) == -1, "value into one byte fails");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(ban_val_hex(bad[i].hex, &d) == -1,
		    "ban value: %s refused (%s)", bad[i].what, why);

	buf[0] = 0x01;
	buf[1] = 0x1a;
	buf[2] = 127;
	memset(buf + 3, 'r', 127);
	ok(ban_val_decode(buf, 3 + 127, &d, NULL, 0) == 0 &&
	    strlen(d.reason) == 127, "reason of 127 bytes decodes");
	buf[2] = 128;
	buf[3] = 0x01;
	memset(buf + 4, 'r', 128);
	ok(ban_val_decode(buf, 4 + 128, &d, NULL, 0) == -1,
	    "reason of 128 bytes refused");
}

static int
acct_val_hex(const char *hex, struct acct_rec *a)
{
	uint8_t	 buf[BUFSZ];

	why[0] = '\0';
	return acct_val_decode(buf, unhex(hex, buf, sizeof(buf)), a, why,
	    sizeof(why));
}

static void
test_acct(void)
{
	static const struct {
		const char	*hex, *what;
	} bad[] = {
		{ "", "empty" },
		{ "02 08 01", "version 2" },
		{ "01 08 00", "rsvps 0" },
		{ "01 10 00", "circuits 0" },
		{ "01 18 00", "bytes_in 0" },
		{ "01 20 00", "bytes_out 0" },
		{ "01 08 01 08 01", "rsvps twice" },
		{ "01 20 01 20 02", "bytes_out twice" },
		{ "01 28 01", "unknown field 5" },
		{ "01 0a 01 01", "rsvps length-delimited" },
		{ "01 09 0100000000000000", "rsvps fixed64" },
		{ "01 08 80", "truncated varint" },
		{ "01 08 ffffffffffffffffff02", "varint over 64 bits" },
	};
	struct acct_rec	 a, d;
	struct peerid	 id;
	uint8_t		 k[ACCT_KEYMAX + 8], buf[BUFSZ];
	size_t		 len, i;

	id.len = unhex(SPEC_MH, id.mh, sizeof(id.mh));
	ok(acct_key_encode(0x01020304, &id, k, &len) == 0 &&
	    bytes_are(k, len, "01020304" SPEC_MH),
	    "acct key: the day big-endian, then the multihash");
	memset(&d, 0xa5, sizeof(d));
	ok(acct_key_decode(k, len, &d) == 0 && d.day == 0x01020304 &&
	    peerid_equal(&d.peer, &id) && d.rsvps == 0,
	    "and decodes back");
	ok(acct_key_encode(19700, &id, k, &len) == 0 &&
	    bytes_are(k, len, "00004cf4" SPEC_MH), "day 19700 is 00 00 4c f4");
	ok(acct_key_decode(k, 4, &d) == -1, "key of the day alone refused");
	ok(acct_key_decode(k, 5, &d) == -1, "key with a cut multihash refused");
	ok(acct_key_decode(k, len - 1, &d) == -1,
	    "key one byte short refused");
	len = unhex("00004cf4 12 20 00", k, sizeof(k));
	ok(acct_key_decode(k, len, &d) == -1, "short sha2-256 refused");
	id.len = 0;
	ok(acct_key_encode(1, &id, k, &len) == -1, "empty peer does not encode");

	memset(&a, 0, sizeof(a));
	a.rsvps = 1;
	a.circuits = 2;
	a.bytes_in = 300;
	a.bytes_out = 0x100000000ULL;
	ok(acct_val_encode(&a, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01 08 01 10 02 18 ac02 20 8080808010"),
	    "acct value: 1 rsvp, 2 circuits, 300 in, 2^32 out");
	d.day = 7;
	ok(acct_val_decode(buf, len, &d, NULL, 0) == 0 && d.rsvps == 1 &&
	    d.circuits == 2 && d.bytes_in == 300 &&
	    d.bytes_out == 0x100000000ULL && d.day == 7,
	    "and decodes back, leaving the key's fields");
	memset(&a, 0, sizeof(a));
	a.bytes_out = UINT64_MAX;
	ok(acct_val_encode(&a, buf, sizeof(buf), &len) == 0 &&
	    bytes_are(buf, len, "01 20 ffffffffffffffffff01") &&
	    acct_val_decode(buf, len, &d, NULL, 0) == 0 &&
	    d.bytes_out == UINT64_MAX && d.rsvps == 0,
	    "UINT64_MAX bytes out round trip");
	memset(&a, 0, sizeof(a));
	ok(acct_val_encode(&a, buf, 1, &len) == 0 &&
	    bytes_are(buf, len, "01"), "zero acct value is the version byte");
	ok(acct_val_hex("01 20 05 08 03", &d) == 0 && d.rsvps == 3 &&
	    d.bytes_out == 5 && d.circuits == 0 && d.bytes_in == 0,
	    "fields in any order decode");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(acct_val_hex(bad[i].hex, &d) == -1,
		    "acct value: %s refused (%s)", bad[i].what, why);
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	test_peer_encode();
	test_peer_reject();
	test_merge();
	test_ban_parse();
	test_ban_match();
	test_ban_key();
	test_ban_val();
	test_acct();
	return tap_done();
}
