/*
 * peerctl subscribe: each message peerd delivers on the topic, one line
 * each (a JSON object a line with -j), written as it comes.
 */
#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define LIBBSD_OPENBSD_VIS	/* strvisx's one signature, no warning */
#include <vis.h>

#include "imsg.h"
#include "json.h"
#include "msg.h"
#include "subscribe.h"

/* Text: no NUL and no control character but tab and newline. */
static int
printable(const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') ||
		    p[i] == 0x7f)
			return 0;
	return 1;
}

static char *
hex(const uint8_t *p, size_t len)
{
	char	*s;
	size_t	 i;

	if ((s = malloc(2 * len + 1)) == NULL)
		err(1, NULL);
	for (i = 0; i < len; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * len] = '\0';
	return s;
}

static unsigned long long
seqno(const struct ctl_gsmsg *m)
{
	unsigned long long	 v = 0;
	uint32_t		 i;

	for (i = 0; i < m->seqnolen && i < sizeof(m->seqno); i++)
		v = v << 8 | m->seqno[i];
	return v;
}

static void
print_json(const struct ctl_gsmsg *m, const char *topic, const uint8_t *d,
    size_t len, int text)
{
	char	*id = hex(m->id, m->idlen), *s;

	printf("{\"topic\":");
	json_fputs(topic, stdout);
	printf(",\"from\":");
	json_fputs(m->from, stdout);
	printf(",\"id\":\"%s\",\"seqno\":\"%llu\",", id, seqno(m));
	if (text) {
		if ((s = strndup((const char *)d, len)) == NULL)
			err(1, NULL);
		printf("\"data\":");
		json_fputs(s, stdout);
	} else {
		s = hex(d, len);
		printf("\"dataHex\":\"%s\"", s);
	}
	printf(",\"size\":%u,\"truncated\":%s,\"lost\":%llu}\n", m->datalen,
	    len < m->datalen ? "true" : "false",
	    (unsigned long long)m->lost);
	free(s);
	free(id);
}

static void
print_text(const struct ctl_gsmsg *m, const uint8_t *d, size_t len, int text)
{
	char	*id = hex(m->id, m->idlen), *s;

	if (text) {
		if ((s = malloc(4 * len + 1)) == NULL)
			err(1, NULL);
		strvisx(s, (const char *)d, len, VIS_CSTYLE | VIS_OCTAL |
		    VIS_NL | VIS_TAB);
	} else
		s = hex(d, len);
	printf("from %s id %s seqno %llu%s: %s%s\n", m->from, id, seqno(m),
	    text ? "" : " (hex)", s, len < m->datalen ? "..." : "");
	if (m->lost > 0)
		printf("(%llu messages lost: peerctl did not read in time)\n",
		    (unsigned long long)m->lost);
	free(s);
	free(id);
}

/* One IMSG_CTL_GSMSG; -1 if it is malformed. */
int
gsmsg_print(struct imsg *imsg, const char *topic, int json)
{
	struct ctl_gsmsg	 m;
	const uint8_t		*d;
	size_t			 len = imsg_get_len(imsg);
	int			 text;

	if (len < sizeof(m))
		return -1;
	memcpy(&m, imsg->data, sizeof(m));
	if (memchr(m.from, '\0', sizeof(m.from)) == NULL ||
	    m.idlen > sizeof(m.id) || len - sizeof(m) > m.datalen)
		return -1;
	d = (const uint8_t *)imsg->data + sizeof(m);
	len -= sizeof(m);
	text = printable(d, len);
	if (json)
		print_json(&m, topic, d, len, text);
	else
		print_text(&m, d, len, text);
	fflush(stdout);
	return 0;
}
