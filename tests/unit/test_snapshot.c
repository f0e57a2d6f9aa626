/* SPDX-License-Identifier: MIT */
/*
 * The snapshot format (common/snapshot_build.c -> common/snapshot.c):
 * every field of every record round-trips, lookups by each key, sorted
 * and deduplicated group lists, member order, tombstones, meta, header
 * fields, iteration, and accord_snapshot_map_file()'s checks.
 */
#include "unit_util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_format.h"

#define NOW0 1700000000

static void ok(int r, const struct accord_err *err)
{
	if (r != 0)
		fail_msg("operation failed: %d %s", r, err->msg);
}

/* Users, groups, members, tombstones, flags, a shared UID and a shared
 * GID, an empty group. */
static struct accord_state *rich_state(void)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s;

	ok(accord_group_add(st, "staff", false, 0, false, &err), &err);
	ok(accord_group_add(st, "dev", false, 0, false, &err), &err);
	ok(accord_group_add(st, "dev2", true, 1001, true, &err), &err);
	ok(accord_group_add(st, "empty", false, 0, false, &err), &err);
	s = (struct accord_user_spec){ .name = "alice", .gecos = "Alice Example,,,",
				       .home = "/srv/alice", .shell = "/bin/zsh" };
	ok(accord_user_add(st, &s, NULL, &err), &err);
	ok(unit_add(st, "bob", &err), &err);
	ok(unit_add(st, "carol", &err), &err);
	s = (struct accord_user_spec){ .name = "dave", .group = "staff",
				       .groups = "dev2,staff,dev" };
	ok(accord_user_add(st, &s, NULL, &err), &err);
	ok(unit_add(st, "eve", &err), &err);
	ok(unit_add_uid(st, "alias", 1000, true, &err), &err);
	ok(accord_group_add(st, "old", false, 0, false, &err), &err);
	accord_state_set_actor(st, NOW0 + 60, "root (login admin)");
	ok(accord_group_adduser(st, "staff", "carol", &err), &err);
	ok(accord_group_adduser(st, "staff", "alice", &err), &err);
	ok(accord_group_adduser(st, "staff", "bob", &err), &err);
	ok(accord_group_adduser(st, "dev", "alice", &err), &err);
	ok(accord_group_adduser(st, "dev2", "alice", &err), &err);
	ok(accord_user_set_flag(st, "alice", ACCORD_F_NO_PASSWORD, true, &err), &err);
	ok(accord_user_set_flag(st, "alice", ACCORD_F_PROTECTED, true, &err), &err);
	assert_int_equal(accord_user_status_op(st, "bob", ACCORD_OP_REVOKE, "left", &err), 0);
	assert_int_equal(accord_user_status_op(st, "carol", ACCORD_OP_DISABLE, NULL, &err), 0);
	ok(accord_user_del(st, "eve", &err), &err);
	ok(accord_group_del(st, "old", &err), &err);
	return st;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The supplementary GIDs the state gives a user, sorted, unique. */
static uint32_t expected_gids(const struct accord_state *st, const char *name,
			      uint32_t *out, uint32_t max)
{
	uint32_t *gl = NULL, n = 0, w = 0, i;
	int r = accord_state_user_groups(st, name, &gl);

	assert_true(r >= 0 && (uint32_t)r <= max);
	for (i = 0; i < (uint32_t)r; i++)
		out[n++] = accord_state_group_at(st, gl[i])->gid;
	free(gl);
	qsort(out, n, sizeof(*out), cmp_u32);
	for (i = 0; i < n; i++)
		if (w == 0 || out[w - 1] != out[i])
			out[w++] = out[i];
	return w;
}

static void assert_user_equal(const struct accord_snap_user *su,
			      const struct accord_user *u)
{
	assert_string_equal(su->name, u->name);
	assert_int_equal(su->name_len, strlen(u->name));
	assert_int_equal(su->uid, u->uid);
	assert_int_equal(su->gid, u->gid);
	assert_int_equal(su->flags, u->flags);
	assert_string_equal(su->gecos, u->gecos);
	assert_int_equal(su->gecos_len, strlen(u->gecos));
	assert_string_equal(su->home, u->home);
	assert_string_equal(su->shell, u->shell);
	assert_string_equal(su->reason, u->reason);
	assert_int_equal(su->created, u->created);
	assert_int_equal(su->changed, u->changed);
}

