/* SPDX-License-Identifier: MIT */
/*
 * The readers' side of certificate mapping (include/accord/certmap.h):
 * the certificate section of a snapshot read in place (every offset
 * checked: the section may be damaged), RACF's search order as hash
 * probes, MULTIID criteria, and the names of a certificate.
 */
#include <accord/certmap.h>
#include <accord/certverify.h>
#include <accord/registry.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certdb_format.h"
#include "hash.h"
#include "snapshot_format.h"

/* Keys are at most this long (a name of 32 RDNs of escaped values). */
#define KEY_CAP 8192u

/* ---- the section ------------------------------------------------------ */

static int bad(struct accord_err *err, const char *what)
{
	return accord_err_set(err, -EBADMSG, "damaged certificate section: %s", what);
}

int accord_certdb_open(const void *blob, size_t len, struct accord_certdb *db,
		       struct accord_err *err)
{
	const unsigned char *b = blob;
	uint32_t mio, rio, ro, rl;

	memset(db, 0, sizeof(*db));
	if (len == 0)
		return 0;
	if (len < CDB_HEADER || len > UINT32_MAX || memcmp(b, CDB_MAGIC, 8) ||
	    snap_get32(b + 8) != CDB_VERSION)
		return bad(err, "bad header");
	db->base = b;
	db->len = len;
	db->nmaps = snap_get32(b + 12);
	db->nregs = snap_get32(b + 16);
	db->ncrits = snap_get32(b + 20);
	db->ncas = snap_get32(b + 24);
	db->ncrls = snap_get32(b + 28);
	db->map_slots = snap_get32(b + 32);
	db->reg_slots = snap_get32(b + 36);
	db->seed = snap_get64(b + 40);
	mio = snap_get32(b + 48);
	rio = snap_get32(b + 52);
	ro = snap_get32(b + 56);
	rl = snap_get32(b + 60);
	if ((db->map_slots & (db->map_slots - 1)) || (db->reg_slots & (db->reg_slots - 1)) ||
	    db->map_slots < db->nmaps || db->reg_slots < 2ull * db->nregs)
		return bad(err, "bad index size");
	if (mio < CDB_HEADER || (uint64_t)mio + (uint64_t)db->map_slots * CDB_SLOT > len ||
	    rio < CDB_HEADER || (uint64_t)rio + (uint64_t)db->reg_slots * CDB_SLOT > len ||
	    ro < CDB_HEADER || (ro & 7u) || (uint64_t)ro + rl > len)
		return bad(err, "section offsets out of range");
	db->map_index = b + mio;
	db->reg_index = b + rio;
	db->records = b + ro;
	db->records_len = rl;
	return 0;
}

int cdb_rec_at(const struct accord_certdb *db, uint32_t off, struct cdb_rec *r)
{
	const unsigned char *p, *end;
	uint32_t i;

	if ((off & 7u) || off >= db->records_len || db->records_len - off < CDB_REC_FIXED)
		return -EBADMSG;
	p = db->records + off;
	r->type = snap_get32(p);
	r->reclen = snap_get32(p + 4);
	r->status = snap_get32(p + 8);
	r->nfields = snap_get32(p + 12);
	r->created = (int64_t)snap_get64(p + 16);
	r->changed = (int64_t)snap_get64(p + 24);
	r->off = off;
	if (r->reclen < CDB_REC_FIXED || (r->reclen & 7u) ||
	    r->reclen > db->records_len - off || r->nfields > CDB_MAX_FIELDS)
		return -EBADMSG;
	end = p + r->reclen;
	p += CDB_REC_FIXED;
	for (i = 0; i < r->nfields; i++) {
		uint32_t l;

		if (end - p < 4)
			return -EBADMSG;
		l = snap_get32(p);
		p += 4;
		if ((size_t)(end - p) < (size_t)l + 1 || p[l] != 0)
			return -EBADMSG;
		r->f[i] = (const char *)p;
		r->flen[i] = l;
		p += l + 1;
	}
	for (; i < CDB_MAX_FIELDS; i++) {
		r->f[i] = "";
		r->flen[i] = 0;
	}
	return 0;
}

/* Walks records of one type from *cursor (an offset; 0 to start). */
static int next_of(const struct accord_certdb *db, uint32_t type, uint32_t *cursor,
		   struct cdb_rec *r)
{
	while (*cursor < db->records_len) {
		if (cdb_rec_at(db, *cursor, r))
			return -EBADMSG;
		*cursor = cdb_next(r);
		if (r->type == type)
			return 0;
		if (r->type > type)
			break; /* records are grouped by type, in type order */
	}
	return -ENOENT;
}

