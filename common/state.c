/* SPDX-License-Identifier: MIT */
/*
 * The registry's state in memory and the operations on it.  Every
 * operation validates all of its input before it changes anything, so a
 * refused operation leaves the state exactly as it was.
 */
#include <accord/passticket.h>
#include <accord/state.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "snapshot_format.h"
#include "state_priv.h"

static const char *user_key(const void *ctx, uint32_t v)
{
	const struct accord_state *st = ctx;

	return st->users[v].name;
}

static const char *group_key(const void *ctx, uint32_t v)
{
	const struct accord_state *st = ctx;

	return st->groups[v].name;
}

static struct accord_state *state_alloc(size_t nusers, size_t ngroups,
					size_t ntombs)
{
	struct accord_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (strmap_init(&st->user_by_name, user_key, st, nusers) ||
	    strmap_init(&st->group_by_name, group_key, st, ngroups) ||
	    idmap_init(&st->uid_count, nusers) || idmap_init(&st->gid_first, ngroups) ||
	    idmap_init(&st->gid_count, ngroups) || idmap_init(&st->tomb_uid, ntombs) ||
	    idmap_init(&st->tomb_gid, ntombs) || state_appls_init(st)) {
		accord_state_free(st);
		return NULL;
	}
	st->actor = strdup("unknown");
	if (!st->actor) {
		accord_state_free(st);
		return NULL;
	}
	return st;
}

struct accord_state *accord_state_new(const struct accord_range *uids,
				      const struct accord_range *gids)
{
	struct accord_state *st = state_alloc(16, 16, 16);

	if (!st)
		return NULL;
	st->uids = *uids;
	st->gids = *gids;
	st->next_uid = uids->lo;
	st->next_gid = gids->lo;
	return st;
}

/* Frees a field unless it lives in the user's load block. */
static void free_field(const struct accord_user *u, char *f)
{
	if (f && !(u->block && f >= u->block && f < u->block + u->block_len))
		free(f);
}

static void free_user(struct accord_user *u)
{
	free_field(u, u->name);
	free_field(u, u->gecos);
	free_field(u, u->home);
	free_field(u, u->shell);
	free_field(u, u->reason);
	free_field(u, u->racf_id);
	free(u->block);
}

void accord_state_free(struct accord_state *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->nusers; i++)
		free_user(&st->users[i]);
	for (i = 0; i < st->ngroups; i++) {
		free(st->groups[i].name);
		free(st->groups[i].members);
	}
	for (i = 0; i < st->ntombs; i++) {
		free(st->tombs[i].name);
		free(st->tombs[i].by);
	}
	state_appls_free(st);
	state_certs_free(st);
	free(st->users);
	free(st->groups);
	free(st->tombs);
	strmap_free(&st->user_by_name);
	strmap_free(&st->group_by_name);
	idmap_free(&st->uid_count);
	idmap_free(&st->gid_first);
	idmap_free(&st->gid_count);
	idmap_free(&st->tomb_uid);
	idmap_free(&st->tomb_gid);
	free(st->actor);
	free(st);
}

void accord_state_set_actor(struct accord_state *st, int64_t now,
			    const char *actor)
{
	char *a = strdup(actor ? actor : "unknown");

	st->now = now;
	if (a) {
		free(st->actor);
		st->actor = a;
	}
}

/* ---- growth helpers ------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int state_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	return grow(arr, cap, need, elem);
}

static int reserve_users(struct accord_state *st, size_t n)
{
	return grow((void **)&st->users, &st->cap_users, st->nusers + n,
		    sizeof(*st->users));
}

static int reserve_groups(struct accord_state *st, size_t n)
{
	return grow((void **)&st->groups, &st->cap_groups, st->ngroups + n,
		    sizeof(*st->groups));
}

static int reserve_tombs(struct accord_state *st, size_t n)
{
	return grow((void **)&st->tombs, &st->cap_tombs, st->ntombs + n,
		    sizeof(*st->tombs));
}

/* Appends a live user (strings already allocated); capacity reserved. */
static int push_user(struct accord_state *st, const struct accord_user *u)
{
	uint32_t idx = (uint32_t)st->nusers;
	int r;

	st->users[st->nusers++] = *u;
	r = strmap_put(&st->user_by_name, idx);
	if (r == 0)
		r = idmap_inc(&st->uid_count, u->uid);
	if (r < 0) {
		strmap_del(&st->user_by_name, u->name);
		st->nusers--;
		return r;
	}
	st->live_users++;
	return 0;
}

static int push_group(struct accord_state *st, const struct accord_group *g)
{
	uint32_t idx = (uint32_t)st->ngroups, first;
	int r;

	st->groups[st->ngroups++] = *g;
	r = strmap_put(&st->group_by_name, idx);
	if (r == 0)
		r = idmap_inc(&st->gid_count, g->gid);
	if (r == 0 && !idmap_get(&st->gid_first, g->gid, &first))
		r = idmap_put(&st->gid_first, g->gid, idx);
	if (r < 0) {
		strmap_del(&st->group_by_name, g->name);
		st->ngroups--;
		return r;
	}
	st->live_groups++;
	return 0;
}

static int push_tomb(struct accord_state *st, uint32_t kind, uint32_t id,
		     const char *name, int64_t when, const char *by)
{
	struct accord_tombstone *t;
	int r;

	r = reserve_tombs(st, 1);
	if (r < 0)
		return r;
	t = &st->tombs[st->ntombs];
	t->kind = kind;
	t->id = id;
	t->deleted_at = when;
	t->name = strdup(name);
	t->by = strdup(by ? by : "");
	if (!t->name || !t->by) {
		free(t->name);
		free(t->by);
		return -ENOMEM;
	}
	r = idmap_inc(kind == ACCORD_TOMB_USER ? &st->tomb_uid : &st->tomb_gid, id);
	if (r < 0) {
		free(t->name);
		free(t->by);
		return r;
	}
	st->ntombs++;
	return 0;
}

