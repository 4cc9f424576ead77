/*
 * base58btc (the Bitcoin alphabet), as peer IDs are printed.
 */
#include <stdint.h>
#include <string.h>

#include "base58.h"

#define B58_MAXIN	128

static const char b58[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Returns 0, or -1 when the input is too long or the output too small. */
int
base58_encode(const uint8_t *in, size_t inlen, char *out, size_t outsz)
{
	uint8_t	 digits[B58_MAXIN * 138 / 100 + 1];
	size_t	 zeros = 0, ndig = 0, i, j;
	unsigned int carry;

	if (inlen > B58_MAXIN)
		return -1;
	while (zeros < inlen && in[zeros] == 0)
		zeros++;
	for (i = zeros; i < inlen; i++) {
		carry = in[i];
		for (j = 0; j < ndig; j++) {
			carry += (unsigned int)digits[j] << 8;
			digits[j] = carry % 58;
			carry /= 58;
		}
		while (carry > 0) {
			digits[ndig++] = carry % 58;
			carry /= 58;
		}
	}
	if (zeros + ndig + 1 > outsz)
		return -1;
	for (i = 0; i < zeros; i++)
		out[i] = '1';
	for (j = 0; j < ndig; j++)
		out[i + j] = b58[digits[ndig - 1 - j]];
	out[i + j] = '\0';
	return 0;
}

/* Returns 0 with *outlen set, or -1 on a bad character or overflow. */
int
base58_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen)
{
	uint8_t		 bytes[B58_MAXIN];
	const char	*p;
	size_t		 zeros = 0, nb = 0, i, inlen = strlen(in);
	unsigned int	 carry;

	if (inlen == 0 || inlen > B58_MAXIN * 138 / 100 + 1)
		return -1;
	while (zeros < inlen && in[zeros] == '1')
		zeros++;
	for (i = zeros; i < inlen; i++) {
		if (in[i] == '\0' || (p = strchr(b58, in[i])) == NULL)
			return -1;
		carry = (unsigned int)(p - b58);
		for (size_t j = 0; j < nb; j++) {
			carry += (unsigned int)bytes[j] * 58;
			bytes[j] = carry & 0xff;
			carry >>= 8;
		}
		while (carry > 0) {
			if (nb == sizeof(bytes))
				return -1;
			bytes[nb++] = carry & 0xff;
			carry >>= 8;
		}
	}
	if (zeros + nb > outsz)
		return -1;
	memset(out, 0, zeros);
	for (i = 0; i < nb; i++)
		out[zeros + i] = bytes[nb - 1 - i];
	*outlen = zeros + nb;
	return 0;
}