static const unsigned nfields_of[] = { 0, 6, 7, 2, 4, 2 };

/* A registration may carry one more field (the certificate's DER). */
static bool fields_ok(const struct cdb_rec *r)
{
	return r->nfields == nfields_of[r->type] ||
	       (r->type == CDB_REG && r->nfields == nfields_of[CDB_REG] + 1);
}

static int next_ok(const struct accord_certdb *db, uint32_t type, uint32_t *cursor,
		   struct cdb_rec *r)
{
	int e = next_of(db, type, cursor, r);

	if (e == 0 && !fields_ok(r))
		e = -EBADMSG;
	return e;
}

int accord_certdb_map_next(const struct accord_certdb *db, uint32_t *cursor,
			   struct accord_certdb_map *out)
{
	struct cdb_rec r;
	int e;

	/* maps first, then registrations */
	e = *cursor < db->records_len ? cdb_rec_at(db, *cursor, &r) : -ENOENT;
	if (e == -EBADMSG)
		return e;
	if (e == 0 && r.type == CDB_MAP) {
		e = next_ok(db, CDB_MAP, cursor, &r);
		if (e)
			return e;
		*out = (struct accord_certdb_map){ r.f[1], r.f[2], r.f[3], r.f[4], r.f[5],
						   r.status, false };
		return 0;
	}
	e = next_ok(db, CDB_REG, cursor, &r);
	if (e)
		return e;
	*out = (struct accord_certdb_map){ r.f[2], r.f[3], "", r.f[4], r.f[5], r.status, true };
	return 0;
}

int accord_certdb_ca_next(const struct accord_certdb *db, uint32_t *cursor,
			  const unsigned char **der, size_t *len, uint32_t *status,
			  const char **label)
{
	struct cdb_rec r;
	int e = next_ok(db, CDB_CA, cursor, &r);

	if (e)
		return e;
	*der = (const unsigned char *)r.f[0];
	*len = r.flen[0];
	*status = r.status;
	*label = r.f[1];
	return 0;
}

int accord_certdb_crl_next(const struct accord_certdb *db, uint32_t *cursor,
			   const unsigned char **der, size_t *len)
{
	struct cdb_rec r;
	int e = next_ok(db, CDB_CRL, cursor, &r);

	if (e)
		return e;
	*der = (const unsigned char *)r.f[0];
	*len = r.flen[0];
	return 0;
}

int accord_certdb_trust(const struct accord_certdb *db, struct accord_trust **out,
			struct accord_err *err)
{
	struct accord_ca_in *cas = calloc(db->ncas + 1, sizeof(*cas));
	struct accord_crl_in *crls = calloc(db->ncrls + 1, sizeof(*crls));
	size_t nca = 0, ncrl = 0;
	uint32_t cur = 0;
	int r = -ENOMEM;

	*out = NULL;
	if (!cas || !crls)
		goto out;
	while (nca < db->ncas && (r = accord_certdb_ca_next(db, &cur, &cas[nca].der,
							    &cas[nca].len, &cas[nca].status,
							    &cas[nca].label)) == 0)
		nca++;
	cur = 0;
	while (ncrl < db->ncrls &&
	       (r = accord_certdb_crl_next(db, &cur, &crls[ncrl].der, &crls[ncrl].len)) == 0)
		ncrl++;
	if (nca != db->ncas || ncrl != db->ncrls) {
		r = bad(err, "CA or CRL records missing");
		goto out;
	}
	r = accord_trust_new(cas, nca, crls, ncrl, out, err);
out:
	if (r == -ENOMEM && err && !err->msg[0])
		accord_err_set(err, r, "out of memory");
	free(cas);
	free(crls);
	return r;
}

void accord_cert_policy_from_config(const struct accord_config *cfg,
				    struct accord_cert_policy *pol)
{
	accord_cert_policy_default(pol);
	pol->crl = cfg->crl_check;
	pol->require_ku_ds = cfg->cert_ku_ds;
	snprintf(pol->eku, sizeof(pol->eku), "%s", cfg->cert_eku);
}

/* Probes an index for key: the record whose field fi equals key[skip..]. */
static int probe(const struct accord_certdb *db, const unsigned char *index, uint32_t slots,
		 uint32_t type, unsigned fi, const char *key, size_t klen, size_t skip,
		 struct cdb_rec *out)
{
	uint64_t h;
	uint32_t i, n;

