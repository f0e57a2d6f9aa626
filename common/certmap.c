/* SPDX-License-Identifier: MIT */
/*
 * Certificate maps, registered certificates, criteria entries, CAs and
 * CRLs in the state (include/accord/certmap.h): the operations (each
 * checks everything before it changes anything), the snapshot section
 * they are written to (common/certdb_format.h), its loader, and their
 * journal entries.
 */
#include <accord/certmap.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <accord/certverify.h>
#include <accord/jsonfmt.h>

#include "certdb_format.h"
#include "hash.h"
#include "snapshot_format.h"
#include "state_priv.h"

#define KEY_CAP 8192u

/* A label's slot: maps and registrations share one namespace per owner. */
struct lslot {
	char *key;      /* owner 0x1f label */
	uint8_t type;   /* CDB_MAP or CDB_REG */
	uint32_t idx;
};

struct certstore {
	struct accord_certmap *maps;
	char **mkeys;                   /* the maps' canonical keys */
	size_t nmaps, capm;
	struct accord_certreg *regs;
	size_t nregs, capr;
	struct accord_certcrit *crits;
	size_t ncrits, capc;
	struct accord_ca *cas;
	size_t ncas, capa;
	struct accord_crl *crls;
	size_t ncrls, capl;
	struct lslot *labels;
	size_t nlabels, capls;
	struct strmap by_key;           /* live map key -> map index */
	struct strmap by_label;         /* live owner/label -> label slot */
	uint32_t label_seq;             /* for LABELnnnnnnnn */
};

static const char *map_key_of(const void *ctx, uint32_t v)
{
	const struct certstore *cs = ctx;

	return cs->mkeys[v];
}

static const char *label_key_of(const void *ctx, uint32_t v)
{
	const struct certstore *cs = ctx;

	return cs->labels[v].key;
}

static struct certstore *store_of(struct accord_state *st)
{
	struct certstore *cs;

	if (st->certs)
		return st->certs;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	if (strmap_init(&cs->by_key, map_key_of, cs, 16) ||
	    strmap_init(&cs->by_label, label_key_of, cs, 16)) {
		strmap_free(&cs->by_key);
		free(cs);
		return NULL;
	}
	st->certs = cs;
	return cs;
}

void state_certs_free(struct accord_state *st)
{
	struct certstore *cs = st->certs;
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->nmaps; i++) {
		struct accord_certmap *m = &cs->maps[i];

		free(m->label);
		free(m->user);
		free(m->criteria);
		free(m->sdn);
		free(m->idn);
		free(cs->mkeys[i]);
	}
	for (i = 0; i < cs->nregs; i++) {
		struct accord_certreg *g = &cs->regs[i];

		free(g->label);
		free(g->user);
		free(g->issuer);
		free(g->issuer_key);
		free(g->serial);
		free(g->subject);
		free(g->der);
	}
	for (i = 0; i < cs->ncrits; i++) {
		free(cs->crits[i].name);
		free(cs->crits[i].user);
	}
	for (i = 0; i < cs->ncas; i++) {
		free(cs->cas[i].label);
		free(cs->cas[i].der);
		free(cs->cas[i].subject);
	}
	for (i = 0; i < cs->ncrls; i++) {
		free(cs->crls[i].ca_label);
		free(cs->crls[i].der);
	}
	for (i = 0; i < cs->nlabels; i++)
		free(cs->labels[i].key);
	free(cs->maps);
	free(cs->mkeys);
	free(cs->regs);
	free(cs->crits);
	free(cs->cas);
	free(cs->crls);
	free(cs->labels);
	strmap_free(&cs->by_key);
	strmap_free(&cs->by_label);
	free(cs);
	st->certs = NULL;
}

/* ---- read access ------------------------------------------------------ */

#define SLOTS(kind, field, n)                                                          \
	size_t accord_state_##kind##_slots(const struct accord_state *st)              \
	{                                                                              \
		return st->certs ? st->certs->n : 0;                                   \
	}                                                                              \
	const struct accord_##kind *accord_state_##kind##_at(const struct accord_state *st, \
							     size_t i)                  \
	{                                                                              \
		return &st->certs->field[i];                                           \
	}
SLOTS(certmap, maps, nmaps)
SLOTS(certreg, regs, nregs)
SLOTS(certcrit, crits, ncrits)
SLOTS(ca, cas, ncas)
SLOTS(crl, crls, ncrls)
#undef SLOTS

/* ---- helpers ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const char *owner_of(const char *user)
{
	return user ? user : "MULTIID";
}

static char *label_key(const char *owner, const char *label)
{
	size_t a = strlen(owner), b = strlen(label);
	char *k = malloc(a + b + 2);

	if (k) {
		memcpy(k, owner, a);
		k[a] = CDB_KEY_SEP;
		memcpy(k + a + 1, label, b + 1);
	}
	return k;
}

/* Looks up a label: its slot, or -ENOENT.  owner NULL: any owner, and the
 * label must then be unique (-EEXIST lists the owners in err). */
static int find_label(const struct certstore *cs, const char *label, const char *owner,
		      uint32_t *slot, struct accord_err *err)
{
	size_t i, hits = 0;
	char owners[200] = "";

	if (owner) {
		char *k = label_key(!strcmp(owner, "") ? "MULTIID" : owner, label);
		bool found;

		if (!k)
			return accord_err_set(err, -ENOMEM, "out of memory");
		found = strmap_get(&cs->by_label, k, slot);
		free(k);
		return found ? 0 : accord_err_set(err, -ENOENT, "no certificate map or "
						  "registration labelled '%s' for %s", label, owner);
	}
	for (i = 0; i < cs->nlabels; i++) {
		const char *k = cs->labels[i].key, *sep;
		uint32_t v;

		if (!k || !(sep = strchr(k, CDB_KEY_SEP)) || strcmp(sep + 1, label))
			continue;
		if (!strmap_get(&cs->by_label, k, &v) || v != i)
			continue;
		if (hits++)
			strncat(owners, ", ", sizeof(owners) - strlen(owners) - 1);
		strncat(owners, k, (size_t)(sep - k) < sizeof(owners) - strlen(owners) - 1 ?
			(size_t)(sep - k) : sizeof(owners) - strlen(owners) - 1);
		*slot = (uint32_t)i;
	}
	if (hits == 0)
		return accord_err_set(err, -ENOENT, "no certificate map or registration "
				      "labelled '%s'", label);
	if (hits > 1)
		return accord_err_set(err, -EEXIST, "label '%s' is used by %s: name the "
				      "owner with --user", label, owners);
	return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	return state_grow(arr, cap, need, elem);
}

static int add_label(struct certstore *cs, const char *owner, const char *label,
		     uint8_t type, uint32_t idx)
{
	char *k = label_key(owner, label);

	if (!k || grow((void **)&cs->labels, &cs->capls, cs->nlabels + 1, sizeof(*cs->labels))) {
		free(k);
		return -ENOMEM;
	}
	cs->labels[cs->nlabels] = (struct lslot){ k, type, idx };
	if (strmap_put(&cs->by_label, (uint32_t)cs->nlabels) < 0) {
		free(k);
		return -ENOMEM;
	}
	cs->nlabels++;
	return 0;
}

static int check_label(const char *label, struct accord_err *err)
{
	size_t i, n = strlen(label);

	if (n == 0 || n > ACCORD_LABEL_MAX)
		return accord_err_set(err, -EINVAL, "a label has 1 to %d characters; "
				      "'%s' has %zu", ACCORD_LABEL_MAX, label, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f || label[i] == CDB_KEY_SEP)
			return accord_err_set(err, -EINVAL, "label '%s' contains a control "
					      "character", label);
	if (label[0] == ' ' || label[n - 1] == ' ')
		return accord_err_set(err, -EINVAL, "label '%s' begins or ends with a space",
				      label);
	return 0;
}

static bool label_taken(const struct certstore *cs, const char *owner, const char *label)
{
	uint32_t v;

	return find_label(cs, label, owner, &v, NULL) == 0;
}

static void next_label(struct certstore *cs, const char *owner, char *out, size_t cap)
{
	do
		snprintf(out, cap, "LABEL%08u", ++cs->label_seq);
	while (label_taken(cs, owner, out));
}

