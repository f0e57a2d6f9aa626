/* SPDX-License-Identifier: MIT */
/*
 * accordctl appl add|mod|del|permit|revoke-access|show|list (the RACF APPL
 * class) and accordctl swap permit|deny|del|list (profile swap rules).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/jsonfmt.h>

#include "cli.h"

static const char *ace_kind_name(uint32_t k)
{
	return k == ACCORD_ACE_USER ? "user" : k == ACCORD_ACE_GROUP ? "group" : "?";
}

static const char *swap_kind_name(uint32_t k)
{
	return k == ACCORD_SWAP_PERMIT ? "permit" : k == ACCORD_SWAP_DENY ? "deny" : "?";
}

static int parse_access(const char *opt, const char *v, uint32_t *out)
{
	if (!strcmp(v, "none"))
		*out = ACCORD_ACCESS_NONE;
	else if (!strcmp(v, "read"))
		*out = ACCORD_ACCESS_READ;
	else
		return usage_error("%s takes 'none' or 'read', not '%s'", opt, v);
	return 0;
}

/* ---- appl ------------------------------------------------------------ */

struct appl_args {
	const char *name;
	uint32_t access;      /* --uacc or --access */
	bool has_access;
	uint32_t kind;        /* ACCORD_ACE_USER / _GROUP, 0 if not given */
	const char *who;
};

static int do_appl_add(struct accord_state *st, void *p, struct accord_err *e)
{
	struct appl_args *a = p;

	return accord_appl_add(st, a->name, a->access, e);
}

static int do_appl_mod(struct accord_state *st, void *p, struct accord_err *e)
{
	struct appl_args *a = p;

	return accord_appl_set_uacc(st, a->name, a->access, e);
}

static int do_appl_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct appl_args *a = p;

	return accord_appl_del(st, a->name, e);
}

static int do_appl_permit(struct accord_state *st, void *p, struct accord_err *e)
{
	struct appl_args *a = p;

	return accord_appl_permit(st, a->name, a->kind, a->who, a->access, e);
}

static int do_appl_revoke(struct accord_state *st, void *p, struct accord_err *e)
{
	struct appl_args *a = p;

	return accord_appl_revoke_access(st, a->name, a->kind, a->who, e);
}

/*
 * The options of the appl subcommands; `allowed` names the ones this
 * subcommand takes ('u' --uacc, 'a' --access, 'g' --group, 'U' --user).
 * Exactly one application name.
 */
