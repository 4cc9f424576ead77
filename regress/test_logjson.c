/*
 * log.format json: an event line becomes one JSON object with its fields
 * as members, prose a message; whatever the text (quotes, backslashes,
 * control bytes, bytes that are not UTF-8) the line is valid JSON, as a
 * strict checker written here from RFC 8259 says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "tap.h"

/* RFC 8259 with RFC 3629 UTF-8: the value at *p, -1 if invalid. */
static int	jv_value(const unsigned char **);

static void
jv_ws(const unsigned char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int
jv_utf8(const unsigned char **p)
{
	const unsigned char	*s = *p;
	uint32_t		 cp;
	int			 n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, cp = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*p += n + 1;
	return 0;
}

static int
jv_string(const unsigned char **p)
{
	int	 i;

	if (*(*p)++ != '"')
		return -1;
	for (;;) {
		if (**p == '"') {
			(*p)++;
			return 0;
		}
		if (**p < 0x20)
			return -1;	/* the NUL too: the text ended */
		if (**p == '\\') {
			(*p)++;
			if (**p == 'u') {
				for (i = 1; i <= 4; i++)
					if (strchr("0123456789abcdefABCDEF",
					    (*p)[i]) == NULL || (*p)[i] == 0)
						return -1;
				*p += 5;
			} else if (**p != 0 && strchr("\"\\/bfnrt", **p))
				(*p)++;
			else
				return -1;
		} else if (**p < 0x80)
			(*p)++;
		else if (jv_utf8(p) == -1)
			return -1;
	}
}

static int
jv_number(const unsigned char **p)
{
	const unsigned char	*s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return -1;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return 0;
}

static int
jv_object(const unsigned char **p)
{
	(*p)++;
	jv_ws(p);
	if (**p == '}') {
		(*p)++;
		return 0;
	}
	for (;;) {
		jv_ws(p);
		if (jv_string(p) == -1)
			return -1;
		jv_ws(p);
		if (*(*p)++ != ':' || jv_value(p) == -1)
			return -1;
		jv_ws(p);
		if (**p == '}') {
			(*p)++;
			return 0;
		}
		if (*(*p)++ != ',')
			return -1;
	}
}

static int
jv_value(const unsigned char **p)
{
	jv_ws(p);
	if (**p == '{')
		return jv_object(p);
	if (**p == '"')
		return jv_string(p);
	return jv_number(p);
}

/* line is one JSON object and nothing else. */
static int
json_valid(const char *line)
{
	const unsigned char	*p = (const unsigned char *)line;

	if (*p != '{' || jv_value(&p) == -1)
		return 0;
	return *p == '\0';
}

static char	 line[8192];

static const char *
render(int pri, const char *msg)
{
	log_json_line(line, sizeof(line), pri, msg, -1);
	return line;
}

/* The line is valid and holds want (written by hand from RFC 8259). */
static void
check(const char *msg, const char *want, const char *what)
{
	render(LOG_INFO, msg);
	ok(json_valid(line) && strstr(line, want) != NULL,
	    "%s: %s", what, line);
}

/* The timestamp is RFC 3339 in UTC with milliseconds. */
static int
timestamp_shape(const char *l)
{
	const char	*shape = "{\"timestamp\":\"dddd-dd-ddTdd:dd:dd.dddZ\"";
	size_t		 i;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? (l[i] < '0' || l[i] > '9') :
		    l[i] != shape[i])
			return 0;
	return 1;
}

