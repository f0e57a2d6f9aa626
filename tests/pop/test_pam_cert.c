/* SPDX-License-Identifier: MIT */
/*
 * pa_cert_obtain() (pam_module/pam_cert.c) through real libpam: a handle
 * from pam_start_confdir() (a service directory of the test's own, no
 * preload), the module's code called directly with that handle, and a
 * conversation that plays the client:
 *
 *   challenge    every prompt goes to the real accord-sign binary
 *                ($ACCORD_SIGN), as ssh's SSH_ASKPASS would run it (the
 *                prompt as the argument, "(user@host) " in front,
 *                settings in the environment) or with the prompt on
 *                stdin; answers recorded and replayed, signed by a
 *                foreign key, signed for a tampered challenge, too late
 *   application  ACCORD_CERT / ACCORD_CERT_CHAIN through pam_putenv(),
 *                taken only when the sources name it
 *   pkcs11       SoftHSM2 tokens made by the test in its directory
 *                (softhsm2-util, pkcs11-tool): right and wrong PIN, an
 *                empty token, a key that is not the certificate's, an
 *                untrusted module path, and accord-sign --pkcs11
 *
 * Without softhsm2-util the pkcs11 group is not run and, if the others
 * pass, the program exits 77 (skipped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <accord/certpop.h>

#include "pam_cert.h"
#include "popgen.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TEST_HOST "testhost.example"
#define TEST_SERVICE "accord-pop"
#define MAX_ROUNDS 40

static struct {
	char dir[64];
	char confdir[PATH_MAX];
	const char *sign;     /* the accord-sign binary */
	EVP_PKEY *ed, *rsa, *ec, *other, *int_key, *ca_key;
	X509 *ed_cert, *rsa_cert, *ec_cert, *other_cert, *inter, *ca;
	char ed_crt[PATH_MAX], ed_key[PATH_MAX], rsa_crt[PATH_MAX], rsa_key[PATH_MAX];
	char other_crt[PATH_MAX], other_key[PATH_MAX], chain[PATH_MAX], open_key[PATH_MAX];
	char tok_rsa[PATH_MAX], tok_ec[PATH_MAX], tok_empty[PATH_MAX], tok_mismatch[PATH_MAX];
	char bad_module[PATH_MAX];
} g;

static void path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", g.dir, name);
}

/* ---- running programs ------------------------------------------------- */

/* Runs argv with stdin from `in` (NULL: /dev/null), stdout into out
 * (size, NUL-terminated, at most size - 1 bytes kept, as ssh keeps
 * 1023), stderr into err.  extra_env: "NAME=value" strings for the
 * child.  Returns the exit status, or -1 when it did not exit. */
