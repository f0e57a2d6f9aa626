/* SPDX-License-Identifier: MIT */
/* accordctl init | import | who-has | sync | check | log */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <accord/import.h>
#include <accord/jsonfmt.h>

#include "cli.h"

/* ---- init ----------------------------------------------------------- */

int cmd_init(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid-range", required_argument, NULL, 'u' },
		{ "gid-range", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_range uids = { 100000, 999999 }, gids = { 100000, 999999 };
	struct accord_err e = { 0 };
	struct accord_sync_result sr;
	char uuid[37];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		struct accord_range *rg = o == 'u' ? &uids : &gids;

		if (o == ':')
			return usage_error("%s needs a value LO-HI", argv[optind - 1]);
		if (o != 'u' && o != 'g')
			return usage_error("init: unknown option '%s'", argv[optind - 1]);
		if (accord_parse_range(optarg, rg) < 0)
			return usage_error("%s takes LO-HI (two numbers), not '%s'",
					   o == 'u' ? "--uid-range" : "--gid-range", optarg);
	}
	if (optind != argc)
		return usage_error("init takes no arguments besides its options; the "
				   "directory comes from --registry or accord.conf");
	if (!c->registry || !c->registry[0]) {
		accord_err_set(&e, -EINVAL, "no registry directory: pass --registry DIR or set "
			       "'registry = DIR' in accord.conf");
		return fail(c, PH_OPEN, &e);
	}
	r = accord_registry_init(c->registry, &uids, &gids, &c->actor, &e);
	if (r < 0)
		return fail(c, r == -EEXIST || r == -EINVAL ? PH_OP : PH_COMMIT, &e);
	r = open_registry(c);
	if (r)
		return r;
	accord_registry_uuid(c->reg, uuid);
	r = accord_registry_sync(c->reg, c->cfg.snapshot, false, 1, &sr, &e);
	if (r < 0) {
		accord_err_prefix(&e, e.code, "the registry was created, but this host's "
				  "snapshot %s was not installed; run 'accordctl sync'",
				  c->cfg.snapshot);
		return fail(c, PH_SYNC, &e);
	}
	if (c->json) {
		json_object *j = json_object_new_object();
		char buf[32];

		json_object_object_add(j, "registry", json_object_new_string(c->registry));
		json_object_object_add(j, "uuid", json_object_new_string(uuid));
		snprintf(buf, sizeof(buf), "%u-%u", uids.lo, uids.hi);
		json_object_object_add(j, "uid_range", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%u-%u", gids.lo, gids.hi);
		json_object_object_add(j, "gid_range", json_object_new_string(buf));
		json_object_object_add(j, "generation", json_object_new_int(1));
		print_json(j);
	} else {
		printf("Initialized registry %s (uuid %s)\nUID range %u-%u, GID range %u-%u; "
		       "generation 1 installed at %s\n", c->registry, uuid, uids.lo, uids.hi,
		       gids.lo, gids.hi, c->cfg.snapshot);
	}
	return 0;
}

/* ---- import --------------------------------------------------------- */

struct import_args {
	const char *pw_name, *gr_name;
	bool shared;
	char *pw, *gr;
	size_t pw_len, gr_len;
	struct accord_import_stats stats;
	bool tty;
};

static void progress(const char *what, size_t done, size_t total, void *ctx)
{
	struct import_args *a = ctx;

	if (a->tty)
		fprintf(stderr, "\raccordctl: import: %s: line %zu of %zu (%zu%%)   ", what, done,
			total, total ? done * 100 / total : 100);
}

static int do_import(struct accord_state *st, void *p, struct accord_err *e)
{
	struct import_args *a = p;
	int r = accord_import(st, a->shared, a->pw, a->pw_len, a->pw_name, a->gr, a->gr_len, a->gr_name,
			      &a->stats, progress, a, e);

	if (a->tty) {
		fputs("\raccordctl: import: parsed; writing the snapshot...               ",
		      stderr);
		fflush(stderr);
	}
	return r;
}

static int read_input(struct cli *c, const char *path, char **buf, size_t *len)
{
	struct accord_err e = { 0 };
	int r = accord_import_read(path, buf, len);

	if (r < 0) {
		accord_err_set(&e, r, "cannot read %s: %s", path,
			       r == -EFBIG ? "larger than 1 GiB" : strerror(-r));
		return fail(c, PH_INPUT, &e);
	}
	return 0;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passwd", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "shared", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_args a = { 0 };
	struct write_result res;
	struct timespec t0, t1;
	char op[600], msg[400];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'p')
			a.pw_name = optarg;
		else if (o == 'g')
			a.gr_name = optarg;
		else if (o == 'S')
			a.shared = true;
		else if (o == ':')
			return usage_error("%s needs a file", argv[optind - 1]);
		else
			return usage_error("import: unknown option '%s'", argv[optind - 1]);
	}
	if (!a.pw_name || optind != argc)
		return usage_error("usage: accordctl import --passwd FILE [--group FILE] [--shared]");
	r = read_input(c, a.pw_name, &a.pw, &a.pw_len);
	if (r == 0 && a.gr_name)
		r = read_input(c, a.gr_name, &a.gr, &a.gr_len);
	if (r)
		goto out;
	a.tty = isatty(STDERR_FILENO);
	snprintf(op, sizeof(op), "import --passwd %s%s%s%s", a.pw_name,
		 a.gr_name ? " --group " : "", a.gr_name ? a.gr_name : "",
		 a.shared ? " --shared" : "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run_write(c, op, do_import, &a, &res);
	if (a.tty)
		fputs("\r\033[K", stderr);
	if (r)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (a.stats.hashes_ignored)
		fprintf(stderr, "accordctl: warning: %zu password hashes in %s were not "
			"imported (accord keeps secrets apart from the passwd data)\n",
			a.stats.hashes_ignored, a.pw_name);
	snprintf(msg, sizeof(msg), "Imported %zu users, %zu groups and %zu memberships in "
		 "%.1f s", a.stats.users, a.stats.groups, a.stats.memberships,
		 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	report_write(c, &res, msg, "Nothing to import: the files were empty.");
out:
	free(a.pw);
	free(a.gr);
	return r;
}

/* ---- who-has -------------------------------------------------------- */

int cmd_who_has(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct accord_snap_tomb t;
	struct accord_snap_meta m;
	json_object *live, *tombs, *o;
	bool user;
	uint32_t id;
	uint64_t cur;
	size_t nl, nt, i;
	int r;

	if (argc != 3 || (strcmp(argv[1], "uid") && strcmp(argv[1], "gid")))
		return usage_error("usage: accordctl who-has uid N | who-has gid N");
	if (accord_parse_id(argv[2], &id) < 0)
		return usage_error("who-has %s needs a number, not '%s'", argv[1], argv[2]);
	user = !strcmp(argv[1], "uid");
	r = read_current(c, &snap);
	if (r)
		return r;
	live = json_object_new_array();
	tombs = json_object_new_array();
	/* every holder, not just the first: --shared IDs have several */
	cur = 0;
	if (user) {
		while (accord_snap_user_next(&snap, &cur, &u) == 0)
			if (u.uid == id)
				json_object_array_add(live, accord_json_user_snap(&u));
	} else {
		while (accord_snap_group_next(&snap, &cur, &g) == 0)
			if (g.gid == id)
				json_object_array_add(live, accord_json_group_snap(&g));
	}
	cur = 0;
	while (accord_snap_tomb_next(&snap, &cur, &t) == 0)
		if (t.id == id && t.kind == (user ? ACCORD_TOMB_USER : ACCORD_TOMB_GROUP))
			json_object_array_add(tombs, accord_json_tomb(t.kind, t.id, t.deleted_at,
								      t.name, t.by));
	accord_snap_meta(&snap, &m);
	accord_snapshot_unmap(&snap);
	nl = json_object_array_length(live);
	nt = json_object_array_length(tombs);
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(argv[1]));
		json_object_object_add(o, "id", json_object_new_int64(id));
		json_object_object_add(o, "live", live);
		json_object_object_add(o, "tombstones", tombs);
		json_object_object_add(o, "in_range", json_object_new_boolean(
			user ? id >= m.uid_lo && id <= m.uid_hi : id >= m.gid_lo && id <= m.gid_hi));
		json_object_object_add(o, "free", json_object_new_boolean(nl == 0 && nt == 0));
		print_json(o);
		return 0;
	}
	for (i = 0; i < nl; i++) {
		json_object *h = json_object_array_get_idx(live, i), *v;

		json_object_object_get_ex(h, "name", &v);
		printf("%s %u: %s %s%s\n", argv[1], id, user ? "user" : "group",
		       json_object_get_string(v), nl > 1 ? " (shared)" : "");
	}
	for (i = 0; i < nt; i++) {
		json_object *h = json_object_array_get_idx(tombs, i), *n, *d, *b;

		json_object_object_get_ex(h, "name", &n);
		json_object_object_get_ex(h, "deleted", &d);
		json_object_object_get_ex(h, "by", &b);
		printf("%s %u: retired from %s '%s' on %s by %s; the tombstone keeps it "
		       "reserved\n", argv[1], id, user ? "user" : "group",
		       json_object_get_string(n), json_object_get_string(d),
		       json_object_get_string(b));
	}
	if (!nl && !nt) {
		uint32_t lo = user ? m.uid_lo : m.gid_lo, hi = user ? m.uid_hi : m.gid_hi;

		printf("%s %u: nobody, now or before (%s the registry's range %u-%u)\n", argv[1],
		       id, id >= lo && id <= hi ? "inside" : "outside", lo, hi);
	}
	json_object_put(live);
	json_object_put(tombs);
	return 0;
}

