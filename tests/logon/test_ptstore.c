/* SPDX-License-Identifier: MIT */
/*
 * PassTicket state in the secrets store (common/ptstore.c): keys (round
 * trip, strict parsing, trust refusals, RACF's profile precedence), the
 * authorization to generate, and the replay cache (first claim wins,
 * expiry, sweep, concurrency across processes, persistence).
 */
#include "logon_util.h"

#include <accord/ptstore.h>

#include <dirent.h>
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

static struct accord_pt_key legacy_key(unsigned char fill)
{
	struct accord_pt_key k;

	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_LEGACY;
	k.type = ACCORD_PT_UPPER;
	k.window = ACCORD_PT_WINDOW;
	k.replay_protection = true;
	k.len = 8;
	memset(k.key, fill, 8);
	return k;
}

static struct accord_pt_key enhanced_key(unsigned char fill, size_t len)
{
	struct accord_pt_key k;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.alg = ACCORD_PT_ENHANCED;
	k.type = ACCORD_PT_MIXED;
	k.window = 300;
	k.replay_protection = false;
	k.len = len;
	for (i = 0; i < len; i++)
		k.key[i] = (unsigned char)(fill + i);
	return k;
}

static void assert_key_equal(const struct accord_pt_key *a, const struct accord_pt_key *b)
{
	assert_int_equal(a->alg, b->alg);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->window, b->window);
	assert_int_equal(a->replay_protection, b->replay_protection);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->key, b->key, a->len);
}

static size_t count_files(const char *dir, bool dotfiles)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || (dotfiles && strcmp(e->d_name, ".") &&
					    strcmp(e->d_name, "..")))
			n++;
	closedir(d);
	return n;
}

/* ---- names -------------------------------------------------------------- */

static void test_profile_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "TSO.", ".TSO", "TSO..ALICE", "A.B.C.D", "TOOLONGNA",
		"TSO.TOOLONGNA", "TS O", "TSO/ALICE", "TSO.ALI-CE", "é",
	};
	char out[ACCORD_PT_PROFILE_MAX + 1];
	struct accord_err err = { 0 };
	size_t i;

	assert_int_equal(accord_pt_profile_name("tso", out, &err), 0);
	assert_string_equal(out, "TSO");
	assert_int_equal(accord_pt_profile_name("tsor001.sys1.ibmuser", out, &err), 0);
	assert_string_equal(out, "TSOR001.SYS1.IBMUSER");
	assert_int_equal(accord_pt_profile_name("A@#$.B.C12345678", out, &err), -EINVAL);
	assert_int_equal(accord_pt_profile_name("A@#$.B.C1234567", out, &err), 0);
	assert_string_equal(out, "A@#$.B.C1234567");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (accord_pt_profile_name(bad[i], out, &err) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err.msg[0] != '\0');
		assert_string_equal(out, "");
	}
	(void)state;
}

/* ---- keys --------------------------------------------------------------- */

