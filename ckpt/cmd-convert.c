/*
 * ckpt convert IMAGE CORE: an ELF core file of the process in IMAGE, for
 * gdb PROG CORE (elf/core.c does the work). The image is parsed and the
 * core written by a child confined by seccomp (ckpt/confine.h); the core
 * is a durable temporary of mode 0600 (a core holds the whole memory)
 * that this process commits once the child succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "ckpt/cmd.h"
#include "ckpt/confine.h"
#include "elf/core.h"
#include "image/image.h"
#include "plugins/pipeline.h"
#include "util/durable.h"

struct convert_args {
	int img_fd;
	const char *source;
	const struct durable *out;
};

/* In the confined child: the exit status of ckpt convert. */
static int convert(void *arg)
{
	const struct convert_args *a = arg;
	struct image *img;
	int ret = 0;

	/* the registers are turned into this ISA's notes */
	img = img_read_named_fd(a->img_fd, a->source, arch_isa());
	if (!img || img_read_chain(img, a->source, img_open_plain, NULL)) {
		img_free(img);
		return EXIT_BADIMAGE;
	}
	if (elf_write_core(a->img_fd, img, a->out->fd, a->out->tmp))
		ret = EXIT_CANTCREATE;
	img_free(img);
	return ret;
}

static int exec_convert(int argc, char **argv)
{
	struct durable out;
	struct convert_args a = { .source = argv[1], .out = &out };
	int ret;

	if (argc != 3)
		return cmd_usage(&cmd_convert_entry);
	a.img_fd = pipeline_open_read_confined(argv[1], NULL, 0,
					       confine_decoder);
	if (a.img_fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	if (durable_open(&out, AT_FDCWD, argv[2], 0)) {
		close(a.img_fd);
		return EXIT_CANTCREATE;
	}
	ret = confine_fork(out.fd, convert, &a);
	close(a.img_fd);
	if (ret) {
		durable_abort(&out);
		return ret;
	}
	return durable_commit(&out) ? EXIT_CANTCREATE : 0;
}

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.usage = "IMAGE CORE",
	.exec = exec_convert,
};
