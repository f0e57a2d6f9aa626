/* SPDX-License-Identifier: MIT */
/*
 * Snapshot reader.  Linked into libnss_accord.so.2: libc only, no logging,
 * no allocation on the lookup path.  Every access is checked against the
 * section it belongs to; the header check at open time is what makes the
 * section bounds themselves trustworthy.
 */
#include <accord/snapshot.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hash.h"
#include "snapshot_format.h"

static const unsigned char *sec_ptr(const struct accord_snapshot *s,
				    const struct accord_snap_section *sec)
{
	return s->base + sec->off;
}

static int bad(accord_snap_why *why, const char *msg)
{
	if (why)
		*why = msg;
	return -EBADMSG;
}

static int check_index(const struct accord_snapshot *s,
		       const struct accord_snap_section *sec)
{
	const unsigned char *p;
	uint32_t nslots;

	if (sec->size < SNAP_INDEX_HEADER)
		return -1;
	p = sec_ptr(s, sec);
	nslots = snap_get32(p);
	if (nslots == 0 || (nslots & (nslots - 1)) != 0)
		return -1;
	if (sec->size != SNAP_INDEX_HEADER + (uint64_t)nslots * SNAP_INDEX_SLOT)
		return -1;
	if (snap_get32(p + 4) > nslots)
		return -1;
	return 0;
}

int accord_snapshot_open_mem(struct accord_snapshot *s, const void *base,
			     size_t size, accord_snap_why *why)
{
	const unsigned char *b = base;
	uint32_t nsec, i;
	uint64_t table_end, hdr_sum;
	struct accord_snap_section *want[SNAP_SEC_KNOWN_LAST + 1] = { 0 };

	memset(s, 0, sizeof(*s));
	if (size < SNAP_HEADER_SIZE)
		return bad(why, "file is shorter than a snapshot header");
	if (memcmp(b, SNAP_MAGIC, 8) != 0)
		return bad(why, "not an accord snapshot (bad magic)");
	if (snap_get32(b + 8) != ACCORD_SNAPSHOT_VERSION)
		return bad(why, "unsupported snapshot format version");
	if (snap_get32(b + 12) != SNAP_HEADER_SIZE)
		return bad(why, "unexpected snapshot header size");
	if (snap_get64(b + 24) != (uint64_t)size)
		return bad(why, "file size does not match the header (truncated or extended)");
	nsec = snap_get32(b + 40);
	if (nsec == 0 || nsec > SNAP_MAX_SECTIONS)
		return bad(why, "bad section count");
	table_end = SNAP_HEADER_SIZE + (uint64_t)nsec * SNAP_SECTION_ENTRY;
	if (table_end > size)
		return bad(why, "section table runs past the end of the file");
	/* header checksum: bytes [0,120) and the section table */
	hdr_sum = accord_hash64(b, SNAP_HDR_CHECKSUM_AT, 0) ^
		  accord_hash64(b + SNAP_HEADER_SIZE, table_end - SNAP_HEADER_SIZE, 1);
	if (hdr_sum != snap_get64(b + SNAP_HDR_CHECKSUM_AT))
		return bad(why, "header checksum mismatch");

	s->base = b;
	s->size = size;
	s->generation = snap_get64(b + 16);
	s->seed = snap_get64(b + 48);
	memcpy(s->uuid, b + 56, 16);
	s->created = (int64_t)snap_get64(b + 72);
	s->user_count = snap_get32(b + 80);
	s->group_count = snap_get32(b + 84);
	s->tombstone_count = snap_get32(b + 88);
	s->appl_count = snap_get32(b + SNAP_HDR_APPL_COUNT);
	s->swap_count = snap_get32(b + SNAP_HDR_SWAP_COUNT);

	want[SNAP_SEC_USERS] = &s->users;
	want[SNAP_SEC_USER_BY_NAME] = &s->user_by_name;
	want[SNAP_SEC_USER_BY_UID] = &s->user_by_uid;
	want[SNAP_SEC_GROUPS] = &s->groups;
	want[SNAP_SEC_GROUP_BY_NAME] = &s->group_by_name;
	want[SNAP_SEC_GROUP_BY_GID] = &s->group_by_gid;
	want[SNAP_SEC_TOMBSTONES] = &s->tombstones;
	want[SNAP_SEC_META] = &s->meta;
	want[SNAP_SEC_USER_DATES] = &s->user_dates;
	want[SNAP_SEC_APPLS] = &s->appls;
	want[SNAP_SEC_APPL_BY_NAME] = &s->appl_by_name;
	want[SNAP_SEC_SWAPS] = &s->swaps;
	want[SNAP_SEC_USER_RACFID] = &s->user_racfid;
	want[SNAP_SEC_CERTDB] = &s->certdb;

	for (i = 0; i < nsec; i++) {
		const unsigned char *e = b + SNAP_HEADER_SIZE + i * SNAP_SECTION_ENTRY;
		uint32_t type = snap_get32(e);
		uint64_t off = snap_get64(e + 8), sz = snap_get64(e + 16);

		if (off < table_end || off > size || sz > size - off || (off & 7u))
			return bad(why, "a section lies outside the file");
		if (type >= sizeof(want) / sizeof(want[0]) || !want[type]) {
			s->unknown_sections++; /* a section this reader does not know */
			continue;
		}
		if (want[type]->off)
			return bad(why, "duplicate section");
		want[type]->off = off;
		want[type]->size = sz;
	}
	for (i = 1; i <= SNAP_SEC_REQUIRED_LAST; i++)
		if (!want[i]->off)
			return bad(why, "a required section is missing");
	if (s->users.size > UINT32_MAX || s->groups.size > UINT32_MAX ||
	    s->tombstones.size > UINT32_MAX || s->appls.size > UINT32_MAX ||
	    s->swaps.size > UINT32_MAX)
		return bad(why, "record section larger than 4 GiB");
	if (check_index(s, &s->user_by_name) || check_index(s, &s->user_by_uid) ||
	    check_index(s, &s->group_by_name) || check_index(s, &s->group_by_gid))
		return bad(why, "malformed hash index");
	if (s->meta.size < SNAP_META_SIZE)
		return bad(why, "meta section too small");
	/* optional sections: the records and their index come together, and
	 * an index that is there is well formed (lookups rely on both) */
	if (!s->appls.off != !s->appl_by_name.off)
		return bad(why, "application records without their index, or the reverse");
	if (s->appl_by_name.off && check_index(s, &s->appl_by_name))
		return bad(why, "malformed hash index");
	if (s->user_dates.size % SNAP_USER_DATES_ENTRY ||
	    s->user_dates.size / SNAP_USER_DATES_ENTRY > UINT32_MAX)
		return bad(why, "malformed user dates section");
	if (s->user_racfid.size % SNAP_USER_RACFID_ENTRY ||
	    s->user_racfid.size / SNAP_USER_RACFID_ENTRY > UINT32_MAX)
		return bad(why, "malformed user RACF ID section");
	return 0;
}