static int run(const char *const *argv, const char *const *extra_env, const char *in,
	       char *out, size_t size, char *err, size_t err_size)
{
	int po[2], pe[2], pi[2], status;
	size_t n = 0, en = 0;
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pi, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		for (; extra_env && *extra_env; extra_env++)
			putenv((char *)(uintptr_t)*extra_env);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	close(pi[0]);
	if (in)
		assert_true(write(pi[1], in, strlen(in)) == (ssize_t)strlen(in));
	close(pi[1]);
	while ((got = read(po[0], out + n, size - 1 - n)) > 0) {
		n += (size_t)got;
		if (n == size - 1) {
			char sink[4096];

			while (read(po[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[n] = '\0';
	while (err && (got = read(pe[0], err + en, err_size - 1 - en)) > 0)
		en += (size_t)got;
	if (err)
		err[en] = '\0';
	close(po[0]);
	close(pe[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void must_run(const char *const *argv)
{
	char out[4096], err[4096];
	int st = run(argv, NULL, NULL, out, sizeof(out), err, sizeof(err));

	if (st != 0)
		fail_msg("%s %s failed (%d): %s%s", argv[0], argv[1], st, out, err);
}

/* ---- the conversation -------------------------------------------------- */

struct conv {
	/* challenge prompts: accord-sign with these options (NULL: options
	 * through the environment, askpass style) */
	const char *const *args;
	const char *const *env;
	const char *const *sig_args;  /* for the signature prompt only */
	bool use_stdin;
	bool ssh_prefix;              /* "(alice@testhost.example) " */
	const char *rewrite_from, *rewrite_to; /* tamper with what the client sees */
	unsigned sig_delay_ms;
	const char *pin;              /* ECHO_OFF answer */
	const char *const *fixed;     /* answers instead of accord-sign */
	char *const *replay;          /* recorded answers instead of accord-sign */
	bool fail;                    /* the conversation itself fails */
	/* what happened */
	char *rec[MAX_ROUNDS];
	unsigned nrec, echo_on, echo_off, info;
	char first_prompt[ACCORD_POP_PROMPT_MAX + 64];
	char pin_prompt[256];
	int sign_status;
	char sign_err[2048];
};

static void conv_clear(struct conv *c)
{
	unsigned i;

	for (i = 0; i < c->nrec; i++)
		free(c->rec[i]);
	c->nrec = 0;
}

/* accord-sign's answer to one prompt, or NULL when it refused. */
static char *ask_sign(struct conv *c, const char *prompt)
{
	struct accord_pop_request req;
	struct accord_err err = { 0 };
	const char *argv[16];
	const char *const *opts = c->args;
	char out[1024], shown[ACCORD_POP_PROMPT_MAX + 256];
	size_t n = 0, len;

	snprintf(shown, sizeof(shown), "%s%s", c->ssh_prefix ? "(alice@" TEST_HOST ") " : "",
		 prompt);
	if (c->rewrite_from) {
		char *at = strstr(shown, c->rewrite_from);
		char tmp[sizeof(shown)];

		assert_non_null(at);
		snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(at - shown), shown, c->rewrite_to,
			 at + strlen(c->rewrite_from));
		strcpy(shown, tmp);
	}
	assert_int_equal(accord_pop_prompt_parse(prompt, &req, &err), 0);
	if (req.want == ACCORD_POP_WANT_SIGNATURE) {
		if (c->sig_delay_ms) {
			struct timespec ts = { c->sig_delay_ms / 1000,
					       (long)(c->sig_delay_ms % 1000) * 1000000 };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		if (c->sig_args)
			opts = c->sig_args;
	}
	argv[n++] = g.sign;
	for (; opts && *opts; opts++)
		argv[n++] = *opts;
	if (!c->use_stdin)
		argv[n++] = shown;
	argv[n] = NULL;
	if (c->use_stdin)
		strcat(shown, "\n");
	c->sign_status = run(argv, c->env, c->use_stdin ? shown : NULL, out, sizeof(out),
			     c->sign_err, sizeof(c->sign_err));
	if (c->sign_status != 0)
		return NULL;
	len = strlen(out);
	/* one line, within what ssh's read_passphrase() keeps */
	assert_true(len >= 1 && len < 1024);
	assert_int_equal(out[len - 1], '\n');
	out[len - 1] = '\0';
	assert_true(len - 1 <= ACCORD_POP_ANSWER_MAX);
	assert_null(strchr(out, '\n'));
	return strdup(out);
}

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
		   void *appdata)
{
	struct conv *c = appdata;
	struct pam_response *r;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG || c->fail)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		const char *m = msg[i]->msg;
		char *a = NULL;

		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
			c->echo_off++;
			snprintf(c->pin_prompt, sizeof(c->pin_prompt), "%s", m);
			if (!c->pin)
				goto fail;
			a = strdup(c->pin);
		} else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			unsigned k = c->echo_on++;

			if (k == 0)
				snprintf(c->first_prompt, sizeof(c->first_prompt), "%s", m);
			if (k >= MAX_ROUNDS)
				goto fail;
			if (c->fixed) {
				if (!c->fixed[k])
					goto fail;
				a = strdup(c->fixed[k]);
			} else if (c->replay) {
				if (!c->replay[k])
					goto fail;
				a = strdup(c->replay[k]);
			} else {
				a = ask_sign(c, m);
			}
			if (!a)
				goto fail;
			c->rec[c->nrec++] = strdup(a);
		} else {
			c->info++;
			continue;
		}
		if (!a)
			goto fail;
		r[i].resp = a;
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

/* ---- one call of pa_cert_obtain() ---------------------------------------- */

struct call {
	unsigned sources;
	const char *module;
	unsigned max_age;
	const char *env[3];       /* pam_putenv() strings */
	int rc;
	const char *why;
	struct pa_cert_result res;
};

static void obtain(struct call *k, struct conv *c)
{
	struct pam_conv pc = { conv_fn, c };
	struct pa_cert_args a = {
		.sources = k->sources,
		.pkcs11_module = k->module,
		.host = TEST_HOST,
		.service = TEST_SERVICE,
		.now = (int64_t)time(NULL),
		.max_age = k->max_age ? k->max_age : 60,
		.debug = true,
	};
	pam_handle_t *ph = NULL;
	size_t i;

	assert_int_equal(pam_start_confdir(TEST_SERVICE, "alice", &pc, g.confdir, &ph),
			 PAM_SUCCESS);
	for (i = 0; i < 3 && k->env[i]; i++)
		assert_int_equal(pam_putenv(ph, k->env[i]), PAM_SUCCESS);
	k->why = NULL;
	k->rc = pa_cert_obtain(ph, &a, &k->res, &k->why);
	assert_non_null(k->why);
	if (k->rc == PAM_SUCCESS)
		assert_string_equal(k->why, "ok");
	else
		assert_null(k->res.cert);
	if (k->rc != PAM_SUCCESS) {
		assert_null(k->res.chain);
	}
	assert_int_equal(pam_end(ph, k->rc), PAM_SUCCESS);
}

static void expect(struct call *k, int rc, const char *why)
{
	if (k->rc != rc || (why && strcmp(k->why, why)))
		fail_msg("pa_cert_obtain: %s (%s), expected %s (%s)", pam_strerror(NULL, k->rc),
			 k->why, pam_strerror(NULL, rc), why ? why : "any");
}

/* ---- challenge ------------------------------------------------------- */

/* ssh's way: SSH_ASKPASS=accord-sign with the settings in its
 * environment, the prompt as the only argument, "(user@host) " in front. */
static void test_challenge_askpass_ed25519(void **state)
{
	char e1[PATH_MAX + 32], e2[PATH_MAX + 32];
	const char *env[] = { e1, e2, "ACCORD_SIGN_EXPECT_HOST=" TEST_HOST, NULL };
	struct conv c = { .env = env, .ssh_prefix = true };
	struct call k = { .sources = PA_CERT_CHALLENGE };

	snprintf(e1, sizeof(e1), "ACCORD_SIGN_CERT=%s", g.ed_crt);
	snprintf(e2, sizeof(e2), "ACCORD_SIGN_KEY=%s", g.ed_key);
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(X509_cmp(k.res.cert, g.ed_cert), 0);
	assert_null(k.res.chain);
	assert_int_equal(k.res.source, PA_CERT_CHALLENGE);
	assert_non_null(strstr(k.res.detail, "challenge host=" TEST_HOST " service=" TEST_SERVICE));
	assert_int_equal(c.echo_on, 2); /* one part, one signature */
	assert_int_equal(c.echo_off, 0);
	assert_int_equal(strncmp(c.first_prompt, "accord-challenge v1 host=" TEST_HOST
						 " service=" TEST_SERVICE " time=",
				 strlen("accord-challenge v1 host=" TEST_HOST " service=" TEST_SERVICE
					" time=")),
			 0);
	/* it says on stderr what it signed for */
	assert_non_null(strstr(c.sign_err, "signing for host " TEST_HOST ", service " TEST_SERVICE));
	pa_cert_result_clear(&k.res);
	assert_null(k.res.cert);
	conv_clear(&c);
}

/* Options on the command line, the prompt on stdin, an RSA certificate
 * with an intermediate: several parts. */
static void test_challenge_stdin_rsa_chain(void **state)
{
	const char *opts[] = { "--cert", g.rsa_crt, "--key", g.rsa_key, "--chain", g.chain, NULL };
	struct conv c = { .args = opts, .use_stdin = true };
	struct call k = { .sources = PA_CERT_CHALLENGE };
	unsigned char *der;
	size_t len;
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct accord_err err = { 0 };

	assert_true(X509_up_ref(g.inter));
	assert_true(sk_X509_push(chain, g.inter) > 0);
	assert_int_equal(accord_pop_bundle_make(g.rsa_cert, chain, &der, &len, &err), 0);
	assert_true(accord_pop_nparts(len) >= 3);
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(X509_cmp(k.res.cert, g.rsa_cert), 0);
	assert_non_null(k.res.chain);
	assert_int_equal(sk_X509_num(k.res.chain), 1);
	assert_int_equal(X509_cmp(sk_X509_value(k.res.chain, 0), g.inter), 0);
	assert_int_equal(c.echo_on, accord_pop_nparts(len) + 1);
	pa_cert_result_clear(&k.res);
	conv_clear(&c);
	free(der);
	sk_X509_pop_free(chain, X509_free);
}

/* Answers recorded from an accepted logon, played back to a new one. */
static void test_challenge_replay_refused(void **state)
{
	const char *opts[] = { "--cert", g.ed_crt, "--key", g.ed_key, NULL };
	struct conv c1 = { .args = opts }, c2 = { 0 };
	struct call k1 = { .sources = PA_CERT_CHALLENGE }, k2 = { .sources = PA_CERT_CHALLENGE };

	obtain(&k1, &c1);
	expect(&k1, PAM_SUCCESS, NULL);
	pa_cert_result_clear(&k1.res);
	assert_int_equal(c1.nrec, 2);
	c1.rec[c1.nrec] = NULL;
	c2.replay = c1.rec;
	obtain(&k2, &c2);
	expect(&k2, PAM_AUTH_ERR, "bad_signature");
	assert_int_equal(c2.echo_on, 2);
	assert_string_not_equal(c1.first_prompt, c2.first_prompt); /* a new nonce */
	conv_clear(&c1);
	conv_clear(&c2);
}

/* The certificate of one holder, the signature of another key. */
static void test_challenge_foreign_signature_refused(void **state)
{
	const char *opts[] = { "--cert", g.ed_crt, "--key", g.ed_key, NULL };
	const char *foreign[] = { "--cert", g.other_crt, "--key", g.other_key, NULL };
	struct conv c = { .args = opts, .sig_args = foreign };
	struct call k = { .sources = PA_CERT_CHALLENGE };

	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "bad_signature");
	conv_clear(&c);
}

/* The client is shown another host, service or time than the server
 * issued (a relayed challenge): its answer does not verify here. */
static void test_challenge_tampered_refused(void **state)
{
	static const char *const from[] = { "host=" TEST_HOST, "service=" TEST_SERVICE,
					    "time=1" };
	static const char *const to[] = { "host=other.example", "service=login", "time=2" };
	const char *opts[] = { "--cert", g.ed_crt, "--key", g.ed_key, NULL };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct conv c = { .args = opts, .rewrite_from = from[i], .rewrite_to = to[i] };
		struct call k = { .sources = PA_CERT_CHALLENGE };

		obtain(&k, &c);
		expect(&k, PAM_AUTH_ERR, "bad_signature");
		conv_clear(&c);
	}
}

/* accord-sign --expect-host refuses to answer another host's challenge. */
static void test_challenge_client_expects_host(void **state)
{
	const char *opts[] = { "--cert", g.ed_crt, "--key", g.ed_key, "--expect-host",
			       "elsewhere.example", NULL };
	struct conv c = { .args = opts };
	struct call k = { .sources = PA_CERT_CHALLENGE };

	obtain(&k, &c);
	expect(&k, PAM_CONV_ERR, "conversation_failed");
	assert_int_equal(c.sign_status, 1);
	assert_non_null(strstr(c.sign_err, "for host " TEST_HOST ", not elsewhere.example"));
	conv_clear(&c);
}

/* Answered after max_age: refused even with a good signature. */
static void test_challenge_stale_refused(void **state)
{
	const char *opts[] = { "--cert", g.ed_crt, "--key", g.ed_key, NULL };
	struct conv c = { .args = opts, .sig_delay_ms = 2100 };
	struct call k = { .sources = PA_CERT_CHALLENGE, .max_age = 1 };

	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "stale_challenge");
	conv_clear(&c);
}

static void test_challenge_malformed_and_empty(void **state)
{
	static const char *const garbage[] = { "hello", NULL };
	static const char *const too_many[] = { "29 QQ==", NULL };
	static const char *const empty[] = { "", NULL };
	static const char *const short_sig[] = { "1 MAA=", "QQ==", NULL };
	struct call k = { .sources = PA_CERT_CHALLENGE };
	struct conv c = { .fixed = garbage };

	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "malformed_answer");
	conv_clear(&c);
	memset(&c, 0, sizeof(c));
	c.fixed = too_many;
	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "malformed_answer");
	conv_clear(&c);
	/* "MAA=" is a DER SEQUENCE of nothing: not a certificate */
	memset(&c, 0, sizeof(c));
	c.fixed = short_sig;
	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "malformed_answer");
	assert_int_equal(c.echo_on, 1);
	conv_clear(&c);
	/* an empty first answer: the client has no certificate */
	memset(&c, 0, sizeof(c));
	c.fixed = empty;
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	conv_clear(&c);
	/* the conversation fails */
	memset(&c, 0, sizeof(c));
	c.fail = true;
	obtain(&k, &c);
	expect(&k, PAM_CONV_ERR, "conversation_failed");
	/* no source allowed at all */
	k.sources = 0;
	memset(&c, 0, sizeof(c));
	c.fixed = garbage;
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	assert_int_equal(c.echo_on, 0);
}