static void test_round_trip(void **state)
{
	struct accord_state *st = rich_state();
	struct accord_snapshot s;
	struct accord_snap_user su, su2;
	struct accord_snap_group sg;
	struct accord_snap_tomb stb;
	struct accord_snap_meta m;
	struct accord_range ur, gr;
	accord_snap_why why = NULL;
	unsigned char uuid[16], *img;
	uint32_t want[16], n, nu, ng, i;
	uint64_t cur, last;
	size_t len, k, seen;

	(void)state;
	for (k = 0; k < 16; k++)
		uuid[k] = (unsigned char)(0xa0 + k);
	img = unit_build(st, 7, uuid, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	if (accord_snapshot_verify(&s, &why) != 0)
		fail_msg("verify: %s", why);
	assert_int_equal(s.generation, 7);
	assert_memory_equal(s.uuid, uuid, 16);
	assert_int_equal(s.created, NOW0);
	assert_int_equal(s.size, len);
	assert_int_equal(s.user_count, accord_state_user_count(st));
	assert_int_equal(s.group_count, accord_state_group_count(st));
	assert_int_equal(s.tombstone_count, accord_state_tomb_count(st));
	assert_int_equal(s.user_count, 5);
	assert_int_equal(s.group_count, 8);
	assert_int_equal(s.tombstone_count, 3);

	/* every live user, by name and (when not shared) by UID */
	for (k = 0; k < accord_state_user_slots(st); k++) {
		const struct accord_user *u = accord_state_user_at(st, k);

		if (!u->live) {
			assert_int_equal(accord_snap_user_by_name(&s, u->name, &su), -ENOENT);
			continue;
		}
		assert_int_equal(accord_snap_user_by_name(&s, u->name, &su), 0);
		assert_user_equal(&su, u);
		n = expected_gids(st, u->name, want, 16);
		assert_int_equal(su.ngroups, n);
		for (i = 0; i < n; i++)
			assert_int_equal(accord_snap_user_gid(&su, i), want[i]);
		assert_int_equal(accord_snap_user_by_uid(&s, u->uid, &su2), 0);
		assert_int_equal(su2.uid, u->uid);
		if (!(u->flags & ACCORD_F_SHARED_ID)) {
			assert_int_equal(su2.off, su.off);
		}
		assert_int_equal(accord_snap_user_at(&s, su.off, &su2), 0);
		assert_string_equal(su2.name, u->name);
	}
	/* the shared UID: the first holder answers getpwuid */
	assert_int_equal(accord_snap_user_by_uid(&s, 1000, &su), 0);
	assert_string_equal(su.name, "alice");
	assert_int_equal(accord_snap_user_by_name(&s, "alias", &su), 0);
	assert_int_equal(su.uid, 1000);
	assert_true(su.flags & ACCORD_F_SHARED_ID);

	/* the cases spelled out, so the helpers cannot hide a mistake */
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &su), 0);
	assert_int_equal(su.flags, ACCORD_F_NO_PASSWORD | ACCORD_F_PROTECTED);
	assert_string_equal(su.gecos, "Alice Example,,,");
	assert_string_equal(su.home, "/srv/alice");
	assert_string_equal(su.shell, "/bin/zsh");
	assert_int_equal(su.changed, NOW0 + 60);
	assert_int_equal(su.created, NOW0);
	assert_int_equal(su.ngroups, 2); /* staff 1000; dev and dev2 share 1001 */
	assert_int_equal(accord_snap_user_gid(&su, 0), 1000);
	assert_int_equal(accord_snap_user_gid(&su, 1), 1001);
	assert_int_equal(accord_snap_user_by_name(&s, "dave", &su), 0);
	assert_int_equal(su.gid, 1000);
	assert_int_equal(su.ngroups, 2);
	assert_int_equal(accord_snap_user_by_name(&s, "bob", &su), 0);
	assert_int_equal(accord_user_status(su.flags), ACCORD_STATUS_REVOKED);
	assert_string_equal(su.reason, "left");
	assert_int_equal(su.reason_len, 4);
	assert_int_equal(accord_snap_user_by_name(&s, "carol", &su), 0);
	assert_int_equal(accord_user_status(su.flags), ACCORD_STATUS_DISABLED);
	assert_int_equal(su.ngroups, 1);
	assert_string_equal(su.home, "/home/carol");
	assert_string_equal(su.shell, "/bin/bash");

	/* groups */
	for (k = 0; k < accord_state_group_slots(st); k++) {
		const struct accord_group *g = accord_state_group_at(st, k);
		const char *mn;

		if (!g->live) {
			assert_int_equal(accord_snap_group_by_name(&s, g->name, &sg), -ENOENT);
			continue;
		}
		assert_int_equal(accord_snap_group_by_name(&s, g->name, &sg), 0);
		assert_string_equal(sg.name, g->name);
		assert_int_equal(sg.name_len, strlen(g->name));
		assert_int_equal(sg.gid, g->gid);
		assert_int_equal(sg.flags, g->flags);
		assert_int_equal(sg.created, g->created);
		assert_int_equal(sg.changed, g->changed);
		assert_int_equal(sg.nmembers, g->nmembers);
		mn = sg.members;
		for (i = 0; i < g->nmembers; i++, mn += strlen(mn) + 1)
			assert_string_equal(mn, accord_state_user_at(st, g->members[i])->name);
		assert_int_equal(accord_snap_group_by_gid(&s, g->gid, &sg), 0);
		assert_string_equal(sg.name, accord_state_group_by_gid(st, g->gid)->name);
	}
	assert_int_equal(accord_snap_group_by_name(&s, "staff", &sg), 0);
	assert_int_equal(sg.nmembers, 4);
	/* dave joined at user add, the others later */
	assert_int_equal(sg.members_len, strlen("dave carol alice bob") + 1);
	assert_memory_equal(sg.members, "dave\0carol\0alice\0bob", sg.members_len);
	assert_int_equal(accord_snap_group_by_gid(&s, 1001, &sg), 0);
	assert_string_equal(sg.name, "dev"); /* first of the two holding 1001 */
	assert_int_equal(accord_snap_group_by_name(&s, "dev2", &sg), 0);
	assert_int_equal(sg.flags, ACCORD_F_SHARED_ID);
	assert_int_equal(accord_snap_group_by_name(&s, "empty", &sg), 0);
	assert_int_equal(sg.nmembers, 0);
	assert_int_equal(sg.members_len, 0);

	/* misses */
	assert_int_equal(accord_snap_user_by_name(&s, "eve", &su), -ENOENT);
	assert_int_equal(accord_snap_user_by_name(&s, "", &su), -ENOENT);
	assert_int_equal(accord_snap_user_by_name(&s, "alic", &su), -ENOENT);
	assert_int_equal(accord_snap_user_by_uid(&s, 4242, &su), -ENOENT);
	assert_int_equal(accord_snap_group_by_name(&s, "old", &sg), -ENOENT);
	assert_int_equal(accord_snap_group_by_gid(&s, 0, &sg), -ENOENT);

	/* tombstones, in order, with who and when */
	for (cur = 0, k = 0; accord_snap_tomb_next(&s, &cur, &stb) == 0; k++) {
		const struct accord_tombstone *t = accord_state_tomb_at(st, k);

		assert_non_null(t);
		assert_int_equal(stb.kind, t->kind);
		assert_int_equal(stb.id, t->id);
		assert_string_equal(stb.name, t->name);
		assert_string_equal(stb.by, t->by);
		assert_int_equal(stb.deleted_at, t->deleted_at);
	}
	assert_int_equal(k, 3);
	cur = 0;
	assert_int_equal(accord_snap_tomb_next(&s, &cur, &stb), 0);
	assert_int_equal(stb.kind, ACCORD_TOMB_USER);
	assert_string_equal(stb.name, "eve");
	assert_string_equal(stb.by, "root (login admin)");
	assert_int_equal(stb.deleted_at, NOW0 + 60);

	/* meta */
	assert_int_equal(accord_snap_meta(&s, &m), 0);
	accord_state_ranges(st, &ur, &gr, &nu, &ng);
	assert_int_equal(m.uid_lo, ur.lo);
	assert_int_equal(m.uid_hi, ur.hi);
	assert_int_equal(m.gid_lo, gr.lo);
	assert_int_equal(m.gid_hi, gr.hi);
	assert_int_equal(m.next_uid, nu);
	assert_int_equal(m.next_gid, ng);

	/* iteration: each live user once, in increasing offsets */
	for (cur = 0, seen = 0, last = 0; accord_snap_user_next(&s, &cur, &su) == 0; seen++) {
		const struct accord_user *u = accord_state_user(st, su.name);

		assert_non_null(u);
		if (seen)
			assert_true(su.off > last);
		last = su.off;
		assert_int_equal(accord_snap_user_by_name(&s, su.name, &su2), 0);
		assert_int_equal(su2.off, su.off);
	}
	assert_int_equal(seen, s.user_count);
	assert_int_equal(accord_snap_user_next(&s, &cur, &su), -ENOENT);
	for (cur = 0, seen = 0; accord_snap_group_next(&s, &cur, &sg) == 0; seen++)
		assert_non_null(accord_state_group(st, sg.name));
	assert_int_equal(seen, s.group_count);

	unit_snapshot_exercise(&s);
	free(img);
	accord_state_free(st);
}

