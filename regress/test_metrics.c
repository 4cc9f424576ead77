/*
 * The metrics table and its rendering (common/metrics.c): the text
 * format's HELP and TYPE lines, label values escaped, values written,
 * rows from the wrong process or with bad labels refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "metrics.h"
#include "tap.h"

/* The rendering as a NUL-terminated string, or NULL when it failed. */
static char *
render(const char *ns, struct metric_set *set)
{
	const struct metric_set	*sets[2] = { set, NULL };
	struct bq		 out;
	char			*s;

	memset(&out, 0, sizeof(out));
	if (metrics_format(&out, ns, sets, 2) == -1) {
		bq_free(&out);
		return NULL;
	}
	if ((s = calloc(1, out.len + 1)) == NULL)
		abort();
	memcpy(s, bq_ptr(&out), out.len);
	bq_free(&out);
	return s;
}

static void
test_table(void)
{
	const struct metric_def	*d;
	uint32_t		 id;
	size_t			 len;
	int			 bad = 0;

	for (id = 0; id < METRIC_MAX; id++) {
		d = metric_def(id);
		len = strlen(d->name);
		if (!metric_name_valid(d->name) || d->help[0] == '\0' ||
		    strchr(d->help, '\n') != NULL || d->from == 0 ||
		    (d->type == MT_COUNTER) != (len > 6 &&
		    strcmp(d->name + len - 6, "_total") == 0)) {
			printf("# bad metric %s\n", d->name);
			bad++;
		}
	}
	ok(bad == 0, "every metric: a name, one line of help, a reporter; "
	    "counters and only they end in _total");
	ok(metric_def(METRIC_MAX) == NULL, "no metric past the table");
}

static void
test_render(void)
{
	static struct metric_set	 set;
	char				*s, want[256];

	set.n = 0;
	metric_add(&set, METRIC_RESERVATIONS, 3, NULL, NULL, NULL, NULL);
	metric_add(&set, METRIC_ERRORS, 42, "kind", "a\\b\"c\nd", NULL,
	    NULL);
	metric_add(&set, METRIC_CONNECTIONS, 7, "direction", "inbound",
	    "transport", "tcp");
	metric_add(&set, METRIC_PROC_CPU, 0.25, "process", "engine", NULL,
	    NULL);
	metric_add(&set, METRIC_STREAMS, NAN, NULL, NULL, NULL, NULL);
	s = render("bsv_p2p", &set);
	ok(s != NULL, "a set renders");
	if (s == NULL)
		return;
	ok(strstr(s, "# HELP bsv_p2p_reservations Active relay "
	    "reservations.\n# TYPE bsv_p2p_reservations gauge\n"
	    "bsv_p2p_reservations 3\n") != NULL,
	    "HELP, TYPE and a sample without labels");
	ok(strstr(s, "# TYPE bsv_p2p_errors_total counter\n"
	    "bsv_p2p_errors_total{kind=\"a\\\\b\\\"c\\nd\"} 42\n") != NULL,
	    "a label value with a backslash, a quote and a line feed, "
	    "escaped");
	ok(strstr(s, "bsv_p2p_connections{direction=\"inbound\","
	    "transport=\"tcp\"} 7\n") != NULL, "two labels");
	ok(strstr(s, "bsv_p2p_process_cpu_seconds_total{process=\"engine\"} "
	    "0.250000\n") != NULL, "a fraction");
	ok(strstr(s, "bsv_p2p_streams NaN\n") != NULL, "NaN");
	snprintf(want, sizeof(want), "# HELP bsv_p2p_%s ",
	    metric_def(METRIC_STORE_COMMITS)->name);
	ok(strstr(s, want) != NULL, "a metric without samples has its HELP");
	ok(strstr(s, "peerd_") == NULL, "every name under the namespace");
	free(s);
	ok(render("9bad", &set) == NULL && render("", &set) == NULL &&
	    render("a-b", &set) == NULL, "a namespace that is not a name "
	    "is refused");
}

static void
test_valid(void)
{
	struct metric_row	 r;

	metric_row_set(&r, METRIC_RESERVATIONS, 1, NULL, NULL, NULL, NULL);
	ok(metric_row_valid(&r, P_RELAYD), "relayd reports reservations");
	ok(!metric_row_valid(&r, P_KEYD), "keyd does not");
	metric_row_set(&r, METRIC_LOG_SUPPRESSED, 1, "process", "keyd",
	    NULL, NULL);
	ok(metric_row_valid(&r, P_KEYD) && metric_row_valid(&r, P_PARENT),
	    "every process reports its suppressed lines");
	r.id = METRIC_MAX;
	ok(!metric_row_valid(&r, P_EVERY), "an unknown metric is refused");
	metric_row_set(&r, METRIC_ERRORS, 1, "bad name", "x", NULL, NULL);
	ok(!metric_row_valid(&r, P_STORED), "a label name with a space is "
	    "refused");
	metric_row_set(&r, METRIC_ERRORS, 1, "kind", "x", NULL, NULL);
	memset(r.lvalue[1], 'x', sizeof(r.lvalue[1]));
	ok(!metric_row_valid(&r, P_STORED), "a label value without its NUL "
	    "is refused");
}

int
main(void)
{
	test_table();
	test_render();
	test_valid();
	return tap_done();
}
