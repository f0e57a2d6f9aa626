/* SPDX-License-Identifier: MIT */
/*
 * Test certificates for the whole project: CAs, intermediates, leaves and
 * CRLs with EC P-256 keys (fast), made with the OpenSSL API.  Test code:
 * functions return 0 or a negative errno and print OpenSSL's errors to
 * stderr.
 *
 * Defaults are what accord's verifier accepts under X509_V_FLAG_X509_STRICT:
 * version 3, subjectKeyIdentifier everywhere, authorityKeyIdentifier below
 * the root, critical basicConstraints and keyUsage keyCertSign+cRLSign on
 * CAs, keyUsage digitalSignature and EKU clientAuth on leaves.
 *
 *	struct certgen_opts o;
 *	struct certgen_cert root = {0}, leaf = {0};
 *
 *	certgen_opts_init(&o);
 *	o.subject = "/C=GB/O=Example/CN=Test CA";
 *	o.is_ca = true;
 *	certgen_make(&o, NULL, &root);          // self-signed
 *	certgen_opts_init(&o);
 *	o.subject = "/C=GB/O=Example/CN=user1";
 *	o.serial = 42;
 *	certgen_make(&o, &root, &leaf);
 *	...
 *	certgen_cert_free(&leaf);
 *	certgen_cert_free(&root);
 */
#ifndef ACCORD_TESTS_CERTGEN_H
#define ACCORD_TESTS_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERTGEN_DAY INT64_C(86400)

/* One attribute of a subject given as a list, in DER order. */
struct certgen_rdn {
	const char *field;  /* "C", "CN", "O", "UID", "emailAddress", or a
			       dotted OID */
	const char *value;
	int len;            /* bytes of value; -1: strlen */
	int type;           /* 0: MBSTRING_UTF8 (OpenSSL picks the string
			       type the attribute's table says); otherwise a
			       V_ASN1_* string type used as is, value being
			       the raw content (e.g. V_ASN1_BMPSTRING with
			       UCS-2BE bytes) */
	int set;            /* RDN index: an attribute with the same set as
			       the one before it joins that RDN
			       (multi-valued, "CN=a+UID=b") */
};

struct certgen_opts {
	/* Subject: a string "/C=GB/O=Example/CN=user1" ("+" joins
	 * attributes of one RDN: "/O=Ex/CN=a+UID=b"; "\" escapes "/", "+"
	 * and "\"), or a list (rdns, nrdns), which wins when given.  NULL
	 * and no list: empty subject (then give a SAN). */
	const char *subject;
	const struct certgen_rdn *rdns;
	size_t nrdns;

	uint64_t serial;     /* 0: random 63-bit */
	int64_t base;        /* the time the offsets count from; 0: now */
	int64_t not_before;  /* seconds from base (default -3600) */
	int64_t not_after;   /* seconds from base (default +30 days) */

	bool is_ca;          /* basicConstraints critical CA:TRUE */
	int pathlen;         /* CA path length; -1: none (default) */

	/* keyUsage, extendedKeyUsage, subjectAltName in openssl.cnf syntax
	 * ("critical,digitalSignature", "clientAuth,1.3.6.1.5.2.3.4",
	 * "email:a@b.example,otherName:msUPN;UTF8:u@REALM").  NULL: the
	 * default (KU: CA "critical,keyCertSign,cRLSign", leaf
	 * "critical,digitalSignature"; EKU: CA none, leaf "clientAuth"; SAN
	 * none); "": no such extension. */
	const char *ku;
	const char *eku;
	const char *san;

	EVP_PKEY *key;       /* the subject's key (borrowed); NULL: a new
				P-256 key */
	bool no_skid;        /* leave out subjectKeyIdentifier */
	bool no_akid;        /* leave out authorityKeyIdentifier */
};

struct certgen_cert {
	X509 *x509;
	EVP_PKEY *key;       /* the private key */
};

struct certgen_crl_opts {
	int64_t base;          /* 0: now */
	int64_t last_update;   /* seconds from base (default -3600) */
	int64_t next_update;   /* seconds from base (default +7 days) */
	bool no_next_update;
	const uint64_t *revoked;  /* serials */
	size_t nrevoked;
	uint64_t number;       /* cRLNumber; 0: none */
};

void certgen_opts_init(struct certgen_opts *o);
void certgen_crl_opts_init(struct certgen_crl_opts *o);

/* A new P-256 key, or NULL. */
EVP_PKEY *certgen_key_new(void);

/* Makes a certificate signed by issuer (NULL: self-signed).  out is
 * overwritten; free it with certgen_cert_free(). */
int certgen_make(const struct certgen_opts *o,
		 const struct certgen_cert *issuer, struct certgen_cert *out);
void certgen_cert_free(struct certgen_cert *c);

/* Builds a subject from the "/C=GB/CN=x" form. */
X509_NAME *certgen_name_parse(const char *s);

/* A CRL of issuer revoking o->revoked; NULL on failure. */
X509_CRL *certgen_crl(const struct certgen_crl_opts *o,
		      const struct certgen_cert *issuer);

/* DER into a malloc()ed buffer (free()). */
int certgen_cert_der(X509 *x, unsigned char **der, size_t *len);
int certgen_crl_der(X509_CRL *c, unsigned char **der, size_t *len);

/* Files: replaced, mode 0644 (keys 0600, PKCS#8 PEM). */
int certgen_write_cert(const char *path, X509 *x, bool der);
int certgen_write_crl(const char *path, X509_CRL *c, bool der);
int certgen_write_key(const char *path, EVP_PKEY *key);

/* Reads PREFIX.crt (PEM) and PREFIX.key (PEM) written by mkcert. */
int certgen_load(const char *prefix, struct certgen_cert *out);

/* A PEM private key from path, or NULL. */
EVP_PKEY *certgen_load_key(const char *path);

#endif
