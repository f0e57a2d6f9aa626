/* SPDX-License-Identifier: MIT */
/*
 * Proof of possession for certificate logon: the challenge protocol that
 * pam_accord (methods=cert, cert_source=challenge) and the client program
 * accord-sign share, signatures with a certificate's key, and a local
 * PKCS#11 token through libp11.  The library never logs; every function
 * returns 0 or a negative errno and fills the optional struct accord_err.
 *
 * ---- The challenge (protocol v1) ----------------------------------------
 *
 * The server makes one challenge per logon attempt:
 *
 *   accord-challenge v1 host=<H> service=<S> time=<T> nonce=<N>
 *
 *   H  the server's host name, 1..253 of [A-Za-z0-9._-]
 *   S  the PAM service, 1..64 of [A-Za-z0-9._+-]
 *   T  issue time, seconds since the epoch, decimal, no sign or leading 0
 *   N  32 random bytes (the server's CSPRNG), base64url without padding
 *      (43 characters)
 *
 * Single spaces separate the fields; nothing else may appear.  These
 * exact bytes (no newline) are what the client signs, so an answer is
 * bound to this host, this service, this moment and this attempt.
 *
 * ---- The conversation --------------------------------------------------
 *
 * Everything travels as PAM_PROMPT_ECHO_ON prompts and their answers, so
 * it works through sshd's keyboard-interactive and an SSH_ASKPASS
 * program.  OpenSSH's client reads each answer with read_passphrase()
 * into a 1024-byte buffer, so no answer is longer than
 * ACCORD_POP_ANSWER_MAX (1000) bytes; a PAM application whose
 * conversation caps answers at PAM_MAX_RESP_SIZE (512, libpam_misc's
 * misc_conv) cannot carry the protocol.  Each prompt carries the whole
 * challenge plus what it wants, so a stateless client invoked once per
 * prompt (ssh runs `$SSH_ASKPASS "<prompt>"`) can answer any of them:
 *
 *   <challenge> want=cert-1:      answer  "<n> <chunk 1>"
 *   <challenge> want=cert-<k>:    answer  "<chunk k>"          k = 2..n
 *   <challenge> want=signature:   answer  "<signature>"
 *
 * OpenSSH prefixes each prompt with "(user@host) ": a parser looks for
 * "accord-challenge v1 " anywhere in the prompt and reads strictly from
 * there; trailing blanks, CR/LF and one ':' are ignored.
 *
 * The certificate parts: the "bundle" is the DER of the holder's
 * certificate followed by the DER of any intermediate certificates
 * (at most ACCORD_POP_MAX_CERTS in all, ACCORD_POP_BUNDLE_MAX bytes in
 * all), cut into chunks of ACCORD_POP_CHUNK_DER bytes (the last one
 * shorter), each sent as standard base64 with padding (RFC 4648 §4), no
 * whitespace.  n is decimal, 1..ACCORD_POP_MAX_PARTS, no leading zero;
 * every chunk but the last must be exactly ACCORD_POP_CHUNK_DER bytes, so
 * the parts are a deterministic function of the bundle and may be asked
 * for again.  The server asks for the parts in order.
 *
 * The signature: standard base64 of the signature over the challenge
 * bytes, at most ACCORD_POP_SIG_MAX bytes before encoding:
 *   RSA (2048..4096 bits)   SHA-256, PKCS#1 v1.5
 *   EC (named curves)       SHA-256, ECDSA, DER (X9.62) encoding
 *   Ed25519, Ed448          pure EdDSA over the bytes themselves
 * Other key types (RSA-PSS-only keys, DSA, ...) are refused.  The client
 * computes it once, at the signature prompt, the only step that uses the
 * private key (and a token's PIN).
 *
 * The server then checks: the challenge is its own (it never parses a
 * challenge back from the client: a replayed answer to an earlier
 * challenge, or one signed for another host or service, does not verify),
 * its age against max_age with the caller's clock, and the signature with
 * the public key of the certificate received.  Chain verification and
 * mapping come afterwards and are not part of this file.
 *
 * ---- Local tokens (PKCS#11) ---------------------------------------------
 *
 * accord_p11_open() loads a PKCS#11 module through libp11 and picks the
 * first token (slot order) holding a certificate with a non-empty
 * CKA_ID, and on it the first such certificate; accord_p11_login() logs
 * in with the PIN and takes the private key with the same CKA_ID;
 * accord_p11_prove() has the token sign 32 fresh random bytes and checks
 * the signature with the certificate's public key.  The module must be
 * an absolute path that resolves to a regular file owned by root, not
 * writable by group or others, in directories owned by root and not
 * writable by group or others: nothing an unprivileged user controls is
 * loaded into a privileged process.
 */
#ifndef ACCORD_CERTPOP_H
#define ACCORD_CERTPOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <accord/error.h>