/* ---- loading from a snapshot ---------------------------------------- */

char *state_dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/*
 * The dates section, against what the user records found in it: sorted
 * and unique by record offset, every entry with a date, and as many
 * entries as users that got a date (so each entry belongs to one user).
 * What the deep check refuses; the dates themselves were checked by the
 * caller.
 */
static int check_user_dates(const struct accord_snapshot *snap, size_t ndated)
{
	const unsigned char *p = snap->base + snap->user_dates.off;
	uint64_t i, n = snap->user_dates.size / SNAP_USER_DATES_ENTRY;

	if (n != ndated)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		const unsigned char *e = p + i * SNAP_USER_DATES_ENTRY;
		uint32_t prev = i ? snap_get32(e - SNAP_USER_DATES_ENTRY) : 0;

		if (snap_get32(e + 4) || (i && snap_get32(e) <= prev) ||
		    (snap_get64(e + 8) == 0 && snap_get64(e + 16) == 0))
			return -EBADMSG;
	}
	return 0;
}

/* The RACF ID section, against the users that got an alias: as many
 * entries as aliases read (so each entry belongs to one user), sorted and
 * unique by record offset. */
static int check_user_racfid(const struct accord_snapshot *snap, size_t nracf)
{
	const unsigned char *p = snap->base + snap->user_racfid.off;
	uint64_t i, n = snap->user_racfid.size / SNAP_USER_RACFID_ENTRY;

	if (n != nracf)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		const unsigned char *e = p + i * SNAP_USER_RACFID_ENTRY;

		if ((i && snap_get32(e) <= snap_get32(e - SNAP_USER_RACFID_ENTRY)) ||
		    !snap_racfid_ok(e))
			return -EBADMSG;
	}
	return 0;
}

int accord_state_from_snapshot(const struct accord_snapshot *snap,
			       struct accord_state **out,
			       struct accord_err *err)
{
	struct accord_state *st;
	struct accord_snap_meta m;
	struct accord_snap_user su;
	struct accord_snap_group sg;
	struct accord_snap_tomb stb;
	uint64_t cur;
	size_t i, ndated = 0, nracf = 0;
	int r;

	/* An older writer must not rewrite what a newer one wrote: it would
	 * drop the sections it cannot see. */
	if (snap->unknown_sections)
		return accord_err_set(err, -EPROTONOSUPPORT,
				      "the snapshot has sections this accordctl does not know "
				      "(written by a newer version); refusing to rewrite it");
	/* A writer checks only the checksum before loading (txn_begin), so
	 * this loader refuses what the deep verify would, lest damage reach
	 * the next generation; and it sizes nothing by counts the sections
	 * cannot hold. */
	accord_snap_meta(snap, &m);
	if (snap->user_count > snap->users.size / SNAP_USER_FIXED ||
	    snap->group_count > snap->groups.size / SNAP_GROUP_FIXED ||
	    snap->tombstone_count > snap->tombstones.size / SNAP_TOMB_FIXED ||
	    m.uid_lo > m.uid_hi || m.gid_lo > m.gid_hi)
		return accord_err_set(err, -EBADMSG,
				      "the snapshot's records are damaged or inconsistent");
	st = state_alloc(snap->user_count, snap->group_count, snap->tombstone_count);
	if (!st)
		return accord_err_set(err, -ENOMEM, "out of memory");
	st->uids.lo = m.uid_lo;
	st->uids.hi = m.uid_hi;
	st->gids.lo = m.gid_lo;
	st->gids.hi = m.gid_hi;
	st->next_uid = m.next_uid;
	st->next_gid = m.next_gid;
	r = reserve_users(st, snap->user_count);
	if (r == 0)
		r = reserve_groups(st, snap->group_count);
	if (r == 0)
		r = reserve_tombs(st, snap->tombstone_count);
	if (r < 0)
		goto nomem;
	for (cur = 0; (r = accord_snap_user_next(snap, &cur, &su)) == 0;) {
		struct accord_user u = {
			.uid = su.uid, .gid = su.gid, .flags = su.flags,
			.created = su.created, .changed = su.changed, .live = true,
			.old_off = su.off, .revoke_date = su.revoke_date,
			.resume_date = su.resume_date,
		};
		char *b;

		if ((su.flags & ~ACCORD_USER_FLAGS_KNOWN) ||
		    accord_user_status(su.flags) > ACCORD_STATUS_REVOKED ||
		    su.revoke_date < 0 || su.resume_date < 0)
			goto damaged;
		if (su.revoke_date || su.resume_date)
			ndated++;
		/* what the operations would refuse must not be carried into the
		 * next generation either (a ':' would corrupt passwd lines) */
		if (accord_check_name("user name", su.name, NULL) < 0 ||
		    accord_check_field("GECOS", su.gecos, ACCORD_GECOS_MAX, false, NULL) < 0 ||
		    accord_check_field("home", su.home, ACCORD_PATH_MAX, true, NULL) < 0 ||
		    accord_check_field("shell", su.shell, ACCORD_PATH_MAX, true, NULL) < 0 ||
		    accord_check_field("reason", su.reason, ACCORD_REASON_MAX, false, NULL) < 0)
			goto damaged;
		if ((r = reserve_users(st, 1)) < 0)
			goto nomem;
		/* the five strings lie back to back in the record: one copy */
		u.block_len = (size_t)(su.reason + su.reason_len + 1 - su.name);
		u.block = malloc(u.block_len);
		if (!u.block)
			goto nomem;
		memcpy(u.block, su.name, u.block_len);
		b = u.block;
		u.name = b;
		u.gecos = b + (su.gecos - su.name);
		u.home = b + (su.home - su.name);
		u.shell = b + (su.shell - su.name);
		u.reason = b + (su.reason - su.name);
		if (su.racf_id[0]) {
			nracf++;
			u.racf_id = strdup(su.racf_id);
			if (!u.racf_id) {
				free_user(&u);
				goto nomem;
			}
		}
		r = push_user(st, &u);
		if (r < 0) {
			free_user(&u);
			if (r == -EEXIST)
				goto damaged;
			goto nomem;
		}
	}
	if (r != -ENOENT)
		goto damaged;
	for (cur = 0; (r = accord_snap_group_next(snap, &cur, &sg)) == 0;) {
		struct accord_group g = {
			.gid = sg.gid, .flags = sg.flags, .created = sg.created,
			.changed = sg.changed, .live = true, .old_off = sg.off,
		};
		const char *mn;
		size_t pos = 0;

		if (accord_check_name("group name", sg.name, NULL) < 0)
			goto damaged;
		if ((r = reserve_groups(st, 1)) < 0)
			goto nomem;
		g.name = state_dup_n(sg.name, sg.name_len);
		g.members = malloc(((size_t)sg.nmembers + 1) * sizeof(*g.members));
		g.cap = sg.nmembers + 1;
		if (!g.name || !g.members) {
			free(g.name);
			free(g.members);
			goto nomem;
		}
		while ((mn = accord_snap_group_member(&sg, &pos))) {
			uint32_t ui;

			if (g.nmembers >= sg.nmembers ||
			    !strmap_get(&st->user_by_name, mn, &ui)) {
				free(g.name);
				free(g.members);
				goto damaged;
			}
			g.members[g.nmembers++] = ui;
		}
		r = push_group(st, &g);
		if (r < 0) {
			free(g.name);
			free(g.members);
			if (r == -EEXIST)
				goto damaged;
			goto nomem;
		}
	}
	if (r != -ENOENT)
		goto damaged;
	for (cur = 0; (r = accord_snap_tomb_next(snap, &cur, &stb)) == 0;) {
		char *name, *by;

		if (stb.kind != ACCORD_TOMB_USER && stb.kind != ACCORD_TOMB_GROUP)
			goto damaged;
		name = state_dup_n(stb.name, stb.name_len);
		by = state_dup_n(stb.by, stb.by_len);
		r = (name && by) ? push_tomb(st, stb.kind, stb.id, name, stb.deleted_at, by)
				 : -ENOMEM;
		free(name);
		free(by);
		if (r < 0)
			goto nomem;
	}
	if (r != -ENOENT)
		goto damaged;
	if (st->nusers != snap->user_count || st->ngroups != snap->group_count ||
	    st->ntombs != snap->tombstone_count || check_user_dates(snap, ndated) ||
	    check_user_racfid(snap, nracf))
		goto damaged;
	for (i = 0; i < st->nusers; i++)
		if (!idmap_count(&st->gid_count, st->users[i].gid))
			goto damaged; /* a primary group that does not exist */
	r = state_appls_load(st, snap);
	if (r == 0)
		r = state_certs_load(st, snap);
	if (r == -ENOMEM)
		goto nomem;
	if (r < 0)
		goto damaged;
	*out = st;
	return 0;
nomem:
	accord_state_free(st);
	return accord_err_set(err, -ENOMEM, "out of memory while loading the snapshot");
damaged:
	accord_state_free(st);
	return accord_err_set(err, -EBADMSG,
			      "the snapshot's records are damaged or inconsistent");
}

