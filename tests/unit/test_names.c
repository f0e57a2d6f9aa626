/* SPDX-License-Identifier: MIT */
/* Names, passwd fields, ID ranges and ID parsing (common/names.c), and the
 * same rules as user add / group add apply them. */
#include "unit_util.h"

#include <errno.h>
#include <stdlib.h>

static void test_valid_names(void **state)
{
	static const char *const ok[] = {
		"alice", "_svc", "a", "a1", "a-b", "a_b", "a.b", "a.", "host$",
		"web-01.prod", "x2345678901234567890123456789012",  /* 32 */
		"x234567890123456789012345678901$",                 /* 31 + $ */
	};
	struct accord_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (accord_check_name("user name", ok[i], &err) != 0)
			fail_msg("'%s' refused: %s", ok[i], err.msg);
	/* the trailing '$' counts towards the 32 bytes */
	assert_int_equal(accord_check_name("user name",
					   "x2345678901234567890123456789012$", &err),
			 -EINVAL);
	assert_contains(err.msg, "longer than 32");
}

static void test_invalid_names(void **state)
{
	static const struct {
		const char *name, *msg;
	} bad[] = {
		{ "", "is empty" },
		{ "Alice", "must start with a lower-case letter" },
		{ "aLice", "upper-case" },
		{ "1abc", "must start with a lower-case letter" },
		{ "-abc", "must start with a lower-case letter" },
		{ ".abc", "must start with a lower-case letter" },
		{ "$", "must start with a lower-case letter" },
		{ "a:b", "position 2" },
		{ "a b", "position 2" },
		{ "ab\n", "position 3" },
		{ "a/b", "not allowed" },
		{ "a$b", "not allowed" },
		{ "a$$", "not allowed" },
		{ "ab\xc3\xa9", "not allowed" },
		{ "x23456789012345678901234567890123", "longer than 32" }, /* 33 */
	};
	struct accord_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (accord_check_name("user name", bad[i].name, &err) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].name);
		assert_int_equal(err.code, -EINVAL);
		assert_contains(err.msg, "user name");
		assert_contains(err.msg, bad[i].msg);
	}
}

static void test_names_enforced_by_operations(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };

	(void)state;
	assert_int_equal(unit_add(st, "Bob", &err), -EINVAL);
	assert_contains(err.msg, "user name 'Bob'");
	assert_int_equal(accord_group_add(st, "1grp", false, 0, false, &err), -EINVAL);
	assert_contains(err.msg, "group name '1grp'");
	assert_int_equal(accord_group_add(st, "g:x", false, 0, false, &err), -EINVAL);
	assert_int_equal(accord_state_user_count(st), 0);
	assert_int_equal(accord_state_group_count(st), 0);
	assert_int_equal(unit_add(st, "machine$", &err), 0);
	assert_non_null(accord_state_user(st, "machine$"));
	accord_state_free(st);
}

static void test_fields(void **state)
{
	struct accord_err err = { 0 };
	char big[ACCORD_GECOS_MAX + 2];

	(void)state;
	assert_int_equal(accord_check_field("GECOS", "Alice Example, Room 1", 1024, false,
					    &err), 0);
	assert_int_equal(accord_check_field("GECOS", "", 1024, false, &err), 0);
	assert_int_equal(accord_check_field("GECOS", "a:b", 1024, false, &err), -EINVAL);
	assert_contains(err.msg, "GECOS may not contain ':'");
	assert_int_equal(accord_check_field("GECOS", "a\nb", 1024, false, &err), -EINVAL);
	assert_contains(err.msg, "newline");
	assert_int_equal(accord_check_field("GECOS", "a\tb", 1024, false, &err), -EINVAL);
	assert_int_equal(accord_check_field("GECOS", "a\x7f", 1024, false, &err), -EINVAL);
	/* UTF-8 is fine in GECOS */
	assert_int_equal(accord_check_field("GECOS", "Ren\xc3\xa9", 1024, false, &err), 0);

	assert_int_equal(accord_check_field("home directory", "/home/a", 1024, true, &err), 0);
	assert_int_equal(accord_check_field("home directory", "home/a", 1024, true, &err),
			 -EINVAL);
	assert_contains(err.msg, "home directory 'home/a' must be an absolute path");
	assert_int_equal(accord_check_field("home directory", "", 1024, true, &err), -EINVAL);
	assert_int_equal(accord_check_field("shell", "/bin/sh:x", 1024, true, &err), -EINVAL);
	assert_contains(err.msg, "':'");
	assert_int_equal(accord_check_field("shell", "/bin/sh\n", 1024, true, &err), -EINVAL);
	assert_contains(err.msg, "newline");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0'; /* 1025 bytes */
	assert_int_equal(accord_check_field("GECOS", big, ACCORD_GECOS_MAX, false, &err),
			 -EINVAL);
	assert_contains(err.msg, "longer than 1024");
	big[ACCORD_GECOS_MAX] = '\0';
	assert_int_equal(accord_check_field("GECOS", big, ACCORD_GECOS_MAX, false, &err), 0);
}

