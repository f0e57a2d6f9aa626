/* SPDX-License-Identifier: MIT */
/*
 * accordctl storage register|scan|list|show|attach|detach, and the delete
 * guard of user del / group del (IBM i independent ASPs: owners stored
 * by name on the storage, matched by name on vary-on).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <accord/jsonfmt.h>
#include <accord/storage.h>

#include "cli.h"
#include "cmd_storage.h"
#include "fileutil.h"

/* ---- helpers ------------------------------------------------------------ */

struct progress {
	const char *what, *name, *root;
	bool tty, shown;
	uint64_t linked;
};

#define LINKED_SHOWN 20

static void show_linked(void *ctx, const char *top, const char *name, uint32_t uid,
			uint32_t gid)
{
	struct progress *p = ctx;

	if (p->shown) {
		fputc('\n', stderr);
		p->shown = false;
	}
	if (p->linked++ < LINKED_SHOWN)
		fprintf(stderr, "accordctl: warning: %s/%s%s%s (uid %u, gid %u) left as it is: "
			"it has other hard links, which may be outside the storage\n", p->root,
			top, strcmp(top, name) ? "/.../" : "", strcmp(top, name) ? name : "",
			uid, gid);
}

static void show_progress(void *ctx, uint64_t seen, uint64_t changed, bool done)
{
	struct progress *p = ctx;

	if (!p->tty)
		return;
	if (changed)
		fprintf(stderr, "\r%s %s: %" PRIu64 " files, %" PRIu64 " changed", p->what,
			p->name, seen, changed);
	else
		fprintf(stderr, "\r%s %s: %" PRIu64 " files", p->what, p->name, seen);
	if (done)
		fputc('\n', stderr);
	fflush(stderr);
	p->shown = !done;
}

static void init_progress(struct progress *p, struct accord_walk *w, const char *what,
			  const char *name)
{
	p->what = what;
	p->name = name;
	p->root = w->root ? w->root : "";
	p->tty = isatty(STDERR_FILENO);
	p->shown = false;
	p->linked = 0;
	w->progress = show_progress;
	w->on_linked = show_linked;
	w->ctx = p;
}

static void end_progress(struct progress *p)
{
	if (p->shown)
		fputc('\n', stderr);
	p->shown = false;
}

static int err_code(struct cli *c, enum phase ph, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int err_code(struct cli *c, enum phase ph, int code, const char *fmt, ...)
{
	struct accord_err e = { .code = code };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return fail(c, ph, &e);
}

static const char *meta_dir(const char *root, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/" ACCORD_STORAGE_META, root);
	return buf;
}

/* PATH as an absolute, link-free directory. */
static int storage_root(struct cli *c, const char *path, char root[PATH_MAX])
{
	struct stat st;

	if (!realpath(path, root))
		return err_code(c, PH_INPUT, -errno, "%s: %s", path, strerror(errno));
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_code(c, PH_INPUT, -ENOTDIR, "%s is not a directory", path);
	return 0;
}

/* A bad manifest is bad data (exit 65), not an I/O error. */
static int manifest_fail(struct cli *c, const char *root, struct accord_err *e)
{
	if (e->code == -ENOENT)
		return err_code(c, PH_INPUT, -ENOENT,
				"%s is not a registered storage: it has no " ACCORD_STORAGE_META
				"/manifest.json (register it with 'accordctl storage register "
				"%s --name NAME'); nothing was changed", root, root);
	if (e->code == -EBADMSG || e->code == -EPROTONOSUPPORT)
		e->code = -EINVAL;
	accord_err_prefix(e, e->code, "refusing the manifest");
	return fail(c, PH_INPUT, e);
}

static int read_manifest(struct cli *c, const char *root, struct accord_manifest *m)
{
	char file[PATH_MAX + 32];
	struct accord_err e = { 0 };

	snprintf(file, sizeof(file), "%s/" ACCORD_STORAGE_META "/manifest.json", root);
	if (accord_manifest_read(file, m, &e) < 0)
		return manifest_fail(c, root, &e);
	return 0;
}

/* NAME or PATH of a storage registered here: its root and record. */
static int resolve(struct cli *c, const char *arg, char root[PATH_MAX],
		   struct accord_manifest *rec)
{
	struct accord_manifest m = { 0 };
	struct accord_err e = { 0 };
	char uuid[37];
	int r = open_registry(c);

	if (r)
		return r;
	accord_registry_uuid(c->reg, uuid);
	if (!strchr(arg, '/') && accord_storage_check_name(arg, NULL) == 0) {
		r = accord_storage_record_read(accord_registry_path(c->reg), arg, rec, &e);
		if (r < 0)
			return fail(c, e.code == -ENOENT ? PH_OP : PH_OPEN, &e);
		snprintf(root, PATH_MAX, "%s", rec->path);
		return 0;
	}
	r = storage_root(c, arg, root);
	if (r)
		return r;
	r = read_manifest(c, root, &m);
	if (r)
		return r;
	if (strcmp(m.registry, uuid)) {
		r = err_code(c, PH_OP, -ENOENT, "%s is storage '%s' of another registry (%s); "
			     "attach it here first with 'accordctl storage attach %s'", root,
			     m.name, m.registry, root);
		accord_manifest_free(&m);
		return r;
	}
	r = accord_storage_record_read(accord_registry_path(c->reg), m.name, rec, &e);
	accord_manifest_free(&m);
	if (r < 0) {
		accord_err_prefix(&e, e.code, "%s", root);
		return fail(c, e.code == -ENOENT ? PH_OP : PH_OPEN, &e);
	}
	return 0;
}

/* Writes the manifest on the storage and the registry's record from a
 * walk's counts, owners named through the current snapshot. */
static int publish(struct cli *c, const char *root, const char *name, int64_t created,
		   const struct accord_walk *w)
{
	struct accord_manifest m = { 0 };
	struct accord_snapshot snap;
	struct accord_err e = { 0 };
	char dir[PATH_MAX + 16];
	int r;

	r = accord_storage_meta_check(root, true, &e);
	if (r < 0)
		return fail(c, r == -EPERM ? PH_INPUT : PH_COMMIT, &e);
	r = read_current(c, &snap);
	if (r)
		return r;
	snprintf(m.name, sizeof(m.name), "%s", name);
	accord_registry_uuid(c->reg, m.registry);
	snprintf(m.path, sizeof(m.path), "%s", root);
	m.scanned = (int64_t)time(NULL);
	m.created = created ? created : m.scanned;
	m.files = w->files;
	r = accord_storage_owners(&snap, w, &m.owners, &m.nowners, &e);
	accord_snapshot_unmap(&snap);
	if (r == 0)
		r = accord_manifest_write(meta_dir(root, dir, sizeof(dir)), "manifest.json", &m,
					  &e);
	if (r == 0)
		r = accord_storage_record_write(accord_registry_path(c->reg), &m, &e);
	accord_manifest_free(&m);
	return r < 0 ? fail(c, PH_COMMIT, &e) : 0;
}

static void actor(struct cli *c, char *buf, size_t len)
{
	accord_actor_label(&c->actor, buf, len);
}

static void audit(struct cli *c, const char *root, const char *storage, const char *action,
		  const char *kind, const char *name, int64_t from, int64_t to, uint64_t files)
{
	struct accord_err e = { 0 };
	char who[256];

	actor(c, who, sizeof(who));
	if (accord_storage_audit(root, storage, who, action, kind, name, from, to, files, &e) < 0)
		fprintf(stderr, "accordctl: warning: audit record not written: %s\n", e.msg);
}

static int scan_into(struct cli *c, const char *root, const char *name,
		     struct accord_walk *w)
{
	char ck[PATH_MAX + 48], dir[PATH_MAX + 16];
	struct progress p;
	struct accord_err e = { 0 };
	int r;

	r = accord_storage_meta_check(root, true, &e);
	if (r < 0)
		return fail(c, r == -EPERM ? PH_INPUT : PH_COMMIT, &e);
	meta_dir(root, dir, sizeof(dir));
	snprintf(ck, sizeof(ck), "%s/scan.checkpoint", dir);
	memset(w, 0, sizeof(*w));
	w->root = root;
	w->checkpoint = ck;
	w->tag = "scan";
	init_progress(&p, w, "scanning", name);
	r = accord_storage_walk(w, &e);
	end_progress(&p);
	w->checkpoint = NULL;
	if (r < 0)
		return fail(c, PH_INPUT, &e);
	if (w->resumed)
		fprintf(stderr, "accordctl: resumed an interrupted scan of %s\n", name);
	return 0;
}

static size_t count_kind(const struct accord_manifest *m, uint32_t kind)
{
	size_t i, n = 0;

	for (i = 0; i < m->nowners; i++)
		n += m->owners[i].kind == kind;
	return n;
}

static void print_summary(struct cli *c, const char *verb, const char *root,
			  const struct accord_manifest *m)
{
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "storage", json_object_new_string(m->name));
		json_object_object_add(o, "path", json_object_new_string(root));
		json_object_object_add(o, "files", json_object_new_int64((int64_t)m->files));
		json_object_object_add(o, "users",
				       json_object_new_int64((int64_t)count_kind(m, 0)));
		json_object_object_add(o, "groups",
				       json_object_new_int64((int64_t)count_kind(m, 1)));
		print_json(o);
		return;
	}
	printf("%s storage %s at %s: %" PRIu64 " files, %zu user and %zu group owners\n", verb,
	       m->name, root, m->files, count_kind(m, 0), count_kind(m, 1));
}

