/*
 * reader-priv: the reader's state, shared by reader.c (framing, CRCs, the
 * trailer) and semantics.c (what the records mean together).
 */
#ifndef CKPT_READER_PRIV_H
#define CKPT_READER_PRIV_H

#include <stdint.h>

#include "image/image.h"
#include "image/image-priv.h"

/* where a PAGES record of the current process was, for messages */
struct rd_loc {
	uint64_t no;
	uint64_t off;
};

struct rd {
	const char *name;
	const uint8_t *buf;	/* img_read_buf, else NULL and fd */
	int fd;
	unsigned int flags;	/* IMG_READ_* */
	uint64_t size;		/* so far, while more is set */
	/* an image still being written (img_read_follow): waits for it to
	 * grow, see image.h; NULL once it is whole */
	int (*more)(void *arg, uint64_t *size);
	void *more_arg;
	struct image *img;
	/* the record being read */
	uint64_t off;
	uint32_t type;
	/* every record before the trailer */
	struct img_index_ent *idx;
	uint64_t nr_idx, cap_idx;
	/* PAGES records of the current process, parallel to its pages[] */
	struct rd_loc *ploc;
	uint32_t cap_ploc;
	/* capacities of the current process's arrays */
	uint32_t cap_procs, cap_threads, cap_vmas, cap_pages, cap_fds;
	uint32_t cap_locks;
	uint32_t cap_fowns;
	uint32_t cap_aios;
	uint32_t cap_files, cap_chunks;
	uint32_t cap_shms, cap_ghosts, cap_nss, cap_cgroups;
	uint32_t cap_mounts, cap_nsmounts, cap_mntfiles, cap_netdevs;
	uint32_t cap_routes;
	uint32_t cap_sysvs, cap_sysv_chunks, cap_nsjoins;
	uint32_t cap_apps, cap_fileids, cap_snapfiles, cap_snapchunks;
	uint64_t snap_end;	/* of the last SNAPDATA of the last SNAPFILE */
	uint32_t cap_shm_pages;	/* of the current SHM or GHOST */
	uint32_t cap_pres, cap_pre_pages;	/* PRECOPY, its PAGES */
	int pre_open;		/* the last record but PAGES was a PRECOPY */
	int past_pre;		/* a record other than IDENT, PRECOPY, PAGES */
	uint8_t *scratch;	/* payloads read with pread */
	size_t cap_scratch;
	/* small reads from fd: RD_WIN bytes of the file read at once */
	uint8_t *win;
	uint64_t win_off, win_len;
};

/* One pr_err line naming the image, or the image and a record. */
void rd_fail(struct rd *r, const char *fmt, ...) __printf(2, 3);
void rec_fail_at(struct rd *r, uint64_t no, uint32_t type, uint64_t off,
		 const char *fmt, ...) __printf(5, 6);
#define rec_fail(r, ...) \
	rec_fail_at(r, (r)->nr_idx + 1, (r)->type, (r)->off, __VA_ARGS__)

/* semantics.c */
int sem_record(struct rd *r, const uint8_t *payload, uint64_t len);
int sem_pages(struct rd *r, const struct img_pages *pg);
int sem_process_end(struct rd *r);
int sem_share_end(struct rd *r, const struct img_process *p);
/* The whole image read: what names other processes of it */
int sem_image_end(struct rd *r);
/* Checks the file table and the ghosts as a whole (at the first PROC). */
int sem_files_end(struct rd *r);
/* semantics-inet.c: a TCP or UDP file's chunk; its files as a whole */
int sem_inet_chunk(struct rd *r, const struct img_file *f,
		   const struct img_chunk *ch);
int sem_inet_end(struct rd *r);
/* codec-incr.c: IDENT and PARENT_PAGES records */
int sem_ident(struct rd *r, struct dec *d);
int sem_parent_pages(struct rd *r, struct dec *d);
/* pg's range is page aligned and below IMG_MAX_ADDR (and not empty
 * unless empty_ok): 1, else 0 with the record failed */
int sem_run_ok(struct rd *r, const struct img_pages *pg, int empty_ok);
/* codec-pre.c: PRECOPY and its PAGES, PRE_PAGES, and at the end the
 * PRE_PAGES runs replaced by the pages they name */
int sem_precopy(struct rd *r, struct dec *d);
int sem_precopy_pages(struct rd *r, const struct img_pages *pg);
int sem_pre_pages(struct rd *r, struct dec *d);
int sem_pre_runs(struct rd *r, struct dec *d);
int sem_pre_resolve(struct rd *r);
/* chain.c: the parents' files and names, freed */
void img_chain_free(struct image *img);
/* codec-app.c: APP and FILEID records */
int sem_app(struct rd *r, struct dec *d);
int sem_fileid(struct rd *r, struct dec *d);
int sem_snapfile(struct rd *r, struct dec *d);
int sem_snapdata(struct rd *r, struct dec *d);
int sem_notify(struct rd *r, struct dec *d);
/* semantics-mnt.c: MOUNT and MNTFILE records */
int sem_mount(struct rd *r, struct dec *d);
int sem_nsmount(struct rd *r, struct dec *d);
int sem_mntfile(struct rd *r, struct dec *d);
/* codec-aio.c: AIO records, and their rings checked at the process's end */
int sem_aio(struct rd *r, struct dec *d, struct img_process *p);
int check_aios(struct rd *r, const struct img_process *p);
/* semantics-net.c: NETDEV and ROUTE records */
int sem_netdev(struct rd *r, struct dec *d);
int sem_route(struct rd *r, struct dec *d);
/* once the FILEs are read: bridge ports and tun files name devices */
int sem_net_end(struct rd *r);
/* codec-sysv.c: SYSV and SYSV_DATA records */
int sem_sysv(struct rd *r, struct dec *d);
int sem_sysv_data(struct rd *r, struct dec *d);
int sem_nsjoin(struct rd *r, struct dec *d);
int rd_grow(struct rd *r, void *arrp, uint32_t *cap, uint32_t n,
	    size_t elem);

#endif
