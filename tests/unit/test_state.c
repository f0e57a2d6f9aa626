/* SPDX-License-Identifier: MIT */
/*
 * The state operations (common/state.c) other than allocation: tombstones
 * left by user del, user mod --uid and group del; status and flags with
 * RACF's rules; group membership; and the promise of state.h that a
 * refused operation leaves the state exactly as it was.
 */
#include "unit_util.h"

#include <errno.h>
#include <stdlib.h>

#define NOW0 1700000000
#define NOW1 1700000500

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

static void assert_tomb(const struct accord_state *st, size_t i, uint32_t kind,
			uint32_t id, const char *name, int64_t when, const char *by)
{
	const struct accord_tombstone *t = accord_state_tomb_at(st, i);

	assert_non_null(t);
	assert_int_equal(t->kind, kind);
	assert_int_equal(t->id, id);
	assert_string_equal(t->name, name);
	assert_int_equal(t->deleted_at, when);
	assert_string_equal(t->by, by);
}

/* Names of the members of a group, comma separated, in stored order. */
static void members_of(const struct accord_state *st, const char *gname,
		       char *buf, size_t len)
{
	const struct accord_group *g = group(st, gname);
	size_t used = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < g->nmembers; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					 accord_state_user_at(st, g->members[i])->name);
}

static void test_user_del_tombstones(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	accord_state_set_actor(st, NOW1, "root (login admin)");
	assert_int_equal(accord_user_del(st, "alice", &err), 0);
	assert_null(accord_state_user(st, "alice"));
	assert_null(accord_state_group(st, "alice")); /* unused personal group */
	assert_null(accord_state_group_by_gid(st, 1000));
	assert_int_equal(accord_state_user_count(st), 1);
	assert_int_equal(accord_state_group_count(st), 1);
	assert_int_equal(accord_state_tomb_count(st), 2);
	assert_tomb(st, 0, ACCORD_TOMB_USER, 1000, "alice", NOW1, "root (login admin)");
	assert_tomb(st, 1, ACCORD_TOMB_GROUP, 1000, "alice", NOW1, "root (login admin)");
	/* the slot stays (records are never reused), but not live */
	assert_int_equal(accord_state_user_slots(st), 2);
	assert_false(accord_state_user_at(st, 0)->live);
	assert_false(accord_state_group_at(st, 0)->live);

	assert_int_equal(accord_user_del(st, "alice", &err), -ENOENT);
	assert_contains(err.msg, "user 'alice' does not exist");
	assert_int_equal(accord_state_tomb_count(st), 2);
	accord_state_free(st);
}

/* The personal group stays when someone else uses it. */
static void test_user_del_keeps_used_personal_group(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "bob", .group = "alice" };
	char m[128];

	(void)state;
	/* bob is a member of alice's group */
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(accord_group_adduser(st, "alice", "bob", &err), 0);
	assert_int_equal(accord_user_del(st, "alice", &err), 0);
	assert_non_null(accord_state_group(st, "alice"));
	assert_int_equal(accord_state_tomb_count(st), 1);
	assert_tomb(st, 0, ACCORD_TOMB_USER, 1000, "alice", NOW0, "tester");
	members_of(st, "alice", m, sizeof(m));
	assert_string_equal(m, "bob");
	accord_state_free(st);

	/* carol's primary group is alice */
	st = unit_state();
	assert_int_equal(unit_add(st, "alice", &err), 0);
	s.name = "carol";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(user(st, "carol")->gid, 1000);
	assert_int_equal(accord_user_del(st, "alice", &err), 0);
	assert_non_null(accord_state_group(st, "alice"));
	assert_int_equal(accord_state_tomb_count(st), 1);
	accord_state_free(st);

	/* alice's group has another GID than alice's primary GID: not hers */
	st = unit_state();
	assert_int_equal(accord_group_add(st, "dave", false, 0, false, &err), 0);
	assert_int_equal(accord_group_add(st, "other", false, 0, false, &err), 0);
	s = (struct accord_user_spec){ .name = "dave", .group = "other" };
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(accord_user_del(st, "dave", &err), 0);
	assert_non_null(accord_state_group(st, "dave"));
	accord_state_free(st);
}

