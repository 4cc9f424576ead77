/*
 * Circuit relay v2: hop and stop messages written out field by field
 * from the spec's protobuf, messages captured from js-libp2p, round
 * trips, malformed input, reservation vouchers and the framing.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "circuit_equal.h"
#include "envelope.h"
#include "multiaddr.h"
#include "pb.h"
#include "peerid.h"
#include "tap.h"
#include "varint.h"

#define BUFSZ		8192

/*
 * Peers of the js-libp2p capture: Ed25519 keys from the seeds
 * 10 11 .. 2f (the relay), 40 41 .. 5f (the reserving peer) and
 * 70 71 .. 8f (a peer connecting through the relay).
 */
#define RELAY_PEER	"12D3KooWHrhr7mQC9iPMHyCCTWD4Hq6PgdxoNmFPFSmWoEjcPYAN"
#define RELAY_MH	"002408011220" \
			"7776e870b93354f2a0b24c23f2a36cc4" \
			"e80e223218c1b97926fdd018396a2b9b"
#define RSVP_PEER	"12D3KooWCKq9ZvccjmCqhBbPsrgpAKBHWQpgB61ruM19CyAvH1Cp"
#define RSVP_MH		"002408011220" \
			"2543b92ff1095511476adc8369db6ddc" \
			"933665a11978dda1404ee1066ca9559d"
#define INIT_PEER	"12D3KooWBmAUowwiJKkMEcXg6j3rry9eLXR9Vff8qcpYDq29zdYQ"
#define INIT_MH		"002408011220" \
			"1ce56a48c82ff99162a14bc544612674" \
			"e5d61fb9317e65d4055780fdbcb4dc35"
#define RELAY_PUBPB	"08011220" \
			"7776e870b93354f2a0b24c23f2a36cc4" \
			"e80e223218c1b97926fdd018396a2b9b"
#define JS_SIG		"1fd4916b8fbb795e0493983959c2f0b9" \
			"0aab47f34c802924f12992cc7d36e333" \
			"cd431dd27e6939ef68f307df9340eae6" \
			"a02ad1c63eb8461b0e60547033146e0a"
#define JS_EXPIRE	1700007200ULL

/* The libp2p peer-ids spec's example: a sha2-256 multihash peer ID. */
#define QMCG_MH		"1220" \
			"d52ebb89d85b02a284948203a62ff283" \
			"89c57c9f42beec4ec20db76a68911c0b"

/* /ip4/203.0.113.7/tcp/4001/p2p/<relay>, 49 bytes */
#define RELAY_ADDR4	"04cb007107" "060fa1" "a50326" RELAY_MH
/* /ip6/2001:db8::7/tcp/4001/p2p/<relay>, 61 bytes */
#define RELAY_ADDR6	"2920010db8000000000000000000000007" \
			"060fa1" "a50326" RELAY_MH

/* The voucher js-libp2p sealed: a signed envelope, 196 bytes. */
#define JS_VOUCHER \
	"0a24" RELAY_PUBPB	/* public_key: Ed25519 PublicKey */ \
	"12020302"		/* payload_type: 0x0302 */ \
	"1a56"			/* payload, 86 bytes: */ \
	"0a26" RELAY_MH		/*   relay */ \
	"1226" RSVP_MH		/*   peer */ \
	"18a09ad0aa06"		/*   expiration 1700007200 */ \
	"2a40" JS_SIG		/* signature */

/*
 * Captured from js-libp2p (@libp2p/circuit-relay-v2 4.2.13, the one
 * regress/interop installs): CircuitRelayServer.handleReserve, with the
 * keys above, Date.now() at 1700000000000 and the relay listening on
 * RELAY_ADDR4, RELAY_ADDR6 and a /p2p-circuit address (left out), its
 * HopMessage as written to the stream without the length prefix.
 */
static const char js_reserve_reply[] =
	"0802"			/* type STATUS */
	"1abf02"		/* reservation, 319 bytes: */
	"08a09ad0aa06"		/*   expire 1700007200: in 2 hours */
	"1231" RELAY_ADDR4	/*   addrs */
	"123d" RELAY_ADDR6	/*   addrs */
	"1ac401" JS_VOUCHER	/*   voucher, 196 bytes */
	"2208"			/* limit, 8 bytes: */
	"08c0a907"		/*   duration 120000: milliseconds */
	"10808008"		/*   data 131072 */
	"2864";			/* status OK */

/* js-libp2p's pb codec: the client's RESERVE, CONNECT, the relay's... */
static const char js_reserve[] = "0800";
static const char js_connect[] =
	"0801"			/* type CONNECT */
	"128601"		/* peer, 134 bytes: */
	"0a26" RSVP_MH		/*   id */
	"125c" RELAY_ADDR4	/*   addrs: .../p2p-circuit/p2p/<peer> */
	"a202" "a50326" RSVP_MH;
/* ...STOP CONNECT to the reserving peer, its answer, the CONNECT reply. */
static const char js_stop_connect[] =
	"0800"			/* type CONNECT */
	"1228" "0a26" INIT_MH	/* peer: id only */
	"1a08" "08c0a907" "10808008";	/* limit */
static const char js_stop_ok[] = "0801" "2064";
static const char js_hop_ok[] = "0802" "2208" "08c0a907" "10808008" "2864";
static const char js_no_rsvp[] = "0802" "28cc01";