/* user add / user mod refuse bad fields with the same messages. */
static void test_fields_enforced_by_operations(void **state)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	struct accord_user_spec s = { .name = "alice" };
	struct accord_defaults def = { .home_base = "home", .shell = "/bin/sh" };

	(void)state;
	s.gecos = "Alice:x";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EINVAL);
	assert_contains(err.msg, "GECOS may not contain ':'");
	s.gecos = "Alice\nroot::0:0::/:/bin/sh";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EINVAL);
	assert_contains(err.msg, "newline");
	s.gecos = NULL;
	s.home = "relative/alice";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EINVAL);
	assert_contains(err.msg, "absolute path");
	s.home = NULL;
	s.shell = "/bin/bash\n";
	assert_int_equal(accord_user_add(st, &s, NULL, &err), -EINVAL);
	assert_contains(err.msg, "shell");
	s.shell = NULL;
	/* a relative default home base makes a relative home: refused */
	assert_int_equal(accord_user_add(st, &s, &def, &err), -EINVAL);
	assert_contains(err.msg, "absolute path");
	assert_int_equal(accord_state_user_count(st), 0);
	assert_int_equal(accord_state_group_count(st), 0);

	def.home_base = "/srv/home";
	assert_int_equal(accord_user_add(st, &s, &def, &err), 0);
	assert_string_equal(accord_state_user(st, "alice")->home, "/srv/home/alice");
	assert_string_equal(accord_state_user(st, "alice")->shell, "/bin/sh");

	s.gecos = "a:b";
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	assert_contains(err.msg, "':'");
	s.gecos = NULL;
	s.home = "nope";
	assert_int_equal(accord_user_mod(st, &s, &err), -EINVAL);
	assert_string_equal(accord_state_user(st, "alice")->home, "/srv/home/alice");
	accord_state_free(st);
}

static void test_ranges(void **state)
{
	struct accord_err err = { 0 };
	struct accord_range r;

	(void)state;
	r = (struct accord_range){ 1000, 60000 };
	assert_int_equal(accord_check_range("UID", &r, &err), 0);
	r = (struct accord_range){ 1000, 1000 };
	assert_int_equal(accord_check_range("UID", &r, &err), 0);
	r = (struct accord_range){ 1000, ACCORD_ID_MAX };
	assert_int_equal(accord_check_range("UID", &r, &err), 0);

	r = (struct accord_range){ 2000, 1999 };
	assert_int_equal(accord_check_range("UID", &r, &err), -EINVAL);
	assert_contains(err.msg, "UID range 2000-1999 is empty");
	r = (struct accord_range){ 999, 5000 };
	assert_int_equal(accord_check_range("GID", &r, &err), -EINVAL);
	assert_contains(err.msg, "GID range 999-5000 reaches below 1000");
	r = (struct accord_range){ 1000, ACCORD_ID_MAX + 1u };
	assert_int_equal(accord_check_range("UID", &r, &err), -EINVAL);
	assert_contains(err.msg, "above 2147483647");
}

static void test_parse_range_and_id(void **state)
{
	struct accord_range r = { 0, 0 };
	uint32_t id = 7;

	(void)state;
	assert_int_equal(accord_parse_range("1000-2000", &r), 0);
	assert_int_equal(r.lo, 1000);
	assert_int_equal(r.hi, 2000);
	assert_int_equal(accord_parse_range("1000", &r), -EINVAL);
	assert_int_equal(accord_parse_range("-2000", &r), -EINVAL);
	assert_int_equal(accord_parse_range("1000-", &r), -EINVAL);
	assert_int_equal(accord_parse_range("1000-2000-3000", &r), -EINVAL);
	assert_int_equal(accord_parse_range("a-b", &r), -EINVAL);
	assert_int_equal(accord_parse_range(
				 "1000-200000000000000000000000000000000000000000000000000000000000000",
				 &r), -EINVAL);

	assert_int_equal(accord_parse_id("0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(accord_parse_id("4294967295", &id), 0);
	assert_int_equal(id, UINT32_MAX);
	assert_int_equal(accord_parse_id("4294967296", &id), -EINVAL);
	assert_int_equal(accord_parse_id("", &id), -EINVAL);
	assert_int_equal(accord_parse_id("+5", &id), -EINVAL);
	assert_int_equal(accord_parse_id("-5", &id), -EINVAL);
	assert_int_equal(accord_parse_id(" 5", &id), -EINVAL);
	assert_int_equal(accord_parse_id("5 ", &id), -EINVAL);
	assert_int_equal(accord_parse_id("0x10", &id), -EINVAL);
	assert_int_equal(id, UINT32_MAX); /* untouched by failures */
}

static void test_reserved_ids(void **state)
{
	static const uint32_t reserved[] = { 65534, 65535, 60001, 60300, 60577,
					     61184, 63000, 65519 };
	static const uint32_t free_ids[] = { 1000, 59999, 60000, 60578, 61183,
					     65520, 65533, 65536, 100000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!accord_id_reserved(reserved[i]))
			fail_msg("%u should be reserved", reserved[i]);
	for (i = 0; i < sizeof(free_ids) / sizeof(free_ids[0]); i++)
		if (accord_id_reserved(free_ids[i]))
			fail_msg("%u should not be reserved", free_ids[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_names_enforced_by_operations),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_fields_enforced_by_operations),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_parse_range_and_id),
		cmocka_unit_test(test_reserved_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
