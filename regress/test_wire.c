/*
 * Wire codecs against published vectors: the multiformats
 * unsigned-varint spec, the protobuf encoding guide, multiaddr pairs
 * from go-multiaddr, rust-multiaddr and js-multiaddr tests, the libp2p
 * peer-ids spec, a js-libp2p key/peer ID triple; identify, Noise and
 * envelope messages written out field by field.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "buf.h"
#include "envelope.h"
#include "identify.h"
#include "multiaddr.h"
#include "noisepb.h"
#include "pb.h"
#include "peerid.h"
#include "tap.h"
#include "varint.h"

#define QMCG	"QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"
#define QMCG_MH	"1220d52ebb89d85b02a284948203a62f" \
		"f28389c57c9f42beec4ec20db76a68911c0b"

/* js-libp2p: private key CAESQOf+u8qr..., public key CAESIMaMvgYh... */
#define JS_SEED	"e7febbcaab4578f42a70dccfe0a30af7" \
		"97877c452ac8f7f01f8b26ea1666aab9"
#define JS_PUB	"c68cbe0621eef469263ebaf606fa38b3" \
		"0e993174b84e73af83454fdc3162f77b"
#define JS_PEER	"12D3KooWPBRNBzgceXh7Z27wGoyYYz9ggwaYg2dWiwXXe8ieyFCN"

static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t	 n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &b) == 1) {
		out[n++] = b;
		h += 2;
	}
	return n;
}

static void
test_varint(void)
{
	static const struct {
		uint64_t	 v;
		const char	*hex;
	} vec[] = {
		{ 1, "01" }, { 127, "7f" }, { 128, "8001" }, { 255, "ff01" },
		{ 300, "ac02" }, { 16384, "808001" }, { 0, "00" },
	};
	uint8_t		 want[16], got[UVARINT_MAXLEN];
	uint64_t	 v;
	size_t		 i, n, used;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = unhex(vec[i].hex, want, sizeof(want));
		ok(uvarint_encode(vec[i].v, got) == n &&
		    memcmp(got, want, n) == 0 && uvarint_len(vec[i].v) == n,
		    "uvarint encode %llu", (unsigned long long)vec[i].v);
		ok(uvarint_decode(want, n, &v, &used) == 1 && v == vec[i].v &&
		    used == n, "uvarint decode %s", vec[i].hex);
	}
	/* The spec's example of a non-minimal encoding of 1. */
	n = unhex("8100", want, sizeof(want));
	ok(uvarint_decode(want, n, &v, &used) == -1, "uvarint rejects 81 00");
	n = unhex("8000", want, sizeof(want));
	ok(uvarint_decode(want, n, &v, &used) == -1, "uvarint rejects 80 00");
	n = unhex("ffffffffffffffff7f", want, sizeof(want));
	ok(uvarint_decode(want, n, &v, &used) == 1 && v == INT64_MAX &&
	    used == 9, "uvarint 9 bytes: 2^63 - 1");
	n = unhex("ffffffffffffffffff01", want, sizeof(want));
	ok(uvarint_decode(want, n, &v, &used) == -1,
	    "uvarint rejects a 10th byte");
	ok(uvarint_decode(want, 9, &v, &used) == -1,
	    "uvarint rejects 9 bytes all continued");
	ok(uvarint_encode(UINT64_MAX, got) == 10 &&
	    uvarint_len(UINT64_MAX) == 10,
	    "uvarint encodes 2^64 - 1 in 10 bytes");
	n = unhex("8080", want, sizeof(want));
	ok(uvarint_decode(want, n, &v, &used) == 0, "uvarint truncated: more");
	ok(uvarint_decode(want, 0, &v, &used) == 0, "uvarint empty: more");
}

static void
test_pb(void)
{
	uint8_t		 buf[64], want[64];
	struct pbw	 w;
	struct pbr	 r;
	struct pbf	 f;
	size_t		 n;

	/* protobuf encoding guide: Test1.a = 150, Test2.b = "testing" */
	pbw_init(&w, buf, sizeof(buf));
	pbw_varint(&w, 1, 150);
	pbw_string(&w, 2, "testing");
	n = unhex("089601120774657374696e67", want, sizeof(want));
	ok(!w.overflow && w.len == n && memcmp(buf, want, n) == 0,
	    "pb writer: guide examples");
	pbr_init(&r, want, n);
	ok(pbr_next(&r, &f) == 1 && f.field == 1 && f.wire == PB_VARINT &&
	    f.v == 150, "pb reader: varint 150");
	ok(pbr_next(&r, &f) == 1 && f.field == 2 && f.wire == PB_LEN &&
	    f.len == 7 && memcmp(f.data, "testing", 7) == 0,
	    "pb reader: string");
	ok(pbr_next(&r, &f) == 0, "pb reader: end");

	pbw_init(&w, buf, 5);
	pbw_varint(&w, 1, 150);
	pbw_string(&w, 2, "testing");
	ok(w.overflow && w.len == 3,
	    "pb writer: overflow flagged, not written");
	pbw_init(&w, buf, sizeof(buf));
	pbw_varint(&w, 0, 1);
	ok(w.overflow && w.len == 0, "pb writer: field 0 refused");

	/* fixed64 field 1 = 1, fixed32 field 2 = 2 */
	n = unhex("0901000000000000001502000000", want, sizeof(want));
	pbr_init(&r, want, n);
	ok(pbr_next(&r, &f) == 1 && f.wire == PB_I64 && f.v == 1 &&
	    pbr_next(&r, &f) == 1 && f.wire == PB_I32 && f.v == 2 &&
	    pbr_next(&r, &f) == 0, "pb reader: fixed64 and fixed32");

	static const char *bad[] = {
		"0b",			/* start group */
		"0c",			/* end group */
		"0e00",			/* wire type 6 */
		"0200",			/* field 0 */
		"120561",		/* length past the end */
		"0896",			/* truncated varint */
		"09010203",		/* truncated fixed64 */
		"1501",			/* truncated fixed32 */
		"08ffffffffffffffffff02", /* varint beyond 64 bits */
		"08ffffffffffffffffffff01", /* 11-byte varint */
		"12ffffffffffffffffff01", /* huge length */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = unhex(bad[i], want, sizeof(want));
		pbr_init(&r, want, n);
		ok(pbr_next(&r, &f) == -1, "pb reader rejects %s", bad[i]);
	}
	n = unhex("08ffffffffffffffffff01", want, sizeof(want));
	pbr_init(&r, want, n);
	ok(pbr_next(&r, &f) == 1 && f.v == UINT64_MAX,
	    "pb reader: 10-byte varint 2^64 - 1");

	ok(pb_utf8_valid((const uint8_t *)"h\xc3\xa9llo \xe2\x82\xac", 10),
	    "utf8: valid text");
	ok(!pb_utf8_valid((const uint8_t *)"\xc0\x80", 2), "utf8: overlong");
	ok(!pb_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3),
	    "utf8: surrogate");
	ok(!pb_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4),
	    "utf8: above U+10FFFF");
	ok(!pb_utf8_valid((const uint8_t *)"\xe2\x82", 2), "utf8: truncated");
	ok(!pb_utf8_valid((const uint8_t *)"a\0b", 3), "utf8: NUL");
}

