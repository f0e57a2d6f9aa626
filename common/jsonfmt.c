/* SPDX-License-Identifier: MIT */
#include <accord/jsonfmt.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *accord_status_name(uint32_t flags)
{
	switch (accord_user_status(flags)) {
	case ACCORD_STATUS_ENABLED:
		return "enabled";
	case ACCORD_STATUS_DISABLED:
		return "disabled";
	case ACCORD_STATUS_REVOKED:
		return "revoked";
	}
	return "unknown";
}

void accord_time_iso(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", (long long)t);
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_time(json_object *o, const char *k, int64_t t)
{
	char buf[40];

	accord_time_iso(t, buf, sizeof(buf));
	add_str(o, k, buf);
}

/* A date that may be unset (0): the ISO string or null. */
static void add_date(json_object *o, const char *k, int64_t t)
{
	if (t)
		add_time(o, k, t);
	else
		json_object_object_add(o, k, NULL);
}

static json_object *user_json(const char *name, uint32_t uid, uint32_t gid,
			      const char *gecos, const char *home, const char *shell,
			      uint32_t flags, const char *reason, int64_t created,
			      int64_t changed, int64_t revoke_date, int64_t resume_date,
			      const char *racf_id)
{
	json_object *o = json_object_new_object();

	add_str(o, "name", name);
	json_object_object_add(o, "uid", json_object_new_int64(uid));
	json_object_object_add(o, "gid", json_object_new_int64(gid));
	add_str(o, "gecos", gecos);
	add_str(o, "home", home);
	add_str(o, "shell", shell);
	add_str(o, "status", accord_status_name(flags));
	json_object_object_add(o, "revoke_reason",
			       reason[0] ? json_object_new_string(reason) : NULL);
	json_object_object_add(o, "no-password",
			       json_object_new_boolean(!!(flags & ACCORD_F_NO_PASSWORD)));
	json_object_object_add(o, "protected",
			       json_object_new_boolean(!!(flags & ACCORD_F_PROTECTED)));
	json_object_object_add(o, "shared",
			       json_object_new_boolean(!!(flags & ACCORD_F_SHARED_ID)));
	add_date(o, "revoke_date", revoke_date);
	add_date(o, "resume_date", resume_date);
	json_object_object_add(o, "racf_id", racf_id && racf_id[0]
			       ? json_object_new_string(racf_id) : NULL);
	add_time(o, "created", created);
	add_time(o, "changed", changed);
	return o;
}

json_object *accord_json_user_snap(const struct accord_snap_user *u)
{
	return user_json(u->name, u->uid, u->gid, u->gecos, u->home, u->shell,
			 u->flags, u->reason, u->created, u->changed, u->revoke_date,
			 u->resume_date, u->racf_id);
}

json_object *accord_json_user_state(const struct accord_user *u)
{
	return user_json(u->name, u->uid, u->gid, u->gecos, u->home, u->shell,
			 u->flags, u->reason, u->created, u->changed, u->revoke_date,
			 u->resume_date, u->racf_id);
}

static json_object *group_json(const char *name, uint32_t gid, uint32_t flags,
			       int64_t created, int64_t changed, json_object *members)
{
	json_object *o = json_object_new_object();

	add_str(o, "name", name);
	json_object_object_add(o, "gid", json_object_new_int64(gid));
	json_object_object_add(o, "members", members);
	json_object_object_add(o, "shared",
			       json_object_new_boolean(!!(flags & ACCORD_F_SHARED_ID)));
	add_time(o, "created", created);
	add_time(o, "changed", changed);
	return o;
}

json_object *accord_json_group_snap(const struct accord_snap_group *g)
{
	json_object *m = json_object_new_array();
	const char *name;
	size_t pos = 0;

	while ((name = accord_snap_group_member(g, &pos)))
		json_object_array_add(m, json_object_new_string(name));
	return group_json(g->name, g->gid, g->flags, g->created, g->changed, m);
}

json_object *accord_json_group_state(const struct accord_state *st,
				     const struct accord_group *g)
{
	json_object *m = json_object_new_array();
	uint32_t i;

	for (i = 0; i < g->nmembers; i++)
		json_object_array_add(m, json_object_new_string(
					 accord_state_user_at(st, g->members[i])->name));
	return group_json(g->name, g->gid, g->flags, g->created, g->changed, m);
}

const char *accord_access_name(uint32_t access)
{
	switch (access) {
	case ACCORD_ACCESS_NONE:
		return "none";
	case ACCORD_ACCESS_READ:
		return "read";
	}
	return "unknown";
}

static json_object *entry_json(uint32_t kind, const char *name, uint32_t access)
{
	json_object *o = json_object_new_object();

	add_str(o, "type", kind == ACCORD_ACE_USER ? "user" : "group");
	add_str(o, "name", name);
	add_str(o, "access", accord_access_name(access));
	return o;
}

static json_object *appl_json(const char *name, uint32_t uacc, json_object *entries,
			      int64_t created, int64_t changed)
{
	json_object *o = json_object_new_object();

	add_str(o, "name", name);
	add_str(o, "uacc", accord_access_name(uacc));
	json_object_object_add(o, "entries", entries);
	add_time(o, "created", created);
	add_time(o, "changed", changed);
	return o;
}

json_object *accord_json_appl_snap(const struct accord_snap_appl *a)
{
	json_object *e = json_object_new_array();
	struct accord_snap_ace ace;
	size_t pos = 0;

	/* stops at a damaged entry: the deep check reports those */
	while (accord_snap_appl_entry(a, &pos, &ace) == 0)
		json_object_array_add(e, entry_json(ace.kind, ace.name, ace.access));
	return appl_json(a->name, a->uacc, e, a->created, a->changed);
}

json_object *accord_json_appl_state(const struct accord_state *st,
				    const struct accord_appl *a)
{
	json_object *e = json_object_new_array();
	uint32_t i;

	(void)st;
	for (i = 0; i < a->nentries; i++)
		json_object_array_add(e, entry_json(a->entries[i].kind, a->entries[i].name,
						    a->entries[i].access));
	return appl_json(a->name, a->uacc, e, a->created, a->changed);
}

static json_object *swap_json(uint32_t kind, const char *from, const char *to,
			      int64_t created)
{
	json_object *o = json_object_new_object();

	add_str(o, "kind", kind == ACCORD_SWAP_PERMIT ? "permit" : "deny");
	add_str(o, "from", from);
	add_str(o, "to", to);
	add_time(o, "created", created);
	return o;
}

json_object *accord_json_swap_snap(const struct accord_snap_swap *w)
{
	return swap_json(w->kind, w->from, w->to, w->created);
}

json_object *accord_json_swap_state(const struct accord_swap_rule *w)
{
	return swap_json(w->kind, w->from, w->to, w->created);
}

json_object *accord_json_tomb(uint32_t kind, uint32_t id, int64_t when,
			      const char *name, const char *by)
{
	json_object *o = json_object_new_object();

	add_str(o, "kind", kind == ACCORD_TOMB_USER ? "user" : "group");
	json_object_object_add(o, kind == ACCORD_TOMB_USER ? "uid" : "gid",
			       json_object_new_int64(id));
	add_str(o, "name", name);
	add_time(o, "deleted", when);
	add_str(o, "by", by);
	return o;
}

const char *accord_json_line(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}
