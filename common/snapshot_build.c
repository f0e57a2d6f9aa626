/* SPDX-License-Identifier: MIT */
/*
 * Builds a snapshot file image from a state: records, four hash indexes
 * (load <= 1/2), tombstones, meta, header and checksums; and, only when
 * there is something to put in them, the user dates, the applications
 * with their name index, and the swap rules.  Access-list entries carry
 * the UID or GID their name has at build time.  The layout is
 * described in include/accord/snapshot.h and common/snapshot_format.h.
 */
#include <accord/state.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bigmem.h"
#include "hash.h"
#include "snapshot_format.h"
#include "state_priv.h"

struct sec {
	uint32_t type;
	uint64_t off, size;
};

static uint32_t index_slots(size_t count)
{
	uint64_t n = 8;

	while (n < (uint64_t)count * 2)
		n <<= 1;
	return (uint32_t)n;
}

static void index_put(unsigned char *idx, uint64_t hash, uint32_t ref)
{
	uint32_t nslots = snap_get32(idx), mask = nslots - 1;
	uint32_t pos = (uint32_t)hash & mask;
	unsigned char *slots = idx + SNAP_INDEX_HEADER;

	while (snap_get32(slots + (size_t)pos * SNAP_INDEX_SLOT + 4))
		pos = (pos + 1) & mask;
	snap_put32(slots + (size_t)pos * SNAP_INDEX_SLOT, (uint32_t)(hash >> 32));
	snap_put32(slots + (size_t)pos * SNAP_INDEX_SLOT + 4, ref);
	snap_put32(idx + 4, snap_get32(idx + 4) + 1);
}

static uint64_t user_reclen(const struct accord_user *u, uint32_t ngroups)
{
	return snap_align8(SNAP_USER_FIXED + 4ull * ngroups + strlen(u->name) +
			   strlen(u->gecos) + strlen(u->home) + strlen(u->shell) +
			   strlen(u->reason) + 5);
}

static unsigned char *put_str(unsigned char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	p[len] = '\0';
	return p + len + 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t appl_reclen(const struct accord_appl *a)
{
	uint64_t n = snap_align8(SNAP_APPL_FIXED + strlen(a->name) + 1);
	uint32_t k;

	for (k = 0; k < a->nentries; k++)
		n += snap_align8(SNAP_ACE_FIXED + strlen(a->entries[k].name) + 1);
	return n;
}

static uint64_t swap_reclen(const struct accord_swap_rule *w)
{
	return snap_align8(SNAP_SWAP_FIXED + strlen(w->from) + strlen(w->to) + 2);
}

/* Swap rules are stored sorted by (to, from): the order a reader that
 * looks for the rules reaching one profile would want. */
static int cmp_swap(const void *a, const void *b, void *ctx)
{
	const struct accord_state *st = ctx;
	const struct accord_swap_rule *x = accord_state_swap_at(st, *(const uint32_t *)a);
	const struct accord_swap_rule *y = accord_state_swap_at(st, *(const uint32_t *)b);
	int c = strcmp(x->to, y->to);

	return c ? c : strcmp(x->from, y->from);
}

/* Writes the application records and fills their name index. */
static int put_appls(const struct accord_state *st, unsigned char *sec,
		     unsigned char *idx, uint64_t seed, struct accord_err *err)
{
	unsigned char *p = sec;
	size_t i;

	for (i = 0; i < accord_state_appl_slots(st); i++) {
		const struct accord_appl *a = accord_state_appl_at(st, i);
		size_t nlen;
		unsigned char *q, *estart;
		uint32_t k;

		if (!a->live)
			continue;
		nlen = strlen(a->name);
		snap_put32(p, a->nentries);
		p[8] = (unsigned char)a->uacc;
		snap_put16(p + 10, (uint16_t)nlen);
		snap_put64(p + 16, (uint64_t)a->created);
		snap_put64(p + 24, (uint64_t)a->changed);
		put_str(p + SNAP_APPL_FIXED, a->name, nlen);
		q = estart = p + snap_align8(SNAP_APPL_FIXED + nlen + 1);
		for (k = 0; k < a->nentries; k++) {
			const struct accord_ace *e = &a->entries[k];
			size_t elen = strlen(e->name);
			uint32_t id;

			/* names become IDs now: the reader needs no other lookup */
			if (e->kind == ACCORD_ACE_USER && accord_state_user(st, e->name)) {
				id = accord_state_user(st, e->name)->uid;
			} else if (e->kind == ACCORD_ACE_GROUP && accord_state_group(st, e->name)) {
				id = accord_state_group(st, e->name)->gid;
			} else {
				return accord_err_set(err, -EINVAL,
						      "application '%s' lists %s '%s', which does not "
						      "exist (internal error)", a->name,
						      e->kind == ACCORD_ACE_USER ? "user" : "group",
						      e->name);
			}
			q[0] = (unsigned char)e->kind;
			q[1] = (unsigned char)e->access;
			snap_put16(q + 2, (uint16_t)elen);
			snap_put32(q + 4, id);
			put_str(q + SNAP_ACE_FIXED, e->name, elen);
			q += snap_align8(SNAP_ACE_FIXED + elen + 1);
		}
		snap_put32(p + 4, (uint32_t)(q - estart));
		index_put(idx, accord_hash64(a->name, nlen, seed), (uint32_t)(p - sec) + 1);
		p = q;
	}
	return 0;
}

static void put_swaps(const struct accord_state *st, unsigned char *sec,
		      const uint32_t *order, size_t n)
{
	unsigned char *p = sec;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(st, order[i]);
		size_t flen = strlen(w->from), tlen = strlen(w->to);
		unsigned char *q;

		p[0] = (unsigned char)w->kind;
		snap_put16(p + 2, (uint16_t)flen);
		snap_put16(p + 4, (uint16_t)tlen);
		snap_put64(p + 8, (uint64_t)w->created);
		q = put_str(p + SNAP_SWAP_FIXED, w->from, flen);
		q = put_str(q, w->to, tlen);
		p += snap_align8((uint64_t)(q - p));
	}
}

