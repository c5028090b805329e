/*
 * ckpt convert IMAGE CORE: an ELF core file of the process in IMAGE, for
 * gdb PROG CORE (elf/core.c does the work).
 */
#include <errno.h>
#include <unistd.h>

#include "arch/arch.h"
#include "ckpt/cmd.h"
#include "elf/core.h"
#include "image/image.h"
#include "plugins/pipeline.h"

static int exec_convert(int argc, char **argv)
{
	struct image *img;
	int fd, ret = 0;

	if (argc != 3)
		return cmd_usage(&cmd_convert_entry);
	fd = pipeline_open_read(argv[1]);
	if (fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	/* the registers are turned into this ISA's notes */
	img = img_read_named_fd(fd, argv[1], arch_isa());
	if (!img) {
		close(fd);
		return EXIT_BADIMAGE;
	}
	if (elf_write_core(fd, img, argv[2]))
		ret = EXIT_CANTCREATE;
	img_free(img);
	close(fd);
	return ret;
}

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.usage = "IMAGE CORE",
	.exec = exec_convert,
};
