/* SPDX-License-Identifier: MIT */
/*
 * Restoring a registry from a backup (accordctl restore, accordctl(8)
 * RESTORE): what a restore changes, decided here, applied by the caller
 * in one transaction.
 *
 * Classes (statediff.h's enum accord_class, plus two that only a backup
 * with secrets holds):
 *   default     users, groups (members included), appls (access lists
 *               included), swaps, certmaps (maps, registrations, criteria),
 *               ptauth (PassTicket permissions)
 *   cas         CAs and CRLs (trust anchors): only when --only names it
 *   passwords   password hashes: only with --include-secrets (restored for
 *               the profiles of the users class that are not excluded)
 * PassTicket keys (this registry's own keys) are restored only when
 * --only names `ptkeys` explicitly, and only with --include-secrets: a
 * key is shared with the one partner system that generates tickets, and a
 * key restored from another registry (or an older one) is exactly the
 * foreign host state a restore must not bring along by default.
 * Never restored, whatever is asked: logon records (failure counts,
 * failure and inactivity revokes, last logon), the replay cache, the
 * host-local snapshot; a backup does not even hold them.  A restore from
 * another registry therefore cannot bring that system's PassTicket keys
 * or trust anchors along unless the administrator names those classes.
 *
 * Exclusions: fnmatch(3) patterns on object names.  An excluded name is
 * left exactly as it is live wherever it appears: the profile, group,
 * application or certificate object of that name, a membership of that
 * user, an access-list entry or PassTicket permission naming that user or
 * group, a swap rule from or to it ("FROM->TO" also matches), a map,
 * registration or criteria entry owned by it or labelled so.
 *
 * The target: the live state changed, per included class and non-excluded
 * name, to match the backup: objects only in the backup added, objects
 * only live deleted, objects in both changed to the backup's fields.  The
 * state operations' cascades apply (deleting a profile removes its access
 * list entries, swap rules and maps, as `user del` does).
 *   - A profile that does not exist live is added with no-password unless
 *     full (IBM i RSTUSRPRF of a single missing profile: PASSWORD(*NONE));
 *     one that exists keeps its own no-password mark unless full (its
 *     password state is this host's), so a second restore changes nothing.
 *   - A group the backup does not have but that is still the primary
 *     group of a profile kept here (excluded, or users not restored) is
 *     kept, with a note.
 *   - IDs: a profile or group comes back with its old UID/GID.  When only
 *     tombstones of the same name reserve that ID, it takes it back (the
 *     state's shared path: the profile then carries the shared-ID mark).
 *     A live holder of another name, or a tombstone of another name, is a
 *     conflict; so is a group whose GID differs live and in the backup (no
 *     operation changes a GID), and a profile whose primary group is
 *     neither live nor restored (a personal group, of the profile's name
 *     and primary GID in the backup, always comes back with its profile).  Conflicts refuse the whole restore
 *     (-EEXIST, every conflict listed): exclude those names to restore
 *     the rest.
 *   - A registered certificate only in the backup is registered again
 *     from the certificate the snapshot keeps with it; one written by an
 *     older accordctl (digest only) is reported as a note, the rest is
 *     restored.
 */
#ifndef ACCORD_RESTORE_H
#define ACCORD_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/state.h>
#include <accord/statediff.h>

/* Class bits: 1u << enum accord_class, and passwords (set by
 * --include-secrets, never by --only). */
#define ACCORD_RESTORE_PASSWORDS (1u << ACCORD_CLASS_COUNT)
/* PassTicket keys: only when --only names "ptkeys" (with --include-secrets) */
#define ACCORD_RESTORE_PTKEYS (1u << (ACCORD_CLASS_COUNT + 1))
#define ACCORD_RESTORE_DEFAULT                                                 \
	((1u << ACCORD_CLASS_USER) | (1u << ACCORD_CLASS_GROUP) |              \
	 (1u << ACCORD_CLASS_APPL) | (1u << ACCORD_CLASS_SWAP) |               \
	 (1u << ACCORD_CLASS_CERTMAP) | (1u << ACCORD_CLASS_PTAUTH))

#define ACCORD_RESTORE_MAX_EXCLUDE 256

/* "users,groups,cas" -> bits; -EINVAL naming an unknown class (ptkeys
 * and passwords are refused with the reason) or an empty list. */
int accord_restore_parse_only(const char *list, unsigned *mask,
			      struct accord_err *err);