static void test_header_bytes(void **state)
{
	struct accord_state *st = rich_state();
	struct accord_snapshot s, s2;
	accord_snap_why why = NULL;
	unsigned char *img, *img2;
	size_t len, len2;

	(void)state;
	img = unit_build(st, 0x0102030405060708ull, NULL, &len);
	assert_memory_equal(img, "ACCSNAP\0", 8);
	assert_int_equal(snap_get32(img + 8), ACCORD_SNAPSHOT_VERSION);
	assert_int_equal(snap_get32(img + 12), 128);
	assert_int_equal(snap_get64(img + 16), 0x0102030405060708ull);
	assert_int_equal(snap_get64(img + 24), len);
	assert_int_equal(snap_get32(img + 44), 0);
	assert_int_equal(snap_get32(img + 80), 5);
	assert_int_equal(snap_get32(img + 84), 8);
	assert_int_equal(snap_get32(img + 88), 3);
	assert_int_equal(len % 8, 0);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	{
		static const unsigned char zero[16];

		assert_memory_equal(s.uuid, zero, 16); /* NULL uuid: zeros */
	}
	/* each build draws a new hash seed; both images verify */
	img2 = unit_build(st, 1, NULL, &len2);
	assert_int_equal(len2, len);
	assert_int_equal(accord_snapshot_open_mem(&s2, img2, len2, &why), 0);
	assert_true(s.seed != s2.seed);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	assert_int_equal(accord_snapshot_verify(&s2, &why), 0);
	free(img2);
	free(img);
	accord_state_free(st);
}

