/* SPDX-License-Identifier: MIT */
/*
 * The proof-of-possession protocol (common/certpop.c): round trips with
 * Ed25519, ECDSA and RSA keys through a stateless client, and every
 * refusal: replayed, foreign, stale and tampered answers, malformed and
 * oversize prompts, parts, bundles and signatures, keys the protocol does
 * not take, certificates from an application, and the PKCS#11 module
 * path check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include <accord/certpop.h>

#include "popgen.h"

#define NOW 1700000000
#define HOST "srv1.example.com"
#define SERVICE "sshd"

static struct {
	EVP_PKEY *ed, *ec, *rsa, *rsa1024, *other, *ca_key, *int_key;
	X509 *ed_cert, *ec_cert, *rsa_cert, *rsa1024_cert, *other_cert, *ca, *inter;
	X509 *big_cert; /* an RSA certificate of a few KiB, several parts */
} k;

static int setup(void **state)
{
	k.ed = pg_key(PG_ED25519);
	k.ec = pg_key(PG_EC);
	k.rsa = pg_key(PG_RSA);
	k.rsa1024 = pg_key(PG_RSA1024);
	k.other = pg_key(PG_ED25519);
	k.ca_key = pg_key(PG_EC);
	k.int_key = pg_key(PG_EC);
	k.ca = pg_cert(k.ca_key, "Test Root", NULL, NULL, true, 0);
	k.inter = pg_cert(k.int_key, "Test Intermediate", k.ca, k.ca_key, true, 0);
	k.ed_cert = pg_cert(k.ed, "alice", k.inter, k.int_key, false, 0);
	k.ec_cert = pg_cert(k.ec, "bob", k.inter, k.int_key, false, 0);
	k.rsa_cert = pg_cert(k.rsa, "carol", k.inter, k.int_key, false, 0);
	k.rsa1024_cert = pg_cert(k.rsa1024, "weak", NULL, NULL, false, 0);
	k.other_cert = pg_cert(k.other, "mallory", NULL, NULL, false, 0);
	k.big_cert = pg_cert(k.rsa, "carol", k.inter, k.int_key, false, 3000);
	return 0;
}

static int teardown(void **state)
{
	EVP_PKEY *keys[] = { k.ed, k.ec, k.rsa, k.rsa1024, k.other, k.ca_key, k.int_key };
	X509 *certs[] = { k.ed_cert, k.ec_cert, k.rsa_cert, k.rsa1024_cert,
			  k.other_cert, k.ca, k.inter, k.big_cert };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	return 0;
}

static void new_challenge(struct accord_pop_challenge *c)
{
	struct accord_err err = { 0 };

	assert_int_equal(accord_pop_challenge_new(c, HOST, SERVICE, NOW, &err), 0);
}

static STACK_OF(X509) *chain_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	if (a) {
		assert_true(X509_up_ref(a));
		assert_true(sk_X509_push(sk, a) > 0);
	}
	if (b) {
		assert_true(X509_up_ref(b));
		assert_true(sk_X509_push(sk, b) > 0);
	}
	return sk;
}

/* The client, stateless as an askpass program: every prompt is parsed
 * afresh and answered from the certificate and key alone. */
static void client_answer(const char *prompt, X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key,
			  char *out)
{
	struct accord_pop_request req;
	struct accord_err err = { 0 };
	unsigned char *der = NULL;
	size_t len = 0;

	assert_int_equal(accord_pop_prompt_parse(prompt, &req, &err), 0);
	if (req.want == ACCORD_POP_WANT_CERT) {
		assert_int_equal(accord_pop_bundle_make(cert, chain, &der, &len, &err), 0);
		assert_int_equal(accord_pop_answer_part(der, len, req.part, out,
							ACCORD_POP_ANSWER_MAX + 1, &err),
				 0);
		free(der);
	} else {
		assert_int_equal(accord_pop_answer_signature(key, &req.ch, out,
							     ACCORD_POP_ANSWER_MAX + 1, &err),
				 0);
	}
	assert_true(strlen(out) <= ACCORD_POP_ANSWER_MAX);
}

struct exchange {
	X509 *cert;
	STACK_OF(X509) *chain;
	unsigned rounds;
	char sig[ACCORD_POP_ANSWER_MAX + 1]; /* the signature answer given */
	struct accord_err err;
};

/* The server's side of one logon against client_answer(), with prompts
 * decorated as OpenSSH shows them.  Returns accord_pop_check_signature()'s
 * result; x->cert/x->chain are what the server received. */
