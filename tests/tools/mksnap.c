/* SPDX-License-Identifier: MIT */
/*
 * mksnap: write the NSS test fixture (tests/nss/fixture.h) as a snapshot.
 *
 *   mksnap OUT [--users N] [--big-group M] [--user NAME] [--gen G]
 *
 * OUT is replaced through a temporary file and rename(), mode 0644.
 * Prints one line per user, "user NAME UID GID", and per group,
 * "group NAME GID", so that scripts can build the lines they expect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nss/fixture.h"

static int usage(void)
{
	fprintf(stderr, "usage: mksnap OUT [--users N] [--big-group M] "
			"[--user NAME] [--gen G]\n");
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
}

int main(int argc, char **argv)
{
	static const unsigned char uuid[16];
	struct fixture_opts o = { .generation = 1 };
	struct accord_err err = { 0 };
	struct accord_state *st = NULL;
	unsigned char *buf = NULL;
	unsigned long v;
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
		} else {
			return usage();
		}
	}
	st = fixture_state(&o, &err);
	if (!st) {
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
