/* SPDX-License-Identifier: MIT */
/*
 * Certificate chain verification: include/accord/certverify.h, after
 * ../shared/spec/certmap.md §A.4 step 0 (the chain, dates, revocation and
 * KU/EKU are checked before any mapping; a chain through a NOTRUST CA is
 * refused; default KU digitalSignature and EKU clientAuth, as in SSSD).
 *
 * OpenSSL builds and checks the chain (X509_STORE_CTX); what it does not
 * know is ours: which CA of the set anchors the chain and its status, the
 * CRL policy "only where the set has a CRL" (AUTO) and the KU/EKU rules.
 *
 * Every CA goes into the store, NOTRUST ones too, so that a chain through
 * one is built and refused by name rather than reported as "unknown CA".
 * X509_V_FLAG_PARTIAL_CHAIN lets an intermediate in the set anchor a chain
 * whose root is not there (only then: see run_verify()).
 *
 * The trust set is never written after accord_trust_new(): X509_STORE
 * locks its own lookups, and each verification gets a fresh
 * X509_STORE_CTX, so threads may share one set.  OpenSSL errors queued
 * while we run are popped again (ERR_set_mark / ERR_pop_to_mark): the
 * host application's queue is left as it was.
 */
#include <accord/certverify.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define INPUT_MAX (1024 * 1024)     /* one certificate, CRL or chain file */
#define TRUST_MAX_CAS 100000u
#define TRUST_MAX_CRLS 100000u
#define CHAIN_FILE_MAX 64           /* certificates in a chain file */
#define UNTRUSTED_MAX 32            /* intermediates a client may send */
#define VERIFY_DEPTH 16             /* certificates below the anchor */
#define EKU_MAX 32                  /* purposes in pol->eku */
#define SUBJECT_MAX 200             /* subject text in a detail line */

struct trust_ca {
	X509 *cert;
	unsigned char sha256[32];
	uint32_t status;
};

struct accord_trust {
	X509_STORE *store;
	struct trust_ca *cas;
	size_t ncas;
};

/* ---- small helpers ------------------------------------------------------- */

static const char *const reason_names[] = {
	[ACCORD_CERT_OK] = "ok",
	[ACCORD_CERT_MALFORMED] = "malformed",
	[ACCORD_CERT_EXPIRED] = "expired",
	[ACCORD_CERT_NOT_YET_VALID] = "not_yet_valid",
	[ACCORD_CERT_UNKNOWN_CA] = "unknown_ca",
	[ACCORD_CERT_CA_NOTRUST] = "ca_notrust",
	[ACCORD_CERT_REVOKED] = "revoked",
	[ACCORD_CERT_CRL_MISSING] = "crl_missing",
	[ACCORD_CERT_BAD_SIGNATURE] = "bad_signature",
	[ACCORD_CERT_KEY_USAGE] = "key_usage",
	[ACCORD_CERT_EXT_KEY_USAGE] = "ext_key_usage",
	[ACCORD_CERT_INVALID] = "invalid",
};

