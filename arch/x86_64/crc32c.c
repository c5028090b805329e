/*
 * x86_64 CRC32C with the SSE4.2 crc32 instruction, eight bytes at a time.
 * The crc argument follows img_crc32c(): 0 to start, pre- and post-
 * inverted inside, so that results chain and match the software path.
 */
#include <nmmintrin.h>
#include <string.h>

#include "arch/arch.h"

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = ~crc;
	uint64_t w;

	/* align so that the 8-byte loads do not straddle cache lines */
	while (len && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

int arch_crc32c(uint32_t *crc, const void *buf, size_t len)
{
	if (!__builtin_cpu_supports("sse4.2"))
		return -1;
	*crc = crc32c_sse42(*crc, buf, len);
	return 0;
}
