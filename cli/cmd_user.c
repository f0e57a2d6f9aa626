/* SPDX-License-Identifier: MIT */
/*
 * accordctl user add|mod|del|show|list|enable|disable|revoke|resume|passwd
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <accord/audit.h>
#include <accord/jsonfmt.h>
#include <accord/logon.h>

#include "cli.h"
#include "cmd_storage.h"

struct user_args {
	struct accord_user_spec spec;
	const struct accord_defaults *def;
	int protected_flag;   /* -1 not given, 0 no, 1 yes */
	int no_password_flag;
	bool dates_given;     /* --revoke-date / --resume-date (mod only) */
	enum accord_status_op op;
	const char *reason;
};

static int parse_yes_no(const char *opt, const char *v, int *out)
{
	if (!strcmp(v, "yes"))
		*out = 1;
	else if (!strcmp(v, "no"))
		*out = 0;
	else
		return usage_error("%s takes 'yes' or 'no', not '%s'", opt, v);
	return 0;
}

/* DATE (what accord_parse_time() takes) or "none" (0: clears it). */
static int parse_date(const char *opt, const char *v, int64_t *out)
{
	if (!strcmp(v, "none")) {
		*out = 0;
		return 0;
	}
	if (accord_parse_time(v, out) < 0 || *out <= 0)
		return usage_error("%s takes a date and time in UTC ('2026-11-21', "
				   "'2026-11-21 10:00', '2026-11-21T10:00:00Z', '@EPOCH') "
				   "or 'none', not '%s'", opt, v);
	return 0;
}

/* Options shared by user add and user mod. */
static int parse_user_opts(int argc, char **argv, struct user_args *a)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "groups", required_argument, NULL, 'G' },
		{ "gecos", required_argument, NULL, 'c' },
		{ "home", required_argument, NULL, 'd' },
		{ "shell", required_argument, NULL, 's' },
		{ "shared", no_argument, NULL, 'S' },
		{ "protected", required_argument, NULL, 'P' },
		{ "no-password", required_argument, NULL, 'N' },
		{ "revoke-date", required_argument, NULL, 'R' },
		{ "resume-date", required_argument, NULL, 'M' },
		{ "racf-id", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	int o, r;

	a->protected_flag = a->no_password_flag = -1;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (o) {
		case 'u':
			if (accord_parse_id(optarg, &a->spec.uid) < 0)
				return usage_error("--uid needs a number, not '%s'", optarg);
			a->spec.has_uid = true;
			break;
		case 'g':
			a->spec.group = optarg;
			break;
		case 'G':
			a->spec.groups = optarg;
			break;
		case 'c':
			a->spec.gecos = optarg;
			break;
		case 'd':
			a->spec.home = optarg;
			break;
		case 's':
			a->spec.shell = optarg;
			break;
		case 'S':
			a->spec.shared = true;
			break;
		case 'P':
			if ((r = parse_yes_no("--protected", optarg, &a->protected_flag)))
				return r;
			break;
		case 'N':
			if ((r = parse_yes_no("--no-password", optarg, &a->no_password_flag)))
				return r;
			break;
		case 'R':
			if ((r = parse_date("--revoke-date", optarg, &a->spec.revoke_date)))
				return r;
			a->spec.has_revoke_date = a->dates_given = true;
			break;
		case 'M':
			if ((r = parse_date("--resume-date", optarg, &a->spec.resume_date)))
				return r;
			a->spec.has_resume_date = a->dates_given = true;
			break;
		case 'I':
			/* "none" clears the alias (the state takes "") */
			if (!optarg[0])
				return usage_error("--racf-id takes a RACF user ID or 'none'");
			a->spec.racf_id = strcmp(optarg, "none") ? optarg : "";
			break;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("the user name is missing");
	if (optind != argc - 1)
		return usage_error("one user name, please (extra: '%s')", argv[optind + 1]);
	a->spec.name = argv[optind];
	return 0;
}

static int apply_flags(struct accord_state *st, const struct user_args *a,
		       struct accord_err *e)
{
	int r = 0;

	if (a->protected_flag >= 0)
		r = accord_user_set_flag(st, a->spec.name, ACCORD_F_PROTECTED,
					 a->protected_flag, e);
	if (r >= 0 && a->no_password_flag >= 0)
		r = accord_user_set_flag(st, a->spec.name, ACCORD_F_NO_PASSWORD,
					 a->no_password_flag, e);
	return r < 0 ? r : 0;
}

static int do_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct user_args *a = p;
	int r = accord_user_add(st, &a->spec, a->def, e);

	return r < 0 ? r : apply_flags(st, a, e);
}

static int do_mod(struct accord_state *st, void *p, struct accord_err *e)
{
	struct user_args *a = p;
	int r = accord_user_mod(st, &a->spec, e);

	return r < 0 ? r : apply_flags(st, a, e);
}

