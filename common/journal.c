/* SPDX-License-Identifier: MIT */
#include "journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <accord/jsonfmt.h>

#include "state_priv.h"

enum { JK_USER = 1, JK_GROUP, JK_TOMB, JK_META, JK_APPL, JK_SWAP, JK_CERT };
enum { JO_ADD = 1, JO_CHANGE, JO_DELETE };

static int push(struct journal_diff *d, uint8_t kind, uint8_t op,
		uint32_t old_off, uint32_t idx)
{
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct jchange *v = realloc(d->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = ncap;
	}
	d->v[d->n++] = (struct jchange){ kind, op, old_off, idx };
	return 0;
}

void journal_diff_free(struct journal_diff *d)
{
	size_t i;

	for (i = 0; i < d->ncx; i++)
		json_object_put(d->cx[i]);
	free(d->cx);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static bool user_differs(const struct accord_snap_user *o, const struct accord_user *u)
{
	return o->uid != u->uid || o->gid != u->gid || o->flags != u->flags ||
	       strcmp(o->gecos, u->gecos) || strcmp(o->home, u->home) ||
	       strcmp(o->shell, u->shell) || strcmp(o->reason, u->reason) ||
	       o->revoke_date != u->revoke_date || o->resume_date != u->resume_date ||
	       strcmp(o->racf_id, u->racf_id ? u->racf_id : "");
}

static bool group_differs(const struct accord_snap_group *o,
			  const struct accord_state *st, const struct accord_group *g)
{
	const char *m;
	size_t pos = 0;
	uint32_t i = 0;

	if (o->gid != g->gid || o->flags != g->flags || o->nmembers != g->nmembers)
		return true;
	while ((m = accord_snap_group_member(o, &pos))) {
		if (i >= g->nmembers || strcmp(m, accord_state_user_at(st, g->members[i])->name))
			return true;
		i++;
	}
	return i != g->nmembers;
}

static bool appl_differs(const struct accord_snap_appl *o, const struct accord_appl *a)
{
	struct accord_snap_ace e;
	size_t pos = 0;
	uint32_t i = 0;

	if (o->uacc != a->uacc || o->nentries != a->nentries)
		return true;
	while (accord_snap_appl_entry(o, &pos, &e) == 0) {
		if (i >= a->nentries || e.kind != a->entries[i].kind ||
		    e.access != a->entries[i].access || strcmp(e.name, a->entries[i].name))
			return true;
		i++;
	}
	return i != a->nentries;
}

/* Applications and swap rules, the same way as users and groups. */
static int diff_appls(const struct accord_snapshot *old, const struct accord_state *st,
		      struct journal_diff *d)
{
	struct accord_snap_appl sa;
	struct accord_snap_swap sw;
	size_t i;
	int r = 0;

	for (i = 0; i < accord_state_appl_slots(st) && r == 0; i++) {
		const struct accord_appl *a = accord_state_appl_at(st, i);
		uint64_t cur = a->old_off;

		if (a->old_off == ACCORD_NOT_LOADED) {
			if (a->live)
				r = push(d, JK_APPL, JO_ADD, 0, (uint32_t)i);
		} else if (!a->live) {
			r = push(d, JK_APPL, JO_DELETE, a->old_off, (uint32_t)i);
		} else if (accord_snap_appl_next(old, &cur, &sa) != 0) {
			r = -EBADMSG;
		} else if (appl_differs(&sa, a)) {
			r = push(d, JK_APPL, JO_CHANGE, sa.off, (uint32_t)i);
		}
	}
	for (i = 0; i < accord_state_swap_slots(st) && r == 0; i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(st, i);
		uint64_t cur = w->old_off;

		if (w->old_off == ACCORD_NOT_LOADED) {
			if (w->live)
				r = push(d, JK_SWAP, JO_ADD, 0, (uint32_t)i);
		} else if (!w->live) {
			r = push(d, JK_SWAP, JO_DELETE, w->old_off, (uint32_t)i);
		} else if (accord_snap_swap_next(old, &cur, &sw) != 0) {
			r = -EBADMSG;
		} else if (sw.kind != w->kind) {
			r = push(d, JK_SWAP, JO_CHANGE, sw.off, (uint32_t)i);
		}
	}
	return r;
}

int journal_diff(const struct accord_snapshot *old, const struct accord_state *st,
		 struct journal_diff *d)
{
	struct accord_snap_user su;
	struct accord_snap_group sg;
	struct accord_snap_meta m;
	struct accord_range ur, gr;
	uint32_t nu, ngid;
	size_t i;
	int r = 0;

	memset(d, 0, sizeof(*d));
	/* Every entry loaded from the old snapshot remembers its record there:
	 * compare with it directly; entries without one are new. */
	for (i = 0; i < accord_state_user_slots(st) && r == 0; i++) {
		const struct accord_user *u = accord_state_user_at(st, i);

		if (u->old_off == ACCORD_NOT_LOADED) {
			if (u->live)
				r = push(d, JK_USER, JO_ADD, 0, (uint32_t)i);
		} else if (!u->live) {
			r = push(d, JK_USER, JO_DELETE, u->old_off, (uint32_t)i);
		} else if (accord_snap_user_at(old, u->old_off, &su) != 0) {
			r = -EBADMSG;
		} else if (user_differs(&su, u)) {
			r = push(d, JK_USER, JO_CHANGE, su.off, (uint32_t)i);
		}
	}
	for (i = 0; i < accord_state_group_slots(st) && r == 0; i++) {
		const struct accord_group *g = accord_state_group_at(st, i);
		uint64_t cur = g->old_off;

		if (g->old_off == ACCORD_NOT_LOADED) {
			if (g->live)
				r = push(d, JK_GROUP, JO_ADD, 0, (uint32_t)i);
		} else if (!g->live) {
			r = push(d, JK_GROUP, JO_DELETE, g->old_off, (uint32_t)i);
		} else if (accord_snap_group_next(old, &cur, &sg) != 0) {
			r = -EBADMSG;
		} else if (group_differs(&sg, st, g)) {
			r = push(d, JK_GROUP, JO_CHANGE, sg.off, (uint32_t)i);
		}
	}
	if (r == 0)
		r = diff_appls(old, st, d);
	if (r == 0)
		r = state_certs_journal(old, st, &d->cx, &d->ncx);
	for (i = 0; i < d->ncx && r == 0; i++)
		r = push(d, JK_CERT, JO_CHANGE, 0, (uint32_t)i);
	/* tombstones are append-only: the new ones follow the old count */
	for (i = old->tombstone_count; i < accord_state_tomb_count(st) && r == 0; i++)
		r = push(d, JK_TOMB, JO_ADD, 0, (uint32_t)i);
	accord_snap_meta(old, &m);
	accord_state_ranges(st, &ur, &gr, &nu, &ngid);
	if (r == 0 && (m.next_uid != nu || m.next_gid != ngid || m.uid_lo != ur.lo ||
		       m.uid_hi != ur.hi || m.gid_lo != gr.lo || m.gid_hi != gr.hi))
		r = push(d, JK_META, JO_CHANGE, 0, 0);
	if (r < 0)
		journal_diff_free(d);
	return r;
}

static json_object *actor_json(const struct accord_actor *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uid", json_object_new_int64(a->uid));
	json_object_object_add(o, "user", json_object_new_string(a->user));
	if (a->loginuid != UINT32_MAX) {
		json_object_object_add(o, "loginuid", json_object_new_int64(a->loginuid));
		json_object_object_add(o, "login_user", json_object_new_string(a->login_user));
	}
	json_object_object_add(o, "host", json_object_new_string(a->host));
	json_object_object_add(o, "pid", json_object_new_int(a->pid));
	return o;
}

static int put_line(FILE *f, json_object *o)
{
	int r = fputs(accord_json_line(o), f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;

	json_object_put(o);
	return r;
}

static json_object *header(uint64_t gen, int64_t now, const struct accord_actor *a,
			   const char *operation)
{
	json_object *o = json_object_new_object();
	char t[40];

	accord_time_iso(now, t, sizeof(t));
	json_object_object_add(o, "accord_journal", json_object_new_int(1));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)gen));
	json_object_object_add(o, "time", json_object_new_string(t));
	json_object_object_add(o, "epoch", json_object_new_int64(now));
	json_object_object_add(o, "actor", actor_json(a));
	json_object_object_add(o, "operation", json_object_new_string(operation));
	return o;
}

