/*
 * The threads of ckpt cc programs (part of the runtime, cc/rt.c): the
 * landmark pass renames the program's calls of pthread_create to the
 * function below, which keeps the number of the program's threads alive
 * (each counted gone when its start routine returns or it calls
 * pthread_exit; main's pthread_exit is not counted: more, never fewer). The runtime's checkpointer (cc/rt-dump.c)
 * takes one thread only yet and refuses a program that has more.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "arch/xisa-rt.h"

static volatile int nr_threads = 1;	/* main's */

struct start {
	void *(*fn)(void *);
	void *arg;
};

int ckpt_xisa_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg);

int ckpt_xisa_threads(void)
{
	return __atomic_load_n(&nr_threads, __ATOMIC_SEQ_CST);
}

static void gone(void *unused)
{
	(void)unused;
	__atomic_sub_fetch(&nr_threads, 1, __ATOMIC_SEQ_CST);
}

static void *run(void *p)
{
	struct start s = *(struct start *)p;
	void *ret;

	free(p);
	/* pthread_exit, cancellation or a return: each counts it gone */
	pthread_cleanup_push(gone, NULL);
	ret = s.fn(s.arg);
	pthread_cleanup_pop(1);
	return ret;
}

int ckpt_xisa_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg)
{
	struct start *s = malloc(sizeof(*s));	/* libc's: not carried */
	int ret;

	if (!s)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	/* counted before it runs: the checkpointer never sees fewer */
	__atomic_add_fetch(&nr_threads, 1, __ATOMIC_SEQ_CST);
	ret = pthread_create(t, attr, run, s);
	if (ret) {
		__atomic_sub_fetch(&nr_threads, 1, __ATOMIC_SEQ_CST);
		free(s);
	}
	return ret;
}
