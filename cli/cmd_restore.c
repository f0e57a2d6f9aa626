/* SPDX-License-Identifier: MIT */
/*
 * accordctl restore FILE [--dry-run] [--exclude PATTERN]... [--only CLASS,...]
 *                   [--include-secrets] [--full] [--foreign] [--yes]
 *                   [--reapply-since-backup]
 *
 * The decisions are common/restore.c's (include/accord/restore.h); this
 * file opens the backup, shows the diff, asks, runs one transaction and
 * then writes the secrets store (permissions, password hashes).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <accord/backup.h>
#include <accord/jsonfmt.h>
#include <accord/logon.h>
#include <accord/ptstore.h>
#include <accord/restore.h>
#include <accord/statediff.h>

#include "cli.h"

struct restore_args {
	const char *file;
	bool dry_run, yes, foreign, reapply, include_secrets;
	struct accord_restore_opts o;
	const char *exclude[ACCORD_RESTORE_MAX_EXCLUDE];
};

/* Everything a computation needs and produces; one per run. */
struct rctx {
	struct cli *c;
	struct restore_args *a;
	struct accord_backup *b;
	const struct accord_backup_info *info;
	struct accord_state *bst;            /* the backup's state */
	struct accord_strlist pt_live, pt_backup, pt_target;
	bool ptauth;                         /* the class is compared */
	struct accord_reapply ra;
	uint64_t preview_gen;
	/* results of the last computation */
	struct accord_restore_report rep;
	struct accord_diff diff;
	bool have_diff;
	unsigned nkeys;                      /* PassTicket keys written */
};

static void rctx_clear_result(struct rctx *x)
{
	accord_restore_report_free(&x->rep);
	if (x->have_diff)
		accord_diff_free(&x->diff);
	x->have_diff = false;
}

static int permit_one(const char *appl, uint32_t kind, const char *who, void *ctx)
{
	return accord_strlist_add(ctx, "%s:%s:%s", appl,
				  kind == ACCORD_ACE_GROUP ? "group" : "user", who);
}

/*
 * Computes the target on st (a copy of the live state `live`), then the
 * diff live -> st.  0; -EEXIST when the restore has conflicts (listed in
 * x->rep); another negative errno with e set.
 */
static int compute(struct rctx *x, const struct accord_state *live, struct accord_state *st,
		   struct accord_err *e)
{
	int r;

	rctx_clear_result(x);
	r = accord_restore_state(st, x->bst, &x->a->o, &x->rep, e);
	if (r < 0)
		return r;
	if (x->a->reapply) {
		r = accord_reapply_run(st, &x->ra, &x->a->o, e);
		if (r < 0)
			return r;
	}
	r = accord_state_diff(live, st,
			      x->ptauth ? (const char *const *)x->pt_live.v : NULL,
			      x->ptauth ? x->pt_live.n : 0,
			      x->ptauth ? (const char *const *)x->pt_target.v : NULL,
			      x->ptauth ? x->pt_target.n : 0, &x->diff, e);
	if (r < 0)
		return r;
	x->have_diff = true;
	return 0;
}

static void print_list(const char *title, const struct accord_strlist *l, FILE *f)
{
	size_t i;

	if (!l->n)
		return;
	fprintf(f, "%s:\n", title);
	for (i = 0; i < l->n; i++)
		fprintf(f, "  %s\n", l->v[i]);
}

static void print_reapply(const struct rctx *x, FILE *f)
{
	char buf[512];
	size_t i;

	if (!x->a->reapply)
		return;
	fprintf(f, "Journal since the backup (generation %" PRIu64 "): %zu applied, %zu "
		"already so, %zu conflicting, %zu not in the restored classes\n",
		x->info->generation, x->ra.count[ACCORD_REAPPLY_APPLIED],
		x->ra.count[ACCORD_REAPPLY_ALREADY], x->ra.count[ACCORD_REAPPLY_CONFLICT],
		x->ra.count[ACCORD_REAPPLY_SKIPPED]);
	for (i = 0; i < x->ra.n; i++) {
		const struct accord_reapply_entry *en = &x->ra.v[i];

		if (en->outcome != ACCORD_REAPPLY_APPLIED && en->outcome != ACCORD_REAPPLY_CONFLICT)
			continue;
		accord_reapply_describe(en, buf, sizeof(buf));
		fprintf(f, "  %s %s\n", en->outcome == ACCORD_REAPPLY_APPLIED ? "applied:"
										: "CONFLICT, skipped:", buf);
	}
}