struct accord_restore_opts {
	unsigned classes;               /* class bits */
	const char *const *exclude;     /* fnmatch patterns */
	size_t nexclude;
	bool full;                      /* restored missing profiles keep their
					   password state and flags */
};

bool accord_restore_excluded(const struct accord_restore_opts *o,
			     const char *name);

/* Text lines, each malloc'd. */
struct accord_strlist {
	char **v;
	size_t n, cap;
};
int accord_strlist_add(struct accord_strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void accord_strlist_free(struct accord_strlist *l);

struct accord_restore_report {
	struct accord_strlist conflicts; /* any: the restore is refused */
	struct accord_strlist notes;     /* parts not restored, and why */
	struct accord_strlist added;     /* profiles that did not exist live */
};
void accord_restore_report_free(struct accord_restore_report *r);

/*
 * Changes st (the live state, in a transaction) to the target above,
 * bst being the backup's state.  0; -EEXIST with rep->conflicts filled;
 * or another negative errno (err set).  On an error st is partly changed:
 * the caller discards it (aborts the transaction).
 */
int accord_restore_state(struct accord_state *st,
			 const struct accord_state *bst,
			 const struct accord_restore_opts *o,
			 struct accord_restore_report *rep,
			 struct accord_err *err);

/*
 * PassTicket permissions ("APPL:user:NAME", "APPL:group:NAME"): the
 * target set for the ptauth class.  live and backup need not be sorted;
 * *out gets the target, sorted, without duplicates.
 */
int accord_restore_ptauth(const char *const *live, size_t nlive,
			  const char *const *backup, size_t nbackup,
			  const struct accord_restore_opts *o,
			  struct accord_strlist *out);
/* One ptauth file of a backup (lines "user NAME" / "group NAME") as
 * "APPL:kind:NAME" strings added to out; -EBADMSG on a line that is not. */
int accord_restore_ptauth_parse(const char *appl, const unsigned char *data,
				size_t len, struct accord_strlist *out);
/* The hash of a password file of the secrets store ("accord-secret 1 UID
 * CREATED HASH\n"), validated (crypt(3) alphabet); -EBADMSG otherwise. */
int accord_restore_password_hash(const unsigned char *data, size_t len,
				 char *hash, size_t cap);

/*
 * --reapply-since-backup: journal entries of generations after the
 * backup's, replayed onto the restored state.  Collect the lines (header
 * and end lines are ignored), then run: per generation, in an order that
 * satisfies references (group adds, then user adds and changes, group
 * changes, application, swap and certificate adds and changes, then
 * deletions), each change whose object is in an included class and not
 * excluded is compared with the object in st (the jsonfmt shape, without
 * the created/changed times and the shared-ID mark, members compared as
 * sets):
 *   equal to "before"  -> "after" applied (add, change, delete)
 *   equal to "after"   -> already so (counted, nothing done)
 *   otherwise          -> a conflict: listed and skipped
 * Kinds that cannot be re-applied from their journal shape (registered
 * certificates, CAs, CRLs) are listed as conflicts too; tombstones and
 * counters follow from the operations and are not replayed.
 */
struct accord_reapply_entry {
	uint64_t gen;
	char *line;             /* the journal line */
	int outcome;            /* enum accord_reapply_outcome, after run */
	char *why;              /* conflicts: the reason */
};
enum accord_reapply_outcome {
	ACCORD_REAPPLY_PENDING = 0,
	ACCORD_REAPPLY_APPLIED,
	ACCORD_REAPPLY_ALREADY,
	ACCORD_REAPPLY_CONFLICT,
	ACCORD_REAPPLY_SKIPPED,  /* class not included, or excluded name */
};
struct accord_reapply {
	struct accord_reapply_entry *v;
	size_t n, cap;
	size_t count[5];        /* per outcome */
};
/* Keeps a change line of generation gen (other lines are ignored). */
int accord_reapply_add(struct accord_reapply *ra, uint64_t gen,
		       const char *line);
int accord_reapply_run(struct accord_state *st, struct accord_reapply *ra,
		       const struct accord_restore_opts *o,
		       struct accord_err *err);
void accord_reapply_free(struct accord_reapply *ra);
/* "gen 12: change user bob" */
void accord_reapply_describe(const struct accord_reapply_entry *e, char *buf,
			     size_t len);

#endif