/* "deletes its personal group when nobody else uses it": the user itself
 * listed as a member of its own group is not somebody else. */
static void test_user_del_self_member_personal_group(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(accord_group_adduser(st, "alice", "alice", &err), 0);
	assert_int_equal(accord_user_del(st, "alice", &err), 0);
	assert_null(accord_state_group(st, "alice"));
	assert_int_equal(accord_state_tomb_count(st), 2);
	assert_tomb(st, 1, ACCORD_TOMB_GROUP, 1000, "alice", NOW0, "tester");
	free(unit_state_fingerprint(st));
	accord_state_free(st);
}

static void test_user_del_removes_memberships(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	char m[128];
	uint32_t *gl = NULL;

	(void)state;
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(unit_add(st, "carol", &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "carol", &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "alice", &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "bob", &err), 0);
	assert_int_equal(accord_user_del(st, "alice", &err), 0);
	members_of(st, "staff", m, sizeof(m));
	assert_string_equal(m, "carol,bob");
	assert_int_equal(accord_state_user_groups(st, "alice", &gl), 0);
	free(gl);
	accord_state_free(st);
}

static void test_user_mod_uid_leaves_tombstone(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "alice", .has_uid = true, .uid = 1500 };

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	accord_state_set_actor(st, NOW1, "admin");
	assert_int_equal(accord_user_mod(st, &s, &err), 0);
	assert_int_equal(user(st, "alice")->uid, 1500);
	assert_int_equal(user(st, "alice")->changed, NOW1);
	assert_int_equal(user(st, "alice")->created, NOW0);
	assert_int_equal(accord_state_tomb_count(st), 1);
	assert_tomb(st, 0, ACCORD_TOMB_USER, 1000, "alice", NOW1, "admin");
	/* the group and GID are unchanged */
	assert_int_equal(user(st, "alice")->gid, 1000);
	assert_non_null(accord_state_group(st, "alice"));

	/* the old UID is now reserved, even for its former owner */
	assert_int_equal(unit_add_uid(st, "bob", 1000, false, &err), -EEXIST);
	assert_contains(err.msg, "tombstone");
	s.uid = 1000;
	assert_int_equal(accord_user_mod(st, &s, &err), -EEXIST);
	assert_int_equal(user(st, "alice")->uid, 1500);

	/* mod to the UID it already has: nothing to retire */
	s.uid = 1500;
	assert_int_equal(accord_user_mod(st, &s, &err), 0);
	assert_int_equal(accord_state_tomb_count(st), 1);

	/* taken by someone live / out of range, and --shared */
	assert_int_equal(unit_add(st, "carol", &err), 0);
	s.uid = user(st, "carol")->uid;
	assert_int_equal(accord_user_mod(st, &s, &err), -EEXIST);
	assert_contains(err.msg, "held by user 'carol'");
	s.uid = 3000;
	assert_int_equal(accord_user_mod(st, &s, &err), -ERANGE);
	s.shared = true;
	assert_int_equal(accord_user_mod(st, &s, &err), 0);
	assert_int_equal(user(st, "alice")->uid, 3000);
	assert_true(user(st, "alice")->flags & ACCORD_F_SHARED_ID);
	assert_int_equal(accord_state_tomb_count(st), 2);
	assert_tomb(st, 1, ACCORD_TOMB_USER, 1500, "alice", NOW1, "admin");
	s.uid = 0;
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	accord_state_free(st);
}

