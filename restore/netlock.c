/*
 * The network lock that ckpt attach --tcp-established took for the TCP
 * connections whose peer is outside the image (image/netlock.c): an
 * nftables table named in their FILE records, which drops their packets.
 *
 * Restore takes it again in its own network namespace once the image is
 * checked, before anything is made: where it was dumped the table is
 * there already (its rules come twice, which changes nothing); in
 * another namespace (a migration) the peer's retransmissions must not
 * meet a reset before the connection exists. `restore --lock-network'
 * does only that, for a migration to take the lock before the address
 * comes up. Restore removes it once the connections are out of repair
 * mode (inet.c) and on every failure (main.c), and so does the guardian
 * if restore is killed (guard.c): a lock left behind would cut the
 * 4-tuples off for good.
 */
#include <stdio.h>

#include "restore/restore.h"

/* The lock the image names, or NULL (the reader saw it is one). */
static const char *lock_of(const struct image *img)
{
	uint32_t i;

	for (i = 0; img && i < img->nr_files; i++)
		if (img->files[i].inet.lock)
			return img->files[i].inet.lock;
	return NULL;
}

int restore_netlock_named(const struct image *img)
{
	return lock_of(img) != NULL;
}

int restore_netlock_take(const struct image *img)
{
	const char *name = lock_of(img);
	struct img_netlock l;
	char err[256];
	uint32_t i;

	if (!name)
		return 0;
	img_netlock_begin(&l, name);
	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].inet.lock)
			img_netlock_add(&l, &img->files[i]);
	if (!img_netlock_run(&l, err, sizeof(err)))
		return 0;
	pr_err("can't lock the network for the TCP connections of the image (nftables table inet %s): %s",
	       name, err);
	return -1;
}

int restore_netlock_drop(const struct image *img)
{
	const char *name = lock_of(img);
	char err[256];

	if (!name || !img_netlock_remove(name, err, sizeof(err)))
		return 0;
	pr_err("can't remove the network lock (nftables table inet %s): %s",
	       name, err);
	return -1;
}
