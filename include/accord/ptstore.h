/* SPDX-License-Identifier: MIT */
/*
 * PassTicket state in the registry's secrets store (include/accord/logon.h
 * for its trust rules: root only, no group/other bits, one link):
 *
 *   secrets/ptkeys/NAME     one application key per file, 0600, NAME =
 *                           APPL, APPL.GROUP, APPL.USER or APPL.GROUP.USER
 *                           (RACF PTKTDATA profile names, upper case)
 *   secrets/ptauth/APPL     who may generate tickets for APPL (RACF
 *                           IRRPTAUTH.APPL.*): lines "group NAME" or
 *                           "user NAME" (Linux names), 0600
 *   secrets/replay/HASH     one file per accepted ticket, created
 *                           atomically (tmp + link(), safe on NFS), naming
 *                           its expiry; removed once expired
 *
 * Every host that shares the registry shares keys, permissions and the
 * replay cache.  Keys are never logged or printed unless asked for.
 */
#ifndef ACCORD_PTSTORE_H
#define ACCORD_PTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/logon.h>
#include <accord/passticket.h>

/* PTKTDATA profile name: APPL[.QUAL[.QUAL]], each part a RACF ID. */
#define ACCORD_PT_PROFILE_MAX (3 * (ACCORD_PT_ID_MAX + 1))

/* The canonical (upper-case) form of a profile name; -EINVAL with a
 * message otherwise.  (Added with the implementation.) */
int accord_pt_profile_name(const char *in, char out[ACCORD_PT_PROFILE_MAX + 1],
			   struct accord_err *err);

/* Stores (replaces) the key of a profile name (validated, upper-cased). */
int accord_pt_key_put(struct accord_secrets *s, const char *profile,
		      const struct accord_pt_key *k, struct accord_err *err);
/* Parses the text of a key file as the store writes it (a backup holds
 * these bytes): 0 or -EBADMSG.  k holds the key: wipe it after use. */
int accord_pt_key_parse(const char *text, size_t len, struct accord_pt_key *k,
			struct accord_err *err);
/* -ENOENT when there is none. */
int accord_pt_key_get(struct accord_secrets *s, const char *profile,
		      struct accord_pt_key *k, struct accord_err *err);
int accord_pt_key_del(struct accord_secrets *s, const char *profile,
		      struct accord_err *err);
/* Calls cb for each stored key (profile name and settings; the key bytes
 * are there for `key list --show` only).  A non-zero return stops. */
typedef int (*accord_pt_key_cb)(const char *profile,
				const struct accord_pt_key *k, void *ctx);
int accord_pt_key_list(struct accord_secrets *s, accord_pt_key_cb cb,
		       void *ctx, struct accord_err *err);
/*
 * The key that validates a ticket of (appl, group, user), with RACF's
 * precedence APPL.GROUP.USER > APPL.USER > APPL.GROUP > APPL; group may be
 * NULL (the user's RACF group: accord uses the profile's primary group
 * when it is a valid RACF ID).  found gets the profile name used.
 * -ENOENT when none exists.  Validation tries the qualified key, then
 * falls back to APPL (RACF does): callers use accord_pt_key_get(APPL) for
 * that second try.
 */
int accord_pt_key_find(struct accord_secrets *s, const char *appl,
		       const char *group, const char *user,
		       struct accord_pt_key *k,
		       char found[ACCORD_PT_PROFILE_MAX + 1],
		       struct accord_err *err);

/* IRRPTAUTH: kind is ACCORD_ACE_USER or ACCORD_ACE_GROUP (snapshot.h),
 * who a Linux name.  Return 1 when nothing changed. */
int accord_pt_permit(struct accord_secrets *s, const char *appl,
		     uint32_t kind, const char *who, bool on,
		     struct accord_err *err);
/* Calls cb for each permission of appl (or of every APPL when NULL). */
typedef int (*accord_pt_permit_cb)(const char *appl, uint32_t kind,
				   const char *who, void *ctx);
int accord_pt_permit_list(struct accord_secrets *s, const char *appl,
			  accord_pt_permit_cb cb, void *ctx,
			  struct accord_err *err);

/*
 * The authorization to generate (IRRPTAUTH.APPL.*): requester is a Linux
 * profile name, NULL for root (always allowed).  0: a "user" entry of
 * appl names it, or a "group" entry names its primary group or one of
 * its groups in snap.  -EACCES: not authorized (err says so).  Other
 * errors: the permissions could not be read (deny).  Any target user:
 * the permission is not per target.  (Added with the implementation.)
 */
struct accord_snapshot;
int accord_pt_may_generate(struct accord_secrets *s,
			   const struct accord_snapshot *snap, const char *appl,
			   const char *requester, struct accord_err *err);

/*
 * Replay protection: claims (user, appl, ticket) until `expires` (t_gen +
 * window).  0: first use, recorded (fsync'd) before returning.
 * -EALREADY: used before and not expired.  Any other error: the caller
 * refuses the logon (fail closed).  Sweeps a few expired entries on the
 * way (never more than a bounded number per call).  user and appl are
 * RACF IDs (folded to upper case); the ticket is folded to upper case for
 * the cache key whatever its type, so a legacy or UPPER ticket cannot be
 * replayed in another case (for MIXED tickets that only merges tickets no
 * one can tell apart by case: never an accepted replay).  An entry whose
 * expiry is before `now` is replaced.
 */
int accord_pt_replay_claim(struct accord_secrets *s, const char *user,
			   const char *appl, const char *ticket,
			   int64_t expires, int64_t now,
			   struct accord_err *err);

#endif
