/* SPDX-License-Identifier: MIT */
/*
 * The secrets store (common/logon.c): passwords, binding to a profile,
 * trust checks, damaged records, the logon record's operations and exact
 * counting under concurrency.
 */
#include "logon_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOW 1800000000

struct fx {
	char *dir;
	struct accord_secrets *s;
};

static const struct accord_profile_ref alice = { "alice", 1001, 1700000000 };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct accord_err err = { 0 };

	assert_non_null(f);
	f->dir = lt_mkdtemp();
	if (accord_secrets_open(f->dir, true, &f->s, &err) != 0)
		fail_msg("open: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	accord_secrets_close(f->s);
	lt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *fpath(const struct fx *f, const char *rel)
{
	return lt_fmt("%s/secrets/%s", f->dir, rel);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_open(void **state)
{
	struct fx *f = *state;
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	char *dir = lt_mkdtemp(), *p;
	mode_t old = umask(0077 | 0200);

	/* without create, a registry without secrets is -ENOENT */
	assert_int_equal(accord_secrets_open(dir, false, &s, &err), -ENOENT);
	assert_null(s);
	assert_contains(err.msg, "secrets");
	/* created 0700 whatever the umask */
	assert_int_equal(accord_secrets_open(dir, true, &s, &err), 0);
	umask(old);
	p = lt_fmt("%s/secrets", dir);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	p = lt_fmt("%s/secrets/password", dir);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	p = lt_fmt("%s/secrets/logon", dir);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	accord_secrets_close(s);
	/* and opened again without create */
	assert_int_equal(accord_secrets_open(dir, false, &s, &err), 0);
	accord_secrets_close(s);
	/* no registry at all */
	p = lt_fmt("%s/nope", dir);
	assert_int_equal(accord_secrets_open(p, true, &s, &err), -ENOENT);
	free(p);
	lt_rmtree(dir);
	free(dir);
	(void)f;
}

static void test_set_verify(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_profile_ref bob = { "bob", 1002, 1700000001 };
	char *p = fpath(f, "password/alice"), *text;
	mode_t old = umask(0);

	assert_int_equal(accord_secret_set(f->s, &alice, "correct horse", &err), 0);
	umask(old);
	assert_int_equal(mode_of(p), 0600);
	text = lt_read_file(p, NULL);
	assert_non_null(text);
	assert_contains(text, "accord-secret 1 1001 1700000000 $y$");
	assert_not_contains(text, "correct horse");
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);

	assert_int_equal(accord_secret_verify(f->s, &alice, "correct horse", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "correct hors", &err), -EACCES);
	assert_int_equal(accord_secret_verify(f->s, &alice, "", &err), -EACCES);
	assert_int_equal(accord_secret_verify(f->s, &alice, "correct horse ", &err), -EACCES);
	assert_int_equal(accord_secret_verify(f->s, &bob, "correct horse", &err), -ENOENT);
	assert_contains(err.msg, "bob");

	/* a new password replaces the old one; no temporary file is left */
	assert_int_equal(accord_secret_set(f->s, &alice, "battery staple", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "correct horse", &err), -EACCES);
	assert_int_equal(accord_secret_verify(f->s, &alice, "battery staple", &err), 0);
	free(p);
	p = fpath(f, "password");
	{
		char *cmd = lt_fmt("test $(ls -A %s | wc -l) = 1", p);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	free(p);

	/* clear: no password; clearing twice is fine */
	assert_int_equal(accord_secret_clear(f->s, "alice", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "battery staple", &err), -ENOENT);
	assert_int_equal(accord_secret_clear(f->s, "alice", &err), 0);
}

static void test_bad_names(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	static const char *const bad[] = { "../alice", "Alice", "", ".tmp-1", "a/b", "x y" };
	struct accord_logon_rec rec;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct accord_profile_ref p = { bad[i], 1, 1 };

		assert_int_equal(accord_secret_set(f->s, &p, "pw", &err), -EINVAL);
		assert_int_equal(accord_secret_verify(f->s, &p, "pw", &err), -EINVAL);
		assert_int_equal(accord_logon_read(f->s, &p, &rec, &err), -EINVAL);
		assert_int_equal(accord_logon_failure(f->s, &p, 5, NOW, &rec, &err), -EINVAL);
		assert_int_equal(accord_secrets_forget(f->s, bad[i], &err), -EINVAL);
	}
}

static void test_rebinding(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_profile_ref again = { "alice", 1001, 1700000500 };
	struct accord_profile_ref other_uid = { "alice", 1005, 1700000000 };
	struct accord_logon_rec rec;

	/* the same name created again never inherits password or count */
	assert_int_equal(accord_secret_set(f->s, &alice, "old secret", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &again, "old secret", &err), -ENOENT);
	assert_contains(err.msg, "earlier profile");
	assert_int_equal(accord_secret_verify(f->s, &other_uid, "old secret", &err), -ENOENT);
	assert_int_equal(accord_secret_verify(f->s, &alice, "old secret", &err), 0);

	assert_int_equal(accord_logon_failure(f->s, &alice, 2, NOW, &rec, &err), 0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 2, NOW, &rec, &err), 0);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(accord_logon_read(f->s, &again, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.revoked, 0);
	assert_int_equal(accord_logon_failure(f->s, &again, 2, NOW + 1, &rec, &err), 0);
	assert_int_equal(rec.failures, 1);
	assert_int_equal(rec.revoked, 0);
	assert_int_equal(rec.last_success, 0);
	/* and now the record is the new profile's */
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	/* the new profile sets its own password over the old one */
	assert_int_equal(accord_secret_set(f->s, &again, "new secret", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &again, "new secret", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "new secret", &err), -ENOENT);
}

static void test_trust_modes(void **state)
{
	struct fx *f = *state;
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *top = lt_fmt("%s/secrets", f->dir), *pwdir = fpath(f, "password");
	char *pwfile = fpath(f, "password/alice"), *rfile = fpath(f, "logon/alice");

	/* directories with any group or other bit */
	assert_int_equal(chmod(top, 0750), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_contains(err.msg, top);
	assert_contains(err.msg, "group or others");
	assert_int_equal(accord_secrets_open(f->dir, true, &s, &err), -EPERM);
	assert_int_equal(chmod(top, 0701), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_int_equal(chmod(top, 0700), 0);
	assert_int_equal(chmod(pwdir, 0705), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_contains(err.msg, pwdir);
	assert_int_equal(chmod(pwdir, 0700), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), 0);
	accord_secrets_close(s);

	/* files with a group or other bit */
	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(chmod(pwfile, 0640), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EPERM);
	assert_contains(err.msg, pwfile);
	assert_int_equal(chmod(pwfile, 0604), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EPERM);
	assert_int_equal(chmod(pwfile, 0400), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), 0);

	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
	assert_int_equal(chmod(rfile, 0620), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EPERM);
	assert_contains(err.msg, rfile);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), -EPERM);
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), -EPERM);
	assert_int_equal(chmod(rfile, 0600), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 1);

	free(top);
	free(pwdir);
	free(pwfile);
	free(rfile);
}

