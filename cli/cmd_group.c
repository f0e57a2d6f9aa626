/* SPDX-License-Identifier: MIT */
/* accordctl group add|del|show|list|adduser|deluser */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/jsonfmt.h>

#include "cli.h"
#include "cmd_storage.h"

struct group_args {
	const char *name, *user;
	bool has_gid, shared;
	uint32_t gid;
};

static int do_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct group_args *a = p;

	return accord_group_add(st, a->name, a->has_gid, a->gid, a->shared, e);
}

static int do_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct group_args *a = p;

	return accord_group_del(st, a->name, e);
}

static int do_adduser(struct accord_state *st, void *p, struct accord_err *e)
{
	struct group_args *a = p;
	int r = accord_group_adduser(st, a->name, a->user, e);

	return r < 0 ? r : 0;
}

static int do_deluser(struct accord_state *st, void *p, struct accord_err *e)
{
	struct group_args *a = p;
	int r = accord_group_deluser(st, a->name, a->user, e);

	return r < 0 ? r : 0;
}

static int group_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gid", required_argument, NULL, 'g' },
		{ "shared", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct group_args a = { 0 };
	struct write_result res;
	struct accord_snapshot snap;
	struct accord_snap_group g;
	char op[128], msg[256];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'g') {
			if (accord_parse_id(optarg, &a.gid) < 0)
				return usage_error("--gid needs a number, not '%s'", optarg);
			a.has_gid = true;
		} else if (o == 'S') {
			a.shared = true;
		} else if (o == ':') {
			return usage_error("%s needs a value", argv[optind - 1]);
		} else {
			return usage_error("group add: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("group add takes one group name");
	a.name = argv[optind];
	snprintf(op, sizeof(op), "group add %s%s", a.name, a.shared ? " --shared" : "");
	r = run_write(c, op, do_add, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "Added group %s", a.name);
	if (accord_registry_current(c->reg, false, &snap, NULL) == 0) {
		if (accord_snap_group_by_name(&snap, a.name, &g) == 0)
			snprintf(msg, sizeof(msg), "Added group %s (gid %u)", a.name, g.gid);
		accord_snapshot_unmap(&snap);
	}
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

static int two_names(int argc, char **argv, const char *what, struct group_args *a)
{
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return usage_error("usage: accordctl group %s GROUP USER", what);
	a->name = argv[1];
	a->user = argv[2];
	return 0;
}

static int group_member(struct cli *c, int argc, char **argv, bool add)
{
	struct group_args a = { 0 };
	struct write_result res;
	char op[128], msg[256], same[256];
	int r;

	r = two_names(argc, argv, add ? "adduser" : "deluser", &a);
	if (r)
		return r;
	snprintf(op, sizeof(op), "group %s %s %s", add ? "adduser" : "deluser", a.name, a.user);
	r = run_write(c, op, add ? do_adduser : do_deluser, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "%s %s %s group %s", add ? "Added" : "Removed", a.user,
		 add ? "to" : "from", a.name);
	snprintf(same, sizeof(same), "Nothing to change: %s is %s a member of %s", a.user,
		 add ? "already" : "not", a.name);
	report_write(c, &res, msg, same);
	return 0;
}

/* Whether `group del NAME` would be refused, tried on a copy of the
 * current state: 0, or the exit code of the refusal (printed). */
static int precheck_del(struct cli *c, const char *name)
{
	struct accord_snapshot snap;
	struct accord_state *st = NULL;
	struct accord_err e = { 0 };
	int r = read_current(c, &snap);

	if (r)
		return r;
	r = accord_state_from_snapshot(&snap, &st, &e);
	if (r == 0)
		r = accord_group_del(st, name, &e);
	accord_state_free(st);
	accord_snapshot_unmap(&snap);
	return r < 0 ? fail(c, PH_OP, &e) : 0;
}

static int group_del(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "owned-files", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct group_args a = { 0 };
	struct write_result res;
	const char *owned = NULL;
	char op[128], msg[256];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'o')
			owned = optarg;
		else if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		else
			return usage_error("group del: unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return usage_error("usage: accordctl group del NAME "
				   "[--owned-files transfer:GROUP|default-owner|keep]");
	if (owned && strcmp(owned, "keep") && strcmp(owned, "default-owner") &&
	    (strncmp(owned, "transfer:", 9) || !owned[9]))
		return usage_error("--owned-files takes transfer:GROUP, default-owner or keep, "
				   "not '%s'", owned);
	a.name = argv[optind];
	/* the delete must be possible before any file changes hands (a
	 * group that is still someone's primary group, say) */
	r = precheck_del(c, a.name);
	if (r)
		return r;
	/* files on registered storages: refused, kept or transferred first */
	r = storage_guard_delete(c, ACCORD_OWNER_GROUP, a.name, owned);
	if (r)
		return r;
	snprintf(op, sizeof(op), "group del %s", a.name);
	r = run_write(c, op, do_del, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "Deleted group %s; its gid stays reserved by its tombstone",
		 a.name);
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

/* Users whose primary group this is (a scan: admin command, not NSS). */
static json_object *primary_of(const struct accord_snapshot *s, uint32_t gid)
{
	json_object *arr = json_object_new_array();
	struct accord_snap_user u;
	uint64_t cur = 0;

	while (accord_snap_user_next(s, &cur, &u) == 0)
		if (u.gid == gid)
			json_object_array_add(arr, json_object_new_string(u.name));
	return arr;
}

static int group_show(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_group g;
	json_object *o, *prim;
	char t1[40], t2[40];
	size_t i, n;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("usage: accordctl group show NAME");
	r = read_current(c, &snap);
	if (r)
		return r;
	r = accord_snap_group_by_name(&snap, argv[1], &g);
	if (r < 0) {
		struct accord_err e = { 0 };

		accord_err_set(&e, r, r == -ENOENT ? "group '%s' does not exist"
						   : "the record of group '%s' is damaged", argv[1]);
		accord_snapshot_unmap(&snap);
		return fail(c, r == -ENOENT ? PH_OP : PH_OPEN, &e);
	}
	o = accord_json_group_snap(&g);
	prim = primary_of(&snap, g.gid);
	if (c->json) {
		json_object_object_add(o, "primary_group_of", prim);
		print_json(o);
		accord_snapshot_unmap(&snap);
		return 0;
	}
	accord_time_iso(g.created, t1, sizeof(t1));
	accord_time_iso(g.changed, t2, sizeof(t2));
	printf("name:              %s\n", g.name);
	printf("gid:               %u%s\n", g.gid, g.flags & ACCORD_F_SHARED_ID ? " (shared)" : "");
	printf("members:           ");
	{
		const char *m;
		size_t pos = 0;

		for (i = 0; (m = accord_snap_group_member(&g, &pos)); i++)
			printf("%s%s", i ? ", " : "", m);
	}
	printf("%s\nprimary group of:  ", g.nmembers ? "" : "-");
	n = json_object_array_length(prim);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "",
		       json_object_get_string(json_object_array_get_idx(prim, i)));
	printf("%s\ncreated:           %s\nchanged:           %s\n", n ? "" : "-", t1, t2);
	json_object_put(prim);
	json_object_put(o);
	accord_snapshot_unmap(&snap);
	return 0;
}

static int group_list(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_group g;
	json_object *arr = NULL;
	uint64_t cur = 0;
	int r;

	if (argc != 1)
		return usage_error("group list takes no arguments");
	r = read_current(c, &snap);
	if (r)
		return r;
	if (c->json)
		arr = json_object_new_array_ext((int)snap.group_count);
	else
		printf("%-32s %10s  %s\n", "NAME", "GID", "MEMBERS");
	while ((r = accord_snap_group_next(&snap, &cur, &g)) == 0) {
		if (arr) {
			json_object_array_add(arr, accord_json_group_snap(&g));
			continue;
		}
		printf("%-32s %10u  %u\n", g.name, g.gid, g.nmembers);
	}
	if (arr)
		print_json(arr);
	accord_snapshot_unmap(&snap);
	if (r != -ENOENT) {
		struct accord_err e = { 0 };

		accord_err_set(&e, -EBADMSG, "a group record is damaged; run 'accordctl check'");
		return fail(c, PH_OPEN, &e);
	}
	return 0;
}

int cmd_group(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "add"))
		return group_add(c, argc - 1, argv + 1);
	if (!strcmp(sub, "del"))
		return group_del(c, argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return group_show(c, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return group_list(c, argc - 1, argv + 1);
	if (!strcmp(sub, "adduser"))
		return group_member(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "deluser"))
		return group_member(c, argc - 1, argv + 1, false);
	if (!sub[0])
		return usage_error("group: add, del, show, list, adduser or deluser");
	return usage_error("unknown 'group' command '%s'", sub);
}
