/* SPDX-License-Identifier: MIT */
/*
 * The glibc NSS contract of libnss_accord.so.2, called directly (no glibc
 * dispatch, no nss_wrapper): results, ERANGE at every buffer size,
 * gr_mem alignment, initgroups_dyn growth and limits, errno, enumeration.
 *
 * The expected values come from the state the snapshot was built from,
 * not from the snapshot reader the module itself uses.
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

#include <cmocka.h>

#include "fixture.h"
#include "nss_accord.h"
#include "testutil.h"

#define BIG_MEMBERS 300
#define BIGBUF 65536

static struct accord_state *st;
static char *dir, *snap;
static const struct fixture_opts opts = {
	.users = 20, .big_group = BIG_MEMBERS, .extra_user = "carol",
};

static int setup(void **state)
{
	struct accord_err err = { 0 };

	(void)state;
	dir = test_tmpdir();
	if (!dir)
		return -1;
	snap = test_path(dir, "snapshot");
	if (fixture_write(snap, &opts, &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		return -1;
	}
	st = fixture_state(&opts, &err);
	if (!st)
		return -1;
	/* before the first call: the module reads it once per process */
	setenv("ACCORD_SNAPSHOT", snap, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmtree(dir);
	free(snap);
	free(dir);
	accord_state_free(st);
	return 0;
}

/* ---- expectations from the state ---------------------------------- */

static const struct accord_user *user(const char *name)
{
	const struct accord_user *u = accord_state_user(st, name);

	assert_non_null(u);
	return u;
}

static const struct accord_group *group(const char *name)
{
	const struct accord_group *g = accord_state_group(st, name);

	assert_non_null(g);
	return g;
}

static size_t pw_needed(const char *name)
{
	const struct accord_user *u = user(name);

	return strlen(u->name) + 1 + 2 + strlen(u->gecos) + 1 +
	       strlen(u->home) + 1 + strlen(u->shell) + 1;
}

/* For a pointer-aligned buffer. */
static size_t gr_needed(const char *name)
{
	const struct accord_group *g = group(name);
	size_t n = (g->nmembers + 1) * sizeof(char *) + strlen(g->name) + 1 + 2;
	uint32_t i;

	for (i = 0; i < g->nmembers; i++)
		n += strlen(accord_state_user_at(st, g->members[i])->name) + 1;
	return n;
}

static void assert_in_buf(const void *p, const char *buf, size_t len)
{
	assert_true((const char *)p >= buf && (const char *)p < buf + len);
}

static void expect_user(const struct passwd *pw, const char *name,
			const char *buf, size_t len)
{
	const struct accord_user *u = user(name);

	assert_string_equal(pw->pw_name, u->name);
	assert_string_equal(pw->pw_passwd, "x");
	assert_int_equal(pw->pw_uid, u->uid);
	assert_int_equal(pw->pw_gid, u->gid);
	assert_string_equal(pw->pw_gecos, u->gecos);
	assert_string_equal(pw->pw_dir, u->home);
	assert_string_equal(pw->pw_shell, u->shell);
	/* copies, never pointers into the mapping */
	assert_in_buf(pw->pw_name, buf, len);
	assert_in_buf(pw->pw_passwd, buf, len);
	assert_in_buf(pw->pw_gecos, buf, len);
	assert_in_buf(pw->pw_dir, buf, len);
	assert_in_buf(pw->pw_shell, buf, len);
}

static void expect_group(const struct group *gr, const char *name,
			 const char *buf, size_t len)
{
	const struct accord_group *g = group(name);
	uint32_t i, n = 0;

	assert_string_equal(gr->gr_name, g->name);
	assert_string_equal(gr->gr_passwd, "x");
	assert_int_equal(gr->gr_gid, g->gid);
	assert_in_buf(gr->gr_name, buf, len);
	assert_in_buf(gr->gr_passwd, buf, len);
	assert_in_buf(gr->gr_mem, buf, len);
	assert_int_equal((uintptr_t)gr->gr_mem % sizeof(char *), 0);
	while (gr->gr_mem[n]) {
		assert_in_buf(gr->gr_mem[n], buf, len);
		n++;
	}
	assert_int_equal(n, g->nmembers);
	/* the same names, each once, in any order */
	for (i = 0; i < g->nmembers; i++) {
		const char *m = accord_state_user_at(st, g->members[i])->name;
		uint32_t k, hits = 0;

		for (k = 0; k < n; k++)
			hits += strcmp(gr->gr_mem[k], m) == 0;
		assert_int_equal(hits, 1);
	}
}

