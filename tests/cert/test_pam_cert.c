/* SPDX-License-Identifier: MIT */
/*
 * pam_accord.so methods=cert through real libpam (pam_start_confdir): the
 * three sources (application with pam_putenv, the conversation challenge,
 * a PKCS#11 token in SoftHSM2), then chain verification, mapping, the
 * user match and the mapped profile's status, each refusal with its audit
 * reason, and the cert_* fields of the audit record.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <security/pam_appl.h>

#include <accord/certmap.h>
#include <accord/certpop.h>
#include <accord/certverify.h>
#include <accord/state.h>

#include "certgen.h"
#include "fixture.h"
#include "pam_test_paths.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

struct t {
	char dir[256], pamd[300];
	struct pf f;
	struct certgen_cert ca, other_ca, alice, bob_card, expired, foreign, mallory;
};

static struct t T;

static void must(int r, const struct accord_err *e, const char *what)
{
	if (r < 0)
		fail_msg("%s: %s", what, e->msg);
}

static void service(const char *name, const char *auth_args)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", T.pamd, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "auth required %s conf=%s %s\naccount required %s conf=%s\n",
		PAM_ACCORD_MODULE, T.f.conf, auth_args, PAM_ACCORD_MODULE, T.f.conf);
	fclose(f);
}

static void leaf(struct certgen_cert *out, const char *subject, const struct certgen_cert *ca,
		 int64_t days)
{
	struct certgen_opts o;

	certgen_opts_init(&o);
	o.subject = subject;
	if (days < 0) {
		o.not_before = days * CERTGEN_DAY * 2;
		o.not_after = days * CERTGEN_DAY;
	}
	assert_int_equal(certgen_make(&o, ca, out), 0);
}

static unsigned char *der_of(X509 *x, size_t *len)
{
	unsigned char *p = NULL, *out;
	int l = i2d_X509(x, &p);

	assert_true(l > 0);
	out = malloc((size_t)l);
	memcpy(out, p, (size_t)l);
	OPENSSL_free(p);
	*len = (size_t)l;
	return out;
}

static void add_user(struct accord_state *st, const char *name)
{
	struct accord_user_spec s = { .name = name };
	struct accord_err err = { 0 };

	must(accord_user_add(st, &s, NULL, &err), &err, name);
}

static int setup(void **state)
{
	struct certgen_opts o;
	struct accord_txn *tx;
	struct accord_state *st;
	struct accord_err err = { 0 };
	struct accord_certmap_spec m = { 0 };
	unsigned char *der;
	size_t len;

	(void)state;
	snprintf(T.dir, sizeof(T.dir), "/tmp/accord-pamcert.XXXXXX");
	if (!mkdtemp(T.dir))
		return -1;
	snprintf(T.pamd, sizeof(T.pamd), "%s/pam.d", T.dir);
	mkdir(T.pamd, 0755);
	must(pf_create(&T.f, T.dir, "challenge_max_age = 60\n", &err), &err, "registry");
	certgen_opts_init(&o);
	o.subject = "/C=GB/O=Example/CN=Test CA";
	o.is_ca = true;
	assert_int_equal(certgen_make(&o, NULL, &T.ca), 0);
	certgen_opts_init(&o);
	o.subject = "/C=GB/O=Example/CN=Rogue CA";
	o.is_ca = true;
	assert_int_equal(certgen_make(&o, NULL, &T.other_ca), 0);
	leaf(&T.alice, "/C=GB/O=Example/OU=Dev/CN=Alice Smith", &T.ca, 0);
	leaf(&T.bob_card, "/C=GB/O=Example/OU=Ops/CN=Bob Jones", &T.ca, 0);
	leaf(&T.expired, "/C=GB/O=Example/OU=Dev/CN=Alice Smith", &T.ca, -1);
	leaf(&T.foreign, "/C=GB/O=Example/OU=Dev/CN=Alice Smith", &T.other_ca, 0);
	leaf(&T.mallory, "/C=GB/O=Example/OU=Ops/CN=Mallory", &T.ca, 0);

	must(pf_begin(&T.f, &tx, &err), &err, "txn");
	st = accord_txn_state(tx);
	add_user(st, "alice");
	add_user(st, "bob");
	add_user(st, "dave");
	der = der_of(T.ca.x509, &len);
	must(accord_ca_add(st, der, len, "root", ACCORD_CA_TRUST, &err), &err, "ca");
	free(der);
	m.user = "alice";
	m.sdn = "CN=Alice Smith.OU=Dev.O=Example.C=GB";
	m.label = "alice";
	must(accord_certmap_add(st, &m, NULL, &err), &err, "map alice");
	m.user = "bob";
	m.sdn = "OU=Ops.O=Example.C=GB";
	m.idn = "CN=Test CA,O=Example,C=GB";
	m.label = "ops";
	must(accord_certmap_add(st, &m, NULL, &err), &err, "map ops");
	/* the exception must be more specific than "ops" (step 2): step 1 */
	m.sdn = "CN=Mallory,OU=Ops,O=Example,C=GB";
	m.label = "mallory";
	m.notrust = true;
	must(accord_certmap_add(st, &m, NULL, &err), &err, "map mallory");
	must(pf_commit(&T.f, tx, "setup", &err), &err, "commit");

	service("app", "methods=cert cert_source=application");
	service("appdefault", "methods=cert");
	service("chal", "methods=cert cert_source=challenge");
	service("either", "methods=cert,password cert_source=application");
	service("card", "methods=cert cert_source=pkcs11 pkcs11_module=" SOFTHSM_MODULE);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	certgen_cert_free(&T.ca);
	certgen_cert_free(&T.other_ca);
	certgen_cert_free(&T.alice);
	certgen_cert_free(&T.bob_card);
	certgen_cert_free(&T.expired);
	certgen_cert_free(&T.foreign);
	certgen_cert_free(&T.mallory);
	pf_close(&T.f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the conversation: a client that answers challenges, PINs and
 * passwords ---------------------------------------------------------------- */

struct client {
	X509 *cert;                /* what to present */
	EVP_PKEY *key;             /* what to sign with */
	const char *pin, *password;
	char *replay_sig;          /* answer the signature prompt with this */
	char last_sig[ACCORD_POP_ANSWER_MAX + 1];
	unsigned prompts;
	bool saw_password_prompt;
};

static int answer(struct client *cl, const struct pam_message *m, char **out)
{
	struct accord_pop_request req;
	struct accord_err err = { 0 };
	char buf[ACCORD_POP_ANSWER_MAX + 1];
	unsigned char *der = NULL;
	size_t len = 0;
	int r = 0;

	cl->prompts++;
	if (m->msg_style == PAM_PROMPT_ECHO_OFF) {
		if (strstr(m->msg, "assword"))
			cl->saw_password_prompt = true;
		*out = strdup(cl->password && strstr(m->msg, "assword") ? cl->password :
			      cl->pin ? cl->pin : "");
		return 0;
	}
	if (accord_pop_prompt_parse(m->msg, &req, &err) < 0)
		return -1;
	if (!cl->cert) {
		/* no certificate here: an empty answer says so */
		*out = strdup("");
		return 0;
	}
	if (req.want == ACCORD_POP_WANT_CERT) {
		r = accord_pop_bundle_make(cl->cert, NULL, &der, &len, &err);
		if (r == 0)
			r = accord_pop_answer_part(der, len, req.part, buf, sizeof(buf), &err);
		free(der);
	} else if (cl->replay_sig) {
		snprintf(buf, sizeof(buf), "%s", cl->replay_sig);
	} else {
		r = accord_pop_answer_signature(cl->key, &req.ch, buf, sizeof(buf), &err);
		snprintf(cl->last_sig, sizeof(cl->last_sig), "%s", buf);
	}
	if (r < 0)
		return -1;
	*out = strdup(buf);
	return 0;
}

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
		   void *appdata)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if (answer(appdata, msg[i], &r[i].resp) < 0) {
			while (i-- > 0)
				free(r[i].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

struct result {
	int auth, acct;
	char user[64];
};

/* Runs authenticate (+ account when auth succeeded). env: "NAME=value"
 * for pam_putenv, or NULL. */
static struct result run(const char *svc, const char *user, struct client *cl,
			 const char *env)
{
	struct pam_conv pc = { conv_fn, cl };
	struct result res = { -1, -1, "" };
	pam_handle_t *ph = NULL;
	const void *u = NULL;

	assert_int_equal(pam_start_confdir(svc, user, &pc, T.pamd, &ph), PAM_SUCCESS);
	if (env)
		assert_int_equal(pam_putenv(ph, env), PAM_SUCCESS);
	res.auth = pam_authenticate(ph, 0);
	if (res.auth == PAM_SUCCESS)
		res.acct = pam_acct_mgmt(ph, 0);
	if (pam_get_item(ph, PAM_USER, &u) == PAM_SUCCESS && u)
		snprintf(res.user, sizeof(res.user), "%s", (const char *)u);
	pam_end(ph, res.auth);
	return res;
}

static char *cert_env(X509 *x)
{
	unsigned char *der;
	size_t len;
	char *out;
	int n;

	der = der_of(x, &len);
	out = malloc(20 + 4 * len / 3 + 8);
	memcpy(out, "ACCORD_CERT=", 12);
	n = EVP_EncodeBlock((unsigned char *)out + 12, der, (int)len);
	out[12 + n] = 0;
	free(der);
	return out;
}

/* The last audit line (JSON) of the audit file. */
static void last_audit(char *buf, size_t cap)
{
	FILE *f = fopen(T.f.audit, "r");
	char line[8192];

	buf[0] = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "\"phase\":\"auth\""))
			snprintf(buf, cap, "%s", line);
	fclose(f);
}