/* ---- read access ---------------------------------------------------- */

size_t accord_state_user_count(const struct accord_state *st)
{
	return st->live_users;
}

size_t accord_state_group_count(const struct accord_state *st)
{
	return st->live_groups;
}

size_t accord_state_user_slots(const struct accord_state *st)
{
	return st->nusers;
}

size_t accord_state_group_slots(const struct accord_state *st)
{
	return st->ngroups;
}

size_t accord_state_tomb_count(const struct accord_state *st)
{
	return st->ntombs;
}

const struct accord_user *accord_state_user_at(const struct accord_state *st,
					       size_t i)
{
	return i < st->nusers ? &st->users[i] : NULL;
}

const struct accord_group *accord_state_group_at(const struct accord_state *st,
						 size_t i)
{
	return i < st->ngroups ? &st->groups[i] : NULL;
}

const struct accord_tombstone *accord_state_tomb_at(const struct accord_state *st,
						    size_t i)
{
	return i < st->ntombs ? &st->tombs[i] : NULL;
}

static struct accord_user *find_user(const struct accord_state *st,
				     const char *name)
{
	uint32_t i;

	return strmap_get(&st->user_by_name, name, &i) ? &st->users[i] : NULL;
}

static struct accord_group *find_group(const struct accord_state *st,
				       const char *name)
{
	uint32_t i;

	return strmap_get(&st->group_by_name, name, &i) ? &st->groups[i] : NULL;
}

struct accord_user *state_find_user(const struct accord_state *st,
				    const char *name)
{
	return find_user(st, name);
}

struct accord_group *state_find_group(const struct accord_state *st,
				      const char *name)
{
	return find_group(st, name);
}

const struct accord_user *accord_state_user(const struct accord_state *st,
					    const char *name)
{
	return find_user(st, name);
}

const struct accord_group *accord_state_group(const struct accord_state *st,
					      const char *name)
{
	return find_group(st, name);
}

const struct accord_group *accord_state_group_by_gid(const struct accord_state *st,
						     uint32_t gid)
{
	uint32_t i;

	return idmap_get(&st->gid_first, gid, &i) ? &st->groups[i] : NULL;
}

void accord_state_ranges(const struct accord_state *st,
			 struct accord_range *uids, struct accord_range *gids,
			 uint32_t *next_uid, uint32_t *next_gid)
{
	if (uids)
		*uids = st->uids;
	if (gids)
		*gids = st->gids;
	if (next_uid)
		*next_uid = st->next_uid;
	if (next_gid)
		*next_gid = st->next_gid;
}