static int do_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct user_args *a = p;

	return accord_user_del(st, a->spec.name, e);
}

static int do_status(struct accord_state *st, void *p, struct accord_err *e)
{
	struct user_args *a = p;

	return accord_user_status_op(st, a->spec.name, a->op, a->reason, e);
}

/* The user as it is after the write, for the message. */
static void describe(struct cli *c, const char *name, char *buf, size_t len)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct accord_err e = { 0 };

	buf[0] = '\0';
	if (accord_registry_current(c->reg, false, &snap, &e) < 0)
		return;
	if (accord_snap_user_by_name(&snap, name, &u) == 0) {
		if (accord_snap_group_by_gid(&snap, u.gid, &g) == 0)
			snprintf(buf, len, "uid %u, gid %u (%s)", u.uid, u.gid, g.name);
		else
			snprintf(buf, len, "uid %u, gid %u", u.uid, u.gid);
	}
	accord_snapshot_unmap(&snap);
}

static int user_add_mod(struct cli *c, int argc, char **argv, bool add)
{
	struct user_args a = { 0 };
	struct accord_defaults def = { c->cfg.default_home, c->cfg.default_shell };
	struct write_result res;
	char op[128], msg[512], what[128];
	int r;

	r = parse_user_opts(argc, argv, &a);
	if (r)
		return r;
	if (add && a.dates_given)
		return usage_error("user add: --revoke-date and --resume-date apply to "
				   "'user mod' (add the profile first)");
	a.def = &def;
	snprintf(op, sizeof(op), "user %s %s%s", add ? "add" : "mod", a.spec.name,
		 a.spec.shared ? " --shared" : "");
	r = run_write(c, op, add ? do_add : do_mod, &a, &res);
	if (r)
		return r;
	describe(c, a.spec.name, what, sizeof(what));
	snprintf(msg, sizeof(msg), "%s user %s (%s)", add ? "Added" : "Changed",
		 a.spec.name, what);
	report_write(c, &res, msg, "Nothing to change: the profile already has those values.");
	return 0;
}

static int one_name(int argc, char **argv, const char *what, const char **name)
{
	if (argc < 2)
		return usage_error("%s: the user name is missing", what);
	if (argc > 2)
		return usage_error("%s takes one user name", what);
	if (argv[1][0] == '-')
		return usage_error("%s: unknown option '%s'", what, argv[1]);
	*name = argv[1];
	return 0;
}

/* ---- the secrets store: password hashes and logon records ------------ */

/* What the secrets of a profile are bound to, copied out of the snapshot. */
struct profile {
	uint64_t generation;  /* of the snapshot it was read from */
	uint32_t uid, flags;
	int64_t created, revoke_date, resume_date;
	char reason[ACCORD_REASON_MAX + 1];
};

/* The profile `name` in the current generation.  0, or the exit code
 * (the message printed). */
static int load_profile(struct cli *c, const char *name, struct profile *p)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_err e = { 0 };
	int r;

	r = read_current(c, &snap);
	if (r)
		return r;
	r = accord_snap_user_by_name(&snap, name, &u);
	if (r == 0) {
		p->generation = snap.generation;
		p->uid = u.uid;
		p->flags = u.flags;
		p->created = u.created;
		p->revoke_date = u.revoke_date;
		p->resume_date = u.resume_date;
		snprintf(p->reason, sizeof(p->reason), "%s", u.reason);
	}
	accord_snapshot_unmap(&snap);
	if (r == 0)
		return 0;
	accord_err_set(&e, r, r == -ENOENT ? "user '%s' does not exist"
					   : "the record of user '%s' is damaged; run "
					     "'accordctl check'", name);
	return fail(c, r == -ENOENT ? PH_OP : PH_OPEN, &e);
}

/* Opens the registry's secrets store (the registry is open).  Without
 * create, a store that was never made is -ENOENT. */
static int open_secrets(struct cli *c, bool create, struct accord_secrets **s,
			struct accord_err *e)
{
	return accord_secrets_open(accord_registry_path(c->reg), create, s, e);
}

/* NAME [--owned-files transfer:NAME|default-owner|keep] */
static int del_args(int argc, char **argv, const char *what, const char **name,
		    const char **owned)
{
	static const struct option opts[] = {
		{ "owned-files", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'o')
			*owned = optarg;
		else if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		else
			return usage_error("%s: unknown option '%s'", what, argv[optind - 1]);
	}
	if (*owned && strcmp(*owned, "keep") && strcmp(*owned, "default-owner") &&
	    (strncmp(*owned, "transfer:", 9) || !(*owned)[9]))
		return usage_error("--owned-files takes transfer:NAME, default-owner or keep, "
				   "not '%s'", *owned);
	if (optind >= argc)
		return usage_error("%s: the user name is missing", what);
	if (optind != argc - 1)
		return usage_error("%s takes one user name", what);
	*name = argv[optind];
	return 0;
}

