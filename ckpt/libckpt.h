/*
 * libckpt: checkpoint and restore Linux processes from a program, as the
 * ckpt(1) and restore(1) commands do (libckpt(3)).
 *
 *   #include <ckpt/libckpt.h>       cc ... $(pkg-config --cflags --libs libckpt)
 *
 * Every call returns 0 or one of the CKPT_E* codes below (the exit
 * statuses of the commands), with a message in *err when err is not NULL.
 * The option structs begin with their own size (set it with sizeof):
 * a struct that grows in a later release stays compatible both ways.
 * The library is not thread-safe: one call at a time in a process. It
 * prints nothing; what the commands would print on standard error comes
 * back in err.
 */
#ifndef LIBCKPT_H
#define LIBCKPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CKPT_API_VERSION	1

enum ckpt_status {
	CKPT_OK = 0,
	CKPT_EUSAGE = 64,	/* bad options */
	CKPT_EBADIMAGE = 65,	/* the image is damaged or not for here */
	CKPT_ENOIMAGE = 66,	/* the image cannot be opened */
	CKPT_ENOTARGET = 69,	/* no such process, or not one ckpt may trace */
	CKPT_EFAILED = 70,	/* the dump or restore failed */
	CKPT_ECREATE = 73,	/* the image cannot be created */
	CKPT_EPIDTAKEN = 75,	/* a PID the image needs is in use */
};

struct ckpt_error {
	int code;		/* enum ckpt_status */
	char message[1024];	/* one line, no newline; "" with CKPT_OK */
};

/* What ckpt attach does, without its command line. */
struct ckpt_attach_opts {
	size_t size;		/* sizeof(struct ckpt_attach_opts) */
	pid_t pid;
	/* where the image goes: paths, "tcp://HOST:PORT/NAME", or plugin
	 * sinks, as attach -o takes them; at least one, at most 16 */
	const char *const *outputs;
	int nr_outputs;
	int quorum;		/* sinks that must commit; 0: all */
	int kill;		/* kill the tree once the image is committed */
	int tree;		/* the descendants too */
	int ext_null;		/* --ext-null */
	uint64_t ghost_limit;	/* --ghost-limit; 0: the default */
	int compress;		/* zstd level 1-19; -1 its default; 0 none */
	const char *encrypt_key;	/* a key file (ckpt keygen), or NULL */
	const char *auth_key;	/* the key of ckpt serve for tcp://, or NULL */
	int ext_unix;		/* --ext-unix */
	int tcp_established;	/* --tcp-established */
	int pre_copy;		/* --pre-copy */
};

struct ckpt_attach_result {
	int processes;		/* zombies included */
	int threads;
	uint64_t bytes;		/* the image, before compression/encryption */
	double frozen_seconds;
	double seconds;
};

int ckpt_attach(const struct ckpt_attach_opts *opts,
		struct ckpt_attach_result *result, struct ckpt_error *err);

/* What restore --detach does: the tree is made and runs on, a child of
 * the calling process's reaper (not of the caller). */
struct ckpt_restore_opts {
	size_t size;		/* sizeof(struct ckpt_restore_opts) */
	const char *image;	/* a path, "-" is not allowed, or tcp://... */
	const char *key;	/* of an encrypted image, or NULL */
	const char *auth_key;	/* for tcp://, or NULL */
	/* the restore program; NULL: $CKPT_RESTORE, else the installed one */
	const char *restore_program;
};

/* On CKPT_OK, *pids (malloc'd; free it) holds the PIDs made, root
 * first, and *nr_pids their number. */
int ckpt_restore(const struct ckpt_restore_opts *opts, pid_t **pids,
		 size_t *nr_pids, struct ckpt_error *err);

/* What ckpt inspect reads of an image, in part. */
struct ckpt_process_info {
	pid_t pid, ppid, pgid, sid;
	char comm[16];
	int zombie;
	unsigned int threads;
	uint64_t memory_bytes;	/* page data in the image */
	uint64_t nr_fds;
};

struct ckpt_image_info {
	unsigned int format;	/* the image format version */
	char isa[16];		/* "x86_64", "aarch64" */
	unsigned int page_size;
	uint64_t created;	/* seconds since the epoch */
	char kernel[65];	/* uname -r of the dumped system */
	char writer[24];	/* "ckpt 0.4.0" */
	size_t nr_processes;
	struct ckpt_process_info *processes;	/* root first */
};

/* The image is checked whole, as restore checks it; key for an encrypted
 * one (or NULL). On CKPT_OK, free *info with ckpt_image_info_free. */
int ckpt_inspect(const char *image, const char *key,
		 struct ckpt_image_info **info, struct ckpt_error *err);
void ckpt_image_info_free(struct ckpt_image_info *info);

/* "0.4.0" */
const char *ckpt_lib_version(void);

#ifdef __cplusplus
}
#endif

#endif
