/* SPDX-License-Identifier: MIT */
/*
 * The snapshot reader against bad bytes: truncated and extended images,
 * every single-byte flip (with and without recomputed checksums, so that
 * damage reaches the record parsers), hostile hash indexes, records whose
 * lengths point outside, overlapping sections, and semantic damage that
 * only accord_snapshot_verify() can see.  The contract (snapshot.h): open
 * or verify refuses, or every lookup and iteration returns normally and
 * never reads outside the image.  Images are copied into buffers of
 * exactly their size so ASan and valgrind see any read past the end.
 * The image has every optional section (user dates, applications and
 * their index, swap rules), so all of the above covers them too.
 */
#include "unit_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "snapshot_format.h"

static unsigned char *g_img;
static size_t g_len;
static struct accord_snapshot g_snap; /* over g_img, for offsets */

static int setup(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "carol", .group = "staff",
				      .groups = "staff,dev", .gecos = "Carol C" };
	accord_snap_why why = NULL;

	(void)state;
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(accord_group_add(st, "dev", false, 0, false, &err), 0);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "alice", &err), 0);
	assert_int_equal(accord_group_adduser(st, "dev", "bob", &err), 0);
	assert_int_equal(unit_add(st, "x", &err), 0);
	assert_int_equal(accord_user_del(st, "x", &err), 0);
	assert_int_equal(accord_user_status_op(st, "bob", ACCORD_OP_REVOKE, "r", &err), 0);
	assert_int_equal(accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &err), 0);
	assert_int_equal(accord_appl_add(st, "login", ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "staff",
					    ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "alice",
					    ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "bob",
					    ACCORD_ACCESS_NONE, &err), 0);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_PERMIT, "dev", "root", &err), 0);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_DENY, "staff", "carol", &err), 0);
	{
		struct accord_user_spec d = { .name = "alice", .has_revoke_date = true,
					      .revoke_date = 1800000000 };

		assert_int_equal(accord_user_mod(st, &d, &err), 0);
		d = (struct accord_user_spec){ .name = "carol", .has_resume_date = true,
					       .resume_date = 1750000000 };
		assert_int_equal(accord_user_mod(st, &d, &err), 0);
	}
	g_img = unit_build(st, 3, NULL, &g_len);
	accord_state_free(st);
	assert_int_equal(accord_snapshot_open_mem(&g_snap, g_img, g_len, &why), 0);
	assert_int_equal(accord_snapshot_verify(&g_snap, &why), 0);
	assert_int_equal(snap_get32(g_img + 40), 12);
	assert_int_equal(g_snap.appl_count, 2);
	assert_int_equal(g_snap.swap_count, 2);
	assert_int_equal(g_snap.user_dates.size, 2 * SNAP_USER_DATES_ENTRY);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(g_img);
	g_img = NULL;
	return 0;
}

/* A copy in a buffer of exactly len bytes (1 for 0). */
static unsigned char *copy(size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, g_img, len < g_len ? len : g_len);
	return p;
}

/* Offset in the image of a record found in g_snap. */
static size_t user_off(const char *name)
{
	struct accord_snap_user u;

	assert_int_equal(accord_snap_user_by_name(&g_snap, name, &u), 0);
	return (size_t)(g_snap.users.off + u.off);
}

static size_t group_off(const char *name)
{
	struct accord_snap_group g;

	assert_int_equal(accord_snap_group_by_name(&g_snap, name, &g), 0);
	return (size_t)(g_snap.groups.off + g.off);
}

/* Checksums recomputed; open must pass; exercise; returns verify. */
static int open_fixed(unsigned char *img, struct accord_snapshot *s,
		      accord_snap_why *why)
{
	unit_fix_checksums(img, g_len);
	*why = NULL;
	if (accord_snapshot_open_mem(s, img, g_len, why) != 0)
		fail_msg("open_mem refused a patched image: %s", *why);
	unit_snapshot_exercise(s);
	return accord_snapshot_verify(s, why);
}

/* What verify promises when it accepts: every record reachable by name. */
static void assert_verified_consistent(const struct accord_snapshot *s)
{
	struct accord_snap_user u, u2;
	struct accord_snap_group g, g2;
	uint64_t cur;
	uint32_t n = 0;

	for (cur = 0; accord_snap_user_next(s, &cur, &u) == 0; n++) {
		assert_int_equal(accord_snap_user_by_name(s, u.name, &u2), 0);
		assert_int_equal(u2.off, u.off);
		assert_int_equal(accord_snap_group_by_gid(s, u.gid, &g), 0);
	}
	assert_int_equal(n, s->user_count);
	for (cur = 0, n = 0; accord_snap_group_next(s, &cur, &g) == 0; n++) {
		assert_int_equal(accord_snap_group_by_name(s, g.name, &g2), 0);
		assert_int_equal(g2.off, g.off);
	}
	assert_int_equal(n, s->group_count);
}

