/* SPDX-License-Identifier: MIT */
/*
 * Applications (APPL class) and swap rules in the state: see state.h.
 * Like the profile operations in state.c, every operation checks all of
 * its input (and reserves what it will need) before it changes anything.
 */
#include <accord/state.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"
#include "state_priv.h"

static const char *appl_key(const void *ctx, uint32_t v)
{
	const struct accord_state *st = ctx;

	return st->appls[v].name;
}

int state_appls_init(struct accord_state *st)
{
	return strmap_init(&st->appl_by_name, appl_key, st, 16);
}

static void free_entries(struct accord_appl *a)
{
	uint32_t k;

	for (k = 0; k < a->nentries; k++)
		free(a->entries[k].name);
	free(a->entries);
	a->entries = NULL;
	a->nentries = a->cap = 0;
}

void state_appls_free(struct accord_state *st)
{
	size_t i;

	for (i = 0; i < st->nappls; i++) {
		free_entries(&st->appls[i]);
		free(st->appls[i].name);
	}
	for (i = 0; i < st->nswaps; i++) {
		free(st->swaps[i].from);
		free(st->swaps[i].to);
	}
	free(st->appls);
	free(st->swaps);
	strmap_free(&st->appl_by_name);
	st->appls = NULL;
	st->swaps = NULL;
	st->nappls = st->nswaps = 0;
}

/* ---- helpers ---------------------------------------------------------- */

static const char *kind_name(uint32_t kind)
{
	return kind == ACCORD_ACE_USER ? "user" : "group";
}

static int check_access(const char *what, uint32_t access, struct accord_err *err)
{
	if (access != ACCORD_ACCESS_NONE && access != ACCORD_ACCESS_READ)
		return accord_err_set(err, -EINVAL, "%s must be NONE or READ", what);
	return 0;
}

static int check_kind(uint32_t kind, struct accord_err *err)
{
	if (kind != ACCORD_ACE_USER && kind != ACCORD_ACE_GROUP)
		return accord_err_set(err, -EINVAL,
				      "an access-list entry is for a user or a group");
	return 0;
}

static struct accord_appl *find_appl(const struct accord_state *st,
				     const char *name)
{
	uint32_t i;

	return strmap_get(&st->appl_by_name, name, &i) ? &st->appls[i] : NULL;
}

static int find_appl_or_fail(const struct accord_state *st, const char *name,
			     struct accord_appl **a, struct accord_err *err)
{
	*a = find_appl(st, name);
	if (!*a)
		return accord_err_set(err, -ENOENT,
				      "application '%s' does not exist (define it with "
				      "'accordctl appl add %s')", name, name);
	return 0;
}

static int ace_cmp(uint32_t kind, const char *name, const struct accord_ace *e)
{
	if (kind != e->kind)
		return kind < e->kind ? -1 : 1;
	return strcmp(name, e->name);
}

/* The entry (kind, name) of a sorted access list: true and its index, or
 * false and where it would go. */
static bool find_entry(const struct accord_appl *a, uint32_t kind,
		       const char *name, uint32_t *at)
{
	uint32_t lo = 0, hi = a->nentries;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = ace_cmp(kind, name, &a->entries[mid]);

		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return false;
}

static void remove_entry(struct accord_appl *a, uint32_t at)
{
	free(a->entries[at].name);
	memmove(&a->entries[at], &a->entries[at + 1],
		(a->nentries - at - 1) * sizeof(*a->entries));
	a->nentries--;
}

static int reserve_appls(struct accord_state *st, size_t n)
{
	return state_grow((void **)&st->appls, &st->cap_appls, st->nappls + n,
			  sizeof(*st->appls));
}

static int reserve_swaps(struct accord_state *st, size_t n)
{
	return state_grow((void **)&st->swaps, &st->cap_swaps, st->nswaps + n,
			  sizeof(*st->swaps));
}

/* Appends a live application (capacity reserved); on failure nothing
 * changed and the caller still owns a's allocations. */
static int push_appl(struct accord_state *st, const struct accord_appl *a)
{
	int r;

	st->appls[st->nappls++] = *a;
	r = strmap_put(&st->appl_by_name, (uint32_t)(st->nappls - 1));
	if (r < 0) {
		st->nappls--;
		return r;
	}
	st->live_appls++;
	return 0;
}

