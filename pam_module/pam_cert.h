/* SPDX-License-Identifier: MIT */
/*
 * pam_accord's methods=cert, first half: obtain a certificate and proof
 * that whoever is logging on holds its private key.  The second half
 * (chain verification, mapping, account checks, audit) is pam_accord.c's.
 *
 * Sources, tried in this order among those the stack's cert_source=
 * argument allows (default: pkcs11,challenge; application only when named):
 *
 *   application  the application already verified possession (TLS client
 *                authentication) and passed the certificate with
 *                pam_putenv("ACCORD_CERT=<base64 DER or PEM>") (and
 *                optionally ACCORD_CERT_CHAIN=<PEM intermediates>);
 *   pkcs11       a local token through libp11 and the PKCS#11 module named
 *                by pkcs11_module=: PIN over the conversation, the token's
 *                certificate, and a fresh random challenge signed by the
 *                token and verified with the certificate's key;
 *   challenge    over the conversation (sshd keyboard-interactive): a nonce
 *                bound to host, service and time; the client (accord-sign)
 *                answers with its certificate and a signature.
 */
#ifndef PAM_ACCORD_CERT_H
#define PAM_ACCORD_CERT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <security/pam_modules.h>

#define PA_CERT_APPLICATION 0x1u
#define PA_CERT_PKCS11      0x2u
#define PA_CERT_CHALLENGE   0x4u

struct pa_cert_args {
	unsigned sources;          /* PA_CERT_* allowed by cert_source= */
	const char *pkcs11_module; /* pkcs11_module=PATH, NULL: none */
	const char *host;          /* this host's name (bound into challenges) */
	const char *service;       /* PAM service */
	int64_t now;
	unsigned max_age;          /* seconds a challenge stays answerable */
	bool debug;
};

struct pa_cert_result {
	X509 *cert;                /* the holder's certificate */
	STACK_OF(X509) *chain;     /* intermediates the client gave, or NULL */
	unsigned source;           /* PA_CERT_* that produced it */
	char detail[160];          /* for the audit record / debug log */
};

/*
 * Returns PAM_SUCCESS with out filled (free with pa_cert_result_clear()),
 * or a PAM error: PAM_AUTH_ERR when proof of possession failed (bad
 * signature, wrong PIN, malformed answer, stale or foreign challenge),
 * PAM_AUTHINFO_UNAVAIL when no allowed source offered a certificate,
 * PAM_CONV_ERR / PAM_SYSTEM_ERR / PAM_BUF_ERR as usual.  *why is a short
 * reason for the audit record ("bad_signature", "no_certificate",
 * "pin_refused", "stale_challenge", "malformed_answer", ...).  PINs and
 * answers are wiped after use and never logged.
 */
int pa_cert_obtain(pam_handle_t *pamh, const struct pa_cert_args *args,
		   struct pa_cert_result *out, const char **why);
void pa_cert_result_clear(struct pa_cert_result *r);

#endif