/* ---- register, scan, list, show, detach ---------------------------------- */

static int storage_register(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_manifest m = { 0 }, *recs = NULL;
	struct accord_walk w = { 0 };
	struct accord_err e = { 0 };
	char root[PATH_MAX], file[PATH_MAX + 32];
	const char *name = NULL;
	size_t nrecs = 0, i;
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'n')
			name = optarg;
		else if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		else
			return usage_error("storage register: unknown option '%s'",
					   argv[optind - 1]);
	}
	if (optind != argc - 1 || !name)
		return usage_error("usage: accordctl storage register PATH --name NAME");
	if (accord_storage_check_name(name, &e) < 0)
		return fail(c, PH_OP, &e);
	r = open_registry(c);
	if (r == 0)
		r = storage_root(c, argv[optind], root);
	if (r)
		return r;
	snprintf(file, sizeof(file), "%s/" ACCORD_STORAGE_META "/manifest.json", root);
	if (accord_manifest_read(file, &m, &e) == 0) {
		r = err_code(c, PH_OP, -EEXIST, "%s already carries the manifest of storage '%s' "
			     "(registry %s); use 'accordctl storage attach %s'", root, m.name,
			     m.registry, root);
		accord_manifest_free(&m);
		return r;
	}
	if (e.code != -ENOENT)
		return manifest_fail(c, root, &e);
	r = accord_storage_records(accord_registry_path(c->reg), &recs, &nrecs, &e);
	if (r < 0)
		return fail(c, PH_OPEN, &e);
	for (i = 0; i < nrecs && r == 0; i++) {
		if (!strcmp(recs[i].name, name))
			r = err_code(c, PH_OP, -EEXIST, "a storage named '%s' is already "
				     "registered (at %s)", name, recs[i].path);
		else if (!strcmp(recs[i].path, root))
			r = err_code(c, PH_OP, -EEXIST, "%s is already registered as storage "
				     "'%s'", root, recs[i].name);
	}
	accord_storage_records_free(recs, nrecs);
	if (r)
		return r;
	r = scan_into(c, root, name, &w);
	if (r == 0)
		r = publish(c, root, name, 0, &w);
	if (r == 0) {
		audit(c, root, name, "register", NULL, NULL, -1, -1, w.files);
		r = accord_storage_record_read(accord_registry_path(c->reg), name, &m, &e) < 0
			    ? fail(c, PH_OPEN, &e) : 0;
		if (r == 0)
			print_summary(c, "Registered", root, &m);
		accord_manifest_free(&m);
	}
	accord_walk_free(&w);
	return r;
}

static void idmap_files(struct cli *c, const char *root, const char *name, char *disk,
			size_t dl, char *reg, size_t rl);

/* Attached here through an idmapped mount that is not there now (a
 * reboot, a remount): the files show their disk IDs, not the IDs the
 * record has. */
static bool idmap_missing(struct cli *c, const char *root, const char *name)
{
	char disk[PATH_MAX + 32], reg[PATH_MAX + ACCORD_STORAGE_NAME_MAX + 32];
	struct accord_idmap im = { 0 };
	bool missing;

	idmap_files(c, root, name, disk, sizeof(disk), reg, sizeof(reg));
	if (accord_idmap_load(reg, &im, NULL) < 0)
		return false;
	missing = !accord_idmap_is_ours(root, &im);
	accord_idmap_free(&im);
	return missing;
}

static int storage_scan(struct cli *c, int argc, char **argv)
{
	struct accord_manifest rec = { 0 }, m = { 0 };
	struct accord_walk w = { 0 };
	struct accord_err e = { 0 };
	char root[PATH_MAX], uuid[37];
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("usage: accordctl storage scan NAME|PATH");
	r = resolve(c, argv[1], root, &rec);
	if (r)
		return r;
	/* the storage must still be the one registered */
	r = read_manifest(c, root, &m);
	accord_registry_uuid(c->reg, uuid);
	if (r == 0 && (strcmp(m.name, rec.name) || strcmp(m.registry, uuid)))
		r = err_code(c, PH_OP, -ESTALE, "%s carries storage '%s' of registry %s, not "
			     "storage '%s' of this registry; nothing was changed", root, m.name,
			     m.registry, rec.name);
	if (r == 0 && idmap_missing(c, root, rec.name))
		r = err_code(c, PH_OP, -ENODEV, "storage %s is attached through an idmapped mount "
			     "that is not over %s now: its files show their IDs on disk; make it "
			     "again with 'accordctl storage attach %s --apply'; nothing was changed",
			     rec.name, root, root);
	if (r == 0)
		r = scan_into(c, root, rec.name, &w);
	if (r == 0)
		r = publish(c, root, rec.name, rec.created, &w);
	if (r == 0) {
		audit(c, root, rec.name, "scan", NULL, NULL, -1, -1, w.files);
		accord_manifest_free(&m);
		if (accord_storage_record_read(accord_registry_path(c->reg), rec.name, &m, &e) < 0)
			r = fail(c, PH_OPEN, &e);
		else
			print_summary(c, "Scanned", root, &m);
	}
	accord_walk_free(&w);
	accord_manifest_free(&m);
	accord_manifest_free(&rec);
	return r;
}

static json_object *owner_json(const struct accord_owner *o)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "kind", json_object_new_string(o->kind ? "group" : "user"));
	json_object_object_add(j, "name", json_object_new_string(o->name));
	json_object_object_add(j, "id", json_object_new_int64(o->id));
	json_object_object_add(j, "files", json_object_new_int64((int64_t)o->files));
	return j;
}