static int exchange(const struct accord_pop_challenge *c, X509 *cert, STACK_OF(X509) *chain,
		    EVP_PKEY *key, int64_t now, struct exchange *x)
{
	struct accord_pop_collector *col = malloc(sizeof(*col));
	char prompt[ACCORD_POP_PROMPT_MAX + 1], shown[ACCORD_POP_PROMPT_MAX + ACCORD_POP_HOST_MAX + 16];
	char answer[ACCORD_POP_ANSWER_MAX + 1];
	int r;

	memset(x, 0, sizeof(*x));
	assert_non_null(col);
	accord_pop_collector_init(col);
	while (!accord_pop_collector_done(col)) {
		assert_int_equal(accord_pop_prompt(c, ACCORD_POP_WANT_CERT, col->next, prompt,
						   sizeof(prompt), &x->err),
				 0);
		assert_true(strlen(prompt) < 512); /* PAM_MAX_MSG_SIZE */
		assert_true(snprintf(shown, sizeof(shown), "(alice@%s) %s", c->host, prompt) <
			    (int)sizeof(shown));
		client_answer(shown, cert, chain, key, answer);
		assert_int_equal(accord_pop_collector_add(col, answer, &x->err), 0);
		x->rounds++;
	}
	assert_int_equal(accord_pop_bundle_parse(col->der, col->len, &x->cert, &x->chain, &x->err),
			 0);
	assert_int_equal(accord_pop_prompt(c, ACCORD_POP_WANT_SIGNATURE, 0, prompt, sizeof(prompt),
					   &x->err),
			 0);
	client_answer(prompt, cert, chain, key, x->sig);
	x->rounds++;
	r = accord_pop_check_signature(c, x->cert, x->sig, now, 60, &x->err);
	free(col);
	return r;
}

static void exchange_clear(struct exchange *x)
{
	X509_free(x->cert);
	sk_X509_pop_free(x->chain, X509_free);
	x->cert = NULL;
	x->chain = NULL;
}

/* ---- round trips ----------------------------------------------------- */

static void round_trip(EVP_PKEY *key, X509 *cert, STACK_OF(X509) *chain)
{
	struct accord_pop_challenge c;
	struct exchange x;
	unsigned char *der;
	size_t len;
	struct accord_err err = { 0 };
	int i;

	new_challenge(&c);
	assert_int_equal(exchange(&c, cert, chain, key, NOW + 5, &x), 0);
	assert_int_equal(X509_cmp(x.cert, cert), 0);
	assert_int_equal(x.chain ? sk_X509_num(x.chain) : 0, chain ? sk_X509_num(chain) : 0);
	for (i = 0; chain && i < sk_X509_num(chain); i++)
		assert_int_equal(X509_cmp(sk_X509_value(x.chain, i), sk_X509_value(chain, i)), 0);
	assert_int_equal(accord_pop_bundle_make(cert, chain, &der, &len, &err), 0);
	assert_int_equal(x.rounds, accord_pop_nparts(len) + 1);
	free(der);
	exchange_clear(&x);
}

static void test_round_trip_ed25519(void **state)
{
	round_trip(k.ed, k.ed_cert, NULL);
}

static void test_round_trip_ecdsa_chain(void **state)
{
	STACK_OF(X509) *chain = chain_of(k.inter, k.ca);

	round_trip(k.ec, k.ec_cert, chain);
	sk_X509_pop_free(chain, X509_free);
}

static void test_round_trip_rsa_many_parts(void **state)
{
	STACK_OF(X509) *chain = chain_of(k.inter, NULL);
	struct accord_err err = { 0 };
	unsigned char *der;
	size_t len;

	round_trip(k.rsa, k.rsa_cert, NULL);
	assert_int_equal(accord_pop_bundle_make(k.big_cert, chain, &der, &len, &err), 0);
	assert_true(accord_pop_nparts(len) >= 5);
	free(der);
	round_trip(k.rsa, k.big_cert, chain);
	sk_X509_pop_free(chain, X509_free);
}

/* The largest bundle: eight certificates, just under 16 KiB. */
static void test_round_trip_max_bundle(void **state)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct accord_err err = { 0 };
	unsigned char *der;
	size_t len;
	int i;

	for (i = 0; i < ACCORD_POP_MAX_CERTS - 1; i++)
		assert_true(sk_X509_push(chain, pg_cert(k.int_key, "filler", k.ca, k.ca_key, true,
							1860)) > 0);
	assert_int_equal(accord_pop_bundle_make(k.ed_cert, chain, &der, &len, &err), 0);
	if (len <= ACCORD_POP_BUNDLE_MAX - 1000 || len > ACCORD_POP_BUNDLE_MAX)
		fail_msg("a bundle of %zu bytes", len);
	free(der);
	round_trip(k.ed, k.ed_cert, chain);
	sk_X509_pop_free(chain, X509_free);
}

/* Parts are a function of the bundle: asked again, answered the same. */
static void test_parts_deterministic(void **state)
{
	struct accord_err err = { 0 };
	char a[ACCORD_POP_ANSWER_MAX + 1], b[ACCORD_POP_ANSWER_MAX + 1];
	unsigned char *der;
	size_t len;
	unsigned n, p;

	assert_int_equal(accord_pop_bundle_make(k.big_cert, NULL, &der, &len, &err), 0);
	n = accord_pop_nparts(len);
	for (p = 1; p <= n; p++) {
		assert_int_equal(accord_pop_answer_part(der, len, p, a, sizeof(a), &err), 0);
		assert_int_equal(accord_pop_answer_part(der, len, p, b, sizeof(b), &err), 0);
		assert_string_equal(a, b);
		if (p == 1)
			assert_int_equal(atoi(a), (int)n);
	}
	assert_int_equal(accord_pop_answer_part(der, len, 0, a, sizeof(a), &err), -ERANGE);
	assert_int_equal(accord_pop_answer_part(der, len, n + 1, a, sizeof(a), &err), -ERANGE);
	assert_int_equal(accord_pop_answer_part(der, len, 1, a, 100, &err), -EMSGSIZE);
	free(der);
}

