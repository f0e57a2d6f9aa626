/* SPDX-License-Identifier: MIT */
/*
 * ID allocation (common/state.c): by counter from the low end of the
 * range, personal group GID = UID when free, reserved IDs skipped, range
 * exhaustion, explicit IDs (live, tombstone, out of range) and --shared,
 * and the central promise: no ID is ever handed out twice.
 */
#include "unit_util.h"

#include <errno.h>
#include <stdlib.h>

static const struct accord_user *user(const struct accord_state *st,
				      const char *name)
{
	const struct accord_user *u = accord_state_user(st, name);

	if (!u)
		fail_msg("user '%s' missing", name);
	return u;
}

static const struct accord_group *group(const struct accord_state *st,
					const char *name)
{
	const struct accord_group *g = accord_state_group(st, name);

	if (!g)
		fail_msg("group '%s' missing", name);
	return g;
}

static struct accord_state *state_with(uint32_t ulo, uint32_t uhi, uint32_t glo,
				       uint32_t ghi)
{
	struct accord_range u = { ulo, uhi }, g = { glo, ghi };
	struct accord_state *st = accord_state_new(&u, &g);

	assert_non_null(st);
	accord_state_set_actor(st, 1700000000, "tester");
	return st;
}

static void test_counter_from_low_end(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	uint32_t nu, ng;

	(void)state;
	accord_state_ranges(st, NULL, NULL, &nu, &ng);
	assert_int_equal(nu, 1000);
	assert_int_equal(ng, 1000);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(user(st, "alice")->uid, 1000);
	assert_int_equal(user(st, "alice")->gid, 1000);
	assert_int_equal(group(st, "alice")->gid, 1000);
	assert_int_equal(user(st, "bob")->uid, 1001);
	assert_int_equal(user(st, "bob")->gid, 1001);
	assert_int_equal(group(st, "bob")->gid, 1001);

	/* a group takes 1002: carol's personal group cannot match her UID */
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(group(st, "staff")->gid, 1002);
	assert_int_equal(unit_add(st, "carol", &err), 0);
	assert_int_equal(user(st, "carol")->uid, 1002);
	assert_int_equal(user(st, "carol")->gid, 1003);
	assert_int_equal(group(st, "carol")->gid, 1003);
	accord_state_ranges(st, NULL, NULL, &nu, &ng);
	assert_int_equal(nu, 1003);
	assert_int_equal(ng, 1004);

	/* with --group, no personal group is made */
	{
		struct accord_user_spec s = { .name = "dave", .group = "staff" };

		assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
		assert_int_equal(user(st, "dave")->uid, 1003);
		assert_int_equal(user(st, "dave")->gid, 1002);
		assert_null(accord_state_group(st, "dave"));
		s = (struct accord_user_spec){ .name = "erin", .group = "1001" };
		assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
		assert_int_equal(user(st, "erin")->gid, 1001);
	}
	assert_int_equal(accord_state_group_count(st), 4);
	accord_state_free(st);
}

static void test_personal_gid_outside_gid_range(void **state)
{
	struct accord_state *st = state_with(1000, 1999, 5000, 5999);
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(user(st, "alice")->uid, 1000);
	assert_int_equal(user(st, "alice")->gid, 5000);
	/* an explicit UID inside the GID range gives GID = UID */
	assert_int_equal(unit_add_uid(st, "bob", 5500, true, &err), 0);
	assert_int_equal(user(st, "bob")->gid, 5500);
	accord_state_free(st);
}

static void test_reserved_ids_skipped(void **state)
{
	struct accord_state *st = state_with(59999, 60600, 59999, 60600);
	struct accord_err err = { 0 };
	char name[16];
	uint32_t want[16], got, i, n = 0;

	(void)state;
	assert_int_equal(unit_add(st, "u1", &err), 0);
	assert_int_equal(unit_add(st, "u2", &err), 0);
	assert_int_equal(unit_add(st, "u3", &err), 0);
	assert_int_equal(user(st, "u1")->uid, 59999);
	assert_int_equal(user(st, "u2")->uid, 60000);
	assert_int_equal(user(st, "u3")->uid, 60578); /* 60001-60577 skipped */
	assert_int_equal(user(st, "u3")->gid, 60578);
	assert_int_equal(accord_group_add(st, "g1", false, 0, false, &err), 0);
	assert_int_equal(group(st, "g1")->gid, 60579);
	accord_state_free(st);

	/* 61184-65519 and 65534/65535 */
	st = state_with(61183, 65540, 61183, 65540);
	want[n++] = 61183;
	for (i = 65520; i <= 65533; i++)
		want[n++] = i;
	want[n++] = 65536;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "u%u", i);
		assert_int_equal(unit_add(st, name, &err), 0);
		got = user(st, name)->uid;
		if (got != want[i])
			fail_msg("user %u got uid %u, want %u", i, got, want[i]);
		assert_false(accord_id_reserved(user(st, name)->gid));
		assert_int_equal(user(st, name)->gid, got);
	}
	accord_state_free(st);
}