/* A key file others may read: accord-sign refuses to sign with it. */
static void test_challenge_client_key_too_open(void **state)
{
	const char *opts[] = { "--cert", g.ed_crt, "--key", g.open_key, NULL };
	struct conv c = { .args = opts };
	struct call k = { .sources = PA_CERT_CHALLENGE };

	obtain(&k, &c);
	expect(&k, PAM_CONV_ERR, NULL);
	assert_int_equal(c.echo_on, 2); /* the parts need no key */
	assert_non_null(strstr(c.sign_err, "too open"));
	conv_clear(&c);
}

/* accord-sign's own refusals. */
static void test_accord_sign_cli(void **state)
{
	const char *none[] = { g.sign, NULL };
	const char *both[] = { g.sign, "--pkcs11", SOFTHSM_MODULE, "--key", g.ed_key, "x", NULL };
	const char *pw[] = { g.sign, "--cert", g.ed_crt, "--key", g.ed_key, "Password: ", NULL };
	const char *bad[] = { g.sign, "--cert", g.ed_crt, "--key", g.ed_key,
			      "accord-challenge v1 host=h service=s time=1 nonce=x want=cert-1",
			      NULL };
	const char *wrong[] = { g.sign, "--cert", g.ed_crt, "--key", g.other_key,
				"accord-challenge v1 host=h service=s time=1 nonce="
				"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA want=signature",
				NULL };
	const char *help[] = { g.sign, "--help", NULL };
	char out[4096], err[4096];

	assert_int_equal(run(none, NULL, "", out, sizeof(out), err, sizeof(err)), 2);
	assert_int_equal(run(both, NULL, NULL, out, sizeof(out), err, sizeof(err)), 2);
	assert_int_equal(run(pw, NULL, NULL, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "not an accord challenge"));
	assert_string_equal(out, "");
	assert_int_equal(run(bad, NULL, NULL, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "malformed"));
	assert_int_equal(run(wrong, NULL, NULL, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "does not belong to the certificate"));
	assert_string_equal(out, "");
	assert_int_equal(run(help, NULL, NULL, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "SSH_ASKPASS"));
}

