/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the snapshot reader (common/snapshot.c), which the NSS
 * module runs on whatever bytes are in the host-local snapshot file.
 *
 * Whatever the input, the reader must never read outside the buffer: open
 * it, run the deep check, walk every record, look every record up again by
 * name and by ID, and touch every byte of every string it hands out so that
 * ASan sees any pointer that escaped the mapping; the same for
 * applications, their access lists and swap rules.  A writer's loader
 * (accord_state_from_snapshot) runs on every input too, and whatever it
 * accepts must rebuild into a snapshot that passes the deep check.  Inputs
 * whose checksums do not match are also run once more with the checksums
 * repaired, so that the fuzzer gets past the header check (run_fixed()).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/snapshot.h>
#include <accord/state.h>

#include "hash.h"            /* common/: to repair checksums */
#include "snapshot_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the compiler from dropping the reads. */
static volatile size_t sink;

/* Reads the whole string, its length as stated and its NUL. */
static void touch(const char *s, size_t len)
{
	size_t n = strlen(s);

	if (n != len)
		__builtin_trap(); /* the reader promised NUL-terminated, len bytes */
	sink += n;
}

static void touch_user(const struct accord_snap_user *u)
{
	uint32_t i;

	touch(u->name, u->name_len);
	touch(u->gecos, u->gecos_len);
	touch(u->home, u->home_len);
	touch(u->shell, u->shell_len);
	touch(u->reason, u->reason_len);
	for (i = 0; i < u->ngroups; i++)
		sink += accord_snap_user_gid(u, i);
	sink += u->uid + u->gid + u->flags + (size_t)u->created + (size_t)u->changed;
}

/* Set while the current input passed the deep check: then every promise
 * of accord_snapshot_verify() must hold, not only memory safety. */
static int verified;

static void touch_group(const struct accord_snap_group *g)
{
	const char *block = g->members, *m;
	size_t pos = 0, count = 0;

	touch(g->name, g->name_len);
	while ((m = accord_snap_group_member(g, &pos))) {
		size_t n = strlen(m);

		/* the walk stays inside the members block, whatever the record */
		if (m < block || (size_t)(m - block) + n >= g->members_len ||
		    pos > g->members_len)
			__builtin_trap();
		if (verified && n == 0)
			__builtin_trap(); /* verify promised non-empty names */
		if (++count > g->members_len)
			__builtin_trap(); /* the walk must end */
	}
	if (verified && count != g->nmembers)
		__builtin_trap(); /* verify promised an exact count */
	sink += g->gid + g->flags + (size_t)g->created + count;
}

/* What the deep check promises about a user record it accepted. */
static void check_verified_user(const struct accord_snapshot *s,
				const struct accord_snap_user *u)
{
	struct accord_snap_user u2;
	struct accord_snap_group g;
	uint32_t i;

	if (accord_snap_user_by_name(s, u->name, &u2) != 0 || u2.off != u->off)
		__builtin_trap();
	if (accord_snap_user_by_uid(s, u->uid, &u2) != 0 || u2.uid != u->uid)
		__builtin_trap();
	if (accord_snap_group_by_gid(s, u->gid, &g) != 0)
		__builtin_trap();
	for (i = 0; i < u->ngroups; i++)
		if (accord_snap_group_by_gid(s, accord_snap_user_gid(u, i), &g) != 0)
			__builtin_trap();
}

/* ... and about a group record. */
static void check_verified_group(const struct accord_snapshot *s,
				 const struct accord_snap_group *g)
{
	struct accord_snap_group g2;
	struct accord_snap_user u;
	const char *m;
	size_t pos = 0;

	if (accord_snap_group_by_name(s, g->name, &g2) != 0 || g2.off != g->off)
		__builtin_trap();
	if (accord_snap_group_by_gid(s, g->gid, &g2) != 0 || g2.gid != g->gid)
		__builtin_trap();
	while ((m = accord_snap_group_member(g, &pos)))
		if (accord_snap_user_by_name(s, m, &u) != 0)
			__builtin_trap();
}

/* An application: its strings, its access list (bounded by entries_len),
 * and what verify promised about it. */
static void touch_appl(const struct accord_snapshot *s,
		       const struct accord_snap_appl *a)
{
	struct accord_snap_ace e;
	struct accord_snap_user u;
	struct accord_snap_group g;
	size_t pos = 0, count = 0;
	int r;

	touch(a->name, a->name_len);
	while ((r = accord_snap_appl_entry(a, &pos, &e)) == 0) {
		touch(e.name, e.name_len);
		if (pos > a->entries_len || ++count > a->entries_len / 8)
			__builtin_trap(); /* the walk stays inside and ends */
		if (verified && (e.kind == ACCORD_ACE_USER
				 ? accord_snap_user_by_name(s, e.name, &u) || u.uid != e.id
				 : accord_snap_group_by_name(s, e.name, &g) || g.gid != e.id))
			__builtin_trap();
		sink += e.kind + e.access + e.id;
	}
	if (verified && (r != -ENOENT || count != a->nentries))
		__builtin_trap();
	sink += a->uacc + (size_t)a->created + (size_t)a->changed;
}