static json_object *record_json(const struct accord_manifest *m, bool owners)
{
	json_object *j = json_object_new_object();
	char t[40];

	json_object_object_add(j, "name", json_object_new_string(m->name));
	json_object_object_add(j, "path", json_object_new_string(m->path));
	json_object_object_add(j, "registry", json_object_new_string(m->registry));
	accord_time_iso(m->created, t, sizeof(t));
	json_object_object_add(j, "created", json_object_new_string(t));
	accord_time_iso(m->scanned, t, sizeof(t));
	json_object_object_add(j, "scanned", json_object_new_string(t));
	json_object_object_add(j, "files", json_object_new_int64((int64_t)m->files));
	json_object_object_add(j, "users", json_object_new_int64((int64_t)count_kind(m, 0)));
	json_object_object_add(j, "groups", json_object_new_int64((int64_t)count_kind(m, 1)));
	if (owners) {
		json_object *a = json_object_new_array();
		size_t i;

		for (i = 0; i < m->nowners; i++)
			json_object_array_add(a, owner_json(&m->owners[i]));
		json_object_object_add(j, "owners", a);
	}
	return j;
}

static int storage_list(struct cli *c, int argc, char **argv)
{
	struct accord_manifest *v = NULL;
	struct accord_err e = { 0 };
	json_object *arr = NULL;
	size_t n = 0, i;
	int r;

	if (argc != 1)
		return usage_error("storage list takes no arguments");
	r = open_registry(c);
	if (r)
		return r;
	if (accord_storage_records(accord_registry_path(c->reg), &v, &n, &e) < 0)
		return fail(c, PH_OPEN, &e);
	if (c->json)
		arr = json_object_new_array();
	else
		printf("%-20s %12s %8s %8s  %-20s  %s\n", "NAME", "FILES", "USERS", "GROUPS",
		       "SCANNED", "PATH");
	for (i = 0; i < n; i++) {
		char t[40];

		if (arr) {
			json_object_array_add(arr, record_json(&v[i], false));
			continue;
		}
		accord_time_iso(v[i].scanned, t, sizeof(t));
		printf("%-20s %12" PRIu64 " %8zu %8zu  %-20s  %s\n", v[i].name, v[i].files,
		       count_kind(&v[i], 0), count_kind(&v[i], 1), t, v[i].path);
	}
	if (arr)
		print_json(arr);
	accord_storage_records_free(v, n);
	return 0;
}

static int storage_show(struct cli *c, int argc, char **argv)
{
	struct accord_manifest rec = { 0 };
	char root[PATH_MAX], t1[40], t2[40];
	size_t i;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("usage: accordctl storage show NAME|PATH");
	r = resolve(c, argv[1], root, &rec);
	if (r)
		return r;
	if (c->json) {
		print_json(record_json(&rec, true));
		accord_manifest_free(&rec);
		return 0;
	}
	accord_time_iso(rec.created, t1, sizeof(t1));
	accord_time_iso(rec.scanned, t2, sizeof(t2));
	printf("name:      %s\npath:      %s\nregistry:  %s\ncreated:   %s\nscanned:   %s\n"
	       "files:     %" PRIu64 "\nowners:\n", rec.name, rec.path, rec.registry, t1, t2,
	       rec.files);
	printf("  %-6s %-32s %10s %12s\n", "KIND", "NAME", "ID", "FILES");
	for (i = 0; i < rec.nowners; i++) {
		const struct accord_owner *o = &rec.owners[i];
		char nm[40];

		snprintf(nm, sizeof(nm), "%s", o->name[0] ? o->name : "(no name)");
		printf("  %-6s %-32s %10u %12" PRIu64 "\n", o->kind ? "group" : "user", nm, o->id,
		       o->files);
	}
	accord_manifest_free(&rec);
	return 0;
}

static int storage_detach(struct cli *c, int argc, char **argv)
{
	struct accord_manifest rec = { 0 };
	struct accord_err e = { 0 };
	struct write_result res = { 0 };
	struct accord_idmap im = { 0 };
	char root[PATH_MAX], msg[PATH_MAX + 200];
	char dfile[PATH_MAX + 32], rfile[PATH_MAX + ACCORD_STORAGE_NAME_MAX + 32];
	bool unmounted = false;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("usage: accordctl storage detach NAME|PATH");
	r = resolve(c, argv[1], root, &rec);
	if (r)
		return r;
	/* an idmapped mount accord made over root, and only such a one */
	idmap_files(c, root, rec.name, dfile, sizeof(dfile), rfile, sizeof(rfile));
	if (accord_idmap_load(rfile, &im, NULL) == 0) {
		unmounted = accord_idmap_is_ours(root, &im);
		r = accord_idmap_umount(root, &im, &e);
		accord_idmap_free(&im);
		if (r < 0) {
			accord_manifest_free(&rec);
			return fail(c, PH_COMMIT, &e);
		}
		if (unmounted && access(root, F_OK) == 0)
			audit(c, root, rec.name, "idmap-umount", NULL, NULL, -1, -1, 0);
	}
	if (accord_storage_record_remove(accord_registry_path(c->reg), rec.name, &e) < 0) {
		accord_manifest_free(&rec);
		return fail(c, PH_COMMIT, &e);
	}
	if (access(root, F_OK) == 0)
		audit(c, root, rec.name, "detach", NULL, NULL, -1, -1, rec.files);
	res.changes = 1;
	snprintf(msg, sizeof(msg), "Detached storage %s (%s)%s; its manifest stays on the "
		 "storage", rec.name, root, unmounted ? ", its idmapped mount unmounted" : "");
	if (c->json) {
		report_write(c, &res, msg, msg);
	} else {
		puts(msg);
	}
	accord_manifest_free(&rec);
	return 0;
}

/* ---- attach -------------------------------------------------------------- */

/* ---- idmapped mounts ------------------------------------------------------ */

static void idmap_files(struct cli *c, const char *root, const char *name, char *disk,
			size_t dl, char *reg, size_t rl)
{
	snprintf(disk, dl, "%s/" ACCORD_STORAGE_META "/idmap", root);
	snprintf(reg, rl, "%s/storages/%s.idmap", accord_registry_path(c->reg), name);
}

static int drop_idmap_records(struct cli *c, const char *root, const char *name)
{
	char disk[PATH_MAX + 32], reg[PATH_MAX + ACCORD_STORAGE_NAME_MAX + 32];
	int r = 0;

	idmap_files(c, root, name, disk, sizeof(disk), reg, sizeof(reg));
	if (unlink(disk) < 0 && errno != ENOENT)
		r = err_code(c, PH_COMMIT, -errno, "cannot remove %s: %s", disk, strerror(errno));
	if (r == 0 && unlink(reg) < 0 && errno != ENOENT)
		r = err_code(c, PH_COMMIT, -errno, "cannot remove %s: %s", reg, strerror(errno));
	return r;
}

static uint32_t map_lookup(const struct accord_idpair *m, size_t n, uint32_t id, bool *found)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].from == id) {
			if (found)
				*found = true;
			return m[i].to;
		}
	if (found)
		*found = false;
	return id;
}

static bool map_has_to(const struct accord_idpair *m, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].to == id)
			return true;
	return false;
}

static int cmp_count(const void *a, const void *b)
{
	uint32_t x = ((const struct accord_idcount *)a)->id;
	uint32_t y = ((const struct accord_idcount *)b)->id;

	return x < y ? -1 : x > y;
}

/* The counts as they show through an idmapped mount with map m (the
 * IDs a map hides, a to that is not a from, merge and are caught by
 * the comparison with the manifest). */
static void view_counts(struct accord_idcount *v, size_t *n, const struct accord_idpair *m,
			size_t nm)
{
	size_t i, k = 0;

	if (!nm || !*n)
		return;
	for (i = 0; i < *n; i++)
		v[i].id = map_lookup(m, nm, v[i].id, NULL);
	qsort(v, *n, sizeof(*v), cmp_count);
	for (i = 0; i < *n; i++) {
		if (k && v[k - 1].id == v[i].id)
			v[k - 1].n += v[i].n;
		else
			v[k++] = v[i];
	}
	*n = k;
}