static uint64_t random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
	return seed;
}

int accord_snapshot_build(const struct accord_state *st, uint64_t generation,
			  const unsigned char uuid[16], int64_t created,
			  unsigned char **out, size_t *outlen,
			  struct accord_err *err)
{
	size_t nslots_u = accord_state_user_slots(st), nslots_g = accord_state_group_slots(st);
	size_t nt = accord_state_tomb_count(st), nu = 0, ng = 0, i, k;
	size_t nslots_a = accord_state_appl_slots(st), nslots_w = accord_state_swap_slots(st);
	size_t na = 0, nw = 0, ndated = 0, nracf = 0;
	uint32_t *gcount = NULL, *gstart = NULL, *glist = NULL, *fill = NULL;
	uint32_t *sorder = NULL;
	uint64_t users_size = 0, groups_size = 0, tombs_size = 0, total, off;
	uint64_t appls_size = 0, swaps_size = 0;
	uint64_t seed = random_seed();
	struct sec sec[SNAP_SEC_KNOWN_LAST];
	int at_dates = -1, at_appls = -1, at_aidx = -1, at_swaps = -1, at_racf = -1;
	int at_certs = -1;
	unsigned char *buf = NULL, *p, *dates = NULL, *racf = NULL, *certs = NULL;
	size_t certs_len = 0;
	struct accord_range ur, gr;
	uint32_t next_uid, next_gid;
	size_t nmemb_total = 0, nsec = 8;
	int r = -ENOMEM;