static void test_key_roundtrip(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_pt_key k1 = legacy_key(0x5a), k2 = enhanced_key(1, 64), got;
	char *p1 = fpath(f, "ptkeys/TSO"), *p2 = fpath(f, "ptkeys/TSO.SYS1.ALICE");
	char *dir = fpath(f, "ptkeys"), *text;
	mode_t old = umask(0);

	assert_int_equal(accord_pt_key_get(f->s, "tso", &got, &err), -ENOENT);
	assert_contains(err.msg, "no PassTicket key for TSO");
	assert_int_equal(accord_pt_key_put(f->s, "tso", &k1, &err), 0);
	umask(old);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(p1), 0600);
	text = lt_read_file(p1, NULL);
	assert_string_equal(text, "accord-ptkey 1 alg=legacy type=upper window=600 "
				  "replay=yes key=5a5a5a5a5a5a5a5a\n");
	free(text);
	assert_int_equal(accord_pt_key_put(f->s, "TSO.sys1.alice", &k2, &err), 0);
	assert_int_equal(mode_of(p2), 0600);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), 0);
	assert_key_equal(&got, &k1);
	assert_int_equal(accord_pt_key_get(f->s, "tso.SYS1.Alice", &got, &err), 0);
	assert_key_equal(&got, &k2);
	/* replaced as a whole, no temporary file left */
	k1.key[0] = 0x11;
	k1.replay_protection = false;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k1, &err), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), 0);
	assert_key_equal(&got, &k1);
	assert_int_equal(count_files(dir, true), 2);
	/* the largest and smallest enhanced keys */
	k2 = enhanced_key(7, ACCORD_PT_HMAC_MAX);
	assert_int_equal(accord_pt_key_put(f->s, "BIG", &k2, &err), 0);
	assert_int_equal(accord_pt_key_get(f->s, "BIG", &got, &err), 0);
	assert_key_equal(&got, &k2);
	k2 = enhanced_key(9, ACCORD_PT_HMAC_MIN);
	k2.type = ACCORD_PT_UPPER;
	k2.window = 1;
	assert_int_equal(accord_pt_key_put(f->s, "SMALL", &k2, &err), 0);
	assert_int_equal(accord_pt_key_get(f->s, "SMALL", &got, &err), 0);
	assert_key_equal(&got, &k2);
	/* delete */
	assert_int_equal(accord_pt_key_del(f->s, "small", &err), 0);
	assert_int_equal(accord_pt_key_get(f->s, "SMALL", &got, &err), -ENOENT);
	assert_int_equal(accord_pt_key_del(f->s, "SMALL", &err), -ENOENT);
	assert_int_equal(accord_pt_key_del(f->s, "bad..name", &err), -EINVAL);
	accord_pt_key_wipe(&got);
	free(p1);
	free(p2);
	free(dir);
}

struct seen {
	char names[8][ACCORD_PT_PROFILE_MAX + 1];
	size_t n;
	int stop_at;
};

static int list_cb(const char *profile, const struct accord_pt_key *k, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 8);
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", profile);
	assert_true(k->len == 8 || k->len >= 32);
	return s->stop_at && (int)s->n == s->stop_at ? 42 : 0;
}

static void test_key_list(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_pt_key k = legacy_key(1);
	struct seen s = { .n = 0 };
	char *junk;

	/* no ptkeys directory yet: nothing, no error */
	assert_int_equal(accord_pt_key_list(f->s, list_cb, &s, &err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(accord_pt_key_put(f->s, "ZED", &k, &err), 0);
	assert_int_equal(accord_pt_key_put(f->s, "ABC.DEF", &k, &err), 0);
	assert_int_equal(accord_pt_key_put(f->s, "ABC", &k, &err), 0);
	/* names that are not canonical profile names are not keys */
	junk = fpath(f, "ptkeys/lower");
	lt_write_file(junk, "x", 1, 0600);
	free(junk);
	junk = fpath(f, "ptkeys/.tmp-1-2");
	lt_write_file(junk, "x", 1, 0600);
	free(junk);
	assert_int_equal(accord_pt_key_list(f->s, list_cb, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "ABC");
	assert_string_equal(s.names[1], "ABC.DEF");
	assert_string_equal(s.names[2], "ZED");
	/* a non-zero return stops */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(accord_pt_key_list(f->s, list_cb, &s, &err), 42);
	assert_int_equal(s.n, 2);
}

static void test_key_parse_strict(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_pt_key got, k = legacy_key(2);
	char *p = fpath(f, "ptkeys/TSO");
	static const char *const bad[] = {
		"",
		"\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=0102030405060708",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=0102030405060708\n\n",
		"accord-ptkey 2 alg=legacy type=upper window=600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=des type=upper window=600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy type=lower window=600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy type=mixed window=600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy type=upper window=300 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy type=upper window=0600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=maybe key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=01020304050607\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=010203040506070809\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=010203040506070\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=01020304050607G8\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=01020304050607AB\n",
		"accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=0102030405060708 \n",
		"accord-ptkey 1 alg=legacy  type=upper window=600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=legacy replay=yes type=upper window=600 key=0102030405060708\n",
		"accord-ptkey 1 alg=enhanced type=upper window=600 replay=yes key=0102030405060708\n",
		"accord-ptkey 1 alg=enhanced type=upper window=601 replay=yes key="
		"0102030405060708010203040506070801020304050607080102030405060708\n",
		"accord-ptkey 1 alg=enhanced type=upper window=0 replay=yes key="
		"0102030405060708010203040506070801020304050607080102030405060708\n",
		"accord-ptkey 1 alg=enhanced type=upper window=9999 replay=yes key="
		"0102030405060708010203040506070801020304050607080102030405060708\n",
	};
	static const char ok_enh[] =
		"accord-ptkey 1 alg=enhanced type=mixed window=5 replay=no key="
		"0102030405060708010203040506070801020304050607080102030405060708\n";
	char nul[] = "accord-ptkey 1 alg=legacy type=upper window=600 replay=yes key=01\0"
		     "02030405060708\n";
	char *big;
	size_t i;

	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lt_write_file(p, bad[i], strlen(bad[i]), 0600);
		if (accord_pt_key_get(f->s, "TSO", &got, &err) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
		assert_contains(err.msg, "damaged");
		/* what failed to parse is not handed out */
		assert_int_equal(got.len, 0);
	}
	lt_write_file(p, nul, sizeof(nul) - 1, 0600);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EBADMSG);
	big = malloc(4096);
	assert_non_null(big);
	memset(big, 'a', 4096);
	lt_write_file(p, big, 4096, 0600);
	free(big);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EBADMSG);
	lt_write_file(p, ok_enh, strlen(ok_enh), 0600);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), 0);
	assert_int_equal(got.alg, ACCORD_PT_ENHANCED);
	assert_int_equal(got.type, ACCORD_PT_MIXED);
	assert_int_equal(got.window, 5);
	assert_false(got.replay_protection);
	assert_int_equal(got.len, 32);
	accord_pt_key_wipe(&got);
	free(p);
}