static int cmp_group_gid(const void *a, const void *b, void *ctx)
{
	const struct accord_state *st = ctx;
	uint32_t x = st->groups[*(const uint32_t *)a].gid;
	uint32_t y = st->groups[*(const uint32_t *)b].gid;

	return x < y ? -1 : x > y;
}

int accord_state_user_groups(const struct accord_state *st, const char *name,
			     uint32_t **out)
{
	uint32_t ui, *list = NULL;
	size_t n = 0, cap = 0, gi;

	*out = NULL;
	if (!strmap_get(&st->user_by_name, name, &ui))
		return 0;
	for (gi = 0; gi < st->ngroups; gi++) {
		const struct accord_group *g = &st->groups[gi];
		uint32_t k;

		if (!g->live)
			continue;
		for (k = 0; k < g->nmembers; k++)
			if (g->members[k] == ui) {
				if (grow((void **)&list, &cap, n + 1, sizeof(*list)) < 0) {
					free(list);
					return -ENOMEM;
				}
				list[n++] = (uint32_t)gi;
				break;
			}
	}
	if (n > 1) /* list is NULL when n == 0: qsort_r's argument is nonnull */
		qsort_r(list, n, sizeof(*list), cmp_group_gid, (void *)(uintptr_t)st);
	*out = list;
	return (int)n;
}

/* ---- IDs ------------------------------------------------------------ */

static bool uid_taken(const struct accord_state *st, uint32_t id)
{
	return idmap_count(&st->uid_count, id) || idmap_count(&st->tomb_uid, id);
}

static bool gid_taken(const struct accord_state *st, uint32_t id)
{
	return idmap_count(&st->gid_count, id) || idmap_count(&st->tomb_gid, id);
}

/* Never assignable, even with --shared. */
static bool id_forbidden(uint32_t id)
{
	return id == 0 || id == 65535 || id > ACCORD_ID_MAX;
}

static const struct accord_tombstone *find_tomb(const struct accord_state *st,
						uint32_t kind, uint32_t id)
{
	size_t i;

	for (i = st->ntombs; i-- > 0;)
		if (st->tombs[i].kind == kind && st->tombs[i].id == id)
			return &st->tombs[i];
	return NULL;
}

static const char *live_holder(const struct accord_state *st, bool user,
			       uint32_t id)
{
	size_t i;

	if (user) {
		for (i = 0; i < st->nusers; i++)
			if (st->users[i].live && st->users[i].uid == id)
				return st->users[i].name;
	} else {
		const struct accord_group *g = accord_state_group_by_gid(st, id);

		if (g)
			return g->name;
	}
	return "?";
}

/* Checks an explicitly requested ID; `self` is an ID the caller already
 * holds (user mod to the same value), or UINT32_MAX. */
static int check_explicit_id(const struct accord_state *st, bool user,
			     uint32_t id, bool shared, struct accord_err *err)
{
	const char *kind = user ? "uid" : "gid";
	const struct accord_range *r = user ? &st->uids : &st->gids;
	bool live = user ? idmap_count(&st->uid_count, id) > 0
			 : idmap_count(&st->gid_count, id) > 0;
	bool tomb = user ? idmap_count(&st->tomb_uid, id) > 0
			 : idmap_count(&st->tomb_gid, id) > 0;

	if (id_forbidden(id))
		return accord_err_set(err, -EINVAL,
				      "%s %u can never be assigned to a registry %s "
				      "(0, 65535 and IDs above 2147483647 are refused even with --shared)",
				      kind, id, user ? "profile" : "group");
	if (shared)
		return 0;
	if (live)
		return accord_err_set(err, -EEXIST,
				      "%s %u is already held by %s '%s'; IDs are unique "
				      "(use --shared to share it deliberately)",
				      kind, id, user ? "user" : "group",
				      live_holder(st, user, id));
	if (tomb) {
		const struct accord_tombstone *t =
			find_tomb(st, user ? ACCORD_TOMB_USER : ACCORD_TOMB_GROUP, id);

		return accord_err_set(err, -EEXIST,
				      "%s %u belonged to '%s', which was deleted; its tombstone "
				      "reserves the ID so files it owned do not change hands "
				      "(use --shared to reuse it deliberately)",
				      kind, id, t ? t->name : "?");
	}
	if (id < r->lo || id > r->hi)
		return accord_err_set(err, -ERANGE,
				      "%s %u is outside the registry's %s range %u-%u "
				      "(use --shared to assign it anyway)",
				      kind, id, kind, r->lo, r->hi);
	if (accord_id_reserved(id))
		return accord_err_set(err, -ERANGE,
				      "%s %u is reserved (nobody/nogroup or a systemd block) "
				      "(use --shared to assign it anyway)", kind, id);
	return 0;
}

/* Next free ID at or after *next within the range; *next is not moved
 * until the caller commits to the ID. */
static int alloc_id(const struct accord_state *st, bool user, uint32_t *id,
		    struct accord_err *err)
{
	const struct accord_range *r = user ? &st->uids : &st->gids;
	uint64_t v = user ? st->next_uid : st->next_gid;

	if (v < r->lo)
		v = r->lo;
	for (; v <= r->hi; v++) {
		uint32_t c = (uint32_t)v;

		if (accord_id_reserved(c) || id_forbidden(c))
			continue;
		if (user ? uid_taken(st, c) : gid_taken(st, c))
			continue;
		*id = c;
		return 0;
	}
	return accord_err_set(err, -ENOSPC,
			      "the registry's %s range %u-%u is used up (IDs are never "
			      "reused); give an explicit ID or widen the range",
			      user ? "UID" : "GID", r->lo, r->hi);
}

/* The counter follows IDs handed out inside the range; an ID given with
 * --shared outside the range must not push it past the end. */
static void advance_counter(struct accord_state *st, bool user, uint32_t id)
{
	uint32_t *next = user ? &st->next_uid : &st->next_gid;
	const struct accord_range *r = user ? &st->uids : &st->gids;

	if (id >= *next && id >= r->lo && id <= r->hi)
		*next = id + 1;
}

