/*
 * show metrics: the engine's Prometheus text exposition, gathered from
 * its chunks and printed as is, or with -j the same samples as JSON:
 * {"metrics":[{"name":..., "labels":{...}, "value":...}, ...]}.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "metrics_out.h"

#define METRICS_MAX	(16 * 1024 * 1024)	/* bytes of exposition */

static char	*text;
static size_t	 textlen;
static int	 as_json;
static char	 failed[CTL_MSGLEN];	/* why peerd could not answer */
static struct output metrics_output;

void
metrics_chunk(const void *data, size_t len)
{
	char	*p;

	if (textlen + len > METRICS_MAX)
		errx(1, "metrics from peerd over %d bytes", METRICS_MAX);
	if ((p = realloc(text, textlen + len + 1)) == NULL)
		err(1, NULL);
	text = p;
	memcpy(text + textlen, data, len);
	textlen += len;
	text[textlen] = '\0';
}

static void
metrics_head(const char *list)
{
	textlen = 0;
	failed[0] = '\0';
}

static void
metrics_result(const struct ctl_result *r)
{
	if (r->ok)
		return;
	strlcpy(failed, r->msg, sizeof(failed));
	if (!as_json)
		fprintf(stderr, "peerctl: %s\n", r->msg);
}

/* A failure with -j is still one JSON object, as for the other commands. */
static void
metrics_failed(const char *why)
{
	printf("{\"ok\":false,\"message\":");
	json_fputs(why, stdout);
	printf("}\n");
}

/* The answer was cut short: with -j say so; the text is not printed. */
static void
metrics_abort(const char *why)
{
	if (as_json)
		metrics_failed(why);
	free(text);
	text = NULL;
}

/* A quoted label value at *pp, unescaped into out; -1 when malformed. */
static int
metrics_lvalue(const char **pp, char *out, size_t len)
{
	const char	*p = *pp;
	size_t		 o = 0;

	if (*p++ != '"')
		return -1;
	for (; *p != '"'; p++) {
		if (*p == '\0' || *p == '\n' || o + 1 >= len)
			return -1;
		if (*p == '\\') {
			p++;
			if (*p == 'n')
				out[o++] = '\n';
			else if (*p == '\\' || *p == '"')
				out[o++] = *p;
			else
				return -1;
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	*pp = p + 1;
	return 0;
}

/* One sample line as a JSON object; -1 when it does not parse. */
static int
metrics_json_line(const char *line, int first)
{
	char		 name[256], val[256];
	const char	*p = line;
	size_t		 n;
	int		 nl = 0;

	n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_:");
	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	printf("%s{\"name\":", first ? "" : ",");
	json_fputs(name, stdout);
	printf(",\"labels\":{");
	if (*p == '{') {
		p++;
		while (*p != '}') {
			n = strcspn(p, "=");
			if (n == 0 || n >= sizeof(name) || p[n] == '\0')
				return -1;
			memcpy(name, p, n);
			name[n] = '\0';
			p += n + 1;
			if (metrics_lvalue(&p, val, sizeof(val)) == -1)
				return -1;
			printf("%s", nl++ ? "," : "");
			json_fputs(name, stdout);
			putchar(':');
			json_fputs(val, stdout);
			if (*p == ',')
				p++;
		}
		p++;
	}
	if (*p++ != ' ')
		return -1;
	n = strcspn(p, " ");
	if (n == 0 || n >= sizeof(val))
		return -1;
	memcpy(val, p, n);
	val[n] = '\0';
	/* JSON has no NaN or infinities */
	if (strcmp(val, "NaN") == 0 || strcmp(val, "+Inf") == 0 ||
	    strcmp(val, "-Inf") == 0)
		printf("},\"value\":null}");
	else if (strspn(val, "0123456789.eE+-") == n)
		printf("},\"value\":%s}", val);
	else
		return -1;
	return 0;
}

static void
metrics_json(void)
{
	char	*line, *next;
	int	 first = 1;

	printf("{\"metrics\":[");
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (metrics_json_line(line, first) == -1)
			errx(1, "malformed metrics line from peerd: %.80s",
			    line);
		first = 0;
	}
	printf("]}\n");
}

static void
metrics_tail(void)
{
	if (failed[0] != '\0' && as_json)
		metrics_failed(failed);
	else if (text != NULL && as_json)
		metrics_json();
	else if (text != NULL)
		fwrite(text, 1, textlen, stdout);
	else if (as_json)
		printf("{\"metrics\":[]}\n");
	free(text);
	text = NULL;
}

/* The output of -j or of text, with the parts of show metrics. */
const struct output *
metrics_output_for(int json)
{
	as_json = json;
	metrics_output = json ? json_output : show_output;
	metrics_output.head = metrics_head;
	metrics_output.result = metrics_result;
	metrics_output.tail = metrics_tail;
	metrics_output.abort = metrics_abort;
	return &metrics_output;
}
