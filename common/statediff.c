/* SPDX-License-Identifier: MIT */
/*
 * The differences between two states (include/accord/statediff.h).
 *
 * Every class is compared the same way: the objects of B go into a hash
 * map by identity, each object of A is looked up there (missing: DELETE;
 * found: its fields compared, CHANGE when any differs) and marked, and the
 * unmarked objects of B are ADDs.  Linear in the number of objects; the
 * entries are sorted at the end (class, then name) so that the output does
 * not depend on the order the snapshots stored their records in.
 *
 * Field values are text, allocated only for the fields that differ: two
 * large states that are nearly equal cost one pass of comparisons.
 * "changed" timestamps are not compared: they move with every change that
 * is already reported by its own field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <accord/certmap.h>
#include <accord/jsonfmt.h>
#include <accord/statediff.h>

static const char *const class_names[ACCORD_CLASS_COUNT] = {
	"users", "groups", "appls", "swaps", "certmaps", "cas", "ptauth",
};
/* singular, for the text output */
static const char *const class_nouns[ACCORD_CLASS_COUNT] = {
	"user", "group", "appl", "swap", "certmap", "ca", "ptauth",
};
static const char *const op_names[3] = { "add", "delete", "change" };

const char *accord_class_name(enum accord_class c)
{
	return (unsigned)c < ACCORD_CLASS_COUNT ? class_names[c] : "?";
}

