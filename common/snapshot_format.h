/* SPDX-License-Identifier: MIT */
/*
 * Private layout constants of the snapshot file, shared by the reader
 * (common/snapshot.c, also in the NSS module) and the writer
 * (common/snapshot_build.c).  The public description is in
 * include/accord/snapshot.h; a change here is a format version bump,
 * except for new optional sections, which older readers skip (and older
 * writers refuse to rewrite: accord_state_from_snapshot()).
 */
#ifndef ACCORD_SNAPSHOT_FORMAT_H
#define ACCORD_SNAPSHOT_FORMAT_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#define SNAP_MAGIC "ACCSNAP"       /* 8 bytes with its NUL */
#define SNAP_HEADER_SIZE 128u
#define SNAP_HDR_CHECKSUM_AT 120u
#define SNAP_SECTION_ENTRY 24u
#define SNAP_MAX_SECTIONS 16u

enum snap_section_type {
	SNAP_SEC_USERS = 1,
	SNAP_SEC_USER_BY_NAME = 2,
	SNAP_SEC_USER_BY_UID = 3,
	SNAP_SEC_GROUPS = 4,
	SNAP_SEC_GROUP_BY_NAME = 5,
	SNAP_SEC_GROUP_BY_GID = 6,
	SNAP_SEC_TOMBSTONES = 7,
	SNAP_SEC_META = 8,
	/* optional: absent when empty, so that snapshots without them stay
	 * byte-for-byte what the first readers expect */
	SNAP_SEC_USER_DATES = 9,
	SNAP_SEC_APPLS = 10,
	SNAP_SEC_APPL_BY_NAME = 11,
	SNAP_SEC_SWAPS = 12,
	SNAP_SEC_USER_RACFID = 13,
	/* certificate maps, registered certificates, criteria, CAs and CRLs:
	 * one self-describing blob with its own indexes (common/certmap.c,
	 * include/accord/certmap.h), read in place by pam_accord */
	SNAP_SEC_CERTDB = 14,
};
#define SNAP_SEC_REQUIRED_LAST SNAP_SEC_META
#define SNAP_SEC_KNOWN_LAST SNAP_SEC_CERTDB

/* Header words beyond the three record counts (once reserved, zero in
 * snapshots without applications or swap rules; the header checksum
 * covers them). */
#define SNAP_HDR_APPL_COUNT 92u
#define SNAP_HDR_SWAP_COUNT 96u

/*
 * Hash index: { u32 nslots (power of two), u32 count, u64 reserved } then
 * nslots x { u32 tag, u32 ref }.  ref = record offset + 1, 0 = empty slot;
 * tag = high 32 bits of the key's hash.  Linear probing from
 * hash & (nslots - 1); equal keys keep insertion order along the chain.
 */
#define SNAP_INDEX_HEADER 16u
#define SNAP_INDEX_SLOT 8u

/* User record (8-aligned):
 *  0 u32 uid   4 u32 gid   8 u32 flags   12 u32 ngroups
 * 16 i64 created   24 i64 changed
 * 32 u16 name_len 34 u16 gecos_len 36 u16 home_len 38 u16 shell_len
 * 40 u16 reason_len 42 u16 0 44 u32 0
 * 48 u32 gids[ngroups], then name\0 gecos\0 home\0 shell\0 reason\0, pad 8 */
#define SNAP_USER_FIXED 48u
#define SNAP_MAX_USER_GROUPS 65536u

/* Group record (8-aligned):
 *  0 u32 gid   4 u32 flags   8 u32 nmembers   12 u32 members_len
 * 16 i64 created   24 i64 changed   32 u16 name_len 34 u16 0 36 u32 0
 * 40 name\0, then members_len bytes: nmembers NUL-terminated names, pad 8 */
#define SNAP_GROUP_FIXED 40u

/* Tombstone record (8-aligned):
 *  0 u32 kind  4 u32 id  8 i64 deleted_at  16 u16 name_len 18 u16 by_len
 * 20 u32 0    24 name\0 by\0, pad 8 */
#define SNAP_TOMB_FIXED 24u

/* Meta section: u32 uid_lo uid_hi gid_lo gid_hi next_uid next_gid, 0 pad
 * to 32 bytes. */
#define SNAP_META_SIZE 32u

/* User dates (optional): entries sorted by user_off, unique, one per user
 * that has a revoke or resume date, each
 *  0 u32 user_off (record offset in the users section)  4 u32 0
 *  8 i64 revoke_date  16 i64 resume_date   (>= 0; 0 = none, not both 0)
 * The user record itself is unchanged: readers that do not know the
 * section see the same profiles. */
#define SNAP_USER_DATES_ENTRY 24u

/* User RACF IDs (optional): PassTicket user ID aliases, entries sorted by
 * user_off, unique, one per user that has an alias, each
 *  0 u32 user_off  4 u8 len (1-8)  5 u8 0 0 0
 *  8 char id[8]   (A-Z 0-9 @ # $, NUL-padded after len)
 * Like the dates, the user record is unchanged. */
#define SNAP_USER_RACFID_ENTRY 16u
#define SNAP_RACFID_MAX 8u

/* A stored alias: 1-8 of A-Z 0-9 @ # $, then zeros to the end. */
static inline int snap_racfid_ok(const unsigned char *e)
{
	unsigned len = e[4], i;

	if (len < 1 || len > SNAP_RACFID_MAX || e[5] || e[6] || e[7])
		return 0;
	for (i = 0; i < SNAP_RACFID_MAX; i++) {
		unsigned char c = e[8 + i];

		if (i >= len) {
			if (c)
				return 0;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			     c == '@' || c == '#' || c == '$')) {
			return 0;
		}
	}
	return 1;
}

/* Application record (8-aligned):
 *  0 u32 nentries  4 u32 entries_len (a multiple of 8)
 *  8 u8 uacc  9 u8 0  10 u16 name_len  12 u32 0
 * 16 i64 created  24 i64 changed
 * 32 name\0, pad 8, then entries_len bytes of access-list entries,
 * sorted by (kind, name), unique, each (8-aligned):
 *  0 u8 kind  1 u8 access  2 u16 name_len  4 u32 id (UID or GID at build
 *  time)  8 name\0, pad 8
 * Indexed by name (SNAP_SEC_APPL_BY_NAME, the hash index format above). */
#define SNAP_APPL_FIXED 32u
#define SNAP_ACE_FIXED 8u
#define SNAP_MAX_APPL_ENTRIES 65536u

/* Swap rule record (8-aligned), sorted by (to, from), unique:
 *  0 u8 kind  1 u8 0  2 u16 from_len  4 u16 to_len  6 u16 0
 *  8 i64 created  16 from\0 to\0, pad 8 */
#define SNAP_SWAP_FIXED 16u

static inline uint16_t snap_get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t snap_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t snap_get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void snap_put16(unsigned char *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void snap_put32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void snap_put64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint64_t snap_align8(uint64_t n)
{
	return (n + 7u) & ~(uint64_t)7u;
}

#endif