static int live_user(struct accord_state *st, const char *user, struct accord_err *err)
{
	if (!user || !accord_state_user(st, user))
		return accord_err_set(err, -ENOENT, "user '%s' does not exist", user ? user : "");
	return 0;
}

static int key_of(const struct accord_dn *dn, char *buf, size_t cap)
{
	return dn ? accord_dn_key(dn, dn->nrdn, buf, cap) : 0;
}

static void sha_hex(const unsigned char *sha, char *out)
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

static X509 *parse_der(const unsigned char *der, size_t len, struct accord_err *err)
{
	const unsigned char *p = der;
	X509 *x = NULL;

	if (len <= 1u << 20)
		x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		accord_err_set(err, -EINVAL, "not a certificate (DER or PEM expected)");
		return NULL;
	}
	return x;
}

static int name_text(const X509_NAME *n, char **out, struct accord_dn **dn_out,
		     struct accord_err *err)
{
	unsigned char *der = NULL;
	struct accord_dn *dn = NULL;
	char buf[4096];
	int len = i2d_X509_NAME(n, &der), r;

	if (len <= 0)
		return accord_err_set(err, -EINVAL, "the certificate's name does not encode");
	r = accord_dn_from_der(der, (size_t)len, &dn, err);
	OPENSSL_free(der);
	if (r < 0)
		return r;
	r = accord_dn_format(dn, ACCORD_DN_STYLE_RFC4514, buf, sizeof(buf));
	if (r < 0) {
		accord_dn_free(dn);
		return accord_err_set(err, -EINVAL, "the certificate's name is too long");
	}
	*out = strdup(buf);
	if (dn_out)
		*dn_out = dn;
	else
		accord_dn_free(dn);
	return *out ? 0 : -ENOMEM;
}

/* ---- certificate maps ------------------------------------------------- */

static int parse_filter(const char *what, const char *text, struct accord_dn **out,
			struct accord_err *err)
{
	int r = accord_dn_parse(text, ACCORD_DN_AUTO, 0, out, err);

	if (r < 0 && err)
		accord_err_prefix(err, r, "%s filter", what);
	return r;
}

/* Is dn the full name of a CA in the registry? */
static bool is_ca_name(const struct certstore *cs, const struct accord_dn *dn)
{
	char a[KEY_CAP], b[KEY_CAP];
	size_t i;

	if (key_of(dn, a, sizeof(a)) < 0)
		return false;
	for (i = 0; i < cs->ncas; i++) {
		struct accord_dn *cd = NULL;
		bool same;

		if (!cs->cas[i].live ||
		    accord_dn_parse(cs->cas[i].subject, ACCORD_DN_RFC4514, 0, &cd, NULL) < 0)
			continue;
		same = key_of(cd, b, sizeof(b)) >= 0 && !strcmp(a, b);
		accord_dn_free(cd);
		if (same)
			return true;
	}
	return false;
}

static size_t live_cas(const struct certstore *cs)
{
	size_t i, n = 0;

	for (i = 0; i < cs->ncas; i++)
		n += cs->cas[i].live && cs->cas[i].status != ACCORD_CA_NOTRUST;
	return n;
}

static void warn(struct accord_certmap_warn *w, const char *text)
{
	if (w && w->n < 4)
		snprintf(w->text[w->n++], sizeof(w->text[0]), "%s", text);
}

/* With --from-cert: the filter is the certificate's name from the starting
 * point to the end (RACF's MAP(dsn)), written back as RFC 4514 text. */
static int from_start(const char *what, const struct accord_dn *name, const char *start,
		      char **text, size_t *count, struct accord_err *err)
{
	struct accord_dn *sp = NULL, suffix;
	char buf[4096];
	size_t k = name->nrdn;
	int r;

	if (start) {
		r = parse_filter(what, start, &sp, err);
		if (r < 0)
			return r;
		if (sp->nrdn != 1) {
			accord_dn_free(sp);
			return accord_err_set(err, -EINVAL, "the %s starting point is one "
					      "component (TYPE=value)", what);
		}
		r = accord_dn_starting_point(name, sp, &k);
		accord_dn_free(sp);
		if (r < 0)
			return accord_err_set(err, -EINVAL, "%s starting point '%s' not found "
					      "in the certificate (RACF IRRD141I)", what, start);
	}
	if (k == 0)
		return accord_err_set(err, -EINVAL, "the certificate's %s name is empty", what);
	suffix = (struct accord_dn){ name->rdn + (name->nrdn - k), k, 0 };
	r = accord_dn_format(&suffix, ACCORD_DN_STYLE_RFC4514, buf + 8, sizeof(buf) - 8);
	if (r < 0)
		return accord_err_set(err, -EINVAL, "the certificate's %s name is too long", what);
	memcpy(buf, "rfc4514:", 8);
	*text = strdup(buf);
	*count = k;
	return *text ? 0 : -ENOMEM;
}