static void test_user_mod_fields_and_groups(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "alice" };
	uint32_t *gl = NULL;
	int n;

	(void)state;
	assert_int_equal(accord_group_add(st, "zeta", true, 1900, false, &err), 0);
	assert_int_equal(accord_group_add(st, "alpha", true, 1800, false, &err), 0);
	assert_int_equal(accord_group_add(st, "mid", true, 1850, false, &err), 0);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	s.gecos = "Alice A";
	s.home = "/home/a";
	s.shell = "/bin/zsh";
	s.group = "mid";
	s.groups = "zeta,alpha,zeta";
	assert_int_equal(accord_user_mod(st, &s, &err), 0);
	assert_string_equal(user(st, "alice")->gecos, "Alice A");
	assert_string_equal(user(st, "alice")->home, "/home/a");
	assert_string_equal(user(st, "alice")->shell, "/bin/zsh");
	assert_int_equal(user(st, "alice")->gid, 1850);
	n = accord_state_user_groups(st, "alice", &gl);
	assert_int_equal(n, 2);
	assert_string_equal(accord_state_group_at(st, gl[0])->name, "alpha"); /* by GID */
	assert_string_equal(accord_state_group_at(st, gl[1])->name, "zeta");
	free(gl);
	/* --groups "" clears them; a NULL field leaves it alone */
	s = (struct accord_user_spec){ .name = "alice", .groups = "" };
	assert_int_equal(accord_user_mod(st, &s, &err), 0);
	assert_int_equal(accord_state_user_groups(st, "alice", &gl), 0);
	free(gl);
	assert_string_equal(user(st, "alice")->shell, "/bin/zsh");
	s = (struct accord_user_spec){ .name = "nobody-here" };
	assert_int_equal(accord_user_mod(st, &s, &err), -ENOENT);
	accord_state_free(st);
}

static void test_group_del(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .group = "staff" };
	static const char *const names[] = { "u1", "u2", "u3", "u4", "u5", "u6", "u7" };
	uint32_t *gl = NULL;
	size_t i;

	(void)state;
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(accord_group_add(st, "dev", false, 0, false, &err), 0);
	s.name = "alice";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(accord_group_del(st, "staff", &err), -EBUSY);
	assert_contains(err.msg, "group 'staff' is the primary group of 1 user (alice)");
	s.name = "bob";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(accord_group_del(st, "staff", &err), -EBUSY);
	assert_contains(err.msg, "2 users (alice, bob)");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		s.name = names[i];
		assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	}
	assert_int_equal(accord_group_del(st, "staff", &err), -EBUSY);
	assert_contains(err.msg, "9 users (alice, bob, u1, u2, u3, ...)");
	assert_non_null(accord_state_group(st, "staff"));
	assert_int_equal(accord_state_tomb_count(st), 0);

	/* a group that only has members can go: memberships go with it */
	assert_int_equal(accord_group_adduser(st, "dev", "alice", &err), 0);
	accord_state_set_actor(st, NOW1, "admin");
	assert_int_equal(accord_group_del(st, "dev", &err), 0);
	assert_null(accord_state_group(st, "dev"));
	assert_null(accord_state_group_by_gid(st, 1001));
	assert_int_equal(accord_state_tomb_count(st), 1);
	assert_tomb(st, 0, ACCORD_TOMB_GROUP, 1001, "dev", NOW1, "admin");
	assert_int_equal(accord_state_user_groups(st, "alice", &gl), 0);
	free(gl);
	assert_int_equal(accord_group_add(st, "dev", true, 1001, false, &err), -EEXIST);
	assert_contains(err.msg, "tombstone");
	assert_int_equal(accord_group_del(st, "dev", &err), -ENOENT);

	/* a GID shared by two groups: deleting one keeps the primary GID valid */
	assert_int_equal(accord_group_add(st, "staff2", true, 1000, true, &err), 0);
	assert_int_equal(accord_group_del(st, "staff", &err), 0);
	assert_string_equal(accord_state_group_by_gid(st, 1000)->name, "staff2");
	free(unit_state_fingerprint(st));
	accord_state_free(st);
}

static void test_group_membership(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	char m[128];

	(void)state;
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	accord_state_set_actor(st, NOW1, "tester");
	assert_int_equal(accord_group_adduser(st, "staff", "bob", &err), 0);
	assert_int_equal(group(st, "staff")->changed, NOW1);
	assert_int_equal(accord_group_adduser(st, "staff", "alice", &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "bob", &err), 1);
	members_of(st, "staff", m, sizeof(m));
	assert_string_equal(m, "bob,alice");
	assert_int_equal(accord_group_adduser(st, "staff", "nobody", &err), -ENOENT);
	assert_contains(err.msg, "user 'nobody'");
	assert_int_equal(accord_group_adduser(st, "nogroup", "bob", &err), -ENOENT);
	assert_contains(err.msg, "group 'nogroup'");
	assert_int_equal(accord_group_deluser(st, "staff", "bob", &err), 0);
	assert_int_equal(accord_group_deluser(st, "staff", "bob", &err), 1);
	assert_int_equal(accord_group_deluser(st, "staff", "ghost", &err), -ENOENT);
	members_of(st, "staff", m, sizeof(m));
	assert_string_equal(m, "alice");
	/* a user add with --groups joins in the order given, once */
	{
		struct accord_user_spec s = { .name = "carol", .groups = "staff,alice,staff" };

		assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	}
	members_of(st, "staff", m, sizeof(m));
	assert_string_equal(m, "alice,carol");
	members_of(st, "alice", m, sizeof(m));
	assert_string_equal(m, "carol");
	accord_state_free(st);
}