static void test_trust_links(void **state)
{
	struct fx *f = *state;
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *pwfile = fpath(f, "password/alice"), *rfile = fpath(f, "logon/alice");
	char *target = lt_fmt("%s/target", f->dir), *top = lt_fmt("%s/secrets", f->dir);
	char *moved = lt_fmt("%s/real-secrets", f->dir);

	lt_write_file(target, "accord-secret 1 1001 1700000000 $y$x\n", 37, 0600);
	assert_int_equal(symlink(target, pwfile), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EPERM);
	assert_contains(err.msg, pwfile);
	assert_int_equal(symlink(target, rfile), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EPERM);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), -EPERM);
	/* the link target was never written */
	{
		char *t = lt_read_file(target, NULL);

		assert_string_equal(t, "accord-secret 1 1001 1700000000 $y$x\n");
		free(t);
	}
	/* forget removes the links themselves */
	assert_int_equal(accord_secrets_forget(f->s, "alice", &err), 0);
	assert_int_equal(access(target, F_OK), 0);

	/* not a regular file (a FIFO as the password file) */
	assert_int_equal(mkfifo(pwfile, 0600), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EPERM);
	assert_contains(err.msg, "regular file");
	assert_int_equal(unlink(pwfile), 0);

	/* secrets itself a link */
	assert_int_equal(rename(top, moved), 0);
	assert_int_equal(symlink(moved, top), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_contains(err.msg, "symbolic link");
	assert_int_equal(unlink(top), 0);
	assert_int_equal(rename(moved, top), 0);

	free(pwfile);
	free(rfile);
	free(target);
	free(top);
	free(moved);
}

static void test_trust_owner(void **state)
{
	struct fx *f = *state;
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *pwfile = fpath(f, "password/alice"), *rfile = fpath(f, "logon/alice");
	char *logdir = fpath(f, "logon");

	if (geteuid() != 0) {
		free(pwfile);
		free(rfile);
		free(logdir);
		skip();
	}
	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(chown(pwfile, 65534, 65534), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EPERM);
	assert_contains(err.msg, "owned by uid 65534");
	assert_contains(err.msg, pwfile);

	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
	assert_int_equal(chown(rfile, 65534, 0), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EPERM);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), -EPERM);

	assert_int_equal(chown(logdir, 65534, 0), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_contains(err.msg, logdir);
	assert_int_equal(chown(logdir, 0, 0), 0);
	free(pwfile);
	free(rfile);
	free(logdir);
}

