/* SPDX-License-Identifier: MIT */
/*
 * Test certificates: see certgen.h.
 */
#include "certgen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define NAME_TEXT_MAX 4096

static int fail(const char *what)
{
	fprintf(stderr, "certgen: %s\n", what);
	ERR_print_errors_fp(stderr);
	return -EINVAL;
}

void certgen_opts_init(struct certgen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->not_before = -3600;
	o->not_after = 30 * CERTGEN_DAY;
	o->pathlen = -1;
}

void certgen_crl_opts_init(struct certgen_crl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->last_update = -3600;
	o->next_update = 7 * CERTGEN_DAY;
}

EVP_PKEY *certgen_key_new(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (!k)
		fail("P-256 key generation failed");
	return k;
}

void certgen_cert_free(struct certgen_cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	c->x509 = NULL;
	c->key = NULL;
}

/* ---- names --------------------------------------------------------------- */

X509_NAME *certgen_name_parse(const char *s)
{
	X509_NAME *n = X509_NAME_new();
	char field[128], value[NAME_TEXT_MAX];
	size_t fl = 0, vl = 0;
	bool in_value = false, join = false, ok = true;
	const char *p;

	if (!n)
		return NULL;
	if (!s || !s[0] || strcmp(s, "/") == 0)
		return n;
	if (s[0] != '/') {
		fprintf(stderr, "certgen: subject must start with '/': %s\n",
			s);
		X509_NAME_free(n);
		return NULL;
	}
	for (p = s + 1; ok; p++) {
		char c = *p;

		if (c == '\\' && p[1]) {
			c = *++p;
		} else if (c == '/' || c == '+' || c == '\0') {
			if (!in_value || fl == 0) {
				ok = false;
				break;
			}
			field[fl] = value[vl] = '\0';
			if (!X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
					(const unsigned char *)value, -1, -1,
					join ? -1 : 0)) {
				ok = false;
				break;
			}
			join = c == '+';
			fl = vl = 0;
			in_value = false;
			if (c == '\0')
				break;
			continue;
		} else if (c == '=' && !in_value) {
			in_value = true;
			continue;
		}
		if (in_value ? vl + 1 >= sizeof(value)
			     : fl + 1 >= sizeof(field)) {
			ok = false;
			break;
		}
		if (in_value)
			value[vl++] = c;
		else
			field[fl++] = c;
	}
	if (!ok) {
		fprintf(stderr, "certgen: bad subject: %s\n", s);
		ERR_print_errors_fp(stderr);
		X509_NAME_free(n);
		n = NULL;
	}
	return n;
}

static X509_NAME *name_from_list(const struct certgen_rdn *r, size_t n)
{
	X509_NAME *name = X509_NAME_new();
	size_t i;

	for (i = 0; name && i < n; i++) {
		int join = i > 0 && r[i].set == r[i - 1].set;
		int type = r[i].type ? r[i].type : MBSTRING_UTF8;

		if (!X509_NAME_add_entry_by_txt(name, r[i].field, type,
				(const unsigned char *)r[i].value, r[i].len,
				-1, join ? -1 : 0)) {
			fprintf(stderr, "certgen: bad attribute %s=%s\n",
				r[i].field, r[i].value);
			X509_NAME_free(name);
			name = NULL;
		}
	}
	return name;
}

/* ---- certificates -------------------------------------------------------- */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (!e) {
		fprintf(stderr, "certgen: extension %s=%s\n", OBJ_nid2sn(nid),
			value);
		return fail("cannot make the extension");
	}
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : fail("cannot add the extension");
}

static int set_serial(ASN1_INTEGER *a, uint64_t serial)
{
	if (serial == 0) {
		if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
			return fail("RAND_bytes");
		serial &= UINT64_C(0x7fffffffffffffff);
		if (serial == 0)
			serial = 1;
	}
	return ASN1_INTEGER_set_uint64(a, serial) ? 0 : fail("serial");
}