static int user_del(struct cli *c, int argc, char **argv)
{
	struct user_args a = { 0 };
	struct write_result res;
	char op[128], msg[256];
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	uint32_t uid = 0;
	const char *owned = NULL;
	int r;

	r = del_args(argc, argv, "user del", &a.spec.name, &owned);
	if (r)
		return r;
	r = read_current(c, &snap);
	if (r)
		return r;
	if (accord_snap_user_by_name(&snap, a.spec.name, &u) == 0)
		uid = u.uid;
	accord_snapshot_unmap(&snap);
	/* files on registered storages: refused, kept or transferred first */
	r = storage_guard_delete(c, ACCORD_OWNER_USER, a.spec.name, owned);
	if (r)
		return r;
	snprintf(op, sizeof(op), "user del %s", a.spec.name);
	r = run_write(c, op, do_del, &a, &res);
	if (r)
		return r;
	/* The profile is gone; its password and logon record go too.  They
	 * are bound to (name, uid, created), so one left behind can never be
	 * used by a later profile of the same name: failing here is untidy,
	 * not unsafe, and the delete stands. */
	if (res.changes) {
		r = open_secrets(c, false, &sec, &e);
		if (r == 0)
			r = accord_secrets_forget(sec, a.spec.name, &e);
		if (r < 0 && r != -ENOENT)
			fprintf(stderr, "accordctl: warning: the password and logon record of %s "
				"were not removed: %s\n", a.spec.name,
				e.msg[0] ? e.msg : strerror(-r));
		if (sec)
			accord_secrets_close(sec);
	}
	snprintf(msg, sizeof(msg), "Deleted user %s; uid %u stays reserved by its tombstone "
		 "and is never given to anyone else", a.spec.name, uid);
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

static int user_status(struct cli *c, int argc, char **argv, enum accord_status_op op)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *verbs[] = { "enable", "disable", "revoke" };
	static const char *done[] = { "Enabled", "Disabled", "Revoked" };
	struct user_args a = { .op = op };
	struct write_result res;
	char opdesc[400], msg[512], same[256];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'r' && op == ACCORD_OP_REVOKE)
			a.reason = optarg;
		else if (o == 'r') /* optind is past the value: name the option */
			return usage_error("user %s: --reason applies only to 'user revoke'",
					   verbs[op]);
		else if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		else
			return usage_error("user %s: unknown option '%s'", verbs[op],
					   argv[optind - 1]);
	}
	if (optind != argc - 1)
		return usage_error("user %s takes one user name", verbs[op]);
	a.spec.name = argv[optind];
	snprintf(opdesc, sizeof(opdesc), "user %s %s%s%s", verbs[op], a.spec.name,
		 a.reason ? " --reason " : "", a.reason ? a.reason : "");
	r = run_write(c, opdesc, do_status, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "%s user %s", done[op], a.spec.name);
	snprintf(same, sizeof(same), "Nothing to change: user %s is already %s", a.spec.name,
		 op == ACCORD_OP_ENABLE ? "enabled" :
		 op == ACCORD_OP_DISABLE ? "disabled" : "revoked for that reason");
	report_write(c, &res, msg, same);
	return 0;
}

/* Whether a revoke date holds the profile revoked at `now`: RACF revokes
 * from the revoke date until the resume date when that comes later. */
static bool date_revoked(int64_t revoke_date, int64_t resume_date, int64_t now)
{
	if (!revoke_date || now < revoke_date)
		return false;
	return !(resume_date > revoke_date && now >= resume_date);
}

static const char *logon_revoke_name(uint32_t why)
{
	return why == ACCORD_LOGON_REVOKED_FAILURES ? "failures" :
	       why == ACCORD_LOGON_REVOKED_INACTIVE ? "inactive" : "unknown";
}

/*
 * resume lifts every revoke there is: an administrator's (the snapshot's
 * status) and a failure or inactivity revoke (the logon record in the
 * secrets store, which pam_accord writes without a commit).  It also sets
 * the failure count to 0, as RACF's RESUME does.  Revoke dates are
 * separate: 'user mod --revoke-date none' changes them.
 */