static void test_damaged_password(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	char *pwfile = fpath(f, "password/alice");
	static const char *const bad[] = {
		"",
		"garbage\n",
		"accord-secret 2 1001 1700000000 $y$j9T$abc$def\n",
		"accord-secret 1 1001 1700000000 $y$j9T$abc$def",       /* no newline */
		"accord-secret 1 1001 1700000000 $y$j9T$abc$def\nmore\n",
		"accord-secret 1 -1 1700000000 $y$j9T$abc$def\n",
		"accord-secret 1 1001 1700000000 nodollar\n",
		"accord-secret 1 99999999999 1700000000 $y$x\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lt_write_file(pwfile, bad[i], strlen(bad[i]), 0600);
		if (accord_secret_verify(f->s, &alice, "pw", &err) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
		assert_contains(err.msg, "damaged");
	}
	/* a well-formed line with a hash crypt cannot compute */
	lt_write_file(pwfile, "accord-secret 1 1001 1700000000 $y$garbage\n", 43, 0600);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EBADMSG);
	/* set repairs it */
	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), 0);
	free(pwfile);
}

static void test_record_ops(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice");
	mode_t old;

	/* a missing record is all zero */
	memset(&rec, 0xff, sizeof(rec));
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.revoked, 0);
	assert_int_equal(rec.last_success, 0);
	assert_int_equal(rec.last_failure, 0);
	assert_int_equal(rec.revoked_at, 0);

	/* created 0600 whatever the umask */
	old = umask(0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 3, NOW, &rec, &err), 0);
	umask(old);
	assert_int_equal(mode_of(rfile), 0600);
	assert_int_equal(rec.failures, 1);
	assert_int_equal(rec.last_failure, NOW);
	assert_int_equal(rec.revoked, 0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 3, NOW + 1, &rec, &err), 0);
	assert_int_equal(rec.revoked, 0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 3, NOW + 2, &rec, &err), 0);
	assert_int_equal(rec.failures, 3);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(rec.revoked_at, NOW + 2);
	/* counting goes on; the revoke time stays */
	assert_int_equal(accord_logon_failure(f->s, &alice, 3, NOW + 3, &rec, &err), 0);
	assert_int_equal(rec.failures, 4);
	assert_int_equal(rec.revoked_at, NOW + 2);
	assert_int_equal(rec.last_failure, NOW + 3);
	/* success resets the count, not the revoke */
	assert_int_equal(accord_logon_success(f->s, &alice, NOW + 4, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.last_success, NOW + 4);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	/* an inactivity revoke does not replace a revoke */
	assert_int_equal(accord_logon_revoke(f->s, &alice, ACCORD_LOGON_REVOKED_INACTIVE,
					     NOW + 5, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(rec.revoked_at, NOW + 2);
	/* reset: count 0, not revoked, last_success now */
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW + 6, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.revoked, 0);
	assert_int_equal(rec.revoked_at, 0);
	assert_int_equal(rec.last_success, NOW + 6);
	assert_int_equal(rec.last_failure, NOW + 3);
	/* inactivity revoke */
	assert_int_equal(accord_logon_revoke(f->s, &alice, ACCORD_LOGON_REVOKED_INACTIVE,
					     NOW + 7, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_INACTIVE);
	assert_int_equal(rec.revoked_at, NOW + 7);
	assert_int_equal(accord_logon_revoke(f->s, &alice, 7, NOW, &err), -EINVAL);
	assert_int_equal(accord_logon_revoke(f->s, &alice, 0, NOW, &err), -EINVAL);
	/* revoke_after 0: never revoked */
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
	assert_int_equal(rec.failures, 10);
	assert_int_equal(rec.revoked, 0);
	/* a limit lowered below the count revokes at the next failure */
	assert_int_equal(accord_logon_failure(f->s, &alice, 3, NOW + 8, &rec, &err), 0);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(rec.revoked_at, NOW + 8);

	/* forget removes both files; twice is fine */
	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(accord_secrets_forget(f->s, "alice", &err), 0);
	assert_int_equal(access(rfile, F_OK), -1);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -ENOENT);
	assert_int_equal(accord_secrets_forget(f->s, "alice", &err), 0);
	free(rfile);
}

static void test_touch(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice");
	struct stat st1, st2;

	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
	assert_int_equal(accord_logon_touch(f->s, &alice, NOW, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.last_success, NOW);
	assert_int_equal(rec.failures, 1); /* untouched */
	/* within a day: no write at all */
	assert_int_equal(stat(rfile, &st1), 0);
	assert_int_equal(accord_logon_touch(f->s, &alice, NOW + 86399, &err), 0);
	assert_int_equal(stat(rfile, &st2), 0);
	assert_true(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
		    st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.last_success, NOW);
	/* a day later it is recorded */
	assert_int_equal(accord_logon_touch(f->s, &alice, NOW + 86400, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.last_success, NOW + 86400);
	/* touch does not lift a revoke */
	assert_int_equal(accord_logon_revoke(f->s, &alice, ACCORD_LOGON_REVOKED_INACTIVE,
					     NOW, &err), 0);
	assert_int_equal(accord_logon_touch(f->s, &alice, NOW + 5 * 86400, &err), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_INACTIVE);
	free(rfile);
}

static void flip_byte(const char *path, off_t off)
{
	unsigned char c;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_damaged_record(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice");
	off_t off;

	/* a byte flipped in both slots: damaged, and only reset repairs it */
	for (off = 0; off < 64; off += 7) {
		assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
		assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
		assert_int_equal(file_size(rfile), 128);
		flip_byte(rfile, off);
		flip_byte(rfile, 64 + off);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
		assert_contains(err.msg, rfile);
		assert_contains(err.msg, "is damaged; accordctl user resume alice resets it");
		assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err),
				 -EBADMSG);
		assert_int_equal(accord_logon_success(f->s, &alice, NOW, &err), -EBADMSG);
		assert_int_equal(accord_logon_touch(f->s, &alice, NOW, &err), -EBADMSG);
		assert_int_equal(accord_logon_revoke(f->s, &alice,
						     ACCORD_LOGON_REVOKED_INACTIVE, NOW, &err),
				 -EBADMSG);
		assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 5, NOW, &rec, &err),
				 -EBADMSG);
		/* reset repairs it */
		assert_int_equal(accord_logon_reset(f->s, &alice, NOW + 1, &err), 0);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(rec.failures, 0);
		assert_int_equal(rec.revoked, 0);
		assert_int_equal(rec.last_success, NOW + 1);
		assert_int_equal(file_size(rfile), 128);
	}
	/* short, long, the old one-slot format */
	lt_write_file(rfile, "ACCLOGON", 8, 0600);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
	{
		char big[200];

		memset(big, 'x', sizeof(big));
		lt_write_file(rfile, big, 64, 0600);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
		lt_write_file(rfile, big, sizeof(big), 0600);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
	}
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), 0);
	assert_int_equal(file_size(rfile), 128);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	/* 129 bytes: damaged even with two good slots */
	{
		char *all = lt_read_file(rfile, NULL);
		char buf[129];

		memcpy(buf, all, 128);
		buf[128] = 'x';
		lt_write_file(rfile, buf, sizeof(buf), 0600);
		free(all);
	}
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
	/* an empty file (created, never written) is all zero */
	lt_write_file(rfile, "", 0, 0600);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	free(rfile);
}