/* A string of len bytes at p, inside [p, end), followed by its NUL, with no
 * NUL inside. */
static int check_str(const unsigned char *p, const unsigned char *end,
		     size_t len)
{
	if ((size_t)(end - p) < len + 1 || p[len] != '\0')
		return -1;
	return memchr(p, '\0', len) ? -1 : 0;
}

/* The revoke and resume dates of the user record at u->off: a binary
 * search of the optional dates section (nothing to do when it is absent).
 * A damaged section can only make the search miss, never read outside
 * it; the deep check makes it sorted and exact. */
static void user_dates(const struct accord_snapshot *s,
		       struct accord_snap_user *u)
{
	const unsigned char *p = sec_ptr(s, &s->user_dates);
	size_t lo = 0, hi = (size_t)(s->user_dates.size / SNAP_USER_DATES_ENTRY);

	u->revoke_date = 0;
	u->resume_date = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *e = p + mid * SNAP_USER_DATES_ENTRY;
		uint32_t off = snap_get32(e);

		if (off == u->off) {
			u->revoke_date = (int64_t)snap_get64(e + 8);
			u->resume_date = (int64_t)snap_get64(e + 16);
			return;
		}
		if (off < u->off)
			lo = mid + 1;
		else
			hi = mid;
	}
}

/* The RACF user ID alias of the user record at u->off, from the optional
 * RACF ID section, by binary search as for the dates; an entry that is
 * not well formed reads as no alias (the deep check refuses it). */
static void user_racfid(const struct accord_snapshot *s,
			struct accord_snap_user *u)
{
	const unsigned char *p = sec_ptr(s, &s->user_racfid);
	size_t lo = 0, hi = (size_t)(s->user_racfid.size / SNAP_USER_RACFID_ENTRY);

	u->racf_id[0] = '\0';
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *e = p + mid * SNAP_USER_RACFID_ENTRY;
		uint32_t off = snap_get32(e);

		if (off == u->off) {
			if (snap_racfid_ok(e)) {
				memcpy(u->racf_id, e + 8, e[4]);
				u->racf_id[e[4]] = '\0';
			}
			return;
		}
		if (off < u->off)
			lo = mid + 1;
		else
			hi = mid;
	}
}

int accord_snap_user_at(const struct accord_snapshot *s, uint64_t off,
			struct accord_snap_user *u)
{
	const unsigned char *sec = sec_ptr(s, &s->users);
	const unsigned char *end = sec + s->users.size, *p, *q;
	size_t lens[5];
	const char **strs[5] = { &u->name, &u->gecos, &u->home, &u->shell,
				 &u->reason };
	int i;

