/*
 * libckpt-example: checkpoint a process with libckpt, kill it, look into
 * the image and restore it, as a program of a user's would (libckpt(3)).
 *
 *   cc -o libckpt-example libckpt-example.c $(pkg-config --cflags --libs libckpt)
 *   ./libckpt-example PID IMAGE
 *
 * Prints what it did, one line a step; exits with the libckpt status of
 * the step that failed (its message on stderr), or 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include <ckpt/libckpt.h>

static int failed(const char *what, const struct ckpt_error *err)
{
	fprintf(stderr, "%s: %s (status %d)\n", what, err->message, err->code);
	return err->code;
}

int main(int argc, char **argv)
{
	struct ckpt_attach_opts a = { .size = sizeof(a) };
	struct ckpt_restore_opts r = { .size = sizeof(r) };
	struct ckpt_attach_result res;
	struct ckpt_image_info *info;
	struct ckpt_error err;
	const char *out[1];
	pid_t *pids;
	size_t n, i;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID IMAGE\n", argv[0]);
		return 64;
	}
	printf("libckpt %s\n", ckpt_lib_version());
	out[0] = argv[2];
	a.pid = atoi(argv[1]);
	a.outputs = out;
	a.nr_outputs = 1;
	a.kill = 1;
	a.compress = -1;
	if (ckpt_attach(&a, &res, &err))
		return failed("attach", &err);
	printf("attached: %d processes, %d threads, %llu bytes\n",
	       res.processes, res.threads, (unsigned long long)res.bytes);
	if (ckpt_inspect(argv[2], NULL, &info, &err))
		return failed("inspect", &err);
	for (i = 0; i < info->nr_processes; i++)
		printf("image: pid %d comm %s threads %u memory %llu\n",
		       (int)info->processes[i].pid, info->processes[i].comm,
		       info->processes[i].threads,
		       (unsigned long long)info->processes[i].memory_bytes);
	ckpt_image_info_free(info);
	r.image = argv[2];
	if (ckpt_restore(&r, &pids, &n, &err))
		return failed("restore", &err);
	for (i = 0; i < n; i++)
		printf("restored: %d\n", (int)pids[i]);
	free(pids);
	return 0;
}