static void lookups(const struct accord_snapshot *s, const char *name,
		    uint32_t id)
{
	struct accord_snap_user u;
	struct accord_snap_group g;

	if (name) {
		if (accord_snap_user_by_name(s, name, &u) == 0) {
			touch_user(&u);
			if (strcmp(u.name, name) != 0)
				__builtin_trap();
		}
		if (accord_snap_group_by_name(s, name, &g) == 0) {
			touch_group(&g);
			if (strcmp(g.name, name) != 0)
				__builtin_trap();
		}
	}
	if (name) {
		struct accord_snap_appl a;

		if (accord_snap_appl_by_name(s, name, &a) == 0) {
			touch_appl(s, &a);
			if (strcmp(a.name, name) != 0)
				__builtin_trap();
		}
	}
	if (accord_snap_user_by_uid(s, id, &u) == 0) {
		touch_user(&u);
		if (u.uid != id)
			__builtin_trap();
		sink += accord_snap_user_in_gid(&u, id);
	}
	if (accord_snap_group_by_gid(s, id, &g) == 0) {
		touch_group(&g);
		if (g.gid != id)
			__builtin_trap();
	}
}

/*
 * A writer loads its state from the current snapshot after checking only
 * the body checksum (accord_state_from_snapshot() then refuses what the
 * deep check would), so the loader parses hostile records too.  Whatever
 * it accepts must build a next generation that passes the deep check:
 * damage must never be carried forward.
 */
static void check_reload(const struct accord_snapshot *s)
{
	static const unsigned char uuid[16] = { 0xac, 0xc0, 0x2d };
	struct accord_err err = { 0 };
	struct accord_state *st = NULL;
	struct accord_snapshot s2;
	accord_snap_why why = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	r = accord_state_from_snapshot(s, &st, &err);
	if (r != 0) {
		if (st || r != err.code || err.msg[0] == '\0')
			__builtin_trap(); /* refused, with a message, nothing leaked */
		return;
	}
	if (accord_state_user_count(st) != s->user_count ||
	    accord_state_group_count(st) != s->group_count ||
	    accord_state_tomb_count(st) != s->tombstone_count ||
	    accord_state_appl_slots(st) != s->appl_count ||
	    accord_state_swap_slots(st) != s->swap_count || s->unknown_sections)
		__builtin_trap();
	r = accord_snapshot_build(st, s->generation + 1, uuid, s->created, &buf,
				  &len, &err);
	if (r == 0) {
		if (accord_snapshot_open_mem(&s2, buf, len, &why) != 0 ||
		    accord_snapshot_verify(&s2, &why) != 0)
			__builtin_trap();
		if (s2.user_count != s->user_count ||
		    s2.group_count != s->group_count ||
		    s2.tombstone_count != s->tombstone_count ||
		    s2.appl_count != s->appl_count || s2.swap_count != s->swap_count)
			__builtin_trap();
	} else if (r != -ENOMEM && r != -E2BIG) {
		__builtin_trap();
	}
	free(buf);
	accord_state_free(st);
}

static void run(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "root", "alice", "bob", "dev",
					     "ops", "", "a", "nobody" };
	static const uint32_t fixed_ids[] = { 0, 1000, 65534, 100000,
					      UINT32_MAX };
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct accord_snap_tomb t;
	struct accord_snap_meta m;
	struct accord_snap_appl a;
	struct accord_snap_swap w;
	accord_snap_why why = NULL;
	uint64_t cur;
	void *buf;
	size_t i, n;
	int r;

	/* The reader expects what mmap gives: 8-aligned memory.  malloc() gives
	 * at least that (glibc and ASan), and allocating exactly size bytes
	 * lets ASan catch a read even one byte past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return;
	if ((uintptr_t)buf & 7u)
		__builtin_trap();
	if (size)
		memcpy(buf, data, size);
	if (accord_snapshot_open_mem(&s, buf, size, &why) != 0) {
		if (!why)
			__builtin_trap(); /* an error must say why */
#ifdef FUZZ_VERBOSE
		fprintf(stderr, "snapshot: refused: %s\n", why);
#endif
		sink += strlen(why);
		free(buf);
		return;
	}

	why = NULL;
	r = accord_snapshot_verify_checksum(&s, &why);
	if (r != 0 && !why)
		__builtin_trap();
	why = NULL;
	r = accord_snapshot_verify(&s, &why);
	verified = r == 0;
#ifdef FUZZ_VERBOSE
	fprintf(stderr, "snapshot: opened, verify %d %s\n", r, why ? why : "");
