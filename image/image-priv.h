/*
 * image-priv: what the writer, the reader and the record codec share and
 * nobody else needs: the framing constants and the field encoders and
 * decoders. man/ckpt-image.5 describes the same layout in prose.
 */
#ifndef CKPT_IMAGE_PRIV_H
#define CKPT_IMAGE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

/* header: magic, u32 version, isa, page_size, flags, u64 created,
 * kernel[65], zero padding, u32 CRC32C of the 124 bytes before it */
#define IMG_HDR_VERSION_OFF	8
#define IMG_HDR_ISA_OFF		12
#define IMG_HDR_PSIZE_OFF	16
#define IMG_HDR_FLAGS_OFF	20
#define IMG_HDR_CREATED_OFF	24
#define IMG_HDR_KERNEL_OFF	32
#define IMG_HDR_KERNEL_LEN	65
#define IMG_HDR_WRITER_OFF	100
#define IMG_HDR_WRITER_LEN	24
#define IMG_HDR_CRC_OFF		124

#define IMG_MIN_PAGE_SIZE	4096u
#define IMG_MAX_PAGE_SIZE	65536u

/* record: u32 type, u32 flags, u64 length, payload, u32 crc */
#define IMG_REC_HDR_SIZE	16
#define IMG_REC_CRC_SIZE	4
/* PAGES payload before the padding: u64 addr, u64 nr_pages, u32 pad */
#define IMG_PAGES_FIXED		20
/* trailer: u64 count, count * (u32 type, u32 crc, u64 off, u64 len), u32 */
#define IMG_TRAILER_ENTRY	24
#define IMG_TRAILER_SIZE(n)	(8 + (uint64_t)(n) * IMG_TRAILER_ENTRY + 4)
/* no record but PAGES and the trailer comes near this */
#define IMG_MAX_PAYLOAD		(1u << 20)
/* user addresses stay below 2^56 on every supported ISA (LA57 included) */
#define IMG_MAX_ADDR		(1ull << 56)

#define IMG_VMA_ALL_FLAGS	0x1fffu
#define IMG_ADV_ALL		0xffu
#define IMG_SHM_ALL_FLAGS	(IMG_SHM_REMOVED | IMG_SHM_IPCNS)
/* F_SEAL_SEAL, SHRINK, GROW, WRITE, FUTURE_WRITE, EXEC */
#define IMG_SHM_ALL_SEALS	0x3fu

struct img_index_ent {
	uint32_t type;
	uint32_t crc;
	uint64_t off;
	uint64_t len;
};

/* Growing output buffer; the first error sticks and later puts do nothing */
struct enc {
	uint8_t *buf;
	size_t len, cap;
	const char *err;
};

/* Cursor over one payload; the first error sticks in msg */
struct dec {
	const uint8_t *p;
	size_t len, pos;
	int failed;
	char msg[160];
};

uint32_t img_crc32c_sw(uint32_t crc, const void *buf, size_t len);

void enc_reset(struct enc *e);
void enc_free(struct enc *e);
void enc_u32(struct enc *e, uint32_t v);
void enc_u64(struct enc *e, uint64_t v);
/* a string (NULL allowed when optional); err sticks when it cannot be */
void enc_str(struct enc *e, const char *s, int optional, const char *err);
void enc_bytes(struct enc *e, const void *buf, size_t len);
/* err sticks when n > max */
void enc_cap(struct enc *e, uint32_t n, uint32_t max, const char *err);

void put_le32(uint8_t *p, uint32_t v);
void put_le64(uint8_t *p, uint64_t v);
uint32_t get_le32(const uint8_t *p);
uint64_t get_le64(const uint8_t *p);

void dec_init(struct dec *d, const void *p, size_t len);
void dec_fail(struct dec *d, const char *fmt, ...) __printf(2, 3);
void dec_u32(struct dec *d, uint32_t *v);
void dec_u64(struct dec *d, uint64_t *v);
void dec_i32(struct dec *d, int32_t *v);
int dec_end(struct dec *d);
/* n items of elem bytes: within max and within the payload left */
int dec_count_ok(struct dec *d, uint32_t n, uint32_t max, size_t elem,
		 const char *what);