static int parse_appl_opts(int argc, char **argv, const char *what, const char *allowed,
			   struct appl_args *a)
{
	static const struct option opts[] = {
		{ "uacc", required_argument, NULL, 'u' },
		{ "access", required_argument, NULL, 'a' },
		{ "group", required_argument, NULL, 'g' },
		{ "user", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		if (o == '?' || !strchr(allowed, o))
			return usage_error("appl %s: unknown option '%s'", what,
					   argv[optind - 1]);
		switch (o) {
		case 'u':
			if ((r = parse_access("--uacc", optarg, &a->access)))
				return r;
			a->has_access = true;
			break;
		case 'a':
			if ((r = parse_access("--access", optarg, &a->access)))
				return r;
			a->has_access = true;
			break;
		case 'g':
		case 'U':
			if (a->kind)
				return usage_error("appl %s: give either --group or --user, "
						   "once", what);
			a->kind = o == 'g' ? ACCORD_ACE_GROUP : ACCORD_ACE_USER;
			a->who = optarg;
			break;
		}
	}
	if (optind >= argc)
		return usage_error("appl %s: the application name is missing", what);
	if (optind != argc - 1)
		return usage_error("appl %s takes one application name (extra: '%s')", what,
				   argv[optind + 1]);
	a->name = argv[optind];
	if (strchr(allowed, 'g') && !a->kind)
		return usage_error("appl %s: name whom with --group GROUP or --user USER", what);
	return 0;
}

static int appl_add_mod(struct cli *c, int argc, char **argv, bool add)
{
	struct appl_args a = { .access = ACCORD_ACCESS_NONE };
	struct write_result res;
	char op[128], msg[256], same[256];
	int r;

	r = parse_appl_opts(argc, argv, add ? "add" : "mod", "u", &a);
	if (r)
		return r;
	if (!add && !a.has_access)
		return usage_error("appl mod: nothing to change (give --uacc none|read)");
	snprintf(op, sizeof(op), "appl %s %s --uacc %s", add ? "add" : "mod", a.name,
		 accord_access_name(a.access));
	r = run_write(c, op, add ? do_appl_add : do_appl_mod, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "%s application %s (uacc %s: %s)", add ? "Added" : "Changed",
		 a.name, accord_access_name(a.access),
		 a.access == ACCORD_ACCESS_READ
			 ? "profiles without an entry may log on to it"
			 : "only profiles given read access by an entry may log on to it");
	snprintf(same, sizeof(same), "Nothing to change: application %s already has uacc %s",
		 a.name, accord_access_name(a.access));
	report_write(c, &res, msg, same);
	return 0;
}

static int appl_del(struct cli *c, int argc, char **argv)
{
	struct appl_args a = { 0 };
	struct write_result res;
	char op[128], msg[320];
	int r;

	r = parse_appl_opts(argc, argv, "del", "", &a);
	if (r)
		return r;
	snprintf(op, sizeof(op), "appl del %s", a.name);
	r = run_write(c, op, do_appl_del, &a, &res);
	if (r)
		return r;
	snprintf(msg, sizeof(msg), "Deleted application %s; logons to it are no longer "
		 "checked%s", a.name, c->cfg.protect_all ? " and are refused (protect_all = yes)"
							 : " (unless protect_all = yes)");
	report_write(c, &res, msg, "Nothing to change.");
	return 0;
}

static int appl_permit(struct cli *c, int argc, char **argv, bool permit)
{
	struct appl_args a = { .access = ACCORD_ACCESS_READ };
	const char *what = permit ? "permit" : "revoke-access";
	struct write_result res;
	char op[256], msg[256], same[256];
	int r;

	r = parse_appl_opts(argc, argv, what, permit ? "agU" : "gU", &a);
	if (r)
		return r;
	if (permit)
		snprintf(op, sizeof(op), "appl permit %s --%s %s --access %s", a.name,
			 ace_kind_name(a.kind), a.who, accord_access_name(a.access));
	else
		snprintf(op, sizeof(op), "appl revoke-access %s --%s %s", a.name,
			 ace_kind_name(a.kind), a.who);
	r = run_write(c, op, permit ? do_appl_permit : do_appl_revoke, &a, &res);
	if (r)
		return r;
	if (permit) {
		snprintf(msg, sizeof(msg), "Permitted %s %s %s access to application %s",
			 ace_kind_name(a.kind), a.who, accord_access_name(a.access), a.name);
		snprintf(same, sizeof(same), "Nothing to change: %s %s already has %s access "
			 "to %s", ace_kind_name(a.kind), a.who, accord_access_name(a.access), a.name);
	} else {
		snprintf(msg, sizeof(msg), "Removed the entry of %s %s from application %s",
			 ace_kind_name(a.kind), a.who, a.name);
		snprintf(same, sizeof(same), "Nothing to change: application %s has no entry "
			 "for %s %s", a.name, ace_kind_name(a.kind), a.who);
	}
	report_write(c, &res, msg, same);
	/* RACF practice: access lists name groups, so that joining or leaving
	 * a group is the only change a person's arrival or departure needs */
	if (permit && a.kind == ACCORD_ACE_USER)
		fprintf(stderr, "accordctl: warning: access granted to user %s; RACF practice "
			"is to permit a group (accordctl group add ...; accordctl group "
			"adduser GROUP %s; accordctl appl permit %s --group GROUP)\n",
			a.who, a.who, a.name);
	return 0;
}

/* The shared JSON shape (jsonfmt.h); *bad gets -EBADMSG when the access
 * list has a damaged entry (the shape stops there). */
static json_object *appl_json(const struct accord_snap_appl *ap, int *bad)
{
	struct accord_snap_ace ace;
	size_t pos = 0;
	int r;

	while ((r = accord_snap_appl_entry(ap, &pos, &ace)) == 0)
		;
	if (r != -ENOENT)
		*bad = r;
	return accord_json_appl_snap(ap);
}

static int damaged(struct cli *c, const char *what)
{
	struct accord_err e = { 0 };

	accord_err_set(&e, -EBADMSG, "%s is damaged; run 'accordctl check'", what);
	return fail(c, PH_OPEN, &e);
}

static int appl_show(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_appl ap;
	struct appl_args a = { 0 };
	json_object *o;
	int r, bad = 0;

	r = parse_appl_opts(argc, argv, "show", "", &a);
	if (r)
		return r;
	r = read_current(c, &snap);
	if (r)
		return r;
	r = accord_snap_appl_by_name(&snap, a.name, &ap);
	if (r < 0) {
		struct accord_err e = { 0 };

		accord_err_set(&e, r, r == -ENOENT ? "application '%s' is not defined%s"
						   : "the record of application '%s' is "
						     "damaged; run 'accordctl check'%s", a.name,
			       r == -ENOENT ? (c->cfg.protect_all
						       ? " (protect_all = yes: logons to it "
							 "are refused)"
						       : " (logons to it are not checked)")
					    : "");
		accord_snapshot_unmap(&snap);
		return fail(c, r == -ENOENT ? PH_OP : PH_OPEN, &e);
	}
	o = appl_json(&ap, &bad);
	if (c->json) {
		print_json(o);
	} else {
		json_object *ents = json_object_object_get(o, "entries");
		size_t i, n = json_object_array_length(ents);

		printf("name:          %s\n", ap.name);
		printf("uacc:          %s\n", accord_access_name(ap.uacc));
		printf("created:       %s\n",
		       json_object_get_string(json_object_object_get(o, "created")));
		printf("changed:       %s\n",
		       json_object_get_string(json_object_object_get(o, "changed")));
		printf("access list:%s\n", n ? "" : "   - (only uacc applies)");
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(ents, i);

			printf("  %-6s %-32s %s\n",
			       json_object_get_string(json_object_object_get(e, "type")),
			       json_object_get_string(json_object_object_get(e, "name")),
			       json_object_get_string(json_object_object_get(e, "access")));
		}
		json_object_put(o);
	}
	accord_snapshot_unmap(&snap);
	return bad ? damaged(c, "an access-list entry") : 0;
}