	/* per-user supplementary GID lists, from the groups' member lists */
	gcount = calloc(nslots_u + 1, sizeof(*gcount));
	gstart = calloc(nslots_u + 1, sizeof(*gstart));
	fill = calloc(nslots_u + 1, sizeof(*fill));
	if (!gcount || !gstart || !fill)
		goto nomem;
	for (i = 0; i < nslots_g; i++) {
		const struct accord_group *g = accord_state_group_at(st, i);

		if (!g->live)
			continue;
		for (k = 0; k < g->nmembers; k++)
			gcount[g->members[k]]++;
		nmemb_total += g->nmembers;
	}
	for (i = 0; i < nslots_u; i++)
		gstart[i + 1] = gstart[i] + gcount[i];
	glist = malloc((nmemb_total + 1) * sizeof(*glist));
	if (!glist)
		goto nomem;
	for (i = 0; i < nslots_g; i++) {
		const struct accord_group *g = accord_state_group_at(st, i);

		if (!g->live)
			continue;
		for (k = 0; k < g->nmembers; k++) {
			uint32_t ui = g->members[k];

			glist[gstart[ui] + fill[ui]++] = g->gid;
		}
	}
	for (i = 0; i < nslots_u; i++) {
		const struct accord_user *u = accord_state_user_at(st, i);
		uint32_t *l = glist + gstart[i], n = gcount[i], w = 0, j;

		if (!u->live)
			continue;
		/* sorted, without duplicates (two groups may share a GID) */
		if (n > 1)
			qsort(l, n, sizeof(*l), cmp_u32);
		for (j = 0; j < n; j++)
			if (w == 0 || l[w - 1] != l[j])
				l[w++] = l[j];
		gcount[i] = w;
		nu++;
		users_size += user_reclen(u, w);
		if (u->revoke_date || u->resume_date)
			ndated++;
		if (u->racf_id && u->racf_id[0])
			nracf++;
	}
	for (i = 0; i < nslots_g; i++) {
		const struct accord_group *g = accord_state_group_at(st, i);
		uint64_t mlen = 0;

		if (!g->live)
			continue;
		ng++;
		for (k = 0; k < g->nmembers; k++)
			mlen += strlen(accord_state_user_at(st, g->members[k])->name) + 1;
		groups_size += snap_align8(SNAP_GROUP_FIXED + strlen(g->name) + 1 + mlen);
	}
	for (i = 0; i < nt; i++) {
		const struct accord_tombstone *t = accord_state_tomb_at(st, i);

		tombs_size += snap_align8(SNAP_TOMB_FIXED + strlen(t->name) + strlen(t->by) + 2);
	}
	for (i = 0; i < nslots_a; i++) {
		const struct accord_appl *a = accord_state_appl_at(st, i);

		if (!a->live)
			continue;
		na++;
		appls_size += appl_reclen(a);
	}
	sorder = malloc((nslots_w + 1) * sizeof(*sorder));
	if (!sorder)
		goto nomem;
	for (i = 0; i < nslots_w; i++) {
		const struct accord_swap_rule *w = accord_state_swap_at(st, i);

		if (!w->live)
			continue;
		sorder[nw++] = (uint32_t)i;
		swaps_size += swap_reclen(w);
	}
	if (nw > 1)
		qsort_r(sorder, nw, sizeof(*sorder), cmp_swap, (void *)(uintptr_t)st);
	if (users_size >= UINT32_MAX || groups_size >= UINT32_MAX || tombs_size >= UINT32_MAX ||
	    appls_size >= UINT32_MAX || swaps_size >= UINT32_MAX ||
	    nu > UINT32_MAX / 4 || ng > UINT32_MAX / 4 || na > UINT32_MAX / 4) {
		r = accord_err_set(err, -E2BIG, "the registry is too large for one snapshot "
				   "(a record section would exceed 4 GiB)");
		goto out;
	}

	/* the optional sections follow the required ones, and exist only
	 * when they hold something */
	if (ndated)
		at_dates = (int)nsec++;
	if (na) {
		at_appls = (int)nsec++;
		at_aidx = (int)nsec++;
	}
	if (nw)
		at_swaps = (int)nsec++;
	if (nracf)
		at_racf = (int)nsec++;
	r = state_certs_serialize(st, seed, &certs, &certs_len, err);
	if (r < 0)
		goto out;
	if (certs_len)
		at_certs = (int)nsec++;
	off = snap_align8(SNAP_HEADER_SIZE + nsec * SNAP_SECTION_ENTRY);
	sec[0] = (struct sec){ SNAP_SEC_META, off, SNAP_META_SIZE };
	sec[1] = (struct sec){ SNAP_SEC_USERS, 0, users_size };
	sec[2] = (struct sec){ SNAP_SEC_GROUPS, 0, groups_size };
	sec[3] = (struct sec){ SNAP_SEC_TOMBSTONES, 0, tombs_size };
	sec[4] = (struct sec){ SNAP_SEC_USER_BY_NAME, 0,
			       SNAP_INDEX_HEADER + (uint64_t)index_slots(nu) * SNAP_INDEX_SLOT };
	sec[5] = (struct sec){ SNAP_SEC_USER_BY_UID, 0, sec[4].size };
	sec[6] = (struct sec){ SNAP_SEC_GROUP_BY_NAME, 0,
			       SNAP_INDEX_HEADER + (uint64_t)index_slots(ng) * SNAP_INDEX_SLOT };
	sec[7] = (struct sec){ SNAP_SEC_GROUP_BY_GID, 0, sec[6].size };
	if (at_dates >= 0)
		sec[at_dates] = (struct sec){ SNAP_SEC_USER_DATES, 0,
					      (uint64_t)ndated * SNAP_USER_DATES_ENTRY };
	if (at_appls >= 0) {
		sec[at_appls] = (struct sec){ SNAP_SEC_APPLS, 0, appls_size };
		sec[at_aidx] = (struct sec){ SNAP_SEC_APPL_BY_NAME, 0,
					     SNAP_INDEX_HEADER +
					     (uint64_t)index_slots(na) * SNAP_INDEX_SLOT };
	}
	if (at_swaps >= 0)
		sec[at_swaps] = (struct sec){ SNAP_SEC_SWAPS, 0, swaps_size };
	if (at_racf >= 0)
		sec[at_racf] = (struct sec){ SNAP_SEC_USER_RACFID, 0,
					     (uint64_t)nracf * SNAP_USER_RACFID_ENTRY };
	if (at_certs >= 0)
		sec[at_certs] = (struct sec){ SNAP_SEC_CERTDB, 0, certs_len };
	for (i = 1; i < nsec; i++)
		sec[i].off = snap_align8(sec[i - 1].off + sec[i - 1].size);
	total = sec[nsec - 1].off + sec[nsec - 1].size;
	buf = calloc(1, total);
	if (!buf)
		goto nomem;
	bigmem_hint(buf, total);

