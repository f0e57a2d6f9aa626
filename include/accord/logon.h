/* SPDX-License-Identifier: MIT */
/*
 * The registry's secrets store: password hashes and logon records, kept
 * apart from the world-readable snapshot.
 *
 *   <registry>/secrets/            root, 0700
 *   <registry>/secrets/password/   root, 0700; one file per profile, 0600:
 *                                  "accord-secret 1 <uid> <created> <hash>\n"
 *   <registry>/secrets/logon/      root, 0700; one file per profile, 0600:
 *                                  a fixed-size logon record (below)
 *
 * Every host that uses the registry reads and writes the same files, so a
 * failure count or a failure revoke is shared by all of them and survives
 * reboots.  A record is bound to its profile by name, UID and creation
 * time: a profile deleted and created again never inherits the old
 * password or count.  Counting a failure touches one small file under an
 * fcntl lock; it never rewrites the snapshot.
 *
 * Trust: the directories must be owned by root (by the caller when the
 * caller is not root, for tests) with no group or other permission bits,
 * the files likewise and not links; otherwise every call fails with
 * -EPERM and a message naming the file.  Damaged content is -EBADMSG.
 */
#ifndef ACCORD_LOGON_H
#define ACCORD_LOGON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>

/* Which profile a secret or a logon record belongs to. */
struct accord_profile_ref {
	const char *name;
	uint32_t uid;
	int64_t created;
};

struct accord_secrets;

/* Opens <registry_dir>/secrets.  With create, makes the missing
 * directories (root, 0700); without, a missing store is -ENOENT. */
int accord_secrets_open(const char *registry_dir, bool create,
			struct accord_secrets **out, struct accord_err *err);
void accord_secrets_close(struct accord_secrets *s);

/* Hashes pw with crypt_gensalt (yescrypt) and stores it atomically
 * (tmp, fsync, rename).  The password is never logged or kept. */
int accord_secret_set(struct accord_secrets *s,
		      const struct accord_profile_ref *p, const char *pw,
		      struct accord_err *err);
/* Removes the stored hash (no password).  0 also when there was none. */
int accord_secret_clear(struct accord_secrets *s, const char *name,
			struct accord_err *err);
/*
 * 0: pw matches.  -EACCES: it does not.  -ENOENT: no password stored for
 * this profile (or one of an earlier profile of the same name).
 * -EBADMSG: damaged file.  -EPERM: untrusted file.  Compares in constant
 * time.  Every outcome costs about one hash.
 */
int accord_secret_verify(struct accord_secrets *s,
			 const struct accord_profile_ref *p, const char *pw,
			 struct accord_err *err);
/* The cost of one verify for a caller that has nothing to verify
 * (unknown or refused user), so that every answer takes about as long. */
void accord_secret_dummy_verify(const char *pw);

/* Why a logon record holds a profile revoked. */
enum accord_logon_revoke {
	ACCORD_LOGON_NOT_REVOKED = 0,
	ACCORD_LOGON_REVOKED_FAILURES = 1,
	ACCORD_LOGON_REVOKED_INACTIVE = 2,
};

struct accord_logon_rec {
	uint32_t failures;       /* consecutive bad secrets */
	uint32_t revoked;        /* enum accord_logon_revoke */
	int64_t last_success;    /* 0: never */
	int64_t last_failure;    /* 0: never */
	int64_t revoked_at;      /* 0: not revoked */
};

/* Reads the record (a missing one, or one of an earlier profile of the
 * same name, is all zero).  No lock: the record carries a checksum and a
 * torn read is retried. */
int accord_logon_read(struct accord_secrets *s,
		      const struct accord_profile_ref *p,
		      struct accord_logon_rec *out, struct accord_err *err);
/*
 * Counts one failure under the record's lock: failures + 1, last_failure
 * = now; when failures reaches revoke_after (> 0) and the record is not
 * revoked yet, revoked = FAILURES, revoked_at = now.  *after gets the new
 * record.  Concurrent callers on any host count exactly.
 */
int accord_logon_failure(struct accord_secrets *s,
			 const struct accord_profile_ref *p,
			 unsigned revoke_after, int64_t now,
			 struct accord_logon_rec *after,
			 struct accord_err *err);
/* A full successful authentication: failures = 0, last_success = now.
 * Does not lift a revoke. */
int accord_logon_success(struct accord_secrets *s,
			 const struct accord_profile_ref *p, int64_t now,
			 struct accord_err *err);
/* Records a logon that did not authenticate here (account phase of a key
 * logon): last_success = now, failures untouched.  Writes only when the
 * stored time is older than a day, so the account phase stays cheap. */
int accord_logon_touch(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err);
/* Inactivity revoke, under the lock (no-op if already revoked). */
int accord_logon_revoke(struct accord_secrets *s,
			const struct accord_profile_ref *p, uint32_t why,
			int64_t now, struct accord_err *err);
/* accordctl user resume: count 0, not revoked; last_success = now so an
 * inactivity revoke does not strike again at once. */
int accord_logon_reset(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err);
/* Removes both files of a deleted profile (0 also when absent). */
int accord_secrets_forget(struct accord_secrets *s, const char *name,
			  struct accord_err *err);

#endif
