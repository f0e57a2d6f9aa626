/* SPDX-License-Identifier: MIT */
/*
 * Write guard for the files pam_accord writes from inside sshd, login and
 * su (logon records, password files, the audit file).  The caller of su
 * chooses its resource limits: with `ulimit -f 0` (or a small limit) and
 * SIGXFSZ ignored, every write would fail or tear.  Around each write:
 *
 *   - SIGXFSZ is blocked in the calling thread, and one that our own
 *     write raised is consumed before the old mask comes back, so it can
 *     neither kill the process half-way nor be delivered later;
 *   - when the effective UID is 0, RLIMIT_FSIZE (soft and hard) is raised
 *     to RLIM_INFINITY and the previous limits are restored afterwards.
 *     The limit is per process: nested and concurrent guards (threads)
 *     share one raise under a mutex; the last one out restores it.
 *
 * When the limit cannot be raised (not root), writes past it fail with
 * EFBIG and the callers fail closed.  Implemented in logon.c.
 */
#ifndef ACCORD_WGUARD_H
#define ACCORD_WGUARD_H

#include <signal.h>
#include <stdbool.h>

struct accord_wguard {
	sigset_t oldmask;
	bool masked;   /* the thread's mask was changed */
	bool entered;  /* counted in the process-wide raise */
};

void accord_wguard_begin(struct accord_wguard *g);
void accord_wguard_end(struct accord_wguard *g);

#endif