static int cmp_idpair(const void *a, const void *b)
{
	uint32_t x = ((const struct accord_idpair *)a)->from;
	uint32_t y = ((const struct accord_idpair *)b)->from;

	return x < y ? -1 : x > y;
}

/* disk -> here: d (disk -> manifest ID), then p (manifest ID -> here). */
static int compose(const struct accord_idpair *d, size_t nd, const struct accord_idpair *p,
		   size_t np, struct accord_idpair **out, size_t *n)
{
	size_t i;

	*n = 0;
	*out = calloc(nd + np + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < nd; i++) {
		uint32_t y = map_lookup(p, np, d[i].to, NULL);

		if (y != d[i].from)
			(*out)[(*n)++] = (struct accord_idpair){ d[i].from, y };
	}
	for (i = 0; i < np; i++) {
		bool hidden;

		if (map_has_to(d, nd, p[i].from))
			continue; /* done above */
		map_lookup(d, nd, p[i].from, &hidden);
		if (!hidden) /* a from of d shows as another ID */
			(*out)[(*n)++] = p[i];
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_idpair);
	return 0;
}

/* Why the map cannot be an idmapped mount over root: "" when it can. */
static void idmap_refusal(const char *root, const struct accord_idmap *im,
			  const struct accord_walk *disk, bool trial, char *why, size_t len)
{
	struct accord_err e = { 0 };
	size_t i;

	why[0] = '\0';
	if (map_lookup(im->u, im->nu, 0, NULL) != 0 || map_has_to(im->u, im->nu, 0) ||
	    map_lookup(im->g, im->ng, 0, NULL) != 0 || map_has_to(im->g, im->ng, 0)) {
		snprintf(why, len, "idmapped mount not used: ID 0 would be remapped");
		return;
	}
	/* an ID on disk that is a target would show as the overflow ID */
	for (i = 0; disk && i < disk->nuids; i++)
		if (map_has_to(im->u, im->nu, disk->uids[i].id) &&
		    map_lookup(im->u, im->nu, disk->uids[i].id, NULL) == disk->uids[i].id) {
			snprintf(why, len, "idmapped mount not used: uid %u on the storage is "
				 "also a new ID and would be hidden", disk->uids[i].id);
			return;
		}
	for (i = 0; disk && i < disk->ngids; i++)
		if (map_has_to(im->g, im->ng, disk->gids[i].id) &&
		    map_lookup(im->g, im->ng, disk->gids[i].id, NULL) == disk->gids[i].id) {
			snprintf(why, len, "idmapped mount not used: gid %u on the storage is "
				 "also a new ID and would be hidden", disk->gids[i].id);
			return;
		}
	if (trial && accord_idmap_try(root, im, &e) < 0)
		snprintf(why, len, "%s", e.msg);
}

static int save_idmap(struct cli *c, const char *root, const struct accord_idmap *im)
{
	char dir[PATH_MAX + 16], rdir[PATH_MAX + 16], file[ACCORD_STORAGE_NAME_MAX + 8];
	struct accord_err e = { 0 };

	snprintf(rdir, sizeof(rdir), "%s/storages", accord_registry_path(c->reg));
	snprintf(file, sizeof(file), "%s.idmap", im->storage);
	if (accord_storage_meta_check(root, true, &e) < 0 ||
	    accord_idmap_save(meta_dir(root, dir, sizeof(dir)), "idmap", im, &e) < 0 ||
	    fu_mkdir(rdir, 0755) < 0 || accord_idmap_save(rdir, file, im, &e) < 0) {
		if (!e.msg[0])
			snprintf(e.msg, sizeof(e.msg), "cannot create %.700s", rdir);
		if (!e.code)
			e.code = -EIO;
		return fail(c, PH_COMMIT, &e);
	}
	return 0;
}


/* The differences between a manifest and the files' counts; 0 none. */
static size_t compare_counts(const struct accord_manifest *m, const struct accord_walk *w,
			     char *msg, size_t len)
{
	size_t diffs = 0, k;
	int kind;

	msg[0] = '\0';
	for (kind = 0; kind < 2; kind++) {
		const struct accord_idcount *v = kind ? w->gids : w->uids;
		size_t n = kind ? w->ngids : w->nuids, i = 0, j = 0;
		const struct accord_owner *o = m->owners;
		size_t no = m->nowners;

		/* owners are sorted by kind, then id: skip to this kind */
		while (j < no && o[j].kind != (uint32_t)kind)
			j++;
		while (i < n || (j < no && o[j].kind == (uint32_t)kind)) {
			bool have_f = i < n, have_m = j < no && o[j].kind == (uint32_t)kind;
			uint32_t id;
			uint64_t fm = 0, ff = 0;

			if (have_f && (!have_m || v[i].id <= o[j].id))
				id = v[i].id;
			else
				id = o[j].id;
			if (have_f && v[i].id == id)
				ff = v[i++].n;
			if (have_m && o[j].id == id)
				fm = o[j++].files;
			if (ff == fm)
				continue;
			if (diffs++ < 5) {
				k = strlen(msg);
				snprintf(msg + k, len - k, "%s%s %u owns %" PRIu64 " files, the manifest "
					 "says %" PRIu64, k ? "; " : "", kind ? "gid" : "uid", id, ff,
					 fm);
			}
		}
	}
	if (diffs > 5) {
		k = strlen(msg);
		snprintf(msg + k, len - k, "; and %zu more", diffs - 5);
	}
	return diffs;
}

/* Is the registry's record of name the manifest at root, byte for byte? */
static bool same_record(struct cli *c, const char *root, const char *name)
{
	char a[PATH_MAX + 32], b[PATH_MAX + ACCORD_STORAGE_NAME_MAX + 16];
	char *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	bool same;

	snprintf(a, sizeof(a), "%s/" ACCORD_STORAGE_META "/manifest.json", root);
	snprintf(b, sizeof(b), "%s/storages/%s.json", accord_registry_path(c->reg), name);
	same = fu_read_trusted(a, ACCORD_MANIFEST_MAX, &x, &xl) == 0 &&
	       fu_read_trusted(b, ACCORD_MANIFEST_MAX, &y, &yl) == 0 && xl == yl &&
	       !memcmp(x, y, xl);
	free(x);
	free(y);
	return same;
}

/*
 * The plan when every named owner exists here: OK or REMAP, read from
 * the snapshot (hash probes, no state load).  1 when an owner is missing
 * (the plan needs a transaction), 0 with *plan set, or -ENOMEM.
 */
static int plan_from_snapshot(struct cli *c, const struct accord_manifest *m,
			      struct accord_plan_entry **plan)
{
	struct accord_snapshot snap;
	struct accord_plan_entry *v = calloc(m->nowners + 1, sizeof(*v));
	size_t i;
	int r = 0;

	*plan = NULL;
	if (!v)
		return -ENOMEM;
	if (accord_registry_current(c->reg, false, &snap, NULL) < 0) {
		free(v);
		return 1; /* the transaction reports it */
	}
	for (i = 0; i < m->nowners && r == 0; i++) {
		const struct accord_owner *o = &m->owners[i];
		struct accord_snap_user u;
		struct accord_snap_group g;

		v[i].owner = o;
		v[i].new_id = o->id;
		if (!o->name[0])
			v[i].action = ACCORD_PLAN_UNNAMED;
		else if (o->kind == ACCORD_OWNER_USER && accord_snap_user_by_name(&snap, o->name,
										 &u) == 0)
			v[i].new_id = u.uid;
		else if (o->kind == ACCORD_OWNER_GROUP &&
			 accord_snap_group_by_name(&snap, o->name, &g) == 0)
			v[i].new_id = g.gid;
		else
			r = 1;
		if (o->name[0])
			v[i].action = v[i].new_id == o->id ? ACCORD_PLAN_OK : ACCORD_PLAN_REMAP;
	}
	accord_snapshot_unmap(&snap);
	if (r)
		free(v);
	else
		*plan = v;
	return r;
}

