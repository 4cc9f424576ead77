#ifndef PEERCTL_TABLE_H
#define PEERCTL_TABLE_H

#define TABLE_MAXCOLS	8

/*
 * A text table: rows are kept until table_print, which pads every
 * column but the last to its widest cell, so that each column starts at
 * the same offset as its header in every row.
 */
void	table_add(int, ...);
void	table_print(void);

#endif /* PEERCTL_TABLE_H */
