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

#define OOM_SCORE_ADJ_MAX	1000	/* <uapi/linux/oom.h> */
#define MCE_KILL_DEFAULT	2	/* PR_MCE_KILL_DEFAULT */
#define SPEC_ALL		0x1fu	/* PR_SPEC_PRCTL ... DISABLE_NOEXEC */

/* u32 stop_sig wait subreaper thp_disable; i32 oom_score_adj;
 * u32 loginuid */
void img_enc_pstate(struct enc *e, const struct img_pstate *s)
{
	enc_u32(e, s->stop_sig);
	enc_u32(e, s->wait);
	enc_u32(e, s->subreaper);
	enc_u32(e, s->thp_disable);
	enc_u32(e, s->oom_score_adj);
	enc_u32(e, s->loginuid);
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
	dec_u32(d, &s->subreaper);
	dec_u32(d, &s->thp_disable);
	dec_i32(d, &s->oom_score_adj);
	dec_u32(d, &s->loginuid);
	dec_check(d, s->subreaper <= 1, "child subreaper %u", s->subreaper);
	dec_check(d, s->thp_disable <= 1 || s->thp_disable == 3,
		  "THP disable %u", s->thp_disable);
	dec_check(d, s->oom_score_adj >= -OOM_SCORE_ADJ_MAX &&
		  s->oom_score_adj <= OOM_SCORE_ADJ_MAX, "oom_score_adj %d",
		  s->oom_score_adj);
}

/* u32 pdeathsig mce_kill; u64 timer_slack_ns; u32 spec x 3 */
void img_enc_tstate(struct enc *e, const struct img_tstate *s)
{
	int i;

	enc_u32(e, s->pdeathsig);
	enc_u32(e, s->mce_kill);
	enc_u64(e, s->timer_slack_ns);
	for (i = 0; i < 3; i++)
		enc_u32(e, s->spec[i]);
}

void img_dec_tstate(struct dec *d, struct img_tstate *s)
{
	int i;

	dec_u32(d, &s->pdeathsig);
	dec_u32(d, &s->mce_kill);
	dec_u64(d, &s->timer_slack_ns);
	for (i = 0; i < 3; i++) {
		dec_u32(d, &s->spec[i]);
		dec_check(d, !(s->spec[i] & ~SPEC_ALL),
			  "speculation control %#x", s->spec[i]);
	}
	dec_check(d, s->pdeathsig <= IMG_NSIG, "parent-death signal %u",
		  s->pdeathsig);
	dec_check(d, s->mce_kill <= MCE_KILL_DEFAULT, "MCE kill policy %u",
		  s->mce_kill);
}