/*
 * Two slots: a write goes to the older one, so a torn or damaged slot
 * leaves the state before the write, never a damaged record.
 */
static void test_two_slots(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice"), *snap1, *snap2;
	size_t len;
	int i;

	/* the first write goes to slot 1, leaving slot 0 a hole of zeros */
	assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
	assert_int_equal(file_size(rfile), 128);
	snap1 = lt_read_file(rfile, &len);
	assert_int_equal(len, 128);
	for (i = 0; i < 64; i++)
		assert_int_equal(snap1[i], 0);
	assert_memory_equal(snap1 + 64, "ACCLOGv2", 8);
	/* a first write torn anywhere reads as "nothing yet" */
	for (i = 65; i < 128; i += 9) {
		lt_write_file(rfile, snap1, (size_t)i, 0600);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(rec.failures, 0);
		/* and the next write goes to slot 1 again */
		assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
		assert_int_equal(rec.failures, 1);
	}
	/* the second write goes to slot 0 */
	assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW + 1, &rec, &err), 0);
	assert_int_equal(rec.failures, 2);
	snap2 = lt_read_file(rfile, &len);
	assert_int_equal(len, 128);
	assert_memory_equal(snap2, "ACCLOGv2", 8);
	assert_memory_equal(snap2 + 64, snap1 + 64, 64);
	/* the newer slot damaged (a write torn in it): the older is read */
	for (i = 0; i < 64; i += 5) {
		lt_write_file(rfile, snap2, 128, 0600);
		flip_byte(rfile, i);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(rec.failures, 1);
	}
	/* and the next write replaces the damaged slot, not the good one */
	assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW + 2, &rec, &err), 0);
	assert_int_equal(rec.failures, 2);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 2);
	assert_int_equal(rec.last_failure, NOW + 2);
	/* many writes alternate; each state survives a tear of the next */
	for (i = 0; i < 20; i++) {
		char *before;

		assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW + 3 + i, &rec, &err),
				 0);
		before = lt_read_file(rfile, &len);
		assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW + 100, &rec, &err), 0);
		/* undo half of the last write: a tear */
		{
			char *after = lt_read_file(rfile, NULL);
			int slot = memcmp(before, after, 64) ? 0 : 1;

			memcpy(after + slot * 64 + 30, before + slot * 64 + 30, 34);
			lt_write_file(rfile, after, 128, 0600);
			free(after);
		}
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(rec.last_failure, NOW + 3 + i);
		free(before);
	}
	free(snap1);
	free(snap2);
	free(rfile);
}

/*
 * 8 processes x 20 failures with revoke_after 5: the count is exact, the
 * profile revoked, and exactly one call saw the transition.
 */
