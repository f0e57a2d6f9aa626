/* SPDX-License-Identifier: MIT */
/*
 * Restore (include/accord/restore.h): the live state brought to a backup's,
 * class by class, through the state operations only, so every rule they
 * enforce (IDs, references, cascades) holds for a restore too.
 *
 * Restore and the journal replay share one path: a backup object and a
 * journal "after" are both turned into a target (struct utarget, gtarget,
 * ...) and applied by the same function.  Internal convention: 0 done,
 * 1 a conflict recorded (the caller goes on, the restore is refused at the
 * end), negative errno a hard error (err set).
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <accord/certmap.h>
#include <accord/jsonfmt.h>
#include <accord/restore.h>

/* ---- small things --------------------------------------------------- */

int accord_strlist_add(struct accord_strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 8;
		char **v = realloc(l->v, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = nc;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	l->v[l->n++] = s;
	return 0;
}

void accord_strlist_free(struct accord_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void accord_restore_report_free(struct accord_restore_report *r)
{
	accord_strlist_free(&r->conflicts);
	accord_strlist_free(&r->notes);
	accord_strlist_free(&r->added);
}

int accord_restore_parse_only(const char *list, unsigned *mask,
			      struct accord_err *err)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int r = 0, c;

	*mask = 0;
	if (!copy)
		return accord_err_set(err, -ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && r == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "ptkeys"))
			*mask |= ACCORD_RESTORE_PTKEYS; /* named explicitly: allowed */
		else if (!strcmp(tok, "passwords"))
			r = accord_err_set(err, -EINVAL,
					   "--only passwords: password hashes are restored with "
					   "--include-secrets, for the profiles restored");
		else if ((c = accord_class_parse(tok)) < 0)
			r = accord_err_set(err, -EINVAL,
					   "--only: unknown class '%s' (users, groups, appls, "
					   "swaps, certmaps, cas, ptauth)", tok);
		else
			*mask |= 1u << c;
	}
	if (r == 0 && !*mask)
		r = accord_err_set(err, -EINVAL, "--only needs at least one class");
	free(copy);
	return r;
}

bool accord_restore_excluded(const struct accord_restore_opts *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nexclude; i++)
		if (fnmatch(o->exclude[i], name, 0) == 0)
			return true;
	return false;
}

static bool has(const struct accord_restore_opts *o, enum accord_class c)
{
	return (o->classes & (1u << c)) != 0;
}

/* ---- the restore context -------------------------------------------- */

struct idref {
	uint32_t id;
	const char *name;
};

struct rs {
	struct accord_state *st;
	const struct accord_restore_opts *o;
	struct accord_strlist *conflicts, *notes, *added;
	struct accord_err *err;
	/* user tombstones and live UIDs, sorted; rebuilt when stale */
	struct idref *uids;
	size_t nuids;
	bool uids_stale;
};

static int conflict(struct rs *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int conflict(struct rs *x, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0 || accord_strlist_add(x->conflicts, "%s", s) < 0) {
		free(s);
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	}
	free(s);
	return 1;
}

/* A state operation's refusal is a conflict; only ENOMEM is fatal. */
static int op_result(struct rs *x, int r, const struct accord_err *e)
{
	if (r >= 0)
		return 0;
	if (r == -ENOMEM)
		return accord_err_set(x->err, r, "out of memory");
	return conflict(x, "%s", e->msg[0] ? e->msg : strerror(-r));
}

static int note(struct rs *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(struct rs *x, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	if (!x->notes)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0 || accord_strlist_add(x->notes, "%s", s) < 0) {
		free(s);
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	}
	free(s);
	return 0;
}

static int idref_cmp(const void *a, const void *b)
{
	const struct idref *p = a, *q = b;

	return p->id < q->id ? -1 : p->id > q->id;
}

static int index_uids(struct rs *x)
{
	size_t n = accord_state_tomb_count(x->st) + accord_state_user_slots(x->st), i, k = 0;
	struct idref *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	for (i = 0; i < accord_state_tomb_count(x->st); i++) {
		const struct accord_tombstone *t = accord_state_tomb_at(x->st, i);

		if (t->kind == ACCORD_TOMB_USER)
			v[k++] = (struct idref){ t->id, t->name };
	}
	for (i = 0; i < accord_state_user_slots(x->st); i++) {
		const struct accord_user *u = accord_state_user_at(x->st, i);

		if (u->live)
			v[k++] = (struct idref){ u->uid, u->name };
	}
	if (k)
		qsort(v, k, sizeof(*v), idref_cmp);
	free(x->uids);
	x->uids = v;
	x->nuids = k;
	x->uids_stale = false;
	return 0;
}

/*
 * Whether `name` may hold ID id: every holder (a live profile or group, a
 * tombstone) of another name is a conflict; tombstones of the same name
 * are not, but need the shared path.  A backup object that itself held
 * its ID as shared keeps doing so.
 */
static int id_check(struct rs *x, bool user, const char *name, uint32_t id,
		    bool was_shared, bool *shared)
{
	bool same_tomb = false;
	size_t i;
	int r;

	*shared = was_shared;
	if (was_shared)
		return 0;
	if (user) {
		struct idref key = { id, NULL };
		const struct idref *p;

		if (x->uids_stale && (r = index_uids(x)) < 0)
			return r;
		p = x->nuids ? bsearch(&key, x->uids, x->nuids, sizeof(key), idref_cmp) : NULL;
		if (p) {
			while (p > x->uids && p[-1].id == id)
				p--;
			for (; p < x->uids + x->nuids && p->id == id; p++) {
				const struct accord_user *u = accord_state_user(x->st, p->name);

				if (strcmp(p->name, name) == 0) {
					if (!u)
						same_tomb = true;
					continue;
				}
				if (u && u->uid == id)
					return conflict(x, "user %s: uid %u is held by user %s here",
							name, id, p->name);
				if (!u || u->uid != id) {
					/* a tombstone (or a profile that moved since:
					 * its old UID is reserved by a tombstone) */
					return conflict(x, "user %s: uid %u is reserved here by the "
							"tombstone of %s (a restore never gives an ID "
							"to another name)", name, id, p->name);
				}
			}
		}
	} else {
		const struct accord_group *g = accord_state_group_by_gid(x->st, id);

		if (g && strcmp(g->name, name))
			return conflict(x, "group %s: gid %u is held by group %s here", name, id,
					g->name);
		for (i = 0; i < accord_state_tomb_count(x->st); i++) {
			const struct accord_tombstone *t = accord_state_tomb_at(x->st, i);

			if (t->kind != ACCORD_TOMB_GROUP || t->id != id)
				continue;
			if (strcmp(t->name, name))
				return conflict(x, "group %s: gid %u is reserved here by the "
						"tombstone of %s (a restore never gives an ID to "
						"another name)", name, id, t->name);
			same_tomb = true;
		}
	}
	{
		struct accord_range ur = { 0, 0 }, gr = { 0, 0 };
		uint32_t nu, ng;

		/* an ID outside this registry's range (a backup of another one)
		 * or a reserved one is held deliberately, as --shared would */
		accord_state_ranges(x->st, &ur, &gr, &nu, &ng);
		if (!user)
			ur = gr;
		*shared = same_tomb || id < ur.lo || id > ur.hi || accord_id_reserved(id);
	}
	return 0;
}