static void expect_reason(const char *reason)
{
	char line[8192], want[64];

	last_audit(line, sizeof(line));
	snprintf(want, sizeof(want), "\"reason\":\"%s\"", reason);
	if (!strstr(line, want))
		fail_msg("want %s in %s", want, line);
}

/* ---- application ----------------------------------------------------- */

static void test_application(void **state)
{
	struct client cl = { 0 };
	char *env = cert_env(T.alice.x509), line[8192];
	struct result r;

	(void)state;
	/* no user given: the mapping names it */
	r = run("app", NULL, &cl, env);
	assert_int_equal(r.auth, PAM_SUCCESS);
	assert_int_equal(r.acct, PAM_SUCCESS);
	assert_string_equal(r.user, "alice");
	assert_int_equal(cl.prompts, 0);
	last_audit(line, sizeof(line));
	assert_non_null(strstr(line, "\"method\":\"cert\""));
	assert_non_null(strstr(line, "\"cert_tier\":\"filter\""));
	assert_non_null(strstr(line, "\"cert_label\":\"alice\""));
	assert_non_null(strstr(line, "\"cert_check\":\"ok\""));
	assert_non_null(strstr(line, "\"cert_subject\":\"CN=Alice Smith,OU=Dev,O=Example,C=GB\""));
	/* the user given must be the mapped one */
	r = run("app", "alice", &cl, env);
	assert_int_equal(r.auth, PAM_SUCCESS);
	r = run("app", "bob", &cl, env);
	assert_int_equal(r.auth, PAM_AUTH_ERR);
	expect_reason("cert_user_mismatch");
	/* never taken by default: cert_source must name application */
	r = run("appdefault", NULL, &cl, env);
	assert_int_not_equal(r.auth, PAM_SUCCESS);
	expect_reason("no_certificate");
	free(env);
}

