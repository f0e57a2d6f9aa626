/* SPDX-License-Identifier: MIT */
/*
 * mksnap: write the NSS test fixture (tests/nss/fixture.h) as a snapshot.
 *
 *   mksnap OUT [--users N] [--big-group M] [--user NAME] [--gen G]
 *              [--appls N]
 *
 * OUT is replaced through a temporary file and rename(), mode 0644.
 * Prints one line per user, "user NAME UID GID", and per group,
 * "group NAME GID", so that scripts can build the lines they expect.
 * --appls N (N >= 1) adds the optional sections: application "sshd"
 * (UACC none; group dev read, user bob none) and N-1 more named
 * a0000001.., the swap rule ops->root (permit) and a revoke date for
 * alice; it prints "appl NAME" per application.  Readers that only look
 * up users and groups must not see any difference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nss/fixture.h"

static int usage(void)
{
	fprintf(stderr, "usage: mksnap OUT [--users N] [--big-group M] "
			"[--user NAME] [--gen G] [--appls N]\n");
	return 2;
}

static int parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The optional sections: applications, a swap rule, a user date. */
static int add_appls(struct accord_state *st, unsigned long n,
		     struct accord_err *err)
{
	struct accord_user_spec d = { .name = "alice", .has_revoke_date = true,
				      .revoke_date = FIXTURE_TIME + 86400 };
	char name[32];
	unsigned long i;
	int r;

	r = accord_appl_add(st, "sshd", ACCORD_ACCESS_NONE, err);
	if (r == 0)
		r = accord_appl_permit(st, "sshd", ACCORD_ACE_GROUP, "dev",
				       ACCORD_ACCESS_READ, err);
	if (r == 0)
		r = accord_appl_permit(st, "sshd", ACCORD_ACE_USER, "bob",
				       ACCORD_ACCESS_NONE, err);
	for (i = 1; r == 0 && i < n; i++) {
		snprintf(name, sizeof(name), "a%07lu", i);
		r = accord_appl_add(st, name, ACCORD_ACCESS_READ, err);
	}
	if (r == 0)
		r = accord_swap_set(st, ACCORD_SWAP_PERMIT, "ops", "root", err);
	if (r == 0)
		r = accord_user_mod(st, &d, err);
	return r < 0 ? r : 0;
}

static void print_state(const struct accord_state *st)
{
	size_t i;

	for (i = 0; i < accord_state_user_slots(st); i++) {
		const struct accord_user *u = accord_state_user_at(st, i);

		if (u->live)
			printf("user %s %u %u\n", u->name, u->uid, u->gid);
	}
	for (i = 0; i < accord_state_group_slots(st); i++) {
		const struct accord_group *g = accord_state_group_at(st, i);

		if (g->live)
			printf("group %s %u\n", g->name, g->gid);
	}
	for (i = 0; i < accord_state_appl_slots(st); i++) {
		const struct accord_appl *a = accord_state_appl_at(st, i);

		if (a->live)
			printf("appl %s\n", a->name);
	}
}

int main(int argc, char **argv)
{
	static const unsigned char uuid[16];
	struct fixture_opts o = { .generation = 1 };
	struct accord_err err = { 0 };
	struct accord_state *st = NULL;
	unsigned char *buf = NULL;
	unsigned long v, appls = 0;
	size_t len = 0;
	int i, r, ret = 1;

	if (argc < 2 || argv[1][0] == '-')
		return usage();
	/* options come in pairs: --name value */
	for (i = 2; i < argc; i += 2) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return usage();
		if (strcmp(opt, "--user") == 0) {
			o.extra_user = val;
		} else if (parse_count(val, 1000000, &v) < 0) {
			return usage();
		} else if (strcmp(opt, "--users") == 0) {
			o.users = (unsigned)v;
		} else if (strcmp(opt, "--big-group") == 0) {
			o.big_group = (unsigned)v;
		} else if (strcmp(opt, "--gen") == 0 && v > 0) {
			o.generation = v;
		} else if (strcmp(opt, "--appls") == 0 && v > 0) {
			appls = v;
		} else {
			return usage();
		}
	}
	st = fixture_state(&o, &err);
	if (!st || (appls && add_appls(st, appls, &err) < 0)) {
		fprintf(stderr, "mksnap: %s\n", err.msg);
		goto out;
	}
	r = accord_snapshot_build(st, o.generation, uuid, FIXTURE_TIME, &buf,
				  &len, &err);
	if (r < 0) {
		fprintf(stderr, "mksnap: %s\n", err.msg);
		goto out;
	}
	r = fixture_publish(argv[1], buf, len, 0644);
	if (r < 0) {
		fprintf(stderr, "mksnap: cannot write %s: %s\n", argv[1],
			strerror(-r));
		goto out;
	}
	print_state(st);
	ret = fflush(stdout) == 0 ? 0 : 1;
out:
	free(buf);
	accord_state_free(st);
	return ret;
}