void *dec_alloc(struct dec *d, size_t n);
/* a string of at most IMG_MAX_STR bytes, NUL terminated in *out */
void dec_str(struct dec *d, char **out, int optional, const char *what);
void dec_blob(struct dec *d, uint8_t **out, uint32_t n, uint32_t max,
	      const char *what);
/* 16 bytes as enc_bytes wrote them (an address; codec-net.c) */
void dec_raw16(struct dec *d, uint8_t a[16]);
void dec_bytes(struct dec *d, void *out, size_t n);
/* fails d with the message unless ok */
void dec_check(struct dec *d, int ok, const char *fmt, ...) __printf(3, 4);

/* One encoder and one decoder per record type (codec.c). Decoders fill a
 * zeroed struct; on error the caller frees it with the matching free. */
int img_enc_app(struct enc *e, const struct img_app *a);
int img_dec_app(struct dec *d, struct img_app *a);
void img_app_free(struct img_app *a);
int img_enc_fileid(struct enc *e, const struct img_fileid *f);
int img_dec_fileid(struct dec *d, struct img_fileid *f);
void img_fileid_free(struct img_fileid *f);
int img_enc_notify(struct enc *e, const char *path, uint32_t seconds);
int img_enc_snapfile(struct enc *e, const struct img_snapfile *f);
int img_dec_snapfile(struct dec *d, struct img_snapfile *f);
void img_snapfile_free(struct img_snapfile *f);
/* the APP and FILEID records of an image, freed */
void img_apps_free(struct image *img);
int img_enc_ident(struct enc *e, const struct img_ident *id);
int img_enc_parent_pages(struct enc *e, uint64_t addr, uint64_t nr);
int img_enc_precopy(struct enc *e, int32_t pid, uint32_t round);
int img_enc_pre_runs(struct enc *e, const struct img_pre_run *runs,
		     uint32_t n);
int img_enc_pre_pages(struct enc *e, uint64_t addr, uint64_t nr,
		      uint32_t round);
/* codec-pre.c: the PRECOPY records of an image, freed */
void img_pres_free(struct image *img);
int img_enc_proc(struct enc *e, const struct img_proc *p);
int img_enc_zombie(struct enc *e, const struct img_proc *p);
int img_enc_thread(struct enc *e, const struct img_thread *t);
int img_enc_vma(struct enc *e, const struct img_vma *v);
int img_enc_fd(struct enc *e, const struct img_fd *f);
int img_enc_sigacts(struct enc *e, const struct img_sigact *acts);
int img_enc_file(struct enc *e, const struct img_file *f);
int img_enc_file_data(struct enc *e, uint32_t file,
		      const struct img_chunk *ch);
int img_enc_shm(struct enc *e, const struct img_shm *s);
int img_enc_ghost(struct enc *e, const struct img_ghost *g);
int img_enc_lock(struct enc *e, const struct img_lock *l);
int img_enc_fown(struct enc *e, const struct img_fown *o);
int img_enc_aio(struct enc *e, const struct img_aio *a);
int img_enc_ns(struct enc *e, const struct img_ns *ns);
int img_enc_cgroup(struct enc *e, const struct img_cgroup *cg);
/* codec-kfd.c: the fields of the kernel-object kinds of FILE, which
 * follow the common ones; the decoder also checks them */
void img_enc_kfd(struct enc *e, const struct img_file *f);
void img_dec_kfd(struct dec *d, struct img_file *f);
void img_kfd_free(struct img_file *f);
/* codec-tty.c: the fields of a pty master or slave */
void img_enc_tty(struct enc *e, const struct img_file *f);
void img_dec_tty(struct dec *d, struct img_file *f);
/* codec-inet.c: likewise for TCP and UDP sockets */
void img_enc_inet(struct enc *e, const struct img_file *f);
void img_dec_inet(struct dec *d, struct img_file *f);
/* codec-sockx.c: the SOCKX record of an inet FILE */
int img_enc_sockx(struct enc *e, const struct img_file *f);
int img_dec_sockx(struct dec *d, struct img_file *f);
void img_sockx_free(struct img_inet *in);
void img_enc_netlink(struct enc *e, const struct img_file *f);
void img_dec_netlink(struct dec *d, struct img_file *f);