static int appl_list(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_appl ap;
	json_object *arr = NULL;
	uint64_t cur = 0;
	int r, bad = 0;

	if (argc != 1)
		return usage_error("appl list takes no arguments");
	r = read_current(c, &snap);
	if (r)
		return r;
	if (c->json)
		arr = json_object_new_array_ext((int)snap.appl_count);
	else
		printf("%-32s %-5s %s\n", "NAME", "UACC", "ENTRIES");
	while ((r = accord_snap_appl_next(&snap, &cur, &ap)) == 0) {
		if (arr)
			json_object_array_add(arr, appl_json(&ap, &bad));
		else
			printf("%-32s %-5s %u\n", ap.name, accord_access_name(ap.uacc), ap.nentries);
	}
	if (arr)
		print_json(arr);
	accord_snapshot_unmap(&snap);
	if (r != -ENOENT || bad)
		return damaged(c, "an application record");
	return 0;
}

int cmd_appl(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "add"))
		return appl_add_mod(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "mod"))
		return appl_add_mod(c, argc - 1, argv + 1, false);
	if (!strcmp(sub, "del"))
		return appl_del(c, argc - 1, argv + 1);
	if (!strcmp(sub, "permit"))
		return appl_permit(c, argc - 1, argv + 1, true);
	if (!strcmp(sub, "revoke-access"))
		return appl_permit(c, argc - 1, argv + 1, false);
	if (!strcmp(sub, "show"))
		return appl_show(c, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return appl_list(c, argc - 1, argv + 1);
	if (!sub[0])
		return usage_error("appl: add, mod, del, permit, revoke-access, show or list");
	return usage_error("unknown 'appl' command '%s'", sub);
}

/* ---- swap ------------------------------------------------------------ */

struct swap_args {
	uint32_t kind;
	const char *from, *to;
};

static int do_swap_set(struct accord_state *st, void *p, struct accord_err *e)
{
	struct swap_args *a = p;

	return accord_swap_set(st, a->kind, a->from, a->to, e);
}

