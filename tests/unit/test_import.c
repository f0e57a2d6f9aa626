/* SPDX-License-Identifier: MIT */
/* Import of passwd(5)/group(5) files (common/import.c): IDs and
 * memberships as given, and every bad line refused as "FILE:LINE: why". */
#include "unit_util.h"

#include <accord/import.h>

#include <errno.h>
#include <stdlib.h>

static int imp(struct accord_state *st, const char *pw, const char *gr,
	       struct accord_import_stats *stats, struct accord_err *err)
{
	memset(err, 0, sizeof(*err));
	return accord_import(st, false, pw, strlen(pw), "passwd", gr, gr ? strlen(gr) : 0, "group",
			     stats, NULL, NULL, err);
}

static const struct accord_user *user(const struct accord_state *st,
				      const char *name)
{
	const struct accord_user *u = accord_state_user(st, name);

	if (!u)
		fail_msg("user '%s' missing", name);
	return u;
}

static void members_of(const struct accord_state *st, const char *gname, char *buf,
		       size_t len)
{
	const struct accord_group *g = accord_state_group(st, gname);
	size_t used = 0;
	uint32_t i;

	assert_non_null(g);
	buf[0] = '\0';
	for (i = 0; i < g->nmembers; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					 accord_state_user_at(st, g->members[i])->name);
}

static void test_import_pair(void **state)
{
	static const char pw[] =
		"# exported from host1\n"
		"alice:x:1500:1500:Alice A:/home/alice:/bin/bash\n"
		"bob:$6$salt$hash:1501:1600:Bob,,,:/home/bob:/bin/sh\n"
		"\n"
		"carol:*:1502:1600::/home/carol:/usr/sbin/nologin"; /* no final newline */
	static const char gr[] =
		"alice:x:1500:\n"
		"staff:x:1600:alice,bob\n"
		"dev:!:1601:bob,carol\n"
		"empty:x:1602:\n";
	struct accord_state *st = unit_state();
	struct accord_import_stats stats;
	struct accord_err err;
	uint32_t *gl = NULL, nu, ng;
	char m[64];
	int n;

	(void)state;
	if (imp(st, pw, gr, &stats, &err) != 0)
		fail_msg("import: %s", err.msg);
	assert_int_equal(stats.users, 3);
	assert_int_equal(stats.groups, 4);
	assert_int_equal(stats.memberships, 4);
	assert_int_equal(stats.hashes_ignored, 1);
	assert_int_equal(accord_state_user_count(st), 3);
	assert_int_equal(accord_state_group_count(st), 4); /* no personal groups made */

	assert_int_equal(user(st, "alice")->uid, 1500);
	assert_int_equal(user(st, "alice")->gid, 1500);
	assert_string_equal(user(st, "alice")->gecos, "Alice A");
	assert_string_equal(user(st, "alice")->home, "/home/alice");
	assert_string_equal(user(st, "alice")->shell, "/bin/bash");
	assert_int_equal(user(st, "bob")->uid, 1501);
	assert_int_equal(user(st, "bob")->gid, 1600);
	assert_string_equal(user(st, "bob")->gecos, "Bob,,,");
	assert_int_equal(user(st, "carol")->uid, 1502);
	assert_string_equal(user(st, "carol")->gecos, "");
	assert_string_equal(user(st, "carol")->shell, "/usr/sbin/nologin");
	assert_int_equal(accord_state_group(st, "dev")->gid, 1601);
	members_of(st, "staff", m, sizeof(m));
	assert_string_equal(m, "alice,bob");
	members_of(st, "dev", m, sizeof(m));
	assert_string_equal(m, "bob,carol");
	n = accord_state_user_groups(st, "bob", &gl);
	assert_int_equal(n, 2);
	assert_string_equal(accord_state_group_at(st, gl[0])->name, "staff");
	assert_string_equal(accord_state_group_at(st, gl[1])->name, "dev");
	free(gl);

	/* the counters moved past the imported IDs: new entries do not collide */
	accord_state_ranges(st, NULL, NULL, &nu, &ng);
	assert_true(nu > 1502);
	assert_true(ng > 1602);
	assert_int_equal(unit_add(st, "dave", &err), 0);
	assert_true(user(st, "dave")->uid > 1502);
	free(unit_state_fingerprint(st)); /* and it publishes */
	accord_state_free(st);
}

