/* SPDX-License-Identifier: MIT */
/*
 * A PAM module for the sshd test only (never installed): its auth step
 * is pa_cert_obtain() and nothing else, so the challenge protocol can be
 * run through a real sshd's keyboard-interactive and a real ssh with
 * accord-sign as SSH_ASKPASS.  It verifies no chain and maps nothing:
 * any certificate whose key answers is accepted, which is why the test
 * logs in only as an account without a shell.
 *
 *   auth required pam_certpop_test.so result=FILE host=NAME [max_age=N]
 *
 * Each call appends "rc=<n> why=<reason> subject=<DN> detail=<detail>"
 * to FILE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAM_SM_AUTH
#include <security/pam_modules.h>

#include "pam_cert.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pa_cert_args a = { .sources = PA_CERT_CHALLENGE, .max_age = 60, .debug = true };
	struct pa_cert_result r;
	const char *why = "", *result = NULL;
	char subject[256] = "";
	FILE *f;
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "result=", 7))
			result = argv[i] + 7;
		else if (!strncmp(argv[i], "host=", 5))
			a.host = argv[i] + 5;
		else if (!strncmp(argv[i], "max_age=", 8))
			a.max_age = (unsigned)strtoul(argv[i] + 8, NULL, 10);
	}
	if (!result || !a.host)
		return PAM_SERVICE_ERR;
	rc = pa_cert_obtain(pamh, &a, &r, &why);
	if (rc == PAM_SUCCESS)
		X509_NAME_oneline(X509_get_subject_name(r.cert), subject, sizeof(subject));
	f = fopen(result, "ae");
	if (f) {
		fprintf(f, "rc=%d why=%s subject=%s detail=%s\n", rc, why, subject,
			rc == PAM_SUCCESS ? r.detail : "");
		fclose(f);
	}
	pa_cert_result_clear(&r);
	return rc;
}

EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}