static int user_resume(struct cli *c, int argc, char **argv)
{
	struct user_args a = { .op = ACCORD_OP_RESUME };
	struct write_result res;
	struct profile p;
	struct accord_secrets *sec = NULL;
	struct accord_logon_rec rec = { 0 };
	struct accord_err e = { 0 };
	struct accord_profile_ref ref;
	char op[128], msg[512] = "", what[400] = "";
	bool logon_damaged = false, reset;
	int64_t now = (int64_t)time(NULL);
	int r, code = 0;

	r = one_name(argc, argv, "user resume", &a.spec.name);
	if (r)
		return r;
	r = load_profile(c, a.spec.name, &p);
	if (r)
		return r;
	ref = (struct accord_profile_ref){ a.spec.name, p.uid, p.created };
	/* read the logon record before anything changes: a store we may not
	 * read refuses the whole command, so that it never half-resumes */
	r = open_secrets(c, false, &sec, &e);
	if (r == 0)
		r = accord_logon_read(sec, &ref, &rec, &e);
	if (r == -EBADMSG) {
		logon_damaged = true; /* the reset below writes a good one */
	} else if (r < 0 && r != -ENOENT) {
		accord_err_prefix(&e, r, "cannot read the logon record of %s, so the "
				  "failure and inactivity revokes cannot be lifted; nothing was "
				  "changed", a.spec.name);
		code = fail(c, PH_LOCK, &e);
		goto out;
	}
	snprintf(op, sizeof(op), "user resume %s", a.spec.name);
	code = run_write(c, op, do_status, &a, &res);
	if (code)
		goto out;
	if (res.changes && p.reason[0] && strcmp(p.reason, "administrator"))
		snprintf(what, sizeof(what), "the revoke by an administrator (reason: %s)",
			 p.reason);
	else if (res.changes)
		snprintf(what, sizeof(what), "the revoke by an administrator");
	/* An administrator's revoke lifted here also restarts the inactivity
	 * clock: a profile revoked for months must not be revoked again for
	 * inactivity at its first logon after the resume. */
	reset = sec && (rec.revoked || rec.failures || logon_damaged || res.changes);
	if (reset) {
		r = accord_logon_reset(sec, &ref, now, &e);
		if (r < 0) {
			if (res.changes)
				accord_err_prefix(&e, r, "%s is lifted (generation %" PRIu64 "), "
						  "but the logon record was not reset",
						  what, res.generation);
			else
				accord_err_prefix(&e, r, "the logon record of %s was not reset",
						  a.spec.name);
			code = fail(c, PH_COMMIT, &e);
			goto out;
		}
		if (rec.revoked) {
			size_t n = strlen(what);

			if (rec.revoked == ACCORD_LOGON_REVOKED_INACTIVE)
				snprintf(what + n, sizeof(what) - n, "%sthe inactivity revoke",
					 n ? " and " : "");
			else
				snprintf(what + n, sizeof(what) - n, "%sthe revoke after %u "
					 "failed logons", n ? " and " : "", rec.failures);
		}
	}
	if (what[0])
		snprintf(msg, sizeof(msg), "Resumed user %s: lifted %s%s", a.spec.name, what,
			 rec.failures ? "; failure count reset to 0" : "");
	else if (reset)
		snprintf(msg, sizeof(msg), "User %s is not revoked; its failure count (%u) was "
			 "reset to 0", a.spec.name, rec.failures);
	else if (date_revoked(p.revoke_date, p.resume_date, now))
		snprintf(msg, sizeof(msg), "'resume' ignored: user %s is revoked only by its "
			 "revoke date, which resume does not change", a.spec.name);
	else
		snprintf(msg, sizeof(msg), "'resume' ignored: user %s is not revoked",
			 a.spec.name);
	if (c->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "generation",
				       json_object_new_int64((int64_t)res.generation));
		json_object_object_add(o, "changes", json_object_new_int64((int64_t)res.changes));
		json_object_object_add(o, "message", json_object_new_string(msg));
		json_object_object_add(o, "logon_reset", json_object_new_boolean(reset));
		print_json(o);
	} else if (res.changes) {
		printf("%s (generation %" PRIu64 ")\n", msg, res.generation);
	} else {
		printf("%s\n", msg);
	}
	if (date_revoked(p.revoke_date, p.resume_date, now)) {
		char t[40];

		accord_time_iso(p.revoke_date, t, sizeof(t));
		fprintf(stderr, "accordctl: note: user %s is still revoked by its revoke date "
			"(%s); 'accordctl user mod %s --revoke-date none' removes it\n",
			a.spec.name, t, a.spec.name);
	}
out:
	if (sec)
		accord_secrets_close(sec);
	return code;
}

static void add_time_or_null(json_object *o, const char *key, int64_t t)
{
	char buf[40];

	accord_time_iso(t, buf, sizeof(buf));
	json_object_object_add(o, key, t ? json_object_new_string(buf) : NULL);
}

/* A profile as user show and user list print it: the shared JSON shape,
 * plus the group names of its primary and supplementary GIDs. */