static void test_range_exhaustion(void **state)
{
	struct accord_state *st = state_with(1000, 1001, 1000, 1999);
	struct accord_err err = { 0 };
	char *before, *after;

	(void)state;
	assert_int_equal(unit_add(st, "a", &err), 0);
	assert_int_equal(unit_add(st, "b", &err), 0);
	before = unit_state_fingerprint(st);
	assert_int_equal(unit_add(st, "c", &err), -ENOSPC);
	assert_contains(err.msg, "UID range 1000-1001 is used up");
	after = unit_state_fingerprint(st);
	assert_string_equal(before, after);
	free(after);
	/* a deletion frees nothing: the ID stays reserved by its tombstone */
	assert_int_equal(accord_user_del(st, "b", &err), 0);
	assert_int_equal(unit_add(st, "c", &err), -ENOSPC);
	free(before);
	accord_state_free(st);

	/* GID range: group add, and user add needing a personal group */
	st = state_with(1000, 1999, 5000, 5000);
	assert_int_equal(accord_group_add(st, "g1", false, 0, false, &err), 0);
	assert_int_equal(accord_group_add(st, "g2", false, 0, false, &err), -ENOSPC);
	assert_contains(err.msg, "GID range 5000-5000 is used up");
	before = unit_state_fingerprint(st);
	assert_int_equal(unit_add(st, "alice", &err), -ENOSPC);
	assert_contains(err.msg, "GID range");
	after = unit_state_fingerprint(st);
	assert_string_equal(before, after);
	assert_null(accord_state_user(st, "alice"));
	free(before);
	free(after);
	accord_state_free(st);
}

static void test_explicit_taken_by_live(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add_uid(st, "bob", 1000, false, &err), -EEXIST);
	assert_contains(err.msg, "uid 1000 is already held by user 'alice'");
	assert_contains(err.msg, "--shared");
	assert_null(accord_state_user(st, "bob"));
	assert_int_equal(accord_group_add(st, "staff", true, 1000, false, &err), -EEXIST);
	assert_contains(err.msg, "gid 1000 is already held by group 'alice'");
	assert_null(accord_state_group(st, "staff"));
	accord_state_free(st);
}

static void test_explicit_taken_by_tombstone(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(accord_user_del(st, "alice", &err), 0);
	assert_int_equal(unit_add_uid(st, "bob", 1000, false, &err), -EEXIST);
	assert_contains(err.msg, "uid 1000 belonged to 'alice'");
	assert_contains(err.msg, "tombstone");
	assert_int_equal(accord_group_add(st, "staff", true, 1000, false, &err), -EEXIST);
	assert_contains(err.msg, "gid 1000 belonged to 'alice'");
	assert_contains(err.msg, "tombstone");
	assert_int_equal(accord_state_user_count(st), 0);
	assert_int_equal(accord_state_group_count(st), 0);
	accord_state_free(st);
}

static void test_explicit_out_of_range(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add_uid(st, "bob", 2000, false, &err), -ERANGE);
	assert_contains(err.msg, "uid 2000 is outside the registry's uid range 1000-1999");
	assert_int_equal(unit_add_uid(st, "bob", 999, false, &err), -ERANGE);
	assert_int_equal(accord_group_add(st, "g", true, 500, false, &err), -ERANGE);
	assert_contains(err.msg, "gid 500 is outside the registry's gid range 1000-1999");
	assert_int_equal(accord_state_user_count(st), 0);
	assert_int_equal(accord_state_group_count(st), 0);
	/* the edges are inside */
	assert_int_equal(unit_add_uid(st, "lo", 1000, false, &err), 0);
	assert_int_equal(unit_add_uid(st, "hi", 1999, false, &err), 0);
	accord_state_free(st);
}