static int do_swap_del(struct accord_state *st, void *p, struct accord_err *e)
{
	struct swap_args *a = p;

	return accord_swap_del(st, a->from, a->to, e);
}

/* Whether name is in the comma-separated list (config swap_never). */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && !memcmp(p, name, n))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static int swap_rule(struct cli *c, int argc, char **argv, int verb)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *verbs[] = { "permit", "deny", "del" };
	struct swap_args a = { 0 };
	struct write_result res;
	char op[256], msg[256], same[256];
	int o, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (o == 'f')
			a.from = optarg;
		else if (o == 't')
			a.to = optarg;
		else if (o == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		else
			return usage_error("swap %s: unknown option '%s'", verbs[verb],
					   argv[optind - 1]);
	}
	if (optind != argc)
		return usage_error("swap %s takes only --from GROUP --to PROFILE (extra: '%s')",
				   verbs[verb], argv[optind]);
	if (!a.from || !a.to)
		return usage_error("swap %s needs --from GROUP and --to PROFILE", verbs[verb]);
	a.kind = verb == 1 ? ACCORD_SWAP_DENY : ACCORD_SWAP_PERMIT;
	snprintf(op, sizeof(op), "swap %s --from %s --to %s", verbs[verb], a.from, a.to);
	r = run_write(c, op, verb == 2 ? do_swap_del : do_swap_set, &a, &res);
	if (r)
		return r;
	if (verb == 2) {
		snprintf(msg, sizeof(msg), "Removed the swap rule from group %s to %s", a.from,
			 a.to);
		snprintf(same, sizeof(same), "Nothing to change: no swap rule from group %s "
			 "to %s", a.from, a.to);
	} else {
		snprintf(msg, sizeof(msg), "%s members of group %s to swap to %s",
			 verb == 0 ? "Permitted" : "Denied", a.from, a.to);
		snprintf(same, sizeof(same), "Nothing to change: the rule from group %s to %s "
			 "is already %s", a.from, a.to, verbs[verb]);
	}
	report_write(c, &res, msg, same);
	if (verb == 0 && in_list(c->cfg.swap_never, a.to))
		fprintf(stderr, "accordctl: warning: %s is in swap_never (accord.conf): no rule "
			"lets anyone swap to it while it stays there\n", a.to);
	return 0;
}

static int swap_list(struct cli *c, int argc, char **argv)
{
	struct accord_snapshot snap;
	struct accord_snap_swap sw;
	json_object *arr = NULL;
	uint64_t cur = 0;
	char t[40];
	int r;

	if (argc != 1)
		return usage_error("swap list takes no arguments");
	r = read_current(c, &snap);
	if (r)
		return r;
	if (c->json)
		arr = json_object_new_array_ext((int)snap.swap_count);
	else
		printf("%-6s  %-32s %-32s %s\n", "RULE", "FROM GROUP", "TO PROFILE", "CREATED");
	while ((r = accord_snap_swap_next(&snap, &cur, &sw)) == 0) {
		accord_time_iso(sw.created, t, sizeof(t));
		if (arr) {
			json_object_array_add(arr, accord_json_swap_snap(&sw));
		} else {
			printf("%-6s  %-32s %-32s %s%s\n", swap_kind_name(sw.kind), sw.from, sw.to,
			       t, in_list(c->cfg.swap_never, sw.to) ? "  (swap_never: no effect)"
								    : "");
		}
	}
	if (arr)
		print_json(arr);
	else if (c->cfg.swap_never[0])
		printf("No rule reaches these profiles (swap_never in accord.conf): %s\n",
		       c->cfg.swap_never);
	accord_snapshot_unmap(&snap);
	if (r != -ENOENT)
		return damaged(c, "a swap rule");
	return 0;
}

int cmd_swap(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "permit"))
		return swap_rule(c, argc - 1, argv + 1, 0);
	if (!strcmp(sub, "deny"))
		return swap_rule(c, argc - 1, argv + 1, 1);
	if (!strcmp(sub, "del"))
		return swap_rule(c, argc - 1, argv + 1, 2);
	if (!strcmp(sub, "list"))
		return swap_list(c, argc - 1, argv + 1);
	if (!sub[0])
		return usage_error("swap: permit, deny, del or list");
	return usage_error("unknown 'swap' command '%s'", sub);
}