int accord_certmap_add(struct accord_state *st, const struct accord_certmap_spec *spec,
		       struct accord_certmap_warn *w, struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	struct accord_dn *sdn = NULL, *idn = NULL;
	char *sdn_text = NULL, *idn_text = NULL, *key = NULL, genlabel[ACCORD_LABEL_MAX + 1];
	const char *owner = owner_of(spec->multiid ? NULL : spec->user), *label = spec->label;
	struct accord_certmap *m;
	uint32_t existing;
	int r, ks, ki;

	if (w)
		w->n = 0;
	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if (spec->multiid == !!spec->user)
		return accord_err_set(err, -EINVAL, "give either a user or MULTIID");
	if (spec->multiid != !!(spec->criteria && *spec->criteria))
		return accord_err_set(err, -EINVAL, spec->multiid ?
				      "a MULTIID map needs criteria (e.g. SERVICE=&SERVICE)" :
				      "criteria are only for MULTIID maps");
	if (spec->criteria && (strlen(spec->criteria) > ACCORD_CRITERIA_MAX ||
			       strchr(spec->criteria, CDB_KEY_SEP)))
		return accord_err_set(err, -EINVAL, "criteria longer than %d characters",
				      ACCORD_CRITERIA_MAX);
	if (!spec->from_cert && !(spec->sdn && *spec->sdn) && !(spec->idn && *spec->idn))
		return accord_err_set(err, -EINVAL, "a map needs a subject filter, an issuer "
				      "filter or both");
	if (spec->user && (r = live_user(st, spec->user, err)) < 0)
		return r;
	if (label && (r = check_label(label, err)) < 0)
		return r;
	if (label && label_taken(cs, owner, label))
		return accord_err_set(err, -EEXIST, "%s already has a map or registration "
				      "labelled '%s'", owner, label);

	if (spec->from_cert) {
		struct accord_certnames cn;
		size_t ks_n = 0, ki_n = 0;

		r = accord_certnames_from_der(spec->from_cert, spec->from_cert_len, &cn, err);
		if (r < 0)
			return r;
		if (spec->sdn && *spec->sdn)
			r = from_start("subject", cn.subject, spec->sdn, &sdn_text, &ks_n, err);
		if (r == 0 && spec->idn && *spec->idn)
			r = from_start("issuer", cn.issuer, spec->idn, &idn_text, &ki_n, err);
		if (r == 0 && !sdn_text && !idn_text) {
			r = from_start("subject", cn.subject, NULL, &sdn_text, &ks_n, err);
			if (r == 0)
				r = from_start("issuer", cn.issuer, NULL, &idn_text, &ki_n, err);
		}
		if (r == 0 && sdn_text && idn_text && ki_n < cn.issuer->nrdn)
			r = accord_err_set(err, -EINVAL, "a subject filter cannot go with a "
					   "partial issuer filter (RACF IRRD146I): it would "
					   "never be searched");
		accord_certnames_clear(&cn);
		if (r < 0)
			goto out;
	} else {
		sdn_text = dup_or_null(spec->sdn && *spec->sdn ? spec->sdn : NULL);
		idn_text = dup_or_null(spec->idn && *spec->idn ? spec->idn : NULL);
		if ((spec->sdn && *spec->sdn && !sdn_text) || (spec->idn && *spec->idn && !idn_text))
			goto nomem;
	}
	if (sdn_text && (r = parse_filter("subject", sdn_text, &sdn, err)) < 0)
		goto out;
	if (idn_text && (r = parse_filter("issuer", idn_text, &idn, err)) < 0)
		goto out;
	if (!spec->from_cert && sdn && idn && !is_ca_name(cs, idn)) {
		r = accord_err_set(err, -EINVAL, "with a subject filter, the issuer filter "
				   "must be the full name of a CA in the registry (RACF never "
				   "searches a subject with a partial issuer); add the CA first "
				   "with 'accordctl ca add'");
		goto out;
	}
	key = malloc(2 * KEY_CAP + 2);
	if (!key)
		goto nomem;
	key[0] = 0;
	ks = key_of(sdn, key, KEY_CAP);
	if (ks >= 0)
		key[ks + 1] = 0; /* an absent issuer filter writes nothing */
	ki = ks < 0 ? ks : key_of(idn, key + ks + 1, KEY_CAP);
	if (ks < 0 || ki < 0) {
		r = accord_err_set(err, -EINVAL, "filter too long");
		goto out;
	}
	key[ks] = CDB_KEY_SEP;
	if (strmap_get(&cs->by_key, key, &existing)) {
		m = &cs->maps[existing];
		r = accord_err_set(err, -EEXIST, "the same filters are already mapped by "
				   "label '%s' of %s", m->label, owner_of(m->user));
		goto out;
	}
	if (!label) {
		next_label(cs, owner, genlabel, sizeof(genlabel));
		label = genlabel;
	}
	if (grow((void **)&cs->maps, &cs->capm, cs->nmaps + 1, sizeof(*cs->maps)))
		goto nomem;
	{
		/* mkeys grows with maps: keep its capacity in step */
		char **mk = realloc(cs->mkeys, cs->capm * sizeof(char *));

		if (!mk)
			goto nomem;
		cs->mkeys = mk;
	}
	m = &cs->maps[cs->nmaps];
	memset(m, 0, sizeof(*m));
	m->label = strdup(label);
	m->user = dup_or_null(spec->multiid ? NULL : spec->user);
	m->criteria = dup_or_null(spec->multiid ? spec->criteria : NULL);
	m->sdn = sdn_text;
	m->idn = idn_text;
	m->status = spec->notrust ? ACCORD_MAP_NOTRUST : ACCORD_MAP_TRUST;
	m->created = m->changed = st->now;
	m->live = true;
	m->old_off = UINT32_MAX;
	cs->mkeys[cs->nmaps] = key;
	if (!m->label || (!spec->multiid && !m->user) || (spec->multiid && !m->criteria)) {
		free(m->label);
		free(m->user);
		free(m->criteria);
		m->sdn = m->idn = NULL;
		goto nomem;
	}
	if (strmap_put(&cs->by_key, (uint32_t)cs->nmaps) < 0 ||
	    add_label(cs, owner, label, CDB_MAP, (uint32_t)cs->nmaps) < 0) {
		strmap_del(&cs->by_key, key);
		free(m->label);
		free(m->user);
		free(m->criteria);
		m->sdn = m->idn = NULL;
		goto nomem;
	}
	cs->nmaps++;
	key = NULL;
	sdn_text = idn_text = NULL;
	/* RACF's single '.' separator: a certificate value with a trailing
	 * '.' also matches.  Every dotted filter has such separators, so the
	 * warning is given where it matters: when a match needed the rule
	 * (certmap test says so), not here. */
	if ((sdn && (sdn->warnings & ACCORD_DN_W_MAIL)) ||
	    (idn && (idn->warnings & ACCORD_DN_W_MAIL)))
		warn(w, "MAIL= is the LDAP mail attribute; IBM listings sometimes mean E= "
			"(emailAddress)");
	if (sdn && !idn && sdn->nrdn <= 2)
		warn(w, "a subject-only filter of 2 or fewer components maps certificates "
			"from every trusted CA");
	else if (sdn && !idn && live_cas(cs) > 1)
		warn(w, "a subject-only filter matches certificates from every trusted CA "
			"(more than one is trusted)");
	r = 0;
	goto out;
nomem:
	r = accord_err_set(err, -ENOMEM, "out of memory");
out:
	accord_dn_free(sdn);
	accord_dn_free(idn);
	free(sdn_text);
	free(idn_text);
	free(key);
	return r;
}

static void drop_label(struct certstore *cs, uint32_t slot)
{
	strmap_del(&cs->by_label, cs->labels[slot].key);
}

int accord_certmap_alter(struct accord_state *st, const char *label, const char *user,
			 const char *new_label, int status, struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	struct lslot *ls;
	const char *owner;
	char **lab;
	uint32_t slot, *stp;
	bool *dirty;
	int64_t *changed;
	int r;

	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	r = find_label(cs, label, user, &slot, err);
	if (r < 0)
		return r;
	ls = &cs->labels[slot];
	if (ls->type == CDB_MAP) {
		struct accord_certmap *m = &cs->maps[ls->idx];

		owner = owner_of(m->user);
		lab = &m->label;
		stp = &m->status;
		dirty = &m->dirty;
		changed = &m->changed;
	} else {
		struct accord_certreg *g = &cs->regs[ls->idx];

		owner = g->user;
		lab = &g->label;
		stp = &g->status;
		dirty = &g->dirty;
		changed = &g->created;
	}
	if (new_label && (r = check_label(new_label, err)) < 0)
		return r;
	if (new_label && strcmp(new_label, *lab) && label_taken(cs, owner, new_label))
		return accord_err_set(err, -EEXIST, "%s already has a map or registration "
				      "labelled '%s'", owner, new_label);
	if ((!new_label || !strcmp(new_label, *lab)) && (status < 0 || (uint32_t)status == *stp))
		return 1;
	if (new_label && strcmp(new_label, *lab)) {
		char *nl = strdup(new_label);
		uint8_t type = ls->type;
		uint32_t idx = ls->idx;

		if (!nl || add_label(cs, owner, new_label, type, idx) < 0) {
			free(nl);
			return accord_err_set(err, -ENOMEM, "out of memory");
		}
		drop_label(cs, slot);
		free(*lab);
		*lab = nl;
	}
	if (status >= 0)
		*stp = (uint32_t)status;
	*dirty = true;
	if (changed != NULL && ls->type == CDB_MAP)
		*changed = st->now;
	return 0;
}

int accord_certmap_del(struct accord_state *st, const char *label, const char *user,
		       struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	uint32_t slot;
	int r;

	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	r = find_label(cs, label, user, &slot, err);
	if (r < 0)
		return r;
	if (cs->labels[slot].type == CDB_MAP) {
		uint32_t i = cs->labels[slot].idx;

		strmap_del(&cs->by_key, cs->mkeys[i]);
		cs->maps[i].live = false;
	} else {
		cs->regs[cs->labels[slot].idx].live = false;
	}
	drop_label(cs, slot);
	return 0;
}

/* ---- registered certificates ------------------------------------------ */