static void test_shared_allows_all_three(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	uint32_t nu0, ng0, nu, ng;

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(accord_user_del(st, "bob", &err), 0);
	accord_state_ranges(st, NULL, NULL, &nu0, &ng0);

	assert_int_equal(unit_add_uid(st, "alias", 1000, true, &err), 0);   /* live */
	assert_int_equal(unit_add_uid(st, "heir", 1001, true, &err), 0);    /* tombstone */
	assert_int_equal(unit_add_uid(st, "outside", 7000, true, &err), 0); /* range */
	assert_int_equal(user(st, "alias")->uid, 1000);
	assert_int_equal(user(st, "heir")->uid, 1001);
	assert_int_equal(user(st, "outside")->uid, 7000);
	assert_true(user(st, "alias")->flags & ACCORD_F_SHARED_ID);
	assert_true(user(st, "outside")->flags & ACCORD_F_SHARED_ID);
	assert_false(user(st, "alice")->flags & ACCORD_F_SHARED_ID);
	/* a deliberate exception does not move the UID counter */
	accord_state_ranges(st, NULL, NULL, &nu, &ng);
	assert_int_equal(nu, nu0);

	assert_int_equal(accord_group_add(st, "alice2", true, 1000, true, &err), 0);
	assert_int_equal(accord_group_add(st, "bob2", true, 1001, true, &err), 0);
	assert_int_equal(accord_group_add(st, "ext", true, 70000, true, &err), 0);
	assert_true(group(st, "ext")->flags & ACCORD_F_SHARED_ID);
	assert_false(group(st, "alice")->flags & ACCORD_F_SHARED_ID);
	/* the first group holding a GID stays the one found by GID */
	assert_string_equal(accord_state_group_by_gid(st, 1000)->name, "alice");

	/* and automatic allocation goes on inside the range, skipping the
	 * deliberately shared IDs (neither exhausts nor reuses anything) */
	assert_int_equal(accord_group_add(st, "later", false, 0, false, &err), 0);
	assert_true(group(st, "later")->gid >= 1000 && group(st, "later")->gid <= 1999);
	assert_int_equal(unit_add(st, "carol", &err), 0);
	assert_true(user(st, "carol")->uid > 1001 && user(st, "carol")->uid <= 1999);
	free(unit_state_fingerprint(st)); /* builds and verifies */
	accord_state_free(st);
}

/* An explicitly shared ID above the counter is skipped by allocation. */
static void test_allocation_skips_shared_ids(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add_uid(st, "early", 1001, true, &err), 0);
	assert_int_equal(accord_group_add(st, "gearly", true, 1003, true, &err), 0);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(unit_add(st, "carol", &err), 0);
	assert_int_equal(user(st, "alice")->uid, 1000);
	assert_int_equal(user(st, "bob")->uid, 1002);
	assert_int_equal(user(st, "carol")->uid, 1003);
	assert_true(user(st, "carol")->gid != 1003);
	assert_true(group(st, "carol")->gid != 1003);
	accord_state_free(st);
}

static void test_forbidden_ids_even_shared(void **state)
{
	static const uint32_t ids[] = { 0, 65535, ACCORD_ID_MAX + 1u, UINT32_MAX };
	struct accord_state *st = state_with(1000, 1999, 1000, 1999);
	struct accord_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(unit_add_uid(st, "x", ids[i], true, &err), -EINVAL);
		assert_contains(err.msg, "can never be assigned");
		assert_int_equal(unit_add_uid(st, "x", ids[i], false, &err), -EINVAL);
		assert_int_equal(accord_group_add(st, "g", true, ids[i], true, &err), -EINVAL);
		assert_contains(err.msg, "can never be assigned");
	}
	assert_int_equal(accord_state_user_count(st), 0);
	assert_int_equal(accord_state_group_count(st), 0);
	accord_state_free(st);
}

/* Never reuse: a deleted user's UID and its personal group's GID stay
 * reserved, for automatic allocation and for explicit requests, also after
 * the state went through a snapshot (the next writer's view). */