static json_object *list_json(const struct accord_strlist *l)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_object_array_add(a, json_object_new_string(l->v[i]));
	return a;
}

static json_object *reapply_json(const struct rctx *x)
{
	json_object *o = json_object_new_object(), *ap = json_object_new_array(),
		    *cf = json_object_new_array();
	char buf[512];
	size_t i;

	for (i = 0; i < x->ra.n; i++) {
		const struct accord_reapply_entry *en = &x->ra.v[i];

		if (en->outcome != ACCORD_REAPPLY_APPLIED && en->outcome != ACCORD_REAPPLY_CONFLICT)
			continue;
		accord_reapply_describe(en, buf, sizeof(buf));
		json_object_array_add(en->outcome == ACCORD_REAPPLY_APPLIED ? ap : cf,
				      json_object_new_string(buf));
	}
	json_object_object_add(o, "since", json_object_new_int64((int64_t)x->info->generation));
	json_object_object_add(o, "applied", ap);
	json_object_object_add(o, "conflicts", cf);
	json_object_object_add(o, "already", json_object_new_int64(
					     (int64_t)x->ra.count[ACCORD_REAPPLY_ALREADY]));
	return o;
}

/* The diff and what goes with it: text to stdout (conflicts to stderr),
 * or into the JSON document. */
static void show(struct rctx *x, json_object *doc)
{
	if (doc) {
		if (x->have_diff)
			json_object_object_add(doc, "diff", accord_diff_json(&x->diff));
		json_object_object_add(doc, "conflicts", list_json(&x->rep.conflicts));
		json_object_object_add(doc, "notes", list_json(&x->rep.notes));
		json_object_object_add(doc, "no_password", list_json(&x->rep.added));
		if (x->a->reapply)
			json_object_object_add(doc, "reapply", reapply_json(x));
		return;
	}
	printf("Restore from %s: registry %s, generation %" PRIu64 ", host %s\n", x->a->file,
	       x->info->uuid, x->info->generation, x->info->host);
	if (x->have_diff) {
		if (x->diff.n)
			accord_diff_print(&x->diff, "live", "restored", stdout);
		else
			printf("No differences in the restored classes.\n");
	}
	print_list("Notes", &x->rep.notes, stdout);
	if (x->rep.added.n && !x->a->o.full)
		print_list("Profiles that do not exist here come back with no-password "
			   "(--full keeps their password state)", &x->rep.added, stdout);
	print_reapply(x, stdout);
	print_list("accordctl: conflicts (nothing is restored; exclude these names or "
		   "resolve them first)", &x->rep.conflicts, stderr);
	fflush(stdout);
}

/* The preview: the current generation, no lock. */
static int preview(struct rctx *x, struct accord_err *e)
{
	struct accord_snapshot snap;
	struct accord_state *live = NULL, *st = NULL;
	int r;

	r = accord_registry_current(x->c->reg, false, &snap, e);
	if (r < 0)
		return r;
	x->preview_gen = snap.generation;
	r = accord_state_from_snapshot(&snap, &live, e);
	if (r == 0)
		r = accord_state_from_snapshot(&snap, &st, e);
	if (r == 0) {
		accord_state_set_actor(st, time(NULL), "restore");
		r = compute(x, live, st, e);
	}
	accord_state_free(live);
	accord_state_free(st);
	return r;
}

/* The transaction's function: the same computation under the lock, on
 * the generation the diff was shown for. */
static int do_restore(struct accord_state *st, void *p, struct accord_err *e)
{
	struct rctx *x = p;
	struct accord_snapshot snap;
	struct accord_state *live = NULL;
	int r;

	r = accord_registry_current(x->c->reg, false, &snap, e);
	if (r < 0)
		return r;
	if (snap.generation != x->preview_gen)
		return accord_err_set(e, -EAGAIN, "the registry changed (generation %" PRIu64
				      " -> %" PRIu64 ") since the diff was shown; nothing was "
				      "restored, run the restore again", x->preview_gen,
				      snap.generation);
	r = accord_state_from_snapshot(&snap, &live, e);
	if (r == 0)
		r = compute(x, live, st, e);
	accord_state_free(live);
	return r;
}

static int collect_journal(uint64_t gen, const char *line, void *ctx)
{
	return accord_reapply_add(ctx, gen, line);
}