static const char *action_name(uint32_t a)
{
	static const char *const names[] = { "ok", "create", "create+remap", "remap", "unnamed" };

	return a < 5 ? names[a] : "?";
}

struct attach_args {
	const struct accord_manifest *m;
	const struct accord_defaults *def;
	struct accord_plan_entry *plan;
};

static int do_attach(struct accord_state *st, void *p, struct accord_err *e)
{
	struct attach_args *a = p;

	free(a->plan);
	a->plan = NULL;
	return accord_storage_plan(st, a->m, a->def, &a->plan, e);
}

/* The maps of a plan: manifest ID -> ID here. */
static int plan_maps(const struct accord_manifest *m, const struct accord_plan_entry *plan,
		     struct accord_idpair **u, size_t *nu, struct accord_idpair **g, size_t *ng,
		     uint64_t *files)
{
	size_t i;

	*u = calloc(m->nowners + 1, sizeof(**u));
	*g = calloc(m->nowners + 1, sizeof(**g));
	*nu = *ng = 0;
	*files = 0;
	if (!*u || !*g)
		return -ENOMEM;
	for (i = 0; i < m->nowners; i++) {
		if (plan[i].new_id == m->owners[i].id)
			continue;
		if (m->owners[i].kind == ACCORD_OWNER_USER)
			(*u)[(*nu)++] = (struct accord_idpair){ m->owners[i].id, plan[i].new_id };
		else
			(*g)[(*ng)++] = (struct accord_idpair){ m->owners[i].id, plan[i].new_id };
		*files += m->owners[i].files;
	}
	return 0;
}

/* own: the ownership line after "ownership: " (the method and why);
 * idmapped: no file changes (an idmapped mount, or nothing to do). */
static void print_plan(struct cli *c, const char *root, const struct accord_manifest *m,
		       const struct accord_plan_entry *plan, const char *own, bool idmapped,
		       bool applied)
{
	size_t i, counts[5] = { 0 }, nmaps = 0;
	uint64_t convert_files = 0;

	for (i = 0; i < m->nowners; i++) {
		counts[plan[i].action]++;
		if (plan[i].new_id != m->owners[i].id) {
			nmaps++;
			convert_files += m->owners[i].files;
		}
	}
	if (c->json) {
		json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "storage", json_object_new_string(m->name));
		json_object_object_add(o, "path", json_object_new_string(root));
		json_object_object_add(o, "from_registry", json_object_new_string(m->registry));
		json_object_object_add(o, "files", json_object_new_int64((int64_t)m->files));
		for (i = 0; i < m->nowners; i++) {
			json_object *j = owner_json(m->owners + i);

			json_object_object_add(j, "action",
					       json_object_new_string(action_name(plan[i].action)));
			json_object_object_add(j, "new_id", json_object_new_int64(plan[i].new_id));
			json_object_array_add(a, j);
		}
		json_object_object_add(o, "plan", a);
		json_object_object_add(o, "ids_to_convert", json_object_new_int64((int64_t)nmaps));
		json_object_object_add(o, "files_to_convert",
				       json_object_new_int64(idmapped ? 0 : (int64_t)convert_files));
		json_object_object_add(o, "method", json_object_new_string(own));
		json_object_object_add(o, "idmapped_mount", json_object_new_boolean(idmapped));
		json_object_object_add(o, "applied", json_object_new_boolean(applied));
		print_json(o);
		return;
	}
	printf("Storage %s at %s (from registry %s): %" PRIu64 " files, %zu owners\n", m->name,
	       root, m->registry, m->files, m->nowners);
	if (m->nowners != counts[ACCORD_PLAN_OK])
		printf("  %-12s %-5s %-32s %10s %10s %12s\n", "ACTION", "KIND", "NAME", "ID THERE",
		       "ID HERE", "FILES");
	for (i = 0; i < m->nowners; i++) {
		const struct accord_owner *o = &m->owners[i];

		if (plan[i].action == ACCORD_PLAN_OK)
			continue;
		printf("  %-12s %-5s %-32s %10u %10u %12" PRIu64 "%s\n",
		       action_name(plan[i].action), o->kind ? "group" : "user",
		       o->name[0] ? o->name : "(no name)", o->id, plan[i].new_id, o->files,
		       plan[i].action == ACCORD_PLAN_UNNAMED ? "  left as is" : "");
	}
	printf("  %zu ok, %zu to create (%zu of them on another ID), %zu to remap, %zu without "
	       "a name\n", counts[0], counts[1] + counts[2], counts[2], counts[3], counts[4]);
	printf("  ownership: %s\n", own);
	if (!applied)
		printf("Dry run: nothing was changed ('accordctl storage attach %s --apply' "
		       "carries it out).\n", root);
}

/* A conversion that had to leave hard-linked files: done otherwise, but
 * not what was asked (exit 65). */
static int linked_fail(struct cli *c, const char *storage, uint64_t linked)
{
	return err_code(c, PH_OP, -EMLINK, "storage %s: %" PRIu64 " file%s with other hard "
			"links kept %s owner (named above): changing it would change the same "
			"file wherever its other links are, maybe outside the storage; check "
			"them and change their owner by hand", storage, linked,
			linked == 1 ? "" : "s", linked == 1 ? "its" : "their");
}

/* Runs (or resumes) a conversion and publishes the result.  *linked: the
 * files left as they were because of other hard links (each named on
 * stderr, up to LINKED_SHOWN). */
static int convert_and_publish(struct cli *c, const char *root, const char *name,
			       int64_t created, struct accord_convert *cv, uint64_t *changed,
			       uint64_t *linked)
{
	struct accord_walk w = { .root = root };
	struct accord_err e = { 0 };
	struct progress p;
	int r;

	init_progress(&p, &w, "converting", name);
	r = accord_convert_run(root, cv, &w, &e);
	end_progress(&p);
	if (r < 0) {
		accord_err_prefix(&e, e.code, "the conversion of %s stopped (it resumes where it "
				  "stopped: run the command again)", name);
		return fail(c, PH_COMMIT, &e);
	}
	if (changed)
		*changed = w.changed;
	*linked = w.linked;
	if (w.linked > LINKED_SHOWN)
		fprintf(stderr, "accordctl: warning: and %" PRIu64 " more files with other hard "
			"links left as they are\n", w.linked - LINKED_SHOWN);
	r = publish(c, root, name, created, &w);
	accord_walk_free(&w);
	/* the files now have the IDs of here: no idmapped view any more */
	if (r == 0 && !strcmp(cv->op, "attach"))
		r = drop_idmap_records(c, root, name);
	if (r == 0 && accord_convert_remove(root, &e) < 0)
		r = fail(c, PH_COMMIT, &e);
	return r;
}

static int resume_pending(struct cli *c, const char *root, bool apply,
			  struct accord_convert *cv)
{
	struct accord_manifest m = { 0 };
	char uuid[37];
	uint64_t changed = 0, linked = 0;
	int r;