static int set_time(ASN1_TIME *t, int64_t when)
{
	return ASN1_TIME_set(t, (time_t)when) ? 0 : fail("time");
}

int certgen_make(const struct certgen_opts *o,
		 const struct certgen_cert *issuer, struct certgen_cert *out)
{
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	X509_NAME *name = NULL;
	X509V3_CTX v3;
	char bc[64];
	const char *ku, *eku;
	int64_t base = o->base ? o->base : (int64_t)time(NULL);
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (o->key) {
		if (!EVP_PKEY_up_ref(o->key))
			goto out;
		key = o->key;
	} else if (!(key = certgen_key_new())) {
		goto out;
	}
	name = o->nrdns ? name_from_list(o->rdns, o->nrdns)
			: certgen_name_parse(o->subject);
	x = X509_new();
	if (!name || !x || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->x509)
					    : name) ||
	    !X509_set_pubkey(x, key)) {
		fail("certificate fields");
		goto out;
	}
	if (set_serial(X509_get_serialNumber(x), o->serial) < 0 ||
	    set_time(X509_getm_notBefore(x), base + o->not_before) < 0 ||
	    set_time(X509_getm_notAfter(x), base + o->not_after) < 0)
		goto out;

	X509V3_set_ctx(&v3, issuer ? issuer->x509 : x, x, NULL, NULL, 0);
	if (o->is_ca && o->pathlen >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d",
			 o->pathlen);
	else
		snprintf(bc, sizeof(bc), o->is_ca ? "critical,CA:TRUE"
						  : "CA:FALSE");
	if (add_ext(x, &v3, NID_basic_constraints, bc) < 0)
		goto out;
	ku = o->ku ? o->ku : o->is_ca ? "critical,keyCertSign,cRLSign"
				      : "critical,digitalSignature";
	if (ku[0] && add_ext(x, &v3, NID_key_usage, ku) < 0)
		goto out;
	eku = o->eku ? o->eku : o->is_ca ? "" : "clientAuth";
	if (eku[0] && add_ext(x, &v3, NID_ext_key_usage, eku) < 0)
		goto out;
	if (o->san && o->san[0]) {
		/* RFC 5280: with an empty subject the SAN is critical */
		char san[1024];

		snprintf(san, sizeof(san), "%s%s",
			 X509_NAME_entry_count(name) == 0 ? "critical," : "",
			 o->san);
		if (add_ext(x, &v3, NID_subject_alt_name, san) < 0)
			goto out;
	}
	if (!o->no_skid &&
	    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0)
		goto out;
	if (issuer && !o->no_akid &&
	    add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") < 0)
		goto out;
	if (!X509_sign(x, issuer ? issuer->key : key, EVP_sha256())) {
		fail("signing");
		goto out;
	}
	out->x509 = x;
	out->key = key;
	x = NULL;
	key = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

/* ---- CRLs ---------------------------------------------------------------- */

X509_CRL *certgen_crl(const struct certgen_crl_opts *o,
		      const struct certgen_cert *issuer)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_new(), *next = ASN1_TIME_new();
	ASN1_INTEGER *num = NULL;
	X509_REVOKED *rev = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	int64_t base = o->base ? o->base : (int64_t)time(NULL);
	size_t i;
	bool ok = false;

	if (!crl || !last || !next || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->x509)) ||
	    set_time(last, base + o->last_update) < 0 ||
	    set_time(next, base + o->next_update) < 0 ||
	    !X509_CRL_set1_lastUpdate(crl, last) ||
	    (!o->no_next_update && !X509_CRL_set1_nextUpdate(crl, next)))
		goto out;
	for (i = 0; i < o->nrevoked; i++) {
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		rev = X509_REVOKED_new();
		if (!s || !rev || !ASN1_INTEGER_set_uint64(s, o->revoked[i]) ||
		    !X509_REVOKED_set_serialNumber(rev, s) ||
		    !X509_REVOKED_set_revocationDate(rev, last)) {
			ASN1_INTEGER_free(s);
			goto out;
		}
		ASN1_INTEGER_free(s);
		if (!X509_CRL_add0_revoked(crl, rev))
			goto out;
		rev = NULL;
	}
	X509V3_set_ctx(&v3, issuer->x509, NULL, NULL, crl, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_authority_key_identifier,
				   "keyid:always");
	if (!ext || !X509_CRL_add_ext(crl, ext, -1))
		goto out;
	if (o->number) {
		num = ASN1_INTEGER_new();
		if (!num || !ASN1_INTEGER_set_uint64(num, o->number) ||
		    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
			goto out;
	}
	if (!X509_CRL_sort(crl) ||
	    !X509_CRL_sign(crl, issuer->key, EVP_sha256()))
		goto out;
	ok = true;
out:
	if (!ok) {
		fail("CRL");
		X509_CRL_free(crl);
		crl = NULL;
	}
	X509_REVOKED_free(rev);
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return crl;
}