static const struct {
	const char	*text, *hex;
} maddr_vec[] = {
	/* go-multiaddr TestStringToBytes, js-multiaddr "manipulation" */
	{ "/ip4/127.0.0.1/udp/1234", "047f000001910204d2" },
	{ "/ip4/127.0.0.1/tcp/4321", "047f0000010610e1" },
	{ "/ip4/127.0.0.1/udp/1234/ip4/127.0.0.1/tcp/4321",
	  "047f000001910204d2047f0000010610e1" },
	/* go-multiaddr TestZone */
	{ "/ip6zone/eth0/ip6/::1",
	  "2a04657468302900000000000000000000000000000001" },
	/* rust-multiaddr construct_success */
	{ "/ip6/::1", "2900000000000000000000000000000001" },
	{ "/ip6/2601:9:4f81:9700:803e:ca65:66e8:c21",
	  "29260100094f819700803eca6566e80c21" },
	{ "/udp/0", "91020000" },
	{ "/tcp/65535", "06ffff" },
	{ "/p2p/" QMCG, "a50322" QMCG_MH },
	{ "/ip6/2001:8a0:7ac5:4201:3ac9:86ff:fe31:7095/tcp/8000/ws/p2p/" QMCG,
	  "29200108a07ac542013ac986fffe317095061f40dd03a50322" QMCG_MH },
	{ "/ip6/2001:8a0:7ac5:4201:3ac9:86ff:fe31:7095/tcp/8000/wss/p2p/" QMCG,
	  "29200108a07ac542013ac986fffe317095061f40de03a50322" QMCG_MH },
	{ "/ip4/127.0.0.1/tcp/9090/p2p-circuit/p2p/" QMCG,
	  "047f000001062382a202a50322" QMCG_MH },
	{ "/dnsaddr/sjc-1.bootstrap.libp2p.io/tcp/1234/p2p/"
	  "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
	  "3819736a632d312e626f6f7473747261702e6c69627032702e696f0604d2"
	  "a50322122006b3608aa000274049eb28ad8e793a26ff6fab281a7d3bd77cd1"
	  "8eb745dfaabb" },
	{ "/ip4/127.0.0.1/tcp/127/tls/ws", "047f00000106007fc003dd03" },
	/* js-multiaddr resolve() documentation */
	{ "/ip4/147.75.83.83/tcp/4001/p2p/"
	  "QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
	  "04934b5353060fa1a503221220c10f9319dac35c270a6b74cd644cb3acfc1f"
	  "6efc8c821f8eb282599fd1814f64" },
	{ "/ip4/147.75.83.83/tcp/443/wss/p2p/"
	  "QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
	  "04934b53530601bbde03a503221220c10f9319dac35c270a6b74cd644cb3ac"
	  "fc1f6efc8c821f8eb282599fd1814f64" },
	/* swift-multiaddr's webtransport vector, cut before its certhash */
	{ "/ip4/127.0.0.1/udp/1234/quic-v1/webtransport",
	  "047f000001910204d2cd03d103" },
	/* dns4 (54), then /tcp/443/wss as in the js vector above */
	{ "/dns4/example.com/tcp/443/wss",
	  "360b6578616d706c652e636f6d0601bbde03" },
};

static void
test_maddr_vectors(void)
{
	struct multiaddr	 ma, mb;
	uint8_t			 bin[MADDR_MAXLEN];
	char			 s[MADDR_STRMAX], err[128];
	size_t			 i, n;

	for (i = 0; i < sizeof(maddr_vec) / sizeof(maddr_vec[0]); i++) {
		n = unhex(maddr_vec[i].hex, bin, sizeof(bin));
		ok(maddr_parse(maddr_vec[i].text, &ma, err, sizeof(err)) == 0 &&
		    ma.len == n && memcmp(ma.b, bin, n) == 0,
		    "maddr parse %s", maddr_vec[i].text);
		ok(maddr_decode(bin, n, &mb) == 0 && maddr_equal(&ma, &mb),
		    "maddr decode %s", maddr_vec[i].hex);
		ok(maddr_format(&mb, s, sizeof(s)) == 0 &&
		    strcmp(s, maddr_vec[i].text) == 0,
		    "maddr format %s", maddr_vec[i].text);
		ok(maddr_decode(bin, n - 1, &mb) == -1,
		    "maddr decode refuses %s less a byte", maddr_vec[i].text);
	}
}