	accord_registry_uuid(c->reg, uuid);
	if (!apply) {
		printf("An interrupted conversion (%s) of storage %s is pending: phase %zu of %zu.\n"
		       "'accordctl storage attach %s --apply' finishes it.\n", cv->op, cv->storage,
		       cv->current + 1 > cv->nphases ? cv->nphases : cv->current + 1, cv->nphases,
		       root);
		return 0;
	}
	if (strcmp(cv->registry, uuid))
		return err_code(c, PH_OP, -ESTALE, "the pending conversion of %s belongs to "
				"registry %s, not this one; finish it there", root, cv->registry);
	r = read_manifest(c, root, &m);
	if (r)
		return r;
	fprintf(stderr, "accordctl: resuming the interrupted conversion of %s\n", cv->storage);
	r = convert_and_publish(c, root, cv->storage, m.created, cv, &changed, &linked);
	if (r == 0) {
		audit(c, root, cv->storage, "convert-resumed", NULL, NULL, -1, -1, changed);
		if (!c->json || !linked)
			printf("Finished the conversion of storage %s (%" PRIu64 " files changed "
			       "in this run)\n", cv->storage, changed);
		if (linked)
			r = linked_fail(c, cv->storage, linked);
	}
	accord_manifest_free(&m);
	return r;
}