	if ((off & 7u) || off >= s->users.size ||
	    s->users.size - off < SNAP_USER_FIXED)
		return -EBADMSG;
	p = sec + off;
	u->uid = snap_get32(p);
	u->gid = snap_get32(p + 4);
	u->flags = snap_get32(p + 8);
	u->ngroups = snap_get32(p + 12);
	u->created = (int64_t)snap_get64(p + 16);
	u->changed = (int64_t)snap_get64(p + 24);
	if (u->ngroups > SNAP_MAX_USER_GROUPS)
		return -EBADMSG;
	q = p + SNAP_USER_FIXED;
	if ((size_t)(end - q) < 4u * (size_t)u->ngroups)
		return -EBADMSG;
	u->gids = q;
	q += 4u * (size_t)u->ngroups;
	for (i = 0; i < 5; i++) {
		lens[i] = snap_get16(p + 32 + 2 * i);
		if (check_str(q, end, lens[i]))
			return -EBADMSG;
		*strs[i] = (const char *)q;
		q += lens[i] + 1;
	}
	if (lens[0] == 0)
		return -EBADMSG;
	u->name_len = lens[0];
	u->gecos_len = lens[1];
	u->home_len = lens[2];
	u->shell_len = lens[3];
	u->reason_len = lens[4];
	u->off = (uint32_t)off;
	u->reclen = (uint32_t)snap_align8((uint64_t)(q - p));
	if (u->reclen > s->users.size - off)
		u->reclen = (uint32_t)(s->users.size - off);
	user_dates(s, u);
	user_racfid(s, u);
	return 0;
}

static int group_at(const struct accord_snapshot *s, uint64_t off,
		    struct accord_snap_group *g)
{
	const unsigned char *sec = sec_ptr(s, &s->groups);
	const unsigned char *end = sec + s->groups.size, *p, *q, *mend;

	if ((off & 7u) || off >= s->groups.size ||
	    s->groups.size - off < SNAP_GROUP_FIXED)
		return -EBADMSG;
	p = sec + off;
	g->gid = snap_get32(p);
	g->flags = snap_get32(p + 4);
	g->nmembers = snap_get32(p + 8);
	g->members_len = snap_get32(p + 12);
	g->created = (int64_t)snap_get64(p + 16);
	g->changed = (int64_t)snap_get64(p + 24);
	g->name_len = snap_get16(p + 32);
	q = p + SNAP_GROUP_FIXED;
	if (g->name_len == 0 || check_str(q, end, g->name_len))
		return -EBADMSG;
	g->name = (const char *)q;
	q += g->name_len + 1;
	if ((size_t)(end - q) < g->members_len)
		return -EBADMSG;
	/* Members are walked with accord_snap_group_member(), which is bounded
	 * by members_len; the exact count is checked by the deep verify.  Here
	 * only what makes that walk safe: the block ends with a NUL, and the
	 * count is possible (every name is at least one byte and its NUL). */
	mend = q + g->members_len;
	if (g->members_len && mend[-1] != '\0')
		return -EBADMSG;
	if ((uint64_t)g->nmembers * 2 > g->members_len)
		return -EBADMSG;
	g->members = (const char *)q;
	q = mend;
	g->off = (uint32_t)off;
	g->reclen = (uint32_t)snap_align8((uint64_t)(q - p));
	if (g->reclen > s->groups.size - off)
		g->reclen = (uint32_t)(s->groups.size - off);
	return 0;
}

static int tomb_at(const struct accord_snapshot *s, uint64_t off,
		   struct accord_snap_tomb *t)
{
	const unsigned char *sec = sec_ptr(s, &s->tombstones);
	const unsigned char *end = sec + s->tombstones.size, *p, *q;

	if ((off & 7u) || off >= s->tombstones.size ||
	    s->tombstones.size - off < SNAP_TOMB_FIXED)
		return -EBADMSG;
	p = sec + off;
	t->kind = snap_get32(p);
	t->id = snap_get32(p + 4);
	t->deleted_at = (int64_t)snap_get64(p + 8);
	t->name_len = snap_get16(p + 16);
	t->by_len = snap_get16(p + 18);
	q = p + SNAP_TOMB_FIXED;
	if (t->name_len == 0 || check_str(q, end, t->name_len))
		return -EBADMSG;
	t->name = (const char *)q;
	q += t->name_len + 1;
	if (check_str(q, end, t->by_len))
		return -EBADMSG;
	t->by = (const char *)q;
	q += t->by_len + 1;
	t->off = (uint32_t)off;
	t->reclen = (uint32_t)snap_align8((uint64_t)(q - p));
	if (t->reclen > s->tombstones.size - off)
		t->reclen = (uint32_t)(s->tombstones.size - off);
	return 0;
}

static int appl_at(const struct accord_snapshot *s, uint64_t off,
		   struct accord_snap_appl *a)
{
	const unsigned char *sec = sec_ptr(s, &s->appls);
	const unsigned char *end = sec + s->appls.size, *p, *q;
	size_t padded;

	if ((off & 7u) || off >= s->appls.size ||
	    s->appls.size - off < SNAP_APPL_FIXED)
		return -EBADMSG;
	p = sec + off;
	a->nentries = snap_get32(p);
	a->entries_len = snap_get32(p + 4);
	a->uacc = p[8];
	a->name_len = snap_get16(p + 10);
	a->created = (int64_t)snap_get64(p + 16);
	a->changed = (int64_t)snap_get64(p + 24);
	if (a->uacc > ACCORD_ACCESS_READ || (a->entries_len & 7u) ||
	    a->nentries > SNAP_MAX_APPL_ENTRIES)
		return -EBADMSG;
	/* every entry takes at least 16 bytes (8 fixed, a name and its NUL,
	 * padded), so the count must fit; the walk is bounded anyway */
	if ((uint64_t)a->nentries * 16 > a->entries_len)
		return -EBADMSG;
	q = p + SNAP_APPL_FIXED;
	if (a->name_len == 0 || check_str(q, end, a->name_len))
		return -EBADMSG;
	a->name = (const char *)q;
	padded = (size_t)snap_align8(a->name_len + 1);
	if ((size_t)(end - q) < padded)
		return -EBADMSG;
	q += padded;
	if ((size_t)(end - q) < a->entries_len)
		return -EBADMSG;
	a->entries = q;
	q += a->entries_len;
	a->off = (uint32_t)off;
	a->reclen = (uint32_t)(q - p);
	return 0;
}

