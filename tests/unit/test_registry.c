/* SPDX-License-Identifier: MIT */
/*
 * The registry directory (common/registry.c, common/store_dir.c,
 * common/journal.c): init, open, transactions, the journal, check,
 * leftovers of a killed writer, the generation fence, the writer lock
 * between processes, and sync to a host-local path.
 */
#include "unit_util.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot_format.h"

struct fx {
	char *base, *dir;
	struct accord_registry *reg;
	struct accord_actor actor;
	struct accord_config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct accord_range r = { 1000, 1999 };
	struct accord_err err = { 0 };

	assert_non_null(f);
	umask(022); /* the modes checked below assume it; see test_strict_umask */
	f->base = unit_mkdtemp();
	f->dir = unit_path(f->base, "reg");
	unit_actor(&f->actor);
	accord_config_defaults(&f->cfg);
	f->cfg.lock_timeout = 1;
	if (accord_registry_init(f->dir, &r, &r, &f->actor, &err) != 0)
		fail_msg("init: %s", err.msg);
	if (accord_registry_open(f->dir, &f->cfg, &f->reg, &err) != 0)
		fail_msg("open: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	accord_registry_close(f->reg);
	unit_rmtree(f->base);
	free(f->dir);
	free(f->base);
	free(f);
	return 0;
}

static char *rpath(const struct fx *f, const char *rel)
{
	return unit_path(f->dir, rel);
}

static uint64_t current_gen(struct fx *f)
{
	struct accord_snapshot s;
	struct accord_err err = { 0 };
	uint64_t g;

	if (accord_registry_current(f->reg, true, &s, &err) != 0)
		fail_msg("current: %s", err.msg);
	g = s.generation;
	accord_snapshot_unmap(&s);
	return g;
}

static bool current_has_user(struct fx *f, const char *name)
{
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_err err = { 0 };
	bool found;

	assert_int_equal(accord_registry_current(f->reg, true, &s, &err), 0);
	found = accord_snap_user_by_name(&s, name, &u) == 0;
	accord_snapshot_unmap(&s);
	return found;
}

/* begin, user add NAME, commit "user add NAME"; returns the generation. */
static uint64_t commit_add(struct fx *f, const char *name, size_t *nchanges)
{
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	char op[64];
	uint64_t gen = 0;
	size_t n = 0;

	if (accord_txn_begin(f->reg, &f->actor, &tx, &err) != 0)
		fail_msg("begin: %s", err.msg);
	if (unit_add(accord_txn_state(tx), name, &err) != 0)
		fail_msg("user add: %s", err.msg);
	snprintf(op, sizeof(op), "user add %s", name);
	if (accord_txn_commit(tx, op, &gen, &n, &err) != 0)
		fail_msg("commit: %s", err.msg);
	if (nchanges)
		*nchanges = n;
	return gen;
}

/* ---- journal collection --------------------------------------------- */

struct jlines {
	uint64_t gen[64];
	char *line[64];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect(uint64_t gen, const char *line, void *ctx)
{
	struct jlines *j = ctx;

	assert_true(j->n < 64);
	j->gen[j->n] = gen;
	j->line[j->n] = strdup(line);
	j->n++;
	return j->stop_after && j->n >= j->stop_after ? 1 : 0;
}

static void jlines_free(struct jlines *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		free(j->line[i]);
	j->n = 0;
}

static json_object *parse(const char *line)
{
	json_object *o = json_tokener_parse(line);

	if (!o)
		fail_msg("not JSON: %s", line);
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		fail_msg("no string '%s' in %s", key, json_object_to_json_string(o));
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		fail_msg("no integer '%s' in %s", key, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

static json_object *jobj(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* Looks for a change line with these change/kind/name values. */
static json_object *find_change(const struct jlines *j, uint64_t gen, const char *change,
				const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		json_object *o;

		if (j->gen[i] != gen || !strstr(j->line[i], "\"change\""))
			continue;
		o = parse(j->line[i]);
		if (!strcmp(jstr(o, "change"), change) && !strcmp(jstr(o, "kind"), kind) &&
		    !strcmp(jstr(o, "name"), name))
			return o;
		json_object_put(o);
	}
	fail_msg("no %s %s %s in entry %" PRIu64, change, kind, name, gen);
	return NULL;
}

/* ---- check collection ------------------------------------------------ */

struct findings {
	int n[4];
	char text[8192];
};

static void on_finding(enum accord_finding lvl, const char *what, const char *detail,
		       void *ctx)
{
	static const char *const names[] = { "OK", "NOTE", "WARNING", "ERROR" };
	struct findings *fs = ctx;
	size_t used = strlen(fs->text);

	fs->n[lvl]++;
	snprintf(fs->text + used, sizeof(fs->text) - used, "%s %s: %s\n", names[lvl], what,
		 detail);
}

static int check(struct fx *f, const char *local, struct findings *fs)
{
	struct accord_err err = { 0 };
	int r;

	memset(fs, 0, sizeof(*fs));
	r = accord_registry_check(f->reg, local, on_finding, fs, &err);
	assert_true(r >= 0);
	assert_int_equal(r, fs->n[ACCORD_FIND_ERROR]);
	return r;
}

/* ---- tests ------------------------------------------------------------ */

static void test_init_layout(void **state)
{
	struct fx *f = *state;
	static const char *const files[] = { "registry.meta", "LOCK", "CURRENT",
					     "snap/gen-0000000001", "journal/0000000001.txn" };
	struct accord_snapshot s;
	struct accord_err err = { 0 };
	struct findings fs;
	struct stat st;
	char uuid[37], suuid[37], *p, *meta;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = rpath(f, files[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		if ((st.st_mode & 07777) != 0644)
			fail_msg("%s has mode %o", files[i], st.st_mode & 07777);
		free(p);
	}
	for (i = 0; i < 3; i++) {
		p = rpath(f, (const char *[]){ "snap", "journal", "aborted" }[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0755);
		free(p);
	}
	assert_string_equal(accord_registry_path(f->reg), f->dir);
	accord_registry_uuid(f->reg, uuid);
	assert_int_equal(strlen(uuid), 36);
	assert_int_equal(uuid[14], '4'); /* random (version 4) UUID */
	p = rpath(f, "registry.meta");
	meta = unit_read_file(p, NULL);
	free(p);
	assert_contains(meta, uuid);
	assert_contains(meta, "uid_range = 1000-1999");
	assert_contains(meta, "format = 1");
	free(meta);

	assert_int_equal(accord_registry_current(f->reg, true, &s, &err), 0);
	assert_int_equal(s.generation, 1);
	assert_int_equal(s.user_count, 0);
	assert_int_equal(s.group_count, 0);
	snprintf(suuid, sizeof(suuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 s.uuid[0], s.uuid[1], s.uuid[2], s.uuid[3], s.uuid[4], s.uuid[5], s.uuid[6],
		 s.uuid[7], s.uuid[8], s.uuid[9], s.uuid[10], s.uuid[11], s.uuid[12],
		 s.uuid[13], s.uuid[14], s.uuid[15]);
	assert_string_equal(suuid, uuid);
	accord_snapshot_unmap(&s);
	assert_int_equal(check(f, NULL, &fs), 0);
	assert_true(fs.n[ACCORD_FIND_OK] > 0);
	assert_int_equal(fs.n[ACCORD_FIND_NOTE] + fs.n[ACCORD_FIND_WARNING], 0);
}

static void test_init_refusals(void **state)
{
	struct fx *f = *state;
	struct accord_range r = { 1000, 1999 }, bad = { 500, 1999 };
	struct accord_err err = { 0 };
	struct accord_registry *reg = NULL;
	char *other = unit_path(f->base, "other"), *meta = rpath(f, "registry.meta");
	char u1[37], u2[37];

	assert_int_equal(accord_registry_init(f->dir, &r, &r, &f->actor, &err), -EEXIST);
	assert_contains(err.msg, "already an accord registry");
	/* the base directory holds reg/: not empty, and not a registry */
	assert_int_equal(accord_registry_init(f->base, &r, &r, &f->actor, &err), -EEXIST);
	assert_contains(err.msg, "not empty");
	assert_int_equal(accord_registry_init("relative/reg", &r, &r, &f->actor, &err),
			 -EINVAL);
	assert_contains(err.msg, "absolute");
	assert_int_equal(accord_registry_init(other, &bad, &r, &f->actor, &err), -EINVAL);
	assert_contains(err.msg, "UID range");
	assert_int_equal(accord_registry_init(other, &r, &bad, &f->actor, &err), -EINVAL);
	assert_contains(err.msg, "GID range");
	assert_false(unit_exists(other));

	/* two registries never share a UUID */
	assert_int_equal(accord_registry_init(other, &r, &r, &f->actor, &err), 0);
	assert_int_equal(accord_registry_open(other, NULL, &reg, &err), 0);
	accord_registry_uuid(reg, u1);
	accord_registry_uuid(f->reg, u2);
	assert_string_not_equal(u1, u2);
	accord_registry_close(reg);

	/* open: not a registry, missing, untrusted directory or metadata */
	assert_int_equal(accord_registry_open(f->base, NULL, &reg, &err), -ENOENT);
	assert_contains(err.msg, "not an accord registry");
	assert_int_equal(accord_registry_open("/nonexistent/accord", NULL, &reg, &err), -ENOENT);
	assert_int_equal(accord_registry_open("", NULL, &reg, &err), -EINVAL);
	assert_contains(err.msg, "no registry configured");
	assert_int_equal(chmod(other, 0775), 0);
	assert_int_equal(accord_registry_open(other, NULL, &reg, &err), -EPERM);
	assert_contains(err.msg, "not writable by group or others");
	assert_int_equal(chmod(other, 0755), 0);
	assert_int_equal(chmod(meta, 0666), 0);
	assert_int_equal(accord_registry_open(f->dir, NULL, &reg, &err), -EPERM);
	assert_int_equal(chmod(meta, 0644), 0);
	free(meta);
	free(other);
}

static void test_commit_and_journal(void **state)
{
	struct fx *f = *state;
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	struct jlines j = { 0 };
	json_object *o, *a, *b;
	uint64_t gen = 0;
	size_t n = 0, i, changes;

	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	assert_int_equal(accord_txn_base_generation(tx), 1);
	assert_int_equal(unit_add(accord_txn_state(tx), "alice", &err), 0);
	assert_int_equal(accord_txn_commit(tx, "user add alice", &gen, &n, &err), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(n, 3); /* the user, its group, the counters */
	assert_int_equal(current_gen(f), 2);
	assert_true(current_has_user(f, "alice"));

	assert_int_equal(accord_registry_journal(f->reg, 2, collect, &j, &err), 0);
	assert_int_equal(j.n, n + 2);
	for (i = 0; i < j.n; i++)
		assert_int_equal(j.gen[i], 2);
	o = parse(j.line[0]);
	assert_int_equal(jint(o, "accord_journal"), 1);
	assert_int_equal(jint(o, "generation"), 2);
	assert_string_equal(jstr(o, "operation"), "user add alice");
	assert_true(jint(o, "epoch") > 1600000000);
	assert_string_equal(jstr(jobj(o, "actor"), "user"), "tester");
	assert_string_equal(jstr(jobj(o, "actor"), "host"), "testhost");
	assert_int_equal(jint(jobj(o, "actor"), "pid"), 4242);
	assert_contains(jstr(o, "time"), "T");
	json_object_put(o);
	o = parse(j.line[j.n - 1]);
	assert_int_equal(jint(o, "end"), 2);
	assert_int_equal(jint(o, "changes"), (int64_t)n);
	json_object_put(o);
	assert_int_equal(strncmp(j.line[j.n - 1], "{\"end\":2,", 9), 0);
	for (i = 1, changes = 0; i + 1 < j.n; i++)
		changes += strstr(j.line[i], "\"change\"") != NULL;
	assert_int_equal(changes, n);
	o = find_change(&j, 2, "add", "user", "alice");
	assert_null(jobj(o, "before"));
	assert_int_equal(jint(jobj(o, "after"), "uid"), 1000);
	assert_string_equal(jstr(jobj(o, "after"), "home"), "/home/alice");
	json_object_put(o);
	o = find_change(&j, 2, "add", "group", "alice");
	assert_int_equal(jint(jobj(o, "after"), "gid"), 1000);
	json_object_put(o);
	o = find_change(&j, 2, "change", "counters", "registry");
	assert_int_equal(jint(jobj(o, "before"), "next_uid"), 1000);
	assert_int_equal(jint(jobj(o, "after"), "next_uid"), 1001);
	json_object_put(o);
	jlines_free(&j);

	/* a change shows before and after */
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	{
		struct accord_user_spec s = { .name = "alice", .gecos = "Alice A" };

		assert_int_equal(accord_user_mod(accord_txn_state(tx), &s, &err), 0);
	}
	assert_int_equal(accord_txn_commit(tx, "user mod alice", &gen, &n, &err), 0);
	assert_int_equal(gen, 3);
	assert_int_equal(n, 1);
	/* a delete shows before, and the tombstones it retires */
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	assert_int_equal(accord_user_del(accord_txn_state(tx), "alice", &err), 0);
	assert_int_equal(accord_txn_commit(tx, "user del alice", &gen, &n, &err), 0);
	assert_int_equal(gen, 4);
	assert_int_equal(n, 4); /* user, group, two tombstones */

	assert_int_equal(accord_registry_journal(f->reg, 0, collect, &j, &err), 0);
	assert_int_equal(j.gen[0], 1);
	o = parse(j.line[0]);
	assert_string_equal(jstr(o, "operation"), "init");
	json_object_put(o);
	o = find_change(&j, 3, "change", "user", "alice");
	a = jobj(o, "before");
	b = jobj(o, "after");
	assert_string_equal(jstr(a, "gecos"), "");
	assert_string_equal(jstr(b, "gecos"), "Alice A");
	json_object_put(o);
	o = find_change(&j, 4, "delete", "user", "alice");
	assert_int_equal(jint(jobj(o, "before"), "uid"), 1000);
	assert_null(jobj(o, "after"));
	json_object_put(o);
	o = find_change(&j, 4, "delete", "group", "alice");
	json_object_put(o);
	o = find_change(&j, 4, "retire", "tombstone", "alice");
	assert_string_equal(jstr(jobj(o, "after"), "by"), "tester");
	json_object_put(o);
	assert_int_equal(j.gen[j.n - 1], 4);
	assert_int_equal(strncmp(j.line[j.n - 1], "{\"end\":4,", 9), 0);
	jlines_free(&j);

	/* since: only from that generation on; a non-zero return stops */
	assert_int_equal(accord_registry_journal(f->reg, 3, collect, &j, &err), 0);
	assert_int_equal(j.gen[0], 3);
	assert_int_equal(j.gen[j.n - 1], 4);
	jlines_free(&j);
	j.stop_after = 1;
	assert_int_equal(accord_registry_journal(f->reg, 0, collect, &j, &err), 0);
	assert_int_equal(j.n, 1);
	jlines_free(&j);
}

static void test_commit_without_change(void **state)
{
	struct fx *f = *state;
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	char *cur = rpath(f, "CURRENT"), *jdir = rpath(f, "journal"), *sdir = rpath(f, "snap");
	char *before, *after;
	uint64_t gen = 0;
	size_t n = 99;

	assert_int_equal(commit_add(f, "alice", NULL), 2);
	before = unit_read_file(cur, NULL);
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	assert_int_equal(accord_txn_commit(tx, "nothing", &gen, &n, &err), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(n, 0);
	/* operations that answer "nothing to do" publish nothing either */
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	assert_int_equal(accord_user_status_op(accord_txn_state(tx), "alice", ACCORD_OP_ENABLE,
					       NULL, &err), 1);
	assert_int_equal(accord_txn_commit(tx, "user enable alice", &gen, &n, &err), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(n, 0);
	after = unit_read_file(cur, NULL);
	assert_string_equal(before, after);
	assert_int_equal(unit_count_entries(jdir, ""), 2);
	assert_int_equal(unit_count_entries(sdir, ""), 2);
	assert_int_equal(current_gen(f), 2);
	free(after);
	free(before);
	free(sdir);
	free(jdir);
	free(cur);
}

static void test_abort(void **state)
{
	struct fx *f = *state;
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	char *cur = rpath(f, "CURRENT"), *jdir = rpath(f, "journal"), *sdir = rpath(f, "snap");
	char *before, *after;
	struct findings fs;

	assert_int_equal(commit_add(f, "alice", NULL), 2);
	before = unit_read_file(cur, NULL);
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	assert_int_equal(unit_add(accord_txn_state(tx), "bob", &err), 0);
	accord_txn_abort(tx);
	after = unit_read_file(cur, NULL);
	assert_string_equal(before, after);
	assert_int_equal(current_gen(f), 2);
	assert_false(current_has_user(f, "bob"));
	assert_int_equal(unit_count_entries(jdir, ""), 2);
	assert_int_equal(unit_count_entries(sdir, ""), 2);
	assert_int_equal(unit_count_entries(f->dir, ".tmp"), 0);
	assert_int_equal(check(f, NULL, &fs), 0);
	/* the lock was released, and the next writer starts clean */
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	assert_null(accord_state_user(accord_txn_state(tx), "bob"));
	accord_txn_abort(tx);
	assert_int_equal(commit_add(f, "bob", NULL), 3);
	free(after);
	free(before);
	free(sdir);
	free(jdir);
	free(cur);
}

/* Replaces a file's contents, returning the old ones (to restore). */
static char *swap_file(const char *path, const char *text, size_t *oldlen)
{
	char *old = unit_read_file(path, oldlen);

	assert_non_null(old);
	unit_write_file(path, text, strlen(text));
	return old;
}

static void test_check_finds_damage(void **state)
{
	struct fx *f = *state;
	struct findings fs;
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	char *j2 = rpath(f, "journal/0000000002.txn"), *cur = rpath(f, "CURRENT");
	char *snap3 = rpath(f, "snap/gen-0000000003"), *saved, *cut;
	size_t len;

	assert_int_equal(commit_add(f, "alice", NULL), 2);
	assert_int_equal(commit_add(f, "bob", NULL), 3);
	assert_int_equal(check(f, NULL, &fs), 0);
	assert_contains(fs.text, "entries 1-3 present and complete");

	/* a journal entry deleted */
	saved = unit_read_file(j2, &len);
	assert_int_equal(unlink(j2), 0);
	assert_true(check(f, NULL, &fs) >= 1);
	assert_contains(fs.text, "ERROR journal: entry 2 is missing");
	/* cut before its end line */
	cut = strdup(saved);
	*strstr(cut, "{\"end\"") = '\0';
	unit_write_file(j2, cut, strlen(cut));
	free(cut);
	assert_true(check(f, NULL, &fs) >= 1);
	assert_contains(fs.text, "entry 2 is incomplete");
	unit_write_file(j2, saved, len);
	free(saved);
	assert_int_equal(check(f, NULL, &fs), 0);

	/* CURRENT garbage, or pointing at a generation that does not exist */
	saved = swap_file(cur, "garbage\n", &len);
	assert_true(check(f, NULL, &fs) >= 1);
	assert_contains(fs.text, "ERROR CURRENT");
	/* and no writer builds on it */
	assert_true(accord_txn_begin(f->reg, &f->actor, &tx, &err) < 0);
	assert_contains(err.msg, "CURRENT");
	free(swap_file(cur, "generation = 9\nsize = 100\nchecksum = 0\n", NULL));
	assert_true(check(f, NULL, &fs) >= 1);
	assert_contains(fs.text, "ERROR snapshot");
	unit_write_file(cur, saved, len);
	free(saved);
	assert_int_equal(check(f, NULL, &fs), 0);

	/* the current snapshot damaged in its body: its header still opens,
	 * the deep check does not pass, and no writer builds on it */
	saved = unit_read_file(snap3, &len);
	saved[len - 1] ^= 0x40;
	assert_int_equal(chmod(snap3, 0644), 0);
	unit_write_file(snap3, saved, len);
	assert_true(check(f, NULL, &fs) >= 1);
	assert_contains(fs.text, "checksum");
	err.msg[0] = '\0';
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), -EBADMSG);
	assert_contains(err.msg, "checksum");
	assert_contains(err.msg, "generation 3");
	saved[len - 1] ^= 0x40;
	unit_write_file(snap3, saved, len);
	free(saved);
	assert_int_equal(check(f, NULL, &fs), 0);

	/* the whole journal gone */
	{
		char *jdir = rpath(f, "journal"), *j1 = rpath(f, "journal/0000000001.txn");
		char *j3 = rpath(f, "journal/0000000003.txn"), *s1, *s2, *s3;
		size_t l1, l2, l3;

		s1 = unit_read_file(j1, &l1);
		s2 = unit_read_file(j2, &l2);
		s3 = unit_read_file(j3, &l3);
		assert_int_equal(unlink(j1) | unlink(j2) | unlink(j3), 0);
		assert_int_equal(unit_count_entries(jdir, ""), 0);
		assert_int_equal(check(f, NULL, &fs), 3);
		assert_contains(fs.text, "entry 1 is missing");
		assert_contains(fs.text, "entry 3 is missing");
		unit_write_file(j1, s1, l1);
		unit_write_file(j2, s2, l2);
		unit_write_file(j3, s3, l3);
		assert_int_equal(check(f, NULL, &fs), 0);
		free(s3);
		free(s2);
		free(s1);
		free(j3);
		free(j1);
		free(jdir);
	}

	/* writable by others */
	assert_int_equal(chmod(snap3, 0666), 0);
	assert_true(check(f, NULL, &fs) >= 1);
	assert_int_equal(chmod(snap3, 0644), 0);
	assert_int_equal(check(f, NULL, &fs), 0);
	free(snap3);
	free(cur);
	free(j2);
}

/* What a writer killed between writing its files and moving CURRENT
 * leaves behind: harmless for check, cleared by the next commit. */
static void test_crashed_writer_leftovers(void **state)
{
	struct fx *f = *state;
	struct findings fs;
	struct jlines j = { 0 };
	struct accord_err err = { 0 };
	char *j3 = rpath(f, "journal/0000000003.txn"), *s3 = rpath(f, "snap/gen-0000000003");
	char *tmp1 = rpath(f, "snap/.tmp-4242-1"), *tmp2 = rpath(f, "journal/.tmp-3-4242");
	char *aborted = rpath(f, "aborted");
	static const char partial[] = "{\"accord_journal\":1,\"generation\":3,"
				      "\"operation\":\"user add ghost\"}\n";
	json_object *o;

	assert_int_equal(commit_add(f, "alice", NULL), 2);
	unit_write_file(j3, partial, sizeof(partial) - 1);
	unit_write_file(s3, "half a snapshot", 15);
	unit_write_file(tmp1, "x", 1);
	unit_write_file(tmp2, "y", 1);

	assert_int_equal(check(f, NULL, &fs), 0);
	assert_true(fs.n[ACCORD_FIND_NOTE] >= 4);
	assert_contains(fs.text, "NOTE journal: entry 3 belongs to a commit that was interrupted");
	assert_contains(fs.text, "NOTE snapshots: gen-0000000003");
	assert_contains(fs.text, "snap/.tmp-4242-1");
	assert_contains(fs.text, "journal/.tmp-3-4242");
	assert_int_equal(current_gen(f), 2);
	/* the journal does not show the unpublished entry */
	assert_int_equal(accord_registry_journal(f->reg, 0, collect, &j, &err), 0);
	assert_int_equal(j.gen[j.n - 1], 2);
	jlines_free(&j);

	assert_int_equal(commit_add(f, "bob", NULL), 3);
	assert_true(current_has_user(f, "bob"));
	assert_false(unit_exists(tmp1));
	assert_false(unit_exists(tmp2));
	assert_int_equal(unit_count_entries(aborted, "journal-0000000003.txn"), 1);
	assert_int_equal(unit_count_entries(aborted, "snap-0000000003"), 1);
	assert_int_equal(check(f, NULL, &fs), 0);
	assert_int_equal(fs.n[ACCORD_FIND_NOTE], 0);
	/* entry 3 is the real one now */
	assert_int_equal(accord_registry_journal(f->reg, 3, collect, &j, &err), 0);
	o = parse(j.line[0]);
	assert_string_equal(jstr(o, "operation"), "user add bob");
	json_object_put(o);
	assert_int_equal(strncmp(j.line[j.n - 1], "{\"end\":3,", 9), 0);
	jlines_free(&j);
	free(aborted);
	free(tmp2);
	free(tmp1);
	free(s3);
	free(j3);
}

/*
 * The fence: a writer whose base generation is no longer current publishes
 * nothing.  fcntl() locks do not exclude each other within one process,
 * and closing any descriptor of the LOCK file drops them all: exactly the
 * "lock lost" situation the generation check exists for.
 */
static void test_fence_stale_writer(void **state)
{
	struct fx *f = *state;
	struct accord_registry *reg2 = NULL;
	struct accord_txn *a = NULL, *b = NULL;
	struct accord_err err = { 0 };
	struct findings fs;
	char *jdir = rpath(f, "journal"), *sdir = rpath(f, "snap"), *cur = rpath(f, "CURRENT");
	char *before;
	uint64_t gen = 0;
	size_t n = 0;

	assert_int_equal(commit_add(f, "alice", NULL), 2);
	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &a, &err), 0);
	assert_int_equal(unit_add(accord_txn_state(a), "dave", &err), 0);

	assert_int_equal(accord_registry_open(f->dir, &f->cfg, &reg2, &err), 0);
	assert_int_equal(accord_txn_begin(reg2, &f->actor, &b, &err), 0);
	assert_int_equal(unit_add(accord_txn_state(b), "carol", &err), 0);
	assert_int_equal(accord_txn_commit(b, "user add carol", &gen, &n, &err), 0);
	assert_int_equal(gen, 3);
	before = unit_read_file(cur, NULL);

	gen = 77;
	assert_int_equal(accord_txn_commit(a, "user add dave", &gen, &n, &err), -ESTALE);
	assert_contains(err.msg, "from generation 2 to 3");
	assert_contains(err.msg, "nothing was written");
	assert_int_equal(gen, 77);
	{
		char *after = unit_read_file(cur, NULL);

		assert_string_equal(before, after);
		free(after);
	}
	assert_int_equal(current_gen(f), 3);
	assert_true(current_has_user(f, "carol"));
	assert_false(current_has_user(f, "dave"));
	assert_int_equal(unit_count_entries(jdir, ""), 3);
	assert_int_equal(unit_count_entries(sdir, ""), 3);
	assert_int_equal(unit_count_entries(f->dir, ".tmp"), 0);
	assert_int_equal(check(f, NULL, &fs), 0);
	assert_int_equal(fs.n[ACCORD_FIND_NOTE], 0);
	accord_registry_close(reg2);
	/* a retry from the new base succeeds */
	assert_int_equal(commit_add(f, "dave", NULL), 4);
	free(before);
	free(cur);
	free(sdir);
	free(jdir);
}

/* Between processes the lock excludes: a second writer waits, then gives
 * up with a message naming the holder; after the first one is done it
 * gets through. */
static void test_lock_between_processes(void **state)
{
	struct fx *f = *state;
	struct accord_txn *tx = NULL;
	struct accord_err err = { 0 };
	char expect[64];
	pid_t pid;
	int status = -1;

	assert_int_equal(accord_txn_begin(f->reg, &f->actor, &tx, &err), 0);
	snprintf(expect, sizeof(expect), "pid %ld on", (long)getpid());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct accord_config cfg = f->cfg;
		struct accord_registry *reg = NULL;
		struct accord_txn *ctx = NULL;
		int rc = 1;

		cfg.lock_timeout = 0;
		if (accord_registry_open(f->dir, &cfg, &reg, &err) == 0) {
			int r = accord_txn_begin(reg, &f->actor, &ctx, &err);

			if (r == -EAGAIN && strstr(err.msg, "busy") && strstr(err.msg, expect))
				rc = 0;
			else if (r == 0)
				accord_txn_abort(ctx);
			accord_registry_close(reg);
		}
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("a second process took the writer lock (or said nothing useful)");
	accord_txn_abort(tx);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct accord_registry *reg = NULL;
		struct accord_txn *ctx = NULL;
		uint64_t gen = 0;
		int rc = 1;

		if (accord_registry_open(f->dir, &f->cfg, &reg, &err) == 0) {
			if (accord_txn_begin(reg, &f->actor, &ctx, &err) == 0 &&
			    unit_add(accord_txn_state(ctx), "kid", &err) == 0 &&
			    accord_txn_commit(ctx, "user add kid", &gen, NULL, &err) == 0 && gen == 2)
				rc = 0;
			accord_registry_close(reg);
		}
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(current_has_user(f, "kid"));
}

static void test_snapshot_grace(void **state)
{
	struct fx *f = *state;
	struct accord_config cfg = f->cfg;
	struct accord_err err = { 0 };
	char *sdir = rpath(f, "snap"), *g1 = rpath(f, "snap/gen-0000000001");
	char *g2 = rpath(f, "snap/gen-0000000002");

	/* within the grace period nothing old goes */
	assert_int_equal(commit_add(f, "a", NULL), 2);
	assert_int_equal(commit_add(f, "b", NULL), 3);
	assert_int_equal(unit_count_entries(sdir, "gen-"), 3);
	/* with no grace, all before the previous generation go */
	cfg.snapshot_grace = 0;
	accord_registry_close(f->reg);
	assert_int_equal(accord_registry_open(f->dir, &cfg, &f->reg, &err), 0);
	assert_int_equal(commit_add(f, "c", NULL), 4);
	assert_int_equal(unit_count_entries(sdir, "gen-"), 2);
	assert_false(unit_exists(g1));
	assert_false(unit_exists(g2));
	assert_int_equal(commit_add(f, "d", NULL), 5);
	assert_int_equal(unit_count_entries(sdir, "gen-"), 2);
	assert_int_equal(current_gen(f), 5);
	free(g2);
	free(g1);
	free(sdir);
}

static void write_foreign_snapshot(const char *path, const unsigned char uuid[16],
				   uint64_t gen)
{
	struct accord_state *st = unit_state();
	struct accord_err err = { 0 };
	unsigned char *img;
	size_t len;

	assert_int_equal(unit_add(st, "intruder", &err), 0);
	img = unit_build(st, gen, uuid, &len);
	unit_write_file(path, img, len);
	free(img);
	accord_state_free(st);
}

static uint64_t file_gen(const char *path, unsigned char uuid[16])
{
	struct accord_snapshot s;
	accord_snap_why why = NULL;
	uint64_t g;

	if (accord_snapshot_map_file(path, ACCORD_SNAP_TRUSTED_OWNER, &s, &why) != 0)
		fail_msg("%s: %s", path, why);
	assert_int_equal(accord_snapshot_verify(&s, &why), 0);
	g = s.generation;
	if (uuid)
		memcpy(uuid, s.uuid, 16);
	accord_snapshot_unmap(&s);
	return g;
}

static void test_sync(void **state)
{
	struct fx *f = *state;
	struct accord_sync_result res;
	struct accord_err err = { 0 };
	struct accord_snapshot cur;
	struct findings fs;
	struct stat st;
	unsigned char uuid[16], other[16];
	char *target = unit_path(f->base, "host/var/snapshot");
	char *hostdir = unit_path(f->base, "host");

	assert_int_equal(commit_add(f, "alice", NULL), 2);
	assert_int_equal(mkdir(hostdir, 0755), 0);
	/* before any sync, check warns (the host serves nobody) */
	assert_int_equal(check(f, target, &fs), 0);
	assert_int_equal(fs.n[ACCORD_FIND_WARNING], 1);
	assert_contains(fs.text, "run 'accordctl sync'");

	assert_int_equal(accord_registry_sync(f->reg, target, false, 0, &res, &err), 0);
	assert_true(res.changed);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.previous, 0);
	assert_int_equal(res.users, 1);
	assert_int_equal(res.groups, 1);
	assert_int_equal(file_gen(target, uuid), 2);
	assert_int_equal(accord_registry_current(f->reg, false, &cur, &err), 0);
	assert_memory_equal(uuid, cur.uuid, 16);
	accord_snapshot_unmap(&cur);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(check(f, target, &fs), 0);
	assert_int_equal(fs.n[ACCORD_FIND_WARNING], 0);
	assert_contains(fs.text, "is generation 2 and verified");

	/* again: nothing to do */
	assert_int_equal(accord_registry_sync(f->reg, target, false, 0, &res, &err), 0);
	assert_false(res.changed);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.previous, 2);

	/* a newer registry generation: installed; check warns until then */
	assert_int_equal(commit_add(f, "bob", NULL), 3);
	assert_int_equal(check(f, target, &fs), 0);
	assert_contains(fs.text, "has generation 2, the registry 3");
	assert_int_equal(accord_registry_sync(f->reg, target, false, 0, &res, &err), 0);
	assert_true(res.changed);
	assert_int_equal(res.previous, 2);
	assert_int_equal(res.generation, 3);
	assert_int_equal(file_gen(target, NULL), 3);

	/* the host has a newer generation of this registry: never go back,
	 * unless forced */
	write_foreign_snapshot(target, uuid, 99);
	assert_int_equal(accord_registry_sync(f->reg, target, false, 0, &res, &err), -ESTALE);
	assert_contains(err.msg, "newer");
	assert_contains(err.msg, "--force");
	assert_int_equal(file_gen(target, NULL), 99);
	assert_int_equal(accord_registry_sync(f->reg, target, true, 0, &res, &err), 0);
	assert_true(res.changed);
	assert_int_equal(res.previous, 99);
	assert_int_equal(res.generation, 3);
	assert_int_equal(file_gen(target, NULL), 3);

	/* another registry's snapshot, or a damaged file, is simply replaced */
	memcpy(other, uuid, 16);
	other[0] ^= 1;
	write_foreign_snapshot(target, other, 99);
	assert_int_equal(check(f, target, &fs), 0);
	assert_contains(fs.text, "comes from another registry");
	assert_int_equal(accord_registry_sync(f->reg, target, false, 0, &res, &err), 0);
	assert_true(res.changed);
	assert_int_equal(file_gen(target, NULL), 3);
	unit_write_file(target, "junk", 4);
	assert_int_equal(check(f, target, &fs), 1);
	assert_int_equal(accord_registry_sync(f->reg, target, false, 0, &res, &err), 0);
	assert_true(res.changed);
	assert_int_equal(file_gen(target, NULL), 3);

	/* a current snapshot that fails the deep check is not installed */
	{
		char *g3 = rpath(f, "snap/gen-0000000003"), *img;
		size_t len;

		img = unit_read_file(g3, &len);
		img[len - 1] ^= 0x40; /* body: the header and CURRENT still agree */
		unit_write_file(g3, img, len);
		assert_int_equal(accord_registry_sync(f->reg, target, true, 0, &res, &err),
				 -EBADMSG);
		assert_contains(err.msg, "not installed");
		assert_false(res.changed);
		assert_int_equal(file_gen(target, NULL), 3);
		img[len - 1] ^= 0x40;
		unit_write_file(g3, img, len);
		free(img);
		free(g3);
	}
	/* trusted_gen: a generation this process just built installs as well */
	unit_write_file(target, "junk", 4);
	assert_int_equal(accord_registry_sync(f->reg, target, false, 3, &res, &err), 0);
	assert_true(res.changed);
	assert_int_equal(file_gen(target, NULL), 3);

	assert_int_equal(accord_registry_sync(f->reg, "relative/snapshot", false, 0, &res, &err),
			 -EINVAL);
	assert_contains(err.msg, "absolute");
	free(hostdir);
	free(target);
}

/* What other hosts and unprivileged readers need stays world-readable
 * whatever the writer's umask: the snapshots, CURRENT and the metadata. */
static void test_strict_umask(void **state)
{
	struct fx *f = *state;
	struct accord_range r = { 1000, 1999 };
	struct accord_err err = { 0 };
	struct accord_registry *reg = NULL;
	struct accord_sync_result res;
	struct accord_txn *tx = NULL;
	char *dir = unit_path(f->base, "strict"), *p;
	static const char *const files[] = { "registry.meta", "CURRENT",
					     "snap/gen-0000000001", "snap/gen-0000000002" };
	struct stat st;
	size_t i;

	umask(077);
	assert_int_equal(accord_registry_init(dir, &r, &r, &f->actor, &err), 0);
	assert_int_equal(accord_registry_open(dir, &f->cfg, &reg, &err), 0);
	assert_int_equal(accord_txn_begin(reg, &f->actor, &tx, &err), 0);
	assert_int_equal(unit_add(accord_txn_state(tx), "alice", &err), 0);
	assert_int_equal(accord_txn_commit(tx, "user add alice", NULL, NULL, &err), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = unit_path(dir, files[i]);
		assert_int_equal(stat(p, &st), 0);
		if ((st.st_mode & 07777) != 0644)
			fail_msg("%s has mode %o under umask 077", files[i], st.st_mode & 07777);
		free(p);
	}
	p = unit_path(f->base, "local");
	assert_int_equal(accord_registry_sync(reg, p, false, 0, &res, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(p);
	accord_registry_close(reg);
	umask(022);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_and_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_without_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_finds_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crashed_writer_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fence_stale_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_between_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_umask, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