/* ---- application ------------------------------------------------------ */

static void test_application_accepted(void **state)
{
	char *b64 = pg_cert_b64(g.ed_cert), *pem = pg_cert_pem(g.rsa_cert);
	char *chain = pg_cert_pem(g.inter);
	char *e1 = malloc(strlen(b64) + 16), *e2 = malloc(strlen(pem) + 16);
	char *e3 = malloc(strlen(chain) + 32);
	struct conv c = { 0 };
	struct call k = { .sources = PA_CERT_APPLICATION | PA_CERT_CHALLENGE, .env = { e1 } };

	sprintf(e1, "ACCORD_CERT=%s", b64);
	sprintf(e2, "ACCORD_CERT=%s", pem);
	sprintf(e3, "ACCORD_CERT_CHAIN=%s", chain);
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(k.res.source, PA_CERT_APPLICATION);
	assert_int_equal(X509_cmp(k.res.cert, g.ed_cert), 0);
	assert_null(k.res.chain);
	assert_int_equal(c.echo_on + c.echo_off, 0); /* no conversation at all */
	pa_cert_result_clear(&k.res);

	/* PEM, with an intermediate */
	k.sources = PA_CERT_APPLICATION;
	k.env[0] = e2;
	k.env[1] = e3;
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(X509_cmp(k.res.cert, g.rsa_cert), 0);
	assert_int_equal(sk_X509_num(k.res.chain), 1);
	assert_int_equal(X509_cmp(sk_X509_value(k.res.chain, 0), g.inter), 0);
	pa_cert_result_clear(&k.res);
	free(b64);
	free(pem);
	free(chain);
	free(e1);
	free(e2);
	free(e3);
}