static void
test_maddr_parse(void)
{
	static const char *bad[] = {
		/* go-multiaddr TestConstructFails */
		"/ip4", "/ip4/::1", "/ip4/fdpsofodsajfdoisa", "/ip6",
		"/ip6zone", "/ip6zone/", "/ip6zone//ip6/fe80::1", "/udp",
		"/tcp", "/udp/65536", "/tcp/65536", "/quic-v1/65536",
		"/ip4/127.0.0.1/udp/jfodsajfidosajfoidsa",
		"/ip4/127.0.0.1/tcp", "/ip4/127.0.0.1/ipfs",
		"/ip4/127.0.0.1/ipfs/tcp", "/ip4/127.0.0.1/p2p",
		"/ip4/127.0.0.1/p2p/tcp", "/ip4/1.2.3.4/tcp/-1", "/", "",
		"/p2p/QmxoHT6iViN5xAjoz1VZ553cL31U9F94ht3QvWR1FrEbZY",
		/* rust-multiaddr construct_fail */
		"/p2p-circuit/50",
		/* certhash is not supported */
		("/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/"
		"b2uaraocy6yrdblb4sfptaddgimjmmpy"),
		"/tcp/+80", "/tcp/ 80", "/tcp/0x50", "ip4/1.2.3.4",
		"//ip4/1.2.3.4", "/ip6/::1%eth0",
	};
	static const struct {
		const char	*in, *msg;
	} msgs[] = {
		{ "/ip4/1.2.3", "/ip4/1.2.3: invalid IPv4 address" },
		{ "/foo/1", "unknown protocol \"foo\"" },
		{ "/ip4/1.2.3.4/tcp", "missing value for tcp" },
		{ "/ip4/1.2.3.4/tcp/", "missing value for tcp" },
		{ "/tcp/70000", "/tcp/70000: port out of range" },
		{ "/tcp/+80", "/tcp/+80: invalid port" },
		{ "", "empty multiaddr" },
		{ "/", "empty multiaddr" },
		{ "/ip4/1.2.3.4/", "trailing slash" },
		{ "//ip4/1.2.3.4", "empty protocol name" },
		{ "ip4/1.2.3.4", "multiaddr must start with '/'" },
		{ "/ip6/1::2::3", "/ip6/1::2::3: invalid IPv6 address" },
		{ "/p2p/QmxoHT6iViN5xAjoz1VZ553cL31U9F94ht3QvWR1FrEbZY",
		  "/p2p/QmxoHT6iViN5xAjoz1VZ553cL31U9F94ht3QvWR1FrEbZY: "
		  "invalid peer ID" },
	};
	struct multiaddr	 ma, mb;
	char			 err[128], s[MADDR_STRMAX], name[300];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(maddr_parse(bad[i], &ma, err, sizeof(err)) == -1 &&
		    ma.len == 0, "maddr parse refuses \"%s\" (%s)", bad[i],
		    err);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		err[0] = '\0';
		maddr_parse(msgs[i].in, &ma, err, sizeof(err));
		ok(strcmp(err, msgs[i].msg) == 0, "maddr error for \"%s\": %s",
		    msgs[i].in, err);
	}
	ok(maddr_parse("/ip4/1.2.3", &ma, NULL, 0) == -1,
	    "maddr parse without an error buffer");

	/* /ipfs is read as /p2p and printed as /p2p */
	ok(maddr_parse("/ipfs/" QMCG, &ma, err, sizeof(err)) == 0 &&
	    maddr_parse("/p2p/" QMCG, &mb, err, sizeof(err)) == 0 &&
	    maddr_equal(&ma, &mb) && maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/p2p/" QMCG) == 0, "maddr /ipfs alias");
	/* go-multiaddr: the same peer in base58btc and CIDv1 */
	ok(maddr_parse("/p2p/12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4"
	    "Hf5mV", &ma, err, sizeof(err)) == 0 &&
	    maddr_parse("/p2p/bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6s"
	    "duakhso4lay6abn2d5u", &mb, err, sizeof(err)) == 0 &&
	    maddr_equal(&ma, &mb),
	    "maddr /p2p in CIDv1 form");
	ok(maddr_parse("/p2p/bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5"
	    "qqnw5vgrei4bm", &ma, err, sizeof(err)) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/p2p/" QMCG) == 0, "maddr CIDv1 printed in base58btc");
	ok(maddr_parse("/ip6/2001:0db8:0000:0000::0001/tcp/1", &ma, err,
	    sizeof(err)) == 0 && maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip6/2001:db8::1/tcp/1") == 0, "maddr canonical IPv6");
	ok(maddr_parse("/tcp/00080", &ma, err, sizeof(err)) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 && strcmp(s, "/tcp/80") == 0,
	    "maddr port with leading zeros");

	strlcpy(name, "/dns/", sizeof(name));
	memset(name + 5, 'a', 255);
	name[260] = '\0';
	ok(maddr_parse(name, &ma, err, sizeof(err)) == 0 && ma.len == 3 + 255,
	    "maddr dns name of 255 bytes");
	name[260] = 'a';
	name[261] = '\0';
	ok(maddr_parse(name, &ma, err, sizeof(err)) == -1,
	    "maddr dns name of 256 bytes refused (%s)", err);
	ok(maddr_parse("/dns/a\x01" "b", &ma, err, sizeof(err)) == -1,
	    "maddr dns name with a control character refused");

	s[0] = '\0';
	for (i = 0; i < 60; i++)
		strlcat(s, "/ip6/::1", sizeof(s));
	ok(maddr_parse(s, &ma, err, sizeof(err)) == -1 &&
	    strcmp(err, "multiaddr too long") == 0, "maddr over %d bytes",
	    MADDR_MAXLEN);
}

static void
test_maddr_decode(void)
{
	static const char *bad[] = {
		/* go-multiaddr TestInvalidP2PAddr */
		("a503221221c05877cbae039d70a5e600ea02c6f9f2942439285c9e344e26"
		"f8d280c850fad6"),
		"01020304",		/* rust from_bytes_fail: code 1 */
		"84007f000001",		/* ip4 code, non-minimal */
		"3600",			/* dns4, empty name */
		"3603612f62",		/* dns4 "a/b" */
		"3602c328",		/* dns4, bad UTF-8 */
		"2a00",			/* ip6zone, empty */
		"a50300",		/* p2p, empty multihash */
		"a503040012",		/* p2p, length past the end */
		"d2030100",		/* certhash */
		"06",			/* tcp without a port */
		"ffffffffffffffffff01",	/* code beyond 9 varint bytes */
	};
	struct multiaddr	 ma;
	uint8_t			 bin[MADDR_MAXLEN + 8];
	size_t			 i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = unhex(bad[i], bin, sizeof(bin));
		ok(maddr_decode(bin, n, &ma) == -1, "maddr decode refuses %s",
		    bad[i]);
	}
	ok(maddr_decode(bin, 0, &ma) == -1, "maddr decode refuses empty");
	for (i = 0; i + 3 <= sizeof(bin); i += 3) {
		bin[i] = 0x06;
		bin[i + 1] = bin[i + 2] = 0;
	}
	ok(maddr_decode(bin, 510, &ma) == 0, "maddr decode 510 bytes");
	ok(maddr_decode(bin, 513, &ma) == -1, "maddr decode refuses 513 bytes");
}

static void
test_maddr_helpers(void)
{
	struct multiaddr	 ma, mb, relay, dest;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr_un	 sun;
	struct peerid		 id, id2;
	struct maddr_comp	 c;
	socklen_t		 sl;
	char			 s[MADDR_STRMAX], err[128];
	uint32_t		 codes[8];
	size_t			 off = 0, n = 0;
	int			 r;

	maddr_parse(maddr_vec[9].text, &ma, err, sizeof(err));
	while ((r = maddr_next(&ma, &off, &c)) == 1 && n < 8)
		codes[n++] = c.code;
	ok(r == 0 && n == 4 && codes[0] == MADDR_IP6 && codes[1] == MADDR_TCP &&
	    codes[2] == MADDR_WS && codes[3] == MADDR_P2P,
	    "maddr_next walks ip6 tcp ws p2p");
	ok(maddr_has(&ma, MADDR_WS) && !maddr_has(&ma, MADDR_WSS),
	    "maddr_has");
	ma.len--;
	off = 0;
	while ((r = maddr_next(&ma, &off, &c)) == 1)
		continue;
	ok(r == -1, "maddr_next reports a cut address");

	maddr_parse("/ip4/127.0.0.1/tcp/4001/p2p/" QMCG, &ma, err, sizeof(err));
	ok(maddr_to_sockaddr(&ma, &ss, &sl) == 0 && ss.ss_family == AF_INET &&
	    sl == sizeof(sin) &&
	    ((struct sockaddr_in *)&ss)->sin_port == htons(4001) &&
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(0x7f000001),
	    "maddr_to_sockaddr ip4");
	maddr_parse("/ip6/::1/tcp/4001", &ma, err, sizeof(err));
	ok(maddr_to_sockaddr(&ma, &ss, &sl) == 0 && ss.ss_family == AF_INET6 &&
	    sl == sizeof(sin6) &&
	    ((struct sockaddr_in6 *)&ss)->sin6_port == htons(4001) &&
	    IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr),
	    "maddr_to_sockaddr ip6");
	maddr_parse("/dns4/example.com/tcp/443", &ma, err, sizeof(err));
	ok(maddr_to_sockaddr(&ma, &ss, &sl) == -1, "maddr_to_sockaddr dns4");
	maddr_parse("/ip4/1.2.3.4/udp/1", &ma, err, sizeof(err));
	ok(maddr_to_sockaddr(&ma, &ss, &sl) == -1, "maddr_to_sockaddr udp");

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4001);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	ok(maddr_from_sockaddr((struct sockaddr *)&sin, &ma) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip4/127.0.0.1/tcp/4001") == 0,
	    "maddr_from_sockaddr ip4");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr);
	ok(maddr_from_sockaddr((struct sockaddr *)&sin6, &ma) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip6/2001:db8::5/tcp/443") == 0,
	    "maddr_from_sockaddr ip6");
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6.sin6_addr);
	ok(maddr_from_sockaddr((struct sockaddr *)&sin6, &ma) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip4/10.0.0.1/tcp/443") == 0,
	    "maddr_from_sockaddr v4-mapped");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ok(maddr_from_sockaddr((struct sockaddr *)&sun, &ma) == -1,
	    "maddr_from_sockaddr unix");

	maddr_parse("/ip4/127.0.0.1/tcp/9090/p2p/" QMCG "/p2p-circuit/p2p/"
	    JS_PEER, &ma, err, sizeof(err));
	peerid_parse(JS_PEER, &id2);
	ok(maddr_get_peerid(&ma, &id) == 0 && peerid_equal(&id, &id2),
	    "maddr_get_peerid takes the last /p2p");
	ok(maddr_split_circuit(&ma, &relay, &dest) == 0 &&
	    maddr_format(&relay, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip4/127.0.0.1/tcp/9090/p2p/" QMCG) == 0 &&
	    maddr_format(&dest, s, sizeof(s)) == 0 &&
	    strcmp(s, "/p2p/" JS_PEER) == 0, "maddr_split_circuit");
	mb = ma;
	ok(maddr_split_circuit(&mb, &mb, &dest) == 0 &&
	    maddr_equal(&mb, &relay), "maddr_split_circuit in place");
	ok(maddr_split_circuit(&relay, &mb, &dest) == -1,
	    "maddr_split_circuit without a circuit");
	maddr_parse("/p2p-circuit", &ma, err, sizeof(err));
	ok(maddr_split_circuit(&ma, &relay, &dest) == 0 && relay.len == 0 &&
	    dest.len == 0, "maddr_split_circuit bare");
	ok(maddr_format(&relay, s, sizeof(s)) == 0 && strcmp(s, "/") == 0,
	    "maddr_format empty");
	maddr_parse("/ip4/1.2.3.4/tcp/1", &ma, err, sizeof(err));
	ok(maddr_get_peerid(&ma, &id) == -1, "maddr_get_peerid none");

	maddr_parse("/ip4/1.2.3.4/tcp/1", &ma, err, sizeof(err));
	maddr_parse("/p2p-circuit", &mb, err, sizeof(err));
	ok(maddr_append(&ma, &mb) == 0 && maddr_append_peerid(&ma, &id2) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip4/1.2.3.4/tcp/1/p2p-circuit/p2p/" JS_PEER) == 0,
	    "maddr_append and maddr_append_peerid");
	ok(maddr_format(&ma, s, strlen(s) + 1) == 0 &&
	    maddr_format(&ma, s, strlen(s)) == -1, "maddr_format buffer size");
	ma.len = MADDR_MAXLEN - 2;
	ok(maddr_append(&ma, &mb) == 0 && maddr_append(&ma, &mb) == -1 &&
	    ma.len == MADDR_MAXLEN, "maddr_append bound");
	ok(maddr_append_peerid(&ma, &id2) == -1, "maddr_append_peerid bound");
	id2.len = 3;
	maddr_parse("/ip4/1.2.3.4", &ma, err, sizeof(err));
	ok(maddr_append_peerid(&ma, &id2) == -1,
	    "maddr_append_peerid refuses a bad multihash");
	ok(strcmp(maddr_proto_name(MADDR_QUIC_V1), "quic-v1") == 0 &&
	    maddr_proto_name(MADDR_CERTHASH) == NULL, "maddr_proto_name");
}

