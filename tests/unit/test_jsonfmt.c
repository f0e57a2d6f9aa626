/* SPDX-License-Identifier: MIT */
/* The JSON shapes shared by the journal and accordctl --json
 * (common/jsonfmt.c): the state and the snapshot views must agree. */
#include "unit_util.h"

#include <accord/jsonfmt.h>

#include <stdlib.h>

static void test_status_and_time(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(accord_status_name(ACCORD_STATUS_ENABLED), "enabled");
	assert_string_equal(accord_status_name(ACCORD_STATUS_DISABLED | ACCORD_F_PROTECTED),
			    "disabled");
	assert_string_equal(accord_status_name(ACCORD_STATUS_REVOKED | ACCORD_F_NO_PASSWORD),
			    "revoked");
	assert_string_equal(accord_status_name(3), "unknown");
	accord_time_iso(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	accord_time_iso(1700000000, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
}

/* The same profile, from the state and from a snapshot: same JSON. */
static void test_state_and_snapshot_agree(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "alice", .gecos = "Alice \"A\" \\ /",
				      .home = "/home/alice", .groups = "" };
	struct accord_snapshot snap;
	struct accord_snap_user su;
	struct accord_snap_group sg;
	accord_snap_why why = NULL;
	json_object *a, *b, *v;
	unsigned char *img;
	char *la;
	size_t len;

	(void)state;
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(unit_add(st, "bob", &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "alice", &err), 0);
	assert_int_equal(accord_group_adduser(st, "staff", "bob", &err), 0);
	assert_int_equal(accord_user_status_op(st, "alice", ACCORD_OP_REVOKE, "audit", &err), 0);
	assert_int_equal(accord_user_set_flag(st, "alice", ACCORD_F_NO_PASSWORD, true, &err), 0);
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&snap, img, len, &why), 0);

	assert_int_equal(accord_snap_user_by_name(&snap, "alice", &su), 0);
	a = accord_json_user_state(accord_state_user(st, "alice"));
	b = accord_json_user_snap(&su);
	la = strdup(accord_json_line(a));
	assert_string_equal(la, accord_json_line(b));
	/* the shape */
	assert_contains(la, "\"home\":\"/home/alice\""); /* no slash escaping */
	assert_true(json_object_object_get_ex(a, "status", &v));
	assert_string_equal(json_object_get_string(v), "revoked");
	assert_true(json_object_object_get_ex(a, "revoke_reason", &v));
	assert_string_equal(json_object_get_string(v), "audit");
	assert_true(json_object_object_get_ex(a, "no-password", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(a, "protected", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(a, "uid", &v));
	assert_int_equal(json_object_get_int64(v), 1000);
	assert_true(json_object_object_get_ex(a, "created", &v));
	assert_string_equal(json_object_get_string(v), "2023-11-14T22:13:20Z");
	assert_true(json_object_object_get_ex(a, "gecos", &v));
	assert_string_equal(json_object_get_string(v), "Alice \"A\" \\ /");
	free(la);
	json_object_put(a);
	json_object_put(b);

	/* an enabled profile has a null revoke_reason; no dates are null */
	a = accord_json_user_state(accord_state_user(st, "bob"));
	assert_true(json_object_object_get_ex(a, "revoke_reason", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(a, "revoke_date", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(a, "resume_date", &v));
	assert_null(v);
	json_object_put(a);

	assert_int_equal(accord_snap_group_by_name(&snap, "staff", &sg), 0);
	a = accord_json_group_state(st, accord_state_group(st, "staff"));
	b = accord_json_group_snap(&sg);
	assert_string_equal(accord_json_line(a), accord_json_line(b));
	assert_contains(accord_json_line(a), "\"members\":[\"alice\",\"bob\"]");
	json_object_put(a);
	json_object_put(b);
	free(img);
	accord_state_free(st);
}

/* Dates, applications and swap rules: state and snapshot agree, and the
 * shape is the documented one. */
static void test_appl_swap_dates(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "alice", .has_revoke_date = true,
				      .revoke_date = 1800000000, .has_resume_date = true,
				      .resume_date = 1750000000 };
	struct accord_snapshot snap;
	struct accord_snap_user su;
	struct accord_snap_appl sa;
	struct accord_snap_swap sw;
	accord_snap_why why = NULL;
	json_object *a, *b;
	unsigned char *img;
	uint64_t cur = 0;
	size_t len;

	(void)state;
	assert_int_equal(accord_group_add(st, "staff", false, 0, false, &err), 0);
	assert_int_equal(accord_user_add(st, &s, NULL, &err), 0);
	assert_int_equal(accord_appl_add(st, "sshd", ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "staff",
					    ACCORD_ACCESS_NONE, &err), 0);
	assert_int_equal(accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "alice",
					    ACCORD_ACCESS_READ, &err), 0);
	assert_int_equal(accord_swap_set(st, ACCORD_SWAP_DENY, "staff", "root", &err), 0);
	img = unit_build(st, 2, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&snap, img, len, &why), 0);

	assert_int_equal(accord_snap_user_by_name(&snap, "alice", &su), 0);
	a = accord_json_user_state(accord_state_user(st, "alice"));
	b = accord_json_user_snap(&su);
	assert_string_equal(accord_json_line(a), accord_json_line(b));
	assert_contains(accord_json_line(a), "\"revoke_date\":\"2027-01-15T08:00:00Z\","
			"\"resume_date\":\"2025-06-15T15:06:40Z\"");
	json_object_put(a);
	json_object_put(b);

	assert_int_equal(accord_snap_appl_by_name(&snap, "sshd", &sa), 0);
	a = accord_json_appl_state(st, accord_state_appl(st, "sshd"));
	b = accord_json_appl_snap(&sa);
	assert_string_equal(accord_json_line(a), accord_json_line(b));
	assert_string_equal(accord_json_line(a),
			    "{\"name\":\"sshd\",\"uacc\":\"read\",\"entries\":["
			    "{\"type\":\"user\",\"name\":\"alice\",\"access\":\"read\"},"
			    "{\"type\":\"group\",\"name\":\"staff\",\"access\":\"none\"}],"
			    "\"created\":\"2023-11-14T22:13:20Z\","
			    "\"changed\":\"2023-11-14T22:13:20Z\"}");
	json_object_put(a);
	json_object_put(b);

	assert_int_equal(accord_snap_swap_next(&snap, &cur, &sw), 0);
	a = accord_json_swap_state(accord_state_swap_at(st, 0));
	b = accord_json_swap_snap(&sw);
	assert_string_equal(accord_json_line(a), accord_json_line(b));
	assert_string_equal(accord_json_line(a),
			    "{\"kind\":\"deny\",\"from\":\"staff\",\"to\":\"root\","
			    "\"created\":\"2023-11-14T22:13:20Z\"}");
	json_object_put(a);
	json_object_put(b);
	assert_string_equal(accord_access_name(ACCORD_ACCESS_NONE), "none");
	assert_string_equal(accord_access_name(9), "unknown");
	free(img);
	accord_state_free(st);
}

static void test_tombstone(void **state)
{
	json_object *o;

	(void)state;
	o = accord_json_tomb(ACCORD_TOMB_USER, 1500, 0, "alice", "root");
	assert_string_equal(accord_json_line(o),
			    "{\"kind\":\"user\",\"uid\":1500,\"name\":\"alice\","
			    "\"deleted\":\"1970-01-01T00:00:00Z\",\"by\":\"root\"}");
	json_object_put(o);
	o = accord_json_tomb(ACCORD_TOMB_GROUP, 1600, 0, "staff", "");
	assert_contains(accord_json_line(o), "\"kind\":\"group\",\"gid\":1600");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_and_time),
		cmocka_unit_test(test_state_and_snapshot_agree),
		cmocka_unit_test(test_appl_swap_dates),
		cmocka_unit_test(test_tombstone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