	if (!slots)
		return -ENOENT;
	h = accord_hash64(key, klen, db->seed);
	for (i = (uint32_t)h & (slots - 1), n = 0; n < slots; i = (i + 1) & (slots - 1), n++) {
		const unsigned char *s = index + (size_t)i * CDB_SLOT;
		uint32_t off1 = snap_get32(s + 8);

		if (off1 == 0)
			return -ENOENT;
		if (snap_get64(s) != h)
			continue;
		if (cdb_rec_at(db, off1 - 1, out) || out->type != type || !fields_ok(out))
			return -EBADMSG;
		if (out->flen[fi] == klen - skip && !memcmp(out->f[fi], key + skip, klen - skip))
			return 0;
	}
	return -ENOENT;
}

/* ---- names of a certificate ------------------------------------------ */

static int name_dn(const X509_NAME *n, struct accord_dn **out, struct accord_err *err)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(n, &der), r;

	if (len <= 0)
		return accord_err_set(err, -EINVAL, "certificate name does not encode");
	r = accord_dn_from_der(der, (size_t)len, out, err);
	OPENSSL_free(der);
	return r;
}

int accord_certnames_from_x509(X509 *cert, struct accord_certnames *out,
			       struct accord_err *err)
{
	unsigned int mdlen = 0;
	BIGNUM *bn = NULL;
	char *hex = NULL, *h;
	int r;

	memset(out, 0, sizeof(*out));
	if (!X509_digest(cert, EVP_sha256(), out->sha256, &mdlen) || mdlen != 32)
		return accord_err_set(err, -EINVAL, "cannot compute the certificate's SHA-256");
	r = name_dn(X509_get_subject_name(cert), &out->subject, err);
	if (r == 0)
		r = name_dn(X509_get_issuer_name(cert), &out->issuer, err);
	if (r < 0)
		goto fail;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	if (!hex) {
		r = accord_err_set(err, -ENOMEM, "cannot read the serial number");
		goto fail;
	}
	h = hex;
	if (*h == '-')
		h++;
	while (h[0] == '0' && h[1])
		h++;
	if (strlen(h) + 2 > sizeof(out->serial)) {
		r = accord_err_set(err, -EINVAL, "serial number longer than %zu digits",
				   sizeof(out->serial) - 2);
		goto fail;
	}
	snprintf(out->serial, sizeof(out->serial), "%s%s", hex[0] == '-' ? "-" : "", h);
	OPENSSL_free(hex);
	BN_free(bn);
	return 0;
fail:
	OPENSSL_free(hex);
	BN_free(bn);
	accord_certnames_clear(out);
	return r;
}

int accord_certnames_from_der(const unsigned char *der, size_t len,
			      struct accord_certnames *out, struct accord_err *err)
{
	const unsigned char *p = der;
	X509 *x;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > 1u << 20 || !(x = d2i_X509(NULL, &p, (long)len)) || p != der + len)
		return accord_err_set(err, -EINVAL, "not a DER certificate");
	r = accord_certnames_from_x509(x, out, err);
	X509_free(x);
	return r;
}

void accord_certnames_clear(struct accord_certnames *n)
{
	accord_dn_free(n->subject);
	accord_dn_free(n->issuer);
	memset(n, 0, sizeof(*n));
}

/* ---- criteria --------------------------------------------------------- */

static const char *ctx_var(const struct accord_certmap_ctx *c, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} builtin[] = {
		{ "SERVICE", offsetof(struct accord_certmap_ctx, service) },
		{ "APPLID", offsetof(struct accord_certmap_ctx, service) },
		{ "HOST", offsetof(struct accord_certmap_ctx, host) },
		{ "SYSID", offsetof(struct accord_certmap_ctx, host) },
		{ "RHOST", offsetof(struct accord_certmap_ctx, rhost) },
		{ "TTY", offsetof(struct accord_certmap_ctx, tty) },
		{ "ZONE", offsetof(struct accord_certmap_ctx, zone) },
		{ "SERVAUTH", offsetof(struct accord_certmap_ctx, zone) },
	};
	size_t i;

	/* what the application passes wins over what the module knows (an
	 * application is the one to say which zone a client is in) */
	for (i = 0; i < c->nvars; i++) {
		const char *v = c->vars[i], *eq = strchr(v, '=');

		if (eq && (size_t)(eq - v) == len && !strncasecmp(v, name, len))
			return eq + 1;
	}
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strlen(builtin[i].name) == len && !strncasecmp(builtin[i].name, name, len))
			return *(const char *const *)(const void *)((const char *)c + builtin[i].off);
	return NULL;
}