static void test_import_crlf_and_registry_groups(void **state)
{
	static const char pw[] = "svc:x:1100:1000:Service:/srv/svc:/bin/sh\r\n"
				 "web:x:1101:1000::/srv/web:/bin/sh\r\n";
	struct accord_state *st = unit_state();
	struct accord_import_stats stats;
	struct accord_err err = { 0 };

	(void)state;
	/* no group file: primary GIDs come from the registry */
	assert_int_equal(accord_group_add(st, "services", false, 0, false, &err), 0);
	if (imp(st, pw, NULL, &stats, &err) != 0)
		fail_msg("import: %s", err.msg);
	assert_int_equal(stats.users, 2);
	assert_int_equal(stats.groups, 0);
	assert_string_equal(user(st, "svc")->shell, "/bin/sh"); /* no \r */
	assert_string_equal(user(st, "svc")->gecos, "Service");
	assert_int_equal(user(st, "web")->gid, 1000);
	accord_state_free(st);
}

static void test_import_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *pw, *gr, *msg;
	} bad[] = {
		{ "alice:x:1500:1500:A:/home/a\n", NULL, "passwd:1: expected 7 fields" },
		{ "a:x:1500:1500:A:/h:/s:extra\n", NULL, "passwd:1: expected 7 fields" },
		{ "# c\n\nalice:x:abc:1500::/home/a:/bin/sh\n", "g:x:1500:\n",
		  "passwd:3: UID 'abc' is not a number" },
		{ "alice:x:-1:1500::/home/a:/bin/sh\n", "g:x:1500:\n", "passwd:1: UID '-1'" },
		{ "alice:x:1500:x1::/home/a:/bin/sh\n", "g:x:1500:\n",
		  "passwd:1: GID 'x1' is not a number" },
		{ "Alice:x:1500:1500::/home/a:/bin/sh\n", "g:x:1500:\n",
		  "passwd:1: user name 'Alice'" },
		{ "alice:x:1500:1500::/home/a:/bin/sh\nbob:x:1501:4242::/home/b:/bin/sh\n",
		  "g:x:1500:\n", "passwd:2: primary GID 4242 of 'bob' is neither" },
		{ "alice:x:1500:1500::/home/a:/bin/sh\n", "g:x:1500:\nstaff:x:1600:alice,zed\n",
		  "group:2: member 'zed' of group 'staff' is not a user" },
		{ "alice:x:1500:1500::/home/a:/bin/sh\nalice:x:1501:1500::/home/a:/bin/sh\n",
		  "g:x:1500:\n", "passwd:2: user 'alice' already exists" },
		{ "alice:x:1500:1500::/home/a:/bin/sh\nbob:x:1500:1500::/home/b:/bin/sh\n",
		  "g:x:1500:\n", "passwd:2: uid 1500 is already held by user 'alice'" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "g:x:1500:\nstaff:x:1600:\nstaff:x:1601:\n",
		  "group:3: group 'staff' already exists" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "g:x:1500:\nh:x:1500:\n",
		  "group:2: gid 1500 is already held by group 'g'" },
		{ "daemon:x:500:1500::/:/bin/sh\n", "g:x:1500:\n",
		  "passwd:1: uid 500 is outside the registry's uid range 1000-1999" },
		{ "root:x:0:1500::/root:/bin/sh\n", "g:x:1500:\n", "passwd:1: uid 0 can never" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "users:x:100:\n",
		  "group:1: gid 100 is outside the registry's gid range" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "staff:x:1600\n",
		  "group:1: expected 4 fields" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "staff:x:abc:\n",
		  "group:1: GID 'abc' is not a number" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "Staff:x:1600:\n", "group:1: group name" },
		{ "+@netgroup::::::\n", NULL, "passwd:1: NIS compat entries" },
		{ "a:x:1500:1500::/home/a:/bin/sh\n", "g:x:1500:\n-x:x:1:\n",
		  "group:2: NIS compat" },
		{ "a:x:1500:1500:::/bin/sh\n", "g:x:1500:\n",
		  "passwd:1: 'a' has an empty home directory" },
		{ "a:x:1500:1500::/home/a:\n", "g:x:1500:\n", "passwd:1: 'a' has an empty shell" },
		{ "a:x:1500:1500::home/a:/bin/sh\n", "g:x:1500:\n",
		  "passwd:1: home directory 'home/a' must be an absolute path" },
		{ "a:x:1500:1500:A\tB:/home/a:/bin/sh\n", "g:x:1500:\n",
		  "passwd:1: GECOS may not contain" },
	};
	struct accord_import_stats stats;
	struct accord_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct accord_state *st = unit_state();
		int r = imp(st, bad[i].pw, bad[i].gr, &stats, &err);

		if (r >= 0)
			fail_msg("case %zu imported", i);
		assert_int_equal(err.code, r);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i].msg);
		accord_state_free(st);
	}
}

