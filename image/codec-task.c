/*
 * codec-task: the kernel state of a process and of its threads that
 * prctl() and /proc tell, at the end of the PROC and THREAD records
 * (codec.c calls these last). The decoders check every field against what
 * the kernel itself accepts, so that restore never has to.
 */
#include <signal.h>

#include "image/image.h"
#include "image/image-priv.h"

static int is_stop_signal(uint32_t sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* u32 stop_sig wait */
void img_enc_pstate(struct enc *e, const struct img_pstate *s)
{
	enc_u32(e, s->stop_sig);
	enc_u32(e, s->wait);
}

void img_dec_pstate(struct dec *d, struct img_pstate *s)
{
	dec_u32(d, &s->stop_sig);
	dec_u32(d, &s->wait);
	dec_check(d, !s->stop_sig || is_stop_signal(s->stop_sig),
		  "stop signal %u", s->stop_sig);
	dec_check(d, !(s->wait & ~IMG_WAIT_ALL), "bad wait flags %#x",
		  s->wait);
	/* a stop ends the SIGCONT's report, a SIGCONT the stop (signal.c) */
	dec_check(d, !(s->wait & IMG_WAIT_STOPPED) || s->stop_sig,
		  "a stop to report without a stop");
	dec_check(d, !(s->wait & IMG_WAIT_CONTINUED) || !s->stop_sig,
		  "a SIGCONT to report while stopped");
}
