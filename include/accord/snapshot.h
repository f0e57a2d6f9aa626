/* SPDX-License-Identifier: MIT */
/*
 * accord snapshot: the immutable, hash-indexed file that every host maps to
 * answer passwd/group/initgroups lookups, and that the registry keeps one of
 * per generation.
 *
 * This reader is compiled into libnss_accord.so.2 as well as libaccord, so
 * it uses libc only, never allocates on the lookup path, never logs, and
 * never reads outside [base, base + size) whatever the bytes say.
 *
 * File layout (all integers little-endian, every section 8-byte aligned):
 *
 *   header (128 bytes)
 *     0   magic "ACCSNAP\0"
 *     8   u32 version (1)            12  u32 header_size (128)
 *     16  u64 generation             24  u64 file_size
 *     32  u64 body_checksum          (accord_checksum of [table_end, file_size))
 *     40  u32 section_count          44  u32 flags (0)
 *     48  u64 hash_seed              56  u8  registry_uuid[16]
 *     72  i64 created                80  u32 user_count
 *     84  u32 group_count            88  u32 tombstone_count
 *     92  u32 appl_count             96  u32 swap_count
 *     100 u32 reserved[5]            120 u64 header_checksum
 *                                    (of bytes [0,120) and the section table)
 *   section table: section_count x { u32 type, u32 reserved, u64 offset,
 *                                    u64 size }
 *   sections: users, groups, tombstones (records), four hash indexes, meta;
 *   optional (absent when empty): user dates, applications (records and a
 *   name index), swap rules, user RACF ID aliases.  A reader skips section
 *   types it does not know; a writer (the state loader) refuses them, so a
 *   newer snapshot is never rewritten by an older writer that would drop
 *   what it cannot see.
 *
 * See common/snapshot_format.h for the record layouts.
 */
#ifndef ACCORD_SNAPSHOT_H
#define ACCORD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define ACCORD_SNAPSHOT_VERSION 1u

/* Profile status, stored in the low bits of a user's flags. */
enum accord_status {
	ACCORD_STATUS_ENABLED = 0,
	ACCORD_STATUS_DISABLED = 1,
	ACCORD_STATUS_REVOKED = 2,
};
#define ACCORD_STATUS_MASK 0x0fu
#define ACCORD_F_NO_PASSWORD (1u << 4)
#define ACCORD_F_PROTECTED (1u << 5)
#define ACCORD_F_SHARED_ID (1u << 6) /* holds its UID/GID under --shared */
#define ACCORD_USER_FLAGS_KNOWN (ACCORD_STATUS_MASK | ACCORD_F_NO_PASSWORD | \
				 ACCORD_F_PROTECTED | ACCORD_F_SHARED_ID)

enum accord_tomb_kind {
	ACCORD_TOMB_USER = 1,
	ACCORD_TOMB_GROUP = 2,
};

struct accord_snap_section {
	uint64_t off;  /* from the start of the file */
	uint64_t size;
};

/* Access levels of the APPL class, lowest first (RACF: NONE < READ). */
enum accord_access {
	ACCORD_ACCESS_NONE = 0,
	ACCORD_ACCESS_READ = 1,
};
/* Kinds of an access-list entry. */
enum accord_ace_kind {
	ACCORD_ACE_USER = 1,
	ACCORD_ACE_GROUP = 2,
};
/* Kinds of a swap rule. */
enum accord_swap_kind {
	ACCORD_SWAP_PERMIT = 1,
	ACCORD_SWAP_DENY = 2,
};

struct accord_snapshot {
	const unsigned char *base;
	size_t size;
	uint64_t generation;
	uint64_t seed;
	int64_t created;
	uint32_t user_count, group_count, tombstone_count;
	unsigned char uuid[16];
	struct accord_snap_section users, groups, tombstones;
	struct accord_snap_section user_by_name, user_by_uid;
	struct accord_snap_section group_by_name, group_by_gid;
	struct accord_snap_section meta;
	/* optional sections; size 0 when absent */
	struct accord_snap_section user_dates, appls, appl_by_name, swaps;
	struct accord_snap_section user_racfid;
	struct accord_snap_section certdb; /* include/accord/certmap.h */
	uint32_t appl_count, swap_count;
	uint32_t unknown_sections; /* section types this reader skipped */
	/* set by accord_snapshot_map_file(); 0 for memory the caller owns */
	size_t map_len;
	struct stat st;
};