/* ---- refusals of the answer ------------------------------------------- */

/* The answer to an earlier challenge does not verify for a new one. */
static void test_replayed_answer_refused(void **state)
{
	struct accord_pop_challenge c1, c2;
	struct accord_err err = { 0 };
	struct exchange x;

	new_challenge(&c1);
	new_challenge(&c2);
	assert_string_not_equal(c1.nonce, c2.nonce);
	assert_int_equal(exchange(&c1, k.ed_cert, NULL, k.ed, NOW, &x), 0);
	assert_int_equal(accord_pop_check_signature(&c2, x.cert, x.sig, NOW, 60, &err), -EACCES);
	/* and the very same challenge, same second: still fine */
	assert_int_equal(accord_pop_check_signature(&c1, x.cert, x.sig, NOW, 60, &err), 0);
	exchange_clear(&x);
}

/* The certificate of one key with the signature of another. */
static void test_foreign_key_refused(void **state)
{
	struct accord_pop_challenge c;
	struct accord_err err = { 0 };
	char sig[ACCORD_POP_ANSWER_MAX + 1];

	new_challenge(&c);
	assert_int_equal(accord_pop_answer_signature(k.other, &c, sig, sizeof(sig), &err), 0);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW, 60, &err), -EACCES);
	assert_int_equal(accord_pop_check_signature(&c, k.other_cert, sig, NOW, 60, &err), 0);
	/* an RSA signature against an EC certificate, and the reverse */
	assert_int_equal(accord_pop_answer_signature(k.rsa, &c, sig, sizeof(sig), &err), 0);
	assert_int_equal(accord_pop_check_signature(&c, k.ec_cert, sig, NOW, 60, &err), -EACCES);
	assert_int_equal(accord_pop_answer_signature(k.ec, &c, sig, sizeof(sig), &err), 0);
	assert_int_equal(accord_pop_check_signature(&c, k.rsa_cert, sig, NOW, 60, &err), -EACCES);
	/* a foreign key in the full exchange */
	{
		struct exchange x;

		assert_int_equal(exchange(&c, k.ed_cert, NULL, k.other, NOW, &x), -EACCES);
		assert_non_null(strstr(x.err.msg, "does not verify"));
		exchange_clear(&x);
	}
}

static void test_stale_challenge_refused(void **state)
{
	struct accord_pop_challenge c;
	struct accord_err err = { 0 };
	char sig[ACCORD_POP_ANSWER_MAX + 1];

	new_challenge(&c);
	assert_int_equal(accord_pop_answer_signature(k.ed, &c, sig, sizeof(sig), &err), 0);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW + 60, 60, &err), 0);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW + 61, 60, &err),
			 -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "61 s old"));
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW - 1, 60, &err),
			 -ETIMEDOUT);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW + 1, 0, &err),
			 -ETIMEDOUT);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, INT64_MAX, 60, &err),
			 -ETIMEDOUT);
}

/* A client that signs a prompt whose host, service, time or nonce was
 * changed on the way gives an answer the server refuses. */
static void test_tampered_challenge_refused(void **state)
{
	static const char *const from[] = { "host=" HOST, "service=" SERVICE, "time=1700000000" };
	static const char *const to[] = { "host=evil.example.com", "service=login",
					  "time=1700000001" };
	struct accord_pop_challenge c;
	struct accord_err err = { 0 };
	char prompt[ACCORD_POP_PROMPT_MAX + 1], bad[ACCORD_POP_PROMPT_MAX + 64];
	char sig[ACCORD_POP_ANSWER_MAX + 1];
	size_t i;

	new_challenge(&c);
	assert_int_equal(accord_pop_prompt(&c, ACCORD_POP_WANT_SIGNATURE, 0, prompt, sizeof(prompt),
					   &err),
			 0);
	for (i = 0; i < 4; i++) {
		char *at;

		if (i < 3) {
			at = strstr(prompt, from[i]);
			assert_non_null(at);
			snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(at - prompt), prompt, to[i],
				 at + strlen(from[i]));
		} else {
			/* one nonce character changed (still canonical base64url) */
			strcpy(bad, prompt);
			at = strstr(bad, "nonce=") + 6;
			at[0] = at[0] == 'A' ? 'B' : 'A';
		}
		client_answer(bad, k.ed_cert, NULL, k.ed, sig);
		assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW, 60, &err),
				 -EACCES);
	}
	/* untouched: accepted */
	client_answer(prompt, k.ed_cert, NULL, k.ed, sig);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, sig, NOW, 60, &err), 0);
}