static void test_truncated_and_extended(void **state)
{
	struct accord_snapshot s;
	accord_snap_why why;
	unsigned char *p;
	size_t len;

	(void)state;
	for (len = 0; len < g_len; len++) {
		p = copy(len);
		why = NULL;
		if (accord_snapshot_open_mem(&s, p, len, &why) == 0)
			fail_msg("open_mem accepted %zu of %zu bytes", len, g_len);
		assert_non_null(why);
		/* a truncation that also rewrites the header to match */
		if (len >= SNAP_HEADER_SIZE) {
			snap_put64(p + 24, len);
			unit_fix_checksums(p, len);
			if (accord_snapshot_open_mem(&s, p, len, &why) == 0) {
				unit_snapshot_exercise(&s);
				assert_int_not_equal(accord_snapshot_verify(&s, &why), 0);
			}
		}
		free(p);
	}
	/* extended by trailing bytes */
	p = malloc(g_len + 8);
	assert_non_null(p);
	memcpy(p, g_img, g_len);
	memset(p + g_len, 0, 8);
	assert_int_equal(accord_snapshot_open_mem(&s, p, g_len + 8, &why), -EBADMSG);
	assert_contains(why, "file size");
	free(p);
}

/* Every byte flipped, one at a time: the checksums catch all of it; what
 * open_mem alone accepts (the NSS module's view) is still safe to read. */
static void test_every_byte_flipped(void **state)
{
	struct accord_snapshot s;
	accord_snap_why why;
	size_t i, opened = 0;

	(void)state;
	for (i = 0; i < g_len; i++) {
		unsigned char *p = copy(g_len);
		int r;

		p[i] ^= 0xff;
		why = NULL;
		r = accord_snapshot_open_mem(&s, p, g_len, &why);
		if (r == 0) {
			opened++;
			unit_snapshot_exercise(&s);
			/* a body flip: the checksum alone (a writer's check) sees it */
			assert_int_equal(accord_snapshot_verify_checksum(&s, &why), -EBADMSG);
			r = accord_snapshot_verify(&s, &why);
		}
		if (r != -EBADMSG)
			fail_msg("flip of byte %zu not detected (r=%d)", i, r);
		assert_non_null(why);
		free(p);
	}
	/* the body flips got past open_mem and were exercised */
	assert_true(opened > g_len / 2);
}

/* The same with the checksums recomputed: the damage reaches the parsers.
 * Three kinds of change per byte. */
static void test_every_byte_damaged_checksums_fixed(void **state)
{
	static const int mode[] = { 0xff, 0x01, -1 /* set to 0 */, 0x80 };
	struct accord_snapshot s;
	accord_snap_why why;
	size_t i, m, accepted = 0, refused = 0;

	(void)state;
	for (m = 0; m < sizeof(mode) / sizeof(mode[0]); m++)
		for (i = 0; i < g_len; i++) {
			unsigned char *p = copy(g_len);

			if (mode[m] < 0) {
				if (p[i] == 0) {
					free(p);
					continue;
				}
				p[i] = 0;
			} else {
				p[i] ^= (unsigned char)mode[m];
			}
			unit_fix_checksums(p, g_len);
			why = NULL;
			if (accord_snapshot_open_mem(&s, p, g_len, &why) == 0) {
				unit_snapshot_exercise(&s);
				if (accord_snapshot_verify(&s, &why) == 0) {
					assert_verified_consistent(&s);
					accepted++;
				} else {
					refused++;
				}
			} else {
				refused++;
			}
			free(p);
		}
	/* both outcomes happen: string bytes can change harmlessly, lengths
	 * and offsets cannot */
	assert_true(accepted > 0);
	assert_true(refused > 0);
}

/*
 * A writer loads the published snapshot into a state (after checking its
 * checksum) and publishes the next one from it.  Whatever a damaged image
 * with valid checksums holds, the loader refuses it or yields a state
 * whose next snapshot passes the deep check: damage must not propagate
 * into a generation that other hosts install.
 */
static void test_loader_never_propagates_damage(void **state)
{
	static const unsigned char xors[] = { 0xff, 0x01, 0x80 };
	struct accord_snapshot s, s2;
	accord_snap_why why;
	size_t i, m, loaded = 0, refused = 0, bad = 0;
	char report[2048] = "";

	(void)state;
	for (m = 0; m < sizeof(xors); m++)
		for (i = 0; i < g_len; i++) {
			unsigned char *p = copy(g_len), *img2 = NULL;
			struct accord_state *st = NULL;
			struct accord_err err = { 0 };
			size_t len2;

			p[i] ^= xors[m];
			unit_fix_checksums(p, g_len);
			if (accord_snapshot_open_mem(&s, p, g_len, &why) != 0 ||
			    accord_snapshot_verify_checksum(&s, &why) != 0) {
				free(p);
				continue;
			}
			if (accord_state_from_snapshot(&s, &st, &err) != 0) {
				/* a flipped section type makes a section unknown:
				 * refused as written by a newer version */
				if (err.code != -EBADMSG &&
				    !(err.code == -EPROTONOSUPPORT && s.unknown_sections)) {
					size_t used = strlen(report);

					bad++;
					snprintf(report + used, sizeof(report) - used,
						 "byte %zu ^ %#x: loader says %d %s\n", i,
						 xors[m], err.code, err.msg);
				}
				refused++;
				free(p);
				continue;
			}
			loaded++;
			assert_int_equal(accord_snapshot_build(st, 9, NULL, 0, &img2, &len2, &err), 0);
			assert_int_equal(accord_snapshot_open_mem(&s2, img2, len2, &why), 0);
			if (accord_snapshot_verify(&s2, &why) != 0) {
				size_t used = strlen(report);

				bad++;
				snprintf(report + used, sizeof(report) - used,
					 "byte %zu ^ %#x: %s\n", i, xors[m], why);
			}
			free(img2);
			accord_state_free(st);
			free(p);
		}
	if (bad)
		fail_msg("%zu damaged images loaded into states whose next snapshot fails "
			 "verification:\n%s", bad, report);
	assert_true(loaded > 0);
	assert_true(refused > 0);
}