int accord_certreg_add(struct accord_state *st, const unsigned char *der, size_t len,
		       const char *user, const char *label, bool notrust,
		       struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	struct accord_certnames cn;
	struct accord_certreg *g;
	char genlabel[ACCORD_LABEL_MAX + 1], hex[65], ikey[KEY_CAP];
	X509 *x;
	size_t i;
	int r;

	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if ((r = live_user(st, user, err)) < 0)
		return r;
	if (label && (r = check_label(label, err)) < 0)
		return r;
	if (label && label_taken(cs, user, label))
		return accord_err_set(err, -EEXIST, "%s already has a map or registration "
				      "labelled '%s'", user, label);
	x = parse_der(der, len, err);
	if (!x)
		return -EINVAL;
	r = accord_certnames_from_x509(x, &cn, err);
	if (r < 0)
		goto out_x;
	if (key_of(cn.issuer, ikey, sizeof(ikey)) < 0) {
		r = accord_err_set(err, -EINVAL, "the issuer's name is too long");
		goto out;
	}
	for (i = 0; i < cs->nregs; i++) {
		const struct accord_certreg *o = &cs->regs[i];

		if (!o->live)
			continue;
		if (!memcmp(o->sha256, cn.sha256, 32) ||
		    (!strcmp(o->serial, cn.serial) && !strcmp(o->issuer_key, ikey))) {
			r = accord_err_set(err, -EEXIST, "this certificate is already "
					   "registered to %s (label '%s')", o->user, o->label);
			goto out;
		}
	}
	if (!label) {
		next_label(cs, user, genlabel, sizeof(genlabel));
		label = genlabel;
	}
	if (grow((void **)&cs->regs, &cs->capr, cs->nregs + 1, sizeof(*cs->regs)))
		goto nomem;
	g = &cs->regs[cs->nregs];
	memset(g, 0, sizeof(*g));
	memcpy(g->sha256, cn.sha256, 32);
	g->label = strdup(label);
	g->user = strdup(user);
	g->issuer_key = strdup(ikey);
	g->serial = strdup(cn.serial);
	g->status = notrust ? ACCORD_MAP_NOTRUST : ACCORD_MAP_TRUST;
	g->created = st->now;
	g->live = true;
	g->old_off = UINT32_MAX;
	if (g->label && g->user && g->issuer_key && g->serial)
		r = name_text(X509_get_subject_name(x), &g->subject, NULL, err);
	else
		r = -ENOMEM;
	if (r == 0)
		r = name_text(X509_get_issuer_name(x), &g->issuer, NULL, err);
	if (r == 0) {
		g->der = malloc(len);
		if (g->der) {
			memcpy(g->der, der, len);
			g->der_len = len;
		} else {
			r = -ENOMEM;
		}
	}
	if (r < 0 || add_label(cs, user, label, CDB_REG, (uint32_t)cs->nregs) < 0) {
		free(g->label);
		free(g->user);
		free(g->issuer);
		free(g->issuer_key);
		free(g->serial);
		free(g->subject);
		free(g->der);
		goto nomem;
	}
	cs->nregs++;
	sha_hex(cn.sha256, hex);
	r = 0;
	goto out;
nomem:
	r = accord_err_set(err, -ENOMEM, "out of memory");
out:
	accord_certnames_clear(&cn);
out_x:
	X509_free(x);
	return r;
}

/* ---- criteria entries ------------------------------------------------- */

/* A '.' that separates components: followed by a keyword and '=' (the
 * rule templates and expanded names follow too, so values such as host
 * names and addresses keep their dots). */
static bool crit_separator(const char *p)
{
	const char *q = p + 1;

	if (*p != '.')
		return false;
	while (isalnum((unsigned char)*q) || *q == '_')
		q++;
	return q > p + 1 && *q == '=';
}

/* "KEY=value.KEY=value": keys are letters, digits and '_'; values are not
 * empty, have no blanks or control characters; '*' only at a value's end. */
static int check_crit_name(const char *name, struct accord_err *err)
{
	const char *p = name;
	size_t n = strlen(name);

	if (n == 0 || n > ACCORD_CRITERIA_MAX)
		return accord_err_set(err, -EINVAL, "a criteria name has 1 to %d characters",
				      ACCORD_CRITERIA_MAX);
	while (*p) {
		const char *k = p, *star;

		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == k || *p != '=')
			return accord_err_set(err, -EINVAL, "criteria name '%s': expected "
					      "KEYWORD=value at '%s'", name, k);
		k = ++p;
		while (*p && !crit_separator(p)) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '&')
				return accord_err_set(err, -EINVAL, "criteria name '%s': "
						      "character %d not allowed in a value",
						      name, (int)(p - name) + 1);
			p++;
		}
		if (p == k)
			return accord_err_set(err, -EINVAL, "criteria name '%s': empty value",
					      name);
		star = memchr(k, '*', (size_t)(p - k));
		if (star && star != p - 1)
			return accord_err_set(err, -EINVAL, "criteria name '%s': '*' may only "
					      "end a value", name);
		if (*p == '.')
			p++;
	}
	return 0;
}

int accord_certcrit_add(struct accord_state *st, const char *name, const char *user,
			struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	struct accord_certcrit *c;
	size_t i;
	int r;

	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if ((r = check_crit_name(name, err)) < 0 || (r = live_user(st, user, err)) < 0)
		return r;
	for (i = 0; i < cs->ncrits; i++)
		if (cs->crits[i].live && !strcasecmp(cs->crits[i].name, name)) {
			if (!strcmp(cs->crits[i].user, user))
				return 1;
			return accord_err_set(err, -EEXIST, "criteria entry '%s' already maps to "
					      "%s (delete it first)", cs->crits[i].name,
					      cs->crits[i].user);
		}
	if (grow((void **)&cs->crits, &cs->capc, cs->ncrits + 1, sizeof(*cs->crits)))
		return accord_err_set(err, -ENOMEM, "out of memory");
	c = &cs->crits[cs->ncrits];
	*c = (struct accord_certcrit){ strdup(name), strdup(user), st->now, true, false,
				       UINT32_MAX };
	if (!c->name || !c->user) {
		free(c->name);
		free(c->user);
		return accord_err_set(err, -ENOMEM, "out of memory");
	}
	cs->ncrits++;
	return 0;
}

int accord_certcrit_del(struct accord_state *st, const char *name, struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	size_t i;

	for (i = 0; cs && i < cs->ncrits; i++)
		if (cs->crits[i].live && !strcasecmp(cs->crits[i].name, name)) {
			cs->crits[i].live = false;
			return 0;
		}
	return accord_err_set(err, -ENOENT, "no criteria entry '%s'", name);
}

/* ---- CAs and CRLs ----------------------------------------------------- */

static int64_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static int find_ca(const struct certstore *cs, const char *label)
{
	size_t i;

	for (i = 0; cs && i < cs->ncas; i++)
		if (cs->cas[i].live && !strcmp(cs->cas[i].label, label))
			return (int)i;
	return -1;
}

int accord_ca_add(struct accord_state *st, const unsigned char *der, size_t len,
		  const char *label, uint32_t status, struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	struct accord_ca *ca;
	unsigned char sha[32];
	unsigned int mdlen = 0;
	char genlabel[ACCORD_LABEL_MAX + 1], *subject = NULL, *dup = NULL;
	unsigned char *copy = NULL;
	X509 *x;
	size_t i;
	int r;

	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if (status > ACCORD_CA_HIGHTRUST)
		return accord_err_set(err, -EINVAL, "bad CA status");
	if (label && (r = check_label(label, err)) < 0)
		return r;
	x = parse_der(der, len, err);
	if (!x)
		return -EINVAL;
	if (X509_check_ca(x) != 1) {
		r = accord_err_set(err, -EINVAL, "this certificate is not a CA certificate "
				   "(a version 3 certificate with basicConstraints CA:TRUE is "
				   "needed)");
		goto out;
	}
	if (!X509_digest(x, EVP_sha256(), sha, &mdlen)) {
		r = accord_err_set(err, -EINVAL, "cannot hash the certificate");
		goto out;
	}
	for (i = 0; i < cs->ncas; i++)
		if (cs->cas[i].live && !memcmp(cs->cas[i].sha256, sha, 32)) {
			r = accord_err_set(err, -EEXIST, "this CA is already in the registry "
					   "as '%s'", cs->cas[i].label);
			goto out;
		}
	if (!label) {
		unsigned k = 1;

		do
			snprintf(genlabel, sizeof(genlabel), "CA%u", k++);
		while (find_ca(cs, genlabel) >= 0);
		label = genlabel;
	} else if (find_ca(cs, label) >= 0) {
		r = accord_err_set(err, -EEXIST, "a CA labelled '%s' exists", label);
		goto out;
	}
	r = name_text(X509_get_subject_name(x), &subject, NULL, err);
	if (r < 0)
		goto out;
	copy = malloc(len);
	dup = strdup(label);
	if (!copy || !dup ||
	    grow((void **)&cs->cas, &cs->capa, cs->ncas + 1, sizeof(*cs->cas))) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(copy, der, len);
	ca = &cs->cas[cs->ncas++];
	memset(ca, 0, sizeof(*ca));
	ca->label = dup;
	ca->der = copy;
	ca->len = len;
	ca->status = status;
	ca->subject = subject;
	memcpy(ca->sha256, sha, 32);
	ca->not_after = asn1_time(X509_get0_notAfter(x));
	ca->created = st->now;
	ca->live = true;
	ca->old_off = UINT32_MAX;
	dup = subject = NULL;
	copy = NULL;
	r = 0;
out:
	free(subject);
	free(dup);
	free(copy);
	X509_free(x);
	return r;
}