int accord_class_parse(const char *name)
{
	int i;

	for (i = 0; name && i < ACCORD_CLASS_COUNT; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

/* ---- building the result ------------------------------------------------ */

struct builder {
	struct accord_diff *d;
	size_t cap;
	size_t fcap;
	int err;
};

static char *xstrdup_or_null(const char *s, int *err)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		*err = -ENOMEM;
	return p;
}

static struct accord_diff_entry *entry_new(struct builder *b, enum accord_class cls,
					   enum accord_diff_op op, const char *name)
{
	struct accord_diff *d = b->d;
	struct accord_diff_entry *e;

	if (b->err)
		return NULL;
	if (d->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		struct accord_diff_entry *nv = realloc(d->v, nc * sizeof(*nv));

		if (!nv) {
			b->err = -ENOMEM;
			return NULL;
		}
		d->v = nv;
		b->cap = nc;
	}
	e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	e->cls = cls;
	e->op = op;
	e->name = strdup(name);
	if (!e->name) {
		b->err = -ENOMEM;
		return NULL;
	}
	d->n++;
	d->count[cls][op]++;
	return e;
}

/* Records that field differs on the current CHANGE entry (made on the
 * first differing field: an object whose fields all match leaves none). */
struct obj {
	struct builder *b;
	enum accord_class cls;
	const char *name;
	struct accord_diff_entry *e;
};

static void field_add(struct obj *o, const char *field, const char *a, const char *bv)
{
	struct builder *b = o->b;
	struct accord_diff_entry *e;
	struct accord_diff_field *f;

	if (b->err)
		return;
	if (!o->e) {
		o->e = entry_new(b, o->cls, ACCORD_DIFF_CHANGE, o->name);
		b->fcap = 0;
		if (!o->e)
			return;
	}
	e = o->e;
	if (e->nfields == b->fcap) {
		size_t nc = b->fcap ? b->fcap * 2 : 4;
		struct accord_diff_field *nv = realloc(e->fields, nc * sizeof(*nv));

		if (!nv) {
			b->err = -ENOMEM;
			return;
		}
		e->fields = nv;
		b->fcap = nc;
	}
	f = &e->fields[e->nfields];
	f->field = NULL;
	f->a = xstrdup_or_null(a, &b->err);
	f->b = xstrdup_or_null(bv, &b->err);
	/* field names are static strings or built by the callers: own a copy */
	f->field = strdup(field);
	if (!f->field)
		b->err = -ENOMEM;
	e->nfields++;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static void cmp_str(struct obj *o, const char *field, const char *a, const char *b)
{
	if (!str_eq(a, b))
		field_add(o, field, a, b);
}

static void cmp_u32(struct obj *o, const char *field, uint32_t a, uint32_t b)
{
	char x[16], y[16];

	if (a == b)
		return;
	snprintf(x, sizeof(x), "%" PRIu32, a);
	snprintf(y, sizeof(y), "%" PRIu32, b);
	field_add(o, field, x, y);
}

/* A time: ISO 8601 text, "none" for 0 when zero_none. */
static void time_text(int64_t t, bool zero_none, char *buf, size_t len)
{
	if (zero_none && t == 0)
		snprintf(buf, len, "none");
	else
		accord_time_iso(t, buf, len);
}

static void cmp_time(struct obj *o, const char *field, int64_t a, int64_t b,
		     bool zero_none)
{
	char x[48], y[48];

	if (a == b)
		return;
	time_text(a, zero_none, x, sizeof(x));
	time_text(b, zero_none, y, sizeof(y));
	field_add(o, field, x, y);
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- a hash map of names ------------------------------------------------ */

/* Open addressing, load <= 1/2; keys are borrowed strings.  Values are
 * indexes into the caller's table. */
struct nmap {
	const char **keys;
	size_t *vals;
	size_t mask;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static int nmap_init(struct nmap *m, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n + 2)
		cap <<= 1;
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	m->mask = cap - 1;
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		m->keys = NULL;
		m->vals = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void nmap_free(struct nmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
}

/* Inserts key (the first one wins: identities are unique in a state). */
static void nmap_put(struct nmap *m, const char *key, size_t val)
{
	size_t i = (size_t)name_hash(key) & m->mask;

	while (m->keys[i]) {
		if (!strcmp(m->keys[i], key))
			return;
		i = (i + 1) & m->mask;
	}
	m->keys[i] = key;
	m->vals[i] = val;
}

static bool nmap_get(const struct nmap *m, const char *key, size_t *val)
{
	size_t i = (size_t)name_hash(key) & m->mask;

	while (m->keys[i]) {
		if (!strcmp(m->keys[i], key)) {
			*val = m->vals[i];
			return true;
		}
		i = (i + 1) & m->mask;
	}
	return false;
}

/*
 * One class, generically: n* slots on each side, key() gives an object's
 * identity (NULL: not live), cmp() compares two objects' fields.  Keys are
 * copied into one arena per side when key() builds them (keybuf).
 */
struct side {
	const struct accord_state *st;
	size_t n;
	char **keys;         /* per slot; NULL when not live */
};

typedef char *(*key_fn)(const struct accord_state *st, size_t i);
typedef void (*cmp_fn)(struct obj *o, const struct accord_state *a, size_t ia,
		       const struct accord_state *b, size_t ib);

static void side_free(struct side *s)
{
	size_t i;

	if (!s->keys)
		return;
	for (i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	s->keys = NULL;
}

static int side_keys(struct side *s, const struct accord_state *st, size_t n, key_fn key)
{
	size_t i;

	s->st = st;
	s->n = n;
	s->keys = calloc(n ? n : 1, sizeof(*s->keys));
	if (!s->keys)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		errno = 0;
		s->keys[i] = key(st, i);
		if (!s->keys[i] && errno == ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

static void diff_class(struct builder *b, enum accord_class cls,
		       const struct accord_state *a, size_t na,
		       const struct accord_state *bs, size_t nb, key_fn key, cmp_fn cmp)
{
	struct side sa = { 0 }, sb = { 0 };
	struct nmap m = { 0 };
	bool *seen = NULL;
	size_t i, j;

	if (b->err)
		return;
	if (side_keys(&sa, a, na, key) < 0 || side_keys(&sb, bs, nb, key) < 0 ||
	    nmap_init(&m, nb) < 0 || !(seen = calloc(nb ? nb : 1, 1))) {
		b->err = -ENOMEM;
		goto out;
	}
	for (j = 0; j < nb; j++)
		if (sb.keys[j])
			nmap_put(&m, sb.keys[j], j);
	for (i = 0; i < na && !b->err; i++) {
		if (!sa.keys[i])
			continue;
		if (!nmap_get(&m, sa.keys[i], &j)) {
			entry_new(b, cls, ACCORD_DIFF_DELETE, sa.keys[i]);
			continue;
		}
		if (seen[j])
			continue; /* a duplicate identity on A's side: counted once */
		seen[j] = true;
		if (cmp) {
			struct obj o = { .b = b, .cls = cls, .name = sa.keys[i] };

			cmp(&o, a, i, bs, j);
		}
	}
	for (j = 0; j < nb && !b->err; j++) {
		size_t k;

		/* duplicates on B's side: only the one the map holds */
		if (sb.keys[j] && !seen[j] && nmap_get(&m, sb.keys[j], &k) && k == j)
			entry_new(b, cls, ACCORD_DIFF_ADD, sb.keys[j]);
	}
out:
	free(seen);
	nmap_free(&m);
	side_free(&sa);
	side_free(&sb);
}

static char *key_dup(const char *prefix, const char *s)
{
	size_t lp = strlen(prefix), ls = strlen(s);
	char *k = malloc(lp + ls + 1);

	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(k, prefix, lp);
	memcpy(k + lp, s, ls + 1);
	return k;
}

/* ---- users ---------------------------------------------------------------- */

static char *user_key(const struct accord_state *st, size_t i)
{
	const struct accord_user *u = accord_state_user_at(st, i);

	return u && u->live ? key_dup("", u->name) : NULL;
}

static const char *status_name(uint32_t flags)
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

/* The flag bits besides the status, as words ("" when none). */
static void flags_text(uint32_t flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (flags & ACCORD_F_PROTECTED)
		n += (size_t)snprintf(buf + n, len - n, "%sprotected", n ? "," : "");
	if (flags & ACCORD_F_NO_PASSWORD)
		n += (size_t)snprintf(buf + n, len - n, "%sno-password", n ? "," : "");
	if (flags & ACCORD_F_SHARED_ID)
		n += (size_t)snprintf(buf + n, len - n, "%sshared", n ? "," : "");
	if (flags & ~ACCORD_USER_FLAGS_KNOWN)
		snprintf(buf + n, len - n, "%s0x%" PRIx32, n ? "," : "",
			 flags & ~ACCORD_USER_FLAGS_KNOWN);
}

static const char *racf_id(const struct accord_user *u)
{
	return u->racf_id && u->racf_id[0] ? u->racf_id : NULL;
}

static void user_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
		     const struct accord_state *sb, size_t ib)
{
	const struct accord_user *a = accord_state_user_at(sa, ia);
	const struct accord_user *b = accord_state_user_at(sb, ib);
	const uint32_t st_mask = ACCORD_STATUS_MASK;

	cmp_u32(o, "uid", a->uid, b->uid);
	cmp_u32(o, "gid", a->gid, b->gid);
	cmp_str(o, "gecos", a->gecos, b->gecos);
	cmp_str(o, "home", a->home, b->home);
	cmp_str(o, "shell", a->shell, b->shell);
	if ((a->flags & st_mask) != (b->flags & st_mask))
		field_add(o, "status", status_name(a->flags), status_name(b->flags));
	if ((a->flags & ~st_mask) != (b->flags & ~st_mask)) {
		char x[96], y[96];

		flags_text(a->flags & ~st_mask, x, sizeof(x));
		flags_text(b->flags & ~st_mask, y, sizeof(y));
		field_add(o, "flags", x, y);
	}
	cmp_str(o, "reason", a->reason && a->reason[0] ? a->reason : NULL,
		b->reason && b->reason[0] ? b->reason : NULL);
	cmp_time(o, "revoke_date", a->revoke_date, b->revoke_date, true);
	cmp_time(o, "resume_date", a->resume_date, b->resume_date, true);
	cmp_str(o, "racf_id", racf_id(a), racf_id(b));
	cmp_time(o, "created", a->created, b->created, false);
}

/* ---- groups ----------------------------------------------------------------- */

static char *group_key(const struct accord_state *st, size_t i)
{
	const struct accord_group *g = accord_state_group_at(st, i);

	return g && g->live ? key_dup("", g->name) : NULL;
}

static int cmp_cstr(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The member names of g, sorted (NULL with *n 0 when none); -ENOMEM. */
static int member_names(const struct accord_state *st, const struct accord_group *g,
			const char ***out, size_t *n)
{
	const char **v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (!g->nmembers)
		return 0;
	v = malloc(g->nmembers * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < g->nmembers; i++) {
		const struct accord_user *u = accord_state_user_at(st, g->members[i]);

		if (u && u->live)
			v[k++] = u->name;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_cstr);
	*out = v;
	*n = k;
	return 0;
}

static char *join(const char **v, size_t n)
{
	size_t len = 1, i, off = 0;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (i)
			s[off++] = ',';
		memcpy(s + off, v[i], l);
		off += l;
	}
	s[off] = '\0';
	return s;
}

static void group_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
		      const struct accord_state *sb, size_t ib)
{
	const struct accord_group *a = accord_state_group_at(sa, ia);
	const struct accord_group *b = accord_state_group_at(sb, ib);
	const char **ma = NULL, **mb = NULL;
	size_t na = 0, nb = 0, i;
	bool same;

	cmp_u32(o, "gid", a->gid, b->gid);
	if ((a->flags & ACCORD_F_SHARED_ID) != (b->flags & ACCORD_F_SHARED_ID))
		field_add(o, "flags", a->flags & ACCORD_F_SHARED_ID ? "shared" : "",
			  b->flags & ACCORD_F_SHARED_ID ? "shared" : "");
	cmp_time(o, "created", a->created, b->created, false);
	if (member_names(sa, a, &ma, &na) < 0 || member_names(sb, b, &mb, &nb) < 0) {
		o->b->err = -ENOMEM;
		goto out;
	}
	same = na == nb;
	for (i = 0; same && i < na; i++)
		same = !strcmp(ma[i], mb[i]);
	if (!same) {
		char *x = join(ma, na), *y = join(mb, nb);

		if (x && y)
			field_add(o, "members", x, y);
		else
			o->b->err = -ENOMEM;
		free(x);
		free(y);
	}
out:
	free(ma);
	free(mb);
}

/* ---- applications ----------------------------------------------------------- */

static char *appl_key(const struct accord_state *st, size_t i)
{
	const struct accord_appl *a = accord_state_appl_at(st, i);

	return a && a->live ? key_dup("", a->name) : NULL;
}

static const char *ace_kind(uint32_t k)
{
	return k == ACCORD_ACE_USER ? "user" : k == ACCORD_ACE_GROUP ? "group" : "?";
}

/* Entries are sorted by (kind, name) in both: one merge. */
static int ace_order(const struct accord_ace *x, const struct accord_ace *y)
{
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void ace_field(struct obj *o, const struct accord_ace *e, const struct accord_ace *x,
		      const struct accord_ace *y)
{
	char f[ACCORD_NAME_MAX + 32];

	snprintf(f, sizeof(f), "access:%s:%s", ace_kind(e->kind), e->name);
	field_add(o, f, x ? accord_access_name(x->access) : NULL,
		  y ? accord_access_name(y->access) : NULL);
}

static void appl_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
		     const struct accord_state *sb, size_t ib)
{
	const struct accord_appl *a = accord_state_appl_at(sa, ia);
	const struct accord_appl *b = accord_state_appl_at(sb, ib);
	uint32_t i = 0, j = 0;

	if (a->uacc != b->uacc)
		field_add(o, "uacc", accord_access_name(a->uacc), accord_access_name(b->uacc));
	cmp_time(o, "created", a->created, b->created, false);
	while (i < a->nentries || j < b->nentries) {
		int c = i == a->nentries ? 1 : j == b->nentries ? -1
			: ace_order(&a->entries[i], &b->entries[j]);

		if (c < 0) {
			ace_field(o, &a->entries[i], &a->entries[i], NULL);
			i++;
		} else if (c > 0) {
			ace_field(o, &b->entries[j], NULL, &b->entries[j]);
			j++;
		} else {
			if (a->entries[i].access != b->entries[j].access)
				ace_field(o, &a->entries[i], &a->entries[i], &b->entries[j]);
			i++;
			j++;
		}
	}
}

/* ---- swap rules --------------------------------------------------------------- */

static char *swap_key(const struct accord_state *st, size_t i)
{
	const struct accord_swap_rule *s = accord_state_swap_at(st, i);
	char *k;

	if (!s || !s->live)
		return NULL;
	k = malloc(strlen(s->from) + strlen(s->to) + 3);
	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	sprintf(k, "%s->%s", s->from, s->to);
	return k;
}

static const char *swap_kind(uint32_t k)
{
	return k == ACCORD_SWAP_PERMIT ? "permit" : k == ACCORD_SWAP_DENY ? "deny" : "?";
}

static void swap_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
		     const struct accord_state *sb, size_t ib)
{
	const struct accord_swap_rule *a = accord_state_swap_at(sa, ia);
	const struct accord_swap_rule *b = accord_state_swap_at(sb, ib);

	if (a->kind != b->kind)
		field_add(o, "kind", swap_kind(a->kind), swap_kind(b->kind));
	cmp_time(o, "created", a->created, b->created, false);
}

/* ---- certificate maps, registrations, criteria ------------------------------------- */

static const char *map_status(uint32_t s)
{
	return s == ACCORD_MAP_NOTRUST ? "notrust" : s == ACCORD_MAP_TRUST ? "trust" : "?";
}

static char *certmap_key(const struct accord_state *st, size_t i)
{
	const struct accord_certmap *m = accord_state_certmap_at(st, i);
	const char *owner;
	char *k;

	if (!m || !m->live)
		return NULL;
	owner = m->user ? m->user : "MULTIID";
	k = malloc(strlen(owner) + strlen(m->label) + 6);
	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	sprintf(k, "map:%s/%s", owner, m->label);
	return k;
}

static void certmap_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
			const struct accord_state *sb, size_t ib)
{
	const struct accord_certmap *a = accord_state_certmap_at(sa, ia);
	const struct accord_certmap *b = accord_state_certmap_at(sb, ib);

	cmp_str(o, "criteria", a->criteria, b->criteria);
	cmp_str(o, "sdn", a->sdn, b->sdn);
	cmp_str(o, "idn", a->idn, b->idn);
	if (a->status != b->status)
		field_add(o, "status", map_status(a->status), map_status(b->status));
	cmp_time(o, "created", a->created, b->created, false);
}

static char *certreg_key(const struct accord_state *st, size_t i)
{
	const struct accord_certreg *r = accord_state_certreg_at(st, i);
	char h[65];

	if (!r || !r->live)
		return NULL;
	hex(r->sha256, 32, h);
	return key_dup("cert:", h);
}

static void certreg_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
			const struct accord_state *sb, size_t ib)
{
	const struct accord_certreg *a = accord_state_certreg_at(sa, ia);
	const struct accord_certreg *b = accord_state_certreg_at(sb, ib);

	cmp_str(o, "user", a->user, b->user);
	cmp_str(o, "label", a->label, b->label);
	if (a->status != b->status)
		field_add(o, "status", map_status(a->status), map_status(b->status));
	cmp_str(o, "subject", a->subject, b->subject);
	cmp_str(o, "issuer", a->issuer, b->issuer);
	cmp_str(o, "serial", a->serial, b->serial);
	cmp_time(o, "created", a->created, b->created, false);
}

static char *certcrit_key(const struct accord_state *st, size_t i)
{
	const struct accord_certcrit *c = accord_state_certcrit_at(st, i);

	return c && c->live ? key_dup("criteria:", c->name) : NULL;
}

static void certcrit_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
			 const struct accord_state *sb, size_t ib)
{
	const struct accord_certcrit *a = accord_state_certcrit_at(sa, ia);
	const struct accord_certcrit *b = accord_state_certcrit_at(sb, ib);

	cmp_str(o, "user", a->user, b->user);
	cmp_time(o, "created", a->created, b->created, false);
}

/* ---- CAs and CRLs ---------------------------------------------------------------- */

static char *ca_key(const struct accord_state *st, size_t i)
{
	const struct accord_ca *c = accord_state_ca_at(st, i);

	return c && c->live ? key_dup("ca:", c->label) : NULL;
}

static void ca_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
		   const struct accord_state *sb, size_t ib)
{
	const struct accord_ca *a = accord_state_ca_at(sa, ia);
	const struct accord_ca *b = accord_state_ca_at(sb, ib);

	if (a->status != b->status)
		field_add(o, "status", accord_ca_status_name(a->status),
			  accord_ca_status_name(b->status));
	if (memcmp(a->sha256, b->sha256, 32)) {
		char x[65], y[65];

		hex(a->sha256, 32, x);
		hex(b->sha256, 32, y);
		field_add(o, "sha256", x, y);
	}
	cmp_str(o, "subject", a->subject, b->subject);
	cmp_time(o, "not_after", a->not_after, b->not_after, false);
	cmp_time(o, "created", a->created, b->created, false);
}

