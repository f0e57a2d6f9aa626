/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "popgen.h"

EVP_PKEY *pg_key(enum pg_kind kind)
{
	EVP_PKEY *k = NULL;

	switch (kind) {
	case PG_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case PG_EC:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case PG_RSA:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case PG_RSA1024:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		break;
	}
	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

X509 *pg_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
	      unsigned pad)
{
	static long serial = 1000;
	X509 *x = X509_new();
	X509_NAME *name;
	EVP_PKEY *signer = issuer_key ? issuer_key : key;
	int id = EVP_PKEY_get_base_id(signer);
	const EVP_MD *md = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30));
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
						    (const unsigned char *)"accord tests", -1, -1, 0),
			 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(x, issuer, NID_key_usage,
		ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	if (!ca)
		add_ext(x, issuer, NID_ext_key_usage, "clientAuth");
	if (pad) {
		char *comment = malloc(pad + 1);

		assert_non_null(comment);
		memset(comment, 'p', pad);
		comment[pad] = '\0';
		add_ext(x, issuer, NID_netscape_comment, comment);
		free(comment);
	}
	assert_true(X509_sign(x, signer, md) > 0);
	return x;
}

void pg_write_key(const char *path, EVP_PKEY *key, unsigned mode)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fchmod(fileno(f), (mode_t)mode), 0);
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
}

void pg_write_cert_pem(const char *path, X509 *x, bool append)
{
	FILE *f = fopen(path, append ? "ae" : "we");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

void pg_write_cert_der(const char *path, X509 *x)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(i2d_X509_fp(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

char *pg_cert_b64(X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	char *out;

	assert_true(len > 0);
	out = malloc((size_t)(len + 2) / 3 * 4 + 1);
	assert_non_null(out);
	assert_true(EVP_EncodeBlock((unsigned char *)out, der, len) > 0);
	OPENSSL_free(der);
	return out;
}

char *pg_cert_pem(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_true(len > 0);
	out = strndup(data, (size_t)len);
	assert_non_null(out);
	BIO_free(bio);
	return out;
}