/* Chain and mapping refusals, each with its reason. */
static void test_refusals(void **state)
{
	static const struct {
		struct certgen_cert *c;
		const char *reason;
	} cases[] = {
		{ &T.expired, "cert_invalid" },
		{ &T.foreign, "cert_invalid" },
		{ &T.mallory, "cert_notrust" },
	};
	struct client cl = { 0 };
	struct certgen_cert unmapped = { 0 };
	struct result r;
	char *env, line[8192];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		env = cert_env(cases[i].c->x509);
		r = run("app", NULL, &cl, env);
		if (r.auth != PAM_AUTH_ERR) {
			last_audit(line, sizeof(line));
			fail_msg("case %zu: auth %d: %s", i, r.auth, line);
		}
		expect_reason(cases[i].reason);
		free(env);
	}
	last_audit(line, sizeof(line));
	assert_non_null(strstr(line, "\"cert_label\":\"mallory\""));
	leaf(&unmapped, "/C=GB/O=Elsewhere/CN=Zed", &T.ca, 0);
	env = cert_env(unmapped.x509);
	r = run("app", NULL, &cl, env);
	assert_int_equal(r.auth, PAM_AUTH_ERR);
	expect_reason("cert_unmapped");
	free(env);
	certgen_cert_free(&unmapped);
	/* bob's OU maps (step 2, partial subject + full issuer), but bob is
	 * disabled: the mapped profile's status decides */
	{
		struct accord_txn *tx;
		struct accord_err err = { 0 };

		must(pf_begin(&T.f, &tx, &err), &err, "txn");
		must(accord_user_status_op(accord_txn_state(tx), "bob", ACCORD_OP_DISABLE, NULL,
					   &err), &err, "disable");
		must(pf_commit(&T.f, tx, "disable bob", &err), &err, "commit");
	}
	env = cert_env(T.bob_card.x509);
	r = run("app", NULL, &cl, env);
	assert_int_not_equal(r.auth, PAM_SUCCESS);
	expect_reason("disabled");
	free(env);
}

/* No certificate offered: a stack that also has password goes on to ask
 * for one. */
