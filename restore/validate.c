/*
 * validate: before any process is made, each regular file the tree had
 * open or mapped (the image's FILEID records) must be the file it was,
 * or the program would carry on reading other data than it had read.
 * The rule: with a hash recorded (ckpt attach --validate=hash), the same
 * size and content hash; otherwise the same device, inode, size and
 * modification time. A file the tree had open for writing (or mapped
 * shared and writable) may have changed since by the tree's own hand (it
 * ran on after the dump, or the image was restored before): it must only
 * still be there, a regular file, no shorter than it was. restore
 * --no-validate skips the check.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/filehash.h"

static uint64_t mtime_ns(const struct stat *st)
{
	return st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec;
}

/* NULL if path is f as it was, else how it differs (in buf). */
static const char *differs(const struct img_fileid *f, char *buf, size_t len)
{
	uint8_t h[FILE_HASH_LEN];
	struct stat st;
	int fd;

	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(buf, len, "%s", errno == ENOENT ? "it is gone" :
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		snprintf(buf, len, "it is no regular file now");
	else if ((uint64_t)st.st_size < f->size ||
		 ((uint64_t)st.st_size != f->size &&
		  !(f->flags & IMG_FILEID_WRITTEN)))
		snprintf(buf, len, "%llu bytes, was %llu",
			 (unsigned long long)st.st_size,
			 (unsigned long long)f->size);
	else if (f->flags & IMG_FILEID_WRITTEN)	/* see the top */
		buf[0] = '\0';
	else if (f->flags & IMG_FILEID_HASH)
		snprintf(buf, len, "%s", file_hash(fd, h) ? strerror(errno) :
			 memcmp(h, f->hash, sizeof(h)) ? "its content hash differs" :
			 "");
	else if (st.st_dev != f->dev || st.st_ino != f->ino)
		snprintf(buf, len, "another inode (%llu, was %llu)",
			 (unsigned long long)st.st_ino,
			 (unsigned long long)f->ino);
	else if (mtime_ns(&st) != f->mtime_ns)
		snprintf(buf, len, "modified since");
	else
		buf[0] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return buf[0] ? buf : NULL;
}

int restore_validate_files(struct restore_run *run)
{
	const struct image *img = run->img;
	const struct img_fileid *bad = NULL;
	char why[160], first[160];
	uint32_t i, nbad = 0;

	if (run->no_validate)
		return 0;
	for (i = 0; i < img->nr_fileids; i++) {
		if (restore_snapshot_covers(run, &img->fileids[i]) ||
		    !differs(&img->fileids[i], why, sizeof(why)))
			continue;
		if (!nbad++) {
			bad = &img->fileids[i];
			snprintf(first, sizeof(first), "%s", why);
		}
	}
	if (!nbad)
		return 0;
	if (nbad == 1)
		pr_err("%s: file %s is not the one checkpointed: %s (--no-validate accepts it)",
		       run->path, bad->path, first);
	else
		pr_err("%s: file %s is not the one checkpointed: %s; %u more files differ (--no-validate accepts them)",
		       run->path, bad->path, first, nbad - 1);
	return -1;
}