/* ---- keyed lookups ------------------------------------------------ */

static void test_pw_found(void **state)
{
	static char buf[BIGBUF];
	struct passwd pw;
	int err = 777;

	(void)state;
	assert_int_equal(_nss_accord_getpwnam_r("alice", &pw, buf, sizeof(buf),
						&err), NSS_STATUS_SUCCESS);
	assert_int_equal(err, 777); /* errnop untouched on success */
	expect_user(&pw, "alice", buf, sizeof(buf));
	assert_string_equal(pw.pw_gecos, "Alice Example");

	assert_int_equal(_nss_accord_getpwuid_r(user("bob")->uid, &pw, buf,
						sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	expect_user(&pw, "bob", buf, sizeof(buf));
	assert_int_equal(_nss_accord_getpwnam_r("b0000300", &pw, buf,
						sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	expect_user(&pw, "b0000300", buf, sizeof(buf));
}

static void expect_pw_notfound_name(const char *name)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	assert_int_equal(_nss_accord_getpwnam_r(name, &pw, buf, sizeof(buf),
						&err), NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
}

static void test_pw_notfound(void **state)
{
	char buf[1024], longname[301];
	struct passwd pw;
	int err = 0;

	(void)state;
	expect_pw_notfound_name("nosuchuser");
	expect_pw_notfound_name("");
	/* names are compared exactly: no case folding, no prefixes */
	expect_pw_notfound_name("Alice");
	expect_pw_notfound_name("ALICE");
	expect_pw_notfound_name("alic");
	expect_pw_notfound_name("alice ");
	memset(longname, 'a', 256);
	longname[256] = '\0';
	expect_pw_notfound_name(longname);
	memset(longname, 'a', 300);
	longname[300] = '\0';
	expect_pw_notfound_name(longname);

	assert_int_equal(_nss_accord_getpwuid_r(0, &pw, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
	err = 0;
	assert_int_equal(_nss_accord_getpwuid_r(99999999, &pw, buf, sizeof(buf),
						&err), NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
}

static void test_gr_found(void **state)
{
	static char buf[BIGBUF];
	struct group gr;
	int err = 777;

	(void)state;
	assert_int_equal(_nss_accord_getgrnam_r("dev", &gr, buf, sizeof(buf),
						&err), NSS_STATUS_SUCCESS);
	assert_int_equal(err, 777);
	expect_group(&gr, "dev", buf, sizeof(buf));
	assert_int_equal(_nss_accord_getgrnam_r("ops", &gr, buf, sizeof(buf),
						&err), NSS_STATUS_SUCCESS);
	expect_group(&gr, "ops", buf, sizeof(buf));
	assert_string_equal(gr.gr_mem[0], "alice");
	assert_null(gr.gr_mem[1]);
	assert_int_equal(_nss_accord_getgrgid_r(group("big")->gid, &gr, buf,
						sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	expect_group(&gr, "big", buf, sizeof(buf));
	/* a personal group has no members */
	assert_int_equal(_nss_accord_getgrnam_r("carol", &gr, buf, sizeof(buf),
						&err), NSS_STATUS_SUCCESS);
	expect_group(&gr, "carol", buf, sizeof(buf));
	assert_null(gr.gr_mem[0]);
}

static void test_gr_notfound(void **state)
{
	const char *names[] = { "nosuchgroup", "Dev", "DEV", "de", "dev ", "" };
	char buf[1024];
	struct group gr;
	size_t i;
	int err;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err = 0;
		assert_int_equal(_nss_accord_getgrnam_r(names[i], &gr, buf,
							sizeof(buf), &err),
				 NSS_STATUS_NOTFOUND);
		assert_int_equal(err, ENOENT);
	}
	err = 0;
	assert_int_equal(_nss_accord_getgrgid_r(0, &gr, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
	err = 0;
	assert_int_equal(_nss_accord_getgrgid_r(99999999, &gr, buf, sizeof(buf),
						&err), NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
}

/* ---- ERANGE at every size ----------------------------------------- */

union ent {
	struct passwd pw;
	struct group gr;
};

struct call {
	const char *what;
	enum nss_status (*fn)(const struct call *c, union ent *e, char *buf,
			      size_t len, int *err);
	const char *name;
	uint32_t id;
};

static enum nss_status call_pwnam(const struct call *c, union ent *e,
				  char *buf, size_t len, int *err)
{
	return _nss_accord_getpwnam_r(c->name, &e->pw, buf, len, err);
}

static enum nss_status call_pwuid(const struct call *c, union ent *e,
				  char *buf, size_t len, int *err)
{
	return _nss_accord_getpwuid_r(c->id, &e->pw, buf, len, err);
}

static enum nss_status call_grnam(const struct call *c, union ent *e,
				  char *buf, size_t len, int *err)
{
	return _nss_accord_getgrnam_r(c->name, &e->gr, buf, len, err);
}

static enum nss_status call_grgid(const struct call *c, union ent *e,
				  char *buf, size_t len, int *err)
{
	return _nss_accord_getgrgid_r(c->id, &e->gr, buf, len, err);
}

static enum nss_status call_pwent(const struct call *c, union ent *e,
				  char *buf, size_t len, int *err)
{
	(void)c;
	return _nss_accord_getpwent_r(&e->pw, buf, len, err);
}

static enum nss_status call_grent(const struct call *c, union ent *e,
				  char *buf, size_t len, int *err)
{
	(void)c;
	return _nss_accord_getgrent_r(&e->gr, buf, len, err);
}

/*
 * Every size below `needed` must give TRYAGAIN/ERANGE and leave both the
 * buffer and the result untouched; the buffer is exactly that size on the
 * heap, so ASan/valgrind see any write past it.  `needed` itself works.
 */
static void check_every_size(const struct call *c, size_t needed)
{
	union ent e, canary;
	size_t n, i;
	char *buf;
	int err;

	memset(&canary, 0xa5, sizeof(canary));
	for (n = 0; n < needed; n++) {
		buf = malloc(n ? n : 1);
		assert_non_null(buf);
		memset(buf, 0x5a, n);
		e = canary;
		err = 0;
		if (c->fn(c, &e, buf, n, &err) != NSS_STATUS_TRYAGAIN ||
		    err != ERANGE)
			fail_msg("%s: size %zu of %zu: not TRYAGAIN/ERANGE",
				 c->what, n, needed);
		for (i = 0; i < n; i++)
			if (buf[i] != 0x5a)
				fail_msg("%s: size %zu: byte %zu written",
					 c->what, n, i);
		assert_memory_equal(&e, &canary, sizeof(e));
		free(buf);
	}
	buf = malloc(needed);
	assert_non_null(buf);
	err = 0;
	assert_int_equal(c->fn(c, &e, buf, needed, &err), NSS_STATUS_SUCCESS);
	free(buf);
}

static void test_erange_keyed(void **state)
{
	const struct call calls[] = {
		{ "getpwnam_r alice", call_pwnam, "alice", 0 },
		{ "getpwuid_r bob", call_pwuid, NULL, user("bob")->uid },
		{ "getgrnam_r dev", call_grnam, "dev", 0 },
		{ "getgrnam_r carol", call_grnam, "carol", 0 },
		{ "getgrgid_r ops", call_grgid, NULL, group("ops")->gid },
		{ "getgrgid_r big", call_grgid, NULL, group("big")->gid },
	};
	const size_t needed[] = {
		pw_needed("alice"), pw_needed("bob"), gr_needed("dev"),
		gr_needed("carol"), gr_needed("ops"), gr_needed("big"),
	};
	size_t i;

	(void)state;
	assert_true(gr_needed("big") > BIG_MEMBERS * (sizeof(char *) + 9));
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		check_every_size(&calls[i], needed[i]);
}

/* Names of one full pass, in the module's order, with a big buffer. */
static size_t pw_pass(char ***names)
{
	static char buf[BIGBUF];
	struct passwd pw;
	size_t n = 0;
	int err = 4242; /* must be cleared at the end */
	enum nss_status s;

	*names = NULL;
	assert_int_equal(_nss_accord_setpwent(0), NSS_STATUS_SUCCESS);
	while ((s = _nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err)) ==
	       NSS_STATUS_SUCCESS) {
		*names = realloc(*names, (n + 1) * sizeof(char *));
		assert_non_null(*names);
		(*names)[n++] = strdup(pw.pw_name);
	}
	assert_int_equal(s, NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0); /* end of data: errno stays 0 for getpwent() */
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	return n;
}

static size_t gr_pass(char ***names)
{
	static char buf[BIGBUF];
	struct group gr;
	size_t n = 0;
	int err = 4242; /* must be cleared at the end */
	enum nss_status s;

	*names = NULL;
	assert_int_equal(_nss_accord_setgrent(0), NSS_STATUS_SUCCESS);
	while ((s = _nss_accord_getgrent_r(&gr, buf, sizeof(buf), &err)) ==
	       NSS_STATUS_SUCCESS) {
		*names = realloc(*names, (n + 1) * sizeof(char *));
		assert_non_null(*names);
		(*names)[n++] = strdup(gr.gr_name);
	}
	assert_int_equal(s, NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0); /* end of data: errno stays 0 for getpwent() */
	assert_int_equal(_nss_accord_endgrent(), NSS_STATUS_SUCCESS);
	return n;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * ERANGE must not move the cursor: at every position a too-small buffer
 * fails and the next call with a big one returns the entry the reference
 * pass had there.  The first entry is tried at every size.
 */
static void test_erange_pwent(void **state)
{
	static char buf[BIGBUF];
	const struct call c = { "getpwent_r", call_pwent, NULL, 0 };
	struct passwd pw;
	char **ref, small[8];
	size_t n, i;
	int err;

	(void)state;
	n = pw_pass(&ref);
	assert_true(n > 2);
	assert_int_equal(_nss_accord_setpwent(0), NSS_STATUS_SUCCESS);
	check_every_size(&c, pw_needed(ref[0])); /* consumes ref[0] */
	for (i = 1; i < n; i++) {
		err = 0;
		assert_int_equal(_nss_accord_getpwent_r(&pw, small,
							sizeof(small), &err),
				 NSS_STATUS_TRYAGAIN);
		assert_int_equal(err, ERANGE);
		assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf),
							&err),
				 NSS_STATUS_SUCCESS);
		assert_string_equal(pw.pw_name, ref[i]);
	}
	err = 4242; /* must be cleared */
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0); /* end of data: errno stays 0 for getpwent() */
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	free_names(ref, n);
}

static void test_erange_grent(void **state)
{
	static char buf[BIGBUF];
	const struct call c = { "getgrent_r", call_grent, NULL, 0 };
	struct group gr;
	char **ref, small[8];
	size_t n, i;
	int err;
	bool big_seen = false;

	(void)state;
	n = gr_pass(&ref);
	assert_true(n > 2);
	assert_int_equal(_nss_accord_setgrent(0), NSS_STATUS_SUCCESS);
	check_every_size(&c, gr_needed(ref[0]));
	for (i = 1; i < n; i++) {
		if (strcmp(ref[i], "big") == 0) {
			/* the large entry at every size too */
			check_every_size(&c, gr_needed("big"));
			big_seen = true;
			continue;
		}
		err = 0;
		assert_int_equal(_nss_accord_getgrent_r(&gr, small,
							sizeof(small), &err),
				 NSS_STATUS_TRYAGAIN);
		assert_int_equal(err, ERANGE);
		assert_int_equal(_nss_accord_getgrent_r(&gr, buf, sizeof(buf),
							&err),
				 NSS_STATUS_SUCCESS);
		assert_string_equal(gr.gr_name, ref[i]);
	}
	assert_true(big_seen);
	err = 4242; /* must be cleared */
	assert_int_equal(_nss_accord_getgrent_r(&gr, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0); /* end of data: errno stays 0 for getpwent() */
	assert_int_equal(_nss_accord_endgrent(), NSS_STATUS_SUCCESS);
	free_names(ref, n);
}

/* gr_mem is pointer-aligned at every start offset, and the padding it
 * costs is counted: exactly needed + pad bytes work, one less does not. */
static void test_gr_mem_alignment(void **state)
{
	const char *names[] = { "dev", "big", "carol" };
	size_t off, i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (off = 0; off < sizeof(char *); off++) {
			size_t pad = (sizeof(char *) - off) % sizeof(char *);
			size_t len = gr_needed(names[i]) + pad;
			char *mem = malloc(off + len);
			struct group gr;
			int err = 0;

			assert_non_null(mem);
			assert_int_equal((uintptr_t)mem % sizeof(char *), 0);
			assert_int_equal(_nss_accord_getgrnam_r(names[i], &gr,
								mem + off,
								len - 1, &err),
					 NSS_STATUS_TRYAGAIN);
			assert_int_equal(err, ERANGE);
			assert_int_equal(_nss_accord_getgrnam_r(names[i], &gr,
								mem + off, len,
								&err),
					 NSS_STATUS_SUCCESS);
			expect_group(&gr, names[i], mem + off, len);
			free(mem);
		}
	}
}

/* ---- initgroups_dyn ----------------------------------------------- */

static void test_initgroups_grows(void **state)
{
	const struct accord_user *a = user("alice");
	long int start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	gid_t dev = group("dev")->gid, ops = group("ops")->gid;
	int err = 0;

	(void)state;
	assert_non_null(groups);
	groups[0] = a->gid; /* glibc puts the primary GID first */
	assert_int_equal(_nss_accord_initgroups_dyn("alice", a->gid, &start,
						    &size, &groups, -1, &err),
			 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 3);
	assert_true(size >= 3);
	assert_int_equal(groups[0], a->gid);
	assert_int_equal(groups[1], dev < ops ? dev : ops);
	assert_int_equal(groups[2], dev < ops ? ops : dev);
	free(groups);

	/* from an empty array, as a caller with size 0 might pass */
	groups = NULL;
	start = size = 0;
	assert_int_equal(_nss_accord_initgroups_dyn("b0000001", 0, &start,
						    &size, &groups, 0, &err),
			 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 1);
	assert_int_equal(groups[0], group("big")->gid);
	free(groups);
}

static void test_initgroups_limit(void **state)
{
	const struct accord_user *a = user("alice");
	gid_t dev = group("dev")->gid, ops = group("ops")->gid;
	long int start, size, limit;
	gid_t *groups;
	int err = 0;

	(void)state;
	for (limit = 1; limit <= 4; limit++) {
		groups = malloc(sizeof(gid_t));
		assert_non_null(groups);
		groups[0] = a->gid;
		start = size = 1;
		assert_int_equal(_nss_accord_initgroups_dyn("alice", a->gid,
							    &start, &size,
							    &groups, limit,
							    &err),
				 NSS_STATUS_SUCCESS);
		assert_int_equal(start, limit < 3 ? limit : 3);
		assert_true(size <= (limit > 1 ? limit : 1));
		if (limit == 2)
			assert_int_equal(groups[1], dev < ops ? dev : ops);
		free(groups);
	}
}

static void test_initgroups_skip_and_dedup(void **state)
{
	const struct accord_user *a = user("alice");
	gid_t dev = group("dev")->gid, ops = group("ops")->gid;
	long int start, size;
	gid_t *groups;
	int err = 0;

	(void)state;
	/* the primary GID passed in is skipped even if it is a member GID */
	groups = malloc(4 * sizeof(gid_t));
	assert_non_null(groups);
	groups[0] = dev;
	start = 1;
	size = 4;
	assert_int_equal(_nss_accord_initgroups_dyn("alice", dev, &start, &size,
						    &groups, -1, &err),
			 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 2);
	assert_int_equal(size, 4); /* room was there: no realloc */
	assert_int_equal(groups[1], ops);

	/* ... also when the caller did not list it (start 0) */
	start = 0;
	assert_int_equal(_nss_accord_initgroups_dyn("alice", ops, &start, &size,
						    &groups, -1, &err),
			 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 1);
	assert_int_equal(groups[0], dev);

	/* GIDs another service already listed are not added twice */
	groups[0] = a->gid;
	groups[1] = ops;
	start = 2;
	assert_int_equal(_nss_accord_initgroups_dyn("alice", a->gid, &start,
						    &size, &groups, -1, &err),
			 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 3);
	assert_int_equal(groups[2], dev);
	free(groups);
}

static void test_initgroups_notfound(void **state)
{
	long int start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err = 0;

	(void)state;
	assert_non_null(groups);
	groups[0] = 5;
	assert_int_equal(_nss_accord_initgroups_dyn("nosuchuser", 5, &start,
						    &size, &groups, -1, &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
	err = 0;
	assert_int_equal(_nss_accord_initgroups_dyn("Alice", 5, &start, &size,
						    &groups, -1, &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
	assert_int_equal(start, 1);
	assert_int_equal(size, 1);
	/* a user in no supplementary group exists: SUCCESS, nothing added */
	assert_int_equal(_nss_accord_initgroups_dyn("carol", 5, &start, &size,
						    &groups, -1, &err),
			 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 1);
	free(groups);
}

/* ---- errno -------------------------------------------------------- */

#define ERRNO_MARK 4242

static void test_errno_preserved(void **state)
{
	static char buf[BIGBUF];
	struct passwd pw;
	struct group gr;
	long int start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err = 0;

	(void)state;
	assert_non_null(groups);
	groups[0] = 1;
#define EXPECT_KEEPS_ERRNO(call)                                            \
	do {                                                                \
		enum nss_status s_;                                         \
		errno = ERRNO_MARK;                                         \
		s_ = (call);                                                \
		assert_int_equal(errno, ERRNO_MARK);                        \
		assert_int_equal(s_, NSS_STATUS_SUCCESS);                   \
	} while (0)
	EXPECT_KEEPS_ERRNO(_nss_accord_getpwnam_r("alice", &pw, buf,
						  sizeof(buf), &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_getpwuid_r(user("bob")->uid, &pw, buf,
						  sizeof(buf), &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_getgrnam_r("dev", &gr, buf, sizeof(buf),
						  &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_getgrgid_r(group("ops")->gid, &gr, buf,
						  sizeof(buf), &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_initgroups_dyn("alice", 1, &start, &size,
						      &groups, -1, &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_setpwent(0));
	EXPECT_KEEPS_ERRNO(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_endpwent());
	EXPECT_KEEPS_ERRNO(_nss_accord_setgrent(0));
	EXPECT_KEEPS_ERRNO(_nss_accord_getgrent_r(&gr, buf, sizeof(buf), &err));
	EXPECT_KEEPS_ERRNO(_nss_accord_endgrent());
#undef EXPECT_KEEPS_ERRNO
	free(groups);

	/* glibc passes errnop == &errno: the code must land there */
	errno = ERRNO_MARK;
	assert_int_equal(_nss_accord_getpwnam_r("nosuchuser", &pw, buf,
						sizeof(buf), &errno),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(errno, ENOENT);
	errno = ERRNO_MARK;
	assert_int_equal(_nss_accord_getpwnam_r("alice", &pw, buf, 3, &errno),
			 NSS_STATUS_TRYAGAIN);
	assert_int_equal(errno, ERANGE);
}

/* ---- enumeration -------------------------------------------------- */

static void test_pwent_all_once(void **state)
{
	static char buf[BIGBUF];
	size_t slots = accord_state_user_slots(st), i, k, n = 0;
	bool *seen = calloc(slots, sizeof(bool));
	struct passwd pw;
	enum nss_status s;
	int err = 4242; /* cleared at the end of data */

	(void)state;
	assert_non_null(seen);
	assert_int_equal(_nss_accord_setpwent(0), NSS_STATUS_SUCCESS);
	while ((s = _nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err)) ==
	       NSS_STATUS_SUCCESS) {
		for (k = 0; k < slots; k++)
			if (strcmp(accord_state_user_at(st, k)->name,
				   pw.pw_name) == 0)
				break;
		assert_true(k < slots);
		assert_false(seen[k]);
		seen[k] = true;
		expect_user(&pw, pw.pw_name, buf, sizeof(buf));
		n++;
	}
	assert_int_equal(s, NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0); /* end of data leaves errno 0 */
	assert_int_equal(n, accord_state_user_count(st));
	for (i = 0; i < slots; i++)
		assert_true(seen[i] || !accord_state_user_at(st, i)->live);
	/* stays at the end until set/end */
	err = 4242;
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0);
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	free(seen);
}

static void test_grent_all_once(void **state)
{
	static char buf[BIGBUF];
	size_t slots = accord_state_group_slots(st), k, n = 0;
	bool *seen = calloc(slots, sizeof(bool));
	struct group gr;
	enum nss_status s;
	int err = 4242; /* cleared at the end of data */

	(void)state;
	assert_non_null(seen);
	assert_int_equal(_nss_accord_setgrent(0), NSS_STATUS_SUCCESS);
	while ((s = _nss_accord_getgrent_r(&gr, buf, sizeof(buf), &err)) ==
	       NSS_STATUS_SUCCESS) {
		for (k = 0; k < slots; k++)
			if (strcmp(accord_state_group_at(st, k)->name,
				   gr.gr_name) == 0)
				break;
		assert_true(k < slots);
		assert_false(seen[k]);
		seen[k] = true;
		expect_group(&gr, gr.gr_name, buf, sizeof(buf));
		n++;
	}
	assert_int_equal(s, NSS_STATUS_NOTFOUND);
	assert_int_equal(err, 0); /* end of data leaves errno 0 */
	assert_int_equal(n, accord_state_group_count(st));
	assert_int_equal(_nss_accord_endgrent(), NSS_STATUS_SUCCESS);
	free(seen);
}

/* get*ent_r without set*ent starts a pass; set*ent restarts one. */
static void test_ent_implicit_and_restart(void **state)
{
	static char buf[BIGBUF];
	struct passwd pw;
	struct group gr;
	char **ref, **gref;
	size_t n, gn;
	int err = 0;

	(void)state;
	n = pw_pass(&ref);
	gn = gr_pass(&gref);
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, ref[0]);
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, ref[1]);
	assert_int_equal(_nss_accord_setpwent(1), NSS_STATUS_SUCCESS);
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, ref[0]);
	/* the two cursors are independent */
	assert_int_equal(_nss_accord_getgrent_r(&gr, buf, sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_name, gref[0]);
	assert_int_equal(_nss_accord_getpwent_r(&pw, buf, sizeof(buf), &err),
			 NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, ref[1]);
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	assert_int_equal(_nss_accord_endgrent(), NSS_STATUS_SUCCESS);
	/* end*ent twice is harmless */
	assert_int_equal(_nss_accord_endpwent(), NSS_STATUS_SUCCESS);
	free_names(ref, n);
	free_names(gref, gn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pw_found),
		cmocka_unit_test(test_pw_notfound),
		cmocka_unit_test(test_gr_found),
		cmocka_unit_test(test_gr_notfound),
		cmocka_unit_test(test_erange_keyed),
		cmocka_unit_test(test_erange_pwent),
		cmocka_unit_test(test_erange_grent),
		cmocka_unit_test(test_gr_mem_alignment),
		cmocka_unit_test(test_initgroups_grows),
		cmocka_unit_test(test_initgroups_limit),
		cmocka_unit_test(test_initgroups_skip_and_dedup),
		cmocka_unit_test(test_initgroups_notfound),
		cmocka_unit_test(test_errno_preserved),
		cmocka_unit_test(test_pwent_all_once),
		cmocka_unit_test(test_grent_all_once),
		cmocka_unit_test(test_ent_implicit_and_restart),
	};

	return cmocka_run_group_tests_name("nss_direct", tests, setup,
					   teardown);
}