static void test_concurrency(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	enum { PROCS = 8, CALLS = 20 };
	int fds[2], i, transitions = 0;
	int64_t seen_at = 0, v;
	pid_t pids[PROCS];

	assert_int_equal(pipe(fds), 0);
	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct accord_secrets *s = NULL;
			int j, bad = 0;

			close(fds[0]);
			/* each its own store, as separate logins would */
			if (accord_secrets_open(f->dir, false, &s, &err) != 0)
				_exit(2);
			for (j = 0; j < CALLS; j++) {
				int64_t now = NOW + i * 1000 + j;

				if (accord_logon_failure(s, &alice, 5, now, &rec, &err) != 0) {
					bad = 1;
					break;
				}
				if (rec.revoked == ACCORD_LOGON_REVOKED_FAILURES &&
				    rec.failures == 5) {
					v = rec.revoked_at;
					if (write(fds[1], &v, sizeof(v)) != sizeof(v))
						bad = 1;
				}
			}
			accord_secrets_close(s);
			_exit(bad ? 3 : 0);
		}
	}
	close(fds[1]);
	while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
		transitions++;
		seen_at = v;
	}
	close(fds[0]);
	for (i = 0; i < PROCS; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(transitions, 1);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, PROCS * CALLS);
	assert_int_equal(rec.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_true(rec.revoked_at != 0);
	assert_int_equal(rec.revoked_at, seen_at);
}

static double since_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* Unknown profile, no password, wrong password: each costs about one
 * hash.  Loose bounds: the point is that none of them is free. */
static void test_timing(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_profile_ref nobody = { "nobody", 1, 1 };
	struct timespec t;
	double real, absent, dummy;

	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(accord_secret_verify(f->s, &alice, "wrong", &err), -EACCES);
	real = since_ms(&t);
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(accord_secret_verify(f->s, &nobody, "wrong", &err), -ENOENT);
	absent = since_ms(&t);
	clock_gettime(CLOCK_MONOTONIC, &t);
	accord_secret_dummy_verify("wrong");
	accord_secret_dummy_verify(NULL);
	dummy = since_ms(&t) / 2;
	print_message("verify %.1f ms, absent %.1f ms, dummy %.1f ms\n", real, absent, dummy);
	assert_true(absent > real / 4);
	assert_true(dummy > real / 4);
}

/* accord_logon_verify: count first, verify under the lock, the outcomes */
static void test_verify(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec, after;
	struct accord_profile_ref bob = { "bob", 1002, 1700000001 };
	char *pwfile = fpath(f, "password/alice");
	int i;

	assert_int_equal(accord_secret_set(f->s, &alice, "right one", &err), 0);
	/* a match: count 0, last_success */
	assert_int_equal(accord_logon_verify(f->s, &alice, "right one", 3, NOW, &after, &err), 0);
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.last_success, NOW);
	assert_int_equal(after.last_failure, NOW); /* counted first */
	/* mismatches count, the third revokes */
	for (i = 1; i <= 2; i++) {
		assert_int_equal(accord_logon_verify(f->s, &alice, "wrong", 3, NOW + i, &after,
						     &err), -EACCES);
		assert_int_equal(after.failures, i);
		assert_int_equal(after.revoked, 0);
		assert_contains(err.msg, "wrong password");
	}
	assert_int_equal(accord_logon_verify(f->s, &alice, "wrong", 3, NOW + 3, &after, &err),
			 -EACCES);
	assert_int_equal(after.failures, 3);
	assert_int_equal(after.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(after.revoked_at, NOW + 3);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_memory_equal(&rec, &after, sizeof(rec));
	/* revoked: the right password is not even checked, nothing counted */
	assert_int_equal(accord_logon_verify(f->s, &alice, "right one", 3, NOW + 4, &after,
					     &err), -EKEYREVOKED);
	assert_int_equal(after.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	assert_int_equal(after.failures, 3);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 3);
	assert_int_equal(rec.last_failure, NOW + 3);
	/* an inactivity revoke likewise */
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), 0);
	assert_int_equal(accord_logon_revoke(f->s, &alice, ACCORD_LOGON_REVOKED_INACTIVE, NOW,
					     &err), 0);
	assert_int_equal(accord_logon_verify(f->s, &alice, "right one", 3, NOW, NULL, &err),
			 -EKEYREVOKED);
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), 0);
	/* revoke_after 0: never revoked */
	for (i = 0; i < 4; i++)
		assert_int_equal(accord_logon_verify(f->s, &alice, "x", 0, NOW, &after, &err),
				 -EACCES);
	assert_int_equal(after.failures, 4);
	assert_int_equal(after.revoked, 0);
	assert_int_equal(accord_logon_verify(f->s, &alice, "right one", 0, NOW, &after, &err), 0);
	assert_int_equal(after.failures, 0);
	/* no password stored: -ENOENT, counted, and revokes like a bad one */
	assert_int_equal(accord_logon_verify(f->s, &bob, "x", 2, NOW, &after, &err), -ENOENT);
	assert_int_equal(after.failures, 1);
	assert_int_equal(accord_logon_verify(f->s, &bob, "x", 2, NOW, &after, &err), -ENOENT);
	assert_int_equal(after.revoked, ACCORD_LOGON_REVOKED_FAILURES);
	/* an untrusted or damaged password file: an error, nothing counted,
	 * never -EACCES */
	assert_int_equal(chmod(pwfile, 0640), 0);
	assert_int_equal(accord_logon_verify(f->s, &alice, "right one", 3, NOW, &after, &err),
			 -EPERM);
	assert_int_equal(accord_logon_verify(f->s, &alice, "wrong", 3, NOW, &after, &err),
			 -EPERM);
	assert_int_equal(chmod(pwfile, 0600), 0);
	lt_write_file(pwfile, "garbage\n", 8, 0600);
	assert_int_equal(accord_logon_verify(f->s, &alice, "wrong", 3, NOW, &after, &err),
			 -EBADMSG);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
	/* bad arguments */
	assert_int_equal(accord_logon_verify(f->s, &alice, NULL, 3, NOW, &after, &err), -EINVAL);
	{
		struct accord_profile_ref bad = { "../x", 1, 1 };

		assert_int_equal(accord_logon_verify(f->s, &bad, "x", 3, NOW, &after, &err),
				 -EINVAL);
	}
	free(pwfile);
}