static void test_status_ops(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	const struct accord_user *u;

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	u = user(st, "alice");
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_ENABLED);
	accord_state_set_actor(st, NOW1, "tester");

	/* enable on enabled, resume on not revoked: nothing changes */
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_ENABLE, NULL, &err), 1);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_RESUME, NULL, &err), 1);
	assert_int_equal(u->changed, NOW0);

	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_DISABLE, NULL, &err), 0);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_DISABLED);
	assert_int_equal(u->changed, NOW1);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_DISABLE, NULL, &err), 1);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_RESUME, NULL, &err), 1);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_DISABLED);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_ENABLE, NULL, &err), 0);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_ENABLED);

	/* revoke: default reason, only resume lifts it */
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, NULL, &err), 0);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_REVOKED);
	assert_string_equal(u->reason, "administrator");
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, "", &err), 1);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_ENABLE, NULL, &err),
			 -EPERM);
	assert_contains(err.msg, "revoked (reason: administrator)");
	assert_contains(err.msg, "resume");
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_DISABLE, NULL, &err),
			 -EPERM);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_REVOKED);
	/* a new reason replaces the old one */
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, "left the company",
						&err), 0);
	assert_string_equal(u->reason, "left the company");
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, "a:b", &err),
			 -EINVAL);
	assert_contains(err.msg, "revoke reason");
	assert_string_equal(u->reason, "left the company");
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_RESUME, NULL, &err), 0);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_ENABLED);
	assert_string_equal(u->reason, "");

	/* revoke is allowed from disabled, and resume ends enabled */
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_DISABLE, NULL, &err), 0);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, "x", &err), 0);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_RESUME, NULL, &err), 0);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_ENABLED);

	{
		char big[ACCORD_REASON_MAX + 2];

		memset(big, 'r', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, big, &err),
				 -EINVAL);
		assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_ENABLED);
	}
	assert_int_equal(accord_user_status_op(st, "ghost", ACCORD_OP_DISABLE, NULL, &err),
			 -ENOENT);
	assert_int_equal(accord_user_status_op(st, "alice", (enum accord_status_op)99, NULL,
						&err), -EINVAL);
	accord_state_free(st);
}

static void test_set_flag(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	const struct accord_user *u;

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0);
	u = user(st, "alice");
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_NO_PASSWORD, false, &err), 1);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_NO_PASSWORD, true, &err), 0);
	assert_true(u->flags & ACCORD_F_NO_PASSWORD);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_NO_PASSWORD, true, &err), 1);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_PROTECTED, true, &err), 0);
	assert_true(u->flags & ACCORD_F_PROTECTED);
	assert_true(u->flags & ACCORD_F_NO_PASSWORD);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_ENABLED);
	/* flags and status are independent */
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, NULL, &err), 0);
	assert_true(u->flags & ACCORD_F_PROTECTED);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_NO_PASSWORD, false, &err), 0);
	assert_false(u->flags & ACCORD_F_NO_PASSWORD);
	assert_int_equal(accord_user_status(u->flags), ACCORD_STATUS_REVOKED);
	/* only the two profile flags can be set this way */
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_SHARED_ID, true, &err),
			 -EINVAL);
	assert_int_equal(accord_user_set_flag(st, "alice", 0x100, true, &err), -EINVAL);
	assert_false(u->flags & ACCORD_F_SHARED_ID);
	assert_int_equal(accord_user_set_flag(st, "ghost", ACCORD_F_PROTECTED, true, &err),
			 -ENOENT);
	accord_state_free(st);
}