const char *accord_cert_reason_name(enum accord_cert_reason r)
{
	if ((unsigned)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "unknown";
	return reason_names[r];
}

void accord_cert_policy_default(struct accord_cert_policy *pol)
{
	if (!pol)
		return;
	memset(pol, 0, sizeof(*pol));
	pol->crl = ACCORD_CRL_AUTO;
	pol->require_ku_ds = true;
	snprintf(pol->eku, sizeof(pol->eku), "clientAuth");
	pol->now = 0;
}

/* The reason of the last queued OpenSSL error, for a message. */
static const char *ossl_reason(void)
{
	const char *s = ERR_reason_error_string(ERR_peek_last_error());

	return s ? s : "no detail from OpenSSL";
}

/* -ENOMEM when OpenSSL's last error says so, otherwise fallback. */
static int ossl_code(int fallback)
{
	if (ERR_GET_REASON(ERR_peek_last_error()) == ERR_R_MALLOC_FAILURE)
		return -ENOMEM;
	return fallback;
}

/* Certificates carry no passphrase; never let PEM prompt on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* PEM if it looks like text; a DER certificate starts with SEQUENCE. */
static bool looks_like_der(const unsigned char *data, size_t len)
{
	return len > 0 && data[0] == 0x30;
}

static X509 *der_to_x509(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (len == 0 || len > INPUT_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		/* trailing bytes: not one certificate */
		X509_free(x);
		x = NULL;
	}
	return x;
}

static X509_CRL *der_to_crl(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *c;

	if (len == 0 || len > INPUT_MAX)
		return NULL;
	c = d2i_X509_CRL(NULL, &p, (long)len);
	if (c && p != der + len) {
		X509_CRL_free(c);
		c = NULL;
	}
	return c;
}

static int sha256_of(X509 *cert, unsigned char out[32])
{
	unsigned int n = 0;

	if (!X509_digest(cert, EVP_sha256(), out, &n) || n != 32)
		return ossl_code(-EINVAL);
	return 0;
}

/*
 * The subject as one RFC 2253 line.  XN_FLAG_RFC2253 escapes control
 * characters and every byte above 0x7e, so the text is printable ASCII
 * and cannot break an audit line.  Longer than SUBJECT_MAX: cut, "...".
 */
static void subject_line(X509 *cert, char *buf, size_t size)
{
	BIO *b = NULL;
	char *p = NULL;
	long n;
	size_t len;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (!cert)
		return;
	b = BIO_new(BIO_s_mem());
	if (!b || X509_NAME_print_ex(b, X509_get_subject_name(cert), 0,
				     XN_FLAG_RFC2253) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	if (n <= 0 || !p)
		goto out;
	len = (size_t)n;
	if (len >= size) {
		len = size - 1;
		if (len >= 3)
			memcpy(p + len - 3, "...", 3);
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
out:
	BIO_free(b);
}

/* "what; depth N; subject", cut with "..." when it does not fit. */
static void set_detail(struct accord_cert_verdict *v, const char *what,
		       int depth, X509 *cert)
{
	char subj[SUBJECT_MAX + 1];
	size_t size = sizeof(v->detail);
	int n;

	subject_line(cert, subj, sizeof(subj));
	if (cert)
		n = snprintf(v->detail, size, "%s; depth %d; %s", what, depth,
			     subj[0] ? subj : "(empty subject)");
	else
		n = snprintf(v->detail, size, "%s", what);
	if (n >= 0 && (size_t)n >= size)
		memcpy(v->detail + size - 4, "...", 3);
}

/* ---- building the trust set ------------------------------------------- */

void accord_trust_free(struct accord_trust *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncas; i++)
		X509_free(t->cas[i].cert);
	free(t->cas);
	X509_STORE_free(t->store);
	free(t);
}

/* Label for messages: the caller's, or "#index". */
static const char *ca_name(const struct accord_ca_in *ca, size_t i,
			   char *buf, size_t size)
{
	if (ca->label && ca->label[0])
		return ca->label;
	snprintf(buf, size, "#%zu", i);
	return buf;
}

static int add_ca(struct accord_trust *t, const struct accord_ca_in *in,
		  size_t i, struct accord_err *err)
{
	char nbuf[32];
	const char *name = ca_name(in, i, nbuf, sizeof(nbuf));
	struct trust_ca *ca = &t->cas[t->ncas];
	X509 *x = NULL;
	int r;

	if (in->status > ACCORD_CA_HIGHTRUST) {
		r = accord_err_set(err, -EINVAL,
				   "CA certificate '%s': unknown status %u",
				   name, in->status);
		goto out;
	}
	if (!in->der || in->len == 0 || in->len > INPUT_MAX) {
		r = accord_err_set(err, -EINVAL,
				   "CA certificate '%s': %s", name,
				   in->len > INPUT_MAX ? "larger than 1 MiB"
						       : "empty");
		goto out;
	}
	x = der_to_x509(in->der, in->len);
	if (!x) {
		r = accord_err_set(err, ossl_code(-EINVAL),
				   "CA certificate '%s' is not a DER "
				   "certificate: %s", name, ossl_reason());
		goto out;
	}
	/* X509_check_ca() caches the extensions: nothing is written to the
	 * certificate after this, the set stays read-only. */
	if (X509_check_ca(x) != 1) {
		r = accord_err_set(err, -EINVAL,
				   "certificate '%s' is not a CA "
				   "(basicConstraints CA:TRUE missing, or a "
				   "keyUsage without keyCertSign)", name);
		goto out;
	}
	if (X509_get_extension_flags(x) & EXFLAG_INVALID) {
		r = accord_err_set(err, -EINVAL,
				   "CA certificate '%s' has invalid or "
				   "duplicate extensions", name);
		goto out;
	}
	r = sha256_of(x, ca->sha256);
	if (r < 0) {
		accord_err_set(err, r, "CA certificate '%s': cannot hash it",
			       name);
		goto out;
	}
	if (!X509_STORE_add_cert(t->store, x)) {
		r = accord_err_set(err, ossl_code(-EINVAL),
				   "CA certificate '%s': cannot add it to the "
				   "store: %s", name, ossl_reason());
		goto out;
	}
	ca->cert = x;
	ca->status = in->status;
	t->ncas++;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	return r;
}

/* A CRL counts only when one of the CAs signed it, and that CA may sign
 * CRLs (no keyUsage, or one with cRLSign: what OpenSSL checks later). */
static int add_crl(struct accord_trust *t, const struct accord_crl_in *in,
		   size_t i, struct accord_err *err)
{
	X509_CRL *crl = NULL;
	const X509_NAME *issuer;
	bool name_match = false, signer_found = false;
	size_t k;
	int r;

	if (!in->der || in->len == 0 || in->len > INPUT_MAX) {
		r = accord_err_set(err, -EINVAL, "CRL %zu: %s", i,
				   in->len > INPUT_MAX ? "larger than 1 MiB"
						       : "empty");
		goto out;
	}
	crl = der_to_crl(in->der, in->len);
	if (!crl) {
		r = accord_err_set(err, ossl_code(-EINVAL),
				   "CRL %zu is not a DER CRL: %s", i,
				   ossl_reason());
		goto out;
	}
	issuer = X509_CRL_get_issuer(crl);
	for (k = 0; k < t->ncas && !signer_found; k++) {
		X509 *ca = t->cas[k].cert;
		EVP_PKEY *key;

		if (X509_NAME_cmp(X509_get_subject_name(ca), issuer) != 0)
			continue;
		name_match = true;
		key = X509_get0_pubkey(ca);
		if (!key || X509_CRL_verify(crl, key) != 1)
			continue;
		signer_found = true;
		if ((X509_get_extension_flags(ca) & EXFLAG_KUSAGE) &&
		    !(X509_get_key_usage(ca) & KU_CRL_SIGN)) {
			r = accord_err_set(err, -EINVAL,
					   "CRL %zu: its issuer's keyUsage "
					   "does not include cRLSign", i);
			goto out;
		}
	}
	if (!signer_found) {
		r = accord_err_set(err, -EINVAL,
				   "CRL %zu is not signed by any CA in the set "
				   "(%s)", i,
				   name_match ? "a CA has its issuer name but "
						"the signature does not verify"
					      : "no CA has its issuer name");
		goto out;
	}
	if (!X509_STORE_add_crl(t->store, crl)) {
		r = accord_err_set(err, ossl_code(-EINVAL),
				   "CRL %zu: cannot add it to the store: %s",
				   i, ossl_reason());
		goto out;
	}
	r = 0;
out:
	X509_CRL_free(crl); /* the store holds its own reference */
	return r;
}

int accord_trust_new(const struct accord_ca_in *cas, size_t ncas,
		     const struct accord_crl_in *crls, size_t ncrls,
		     struct accord_trust **out, struct accord_err *err)
{
	struct accord_trust *t = NULL;
	size_t i;
	int r;

	ERR_set_mark();
	if (out)
		*out = NULL;
	if (!out || (ncas && !cas) || (ncrls && !crls)) {
		r = accord_err_set(err, -EINVAL, "accord_trust_new: "
				   "invalid arguments");
		goto out;
	}
	if (ncas > TRUST_MAX_CAS || ncrls > TRUST_MAX_CRLS) {
		r = accord_err_set(err, -E2BIG, "trust set: more than %u CA "
				   "certificates or %u CRLs", TRUST_MAX_CAS,
				   TRUST_MAX_CRLS);
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (!t || (ncas && !(t->cas = calloc(ncas, sizeof(*t->cas)))) ||
	    !(t->store = X509_STORE_new())) {
		r = accord_err_set(err, -ENOMEM, "trust set: out of memory");
		goto out;
	}
	for (i = 0; i < ncas; i++) {
		r = add_ca(t, &cas[i], i, err);
		if (r < 0)
			goto out;
	}
	for (i = 0; i < ncrls; i++) {
		r = add_crl(t, &crls[i], i, err);
		if (r < 0)
			goto out;
	}
	*out = t;
	t = NULL;
	r = 0;
out:
	accord_trust_free(t);
	ERR_pop_to_mark();
	return r;
}

/* ---- EKU policy ---------------------------------------------------------- */

struct eku_set {
	ASN1_OBJECT *obj[EKU_MAX];
	size_t n;
	bool any;         /* no EKU check */
};

static void eku_free(struct eku_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		ASN1_OBJECT_free(s->obj[i]); /* no-op on built-in objects */
	s->n = 0;
}

static const struct {
	const char *name;
	int nid;
} eku_names[] = {
	{ "clientAuth", NID_client_auth },
	{ "serverAuth", NID_server_auth },
	{ "emailProtection", NID_email_protect },
	{ "codeSigning", NID_code_sign },
	{ "msSmartcardLogin", NID_ms_smartcard_login }, /* 1.3.6.1.4.1.311.20.2.2 */
	{ "pkinit", NID_pkInitClientAuth },             /* 1.3.6.1.5.2.3.4 */
};

static bool is_dotted_oid(const char *s)
{
	size_t i, dots = 0;
	bool digit = false;

	for (i = 0; s[i]; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			digit = true;
		} else if (s[i] == '.' && digit) {
			digit = false;
			dots++;
		} else {
			return false;
		}
	}
	return digit && dots >= 1;
}

/*
 * "clientAuth", "clientAuth, 1.3.6.1.5.2.3.4": names or dotted OIDs,
 * any of which suffices.  "" or "any" alone: no check.  A name we do not
 * know is a configuration error (-EINVAL), never "no check".
 */
/* s without leading and trailing blanks (s is changed). */
static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int eku_parse(const char eku[128], struct eku_set *s)
{
	char buf[128];
	char *item, *p, *comma;
	size_t i;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if (!memchr(eku, '\0', 128))
		return -EINVAL;
	memcpy(buf, eku, sizeof(buf));
	item = trim(buf);
	if (!item[0] || strcmp(item, "any") == 0) {
		s->any = true;
		return 0;
	}
	/* every item between commas must name a purpose: "a,,b" is an
	 * error, not "a,b" */
	for (p = item; r == 0; p = comma + 1) {
		ASN1_OBJECT *o = NULL;

		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		item = trim(p);
		for (i = 0; i < sizeof(eku_names) / sizeof(eku_names[0]); i++)
			if (strcmp(item, eku_names[i].name) == 0)
				o = OBJ_nid2obj(eku_names[i].nid);
		if (!o && is_dotted_oid(item))
			o = OBJ_txt2obj(item, 1);
		if (!o || s->n == EKU_MAX) {
			ASN1_OBJECT_free(o);
			r = -EINVAL;
		} else {
			s->obj[s->n++] = o;
		}
		if (!comma)
			break;
	}
	if (r < 0)
		eku_free(s);
	return r;
}

/* true: the leaf's EKU extension lists one of the purposes in s. */
static bool eku_ok(X509 *leaf, const struct eku_set *s)
{
	EXTENDED_KEY_USAGE *ext;
	int crit = 0, j;
	size_t i;
	bool ok = false;

	if (s->any)
		return true;
	ext = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	if (!ext)
		return false;
	for (j = 0; j < sk_ASN1_OBJECT_num(ext) && !ok; j++)
		for (i = 0; i < s->n && !ok; i++)
			if (OBJ_cmp(sk_ASN1_OBJECT_value(ext, j),
				    s->obj[i]) == 0)
				ok = true;
	EXTENDED_KEY_USAGE_free(ext);
	return ok;
}

/* ---- verification -------------------------------------------------------- */

struct verify_state {
	uint32_t crl_mode;
};

static bool crl_lookup_error(int e)
{
	return e == X509_V_ERR_UNABLE_TO_GET_CRL ||
	       e == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER ||
	       e == X509_V_ERR_CRL_HAS_EXPIRED ||
	       e == X509_V_ERR_CRL_NOT_YET_VALID;
}

/*
 * OpenSSL's CRL_CHECK_ALL wants a CRL for every certificate of the chain,
 * the anchor included.  We check revocation below the anchor only (the
 * anchor is trusted by configuration) and, in AUTO mode, only where the
 * set holds a CRL of the issuer: "no CRL found" is then not an error.  An
 * expired or not yet valid CRL stays an error in AUTO mode too: a CRL that
 * the administrator installed and let lapse is not silently ignored.
 */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	const struct verify_state *st = X509_STORE_CTX_get_app_data(ctx);
	STACK_OF(X509) *chain;
	int e, depth;

	if (ok || !st)
		return ok;
	e = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	chain = X509_STORE_CTX_get0_chain(ctx);
	if (crl_lookup_error(e) && chain &&
	    depth == sk_X509_num(chain) - 1) {
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 1;
	}
	if (e == X509_V_ERR_UNABLE_TO_GET_CRL &&
	    st->crl_mode == ACCORD_CRL_AUTO) {
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 1;
	}
	return 0;
}

static enum accord_cert_reason map_error(int e, uint32_t crl_mode)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return ACCORD_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return ACCORD_CERT_NOT_YET_VALID;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return ACCORD_CERT_UNKNOWN_CA;
	case X509_V_ERR_CERT_REVOKED:
		return ACCORD_CERT_REVOKED;
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
		return ACCORD_CERT_CRL_MISSING;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return crl_mode == ACCORD_CRL_REQUIRE ? ACCORD_CERT_CRL_MISSING
						      : ACCORD_CERT_INVALID;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
		return ACCORD_CERT_BAD_SIGNATURE;
	default:
		return ACCORD_CERT_INVALID;
	}
}

