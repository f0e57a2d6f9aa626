/* SPDX-License-Identifier: MIT */
/* Keys and certificates for the proof-of-possession tests, made with
 * OpenSSL's C API (no files, no openssl CLI).  Every function fails the
 * running cmocka test on error. */
#ifndef ACCORD_TEST_POPGEN_H
#define ACCORD_TEST_POPGEN_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum pg_kind {
	PG_ED25519,
	PG_EC,       /* P-256 */
	PG_RSA,      /* 2048 */
	PG_RSA1024,  /* below the protocol's minimum */
};

EVP_PKEY *pg_key(enum pg_kind kind);
/* A certificate for key named cn, signed by issuer_key (issuer NULL:
 * self-signed); ca: basicConstraints CA:TRUE.  pad: bytes of a comment
 * extension, to make it larger. */
X509 *pg_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
	      unsigned pad);
/* Files: the key as unencrypted PKCS#8 PEM with mode; certificates as
 * PEM (appended when append) or DER. */
void pg_write_key(const char *path, EVP_PKEY *key, unsigned mode);
void pg_write_cert_pem(const char *path, X509 *x, bool append);
void pg_write_cert_der(const char *path, X509 *x);
/* malloc'd text: base64 of the DER on one line, or PEM. */
char *pg_cert_b64(X509 *x);
char *pg_cert_pem(X509 *x);

#endif