/* A state with a bit of everything, for the refused-operation checks. */
static struct accord_state *busy_state(void)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "dave", .group = "staff",
				      .groups = "dev", .gecos = "Dave" };

	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(accord_group_add(st, "dev", false, 0, false, &err), 0);
	assert_int_equal(unit_add(st, "alice", &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(unit_add(st, "carol", &err), 0);
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "alice", &err), 0);
	assert_int_equal(accord_group_adduser(st, "dev", "bob", &err), 0);
	assert_int_equal(accord_user_del(st, "carol", &err), 0);
	assert_int_equal(accord_user_status_op(st, "bob", ACCORD_OP_REVOKE, "audit", &err), 0);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_PROTECTED, true, &err), 0);
	/* the IDs the refused operations below aim at */
	assert_int_equal(accord_state_user(st, "alice")->uid, 1000);
	assert_int_equal(accord_state_group(st, "alice")->gid, 1002);
	assert_int_equal(accord_state_user(st, "bob")->uid, 1001);
	assert_int_equal(accord_state_user(st, "dave")->uid, 1003);
	assert_int_equal(accord_state_user(st, "dave")->gid, 1000);
	assert_int_equal(accord_state_tomb_count(st), 2);
	assert_int_equal(accord_state_tomb_at(st, 0)->id, 1002);
	assert_int_equal(accord_state_tomb_at(st, 1)->id, 1004);
	accord_state_set_actor(st, NOW1, "someone-else");
	return st;
}

static void test_refused_ops_change_nothing(void **state)
{
	struct accord_state *st = busy_state();
	struct accord_err err;
	char *before = unit_state_fingerprint(st), *after;
	struct accord_user_spec specs[] = {
		{ .name = "eve", .groups = "staff,nosuch" },      /* unknown group */
		{ .name = "eve", .groups = "dev,staff,,nosuch" },
		{ .name = "eve", .shell = "bin/sh" },             /* relative */
		{ .name = "eve", .shell = "/bin/sh:x" },
		{ .name = "eve", .gecos = "a\nb" },
		{ .name = "eve", .has_uid = true, .uid = 1000 },  /* alice's */
		{ .name = "eve", .has_uid = true, .uid = 1002 },  /* carol's tombstone */
		{ .name = "eve", .has_uid = true, .uid = 9999 },  /* out of range */
		{ .name = "eve", .has_uid = true, .uid = 0, .shared = true },
		{ .name = "eve", .group = "nosuch" },
		{ .name = "eve", .group = "4242" },
		{ .name = "alice" },                              /* exists */
		{ .name = "staff" },                              /* group exists */
		{ .name = "Eve" },
	};
	struct accord_user_spec mods[] = {
		{ .name = "alice", .home = "x" },
		{ .name = "alice", .groups = "dev,nosuch" },
		{ .name = "alice", .group = "nosuch" },
		{ .name = "alice", .has_uid = true, .uid = 1001 }, /* bob's */
		{ .name = "alice", .has_uid = true, .uid = 65535, .shared = true },
		{ .name = "alice", .gecos = "ok", .shell = "/bin/sh\n" },
		{ .name = "ghost", .gecos = "x" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (accord_user_add(st, &specs[i], NULL, &err) >= 0)
			fail_msg("user add #%zu accepted", i);
		assert_true(err.msg[0] != '\0');
		after = unit_state_fingerprint(st);
		if (strcmp(before, after))
			fail_msg("user add #%zu (%s) changed the state:\n%s\n---\n%s", i, err.msg,
				 before, after);
		free(after);
	}
	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (accord_user_mod(st, &mods[i], &err) >= 0)
			fail_msg("user mod #%zu accepted", i);
		after = unit_state_fingerprint(st);
		if (strcmp(before, after))
			fail_msg("user mod #%zu (%s) changed the state", i, err.msg);
		free(after);
	}
	assert_true(accord_user_del(st, "ghost", &err) < 0);
	assert_true(accord_group_add(st, "staff", false, 0, false, &err) < 0);
	assert_true(accord_group_add(st, "new", true, 1002, false, &err) < 0); /* alice */
	assert_true(accord_group_add(st, "new", true, 1004, false, &err) < 0); /* carol's tomb */
	assert_true(accord_group_add(st, "Bad", false, 0, false, &err) < 0);
	assert_true(accord_group_del(st, "staff", &err) < 0);   /* dave's primary */
	assert_true(accord_group_del(st, "nosuch", &err) < 0);
	assert_true(accord_group_adduser(st, "staff", "ghost", &err) < 0);
	assert_true(accord_group_deluser(st, "nosuch", "alice", &err) < 0);
	assert_true(accord_user_status_op(st, "bob", ACCORD_OP_ENABLE, NULL, &err) < 0);
	assert_true(accord_user_status_op(st, "bob", ACCORD_OP_REVOKE, "x\n", &err) < 0);
	assert_true(accord_user_set_flag(st, "alice", ACCORD_F_SHARED_ID, true, &err) < 0);
	/* and the "nothing to do" answers change nothing either */
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_RESUME, NULL, &err), 1);
	assert_int_equal(accord_user_status_op(st, "bob", ACCORD_OP_REVOKE, "audit", &err), 1);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_PROTECTED, true, &err), 1);
	assert_int_equal(accord_group_adduser(st, "dev", "bob", &err), 1);
	assert_int_equal(accord_group_deluser(st, "dev", "alice", &err), 1);
	after = unit_state_fingerprint(st);
	assert_string_equal(before, after);
	free(after);
	free(before);
	accord_state_free(st);
}

