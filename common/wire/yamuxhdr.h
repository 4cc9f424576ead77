/*
 * The yamux frame header (hashicorp/yamux spec.md): version, type,
 * flags, stream ID and length, 12 bytes in network order.  The engine's
 * sessions and bench/peerbench both read and write it here.
 */
#ifndef PEERD_YAMUXHDR_H
#define PEERD_YAMUXHDR_H

#include <stdint.h>

#define YAMUX_HDRLEN	12

#define YAMUX_T_DATA	0
#define YAMUX_T_WINDOW	1
#define YAMUX_T_PING	2
#define YAMUX_T_GOAWAY	3

#define YAMUX_F_SYN	0x1
#define YAMUX_F_ACK	0x2
#define YAMUX_F_FIN	0x4
#define YAMUX_F_RST	0x8

struct yamux_hdr {
	uint8_t		 version;
	uint8_t		 type;
	uint16_t	 flags;
	uint32_t	 id;
	uint32_t	 len;
};

void	 yamux_hdr_encode(uint8_t [YAMUX_HDRLEN], int, int, uint32_t,
	    uint32_t);
int	 yamux_hdr_decode(const uint8_t [YAMUX_HDRLEN], struct yamux_hdr *);

#endif /* PEERD_YAMUXHDR_H */
