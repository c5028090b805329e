/*
 * codec-ns: the NS record, a namespace of the tree that restore makes
 * again (see image.h): u32 kind owner; u64 id; str hostname domainname
 * (a UTS namespace's; absent, STR_NULL, for the other kinds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

const char *img_ns_name(uint32_t kind)
{
	static const char *const names[] = {
		[IMG_NS_UTS] = "uts",
		[IMG_NS_IPC] = "ipc",
		[IMG_NS_PID] = "pid",
		[IMG_NS_MNT] = "mnt",
		[IMG_NS_NET] = "net",
		[IMG_NS_USER] = "user",
		[IMG_NS_CGROUP] = "cgroup",
		[IMG_NS_TIME] = "time",
	};

	if (kind && kind <= IMG_NS_MAX)
		return names[kind];
	return "unknown";
}

int img_enc_ns(struct enc *e, const struct img_ns *ns)
{
	int uts = ns->kind == IMG_NS_UTS;

	enc_u32(e, ns->kind);
	enc_u32(e, ns->owner);
	enc_u64(e, ns->id);
	enc_str(e, ns->hostname, !uts, "hostname missing");
	enc_str(e, ns->domainname, !uts, "domainname missing");
	return e->err ? -1 : 0;
}

static int name_ok(const char *s)
{
	return s && strlen(s) <= IMG_MAX_HOSTNAME;
}

int img_dec_ns(struct dec *d, struct img_ns *ns)
{
	dec_u32(d, &ns->kind);
	dec_u32(d, &ns->owner);
	dec_u64(d, &ns->id);
	dec_str(d, &ns->hostname, 1, "hostname");
	dec_str(d, &ns->domainname, 1, "domainname");
	/* only the kinds restore makes: the others are refused at dump; a
	 * PID namespace is the root's, which is its init */
	dec_check(d, ns->kind == IMG_NS_UTS || ns->kind == IMG_NS_IPC ||
		  ns->kind == IMG_NS_PID || ns->kind == IMG_NS_MNT ||
		  ns->kind == IMG_NS_NET,
		  "namespace kind %u unknown", ns->kind);
	dec_check(d, ns->kind != IMG_NS_PID || ns->owner == 1, "%s namespace: owner %u is not the init",
		  img_ns_name(ns->kind), ns->owner);
	dec_check(d, ns->owner > 0 && ns->owner <= INT32_MAX,
		  "%s namespace: bad owner %u", img_ns_name(ns->kind),
		  ns->owner);
	if (ns->kind == IMG_NS_UTS)
		dec_check(d, name_ok(ns->hostname) &&
			  name_ok(ns->domainname),
			  "uts namespace: hostname or domainname missing or longer than %d bytes",
			  IMG_MAX_HOSTNAME);
	else
		dec_check(d, !ns->hostname && !ns->domainname,
			  "%s namespace with a hostname",
			  img_ns_name(ns->kind));
	return dec_end(d);
}

void img_ns_free(struct img_ns *ns)
{
	free(ns->hostname);
	free(ns->domainname);
	ns->hostname = ns->domainname = NULL;
}

const struct img_ns *img_find_ns(const struct image *img, uint32_t kind,
				 pid_t owner)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == kind &&
		    img->nss[i].owner == (uint32_t)owner)
			return &img->nss[i];
	return NULL;
}