/*
 * The chain OpenSSL built, against the set: the anchor (top of the chain)
 * as an index into the caller's CAs, and whether any certificate of the
 * chain is a NOTRUST CA of the set (*notrust_at: its depth, else -1).
 * Certificates are compared by the SHA-256 of their DER: the client may
 * send its own copy of a CA.
 */
static int classify_chain(const struct accord_trust *t, STACK_OF(X509) *chain,
			  struct accord_cert_verdict *v, int *notrust_at)
{
	unsigned char h[32];
	int n = chain ? sk_X509_num(chain) : 0;
	int d, r;
	size_t i;

	*notrust_at = -1;
	v->depth = n;
	for (d = 0; d < n; d++) {
		X509 *x = sk_X509_value(chain, d);
		int found = -1;

		r = sha256_of(x, h);
		if (r < 0)
			return r;
		/* the same CA twice under two statuses: NOTRUST wins */
		for (i = 0; i < t->ncas; i++) {
			if (memcmp(t->cas[i].sha256, h, sizeof(h)) != 0)
				continue;
			if (found < 0 || t->cas[i].status == ACCORD_CA_NOTRUST)
				found = (int)i;
			if (t->cas[i].status == ACCORD_CA_NOTRUST)
				break;
		}
		if (found < 0)
			continue;
		if (t->cas[found].status == ACCORD_CA_NOTRUST &&
		    *notrust_at < 0)
			*notrust_at = d;
		if (d == n - 1) {
			v->anchor = found;
			v->anchor_status = t->cas[found].status;
		}
	}
	return 0;
}