static struct accord_swap_rule *find_swap(const struct accord_state *st,
					  const char *from, const char *to)
{
	size_t i;

	for (i = 0; i < st->nswaps; i++) {
		struct accord_swap_rule *w = &st->swaps[i];

		if (w->live && strcmp(w->from, from) == 0 && strcmp(w->to, to) == 0)
			return w;
	}
	return NULL;
}

/* ---- applications ---------------------------------------------------- */

int accord_appl_add(struct accord_state *st, const char *name, uint32_t uacc,
		    struct accord_err *err)
{
	struct accord_appl a = {
		.uacc = uacc, .created = st->now, .changed = st->now, .live = true,
		.old_off = ACCORD_NOT_LOADED,
	};
	int r;

	r = accord_check_name("application name", name, err);
	if (r == 0)
		r = check_access("the universal access (UACC)", uacc, err);
	if (r < 0)
		return r;
	if (find_appl(st, name))
		return accord_err_set(err, -EEXIST, "application '%s' already exists", name);
	if (reserve_appls(st, 1) < 0 || !(a.name = strdup(name)))
		return accord_err_set(err, -ENOMEM, "out of memory");
	r = push_appl(st, &a);
	if (r < 0) {
		free(a.name);
		return accord_err_set(err, r, "out of memory");
	}
	return 0;
}

int accord_appl_del(struct accord_state *st, const char *name,
		    struct accord_err *err)
{
	struct accord_appl *a;
	int r = find_appl_or_fail(st, name, &a, err);

	if (r < 0)
		return r;
	strmap_del(&st->appl_by_name, a->name);
	free_entries(a);
	a->live = false;
	st->live_appls--;
	return 0;
}

int accord_appl_set_uacc(struct accord_state *st, const char *name,
			 uint32_t uacc, struct accord_err *err)
{
	struct accord_appl *a;
	int r = find_appl_or_fail(st, name, &a, err);

	if (r == 0)
		r = check_access("the universal access (UACC)", uacc, err);
	if (r < 0)
		return r;
	if (a->uacc == uacc)
		return 1;
	a->uacc = uacc;
	a->changed = st->now;
	return 0;
}

int accord_appl_permit(struct accord_state *st, const char *appl,
		       uint32_t kind, const char *who, uint32_t access,
		       struct accord_err *err)
{
	struct accord_appl *a;
	struct accord_ace e;
	uint32_t at;
	int r = find_appl_or_fail(st, appl, &a, err);

	if (r == 0)
		r = check_kind(kind, err);
	if (r == 0)
		r = check_access("the access level", access, err);
	if (r < 0)
		return r;
	if (kind == ACCORD_ACE_USER && !state_find_user(st, who))
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", who);
	if (kind == ACCORD_ACE_GROUP && !state_find_group(st, who))
		return accord_err_set(err, -ENOENT, "group '%s' does not exist", who);
	if (find_entry(a, kind, who, &at)) {
		if (a->entries[at].access == access)
			return 1;
		a->entries[at].access = access;
		a->changed = st->now;
		return 0;
	}
	if (a->nentries >= SNAP_MAX_APPL_ENTRIES)
		return accord_err_set(err, -E2BIG,
				      "application '%s' has %u access-list entries, the limit; "
				      "permit a group instead", appl, SNAP_MAX_APPL_ENTRIES);
	if (a->nentries == a->cap) {
		uint32_t ncap = a->cap ? a->cap * 2 : 4;
		struct accord_ace *v = realloc(a->entries, ncap * sizeof(*v));

		if (!v)
			return accord_err_set(err, -ENOMEM, "out of memory");
		a->entries = v;
		a->cap = ncap;
	}
	e = (struct accord_ace){ .kind = kind, .access = access, .name = strdup(who) };
	if (!e.name)
		return accord_err_set(err, -ENOMEM, "out of memory");
	memmove(&a->entries[at + 1], &a->entries[at],
		(a->nentries - at) * sizeof(*a->entries));
	a->entries[at] = e;
	a->nentries++;
	a->changed = st->now;
	return 0;
}