static void fill_index(unsigned char *img, const struct accord_snap_section *idx,
		       uint32_t tag, uint32_t ref)
{
	unsigned char *p = img + idx->off;
	uint32_t n = snap_get32(p), i;

	snap_put32(p + 4, n); /* "full" */
	for (i = 0; i < n; i++) {
		snap_put32(p + SNAP_INDEX_HEADER + (size_t)i * SNAP_INDEX_SLOT, tag);
		snap_put32(p + SNAP_INDEX_HEADER + (size_t)i * SNAP_INDEX_SLOT + 4, ref);
	}
}

static uint32_t name_tag(const char *name)
{
	return (uint32_t)(accord_hash64(name, strlen(name), g_snap.seed) >> 32);
}

static uint32_t id_tag(uint32_t id)
{
	return (uint32_t)(accord_hash_id(id, g_snap.seed) >> 32);
}

/* Indexes with no empty slot, every slot at a valid record: lookups end
 * after one pass (no endless probing) and find nothing wrong. */
static void test_full_index_wrong_tags(void **state)
{
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_group g;
	accord_snap_why why;
	uint32_t alice_ref = (uint32_t)(user_off("alice") - g_snap.users.off) + 1;
	uint32_t bob_ref = (uint32_t)(user_off("bob") - g_snap.users.off) + 1;
	uint32_t staff_ref = (uint32_t)(group_off("staff") - g_snap.groups.off) + 1;
	unsigned char *p;

	(void)state;
	/* right record, wrong tag */
	p = copy(g_len);
	fill_index(p, &g_snap.user_by_name, ~name_tag("alice"), alice_ref);
	fill_index(p, &g_snap.user_by_uid, ~id_tag(1002), alice_ref);
	fill_index(p, &g_snap.group_by_name, ~name_tag("staff"), staff_ref);
	fill_index(p, &g_snap.group_by_gid, ~id_tag(1000), staff_ref);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), -ENOENT);
	assert_int_equal(accord_snap_user_by_uid(&s, 1002, &u), -ENOENT);
	assert_int_equal(accord_snap_group_by_name(&s, "staff", &g), -ENOENT);
	assert_int_equal(accord_snap_group_by_gid(&s, 1000, &g), -ENOENT);
	free(p);

	/* alice's tag everywhere, bob's record everywhere */
	p = copy(g_len);
	fill_index(p, &g_snap.user_by_name, name_tag("alice"), bob_ref);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), -ENOENT);
	assert_int_equal(accord_snap_user_by_name(&s, "bob", &u), -ENOENT);
	free(p);

	/* every slot claims a user that is not there */
	p = copy(g_len);
	fill_index(p, &g_snap.user_by_uid, id_tag(4242), bob_ref);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_user_by_uid(&s, 4242, &u), -ENOENT);
	free(p);
}

/* Slots whose references point nowhere sensible. */
static void test_index_bad_refs(void **state)
{
	static const uint32_t refs[] = { 2, 4, 0xffffffffu, 0x7fffffffu };
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_group g;
	accord_snap_why why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		unsigned char *p = copy(g_len);

		fill_index(p, &g_snap.user_by_name, name_tag("alice"), refs[i]);
		fill_index(p, &g_snap.user_by_uid, id_tag(1002), refs[i]);
		fill_index(p, &g_snap.group_by_name, name_tag("staff"), refs[i]);
		fill_index(p, &g_snap.group_by_gid, id_tag(1000), refs[i]);
		assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
		assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), -EBADMSG);
		assert_int_equal(accord_snap_user_by_uid(&s, 1002, &u), -EBADMSG);
		assert_int_equal(accord_snap_group_by_name(&s, "staff", &g), -EBADMSG);
		assert_int_equal(accord_snap_group_by_gid(&s, 1000, &g), -EBADMSG);
		free(p);
	}
}

static void test_index_geometry(void **state)
{
	struct accord_snapshot s;
	accord_snap_why why;
	/* not a power of two; zero; more than the section holds */
	static const uint32_t bad_nslots[] = { 3, 0, 0x80000000u };
	unsigned char *p, *idx;
	uint32_t n = snap_get32(g_img + g_snap.user_by_name.off);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_nslots) / sizeof(bad_nslots[0]); i++) {
		p = copy(g_len);
		snap_put32(p + g_snap.user_by_name.off, bad_nslots[i]);
		unit_fix_checksums(p, g_len);
		assert_int_equal(accord_snapshot_open_mem(&s, p, g_len, &why), -EBADMSG);
		assert_contains(why, "hash index");
		free(p);
	}
	/* count above the number of slots */
	p = copy(g_len);
	idx = p + g_snap.group_by_gid.off;
	snap_put32(idx + 4, snap_get32(idx) + 1);
	unit_fix_checksums(p, g_len);
	assert_int_equal(accord_snapshot_open_mem(&s, p, g_len, &why), -EBADMSG);
	free(p);
	/* half the slots: the section size no longer matches */
	p = copy(g_len);
	snap_put32(p + g_snap.user_by_uid.off, n / 2);
	unit_fix_checksums(p, g_len);
	assert_int_equal(accord_snapshot_open_mem(&s, p, g_len, &why), -EBADMSG);
	free(p);
}