/* ---- group list parsing --------------------------------------------- */

static int resolve_group(const struct accord_state *st, const char *spec,
			 uint32_t *gi, struct accord_err *err)
{
	uint32_t gid;

	if (accord_parse_id(spec, &gid) == 0) {
		if (!idmap_get(&st->gid_first, gid, gi))
			return accord_err_set(err, -ENOENT,
					      "no registry group has gid %u", gid);
		return 0;
	}
	if (!strmap_get(&st->group_by_name, spec, gi))
		return accord_err_set(err, -ENOENT,
				      "group '%s' does not exist (create it with "
				      "'accordctl group add %s')", spec, spec);
	return 0;
}

/* Parses "g1,g2" into unique group indexes; *out malloc'd. */
static int parse_group_list(const struct accord_state *st, const char *list,
			    uint32_t **out, size_t *n, struct accord_err *err)
{
	char *copy = strdup(list), *tok, *save = NULL;
	uint32_t *arr = NULL;
	size_t cnt = 0, cap = 0, k;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!copy)
		return accord_err_set(err, -ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t gi;

		r = resolve_group(st, tok, &gi, err);
		if (r < 0)
			goto out;
		for (k = 0; k < cnt && arr[k] != gi; k++)
			;
		if (k < cnt)
			continue;
		if (cnt >= 65536) {
			r = accord_err_set(err, -E2BIG, "too many groups");
			goto out;
		}
		r = grow((void **)&arr, &cap, cnt + 1, sizeof(*arr));
		if (r < 0) {
			accord_err_set(err, r, "out of memory");
			goto out;
		}
		arr[cnt++] = gi;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
out:
	free(arr);
	free(copy);
	return r;
}

static int add_member(struct accord_group *g, uint32_t ui)
{
	uint32_t k;

	for (k = 0; k < g->nmembers; k++)
		if (g->members[k] == ui)
			return 1;
	if (g->nmembers >= ACCORD_MAX_MEMBERS)
		return -E2BIG;
	if (g->nmembers == g->cap) {
		uint32_t ncap = g->cap ? g->cap * 2 : 4;
		uint32_t *m = realloc(g->members, ncap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		g->members = m;
		g->cap = ncap;
	}
	g->members[g->nmembers++] = ui;
	return 0;
}

static int del_member(struct accord_group *g, uint32_t ui)
{
	uint32_t k;

	for (k = 0; k < g->nmembers; k++)
		if (g->members[k] == ui) {
			memmove(&g->members[k], &g->members[k + 1],
				(g->nmembers - k - 1) * sizeof(*g->members));
			g->nmembers--;
			return 0;
		}
	return 1;
}

/* Room for one more member in each of gis[]: checked before changing. */
static int check_member_room(const struct accord_state *st, const uint32_t *gis,
			     size_t n, struct accord_err *err)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (st->groups[gis[k]].nmembers >= ACCORD_MAX_MEMBERS)
			return accord_err_set(err, -E2BIG, "group '%s' has %d members, the limit",
					      st->groups[gis[k]].name, ACCORD_MAX_MEMBERS);
	return 0;
}

/* ---- users ---------------------------------------------------------- */

static int check_user_fields(const struct accord_user_spec *s,
			     struct accord_err *err)
{
	int r = 0;

	if (s->gecos)
		r = accord_check_field("GECOS", s->gecos, ACCORD_GECOS_MAX, false, err);
	if (r == 0 && s->home)
		r = accord_check_field("home directory", s->home, ACCORD_PATH_MAX, true, err);
	if (r == 0 && s->shell)
		r = accord_check_field("shell", s->shell, ACCORD_PATH_MAX, true, err);
	if (r == 0 && s->has_revoke_date && s->revoke_date < 0)
		r = accord_err_set(err, -EINVAL, "the revoke date is before 1970 "
				   "(0 clears the date)");
	if (r == 0 && s->has_resume_date && s->resume_date < 0)
		r = accord_err_set(err, -EINVAL, "the resume date is before 1970 "
				   "(0 clears the date)");
	return r;
}

/*
 * A RACF user ID alias for the user `name` at index self (SIZE_MAX for a
 * new one): valid (out gets the upper-case form; "" for s == "" or for
 * the name's own upper-case form, which needs no alias), not the
 * alias of another live profile, and not another live profile's name
 * upper-cased (a ticket for that ID would be ambiguous).
 */
static int check_racf_alias(const struct accord_state *st, const char *s,
			    const char *name, size_t self,
			    char out[ACCORD_PT_ID_MAX + 1], struct accord_err *err)
{
	char other[ACCORD_PT_ID_MAX + 1];
	size_t i;
	int r;

	out[0] = '\0';
	if (!s[0])
		return 0;
	r = accord_pt_racf_id("RACF user ID alias", s, out, err);
	if (r < 0)
		return r;
	if (accord_pt_racf_id("user", name, other, NULL) == 0 &&
	    strcmp(other, out) == 0) {
		out[0] = '\0'; /* the profile's own name: no alias needed */
		return 0;
	}
	for (i = 0; i < st->nusers; i++) {
		const struct accord_user *o = &st->users[i];

		if (i == self || !o->live)
			continue;
		if (o->racf_id && strcmp(o->racf_id, out) == 0)
			return accord_err_set(err, -EEXIST, "RACF user ID %s is already the "
					      "alias of user '%s'", out, o->name);
		if (accord_pt_racf_id("user", o->name, other, NULL) == 0 &&
		    strcmp(other, out) == 0)
			return accord_err_set(err, -EEXIST, "RACF user ID %s is the user ID "
					      "of user '%s' (ambiguous)", out, o->name);
	}
	return 0;
}

/* A new profile's name upper-cased must not be another profile's alias. */
static int check_name_vs_aliases(const struct accord_state *st, const char *name,
				 struct accord_err *err)
{
	char id[ACCORD_PT_ID_MAX + 1];
	size_t i;