int accord_ca_set_status(struct accord_state *st, const char *label, uint32_t status,
			 struct accord_err *err)
{
	struct certstore *cs = st->certs;
	int i = find_ca(cs, label);

	if (i < 0)
		return accord_err_set(err, -ENOENT, "no CA labelled '%s'", label);
	if (status > ACCORD_CA_HIGHTRUST)
		return accord_err_set(err, -EINVAL, "bad CA status");
	if (cs->cas[i].status == status)
		return 1;
	cs->cas[i].status = status;
	cs->cas[i].dirty = true;
	return 0;
}

int accord_ca_del(struct accord_state *st, const char *label, struct accord_err *err)
{
	struct certstore *cs = st->certs;
	int i = find_ca(cs, label);
	size_t k;

	if (i < 0)
		return accord_err_set(err, -ENOENT, "no CA labelled '%s'", label);
	cs->cas[i].live = false;
	for (k = 0; k < cs->ncrls; k++) /* its CRLs go with it */
		if (cs->crls[k].live && !strcmp(cs->crls[k].ca_label, label))
			cs->crls[k].live = false;
	return 0;
}

int accord_crl_add(struct accord_state *st, const unsigned char *der, size_t len,
		   struct accord_err *err)
{
	struct certstore *cs = store_of(st);
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	struct accord_crl *c;
	int64_t last, next;
	int r, ca = -1;
	size_t i;

	if (!cs)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if (len <= (1u << 20)) /* the verifier's limit too */
		crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (!crl || p != der + len) {
		X509_CRL_free(crl);
		return accord_err_set(err, -EINVAL, "not a CRL (DER or PEM expected)");
	}
	for (i = 0; i < cs->ncas && ca < 0; i++) {
		const unsigned char *q = cs->cas[i].der;
		X509 *x;

		if (!cs->cas[i].live)
			continue;
		x = d2i_X509(NULL, &q, (long)cs->cas[i].len);
		if (x && !X509_NAME_cmp(X509_get_subject_name(x), X509_CRL_get_issuer(crl)) &&
		    X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1) {
			if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
			    !(X509_get_key_usage(x) & KU_CRL_SIGN)) {
				X509_free(x);
				r = accord_err_set(err, -EINVAL, "CA '%s' signed this CRL but "
						   "its key usage has no cRLSign",
						   cs->cas[i].label);
				goto out;
			}
			ca = (int)i;
		}
		X509_free(x);
	}
	if (ca < 0) {
		r = accord_err_set(err, -EINVAL, "this CRL is not signed by any CA in the "
				   "registry (add its CA first)");
		goto out;
	}
	last = asn1_time(X509_CRL_get0_lastUpdate(crl));
	next = asn1_time(X509_CRL_get0_nextUpdate(crl));
	for (i = 0; i < cs->ncrls; i++) {
		c = &cs->crls[i];
		if (!c->live || strcmp(c->ca_label, cs->cas[ca].label))
			continue;
		if (last < c->last_update) {
			r = accord_err_set(err, -EINVAL, "this CRL is older than the one held "
					   "for CA '%s'", c->ca_label);
			goto out;
		}
		if (c->len == len && !memcmp(c->der, der, len)) {
			r = 1;
			goto out;
		}
		c->live = false; /* replaced below */
	}
	if (grow((void **)&cs->crls, &cs->capl, cs->ncrls + 1, sizeof(*cs->crls))) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	c = &cs->crls[cs->ncrls];
	memset(c, 0, sizeof(*c));
	c->ca_label = strdup(cs->cas[ca].label);
	c->der = malloc(len);
	if (!c->ca_label || !c->der) {
		free(c->ca_label);
		free(c->der);
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(c->der, der, len);
	c->len = len;
	c->last_update = last;
	c->next_update = next;
	c->created = st->now;
	{
		/* no revoked entry: OpenSSL has no stack at all (num -1) */
		int nrev = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));

		c->entries = nrev > 0 ? (uint32_t)nrev : 0;
	}
	c->live = true;
	c->old_off = UINT32_MAX;
	cs->ncrls++;
	r = 0;
out:
	X509_CRL_free(crl);
	return r;
}

void state_certs_forget_user(struct accord_state *st, const char *name)
{
	struct certstore *cs = st->certs;
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->nlabels; i++) {
		uint32_t v;
		const char *k = cs->labels[i].key, *sep = strchr(k, CDB_KEY_SEP);

		if (strncmp(k, name, (size_t)(sep - k)) || strlen(name) != (size_t)(sep - k) ||
		    !strmap_get(&cs->by_label, k, &v) || v != i)
			continue;
		if (cs->labels[i].type == CDB_MAP) {
			strmap_del(&cs->by_key, cs->mkeys[cs->labels[i].idx]);
			cs->maps[cs->labels[i].idx].live = false;
		} else {
			cs->regs[cs->labels[i].idx].live = false;
		}
		strmap_del(&cs->by_label, k);
	}
	for (i = 0; i < cs->ncrits; i++)
		if (cs->crits[i].live && !strcmp(cs->crits[i].user, name))
			cs->crits[i].live = false;
}

/* ---- the snapshot section --------------------------------------------- */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int fail;
};

