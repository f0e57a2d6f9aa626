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
 * password or count.  Counting a failure touches one small file under a
 * lock; it never rewrites the snapshot.
 *
 * The logon record file is 128 bytes: two 64-byte slots, each with a
 * sequence number and a checksum.  A write goes to the slot that does not
 * hold the current record and is fsynced; a reader takes the valid slot
 * with the newer sequence number.  A torn write (a crash, a full disk, a
 * file size limit) therefore leaves the state before it, never a damaged
 * record.  An empty file, or one whose very first write was torn (slot 0
 * still all zero), is the all-zero record; a file with no valid slot
 * otherwise, or longer than 128 bytes, is damaged (-EBADMSG) and only
 * accord_logon_reset() rewrites it.  Files of the earlier one-slot format
 * read as damaged.
 *
 * Locks: every change takes an open file description lock (F_OFD_SETLK,
 * Linux >= 3.15) on the record file, so threads of one process exclude
 * each other too.  The wait is bounded by the store's lock timeout
 * (accord_secrets_set_lock_timeout(), ACCORD_LOGON_LOCK_TIMEOUT_MS by
 * default); past it the call fails with -ETIMEDOUT.  Readers take no lock
 * unless neither slot is whole.
 *
 * Writes: when the caller is root, RLIMIT_FSIZE is lifted for the
 * duration of each write and SIGXFSZ is held off, so a caller's `ulimit
 * -f` can neither fail nor tear the count (common/wguard.h).
 *
 * Trust: the registry directory must not be a link, must be owned by root
 * (by the caller when the caller is not root, for tests) and not writable
 * by group or others; the secrets directories owned likewise with no
 * group or other permission bits, the files likewise, regular and with
 * exactly one link; otherwise every call fails with -EPERM and a message
 * naming the file.  Damaged content is -EBADMSG.  -EACCES means a wrong
 * password and nothing else: a file that cannot be opened is -EPERM, one
 * that cannot be read -EIO.
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

/* Default bound of a logon record's lock wait. */
#define ACCORD_LOGON_LOCK_TIMEOUT_MS 10000u

/* Opens <registry_dir>/secrets.  With create, makes the missing
 * directories (root, 0700); without, a missing store is -ENOENT. */
int accord_secrets_open(const char *registry_dir, bool create,
			struct accord_secrets **out, struct accord_err *err);
void accord_secrets_close(struct accord_secrets *s);
/* How long record operations wait for a record's lock (milliseconds; 0:
 * try once).  The policy sets it from accord.conf's lock_timeout. */
void accord_secrets_set_lock_timeout(struct accord_secrets *s, unsigned ms);

/* Hashes pw with crypt_gensalt (yescrypt) and stores it atomically
 * (tmp, fsync, rename; temporary files older than an hour that a crash
 * left are removed first).  The password is never logged or kept. */
int accord_secret_set(struct accord_secrets *s,
		      const struct accord_profile_ref *p, const char *pw,
		      struct accord_err *err);
/* Stores an existing crypt(3) hash (a restore from a backup) for p, bound
 * to p's UID and creation time like accord_secret_set(); the hash must be
 * one crypt(3) knows (crypt_checksalt) in its own alphabet: -EINVAL
 * otherwise.  Atomic as accord_secret_set(). */
int accord_secret_set_hash(struct accord_secrets *s,
			   const struct accord_profile_ref *p, const char *hash,
			   struct accord_err *err);
/* Removes the stored hash (no password).  0 also when there was none. */
int accord_secret_clear(struct accord_secrets *s, const char *name,
			struct accord_err *err);
/*
 * 0: pw matches.  -EACCES: it does not.  -ENOENT: no password stored for
 * this profile (or one of an earlier profile of the same name).
 * -EBADMSG: damaged file.  -EPERM: untrusted file (or one that may not be
 * opened).  -EIO: unreadable.  Compares in constant time.  Every outcome
 * costs about one hash.  Counts nothing: a logon uses accord_logon_verify().
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
 * same name, is all zero).  No lock: a slot being written fails its
 * checksum and the other one is read; when neither is whole, it reads
 * again under a read lock (bounded) before reporting -EBADMSG. */
int accord_logon_read(struct accord_secrets *s,
		      const struct accord_profile_ref *p,
		      struct accord_logon_rec *out, struct accord_err *err);
/*
 * A password logon, as one operation under the record's write lock:
 *   1. read the record; a revoked one: -EKEYREVOKED (*after = the record,
 *      nothing counted, one dummy hash spent);
 *   2. load the stored hash; an untrusted, damaged or unreadable password
 *      file: that error, nothing counted, nothing verified;
 *   3. count the attempt (failures + 1, last_failure = now, fsync) BEFORE
 *      verifying; if that write fails: the error, the password is never
 *      verified (one dummy hash spent) -- the caller must deny;
 *   4. verify (constant time; a dummy hash when none is stored);
 *   5. match: failures = 0, last_success = now, written; returns 0.  If
 *      this second write fails the attempt stays counted and 1 is
 *      returned (allowed; err says what was not recorded);
 *      no match: -EACCES, or -ENOENT when no password is stored; when
 *      failures reached revoke_after (> 0): revoked = FAILURES,
 *      revoked_at = now, written (a failure of that write is returned
 *      instead).
 * *after (may be NULL) gets the record as stored.  Other errors: -EINVAL,
 * -EPERM, -EIO, -EBADMSG (damaged record or hash), -ETIMEDOUT (lock),
 * -ENOMEM; -EACCES, -ENOENT and -EKEYREVOKED only mean what they say
 * above.  Holding the lock while verifying also serialises guessing per
 * profile across processes and hosts.  Protected profiles are not
 * counted: the policy does not call this for them.
 */
int accord_logon_verify(struct accord_secrets *s, const struct accord_profile_ref *p,
			const char *pw, unsigned revoke_after, int64_t now,
			struct accord_logon_rec *after, struct accord_err *err);
/*
 * The check of accord_logon_check(), called under the record's write lock
 * after the attempt was counted: 0 when the secret is right, -EACCES when
 * it is not; any other negative errno (err filled) is an error that is no
 * verdict (the attempt stays counted, nothing is revoked).
 */
typedef int (*accord_logon_check_fn)(void *arg, struct accord_err *err);
/*
 * accord_logon_verify() for any kind of secret (a PassTicket, a password,
 * or one tried as both): the same steps under the record's write lock,
 *   1. revoked: -EKEYREVOKED (*after = the record; check never called);
 *   2. count the attempt (failures + 1, last_failure = now, fsync); if
 *      that write fails: the error, check never called;
 *   3. check(arg, err): 0 -> failures = 0, last_success = now, written,
 *      0 returned (1 when that write fails: allowed, err says so);
 *      -EACCES -> -EACCES, revoked at revoke_after (> 0) as for a bad
 *      password; other -> returned as it is (never -EACCES, -ENOENT or
 *      -EKEYREVOKED), nothing revoked.
 * Spends no dummy hash: the check and the caller keep the time even.
 * One attempt is one count, however many ways check tries the secret.
 */
int accord_logon_check(struct accord_secrets *s, const struct accord_profile_ref *p,
		       accord_logon_check_fn check, void *arg,
		       unsigned revoke_after, int64_t now,
		       struct accord_logon_rec *after, struct accord_err *err);
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
 * inactivity revoke does not strike again at once.  Rewrites both slots,
 * so it also repairs a damaged record. */
int accord_logon_reset(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err);
/* Removes both files of a deleted profile (0 also when absent). */
int accord_secrets_forget(struct accord_secrets *s, const char *name,
			  struct accord_err *err);

#endif