/* Hard links: a second name of a secret file is refused. */
static void test_trust_nlink(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *pwfile = fpath(f, "password/alice"), *rfile = fpath(f, "logon/alice");
	char *pw2 = fpath(f, "password/alice2"), *r2 = fpath(f, "logon/alice2");

	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
	assert_int_equal(link(pwfile, pw2), 0);
	assert_int_equal(accord_secret_verify(f->s, &alice, "pw", &err), -EPERM);
	assert_contains(err.msg, "links");
	assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 5, NOW, &rec, &err), -EPERM);
	assert_int_equal(unlink(pw2), 0);
	assert_int_equal(link(rfile, r2), 0);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EPERM);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), -EPERM);
	assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 5, NOW, &rec, &err), -EPERM);
	assert_int_equal(unlink(r2), 0);
	assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 5, NOW, &rec, &err), 0);
	free(pwfile);
	free(rfile);
	free(pw2);
	free(r2);
}

/* The registry directory itself: not a link, not writable by others. */
static void test_trust_registry(void **state)
{
	struct fx *f = *state;
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	char *moved = lt_fmt("%s.real", f->dir);

	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_contains(err.msg, f->dir);
	assert_int_equal(chmod(f->dir, 0720), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	/* readable by all is fine: the snapshot lives there */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), 0);
	accord_secrets_close(s);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(rename(f->dir, moved), 0);
	assert_int_equal(symlink(moved, f->dir), 0);
	assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
	assert_contains(err.msg, "symbolic link");
	assert_int_equal(unlink(f->dir), 0);
	assert_int_equal(rename(moved, f->dir), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(f->dir, 65534, 0), 0);
		assert_int_equal(accord_secrets_open(f->dir, false, &s, &err), -EPERM);
		assert_int_equal(chown(f->dir, 0, 0), 0);
	}
	free(moved);
}

/*
 * A password file that cannot be opened is never "wrong password": run
 * as a non-root owner (root is not refused by a mode), mode 000 makes
 * open() fail with EACCES.
 */
static void test_open_eacces(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct accord_secrets *s = NULL;
		struct accord_err err = { 0 };
		struct accord_logon_rec rec;
		char tmpl[] = "/tmp/accord-eacces-XXXXXX", path[128];
		int r, code = 0;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
				       setresuid(65534, 65534, 65534) < 0))
			_exit(10);
		if (!mkdtemp(tmpl))
			_exit(11);
		if (accord_secrets_open(tmpl, true, &s, &err) < 0 ||
		    accord_secret_set(s, &alice, "pw", &err) < 0)
			_exit(12);
		snprintf(path, sizeof(path), "%s/secrets/password/alice", tmpl);
		if (chmod(path, 0) < 0)
			_exit(13);
		r = accord_secret_verify(s, &alice, "pw", &err);
		if (r != -EPERM) {
			fprintf(stderr, "secret_verify: %d %s\n", r, err.msg);
			code = 14;
		}
		r = accord_logon_verify(s, &alice, "wrong", 5, NOW, &rec, &err);
		if (r != -EPERM) {
			fprintf(stderr, "logon_verify: %d %s\n", r, err.msg);
			code = 15;
		}
		if (accord_logon_read(s, &alice, &rec, &err) < 0 || rec.failures != 0)
			code = 16;
		chmod(path, 0600);
		snprintf(path, sizeof(path), "%s/secrets/logon/alice", tmpl);
		if (chmod(path, 0) < 0)
			code = 17;
		r = accord_logon_read(s, &alice, &rec, &err);
		if (r != -EPERM)
			code = 18;
		accord_secrets_close(s);
		chmod(path, 0600);
		{
			char *cmd = lt_fmt("rm -rf %s", tmpl);

			if (system(cmd) != 0)
				code = code ? code : 19;
			free(cmd);
		}
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Temporary files a crash left are cleaned up; young ones stay. */
static void test_tmp_sweep(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	char *stale = fpath(f, "password/.tmp-1-00000000deadbeef");
	char *young = fpath(f, "password/.tmp-2-00000000feedface");
	struct timespec old[2] = { { NOW - 7200, 0 }, { 1700000000, 0 } };

	lt_write_file(stale, "x", 1, 0600);
	lt_write_file(young, "x", 1, 0600);
	assert_int_equal(utimensat(AT_FDCWD, stale, old, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(young, F_OK), 0);
	free(stale);
	free(young);
}

/* Holds an OFD write lock on the record through its own descriptor. */
static int hold_lock(const char *path)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &lk), 0);
	return fd;
}