/* Record fields that point outside: the parsers refuse the record. */
static void test_record_lengths(void **state)
{
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct accord_snap_tomb t;
	accord_snap_why why;
	size_t bob = user_off("bob"), staff = group_off("staff");
	size_t tomb = (size_t)g_snap.tombstones.off;
	uint64_t cur;
	unsigned char *p;
	struct {
		size_t at;
		int width;
		uint64_t value;
	} cases[] = {
		{ bob + 12, 4, 0xffffffffu },          /* ngroups */
		{ bob + 12, 4, SNAP_MAX_USER_GROUPS }, /* within the cap, past the end */
		{ bob + 32, 2, 0xffff },               /* name_len */
		{ bob + 32, 2, 0 },                    /* empty name */
		{ bob + 34, 2, 0xffff },               /* gecos_len */
		{ bob + 40, 2, 2 },                    /* reason_len ("r") off by one */
		{ staff + 8, 4, 0xffffffffu },         /* nmembers */
		{ staff + 8, 4, 1 },                   /* nmembers too small */
		{ staff + 12, 4, 0xfffffff0u },        /* members_len */
		{ staff + 12, 4, 1 },                  /* members_len cuts a name */
		{ staff + 32, 2, 0xffff },             /* name_len */
		{ tomb + 16, 2, 0 },                   /* empty tombstone name */
		{ tomb + 18, 2, 0xffff },              /* by_len */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = copy(g_len);
		if (cases[i].width == 2)
			snap_put16(p + cases[i].at, (uint16_t)cases[i].value);
		else
			snap_put32(p + cases[i].at, (uint32_t)cases[i].value);
		if (open_fixed(p, &s, &why) != -EBADMSG)
			fail_msg("case %zu passed verify", i);
		free(p);
	}
	/* the damaged record ends iteration with -EBADMSG, and a lookup that
	 * lands on it says so */
	p = copy(g_len);
	snap_put16(p + bob + 32, 0xffff);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_user_by_name(&s, "bob", &u), -EBADMSG);
	for (cur = 0; accord_snap_user_next(&s, &cur, &u) == 0;)
		;
	assert_int_equal(accord_snap_user_next(&s, &cur, &u), -EBADMSG);
	/* alice, before bob, still answers */
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &u), 0);
	free(p);
	p = copy(g_len);
	snap_put32(p + staff + 8, 7);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_group_by_name(&s, "staff", &g), -EBADMSG);
	free(p);
	p = copy(g_len);
	snap_put16(p + tomb + 16, 0);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	cur = 0;
	assert_int_equal(accord_snap_tomb_next(&s, &cur, &t), -EBADMSG);
	free(p);
	/* strings without their NUL */
	p = copy(g_len);
	{
		struct accord_snap_user bu;

		assert_int_equal(accord_snap_user_by_name(&g_snap, "bob", &bu), 0);
		p[(const unsigned char *)bu.name - g_img + bu.name_len] = 'X';
	}
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_user_by_name(&s, "bob", &u), -EBADMSG);
	free(p);
}

/* Section table entries that are wrong. */
static void test_section_table(void **state)
{
	struct accord_snapshot s;
	accord_snap_why why;
	unsigned char *p;
	uint32_t nsec = snap_get32(g_img + 40), i;
	size_t users_e = 0, groups_e = 0, meta_e = 0;

	(void)state;
	for (i = 0; i < nsec; i++) {
		size_t e = SNAP_HEADER_SIZE + (size_t)i * SNAP_SECTION_ENTRY;

		if (snap_get32(g_img + e) == SNAP_SEC_USERS)
			users_e = e;
		if (snap_get32(g_img + e) == SNAP_SEC_GROUPS)
			groups_e = e;
		if (snap_get32(g_img + e) == SNAP_SEC_META)
			meta_e = e;
	}
	assert_true(users_e && groups_e && meta_e);

	struct {
		size_t at;
		int width;
		uint64_t value;
		const char *why;
	} cases[] = {
		{ users_e + 8, 8, 8, "outside" },             /* over the header */
		{ users_e + 8, 8, 0x7ffffffffffffff8ull, "outside" },
		{ users_e + 16, 8, UINT64_MAX - 4, "outside" }, /* size wraps */
		{ users_e + 8, 8, 0, "outside" },
		{ meta_e + 8, 8, 0, "outside" },
		{ users_e + 8, 8, SNAP_HEADER_SIZE + 8u * SNAP_SECTION_ENTRY + 4, "outside" },
		{ users_e, 4, SNAP_SEC_GROUPS, "duplicate" },
		{ meta_e, 4, 99, "missing" },                 /* unknown: meta missing */
		{ meta_e + 16, 8, 16, "meta" },
		{ 40, 4, 0, "section count" },
		{ 40, 4, SNAP_MAX_SECTIONS + 1, "section count" },
		{ 40, 4, 7, "missing" },                      /* last entry cut off */
		{ 8, 4, 2, "version" },
		{ 12, 4, 64, "header size" },
		{ 0, 1, 'a', "magic" },
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		p = copy(g_len);
		if (cases[k].width == 8)
			snap_put64(p + cases[k].at, cases[k].value);
		else if (cases[k].width == 4)
			snap_put32(p + cases[k].at, (uint32_t)cases[k].value);
		else
			p[cases[k].at] = (unsigned char)cases[k].value;
		unit_fix_checksums(p, g_len);
		why = NULL;
		if (accord_snapshot_open_mem(&s, p, g_len, &why) != -EBADMSG)
			fail_msg("section case %zu accepted", k);
		assert_contains(why, cases[k].why);
		free(p);
	}

	/* overlapping sections are inside the file, so open accepts them;
	 * reading user records out of group bytes must stay in bounds */
	p = copy(g_len);
	memcpy(p + users_e + 8, g_img + groups_e + 8, 16);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	free(p);
	p = copy(g_len);
	memcpy(p + groups_e + 8, g_img + users_e + 8, 16);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	free(p);
	/* the users section reaching to the end of the file */
	p = copy(g_len);
	snap_put64(p + users_e + 16, g_len - snap_get64(p + users_e + 8));
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	free(p);
}