/* Without application among the sources ACCORD_CERT is never taken:
 * the default sources ask the client instead. */
static void test_application_refused_without_argument(void **state)
{
	char *b64 = pg_cert_b64(g.ed_cert);
	char *e1 = malloc(strlen(b64) + 16);
	static const char *const empty[] = { "", NULL };
	const char *opts[] = { "--cert", g.rsa_crt, "--key", g.rsa_key, NULL };
	struct conv c = { .fixed = empty };
	struct call k = { .sources = PA_CERT_PKCS11 | PA_CERT_CHALLENGE, .env = { e1 } };

	sprintf(e1, "ACCORD_CERT=%s", b64);
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	assert_int_equal(c.echo_on, 1);
	conv_clear(&c);
	k.sources = PA_CERT_PKCS11;
	memset(&c, 0, sizeof(c));
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	/* a client that answers: its certificate, not the environment's */
	memset(&c, 0, sizeof(c));
	c.args = opts;
	k.sources = PA_CERT_CHALLENGE;
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(k.res.source, PA_CERT_CHALLENGE);
	assert_int_equal(X509_cmp(k.res.cert, g.rsa_cert), 0);
	pa_cert_result_clear(&k.res);
	conv_clear(&c);
	free(b64);
	free(e1);
}

static void test_application_malformed(void **state)
{
	char *pem = pg_cert_pem(g.ed_cert);
	char *e2 = malloc(strlen(pem) + 16);
	struct conv c = { 0 };
	struct call k = { .sources = PA_CERT_APPLICATION, .env = { "ACCORD_CERT=bm90IGEgY2VydA==" } };

	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "malformed_certificate");
	k.env[0] = "ACCORD_CERT=";
	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "malformed_certificate");
	/* a good certificate with a chain that is not PEM */
	sprintf(e2, "ACCORD_CERT=%s", pem);
	k.env[0] = e2;
	k.env[1] = "ACCORD_CERT_CHAIN=garbage";
	obtain(&k, &c);
	expect(&k, PAM_AUTH_ERR, "malformed_certificate");
	/* nothing set: nothing offered */
	k.env[0] = NULL;
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	free(pem);
	free(e2);
}