/*
 * One X509_verify_cert() in a fresh context (*ctx, replaced).  OpenSSL's
 * X509_V_FLAG_PARTIAL_CHAIN stops at the first certificate of the set it
 * meets: with a root and its intermediate both in the set, the chain would
 * end at the intermediate, and the root's status (NOTRUST, HIGHTRUST) and
 * its CRL over the intermediate would never be looked at.  So the first
 * run asks for a chain to a self-signed CA of the set, and only when there
 * is no such path does a second run (partial) accept an intermediate of
 * the set as the anchor.
 */
static int run_verify(const struct accord_trust *t, X509 *leaf,
		      STACK_OF(X509) *untrusted,
		      const struct accord_cert_policy *pol,
		      struct verify_state *st, bool partial,
		      X509_STORE_CTX **ctx, int *ok)
{
	X509_VERIFY_PARAM *param;
	unsigned long flags = X509_V_FLAG_X509_STRICT;

	X509_STORE_CTX_free(*ctx);
	*ctx = X509_STORE_CTX_new();
	if (!*ctx || !X509_STORE_CTX_init(*ctx, t->store, leaf, untrusted))
		return -ENOMEM;
	param = X509_STORE_CTX_get0_param(*ctx);
	if (partial)
		flags |= X509_V_FLAG_PARTIAL_CHAIN;
	if (pol->crl != ACCORD_CRL_OFF)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	if (!X509_VERIFY_PARAM_set_flags(param, flags))
		return -ENOMEM;
	X509_VERIFY_PARAM_set_depth(param, VERIFY_DEPTH);
	if (pol->now != 0)
		X509_VERIFY_PARAM_set_time(param, (time_t)pol->now);
	X509_STORE_CTX_set_app_data(*ctx, st);
	X509_STORE_CTX_set_verify_cb(*ctx, verify_cb);
	*ok = X509_verify_cert(*ctx);
	if (*ok <= 0 &&
	    X509_STORE_CTX_get_error(*ctx) == X509_V_ERR_OUT_OF_MEM)
		return -ENOMEM;
	return 0;
}

