#ifndef PEERD_PB_H
#define PEERD_PB_H

#include <stddef.h>
#include <stdint.h>

#define PB_VARINT	0
#define PB_I64		1
#define PB_LEN		2
#define PB_I32		5

#define PB_MAXFIELD	0x1fffffff
/* room a submessage's tag and length take while its body is written */
#define PBW_NEST_HDR	20		/* 2 * UVARINT_MAXLEN */

/* Writer over a caller's buffer; a write that does not fit sets overflow. */
struct pbw {
	uint8_t		*buf;
	size_t		 len, cap;
	int		 overflow;
};

struct pbr {
	const uint8_t	*p;
	size_t		 len, off;
};

/* One field: v for PB_VARINT, PB_I64 and PB_I32, data/len for all. */
struct pbf {
	uint32_t	 field;
	int		 wire;
	uint64_t	 v;
	const uint8_t	*data;
	size_t		 len;
};

void	 pbw_init(struct pbw *, uint8_t *, size_t);
void	 pbw_varint(struct pbw *, uint32_t, uint64_t);
void	 pbw_bytes(struct pbw *, uint32_t, const void *, size_t);
void	 pbw_string(struct pbw *, uint32_t, const char *);
size_t	 pbw_nest_begin(struct pbw *);
void	 pbw_nest_end(struct pbw *, uint32_t, size_t);

void	 pbr_init(struct pbr *, const uint8_t *, size_t);
int	 pbr_next(struct pbr *, struct pbf *);

int	 pb_utf8_valid(const uint8_t *, size_t);

#endif /* PEERD_PB_H */