static void test_key_put_refusals(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_pt_key k;
	char *dir = fpath(f, "ptkeys");

	k = legacy_key(1);
	assert_int_equal(accord_pt_key_put(f->s, "A.B.C.D", &k, &err), -EINVAL);
	assert_int_equal(accord_pt_key_put(f->s, "TOOLONGNA", &k, &err), -EINVAL);
	k.window = 300;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	assert_contains(err.msg, "window");
	k = legacy_key(1);
	k.type = ACCORD_PT_MIXED;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	k = legacy_key(1);
	k.len = 9;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	k = enhanced_key(1, 31);
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	k = enhanced_key(1, 32);
	k.window = 0;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	k.window = 601;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	k = enhanced_key(1, 32);
	k.alg = 3;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	k = enhanced_key(1, 32);
	k.type = 2;
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EINVAL);
	/* nothing was written, not even the directory */
	assert_int_equal(access(dir, F_OK), -1);
	free(dir);
}

static void test_key_trust(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_pt_key k = legacy_key(3), got;
	struct seen s = { .n = 0 };
	char *p = fpath(f, "ptkeys/TSO"), *dir = fpath(f, "ptkeys");
	char *other = fpath(f, "other"), *moved = fpath(f, "ptkeys.real");

	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), 0);
	/* group or other bits on the file */
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
	assert_contains(err.msg, "mode 0640");
	assert_int_equal(accord_pt_key_list(f->s, list_cb, &s, &err), -EPERM);
	assert_int_equal(chmod(p, 0604), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), 0);
	/* ... on the directory */
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
	assert_contains(err.msg, dir);
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	/* a second name */
	assert_int_equal(link(p, other), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
	assert_contains(err.msg, "2 links");
	assert_int_equal(unlink(other), 0);
	/* a symbolic link as the key */
	assert_int_equal(rename(p, other), 0);
	assert_int_equal(symlink(other, p), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
	assert_contains(err.msg, "symbolic link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rename(other, p), 0);
	/* a symbolic link as the directory */
	assert_int_equal(rename(dir, moved), 0);
	assert_int_equal(symlink(moved, dir), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), -EPERM);
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(rename(moved, dir), 0);
	assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), 0);
	/* a foreign owner (as root only: elsewhere the caller's own files
	 * count as root's) */
	if (geteuid() == 0) {
		assert_int_equal(chown(p, 65534, 0), 0);
		assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
		assert_contains(err.msg, "owned by uid 65534");
		assert_int_equal(chown(p, 0, 0), 0);
		assert_int_equal(chown(dir, 65534, 0), 0);
		assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), -EPERM);
		assert_int_equal(chown(dir, 0, 0), 0);
		assert_int_equal(accord_pt_key_get(f->s, "TSO", &got, &err), 0);
	}
	accord_pt_key_wipe(&got);
	free(p);
	free(dir);
	free(other);
	free(moved);
}

