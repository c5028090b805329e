/*
 * inspect: the two printers of ckpt inspect, text for people
 * (inspect-text.c) and JSON for scripts (inspect-json.c), and the names
 * and counts that both print (inspect.c), so that the two never disagree
 * on what a field is called.
 */
#ifndef CKPT_INSPECT_H
#define CKPT_INSPECT_H

#include <stdint.h>

#include "elf/backtrace.h"
#include "image/image.h"

#define INSPECT_MAX_FRAMES	64

/* Print img on stdout. fd is the plain image it was read from: the
 * backtraces read page data from there. */
void inspect_print_text(const struct image *img, int fd);
void inspect_print_json(const struct image *img, int fd);

/* The frames of t (at most INSPECT_MAX_FRAMES), or 0 when its registers
 * are of another ISA. */
int inspect_frames(const struct bt_image *src, const struct img_thread *t,
		   struct bt_frame *f);
uint64_t inspect_count_pages(const struct img_pages *pg, uint32_t n);
/* of those, the pages an incremental image takes from its parents */
uint64_t inspect_parent_pages(const struct img_pages *pg, uint32_t n);
/* Bytes queued in a pipe or socket. */
uint64_t inspect_queued_bytes(const struct img_file *f);
/* The files of mount id (MNTFILE records), and their bytes of data. */
uint32_t inspect_mount_files(const struct image *img, uint32_t id,
			     uint64_t *bytes);

/* Names of the image's numbers; "?" (or "unknown") for one unknown. */
const char *inspect_shm_kind(uint32_t kind);
const char *inspect_fd_type(uint32_t type);
const char *inspect_file_kind(uint32_t kind);
const char *inspect_sock_type(uint32_t type);
const char *inspect_unix_state(uint32_t state);
const char *inspect_inet_state(uint32_t state);
/* A SNAPFILE's kind: "reg", "dir", "link", "fifo", "chr", "blk" */
const char *inspect_snap_kind(uint32_t mode);
/* Its hash in hex (a regular file's), or "-"; its attributes counted. */
const char *inspect_snap_hash(const struct img_snapfile *f,
			      char out[2 * IMG_HASH_LEN + 1]);
uint32_t inspect_snap_xattrs(const struct img_snapfile *f);
/* "127.0.0.1:80", "[::1]:80": the local or the peer's address of in */
const char *inspect_sock_addr(const struct img_inet *in, int peer, char *out,
			      size_t len);

/* A SOCKX option's value as text; a multicast group or source of m */
const char *inspect_xopt(const struct img_xopt *x, char *out, size_t len);
const char *inspect_mcast_addr(const struct img_mcast *m, const uint8_t *a,
			       char *out, size_t len);
#endif