/* Confirmation: a terminal answers; without one, --yes is needed. */
static int confirm(struct rctx *x)
{
	char line[32];

	if (x->a->yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return usage_error("restore: not changing anything without confirmation; "
				   "standard input is not a terminal: give --yes (or "
				   "--dry-run to only see the diff)");
	fprintf(stderr, "Restore these changes? [y/N] ");
	if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
		fprintf(stderr, "accordctl: restore cancelled; nothing changed\n");
		return EXIT_PROBLEMS;
	}
	return 0;
}

/* After the commit: PassTicket permissions, then password hashes. */
static int write_secrets(struct rctx *x, struct accord_secrets *sec, unsigned *npw,
			 unsigned *npt, struct accord_err *e)
{
	struct accord_backup_secret bs;
	struct accord_snapshot snap;
	size_t cur = 0, i, j;
	int r = 0;

	for (i = 0; x->ptauth && i < x->pt_live.n && r == 0; i++) {
		for (j = 0; j < x->pt_target.n && strcmp(x->pt_target.v[j], x->pt_live.v[i]); j++)
			;
		if (j == x->pt_target.n) {
			char *s = x->pt_live.v[i], *k = strchr(s, ':'), *w = strrchr(s, ':');

			*k = 0;
			r = accord_pt_permit(sec, s, k[1] == 'g' ? ACCORD_ACE_GROUP : ACCORD_ACE_USER,
					     w + 1, false, e);
			*k = ':';
			(*npt)++;
		}
	}
	for (i = 0; x->ptauth && i < x->pt_target.n && r >= 0; i++) {
		for (j = 0; j < x->pt_live.n && strcmp(x->pt_target.v[i], x->pt_live.v[j]); j++)
			;
		if (j == x->pt_live.n) {
			char *s = x->pt_target.v[i], *k = strchr(s, ':'), *w = strrchr(s, ':');

			*k = 0;
			r = accord_pt_permit(sec, s, k[1] == 'g' ? ACCORD_ACE_GROUP : ACCORD_ACE_USER,
					     w + 1, true, e);
			*k = ':';
			(*npt)++;
		}
	}
	/* PassTicket keys: named explicitly (--only ptkeys) */
	while (r >= 0 && (x->a->o.classes & ACCORD_RESTORE_PTKEYS) &&
	       accord_backup_secret_next(x->b, &cur, &bs) == 0) {
		struct accord_pt_key k;

		if (strcmp(bs.kind, "ptkey") || accord_restore_excluded(&x->a->o, bs.name))
			continue;
		r = accord_pt_key_parse((const char *)bs.data, bs.len, &k, e);
		if (r == 0)
			r = accord_pt_key_put(sec, bs.name, &k, e);
		explicit_bzero(&k, sizeof(k));
		if (r == 0)
			x->nkeys++;
	}
	cur = 0;
	if (r < 0 || !(x->a->o.classes & ACCORD_RESTORE_PASSWORDS) ||
	    !(x->a->o.classes & (1u << ACCORD_CLASS_USER)))
		return r < 0 ? r : 0;
	r = accord_registry_current(x->c->reg, false, &snap, e);
	while (r >= 0 && accord_backup_secret_next(x->b, &cur, &bs) == 0) {
		struct accord_snap_user su;
		struct accord_profile_ref ref;
		char hash[512];
		bool added = false;

		if (strcmp(bs.kind, "password") || accord_restore_excluded(&x->a->o, bs.name) ||
		    !accord_state_user(x->bst, bs.name) ||
		    accord_snap_user_by_name(&snap, bs.name, &su) != 0)
			continue;
		for (i = 0; i < x->rep.added.n; i++)
			added |= !strcmp(x->rep.added.v[i], bs.name);
		if ((added || (su.flags & ACCORD_F_NO_PASSWORD)) && !x->a->o.full)
			continue; /* no-password: a hash would contradict it */
		if (accord_restore_password_hash(bs.data, bs.len, hash, sizeof(hash)) < 0) {
			fprintf(stderr, "accordctl: warning: the backup's password of %s is "
				"damaged; not restored\n", bs.name);
			continue;
		}
		ref = (struct accord_profile_ref){ bs.name, su.uid, su.created };
		r = accord_secret_set_hash(sec, &ref, hash, e);
		explicit_bzero(hash, sizeof(hash));
		if (r == 0)
			(*npw)++;
	}
	return r < 0 ? r : 0;
}

