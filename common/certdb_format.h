/* SPDX-License-Identifier: MIT */
/*
 * The certificate section of a snapshot (SNAP_SEC_CERTDB), written by
 * common/certmap.c and read in place by common/certmap_resolve.c.  All
 * integers little-endian; offsets from the start of the section.
 *
 *   header (64 bytes)
 *      0  "ACCERTDB"            8  u32 version (1)
 *     12  u32 nmaps            16  u32 nregs      20  u32 ncrits
 *     24  u32 ncas             28  u32 ncrls
 *     32  u32 map_slots        36  u32 reg_slots  (0, or a power of two)
 *     40  u64 seed             (accord_hash64 of the index keys)
 *     48  u32 map_index_off    52  u32 reg_index_off
 *     56  u32 records_off      60  u32 records_len
 *   map index: map_slots x 16 bytes {u64 hash, u32 record offset + 1, u32 0}
 *   reg index: reg_slots x 16 bytes, two keys per registered certificate:
 *              'S' + SHA-256 (33 bytes) and 'I' + issuer key + 0x1f + serial
 *   records, 8-aligned, in this order: maps, registrations, criteria,
 *   CAs, CRLs.  Each:
 *      0  u32 type (CDB_*)      4  u32 reclen (8-aligned, >= 32)
 *      8  u32 status           12  u32 nfields
 *     16  i64 created          24  i64 changed
 *     32  fields: u32 len, len bytes, a NUL byte (not counted)
 *   Fields by type:
 *     MAP   key, label, user ("" MULTIID), criteria, sdn, idn
 *     REG   sha256 (32 bytes), issuer key + 0x1f + serial, label, user,
 *           subject, issuer, serial, and (from the second writer on) the
 *           certificate's DER
 *     CRIT  name, user
 *     CA    der, label, subject, sha256 (32 bytes)   (changed: not_after)
 *     CRL   der, ca label
 *
 * A map's key is accord_dn_key(sdn, all) + 0x1f + accord_dn_key(idn, all)
 * ("" for an absent filter), unique in the section.
 */
#ifndef ACCORD_CERTDB_FORMAT_H
#define ACCORD_CERTDB_FORMAT_H

#define CDB_MAGIC "ACCERTDB"
#define CDB_VERSION 1u
#define CDB_HEADER 64u
#define CDB_SLOT 16u
#define CDB_REC_FIXED 32u
#define CDB_MAX_FIELDS 8u
#define CDB_KEY_SEP '\x1f'

enum cdb_type {
	CDB_MAP = 1,
	CDB_REG = 2,
	CDB_CRIT = 3,
	CDB_CA = 4,
	CDB_CRL = 5,
};

/* One record as read: fields point into the section. */
struct cdb_rec {
	uint32_t type, reclen, status, nfields;
	int64_t created, changed;
	const char *f[CDB_MAX_FIELDS];
	uint32_t flen[CDB_MAX_FIELDS];
	uint32_t off;
};

/* common/certmap_resolve.c: a bounds-checked read of the record at off
 * (0 or -EBADMSG). */
struct accord_certdb;
int cdb_rec_at(const struct accord_certdb *db, uint32_t off, struct cdb_rec *r);
/* The record after r's (its offset), for walks. */
static inline uint32_t cdb_next(const struct cdb_rec *r)
{
	return r->off + r->reclen;
}

#endif