/* ---- users ---------------------------------------------------------- */

struct utarget {
	const char *name, *gecos, *home, *shell, *reason, *racf_id;
	uint32_t uid, gid, status;
	bool nopw, prot, shared;
	int64_t revoke_date, resume_date;
};

static void utarget_from_user(const struct accord_user *u, struct utarget *t)
{
	*t = (struct utarget){
		.name = u->name, .gecos = u->gecos, .home = u->home, .shell = u->shell,
		.reason = u->reason ? u->reason : "", .racf_id = u->racf_id ? u->racf_id : "",
		.uid = u->uid, .gid = u->gid, .status = accord_user_status(u->flags),
		.nopw = (u->flags & ACCORD_F_NO_PASSWORD) != 0,
		.prot = (u->flags & ACCORD_F_PROTECTED) != 0,
		.shared = (u->flags & ACCORD_F_SHARED_ID) != 0,
		.revoke_date = u->revoke_date, .resume_date = u->resume_date,
	};
}

static int status_to(struct rs *x, const char *name, uint32_t cur, const struct utarget *t)
{
	struct accord_err e = { 0 };
	const struct accord_user *u = accord_state_user(x->st, name);
	int r = 0;

	if (t->status == ACCORD_STATUS_REVOKED) {
		if (cur != ACCORD_STATUS_REVOKED || strcmp(u->reason, t->reason))
			r = accord_user_status_op(x->st, name, ACCORD_OP_REVOKE,
						  t->reason[0] ? t->reason : NULL, &e);
		return op_result(x, r, &e);
	}
	if (cur == ACCORD_STATUS_REVOKED) {
		r = accord_user_status_op(x->st, name, ACCORD_OP_RESUME, NULL, &e);
		cur = ACCORD_STATUS_ENABLED;
	}
	if (r >= 0 && cur != t->status)
		r = accord_user_status_op(x->st, name,
					  t->status == ACCORD_STATUS_DISABLED ? ACCORD_OP_DISABLE
									      : ACCORD_OP_ENABLE,
					  NULL, &e);
	return op_result(x, r, &e);
}

/* Brings the profile t->name to t (added when absent).  nopw_new (a
 * restore without --full): a profile that did not exist gets no-password
 * whatever t says, one that exists keeps its no-password mark. */
static int apply_user(struct rs *x, const struct utarget *t, bool nopw_new)
{
	const struct accord_user *u = accord_state_user(x->st, t->name);
	struct accord_user_spec sp = { .name = t->name };
	struct accord_err e = { 0 };
	char gbuf[16];
	bool isnew = !u, shared = false, nopw;
	uint32_t cur;
	int r;

	if (!accord_state_group_by_gid(x->st, t->gid))
		return conflict(x, "user %s: its primary group (gid %u) is neither here nor "
				"restored", t->name, t->gid);
	snprintf(gbuf, sizeof(gbuf), "%u", t->gid);
	if (!u || u->uid != t->uid) {
		r = id_check(x, true, t->name, t->uid, t->shared, &shared);
		if (r)
			return r;
		sp.has_uid = true;
		sp.uid = t->uid;
		sp.shared = shared;
	}
	if (!u || u->gid != t->gid)
		sp.group = gbuf;
	if (!u || strcmp(u->gecos, t->gecos))
		sp.gecos = t->gecos;
	if (!u || strcmp(u->home, t->home))
		sp.home = t->home;
	if (!u || strcmp(u->shell, t->shell))
		sp.shell = t->shell;
	if (!u ? t->racf_id[0] != 0 : strcmp(u->racf_id ? u->racf_id : "", t->racf_id))
		sp.racf_id = t->racf_id;
	if (!u || u->revoke_date != t->revoke_date) {
		sp.has_revoke_date = true;
		sp.revoke_date = t->revoke_date;
	}
	if (!u || u->resume_date != t->resume_date) {
		sp.has_resume_date = true;
		sp.resume_date = t->resume_date;
	}
	if (isnew) {
		r = accord_user_add(x->st, &sp, NULL, &e);
		x->uids_stale = true;
	} else if (sp.has_uid || sp.group || sp.gecos || sp.home || sp.shell || sp.racf_id ||
		   sp.has_revoke_date || sp.has_resume_date) {
		r = accord_user_mod(x->st, &sp, &e);
		if (sp.has_uid)
			x->uids_stale = true;
	} else {
		r = 0;
	}
	if (r < 0)
		return op_result(x, r, &e);
	u = accord_state_user(x->st, t->name);
	cur = accord_user_status(u->flags);
	r = status_to(x, t->name, cur, t);
	if (r)
		return r;
	/* the password state of a profile that exists here is this host's
	 * (as RSTUSRPRF of a single existing profile leaves it) */
	nopw = !nopw_new ? t->nopw : isnew ? true : (u->flags & ACCORD_F_NO_PASSWORD) != 0;
	r = accord_user_set_flag(x->st, t->name, ACCORD_F_NO_PASSWORD, nopw, &e);
	if (r >= 0)
		r = accord_user_set_flag(x->st, t->name, ACCORD_F_PROTECTED, t->prot, &e);
	if (r < 0)
		return op_result(x, r, &e);
	if (isnew && x->added && accord_strlist_add(x->added, "%s", t->name) < 0)
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	return 0;
}

static int delete_user(struct rs *x, const char *name)
{
	struct accord_err e = { 0 };
	int r = accord_user_del(x->st, name, &e);

	x->uids_stale = true;
	return op_result(x, r, &e);
}

/* ---- groups --------------------------------------------------------- */

struct gtarget {
	const char *name;
	uint32_t gid;
	bool shared;
	const char **members;
	size_t nmembers;
};

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_sorted(const char **v, size_t n, const char *s)
{
	return n && bsearch(&s, v, n, sizeof(*v), strp_cmp) != NULL;
}

static int apply_group_id(struct rs *x, const struct gtarget *t)
{
	const struct accord_group *g = accord_state_group(x->st, t->name);
	struct accord_err e = { 0 };
	bool shared;
	int r;

	if (g)
		return g->gid == t->gid ? 0
					: conflict(x, "group %s has gid %u here and %u in the "
						   "backup; a restore does not change a GID",
						   t->name, g->gid, t->gid);
	r = id_check(x, false, t->name, t->gid, t->shared, &shared);
	if (r)
		return r;
	r = accord_group_add(x->st, t->name, true, t->gid, shared, &e);
	return op_result(x, r, &e);
}

/* Members: t's (sorted in place), excluded names left as they are. */
static int apply_members(struct rs *x, const struct gtarget *t)
{
	const struct accord_group *g = accord_state_group(x->st, t->name);
	struct accord_err e = { 0 };
	const char **live = NULL;
	size_t n, i;
	int r = 0;

	if (!g)
		return 0; /* its add was a conflict */
	if (t->nmembers)
		qsort(t->members, t->nmembers, sizeof(*t->members), strp_cmp);
	n = g->nmembers;
	if (n && !(live = malloc(n * sizeof(*live))))
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		live[i] = accord_state_user_at(x->st, g->members[i])->name;
	for (i = 0; i < n && r == 0; i++) {
		if (accord_restore_excluded(x->o, live[i]) ||
		    in_sorted(t->members, t->nmembers, live[i]))
			continue;
		r = op_result(x, accord_group_deluser(x->st, t->name, live[i], &e), &e);
	}
	free(live);
	for (i = 0; i < t->nmembers && r == 0; i++) {
		const char *m = t->members[i];

		if (accord_restore_excluded(x->o, m))
			continue;
		if (!accord_state_user(x->st, m)) {
			r = note(x, "group %s: member %s not restored (no such user here)",
				 t->name, m);
			continue;
		}
		r = op_result(x, accord_group_adduser(x->st, t->name, m, &e), &e);
	}
	return r;
}

