/*
 * The network lock that ckpt attach --tcp-established took for the TCP
 * connections whose peer is outside the image (ckpt/dump-netlock.c): an
 * nftables table named in their FILE records, which drops their packets.
 * Restore removes it from its own network namespace once the connections
 * are out of repair mode (inet.c), and on every failure (main.c), and so
 * does the guardian if restore is killed (guard.c): a lock left behind
 * would cut the 4-tuples off for good.
 *
 * The table is added, then deleted, in one transaction: the same command
 * removes a table that is there and leaves none where there was none (a
 * restore in another namespace than the dump's, a lock already removed).
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

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

int restore_netlock_drop(const struct image *img)
{
	const char *name = lock_of(img), *e;
	char cmd[2 * IMG_MAX_NETLOCK + 64];
	struct nft_ctx *nft;
	int ret = -1;

	if (!name)
		return 0;
	snprintf(cmd, sizeof(cmd), "add table inet %s\ndelete table inet %s\n",
		 name, name);
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (nft && !nft_ctx_buffer_output(nft) && !nft_ctx_buffer_error(nft))
		ret = nft_run_cmd_from_buffer(nft, cmd) ? -1 : 0;
	if (ret) {
		e = nft ? nft_ctx_get_error_buffer(nft) : NULL;
		pr_err("can't remove the network lock (nftables table inet %s): %.*s",
		       name, e ? (int)strcspn(e, "\n") : 13,
		       e ? e : "out of memory");
	}
	if (nft)
		nft_ctx_free(nft);
	return ret;
}
