/* SPDX-License-Identifier: MIT */
/*
 * pam_accord's methods=cert, first half: a certificate and proof of
 * possession, from the sources pam_cert.h lists, through the PAM
 * conversation.  The protocol and the token code are libaccord's
 * (include/accord/certpop.h); this file only talks to libpam and turns
 * the library's answers into PAM codes and audit reasons, in one place
 * (pa_code_for()).
 *
 * Answers and PINs are wiped before they are freed and never logged.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <accord/certpop.h>

#include "pam_cert.h"

/* A challenge may be answered for this long when the caller says 0. */
#define PA_CERT_DEFAULT_MAX_AGE 120
/* A PIN longer than this is refused without trying the token. */
#define PA_CERT_PIN_MAX 256

struct pa_cert_run {
	pam_handle_t *pamh;
	const struct pa_cert_args *args;
	int64_t now;              /* the caller's clock at the start */
	struct timespec start;    /* CLOCK_MONOTONIC at the start */
};

static void pa_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The caller's clock plus the time the conversation has taken: a client
 * that needs longer than max_age to answer is too late, and a test that
 * sets args->now stays exact. */
static int64_t pa_now(const struct pa_cert_run *run)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return run->now;
	return run->now + (int64_t)(ts.tv_sec - run->start.tv_sec) -
	       (ts.tv_nsec < run->start.tv_nsec ? 1 : 0);
}

/* The one place a library error becomes a PAM code and an audit reason. */
static int pa_code_for(int r, const char *failed_as, const char **why)
{
	switch (r) {
	case -ETIMEDOUT:
		*why = "stale_challenge";
		return PAM_AUTH_ERR;
	case -EACCES:
		*why = failed_as;
		return PAM_AUTH_ERR;
	case -EKEYREJECTED:
		*why = "unsupported_key";
		return PAM_AUTH_ERR;
	case -ENOKEY:
		*why = "no_private_key";
		return PAM_AUTH_ERR;
	case -EBADMSG:
	case -EMSGSIZE:
	case -EINVAL:
	case -ERANGE:
		*why = "malformed_answer";
		return PAM_AUTH_ERR;
	case -ENOMEM:
		*why = "out_of_memory";
		return PAM_BUF_ERR;
	default:
		*why = "system_error";
		return PAM_SYSTEM_ERR;
	}
}

static void pa_log_failure(const struct pa_cert_run *run, const char *source,
			   const struct accord_err *err)
{
	pam_syslog(run->pamh, LOG_NOTICE, "cert: %s: %s", source,
		   err->msg[0] ? err->msg : "failed");
}

/* One prompt, one answer (malloc'd, the caller wipes and frees it). */
static int pa_ask(const struct pa_cert_run *run, int style, const char *prompt, char **answer,
		  const char **why)
{
	int rc;

	*answer = NULL;
	rc = pam_prompt(run->pamh, style, answer, "%s", prompt);
	if (rc == PAM_SUCCESS && !*answer)
		rc = PAM_CONV_ERR;
	if (rc != PAM_SUCCESS) {
		pa_wipe_free(*answer);
		*answer = NULL;
		*why = "conversation_failed";
		if (rc != PAM_BUF_ERR && rc != PAM_ABORT)
			rc = PAM_CONV_ERR;
	}
	return rc;
}

/* ---- application ------------------------------------------------------ */

static int pa_from_application(const struct pa_cert_run *run, struct pa_cert_result *out,
			       const char **why)
{
	struct accord_err err = { 0 };
	const char *text;
	int r;

	text = pam_getenv(run->pamh, "ACCORD_CERT");
	if (!text)
		return PAM_AUTHINFO_UNAVAIL;
	r = accord_pop_cert_from_text(text, &out->cert, &err);
	if (r == 0) {
		const char *chain = pam_getenv(run->pamh, "ACCORD_CERT_CHAIN");

		if (chain)
			r = accord_pop_chain_from_pem(chain, &out->chain, &err);
	}
	if (r < 0) {
		int rc = pa_code_for(r, "malformed_certificate", why);

		if (rc == PAM_AUTH_ERR)
			*why = "malformed_certificate";
		pa_log_failure(run, "application", &err);
		pa_cert_result_clear(out);
		return rc;
	}
	out->source = PA_CERT_APPLICATION;
	snprintf(out->detail, sizeof(out->detail), "application intermediates=%d",
		 out->chain ? sk_X509_num(out->chain) : 0);
	return PAM_SUCCESS;
}