/*
 * Lock waits are bounded (-ETIMEDOUT), and the lock is per open file
 * description: a holder in this very process excludes us (a classic
 * fcntl lock would not), and closing another descriptor of the file does
 * not drop it.
 */
static void test_lock_timeout(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice");
	struct timespec t;
	double ms;
	int fd, other;

	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
	fd = hold_lock(rfile);
	/* a second descriptor opened and closed: the lock stays */
	other = open(rfile, O_RDONLY | O_CLOEXEC);
	assert_true(other >= 0);
	close(other);
	accord_secrets_set_lock_timeout(f->s, 300);
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), -ETIMEDOUT);
	ms = since_ms(&t);
	assert_contains(err.msg, "timed out");
	assert_true(ms >= 250 && ms < 3000);
	/* the verify: not -EACCES, nothing counted, nothing verified */
	assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 5, NOW, &rec, &err), -ETIMEDOUT);
	assert_int_equal(accord_logon_verify(f->s, &alice, "bad", 5, NOW, &rec, &err), -ETIMEDOUT);
	/* reading needs no lock */
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 1);
	/* 0: try once */
	accord_secrets_set_lock_timeout(f->s, 0);
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), -ETIMEDOUT);
	close(fd);
	assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 5, NOW, &rec, &err), 0);
	/* a waiter gets the lock once the holder lets go */
	accord_secrets_set_lock_timeout(f->s, 5000);
	fd = hold_lock(rfile);
	{
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
			_exit(0);
		}
		/* the child shares our descriptor: the lock goes when both
		 * have closed it */
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t);
		assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
		ms = since_ms(&t);
		assert_true(ms >= 100);
		assert_int_equal(waitpid(pid, &status, 0), pid);
	}
	free(rfile);
}

/*
 * A reader that finds neither slot whole waits for the writer's lock and
 * reads again before it calls the record damaged.
 */
static void test_read_retry(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice"), *good, junk[128];
	struct timespec t;
	size_t len;
	pid_t pid;
	int fd, status;

	assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
	assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
	good = lt_read_file(rfile, &len);
	assert_int_equal(len, 128);
	/* "a writer" holds the lock with both slots in pieces */
	fd = hold_lock(rfile);
	memset(junk, 'j', sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		nanosleep(&(struct timespec){ 0, 300000000 }, NULL);
		if (pwrite(fd, good, 128, 0) != 128)
			_exit(1);
		_exit(0);  /* the last holder of the description: unlocks */
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_true(since_ms(&t) >= 200);
	assert_int_equal(rec.failures, 2);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a holder that never lets go: bounded, and not "damaged" */
	fd = hold_lock(rfile);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	accord_secrets_set_lock_timeout(f->s, 200);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -ETIMEDOUT);
	close(fd);
	/* no holder: damaged at once */
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
	free(good);
	free(rfile);
}

struct thr {
	const char *dir;
	int bad;
};

static void *thr_fail(void *arg)
{
	struct thr *t = arg;
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	int j;

	if (accord_secrets_open(t->dir, false, &s, &err) != 0) {
		t->bad = 1;
		return NULL;
	}
	for (j = 0; j < 25; j++)
		if (accord_logon_failure(s, &alice, 0, NOW + j, &rec, &err) != 0)
			t->bad = 1;
	accord_secrets_close(s);
	return NULL;
}

/* Threads of one process count exactly too (OFD locks). */
static void test_threads(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	enum { THREADS = 6 };
	pthread_t th[THREADS];
	struct thr t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++) {
		t[i].dir = f->dir;
		t[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, thr_fail, &t[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
	}
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, THREADS * 25);
}

/* Drops CAP_SYS_RESOURCE (root then cannot raise a lowered hard limit). */
static int drop_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
	d[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
	d[0].inheritable &= ~(1u << CAP_SYS_RESOURCE);
	return (int)syscall(SYS_capset, &h, d);
}

/* Whether this process may raise a hard limit (containers often drop
 * CAP_SYS_RESOURCE even for root). */
static bool has_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[0].effective & (1u << CAP_SYS_RESOURCE);
}