static void test_bad_signature_answers(void **state)
{
	struct accord_pop_challenge c;
	struct accord_err err = { 0 };
	char sig[ACCORD_POP_ANSWER_MAX + 1], big[ACCORD_POP_ANSWER_MAX + 8];
	size_t n;

	new_challenge(&c);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, "", NOW, 60, &err), -EBADMSG);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, "not base64!", NOW, 60, &err),
			 -EBADMSG);
	assert_int_equal(accord_pop_answer_signature(k.ed, &c, sig, sizeof(sig), &err), 0);
	n = strlen(sig);
	/* whitespace, a missing padding character, a flipped bit */
	snprintf(big, sizeof(big), " %s", sig);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, big, NOW, 60, &err), -EBADMSG);
	snprintf(big, sizeof(big), "%.*s", (int)n - 1, sig);
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, big, NOW, 60, &err), -EBADMSG);
	strcpy(big, sig);
	big[0] = big[0] == 'A' ? 'B' : 'A';
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, big, NOW, 60, &err), -EACCES);
	/* 513 bytes of signature, and an answer over 1000 bytes */
	memset(big, 'A', 688);
	big[688] = '\0';
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, big, NOW, 60, &err), -EBADMSG);
	memset(big, 'A', ACCORD_POP_ANSWER_MAX + 4);
	big[ACCORD_POP_ANSWER_MAX + 4] = '\0';
	assert_int_equal(accord_pop_check_signature(&c, k.ed_cert, big, NOW, 60, &err), -EBADMSG);
}

/* Keys the protocol does not take, on either side. */
static void test_unsupported_keys(void **state)
{
	struct accord_pop_challenge c;
	struct accord_err err = { 0 };
	char sig[ACCORD_POP_ANSWER_MAX + 1];
	unsigned char raw[ACCORD_POP_SIG_MAX];
	size_t rl = sizeof(raw);
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *mctx;

	new_challenge(&c);
	assert_int_equal(accord_pop_answer_signature(k.rsa1024, &c, sig, sizeof(sig), &err),
			 -EKEYREJECTED);
	assert_non_null(strstr(err.msg, "1024 bits"));
	/* a real RSA-1024 signature is refused by the verifier, too */
	mctx = EVP_MD_CTX_new();
	assert_non_null(mctx);
	assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, k.rsa1024), 1);
	assert_int_equal(EVP_DigestSign(mctx, raw, &rl, (const unsigned char *)c.text, c.len), 1);
	EVP_MD_CTX_free(mctx);
	assert_int_equal(accord_pop_verify(X509_get0_pubkey(k.rsa1024_cert),
					   (const unsigned char *)c.text, c.len, raw, rl, &err),
			 -EKEYREJECTED);
	/* no room */
	rl = 10;
	assert_int_equal(accord_pop_sign(k.rsa, (const unsigned char *)"x", 1, raw, &rl, &err),
			 -EMSGSIZE);
}

/* ---- the challenge and the prompts ------------------------------------ */

static void test_challenge_format(void **state)
{
	struct accord_pop_challenge c, c2;
	struct accord_pop_request req;
	struct accord_err err = { 0 };
	char prompt[ACCORD_POP_PROMPT_MAX + 1], host[ACCORD_POP_HOST_MAX + 2];
	char service[ACCORD_POP_SERVICE_MAX + 2];

	new_challenge(&c);
	assert_int_equal(strncmp(c.text, "accord-challenge v1 host=" HOST " service=" SERVICE
					 " time=1700000000 nonce=",
				 strlen("accord-challenge v1 host=" HOST " service=" SERVICE
					" time=1700000000 nonce=")),
			 0);
	assert_int_equal(strlen(c.nonce), ACCORD_POP_NONCE_B64);
	assert_int_equal(strcspn(c.nonce, "+/="), ACCORD_POP_NONCE_B64);
	assert_int_equal(c.len, strlen(c.text));
	assert_null(strchr(c.text, '\n'));
	new_challenge(&c2);
	assert_string_not_equal(c.nonce, c2.nonce);

	assert_int_equal(accord_pop_prompt(&c, ACCORD_POP_WANT_CERT, 3, prompt, sizeof(prompt), &err),
			 0);
	assert_int_equal(accord_pop_prompt_parse(prompt, &req, &err), 0);
	assert_int_equal(req.want, ACCORD_POP_WANT_CERT);
	assert_int_equal(req.part, 3);
	assert_string_equal(req.ch.text, c.text);
	assert_string_equal(req.ch.host, HOST);
	assert_string_equal(req.ch.service, SERVICE);
	assert_int_equal(req.ch.time, NOW);
	assert_int_equal(accord_pop_prompt(&c, ACCORD_POP_WANT_CERT, 0, prompt, sizeof(prompt), &err),
			 -ERANGE);
	assert_int_equal(accord_pop_prompt(&c, ACCORD_POP_WANT_CERT, ACCORD_POP_MAX_PARTS + 1,
					   prompt, sizeof(prompt), &err),
			 -ERANGE);

	/* the longest names: the prompt still fits PAM_MAX_MSG_SIZE */
	memset(host, 'h', ACCORD_POP_HOST_MAX);
	host[ACCORD_POP_HOST_MAX] = '\0';
	memset(service, 's', ACCORD_POP_SERVICE_MAX);
	service[ACCORD_POP_SERVICE_MAX] = '\0';
	assert_int_equal(accord_pop_challenge_new(&c, host, service, INT64_MAX, &err), 0);
	assert_int_equal(accord_pop_prompt(&c, ACCORD_POP_WANT_SIGNATURE, 0, prompt, sizeof(prompt),
					   &err),
			 0);
	assert_true(strlen(prompt) < 512);
	assert_int_equal(accord_pop_prompt_parse(prompt, &req, &err), 0);
	assert_string_equal(req.ch.text, c.text);

	/* names outside the charset or too long; a clock at 0 */
	host[ACCORD_POP_HOST_MAX] = 'h';
	host[ACCORD_POP_HOST_MAX + 1] = '\0';
	assert_int_equal(accord_pop_challenge_new(&c, host, SERVICE, NOW, &err), -EINVAL);
	service[ACCORD_POP_SERVICE_MAX] = 's';
	service[ACCORD_POP_SERVICE_MAX + 1] = '\0';
	assert_int_equal(accord_pop_challenge_new(&c, HOST, service, NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, "a host", SERVICE, NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, "h=x", SERVICE, NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, "", SERVICE, NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, NULL, SERVICE, NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, HOST, "ss/hd", NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, HOST, "ssh\nd", NOW, &err), -EINVAL);
	assert_int_equal(accord_pop_challenge_new(&c, HOST, SERVICE, 0, &err), -EINVAL);
}