static json_object *user_json_full(const struct accord_snapshot *s,
				   const struct accord_snap_user *u)
{
	json_object *o = accord_json_user_snap(u), *groups = json_object_new_array();
	struct accord_snap_group g;
	uint32_t i;

	json_object_object_add(o, "group",
			       accord_snap_group_by_gid(s, u->gid, &g) == 0
				       ? json_object_new_string(g.name) : NULL);
	for (i = 0; i < u->ngroups; i++)
		if (accord_snap_group_by_gid(s, accord_snap_user_gid(u, i), &g) == 0)
			json_object_array_add(groups, json_object_new_string(g.name));
	json_object_object_add(o, "groups", groups);
	/* the dates, unless the shared shape already has them */
	if (!json_object_object_get_ex(o, "revoke_date", NULL))
		add_time_or_null(o, "revoke_date", u->revoke_date);
	if (!json_object_object_get_ex(o, "resume_date", NULL))
		add_time_or_null(o, "resume_date", u->resume_date);
	return o;
}

/* A profile's logon record, for user show. */
struct logon_view {
	bool readable;
	struct accord_logon_rec rec;
	char note[ACCORD_ERR_MSG + 64];
};

static void read_logon(struct cli *c, const struct accord_snap_user *u, struct logon_view *v)
{
	struct accord_profile_ref ref = { u->name, u->uid, u->created };
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	int r;

	memset(v, 0, sizeof(*v));
	r = open_secrets(c, false, &sec, &e);
	if (r == 0)
		r = accord_logon_read(sec, &ref, &v->rec, &e);
	if (sec)
		accord_secrets_close(sec);
	if (r == 0 || r == -ENOENT) { /* no store yet: nobody ever logged on */
		if (r)
			memset(&v->rec, 0, sizeof(v->rec));
		v->readable = true;
	} else if ((r == -EACCES || r == -EPERM) && geteuid() != 0) {
		snprintf(v->note, sizeof(v->note), "not shown: the secrets store is readable "
			 "by root only");
	} else {
		snprintf(v->note, sizeof(v->note), "not shown: %s",
			 e.msg[0] ? e.msg : strerror(-r));
	}
}

/* The status a logon meets now: the registry's, unless the logon record
 * (failures, inactivity) or a revoke date holds the profile revoked. */
static const char *effective_status(const struct accord_snap_user *u,
				    const struct logon_view *v, int64_t now,
				    const char **reason)
{
	*reason = NULL;
	/* as pam_accord decides (policy.c): a resume date that has come lifts
	 * an administrator's revoke */
	if (accord_user_status(u->flags) == ACCORD_STATUS_REVOKED) {
		if (!(u->resume_date && now >= u->resume_date)) {
			*reason = u->reason;
			return "revoked";
		}
		if (!(v->readable && v->rec.revoked) &&
		    !date_revoked(u->revoke_date, u->resume_date, now))
			return "enabled";
	}
	if (v->readable && v->rec.revoked) {
		*reason = logon_revoke_name(v->rec.revoked);
		return "revoked";
	}
	if (date_revoked(u->revoke_date, u->resume_date, now)) {
		*reason = "date";
		return "revoked";
	}
	return accord_status_name(u->flags);
}

static json_object *logon_json(const struct logon_view *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "failures", json_object_new_int64(v->rec.failures));
	add_time_or_null(o, "last_logon", v->rec.last_success);
	add_time_or_null(o, "last_failure", v->rec.last_failure);
	json_object_object_add(o, "revoked", v->rec.revoked
				       ? json_object_new_string(logon_revoke_name(v->rec.revoked))
				       : NULL);
	add_time_or_null(o, "revoked_at", v->rec.revoked_at);
	return o;
}

static void print_date(const char *label, int64_t t, int64_t now)
{
	char buf[40];

	if (!t) {
		printf("%s-\n", label);
		return;
	}
	accord_time_iso(t, buf, sizeof(buf));
	printf("%s%s%s\n", label, buf, t <= now ? " (reached)" : "");
}