static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t		 n = 0;
	unsigned int	 b;

	while (h[0] != '\0' && h[1] != '\0' && n < max &&
	    sscanf(h, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

static void
seed(uint8_t first, uint8_t s[32])
{
	size_t	 i;

	for (i = 0; i < 32; i++)
		s[i] = (uint8_t)(first + i);
}

static int
id_is(const struct peerid *id, const char *hex)
{
	uint8_t	 mh[PEERID_MAXLEN];
	size_t	 n;

	n = unhex(hex, mh, sizeof(mh));
	return id->len == n && memcmp(id->mh, mh, n) == 0;
}

static int
addr_is(const struct circuit_addrs *a, size_t i, const char *hex)
{
	struct multiaddr	 ma;
	uint8_t			 b[MADDR_MAXLEN];
	size_t			 n;

	n = unhex(hex, b, sizeof(b));
	return circuit_addr(a, i, &ma) == 0 && ma.len == n &&
	    memcmp(ma.b, b, n) == 0;
}

static int
hop_hex(const char *hex, struct hop_msg *m)
{
	static uint8_t	 buf[BUFSZ];

	return hop_decode(buf, unhex(hex, buf, sizeof(buf)), m);
}

static int
stop_hex(const char *hex, struct stop_msg *m)
{
	static uint8_t	 buf[BUFSZ];

	return stop_decode(buf, unhex(hex, buf, sizeof(buf)), m);
}

static void
add_addr(struct circuit_addrs *a, const char *text)
{
	struct multiaddr	 ma;
	char			 err[128];

	if (maddr_parse(text, &ma, err, sizeof(err)) == -1 ||
	    circuit_addr_add(a, &ma) == -1)
		ok(0, "add %s: %s", text, err);
}

static void
test_names(void)
{
	ok(strcmp(CIRCUIT_HOP, "/libp2p/circuit/relay/0.2.0/hop") == 0 &&
	    strcmp(CIRCUIT_STOP, "/libp2p/circuit/relay/0.2.0/stop") == 0,
	    "protocol IDs");
	ok(strcmp(circuit_status_name(CIRCUIT_OK), "OK") == 0 &&
	    strcmp(circuit_status_name(200), "RESERVATION_REFUSED") == 0 &&
	    strcmp(circuit_status_name(201), "RESOURCE_LIMIT_EXCEEDED") == 0 &&
	    strcmp(circuit_status_name(202), "PERMISSION_DENIED") == 0 &&
	    strcmp(circuit_status_name(203), "CONNECTION_FAILED") == 0 &&
	    strcmp(circuit_status_name(204), "NO_RESERVATION") == 0 &&
	    strcmp(circuit_status_name(400), "MALFORMED_MESSAGE") == 0 &&
	    strcmp(circuit_status_name(401), "UNEXPECTED_MESSAGE") == 0,
	    "status names");
	ok(strcmp(circuit_status_name(0), "UNUSED") == 0 &&
	    strcmp(circuit_status_name(999), "UNKNOWN") == 0 &&
	    strcmp(circuit_status_name(-1), "UNKNOWN") == 0,
	    "status names: UNUSED, unknown");
}

static void
test_hop_spec(void)
{
	static struct hop_msg	 m;
	static uint8_t		 buf[BUFSZ];
	size_t			 n;

	ok(hop_hex("0800", &m) == 0 && m.has_type && m.type == HOP_RESERVE &&
	    !m.peer.present && !m.rsvp.present && !m.limit.present &&
	    !m.has_status, "hop: RESERVE is type 0, written");

	ok(hop_hex(
	    "0801"		/* type CONNECT */
	    "124c"		/* peer, 76 bytes: */
	    "0a22" QMCG_MH	/*   id: sha2-256 multihash */
	    "1208"		/*   addrs: /ip4/127.0.0.1/tcp/4001 */
	    "047f000001" "060fa1"
	    "1203" "047f00"	/*   addrs: /ip4 cut short */
	    "1217"		/*   addrs: /ip6/::1/udp/4001/quic-v1 */
	    "2900000000000000000000000000000001" "91020fa1" "cd03",
	    &m) == 0 && m.type == HOP_CONNECT && m.peer.present &&
	    id_is(&m.peer.id, QMCG_MH) && m.peer.addrs.naddrs == 2 &&
	    m.peer.addrs.nbad == 1 && m.peer.addrs.ndropped == 0 &&
	    addr_is(&m.peer.addrs, 0, "047f000001060fa1") &&
	    addr_is(&m.peer.addrs, 1,
	    "2900000000000000000000000000000001" "91020fa1" "cd03") &&
	    !m.rsvp.present && !m.limit.present && !m.has_status,
	    "hop: CONNECT, a bad address skipped and counted");

	/* What go-libp2p's relay answers a RESERVE with. */
	n = unhex(
	    "0802"		/* type STATUS */
	    "1a3f"		/* reservation, 63 bytes: */
	    "08a09ad0aa06"	/*   expire 1700007200 */
	    "1231" RELAY_ADDR4	/*   addrs */
	    "1a04" "deadbeef"	/*   voucher: opaque here */
	    "2206"		/* limit, 6 bytes: */
	    "0878"		/*   duration 120: seconds */
	    "10808008"		/*   data 131072 */
	    "2864",		/* status OK */
	    buf, sizeof(buf));
	ok(hop_decode(buf, n, &m) == 0 && m.type == HOP_STATUS &&
	    m.has_status && m.status == CIRCUIT_OK && !m.peer.present &&
	    m.rsvp.present && m.rsvp.expire == JS_EXPIRE &&
	    m.rsvp.addrs.naddrs == 1 &&
	    addr_is(&m.rsvp.addrs, 0, RELAY_ADDR4) &&
	    m.rsvp.voucher == buf + 63 && m.rsvp.voucherlen == 4 &&
	    m.limit.present && m.limit.duration == 120 &&
	    m.limit.data == 131072, "hop: STATUS OK with reservation, limit");
	ok(circuit_rsvp_addr(&m.rsvp, 0, &(struct multiaddr){ 0 }) == 0 &&
	    circuit_rsvp_addr(&m.rsvp, 1, &(struct multiaddr){ 0 }) == -1,
	    "hop: reservation address accessor");

	ok(hop_hex("0802" "28cc01", &m) == 0 && m.type == HOP_STATUS &&
	    m.status == CIRCUIT_NO_RESERVATION, "hop: STATUS NO_RESERVATION");
	ok(hop_hex("0802" "28e707", &m) == 0 && m.status == 999,
	    "hop: a status not in the enum is returned");
	ok(hop_hex("0802" "2200", &m) == 0 && m.limit.present &&
	    m.limit.duration == 0 && m.limit.data == 0,
	    "hop: an empty limit is present, no limit");
	ok(hop_hex("0802" "1a00", &m) == 0 && m.rsvp.present &&
	    m.rsvp.expire == 0 && m.rsvp.voucher == NULL,
	    "hop: an empty reservation");

	ok(hop_hex(
	    "3005"		/* field 6, varint */
	    "390102030405060708" /* field 7, fixed64 */
	    "4203616263"	/* field 8, bytes */
	    "4d01020304"	/* field 9, fixed32 */
	    "c03e01"		/* field 1000, varint */
	    "0801"		/* type CONNECT */
	    "122c"		/* peer, 44 bytes: */
	    "1801"		/*   field 3, varint */
	    "0a26" RSVP_MH	/*   id */
	    "2200"		/*   field 4, empty bytes */
	    "1a08"		/* reservation, 8 bytes: */
	    "2a020000"		/*   field 5, bytes */
	    "0801"		/*   expire 1 */
	    "2001"		/*   field 4, varint */
	    "2204"		/* limit, 4 bytes: */
	    "1801" "0805",	/*   field 3, duration 5 */
	    &m) == 0 && m.type == HOP_CONNECT && id_is(&m.peer.id, RSVP_MH) &&
	    m.peer.addrs.naddrs == 0 && m.rsvp.expire == 1 &&
	    m.limit.duration == 5 && !m.has_status,
	    "hop: unknown fields skipped at every level");
}

static void
test_stop_spec(void)
{
	static struct stop_msg	 m;

	/* What go-libp2p's relay sends the target. */
	ok(stop_hex(
	    "0800"		/* type CONNECT */
	    "1228"		/* peer, 40 bytes: */
	    "0a26" INIT_MH	/*   id */
	    "1a06"		/* limit, 6 bytes: */
	    "0878" "10808008",	/*   duration 120, data 131072 */
	    &m) == 0 && m.has_type && m.type == STOP_CONNECT &&
	    m.peer.present && id_is(&m.peer.id, INIT_MH) &&
	    m.peer.addrs.naddrs == 0 && m.limit.present &&
	    m.limit.duration == 120 && m.limit.data == 131072 && !m.has_status,
	    "stop: CONNECT with limit");
	ok(stop_hex(
	    "0800"		/* type CONNECT */
	    "122e"		/* peer, 46 bytes: */
	    "0a22" QMCG_MH	/*   id */
	    "1208"		/*   addrs: /ip4/127.0.0.1/tcp/4001 */
	    "047f000001060fa1",
	    &m) == 0 && id_is(&m.peer.id, QMCG_MH) &&
	    m.peer.addrs.naddrs == 1 && !m.limit.present &&
	    circuit_peer_addr(&m.peer, 0, &(struct multiaddr){ 0 }) == 0,
	    "stop: CONNECT with an address, no limit");
	ok(stop_hex("0801" "2064", &m) == 0 && m.type == STOP_STATUS &&
	    m.has_status && m.status == CIRCUIT_OK && !m.peer.present,
	    "stop: STATUS OK");
	ok(stop_hex("0801" "20cb01", &m) == 0 &&
	    m.status == CIRCUIT_CONNECTION_FAILED, "stop: CONNECTION_FAILED");
	ok(stop_hex("2064" "0801", &m) == 0 && m.type == STOP_STATUS &&
	    m.status == CIRCUIT_OK, "stop: fields out of order");
}

/* Decode, check, encode again: the same bytes as js-libp2p wrote. */
static void
test_js(void)
{
	static struct hop_msg	 h;
	static struct stop_msg	 s;
	static uint8_t		 in[BUFSZ], out[BUFSZ];
	struct rsvp_voucher	 v;
	struct peerid		 signer, id;
	size_t			 n, len;

	n = unhex(js_reserve_reply, in, sizeof(in));
	ok(n == 336, "js: reserve reply is 336 bytes");
	ok(hop_decode(in, n, &h) == 0 && h.type == HOP_STATUS &&
	    h.status == CIRCUIT_OK && !h.peer.present && h.rsvp.present &&
	    h.rsvp.expire == JS_EXPIRE && h.rsvp.addrs.naddrs == 2 &&
	    h.rsvp.addrs.nbad == 0 && addr_is(&h.rsvp.addrs, 0, RELAY_ADDR4) &&
	    addr_is(&h.rsvp.addrs, 1, RELAY_ADDR6) && h.rsvp.voucherlen == 196,
	    "js: reserve reply decodes");
	ok(h.limit.present && h.limit.duration == 120000 &&
	    h.limit.data == 131072,
	    "js: the limit's duration is 120000, milliseconds");
	ok(voucher_open(h.rsvp.voucher, h.rsvp.voucherlen, &v, &signer) == 0 &&
	    id_is(&v.relay, RELAY_MH) && id_is(&v.peer, RSVP_MH) &&
	    v.expiration == JS_EXPIRE && peerid_equal(&signer, &v.relay),
	    "js: its voucher opens");
	ok(peerid_parse(RELAY_PEER, &id) == 0 && peerid_equal(&id, &v.relay) &&
	    peerid_parse(RSVP_PEER, &id) == 0 && peerid_equal(&id, &v.peer),
	    "js: voucher names the relay and the peer");
	ok(hop_encode(&h, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: reserve reply encodes the same");

	n = unhex(js_reserve, in, sizeof(in));
	ok(hop_decode(in, n, &h) == 0 && h.type == HOP_RESERVE &&
	    hop_encode(&h, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: RESERVE");

	n = unhex(js_connect, in, sizeof(in));
	ok(hop_decode(in, n, &h) == 0 && h.type == HOP_CONNECT &&
	    id_is(&h.peer.id, RSVP_MH) && h.peer.addrs.naddrs == 1 &&
	    addr_is(&h.peer.addrs, 0, RELAY_ADDR4 "a202" "a50326" RSVP_MH) &&
	    hop_encode(&h, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: CONNECT with a circuit address");

	n = unhex(js_hop_ok, in, sizeof(in));
	ok(hop_decode(in, n, &h) == 0 && h.status == CIRCUIT_OK &&
	    h.limit.duration == 120000 && !h.rsvp.present &&
	    hop_encode(&h, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: CONNECT answered OK with limit");

	n = unhex(js_no_rsvp, in, sizeof(in));
	ok(hop_decode(in, n, &h) == 0 && h.status == CIRCUIT_NO_RESERVATION &&
	    hop_encode(&h, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: NO_RESERVATION");

	n = unhex(js_stop_connect, in, sizeof(in));
	ok(stop_decode(in, n, &s) == 0 && s.type == STOP_CONNECT &&
	    id_is(&s.peer.id, INIT_MH) && s.peer.addrs.naddrs == 0 &&
	    s.limit.duration == 120000 && s.limit.data == 131072 &&
	    peerid_parse(INIT_PEER, &id) == 0 && peerid_equal(&id, &s.peer.id),
	    "js: STOP CONNECT");
	ok(stop_encode(&s, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: STOP CONNECT encodes the same");

	n = unhex(js_stop_ok, in, sizeof(in));
	ok(stop_decode(in, n, &s) == 0 && s.type == STOP_STATUS &&
	    s.status == CIRCUIT_OK &&
	    stop_encode(&s, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, in, n) == 0, "js: STOP STATUS OK");
}

static void
fill_hop(struct hop_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->has_type = 1;
}

static void
roundtrip_hop(const struct hop_msg *m, const char *what)
{
	static struct hop_msg	 d;
	static uint8_t		 out[BUFSZ];
	size_t			 len;

	ok(hop_encode(m, out, sizeof(out), &len) == 0 &&
	    hop_decode(out, len, &d) == 0 && hop_equal(m, &d) &&
	    d.peer.addrs.nbad == 0 && d.rsvp.addrs.nbad == 0,
	    "round trip: %s", what);
}

static void
roundtrip_stop(const struct stop_msg *m, const char *what)
{
	static struct stop_msg	 d;
	static uint8_t		 out[BUFSZ];
	size_t			 len;

	ok(stop_encode(m, out, sizeof(out), &len) == 0 &&
	    stop_decode(out, len, &d) == 0 && stop_equal(m, &d),
	    "round trip: %s", what);
}

static void
test_roundtrip(void)
{
	static struct hop_msg	 m;
	static struct stop_msg	 s;
	static uint8_t		 out[BUFSZ], want[64];
	static const uint8_t	 voucher[] = { 1, 2, 3, 4, 5 };
	size_t			 len, n, i;

	fill_hop(&m, HOP_RESERVE);
	ok(hop_encode(&m, out, sizeof(out), &len) == 0 && len == 2 &&
	    out[0] == 0x08 && out[1] == 0x00, "encode: RESERVE is 08 00");
	roundtrip_hop(&m, "RESERVE");

	fill_hop(&m, HOP_CONNECT);
	m.peer.present = 1;
	peerid_parse(RSVP_PEER, &m.peer.id);
	add_addr(&m.peer.addrs, "/ip4/192.0.2.1/tcp/4001");
	add_addr(&m.peer.addrs, "/dns4/relay.example/tcp/443/wss");
	roundtrip_hop(&m, "CONNECT with addresses");

	fill_hop(&m, HOP_STATUS);
	m.has_status = 1;
	m.status = CIRCUIT_OK;
	m.rsvp.present = 1;
	m.rsvp.expire = UINT64_MAX;
	m.rsvp.voucher = voucher;
	m.rsvp.voucherlen = sizeof(voucher);
	for (i = 0; i < CIRCUIT_MAXADDRS; i++)
		add_addr(&m.rsvp.addrs, "/ip6/2001:db8::1/udp/4001/quic-v1");
	m.limit.present = 1;
	m.limit.duration = UINT32_MAX;
	m.limit.data = UINT64_MAX;
	roundtrip_hop(&m, "STATUS with 16 addresses, largest numbers");
	ok(circuit_addr_add(&m.rsvp.addrs, &(struct multiaddr){ 4,
	    { 0x04, 1, 2, 3 } }) == -1, "a 17th address is refused");

	m.rsvp.voucher = voucher;
	m.rsvp.voucherlen = 0;
	m.limit.duration = 0;
	m.limit.data = 0;
	roundtrip_hop(&m, "empty voucher, zero limit");

	fill_hop(&m, HOP_STATUS);
	m.limit.present = 1;
	m.has_status = 1;
	m.status = CIRCUIT_RESOURCE_LIMIT_EXCEEDED;
	n = unhex("0802" "2204" "0800" "1000" "28c901", want, sizeof(want));
	ok(hop_encode(&m, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, want, n) == 0,
	    "encode: a present limit writes both fields");
	roundtrip_hop(&m, "RESOURCE_LIMIT_EXCEEDED");

	memset(&s, 0, sizeof(s));
	s.has_type = 1;
	s.type = STOP_CONNECT;
	s.peer.present = 1;
	peerid_parse(INIT_PEER, &s.peer.id);
	s.limit.present = 1;
	s.limit.duration = 120;
	s.limit.data = 1 << 17;
	roundtrip_stop(&s, "STOP CONNECT");
	n = unhex("0800" "1228" "0a26" INIT_MH "1a06" "0878" "10808008", want,
	    sizeof(want));
	ok(stop_encode(&s, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, want, n) == 0, "encode: STOP CONNECT as go writes it");

	memset(&s, 0, sizeof(s));
	s.has_type = 1;
	s.type = STOP_STATUS;
	s.has_status = 1;
	s.status = CIRCUIT_UNEXPECTED_MESSAGE;
	roundtrip_stop(&s, "STOP STATUS UNEXPECTED_MESSAGE");
}

static void
test_encode_fail(void)
{
	static struct hop_msg	 m;
	static struct stop_msg	 s;
	static uint8_t		 out[BUFSZ];
	static const uint8_t	 big[CIRCUIT_MAXVOUCHER + 1];
	size_t			 len, full, sz, nfit = 0;

	memset(&m, 0, sizeof(m));
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: hop without type");
	fill_hop(&m, 3);
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: hop type 3");
	fill_hop(&m, -1);
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: hop type -1");
	fill_hop(&m, HOP_STATUS);
	m.has_status = 1;
	m.status = -1;
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: negative status");
	fill_hop(&m, HOP_CONNECT);
	m.peer.present = 1;
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: peer without id");
	m.peer.id.len = 3;
	memcpy(m.peer.id.mh, "\x12\x01\x00", 3);
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: peer id not a peer ID multihash");
	fill_hop(&m, HOP_STATUS);
	m.rsvp.present = 1;
	m.rsvp.voucher = big;
	m.rsvp.voucherlen = sizeof(big);
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: voucher over CIRCUIT_MAXVOUCHER");
	m.rsvp.voucher = NULL;
	m.rsvp.voucherlen = 4;
	ok(hop_encode(&m, out, sizeof(out), &len) == -1,
	    "encode: voucher length without voucher");

	memset(&s, 0, sizeof(s));
	s.has_type = 1;
	s.type = 2;
	ok(stop_encode(&s, out, sizeof(out), &len) == -1,
	    "encode: stop type 2");
	s.has_type = 0;
	s.type = STOP_CONNECT;
	ok(stop_encode(&s, out, sizeof(out), &len) == -1,
	    "encode: stop without type");

	hop_hex(js_reserve_reply, &m);
	hop_encode(&m, out, sizeof(out), &full);
	for (sz = 0; sz < full; sz++)
		if (hop_encode(&m, out, sz, &len) == 0)
			nfit++;
	ok(nfit == 0 && hop_encode(&m, out, full, &len) == 0 && len == full,
	    "encode: fails in each buffer shorter than %zu bytes", full);
}

/* Each cut inside a top-level field must fail, each cut between pass. */
static int
cuts_fail(const char *hex, int stop)
{
	static struct hop_msg	 h;
	static struct stop_msg	 s;
	static uint8_t		 buf[BUFSZ];
	struct pbr		 r;
	struct pbf		 f;
	size_t			 n, cut, edge = 0;
	int			 rv, bad = 0;

	n = unhex(hex, buf, sizeof(buf));
	pbr_init(&r, buf, n);
	for (cut = 1; cut < n; cut++) {
		while (edge < cut && pbr_next(&r, &f) == 1)
			edge = r.off;
		if (stop)
			rv = stop_decode(buf, cut, &s);
		else
			rv = hop_decode(buf, cut, &h);
		if ((edge == cut) != (rv == 0))
			bad++;
	}
	return bad == 0;
}

static void
test_malformed(void)
{
	static struct hop_msg	 m;
	static struct stop_msg	 s;
	static uint8_t		 buf[BUFSZ];
	static const struct {
		const char	*hex, *what;
	} bad[] = {
		{ "", "empty: no type" },
		{ "2864", "status without type" },
		{ "0803", "type 3" },
		{ "08ffffffff0f", "type 2^32 - 1" },
		{ "08ffffffffffffffffff01", "type 2^64 - 1" },
		{ "0a0100", "type as bytes" },
		{ "0d00000000", "type as fixed32" },
		{ "08010801", "type twice" },
		{ "08", "tag without value" },
		{ "0880", "value cut in its varint" },
		{ "0802" "80", "tag cut in its varint" },
		{ "0802" "1a05" "0800", "reservation past the end" },
		{ "0802" "33" "34", "a group" },
		{ "0801" "1206" "0a22" "1220d52e", "peer id cut" },
		{ "0801" "120a" "1208" "047f000001060fa1", "peer without id" },
		{ "0801" "1202" "0a00", "peer with an empty id" },
		{ "0801" "1209" "0a07" "120501020304" "05",
		  "peer id: sha2-256 of 5 bytes" },
		{ "0801" "1218" "0a16" "1114" "0102030405060708090a0b0c0d0e0f"
		  "1011121314", "peer id: sha1 multihash" },
		{ "0801" "1243" "0a41" "003f"
		  "0102030405060708090a0b0c0d0e0f10"
		  "1112131415161718191a1b1c1d1e1f20"
		  "2122232425262728292a2b2c2d2e2f30"
		  "3132333435363738393a3b3c3d3e3f",
		  "peer id of 65 bytes" },
		{ "0801" "1203" "0a0100", "peer id: identity of no bytes" },
		{ "0801" "1228" "0a26" RSVP_MH "1228" "0a26" RSVP_MH,
		  "peer twice" },
		{ "0801" "1228" "0a26" RSVP_MH "1200",
		  "peer twice, the second empty" },
		{ "0801" "1250" "0a26" RSVP_MH "0a26" RSVP_MH,
		  "peer id twice" },
		{ "0801" "1209" "090006010203040506", "peer id as fixed64" },
		{ "0801" "1001", "peer as a varint" },
		{ "0801" "122a" "0a26" RSVP_MH "1001",
		  "peer address as a varint" },
		{ "0802" "1a00" "1a00", "reservation twice" },
		{ "0802" "1a04" "08010802", "expire twice" },
		{ "0802" "1a02" "0a00", "expire as bytes" },
		{ "0802" "1a04" "1a001a00", "voucher twice" },
		{ "0802" "1a02" "1800", "voucher as a varint" },
		{ "0802" "1a02" "1000", "reservation address as a varint" },
		{ "0802" "2200" "2200", "limit twice" },
		{ "0802" "2206" "088080808010", "duration 2^32" },
		{ "0802" "2204" "08010801", "duration twice" },
		{ "0802" "2204" "10011001", "data twice" },
		{ "0802" "2202" "0a00", "duration as bytes" },
		{ "0802" "2203" "1100", "data as fixed64, cut" },
		{ "0802" "2209" "110100000000000000", "data as fixed64" },
		{ "0802" "288080808008", "status 2^31" },
		{ "0802" "28ffffffffffffffffff01", "status -1" },
		{ "0802" "2864" "2864", "status twice" },
		{ "0802" "2a00", "status as bytes" },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(hop_hex(bad[i].hex, &m) == -1, "hop refuses: %s",
		    bad[i].what);

	ok(stop_hex("", &s) == -1, "stop refuses: empty");
	ok(stop_hex("0802", &s) == -1, "stop refuses: type 2");
	ok(stop_hex("2064", &s) == -1, "stop refuses: no type");
	ok(stop_hex("0800" "1202" "0a00", &s) == -1,
	    "stop refuses: peer with an empty id");
	ok(stop_hex("0800" "1a06" "088080808010", &s) == -1,
	    "stop refuses: duration 2^32");
	ok(stop_hex("0801" "208080808008", &s) == -1,
	    "stop refuses: status 2^31");
	ok(stop_hex("0801" "1a00" "1a00", &s) == -1,
	    "stop refuses: limit twice");
	ok(stop_hex("0800" "1a00" "2200", &s) == -1,
	    "stop refuses: field 4 as bytes");

	ok(hop_hex("0802" "2206" "08ffffffff0f", &m) == 0 &&
	    m.limit.duration == UINT32_MAX, "hop: duration 2^32 - 1");
	ok(hop_hex("0802" "28ffffffff07", &m) == 0 && m.status == INT32_MAX,
	    "hop: status 2^31 - 1");
	ok(hop_hex("0802" "1a0b" "08ffffffffffffffffff01", &m) == 0 &&
	    m.rsvp.expire == UINT64_MAX, "hop: expire 2^64 - 1");

	/* A voucher of CIRCUIT_MAXVOUCHER bytes, then one more. */
	n = unhex("0802" "1a8310" "1a8010", buf, sizeof(buf));
	memset(buf + n, 0xaa, CIRCUIT_MAXVOUCHER);
	ok(hop_decode(buf, n + CIRCUIT_MAXVOUCHER, &m) == 0 &&
	    m.rsvp.voucherlen == CIRCUIT_MAXVOUCHER,
	    "hop: voucher of %d bytes", CIRCUIT_MAXVOUCHER);
	n = unhex("0802" "1a8410" "1a8110", buf, sizeof(buf));
	memset(buf + n, 0xaa, CIRCUIT_MAXVOUCHER + 1);
	ok(hop_decode(buf, n + CIRCUIT_MAXVOUCHER + 1, &m) == -1,
	    "hop refuses: voucher of %d bytes", CIRCUIT_MAXVOUCHER + 1);

	ok(cuts_fail(js_reserve_reply, 0),
	    "hop: each cut of the js reserve reply inside a field fails");
	ok(cuts_fail(js_connect, 0),
	    "hop: each cut of the js CONNECT inside a field fails");
	ok(cuts_fail(js_stop_connect, 1),
	    "stop: each cut of the js STOP CONNECT inside a field fails");
}

/* Addresses over the pool or the count are dropped, bad ones counted. */
static void
test_addr_bounds(void)
{
	static struct hop_msg	 m;
	static uint8_t		 buf[BUFSZ];
	uint8_t			 a[256];
	size_t			 n, i, peerlen;

	/* /dns4/<250 x 'a'>/tcp/4001 */
	a[0] = 0x36;
	a[1] = 0xfa;
	a[2] = 0x01;
	memset(a + 3, 'a', 250);
	a[253] = 0x06;
	a[254] = 0x0f;
	a[255] = 0xa1;
	peerlen = 2 + 34 + 17 * (3 + sizeof(a));
	n = 0;
	buf[n++] = 0x08;	/* type CONNECT */
	buf[n++] = 0x01;
	buf[n++] = 0x12;	/* peer */
	n += uvarint_encode(peerlen, buf + n);
	n += unhex("0a22" QMCG_MH, buf + n, 64);
	for (i = 0; i < 17; i++) {
		buf[n++] = 0x12;	/* addrs, 256 bytes */
		buf[n++] = 0x80;
		buf[n++] = 0x02;
		memcpy(buf + n, a, sizeof(a));
		n += sizeof(a);
	}
	ok(hop_decode(buf, n, &m) == 0 && m.peer.addrs.naddrs == 8 &&
	    m.peer.addrs.ndropped == 9 && m.peer.addrs.nbad == 0 &&
	    m.peer.addrs.poollen == CIRCUIT_ADDRPOOL,
	    "hop: 2048 bytes of addresses kept, the rest dropped");

	n = unhex("0801" "1240" "0a22" QMCG_MH, buf, sizeof(buf));
	for (i = 0; i < 17; i++)
		n += unhex("1201" "06", buf + n, 8);	/* a cut /tcp */
	buf[3] = (uint8_t)(n - 4);
	ok(hop_decode(buf, n, &m) == 0 && m.peer.addrs.naddrs == 0 &&
	    m.peer.addrs.nbad == 17, "hop: 17 bad addresses counted");

	n = unhex("0801" "1279" "0a22" QMCG_MH, buf, sizeof(buf));
	for (i = 0; i < 17; i++)
		n += unhex("1203" "060001", buf + n, 8);	/* /tcp/1 */
	ok(hop_decode(buf, n, &m) == 0 && m.peer.addrs.naddrs == 16 &&
	    m.peer.addrs.ndropped == 1 && m.peer.addrs.nbad == 0,
	    "hop: 16 addresses kept, the 17th dropped");
}

static size_t
envelope_hand(const char *domain, const uint8_t ptype[2],
    const uint8_t *payload, size_t plen, const uint8_t sk[64],
    const uint8_t pk[32], uint8_t *out)
{
	uint8_t		 sbuf[ENVELOPE_MAXSIGNED], sig[64];
	size_t		 slen, n = 0;

	envelope_signing_buf(domain, ptype, 2, payload, plen, sbuf,
	    sizeof(sbuf), &slen);
	crypto_sign_detached(sig, NULL, sbuf, slen, sk);
	out[n++] = 0x0a;		/* public_key, 36 bytes */
	out[n++] = 36;
	n += pb_ed25519_pubkey(pk, out + n, 36);
	out[n++] = 0x12;		/* payload_type, 2 bytes */
	out[n++] = 2;
	out[n++] = ptype[0];
	out[n++] = ptype[1];
	out[n++] = 0x1a;		/* payload */
	out[n++] = (uint8_t)plen;
	memcpy(out + n, payload, plen);
	n += plen;
	out[n++] = 0x2a;		/* signature, 64 bytes */
	out[n++] = 64;
	memcpy(out + n, sig, 64);
	return n + 64;
}

static void
test_voucher_codec(void)
{
	struct rsvp_voucher	 v;
	uint8_t			 buf[256], out[256];
	size_t			 n, len;
	static const struct {
		const char	*hex, *what;
	} bad[] = {
		{ "", "empty" },
		{ "1226" RSVP_MH "18a09ad0aa06", "no relay" },
		{ "0a26" RELAY_MH "18a09ad0aa06", "no peer" },
		{ "0a26" RELAY_MH "1226" RSVP_MH, "no expiration" },
		{ "0a26" RELAY_MH "0a26" RELAY_MH "1226" RSVP_MH "1801",
		  "relay twice" },
		{ "0a26" RELAY_MH "1226" RSVP_MH "1801" "1802",
		  "expiration twice" },
		{ "0a03120100" "1226" RSVP_MH "1801", "relay not a peer ID" },
		{ "0a26" RELAY_MH "1200" "1801", "empty peer" },
		{ "0a26" RELAY_MH "1226" RSVP_MH "1a00",
		  "expiration as bytes" },
		{ "0a26" RELAY_MH "1226" RSVP_MH "18", "expiration cut" },
		{ "0a26" RELAY_MH "1227" RSVP_MH, "peer past the end" },
		{ "0a26" RELAY_MH "110006010203040506" "1801",
		  "peer as fixed64" },
	};
	size_t	 i;

	n = unhex(
	    "0a26" RELAY_MH	/* relay */
	    "1226" RSVP_MH	/* peer */
	    "18a09ad0aa06",	/* expiration 1700007200 */
	    buf, sizeof(buf));
	ok(voucher_decode(buf, n, &v) == 0 && id_is(&v.relay, RELAY_MH) &&
	    id_is(&v.peer, RSVP_MH) && v.expiration == JS_EXPIRE,
	    "voucher: decode");
	ok(voucher_encode(&v, out, sizeof(out), &len) == 0 && len == n &&
	    memcmp(out, buf, n) == 0, "voucher: encode in field order");
	ok(voucher_encode(&v, out, n - 1, &len) == -1,
	    "voucher: encode into a short buffer fails");
	n = unhex("1801" "2005" "1226" RSVP_MH "0a26" RELAY_MH, buf,
	    sizeof(buf));
	ok(voucher_decode(buf, n, &v) == 0 && v.expiration == 1,
	    "voucher: any order, unknown field skipped");
	n = unhex("0a26" RELAY_MH "1226" RSVP_MH "1800", buf, sizeof(buf));
	ok(voucher_decode(buf, n, &v) == 0 && v.expiration == 0,
	    "voucher: expiration 0 written is present");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = unhex(bad[i].hex, buf, sizeof(buf));
		ok(voucher_decode(buf, n, &v) == -1, "voucher refuses: %s",
		    bad[i].what);
	}
	memset(&v, 0, sizeof(v));
	ok(voucher_encode(&v, out, sizeof(out), &len) == -1,
	    "voucher: encode without peer IDs fails");
}

static void
test_voucher_open(void)
{
	struct rsvp_voucher	 v, got;
	struct peerid		 signer;
	uint8_t			 s[32], rpk[32], rsk[64];
	uint8_t			 ppk[32], psk[64];
	uint8_t			 payload[128], env[512], js[512];
	size_t			 plen, n, jsn, i, nopen = 0;
	int			 b;

	seed(0x10, s);
	crypto_sign_seed_keypair(rpk, rsk, s);
	seed(0x40, s);
	crypto_sign_seed_keypair(ppk, psk, s);

	memset(&v, 0, sizeof(v));
	peerid_parse(RELAY_PEER, &v.relay);
	peerid_parse(RSVP_PEER, &v.peer);
	v.expiration = JS_EXPIRE;
	voucher_encode(&v, payload, sizeof(payload), &plen);
	n = envelope_hand(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, rsk, rpk, env);
	ok(voucher_open(env, n, &got, &signer) == 0 &&
	    peerid_equal(&got.relay, &v.relay) &&
	    peerid_equal(&got.peer, &v.peer) && got.expiration == JS_EXPIRE &&
	    peerid_equal(&signer, &v.relay),
	    "voucher_open: signed by the relay");
	ok(voucher_open(env, n, &got, NULL) == 0,
	    "voucher_open: signer not wanted");
	jsn = unhex(JS_VOUCHER, js, sizeof(js));
	ok(jsn == n && memcmp(env, js, n) == 0,
	    "voucher_open: same bytes as js-libp2p sealed");

	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++) {
			env[i] ^= (uint8_t)(1 << b);
			if (voucher_open(env, n, &got, &signer) == 0)
				nopen++;
			env[i] ^= (uint8_t)(1 << b);
		}
	ok(nopen == 0, "voucher_open: each of %zu flipped bits fails", n * 8);
	for (i = 0; i < n; i++)
		if (voucher_open(env, i, &got, &signer) == 0)
			nopen++;
	ok(nopen == 0, "voucher_open: each cut fails");

	n = envelope_hand(ENVELOPE_DOMAIN_PEER_RECORD,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, rsk, rpk, env);
	ok(voucher_open(env, n, &got, &signer) == -1,
	    "voucher_open: peer record domain fails");
	n = envelope_hand(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_PEER_RECORD, payload, plen, rsk, rpk, env);
	ok(voucher_open(env, n, &got, &signer) == -1,
	    "voucher_open: peer record type fails");
	n = envelope_hand(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, psk, ppk, env);
	ok(voucher_open(env, n, &got, &signer) == -1 &&
	    voucher_decode(payload, plen, &got) == 0,
	    "voucher_open: signed by the peer, not the relay, fails");
	n = envelope_hand(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, psk, rpk, env);
	ok(voucher_open(env, n, &got, &signer) == -1,
	    "voucher_open: signature by another key fails");

	v.relay = v.peer;
	voucher_encode(&v, payload, sizeof(payload), &plen);
	n = envelope_hand(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, rsk, rpk, env);
	ok(voucher_open(env, n, &got, &signer) == -1,
	    "voucher_open: names another relay than its signer, fails");

	plen = unhex("0a26" RELAY_MH "1226" RSVP_MH, payload, sizeof(payload));
	n = envelope_hand(ENVELOPE_DOMAIN_RELAY_RSVP,
	    ENVELOPE_PTYPE_RELAY_RSVP, payload, plen, rsk, rpk, env);
	ok(voucher_open(env, n, &got, &signer) == -1,
	    "voucher_open: signed voucher without expiration fails");
	ok(voucher_open(NULL, 0, &got, &signer) == -1,
	    "voucher_open: nothing fails");
}

static void
test_frame(void)
{
	uint8_t		 buf[CIRCUIT_MAXMSG + 16];
	uint8_t		 out[CIRCUIT_MAXMSG + 16];
	const uint8_t	*msg;
	size_t		 n, len, used, sz, nfit = 0;

	n = unhex("02" "0800" "04" "0802" "2864", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == 1 &&
	    msg == buf + 1 && len == 2 && used == 3, "frame: first of two");
	ok(circuit_frame_read(buf + used, n - used, &msg, &len, &used) == 1 &&
	    msg == buf + 4 && len == 4 && used == 5, "frame: second of two");
	ok(circuit_frame_read(buf, 0, &msg, &len, &used) == 0,
	    "frame: nothing, more needed");
	ok(circuit_frame_read(buf, 1, &msg, &len, &used) == 0 &&
	    circuit_frame_read(buf, 2, &msg, &len, &used) == 0,
	    "frame: body cut, more needed");
	n = unhex("00", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == 1 && len == 0 &&
	    used == 1, "frame: empty message");

	n = unhex("8020", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == 0,
	    "frame: 4096 announced, more needed");
	memset(buf + n, 0, CIRCUIT_MAXMSG);
	ok(circuit_frame_read(buf, n + CIRCUIT_MAXMSG, &msg, &len,
	    &used) == 1 && len == CIRCUIT_MAXMSG &&
	    used == n + CIRCUIT_MAXMSG,
	    "frame: 4096 bytes");
	n = unhex("8120", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == -1,
	    "frame: 4097 refused from its length alone");
	n = unhex("80", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == 0,
	    "frame: length cut, more needed");
	n = unhex("8080", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == -1,
	    "frame: a third length byte is over the limit");
	n = unhex("8000", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == -1,
	    "frame: length not minimal");
	n = unhex("ffffffffffffffffff", buf, sizeof(buf));
	ok(circuit_frame_read(buf, n, &msg, &len, &used) == -1,
	    "frame: 9-byte length");

	n = unhex("0802" "2864", buf, sizeof(buf));
	ok(circuit_frame_write(buf, n, out, sizeof(out)) == 5 &&
	    out[0] == 4 && memcmp(out + 1, buf, 4) == 0, "frame: write");
	for (sz = 0; sz < 5; sz++)
		if (circuit_frame_write(buf, n, out, sz) != 0)
			nfit++;
	ok(nfit == 0 && circuit_frame_write(buf, n, out, 5) == 5,
	    "frame: write fails when short");
	memset(buf, 0x5a, sizeof(buf));
	ok(circuit_frame_write(buf, CIRCUIT_MAXMSG, out, sizeof(out)) ==
	    CIRCUIT_MAXMSG + 2 && out[0] == 0x80 && out[1] == 0x20,
	    "frame: write 4096");
	ok(circuit_frame_write(buf, CIRCUIT_MAXMSG + 1, out, sizeof(out)) == 0,
	    "frame: write 4097 refused");
	memcpy(out + 1, "\x08\x02\x28\x64", 4);
	ok(circuit_frame_write(out + 1, 4, out, sizeof(out)) == 5 &&
	    memcmp(out, "\x04\x08\x02\x28\x64", 5) == 0,
	    "frame: write in place");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	test_names();
	test_hop_spec();
	test_stop_spec();
	test_js();
	test_roundtrip();
	test_encode_fail();
	test_malformed();
	test_addr_bounds();
	test_voucher_codec();
	test_voucher_open();
	test_frame();
	return tap_done();
}
