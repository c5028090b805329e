/*
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * every record. The image format knows no ISA: a program that wants the
 * hardware instruction hands it over (img_crc32c_accel(arch_crc32c));
 * otherwise, or when the CPU lacks it, the software path is slicing-by-8
 * (Intel's method: eight table lookups per eight input bytes). crc starts
 * at 0 and is inverted on entry and exit, so
 * img_crc32c(img_crc32c(0, a), b) == img_crc32c(0, a || b).
 */
#include <pthread.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

#define CRC32C_POLY	0x82F63B78u

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int (*crc_accel)(uint32_t *crc, const void *buf, size_t len);

static void crc_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (c & 1 ? CRC32C_POLY : 0);
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_tab[j][i] = (crc_tab[j - 1][i] >> 8) ^
					crc_tab[0][crc_tab[j - 1][i] & 0xff];
}

static uint32_t crc_byte(uint32_t c, uint8_t b)
{
	return (c >> 8) ^ crc_tab[0][(c ^ b) & 0xff];
}

static uint32_t crc_word(uint32_t c, const uint8_t *p)
{
	uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

	return crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
	       crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
	       crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^
	       crc_tab[1][p[6]] ^ crc_tab[0][p[7]];
}

uint32_t img_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_init);
	while (len >= 8) {
		c = crc_word(c, p);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_byte(c, *p++);
	return ~c;
}

void img_crc32c_accel(int (*fn)(uint32_t *, const void *, size_t))
{
	crc_accel = fn;
}

uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* a copy: a hook that fails must not leave crc half-updated */
	uint32_t c = crc;

	if (crc_accel && crc_accel(&c, buf, len) == 0)
		return c;
	return img_crc32c_sw(crc, buf, len);
}
