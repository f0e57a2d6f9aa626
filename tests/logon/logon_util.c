/* SPDX-License-Identifier: MIT */
#include "logon_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

char *lt_mkdtemp(void)
{
	char tmpl[] = "/tmp/accord-logon-XXXXXX";
	char *p;

	assert_non_null(mkdtemp(tmpl));
	p = strdup(tmpl);
	assert_non_null(p);
	return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void lt_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *lt_fmt(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return p;
}

void lt_write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	const char *p = buf;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

	assert_true(fd >= 0);
	while (len) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

char *lt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			assert_non_null(nb);
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

struct accord_state *lt_state(int64_t now)
{
	struct accord_range r = { 1000, 1999 };
	struct accord_state *st = accord_state_new(&r, &r);

	assert_non_null(st);
	accord_state_set_actor(st, now, "tester");
	return st;
}

void lt_user(struct accord_state *st, const char *name, const char *groups)
{
	struct accord_user_spec s = { .name = name, .groups = groups };
	struct accord_defaults def = { .home_base = "/home", .shell = "/bin/bash" };
	struct accord_err err = { 0 };

	if (accord_user_add(st, &s, &def, &err) != 0)
		fail_msg("user add %s: %s", name, err.msg);
}

void lt_group(struct accord_state *st, const char *name)
{
	struct accord_err err = { 0 };

	if (accord_group_add(st, name, false, 0, false, &err) != 0)
		fail_msg("group add %s: %s", name, err.msg);
}

unsigned char *lt_snapshot(const struct accord_state *st, uint64_t gen,
			   struct accord_snapshot *snap)
{
	static const unsigned char uuid[16] = { 1, 2, 3, 4 };
	struct accord_err err = { 0 };
	unsigned char *buf = NULL;
	accord_snap_why why = NULL;
	size_t len = 0;

	if (accord_snapshot_build(st, gen, uuid, 1700000000, &buf, &len, &err) != 0)
		fail_msg("snapshot build: %s", err.msg);
	if (accord_snapshot_open_mem(snap, buf, len, &why) != 0)
		fail_msg("snapshot open: %s", why);
	return buf;
}