static int user_show(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct logon_view lv;
	const char *name = NULL, *status, *reason;
	int64_t now = (int64_t)time(NULL);
	char t1[40], t2[40];
	uint32_t i;
	int r;

	r = one_name(argc, argv, "user show", &name);
	if (r)
		return r;
	r = read_current(c, &snap);
	if (r)
		return r;
	r = accord_snap_user_by_name(&snap, name, &u);
	if (r < 0) {
		struct accord_err e = { 0 };

		accord_err_set(&e, r, r == -ENOENT ? "user '%s' does not exist"
						   : "the record of user '%s' is damaged; run "
						     "'accordctl check'", name);
		accord_snapshot_unmap(&snap);
		return fail(c, r == -ENOENT ? PH_OP : PH_OPEN, &e);
	}
	read_logon(c, &u, &lv);
	status = effective_status(&u, &lv, now, &reason);
	if (c->json) {
		json_object *o = user_json_full(&snap, &u);

		json_object_object_add(o, "status", json_object_new_string(status));
		json_object_object_add(o, "revoke_reason",
				       reason ? json_object_new_string(reason) : NULL);
		json_object_object_add(o, "logon", lv.readable ? logon_json(&lv) : NULL);
		if (!lv.readable)
			json_object_object_add(o, "logon_note", json_object_new_string(lv.note));
		print_json(o);
		accord_snapshot_unmap(&snap);
		return 0;
	}
	accord_time_iso(u.created, t1, sizeof(t1));
	accord_time_iso(u.changed, t2, sizeof(t2));
	printf("name:          %s\n", u.name);
	printf("uid:           %u%s\n", u.uid, u.flags & ACCORD_F_SHARED_ID ? " (shared)" : "");
	printf("gid:           %u", u.gid);
	if (accord_snap_group_by_gid(&snap, u.gid, &g) == 0)
		printf(" (%s)", g.name);
	printf("\ngroups:        ");
	for (i = 0; i < u.ngroups; i++)
		if (accord_snap_group_by_gid(&snap, accord_snap_user_gid(&u, i), &g) == 0)
			printf("%s%s", i ? ", " : "", g.name);
	printf("%s\n", u.ngroups ? "" : "-");
	printf("gecos:         %s\n", u.gecos);
	printf("home:          %s\n", u.home);
	printf("shell:         %s\n", u.shell);
	printf("status:        %s", status);
	if (reason)
		printf(" (reason: %s)", reason);
	if (strcmp(status, accord_status_name(u.flags)))
		printf(" (registry: %s)", accord_status_name(u.flags));
	printf("\n");
	print_date("revoke date:   ", u.revoke_date, now);
	print_date("resume date:   ", u.resume_date, now);
	printf("racf id:       %s\n", u.racf_id[0] ? u.racf_id : "-");
	printf("no-password:   %s\n", u.flags & ACCORD_F_NO_PASSWORD ? "yes" : "no");
	printf("protected:     %s\n", u.flags & ACCORD_F_PROTECTED ? "yes" : "no");
	if (lv.readable) {
		char t[40];

		printf("failures:      %u", lv.rec.failures);
		if (c->cfg.revoke_after)
			printf(" (revoked at %u)", c->cfg.revoke_after);
		accord_time_iso(lv.rec.last_success, t, sizeof(t));
		printf("\nlast logon:    %s\n", lv.rec.last_success ? t : "never");
		accord_time_iso(lv.rec.last_failure, t, sizeof(t));
		printf("last failure:  %s\n", lv.rec.last_failure ? t : "never");
	} else {
		printf("logon state:   %s\n", lv.note);
	}
	printf("created:       %s\nchanged:       %s\n", t1, t2);
	accord_snapshot_unmap(&snap);
	return 0;
}

static int user_list(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	json_object *arr = NULL;
	uint64_t cur = 0;
	int r;

	if (argc != 1)
		return usage_error("user list takes no arguments");
	r = read_current(c, &snap);
	if (r)
		return r;
	if (c->json)
		arr = json_object_new_array_ext((int)snap.user_count);
	else
		printf("%-32s %10s %10s  %-8s  %s\n", "NAME", "UID", "GID", "STATUS", "GECOS");
	while ((r = accord_snap_user_next(&snap, &cur, &u)) == 0) {
		if (arr)
			json_object_array_add(arr, user_json_full(&snap, &u));
		else
			printf("%-32s %10u %10u  %-8s  %s\n", u.name, u.uid, u.gid,
			       accord_status_name(u.flags), u.gecos);
	}
	if (arr)
		print_json(arr);
	accord_snapshot_unmap(&snap);
	if (r != -ENOENT) {
		struct accord_err e = { 0 };

		accord_err_set(&e, -EBADMSG, "a user record is damaged; run 'accordctl check'");
		return fail(c, PH_OPEN, &e);
	}
	return 0;
}

/* ---- user passwd ----------------------------------------------------- */

/* Longest password taken, in bytes; a longer one is refused, not cut. */
#define PASSWORD_MAX 512

/*
 * Reads one line from fd into buf (without its '\n', NUL-terminated) one
 * byte at a time, so that no stdio buffer keeps a copy of the password.
 * Returns the length, -E2BIG (longer than size - 1), -EINTR or -EIO.
 */
static ssize_t read_secret_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t k = read(fd, &ch, 1);

		if (k < 0 && errno == EINTR)
			return -EINTR; /* a signal during the prompt: the caller decides */
		if (k < 0)
			return -EIO;
		if (k == 0 || ch == '\n')
			break;
		if (n + 1 >= size) {
			explicit_bzero(&ch, sizeof(ch));
			return -E2BIG;
		}
		buf[n++] = ch;
	}
	buf[n] = '\0';
	explicit_bzero(&ch, sizeof(ch));
	return (ssize_t)n;
}