static void test_prompt_parse(void **state)
{
#define N43 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define HEAD "accord-challenge v1 host=h.example service=sshd time=1700000000 nonce="
	static const struct {
		const char *prompt;
		int want; /* 0: rejected, 1: cert, 2: signature */
		unsigned part;
	} cases[] = {
		{ HEAD N43 " want=cert-1: ", 1, 1 },
		{ HEAD N43 " want=cert-28", 1, 28 },
		{ HEAD N43 " want=signature:", 2, 0 },
		{ HEAD N43 " want=signature: \r\n", 2, 0 },
		{ "(alice@h.example) " HEAD N43 " want=signature: ", 2, 0 },
		{ "Accord-challenge v1 host=h service=s time=1 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v2 host=h service=s time=1 nonce=" N43 " want=signature", 0, 0 },
		{ "Password: ", 0, 0 },
		{ "", 0, 0 },
		{ HEAD N43, 0, 0 },
		{ HEAD N43 " want=", 0, 0 },
		{ HEAD N43 " want=cert-0", 0, 0 },
		{ HEAD N43 " want=cert-01", 0, 0 },
		{ HEAD N43 " want=cert-29", 0, 0 },
		{ HEAD N43 " want=cert-100", 0, 0 },
		{ HEAD N43 " want=cert-", 0, 0 },
		{ HEAD N43 " want=cert-1x", 0, 0 },
		{ HEAD N43 " want=sig", 0, 0 },
		{ HEAD N43 " want=signature extra", 0, 0 },
		{ HEAD N43 "  want=signature", 0, 0 },
		{ HEAD N43 " want=signature::", 0, 0 },
		{ HEAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA want=signature", 0, 0 },
		{ HEAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA want=signature", 0, 0 },
		/* the last character carries 4 unused bits: must be zero */
		{ HEAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB want=signature", 0, 0 },
		{ HEAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= want=signature", 0, 0 },
		{ HEAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+ want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s time=01 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s time=0 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s time=-5 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s time=9223372036854775808 nonce=" N43
		  " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s time=9223372036854775807 nonce=" N43
		  " want=signature", 2, 0 },
		{ "accord-challenge v1 host= service=s time=1 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h/x service=s time=1 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s=t time=1 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 service=s host=h time=1 nonce=" N43 " want=signature", 0, 0 },
		{ "accord-challenge v1 host=h service=s time=1 nonce=" N43 " want=signature\x01", 0, 0 },
		{ "accord-challenge v1 host=h\tx service=s time=1 nonce=" N43 " want=signature", 0, 0 },
	};
	struct accord_pop_request req;
	struct accord_err err = { 0 };
	char huge[2048];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = accord_pop_prompt_parse(cases[i].prompt, &req, &err);

		if (cases[i].want == 0) {
			if (r == 0)
				fail_msg("case %zu accepted: %s", i, cases[i].prompt);
			assert_true(r == -EBADMSG || r == -EINVAL);
			continue;
		}
		if (r != 0)
			fail_msg("case %zu refused: %s: %s", i, cases[i].prompt, err.msg);
		assert_int_equal(req.want, cases[i].want);
		assert_int_equal(req.part, cases[i].part);
		assert_null(strstr(req.ch.text, "want"));
	}
	/* a host of 254 characters, and a prompt far too long */
	snprintf(huge, sizeof(huge), "accord-challenge v1 host=%0254d service=s time=1 nonce=" N43
				     " want=signature", 0);
	assert_int_equal(accord_pop_prompt_parse(huge, &req, &err), -EBADMSG);
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, HEAD N43 " want=signature ", strlen(HEAD N43 " want=signature "));
	assert_int_equal(accord_pop_prompt_parse(huge, &req, &err), -EBADMSG);
#undef HEAD
#undef N43
}

/* ---- certificate parts ------------------------------------------------ */

static void test_collector_refusals(void **state)
{
	struct accord_pop_collector *col = malloc(sizeof(*col));
	struct accord_err err = { 0 };
	char good1[ACCORD_POP_ANSWER_MAX + 1], good2[ACCORD_POP_ANSWER_MAX + 1];
	char buf[ACCORD_POP_ANSWER_MAX + 64];
	unsigned char *der;
	size_t len;
	X509 *two_part;
	static const struct {
		const char *answer;
		int r;
	} first[] = {
		{ "", -EBADMSG },
		{ "1", -EBADMSG },
		{ "1 ", -EBADMSG },
		{ " 1 QQ==", -EBADMSG },
		{ "0 QQ==", -EBADMSG },
		{ "01 QQ==", -EBADMSG },
		{ "x QQ==", -EBADMSG },
		{ "29 QQ==", -EMSGSIZE },
		{ "999999999999 QQ==", -EMSGSIZE },
		{ "1 QQ", -EBADMSG },       /* padding missing */
		{ "1 QR==", -EBADMSG },     /* unused bits set */
		{ "1 QQ==\n", -EBADMSG },
		{ "1  QQ==", -EBADMSG },
		{ "1 QQ==QQ==", -EBADMSG }, /* padding inside */
		{ "1 Q-_A", -EBADMSG },     /* base64url is not taken here */
		{ "2 QQ==", -EBADMSG },     /* part 1 of 2 must be a full chunk */
		{ "1 QQ==", 0 },            /* 1 byte, fine as parts go */
	};
	size_t i;

	assert_non_null(col);
	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		accord_pop_collector_init(col);
		if (accord_pop_collector_add(col, first[i].answer, &err) != first[i].r)
			fail_msg("answer \"%s\": expected %d (%s)", first[i].answer, first[i].r,
				 err.msg);
		if (first[i].r) {
			/* after a bad part, nothing more is taken */
			assert_true(accord_pop_collector_done(col));
			assert_int_equal(accord_pop_collector_add(col, "QQ==", &err), -EINVAL);
		}
	}
	/* ... and "QQ==" is one byte, not a certificate */
	{
		X509 *x;
		STACK_OF(X509) *sk;

		assert_int_equal(accord_pop_bundle_parse(col->der, col->len, &x, &sk, &err),
				 -EBADMSG);
	}

	/* a two-part certificate: a short middle, a long last, an extra part */
	two_part = pg_cert(k.ed, "two parts", NULL, NULL, false, 400);
	assert_int_equal(accord_pop_bundle_make(two_part, NULL, &der, &len, &err), 0);
	X509_free(two_part);
	assert_int_equal(accord_pop_nparts(len), 2);
	assert_int_equal(accord_pop_answer_part(der, len, 1, good1, sizeof(good1), &err), 0);
	assert_int_equal(accord_pop_answer_part(der, len, 2, good2, sizeof(good2), &err), 0);
	accord_pop_collector_init(col);
	assert_int_equal(accord_pop_collector_add(col, good1, &err), 0);
	assert_false(accord_pop_collector_done(col));
	memset(buf, 'A', 804);
	buf[804] = '\0';
	assert_int_equal(accord_pop_collector_add(col, buf, &err), -EMSGSIZE);
	accord_pop_collector_init(col);
	assert_int_equal(accord_pop_collector_add(col, good1, &err), 0);
	assert_int_equal(accord_pop_collector_add(col, good2, &err), 0);
	assert_true(accord_pop_collector_done(col));
	assert_int_equal(accord_pop_collector_add(col, good2, &err), -EINVAL);
	assert_int_equal(col->len, len);
	assert_memory_equal(col->der, der, len);
	/* the first answer sent again as the second */
	accord_pop_collector_init(col);
	assert_int_equal(accord_pop_collector_add(col, good1, &err), 0);
	assert_int_equal(accord_pop_collector_add(col, good1, &err), -EBADMSG);
	/* an answer over 1000 bytes */
	accord_pop_collector_init(col);
	memset(buf, 'A', ACCORD_POP_ANSWER_MAX + 1);
	memcpy(buf, "1 ", 2);
	buf[ACCORD_POP_ANSWER_MAX + 1] = '\0';
	assert_int_equal(accord_pop_collector_add(col, buf, &err), -EMSGSIZE);
	free(der);

	/* 28 full parts announced: more than 16 KiB arrives at the last */
	accord_pop_collector_init(col);
	memset(buf, 'A', 800);
	buf[800] = '\0';
	assert_true(snprintf(good1, sizeof(good1), "28 %s", buf) < (int)sizeof(good1));
	assert_int_equal(accord_pop_collector_add(col, good1, &err), 0);
	for (i = 2; i < 28; i++)
		assert_int_equal(accord_pop_collector_add(col, buf, &err), 0);
	assert_int_equal(accord_pop_collector_add(col, buf, &err), -EMSGSIZE);
	free(col);
}

static void test_bundle_limits(void **state)
{
	STACK_OF(X509) *chain = sk_X509_new_null(), *got_chain;
	struct accord_err err = { 0 };
	unsigned char *der, *two;
	size_t len, l1;
	X509 *got;
	int i;

	/* nine certificates: too many, both ways */
	for (i = 0; i < ACCORD_POP_MAX_CERTS; i++) {
		assert_true(X509_up_ref(k.inter));
		assert_true(sk_X509_push(chain, k.inter) > 0);
	}
	assert_int_equal(accord_pop_bundle_make(k.ed_cert, chain, &der, &len, &err), -EMSGSIZE);
	X509_free(sk_X509_pop(chain));
	assert_int_equal(accord_pop_bundle_make(k.ed_cert, chain, &der, &len, &err), 0);
	two = malloc(len + 1000);
	assert_non_null(two);
	memcpy(two, der, len);
	l1 = (size_t)i2d_X509(k.inter, NULL);
	memcpy(two + len, der + len - l1, l1); /* one more intermediate */
	assert_int_equal(accord_pop_bundle_parse(two, len + l1, &got, &got_chain, &err), -EMSGSIZE);
	assert_null(got);
	assert_int_equal(accord_pop_bundle_parse(der, len, &got, &got_chain, &err), 0);
	assert_int_equal(sk_X509_num(got_chain), ACCORD_POP_MAX_CERTS - 1);
	X509_free(got);
	sk_X509_pop_free(got_chain, X509_free);
	/* trailing bytes, a truncated certificate, an empty bundle, 16 KiB + 1 */
	{
		unsigned char one[4096], *p = one;
		int l = i2d_X509(k.ed_cert, &p);

		assert_true(l > 0 && (size_t)l < sizeof(one));
		assert_int_equal(accord_pop_bundle_parse(one, (size_t)l, &got, &got_chain, &err), 0);
		assert_null(got_chain);
		X509_free(got);
		one[l] = 0x30;
		assert_int_equal(accord_pop_bundle_parse(one, (size_t)l + 1, &got, &got_chain, &err),
				 -EBADMSG);
		one[l + 1] = 0x00;
		assert_int_equal(accord_pop_bundle_parse(one, (size_t)l + 2, &got, &got_chain, &err),
				 -EBADMSG);
	}
	assert_int_equal(accord_pop_bundle_parse(der, len - 1, &got, &got_chain, &err), -EBADMSG);
	assert_int_equal(accord_pop_bundle_parse(der, 0, &got, &got_chain, &err), -EBADMSG);
	assert_int_equal(accord_pop_bundle_parse(der, ACCORD_POP_BUNDLE_MAX + 1, &got, &got_chain,
						 &err),
			 -EMSGSIZE);
	assert_int_equal(accord_pop_answer_part(der, ACCORD_POP_BUNDLE_MAX + 1, 1, (char *)two,
						1001, &err),
			 -EMSGSIZE);
	free(two);
	free(der);
	sk_X509_pop_free(chain, X509_free);

	/* a certificate larger than the whole bundle may be */
	{
		X509 *huge = pg_cert(k.ed, "huge", NULL, NULL, false, 17000);

		assert_int_equal(accord_pop_bundle_make(huge, NULL, &der, &len, &err), -EMSGSIZE);
		X509_free(huge);
	}
}

/* ---- certificates from an application ---------------------------------- */

static void test_cert_from_text(void **state)
{
	struct accord_err err = { 0 };
	STACK_OF(X509) *chain;
	char *b64 = pg_cert_b64(k.ed_cert), *pem = pg_cert_pem(k.ed_cert);
	char *pem2 = pg_cert_pem(k.inter), *pem3 = pg_cert_pem(k.ca);
	char buf[8192], *huge;
	X509 *x;
	int i;

	assert_int_equal(accord_pop_cert_from_text(b64, &x, &err), 0);
	assert_int_equal(X509_cmp(x, k.ed_cert), 0);
	X509_free(x);
	snprintf(buf, sizeof(buf), "%s\n", b64);
	assert_int_equal(accord_pop_cert_from_text(buf, &x, &err), 0);
	X509_free(x);
	assert_int_equal(accord_pop_cert_from_text(pem, &x, &err), 0);
	assert_int_equal(X509_cmp(x, k.ed_cert), 0);
	X509_free(x);

	assert_int_equal(accord_pop_cert_from_text("", &x, &err), -EBADMSG);
	assert_int_equal(accord_pop_cert_from_text("hello", &x, &err), -EBADMSG);
	assert_int_equal(accord_pop_cert_from_text("-----BEGIN CERTIFICATE-----\nAAAA\n", &x, &err),
			 -EBADMSG);
	snprintf(buf, sizeof(buf), "%.20s %s", b64, b64 + 20); /* a space inside */
	assert_int_equal(accord_pop_cert_from_text(buf, &x, &err), -EBADMSG);
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(b64) - 8, b64); /* truncated */
	assert_int_equal(accord_pop_cert_from_text(buf, &x, &err), -EBADMSG);
	assert_null(x);
	{
		/* two certificates in one base64 text */
		unsigned char *der = NULL, *p;
		int l1 = i2d_X509(k.ed_cert, NULL), l2 = i2d_X509(k.inter, NULL);

		der = malloc((size_t)(l1 + l2));
		p = der;
		i2d_X509(k.ed_cert, &p);
		i2d_X509(k.inter, &p);
		assert_true(EVP_EncodeBlock((unsigned char *)buf, der, l1 + l2) > 0);
		assert_int_equal(accord_pop_cert_from_text(buf, &x, &err), -EBADMSG);
		free(der);
	}
	huge = malloc(64 * 1024 + 1);
	memset(huge, 'A', 64 * 1024);
	huge[64 * 1024] = '\0';
	assert_int_equal(accord_pop_cert_from_text(huge, &x, &err), -EMSGSIZE);
	huge[ACCORD_POP_BUNDLE_MAX / 3 * 4 + 8] = '\0';
	assert_int_equal(accord_pop_cert_from_text(huge, &x, &err), -EMSGSIZE);

	/* chains */
	snprintf(buf, sizeof(buf), "%s%s", pem2, pem3);
	assert_int_equal(accord_pop_chain_from_pem(buf, &chain, &err), 0);
	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), k.inter), 0);
	sk_X509_pop_free(chain, X509_free);
	assert_int_equal(accord_pop_chain_from_pem("", &chain, &err), 0);
	assert_null(chain);
	assert_int_equal(accord_pop_chain_from_pem("\n", &chain, &err), 0);
	assert_null(chain);
	assert_int_equal(accord_pop_chain_from_pem("garbage", &chain, &err), -EBADMSG);
	snprintf(buf, sizeof(buf), "%sgarbage", pem2);
	assert_int_equal(accord_pop_chain_from_pem(buf, &chain, &err), 0);
	sk_X509_pop_free(chain, X509_free);
	snprintf(buf, sizeof(buf), "%s-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		 pem2);
	assert_int_equal(accord_pop_chain_from_pem(buf, &chain, &err), -EBADMSG);
	buf[0] = '\0';
	for (i = 0; i < ACCORD_POP_MAX_CERTS; i++)
		strcat(buf, pem2);
	assert_int_equal(accord_pop_chain_from_pem(buf, &chain, &err), -EMSGSIZE);
	memset(huge, 'A', 64 * 1024);
	assert_int_equal(accord_pop_chain_from_pem(huge, &chain, &err), -EMSGSIZE);
	free(huge);
	free(b64);
	free(pem);
	free(pem2);
	free(pem3);
}