static char *crl_key(const struct accord_state *st, size_t i)
{
	const struct accord_crl *c = accord_state_crl_at(st, i);

	return c && c->live ? key_dup("crl:", c->ca_label) : NULL;
}

static void der_sha256(const unsigned char *der, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		snprintf(out, 65, "?");
	else
		hex(md, 32, out);
}

static void crl_cmp(struct obj *o, const struct accord_state *sa, size_t ia,
		    const struct accord_state *sb, size_t ib)
{
	const struct accord_crl *a = accord_state_crl_at(sa, ia);
	const struct accord_crl *b = accord_state_crl_at(sb, ib);

	cmp_time(o, "last_update", a->last_update, b->last_update, false);
	cmp_time(o, "next_update", a->next_update, b->next_update, false);
	cmp_u32(o, "entries", a->entries, b->entries);
	if (a->len != b->len || memcmp(a->der, b->der, a->len)) {
		char x[65], y[65];

		der_sha256(a->der, a->len, x);
		der_sha256(b->der, b->len, y);
		field_add(o, "sha256", x, y);
	}
	cmp_time(o, "created", a->created, b->created, false);
}

/* ---- PassTicket permissions ----------------------------------------------------------- */

/* Sets of strings: A's into a map, B's looked up. */
static void diff_strings(struct builder *b, enum accord_class cls,
			 const char *const *va, size_t na,
			 const char *const *vb, size_t nb)
{
	struct nmap ma = { 0 }, mb = { 0 };
	size_t i, k;

	if (b->err)
		return;
	if (nmap_init(&ma, na) < 0 || nmap_init(&mb, nb) < 0) {
		b->err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < na; i++)
		nmap_put(&ma, va[i], i);
	for (i = 0; i < nb; i++)
		nmap_put(&mb, vb[i], i);
	for (i = 0; i < na; i++)
		if (!nmap_get(&mb, va[i], &k) && nmap_get(&ma, va[i], &k) && k == i)
			entry_new(b, cls, ACCORD_DIFF_DELETE, va[i]);
	for (i = 0; i < nb; i++)
		if (!nmap_get(&ma, vb[i], &k) && nmap_get(&mb, vb[i], &k) && k == i)
			entry_new(b, cls, ACCORD_DIFF_ADD, vb[i]);
out:
	nmap_free(&ma);
	nmap_free(&mb);
}

