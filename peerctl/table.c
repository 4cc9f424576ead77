/*
 * Text tables of peerctl, with column widths taken from the data.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct row {
	int	 ncols;
	char	*cell[TABLE_MAXCOLS];
};

static struct row	*rows;
static size_t		 nrows, maxrows;

/* Add a row of ncols strings; the first row added is the header. */
void
table_add(int ncols, ...)
{
	va_list		 ap;
	struct row	*r;
	int		 i;

	if (ncols < 1 || ncols > TABLE_MAXCOLS)
		errx(1, "table of %d columns", ncols);
	if (nrows == maxrows) {
		maxrows = maxrows ? maxrows * 2 : 64;
		if ((rows = reallocarray(rows, maxrows, sizeof(*rows))) ==
		    NULL)
			err(1, NULL);
	}
	r = &rows[nrows++];
	r->ncols = ncols;
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		if ((r->cell[i] = strdup(va_arg(ap, const char *))) == NULL)
			err(1, NULL);
	va_end(ap);
}

static void
print_row(const struct row *r, const size_t *width)
{
	int	 i, last = r->ncols - 1;

	/* no trailing blanks after the last cell that says something */
	while (last > 0 && r->cell[last][0] == '\0')
		last--;
	for (i = 0; i < last; i++)
		printf("%-*s ", (int)width[i], r->cell[i]);
	printf("%s\n", r->cell[last]);
}

void
table_print(void)
{
	size_t	 width[TABLE_MAXCOLS], i, len;
	int	 j;

	memset(width, 0, sizeof(width));
	for (i = 0; i < nrows; i++)
		for (j = 0; j < rows[i].ncols; j++)
			if ((len = strlen(rows[i].cell[j])) > width[j])
				width[j] = len;
	for (i = 0; i < nrows; i++) {
		print_row(&rows[i], width);
		for (j = 0; j < rows[i].ncols; j++)
			free(rows[i].cell[j]);
	}
	nrows = 0;
}