static int gtarget_from_group(const struct accord_state *bst, const struct accord_group *g,
			      struct gtarget *t)
{
	uint32_t i;

	*t = (struct gtarget){ .name = g->name, .gid = g->gid,
			       .shared = (g->flags & ACCORD_F_SHARED_ID) != 0,
			       .nmembers = g->nmembers };
	if (g->nmembers && !(t->members = malloc(g->nmembers * sizeof(*t->members))))
		return -ENOMEM;
	for (i = 0; i < g->nmembers; i++)
		t->members[i] = accord_state_user_at(bst, g->members[i])->name;
	return 0;
}

/* ---- applications and swap rules ------------------------------------ */

struct tace {
	uint32_t kind, access;
	const char *name;
};

struct atarget {
	const char *name;
	uint32_t uacc;
	const struct tace *entries;
	size_t nentries;
};

static const struct tace *find_ace(const struct tace *v, size_t n, uint32_t kind,
				   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].kind == kind && !strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static int apply_appl(struct rs *x, const struct atarget *t)
{
	const struct accord_appl *a = accord_state_appl(x->st, t->name);
	struct accord_err e = { 0 };
	struct accord_ace *live = NULL;
	size_t n = 0, i;
	int r = 0;

	if (!a)
		r = accord_appl_add(x->st, t->name, t->uacc, &e);
	else if (a->uacc != t->uacc)
		r = accord_appl_set_uacc(x->st, t->name, t->uacc, &e);
	if ((r = op_result(x, r, &e)) != 0)
		return r;
	a = accord_state_appl(x->st, t->name);
	n = a->nentries;
	if (n && !(live = malloc(n * sizeof(*live))))
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	if (n)
		memcpy(live, a->entries, n * sizeof(*live));
	/* names stay valid: revoke-access frees only the entry it removes,
	 * and each entry is looked at once before that */
	for (i = 0; i < n && r == 0; i++) {
		if (accord_restore_excluded(x->o, live[i].name) ||
		    find_ace(t->entries, t->nentries, live[i].kind, live[i].name))
			continue;
		r = op_result(x, accord_appl_revoke_access(x->st, t->name, live[i].kind,
							   live[i].name, &e), &e);
	}
	free(live);
	for (i = 0; i < t->nentries && r == 0; i++) {
		const struct tace *w = &t->entries[i];
		bool exists = w->kind == ACCORD_ACE_USER ? accord_state_user(x->st, w->name) != NULL
							 : accord_state_group(x->st, w->name) != NULL;

		if (accord_restore_excluded(x->o, w->name))
			continue;
		if (!exists) {
			r = note(x, "application %s: the entry of %s %s is not restored (no such "
				 "%s here)", t->name, w->kind == ACCORD_ACE_USER ? "user" : "group",
				 w->name, w->kind == ACCORD_ACE_USER ? "user" : "group");
			continue;
		}
		r = op_result(x, accord_appl_permit(x->st, t->name, w->kind, w->name, w->access,
						    &e), &e);
	}
	return r;
}

static bool swap_excluded(const struct accord_restore_opts *o, const char *from, const char *to)
{
	char buf[2 * ACCORD_NAME_MAX + 8];

	snprintf(buf, sizeof(buf), "%s->%s", from, to);
	return accord_restore_excluded(o, from) || accord_restore_excluded(o, to) ||
	       accord_restore_excluded(o, buf);
}

static const struct accord_swap_rule *find_swap(const struct accord_state *st, const char *from,
						const char *to)
{
	size_t i;

	for (i = 0; i < accord_state_swap_slots(st); i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(st, i);

		if (w->live && !strcmp(w->from, from) && !strcmp(w->to, to))
			return w;
	}
	return NULL;
}

static int apply_swap(struct rs *x, uint32_t kind, const char *from, const char *to)
{
	const struct accord_swap_rule *w = find_swap(x->st, from, to);
	struct accord_err e = { 0 };

	if (w && w->kind == kind)
		return 0;
	if (!accord_state_group(x->st, from))
		return note(x, "swap rule %s->%s not restored (no group %s here)", from, to, from);
	return op_result(x, accord_swap_set(x->st, kind, from, to, &e), &e);
}

/* ---- certificate objects -------------------------------------------- */

static const char *owner_name(const char *user)
{
	return user && *user ? user : "MULTIID";
}