/* ---- pkcs11 ----------------------------------------------------------- */

static void make_token(char *conf, const char *name, const char *label, const char *key_pem,
		       const char *cert_der)
{
	char tokdir[PATH_MAX], text[PATH_MAX + 128];
	FILE *f;

	snprintf(tokdir, sizeof(tokdir), "%s/%s", g.dir, name);
	assert_int_equal(mkdir(tokdir, 0700), 0);
	assert_true(snprintf(conf, PATH_MAX, "%s/softhsm2.conf", tokdir) < PATH_MAX);
	strcat(tokdir, "/tokens");
	assert_int_equal(mkdir(tokdir, 0700), 0);
	snprintf(text, sizeof(text),
		 "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
		 "slots.removable = false\n",
		 tokdir);
	f = fopen(conf, "we");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	{
		const char *argv[] = { "softhsm2-util", "--init-token", "--free", "--label", label,
				       "--pin", "1234", "--so-pin", "5678", NULL };
		must_run(argv);
	}
	if (key_pem) {
		const char *argv[] = { "softhsm2-util", "--import", key_pem, "--token", label,
				       "--label", "k", "--id", "01", "--pin", "1234", NULL };
		must_run(argv);
	}
	if (cert_der) {
		const char *argv[] = { "pkcs11-tool", "--module", SOFTHSM_MODULE, "--login", "--pin",
				       "1234", "--write-object", cert_der, "--type", "cert", "--id",
				       "01", "--token-label", label, NULL };
		must_run(argv);
	}
}

static int pkcs11_setup(void **state)
{
	char der[PATH_MAX], ec_key[PATH_MAX], ec_der[PATH_MAX], src[PATH_MAX];
	const char *cp[] = { "cp", src, g.bad_module, NULL };

	path_in(der, "rsa.der");
	pg_write_cert_der(der, g.rsa_cert);
	path_in(ec_key, "ec.key");
	pg_write_key(ec_key, g.ec, 0600);
	path_in(ec_der, "ec.der");
	pg_write_cert_der(ec_der, g.ec_cert);
	make_token(g.tok_rsa, "tok-rsa", "accord", g.rsa_key, der);
	make_token(g.tok_ec, "tok-ec", "accord", ec_key, ec_der);
	make_token(g.tok_empty, "tok-empty", "accord", NULL, NULL);
	/* the RSA certificate beside an EC key with the same ID */
	make_token(g.tok_mismatch, "tok-mismatch", "accord", ec_key, der);
	/* a copy of the module in the test's directory (under /tmp) */
	assert_non_null(realpath(SOFTHSM_MODULE, src));
	path_in(g.bad_module, "libsofthsm2.so");
	must_run(cp);
	return 0;
}

static void use_token(const char *conf)
{
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
}

static void pkcs11_pin(const char *conf, const char *pin, X509 *want, int rc, const char *why)
{
	struct conv c = { .pin = pin };
	struct call k = { .sources = PA_CERT_PKCS11 | PA_CERT_CHALLENGE,
			  .module = SOFTHSM_MODULE };

	use_token(conf);
	obtain(&k, &c);
	expect(&k, rc, why);
	assert_int_equal(c.echo_off, 1);
	assert_int_equal(c.echo_on, 0); /* no fall-through to the challenge */
	assert_string_equal(c.pin_prompt, "PIN for token \"accord\": ");
	if (rc == PAM_SUCCESS) {
		assert_int_equal(k.res.source, PA_CERT_PKCS11);
		assert_int_equal(X509_cmp(k.res.cert, want), 0);
		assert_string_equal(k.res.detail, "pkcs11 token=accord");
	}
	pa_cert_result_clear(&k.res);
}

static void test_pkcs11_rsa_right_and_wrong_pin(void **state)
{
	pkcs11_pin(g.tok_rsa, "1234", g.rsa_cert, PAM_SUCCESS, NULL);
	pkcs11_pin(g.tok_rsa, "4321", NULL, PAM_AUTH_ERR, "pin_refused");
	pkcs11_pin(g.tok_rsa, "", NULL, PAM_AUTH_ERR, "pin_refused");
	/* and the right one still works after the wrong ones */
	pkcs11_pin(g.tok_rsa, "1234", g.rsa_cert, PAM_SUCCESS, NULL);
}

