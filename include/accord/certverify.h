/* SPDX-License-Identifier: MIT */
/*
 * Certificate chain verification, done before any mapping (mapping is
 * never authentication): the chain to a trust anchor the registry holds,
 * validity dates, CRLs, key usage and extended key usage.  OpenSSL 3.
 *
 * A trust set is built once from the registry's CA certificates and CRLs
 * (DER) and reused for many verifications: parsing is the expensive part
 * on OpenSSL 3.0.  It is read-only after accord_trust_new() and may be
 * shared by threads.
 */
#ifndef ACCORD_CERTVERIFY_H
#define ACCORD_CERTVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include <accord/error.h>

/* The status of a CA certificate (RACDCERT CERTAUTH TRUST/NOTRUST/HIGHTRUST). */
enum accord_ca_status {
	ACCORD_CA_TRUST = 0,
	ACCORD_CA_NOTRUST = 1,
	ACCORD_CA_HIGHTRUST = 2,
};

struct accord_ca_in {
	const unsigned char *der;
	size_t len;
	uint32_t status;      /* enum accord_ca_status */
	const char *label;    /* for messages; may be NULL */
};

struct accord_crl_in {
	const unsigned char *der;
	size_t len;
};

/* What a verification checks besides the chain itself. */
enum accord_crl_mode {
	ACCORD_CRL_AUTO = 0,  /* check every certificate of the chain whose
				 issuer has a CRL in the set; no CRL: not checked */
	ACCORD_CRL_REQUIRE,   /* every certificate below the anchor must be
				 covered by a current CRL */
	ACCORD_CRL_OFF,
};

struct accord_cert_policy {
	uint32_t crl;         /* enum accord_crl_mode */
	bool require_ku_ds;   /* key usage, when present, must include
				 digitalSignature (default true) */
	char eku[128];        /* "clientAuth" (default), a comma list of names
				 (clientAuth, serverAuth, emailProtection,
				 codeSigning, msSmartcardLogin, pkinit) or
				 dotted OIDs, any of which suffices; "any" or ""
				 disables the check */
	int64_t now;          /* verification time; 0: time(NULL) */
};

/* The policy a stack gets when accord.conf says nothing. */
void accord_cert_policy_default(struct accord_cert_policy *pol);

/* The verdict's reasons; the audit record names them with
 * accord_cert_reason_name(). */
enum accord_cert_reason {
	ACCORD_CERT_OK = 0,
	ACCORD_CERT_MALFORMED,       /* not a certificate / not parseable */
	ACCORD_CERT_EXPIRED,         /* leaf or a chain certificate */
	ACCORD_CERT_NOT_YET_VALID,
	ACCORD_CERT_UNKNOWN_CA,      /* no path to a CA in the set */
	ACCORD_CERT_CA_NOTRUST,      /* the path runs through a NOTRUST CA */
	ACCORD_CERT_REVOKED,
	ACCORD_CERT_CRL_MISSING,     /* ACCORD_CRL_REQUIRE and none, or the CRL
					is expired or not yet valid */
	ACCORD_CERT_BAD_SIGNATURE,   /* a chain signature does not verify */
	ACCORD_CERT_KEY_USAGE,       /* no digitalSignature */
	ACCORD_CERT_EXT_KEY_USAGE,   /* none of the required EKUs */
	ACCORD_CERT_INVALID,         /* anything else OpenSSL refuses (detail) */
};
const char *accord_cert_reason_name(enum accord_cert_reason r);

struct accord_cert_verdict {
	enum accord_cert_reason reason;
	int anchor;               /* index into the cas given to
				     accord_trust_new() of the CA that
				     anchors the chain; -1 when none */
	uint32_t anchor_status;   /* its status */
	int depth;                /* certificates in the verified chain */
	char detail[256];         /* one line for the audit record and
				     `certmap test`: OpenSSL's error string and
				     the certificate at fault (depth, subject) */
};

struct accord_trust;

/*
 * Builds a trust set.  Every CA must parse and be a CA (basicConstraints
 * CA:TRUE); every CRL must parse and be signed by one of the CAs (its
 * signature verified).  NOTRUST CAs are kept so that a chain through one
 * is refused with ACCORD_CERT_CA_NOTRUST rather than "unknown CA".  Errors
 * name the CA (label) or CRL (index) at fault.
 */
int accord_trust_new(const struct accord_ca_in *cas, size_t ncas,
		     const struct accord_crl_in *crls, size_t ncrls,
		     struct accord_trust **out, struct accord_err *err);
void accord_trust_free(struct accord_trust *t);

/*
 * Verifies leaf (with optional untrusted intermediates the client sent)
 * against the trust set and policy.  Returns 0 with the verdict filled in
 * (reason OK or why not), or -ENOMEM / -EINVAL on an internal failure
 * (the caller fails closed).  Never changes leaf or the set.
 */
int accord_trust_verify(const struct accord_trust *t, X509 *leaf,
			STACK_OF(X509) *untrusted,
			const struct accord_cert_policy *pol,
			struct accord_cert_verdict *out);

/* Parses one certificate, PEM or DER (the first PEM block).  NULL with
 * err set on failure. */
X509 *accord_cert_load(const unsigned char *data, size_t len,
		       struct accord_err *err);
/* Every certificate in data (PEM blocks, or one DER): for a chain file. */
int accord_cert_load_all(const unsigned char *data, size_t len,
			 STACK_OF(X509) **out, struct accord_err *err);

/* SHA-256 of the certificate's DER. */
int accord_cert_sha256(X509 *cert, unsigned char out[32]);

#endif