/* ---- sync ----------------------------------------------------------- */

int cmd_sync(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *target = c->cfg.snapshot;
	struct accord_sync_result sr;
	struct accord_err e = { 0 };
	bool force = false;
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 't')
			target = optarg;
		else if (o == 'f')
			force = true;
		else if (o == ':')
			return usage_error("%s needs a path", argv[optind - 1]);
		else
			return usage_error("sync: unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc)
		return usage_error("usage: accordctl sync [--to PATH] [--force]");
	r = open_registry(c);
	if (r)
		return r;
	r = accord_registry_sync(c->reg, target, force, 0, &sr, &e);
	if (r < 0)
		return fail(c, PH_SYNC, &e);
	if (c->json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "path", json_object_new_string(target));
		json_object_object_add(j, "generation", json_object_new_int64((int64_t)sr.generation));
		json_object_object_add(j, "previous", json_object_new_int64((int64_t)sr.previous));
		json_object_object_add(j, "changed", json_object_new_boolean(sr.changed));
		json_object_object_add(j, "users", json_object_new_int64(sr.users));
		json_object_object_add(j, "groups", json_object_new_int64(sr.groups));
		print_json(j);
	} else if (sr.changed) {
		printf("Installed generation %" PRIu64 " (%u users, %u groups) at %s\n",
		       sr.generation, sr.users, sr.groups, target);
	} else {
		printf("Up to date: %s already holds generation %" PRIu64 "\n", target,
		       sr.generation);
	}
	return 0;
}