static void test_key_find(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_pt_key k, got;
	char found[ACCORD_PT_PROFILE_MAX + 1];
	char *p;

	assert_int_equal(accord_pt_key_find(f->s, "tso", "sys1", "alice", &got, found, &err),
			 -ENOENT);
	k = legacy_key(1);
	assert_int_equal(accord_pt_key_put(f->s, "TSO", &k, &err), 0);
	k = legacy_key(2);
	assert_int_equal(accord_pt_key_put(f->s, "TSO.SYS1", &k, &err), 0);
	k = legacy_key(3);
	assert_int_equal(accord_pt_key_put(f->s, "TSO.ALICE", &k, &err), 0);
	k = legacy_key(4);
	assert_int_equal(accord_pt_key_put(f->s, "TSO.SYS1.ALICE", &k, &err), 0);
	k = legacy_key(5);
	assert_int_equal(accord_pt_key_put(f->s, "OTHER", &k, &err), 0);

	assert_int_equal(accord_pt_key_find(f->s, "tso", "sys1", "alice", &got, found, &err), 0);
	assert_string_equal(found, "TSO.SYS1.ALICE");
	assert_int_equal(got.key[0], 4);
	/* without a group: APPL.USER, then APPL */
	assert_int_equal(accord_pt_key_find(f->s, "TSO", NULL, "ALICE", &got, found, &err), 0);
	assert_string_equal(found, "TSO.ALICE");
	assert_int_equal(accord_pt_key_find(f->s, "TSO", NULL, "BOB", &got, found, &err), 0);
	assert_string_equal(found, "TSO");
	/* another group: APPL.USER */
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "SYS2", "ALICE", &got, found, &err), 0);
	assert_string_equal(found, "TSO.ALICE");
	assert_int_equal(accord_pt_key_del(f->s, "TSO.SYS1.ALICE", &err), 0);
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "SYS1", "ALICE", &got, found, &err), 0);
	assert_string_equal(found, "TSO.ALICE");
	assert_int_equal(got.key[0], 3);
	assert_int_equal(accord_pt_key_del(f->s, "TSO.ALICE", &err), 0);
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "SYS1", "ALICE", &got, found, &err), 0);
	assert_string_equal(found, "TSO.SYS1");
	assert_int_equal(got.key[0], 2);
	/* a damaged qualified key is an error, never passed over */
	p = fpath(f, "ptkeys/TSO.SYS1");
	lt_write_file(p, "junk\n", 5, 0600);
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "SYS1", "ALICE", &got, found, &err),
			 -EBADMSG);
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "SYS1", "ALICE", &got, found, &err), 0);
	assert_string_equal(found, "TSO");
	assert_int_equal(got.key[0], 1);
	assert_int_equal(accord_pt_key_del(f->s, "TSO", &err), 0);
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "SYS1", "ALICE", &got, found, &err),
			 -ENOENT);
	/* bad IDs */
	assert_int_equal(accord_pt_key_find(f->s, "TOOLONGNA", NULL, "ALICE", &got, found,
					    &err), -EINVAL);
	assert_int_equal(accord_pt_key_find(f->s, "TSO", "A.B", "ALICE", &got, found, &err),
			 -EINVAL);
	accord_pt_key_wipe(&got);
}

/* ---- permissions ---------------------------------------------------------- */

struct perms {
	char line[16][64];
	size_t n;
};

static int perm_cb(const char *appl, uint32_t kind, const char *who, void *ctx)
{
	struct perms *p = ctx;

	assert_true(p->n < 16);
	snprintf(p->line[p->n++], sizeof(p->line[0]), "%s %s %s", appl,
		 kind == ACCORD_ACE_USER ? "user" : "group", who);
	return 0;
}