static bool cert_excluded(const struct accord_restore_opts *o, const char *owner,
			  const char *label)
{
	return accord_restore_excluded(o, owner) || accord_restore_excluded(o, label);
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static const struct accord_certmap *find_map(const struct accord_state *st, const char *owner,
					     const char *label)
{
	size_t i;

	for (i = 0; i < accord_state_certmap_slots(st); i++) {
		const struct accord_certmap *m = accord_state_certmap_at(st, i);

		if (m->live && !strcmp(owner_name(m->user), owner) && !strcmp(m->label, label))
			return m;
	}
	return NULL;
}

static bool map_equal(const struct accord_certmap *a, const struct accord_certmap *b)
{
	return same_str(a->criteria, b->criteria) && same_str(a->sdn, b->sdn) &&
	       same_str(a->idn, b->idn) && a->status == b->status;
}

struct mtarget {
	const char *label, *user, *criteria, *sdn, *idn;
	uint32_t status;
};

static int add_map(struct rs *x, const struct mtarget *m)
{
	struct accord_certmap_spec sp = {
		.label = m->label, .user = m->user && *m->user ? m->user : NULL,
		.multiid = !(m->user && *m->user), .criteria = m->criteria,
		.sdn = m->sdn && *m->sdn ? m->sdn : NULL, .idn = m->idn && *m->idn ? m->idn : NULL,
		.notrust = m->status == ACCORD_MAP_NOTRUST,
	};
	struct accord_certmap_warn w = { 0 };
	struct accord_err e = { 0 };

	if (sp.user && !accord_state_user(x->st, sp.user))
		return note(x, "certificate map %s/%s not restored (no user %s here)", sp.user,
			    m->label, sp.user);
	return op_result(x, accord_certmap_add(x->st, &sp, &w, &e), &e);
}

static int restore_maps(struct rs *x, const struct accord_state *bst)
{
	struct accord_err e = { 0 };
	size_t i, j;
	int r = 0;

	/* deletions first: an add is refused while another label holds the
	 * same filters */
	for (i = 0; i < accord_state_certmap_slots(x->st) && r == 0; i++) {
		const struct accord_certmap *m = accord_state_certmap_at(x->st, i);
		const struct accord_certmap *b;

		if (!m->live || cert_excluded(x->o, owner_name(m->user), m->label))
			continue;
		b = find_map(bst, owner_name(m->user), m->label);
		if (b && map_equal(m, b))
			continue;
		if (b && same_str(m->criteria, b->criteria) && same_str(m->sdn, b->sdn) &&
		    same_str(m->idn, b->idn)) {
			r = op_result(x, accord_certmap_alter(x->st, m->label, owner_name(m->user),
							       NULL, (int)b->status, &e), &e);
			continue;
		}
		r = op_result(x, accord_certmap_del(x->st, m->label, m->user ? m->user : "", &e),
			      &e);
	}
	for (i = 0; i < accord_state_certreg_slots(x->st) && r == 0; i++) {
		const struct accord_certreg *g = accord_state_certreg_at(x->st, i);
		const struct accord_certreg *b = NULL;

		if (!g->live || cert_excluded(x->o, g->user, g->label))
			continue;
		for (j = 0; j < accord_state_certreg_slots(bst) && !b; j++) {
			const struct accord_certreg *c = accord_state_certreg_at(bst, j);

			if (c->live && !memcmp(c->sha256, g->sha256, 32))
				b = c;
		}
		if (!b)
			r = op_result(x, accord_certmap_del(x->st, g->label, g->user, &e), &e);
		else if (b->status != g->status)
			r = op_result(x, accord_certmap_alter(x->st, g->label, g->user, NULL,
							       (int)b->status, &e), &e);
	}
	for (i = 0; i < accord_state_certcrit_slots(x->st) && r == 0; i++) {
		const struct accord_certcrit *c = accord_state_certcrit_at(x->st, i);
		const struct accord_certcrit *b = NULL;

		if (!c->live || cert_excluded(x->o, c->user, c->name))
			continue;
		for (j = 0; j < accord_state_certcrit_slots(bst) && !b; j++) {
			const struct accord_certcrit *d = accord_state_certcrit_at(bst, j);

			if (d->live && !strcmp(d->name, c->name))
				b = d;
		}
		if (!b || strcmp(b->user, c->user))
			r = op_result(x, accord_certcrit_del(x->st, c->name, &e), &e);
	}
	/* then what the backup has */
	for (i = 0; i < accord_state_certmap_slots(bst) && r == 0; i++) {
		const struct accord_certmap *b = accord_state_certmap_at(bst, i);

		struct mtarget t;

		if (!b->live || cert_excluded(x->o, owner_name(b->user), b->label) ||
		    find_map(x->st, owner_name(b->user), b->label))
			continue;
		t = (struct mtarget){ b->label, b->user, b->criteria, b->sdn, b->idn, b->status };
		r = add_map(x, &t);
	}
	for (i = 0; i < accord_state_certreg_slots(bst) && r == 0; i++) {
		const struct accord_certreg *b = accord_state_certreg_at(bst, i);
		bool live = false;

		if (!b->live || cert_excluded(x->o, b->user, b->label))
			continue;
		for (j = 0; j < accord_state_certreg_slots(x->st) && !live; j++) {
			const struct accord_certreg *g = accord_state_certreg_at(x->st, j);

			live = g->live && !memcmp(g->sha256, b->sha256, 32);
		}
		if (live)
			continue;
		if (!b->der_len) {
			r = note(x, "registered certificate %s/%s (%s) not restored: the backup "
				 "holds its digest, not the certificate (it was registered by an "
				 "older accordctl); register it again", b->user, b->label,
				 b->subject);
			continue;
		}
		{
			struct accord_err one = { 0 };
			int a = accord_certreg_add(x->st, b->der, b->der_len, b->user, b->label,
						   b->status == ACCORD_MAP_NOTRUST, &one);

			if (a == -ENOMEM)
				r = a;
			else if (a < 0)
				r = note(x, "registered certificate %s/%s not restored: %s", b->user,
					 b->label, one.msg);
		}
	}
	for (i = 0; i < accord_state_certcrit_slots(bst) && r == 0; i++) {
		const struct accord_certcrit *b = accord_state_certcrit_at(bst, i);
		bool live = false;

		if (!b->live || cert_excluded(x->o, b->user, b->name))
			continue;
		for (j = 0; j < accord_state_certcrit_slots(x->st) && !live; j++) {
			const struct accord_certcrit *c = accord_state_certcrit_at(x->st, j);

			live = c->live && !strcmp(c->name, b->name);
		}
		if (live)
			continue;
		if (!accord_state_user(x->st, b->user))
			r = note(x, "criteria %s not restored (no user %s here)", b->name, b->user);
		else
			r = op_result(x, accord_certcrit_add(x->st, b->name, b->user, &e), &e);
	}
	return r;
}

static const struct accord_ca *find_ca(const struct accord_state *st, const char *label)
{
	size_t i;

	for (i = 0; i < accord_state_ca_slots(st); i++) {
		const struct accord_ca *c = accord_state_ca_at(st, i);

		if (c->live && !strcmp(c->label, label))
			return c;
	}
	return NULL;
}

static const struct accord_crl *find_crl(const struct accord_state *st, const char *ca)
{
	size_t i;

	for (i = 0; i < accord_state_crl_slots(st); i++) {
		const struct accord_crl *c = accord_state_crl_at(st, i);

		if (c->live && !strcmp(c->ca_label, ca))
			return c;
	}
	return NULL;
}

static int restore_cas(struct rs *x, const struct accord_state *bst)
{
	struct accord_err e = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < accord_state_ca_slots(x->st) && r == 0; i++) {
		const struct accord_ca *c = accord_state_ca_at(x->st, i);
		const struct accord_ca *b;

		if (!c->live || accord_restore_excluded(x->o, c->label))
			continue;
		b = find_ca(bst, c->label);
		if (!b || memcmp(b->sha256, c->sha256, 32))
			r = op_result(x, accord_ca_del(x->st, c->label, &e), &e);
		else if (b->status != c->status)
			r = op_result(x, accord_ca_set_status(x->st, c->label, b->status, &e), &e);
	}
	for (i = 0; i < accord_state_ca_slots(bst) && r == 0; i++) {
		const struct accord_ca *b = accord_state_ca_at(bst, i);

		if (!b->live || accord_restore_excluded(x->o, b->label) || find_ca(x->st, b->label))
			continue;
		r = op_result(x, accord_ca_add(x->st, b->der, b->len, b->label, b->status, &e), &e);
	}
	for (i = 0; i < accord_state_crl_slots(bst) && r == 0; i++) {
		const struct accord_crl *b = accord_state_crl_at(bst, i);
		const struct accord_crl *c;

		if (!b->live || accord_restore_excluded(x->o, b->ca_label))
			continue;
		c = find_crl(x->st, b->ca_label);
		if (c && c->len == b->len && !memcmp(c->der, b->der, b->len))
			continue;
		if (c && c->last_update > b->last_update) {
			r = note(x, "CRL of %s not restored: the one here is newer", b->ca_label);
			continue;
		}
		r = op_result(x, accord_crl_add(x->st, b->der, b->len, &e), &e);
	}
	return r;
}

/* ---- the restore ---------------------------------------------------- */