/*
 * A child with a lowered RLIMIT_FSIZE and SIGXFSZ ignored, as `ulimit -f`
 * before su.  limit: the limit in bytes; lift: whether the guard may lift
 * it (root with CAP_SYS_RESOURCE).  Exit status 0 or a failed check.
 */
static int fsize_child(const char *dir, rlim_t limit, bool lift)
{
	struct accord_secrets *s = NULL;
	struct accord_err err = { 0 };
	struct accord_logon_rec before, after;
	struct rlimit rl = { limit, limit }, now_rl;
	int r, i;

	signal(SIGXFSZ, SIG_IGN);
	/* root lifts soft and hard; without CAP_SYS_RESOURCE only the soft
	 * limit (`ulimit -S -f`) can be lifted */
	if (lift && !has_sys_resource())
		rl.rlim_max = RLIM_INFINITY;
	if (accord_secrets_open(dir, false, &s, &err) < 0)
		return 20;
	if (accord_logon_read(s, &alice, &before, &err) < 0)
		return 21;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 22;
	if (!lift && geteuid() == 0 && drop_sys_resource() < 0)
		return 23;
	for (i = 0; i < 3; i++) {
		r = accord_logon_verify(s, &alice, "wrong", 0, NOW, &after, &err);
		if (lift) {
			/* root lifts the limit: counted */
			if (r != -EACCES || after.failures != before.failures + (uint32_t)i + 1) {
				fprintf(stderr, "lift: %d %u %s\n", r, after.failures, err.msg);
				return 24;
			}
		} else if (r == -EACCES) {
			/* counted: the count must be on disk */
			struct accord_logon_rec rec;

			if (accord_logon_read(s, &alice, &rec, &err) < 0 ||
			    rec.failures != after.failures || rec.failures <= before.failures)
				return 25;
			before = rec;
		} else if (r == -EFBIG || r == -EIO) {
			/* not counted: never verified, and said so */
			if (!strstr(err.msg, "not checked")) {
				fprintf(stderr, "no-lift: %d %s\n", r, err.msg);
				return 26;
			}
		} else {
			fprintf(stderr, "no-lift wrong: %d %s\n", r, err.msg);
			return 27;
		}
	}
	r = accord_logon_verify(s, &alice, "pw", 0, NOW, &after, &err);
	if (lift && (r != 0 || after.failures != 0))
		return 28;
	if (!lift && r != -EFBIG && r != -EIO && r != 0 && r != 1) {
		fprintf(stderr, "no-lift right: %d %s\n", r, err.msg);
		return 29;
	}
	/* accepted only when the attempt was counted first: the slot that
	 * the count went to is below the limit */
	if (!lift && (r == 0 || r == 1) && limit < 64)
		return 30;
	/* the caller's limit is back */
	if (getrlimit(RLIMIT_FSIZE, &now_rl) < 0 || now_rl.rlim_cur != rl.rlim_cur ||
	    now_rl.rlim_max != rl.rlim_max)
		return 31;
	accord_secrets_close(s);
	return 0;
}

static void run_fsize_child(struct fx *f, rlim_t limit, bool lift)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fsize_child(f->dir, limit, lift));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d (limit %llu)", WTERMSIG(status),
			 (unsigned long long)limit);
	if (WEXITSTATUS(status) != 0)
		fail_msg("child check %d failed (limit %llu, lift %d)", WEXITSTATUS(status),
			 (unsigned long long)limit, lift);
}

/*
 * RLIMIT_FSIZE: with `ulimit -f 0` a wrong password is never verified
 * uncounted and a right one never accepted uncounted; small limits tear
 * writes but never damage the record; root lifts the limit for its
 * writes.
 */
static void test_fsize(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice");
	static const rlim_t limits[] = { 0, 1, 10, 64, 70, 100, 127 };
	size_t i;

	assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		/* a record not written yet (the first write tears), and one
		 * with both slots */
		assert_int_equal(accord_secrets_forget(f->s, "alice", &err), 0);
		assert_int_equal(accord_secret_set(f->s, &alice, "pw", &err), 0);
		run_fsize_child(f, limits[i], false);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
		assert_int_equal(accord_logon_failure(f->s, &alice, 0, NOW, &rec, &err), 0);
		run_fsize_child(f, limits[i], false);
		run_fsize_child(f, limits[i], false);
		/* never damaged, and the right password still works */
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(accord_logon_verify(f->s, &alice, "pw", 0, NOW, &rec, &err), 0);
		if (geteuid() == 0)
			run_fsize_child(f, limits[i], true);
	}
	/* with limit 0 and no lift, nothing was ever counted or changed */
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), 0);
	{
		char *before = lt_read_file(rfile, NULL), *after;

		run_fsize_child(f, 0, false);
		after = lt_read_file(rfile, NULL);
		assert_memory_equal(before, after, 128);
		free(before);
		free(after);
	}
	free(rfile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebinding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_nlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_registry, setup, teardown),
		cmocka_unit_test(test_open_eacces),
		cmocka_unit_test_setup_teardown(test_tmp_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsize, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