static void test_permits(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct perms p = { .n = 0 };
	char *file = fpath(f, "ptauth/TSO"), *text;

	/* removing from nothing changes nothing (and makes no directory) */
	assert_int_equal(accord_pt_permit(f->s, "tso", ACCORD_ACE_USER, "alice", false, &err), 1);
	assert_int_equal(accord_pt_permit_list(f->s, NULL, perm_cb, &p, &err), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(accord_pt_permit(f->s, "tso", ACCORD_ACE_USER, "alice", true, &err), 0);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "alice", true, &err), 1);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_GROUP, "ops", true, &err), 0);
	assert_int_equal(accord_pt_permit(f->s, "CICS", ACCORD_ACE_GROUP, "ops", true, &err), 0);
	assert_int_equal(mode_of(file), 0600);
	text = lt_read_file(file, NULL);
	assert_string_equal(text, "user alice\ngroup ops\n");
	free(text);
	assert_int_equal(accord_pt_permit_list(f->s, NULL, perm_cb, &p, &err), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.line[0], "CICS group ops");
	assert_string_equal(p.line[1], "TSO user alice");
	assert_string_equal(p.line[2], "TSO group ops");
	memset(&p, 0, sizeof(p));
	assert_int_equal(accord_pt_permit_list(f->s, "tso", perm_cb, &p, &err), 0);
	assert_int_equal(p.n, 2);
	memset(&p, 0, sizeof(p));
	assert_int_equal(accord_pt_permit_list(f->s, "NONE", perm_cb, &p, &err), 0);
	assert_int_equal(p.n, 0);
	/* remove */
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "alice", false, &err), 0);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "alice", false, &err), 1);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "ops", false, &err), 1);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_GROUP, "ops", false, &err), 0);
	assert_int_equal(access(file, F_OK), -1); /* the last one takes the file */
	/* refusals */
	assert_int_equal(accord_pt_permit(f->s, "TOOLONGNA", ACCORD_ACE_USER, "alice", true,
					  &err), -EINVAL);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "Alice", true, &err),
			 -EINVAL);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "a b", true, &err),
			 -EINVAL);
	assert_int_equal(accord_pt_permit(f->s, "TSO", 7, "alice", true, &err), -EINVAL);
	assert_int_equal(accord_pt_permit_list(f->s, "TOOLONGNA", perm_cb, &p, &err), -EINVAL);
	/* a damaged file */
	lt_write_file(file, "user alice\nwho knows\n", 21, 0600);
	assert_int_equal(accord_pt_permit_list(f->s, "TSO", perm_cb, &p, &err), -EBADMSG);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "bob", true, &err),
			 -EBADMSG);
	lt_write_file(file, "user alice\nuser alice\n", 22, 0600);
	assert_int_equal(accord_pt_permit_list(f->s, "TSO", perm_cb, &p, &err), -EBADMSG);
	lt_write_file(file, "user alice", 10, 0600);
	assert_int_equal(accord_pt_permit_list(f->s, "TSO", perm_cb, &p, &err), -EBADMSG);
	/* an untrusted one */
	lt_write_file(file, "user alice\n", 11, 0644);
	assert_int_equal(accord_pt_permit_list(f->s, "TSO", perm_cb, &p, &err), -EPERM);
	free(file);
}

/* The decision of `accordctl passticket generate` (who may ask). */
static void test_may_generate(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_state *st = lt_state(NOW);
	struct accord_snapshot snap;
	unsigned char *img;

	lt_group(st, "ops");
	lt_group(st, "audit");
	lt_user(st, "alice", NULL);
	lt_user(st, "bob", "ops");
	lt_user(st, "carol", "audit");
	img = lt_snapshot(st, 1, &snap);

	/* nothing permitted (no ptauth directory): only root */
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "tso", NULL, &err), 0);
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "tso", "bob", &err), -EACCES);
	assert_contains(err.msg, "not authorized to generate PassTickets for TSO");
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_GROUP, "ops", true, &err), 0);
	assert_int_equal(accord_pt_permit(f->s, "TSO", ACCORD_ACE_USER, "alice", true, &err), 0);
	/* by group (supplementary), by user */
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "tso", "bob", &err), 0);
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "TSO", "alice", &err), 0);
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "TSO", "carol", &err), -EACCES);
	assert_contains(err.msg, "carol is not authorized");
	/* per application */
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "CICS", "alice", &err), -EACCES);
	/* a primary group counts too */
	assert_int_equal(accord_pt_permit(f->s, "CICS", ACCORD_ACE_GROUP, "carol", true, &err), 0);
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "CICS", "carol", &err), 0);
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "CICS", "bob", &err), -EACCES);
	/* a name the snapshot does not know is no group member */
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "TSO", "nobody", &err), -EACCES);
	assert_int_equal(accord_pt_may_generate(f->s, &snap, "TOOLONGNA", NULL, &err), -EINVAL);
	/* a permission file that cannot be trusted denies */
	{
		char *file = fpath(f, "ptauth/TSO");

		assert_int_equal(chmod(file, 0644), 0);
		assert_int_equal(accord_pt_may_generate(f->s, &snap, "TSO", "bob", &err), -EPERM);
		free(file);
	}
	free(img);
	accord_state_free(st);
}