#define ACCORD_POP_MAGIC "accord-challenge v1"
#define ACCORD_POP_HOST_MAX 253
#define ACCORD_POP_SERVICE_MAX 64
#define ACCORD_POP_NONCE_LEN 32
#define ACCORD_POP_NONCE_B64 43   /* base64url, no padding */
/* "accord-challenge v1 host= service= time= nonce=" + fields: 427 at most */
#define ACCORD_POP_CHALLENGE_MAX 448
/* the challenge + " want=cert-NN: " (or " want=signature: "): 466 at most,
 * below PAM_MAX_MSG_SIZE (512) */
#define ACCORD_POP_PROMPT_MAX 480
#define ACCORD_POP_ANSWER_MAX 1000
#define ACCORD_POP_CHUNK_DER 600    /* 800 characters of base64 */
#define ACCORD_POP_BUNDLE_MAX 16384 /* holder's certificate + intermediates */
#define ACCORD_POP_MAX_PARTS 28     /* ceil(BUNDLE_MAX / CHUNK_DER) */
#define ACCORD_POP_MAX_CERTS 8      /* holder's certificate + 7 intermediates */
#define ACCORD_POP_SIG_MAX 512      /* RSA 4096; 684 characters of base64 */
#define ACCORD_POP_RSA_MIN_BITS 2048
#define ACCORD_POP_RSA_MAX_BITS 4096

struct accord_pop_challenge {
	char host[ACCORD_POP_HOST_MAX + 1];
	char service[ACCORD_POP_SERVICE_MAX + 1];
	int64_t time;
	char nonce[ACCORD_POP_NONCE_B64 + 1];
	char text[ACCORD_POP_CHALLENGE_MAX + 1]; /* the bytes that are signed */
	size_t len;                              /* strlen(text) */
};

enum accord_pop_want {
	ACCORD_POP_WANT_CERT = 1,      /* part = 1..n */
	ACCORD_POP_WANT_SIGNATURE = 2,
};

struct accord_pop_request {
	struct accord_pop_challenge ch;
	enum accord_pop_want want;
	unsigned part;                 /* ACCORD_POP_WANT_CERT: 1-based */
};

/* ---- both sides ---- */

/* Is the name acceptable in a challenge (charset and length above)? */
bool accord_pop_host_valid(const char *host);
bool accord_pop_service_valid(const char *service);

/* Signs msg with key as the protocol says (the digest by key type).
 * *sig_len is in: the room in sig, out: the length.  -EKEYREJECTED: a key
 * type or size the protocol does not take; -EMSGSIZE: no room; -EIO: the
 * key (or token) failed to sign. */
int accord_pop_sign(EVP_PKEY *key, const unsigned char *msg, size_t msg_len,
		    unsigned char *sig, size_t *sig_len, struct accord_err *err);
/* Checks a signature made by accord_pop_sign().  -EACCES: it does not
 * verify; -EKEYREJECTED: the key type or size is not taken. */
int accord_pop_verify(EVP_PKEY *pub, const unsigned char *msg, size_t msg_len,
		      const unsigned char *sig, size_t sig_len, struct accord_err *err);

/* ---- the server (pam_accord) ---- */

/* A fresh challenge for host and service issued at now (the caller's
 * clock).  -EINVAL: a name outside the charset or too long; -EIO: no
 * random bytes. */
int accord_pop_challenge_new(struct accord_pop_challenge *c, const char *host,
			     const char *service, int64_t now, struct accord_err *err);
/* The prompt for one step (part: 1..ACCORD_POP_MAX_PARTS for certificate
 * parts, ignored for the signature) into out (size >= ACCORD_POP_PROMPT_MAX
 * + 1). */
int accord_pop_prompt(const struct accord_pop_challenge *c, enum accord_pop_want want,
		      unsigned part, char *out, size_t size, struct accord_err *err);

/* The certificate parts as they arrive, in order.  The structure is
 * large (the bundle is held inline): allocate it, not on a small stack. */
struct accord_pop_collector {
	unsigned nparts;   /* announced with part 1; 0 before */
	unsigned next;     /* the part to ask for next, 1-based */
	size_t len;
	unsigned char der[ACCORD_POP_BUNDLE_MAX];
};

void accord_pop_collector_init(struct accord_pop_collector *col);
/* Takes the answer to the prompt for part col->next.  -EBADMSG: not in
 * the format above; -EMSGSIZE: too long, too many parts or too many
 * bytes; -EINVAL: all parts were already taken. */
int accord_pop_collector_add(struct accord_pop_collector *col, const char *answer,
			     struct accord_err *err);
bool accord_pop_collector_done(const struct accord_pop_collector *col);

/* Splits a bundle into the holder's certificate and the intermediates
 * (*chain NULL when there are none).  -EBADMSG: not a sequence of DER
 * certificates; -EMSGSIZE: too long or too many. */
