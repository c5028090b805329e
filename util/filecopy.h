/*
 * filecopy: a regular file's bytes copied into another the cheapest way
 * the filesystem allows, for the file snapshots (ckpt/snapshot.c,
 * restore/snapshot.c).
 */
#ifndef CKPT_FILECOPY_H
#define CKPT_FILECOPY_H

#include <stdint.h>

enum file_copy_how {
	FILE_CLONED = 1,	/* a reflink: the extents shared, no data */
	FILE_COPIED,		/* the data ranges copied, holes kept */
};

/*
 * in's first size bytes into out (open for writing, empty), out then
 * size bytes long; the bytes copied are added to the progress report.
 * FILE_CLONED or FILE_COPIED, or -1 with errno set.
 */
int file_copy(int in, int out, uint64_t size)
	__attribute__((warn_unused_result));

#endif