/* ---- replay cache --------------------------------------------------------- */

static void test_replay_basic(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	struct accord_secrets *s2 = NULL;
	char *dir = fpath(f, "replay");
	mode_t old = umask(0);

	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600, NOW,
						&err), 0);
	umask(old);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(count_files(dir, false), 1);
	{
		DIR *d = opendir(dir);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			char *p, *text;
			struct stat st;

			if (e->d_name[0] == '.')
				continue;
			assert_int_equal(strlen(e->d_name), 64);
			p = lt_fmt("%s/%s", dir, e->d_name);
			assert_int_equal(mode_of(p), 0600);
			text = lt_read_file(p, NULL);
			assert_string_equal(text, "1800000600\n");
			assert_int_equal(stat(p, &st), 0);
			assert_int_equal(st.st_mtime, NOW + 600);
			free(text);
			free(p);
		}
		closedir(d);
	}
	/* second use, in any case */
	assert_int_equal(accord_pt_replay_claim(f->s, "ALICE", "TSO", "ABCD1234", NOW + 600,
						NOW + 5, &err), -EALREADY);
	assert_contains(err.msg, "used before");
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "abcd1234", NOW + 600,
						NOW + 5, &err), -EALREADY);
	/* another ticket, user or application is another entry */
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1235", NOW + 600, NOW,
						&err), 0);
	assert_int_equal(accord_pt_replay_claim(f->s, "bob", "tso", "ABCD1234", NOW + 600, NOW,
						&err), 0);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "cics", "ABCD1234", NOW + 600,
						NOW, &err), 0);
	/* "ALICE\0TSO\0..." and "ALICET\0SO..." differ */
	assert_int_equal(accord_pt_replay_claim(f->s, "alicet", "so", "ABCD1234", NOW + 600,
						NOW, &err), 0);
	/* the last second of the window is still the window */
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600,
						NOW + 600, &err), -EALREADY);
	/* expired: claimed again, once */
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 1200,
						NOW + 601, &err), 0);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 1200,
						NOW + 601, &err), -EALREADY);
	/* survives closing and opening the store */
	assert_int_equal(accord_secrets_open(f->dir, false, &s2, &err), 0);
	assert_int_equal(accord_pt_replay_claim(s2, "alice", "tso", "ABCD1235", NOW + 600,
						NOW + 10, &err), -EALREADY);
	accord_secrets_close(s2);
	/* no temporary file stays */
	assert_int_equal(count_files(dir, true), count_files(dir, false) + 1 /* .lock */);
	/* bad input */
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD123", NOW + 600, NOW,
						&err), -EINVAL);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD12345", NOW + 600,
						NOW, &err), -EINVAL);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD 123", NOW + 600, NOW,
						&err), -EINVAL);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", NULL, NOW + 600, NOW,
						&err), -EINVAL);
	assert_int_equal(accord_pt_replay_claim(f->s, "toolongna", "tso", "ABCD1234", NOW + 600,
						NOW, &err), -EINVAL);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "", "ABCD1234", NOW + 600, NOW,
						&err), -EINVAL);
	/* MIXED alphabet */
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "aB-_9xYz", NOW + 600, NOW,
						&err), 0);
	free(dir);
}

static void test_replay_damaged_and_trust(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	char *dir = fpath(f, "replay"), *entry = NULL, *other = fpath(f, "x");
	DIR *d;
	struct dirent *e;

	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600, NOW,
						&err), 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strlen(e->d_name) == 64)
			entry = lt_fmt("%s/%s", dir, e->d_name);
	closedir(d);
	assert_non_null(entry);
	/* damaged content: claimed until its change time + 1200 s (fail
	 * closed), then reclaimable */
	lt_write_file(entry, "garbage", 7, 0600);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234",
						(int64_t)time(NULL) + 600,
						(int64_t)time(NULL) + 1100, &err), -EALREADY);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234",
						(int64_t)time(NULL) + 2000,
						(int64_t)time(NULL) + 1300, &err), 0);
	lt_write_file(entry, "garbage", 7, 0600);
	/* an untrusted entry: the claim fails closed */
	assert_int_equal(chmod(entry, 0644), 0);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600, NOW,
						&err), -EPERM);
	assert_int_equal(unlink(entry), 0);
	assert_int_equal(symlink(other, entry), 0);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600, NOW,
						&err), -EPERM);
	assert_int_equal(unlink(entry), 0);
	/* the directory */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600, NOW,
						&err), -EPERM);
	assert_contains(err.msg, "mode 0755");
	assert_int_equal(chmod(dir, 0700), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 0), 0);
		assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234",
							NOW + 600, NOW, &err), -EPERM);
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", "ABCD1234", NOW + 600, NOW,
						&err), 0);
	free(entry);
	free(dir);
	free(other);
}