static void
fuzz(void)
{
	char		 msg[1024];
	const char	*pieces[] = { "a_b", " ", "=", "\"", "\\", "x=1",
	    "peer=", "reason=\"", "\" ", "\xff", "\xc3\xa9", "\xe2\x82",
	    "\x01", "\n", "0", "-", ".", "level=", "\xf4\x90\x80\x80", "é" };
	unsigned int	 seed = 12, bad = 0, i, k, n;
	size_t		 len;

	for (i = 0; i < 20000; i++) {
		len = 0;
		n = 1 + rand_r(&seed) % 24;
		for (k = 0; k < n; k++) {
			if (rand_r(&seed) % 4 == 0)
				msg[len++] = 1 + rand_r(&seed) % 255;
			else
				len += strlcpy(msg + len, pieces[rand_r(&seed) %
				    (sizeof(pieces) / sizeof(pieces[0]))],
				    sizeof(msg) - len);
			if (len >= sizeof(msg) - 8)
				break;
		}
		msg[len] = '\0';
		render(LOG_INFO, msg);
		if (!json_valid(line) || strchr(line, '\n') != NULL) {
			if (bad++ == 0)
				printf("# invalid for %s: %s\n", msg, line);
		}
	}
	ok(bad == 0, "20000 random lines of hostile pieces: %u invalid", bad);
	memset(msg, '"', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	memcpy(msg, "a_b x=\"", 7);
	render(LOG_INFO, msg);
	ok(json_valid(line), "a line of 1023 quotes stays valid (%zu bytes)",
	    strlen(line));
	memset(msg, 0x01, sizeof(msg) - 1);
	render(LOG_INFO, msg);
	ok(json_valid(line), "a line of 1023 control bytes stays valid "
	    "(%zu bytes)", strlen(line));
}

int
main(void)
{
	char	 q[64];

	log_init(1, LOG_DAEMON);
	log_procinit("relayd");
	log_setformat(LOG_FORMAT_JSON);
	ok(!json_valid("{\"a\":\"\xff\"}") && !json_valid("{\"a\":\"\x01\"}") &&
	    !json_valid("{\"a\":\"\\x\"}") && !json_valid("{\"a\":1}x") &&
	    !json_valid("{\"a\":\"\xed\xa0\x80\"}") &&
	    json_valid("{\"a\":\"\xc3\xa9\\u00e9\",\"b\":-1.5}"),
	    "the checker rejects what RFC 8259 does");

	render(LOG_INFO, "reservation_created peer=12D3KooWAbc ip=127.0.0.1 "
	    "ttl=3600");
	ok(json_valid(line) && timestamp_shape(line),
	    "timestamp first, RFC 3339 UTC: %s", line);
	ok(strstr(line, "\"level\":\"info\",\"process\":\"relayd\","
	    "\"event\":\"reservation_created\",\"peerId\":\"12D3KooWAbc\","
	    "\"ip\":\"127.0.0.1\",\"ttl\":3600}") != NULL,
	    "the guide's shape: event, peerId, ttl as a number: %s", line);
	render(LOG_WARNING, "partition_detected connections=0 min=1");
	ok(strstr(line, "\"level\":\"warn\"") != NULL &&
	    strstr(line, "\"connections\":0,\"min\":1}") != NULL,
	    "warning level and numbers: %s", line);

	check("circuit_closed id=4 bytes_src_dst=18446744073709551615 "
	    "seconds=0", "\"id\":4,\"bytesSrcDst\":18446744073709551615,"
	    "\"seconds\":0}", "snake_case keys in camelCase, 64-bit numbers");
	check("x_y a=007 b=-5 c=1.5 d=1e5 e=- f=1. g=0x10 h=-0",
	    "\"a\":\"007\",\"b\":-5,\"c\":1.5,\"d\":\"1e5\",\"e\":\"-\","
	    "\"f\":\"1.\",\"g\":\"0x10\",\"h\":-0}",
	    "what JSON calls a number is one, the rest strings");
	check("x_y a=\"42\"", "\"a\":\"42\"}", "a quoted number stays a string");
	check("connection_closed conn=3 peer= reason=\"\"",
	    "\"conn\":3,\"peerId\":\"\",\"reason\":\"\"}", "empty values");
	check("connection_closed conn=3 reason=\"peer said \\ \"hi\"!\"",
	    "\"reason\":\"peer said \\\\ \\\"hi\\\"!\"}",
	    "a quoted value ends at the quote before a space or the end: "
	    "backslash and inner quotes escaped");
	check("x_y reason=\"a\x01\x1f\tb\x7f\"",
	    "\"reason\":\"a\\u0001\\u001f\\u0009b\x7f\"}",
	    "control bytes as \\u00XX");
	check("protocol_unknown proto=/x\xff\xc0\xaf\xed\xa0\x80 agent=\xc3\xa9\xe2"
	    "\x82\xac\xf0\x9f\x98\x80",
	    "\"proto\":\"/x\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\","
	    "\"agent\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	    "bytes that are not UTF-8 (overlong, surrogate) become U+FFFD, "
	    "valid UTF-8 stays");
	check("configuration reloaded from /etc/peerd.conf",
	    "\"message\":\"configuration reloaded from /etc/peerd.conf\"}",
	    "prose keeps message");
	check("connection_closed conn=3 junk",
	    "\"message\":\"connection_closed conn=3 junk\"}",
	    "a word that is not key=value makes the line prose");
	check("x_y reason=\"open", "\"message\":\"x_y reason=\\\"open\"}",
	    "an unterminated quote makes the line prose");
	check("x_y level=error", "\"message\":\"x_y level=error\"}",
	    "a field that would hide a member of the line makes it prose");
	check("x_y a=1 a=2", "\"message\":\"x_y a=1 a=2\"}",
	    "a field twice makes the line prose");
	check("x_y  a=1", "\"message\":", "two spaces make the line prose");
	check("Xy_z a=1", "\"message\":", "an event name is lower case");
	check("peer_banned", "\"event\":\"peer_banned\"}",
	    "an event without fields");

	log_quote("a\"b\n\x01" "c", q, sizeof(q));
	ok(strcmp(q, "a'b??c") == 0, "log_quote: quotes and control bytes "
	    "cannot end or break a quoted value: %s", q);
	log_quote("0123456789", q, 5);
	ok(strcmp(q, "0123") == 0, "log_quote cuts to its buffer: %s", q);

	fuzz();
	return tap_done();
}
