/* SPDX-License-Identifier: MIT */
/*
 * Backups of a registry, and the differences between two states.
 *
 * A backup is one generation of the registry, whole: the immutable
 * snapshot file of that generation (profiles, groups, tombstones,
 * applications, swap rules, certificate maps, CAs, CRLs), stamped with the
 * registry's UUID and the generation, plus, only when asked for, the
 * secrets store's long-lived secrets (password hashes, PassTicket keys).
 * PassTicket permissions (who may generate) are not secret and always
 * included.  Host-local and state classes are never in a backup: logon
 * records (failure counts, failure and inactivity revokes, last logon),
 * the replay cache, the host-local snapshot.
 *
 * Because a generation's snapshot file is never changed once published,
 * a backup taken while writers commit is exactly one generation: the one
 * CURRENT named when the backup read it (the file is read after CURRENT,
 * checksum verified; if it was swept away in between, the backup reads
 * CURRENT again).
 *
 * File format (docs/ARCHITECTURE.md has the table): a text header line,
 * then sections, then a trailer with the SHA-256 of everything before it;
 * designed by common/backup.c and documented at its top.
 */
#ifndef ACCORD_BACKUP_H
#define ACCORD_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <accord/error.h>
#include <accord/registry.h>
#include <accord/snapshot.h>
#include <accord/state.h>

struct accord_backup_info {
	char uuid[37];            /* the registry it came from */
	uint64_t generation;
	int64_t created;          /* when the backup was taken */
	char host[256];           /* where */
	bool has_secrets;
	size_t snapshot_size;
	unsigned npasswords, nptkeys, nptauth;
	/* (added) whether the PassTicket permissions are in the backup: false
	 * when the writer could not read the secrets store (not root, no
	 * --include-secrets); a diff then leaves that class out */
	bool has_ptauth;
};

/* Limits of the file format (common/backup.c documents it). */
#define ACCORD_BACKUP_HEADER_MAX 1024u          /* the header line, '\n' included */
#define ACCORD_BACKUP_SNAP_MAX (4ull << 30)     /* snapshot bytes */
#define ACCORD_BACKUP_SECRET_MAX 65536u         /* one secret file */
#define ACCORD_BACKUP_NAME_MAX 255u             /* one secret's name */
#define ACCORD_BACKUP_SECTIONS_MAX 1000000u     /* sections in a file */

/*
 * Writes a backup of reg's current generation to path (created, never
 * replaced: -EEXIST if it exists; mode 0600 with secrets, 0644 without;
 * written to a temporary name, fsynced, then linked into place).  With
 * include_secrets the caller must be able to read the secrets store.
 */
int accord_backup_write(struct accord_registry *reg, const char *path,
			bool include_secrets, struct accord_backup_info *info,
			struct accord_err *err);

/* An opened backup: verified (every checksum, the snapshot's deep check).
 * Errors: -ENOENT, -EISDIR, -EPERM (a backup with secrets that fails the
 * secrets store's trust checks: owner root, no group/other bits, one
 * link), -EFBIG (over the limits), -EBADMSG (truncated, tampered,
 * damaged: err names the part), -ENOMEM, -EIO. */
struct accord_backup;
int accord_backup_open(const char *path, struct accord_backup **out,
		       struct accord_err *err);
void accord_backup_close(struct accord_backup *b);
const struct accord_backup_info *accord_backup_info(const struct accord_backup *b);
/* Is the opened file owned by root (or the caller), with one link, not
 * writable by group or others?  Restore requires it: checksums show
 * damage, not who wrote the file.  0 or -EPERM with the reason. */
int accord_backup_trusted(const struct accord_backup *b, struct accord_err *err);
/* The backup's snapshot, mapped from memory the backup owns. */
const struct accord_snapshot *accord_backup_snapshot(const struct accord_backup *b);

/* One secret in a backup (password hash file or PassTicket key file, as
 * stored in the secrets store: its bytes are written back as they are). */
struct accord_backup_secret {
	const char *kind;         /* "password", "ptkey", "ptauth" */
	const char *name;         /* profile name, key name, permission name */
	const unsigned char *data;
	size_t len;
};
/* Iteration: *cursor starts at 0; -ENOENT at the end. */
int accord_backup_secret_next(const struct accord_backup *b, size_t *cursor,
			      struct accord_backup_secret *out);

/* (added) PassTicket permissions as "APPL:user|group:NAME" strings, the
 * shape accord_state_diff() takes, sorted.  *out is malloc'd (free with
 * accord_strings_free()).  From a backup: -ENOENT when it does not hold
 * them (info.has_ptauth false), -EBADMSG for a damaged entry.  From the
 * live secrets store of registry_dir: -EPERM when it cannot be read (not
 * root); a registry without a store has none (0, n 0, *out non-NULL). */
int accord_backup_ptauth(const struct accord_backup *b, char ***out, size_t *n,
			 struct accord_err *err);
int accord_ptauth_strings(const char *registry_dir, char ***out, size_t *n,
			  struct accord_err *err);
void accord_strings_free(char **v, size_t n);

#endif
