/*
 * filecopy: first a reflink (ioctl FICLONE: btrfs, xfs, bcachefs share
 * the extents, nothing is copied); else the data ranges only, as
 * SEEK_DATA and SEEK_HOLE find them, so that a sparse file stays sparse,
 * each with copy_file_range(2) (in the kernel, or a server-side copy on
 * NFS), falling back to read and write where the kernel will not (EXDEV
 * before 5.19 across filesystems, EINVAL or EOPNOTSUPP on some).
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/filecopy.h"
#include "util/progress.h"
#include "util/util.h"

#define COPY_BUF	(1u << 20)

/* [off, end) with pread and pwrite */
static int copy_slow(int in, int out, off_t off, off_t end)
{
	char *buf = malloc(COPY_BUF);
	ssize_t n = 0;
	size_t want;

	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	while (off < end) {
		want = end - off < COPY_BUF ? (size_t)(end - off) : COPY_BUF;
		n = pread(in, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || pwrite_full(out, buf, n, off))
			break;
		off += n;
		progress_add(n);
	}
	free(buf);
	if (off < end && !n)
		errno = EIO;	/* the file got shorter under us */
	return off < end ? -1 : 0;
}

/* [off, end) in the kernel if it will, else by hand */
static int copy_range(int in, int out, off_t off, off_t end)
{
	loff_t ip = off, op = off;
	ssize_t n;

	while (ip < end) {
		n = copy_file_range(in, &ip, out, &op, end - ip, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			      errno == EOPNOTSUPP || errno == ENOSYS))
			return copy_slow(in, out, ip, end);
		if (n <= 0) {
			if (!n)
				errno = EIO;	/* shorter under us */
			return -1;
		}
		progress_add(n);
	}
	return 0;
}

/* Each data range of [0, size); all of it where SEEK_DATA is unknown. */
static int copy_data(int in, int out, off_t size)
{
	off_t data, hole = 0;

	while (hole < size) {
		data = lseek(in, hole, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0;	/* a hole to the end */
		if (data < 0)
			return copy_range(in, out, hole, size);
		if (data >= size)
			return 0;
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		if (copy_range(in, out, data, hole))
			return -1;
	}
	return 0;
}

int file_copy(int in, int out, uint64_t size)
{
	if (!ioctl(out, FICLONE, in)) {
		/* the whole of in: cut to what was asked */
		if (ftruncate(out, size))
			return -1;
		progress_add(size);
		return FILE_CLONED;
	}
	if (copy_data(in, out, size) || ftruncate(out, size))
		return -1;
	return FILE_COPIED;
}
