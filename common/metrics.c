/*
 * The table of metrics (metrics.h), the check of the rows a process
 * sends, and their rendering in the Prometheus text exposition format
 * (0.0.4): a # HELP and a # TYPE line for each metric, then its samples,
 * label values escaped.  Calls wire/buf.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "metrics.h"

#define METRIC_LINEMAX	512

static int	 metric_cat(char *, size_t, int *, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));

static const struct metric_def defs[METRIC_MAX] = {
#define M(id, n, t, f, h)	[METRIC_##id] = { n, t, f, h },
	METRIC_TABLE
#undef M
};

const struct metric_def *
metric_def(uint32_t id)
{
	return id < METRIC_MAX ? &defs[id] : NULL;
}

/* [a-zA-Z_][a-zA-Z0-9_]*: a namespace, a label name. */
int
metric_name_valid(const char *s)
{
	size_t	 i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

void
metric_row_set(struct metric_row *r, uint32_t id, double v,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->value = v;
	if (k1 != NULL) {
		strlcpy(r->lname[0], k1, sizeof(r->lname[0]));
		strlcpy(r->lvalue[0], v1, sizeof(r->lvalue[0]));
	}
	if (k2 != NULL) {
		strlcpy(r->lname[1], k2, sizeof(r->lname[1]));
		strlcpy(r->lvalue[1], v2, sizeof(r->lvalue[1]));
	}
}

/* A row more, when there is room: the table bounds what a process has. */
void
metric_add(struct metric_set *set, uint32_t id, double v,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	if (set->n < METRIC_PROC_ROWS)
		metric_row_set(&set->rows[set->n++], id, v, k1, v1, k2, v2);
}

/* A row from process from: a metric it reports, labels that are names. */
int
metric_row_valid(const struct metric_row *r, uint32_t from)
{
	size_t	 i;

	if (r->id >= METRIC_MAX || !(defs[r->id].from & from))
		return 0;
	for (i = 0; i < METRIC_LABELS; i++) {
		if (memchr(r->lname[i], '\0', METRIC_LNAMELEN) == NULL ||
		    memchr(r->lvalue[i], '\0', METRIC_LVALUELEN) == NULL)
			return 0;
		if (r->lname[i][0] != '\0' && !metric_name_valid(r->lname[i]))
			return 0;
	}
	return 1;
}

/* A label value: backslash, double quote and line feed escaped. */
static size_t
metric_escape(char *out, size_t len, const char *s)
{
	size_t	 o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *s;
	}
	out[o] = '\0';
	return o;
}

static void
metric_value(char *out, size_t len, double v)
{
	if (isnan(v))
		strlcpy(out, "NaN", len);
	else if (isinf(v))
		strlcpy(out, v > 0 ? "+Inf" : "-Inf", len);
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
	    v == (double)(long long)v)
		snprintf(out, len, "%.0f", v);
	else
		snprintf(out, len, "%.6f", v);
}

/* Appends to line at *n what fmt gives; -1 when it does not fit. */
static int
metric_cat(char *line, size_t len, int *n, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = vsnprintf(line + *n, len - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= len - *n)
		return -1;
	*n += r;
	return 0;
}

static int
metric_sample(struct bq *out, const char *ns, const struct metric_def *d,
    const struct metric_row *r)
{
	char	 line[METRIC_LINEMAX], esc[2 * METRIC_LVALUELEN + 1];
	char	 val[64];
	size_t	 i;
	int	 n = 0, first = 1;

	if (metric_cat(line, sizeof(line), &n, "%s_%s", ns, d->name) == -1)
		return -1;
	for (i = 0; i < METRIC_LABELS; i++) {
		if (r->lname[i][0] == '\0')
			continue;
		metric_escape(esc, sizeof(esc), r->lvalue[i]);
		if (metric_cat(line, sizeof(line), &n, "%s%s=\"%s\"",
		    first ? "{" : ",", r->lname[i], esc) == -1)
			return -1;
		first = 0;
	}
	metric_value(val, sizeof(val), r->value);
	if (metric_cat(line, sizeof(line), &n, "%s %s\n", first ? "" : "}",
	    val) == -1)
		return -1;
	return bq_append(out, line, n, SIZE_MAX);
}

/*
 * Every metric of the table that has a sample, in its order, with the
 * samples of each process set given.
 */
int
metrics_format(struct bq *out, const char *ns,
    const struct metric_set *const *sets, size_t nsets)
{
	const struct metric_def	*d;
	char			 head[METRIC_LINEMAX];
	size_t			 s, i;
	uint32_t		 id;
	int			 n;

	if (!metric_name_valid(ns) || strlen(ns) >= METRIC_NSLEN)
		return -1;
	for (id = 0; id < METRIC_MAX; id++) {
		d = &defs[id];
		n = snprintf(head, sizeof(head), "# HELP %s_%s %s\n"
		    "# TYPE %s_%s %s\n", ns, d->name, d->help, ns, d->name,
		    d->type == MT_COUNTER ? "counter" : "gauge");
		if (n < 0 || (size_t)n >= sizeof(head) ||
		    bq_append(out, head, n, SIZE_MAX) == -1)
			return -1;
		for (s = 0; s < nsets; s++) {
			if (sets[s] == NULL)
				continue;
			for (i = 0; i < sets[s]->n; i++)
				if (sets[s]->rows[i].id == id &&
				    metric_sample(out, ns, d,
				    &sets[s]->rows[i]) == -1)
					return -1;
		}
	}
	return 0;
}
