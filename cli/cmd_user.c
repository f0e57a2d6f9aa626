/* SPDX-License-Identifier: MIT */
/* accordctl user add|mod|del|show|list|enable|disable|revoke|resume */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/jsonfmt.h>

#include "cli.h"

struct user_args {
	struct accord_user_spec spec;
	const struct accord_defaults *def;
	int protected_flag;   /* -1 not given, 0 no, 1 yes */
	int no_password_flag;
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

static int user_del(struct cli *c, int argc, char **argv)
{
	struct user_args a = { 0 };
	struct write_result res;
	char op[128], msg[256];
	struct accord_snapshot snap;
	struct accord_snap_user u;
	uint32_t uid = 0;
	int r;

	r = one_name(argc, argv, "user del", &a.spec.name);
	if (r)
		return r;
	r = read_current(c, &snap);
	if (r)
		return r;
	if (accord_snap_user_by_name(&snap, a.spec.name, &u) == 0)
		uid = u.uid;
	accord_snapshot_unmap(&snap);
	snprintf(op, sizeof(op), "user del %s", a.spec.name);
	r = run_write(c, op, do_del, &a, &res);
	if (r)
		return r;
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
	static const char *verbs[] = { "enable", "disable", "revoke", "resume" };
	static const char *done[] = { "Enabled", "Disabled", "Revoked", "Resumed" };
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
	if (op == ACCORD_OP_RESUME)
		snprintf(same, sizeof(same), "'resume' ignored: user %s is not revoked",
			 a.spec.name);
	else
		snprintf(same, sizeof(same), "Nothing to change: user %s is already %s",
			 a.spec.name, op == ACCORD_OP_ENABLE ? "enabled" :
				      op == ACCORD_OP_DISABLE ? "disabled" : "revoked for that reason");
	report_write(c, &res, msg, same);
	return 0;
}

/* Group names of a user's primary and supplementary GIDs. */
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
	return o;
}

static int user_show(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_user u;
	struct accord_snap_group g;
	const char *name = NULL;
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
	if (c->json) {
		print_json(user_json_full(&snap, &u));
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
	printf("status:        %s", accord_status_name(u.flags));
	if (accord_user_status(u.flags) == ACCORD_STATUS_REVOKED)
		printf(" (reason: %s)", u.reason);
	printf("\nno-password:   %s\n", u.flags & ACCORD_F_NO_PASSWORD ? "yes" : "no");
	printf("protected:     %s\n", u.flags & ACCORD_F_PROTECTED ? "yes" : "no");
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
		return user_status(c, argc - 1, argv + 1, ACCORD_OP_RESUME);
	if (!sub[0])
		return usage_error("user: add, mod, del, show, list, enable, disable, "
				   "revoke or resume");
	return usage_error("unknown 'user' command '%s'", sub);
}