static void test_fallback(void **state)
{
	struct client cl = { .password = "wrong" };
	struct result r;

	(void)state;
	r = run("either", "alice", &cl, NULL);
	assert_int_equal(r.auth, PAM_AUTH_ERR);
	assert_true(cl.saw_password_prompt);
	expect_reason("bad_secret");
}

/* ---- challenge --------------------------------------------------------- */

static void test_challenge(void **state)
{
	struct client cl = { .cert = T.alice.x509, .key = T.alice.key };
	struct client foreign = { .cert = T.alice.x509, .key = T.bob_card.key };
	char saved[ACCORD_POP_ANSWER_MAX + 1];
	struct result r;

	(void)state;
	r = run("chal", NULL, &cl, NULL);
	assert_int_equal(r.auth, PAM_SUCCESS);
	assert_string_equal(r.user, "alice");
	assert_true(cl.prompts >= 2);
	/* the same answer to a new challenge: refused */
	snprintf(saved, sizeof(saved), "%s", cl.last_sig);
	cl.replay_sig = saved;
	r = run("chal", NULL, &cl, NULL);
	assert_int_equal(r.auth, PAM_AUTH_ERR);
	expect_reason("cert_pop_failed");
	{
		char line[8192];

		last_audit(line, sizeof(line));
		assert_non_null(strstr(line, "\"cert_check\":\"bad_signature\""));
	}
	/* alice's certificate, someone else's key */
	r = run("chal", NULL, &foreign, NULL);
	assert_int_equal(r.auth, PAM_AUTH_ERR);
	expect_reason("cert_pop_failed");
}

/* ---- PKCS#11 (SoftHSM2) ------------------------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void test_pkcs11(void **state)
{
	struct client cl = { .pin = "123456" };
	char conf[400], keyf[400], crtf[400];
	struct result r;
	FILE *f;

	(void)state;
	if (access("/usr/bin/softhsm2-util", X_OK) || access("/usr/bin/pkcs11-tool", X_OK) ||
	    access(SOFTHSM_MODULE, R_OK))
		skip();
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", T.dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n", T.dir);
	fclose(f);
	assert_int_equal(sh("mkdir -p '%s/tokens'", T.dir), 0);
	setenv("SOFTHSM2_CONF", conf, 1); /* read by SoftHSM, not by pam_accord */
	snprintf(keyf, sizeof(keyf), "%s/alice.key", T.dir);
	snprintf(crtf, sizeof(crtf), "%s/alice.der", T.dir);
	f = fopen(keyf, "w");
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, T.alice.key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	f = fopen(crtf, "w");
	assert_non_null(f);
	assert_true(i2d_X509_fp(f, T.alice.x509) == 1);
	fclose(f);
	assert_int_equal(sh("softhsm2-util --init-token --free --label accord --pin 123456 "
			    "--so-pin 654321 >/dev/null"), 0);
	assert_int_equal(sh("softhsm2-util --import '%s' --token accord --label alice --id 01 "
			    "--pin 123456 >/dev/null", keyf), 0);
	assert_int_equal(sh("pkcs11-tool --module " SOFTHSM_MODULE " --token-label accord --login "
			    "--pin 123456 --write-object '%s' --type cert --id 01 >/dev/null 2>&1",
			    crtf), 0);
	r = run("card", NULL, &cl, NULL);
	assert_int_equal(r.auth, PAM_SUCCESS);
	assert_string_equal(r.user, "alice");
	cl.pin = "999999";
	r = run("card", "alice", &cl, NULL);
	assert_int_equal(r.auth, PAM_AUTH_ERR);
	expect_reason("cert_pop_failed");
}

/* The one-call API for applications reads what the module reads. */
static void test_api(void **state)
{
	struct accord_cert_decision d;
	struct accord_err err = { 0 };
	unsigned char *der;
	size_t len;

	(void)state;
	der = der_of(T.alice.x509, &len);
	assert_int_equal(accord_cert_map_der(T.f.conf, der, len, "app", &d, &err), 0);
	assert_true(d.ok);
	assert_string_equal(d.map.user, "alice");
	assert_string_equal(d.map.label, "alice");
	free(der);
	der = der_of(T.foreign.x509, &len);
	assert_int_equal(accord_cert_map_der(T.f.conf, der, len, "app", &d, &err), 0);
	assert_false(d.ok);
	assert_int_equal(d.chain, ACCORD_CERT_UNKNOWN_CA);
	assert_int_equal(d.map.result, ACCORD_MAPPED); /* mapped, but the chain is refused */
	free(der);
	assert_int_equal(accord_cert_map_der(T.f.conf, (const unsigned char *)"junk", 4, "app", &d,
					     &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_application),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_pkcs11),
		cmocka_unit_test(test_refusals), /* last: disables bob */
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