/* ---- encodings and files ------------------------------------------------- */

int certgen_cert_der(X509 *x, unsigned char **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	if (n <= 0)
		return fail("i2d_X509");
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(p);
		return -ENOMEM;
	}
	memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return 0;
}

int certgen_crl_der(X509_CRL *c, unsigned char **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509_CRL(c, &p);

	if (n <= 0)
		return fail("i2d_X509_CRL");
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(p);
		return -ENOMEM;
	}
	memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return 0;
}

/* Writes what b holds to path with the given mode. */
static int write_bio(const char *path, BIO *b, mode_t mode)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	size_t off = 0;
	int fd, r = 0;

	if (n < 0)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "certgen: %s: %s\n", path, strerror(errno));
		return r;
	}
	if (fchmod(fd, mode) < 0)
		r = -errno;
	while (r == 0 && off < (size_t)n) {
		ssize_t w = write(fd, p + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = w < 0 ? -errno : -EIO;
		else
			off += (size_t)w;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		fprintf(stderr, "certgen: %s: %s\n", path, strerror(-r));
	return r;
}

int certgen_write_cert(const char *path, X509 *x, bool der)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r = -ENOMEM;

	if (b && (der ? i2d_X509_bio(b, x) : PEM_write_bio_X509(b, x)))
		r = write_bio(path, b, 0644);
	BIO_free(b);
	return r;
}

int certgen_write_crl(const char *path, X509_CRL *c, bool der)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r = -ENOMEM;

	if (b && (der ? i2d_X509_CRL_bio(b, c) : PEM_write_bio_X509_CRL(b, c)))
		r = write_bio(path, b, 0644);
	BIO_free(b);
	return r;
}

int certgen_write_key(const char *path, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r = -ENOMEM;

	if (b && PEM_write_bio_PKCS8PrivateKey(b, key, NULL, NULL, 0, NULL,
					       NULL))
		r = write_bio(path, b, 0600);
	BIO_free(b);
	return r;
}

int certgen_load(const char *prefix, struct certgen_cert *out)
{
	char path[4096];
	BIO *b = NULL;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s.crt", prefix);
	b = BIO_new_file(path, "r");
	if (!b || !(out->x509 = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		fprintf(stderr, "certgen: cannot read a certificate from %s\n",
			path);
		goto out;
	}
	BIO_free(b);
	snprintf(path, sizeof(path), "%s.key", prefix);
	b = BIO_new_file(path, "r");
	if (!b || !(out->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
		fprintf(stderr, "certgen: cannot read a key from %s\n", path);
		goto out;
	}
	if (X509_check_private_key(out->x509, out->key) != 1) {
		fprintf(stderr, "certgen: %s.key does not match %s.crt\n",
			prefix, prefix);
		goto out;
	}
	r = 0;
out:
	BIO_free(b);
	if (r < 0)
		certgen_cert_free(out);
	return r;
}

EVP_PKEY *certgen_load_key(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	if (!k)
		fprintf(stderr, "certgen: cannot read a key from %s\n", path);
	BIO_free(b);
	return k;
}