/* Component boundaries of "K=V.K=V": a '.' followed by letters and '='. */
static const char *comp_end(const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		const char *q = p + 1;

		if (*p != '.')
			continue;
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		if (q > p + 1 && *q == '=')
			return p;
	}
	return p;
}

static bool var_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

int accord_criteria_expand(const char *tmpl, const struct accord_certmap_ctx *ctx,
			   char *out, size_t cap)
{
	const char *c = tmpl;
	size_t n = 0;

	if (cap == 0)
		return -ENOSPC;
	out[0] = 0;
	while (*c) {
		const char *e = comp_end(c), *p;
		size_t start = n;
		bool drop = false;

		if (n) {
			if (n + 1 >= cap)
				return -ENOSPC;
			out[n++] = '.';
		}
		for (p = c; p < e; p++) {
			if (*p == '&' && p + 1 < e && var_char(p[1])) {
				const char *v, *q = p + 1;

				while (q < e && var_char(*q))
					q++;
				v = ctx_var(ctx, p + 1, (size_t)(q - p - 1));
				if (!v || !*v) {
					drop = true; /* RACF: a missing variable drops its component */
					break;
				}
				if (n + strlen(v) >= cap)
					return -ENOSPC;
				memcpy(out + n, v, strlen(v));
				n += strlen(v);
				p = q - 1;
			} else {
				if (n + 1 >= cap)
					return -ENOSPC;
				out[n++] = *p;
			}
		}
		if (drop)
			n = start;
		out[n] = 0;
		c = *e ? e + 1 : e;
	}
	return (int)n;
}

/* How well entry pattern matches the expanded name: false when it does
 * not; else *score = (generic components << 16) - literal prefix length
 * (lower is better). */
static bool crit_score(const char *pat, const char *name, long *score)
{
	long generic = 0, literal = 0;
	bool in_literal_prefix = true;

	while (*pat && *name) {
		const char *pe = comp_end(pat), *ne = comp_end(name);
		const char *pv = memchr(pat, '=', (size_t)(pe - pat));
		const char *nv = memchr(name, '=', (size_t)(ne - name));
		size_t pl, nl;

		if (!pv || !nv || pv - pat != nv - name || strncasecmp(pat, name, (size_t)(pv - pat)))
			return false;
		pl = (size_t)(pe - pv - 1);
		nl = (size_t)(ne - nv - 1);
		if (pl && pv[pl] == '*') {
			/* prefix* : generic component */
			if (nl < pl - 1 || strncasecmp(pv + 1, nv + 1, pl - 1))
				return false;
			generic++;
			if (in_literal_prefix)
				literal += (long)(pv - pat) + (long)pl;
			in_literal_prefix = false;
		} else {
			if (pl != nl || strncasecmp(pv + 1, nv + 1, pl))
				return false;
			if (in_literal_prefix)
				literal += (long)(pe - pat) + 1;
		}
		pat = *pe ? pe + 1 : pe;
		name = *ne ? ne + 1 : ne;
	}
	if (*pat || *name)
		return false;
	*score = generic * 65536 - literal;
	return true;
}

static int pick_criteria(const struct accord_certdb *db, const char *name,
			 struct accord_map_outcome *out)
{
	uint32_t cur = 0;
	struct cdb_rec r;
	long best = 0, s;
	bool found = false;
	int e;

	while ((e = next_ok(db, CDB_CRIT, &cur, &r)) == 0) {
		if (!crit_score(r.f[0], name, &s) || (found && s >= best))
			continue; /* no match, or no better than the one held */
		best = s;
		found = true;
		snprintf(out->criteria_entry, sizeof(out->criteria_entry), "%s", r.f[0]);
		snprintf(out->user, sizeof(out->user), "%s", r.f[1]);
	}
	if (e == -EBADMSG)
		return e;
	return found ? 0 : -ENOENT;
}

/* ---- resolution ------------------------------------------------------- */

const char *accord_map_result_name(enum accord_map_result r)
{
	switch (r) {
	case ACCORD_MAPPED:
		return "mapped";
	case ACCORD_MAP_DENIED:
		return "notrust";
	case ACCORD_MAP_NO_MATCH:
		return "no_match";
	case ACCORD_MAP_NO_CRITERIA:
		return "no_criteria";
	}
	return "unknown";
}

