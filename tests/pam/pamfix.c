/* SPDX-License-Identifier: MIT */
/*
 * pamfix: builds the registry of the sshd test (sshd_test.sh) through
 * libaccord, one command per run.  A test tool: the password is an
 * argument here, which accordctl never allows.
 *
 *   pamfix DIR init [CONF-LINE...]
 *   pamfix DIR group NAME
 *   pamfix DIR user NAME [GROUP,GROUP... [HOME]]
 *   pamfix DIR passwd NAME PASSWORD
 *   pamfix DIR disable NAME
 *   pamfix DIR appl NAME none|read
 *   pamfix DIR permit APPL group|user NAME
 *   pamfix DIR uid NAME                 (prints the UID)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static int usage(void)
{
	fputs("usage: pamfix DIR init|group|user|passwd|disable|appl|permit|uid ARGS...\n",
	      stderr);
	return 2;
}

static int change(struct pf *f, int argc, char **argv, struct accord_err *err)
{
	struct accord_txn *tx = NULL;
	struct accord_state *st;
	const char *cmd = argv[2];
	int rc;

	rc = pf_begin(f, &tx, err);
	if (rc < 0)
		return rc;
	st = accord_txn_state(tx);
	if (!strcmp(cmd, "group") && argc == 4) {
		rc = accord_group_add(st, argv[3], false, 0, false, err);
	} else if (!strcmp(cmd, "user") && argc >= 4 && argc <= 6) {
		struct accord_user_spec s = { .name = argv[3] };

		if (argc >= 5)
			s.groups = argv[4];
		if (argc >= 6)
			s.home = argv[5];
		rc = accord_user_add(st, &s, NULL, err);
	} else if (!strcmp(cmd, "disable") && argc == 4) {
		rc = accord_user_status_op(st, argv[3], ACCORD_OP_DISABLE, NULL, err);
	} else if (!strcmp(cmd, "appl") && argc == 5) {
		rc = accord_appl_add(st, argv[3],
				     !strcmp(argv[4], "read") ? ACCORD_ACCESS_READ
							      : ACCORD_ACCESS_NONE,
				     err);
	} else if (!strcmp(cmd, "permit") && argc == 6) {
		rc = accord_appl_permit(st, argv[3],
					!strcmp(argv[4], "user") ? ACCORD_ACE_USER
								 : ACCORD_ACE_GROUP,
					argv[5], ACCORD_ACCESS_READ, err);
	} else {
		accord_txn_abort(tx);
		return accord_err_set(err, -EINVAL, "bad command or arguments");
	}
	if (rc < 0) {
		accord_txn_abort(tx);
		return rc;
	}
	return pf_commit(f, tx, cmd, err);
}

int main(int argc, char **argv)
{
	struct accord_err err = { 0 };
	struct accord_profile_ref ref;
	struct pf f;
	int rc, i;

	if (argc < 3)
		return usage();
	if (!strcmp(argv[2], "init")) {
		char extra[4096] = "";
		size_t n = 0;

		for (i = 3; i < argc; i++)
			n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%s\n", argv[i]);
		if (n >= sizeof(extra))
			return usage();
		rc = pf_create(&f, argv[1], extra, &err);
	} else {
		rc = pf_open(&f, argv[1], &err);
		if (rc == 0 && !strcmp(argv[2], "passwd") && argc == 5)
			rc = pf_passwd(&f, argv[3], argv[4], &err);
		else if (rc == 0 && !strcmp(argv[2], "uid") && argc == 4) {
			rc = pf_ref(&f, argv[3], &ref, &err);
			if (rc == 0)
				printf("%u\n", (unsigned)ref.uid);
		} else if (rc == 0)
			rc = change(&f, argc, argv, &err);
	}
	pf_close(&f);
	if (rc < 0) {
		fprintf(stderr, "pamfix %s: %s\n", argv[2], err.msg[0] ? err.msg : strerror(-rc));
		return 1;
	}
	return 0;
}
