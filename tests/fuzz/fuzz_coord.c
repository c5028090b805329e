/*
 * fuzz_coord: libFuzzer entry for the coordinator's message parser
 * (coord/msg.c), what every frame of a member, a client or a
 * coordinator goes through once its seal is checked. A message that
 * parses must format again to itself (the parser accepts only what the
 * formatter writes), and its fields must be what the checks promise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coord/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct coord_msg m;
	static char out[COORD_MSG_MAX];

	if (coord_msg_parse((const char *)data, size, &m))
		return 0;
	if (m.job[0] && !coord_name_ok(m.job))
		abort();
	if (coord_msg_format(&m, out, sizeof(out)))
		abort();
	/* the same bytes, but for the text's trailing spaces */
	if (strlen(out) > size || memcmp(out, data, strlen(out)))
		abort();
	return 0;
}