int accord_snap_appl_entry(const struct accord_snap_appl *a, size_t *pos,
			   struct accord_snap_ace *out)
{
	const unsigned char *p;
	size_t left, need;

	if (*pos >= a->entries_len)
		return -ENOENT;
	left = a->entries_len - *pos;
	if (left < SNAP_ACE_FIXED)
		return -EBADMSG;
	p = a->entries + *pos;
	out->kind = p[0];
	out->access = p[1];
	out->name_len = snap_get16(p + 2);
	out->id = snap_get32(p + 4);
	if ((out->kind != ACCORD_ACE_USER && out->kind != ACCORD_ACE_GROUP) ||
	    out->access > ACCORD_ACCESS_READ || out->name_len == 0)
		return -EBADMSG;
	need = (size_t)snap_align8(SNAP_ACE_FIXED + out->name_len + 1);
	if (need > left || check_str(p + SNAP_ACE_FIXED, p + left, out->name_len))
		return -EBADMSG;
	out->name = (const char *)(p + SNAP_ACE_FIXED);
	*pos += need;
	return 0;
}

static int swap_at(const struct accord_snapshot *s, uint64_t off,
		   struct accord_snap_swap *w)
{
	const unsigned char *sec = sec_ptr(s, &s->swaps);
	const unsigned char *end = sec + s->swaps.size, *p, *q;

	if ((off & 7u) || off >= s->swaps.size ||
	    s->swaps.size - off < SNAP_SWAP_FIXED)
		return -EBADMSG;
	p = sec + off;
	w->kind = p[0];
	w->from_len = snap_get16(p + 2);
	w->to_len = snap_get16(p + 4);
	w->created = (int64_t)snap_get64(p + 8);
	if (w->kind != ACCORD_SWAP_PERMIT && w->kind != ACCORD_SWAP_DENY)
		return -EBADMSG;
	q = p + SNAP_SWAP_FIXED;
	if (w->from_len == 0 || check_str(q, end, w->from_len))
		return -EBADMSG;
	w->from = (const char *)q;
	q += w->from_len + 1;
	if (w->to_len == 0 || check_str(q, end, w->to_len))
		return -EBADMSG;
	w->to = (const char *)q;
	q += w->to_len + 1;
	w->off = (uint32_t)off;
	w->reclen = (uint32_t)snap_align8((uint64_t)(q - p));
	if (w->reclen > s->swaps.size - off)
		w->reclen = (uint32_t)(s->swaps.size - off);
	return 0;
}

/*
 * Walk the probe chain of `hash` in index `idx` and return, through
 * *ref, the next candidate record offset + 1 starting at *pos.  The walk
 * visits at most nslots slots, whatever the index holds.
 */
struct probe {
	const unsigned char *slots;
	uint32_t mask, tag, pos, left;
};

static void probe_start(const struct accord_snapshot *s,
			const struct accord_snap_section *idx, uint64_t hash,
			struct probe *pr)
{
	const unsigned char *p = sec_ptr(s, idx);
	uint32_t nslots = snap_get32(p);

	pr->slots = p + SNAP_INDEX_HEADER;
	pr->mask = nslots - 1;
	pr->tag = (uint32_t)(hash >> 32);
	pr->pos = (uint32_t)hash & pr->mask;
	pr->left = nslots;
}

/* 1 and *off set: a candidate; 0: chain ended. */
static int probe_next(struct probe *pr, uint64_t *off)
{
	while (pr->left) {
		const unsigned char *slot = pr->slots + (size_t)pr->pos * SNAP_INDEX_SLOT;
		uint32_t ref = snap_get32(slot + 4);

		pr->left--;
		pr->pos = (pr->pos + 1) & pr->mask;
		if (ref == 0)
			return 0;
		if (snap_get32(slot) == pr->tag) {
			*off = (uint64_t)ref - 1;
			return 1;
		}
	}
	return 0;
}

int accord_snap_user_by_name(const struct accord_snapshot *s, const char *name,
			     struct accord_snap_user *out)
{
	size_t len = strlen(name);
	struct probe pr;
	uint64_t off;

	probe_start(s, &s->user_by_name, accord_hash64(name, len, s->seed), &pr);
	while (probe_next(&pr, &off)) {
		if (accord_snap_user_at(s, off, out))
			return -EBADMSG;
		if (out->name_len == len && memcmp(out->name, name, len) == 0)
			return 0;
	}
	return -ENOENT;
}