static void test_empty_snapshot(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_snapshot s;
	struct accord_snap_user su;
	struct accord_snap_group sg;
	struct accord_snap_tomb t;
	struct accord_snap_meta m;
	accord_snap_why why = NULL;
	unsigned char *img;
	uint64_t cur = 0;
	size_t len;

	(void)state;
	img = unit_build(st, 1, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	assert_int_equal(s.user_count + s.group_count + s.tombstone_count, 0);
	assert_int_equal(accord_snap_user_next(&s, &cur, &su), -ENOENT);
	cur = 0;
	assert_int_equal(accord_snap_group_next(&s, &cur, &sg), -ENOENT);
	cur = 0;
	assert_int_equal(accord_snap_tomb_next(&s, &cur, &t), -ENOENT);
	assert_int_equal(accord_snap_user_by_name(&s, "alice", &su), -ENOENT);
	assert_int_equal(accord_snap_user_by_uid(&s, 1000, &su), -ENOENT);
	assert_int_equal(accord_snap_group_by_gid(&s, 1000, &sg), -ENOENT);
	assert_int_equal(accord_snap_meta(&s, &m), 0);
	assert_int_equal(m.next_uid, 1000);
	assert_int_equal(m.uid_hi, 1999);
	unit_snapshot_exercise(&s);
	free(img);
	accord_state_free(st);
}

static void test_2000_users(void **state)
{
	struct accord_range ur = { 10000, 99999 }, gr = { 10000, 99999 };
	struct accord_state *st = accord_state_new(&ur, &gr);
	struct accord_err err = { 0 };
	struct accord_snapshot s;
	struct accord_snap_user su;
	struct accord_snap_group sg;
	accord_snap_why why = NULL;
	unsigned char uuid[16], *img;
	char name[32];
	size_t len, i;

	(void)state;
	assert_non_null(st);
	accord_state_set_actor(st, NOW0, "tester");
	for (i = 0; i < 16; i++)
		uuid[i] = (unsigned char)(i * 17);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "user%04zu", i);
		ok(unit_add(st, name, &err), &err);
	}
	ok(accord_group_add(st, "everyone", false, 0, false, &err), &err);
	for (i = 0; i < 2000; i += 3) {
		snprintf(name, sizeof(name), "user%04zu", i);
		ok(accord_group_adduser(st, "everyone", name, &err), &err);
	}
	img = unit_build(st, 42, uuid, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	if (accord_snapshot_verify(&s, &why) != 0)
		fail_msg("verify: %s", why);
	assert_int_equal(s.generation, 42);
	assert_memory_equal(s.uuid, uuid, 16);
	assert_int_equal(s.user_count, 2000);
	assert_int_equal(s.group_count, 2001);
	assert_int_equal(s.tombstone_count, 0);
	assert_int_equal(snap_get64(img + 24), len);
	assert_int_equal(snap_get32(img + 80), 2000);
	assert_int_equal(snap_get32(img + 84), 2001);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "user%04zu", i);
		assert_int_equal(accord_snap_user_by_name(&s, name, &su), 0);
		assert_int_equal(su.uid, 10000 + i);
		assert_int_equal(su.gid, su.uid);
		assert_int_equal(su.ngroups, i % 3 == 0 ? 1 : 0);
		assert_int_equal(accord_snap_user_by_uid(&s, su.uid, &su), 0);
		assert_string_equal(su.name, name);
		assert_int_equal(accord_snap_group_by_gid(&s, su.gid, &sg), 0);
		assert_string_equal(sg.name, name);
	}
	assert_int_equal(accord_snap_group_by_name(&s, "everyone", &sg), 0);
	assert_int_equal(sg.nmembers, 667);
	assert_int_equal(sg.gid, 12000);
	assert_int_equal(accord_snap_user_by_uid(&s, 9999, &su), -ENOENT);
	assert_int_equal(accord_snap_user_by_uid(&s, 12000, &su), -ENOENT);
	free(img);
	accord_state_free(st);
}