static volatile sig_atomic_t prompt_signal;

static void on_prompt_signal(int sig)
{
	prompt_signal = sig;
}

/*
 * Prompts on stderr and reads a line from the terminal on stdin with echo
 * off.  A signal (^C) restores the terminal first and is then delivered
 * as it would have been.
 */
static ssize_t read_tty_secret(const char *prompt, char *buf, size_t size)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
	struct sigaction sa, saved[sizeof(sigs) / sizeof(sigs[0])];
	struct termios old, noecho;
	ssize_t n;
	size_t i;

	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -EIO;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prompt_signal; /* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	prompt_signal = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &saved[i]);
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	noecho.c_lflag |= ECHONL;
	/* echo off (and what was typed before it flushed) first, then the
	 * prompt: whatever is typed after the prompt is read, not lost */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) < 0) {
		n = -EIO;
	} else {
		fputs(prompt, stderr);
		fflush(stderr);
		n = read_secret_line(STDIN_FILENO, buf, size);
	}
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &saved[i], NULL);
	if (prompt_signal) {
		explicit_bzero(buf, size);
		fputc('\n', stderr);
		raise(prompt_signal);
		/* reached when the signal was ignored or handled (cppcheck's
		 * posix library takes raise() for noreturn) */
		// cppcheck-suppress unreachableCode
		n = -EINTR;
	}
	return n;
}

/*
 * The new password: from the terminal (asked twice, must match) when
 * stdin is one, else the first line of stdin.  Never from argv.  pw has
 * PASSWORD_MAX + 1 bytes.  0, or the exit code (message printed).
 */
static int read_new_password(struct cli *c, char *pw, char *again)
{
	struct accord_err e = { 0 };
	ssize_t n;

	if (isatty(STDIN_FILENO)) {
		n = read_tty_secret("New password: ", pw, PASSWORD_MAX + 1);
		if (n >= 0) {
			n = read_tty_secret("Retype new password: ", again, PASSWORD_MAX + 1);
			if (n >= 0 && strcmp(pw, again))
				n = -ENOTUNIQ;
		}
	} else {
		n = read_secret_line(STDIN_FILENO, pw, PASSWORD_MAX + 1);
	}
	if (n >= 0)
		return 0;
	switch (n) {
	case -E2BIG:
		accord_err_set(&e, -EINVAL, "the password is longer than %d bytes", PASSWORD_MAX);
		return fail(c, PH_OP, &e);
	case -ENOTUNIQ:
		accord_err_set(&e, -EINVAL, "the passwords do not match; nothing was changed");
		return fail(c, PH_OP, &e);
	case -EINTR:
		accord_err_set(&e, -EINTR, "interrupted; nothing was changed");
		return fail(c, PH_INPUT, &e);
	default:
		accord_err_set(&e, (int)n, "cannot read the new password from %s",
			       isatty(STDIN_FILENO) ? "the terminal" : "standard input");
		return fail(c, PH_INPUT, &e);
	}
}

/* The rules a new password must meet: those of pam_accord's chauthtok
 * (policy.c), plus no control characters. */
static int check_new_password(struct cli *c, const char *name, const char *pw)
{
	struct accord_err e = { 0 };
	size_t i, len = strlen(pw), chars = 0;

	for (i = 0; i < len; i++) /* characters, as UTF-8 counts them */
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			chars++;
	if (!len)
		accord_err_set(&e, -EINVAL, "empty password refused (to refuse password "
			       "logons, use 'accordctl user passwd --none NAME')");
	else if (chars < c->cfg.password_min_length)
		accord_err_set(&e, -EINVAL, "the password is too short: %zu characters, "
			       "password_min_length (accord.conf) is %u", chars,
			       c->cfg.password_min_length);
	else if (!strcmp(pw, name))
		accord_err_set(&e, -EINVAL, "the password is the user name");
	for (i = 0; !e.code && i < len; i++)
		/* nobody can type these at a logon prompt; a '\r' is a file
		 * with DOS line ends */
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			accord_err_set(&e, -EINVAL, "the password contains a control character "
				       "(at byte %zu)%s", i + 1,
				       pw[i] == '\r' ? ": a CR, as from a file with DOS line ends"
						     : "");
	return e.code ? fail(c, PH_OP, &e) : 0;
}

struct flag_args {
	const char *name;
	uint32_t flag;
	bool on;
};

static int do_set_flag(struct accord_state *st, void *p, struct accord_err *e)
{
	struct flag_args *a = p;
	return accord_user_set_flag(st, a->name, a->flag, a->on, e);
}