#endif
	if (r != 0 && !why)
		__builtin_trap();
	check_reload(&s);
	accord_snap_meta(&s, &m);
	sink += m.uid_lo + m.uid_hi + m.gid_lo + m.gid_hi + m.next_uid + m.next_gid;

	/* Bounded walks: each record is at least 8 bytes, so the section size
	 * bounds the number of records; a cursor that fails to move is a bug. */
	for (cur = 0, n = 0; accord_snap_user_next(&s, &cur, &u) == 0; n++) {
		if (n > s.users.size / 8)
			__builtin_trap();
		touch_user(&u);
		if (accord_snap_user_at(&s, u.off, &u) != 0)
			__builtin_trap(); /* the same record reads the same */
		if (verified)
			check_verified_user(&s, &u);
		lookups(&s, u.name, u.uid);
		for (i = 0; i < u.ngroups && i < 64; i++)
			lookups(&s, NULL, accord_snap_user_gid(&u, (uint32_t)i));
		lookups(&s, NULL, u.gid);
	}
	if (verified && n != s.user_count)
		__builtin_trap();
	for (cur = 0, n = 0; accord_snap_group_next(&s, &cur, &g) == 0; n++) {
		const char *mname;
		size_t pos = 0, k;

		if (n > s.groups.size / 8)
			__builtin_trap();
		touch_group(&g);
		if (verified)
			check_verified_group(&s, &g);
		lookups(&s, g.name, g.gid);
		for (k = 0; k < 64 && (mname = accord_snap_group_member(&g, &pos)); k++)
			lookups(&s, mname, g.gid);
	}
	if (verified && n != s.group_count)
		__builtin_trap();
	for (cur = 0, n = 0; accord_snap_tomb_next(&s, &cur, &t) == 0; n++) {
		if (n > s.tombstones.size / 8)
			__builtin_trap();
		touch(t.name, t.name_len);
		touch(t.by, t.by_len);
		sink += t.kind + t.id + (size_t)t.deleted_at;
		lookups(&s, t.name, t.id);
	}
	if (verified && n != s.tombstone_count)
		__builtin_trap();
	for (cur = 0, n = 0; accord_snap_appl_next(&s, &cur, &a) == 0; n++) {
		struct accord_snap_appl a2;

		if (n > s.appls.size / 8)
			__builtin_trap();
		touch_appl(&s, &a);
		if (verified && (accord_snap_appl_by_name(&s, a.name, &a2) != 0 ||
				 a2.off != a.off))
			__builtin_trap();
		lookups(&s, a.name, 0);
	}
	if (verified && n != s.appl_count)
		__builtin_trap();
	for (cur = 0, n = 0; accord_snap_swap_next(&s, &cur, &w) == 0; n++) {
		if (n > s.swaps.size / 8)
			__builtin_trap();
		touch(w.from, w.from_len);
		touch(w.to, w.to_len);
		sink += w.kind + (size_t)w.created;
		lookups(&s, w.from, 0);
		lookups(&s, w.to, 0);
	}
	if (verified && n != s.swap_count)
		__builtin_trap();
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		lookups(&s, fixed[i],
			fixed_ids[i % (sizeof(fixed_ids) / sizeof(fixed_ids[0]))]);
	/* a record offset taken from the input itself */
	if (size >= 8) {
		uint32_t off;

		memcpy(&off, data + size - 4, sizeof(off));
		if (accord_snap_user_at(&s, off, &u) == 0)
			touch_user(&u);
	}
	verified = 0;
	free(buf);
}

/*
 * Random bytes almost never carry a matching header checksum, so on its
 * own the fuzzer would only ever reach the first checks of the header.
 * Run a second time with the file size and both checksums made right, so
 * that mutations of the header, the section table and the records reach
 * the section parser, the record parsers and the deep check.
 */
static void run_fixed(const uint8_t *data, size_t size)
{
	uint64_t nsec, table_end, sum;
	unsigned char *b;

	if (size < SNAP_HEADER_SIZE || memcmp(data, SNAP_MAGIC, 8) != 0)
		return;
	nsec = snap_get32(data + 40);
	table_end = SNAP_HEADER_SIZE + nsec * SNAP_SECTION_ENTRY;
	if (nsec == 0 || nsec > SNAP_MAX_SECTIONS || table_end > size)
		return;
	b = malloc(size);
	if (!b)
		return;
	memcpy(b, data, size);
	snap_put64(b + 24, size);
	snap_put64(b + 32, accord_checksum(b + table_end, size - table_end));
	sum = accord_hash64(b, SNAP_HDR_CHECKSUM_AT, 0) ^
	      accord_hash64(b + SNAP_HEADER_SIZE, table_end - SNAP_HEADER_SIZE, 1);
	snap_put64(b + SNAP_HDR_CHECKSUM_AT, sum);
	if (memcmp(b, data, size) != 0)
		run(b, size);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	run_fixed(data, size);
	return 0;
}
