/*
 * fuzz_stream: libFuzzer entry for the read side of the pipeline
 * (plugins/pipeline.c): filter detection, the zstd and encrypt filters
 * and the spooling of what they decode. Each input is an image file as
 * ckpt would be given it, through a memfd opened by its /proc path, read
 * with the key of tests/fuzz/fuzz.c (the seeds are encrypted under it).
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "plugins/pipeline.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char source[64], param[128];

static void remove_key(void)
{
	unlink(param + 8);
}

static int setup(void)
{
	int fd;

	log_init("fuzz_stream", -1);
	/* no plugin from the machine: only the built-in stages */
	setenv("CKPT_PLUGIN_PATH", "", 1);
	snprintf(param, sizeof(param), "encrypt=/tmp/ckpt-fuzz-key.%d",
		 getpid());
	fd = memfd_create("fuzz-stream", MFD_CLOEXEC);
	/* a memfd is made 0777: an image others may write is refused */
	if (fd < 0 || fchmod(fd, 0600) || fuzz_write_key(param + 8))
		abort();
	atexit(remove_key);
	snprintf(source, sizeof(source), "file:/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int memfd = -1;
	const char *params[] = { param };
	int fd;

	if (memfd < 0)
		memfd = setup();
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	fd = pipeline_open_read_with(source, params, 1);
	if (fd >= 0)
		close(fd);
	return 0;
}