int accord_appl_revoke_access(struct accord_state *st, const char *appl,
			      uint32_t kind, const char *who,
			      struct accord_err *err)
{
	struct accord_appl *a;
	uint32_t at;
	int r = find_appl_or_fail(st, appl, &a, err);

	if (r == 0)
		r = check_kind(kind, err);
	if (r < 0)
		return r;
	if (!find_entry(a, kind, who, &at))
		return accord_err_set(err, -ENOENT,
				      "%s '%s' has no entry in the access list of application '%s'",
				      kind_name(kind), who, appl);
	remove_entry(a, at);
	a->changed = st->now;
	return 0;
}

size_t accord_state_appl_slots(const struct accord_state *st)
{
	return st->nappls;
}

const struct accord_appl *accord_state_appl_at(const struct accord_state *st,
					       size_t i)
{
	return i < st->nappls ? &st->appls[i] : NULL;
}

const struct accord_appl *accord_state_appl(const struct accord_state *st,
					    const char *name)
{
	return find_appl(st, name);
}

/* ---- swap rules ------------------------------------------------------- */

int accord_swap_set(struct accord_state *st, uint32_t kind, const char *from,
		    const char *to, struct accord_err *err)
{
	struct accord_swap_rule w = {
		.kind = kind, .created = st->now, .live = true,
		.old_off = ACCORD_NOT_LOADED,
	}, *old;
	int r;

	if (kind != ACCORD_SWAP_PERMIT && kind != ACCORD_SWAP_DENY)
		return accord_err_set(err, -EINVAL, "a swap rule permits or denies");
	if (!state_find_group(st, from))
		return accord_err_set(err, -ENOENT, "group '%s' does not exist", from);
	r = accord_check_name("swap target", to, err);
	if (r < 0)
		return r;
	old = find_swap(st, from, to);
	if (old) {
		if (old->kind == kind)
			return 1;
		old->kind = kind;
		return 0;
	}
	if (reserve_swaps(st, 1) < 0)
		return accord_err_set(err, -ENOMEM, "out of memory");
	w.from = strdup(from);
	w.to = strdup(to);
	if (!w.from || !w.to) {
		free(w.from);
		free(w.to);
		return accord_err_set(err, -ENOMEM, "out of memory");
	}
	st->swaps[st->nswaps++] = w;
	st->live_swaps++;
	return 0;
}

int accord_swap_del(struct accord_state *st, const char *from, const char *to,
		    struct accord_err *err)
{
	struct accord_swap_rule *w = find_swap(st, from, to);

	if (!w)
		return accord_err_set(err, -ENOENT,
				      "there is no swap rule from group '%s' to '%s'", from, to);
	w->live = false;
	st->live_swaps--;
	return 0;
}

size_t accord_state_swap_slots(const struct accord_state *st)
{
	return st->nswaps;
}

const struct accord_swap_rule *accord_state_swap_at(const struct accord_state *st,
						    size_t i)
{
	return i < st->nswaps ? &st->swaps[i] : NULL;
}

/* ---- cascades of user del and group del ------------------------------ */

static void forget_entries(struct accord_state *st, uint32_t kind,
			   const char *name)
{
	size_t i;
	uint32_t at;

	for (i = 0; i < st->nappls; i++) {
		struct accord_appl *a = &st->appls[i];

		if (a->live && find_entry(a, kind, name, &at)) {
			remove_entry(a, at);
			a->changed = st->now;
		}
	}
}

void state_appls_forget_user(struct accord_state *st, const char *name)
{
	forget_entries(st, ACCORD_ACE_USER, name);
}

void state_appls_forget_group(struct accord_state *st, const char *name)
{
	size_t i;

	forget_entries(st, ACCORD_ACE_GROUP, name);
	for (i = 0; i < st->nswaps; i++)
		if (st->swaps[i].live && strcmp(st->swaps[i].from, name) == 0) {
			st->swaps[i].live = false;
			st->live_swaps--;
		}
}

/* ---- loading ------------------------------------------------------------ */

