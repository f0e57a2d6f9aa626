/* SPDX-License-Identifier: MIT */
/*
 * How libnss_accord.so.2 follows the snapshot file: a missing file, a new
 * generation published by rename(), and files it must refuse (garbage,
 * truncated, damaged header, empty, removed, untrusted owner or mode)
 * while it keeps serving the last good generation, and picks up a good
 * one again afterwards.  Also damaged records inside a
 * snapshot whose header is fine.
 *
 *   test_nss_reload basic|bad|gone|untrusted|damaged
 *
 * The module's state is per process, so each scenario is its own run;
 * the steps inside one run depend on each other and go in order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "nss_accord.h"
#include "testutil.h"
#include "snapshot_format.h"

#define UNTRUSTED_UID 12345
#define LONG_NAME 257

static char *dir, *snap, *stage;
static struct accord_state *st1; /* generation 1: no carol */
static unsigned char *gen1, *gen2;
static size_t gen1_len, gen2_len;

static const struct fixture_opts opts1 = { .users = 3, .generation = 1 };
static const struct fixture_opts opts2 = { .users = 3, .generation = 2,
					   .extra_user = "carol" };

static int setup(void **state)
{
	struct accord_err err = { 0 };

	(void)state;
	dir = test_tmpdir();
	if (!dir)
		return -1;
	snap = test_path(dir, "snapshot");
	stage = test_path(dir, "stage");
	st1 = fixture_state(&opts1, &err);
	if (!st1 || fixture_build(&opts1, &gen1, &gen1_len, &err) < 0 ||
	    fixture_build(&opts2, &gen2, &gen2_len, &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		return -1;
	}
	setenv("ACCORD_SNAPSHOT", snap, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmtree(dir);
	free(dir);
	free(snap);
	free(stage);
	free(gen1);
	free(gen2);
	accord_state_free(st1);
	return 0;
}

static void publish(const void *buf, size_t len, mode_t mode)
{
	assert_int_equal(fixture_publish(snap, buf, len, mode), 0);
}

static enum nss_status pwnam(const char *name, int *err)
{
	static char buf[4096];
	struct passwd pw;
	enum nss_status s;

	*err = 0;
	s = _nss_accord_getpwnam_r(name, &pw, buf, sizeof(buf), err);
	if (s == NSS_STATUS_SUCCESS) {
		const struct accord_user *u = accord_state_user(st1, name);

		assert_string_equal(pw.pw_name, name);
		if (u) /* users of generation 1 keep their IDs */
			assert_int_equal(pw.pw_uid, u->uid);
	}
	return s;
}

static void expect_user(const char *name)
{
	int err;

	assert_int_equal(pwnam(name, &err), NSS_STATUS_SUCCESS);
}

static void expect_no_user(const char *name)
{
	int err;

	assert_int_equal(pwnam(name, &err), NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
}

/* Still serving generation 1, whatever was put at the path. */
static void expect_gen1_after_refresh(void)
{
	test_sleep_ms(TEST_REFRESH_WAIT_MS);
	expect_user("alice");
	expect_user("bob");
	expect_no_user("carol");
}

static void expect_gen2_after_refresh(void)
{
	test_sleep_ms(TEST_REFRESH_WAIT_MS);
	expect_user("carol");
	expect_user("alice");
}

/* ---- basic: missing file, first load, new generation --------------- */

static void expect_unavail_everywhere(void)
{
	char buf[1024];
	struct passwd pw;
	struct group gr;
	long int start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err;

	assert_non_null(groups);
	groups[0] = 1;
	assert_int_equal(pwnam("alice", &err), NSS_STATUS_UNAVAIL);
	assert_int_equal(err, ENOENT);
	/* not there is not "not found": other services must be asked */
	err = 0;
	assert_int_equal(_nss_accord_getpwuid_r(100000, &pw, buf, sizeof(buf),
						&err), NSS_STATUS_UNAVAIL);
	assert_int_equal(err, ENOENT);
	err = 0;
	assert_int_equal(_nss_accord_getgrnam_r("dev", &gr, buf, sizeof(buf),
						&err), NSS_STATUS_UNAVAIL);
	assert_int_equal(err, ENOENT);
	err = 0;
	assert_int_equal(_nss_accord_getgrgid_r(100000, &gr, buf, sizeof(buf),
						&err), NSS_STATUS_UNAVAIL);
	assert_int_equal(err, ENOENT);
	err = 0;
	assert_int_equal(_nss_accord_initgroups_dyn("alice", 1, &start, &size,
						    &groups, -1, &err),
			 NSS_STATUS_UNAVAIL);
	assert_int_equal(err, ENOENT);
	assert_int_equal(start, 1);
	assert_int_equal(_nss_accord_setpwent(0), NSS_STATUS_UNAVAIL);
	err = 0;
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_UNAVAIL);
	assert_int_equal(err, ENOENT);
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	free(groups);
}

static void test_missing_then_created(void **state)
{
	char longname[LONG_NAME + 1];
	int err;

	(void)state;
	expect_unavail_everywhere();
	/* no name that long can exist anywhere: rejected up front */
	memset(longname, 'a', LONG_NAME);
	longname[LONG_NAME] = '\0';
	assert_int_equal(pwnam(longname, &err), NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
	publish(gen1, gen1_len, 0644);
	/* a failed load is retried at most once a second */
	expect_unavail_everywhere();
	test_sleep_ms(TEST_REFRESH_WAIT_MS);
	expect_user("alice");
	expect_no_user("carol");
}

static void test_new_generation(void **state)
{
	(void)state;
	publish(gen2, gen2_len, 0644);
	/* at most one stat() a second: not noticed yet */
	expect_no_user("carol");
	expect_gen2_after_refresh();
}

/* ---- bad: files that must not replace the good one ----------------- */

static void test_first_load(void **state)
{
	(void)state;
	publish(gen1, gen1_len, 0644);
	expect_user("alice");
	expect_no_user("carol");
}

static void test_garbage(void **state)
{
	unsigned char junk[8192];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131u + 7u);
	publish(junk, sizeof(junk), 0644);
	expect_gen1_after_refresh();
}

static void test_truncated(void **state)
{
	(void)state;
	publish(gen2, gen2_len / 2, 0644);
	expect_gen1_after_refresh();
}

static void test_header_flipped(void **state)
{
	unsigned char *copy = malloc(gen2_len);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, gen2, gen2_len);
	copy[81] ^= 0x01; /* user_count: only the header checksum sees it */
	publish(copy, gen2_len, 0644);
	free(copy);
	expect_gen1_after_refresh();
}

static void test_empty(void **state)
{
	(void)state;
	publish("", 0, 0644);
	expect_gen1_after_refresh();
}

static void test_removed(void **state)
{
	int err;

	(void)state;
	assert_int_equal(unlink(snap), 0);
	test_sleep_ms(TEST_REFRESH_WAIT_MS);
	/* this lookup's stat() fails with ENOENT, the answer is still a
	 * success: errno must be the caller's */
	errno = 4242;
	assert_int_equal(pwnam("alice", &err), NSS_STATUS_SUCCESS);
	assert_int_equal(errno, 4242);
	expect_user("bob");
	expect_no_user("carol");
}

/* After all that, a good file is still picked up. */
static void test_recovers(void **state)
{
	(void)state;
	publish(gen2, gen2_len, 0644);
	expect_gen2_after_refresh();
}

/* ---- untrusted: owner and mode ------------------------------------ */

static void test_foreign_owner(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	assert_int_equal(fixture_publish(stage, gen2, gen2_len, 0644), 0);
	assert_int_equal(chown(stage, UNTRUSTED_UID, UNTRUSTED_UID), 0);
	assert_int_equal(rename(stage, snap), 0);
	expect_gen1_after_refresh();
}

static void test_world_writable(void **state)
{
	(void)state;
	publish(gen2, gen2_len, 0666);
	expect_gen1_after_refresh();
}

static void test_fixed_mode(void **state)
{
	(void)state;
	/* chmod changes ctime: the same inode is looked at again */
	assert_int_equal(chmod(snap, 0644), 0);
	expect_gen2_after_refresh();
}

/* ---- damaged: good header, bad records ---------------------------- */

/* Make a record's name run past its section: the reader's bounds check
 * fails for that record only. */
static void damage_record(unsigned char *buf, size_t len, const char *user,
			  const char *group)
{
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_group g;

	assert_int_equal(accord_snapshot_open_mem(&s, buf, len, NULL), 0);
	assert_int_equal(accord_snap_user_by_name(&s, user, &u), 0);
	assert_int_equal(accord_snap_group_by_name(&s, group, &g), 0);
	snap_put16(buf + s.users.off + u.off + 32, 0xffff);
	snap_put16(buf + s.groups.off + g.off + 32, 0xffff);
	assert_int_equal(accord_snapshot_open_mem(&s, buf, len, NULL), 0);
}

static void test_damaged_records(void **state)
{
	static char buf[4096];
	unsigned char *copy = malloc(gen1_len);
	const struct accord_user *alice = accord_state_user(st1, "alice");
	struct passwd pw;
	struct group gr;
	long int start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	enum nss_status s;
	int err = 0, ok = 0;

	(void)state;
	assert_non_null(copy);
	assert_non_null(groups);
	groups[0] = alice->gid;
	memcpy(copy, gen1, gen1_len);
	damage_record(copy, gen1_len, "alice", "ops");
	publish(copy, gen1_len, 0644);
	free(copy);

	/* damaged is "cannot answer", never "does not exist" */
	assert_int_equal(pwnam("alice", &err), NSS_STATUS_UNAVAIL);
	assert_int_equal(err, EBADMSG);
	err = 0;
	assert_int_equal(_nss_accord_getpwuid_r(alice->uid, &pw, buf,
						sizeof(buf), &err),
			 NSS_STATUS_UNAVAIL);
	assert_int_equal(err, EBADMSG);
	err = 0;
	assert_int_equal(_nss_accord_initgroups_dyn("alice", alice->gid, &start,
						    &size, &groups, -1, &err),
			 NSS_STATUS_UNAVAIL);
	assert_int_equal(err, EBADMSG);
	err = 0;
	assert_int_equal(_nss_accord_getgrnam_r("ops", &gr, buf, sizeof(buf),
						&err), NSS_STATUS_UNAVAIL);
	assert_int_equal(err, EBADMSG);
	/* the rest is served */
	expect_user("bob");
	assert_int_equal(_nss_accord_getgrnam_r("dev", &gr, buf, sizeof(buf),
						&err), NSS_STATUS_SUCCESS);

	/* enumeration stops at the damaged record, then reports the end */
	assert_int_equal(_nss_accord_setpwent(0), NSS_STATUS_SUCCESS);
	while ((s = _nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err)) ==
	       NSS_STATUS_SUCCESS)
		ok++;
	assert_int_equal(s, NSS_STATUS_UNAVAIL);
	assert_int_equal(err, EBADMSG);
	assert_true(ok < (int)accord_state_user_count(st1));
	err = 4242; /* the pass is over: end of data, errno cleared */
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0);
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	free(groups);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest basic[] = {
		cmocka_unit_test(test_missing_then_created),
		cmocka_unit_test(test_new_generation),
	};
	const struct CMUnitTest bad[] = {
		cmocka_unit_test(test_first_load),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_header_flipped),
	};
	const struct CMUnitTest gone[] = {
		cmocka_unit_test(test_first_load),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_recovers),
	};
	const struct CMUnitTest untrusted[] = {
		cmocka_unit_test(test_first_load),
		cmocka_unit_test(test_foreign_owner),
		cmocka_unit_test(test_world_writable),
		cmocka_unit_test(test_fixed_mode),
	};
	const struct CMUnitTest damaged[] = {
		cmocka_unit_test(test_damaged_records),
	};
	const char *which = argc > 1 ? argv[1] : "";

	if (strcmp(which, "basic") == 0)
		return cmocka_run_group_tests_name("nss_reload_basic", basic,
						   setup, teardown);
	if (strcmp(which, "bad") == 0)
		return cmocka_run_group_tests_name("nss_reload_bad", bad, setup,
						   teardown);
	if (strcmp(which, "gone") == 0)
		return cmocka_run_group_tests_name("nss_reload_gone", gone,
						   setup, teardown);
	if (strcmp(which, "untrusted") == 0)
		return cmocka_run_group_tests_name("nss_reload_untrusted",
						   untrusted, setup, teardown);
	if (strcmp(which, "damaged") == 0)
		return cmocka_run_group_tests_name("nss_reload_damaged",
						   damaged, setup, teardown);
	fprintf(stderr, "usage: %s basic|bad|gone|untrusted|damaged\n",
		argv[0]);
	return 2;
}
