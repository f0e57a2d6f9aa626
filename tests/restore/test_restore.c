/* SPDX-License-Identifier: MIT */
/*
 * common/restore.c on states built in memory: the backup is a snapshot of
 * a base state, "live" is the same snapshot loaded again and changed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <accord/jsonfmt.h>
#include <accord/restore.h>
#include <accord/snapshot.h>
#include <accord/state.h>

struct fx {
	unsigned char *buf;
	size_t len;
	struct accord_snapshot snap;
	struct accord_state *live, *bst;
	struct accord_restore_report rep;
	struct accord_err e;
};

static void add_user(struct accord_state *st, const char *name)
{
	struct accord_user_spec s = { .name = name };
	struct accord_err e = { 0 };

	assert_int_equal(accord_user_add(st, &s, NULL, &e), 0);
}

/* base: alice, bob, carol, svc1; group ops (alice, svc1); appl sshd
 * (uacc none, group ops read) */
static int setup(void **state)
{
	static const unsigned char uuid[16] = { 1 };
	struct accord_range r = { 10000, 10999 };
	struct accord_state *st = accord_state_new(&r, &r);
	struct fx *f = calloc(1, sizeof(*f));
	accord_snap_why why;

	assert_non_null(st);
	assert_non_null(f);
	accord_state_set_actor(st, 1700000000, "test");
	add_user(st, "alice");
	add_user(st, "bob");
	add_user(st, "carol");
	add_user(st, "svc1");
	assert_int_equal(accord_group_add(st, "ops", false, 0, false, &f->e), 0);
	assert_int_equal(accord_group_adduser(st, "ops", "alice", &f->e), 0);
	assert_int_equal(accord_group_adduser(st, "ops", "svc1", &f->e), 0);
	assert_int_equal(accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, &f->e), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "ops",
					    ACCORD_ACCESS_READ, &f->e), 0);
	assert_int_equal(accord_snapshot_build(st, 2, uuid, 1700000000, &f->buf, &f->len,
					       &f->e), 0);
	accord_state_free(st);
	assert_int_equal(accord_snapshot_open_mem(&f->snap, f->buf, f->len, &why), 0);
	assert_int_equal(accord_state_from_snapshot(&f->snap, &f->live, &f->e), 0);
	assert_int_equal(accord_state_from_snapshot(&f->snap, &f->bst, &f->e), 0);
	accord_state_set_actor(f->live, 1700000100, "test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	accord_restore_report_free(&f->rep);
	accord_state_free(f->live);
	accord_state_free(f->bst);
	free(f->buf);
	free(f);
	return 0;
}

static struct accord_restore_opts defaults(void)
{
	return (struct accord_restore_opts){ .classes = ACCORD_RESTORE_DEFAULT };
}

static void test_parse_only(void **state)
{
	struct accord_err e = { 0 };
	unsigned m;

	(void)state;
	assert_int_equal(accord_restore_parse_only("users,groups", &m, &e), 0);
	assert_int_equal(m, (1u << ACCORD_CLASS_USER) | (1u << ACCORD_CLASS_GROUP));
	assert_int_equal(accord_restore_parse_only("cas", &m, &e), 0);
	assert_int_equal(m, 1u << ACCORD_CLASS_CA);
	assert_int_equal(accord_restore_parse_only("users,bogus", &m, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "bogus"));
	/* PassTicket keys only when named, and never by default */
	assert_int_equal(accord_restore_parse_only("ptkeys", &m, &e), 0);
	assert_int_equal(m, ACCORD_RESTORE_PTKEYS);
	assert_int_equal(ACCORD_RESTORE_DEFAULT & ACCORD_RESTORE_PTKEYS, 0);
	assert_int_equal(accord_restore_parse_only(",", &m, &e), -EINVAL);
	/* the default never holds trust anchors */
	assert_int_equal(ACCORD_RESTORE_DEFAULT & (1u << ACCORD_CLASS_CA), 0);
}

static void test_excluded(void **state)
{
	const char *pats[] = { "svc*", "root" };
	struct accord_restore_opts o = { .exclude = pats, .nexclude = 2 };

	(void)state;
	assert_true(accord_restore_excluded(&o, "svc1"));
	assert_true(accord_restore_excluded(&o, "root"));
	assert_false(accord_restore_excluded(&o, "rooted"));
	assert_false(accord_restore_excluded(&o, "alice"));
}

/* A deleted profile comes back with its UID (its own tombstone reserves
 * it) and no-password; everything else back to the backup. */