static void test_map_file(void **state)
{
	struct accord_state *st = rich_state();
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "snapshot");
	char *link = unit_path(dir, "link"), *missing = unit_path(dir, "missing");
	struct accord_snapshot s;
	struct accord_snap_user su;
	accord_snap_why why = NULL;
	unsigned char *img;
	size_t len;

	(void)state;
	img = unit_build(st, 9, NULL, &len);
	unit_write_file(path, img, len);
	assert_int_equal(accord_snapshot_map_file(path, ACCORD_SNAP_TRUSTED_OWNER, &s, &why), 0);
	assert_int_equal(s.map_len, len);
	assert_int_equal(s.generation, 9);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	assert_int_equal(accord_snap_user_by_name(&s, "dave", &su), 0);
	accord_snapshot_unmap(&s);
	assert_null(s.base);

	/* writable by others: refused when trust is asked for */
	assert_int_equal(chmod(path, 0664), 0);
	why = NULL;
	assert_int_equal(accord_snapshot_map_file(path, ACCORD_SNAP_TRUSTED_OWNER, &s, &why),
			 -EPERM);
	assert_non_null(why);
	assert_null(s.base);
	assert_int_equal(accord_snapshot_map_file(path, 0, &s, &why), 0);
	accord_snapshot_unmap(&s);
	assert_int_equal(chmod(path, 0644), 0);

	/* never through a symlink */
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(accord_snapshot_map_file(link, 0, &s, &why), -ELOOP);
	assert_int_equal(accord_snapshot_map_file(missing, 0, &s, &why), -ENOENT);
	assert_int_equal(accord_snapshot_map_file(dir, 0, &s, &why), -EBADMSG);

	/* short, empty and damaged files */
	unit_write_file(path, img, 100);
	assert_int_equal(accord_snapshot_map_file(path, 0, &s, &why), -EBADMSG);
	unit_write_file(path, img, 0);
	assert_int_equal(accord_snapshot_map_file(path, 0, &s, &why), -EBADMSG);
	img[20] ^= 1;
	unit_write_file(path, img, len);
	assert_int_equal(accord_snapshot_map_file(path, 0, &s, &why), -EBADMSG);
	assert_contains(why, "checksum");
	assert_null(s.base);
	assert_int_equal(s.map_len, 0);

	unit_rmtree(dir);
	free(img);
	free(missing);
	free(link);
	free(path);
	free(dir);
	accord_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_header_bytes),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_2000_users),
		cmocka_unit_test(test_map_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