/* A user record, pointing into the snapshot.  Strings are NUL-terminated
 * and their lengths were checked against the record. */
struct accord_snap_user {
	uint32_t uid, gid, flags, ngroups;
	int64_t created, changed;
	const char *name, *gecos, *home, *shell, *reason;
	size_t name_len, gecos_len, home_len, shell_len, reason_len;
	const unsigned char *gids; /* ngroups little-endian u32 */
	int64_t revoke_date;       /* 0: none (from the user-dates section) */
	int64_t resume_date;       /* 0: none */
	char racf_id[9];           /* RACF user ID alias; "" when none (from the
				      user RACF ID section) */
	uint32_t off;              /* offset in the users section */
	uint32_t reclen;           /* bytes up to the next record */
};

struct accord_snap_group {
	uint32_t gid, flags, nmembers;
	int64_t created, changed;
	const char *name;
	size_t name_len;
	const char *members;       /* NUL-terminated names: walk them with
				      accord_snap_group_member() */
	size_t members_len;        /* bytes, NULs included */
	uint32_t off, reclen;
};

struct accord_snap_tomb {
	uint32_t kind, id;
	int64_t deleted_at;
	const char *name, *by;
	size_t name_len, by_len;
	uint32_t off, reclen;
};

/* An application profile (RACF APPL class). */
struct accord_snap_appl {
	uint32_t uacc;             /* enum accord_access */
	uint32_t nentries;
	int64_t created, changed;
	const char *name;
	size_t name_len;
	const unsigned char *entries; /* walk with accord_snap_appl_entry() */
	size_t entries_len;
	uint32_t off, reclen;
};

/* One entry of an application's access list. */
struct accord_snap_ace {
	uint32_t kind;             /* enum accord_ace_kind */
	uint32_t access;           /* enum accord_access */
	uint32_t id;               /* UID or GID at build time */
	const char *name;          /* user or group name */
	size_t name_len;
};

struct accord_snap_swap {
	uint32_t kind;             /* enum accord_swap_kind */
	int64_t created;
	const char *from, *to;     /* group name; profile name */
	size_t from_len, to_len;
	uint32_t off, reclen;
};

struct accord_snap_meta {
	uint32_t uid_lo, uid_hi, gid_lo, gid_hi;
	uint32_t next_uid, next_gid;
};

/* What went wrong, for messages: a static string, never NULL on error. */
typedef const char *accord_snap_why;

/*
 * Validate the header and the section table of the bytes [base, base+size)
 * and fill *s.  Cheap: O(number of sections).  Every later accessor checks
 * its own bounds, so a snapshot that passed this can still hold damaged
 * records: they are reported as not found / -EBADMSG, never read past.
 * Returns 0 or -EBADMSG (with *why set).
 */
int accord_snapshot_open_mem(struct accord_snapshot *s, const void *base,
			     size_t size, accord_snap_why *why);

/*
 * The deep check used before a snapshot is installed or trusted for a
 * write: the body checksum, every record, every index slot, the counts
 * and the cross references (members, supplementary group lists).
 * Allocates a bitmap (size/64 bytes).  Returns 0, -EBADMSG or -ENOMEM.
 */
int accord_snapshot_verify(const struct accord_snapshot *s,
			   accord_snap_why *why);

/* Only the body checksum of the deep check: enough for a writer that
 * rebuilds every index from the records (O(size), memory speed). */
int accord_snapshot_verify_checksum(const struct accord_snapshot *s,
				    accord_snap_why *why);

/* Flags for accord_snapshot_map_file(). */
#define ACCORD_SNAP_TRUSTED_OWNER 1 /* owner root or euid, not g/o writable */

