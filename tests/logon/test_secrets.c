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
#include <sys/stat.h>
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

static void test_damaged_record(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_logon_rec rec;
	char *rfile = fpath(f, "logon/alice");
	off_t off;
	struct stat st;

	for (off = 0; off < 64; off += 7) {
		assert_int_equal(accord_logon_failure(f->s, &alice, 5, NOW, &rec, &err), 0);
		flip_byte(rfile, off);
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
		/* reset repairs it */
		assert_int_equal(accord_logon_reset(f->s, &alice, NOW + 1, &err), 0);
		assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
		assert_int_equal(rec.failures, 0);
		assert_int_equal(rec.revoked, 0);
		assert_int_equal(rec.last_success, NOW + 1);
	}
	/* short, long */
	lt_write_file(rfile, "ACCLOGON", 8, 0600);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
	{
		char big[200];

		memset(big, 'x', sizeof(big));
		lt_write_file(rfile, big, sizeof(big), 0600);
	}
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), -EBADMSG);
	assert_int_equal(accord_logon_reset(f->s, &alice, NOW, &err), 0);
	assert_int_equal(stat(rfile, &st), 0);
	assert_int_equal(st.st_size, 64);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	/* an empty file (created, never written) is all zero */
	lt_write_file(rfile, "", 0, 0600);
	assert_int_equal(accord_logon_read(f->s, &alice, &rec, &err), 0);
	assert_int_equal(rec.failures, 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