/* Does the filter text still match (structurally, in ctx's mode)?  The
 * hash key is a superset: exact mode and "value." compatibility are
 * decided here. */
static int filter_holds(const char *text, const struct accord_dn *name,
			enum accord_dn_match mode, bool *dot_compat)
{
	struct accord_dn *f = NULL;
	size_t i, k;
	int ok;

	if (!*text)
		return 1;
	if (!name || accord_dn_parse(text, ACCORD_DN_AUTO, 0, &f, NULL) < 0)
		return -EBADMSG; /* it parsed when it was added */
	ok = accord_dn_suffix_match(f, name, mode);
	if (ok && dot_compat && (f->warnings & ACCORD_DN_W_TRAILING_DOT)) {
		/* explain mode: would it match without the single-dot rule? */
		for (i = 0; i < f->nrdn; i++)
			for (k = 0; k < f->rdn[i].nava; k++)
				f->rdn[i].ava[k].flags &= ~ACCORD_AVA_DOT_COMPAT;
		if (!accord_dn_suffix_match(f, name, mode))
			*dot_compat = true;
	}
	accord_dn_free(f);
	return ok;
}

struct resolver {
	const struct accord_certdb *db;
	const struct accord_certnames *names;
	const struct accord_certmap_ctx *ctx;
	accord_probe_cb cb;
	void *cbctx;
	struct accord_map_outcome *out;
	char *key;          /* KEY_CAP */
	char *ikey;         /* the full issuer's key, KEY_CAP */
	int ikey_len;
};

static void report(struct resolver *rs, int step, const char *what, const char *key,
		   bool hit, const char *label)
{
	struct accord_map_probe p = { step, what, key, hit, label };

	rs->out->probes++;
	if (rs->cb)
		rs->cb(&p, rs->cbctx);
}

/* Decides on a record that matched; 1 when decided, 0 to go on. */
static int decide(struct resolver *rs, const struct cdb_rec *r, int tier, int step)
{
	struct accord_map_outcome *o = rs->out;
	bool multi = r->type == CDB_MAP && r->flen[2] == 0;
	int e;

	o->tier = tier;
	o->step = step;
	snprintf(o->label, sizeof(o->label), "%s", r->type == CDB_MAP ? r->f[1] : r->f[2]);
	snprintf(o->owner, sizeof(o->owner), "%s",
		 multi ? "MULTIID" : r->type == CDB_MAP ? r->f[2] : r->f[3]);
	if (r->status == ACCORD_MAP_NOTRUST) {
		o->result = ACCORD_MAP_DENIED;
		return 1;
	}
	if (!multi) {
		o->result = ACCORD_MAPPED;
		snprintf(o->user, sizeof(o->user), "%s", o->owner);
		return 1;
	}
	if (accord_criteria_expand(r->f[3], rs->ctx, o->criteria, sizeof(o->criteria)) < 0) {
		o->result = ACCORD_MAP_NO_CRITERIA;
		return 1;
	}
	e = pick_criteria(rs->db, o->criteria, o);
	if (e == -EBADMSG)
		return e;
	o->result = e == 0 ? ACCORD_MAPPED : ACCORD_MAP_NO_CRITERIA;
	if (e)
		o->user[0] = 0;
	return 1;
}

/* One filter probe: key = S_k (k subject RDNs, 0 none) + SEP + I_j. */
static int filter_probe(struct resolver *rs, int step, const char *what, size_t k, size_t j)
{
	const struct accord_certnames *n = rs->names;
	struct cdb_rec r;
	int len = 0, l, e, hold;

	if (k) {
		len = accord_dn_key(n->subject, k, rs->key, KEY_CAP);
		if (len < 0)
			return 0; /* longer than any key a filter can have */
	}
	if ((size_t)len + 2 >= KEY_CAP)
		return 0;
	rs->key[len++] = CDB_KEY_SEP;
	rs->key[len] = 0;
	if (j) {
		if (j == n->issuer->nrdn && rs->ikey_len >= 0) {
			if ((size_t)len + (size_t)rs->ikey_len + 1 > KEY_CAP)
				return 0;
			memcpy(rs->key + len, rs->ikey, (size_t)rs->ikey_len + 1);
			l = rs->ikey_len;
		} else {
			l = accord_dn_key(n->issuer, j, rs->key + len, KEY_CAP - (size_t)len);
			if (l < 0)
				return 0;
		}
		len += l;
	}
	e = probe(rs->db, rs->db->map_index, rs->db->map_slots, CDB_MAP, 0, rs->key,
		  (size_t)len, 0, &r);
	if (e == -EBADMSG)
		return e;
	if (e == 0) {
		bool *dc = rs->cb ? &rs->out->dot_compat : NULL;

		hold = filter_holds(r.f[4], n->subject, rs->ctx->mode, dc);
		if (hold == 1)
			hold = filter_holds(r.f[5], n->issuer, rs->ctx->mode, dc);
		if (hold != 1)
			rs->out->dot_compat = false;
		if (hold < 0)
			return hold;
		if (hold == 0)
			e = -ENOENT; /* same key, but exact mode or "value." says no */
	}
	report(rs, step, what, rs->key, e == 0, e == 0 ? r.f[1] : NULL);
	return e == 0 ? decide(rs, &r, 2, step) : 0;
}