static int restore_groups_ids(struct rs *x, const struct accord_state *bst)
{
	size_t i;
	int r = 0;

	for (i = 0; i < accord_state_group_slots(bst) && r >= 0; i++) {
		const struct accord_group *g = accord_state_group_at(bst, i);
		struct gtarget t = { .name = g->name, .gid = g->gid,
				     .shared = (g->flags & ACCORD_F_SHARED_ID) != 0 };

		if (g->live && !accord_restore_excluded(x->o, g->name))
			r = apply_group_id(x, &t);
	}
	return r < 0 ? r : 0;
}

static int restore_members(struct rs *x, const struct accord_state *bst)
{
	struct accord_err e = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < accord_state_group_slots(bst) && r >= 0; i++) {
		const struct accord_group *g = accord_state_group_at(bst, i);
		struct gtarget t;

		if (!g->live || accord_restore_excluded(x->o, g->name))
			continue;
		if (gtarget_from_group(bst, g, &t) < 0)
			return accord_err_set(x->err, -ENOMEM, "out of memory");
		r = apply_members(x, &t);
		free(t.members);
	}
	for (i = 0; i < accord_state_group_slots(x->st) && r >= 0; i++) {
		const struct accord_group *g = accord_state_group_at(x->st, i);

		if (!g->live || accord_restore_excluded(x->o, g->name) ||
		    accord_state_group(bst, g->name))
			continue;
		r = accord_group_del(x->st, g->name, &e);
		/* still the primary group of a profile kept here (excluded, or
		 * users not restored): kept */
		r = r == -EBUSY ? note(x, "%s; kept", e.msg) : op_result(x, r, &e);
	}
	return r < 0 ? r : 0;
}

static int restore_appls(struct rs *x, const struct accord_state *bst)
{
	struct accord_err e = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < accord_state_appl_slots(x->st) && r >= 0; i++) {
		const struct accord_appl *a = accord_state_appl_at(x->st, i);

		if (a->live && !accord_restore_excluded(x->o, a->name) &&
		    !accord_state_appl(bst, a->name))
			r = op_result(x, accord_appl_del(x->st, a->name, &e), &e);
	}
	for (i = 0; i < accord_state_appl_slots(bst) && r >= 0; i++) {
		const struct accord_appl *a = accord_state_appl_at(bst, i);
		struct atarget t = { a->name, a->uacc, NULL, a->nentries };
		struct tace *v = NULL;
		uint32_t k;

		if (!a->live || accord_restore_excluded(x->o, a->name))
			continue;
		if (a->nentries && !(v = malloc(a->nentries * sizeof(*v))))
			return accord_err_set(x->err, -ENOMEM, "out of memory");
		for (k = 0; k < a->nentries; k++)
			v[k] = (struct tace){ a->entries[k].kind, a->entries[k].access,
					      a->entries[k].name };
		t.entries = v;
		r = apply_appl(x, &t);
		free(v);
	}
	return r < 0 ? r : 0;
}

static int restore_swaps(struct rs *x, const struct accord_state *bst)
{
	struct accord_err e = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < accord_state_swap_slots(x->st) && r >= 0; i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(x->st, i);

		if (w->live && !swap_excluded(x->o, w->from, w->to) &&
		    !find_swap(bst, w->from, w->to))
			r = op_result(x, accord_swap_del(x->st, w->from, w->to, &e), &e);
	}
	for (i = 0; i < accord_state_swap_slots(bst) && r >= 0; i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(bst, i);

		if (w->live && !swap_excluded(x->o, w->from, w->to))
			r = apply_swap(x, w->kind, w->from, w->to);
	}
	return r < 0 ? r : 0;
}

int accord_restore_state(struct accord_state *st, const struct accord_state *bst,
			 const struct accord_restore_opts *o,
			 struct accord_restore_report *rep, struct accord_err *err)
{
	struct rs x = { .st = st, .o = o, .conflicts = &rep->conflicts, .notes = &rep->notes,
			.added = &rep->added, .err = err, .uids_stale = true };
	size_t i;
	int r = 0;

	/* 1. profiles that the backup does not have (their cascades go too) */
	for (i = 0; has(o, ACCORD_CLASS_USER) && i < accord_state_user_slots(st) && r >= 0; i++) {
		const struct accord_user *u = accord_state_user_at(st, i);

		if (u->live && !accord_restore_excluded(o, u->name) &&
		    !accord_state_user(bst, u->name))
			r = delete_user(&x, u->name);
	}
	/* 2. groups with their GIDs, before the profiles that name them */
	if (r >= 0 && has(o, ACCORD_CLASS_GROUP))
		r = restore_groups_ids(&x, bst);
	/* 3. profiles */
	for (i = 0; has(o, ACCORD_CLASS_USER) && i < accord_state_user_slots(bst) && r >= 0; i++) {
		const struct accord_user *u = accord_state_user_at(bst, i);
		const struct accord_group *pg;
		struct utarget t;

		if (!u->live || accord_restore_excluded(o, u->name))
			continue;
		utarget_from_user(u, &t);
		pg = accord_state_group(bst, u->name);
		/* a profile's personal group comes back with it, whatever the
		 * groups class says (userdel took it, useradd would make it) */
		if (pg && pg->gid == u->gid && !accord_state_group_by_gid(st, u->gid)) {
			struct gtarget gt = { .name = pg->name, .gid = pg->gid,
					      .shared = (pg->flags & ACCORD_F_SHARED_ID) != 0 };

			r = apply_group_id(&x, &gt);
			if (r)
				continue;
		}
		r = apply_user(&x, &t, !o->full);
	}
	/* 4. members, then groups the backup does not have */
	if (r >= 0 && has(o, ACCORD_CLASS_GROUP))
		r = restore_members(&x, bst);
	if (r >= 0 && has(o, ACCORD_CLASS_APPL))
		r = restore_appls(&x, bst);
	if (r >= 0 && has(o, ACCORD_CLASS_SWAP))
		r = restore_swaps(&x, bst);
	if (r >= 0 && has(o, ACCORD_CLASS_CERTMAP))
		r = restore_maps(&x, bst);
	if (r >= 0 && has(o, ACCORD_CLASS_CA))
		r = restore_cas(&x, bst);
	free(x.uids);
	if (r < 0)
		return r;
	if (rep->conflicts.n)
		return accord_err_set(err, -EEXIST, "the restore has %zu conflict%s; nothing "
				      "was changed (exclude those names to restore the rest)",
				      rep->conflicts.n, rep->conflicts.n == 1 ? "" : "s");
	return 0;
}

/* ---- PassTicket permissions and passwords --------------------------- */

/* "APPL:kind:NAME" -> appl (up to the first ':') and name (after the last) */
static void ptauth_split(const char *s, char *appl, size_t alen, const char **who)
{
	const char *c = strchr(s, ':'), *l = strrchr(s, ':');
	size_t n = c ? (size_t)(c - s) : strlen(s);

	if (n >= alen)
		n = alen - 1;
	memcpy(appl, s, n);
	appl[n] = 0;
	*who = l ? l + 1 : s;
}

static bool ptauth_excluded(const struct accord_restore_opts *o, const char *s)
{
	char appl[256];
	const char *who;

	ptauth_split(s, appl, sizeof(appl), &who);
	return accord_restore_excluded(o, appl) || accord_restore_excluded(o, who);
}

