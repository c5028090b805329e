/*
 * snapshot.h: the file snapshots of a checkpoint (--snapshot PATH,
 * --snapshot-open): the files a job works on, copied beside its image
 * while the tree is frozen, put back by restore if they changed
 * (restore/snapshot.c). See snapshot.c.
 */
#ifndef CKPT_SNAPSHOT_H
#define CKPT_SNAPSHOT_H

#include <stdint.h>

#include "image/image.h"

#define SNAP_MAX_PATHS	64	/* --snapshot options */
#define SNAP_DIR_SUFFIX	IMG_SNAP_SUFFIX

struct snap_prev;
struct snap_rec;

struct snap_set {
	const char *paths[SNAP_MAX_PATHS];	/* --snapshot, as given */
	int nr_paths;
	int open_files;		/* --snapshot-open */
	/* an earlier image of the same job (ckpt run): a file unchanged
	 * since is linked from its snapshot, not copied; or NULL */
	const char *prev;
	int in_image;		/* snap_set_sink(): SNAPDATA records */
	int taken;		/* snap_take() began */
	/* one dump's, from snap_take() to snap_done() or snap_abort() */
	char *dir, *tmp, *old;	/* IMAGE.files, its temporary, the one
				 * it replaced until the image commits */
	int dirfd, prevfd;	/* tmp, prev's snapshot: or -1 */
	int placed;		/* tmp renamed to dir */
	struct snap_prev *pv;	/* prev's MANIFEST */
	uint32_t nr_pv;
	uint64_t (*seen)[2];	/* dev, ino of the files taken */
	uint32_t nr_seen, cap_seen;
	struct snap_rec *recs;	/* what snap_finish() writes */
	uint32_t nr_recs, cap_recs;
	uint32_t next;		/* the next copy's name */
	int manifest;		/* fd of tmp/MANIFEST, or -1 */
	/* what the last snap_take() did */
	uint64_t files, bytes, cloned, copied, linked;
};

/* --snapshot PATH: 0, or -1 said. */
int snap_add(struct snap_set *s, const char *path) __must_check;
/* Anything to take? */
int snap_wanted(const struct snap_set *s);
/* Where the snapshot goes: beside one local, unencrypted image file
 * (IMAGE.files/), else into the image itself (a stream sink, several,
 * encrypted: SNAPDATA records, encrypted with the image). */
void snap_set_sink(struct snap_set *s, const char *const *outputs,
		   int nr_outputs, int encrypted);

/* While the tree is frozen: the files copied into IMAGE.files.tmp.PID
 * (reflinks where the filesystem has them), or for a snapshot in the
 * image into nameless files (O_TMPFILE) beside each, their records kept
 * for snap_finish(). ids: the regular files the tree has open or mapped;
 * with --snapshot-open, those whose open[i] says they are open through
 * an fd or mapped shared are taken (not the programs and libraries,
 * mapped privately). 0, or -1 said. */
int snap_take(struct snap_set *s, const char *image,
	      const struct img_fileid *ids, const uint8_t *open, uint32_t n,
	      const struct img_fileid *fifos, uint32_t nr_fifos)
	__must_check;
/* Once the tree is thawed, before the image is committed: the copies
 * hashed (they cannot change, the files may), MANIFEST written, a
 * SNAPFILE record for each file and directory written to w (in the
 * image: each followed by SNAPDATA records of its data ranges). */
int snap_finish(struct snap_set *s, struct img_writer *w) __must_check;
/* Just before the image is committed: the snapshot put in its place. */
int snap_place(struct snap_set *s) __must_check;
/* The image committed: the snapshot it replaced removed. */
void snap_done(struct snap_set *s);
/* The dump failed: as it was before. */
void snap_abort(struct snap_set *s);
/* IMAGE.files of an image name removed, if there (ckpt run's --keep):
 * at dirfd. */
void snap_remove(int dirfd, const char *image);

#endif