/* ---- the PKCS#11 module path ------------------------------------------ */

static void test_p11_module_check(void **state)
{
	struct accord_err err = { 0 };
	char resolved[PATH_MAX], dir[] = "/tmp/accord-pop-XXXXXX", path[PATH_MAX];
	struct accord_p11 *p = NULL;
	FILE *f;

	assert_int_equal(accord_p11_module_check("libsofthsm2.so", resolved, sizeof(resolved), &err),
			 -EINVAL);
	assert_int_equal(accord_p11_module_check("", resolved, sizeof(resolved), &err), -EINVAL);
	assert_int_equal(accord_p11_module_check(NULL, resolved, sizeof(resolved), &err), -EINVAL);
	assert_int_equal(accord_p11_module_check("/nonexistent/p11.so", resolved, sizeof(resolved),
						 &err),
			 -ENOENT);
	assert_int_equal(accord_p11_open("relative.so", &p, &err), -EINVAL);
	assert_null(p);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p11.so", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fclose(f);
	/* writable by others: the file is named */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(accord_p11_module_check(path, resolved, sizeof(resolved), &err), -EPERM);
	assert_non_null(strstr(err.msg, "p11.so"));
	/* a good file (if we are root) under /tmp, which others may write */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(accord_p11_module_check(path, resolved, sizeof(resolved), &err), -EPERM);
	if (geteuid() == 0)
		assert_non_null(strstr(err.msg, "/tmp is writable"));
	else
		assert_non_null(strstr(err.msg, "not root"));
	assert_int_equal(accord_p11_open(path, &p, &err), -EPERM);
	/* a directory is not a module */
	assert_int_equal(accord_p11_module_check("/usr/lib", resolved, sizeof(resolved), &err),
			 -EPERM);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);

	/* the system's module, through its symbolic link */
	if (access("/usr/lib/softhsm/libsofthsm2.so", F_OK) == 0) {
		assert_int_equal(accord_p11_module_check("/usr/lib/softhsm/libsofthsm2.so", resolved,
							 sizeof(resolved), &err),
				 0);
		assert_true(resolved[0] == '/');
		assert_null(strstr(resolved, "/usr/lib/softhsm/"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_ed25519),
		cmocka_unit_test(test_round_trip_ecdsa_chain),
		cmocka_unit_test(test_round_trip_rsa_many_parts),
		cmocka_unit_test(test_round_trip_max_bundle),
		cmocka_unit_test(test_parts_deterministic),
		cmocka_unit_test(test_replayed_answer_refused),
		cmocka_unit_test(test_foreign_key_refused),
		cmocka_unit_test(test_stale_challenge_refused),
		cmocka_unit_test(test_tampered_challenge_refused),
		cmocka_unit_test(test_bad_signature_answers),
		cmocka_unit_test(test_unsupported_keys),
		cmocka_unit_test(test_challenge_format),
		cmocka_unit_test(test_prompt_parse),
		cmocka_unit_test(test_collector_refusals),
		cmocka_unit_test(test_bundle_limits),
		cmocka_unit_test(test_cert_from_text),
		cmocka_unit_test(test_p11_module_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