int accord_trust_verify(const struct accord_trust *t, X509 *leaf,
			STACK_OF(X509) *untrusted,
			const struct accord_cert_policy *pol,
			struct accord_cert_verdict *out)
{
	struct eku_set ekus = { .n = 0 };
	struct verify_state st;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *chain;
	int r, ok = 0, e, edepth, notrust_at;
	X509 *ecert;

	ERR_set_mark();
	if (out) {
		memset(out, 0, sizeof(*out));
		out->reason = ACCORD_CERT_INVALID;
		out->anchor = -1;
	}
	if (!t || !leaf || !pol || !out || pol->crl > ACCORD_CRL_OFF) {
		r = -EINVAL;
		goto out;
	}
	r = eku_parse(pol->eku, &ekus);
	if (r < 0)
		goto out;
	if (untrusted && sk_X509_num(untrusted) > UNTRUSTED_MAX) {
		snprintf(out->detail, sizeof(out->detail),
			 "more than %d intermediate certificates",
			 UNTRUSTED_MAX);
		r = 0;
		goto out;
	}

	st.crl_mode = pol->crl;
	/* first to a root of the set; only without one, to an intermediate
	 * of the set (see run_verify) */
	r = run_verify(t, leaf, untrusted, pol, &st, false, &ctx, &ok);
	if (r == 0 && ok <= 0 &&
	    map_error(X509_STORE_CTX_get_error(ctx), pol->crl) ==
		    ACCORD_CERT_UNKNOWN_CA)
		r = run_verify(t, leaf, untrusted, pol, &st, true, &ctx, &ok);
	if (r < 0)
		goto out;
	e = X509_STORE_CTX_get_error(ctx);
	chain = X509_STORE_CTX_get0_chain(ctx);
	r = classify_chain(t, chain, out, &notrust_at);
	if (r < 0)
		goto out;