/* One application record into a (not yet pushed): 0, -ENOMEM, -EBADMSG. */
static int load_appl(struct accord_state *st, const struct accord_snap_appl *sa,
		     struct accord_appl *a)
{
	struct accord_snap_ace e;
	size_t pos = 0;
	int r;

	if (accord_check_name("application name", sa->name, NULL) < 0)
		return -EBADMSG;
	*a = (struct accord_appl){
		.uacc = sa->uacc, .created = sa->created, .changed = sa->changed,
		.live = true, .old_off = sa->off,
	};
	a->name = state_dup_n(sa->name, sa->name_len);
	a->entries = calloc((size_t)sa->nentries + 1, sizeof(*a->entries));
	a->cap = sa->nentries + 1;
	if (!a->name || !a->entries)
		return -ENOMEM;
	while ((r = accord_snap_appl_entry(sa, &pos, &e)) == 0) {
		struct accord_ace *prev = a->nentries ? &a->entries[a->nentries - 1] : NULL;

		/* sorted and unique, for a user or group that exists */
		if (a->nentries >= sa->nentries || (prev && ace_cmp(e.kind, e.name, prev) <= 0))
			return -EBADMSG;
		if (e.kind == ACCORD_ACE_USER ? !state_find_user(st, e.name)
					      : !state_find_group(st, e.name))
			return -EBADMSG;
		a->entries[a->nentries].kind = e.kind;
		a->entries[a->nentries].access = e.access;
		a->entries[a->nentries].name = state_dup_n(e.name, e.name_len);
		if (!a->entries[a->nentries].name)
			return -ENOMEM;
		a->nentries++;
	}
	if (r != -ENOENT || a->nentries != sa->nentries)
		return -EBADMSG;
	return 0;
}

int state_appls_load(struct accord_state *st, const struct accord_snapshot *snap)
{
	struct accord_snap_appl sa;
	struct accord_snap_swap sw;
	uint64_t cur;
	int r;

	/* sized by counts only after checking the sections can hold them */
	if (snap->appl_count > snap->appls.size / SNAP_APPL_FIXED ||
	    snap->swap_count > snap->swaps.size / SNAP_SWAP_FIXED)
		return -EBADMSG;
	if (reserve_appls(st, snap->appl_count) < 0 || reserve_swaps(st, snap->swap_count) < 0)
		return -ENOMEM;
	for (cur = 0; (r = accord_snap_appl_next(snap, &cur, &sa)) == 0;) {
		struct accord_appl a = { 0 };

		if (reserve_appls(st, 1) < 0)
			return -ENOMEM;
		r = load_appl(st, &sa, &a);
		if (r == 0)
			r = push_appl(st, &a);
		if (r < 0) {
			free_entries(&a);
			free(a.name);
			return r == -EEXIST ? -EBADMSG : r;
		}
	}
	if (r != -ENOENT || st->nappls != snap->appl_count)
		return -EBADMSG;
	for (cur = 0; (r = accord_snap_swap_next(snap, &cur, &sw)) == 0;) {
		struct accord_swap_rule w = {
			.kind = sw.kind, .created = sw.created, .live = true,
			.old_off = sw.off,
		};

		if (!state_find_group(st, sw.from) ||
		    accord_check_name("swap target", sw.to, NULL) < 0)
			return -EBADMSG;
		/* sorted by (to, from) and unique, as the writer stores them */
		if (st->nswaps) {
			const struct accord_swap_rule *prev = &st->swaps[st->nswaps - 1];
			int c = strcmp(prev->to, sw.to);

			if (c > 0 || (c == 0 && strcmp(prev->from, sw.from) >= 0))
				return -EBADMSG;
		}
		if (reserve_swaps(st, 1) < 0)
			return -ENOMEM;
		w.from = state_dup_n(sw.from, sw.from_len);
		w.to = state_dup_n(sw.to, sw.to_len);
		if (!w.from || !w.to) {
			free(w.from);
			free(w.to);
			return -ENOMEM;
		}
		st->swaps[st->nswaps++] = w;
		st->live_swaps++;
	}
	if (r != -ENOENT || st->nswaps != snap->swap_count)
		return -EBADMSG;
	return 0;
}