/* Damage only the deep check can see: each is refused with its reason. */
static void test_verify_semantics(void **state)
{
	struct accord_snapshot s;
	struct accord_snap_user cu;
	struct accord_snap_group sg;
	accord_snap_why why;
	unsigned char *p;
	size_t bob = user_off("bob"), carol = user_off("carol");
	size_t tomb = (size_t)g_snap.tombstones.off, meta = (size_t)g_snap.meta.off;

	(void)state;
	assert_int_equal(accord_snap_user_by_name(&g_snap, "carol", &cu), 0);
	assert_true(cu.ngroups >= 1);
	assert_int_equal(accord_snap_group_by_name(&g_snap, "staff", &sg), 0);

	p = copy(g_len);
	snap_put32(p + bob + 8, snap_get32(p + bob + 8) | 0x100);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "unknown flags");
	free(p);

	p = copy(g_len);
	snap_put32(p + bob + 8, 3); /* status 3 does not exist */
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "unknown flags");
	free(p);

	p = copy(g_len);
	snap_put32(p + bob + 4, 4242);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "primary group is missing");
	free(p);

	p = copy(g_len);
	snap_put32(p + carol + SNAP_USER_FIXED, 4242);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "group list names a missing group");
	free(p);

	p = copy(g_len);
	p[(const unsigned char *)sg.members - g_img] = 'z'; /* "carol" -> "zarol" */
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "not a user");
	free(p);

	p = copy(g_len);
	snap_put32(p + tomb, 3);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "unknown kind");
	free(p);

	p = copy(g_len);
	snap_put32(p + 80, snap_get32(p + 80) + 1);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "user count");
	free(p);

	p = copy(g_len);
	snap_put32(p + 84, snap_get32(p + 84) - 1);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "group count");
	free(p);

	p = copy(g_len);
	snap_put32(p + 88, 0);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	free(p);

	p = copy(g_len);
	snap_put32(p + bob, 1999); /* uid changed: the UID index disagrees */
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "hash index");
	free(p);

	p = copy(g_len);
	snap_put32(p + meta, 5000); /* uid_lo above uid_hi */
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "empty ID range");
	free(p);

	/* fewer members than the count says: the walk stays in the block,
	 * the deep check notices */
	p = copy(g_len);
	snap_put32(p + group_off("staff") + 8, 1);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "member count");
	free(p);

	/* an empty name among the members: "carol\0alice\0" -> "carol\0\0lice\0" */
	p = copy(g_len);
	assert_memory_equal(sg.members, "carol\0alice", 12);
	p[(const unsigned char *)sg.members - g_img + 6] = '\0';
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "not a user");
	free(p);

	/* a harmless change (a GECOS letter) passes, and reads back */
	p = copy(g_len);
	{
		size_t at = (size_t)((const unsigned char *)cu.gecos - g_img);

		assert_int_equal(p[at], 'C');
		p[at] = 'K';
		assert_int_equal(open_fixed(p, &s, &why), 0);
		assert_int_equal(accord_snap_user_by_name(&s, "carol", &cu), 0);
		assert_string_equal(cu.gecos, "Karol C");
	}
	free(p);
}

/* Sets the tag of the index slot that refers to record offset off. */
static void retag_slot(unsigned char *img, const struct accord_snap_section *idx,
		       uint32_t off, uint32_t tag)
{
	unsigned char *p = img + idx->off;
	uint32_t n = snap_get32(p), i, found = 0;

	for (i = 0; i < n; i++) {
		unsigned char *slot = p + SNAP_INDEX_HEADER + (size_t)i * SNAP_INDEX_SLOT;

		if (snap_get32(slot + 4) == off + 1) {
			snap_put32(slot, tag);
			found++;
		}
	}
	assert_int_equal(found, 1);
}

/* Two records with one name, each index slot consistent with its record:
 * only the deep check's reachability test sees that one of them can never
 * be found by name.  The writer's loader refuses it too. */