static void wput(struct wbuf *w, const void *d, size_t n)
{
	if (w->fail)
		return;
	if (w->len + n > w->cap) {
		size_t nc = w->cap ? w->cap : 4096;
		unsigned char *q;

		while (nc < w->len + n)
			nc *= 2;
		q = realloc(w->p, nc);
		if (!q) {
			w->fail = -ENOMEM;
			return;
		}
		memset(q + w->cap, 0, nc - w->cap);
		w->p = q;
		w->cap = nc;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void wpad(struct wbuf *w)
{
	static const unsigned char zero[8];

	wput(w, zero, (size_t)(snap_align8(w->len) - w->len));
}

/* Writes one record; fields as (pointer, length) pairs. */
static uint32_t wrec(struct wbuf *w, size_t base, uint32_t type, uint32_t status,
		     int64_t created, int64_t changed, unsigned n, const void *const *f,
		     const size_t *flen)
{
	unsigned char fixed[CDB_REC_FIXED];
	size_t start = w->len;
	unsigned i;

	snap_put32(fixed, type);
	snap_put32(fixed + 4, 0);
	snap_put32(fixed + 8, status);
	snap_put32(fixed + 12, n);
	snap_put64(fixed + 16, (uint64_t)created);
	snap_put64(fixed + 24, (uint64_t)changed);
	wput(w, fixed, sizeof(fixed));
	for (i = 0; i < n; i++) {
		unsigned char l[4];

		snap_put32(l, (uint32_t)flen[i]);
		wput(w, l, 4);
		wput(w, f[i], flen[i]);
		wput(w, "", 1);
	}
	wpad(w);
	if (!w->fail)
		snap_put32(w->p + start + 4, (uint32_t)(w->len - start));
	return (uint32_t)(start - base);
}

static uint32_t pow2_at_least(size_t n)
{
	uint32_t s = 8;

	while (s < n)
		s *= 2;
	return s;
}

static void index_put(unsigned char *index, uint32_t slots, uint64_t seed, const void *key,
		      size_t klen, uint32_t off)
{
	uint64_t h = accord_hash64(key, klen, seed);
	uint32_t i = (uint32_t)h & (slots - 1);

	while (snap_get32(index + (size_t)i * CDB_SLOT + 8))
		i = (i + 1) & (slots - 1);
	snap_put64(index + (size_t)i * CDB_SLOT, h);
	snap_put32(index + (size_t)i * CDB_SLOT + 8, off + 1);
}

#define F(s) (const void *)(s), strlen(s)

int state_certs_serialize(const struct accord_state *st, uint64_t seed, unsigned char **buf,
			  size_t *len, struct accord_err *err)
{
	const struct certstore *cs = st->certs;
	struct wbuf w = { 0 };
	uint32_t nm = 0, nr = 0, nc = 0, na = 0, nl = 0, ms, rs, *moff = NULL, *roff = NULL;
	size_t i, mio, rio, ro;
	unsigned char hdr[CDB_HEADER] = { 0 };
	char *ikey = NULL;

	*buf = NULL;
	*len = 0;
	if (!cs)
		return 0;
	for (i = 0; i < cs->nmaps; i++)
		nm += cs->maps[i].live;
	for (i = 0; i < cs->nregs; i++)
		nr += cs->regs[i].live;
	for (i = 0; i < cs->ncrits; i++)
		nc += cs->crits[i].live;
	for (i = 0; i < cs->ncas; i++)
		na += cs->cas[i].live;
	for (i = 0; i < cs->ncrls; i++)
		nl += cs->crls[i].live;
	if (!nm && !nr && !nc && !na && !nl)
		return 0;
	ms = nm ? pow2_at_least(2 * (size_t)nm) : 0;
	rs = nr ? pow2_at_least(4 * (size_t)nr) : 0;
	moff = calloc(nm + 1, sizeof(*moff));
	roff = calloc(nr + 1, sizeof(*roff));
	if (!moff || !roff)
		goto nomem;
	wput(&w, hdr, sizeof(hdr));
	mio = w.len;
	for (i = 0; i < (size_t)ms * CDB_SLOT; i++)
		wput(&w, "", 1);
	rio = w.len;
	for (i = 0; i < (size_t)rs * CDB_SLOT; i++)
		wput(&w, "", 1);
	ro = w.len;
	nm = nr = 0;
	for (i = 0; i < cs->nmaps; i++) {
		const struct accord_certmap *m = &cs->maps[i];
		const void *f[6];
		size_t fl[6];

		if (!m->live)
			continue;
		f[0] = cs->mkeys[i];
		fl[0] = strlen(cs->mkeys[i]);
		f[1] = m->label;
		fl[1] = strlen(m->label);
		f[2] = m->user ? m->user : "";
		fl[2] = strlen(f[2]);
		f[3] = m->criteria ? m->criteria : "";
		fl[3] = strlen(f[3]);
		f[4] = m->sdn ? m->sdn : "";
		fl[4] = strlen(f[4]);
		f[5] = m->idn ? m->idn : "";
		fl[5] = strlen(f[5]);
		moff[nm++] = wrec(&w, ro, CDB_MAP, m->status, m->created, m->changed, 6, f, fl);
	}
	for (i = 0; i < cs->nregs; i++) {
		const struct accord_certreg *g = &cs->regs[i];
		size_t il = strlen(g->issuer_key), sl = strlen(g->serial);
		const void *f[8];
		size_t fl[8];

		if (!g->live)
			continue;
		free(ikey);
		ikey = malloc(il + sl + 2);
		if (!ikey)
			goto nomem;
		memcpy(ikey, g->issuer_key, il);
		ikey[il] = CDB_KEY_SEP;
		memcpy(ikey + il + 1, g->serial, sl + 1);
		f[0] = g->sha256;
		fl[0] = 32;
		f[1] = ikey;
		fl[1] = il + sl + 1;
		f[2] = g->label;
		fl[2] = strlen(g->label);
		f[3] = g->user;
		fl[3] = strlen(g->user);
		f[4] = g->subject;
		fl[4] = strlen(g->subject);
		f[5] = g->issuer;
		fl[5] = strlen(g->issuer);
		f[6] = g->serial;
		fl[6] = sl;
		f[7] = g->der ? (const void *)g->der : "";
		fl[7] = g->der_len;
		roff[nr++] = wrec(&w, ro, CDB_REG, g->status, g->created, g->created, 8, f, fl);
	}
	for (i = 0; i < cs->ncrits; i++) {
		const struct accord_certcrit *c = &cs->crits[i];
		const void *f[2] = { c->name, c->user };
		size_t fl[2] = { strlen(c->name), strlen(c->user) };

		if (c->live)
			wrec(&w, ro, CDB_CRIT, 0, c->created, c->created, 2, f, fl);
	}
	for (i = 0; i < cs->ncas; i++) {
		const struct accord_ca *a = &cs->cas[i];
		const void *f[4] = { a->der, a->label, a->subject, a->sha256 };
		size_t fl[4] = { a->len, strlen(a->label), strlen(a->subject), 32 };

		if (a->live)
			wrec(&w, ro, CDB_CA, a->status, a->created, a->not_after, 4, f, fl);
	}
	for (i = 0; i < cs->ncrls; i++) {
		const struct accord_crl *c = &cs->crls[i];
		const void *f[2] = { c->der, c->ca_label };
		size_t fl[2] = { c->len, strlen(c->ca_label) };

		if (c->live)
			wrec(&w, ro, CDB_CRL, c->entries, c->created, c->last_update, 2, f, fl);
	}
	if (w.fail)
		goto nomem;
	if (w.len > UINT32_MAX) {
		free(w.p);
		free(moff);
		free(roff);
		free(ikey);
		return accord_err_set(err, -E2BIG, "certificate section larger than 4 GiB");
	}
	/* the indexes, now that every record has its offset */
	nm = nr = 0;
	for (i = 0; i < cs->nmaps; i++)
		if (cs->maps[i].live) {
			index_put(w.p + mio, ms, seed, cs->mkeys[i], strlen(cs->mkeys[i]),
				  moff[nm]);
			nm++;
		}
	for (i = 0; i < cs->nregs; i++) {
		const struct accord_certreg *g = &cs->regs[i];
		size_t il = strlen(g->issuer_key), sl = strlen(g->serial);
		char *k;

		if (!g->live)
			continue;
		k = malloc(il + sl + 3 > 33 ? il + sl + 3 : 33); /* 'S' + SHA-256 too */
		if (!k)
			goto nomem;
		k[0] = 'S';
		memcpy(k + 1, g->sha256, 32);
		index_put(w.p + rio, rs, seed, k, 33, roff[nr]);
		k[0] = 'I';
		memcpy(k + 1, g->issuer_key, il);
		k[il + 1] = CDB_KEY_SEP;
		memcpy(k + il + 2, g->serial, sl);
		index_put(w.p + rio, rs, seed, k, il + sl + 2, roff[nr]);
		free(k);
		nr++;
	}
	memcpy(w.p, CDB_MAGIC, 8);
	snap_put32(w.p + 8, CDB_VERSION);
	snap_put32(w.p + 12, nm);
	snap_put32(w.p + 16, nr);
	snap_put32(w.p + 20, nc);
	snap_put32(w.p + 24, na);
	snap_put32(w.p + 28, nl);
	snap_put32(w.p + 32, ms);
	snap_put32(w.p + 36, rs);
	snap_put64(w.p + 40, seed);
	snap_put32(w.p + 48, (uint32_t)mio);
	snap_put32(w.p + 52, (uint32_t)rio);
	snap_put32(w.p + 56, (uint32_t)ro);
	snap_put32(w.p + 60, (uint32_t)(w.len - ro));
	*buf = w.p;
	*len = w.len;
	free(moff);
	free(roff);
	free(ikey);
	return 0;
nomem:
	free(w.p);
	free(moff);
	free(roff);
	free(ikey);
	return accord_err_set(err, -ENOMEM, "out of memory while writing certificate maps");
}

/* ---- the loader ------------------------------------------------------- */

static char *fdup(const struct cdb_rec *r, unsigned i)
{
	char *s = malloc(r->flen[i] + 1);

	if (s)
		memcpy(s, r->f[i], r->flen[i] + 1);
	return s;
}

static bool has_nul(const struct cdb_rec *r, unsigned i)
{
	return memchr(r->f[i], 0, r->flen[i]) != NULL;
}

/* Loads one record into the state; -EBADMSG for anything an operation
 * would have refused. */
static int load_rec(struct accord_state *st, struct certstore *cs, const struct cdb_rec *r)
{
	static const unsigned want[] = { 0, 6, 7, 2, 4, 2 };
	unsigned i;

	/* a registration has 7 fields, or 8 with the certificate's DER */
	if (r->type < CDB_MAP || r->type > CDB_CRL ||
	    (r->nfields != want[r->type] && !(r->type == CDB_REG && r->nfields == 8)))
		return -EBADMSG;
	for (i = 0; i < r->nfields; i++)
		if (has_nul(r, i) && !(r->type == CDB_CA && (i == 0 || i == 3)) &&
		    !(r->type == CDB_REG && (i == 0 || i == 7)) && !(r->type == CDB_CRL && i == 0))
			return -EBADMSG;
	switch (r->type) {
	case CDB_MAP: {
		struct accord_certmap *m;
		bool multi = r->flen[2] == 0;

		if (r->status > ACCORD_MAP_NOTRUST || !r->flen[1] || multi != !!r->flen[3] ||
		    (!r->flen[4] && !r->flen[5]) || (!multi && !accord_state_user(st, r->f[2])))
			return -EBADMSG;
		if (grow((void **)&cs->maps, &cs->capm, cs->nmaps + 1, sizeof(*cs->maps)))
			return -ENOMEM;
		{
			char **mk = realloc(cs->mkeys, cs->capm * sizeof(char *));

			if (!mk)
				return -ENOMEM;
			cs->mkeys = mk;
		}
		m = &cs->maps[cs->nmaps];
		memset(m, 0, sizeof(*m));
		m->label = fdup(r, 1);
		m->user = multi ? NULL : fdup(r, 2);
		m->criteria = multi ? fdup(r, 3) : NULL;
		m->sdn = r->flen[4] ? fdup(r, 4) : NULL;
		m->idn = r->flen[5] ? fdup(r, 5) : NULL;
		m->status = r->status;
		m->created = r->created;
		m->changed = r->changed;
		m->live = true;
		m->old_off = r->off;
		cs->mkeys[cs->nmaps] = fdup(r, 0);
		cs->nmaps++; /* freed with the state from here on */
		if (!m->label || (!multi && !m->user) || (multi && !m->criteria) ||
		    (r->flen[4] && !m->sdn) || (r->flen[5] && !m->idn) || !cs->mkeys[cs->nmaps - 1])
			return -ENOMEM;
		if (strmap_get(&cs->by_key, cs->mkeys[cs->nmaps - 1], &(uint32_t){ 0 }) ||
		    label_taken(cs, owner_of(m->user), m->label))
			return -EBADMSG;
		if (strmap_put(&cs->by_key, (uint32_t)(cs->nmaps - 1)) < 0 ||
		    add_label(cs, owner_of(m->user), m->label, CDB_MAP, (uint32_t)(cs->nmaps - 1)))
			return -ENOMEM;
		return 0;
	}
	case CDB_REG: {
		struct accord_certreg *g;

		if (r->status > ACCORD_MAP_NOTRUST || r->flen[0] != 32 || !r->flen[2] ||
		    !accord_state_user(st, r->f[3]))
			return -EBADMSG;
		if (grow((void **)&cs->regs, &cs->capr, cs->nregs + 1, sizeof(*cs->regs)))
			return -ENOMEM;
		g = &cs->regs[cs->nregs++];
		memset(g, 0, sizeof(*g));
		memcpy(g->sha256, r->f[0], 32);
		g->label = fdup(r, 2);
		g->user = fdup(r, 3);
		g->subject = fdup(r, 4);
		g->issuer = fdup(r, 5);
		{
			const char *sep = memchr(r->f[1], CDB_KEY_SEP, r->flen[1]);

			if (!sep || strcmp(sep + 1, r->f[6]))
				return -EBADMSG;
			g->issuer_key = strndup(r->f[1], (size_t)(sep - r->f[1]));
		}
		g->serial = fdup(r, 6);
		g->status = r->status;
		g->created = r->created;
		g->live = true;
		g->old_off = r->off;
		if (r->nfields == 8 && r->flen[7]) {
			g->der = malloc(r->flen[7]);
			if (!g->der)
				return -ENOMEM;
			memcpy(g->der, r->f[7], r->flen[7]);
			g->der_len = r->flen[7];
		}
		if (!g->label || !g->user || !g->subject || !g->issuer || !g->issuer_key ||
		    !g->serial)
			return -ENOMEM;
		if (label_taken(cs, g->user, g->label))
			return -EBADMSG;
		return add_label(cs, g->user, g->label, CDB_REG, (uint32_t)(cs->nregs - 1)) ?
			       -ENOMEM : 0;
	}
	case CDB_CRIT: {
		struct accord_certcrit *c;

		if (check_crit_name(r->f[0], NULL) < 0 || !accord_state_user(st, r->f[1]))
			return -EBADMSG;
		if (grow((void **)&cs->crits, &cs->capc, cs->ncrits + 1, sizeof(*cs->crits)))
			return -ENOMEM;
		c = &cs->crits[cs->ncrits++];
		*c = (struct accord_certcrit){ fdup(r, 0), fdup(r, 1), r->created, true, false,
					       r->off };
		return c->name && c->user ? 0 : -ENOMEM;
	}
	case CDB_CA: {
		struct accord_ca *a;

		if (r->status > ACCORD_CA_HIGHTRUST || r->flen[3] != 32 || !r->flen[0] ||
		    !r->flen[1] || find_ca(cs, r->f[1]) >= 0)
			return -EBADMSG;
		if (grow((void **)&cs->cas, &cs->capa, cs->ncas + 1, sizeof(*cs->cas)))
			return -ENOMEM;
		a = &cs->cas[cs->ncas++];
		memset(a, 0, sizeof(*a));
		a->der = (unsigned char *)fdup(r, 0);
		a->len = r->flen[0];
		a->label = fdup(r, 1);
		a->subject = fdup(r, 2);
		memcpy(a->sha256, r->f[3], 32);
		a->status = r->status;
		a->created = r->created;
		a->not_after = r->changed;
		a->live = true;
		a->old_off = r->off;
		return a->der && a->label && a->subject ? 0 : -ENOMEM;
	}
	case CDB_CRL: {
		struct accord_crl *c;
		const unsigned char *p = (const unsigned char *)r->f[0];
		X509_CRL *crl;

		if (find_ca(cs, r->f[1]) < 0)
			return -EBADMSG;
		crl = d2i_X509_CRL(NULL, &p, (long)r->flen[0]);
		if (!crl)
			return -EBADMSG;
		if (grow((void **)&cs->crls, &cs->capl, cs->ncrls + 1, sizeof(*cs->crls))) {
			X509_CRL_free(crl);
			return -ENOMEM;
		}
		c = &cs->crls[cs->ncrls++];
		memset(c, 0, sizeof(*c));
		c->der = (unsigned char *)fdup(r, 0);
		c->len = r->flen[0];
		c->ca_label = fdup(r, 1);
		c->entries = r->status;
		c->created = r->created;
		c->last_update = asn1_time(X509_CRL_get0_lastUpdate(crl));
		c->next_update = asn1_time(X509_CRL_get0_nextUpdate(crl));
		c->live = true;
		c->old_off = r->off;
		X509_CRL_free(crl);
		return c->der && c->ca_label ? 0 : -ENOMEM;
	}
	}
	return -EBADMSG;
}

int state_certs_load(struct accord_state *st, const struct accord_snapshot *snap)
{
	struct accord_certdb db;
	struct certstore *cs;
	struct cdb_rec r;
	const void *blob;
	size_t len;
	uint32_t off = 0, last = 0, counts[6] = { 0 };
	int e;

	accord_snap_certdb(snap, &blob, &len);
	if (!len)
		return 0;
	if (accord_certdb_open(blob, len, &db, NULL) < 0)
		return -EBADMSG;
	cs = store_of(st);
	if (!cs)
		return -ENOMEM;
	while (off < db.records_len) {
		if (cdb_rec_at(&db, off, &r) || r.type < last)
			return -EBADMSG;
		last = r.type;
		e = load_rec(st, cs, &r);
		if (e < 0)
			return e;
		counts[r.type]++;
		off = cdb_next(&r);
	}
	if (counts[CDB_MAP] != db.nmaps || counts[CDB_REG] != db.nregs ||
	    counts[CDB_CRIT] != db.ncrits || counts[CDB_CA] != db.ncas ||
	    counts[CDB_CRL] != db.ncrls)
		return -EBADMSG;
	/* a label counter that continues after the highest LABELnnnnnnnn */
	for (off = 0; off < cs->nlabels; off++) {
		const char *l = strchr(cs->labels[off].key, CDB_KEY_SEP) + 1;
		unsigned long v;
		char *end;

		if (strncmp(l, "LABEL", 5))
			continue;
		v = strtoul(l + 5, &end, 10);
		if (!*end && v > cs->label_seq && v < UINT32_MAX)
			cs->label_seq = (uint32_t)v;
	}
	return 0;
}

/* ---- journal ---------------------------------------------------------- */

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *jtime(int64_t t)
{
	char b[40];

	accord_time_iso(t, b, sizeof(b));
	return json_object_new_string(b);
}

static const char *map_status_name(uint32_t s)
{
	return s == ACCORD_MAP_NOTRUST ? "notrust" : "trust";
}

const char *accord_ca_status_name(uint32_t s)
{
	return s == ACCORD_CA_NOTRUST ? "notrust" : s == ACCORD_CA_HIGHTRUST ? "hightrust" :
										 "trust";
}

json_object *accord_json_certmap(const char *label, const char *user, const char *criteria,
				 const char *sdn, const char *idn, uint32_t status,
				 bool registered)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "label", jstr(label));
	json_object_object_add(o, "user", jstr(user && *user ? user : "MULTIID"));
	json_object_object_add(o, "type", jstr(registered ? "certificate" : "filter"));
	if (criteria && *criteria)
		json_object_object_add(o, "criteria", jstr(criteria));
	if (registered) {
		json_object_object_add(o, "subject", jstr(sdn));
		json_object_object_add(o, "issuer", jstr(idn));
	} else {
		json_object_object_add(o, "sdn", sdn && *sdn ? jstr(sdn) : NULL);
		json_object_object_add(o, "idn", idn && *idn ? jstr(idn) : NULL);
	}
	json_object_object_add(o, "status", jstr(map_status_name(status)));
	return o;
}