/* codec-task.c: the kernel state at the end of PROC and THREAD */
void img_enc_pstate(struct enc *e, const struct img_pstate *s);
void img_dec_pstate(struct dec *d, struct img_pstate *s);
void img_enc_pidlv(struct enc *e, const struct img_pidlv *l);
void img_enc_nsids(struct enc *e, const int32_t *ids, uint32_t n);
void img_dec_nsids(struct dec *d, int32_t *ids, uint32_t *n);
void img_dec_pidlv(struct dec *d, struct img_pidlv *l, int zombie);
void img_enc_tstate(struct enc *e, const struct img_tstate *s);
void img_dec_tstate(struct dec *d, struct img_tstate *s);
void img_enc_seccomp(struct enc *e, const struct img_seccomp *s);
void img_dec_seccomp(struct dec *d, struct img_seccomp *s);
void img_pstate_free(struct img_pstate *s);
void img_enc_tshare(struct enc *e, const struct img_tshare *s);
void img_enc_guards(struct enc *e, const struct img_vma *v);
void img_dec_guards(struct dec *d, struct img_vma *v, uint32_t page_size);
void img_dec_tshare(struct dec *d, struct img_tshare *s);
void img_tshare_free(struct img_tshare *s);

int img_dec_proc(struct dec *d, struct img_proc *p);
int img_dec_zombie(struct dec *d, struct img_proc *p);
int img_dec_thread(struct dec *d, struct img_thread *t, uint32_t isa);
int img_dec_vma(struct dec *d, struct img_vma *v, uint32_t page_size);
int img_dec_fd(struct dec *d, struct img_fd *f);
int img_dec_sigacts(struct dec *d, struct img_sigact *acts);
int img_dec_file(struct dec *d, struct img_file *f);
int img_dec_file_data(struct dec *d, uint32_t *file, struct img_chunk *ch);
int img_dec_shm(struct dec *d, struct img_shm *s);
int img_dec_ghost(struct dec *d, struct img_ghost *g);
int img_dec_lock(struct dec *d, struct img_lock *l);
int img_dec_fown(struct dec *d, struct img_fown *o);
int img_dec_aio(struct dec *d, struct img_aio *a);
int img_dec_ns(struct dec *d, struct img_ns *ns);
int img_dec_cgroup(struct dec *d, struct img_cgroup *cg);

void img_proc_free(struct img_proc *p);
void img_thread_free(struct img_thread *t);
void img_vma_free(struct img_vma *v);
void img_fd_free(struct img_fd *f);
void img_shm_free(struct img_shm *s);
void img_ghost_free(struct img_ghost *g);
void img_ns_free(struct img_ns *ns);
void img_cgroup_free(struct img_cgroup *cg);
/* codec-mnt.c: a relative path ("" too) with no empty, "." or ".."
 * component */
int img_path_comps_ok(const char *p);
int img_enc_mount(struct enc *e, const struct img_mount *m);
int img_dec_mount(struct dec *d, struct img_mount *m);
int img_enc_nsmount(struct enc *e, const struct img_mount *m);
int img_dec_nsmount(struct dec *d, struct img_mount *m);
void img_mount_free(struct img_mount *m);
int img_enc_netdev(struct enc *e, const struct img_netdev *n);
int img_dec_netdev(struct dec *d, struct img_netdev *n);
int img_enc_route(struct enc *e, const struct img_route *r);
int img_dec_route(struct dec *d, struct img_route *r);
int img_enc_sysv(struct enc *e, const struct img_sysv *s);
int img_enc_sysv_data(struct enc *e, uint64_t off, const void *buf,
		      uint32_t len);
int img_enc_nsjoin(struct enc *e, const struct img_nsjoin *j);
int img_enc_mntfile(struct enc *e, const struct img_mntfile *f);
int img_dec_mntfile(struct dec *d, struct img_mntfile *f);
void img_mntfile_free(struct img_mntfile *f);

#endif