static void test_deleted_profile_back(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();
	struct accord_user_spec mod = { .name = "carol", .shell = "/bin/sh" };
	uint32_t bob_uid = accord_state_user(f->bst, "bob")->uid;
	const struct accord_user *u;

	assert_int_equal(accord_user_del(f->live, "bob", &f->e), 0);
	assert_int_equal(accord_user_mod(f->live, &mod, &f->e), 0);
	add_user(f->live, "dave");
	assert_int_equal(accord_group_deluser(f->live, "ops", "alice", &f->e), 0);
	assert_int_equal(accord_restore_state(f->live, f->bst, &o, &f->rep, &f->e), 0);
	u = accord_state_user(f->live, "bob");
	assert_non_null(u);
	assert_int_equal(u->uid, bob_uid);
	assert_true(u->flags & ACCORD_F_NO_PASSWORD);
	assert_int_equal(f->rep.added.n, 1);
	assert_string_equal(f->rep.added.v[0], "bob");
	assert_string_equal(accord_state_user(f->live, "carol")->shell, "/bin/bash");
	assert_null(accord_state_user(f->live, "dave"));
	assert_int_equal(accord_state_group(f->live, "ops")->nmembers, 2);
	/* bob's personal group came back with its GID */
	assert_int_equal(accord_state_group(f->live, "bob")->gid,
			 accord_state_group(f->bst, "bob")->gid);
	assert_int_equal(f->rep.conflicts.n, 0);
}

static void test_full_keeps_password_state(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();

	o.full = true;
	assert_int_equal(accord_user_del(f->live, "bob", &f->e), 0);
	assert_int_equal(accord_restore_state(f->live, f->bst, &o, &f->rep, &f->e), 0);
	assert_false(accord_state_user(f->live, "bob")->flags & ACCORD_F_NO_PASSWORD);
}

/* bob's UID held by another name: live, or a tombstone: a conflict; the
 * restore is refused with every conflict listed. */
static void test_uid_conflicts(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();
	uint32_t bob_uid = accord_state_user(f->bst, "bob")->uid;
	struct accord_user_spec eve = { .name = "eve", .has_uid = true, .uid = bob_uid,
					.shared = true, .group = "ops" };

	assert_int_equal(accord_user_del(f->live, "bob", &f->e), 0);
	assert_int_equal(accord_user_add(f->live, &eve, NULL, &f->e), 0);
	assert_int_equal(accord_user_del(f->live, "eve", &f->e), 0);
	assert_int_equal(accord_restore_state(f->live, f->bst, &o, &f->rep, &f->e), -EEXIST);
	assert_int_equal(f->rep.conflicts.n, 1);
	assert_non_null(strstr(f->rep.conflicts.v[0], "tombstone of eve"));
}

static void test_uid_live_holder(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();
	uint32_t bob_uid = accord_state_user(f->bst, "bob")->uid;
	struct accord_user_spec eve = { .name = "eve", .has_uid = true, .uid = bob_uid,
					.shared = true, .group = "ops" };
	const char *pats[] = { "eve" };

	assert_int_equal(accord_user_del(f->live, "bob", &f->e), 0);
	assert_int_equal(accord_user_add(f->live, &eve, NULL, &f->e), 0);
	/* eve is excluded (kept), so bob cannot have the UID */
	o.exclude = pats;
	o.nexclude = 1;
	assert_int_equal(accord_restore_state(f->live, f->bst, &o, &f->rep, &f->e), -EEXIST);
	assert_int_equal(f->rep.conflicts.n, 1);
	assert_non_null(strstr(f->rep.conflicts.v[0], "held by user eve"));
}

static void test_exclude_and_only(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();
	const char *pats[] = { "svc*" };
	struct accord_user_spec mod = { .name = "svc1", .gecos = "changed" };
	struct accord_user_spec mod2 = { .name = "carol", .shell = "/bin/sh" };

	assert_int_equal(accord_user_mod(f->live, &mod, &f->e), 0);
	assert_int_equal(accord_user_mod(f->live, &mod2, &f->e), 0);
	assert_int_equal(accord_group_deluser(f->live, "ops", "svc1", &f->e), 0);
	assert_int_equal(accord_group_deluser(f->live, "ops", "alice", &f->e), 0);
	o.exclude = pats;
	o.nexclude = 1;
	o.classes = 1u << ACCORD_CLASS_GROUP;
	assert_int_equal(accord_restore_state(f->live, f->bst, &o, &f->rep, &f->e), 0);
	/* groups only: carol's shell stays, alice back in ops, svc1's
	 * membership (excluded) stays as live */
	assert_string_equal(accord_state_user(f->live, "carol")->shell, "/bin/sh");
	assert_string_equal(accord_state_user(f->live, "svc1")->gecos, "changed");
	assert_int_equal(accord_state_group(f->live, "ops")->nmembers, 1);
}