	if (accord_pt_racf_id("user", name, id, NULL) < 0)
		return 0;
	for (i = 0; i < st->nusers; i++) {
		const struct accord_user *o = &st->users[i];

		if (o->live && o->racf_id && strcmp(o->racf_id, id) == 0)
			return accord_err_set(err, -EEXIST, "the RACF user ID %s of '%s' is "
					      "already the alias of user '%s' (ambiguous)",
					      id, name, o->name);
	}
	return 0;
}

static int make_group(struct accord_state *st, const char *name, uint32_t gid,
		      bool shared)
{
	struct accord_group g = {
		.gid = gid, .flags = shared ? ACCORD_F_SHARED_ID : 0,
		.created = st->now, .changed = st->now, .live = true,
		.old_off = ACCORD_NOT_LOADED,
	};
	int r;

	r = reserve_groups(st, 1);
	if (r < 0)
		return r;
	g.name = strdup(name);
	if (!g.name)
		return -ENOMEM;
	r = push_group(st, &g);
	if (r < 0) {
		free(g.name);
		return r;
	}
	/* like UIDs: an ID given with --shared does not move the counter */
	if (!shared)
		advance_counter(st, false, gid);
	return 0;
}

int accord_user_add(struct accord_state *st, const struct accord_user_spec *s,
		    const struct accord_defaults *def, struct accord_err *err)
{
	struct accord_user u = { 0 };
	uint32_t *sup = NULL, uid, gid = 0, pgi = 0;
	size_t nsup = 0, k;
	bool personal = false;
	char homebuf[ACCORD_PATH_MAX + 2];
	char racf[ACCORD_PT_ID_MAX + 1] = "";
	int r;

	r = accord_check_name("user name", s->name, err);
	if (r < 0)
		return r;
	if (find_user(st, s->name))
		return accord_err_set(err, -EEXIST, "user '%s' already exists (uid %u)",
				      s->name, find_user(st, s->name)->uid);
	r = check_user_fields(s, err);
	if (r == 0)
		r = check_name_vs_aliases(st, s->name, err);
	if (r == 0 && s->racf_id)
		r = check_racf_alias(st, s->racf_id, s->name, SIZE_MAX, racf, err);
	if (r < 0)
		return r;
	if (s->group) {
		r = resolve_group(st, s->group, &pgi, err);
		if (r < 0)
			return r;
		gid = st->groups[pgi].gid;
	} else if (find_group(st, s->name)) {
		return accord_err_set(err, -EEXIST,
				      "a group named '%s' already exists; to make it the primary "
				      "group use --group %s", s->name, s->name);
	} else {
		personal = true;
	}
	if (s->groups && s->groups[0]) {
		r = parse_group_list(st, s->groups, &sup, &nsup, err);
		if (r < 0)
			return r;
	}
	r = check_member_room(st, sup, nsup, err);
	if (r < 0)
		goto out;
	if (s->has_uid) {
		r = check_explicit_id(st, true, s->uid, s->shared, err);
		uid = s->uid;
	} else {
		r = alloc_id(st, true, &uid, err);
	}
	if (r < 0)
		goto out;
	if (personal) {
		/* the personal group takes the same number when it is free, as
		 * useradd does, so that uid == gid for most profiles */
		if (uid >= st->gids.lo && uid <= st->gids.hi && !gid_taken(st, uid) &&
		    !accord_id_reserved(uid))
			gid = uid;
		else if ((r = alloc_id(st, false, &gid, err)) < 0)
			goto out;
	}
	if (!s->home) {
		snprintf(homebuf, sizeof(homebuf), "%s/%s",
			 def && def->home_base ? def->home_base : "/home", s->name);
		r = accord_check_field("home directory", homebuf, ACCORD_PATH_MAX, true, err);
		if (r < 0)
			goto out;
	}
	r = -ENOMEM;
	if (reserve_users(st, 1) < 0 || (personal && reserve_groups(st, 1) < 0))
		goto nomem;
	u.name = strdup(s->name);
	u.gecos = strdup(s->gecos ? s->gecos : "");
	u.home = strdup(s->home ? s->home : homebuf);
	u.shell = strdup(s->shell ? s->shell
				  : (def && def->shell ? def->shell : "/bin/bash"));
	u.reason = strdup("");
	if (!u.name || !u.gecos || !u.home || !u.shell || !u.reason)
		goto nomem;
	if (racf[0] && !(u.racf_id = strdup(racf)))
		goto nomem;
	u.uid = uid;
	u.gid = gid;
	u.old_off = ACCORD_NOT_LOADED;
	/* status enabled (0), plus the SHARED.IDS mark for a deliberate ID */
	u.flags = s->shared && s->has_uid ? ACCORD_F_SHARED_ID : 0;
	u.created = u.changed = st->now;
	u.revoke_date = s->has_revoke_date ? s->revoke_date : 0;
	u.resume_date = s->has_resume_date ? s->resume_date : 0;
	u.live = true;
	if (personal) {
		r = make_group(st, s->name, gid, false);
		if (r < 0)
			goto nomem;
	}
	r = push_user(st, &u);
	if (r < 0)
		goto nomem; /* personal group stays: only on ENOMEM, state is discarded */
	if (!s->has_uid || !s->shared)
		advance_counter(st, true, uid);
	for (k = 0; k < nsup; k++)
		if (add_member(&st->groups[sup[k]], (uint32_t)(st->nusers - 1)) < 0) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	r = 0;
	goto out;
nomem:
	free_user(&u);
	r = accord_err_set(err, -ENOMEM, "out of memory");
out:
	free(sup);
	return r;
}