static json_object *change(const char *op, const char *kind, const char *name,
			   json_object *before, json_object *after)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "change", json_object_new_string(op));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "before", before);
	json_object_object_add(o, "after", after);
	return o;
}

static json_object *meta_json(uint32_t ulo, uint32_t uhi, uint32_t glo, uint32_t ghi,
			      uint32_t nu, uint32_t ng)
{
	json_object *o = json_object_new_object();
	char buf[32];

	snprintf(buf, sizeof(buf), "%u-%u", ulo, uhi);
	json_object_object_add(o, "uid_range", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%u-%u", glo, ghi);
	json_object_object_add(o, "gid_range", json_object_new_string(buf));
	json_object_object_add(o, "next_uid", json_object_new_int64(nu));
	json_object_object_add(o, "next_gid", json_object_new_int64(ng));
	return o;
}

/* A swap rule has no name of its own: "from->to" names it. */
static json_object *swap_change(const char *op, const char *from, const char *to,
				json_object *before, json_object *after)
{
	size_t len = strlen(from) + strlen(to) + 3;
	char *name = malloc(len);
	json_object *o;

	if (!name) {
		json_object_put(before);
		json_object_put(after);
		return NULL;
	}
	snprintf(name, len, "%s->%s", from, to);
	o = change(op, "swap", name, before, after);
	free(name);
	return o;
}

static json_object *end_json(uint64_t gen, size_t n)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "end", json_object_new_int64((int64_t)gen));
	json_object_object_add(o, "changes", json_object_new_int64((int64_t)n));
	return o;
}