static int reg_probe(struct resolver *rs)
{
	const struct accord_certnames *n = rs->names;
	struct cdb_rec r;
	char hex[65];
	int e, len, i;

	rs->key[0] = 'S';
	memcpy(rs->key + 1, n->sha256, 32);
	e = probe(rs->db, rs->db->reg_index, rs->db->reg_slots, CDB_REG, 0, rs->key, 33, 1, &r);
	if (e == -EBADMSG)
		return e;
	hex[0] = '\0';
	if (rs->cb) /* only `certmap test` shows it */
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", n->sha256[i]);
	report(rs, 0, "sha256", hex, e == 0, e == 0 ? r.f[2] : NULL);
	if (e == 0)
		return decide(rs, &r, 1, 0);
	if (rs->ikey_len < 0 || (size_t)rs->ikey_len + strlen(n->serial) + 3 > KEY_CAP)
		return 0;
	rs->key[0] = 'I';
	memcpy(rs->key + 1, rs->ikey, (size_t)rs->ikey_len);
	len = 1 + rs->ikey_len;
	rs->key[len++] = CDB_KEY_SEP;
	memcpy(rs->key + len, n->serial, strlen(n->serial) + 1);
	len += (int)strlen(n->serial);
	e = probe(rs->db, rs->db->reg_index, rs->db->reg_slots, CDB_REG, 1, rs->key,
		  (size_t)len, 1, &r);
	if (e == -EBADMSG)
		return e;
	report(rs, 0, "issuer+serial", rs->key + 1, e == 0, e == 0 ? r.f[2] : NULL);
	return e == 0 ? decide(rs, &r, 1, 0) : 0;
}

int accord_certmap_resolve(const struct accord_certdb *db,
			   const struct accord_certnames *names,
			   const struct accord_certmap_ctx *ctx,
			   accord_probe_cb cb, void *cbctx,
			   struct accord_map_outcome *out)
{
	struct resolver rs = { db, names, ctx, cb, cbctx, out, NULL, NULL, -1 };
	size_t n = names->subject ? names->subject->nrdn : 0;
	size_t m = names->issuer ? names->issuer->nrdn : 0, k;
	int e = 0;

	memset(out, 0, sizeof(*out));
	out->result = ACCORD_MAP_NO_MATCH;
	rs.key = malloc(2 * KEY_CAP);
	if (!rs.key)
		return -ENOMEM;
	rs.ikey = rs.key + KEY_CAP;
	if (m)
		rs.ikey_len = accord_dn_key(names->issuer, m, rs.ikey, KEY_CAP);
	/* 1. registered certificates */
	e = reg_probe(&rs);
	/* 2. filters: RACF's six steps, most specific first */
	if (e == 0 && n && m)
		e = filter_probe(&rs, 1, "subject+issuer", n, m);
	for (k = n; e == 0 && m && k-- > 1;)
		e = filter_probe(&rs, 2, "partial subject+issuer", k, m);
	if (e == 0 && n)
		e = filter_probe(&rs, 3, "subject", n, 0);
	for (k = n; e == 0 && k-- > 1;)
		e = filter_probe(&rs, 4, "partial subject", k, 0);
	if (e == 0 && m)
		e = filter_probe(&rs, 5, "issuer", 0, m);
	for (k = m; e == 0 && k-- > 1;)
		e = filter_probe(&rs, 6, "partial issuer", 0, k);
	free(rs.key);
	return e < 0 ? e : 0;
}