static void check_duplicate_name(bool user_record, const char *why_want)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_snapshot s, s0;
	struct accord_snap_user u;
	struct accord_snap_group g;
	accord_snap_why why = NULL;
	uint32_t tag;
	unsigned char *img;
	size_t len;

	assert_int_equal(unit_add(st, "anna", &err), 0);
	assert_int_equal(unit_add(st, "anne", &err), 0);
	img = unit_build(st, 2, NULL, &len);
	accord_state_free(st);
	assert_int_equal(accord_snapshot_open_mem(&s0, img, len, &why), 0);
	tag = (uint32_t)(accord_hash64("anna", 4, s0.seed) >> 32);
	if (user_record) {
		assert_int_equal(accord_snap_user_by_name(&s0, "anne", &u), 0);
		img[(const unsigned char *)u.name - img + 3] = 'a';
		retag_slot(img, &s0.user_by_name, u.off, tag);
	} else {
		assert_int_equal(accord_snap_group_by_name(&s0, "anne", &g), 0);
		img[(const unsigned char *)g.name - img + 3] = 'a';
		retag_slot(img, &s0.group_by_name, g.off, tag);
	}
	unit_fix_checksums(img, len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	unit_snapshot_exercise(&s);
	assert_int_equal(accord_snapshot_verify(&s, &why), -EBADMSG);
	/* the retagged slot may also sit where its home chain breaks, which
	 * the index check (run first) reports: either reason is a refusal of
	 * the same damage, and it must be one of these two */
	if (!strstr(why, "hash index does not match"))
		assert_contains(why, why_want);
	st = NULL;
	assert_int_equal(accord_state_from_snapshot(&s, &st, &err), -EBADMSG);
	assert_null(st);
	free(img);
}

static void test_duplicate_names(void **state)
{
	(void)state;
	check_duplicate_name(true, "a user is not reachable by name");
	check_duplicate_name(false, "a group is not reachable by name");
}

/* A UID index slot overwritten with a copy of another slot whose key
 * chain runs through it: every tag matches, every slot is reachable and
 * the count still fits, but one record is referenced twice and the other
 * not at all, so getpwuid() would miss it.  Verify must say so. */
static void test_index_double_reference(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_snapshot s, s0;
	struct accord_snap_user u;
	accord_snap_why why = NULL;
	unsigned char *img, *slots;
	uint32_t nslots, i, j, k, lost_uid = 0;
	size_t len;
	bool forged = false;
	char name[16];

	(void)state;
	for (k = 0; k < 300; k++) {
		snprintf(name, sizeof(name), "d%03u", k);
		assert_int_equal(unit_add(st, name, &err), 0);
	}
	img = unit_build(st, 2, NULL, &len);
	accord_state_free(st);
	assert_int_equal(accord_snapshot_open_mem(&s0, img, len, &why), 0);
	slots = img + s0.user_by_uid.off + SNAP_INDEX_HEADER;
	nslots = snap_get32(img + s0.user_by_uid.off);
	for (i = 0; i < nslots && !forged; i++) {
		uint32_t ref = snap_get32(slots + (size_t)i * SNAP_INDEX_SLOT + 4), home;

		if (!ref)
			continue;
		assert_int_equal(accord_snap_user_at(&s0, ref - 1, &u), 0);
		home = (uint32_t)accord_hash_id(u.uid, s0.seed) & (nslots - 1);
		/* a later slot j on i's chain: occupied all the way from home */
		for (j = (i + 1) & (nslots - 1);
		     snap_get32(slots + (size_t)j * SNAP_INDEX_SLOT + 4) && j != home;
		     j = (j + 1) & (nslots - 1)) {
			struct accord_snap_user v;

			assert_int_equal(accord_snap_user_at(
				&s0, snap_get32(slots + (size_t)j * SNAP_INDEX_SLOT + 4) - 1, &v), 0);
			lost_uid = v.uid;
			memcpy(slots + (size_t)j * SNAP_INDEX_SLOT,
			       slots + (size_t)i * SNAP_INDEX_SLOT, SNAP_INDEX_SLOT);
			forged = true;
			break;
		}
	}
	assert_true(forged);
	unit_fix_checksums(img, len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	/* the forgery matters: the lost record cannot be found by its UID */
	assert_int_equal(accord_snap_user_by_uid(&s, lost_uid, &u), -ENOENT);
	assert_int_equal(accord_snapshot_verify(&s, &why), -EBADMSG);
	assert_contains(why, "hash index does not match");
	free(img);
}

/* A ':' planted in a GECOS, checksums fixed: the writer's loader refuses
 * it rather than carry a field that corrupts passwd lines onward. */
static void test_loader_refuses_bad_fields(void **state)
{
	struct accord_state *st = unit_state(), *loaded = NULL;
	struct accord_user_spec spec = { .name = "gail", .gecos = "Gail Example" };
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_user u;
	accord_snap_why why = NULL;
	unsigned char *img;
	size_t len;

	(void)state;
	assert_int_equal(accord_user_add(st, &spec, NULL, &err), 0);
	img = unit_build(st, 2, NULL, &len);
	accord_state_free(st);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&s, &loaded, &err), 0);
	accord_state_free(loaded);
	loaded = NULL;
	assert_int_equal(accord_snap_user_by_name(&s, "gail", &u), 0);
	img[(const unsigned char *)u.gecos - img + 4] = ':';
	unit_fix_checksums(img, len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&s, &loaded, &err), -EBADMSG);
	assert_null(loaded);
	free(img);
}

/* ---- the optional sections ------------------------------------------- */

static size_t appl_off(const char *name, struct accord_snap_appl *a)
{
	assert_int_equal(accord_snap_appl_by_name(&g_snap, name, a), 0);
	return (size_t)(g_snap.appls.off + a->off);
}

/* Record and entry fields that point outside or hold values that do not
 * exist: the parsers refuse them, nothing is read past, verify refuses. */