int accord_user_mod(struct accord_state *st, const struct accord_user_spec *s,
		    struct accord_err *err)
{
	struct accord_user *u = find_user(st, s->name);
	uint32_t *sup = NULL, pgi = 0, ui;
	size_t nsup = 0, k, gi;
	char *gecos = NULL, *home = NULL, *shell = NULL, *racf_id = NULL;
	char racf[ACCORD_PT_ID_MAX + 1] = "";
	bool uid_change;
	int r;

	if (!u)
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", s->name);
	ui = (uint32_t)(u - st->users);
	r = check_user_fields(s, err);
	if (r == 0 && s->racf_id)
		r = check_racf_alias(st, s->racf_id, u->name, ui, racf, err);
	if (r < 0)
		return r;
	if (s->group) {
		r = resolve_group(st, s->group, &pgi, err);
		if (r < 0)
			return r;
	}
	if (s->groups) {
		r = parse_group_list(st, s->groups, &sup, &nsup, err);
		if (r < 0)
			return r;
		r = check_member_room(st, sup, nsup, err);
		if (r < 0)
			goto out;
	}
	uid_change = s->has_uid && s->uid != u->uid;
	if (uid_change) {
		r = check_explicit_id(st, true, s->uid, s->shared, err);
		if (r < 0)
			goto out;
	}
	if ((s->gecos && !(gecos = strdup(s->gecos))) ||
	    (s->home && !(home = strdup(s->home))) ||
	    (s->shell && !(shell = strdup(s->shell))) ||
	    (racf[0] && !(racf_id = strdup(racf))) ||
	    (uid_change && reserve_tombs(st, 1) < 0)) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* everything is checked: apply */
	if (uid_change) {
		/* the old UID may still own files: reserve it like a deletion */
		r = push_tomb(st, ACCORD_TOMB_USER, u->uid, u->name, st->now, st->actor);
		if (r < 0) {
			accord_err_set(err, r, "out of memory");
			goto out;
		}
		idmap_dec(&st->uid_count, u->uid);
		u->uid = s->uid;
		idmap_inc(&st->uid_count, u->uid);
		if (s->shared)
			u->flags |= ACCORD_F_SHARED_ID;
		else
			u->flags &= ~ACCORD_F_SHARED_ID;
		if (!s->shared)
			advance_counter(st, true, u->uid);
	}
	if (gecos) {
		free_field(u, u->gecos);
		u->gecos = gecos;
		gecos = NULL;
	}
	if (home) {
		free_field(u, u->home);
		u->home = home;
		home = NULL;
	}
	if (shell) {
		free_field(u, u->shell);
		u->shell = shell;
		shell = NULL;
	}
	if (s->racf_id) {
		free_field(u, u->racf_id);
		u->racf_id = racf_id; /* NULL clears it */
		racf_id = NULL;
	}
	if (s->group)
		u->gid = st->groups[pgi].gid;
	if (s->has_revoke_date)
		u->revoke_date = s->revoke_date;
	if (s->has_resume_date)
		u->resume_date = s->resume_date;
	if (s->groups) {
		for (gi = 0; gi < st->ngroups; gi++)
			if (st->groups[gi].live)
				del_member(&st->groups[gi], ui);
		for (k = 0; k < nsup; k++)
			if (add_member(&st->groups[sup[k]], ui) < 0) {
				r = accord_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
	}
	u->changed = st->now;
	r = 0;
out:
	free(gecos);
	free(home);
	free(shell);
	free(racf_id);
	free(sup);
	return r;
}

static void remove_group(struct accord_state *st, struct accord_group *g)
{
	uint32_t gi = (uint32_t)(g - st->groups), first;
	size_t i;

	/* its access-list entries and swap rules go with it */
	state_appls_forget_group(st, g->name);
	strmap_del(&st->group_by_name, g->name);
	idmap_dec(&st->gid_count, g->gid);
	if (idmap_get(&st->gid_first, g->gid, &first) && first == gi) {
		idmap_del(&st->gid_first, g->gid);
		for (i = 0; i < st->ngroups; i++)
			if (i != gi && st->groups[i].live && st->groups[i].gid == g->gid) {
				idmap_put(&st->gid_first, g->gid, (uint32_t)i);
				break;
			}
	}
	g->live = false;
	g->nmembers = 0;
	st->live_groups--;
}

static bool gid_is_primary(const struct accord_state *st, uint32_t gid,
			   const struct accord_user *except)
{
	size_t i;

	for (i = 0; i < st->nusers; i++)
		if (st->users[i].live && &st->users[i] != except && st->users[i].gid == gid)
			return true;
	return false;
}

int accord_user_del(struct accord_state *st, const char *name,
		    struct accord_err *err)
{
	struct accord_user *u = find_user(st, name);
	struct accord_group *pg;
	uint32_t ui;
	size_t gi;
	bool drop_personal;
	int r;

	if (!u)
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", name);
	ui = (uint32_t)(u - st->users);
	pg = find_group(st, name);
	/* the user itself listed as a member is not somebody else using it */
	drop_personal = pg && pg->gid == u->gid &&
			(pg->nmembers == 0 || (pg->nmembers == 1 && pg->members[0] == ui)) &&
			accord_state_group_by_gid(st, u->gid) == pg &&
			!gid_is_primary(st, u->gid, u);
	r = reserve_tombs(st, 2);
	if (r < 0)
		return accord_err_set(err, r, "out of memory");
	r = push_tomb(st, ACCORD_TOMB_USER, u->uid, u->name, st->now, st->actor);
	if (r == 0 && drop_personal)
		r = push_tomb(st, ACCORD_TOMB_GROUP, pg->gid, pg->name, st->now, st->actor);
	if (r < 0)
		return accord_err_set(err, r, "out of memory");
	for (gi = 0; gi < st->ngroups; gi++)
		if (st->groups[gi].live)
			del_member(&st->groups[gi], ui);
	if (drop_personal)
		remove_group(st, pg);
	state_appls_forget_user(st, u->name);
	state_certs_forget_user(st, u->name);
	strmap_del(&st->user_by_name, u->name);
	idmap_dec(&st->uid_count, u->uid);
	u->live = false;
	st->live_users--;
	return 0;
}

int accord_user_status_op(struct accord_state *st, const char *name,
			  enum accord_status_op op, const char *reason,
			  struct accord_err *err)
{
	struct accord_user *u = find_user(st, name);
	enum accord_status cur, to;
	const char *why = "";
	char *nr;
	int r;