static void
test_peerid(void)
{
	/* peer-ids spec: its Ed25519 public key protobuf */
	static const char spec_pub[] = "080112201ed1e8fae2c4a144b8be8fd4b4"
	    "7bf3d3b34b871c3cacf6010f0e42d474fce27e";
	static const char *bad[] = {
		"", "Q", "12D3KooW",
		"QmxoHT6iViN5xAjoz1VZ553cL31U9F94ht3QvWR1FrEbZY",
		/* dag-pb CID (codec 0x70), not libp2p-key */
		"bafybeibj6lixxzqtsb45ysdjnupvqkufgdvzqbnvmhw2kf7cfkesy7r7d4",
		/* the spec CID with non-zero spare bits */
		"bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxf",
		"BAFZBEIE5745RPV2M6TJYUUGYWY4D5EWRQGQQHFNF445HE3OMZPJBX5XQXE",
		"bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqx",
		/* base36 CIDv1: not read */
		("k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c"
		"15vzqs"),
		"zQmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC",
		"12D3KooWPBRNBzgceXh7Z27wGoyYYz9ggwaYg2dWiwXXe8ieyFC0",
	};
	struct peerid	 a, b;
	uint8_t		 pb[128], pub[32], want[32];
	const uint8_t	*data;
	size_t		 n, dlen, i;
	char		 s[PEERID_STRMAX];
	int		 type;

	ok(peerid_parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
	    &a) == 0 && peerid_parse("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqh"
	    "fnf445he3omzpjbx5xqxe", &b) == 0 && peerid_equal(&a, &b) &&
	    a.len == 34 && a.mh[0] == MH_SHA2_256,
	    "spec sha256 peer ID in base58btc and CIDv1");
	ok(peerid_format(&b, s, sizeof(s)) == 0 &&
	    strcmp(s, "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N") == 0,
	    "CIDv1 peer ID printed in base58btc");
	ok(peerid_parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
	    &a) == 0 && a.mh[0] == MH_IDENTITY && a.len == 38 &&
	    peerid_ed25519_pubkey(&a, pub) == 0, "spec Ed25519 peer ID");
	ok(peerid_parse("12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV",
	    &a) == 0 && peerid_parse("bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkf"
	    "u7qjfi6sduakhso4lay6abn2d5u", &b) == 0 && peerid_equal(&a, &b),
	    "go-multiaddr Ed25519 peer ID in both forms");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(peerid_parse(bad[i], &a) == -1 &&
		    peerid_parse_err(bad[i], &a, s, sizeof(s)) == -1 &&
		    s[0] != '\0', "peerid_parse refuses \"%s\": %s", bad[i], s);
	ok(peerid_parse_err("Q", &a, s, sizeof(s)) == -1 &&
	    strcmp(s, "expected base58btc (1... or Qm...) or a base32 CID "
	    "(b...)") == 0, "peerid_parse_err: not base58btc or base32");
	ok(peerid_parse_err("12D3KooW", &a, s, sizeof(s)) == -1 &&
	    strcmp(s, "not an identity or sha2-256 multihash") == 0,
	    "peerid_parse_err: not a multihash");
	ok(peerid_parse_err("12D3KooWPBRNBzgceXh7Z27wGoyYYz9ggwaYg2dWiwXXe8ieyFC0",
	    &a, s, sizeof(s)) == -1 && strcmp(s, "not base58btc, or too long")
	    == 0, "peerid_parse_err: not base58btc");
	ok(peerid_parse_err("bafybeibj6lixxzqtsb45ysdjnupvqkufgdvzqbnvmhw2kf7cfk"
	    "esy7r7d4", &a, s, sizeof(s)) == -1 &&
	    strcmp(s, "not a CIDv1 of a libp2p-key") == 0,
	    "peerid_parse_err: a CID of something else");
	ok(peerid_parse_err("BAFZBEIE5745RPV2M6TJYUUGYWY4D5EWRQGQQHFNF445HE3OM"
	    "ZPJBX5XQXE", &a, s, sizeof(s)) == -1 &&
	    strcmp(s, "expected base58btc (1... or Qm...) or a base32 CID "
	    "(b...)") == 0, "peerid_parse_err: upper case base32");
	ok(peerid_parse_err("b0", &a, s, sizeof(s)) == -1 &&
	    strcmp(s, "not a base32 CID") == 0,
	    "peerid_parse_err: not base32");
	ok(peerid_parse_err("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", &a,
	    NULL, 0) == 0, "peerid_parse_err: a good one, without a buffer");

	n = unhex(spec_pub, pb, sizeof(pb));
	ok(pubkey_pb_decode(pb, n, &type, &data, &dlen) == 0 &&
	    type == PUBKEY_ED25519 && dlen == 32 && data == pb + 4,
	    "spec public key protobuf decodes");
	ok(peerid_from_pubkey_pb(pb, n, &a) == 0 && a.len == n + 2 &&
	    a.mh[0] == MH_IDENTITY && a.mh[1] == n &&
	    memcmp(a.mh + 2, pb, n) == 0, "spec key: identity peer ID");
	ok(peerid_ed25519_pubkey(&a, pub) == 0 && memcmp(pub, pb + 4, 32) == 0,
	    "spec key back from its peer ID");

	n = unhex("08011220" JS_PUB, pb, sizeof(pb));
	unhex(JS_PUB, want, sizeof(want));
	ok(peerid_from_pubkey_pb(pb, n, &a) == 0 &&
	    peerid_format(&a, s, sizeof(s)) == 0 && strcmp(s, JS_PEER) == 0,
	    "js-libp2p public key gives its peer ID");
	ok(peerid_parse(JS_PEER, &b) == 0 && peerid_equal(&a, &b) &&
	    peerid_ed25519_pubkey(&b, pub) == 0 && memcmp(pub, want, 32) == 0,
	    "js-libp2p peer ID gives its key");
	ok(peerid_format(&a, s, 10) == -1, "peerid_format buffer too small");

	static const char *badkeys[] = {
		"0801",			/* no Data */
		"1220" JS_PUB,		/* no Type */
		"0801121f" JS_PUB,	/* Ed25519 of 31 bytes */
		"08010801122000",	/* Type twice */
		"080112201ed1",		/* truncated */
		("08011220" "0000000000000000000000000000000000000000000000"
		"000000000000000000" "1801"),	/* unknown field */
		"08ffffffff0f1200",	/* Type beyond int */
	};
	for (i = 0; i < sizeof(badkeys) / sizeof(badkeys[0]); i++) {
		n = unhex(badkeys[i], pb, sizeof(pb));
		ok(pubkey_pb_decode(pb, n, &type, &data, &dlen) == -1,
		    "pubkey_pb_decode refuses %.20s", badkeys[i]);
	}
	n = unhex("08021203aabbcc", pb, sizeof(pb));
	ok(pubkey_pb_decode(pb, n, &type, &data, &dlen) == 0 && type == 2 &&
	    dlen == 3, "pubkey_pb_decode returns other types");

	memset(pb, 0x5a, 43);
	crypto_hash_sha256(want, pb, 43);
	ok(peerid_from_pubkey_pb(pb, 43, &a) == 0 && a.len == 34 &&
	    a.mh[0] == MH_SHA2_256 && a.mh[1] == 32 &&
	    memcmp(a.mh + 2, want, 32) == 0,
	    "43-byte key hashed with sha2-256");
	ok(peerid_ed25519_pubkey(&a, pub) == -1, "no key in a sha256 peer ID");
	ok(peerid_from_pubkey_pb(pb, 0, &a) == -1, "empty key refused");
	n = unhex("0801122100" JS_PUB, pb, sizeof(pb));
	ok(peerid_from_pubkey_pb(pb, 37, &a) == 0 &&
	    peerid_ed25519_pubkey(&a, pub) == -1,
	    "no Ed25519 key from a 37-byte identity");
	n = unhex("08011220" JS_PUB, pb, sizeof(pb));
	pb[1] = 2;
	ok(peerid_from_pubkey_pb(pb, n, &a) == 0 &&
	    peerid_ed25519_pubkey(&a, pub) == -1,
	    "no Ed25519 key from a secp256k1 identity");
}