static void test_never_reuse(void **state)
{
	struct accord_state *st = unit_state(), *st2 = NULL;
	struct accord_err err = { 0 };
	struct accord_snapshot snap;
	accord_snap_why why = NULL;
	unsigned char *img;
	size_t len;
	uint32_t buid, bgid;

	(void)state;
	assert_int_equal(unit_add(st, "a", &err), 0);
	assert_int_equal(unit_add(st, "b", &err), 0);
	buid = user(st, "b")->uid;
	bgid = user(st, "b")->gid;
	assert_int_equal(accord_user_del(st, "b", &err), 0);
	assert_int_equal(unit_add(st, "c", &err), 0);
	assert_true(user(st, "c")->uid != buid);
	assert_true(user(st, "c")->gid != bgid);
	assert_int_equal(unit_add_uid(st, "d", buid, false, &err), -EEXIST);
	assert_int_equal(accord_group_add(st, "g", false, 0, false, &err), 0);
	assert_true(group(st, "g")->gid != bgid);
	assert_int_equal(accord_group_add(st, "h", true, bgid, false, &err), -EEXIST);
	/* re-adding the same name gets new IDs */
	assert_int_equal(unit_add(st, "b", &err), 0);
	assert_true(user(st, "b")->uid != buid);
	assert_true(user(st, "b")->gid != bgid);
	assert_int_equal(accord_user_del(st, "b", &err), 0);

	img = unit_build(st, 5, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&snap, img, len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&snap, &st2, &err), 0);
	assert_int_equal(unit_add(st2, "e", &err), 0);
	assert_true(user(st2, "e")->uid != buid);
	assert_true(user(st2, "e")->uid > user(st2, "c")->uid);
	assert_int_equal(unit_add_uid(st2, "f", buid, false, &err), -EEXIST);
	assert_contains(err.msg, "tombstone");
	assert_int_equal(accord_group_add(st2, "h", true, bgid, false, &err), -EEXIST);
	accord_state_free(st2);
	free(img);
	accord_state_free(st);
}

/* The hard case of "never reuse": a deliberately shared ID above the
 * counter, then deleted.  Only its tombstone stands between it and the
 * counter walking into it. */
static void test_tombstone_above_counter_never_reused(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	char name[16];
	size_t i;

	(void)state;
	assert_int_equal(unit_add_uid(st, "early", 1003, true, &err), 0);
	assert_int_equal(accord_group_add(st, "gearly", true, 1004, true, &err), 0);
	assert_int_equal(accord_user_del(st, "early", &err), 0);
	assert_int_equal(accord_group_del(st, "gearly", &err), 0);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "u%zu", i);
		assert_int_equal(unit_add(st, name, &err), 0);
		assert_true(user(st, name)->uid != 1003);
		assert_true(user(st, name)->gid != 1003 && user(st, name)->gid != 1004);
		snprintf(name, sizeof(name), "g%zu", i);
		assert_int_equal(accord_group_add(st, name, false, 0, false, &err), 0);
		assert_true(group(st, name)->gid != 1003 && group(st, name)->gid != 1004);
	}
	accord_state_free(st);
}

/* An explicit UID inside the range moves the counter past it, so that the
 * counter never walks into it later. */
static void test_explicit_then_automatic(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	size_t i;
	char name[16];

	(void)state;
	assert_int_equal(unit_add_uid(st, "x", 1003, false, &err), 0);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "u%zu", i);
		assert_int_equal(unit_add(st, name, &err), 0);
		assert_true(user(st, name)->uid != 1003);
		assert_true(user(st, name)->gid != 1003);
	}
	free(unit_state_fingerprint(st));
	accord_state_free(st);
}

/* A reserved ID (nobody, nogroup, systemd's blocks) inside the range is
 * not handed out on request either, unless deliberately shared. */
static void test_explicit_reserved_needs_shared(void **state)
{
	struct accord_state *st = state_with(60000, 70000, 60000, 70000);
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add_uid(st, "nobody2", 65534, false, &err), -ERANGE);
	assert_contains(err.msg, "65534 is reserved");
	assert_int_equal(accord_group_add(st, "dyn", true, 61184, false, &err), -ERANGE);
	assert_int_equal(accord_state_user_count(st), 0);
	assert_int_equal(accord_state_group_count(st), 0);
	assert_int_equal(unit_add_uid(st, "nobody2", 65534, true, &err), 0);
	assert_int_equal(accord_group_add(st, "dyn", true, 61184, true, &err), 0);
	accord_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_from_low_end),
		cmocka_unit_test(test_personal_gid_outside_gid_range),
		cmocka_unit_test(test_reserved_ids_skipped),
		cmocka_unit_test(test_range_exhaustion),
		cmocka_unit_test(test_explicit_taken_by_live),
		cmocka_unit_test(test_explicit_taken_by_tombstone),
		cmocka_unit_test(test_explicit_out_of_range),
		cmocka_unit_test(test_shared_allows_all_three),
		cmocka_unit_test(test_allocation_skips_shared_ids),
		cmocka_unit_test(test_forbidden_ids_even_shared),
		cmocka_unit_test(test_explicit_reserved_needs_shared),
		cmocka_unit_test(test_never_reuse),
		cmocka_unit_test(test_tombstone_above_counter_never_reused),
		cmocka_unit_test(test_explicit_then_automatic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