static json_object *rec_json(const struct cdb_rec *r)
{
	json_object *o;
	char hex[65];

	switch (r->type) {
	case CDB_MAP:
		return accord_json_certmap(r->f[1], r->f[2], r->f[3], r->f[4], r->f[5], r->status,
					   false);
	case CDB_REG:
		o = accord_json_certmap(r->f[2], r->f[3], NULL, r->f[4], r->f[5], r->status, true);
		sha_hex((const unsigned char *)r->f[0], hex);
		json_object_object_add(o, "sha256", jstr(hex));
		json_object_object_add(o, "serial", jstr(r->f[6]));
		return o;
	case CDB_CRIT:
		o = json_object_new_object();
		json_object_object_add(o, "name", jstr(r->f[0]));
		json_object_object_add(o, "user", jstr(r->f[1]));
		return o;
	case CDB_CA:
		o = json_object_new_object();
		json_object_object_add(o, "label", jstr(r->f[1]));
		json_object_object_add(o, "status", jstr(accord_ca_status_name(r->status)));
		json_object_object_add(o, "subject", jstr(r->f[2]));
		sha_hex((const unsigned char *)r->f[3], hex);
		json_object_object_add(o, "sha256", jstr(hex));
		json_object_object_add(o, "not_after", jtime(r->changed));
		return o;
	case CDB_CRL:
		o = json_object_new_object();
		json_object_object_add(o, "ca", jstr(r->f[1]));
		json_object_object_add(o, "last_update", jtime(r->changed));
		json_object_object_add(o, "entries", json_object_new_int64(r->status));
		return o;
	}
	return NULL;
}