/* ---- the whole ------------------------------------------------------------------------- */

static int entry_order(const void *x, const void *y)
{
	const struct accord_diff_entry *a = x, *b = y;
	int c;

	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	return a->op < b->op ? -1 : a->op > b->op;
}

int accord_state_diff(const struct accord_state *a, const struct accord_state *b,
		      const char *const *ptauth_a, size_t na,
		      const char *const *ptauth_b, size_t nb,
		      struct accord_diff *out, struct accord_err *err)
{
	struct builder bl = { .d = out };

	memset(out, 0, sizeof(*out));
	if (!a || !b)
		return accord_err_set(err, -EINVAL, "two states are needed for a diff");
	diff_class(&bl, ACCORD_CLASS_USER, a, accord_state_user_slots(a), b,
		   accord_state_user_slots(b), user_key, user_cmp);
	diff_class(&bl, ACCORD_CLASS_GROUP, a, accord_state_group_slots(a), b,
		   accord_state_group_slots(b), group_key, group_cmp);
	diff_class(&bl, ACCORD_CLASS_APPL, a, accord_state_appl_slots(a), b,
		   accord_state_appl_slots(b), appl_key, appl_cmp);
	diff_class(&bl, ACCORD_CLASS_SWAP, a, accord_state_swap_slots(a), b,
		   accord_state_swap_slots(b), swap_key, swap_cmp);
	diff_class(&bl, ACCORD_CLASS_CERTMAP, a, accord_state_certmap_slots(a), b,
		   accord_state_certmap_slots(b), certmap_key, certmap_cmp);
	diff_class(&bl, ACCORD_CLASS_CERTMAP, a, accord_state_certreg_slots(a), b,
		   accord_state_certreg_slots(b), certreg_key, certreg_cmp);
	diff_class(&bl, ACCORD_CLASS_CERTMAP, a, accord_state_certcrit_slots(a), b,
		   accord_state_certcrit_slots(b), certcrit_key, certcrit_cmp);
	diff_class(&bl, ACCORD_CLASS_CA, a, accord_state_ca_slots(a), b,
		   accord_state_ca_slots(b), ca_key, ca_cmp);
	diff_class(&bl, ACCORD_CLASS_CA, a, accord_state_crl_slots(a), b,
		   accord_state_crl_slots(b), crl_key, crl_cmp);
	/* PassTicket permissions only when both sides are known */
	if (ptauth_a && ptauth_b)
		diff_strings(&bl, ACCORD_CLASS_PTAUTH, ptauth_a, na, ptauth_b, nb);
	if (bl.err) {
		accord_diff_free(out);
		return accord_err_set(err, bl.err, "out of memory comparing the states");
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), entry_order);
	return 0;
}