static void
test_identify(void)
{
	static const char msg[] =
	    "0a24" "08011220" JS_PUB		/* 1 publicKey */
	    "1208" "047f000001060fa1"		/* 2 127.0.0.1 tcp 4001 */
	    "1203" "047f00"			/* 2 cut address: bad */
	    "1214" "2900000000000000000000000000000001060fa1"
						/* 2 ::1 tcp 4001 */
	    "1a0e" "2f697066732f69642f312e302e30"	/* 3 /ipfs/id/1.0.0 */
	    "1a10" "2f697066732f70696e672f312e302e30"
						/* 3 /ipfs/ping/1.0.0 */
	    "1a00"				/* 3 empty: bad */
	    "2208" "04c0a80001061f90"		/* 4 192.168.0.1:8080 */
	    "2a0a" "697066732f302e312e30"	/* 5 ipfs/0.1.0 */
	    "320b" "70656572642f302e312e30"	/* 6 peerd/0.1.0 */
	    "3a03" "010203"			/* 7 unknown: skipped */
	    "4805"				/* 9 unknown varint */
	    "4203" "aabbcc";			/* 8 signedPeerRecord */
	struct identify_msg	 m, m2;
	struct multiaddr	 ma;
	uint8_t			 buf[8192], enc[8192];
	char			 s[MADDR_STRMAX], err[128];
	size_t			 n, elen, e2len, i;

	n = unhex(msg, buf, sizeof(buf));
	ok(identify_decode(buf, n, &m) == 0, "identify decodes");
	ok(m.pubkeylen == 36 && memcmp(m.pubkey, buf + 2, 36) == 0,
	    "identify public key");
	ok(m.naddrs == 2 && identify_addr(&m, 0, &ma) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip4/127.0.0.1/tcp/4001") == 0 &&
	    identify_addr(&m, 1, &ma) == 0 &&
	    maddr_format(&ma, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip6/::1/tcp/4001") == 0 &&
	    identify_addr(&m, 2, &ma) == -1, "identify listen addresses");
	ok(m.nprotos == 2 &&
	    strcmp(identify_proto(&m, 0), "/ipfs/id/1.0.0") == 0 &&
	    strcmp(identify_proto(&m, 1), "/ipfs/ping/1.0.0") == 0 &&
	    identify_proto(&m, 2) == NULL, "identify protocols");
	ok(m.has_observed && maddr_format(&m.observed, s, sizeof(s)) == 0 &&
	    strcmp(s, "/ip4/192.168.0.1/tcp/8080") == 0,
	    "identify observed address");
	ok(strcmp(m.protocol_version, "ipfs/0.1.0") == 0 &&
	    strcmp(m.agent_version, "peerd/0.1.0") == 0, "identify versions");
	ok(m.recordlen == 3 && memcmp(m.record, "\xaa\xbb\xcc", 3) == 0,
	    "identify signed peer record");
	ok(m.nbad == 2 && m.ndropped == 0, "identify counts 2 bad entries");
	ok(identify_decode(buf, n - 1, &m2) == -1,
	    "identify refuses a cut message");
	ok(identify_decode(buf, 1, &m2) == -1, "identify refuses a cut tag");
	ok(identify_decode(buf, 0, &m2) == 0 && m2.naddrs == 0,
	    "identify: empty message");
	n = unhex("1001", buf, sizeof(buf));
	ok(identify_decode(buf, n, &m2) == -1, "identify: varint listenAddrs");

	/* Re-encode the decoded message and read it back. */
	ok(identify_encode(&m, enc, sizeof(enc), &elen) == 0 &&
	    identify_decode(enc, elen, &m2) == 0 && m2.naddrs == 2 &&
	    m2.nprotos == 2 && m2.nbad == 0 && m2.recordlen == 3 &&
	    strcmp(m2.agent_version, m.agent_version) == 0 &&
	    identify_encode(&m2, buf, sizeof(buf), &e2len) == 0 &&
	    e2len == elen && memcmp(buf, enc, elen) == 0,
	    "identify encode/decode round trip");
	ok(identify_encode(&m, enc, elen - 1, &e2len) == -1,
	    "identify encode: buffer too small");

	/* Bounds: 40 addresses, 70 protocols, long versions, big record. */
	identify_init(&m);
	maddr_parse("/ip4/10.0.0.1/tcp/1", &ma, err, sizeof(err));
	for (i = 0; i < ID_MAXADDRS; i++)
		identify_add_addr(&m, &ma);
	ok(identify_add_addr(&m, &ma) == -1, "identify_add_addr bound");
	for (i = 0; i < ID_MAXPROTOS; i++)
		identify_add_proto(&m, "/x/1");
	ok(identify_add_proto(&m, "/x/1") == -1, "identify_add_proto bound");
	ok(identify_add_proto(&m, "") == -1,
	    "identify_add_proto refuses empty");
	ok(identify_encode(&m, enc, sizeof(enc), &elen) == 0,
	    "identify encode a full message");
	memcpy(buf, enc, elen);
	n = elen;
	for (i = 0; i < 8; i++) {
		/* 2 /ip4/10.0.0.2/tcp/1 */
		memcpy(buf + n, "\x12\x08\x04\x0a\x00\x00\x02\x06\x00\x01", 10);
		n += 10;
	}
	ok(identify_decode(buf, n, &m2) == 0 && m2.naddrs == ID_MAXADDRS &&
	    m2.ndropped == 8 && m2.nbad == 0, "identify: 8 surplus addresses");

	/* agentVersion of 300 bytes with a 2-byte character across 255 */
	n = 0;
	buf[n++] = 0x32;
	buf[n++] = 0xac;
	buf[n++] = 0x02;		/* length 300 */
	memset(buf + n, 'a', 254);
	n += 254;
	buf[n++] = 0xc3;
	buf[n++] = 0xa9;		/* U+00E9 at bytes 254-255 */
	memset(buf + n, 'b', 44);
	n += 44;
	ok(identify_decode(buf, n, &m2) == 0 &&
	    strlen(m2.agent_version) == 254 && m2.agent_version[253] == 'a',
	    "identify: long agentVersion cut on a character boundary");
	buf[10] = 0;
	ok(identify_decode(buf, n, &m2) == 0 && m2.agent_version[0] == '\0' &&
	    m2.nbad == 1, "identify: agentVersion with NUL dropped");

	/* publicKey of 129 bytes and signedPeerRecord of 4097 are dropped */
	n = 0;
	buf[n++] = 0x0a;
	buf[n++] = 0x81;
	buf[n++] = 0x01;
	memset(buf + n, 1, 129);
	n += 129;
	buf[n++] = 0x42;
	buf[n++] = 0x81;
	buf[n++] = 0x20;		/* 4097 */
	memset(buf + n, 2, 4097);
	n += 4097;
	ok(identify_decode(buf, n, &m2) == 0 && m2.pubkeylen == 0 &&
	    m2.recordlen == 0 && m2.ndropped == 2,
	    "identify: oversize key and record dropped");
	ok(sizeof(struct identify_msg) < 12 * 1024 + 512,
	    "struct identify_msg is %zu bytes", sizeof(struct identify_msg));
}

static void
test_noise(void)
{
	static const char msg[] =
	    "0a24" "08011220" JS_PUB		/* 1 identity_key */
	    "1240"				/* 2 identity_sig */
	      "01010101010101010101010101010101"
	      "01010101010101010101010101010101"
	      "02020202020202020202020202020202"
	      "02020202020202020202020202020202"
	    "1a02" "0000"			/* 3 unknown: skipped */
	    "2214"				/* 4 extensions */
	      "0a04" "01020304"			/*   1 certhash */
	      "120c" "2f79616d75782f312e302e30"	/*   2 /yamux/1.0.0 */
	    "";
	struct noise_payload	 np, np2;
	uint8_t			 buf[1024], enc[1024];
	size_t			 n, elen, i;

	n = unhex(msg, buf, sizeof(buf));
	ok(noise_payload_decode(buf, n, &np) == 0 && np.keylen == 36 &&
	    memcmp(np.key, buf + 2, 36) == 0 && np.siglen == 64 &&
	    np.sig[0] == 1 && np.sig[63] == 2 && np.has_ext &&
	    np.nmuxers == 1 && strcmp(np.muxers[0], "/yamux/1.0.0") == 0,
	    "noise payload decodes");
	ok(noise_payload_decode(buf, n - 1, &np2) == -1,
	    "noise payload: cut message refused");
	ok(noise_payload_encode(&np, enc, sizeof(enc), &elen) == 0 &&
	    noise_payload_decode(enc, elen, &np2) == 0 &&
	    np2.keylen == 36 && np2.siglen == 64 && np2.nmuxers == 1 &&
	    strcmp(np2.muxers[0], "/yamux/1.0.0") == 0,
	    "noise payload round trip");
	n = unhex("0a24" "08011220" JS_PUB "1240", buf, sizeof(buf));
	memset(buf + n, 1, 32);
	memset(buf + n + 32, 2, 32);
	n += 64;
	ok(elen == n + 16 && memcmp(enc, buf, n) == 0 &&
	    memcmp(enc + n, "\x22\x0e\x12\x0c/yamux/1.0.0", 16) == 0,
	    "noise payload encodes key, signature, extensions");
	ok(noise_payload_encode(&np, enc, 10, &elen) == -1,
	    "noise payload: buffer too small");
	np.has_ext = 0;
	ok(noise_payload_encode(&np, enc, sizeof(enc), &elen) == 0 &&
	    elen == n && memcmp(enc, buf, n) == 0,
	    "noise payload without extensions, field by field");

	n = 0;
	buf[n++] = 0x0a;
	buf[n++] = 0x81;
	buf[n++] = 0x01;
	memset(buf + n, 1, 129);
	n += 129;
	ok(noise_payload_decode(buf, n, &np2) == -1, "noise: 129-byte key");
	n = unhex("1281" "01", buf, sizeof(buf));
	memset(buf + n, 1, 129);
	ok(noise_payload_decode(buf, n + 129, &np2) == -1,
	    "noise: 129-byte sig");
	n = unhex("2242" "1240", buf, sizeof(buf));
	memset(buf + n, 'm', 64);
	ok(noise_payload_decode(buf, n + 64, &np2) == -1,
	    "noise: 64-byte muxer name");
	n = 0;
	buf[n++] = 0x22;
	buf[n++] = 9 * 3;
	for (i = 0; i < 9; i++) {
		buf[n++] = 0x12;
		buf[n++] = 1;
		buf[n++] = 'm';
	}
	ok(noise_payload_decode(buf, n, &np2) == -1, "noise: 9 muxers");
	buf[1] = 8 * 3;
	ok(noise_payload_decode(buf, n - 3, &np2) == 0 && np2.nmuxers == 8,
	    "noise: 8 muxers");
	n = unhex("0801", buf, sizeof(buf));
	ok(noise_payload_decode(buf, n, &np2) == -1, "noise: varint key");
	n = unhex("2203120100", buf, sizeof(buf));
	ok(noise_payload_decode(buf, n, &np2) == -1, "noise: muxer with NUL");
}

static void
test_envelope(void)
{
	static const char sigbuf_hex[] =
	    "12" "6c69627032702d706565722d7265636f7264"	/* domain */
	    "02" "0301"				/* payload type */
	    "03" "616263";				/* payload "abc" */
	struct peer_record	*rec, *rec2;
	struct envelope		 env, env2;
	struct peerid		 other;
	uint8_t			 seed[32], pk[32], sk[64], pubpb[36];
	uint8_t			 want[64];
	uint8_t			 payload[4096], sbuf[ENVELOPE_MAXSIGNED];
	uint8_t			 sig[64], enc[8192], exp[256];
	size_t			 plen, slen, elen, n;
	char			 err[128];

	ok(envelope_signing_buf(ENVELOPE_DOMAIN_PEER_RECORD,
	    ENVELOPE_PTYPE_PEER_RECORD, ENVELOPE_PTYPE_LEN,
	    (const uint8_t *)"abc", 3, sbuf, sizeof(sbuf), &slen) == 0 &&
	    slen == unhex(sigbuf_hex, want, sizeof(want)) &&
	    memcmp(sbuf, want, slen) == 0, "envelope signing buffer");
	ok(envelope_signing_buf("d", NULL, 0, NULL, 0, sbuf, 4, &slen) == 0 &&
	    slen == 4 && envelope_signing_buf("d", NULL, 0, NULL, 0, sbuf, 3,
	    &slen) == -1, "envelope signing buffer bound");

	/* Sign with the js-libp2p key, derived from its seed. */
	unhex(JS_SEED, seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	unhex(JS_PUB, want, sizeof(want));
	ok(memcmp(pk, want, 32) == 0, "js-libp2p seed gives its public key");
	pb_ed25519_pubkey(pk, pubpb, sizeof(pubpb));

	rec = calloc(1, sizeof(*rec));
	rec2 = calloc(1, sizeof(*rec2));
	if (rec == NULL || rec2 == NULL)
		return;
	peerid_from_pubkey_pb(pubpb, sizeof(pubpb), &rec->id);
	rec->seq = 42;
	maddr_parse("/ip4/127.0.0.1/tcp/4001", &rec->addrs[0], err,
	    sizeof(err));
	maddr_parse("/ip6/::1/tcp/4001", &rec->addrs[1], err, sizeof(err));
	rec->naddrs = 2;
	ok(peer_record_encode(rec, payload, sizeof(payload), &plen) == 0,
	    "peer record encodes");
	n = unhex(
	    "0a26" "0024" "08011220" JS_PUB		/* 1 peer_id */
	    "102a"					/* 2 seq 42 */
	    "1a0a" "0a08" "047f000001060fa1"		/* 3 { 1 addr } */
	    "1a16" "0a14" "2900000000000000000000000000000001060fa1",
	    exp, sizeof(exp));
	ok(plen == n && memcmp(payload, exp, n) == 0,
	    "peer record bytes, field by field");
	ok(peer_record_decode(payload, plen, rec2) == 0 &&
	    peerid_equal(&rec2->id, &rec->id) && rec2->seq == 42 &&
	    rec2->naddrs == 2 && maddr_equal(&rec2->addrs[1], &rec->addrs[1]),
	    "peer record decodes");

	envelope_signing_buf(ENVELOPE_DOMAIN_PEER_RECORD,
	    ENVELOPE_PTYPE_PEER_RECORD, ENVELOPE_PTYPE_LEN, payload, plen,
	    sbuf, sizeof(sbuf), &slen);
	crypto_sign_detached(sig, NULL, sbuf, slen, sk);
	memset(&env, 0, sizeof(env));
	env.pubkey = pubpb;
	env.pubkeylen = sizeof(pubpb);
	env.ptype = ENVELOPE_PTYPE_PEER_RECORD;
	env.ptypelen = ENVELOPE_PTYPE_LEN;
	env.payload = payload;
	env.payloadlen = plen;
	env.sig = sig;
	env.siglen = sizeof(sig);
	ok(envelope_encode(&env, enc, sizeof(enc), &elen) == 0 &&
	    enc[0] == 0x0a && enc[1] == 36 && enc[38] == 0x12 && enc[39] == 2 &&
	    enc[42] == 0x1a && enc[elen - 66] == 0x2a && enc[elen - 65] == 64,
	    "envelope encodes fields 1, 2, 3, 5");
	ok(envelope_decode(enc, elen, &env2) == 0 &&
	    env2.payloadlen == plen && env2.siglen == 64 &&
	    envelope_verify(&env2, ENVELOPE_DOMAIN_PEER_RECORD) == 0,
	    "envelope verifies");
	ok(envelope_verify(&env2, ENVELOPE_DOMAIN_RELAY_RSVP) == -1,
	    "envelope: wrong domain fails");
	ok(peer_record_open(enc, elen, rec2) == 0 && rec2->seq == 42 &&
	    rec2->naddrs == 2, "peer_record_open");

	enc[50] ^= 0x01;		/* inside the payload */
	ok(envelope_decode(enc, elen, &env2) == 0 &&
	    envelope_verify(&env2, ENVELOPE_DOMAIN_PEER_RECORD) == -1,
	    "envelope: flipped payload bit fails");
	enc[50] ^= 0x01;
	enc[elen - 1] ^= 0x80;		/* inside the signature */
	ok(envelope_decode(enc, elen, &env2) == 0 &&
	    envelope_verify(&env2, ENVELOPE_DOMAIN_PEER_RECORD) == -1 &&
	    peer_record_open(enc, elen, rec2) == -1,
	    "envelope: flipped signature bit fails");
	enc[elen - 1] ^= 0x80;
	ok(envelope_decode(enc, elen - 1, &env2) == -1,
	    "envelope: cut message refused");

	/* Signed by this key, but naming another peer. */
	peerid_parse(QMCG, &other);
	rec->id = other;
	peer_record_encode(rec, payload, sizeof(payload), &plen);
	envelope_signing_buf(ENVELOPE_DOMAIN_PEER_RECORD,
	    ENVELOPE_PTYPE_PEER_RECORD, ENVELOPE_PTYPE_LEN, payload, plen,
	    sbuf, sizeof(sbuf), &slen);
	crypto_sign_detached(sig, NULL, sbuf, slen, sk);
	env.payloadlen = plen;
	envelope_encode(&env, enc, sizeof(enc), &elen);
	ok(envelope_decode(enc, elen, &env2) == 0 &&
	    envelope_verify(&env2, ENVELOPE_DOMAIN_PEER_RECORD) == 0 &&
	    peer_record_open(enc, elen, rec2) == -1,
	    "peer_record_open: record of another peer refused");

	/* A relay reservation voucher type does not open as a record. */
	env.ptype = ENVELOPE_PTYPE_RELAY_RSVP;
	envelope_encode(&env, enc, sizeof(enc), &elen);
	ok(peer_record_open(enc, elen, rec2) == -1,
	    "peer_record_open: wrong payload type refused");

	n = unhex("0a24" "08021220" JS_PUB "2a40", enc, sizeof(enc));
	memset(enc + n, 0, 64);
	ok(envelope_decode(enc, n + 64, &env2) == 0 &&
	    envelope_verify(&env2, ENVELOPE_DOMAIN_PEER_RECORD) == -1,
	    "envelope: non-Ed25519 key refused");
	n = unhex("0a24" "08011220" JS_PUB, enc, sizeof(enc));
	ok(envelope_decode(enc, n, &env2) == -1, "envelope: no signature");
	n = unhex("2a01002a0100" "0a0100", enc, sizeof(enc));
	ok(envelope_decode(enc, n, &env2) == -1, "envelope: signature twice");
	n = unhex("0a01002801", enc, sizeof(enc));
	ok(envelope_decode(enc, n, &env2) == -1,
	    "envelope: signature as a varint");

	n = unhex("102a", exp, sizeof(exp));
	ok(peer_record_decode(exp, n, rec2) == -1, "peer record: no peer ID");
	n = unhex("0a03001201", exp, sizeof(exp));
	ok(peer_record_decode(exp, n, rec2) == -1, "peer record: bad peer ID");
	n = unhex("0a26" "0024" "08011220" JS_PUB "1a04" "0a02" "0600"
	    "1a00" "1a0a" "0a08" "047f000001060fa1", exp, sizeof(exp));
	ok(peer_record_decode(exp, n, rec2) == 0 && rec2->naddrs == 1 &&
	    rec2->nbad == 2, "peer record: bad addresses skipped");
	ok(peer_record_decode(exp, n - 1, rec2) == -1,
	    "peer record: cut message refused");
	n = unhex("0a26" "0024" "08011220" JS_PUB "1a02" "1000", exp,
	    sizeof(exp));
	ok(peer_record_decode(exp, n, rec2) == 0 && rec2->nbad == 1,
	    "peer record: AddressInfo without an address");
	n = unhex("0a26" "0024" "08011220" JS_PUB "1a02" "0801", exp,
	    sizeof(exp));
	ok(peer_record_decode(exp, n, rec2) == -1,
	    "peer record: multiaddr as a varint");
	free(rec);
	free(rec2);
}

/* Byte queues: their bounds, their errors, and the budgets they count in. */
static void
test_bq(void)
{
	struct bq_acct	 total = { 0, NULL }, conn = { 0, &total };
	struct bq	 a, b;
	uint8_t		 data[1000];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(data, 7, sizeof(data));
	a.acct = &conn;
	b.acct = &conn;
	ok(bq_append(&a, data, 300, 4096) == 0 && a.len == 300 &&
	    conn.held == a.cap && total.held == a.cap && a.cap >= 300,
	    "an append counts what the queue allocated, at both levels "
	    "(%zu, %zu)", conn.held, total.held);
	ok(bq_append(&b, data, 1000, 4096) == 0 &&
	    conn.held == a.cap + b.cap && total.held == conn.held,
	    "two queues in one budget");
	errno = 0;
	ok(bq_append(&a, data, 1000, 1200) == -1 && errno == EMSGSIZE &&
	    a.len == 300, "over its bound: -1, EMSGSIZE, nothing taken");
	errno = 0;
	ok(bq_reserve(&a, SIZE_MAX / 2, SIZE_MAX) == NULL && errno == ENOMEM &&
	    a.len == 300 && conn.held == a.cap + b.cap,
	    "no memory: NULL, ENOMEM, the count unchanged");
	bq_consume(&a, 100);
	ok(a.len == 200 && conn.held == a.cap + b.cap,
	    "a partial consume keeps the allocation");
	bq_consume(&a, 200);
	ok(a.data == NULL && a.cap == 0 && a.acct == &conn &&
	    conn.held == b.cap && total.held == b.cap,
	    "emptied: freed, uncounted, still in its budget");
	bq_free(&b);
	ok(conn.held == 0 && total.held == 0 && b.acct == &conn,
	    "freed: the budgets are back to 0");
	ok(bq_append(&b, data, 10, 4096) == 0 && conn.held == b.cap &&
	    b.cap > 0, "and the queue counts again when it grows");
	bq_free(&b);
	ok(total.held == 0, "all given back");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	test_varint();
	test_pb();
	test_maddr_vectors();
	test_maddr_parse();
	test_maddr_decode();
	test_maddr_helpers();
	test_peerid();
	test_identify();
	test_noise();
	test_envelope();
	test_bq();
	return tap_done();
}
