/*
 * fuzz_image: libFuzzer entry for the image reader. Any input must be
 * either accepted or refused cleanly: no crash, leak or undefined
 * behaviour. Logging is silenced (level below LOG_ERR) to keep it fast.
 *
 * Mutated bytes almost always break a CRC, which would stop the reader
 * long before the field decoders. So each input is read twice: as it is,
 * and with every CRC (header, records, trailer index and chain) recomputed
 * the way a writer would have, which lets mutations reach the decoders.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "image/image.h"
#include "image/image-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fix_trailer(uint8_t *b, uint64_t off, uint64_t len,
			const uint32_t *crcs, const uint64_t (*ent)[3],
			uint64_t n)
{
	uint8_t *p = b + off + IMG_REC_HDR_SIZE, c[4];
	uint32_t chain = 0;
	uint64_t i;

	if (len != IMG_TRAILER_SIZE(n))
		return;
	put_le64(p, n);
	for (i = 0, p += 8; i < n; i++, p += IMG_TRAILER_ENTRY) {
		put_le32(p, (uint32_t)ent[i][0]);
		put_le32(p + 4, crcs[i]);
		put_le64(p + 8, ent[i][1]);
		put_le64(p + 16, ent[i][2]);
		put_le32(c, crcs[i]);
		chain = img_crc32c(chain, c, sizeof(c));
	}
	put_le32(p, chain);
}

static void fix_crcs(uint8_t *b, size_t size)
{
	uint64_t off = IMG_HEADER_SIZE, len, n = 0, max = size / 20 + 1;
	uint64_t (*ent)[3] = calloc(max, sizeof(*ent));
	uint32_t *crcs = calloc(max, sizeof(*crcs)), type;

	put_le32(b + IMG_HDR_CRC_OFF, img_crc32c(0, b, IMG_HDR_CRC_OFF));
	while (ent && crcs && size - off >= 20) {
		type = get_le32(b + off);
		len = get_le64(b + off + 8);
		if (len > size - off - 20)
			break;
		if (type == IMG_REC_TRAILER)
			fix_trailer(b, off, len, crcs, ent, n);
		crcs[n] = img_crc32c(0, b + off, IMG_REC_HDR_SIZE + len);
		put_le32(b + off + IMG_REC_HDR_SIZE + len, crcs[n]);
		if (type == IMG_REC_TRAILER)
			break;
		ent[n][0] = type;
		ent[n][1] = off;
		ent[n][2] = len;
		n++;
		off += IMG_REC_HDR_SIZE + len + IMG_REC_CRC_SIZE;
	}
	free(ent);
	free(crcs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t *copy;

	if (!ready) {
		log_init("fuzz_image", -1);
		/* every input is checked twice: the hardware CRC pays */
		img_crc32c_accel(arch_crc32c);
		ready = 1;
	}
	img_free(img_read_buf(data, size, 0));
	if (size < IMG_HEADER_SIZE)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	img_free(img_read_buf(copy, size, 0));
	free(copy);
	return 0;
}