	/* meta */
	accord_state_ranges(st, &ur, &gr, &next_uid, &next_gid);
	p = buf + sec[0].off;
	snap_put32(p, ur.lo);
	snap_put32(p + 4, ur.hi);
	snap_put32(p + 8, gr.lo);
	snap_put32(p + 12, gr.hi);
	snap_put32(p + 16, next_uid);
	snap_put32(p + 20, next_gid);

	/* indexes: sized now, filled as records are written */
	for (i = 4; i < 8; i++)
		snap_put32(buf + sec[i].off,
			   (uint32_t)((sec[i].size - SNAP_INDEX_HEADER) / SNAP_INDEX_SLOT));
	if (at_aidx >= 0)
		snap_put32(buf + sec[at_aidx].off,
			   (uint32_t)((sec[at_aidx].size - SNAP_INDEX_HEADER) / SNAP_INDEX_SLOT));
	if (at_dates >= 0)
		dates = buf + sec[at_dates].off;
	if (at_racf >= 0)
		racf = buf + sec[at_racf].off;

	/* users */
	p = buf + sec[1].off;
	for (i = 0; i < nslots_u; i++) {
		const struct accord_user *u = accord_state_user_at(st, i);
		size_t lens[5];
		unsigned char *q;
		uint32_t ref, j;

		if (!u->live)
			continue;
		lens[0] = strlen(u->name);
		lens[1] = strlen(u->gecos);
		lens[2] = strlen(u->home);
		lens[3] = strlen(u->shell);
		lens[4] = strlen(u->reason);
		snap_put32(p, u->uid);
		snap_put32(p + 4, u->gid);
		snap_put32(p + 8, u->flags);
		snap_put32(p + 12, gcount[i]);
		snap_put64(p + 16, (uint64_t)u->created);
		snap_put64(p + 24, (uint64_t)u->changed);
		for (j = 0; j < 5; j++)
			snap_put16(p + 32 + 2 * j, (uint16_t)lens[j]);
		q = p + SNAP_USER_FIXED;
		for (j = 0; j < gcount[i]; j++, q += 4)
			snap_put32(q, glist[gstart[i] + j]);
		q = put_str(q, u->name, lens[0]);
		q = put_str(q, u->gecos, lens[1]);
		q = put_str(q, u->home, lens[2]);
		q = put_str(q, u->shell, lens[3]);
		put_str(q, u->reason, lens[4]);
		ref = (uint32_t)(p - (buf + sec[1].off)) + 1;
		index_put(buf + sec[4].off, accord_hash64(u->name, lens[0], seed), ref);
		index_put(buf + sec[5].off, accord_hash_id(u->uid, seed), ref);
		/* records are written in offset order: the dates come out sorted */
		if (u->revoke_date || u->resume_date) {
			snap_put32(dates, ref - 1);
			snap_put64(dates + 8, (uint64_t)u->revoke_date);
			snap_put64(dates + 16, (uint64_t)u->resume_date);
			dates += SNAP_USER_DATES_ENTRY;
		}
		if (u->racf_id && u->racf_id[0]) {
			size_t rl = strnlen(u->racf_id, SNAP_RACFID_MAX);

			snap_put32(racf, ref - 1);
			racf[4] = (unsigned char)rl;
			memcpy(racf + 8, u->racf_id, rl);
			racf += SNAP_USER_RACFID_ENTRY;
		}
		p += user_reclen(u, gcount[i]);
	}