int journal_write(FILE *f, uint64_t gen, int64_t now,
		  const struct accord_actor *actor, const char *operation,
		  const struct accord_snapshot *old, const struct accord_state *st,
		  const struct journal_diff *d)
{
	size_t i;
	int r = put_line(f, header(gen, now, actor, operation));

	for (i = 0; i < d->n && r == 0; i++) {
		const struct jchange *c = &d->v[i];
		const char *op = c->op == JO_ADD ? "add" : c->op == JO_CHANGE ? "change" : "delete";
		struct accord_snap_user su;
		struct accord_snap_group sg;
		uint64_t off = c->old_off;
		json_object *o = NULL;

		switch (c->kind) {
		case JK_USER: {
			const struct accord_user *u = accord_state_user_at(st, c->idx);
			json_object *before = NULL;

			if (c->op != JO_ADD) {
				if (accord_snap_user_at(old, off, &su))
					return -EBADMSG;
				before = accord_json_user_snap(&su);
			}
			o = change(op, "user", c->op == JO_DELETE ? su.name : u->name, before,
				   c->op == JO_DELETE ? NULL : accord_json_user_state(u));
			break;
		}
		case JK_GROUP: {
			const struct accord_group *g = accord_state_group_at(st, c->idx);
			json_object *before = NULL;

			if (c->op != JO_ADD) {
				uint64_t cur = off;

				if (accord_snap_group_next(old, &cur, &sg))
					return -EBADMSG;
				before = accord_json_group_snap(&sg);
			}
			o = change(op, "group", c->op == JO_DELETE ? sg.name : g->name, before,
				   c->op == JO_DELETE ? NULL : accord_json_group_state(st, g));
			break;
		}
		case JK_APPL: {
			const struct accord_appl *a = accord_state_appl_at(st, c->idx);
			struct accord_snap_appl sa;
			json_object *before = NULL;

			if (c->op != JO_ADD) {
				uint64_t cur = off;

				if (accord_snap_appl_next(old, &cur, &sa))
					return -EBADMSG;
				before = accord_json_appl_snap(&sa);
			}
			o = change(op, "appl", c->op == JO_DELETE ? sa.name : a->name, before,
				   c->op == JO_DELETE ? NULL : accord_json_appl_state(st, a));
			break;
		}
		case JK_SWAP: {
			const struct accord_swap_rule *w = accord_state_swap_at(st, c->idx);
			struct accord_snap_swap sw;
			json_object *before = NULL;

			if (c->op != JO_ADD) {
				uint64_t cur = off;

				if (accord_snap_swap_next(old, &cur, &sw))
					return -EBADMSG;
				before = accord_json_swap_snap(&sw);
			}
			o = swap_change(op, w->from, w->to, before,
					c->op == JO_DELETE ? NULL : accord_json_swap_state(w));
			if (!o)
				return -ENOMEM;
			break;
		}
		case JK_TOMB: {
			const struct accord_tombstone *t = accord_state_tomb_at(st, c->idx);

			o = change("retire", "tombstone", t->name, NULL,
				   accord_json_tomb(t->kind, t->id, t->deleted_at, t->name, t->by));
			break;
		}
		case JK_CERT:
			o = json_object_get(d->cx[c->idx]);
			break;
		case JK_META: {
			struct accord_snap_meta m;
			struct accord_range ur, gr;
			uint32_t nu, ng;

			accord_snap_meta(old, &m);
			accord_state_ranges(st, &ur, &gr, &nu, &ng);
			o = change("change", "counters", "registry",
				   meta_json(m.uid_lo, m.uid_hi, m.gid_lo, m.gid_hi,
					     m.next_uid, m.next_gid),
				   meta_json(ur.lo, ur.hi, gr.lo, gr.hi, nu, ng));
			break;
		}
		}
		if (o)
			r = put_line(f, o);
	}
	if (r == 0)
		r = put_line(f, end_json(gen, d->n));
	return r;
}

int journal_write_init(FILE *f, int64_t now, const struct accord_actor *actor,
		       const char *uuid, const struct accord_range *uids,
		       const struct accord_range *gids)
{
	json_object *after = meta_json(uids->lo, uids->hi, gids->lo, gids->hi,
				       uids->lo, gids->lo);
	int r;

	json_object_object_add(after, "uuid", json_object_new_string(uuid));
	r = put_line(f, header(1, now, actor, "init"));
	if (r == 0)
		r = put_line(f, change("add", "registry", uuid, NULL, after));
	else
		json_object_put(after);
	if (r == 0)
		r = put_line(f, end_json(1, 1));
	return r;
}