static void test_new_record_lengths(void **state)
{
	struct accord_snapshot s;
	struct accord_snap_appl a, a2;
	struct accord_snap_ace e;
	struct accord_snap_swap w;
	accord_snap_why why;
	size_t sshd = appl_off("sshd", &a), ent = (size_t)(a.entries - g_img);
	size_t swap = (size_t)g_snap.swaps.off, pos;
	uint64_t cur;
	unsigned char *p;
	struct {
		size_t at;
		int width;
		uint64_t value;
	} cases[] = {
		{ sshd + 0, 4, 0xffffffffu },       /* nentries */
		{ sshd + 0, 4, SNAP_MAX_APPL_ENTRIES + 1 },
		{ sshd + 0, 4, 4 },                 /* more than entries_len holds */
		{ sshd + 4, 4, 0xfffffff8u },       /* entries_len */
		{ sshd + 4, 4, 44 },                /* not a multiple of 8 */
		{ sshd + 4, 4, 40 },                /* cuts the last entry */
		{ sshd + 8, 1, 2 },                 /* uacc */
		{ sshd + 10, 2, 0xffff },           /* name_len */
		{ sshd + 10, 2, 0 },
		{ sshd + 10, 2, 3 },                /* "ssh" without its NUL */
		{ ent + 0, 1, 0 },                  /* entry kind */
		{ ent + 0, 1, 3 },
		{ ent + 1, 1, 2 },                  /* entry access */
		{ ent + 2, 2, 0xffff },             /* entry name_len */
		{ ent + 2, 2, 0 },
		{ ent + 2, 2, 9 },                  /* past the entry, into the next */
		{ ent + 32 + 2, 2, 12 },            /* the last entry past entries_len */
		{ swap + 0, 1, 0 },                 /* swap kind */
		{ swap + 0, 1, 3 },
		{ swap + 2, 2, 0xffff },            /* from_len */
		{ swap + 2, 2, 0 },
		{ swap + 4, 2, 0xffff },            /* to_len */
		{ swap + 4, 2, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = copy(g_len);
		if (cases[i].width == 1)
			p[cases[i].at] = (unsigned char)cases[i].value;
		else if (cases[i].width == 2)
			snap_put16(p + cases[i].at, (uint16_t)cases[i].value);
		else
			snap_put32(p + cases[i].at, (uint32_t)cases[i].value);
		if (open_fixed(p, &s, &why) != -EBADMSG)
			fail_msg("case %zu passed verify", i);
		free(p);
	}
	/* a damaged application: its lookup says so, the walk stops there */
	p = copy(g_len);
	snap_put16(p + sshd + 10, 0xffff);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a2), -EBADMSG);
	for (cur = 0; accord_snap_appl_next(&s, &cur, &a2) == 0;)
		;
	assert_int_equal(accord_snap_appl_next(&s, &cur, &a2), -EBADMSG);
	free(p);
	/* a damaged entry: the walk reports it and goes no further */
	p = copy(g_len);
	p[ent + 16] = 7; /* bob's kind */
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a2), 0);
	pos = 0;
	assert_int_equal(accord_snap_appl_entry(&a2, &pos, &e), 0);
	assert_string_equal(e.name, "alice");
	assert_int_equal(accord_snap_appl_entry(&a2, &pos, &e), -EBADMSG);
	assert_int_equal(accord_snap_appl_entry(&a2, &pos, &e), -EBADMSG);
	free(p);
	/* a damaged swap rule */
	p = copy(g_len);
	snap_put16(p + swap + 4, 0xffff);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	cur = 0;
	assert_int_equal(accord_snap_swap_next(&s, &cur, &w), -EBADMSG);
	free(p);
}

/* The section table entries of the optional sections. */
static void test_new_sections_table(void **state)
{
	struct accord_snapshot s;
	accord_snap_why why;
	unsigned char *p;
	uint32_t nsec = snap_get32(g_img + 40), i;
	size_t e_dates = 0, e_appls = 0, e_aidx = 0, e_swaps = 0, k;

	(void)state;
	for (i = 0; i < nsec; i++) {
		size_t e = SNAP_HEADER_SIZE + (size_t)i * SNAP_SECTION_ENTRY;

		switch (snap_get32(g_img + e)) {
		case SNAP_SEC_USER_DATES: e_dates = e; break;
		case SNAP_SEC_APPLS: e_appls = e; break;
		case SNAP_SEC_APPL_BY_NAME: e_aidx = e; break;
		case SNAP_SEC_SWAPS: e_swaps = e; break;
		}
	}
	assert_true(e_dates && e_appls && e_aidx && e_swaps);
	struct {
		size_t at;
		int width;
		uint64_t value;
		const char *why;
	} cases[] = {
		{ e_aidx, 4, 200, "without their index" },     /* index unknown */
		{ e_appls, 4, 200, "without their index" },    /* records unknown */
		{ e_dates + 16, 8, 25, "user dates" },         /* not whole entries */
		{ e_dates + 16, 8, 23, "user dates" },
		{ e_aidx + 16, 8, 8, "hash index" },           /* shorter than a header */
		{ e_swaps, 4, SNAP_SEC_APPLS, "duplicate" },
		{ e_dates, 4, SNAP_SEC_USERS, "duplicate" },
		{ e_swaps + 8, 8, 4, "outside" },
	};

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		p = copy(g_len);
		if (cases[k].width == 8)
			snap_put64(p + cases[k].at, cases[k].value);
		else
			snap_put32(p + cases[k].at, (uint32_t)cases[k].value);
		unit_fix_checksums(p, g_len);
		why = NULL;
		if (accord_snapshot_open_mem(&s, p, g_len, &why) != -EBADMSG)
			fail_msg("section case %zu accepted", k);
		assert_contains(why, cases[k].why);
		free(p);
	}
	/* an unknown type for the dates or the rules: readers skip them (they
	 * lose the dates or the rules, which verify cannot know were there);
	 * the writer refuses to rewrite such a snapshot */
	for (k = 0; k < 2; k++) {
		struct accord_state *st = NULL;
		struct accord_err err = { 0 };

		p = copy(g_len);
		snap_put32(p + (k ? e_swaps : e_dates), 200);
		if (k)
			snap_put32(p + SNAP_HDR_SWAP_COUNT, 0);
		assert_int_equal(open_fixed(p, &s, &why), 0);
		assert_int_equal(s.unknown_sections, 1);
		assert_int_equal(accord_state_from_snapshot(&s, &st, &err), -EPROTONOSUPPORT);
		assert_null(st);
		free(p);
	}
	/* the swap count without swap rules */
	p = copy(g_len);
	snap_put32(p + e_swaps, 200);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "swap rule count");
	free(p);
	/* overlapping sections: application records read from the users */
	p = copy(g_len);
	for (i = 0; i < nsec; i++) {
		size_t e = SNAP_HEADER_SIZE + (size_t)i * SNAP_SECTION_ENTRY;

		if (snap_get32(g_img + e) == SNAP_SEC_USERS) {
			memcpy(p + e_appls + 8, g_img + e + 8, 16);
			memcpy(p + e_swaps + 8, g_img + e + 8, 16);
			memcpy(p + e_dates + 8, g_img + e + 8, 8);
		}
	}
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	free(p);
}