static void test_pkcs11_ec(void **state)
{
	pkcs11_pin(g.tok_ec, "1234", g.ec_cert, PAM_SUCCESS, NULL);
	pkcs11_pin(g.tok_ec, "12345", NULL, PAM_AUTH_ERR, "pin_refused");
}

/* A key with the certificate's ID that is not its key. */
static void test_pkcs11_key_mismatch(void **state)
{
	pkcs11_pin(g.tok_mismatch, "1234", NULL, PAM_AUTH_ERR, "bad_signature");
}

/* No certificate on the token: on to the next source, no PIN asked. */
static void test_pkcs11_empty_token(void **state)
{
	static const char *const empty[] = { "", NULL };
	struct conv c = { .pin = "1234", .fixed = empty };
	struct call k = { .sources = PA_CERT_PKCS11, .module = SOFTHSM_MODULE };

	use_token(g.tok_empty);
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	assert_int_equal(c.echo_off, 0);
	k.sources = PA_CERT_PKCS11 | PA_CERT_CHALLENGE;
	obtain(&k, &c);
	expect(&k, PAM_AUTHINFO_UNAVAIL, "no_certificate");
	assert_int_equal(c.echo_off, 0);
	assert_int_equal(c.echo_on, 1);
	assert_non_null(strstr(c.first_prompt, "accord-challenge v1 "));
	conv_clear(&c);
}

/* Module paths a user could control are never loaded. */
static void test_pkcs11_untrusted_module(void **state)
{
	static const char *const paths[] = { "libsofthsm2.so", "softhsm/../libsofthsm2.so",
					     "/nonexistent/libp11.so", NULL };
	struct conv c = { .pin = "1234" };
	struct call k = { .sources = PA_CERT_PKCS11, .module = g.bad_module };
	size_t i;

	use_token(g.tok_rsa);
	obtain(&k, &c);
	expect(&k, PAM_SYSTEM_ERR, "pkcs11_module_refused");
	for (i = 0; paths[i]; i++) {
		k.module = paths[i];
		obtain(&k, &c);
		expect(&k, PAM_SYSTEM_ERR, "pkcs11_module_refused");
	}
	assert_int_equal(c.echo_off, 0);
}

/* The client side on a token: accord-sign --pkcs11 with the PIN from the
 * environment or a file; a wrong PIN makes it refuse. */
static void test_pkcs11_accord_sign(void **state)
{
	char pin_file[PATH_MAX];
	const char *opts[] = { "--pkcs11", SOFTHSM_MODULE, NULL };
	const char *opts_file[] = { "--pkcs11", SOFTHSM_MODULE, "--pin-file", pin_file, NULL };
	const char *env_ok[] = { "ACCORD_SIGN_PIN=1234", NULL };
	const char *env_bad[] = { "ACCORD_SIGN_PIN=9999", NULL };
	struct conv c = { .args = opts, .env = env_ok, .ssh_prefix = true };
	struct call k = { .sources = PA_CERT_CHALLENGE };
	FILE *f;

	use_token(g.tok_ec);
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(X509_cmp(k.res.cert, g.ec_cert), 0);
	pa_cert_result_clear(&k.res);
	conv_clear(&c);

	use_token(g.tok_rsa);
	path_in(pin_file, "pin");
	f = fopen(pin_file, "we");
	assert_non_null(f);
	assert_int_equal(fchmod(fileno(f), 0600), 0);
	fputs("1234\n", f);
	assert_int_equal(fclose(f), 0);
	memset(&c, 0, sizeof(c));
	c.args = opts_file;
	obtain(&k, &c);
	expect(&k, PAM_SUCCESS, NULL);
	assert_int_equal(X509_cmp(k.res.cert, g.rsa_cert), 0);
	pa_cert_result_clear(&k.res);
	conv_clear(&c);

	memset(&c, 0, sizeof(c));
	c.args = opts;
	c.env = env_bad;
	obtain(&k, &c);
	expect(&k, PAM_CONV_ERR, "conversation_failed");
	assert_int_equal(c.sign_status, 1);
	assert_non_null(strstr(c.sign_err, "refused the PIN"));
	conv_clear(&c);

	/* a PIN file others may read */
	assert_int_equal(chmod(pin_file, 0644), 0);
	memset(&c, 0, sizeof(c));
	c.args = opts_file;
	obtain(&k, &c);
	expect(&k, PAM_CONV_ERR, "conversation_failed");
	assert_non_null(strstr(c.sign_err, "too open"));
	conv_clear(&c);
}

/* ---- set-up ----------------------------------------------------------- */