	/* groups */
	p = buf + sec[2].off;
	for (i = 0; i < nslots_g; i++) {
		const struct accord_group *g = accord_state_group_at(st, i);
		size_t nlen;
		unsigned char *q, *mstart;
		uint32_t ref;

		if (!g->live)
			continue;
		nlen = strlen(g->name);
		snap_put32(p, g->gid);
		snap_put32(p + 4, g->flags);
		snap_put32(p + 8, g->nmembers);
		snap_put64(p + 16, (uint64_t)g->created);
		snap_put64(p + 24, (uint64_t)g->changed);
		snap_put16(p + 32, (uint16_t)nlen);
		q = put_str(p + SNAP_GROUP_FIXED, g->name, nlen);
		mstart = q;
		for (k = 0; k < g->nmembers; k++) {
			const char *mn = accord_state_user_at(st, g->members[k])->name;

			q = put_str(q, mn, strlen(mn));
		}
		snap_put32(p + 12, (uint32_t)(q - mstart));
		ref = (uint32_t)(p - (buf + sec[2].off)) + 1;
		index_put(buf + sec[6].off, accord_hash64(g->name, nlen, seed), ref);
		index_put(buf + sec[7].off, accord_hash_id(g->gid, seed), ref);
		p += snap_align8((uint64_t)(q - p));
	}

	/* tombstones */
	p = buf + sec[3].off;
	for (i = 0; i < nt; i++) {
		const struct accord_tombstone *t = accord_state_tomb_at(st, i);
		size_t nlen = strlen(t->name), blen = strlen(t->by);
		unsigned char *q;

		snap_put32(p, t->kind);
		snap_put32(p + 4, t->id);
		snap_put64(p + 8, (uint64_t)t->deleted_at);
		snap_put16(p + 16, (uint16_t)nlen);
		snap_put16(p + 18, (uint16_t)blen);
		q = put_str(p + SNAP_TOMB_FIXED, t->name, nlen);
		q = put_str(q, t->by, blen);
		p += snap_align8((uint64_t)(q - p));
	}

	if (at_appls >= 0) {
		r = put_appls(st, buf + sec[at_appls].off, buf + sec[at_aidx].off, seed, err);
		if (r < 0)
			goto out;
	}
	if (at_swaps >= 0)
		put_swaps(st, buf + sec[at_swaps].off, sorder, nw);
	if (at_certs >= 0)
		memcpy(buf + sec[at_certs].off, certs, certs_len);

	/* header and section table */
	memcpy(buf, SNAP_MAGIC, 8);
	snap_put32(buf + 8, ACCORD_SNAPSHOT_VERSION);
	snap_put32(buf + 12, SNAP_HEADER_SIZE);
	snap_put64(buf + 16, generation);
	snap_put64(buf + 24, total);
	snap_put32(buf + 40, (uint32_t)nsec);
	snap_put64(buf + 48, seed);
	if (uuid)
		memcpy(buf + 56, uuid, 16);
	snap_put64(buf + 72, (uint64_t)created);
	snap_put32(buf + 80, (uint32_t)nu);
	snap_put32(buf + 84, (uint32_t)ng);
	snap_put32(buf + 88, (uint32_t)nt);
	snap_put32(buf + SNAP_HDR_APPL_COUNT, (uint32_t)na);
	snap_put32(buf + SNAP_HDR_SWAP_COUNT, (uint32_t)nw);
	for (i = 0; i < nsec; i++) {
		unsigned char *e = buf + SNAP_HEADER_SIZE + i * SNAP_SECTION_ENTRY;

		snap_put32(e, sec[i].type);
		snap_put64(e + 8, sec[i].off);
		snap_put64(e + 16, sec[i].size);
	}
	off = SNAP_HEADER_SIZE + nsec * SNAP_SECTION_ENTRY;
	snap_put64(buf + 32, accord_checksum(buf + off, total - off));
	snap_put64(buf + SNAP_HDR_CHECKSUM_AT,
		   accord_hash64(buf, SNAP_HDR_CHECKSUM_AT, 0) ^
		   accord_hash64(buf + SNAP_HEADER_SIZE, off - SNAP_HEADER_SIZE, 1));
	*out = buf;
	*outlen = total;
	buf = NULL;
	r = 0;
	goto out;
nomem:
	r = accord_err_set(err, -ENOMEM, "out of memory while building the snapshot");
out:
	free(buf);
	free(gcount);
	free(gstart);
	free(glist);
	free(fill);
	free(sorder);
	free(certs);
	return r;
}