/*
 * open(O_RDONLY|O_CLOEXEC|O_NOFOLLOW), fstat, owner/mode check, mmap
 * read-only, close, accord_snapshot_open_mem().  On success *s owns the
 * mapping (release it with accord_snapshot_unmap()).  Returns 0 or a
 * negative errno (-ENOENT, -EACCES, -EPERM for a file we do not trust,
 * -EBADMSG for a damaged file, ...).
 */
int accord_snapshot_map_file(const char *path, int flags,
			     struct accord_snapshot *s, accord_snap_why *why);
void accord_snapshot_unmap(struct accord_snapshot *s);

/* Keyed lookups: 0 and *out filled, -ENOENT, or -EBADMSG (damaged). */
int accord_snap_user_by_name(const struct accord_snapshot *s, const char *name,
			     struct accord_snap_user *out);
int accord_snap_user_by_uid(const struct accord_snapshot *s, uint32_t uid,
			    struct accord_snap_user *out);
int accord_snap_group_by_name(const struct accord_snapshot *s,
			      const char *name, struct accord_snap_group *out);
int accord_snap_group_by_gid(const struct accord_snapshot *s, uint32_t gid,
			     struct accord_snap_group *out);

/*
 * Iteration: *cursor starts at 0; each call fills *out and advances.
 * Returns 0, -ENOENT at the end, -EBADMSG on a damaged record (iteration
 * cannot go on past it).
 */
int accord_snap_user_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_user *out);
int accord_snap_group_next(const struct accord_snapshot *s, uint64_t *cursor,
			   struct accord_snap_group *out);
int accord_snap_tomb_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_tomb *out);

/* Applications: keyed lookup (0, -ENOENT, -EBADMSG) and iteration. */
int accord_snap_appl_by_name(const struct accord_snapshot *s, const char *name,
			     struct accord_snap_appl *out);
int accord_snap_appl_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_appl *out);
/* Walks an application's access list: *pos starts at 0; returns 0 and
 * fills *out, -ENOENT at the end, -EBADMSG on a damaged entry.  Bounded
 * by entries_len whatever nentries says. */
int accord_snap_appl_entry(const struct accord_snap_appl *a, size_t *pos,
			   struct accord_snap_ace *out);
/* Swap rules, in the order the writer stored them (sorted by to, from). */
int accord_snap_swap_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_swap *out);
/* Whether a user is in a group by GID: its primary GID or one of its
 * sorted supplementary GIDs (binary search). */
bool accord_snap_user_in_gid(const struct accord_snap_user *u, uint32_t gid);

/* Record at a known offset (as returned in .off). */
int accord_snap_user_at(const struct accord_snapshot *s, uint64_t off,
			struct accord_snap_user *out);

int accord_snap_meta(const struct accord_snapshot *s,
		     struct accord_snap_meta *out);

static inline uint32_t accord_snap_user_gid(const struct accord_snap_user *u,
					    uint32_t i)
{
	const unsigned char *p = u->gids + 4u * (size_t)i;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * Walks a group's member names: *pos starts at 0; returns the next name or
 * NULL at the end.  Bounded by members_len whatever nmembers says (the
 * block is known to end with a NUL), so a damaged record cannot lead the
 * walk outside it.  Only the deep verify guarantees the count is exact.
 */
static inline const char *accord_snap_group_member(const struct accord_snap_group *g,
						   size_t *pos)
{
	const char *m;
	size_t n;

	if (*pos >= g->members_len)
		return NULL;
	m = g->members + *pos;
	for (n = 0; m[n]; n++)
		;
	*pos += n + 1;
	return m;
}

static inline enum accord_status accord_user_status(uint32_t flags)
{
	return (enum accord_status)(flags & ACCORD_STATUS_MASK);
}

/* The certificate section (include/accord/certmap.h reads it): 0 with
 * *len 0 when the snapshot has none. */
void accord_snap_certdb(const struct accord_snapshot *s, const void **p,
			size_t *len);

#endif
