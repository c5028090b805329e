/*
 * caps: the names of capabilities, for messages and ckpt inspect, and the
 * consistency rules of a thread's capability sets that any kernel keeps
 * (capabilities(7)), which the reader enforces on THREAD records.
 *
 * The table is ours rather than libcap's so that an image made on a newer
 * kernel, with capabilities this build does not name, is still readable:
 * such a capability is shown by its number.
 */
#include <stddef.h>

#include "image/image.h"

static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search",
	"cap_fowner", "cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid",
	"cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock",
	"cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
	"cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot",
	"cap_sys_nice", "cap_sys_resource", "cap_sys_time",
	"cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write",
	"cap_audit_control", "cap_setfcap", "cap_mac_override",
	"cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend",
	"cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};

const char *img_cap_name(unsigned int cap)
{
	return cap < ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

/*
 * The kernel keeps effective within permitted (capset(2) refuses
 * otherwise) and ambient within permitted and inheritable (it clears an
 * ambient capability that leaves either). The bounding set constrains
 * only what execve() grants, so any value goes.
 */
const char *img_caps_invalid(const struct img_caps *c)
{
	if (c->eff & ~c->prm)
		return "effective capabilities outside the permitted set";
	if (c->amb & ~(c->prm & c->inh))
		return "ambient capabilities outside permitted and inheritable";
	if (c->securebits & ~IMG_SECUREBITS_KNOWN)
		return "unknown securebits";
	return NULL;
}