int accord_snap_user_by_uid(const struct accord_snapshot *s, uint32_t uid,
			    struct accord_snap_user *out)
{
	struct probe pr;
	uint64_t off;

	probe_start(s, &s->user_by_uid, accord_hash_id(uid, s->seed), &pr);
	while (probe_next(&pr, &off)) {
		if (accord_snap_user_at(s, off, out))
			return -EBADMSG;
		if (out->uid == uid)
			return 0;
	}
	return -ENOENT;
}

int accord_snap_group_by_name(const struct accord_snapshot *s,
			      const char *name, struct accord_snap_group *out)
{
	size_t len = strlen(name);
	struct probe pr;
	uint64_t off;

	probe_start(s, &s->group_by_name, accord_hash64(name, len, s->seed), &pr);
	while (probe_next(&pr, &off)) {
		if (group_at(s, off, out))
			return -EBADMSG;
		if (out->name_len == len && memcmp(out->name, name, len) == 0)
			return 0;
	}
	return -ENOENT;
}

int accord_snap_group_by_gid(const struct accord_snapshot *s, uint32_t gid,
			     struct accord_snap_group *out)
{
	struct probe pr;
	uint64_t off;

	probe_start(s, &s->group_by_gid, accord_hash_id(gid, s->seed), &pr);
	while (probe_next(&pr, &off)) {
		if (group_at(s, off, out))
			return -EBADMSG;
		if (out->gid == gid)
			return 0;
	}
	return -ENOENT;
}

int accord_snap_user_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_user *out)
{
	int r;

	if (*cursor >= s->users.size)
		return -ENOENT;
	r = accord_snap_user_at(s, *cursor, out);
	if (r == 0)
		*cursor += out->reclen;
	return r;
}

int accord_snap_group_next(const struct accord_snapshot *s, uint64_t *cursor,
			   struct accord_snap_group *out)
{
	int r;

	if (*cursor >= s->groups.size)
		return -ENOENT;
	r = group_at(s, *cursor, out);
	if (r == 0)
		*cursor += out->reclen;
	return r;
}

int accord_snap_tomb_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_tomb *out)
{
	int r;

	if (*cursor >= s->tombstones.size)
		return -ENOENT;
	r = tomb_at(s, *cursor, out);
	if (r == 0)
		*cursor += out->reclen;
	return r;
}

int accord_snap_appl_by_name(const struct accord_snapshot *s, const char *name,
			     struct accord_snap_appl *out)
{
	size_t len = strlen(name);
	struct probe pr;
	uint64_t off;

	if (!s->appl_by_name.off)
		return -ENOENT; /* no applications defined */
	probe_start(s, &s->appl_by_name, accord_hash64(name, len, s->seed), &pr);
	while (probe_next(&pr, &off)) {
		if (appl_at(s, off, out))
			return -EBADMSG;
		if (out->name_len == len && memcmp(out->name, name, len) == 0)
			return 0;
	}
	return -ENOENT;
}

int accord_snap_appl_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_appl *out)
{
	int r;

	if (*cursor >= s->appls.size)
		return -ENOENT;
	r = appl_at(s, *cursor, out);
	if (r == 0)
		*cursor += out->reclen;
	return r;
}

int accord_snap_swap_next(const struct accord_snapshot *s, uint64_t *cursor,
			  struct accord_snap_swap *out)
{
	int r;

	if (*cursor >= s->swaps.size)
		return -ENOENT;
	r = swap_at(s, *cursor, out);
	if (r == 0)
		*cursor += out->reclen;
	return r;
}