int accord_restore_ptauth(const char *const *live, size_t nlive,
			  const char *const *backup, size_t nbackup,
			  const struct accord_restore_opts *o, struct accord_strlist *out)
{
	struct accord_strlist t = { 0 };
	size_t i, k;

	for (i = 0; i < nlive; i++)
		if (ptauth_excluded(o, live[i]) && accord_strlist_add(&t, "%s", live[i]) < 0)
			goto nomem;
	for (i = 0; i < nbackup; i++)
		if (!ptauth_excluded(o, backup[i]) && accord_strlist_add(&t, "%s", backup[i]) < 0)
			goto nomem;
	if (t.n)
		qsort(t.v, t.n, sizeof(*t.v), strp_cmp);
	for (i = k = 0; i < t.n; i++) {
		if (k && !strcmp(t.v[k - 1], t.v[i])) {
			free(t.v[i]);
			continue;
		}
		t.v[k++] = t.v[i];
	}
	t.n = k;
	*out = t;
	return 0;
nomem:
	accord_strlist_free(&t);
	return -ENOMEM;
}

int accord_restore_ptauth_parse(const char *appl, const unsigned char *data, size_t len,
				struct accord_strlist *out)
{
	size_t i = 0;

	while (i < len) {
		size_t n = 0;
		char line[ACCORD_NAME_MAX + 16];
		const char *kind, *who;

		while (i + n < len && data[i + n] != '\n')
			n++;
		if (n >= sizeof(line) || memchr(data + i, 0, n))
			return -EBADMSG;
		memcpy(line, data + i, n);
		line[n] = 0;
		i += n + 1;
		if (!n)
			continue;
		if (!strncmp(line, "user ", 5)) {
			kind = "user";
			who = line + 5;
		} else if (!strncmp(line, "group ", 6)) {
			kind = "group";
			who = line + 6;
		} else {
			return -EBADMSG;
		}
		if (accord_check_name("name", who, NULL) < 0)
			return -EBADMSG;
		if (accord_strlist_add(out, "%s:%s:%s", appl, kind, who) < 0)
			return -ENOMEM;
	}
	return 0;
}

int accord_restore_password_hash(const unsigned char *data, size_t len, char *hash, size_t cap)
{
	static const char magic[] = "accord-secret 1 ";
	const char *p, *end;
	size_t i, n;
	int field;

	if (len < sizeof(magic) || memcmp(data, magic, sizeof(magic) - 1) ||
	    data[len - 1] != '\n' || memchr(data, 0, len))
		return -EBADMSG;
	p = (const char *)data + sizeof(magic) - 1;
	end = (const char *)data + len - 1;
	/* uid and created: digits (created may be negative) */
	for (field = 0; field < 2; field++) {
		if (p < end && *p == '-' && field == 1)
			p++;
		for (n = 0; p < end && *p >= '0' && *p <= '9'; p++)
			n++;
		if (!n || p >= end || *p != ' ')
			return -EBADMSG;
		p++;
	}
	n = (size_t)(end - p);
	if (n < 2 || n >= cap || p[0] != '$')
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '/' || c == '$' || c == '=' || c == ',' || c == '-'))
			return -EBADMSG;
	}
	memcpy(hash, p, n);
	hash[n] = 0;
	return 0;
}

/* ---- journal replay ------------------------------------------------- */