static void test_appl_restored(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();
	const struct accord_appl *a;

	assert_int_equal(accord_appl_revoke_access(f->live, "sshd", ACCORD_ACE_GROUP, "ops",
						   &f->e), 0);
	assert_int_equal(accord_appl_permit(f->live, "sshd", ACCORD_ACE_USER, "carol",
					    ACCORD_ACCESS_READ, &f->e), 0);
	assert_int_equal(accord_appl_add(f->live, "ftp", ACCORD_ACCESS_READ, &f->e), 0);
	assert_int_equal(accord_restore_state(f->live, f->bst, &o, &f->rep, &f->e), 0);
	a = accord_state_appl(f->live, "sshd");
	assert_int_equal(a->nentries, 1);
	assert_string_equal(a->entries[0].name, "ops");
	assert_null(accord_state_appl(f->live, "ftp"));
}

static void test_password_hash(void **state)
{
	static const char good[] = "accord-secret 1 10001 1700000000 $y$j9T$abc/def.$XYZ012\n";
	static const char bad1[] = "accord-secret 1 10001 1700000000 $y$j9T$ab c\n";
	static const char bad2[] = "accord-secret 1 10001 1700000000 $y$j9T$abc";
	static const char bad3[] = "accord-secret 2 10001 1700000000 $y$j9T$abc\n";
	char h[128];

	(void)state;
	assert_int_equal(accord_restore_password_hash((const unsigned char *)good,
						      strlen(good), h, sizeof(h)), 0);
	assert_string_equal(h, "$y$j9T$abc/def.$XYZ012");
	assert_int_equal(accord_restore_password_hash((const unsigned char *)bad1,
						      strlen(bad1), h, sizeof(h)), -EBADMSG);
	assert_int_equal(accord_restore_password_hash((const unsigned char *)bad2,
						      strlen(bad2), h, sizeof(h)), -EBADMSG);
	assert_int_equal(accord_restore_password_hash((const unsigned char *)bad3,
						      strlen(bad3), h, sizeof(h)), -EBADMSG);
	assert_int_equal(accord_restore_password_hash((const unsigned char *)good,
						      strlen(good), h, 8), -EBADMSG);
}

static void test_ptauth(void **state)
{
	const char *live[] = { "TSO:group:ops", "TSO:user:svc1", "IMS:user:bob" };
	const char *backup[] = { "TSO:group:dev", "TSO:group:dev", "CICS:user:alice" };
	const char *pats[] = { "svc*" };
	struct accord_restore_opts o = { .exclude = pats, .nexclude = 1 };
	struct accord_strlist out = { 0 };
	static const unsigned char file[] = "group ops\nuser alice\n";
	static const unsigned char badfile[] = "others ops\n";

	(void)state;
	assert_int_equal(accord_restore_ptauth(live, 3, backup, 3, &o, &out), 0);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[0], "CICS:user:alice");
	assert_string_equal(out.v[1], "TSO:group:dev");
	assert_string_equal(out.v[2], "TSO:user:svc1");
	accord_strlist_free(&out);
	assert_int_equal(accord_restore_ptauth_parse("TSO", file, sizeof(file) - 1, &out), 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0], "TSO:group:ops");
	assert_string_equal(out.v[1], "TSO:user:alice");
	accord_strlist_free(&out);
	assert_int_equal(accord_restore_ptauth_parse("TSO", badfile, sizeof(badfile) - 1, &out),
			 -EBADMSG);
	accord_strlist_free(&out);
}

/* A journal line: change KIND NAME with before/after (owned, may be NULL). */
static char *jline(const char *change, const char *kind, const char *name, json_object *before,
		   json_object *after)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "change", json_object_new_string(change));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "before", before);
	json_object_object_add(o, "after", after);
	s = strdup(accord_json_line(o));
	json_object_put(o);
	return s;
}