/* The fingerprint itself must notice changes, or the test above proves
 * nothing. */
static void test_fingerprint_sees_changes(void **state)
{
	struct accord_state *st = busy_state();
	struct accord_err err = { 0 };
	char *a = unit_state_fingerprint(st), *b;

	(void)state;
	assert_int_equal(accord_user_set_flag(st, "dave", ACCORD_F_NO_PASSWORD, true, &err), 0);
	b = unit_state_fingerprint(st);
	assert_string_not_equal(a, b);
	free(a);
	a = b;
	assert_int_equal(accord_group_deluser(st, "dev", "bob", &err), 0);
	b = unit_state_fingerprint(st);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	accord_state_free(st);
}

/* A state survives the trip through a snapshot whole: the next writer
 * starts from exactly what was published. */
static void test_state_from_snapshot_round_trip(void **state)
{
	struct accord_state *st = busy_state(), *st2 = NULL;
	struct accord_err err = { 0 };
	struct accord_snapshot snap;
	accord_snap_why why = NULL;
	unsigned char *img;
	size_t len;
	char *a, *b;

	(void)state;
	img = unit_build(st, 3, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&snap, img, len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&snap, &st2, &err), 0);
	a = unit_state_fingerprint(st);
	b = unit_state_fingerprint(st2);
	/* the reloaded state has no dead slots; everything else is equal */
	assert_string_equal(strchr(a, '\n'), strchr(b, '\n'));
	assert_int_equal(accord_state_user_count(st2), accord_state_user_count(st));
	assert_int_equal(accord_state_tomb_count(st2), accord_state_tomb_count(st));
	free(a);
	free(b);
	/* and it works as a state: lookups, memberships, further changes */
	assert_string_equal(user(st2, "bob")->reason, "audit");
	assert_int_equal(accord_group_adduser(st2, "dev", "bob", &err), 1);
	assert_int_equal(accord_group_del(st2, "staff", &err), -EBUSY);
	assert_int_equal(accord_user_del(st2, "dave", &err), 0);
	assert_int_equal(accord_group_del(st2, "staff", &err), 0);
	free(unit_state_fingerprint(st2));
	accord_state_free(st2);
	free(img);
	accord_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_del_tombstones),
		cmocka_unit_test(test_user_del_keeps_used_personal_group),
		cmocka_unit_test(test_user_del_self_member_personal_group),
		cmocka_unit_test(test_user_del_removes_memberships),
		cmocka_unit_test(test_user_mod_uid_leaves_tombstone),
		cmocka_unit_test(test_user_mod_fields_and_groups),
		cmocka_unit_test(test_group_del),
		cmocka_unit_test(test_group_membership),
		cmocka_unit_test(test_status_ops),
		cmocka_unit_test(test_set_flag),
		cmocka_unit_test(test_refused_ops_change_nothing),
		cmocka_unit_test(test_fingerprint_sees_changes),
		cmocka_unit_test(test_state_from_snapshot_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