int accord_pop_bundle_parse(const unsigned char *der, size_t len, X509 **cert,
			    STACK_OF(X509) **chain, struct accord_err *err);

/* Checks the answer to the signature prompt: the challenge's age (now
 * and max_age in seconds: stale when now - c->time > max_age, or when
 * c->time is after now) and the signature with cert's public key.
 * -ETIMEDOUT: stale; -EBADMSG: not base64 or too long; -EKEYREJECTED:
 * a key the protocol does not take; -EACCES: the signature does not
 * verify (a replayed, foreign or tampered answer). */
int accord_pop_check_signature(const struct accord_pop_challenge *c, X509 *cert,
			       const char *answer, int64_t now, unsigned max_age,
			       struct accord_err *err);

/* A certificate a trusted application passed (pam_accord's
 * cert_source=application): one line of base64 DER, or PEM.  At most
 * ACCORD_POP_BUNDLE_MAX bytes of DER.  -EBADMSG / -EMSGSIZE. */
int accord_pop_cert_from_text(const char *text, X509 **cert, struct accord_err *err);
/* Intermediates as concatenated PEM certificates (at most
 * ACCORD_POP_MAX_CERTS - 1, ACCORD_POP_BUNDLE_MAX * 2 bytes of text).
 * *chain is NULL for an empty text. */
int accord_pop_chain_from_pem(const char *text, STACK_OF(X509) **chain,
			      struct accord_err *err);

/* ---- the client (accord-sign) ---- */

/* Parses a prompt (see above).  -EBADMSG: no challenge, or one not in
 * the exact format; -EINVAL: a name outside the charset. */
int accord_pop_prompt_parse(const char *prompt, struct accord_pop_request *req,
			    struct accord_err *err);
/* The bundle for cert and chain (may be NULL): malloc'd DER.
 * -EMSGSIZE: too large or too many certificates. */
int accord_pop_bundle_make(X509 *cert, STACK_OF(X509) *chain, unsigned char **der,
			   size_t *len, struct accord_err *err);
/* The number of parts for a bundle of len bytes. */
unsigned accord_pop_nparts(size_t len);
/* The answer for certificate part `part` (1-based) into out (size >=
 * ACCORD_POP_ANSWER_MAX + 1).  -ERANGE: no such part. */
int accord_pop_answer_part(const unsigned char *der, size_t len, unsigned part,
			   char *out, size_t size, struct accord_err *err);
/* The answer for the signature prompt (size >= ACCORD_POP_ANSWER_MAX + 1). */
int accord_pop_answer_signature(EVP_PKEY *key, const struct accord_pop_challenge *c,
				char *out, size_t size, struct accord_err *err);

/* ---- PKCS#11 tokens (libp11) ---- */

struct accord_p11;

/* Checks the module path as above and writes its resolved form into
 * resolved (PATH_MAX).  -EINVAL: not absolute; -EPERM: not trusted;
 * -ENOENT. */
int accord_p11_module_check(const char *path, char *resolved, size_t size,
			    struct accord_err *err);
/* Loads the module and picks token and certificate (no PIN yet).
 * -ENOENT: no token holds a certificate with an ID; -ELIBBAD: the module
 * does not load. */
int accord_p11_open(const char *module, struct accord_p11 **out, struct accord_err *err);
/* The picked certificate (owned by p) and the token's label (printable
 * ASCII, for a prompt). */
X509 *accord_p11_cert(const struct accord_p11 *p);
const char *accord_p11_token_label(const struct accord_p11 *p);
/* Does the token want a PIN before it will sign? */
bool accord_p11_needs_pin(const struct accord_p11 *p);
/* Logs in (pin may be NULL when no PIN is needed) and takes the private
 * key.  -EACCES: the token refused the PIN; -ENOKEY: no private key with
 * the certificate's ID. */
int accord_p11_login(struct accord_p11 *p, const char *pin, struct accord_err *err);
/* Signs with the token's key (after login), as accord_pop_sign(). */
int accord_p11_sign(struct accord_p11 *p, const unsigned char *msg, size_t msg_len,
		    unsigned char *sig, size_t *sig_len, struct accord_err *err);
/* The answer for the signature prompt, signed by the token (after
 * login) and checked against the certificate before it is given out
 * (-EACCES: the key does not belong to the certificate). */
int accord_p11_answer_signature(struct accord_p11 *p, const struct accord_pop_challenge *c,
				char *out, size_t size, struct accord_err *err);
/* Proof of possession on the token: a fresh random 32-byte challenge
 * signed by the token and verified with the certificate's key.  -EACCES:
 * the key does not belong to the certificate. */
int accord_p11_prove(struct accord_p11 *p, struct accord_err *err);
/* Logs out and unloads; NULL is fine. */
void accord_p11_close(struct accord_p11 *p);

#endif
