/* SPDX-License-Identifier: MIT */
/*
 * The registry the NSS tests run against, built with the state API so
 * that IDs are allocated the way the real writer allocates them:
 *
 *   groups dev, ops;
 *   alice (groups dev,ops, GECOS "Alice Example"), bob (group dev),
 *   optionally one extra user in no group (--user NAME),
 *   N users u0000001.. in dev (--users N; another first letter with
 *   user_prefix, so that generations can differ in every synthetic name),
 *   a group "big" with M members b0000001.. (--big-group M).
 *
 * The same options always give the same IDs for alice, bob, dev and ops,
 * so every generation the tests publish agrees on them.
 *
 * Header-only so that tests/tools/mksnap.c builds from its one source
 * file (tests/meson.build links it with libaccord only).
 */
#ifndef ACCORD_TEST_FIXTURE_H
#define ACCORD_TEST_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <accord/state.h>

#define FIXTURE_TIME 1700000000
#define FIXTURE_HOME_BASE "/home"
#define FIXTURE_SHELL "/bin/sh"

struct fixture_opts {
	unsigned users;         /* u0000001.. in group dev */
	unsigned big_group;     /* members of "big", b0000001.. */
	const char *extra_user; /* NULL: none */
	uint64_t generation;    /* 0 means 1 */
	char user_prefix;       /* first letter of the N users; 0 means 'u' */
};

static inline int fixture_add_user(struct accord_state *fst,
				   const char *name, const char *groups,
				   const char *gecos, struct accord_err *err)
{
	static const struct accord_defaults def = {
		.home_base = FIXTURE_HOME_BASE,
		.shell = FIXTURE_SHELL,
	};
	struct accord_user_spec spec = {
		.name = name,
		.groups = groups,
		.gecos = gecos,
	};

	return accord_user_add(fst, &spec, &def, err);
}

/* NULL on failure, with a message in err. */
static inline struct accord_state *
fixture_state(const struct fixture_opts *o, struct accord_err *err)
{
	static const struct accord_range ids = { 100000, 999999 };
	struct accord_state *fst = accord_state_new(&ids, &ids);
	char name[16];
	unsigned i;
	int r;

	if (!fst) {
		accord_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	accord_state_set_actor(fst, FIXTURE_TIME, "test");
	r = accord_group_add(fst, "dev", false, 0, false, err);
	if (r == 0)
		r = accord_group_add(fst, "ops", false, 0, false, err);
	if (r == 0)
		r = fixture_add_user(fst, "alice", "dev,ops", "Alice Example",
				     err);
	if (r == 0)
		r = fixture_add_user(fst, "bob", "dev", "Bob Example", err);
	if (r == 0 && o->extra_user)
		r = fixture_add_user(fst, o->extra_user, "", "Extra User", err);
	for (i = 1; r == 0 && i <= o->users; i++) {
		snprintf(name, sizeof(name), "%c%07u",
			 o->user_prefix ? o->user_prefix : 'u', i);
		r = fixture_add_user(fst, name, "dev", "", err);
	}
	if (r == 0 && o->big_group)
		r = accord_group_add(fst, "big", false, 0, false, err);
	for (i = 1; r == 0 && i <= o->big_group; i++) {
		snprintf(name, sizeof(name), "b%07u", i);
		r = fixture_add_user(fst, name, "big", "", err);
	}
	if (r < 0) {
		accord_state_free(fst);
		return NULL;
	}
	return fst;
}

/* Snapshot bytes of the fixture (malloc'd).  0 or a negative errno. */
static inline int fixture_build(const struct fixture_opts *o,
				unsigned char **buf, size_t *len,
				struct accord_err *err)
{
	static const unsigned char uuid[16];
	struct accord_state *fst = fixture_state(o, err);
	int r;

	if (!fst)
		return err ? err->code : -EINVAL;
	r = accord_snapshot_build(fst, o->generation ? o->generation : 1, uuid,
				  FIXTURE_TIME, buf, len, err);
	accord_state_free(fst);
	return r;
}

/* Write bytes to path through a temporary file in the same directory and
 * rename(), as a publisher does.  0 or a negative errno. */
static inline int fixture_publish(const char *path, const void *buf,
				  size_t len, mode_t mode)
{
	char tmp[4096];
	const char *p = buf;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

/* fixture_build + fixture_publish with mode 0644. */
static inline int fixture_write(const char *path,
				const struct fixture_opts *o,
				struct accord_err *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	r = fixture_build(o, &buf, &len, err);
	if (r == 0) {
		r = fixture_publish(path, buf, len, 0644);
		if (r < 0)
			accord_err_set(err, r, "cannot publish %s: %s", path,
				       strerror(-r));
	}
	free(buf);
	return r;
}

#endif
