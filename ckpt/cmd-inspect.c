/*
 * ckpt inspect IMAGE: what an image holds, checked as restore checks it:
 * the process, its threads with their registers, maps, files, page counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "ckpt/cmd.h"
#include "image/image.h"
#include "plugins/pipeline.h"

static void print_thread(const struct img_thread *t)
{
	uint32_t i;

	printf("thread %d sigmask %#" PRIx64 " pending %u\n", t->tid,
	       t->sigmask, t->nr_siginfo);
	if (t->regs_isa != arch_isa())
		return;
	for (i = 0; i < t->nr_regs; i++)
		printf("  %-8s %#" PRIx64 "\n", arch_reg_name(i), t->regs[i]);
}

static void print_process(const struct img_process *p)
{
	uint64_t pages = 0;
	uint32_t i;

	printf("process %d comm %s exe %s cwd %s threads %u\n", p->proc.pid,
	       p->proc.comm, p->proc.exe, p->proc.cwd, p->nr_threads);
	for (i = 0; i < p->nr_threads; i++)
		print_thread(&p->threads[i]);
	for (i = 0; i < p->nr_vmas; i++) {
		const struct img_vma *v = &p->vmas[i];

		printf("vma %" PRIx64 "-%" PRIx64 " prot %u flags %#x %s\n",
		       v->start, v->end, v->prot, v->flags,
		       v->path ? v->path : "");
	}
	for (i = 0; i < p->nr_fds; i++)
		printf("fd %d type %u flags %#o pos %" PRIu64 " %s\n",
		       p->fds[i].fd, p->fds[i].type, p->fds[i].flags,
		       p->fds[i].pos, p->fds[i].path ? p->fds[i].path : "");
	for (i = 0; i < p->nr_pages; i++)
		pages += p->pages[i].nr_pages;
	printf("pages %" PRIu64 " in %u runs\n", pages, p->nr_pages);
}

static int exec_inspect(int argc, char **argv)
{
	struct image *img;
	uint32_t i;
	int fd;

	if (argc != 2)
		return cmd_usage(&cmd_inspect_entry);
	fd = pipeline_open_read(argv[1]);
	if (fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	img = img_read_named_fd(fd, argv[1], 0);
	close(fd);
	if (!img)
		return EXIT_BADIMAGE;
	printf("image version %u isa %s page-size %u kernel %s\n",
	       img->hdr.version, img_isa_name(img->hdr.isa),
	       img->hdr.page_size, img->hdr.kernel);
	for (i = 0; i < img->nr_procs; i++)
		print_process(&img->procs[i]);
	img_free(img);
	return 0;
}

const struct cmd_entry cmd_inspect_entry = {
	.name = "inspect",
	.usage = "IMAGE",
	.exec = exec_inspect,
};