/* ---- pkcs11 ----------------------------------------------------------- */

static int pa_from_pkcs11(const struct pa_cert_run *run, struct pa_cert_result *out,
			  const char **why)
{
	struct accord_err err = { 0 };
	struct accord_p11 *p11 = NULL;
	char path[PATH_MAX], prompt[128];
	const char *failed_as = "pin_refused"; /* what -EACCES means: login, then the proof */
	char *pin = NULL;
	int r, rc;

	r = accord_p11_module_check(run->args->pkcs11_module, path, sizeof(path), &err);
	if (r < 0) {
		/* a configuration error: say so rather than try the next source */
		*why = "pkcs11_module_refused";
		pam_syslog(run->pamh, LOG_ERR, "cert: pkcs11: %s", err.msg);
		return PAM_SYSTEM_ERR;
	}
	r = accord_p11_open(path, &p11, &err);
	if (r == -ENOENT) {
		if (run->args->debug)
			pam_syslog(run->pamh, LOG_DEBUG, "cert: pkcs11: %s", err.msg);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (r < 0) {
		*why = "pkcs11_unavailable";
		pa_log_failure(run, "pkcs11", &err);
		return r == -ENOMEM ? PAM_BUF_ERR : PAM_SYSTEM_ERR;
	}
	if (accord_p11_needs_pin(p11)) {
		snprintf(prompt, sizeof(prompt), "PIN for token \"%s\": ",
			 accord_p11_token_label(p11));
		rc = pa_ask(run, PAM_PROMPT_ECHO_OFF, prompt, &pin, why);
		if (rc != PAM_SUCCESS)
			goto out;
		if (!*pin || strnlen(pin, PA_CERT_PIN_MAX + 1) > PA_CERT_PIN_MAX) {
			r = accord_err_set(&err, -EACCES, "an empty or over-long PIN (max %d)",
					   PA_CERT_PIN_MAX);
			goto fail;
		}
	}
	r = accord_p11_login(p11, pin, &err);
	pa_wipe_free(pin);
	pin = NULL;
	if (r == 0) {
		failed_as = "bad_signature";
		r = accord_p11_prove(p11, &err);
	}
	if (r < 0)
		goto fail;
	out->cert = accord_p11_cert(p11);
	if (!X509_up_ref(out->cert)) {
		out->cert = NULL;
		*why = "out_of_memory";
		rc = PAM_BUF_ERR;
		goto out;
	}
	out->source = PA_CERT_PKCS11;
	snprintf(out->detail, sizeof(out->detail), "pkcs11 token=%s",
		 accord_p11_token_label(p11));
	rc = PAM_SUCCESS;
	goto out;
fail:
	rc = pa_code_for(r, failed_as, why);
	pa_log_failure(run, "pkcs11", &err);
out:
	pa_wipe_free(pin);
	accord_p11_close(p11);
	return rc;
}

/* ---- challenge -------------------------------------------------------- */

static int pa_from_challenge(const struct pa_cert_run *run, struct pa_cert_result *out,
			     const char **why)
{
	const struct pa_cert_args *a = run->args;
	struct accord_pop_collector *col = NULL;
	struct accord_pop_challenge ch;
	struct accord_err err = { 0 };
	char prompt[ACCORD_POP_PROMPT_MAX + 1], hostbuf[ACCORD_POP_HOST_MAX + 2];
	const char *host = a->host, *service = a->service;
	const void *item = NULL;
	char *ans = NULL;
	int r, rc;

	if (!host) {
		if (gethostname(hostbuf, sizeof(hostbuf)) < 0)
			hostbuf[0] = '\0';
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		host = hostbuf;
	}
	if (!service && pam_get_item(run->pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		service = item;
	r = accord_pop_challenge_new(&ch, host, service, run->now, &err);
	if (r < 0) {
		*why = "system_error";
		pam_syslog(run->pamh, LOG_ERR, "cert: challenge: %s", err.msg);
		return r == -ENOMEM ? PAM_BUF_ERR : PAM_SYSTEM_ERR;
	}
	col = malloc(sizeof(*col));
	if (!col) {
		*why = "out_of_memory";
		return PAM_BUF_ERR;
	}
	accord_pop_collector_init(col);
	while (!accord_pop_collector_done(col)) {
		r = accord_pop_prompt(&ch, ACCORD_POP_WANT_CERT, col->next, prompt, sizeof(prompt),
				      &err);
		if (r < 0)
			goto fail;
		rc = pa_ask(run, PAM_PROMPT_ECHO_ON, prompt, &ans, why);
		if (rc != PAM_SUCCESS)
			goto out;
		if (col->next == 1 && !*ans) {
			/* an empty first answer: the client has no certificate */
			if (a->debug)
				pam_syslog(run->pamh, LOG_DEBUG, "cert: challenge: no certificate offered");
			rc = PAM_AUTHINFO_UNAVAIL;
			goto out;
		}
		r = accord_pop_collector_add(col, ans, &err);
		pa_wipe_free(ans);
		ans = NULL;
		if (r < 0)
			goto fail;
	}
	r = accord_pop_bundle_parse(col->der, col->len, &out->cert, &out->chain, &err);
	if (r < 0)
		goto fail;
	r = accord_pop_prompt(&ch, ACCORD_POP_WANT_SIGNATURE, 0, prompt, sizeof(prompt), &err);
	if (r < 0)
		goto fail;
	rc = pa_ask(run, PAM_PROMPT_ECHO_ON, prompt, &ans, why);
	if (rc != PAM_SUCCESS)
		goto out;
	r = accord_pop_check_signature(&ch, out->cert, ans, pa_now(run),
				       a->max_age ? a->max_age : PA_CERT_DEFAULT_MAX_AGE, &err);
	if (r < 0)
		goto fail;
	out->source = PA_CERT_CHALLENGE;
	snprintf(out->detail, sizeof(out->detail),
		 "challenge host=%.48s service=%.32s parts=%u intermediates=%d", ch.host, ch.service, col->nparts, out->chain ? sk_X509_num(out->chain) : 0);
	if (a->debug)
		pam_syslog(run->pamh, LOG_DEBUG, "cert: challenge: answered (%s)", out->detail);
	rc = PAM_SUCCESS;
	goto out;
fail:
	rc = pa_code_for(r, "bad_signature", why);
	pa_log_failure(run, "challenge", &err);
out:
	if (rc != PAM_SUCCESS)
		pa_cert_result_clear(out);
	pa_wipe_free(ans);
	free(col);
	return rc;
}

/* ---- the entry points -------------------------------------------------- */

int pa_cert_obtain(pam_handle_t *pamh, const struct pa_cert_args *args,
		   struct pa_cert_result *out, const char **why)
{
	struct pa_cert_run run = { .pamh = pamh, .args = args };
	int rc = PAM_AUTHINFO_UNAVAIL;

	memset(out, 0, sizeof(*out));
	*why = "no_certificate";
	run.now = args->now > 0 ? args->now : (int64_t)time(NULL);
	if (clock_gettime(CLOCK_MONOTONIC, &run.start) < 0)
		memset(&run.start, 0, sizeof(run.start));

	/* each source says PAM_AUTHINFO_UNAVAIL when it has nothing to offer;
	 * anything else ends the search */
	if (args->sources & PA_CERT_APPLICATION)
		rc = pa_from_application(&run, out, why);
	else if (args->debug && pam_getenv(pamh, "ACCORD_CERT"))
		pam_syslog(pamh, LOG_DEBUG,
			   "cert: ACCORD_CERT ignored: cert_source does not name application");
	if (rc == PAM_AUTHINFO_UNAVAIL && (args->sources & PA_CERT_PKCS11) && args->pkcs11_module)
		rc = pa_from_pkcs11(&run, out, why);
	if (rc == PAM_AUTHINFO_UNAVAIL && (args->sources & PA_CERT_CHALLENGE))
		rc = pa_from_challenge(&run, out, why);
	if (rc == PAM_SUCCESS)
		*why = "ok";
	else if (rc == PAM_AUTHINFO_UNAVAIL)
		*why = "no_certificate";
	return rc;
}

void pa_cert_result_clear(struct pa_cert_result *r)
{
	if (!r)
		return;
	X509_free(r->cert);
	sk_X509_pop_free(r->chain, X509_free);
	memset(r, 0, sizeof(*r));
}