static void test_import_limits(void **state)
{
	static const char nul[] = "a:x:1500:1500::/home/a\0:/bin/sh\n";
	struct accord_state *st = unit_state();
	struct accord_import_stats stats;
	struct accord_err err = { 0 };
	size_t len = ACCORD_IMPORT_LINE_MAX + 2;
	char *big = malloc(len + 1);

	(void)state;
	assert_non_null(big);
	assert_true(accord_import(st, false, nul, sizeof(nul) - 1, "pw", NULL, 0, "gr", &stats,
				  NULL, NULL, &err) < 0);
	assert_contains(err.msg, "pw:1: NUL byte");
	/* an over-long line is refused, not cut */
	memcpy(big, "a:x:1500:1500:", 14);
	memset(big + 14, 'g', len - 14);
	big[len - 1] = '\n';
	big[len] = '\0';
	assert_true(accord_import(st, false, big, len, "pw", NULL, 0, "gr", &stats, NULL, NULL,
				  &err) < 0);
	assert_contains(err.msg, "pw:1: line longer than 65536 bytes");
	assert_int_equal(accord_state_user_count(st), 0);
	free(big);
	accord_state_free(st);
}

/* With shared (SHARED.IDS), a host's existing accounts keep their IDs even
 * outside the range or on top of registry IDs; forbidden IDs stay out. */
static void test_import_shared(void **state)
{
	static const char pw[] = "legacy:x:500:500::/home/legacy:/bin/sh\n"
				 "twin:x:1000:1000::/home/twin:/bin/sh\n";
	static const char gr[] = "legacy:x:500:\n";
	struct accord_state *st = unit_state();
	struct accord_import_stats stats;
	struct accord_err err = { 0 };
	uint32_t nu, ng;

	(void)state;
	assert_int_equal(unit_add(st, "alice", &err), 0); /* holds 1000/1000 */
	assert_int_equal(accord_import(st, true, pw, strlen(pw), "passwd", gr, strlen(gr),
				       "group", &stats, NULL, NULL, &err), 0);
	assert_int_equal(user(st, "legacy")->uid, 500);
	assert_true(user(st, "legacy")->flags & ACCORD_F_SHARED_ID);
	assert_int_equal(user(st, "twin")->uid, 1000);
	assert_int_equal(accord_state_group(st, "legacy")->gid, 500);
	/* the counters stay inside the range */
	accord_state_ranges(st, NULL, NULL, &nu, &ng);
	assert_true(nu >= 1001 && nu <= 1999);
	assert_true(ng >= 1001 && ng <= 1999);
	accord_state_free(st);

	st = unit_state();
	assert_true(accord_import(st, true, "root:x:0:0::/root:/bin/sh\n", 26, "passwd",
				  "root:x:0:\n", 10, "group", &stats, NULL, NULL, &err) < 0);
	assert_contains(err.msg, "group:1: gid 0 can never be assigned");
	accord_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_pair),
		cmocka_unit_test(test_import_crlf_and_registry_groups),
		cmocka_unit_test(test_import_errors_name_file_and_line),
		cmocka_unit_test(test_import_limits),
		cmocka_unit_test(test_import_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
