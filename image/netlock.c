/*
 * netlock: the network lock of the TCP connections whose peer is outside
 * an image (ckpt attach --tcp-established), shared by the dumper, which
 * takes it before the connections enter repair mode, and the restorer,
 * which takes it again in its own network namespace (a migration) and
 * removes it once they are back.
 *
 * A lock is one nftables table, `table inet NAME', with a chain on the
 * input hook and one on the output hook (priority -300: before
 * conntrack), and a rule per connection and way that drops its packets,
 * matched on its 4-tuple (the IPv4 one of a v4-mapped address), but for
 * the packets that restore sends itself (IMG_NETLOCK_MARK). It is
 * made and removed through libnftables, the library behind nft(8), in
 * the caller's network namespace. Making it twice adds its rules twice,
 * which changes nothing; it is removed by adding the table and deleting
 * it in one transaction, which leaves none whether there was one or not.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };

static void __printf(2, 3) add(struct img_netlock *l, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *n;
	int r;

	if (l->failed)
		return;
	va_start(ap, fmt);
	r = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	need = l->len + (r > 0 ? (size_t)r : 0) + 1;
	if (r < 0 || need > l->cap) {
		n = r < 0 ? NULL : realloc(l->cmd, need * 2);
		if (!n) {
			l->failed = 1;
			return;
		}
		l->cmd = n;
		l->cap = need * 2;
	}
	va_start(ap, fmt);
	vsnprintf(l->cmd + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	l->len += r;
}

void img_netlock_begin(struct img_netlock *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->name = name;
	add(l, "add table inet %s\n"
	    "add chain inet %s in { type filter hook input priority -300; policy accept; }\n"
	    "add chain inet %s out { type filter hook output priority -300; policy accept; }\n"
	    "insert rule inet %s in meta mark 0x%x accept\n",
	    name, name, name, name, IMG_NETLOCK_MARK);
}

/* "ip saddr A ip daddr B tcp sport P tcp dport Q" of a packet a -> b */
static void match(struct img_netlock *l, const char *chain,
		  const struct img_inet *in, const uint8_t *a, uint32_t ap,
		  const uint8_t *b, uint32_t bp)
{
	char x[INET6_ADDRSTRLEN] = "?", y[INET6_ADDRSTRLEN] = "?";
	int v4 = in->family == AF_INET, off = 0;
	const char *ip;

	if (!v4 && !memcmp(a, v4map, 12) && !memcmp(b, v4map, 12)) {
		v4 = 1;
		off = 12;
	}
	ip = v4 ? "ip" : "ip6";
	inet_ntop(v4 ? AF_INET : AF_INET6, a + off, x, sizeof(x));
	inet_ntop(v4 ? AF_INET : AF_INET6, b + off, y, sizeof(y));
	add(l, "add rule inet %s %s %s saddr %s %s daddr %s tcp sport %u tcp dport %u drop\n",
	    l->name, chain, ip, x, ip, y, ap, bp);
}

void img_netlock_add(struct img_netlock *l, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;

	match(l, "in", in, in->peer_addr, in->peer_port, in->addr, in->port);
	match(l, "out", in, in->addr, in->port, in->peer_addr, in->peer_port);
}

/* cmd through libnftables; the first line of its error in err */
static int nft(const char *cmd, char *err, size_t len)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *e = "out of memory";
	int ret = -1;

	if (ctx && !nft_ctx_buffer_output(ctx) && !nft_ctx_buffer_error(ctx)) {
		ret = nft_run_cmd_from_buffer(ctx, cmd) ? -1 : 0;
		e = nft_ctx_get_error_buffer(ctx);
	}
	if (ret)
		snprintf(err, len, "%.*s", e ? (int)strcspn(e, "\n") : 0,
			 e ? e : "");
	if (ctx)
		nft_ctx_free(ctx);
	return ret;
}

int img_netlock_run(struct img_netlock *l, char *err, size_t len)
{
	int ret = -1;

	if (l->failed)
		snprintf(err, len, "out of memory");
	else
		ret = nft(l->cmd, err, len);
	free(l->cmd);
	l->cmd = NULL;
	return ret;
}

int img_netlock_remove(const char *name, char *err, size_t len)
{
	char cmd[2 * IMG_MAX_NETLOCK + 64];

	snprintf(cmd, sizeof(cmd), "add table inet %s\ndelete table inet %s\n",
		 name, name);
	return nft(cmd, err, len);
}

/*
 * The first nftables table of the caller's network namespace that is no
 * network lock, in name ("family name"): 1; 0 when there is none; -1 if
 * nftables can't be asked (err says why). A tree's own namespace with
 * rules of its own is refused (dump-netdev.c).
 */
int img_nft_foreign_table(char *name, size_t len, char *err, size_t elen)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char fam[16], tab[256];
	const char *out, *l, *next;
	int ret = -1;

	if (!ctx || nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx) ||
	    nft_run_cmd_from_buffer(ctx, "list tables")) {
		out = ctx ? nft_ctx_get_error_buffer(ctx) : NULL;
		snprintf(err, elen, "%.*s", out ? (int)strcspn(out, "\n") : 0,
			 out ? out : "");
		goto out;
	}
	ret = 0;
	out = nft_ctx_get_output_buffer(ctx);
	for (l = out; l && *l; l = next) {
		next = strchr(l, '\n') ? strchr(l, '\n') + 1 : "";
		if (sscanf(l, "table %15s %255s", fam, tab) == 2 &&
		    strncmp(tab, IMG_NETLOCK_PREFIX,
			    strlen(IMG_NETLOCK_PREFIX))) {
			snprintf(name, len, "%s %s", fam, tab);
			ret = 1;
			break;
		}
	}
out:
	if (ctx)
		nft_ctx_free(ctx);
	return ret;
}