/* ---- check ---------------------------------------------------------- */

struct check_out {
	bool json;
	json_object *arr;
	int warnings;
};

static void on_finding(enum accord_finding lvl, const char *what, const char *detail,
		       void *p)
{
	static const char *names[] = { "ok", "note", "warning", "error" };
	struct check_out *o = p;

	if (lvl == ACCORD_FIND_WARNING)
		o->warnings++;
	if (o->json) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "level", json_object_new_string(names[lvl]));
		json_object_object_add(f, "what", json_object_new_string(what));
		json_object_object_add(f, "detail", json_object_new_string(detail));
		json_object_array_add(o->arr, f);
	} else {
		printf("%-8s %s: %s\n", names[lvl], what, detail);
	}
}

int cmd_check(struct cli *c, int argc, char **argv)
{
	struct check_out o = { .json = c->json };
	struct accord_err e = { 0 };
	int r;

	if (argc != 1)
		return usage_error("check takes no arguments");
	r = open_registry(c);
	if (r)
		return r;
	if (o.json)
		o.arr = json_object_new_array();
	r = accord_registry_check(c->reg, c->cfg.snapshot, on_finding, &o, &e);
	if (r < 0) {
		json_object_put(o.arr);
		return fail(c, PH_OPEN, &e);
	}
	if (o.json) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "registry", json_object_new_string(c->registry));
		json_object_object_add(j, "errors", json_object_new_int(r));
		json_object_object_add(j, "warnings", json_object_new_int(o.warnings));
		json_object_object_add(j, "findings", o.arr);
		print_json(j);
	} else {
		printf("check: %d error%s, %d warning%s\n", r, r == 1 ? "" : "s", o.warnings,
		       o.warnings == 1 ? "" : "s");
	}
	return r ? EXIT_PROBLEMS : EX_OK;
}

/* ---- log ------------------------------------------------------------ */

struct log_ctx {
	bool json;
};

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static bool in_array(json_object *arr, const char *name)
{
	size_t i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), name))
			return true;
	return false;
}