bool accord_snap_user_in_gid(const struct accord_snap_user *u, uint32_t gid)
{
	uint32_t lo = 0, hi = u->ngroups;

	if (u->gid == gid)
		return true;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, v = accord_snap_user_gid(u, mid);

		if (v == gid)
			return true;
		if (v < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int accord_snap_meta(const struct accord_snapshot *s,
		     struct accord_snap_meta *m)
{
	const unsigned char *p = sec_ptr(s, &s->meta);

	m->uid_lo = snap_get32(p);
	m->uid_hi = snap_get32(p + 4);
	m->gid_lo = snap_get32(p + 8);
	m->gid_hi = snap_get32(p + 12);
	m->next_uid = snap_get32(p + 16);
	m->next_gid = snap_get32(p + 20);
	return 0;
}

int accord_snapshot_map_file(const char *path, int flags,
			     struct accord_snapshot *s, accord_snap_why *why)
{
	struct stat st;
	void *map = MAP_FAILED;
	int fd, r;

	memset(s, 0, sizeof(*s));
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		r = -errno;
		if (why)
			*why = "cannot open the snapshot";
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		if (why)
			*why = "cannot stat the snapshot";
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		if (why)
			*why = "snapshot is not a regular file";
		goto out;
	}
	if ((flags & ACCORD_SNAP_TRUSTED_OWNER) &&
	    ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	     (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		r = -EPERM;
		if (why)
			*why = "snapshot is not owned by root or is writable by group or others";
		goto out;
	}
	if (st.st_size < (off_t)SNAP_HEADER_SIZE) {
		r = -EBADMSG;
		if (why)
			*why = "file is shorter than a snapshot header";
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		if (why)
			*why = "cannot map the snapshot";
		goto out;
	}
	r = accord_snapshot_open_mem(s, map, (size_t)st.st_size, why);
	if (r < 0) {
		munmap(map, (size_t)st.st_size);
		memset(s, 0, sizeof(*s));
		goto out;
	}
	s->map_len = (size_t)st.st_size;
	s->st = st;
out:
	close(fd);
	return r;
}

void accord_snapshot_unmap(struct accord_snapshot *s)
{
	if (s->map_len)
		munmap((void *)(uintptr_t)s->base, s->map_len);
	memset(s, 0, sizeof(*s));
}

/* ---- deep verification (sync, check, writers) ---------------------- */

static int verify_index(const struct accord_snapshot *s,
			const struct accord_snap_section *idx,
			const struct accord_snap_section *recs,
			const uint64_t *starts, uint32_t want_count,
			int kind /* 0 user name, 1 uid, 2 group name, 3 gid,
				    4 application name */)
{
	const unsigned char *p = sec_ptr(s, idx);
	uint32_t nslots = snap_get32(p), count = 0, i;
	/* every record referenced exactly once: with the count check below, a
	 * duplicated reference cannot hide another record from its key */
	uint64_t *seen = calloc(recs->size / 512 + 1, sizeof(uint64_t));
	int r = -1;

	if (!seen)
		return -1;
	for (i = 0; i < nslots; i++) {
		const unsigned char *slot = p + SNAP_INDEX_HEADER + (size_t)i * SNAP_INDEX_SLOT;
		uint32_t ref = snap_get32(slot + 4);
		uint64_t off, h;
		struct accord_snap_user u;
		struct accord_snap_group g;
		struct accord_snap_appl a;

		if (!ref)
			continue;
		off = (uint64_t)ref - 1;
		if (off >= recs->size || (off & 7u) ||
		    !(starts[off / 8 / 64] & (1ull << ((off / 8) % 64))) ||
		    (seen[off / 8 / 64] & (1ull << ((off / 8) % 64))))
			goto out;
		seen[off / 8 / 64] |= 1ull << ((off / 8) % 64);
		if (kind <= 1) {
			if (accord_snap_user_at(s, off, &u))
				goto out;
			h = kind == 0 ? accord_hash64(u.name, u.name_len, s->seed)
				      : accord_hash_id(u.uid, s->seed);
		} else if (kind <= 3) {
			if (group_at(s, off, &g))
				goto out;
			h = kind == 2 ? accord_hash64(g.name, g.name_len, s->seed)
				      : accord_hash_id(g.gid, s->seed);
		} else {
			if (appl_at(s, off, &a))
				goto out;
			h = accord_hash64(a.name, a.name_len, s->seed);
		}
		if (snap_get32(slot) != (uint32_t)(h >> 32))
			goto out;
		/* reachable: no empty slot between the key's home and here,
		 * or a lookup would stop before it */
		{
			uint32_t j;

			for (j = (uint32_t)h & (nslots - 1); j != i; j = (j + 1) & (nslots - 1))
				if (!snap_get32(p + SNAP_INDEX_HEADER + (size_t)j * SNAP_INDEX_SLOT + 4))
					goto out;
		}
		count++;
	}
	if (count != want_count || snap_get32(p + 4) != count)
		goto out;
	if ((uint64_t)count * 2 > nslots + (uint64_t)nslots / 2)
		goto out; /* too full: the writer keeps load <= 3/4 */
	r = 0;
out:
	free(seen);
	return r;
}

int accord_snapshot_verify_checksum(const struct accord_snapshot *s,
				    accord_snap_why *why)
{
	uint64_t table_end = SNAP_HEADER_SIZE +
			     (uint64_t)snap_get32(s->base + 40) * SNAP_SECTION_ENTRY;

	if (accord_checksum(s->base + table_end, s->size - table_end) !=
	    snap_get64(s->base + 32)) {
		if (why)
			*why = "body checksum mismatch (the file is damaged)";
		return -EBADMSG;
	}
	return 0;
}

static bool bit_set(const uint64_t *bits, uint64_t off)
{
	return bits[off / 8 / 64] & (1ull << ((off / 8) % 64));
}

/* The dates section: sorted and unique by user record offset, each at a
 * real record (ustarts), well formed, and only for users with a date. */
static int verify_user_dates(const struct accord_snapshot *s,
			     const uint64_t *ustarts, accord_snap_why *why)
{
	const unsigned char *p = sec_ptr(s, &s->user_dates);
	uint64_t i, n = s->user_dates.size / SNAP_USER_DATES_ENTRY;
	uint32_t prev = 0;

	for (i = 0; i < n; i++) {
		const unsigned char *e = p + i * SNAP_USER_DATES_ENTRY;
		uint32_t off = snap_get32(e);
		int64_t revoke = (int64_t)snap_get64(e + 8);
		int64_t resume = (int64_t)snap_get64(e + 16);

		if (off >= s->users.size || (off & 7u) || !bit_set(ustarts, off))
			return bad(why, "a user date belongs to no user record");
		if (i && off <= prev)
			return bad(why, "the user dates are not sorted or have duplicates");
		if (snap_get32(e + 4) || revoke < 0 || resume < 0 ||
		    (revoke == 0 && resume == 0))
			return bad(why, "a user date entry is malformed");
		prev = off;
	}
	return 0;
}

/* The RACF ID section: sorted and unique by user record offset, each at
 * a real record, each alias well formed. */
static int verify_user_racfid(const struct accord_snapshot *s,
			      const uint64_t *ustarts, accord_snap_why *why)
{
	const unsigned char *p = sec_ptr(s, &s->user_racfid);
	uint64_t i, n = s->user_racfid.size / SNAP_USER_RACFID_ENTRY;
	uint32_t prev = 0;

	for (i = 0; i < n; i++) {
		const unsigned char *e = p + i * SNAP_USER_RACFID_ENTRY;
		uint32_t off = snap_get32(e);

		if (off >= s->users.size || (off & 7u) || !bit_set(ustarts, off))
			return bad(why, "a user RACF ID belongs to no user record");
		if (i && off <= prev)
			return bad(why, "the user RACF IDs are not sorted or have duplicates");
		if (!snap_racfid_ok(e))
			return bad(why, "a user RACF ID entry is malformed");
		prev = off;
	}
	return 0;
}

static int ace_cmp(const struct accord_snap_ace *a, const struct accord_snap_ace *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* One application's access list: exact count, sorted and unique, every
 * entry naming a user or group that exists with the ID it records. */
static int verify_appl_entries(const struct accord_snapshot *s,
			       const struct accord_snap_appl *a,
			       accord_snap_why *why)
{
	struct accord_snap_ace e, prev = { 0 };
	struct accord_snap_user u;
	struct accord_snap_group g;
	size_t pos = 0;
	uint32_t count = 0;
	int rr;

	while ((rr = accord_snap_appl_entry(a, &pos, &e)) == 0) {
		if (count && ace_cmp(&prev, &e) >= 0)
			return bad(why, "an application's access list is not sorted or has duplicates");
		if (e.kind == ACCORD_ACE_USER) {
			if (accord_snap_user_by_name(s, e.name, &u) || u.uid != e.id)
				return bad(why, "an application's access list names a user that does not exist");
		} else if (accord_snap_group_by_name(s, e.name, &g) || g.gid != e.id) {
			return bad(why, "an application's access list names a group that does not exist");
		}
		prev = e;
		count++;
	}
	if (rr != -ENOENT)
		return bad(why, "damaged application access list");
	if (count != a->nentries)
		return bad(why, "an application's entry count does not match its access list");
	return 0;
}

static int verify_appls(const struct accord_snapshot *s, accord_snap_why *why)
{
	struct accord_snap_appl a, a2;
	uint64_t cur, *astarts;
	uint32_t n;
	int rr, r = -EBADMSG;

	if (!s->appls.off)
		return s->appl_count ? bad(why, "application count does not match the header") : 0;
	astarts = calloc(s->appls.size / 512 + 1, sizeof(uint64_t));
	if (!astarts) {
		if (why)
			*why = "out of memory";
		return -ENOMEM;
	}
	for (cur = 0, n = 0; (rr = accord_snap_appl_next(s, &cur, &a)) == 0; n++) {
		astarts[a.off / 512] |= 1ull << ((a.off / 8) % 64);
		if (verify_appl_entries(s, &a, why))
			goto out;
	}
	if (rr != -ENOENT || n != s->appl_count) {
		bad(why, rr != -ENOENT ? "damaged application record"
				       : "application count does not match the header");
		goto out;
	}
	if (verify_index(s, &s->appl_by_name, &s->appls, astarts, s->appl_count, 4)) {
		bad(why, "a hash index does not match the records");
		goto out;
	}
	for (cur = 0; accord_snap_appl_next(s, &cur, &a) == 0;)
		if (accord_snap_appl_by_name(s, a.name, &a2) || a2.off != a.off) {
			bad(why, "an application is not reachable by name (duplicate name?)");
			goto out;
		}
	r = 0;
out:
	free(astarts);
	return r;
}

static int swap_cmp(const struct accord_snap_swap *a, const struct accord_snap_swap *b)
{
	int c = strcmp(a->to, b->to);

	return c ? c : strcmp(a->from, b->from);
}

static int verify_swaps(const struct accord_snapshot *s, accord_snap_why *why)
{
	struct accord_snap_swap w, prev = { 0 };
	struct accord_snap_group g;
	uint64_t cur;
	uint32_t n;
	int rr;

	for (cur = 0, n = 0; (rr = accord_snap_swap_next(s, &cur, &w)) == 0; n++) {
		if (accord_snap_group_by_name(s, w.from, &g))
			return bad(why, "a swap rule names a group that does not exist");
		if (n && swap_cmp(&prev, &w) >= 0)
			return bad(why, "the swap rules are not sorted or have duplicates");
		prev = w;
	}
	if (rr != -ENOENT)
		return bad(why, "damaged swap rule record");
	if (n != s->swap_count)
		return bad(why, "swap rule count does not match the header");
	return 0;
}

int accord_snapshot_verify(const struct accord_snapshot *s,
			   accord_snap_why *why)
{
	uint64_t cur, *ustarts = NULL, *gstarts = NULL;
	uint32_t n;
	struct accord_snap_user u, u2;
	struct accord_snap_group g, g2;
	struct accord_snap_tomb t;
	struct accord_snap_meta m;
	int r = -EBADMSG, rr;

	if (accord_snapshot_verify_checksum(s, why) < 0)
		return -EBADMSG;
	ustarts = calloc(s->users.size / 512 + 1, sizeof(uint64_t));
	gstarts = calloc(s->groups.size / 512 + 1, sizeof(uint64_t));
	if (!ustarts || !gstarts) {
		r = -ENOMEM;
		if (why)
			*why = "out of memory";
		goto out;
	}
	for (cur = 0, n = 0; (rr = accord_snap_user_next(s, &cur, &u)) == 0; n++) {
		uint32_t i;

		ustarts[u.off / 512] |= 1ull << ((u.off / 8) % 64);
		if (u.flags & ~ACCORD_USER_FLAGS_KNOWN ||
		    accord_user_status(u.flags) > ACCORD_STATUS_REVOKED) {
			if (why)
				*why = "a user record has unknown flags";
			goto out;
		}
		for (i = 0; i < u.ngroups; i++)
			if (accord_snap_group_by_gid(s, accord_snap_user_gid(&u, i), &g)) {
				if (why)
					*why = "a user's group list names a missing group";
				goto out;
			}
		if (accord_snap_group_by_gid(s, u.gid, &g)) {
			if (why)
				*why = "a user's primary group is missing";
			goto out;
		}
	}
	if (rr != -ENOENT || n != s->user_count) {
		if (why)
			*why = rr != -ENOENT ? "damaged user record"
					     : "user count does not match the header";
		goto out;
	}
	for (cur = 0, n = 0; (rr = accord_snap_group_next(s, &cur, &g)) == 0; n++) {
		const char *mname;
		size_t pos = 0;
		uint32_t count = 0;

		gstarts[g.off / 512] |= 1ull << ((g.off / 8) % 64);
		while ((mname = accord_snap_group_member(&g, &pos))) {
			if (!mname[0] || accord_snap_user_by_name(s, mname, &u2)) {
				if (why)
					*why = "a group lists a member that is not a user";
				goto out;
			}
			count++;
		}
		if (count != g.nmembers) {
			if (why)
				*why = "a group's member count does not match its member list";
			goto out;
		}
	}
	if (rr != -ENOENT || n != s->group_count) {
		if (why)
			*why = rr != -ENOENT ? "damaged group record"
					     : "group count does not match the header";
		goto out;
	}
	for (cur = 0, n = 0; (rr = accord_snap_tomb_next(s, &cur, &t)) == 0; n++)
		if (t.kind != ACCORD_TOMB_USER && t.kind != ACCORD_TOMB_GROUP) {
			if (why)
				*why = "a tombstone has an unknown kind";
			goto out;
		}
	if (rr != -ENOENT || n != s->tombstone_count) {
		if (why)
			*why = "damaged tombstone records";
		goto out;
	}
	if (verify_index(s, &s->user_by_name, &s->users, ustarts, s->user_count, 0) ||
	    verify_index(s, &s->user_by_uid, &s->users, ustarts, s->user_count, 1) ||
	    verify_index(s, &s->group_by_name, &s->groups, gstarts, s->group_count, 2) ||
	    verify_index(s, &s->group_by_gid, &s->groups, gstarts, s->group_count, 3)) {
		if (why)
			*why = "a hash index does not match the records";
		goto out;
	}
	/* every record must be reachable through its name index */
	for (cur = 0; accord_snap_user_next(s, &cur, &u) == 0;)
		if (accord_snap_user_by_name(s, u.name, &u2) || u2.off != u.off) {
			if (why)
				*why = "a user is not reachable by name (duplicate name?)";
			goto out;
		}
	for (cur = 0; accord_snap_group_next(s, &cur, &g) == 0;)
		if (accord_snap_group_by_name(s, g.name, &g2) || g2.off != g.off) {
			if (why)
				*why = "a group is not reachable by name (duplicate name?)";
			goto out;
		}
	accord_snap_meta(s, &m);
	if (m.uid_lo > m.uid_hi || m.gid_lo > m.gid_hi) {
		if (why)
			*why = "meta section holds an empty ID range";
		goto out;
	}
	rr = verify_user_dates(s, ustarts, why);
	if (rr == 0)
		rr = verify_user_racfid(s, ustarts, why);
	if (rr == 0)
		rr = verify_appls(s, why);
	if (rr == 0)
		rr = verify_swaps(s, why);
	if (rr < 0) {
		r = rr;
		goto out;
	}
	r = 0;
out:
	free(ustarts);
	free(gstarts);
	return r;
}

void accord_snap_certdb(const struct accord_snapshot *s, const void **p,
			size_t *len)
{
	*p = s->certdb.off ? sec_ptr(s, &s->certdb) : NULL;
	*len = s->certdb.off ? (size_t)s->certdb.size : 0;
}
