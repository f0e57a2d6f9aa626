/* SPDX-License-Identifier: MIT */
/*
 * Logon-decision audit records: one per decision of pam_accord
 * (authenticate, account, chauthtok, session open/close), as key=value
 * text for syslog and as one JSON object per line in the audit file
 * (config audit_file).  Never holds a password, hash or ticket.
 *
 * JSON fields (all present, strings "" when unknown): time (ISO 8601
 * UTC), host, service, appl, phase, method, result (success|failure),
 * reason (accord_reason_name()), user, job_user, current_user, rhost, tty,
 * granting, generation (number), failures (number, -1 when not counted);
 * for certificate logons also cert_check, cert_tier, cert_label,
 * cert_sha256, cert_serial, cert_subject, cert_issuer.
 * Each string keeps at most 256 bytes of its value (cut between two
 * characters, "..." appended); invalid UTF-8 becomes U+FFFD.
 */
#ifndef ACCORD_AUDIT_H
#define ACCORD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <accord/error.h>

struct accord_audit_rec {
	int64_t time;
	const char *host, *service, *appl, *phase, *method, *result, *reason;
	const char *user;          /* the target profile */
	const char *job_user;      /* who logged in: PAM_RUSER or login uid */
	const char *current_user;  /* whom the work runs as */
	const char *rhost, *tty;
	const char *granting;      /* "group:ops", "user:alice", "uacc",
				      "undefined", "permit:wheel", "" */
	uint64_t generation;       /* snapshot generation decided on */
	int64_t failures;          /* failure count after, -1 not counted */
	/* certificate logons only (cert_sha256 != NULL adds them all):
	 * cert_check (the chain verdict: ok, expired, unknown_ca, ...),
	 * cert_tier (registered | filter | none), cert_label (the map that
	 * decided), cert_sha256, cert_serial, cert_subject, cert_issuer */
	const char *cert_check, *cert_tier, *cert_label, *cert_sha256;
	const char *cert_serial, *cert_subject, *cert_issuer;
};

/*
 * "accord: phase=auth result=failure reason=bad_secret service=sshd ..."
 * Keys in this order, what this host decided before what the other end
 * chose: phase result reason service appl method host rhost tty
 * generation failures granting user job_user current_user.  Every byte
 * outside printable ASCII (controls, DEL, >= 0x80) is \xHH, '"' and '\'
 * are backslash-escaped; such values, empty ones and cut ones are quoted.
 * Each value shows at most 64 bytes ("..." inside the quotes after a
 * cut).  When len is too small, whole pairs are dropped from the end.
 * " truncated=1" ends the line when anything was cut or dropped (if it
 * fits).  Returns the length written.
 */
size_t accord_audit_kv(const struct accord_audit_rec *r, char *buf, size_t len);
/* The JSON line (with its '\n'); returns the length, or 0 if len is too
 * small. */
size_t accord_audit_json(const struct accord_audit_rec *r, char *buf,
			 size_t len);
/*
 * Appends one line with one write(2) (O_APPEND|O_NOFOLLOW|O_CLOEXEC,
 * created 0600), with the caller's RLIMIT_FSIZE lifted when root.  The
 * directory is opened without following a link and must be owned by root
 * (or the caller when not root) and not writable by group or others; the
 * file must be regular, have one link, be owned likewise and have no
 * group or other permission bits at all (a mistyped user name may be a
 * password): -EPERM if not.
 */
int accord_audit_append(const char *path, const struct accord_audit_rec *r,
			struct accord_err *err);

struct accord_audit_filter {
	const char *user;          /* matches user, job_user or current_user */
	int64_t since;             /* records at or after; 0 all */
};
/* Reads the file; cb gets each matching record (parsed) and its line.
 * A malformed line is reported through bad (file:line, then continues)
 * when bad is not NULL.  A non-zero return of cb stops the walk. */
typedef int (*accord_audit_cb)(json_object *rec, const char *line, void *ctx);
typedef void (*accord_audit_bad_cb)(unsigned lineno, const char *why, void *ctx);
int accord_audit_read(const char *path, const struct accord_audit_filter *f,
		      accord_audit_cb cb, accord_audit_bad_cb bad, void *ctx,
		      struct accord_err *err);
/* Parses "2026-11-21", "2026-11-21T10:00:00Z", "2026-11-21 10:00" (UTC)
 * or "@1790000000" (epoch seconds).  0 or -EINVAL. */
int accord_parse_time(const char *s, int64_t *out);

#endif