static int parse_args(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "only", required_argument, NULL, 'o' },
		{ "include-secrets", no_argument, NULL, 's' },
		{ "full", no_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ "foreign", no_argument, NULL, 'F' },
		{ "reapply-since-backup", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct accord_err e = { 0 };
	const char *only = NULL;
	int o;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (o) {
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		case 'n':
			a->dry_run = true;
			break;
		case 'x':
			if (a->o.nexclude == ACCORD_RESTORE_MAX_EXCLUDE)
				return usage_error("restore: at most %d --exclude patterns",
						   ACCORD_RESTORE_MAX_EXCLUDE);
			if (!optarg[0])
				return usage_error("restore: --exclude needs a pattern");
			a->exclude[a->o.nexclude++] = optarg;
			break;
		case 'o':
			if (only)
				return usage_error("restore: give --only once, with a list");
			only = optarg;
			break;
		case 's':
			a->include_secrets = true;
			break;
		case 'f':
			a->o.full = true;
			break;
		case 'y':
			a->yes = true;
			break;
		case 'F':
			a->foreign = true;
			break;
		case 'r':
			a->reapply = true;
			break;
		default:
			return usage_error("restore: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("restore: the backup file is missing");
	if (optind != argc - 1)
		return usage_error("restore takes one backup file (extra: '%s')", argv[optind + 1]);
	a->file = argv[optind];
	a->o.exclude = a->exclude;
	a->o.classes = ACCORD_RESTORE_DEFAULT;
	if (only && accord_restore_parse_only(only, &a->o.classes, &e) < 0)
		return usage_error("restore: %s", e.msg);
	if (a->include_secrets)
		a->o.classes |= ACCORD_RESTORE_PASSWORDS;
	if ((a->o.classes & ACCORD_RESTORE_PTKEYS) && !a->include_secrets)
		return usage_error("restore: --only ptkeys needs --include-secrets (keys are "
				   "secrets)");
	return 0;
}

static int backup_phase_fail(struct cli *c, const struct accord_err *e)
{
	/* damaged or tampered: bad data (65); missing: no input (66) */
	return fail(c, e->code == -EBADMSG ? PH_OP : PH_INPUT, e);
}

int cmd_restore(struct cli *c, int argc, char **argv)
{
	struct restore_args a = { 0 };
	struct rctx x = { .c = c, .a = &a };
	struct accord_err e = { 0 };
	struct accord_secrets *sec = NULL;
	struct accord_backup_secret bs;
	struct write_result res;
	json_object *doc = NULL;
	char uuid[37], op[256];
	unsigned npw = 0, npt = 0;
	size_t cur = 0;
	int r, rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	rc = open_registry(c);
	if (rc)
		return rc;
	r = accord_backup_open(a.file, &x.b, &e);
	if (r == 0 && (r = accord_backup_trusted(x.b, &e)) < 0) {
		accord_backup_close(x.b);
		return fail(c, PH_INPUT, &e);
	}
	if (r < 0)
		return backup_phase_fail(c, &e);
	x.info = accord_backup_info(x.b);
	accord_registry_uuid(c->reg, uuid);
	if (strcmp(uuid, x.info->uuid)) {
		fprintf(stderr, "accordctl: warning: %s is a backup of another registry (%s, "
			"host %s); this registry is %s\n", a.file, x.info->uuid, x.info->host, uuid);
		if (!a.foreign) {
			accord_err_set(&e, -EXDEV, "not restoring a foreign backup without "
				       "--foreign; nothing changed");
			rc = fail(c, PH_OP, &e);
			goto out;
		}
		if (a.reapply) {
			rc = usage_error("restore: --reapply-since-backup replays this registry's "
					 "journal; it does not apply to a backup of another one");
			goto out;
		}
	}
	if (a.include_secrets && !x.info->has_secrets) {
		accord_err_set(&e, -EINVAL, "--include-secrets: %s holds no secrets (it was "
			       "taken without --include-secrets)", a.file);
		rc = fail(c, PH_INPUT, &e);
		goto out;
	}
	r = accord_state_from_snapshot(accord_backup_snapshot(x.b), &x.bst, &e);
	if (r < 0) {
		rc = backup_phase_fail(c, &e);
		goto out;
	}
	/* PassTicket permissions: compared and restored when the backup says
	 * it holds them (has_ptauth: read at backup time, possibly none) */
	x.ptauth = (a.o.classes & (1u << ACCORD_CLASS_PTAUTH)) && x.info->has_ptauth;
	if (x.ptauth || a.include_secrets) {
		r = accord_secrets_open(accord_registry_path(c->reg), false, &sec, &e);
		if (r < 0) {
			rc = fail(c, PH_OPEN, &e);
			goto out;
		}
	}
	if (x.ptauth) {
		r = accord_pt_permit_list(sec, NULL, permit_one, &x.pt_live, &e);
		while (r >= 0 && accord_backup_secret_next(x.b, &cur, &bs) == 0)
			if (!strcmp(bs.kind, "ptauth"))
				r = accord_restore_ptauth_parse(bs.name, bs.data, bs.len, &x.pt_backup);
		if (r >= 0)
			r = accord_restore_ptauth((const char *const *)x.pt_live.v, x.pt_live.n,
						  (const char *const *)x.pt_backup.v, x.pt_backup.n,
						  &a.o, &x.pt_target);
		if (r < 0) {
			if (!e.msg[0])
				accord_err_set(&e, r, "cannot read the PassTicket permissions");
			rc = fail(c, PH_INPUT, &e);
			goto out;
		}
	}
	if (a.reapply) {
		r = accord_registry_journal(c->reg, x.info->generation + 1, collect_journal, &x.ra,
					    &e);
		if (r < 0) {
			rc = fail(c, PH_OPEN, &e);
			goto out;
		}
	}
	if (c->json) {
		doc = json_object_new_object();
		json_object_object_add(doc, "backup", json_object_new_string(a.file));
		json_object_object_add(doc, "backup_uuid", json_object_new_string(x.info->uuid));
		json_object_object_add(doc, "backup_generation",
				       json_object_new_int64((int64_t)x.info->generation));
		json_object_object_add(doc, "dry_run", json_object_new_boolean(a.dry_run));
	}
	r = preview(&x, &e);
	if (r < 0 && r != -EEXIST) {
		rc = fail(c, PH_OP, &e);
		goto out;
	}
	show(&x, doc);
	if (r == -EEXIST) {
		rc = fail(c, PH_OP, &e);
		goto out;
	}
	if (a.dry_run) {
		if (!doc)
			printf("Dry run: nothing changed.\n");
		rc = 0;
		goto out;
	}
	rc = confirm(&x);
	if (rc)
		goto out;
	snprintf(op, sizeof(op), "restore %s (registry %s generation %" PRIu64 ")", a.file,
		 x.info->uuid, x.info->generation);
	rc = run_write(c, op, do_restore, &x, &res);
	if (rc) {
		if (x.rep.conflicts.n)
			print_list("accordctl: conflicts", &x.rep.conflicts, stderr);
		goto out;
	}
	if (sec) {
		r = write_secrets(&x, sec, &npw, &npt, &e);
		if (r < 0) {
			accord_err_prefix(&e, r, "the restore is committed (generation %" PRIu64
					  "), but the secrets store was not fully written; run the "
					  "restore again", res.generation);
			rc = fail(c, PH_COMMIT, &e);
			goto out;
		}
	}
	if (doc) {
		json_object_object_add(doc, "generation",
				       json_object_new_int64((int64_t)res.generation));
		json_object_object_add(doc, "changes", json_object_new_int64((int64_t)res.changes));
		json_object_object_add(doc, "passwords", json_object_new_int64(npw));
		json_object_object_add(doc, "ptauth_changes", json_object_new_int64(npt));
		json_object_object_add(doc, "ptkeys", json_object_new_int64(x.nkeys));
	} else {
		if (res.changes)
			printf("Restored from %s: %zu change%s (generation %" PRIu64 ")", a.file,
			       res.changes, res.changes == 1 ? "" : "s", res.generation);
		else
			printf("Nothing to change in the registry");
		printf("; %u password%s, %u PassTicket permission change%s", npw,
		       npw == 1 ? "" : "s", npt, npt == 1 ? "" : "s");
		if (a.o.classes & ACCORD_RESTORE_PTKEYS)
			printf(", %u PassTicket key%s", x.nkeys, x.nkeys == 1 ? "" : "s");
		printf(" written.\n");
	}
	rc = 0;
out:
	if (doc) {
		if (rc == 0)
			print_json(doc);
		else
			json_object_put(doc);
	}
	rctx_clear_result(&x);
	accord_reapply_free(&x.ra);
	accord_strlist_free(&x.pt_live);
	accord_strlist_free(&x.pt_backup);
	accord_strlist_free(&x.pt_target);
	accord_state_free(x.bst);
	if (sec)
		accord_secrets_close(sec);
	accord_backup_close(x.b);
	return rc;
}