void accord_diff_free(struct accord_diff *d)
{
	size_t i, j;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		struct accord_diff_entry *e = &d->v[i];

		for (j = 0; j < e->nfields; j++) {
			char *owned;

			/* the field name was strdup'd by field_add() */
			memcpy(&owned, &e->fields[j].field, sizeof(owned));
			free(owned);
			free(e->fields[j].a);
			free(e->fields[j].b);
		}
		free(e->fields);
		free(e->name);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- output ----------------------------------------------------------------------------- */

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *accord_diff_json(const struct accord_diff *d)
{
	json_object *o = json_object_new_object(), *sum = json_object_new_object();
	json_object *ch = json_object_new_array_ext((int)(d->n < 1 ? 1 : d->n));
	size_t i, j;
	int c, k;

	for (c = 0; c < ACCORD_CLASS_COUNT; c++) {
		json_object *cs = json_object_new_object();

		for (k = 0; k < 3; k++)
			json_object_object_add(cs, op_names[k],
					       json_object_new_int64((int64_t)d->count[c][k]));
		json_object_object_add(sum, class_names[c], cs);
	}
	for (i = 0; i < d->n; i++) {
		const struct accord_diff_entry *e = &d->v[i];
		json_object *eo = json_object_new_object(), *fs = json_object_new_array();

		json_object_object_add(eo, "class", json_object_new_string(class_names[e->cls]));
		json_object_object_add(eo, "op", json_object_new_string(op_names[e->op]));
		json_object_object_add(eo, "name", json_object_new_string(e->name));
		for (j = 0; j < e->nfields; j++) {
			json_object *fo = json_object_new_object();

			json_object_object_add(fo, "field",
					       json_object_new_string(e->fields[j].field));
			json_object_object_add(fo, "a", str_or_null(e->fields[j].a));
			json_object_object_add(fo, "b", str_or_null(e->fields[j].b));
			json_object_array_add(fs, fo);
		}
		json_object_object_add(eo, "fields", fs);
		json_object_array_add(ch, eo);
	}
	json_object_object_add(o, "summary", sum);
	json_object_object_add(o, "changes", ch);
	return o;
}

/* A value for the text output: (none) when absent, "" when empty, and
 * control characters never printed raw. */
static void put_value(const char *v, FILE *f)
{
	const unsigned char *p;

	if (!v) {
		fputs("(none)", f);
		return;
	}
	if (!v[0]) {
		fputs("\"\"", f);
		return;
	}
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

void accord_diff_print(const struct accord_diff *d, const char *label_a,
		       const char *label_b, FILE *f)
{
	static const char marks[3] = { '+', '-', '~' };
	size_t i, j, total = 0;
	int c, first = 1;

	fprintf(f, "--- %s\n+++ %s\n", label_a ? label_a : "A", label_b ? label_b : "B");
	for (i = 0; i < d->n; i++) {
		const struct accord_diff_entry *e = &d->v[i];

		if (e->op != ACCORD_DIFF_CHANGE || !e->nfields) {
			fprintf(f, "%c %s %s\n", marks[e->op], class_nouns[e->cls], e->name);
			continue;
		}
		for (j = 0; j < e->nfields; j++) {
			fprintf(f, "~ %s %s: %s ", class_nouns[e->cls], e->name,
				e->fields[j].field);
			put_value(e->fields[j].a, f);
			fputs(" -> ", f);
			put_value(e->fields[j].b, f);
			fputc('\n', f);
		}
	}
	for (c = 0; c < ACCORD_CLASS_COUNT; c++)
		total += d->count[c][0] + d->count[c][1] + d->count[c][2];
	if (!total) {
		fputs("no differences\n", f);
		return;
	}
	fprintf(f, "%zu difference%s:", total, total == 1 ? "" : "s");
	for (c = 0; c < ACCORD_CLASS_COUNT; c++) {
		if (!(d->count[c][0] + d->count[c][1] + d->count[c][2]))
			continue;
		fprintf(f, "%s %s +%zu -%zu ~%zu", first ? "" : ";", class_names[c],
			d->count[c][0], d->count[c][1], d->count[c][2]);
		first = 0;
	}
	fputc('\n', f);
}