static void test_reapply(void **state)
{
	struct fx *f = *state;
	struct accord_restore_opts o = defaults();
	struct accord_reapply ra = { 0 };
	const char *pats[] = { "svc*" };
	json_object *before, *after, *stale;
	char *l;

	o.exclude = pats;
	o.nexclude = 1;
	/* carol's shell changed after the backup: before matches -> applied */
	before = accord_json_user_state(accord_state_user(f->live, "carol"));
	after = accord_json_user_state(accord_state_user(f->live, "carol"));
	json_object_object_add(after, "shell", json_object_new_string("/bin/sh"));
	json_object_object_add(after, "changed", json_object_new_string("2030-01-01T00:00:00Z"));
	l = jline("change", "user", "carol", before, after);
	assert_int_equal(accord_reapply_add(&ra, 3, l), 0);
	free(l);
	/* alice: a 'before' that is not what the state holds -> conflict */
	stale = accord_json_user_state(accord_state_user(f->live, "alice"));
	json_object_object_add(stale, "gecos", json_object_new_string("someone else"));
	after = accord_json_user_state(accord_state_user(f->live, "alice"));
	json_object_object_add(after, "home", json_object_new_string("/srv/alice"));
	l = jline("change", "user", "alice", stale, after);
	assert_int_equal(accord_reapply_add(&ra, 3, l), 0);
	free(l);
	/* excluded: skipped */
	l = jline("delete", "user", "svc1",
		  accord_json_user_state(accord_state_user(f->live, "svc1")), NULL);
	assert_int_equal(accord_reapply_add(&ra, 4, l), 0);
	free(l);
	/* a user added later, with its personal group (group add first) */
	after = json_object_new_object();
	json_object_object_add(after, "name", json_object_new_string("dave"));
	json_object_object_add(after, "gid", json_object_new_int64(10500));
	json_object_object_add(after, "members", json_object_new_array());
	l = jline("add", "group", "dave", NULL, after);
	assert_int_equal(accord_reapply_add(&ra, 5, l), 0);
	free(l);
	after = accord_json_user_state(accord_state_user(f->live, "carol"));
	json_object_object_add(after, "name", json_object_new_string("dave"));
	json_object_object_add(after, "uid", json_object_new_int64(10500));
	json_object_object_add(after, "gid", json_object_new_int64(10500));
	json_object_object_add(after, "home", json_object_new_string("/home/dave"));
	l = jline("add", "user", "dave", NULL, after);
	assert_int_equal(accord_reapply_add(&ra, 5, l), 0);
	free(l);
	/* tombstones and header lines are not kept */
	assert_int_equal(accord_reapply_add(&ra, 5, "{\"change\":\"retire\",\"kind\":\"tombstone\","
					    "\"name\":\"x\",\"before\":null,\"after\":{}}"), 0);
	assert_int_equal(accord_reapply_add(&ra, 5, "{\"end\":5,\"changes\":3}"), 0);
	assert_int_equal(ra.n, 5);

	assert_int_equal(accord_reapply_run(f->live, &ra, &o, &f->e), 0);
	assert_int_equal(ra.v[0].outcome, ACCORD_REAPPLY_APPLIED);
	assert_string_equal(accord_state_user(f->live, "carol")->shell, "/bin/sh");
	assert_int_equal(ra.v[1].outcome, ACCORD_REAPPLY_CONFLICT);
	assert_non_null(ra.v[1].why);
	assert_string_equal(accord_state_user(f->live, "alice")->home, "/home/alice");
	assert_int_equal(ra.v[2].outcome, ACCORD_REAPPLY_SKIPPED);
	assert_non_null(accord_state_user(f->live, "svc1"));
	assert_int_equal(ra.v[3].outcome, ACCORD_REAPPLY_APPLIED);
	assert_int_equal(ra.v[4].outcome, ACCORD_REAPPLY_APPLIED);
	assert_int_equal(accord_state_user(f->live, "dave")->uid, 10500);
	assert_int_equal(ra.count[ACCORD_REAPPLY_APPLIED], 3);
	assert_int_equal(ra.count[ACCORD_REAPPLY_CONFLICT], 1);
	/* run again: what was applied is now already so */
	assert_int_equal(accord_reapply_run(f->live, &ra, &o, &f->e), 0);
	assert_int_equal(ra.v[0].outcome, ACCORD_REAPPLY_ALREADY);
	assert_int_equal(ra.v[4].outcome, ACCORD_REAPPLY_ALREADY);
	accord_reapply_free(&ra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_only),
		cmocka_unit_test(test_excluded),
		cmocka_unit_test_setup_teardown(test_deleted_profile_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_keeps_password_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid_live_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclude_and_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appl_restored, setup, teardown),
		cmocka_unit_test(test_password_hash),
		cmocka_unit_test(test_ptauth),
		cmocka_unit_test_setup_teardown(test_reapply, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