	if (notrust_at >= 0) {
		out->reason = ACCORD_CERT_CA_NOTRUST;
		set_detail(out, "the chain runs through a NOTRUST CA",
			   notrust_at, sk_X509_value(chain, notrust_at));
	} else if (ok <= 0) {
		edepth = X509_STORE_CTX_get_error_depth(ctx);
		ecert = X509_STORE_CTX_get_current_cert(ctx);
		if (!ecert && chain && edepth >= 0 &&
		    edepth < sk_X509_num(chain))
			ecert = sk_X509_value(chain, edepth);
		out->reason = map_error(e, pol->crl);
		set_detail(out, X509_verify_cert_error_string(e), edepth,
			   ecert);
	} else if (out->anchor < 0) {
		/* cannot happen: a verified chain ends in the store */
		set_detail(out, "the chain's anchor is not in the trust set",
			   out->depth - 1,
			   sk_X509_value(chain, out->depth - 1));
	} else if (out->depth < 2) {
		out->reason = ACCORD_CERT_INVALID;
		set_detail(out, "the certificate is itself a CA of the trust "
			   "set, not a user certificate", 0, leaf);
	} else if (pol->require_ku_ds &&
		   (X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
		   !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		out->reason = ACCORD_CERT_KEY_USAGE;
		set_detail(out, "keyUsage lacks digitalSignature", 0, leaf);
	} else if (!eku_ok(leaf, &ekus)) {
		out->reason = ACCORD_CERT_EXT_KEY_USAGE;
		set_detail(out, "extendedKeyUsage lacks every purpose the "
			   "policy accepts", 0, leaf);
	} else {
		out->reason = ACCORD_CERT_OK;
		set_detail(out, "verified to the anchor", out->depth - 1,
			   sk_X509_value(chain, out->depth - 1));
	}
	r = 0;
out:
	if (r < 0 && out) {
		out->reason = ACCORD_CERT_INVALID;
		out->anchor = -1;
		snprintf(out->detail, sizeof(out->detail),
			 "internal error: %s", strerror(-r));
	}
	X509_STORE_CTX_free(ctx);
	eku_free(&ekus);
	ERR_pop_to_mark();
	return r;
}

/* ---- loading ------------------------------------------------------------- */

static int check_input(const unsigned char *data, size_t len,
		       struct accord_err *err)
{
	if (!data || len == 0)
		return accord_err_set(err, -EINVAL, "no certificate data");
	if (len > INPUT_MAX)
		return accord_err_set(err, -EFBIG, "certificate data larger "
				      "than 1 MiB (%zu bytes)", len);
	return 0;
}

X509 *accord_cert_load(const unsigned char *data, size_t len,
		       struct accord_err *err)
{
	X509 *x = NULL;
	BIO *b = NULL;