/* The application name index: full of wrong tags, references nowhere,
 * a record referenced twice. */
static void test_appl_index(void **state)
{
	static const uint32_t refs[] = { 2, 4, 0xffffffffu, 0x7fffffffu };
	struct accord_snapshot s;
	struct accord_snap_appl a;
	accord_snap_why why;
	uint32_t sshd_ref = (uint32_t)(appl_off("sshd", &a) - g_snap.appls.off) + 1;
	unsigned char *p;
	size_t i;

	(void)state;
	p = copy(g_len);
	fill_index(p, &g_snap.appl_by_name, ~name_tag("sshd"), sshd_ref);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_contains(why, "hash index");
	assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a), -ENOENT);
	assert_int_equal(accord_snap_appl_by_name(&s, "login", &a), -ENOENT);
	free(p);
	p = copy(g_len);
	fill_index(p, &g_snap.appl_by_name, name_tag("login"), sshd_ref);
	assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
	assert_int_equal(accord_snap_appl_by_name(&s, "login", &a), -ENOENT);
	free(p);
	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		p = copy(g_len);
		fill_index(p, &g_snap.appl_by_name, name_tag("sshd"), refs[i]);
		assert_int_equal(open_fixed(p, &s, &why), -EBADMSG);
		assert_int_equal(accord_snap_appl_by_name(&s, "sshd", &a), -EBADMSG);
		free(p);
	}
}

/* Two applications with one name, each slot consistent with its record:
 * only reachability sees it; the writer's loader refuses it too. */
static void test_appl_duplicate_name(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_snapshot s, s0;
	struct accord_snap_appl a;
	accord_snap_why why = NULL;
	unsigned char *img;
	size_t len;

	(void)state;
	assert_int_equal(accord_appl_add(st, "anna", ACCORD_ACCESS_NONE, &err), 0);
	assert_int_equal(accord_appl_add(st, "anne", ACCORD_ACCESS_NONE, &err), 0);
	img = unit_build(st, 2, NULL, &len);
	accord_state_free(st);
	assert_int_equal(accord_snapshot_open_mem(&s0, img, len, &why), 0);
	assert_int_equal(accord_snap_appl_by_name(&s0, "anne", &a), 0);
	img[(const unsigned char *)a.name - img + 3] = 'a';
	retag_slot(img, &s0.appl_by_name, a.off,
		   (uint32_t)(accord_hash64("anna", 4, s0.seed) >> 32));
	unit_fix_checksums(img, len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	unit_snapshot_exercise(&s);
	assert_int_equal(accord_snapshot_verify(&s, &why), -EBADMSG);
	if (!strstr(why, "hash index does not match"))
		assert_contains(why, "an application is not reachable by name");
	st = NULL;
	assert_int_equal(accord_state_from_snapshot(&s, &st, &err), -EBADMSG);
	assert_null(st);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_every_byte_flipped),
		cmocka_unit_test(test_every_byte_damaged_checksums_fixed),
		cmocka_unit_test(test_loader_never_propagates_damage),
		cmocka_unit_test(test_full_index_wrong_tags),
		cmocka_unit_test(test_index_bad_refs),
		cmocka_unit_test(test_index_geometry),
		cmocka_unit_test(test_record_lengths),
		cmocka_unit_test(test_section_table),
		cmocka_unit_test(test_verify_semantics),
		cmocka_unit_test(test_duplicate_names),
		cmocka_unit_test(test_index_double_reference),
		cmocka_unit_test(test_loader_refuses_bad_fields),
		cmocka_unit_test(test_new_record_lengths),
		cmocka_unit_test(test_new_sections_table),
		cmocka_unit_test(test_appl_index),
		cmocka_unit_test(test_appl_duplicate_name),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