	if (!u)
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", name);
	cur = accord_user_status(u->flags);
	switch (op) {
	case ACCORD_OP_ENABLE:
	case ACCORD_OP_DISABLE:
		if (cur == ACCORD_STATUS_REVOKED)
			return accord_err_set(err, -EPERM,
					      "user '%s' is revoked (reason: %s); only 'accordctl user "
					      "resume %s' lifts a revoke", name, u->reason, name);
		to = op == ACCORD_OP_ENABLE ? ACCORD_STATUS_ENABLED : ACCORD_STATUS_DISABLED;
		break;
	case ACCORD_OP_REVOKE:
		why = reason && reason[0] ? reason : "administrator";
		r = accord_check_field("revoke reason", why, ACCORD_REASON_MAX, false, err);
		if (r < 0)
			return r;
		if (cur == ACCORD_STATUS_REVOKED && strcmp(u->reason, why) == 0)
			return 1;
		to = ACCORD_STATUS_REVOKED;
		break;
	case ACCORD_OP_RESUME:
		if (cur != ACCORD_STATUS_REVOKED)
			return 1;
		to = ACCORD_STATUS_ENABLED;
		break;
	default:
		return accord_err_set(err, -EINVAL, "unknown status operation");
	}
	if (to == cur && op != ACCORD_OP_REVOKE)
		return 1;
	nr = strdup(why);
	if (!nr)
		return accord_err_set(err, -ENOMEM, "out of memory");
	free_field(u, u->reason);
	u->reason = nr;
	u->flags = (u->flags & ~ACCORD_STATUS_MASK) | (uint32_t)to;
	u->changed = st->now;
	return 0;
}

int accord_user_set_flag(struct accord_state *st, const char *name,
			 uint32_t flag, bool on, struct accord_err *err)
{
	struct accord_user *u = find_user(st, name);

	if (!u)
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", name);
	if (flag != ACCORD_F_NO_PASSWORD && flag != ACCORD_F_PROTECTED)
		return accord_err_set(err, -EINVAL, "unknown profile flag");
	if (!!(u->flags & flag) == on)
		return 1;
	u->flags = on ? (u->flags | flag) : (u->flags & ~flag);
	u->changed = st->now;
	return 0;
}

/* ---- groups --------------------------------------------------------- */

int accord_group_add(struct accord_state *st, const char *name, bool has_gid,
		     uint32_t gid, bool shared, struct accord_err *err)
{
	int r;

	r = accord_check_name("group name", name, err);
	if (r < 0)
		return r;
	if (find_group(st, name))
		return accord_err_set(err, -EEXIST, "group '%s' already exists (gid %u)",
				      name, find_group(st, name)->gid);
	if (has_gid)
		r = check_explicit_id(st, false, gid, shared, err);
	else
		r = alloc_id(st, false, &gid, err);
	if (r < 0)
		return r;
	r = make_group(st, name, gid, shared && has_gid);
	if (r < 0)
		return accord_err_set(err, r, "out of memory");
	return 0;
}

int accord_group_del(struct accord_state *st, const char *name,
		     struct accord_err *err)
{
	struct accord_group *g = find_group(st, name);
	char users[256] = "";
	size_t i, n = 0, len = 0;
	int r;

	if (!g)
		return accord_err_set(err, -ENOENT, "group '%s' does not exist", name);
	for (i = 0; i < st->nusers; i++) {
		const struct accord_user *u = &st->users[i];

		if (!u->live || u->gid != g->gid)
			continue;
		/* a shared GID held by another group keeps these users valid */
		if (idmap_count(&st->gid_count, g->gid) > 1)
			continue;
		if (n < 5 && len < sizeof(users) - 40)
			len += (size_t)snprintf(users + len, sizeof(users) - len, "%s%s",
						n ? ", " : "", u->name);
		n++;
	}
	if (n)
		return accord_err_set(err, -EBUSY,
				      "group '%s' is the primary group of %zu user%s (%s%s); "
				      "give them another primary group first",
				      name, n, n == 1 ? "" : "s", users, n > 5 ? ", ..." : "");
	r = push_tomb(st, ACCORD_TOMB_GROUP, g->gid, g->name, st->now, st->actor);
	if (r < 0)
		return accord_err_set(err, r, "out of memory");
	remove_group(st, g);
	return 0;
}

int accord_group_adduser(struct accord_state *st, const char *group,
			 const char *user, struct accord_err *err)
{
	struct accord_group *g = find_group(st, group);
	uint32_t ui;
	int r;

	if (!g)
		return accord_err_set(err, -ENOENT, "group '%s' does not exist", group);
	if (!strmap_get(&st->user_by_name, user, &ui))
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", user);
	r = add_member(g, ui);
	if (r == -E2BIG)
		return accord_err_set(err, r, "group '%s' has %d members, the limit",
				      group, ACCORD_MAX_MEMBERS);
	if (r < 0)
		return accord_err_set(err, r, "out of memory");
	if (r == 0)
		g->changed = st->now;
	return r;
}

int accord_group_deluser(struct accord_state *st, const char *group,
			 const char *user, struct accord_err *err)
{
	struct accord_group *g = find_group(st, group);
	uint32_t ui;
	int r;

	if (!g)
		return accord_err_set(err, -ENOENT, "group '%s' does not exist", group);
	if (!strmap_get(&st->user_by_name, user, &ui))
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", user);
	r = del_member(g, ui);
	if (r == 0)
		g->changed = st->now;
	return r;
}