static int storage_attach(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "apply", no_argument, NULL, 'a' },
		{ "chown", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_defaults def = { c->cfg.default_home, c->cfg.default_shell };
	struct accord_manifest m = { 0 }, rec = { 0 };
	struct accord_walk w = { 0 }, vw = { 0 };
	struct accord_err e = { 0 };
	struct accord_convert cv = { 0 };
	struct attach_args a = { 0 };
	struct accord_idmap disk_im = { 0 }, reg_im = { 0 }, im = { 0 };
	const struct accord_idmap *base = NULL;
	struct accord_snapshot snap;
	struct accord_state *st = NULL;
	struct accord_idpair *um = NULL, *gm = NULL;
	struct progress p;
	struct write_result res;
	char root[PATH_MAX], uuid[37], own[PATH_MAX + 1200], why[1024] = "", msg[1024];
	char op[128];
	char dfile[PATH_MAX + 32], rfile[PATH_MAX + ACCORD_STORAGE_NAME_MAX + 32];
	bool apply = false, dry = false, use_chown = false, registered, ours = false;
	bool have_disk, have_reg, idmapped = false, same_plan_here, mount_ok = false;
	size_t nu = 0, ng = 0, i, navoid;
	uint64_t files = 0, linked = 0;
	uint32_t *avoid = NULL;
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'n')
			dry = true;
		else if (o == 'a')
			apply = true;
		else if (o == 'c')
			use_chown = true;
		else
			return usage_error("storage attach: unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return usage_error("usage: accordctl storage attach PATH [--dry-run | --apply] "
				   "[--chown]");
	if (apply && dry)
		return usage_error("storage attach: --dry-run or --apply, not both");
	r = open_registry(c);
	if (r == 0)
		r = storage_root(c, argv[optind], root);
	if (r)
		return r;
	accord_registry_uuid(c->reg, uuid);
	r = accord_convert_load(root, &cv, &e);
	if (r == 0) {
		r = resume_pending(c, root, apply, &cv);
		accord_convert_free(&cv);
		return r;
	}
	if (r != -ENOENT)
		return fail(c, PH_INPUT, &e);
	r = read_manifest(c, root, &m);
	if (r)
		return r;
	/* a name registered here for another storage (a record that is the
	 * manifest byte for byte is this storage, attached here already) */
	registered = same_record(c, root, m.name);
	if (!registered &&
	    accord_storage_record_read(accord_registry_path(c->reg), m.name, &rec, NULL) == 0 &&
	    strcmp(rec.path, root)) {
		r = err_code(c, PH_OP, -EEXIST, "a storage named '%s' is already registered here "
			     "at %s; detach it first ('accordctl storage detach %s')", m.name,
			     rec.path, m.name);
		goto out;
	}
	/* an idmapped view: the manifest has the IDs shown through it */
	idmap_files(c, root, m.name, dfile, sizeof(dfile), rfile, sizeof(rfile));
	r = accord_idmap_load(dfile, &disk_im, &e);
	have_disk = r == 0;
	if (r < 0 && r != -ENOENT) {
		r = fail(c, PH_INPUT, &e);
		goto out;
	}
	have_reg = registered && accord_idmap_load(rfile, &reg_im, NULL) == 0;
	ours = have_reg && accord_idmap_is_ours(root, &reg_im);
	if (have_disk && strcmp(disk_im.storage, m.name)) {
		r = err_code(c, PH_INPUT, -EINVAL, "%s names storage '%s', not '%s'; nothing was "
			     "changed", dfile, disk_im.storage, m.name);
		goto out;
	}
	base = ours ? &reg_im : have_disk ? &disk_im : have_reg ? &reg_im : NULL;
	/* the files must be what the manifest says */
	w.root = root;
	init_progress(&p, &w, "checking", m.name);
	r = accord_storage_walk(&w, &e);
	end_progress(&p);
	if (r < 0) {
		r = fail(c, PH_INPUT, &e);
		goto out;
	}
	/* IDs on disk, for the temporary IDs of a conversion */
	navoid = w.nuids + w.ngids;
	avoid = calloc(navoid + (base ? 2 * (base->nu + base->ng) : 0) + 1, sizeof(*avoid));
	if (!avoid) {
		r = err_code(c, PH_OP, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < w.nuids; i++)
		avoid[i] = w.uids[i].id;
	for (i = 0; i < w.ngids; i++)
		avoid[w.nuids + i] = w.gids[i].id;
	for (i = 0; base && i < base->nu; i++) {
		avoid[navoid++] = base->u[i].from;
		avoid[navoid++] = base->u[i].to;
	}
	for (i = 0; base && i < base->ng; i++) {
		avoid[navoid++] = base->g[i].from;
		avoid[navoid++] = base->g[i].to;
	}
	if (!ours && base) {
		/* the counts as the manifest saw them, through the recorded map */
		vw.uids = calloc(w.nuids + 1, sizeof(*vw.uids));
		vw.gids = calloc(w.ngids + 1, sizeof(*vw.gids));
		if (!vw.uids || !vw.gids) {
			r = err_code(c, PH_OP, -ENOMEM, "out of memory");
			goto out;
		}
		memcpy(vw.uids, w.uids, w.nuids * sizeof(*vw.uids));
		memcpy(vw.gids, w.gids, w.ngids * sizeof(*vw.gids));
		vw.nuids = w.nuids;
		vw.ngids = w.ngids;
		view_counts(vw.uids, &vw.nuids, base->u, base->nu);
		view_counts(vw.gids, &vw.ngids, base->g, base->ng);
	}
	if (compare_counts(&m, !ours && base ? &vw : &w, msg, sizeof(msg))) {
		r = err_code(c, PH_INPUT, -EINVAL, "the manifest of storage %s disagrees with its "
			     "files (%s); it was scanned before these changes: rescan it where it "
			     "is registered ('accordctl storage scan %s'); nothing was changed",
			     m.name, msg, m.name);
		goto out;
	}
	a.m = &m;
	a.def = &def;
	if (!apply) {
		r = read_current(c, &snap);
		if (r)
			goto out;
		r = accord_state_from_snapshot(&snap, &st, &e);
		accord_snapshot_unmap(&snap);
		if (r == 0)
			r = accord_storage_plan(st, &m, &def, &a.plan, &e);
		if (r < 0) {
			r = fail(c, PH_OP, &e);
			goto out;
		}
	} else {
		r = plan_from_snapshot(c, &m, &a.plan);
		if (r < 0) {
			r = err_code(c, PH_OP, -ENOMEM, "out of memory");
			goto out;
		}
		if (r > 0) {
			/* an owner is missing here: create it in one transaction */
			a.plan = NULL;
			snprintf(op, sizeof(op), "storage attach %s", m.name);
			r = run_write(c, op, do_attach, &a, &res);
			if (r)
				goto out;
		}
	}
	if (plan_maps(&m, a.plan, &um, &nu, &gm, &ng, &files) < 0) {
		r = err_code(c, PH_OP, -ENOMEM, "out of memory");
		goto out;
	}
	same_plan_here = registered && !strcmp(m.registry, uuid) && !nu && !ng;
	/* im: disk -> here, through the view the files have now */
	snprintf(im.storage, sizeof(im.storage), "%s", m.name);
	snprintf(im.registry, sizeof(im.registry), "%s", uuid);
	if (compose(base ? base->u : NULL, base ? base->nu : 0, um, nu, &im.u, &im.nu) < 0 ||
	    compose(base ? base->g : NULL, base ? base->ng : 0, gm, ng, &im.g, &im.ng) < 0) {
		r = err_code(c, PH_OP, -ENOMEM, "out of memory");
		goto out;
	}
	if (!im.nu && !im.ng) {
		snprintf(own, sizeof(own), "nothing to convert");
	} else if (ours && same_plan_here && !use_chown) {
		idmapped = mount_ok = true;
		snprintf(own, sizeof(own), "idmapped mount over %s (%zu IDs mapped, 0 files "
			 "changed)", root, im.nu + im.ng);
	} else {
		if (use_chown)
			snprintf(why, sizeof(why), "--chown");
		else if (!why[0])
			idmap_refusal(root, &im, ours ? NULL : &w, !ours, why, sizeof(why));
		idmapped = !why[0];
		if (idmapped) {
			snprintf(own, sizeof(own), "idmapped mount over %s (%zu IDs mapped, 0 "
				 "files changed)", root, im.nu + im.ng);
		} else {
			uint64_t n = 0;

			/* the files of every disk ID that changes */
			for (i = 0; i < m.nowners; i++) {
				const struct accord_owner *ow = &m.owners[i];
				uint32_t d = ow->id;
				bool hit = false;

				if (base)
					for (size_t k = 0; k < (ow->kind ? base->ng : base->nu); k++)
						if ((ow->kind ? base->g : base->u)[k].to == d)
							d = (ow->kind ? base->g : base->u)[k].from;
				map_lookup(ow->kind ? im.g : im.u, ow->kind ? im.ng : im.nu, d, &hit);
				if (hit)
					n += ow->files;
			}
			snprintf(own, sizeof(own), "%zu IDs, %" PRIu64 " files to convert by chown "
				 "(%s)", im.nu + im.ng, n, why);
		}
	}
	if (!apply) {
		print_plan(c, root, &m, a.plan, own, idmapped || (!im.nu && !im.ng), false);
		if (!c->json && base && !ours && idmapped && same_plan_here)
			printf("The idmapped mount over %s is missing (after a reboot or a "
			       "remount): 'accordctl storage attach %s --apply' makes it again.\n",
			       root, root);
		goto out;
	}
	if (same_plan_here && (!im.nu && !im.ng ? !base : mount_ok)) {
		/* attached here already, nothing to change: no write at all */
		print_plan(c, root, &m, a.plan, own, true, true);
		if (!c->json)
			printf("Storage %s is attached already; nothing to change\n", m.name);
		goto out;
	}
	for (i = 0; i < m.nowners; i++) {
		const struct accord_owner *ow = &m.owners[i];

		if (a.plan[i].action == ACCORD_PLAN_CREATE ||
		    a.plan[i].action == ACCORD_PLAN_CREATE_REMAP)
			audit(c, root, m.name, "create", ow->kind ? "group" : "user", ow->name,
			      ow->id, a.plan[i].new_id, ow->files);
	}
	for (i = 0; i < m.nowners; i++) {
		const struct accord_owner *ow = &m.owners[i];

		if (a.plan[i].new_id != ow->id)
			audit(c, root, m.name, "remap", ow->kind ? "group" : "user", ow->name,
			      ow->id, a.plan[i].new_id, ow->files);
	}
	/* a mount of ours is replaced (another map) or given up (--chown) */
	if (ours && accord_idmap_umount(root, &reg_im, &e) < 0) {
		r = fail(c, PH_COMMIT, &e);
		goto out;
	}
	if (idmapped) {
		struct accord_walk v = { .root = root };

		if (accord_idmap_mount(root, &im, &e) < 0) {
			r = fail(c, PH_COMMIT, &e);
			goto out;
		}
		r = save_idmap(c, root, &im);
		if (r)
			goto out;
		audit(c, root, m.name, "idmap-mount", NULL, NULL, -1, -1, im.nu + im.ng);
		if (!same_plan_here) {
			/* the manifest and the record: the IDs shown here */
			init_progress(&p, &v, "checking", m.name);
			r = accord_storage_walk(&v, &e);
			end_progress(&p);
			r = r < 0 ? fail(c, PH_INPUT, &e) : publish(c, root, m.name, m.created, &v);
			accord_walk_free(&v);
			if (r)
				goto out;
		}
	} else if (im.nu || im.ng) {
		if (accord_convert_build(&cv, im.u, im.nu, im.g, im.ng, avoid, navoid) < 0) {
			r = err_code(c, PH_OP, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(cv.storage, sizeof(cv.storage), "%s", m.name);
		snprintf(cv.registry, sizeof(cv.registry), "%s", uuid);
		snprintf(cv.op, sizeof(cv.op), "attach");
		if (accord_convert_save(root, &cv, &e) < 0) {
			r = fail(c, PH_COMMIT, &e);
			goto out;
		}
		r = convert_and_publish(c, root, m.name, m.created, &cv, NULL, &linked);
	} else {
		r = publish(c, root, m.name, m.created, &w);
		if (r == 0 && base)
			r = drop_idmap_records(c, root, m.name);
	}
	if (r)
		goto out;
	audit(c, root, m.name, "attach", NULL, NULL, -1, -1, m.files);
	if (!c->json || !linked)
		print_plan(c, root, &m, a.plan, own, idmapped || (!im.nu && !im.ng), true);
	if (!c->json)
		printf("Attached storage %s%s\n", m.name, idmapped ? ": through an idmapped mount "
		       "(no file changed)" : im.nu || im.ng ? ": ownership converted" : "");
	if (linked)
		r = linked_fail(c, m.name, linked);
out:
	free(avoid);
	free(um);
	free(gm);
	accord_idmap_free(&im);
	accord_idmap_free(&disk_im);
	accord_idmap_free(&reg_im);
	accord_convert_free(&cv);
	free(a.plan);
	if (st)
		accord_state_free(st);
	accord_walk_free(&w);
	accord_walk_free(&vw);
	accord_manifest_free(&m);
	accord_manifest_free(&rec);
	return r;
}

/* ---- delete guard ---------------------------------------------------------- */

/* The target ID for transfer:NAME / default-owner. */
static int guard_target(struct cli *c, uint32_t kind, const char *name, const char *owned,
			uint32_t *id, char *label, size_t len)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_snap_group g;
	const char *target;
	int r;

	if (!strncmp(owned, "transfer:", 9)) {
		target = owned + 9;
	} else if (!strcmp(owned, "default-owner")) {
		if (!c->cfg.default_owner[0])
			return err_code(c, PH_OP, -EINVAL, "--owned-files default-owner: no "
					"default_owner is set in accord.conf");
		target = c->cfg.default_owner;
	} else {
		return usage_error("--owned-files takes transfer:NAME, default-owner or keep, "
				   "not '%s'", owned);
	}
	if (!strcmp(target, name))
		return err_code(c, PH_OP, -EINVAL, "cannot transfer the files of %s to itself",
				name);
	r = read_current(c, &snap);
	if (r)
		return r;
	if (kind == ACCORD_OWNER_USER || !strcmp(owned, "default-owner")) {
		r = accord_snap_user_by_name(&snap, target, &u);
		if (r == 0)
			*id = kind == ACCORD_OWNER_USER ? u.uid : u.gid;
	} else {
		r = accord_snap_group_by_name(&snap, target, &g);
		if (r == 0)
			*id = g.gid;
	}
	accord_snapshot_unmap(&snap);
	if (r < 0)
		return err_code(c, PH_OP, -ENOENT, "--owned-files: %s '%s' does not exist",
				kind == ACCORD_OWNER_USER || !strcmp(owned, "default-owner") ?
				"user" : "group", target);
	snprintf(label, len, "%s", target);
	return 0;
}

static bool same_pairs(const struct accord_idpair *a, size_t na, const struct accord_idpair *b,
		       size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

/* The same maps, op, storage and registry: the same conversion. */
static bool same_plan(const struct accord_convert *x, const struct accord_convert *y)
{
	size_t p;

	if (x->nphases != y->nphases || strcmp(x->op, y->op) || strcmp(x->storage, y->storage) ||
	    strcmp(x->registry, y->registry))
		return false;
	for (p = 0; p < x->nphases; p++)
		if (!same_pairs(x->phase[p].u, x->phase[p].nu, y->phase[p].u, y->phase[p].nu) ||
		    !same_pairs(x->phase[p].g, x->phase[p].ng, y->phase[p].g, y->phase[p].ng))
			return false;
	return true;
}

int storage_guard_delete(struct cli *c, uint32_t kind, const char *name, const char *owned)
{
	struct accord_manifest *recs = NULL;
	struct accord_err e = { 0 };
	char list[2048] = "", label[ACCORD_NAME_MAX + 1] = "", uuid[37];
	size_t n = 0, i, j, hits = 0;
	uint32_t to = 0;
	int r;

	struct accord_snapshot snap;
	struct accord_snap_user su;
	struct accord_snap_group sg;
	bool exists;

	r = read_current(c, &snap);
	if (r)
		return r;
	exists = kind == ACCORD_OWNER_USER ? accord_snap_user_by_name(&snap, name, &su) == 0
					   : accord_snap_group_by_name(&snap, name, &sg) == 0;
	accord_snapshot_unmap(&snap);
	if (!exists)
		return 0; /* the delete itself says so */
	if (accord_storage_records(accord_registry_path(c->reg), &recs, &n, &e) < 0)
		return fail(c, PH_OPEN, &e);
	for (i = 0; i < n; i++)
		for (j = 0; j < recs[i].nowners; j++) {
			const struct accord_owner *o = &recs[i].owners[j];
			size_t k = strlen(list);

			if (o->kind != kind || strcmp(o->name, name))
				continue;
			hits++;
			if (snprintf(list + k, sizeof(list) - k, "%s%s (%s, %" PRIu64 " files)",
				     k ? ", " : "", recs[i].name, recs[i].path,
				     o->files) >= (int)(sizeof(list) - k))
				list[sizeof(list) - 1] = '\0'; /* cut: the count says more */
		}
	r = 0;
	if (!hits || (owned && !strcmp(owned, "keep")))
		goto out;
	if (!owned) {
		r = err_code(c, PH_OP, -EBUSY, "%s %s owns files on registered storages: %s; "
			     "nothing was changed; choose --owned-files transfer:NAME, "
			     "default-owner or keep", kind ? "group" : "user", name, list);
		goto out;
	}
	r = guard_target(c, kind, name, owned, &to, label, sizeof(label));
	if (r)
		goto out;
	accord_registry_uuid(c->reg, uuid);
	/* every storage must be there before anything changes */
	for (i = 0; i < n && r == 0; i++) {
		struct accord_manifest m = { 0 };
		char file[PATH_MAX + 32];

		snprintf(file, sizeof(file), "%s/" ACCORD_STORAGE_META "/manifest.json",
			 recs[i].path);
		if (accord_manifest_read(file, &m, &e) < 0 || strcmp(m.name, recs[i].name) ||
		    strcmp(m.registry, uuid) || idmap_missing(c, recs[i].path, recs[i].name))
			r = err_code(c, PH_OP, -ENODEV, "storage %s is not reachable at %s (its "
				     "manifest is missing, damaged or not this registry's, or its "
				     "idmapped mount is not there): cannot "
				     "transfer files there; nothing was changed", recs[i].name,
				     recs[i].path);
		accord_manifest_free(&m);
	}
	for (i = 0; i < n && r == 0; i++) {
		struct accord_convert cv = { 0 }, old = { 0 };
		struct accord_idpair pair = { 0, to };
		uint64_t moved = 0, changed = 0, linked = 0;

		for (j = 0; j < recs[i].nowners; j++)
			if (recs[i].owners[j].kind == kind && !strcmp(recs[i].owners[j].name, name)) {
				pair.from = recs[i].owners[j].id;
				moved = recs[i].owners[j].files;
			}
		if (!moved)
			continue;
		if (accord_convert_build(&cv, kind ? NULL : &pair, kind ? 0 : 1,
					 kind ? &pair : NULL, kind ? 1 : 0, NULL, 0) < 0) {
			r = err_code(c, PH_OP, -ENOMEM, "out of memory");
			break;
		}
		snprintf(cv.storage, sizeof(cv.storage), "%s", recs[i].name);
		snprintf(cv.registry, sizeof(cv.registry), "%s", uuid);
		snprintf(cv.op, sizeof(cv.op), "transfer");
		/* a transfer killed midway is resumed by the same command */
		r = accord_convert_load(recs[i].path, &old, &e);
		if (r == 0) {
			if (!same_plan(&old, &cv)) {
				r = err_code(c, PH_OP, -EBUSY, "storage %s has another conversion "
					     "pending (%s); finish it first ('accordctl storage "
					     "attach %s --apply')", recs[i].name, old.op, recs[i].path);
			} else {
				cv.current = old.current;
				r = accord_convert_save(recs[i].path, &cv, &e) < 0
					    ? fail(c, PH_COMMIT, &e) : 0;
			}
		} else if (r == -ENOENT) {
			r = accord_convert_save(recs[i].path, &cv, &e) < 0 ? fail(c, PH_COMMIT, &e)
									    : 0;
		} else {
			r = fail(c, PH_INPUT, &e);
		}
		accord_convert_free(&old);
		if (r == 0)
			r = convert_and_publish(c, recs[i].path, recs[i].name, recs[i].created,
						&cv, &changed, &linked);
		if (r == 0) {
			audit(c, recs[i].path, recs[i].name, "transfer", kind ? "group" : "user",
			      name, pair.from, to, changed);
			if (!c->json)
				printf("Transferred %" PRIu64 " files of %s on storage %s to %s\n",
				       changed, name, recs[i].name, label);
		}
		/* files still owned by name: it is not deleted */
		if (r == 0 && linked)
			r = err_code(c, PH_OP, -EMLINK, "%s %s is not deleted: %" PRIu64 " of its "
				     "files on storage %s have other hard links and were left as "
				     "they are (named above; changing their owner would change "
				     "them wherever those links are, maybe outside the storage); "
				     "check them, change their owner by hand, then delete again",
				     kind ? "group" : "user", name, linked, recs[i].name);
		accord_convert_free(&cv);
	}
out:
	accord_storage_records_free(recs, n);
	return r;
}

int cmd_storage(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "register"))
		return storage_register(c, argc - 1, argv + 1);
	if (!strcmp(sub, "scan"))
		return storage_scan(c, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return storage_list(c, argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return storage_show(c, argc - 1, argv + 1);
	if (!strcmp(sub, "attach"))
		return storage_attach(c, argc - 1, argv + 1);
	if (!strcmp(sub, "detach"))
		return storage_detach(c, argc - 1, argv + 1);
	if (!sub[0])
		return usage_error("storage: register, scan, list, show, attach or detach");
	return usage_error("unknown 'storage' command '%s'", sub);
}
