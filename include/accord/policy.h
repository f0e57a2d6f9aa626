/* SPDX-License-Identifier: MIT */
/*
 * Logon decisions: profile status, passwords and failure counting, access
 * to applications (APPL class), profile swap.  pam_accord is a thin
 * adapter over these: it gathers the PAM items, calls one function per
 * phase, maps the reason to a PAM code in one place and writes the audit
 * record.  Everything a decision depends on comes from the host-local
 * snapshot, the registry's secrets store and accord.conf, never from the
 * environment.
 */
#ifndef ACCORD_POLICY_H
#define ACCORD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/logon.h>
#include <accord/registry.h>
#include <accord/snapshot.h>

/* The reason of a decision; the names are the audit record's `reason`. */
enum accord_reason {
	ACCORD_R_OK = 0,             /* ok */
	ACCORD_R_BAD_SECRET,         /* bad_secret: wrong password */
	ACCORD_R_UNKNOWN_USER,       /* unknown_user */
	ACCORD_R_DISABLED,           /* disabled */
	ACCORD_R_REVOKED,            /* revoked: by an administrator */
	ACCORD_R_REVOKED_FAILURES,   /* revoked_failures */
	ACCORD_R_REVOKED_INACTIVE,   /* revoked_inactive */
	ACCORD_R_EXPIRED,            /* expired: revoke date reached */
	ACCORD_R_PROTECTED,          /* protected: no interactive logon */
	ACCORD_R_NO_PASSWORD,        /* no_password: password method refused */
	ACCORD_R_METHOD_REFUSED,     /* method_refused: not in methods= */
	ACCORD_R_APPL_DENIED,        /* appl_denied */
	ACCORD_R_SWAP_DENIED,        /* swap_denied */
	ACCORD_R_PASSWORD_REJECTED,  /* password_rejected: new one too weak */
	ACCORD_R_INTERNAL_ERROR,     /* internal_error: config, store, damage */
	ACCORD_R_COUNT
};
const char *accord_reason_name(enum accord_reason r);

/* Logon methods (methods= of the module). */
#define ACCORD_METHOD_PASSWORD 1u
/* PassTickets and certificates plug in here (issues 4 and 5). */

/* One decision's inputs. */
struct accord_logon_ctx {
	const struct accord_config *cfg;
	const struct accord_snapshot *snap;  /* the host-local snapshot */
	struct accord_secrets *secrets;      /* NULL if it could not open */
	const char *user;                    /* target profile */
	const char *appl;                    /* application (PAM service) */
	const char *requester;               /* swap: who asks; NULL if unknown */
	bool swap;                           /* su/sudo-like stack */
	bool batch;                          /* non-interactive stack (cron) */
	int64_t now;
};

/* One decision's outcome, for the PAM code and the audit record. */
struct accord_decision {
	enum accord_reason reason;
	bool known;                  /* the target is an accord profile */
	struct accord_snap_user user;/* valid when known */
	char granting[96];           /* appl: "group:ops", "user:al", "uacc",
					"undefined"; swap: "permit:wheel", ... */
	int64_t failures;            /* count after this decision, -1 none */
	int64_t last_success;        /* from the logon record the status
					check read, -1 if none was read */
	char detail[256];            /* for the log: what exactly happened */
};

/*
 * Profile status at ctx->now, from the snapshot and the logon record:
 * disabled, revoked (admin), expired (revoke date), revoked after a
 * resume date is lifted, revoked_failures, revoked_inactive (evaluated
 * here, and recorded, when inactive_days is set: RACF's "next attempt"),
 * protected (unless batch).  Protected profiles are never revoked for
 * failures or inactivity.
 */
enum accord_reason accord_check_status(const struct accord_logon_ctx *ctx,
				       struct accord_decision *d);
/* APPL: defined -> the highest of the user entry and every group entry
 * that matches (primary included), else uacc; READ allows.  Undefined ->
 * allowed unless protect_all. */
enum accord_reason accord_check_appl(const struct accord_logon_ctx *ctx,
				     struct accord_decision *d);
/* Swap: target == requester is no swap; a target in swap_never is
 * refused; else a deny rule for any of the requester's groups refuses,
 * a permit rule allows, no rule refuses. */
enum accord_reason accord_check_swap(const struct accord_logon_ctx *ctx,
				     struct accord_decision *d);

/* The account phase: status, appl, swap (when ctx->swap), then records
 * the logon time (accord_logon_touch).  Unknown users: UNKNOWN_USER; on a
 * swap stack the swap rules still apply to a target that is no accord
 * profile (root): SWAP_DENIED when they refuse, else UNKNOWN_USER with
 * d->granting naming what let it through (the module's PAM_USER_UNKNOWN
 * lets user_unknown=ignore hand the account to pam_unix). */
enum accord_reason accord_decide_account(const struct accord_logon_ctx *ctx,
					 struct accord_decision *d);
/* Early in authenticate: status for `methods` before any prompt.  OK
 * means: ask for the secret. */
enum accord_reason accord_decide_auth_pre(const struct accord_logon_ctx *ctx,
					  unsigned method,
					  struct accord_decision *d);
/* Verifies a password after auth_pre said OK, through
 * accord_logon_verify(): the attempt is counted before it is checked (a
 * count that cannot be written is INTERNAL_ERROR, the password never
 * checked), success resets the count, a bad one revokes at revoke_after.
 * The snapshot's status and the record's revoke are checked again, so a
 * revoke that came during the prompt is honoured.  Record locks wait at
 * most accord.conf's lock_timeout (at least 1 s). */
enum accord_reason accord_decide_password(const struct accord_logon_ctx *ctx,
					  const char *pw,
					  struct accord_decision *d);
/* Password change: old is NULL when root changes it.  Checks status,
 * no-password, the old password (counted first, as for a logon; a right
 * one resets the count), the length rule. */
enum accord_reason accord_decide_chauthtok(const struct accord_logon_ctx *ctx,
					   const char *old, const char *new_pw,
					   struct accord_decision *d);

#endif
