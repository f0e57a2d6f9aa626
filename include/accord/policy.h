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
	ACCORD_R_REPLAY,             /* replay: a PassTicket used before */
	ACCORD_R_TICKET_EXPIRED,     /* ticket_expired: outside its window */
	ACCORD_R_NO_KEY,             /* no_key: no PassTicket key for the appl */
	ACCORD_R_NO_CERT,            /* no_certificate: no source offered one */
	ACCORD_R_CERT_POP,           /* cert_pop_failed: no proof of possession
					(bad signature, wrong PIN, stale answer) */
	ACCORD_R_CERT_INVALID,       /* cert_invalid: the chain is refused
					(expired, unknown CA, revoked, usage...) */
	ACCORD_R_CERT_UNMAPPED,      /* cert_unmapped: no map (or no criteria
					entry) matches */
	ACCORD_R_CERT_NOTRUST,       /* cert_notrust: the deciding map or
					registration is NOTRUST */
	ACCORD_R_CERT_MISMATCH,      /* cert_user_mismatch: maps to another user
					than the one given */
	ACCORD_R_COUNT
};
const char *accord_reason_name(enum accord_reason r);

/* Logon methods (methods= of the module). */
#define ACCORD_METHOD_PASSWORD 1u
/* RACF PassTickets (include/accord/passticket.h): the typed secret is
 * tried as a ticket for the stack's application. */
#define ACCORD_METHOD_PASSTICKET 2u
/* X.509 certificates (pam_accord methods=cert): proof of possession,
 * chain verification and mapping happen in the module (certmap.h,
 * certverify.h); accord_decide_cert() then checks the mapped profile. */
#define ACCORD_METHOD_CERT 4u

/* A decoded ticket this far (seconds) outside its window is reported as
 * ticket_expired; farther, it is most likely no ticket at all (a random
 * 8-character string decodes to some time under most keys): bad_secret. */
#define ACCORD_PT_EXPIRED_PLAUSIBLE 86400

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
	unsigned method;             /* ACCORD_METHOD_* the audit record names:
					PASSTICKET when a ticket was accepted
					or is the reason of the refusal, else
					PASSWORD (0 before any auth decision) */
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
/* Early in authenticate: status for `methods` (ACCORD_METHOD_* bits)
 * before any prompt.  OK means: ask for the secret.  A no-password
 * profile may not use PASSWORD; a protected one (reached only in batch
 * stacks) may not use PASSTICKET (RACF); PASSTICKET needs an application
 * and a profile name that are RACF IDs (1-8 of A-Z 0-9 @ # $ once upper-
 * cased).  None left: NO_PASSWORD (password asked for), PROTECTED
 * (passticket asked for, protected) or METHOD_REFUSED. */
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
/*
 * authenticate with the secret typed at the prompt, for the methods of
 * the stack (after auth_pre said OK).  With PASSTICKET, a secret of 8
 * characters of the ticket alphabets (A-Z a-z 0-9 - _) is first tried as
 * a PassTicket of (profile name, application), both upper-cased: the key
 * of accord_pt_key_find() (APPL.GROUP.USER > APPL.USER > APPL.GROUP >
 * APPL, the group being the profile's primary group), then the plain APPL
 * key when that one does not validate; a valid ticket is then claimed in
 * the replay cache (unless the key opted out).  When it is no valid
 * ticket and PASSWORD is allowed too, the secret is tried as the password.
 * The attempt is counted once, before anything is checked, under the
 * logon record's lock (accord_logon_check()); success resets the count.
 * No key for the application: the ticket is not tried (NO_KEY, not
 * counted, when PASSTICKET is the only usable method).  Reasons beyond
 * accord_decide_password()'s: REPLAY, TICKET_EXPIRED, NO_KEY,
 * METHOD_REFUSED, PROTECTED.  d->method tells the audit record's method.
 * With methods == PASSWORD this is accord_decide_password().
 */
enum accord_reason accord_decide_secret(const struct accord_logon_ctx *ctx,
					unsigned methods, const char *secret,
					struct accord_decision *d);
/* After a certificate was verified and mapped to ctx->user: the profile
 * must be an accord profile (UNKNOWN_USER: "mapped to unknown user") and
 * its status must allow a logon (disabled, revoked, expired, protected
 * unless batch).  No secret is involved: nothing is counted. */
enum accord_reason accord_decide_cert(const struct accord_logon_ctx *ctx,
				      struct accord_decision *d);
/* Password change: old is NULL when root changes it.  Checks status,
 * no-password, the old password (counted first, as for a logon; a right
 * one resets the count), the length rule. */
enum accord_reason accord_decide_chauthtok(const struct accord_logon_ctx *ctx,
					   const char *old, const char *new_pw,
					   struct accord_decision *d);

#endif
