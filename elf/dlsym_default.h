/*
 * dlsym_default: look up the default (@@) version of a dynamic symbol.
 *
 * glibc exports several versions of some symbols (memcpy@GLIBC_2.2.5 and
 * memcpy@@GLIBC_2.14, pthread_cond_wait@GLIBC_2.2.5 and
 * pthread_cond_wait@@GLIBC_2.3.2, ...). A program linked against the
 * library binds to the default version; dlvsym(3) needs the version name,
 * which differs between distributions and architectures. dlsym_default()
 * reads the version tables of the loaded objects from memory and returns
 * the default version itself, whatever dlsym(3) would have chosen.
 *
 * Link with -ldlsym_default -ldl. See dlsym_default(3).
 */
#ifndef DLSYM_DEFAULT_H
#define DLSYM_DEFAULT_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The address of the default version of the dynamic symbol `name': a
 * definition (not SHN_UNDEF) of global, weak or unique binding, default or
 * protected visibility, whose version index does not have the hidden bit;
 * in an object without version information, the plain definition.
 *
 * `handle' is a handle from dlopen(3), searched as dlsym(3) does: the
 * object, then its dependencies breadth first. RTLD_DEFAULT searches the
 * main program, then the loaded libraries in link-map order; RTLD_NEXT the
 * objects after the one that contains the caller. An indirect function
 * (STT_GNU_IFUNC) gives the implementation its resolver selects; a
 * thread-local variable its address in the calling thread.
 *
 * Returns NULL on failure, with a message from dlsym_default_error().
 */
void *dlsym_default(void *handle, const char *name)
	__attribute__((warn_unused_result));

/*
 * A message describing why the last call of dlsym_default() in this thread
 * failed, or NULL if it succeeded (or none was made). Unlike dlerror(3),
 * reading the message does not clear it; the storage is thread-local and
 * valid until the next call of dlsym_default() in the same thread.
 */
const char *dlsym_default_error(void);

#ifdef __cplusplus
}
#endif

#endif /* DLSYM_DEFAULT_H */