	ERR_set_mark();
	if (check_input(data, len, err) < 0)
		goto out;
	if (looks_like_der(data, len)) {
		x = der_to_x509(data, len);
		if (!x)
			accord_err_set(err, ossl_code(-EINVAL),
				       "not a DER certificate (or trailing "
				       "data after it): %s", ossl_reason());
		goto out;
	}
	b = BIO_new_mem_buf(data, (int)len);
	if (!b) {
		accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
	if (!x)
		accord_err_set(err, ossl_code(-EINVAL),
			       "no PEM CERTIFICATE block that parses: %s",
			       ossl_reason());
out:
	BIO_free(b);
	ERR_pop_to_mark();
	return x;
}

int accord_cert_load_all(const unsigned char *data, size_t len,
			 STACK_OF(X509) **out, struct accord_err *err)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	unsigned long e;
	int r;

	ERR_set_mark();
	if (out)
		*out = NULL;
	if (!out) {
		r = accord_err_set(err, -EINVAL, "accord_cert_load_all: "
				   "invalid arguments");
		goto out;
	}
	r = check_input(data, len, err);
	if (r < 0)
		goto out;
	sk = sk_X509_new_null();
	if (!sk) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (looks_like_der(data, len)) {
		x = der_to_x509(data, len);
		if (!x) {
			r = accord_err_set(err, ossl_code(-EINVAL),
					   "not a DER certificate (or "
					   "trailing data after it): %s",
					   ossl_reason());
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		x = NULL;
	} else {
		b = BIO_new_mem_buf(data, (int)len);
		if (!b) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		for (;;) {
			ERR_set_mark();
			x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
			if (!x) {
				/* the normal end: no further BEGIN line */
				e = ERR_peek_last_error();
				if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
				    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
					ERR_pop_to_mark();
					break;
				}
				r = accord_err_set(err, ossl_code(-EINVAL),
						   "PEM block %d is not a "
						   "certificate: %s",
						   sk_X509_num(sk) + 1,
						   ossl_reason());
				ERR_pop_to_mark();
				goto out;
			}
			ERR_pop_to_mark();
			if (sk_X509_num(sk) == CHAIN_FILE_MAX) {
				r = accord_err_set(err, -E2BIG,
						   "more than %d certificates",
						   CHAIN_FILE_MAX);
				goto out;
			}
			if (!sk_X509_push(sk, x)) {
				r = accord_err_set(err, -ENOMEM,
						   "out of memory");
				goto out;
			}
			x = NULL;
		}
		if (sk_X509_num(sk) == 0) {
			r = accord_err_set(err, -EINVAL,
					   "no PEM CERTIFICATE block");
			goto out;
		}
	}
	*out = sk;
	sk = NULL;
	r = 0;
out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	ERR_pop_to_mark();
	return r;
}

int accord_cert_sha256(X509 *cert, unsigned char out[32])
{
	int r;

	if (!cert || !out)
		return -EINVAL;
	ERR_set_mark();
	r = sha256_of(cert, out);
	ERR_pop_to_mark();
	return r;
}