int accord_reapply_add(struct accord_reapply *ra, uint64_t gen, const char *line)
{
	json_object *o = json_tokener_parse(line), *k;
	const char *kind;
	char *copy;

	if (!o)
		return 0; /* not JSON: not a change (the registry checked its files) */
	if (!json_object_object_get_ex(o, "change", NULL) ||
	    !json_object_object_get_ex(o, "kind", &k) || !(kind = json_object_get_string(k)) ||
	    !strcmp(kind, "tombstone") || !strcmp(kind, "counters") ||
	    !strcmp(kind, "registry")) {
		json_object_put(o);
		return 0;
	}
	json_object_put(o);
	if (ra->n == ra->cap) {
		size_t nc = ra->cap ? 2 * ra->cap : 32;
		struct accord_reapply_entry *v = realloc(ra->v, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ra->v = v;
		ra->cap = nc;
	}
	if (!(copy = strdup(line)))
		return -ENOMEM;
	ra->v[ra->n++] = (struct accord_reapply_entry){ .gen = gen, .line = copy };
	return 0;
}

void accord_reapply_free(struct accord_reapply *ra)
{
	size_t i;

	for (i = 0; i < ra->n; i++) {
		free(ra->v[i].line);
		free(ra->v[i].why);
	}
	free(ra->v);
	memset(ra, 0, sizeof(*ra));
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool ju32(json_object *o, const char *key, uint32_t *out)
{
	json_object *v;
	int64_t n;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	n = json_object_get_int64(v);
	if (n < 0 || n > UINT32_MAX)
		return false;
	*out = (uint32_t)n;
	return true;
}

static bool jbool(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* ISO 8601 UTC as jsonfmt writes it, or null: 0. */
static bool jdate(json_object *o, const char *key, int64_t *out)
{
	const char *s = jstr(o, key);
	struct tm tm = { 0 };
	char z = 0;

	*out = 0;
	if (!s)
		return true;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return true;
}

static int access_parse(const char *s, uint32_t *a)
{
	if (s && !strcmp(s, "read"))
		*a = ACCORD_ACCESS_READ;
	else if (s && !strcmp(s, "none"))
		*a = ACCORD_ACCESS_NONE;
	else
		return -1;
	return 0;
}

/* The object's current shape (NULL when absent); name as the journal has it. */
static json_object *current_json(const struct accord_state *st, const char *kind,
				 const char *name)
{
	size_t i;

	if (!strcmp(kind, "user")) {
		const struct accord_user *u = accord_state_user(st, name);

		return u ? accord_json_user_state(u) : NULL;
	}
	if (!strcmp(kind, "group")) {
		const struct accord_group *g = accord_state_group(st, name);

		return g ? accord_json_group_state(st, g) : NULL;
	}
	if (!strcmp(kind, "appl")) {
		const struct accord_appl *a = accord_state_appl(st, name);

		return a ? accord_json_appl_state(st, a) : NULL;
	}
	if (!strcmp(kind, "swap")) {
		char from[ACCORD_NAME_MAX + 2];
		const char *arrow = strstr(name, "->");
		const struct accord_swap_rule *w;
		size_t n = arrow ? (size_t)(arrow - name) : 0;

		if (!arrow || n >= sizeof(from))
			return NULL;
		memcpy(from, name, n);
		from[n] = 0;
		w = find_swap(st, from, arrow + 2);
		return w ? accord_json_swap_state(w) : NULL;
	}
	if (!strcmp(kind, "certmap")) {
		const char *slash = strchr(name, '/');
		char owner[ACCORD_LABEL_MAX + 2];
		const struct accord_certmap *m;
		size_t n = slash ? (size_t)(slash - name) : 0;

		if (!slash || n >= sizeof(owner))
			return NULL;
		memcpy(owner, name, n);
		owner[n] = 0;
		m = find_map(st, owner, slash + 1);
		return m ? accord_json_certmap(m->label, m->user, m->criteria, m->sdn, m->idn,
					       m->status, false)
			 : NULL;
	}
	if (!strcmp(kind, "certcrit")) {
		for (i = 0; i < accord_state_certcrit_slots(st); i++) {
			const struct accord_certcrit *c = accord_state_certcrit_at(st, i);

			if (c->live && !strcmp(c->name, name)) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "name", json_object_new_string(c->name));
				json_object_object_add(o, "user", json_object_new_string(c->user));
				return o;
			}
		}
	}
	return NULL;
}

/* A copy for comparison: no times, no shared-ID mark, members sorted. */
static int jcmp_str(const void *a, const void *b)
{
	json_object *const *p = a, *const *q = b;

	return strcmp(json_object_get_string(*p), json_object_get_string(*q));
}

static json_object *normalized(json_object *o)
{
	struct json_object_iter it;
	json_object *n;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	n = json_object_new_object();
	/* the C form of the iteration (the other uses a GNU extension) */
	json_object_object_foreachC(o, it) {
		const char *key = it.key;
		json_object *val = it.val;

		if (!strcmp(key, "created") || !strcmp(key, "changed") || !strcmp(key, "shared"))
			continue;
		if (!strcmp(key, "members") && json_object_is_type(val, json_type_array)) {
			json_object *m = json_object_new_array();
			size_t i;

			for (i = 0; i < json_object_array_length(val); i++)
				json_object_array_add(m, json_object_get(
							      json_object_array_get_idx(val, i)));
			json_object_array_sort(m, jcmp_str);
			json_object_object_add(n, key, m);
			continue;
		}
		json_object_object_add(n, key, json_object_get(val));
	}
	return n;
}

static bool same_shape(json_object *a, json_object *b)
{
	json_object *na, *nb;
	bool eq;

	if (!a || !b)
		return !a && !b;
	na = normalized(a);
	nb = normalized(b);
	eq = na && nb && json_object_equal(na, nb);
	json_object_put(na);
	json_object_put(nb);
	return eq;
}

static int apply_after(struct rs *x, const char *kind, const char *name, json_object *after)
{
	struct accord_err e = { 0 };
	int r = 0;

	if (!strcmp(kind, "user")) {
		struct utarget t = { .name = name };
		const char *st;

		if (!after)
			return delete_user(x, name);
		t.gecos = jstr(after, "gecos");
		t.home = jstr(after, "home");
		t.shell = jstr(after, "shell");
		t.reason = jstr(after, "revoke_reason") ? jstr(after, "revoke_reason") : "";
		t.racf_id = jstr(after, "racf_id") ? jstr(after, "racf_id") : "";
		st = jstr(after, "status");
		if (!t.gecos || !t.home || !t.shell || !st || !ju32(after, "uid", &t.uid) ||
		    !ju32(after, "gid", &t.gid) || !jdate(after, "revoke_date", &t.revoke_date) ||
		    !jdate(after, "resume_date", &t.resume_date))
			return conflict(x, "the entry does not have the shape of a profile");
		t.status = !strcmp(st, "revoked")    ? ACCORD_STATUS_REVOKED
			   : !strcmp(st, "disabled") ? ACCORD_STATUS_DISABLED
						     : ACCORD_STATUS_ENABLED;
		t.nopw = jbool(after, "no-password");
		t.prot = jbool(after, "protected");
		t.shared = jbool(after, "shared");
		return apply_user(x, &t, false);
	}
	if (!strcmp(kind, "group")) {
		struct gtarget t = { .name = name };
		json_object *m;
		size_t i;

		if (!after)
			return op_result(x, accord_group_del(x->st, name, &e), &e);
		if (!ju32(after, "gid", &t.gid) || !json_object_object_get_ex(after, "members", &m) ||
		    !json_object_is_type(m, json_type_array))
			return conflict(x, "the entry does not have the shape of a group");
		t.shared = jbool(after, "shared");
		t.nmembers = json_object_array_length(m);
		if (t.nmembers && !(t.members = calloc(t.nmembers, sizeof(*t.members))))
			return accord_err_set(x->err, -ENOMEM, "out of memory");
		for (i = 0; i < t.nmembers; i++)
			t.members[i] = json_object_get_string(json_object_array_get_idx(m, i));
		r = apply_group_id(x, &t);
		if (r == 0)
			r = apply_members(x, &t);
		free(t.members);
		return r;
	}
	if (!strcmp(kind, "appl")) {
		struct atarget t = { .name = name };
		struct tace *v = NULL;
		json_object *en;
		size_t i;

		if (!after)
			return op_result(x, accord_appl_del(x->st, name, &e), &e);
		if (access_parse(jstr(after, "uacc"), &t.uacc) < 0 ||
		    !json_object_object_get_ex(after, "entries", &en) ||
		    !json_object_is_type(en, json_type_array))
			return conflict(x, "the entry does not have the shape of an application");
		t.nentries = json_object_array_length(en);
		if (t.nentries && !(v = calloc(t.nentries, sizeof(*v))))
			return accord_err_set(x->err, -ENOMEM, "out of memory");
		for (i = 0; i < t.nentries && r == 0; i++) {
			json_object *a = json_object_array_get_idx(en, i);
			const char *type = jstr(a, "type");

			v[i].name = jstr(a, "name");
			v[i].kind = type && !strcmp(type, "group") ? ACCORD_ACE_GROUP : ACCORD_ACE_USER;
			if (!v[i].name || access_parse(jstr(a, "access"), &v[i].access) < 0)
				r = conflict(x, "an access-list entry does not have its shape");
		}
		t.entries = v;
		if (r == 0)
			r = apply_appl(x, &t);
		free(v);
		return r;
	}
	if (!strcmp(kind, "swap")) {
		const char *from = jstr(after, "from"), *to = jstr(after, "to");
		const char *k = jstr(after, "kind");

		if (!after) {
			/* the rule is identified by the name FROM->TO */
			const char *arrow = strstr(name, "->");
			char f[ACCORD_NAME_MAX + 2];
			size_t n = arrow ? (size_t)(arrow - name) : 0;

			if (!arrow || n >= sizeof(f))
				return conflict(x, "not a swap rule's name");
			memcpy(f, name, n);
			f[n] = 0;
			return op_result(x, accord_swap_del(x->st, f, arrow + 2, &e), &e);
		}
		if (!from || !to || !k)
			return conflict(x, "the entry does not have the shape of a swap rule");
		return apply_swap(x, !strcmp(k, "deny") ? ACCORD_SWAP_DENY : ACCORD_SWAP_PERMIT,
				  from, to);
	}
	if (!strcmp(kind, "certmap")) {
		const char *slash = strchr(name, '/');
		struct mtarget m = { 0 };
		const struct accord_certmap *cur;
		char owner[ACCORD_LABEL_MAX + 2];
		size_t n = slash ? (size_t)(slash - name) : 0;

		if (!slash || n >= sizeof(owner))
			return conflict(x, "not a certificate map's name");
		memcpy(owner, name, n);
		owner[n] = 0;
		cur = find_map(x->st, owner, slash + 1);
		if (cur) {
			r = op_result(x, accord_certmap_del(x->st, cur->label, cur->user ? cur->user : "",
							     &e), &e);
			if (r || !after)
				return r;
		}
		if (!after)
			return 0;
		m.label = jstr(after, "label");
		m.user = jstr(after, "user");
		if (m.user && !strcmp(m.user, "MULTIID"))
			m.user = NULL;
		m.criteria = jstr(after, "criteria");
		m.sdn = jstr(after, "sdn");
		m.idn = jstr(after, "idn");
		m.status = same_str(jstr(after, "status"), "notrust") ? ACCORD_MAP_NOTRUST
								       : ACCORD_MAP_TRUST;
		if (!m.label)
			return conflict(x, "the entry does not have the shape of a map");
		return add_map(x, &m);
	}
	if (!strcmp(kind, "certcrit")) {
		const char *user = jstr(after, "user");
		json_object *cur = current_json(x->st, "certcrit", name);

		if (cur) {
			json_object_put(cur);
			r = op_result(x, accord_certcrit_del(x->st, name, &e), &e);
			if (r || !after)
				return r;
		}
		if (!after)
			return 0;
		if (!user)
			return conflict(x, "the entry does not have the shape of a criteria entry");
		return op_result(x, accord_certcrit_add(x->st, name, user, &e), &e);
	}
	return conflict(x, "%s entries cannot be re-applied from the journal", kind);
}

static int kind_class(const char *kind)
{
	if (!strcmp(kind, "user"))
		return ACCORD_CLASS_USER;
	if (!strcmp(kind, "group"))
		return ACCORD_CLASS_GROUP;
	if (!strcmp(kind, "appl"))
		return ACCORD_CLASS_APPL;
	if (!strcmp(kind, "swap"))
		return ACCORD_CLASS_SWAP;
	if (!strcmp(kind, "certmap") || !strcmp(kind, "certreg") || !strcmp(kind, "certcrit"))
		return ACCORD_CLASS_CERTMAP;
	if (!strcmp(kind, "ca") || !strcmp(kind, "crl"))
		return ACCORD_CLASS_CA;
	return -1;
}

static bool entry_excluded(const struct accord_restore_opts *o, const char *kind,
			   const char *name, json_object *before, json_object *after)
{
	json_object *obj = after ? after : before;

	if (accord_restore_excluded(o, name))
		return true;
	if (!strcmp(kind, "swap"))
		return swap_excluded(o, jstr(obj, "from") ? jstr(obj, "from") : "",
				     jstr(obj, "to") ? jstr(obj, "to") : "");
	if (!strcmp(kind, "certmap") || !strcmp(kind, "certreg"))
		return cert_excluded(o, jstr(obj, "user") ? jstr(obj, "user") : "",
				     jstr(obj, "label") ? jstr(obj, "label") : "");
	if (!strcmp(kind, "certcrit"))
		return accord_restore_excluded(o, jstr(obj, "user") ? jstr(obj, "user") : "");
	return false;
}

/* The pass an entry belongs to (see restore.h). */
static int entry_pass(const char *kind, const char *change)
{
	bool del = !strcmp(change, "delete"), add = !strcmp(change, "add");

	if (!strcmp(kind, "group"))
		return add ? 0 : del ? 5 : 2;
	if (!strcmp(kind, "user"))
		return del ? 4 : 1;
	return del ? 5 : 3;
}

static int reapply_one(struct rs *x, struct accord_reapply *ra, struct accord_reapply_entry *en,
		       int pass)
{
	json_object *o = json_tokener_parse(en->line), *before = NULL, *after = NULL, *cur;
	const char *kind, *name, *change;
	size_t nconf = x->conflicts->n;
	int cls, r = 0;

	kind = jstr(o, "kind");
	name = jstr(o, "name");
	change = jstr(o, "change");
	if (!o || !kind || !name || !change) {
		json_object_put(o);
		if (pass == 0) {
			en->outcome = ACCORD_REAPPLY_CONFLICT;
			en->why = strdup("not a journal change line");
		}
		return 0;
	}
	if (entry_pass(kind, change) != pass)
		goto out;
	json_object_object_get_ex(o, "before", &before);
	json_object_object_get_ex(o, "after", &after);
	if (json_object_is_type(before, json_type_null))
		before = NULL;
	if (json_object_is_type(after, json_type_null))
		after = NULL;
	cls = kind_class(kind);
	if (cls < 0 || !has(x->o, (enum accord_class)cls) ||
	    entry_excluded(x->o, kind, name, before, after)) {
		en->outcome = ACCORD_REAPPLY_SKIPPED;
		goto out;
	}
	cur = current_json(x->st, kind, name);
	if (same_shape(cur, after)) {
		en->outcome = ACCORD_REAPPLY_ALREADY;
	} else if (!same_shape(cur, before)) {
		en->outcome = ACCORD_REAPPLY_CONFLICT;
		en->why = strdup(cur ? (before ? "the object differs from the entry's 'before'"
					       : "the object exists already")
				     : "the object does not exist");
	} else {
		r = apply_after(x, kind, name, after);
		if (r == 0) {
			en->outcome = ACCORD_REAPPLY_APPLIED;
		} else if (r > 0) {
			/* the operation refused: a conflict of this entry only */
			en->outcome = ACCORD_REAPPLY_CONFLICT;
			en->why = strdup(x->conflicts->n > nconf ? x->conflicts->v[nconf] : "refused");
			while (x->conflicts->n > nconf)
				free(x->conflicts->v[--x->conflicts->n]);
			r = 0;
		}
	}
	json_object_put(cur);
out:
	json_object_put(o);
	(void)ra;
	if (r == 0 && en->outcome == ACCORD_REAPPLY_CONFLICT && !en->why)
		return accord_err_set(x->err, -ENOMEM, "out of memory");
	return r;
}

int accord_reapply_run(struct accord_state *st, struct accord_reapply *ra,
		       const struct accord_restore_opts *o, struct accord_err *err)
{
	struct accord_strlist conflicts = { 0 };
	struct rs x = { .st = st, .o = o, .conflicts = &conflicts, .err = err,
			.uids_stale = true };
	size_t i, start, end;
	int pass, r = 0;

	memset(ra->count, 0, sizeof(ra->count));
	for (i = 0; i < ra->n; i++) {
		free(ra->v[i].why);
		ra->v[i].why = NULL;
		ra->v[i].outcome = ACCORD_REAPPLY_PENDING;
	}
	for (start = 0; start < ra->n && r == 0; start = end) {
		for (end = start; end < ra->n && ra->v[end].gen == ra->v[start].gen; end++)
			;
		for (pass = 0; pass < 6 && r == 0; pass++)
			for (i = start; i < end && r == 0; i++)
				if (ra->v[i].outcome == ACCORD_REAPPLY_PENDING)
					r = reapply_one(&x, ra, &ra->v[i], pass);
	}
	for (i = 0; i < ra->n; i++)
		ra->count[ra->v[i].outcome]++;
	free(x.uids);
	accord_strlist_free(&conflicts);
	return r;
}

void accord_reapply_describe(const struct accord_reapply_entry *e, char *buf, size_t len)
{
	json_object *o = json_tokener_parse(e->line);
	const char *change = jstr(o, "change"), *kind = jstr(o, "kind"), *name = jstr(o, "name");

	snprintf(buf, len, "generation %" PRIu64 ": %s %s %s%s%s", e->gen,
		 change ? change : "?", kind ? kind : "?", name ? name : "?",
		 e->why ? ": " : "", e->why ? e->why : "");
	json_object_put(o);
}