static void test_replay_sweep(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	char *dir = fpath(f, "replay"), t[9];
	int i;

	/* 20 entries that expired long ago, 3 alive */
	for (i = 0; i < 20; i++) {
		snprintf(t, sizeof(t), "OLD%05d", i);
		assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", t, NOW - 5000,
							NOW - 5600, &err), 0);
	}
	for (i = 0; i < 3; i++) {
		snprintf(t, sizeof(t), "NEW%05d", i);
		assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", t, NOW + 600,
							NOW - 5600, &err), 0);
	}
	assert_int_equal(count_files(dir, false), 23);
	/* each claim removes a bounded number */
	assert_int_equal(accord_pt_replay_claim(f->s, "bob", "tso", "AAAAAAAA", NOW + 600, NOW,
						&err), 0);
	assert_true(count_files(dir, false) < 24);
	assert_true(count_files(dir, false) >= 24 - 16);
	assert_int_equal(accord_pt_replay_claim(f->s, "bob", "tso", "AAAAAAAB", NOW + 600, NOW,
						&err), 0);
	/* only the live ones remain (3 + 2 new) */
	assert_int_equal(count_files(dir, false), 5);
	for (i = 0; i < 3; i++) {
		snprintf(t, sizeof(t), "NEW%05d", i);
		assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", t, NOW + 600, NOW,
							&err), -EALREADY);
	}
	free(dir);
}

/*
 * n processes claim the same ticket at once (released together through a
 * pipe).  Returns how many got 0; every other one must get -EALREADY.
 */
static int race(struct fx *f, const char *ticket, int64_t expires, int64_t now, int n)
{
	int go[2], i, winners = 0;
	pid_t pids[16];

	assert_true(n <= 16);
	assert_int_equal(pipe(go), 0);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct accord_secrets *s = NULL;
			struct accord_err err = { 0 };
			char c;
			int r;

			close(go[1]);
			/* each its own store handle, as separate logons have */
			if (accord_secrets_open(f->dir, false, &s, &err) != 0)
				_exit(3);
			if (read(go[0], &c, 1) != 0)
				_exit(4);
			r = accord_pt_replay_claim(s, "alice", "tso", ticket, expires, now, &err);
			accord_secrets_close(s);
			if (r != 0 && r != -EALREADY)
				fprintf(stderr, "claim: %d %s\n", r, err.msg);
			_exit(r == 0 ? 0 : r == -EALREADY ? 1 : 2);
		}
	}
	close(go[0]);
	close(go[1]);  /* go */
	for (i = 0; i < n; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			winners++;
		else if (WEXITSTATUS(status) != 1)
			fail_msg("claimer exited %d", WEXITSTATUS(status));
	}
	return winners;
}

static void test_replay_concurrent(void **state)
{
	struct fx *f = *state;
	struct accord_err err = { 0 };
	char t[9];
	int round;

	for (round = 0; round < 25; round++) {
		snprintf(t, sizeof(t), "RACE%04d", round);
		assert_int_equal(race(f, t, NOW + 600, NOW, 8), 1);
	}
	/* racing over an expired entry: still exactly one */
	for (round = 0; round < 10; round++) {
		snprintf(t, sizeof(t), "EXPD%04d", round);
		assert_int_equal(accord_pt_replay_claim(f->s, "alice", "tso", t, NOW - 10,
							NOW - 20, &err), 0);
		assert_int_equal(race(f, t, NOW + 600, NOW, 8), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_names),
		cmocka_unit_test_setup_teardown(test_key_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_parse_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_put_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_may_generate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_damaged_and_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