/* passwd --none: no-password in the registry first (password logons are
 * refused from this commit on), then the stored hash goes. */
static int passwd_none(struct cli *c, const char *name)
{
	struct flag_args fa = { name, ACCORD_F_NO_PASSWORD, true };
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	struct write_result res;
	char op[128], msg[256], same[256];
	int r;

	snprintf(op, sizeof(op), "user passwd --none %s", name);
	r = run_write(c, op, do_set_flag, &fa, &res);
	if (r)
		return r;
	r = open_secrets(c, false, &sec, &e);
	if (r == 0)
		r = accord_secret_clear(sec, name, &e);
	if (sec)
		accord_secrets_close(sec);
	if (r < 0 && r != -ENOENT) {
		accord_err_prefix(&e, r, "user %s has no-password (generation %" PRIu64 "), "
				  "so password logons are refused, but the stored password "
				  "was not removed", name, res.generation);
		return fail(c, PH_COMMIT, &e);
	}
	snprintf(msg, sizeof(msg), "User %s has no password now: password logons are "
		 "refused, other methods still work", name);
	snprintf(same, sizeof(same), "User %s already has no-password; no password is "
		 "stored", name);
	report_write(c, &res, msg, same);
	return 0;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "none", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	/* the only copies of the password: wiped on every way out */
	char pw[PASSWORD_MAX + 1], again[PASSWORD_MAX + 1];
	struct flag_args fa = { NULL, ACCORD_F_NO_PASSWORD, false };
	struct accord_secrets *sec = NULL;
	struct accord_err e = { 0 };
	struct accord_profile_ref ref;
	struct write_result res = { 0 };
	struct profile p;
	bool none = false;
	char op[128], msg[256];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'n')
			none = true;
		else
			return usage_error("user passwd: unknown option '%s' (the password is "
					   "read from the terminal or standard input, never "
					   "from the command line)", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return usage_error("user passwd takes one user name (the password is read "
				   "from the terminal or standard input, never from the "
				   "command line)");
	fa.name = argv[optind];
	r = load_profile(c, fa.name, &p);
	if (r)
		return r;
	if (none)
		return passwd_none(c, fa.name);

	memset(pw, 0, sizeof(pw));
	memset(again, 0, sizeof(again));
	r = read_new_password(c, pw, again);
	if (r)
		goto out;
	r = check_new_password(c, fa.name, pw);
	if (r)
		goto out;
	ref = (struct accord_profile_ref){ fa.name, p.uid, p.created };
	if (open_secrets(c, true, &sec, &e) < 0 || accord_secret_set(sec, &ref, pw, &e) < 0) {
		r = fail(c, PH_COMMIT, &e);
		goto out;
	}
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(again, sizeof(again));
	snprintf(msg, sizeof(msg), "Password set for user %s", fa.name);
	if (p.flags & ACCORD_F_NO_PASSWORD) {
		/* a password is meant to be used: lift no-password */
		snprintf(op, sizeof(op), "user passwd %s (lifts no-password)", fa.name);
		r = run_write(c, op, do_set_flag, &fa, &res);
		if (r)
			goto out;
		snprintf(msg, sizeof(msg), "Password set for user %s; no-password lifted",
			 fa.name);
	} else {
		res.generation = p.generation; /* the registry did not change */
	}
	report_write(c, &res, msg, msg);
	if (p.flags & ACCORD_F_PROTECTED)
		fprintf(stderr, "accordctl: warning: user %s is protected: it cannot log on "
			"interactively, whatever its password ('user mod %s --protected no' "
			"lifts that)\n", fa.name, fa.name);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(again, sizeof(again));
	if (sec)
		accord_secrets_close(sec);
	return r;
}

int cmd_user(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "add"))
		return user_add_mod(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "mod"))
		return user_add_mod(c, argc - 1, argv + 1, false);
	if (!strcmp(sub, "del"))
		return user_del(c, argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return user_show(c, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return user_list(c, argc - 1, argv + 1);
	if (!strcmp(sub, "enable"))
		return user_status(c, argc - 1, argv + 1, ACCORD_OP_ENABLE);
	if (!strcmp(sub, "disable"))
		return user_status(c, argc - 1, argv + 1, ACCORD_OP_DISABLE);
	if (!strcmp(sub, "revoke"))
		return user_status(c, argc - 1, argv + 1, ACCORD_OP_REVOKE);
	if (!strcmp(sub, "resume"))
		return user_resume(c, argc - 1, argv + 1);
	if (!strcmp(sub, "passwd"))
		return user_passwd(c, argc - 1, argv + 1);
	if (!sub[0])
		return usage_error("user: add, mod, del, show, list, enable, disable, "
				   "revoke, resume or passwd");
	return usage_error("unknown 'user' command '%s'", sub);
}