/* "members: +carol -bob" rather than two long lists. */
static void print_member_changes(json_object *old, json_object *val)
{
	size_t i, n;

	printf("      members:");
	n = json_object_array_length(val);
	for (i = 0; i < n; i++) {
		const char *m = json_object_get_string(json_object_array_get_idx(val, i));

		if (!in_array(old, m))
			printf(" +%s", m);
	}
	n = json_object_array_length(old);
	for (i = 0; i < n; i++) {
		const char *m = json_object_get_string(json_object_array_get_idx(old, i));

		if (!in_array(val, m))
			printf(" -%s", m);
	}
	putchar('\n');
}

/* "field old -> new" for each field that differs. */
static void print_field_changes(json_object *before, json_object *after)
{
	struct json_object_iterator it = json_object_iter_begin(after);
	struct json_object_iterator end = json_object_iter_end(after);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		json_object *old = NULL;
		const char *a, *b;

		if (!strcmp(key, "changed"))
			continue;
		json_object_object_get_ex(before, key, &old);
		a = old ? json_object_to_json_string_ext(old, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
		b = val ? json_object_get_string(val) : "null";
		if (val && json_object_get_type(val) != json_type_string)
			b = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!old && !val)
			continue;
		if (old && val && json_object_equal(old, val))
			continue;
		if (!strcmp(key, "members") && old && val &&
		    json_object_is_type(old, json_type_array) &&
		    json_object_is_type(val, json_type_array)) {
			print_member_changes(old, val);
			continue;
		}
		{
			char abuf[512];

			snprintf(abuf, sizeof(abuf), "%s", old && json_object_get_type(old) ==
				 json_type_string ? json_object_get_string(old) : a);
			printf("      %s: %s -> %s\n", key, abuf, b);
		}
	}
}

static int on_line(uint64_t gen, const char *line, void *p)
{
	struct log_ctx *lc = p;
	json_object *o;
	const char *ch;

	if (lc->json) {
		puts(line);
		return 0;
	}
	o = json_tokener_parse(line);
	if (!o) {
		printf("generation %" PRIu64 ": (unreadable journal line)\n", gen);
		return 0;
	}
	if (jstr(o, "operation")) {
		json_object *actor = NULL;
		const char *user, *login;
		char who[200];

		json_object_object_get_ex(o, "actor", &actor);
		user = jstr(actor, "user") ? jstr(actor, "user") : "?";
		login = jstr(actor, "login_user");
		if (login && strcmp(login, user))
			snprintf(who, sizeof(who), "%s (login %s)", user, login);
		else
			snprintf(who, sizeof(who), "%s", user);
		printf("generation %" PRIu64 "  %s  %s@%s  %s\n", gen, jstr(o, "time"), who,
		       jstr(actor, "host") ? jstr(actor, "host") : "?", jstr(o, "operation"));
	} else if ((ch = jstr(o, "change"))) {
		json_object *before = NULL, *after = NULL;

		json_object_object_get_ex(o, "before", &before);
		json_object_object_get_ex(o, "after", &after);
		if (after && !strcmp(jstr(o, "kind"), "tombstone"))
			printf("    %-7s %s %s (was %s %s)\n", ch, jstr(after, "uid") ? "uid" : "gid",
			       jstr(after, "uid") ? jstr(after, "uid") : jstr(after, "gid"),
			       jstr(after, "kind"), jstr(o, "name"));
		else
			printf("    %-7s %s %s\n", ch, jstr(o, "kind"), jstr(o, "name"));
		if (before && after)
			print_field_changes(before, after);
	}
	json_object_put(o);
	return 0;
}

int cmd_log(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct log_ctx lc = { .json = c->json };
	struct accord_err e = { 0 };
	uint64_t since = 1;
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 's') {
			char *end;

			errno = 0;
			since = strtoull(optarg, &end, 10);
			if (errno || *end || !optarg[0] || optarg[0] == '-')
				return usage_error("--since needs a generation number, not '%s'",
						   optarg);
		} else if (o == ':') {
			return usage_error("%s needs a value", argv[optind - 1]);
		} else {
			return usage_error("log: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("usage: accordctl log [--since GEN]");
	r = open_registry(c);
	if (r)
		return r;
	r = accord_registry_journal(c->reg, since, on_line, &lc, &e);
	return r < 0 ? fail(c, PH_OPEN, &e) : 0;
}