static json_object *change(const char *op, const char *kind, const char *name,
			   json_object *before, json_object *after)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "change", jstr(op));
	json_object_object_add(o, "kind", jstr(kind));
	json_object_object_add(o, "name", jstr(name));
	json_object_object_add(o, "before", before);
	json_object_object_add(o, "after", after);
	return o;
}

struct jout {
	json_object **v;
	size_t n, cap;
	int fail;
};

static void jpush(struct jout *j, json_object *o)
{
	if (!o) {
		j->fail = -ENOMEM;
		return;
	}
	if (j->n == j->cap) {
		size_t nc = j->cap ? 2 * j->cap : 16;
		json_object **v = realloc(j->v, nc * sizeof(*v));

		if (!v) {
			json_object_put(o);
			j->fail = -ENOMEM;
			return;
		}
		j->v = v;
		j->cap = nc;
	}
	j->v[j->n++] = o;
}

/* One object: add, delete or change, with before from its old record. */
static void jobj(struct jout *j, const struct accord_certdb *db, const char *kind,
		 const char *name, bool live, bool dirty, uint32_t old_off, json_object *after)
{
	struct cdb_rec r;
	json_object *before = NULL;

	if (old_off == UINT32_MAX) {
		if (live)
			jpush(j, change("add", kind, name, NULL, after));
		else
			json_object_put(after);
		return;
	}
	if (live && !dirty) {
		json_object_put(after);
		return;
	}
	if (cdb_rec_at(db, old_off, &r) == 0)
		before = rec_json(&r);
	else
		j->fail = -EBADMSG;
	if (!live) {
		json_object_put(after);
		jpush(j, change("delete", kind, name, before, NULL));
	} else {
		jpush(j, change("change", kind, name, before, after));
	}
}

int state_certs_journal(const struct accord_snapshot *old, const struct accord_state *st,
			json_object ***out, size_t *n)
{
	const struct certstore *cs = st->certs;
	struct accord_certdb db;
	struct jout j = { 0 };
	const void *blob;
	size_t len, i;
	char name[2 * ACCORD_LABEL_MAX + 80], hex[65];

	*out = NULL;
	*n = 0;
	if (!cs)
		return 0;
	accord_snap_certdb(old, &blob, &len);
	if (accord_certdb_open(blob, len, &db, NULL) < 0)
		return -EBADMSG;
	for (i = 0; i < cs->nmaps && !j.fail; i++) {
		const struct accord_certmap *m = &cs->maps[i];

		if (m->old_off == UINT32_MAX && !m->live)
			continue;
		snprintf(name, sizeof(name), "%s/%s", owner_of(m->user), m->label);
		jobj(&j, &db, "certmap", name, m->live, m->dirty, m->old_off,
		     accord_json_certmap(m->label, m->user, m->criteria, m->sdn, m->idn,
					 m->status, false));
	}
	for (i = 0; i < cs->nregs && !j.fail; i++) {
		const struct accord_certreg *g = &cs->regs[i];
		json_object *a;

		if (g->old_off == UINT32_MAX && !g->live)
			continue;
		a = accord_json_certmap(g->label, g->user, NULL, g->subject, g->issuer,
					g->status, true);
		sha_hex(g->sha256, hex);
		json_object_object_add(a, "sha256", jstr(hex));
		json_object_object_add(a, "serial", jstr(g->serial));
		snprintf(name, sizeof(name), "%s/%s", g->user, g->label);
		jobj(&j, &db, "certreg", name, g->live, g->dirty, g->old_off, a);
	}
	for (i = 0; i < cs->ncrits && !j.fail; i++) {
		const struct accord_certcrit *c = &cs->crits[i];
		json_object *a = json_object_new_object();

		json_object_object_add(a, "name", jstr(c->name));
		json_object_object_add(a, "user", jstr(c->user));
		jobj(&j, &db, "certcrit", c->name, c->live, c->dirty, c->old_off, a);
	}
	for (i = 0; i < cs->ncas && !j.fail; i++) {
		const struct accord_ca *c = &cs->cas[i];
		json_object *a = json_object_new_object();

		json_object_object_add(a, "label", jstr(c->label));
		json_object_object_add(a, "status", jstr(accord_ca_status_name(c->status)));
		json_object_object_add(a, "subject", jstr(c->subject));
		sha_hex(c->sha256, hex);
		json_object_object_add(a, "sha256", jstr(hex));
		json_object_object_add(a, "not_after", jtime(c->not_after));
		jobj(&j, &db, "ca", c->label, c->live, c->dirty, c->old_off, a);
	}
	for (i = 0; i < cs->ncrls && !j.fail; i++) {
		const struct accord_crl *c = &cs->crls[i];
		json_object *a = json_object_new_object();

		json_object_object_add(a, "ca", jstr(c->ca_label));
		json_object_object_add(a, "last_update", jtime(c->last_update));
		json_object_object_add(a, "entries", json_object_new_int64(c->entries));
		jobj(&j, &db, "crl", c->ca_label, c->live, c->dirty, c->old_off, a);
	}
	if (j.fail) {
		for (i = 0; i < j.n; i++)
			json_object_put(j.v[i]);
		free(j.v);
		return j.fail;
	}
	*out = j.v;
	*n = j.n;
	return 0;
}