static int setup(void **state)
{
	char svc[PATH_MAX];
	FILE *f;

	g.sign = getenv("ACCORD_SIGN");
	if (!g.sign || !*g.sign) {
		fprintf(stderr, "ACCORD_SIGN (the accord-sign binary) is not set\n");
		return -1;
	}
	strcpy(g.dir, "/tmp/accord-pam-cert-XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	path_in(g.confdir, "pam.d");
	assert_int_equal(mkdir(g.confdir, 0755), 0);
	assert_true(snprintf(svc, sizeof(svc), "%s/" TEST_SERVICE, g.confdir) < (int)sizeof(svc));
	f = fopen(svc, "we");
	assert_non_null(f);
	fputs("auth required pam_permit.so\naccount required pam_permit.so\n", f);
	assert_int_equal(fclose(f), 0);

	g.ed = pg_key(PG_ED25519);
	g.rsa = pg_key(PG_RSA);
	g.ec = pg_key(PG_EC);
	g.other = pg_key(PG_ED25519);
	g.ca_key = pg_key(PG_EC);
	g.int_key = pg_key(PG_RSA);
	g.ca = pg_cert(g.ca_key, "Test Root", NULL, NULL, true, 0);
	g.inter = pg_cert(g.int_key, "Test Intermediate", g.ca, g.ca_key, true, 600);
	g.ed_cert = pg_cert(g.ed, "alice", g.inter, g.int_key, false, 0);
	g.rsa_cert = pg_cert(g.rsa, "carol", g.inter, g.int_key, false, 400);
	g.ec_cert = pg_cert(g.ec, "bob", g.inter, g.int_key, false, 0);
	g.other_cert = pg_cert(g.other, "alice", NULL, NULL, false, 0);

	path_in(g.ed_crt, "ed.crt");
	path_in(g.ed_key, "ed.key");
	path_in(g.rsa_crt, "rsa.crt");
	path_in(g.rsa_key, "rsa.key");
	path_in(g.other_crt, "other.crt");
	path_in(g.other_key, "other.key");
	path_in(g.chain, "chain.pem");
	path_in(g.open_key, "open.key");
	pg_write_cert_pem(g.ed_crt, g.ed_cert, false);
	pg_write_key(g.ed_key, g.ed, 0600);
	pg_write_cert_pem(g.rsa_crt, g.rsa_cert, false);
	pg_write_key(g.rsa_key, g.rsa, 0600);
	pg_write_cert_pem(g.other_crt, g.other_cert, false);
	pg_write_key(g.other_key, g.other, 0400);
	pg_write_cert_pem(g.chain, g.inter, false);
	pg_write_key(g.open_key, g.ed, 0644);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	EVP_PKEY *keys[] = { g.ed, g.rsa, g.ec, g.other, g.int_key, g.ca_key };
	X509 *certs[] = { g.ed_cert, g.rsa_cert, g.ec_cert, g.other_cert, g.inter, g.ca };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	if (g.dir[0])
		nftw(g.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	const char *p = path ? path : "/usr/bin:/bin";

	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (access(buf, X_OK) == 0)
			return true;
		p += n;
		if (*p == ':')
			p++;
	}
	return false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_askpass_ed25519),
		cmocka_unit_test(test_challenge_stdin_rsa_chain),
		cmocka_unit_test(test_challenge_replay_refused),
		cmocka_unit_test(test_challenge_foreign_signature_refused),
		cmocka_unit_test(test_challenge_tampered_refused),
		cmocka_unit_test(test_challenge_client_expects_host),
		cmocka_unit_test(test_challenge_stale_refused),
		cmocka_unit_test(test_challenge_malformed_and_empty),
		cmocka_unit_test(test_challenge_client_key_too_open),
		cmocka_unit_test(test_accord_sign_cli),
		cmocka_unit_test(test_application_accepted),
		cmocka_unit_test(test_application_refused_without_argument),
		cmocka_unit_test(test_application_malformed),
	};
	const struct CMUnitTest p11_tests[] = {
		cmocka_unit_test(test_pkcs11_rsa_right_and_wrong_pin),
		cmocka_unit_test(test_pkcs11_ec),
		cmocka_unit_test(test_pkcs11_key_mismatch),
		cmocka_unit_test(test_pkcs11_empty_token),
		cmocka_unit_test(test_pkcs11_untrusted_module),
		cmocka_unit_test(test_pkcs11_accord_sign),
	};
	int failed;

	/* the keys and files are made once, in the first group's set-up,
	 * and removed at the end */
	failed = cmocka_run_group_tests_name("pam-cert-pop", tests, setup, NULL);
	if (!have_program("softhsm2-util")) {
		fprintf(stderr, "softhsm2-util not found: the PKCS#11 tests are skipped\n");
		teardown(NULL);
		return failed ? failed : 77;
	}
	if (g.ed)
		failed += cmocka_run_group_tests_name("pam-cert-pop-pkcs11", p11_tests,
						      pkcs11_setup, NULL);
	teardown(NULL);
	return failed;
}
